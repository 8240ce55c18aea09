/* SPDX-License-Identifier: MIT */
/*
 * dropout.c - inverted dropout: in training mode each unit is kept with
 * probability 1 - rate and scaled by 1 / (1 - rate), or set to 0; in
 * inference mode the layer is the identity (it returns its input).
 *
 * The masks come from a counter-based generator, not from the model's
 * sequential one: unit j of the row at position r of the batch, in layer
 * l, at step s, is kept when a hash of (seed, s, l, r, j) is at least
 * rate x 2^32. So a row's mask depends on nothing else: a batch split
 * across processes, each knowing its rows' positions (row_offset), draws
 * the masks one process would, and no state is advanced or saved. The
 * hash: splitmix64's finaliser over (seed, step, layer, row) gives a key
 * per row; each unit's 32 bits are murmur3's finaliser of the key plus
 * j times the golden ratio, a bijection in j, so units of a row never
 * share bits. The loop over units vectorises (32-bit multiplies).
 *
 * The extra block keeps the mask, one byte per unit, for the backward
 * pass. Where the layer before is a relu, a dense layer's or an
 * activation layer's (nn__dropout_folded, layers.h), that layer forms
 * this one's output in its forward pass (nn__dropout_relu_forward) and
 * its own dL/dZ or dL/dx from this layer's output and dL/dy
 * (nn__relu_dropout_sums, nn__relu_dropout_back), with the same bits;
 * this layer's passes then do nothing, and it keeps no mask. Measured
 * (bench/layer_share.sh passes-dropout and passes-plain; bench/RESULTS.md)
 * on 784-256-X-128-X-10 with dropout 0.2 after both relu layers: what the
 * dropouts add to the element-wise passes fell from 1.7, 1.9 and 2.6% of
 * a step's perf samples at batch 32, 128 and 512 to 0.4, 0.6 and 0.5%.
 */
#include "layers.h"

#include <math.h>
#include <string.h>

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The row keys' common part, (seed, step, layer): once per pass. */
static uint64_t layer_key(uint64_t seed, uint64_t step, size_t layer)
{
    uint64_t h = mix64(seed + 0x9E3779B97F4A7C15ull);
    h = mix64(h ^ (step + 0x632BE59BD9B4E019ull));
    return mix64(h ^ ((uint64_t)layer + 0x8CB92BA72F3D8DD7ull));
}

static NN__ALWAYS_INLINE uint64_t row_key(uint64_t lkey, uint64_t row)
{
    return mix64(lkey ^ (row + 0xD6E8FEB86659FD93ull));
}

static inline uint32_t fmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

/* Units whose hash is below this are dropped: rate x 2^32, which is
 * below 2^32 for rate < 1 (nn.h bounds the rate). */
static uint32_t threshold(double rate)
{
    double t = floor(rate * 4294967296.0);
    return t >= 4294967295.0 ? 4294967295u : (uint32_t)t;
}

static size_t dropout_train_floats(const nn_model *m, size_t l, size_t n)
{
    if (nn__dropout_folded(m, l)) /* no mask (layers.h) */
        return 0;
    return (n * m->layers[l].out + 3) / 4; /* a byte per unit */
}

/* A row of the layer's output y from its input x, and its mask where
 * keep_mask; folded (layers.h), the input is relu(x), or with bias
 * relu(x + b), x being the relu dense layer's X W, as activation.c forms
 * them. keep_mask, relu and bias are constants where inlined. Returns the
 * largest |y|'s bits. */
static NN__ALWAYS_INLINE uint32_t
row_body(uint64_t key, uint32_t thr, float scale, const float *restrict x,
         const float *restrict b, float *restrict y,
         unsigned char *restrict mask, size_t k, const int keep_mask,
         const int relu, const int bias)
{
    /* base + j times the golden ratio, mod 2^32: a 32-bit induction
     * variable, where (uint32_t)j * 0x9E3779B9u had the vectorised loop
     * step j in 64-bit lanes and narrow it for every block */
    uint32_t hj = (uint32_t)key ^ (uint32_t)(key >> 32);
    uint32_t top = 0;
    size_t j;
    /* Every x[j] is read and scaled, then kept or cleared by a mask of
     * its bits: a select the compiler leaves as a branch keeps the loop
     * from vectorising, and the branch is mispredicted at every fifth
     * unit for rate 0.2. */
    for (j = 0; j < k; j++, hj += 0x9E3779B9u) {
        const uint32_t keep = fmix32(hj) >= thr;
        const float t = bias ? x[j] + b[j] : x[j];
        const float xs = (relu ? (t > 0.0f ? t : 0.0f) : t) * scale;
        uint32_t bits;
        memcpy(&bits, &xs, sizeof bits);
        bits &= 0u - keep; /* all ones to keep, 0 to drop (+0.0f) */
        memcpy(&y[j], &bits, sizeof bits);
        if (keep_mask)
            mask[j] = (unsigned char)keep;
        bits &= 0x7fffffffu; /* nn__abs_bits of the value written */
        top = bits > top ? bits : top;
    }
    return top;
}

