/* SPDX-License-Identifier: MIT */
/*
 * batchnorm.c - batch normalization over the features, as
 * torch.nn.BatchNorm1d defines it: in training mode each feature is
 * normalised by the batch's mean and biased variance, scaled by gamma (the
 * layer's weights) and shifted by beta (its bias); a step that succeeds
 * then moves the running mean and the running unbiased variance (the
 * layer's buffers) towards the batch's (commit). In inference mode the
 * running statistics normalise.
 *
 * The batch's statistics and the backward pass's sums are formed in
 * double, per feature, as PyTorch's CPU kernels accumulate them; in a
 * data-parallel part of a batch they are summed over the parts through the
 * model's reducer, as torch.nn.SyncBatchNorm does, so that every part
 * normalises by the whole batch. Each feature's sum runs in row order,
 * and the loops run along a row's features (the forward pass's sums, in
 * blocks of sixteen features down the rows), so that they vectorise
 * (NN__WIDE_CLONES) with the same bits. The extra block keeps x-hat
 * (n x width floats) and then, in double, the batch's mean, variance and
 * 1 / sqrt(variance + eps), the two sums of the backward pass and
 * gamma / sqrt(variance + eps), width each.
 */
#include "layers.h"

#include <math.h>
#include <string.h>

/* The doubles of the extra block of layer l: mean, var, inv, sum_dy,
 * sum_dy_xh, gamma inv, width each, after x-hat's n x width floats. */
static double *stats(const nn_model *m, size_t l, size_t n)
{
    return (double *)(void *)(m->extra[l] +
                              nn__even(n * m->layers[l].out));
}

/* Rows dy_sums takes at a time. */
enum { BN_SUM_ROWS = 4 };

/* column_sums and dy_sums, inlined into the callers' clones, and where
 * the build has them their copies over one AVX-512 register of doubles
 * (lanes.h; bench/RESULTS.md, "Since de6a473"). */
#define NN__LANES_FILE "batchnorm_sums.h"
#include "lanes.h"

static void bn_shape(nn__layer *L)
{
    L->out = L->in;
    L->w_count = L->b_count = L->in;
    L->buf_count = 2 * L->in; /* running mean, running variance */
}

static void bn_init(nn_model *m, nn__layer *L)
{
    size_t j;
    float *rm = m->buffers + L->buf_off;
    nn__norm_init(m, L);
    for (j = 0; j < L->out; j++) {
        rm[j] = 0.0f;
        rm[L->out + j] = 1.0f;
    }
}

static size_t bn_train_floats(const nn_model *m, size_t l, size_t n)
{
    size_t k = m->layers[l].out;
    return nn__even(n * k) + nn__floats_for_doubles(6 * k);
}

NN__WIDE_CLONES
static void bn_forward_train(nn_model *m, size_t l, const float *x, size_t n)
{
    const nn__layer *L = &m->layers[l];
    const size_t k = L->out;
    const float *gamma = m->params + L->w_off, *beta = m->params + L->b_off;
    double *mean = stats(m, l, n), *var = mean + k, *inv = var + k;
    double eps = L->lp[NN_LAYER_EPSILON];
    float *xh = m->extra[l], *y = m->act[l];
    uint32_t top = 0;
    size_t i, j, g = nn__batch_rows(m, n);
    NN__BY_LANES(column_sums, (x, NULL, n, k, mean));
    nn__reduce(m, mean, k); /* the other parts' rows of the batch */
    for (j = 0; j < k; j++)
        mean[j] /= (double)g;
    NN__BY_LANES(column_sums, (x, mean, n, k, var));
    nn__reduce(m, var, k);
    for (j = 0; j < k; j++) {
        var[j] /= (double)g;
        inv[j] = 1.0 / sqrt(var[j] + eps);
    }
    for (i = 0; i < n; i++)
        for (j = 0; j < k; j++) {
            float h = (float)((x[i * k + j] - mean[j]) * inv[j]);
            float v = gamma[j] * h + beta[j];
            uint32_t u = nn__abs_bits(v);
            xh[i * k + j] = h;
            y[i * k + j] = v;
            top = u > top ? u : top;
        }
    m->act_top[l] = top;
    m->logits = y;
}

static size_t bn_infer_floats(const nn__layer *L, size_t k)
{
    (void)k;
    return 2 * L->out;
}

/* y = x a + c with a = gamma / sqrt(var_r + eps), c = beta - mean_r a,
 * worked out in double per feature and rounded once. */
