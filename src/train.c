/*
 * train.c - the forward pass (predict), the backward pass and the training
 * step. A batch goes through each layer as one matrix product; nothing here
 * loops over samples.
 */
#include "nn_internal.h"
#include "nn_math.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* Rows per slice of a prediction: bounds predict's scratch memory. */
#define NN__PREDICT_ROWS 256

/* The layer's product, Z (n x out) = A (n x in) . W, then its bias and
 * activation in one pass: Y = f(Z + b) (Z keeps Z + b when Y != Z); with
 * top, the largest nn__abs_bits of Y. */
static void dense_forward(const nn_model *m, const nn__layer *L,
                          const float *a, size_t n, float *z, float *y,
                          uint32_t *top)
{
    nn__gemm(0, 0, n, L->out, L->in, 1.0f, a, L->in, m->params + L->w_off,
             L->out, 0.0f, z, L->out);
    nn__activation_forward_bias(L->act, L->slope, z, m->params + L->b_off, y,
                                n, L->out, top);
}

void nn__forward_rows(const nn_model *m, const float *x, size_t k,
                      float *scratch, float *z, float *y)
{
    size_t l, half = k * nn__max_width(m);
    const float *in = x;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        int last = l + 1 == m->n_layers;
        float *out = last ? z : scratch + (l & 1) * half;
        dense_forward(m, L, in, k, out, last ? y : out, NULL);
        in = out;
    }
}

nn_status nn_model_predict(const nn_model *model, size_t n, const float *x,
                           size_t x_width, float *y, size_t y_width)
{
    static const char fn[] = "nn_model_predict";
    size_t rows, maxw, count, bytes, r;
    float *scratch;

    if (!model)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    if (!x || !y)
        return nn__fail(NN_E_NULL, "%s: %s is NULL", fn, x ? "y" : "x");
    if (n == 0)
        return nn__fail(NN_E_INVALID, "%s: n is 0", fn);
    if (model->n_layers == 0)
        return nn__fail(NN_E_STATE, "%s: the model has no layers", fn);
    if (x_width != model->input_width)
        return nn__fail(NN_E_SHAPE,
                        "%s: x_width is %zu, the model's input width is %zu",
                        fn, x_width, model->input_width);
    if (y_width != nn_model_output_width(model))
        return nn__fail(NN_E_SHAPE,
                        "%s: y_width is %zu, the model's output width is %zu",
                        fn, y_width, nn_model_output_width(model));
    if (!nn__bytes_fit(n, x_width, sizeof(float)) ||
        !nn__bytes_fit(n, y_width, sizeof(float)))
        return nn__fail(NN_E_OVERFLOW,
                        "%s: n = %zu rows of x or y overflow size_t", fn, n);

    rows = n < NN__PREDICT_ROWS ? n : NN__PREDICT_ROWS;
    maxw = nn__max_width(model);
    if (!nn__mul_size(rows, maxw, &count) ||
        !nn__mul_size(count, 2 * sizeof(float), &bytes))
        return nn__fail(NN_E_OVERFLOW,
                        "%s: scratch for %zu rows of width %zu overflows "
                        "size_t", fn, rows, maxw);
    scratch = (float *)nn__malloc(bytes);
    if (!scratch)
        return nn__fail(NN_E_NOMEM, "%s: allocating %zu bytes of scratch "
                        "failed", fn, bytes);

    for (r = 0; r < n; r += rows) {
        size_t k = n - r < rows ? n - r : rows;
        nn__forward_rows(model, x + r * x_width, k, scratch, y + r * y_width,
                         y + r * y_width);
    }
    nn__free(scratch);
    return NN_OK;
}

