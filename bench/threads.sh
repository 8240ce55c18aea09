#!/bin/sh
# SPDX-License-Identifier: MIT
#
# threads.sh - issue 21's target 4: does any benchmark net, at any batch
# size, train slower with two BLAS threads than with one? ROUNDS runs of
# bench_train --lib-only, the order of the two counts alternating from one
# round to the next (1,2 then 2,1, ...), so that a drift of the machine
# does not favour either; prints every round's samples/s and, per net and
# batch, the medians at one and two threads, the median of the rounds'
# ratios (two threads over one) with its range, and how many rounds two
# threads lost.
#
#   bench/threads.sh BUILD/bench/bench_train ROUNDS [bench_train options]
#
# e.g. bench/threads.sh build-bench/bench/bench_train 9 --quick
# Two threads are what a machine of two cores runs by default (OpenBLAS
# takes one thread per core unless told otherwise).
set -eu
if [ $# -lt 2 ]; then
    echo "usage: $0 BENCH_TRAIN ROUNDS [bench_train options]" >&2
    exit 2
fi
bin=$1 rounds=$2
shift 2
if [ ! -x "$bin" ]; then
    echo "$0: $bin is not an executable" >&2
    exit 2
fi
case $rounds in
'' | *[!0-9]* | 0) echo "$0: ROUNDS is a count of 1 or more" >&2; exit 2 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
r=1
while [ "$r" -le "$rounds" ]; do
    if [ $((r % 2)) -eq 1 ]; then order=1,2; else order=2,1; fi
    "$bin" --lib-only --threads "$order" --csv "$work/$r.csv" "$@" \
        >"$work/$r.txt" 2>&1 || {
        echo "$0: round $r failed:" >&2
        cat "$work/$r.txt" >&2
        exit 1
    }
    # net,batch,threads,impl,...,samples_per_s (9th field)
    awk -F, -v r="$r" '$4 == "libnn" { print r, $1, $2, $3, $9 }' \
        "$work/$r.csv" >>"$work/all"
    r=$((r + 1))
done
head -n 8 "$work/1.csv" | grep '^#' || true
echo "# rounds: $rounds, bench_train --lib-only --threads 1,2 / 2,1 $*"
awk -f "$(dirname "$0")/median.awk" -f /dev/stdin "$work/all" <<'EOF'
{
    key = $2 " " $3
    if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
    s[key, $1, $4] = $5
    if ($1 > maxr) maxr = $1
}
END {
    printf "%-18s %6s | %12s %12s | %8s %17s | %s\n", "net", "batch",
           "1 thread", "2 threads", "2/1 med", "range", "rounds 2 lost"
    for (k = 1; k <= nk; k++) {
        key = order[k]; n = 0; lost = 0
        split("", one); split("", two); split("", rat)
        for (r = 1; r <= maxr; r++) {
            if (!((key, r, 1) in s) || !((key, r, 2) in s)) continue
            n++
            one[n] = s[key, r, 1]; two[n] = s[key, r, 2]
            rat[n] = two[n] / one[n]
            if (rat[n] < 1) lost++
        }
        if (!n) continue
        lo = hi = rat[1]
        for (i = 2; i <= n; i++) {
            if (rat[i] < lo) lo = rat[i]
            if (rat[i] > hi) hi = rat[i]
        }
        split(key, kb, " ")
        m1 = median(one, n); m2 = median(two, n); mr = median(rat, n)
        printf "%-18s %6s | %12.4g %12.4g | %8.3f %8.3f..%-7.3f | %d of %d\n",
               kb[1], kb[2], m1, m2, mr, lo, hi, lost, n
    }
}
EOF
