/* SPDX-License-Identifier: MIT */
/*
 * test_fit.c - datasets, nn_model_fit (shuffling, partial batches, early
 * stopping, callbacks, reproducibility) and nn_model_evaluate.
 *
 * Every expected value is computed here independently of the code under
 * test: per-row losses from nn_model_predict outputs, batch sequences from
 * manual nn_model_train_batch calls on a twin model, validation values from
 * nn_model_evaluate called inside the callback, accuracies from arg-maxes of
 * predict outputs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "nn_test.h"

/* Asserts that a libnn call failed with `want`. */
#define NN_EXPECT(want, call)                                               \
    do {                                                                    \
        nn_status st_ = (call);                                             \
        if (st_ != (want))                                                  \
            print_error("%s: got %s, want %s (%s)\n", #call,                \
                        nn_status_string(st_), nn_status_string(want),      \
                        nn_last_error());                                   \
        assert_int_equal(st_, (want));                                      \
    } while (0)

/* ---------------------------------------------------------------------
 * Helpers
 * --------------------------------------------------------------------- */

static float rng_uniform(test_rng *r, double lo, double hi)
{
    return (float)(lo + (hi - lo) * rng_unit(r));
}

/* Standard normal by Box-Muller. */
static double rng_normal(test_rng *r)
{
    double u = 1.0 - rng_unit(r), v = rng_unit(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static void fill_uniform(test_rng *r, float *v, size_t count, double lo,
                         double hi)
{
    size_t i;
    for (i = 0; i < count; i++)
        v[i] = rng_uniform(r, lo, hi);
}

static void set_fit_params(nn_model *m, double epochs, double batch,
                           double shuffle, double patience)
{
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_EPOCHS, epochs));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_BATCH_SIZE, batch));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_SHUFFLE, shuffle));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_PATIENCE, patience));
}

/* A heap copy of the flat parameter buffer; *count receives its length. */
static float *params_copy(nn_model *m, size_t *count)
{
    size_t c = 0;
    const float *p = nn_model_params(m, &c);
    float *copy;
    assert_non_null(p);
    assert_true(c > 0);
    copy = (float *)test_malloc(c * sizeof *copy);
    memcpy(copy, p, c * sizeof *copy);
    *count = c;
    return copy;
}

/* Whether the model's parameters are bitwise equal to `want`. */
static int params_equal(nn_model *m, const float *want, size_t count)
{
    size_t c = 0;
    const float *p = nn_model_params(m, &c);
    return p && c == count && memcmp(p, want, count * sizeof *p) == 0;
}

/* Reads every W_l then b_l through the const accessors into out (the layout
 * of nn_model_params); returns the number of floats. */
static size_t read_params(const nn_model *m, float *out, size_t cap)
{
    size_t l, off = 0, layers = nn_model_layer_count(m);
    for (l = 0; l < layers; l++) {
        size_t in = l ? nn_model_layer_width(m, l - 1)
                      : nn_model_input_width(m);
        size_t w = nn_model_layer_width(m, l);
        assert_true(off + in * w + w <= cap);
        NN_OK_OR_FAIL(nn_model_get_weights(m, l, out + off, in * w));
        off += in * w;
        NN_OK_OR_FAIL(nn_model_get_bias(m, l, out + off, w));
        off += w;
    }
    return off;
}

static size_t argmax_f(const float *v, size_t k)
{
    size_t j, best = 0;
    for (j = 1; j < k; j++)
        if (v[j] > v[best])
            best = j;
    return best;
}

/* ---------------------------------------------------------------------
 * A recorder for the callbacks
 * --------------------------------------------------------------------- */

#define REC_MAX_EPOCHS 64
#define REC_MAX_BATCHES 1024
#define REC_MAX_PARAMS 64

typedef struct {
    size_t epoch_calls, batch_calls;
    /* on_epoch */
    size_t epoch_no[REC_MAX_EPOCHS];
    double train_loss[REC_MAX_EPOCHS];
    double val_loss[REC_MAX_EPOCHS];
    double val_acc[REC_MAX_EPOCHS];
    double seconds[REC_MAX_EPOCHS];
    /* on_batch */
    size_t b_epoch[REC_MAX_BATCHES];
    size_t b_index[REC_MAX_BATCHES];
    size_t b_count[REC_MAX_BATCHES];
    double b_loss[REC_MAX_BATCHES];
    /* Stop: on_epoch returns 1 at epoch stop_at_epoch; on_batch returns 1
     * at its stop_at_batch_call-th call (0: never). Interrupt: -1 instead,
     * at epoch interrupt_at_epoch or batch call interrupt_at_batch_call. */
    size_t stop_at_epoch, stop_at_batch_call;
    size_t interrupt_at_epoch, interrupt_at_batch_call;
    /* If model is set, on_epoch records the parameters (const accessors). */
    const nn_model *model;
    size_t n_params;
    float params[REC_MAX_EPOCHS][REC_MAX_PARAMS];
    /* If eval_val is set, on_epoch evaluates it on model and records. */
    const nn_data *eval_val;
    double eval_loss[REC_MAX_EPOCHS];
    double eval_acc[REC_MAX_EPOCHS];
    nn_status eval_status[REC_MAX_EPOCHS];
} recorder;

static recorder *recorder_new(void)
{
    recorder *r = (recorder *)test_calloc(1, sizeof *r);
    assert_non_null(r);
    return r;
}

static int rec_on_epoch(void *user, size_t epoch, double train_loss,
                        double val_loss, double val_accuracy, double seconds)
{
    recorder *r = (recorder *)user;
    size_t i = r->epoch_calls++;
    if (i < REC_MAX_EPOCHS) {
        r->epoch_no[i] = epoch;
        r->train_loss[i] = train_loss;
        r->val_loss[i] = val_loss;
        r->val_acc[i] = val_accuracy;
        r->seconds[i] = seconds;
        if (r->model)
            r->n_params = read_params(r->model, r->params[i], REC_MAX_PARAMS);
        if (r->model && r->eval_val)
            r->eval_status[i] = nn_model_evaluate(
                r->model, r->eval_val, &r->eval_loss[i], &r->eval_acc[i]);
    }
    if (r->interrupt_at_epoch != 0 && epoch == r->interrupt_at_epoch)
        return -1;
    return r->stop_at_epoch != 0 && epoch == r->stop_at_epoch;
}

static int rec_on_batch(void *user, size_t epoch, size_t batch,
                        size_t batches, double loss)
{
    recorder *r = (recorder *)user;
    size_t i = r->batch_calls++;
    if (i < REC_MAX_BATCHES) {
        r->b_epoch[i] = epoch;
        r->b_index[i] = batch;
        r->b_count[i] = batches;
        r->b_loss[i] = loss;
    }
    if (r->interrupt_at_batch_call != 0 &&
        r->batch_calls == r->interrupt_at_batch_call)
        return -1;
    return r->stop_at_batch_call != 0 && r->batch_calls == r->stop_at_batch_call;
}

/* ---------------------------------------------------------------------
 * Reproducibility
 * --------------------------------------------------------------------- */

#define REPRO_N 40

static void make_regression(test_rng *g, float *x, float *t, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        x[2 * i] = rng_uniform(g, -1.0, 1.0);
        x[2 * i + 1] = rng_uniform(g, -1.0, 1.0);
        t[i] = (float)(sin(2.0 * x[2 * i]) + 0.5 * x[2 * i + 1]);
    }
}

static nn_model *repro_model(uint64_t seed)
{
    static const size_t widths[] = {8, 1};
    static const nn_activation acts[] = {NN_ACT_TANH, NN_ACT_IDENTITY};
    nn_model *m = build_model(2, seed, widths, acts, 2, NN_LOSS_MSE, 0.1);
    set_fit_params(m, 3, 4, 1, 0);
    return m;
}

static void fit_with_same_seed_is_bit_identical(void **state)
{
    float x[REPRO_N * 2], t[REPRO_N];
    test_rng g = {11};
    nn_data *d = NULL;
    nn_model *a = repro_model(1234), *b = repro_model(1234);
    recorder *ra = recorder_new(), *rb = recorder_new();
    float *init;
    size_t count, i;
    (void)state;

    make_regression(&g, x, t, REPRO_N);
    NN_OK_OR_FAIL(nn_data_create(&d, REPRO_N, x, 2, t, 1));
    init = params_copy(a, &count);
    assert_true(params_equal(b, init, count));

    NN_OK_OR_FAIL(nn_model_fit(a, d, NULL, rec_on_epoch, rec_on_batch, ra));
    NN_OK_OR_FAIL(nn_model_fit(b, d, NULL, rec_on_epoch, rec_on_batch, rb));

    /* Training happened ... */
    assert_false(params_equal(a, init, count));
    assert_int_equal(ra->epoch_calls, 3);
    assert_int_equal(ra->batch_calls, 3 * (REPRO_N / 4));
    /* ... and both runs are the same bit for bit. */
    {
        float *pa = params_copy(a, &count);
        assert_true(params_equal(b, pa, count));
        test_free(pa);
    }
    assert_int_equal(rb->epoch_calls, ra->epoch_calls);
    assert_memory_equal(ra->train_loss, rb->train_loss,
                        3 * sizeof ra->train_loss[0]);
    assert_int_equal(rb->batch_calls, ra->batch_calls);
    assert_memory_equal(ra->b_loss, rb->b_loss,
                        ra->batch_calls * sizeof ra->b_loss[0]);
    for (i = 0; i < 3; i++) {
        assert_int_equal(ra->epoch_no[i], i + 1);
        assert_true(isfinite(ra->train_loss[i]));
        assert_true(isnan(ra->val_loss[i]));
        assert_true(isnan(ra->val_acc[i]));
        assert_true(ra->seconds[i] >= 0.0);
        if (i > 0)
            assert_true(ra->seconds[i] >= ra->seconds[i - 1]);
    }

    test_free(init);
    test_free(ra);
    test_free(rb);
    nn_model_free(a);
    nn_model_free(b);
    nn_data_free(d);
}