/* n rows of x (k each) by row_body, the first being the batch's row
 * row0: the row loop inside each clone, so that a row costs one key and
 * no call (at batch 32 a row is 128 or 256 units, a few vector blocks). */
static NN__ALWAYS_INLINE uint32_t
rows_body(uint64_t lkey, uint64_t row0, uint32_t thr, float scale,
          const float *restrict x, const float *restrict b, float *restrict y,
          unsigned char *restrict mask, size_t n, size_t k,
          const int keep_mask, const int relu, const int bias)
{
    uint32_t top = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        uint32_t t = row_body(row_key(lkey, row0 + i), thr, scale, x + i * k,
                              b, y + i * k, keep_mask ? mask + i * k : NULL,
                              k, keep_mask, relu, bias);
        top = t > top ? t : top;
    }
    return top;
}

NN__WIDE_CLONES
static uint32_t mask_rows(uint64_t lkey, uint64_t row0, uint32_t thr,
                          float scale, const float *restrict x,
                          float *restrict y, unsigned char *restrict mask,
                          size_t n, size_t k)
{
    return rows_body(lkey, row0, thr, scale, x, NULL, y, mask, n, k, 1, 0, 0);
}

NN__WIDE_CLONES
static uint32_t relu_rows(uint64_t lkey, uint64_t row0, uint32_t thr,
                          float scale, const float *restrict z,
                          const float *restrict b, float *restrict y,
                          size_t n, size_t k)
{
    return rows_body(lkey, row0, thr, scale, z, b, y, NULL, n, k, 0, 1, 1);
}

NN__WIDE_CLONES
static uint32_t relu_rows_unbiased(uint64_t lkey, uint64_t row0,
                                   uint32_t thr, float scale,
                                   const float *restrict x, float *restrict y,
                                   size_t n, size_t k)
{
    return rows_body(lkey, row0, thr, scale, x, NULL, y, NULL, n, k, 0, 1, 0);
}

/* act[l] and act_top[l] from n rows of x: relu(x + b) (b not NULL) or
 * relu(x) (relu), folded; else x, with the mask into the extra block. */
static void forward_rows(nn_model *m, size_t l, const float *x,
                         const float *b, int relu, size_t n)
{
    const nn__layer *L = &m->layers[l];
    const uint32_t thr = threshold(L->lp[NN_LAYER_DROPOUT_RATE]);
    const float scale = nn__dropout_scale(L);
    const uint64_t lkey = layer_key(m->seed, m->steps, l);
    const uint64_t row0 = m->row_offset;
    const size_t k = L->out;
    float *y = m->act[l];
    m->act_top[l] =
        b      ? relu_rows(lkey, row0, thr, scale, x, b, y, n, k)
        : relu ? relu_rows_unbiased(lkey, row0, thr, scale, x, y, n, k)
               : mask_rows(lkey, row0, thr, scale, x, y,
                           (unsigned char *)m->extra[l], n, k);
}

void nn__dropout_relu_forward(nn_model *m, size_t l, const float *z,
                              const float *b, size_t n)
{
    forward_rows(m, l, z, b, 1, n);
}

static void dropout_forward_train(nn_model *m, size_t l, const float *x,
                                  size_t n)
{
    m->logits = m->act[l];
    if (!nn__dropout_folded(m, l)) /* else the relu before wrote act[l] */
        forward_rows(m, l, x, NULL, 0, n);
}

static const float *dropout_forward_infer(const nn_model *m,
                                          const nn__layer *L,
                                          const nn__infer *a)
{
    (void)m;
    (void)L;
    return a->x;
}

NN__WIDE_CLONES
static void unmask(const float *restrict g, const unsigned char *restrict mask,
                   float scale, float *restrict gx, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) { /* read, then select: as mask_rows */
        const float gs = g[i] * scale;
        gx[i] = mask[i] ? gs : 0.0f;
    }
}

static void dropout_backward(nn_model *m, size_t l, const float *x, size_t n,
                             int dz)
{
    const nn__layer *L = &m->layers[l];
    float *gx = nn__delta_in(m, l);
    (void)x;
    (void)dz;
    /* folded: the relu before forms its gradient from this layer's output
     * and dL/dy (layers.h) */
    if (gx && !nn__dropout_folded(m, l))
        unmask(m->delta[l], (const unsigned char *)m->extra[l],
               nn__dropout_scale(L), gx, n * L->out);
}

const nn__layer_ops nn__dropout_ops = {
    NN_KIND_DROPOUT,
    "dropout",
    NN__KEY(NN_LAYER_DROPOUT_RATE),
    nn__shape_same,
    nn__no_init,
    dropout_train_floats,
    dropout_forward_train,
    nn__no_infer_floats,
    dropout_forward_infer,
    dropout_backward,
    NULL, /* weight_product */
    NULL, /* commit */
    NULL, /* buffers_valid */
    NULL, /* small_forward */
    NULL, /* small_backward */
    NULL, /* pack_floats */
    NULL, /* pack */
    NULL, /* kernel_floats */
};
