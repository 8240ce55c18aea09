/* SPDX-License-Identifier: MIT */
/*
 * bench_nets.c - the networks of issue 7 and their operation counts.
 */
#include "bench_nets.h"

#include "nn.h"

const bench_net bench_nets[] = {
    {"2-2-1", {2, 2, 1, 0}, 2, NN_ACT_SIGMOID, NN_ACT_SIGMOID, NN_LOSS_MSE, 0,
     {1, 32, 0, 0}, "sigmoid hidden, sigmoid output, MSE"},
    {"3-4-1", {3, 4, 1, 0}, 2, NN_ACT_SIGMOID, NN_ACT_SIGMOID, NN_LOSS_MSE, 0,
     {4, 0, 0, 0}, "sigmoid hidden, sigmoid output, MSE"},
    {"784-256-128-10", {784, 256, 128, 10}, 3, NN_ACT_RELU, NN_ACT_SOFTMAX,
     NN_LOSS_CROSS_ENTROPY, 1, {1, 32, 128, 512},
     "relu hidden, softmax output, cross-entropy on class labels"},
    {"784-1024-1024-10", {784, 1024, 1024, 10}, 3, NN_ACT_RELU,
     NN_ACT_SOFTMAX, NN_LOSS_CROSS_ENTROPY, 1, {256, 0, 0, 0},
     "relu hidden, softmax output, cross-entropy on class labels"},
    {"4096-4096-4096", {4096, 4096, 4096, 0}, 2, NN_ACT_RELU,
     NN_ACT_IDENTITY, NN_LOSS_MSE, 0, {256, 0, 0, 0},
     "relu hidden, identity output, MSE on 4096 targets"},
};

const size_t bench_net_count = sizeof bench_nets / sizeof bench_nets[0];

double bench_net_macs(const bench_net *net)
{
    size_t l;
    double macs = 0.0;
    for (l = 0; l < net->n_layers; l++)
        macs += (double)net->widths[l] * (double)net->widths[l + 1];
    return macs;
}

double bench_net_step_flops(const bench_net *net, size_t n)
{
    size_t l;
    double flops = 0.0;
    for (l = 0; l < net->n_layers; l++) {
        double p = 2.0 * (double)n * (double)net->widths[l] *
                   (double)net->widths[l + 1];
        flops += l ? 3.0 * p : 2.0 * p;
    }
    return flops;
}
