/* SPDX-License-Identifier: MIT */
/*
 * layernorm.c - layer normalization over each row, as
 * torch.nn.LayerNorm(width) defines it: each row normalised by its own
 * mean and biased variance, scaled by gamma (the layer's weights) and
 * shifted by beta (its bias). The same in training and inference mode.
 *
 * A row's statistics and the backward pass's sums are formed in float,
 * as PyTorch's CPU kernel forms them for float tensors, with two guards
 * against cancellation: the statistics are of x - c, c the row's first
 * element (exact where x is within a factor 2 of c, as when a row sits
 * far from 0), and the variance is the mean of squared deviations from
 * that mean, not E[x^2] - E[x]^2. A sum along a row runs in sixteen lanes
 * (element j to lane j mod 16, the lanes added pairwise at the end: a
 * fixed order, the same bits in either clone), written as two vectors of
 * eight. In double, with the lanes as arrays GCC turned into 18 KiB of
 * shuffles, two such layers in 784-256-X-128-X-10 added 92 to 111 us to a
 * step at batch 128; now 55 to 72 (bench_layers --batch 128, three
 * alternating runs of each build). The sums over rows (for dL/dgamma and
 * dL/dbeta) run per column in row order.
 * The extra block keeps x-hat (n x width floats), each row's
 * 1 / sqrt(variance + eps) (n floats) and the sums for dL/dgamma and
 * dL/dbeta (width each).
 */
#include "layers.h"

#include <math.h>
#include <string.h>

#define LANES 16

/* A sum in sixteen lanes as two vectors of eight (GCC and clang's vector
 * extension: AVX2 registers in the AVX2 clone, pairs of SSE registers
 * otherwise); lane q of the pair is lane q of the sum. Vectors go in and
 * out of memory through memcpy (no alignment needed) and never by value
 * across a call, whose ABI would differ between the clones. */
typedef float nn__v8 __attribute__((vector_size(32)));

static float *row_inv(const nn_model *m, size_t l, size_t n)
{
    return m->extra[l] + n * m->layers[l].out;
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
    return n * k + n + 2 * k;
}

/* The sixteen lanes of a row's sum, added pairwise. */
static inline float lanes(const float *s)
{
    float h[8];
    int q;
    for (q = 0; q < 8; q++)
        h[q] = s[q] + s[q + 8];
    return ((h[0] + h[4]) + (h[2] + h[6])) + ((h[1] + h[5]) + (h[3] + h[7]));
}

/* One row: y = gamma x-hat + beta; x-hat into xh and 1 / sqrt(var + eps)
 * into *inv when they are not NULL. Returns the largest |y|'s bits. */
