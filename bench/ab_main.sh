#!/bin/sh
# SPDX-License-Identifier: MIT
#
# ab_main.sh - two builds of the nn command on the main job of README.md's
# Quick start (Fashion-MNIST, 784-256-128-10, SGD momentum 0.9, cosine,
# batch 128, 10 epochs, one BLAS thread), PAIRS runs of each, alternating
# (A, B, A, B, ...); prints each run's wall time (reading, training and
# saving) and last epoch, then the medians and the median of B's time over
# A's, pair by pair.
#
#   bench/ab_main.sh BUILD_A BUILD_B PAIRS
#
# Each BUILD is a build directory (BUILD/cli/nn, its libnn beside it in
# BUILD); e.g. an older commit's build (a `git worktree` built the same
# way) against this one:
#   AB_CPU=1 bench/ab_main.sh /tmp/old/build-bench build-bench 8
#
# With AB_CPU set (a CPU list as taskset takes it), every run is pinned
# there, as in bench/ab.sh. Needs the dataset-fashion-mnist package.
set -eu
if [ $# -ne 3 ]; then
    echo "usage: $0 BUILD_A BUILD_B PAIRS" >&2
    exit 2
fi
a=$1 b=$2 pairs=$3
F=/usr/share/datasets/fashion-mnist
# shellcheck source=bench/ab_common.sh
. "$(dirname "$0")/ab_common.sh"
ab_executables "$a/cli/nn" "$b/cli/nn"
ab_count "$pairs" PAIRS
if [ ! -r "$F/train-images-idx3-ubyte.gz" ]; then
    echo "$0: $F has no training images (apt-get install dataset-fashion-mnist)" >&2
    exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run NAME BUILD: one training run; prints "NAME seconds last-epoch-line"
run() {
    t0=$(date +%s.%N)
    # $pin is empty or "taskset -c CPUS": split on purpose
    # shellcheck disable=SC2086
    LD_LIBRARY_PATH="$2" OPENBLAS_NUM_THREADS=1 $pin "$2/cli/nn" train \
        "$F/train-images-idx3-ubyte.gz" \
        --targets "$F/train-labels-idx1-ubyte.gz" \
        --layers 256:relu,128:relu,10:softmax --optimizer sgd \
        --momentum 0.9 --lr 0.05 --schedule cosine --batch-size 128 \
        --epochs 10 --val-split 5000 --seed 1 --force \
        -o "$tmp/$1.nn" > "$tmp/$1.log" 2>&1
    t1=$(date +%s.%N)
    printf '%s %.3f %s\n' "$1" "$(echo "$t1 - $t0" | bc)" \
        "$(grep '^epoch' "$tmp/$1.log" | tail -1)"
}

ab_alternate run "$pairs" "$a" "$b" "$tmp/times"
awk -f "$(dirname "$0")/median.awk" -f /dev/stdin "$tmp/times" <<'EOF'
$1 == "A" { na++; ta[na] = $2 }
$1 == "B" { nb++; tb[nb] = $2; r[nb] = $2 / ta[nb] }
END {
    printf "A median %.2f s, B median %.2f s; B/A pair by pair:", \
        median(ta, na), median(tb, nb)
    for (i = 1; i <= nb; i++)
        printf " %.3f", r[i]
    printf "; median %.3f\n", median(r, nb)
}
EOF