static void fit_with_a_different_seed_gives_a_different_result(void **state)
{
    float x[REPRO_N * 2], t[REPRO_N];
    test_rng g = {11};
    nn_data *d = NULL;
    nn_model *a = repro_model(1234), *b = repro_model(1235);
    recorder *ra = recorder_new(), *rb = recorder_new();
    float *init, *pa;
    size_t count, l;
    (void)state;

    make_regression(&g, x, t, REPRO_N);
    NN_OK_OR_FAIL(nn_data_create(&d, REPRO_N, x, 2, t, 1));
    init = params_copy(a, &count);
    /* Different seeds draw different initial weights. */
    assert_false(params_equal(b, init, count));

    /* Give b the initial weights of a: only the shuffling now differs. */
    for (l = 0; l < 2; l++) {
        float w[16], bias[8];
        size_t nw = (l ? 8 : 2) * (l ? 1 : 8), nb = l ? 1 : 8;
        NN_OK_OR_FAIL(nn_model_get_weights(a, l, w, nw));
        NN_OK_OR_FAIL(nn_model_get_bias(a, l, bias, nb));
        NN_OK_OR_FAIL(nn_model_set_weights(b, l, w, nw));
        NN_OK_OR_FAIL(nn_model_set_bias(b, l, bias, nb));
    }
    assert_true(params_equal(b, init, count));

    NN_OK_OR_FAIL(nn_model_fit(a, d, NULL, rec_on_epoch, rec_on_batch, ra));
    NN_OK_OR_FAIL(nn_model_fit(b, d, NULL, rec_on_epoch, rec_on_batch, rb));
    pa = params_copy(a, &count);
    assert_false(params_equal(b, pa, count));
    assert_int_equal(ra->batch_calls, rb->batch_calls);
    assert_memory_not_equal(ra->b_loss, rb->b_loss,
                            ra->batch_calls * sizeof ra->b_loss[0]);

    test_free(pa);
    test_free(init);
    test_free(ra);
    test_free(rb);
    nn_model_free(a);
    nn_model_free(b);
    nn_data_free(d);
}

/* ---------------------------------------------------------------------
 * Row order: batch size 1 and learning rate 0, so each step's loss names
 * its row.
 * --------------------------------------------------------------------- */

#define ORDER_N 10
#define ORDER_EPOCHS 6

typedef struct {
    float x[ORDER_N * 3];
    float t[ORDER_N];
    double row_loss[ORDER_N];
    nn_data *d;
    nn_model *m;
} order_case;

static void order_case_init(order_case *c, double shuffle)
{
    static const size_t widths[] = {5, 1};
    static const nn_activation acts[] = {NN_ACT_TANH, NN_ACT_IDENTITY};
    test_rng g = {77};
    float y[ORDER_N];
    size_t i, j;

    fill_uniform(&g, c->x, ORDER_N * 3, -1.0, 1.0);
    /* Targets far apart: the per-row losses are then far apart too. */
    for (i = 0; i < ORDER_N; i++)
        c->t[i] = 4.0f * (float)(i + 1);
    c->m = build_model(3, 5, widths, acts, 2, NN_LOSS_MSE, 0.0);
    set_fit_params(c->m, ORDER_EPOCHS, 1, shuffle, 0);
    NN_OK_OR_FAIL(nn_data_create(&c->d, ORDER_N, c->x, 3, c->t, 1));

    /* Each row's loss from predict, cross-checked with evaluate on a
     * one-row dataset. */
    NN_OK_OR_FAIL(nn_model_predict(c->m, ORDER_N, c->x, 3, y, 1));
    for (i = 0; i < ORDER_N; i++) {
        nn_data *one = NULL;
        double ev = NAN, acc = 0.0;
        double e = (double)y[i] - (double)c->t[i];
        c->row_loss[i] = e * e;
        NN_OK_OR_FAIL(nn_data_create(&one, 1, c->x + 3 * i, 3, c->t + i, 1));
        NN_OK_OR_FAIL(nn_model_evaluate(c->m, one, &ev, &acc));
        assert_rel_close("one-row evaluate", ev, c->row_loss[i], 1e-5);
        assert_true(isnan(acc));
        nn_data_free(one);
    }
    for (i = 0; i < ORDER_N; i++)
        for (j = 0; j < i; j++)
            assert_true(fabs(c->row_loss[i] - c->row_loss[j]) >
                        1e-3 * c->row_loss[i]);
}

static void order_case_free(order_case *c)
{
    nn_model_free(c->m);
    nn_data_free(c->d);
}

/* The row whose loss is `loss`; fails if none matches. */
static size_t row_of_loss(const order_case *c, double loss)
{
    size_t i, best = 0;
    for (i = 1; i < ORDER_N; i++)
        if (fabs(loss - c->row_loss[i]) < fabs(loss - c->row_loss[best]))
            best = i;
    if (!(fabs(loss - c->row_loss[best]) <= 1e-5 * c->row_loss[best]))
        print_error("batch loss %.17g matches no row (nearest: row %zu, "
                    "%.17g)\n", loss, best, c->row_loss[best]);
    assert_true(fabs(loss - c->row_loss[best]) <= 1e-5 * c->row_loss[best]);
    return best;
}

/* Fits and returns the row sequence, order[epoch][position]. */
static void record_order(order_case *c, size_t order[ORDER_EPOCHS][ORDER_N])
{
    recorder *r = recorder_new();
    size_t e, k;
    float *before;
    size_t count;

    before = params_copy(c->m, &count);
    NN_OK_OR_FAIL(nn_model_fit(c->m, c->d, NULL, rec_on_epoch, rec_on_batch,
                               r));
    /* Learning rate 0: the parameters never changed. */
    assert_true(params_equal(c->m, before, count));
    assert_int_equal(r->epoch_calls, ORDER_EPOCHS);
    assert_int_equal(r->batch_calls, ORDER_EPOCHS * ORDER_N);
    for (e = 0; e < ORDER_EPOCHS; e++)
        for (k = 0; k < ORDER_N; k++) {
            size_t i = e * ORDER_N + k;
            assert_int_equal(r->b_epoch[i], e + 1);
            assert_int_equal(r->b_index[i], k + 1);
            assert_int_equal(r->b_count[i], ORDER_N);
            order[e][k] = row_of_loss(c, r->b_loss[i]);
        }
    test_free(before);
    test_free(r);
}

static void shuffling_visits_every_row_once_per_epoch_in_changing_orders(
    void **state)
{
    order_case c;
    size_t order[ORDER_EPOCHS][ORDER_N];
    size_t e, k, identity_epochs = 0, repeated_epochs = 0;
    (void)state;

    order_case_init(&c, 1);
    record_order(&c, order);
    for (e = 0; e < ORDER_EPOCHS; e++) {
        int seen[ORDER_N] = {0};
        int is_identity = 1;
        for (k = 0; k < ORDER_N; k++) {
            seen[order[e][k]]++;
            is_identity &= order[e][k] == k;
        }
        for (k = 0; k < ORDER_N; k++)
            assert_int_equal(seen[k], 1);
        identity_epochs += (size_t)is_identity;
        if (e > 0 && memcmp(order[e], order[e - 1], sizeof order[e]) == 0)
            repeated_epochs++;
    }
    assert_true(identity_epochs < ORDER_EPOCHS);
    /* Not every epoch equal to the one before. */
    assert_true(repeated_epochs < ORDER_EPOCHS - 1);
    /* With 10! orders, a repeat is a failure to reshuffle. */
    assert_int_equal(repeated_epochs, 0);
    order_case_free(&c);
}

static void fit_without_shuffling_visits_rows_in_order(void **state)
{
    order_case c;
    size_t order[ORDER_EPOCHS][ORDER_N];
    size_t e, k;
    (void)state;

    order_case_init(&c, 0);
    record_order(&c, order);
    for (e = 0; e < ORDER_EPOCHS; e++)
        for (k = 0; k < ORDER_N; k++)
            assert_int_equal(order[e][k], k);
    order_case_free(&c);
}

/* ---------------------------------------------------------------------
 * Batches
 * --------------------------------------------------------------------- */

static nn_model *batch_model(void)
{
    static const size_t widths[] = {6, 2};
    static const nn_activation acts[] = {NN_ACT_TANH, NN_ACT_IDENTITY};
    return build_model(3, 99, widths, acts, 2, NN_LOSS_MSE, 0.1);
}

