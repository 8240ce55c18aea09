/* SPDX-License-Identifier: MIT */
/*
 * test_alloc.c - libnn's memory: every allocation goes through the
 * replaceable allocator, a training step allocates nothing once the model has
 * seen its batch size, every block is returned, and a failed allocation at
 * any point leaves the model unchanged and usable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "nn_internal.h" /* the workspace and the packed weights */
#include "nn_test.h"

/* The counting allocator of nn_test.h, which can fail the Nth allocation
 * from now. */
static counter ctr;

static int install(void **state)
{
    (void)state;
    memset(&ctr, 0, sizeof ctr);
    return nn_set_allocator(count_malloc, count_free, &ctr) == NN_OK ? 0 : -1;
}

static int uninstall(void **state)
{
    (void)state;
    return nn_set_allocator(NULL, NULL, NULL) == NN_OK ? 0 : -1;
}

static nn_model *make_model(uint64_t seed)
{
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(&m, 5, seed), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 8, NN_ACT_RELU), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 6, NN_ACT_TANH), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 3, NN_ACT_SOFTMAX), NN_OK);
    assert_int_equal(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY), NN_OK);
    return m;
}

static void fill(float *x, size_t len, float scale)
{
    size_t i;
    for (i = 0; i < len; i++)
        x[i] = scale * (float)((i * 37 + 11) % 17) / 17.0f - 0.5f * scale;
}

static void training_step_allocates_nothing_once_the_batch_size_is_seen(
    void **state)
{
    float x[64 * 5];
    int32_t labels[64];
    size_t i;
    long before;
    double loss;
    nn_model *m;
    (void)state;
    fill(x, 64 * 5, 2.0f);
    for (i = 0; i < 64; i++)
        labels[i] = (int32_t)(i % 3);
    m = make_model(1);

    before = ctr.allocs;
    assert_int_equal(nn_model_train_batch_labels(m, 64, x, 5, labels, &loss),
                     NN_OK);
    assert_true(ctr.allocs > before); /* the first step builds the workspace */

    before = ctr.allocs;
    for (i = 0; i < 10; i++)
        assert_int_equal(
            nn_model_train_batch_labels(m, 64, x, 5, labels, &loss), NN_OK);
    /* smaller batches fit in the same workspace */
    assert_int_equal(nn_model_train_batch_labels(m, 1, x, 5, labels, &loss),
                     NN_OK);
    assert_int_equal(nn_model_train_batch_labels(m, 17, x, 5, labels, &loss),
                     NN_OK);
    assert_int_equal(nn_model_compute_grads_labels(m, 33, x, 5, labels,
                                                   &loss), NN_OK);
    assert_int_equal(nn_model_apply_grads(m), NN_OK);
    assert_int_equal(ctr.allocs, before);

    nn_model_free(m);
    assert_int_equal(ctr.live, 0);
}

static void every_block_is_freed(void **state)
{
    float x[10 * 5], y[10 * 3];
    int32_t labels[10] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0};
    double loss;
    nn_model *m;
    (void)state;
    fill(x, 50, 1.0f);
    m = make_model(2);
    assert_int_equal(nn_model_train_batch_labels(m, 10, x, 5, labels, &loss),
                     NN_OK);
    assert_int_equal(nn_model_predict(m, 10, x, 5, y, 3), NN_OK);
    assert_true(ctr.live > 0);
    nn_model_free(m);
    assert_int_equal(ctr.live, 0);
    assert_int_equal(ctr.allocs, ctr.frees);
}

/* SQLite's way: fail allocation 1, 2, ... of a call until it succeeds. Each
 * failure must report NN_E_NOMEM, leak nothing and change nothing. */
static void create_and_add_layers_survive_every_failed_allocation(
    void **state)
{
    long k;
    int done = 0;
    (void)state;
    for (k = 1; !done; k++) {
        nn_model *m = (nn_model *)&ctr; /* must be overwritten with NULL */
        nn_status st;
        ctr.allocs = 0;
        ctr.fail_at = k;
        st = nn_model_create(&m, 4, 9);
        if (st == NN_OK) {
            st = nn_model_add_dense(m, 3, NN_ACT_SIGMOID);
            if (st == NN_OK)
                st = nn_model_add_dense(m, 2, NN_ACT_IDENTITY);
        }
        ctr.fail_at = 0;
        if (st == NN_OK) {
            done = 1;
        } else {
            assert_int_equal(st, NN_E_NOMEM);
            assert_true(strlen(nn_last_error()) > 0);
        }
        if (m && m != (nn_model *)&ctr) {
            /* a model that survived a failed add_dense still works */
            float x[4] = {1, 2, 3, 4}, y[3];
            size_t out = nn_model_output_width(m);
            if (nn_model_layer_count(m) > 0)
                assert_int_equal(nn_model_predict(m, 1, x, 4, y, out), NN_OK);
            assert_int_equal(nn_model_add_dense(m, 2, NN_ACT_TANH), NN_OK);
            assert_int_equal(nn_model_predict(m, 1, x, 4, y, 2), NN_OK);
        } else {
            assert_null(m);
        }
        nn_model_free(m);
        assert_int_equal(ctr.live, 0);
    }
    assert_true(k > 3); /* the loop did fail something */
}

