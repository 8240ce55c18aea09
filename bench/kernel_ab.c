/* SPDX-License-Identifier: MIT */
/*
 * kernel_ab.c - two versions of libnn's AVX-512 kernel (gemm_avx512.c) in
 * one process, compared on whole training steps or predictions of a dense
 * net through the public API. Built by bench/kernel_ab.sh, which compiles
 * each version with its functions renamed (A_gemm, B_gemm, ...) and links
 * this file's nn__kernel_* in their place.
 *
 * Why: the machines this runs on swing by 10-30% from one second to the
 * next, so two processes run one after the other measure the machine as
 * much as the change. Here the two versions alternate block by block (A B,
 * then B A) on the same model, data and workspace, and the ratio of each
 * pair of neighbouring blocks is what is summarised.
 *
 *   kernel_ab NET BATCH STEPS BLOCKS [predict]
 *
 * NET is a dense net such as 784-1024-1024-10 (relu hidden layers, softmax
 * and cross-entropy at the output, plain SGD), BATCH its rows per step,
 * STEPS the steps (or predictions) per timed block, BLOCKS the pairs of
 * blocks. Prints the median and best time per step of each version and the
 * median B/A ratio of the pairs with its quartiles.
 */
#define _POSIX_C_SOURCE 200809L
#include "nn_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the two versions, and which one runs ---- */

#define NN__AB_DECLARE(P)                                                    \
    int P##_on(void);                                                        \
    int P##_force(int on);                                                   \
    size_t P##_pf(size_t K, size_t N);                                       \
    void P##_pack(int trans_b, size_t K, size_t N, const float *B,           \
                  size_t ldb, float *dst);                                   \
    void P##_gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K,    \
                  float alpha, const float *A, size_t lda, const float *B,   \
                  size_t ldb, int b_form, float *buf, float beta, float *C,  \
                  size_t ldc, const float *bias, int act, float slope);
NN__AB_DECLARE(A)
NN__AB_DECLARE(B)

static int use_b; /* 0: version A runs, 1: version B */

int nn__kernel_on(void)
{
    return A_on() && B_on();
}

int nn__kernel_force(int on)
{
    int b = B_force(on);
    return A_force(on) && b;
}

/* Weights packed for inference by one version are dropped (nn__pack_drop)
 * before the other runs: the versions may lay them out differently. */
size_t nn__kernel_packed_floats(size_t K, size_t N)
{
    return A_pf(K, N);
}

void nn__kernel_pack(int trans_b, size_t K, size_t N, const float *B,
                     size_t ldb, float *dst)
{
    (use_b ? B_pack : A_pack)(trans_b, K, N, B, ldb, dst);
}

void nn__kernel_gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                     float alpha, const float *A, size_t lda, const float *B,
                     size_t ldb, int b_form, float *buf, float beta, float *C,
                     size_t ldc, const float *bias, int act, float slope)
{
    (use_b ? B_gemm : A_gemm)(trans_a, trans_b, M, N, K, alpha, A, lda, B,
                              ldb, b_form, buf, beta, C, ldc, bias, act,
                              slope);
}

/* ---- the driver ---- */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static long count(const char *s, long lo, long hi, const char *what)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "kernel_ab: %s is a whole number from %ld to %ld, "
                        "not '%s'\n",
                what, lo, hi, s);
        exit(2);
    }
    return v;
}

#define MAX_LAYERS 16
#define MAX_BLOCKS 1000

