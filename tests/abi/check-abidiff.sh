#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ABI of the built libnn against the committed baseline libnn.abi, with
# Debian's abigail-tools.
#
#   check-abidiff.sh LIB INCLUDE_DIR BASELINE SOURCE_DIR           check
#   check-abidiff.sh --update LIB INCLUDE_DIR BASELINE SOURCE_DIR  rewrite BASELINE
#
# Any non-zero exit of `abidiff --no-added-syms` fails: abigail 2.2 reports a
# renumbered enum value or a changed parameter type only as exit 4 ("ABI
# changed"), not 8 ("incompatible"), and both break callers. Added functions
# (new API) do not count; added enum values are harmless and do not either.
#
# abigail reads the types from DWARF: a library without debug info would
# compare as "no change" whatever changed, so that is a failure too.
#
# Only nn.h's types are compared (--headers-dir, --drop-private-types): the
# structs behind the opaque handles are private and may change freely.
#
# --drop-undefined-syms is not optional: without it the baseline also holds
# the declarations that one source file sees of another's functions (io.c
# calling nn_model_add_dense, say), and abigail 2.2, reading such an XML,
# misses renumbered values of the enums those declarations use (seen with
# nn_activation, nn_loss, nn_optimizer and nn_schedule).
set -euo pipefail

update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
lib=$1 incdir=$2 baseline=$3 srcdir=$4
regen="cmake --build $(dirname "$lib") --target ${NN_ABI_UPDATE_TARGET:-update-abi}   (or: bash tests/abi/check-abidiff.sh --update $lib $incdir $baseline $srcdir)"

for tool in abidw abidiff readelf; do
    if ! command -v "$tool" > /dev/null; then
        echo "FAIL: $tool not found (install abigail-tools and binutils; bash .ci/test-all does)"
        exit 1
    fi
done
if ! readelf -S --wide "$lib" | grep -q '\.debug_info'; then
    echo "FAIL: $lib has no debug info, so abidiff would see no types and pass blindly."
    echo "Build with -g: CMAKE_BUILD_TYPE=RelWithDebInfo (as .ci/test-all does) or Debug."
    exit 1
fi

if [ "$update" -eq 1 ]; then
    # Stable across machines and checkouts: no locations, no corpus or
    # compilation directory, hash type ids, and source paths made relative.
    tmp=$(mktemp)
    trap 'rm -f "$tmp"' EXIT
    abidw --headers-dir "$incdir" --drop-private-types --drop-undefined-syms \
          --no-show-locs --no-corpus-path --no-comp-dir-path \
          --type-id-style hash "$lib" > "$tmp"
    sed "s|path='$(cd "$srcdir" && pwd -P)/|path='|; s|path='$srcdir/|path='|" \
        "$tmp" > "$baseline"
    if grep -q "path='/" "$baseline"; then
        echo "FAIL: absolute paths left in $baseline"
        exit 1
    fi
    echo "wrote $baseline"
    exit 0
fi

rc=0
abidiff --no-added-syms --headers-dir2 "$incdir" --drop-private-types \
        "$baseline" "$lib" || rc=$?
if [ "$rc" -ne 0 ]; then
    echo
    echo "FAIL: abidiff exit $rc: $(basename "$lib")'s ABI differs from $baseline"
    echo "(exit bits: 1 error, 2 usage, 4 ABI change, 8 incompatible change)."
    echo "A changed enum value, parameter or return type breaks every compiled"
    echo "caller and every FFI binding: add a new function or enum value instead"
    echo "(see nn.h, Conventions). If the change is deliberate (a new ABI major, or"
    echo "a baseline refresh that keeps every old function as it was), regenerate"
    echo "the baseline and commit it:"
    echo "  $regen"
    exit 1
fi
echo "ok: abidiff --no-added-syms finds no ABI change against $(basename "$baseline")"
