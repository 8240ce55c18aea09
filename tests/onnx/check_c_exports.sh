#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_c_exports.sh DIR SRC_DIR CC...: compiles every header that
# export_cases wrote into DIR (listed in DIR/cases.txt) with each compiler
# at -std=c99 -Wall -Wextra -Wpedantic -Werror, with c_driver.c and
# c_driver_other.c from SRC_DIR, and runs it on the case's rows against
# nn_model_predict's outputs (1e-6 relative). Fails on any error, and when
# a case or a compiler is missing.
set -euo pipefail
dir=$1 src=$2
shift 2
[ "$#" -gt 0 ] || { echo "no compiler given"; exit 1; }
[ -s "$dir/cases.txt" ] || { echo "no cases in $dir/cases.txt"; exit 1; }
status=0 runs=0
while read -r name; do
    rows=$(sed -n 's/.*"rows": \([0-9]*\).*/\1/p' "$dir/$name.json")
    for cc in "$@"; do
        command -v "$cc" > /dev/null || { echo "FAIL: no $cc"; exit 1; }
        exe="$dir/$name.$(basename "$cc")"
        if ! "$cc" -std=c99 -Wall -Wextra -Wpedantic -Werror \
                -DNET_HEADER="\"$dir/$name.h\"" -o "$exe" \
                "$src/c_driver.c" "$src/c_driver_other.c" -lm; then
            echo "FAIL: $cc does not compile $name.h cleanly"
            status=1
            continue
        fi
        printf '%-20s %-8s ' "$name" "$(basename "$cc")"
        if ! "$exe" "$rows" "$dir/$name.in" "$dir/$name.out"; then
            echo "FAIL: $name.h compiled by $cc differs from nn_model_predict"
            status=1
        fi
        runs=$((runs + 1))
    done
done < "$dir/cases.txt"
echo "check_c_exports: $runs runs"
[ "$runs" -gt 0 ] || status=1
exit "$status"
