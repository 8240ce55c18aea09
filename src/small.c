/* SPDX-License-Identifier: MIT */
/*
 * small.c - the forward and backward passes of small nets, as direct
 * loops, and the rule that chooses them.
 *
 * For a net as small as the 2-2-1 of the seed notebooks, a training step
 * does a few dozen multiply-adds, and what it costs is the set-up around
 * them: five calls to the matrix product, a bias copy and a column-sum
 * loop per layer. Here the products of dense layers are plain loops over
 * the rows: forward, each output starts from its bias and accumulates in a
 * register; backward, one sweep over a layer's rows produces dW, db and
 * the previous layer's gradient together. A step at batch 1 is one chain
 * of dependent operations through every layer and into the next step's
 * weights, and the vector kernels' float sigmoid was most of it: there
 * (nn__chain_block), a sigmoid layer applies its activation as each
 * output forms, by nn__sigmoid_chain (nn_math.h), and its derivative in
 * the backward loop, the output layer's too under an element-wise loss
 * (train.c). The other activations, larger blocks and the loss take the
 * general path's kernels. The loops are the dense kind's small_forward
 * and small_backward (layers/dense.c points here); this file is compiled
 * without vectorisation, which is all set-up at these widths
 * (CMakeLists.txt).
 *
 * Which path: a batch of n rows takes this one when every layer has such
 * loops (dense nets) and n times the net's multiply-adds per row is at
 * most NN__SMALL_WORK (320). Measured with `bench_train --sweep` (w-w-w
 * sigmoid nets; general-path time over small-path time; bench/RESULTS.md):
 * at batch 1, 1.31 (w = 2), 1.68 (8), 1.32 (12), 0.88 (16); at batch 8,
 * 1.38 (4), 0.83 (8); at batch 32, 1.49 (2), 0.95 (4). The rule takes the
 * faster path in each of those cases.
 *
 * The results agree with the general path's to float rounding (the sums
 * run in a different order, and the sigmoids differ within 3 ulp);
 * tests/test_gradients.c checks both paths against finite differences
 * and tests/test_small.c compares them.
 */
#include "layers/layers.h"
#include "nn_math.h"

size_t nn__small_rows(const nn_model *m)
{
    size_t l, macs = 0;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        if (!L->ops->small_forward || L->in > NN__SMALL_WORK ||
            L->out > NN__SMALL_WORK)
            return 0;
        macs += L->in * L->out; /* both <= NN__SMALL_WORK: no overflow */
        if (macs > NN__SMALL_WORK)
            return 0;
    }
    return macs ? NN__SMALL_WORK / macs : 0;
}

/* The dense layer's loops: inline, so that the passes over the whole net
 * below call them without a call per layer. */
/* out = x w + b for n rows (in wide, out wide), and where sig is set the
 * sigmoid of each output in a as it forms; sig is a constant at each
 * call, so the loop without it stays as lean as before. */
static NN__ALWAYS_INLINE void affine_rows(const float *x, const float *w,
                                          const float *b, float *z,
                                          float *a, size_t n, size_t in,
                                          size_t out, int sig)
{
    size_t i, j, p;
    for (i = 0; i < n; i++) {
        const float *ar = x + i * in;
        float *zr = z + i * out;
        for (j = 0; j < out; j++) {
            float acc = b[j];
            for (p = 0; p < in; p++)
                acc += ar[p] * w[p * out + j];
            zr[j] = acc;
            if (sig) /* on the chain: no call, no second pass */
                a[i * out + j] = nn__sigmoid_chain(acc);
        }
    }
}

static inline void dense_forward(nn_model *m, size_t l, const float *x,
                                 size_t n)
{
    const nn__layer *L = &m->layers[l];
    const size_t in = L->in, out = L->out;
    const float *w = m->params + L->w_off, *b = m->params + L->b_off;
    float *z = nn__dense_z(m, l), *a = m->act[l]; /* a == z: in place */
    if (nn__chain_block(L->act, n, out) && !m->small_kernel_sigmoid) {
        affine_rows(x, w, b, z, a, n, in, out, 1);
    } else {
        affine_rows(x, w, b, z, a, n, in, out, 0);
        nn__activation_forward(L->act, nn__act_param(L), z, a, n, out);
    }
    m->logits = z;
}

/* The most weights of a layer whose sigmoid derivative dense_backward
 * forms again at each use. */
enum { CHAIN_AGAIN = 16 };

/* dW, db and dL/dX (into gp, where not NULL) of n rows of dL/dZ g and
 * input x. Row 0 sets dW and db, the later rows add to them: no separate
 * zeroing pass (the compiler makes one a memset call). With again (a
 * constant where inlined; then n is 1 and a is the sigmoid's output), g
 * is dL/dA and dL/dZ is formed from it at each use, then stored in g. */
