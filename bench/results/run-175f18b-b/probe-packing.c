/* SPDX-License-Identifier: MIT */
/*
 * probe-packing.c - not part of the build: 784-1024-1024-10's second layer
 * at batch 256 through libnn's kernel (AVX-512 build), one thread, pairs
 * of blocks in alternating order (bench_time_pair_ratio), the ratio of
 * the second's time over the first's: the backward product G.W^T (W^T
 * packed per block, transposed) against the same product with W^T
 * materialised (packed per block untransposed) and against the forward
 * X.W; and X.W with W packed once (NN__B_PACKED) against packed per
 * block, which is what packing costs that product. From the top of a
 * tree with build-bench built (-DNN_BUILD_BENCH=ON):
 *
 *   gcc -O2 -std=c11 -Wall -Wextra -Iinclude -Isrc -Ibench \
 *       -Ibuild-bench -Ibuild-bench/include \
 *       bench/results/run-175f18b-b/probe-packing.c \
 *       build-bench/bench/libnn_bench_common.a build-bench/libnn_testlib.a \
 *       -lopenblas -lm -lpthread -o /tmp/probe-packing
 *   taskset -c 1 /tmp/probe-packing 21
 */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"
#include "nn_internal.h"
#include <stdio.h>
#include <stdlib.h>

typedef struct ctx {
    int tb;
    int form;
    const float *A, *B;
    size_t ldb;
    float *C, *buf;
} ctx;
static void run(void *p)
{
    ctx *c = p;
    nn__kernel_gemm(0, c->tb, 256, 1024, 1024, 1.0f, c->A, 1024, c->B, c->ldb,
                    c->form ? c->form : NN__B_PACK_BLOCKS, c->buf, 0.0f, c->C,
                    1024, NULL, 0, 0.0f);
}
int main(int argc, char **argv)
{
    size_t n = 1024 * 1024, i, j;
    uint64_t s = 1;
    float *A = malloc(n * 4), *W = malloc(n * 4), *WT = malloc(n * 4);
    float *C = malloc(n * 4), *buf = malloc(2 * 256 * 480 * 4);
    int reps = argc > 1 ? atoi(argv[1]) : 21;
    bench_fill(A, n, -1, 1, &s);
    bench_fill(W, n, -1, 1, &s);
    for (i = 0; i < 1024; i++)
        for (j = 0; j < 1024; j++)
            WT[j * 1024 + i] = W[i * 1024 + j];
    ctx t = {1, 0, A, W, 1024, C, buf};  /* G W^T, transposed pack */
    ctx u = {0, 0, A, WT, 1024, C, buf}; /* the same, W^T materialised */
    ctx f = {0, 0, A, W, 1024, C, buf};  /* X W */
    float *P = malloc(nn__kernel_packed_floats(1024, 1024) * 4);
    nn__kernel_pack(0, 1024, 1024, W, 1024, P);
    ctx q = {0, NN__B_PACKED, A, P, 1024, C, buf}; /* X W, W packed once */
    bench_stat sa, sb;
    bench_diff r;
    bench_spin(0.5);
    bench_time_pair_ratio(run, &u, run, &t, 0.05, reps, &sa, &sb, &r);
    printf(
        "G.W^T transposed pack over W^T materialised: %.3f (%.3f-%.3f); %.0f "
        "vs %.0f us\n",
        r.median, r.lo, r.hi, sb.median * 1e6, sa.median * 1e6);
    bench_time_pair_ratio(run, &f, run, &t, 0.05, reps, &sa, &sb, &r);
    printf(
        "G.W^T transposed pack over X.W: %.3f (%.3f-%.3f); %.0f vs %.0f us\n",
        r.median, r.lo, r.hi, sb.median * 1e6, sa.median * 1e6);
    bench_time_pair_ratio(run, &f, run, &u, 0.05, reps, &sa, &sb, &r);
    printf("W^T materialised over X.W: %.3f (%.3f-%.3f); %.0f vs %.0f us\n",
           r.median, r.lo, r.hi, sb.median * 1e6, sa.median * 1e6);
    bench_time_pair_ratio(run, &f, run, &q, 0.05, reps, &sa, &sb, &r);
    printf(
        "X.W packed once over X.W packed per block: %.3f (%.3f-%.3f); %.0f vs "
        "%.0f us\n",
        r.median, r.lo, r.hi, sb.median * 1e6, sa.median * 1e6);
    return 0;
}
