#!/bin/sh
# SPDX-License-Identifier: MIT
#
# layer_share.sh - what one layer kind costs in two builds, as the share
# of `perf record` samples its functions take in a training run
# (bench_layers --profile-steps: 784-256-X-128-X-10, plain SGD, one
# thread). The builds alternate ROUNDS times (A, B, A, B, ...); prints
# every run's share and, per build, the median share and the median of
# share / (100 - share), the layer's time over the rest of the step,
# which the other layers' unchanged work makes comparable between builds.
# On a shared machine whose speed swings by tens of per cent from minute
# to minute, this compares two builds of a layer more steadily than
# bench_layers' difference of two step times.
#
#   bench/layer_share.sh A/bench/bench_layers B/bench/bench_layers ROUNDS \
#       dropout|batchnorm|layernorm|passes-dropout|passes-plain \
#       [BATCH [STEPS]]
#
# Where a build folds dropout into the relu dense layer before it
# (src/layers/layers.h), the layer's work runs in that layer's passes:
# passes-dropout takes the share of every element-wise pass of the
# dropout net (the dense layers' bias, activation and derivative passes
# and dropout's), passes-plain the same passes of the net without
# dropout; the difference of their times is what dropout adds.
#
# The normalizations also take passes of the relu dense layers before
# them (since 17bfbdc and 8d21d00): their backward functions form the
# relu's dL/dZ, and batch normalization's sums for the mean come from
# the relu's bias pass, relu_sums, which batchnorm's share counts (with
# the bias and relu work it does). Across those commits the shares hold
# different work; compare whole steps there (bench/layers_ab.sh).
#
# Needs perf (Debian: linux-perf). Runs are pinned with AB_CPU as in
# ab.sh (e.g. AB_CPU=1).
set -eu
if [ $# -lt 4 ]; then
    echo "usage: $0 BENCH_LAYERS_A BENCH_LAYERS_B ROUNDS KIND [BATCH [STEPS]]" >&2
    exit 2
fi
a=$1 b=$2 rounds=$3 kind=$4 batch=${5:-128} steps=${6:-2000}
passes='mask_row|unmask|dropout_|relu_row|relu_dropout|forward_rows'
passes="$passes|bias_forward_kernel|backward_sums_kernel"
net=$kind
case $kind in
dropout) pattern='mask_row|unmask|dropout_' ;;
batchnorm) pattern='bn_|column_sums_v4|dy_sums_v4|relu_sums' ;;
layernorm) pattern='ln_|norm_row|back_all_v4' ;;
passes-dropout) pattern=$passes net=dropout ;;
passes-plain) pattern=$passes net=plain ;;
*)
    echo "$0: KIND is dropout, batchnorm, layernorm, passes-dropout or" \
        "passes-plain" >&2
    exit 2
    ;;
esac
# shellcheck source=bench/ab_common.sh
. "$(dirname "$0")/ab_common.sh"
ab_executables "$a" "$b"
ab_count "$rounds" ROUNDS
if ! command -v perf > /dev/null; then
    echo "$0: perf not found (apt-get install linux-perf)" >&2
    exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# share NAME BIN: one profiled run; prints "NAME share-in-per-cent"
share() {
    # $pin is empty or "taskset -c CPUS": split on purpose
    # shellcheck disable=SC2086
    $pin perf record -q -o "$tmp/perf.data" "$2" --profile-steps "$steps" \
        --only "$net" --batch "$batch" > /dev/null 2>&1
    perf report -i "$tmp/perf.data" --no-children --sort sym 2> /dev/null |
        awk -v name="$1" -v pat="$pattern" '
            /^#/ || NF < 3 { next }
            $3 ~ pat { s += $1 }
            END { printf "%s %.3f\n", name, s }'
}

ab_alternate share "$rounds" "$a" "$b" "$tmp/shares"
awk -f "$(dirname "$0")/median.awk" -f /dev/stdin "$tmp/shares" <<'EOF'
{ n[$1]++; s[$1, n[$1]] = $2; r[$1, n[$1]] = $2 / (100 - $2) }
END {
    for (k = 1; k <= 2; k++) {
        name = k == 1 ? "A" : "B"
        for (i = 1; i <= n[name]; i++) {
            sa[i] = s[name, i]
            ra[i] = r[name, i]
        }
        m[name] = median(ra, n[name])
        printf "%s: median share %.2f%%, over the rest %.4f\n", name, \
            median(sa, n[name]), m[name]
    }
    printf "B/A (over the rest): %.3f\n", m["B"] / m["A"]
}
EOF