static void last_partial_batch_matches_manual_steps_on_a_twin_model(
    void **state)
{
    enum { N = 10 };
    static const size_t lo[3] = {0, 4, 8}, hi[3] = {4, 8, 10};
    float x[N * 3], t[N * 2];
    test_rng g = {3};
    nn_data *d = NULL;
    nn_model *m = batch_model(), *twin = batch_model();
    recorder *r = recorder_new();
    double manual[3], mean;
    float *pm;
    size_t count, b;
    (void)state;

    fill_uniform(&g, x, N * 3, -1.0, 1.0);
    fill_uniform(&g, t, N * 2, -1.0, 1.0);
    set_fit_params(m, 1, 4, 0, 0);
    NN_OK_OR_FAIL(nn_data_create(&d, N, x, 3, t, 2));
    NN_OK_OR_FAIL(nn_model_fit(m, d, NULL, rec_on_epoch, rec_on_batch, r));

    for (b = 0; b < 3; b++)
        NN_OK_OR_FAIL(nn_model_train_batch(twin, hi[b] - lo[b], x + 3 * lo[b],
                                           3, t + 2 * lo[b], 2, &manual[b]));

    assert_int_equal(r->batch_calls, 3);
    for (b = 0; b < 3; b++) {
        assert_int_equal(r->b_epoch[b], 1);
        assert_int_equal(r->b_index[b], b + 1);
        assert_int_equal(r->b_count[b], 3);
        assert_rel_close("batch loss", r->b_loss[b], manual[b], 1e-12);
    }
    pm = params_copy(m, &count);
    assert_true(params_equal(twin, pm, count));
    assert_int_equal(nn_model_step_count(m), 3);

    assert_int_equal(r->epoch_calls, 1);
    mean = (4.0 * manual[0] + 4.0 * manual[1] + 2.0 * manual[2]) / 10.0;
    assert_rel_close("epoch train loss", r->train_loss[0], mean, 1e-12);

    test_free(pm);
    test_free(r);
    nn_model_free(m);
    nn_model_free(twin);
    nn_data_free(d);
}

static void batch_size_above_the_row_count_gives_one_full_batch(void **state)
{
    enum { N = 7 };
    float x[N * 3], t[N * 2];
    test_rng g = {4};
    nn_data *d = NULL;
    nn_model *m = batch_model(), *twin = batch_model();
    recorder *r = recorder_new();
    double manual[2];
    float *pm;
    size_t count;
    (void)state;

    fill_uniform(&g, x, N * 3, -1.0, 1.0);
    fill_uniform(&g, t, N * 2, -1.0, 1.0);
    set_fit_params(m, 2, 100, 0, 0);
    NN_OK_OR_FAIL(nn_data_create(&d, N, x, 3, t, 2));
    NN_OK_OR_FAIL(nn_model_fit(m, d, NULL, rec_on_epoch, rec_on_batch, r));
    NN_OK_OR_FAIL(nn_model_train_batch(twin, N, x, 3, t, 2, &manual[0]));
    NN_OK_OR_FAIL(nn_model_train_batch(twin, N, x, 3, t, 2, &manual[1]));

    assert_int_equal(r->batch_calls, 2);
    assert_int_equal(r->b_count[0], 1);
    assert_int_equal(r->b_count[1], 1);
    assert_rel_close("epoch 1 loss", r->train_loss[0], manual[0], 1e-12);
    assert_rel_close("epoch 2 loss", r->train_loss[1], manual[1], 1e-12);
    pm = params_copy(m, &count);
    assert_true(params_equal(twin, pm, count));

    test_free(pm);
    test_free(r);
    nn_model_free(m);
    nn_model_free(twin);
    nn_data_free(d);
}

/* ---------------------------------------------------------------------
 * Early stopping
 *
 * y = w x + b trained on t = 2x from w = 0, validated on t = x with the
 * same x: w rises steadily to 2, so the validation loss falls while w
 * approaches 1 and rises after w passes it.
 * --------------------------------------------------------------------- */

static void early_stopping_restores_the_weights_of_the_best_epoch(
    void **state)
{
    enum { N = 20, PATIENCE = 3, EPOCHS = 50 };
    static const size_t widths[] = {1};
    static const nn_activation acts[] = {NN_ACT_IDENTITY};
    float x[N], t_train[N], t_val[N];
    const float zero = 0.0f;
    nn_data *train = NULL, *val = NULL;
    nn_model *m = build_model(1, 8, widths, acts, 1, NN_LOSS_MSE, 0.3);
    recorder *r = recorder_new();
    size_t i, best;
    (void)state;

    for (i = 0; i < N; i++) {
        x[i] = -1.0f + 2.0f * (float)i / (float)(N - 1);
        t_train[i] = 2.0f * x[i];
        t_val[i] = x[i];
    }
    NN_OK_OR_FAIL(nn_model_set_weights(m, 0, &zero, 1));
    NN_OK_OR_FAIL(nn_model_set_bias(m, 0, &zero, 1));
    set_fit_params(m, EPOCHS, N, 0, PATIENCE);
    NN_OK_OR_FAIL(nn_data_create(&train, N, x, 1, t_train, 1));
    NN_OK_OR_FAIL(nn_data_create(&val, N, x, 1, t_val, 1));

    r->model = m;
    r->eval_val = val;
    NN_OK_OR_FAIL(nn_model_fit(m, train, val, rec_on_epoch, NULL, r));
    assert_true(r->epoch_calls < EPOCHS);
    assert_int_equal(r->n_params, 2);

    best = 0;
    for (i = 1; i < r->epoch_calls; i++)
        if (r->val_loss[i] < r->val_loss[best])
            best = i;
    /* The case is the intended one: the loss fell, then rose. */
    assert_true(best >= 1);
    assert_true(r->val_loss[best] < r->val_loss[0]);
    for (i = best + 1; i < r->epoch_calls; i++)
        assert_true(r->val_loss[i] > r->val_loss[best]);
    /* The validation loss on_epoch saw is that of the weights it saw. */
    for (i = 0; i < r->epoch_calls; i++) {
        assert_int_equal(r->eval_status[i], NN_OK);
        assert_true(r->eval_loss[i] == r->val_loss[i]);
    }
    /* Stopped `patience` epochs after the best one (epochs count from 1). */
    assert_int_equal(r->epoch_calls, best + 1 + PATIENCE);
    /* And the best epoch's weights are back. */
    assert_true(params_equal(m, r->params[best], 2));
    assert_false(params_equal(m, r->params[r->epoch_calls - 1], 2));

    test_free(r);
    nn_model_free(m);
    nn_data_free(train);
    nn_data_free(val);
}

/* ---------------------------------------------------------------------
 * Stopping from the callbacks
 * --------------------------------------------------------------------- */

static void on_epoch_returning_nonzero_stops_after_that_epoch(void **state)
{
    enum { N = 10 };
    float x[N * 3], t[N * 2];
    test_rng g = {5};
    nn_data *d = NULL;
    nn_model *m = batch_model();
    recorder *r = recorder_new();
    (void)state;

    fill_uniform(&g, x, N * 3, -1.0, 1.0);
    fill_uniform(&g, t, N * 2, -1.0, 1.0);
    set_fit_params(m, 10, 4, 1, 0);
    NN_OK_OR_FAIL(nn_data_create(&d, N, x, 3, t, 2));
    r->stop_at_epoch = 2;
    NN_OK_OR_FAIL(nn_model_fit(m, d, NULL, rec_on_epoch, rec_on_batch, r));
    assert_int_equal(r->epoch_calls, 2);
    assert_int_equal(r->batch_calls, 2 * 3);
    assert_int_equal(nn_model_step_count(m), 2 * 3);

    test_free(r);
    nn_model_free(m);
    nn_data_free(d);
}

static void on_batch_returning_nonzero_stops_at_once(void **state)
{
    enum { N = 10 };
    static const size_t lo[3] = {0, 4, 8}, hi[3] = {4, 8, 10};
    float x[N * 3], t[N * 2];
    test_rng g = {6};
    nn_data *d = NULL;
    nn_model *m = batch_model(), *twin = batch_model();
    recorder *r = recorder_new();
    float *pm;
    size_t count, s;
    (void)state;

    fill_uniform(&g, x, N * 3, -1.0, 1.0);
    fill_uniform(&g, t, N * 2, -1.0, 1.0);
    set_fit_params(m, 10, 4, 0, 0);
    NN_OK_OR_FAIL(nn_data_create(&d, N, x, 3, t, 2));
    /* Epoch 1 has 3 batches: stop at batch 2 of epoch 2. */
    r->stop_at_batch_call = 5;
    NN_OK_OR_FAIL(nn_model_fit(m, d, NULL, rec_on_epoch, rec_on_batch, r));
    assert_int_equal(r->batch_calls, 5);
    assert_int_equal(r->b_epoch[4], 2);
    assert_int_equal(r->b_index[4], 2);
    /* Epoch 2 was not finished, so it is not reported. */
    assert_int_equal(r->epoch_calls, 1);
    assert_int_equal(nn_model_step_count(m), 5);

    /* The model holds exactly the five steps taken. */
    for (s = 0; s < 5; s++) {
        size_t b = s % 3;
        double loss;
        NN_OK_OR_FAIL(nn_model_train_batch(twin, hi[b] - lo[b], x + 3 * lo[b],
                                           3, t + 2 * lo[b], 2, &loss));
        assert_rel_close("batch loss", r->b_loss[s], loss, 1e-12);
    }
    pm = params_copy(m, &count);
    assert_true(params_equal(twin, pm, count));

    test_free(pm);
    test_free(r);
    nn_model_free(m);
    nn_model_free(twin);
    nn_data_free(d);
}

/* ---------------------------------------------------------------------
 * Interrupted runs
 * --------------------------------------------------------------------- */

#define RES_N 40
#define RES_VAL 12

/* relu -> batchnorm -> dropout -> softmax, Adam, cosine, early stopping on
 * a validation set, shuffled batches of 7 (the last of an epoch 5 rows). */
