/* SPDX-License-Identifier: MIT */
/*
 * train.c - the passes: prediction (inference mode), and the training
 * step's forward pass, loss, backward pass and update. Each pass loops
 * over the layers and calls each layer's table of operations (layers/);
 * a batch goes through each layer whole, and nothing here loops over
 * samples or knows a kind of layer.
 */
#include "nn_internal.h"
#include "nn_math.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* Workspace blocks start on multiples of this many floats (64 bytes):
 * aligned for doubles, and for vector loads of whole cache lines. */
#define NN__BLOCK_ALIGN 16

size_t nn__infer_floats(const nn_model *m, size_t k)
{
    size_t l, maxw = nn__max_width(m), count, extra = 0;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        size_t e = L->ops->infer_floats(L, k);
        if (e > extra)
            extra = e;
    }
    /* two blocks of k x max width, each layer's output going to the one
     * its input is not in, and the largest layer's own scratch */
    if (!nn__mul_size(k, maxw, &count) || !nn__mul_size(count, 2, &count) ||
        !nn__add_size(count, extra, &count) ||
        !nn__bytes_fit(count, 1, sizeof(float)))
        return 0;
    return count;
}

void nn__forward_rows(const nn_model *m, const float *x, size_t k,
                      float *scratch, float *y, float *z,
                      const float **logits, const nn__pack *pack)
{
    size_t l, half = k * nn__max_width(m);
    float *blocks[2];
    const float *in = x;
    nn__infer a;
    blocks[0] = scratch;
    blocks[1] = scratch + half;
    a.k = k;
    a.scratch = scratch + 2 * half;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        int last = l + 1 == m->n_layers;
        const float *out;
        a.x = in;
        a.y = last ? y : blocks[in == blocks[0]];
        a.z = last ? z : NULL;
        a.logits = last ? logits : NULL;
        a.packed = pack ? pack->w[l] : NULL;
        if (last && logits)
            *logits = NULL;
        out = L->ops->forward_infer(m, L, &a);
        if (last && out != y) /* a last layer that passed its input on */
            memcpy(y, out, k * L->out * sizeof(float));
        in = out;
    }
    if (logits && !*logits) /* a last layer without an activation */
        *logits = y;
}

/* nn_model_predict's scratch is kept in the model between calls, so that
 * a program predicting batch after batch allocates nothing after the
 * first. The model is const there and may be shared by threads: a call
 * takes the block with an atomic exchange (leaving NULL), and gives it
 * back with a compare-and-exchange from NULL; a call that finds no block,
 * or one too small, allocates its own, and a block that cannot go back
 * because another took its place is freed. The block starts on a cache
 * line (nn__malloc_lines) with its capacity in floats, in a header that
 * keeps the floats on one too. */
#define NN__CACHE_HEAD ((size_t)64)

static unsigned char *cache_swap(const nn_model *m, unsigned char *with)
{
    nn_model *w = (nn_model *)m; /* the cache is not the model's value */
#if defined(__GNUC__)
    return (unsigned char *)__atomic_exchange_n(&w->infer_cache, (void *)with,
                                                __ATOMIC_ACQ_REL);
#else
    (void)w;
    return with; /* no atomics: no cache */
#endif
}

static unsigned char *cache_take(const nn_model *m, size_t count)
{
    unsigned char *b = cache_swap(m, NULL);
    if (b && *(size_t *)(void *)b >= count)
        return b;
    nn__free_lines(b);
    if (count > ((size_t)-1 - NN__CACHE_HEAD) / sizeof(float))
        return NULL;
    b = (unsigned char *)nn__malloc_lines(NN__CACHE_HEAD +
                                          count * sizeof(float));
    if (b)
        *(size_t *)(void *)b = count;
    return b;
}