NN__WIDE_CLONES
static const float *bn_forward_infer(const nn_model *m, const nn__layer *L,
                                     const nn__infer *a)
{
    const size_t k = L->out;
    const float *gamma = m->params + L->w_off, *beta = m->params + L->b_off;
    const float *rm = m->buffers + L->buf_off, *rv = rm + k;
    float *sa = a->scratch, *sc = sa + k;
    size_t i, j;
    for (j = 0; j < k; j++) {
        double s = gamma[j] / sqrt((double)rv[j] + L->lp[NN_LAYER_EPSILON]);
        sa[j] = (float)s;
        sc[j] = (float)(beta[j] - rm[j] * s);
    }
    for (i = 0; i < a->k; i++)
        for (j = 0; j < k; j++)
            a->y[i * k + j] = a->x[i * k + j] * sa[j] + sc[j];
    return a->y;
}

/* dL/dbeta = sum dy, dL/dgamma = sum dy x-hat, and
 * dL/dx = gamma inv (dy - sum dy / n - x-hat sum dy x-hat / n). */
NN__WIDE_CLONES
static void bn_backward(nn_model *m, size_t l, const float *x, size_t n,
                        int dz)
{
    const nn__layer *L = &m->layers[l];
    const size_t k = L->out;
    const float *gamma = m->params + L->w_off, *dy = m->delta[l];
    const float *xh = m->extra[l];
    double *inv = stats(m, l, n) + 2 * k, *sdy = inv + k, *sdx = sdy + k;
    double *gi = sdx + k;
    float *gx = nn__delta_in(m, l);
    size_t i, j, g = nn__batch_rows(m, n);
    (void)x;
    (void)dz;
    NN__BY_LANES(dy_sums, (dy, xh, n, k, sdy, sdx));
    /* gamma's and beta's gradients are this batch's rows' sums: in a
     * data-parallel part, the sum of the parts' buffers makes the whole's */
    for (j = 0; j < k; j++) {
        m->grads[L->w_off + j] = (float)sdx[j];
        m->grads[L->b_off + j] = (float)sdy[j];
    }
    /* dL/dx needs the whole batch's sums (sdy and sdx are adjacent: one
     * reduction for both) */
    nn__reduce(m, sdy, 2 * k);
    if (!gx)
        return;
    /* the means, once per feature (the same doubles the formula would
     * divide out for every row) */
    for (j = 0; j < k; j++) {
        sdy[j] /= (double)g;
        sdx[j] /= (double)g;
        gi[j] = gamma[j] * inv[j]; /* the product's first factor, once */
    }
    for (i = 0; i < n; i++)
        for (j = 0; j < k; j++)
            gx[i * k + j] = (float)(gi[j] * (dy[i * k + j] - sdy[j] -
                                             xh[i * k + j] * sdx[j]));
}

/* mean_r = (1 - mom) mean_r + mom m, var_r = (1 - mom) var_r + mom v
 * n / (n - 1), in double, as PyTorch updates them. */
static void bn_commit(nn_model *m, size_t l, size_t n)
{
    const nn__layer *L = &m->layers[l];
    const size_t k = L->out;
    const double *mean = stats(m, l, n), *var = mean + k;
    const size_t g = nn__batch_rows(m, n); /* the whole batch's rows */
    double mom = L->lp[NN_LAYER_MOMENTUM], unbias = (double)g / (double)(g - 1);
    float *rm = m->buffers + L->buf_off, *rv = rm + k;
    size_t j;
    for (j = 0; j < k; j++) {
        rm[j] = (float)(mom * mean[j] + (1.0 - mom) * rm[j]);
        rv[j] = (float)(mom * var[j] * unbias + (1.0 - mom) * rv[j]);
    }
}

/* The running variance (the second half) is never negative. */
static int bn_buffers_valid(const nn__layer *L, const float *buf, size_t *bad)
{
    size_t j;
    for (j = L->out; j < 2 * L->out; j++)
        if (!(buf[j] >= 0.0f)) {
            *bad = j;
            return 0;
        }
    return 1;
}

const nn__layer_ops nn__batchnorm_ops = {
    NN_KIND_BATCHNORM,
    "batchnorm",
    NN__KEY(NN_LAYER_MOMENTUM) | NN__KEY(NN_LAYER_EPSILON),
    bn_shape,
    bn_init,
    bn_train_floats,
    bn_forward_train,
    bn_infer_floats,
    bn_forward_infer,
    bn_backward,
    NULL, /* weight_product: backward forms them */
    bn_commit,
    bn_buffers_valid,
    NULL, /* small_forward */
    NULL, /* small_backward */
    NULL, /* pack_floats */
    NULL, /* pack */
    NULL, /* kernel_floats */
};
