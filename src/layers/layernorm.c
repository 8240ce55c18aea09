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
 * scalars), as vectors 36 (AVX2). Rows go four at a time forward and two
 * backward, their chains interleaved, each row's sums in the order one
 * row alone would form them (the same bits): the layer's own functions
 * then took 0.80 to 0.88 of the samples of one row at a time in the AVX-512
 * clone and 0.95 in the AVX2 one (batch 128). The sums over rows
 * (for dL/dgamma and dL/dbeta) run per column in row order, in the same
 * pass over a row as its own sums.
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

/* The mean and 1 / sqrt(var + eps) of R rows of k floats at x (R at most
 * STAT_ROWS, a constant where this is inlined), each row's two sums in its own
 * eight lanes as for a row alone (the same order, the same bits). The R
 * rows' chains of additions are interleaved: a row's chain waits for each
 * addition before the next, so one row alone ran at the adder's latency,
 * not its throughput. Always inlined: a copy called from the clones would
 * be compiled for the baseline only. */
enum { STAT_ROWS = 4 };

static NN__ALWAYS_INLINE void row_stats(const float *x, size_t k, size_t R,
                                        double eps, double *mean, double *r)
{
    nn__lanes8 acc[STAT_ROWS];
    double s[8];
    size_t q, j, t;
#pragma GCC unroll 4
    for (q = 0; q < R; q++)
        acc[q] = nn__lanes8_zero();
    for (j = 0; j + 8 <= k; j += 8)
#pragma GCC unroll 4
        for (q = 0; q < R; q++)
            acc[q] = nn__lanes8_add(acc[q], nn__lanes8_load(x + q * k + j));
#pragma GCC unroll 4
    for (q = 0; q < R; q++) {
        nn__lanes8_store(s, acc[q]);
        for (t = j; t < k; t++)
            s[t & 7] += x[q * k + t];
        mean[q] = nn__lanes8_total(s) / (double)k;
        acc[q] = nn__lanes8_zero();
    }
    for (j = 0; j + 8 <= k; j += 8)
#pragma GCC unroll 4
        for (q = 0; q < R; q++) {
            nn__lanes8 d = nn__lanes8_sub(nn__lanes8_load(x + q * k + j),
                                          nn__lanes8_splat(mean[q]));
            acc[q] = nn__lanes8_add(acc[q], nn__lanes8_mul(d, d));
        }
#pragma GCC unroll 4
    for (q = 0; q < R; q++) {
        nn__lanes8_store(s, acc[q]);
        for (t = j; t < k; t++) {
            double d = x[q * k + t] - mean[q];
            s[t & 7] += d * d;
        }
        r[q] = 1.0 / sqrt(nn__lanes8_total(s) / (double)k + eps);
    }
}

/* One row: y = gamma x-hat + beta, x-hat into xh when it is not NULL.
 * Returns the largest |y|'s bits. */
static NN__ALWAYS_INLINE uint32_t norm_row(const float *x,
                                           const float *gamma,
                                           const float *beta, double mean,
                                           double r, size_t k, float *y,
                                           float *xh)
{
    uint32_t top = 0;
    size_t j;
    for (j = 0; j < k; j++) {
        float h = (float)((x[j] - mean) * r);
        float v = gamma[j] * h + beta[j];
        uint32_t u = nn__abs_bits(v);
        if (xh)
            xh[j] = h;
        y[j] = v;
        top = u > top ? u : top;
    }
    return top;
}

/* n rows of k: y = gamma x-hat + beta, and x-hat into xh and each row's
 * 1 / sqrt(var + eps) into inv when they are not NULL; STAT_ROWS rows at a
 * time. Returns the largest |y|'s bits. */
static NN__ALWAYS_INLINE uint32_t norm_rows(const float *x,
                                            const float *gamma,
                                            const float *beta, double eps,
                                            size_t n, size_t k, float *y,
                                            float *xh, double *inv)
{
    uint32_t top = 0;
    size_t i = 0, q, R;
    for (; i < n; i += R) {
        double mean[STAT_ROWS], r[STAT_ROWS];
        R = n - i >= STAT_ROWS ? STAT_ROWS : 1;
        if (R == STAT_ROWS)
            row_stats(x + i * k, k, STAT_ROWS, eps, mean, r);
        else
            row_stats(x + i * k, k, 1, eps, mean, r);
        for (q = 0; q < R; q++) {
            size_t o = (i + q) * k;
            uint32_t t = norm_row(x + o, gamma, beta, mean[q], r[q], k,
                                  y + o, xh ? xh + o : NULL);
            top = t > top ? t : top;
            if (inv)
                inv[i + q] = r[q];
        }
    }
    return top;
}

NN__WIDE_CLONES
static void ln_forward_train(nn_model *m, size_t l, const float *x, size_t n)
{
    const nn__layer *L = &m->layers[l];
    m->act_top[l] = norm_rows(x, m->params + L->w_off, m->params + L->b_off,
                              L->lp[NN_LAYER_EPSILON], n, L->out,
                              m->act[l], m->extra[l], row_inv(m, l, n));
    m->logits = m->act[l];
}