static nn_model *resume_model(void)
{
    nn_model *m = NULL;
    NN_OK_OR_FAIL(nn_model_create(&m, 5, 77));
    NN_OK_OR_FAIL(nn_model_add_dense(m, 12, NN_ACT_RELU));
    NN_OK_OR_FAIL(nn_model_add_batchnorm(m));
    NN_OK_OR_FAIL(nn_model_add_dropout(m, 0.3));
    NN_OK_OR_FAIL(nn_model_add_dense(m, 3, NN_ACT_SOFTMAX));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY));
    NN_OK_OR_FAIL(nn_model_set_optimizer(m, NN_OPT_ADAM));
    NN_OK_OR_FAIL(nn_model_set_schedule(m, NN_SCHED_COSINE));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_SCHED_T_MAX, 30));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.05));
    set_fit_params(m, 6, 7, 1, 3);
    return m;
}

typedef struct resume_data {
    float x[RES_N * 5], vx[RES_VAL * 5];
    int32_t y[RES_N], vy[RES_VAL];
    nn_data *train, *val;
} resume_data;

static void resume_data_init(resume_data *d)
{
    test_rng g = {41};
    size_t i;
    fill_uniform(&g, d->x, RES_N * 5, -1.0, 1.0);
    fill_uniform(&g, d->vx, RES_VAL * 5, -1.0, 1.0);
    for (i = 0; i < RES_N; i++)
        d->y[i] = d->x[5 * i] + d->x[5 * i + 1] > 0.0f ? 1 : (i % 3 == 0 ? 2 : 0);
    for (i = 0; i < RES_VAL; i++)
        d->vy[i] = d->vx[5 * i] + d->vx[5 * i + 1] > 0.0f ? 1 : 0;
    NN_OK_OR_FAIL(nn_data_create_labels(&d->train, RES_N, d->x, 5, d->y));
    NN_OK_OR_FAIL(nn_data_create_labels(&d->val, RES_VAL, d->vx, 5, d->vy));
}

/* A checkpoint of m, loaded into a new model. */
static nn_model *through_checkpoint(const nn_model *m)
{
    size_t size = 0;
    unsigned char *buf;
    nn_model *back = NULL;
    NN_OK_OR_FAIL(nn_model_save_size(m, NN_SAVE_CHECKPOINT, &size));
    buf = (unsigned char *)test_malloc(size);
    NN_OK_OR_FAIL(nn_model_save_buffer(m, NN_SAVE_CHECKPOINT, buf, size,
                                       NULL));
    NN_OK_OR_FAIL(nn_model_load_buffer(&back, buf, size));
    test_free(buf);
    return back;
}

/* Runs fit interrupted at the given points (batch calls, or epochs when
 * negative), each time continued with nn_model_fit_resume, through a
 * checkpoint when via_file; the final parameters, every batch's loss and
 * every epoch's losses must equal the unbroken run's. */
static void check_resume(const long *points, size_t n_points, int via_file)
{
    resume_data d;
    nn_model *whole = resume_model(), *m = resume_model();
    recorder *rw = recorder_new(), *r = recorder_new();
    size_t count, i, batches_before = 0, epochs_before = 0, p;
    double all_b[REC_MAX_BATCHES], all_e[REC_MAX_EPOCHS];
    float *want;
    resume_data_init(&d);
    NN_OK_OR_FAIL(nn_model_fit(whole, d.train, d.val, rec_on_epoch,
                               rec_on_batch, rw));
    want = params_copy(whole, &count);
    for (p = 0; p <= n_points; p++) {
        nn_status st;
        memset(r, 0, sizeof *r);
        if (p < n_points && points[p] > 0)
            r->interrupt_at_batch_call = (size_t)points[p] - batches_before;
        if (p < n_points && points[p] < 0)
            r->interrupt_at_epoch = (size_t)-points[p];
        st = p == 0 ? nn_model_fit(m, d.train, d.val, rec_on_epoch,
                                   rec_on_batch, r)
                    : nn_model_fit_resume(m, d.train, d.val, rec_on_epoch,
                                          rec_on_batch, r);
        if (st != NN_OK)
            fail_msg("part %zu: %s", p, nn_last_error());
        for (i = 0; i < r->batch_calls; i++) {
            /* numbered as in the unbroken run */
            assert_int_equal(r->b_epoch[i], rw->b_epoch[batches_before + i]);
            assert_int_equal(r->b_index[i], rw->b_index[batches_before + i]);
            all_b[batches_before + i] = r->b_loss[i];
        }
        for (i = 0; i < r->epoch_calls; i++) {
            assert_int_equal(r->epoch_no[i], rw->epoch_no[epochs_before + i]);
            all_e[epochs_before + i] = r->train_loss[i];
            assert_true(r->val_loss[i] == rw->val_loss[epochs_before + i]);
        }
        batches_before += r->batch_calls;
        epochs_before += r->epoch_calls;
        if (via_file && p < n_points) {
            nn_model *back = through_checkpoint(m);
            nn_model_free(m);
            m = back;
        }
    }
    assert_int_equal(batches_before, rw->batch_calls);
    assert_int_equal(epochs_before, rw->epoch_calls);
    assert_memory_equal(all_b, rw->b_loss, rw->batch_calls * sizeof(double));
    assert_memory_equal(all_e, rw->train_loss,
                        rw->epoch_calls * sizeof(double));
    assert_true(params_equal(m, want, count));
    /* nothing is left to resume */
    assert_int_equal(nn_model_fit_resume(m, d.train, d.val, NULL, NULL,
                                         NULL),
                     NN_E_STATE);
    test_free(want);
    test_free(rw);
    test_free(r);
    nn_model_free(whole);
    nn_model_free(m);
    nn_data_free(d.train);
    nn_data_free(d.val);
}

static void a_resumed_run_ends_where_an_unbroken_one_ends(void **state)
{
    static const long mid_epoch[] = {9};       /* epoch 2, batch 3 */
    static const long epoch_end[] = {-3};      /* after epoch 3 */
    static const long last_batch[] = {12};     /* epoch 2's last batch */
    static const long three[] = {4, -3, 30};   /* and again, twice */
    (void)state;
    check_resume(mid_epoch, 1, 0);
    check_resume(mid_epoch, 1, 1);
    check_resume(epoch_end, 1, 0);
    check_resume(epoch_end, 1, 1);
    check_resume(last_batch, 1, 1);
    check_resume(three, 3, 1);
}

static void fit_resume_refuses_what_it_cannot_continue(void **state)
{
    resume_data d;
    nn_model *m = resume_model();
    recorder *r = recorder_new();
    nn_data *fewer = NULL;
    (void)state;
    resume_data_init(&d);
    assert_int_equal(nn_model_fit_resume(m, d.train, NULL, NULL, NULL, NULL),
                     NN_E_STATE);
    assert_non_null(strstr(nn_last_error(), "no interrupted run"));
    r->interrupt_at_batch_call = 3;
    NN_OK_OR_FAIL(nn_model_fit(m, d.train, NULL, NULL, rec_on_batch, r));
    NN_OK_OR_FAIL(nn_data_create_labels(&fewer, RES_N - 1, d.x, 5, d.y));
    assert_int_equal(nn_model_fit_resume(m, fewer, NULL, NULL, NULL, NULL),
                     NN_E_STATE);
    assert_non_null(strstr(nn_last_error(), "40 rows in batches of 7"));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_BATCH_SIZE, 8));
    assert_int_equal(nn_model_fit_resume(m, d.train, NULL, NULL, NULL, NULL),
                     NN_E_STATE);
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_BATCH_SIZE, 7));
    /* choosing the optimizer again ends the run */
    NN_OK_OR_FAIL(nn_model_set_optimizer(m, NN_OPT_ADAM));
    assert_int_equal(nn_model_fit_resume(m, d.train, NULL, NULL, NULL, NULL),
                     NN_E_STATE);
    test_free(r);
    nn_data_free(fewer);
    nn_model_free(m);
    nn_data_free(d.train);
    nn_data_free(d.val);
}

/* Batch normalization cannot train on a batch of one row: fit says so
 * before the first step, whichever batch would be the one. */
static void fit_refuses_a_batch_of_one_row_with_batch_normalization(
    void **state)
{
    resume_data d;
    nn_model *m = resume_model();
    size_t count;
    float *before;
    nn_data *one = NULL;
    (void)state;
    resume_data_init(&d);
    before = params_copy(m, &count);
    set_fit_params(m, 2, 13, 1, 0); /* 40 = 3 x 13 + 1 */
    assert_int_equal(nn_model_fit(m, d.train, NULL, NULL, NULL, NULL),
                     NN_E_INVALID);
    assert_non_null(strstr(nn_last_error(), "leave a batch of 1 row"));
    NN_OK_OR_FAIL(nn_data_create_labels(&one, 1, d.x, 5, d.y));
    assert_int_equal(nn_model_fit(m, one, NULL, NULL, NULL, NULL),
                     NN_E_INVALID);
    assert_true(params_equal(m, before, count));
    assert_int_equal(nn_model_step_count(m), 0);
    test_free(before);
    nn_data_free(one);
    nn_model_free(m);
    nn_data_free(d.train);
    nn_data_free(d.val);
}

/* ---------------------------------------------------------------------
 * Evaluation against predict
 * --------------------------------------------------------------------- */

#define EVAL_N 1000