static void train_and_predict_survive_every_failed_allocation(void **state)
{
    float x[6 * 5], y[6 * 3], y_ref[6 * 3];
    int32_t labels[6] = {0, 1, 2, 2, 1, 0};
    nn_model *m = make_model(3), *twin = make_model(3);
    size_t count;
    float *snapshot;
    long k;
    int done;
    (void)state;
    fill(x, 30, 1.5f);
    count = 0;
    (void)nn_model_params(m, &count);
    snapshot = malloc(count * sizeof *snapshot);
    assert_non_null(snapshot);
    memcpy(snapshot, nn_model_params(m, NULL), count * sizeof *snapshot);

    for (done = 0, k = 1; !done; k++) {
        double loss;
        nn_status st;
        long live = ctr.live;
        ctr.allocs = 0;
        ctr.fail_at = k;
        st = nn_model_train_batch_labels(m, 6, x, 5, labels, &loss);
        ctr.fail_at = 0;
        if (st == NN_OK) {
            done = 1;
        } else {
            assert_int_equal(st, NN_E_NOMEM);
            /* A workspace grown before the failure may stay with the model
             * (it is freed with it, checked at the end); nothing else. */
            assert_true(ctr.live <= live + 2);
            assert_memory_equal(nn_model_params(m, NULL), snapshot,
                                count * sizeof *snapshot);
        }
    }
    assert_true(k > 2);
    /* The model that saw the failures trained exactly like its twin. */
    {
        double loss;
        assert_int_equal(
            nn_model_train_batch_labels(twin, 6, x, 5, labels, &loss), NN_OK);
        assert_memory_equal(nn_model_params(m, NULL),
                            nn_model_params(twin, NULL),
                            count * sizeof *snapshot);
    }

    assert_int_equal(nn_model_predict(twin, 6, x, 5, y_ref, 3), NN_OK);
    for (done = 0, k = 1; !done; k++) {
        nn_status st;
        long live = ctr.live;
        ctr.allocs = 0;
        ctr.fail_at = k;
        memset(y, 0, sizeof y);
        st = nn_model_predict(m, 6, x, 5, y, 3);
        ctr.fail_at = 0;
        if (st == NN_OK) {
            /* the scratch stays with the model for the next call */
            assert_int_equal(ctr.live, live + 1);
            done = 1;
        } else {
            assert_int_equal(ctr.live, live);
            assert_int_equal(st, NN_E_NOMEM);
        }
    }
    assert_true(k > 1);
    assert_memory_equal(y, y_ref, sizeof y);
    /* the next predictions of as many rows or fewer allocate nothing; a
     * larger batch replaces the block, and the model still holds one */
    {
        long live = ctr.live;
        ctr.allocs = 0;
        memset(y, 0, sizeof y);
        assert_int_equal(nn_model_predict(m, 6, x, 5, y, 3), NN_OK);
        assert_int_equal(nn_model_predict(m, 1, x, 5, y, 3), NN_OK);
        assert_int_equal(ctr.allocs, 0);
        assert_int_equal(nn_model_predict(m, 6, x, 5, y, 3), NN_OK);
        assert_memory_equal(y, y_ref, sizeof y);
        assert_int_equal(ctr.allocs, 0);
        assert_int_equal(ctr.live, live);
    }

    free(snapshot);
    nn_model_free(m);
    nn_model_free(twin);
    assert_int_equal(ctr.live, 0);
}

/* Runs call() with allocation 1, 2, ... failing until it succeeds; each
 * failure must be NN_E_NOMEM and leave no block behind beyond what the
 * model keeps (checked by the caller through `live` after the model is
 * freed). Returns how many failures were injected. */
typedef nn_status (*call_fn)(void *arg);

static long fail_each_allocation(call_fn call, void *arg, long keep)
{
    long k;
    for (k = 1;; k++) {
        nn_status st;
        long live = ctr.live;
        ctr.allocs = 0;
        ctr.fail_at = k;
        st = call(arg);
        ctr.fail_at = 0;
        if (st == NN_OK)
            return k - 1;
        assert_int_equal(st, NN_E_NOMEM);
        assert_true(strlen(nn_last_error()) > 0);
        assert_true(ctr.live <= live + keep);
    }
}

typedef struct fit_args {
    nn_model *m;
    nn_data *train, *val;
    double loss, acc;
} fit_args;

static nn_status call_fit(void *arg)
{
    fit_args *a = (fit_args *)arg;
    return nn_model_fit(a->m, a->train, a->val, NULL, NULL, NULL);
}

static nn_status call_evaluate(void *arg)
{
    fit_args *a = (fit_args *)arg;
    return nn_model_evaluate(a->m, a->val, &a->loss, &a->acc);
}

