/* SPDX-License-Identifier: MIT */
/*
 * bench_split.c - whether libnn would gain by running its own two threads,
 * each calling single-threaded OpenBLAS on its half of every product,
 * instead of letting OpenBLAS split each product over its two threads.
 *
 * With its own threads, libnn could give each thread the same columns of
 * every block for the whole step, so that its bias, activation and check
 * passes would run in parallel on data the same core wrote. That only pays
 * if the products themselves stay as fast. This program times the products
 * of one plain-SGD training step (the sequence of bench_train's ceiling:
 * X.W forward with beta 0, G.Wᵀ back, W += -lr Aᵀ.G) both ways, in
 * interleaved blocks:
 *   openblas-2t  each product by OpenBLAS at 2 threads;
 *   split-2x1t   OpenBLAS at 1 thread, two threads of this program each
 *                computing half the columns of every product's result
 *                (an output narrower than 64 goes whole to one thread),
 *                with a barrier wherever a product reads the previous one.
 * Nothing but the products runs in either, so the ratio is the most the
 * split could keep of OpenBLAS's own threading. --threads 1 times the split
 * alone and --threads 2 OpenBLAS alone, each in a process of its own.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"
#include "bench_nets.h"
#include "nn.h"
#include "nn_internal.h" /* nn__gemm */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LR 1e-3f

typedef struct split_ctx {
    const bench_net *net;
    size_t n, L;
    float *a[BENCH_MAX_LAYERS + 1]; /* a[0] = x; a[l + 1]: layer l's output */
    float *d[BENCH_MAX_LAYERS];     /* d[l]: layer l's delta */
    float *w[BENCH_MAX_LAYERS];
    pthread_barrier_t bar;
    pthread_t worker;
    int quit;
} split_ctx;

/* Columns [c0, c1) of an output `width` wide for thread `part` of `parts`. */
static int columns(size_t width, int part, int parts, size_t *c0, size_t *c1)
{
    if (width < 64) { /* narrow: thread 0 takes it whole */
        *c0 = 0;
        *c1 = width;
        return part == 0;
    }
    *c0 = width * (size_t)part / (size_t)parts;
    *c1 = width * (size_t)(part + 1) / (size_t)parts;
    return 1;
}

/* Thread `part` of `parts`'s share of one step's products; with parts > 1,
 * a barrier after each product that the next one reads. */
static void step_part(split_ctx *c, int part, int parts)
{
    const size_t *wd = c->net->widths;
    size_t l, n = c->n, c0, c1;
    for (l = 0; l < c->L; l++) { /* a[l+1] = a[l] . W_l */
        if (columns(wd[l + 1], part, parts, &c0, &c1))
            nn__gemm(0, 0, n, c1 - c0, wd[l], 1.0f, c->a[l], wd[l],
                     c->w[l] + c0, wd[l + 1], 0.0f, c->a[l + 1] + c0,
                     wd[l + 1]);
        if (parts > 1)
            pthread_barrier_wait(&c->bar);
    }
    for (l = c->L - 1; l > 0; l--) { /* d[l-1] = d[l] . W_lᵀ */
        if (columns(wd[l], part, parts, &c0, &c1))
            nn__gemm(0, 1, n, c1 - c0, wd[l + 1], 1.0f, c->d[l], wd[l + 1],
                     c->w[l] + c0 * wd[l + 1], wd[l + 1], 0.0f,
                     c->d[l - 1] + c0, wd[l]);
        if (parts > 1)
            pthread_barrier_wait(&c->bar);
    }
    for (l = 0; l < c->L; l++) /* W_l += -lr a[l]ᵀ . d[l] */
        if (columns(wd[l + 1], part, parts, &c0, &c1))
            nn__gemm(1, 0, wd[l], c1 - c0, n, -LR, c->a[l], wd[l],
                     c->d[l] + c0, wd[l + 1], 1.0f, c->w[l] + c0, wd[l + 1]);
    if (parts > 1)
        pthread_barrier_wait(&c->bar);
}

static void *worker_main(void *v)
{
    split_ctx *c = (split_ctx *)v;
    for (;;) {
        pthread_barrier_wait(&c->bar); /* a step starts, or quit */
        if (c->quit)
            return NULL;
        step_part(c, 1, 2);
    }
}

