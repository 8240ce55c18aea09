#!/bin/sh
# SPDX-License-Identifier: MIT
#
# kernel_ab.sh - two versions of src/gemm_avx512.c in one process
# (bench/kernel_ab.c says why): training steps or predictions of a dense
# net, the versions alternating block by block.
#
#   bench/kernel_ab.sh BUILD A B NET BATCH STEPS BLOCKS [predict]
#
# BUILD is a Release build directory of this tree (its libnn_testlib.a
# supplies the rest of the library); A and B are each a commit (the file
# as it was there) or a path to a copy of the file. e.g. the working tree
# against the last commit, 21 pairs of blocks of 5 steps:
#   bench/kernel_ab.sh build-bench HEAD src/gemm_avx512.c \
#       784-1024-1024-10 256 5 21
set -eu
if [ $# -lt 7 ] || [ $# -gt 8 ]; then
    echo "usage: $0 BUILD A B NET BATCH STEPS BLOCKS [predict]" >&2
    exit 2
fi
build=$1 a=$2 b=$3
shift 3
here=$(cd "$(dirname "$0")/.." && pwd)
lib=$build/libnn_testlib.a
if [ ! -f "$lib" ]; then
    echo "$0: no $lib: build BUILD first" >&2
    exit 2
fi
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags="-O3 -DNDEBUG -std=c11 -fno-math-errno -fno-trapping-math
       -I$here/include -I$here/src -Wall -Wextra -Werror"
for side in A B; do
    if [ $side = A ]; then v=$a; else v=$b; fi
    if [ -f "$v" ]; then
        cp "$v" "$tmp/$side.c"
    elif ! git -C "$here" show "$v:src/gemm_avx512.c" >"$tmp/$side.c"; then
        echo "$0: $v is neither a file nor a commit with the kernel" >&2
        exit 2
    fi
    # shellcheck disable=SC2086 # flags are words
    $cc $flags -Dnn__kernel_on=${side}_on -Dnn__kernel_force=${side}_force \
        -Dnn__kernel_packed_floats=${side}_pf \
        -Dnn__kernel_pack=${side}_pack -Dnn__kernel_gemm=${side}_gemm \
        -c "$tmp/$side.c" -o "$tmp/$side.o"
done
blas=$(pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
# shellcheck disable=SC2086
$cc $flags "$here/bench/kernel_ab.c" "$here/bench/ab_steps.c" "$tmp/A.o" \
    "$tmp/B.o" "$lib" $blas -pthread -lm \
    -o "$tmp/kernel_ab"
echo "A: $a, B: $b"
"$tmp/kernel_ab" "$@"
