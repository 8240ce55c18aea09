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
 * (NN__WIDE_CLONES) with the same bits.
 *
 * Forward, two passes read x (its sums, then its centred squares' sums)
 * and one writes y; where x is a relu dense layer's output, that layer's
 * bias pass forms the sums (layers.h, nn__bn_relu_forward) and the first
 * of the two is not made. Backward, one reads dy and x (the sums of dy and of
 * dy (x - mean)) and one writes dL/dx, or where x is a relu dense
 * layer's output, that layer's dL/dZ and bias gradient in place of its
 * own pass (layers.h, nn__norm_takes_relu). x-hat is not kept: the passes
 * that write work from x, and the layer's input stays in place until the
 * backward pass (train.c). Each feature's coefficients are worked out in
 * double, once. The forward pass works in float: y = ((x - m1) - m2) a +
 * beta, where m1 + m2 is the mean in two floats (m1 the mean rounded, m2
 * the rest) and a = gamma / sqrt(var + eps) rounded. Where a feature's
 * mean lies far above its spread, x - m1 is exact (the two are within a
 * factor of two of each other) and m2 carries the mean's low bits, so
 * that x - mean comes out to the float rounding of its value in double;
 * a single float for the mean would lose the bits of x - mean below the
 * mean's own last bit (tests/test_layers.c,
 * batchnorm_keeps_a_far_mean_exact). The backward pass works in double,
 * dL/dx = gi (dy - mean dy) + b (x - mean) rounded once, gi = gamma /
 * sqrt(var + eps): dL/dx sums to zero over the batch, and the weight
 * gradient of a dense layer before the normalization, x^T dL/dx, leaves
 * that sum's rounding times the mean of x: in float (three roundings an
 * element) that gradient, summed over the parts of a batch, strayed
 * further from the whole batch's than tests/test_parallel.c allows. The
 * extra block holds, in double, the batch's mean, variance and 1 /
 * sqrt(variance + eps), the backward pass's two sums (then the mean of dy
 * and b) and gi, then in float m1, m2 and a, width each.
 */
#include "layers.h"

#include <math.h>
#include <string.h>

/* The extra block of layer l: the doubles mean, var, inv, sum_dy,
 * sum_dy_xc (xc = x - mean), gi, width each. */
static double *stats(const nn_model *m, size_t l)
{
    return (double *)(void *)m->extra[l];
}

/* The floats after them: m1, m2, a, width each. */
static float *coefs(const nn_model *m, size_t l)
{
    return (float *)(void *)(stats(m, l) + 6 * m->layers[l].out);
}

/* Rows dy_sums takes at a time. */
enum { BN_SUM_ROWS = 4 };

/* Rows relu_sums takes at a time: their relu pass, then their sums. */
enum { BN_RELU_ROWS = 8 };

/* R rows of k: z = relu(z + b) in place, the largest |z|'s bits with
 * top's returned; the expressions of the dense layer's bias pass for the
 * relu (activation.c, NN__ACT_CASES), the same bits. */
static NN__ALWAYS_INLINE uint32_t bn_relu_rows(float *restrict z,
                                               const float *restrict b,
                                               size_t R, size_t k,
                                               uint32_t top)
{
    size_t q, j;
    for (q = 0; q < R; q++) {
        float *restrict r = z + q * k;
        uint32_t rtop = 0;
        for (j = 0; j < k; j++) {
            const float t = r[j] + b[j];
            const uint32_t u =
                nn__abs_bits(t) & (t > 0.0f ? 0xffffffffu : 0u);
            r[j] = t > 0.0f ? t : 0.0f;
            rtop = u > rtop ? u : rtop;
        }
        top = rtop > top ? rtop : top;
    }
    return top;
}

/* column_sums, dy_sums and relu_sums, inlined into the callers' clones,
 * and where the build has them their copies over one AVX-512 register of
 * doubles (lanes.h; bench/RESULTS.md, "Since de6a473"). */
#define NN__LANES_FILE "batchnorm_sums.h"
#include "lanes.h"

