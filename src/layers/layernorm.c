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
 * y = gamma x-hat + beta is formed in float, x-hat = ((x - m1) - m2) r
 * with the row's mean in two floats (m1 the mean rounded, m2 the rest
 * rounded) and r = 1 / sqrt(variance + eps) rounded: where the mean lies
 * far above the row's spread, x - m1 is exact and m2 carries the mean's
 * low bits. x-hat is not kept: the backward pass forms it again from x
 * (the layer's input stays in place until then, train.c) with the same
 * operations, the same bits. Where x is a relu dense layer's output, the
 * backward pass writes that layer's dL/dZ, bias gradient and largest
 * |dL/dZ| in place of its own pass (layers.h, nn__norm_takes_relu).
 * The extra block keeps, in double, each row's mean and 1 / sqrt(variance
 * + eps), the sums for dL/dgamma and dL/dbeta (width each), and room for
 * ROOM_ROWS rows (width each): the forward pass's rows of x in double,
 * converted once where two passes read them, and the backward pass's dy
 * gamma, formed once where two passes read it, and its rows of x-hat.
 */
#include "layers.h"

#include <math.h>
#include <string.h>

/* Each row's mean, then each row's 1 / sqrt(variance + eps) (n each). */
static double *row_mean(const nn_model *m, size_t l)
{
    return (double *)(void *)m->extra[l];
}

static double *row_inv(const nn_model *m, size_t l, size_t n)
{
    return row_mean(m, l) + n;
}

/* The room for ROOM_ROWS rows in double, after the rows' inverses and the
 * sums for dL/dgamma and dL/dbeta. */
static double *ln_room(const nn_model *m, size_t l, size_t n)
{
    return row_inv(m, l, n) + n + 2 * m->layers[l].out;
}

static void ln_shape(nn__layer *L)
{
    L->out = L->in;
    L->w_count = L->b_count = L->in;
    L->buf_count = 0;
}

/* Rows whose statistics row_stats forms at a time (layernorm_rows.h). */
enum { STAT_ROWS = 4 };

/* A row's mean and 1 / sqrt(var + eps) as the float passes use them:
 * the mean in two floats, m1 + m2, and r rounded. */
typedef struct row_coefs {
    float m1, m2, r;
} row_coefs;

static NN__ALWAYS_INLINE row_coefs coefs_of(double mean, double r)
{
    row_coefs c;
    c.m1 = (float)mean;
    c.m2 = (float)(mean - (double)c.m1);
    c.r = (float)r;
    return c;
}

/* x-hat of one element, in float: the forward and backward passes form it
 * alike. */
static NN__ALWAYS_INLINE float x_hat(float x, row_coefs c)
{
    return ((x - c.m1) - c.m2) * c.r;
}

/* One row: y = gamma x-hat + beta. Returns the largest |y|'s bits. */
static NN__ALWAYS_INLINE uint32_t norm_row(const float *x, const float *gamma,
                                           const float *beta, row_coefs c,
                                           size_t k, float *y)
{
    uint32_t top = 0;
    size_t j;
    for (j = 0; j < k; j++) {
        float v = gamma[j] * x_hat(x[j], c) + beta[j];
        uint32_t u = nn__abs_bits(v);
        y[j] = v;
        top = u > top ? u : top;
    }
    return top;
}

/* R rows of x-hat (k each, from x) into xh. */
static NN__ALWAYS_INLINE void x_hat_rows(const float *x, const double *mean,
                                         const double *inv, size_t k,
                                         size_t R, float *xh)
{
    size_t q, j;
    for (q = 0; q < R; q++) {
        row_coefs c = coefs_of(mean[q], inv[q]);
        for (j = 0; j < k; j++)
            xh[q * k + j] = x_hat(x[q * k + j], c);
    }
}

/* One row of the backward pass where its input a is a relu's output
 * (nn__norm_takes_relu): v = inv (dxh - m1 - xh m2) rounded once, as
 * dL/dx is formed, then the relu's dL/dZ = (a > 0 ? v : 0) into gz, added
 * into db (float, row by row) and its largest magnitude's bits returned,
 * as the dense layer's pass (nn__activation_backward_sums) forms them
 * from dL/dx. Restrict pointers, so that the loop vectorises. */
static NN__ALWAYS_INLINE uint32_t relu_row(const double *restrict dxh,
                                           const float *restrict xh,
                                           const float *restrict a,
                                           double inv, double m1, double m2,
                                           size_t k, float *restrict gz,
                                           float *restrict db)
{
    uint32_t top = 0;
    size_t t;
    for (t = 0; t < k; t++) {
        const float v = (float)(inv * (dxh[t] - m1 - xh[t] * m2));
        const float d = a[t] > 0.0f ? v : 0.0f;
        const uint32_t u = nn__abs_bits(v) & (a[t] > 0.0f ? 0xffffffffu : 0u);
        gz[t] = d;
        db[t] += d;
        top = u > top ? u : top;
    }
    return top;
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

/* Rows of the extra block's room in double: STAT_ROWS rows of x forward,
 * and in the same room BACK_ROWS rows of dy gamma backward, then BACK_ROWS
 * rows of x-hat in float (half a row of doubles each). */
enum { ROOM_ROWS = STAT_ROWS };
_Static_assert(3 * (int)BACK_ROWS <= 2 * (int)ROOM_ROWS,
               "BACK_ROWS rows of doubles and of floats fit");

static size_t ln_train_floats(const nn_model *m, size_t l, size_t n)
{
    size_t k = m->layers[l].out;
    return nn__floats_for_doubles(2 * n + (2 + ROOM_ROWS) * k);
}

/* norm_rows and back_all, inlined into the callers' clones, and where
 * the build has them their copies over one AVX-512 register of doubles
 * (lanes.h; bench/RESULTS.md, "Since de6a473"). */
#define NN__LANES_FILE "layernorm_rows.h"
#include "lanes.h"

NN__WIDE_CLONES
static void ln_forward_train(nn_model *m, size_t l, const float *x, size_t n)
{
    const nn__layer *L = &m->layers[l];
    m->act_top[l] = NN__BY_LANES(norm_rows,
                                 (x, m->params + L->w_off,
                                  m->params + L->b_off,
                                  L->lp[NN_LAYER_EPSILON], n, L->out,
                                  m->act[l], row_mean(m, l),
                                  row_inv(m, l, n), ln_room(m, l, n)));
    m->logits = m->act[l];
}

NN__WIDE_CLONES
static const float *ln_forward_infer(const nn_model *m, const nn__layer *L,
                                     const nn__infer *a)
{
    (void)NN__BY_LANES(norm_rows, (a->x, m->params + L->w_off,
                                   m->params + L->b_off,
                                   L->lp[NN_LAYER_EPSILON], a->k, L->out,
                                   a->y, NULL, NULL, NULL));
    return a->y;
}

/* dL/dx row by row (back_rows, BACK_ROWS rows at a time); dL/dgamma =
 * sum over rows of dy x-hat, dL/dbeta = sum of dy; x-hat from x. */
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
    size_t j;
    (void)dz;
    if (nn__norm_takes_relu(m, l)) /* and the relu's pass (layers.h) */
        m->delta_top[l - 1] = NN__BY_LANES(
            back_all, (m->delta[l], x, gamma, row_mean(m, l), inv, n, k, sdx,
                       sdy, ln_room(m, l, n), gx,
                       m->grads + m->layers[l - 1].b_off));
    else
        (void)NN__BY_LANES(back_all,
                           (m->delta[l], x, gamma, row_mean(m, l), inv, n, k,
                            sdx, sdy, ln_room(m, l, n), gx, NULL));
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
