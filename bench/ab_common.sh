# SPDX-License-Identifier: MIT
# shellcheck shell=sh
#
# ab_common.sh - what the A/B scripts (ab.sh, ab_main.sh, layer_share.sh,
# steps_ab.sh, threads_sweep.sh) share; they source it after `set -eu`.
#
# ab_executables FILE...: exits with status 2 unless every FILE is an
# executable.
ab_executables() {
    for f in "$@"; do
        if [ ! -x "$f" ]; then
            echo "$0: $f is not an executable" >&2
            exit 2
        fi
    done
}

# ab_count N WHAT: exits with status 2 unless N is a count of 1 or more.
ab_count() {
    case $1 in
    '' | *[!0-9]* | 0)
        echo "$0: $2 is a count of 1 or more" >&2
        exit 2
        ;;
    esac
}

# pin: empty, or with AB_CPU set (a CPU list as taskset takes it, e.g. 1)
# "taskset -c $AB_CPU", for the scripts to put before every run.
# shellcheck disable=SC2034 # the sourcing scripts use it
pin=
if [ -n "${AB_CPU:-}" ]; then
    if ! command -v taskset > /dev/null 2>&1; then
        echo "$0: AB_CPU is set but taskset (util-linux) is not installed" >&2
        exit 2
    fi
    if ! taskset -c "$AB_CPU" true; then
        echo "$0: cannot pin to CPU list '$AB_CPU'" >&2
        exit 2
    fi
    # shellcheck disable=SC2034
    pin="taskset -c $AB_CPU"
fi

# ab_alternate FN COUNT A B FILE: COUNT rounds of "FN A A" then "FN B B",
# alternating so that a slow spell of a shared machine hits both; each
# line they print is also appended to FILE (emptied first).
ab_alternate() {
    i=0
    : > "$5"
    while [ "$i" -lt "$2" ]; do
        "$1" A "$3" | tee -a "$5"
        "$1" B "$4" | tee -a "$5"
        i=$((i + 1))
    done
}

# ab_awk_median: an awk function for the scripts to put before their
# programs (awk "$ab_awk_median"'...'): median(arr, key, side), the median
# of arr[key, side, 1] to arr[key, side, n[key, side]], n the program's
# array of counts.
# shellcheck disable=SC2034 # the sourcing scripts use it
ab_awk_median='
function median(arr, key, side,    k, c, i, j, t, x) {
    c = n[key, side]
    for (i = 1; i <= c; i++) x[i] = arr[key, side, i]
    for (i = 2; i <= c; i++) {            # insertion sort: c is small
        t = x[i]
        for (j = i - 1; j >= 1 && x[j] > t; j--) x[j + 1] = x[j]
        x[j + 1] = t
    }
    k = int((c + 1) / 2)
    return c % 2 ? x[k] : (x[k] + x[k + 1]) / 2
}'

# ab_threads_fields: reads a bench_threads (or kernel_ab) line on
# standard input and prints its side A median, side B median (us), B/A
# median and the ratio's quartiles, separated by spaces; nothing where the
# line is not one.
ab_threads_fields() {
    sed -n 's/.*A ([^)]*) median \([0-9.e+]*\) us.*B ([^)]*) median \([0-9.e+]*\) us.*B\/A median \([0-9.]*\), quartiles \([0-9.]*\)-\([0-9.]*\).*/\1 \2 \3 \4 \5/p'
}