static void evaluate_mse_matches_predict_and_has_no_accuracy_for_one_output(
    void **state)
{
    static const size_t widths[] = {7, 1};
    static const nn_activation acts[] = {NN_ACT_TANH, NN_ACT_IDENTITY};
    float *x = (float *)test_malloc(EVAL_N * 3 * sizeof *x);
    float t[EVAL_N], y[EVAL_N];
    test_rng g = {21};
    nn_data *d = NULL;
    nn_model *m = build_model(3, 31, widths, acts, 2, NN_LOSS_MSE, 0.1);
    double want = 0.0, loss = NAN, acc = 0.0;
    size_t i;
    (void)state;

    fill_uniform(&g, x, EVAL_N * 3, -1.0, 1.0);
    fill_uniform(&g, t, EVAL_N, -2.0, 2.0);
    NN_OK_OR_FAIL(nn_data_create(&d, EVAL_N, x, 3, t, 1));
    NN_OK_OR_FAIL(nn_model_predict(m, EVAL_N, x, 3, y, 1));
    for (i = 0; i < EVAL_N; i++) {
        double e = (double)y[i] - (double)t[i];
        want += e * e;
    }
    want /= EVAL_N;
    NN_OK_OR_FAIL(nn_model_evaluate(m, d, &loss, &acc));
    assert_rel_close("MSE", loss, want, 1e-5);
    assert_true(isnan(acc));
    /* Either output may be NULL. */
    NN_OK_OR_FAIL(nn_model_evaluate(m, d, NULL, NULL));
    loss = NAN;
    NN_OK_OR_FAIL(nn_model_evaluate(m, d, &loss, NULL));
    assert_rel_close("MSE, no accuracy", loss, want, 1e-5);

    test_free(x);
    nn_model_free(m);
    nn_data_free(d);
}

static void evaluate_mse_with_several_outputs_scores_the_arg_max(
    void **state)
{
    enum { K = 3 };
    static const size_t widths[] = {7, K};
    static const nn_activation acts[] = {NN_ACT_TANH, NN_ACT_IDENTITY};
    float *x = (float *)test_malloc(EVAL_N * 3 * sizeof *x);
    float *t = (float *)test_malloc(EVAL_N * K * sizeof *t);
    float *y = (float *)test_malloc(EVAL_N * K * sizeof *y);
    test_rng g = {22};
    nn_data *d = NULL;
    nn_model *m = build_model(3, 32, widths, acts, 2, NN_LOSS_MSE, 0.1);
    double want = 0.0, loss = NAN, acc = NAN;
    size_t i, right = 0;
    (void)state;

    fill_uniform(&g, x, EVAL_N * 3, -1.0, 1.0);
    fill_uniform(&g, t, EVAL_N * K, -1.0, 1.0);
    NN_OK_OR_FAIL(nn_data_create(&d, EVAL_N, x, 3, t, K));
    NN_OK_OR_FAIL(nn_model_predict(m, EVAL_N, x, 3, y, K));
    for (i = 0; i < EVAL_N * K; i++) {
        double e = (double)y[i] - (double)t[i];
        want += e * e;
    }
    want /= EVAL_N * K;
    for (i = 0; i < EVAL_N; i++)
        right += argmax_f(y + K * i, K) == argmax_f(t + K * i, K);
    NN_OK_OR_FAIL(nn_model_evaluate(m, d, &loss, &acc));
    assert_rel_close("MSE", loss, want, 1e-5);
    assert_true(right > 0 && right < EVAL_N);
    assert_rel_close("accuracy", acc, (double)right / EVAL_N, 1e-12);

    test_free(x);
    test_free(t);
    test_free(y);
    nn_model_free(m);
    nn_data_free(d);
}

/* BCE of probabilities p (or logits when `logits`) against t. */
static void bce_reference(const float *y, const float *t, size_t n,
                          int logits, double *loss, double *acc)
{
    double sum = 0.0;
    size_t i, right = 0;
    for (i = 0; i < n; i++) {
        double p = logits ? 1.0 / (1.0 + exp(-(double)y[i])) : (double)y[i];
        sum -= (double)t[i] * log(p) + (1.0 - (double)t[i]) * log(1.0 - p);
        right += ((logits ? y[i] > 0.0f : y[i] > 0.5f) == (t[i] > 0.5f));
    }
    *loss = sum / (double)n;
    *acc = (double)right / (double)n;
}

static void evaluate_bce_matches_probabilities_from_predict(void **state)
{
    static const nn_activation outs[2] = {NN_ACT_SIGMOID, NN_ACT_IDENTITY};
    float *x = (float *)test_malloc(EVAL_N * 2 * sizeof *x);
    float t[EVAL_N], y[EVAL_N];
    test_rng g = {23};
    size_t i, v;
    (void)state;

    fill_uniform(&g, x, EVAL_N * 2, -1.5, 1.5);
    /* Mostly hard 0/1 targets, some soft ones. */
    for (i = 0; i < EVAL_N; i++) {
        double u = rng_unit(&g);
        t[i] = i % 5 == 4 ? (float)u : (u < 0.5 ? 0.0f : 1.0f);
    }
    for (v = 0; v < 2; v++) {
        const size_t widths[] = {6, 1};
        const nn_activation acts[] = {NN_ACT_TANH, outs[v]};
        nn_model *m = build_model(2, 40 + v, widths, acts, 2, NN_LOSS_BCE,
                                  0.1);
        nn_data *d = NULL;
        double want_loss, want_acc, loss = NAN, acc = NAN;

        NN_OK_OR_FAIL(nn_data_create(&d, EVAL_N, x, 2, t, 1));
        NN_OK_OR_FAIL(nn_model_predict(m, EVAL_N, x, 2, y, 1));
        bce_reference(y, t, EVAL_N, outs[v] == NN_ACT_IDENTITY, &want_loss,
                      &want_acc);
        NN_OK_OR_FAIL(nn_model_evaluate(m, d, &loss, &acc));
        assert_rel_close("BCE", loss, want_loss, 1e-5);
        assert_true(want_acc > 0.0 && want_acc < 1.0);
        assert_rel_close("BCE accuracy", acc, want_acc, 1e-12);
        nn_model_free(m);
        nn_data_free(d);
    }
    test_free(x);
}

static void evaluate_cross_entropy_matches_probabilities_for_rows_and_labels(
    void **state)
{
    enum { K = 4 };
    static const size_t widths[] = {8, K};
    static const nn_activation acts[] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    float *x = (float *)test_malloc(EVAL_N * 3 * sizeof *x);
    float *onehot = (float *)test_calloc(EVAL_N * K, sizeof(float));
    float *soft = (float *)test_malloc(EVAL_N * K * sizeof(float));
    float *y = (float *)test_malloc(EVAL_N * K * sizeof *y);
    int32_t *labels = (int32_t *)test_malloc(EVAL_N * sizeof *labels);
    test_rng g = {24};
    nn_data *dl = NULL, *dh = NULL, *ds = NULL;
    nn_model *m = build_model(3, 50, widths, acts, 2, NN_LOSS_CROSS_ENTROPY,
                              0.1);
    double want_hard = 0.0, want_soft = 0.0, loss = NAN, acc = NAN;
    size_t i, j, right_hard = 0, right_soft = 0;
    (void)state;

    fill_uniform(&g, x, EVAL_N * 3, -1.0, 1.0);
    for (i = 0; i < EVAL_N; i++) {
        double sum = 0.0;
        labels[i] = (int32_t)(rng_next(&g) % K);
        onehot[K * i + (size_t)labels[i]] = 1.0f;
        for (j = 0; j < K; j++)
            sum += soft[K * i + j] = rng_uniform(&g, 0.05, 1.0);
        for (j = 0; j < K; j++)
            soft[K * i + j] = (float)(soft[K * i + j] / sum);
    }
    NN_OK_OR_FAIL(nn_data_create_labels(&dl, EVAL_N, x, 3, labels));
    NN_OK_OR_FAIL(nn_data_create(&dh, EVAL_N, x, 3, onehot, K));
    NN_OK_OR_FAIL(nn_data_create(&ds, EVAL_N, x, 3, soft, K));
    NN_OK_OR_FAIL(nn_model_predict(m, EVAL_N, x, 3, y, K));
    for (i = 0; i < EVAL_N; i++) {
        size_t am = argmax_f(y + K * i, K);
        want_hard -= log((double)y[K * i + (size_t)labels[i]]);
        for (j = 0; j < K; j++)
            want_soft -= (double)soft[K * i + j] * log((double)y[K * i + j]);
        right_hard += am == (size_t)labels[i];
        right_soft += am == argmax_f(soft + K * i, K);
    }
    want_hard /= EVAL_N;
    want_soft /= EVAL_N;
    assert_true(right_hard > 0 && right_hard < EVAL_N);

    NN_OK_OR_FAIL(nn_model_evaluate(m, dl, &loss, &acc));
    assert_rel_close("CE, labels", loss, want_hard, 1e-5);
    assert_rel_close("accuracy, labels", acc, (double)right_hard / EVAL_N,
                     1e-12);
    loss = acc = NAN;
    NN_OK_OR_FAIL(nn_model_evaluate(m, dh, &loss, &acc));
    assert_rel_close("CE, one-hot rows", loss, want_hard, 1e-5);
    assert_rel_close("accuracy, one-hot rows", acc,
                     (double)right_hard / EVAL_N, 1e-12);
    loss = acc = NAN;
    NN_OK_OR_FAIL(nn_model_evaluate(m, ds, &loss, &acc));
    assert_rel_close("CE, probability rows", loss, want_soft, 1e-5);
    assert_rel_close("accuracy, probability rows", acc,
                     (double)right_soft / EVAL_N, 1e-12);

    test_free(x);
    test_free(onehot);
    test_free(soft);
    test_free(y);
    test_free(labels);
    nn_model_free(m);
    nn_data_free(dl);
    nn_data_free(dh);
    nn_data_free(ds);
}

