/* SPDX-License-Identifier: MIT */
/*
 * fit.c - datasets (views of the caller's arrays), the mini-batch training
 * loop with shuffling, validation and early stopping, and evaluation.
 */
#define _POSIX_C_SOURCE 200809L

#include "nn_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Rows per slice when evaluating: bounds the scratch memory. */
#define NN__EVAL_ROWS 256

/* x is n x x_width floats, or bytes when x_bytes is set. */
static nn_status data_create(const char *fn, nn_data **out, size_t n,
                             const void *x, int x_bytes, size_t x_width,
                             const float *t, size_t t_width,
                             const int32_t *labels, int with_labels)
{
    nn_data *d;
    size_t i;
    nn_status st;
    if (!out)
        return nn__fail(NN_E_NULL, "%s: out is NULL", fn);
    *out = NULL;
    st = nn__check_rows(fn, n, x, with_labels ? (const void *)labels
                                              : (const void *)t,
                        (with_labels ? NN__ROWS_LABELS : 0) |
                            (x_bytes ? NN__ROWS_X_BYTES : 0));
    if (st != NN_OK)
        return st;
    if (x_width == 0 || (!with_labels && t_width == 0))
        return nn__fail(NN_E_INVALID, "%s: %s is 0", fn,
                        x_width == 0 ? "x_width" : "t_width");
    /* its rows are converted to floats, so their floats must fit too */
    if (!nn__bytes_fit(n, x_width, sizeof(float)) ||
        (with_labels ? !nn__bytes_fit(n, 1, sizeof(int32_t))
                     : !nn__bytes_fit(n, t_width, sizeof(float))))
        return nn__fail(NN_E_OVERFLOW, "%s: n = %zu rows overflow size_t",
                        fn, n);
    if (with_labels)
        for (i = 0; i < n; i++)
            if (labels[i] < 0)
                return nn__fail(NN_E_INVALID, "%s: labels[%zu] is %ld", fn,
                                i, (long)labels[i]);
    d = (nn_data *)nn__calloc(1, sizeof *d);
    if (!d)
        return nn__fail(NN_E_NOMEM, "%s: allocating %zu bytes failed", fn,
                        sizeof *d);
    d->n = n;
    d->x = x_bytes ? NULL : (const float *)x;
    d->xb = x_bytes ? (const uint8_t *)x : NULL;
    d->x_width = x_width;
    d->t = with_labels ? NULL : t;
    d->t_width = with_labels ? 0 : t_width;
    d->labels = with_labels ? labels : NULL;
    *out = d;
    return NN_OK;
}

nn_status nn_data_create(nn_data **out, size_t n, const float *x,
                         size_t x_width, const float *t, size_t t_width)
{
    return data_create("nn_data_create", out, n, x, 0, x_width, t, t_width,
                       NULL, 0);
}

nn_status nn_data_create_labels(nn_data **out, size_t n, const float *x,
                                size_t x_width, const int32_t *labels)
{
    return data_create("nn_data_create_labels", out, n, x, 0, x_width, NULL,
                       0, labels, 1);
}

nn_status nn_data_create_u8(nn_data **out, size_t n, const uint8_t *x,
                            size_t x_width, const float *t, size_t t_width)
{
    return data_create("nn_data_create_u8", out, n, x, 1, x_width, t,
                       t_width, NULL, 0);
}

nn_status nn_data_create_labels_u8(nn_data **out, size_t n,
                                   const uint8_t *x, size_t x_width,
                                   const int32_t *labels)
{
    return data_create("nn_data_create_labels_u8", out, n, x, 1, x_width,
                       NULL, 0, labels, 1);
}

/* Rows r to r + k of the set's inputs as floats: the caller's floats, or
 * its bytes converted into buf (room for k rows). */
static const float *data_rows(const nn_data *d, size_t r, size_t k,
                              float *buf)
{
    size_t i, count = k * d->x_width;
    const uint8_t *src;
    if (d->x)
        return d->x + r * d->x_width;
    src = d->xb + r * d->x_width;
    for (i = 0; i < count; i++)
        buf[i] = (float)src[i];
    return buf;
}

/* Rows drawn at random miss every cache: the gather of a shuffled batch
 * waited on each row's first load (56% of the gather's time on the main
 * job's profile, bench/RESULTS.md, "Since b7a9b44") and on its label
 * (24%). Asking for row perm[i + NN__AHEAD]'s lines while row i is
 * copied overlaps those waits: the gather went from 3.5-3.8% of the job's
 * samples to 2.1-2.5% (three runs each, AMD EPYC Zen 3;
 * bench/results/beta-zen3/shares.txt). Only a hint: it changes no value. */
