#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# libnn's ELF properties: the SONAME carries the ABI major, the file name the
# full version, the stack is not executable, there are no text relocations,
# and every undefined symbol resolves in the libraries it names as NEEDED
# (what linking with --no-undefined promises).
#
#   check-elf.sh LIB ABI_MAJOR FULL_VERSION [NAME]
# NAME is the library's name without .so (default libnn; libnn_mpi too).
set -euo pipefail
lib=$1 major=$2 version=$3 name=${4:-libnn}
status=0
fail() { echo "FAIL: $*"; status=1; }

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "$name.so.$major" ] ||
    fail "SONAME is '$soname', expected $name.so.$major"
[ "$(basename "$lib")" = "$name.so.$version" ] ||
    fail "the library file is $(basename "$lib"), expected $name.so.$version"

stack=$(readelf -lW "$lib" | awk '$1 == "GNU_STACK" { print $7 }')
if [ -z "$stack" ]; then
    fail "no GNU_STACK program header: the loader would make the stack executable"
elif [[ "$stack" == *E* ]]; then
    fail "GNU_STACK is $stack: an executable stack (link with -z noexecstack)"
fi

if readelf -d "$lib" | grep -q TEXTREL; then
    fail "text relocations (an object was not built as position-independent code)"
fi

# --no-undefined is in the link line; this checks the result: every symbol
# the library needs is found in its own NEEDED libraries.
undef=$(ldd -r "$lib" 2>&1 | grep -i 'undefined symbol' || true)
[ -z "$undef" ] || fail "undefined symbols:
$undef"

[ "$status" -eq 0 ] &&
    echo "ok: SONAME $soname, file $name.so.$version, GNU_STACK $stack, no TEXTREL, no undefined symbols"
exit "$status"