/* ---------------------------------------------------------------------
 * Validation reported to on_epoch
 * --------------------------------------------------------------------- */

static void validation_values_passed_to_on_epoch_equal_evaluate(void **state)
{
    enum { N = 60, NV = 300, EPOCHS = 5 };
    static const size_t widths[] = {8, 3};
    static const nn_activation acts[] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    float x[N * 2], *xv = (float *)test_malloc(NV * 2 * sizeof *xv);
    int32_t lab[N], *labv = (int32_t *)test_malloc(NV * sizeof *labv);
    test_rng g = {25};
    nn_data *train = NULL, *val = NULL;
    nn_model *m = build_model(2, 60, widths, acts, 2, NN_LOSS_CROSS_ENTROPY,
                              0.1);
    recorder *r = recorder_new();
    size_t i;
    (void)state;

    fill_uniform(&g, x, N * 2, -1.0, 1.0);
    fill_uniform(&g, xv, NV * 2, -1.0, 1.0);
    for (i = 0; i < N; i++)
        lab[i] = x[2 * i] > 0.0f ? (x[2 * i + 1] > 0.0f ? 0 : 1) : 2;
    for (i = 0; i < NV; i++)
        labv[i] = xv[2 * i] > 0.0f ? (xv[2 * i + 1] > 0.0f ? 0 : 1) : 2;
    NN_OK_OR_FAIL(nn_data_create_labels(&train, N, x, 2, lab));
    NN_OK_OR_FAIL(nn_data_create_labels(&val, NV, xv, 2, labv));
    set_fit_params(m, EPOCHS, 8, 1, 0);
    r->model = m;
    r->eval_val = val;
    NN_OK_OR_FAIL(nn_model_fit(m, train, val, rec_on_epoch, NULL, r));
    assert_int_equal(r->epoch_calls, EPOCHS);
    for (i = 0; i < EPOCHS; i++) {
        assert_int_equal(r->eval_status[i], NN_OK);
        assert_true(isfinite(r->val_loss[i]));
        assert_true(r->val_acc[i] >= 0.0 && r->val_acc[i] <= 1.0);
        assert_true(r->val_loss[i] == r->eval_loss[i]);
        assert_true(r->val_acc[i] == r->eval_acc[i]);
    }
    /* Training did something between the reports. */
    assert_true(r->val_loss[EPOCHS - 1] != r->val_loss[0]);

    test_free(xv);
    test_free(labv);
    test_free(r);
    nn_model_free(m);
    nn_data_free(train);
    nn_data_free(val);
}

static void validation_accuracy_on_epoch_is_nan_for_one_output_regression(
    void **state)
{
    enum { N = 30 };
    float x[N * 2], t[N];
    test_rng g = {26};
    nn_data *d = NULL;
    nn_model *m = repro_model(61);
    recorder *r = recorder_new();
    size_t i;
    (void)state;

    make_regression(&g, x, t, N);
    NN_OK_OR_FAIL(nn_data_create(&d, N, x, 2, t, 1));
    r->model = m;
    r->eval_val = d;
    NN_OK_OR_FAIL(nn_model_fit(m, d, d, rec_on_epoch, NULL, r));
    assert_int_equal(r->epoch_calls, 3);
    for (i = 0; i < 3; i++) {
        assert_true(r->val_loss[i] == r->eval_loss[i]);
        assert_true(isnan(r->val_acc[i]));
        assert_true(isnan(r->eval_acc[i]));
    }

    test_free(r);
    nn_model_free(m);
    nn_data_free(d);
}

/* ---------------------------------------------------------------------
 * Bad input
 * --------------------------------------------------------------------- */

/* Fits, expecting `want`; asserts no callback ran and nothing changed. */
static void expect_fit_fails(nn_model *m, const nn_data *train,
                             const nn_data *val, nn_status want,
                             const char *in_message)
{
    recorder *r = recorder_new();
    float *before = NULL;
    size_t count = 0;
    uint64_t steps = nn_model_step_count(m);
    if (m)
        before = params_copy(m, &count);
    NN_EXPECT(want, nn_model_fit(m, train, val, rec_on_epoch, rec_on_batch,
                                 r));
    assert_true(strncmp(nn_last_error(), "nn_model_fit", 12) == 0);
    if (in_message && !strstr(nn_last_error(), in_message))
        print_error("message \"%s\" lacks \"%s\"\n", nn_last_error(),
                    in_message);
    if (in_message)
        assert_non_null(strstr(nn_last_error(), in_message));
    assert_int_equal(r->epoch_calls, 0);
    assert_int_equal(r->batch_calls, 0);
    if (m) {
        assert_true(params_equal(m, before, count));
        assert_int_equal(nn_model_step_count(m), steps);
        test_free(before);
    }
    test_free(r);
}

static void fit_rejects_null_and_mismatched_widths_without_changes(
    void **state)
{
    enum { N = 12 };
    float x[N * 4], t[N * 3];
    test_rng g = {27};
    nn_data *good = NULL, *wide_x = NULL, *wide_t = NULL;
    nn_model *m = batch_model(); /* 3 -> 6 -> 2 */
    (void)state;

    fill_uniform(&g, x, N * 4, -1.0, 1.0);
    fill_uniform(&g, t, N * 3, -1.0, 1.0);
    set_fit_params(m, 2, 4, 1, 0);
    NN_OK_OR_FAIL(nn_data_create(&good, N, x, 3, t, 2));
    NN_OK_OR_FAIL(nn_data_create(&wide_x, N, x, 4, t, 2));
    NN_OK_OR_FAIL(nn_data_create(&wide_t, N, x, 3, t, 3));

    expect_fit_fails(NULL, good, NULL, NN_E_NULL, "model");
    expect_fit_fails(m, NULL, NULL, NN_E_NULL, "train");
    expect_fit_fails(m, NULL, good, NN_E_NULL, "train");
    expect_fit_fails(m, wide_x, NULL, NN_E_SHAPE, "x_width");
    expect_fit_fails(m, wide_t, NULL, NN_E_SHAPE, "t_width");
    expect_fit_fails(m, good, wide_x, NN_E_SHAPE, "val");
    expect_fit_fails(m, good, wide_t, NN_E_SHAPE, "val");
    /* The same model then fits fine. */
    NN_OK_OR_FAIL(nn_model_fit(m, good, good, NULL, NULL, NULL));

    nn_model_free(m);
    nn_data_free(good);
    nn_data_free(wide_x);
    nn_data_free(wide_t);
}

static void fit_rejects_a_label_out_of_range_in_train_or_val(void **state)
{
    enum { N = 12 };
    static const size_t widths[] = {5, 3};
    static const nn_activation acts[] = {NN_ACT_TANH, NN_ACT_SOFTMAX};
    float x[N * 2];
    int32_t good_lab[N], bad_lab[N];
    test_rng g = {28};
    nn_data *good = NULL, *bad = NULL;
    nn_model *m = build_model(2, 70, widths, acts, 2, NN_LOSS_CROSS_ENTROPY,
                              0.1);
    size_t i;
    (void)state;

    fill_uniform(&g, x, N * 2, -1.0, 1.0);
    for (i = 0; i < N; i++)
        good_lab[i] = bad_lab[i] = (int32_t)(i % 3);
    /* Only the last row is bad: a loop checking batch by batch would have
     * taken steps before noticing. */
    bad_lab[N - 1] = 3;
    set_fit_params(m, 2, 4, 0, 0);
    NN_OK_OR_FAIL(nn_data_create_labels(&good, N, x, 2, good_lab));
    NN_OK_OR_FAIL(nn_data_create_labels(&bad, N, x, 2, bad_lab));

    expect_fit_fails(m, bad, NULL, NN_E_INVALID, "3");
    expect_fit_fails(m, bad, good, NN_E_INVALID, "train");
    expect_fit_fails(m, good, bad, NN_E_INVALID, "val");
    NN_OK_OR_FAIL(nn_model_fit(m, good, good, NULL, NULL, NULL));

    nn_model_free(m);
    nn_data_free(good);
    nn_data_free(bad);
}

static void fit_without_a_loss_fails_with_state_error(void **state)
{
    enum { N = 8 };
    static const size_t widths[] = {4, 2};
    static const nn_activation acts[] = {NN_ACT_TANH, NN_ACT_IDENTITY};
    float x[N * 3], t[N * 2];
    test_rng g = {29};
    nn_data *d = NULL;
    nn_model *m = build_model(3, 80, widths, acts, 2, (nn_loss)0, 0.1);
    (void)state;

    fill_uniform(&g, x, N * 3, -1.0, 1.0);
    fill_uniform(&g, t, N * 2, -1.0, 1.0);
    NN_OK_OR_FAIL(nn_data_create(&d, N, x, 3, t, 2));
    expect_fit_fails(m, d, NULL, NN_E_STATE, "loss");
    NN_EXPECT(NN_E_STATE, nn_model_evaluate(m, d, NULL, NULL));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_MSE));
    NN_OK_OR_FAIL(nn_model_fit(m, d, NULL, NULL, NULL, NULL));

    nn_model_free(m);
    nn_data_free(d);
}