static void cache_give(const nn_model *m, unsigned char *b)
{
#if defined(__GNUC__)
    void *expected = NULL;
    nn_model *w = (nn_model *)m;
    if (__atomic_compare_exchange_n(&w->infer_cache, &expected, (void *)b, 0,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
#else
    (void)m;
#endif
    nn__free_lines(b);
}

void nn__infer_cache_free(nn_model *m)
{
    nn__free_lines(m->infer_cache);
    m->infer_cache = NULL;
}

nn_status nn_model_predict(const nn_model *model, size_t n, const float *x,
                           size_t x_width, float *y, size_t y_width)
{
    static const char fn[] = "nn_model_predict";
    size_t rows, count, r;
    unsigned char *block;
    float *scratch;
    const nn__pack *pack;

    if (!model)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    if (!x || !y)
        return nn__fail(NN_E_NULL, "%s: %s is NULL", fn, x ? "y" : "x");
    if (!nn__aligned(x) || !nn__aligned(y))
        return nn__fail(NN_E_INVALID, "%s: %s is not aligned for float", fn,
                        nn__aligned(x) ? "y" : "x");
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
    count = nn__infer_floats(model, rows);
    if (count == 0)
        return nn__fail(NN_E_OVERFLOW,
                        "%s: scratch for %zu rows of width %zu overflows "
                        "size_t", fn, rows, nn__max_width(model));
    block = cache_take(model, count);
    if (!block)
        return nn__fail(NN_E_NOMEM, "%s: allocating %zu bytes of scratch "
                        "failed", fn, count * sizeof(float));
    scratch = (float *)(block + NN__CACHE_HEAD);
    pack = nn__pack_get(model);

    for (r = 0; r < n; r += rows) {
        size_t k = n - r < rows ? n - r : rows;
        nn__forward_rows(model, x + r * x_width, k, scratch, y + r * y_width,
                         NULL, NULL, pack);
    }
    cache_give(model, block);
    return NN_OK;
}

/* *total += count rounded up to a multiple of NN__BLOCK_ALIGN; 0 on
 * overflow. */
static int add_block(size_t *total, size_t count)
{
    size_t r = count % NN__BLOCK_ALIGN;
    if (r && !nn__add_size(count, NN__BLOCK_ALIGN - r, &count))
        return 0;
    return nn__add_size(*total, count, total);
}

/* Makes the workspace hold n rows; keeps the old one if allocation fails.
 * Layout: for each layer, its output block, its delta block and its extra
 * block, then the room the kernel packs B into (the largest any layer
 * asks for), each starting on a 64-byte boundary. */
nn_status nn__workspace_grow(const char *fn, nn_model *m, size_t n)
{
    size_t l, total = 0, bytes, off, L = m->n_layers, kfloats = 0;
    float *ws;
    float **ptrs;

    if (n <= m->ws_rows)
        return NN_OK;
    for (l = 0; l < L; l++) {
        const nn__layer *ly = &m->layers[l];
        size_t block;
        if (!nn__mul_size(n, ly->out, &block) ||
            !add_block(&total, block) || !add_block(&total, block) ||
            !add_block(&total, ly->ops->train_floats(m, l, n)))
            goto overflow;
        if (ly->ops->kernel_floats) {
            size_t k = ly->ops->kernel_floats(ly, n);
            kfloats = k > kfloats ? k : kfloats;
        }
    }
    if (!add_block(&total, kfloats))
        goto overflow;
    if (!nn__mul_size(total, sizeof(float), &bytes))
        goto overflow;
    ws = (float *)nn__malloc_lines(bytes); /* starts on a boundary */
    /* the block pointers, then act_top and delta_top */
    ptrs = (float **)nn__malloc(3 * L * sizeof *ptrs +
                                2 * L * sizeof *m->act_top);
    if (!ws || !ptrs) {
        nn__free_lines(ws);
        nn__free(ptrs);
        return nn__fail(NN_E_NOMEM,
                        "%s: allocating a workspace of %zu bytes for %zu "
                        "rows failed", fn, bytes, n);
    }
    nn__workspace_free(m);
    m->ws = ws;
    m->act = ptrs;
    m->delta = ptrs + L;
    m->extra = ptrs + 2 * L;
    m->act_top = (uint32_t *)(ptrs + 3 * L);
    m->delta_top = m->act_top + L;
    off = 0;
    for (l = 0; l < L; l++) {
        size_t block = n * m->layers[l].out;
        size_t extra = m->layers[l].ops->train_floats(m, l, n);
        m->act[l] = ws + off;
        (void)add_block(&off, block); /* the sums were checked above */
        m->delta[l] = ws + off;
        (void)add_block(&off, block);
        m->extra[l] = extra ? ws + off : NULL;
        (void)add_block(&off, extra);
        m->act_top[l] = m->delta_top[l] = 0;
    }
    m->kbuf = kfloats ? ws + off : NULL;
    m->logits = NULL;
    m->ws_rows = n;
    m->small_rows = nn__small_rows(m);
    return NN_OK;
overflow:
    return nn__fail(NN_E_OVERFLOW,
                    "%s: a workspace of %zu rows overflows size_t", fn, n);
}

int nn__bytes_fit(size_t n, size_t width, size_t elem)
{
    size_t count;
    return nn__mul_size(n, width, &count) && nn__mul_size(count, elem, &count);
}

nn_status nn__check_rows(const char *fn, size_t n, const void *x,
                         const void *targets, int how)
{
    return nn__check_rows_empty(fn, n, x, targets, how, 0);
}

nn_status nn__check_rows_empty(const char *fn, size_t n, const void *x,
                               const void *targets, int how,
                               int allow_empty)
{
    const char *tname = (how & NN__ROWS_LABELS) ? "labels" : "t";
    int x_aligned = (how & NN__ROWS_X_BYTES) || nn__aligned(x);
    if (!x)
        return nn__fail(NN_E_NULL, "%s: x is NULL", fn);
    if (!targets)
        return nn__fail(NN_E_NULL, "%s: %s is NULL", fn, tname);
    if (!x_aligned || !nn__aligned(targets))
        return nn__fail(NN_E_INVALID, "%s: %s is not aligned for its type",
                        fn, x_aligned ? tname : "x");
    if (n == 0 && !allow_empty)
        return nn__fail(NN_E_INVALID, "%s: n is 0", fn);
    return NN_OK;
}


/* nn__check_batch's checks of the model alone: their outcome depends on
 * the flags and on what nn__config_changed guards. */
NN__COLD static nn_status check_model(const char *fn, const nn_model *m,
                                      int flags, size_t out_w)
{
    float p;
    int out_act = nn__out_act(m, &p);
    int with_labels = (flags & NN__LABELS) != 0;
    if (m->loss == 0)
        return nn__fail(NN_E_STATE,
                        "%s: no loss is set (call nn_model_set_loss)", fn);
    if (with_labels && m->loss != NN_LOSS_CROSS_ENTROPY)
        return nn__fail(NN_E_STATE,
                        "%s: class labels need NN_LOSS_CROSS_ENTROPY, the "
                        "model's loss is %s", fn,
                        nn_loss_name((nn_loss)m->loss));
    if (!nn__loss_fits(m->loss, out_act))
        return nn__fail(NN_E_STATE,
                        "%s: the %s loss cannot follow a %s output layer",
                        fn, nn_loss_name((nn_loss)m->loss),
                        nn_activation_name((nn_activation)out_act));
    if (m->n_class_w > 0 && m->loss != NN_LOSS_CROSS_ENTROPY)
        return nn__fail(NN_E_STATE,
                        "%s: class weights need NN_LOSS_CROSS_ENTROPY, the "
                        "model's loss is %s", fn,
                        nn_loss_name((nn_loss)m->loss));
    if (m->n_class_w > 0 && m->n_class_w != out_w)
        return nn__fail(NN_E_STATE,
                        "%s: the model has %zu class weights and %zu "
                        "outputs", fn, m->n_class_w, out_w);
    if ((flags & NN__TRAIN) && nn__replicated(m) && m->part_rows == 0)
        return nn__fail(NN_E_STATE,
                        "%s: the model is replica %zu of %zu: a step takes "
                        "its part of a batch (nn_model_set_batch_part)", fn,
                        m->replica_rank, m->replica_count);
    return NN_OK;
}

/* nn__check_batch, inline in nn__run_batch: a step of a tiny net feels a
 * call. */
static inline nn_status check_batch(const char *fn, const nn_model *m,
                                    size_t n, const void *x, size_t x_width,
                                    const float *t, size_t t_width,
                                    const int32_t *labels, int flags)
{
    size_t out_w, i;
    int with_labels = (flags & NN__LABELS) != 0, known;
    nn_status st;
    if (!m)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    /* a part of a data-parallel batch may have no rows */
    st = nn__check_rows_empty(fn, n, x, with_labels ? (const void *)labels
                                                    : (const void *)t,
                              (with_labels ? NN__ROWS_LABELS : 0) |
                                  ((flags & NN__X_BYTES) ? NN__ROWS_X_BYTES
                                                         : 0),
                              (flags & NN__STEP) && m->part_rows > 0);
    if (st != NN_OK)
        return st;
    if (m->n_layers == 0)
        return nn__fail(NN_E_STATE, "%s: the model has no layers", fn);
    out_w = m->layers[m->n_layers - 1].out;
    /* a whole batch of a kind this model passed before (nn_model.checked) */
    known = m->part_rows == 0 && (m->checked & nn__check_bit(flags)) != 0;
    if (x_width != m->input_width)
        return nn__fail(NN_E_SHAPE,
                        "%s: x_width is %zu, the model's input width is %zu",
                        fn, x_width, m->input_width);
    if (!with_labels && t_width != out_w)
        return nn__fail(NN_E_SHAPE,
                        "%s: t_width is %zu, the model's output width is %zu",
                        fn, t_width, out_w);
    if (!known) {
        st = check_model(fn, m, flags, out_w);
        if (st != NN_OK)
            return st;
    }
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
    if ((flags & NN__STEP) && m->part_rows > 0) {
        if ((flags & NN__TRAIN) && !m->reduce_grads)
            return nn__fail(NN_E_STATE,
                            "%s: the model takes a part of a batch "
                            "(nn_model_set_batch_part): compute its "
                            "gradients, reduce them, then apply them", fn);
        if (n > m->part_rows - m->part_first)
            return nn__fail(NN_E_SHAPE,
                            "%s: rows %zu to %zu of a batch of %zu", fn,
                            m->part_first, m->part_first + n,
                            m->part_rows);
        if (!m->reduce && (flags & NN__TRAIN))
            return nn__fail(NN_E_STATE,
                            "%s: a replica's step needs a reducer "
                            "(nn_model_set_reducer)", fn);
        if (!m->reduce && (nn__needs_two_rows(m) || m->n_class_w > 0))
            return nn__fail(NN_E_STATE,
                            "%s: a part of a batch of a model with %s "
                            "needs a reducer (nn_model_set_reducer)", fn,
                            m->n_class_w ? "class weights"
                                         : "batch normalization");
    }
    if ((flags & NN__STEP) && nn__batch_rows(m, n) == 1 &&
        nn__needs_two_rows(m))
        return nn__fail(NN_E_INVALID,
                        "%s: n is 1; batch normalization needs at least 2 "
                        "rows to train on", fn);
    if (with_labels)
        for (i = 0; i < n; i++)
            if (labels[i] < 0 || (size_t)labels[i] >= out_w)
                return nn__fail(NN_E_INVALID,
                                "%s: labels[%zu] is %ld, the model has %zu "
                                "outputs", fn, i, (long)labels[i], out_w);
    return NN_OK;
}

nn_status nn__check_batch(const char *fn, const nn_model *m, size_t n,
                          const void *x, size_t x_width, const float *t,
                          size_t t_width, const int32_t *labels, int flags)
{
    return check_batch(fn, m, n, x, x_width, t, t_width, labels, flags);
}

/* The training-mode passes of n rows of x through the layers' tables
 * (the small path has its own loops over the layers, in small.c): forward,
 * and backward from the loss's dL/dZ in delta[L - 1], which every layer
 * turns into its gradients and the gradient of its input. */
static void forward(nn_model *m, const float *x, size_t n)
{
    size_t l;
    const float *in = x;
    for (l = 0; l < m->n_layers; l++) {
        m->layers[l].ops->forward_train(m, l, in, n);
        in = m->act[l];
    }
}

/* eager: each layer's gradients are completed in the loop (the weights'
 * product right after the layer's backward step) and announced to
 * grads_ready; otherwise the weight products come after every layer's
 * backward step (weight_grads, or the update folded into them). */
static void backward(nn_model *m, const float *x, size_t n, int small,
                     int eager)
{
    size_t l = m->n_layers;
    while (l-- > m->grad_from) {
        const nn__layer *L = &m->layers[l];
        const nn__layer_ops *ops = L->ops;
        const float *in = l ? m->act[l - 1] : x;
        int dz = l + 1 == m->n_layers;
        if (small) {
            ops->small_backward(m, l, in, n, dz);
        } else {
            ops->backward(m, l, in, n, dz);
            if (eager && ops->weight_product)
                ops->weight_product(m, l, in, n, 1.0f, 0.0f,
                                    m->grads + L->w_off);
        }
        if (eager && m->grads_ready && L->w_count + L->b_count > 0)
            m->grads_ready(m->grads_ready_user, l, L->w_off,
                           L->w_count + L->b_count);
    }
}

/* The gradients the layers form after the backward pass (dense layers'
 * dW), for every layer. */
static void weight_grads(nn_model *m, const float *x, size_t n)
{
    size_t l;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        if (L->ops->weight_product)
            L->ops->weight_product(m, l, l ? m->act[l - 1] : x, n, 1.0f,
                                   0.0f, m->grads + L->w_off);
    }
}

/* After a pass that succeeded: what layers keep besides parameters. */
static void commit(nn_model *m, size_t n)
{
    size_t l;
    if (!m->has_commit)
        return;
    for (l = 0; l < m->n_layers; l++)
        if (m->layers[l].ops->commit)
            m->layers[l].ops->commit(m, l, n);
}

/* Cross-entropy with class weights and labels normalises by the sum of
 * the rows' class weights: of this batch, or of the whole of which it is
 * a part. */
static double label_weight_sum(nn_model *m, const int32_t *labels, size_t n)
{
    double sum = 0.0;
    size_t i;
    for (i = 0; i < n; i++)
        sum += (double)m->class_w[labels[i]];
    if (m->part_rows)
        nn__reduce(m, &sum, 1);
    return sum;
}

/* The end of a pass over a part of a batch (nn_model_set_batch_part):
 * the reductions every part takes part in, then the update of the whole
 * batch with NN__TRAIN. Out of nn__run_batch, which whole batches of
 * tiny nets run through. */
NN__COLD static nn_status finish_part(const char *fn, nn_model *m,
                                      int flags, double *loss_io)
{
    nn_status st = NN_OK;
    double loss = *loss_io;
    /* A replica's step first sums the gradients (the sum of the parts'
     * is the whole batch's, the same on every replica, so the update,
     * whose check pass refuses a sum that is not finite, is too).
     * Then every part learns the whole batch's loss, and whether any
     * part's gradient is not finite or a reducer failed, so that all
     * of them decide alike. */
    double all[3];
    nn_status mine = nn__check_grads(fn, m);
    int grads_rc = 0;
    if (flags & NN__TRAIN)
        grads_rc = m->reduce_grads(m->reduce_grads_user, m->grads,
                                   m->n_params);
    all[0] = loss;
    all[1] = mine == NN_OK ? 0.0 : 1.0;
    all[2] = m->reduce_failed || grads_rc ? 1.0 : 0.0;
    nn__reduce(m, all, 3);
    loss = all[0];
    if (m->reduce_failed)
        st = nn__fail(NN_E_REDUCE, "%s: the reducer failed (it "
                      "returned %d); nothing was changed", fn,
                      m->reduce_failed);
    else if (grads_rc)
        st = nn__fail(NN_E_REDUCE, "%s: the gradients' reducer failed "
                      "(it returned %d); nothing was changed", fn,
                      grads_rc);
    else if (all[2] != 0.0)
        st = nn__fail(NN_E_REDUCE, "%s: a reducer of another part of "
                      "the batch failed; nothing was changed", fn);
    else if (mine != NN_OK)
        st = mine;
    else if (all[1] != 0.0)
        st = nn__fail(NN_E_NONFINITE, "%s: the gradient of another "
                      "part of the batch is not finite; no parameter "
                      "was changed", fn);
    else if (!isfinite(loss))
        st = nn__fail(NN_E_NONFINITE, "%s: the loss is %g; no "
                      "parameter was changed", fn, loss);
    else if (flags & NN__TRAIN)
        st = nn__optim_step(fn, m);
    *loss_io = loss;
    return st;
}

/* nn__run_batch, inline in the training steps below, whose constant flags
 * fold its branches away: a tiny net's step feels them. */
static NN__ALWAYS_INLINE nn_status run_batch(const char *fn, nn_model *m,
                                             size_t n, const float *x,
                                             size_t x_width, const float *t,
                                             size_t t_width,
                                             const int32_t *labels,
                                             int flags, double *loss_out)
{
    nn__loss_args la;
    double loss;
    unsigned added = 0;
    int small, fused = 0, eager, loops, out_da = 0;
    nn_status st = check_batch(fn, m, n, x, x_width, t, t_width, labels,
                               flags | NN__STEP);
    if (st != NN_OK)
        return st;
    if (m->part_rows == 0 && !(m->checked & nn__check_bit(flags)))
        m->checked |= nn__check_bit(flags);
    /* a part of a batch forms its gradients (to be reduced) */
    eager = !(flags & NN__TRAIN) || m->part_rows > 0;
    /* a part with no rows still runs the layers, for their reductions */
    st = nn__workspace_reserve(fn, m, n ? n : 1);
    if (st == NN_OK && (flags & NN__TRAIN))
        st = nn__optim_prepare(fn, m, &added);
    if (st != NN_OK)
        return st;
    m->row_offset = m->part_first;
    m->reduce_failed = 0;
    small = n > 0 && n <= m->small_rows; /* direct loops: see small.c */
    if (small) /* the small path's own loop over the layers */
        nn__small_forward(m, x, n);
    else
        forward(m, x, n);
    nn__loss_args_of(m, nn__batch_rows(m, n), &la);
    if (la.class_w && (flags & NN__LABELS))
        la.weight_sum = label_weight_sum(m, labels, n);
    /* Where small.c's loops apply a sigmoid output's derivative in place
     * (nn__chain_block), an element-wise loss leaves it to them: dL/dA,
     * without a call to the kernel on the step's chain. */
    loops = small && !(eager && m->grads_ready);
    if (loops && nn__chain_block(la.act, n, m->layers[m->n_layers - 1].out) &&
        nn__loss_elementwise(la.loss)) {
        la.act = NN_ACT_IDENTITY;
        out_da = 1;
    }
    loss = nn__loss_grad(&la, m->logits, m->act[m->n_layers - 1],
                         (flags & NN__LABELS) ? NULL : t,
                         (flags & NN__LABELS) ? labels : NULL,
                         m->delta[m->n_layers - 1], n,
                         m->layers[m->n_layers - 1].out);
    if (loops)
        nn__small_backward(m, x, n, out_da);
    else
        backward(m, x, n, small, eager);
    if (!small && !eager) {
        /* A training step tries to fold the update into the weights'
         * products; where it cannot (or must not: see optim.c), the
         * gradients are formed and the optimizer applies them. */
        if (isfinite(loss))
            fused = nn__optim_fused(m, x, n);
        if (!fused)
            weight_grads(m, x, n);
    }
    if (m->part_rows) {
        st = finish_part(fn, m, flags, &loss);
    } else if (!isfinite(loss)) {
        st = nn__fail(NN_E_NONFINITE,
                      "%s: the loss is %g; no parameter was changed", fn,
                      loss);
    } else if (!(flags & NN__TRAIN)) {
        st = nn__check_grads(fn, m);
    } else if (!fused) {
        /* The optimizer's check pass fails on any non-finite gradient
         * (and then names the layer): one read of the gradients fewer. */
        st = nn__optim_step(fn, m);
    }
    if (loss_out)
        *loss_out = loss;
    if (st == NN_OK)
        commit(m, n);
    else
        nn__optim_unprepare(m, added); /* no state a failed step made */
    return st;
}

nn_status nn__run_batch(const char *fn, nn_model *m, size_t n,
                        const float *x, size_t x_width, const float *t,
                        size_t t_width, const int32_t *labels, int flags,
                        double *loss_out)
{
    return run_batch(fn, m, n, x, x_width, t, t_width, labels, flags,
                     loss_out);
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
    return run_batch(fn, model, n, x, x_width, t, t_width, NULL,
                     NN__TRAIN, loss);
}

nn_status nn_model_train_batch_labels(nn_model *model, size_t n,
                                      const float *x, size_t x_width,
                                      const int32_t *labels, double *loss)
{
    static const char fn[] = "nn_model_train_batch_labels";
    return run_batch(fn, model, n, x, x_width, NULL, 0, labels,
                     NN__LABELS | NN__TRAIN, loss);
}
