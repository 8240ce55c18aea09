/* SPDX-License-Identifier: MIT */
/*
 * bench.c - the benchmark programs' shared helpers: clock, repeated timing
 * with medians, command line, counting allocator, run header.
 */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"
#include "bench_commit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nn.h"

#if defined(NN_HAVE_OPENBLAS)
#include <cblas.h>
#endif

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_median(double *v, int n)
{
    if (n <= 0)
        return 0.0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double time_block(bench_fn fn, void *ctx, long iters)
{
    long i;
    double t0 = bench_now();
    for (i = 0; i < iters; i++)
        fn(ctx);
    return bench_now() - t0;
}

/* Timed blocks per measurement: 1 to 64, the size of the callers' arrays. */
static int clamp_reps(int reps)
{
    return reps < 1 ? 1 : reps > 64 ? 64 : reps;
}

/* Calls per block so that a block lasts at least min_block; *one receives
 * the seconds per call. Warms up first. */
static long calibrate(bench_fn fn, void *ctx, double min_block, double *one)
{
    long iters = 1;
    double t;
    *one = time_block(fn, ctx, 1); /* warm-up, and a first estimate */
    /* Grow the count until a block lasts a tenth of min_block, then scale:
     * calibrating on one call would be dominated by the clock. */
    if (*one < min_block) {
        for (;;) {
            t = time_block(fn, ctx, iters);
            if (t >= min_block / 10.0 || iters > (1L << 40))
                break;
            iters *= 4;
        }
        *one = t / (double)iters;
        iters = (long)(min_block / (*one > 0.0 ? *one : 1e-9)) + 1;
    }
    return iters;
}

static void finish(bench_stat *s, double *per, int reps, long iters)
{
    s->reps = reps;
    s->iters = iters;
    s->median = bench_median(per, reps); /* sorts per */
    s->min = per[0];
    s->max = per[reps - 1];
}

/* The rounds of the pair functions: per round a block of a and one of b
 * (b first in odd rounds where alternate), seconds per call into pa and
 * pb (reps of each); the calls per block into *ia and *ib. */
static void time_rounds(bench_fn fa, void *ca, bench_fn fb, void *cb,
                        double min_block, int reps, int alternate,
                        double *pa, double *pb, long *ia, long *ib)
{
    double one;
    int r;
    *ia = calibrate(fa, ca, min_block, &one);
    *ib = calibrate(fb, cb, min_block, &one);
    for (r = 0; r < reps; r++) {
        if (alternate && r % 2) {
            pb[r] = time_block(fb, cb, *ib) / (double)*ib;
            pa[r] = time_block(fa, ca, *ia) / (double)*ia;
        } else {
            pa[r] = time_block(fa, ca, *ia) / (double)*ia;
            pb[r] = time_block(fb, cb, *ib) / (double)*ib;
        }
    }
}

/* The 1-based rank j of the order statistics d_(j) and d_(R + 1 - j) of R
 * values that hold their median with probability at least 0.95 (the sign
 * test's interval: P(Binomial(R, 1/2) < j) <= 0.025); 0 where R is too
 * small for any (R < 6). */
static int median_rank(int reps)
{
    double p = ldexp(1.0, -reps), cdf = 0.0; /* P(X = 0), P(X < j) */
    int j = 0;
    while (j < reps && cdf + p <= 0.025) {
        cdf += p;
        p *= (double)(reps - j) / (double)(j + 1); /* P(X = j + 1) */
        j++;
    }
    return j;
}

/* The median of the rounds' values d and the interval above; sorts d. */
static void interval(double *d, int reps, bench_diff *out)
{
    int j = median_rank(reps);
    out->median = bench_median(d, reps);
    out->level = j ? 0.95 : 0.0;
    out->lo = j ? d[j - 1] : d[0];
    out->hi = j ? d[reps - j] : d[reps - 1];
    out->min = d[0];
    out->max = d[reps - 1];
    out->reps = reps;
}

void bench_time_pair(bench_fn fa, void *ca, bench_fn fb, void *cb,
                     double min_block, int reps, bench_stat *sa,
                     bench_stat *sb)
{
    double pa[64], pb[64];
    long ia, ib;
    reps = clamp_reps(reps);
    time_rounds(fa, ca, fb, cb, min_block, reps, 0, pa, pb, &ia, &ib);
    finish(sa, pa, reps, ia);
    finish(sb, pb, reps, ib);
}

/* bench_time_pair_ratio (ratio set) and bench_time_pair_diff: rounds in
 * alternating order, and the interval of b's time per call over a's, or
 * less a's, in each. With a fixed order, a machine that speeds up or
 * slows down within rounds biases every round's ratio the same way; in
 * alternating order the two orders' biases cancel in the median. */
static void pair_rounds(bench_fn fa, void *ca, bench_fn fb, void *cb,
                        double min_block, int reps, bench_stat *sa,
                        bench_stat *sb, int ratio, bench_diff *out)
{
    double pa[64], pb[64], pd[64];
    long ia, ib;
    int r;
    reps = clamp_reps(reps);
    time_rounds(fa, ca, fb, cb, min_block, reps, 1, pa, pb, &ia, &ib);
    for (r = 0; r < reps; r++)
        pd[r] = ratio ? pb[r] / pa[r] : pb[r] - pa[r];
    finish(sa, pa, reps, ia);
    finish(sb, pb, reps, ib);
    interval(pd, reps, out);
}

void bench_time_pair_ratio(bench_fn fa, void *ca, bench_fn fb, void *cb,
                           double min_block, int reps, bench_stat *sa,
                           bench_stat *sb, bench_diff *ratio)
{
    pair_rounds(fa, ca, fb, cb, min_block, reps, sa, sb, 1, ratio);
}

void bench_time_pair_diff(bench_fn fa, void *ca, bench_fn fb, void *cb,
                          double min_block, int reps, bench_stat *sa,
                          bench_stat *sb, bench_diff *diff)
{
    pair_rounds(fa, ca, fb, cb, min_block, reps, sa, sb, 0, diff);
}

bench_stat bench_time(bench_fn fn, void *ctx, double min_block, int reps,
                      double budget)
{
    bench_stat s;
    double per[64], one;
    long iters;
    int r;

    reps = clamp_reps(reps);
    iters = calibrate(fn, ctx, min_block, &one);
    if (budget > 0.0 && one * (double)iters * reps > budget) {
        reps = (int)(budget / (one * (double)iters));
        if (reps < 1)
            reps = 1;
    }
    for (r = 0; r < reps; r++)
        per[r] = time_block(fn, ctx, iters) / (double)iters;
    finish(&s, per, reps, iters);
    return s;
}

void bench_spin(double seconds)
{
    volatile double x = 1.0;
    double end = bench_now() + seconds;
    while (bench_now() < end)
        x = x * 1.0000001 + 1e-9;
}

double bench_spread(const bench_stat *s)
{
    return s->median > 0.0 ? (s->max - s->min) / s->median : 0.0;
}

int bench_parse(int argc, char **argv, bench_opts *o, const char *usage)
{
    int i;
    memset(o, 0, sizeof *o);
    o->min_block = 0.2;
    o->reps = 7;
    o->threads[0] = 1;
    o->threads[1] = 2;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) {
            o->quick = 1;
        } else if (!strcmp(a, "--lib-only")) {
            o->lib_only = 1;
        } else if (!strcmp(a, "--sweep")) {
            o->sweep_only = 1;
        } else if (!strcmp(a, "--csv") && v) {
            o->csv = v;
            i++;
        } else if (!strcmp(a, "--only") && v) {
            o->only = v;
            i++;
        } else if (!strcmp(a, "--batch") && v) {
            o->batch = (size_t)strtoul(v, NULL, 10);
            i++;
        } else if (!strcmp(a, "--reps") && v) {
            o->reps = atoi(v);
            o->reps_given = 1;
            i++;
        } else if (!strcmp(a, "--min-block") && v) {
            o->min_block = atof(v);
            i++;
        } else if (!strcmp(a, "--profile-steps") && v) {
            o->profile_steps = atol(v);
            i++;
        } else if (!strcmp(a, "--threads") && v) {
            char *end;
            o->threads[0] = (int)strtol(v, &end, 10);
            o->threads[1] = *end == ',' ? (int)strtol(end + 1, NULL, 10) : 0;
            if (o->threads[0] < 1 || o->threads[1] < 0) {
                fprintf(stderr, "%s: --threads takes 1, 2 or 1,2\n", argv[0]);
                return 1;
            }
            i++;
        } else {
            fprintf(stderr,
                    "usage: %s [--quick] [--csv FILE] [--only NAME] "
                    "[--batch N] [--threads 1,2] [--reps R] "
                    "[--min-block SECONDS]%s\n"
                    "  --quick       blocks of 0.05 s, 3 repetitions, skips "
                    "the slowest reference runs\n"
                    "  --csv FILE    also write the results as CSV\n"
                    "  --only NAME   only the nets (or shapes) whose name "
                    "contains NAME\n"
                    "  --batch N     only batch size N\n"
                    "  --threads L   BLAS thread counts to run, e.g. 1 or 1,2 "
                    "(default 1,2)\n"
                    "  --reps R      timed blocks per measurement (default 7)\n"
                    "  --min-block S seconds per timed block (default 0.2)\n",
                    argv[0], usage ? usage : "");
            return 1;
        }
    }
    if (o->quick) {
        if (o->min_block > 0.05)
            o->min_block = 0.05;
        if (o->reps > 3 && !o->reps_given)
            o->reps = 3;
    }
    return 0;
}

