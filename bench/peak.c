/* SPDX-License-Identifier: MIT */
/*
 * peak.c - the core's floating-point peak, the number training and
 * inference figures are measured against (bench_peak prints it,
 * bench_train reports its training figures against it): 12 independent
 * chains of fused multiply-adds on 8 floats (_mm256_fmadd_ps), enough to
 * hide the FMA latency on the cores libnn runs on, and the same with 16
 * floats (_mm512_fmadd_ps) where the CPU has AVX-512. One thread; the
 * median of timed blocks.
 *
 * And the rate of libnn's own tile on a block that stays in cache
 * (bench_tile_gflops), so that a training figure splits into the tile's
 * share of the peak and the step's share of the tile's rate: what the
 * tile loses, and what packing, the driver and the other passes do.
 */
#include "bench.h"

#include <stdlib.h>

#include "nn_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

enum { CHAINS = 12, ITERS = 1 << 20 };

static volatile float sink;

__attribute__((target("avx2,fma"))) static void fma256(void *ctx)
{
    __m256 acc[CHAINS], a = _mm256_set1_ps(0.999999f),
                        b = _mm256_set1_ps(1e-7f);
    float out[8];
    long i;
    int c;
    (void)ctx;
    for (c = 0; c < CHAINS; c++)
        acc[c] = _mm256_set1_ps((float)c);
    for (i = 0; i < ITERS; i++)
        for (c = 0; c < CHAINS; c++)
            acc[c] = _mm256_fmadd_ps(acc[c], a, b);
    for (c = 1; c < CHAINS; c++)
        acc[0] = _mm256_add_ps(acc[0], acc[c]);
    _mm256_storeu_ps(out, acc[0]);
    sink = out[0];
}

__attribute__((target("avx512f"))) static void fma512(void *ctx)
{
    __m512 acc[CHAINS], a = _mm512_set1_ps(0.999999f),
                        b = _mm512_set1_ps(1e-7f);
    float out[16];
    long i;
    int c;
    (void)ctx;
    for (c = 0; c < CHAINS; c++)
        acc[c] = _mm512_set1_ps((float)c);
    for (i = 0; i < ITERS; i++)
        for (c = 0; c < CHAINS; c++)
            acc[c] = _mm512_fmadd_ps(acc[c], a, b);
    for (c = 1; c < CHAINS; c++)
        acc[0] = _mm512_add_ps(acc[0], acc[c]);
    _mm512_storeu_ps(out, acc[0]);
    sink = out[0];
}

bench_fn bench_peak_fn(int width, double *flops)
{
    __builtin_cpu_init();
    if (width == 256 && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma")) {
        *flops = 2.0 * 8 * CHAINS * (double)ITERS;
        return fma256;
    }
    if (width == 512 && __builtin_cpu_supports("avx512f")) {
        *flops = 2.0 * 16 * CHAINS * (double)ITERS;
        return fma512;
    }
    *flops = 0.0;
    return NULL;
}
#else
bench_fn bench_peak_fn(int width, double *flops)
{
    (void)width;
    *flops = 0.0;
    return NULL;
}
#endif

double bench_peak_gflops(int width, double min_block, int reps)
{
    double flops;
    bench_fn fn = bench_peak_fn(width, &flops);
    bench_stat s;
    if (!fn)
        return 0.0;
    s = bench_time(fn, NULL, min_block, reps, 0.0);
    return flops / s.median / 1e9;
}

/* The tile's block: 256 rows of A against one block of B as the AVX-512
 * build cuts B (KC x NC = 256 x 480; the AVX2 build cuts it into its own
 * blocks), packed once; C, 256 x 480, rewritten each call. A, B and C
 * together take 1.2 MB, in the caches after the first call. */
enum { TILE_M = 256, TILE_K = 256, TILE_N = 480 };

typedef struct tile_ctx {
    float *a, *b, *c;
} tile_ctx;

void bench_tile_call(void *arg)
{
    const tile_ctx *t = (const tile_ctx *)arg;
    nn__kernel_gemm(0, 0, TILE_M, TILE_N, TILE_K, 1.0f, t->a, TILE_K, t->b,
                    TILE_N, NN__B_PACKED, NULL, 0.0f, t->c, TILE_N, NULL,
                    NN_ACT_IDENTITY, 0.0f);
}

void *bench_tile_new(double *flops)
{
    tile_ctx *t;
    float *b;
    size_t packed;
    uint64_t seed = 5;
    *flops = 0.0;
    if (!nn__kernel_on())
        return NULL;
    t = (tile_ctx *)bench_xmalloc(sizeof *t);
    packed = nn__kernel_packed_floats(TILE_K, TILE_N);
    t->a = (float *)bench_xmalloc((size_t)TILE_M * TILE_K * sizeof(float));
    b = (float *)bench_xmalloc((size_t)TILE_K * TILE_N * sizeof(float));
    t->b = (float *)bench_xmalloc(packed * sizeof(float));
    t->c = (float *)bench_xmalloc((size_t)TILE_M * TILE_N * sizeof(float));
    bench_fill(t->a, (size_t)TILE_M * TILE_K, -1.0f, 1.0f, &seed);
    bench_fill(b, (size_t)TILE_K * TILE_N, -1.0f, 1.0f, &seed);
    nn__kernel_pack(0, TILE_K, TILE_N, b, TILE_N, t->b);
    free(b);
    *flops = 2.0 * TILE_M * TILE_N * TILE_K;
    return t;
}

void bench_tile_free(void *arg)
{
    tile_ctx *t = (tile_ctx *)arg;
    if (!t)
        return;
    free(t->a);
    free(t->b);
    free(t->c);
    free(t);
}

double bench_tile_gflops(double min_block, int reps)
{
    double flops;
    void *t = bench_tile_new(&flops);
    bench_stat s;
    if (!t)
        return 0.0;
    s = bench_time(bench_tile_call, t, min_block, reps, 0.0);
    bench_tile_free(t);
    return flops / s.median / 1e9;
}