NN__WIDE_CLONES
static const float *ln_forward_infer(const nn_model *m, const nn__layer *L,
                                     const nn__infer *a)
{
    (void)norm_rows(a->x, m->params + L->w_off, m->params + L->b_off,
                    L->lp[NN_LAYER_EPSILON], a->k, L->out, a->y, NULL, NULL);
    return a->y;
}

/* Rows the backward pass takes at a time. Each row brings two sums of
 * eight lanes, four registers in either clone (lanes of four doubles), to
 * the column sums' and the loads' registers; with four rows the AVX2
 * clone, which has 16 registers, kept sums on the stack. Measured on an
 * AVX-512 CPU with the clones limited to x86-64-v3 (perf samples of
 * ln_backward, bench_layers --profile-steps 3000 --only layernorm --batch
 * 128): four rows 1.11 times one row's, two rows 1.00 to 1.02; in the
 * AVX-512 clone two rows take 1.04 to 1.09 times four rows' samples and
 * 0.84 to 0.92 of one row's. */
enum { BACK_ROWS = 2 };

/* R rows (at most BACK_ROWS, a constant where this is inlined) of the
 * backward pass, dy, xh and gx at their first, with dx-hat = dy gamma:
 * dL/dx = inv (dx-hat - mean(dx-hat) - x-hat mean(dx-hat x-hat)), into gx
 * when it is not NULL; each row's two sums in its own eight lanes, and
 * the rows' shares of the columns' sums sdx (dy x-hat) and sdy (dy) added
 * in row order: the same operations in the same order as one row at a
 * time, with the rows' chains of additions interleaved. */
static NN__ALWAYS_INLINE void back_rows(const float *dy, const float *xh,
                                        const float *gamma,
                                        const double *inv, size_t k,
                                        size_t R, double *sdx, double *sdy,
                                        float *gx)
{
    nn__lanes8 v1[BACK_ROWS], v2[BACK_ROWS];
    double s1[8], s2[8], m1, m2;
    size_t q, j, t;
#pragma GCC unroll 4
    for (q = 0; q < R; q++)
        v1[q] = v2[q] = nn__lanes8_zero();
    for (j = 0; j + 8 <= k; j += 8) {
        nn__lanes8 w = nn__lanes8_load(gamma + j);
        nn__lanes8 cx = nn__lanes8_load_doubles(sdx + j);
        nn__lanes8 cy = nn__lanes8_load_doubles(sdy + j);
#pragma GCC unroll 4
        for (q = 0; q < R; q++) {
            nn__lanes8 g = nn__lanes8_load(dy + q * k + j);
            nn__lanes8 h = nn__lanes8_load(xh + q * k + j);
            nn__lanes8 d = nn__lanes8_mul(g, w);
            v1[q] = nn__lanes8_add(v1[q], d);
            v2[q] = nn__lanes8_add(v2[q], nn__lanes8_mul(d, h));
            cx = nn__lanes8_add(cx, nn__lanes8_mul(g, h));
            cy = nn__lanes8_add(cy, g);
        }
        nn__lanes8_store(sdx + j, cx);
        nn__lanes8_store(sdy + j, cy);
    }
    for (q = 0; q < R; q++) {
        const float *g = dy + q * k, *h = xh + q * k;
        nn__lanes8_store(s1, v1[q]);
        nn__lanes8_store(s2, v2[q]);
        for (t = j; t < k; t++) {
            double d = (double)g[t] * gamma[t];
            s1[t & 7] += d;
            s2[t & 7] += d * h[t];
            sdx[t] += (double)g[t] * h[t];
            sdy[t] += g[t];
        }
        m1 = nn__lanes8_total(s1) / (double)k;
        m2 = nn__lanes8_total(s2) / (double)k;
        if (gx)
            for (t = 0; t < k; t++)
                gx[q * k + t] = (float)(inv[q] * ((double)g[t] * gamma[t] -
                                                  m1 - h[t] * m2));
    }
}

/* dL/dx row by row (back_rows, BACK_ROWS rows at a time); dL/dgamma =
 * sum over rows of dy x-hat, dL/dbeta = sum of dy. */
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
    size_t i, j, R;
    (void)x;
    (void)dz;
    for (j = 0; j < k; j++)
        sdx[j] = sdy[j] = 0.0;
    for (i = 0; i < n; i += R) {
        const float *dy = m->delta[l] + i * k, *xh = m->extra[l] + i * k;
        float *g = gx ? gx + i * k : NULL;
        R = n - i >= BACK_ROWS ? BACK_ROWS : 1;
        if (R == BACK_ROWS)
            back_rows(dy, xh, gamma, inv + i, k, BACK_ROWS, sdx, sdy, g);
        else
            back_rows(dy, xh, gamma, inv + i, k, 1, sdx, sdy, g);
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
