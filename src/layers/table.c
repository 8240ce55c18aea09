/* SPDX-License-Identifier: MIT */
/*
 * table.c - the kinds of layer libnn knows: one row per nn_layer_kind,
 * pointing at the table of operations its file in this folder fills.
 */
#include "layers.h"

const nn__layer_ops *nn__layer_kind(int kind)
{
    static const nn__layer_ops *const kinds[] = {
        NULL,                   /* 0: not a kind */
        &nn__dense_ops,         /* NN_KIND_DENSE */
        &nn__dropout_ops,       /* NN_KIND_DROPOUT */
        &nn__batchnorm_ops,     /* NN_KIND_BATCHNORM */
        &nn__layernorm_ops,     /* NN_KIND_LAYERNORM */
        &nn__activation_ops,    /* NN_KIND_ACTIVATION */
        &nn__scaling_ops,       /* NN_KIND_SCALING */
    };
    if (kind < 1 || (size_t)kind >= sizeof kinds / sizeof kinds[0])
        return NULL;
    return kinds[kind];
}
