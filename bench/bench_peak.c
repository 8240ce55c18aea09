/* SPDX-License-Identifier: MIT */
/*
 * bench_peak.c - the core's floating-point peak (peak.c): 12 independent
 * chains of _mm256_fmadd_ps, and of _mm512_fmadd_ps where the CPU has
 * AVX-512. One thread; medians of timed blocks.
 *
 * Output: "peak avx2 GFLOPS" and, if the CPU has it, "peak avx512
 * GFLOPS", after the run's header; then "tile GFLOPS", libnn's own tile
 * on a block in cache (peak.c), where its kernel runs.
 */
#include <stdio.h>

#include "bench.h"

int main(int argc, char **argv)
{
    bench_opts o;
    double p256, p512, tile;
    if (bench_parse(argc, argv, &o, ""))
        return 1;
    bench_print_header("bench_peak", NULL);
    bench_spin(0.5);
    p256 = bench_peak_gflops(256, o.min_block, o.reps);
    if (p256 <= 0.0) {
        printf("peak: the CPU has no AVX2 and FMA (or this is not x86-64 "
               "with GCC or Clang)\n");
        return 0;
    }
    printf("peak avx2 %.2f\n", p256);
    p512 = bench_peak_gflops(512, o.min_block, o.reps);
    if (p512 > 0.0)
        printf("peak avx512 %.2f\n", p512);
    tile = bench_tile_gflops(o.min_block, o.reps);
    if (tile > 0.0)
        printf("tile %.2f\n", tile);
    return 0;
}