/* The forward pass's coefficients of k features from the sums of the
 * centred squares (var, divided here by the g rows): inv, m1 + m2 = mean
 * (m1 the mean rounded to float, m2 the rest rounded) and a = gamma inv.
 * A loop of its own over restrict pointers, inlined into the callers'
 * clones, so that it vectorises: in the caller's loop it ran one feature
 * at a time. */
static NN__ALWAYS_INLINE void fw_coefs(const double *restrict mean,
                                       double *restrict var,
                                       double *restrict inv,
                                       const float *restrict gamma, double g,
                                       double eps, size_t k,
                                       float *restrict m1,
                                       float *restrict m2, float *restrict a)
{
    size_t j;
    for (j = 0; j < k; j++) {
        var[j] /= g;
        inv[j] = 1.0 / sqrt(var[j] + eps);
        m1[j] = (float)mean[j];
        m2[j] = (float)(mean[j] - (double)m1[j]);
        a[j] = (float)(gamma[j] * inv[j]);
    }
}

/* The backward pass's, in double: md = the mean of dy (sdy / g), gi =
 * gamma inv, and b = -gamma inv^2 times the mean of dy x-hat (sdx inv /
 * g), md and b in place of the sums. */
static NN__ALWAYS_INLINE void bw_coefs(double *restrict sdy,
                                       double *restrict sdx,
                                       const double *restrict inv,
                                       const float *restrict gamma, double g,
                                       size_t k, double *restrict gi)
{
    size_t j;
    for (j = 0; j < k; j++) {
        double mdx = sdx[j] * inv[j] / g;
        sdy[j] /= g;
        gi[j] = gamma[j] * inv[j];
        sdx[j] = -gi[j] * inv[j] * mdx;
    }
}

/* dL/dx = gi (dy - md) + b (x - mean), rounded once, for the n rows of
 * k; with db not NULL, where x is a relu's output (nn__norm_takes_relu),
 * that relu's dL/dZ = (x > 0 ? dL/dx : 0) in its place, db the column
 * sums of dL/dZ (in float, row by row) and the largest |dL/dZ|'s bits
 * returned, as the dense layer's pass (nn__activation_backward_sums)
 * forms them from dL/dx. Restrict pointers, inlined into the caller's
 * clones, so that the loops vectorise. */
static NN__ALWAYS_INLINE uint32_t
bw_rows(const float *restrict dy, const float *restrict x,
        const double *restrict mean, const double *restrict md,
        const double *restrict b, const double *restrict gi, size_t n,
        size_t k, float *restrict gx, float *restrict db)
{
    size_t i, j;
    uint32_t top = 0;
    if (!db) {
        for (i = 0; i < n; i++)
            for (j = 0; j < k; j++)
                gx[i * k + j] =
                    (float)(gi[j] * (dy[i * k + j] - md[j]) +
                            b[j] * ((double)x[i * k + j] - mean[j]));
        return 0;
    }
    for (j = 0; j < k; j++)
        db[j] = 0.0f;
    for (i = 0; i < n; i++) {
        uint32_t rtop = 0;
        for (j = 0; j < k; j++) {
            const float a = x[i * k + j];
            const float v = (float)(gi[j] * (dy[i * k + j] - md[j]) +
                                    b[j] * ((double)a - mean[j]));
            const float d = a > 0.0f ? v : 0.0f;
            const uint32_t u =
                nn__abs_bits(v) & (a > 0.0f ? 0xffffffffu : 0u);
            gx[i * k + j] = d;
            db[j] += d;
            rtop = u > rtop ? u : rtop;
        }
        top = rtop > top ? rtop : top;
    }
    return top;
}

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
    (void)n;
    return nn__floats_for_doubles(6 * k) + nn__even(3 * k);
}