#define NN__AHEAD 4

/* Always inlined: gcc 12 otherwise finds that a call which only prefetches
 * has no effect, and drops it. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void prefetch_row(const nn_data *d, size_t row, size_t out_w)
{
#if defined(__GNUC__)
    size_t w = d->x_width, bytes = w * (d->x ? sizeof(float) : 1), off;
    const char *p = d->x ? (const char *)(d->x + row * w)
                         : (const char *)(d->xb + row * w);
    for (off = 0; off < bytes; off += 64) /* each line the row spans */
        __builtin_prefetch(p + off);
    if (bytes)
        __builtin_prefetch(p + bytes - 1);
    if (d->labels)
        __builtin_prefetch(d->labels + row);
    else {
        __builtin_prefetch(d->t + row * out_w);
        __builtin_prefetch(d->t + row * out_w + out_w - 1);
    }
#else
    (void)d, (void)row, (void)out_w;
#endif
}

void nn_data_free(nn_data *data)
{
    nn__free(data);
}

size_t nn_data_rows(const nn_data *data)
{
    return data ? data->n : 0;
}

static nn_status check_data(const char *fn, const char *name,
                            const nn_model *m, const nn_data *d)
{
    char where[64]; /* "nn_model_fit: val": says which dataset */
    if (!d)
        return nn__fail(NN_E_NULL, "%s: %s is NULL", fn, name);
    snprintf(where, sizeof where, "%s: %s", fn, name);
    return nn__check_batch(where, m, d->n,
                           d->x ? (const void *)d->x : (const void *)d->xb,
                           d->x_width, d->t, d->t_width, d->labels,
                           (d->labels ? NN__LABELS : 0) |
                               (d->xb ? NN__X_BYTES : 0));
}

static size_t argmax(const float *v, size_t k)
{
    size_t j, best = 0;
    for (j = 1; j < k; j++)
        if (v[j] > v[best])
            best = j;
    return best;
}

/* Whether accuracy is defined for this model and data. */
static int has_accuracy(const nn_model *m, const nn_data *d, size_t out_w)
{
    return d->labels || out_w > 1 || m->loss == NN_LOSS_BCE;
}

static size_t count_right(const nn_model *m, const nn_data *d, size_t r,
                          size_t k, const float *y, size_t out_w)
{
    size_t i, right = 0;
    float p;
    int out_act = nn__out_act(m, &p);
    for (i = 0; i < k; i++) {
        const float *yr = y + i * out_w;
        if (d->labels)
            right += argmax(yr, out_w) == (size_t)d->labels[r + i];
        else if (out_w > 1)
            right += argmax(yr, out_w) ==
                     argmax(d->t + (r + i) * out_w, out_w);
        else {
            float thr = out_act == NN_ACT_SIGMOID ? 0.5f : 0.0f;
            right += (yr[0] > thr) == (d->t[r + i] > 0.5f);
        }
    }
    return right;
}

/* Allocates the scratch evaluate needs for data: the inference pass's
 * (nn__infer_floats), 3 blocks of rows x out_w for logits, outputs and
 * the (unused) loss gradient, and for a byte dataset a block of rows x
 * x_width for a slice's inputs as floats. */
static nn_status eval_scratch(const char *fn, const nn_model *model,
                              const nn_data *data, float **scratch)
{
    size_t rows = data->n < NN__EVAL_ROWS ? data->n : NN__EVAL_ROWS;
    size_t out_w = model->layers[model->n_layers - 1].out, count, outs;
    size_t ins = 0;
    count = nn__infer_floats(model, rows);
    if (count == 0 || !nn__mul_size(rows, 3 * out_w, &outs) ||
        !nn__add_size(count, outs, &count) ||
        (data->xb && (!nn__mul_size(rows, data->x_width, &ins) ||
                      !nn__add_size(count, ins, &count))) ||
        !nn__bytes_fit(count, 1, sizeof(float)))
        return nn__fail(NN_E_OVERFLOW, "%s: scratch overflows size_t", fn);
    *scratch = (float *)nn__malloc_lines(count * sizeof(float));
    if (!*scratch)
        return nn__fail(NN_E_NOMEM,
                        "%s: allocating %zu bytes of scratch failed", fn,
                        count * sizeof(float));
    return NN_OK;
}

