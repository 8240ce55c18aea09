/* SPDX-License-Identifier: MIT */
/*
 * models.h - the models that tests/onnx exports and imports: between them
 * every layer kind and every activation, with weights, biases, statistics
 * and settings away from their defaults, built through the public API
 * only. Shared by test_onnx.c (round trips) and export_cases.c (the files
 * ONNX Runtime, onnx.checker and the C compilers check).
 */
#ifndef NN_ONNX_TEST_MODELS_H
#define NN_ONNX_TEST_MODELS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn.h"

typedef struct test_case {
    const char *name;
    float scale;         /* inputs are drawn from [-scale, scale) */
} test_case;

static const test_case test_cases[] = {
    {"dense-activations", 2.0f},
    {"every-kind", 2.0f},
    {"batchnorm-first", 3.0f},
    {"xor", 1.0f},
    {"wide", 1.0f},
    {"softplus-threshold", 40.0f},
    {"only-dropout", 1.0f},
};
#define TEST_CASES (sizeof test_cases / sizeof test_cases[0])

/* Deterministic values in [lo, hi) (a linear congruential generator). */
static inline void tm_fill(float *v, size_t n, float lo, float hi,
                           uint32_t seed)
{
    size_t i;
    for (i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = lo + (hi - lo) * (float)(seed >> 8) / 16777216.0f;
    }
}

/* Sets the bias of the last layer to values away from 0, and for
 * normalizations gamma and beta too. */
static inline int tm_perturb_last(nn_model *m, uint32_t seed)
{
    size_t l = nn_model_layer_count(m) - 1;
    size_t nw = nn_model_layer_weight_count(m, l);
    size_t nb = nn_model_layer_bias_count(m, l);
    float *v = (float *)malloc((nw + nb + 1) * sizeof(float));
    int ok = v != NULL;
    if (ok && nn_model_layer_kind(m, l) != NN_KIND_DENSE && nw > 0) {
        tm_fill(v, nw, 0.5f, 1.5f, seed);
        ok = nn_model_set_weights(m, l, v, nw) == NN_OK;
    }
    if (ok && nb > 0) {
        tm_fill(v, nb, -0.5f, 0.5f, seed + 1);
        ok = nn_model_set_bias(m, l, v, nb) == NN_OK;
    }
    free(v);
    return ok;
}

static inline int tm_dense(nn_model *m, size_t width, nn_activation act,
                           uint32_t seed)
{
    return nn_model_add_dense(m, width, act) == NN_OK &&
           tm_perturb_last(m, seed);
}

static inline int tm_batchnorm(nn_model *m, uint32_t seed)
{
    size_t l, w;
    float stats[2 * 64];
    if (nn_model_add_batchnorm(m) != NN_OK || !tm_perturb_last(m, seed))
        return 0;
    l = nn_model_layer_count(m) - 1;
    w = nn_model_layer_width(m, l);
    if (w > 64)
        return 0;
    tm_fill(stats, w, -1.0f, 1.0f, seed + 2);
    tm_fill(stats + w, w, 0.5f, 2.0f, seed + 3);
    return nn_model_set_layer_buffers(m, l, stats, 2 * w) == NN_OK &&
           nn_model_set_layer_param(m, l, NN_LAYER_EPSILON, 1e-3) == NN_OK &&
           nn_model_set_layer_param(m, l, NN_LAYER_MOMENTUM, 0.3) == NN_OK;
}

static inline int tm_layernorm(nn_model *m, uint32_t seed)
{
    size_t l;
    if (nn_model_add_layernorm(m) != NN_OK || !tm_perturb_last(m, seed))
        return 0;
    l = nn_model_layer_count(m) - 1;
    return nn_model_set_layer_param(m, l, NN_LAYER_EPSILON, 1e-4) == NN_OK;
}

static inline int tm_param(nn_model *m, nn_layer_param key, double v)
{
    return nn_model_set_layer_param(m, nn_model_layer_count(m) - 1, key,
                                    v) == NN_OK;
}

/* Builds test case k (its name is test_cases[k].name); NULL on failure,
 * with nn_last_error() saying why. */
