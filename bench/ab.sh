#!/bin/sh
# SPDX-License-Identifier: MIT
#
# ab.sh - two builds of bench_train side by side: PAIRS runs of each,
# alternating (A, B, A, B, ...), each a --lib-only run of the given nets;
# prints every run's libnn samples/s and, per net and batch, the medians
# and the best runs of each, and B's over A's.
#
#   bench/ab.sh A/bench/bench_train B/bench/bench_train PAIRS [bench_train options]
#
# e.g. the build of an older commit (a `git worktree` built the same way)
# against this one:
#   bench/ab.sh /tmp/old/build-bench/bench/bench_train \
#       build-bench/bench/bench_train 9 --only 2-2-1 --batch 1 --threads 1
#
# With AB_CPU set (a CPU list as taskset takes it, e.g. 1), every run is
# pinned there. On a shared machine one CPU can be the slower one for a
# while (the same binary's 2-2-1 steps at batch 1, pinned, a few seconds
# apart: 7.4 M samples/s on one of two vCPUs, 10.7 M on the other), and a
# run that the scheduler puts there reads as a difference of builds.
# Pinned runs still have an occasional slow one: read the medians.
set -eu
if [ $# -lt 3 ]; then
    echo "usage: $0 BENCH_A BENCH_B PAIRS [bench_train options]" >&2
    exit 2
fi
a=$1 b=$2 pairs=$3
shift 3
# shellcheck source=bench/ab_common.sh
. "$(dirname "$0")/ab_common.sh"
ab_executables "$a" "$b"
ab_count "$pairs" PAIRS
out=$(mktemp)
trap 'rm -f "$out"' EXIT
i=0
while [ "$i" -lt "$pairs" ]; do
    for side in A B; do
        if [ $side = A ]; then bin=$a; else bin=$b; fi
        # the table's rows: net, batch, threads, '|', libnn samples/s, ...
        $pin "$bin" --lib-only "$@" |
            awk -v side=$side '$4 == "|" && $1 ~ /^[0-9]+(-[0-9]+)+$/ {
                print side, $1 "/b" $2 "/t" $3, $5 }' >>"$out"
    done
    i=$((i + 1))
done
awk "$ab_awk_median"'
{ v[$2, $1, ++n[$2, $1]] = $3; nets[$2] = 1 }
function best(key, side,    i, x) {
    x = 0
    for (i = 1; i <= n[key, side]; i++) if (v[key, side, i] > x) x = v[key, side, i]
    return x
}
END {
    for (key in nets) {
        printf "%s\n  A:", key
        for (i = 1; i <= n[key, "A"]; i++) printf " %.4g", v[key, "A", i]
        printf "\n  B:"
        for (i = 1; i <= n[key, "B"]; i++) printf " %.4g", v[key, "B", i]
        ma = median(v, key, "A"); mb = median(v, key, "B")
        printf "\n  median samples/s A %.4g, B %.4g, B/A %.3f\n", ma, mb,
            mb / ma
        # the best run of each: neighbours on a shared machine only slow
        # a run down
        xa = best(key, "A"); xb = best(key, "B")
        printf "  best samples/s A %.4g, B %.4g, B/A %.3f\n", xa, xb,
            xb / xa
    }
}' "$out"
