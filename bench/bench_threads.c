/* SPDX-License-Identifier: MIT */
/*
 * bench_threads.c - training steps of one dense net at one and at two BLAS
 * threads (nn_set_blas_threads), alternating block by block in one
 * process on the same model and data, and nothing else running: no
 * cblas_sgemm calls beside them, unlike bench_train, whose ceiling blocks
 * leave OpenBLAS's threads spinning on the other core for a while after
 * each block.
 *
 *   bench_threads NET BATCH STEPS BLOCKS
 *
 * NET is a dense net such as 784-1024-1024-10 (relu hidden layers, softmax
 * and cross-entropy at the output, plain SGD); STEPS steps per timed
 * block; BLOCKS pairs of blocks (1 then 2 threads, then 2 then 1, ...).
 * Prints the median time per step at each count and the median of the
 * pairs' ratios (two threads' time over one's) with its quartiles.
 */
#define _POSIX_C_SOURCE 200809L
#include <nn.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int ascending(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static size_t whole(const char *s, size_t hi, const char *what)
{
    char *end;
    unsigned long v;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < 1 || v > hi) {
        fprintf(stderr, "bench_threads: %s is a count from 1 to %zu, not "
                        "'%s'\n",
                what, hi, s);
        exit(2);
    }
    return (size_t)v;
}

int main(int argc, char **argv)
{
    enum { MAX_WIDTHS = 17, MAX_PAIRS = 1000 };
    size_t w[MAX_WIDTHS], count = 0, n, steps, pairs, i, p;
    nn_model *m = NULL;
    float *x;
    int32_t *labels;
    double loss, *t1, *t2, *ratio;
    char *copy, *tok;
    if (argc != 5) {
        fprintf(stderr, "usage: %s NET BATCH STEPS BLOCKS\n", argv[0]);
        return 2;
    }
    copy = strdup(argv[1]);
    for (tok = copy ? strtok(copy, "-") : NULL; tok; tok = strtok(NULL, "-"))
        if (count == MAX_WIDTHS) {
            fprintf(stderr, "bench_threads: at most %d widths\n", MAX_WIDTHS);
            return 2;
        } else
            w[count++] = whole(tok, 1u << 16, "a width");
    free(copy);
    if (count < 2) {
        fprintf(stderr, "bench_threads: NET is widths joined by '-'\n");
        return 2;
    }
    n = whole(argv[2], 1u << 16, "BATCH");
    steps = whole(argv[3], 1u << 20, "STEPS");
    pairs = whole(argv[4], MAX_PAIRS, "BLOCKS");
    x = malloc(n * w[0] * sizeof *x);
    labels = malloc(n * sizeof *labels);
    t1 = malloc(3 * pairs * sizeof *t1);
    if (!x || !labels || !t1) {
        fprintf(stderr, "bench_threads: out of memory\n");
        return 1;
    }
    t2 = t1 + pairs;
    ratio = t2 + pairs;
    for (i = 0; i < n * w[0]; i++)
        x[i] = (float)(i * 5 % 17) / 17.0f;
    for (i = 0; i < n; i++)
        labels[i] = (int32_t)(i % w[count - 1]);
    if (nn_model_create(&m, w[0], 7) != NN_OK)
        goto failed;
    for (i = 1; i < count; i++)
        if (nn_model_add_dense(m, w[i],
                               i + 1 == count ? NN_ACT_SOFTMAX
                                              : NN_ACT_RELU) != NN_OK)
            goto failed;
    if (nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY) != NN_OK)
        goto failed;
    for (p = 0; p <= pairs; p++) { /* pair 0: warm-up at both counts */
        double t[3];
        int k;
        for (k = 0; k < 2; k++) {
            int threads = 1 + ((int)(p & 1) ^ k);
            double t0;
            size_t s;
            if (nn_set_blas_threads((size_t)threads) != NN_OK)
                goto failed;
            t0 = seconds();
            for (s = 0; s < steps; s++)
                if (nn_model_train_batch_labels(m, n, x, w[0], labels,
                                                &loss) != NN_OK)
                    goto failed;
            t[threads] = (seconds() - t0) / (double)steps;
        }
        if (p > 0) {
            t1[p - 1] = t[1];
            t2[p - 1] = t[2];
            ratio[p - 1] = t[2] / t[1];
        }
    }
    qsort(t1, pairs, sizeof *t1, ascending);
    qsort(t2, pairs, sizeof *t2, ascending);
    qsort(ratio, pairs, sizeof *ratio, ascending);
    printf("%s batch %zu, %zu pairs of %zu steps: 1 thread %.1f us, 2 "
           "threads %.1f us per step (medians); 2/1 time median %.3f, "
           "quartiles %.3f-%.3f\n",
           argv[1], n, pairs, steps, t1[pairs / 2] * 1e6,
           t2[pairs / 2] * 1e6, ratio[pairs / 2], ratio[pairs / 4],
           ratio[3 * pairs / 4]);
    nn_model_free(m);
    free(x);
    free(labels);
    free(t1);
    return 0;
failed:
    fprintf(stderr, "bench_threads: %s\n", nn_last_error());
    return 1;
}