/* floor(n * r / count) without overflow: the first of replica r's rows
 * when n rows are shared among count replicas (r = count: n). */
static size_t share(size_t n, size_t r, size_t count)
{
    return n / count * r + n % count * r / count;
}

/* A replica's part of the set needs the others' sums; fails without a
 * reducer. */
static nn_status check_replica(const char *fn, const nn_model *m)
{
    if (nn__replicated(m) && !m->reduce)
        return nn__fail(NN_E_STATE, "%s: the model is replica %zu of %zu "
                        "and has no reducer (nn_model_set_reducer)", fn,
                        m->replica_rank, m->replica_count);
    return NN_OK;
}

/* Evaluation with scratch from eval_scratch for this model and data: of
 * this replica's rows, summed over the replicas. Returns NN_OK, or
 * NN_E_REDUCE when the reducer fails. */
static nn_status evaluate(const char *fn, const nn_model *model,
                          const nn_data *data, float *scratch, double *loss,
                          double *accuracy)
{
    size_t rows, out_w, r, right = 0, lo = 0, hi = data->n;
    double total = 0.0;
    float *z, *y, *g, *xf;
    nn__loss_args la;
    const nn__pack *pack = nn__pack_get(model);

    out_w = model->layers[model->n_layers - 1].out;
    rows = data->n < NN__EVAL_ROWS ? data->n : NN__EVAL_ROWS;
    z = scratch + nn__infer_floats(model, rows);
    y = z + rows * out_w;
    g = y + rows * out_w;
    xf = g + rows * out_w; /* a byte dataset's slice as floats */
    /* each slice's loss is its share of the whole set's mean */
    nn__loss_args_of(model, data->n, &la);
    if (la.class_w && data->labels) {
        for (r = 0; r < data->n; r++)
            la.weight_sum += (double)la.class_w[data->labels[r]];
    }

    if (nn__replicated(model)) {
        lo = share(data->n, model->replica_rank, model->replica_count);
        hi = share(data->n, model->replica_rank + 1, model->replica_count);
    }
    for (r = lo; r < hi; r += rows) {
        size_t k = hi - r < rows ? hi - r : rows;
        const float *logits;
        nn__forward_rows(model, data_rows(data, r, k, xf), k, scratch, y, z,
                         &logits, pack);
        total += nn__loss_grad(&la, logits, y,
                               data->t ? data->t + r * out_w : NULL,
                               data->labels ? data->labels + r : NULL, g, k,
                               out_w);
        right += count_right(model, data, r, k, y, out_w);
    }
    if (nn__replicated(model)) {
        double sums[2];
        int rc;
        sums[0] = total;
        sums[1] = (double)right; /* exact below 2^53 rows */
        rc = model->reduce(model->reduce_user, sums, 2);
        if (rc != 0)
            return nn__fail(NN_E_REDUCE, "%s: the reducer failed (it "
                            "returned %d)", fn, rc);
        total = sums[0];
        right = (size_t)sums[1];
    }
    if (loss)
        *loss = total;
    if (accuracy)
        *accuracy = has_accuracy(model, data, out_w)
                        ? (double)right / (double)data->n
                        : NAN;
    return NN_OK;
}

nn_status nn_model_evaluate(const nn_model *model, const nn_data *data,
                            double *loss, double *accuracy)
{
    static const char fn[] = "nn_model_evaluate";
    float *scratch;
    nn_status st;

    if (!model)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    st = check_data(fn, "data", model, data);
    if (st == NN_OK)
        st = check_replica(fn, model);
    if (st == NN_OK)
        st = eval_scratch(fn, model, data, &scratch);
    if (st != NN_OK)
        return st;
    st = evaluate(fn, model, data, scratch, loss, accuracy);
    nn__free_lines(scratch);
    return st;
}

/* Uniform in [0, bound) without modulo bias (Lemire's method). */
static uint64_t rng_below(nn__rng *rng, uint64_t bound)
{
    uint64_t threshold = (0 - bound) % bound, x;
    do
        x = nn__rng_next(rng);
    while (x < threshold);
    return x % bound;
}

