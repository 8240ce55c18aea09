/* SPDX-License-Identifier: MIT */
/*
 * layernorm.c - layer normalization over each row, as
 * torch.nn.LayerNorm(width) defines it: each row normalised by its own
 * mean and biased variance, scaled by gamma (the layer's weights) and
 * shifted by beta (its bias). The same in training and inference mode.
 *
 * A row's statistics and the backward pass's sums are formed in double.
 * A sum along a row runs in eight lanes (nn__lanes8, layers.h: element j
 * to lane j mod 8, the lanes added pairwise at the end: a fixed order),
 * so that its additions need not wait for each other and the loops
 * vectorise: one chain of double additions per row made a layer over
 * 128 x 384 values cost 87 memcpy's of them in a step (bench_layers),
 * eight lanes as an array 45 (GCC kept the backward pass's lanes in
 * scalars), as vectors 36 (AVX2). The sums over rows (for dL/dgamma and
 * dL/dbeta) run per column in row order, in the same pass over a row as
 * its own sums.
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

/* One row: y = gamma x-hat + beta; x-hat into xh and 1 / sqrt(var + eps)
 * into *inv when they are not NULL. Returns the largest |y|'s bits.
 * Always inlined: a copy called from the clones would be compiled for the
 * baseline only. */
static NN__ALWAYS_INLINE uint32_t norm_row(const float *x,
                                           const float *gamma,
                                           const float *beta, double eps,
                                           size_t k, float *y, float *xh,
                                           double *inv)
{
    nn__lanes8 acc = nn__lanes8_zero();
    double s[8], mean, var, r;
    uint32_t top = 0;
    size_t j;
    for (j = 0; j + 8 <= k; j += 8)
        acc = nn__lanes8_add(acc, nn__lanes8_load(x + j));
    nn__lanes8_store(s, acc);
    for (; j < k; j++)
        s[j & 7] += x[j];
    mean = nn__lanes8_total(s) / (double)k;
    acc = nn__lanes8_zero();
    for (j = 0; j + 8 <= k; j += 8) {
        nn__lanes8 d =
            nn__lanes8_sub(nn__lanes8_load(x + j), nn__lanes8_splat(mean));
        acc = nn__lanes8_add(acc, nn__lanes8_mul(d, d));
    }
    nn__lanes8_store(s, acc);
    for (; j < k; j++) {
        double d = x[j] - mean;
        s[j & 7] += d * d;
    }
    var = nn__lanes8_total(s);
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

NN__WIDE_CLONES
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

NN__WIDE_CLONES
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
NN__WIDE_CLONES
static void ln_backward(nn_model *m, size_t l, const float *x, size_t n,
                        int dz)
{
    const nn__layer *L = &m->layers[l];
    const size_t k = L->out;
    const float *gamma = m->params + L->w_off;
    const double *inv = row_inv(m, l, n);
    double *sdx = row_inv(m, l, n) + n, *sdy = sdx + k;
    float *gx = nn__delta_in(m, l);
    size_t i, j;
    (void)x;
    (void)dz;
    for (j = 0; j < k; j++)
        sdx[j] = sdy[j] = 0.0;
    for (i = 0; i < n; i++) {
        const float *dy = m->delta[l] + i * k, *xh = m->extra[l] + i * k;
        nn__lanes8 v1 = nn__lanes8_zero(), v2 = nn__lanes8_zero();
        double s1[8], s2[8], m1, m2;
        /* one pass for the row's two sums and its share of the columns'
         * (each column's in row order) */
        for (j = 0; j + 8 <= k; j += 8) {
            nn__lanes8 g = nn__lanes8_load(dy + j);
            nn__lanes8 h = nn__lanes8_load(xh + j);
            nn__lanes8 d = nn__lanes8_mul(g, nn__lanes8_load(gamma + j));
            nn__lanes8 cx = nn__lanes8_load_doubles(sdx + j);
            nn__lanes8 cy = nn__lanes8_load_doubles(sdy + j);
            v1 = nn__lanes8_add(v1, d);
            v2 = nn__lanes8_add(v2, nn__lanes8_mul(d, h));
            cx = nn__lanes8_add(cx, nn__lanes8_mul(g, h));
            cy = nn__lanes8_add(cy, g);
            nn__lanes8_store(sdx + j, cx);
            nn__lanes8_store(sdy + j, cy);
        }
        nn__lanes8_store(s1, v1);
        nn__lanes8_store(s2, v2);
        for (; j < k; j++) {
            double d = (double)dy[j] * gamma[j];
            s1[j & 7] += d;
            s2[j & 7] += d * xh[j];
            sdx[j] += (double)dy[j] * xh[j];
            sdy[j] += dy[j];
        }
        m1 = nn__lanes8_total(s1) / (double)k;
        m2 = nn__lanes8_total(s2) / (double)k;
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
