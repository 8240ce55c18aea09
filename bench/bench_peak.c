/* SPDX-License-Identifier: MIT */
/*
 * bench_peak.c - the core's floating-point peak, the number training and
 * inference figures are measured against: 12 independent chains of fused
 * multiply-adds on 8 floats (_mm256_fmadd_ps), enough to hide the FMA
 * latency on the cores libnn runs on, and the same with 16 floats
 * (_mm512_fmadd_ps) where the CPU has AVX-512. One thread; medians of
 * timed blocks.
 *
 * Output: "peak avx2 GFLOPS" and, if the CPU has it, "peak avx512
 * GFLOPS", after the run's header.
 */
#include <stdio.h>

#include "bench.h"

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

int main(int argc, char **argv)
{
    bench_opts o;
    bench_stat s;
    if (bench_parse(argc, argv, &o, ""))
        return 1;
    bench_print_header("bench_peak", NULL);
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        printf("peak: the CPU has no AVX2 and FMA\n");
        return 0;
    }
    bench_spin(0.5);
    s = bench_time(fma256, NULL, o.min_block, o.reps, 0.0);
    printf("peak avx2 %.2f\n", 2.0 * 8 * CHAINS * (double)ITERS / s.median /
                                   1e9);
    if (__builtin_cpu_supports("avx512f")) {
        s = bench_time(fma512, NULL, o.min_block, o.reps, 0.0);
        printf("peak avx512 %.2f\n",
               2.0 * 16 * CHAINS * (double)ITERS / s.median / 1e9);
    }
    return 0;
}
#else
int main(void)
{
    printf("peak: measured on x86-64 with GCC or Clang only\n");
    return 0;
}
#endif