/* perm[0..n) = a Fisher-Yates shuffle of 0..n-1 from the generator. */
static void shuffle_rows(nn__rng *rng, size_t *perm, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        perm[i] = i;
    for (i = n; i > 1; i--) {
        size_t j = (size_t)rng_below(rng, (uint64_t)i);
        size_t tmp = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = tmp;
    }
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void nn__fit_run_end(nn_model *m)
{
    nn__free(m->run.best_params);
    memset(&m->run, 0, sizeof m->run);
}

/* What fit allocates before its first step. */
typedef struct nn__fit_buffers {
    size_t *perm;
    float *xb, *tb, *best_params, *val_scratch;
    int32_t *lb;
} nn__fit_buffers;

static void free_buffers(nn__fit_buffers *b)
{
    nn__free(b->perm);
    nn__free_lines(b->xb);
    nn__free_lines(b->tb);
    nn__free(b->lb);
    nn__free(b->best_params);
    nn__free_lines(b->val_scratch);
}

static nn_status alloc_buffers(const char *fn, nn_model *model,
                               const nn_data *train, const nn_data *val,
                               size_t bs, int shuffle, size_t patience,
                               nn__fit_buffers *b)
{
    size_t n = train->n, in_w = model->input_width;
    size_t out_w = model->layers[model->n_layers - 1].out;
    size_t bytes_perm, bytes_x, bytes_t, bytes_p;
    memset(b, 0, sizeof *b);
    if (!nn__mul_size(n, sizeof *b->perm, &bytes_perm) ||
        !nn__bytes_fit(bs, in_w, sizeof(float)) ||
        !nn__bytes_fit(bs, out_w, sizeof(float)))
        return nn__fail(NN_E_OVERFLOW, "%s: a permutation of %zu rows or a "
                        "batch of %zu overflows size_t", fn, n, bs);
    bytes_x = bs * in_w * sizeof(float);
    bytes_t = bs * out_w * sizeof(float);
    bytes_p = model->n_params * sizeof(float);
    if (shuffle || train->xb) { /* a byte set's batch, shuffled or not */
        b->xb = (float *)nn__malloc_lines(bytes_x);
        if (!b->xb)
            goto nomem;
    }
    if (shuffle) {
        b->perm = (size_t *)nn__malloc(bytes_perm);
        if (train->labels)
            b->lb = (int32_t *)nn__malloc(bs * sizeof *b->lb);
        else
            b->tb = (float *)nn__malloc_lines(bytes_t);
        if (!b->perm || (!b->lb && !b->tb))
            goto nomem;
    }
    /* early stopping's copy of the best parameters */
    if (patience > 0) {
        b->best_params = (float *)nn__malloc(bytes_p);
        if (!b->best_params)
            goto nomem;
    }
    if (val) {
        nn_status st = eval_scratch(fn, model, val, &b->val_scratch);
        if (st != NN_OK) {
            free_buffers(b);
            return st;
        }
    }
    return NN_OK;
nomem:
    free_buffers(b);
    return nn__fail(NN_E_NOMEM, "%s: allocating buffers for %zu rows in "
                    "batches of %zu failed", fn, n, bs);
}

/* Where a run stands: the interrupted one it resumes, or a new one. */
typedef struct nn__fit_pos {
    uint64_t epoch, batch;     /* epoch in progress (from 1), batches done */
    nn__rng epoch_rng;         /* the generator before its shuffle */
    double sum, best;
    uint64_t since_best;
    int have_best;             /* best_params holds an epoch's */
} nn__fit_pos;

/* The callbacks' decision r as every replica takes it: an interruption
 * (negative) if any replica's asks for one, else a stop (positive) if any
 * asks for one. Returns NN_OK, or NN_E_REDUCE. */
static nn_status agree(const char *fn, nn_model *m, int *r)
{
    double v[2];
    if (!nn__replicated(m))
        return NN_OK;
    v[0] = *r < 0 ? 1.0 : 0.0;
    v[1] = *r > 0 ? 1.0 : 0.0;
    m->reduce_failed = 0;
    nn__reduce(m, v, 2);
    if (m->reduce_failed)
        return nn__fail(NN_E_REDUCE, "%s: the reducer failed (it returned "
                        "%d)", fn, m->reduce_failed);
    *r = v[0] > 0.0 ? -1 : v[1] > 0.0 ? 1 : 0;
    return NN_OK;
}

static nn_status fit_run(const char *fn, nn_model *model,
                         const nn_data *train, const nn_data *val,
                         nn_epoch_fn on_epoch, nn_batch_fn on_batch,
                         void *user, int resume)
{
    size_t n, bs, epochs, patience, in_w, out_w, i, batches;
    int shuffle, stop = 0, stepped = 0;
    double start = now_seconds();
    unsigned added = 0;
    nn__rng rng0;
    nn__fit_buffers buf;
    nn__fit_pos pos;
    nn_status st;

    if (!model)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    /* A failure before the first step changes nothing: the generator
     * (the shuffle draws from it) and an interrupted run stay as they are
     * until a step succeeds. */
    rng0 = model->rng;
    st = check_data(fn, "train", model, train);
    if (st == NN_OK && val)
        st = check_data(fn, "val", model, val);
    if (st != NN_OK)
        return st;

    n = train->n;
    in_w = model->input_width;
    out_w = model->layers[model->n_layers - 1].out;
    bs = (size_t)model->param[NN_PARAM_BATCH_SIZE];
    if (bs > n)
        bs = n;
    epochs = (size_t)model->param[NN_PARAM_EPOCHS];
    patience = (size_t)model->param[NN_PARAM_PATIENCE];
    shuffle = model->param[NN_PARAM_SHUFFLE] != 0.0;
    batches = (n + bs - 1) / bs;
    if (model->part_rows)
        return nn__fail(NN_E_STATE, "%s: the model takes a part of a batch "
                        "(nn_model_set_batch_part); fit splits batches "
                        "itself (nn_model_set_replica)", fn);
    st = check_replica(fn, model);
    if (st != NN_OK)
        return st;
    if (nn__needs_two_rows(model) && (n == 1 || n % bs == 1))
        return nn__fail(NN_E_INVALID,
                        "%s: batches of %zu from %zu rows leave a batch of 1 "
                        "row, too few for batch normalization; choose "
                        "another NN_PARAM_BATCH_SIZE", fn, bs, n);
    if (resume) {
        const nn__fit_run *run = &model->run;
        if (!run->active)
            return nn__fail(NN_E_STATE, "%s: the model has no interrupted "
                            "run to resume", fn);
        if (run->rows != n || run->batch_size != bs)
            return nn__fail(NN_E_STATE,
                            "%s: the interrupted run had %llu rows in "
                            "batches of %llu; this one has %zu in batches of "
                            "%zu", fn, (unsigned long long)run->rows,
                            (unsigned long long)run->batch_size, n, bs);
    }

    /* Everything fit needs is allocated here, before the first step. */
    st = nn__workspace_reserve(fn, model, bs);
    if (st == NN_OK)
        st = alloc_buffers(fn, model, train, val, bs, shuffle, patience,
                           &buf);
    if (st != NN_OK)
        return st;
    st = nn__optim_prepare(fn, model, &added);
    if (st != NN_OK)
        goto done;

    memset(&pos, 0, sizeof pos);
    pos.epoch = 1;
    pos.best = INFINITY;
    if (resume) {
        nn__fit_run *run = &model->run;
        pos.epoch = run->epoch;
        pos.batch = run->batch;
        pos.epoch_rng = run->rng;
        pos.sum = run->loss_sum;
        pos.best = run->best;
        pos.since_best = run->since_best;
        if (patience > 0 && run->best_params) {
            memcpy(buf.best_params, run->best_params,
                   model->n_params * sizeof(float));
            pos.have_best = 1;
        } else {
            pos.best = INFINITY; /* no epoch's parameters to go back to */
        }
    }
    for (; pos.epoch <= epochs && !stop; pos.epoch++) {
        double train_loss, val_loss = NAN, val_acc = NAN, mon;
        size_t b;
        int r;
        if (pos.batch == 0)
            pos.epoch_rng = model->rng;
        if (shuffle) {
            /* Each epoch's order depends on the generator alone, so a fit
             * resumed from a checkpoint continues the same sequence; an
             * interrupted epoch redraws its order from the generator it
             * started with. */
            nn__rng g = pos.epoch_rng;
            shuffle_rows(&g, buf.perm, n);
            model->rng = g;
        }
        for (b = (size_t)pos.batch; b < batches && !stop; b++) {
            size_t r0 = b * bs, k = n - r0 < bs ? n - r0 : bs;
            size_t lo = 0, kk = k; /* this replica's rows of the batch */
            const float *x, *t;
            const int32_t *lab;
            double loss = 0.0;
            if (nn__replicated(model)) {
                lo = share(k, model->replica_rank, model->replica_count);
                kk = share(k, model->replica_rank + 1,
                           model->replica_count) - lo;
            }
            t = train->t ? train->t + (r0 + lo) * out_w : NULL;
            lab = train->labels ? train->labels + r0 + lo : NULL;
            if (!shuffle) {
                x = data_rows(train, r0 + lo, kk, buf.xb);
            } else {
                const size_t *rows = buf.perm + r0 + lo;
                for (i = 0; i < kk && i < NN__AHEAD; i++)
                    prefetch_row(train, rows[i], out_w);
                for (i = 0; i < kk; i++) {
                    size_t row = rows[i];
                    if (i + NN__AHEAD < kk)
                        prefetch_row(train, rows[i + NN__AHEAD], out_w);
                    if (train->x)
                        memcpy(buf.xb + i * in_w, train->x + row * in_w,
                               in_w * sizeof(float));
                    else
                        data_rows(train, row, 1, buf.xb + i * in_w);
                    if (buf.lb)
                        buf.lb[i] = train->labels[row];
                    else
                        memcpy(buf.tb + i * out_w, train->t + row * out_w,
                               out_w * sizeof(float));
                }
                x = buf.xb;
                t = buf.tb;
                lab = buf.lb;
            }
            if (nn__replicated(model)) {
                model->part_first = lo;
                model->part_rows = k;
            }
            st = nn__run_batch(fn, model, kk, x, in_w, t, out_w, lab,
                               (lab ? NN__LABELS : 0) | NN__TRAIN, &loss);
            model->part_first = model->part_rows = 0;
            if (st != NN_OK)
                goto done;
            if (!stepped)
                nn__fit_run_end(model); /* this run replaces it */
            stepped = 1;
            pos.sum += loss * (double)k;
            pos.batch = b + 1;
            r = on_batch ? on_batch(user, (size_t)pos.epoch, b + 1, batches,
                                    loss)
                         : 0;
            st = agree(fn, model, &r);
            if (st != NN_OK)
                goto done;
            if (r < 0)
                goto interrupt;
            if (r > 0)
                stop = 1;
        }
        if (stop)
            break;
        train_loss = pos.sum / (double)n;
        pos.sum = 0.0;
        pos.batch = 0;
        if (val) {
            st = evaluate(fn, model, val, buf.val_scratch, &val_loss,
                          &val_acc);
            if (st != NN_OK)
                goto done;
        }
        r = on_epoch ? on_epoch(user, (size_t)pos.epoch, train_loss,
                                val_loss, val_acc, now_seconds() - start)
                     : 0;
        st = agree(fn, model, &r);
        if (st != NN_OK)
            goto done;
        if (r > 0)
            stop = 1;
        if (patience > 0) {
            mon = val ? val_loss : train_loss;
            if (mon < pos.best) {
                pos.best = mon;
                pos.since_best = 0;
                pos.have_best = 1;
                memcpy(buf.best_params, model->params,
                       model->n_params * sizeof(float));
            } else if (++pos.since_best >= patience) {
                stop = 1;
            }
        }
        /* an interruption after the last epoch, or with early stopping
         * due, has nothing left to resume: the run ends */
        if (r < 0 && !stop && pos.epoch < epochs) {
            pos.epoch++;
            goto interrupt;
        }
    }
    nn__fit_run_end(model); /* finished: nothing is left to resume */
    if (pos.have_best) {
        memcpy(model->params, buf.best_params,
               model->n_params * sizeof(float));
        nn__params_written(model);
    }
    st = NN_OK;
    goto done;

interrupt:
    /* Keep where the run stands; the copy of the best parameters moves to
     * the model. */
    model->run.active = 1;
    model->run.rows = n;
    model->run.batch_size = bs;
    model->run.epoch = pos.epoch;
    model->run.batch = pos.batch;
    model->run.rng = pos.batch ? pos.epoch_rng : model->rng;
    model->run.loss_sum = pos.sum;
    model->run.best = pos.best;
    model->run.since_best = pos.since_best;
    if (pos.have_best) {
        model->run.best_params = buf.best_params;
        buf.best_params = NULL;
    }
    st = NN_OK;
done:
    if (st != NN_OK && !stepped) {
        nn__optim_unprepare(model, added);
        model->rng = rng0;
    }
    free_buffers(&buf);
    return st;
}

nn_status nn_model_fit(nn_model *model, const nn_data *train,
                       const nn_data *val, nn_epoch_fn on_epoch,
                       nn_batch_fn on_batch, void *user)
{
    return fit_run("nn_model_fit", model, train, val, on_epoch, on_batch,
                   user, 0);
}

nn_status nn_model_fit_resume(nn_model *model, const nn_data *train,
                              const nn_data *val, nn_epoch_fn on_epoch,
                              nn_batch_fn on_batch, void *user)
{
    return fit_run("nn_model_fit_resume", model, train, val, on_epoch,
                   on_batch, user, 1);
}