static void data_create_rejects_bad_arguments(void **state)
{
    const float x[8] = {0};
    const float t[8] = {0};
    const int32_t labels[4] = {0, 1, -1, 2};
    const int32_t ok_labels[4] = {0, 1, 2, 0};
    nn_data *d = (nn_data *)&d; /* not NULL: failures must reset it */
    (void)state;

    NN_EXPECT(NN_E_NULL, nn_data_create(NULL, 4, x, 2, t, 2));
    NN_EXPECT(NN_E_NULL, nn_data_create(&d, 4, NULL, 2, t, 2));
    assert_null(d);
    d = (nn_data *)&d;
    NN_EXPECT(NN_E_NULL, nn_data_create(&d, 4, x, 2, NULL, 2));
    assert_null(d);
    d = (nn_data *)&d;
    NN_EXPECT(NN_E_NULL, nn_data_create_labels(&d, 4, NULL, 2, ok_labels));
    assert_null(d);
    d = (nn_data *)&d;
    NN_EXPECT(NN_E_NULL, nn_data_create_labels(&d, 4, x, 2, NULL));
    assert_null(d);

    d = (nn_data *)&d;
    NN_EXPECT(NN_E_INVALID, nn_data_create(&d, 0, x, 2, t, 2));
    assert_null(d);
    NN_EXPECT(NN_E_INVALID, nn_data_create(&d, 4, x, 0, t, 2));
    NN_EXPECT(NN_E_INVALID, nn_data_create(&d, 4, x, 2, t, 0));
    NN_EXPECT(NN_E_INVALID, nn_data_create_labels(&d, 0, x, 2, ok_labels));
    NN_EXPECT(NN_E_INVALID, nn_data_create_labels(&d, 4, x, 0, ok_labels));

    d = (nn_data *)&d;
    NN_EXPECT(NN_E_INVALID, nn_data_create_labels(&d, 4, x, 2, labels));
    assert_null(d);
    assert_non_null(strstr(nn_last_error(), "-1"));

    /* n * width overflows size_t (the arrays are never read). */
    NN_EXPECT(NN_E_OVERFLOW,
              nn_data_create(&d, SIZE_MAX / 2 + 1, x, 2, t, 1));
    NN_EXPECT(NN_E_OVERFLOW,
              nn_data_create(&d, SIZE_MAX / 4 + 1, x, 1, t, 4));
    NN_EXPECT(NN_E_OVERFLOW,
              nn_data_create_labels(&d, SIZE_MAX / 2 + 1, x, 2, labels));
    assert_null(d);

    /* The good cases. */
    NN_OK_OR_FAIL(nn_data_create(&d, 4, x, 2, t, 2));
    assert_int_equal(nn_data_rows(d), 4);
    nn_data_free(d);
    NN_OK_OR_FAIL(nn_data_create_labels(&d, 3, x, 2, ok_labels));
    assert_int_equal(nn_data_rows(d), 3);
    nn_data_free(d);
    assert_int_equal(nn_data_rows(NULL), 0);
    nn_data_free(NULL);
}

/* ---------------------------------------------------------------------
 * Byte datasets
 * --------------------------------------------------------------------- */

#define U8_N 600   /* above evaluate's slice of 256 rows: three slices */
#define U8_VAL 300
#define U8_W 12

/* Rows of U8_W random bytes, labelled by which third of the row has the
 * largest sum. */
static void make_byte_rows(test_rng *g, uint8_t *x, int32_t *lab, size_t n)
{
    size_t i, j;
    for (i = 0; i < n; i++) {
        unsigned sum[3] = {0, 0, 0};
        for (j = 0; j < U8_W; j++) {
            x[i * U8_W + j] = (uint8_t)(rng_next(g) >> 56);
            sum[j / (U8_W / 3)] += x[i * U8_W + j];
        }
        lab[i] = sum[1] > sum[0] ? (sum[2] > sum[1] ? 2 : 1)
                                 : (sum[2] > sum[0] ? 2 : 0);
    }
}

/* A scaling layer maps the bytes to [-1, 1), as the nn command's does. */
static nn_model *byte_model(void)
{
    float scale[U8_W], shift[U8_W];
    nn_model *m = NULL;
    size_t j;
    for (j = 0; j < U8_W; j++) {
        scale[j] = 1.0f / 128;
        shift[j] = -1.0f;
    }
    NN_OK_OR_FAIL(nn_model_create(&m, U8_W, 77));
    NN_OK_OR_FAIL(nn_model_add_scaling(m, scale, shift, U8_W));
    NN_OK_OR_FAIL(nn_model_add_dense(m, 16, NN_ACT_RELU));
    NN_OK_OR_FAIL(nn_model_add_dense(m, 3, NN_ACT_SOFTMAX));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY));
    NN_OK_OR_FAIL(nn_model_set_optimizer(m, NN_OPT_ADAM));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.01));
    return m;
}

/* Fits twins on the bytes and on their floats (labels, or one-hot targets
 * with one_hot), shuffled or in order, with a byte validation set at an
 * odd address, and asserts every figure and parameter the same bit for
 * bit. */
static void check_bytes_like_floats(double shuffle, int one_hot)
{
    enum { EPOCHS = 4 };
    uint8_t *xb = test_malloc(U8_N * U8_W);
    uint8_t *vb = test_malloc(U8_VAL * U8_W + 1);
    float *xf = test_malloc(U8_N * U8_W * sizeof *xf);
    float *vf = test_malloc(U8_VAL * U8_W * sizeof *vf);
    float *t = test_malloc(U8_N * 3 * sizeof *t);
    float *tv = test_malloc(U8_VAL * 3 * sizeof *tv);
    int32_t lab[U8_N], lv[U8_VAL];
    test_rng g = {515};
    nn_model *a = byte_model(), *b = byte_model();
    nn_data *ta = NULL, *va = NULL, *tf = NULL, *vff = NULL;
    recorder *ra = recorder_new(), *rb = recorder_new();
    size_t i, count;
    double la, lb, aa, ab;
    float *init = params_copy(a, &count);

    make_byte_rows(&g, xb, lab, U8_N);
    make_byte_rows(&g, vb + 1, lv, U8_VAL);
    for (i = 0; i < U8_N * U8_W; i++)
        xf[i] = (float)xb[i];
    for (i = 0; i < U8_VAL * U8_W; i++)
        vf[i] = (float)vb[1 + i];
    for (i = 0; i < U8_N * 3; i++)
        t[i] = (size_t)lab[i / 3] == i % 3 ? 1.0f : 0.0f;
    for (i = 0; i < U8_VAL * 3; i++)
        tv[i] = (size_t)lv[i / 3] == i % 3 ? 1.0f : 0.0f;
    if (one_hot) {
        NN_OK_OR_FAIL(nn_data_create_u8(&ta, U8_N, xb, U8_W, t, 3));
        NN_OK_OR_FAIL(nn_data_create_u8(&va, U8_VAL, vb + 1, U8_W, tv, 3));
        NN_OK_OR_FAIL(nn_data_create(&tf, U8_N, xf, U8_W, t, 3));
        NN_OK_OR_FAIL(nn_data_create(&vff, U8_VAL, vf, U8_W, tv, 3));
    } else {
        NN_OK_OR_FAIL(nn_data_create_labels_u8(&ta, U8_N, xb, U8_W, lab));
        NN_OK_OR_FAIL(
            nn_data_create_labels_u8(&va, U8_VAL, vb + 1, U8_W, lv));
        NN_OK_OR_FAIL(nn_data_create_labels(&tf, U8_N, xf, U8_W, lab));
        NN_OK_OR_FAIL(nn_data_create_labels(&vff, U8_VAL, vf, U8_W, lv));
    }
    assert_int_equal(nn_data_rows(ta), U8_N);
    set_fit_params(a, EPOCHS, 64, shuffle, 0); /* 600 rows: a last 24 */
    set_fit_params(b, EPOCHS, 64, shuffle, 0);
    NN_OK_OR_FAIL(nn_model_fit(a, ta, va, rec_on_epoch, rec_on_batch, ra));
    NN_OK_OR_FAIL(nn_model_fit(b, tf, vff, rec_on_epoch, rec_on_batch, rb));

    /* it learned: the validation loss fell, accuracy well above chance */
    assert_true(ra->val_loss[EPOCHS - 1] < ra->val_loss[0]);
    assert_true(ra->val_acc[EPOCHS - 1] > 0.7);
    assert_false(params_equal(a, init, count));
    {
        float *pa = params_copy(a, &count);
        assert_true(params_equal(b, pa, count));
        test_free(pa);
    }
    assert_memory_equal(ra->train_loss, rb->train_loss,
                        EPOCHS * sizeof ra->train_loss[0]);
    assert_memory_equal(ra->val_loss, rb->val_loss,
                        EPOCHS * sizeof ra->val_loss[0]);
    assert_memory_equal(ra->val_acc, rb->val_acc,
                        EPOCHS * sizeof ra->val_acc[0]);
    assert_int_equal(ra->batch_calls, rb->batch_calls);
    assert_memory_equal(ra->b_loss, rb->b_loss,
                        ra->batch_calls * sizeof ra->b_loss[0]);
    /* evaluate on the bytes and on the floats, both of the training set */
    NN_OK_OR_FAIL(nn_model_evaluate(a, ta, &la, &aa));
    NN_OK_OR_FAIL(nn_model_evaluate(a, tf, &lb, &ab));
    assert_memory_equal(&la, &lb, sizeof la);
    assert_memory_equal(&aa, &ab, sizeof aa);

    test_free(init);
    test_free(ra);
    test_free(rb);
    nn_model_free(a);
    nn_model_free(b);
    nn_data_free(ta);
    nn_data_free(va);
    nn_data_free(tf);
    nn_data_free(vff);
    test_free(xb);
    test_free(vb);
    test_free(xf);
    test_free(vf);
    test_free(t);
    test_free(tv);
}