static void cpu_model(char *buf, size_t cap)
{
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    snprintf(buf, cap, "unknown");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                c += c[1] == ' ' ? 2 : 1;
                c[strcspn(c, "\n")] = '\0';
                snprintf(buf, cap, "%s", c);
            }
            break;
        }
    }
    fclose(f);
}

static void load_average(char *buf, size_t cap)
{
    FILE *f = fopen("/proc/loadavg", "r");
    snprintf(buf, cap, "unknown");
    if (!f)
        return;
    if (fgets(buf, (int)cap, f))
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

static const char *env_or_unset(const char *name)
{
    const char *v = getenv(name);
    return v ? v : "(unset)";
}

void bench_print_header(const char *program, FILE *csv)
{
    char model[256], load[128], date[64];
    const char *blas = "CBLAS (not OpenBLAS: thread count fixed)";
    time_t now = time(NULL);
    struct tm tmv;
    int pass;
    gmtime_r(&now, &tmv);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &tmv);
    cpu_model(model, sizeof model);
    load_average(load, sizeof load);
#if defined(NN_HAVE_OPENBLAS)
    blas = openblas_get_config();
#elif defined(NN_HAVE_BLIS)
    blas = "BLIS";
#endif
    for (pass = 0; pass < 2; pass++) {
        FILE *f = pass ? csv : stdout;
        const char *p = pass ? "# " : "";
        if (!f)
            continue;
        fprintf(f, "%s%s, libnn %s\n", p, program, nn_version_string());
        fprintf(f, "%scommit: %s\n", p, NN_BENCH_COMMIT);
        fprintf(f, "%sdate: %s\n", p, date);
        fprintf(f, "%scpu: %s, %ld online\n", p, model,
                sysconf(_SC_NPROCESSORS_ONLN));
        fprintf(f, "%sload average at start: %s\n", p, load);
        fprintf(f, "%sblas: %s\n", p, blas);
        fprintf(f, "%senvironment: OPENBLAS_CORETYPE=%s OPENBLAS_NUM_THREADS=%s"
                   " OMP_NUM_THREADS=%s\n", p, env_or_unset("OPENBLAS_CORETYPE"),
                env_or_unset("OPENBLAS_NUM_THREADS"),
                env_or_unset("OMP_NUM_THREADS"));
    }
}