/* Makes the workspace hold n rows; keeps the old one if allocation fails. */
nn_status nn__workspace_reserve(const char *fn, nn_model *m, size_t n)
{
    size_t l, sum = 0, per_row, total, bytes, off, out_w;
    float *ws;
    float **act;

    if (n <= m->ws_rows)
        return NN_OK;
    out_w = m->layers[m->n_layers - 1].out;
    for (l = 0; l < m->n_layers; l++)
        sum += m->layers[l].out; /* cannot overflow: the params did not */
    /* per row: each layer's activations and gradient, and the logits */
    if (!nn__add_size(sum, sum, &per_row) ||
        !nn__add_size(per_row, out_w, &per_row) ||
        !nn__mul_size(per_row, n, &total) ||
        !nn__mul_size(total, sizeof(float), &bytes))
        return nn__fail(NN_E_OVERFLOW,
                        "%s: a workspace of %zu rows overflows size_t", fn, n);
    ws = (float *)nn__malloc(bytes);
    /* the block pointers, then act_top and delta_top */
    act = (float **)nn__malloc(2 * m->n_layers *
                               (sizeof *act + sizeof *m->act_top));
    if (!ws || !act) {
        nn__free(ws);
        nn__free(act);
        return nn__fail(NN_E_NOMEM,
                        "%s: allocating a workspace of %zu bytes for %zu "
                        "rows failed", fn, bytes, n);
    }
    nn__workspace_free(m);
    m->ws = ws;
    m->act = act;
    m->delta = act + m->n_layers;
    m->act_top = (uint32_t *)(act + 2 * m->n_layers);
    m->delta_top = m->act_top + m->n_layers;
    off = 0;
    for (l = 0; l < m->n_layers; l++) {
        m->act[l] = ws + off;
        off += n * m->layers[l].out;
        m->delta[l] = ws + off;
        off += n * m->layers[l].out;
    }
    m->logits = ws + off;
    m->ws_rows = n;
    m->small_rows = nn__small_rows(m);
    return NN_OK;
}

int nn__bytes_fit(size_t n, size_t width, size_t elem)
{
    size_t count;
    return nn__mul_size(n, width, &count) && nn__mul_size(count, elem, &count);
}

nn_status nn__check_rows(const char *fn, size_t n, const float *x,
                         const void *targets, int with_labels)
{
    if (!x)
        return nn__fail(NN_E_NULL, "%s: x is NULL", fn);
    if (!targets)
        return nn__fail(NN_E_NULL, "%s: %s is NULL", fn,
                        with_labels ? "labels" : "t");
    if (n == 0)
        return nn__fail(NN_E_INVALID, "%s: n is 0", fn);
    return NN_OK;
}

nn_status nn__check_batch(const char *fn, const nn_model *m, size_t n,
                          const float *x, size_t x_width, const float *t,
                          size_t t_width, const int32_t *labels, int flags)
{
    size_t out_w, i;
    int out_act, with_labels = (flags & NN__LABELS) != 0;

    nn_status st;
    if (!m)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    st = nn__check_rows(fn, n, x, with_labels ? (const void *)labels
                                              : (const void *)t,
                        with_labels);
    if (st != NN_OK)
        return st;
    if (m->n_layers == 0)
        return nn__fail(NN_E_STATE, "%s: the model has no layers", fn);
    out_w = m->layers[m->n_layers - 1].out;
    out_act = m->layers[m->n_layers - 1].act;
    if (x_width != m->input_width)
        return nn__fail(NN_E_SHAPE,
                        "%s: x_width is %zu, the model's input width is %zu",
                        fn, x_width, m->input_width);
    if (!with_labels && t_width != out_w)
        return nn__fail(NN_E_SHAPE,
                        "%s: t_width is %zu, the model's output width is %zu",
                        fn, t_width, out_w);
    if (m->loss == 0)
        return nn__fail(NN_E_STATE,
                        "%s: no loss is set (call nn_model_set_loss)", fn);
    if (with_labels && m->loss != NN_LOSS_CROSS_ENTROPY)
        return nn__fail(NN_E_STATE,
                        "%s: class labels need NN_LOSS_CROSS_ENTROPY, the "
                        "model's loss is %s", fn, nn__loss_name(m->loss));
    if (!nn__loss_fits(m->loss, out_act))
        return nn__fail(NN_E_STATE,
                        "%s: the %s loss cannot follow a %s output layer",
                        fn, nn__loss_name(m->loss),
                        nn__activation_name(out_act));
    if (!nn__bytes_fit(n, x_width, sizeof(float)) ||
        (with_labels ? !nn__bytes_fit(n, 1, sizeof(int32_t))
                     : !nn__bytes_fit(n, t_width, sizeof(float))))
        return nn__fail(NN_E_OVERFLOW,
                        "%s: n = %zu rows of x or of the targets overflow "
                        "size_t", fn, n);
    /* BLAS takes int dimensions (the workspace's size is checked when it
     * grows). */
    if ((flags & NN__STEP) && n > (size_t)INT_MAX)
        return nn__fail(NN_E_OVERFLOW,
                        "%s: n is %zu, more rows than one step can take "
                        "(at most %d)", fn, n, INT_MAX);
    if (with_labels)
        for (i = 0; i < n; i++)
            if (labels[i] < 0 || (size_t)labels[i] >= out_w)
                return nn__fail(NN_E_INVALID,
                                "%s: labels[%zu] is %ld, the model has %zu "
                                "outputs", fn, i, (long)labels[i], out_w);
    return NN_OK;
}

