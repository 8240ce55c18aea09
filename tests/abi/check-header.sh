#!/usr/bin/env bash
# nn.h compiles on its own, as the only include, with -pedantic-errors
# -Werror, in one language standard with one compiler.
#
#   check-header.sh COMPILER LANG STD INCLUDE_DIR
#   e.g. check-header.sh clang++ c++ c++98 include
set -euo pipefail
compiler=$1 lang=$2 std=$3 incdir=$4

if ! command -v "$compiler" > /dev/null; then
    echo "FAIL: $compiler not found (bash .ci/test-all installs gcc, g++ and clang)"
    exit 1
fi
flags=(-x "$lang" "-std=$std" -pedantic-errors -Wall -Wextra -Werror)
# Old-style declarations would break C callers that pass arguments.
[ "$lang" = c ] && flags+=(-Wstrict-prototypes)

if printf '#include "nn.h"\n' |
        "$compiler" "${flags[@]}" -I "$incdir" -fsyntax-only -; then
    echo "ok: $compiler ${flags[*]} compiles nn.h alone"
else
    echo "FAIL: nn.h does not compile alone with $compiler ${flags[*]}"
    exit 1
fi
