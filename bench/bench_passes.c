/* SPDX-License-Identifier: MIT */
/*
 * bench_passes.c - how much of what a normalization layer costs in a step
 * its passes over memory cost alone, what the fewest passes such a layer
 * could make cost, and what a dropout folded into the relu before it
 * adds to that relu's passes (issue 21, target 6: a layer adds at most
 * two memcpy's of its activations to a step).
 *
 * The net is bench_layers': 784-256-X-128-X-10, X batch or layer
 * normalization. After one training step has laid out its workspace,
 * each row times, against a memcpy of the X layers' outputs (n x (256 +
 * 128) floats, bench_layers' yardstick and layout), in rounds of two
 * blocks next to each other in time (the order alternating;
 * bench_time_pair_ratio):
 *
 *   one pass  read: the column sums of a block of each size; map: y = x
 *             s + t from such blocks into two others (what a memcpy does,
 *             in a loop of vector loads, one multiply-add and stores);
 *   layer     the two X layers' own forward and backward functions, as a
 *             step calls them (the layer tables), on the step's data
 *             (since 17bfbdc a normalization's backward function also
 *             does the backward pass of the relu dense layer before it,
 *             nn__norm_takes_relu, which the step then no longer makes
 *             elsewhere; batch normalization's first forward pass, its
 *             sums, has since run in that layer's bias pass,
 *             nn__bn_relu_forward, which this row runs: the row holds
 *             those passes' work);
 *   passes    the same passes over blocks of the same sizes, each reading
 *             and writing what the layer's does (batchnorm.c,
 *             layernorm.c), with one or two float operations an element
 *             in place of the layer's arithmetic in double;
 *   fewest    the fewest passes a layer of the kind makes on its own:
 *             x-hat not kept, the backward pass reading x again; batch
 *             normalization's forward sums (of x and x^2) in one pass and
 *             its backward ones (of dy and dy x) in one, so that a step
 *             reads six blocks and writes two, where a memcpy reads one
 *             and writes one.
 *
 * A row of layer normalization's blocks (256 or 128 floats) stays in L1
 * between that row's passes; batch normalization's passes each go over a
 * whole block.
 *
 * A dropout after a relu makes no passes of its own: the relu dense
 * layer's passes do its work (layers.h, nn__dropout_folded). Its rows
 * time the element-wise passes of both dense layers that a step makes
 * (bias and relu forward, relu's dL/dZ with the bias's gradient
 * backward; not the products) in the plain net (relu) and, folded, in
 * the dropout net (folded), and what the dropouts add is the difference
 * (added). Where libnn's kernel forms the plain net's forward products,
 * it adds their bias and takes their relu itself (dense.c,
 * nn__gemm_train_relu), and the plain row has no forward pass; the
 * dropout net's relu layers keep theirs.
 *
 *   bench_passes [--quick] [--batch N] [--reps R] [--only NAME]
 *
 * NAME: "pass", "dropout", "batchnorm" or "layernorm". One thread; the
 * passes are compiled for the instruction sets the layers' loops are
 * (NN__WIDE_CLONES).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "nn.h"
#include "layers/layers.h"
#include "nn_internal.h"

enum {
    IN = BENCH_NET_IN,
    H1 = BENCH_NET_H1,
    H2 = BENCH_NET_H2,
    OUT = BENCH_NET_OUT
};

/* The X layers' indices in the net. */
static const size_t xl[2] = {1, 3};

/* ---- the layers' own functions ---- */

typedef struct layer_ctx {
    nn_model *m;
    size_t n;
    float zero[H1]; /* zero biases, see layer_fns */
} layer_ctx;

/* Forward through both X layers, then backward through both, as a step
 * does, on the workspace and data of the step before. A batch
 * normalization after a relu dense layer starts from sums that layer's
 * bias pass forms (nn__bn_relu_forward): that pass runs first, with zero
 * biases over the relu's output, which it leaves as it is (relu(a + 0)
 * = a for a >= 0). */