static void fit_and_evaluate_survive_every_failed_allocation(void **state)
{
    float x[40 * 5];
    int32_t labels[40];
    fit_args a;
    nn_model *twin = make_model(6);
    nn_data *d = NULL;
    size_t i, count;
    float *before;
    long failures;
    double loss_ref, acc_ref;
    (void)state;
    fill(x, sizeof x / sizeof x[0], 2.0f);
    for (i = 0; i < 40; i++)
        labels[i] = (int32_t)((i * 7) % 3);
    a.m = make_model(6);
    assert_int_equal(nn_data_create_labels(&a.train, 30, x, 5, labels),
                     NN_OK);
    assert_int_equal(nn_data_create_labels(&a.val, 10, x + 30 * 5, 5,
                                           labels + 30), NN_OK);
    assert_int_equal(nn_model_set_param(a.m, NN_PARAM_PATIENCE, 2), NN_OK);
    assert_int_equal(nn_model_set_param(twin, NN_PARAM_PATIENCE, 2), NN_OK);
    assert_int_equal(nn_model_set_optimizer(a.m, NN_OPT_ADAM), NN_OK);
    assert_int_equal(nn_model_set_optimizer(twin, NN_OPT_ADAM), NN_OK);
    (void)nn_model_params(a.m, &count);
    before = malloc(count * sizeof *before);
    assert_non_null(before);
    memcpy(before, nn_model_params(a.m, NULL), count * sizeof *before);

    /* fit allocates everything before its first step, so every failure
     * leaves the parameters untouched; the model may keep its grown
     * workspace and optimizer state (freed with it). */
    failures = fail_each_allocation(call_fit, &a, 4);
    assert_true(failures >= 3);
    {
        /* the model that saw the failures fits exactly like its twin */
        fit_args b = a;
        b.m = twin;
        assert_int_equal(call_fit(&b), NN_OK);
        assert_memory_equal(nn_model_params(a.m, NULL),
                            nn_model_params(twin, NULL),
                            count * sizeof *before);
    }
    assert_true(memcmp(before, nn_model_params(a.m, NULL),
                       count * sizeof *before) != 0);

    assert_int_equal(nn_model_evaluate(twin, a.val, &loss_ref, &acc_ref),
                     NN_OK);
    failures = fail_each_allocation(call_evaluate, &a, 0);
    assert_true(failures >= 1);
    assert_memory_equal(&a.loss, &loss_ref, sizeof loss_ref);
    assert_memory_equal(&a.acc, &acc_ref, sizeof acc_ref);

    /* a dataset is one allocation: its failure leaves *out NULL */
    ctr.fail_at = ctr.allocs + 1;
    d = (nn_data *)&ctr;
    assert_int_equal(nn_data_create_labels(&d, 10, x, 5, labels),
                     NN_E_NOMEM);
    ctr.fail_at = 0;
    assert_null(d);

    free(before);
    nn_data_free(a.train);
    nn_data_free(a.val);
    nn_model_free(a.m);
    nn_model_free(twin);
    assert_int_equal(ctr.live, 0);
}

/* The same for a byte dataset, shuffled and in order: its batch buffer
 * and evaluate's slice of floats are allocated before the first step. */
static void byte_fit_and_evaluate_survive_every_failed_allocation(
    void **state)
{
    uint8_t x[40 * 5 + 1];
    int32_t labels[40];
    fit_args a;
    nn_model *twin;
    size_t i, count;
    int shuffle;
    double loss_ref, acc_ref;
    (void)state;
    for (i = 0; i < sizeof x; i++)
        x[i] = (uint8_t)((i * 37 + 11) % 7);
    for (i = 0; i < 40; i++)
        labels[i] = (int32_t)((i * 7) % 3);
    for (shuffle = 0; shuffle <= 1; shuffle++) {
        a.m = make_model(6);
        twin = make_model(6);
        assert_int_equal(nn_data_create_labels_u8(&a.train, 30, x + 1, 5,
                                                  labels), NN_OK);
        assert_int_equal(nn_data_create_labels_u8(&a.val, 10, x + 151, 5,
                                                  labels + 30), NN_OK);
        assert_int_equal(nn_model_set_param(a.m, NN_PARAM_SHUFFLE, shuffle),
                         NN_OK);
        assert_int_equal(nn_model_set_param(twin, NN_PARAM_SHUFFLE, shuffle),
                         NN_OK);
        assert_true(fail_each_allocation(call_fit, &a, 4) >= 3);
        {
            fit_args b = a;
            b.m = twin;
            assert_int_equal(call_fit(&b), NN_OK);
            (void)nn_model_params(twin, &count);
            assert_memory_equal(nn_model_params(a.m, NULL),
                                nn_model_params(twin, NULL),
                                count * sizeof(float));
        }
        assert_int_equal(nn_model_evaluate(twin, a.val, &loss_ref, &acc_ref),
                         NN_OK);
        assert_true(fail_each_allocation(call_evaluate, &a, 0) >= 1);
        assert_memory_equal(&a.loss, &loss_ref, sizeof loss_ref);
        assert_memory_equal(&a.acc, &acc_ref, sizeof acc_ref);
        /* a byte dataset is one allocation too */
        {
            nn_data *d = (nn_data *)&a;
            ctr.fail_at = ctr.allocs + 1;
            assert_int_equal(nn_data_create_labels_u8(&d, 10, x, 5, labels),
                             NN_E_NOMEM);
            ctr.fail_at = 0;
            assert_null(d);
        }
        nn_data_free(a.train);
        nn_data_free(a.val);
        nn_model_free(a.m);
        nn_model_free(twin);
    }
    assert_int_equal(ctr.live, 0);
}

