#!/bin/sh
# SPDX-License-Identifier: MIT
#
# layers_ab.sh - two builds of bench_layers side by side: PAIRS runs of
# each, alternating (A, B, A, B, ...), each a --quick run of one kind of
# layer (--only KIND); prints every run's rows and, per batch, the medians
# over each build's runs of what the layers add to a step (extra us) and
# of that in memcpy's, and B's extra over A's.
#
#   bench/layers_ab.sh A/bench/bench_layers B/bench/bench_layers PAIRS KIND
#
# e.g. the build of an older commit (a `git worktree` built the same way)
# against this one, batch normalization, five pairs, pinned to CPU 1:
#   AB_CPU=1 bench/layers_ab.sh /tmp/old/build-bench/bench/bench_layers \
#       build-bench/bench/bench_layers 5 batchnorm
#
# A run's extra is itself a median over its rounds (bench_layers); the
# runs of one build still differ by more than their intervals at batch
# 32, where two identical nets' steps differ by as much (the control row,
# which --only leaves out): read the medians over the runs.
set -eu
if [ $# -ne 4 ]; then
    echo "usage: $0 BENCH_LAYERS_A BENCH_LAYERS_B PAIRS KIND" >&2
    exit 2
fi
a=$1 b=$2 pairs=$3 kind=$4
# shellcheck source=bench/ab_common.sh
. "$(dirname "$0")/ab_common.sh"
ab_executables "$a" "$b"
ab_count "$pairs" PAIRS
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# one run: its rows of the kind as "SIDE batch extra_us memcpy_ratio"
run() {
    $pin "$2" --quick --only "$kind" |
        awk -v side="$1" -v kind="$kind" '
            index($0, kind) == 1 {   # a row; its name may hold spaces
                for (i = 1; i <= NF && $i != "|"; i++) ;
                if (i <= NF) print side, $(i - 1), $(i + 4), $(i + 10)
            }'
}
ab_alternate run "$pairs" "$a" "$b" "$out"
awk "$ab_awk_median"'
{ e[$2, $1, ++n[$2, $1]] = $3; r[$2, $1, n[$2, $1]] = $4; bs[$2] = 1 }
END {
    for (key in bs) {
        ea = median(e, key, "A"); eb = median(e, key, "B")
        printf "batch %s: median extra us A %.2f, B %.2f, B/A %.3f; " \
            "memcpy'"'"'s A %.2f, B %.2f (%d and %d runs)\n", key, ea, eb,
            ea != 0 ? eb / ea : 0, median(r, key, "A"),
            median(r, key, "B"), n[key, "A"], n[key, "B"]
    }
}' "$out" | sort -k2,2n