static void layer_fns(void *vctx)
{
    layer_ctx *c = (layer_ctx *)vctx;
    nn_model *m = c->m;
    int q;
    for (q = 0; q < 2; q++) {
        size_t l = xl[q];
        if (m->layers[l].ops->kind == NN_KIND_BATCHNORM &&
            nn__norm_takes_relu(m, l))
            nn__bn_relu_forward(m, l, m->act[l - 1], c->zero, c->n);
        m->layers[l].ops->forward_train(m, l, m->act[l - 1], c->n);
    }
    for (q = 1; q >= 0; q--) {
        size_t l = xl[q];
        m->layers[l].ops->backward(m, l, m->act[l - 1], c->n, 0);
    }
    __asm__ volatile("" : : : "memory");
}

/* ---- dropout, folded into the relu before it ---- */

/* The dense layers' indices, each followed by an X layer in the dropout
 * net. */
static const size_t dl[2] = {0, 2};

typedef struct relu_ctx {
    nn_model *m;
    size_t n;
    int folded; /* the dropout net: its dense layers' folded passes */
    int flip;   /* the backward scale's turn, see relu_fns */
    int fused[2]; /* the plain net: the kernel forms that layer's relu */
    const float *zero; /* H1 zeros: the biases the passes add */
} relu_ctx;

/* The two relu dense layers' element-wise passes, forward then backward,
 * as dense.c makes them (not the products): the plain net's bias and
 * relu in place, where its product does not (fused), and its relu's
 * dL/dZ with the bias's gradient; or the dropout net's, where each pass
 * also does the dropout's work (layers.h, nn__dropout_folded). The
 * values stay where a step leaves them, the operations the same: the
 * plain net's forward pass is in place, so it adds zeros for biases
 * (adding the layers' own, the plain row's time per call rose from 2.9
 * to 4.6-5.6 us at batch 32 over the 31 rounds of a run, and not over
 * 21 shorter ones), and the folded backward pass scales dL/dy in place
 * by 1 / (1 - rate), so every other call scales by its inverse
 * instead. */
static void relu_fns(void *vctx)
{
    relu_ctx *c = (relu_ctx *)vctx;
    nn_model *m = c->m;
    int q;
    for (q = 0; q < 2; q++) {
        size_t l = dl[q];
        const nn__layer *L = &m->layers[l];
        float *z = nn__dense_z(m, l);
        if (c->folded)
            nn__dropout_relu_forward(m, l + 1, z, c->zero, c->n);
        else if (!c->fused[q])
            nn__activation_forward_bias(L->act, nn__act_param(L), z,
                                        c->zero, m->act[l], c->n, L->out,
                                        &m->act_top[l]);
    }
    c->flip = !c->flip;
    for (q = 1; q >= 0; q--) {
        size_t l = dl[q];
        const nn__layer *L = &m->layers[l];
        float *g = nn__dense_dz(m, l), *db = m->grads + L->b_off;
        if (c->folded) {
            float sc = nn__dropout_scale(&m->layers[l + 1]);
            m->delta_top[l] = nn__relu_dropout_sums(
                m->act[l + 1], g, c->flip ? sc : 1.0f / sc, db, c->n,
                L->out);
        } else {
            m->delta_top[l] = nn__activation_backward_sums(
                L->act, nn__act_param(L), NULL, m->act[l], g, db, c->n,
                L->out);
        }
    }
    __asm__ volatile("" : : : "memory");
}

/* ---- the passes alone ---- */

/* The blocks of one X layer of n x k: its input, x-hat, output, the
 * gradient coming in and the one going out, and four rows of k sums. */
typedef struct blocks {
    size_t n, k;
    float *x, *xh, *y, *dy, *dx;
    float *s; /* 4 k */
} blocks;

typedef struct pass_ctx {
    blocks b[2];
} pass_ctx;

/* Column sums down the rows, each column's in row order (the loops run
 * along a row, as batchnorm.c's do): s[j] += x[i][j]. */
NN__WIDE_CLONES
static void col_sum(const float *restrict x, size_t n, size_t k,
                    float *restrict s)
{
    size_t i, j;
    for (j = 0; j < k; j++)
        s[j] = 0.0f;
    for (i = 0; i < n; i++)
        for (j = 0; j < k; j++)
            s[j] += x[i * k + j];
}