typedef struct grad_args {
    nn_model *m;
    const float *x, *t;
} grad_args;

static nn_status call_compute_grads(void *arg)
{
    grad_args *a = (grad_args *)arg;
    double loss;
    return nn_model_compute_grads(a->m, 4, a->x, 5, a->t, 3, &loss);
}

static nn_status call_apply_grads(void *arg)
{
    return nn_model_apply_grads(((grad_args *)arg)->m);
}

/* compute_grads grows the workspace, apply_grads the optimizer state: each
 * survives every failed allocation and then steps exactly like a twin. */
static void compute_and_apply_grads_survive_every_failed_allocation(
    void **state)
{
    float x[4 * 5], t[4 * 3];
    grad_args a;
    nn_model *twin = make_model(12);
    size_t count;
    double loss;
    (void)state;
    fill(x, 20, 1.0f);
    fill(t, 12, 0.5f);
    a.m = make_model(12);
    a.x = x;
    a.t = t;
    assert_int_equal(nn_model_set_loss(a.m, NN_LOSS_MSE), NN_OK);
    assert_int_equal(nn_model_set_loss(twin, NN_LOSS_MSE), NN_OK);
    assert_int_equal(nn_model_set_optimizer(a.m, NN_OPT_RMSPROP), NN_OK);
    assert_int_equal(nn_model_set_optimizer(twin, NN_OPT_RMSPROP), NN_OK);
    assert_true(fail_each_allocation(call_compute_grads, &a, 2) >= 1);
    assert_true(fail_each_allocation(call_apply_grads, &a, 2) >= 1);
    assert_int_equal(nn_model_train_batch(twin, 4, x, 5, t, 3, &loss), NN_OK);
    (void)nn_model_params(twin, &count);
    assert_memory_equal(nn_model_params(a.m, NULL), nn_model_params(twin, NULL),
                        count * sizeof(float));
    assert_int_equal(nn_model_step_count(a.m), 1);
    nn_model_free(a.m);
    nn_model_free(twin);
    assert_int_equal(ctr.live, 0);
}

/* Non-finite inputs or targets are not scanned for up front: they make the
 * loss or a gradient non-finite, and the step is rejected as a whole. */
static void nonfinite_inputs_or_targets_reject_the_step(void **state)
{
    float x[4 * 5], t[4 * 3];
    nn_model *m = make_model(8);
    size_t count;
    float *before;
    double loss;
    int which;
    (void)state;
    assert_int_equal(nn_model_set_loss(m, NN_LOSS_MSE), NN_OK);
    (void)nn_model_params(m, &count);
    before = malloc(count * sizeof *before);
    assert_non_null(before);
    for (which = 0; which < 4; which++) {
        fill(x, 20, 1.0f);
        fill(t, 12, 0.5f);
        switch (which) {
        case 0: x[7] = NAN; break;
        case 1: x[0] = INFINITY; break;
        case 2: t[5] = NAN; break;
        case 3: t[11] = -INFINITY; break;
        }
        memcpy(before, nn_model_params(m, NULL), count * sizeof *before);
        assert_int_equal(nn_model_train_batch(m, 4, x, 5, t, 3, &loss),
                         NN_E_NONFINITE);
        assert_memory_equal(before, nn_model_params(m, NULL),
                            count * sizeof *before);
        assert_non_null(strstr(nn_last_error(), "not finite") ?
                        strstr(nn_last_error(), "not finite") :
                        strstr(nn_last_error(), "loss is"));
    }
    fill(t, 12, 0.5f);
    fill(x, 20, 1.0f);
    assert_int_equal(nn_model_train_batch(m, 4, x, 5, t, 3, &loss), NN_OK);
    free(before);
    nn_model_free(m);
}

/* ---- every layer kind ---- */

/* Builds the model of every kind, step by step, each step a call that can
 * fail: returns the status of the first that fails. */
