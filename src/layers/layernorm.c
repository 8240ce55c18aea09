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
 * each row's 1 / sqrt(variance + eps), the sums for dL/dgamma and
 * dL/dbeta (width each), and room for ROOM_ROWS rows (width each): the
 * forward pass's rows of x in double, converted once where three passes
 * read them, and the backward pass's dy gamma, formed once where two
 * passes read it.
 */
#include "layers.h"

#include <math.h>
#include <string.h>

static double *row_inv(const nn_model *m, size_t l, size_t n)
{
    return (double *)(void *)(m->extra[l] +
                              nn__even(n * m->layers[l].out));
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

/* One row: y = gamma x-hat + beta, x-hat into xh when it is not NULL.
 * With keep (a constant where inlined) the row's elements are read from
 * xd, row_stats' copy in double, rather than from x. Returns the largest
 * |y|'s bits. */
static NN__ALWAYS_INLINE uint32_t norm_row(const float *x, const double *xd,
                                           const int keep,
                                           const float *gamma,
                                           const float *beta, double mean,
                                           double r, size_t k, float *y,
                                           float *xh)
{
    uint32_t top = 0;
    size_t j;
    for (j = 0; j < k; j++) {
        float h = (float)(((keep ? xd[j] : (double)x[j]) - mean) * r);
        float v = gamma[j] * h + beta[j];
        uint32_t u = nn__abs_bits(v);
        if (xh)
            xh[j] = h;
        y[j] = v;
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
 * and in the same room BACK_ROWS rows of dy gamma backward. */
enum { ROOM_ROWS = STAT_ROWS };
_Static_assert((int)BACK_ROWS <= (int)ROOM_ROWS, "the backward rows fit");

static size_t ln_train_floats(const nn_model *m, size_t l, size_t n)
{
    size_t k = m->layers[l].out;
    return nn__even(n * k) + nn__floats_for_doubles(n + (2 + ROOM_ROWS) * k);
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
                                  m->act[l], m->extra[l], row_inv(m, l, n),
                                  ln_room(m, l, n)));
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
    size_t j;
    (void)x;
    (void)dz;
    NN__BY_LANES(back_all, (m->delta[l], m->extra[l], gamma, inv, n, k, sdx,
                            sdy, ln_room(m, l, n), gx));
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
