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

static nn_status data_create(const char *fn, nn_data **out, size_t n,
                             const float *x, size_t x_width, const float *t,
                             size_t t_width, const int32_t *labels,
                             int with_labels)
{
    nn_data *d;
    size_t i;
    nn_status st;
    if (!out)
        return nn__fail(NN_E_NULL, "%s: out is NULL", fn);
    *out = NULL;
    st = nn__check_rows(fn, n, x, with_labels ? (const void *)labels
                                              : (const void *)t,
                        with_labels);
    if (st != NN_OK)
        return st;
    if (x_width == 0 || (!with_labels && t_width == 0))
        return nn__fail(NN_E_INVALID, "%s: %s is 0", fn,
                        x_width == 0 ? "x_width" : "t_width");
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
    d->x = x;
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
    return data_create("nn_data_create", out, n, x, x_width, t, t_width, NULL,
                       0);
}

nn_status nn_data_create_labels(nn_data **out, size_t n, const float *x,
                                size_t x_width, const int32_t *labels)
{
    return data_create("nn_data_create_labels", out, n, x, x_width, NULL, 0,
                       labels, 1);
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
    return nn__check_batch(where, m, d->n, d->x, d->x_width, d->t,
                           d->t_width, d->labels,
                           d->labels ? NN__LABELS : 0);
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
    int out_act = m->layers[m->n_layers - 1].act;
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

/* Allocates the scratch evaluate needs for data: 2 blocks of rows x maxw
 * for the hidden layers, 3 of rows x out_w for logits, outputs and the
 * (unused) loss gradient. */
static nn_status eval_scratch(const char *fn, const nn_model *model,
                              const nn_data *data, float **scratch)
{
    size_t rows = data->n < NN__EVAL_ROWS ? data->n : NN__EVAL_ROWS;
    size_t maxw = nn__max_width(model), count, bytes;
    size_t out_w = model->layers[model->n_layers - 1].out;
    if (!nn__mul_size(rows, 2 * maxw + 3 * out_w, &count) ||
        !nn__mul_size(count, sizeof(float), &bytes))
        return nn__fail(NN_E_OVERFLOW, "%s: scratch overflows size_t", fn);
    *scratch = (float *)nn__malloc(bytes);
    if (!*scratch)
        return nn__fail(NN_E_NOMEM,
                        "%s: allocating %zu bytes of scratch failed", fn,
                        bytes);
    return NN_OK;
}

/* Evaluation with scratch from eval_scratch for this model and data. */
static void evaluate(const nn_model *model, const nn_data *data,
                     float *scratch, double *loss, double *accuracy)
{
    size_t rows, maxw, out_w, r, right = 0;
    double total = 0.0;
    float *z, *y, *g;
    const nn__layer *L = &model->layers[model->n_layers - 1];

    out_w = L->out;
    rows = data->n < NN__EVAL_ROWS ? data->n : NN__EVAL_ROWS;
    maxw = nn__max_width(model);
    z = scratch + 2 * rows * maxw;
    y = z + rows * out_w;
    g = y + rows * out_w;

    for (r = 0; r < data->n; r += rows) {
        size_t k = data->n - r < rows ? data->n - r : rows;
        nn__forward_rows(model, data->x + r * data->x_width, k, scratch, z, y);
        total += (double)k *
                 nn__loss_grad(model->loss, L->act, L->slope, z, y,
                               data->t ? data->t + r * out_w : NULL,
                               data->labels ? data->labels + r : NULL, g, k,
                               out_w);
        right += count_right(model, data, r, k, y, out_w);
    }
    if (loss)
        *loss = total / (double)data->n;
    if (accuracy)
        *accuracy = has_accuracy(model, data, out_w)
                        ? (double)right / (double)data->n
                        : NAN;
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
        st = eval_scratch(fn, model, data, &scratch);
    if (st != NN_OK)
        return st;
    evaluate(model, data, scratch, loss, accuracy);
    nn__free(scratch);
    return NN_OK;
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

/* Fisher-Yates shuffle of perm[0..n) from the model's generator. */
static void shuffle_rows(nn__rng *rng, size_t *perm, size_t n)
{
    size_t i;
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

nn_status nn_model_fit(nn_model *model, const nn_data *train,
                       const nn_data *val, nn_epoch_fn on_epoch,
                       nn_batch_fn on_batch, void *user)
{
    static const char fn[] = "nn_model_fit";
    size_t n, bs, epochs, patience, epoch, since_best = 0, in_w, out_w, i;
    size_t bytes_x, bytes_t, batches;
    int shuffle, stop = 0;
    double best = INFINITY, start = now_seconds();
    size_t *perm = NULL;
    float *xb = NULL, *tb = NULL, *best_params = NULL, *val_scratch = NULL;
    int32_t *lb = NULL;
    nn_status st;

    if (!model)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
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

    /* Everything fit needs is allocated here, before the first step. */
    if (!nn__mul_size(bs, in_w * sizeof(float), &bytes_x) ||
        !nn__mul_size(bs, out_w * sizeof(float), &bytes_t))
        return nn__fail(NN_E_OVERFLOW, "%s: a batch of %zu rows overflows "
                        "size_t", fn, bs);
    st = nn__workspace_reserve(fn, model, bs);
    if (st != NN_OK)
        return st;
    if (shuffle) {
        perm = (size_t *)nn__malloc(n * sizeof *perm);
        xb = (float *)nn__malloc(bytes_x);
        if (train->labels)
            lb = (int32_t *)nn__malloc(bs * sizeof *lb);
        else
            tb = (float *)nn__malloc(bytes_t);
        if (!perm || !xb || (!lb && !tb))
            goto nomem;
    }
    if (patience > 0) {
        /* filled at the first epoch's end, restored only if it was */
        best_params = (float *)nn__malloc(model->n_params * sizeof(float));
        if (!best_params)
            goto nomem;
    }
    if (val) {
        st = eval_scratch(fn, model, val, &val_scratch);
        if (st != NN_OK)
            goto done;
    }
    st = nn__optim_prepare(fn, model);
    if (st != NN_OK)
        goto done;

    for (epoch = 1; epoch <= epochs && !stop; epoch++) {
        double sum = 0.0, train_loss, val_loss = NAN, val_acc = NAN, mon;
        size_t b;
        if (shuffle) {
            /* Each epoch's order depends on the generator alone, so a fit
             * resumed from a checkpoint continues the same sequence. */
            for (i = 0; i < n; i++)
                perm[i] = i;
            shuffle_rows(&model->rng, perm, n);
        }
        for (b = 0; b < batches && !stop; b++) {
            size_t r0 = b * bs, k = n - r0 < bs ? n - r0 : bs;
            const float *x = train->x + r0 * in_w;
            const float *t = train->t ? train->t + r0 * out_w : NULL;
            const int32_t *lab = train->labels ? train->labels + r0 : NULL;
            double loss = 0.0;
            if (shuffle) {
                for (i = 0; i < k; i++) {
                    size_t row = perm[r0 + i];
                    memcpy(xb + i * in_w, train->x + row * in_w,
                           in_w * sizeof(float));
                    if (lb)
                        lb[i] = train->labels[row];
                    else
                        memcpy(tb + i * out_w, train->t + row * out_w,
                               out_w * sizeof(float));
                }
                x = xb;
                t = tb;
                lab = lb;
            }
            st = nn__run_batch(fn, model, k, x, in_w, t, out_w, lab,
                               (lab ? NN__LABELS : 0) | NN__TRAIN, &loss);
            if (st != NN_OK)
                goto done;
            sum += loss * (double)k;
            if (on_batch && on_batch(user, epoch, b + 1, batches, loss))
                stop = 1;
        }
        if (stop)
            break;
        train_loss = sum / (double)n;
        if (val)
            evaluate(model, val, val_scratch, &val_loss, &val_acc);
        if (on_epoch && on_epoch(user, epoch, train_loss, val_loss, val_acc,
                                 now_seconds() - start))
            stop = 1;
        if (patience > 0) {
            mon = val ? val_loss : train_loss;
            if (mon < best) {
                best = mon;
                since_best = 0;
                memcpy(best_params, model->params,
                       model->n_params * sizeof(float));
            } else if (++since_best >= patience) {
                stop = 1;
            }
        }
    }
    if (best_params && best < INFINITY) {
        memcpy(model->params, best_params, model->n_params * sizeof(float));
        nn__params_written(model);
    }
    st = NN_OK;
    goto done;

nomem:
    st = nn__fail(NN_E_NOMEM, "%s: allocating buffers for %zu rows in "
                  "batches of %zu failed", fn, n, bs);
done:
    nn__free(perm);
    nn__free(xb);
    nn__free(tb);
    nn__free(lb);
    nn__free(best_params);
    nn__free(val_scratch);
    return st;
}