/* s[j] += a[i][j], t[j] += a[i][j] b[i][j] down the rows. */
NN__WIDE_CLONES
static void col_sum2(const float *restrict a, const float *restrict b,
                     size_t n, size_t k, float *restrict s,
                     float *restrict t)
{
    size_t i, j;
    for (j = 0; j < k; j++)
        s[j] = t[j] = 0.0f;
    for (i = 0; i < n; i++)
        for (j = 0; j < k; j++) {
            s[j] += a[i * k + j];
            t[j] += a[i * k + j] * b[i * k + j];
        }
}

/* out[i][j] = a[i][j] * s[j] + t[j]; and out2, when not NULL, a[i][j] -
 * s[j]. */
NN__WIDE_CLONES
static void col_map(const float *restrict a, const float *restrict s,
                    const float *restrict t, size_t n, size_t k,
                    float *restrict out, float *restrict out2)
{
    size_t i, j;
    for (i = 0; i < n; i++)
        for (j = 0; j < k; j++) {
            out[i * k + j] = a[i * k + j] * s[j] + t[j];
            if (out2)
                out2[i * k + j] = a[i * k + j] - s[j];
        }
}

/* out[i][j] = a[i][j] * s[j] - b[i][j] * t[j]. */
NN__WIDE_CLONES
static void col_map2(const float *restrict a, const float *restrict b,
                     const float *restrict s, const float *restrict t,
                     size_t n, size_t k, float *restrict out)
{
    size_t i, j;
    for (i = 0; i < n; i++)
        for (j = 0; j < k; j++)
            out[i * k + j] = a[i * k + j] * s[j] - b[i * k + j] * t[j];
}

/* Batch normalization's passes (batchnorm.c): forward, the sums of x,
 * the sums of x again (its centred squares), then x-hat and y from x;
 * backward, the sums of dy and dy x-hat, then dL/dx from dy and x-hat. */
static void bn_passes(void *vctx)
{
    pass_ctx *c = (pass_ctx *)vctx;
    int q;
    for (q = 0; q < 2; q++) {
        blocks *b = &c->b[q];
        col_sum(b->x, b->n, b->k, b->s);
        col_sum(b->x, b->n, b->k, b->s + b->k);
        col_map(b->x, b->s, b->s + b->k, b->n, b->k, b->y, b->xh);
    }
    for (q = 1; q >= 0; q--) {
        blocks *b = &c->b[q];
        col_sum2(b->dy, b->xh, b->n, b->k, b->s + 2 * b->k, b->s + 3 * b->k);
        col_map2(b->dy, b->xh, b->s + 2 * b->k, b->s + 3 * b->k, b->n, b->k,
                 b->dx);
    }
    __asm__ volatile("" : : : "memory");
}

/* The fewest: the forward sums in one pass over x, y from x; the backward
 * sums in one pass over dy and x, dL/dx from dy and x. */
static void bn_fewest(void *vctx)
{
    pass_ctx *c = (pass_ctx *)vctx;
    int q;
    for (q = 0; q < 2; q++) {
        blocks *b = &c->b[q];
        col_sum2(b->x, b->x, b->n, b->k, b->s, b->s + b->k);
        col_map(b->x, b->s, b->s + b->k, b->n, b->k, b->y, NULL);
    }
    for (q = 1; q >= 0; q--) {
        blocks *b = &c->b[q];
        col_sum2(b->dy, b->x, b->n, b->k, b->s + 2 * b->k, b->s + 3 * b->k);
        col_map2(b->dy, b->x, b->s + 2 * b->k, b->s + 3 * b->k, b->n, b->k,
                 b->dx);
    }
    __asm__ volatile("" : : : "memory");
}

/* One pass that reads both blocks (their column sums). */
static void read_pass(void *vctx)
{
    pass_ctx *c = (pass_ctx *)vctx;
    int q;
    for (q = 0; q < 2; q++)
        col_sum(c->b[q].x, c->b[q].n, c->b[q].k, c->b[q].s);
    __asm__ volatile("" : : : "memory");
}

/* One pass that reads both blocks and writes another of each size, y =
 * x s + t: what a memcpy does, in a loop of vector loads and stores. */
static void map_pass(void *vctx)
{
    pass_ctx *c = (pass_ctx *)vctx;
    int q;
    for (q = 0; q < 2; q++) {
        blocks *b = &c->b[q];
        col_map(b->x, b->s, b->s + b->k, b->n, b->k, b->y, NULL);
    }
    __asm__ volatile("" : : : "memory");
}

