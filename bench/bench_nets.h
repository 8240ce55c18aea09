/* SPDX-License-Identifier: MIT */
/*
 * bench_nets.h - the networks of issue 7, shared by bench_gemm (their layer
 * products) and bench_train (their training steps).
 */
#ifndef NN_BENCH_NETS_H
#define NN_BENCH_NETS_H

#include <stddef.h>

#define BENCH_MAX_LAYERS 3
#define BENCH_MAX_BATCHES 4

typedef struct bench_net {
    const char *name;                   /* "784-256-128-10" */
    size_t widths[BENCH_MAX_LAYERS + 1]; /* input width, then each layer's */
    size_t n_layers;
    int hidden_act, out_act, loss;      /* nn_activation, nn_loss values */
    int labels;                         /* 1: class labels, 0: targets */
    size_t batches[BENCH_MAX_BATCHES];  /* 0 ends the list */
    const char *what;                   /* one line for the table */
} bench_net;

extern const bench_net bench_nets[];
extern const size_t bench_net_count;

/* Multiply-adds of one sample through the forward pass. */
double bench_net_macs(const bench_net *net);
/* Floating-point operations of the matrix products of one training step of
 * n rows: forward X.W, backward A^T.G and G.W^T (none for the first layer),
 * 2 flops per multiply-add. */
double bench_net_step_flops(const bench_net *net, size_t n);

#endif /* NN_BENCH_NETS_H */
