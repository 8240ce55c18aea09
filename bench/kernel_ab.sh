#!/bin/sh
# SPDX-License-Identifier: MIT
#
# kernel_ab.sh - two versions of libnn's kernel (src/gemm_avx512.c, and
# where a version has them src/gemm_avx2.c and src/gemm_kernel.h) in one
# process (bench/kernel_ab.c says why): training steps or predictions of
# a dense net, the versions alternating block by block.
#
#   bench/kernel_ab.sh BUILD A B NET BATCH STEPS BLOCKS [predict]
#
# BUILD is a Release build directory of this tree (its libnn_testlib.a
# supplies the rest of the library); A and B are each a commit (the files
# as they were there) or the path of a gemm_avx512.c (with the other two
# files beside it, where that version has them). e.g. the working tree
# against the last commit, 21 pairs of blocks of 5 steps:
#   bench/kernel_ab.sh build-bench HEAD src/gemm_avx512.c \
#       784-1024-1024-10 256 5 21
# Each version runs its best build for the CPU; NN_GEMM=avx2 in the
# environment makes both run their AVX2 builds. NET may hold dropout
# layers (784-256-d0.2-128-d0.2-10: bench/ab_steps.h).
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
objs=
for side in A B; do
    if [ $side = A ]; then v=$a; else v=$b; fi
    mkdir "$tmp/$side"
    for f in gemm_avx512.c gemm_avx2.c gemm_kernel.h; do
        if [ -f "$v" ]; then
            if [ -f "$(dirname "$v")/$f" ]; then
                cp "$(dirname "$v")/$f" "$tmp/$side/$f"
            fi
            [ $f != gemm_avx512.c ] || cp "$v" "$tmp/$side/$f"
        elif ! git -C "$here" show "$v:src/$f" >"$tmp/$side/$f" \
            2>/dev/null; then
            rm -f "$tmp/$side/$f"
            if [ $f = gemm_avx512.c ]; then
                echo "$0: $v is neither a file nor a commit with the" \
                    "kernel" >&2
                exit 2
            fi
        fi
    done
    # each version's entry points, renamed (a version's header, beside
    # its .c files, comes before src/ on the include path)
    names="-Dnn__kernel_on=${side}_on -Dnn__kernel_force=${side}_force
           -Dnn__kernel_isa=${side}_isa -Dnn__kernel_packed_floats=${side}_pf
           -Dnn__kernel_pack=${side}_pack -Dnn__kernel_gemm=${side}_gemm
           -Dnn__kernel_gemm_top=${side}_gemm_top
           -Dnn__kernel_prefetch_force=${side}_prefetch_force"
    for w in k512 k256; do
        for f in packed_floats pack gemm gemm_top; do
            names="$names -Dnn__${w}_$f=${side}_${w}_$f"
        done
    done
    for c in gemm_avx512 gemm_avx2; do
        [ -f "$tmp/$side/$c.c" ] || continue
        # shellcheck disable=SC2086 # flags and names are words
        $cc $flags -I"$tmp/$side" $names -c "$tmp/$side/$c.c" \
            -o "$tmp/$side/$c.o"
        objs="$objs $tmp/$side/$c.o"
    done
done
blas=$(pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
# shellcheck disable=SC2086
$cc $flags "$here/bench/kernel_ab.c" "$here/bench/ab_steps.c" $objs \
    "$lib" $blas -pthread -lm -o "$tmp/kernel_ab"
echo "A: $a, B: $b"
"$tmp/kernel_ab" "$@"
