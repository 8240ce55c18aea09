/* SPDX-License-Identifier: MIT */
/*
 * model_read.c - what the ONNX and C source exports read from a model, the
 * same way, through the public getters: the checks before an export and
 * one layer's arrays.
 */
#include "interop.h"

#include <math.h>

size_t nn__ix_max_array(const nn_model *model)
{
    size_t l, n = nn_model_layer_count(model), most = 1;
    for (l = 0; l < n; l++) {
        size_t w = nn_model_layer_weight_count(model, l);
        size_t b = nn_model_layer_bias_count(model, l);
        size_t f = nn_model_layer_buffer_count(model, l);
        if (w > most)
            most = w;
        if (b > most)
            most = b;
        if (f > most)
            most = f;
    }
    return most;
}

nn_status nn__ix_layer_array(const nn_model *model, size_t layer, int which,
                             float *dst, size_t count)
{
    switch (which) {
    case NN__IX_WEIGHTS:
        return nn_model_get_weights(model, layer, dst, count);
    case NN__IX_BIAS:
        return nn_model_get_bias(model, layer, dst, count);
    default:
        return nn_model_get_layer_buffers(model, layer, dst, count);
    }
}

static size_t array_count(const nn_model *model, size_t layer, int which)
{
    switch (which) {
    case NN__IX_WEIGHTS:
        return nn_model_layer_weight_count(model, layer);
    case NN__IX_BIAS:
        return nn_model_layer_bias_count(model, layer);
    default:
        return nn_model_layer_buffer_count(model, layer);
    }
}

/* The layer settings that the exports read, 0-ended: the slope of leaky
 * relu, ELU's alpha, the normalizations' epsilon and momentum. */
static void used_settings(const nn_model *model, size_t l, int kind,
                          nn_layer_param keys[3])
{
    int act = (int)nn_model_layer_activation(model, l), k = 0;
    if (act == NN_ACT_LEAKY_RELU)
        keys[k++] = NN_LAYER_LEAKY_SLOPE;
    if (act == NN_ACT_ELU)
        keys[k++] = NN_LAYER_ELU_ALPHA;
    if (kind == NN_KIND_BATCHNORM)
        keys[k++] = NN_LAYER_MOMENTUM;
    if (kind == NN_KIND_BATCHNORM || kind == NN_KIND_LAYERNORM)
        keys[k++] = NN_LAYER_EPSILON;
    keys[k] = (nn_layer_param)0;
}

double nn__ix_layer_param(const nn_model *model, size_t layer,
                          nn_layer_param key)
{
    double v = 0.0;
    /* nn__ix_check_model has read every setting an export reads. */
    if (nn_model_get_layer_param(model, layer, key, &v) != NN_OK)
        return 0.0;
    return v;
}

nn_status nn__ix_check_model(const char *fn, const nn_model *model)
{
    static const char *const names[3] = {"weight", "bias", "buffer"};
    nn_layer_param keys[4];
    size_t l, n, i, cap;
    float *scratch;
    int which;
    nn_status st = NN_OK;
    if (!model)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    n = nn_model_layer_count(model);
    if (n == 0)
        return nn__fail(NN_E_STATE, "%s: the model has no layers", fn);
    cap = nn__ix_max_array(model);
    if (!nn__mul_size(cap, sizeof(float), &i))
        return nn__fail(NN_E_OVERFLOW, "%s: a layer of %zu floats overflows "
                        "size_t", fn, cap);
    scratch = (float *)nn__malloc(i);
    if (!scratch)
        return nn__fail(NN_E_NOMEM, "%s: allocating %zu bytes failed", fn, i);
    for (l = 0; l < n && st == NN_OK; l++) {
        int kind = (int)nn_model_layer_kind(model, l);
        if (kind < NN_KIND_DENSE || kind > NN_KIND_SCALING) {
            st = nn__fail(NN_E_STATE, "%s: layer %zu is of kind %d, which "
                          "this export does not know", fn, l, kind);
            break;
        }
        used_settings(model, l, kind, keys);
        for (i = 0; keys[i] != 0 && st == NN_OK; i++) {
            double v;
            st = nn_model_get_layer_param(model, l, keys[i], &v);
        }
        if (st != NN_OK)
            break;
        for (which = NN__IX_WEIGHTS; which <= NN__IX_BUFFERS; which++) {
            size_t count = array_count(model, l, which);
            if (count == 0)
                continue;
            st = nn__ix_layer_array(model, l, which, scratch, count);
            if (st != NN_OK)
                break;
            for (i = 0; i < count; i++)
                if (!isfinite(scratch[i])) {
                    st = nn__fail(NN_E_NONFINITE,
                                  "%s: %s %zu of layer %zu is %g; an "
                                  "exported model holds finite values only",
                                  fn, names[which], i, l, (double)scratch[i]);
                    break;
                }
            if (st != NN_OK)
                break;
        }
    }
    nn__free(scratch);
    return st;
}
