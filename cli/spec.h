/* SPDX-License-Identifier: MIT */
/*
 * spec.h - the --layers specification of nn train: layers separated by
 * commas, each one of
 *
 *   WIDTH[:ACTIVATION]   a dense layer (identity when no activation)
 *   dropout:RATE         inverted dropout
 *   batchnorm            batch normalization
 *   layernorm            layer normalization
 *   ACTIVATION           an activation layer on its own
 *
 * followed by any number of :KEY=VALUE layer settings (nn_layer_param
 * names: leaky_slope, elu_alpha, init, dropout_rate, momentum, epsilon;
 * init takes an nn_init name). Names are libnn's own (nn_activation_name
 * and friends), so every activation and setting the library has can be
 * named. Example: 256:relu:init=he_normal,dropout:0.2,128:gelu,10:softmax
 */
#ifndef CLI_SPEC_H
#define CLI_SPEC_H

#include <stddef.h>

#include "err.h"
#include "nn.h"

#define CLI_LAYER_SETTINGS 8

typedef struct cli_layer {
    nn_layer_kind kind;
    size_t width;          /* dense */
    nn_activation act;     /* dense, activation */
    double rate;           /* dropout */
    size_t n_set;
    nn_layer_param key[CLI_LAYER_SETTINGS];
    double value[CLI_LAYER_SETTINGS];
} cli_layer;

/* Parses spec into a new array *out of *n layers (cli_free it). */
cli_status cli_spec_parse(const char *spec, cli_layer **out, size_t *n,
                          cli_err *e);

/* Adds the layers to the model, with their settings. */
cli_status cli_spec_apply(nn_model *m, const cli_layer *l, size_t n,
                          cli_err *e);

/* The width of the last layer's output, given the input width, and the
 * activation applied last (identity if none). */
size_t cli_spec_output_width(const cli_layer *l, size_t n, size_t input);
nn_activation cli_spec_output_act(const cli_layer *l, size_t n);

#endif /* CLI_SPEC_H */
