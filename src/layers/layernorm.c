/* SPDX-License-Identifier: MIT */
/*
 * layernorm.c - layer normalization over each row, as
 * torch.nn.LayerNorm(width) defines it: each row normalised by its own
 * mean and biased variance, scaled by gamma (the layer's weights) and
 * shifted by beta (its bias). The same in training and inference mode.
 *
 * A row's statistics and the backward pass's sums are formed in double.
 * A sum along a row runs in eight lanes (element j to lane j mod 8, the
 * lanes added pairwise at the end: a fixed order), so that its additions
 * need not wait for each other and the loops vectorise: one chain of
 * double additions per row made a layer over 128 x 384 values cost 87
 * memcpy's of them in a step (bench_layers). The sums over rows (for
 * dL/dgamma and dL/dbeta) run per column in row order.
 * The extra block keeps x-hat (n x width floats) and then, in double,
 * each row's 1 / sqrt(variance + eps) and the sums for dL/dgamma and
 * dL/dbeta (width each).
 */
#include "layers.h"

#include <math.h>
#include <string.h>

static double *row_inv(const nn_model *m, size_t l, size_t n)
{
    return (double *)(void *)(m->extra[l] +
                              nn__even(n * m->layers[l].out));
}

static void ln_shape(nn__layer *L)
{
    L->out = L->in;
    L->w_count = L->b_count = L->in;
    L->buf_count = 0;
}

static size_t ln_train_floats(const nn_model *m, size_t l, size_t n)
{
    size_t k = m->layers[l].out;
    return nn__even(n * k) + nn__floats_for_doubles(n + 2 * k);
}

/* The eight lanes of a row's sum, added pairwise. */
static inline double lanes(const double *s)
{
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* One row: y = gamma x-hat + beta; x-hat into xh and 1 / sqrt(var + eps)
 * into *inv when they are not NULL. Returns the largest |y|'s bits. */
static inline uint32_t norm_row(const float *x, const float *gamma,
                                const float *beta, double eps, size_t k,
                                float *y, float *xh, double *inv)
{
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0}, mean, var, r;
    uint32_t top = 0;
    size_t j, q;
    for (j = 0; j + 8 <= k; j += 8)
        for (q = 0; q < 8; q++)
            s[q] += x[j + q];
    for (; j < k; j++)
        s[j & 7] += x[j];
    mean = lanes(s) / (double)k;
    for (q = 0; q < 8; q++)
        s[q] = 0.0;
    for (j = 0; j + 8 <= k; j += 8)
        for (q = 0; q < 8; q++) {
            double d = x[j + q] - mean;
            s[q] += d * d;
        }
    for (; j < k; j++) {
        double d = x[j] - mean;
        s[j & 7] += d * d;
    }
    var = lanes(s);
    r = 1.0 / sqrt(var / (double)k + eps);
    for (j = 0; j < k; j++) {
        float h = (float)((x[j] - mean) * r);
        float v = gamma[j] * h + beta[j];
        uint32_t u = nn__abs_bits(v);
        if (xh)
            xh[j] = h;
        y[j] = v;
        top = u > top ? u : top;
    }
    if (inv)
        *inv = r;
    return top;
}

NN__VECTOR_CLONES
static void ln_forward_train(nn_model *m, size_t l, const float *x, size_t n)
{
    const nn__layer *L = &m->layers[l];
    const size_t k = L->out;
    double *inv = row_inv(m, l, n);
    uint32_t top = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        uint32_t t = norm_row(x + i * k, m->params + L->w_off,
                              m->params + L->b_off, L->lp[NN_LAYER_EPSILON],
                              k, m->act[l] + i * k, m->extra[l] + i * k,
                              inv + i);
        top = t > top ? t : top;
    }
    m->act_top[l] = top;
    m->logits = m->act[l];
}

NN__VECTOR_CLONES
static const float *ln_forward_infer(const nn_model *m, const nn__layer *L,
                                     const nn__infer *a)
{
    size_t i;
    for (i = 0; i < a->k; i++)
        (void)norm_row(a->x + i * L->out, m->params + L->w_off,
                       m->params + L->b_off, L->lp[NN_LAYER_EPSILON],
                       L->out, a->y + i * L->out, NULL, NULL);
    return a->y;
}

/* With dx-hat = dy gamma, per row:
 * dL/dx = inv (dx-hat - mean(dx-hat) - x-hat mean(dx-hat x-hat));
 * dL/dgamma = sum over rows of dy x-hat, dL/dbeta = sum of dy. */
NN__VECTOR_CLONES
static void ln_backward(nn_model *m, size_t l, const float *x, size_t n,
                        int dz)
{
    const nn__layer *L = &m->layers[l];
    const size_t k = L->out;
    const float *gamma = m->params + L->w_off;
    const double *inv = row_inv(m, l, n);
    double *sdx = row_inv(m, l, n) + n, *sdy = sdx + k;
    float *gx = nn__delta_in(m, l);
    size_t i, j, q;
    (void)x;
    (void)dz;
    for (j = 0; j < k; j++)
        sdx[j] = sdy[j] = 0.0;
    for (i = 0; i < n; i++) {
        const float *dy = m->delta[l] + i * k, *xh = m->extra[l] + i * k;
        double s1[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        double s2[8] = {0, 0, 0, 0, 0, 0, 0, 0}, m1, m2;
        for (j = 0; j + 8 <= k; j += 8)
            for (q = 0; q < 8; q++) {
                double d = (double)dy[j + q] * gamma[j + q];
                s1[q] += d;
                s2[q] += d * xh[j + q];
            }
        for (; j < k; j++) {
            double d = (double)dy[j] * gamma[j];
            s1[j & 7] += d;
            s2[j & 7] += d * xh[j];
        }
        for (j = 0; j < k; j++) {
            sdx[j] += (double)dy[j] * xh[j];
            sdy[j] += dy[j];
        }
        m1 = lanes(s1) / (double)k;
        m2 = lanes(s2) / (double)k;
        if (gx)
            for (j = 0; j < k; j++)
                gx[i * k + j] = (float)(inv[i] * ((double)dy[j] * gamma[j] -
                                                  m1 - xh[j] * m2));
    }
    for (j = 0; j < k; j++) {
        m->grads[L->w_off + j] = (float)sdx[j];
        m->grads[L->b_off + j] = (float)sdy[j];
    }
}

const nn__layer_ops nn__layernorm_ops = {
    NN_KIND_LAYERNORM,
    "layernorm",
    NN__KEY(NN_LAYER_EPSILON),
    ln_shape,
    nn__norm_init,
    ln_train_floats,
    ln_forward_train,
    nn__no_infer_floats,
    ln_forward_infer,
    ln_backward,
    NULL, /* weight_product: backward forms them */
    NULL, /* commit */
    NULL, /* buffers_valid */
    NULL, /* small_forward */
    NULL, /* small_backward */
    NULL, /* pack_floats */
    NULL, /* pack */
    NULL, /* kernel_floats */
};