static nn_status build_every_kind(nn_model **out)
{
    const float sc[5] = {1, 2, 3, 4, 5}, sh[5] = {0, 1, 0, 1, 0};
    const float cw[3] = {1.0f, 2.0f, 0.5f};
    nn_model *m = NULL;
    nn_status st = nn_model_create(&m, 5, 8);
    *out = m;
    if (st != NN_OK)
        return st;
#define TRY(call) do { st = (call); if (st != NN_OK) return st; } while (0)
    TRY(nn_model_add_scaling(m, sc, sh, 5));
    TRY(nn_model_add_dense(m, 9, NN_ACT_GELU));
    TRY(nn_model_add_batchnorm(m));
    TRY(nn_model_add_dropout(m, 0.25));
    TRY(nn_model_add_layernorm(m));
    TRY(nn_model_add_activation(m, NN_ACT_ELU));
    TRY(nn_model_add_dense(m, 3, NN_ACT_SOFTMAX));
    TRY(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY));
    TRY(nn_model_set_class_weights(m, cw, 3));
    TRY(nn_model_set_meta(m, "classes", "a\nb\nc"));
    TRY(nn_model_set_meta(m, "classes", "x\ny\nz"));
    TRY(nn_model_set_meta(m, "source", "test_alloc"));
    TRY(nn_model_set_optimizer(m, NN_OPT_RMSPROP));
    TRY(nn_model_set_param(m, NN_PARAM_CENTERED, 1));
    TRY(nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.5));
#undef TRY
    return NN_OK;
}

static unsigned char *checkpoint_bytes(const nn_model *m, size_t *size)
{
    unsigned char *b;
    assert_int_equal(nn_model_save_size(m, NN_SAVE_CHECKPOINT, size), NN_OK);
    b = malloc(*size);
    assert_non_null(b);
    assert_int_equal(nn_model_save_buffer(m, NN_SAVE_CHECKPOINT, b, *size,
                                          NULL), NN_OK);
    return b;
}

static int interrupt_at_third(void *user, size_t epoch, size_t batch,
                              size_t batches, double loss)
{
    (void)epoch;
    (void)batch;
    (void)batches;
    (void)loss;
    return ++*(int *)user == 3 ? -1 : 0;
}

/* Building a model of every kind, training it (workspace with each kind's
 * blocks, three optimizer state arrays), predicting, fitting, resuming an
 * interrupted fit, saving and loading: each with every allocation failed in
 * turn. A failure is NN_E_NOMEM; a model that saw it is unchanged (its
 * checkpoint byte for byte) and goes on exactly like a twin that saw
 * none. */
static void every_layer_kind_survives_every_failed_allocation(void **state)
{
    float x[12 * 5], y[12 * 3], y_ref[12 * 3];
    int32_t labels[12];
    nn_model *m = NULL, *twin = NULL;
    nn_data *d = NULL;
    long k;
    int done, calls;
    size_t i, n0, n1;
    unsigned char *before, *after;
    (void)state;
    fill(x, 60, 1.5f);
    for (i = 0; i < 12; i++)
        labels[i] = (int32_t)(i % 3);
    for (done = 0, k = 1; !done; k++) {
        nn_status st;
        ctr.allocs = 0;
        ctr.fail_at = k;
        st = build_every_kind(&m);
        ctr.fail_at = 0;
        if (st == NN_OK)
            done = 1;
        else
            assert_int_equal(st, NN_E_NOMEM);
        nn_model_free(m);
        assert_int_equal(ctr.live, 0);
    }
    assert_true(k > 12);
    assert_int_equal(build_every_kind(&m), NN_OK);
    assert_int_equal(build_every_kind(&twin), NN_OK);
    /* a step, a prediction */
    for (done = 0, k = 1; !done; k++) {
        nn_status st;
        before = checkpoint_bytes(m, &n0);
        ctr.allocs = 0;
        ctr.fail_at = k;
        st = nn_model_train_batch_labels(m, 12, x, 5, labels, NULL);
        ctr.fail_at = 0;
        if (st == NN_OK) {
            done = 1;
        } else {
            assert_int_equal(st, NN_E_NOMEM);
            after = checkpoint_bytes(m, &n1);
            assert_int_equal(n0, n1);
            assert_memory_equal(before, after, n0);
            free(after);
        }
        free(before);
    }
    assert_true(k > 3); /* the workspace and the three state arrays */
    assert_int_equal(nn_model_train_batch_labels(twin, 12, x, 5, labels,
                                                 NULL), NN_OK);
    assert_int_equal(nn_model_predict(twin, 12, x, 5, y_ref, 3), NN_OK);
    for (done = 0, k = 1; !done; k++) {
        nn_status st;
        ctr.allocs = 0;
        ctr.fail_at = k;
        st = nn_model_predict(m, 12, x, 5, y, 3);
        ctr.fail_at = 0;
        if (st == NN_OK)
            done = 1;
        else
            assert_int_equal(st, NN_E_NOMEM);
    }
    assert_memory_equal(y, y_ref, sizeof y);
    /* fit, interrupted at its third step, then resumed */
    assert_int_equal(nn_data_create_labels(&d, 12, x, 5, labels), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_BATCH_SIZE, 4), NN_OK);
    assert_int_equal(nn_model_set_param(twin, NN_PARAM_BATCH_SIZE, 4), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_EPOCHS, 2), NN_OK);
    assert_int_equal(nn_model_set_param(twin, NN_PARAM_EPOCHS, 2), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_PATIENCE, 1), NN_OK);
    assert_int_equal(nn_model_set_param(twin, NN_PARAM_PATIENCE, 1), NN_OK);
    for (i = 0; i < 2; i++) {
        nn_model *mm = i ? twin : m;
        for (done = 0, k = 1; !done; k++) {
            nn_status st;
            before = checkpoint_bytes(mm, &n0);
            calls = 0;
            ctr.allocs = 0;
            ctr.fail_at = i ? 0 : k;
            st = nn_model_fit(mm, d, d, NULL, interrupt_at_third, &calls);
            ctr.fail_at = 0;
            if (st == NN_OK) {
                done = 1;
            } else {
                assert_int_equal(st, NN_E_NOMEM);
                after = checkpoint_bytes(mm, &n1);
                assert_int_equal(n0, n1);
                assert_memory_equal(before, after, n0);
                free(after);
            }
            free(before);
        }
        assert_int_equal(calls, 3);
    }
    for (i = 0; i < 2; i++) {
        nn_model *mm = i ? twin : m;
        for (done = 0, k = 1; !done; k++) {
            nn_status st;
            ctr.allocs = 0;
            ctr.fail_at = i ? 0 : k;
            st = nn_model_fit_resume(mm, d, d, NULL, NULL, NULL);
            ctr.fail_at = 0;
            if (st == NN_OK)
                done = 1;
            else
                assert_int_equal(st, NN_E_NOMEM);
        }
    }
    before = checkpoint_bytes(m, &n0);
    after = checkpoint_bytes(twin, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(after);
    /* load */
    for (done = 0, k = 1; !done; k++) {
        nn_model *back = NULL;
        nn_status st;
        long live = ctr.live;
        ctr.allocs = 0;
        ctr.fail_at = k;
        st = nn_model_load_buffer(&back, before, n0);
        ctr.fail_at = 0;
        if (st == NN_OK) {
            done = 1;
            after = checkpoint_bytes(back, &n1);
            assert_memory_equal(before, after, n0);
            free(after);
            nn_model_free(back);
        } else {
            assert_int_equal(st, NN_E_NOMEM);
            assert_null(back);
            assert_int_equal(ctr.live, live);
        }
    }
    assert_true(k > 6);
    free(before);
    nn_data_free(d);
    nn_model_free(m);
    nn_model_free(twin);
    assert_int_equal(ctr.live, 0);
}