bench_counter bench_allocs;

static void *count_malloc(void *ctx, size_t size)
{
    (void)ctx;
    bench_allocs.allocs++;
    return malloc(size);
}

static void count_free(void *ctx, void *ptr)
{
    (void)ctx;
    bench_allocs.frees++;
    free(ptr);
}

int bench_install_counter(void)
{
    return nn_set_allocator(count_malloc, count_free, NULL) == NN_OK ? 0 : -1;
}

void bench_fill(float *p, size_t n, float lo, float hi, uint64_t *state)
{
    size_t i;
    for (i = 0; i < n; i++) {
        *state = *state * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = lo + (hi - lo) * (float)((*state >> 40) *
                                        (1.0 / 16777216.0));
    }
}

FILE *bench_open_csv(const bench_opts *o)
{
    FILE *f;
    if (!o->csv)
        return NULL;
    f = fopen(o->csv, "w");
    if (!f) {
        perror(o->csv);
        exit(1);
    }
    return f;
}

void *bench_xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "bench: out of memory allocating %zu bytes\n", bytes);
        exit(2);
    }
    return p;
}

void bench_copy(void *vctx)
{
    bench_copy_ctx *c = (bench_copy_ctx *)vctx;
    memcpy(c->dst, c->src, c->bytes);
    /* keep the copy from being elided */
    __asm__ volatile("" : : "r"(c->dst) : "memory");
}

/* Two mallocs had put the source and destination 16 bytes apart modulo
 * 4 KiB at batch 32, where on AMD EPYC Zen 3 bench_layers' 48 KiB copy
 * took 19 us instead of 1.1 (as it did at 16 bytes, and not at 0, 64,
 * 1024, 2048 or 3072, in a standalone test). */
float *bench_copy_buffers(size_t bytes, float **dst)
{
    size_t gap = (bytes + 4095) / 4096 * 4096 + 2048;
    char *p = bench_xmalloc(gap + bytes);
    *dst = (float *)(void *)(p + gap);
    return (float *)(void *)p;
}

/* Appends bench_layer_net's layer of the kind to m; 1 where libnn
 * refused it. */
static int add_layer(nn_model *m, int kind)
{
    switch (kind) {
    case NN_KIND_DROPOUT:
        return nn_model_add_dropout(m, 0.2f) != NN_OK;
    case NN_KIND_BATCHNORM:
        return nn_model_add_batchnorm(m) != NN_OK;
    case NN_KIND_LAYERNORM:
        return nn_model_add_layernorm(m) != NN_OK;
    default:
        return 0;
    }
}

nn_model *bench_layer_net(const char *program, int kind)
{
    nn_model *m = NULL;
    if (nn_model_create(&m, BENCH_NET_IN, 42) != NN_OK ||
        nn_model_add_dense(m, BENCH_NET_H1, NN_ACT_RELU) != NN_OK ||
        add_layer(m, kind) ||
        nn_model_add_dense(m, BENCH_NET_H2, NN_ACT_RELU) != NN_OK ||
        add_layer(m, kind) ||
        nn_model_add_dense(m, BENCH_NET_OUT, NN_ACT_SOFTMAX) != NN_OK ||
        nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY) != NN_OK ||
        nn_model_set_optimizer(m, NN_OPT_SGD) != NN_OK ||
        nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.001) != NN_OK) {
        fprintf(stderr, "%s: building the net failed: %s\n", program,
                nn_last_error());
        exit(1);
    }
    return m;
}