NN__WIDE_CLONES
static void bn_forward_train(nn_model *m, size_t l, const float *x, size_t n)
{
    const nn__layer *L = &m->layers[l];
    const size_t k = L->out;
    const float *beta = m->params + L->b_off;
    const float *gamma = m->params + L->w_off;
    double *mean = stats(m, l), *var = mean + k, *inv = var + k;
    double eps = L->lp[NN_LAYER_EPSILON];
    float *m1 = coefs(m, l), *m2 = m1 + k, *a = m2 + k, *y = m->act[l];
    uint32_t top = 0;
    size_t i, j, g = nn__batch_rows(m, n);
    /* after a relu dense layer, its bias pass formed the sums (layers.h,
     * nn__bn_relu_forward) */
    if (!nn__norm_takes_relu(m, l))
        NN__BY_LANES(column_sums, (x, NULL, n, k, mean));
    nn__reduce(m, mean, k); /* the other parts' rows of the batch */
    for (j = 0; j < k; j++)
        mean[j] /= (double)g;
    NN__BY_LANES(column_sums, (x, mean, n, k, var));
    nn__reduce(m, var, k);
    fw_coefs(mean, var, inv, gamma, (double)g, eps, k, m1, m2, a);
    for (i = 0; i < n; i++)
        for (j = 0; j < k; j++) {
            float v = ((x[i * k + j] - m1[j]) - m2[j]) * a[j] + beta[j];
            uint32_t u = nn__abs_bits(v);
            y[i * k + j] = v;
            top = u > top ? u : top;
        }
    m->act_top[l] = top;
    m->logits = y;
}

/* relu_sums for the CPU (static and cloned: the compilers export the
 * dispatcher of a cloned external function), and the entry point. */
NN__WIDE_CLONES
static uint32_t bn_relu_sums(float *z, const float *b, size_t n, size_t k,
                             double *out)
{
    return NN__BY_LANES(relu_sums, (z, b, n, k, out));
}

void nn__bn_relu_forward(nn_model *m, size_t l, float *z, const float *b,
                         size_t n)
{
    m->act_top[l - 1] =
        bn_relu_sums(z, b, n, m->layers[l].out, stats(m, l));
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

/* dL/dbeta = sum dy, dL/dgamma = sum dy x-hat = inv sum dy (x - mean),
 * and dL/dx = gamma inv (dy - sum dy / n - x-hat sum dy x-hat / n). */
NN__WIDE_CLONES
static void bn_backward(nn_model *m, size_t l, const float *x, size_t n,
                        int dz)
{
    const nn__layer *L = &m->layers[l];
    const size_t k = L->out;
    const float *gamma = m->params + L->w_off, *dy = m->delta[l];
    double *mean = stats(m, l), *inv = mean + 2 * k, *sdy = inv + k;
    double *sdx = sdy + k, *gi = sdx + k;
    float *gx = nn__delta_in(m, l);
    size_t j, g = nn__batch_rows(m, n);
    (void)dz;
    NN__BY_LANES(dy_sums, (dy, x, mean, n, k, sdy, sdx));
    /* gamma's and beta's gradients are this batch's rows' sums: in a
     * data-parallel part, the sum of the parts' buffers makes the whole's */
    for (j = 0; j < k; j++) {
        m->grads[L->w_off + j] = (float)(sdx[j] * inv[j]);
        m->grads[L->b_off + j] = (float)sdy[j];
    }
    /* dL/dx needs the whole batch's sums (sdy and sdx are adjacent: one
     * reduction for both) */
    nn__reduce(m, sdy, 2 * k);
    if (!gx)
        return;
    /* each feature's coefficients, once */
    bw_coefs(sdy, sdx, inv, gamma, (double)g, k, gi);
    if (nn__norm_takes_relu(m, l)) /* and the relu's pass (layers.h) */
        m->delta_top[l - 1] =
            bw_rows(dy, x, mean, sdy, sdx, gi, n, k, gx,
                    m->grads + m->layers[l - 1].b_off);
    else
        (void)bw_rows(dy, x, mean, sdy, sdx, gi, n, k, gx, NULL);
}

/* mean_r = (1 - mom) mean_r + mom m, var_r = (1 - mom) var_r + mom v
 * n / (n - 1), in double, as PyTorch updates them. */
static void bn_commit(nn_model *m, size_t l, size_t n)
{
    const nn__layer *L = &m->layers[l];
    const size_t k = L->out;
    const double *mean = stats(m, l), *var = mean + k;
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