/* Sizes a caller can claim but no array can have: each call answers with
 * its documented status before any allocation sized by them, and without
 * reading the caller's arrays (the ones passed are a few floats). */
static void counts_near_the_limits_are_refused_before_any_allocation(
    void **state)
{
    static float x[16], t[16];
    const size_t huge = ((size_t)1 << 61) + 1; /* x 4 bytes fits, x 8 not */
    nn_model *m = NULL;
    nn_data *d = NULL;
    float y[16];
    (void)state;
    assert_int_equal(nn_model_create(&m, 1, 1), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 1, NN_ACT_IDENTITY), NN_OK);
    assert_int_equal(nn_model_set_loss(m, NN_LOSS_MSE), NN_OK);
    /* a dataset of 2^61 + 1 rows: its arrays' byte counts fit in size_t */
    assert_int_equal(nn_data_create(&d, huge, x, 1, t, 1), NN_OK);
    /* fit's row permutation would take 8 bytes a row: it does not fit */
    ctr.allocs = 0;
    ctr.largest = 0;
    assert_int_equal(nn_model_fit(m, d, NULL, NULL, NULL, NULL),
                     NN_E_OVERFLOW);
    assert_true(ctr.largest < 4096);
    assert_int_equal(nn_model_step_count(m), 0);
    /* without shuffling fit needs no permutation, but says the same */
    assert_int_equal(nn_model_set_param(m, NN_PARAM_SHUFFLE, 0), NN_OK);
    assert_int_equal(nn_model_fit(m, d, NULL, NULL, NULL, NULL),
                     NN_E_OVERFLOW);
    nn_data_free(d);
    /* a step of more rows than BLAS takes */
    ctr.allocs = 0;
    assert_int_equal(nn_model_train_batch(m, (size_t)1 << 31, x, 1, t, 1,
                                          NULL), NN_E_OVERFLOW);
    assert_int_equal(ctr.allocs, 0);
    /* rows whose bytes overflow */
    assert_int_equal(nn_model_predict(m, SIZE_MAX / 2, x, 1, y, 1),
                     NN_E_OVERFLOW);
    assert_int_equal(nn_data_create(&d, SIZE_MAX / 2, x, 1, t, 1),
                     NN_E_OVERFLOW);
    assert_int_equal(ctr.allocs, 0);
    nn_model_free(m);
    /* the widest layer on the widest input: 2^62 - 2^31 parameters, whose
     * bytes just fit in 64 bits. The request is the true size (not a
     * wrapped one), and its failure leaves no layer */
    assert_int_equal(nn_model_create(&m, 2147483647u, 1), NN_OK);
    ctr.largest = 0;
    assert_int_equal(nn_model_add_dense(m, 2147483647u, NN_ACT_RELU),
                     NN_E_NOMEM);
    assert_true(ctr.largest >= ((size_t)1 << 63));
    assert_int_equal(nn_model_layer_count(m), 0);
    nn_model_free(m);
    assert_int_equal(ctr.live, 0);
}

