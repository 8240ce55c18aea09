/* SPDX-License-Identifier: MIT */
/*
 * bench.h - what the benchmark programs share: a monotonic clock, repeated
 * timing with medians, the command line every program takes, a counting
 * allocator for the zero-allocation check, deterministic fill, and the
 * run's header (machine, date, load).
 */
#ifndef NN_BENCH_H
#define NN_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Seconds from an arbitrary origin, CLOCK_MONOTONIC. */
double bench_now(void);

/* The result of timing one operation: seconds per call over `reps` blocks
 * of `iters` calls each. */
typedef struct bench_stat {
    double median, min, max; /* seconds per call */
    int reps;                /* timed blocks */
    long iters;              /* calls per block */
} bench_stat;

typedef void (*bench_fn)(void *ctx);

/* Calls fn(ctx) once to warm up, picks a call count per block so that a
 * block lasts at least min_block seconds, then times `reps` blocks and
 * reports seconds per call. If a single call is slow, fewer blocks are run
 * so that the measurement stays within `budget` seconds (at least one; 0:
 * no budget). */
bench_stat bench_time(bench_fn fn, void *ctx, double min_block, int reps,
                      double budget);

/* As bench_time for two operations, with their blocks interleaved (a, b,
 * a, b, ...) so that a slow spell of a shared machine hits both alike: for
 * ratios such as libnn against its ceiling. */
void bench_time_pair(bench_fn fa, void *ca, bench_fn fb, void *cb,
                     double min_block, int reps, bench_stat *sa,
                     bench_stat *sb);
/* The rounds' differences of b's time per call less a's (seconds): their
 * median, and lo, hi, a distribution-free interval holding the
 * differences' median with probability at least `level` (0.95; 0 with
 * fewer than 6 rounds, where lo and hi are the smallest and largest). */
typedef struct bench_diff {
    double median, lo, hi, level;
    double min, max; /* the smallest and the largest round */
    int reps;
} bench_diff;

/* As bench_time_pair, and *diff of the rounds' differences. A round times
 * a block of each, in the order a, b in even rounds and b, a in odd ones,
 * so that a machine speeding up or slowing down within rounds shifts the
 * two orders' differences in opposite directions. Two blocks next to each
 * other in time see the same machine far more often than two blocks a
 * minute apart: this resolves differences of a fraction of a per cent of
 * a step that the spread of the two operations' own blocks does not. */
void bench_time_pair_diff(bench_fn fa, void *ca, bench_fn fb, void *cb,
                          double min_block, int reps, bench_stat *sa,
                          bench_stat *sb, bench_diff *diff);
/* As bench_time_pair_diff, for the rounds' ratios of b's time per call over
 * a's (the order alternating too): *ratio their median, interval and
 * extremes. For ratios such as FANN's time over libnn's. */
void bench_time_pair_ratio(bench_fn fa, void *ca, bench_fn fb, void *cb,
                           double min_block, int reps, bench_stat *sa,
                           bench_stat *sb, bench_diff *ratio);

/* Busy-waits for `seconds`: lets the core leave its idle clock before the
 * first measurement (on this VM the first configuration of a run was
 * otherwise up to 2x slower). */
void bench_spin(double seconds);

/* Spread of a measurement, (max - min) / median. */
double bench_spread(const bench_stat *s);

/* Options common to every program. */
typedef struct bench_opts {
    int quick;          /* --quick: short blocks, fewer repetitions */
    const char *csv;    /* --csv FILE */
    double min_block;   /* seconds per timed block */
    int reps;           /* timed blocks per measurement */
    int reps_given;     /* --reps was on the command line */
    const char *only;   /* --only NAME: one net or shape group (substring) */
    size_t batch;       /* --batch N: one batch size (0: all) */
    int threads[2];     /* --threads 1,2 (0 ends the list) */
    long profile_steps; /* --profile-steps N (bench_train, bench_layers) */
    int lib_only;       /* --lib-only: libnn and ceiling only (bench_train) */
    int sweep_only;     /* --sweep: the small-path sweep only (bench_train) */
} bench_opts;