static inline nn_model *tm_build(size_t k)
{
    nn_model *m = NULL;
    int ok = 1;
    switch (k) {
    case 0: /* every activation on dense layers */
        ok = nn_model_create(&m, 5, 11) == NN_OK &&
             tm_dense(m, 7, NN_ACT_IDENTITY, 1) &&
             tm_dense(m, 7, NN_ACT_SIGMOID, 2) &&
             tm_dense(m, 6, NN_ACT_TANH, 3) &&
             tm_dense(m, 6, NN_ACT_RELU, 4) &&
             tm_dense(m, 6, NN_ACT_LEAKY_RELU, 5) &&
             tm_param(m, NN_LAYER_LEAKY_SLOPE, 0.05) &&
             tm_dense(m, 6, NN_ACT_GELU, 6) &&
             tm_dense(m, 6, NN_ACT_SILU, 7) &&
             tm_dense(m, 6, NN_ACT_SOFTPLUS, 8) &&
             tm_dense(m, 6, NN_ACT_ELU, 9) &&
             tm_param(m, NN_LAYER_ELU_ALPHA, 0.8) &&
             tm_dense(m, 4, NN_ACT_SOFTMAX, 10);
        break;
    case 1: { /* every kind, and every activation as a layer of its own */
        float scale[6], shift[6];
        tm_fill(scale, 6, 0.5f, 2.0f, 21);
        tm_fill(shift, 6, -1.0f, 1.0f, 22);
        ok = nn_model_create(&m, 6, 12) == NN_OK &&
             nn_model_add_scaling(m, scale, shift, 6) == NN_OK &&
             tm_dense(m, 8, NN_ACT_IDENTITY, 23) &&
             tm_batchnorm(m, 24) &&
             nn_model_add_activation(m, NN_ACT_RELU) == NN_OK &&
             nn_model_add_dropout(m, 0.2) == NN_OK &&
             tm_dense(m, 8, NN_ACT_IDENTITY, 25) &&
             tm_layernorm(m, 26) &&
             nn_model_add_activation(m, NN_ACT_GELU) == NN_OK &&
             nn_model_add_activation(m, NN_ACT_SILU) == NN_OK &&
             nn_model_add_activation(m, NN_ACT_SOFTPLUS) == NN_OK &&
             nn_model_add_activation(m, NN_ACT_ELU) == NN_OK &&
             tm_param(m, NN_LAYER_ELU_ALPHA, 1.5) &&
             nn_model_add_activation(m, NN_ACT_LEAKY_RELU) == NN_OK &&
             tm_param(m, NN_LAYER_LEAKY_SLOPE, 0.1) &&
             nn_model_add_activation(m, NN_ACT_SIGMOID) == NN_OK &&
             nn_model_add_activation(m, NN_ACT_TANH) == NN_OK &&
             nn_model_add_activation(m, NN_ACT_IDENTITY) == NN_OK &&
             tm_dense(m, 3, NN_ACT_IDENTITY, 27) &&
             nn_model_add_activation(m, NN_ACT_SOFTMAX) == NN_OK;
        break;
    }
    case 2: /* normalization on the input, dropout last */
        ok = nn_model_create(&m, 4, 13) == NN_OK && tm_batchnorm(m, 31) &&
             tm_dense(m, 5, NN_ACT_TANH, 32) && tm_layernorm(m, 33) &&
             tm_dense(m, 2, NN_ACT_IDENTITY, 34) &&
             nn_model_add_dropout(m, 0.5) == NN_OK;
        break;
    case 3:
        ok = nn_model_create(&m, 2, 14) == NN_OK &&
             tm_dense(m, 3, NN_ACT_TANH, 41) &&
             tm_dense(m, 1, NN_ACT_SIGMOID, 42);
        break;
    case 4: /* long sums */
        ok = nn_model_create(&m, 64, 15) == NN_OK &&
             tm_dense(m, 128, NN_ACT_RELU, 51) &&
             tm_dense(m, 10, NN_ACT_SOFTMAX, 52);
        break;
    case 5: /* softplus on both sides of its threshold of 20 */
        ok = nn_model_create(&m, 3, 16) == NN_OK &&
             nn_model_add_activation(m, NN_ACT_SOFTPLUS) == NN_OK &&
             tm_dense(m, 3, NN_ACT_SOFTPLUS, 61);
        break;
    case 6: /* nothing computed in inference mode */
        ok = nn_model_create(&m, 3, 17) == NN_OK &&
             nn_model_add_dropout(m, 0.3) == NN_OK;
        break;
    default:
        ok = 0;
    }
    if (!ok) {
        nn_model_free(m);
        return NULL;
    }
    return m;
}

/* n rows for test case k. */
static inline void tm_rows(size_t k, float *x, size_t n, size_t width)
{
    float s = test_cases[k].scale;
    tm_fill(x, n * width, -s, s, (uint32_t)(1000 + k));
}

#endif /* NN_ONNX_TEST_MODELS_H */