static void a_byte_dataset_fits_like_its_floats_bit_for_bit(void **state)
{
    (void)state;
    check_bytes_like_floats(1, 0);
    check_bytes_like_floats(0, 0);
    check_bytes_like_floats(1, 1);
    check_bytes_like_floats(0, 1);
}

static void byte_data_create_rejects_bad_arguments(void **state)
{
    const uint8_t x[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    const float t[8] = {0};
    const int32_t labels[4] = {0, 1, -1, 2};
    const int32_t ok_labels[4] = {0, 1, 2, 0};
    const float *odd = (const float *)(const void *)((const char *)t + 1);
    nn_data *d = (nn_data *)&d;
    (void)state;

    NN_EXPECT(NN_E_NULL, nn_data_create_u8(NULL, 4, x, 2, t, 2));
    NN_EXPECT(NN_E_NULL, nn_data_create_u8(&d, 4, NULL, 2, t, 2));
    assert_null(d);
    d = (nn_data *)&d;
    NN_EXPECT(NN_E_NULL, nn_data_create_u8(&d, 4, x, 2, NULL, 2));
    assert_null(d);
    NN_EXPECT(NN_E_NULL, nn_data_create_labels_u8(NULL, 4, x, 2, ok_labels));
    NN_EXPECT(NN_E_NULL, nn_data_create_labels_u8(&d, 4, NULL, 2, ok_labels));
    NN_EXPECT(NN_E_NULL, nn_data_create_labels_u8(&d, 4, x, 2, NULL));
    NN_EXPECT(NN_E_INVALID, nn_data_create_u8(&d, 0, x, 2, t, 2));
    NN_EXPECT(NN_E_INVALID, nn_data_create_u8(&d, 4, x, 0, t, 2));
    NN_EXPECT(NN_E_INVALID, nn_data_create_u8(&d, 4, x, 2, t, 0));
    NN_EXPECT(NN_E_INVALID, nn_data_create_labels_u8(&d, 0, x, 2, ok_labels));
    NN_EXPECT(NN_E_INVALID, nn_data_create_labels_u8(&d, 4, x, 0, ok_labels));
    d = (nn_data *)&d;
    NN_EXPECT(NN_E_INVALID, nn_data_create_labels_u8(&d, 4, x, 2, labels));
    assert_null(d);
    assert_non_null(strstr(nn_last_error(), "nn_data_create_labels_u8"));
    /* t must still be aligned for floats */
    NN_EXPECT(NN_E_INVALID, nn_data_create_u8(&d, 2, x, 2, odd, 1));
    /* the rows' floats must fit in size_t, as fit converts them */
    NN_EXPECT(NN_E_OVERFLOW,
              nn_data_create_u8(&d, SIZE_MAX / 8 + 1, x, 2, t, 1));
    NN_EXPECT(NN_E_OVERFLOW,
              nn_data_create_labels_u8(&d, SIZE_MAX / 4 + 1, x, 1, labels));
    assert_null(d);

    /* bytes need no alignment */
    NN_OK_OR_FAIL(nn_data_create_u8(&d, 4, x + 1, 2, t, 2));
    assert_int_equal(nn_data_rows(d), 4);
    nn_data_free(d);
    NN_OK_OR_FAIL(nn_data_create_labels_u8(&d, 3, x + 1, 2, ok_labels));
    assert_int_equal(nn_data_rows(d), 3);
    nn_data_free(d);
}

/* fit and evaluate check a byte set's width against the model's as they
 * check floats'. */
static void fit_rejects_a_byte_dataset_of_the_wrong_width(void **state)
{
    uint8_t x[40 * 3] = {0};
    int32_t lab[40] = {0};
    nn_data *d = NULL;
    nn_model *m = byte_model();
    double loss, acc;
    (void)state;
    NN_OK_OR_FAIL(nn_data_create_labels_u8(&d, 40, x, 3, lab));
    NN_EXPECT(NN_E_SHAPE, nn_model_fit(m, d, NULL, NULL, NULL, NULL));
    assert_non_null(strstr(nn_last_error(), "x_width is 3"));
    NN_EXPECT(NN_E_SHAPE, nn_model_evaluate(m, d, &loss, &acc));
    nn_data_free(d);
    nn_model_free(m);
}

/* ---------------------------------------------------------------------
 * Learning
 * --------------------------------------------------------------------- */

#define BLOB_N 300

static void make_blobs(test_rng *g, float *x, int32_t *lab, size_t n)
{
    static const double cx[3] = {-2.0, 2.0, 0.0}, cy[3] = {-1.0, -1.0, 2.0};
    size_t i;
    for (i = 0; i < n; i++) {
        size_t c = (size_t)(rng_next(g) % 3);
        lab[i] = (int32_t)c;
        x[2 * i] = (float)(cx[c] + 0.6 * rng_normal(g));
        x[2 * i + 1] = (float)(cy[c] + 0.6 * rng_normal(g));
    }
}

static void fit_trains_a_small_classifier_to_95_percent_on_held_out_blobs(
    void **state)
{
    enum { EPOCHS = 30 };
    static const size_t widths[] = {16, 3};
    static const nn_activation acts[] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    float xt[BLOB_N * 2], xv[BLOB_N * 2], y[BLOB_N * 3];
    int32_t lt[BLOB_N], lv[BLOB_N];
    test_rng g = {2024};
    nn_data *train = NULL, *val = NULL;
    nn_model *m = build_model(2, 90, widths, acts, 2, NN_LOSS_CROSS_ENTROPY,
                              0.01);
    recorder *r = recorder_new();
    double loss = NAN, acc = NAN;
    size_t i, right = 0;
    (void)state;

    make_blobs(&g, xt, lt, BLOB_N);
    make_blobs(&g, xv, lv, BLOB_N);
    NN_OK_OR_FAIL(nn_model_set_optimizer(m, NN_OPT_ADAM));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.01));
    set_fit_params(m, EPOCHS, 32, 1, 0);
    NN_OK_OR_FAIL(nn_data_create_labels(&train, BLOB_N, xt, 2, lt));
    NN_OK_OR_FAIL(nn_data_create_labels(&val, BLOB_N, xv, 2, lv));
    NN_OK_OR_FAIL(nn_model_fit(m, train, val, rec_on_epoch, NULL, r));

    assert_int_equal(r->epoch_calls, EPOCHS);
    assert_true(r->train_loss[EPOCHS - 1] < 0.5 * r->train_loss[0]);
    assert_true(r->val_acc[EPOCHS - 1] >= 0.95);
    NN_OK_OR_FAIL(nn_model_evaluate(m, val, &loss, &acc));
    assert_true(acc == r->val_acc[EPOCHS - 1]);
    /* Independently of evaluate: arg-max of predict on the held-out set. */
    NN_OK_OR_FAIL(nn_model_predict(m, BLOB_N, xv, 2, y, 3));
    for (i = 0; i < BLOB_N; i++)
        right += argmax_f(y + 3 * i, 3) == (size_t)lv[i];
    if ((double)right / BLOB_N < 0.95)
        print_error("held-out accuracy %zu / %d\n", right, BLOB_N);
    assert_true((double)right / BLOB_N >= 0.95);

    test_free(r);
    nn_model_free(m);
    nn_data_free(train);
    nn_data_free(val);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fit_with_same_seed_is_bit_identical),
        cmocka_unit_test(fit_with_a_different_seed_gives_a_different_result),
        cmocka_unit_test(
            shuffling_visits_every_row_once_per_epoch_in_changing_orders),
        cmocka_unit_test(fit_without_shuffling_visits_rows_in_order),
        cmocka_unit_test(
            last_partial_batch_matches_manual_steps_on_a_twin_model),
        cmocka_unit_test(batch_size_above_the_row_count_gives_one_full_batch),
        cmocka_unit_test(
            early_stopping_restores_the_weights_of_the_best_epoch),
        cmocka_unit_test(on_epoch_returning_nonzero_stops_after_that_epoch),
        cmocka_unit_test(on_batch_returning_nonzero_stops_at_once),
        cmocka_unit_test(
            evaluate_mse_matches_predict_and_has_no_accuracy_for_one_output),
        cmocka_unit_test(
            evaluate_mse_with_several_outputs_scores_the_arg_max),
        cmocka_unit_test(evaluate_bce_matches_probabilities_from_predict),
        cmocka_unit_test(
            evaluate_cross_entropy_matches_probabilities_for_rows_and_labels),
        cmocka_unit_test(validation_values_passed_to_on_epoch_equal_evaluate),
        cmocka_unit_test(
            validation_accuracy_on_epoch_is_nan_for_one_output_regression),
        cmocka_unit_test(
            fit_rejects_null_and_mismatched_widths_without_changes),
        cmocka_unit_test(fit_rejects_a_label_out_of_range_in_train_or_val),
        cmocka_unit_test(fit_without_a_loss_fails_with_state_error),
        cmocka_unit_test(data_create_rejects_bad_arguments),
        cmocka_unit_test(a_byte_dataset_fits_like_its_floats_bit_for_bit),
        cmocka_unit_test(byte_data_create_rejects_bad_arguments),
        cmocka_unit_test(fit_rejects_a_byte_dataset_of_the_wrong_width),
        cmocka_unit_test(a_resumed_run_ends_where_an_unbroken_one_ends),
        cmocka_unit_test(fit_resume_refuses_what_it_cannot_continue),
        cmocka_unit_test(
            fit_refuses_a_batch_of_one_row_with_batch_normalization),
        cmocka_unit_test(
            fit_trains_a_small_classifier_to_95_percent_on_held_out_blobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