/* Sixteen floats in one vector (two of 256 bits in the v3 clones); no
 * function takes or returns one (the baseline's ABI has no such type). */
typedef float f16 __attribute__((vector_size(64)));

static NN__ALWAYS_INLINE float total16(const f16 *a)
{
    float s = 0.0f;
    int t;
    for (t = 0; t < 16; t++)
        s += (*a)[t];
    return s;
}

/* The sum of a row of k floats (k a multiple of 16) in sixteen lanes. */
static NN__ALWAYS_INLINE float row_sum(const float *x, size_t k)
{
    f16 a = {0}, u;
    size_t j;
    for (j = 0; j < k; j += 16) {
        memcpy(&u, x + j, sizeof u);
        a += u;
    }
    return total16(&a);
}

/* The sum of x[j] y[j] along a row, likewise. */
static NN__ALWAYS_INLINE float row_dot(const float *x, const float *y,
                                       size_t k)
{
    f16 a = {0}, u, v;
    size_t j;
    for (j = 0; j < k; j += 16) {
        memcpy(&u, x + j, sizeof u);
        memcpy(&v, y + j, sizeof v);
        a += u * v;
    }
    return total16(&a);
}

/* Layer normalization's passes (layernorm.c), row by row: forward, the
 * row's sum, its sum again (the centred squares), then x-hat (where xh is
 * not NULL) and y; then backward, the sums of dy and dy x-hat along the
 * row and the columns' sums of both, then dL/dx from dy and x-hat (h: the
 * x-hat block, or x where x-hat is not kept). */
NN__WIDE_CLONES
static void ln_block_fwd(blocks *b, float *xh)
{
    size_t i, j, k = b->k;
    for (i = 0; i < b->n; i++) {
        const float *x = b->x + i * k;
        float m = row_sum(x, k), r = row_dot(x, x, k);
        for (j = 0; j < k; j++) {
            if (xh)
                xh[i * k + j] = x[j] - m;
            b->y[i * k + j] = x[j] * r + b->s[j];
        }
    }
}

NN__WIDE_CLONES
static void ln_block_back(blocks *b, const float *hb)
{
    size_t i, j, k = b->k;
    float *sy = b->s + 2 * k, *sx = b->s + 3 * k;
    for (j = 0; j < k; j++)
        sy[j] = sx[j] = 0.0f;
    for (i = 0; i < b->n; i++) {
        const float *dy = b->dy + i * k, *h = hb + i * k;
        float m1 = row_sum(dy, k), m2 = row_dot(dy, h, k);
        for (j = 0; j < k; j++) {
            sy[j] += dy[j];
            sx[j] += dy[j] * h[j];
        }
        for (j = 0; j < k; j++)
            b->dx[i * k + j] = dy[j] * m1 - h[j] * m2;
    }
}

static void ln_passes(void *vctx)
{
    pass_ctx *c = (pass_ctx *)vctx;
    ln_block_fwd(&c->b[0], c->b[0].xh);
    ln_block_fwd(&c->b[1], c->b[1].xh);
    ln_block_back(&c->b[1], c->b[1].xh);
    ln_block_back(&c->b[0], c->b[0].xh);
    __asm__ volatile("" : : : "memory");
}

/* The fewest: x-hat not kept, the backward pass reading x again. */
static void ln_fewest(void *vctx)
{
    pass_ctx *c = (pass_ctx *)vctx;
    ln_block_fwd(&c->b[0], NULL);
    ln_block_fwd(&c->b[1], NULL);
    ln_block_back(&c->b[1], c->b[1].x);
    ln_block_back(&c->b[0], c->b[0].x);
    __asm__ volatile("" : : : "memory");
}

/* A block of `floats` floats on a 64-byte boundary, as the model's
 * workspace blocks are (nn__malloc): vectors of sixteen floats that
 * straddled two cache lines made a pass cost half as much again. */
