#!/bin/sh
# SPDX-License-Identifier: MIT
#
# steps_ab.sh - two builds' training steps of one net and batch, at one
# BLAS thread and at two: ROUNDS rounds, each running BUILD_A's and then
# BUILD_B's bench_threads (11 pairs of blocks of STEPS steps), and prints
# the medians over the rounds of each build's one- and two-thread step
# times, B's over A's at each count, and B's two threads over its one.
#
#   bench/steps_ab.sh A/bench/bench_threads B/bench/bench_threads NET \
#       BATCH STEPS ROUNDS
#
# e.g. a build of an older commit (a git worktree built the same way)
# against this one, 784-1024-1024-10 at batch 2, 5 steps a block, 5 rounds:
#   bench/steps_ab.sh /tmp/old/build-bench/bench/bench_threads \
#       build-bench/bench/bench_threads 784-1024-1024-10 2 5 5
#
# With AB_CPU set (a CPU list as taskset takes it), every run is pinned
# there: on a 2-vCPU AMD EPYC Zen 5 the same build's 784-256-128-10 step
# at batch 1 took 30 or 45 us from one unpinned run to the next. Pinned
# to one CPU, only the one-thread figures mean anything (the second
# thread shares that CPU).
set -eu
if [ $# -ne 6 ]; then
    echo "usage: $0 BENCH_THREADS_A BENCH_THREADS_B NET BATCH STEPS ROUNDS" >&2
    exit 2
fi
a=$1 b=$2 net=$3 n=$4 steps=$5 rounds=$6
# shellcheck source=bench/ab_common.sh
. "$(dirname "$0")/ab_common.sh"
ab_executables "$a" "$b"
ab_count "$rounds" ROUNDS
work=$(mktemp)
trap 'rm -f "$work"' EXIT
# one run of a build: its side, its one- and two-thread medians
one_run() {
    $pin "$2" "$net" "$n" "$steps" 11 | ab_threads_fields |
        awk -v side="$1" '{ print side, $1, $2 }'
}
ab_alternate one_run "$rounds" "$a" "$b" "$work" >/dev/null
awk -v net="$net" -v n="$n" -f "$(dirname "$0")/median.awk" -f /dev/stdin \
    "$work" <<'AWK'
{
    if ($1 == "A") { a1[++na] = $2; a2[na] = $3 }
    else { b1[++nb] = $2; b2[nb] = $3 }
}
END {
    if (!na || na != nb) { print "steps_ab.sh: a run failed" > "/dev/stderr"; exit 1 }
    ma1 = median(a1, na); ma2 = median(a2, na)
    mb1 = median(b1, nb); mb2 = median(b2, nb)
    printf "%s batch %s, medians of %d rounds, us per step: 1 thread A %.5g B %.5g (B/A %.3f); 2 threads A %.5g B %.5g (B/A %.3f); B's 2 threads / 1 %.3f\n",
           net, n, na, ma1, mb1, mb1 / ma1, ma2, mb2, mb2 / ma2, mb2 / mb1
}
AWK