/* Parses argv into *o (defaults first). Returns 0, or 1 after printing usage
 * for --help or a bad argument. `extra` names program-specific options in
 * the usage text. */
int bench_parse(int argc, char **argv, bench_opts *o, const char *usage);

/* Prints the run's header: program, date, CPU model, cores, load average,
 * BLAS configuration. Also the same as '#' comment lines at the top of csv
 * when csv is not NULL. */
void bench_print_header(const char *program, FILE *csv);

/* Counting allocator, installed with nn_set_allocator before any model
 * exists. */
typedef struct bench_counter {
    long allocs, frees;
} bench_counter;
extern bench_counter bench_allocs;
/* Installs the counting allocator; returns 0 on success. */
int bench_install_counter(void);

/* Uniform floats in [lo, hi) from a 64-bit LCG; deterministic. */
void bench_fill(float *p, size_t n, float lo, float hi, uint64_t *state);

/* The CSV file of --csv opened for writing, or NULL without --csv; exits
 * with status 1 and the system's message if it cannot be opened. */
FILE *bench_open_csv(const bench_opts *o);

/* malloc that exits with a message on failure (benchmarks only). */
void *bench_xmalloc(size_t bytes);

/* The core's peak in GFLOP/s at one thread (peak.c): independent chains
 * of fused multiply-adds on vectors of `width` bits (256: AVX2 and FMA;
 * 512: AVX-512F), the median of `reps` blocks of at least min_block
 * seconds. 0 where the CPU (or the compiler) has no such instructions. */
double bench_peak_gflops(int width, double min_block, int reps);
/* libnn's kernel (src/gemm_avx512.c) on one block at one thread, in
 * GFLOP/s: 256 rows of A by a 256 x 480 block of B packed once, A, B and
 * C in the caches, the median of `reps` blocks of at least min_block
 * seconds; the rate its tiles reach where nothing waits for main
 * memory. 0 where the kernel does not run. */
double bench_tile_gflops(double min_block, int reps);
/* The two above as operations to time beside others (bench_time_pair_ratio:
 * a figure against the peak from blocks next to each other in time, where
 * the core's clock moves within a run). bench_peak_fn: the peak loop of
 * `width` bits, and its floating-point operations per call in *flops; NULL
 * (and 0) where bench_peak_gflops gives 0. bench_tile_new: a context for
 * bench_tile_call (one call: the block above), with its operations per
 * call in *flops; NULL where the kernel does not run; bench_tile_free
 * frees it (NULL too). */
bench_fn bench_peak_fn(int width, double *flops);
void *bench_tile_new(double *flops);
void bench_tile_call(void *ctx);
void bench_tile_free(void *ctx);

/* Target 6's yardstick (bench_layers, bench_passes): a memcpy of `bytes`
 * from src to dst, as a bench_fn. */
typedef struct bench_copy_ctx {
    float *dst;
    const float *src;
    size_t bytes;
} bench_copy_ctx;
void bench_copy(void *ctx);
/* One block holding a copy's source (returned; free it) and, 2 KiB past
 * a 4 KiB boundary after it, its destination (*dst). */
float *bench_copy_buffers(size_t bytes, float **dst);

/* Target 6's net (bench_layers, bench_passes): 784-256-X-128-X-10, relu
 * hidden layers, softmax output, cross-entropy on class labels, plain SGD
 * at 0.001, X a layer of the kind (an nn_layer_kind: dropout at rate
 * 0.2, batch or layer normalization; 0: none, the plain
 * 784-256-128-10). Exits with program's name and libnn's message where
 * libnn refuses it. */
enum {
    BENCH_NET_IN = 784,
    BENCH_NET_H1 = 256,
    BENCH_NET_H2 = 128,
    BENCH_NET_OUT = 10
};
struct nn_model;
struct nn_model *bench_layer_net(const char *program, int kind);

/* Median of v[0..n) (sorts v). */
double bench_median(double *v, int n);

#endif /* NN_BENCH_H */
