/*
 * small.c - the forward and backward passes of small nets, as direct loops.
 *
 * For a net as small as the 2-2-1 of the seed notebooks, a training step
 * does a few dozen multiply-adds, and what it costs is the set-up around
 * them: five calls to the matrix product, a bias copy and a column-sum
 * loop per layer. Here the products are plain loops over the rows: forward,
 * each output starts from its bias and accumulates in a register; backward,
 * one sweep over a layer's rows produces dW, db and the previous layer's
 * gradient together. The activations and the loss are the same kernels as
 * on the general path.
 *
 * Which path: a batch of n rows takes this one when n times the net's
 * multiply-adds per row is at most NN__SMALL_WORK (320). Measured with
 * `bench_train --sweep` (w-w-w sigmoid nets; general-path time over
 * small-path time; bench/RESULTS.md): at batch 1, 1.31 (w = 2), 1.68 (8),
 * 1.32 (12), 0.88 (16); at batch 8, 1.38 (4), 0.83 (8); at batch 32, 1.49
 * (2), 0.95 (4). The rule takes the faster path in each of those cases.
 *
 * The results agree with the general path's to float rounding (the sums
 * run in a different order); tests/test_gradients.c checks both paths
 * against finite differences and tests/test_small.c compares them.
 */
#include "nn_internal.h"

size_t nn__small_rows(const nn_model *m)
{
    size_t l, macs = 0;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        if (L->in > NN__SMALL_WORK || L->out > NN__SMALL_WORK)
            return 0;
        macs += L->in * L->out; /* both <= NN__SMALL_WORK: no overflow */
        if (macs > NN__SMALL_WORK)
            return 0;
    }
    return macs ? NN__SMALL_WORK / macs : 0;
}

void nn__small_forward(nn_model *m, const float *x, size_t n)
{
    size_t l, i, j, p;
    const float *a = x;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        const size_t in = L->in, out = L->out;
        const float *w = m->params + L->w_off, *b = m->params + L->b_off;
        int last = l + 1 == m->n_layers;
        float *z = last ? m->logits : m->act[l], *y = m->act[l];
        for (i = 0; i < n; i++) {
            const float *ar = a + i * in;
            float *zr = z + i * out;
            for (j = 0; j < out; j++) {
                float acc = b[j];
                for (p = 0; p < in; p++)
                    acc += ar[p] * w[p * out + j];
                zr[j] = acc;
            }
        }
        nn__activation_forward(L->act, L->slope, z, y, n, out);
        a = y;
    }
}

void nn__small_backward(nn_model *m, const float *x, size_t n)
{
    size_t l = m->n_layers, i, j, p;
    while (l-- > 0) {
        const nn__layer *L = &m->layers[l];
        const size_t in = L->in, out = L->out;
        const float *a_prev = l ? m->act[l - 1] : x;
        const float *w = m->params + L->w_off, *g = m->delta[l];
        float *dw = m->grads + L->w_off, *db = m->grads + L->b_off;
        float *gp = l ? m->delta[l - 1] : NULL;
        /* Row 0 sets dW and db, the later rows add to them: no separate
         * zeroing pass (the compiler makes one a memset call). */
        for (i = 0; i < n; i++) {
            const float *gr = g + i * out, *ar = a_prev + i * in;
            for (j = 0; j < out; j++)
                db[j] = i ? db[j] + gr[j] : gr[j];
            for (p = 0; p < in; p++) {
                const float ap = ar[p], *wr = w + p * out;
                float *dwr = dw + p * out, s = 0.0f;
                for (j = 0; j < out; j++) {
                    dwr[j] = i ? dwr[j] + ap * gr[j] : ap * gr[j];
                    s += wr[j] * gr[j];
                }
                if (gp)
                    gp[i * in + p] = s;
            }
        }
        if (gp)
            nn__activation_backward(m->layers[l - 1].act,
                                    m->layers[l - 1].slope, a_prev, gp, n,
                                    in);
    }
}