static NN__ALWAYS_INLINE void grad_rows(const float *x, const float *w,
                                        float *g, const float *a,
                                        float *dw, float *db, float *gp,
                                        size_t n, size_t in, size_t out,
                                        const int again)
{
    size_t i, j, p;
    for (i = 0; i < n; i++) {
        const float *gr = g + i * out, *ar = x + i * in;
        if (!again)
            for (j = 0; j < out; j++)
                db[j] = i ? db[j] + gr[j] : gr[j];
        for (p = 0; p < in; p++) {
            const float ap = ar[p], *wr = w + p * out;
            float *dwr = dw + p * out, s = 0.0f;
            for (j = 0; j < out; j++) {
                const float gj =
                    again ? nn__sigmoid_back(gr[j], a[j]) : gr[j];
                dwr[j] = i ? dwr[j] + ap * gj : ap * gj;
                s += wr[j] * gj;
            }
            if (gp)
                gp[i * in + p] = s;
        }
    }
    if (again) /* dL/dZ in g, as without again, once g is read */
        for (j = 0; j < out; j++)
            db[j] = g[j] = nn__sigmoid_back(g[j], a[j]);
}

/* grad_rows from dL/dZ, out of line: inlined in dense_backward beside
 * the one-row case, it made the step's loops save more registers
 * (callgrind: 2-2-1's backward pass 310 instructions a step at batch 1
 * and 6,185 at batch 32; out of line 286 and 5,768 with this call). */
static NN__NOINLINE void grad_rows_dz(const float *x, const float *w,
                                      float *g, float *dw, float *db,
                                      float *gp, size_t n, size_t in,
                                      size_t out)
{
    grad_rows(x, w, g, NULL, dw, db, gp, n, in, out, 0);
}

static inline void dense_backward(nn_model *m, size_t l, const float *x,
                                  size_t n, int dz)
{
    const nn__layer *L = &m->layers[l];
    const size_t in = L->in, out = L->out;
    const float *w = m->params + L->w_off, *a = m->act[l];
    float *g = m->delta[l];
    float *dw = m->grads + L->w_off, *db = m->grads + L->b_off;
    float *gp = nn__delta_in(m, l);
    size_t i;
    /* dL/dZ from dL/dA, unless the loss gave dL/dZ: the sigmoid's here.
     * On one row with few weights it is formed again at each use rather
     * than stored and read back: a float stored and loaded again adds
     * about 3 ns to the step's chain on a Zen 5 (bench_kernels' latency
     * table, the affine step alone: 5 ns a link, of which its two
     * operations take 1.7), while each of at most CHAIN_AGAIN weights
     * pays a subtraction and two multiplications more, off the chain. */
    if (!dz && nn__chain_block(L->act, n, out) && in * out <= CHAIN_AGAIN) {
        grad_rows(x, w, g, a, dw, db, gp, 1, in, out, 1);
        return;
    }
    if (!dz && nn__chain_block(L->act, n, out)) {
        for (i = 0; i < n * out; i++)
            g[i] = nn__sigmoid_back(g[i], a[i]);
    } else if (!dz) {
        nn__activation_backward(
            L->act, nn__act_param(L), m->extra[l], a, g, n,
            out); /* extra[l]: Z where the layer keeps it, or NULL */
    }
    grad_rows_dz(x, w, g, dw, db, gp, n, in, out);
}

void nn__dense_small_forward(nn_model *m, size_t l, const float *x, size_t n)
{
    dense_forward(m, l, x, n);
}

void nn__dense_small_backward(nn_model *m, size_t l, const float *x,
                              size_t n, int dz)
{
    dense_backward(m, l, x, n, dz);
}

/* The passes over the whole net. For a step of a few dozen multiply-adds
 * a call through the layer table per layer is a cost of its own, and so
 * are the registers that call makes the loop save: a dense net's loop
 * inlines the dense kind's loops and calls nothing else but the
 * activation kernels (none for sigmoid layers at one row); a net with
 * another kind calls each layer's. */
void nn__small_forward(nn_model *m, const float *x, size_t n)
{
    size_t l;
    if (!m->has_nondense) {
        for (l = 0; l < m->n_layers; l++) {
            dense_forward(m, l, x, n);
            x = m->act[l];
        }
        return;
    }
    for (l = 0; l < m->n_layers; l++) {
        m->layers[l].ops->small_forward(m, l, x, n);
        x = m->act[l];
    }
}

void nn__small_backward(nn_model *m, const float *x, size_t n, int out_da)
{
    size_t l = m->n_layers;
    if (!m->has_nondense) {
        while (l-- > 0)
            dense_backward(m, l, l ? m->act[l - 1] : x, n,
                           l + 1 == m->n_layers && !out_da);
        return;
    }
    while (l-- > m->grad_from)
        m->layers[l].ops->small_backward(m, l, l ? m->act[l - 1] : x, n,
                                         l + 1 == m->n_layers && !out_da);
}
