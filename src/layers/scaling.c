/* SPDX-License-Identifier: MIT */
/*
 * scaling.c - a fixed per-feature scaling, y = x scale + shift, for
 * inputs standardised with statistics of the training data. scale and
 * shift are the layer's buffers: kept in the model and its files, never
 * changed by training. The smallest kind, and the pattern for a new one
 * (README in this folder).
 */
#include "layers.h"

static void scaling_shape(nn__layer *L)
{
    L->out = L->in;
    L->w_count = L->b_count = 0;
    L->buf_count = 2 * L->in; /* scale, shift */
}

static void scaling_init(nn_model *m, nn__layer *L)
{
    size_t j;
    float *s = m->buffers + L->buf_off;
    for (j = 0; j < L->out; j++) {
        s[j] = 1.0f;
        s[L->out + j] = 0.0f;
    }
}

/* y = x scale + shift over n rows of k, and the largest nn__abs_bits of
 * y. Per row, so that the row loop vectorises as a reduction: without the
 * clones GCC's baseline SSE2 has no unsigned maximum, and the compare and
 * select it builds instead chained the loop at four floats a step (the
 * main job's scaling pass took 2% of its time on Zen 3). */
NN__WIDE_CLONES
static uint32_t scale_rows(const float *restrict s, size_t k,
                           const float *restrict x, float *restrict y,
                           size_t n)
{
    uint32_t top = 0;
    size_t i, j;
    for (i = 0; i < n; i++) {
        const float *restrict r = x + i * k;
        float *restrict o = y + i * k;
        uint32_t rtop = 0;
        for (j = 0; j < k; j++) {
            const float v = r[j] * s[j] + s[k + j];
            const uint32_t u = nn__abs_bits(v);
            o[j] = v;
            rtop = u > rtop ? u : rtop;
        }
        top = rtop > top ? rtop : top;
    }
    return top;
}

static void scaling_forward_train(nn_model *m, size_t l, const float *x,
                                  size_t n)
{
    const nn__layer *L = &m->layers[l];
    m->act_top[l] = scale_rows(m->buffers + L->buf_off, L->out, x, m->act[l],
                               n);
    m->logits = m->act[l];
}

static const float *scaling_forward_infer(const nn_model *m,
                                          const nn__layer *L,
                                          const nn__infer *a)
{
    (void)scale_rows(m->buffers + L->buf_off, L->out, a->x, a->y, a->k);
    return a->y;
}

static void scaling_backward(nn_model *m, size_t l, const float *x, size_t n,
                             int dz)
{
    const nn__layer *L = &m->layers[l];
    const float *s = m->buffers + L->buf_off, *g = m->delta[l];
    float *gx = nn__delta_in(m, l);
    size_t i, j, k = L->out;
    (void)x;
    (void)dz;
    if (gx)
        for (i = 0; i < n; i++)
            for (j = 0; j < k; j++)
                gx[i * k + j] = g[i * k + j] * s[j];
}

const nn__layer_ops nn__scaling_ops = {
    NN_KIND_SCALING,
    "scaling",
    0, /* no settings */
    scaling_shape,
    scaling_init,
    nn__no_train_floats,
    scaling_forward_train,
    nn__no_infer_floats,
    scaling_forward_infer,
    scaling_backward,
    NULL, /* weight_product */
    NULL, /* commit */
    NULL, /* buffers_valid: any finite values */
    NULL, /* small_forward */
    NULL, /* small_backward */
    NULL, /* pack_floats */
    NULL, /* pack */
    NULL, /* kernel_floats */
};