static void forward(nn_model *m, const float *x, size_t n)
{
    size_t l;
    const float *in = x;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        int last = l + 1 == m->n_layers;
        dense_forward(m, L, in, n, last ? m->logits : m->act[l], m->act[l],
                      last ? NULL : &m->act_top[l]);
        in = m->act[l];
    }
}

uint32_t nn__column_sums(float *g, float *db, size_t n, size_t k)
{
    size_t i, j;
    uint32_t top = 0;
    if (k >= 16)
        return nn__activation_backward_sums(NN_ACT_IDENTITY, 0.0f, NULL, g,
                                            db, n, k);
    for (j = 0; j < k; j++) {
        float acc = 0.0f;
        for (i = 0; i < n; i++) {
            uint32_t u = nn__abs_bits(g[i * k + j]);
            acc += g[i * k + j];
            top = u > top ? u : top;
        }
        db[j] = acc;
    }
    return top;
}

/* From delta[L-1] = dL/dZ of the output layer (the loss kernel's), back
 * through the layers: delta[l-1] = (delta[l] . W_lᵀ) ⊙ f'(A_{l-1}), and
 * db_l = the column sums of delta[l] into the gradient buffer, folded
 * into the pass that applies f' (nn__activation_backward_sums), which
 * also notes delta_top. The weights' gradients come after, from the kept
 * deltas: backward_weights, or the fused update of optim.c, which needs
 * all of them first. */
static void backward_deltas(nn_model *m, size_t n)
{
    size_t l = m->n_layers;
    const nn__layer *out = &m->layers[l - 1];
    m->delta_top[l - 1] = nn__column_sums(m->delta[l - 1],
                                          m->grads + out->b_off, n, out->out);
    while (--l > 0) {
        const nn__layer *L = &m->layers[l], *P = &m->layers[l - 1];
        /* G_prev = (G . Wᵀ) ⊙ f'(A_prev) */
        nn__gemm(0, 1, n, L->in, L->out, 1.0f, m->delta[l], L->out,
                 m->params + L->w_off, L->out, 0.0f, m->delta[l - 1], L->in);
        m->delta_top[l - 1] = nn__activation_backward_sums(
            P->act, P->slope, m->act[l - 1], m->delta[l - 1],
            m->grads + P->b_off, n, L->in);
    }
}

/* dW_l = A_{l-1}ᵀ . delta[l] into the gradient buffer, for every layer. */
static void backward_weights(nn_model *m, const float *x, size_t n)
{
    size_t l;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        nn__gemm(1, 0, L->in, L->out, n, 1.0f, l ? m->act[l - 1] : x, L->in,
                 m->delta[l], L->out, 0.0f, m->grads + L->w_off, L->out);
    }
}

/* NN_OK if every gradient is finite, else a message naming the layer. The
 * first pass is branch-free (it vectorises and costs a read of the
 * buffer); the second, which finds the culprit, runs only on failure. */