/* Building and loading are linear in the model's size: L layers added one
 * by one allocate O(log L) blocks and a bounded multiple of the final
 * parameters' bytes in all (the buffers grow geometrically), and a file of
 * L layers loads with a fixed number of allocations, whatever L. A file
 * whose settings are bad is refused before any of its layers is built. */
static void building_and_loading_many_layers_is_linear(void **state)
{
    enum { L = 40000 };
    nn_model *m = NULL, *back = NULL;
    size_t n = 0, size = 0, final_bytes, l;
    unsigned char *f;
    long allocs;
    (void)state;
    assert_int_equal(nn_model_create(&m, 1, 3), NN_OK);
    ctr.allocs = 0;
    ctr.total = 0;
    for (l = 0; l < L; l++)
        assert_int_equal(nn_model_add_dense(m, 1, NN_ACT_TANH), NN_OK);
    (void)nn_model_params(m, &n);
    assert_int_equal(n, 2 * L);
    final_bytes = 2 * n * sizeof(float);
    /* Reallocating at every add would request the parameters and
     * gradients so far each time: about 8 L^2 bytes, 12.8 GB here. Growing
     * them and the layer records geometrically requests a few times their
     * final size: a bound per layer, whatever L. */
    print_message("  %d adds: %ld allocations, %zu bytes in all (%zu per "
                  "layer; final parameters and gradients %zu)\n", L,
                  ctr.allocs, ctr.total, ctr.total / L, final_bytes);
    assert_true(ctr.allocs <= 3 * 40); /* log_1.5(40000) is 26 */
    assert_true(ctr.total <= (size_t)L * 1024);
    assert_int_equal(nn_model_set_loss(m, NN_LOSS_MSE), NN_OK);
    assert_int_equal(nn_model_save_size(m, NN_SAVE_MODEL, &size), NN_OK);
    f = malloc(size);
    assert_non_null(f);
    assert_int_equal(nn_model_save_buffer(m, NN_SAVE_MODEL, f, size, NULL),
                     NN_OK);
    ctr.allocs = 0;
    assert_int_equal(nn_model_load_buffer(&back, f, size), NN_OK);
    allocs = ctr.allocs;
    print_message("  a file of %d layers (%zu bytes) loads with %ld "
                  "allocations\n", L, size, allocs);
    assert_true(allocs <= 5); /* model, layers, parameters, gradients */
    assert_int_equal(nn_model_layer_count(back), L);
    nn_model_free(back);
    /* a NaN learning rate, in the settings before the layers */
    {
        double nan = NAN;
        uint64_t u;
        size_t i;
        uint32_t crc = 0xFFFFFFFFu;
        memcpy(&u, &nan, sizeof u);
        for (i = 0; i < 8; i++)
            f[56 + i] = (unsigned char)(u >> (8 * i));
        for (i = 0; i < size - 4; i++) {
            int k;
            crc ^= f[i];
            for (k = 0; k < 8; k++)
                crc = (crc & 1u) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        crc = ~crc;
        for (i = 0; i < 4; i++)
            f[size - 4 + i] = (unsigned char)(crc >> (8 * i));
        ctr.allocs = 0;
        assert_int_equal(nn_model_load_buffer(&back, f, size), NN_E_FORMAT);
        assert_int_equal(ctr.allocs, 0);
        assert_non_null(strstr(nn_last_error(), "byte 56: setting 1"));
    }
    free(f);
    nn_model_free(m);
    assert_int_equal(ctr.live, 0);
}

static void allocator_needs_both_functions(void **state)
{
    (void)state;
    assert_int_equal(nn_set_allocator(count_malloc, NULL, NULL), NN_E_NULL);
    assert_int_equal(nn_set_allocator(NULL, count_free, NULL), NN_E_NULL);
    /* the counting allocator is still in place */
    {
        long before = ctr.allocs;
        nn_model *m = make_model(4);
        assert_true(ctr.allocs > before);
        nn_model_free(m);
    }
}

/* An allocator whose blocks start off bytes past a 64-byte boundary, as
 * malloc's large blocks start 16 bytes past a page. The pointer malloc
 * gave is kept in the 8 bytes before the block. */
typedef struct offset_alloc {
    size_t off;
    long live;
} offset_alloc;

static void *offset_malloc(void *ctx, size_t size)
{
    offset_alloc *a = (offset_alloc *)ctx;
    unsigned char *raw = (unsigned char *)malloc(size + 128), *p;
    if (!raw)
        return NULL;
    p = raw + (64 - (uintptr_t)raw % 64) + a->off;
    memcpy(p - sizeof raw, &raw, sizeof raw);
    a->live++;
    return p;
}

static void offset_free(void *ctx, void *ptr)
{
    offset_alloc *a = (offset_alloc *)ctx;
    unsigned char *raw;
    memcpy(&raw, (unsigned char *)ptr - sizeof raw, sizeof raw);
    free(raw);
    a->live--;
}

/* Whether p starts on a 64-byte boundary. */
static int on_line(const void *p)
{
    return (uintptr_t)p % 64 == 0;
}

/* Four Adam steps of make_model's net on 10 rows, then a prediction:
 * the parameters and the prediction into params and y. Checks that the
 * parameters, gradients, the training workspace's blocks and the packed
 * copy of the weights (where the kernel made one) start on a 64-byte
 * boundary. */
static void train_on_lines(float *params, size_t count, float *y)
{
    float x[10 * 5];
    int32_t labels[10] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0};
    double loss;
    size_t n;
    int s;
    nn_model *m = make_model(6);
    const nn__pack *pack;
    float *p, *g;
    size_t l;
    fill(x, 50, 1.0f);
    assert_int_equal(nn_model_set_optimizer(m, NN_OPT_ADAM), NN_OK);
    for (s = 0; s < 4; s++)
        assert_int_equal(
            nn_model_train_batch_labels(m, 10, x, 5, labels, &loss), NN_OK);
    assert_int_equal(nn_model_predict(m, 10, x, 5, y, 3), NN_OK);
    p = nn_model_params(m, &n);
    g = nn_model_grads(m, NULL);
    assert_int_equal(n, count);
    assert_true(on_line(p));
    assert_true(on_line(g));
    for (l = 0; l < m->n_layers; l++) {
        assert_true(on_line(m->act[l]));
        assert_true(on_line(m->delta[l]));
        assert_true(m->extra[l] == NULL || on_line(m->extra[l]));
    }
    assert_true(m->kbuf == NULL || on_line(m->kbuf));
    pack = (const nn__pack *)m->infer_pack;
    if (pack)
        for (l = 0; l < pack->n_layers; l++)
            assert_true(pack->w[l] == NULL || on_line(pack->w[l]));
    memcpy(params, p, count * sizeof *p);
    nn_model_free(m);
}