static inline uint32_t norm_row(const float *restrict x,
                                const float *restrict gamma,
                                const float *restrict beta, double eps,
                                size_t k, float *restrict y,
                                float *restrict xh, float *inv)
{
    float s[LANES], mean, var, r;
    const float c = x[0];
    const nn__v8 cv = {c, c, c, c, c, c, c, c};
    nn__v8 lo = {0, 0, 0, 0, 0, 0, 0, 0}, hi = lo, mv;
    uint32_t top = 0;
    size_t j;
    for (j = 0; j + LANES <= k; j += LANES) {
        nn__v8 x0, x1;
        memcpy(&x0, x + j, sizeof x0);
        memcpy(&x1, x + j + 8, sizeof x1);
        lo += x0 - cv;
        hi += x1 - cv;
    }
    memcpy(s, &lo, sizeof lo);
    memcpy(s + 8, &hi, sizeof hi);
    for (; j < k; j++)
        s[j % LANES] += x[j] - c;
    mean = lanes(s) / (float)k; /* of x - c */
    mv = (nn__v8){mean, mean, mean, mean, mean, mean, mean, mean};
    lo = hi = (nn__v8){0, 0, 0, 0, 0, 0, 0, 0};
    for (j = 0; j + LANES <= k; j += LANES) {
        nn__v8 d0, d1;
        memcpy(&d0, x + j, sizeof d0);
        memcpy(&d1, x + j + 8, sizeof d1);
        d0 = (d0 - cv) - mv;
        d1 = (d1 - cv) - mv;
        lo += d0 * d0;
        hi += d1 * d1;
    }
    memcpy(s, &lo, sizeof lo);
    memcpy(s + 8, &hi, sizeof hi);
    for (; j < k; j++) {
        float d = (x[j] - c) - mean;
        s[j % LANES] += d * d;
    }
    var = lanes(s) / (float)k;
    r = (float)(1.0 / sqrt((double)var + eps));
    for (j = 0; j < k; j++) {
        float h = ((x[j] - c) - mean) * r;
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
    float *inv = row_inv(m, l, n);
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
/* One row's mean(dx-hat) and mean(dx-hat x-hat), dx-hat = dy gamma. */
static inline void row_means(const float *restrict dy,
                             const float *restrict gamma,
                             const float *restrict xh, size_t k, float *m1,
                             float *m2)
{
    float s1[LANES], s2[LANES];
    nn__v8 a0 = {0, 0, 0, 0, 0, 0, 0, 0}, a1 = a0, b0 = a0, b1 = a0;
    size_t j;
    for (j = 0; j + LANES <= k; j += LANES) {
        nn__v8 d0, d1, g0, g1, h0, h1;
        memcpy(&d0, dy + j, sizeof d0);
        memcpy(&d1, dy + j + 8, sizeof d1);
        memcpy(&g0, gamma + j, sizeof g0);
        memcpy(&g1, gamma + j + 8, sizeof g1);
        memcpy(&h0, xh + j, sizeof h0);
        memcpy(&h1, xh + j + 8, sizeof h1);
        d0 *= g0;
        d1 *= g1;
        a0 += d0;
        a1 += d1;
        b0 += d0 * h0;
        b1 += d1 * h1;
    }
    memcpy(s1, &a0, sizeof a0);
    memcpy(s1 + 8, &a1, sizeof a1);
    memcpy(s2, &b0, sizeof b0);
    memcpy(s2 + 8, &b1, sizeof b1);
    for (; j < k; j++) {
        float d = dy[j] * gamma[j];
        s1[j % LANES] += d;
        s2[j % LANES] += d * xh[j];
    }
    *m1 = lanes(s1) / (float)k;
    *m2 = lanes(s2) / (float)k;
}

/* One row's share of dL/dgamma and dL/dbeta. */
static inline void column_sums(float *restrict sdx, float *restrict sdy,
                               const float *restrict dy,
                               const float *restrict xh, size_t k)
{
    size_t j;
    for (j = 0; j < k; j++) {
        sdx[j] += dy[j] * xh[j];
        sdy[j] += dy[j];
    }
}

/* One row of dL/dx. */
static inline void row_gx(float *restrict gx, const float *restrict dy,
                          const float *restrict gamma,
                          const float *restrict xh, float inv, float m1,
                          float m2, size_t k)
{
    size_t j;
    for (j = 0; j < k; j++)
        gx[j] = inv * ((dy[j] * gamma[j] - m1) - xh[j] * m2);
}

NN__VECTOR_CLONES
static void ln_backward(nn_model *m, size_t l, const float *x, size_t n,
                        int dz)
{
    const nn__layer *L = &m->layers[l];
    const size_t k = L->out;
    const float *gamma = m->params + L->w_off;
    const float *inv = row_inv(m, l, n);
    float *sdx = row_inv(m, l, n) + n, *sdy = sdx + k;
    float *gx = nn__delta_in(m, l);
    size_t i, j;
    (void)x;
    (void)dz;
    for (j = 0; j < k; j++)
        sdx[j] = sdy[j] = 0.0f;
    for (i = 0; i < n; i++) {
        const float *dy = m->delta[l] + i * k, *xh = m->extra[l] + i * k;
        float m1, m2;
        row_means(dy, gamma, xh, k, &m1, &m2);
        column_sums(sdx, sdy, dy, xh, k);
        if (gx)
            row_gx(gx + i * k, dy, gamma, xh, inv[i], m1, m2, k);
    }
    for (j = 0; j < k; j++) {
        m->grads[L->w_off + j] = sdx[j];
        m->grads[L->b_off + j] = sdy[j];
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
