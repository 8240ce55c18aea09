#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nn.h compiles on its own, as the only include, with -pedantic-errors
# -Werror, in one language standard with one compiler.
#
#   check-header.sh COMPILER LANG STD INCLUDE_DIR [HEADER [FLAGS...]]
#   e.g. check-header.sh clang++ c++ c++98 include
# HEADER defaults to nn.h; FLAGS are more compiler flags (libnn_mpi's
# nn_mpi.h needs mpi.h's directories, given as -isystem: MPI's own header
# is not held to -pedantic-errors).
set -euo pipefail
compiler=$1 lang=$2 std=$3 incdir=$4 header=${5:-nn.h}
shift 4
[ $# -gt 0 ] && shift

if ! command -v "$compiler" > /dev/null; then
    echo "FAIL: $compiler not found (bash .ci/test-all installs gcc, g++ and clang)"
    exit 1
fi
flags=(-x "$lang" "-std=$std" -pedantic-errors -Wall -Wextra -Werror)
# Old-style declarations would break C callers that pass arguments.
[ "$lang" = c ] && flags+=(-Wstrict-prototypes)

if printf '#include "%s"\n' "$header" |
        "$compiler" "${flags[@]}" -I "$incdir" "$@" -fsyntax-only -; then
    echo "ok: $compiler ${flags[*]} compiles $header alone"
else
    echo "FAIL: $header does not compile alone with $compiler ${flags[*]}"
    exit 1
fi