/* libnn puts the arrays its products and passes stream through on cache
 * lines whatever the allocator's blocks are aligned to (a block 16 bytes
 * past one made every 64-byte load and store of the weights straddle two
 * lines), and training gives the same bits either way. */
static void parameters_start_on_a_cache_line_with_any_allocator(
    void **state)
{
    static const size_t offs[] = {0, 16, 32, 48};
    /* 5-8-6-3: 48 + 54 + 21 parameters */
    enum { COUNT = 5 * 8 + 8 + 8 * 6 + 6 + 6 * 3 + 3 };
    float ref[COUNT], got[COUNT], yref[30], y[30];
    size_t i;
    (void)state;
    assert_int_equal(nn_set_allocator(NULL, NULL, NULL), NN_OK);
    train_on_lines(ref, COUNT, yref);
    for (i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        offset_alloc a = {offs[i], 0};
        assert_int_equal(nn_set_allocator(offset_malloc, offset_free, &a),
                         NN_OK);
        train_on_lines(got, COUNT, y);
        assert_int_equal(nn_set_allocator(NULL, NULL, NULL), NN_OK);
        assert_int_equal(a.live, 0);
        assert_memory_equal(got, ref, sizeof ref);
        assert_memory_equal(y, yref, sizeof yref);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            training_step_allocates_nothing_once_the_batch_size_is_seen,
            install, uninstall),
        cmocka_unit_test_setup_teardown(every_block_is_freed, install,
                                        uninstall),
        cmocka_unit_test_setup_teardown(
            create_and_add_layers_survive_every_failed_allocation, install,
            uninstall),
        cmocka_unit_test_setup_teardown(
            train_and_predict_survive_every_failed_allocation, install,
            uninstall),
        cmocka_unit_test_setup_teardown(
            fit_and_evaluate_survive_every_failed_allocation, install,
            uninstall),
        cmocka_unit_test_setup_teardown(
            byte_fit_and_evaluate_survive_every_failed_allocation, install,
            uninstall),
        cmocka_unit_test_setup_teardown(
            compute_and_apply_grads_survive_every_failed_allocation, install,
            uninstall),
        cmocka_unit_test_setup_teardown(
            nonfinite_inputs_or_targets_reject_the_step, install, uninstall),
        cmocka_unit_test_setup_teardown(
            every_layer_kind_survives_every_failed_allocation, install,
            uninstall),
        cmocka_unit_test_setup_teardown(
            counts_near_the_limits_are_refused_before_any_allocation, install,
            uninstall),
        cmocka_unit_test_setup_teardown(
            building_and_loading_many_layers_is_linear, install, uninstall),
        cmocka_unit_test_setup_teardown(allocator_needs_both_functions,
                                        install, uninstall),
        cmocka_unit_test_setup_teardown(
            parameters_start_on_a_cache_line_with_any_allocator, NULL,
            uninstall),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