static void set_threads(size_t t)
{
    if (nn_set_blas_threads(t) != NN_OK) {
        fprintf(stderr, "bench_split: %s\n", nn_last_error());
        exit(1);
    }
}

static void whole_step(void *v)
{
    split_ctx *c = (split_ctx *)v;
    set_threads(2);
    step_part(c, 0, 1);
}

static void split_step(void *v)
{
    split_ctx *c = (split_ctx *)v;
    set_threads(1);
    pthread_barrier_wait(&c->bar);
    step_part(c, 0, 2);
}

static void run_net(const bench_opts *o, const bench_net *net, size_t n)
{
    split_ctx c;
    bench_stat s2, s11;
    size_t l;
    uint64_t seed = 3;
    memset(&c, 0, sizeof c);
    c.net = net;
    c.n = n;
    c.L = net->n_layers;
    for (l = 0; l <= c.L; l++) {
        c.a[l] = (float *)bench_xmalloc(n * net->widths[l] * sizeof(float));
        bench_fill(c.a[l], n * net->widths[l], 0.0f, 1.0f, &seed);
    }
    for (l = 0; l < c.L; l++) {
        size_t count = net->widths[l] * net->widths[l + 1];
        c.d[l] = (float *)bench_xmalloc(n * net->widths[l + 1] *
                                         sizeof(float));
        bench_fill(c.d[l], n * net->widths[l + 1], -0.01f, 0.01f, &seed);
        c.w[l] = (float *)bench_xmalloc(count * sizeof(float));
        bench_fill(c.w[l], count, -0.05f, 0.05f, &seed);
    }
    if (pthread_barrier_init(&c.bar, NULL, 2) != 0 ||
        pthread_create(&c.worker, NULL, worker_main, &c) != 0) {
        fprintf(stderr, "bench_split: cannot start a thread\n");
        exit(1);
    }
    /* --threads 1: the split alone, in a process where OpenBLAS never
     * ran at 2 threads (its worker, spinning for a while after each
     * threaded call, then competes with neither); --threads 2: OpenBLAS
     * alone; otherwise both, interleaved */
    if (o->threads[0] == 1 && o->threads[1] == 0) {
        s11 = bench_time(split_step, &c, o->min_block, o->reps, 0.0);
        s2 = s11;
        s2.median = 0.0;
    } else if (o->threads[0] == 2 && o->threads[1] == 0) {
        s2 = bench_time(whole_step, &c, o->min_block, o->reps, 0.0);
        s11 = s2;
        s11.median = 0.0;
    } else {
        bench_time_pair(whole_step, &c, split_step, &c, o->min_block,
                        o->reps, &s2, &s11);
    }
    c.quit = 1;
    pthread_barrier_wait(&c.bar);
    pthread_join(c.worker, NULL);
    pthread_barrier_destroy(&c.bar);
    printf("%-18s %5zu | %12.1f %12.1f | %8.3f\n", net->name, n,
           s2.median * 1e6, s11.median * 1e6,
           s2.median > 0.0 && s11.median > 0.0 ? s2.median / s11.median
                                                 : 0.0);
    for (l = 0; l <= c.L; l++)
        free(c.a[l]);
    for (l = 0; l < c.L; l++) {
        free(c.d[l]);
        free(c.w[l]);
    }
}

int main(int argc, char **argv)
{
    bench_opts o;
    size_t k;
    if (bench_parse(argc, argv, &o,
                    "[--only NAME] [--reps R] [--threads 1 | 2]"))
        return 1;
    bench_print_header("bench_split", NULL);
    bench_spin(0.5);
    printf("one plain-SGD step's products, us per step (medians of %d "
           "interleaved blocks)\n", o.reps);
    printf("%-18s %5s | %12s %12s | %8s\n", "net", "batch", "openblas-2t",
           "split-2x1t", "2t/split");
    for (k = 0; k < bench_net_count; k++) {
        const bench_net *net = &bench_nets[k];
        if (o.only ? !strstr(net->name, o.only)
                   : strcmp(net->name, "784-1024-1024-10") != 0 &&
                         strcmp(net->name, "4096-4096-4096") != 0)
            continue;
        run_net(&o, net, 256);
    }
    set_threads(0);
    return 0;
}