int main(int argc, char **argv)
{
    size_t widths[MAX_LAYERS + 1], n, i;
    int layers = 0, predict, steps, blocks, b, side, s;
    char *net, *tok;
    nn_model *m = NULL;
    float *x, *y, *y0;
    int32_t *labels;
    double loss, *ta, *tb, *ratio;
    if (argc < 5 || argc > 6 || (argc == 6 && strcmp(argv[5], "predict"))) {
        fprintf(stderr, "usage: %s NET BATCH STEPS BLOCKS [predict]\n",
                argv[0]);
        return 2;
    }
    net = strdup(argv[1]);
    for (tok = net ? strtok(net, "-") : NULL; tok; tok = strtok(NULL, "-")) {
        if (layers > MAX_LAYERS) {
            fprintf(stderr, "kernel_ab: at most %d layers\n", MAX_LAYERS);
            return 2;
        }
        widths[layers++] = (size_t)count(tok, 1, 1 << 16, "a width");
    }
    free(net);
    if (layers < 2) {
        fprintf(stderr, "kernel_ab: NET is widths joined by '-', such as "
                        "784-256-128-10\n");
        return 2;
    }
    n = (size_t)count(argv[2], 1, 1 << 16, "BATCH");
    steps = (int)count(argv[3], 1, 1 << 20, "STEPS");
    blocks = (int)count(argv[4], 1, MAX_BLOCKS, "BLOCKS");
    predict = argc == 6;
    if (!nn__kernel_on()) {
        fprintf(stderr, "kernel_ab: the CPU has no AVX-512F: no kernel to "
                        "compare\n");
        return 1;
    }
    x = malloc(n * widths[0] * sizeof *x);
    y = malloc(n * widths[layers - 1] * sizeof *y);
    y0 = malloc(n * widths[layers - 1] * sizeof *y0);
    labels = malloc(n * sizeof *labels);
    ta = malloc(3 * (size_t)blocks * sizeof *ta);
    if (!x || !y || !y0 || !labels || !ta) {
        fprintf(stderr, "kernel_ab: out of memory\n");
        return 1;
    }
    tb = ta + blocks;
    ratio = tb + blocks;
    for (i = 0; i < n * widths[0]; i++)
        x[i] = (float)(i * 7 % 13) / 13.0f - 0.5f;
    for (i = 0; i < n; i++)
        labels[i] = (int32_t)(i % widths[layers - 1]);
    if (nn_model_create(&m, widths[0], 1) != NN_OK)
        goto failed;
    for (s = 1; s < layers; s++)
        if (nn_model_add_dense(m, widths[s],
                               s == layers - 1 ? NN_ACT_SOFTMAX
                                               : NN_ACT_RELU) != NN_OK)
            goto failed;
    if (nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY) != NN_OK ||
        nn_set_blas_threads(1) != NN_OK)
        goto failed;
    /* the two versions agree, to float rounding (they may sum in other
     * blocks), on the predictions of the same weights */
    for (side = 0; side < 2; side++) {
        use_b = side;
        nn__pack_drop(m);
        if (nn_model_predict(m, n, x, widths[0], side ? y : y0,
                             widths[layers - 1]) != NN_OK)
            goto failed;
    }
    for (i = 0; i < n * widths[layers - 1]; i++)
        if (!(fabsf(y[i] - y0[i]) <= 1e-4f * (1.0f + fabsf(y0[i])))) {
            fprintf(stderr, "kernel_ab: the versions' predictions differ "
                            "(%g against %g)\n",
                    (double)y[i], (double)y0[i]);
            return 1;
        }
    for (b = -1; b < blocks; b++) { /* block -1: warm-up, A then B */
        double t[2];
        for (side = 0; side < 2; side++) {
            double t0;
            use_b = b & 1 ? 1 - side : side;
            nn__pack_drop(m); /* the next prediction packs them again */
            t0 = now();
            for (s = 0; s < steps; s++) {
                nn_status st =
                    predict ? nn_model_predict(m, n, x, widths[0], y,
                                               widths[layers - 1])
                            : nn_model_train_batch_labels(
                                  m, n, x, widths[0], labels, &loss);
                if (st != NN_OK)
                    goto failed;
            }
            t[use_b] = (now() - t0) / steps;
        }
        if (b >= 0) {
            ta[b] = t[0];
            tb[b] = t[1];
            ratio[b] = t[1] / t[0];
        }
    }
    qsort(ta, (size_t)blocks, sizeof *ta, by_value);
    qsort(tb, (size_t)blocks, sizeof *tb, by_value);
    qsort(ratio, (size_t)blocks, sizeof *ratio, by_value);
    printf("%s %s batch %zu, %d x %d per version: A median %.1f us (best "
           "%.1f), B median %.1f us (best %.1f); B/A median %.3f, quartiles "
           "%.3f-%.3f\n",
           argv[1], predict ? "predict" : "train", n, blocks, steps,
           ta[blocks / 2] * 1e6, ta[0] * 1e6, tb[blocks / 2] * 1e6,
           tb[0] * 1e6, ratio[blocks / 2], ratio[blocks / 4],
           ratio[3 * blocks / 4]);
    nn_model_free(m);
    free(x);
    free(y);
    free(y0);
    free(labels);
    free(ta);
    return 0;
failed:
    fprintf(stderr, "kernel_ab: %s\n", nn_last_error());
    return 1;
}
