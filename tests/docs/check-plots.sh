#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The picture scripts still draw from the CSV files the programs write:
# bench/plot.sh from the bench_train and bench_torch.py files of the run
# the README shows, bench/plot-history.sh from fashion_mnist's history of
# that run. Each must write a PNG of the expected size, and refuse a file
# that is not its input.
#
#   check-plots.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1 work=$2
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
run=$src/bench/results/run-70c8377

png_size() { # width x height of a PNG, from its IHDR chunk
    od -An -tu1 -j16 -N8 "$1" | awk '{ printf "%dx%d\n", $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8 }'
}

bash "$src/bench/plot.sh" -o "$work" "$run/train.csv" "$run/torch.csv"
for f in throughput compare; do
    [ -s "$work/$f.png" ] || fail "plot.sh wrote no $f.png"
    echo "ok: $f.png, $(png_size "$work/$f.png")"
done
bash "$src/bench/plot-history.sh" "$run/fashion-history.csv" "$work/history.png"
[ -s "$work/history.png" ] || fail "plot-history.sh wrote no history.png"
[ "$(png_size "$work/history.png")" = 1200x500 ] ||
    fail "history.png is $(png_size "$work/history.png"), not 1200x500"
echo "ok: history.png, $(png_size "$work/history.png")"

# A file of the wrong kind is refused, not drawn as an empty picture.
if bash "$src/bench/plot-history.sh" "$run/train.csv" "$work/bad.png" 2> "$work/err"; then
    fail "plot-history.sh drew bench_train's CSV"
fi
if bash "$src/bench/plot.sh" -o "$work/bad" "$run/fashion-history.csv" 2>> "$work/err"; then
    fail "plot.sh drew a history file"
fi
echo "ok: each refuses the other's file: $(tr '\n' ' ' < "$work/err")"