static float *block(size_t floats)
{
    size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes);
    if (!p) {
        fprintf(stderr, "bench_passes: out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    return p;
}

static void blocks_make(blocks *b, size_t n, size_t k, uint64_t *seed)
{
    size_t e = n * k;
    b->n = n;
    b->k = k;
    b->x = block(e);
    b->xh = block(e);
    b->y = block(e);
    b->dy = block(e);
    b->dx = block(e);
    b->s = block(4 * k);
    bench_fill(b->x, e, -1.0f, 1.0f, seed);
    bench_fill(b->dy, e, -1.0f, 1.0f, seed);
    bench_fill(b->xh, e, -1.0f, 1.0f, seed);
    bench_fill(b->y, e, -1.0f, 1.0f, seed);
    bench_fill(b->dx, e, -1.0f, 1.0f, seed);
    bench_fill(b->s, 4 * k, -1.0f, 1.0f, seed);
}

static void blocks_free(blocks *b)
{
    free(b->x);
    free(b->xh);
    free(b->y);
    free(b->dy);
    free(b->dx);
    free(b->s);
}

/* The net with the kind's layers, after one training step at batch n. */
static nn_model *make(int kind, size_t n, uint64_t *seed)
{
    nn_model *m = bench_layer_net("bench_passes", kind);
    float *x = bench_xmalloc(n * IN * sizeof *x);
    int32_t *labels = bench_xmalloc(n * sizeof *labels);
    double loss;
    size_t i;
    bench_fill(x, n * IN, -1.0f, 1.0f, seed);
    for (i = 0; i < n; i++)
        labels[i] = (int32_t)(i % OUT);
    if (nn_model_train_batch_labels(m, n, x, IN, labels, &loss) != NN_OK) {
        fprintf(stderr, "bench_passes: the first step failed: %s\n",
                nn_last_error());
        exit(1);
    }
    free(x);
    free(labels);
    return m;
}

static void row(const char *layer, const char *what, size_t n,
                const bench_stat *cs, const bench_stat *s,
                const bench_diff *r)
{
    printf("%-10s %-7s %5zu | %9.2f %9.2f | %6.2f %7.2f %7.2f\n", layer,
           what, n, s->median * 1e6, cs->median * 1e6, r->median, r->lo,
           r->hi);
}

/* Dropout's rows: the relu layers' passes in the plain net and, folded,
 * in the dropout net, each against the memcpy; then what the dropouts
 * add, in memcpy's: the second ratio less the first, the interval from
 * the far ends of the two (where both intervals hold, with probability
 * at least 0.90, it holds the difference of the two medians). The
 * differences of the two timed next to each other in rounds
 * (bench_time_pair_diff) were no steadier at batch 32: their medians
 * -1.5 to -1.9 us in three runs, intervals about 2 us wide, where the
 * two rows' medians differed by -0.2 to -0.3 us. */
static void dropout_rows(const bench_opts *o, size_t n, bench_copy_ctx *cc,
                         uint64_t *seed)
{
    static const float zero[H1];
    relu_ctx plain, drop;
    size_t q;
    bench_stat cs, s, ds;
    bench_diff r, dr;
    plain.m = make(0, n, seed);
    drop.m = make(NN_KIND_DROPOUT, n, seed);
    plain.n = drop.n = n;
    plain.folded = plain.flip = drop.flip = 0;
    drop.folded = 1;
    for (q = 0; q < 2; q++) { /* as dense_forward_train asks */
        const nn__layer *L = &plain.m->layers[dl[q]];
        plain.fused[q] = plain.m->kbuf &&
                         nn__kernel_train(0, 0, n, L->out, L->in);
        drop.fused[q] = 0;
    }
    plain.zero = drop.zero = zero;
    bench_time_pair_ratio(bench_copy, cc, relu_fns, &plain, o->min_block,
                          o->reps, &cs, &s, &r);
    row("dropout", "relu", n, &cs, &s, &r);
    bench_time_pair_ratio(bench_copy, cc, relu_fns, &drop, o->min_block,
                          o->reps, &cs, &ds, &dr);
    row("dropout", "folded", n, &cs, &ds, &dr);
    ds.median -= s.median;
    dr.median -= r.median;
    dr.lo -= r.hi;
    dr.hi -= r.lo;
    row("dropout", "added", n, &cs, &ds, &dr);
    nn_model_free(plain.m);
    nn_model_free(drop.m);
}

int main(int argc, char **argv)
{
    static const size_t batches[] = {32, 128, 512};
    static const struct {
        int kind;
        const char *name;
    } kinds[] = {{NN_KIND_BATCHNORM, "batchnorm"},
                 {NN_KIND_LAYERNORM, "layernorm"}};
    bench_opts o;
    size_t b, k;
    uint64_t seed = 7;

    if (bench_parse(argc, argv, &o,
                    "\n  (bench_passes: R is rounds of two blocks per row, "
                    "default 31, 21 with --quick; --only pass, dropout, "
                    "batchnorm or layernorm)"))
        return 1;
    if (!o.reps_given)
        o.reps = o.quick ? 21 : 31;
    if (nn_set_blas_threads(1) != NN_OK) {
        fprintf(stderr, "bench_passes: %s\n", nn_last_error());
        return 1;
    }
    bench_spin(1.0);
    bench_print_header("bench_passes", NULL);
    printf("784-256-X-128-X-10, 1 thread; memcpy = a copy of the X layers' "
           "outputs (n x (256 + 128) floats); one pass = a read (column "
           "sums) or a map (y = x s + t) of blocks of those sizes; layer = "
           "the X layers' forward and backward functions; passes = the "
           "same passes over memory with one or two float operations an "
           "element; fewest = the fewest passes a layer of the kind makes "
           "on its own; dropout: the relu dense layers' element-wise passes "
           "that a step makes (none forward where the product takes the "
           "bias and relu) without and with the dropouts folded in, and "
           "the difference\n");
    printf("ratio = the median over %d rounds of the time over a memcpy's "
           "timed next to it, with its 95%% interval (sign test)\n",
           o.reps);
    printf("%-10s %-7s %5s | %9s %9s | %6s %15s\n", "layer", "what", "batch",
           "us", "memcpy us", "ratio", "interval ratio");
    for (b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        size_t n = batches[b];
        size_t bytes = n * (H1 + H2) * sizeof(float);
        float *src, *dst;
        bench_copy_ctx cc;
        pass_ctx pc;
        if (o.batch && o.batch != n)
            continue;
        src = bench_copy_buffers(bytes, &dst);
        bench_fill(src, bytes / sizeof(float), -1.0f, 1.0f, &seed);
        cc.dst = dst;
        cc.src = src;
        cc.bytes = bytes;
        blocks_make(&pc.b[0], n, H1, &seed);
        blocks_make(&pc.b[1], n, H2, &seed);
        if (!o.only || strstr("one pass", o.only)) {
            bench_stat cs, s;
            bench_diff r;
            bench_time_pair_ratio(bench_copy, &cc, read_pass, &pc,
                                  o.min_block, o.reps, &cs, &s, &r);
            row("one pass", "read", n, &cs, &s, &r);
            bench_time_pair_ratio(bench_copy, &cc, map_pass, &pc,
                                  o.min_block, o.reps, &cs, &s, &r);
            row("one pass", "map", n, &cs, &s, &r);
        }
        if (!o.only || strstr("dropout", o.only))
            dropout_rows(&o, n, &cc, &seed);
        for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            layer_ctx lc;
            bench_stat cs, s;
            bench_diff r;
            if (o.only && !strstr(kinds[k].name, o.only))
                continue;
            lc.m = make(kinds[k].kind, n, &seed);
            lc.n = n;
            memset(lc.zero, 0, sizeof lc.zero);
            bench_time_pair_ratio(bench_copy, &cc, layer_fns, &lc,
                                  o.min_block, o.reps, &cs, &s, &r);
            row(kinds[k].name, "layer", n, &cs, &s, &r);
            bench_time_pair_ratio(bench_copy, &cc,
                                  kinds[k].kind == NN_KIND_BATCHNORM
                                      ? bn_passes
                                      : ln_passes,
                                  &pc, o.min_block, o.reps, &cs, &s, &r);
            row(kinds[k].name, "passes", n, &cs, &s, &r);
            bench_time_pair_ratio(bench_copy, &cc,
                                  kinds[k].kind == NN_KIND_BATCHNORM
                                      ? bn_fewest
                                      : ln_fewest,
                                  &pc, o.min_block, o.reps, &cs, &s, &r);
            row(kinds[k].name, "fewest", n, &cs, &s, &r);
            nn_model_free(lc.m);
        }
        blocks_free(&pc.b[0]);
        blocks_free(&pc.b[1]);
        free(src);
    }
    return 0;
}
