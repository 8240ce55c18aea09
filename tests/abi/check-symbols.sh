#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The exported dynamic symbols of libnn are exactly the functions nn.h
# declares with NN_API, and exactly the committed list symbols.txt.
#
#   check-symbols.sh LIB NN_H SYMBOLS_TXT [CC]          check
#   check-symbols.sh --update LIB NN_H SYMBOLS_TXT [CC] rewrite SYMBOLS_TXT
#
# The list changes only on purpose: adding API means regenerating it (and
# reviewing the diff); a symbol vanishing breaks every program linked to it.
#
# The same checks serve libnn_mpi (tests/mpi/abi): NN_ABI_MACRO (default
# NN_API) is the header's export macro, NN_ABI_PREFIX (default nn_) the
# public prefix (internals are the prefix with one more '_'), and
# NN_ABI_CFLAGS extra preprocessor flags (the MPI include directories).
set -euo pipefail
macro=${NN_ABI_MACRO:-NN_API}
prefix=${NN_ABI_PREFIX:-nn_}
read -r -a extra <<< "${NN_ABI_CFLAGS:-}"

update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
lib=$1 header=$2 list=$3 cc=${4:-cc}
regen="cmake --build $(dirname "$lib") --target ${NN_ABI_UPDATE_TARGET:-update-abi}   (or: bash tests/abi/check-symbols.sh --update $lib $header $list)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every defined dynamic symbol, with its nm type letter.
nm -D --defined-only --format=posix "$lib" | awk '{ print $1, $2 }' |
    sort > "$tmp/all"
awk '{ print $1 }' "$tmp/all" > "$tmp/exported"

status=0

# No variables or other data: the ABI is functions only (see nn.h, FFI).
if awk '$2 !~ /^[TtWi]$/ { bad = 1; print "  " $0 } END { exit !bad }' \
        "$tmp/all" > "$tmp/nonfunc"; then
    echo "FAIL: $lib exports symbols that are not functions:"
    cat "$tmp/nonfunc"
    status=1
fi

# Only the public prefix, never an internal one (nn__, nn_mpi__).
if grep -v "^$prefix" "$tmp/exported" > "$tmp/badname" ||
   grep "^${prefix}_" "$tmp/exported" >> "$tmp/badname"; then
    if [ -s "$tmp/badname" ]; then
        echo "FAIL: $lib exports symbols outside the $prefix API:"
        sed 's/^/  /' "$tmp/badname"
        status=1
    fi
fi

# What the header declares with its macro: preprocess with it as a marker.
printf '#include "%s"\n' "$(basename "$header")" |
    "$cc" -E -P "-D$macro=NN_API_MARKER" -I "$(dirname "$header")" \
        "${extra[@]}" -x c - |
    tr '\n' ' ' | grep -o 'NN_API_MARKER[^;]*' |
    perl -ne 'print "$1\n" if /^NN_API_MARKER.*?\b(nn_\w+)\s*\(/' |
    sort -u > "$tmp/declared"
if ! diff -u --label "declared with NN_API in nn.h" \
        --label "exported by $(basename "$lib")" \
        "$tmp/declared" "$tmp/exported" > "$tmp/decl.diff"; then
    echo "FAIL: the exported symbols differ from the $macro declarations in $(basename "$header"):"
    cat "$tmp/decl.diff"
    status=1
fi

if [ "$update" -eq 1 ]; then
    {
        echo "# The functions $(basename "$lib" | sed 's/\.so.*//') exports: checked by tests/abi/check-symbols.sh."
        echo "# Regenerate on purpose after adding API: cmake --build <build> --target ${NN_ABI_UPDATE_TARGET:-update-abi}"
        cat "$tmp/exported"
    } > "$list"
    echo "wrote $list ($(wc -l < "$tmp/exported") symbols)"
    exit "$status"
fi

grep -v '^#' "$list" | sed '/^$/d' > "$tmp/committed"
if ! diff -u --label "committed $(basename "$list")" \
        --label "exported by $(basename "$lib")" \
        "$tmp/committed" "$tmp/exported" > "$tmp/list.diff"; then
    echo "FAIL: the exported symbols differ from $list"
    echo "('-' lines vanished from the library: that breaks programs linked to it;"
    echo " '+' lines are new API):"
    cat "$tmp/list.diff"
    echo "If the change is deliberate, regenerate the list and commit it:"
    echo "  $regen"
    status=1
fi

[ "$status" -eq 0 ] && echo "ok: $(wc -l < "$tmp/exported") exported functions, all $prefix, all declared in $(basename "$header"), as in $(basename "$list")"
exit "$status"