nn_status nn__check_grads(const char *fn, const nn_model *m)
{
    size_t l, i, n = m->n_params;
    const float *restrict g = m->grads;
    int ok = 1;
    for (i = 0; i < n; i++)
        ok &= isfinite(g[i]) != 0;
    if (ok)
        return NN_OK;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        const float *gl = m->grads + L->w_off;
        size_t count = L->in * L->out + L->out;
        for (i = 0; i < count; i++)
            if (!isfinite(gl[i]))
                return nn__fail(NN_E_NONFINITE,
                                "%s: the gradient of layer %zu is not finite "
                                "(%s[%zu] = %g); no parameter was changed",
                                fn, l, i < L->in * L->out ? "dW" : "db",
                                i < L->in * L->out ? i : i - L->in * L->out,
                                (double)gl[i]);
    }
    return NN_OK;
}

nn_status nn__run_batch(const char *fn, nn_model *m, size_t n,
                        const float *x, size_t x_width, const float *t,
                        size_t t_width, const int32_t *labels, int flags,
                        double *loss_out)
{
    const nn__layer *out;
    double loss;
    int small, fused = 0;
    nn_status st = nn__check_batch(fn, m, n, x, x_width, t, t_width, labels,
                                   flags | NN__STEP);
    if (st != NN_OK)
        return st;
    st = nn__workspace_reserve(fn, m, n);
    if (st == NN_OK && (flags & NN__TRAIN))
        st = nn__optim_prepare(fn, m);
    if (st != NN_OK)
        return st;
    out = &m->layers[m->n_layers - 1];
    small = n <= m->small_rows; /* direct loops: see small.c */
    if (small)
        nn__small_forward(m, x, n);
    else
        forward(m, x, n);
    loss = nn__loss_grad(m->loss, out->act, out->slope, m->logits,
                         m->act[m->n_layers - 1],
                         (flags & NN__LABELS) ? NULL : t,
                         (flags & NN__LABELS) ? labels : NULL,
                         m->delta[m->n_layers - 1], n, out->out);
    if (small) {
        nn__small_backward(m, x, n);
    } else {
        backward_deltas(m, n);
        /* A training step tries to fold the update into the weights'
         * products; where it cannot (or must not: see optim.c), the
         * gradients are formed and the optimizer applies them. */
        if ((flags & NN__TRAIN) && isfinite(loss))
            fused = nn__optim_fused(m, x, n);
        if (!fused)
            backward_weights(m, x, n);
    }
    if (loss_out)
        *loss_out = loss;
    if (!isfinite(loss))
        return nn__fail(NN_E_NONFINITE,
                        "%s: the loss is %g; no parameter was changed", fn,
                        loss);
    if (!(flags & NN__TRAIN))
        return nn__check_grads(fn, m);
    /* The optimizer's check pass fails on any non-finite gradient (and
     * then names the layer): one read of the gradients fewer. */
    return fused ? NN_OK : nn__optim_step(fn, m);
}

nn_status nn_model_compute_grads(nn_model *model, size_t n, const float *x,
                                 size_t x_width, const float *t,
                                 size_t t_width, double *loss)
{
    return nn__run_batch("nn_model_compute_grads", model, n, x, x_width, t,
                         t_width, NULL, 0, loss);
}

nn_status nn_model_compute_grads_labels(nn_model *model, size_t n,
                                        const float *x, size_t x_width,
                                        const int32_t *labels, double *loss)
{
    return nn__run_batch("nn_model_compute_grads_labels", model, n, x,
                         x_width, NULL, 0, labels, NN__LABELS, loss);
}

nn_status nn_model_train_batch(nn_model *model, size_t n, const float *x,
                               size_t x_width, const float *t, size_t t_width,
                               double *loss)
{
    static const char fn[] = "nn_model_train_batch";
    return nn__run_batch(fn, model, n, x, x_width, t, t_width, NULL,
                         NN__TRAIN, loss);
}

nn_status nn_model_train_batch_labels(nn_model *model, size_t n,
                                      const float *x, size_t x_width,
                                      const int32_t *labels, double *loss)
{
    static const char fn[] = "nn_model_train_batch_labels";
    return nn__run_batch(fn, model, n, x, x_width, NULL, 0, labels,
                         NN__LABELS | NN__TRAIN, loss);
}
