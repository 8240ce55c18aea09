/* SPDX-License-Identifier: MIT */
/*
 * ab_steps.c - the alternating blocks of ab_steps.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "ab_steps.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_WIDTHS 17
#define MAX_PAIRS 1000

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

/* A count from 1 to hi, or exit(2) naming what it was for. */
static size_t count(const char *program, const char *s, size_t hi,
                    const char *what)
{
    char *end;
    unsigned long v;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < 1 || v > hi) {
        fprintf(stderr, "%s: %s is a count from 1 to %zu, not '%s'\n",
                program, what, hi, s);
        exit(2);
    }
    return (size_t)v;
}

/* The widths of NET ("784-256-128-10"); their number, or exit(2). A
 * token dR ("784-256-d0.2-128-d0.2-10") is a dropout layer of rate R:
 * its rate in rate[k] and w[k] 0 (dense layers' rate[k] is 0). */
static size_t parse_net(const char *program, const char *net, size_t *w,
                        double *rate)
{
    size_t k = 0;
    char *copy = strdup(net), *tok;
    if (!copy) {
        fprintf(stderr, "%s: out of memory\n", program);
        exit(1);
    }
    for (tok = strtok(copy, "-"); tok; tok = strtok(NULL, "-")) {
        if (k == MAX_WIDTHS) {
            fprintf(stderr, "%s: at most %d widths\n", program, MAX_WIDTHS);
            exit(2);
        }
        rate[k] = 0.0;
        if (tok[0] == 'd' && k > 0) {
            char *end;
            errno = 0;
            rate[k] = strtod(tok + 1, &end);
            if (errno || end == tok + 1 || *end || !(rate[k] > 0.0) ||
                !(rate[k] < 1.0)) {
                fprintf(stderr, "%s: a dropout is dR, R in (0, 1), not "
                                "'%s'\n",
                        program, tok);
                exit(2);
            }
            w[k++] = 0;
            continue;
        }
        w[k++] = count(program, tok, 1u << 16, "a width");
    }
    free(copy);
    if (k >= 2 && w[k - 1] == 0) {
        fprintf(stderr, "%s: NET must end with a width, not a dropout\n",
                program);
        exit(2);
    }
    if (k < 2) {
        fprintf(stderr, "%s: NET is widths joined by '-', such as "
                        "784-256-128-10, with dropout layers as dR (rate "
                        "R) between them\n",
                program);
        exit(2);
    }
    return k;
}

int ab_steps_main(int argc, char **argv, const ab_steps_sides *sides)
{
    const char *program = sides->program;
    size_t w[MAX_WIDTHS], layers, n, steps, pairs, out, i, p;
    double rate[MAX_WIDTHS];
    int predict, side;
    nn_model *m = NULL;
    float *x, *y, *y0;
    int32_t *labels;
    double loss, *t[2], *ratio;
    if (argc < 5 || argc > 6 || (argc == 6 && strcmp(argv[5], "predict"))) {
        fprintf(stderr, "usage: %s NET BATCH STEPS BLOCKS [predict]\n",
                argv[0]);
        return 2;
    }
    layers = parse_net(program, argv[1], w, rate);
    n = count(program, argv[2], 1u << 16, "BATCH");
    steps = count(program, argv[3], 1u << 20, "STEPS");
    pairs = count(program, argv[4], MAX_PAIRS, "BLOCKS");
    predict = argc == 6;
    out = w[layers - 1];
    x = malloc(n * w[0] * sizeof *x);
    y = malloc(n * out * sizeof *y);
    y0 = malloc(n * out * sizeof *y0);
    labels = malloc(n * sizeof *labels);
    t[0] = malloc(3 * pairs * sizeof *t[0]);
    if (!x || !y || !y0 || !labels || !t[0]) {
        fprintf(stderr, "%s: out of memory\n", program);
        return 1;
    }
    t[1] = t[0] + pairs;
    ratio = t[1] + pairs;
    for (i = 0; i < n * w[0]; i++)
        x[i] = (float)(i * 7 % 13) / 13.0f - 0.5f;
    for (i = 0; i < n; i++)
        labels[i] = (int32_t)(i % out);
    if (nn_model_create(&m, w[0], 1) != NN_OK)
        goto failed;
    for (i = 1; i < layers; i++)
        if ((w[i] ? nn_model_add_dense(m, w[i],
                                       i + 1 == layers ? NN_ACT_SOFTMAX
                                                       : NN_ACT_RELU)
                  : nn_model_add_dropout(m, rate[i])) != NN_OK)
            goto failed;
    if (nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY) != NN_OK)
        goto failed;
    /* the two settings agree, to float rounding (they may sum in other
     * blocks), on the predictions of the same weights */
    for (side = 0; side < 2; side++)
        if (sides->side(m, side) != 0 ||
            nn_model_predict(m, n, x, w[0], side ? y : y0, out) != NN_OK)
            goto failed;
    for (i = 0; i < n * out; i++)
        if (!(fabsf(y[i] - y0[i]) <= 1e-4f * (1.0f + fabsf(y0[i])))) {
            fprintf(stderr, "%s: the predictions of %s and %s differ (%g "
                            "against %g)\n",
                    program, sides->names[1], sides->names[0],
                    (double)y[i], (double)y0[i]);
            return 1;
        }
    for (p = 0; p <= pairs; p++) { /* pair 0: warm-up, A then B */
        double pair[2];
        int k;
        for (k = 0; k < 2; k++) {
            double t0;
            size_t s;
            side = (int)(p & 1) ^ k; /* A B, then B A, ... */
            if (sides->side(m, side) != 0)
                goto failed;
            t0 = seconds();
            for (s = 0; s < steps; s++)
                if ((predict ? nn_model_predict(m, n, x, w[0], y, out)
                             : nn_model_train_batch_labels(
                                   m, n, x, w[0], labels, &loss)) != NN_OK)
                    goto failed;
            pair[side] = (seconds() - t0) / (double)steps;
        }
        if (p > 0) {
            t[0][p - 1] = pair[0];
            t[1][p - 1] = pair[1];
            ratio[p - 1] = pair[1] / pair[0];
        }
    }
    for (side = 0; side < 2; side++)
        qsort(t[side], pairs, sizeof *t[side], ascending);
    qsort(ratio, pairs, sizeof *ratio, ascending);
    printf("%s %s batch %zu, %zu x %zu per side: A (%s) median %.6g us "
           "(best %.6g), B (%s) median %.6g us (best %.6g); B/A median "
           "%.3f, quartiles %.3f-%.3f\n",
           argv[1], predict ? "predict" : "train", n, pairs, steps,
           sides->names[0], t[0][pairs / 2] * 1e6, t[0][0] * 1e6,
           sides->names[1], t[1][pairs / 2] * 1e6, t[1][0] * 1e6,
           ratio[pairs / 2], ratio[pairs / 4], ratio[3 * pairs / 4]);
    nn_model_free(m);
    free(x);
    free(y);
    free(y0);
    free(labels);
    free(t[0]);
    return 0;
failed:
    fprintf(stderr, "%s: %s\n", program, nn_last_error());
    nn_model_free(m);
    return 1;
}
