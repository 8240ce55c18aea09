/* SPDX-License-Identifier: MIT */
/*
 * test_errors.c - every documented way a call of the public API can fail.
 *
 * For each failing call the test checks
 *   - the status nn.h documents;
 *   - that nn_last_error() is a fresh, non-empty sentence naming the function
 *     (the message is poisoned with another function's message before every
 *     call, so a stale message cannot pass) and, where numbers are involved,
 *     the argument and its numbers ("x_width is 3", "input width is 4");
 *   - that nothing observable changed: the model's shape, every setting,
 *     leaky slopes, step count, current learning rate, and the flat
 *     parameter and gradient buffers (compared bitwise with a snapshot
 *     taken before), the caller's output buffers and *loss;
 *   - that the model still works afterwards: a training step and a short
 *     shuffled nn_model_fit succeed, and they and nn_model_predict give
 *     bit-identical results to a twin model built with the same seed that
 *     made only the successful calls.
 * The fixtures train with Adam and an exponential schedule, so a failed
 * call that reset the optimizer state or step count would show.
 *
 * Tests that fail mark a disagreement between nn.h and the library; the
 * test's comment quotes what nn.h promises.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "nn_test.h"

#define SEED 20240611u
#define BATCH 3         /* rows of the batches used to train and predict */
#define MAX_LAYERS 4
#define MAX_SUBS 5      /* substrings checked in one message */
#define BUF 128         /* floats in the caller-side buffers */
#define SENTINEL 12345.0f

/* ======================================================================
 * Messages
 * ====================================================================== */

/* Leaves a message in nn_last_error() that names neither fn nor anything
 * else under test, so that a failing call which forgets to set its own
 * message is caught. */
static void poison_last_error(const char *fn)
{
    nn_status st;
    const char *poison_fn;
    if (fn && strcmp(fn, "nn_layer_param_bounds") == 0) {
        st = nn_param_bounds((nn_param)0, NULL, NULL, NULL);
        poison_fn = "nn_param_bounds";
    } else {
        st = nn_layer_param_bounds((nn_layer_param)0, NULL, NULL, NULL);
        poison_fn = "nn_layer_param_bounds";
    }
    assert_int_equal(st, NN_E_INVALID);
    assert_non_null(strstr(nn_last_error(), poison_fn));
}

/* subs[0] is the function's name; NULL entries are skipped. */
static void check_failure(nn_status got, nn_status want,
                          const char *const *subs, size_t n_subs,
                          const char *what, const char *file, int line)
{
    const char *msg = nn_last_error();
    size_t i;

    if (got != want) {
        print_error("%s:%d: %s%sstatus %d (%s), expected %d (%s); "
                    "message \"%s\"\n", file, line, what ? what : "",
                    what ? ": " : "", (int)got, nn_status_string(got),
                    (int)want, nn_status_string(want), msg ? msg : "(null)");
        _fail(file, line);
    }
    if (!msg || !*msg) {
        print_error("%s:%d: %s%snn_last_error() is empty after a failure\n",
                    file, line, what ? what : "", what ? ": " : "");
        _fail(file, line);
    }
    for (i = 0; i < n_subs; i++)
        if (subs[i] && !strstr(msg, subs[i])) {
            print_error("%s:%d: %s%smessage \"%s\" does not contain "
                        "\"%s\"\n", file, line, what ? what : "",
                        what ? ": " : "", msg, subs[i]);
            _fail(file, line);
        }
}

/* EXPECT_FAIL(status, call, "function", "substring", ...): poisons the
 * message, makes the call and checks status and message. */
#define EXPECT_FAIL(want, call, ...)                                       \
    do {                                                                   \
        const char *const subs_[MAX_SUBS] = {__VA_ARGS__};                 \
        nn_status st_;                                                     \
        poison_last_error(subs_[0]);                                       \
        st_ = (call);                                                      \
        check_failure(st_, (want), subs_, MAX_SUBS, NULL, __FILE__,        \
                      __LINE__);                                           \
    } while (0)

/* ======================================================================
 * Models, snapshots and twins
 * ====================================================================== */

typedef struct spec {
    size_t input;
    size_t n_layers;
    size_t width[MAX_LAYERS];
    nn_activation act[MAX_LAYERS];
    int loss; /* 0: no loss set */
} spec;

/* 4 -> 5 tanh -> 3 softmax, cross-entropy: the model most tests break. */
static const spec BASE = {4, 2, {5, 3}, {NN_ACT_TANH, NN_ACT_SOFTMAX},
                          NN_LOSS_CROSS_ENTROPY};
static const spec NO_LOSS = {4, 2, {5, 3}, {NN_ACT_TANH, NN_ACT_SIGMOID}, 0};
static const spec EMPTY = {4, 0, {0}, {NN_ACT_IDENTITY},
                           NN_LOSS_CROSS_ENTROPY};

/* nn.h: MSE fits any output; BCE sigmoid or identity; cross-entropy
 * softmax or identity. */
static int doc_loss_fits(int loss, int act)
{
    switch (loss) {
    case NN_LOSS_MSE: return 1;
    case NN_LOSS_BCE: return act == NN_ACT_SIGMOID || act == NN_ACT_IDENTITY;
    case NN_LOSS_CROSS_ENTROPY:
        return act == NN_ACT_SOFTMAX || act == NN_ACT_IDENTITY;
    }
    return 0;
}

#define N_PARAMS NN_PARAM_LABEL_SMOOTHING /* keys 1..N_PARAMS */

typedef struct snapshot {
    size_t input, layers, output;
    size_t width[MAX_LAYERS];
    double param[N_PARAMS + 1];
    double slope[MAX_LAYERS];
    uint64_t steps;
    double current_lr;
    size_t n_params, n_grads;
    float *params, *grads;
} snapshot;

typedef struct fixture {
    nn_model *m;    /* receives the failing calls */
    nn_model *twin; /* receives only the successful ones */
    int loss;
    int out_act;    /* 0 while there are no layers */
    snapshot snap;  /* m before the failing calls */
} fixture;

static float *copy_floats(const float *src, size_t n)
{
    float *p;
    if (n == 0)
        return NULL;
    assert_non_null(src);
    p = (float *)malloc(n * sizeof *p);
    assert_non_null(p);
    memcpy(p, src, n * sizeof *p);
    return p;
}

static void take_snapshot(nn_model *m, snapshot *s)
{
    const float *p;
    size_t l;
    int k;
    memset(s, 0, sizeof *s);
    s->input = nn_model_input_width(m);
    s->layers = nn_model_layer_count(m);
    s->output = nn_model_output_width(m);
    assert_true(s->layers <= MAX_LAYERS);
    for (l = 0; l < s->layers; l++) {
        s->width[l] = nn_model_layer_width(m, l);
        assert_int_equal(nn_model_get_layer_param(m, l, NN_LAYER_LEAKY_SLOPE,
                                                  &s->slope[l]),
                         NN_OK);
    }
    for (k = 1; k <= N_PARAMS; k++)
        assert_int_equal(nn_model_get_param(m, (nn_param)k, &s->param[k]),
                         NN_OK);
    s->steps = nn_model_step_count(m);
    assert_int_equal(nn_model_current_lr(m, &s->current_lr), NN_OK);
    p = nn_model_params(m, &s->n_params);
    s->params = copy_floats(p, s->n_params);
    p = nn_model_grads(m, &s->n_grads);
    s->grads = copy_floats(p, s->n_grads);
}

static void free_snapshot(snapshot *s)
{
    free(s->params);
    free(s->grads);
    s->params = s->grads = NULL;
}

/* Bitwise equality of everything a caller can observe of a model. */
static void compare_snapshots(const snapshot *a, const snapshot *b,
                              int with_grads, const char *what,
                              const char *file, int line)
{
    const char *diff = NULL;
    if (a->input != b->input)
        diff = "input widths";
    else if (a->layers != b->layers)
        diff = "layer counts";
    else if (a->output != b->output)
        diff = "output widths";
    else if (memcmp(a->width, b->width, sizeof a->width) != 0)
        diff = "layer widths";
    else if (memcmp(a->param, b->param, sizeof a->param) != 0)
        diff = "settings (nn_model_get_param)";
    else if (memcmp(a->slope, b->slope, sizeof a->slope) != 0)
        diff = "leaky slopes";
    else if (a->steps != b->steps)
        diff = "step counts";
    else if (memcmp(&a->current_lr, &b->current_lr, sizeof a->current_lr))
        diff = "current learning rates";
    else if (a->n_params != b->n_params ||
             (a->n_params &&
              memcmp(a->params, b->params, a->n_params * sizeof(float))))
        diff = "weights and biases";
    else if (with_grads &&
             (a->n_grads != b->n_grads ||
              (a->n_grads &&
               memcmp(a->grads, b->grads, a->n_grads * sizeof(float)))))
        diff = "gradient buffers";
    if (diff) {
        print_error("%s:%d: %s: the %s differ\n", file, line, what,
                    diff);
        _fail(file, line);
    }
}

static void assert_unchanged_at(fixture *f, int with_grads, const char *file,
                                int line)
{
    snapshot now;
    take_snapshot(f->m, &now);
    compare_snapshots(&f->snap, &now, with_grads,
                      "the model after a failed call", file, line);
    free_snapshot(&now);
}

/* The model is bitwise as before the failing calls. */
#define ASSERT_UNCHANGED(f) assert_unchanged_at((f), 1, __FILE__, __LINE__)
/* Weights, biases and settings as before; the gradient buffer may differ. */
#define ASSERT_PARAMS_UNCHANGED(f) \
    assert_unchanged_at((f), 0, __FILE__, __LINE__)

/* A batch for a model: BATCH rows of x, one-hot targets (valid for every
 * loss) and the matching labels. */
static void make_batch(size_t in, size_t out, float *x, float *t,
                       int32_t *labels)
{
    size_t i, j;
    assert_true(BATCH * in <= BUF && BATCH * out <= BUF);
    for (i = 0; i < BATCH * in; i++)
        x[i] = 0.1f * (float)((i * 7) % 11) - 0.5f;
    for (i = 0; i < BATCH; i++) {
        for (j = 0; j < out; j++)
            t[i * out + j] = j == i % out ? 1.0f : 0.0f;
        if (labels)
            labels[i] = (int32_t)(i % out);
    }
}

/* One training step on m and twin; both must succeed identically. */
static void train_both(fixture *f)
{
    float x[BUF], t[BUF];
    double la = -1.0, lb = -2.0;
    size_t in = nn_model_input_width(f->m), out = nn_model_output_width(f->m);
    make_batch(in, out, x, t, NULL);
    assert_int_equal(nn_model_train_batch(f->m, BATCH, x, in, t, out, &la),
                     NN_OK);
    assert_int_equal(nn_model_train_batch(f->twin, BATCH, x, in, t, out, &lb),
                     NN_OK);
    assert_memory_equal(&la, &lb, sizeof la);
}

static void fixture_init(fixture *f, const spec *s)
{
    size_t l;
    nn_model **pm[2];
    int k;
    memset(f, 0, sizeof *f);
    pm[0] = &f->m;
    pm[1] = &f->twin;
    for (k = 0; k < 2; k++) {
        assert_int_equal(nn_model_create(pm[k], s->input, SEED), NN_OK);
        assert_non_null(*pm[k]);
        for (l = 0; l < s->n_layers; l++)
            assert_int_equal(nn_model_add_dense(*pm[k], s->width[l],
                                                s->act[l]),
                             NN_OK);
        if (s->loss)
            assert_int_equal(nn_model_set_loss(*pm[k], (nn_loss)s->loss),
                             NN_OK);
        /* Optimizer state and a schedule that depends on the step count,
         * so that a failed call which reset either would show. */
        assert_int_equal(nn_model_set_optimizer(*pm[k], NN_OPT_ADAM), NN_OK);
        assert_int_equal(nn_model_set_schedule(*pm[k], NN_SCHED_EXPONENTIAL),
                         NN_OK);
        assert_int_equal(nn_model_set_param(*pm[k], NN_PARAM_SCHED_GAMMA,
                                            0.9),
                         NN_OK);
    }
    f->loss = s->loss;
    f->out_act = s->n_layers ? (int)s->act[s->n_layers - 1] : 0;
    /* Non-trivial parameters, gradients and optimizer state, so that a
     * failed call that touched them would show. */
    if (f->out_act && doc_loss_fits(f->loss, f->out_act)) {
        train_both(f);
        train_both(f);
    }
    take_snapshot(f->m, &f->snap);
}

/* Successful calls are made on both models. */
static void fixture_add_dense(fixture *f, size_t width, nn_activation act)
{
    assert_int_equal(nn_model_add_dense(f->m, width, act), NN_OK);
    assert_int_equal(nn_model_add_dense(f->twin, width, act), NN_OK);
    f->out_act = (int)act;
    free_snapshot(&f->snap);
    take_snapshot(f->m, &f->snap);
}

static void fixture_set_param(fixture *f, nn_param key, double value)
{
    assert_int_equal(nn_model_set_param(f->m, key, value), NN_OK);
    assert_int_equal(nn_model_set_param(f->twin, key, value), NN_OK);
    free_snapshot(&f->snap);
    take_snapshot(f->m, &f->snap);
}

static void fixture_set_lr(fixture *f, double lr)
{
    fixture_set_param(f, NN_PARAM_LEARNING_RATE, lr);
}

/* nn_model_fit on both, one row per step in shuffled order: shows a
 * generator that a failed call advanced. */
static void fit_both(fixture *f)
{
    float x[BUF], t[BUF];
    nn_data *d = NULL;
    size_t in = nn_model_input_width(f->m), out = nn_model_output_width(f->m);
    nn_model *both[2];
    int k;
    both[0] = f->m;
    both[1] = f->twin;
    make_batch(in, out, x, t, NULL);
    assert_int_equal(nn_data_create(&d, BATCH, x, in, t, out), NN_OK);
    for (k = 0; k < 2; k++) {
        assert_int_equal(nn_model_set_param(both[k], NN_PARAM_BATCH_SIZE, 1),
                         NN_OK);
        assert_int_equal(nn_model_set_param(both[k], NN_PARAM_EPOCHS, 2),
                         NN_OK);
        assert_int_equal(nn_model_fit(both[k], d, NULL, NULL, NULL, NULL),
                         NN_OK);
    }
    nn_data_free(d);
}

/* After the failing calls: m still trains (step and fit) and predicts,
 * exactly like the twin that never saw them. */
static void assert_still_works_at(fixture *f, const char *file, int line)
{
    float x[BUF], t[BUF], ya[BUF], yb[BUF];
    size_t in, out;
    snapshot a, b;

    if (nn_model_layer_count(f->m) == 0) {
        /* identity fits every loss */
        assert_int_equal(nn_model_add_dense(f->m, 3, NN_ACT_IDENTITY), NN_OK);
        assert_int_equal(nn_model_add_dense(f->twin, 3, NN_ACT_IDENTITY),
                         NN_OK);
        f->out_act = NN_ACT_IDENTITY;
    }
    if (f->loss && doc_loss_fits(f->loss, f->out_act)) {
        train_both(f);
        fit_both(f);
    }
    in = nn_model_input_width(f->m);
    out = nn_model_output_width(f->m);
    make_batch(in, out, x, t, NULL);
    assert_int_equal(nn_model_predict(f->m, BATCH, x, in, ya, out), NN_OK);
    assert_int_equal(nn_model_predict(f->twin, BATCH, x, in, yb, out), NN_OK);
    if (memcmp(ya, yb, BATCH * out * sizeof(float)) != 0) {
        print_error("%s:%d: predictions differ from the twin's\n", file,
                    line);
        _fail(file, line);
    }
    take_snapshot(f->m, &a);
    take_snapshot(f->twin, &b);
    compare_snapshots(&a, &b, 1, "the model and its untouched twin", file,
                      line);
    free_snapshot(&a);
    free_snapshot(&b);
}

#define ASSERT_STILL_WORKS(f) assert_still_works_at((f), __FILE__, __LINE__)

static void fixture_fini(fixture *f)
{
    nn_model_free(f->m);
    nn_model_free(f->twin);
    free_snapshot(&f->snap);
    f->m = f->twin = NULL;
}

static void fill(float *p, size_t n, float v)
{
    size_t i;
    for (i = 0; i < n; i++)
        p[i] = v;
}

static void assert_all_equal(const float *p, size_t n, float v,
                             const char *what)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (memcmp(&p[i], &v, sizeof v) != 0) {
            print_error("%s: element %zu was written by a failed call\n",
                        what, i);
            fail();
        }
}

static const char *zu(char *buf, size_t size, const char *fmt, size_t v)
{
    snprintf(buf, size, fmt, v);
    return buf;
}

/* ======================================================================
 * Status strings, version, NULL-tolerant calls
 * ====================================================================== */

/* The statuses are 0, 1, 2, ... with no gap: the first value without a
 * string is one past the last status. */
static int first_unknown_status(void)
{
    int a = NN_OK;
    while (a < 1000 &&
           strcmp(nn_status_string((nn_status)a), "unknown status") != 0)
        a++;
    return a;
}

static void status_string_is_distinct_and_non_empty_for_every_status(
    void **state)
{
    int a, b, end = first_unknown_status();
    (void)state;
    assert_true(end > NN_E_NONFINITE);
    assert_true(end < 1000);
    for (a = NN_OK; a < end; a++) {
        const char *sa = nn_status_string((nn_status)a);
        assert_non_null(sa);
        assert_true(strlen(sa) > 0);
        for (b = NN_OK; b < a; b++)
            assert_string_not_equal(sa, nn_status_string((nn_status)b));
    }
}

static void status_string_of_an_unknown_status_is_unknown_status(
    void **state)
{
    const int unknown[] = {first_unknown_status(), -1, 100, INT_MAX,
                           INT_MIN};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        assert_string_equal(nn_status_string((nn_status)unknown[i]),
                            "unknown status");
}

static void version_number_and_string_match_the_header_macros(void **state)
{
    char want[64];
    (void)state;
    assert_int_equal(nn_version_number(), NN_VERSION_NUMBER);
    assert_int_equal(NN_VERSION_NUMBER, NN_VERSION_MAJOR * 10000 +
                                            NN_VERSION_MINOR * 100 +
                                            NN_VERSION_PATCH);
    snprintf(want, sizeof want, "%d.%d.%d", NN_VERSION_MAJOR,
             NN_VERSION_MINOR, NN_VERSION_PATCH);
    assert_non_null(nn_version_string());
    assert_string_equal(nn_version_string(), want);
}

static void model_free_of_null_is_a_no_op(void **state)
{
    (void)state;
    nn_model_free(NULL);
    nn_model_free(NULL);
}

static void shape_getters_return_zero_for_a_null_model(void **state)
{
    size_t count = 99;
    (void)state;
    assert_int_equal(nn_model_input_width(NULL), 0);
    assert_int_equal(nn_model_output_width(NULL), 0);
    assert_int_equal(nn_model_layer_count(NULL), 0);
    assert_int_equal(nn_model_layer_width(NULL, 0), 0);
    assert_null(nn_model_params(NULL, &count));
    assert_int_equal(count, 0);
    count = 99;
    assert_null(nn_model_grads(NULL, &count));
    assert_int_equal(count, 0);
    assert_null(nn_model_params(NULL, NULL));
    assert_null(nn_model_grads(NULL, NULL));
}

static void shape_getters_return_zero_for_empty_models_and_bad_layers(
    void **state)
{
    fixture f;
    size_t count = 99;
    (void)state;
    fixture_init(&f, &EMPTY);
    assert_int_equal(nn_model_input_width(f.m), 4);
    assert_int_equal(nn_model_output_width(f.m), 0);
    assert_int_equal(nn_model_layer_count(f.m), 0);
    assert_int_equal(nn_model_layer_width(f.m, 0), 0);
    assert_null(nn_model_params(f.m, &count));
    assert_int_equal(count, 0);
    count = 99;
    assert_null(nn_model_grads(f.m, &count));
    assert_int_equal(count, 0);
    fixture_fini(&f);

    fixture_init(&f, &BASE);
    assert_int_equal(nn_model_layer_width(f.m, 0), 5);
    assert_int_equal(nn_model_layer_width(f.m, 1), 3);
    assert_int_equal(nn_model_layer_width(f.m, 2), 0);
    assert_int_equal(nn_model_layer_width(f.m, (size_t)-1), 0);
    fixture_fini(&f);
}

static void successful_calls_leave_the_last_error_unchanged(void **state)
{
    fixture f;
    char before[512];
    float x[BUF], t[BUF], y[BUF];
    double lr;
    (void)state;
    fixture_init(&f, &BASE);
    make_batch(4, 3, x, t, NULL);
    EXPECT_FAIL(NN_E_SHAPE, nn_model_predict(f.m, BATCH, x, 3, y, 3),
                "nn_model_predict", "x_width is 3", "input width is 4");
    snprintf(before, sizeof before, "%s", nn_last_error());

    assert_int_equal(nn_model_predict(f.m, BATCH, x, 4, y, 3), NN_OK);
    assert_int_equal(nn_model_train_batch(f.m, BATCH, x, 4, t, 3, NULL),
                     NN_OK);
    assert_int_equal(nn_model_get_param(f.m, NN_PARAM_LEARNING_RATE, &lr),
                     NN_OK);
    assert_int_equal(nn_model_set_param(f.m, NN_PARAM_LEARNING_RATE, lr),
                     NN_OK);
    assert_int_equal(nn_set_allocator(NULL, NULL, NULL), NN_OK);
    (void)nn_status_string(NN_E_NULL);
    assert_string_equal(nn_last_error(), before);
    fixture_fini(&f);
}

/* ======================================================================
 * nn_model_create, nn_set_allocator
 * ====================================================================== */

static void create_rejects_a_null_out(void **state)
{
    (void)state;
    EXPECT_FAIL(NN_E_NULL, nn_model_create(NULL, 4, SEED), "nn_model_create",
                "out is NULL");
    EXPECT_FAIL(NN_E_NULL, nn_model_create(NULL, 0, SEED), "nn_model_create",
                "out");
}

static void create_rejects_input_width_zero_and_sets_out_to_null(
    void **state)
{
    nn_model *m = (nn_model *)&m; /* any non-NULL value */
    (void)state;
    EXPECT_FAIL(NN_E_INVALID, nn_model_create(&m, 0, SEED),
                "nn_model_create", "input_width is 0");
    assert_null(m);
}

/* Two counting allocators (nn_test.h): the one installed, and another
 * whose counts must stay 0. */
static counter mine, other;

static void create_and_free_a_model(void)
{
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(&m, 4, SEED), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 3, NN_ACT_TANH), NN_OK);
    nn_model_free(m);
}

static void set_allocator_rejects_exactly_one_null_function(void **state)
{
    (void)state;
    memset(&mine, 0, sizeof mine);
    memset(&other, 0, sizeof other);

    /* With the default allocator in place: it stays in place. */
    EXPECT_FAIL(NN_E_NULL, nn_set_allocator(count_malloc, NULL, &mine),
                "nn_set_allocator", "free_fn");
    EXPECT_FAIL(NN_E_NULL, nn_set_allocator(NULL, count_free, &mine),
                "nn_set_allocator", "alloc_fn");
    create_and_free_a_model();
    assert_int_equal(mine.allocs + mine.frees + other.allocs + other.frees, 0);

    /* With a custom allocator in place: it and its ctx stay in place. */
    assert_int_equal(nn_set_allocator(count_malloc, count_free, &mine),
                     NN_OK);
    EXPECT_FAIL(NN_E_NULL,
                nn_set_allocator(count_malloc, NULL, &other),
                "nn_set_allocator", "free_fn");
    EXPECT_FAIL(NN_E_NULL,
                nn_set_allocator(NULL, count_free, &other),
                "nn_set_allocator", "alloc_fn");
    create_and_free_a_model();
    assert_int_equal(nn_set_allocator(NULL, NULL, NULL), NN_OK);
    assert_true(mine.allocs > 0);
    assert_int_equal(mine.frees, mine.allocs);
    assert_int_equal(other.allocs + other.frees, 0);

    /* NULL, NULL restored malloc and free. */
    memset(&mine, 0, sizeof mine);
    create_and_free_a_model();
    assert_int_equal(mine.allocs + mine.frees + other.allocs + other.frees, 0);
}

/* ======================================================================
 * nn_model_add_dense, nn_model_set_loss
 * ====================================================================== */

static const int BAD_ACTS[] = {0, -1, NN_ACT_ELU + 1, 1000, INT_MAX,
                               INT_MIN};
static const int BAD_LOSSES[] = {0, -1, NN_LOSS_HUBER + 1, 1000,
                                 INT_MAX, INT_MIN};
static const int BAD_PARAMS[] = {0, -1, NN_PARAM_LABEL_SMOOTHING + 1, 1000,
                                  INT_MAX,
                                  INT_MIN};
static const int BAD_LAYER_PARAMS[] = {0, -1, NN_LAYER_EPSILON + 1, 1000,
                                       INT_MAX, INT_MIN};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void add_dense_rejects_a_null_model(void **state)
{
    (void)state;
    EXPECT_FAIL(NN_E_NULL, nn_model_add_dense(NULL, 3, NN_ACT_TANH),
                "nn_model_add_dense", "model is NULL");
}

static void add_dense_rejects_width_zero(void **state)
{
    fixture f;
    (void)state;
    fixture_init(&f, &NO_LOSS);
    EXPECT_FAIL(NN_E_INVALID, nn_model_add_dense(f.m, 0, NN_ACT_TANH),
                "nn_model_add_dense", "width is 0");
    ASSERT_UNCHANGED(&f);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);

    fixture_init(&f, &EMPTY);
    EXPECT_FAIL(NN_E_INVALID, nn_model_add_dense(f.m, 0, NN_ACT_IDENTITY),
                "nn_model_add_dense", "width is 0");
    ASSERT_UNCHANGED(&f);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void add_dense_rejects_out_of_range_activations(void **state)
{
    fixture f;
    char sub[64];
    size_t i;
    (void)state;
    fixture_init(&f, &NO_LOSS);
    for (i = 0; i < COUNT(BAD_ACTS); i++) {
        snprintf(sub, sizeof sub, "act is %d", BAD_ACTS[i]);
        EXPECT_FAIL(NN_E_INVALID,
                    nn_model_add_dense(f.m, 3, (nn_activation)BAD_ACTS[i]),
                    "nn_model_add_dense", sub);
        ASSERT_UNCHANGED(&f);
    }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void add_dense_after_a_softmax_layer_is_a_state_error(void **state)
{
    static const spec first_softmax = {4, 1, {3}, {NN_ACT_SOFTMAX},
                                       NN_LOSS_CROSS_ENTROPY};
    const spec *specs[2];
    fixture f;
    size_t s;
    int a;
    (void)state;
    specs[0] = &BASE;
    specs[1] = &first_softmax;
    for (s = 0; s < 2; s++) {
        fixture_init(&f, specs[s]);
        for (a = NN_ACT_IDENTITY; a <= NN_ACT_SOFTMAX; a++) {
            EXPECT_FAIL(NN_E_STATE,
                        nn_model_add_dense(f.m, 2, (nn_activation)a),
                        "nn_model_add_dense", "softmax");
            ASSERT_UNCHANGED(&f);
        }
        ASSERT_STILL_WORKS(&f);
        fixture_fini(&f);
    }
}

static void set_loss_rejects_a_null_model(void **state)
{
    (void)state;
    EXPECT_FAIL(NN_E_NULL, nn_model_set_loss(NULL, NN_LOSS_MSE),
                "nn_model_set_loss", "model is NULL");
}

static void set_loss_rejects_out_of_range_losses(void **state)
{
    fixture f;
    char sub[64];
    float x[BUF], t[BUF];
    size_t i;
    (void)state;

    /* The loss stays cross-entropy: training matches the twin's. */
    fixture_init(&f, &BASE);
    for (i = 0; i < COUNT(BAD_LOSSES); i++) {
        snprintf(sub, sizeof sub, "loss is %d", BAD_LOSSES[i]);
        EXPECT_FAIL(NN_E_INVALID,
                    nn_model_set_loss(f.m, (nn_loss)BAD_LOSSES[i]),
                    "nn_model_set_loss", sub);
        ASSERT_UNCHANGED(&f);
    }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);

    /* A model without a loss still has none. */
    fixture_init(&f, &NO_LOSS);
    make_batch(4, 3, x, t, NULL);
    for (i = 0; i < COUNT(BAD_LOSSES); i++) {
        EXPECT_FAIL(NN_E_INVALID,
                    nn_model_set_loss(f.m, (nn_loss)BAD_LOSSES[i]),
                    "nn_model_set_loss", "loss");
        EXPECT_FAIL(NN_E_STATE,
                    nn_model_train_batch(f.m, BATCH, x, 4, t, 3, NULL),
                    "nn_model_train_batch", "loss");
        ASSERT_UNCHANGED(&f);
    }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

/* ======================================================================
 * Settings
 * ====================================================================== */

typedef struct bad_value {
    double value;
    const char *sub; /* how the message prints it */
} bad_value;

static void set_param_rejects_a_null_model(void **state)
{
    (void)state;
    EXPECT_FAIL(NN_E_NULL,
                nn_model_set_param(NULL, NN_PARAM_LEARNING_RATE, 0.1),
                "nn_model_set_param", "model is NULL");
}

static void set_param_rejects_out_of_range_keys(void **state)
{
    fixture f;
    char sub[64];
    size_t i;
    (void)state;
    fixture_init(&f, &BASE);
    for (i = 0; i < COUNT(BAD_PARAMS); i++) {
        snprintf(sub, sizeof sub, "key is %d", BAD_PARAMS[i]);
        EXPECT_FAIL(NN_E_INVALID,
                    nn_model_set_param(f.m, (nn_param)BAD_PARAMS[i], 0.5),
                    "nn_model_set_param", sub);
        ASSERT_UNCHANGED(&f);
    }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void set_param_rejects_out_of_range_and_nan_learning_rates(
    void **state)
{
    const bad_value bad[] = {
        {-0.1, "-0.1"},
        {-1.0, "-1"},
        {2e6, "2e+06"},
        {1e300, "1e+300"},
        {NAN, "nan"},
        {INFINITY, "inf"},
        {-INFINITY, "-inf"},
        {0.0, "e-324"},  /* replaced by the largest double below 0 */
        {0.0, "1e+06"},  /* replaced by the smallest double above 1e6 */
    };
    bad_value cases[COUNT(bad)];
    fixture f;
    size_t i;
    double before, after;
    (void)state;
    memcpy(cases, bad, sizeof bad);
    cases[7].value = nextafter(0.0, -1.0);
    cases[8].value = nextafter(1e6, 2e6);

    fixture_init(&f, &BASE);
    fixture_set_lr(&f, 0.125); /* not the default, so a reset would show */
    for (i = 0; i < COUNT(cases); i++) {
        assert_int_equal(
            nn_model_get_param(f.m, NN_PARAM_LEARNING_RATE, &before), NN_OK);
        EXPECT_FAIL(NN_E_INVALID,
                    nn_model_set_param(f.m, NN_PARAM_LEARNING_RATE,
                                       cases[i].value),
                    "nn_model_set_param", "value", cases[i].sub);
        assert_int_equal(
            nn_model_get_param(f.m, NN_PARAM_LEARNING_RATE, &after), NN_OK);
        assert_memory_equal(&before, &after, sizeof before);
        assert_true(after == 0.125);
        ASSERT_UNCHANGED(&f);
    }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void set_param_accepts_both_closed_bounds(void **state)
{
    fixture f;
    double lo = -1, hi = -1, def = -1, got;
    (void)state;
    assert_int_equal(nn_param_bounds(NN_PARAM_LEARNING_RATE, &lo, &hi, &def),
                     NN_OK);
    assert_true(lo == 0.0 && hi == 1e6 && def == 0.01);
    fixture_init(&f, &BASE);
    assert_int_equal(nn_model_get_param(f.m, NN_PARAM_LEARNING_RATE, &got),
                     NN_OK);
    assert_true(got == def);
    fixture_set_lr(&f, lo);
    assert_int_equal(nn_model_get_param(f.m, NN_PARAM_LEARNING_RATE, &got),
                     NN_OK);
    assert_true(got == lo);
    fixture_set_lr(&f, hi);
    assert_int_equal(nn_model_get_param(f.m, NN_PARAM_LEARNING_RATE, &got),
                     NN_OK);
    assert_true(got == hi);
    fixture_set_lr(&f, def);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void get_param_rejects_null_pointers_and_unknown_keys(void **state)
{
    fixture f;
    char sub[64];
    double v = -7.0;
    size_t i;
    (void)state;
    fixture_init(&f, &BASE);
    EXPECT_FAIL(NN_E_NULL,
                nn_model_get_param(NULL, NN_PARAM_LEARNING_RATE, &v),
                "nn_model_get_param", "model is NULL");
    EXPECT_FAIL(NN_E_NULL,
                nn_model_get_param(f.m, NN_PARAM_LEARNING_RATE, NULL),
                "nn_model_get_param", "value is NULL");
    for (i = 0; i < COUNT(BAD_PARAMS); i++) {
        snprintf(sub, sizeof sub, "key is %d", BAD_PARAMS[i]);
        EXPECT_FAIL(NN_E_INVALID,
                    nn_model_get_param(f.m, (nn_param)BAD_PARAMS[i], &v),
                    "nn_model_get_param", sub);
    }
    assert_true(v == -7.0);
    ASSERT_UNCHANGED(&f);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void param_bounds_reject_unknown_keys_and_write_nothing(void **state)
{
    char sub[64];
    double lo = -7, hi = -7, def = -7;
    size_t i;
    (void)state;
    for (i = 0; i < COUNT(BAD_PARAMS); i++) {
        snprintf(sub, sizeof sub, "key is %d", BAD_PARAMS[i]);
        EXPECT_FAIL(NN_E_INVALID,
                    nn_param_bounds((nn_param)BAD_PARAMS[i], &lo, &hi, &def),
                    "nn_param_bounds", sub);
        assert_true(lo == -7 && hi == -7 && def == -7);
    }
    for (i = 0; i < COUNT(BAD_LAYER_PARAMS); i++) {
        const nn_layer_param key = (nn_layer_param)BAD_LAYER_PARAMS[i];
        snprintf(sub, sizeof sub, "key is %d", BAD_LAYER_PARAMS[i]);
        EXPECT_FAIL(NN_E_INVALID,
                    nn_layer_param_bounds(key, &lo, &hi, &def),
                    "nn_layer_param_bounds", sub);
        assert_true(lo == -7 && hi == -7 && def == -7);
    }
    /* Every output may be NULL. */
    assert_int_equal(nn_param_bounds(NN_PARAM_LEARNING_RATE, NULL, NULL,
                                     NULL),
                     NN_OK);
    assert_int_equal(nn_layer_param_bounds(NN_LAYER_LEAKY_SLOPE, NULL, NULL,
                                           NULL),
                     NN_OK);
    assert_int_equal(nn_layer_param_bounds(NN_LAYER_LEAKY_SLOPE, &lo, &hi,
                                           &def),
                     NN_OK);
    assert_true(lo == 0.0 && hi == 1.0 && def == 0.01);
}

static void set_layer_param_rejects_a_null_model_and_out_of_range_layers(
    void **state)
{
    fixture f;
    char sub[64];
    (void)state;
    EXPECT_FAIL(NN_E_NULL,
                nn_model_set_layer_param(NULL, 0, NN_LAYER_LEAKY_SLOPE, 0.5),
                "nn_model_set_layer_param", "model is NULL");

    fixture_init(&f, &BASE);
    EXPECT_FAIL(NN_E_INVALID,
                nn_model_set_layer_param(f.m, 2, NN_LAYER_LEAKY_SLOPE, 0.5),
                "nn_model_set_layer_param", "layer is 2", "2 layers");
    EXPECT_FAIL(NN_E_INVALID,
                nn_model_set_layer_param(f.m, (size_t)-1,
                                         NN_LAYER_LEAKY_SLOPE, 0.5),
                "nn_model_set_layer_param",
                zu(sub, sizeof sub, "layer is %zu", (size_t)-1));
    ASSERT_UNCHANGED(&f);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);

    fixture_init(&f, &EMPTY);
    EXPECT_FAIL(NN_E_INVALID,
                nn_model_set_layer_param(f.m, 0, NN_LAYER_LEAKY_SLOPE, 0.5),
                "nn_model_set_layer_param", "layer is 0", "0 layers");
    ASSERT_UNCHANGED(&f);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void set_layer_param_rejects_out_of_range_keys(void **state)
{
    fixture f;
    char sub[64];
    size_t i;
    (void)state;
    fixture_init(&f, &BASE);
    for (i = 0; i < COUNT(BAD_LAYER_PARAMS); i++) {
        const nn_layer_param key = (nn_layer_param)BAD_LAYER_PARAMS[i];
        snprintf(sub, sizeof sub, "key is %d", BAD_LAYER_PARAMS[i]);
        EXPECT_FAIL(NN_E_INVALID,
                    nn_model_set_layer_param(f.m, 0, key, 0.5),
                    "nn_model_set_layer_param", sub);
        ASSERT_UNCHANGED(&f);
    }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void
set_layer_param_rejects_out_of_range_and_nan_slopes(
    void **state)
{
    static const spec leaky = {4, 2, {5, 3}, {NN_ACT_LEAKY_RELU,
                                              NN_ACT_SOFTMAX},
                               NN_LOSS_CROSS_ENTROPY};
    const bad_value bad[] = {
        {-0.5, "-0.5"},
        {1.5, "1.5"},
        {-1e-300, "-1e-300"},
        {NAN, "nan"},
        {INFINITY, "inf"},
        {-INFINITY, "-inf"},
        {0.0, "1"}, /* replaced by the smallest double above 1 */
    };
    bad_value cases[COUNT(bad)];
    fixture f;
    size_t i, l;
    double before[2], after[2];
    (void)state;
    memcpy(cases, bad, sizeof bad);
    cases[6].value = nextafter(1.0, 2.0);

    fixture_init(&f, &leaky);
    for (i = 0; i < COUNT(cases); i++)
        for (l = 0; l < 2; l++) {
            assert_int_equal(nn_model_get_layer_param(f.m, 0,
                                                      NN_LAYER_LEAKY_SLOPE,
                                                      &before[0]),
                             NN_OK);
            assert_int_equal(nn_model_get_layer_param(f.m, 1,
                                                      NN_LAYER_LEAKY_SLOPE,
                                                      &before[1]),
                             NN_OK);
            EXPECT_FAIL(NN_E_INVALID,
                        nn_model_set_layer_param(f.m, l,
                                                 NN_LAYER_LEAKY_SLOPE,
                                                 cases[i].value),
                        "nn_model_set_layer_param", "value", cases[i].sub);
            assert_int_equal(nn_model_get_layer_param(f.m, 0,
                                                      NN_LAYER_LEAKY_SLOPE,
                                                      &after[0]),
                             NN_OK);
            assert_int_equal(nn_model_get_layer_param(f.m, 1,
                                                      NN_LAYER_LEAKY_SLOPE,
                                                      &after[1]),
                             NN_OK);
            assert_memory_equal(before, after, sizeof before);
            ASSERT_UNCHANGED(&f);
        }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void get_layer_param_rejects_null_pointers_bad_layers_and_keys(
    void **state)
{
    fixture f;
    char sub[64];
    double v = -7.0;
    size_t i;
    (void)state;
    fixture_init(&f, &BASE);
    EXPECT_FAIL(NN_E_NULL,
                nn_model_get_layer_param(NULL, 0, NN_LAYER_LEAKY_SLOPE, &v),
                "nn_model_get_layer_param", "model is NULL");
    EXPECT_FAIL(NN_E_NULL,
                nn_model_get_layer_param(f.m, 0, NN_LAYER_LEAKY_SLOPE, NULL),
                "nn_model_get_layer_param", "value is NULL");
    EXPECT_FAIL(NN_E_INVALID,
                nn_model_get_layer_param(f.m, 2, NN_LAYER_LEAKY_SLOPE, &v),
                "nn_model_get_layer_param", "layer is 2", "2 layers");
    EXPECT_FAIL(NN_E_INVALID,
                nn_model_get_layer_param(f.m, (size_t)-1,
                                         NN_LAYER_LEAKY_SLOPE, &v),
                "nn_model_get_layer_param",
                zu(sub, sizeof sub, "layer is %zu", (size_t)-1));
    for (i = 0; i < COUNT(BAD_LAYER_PARAMS); i++) {
        const nn_layer_param key = (nn_layer_param)BAD_LAYER_PARAMS[i];
        snprintf(sub, sizeof sub, "key is %d", BAD_LAYER_PARAMS[i]);
        EXPECT_FAIL(NN_E_INVALID,
                    nn_model_get_layer_param(f.m, 1,
                                             key,
                                             &v),
                    "nn_model_get_layer_param", sub);
    }
    assert_true(v == -7.0);
    ASSERT_UNCHANGED(&f);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

/* ======================================================================
 * nn_model_predict
 * ====================================================================== */

typedef enum arg_kind { ARG_OK, ARG_NULL } arg_kind;

typedef struct predict_case {
    const char *what;
    int null_model;
    size_t n;
    arg_kind x;
    size_t x_width;
    arg_kind y;
    size_t y_width;
    nn_status want;
    const char *sub[3];
} predict_case;

static void run_predict_cases(const predict_case *cases, size_t count)
{
    static const char fn[] = "nn_model_predict";
    fixture f;
    float x[BUF], t[BUF], y[BUF];
    size_t i;

    fixture_init(&f, &BASE);
    make_batch(4, 3, x, t, NULL);
    for (i = 0; i < count; i++) {
        const predict_case *c = &cases[i];
        const char *subs[4];
        nn_status st;
        subs[0] = fn;
        subs[1] = c->sub[0];
        subs[2] = c->sub[1];
        subs[3] = c->sub[2];
        fill(y, BUF, SENTINEL);
        poison_last_error(fn);
        st = nn_model_predict(c->null_model ? NULL : f.m, c->n,
                              c->x == ARG_NULL ? NULL : x, c->x_width,
                              c->y == ARG_NULL ? NULL : y, c->y_width);
        check_failure(st, c->want, subs, 4, c->what, __FILE__, __LINE__);
        assert_all_equal(y, BUF, SENTINEL, c->what);
        ASSERT_UNCHANGED(&f);
    }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void predict_rejects_null_pointers(void **state)
{
    static const predict_case cases[] = {
        {"NULL model", 1, BATCH, ARG_OK, 4, ARG_OK, 3, NN_E_NULL,
         {"model is NULL"}},
        {"NULL x", 0, BATCH, ARG_NULL, 4, ARG_OK, 3, NN_E_NULL,
         {"x is NULL"}},
        {"NULL y", 0, BATCH, ARG_OK, 4, ARG_NULL, 3, NN_E_NULL,
         {"y is NULL"}},
    };
    (void)state;
    run_predict_cases(cases, COUNT(cases));
}

static void predict_rejects_zero_rows(void **state)
{
    static const predict_case cases[] = {
        {"n 0", 0, 0, ARG_OK, 4, ARG_OK, 3, NN_E_INVALID, {"n is 0"}},
    };
    (void)state;
    run_predict_cases(cases, COUNT(cases));
}

static void predict_rejects_mismatched_x_width(void **state)
{
    static const predict_case cases[] = {
        {"x_width 3", 0, BATCH, ARG_OK, 3, ARG_OK, 3, NN_E_SHAPE,
         {"x_width is 3", "input width is 4"}},
        {"x_width 5", 0, BATCH, ARG_OK, 5, ARG_OK, 3, NN_E_SHAPE,
         {"x_width is 5", "input width is 4"}},
        {"x_width 0", 0, BATCH, ARG_OK, 0, ARG_OK, 3, NN_E_SHAPE,
         {"x_width is 0", "input width is 4"}},
    };
    (void)state;
    run_predict_cases(cases, COUNT(cases));
}

static void predict_rejects_mismatched_y_width(void **state)
{
    static const predict_case cases[] = {
        {"y_width 2", 0, BATCH, ARG_OK, 4, ARG_OK, 2, NN_E_SHAPE,
         {"y_width is 2", "output width is 3"}},
        {"y_width 5", 0, BATCH, ARG_OK, 4, ARG_OK, 5, NN_E_SHAPE,
         {"y_width is 5", "output width is 3"}},
        {"y_width 0", 0, BATCH, ARG_OK, 4, ARG_OK, 0, NN_E_SHAPE,
         {"y_width is 0", "output width is 3"}},
    };
    (void)state;
    run_predict_cases(cases, COUNT(cases));
}

/* Huge n with one-float dummies: the library must refuse before reading x
 * or writing y. */
static void predict_rejects_n_times_width_overflowing_size_t(void **state)
{
    static const spec wide_out = {1, 1, {8}, {NN_ACT_IDENTITY}, 0};
    const size_t max = (size_t)-1;
    struct {
        const spec *s;
        size_t n;
    } cases[4];
    fixture f;
    float x[1] = {0.5f}, y[1];
    char sub[64];
    size_t i;
    (void)state;
    cases[0].s = &BASE;     cases[0].n = max / 4 + 1; /* n * x_width */
    cases[1].s = &BASE;     cases[1].n = max;
    cases[2].s = &wide_out; cases[2].n = max / 8 + 1; /* only n * y_width */
    cases[3].s = &wide_out; cases[3].n = max / 2;

    for (i = 0; i < COUNT(cases); i++) {
        size_t in = cases[i].s->input,
               out = cases[i].s->width[cases[i].s->n_layers - 1];
        fixture_init(&f, cases[i].s);
        y[0] = SENTINEL;
        EXPECT_FAIL(NN_E_OVERFLOW,
                    nn_model_predict(f.m, cases[i].n, x, in, y, out),
                    "nn_model_predict", zu(sub, sizeof sub, "%zu",
                                           cases[i].n));
        assert_true(y[0] == SENTINEL);
        ASSERT_UNCHANGED(&f);
        ASSERT_STILL_WORKS(&f);
        fixture_fini(&f);
    }
}

static void predict_on_a_model_without_layers_is_a_state_error(void **state)
{
    fixture f;
    float x[BUF], y[BUF];
    (void)state;
    fixture_init(&f, &EMPTY);
    fill(x, BUF, 0.25f);
    fill(y, BUF, SENTINEL);
    /* The output width of a model without layers is 0. */
    EXPECT_FAIL(NN_E_STATE, nn_model_predict(f.m, BATCH, x, 4, y, 0),
                "nn_model_predict", "layers");
    EXPECT_FAIL(NN_E_STATE, nn_model_predict(f.m, BATCH, x, 4, y, 3),
                "nn_model_predict", "layers");
    assert_all_equal(y, BUF, SENTINEL, "y");
    ASSERT_UNCHANGED(&f);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

/* ======================================================================
 * nn_model_train_batch, nn_model_compute_grads
 * ====================================================================== */

typedef nn_status (*train_fn)(nn_model *, size_t, const float *, size_t,
                              const float *, size_t, double *);
typedef nn_status (*labels_fn)(nn_model *, size_t, const float *, size_t,
                               const int32_t *, double *);

static const struct {
    const char *name;
    train_fn fn;
} TRAINERS[] = {
    {"nn_model_train_batch", nn_model_train_batch},
    {"nn_model_compute_grads", nn_model_compute_grads},
};

static const struct {
    const char *name;
    labels_fn fn;
} LABEL_TRAINERS[] = {
    {"nn_model_train_batch_labels", nn_model_train_batch_labels},
    {"nn_model_compute_grads_labels", nn_model_compute_grads_labels},
};

typedef struct train_case {
    const char *what;
    int null_model;
    size_t n;
    arg_kind x;
    size_t x_width;
    arg_kind t;
    size_t t_width;
    nn_status want;
    const char *sub[3];
} train_case;

static void run_train_cases(const spec *s, const train_case *cases,
                            size_t count)
{
    fixture f;
    float x[BUF], t[BUF];
    size_t i, k;

    fixture_init(&f, s);
    fill(x, BUF, 0.25f);
    fill(t, BUF, 0.0f);
    for (k = 0; k < COUNT(TRAINERS); k++)
        for (i = 0; i < count; i++) {
            const train_case *c = &cases[i];
            const char *subs[4];
            char what[128];
            double loss = -7.0;
            nn_status st;
            subs[0] = TRAINERS[k].name;
            subs[1] = c->sub[0];
            subs[2] = c->sub[1];
            subs[3] = c->sub[2];
            snprintf(what, sizeof what, "%s, %s", TRAINERS[k].name, c->what);
            poison_last_error(TRAINERS[k].name);
            st = TRAINERS[k].fn(c->null_model ? NULL : f.m, c->n,
                                c->x == ARG_NULL ? NULL : x, c->x_width,
                                c->t == ARG_NULL ? NULL : t, c->t_width,
                                &loss);
            check_failure(st, c->want, subs, 4, what, __FILE__, __LINE__);
            assert_true(loss == -7.0);
            ASSERT_UNCHANGED(&f);
        }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void train_rejects_null_pointers(void **state)
{
    static const train_case cases[] = {
        {"NULL model", 1, BATCH, ARG_OK, 4, ARG_OK, 3, NN_E_NULL,
         {"model is NULL"}},
        {"NULL x", 0, BATCH, ARG_NULL, 4, ARG_OK, 3, NN_E_NULL,
         {"x is NULL"}},
        {"NULL t", 0, BATCH, ARG_OK, 4, ARG_NULL, 3, NN_E_NULL,
         {"t is NULL"}},
    };
    (void)state;
    run_train_cases(&BASE, cases, COUNT(cases));
}

/* nn.h: the message names "the argument"; here the argument is t, whatever
 * t_width the caller passed. */
static void train_names_t_when_t_is_null_whatever_t_width(void **state)
{
    static const train_case cases[] = {
        {"NULL t, t_width SIZE_MAX", 0, BATCH, ARG_OK, 4, ARG_NULL,
         (size_t)-1, NN_E_NULL, {"t is NULL"}},
    };
    (void)state;
    run_train_cases(&BASE, cases, COUNT(cases));
}

static void train_rejects_zero_rows(void **state)
{
    static const train_case cases[] = {
        {"n 0", 0, 0, ARG_OK, 4, ARG_OK, 3, NN_E_INVALID, {"n is 0"}},
    };
    (void)state;
    run_train_cases(&BASE, cases, COUNT(cases));
}

static void train_rejects_mismatched_x_width(void **state)
{
    static const train_case cases[] = {
        {"x_width 3", 0, BATCH, ARG_OK, 3, ARG_OK, 3, NN_E_SHAPE,
         {"x_width is 3", "input width is 4"}},
        {"x_width 5", 0, BATCH, ARG_OK, 5, ARG_OK, 3, NN_E_SHAPE,
         {"x_width is 5", "input width is 4"}},
        {"x_width 0", 0, BATCH, ARG_OK, 0, ARG_OK, 3, NN_E_SHAPE,
         {"x_width is 0", "input width is 4"}},
    };
    (void)state;
    run_train_cases(&BASE, cases, COUNT(cases));
}

static void train_rejects_mismatched_t_width(void **state)
{
    static const train_case cases[] = {
        {"t_width 2", 0, BATCH, ARG_OK, 4, ARG_OK, 2, NN_E_SHAPE,
         {"t_width is 2", "output width is 3"}},
        {"t_width 4", 0, BATCH, ARG_OK, 4, ARG_OK, 4, NN_E_SHAPE,
         {"t_width is 4", "output width is 3"}},
        {"t_width 0", 0, BATCH, ARG_OK, 4, ARG_OK, 0, NN_E_SHAPE,
         {"t_width is 0", "output width is 3"}},
    };
    (void)state;
    run_train_cases(&BASE, cases, COUNT(cases));
}

static void train_rejects_n_times_width_overflowing_size_t(void **state)
{
    const size_t max = (size_t)-1;
    const size_t ns[] = {max / 4 + 1, max / 3 + 1, max / 2, max};
    fixture f;
    float x[1] = {0.5f}, t[1] = {1.0f};
    int32_t labels[1] = {0};
    char sub[64];
    size_t i, k;
    (void)state;
    fixture_init(&f, &BASE);
    for (i = 0; i < COUNT(ns); i++) {
        zu(sub, sizeof sub, "%zu", ns[i]);
        for (k = 0; k < COUNT(TRAINERS); k++) {
            double loss = -7.0;
            EXPECT_FAIL(NN_E_OVERFLOW,
                        TRAINERS[k].fn(f.m, ns[i], x, 4, t, 3, &loss),
                        TRAINERS[k].name, sub);
            assert_true(loss == -7.0);
            ASSERT_UNCHANGED(&f);
        }
        for (k = 0; k < COUNT(LABEL_TRAINERS); k++) {
            double loss = -7.0;
            EXPECT_FAIL(NN_E_OVERFLOW,
                        LABEL_TRAINERS[k].fn(f.m, ns[i], x, 4, labels,
                                             &loss),
                        LABEL_TRAINERS[k].name, sub);
            assert_true(loss == -7.0);
            ASSERT_UNCHANGED(&f);
        }
    }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void train_without_layers_is_a_state_error(void **state)
{
    static const train_case cases[] = {
        {"no layers, t_width 0", 0, BATCH, ARG_OK, 4, ARG_OK, 0, NN_E_STATE,
         {"layers"}},
        {"no layers, t_width 3", 0, BATCH, ARG_OK, 4, ARG_OK, 3, NN_E_STATE,
         {"layers"}},
    };
    (void)state;
    run_train_cases(&EMPTY, cases, COUNT(cases));
}

static void train_without_a_loss_is_a_state_error(void **state)
{
    static const train_case cases[] = {
        {"no loss", 0, BATCH, ARG_OK, 4, ARG_OK, 3, NN_E_STATE, {"loss"}},
    };
    (void)state;
    run_train_cases(&NO_LOSS, cases, COUNT(cases));
}

/* Every (output activation, loss) pair: the ones nn.h says do not fit give
 * NN_E_STATE when training starts; the others train (fixture_init trains
 * one step on them). */
static void train_rejects_a_loss_that_does_not_fit_the_output_activation(
    void **state)
{
    static const char *const act_word[] = {NULL,   "identity", "sigmoid",
                                           "tanh", "relu",     "leaky",
                                           "softmax"};
    fixture f;
    float x[BUF], t[BUF];
    int32_t labels[BATCH];
    int act, loss;
    size_t k;
    (void)state;
    for (act = NN_ACT_IDENTITY; act <= NN_ACT_SOFTMAX; act++)
        for (loss = NN_LOSS_MSE; loss <= NN_LOSS_CROSS_ENTROPY; loss++) {
            spec s = {3, 2, {4, 2}, {NN_ACT_TANH, NN_ACT_IDENTITY}, 0};
            s.act[1] = (nn_activation)act;
            s.loss = loss;
            fixture_init(&f, &s);
            make_batch(3, 2, x, t, labels);
            if (!doc_loss_fits(loss, act)) {
                for (k = 0; k < COUNT(TRAINERS); k++) {
                    double l = -7.0;
                    EXPECT_FAIL(NN_E_STATE,
                                TRAINERS[k].fn(f.m, BATCH, x, 3, t, 2, &l),
                                TRAINERS[k].name, act_word[act]);
                    assert_true(l == -7.0);
                    ASSERT_UNCHANGED(&f);
                }
                for (k = 0; k < COUNT(LABEL_TRAINERS); k++) {
                    double l = -7.0;
                    EXPECT_FAIL(NN_E_STATE,
                                LABEL_TRAINERS[k].fn(f.m, BATCH, x, 3,
                                                     labels, &l),
                                LABEL_TRAINERS[k].name);
                    assert_true(l == -7.0);
                    ASSERT_UNCHANGED(&f);
                }
            }
            ASSERT_STILL_WORKS(&f);
            fixture_fini(&f);
        }
}

/* nn.h's two examples, spelled out. */
static void bce_after_tanh_and_cross_entropy_after_sigmoid_fail_at_training(
    void **state)
{
    static const spec bce_tanh = {4, 2, {5, 3}, {NN_ACT_TANH, NN_ACT_TANH},
                                  NN_LOSS_BCE};
    static const spec ce_sigmoid = {4, 2, {5, 3},
                                    {NN_ACT_TANH, NN_ACT_SIGMOID},
                                    NN_LOSS_CROSS_ENTROPY};
    static const train_case bce_cases[] = {
        {"BCE after tanh", 0, BATCH, ARG_OK, 4, ARG_OK, 3, NN_E_STATE,
         {"tanh"}},
    };
    static const train_case ce_cases[] = {
        {"cross-entropy after sigmoid", 0, BATCH, ARG_OK, 4, ARG_OK, 3,
         NN_E_STATE, {"sigmoid"}},
    };
    (void)state;
    run_train_cases(&bce_tanh, bce_cases, COUNT(bce_cases));
    run_train_cases(&ce_sigmoid, ce_cases, COUNT(ce_cases));
}

/* set_loss accepts any loss while the model is built; the fit is checked
 * when training starts. */
static void loss_fit_is_checked_when_training_starts_not_when_set(
    void **state)
{
    fixture f;
    float x[BUF], t[BUF];
    (void)state;
    {
        spec s = EMPTY;
        s.loss = NN_LOSS_BCE; /* set before any layer: accepted */
        fixture_init(&f, &s);
    }
    fixture_add_dense(&f, 5, NN_ACT_RELU);
    fixture_add_dense(&f, 3, NN_ACT_TANH); /* BCE does not fit tanh */
    make_batch(4, 3, x, t, NULL);
    EXPECT_FAIL(NN_E_STATE, nn_model_train_batch(f.m, BATCH, x, 4, t, 3,
                                                 NULL),
                "nn_model_train_batch", "tanh");
    EXPECT_FAIL(NN_E_STATE, nn_model_compute_grads(f.m, BATCH, x, 4, t, 3,
                                                   NULL),
                "nn_model_compute_grads", "tanh");
    ASSERT_UNCHANGED(&f);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static int sum_nothing(void *user, float *grads, size_t count)
{
    (void)user;
    (void)grads;
    (void)count;
    return 0;
}

/* A step skips the checks of the model alone that a step of its kind
 * passed before, until a setter changes what they read: each change
 * below makes the next step fail, after steps that succeeded. */
static void a_change_after_a_step_is_checked_by_the_next_step(void **state)
{
    nn_model *m;
    float x[BUF], t[BUF], w3[3] = {1.0f, 2.0f, 1.0f};
    int32_t labels[BATCH];
    int round;
    (void)state;
    make_batch(4, 3, x, t, labels);
    for (round = 0; round < 6; round++) {
        /* 4 -> 5 tanh -> 3 tanh, MSE: trains with targets */
        assert_int_equal(nn_model_create(&m, 4, 3), NN_OK);
        assert_int_equal(nn_model_add_dense(m, 5, NN_ACT_TANH), NN_OK);
        assert_int_equal(nn_model_add_dense(m, 3, NN_ACT_TANH), NN_OK);
        assert_int_equal(nn_model_set_loss(m, NN_LOSS_MSE), NN_OK);
        assert_int_equal(nn_model_train_batch(m, BATCH, x, 4, t, 3, NULL),
                         NN_OK);
        assert_int_equal(nn_model_train_batch(m, BATCH, x, 4, t, 3, NULL),
                         NN_OK);
        switch (round) {
        case 0: /* the loss no longer fits the output */
            assert_int_equal(nn_model_set_loss(m, NN_LOSS_BCE), NN_OK);
            EXPECT_FAIL(NN_E_STATE,
                        nn_model_train_batch(m, BATCH, x, 4, t, 3, NULL),
                        "nn_model_train_batch", "tanh");
            break;
        case 1: /* class weights without cross-entropy */
            assert_int_equal(nn_model_set_class_weights(m, w3, 3), NN_OK);
            EXPECT_FAIL(NN_E_STATE,
                        nn_model_train_batch(m, BATCH, x, 4, t, 3, NULL),
                        "nn_model_train_batch", "class weights");
            break;
        case 2: /* a replica's step takes its part of a batch */
            assert_int_equal(nn_model_set_replica(m, 0, 2, sum_nothing,
                                                  NULL),
                             NN_OK);
            EXPECT_FAIL(NN_E_STATE,
                        nn_model_train_batch(m, BATCH, x, 4, t, 3, NULL),
                        "nn_model_train_batch", "replica 0 of 2");
            break;
        case 3: /* labels are another kind of step: MSE refuses them */
            EXPECT_FAIL(NN_E_STATE,
                        nn_model_train_batch_labels(m, BATCH, x, 4, labels,
                                                    NULL),
                        "nn_model_train_batch_labels",
                        "NN_LOSS_CROSS_ENTROPY");
            break;
        case 4: /* a new output layer that the new loss does not fit */
            assert_int_equal(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY),
                             NN_OK);
            assert_int_equal(nn_model_add_dense(m, 3, NN_ACT_SIGMOID),
                             NN_OK);
            EXPECT_FAIL(NN_E_STATE,
                        nn_model_train_batch(m, BATCH, x, 4, t, 3, NULL),
                        "nn_model_train_batch", "sigmoid");
            break;
        default: /* cross-entropy with weights for two of three outputs */
            assert_int_equal(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY),
                             NN_OK);
            assert_int_equal(nn_model_add_dense(m, 3, NN_ACT_SOFTMAX),
                             NN_OK);
            assert_int_equal(nn_model_train_batch_labels(m, BATCH, x, 4,
                                                         labels, NULL),
                             NN_OK);
            assert_int_equal(nn_model_set_class_weights(m, w3, 2), NN_OK);
            EXPECT_FAIL(NN_E_STATE,
                        nn_model_train_batch_labels(m, BATCH, x, 4, labels,
                                                    NULL),
                        "nn_model_train_batch_labels", "2 class weights");
            break;
        }
        nn_model_free(m);
    }
}

static void nonfinite_training_step_leaves_weights_and_bias_unchanged(
    void **state)
{
    fixture f;
    float x[BUF], t[BUF];
    size_t k;
    (void)state;
    for (k = 0; k < COUNT(TRAINERS); k++) {
        double loss = -7.0;
        fixture_init(&f, &BASE);
        make_batch(4, 3, x, t, NULL);
        x[1] = NAN;
        EXPECT_FAIL(NN_E_NONFINITE,
                    TRAINERS[k].fn(f.m, BATCH, x, 4, t, 3, &loss),
                    TRAINERS[k].name);
        assert_true(isnan(loss)); /* *loss still receives the loss */
        ASSERT_PARAMS_UNCHANGED(&f);
        ASSERT_STILL_WORKS(&f);
        fixture_fini(&f);
    }
}

/* nn.h: a rejected step leaves parameters and optimizer state as they were,
 * and the gradient buffer, which is scratch, holds the rejected gradients. */
static void train_batch_nonfinite_step_keeps_params_and_exposes_gradients(
    void **state)
{
    fixture f;
    float x[BUF], t[BUF];
    double loss;
    size_t i, count = 0;
    const float *g;
    int nonfinite = 0;
    (void)state;
    fixture_init(&f, &BASE);
    make_batch(4, 3, x, t, NULL);
    x[1] = NAN;
    EXPECT_FAIL(NN_E_NONFINITE,
                nn_model_train_batch(f.m, BATCH, x, 4, t, 3, &loss),
                "nn_model_train_batch");
    ASSERT_PARAMS_UNCHANGED(&f);
    g = nn_model_grads(f.m, &count);
    assert_non_null(g);
    for (i = 0; i < count; i++)
        nonfinite += !isfinite(g[i]);
    assert_true(nonfinite > 0);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

/* ======================================================================
 * Class labels
 * ====================================================================== */

static void train_labels_rejects_null_pointers_zero_rows_and_bad_x_width(
    void **state)
{
    fixture f;
    float x[BUF], t[BUF];
    int32_t labels[BATCH];
    size_t k;
    (void)state;
    fixture_init(&f, &BASE);
    make_batch(4, 3, x, t, labels);
    for (k = 0; k < COUNT(LABEL_TRAINERS); k++) {
        const char *fn = LABEL_TRAINERS[k].name;
        labels_fn call = LABEL_TRAINERS[k].fn;
        double loss = -7.0;
        EXPECT_FAIL(NN_E_NULL, call(NULL, BATCH, x, 4, labels, &loss), fn,
                    "model is NULL");
        EXPECT_FAIL(NN_E_NULL, call(f.m, BATCH, NULL, 4, labels, &loss), fn,
                    "x is NULL");
        EXPECT_FAIL(NN_E_NULL, call(f.m, BATCH, x, 4, NULL, &loss), fn,
                    "labels is NULL");
        EXPECT_FAIL(NN_E_INVALID, call(f.m, 0, x, 4, labels, &loss), fn,
                    "n is 0");
        EXPECT_FAIL(NN_E_SHAPE, call(f.m, BATCH, x, 3, labels, &loss), fn,
                    "x_width is 3", "input width is 4");
        EXPECT_FAIL(NN_E_SHAPE, call(f.m, BATCH, x, 5, labels, &loss), fn,
                    "x_width is 5", "input width is 4");
        assert_true(loss == -7.0);
        ASSERT_UNCHANGED(&f);
    }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void train_labels_with_a_non_cross_entropy_loss_is_a_state_error(
    void **state)
{
    static const spec mse = {4, 2, {5, 3}, {NN_ACT_TANH, NN_ACT_SOFTMAX},
                             NN_LOSS_MSE};
    static const spec bce = {4, 2, {5, 3}, {NN_ACT_TANH, NN_ACT_SIGMOID},
                             NN_LOSS_BCE};
    static const spec mse_identity = {4, 2, {5, 3},
                                      {NN_ACT_TANH, NN_ACT_IDENTITY},
                                      NN_LOSS_MSE};
    const spec *specs[4];
    fixture f;
    float x[BUF], t[BUF];
    int32_t labels[BATCH];
    size_t s, k;
    (void)state;
    specs[0] = &mse;
    specs[1] = &bce;
    specs[2] = &mse_identity;
    specs[3] = &NO_LOSS;
    for (s = 0; s < COUNT(specs); s++) {
        fixture_init(&f, specs[s]);
        make_batch(4, 3, x, t, labels);
        for (k = 0; k < COUNT(LABEL_TRAINERS); k++) {
            double loss = -7.0;
            EXPECT_FAIL(NN_E_STATE,
                        LABEL_TRAINERS[k].fn(f.m, BATCH, x, 4, labels,
                                             &loss),
                        LABEL_TRAINERS[k].name, "loss");
            assert_true(loss == -7.0);
            ASSERT_UNCHANGED(&f);
        }
        ASSERT_STILL_WORKS(&f);
        fixture_fini(&f);
    }
}

static void train_labels_rejects_labels_outside_the_outputs(void **state)
{
    static const int32_t bad[] = {3, 4, 1000, INT32_MAX, -1, -3, INT32_MIN};
    fixture f;
    float x[BUF], t[BUF];
    int32_t labels[BATCH];
    char sub[64];
    size_t i, pos, k;
    (void)state;
    fixture_init(&f, &BASE);
    for (i = 0; i < COUNT(bad); i++)
        for (pos = 0; pos < BATCH; pos++)
            for (k = 0; k < COUNT(LABEL_TRAINERS); k++) {
                double loss = -7.0;
                make_batch(4, 3, x, t, labels);
                labels[pos] = bad[i];
                snprintf(sub, sizeof sub, "labels[%zu] is %ld", pos,
                         (long)bad[i]);
                EXPECT_FAIL(NN_E_INVALID,
                            LABEL_TRAINERS[k].fn(f.m, BATCH, x, 4, labels,
                                                 &loss),
                            LABEL_TRAINERS[k].name, sub, "3");
                assert_true(loss == -7.0);
                ASSERT_UNCHANGED(&f);
            }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void train_labels_without_layers_or_loss_is_a_state_error(
    void **state)
{
    fixture f;
    float x[BUF];
    int32_t labels[BATCH] = {0, 1, 2};
    size_t k;
    (void)state;
    fill(x, BUF, 0.25f);
    fixture_init(&f, &EMPTY);
    for (k = 0; k < COUNT(LABEL_TRAINERS); k++)
        EXPECT_FAIL(NN_E_STATE,
                    LABEL_TRAINERS[k].fn(f.m, BATCH, x, 4, labels, NULL),
                    LABEL_TRAINERS[k].name, "layers");
    ASSERT_UNCHANGED(&f);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

/* ======================================================================
 * Weights, biases, gradients
 * ====================================================================== */

enum { GET_W, SET_W, GET_B, SET_B };
static const char *const COPY_NAME[] = {
    "nn_model_get_weights", "nn_model_set_weights", "nn_model_get_bias",
    "nn_model_set_bias"};
static const char *const COPY_ARG[] = {"w", "w", "b", "b"};

static nn_status copy_call(int which, nn_model *m, size_t layer, float *buf,
                           size_t count)
{
    switch (which) {
    case GET_W: return nn_model_get_weights(m, layer, buf, count);
    case SET_W: return nn_model_set_weights(m, layer, buf, count);
    case GET_B: return nn_model_get_bias(m, layer, buf, count);
    default: return nn_model_set_bias(m, layer, buf, count);
    }
}

/* BASE: layer 0 is 4 x 5, layer 1 is 5 x 3. */
static size_t base_count(int which, size_t layer)
{
    static const size_t in[] = {4, 5}, out[] = {5, 3};
    return which == GET_W || which == SET_W ? in[layer] * out[layer]
                                            : out[layer];
}

/* One failing accessor call: status, message, caller's buffer and model
 * unchanged. */
static void expect_copy_failure(fixture *f, int which, nn_model *m,
                                size_t layer, int null_buf, size_t count,
                                nn_status want, const char *s1,
                                const char *s2, const char *what)
{
    float buf[BUF];
    const char *subs[3];
    nn_status st;
    subs[0] = COPY_NAME[which];
    subs[1] = s1;
    subs[2] = s2;
    fill(buf, BUF, 0.125f);
    poison_last_error(COPY_NAME[which]);
    st = copy_call(which, m, layer, null_buf ? NULL : buf, count);
    check_failure(st, want, subs, 3, what, __FILE__, __LINE__);
    assert_all_equal(buf, BUF, 0.125f, what);
    ASSERT_UNCHANGED(f);
}

static void weights_and_bias_accessors_reject_null_pointers(void **state)
{
    fixture f;
    char sub[16];
    int which;
    size_t l;
    (void)state;
    fixture_init(&f, &BASE);
    for (which = GET_W; which <= SET_B; which++)
        for (l = 0; l < 2; l++) {
            size_t want = base_count(which, l);
            snprintf(sub, sizeof sub, "%s is NULL", COPY_ARG[which]);
            expect_copy_failure(&f, which, NULL, l, 0, want, NN_E_NULL,
                                "model is NULL", NULL, COPY_NAME[which]);
            expect_copy_failure(&f, which, f.m, l, 1, want, NN_E_NULL, sub,
                                NULL, COPY_NAME[which]);
        }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void weights_and_bias_accessors_reject_out_of_range_layers(
    void **state)
{
    fixture f;
    char sub[64];
    int which;
    (void)state;
    fixture_init(&f, &BASE);
    for (which = GET_W; which <= SET_B; which++) {
        expect_copy_failure(&f, which, f.m, 2, 0, base_count(which, 1),
                            NN_E_INVALID, "layer is 2", "2 layers",
                            COPY_NAME[which]);
        expect_copy_failure(&f, which, f.m, (size_t)-1, 0,
                            base_count(which, 1), NN_E_INVALID,
                            zu(sub, sizeof sub, "layer is %zu", (size_t)-1),
                            NULL, COPY_NAME[which]);
    }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);

    fixture_init(&f, &EMPTY);
    for (which = GET_W; which <= SET_B; which++)
        expect_copy_failure(&f, which, f.m, 0, 0, 1, NN_E_INVALID,
                            "layer is 0", "0 layers", COPY_NAME[which]);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void weights_and_bias_accessors_reject_wrong_counts(void **state)
{
    fixture f;
    char got[64], want_s[64], what[128];
    int which;
    size_t l, i;
    (void)state;
    fixture_init(&f, &BASE);
    for (which = GET_W; which <= SET_B; which++)
        for (l = 0; l < 2; l++) {
            size_t want = base_count(which, l);
            const size_t bad[] = {want - 1, want + 1, 0, 2 * want,
                                  (size_t)-1};
            for (i = 0; i < COUNT(bad); i++) {
                snprintf(got, sizeof got, "count is %zu", bad[i]);
                snprintf(want_s, sizeof want_s, "%zu", want);
                snprintf(what, sizeof what, "%s, layer %zu, count %zu",
                         COPY_NAME[which], l, bad[i]);
                expect_copy_failure(&f, which, f.m, l, 0, bad[i],
                                    NN_E_SHAPE, got, want_s, what);
            }
        }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void set_weights_and_set_bias_reject_non_finite_values(void **state)
{
    const float values[] = {NAN, -NAN, INFINITY, -INFINITY};
    const char *const words[] = {"nan", "nan", "inf", "-inf"};
    const int setters[] = {SET_W, SET_B};
    fixture f;
    float buf[BUF];
    char sub[64], what[128];
    size_t s, l, v, p;
    (void)state;
    fixture_init(&f, &BASE);
    for (s = 0; s < COUNT(setters); s++)
        for (l = 0; l < 2; l++) {
            int which = setters[s];
            size_t want = base_count(which, l);
            const size_t pos[] = {0, want / 2, want - 1};
            for (v = 0; v < COUNT(values); v++)
                for (p = 0; p < COUNT(pos); p++) {
                    const char *subs[4];
                    nn_status st;
                    fill(buf, BUF, 0.125f);
                    buf[pos[p]] = values[v];
                    snprintf(sub, sizeof sub, "%s[%zu]", COPY_ARG[which],
                             pos[p]);
                    snprintf(what, sizeof what, "%s, layer %zu, %s at %zu",
                             COPY_NAME[which], l, words[v], pos[p]);
                    subs[0] = COPY_NAME[which];
                    subs[1] = sub;
                    subs[2] = words[v];
                    subs[3] = NULL;
                    poison_last_error(COPY_NAME[which]);
                    st = copy_call(which, f.m, l, buf, want);
                    check_failure(st, NN_E_INVALID, subs, 4, what, __FILE__,
                                  __LINE__);
                    ASSERT_UNCHANGED(&f);
                }
        }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void get_layer_grads_rejects_bad_arguments(void **state)
{
    static const char fn[] = "nn_model_get_layer_grads";
    fixture f;
    float dw[BUF], db[BUF];
    char sub[64];
    size_t l;
    (void)state;
    fixture_init(&f, &BASE);
    fill(dw, BUF, SENTINEL);
    fill(db, BUF, SENTINEL);
    for (l = 0; l < 2; l++) {
        size_t nw = base_count(GET_W, l), nb = base_count(GET_B, l);
        EXPECT_FAIL(NN_E_NULL, nn_model_get_layer_grads(NULL, l, dw, nw, db,
                                                        nb),
                    fn, "model is NULL");
        EXPECT_FAIL(NN_E_NULL, nn_model_get_layer_grads(f.m, l, NULL, nw, db,
                                                        nb),
                    fn, "dw is NULL");
        EXPECT_FAIL(NN_E_NULL, nn_model_get_layer_grads(f.m, l, dw, nw, NULL,
                                                        nb),
                    fn, "db is NULL");
        EXPECT_FAIL(NN_E_SHAPE, nn_model_get_layer_grads(f.m, l, dw, nw - 1,
                                                         db, nb),
                    fn, zu(sub, sizeof sub, "is %zu", nw - 1));
        EXPECT_FAIL(NN_E_SHAPE, nn_model_get_layer_grads(f.m, l, dw, nw + 1,
                                                         db, nb),
                    fn, zu(sub, sizeof sub, "is %zu", nw + 1));
        EXPECT_FAIL(NN_E_SHAPE, nn_model_get_layer_grads(f.m, l, dw, nw, db,
                                                         nb + 1),
                    fn, zu(sub, sizeof sub, "is %zu", nb + 1));
        EXPECT_FAIL(NN_E_SHAPE, nn_model_get_layer_grads(f.m, l, dw, nw, db,
                                                         0),
                    fn, "is 0");
    }
    EXPECT_FAIL(NN_E_INVALID, nn_model_get_layer_grads(f.m, 2, dw, 15, db, 3),
                fn, "layer is 2", "2 layers");
    assert_all_equal(dw, BUF, SENTINEL, "dw");
    assert_all_equal(db, BUF, SENTINEL, "db");
    ASSERT_UNCHANGED(&f);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

/* nn.h: the message names "the argument"; with two counts in one call it
 * must say which one (dw_count or db_count) is wrong. */
static void get_layer_grads_message_names_dw_count_or_db_count(void **state)
{
    static const char fn[] = "nn_model_get_layer_grads";
    fixture f;
    float dw[BUF], db[BUF];
    (void)state;
    fixture_init(&f, &BASE);
    EXPECT_FAIL(NN_E_SHAPE, nn_model_get_layer_grads(f.m, 0, dw, 19, db, 5),
                fn, "dw_count is 19", "20");
    EXPECT_FAIL(NN_E_SHAPE, nn_model_get_layer_grads(f.m, 0, dw, 20, db, 4),
                fn, "db_count is 4", "5");
    ASSERT_UNCHANGED(&f);
    fixture_fini(&f);
}

static void apply_grads_rejects_a_null_model_and_a_model_without_layers(
    void **state)
{
    fixture f;
    (void)state;
    EXPECT_FAIL(NN_E_NULL, nn_model_apply_grads(NULL),
                "nn_model_apply_grads", "model is NULL");
    fixture_init(&f, &EMPTY);
    EXPECT_FAIL(NN_E_STATE, nn_model_apply_grads(f.m),
                "nn_model_apply_grads", "layers");
    ASSERT_UNCHANGED(&f);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

/* Writes v at index i of the gradient buffers of both models. */
static void set_grad_both(fixture *f, size_t i, float v)
{
    size_t na = 0, nb = 0;
    float *ga = nn_model_grads(f->m, &na), *gb = nn_model_grads(f->twin, &nb);
    assert_true(i < na && na == nb);
    ga[i] = v;
    gb[i] = v;
    free_snapshot(&f->snap);
    take_snapshot(f->m, &f->snap);
}

static void apply_grads_rejects_non_finite_gradients_and_results(
    void **state)
{
    const float bad[] = {NAN, INFINITY, -INFINITY};
    fixture f;
    size_t n = 0, i, v;
    (void)state;
    fixture_init(&f, &BASE);
    assert_non_null(nn_model_params(f.m, &n));
    for (v = 0; v < COUNT(bad); v++) {
        const size_t pos[] = {0, n / 2, n - 1};
        for (i = 0; i < COUNT(pos); i++) {
            float old = nn_model_grads(f.m, NULL)[pos[i]];
            set_grad_both(&f, pos[i], bad[v]);
            EXPECT_FAIL(NN_E_NONFINITE, nn_model_apply_grads(f.m),
                        "nn_model_apply_grads");
            ASSERT_UNCHANGED(&f);
            set_grad_both(&f, pos[i], old);
        }
    }
    /* Finite gradients whose update overflows. */
    fixture_set_lr(&f, 1e6);
    set_grad_both(&f, n - 1, FLT_MAX);
    EXPECT_FAIL(NN_E_NONFINITE, nn_model_apply_grads(f.m),
                "nn_model_apply_grads");
    ASSERT_UNCHANGED(&f);
    fixture_set_lr(&f, 0.01);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

/* ======================================================================
 * Every setting: documented bounds and defaults, rejected values
 * ====================================================================== */

typedef struct doc_param {
    nn_param key;
    double lo, hi, def;
} doc_param;

/* The bounds and defaults nn.h documents, key by key. */
static const doc_param DOC_PARAMS[] = {
    {NN_PARAM_LEARNING_RATE, 0.0, 1e6, 0.01},
    {NN_PARAM_MOMENTUM, 0.0, 0.9999, 0.0},
    {NN_PARAM_NESTEROV, 0.0, 1.0, 0.0},
    {NN_PARAM_WEIGHT_DECAY, 0.0, 1e3, 0.0},
    {NN_PARAM_BETA1, 0.0, 0.9999, 0.9},
    {NN_PARAM_BETA2, 0.0, 0.999999, 0.999},
    {NN_PARAM_EPSILON, 1e-30, 1.0, 1e-8},
    {NN_PARAM_RMSPROP_ALPHA, 0.0, 0.999999, 0.99},
    {NN_PARAM_CLIP_NORM, 0.0, 1e30, 0.0},
    {NN_PARAM_SCHED_STEP_SIZE, 1.0, 1e15, 1000.0},
    {NN_PARAM_SCHED_GAMMA, 0.0, 1.0, 0.1},
    {NN_PARAM_SCHED_T_MAX, 1.0, 1e15, 1000.0},
    {NN_PARAM_SCHED_ETA_MIN, 0.0, 1e6, 0.0},
    {NN_PARAM_WARMUP_STEPS, 0.0, 1e15, 0.0},
    {NN_PARAM_EPOCHS, 1.0, 1e9, 10.0},
    {NN_PARAM_BATCH_SIZE, 1.0, 1e9, 32.0},
    {NN_PARAM_SHUFFLE, 0.0, 1.0, 1.0},
    {NN_PARAM_PATIENCE, 0.0, 1e9, 0.0},
    {NN_PARAM_CLIP_VALUE, 0.0, 1e30, 0.0},
    {NN_PARAM_AMSGRAD, 0.0, 1.0, 0.0},
    {NN_PARAM_CENTERED, 0.0, 1.0, 0.0},
    {NN_PARAM_DAMPENING, 0.0, 1.0, 0.0},
    {NN_PARAM_HUBER_DELTA, 1e-12, 1e30, 1.0},
    {NN_PARAM_LABEL_SMOOTHING, 0.0, 1.0, 0.0},
};

static void param_bounds_and_defaults_match_the_header(void **state)
{
    nn_model *m = NULL;
    size_t i;
    (void)state;
    assert_int_equal(COUNT(DOC_PARAMS), N_PARAMS);
    assert_int_equal(nn_model_create(&m, 2, SEED), NN_OK);
    for (i = 0; i < COUNT(DOC_PARAMS); i++) {
        const doc_param *d = &DOC_PARAMS[i];
        double lo = -7, hi = -7, def = -7, got = -7;
        assert_int_equal(nn_param_bounds(d->key, &lo, &hi, &def), NN_OK);
        if (lo != d->lo || hi != d->hi || def != d->def) {
            print_error("key %d: bounds [%g, %g] default %g, nn.h says "
                        "[%g, %g] default %g\n", (int)d->key, lo, hi, def,
                        d->lo, d->hi, d->def);
            fail();
        }
        assert_int_equal(nn_model_get_param(m, d->key, &got), NN_OK);
        assert_true(got == d->def);
    }
    nn_model_free(m);
}

/* Below lo, above hi, NaN and infinities, for every key: NN_E_INVALID and
 * every setting unchanged. */
static void set_param_rejects_out_of_range_values_of_every_key(void **state)
{
    fixture f;
    char key_s[32];
    size_t i, v;
    (void)state;
    fixture_init(&f, &BASE);
    for (i = 0; i < COUNT(DOC_PARAMS); i++) {
        const doc_param *d = &DOC_PARAMS[i];
        const double bad[] = {nextafter(d->lo, -INFINITY), d->lo - 1.0,
                              -1e300, nextafter(d->hi, INFINITY),
                              d->hi * 2.0 + 1.0, NAN, INFINITY, -INFINITY};
        snprintf(key_s, sizeof key_s, "key %d", (int)d->key);
        for (v = 0; v < COUNT(bad); v++) {
            double before, after;
            assert_int_equal(nn_model_get_param(f.m, d->key, &before), NN_OK);
            EXPECT_FAIL(NN_E_INVALID, nn_model_set_param(f.m, d->key, bad[v]),
                        "nn_model_set_param", "value", key_s);
            assert_int_equal(nn_model_get_param(f.m, d->key, &after), NN_OK);
            assert_memory_equal(&before, &after, sizeof before);
            ASSERT_UNCHANGED(&f);
        }
    }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

/* nn.h: "values other than 0 and 1 are rejected". */
static void set_param_rejects_nesterov_other_than_zero_or_one(void **state)
{
    const double bad[] = {0.5, 1e-300, nextafter(1.0, 0.0)};
    fixture f;
    size_t v;
    (void)state;
    fixture_init(&f, &BASE);
    for (v = 0; v < COUNT(bad); v++) {
        EXPECT_FAIL(NN_E_INVALID,
                    nn_model_set_param(f.m, NN_PARAM_NESTEROV, bad[v]),
                    "nn_model_set_param", "value");
        ASSERT_UNCHANGED(&f);
    }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void set_param_accepts_both_closed_bounds_of_every_key(void **state)
{
    fixture f;
    size_t i;
    double got;
    (void)state;
    fixture_init(&f, &BASE);
    for (i = 0; i < COUNT(DOC_PARAMS); i++) {
        const doc_param *d = &DOC_PARAMS[i];
        double before;
        assert_int_equal(nn_model_get_param(f.m, d->key, &before), NN_OK);
        fixture_set_param(&f, d->key, d->lo);
        assert_int_equal(nn_model_get_param(f.m, d->key, &got), NN_OK);
        assert_true(got == d->lo);
        fixture_set_param(&f, d->key, d->hi);
        assert_int_equal(nn_model_get_param(f.m, d->key, &got), NN_OK);
        assert_true(got == d->hi);
        fixture_set_param(&f, d->key, before);
    }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

/* ======================================================================
 * Optimizer and schedule
 * ====================================================================== */

static const int BAD_OPTIMIZERS[] = {0, -1, NN_OPT_RMSPROP + 1, 1000,
                                     INT_MAX, INT_MIN};
static const int BAD_SCHEDULES[] = {0, -1, NN_SCHED_COSINE + 1, 1000,
                                    INT_MAX, INT_MIN};

/* A failed nn_model_set_optimizer must not reset the optimizer's state or
 * the step count (the fixture's Adam has taken steps). */
static void set_optimizer_rejects_a_null_model_and_unknown_kinds(
    void **state)
{
    fixture f;
    char sub[64];
    size_t i;
    (void)state;
    EXPECT_FAIL(NN_E_NULL, nn_model_set_optimizer(NULL, NN_OPT_SGD),
                "nn_model_set_optimizer", "model is NULL");
    fixture_init(&f, &BASE);
    assert_true(nn_model_step_count(f.m) > 0);
    for (i = 0; i < COUNT(BAD_OPTIMIZERS); i++) {
        snprintf(sub, sizeof sub, "kind is %d", BAD_OPTIMIZERS[i]);
        EXPECT_FAIL(NN_E_INVALID,
                    nn_model_set_optimizer(f.m,
                                           (nn_optimizer)BAD_OPTIMIZERS[i]),
                    "nn_model_set_optimizer", sub);
        ASSERT_UNCHANGED(&f);
    }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void set_schedule_rejects_a_null_model_and_unknown_kinds(void **state)
{
    fixture f;
    char sub[64];
    size_t i;
    double base, now;
    (void)state;
    EXPECT_FAIL(NN_E_NULL, nn_model_set_schedule(NULL, NN_SCHED_CONSTANT),
                "nn_model_set_schedule", "model is NULL");
    fixture_init(&f, &BASE);
    /* The fixture's exponential schedule has moved the rate. */
    assert_int_equal(nn_model_get_param(f.m, NN_PARAM_LEARNING_RATE, &base),
                     NN_OK);
    assert_int_equal(nn_model_current_lr(f.m, &now), NN_OK);
    assert_true(now < base);
    for (i = 0; i < COUNT(BAD_SCHEDULES); i++) {
        snprintf(sub, sizeof sub, "kind is %d", BAD_SCHEDULES[i]);
        EXPECT_FAIL(NN_E_INVALID,
                    nn_model_set_schedule(f.m, (nn_schedule)BAD_SCHEDULES[i]),
                    "nn_model_set_schedule", sub);
        ASSERT_UNCHANGED(&f);
    }
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void current_lr_rejects_null_pointers_and_step_count_of_null_is_zero(
    void **state)
{
    fixture f;
    double lr = -7.0;
    (void)state;
    assert_int_equal(nn_model_step_count(NULL), 0);
    EXPECT_FAIL(NN_E_NULL, nn_model_current_lr(NULL, &lr),
                "nn_model_current_lr", "model is NULL");
    assert_true(lr == -7.0);
    fixture_init(&f, &BASE);
    EXPECT_FAIL(NN_E_NULL, nn_model_current_lr(f.m, NULL),
                "nn_model_current_lr", "lr is NULL");
    ASSERT_UNCHANGED(&f);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

static void set_blas_threads_rejects_more_than_1024(void **state)
{
    char sub[64];
    (void)state;
    EXPECT_FAIL(NN_E_INVALID, nn_set_blas_threads(1025),
                "nn_set_blas_threads", "1025");
    EXPECT_FAIL(NN_E_INVALID, nn_set_blas_threads((size_t)-1),
                "nn_set_blas_threads",
                zu(sub, sizeof sub, "%zu", (size_t)-1));
}

/* ======================================================================
 * Datasets
 * ====================================================================== */

static void data_free_of_null_is_a_no_op_and_has_no_rows(void **state)
{
    (void)state;
    nn_data_free(NULL);
    assert_int_equal(nn_data_rows(NULL), 0);
}

static void data_create_rejects_bad_arguments(void **state)
{
    static const char fn[] = "nn_data_create";
    float x[BUF], t[BUF];
    nn_data *d = NULL;
    (void)state;
    make_batch(4, 3, x, t, NULL);
    EXPECT_FAIL(NN_E_NULL, nn_data_create(NULL, BATCH, x, 4, t, 3), fn,
                "out is NULL");
    EXPECT_FAIL(NN_E_NULL, nn_data_create(&d, BATCH, NULL, 4, t, 3), fn,
                "x is NULL");
    EXPECT_FAIL(NN_E_NULL, nn_data_create(&d, BATCH, x, 4, NULL, 3), fn,
                "t is NULL");
    EXPECT_FAIL(NN_E_INVALID, nn_data_create(&d, 0, x, 4, t, 3), fn,
                "n is 0");
    EXPECT_FAIL(NN_E_INVALID, nn_data_create(&d, BATCH, x, 0, t, 3), fn,
                "x_width is 0");
    EXPECT_FAIL(NN_E_INVALID, nn_data_create(&d, BATCH, x, 4, t, 0), fn,
                "t_width is 0");
    assert_null(d);
}

static void data_create_labels_rejects_bad_arguments(void **state)
{
    static const char fn[] = "nn_data_create_labels";
    static const int32_t bad[] = {-1, -1000, INT32_MIN};
    float x[BUF], t[BUF];
    int32_t labels[BATCH];
    char sub[64];
    nn_data *d = NULL;
    size_t i, pos;
    (void)state;
    make_batch(4, 3, x, t, labels);
    EXPECT_FAIL(NN_E_NULL, nn_data_create_labels(NULL, BATCH, x, 4, labels),
                fn, "out is NULL");
    EXPECT_FAIL(NN_E_NULL, nn_data_create_labels(&d, BATCH, NULL, 4, labels),
                fn, "x is NULL");
    EXPECT_FAIL(NN_E_NULL, nn_data_create_labels(&d, BATCH, x, 4, NULL), fn,
                "labels is NULL");
    EXPECT_FAIL(NN_E_INVALID, nn_data_create_labels(&d, 0, x, 4, labels), fn,
                "n is 0");
    EXPECT_FAIL(NN_E_INVALID, nn_data_create_labels(&d, BATCH, x, 0, labels),
                fn, "x_width is 0");
    for (i = 0; i < COUNT(bad); i++)
        for (pos = 0; pos < BATCH; pos++) {
            make_batch(4, 3, x, t, labels);
            labels[pos] = bad[i];
            snprintf(sub, sizeof sub, "labels[%zu] is %ld", pos,
                     (long)bad[i]);
            EXPECT_FAIL(NN_E_INVALID,
                        nn_data_create_labels(&d, BATCH, x, 4, labels), fn,
                        sub);
        }
    assert_null(d);
}

/* Huge n with one-element dummies: refused before any label is read. */
static void data_create_rejects_n_times_width_overflowing_size_t(
    void **state)
{
    const size_t max = (size_t)-1;
    float x[1] = {0.5f}, t[1] = {1.0f};
    int32_t labels[1] = {0};
    nn_data *d = NULL;
    char sub[64];
    (void)state;
    zu(sub, sizeof sub, "%zu", max / 4 + 1);
    EXPECT_FAIL(NN_E_OVERFLOW, nn_data_create(&d, max / 4 + 1, x, 4, t, 1),
                "nn_data_create", sub);
    EXPECT_FAIL(NN_E_OVERFLOW, nn_data_create(&d, max / 4 + 1, x, 1, t, 4),
                "nn_data_create", sub);
    EXPECT_FAIL(NN_E_OVERFLOW,
                nn_data_create_labels(&d, max / 4 + 1, x, 4, labels),
                "nn_data_create_labels", sub);
    zu(sub, sizeof sub, "%zu", max);
    EXPECT_FAIL(NN_E_OVERFLOW, nn_data_create(&d, max, x, 2, t, 1),
                "nn_data_create", sub);
    EXPECT_FAIL(NN_E_OVERFLOW, nn_data_create_labels(&d, max, x, 2, labels),
                "nn_data_create_labels", sub);
    assert_null(d);
}

/* n * width floats fit in size_t but their size in bytes does not, so no
 * such array can exist. nn.h: NN_E_OVERFLOW is "a size (n * width, a buffer
 * size) overflows size_t", and creating a dataset checks "n x width
 * overflow". */
static void data_create_rejects_arrays_whose_byte_size_overflows_size_t(
    void **state)
{
    const size_t n = (size_t)-1 / 4 + 1; /* n floats are 2^64 bytes */
    float x[1] = {0.5f}, t[1] = {1.0f};
    nn_data *d = NULL;
    const char *const subs[] = {"nn_data_create"};
    nn_status st;
    (void)state;
    poison_last_error("nn_data_create");
    st = nn_data_create(&d, n, x, 1, t, 1);
    if (st == NN_OK)
        nn_data_free(d);
    check_failure(st, NN_E_OVERFLOW, subs, 1, "n floats of x", __FILE__,
                  __LINE__);
}

/* ======================================================================
 * nn_model_fit, nn_model_evaluate
 * ====================================================================== */

static size_t g_callbacks;

static int count_epoch(void *user, size_t epoch, double train_loss,
                       double val_loss, double val_accuracy, double seconds)
{
    (void)user; (void)epoch; (void)train_loss; (void)val_loss;
    (void)val_accuracy; (void)seconds;
    g_callbacks++;
    return 0;
}

static int count_batch(void *user, size_t epoch, size_t batch,
                       size_t batches, double loss)
{
    (void)user; (void)epoch; (void)batch; (void)batches; (void)loss;
    g_callbacks++;
    return 0;
}

/* Datasets for BASE (4 inputs, 3 outputs); views of the arrays below. */
typedef struct datasets {
    float x[BUF], t[BUF];
    int32_t labels[BATCH], bad_labels[BATCH];
    nn_data *ok, *ok_labels, *x_width_3, *t_width_2, *label_3;
} datasets;

static void datasets_init(datasets *s)
{
    memset(s, 0, sizeof *s);
    make_batch(4, 3, s->x, s->t, s->labels);
    memcpy(s->bad_labels, s->labels, sizeof s->labels);
    s->bad_labels[1] = 3;
    assert_int_equal(nn_data_create(&s->ok, BATCH, s->x, 4, s->t, 3), NN_OK);
    assert_int_equal(nn_data_create_labels(&s->ok_labels, BATCH, s->x, 4,
                                           s->labels),
                     NN_OK);
    assert_int_equal(nn_data_create(&s->x_width_3, BATCH, s->x, 3, s->t, 3),
                     NN_OK);
    assert_int_equal(nn_data_create(&s->t_width_2, BATCH, s->x, 4, s->t, 2),
                     NN_OK);
    assert_int_equal(nn_data_create_labels(&s->label_3, BATCH, s->x, 4,
                                           s->bad_labels),
                     NN_OK);
}

static void datasets_fini(datasets *s)
{
    nn_data_free(s->ok);
    nn_data_free(s->ok_labels);
    nn_data_free(s->x_width_3);
    nn_data_free(s->t_width_2);
    nn_data_free(s->label_3);
}

#define FIT(m, train, val) \
    nn_model_fit((m), (train), (val), count_epoch, count_batch, NULL)

static void fit_rejects_null_pointers_bad_widths_and_bad_labels(void **state)
{
    static const char fn[] = "nn_model_fit";
    fixture f;
    datasets s;
    (void)state;
    datasets_init(&s);
    fixture_init(&f, &BASE);
    g_callbacks = 0;
    EXPECT_FAIL(NN_E_NULL, FIT(NULL, s.ok, NULL), fn, "model is NULL");
    EXPECT_FAIL(NN_E_NULL, FIT(f.m, NULL, NULL), fn, "train is NULL");
    EXPECT_FAIL(NN_E_NULL, FIT(f.m, NULL, s.ok), fn, "train is NULL");
    EXPECT_FAIL(NN_E_SHAPE, FIT(f.m, s.x_width_3, NULL), fn, "train",
                "x_width is 3", "input width is 4");
    EXPECT_FAIL(NN_E_SHAPE, FIT(f.m, s.t_width_2, NULL), fn, "train",
                "t_width is 2", "output width is 3");
    EXPECT_FAIL(NN_E_SHAPE, FIT(f.m, s.ok, s.x_width_3), fn, "val",
                "x_width is 3", "input width is 4");
    EXPECT_FAIL(NN_E_SHAPE, FIT(f.m, s.ok, s.t_width_2), fn, "val",
                "t_width is 2", "output width is 3");
    EXPECT_FAIL(NN_E_INVALID, FIT(f.m, s.label_3, NULL), fn, "train",
                "labels[1] is 3");
    EXPECT_FAIL(NN_E_INVALID, FIT(f.m, s.ok_labels, s.label_3), fn, "val",
                "labels[1] is 3");
    assert_int_equal(g_callbacks, 0);
    ASSERT_UNCHANGED(&f);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
    datasets_fini(&s);
}

static void fit_on_a_model_that_cannot_train_is_a_state_error(void **state)
{
    static const char fn[] = "nn_model_fit";
    static const spec bce_tanh = {4, 2, {5, 3}, {NN_ACT_TANH, NN_ACT_TANH},
                                  NN_LOSS_BCE};
    static const spec mse = {4, 2, {5, 3}, {NN_ACT_TANH, NN_ACT_SOFTMAX},
                             NN_LOSS_MSE};
    struct {
        const spec *s;
        int labels;
        const char *sub;
    } cases[5];
    fixture f;
    datasets s;
    size_t i;
    (void)state;
    cases[0].s = &EMPTY;    cases[0].labels = 0; cases[0].sub = "layers";
    cases[1].s = &NO_LOSS;  cases[1].labels = 0; cases[1].sub = "loss";
    cases[2].s = &bce_tanh; cases[2].labels = 0; cases[2].sub = "tanh";
    cases[3].s = &mse;      cases[3].labels = 1; cases[3].sub = "labels";
    cases[4].s = &NO_LOSS;  cases[4].labels = 1; cases[4].sub = "loss";
    datasets_init(&s);
    g_callbacks = 0;
    for (i = 0; i < COUNT(cases); i++) {
        nn_data *d = cases[i].labels ? s.ok_labels : s.ok;
        fixture_init(&f, cases[i].s);
        EXPECT_FAIL(NN_E_STATE, FIT(f.m, d, NULL), fn, cases[i].sub);
        ASSERT_UNCHANGED(&f);
        ASSERT_STILL_WORKS(&f);
        fixture_fini(&f);
    }
    assert_int_equal(g_callbacks, 0);
    datasets_fini(&s);
}

/* nn.h: a failing step stops fit, which keeps the parameters of the last
 * good step: here the first step fails, so nothing is trained. */
static void fit_stops_at_a_non_finite_step_keeping_the_last_good_parameters(
    void **state)
{
    fixture f;
    float x[BUF], t[BUF];
    nn_data *d = NULL;
    (void)state;
    make_batch(4, 3, x, t, NULL);
    fill(x, BATCH * 4, NAN);
    assert_int_equal(nn_data_create(&d, BATCH, x, 4, t, 3), NN_OK);
    fixture_init(&f, &BASE);
    EXPECT_FAIL(NN_E_NONFINITE, nn_model_fit(f.m, d, NULL, NULL, NULL, NULL),
                "nn_model_fit");
    ASSERT_PARAMS_UNCHANGED(&f);
    /* The twin makes the same call, so both generators agree again. */
    EXPECT_FAIL(NN_E_NONFINITE,
                nn_model_fit(f.twin, d, NULL, NULL, NULL, NULL),
                "nn_model_fit");
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
    nn_data_free(d);
}

static void evaluate_rejects_bad_arguments_and_models_that_cannot_evaluate(
    void **state)
{
    static const char fn[] = "nn_model_evaluate";
    fixture f;
    datasets s;
    double loss = -7.0, acc = -7.0;
    (void)state;
    datasets_init(&s);
    fixture_init(&f, &BASE);
    EXPECT_FAIL(NN_E_NULL, nn_model_evaluate(NULL, s.ok, &loss, &acc), fn,
                "model is NULL");
    EXPECT_FAIL(NN_E_NULL, nn_model_evaluate(f.m, NULL, &loss, &acc), fn,
                "data is NULL");
    EXPECT_FAIL(NN_E_SHAPE, nn_model_evaluate(f.m, s.x_width_3, &loss, &acc),
                fn, "x_width is 3", "input width is 4");
    EXPECT_FAIL(NN_E_SHAPE, nn_model_evaluate(f.m, s.t_width_2, &loss, &acc),
                fn, "t_width is 2", "output width is 3");
    EXPECT_FAIL(NN_E_INVALID, nn_model_evaluate(f.m, s.label_3, &loss, &acc),
                fn, "labels[1] is 3");
    assert_true(loss == -7.0 && acc == -7.0);
    ASSERT_UNCHANGED(&f);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);

    fixture_init(&f, &EMPTY);
    EXPECT_FAIL(NN_E_STATE, nn_model_evaluate(f.m, s.ok, &loss, &acc), fn,
                "layers");
    ASSERT_UNCHANGED(&f);
    fixture_fini(&f);
    fixture_init(&f, &NO_LOSS);
    EXPECT_FAIL(NN_E_STATE, nn_model_evaluate(f.m, s.ok, &loss, &acc), fn,
                "loss");
    EXPECT_FAIL(NN_E_STATE, nn_model_evaluate(f.m, s.ok_labels, NULL, NULL),
                fn, "loss");
    assert_true(loss == -7.0 && acc == -7.0);
    ASSERT_UNCHANGED(&f);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
    datasets_fini(&s);
}

/* ======================================================================
 * main
 * ====================================================================== */

/* nn.h: every float * and int32_t * argument must be aligned for its type;
 * a misaligned one is NN_E_INVALID naming it, with nothing read through it
 * and nothing changed, rather than undefined behaviour in the kernels. */
static void misaligned_arrays_are_refused_by_every_call(void **state)
{
    static float room[64];
    static int32_t lroom[16];
    float *bad = (float *)(void *)((char *)room + 1);
    const int32_t *lbad = (const int32_t *)(const void *)((char *)lroom + 2);
    float ok[64];
    int32_t labels[4] = {0, 1, 0, 1};
    nn_data *d = (nn_data *)room;
    fixture f;
    (void)state;
    fixture_init(&f, &BASE);
    memset(ok, 0, sizeof ok);
    EXPECT_FAIL(NN_E_INVALID, nn_model_predict(f.m, 2, bad, 4, ok, 3),
                "nn_model_predict", "x is not aligned");
    EXPECT_FAIL(NN_E_INVALID, nn_model_predict(f.m, 2, ok, 4, bad, 3),
                "nn_model_predict", "y is not aligned");
    EXPECT_FAIL(NN_E_INVALID,
                nn_model_train_batch(f.m, 2, bad, 4, ok, 3, NULL),
                "nn_model_train_batch", "x is not aligned");
    EXPECT_FAIL(NN_E_INVALID,
                nn_model_train_batch(f.m, 2, ok, 4, bad, 3, NULL),
                "nn_model_train_batch", "t is not aligned");
    EXPECT_FAIL(NN_E_INVALID,
                nn_model_train_batch_labels(f.m, 2, ok, 4, lbad, NULL),
                "nn_model_train_batch_labels", "labels is not aligned");
    EXPECT_FAIL(NN_E_INVALID,
                nn_model_compute_grads(f.m, 2, bad, 4, ok, 3, NULL),
                "nn_model_compute_grads", "x is not aligned");
    EXPECT_FAIL(NN_E_INVALID, nn_data_create(&d, 2, ok, 4, bad, 3),
                "nn_data_create", "t is not aligned");
    assert_null(d);
    EXPECT_FAIL(NN_E_INVALID, nn_data_create_labels(&d, 2, bad, 4, labels),
                "nn_data_create_labels", "x is not aligned");
    EXPECT_FAIL(NN_E_INVALID, nn_model_set_weights(f.m, 0, bad, 20),
                "nn_model_set_weights", "w is not aligned");
    EXPECT_FAIL(NN_E_INVALID, nn_model_get_weights(f.m, 0, bad, 20),
                "nn_model_get_weights", "w is not aligned");
    EXPECT_FAIL(NN_E_INVALID, nn_model_set_bias(f.m, 1, bad, 3),
                "nn_model_set_bias", "b is not aligned");
    EXPECT_FAIL(NN_E_INVALID,
                nn_model_get_layer_grads(f.m, 0, bad, 20, ok, 5),
                "nn_model_get_layer_grads", "dw is not aligned");
    EXPECT_FAIL(NN_E_INVALID, nn_model_set_class_weights(f.m, bad, 3),
                "nn_model_set_class_weights", "w is not aligned");
    ASSERT_UNCHANGED(&f);
    ASSERT_STILL_WORKS(&f);
    fixture_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            status_string_is_distinct_and_non_empty_for_every_status),
        cmocka_unit_test(status_string_of_an_unknown_status_is_unknown_status),
        cmocka_unit_test(version_number_and_string_match_the_header_macros),
        cmocka_unit_test(model_free_of_null_is_a_no_op),
        cmocka_unit_test(shape_getters_return_zero_for_a_null_model),
        cmocka_unit_test(
            shape_getters_return_zero_for_empty_models_and_bad_layers),
        cmocka_unit_test(successful_calls_leave_the_last_error_unchanged),

        cmocka_unit_test(create_rejects_a_null_out),
        cmocka_unit_test(create_rejects_input_width_zero_and_sets_out_to_null),
        cmocka_unit_test(set_allocator_rejects_exactly_one_null_function),

        cmocka_unit_test(add_dense_rejects_a_null_model),
        cmocka_unit_test(add_dense_rejects_width_zero),
        cmocka_unit_test(add_dense_rejects_out_of_range_activations),
        cmocka_unit_test(add_dense_after_a_softmax_layer_is_a_state_error),
        cmocka_unit_test(set_loss_rejects_a_null_model),
        cmocka_unit_test(set_loss_rejects_out_of_range_losses),

        cmocka_unit_test(set_param_rejects_a_null_model),
        cmocka_unit_test(set_param_rejects_out_of_range_keys),
        cmocka_unit_test(
            set_param_rejects_out_of_range_and_nan_learning_rates),
        cmocka_unit_test(set_param_accepts_both_closed_bounds),
        cmocka_unit_test(get_param_rejects_null_pointers_and_unknown_keys),
        cmocka_unit_test(param_bounds_reject_unknown_keys_and_write_nothing),
        cmocka_unit_test(
            set_layer_param_rejects_a_null_model_and_out_of_range_layers),
        cmocka_unit_test(set_layer_param_rejects_out_of_range_keys),
        cmocka_unit_test(
            set_layer_param_rejects_out_of_range_and_nan_slopes),
        cmocka_unit_test(
            get_layer_param_rejects_null_pointers_bad_layers_and_keys),

        cmocka_unit_test(predict_rejects_null_pointers),
        cmocka_unit_test(predict_rejects_zero_rows),
        cmocka_unit_test(predict_rejects_mismatched_x_width),
        cmocka_unit_test(predict_rejects_mismatched_y_width),
        cmocka_unit_test(predict_rejects_n_times_width_overflowing_size_t),
        cmocka_unit_test(predict_on_a_model_without_layers_is_a_state_error),

        cmocka_unit_test(train_rejects_null_pointers),
        cmocka_unit_test(train_names_t_when_t_is_null_whatever_t_width),
        cmocka_unit_test(train_rejects_zero_rows),
        cmocka_unit_test(train_rejects_mismatched_x_width),
        cmocka_unit_test(train_rejects_mismatched_t_width),
        cmocka_unit_test(train_rejects_n_times_width_overflowing_size_t),
        cmocka_unit_test(train_without_layers_is_a_state_error),
        cmocka_unit_test(train_without_a_loss_is_a_state_error),
        cmocka_unit_test(
            train_rejects_a_loss_that_does_not_fit_the_output_activation),
        cmocka_unit_test(
            bce_after_tanh_and_cross_entropy_after_sigmoid_fail_at_training),
        cmocka_unit_test(
            loss_fit_is_checked_when_training_starts_not_when_set),
        cmocka_unit_test(a_change_after_a_step_is_checked_by_the_next_step),
        cmocka_unit_test(
            nonfinite_training_step_leaves_weights_and_bias_unchanged),
        cmocka_unit_test(
            train_batch_nonfinite_step_keeps_params_and_exposes_gradients),

        cmocka_unit_test(
            train_labels_rejects_null_pointers_zero_rows_and_bad_x_width),
        cmocka_unit_test(
            train_labels_with_a_non_cross_entropy_loss_is_a_state_error),
        cmocka_unit_test(train_labels_rejects_labels_outside_the_outputs),
        cmocka_unit_test(train_labels_without_layers_or_loss_is_a_state_error),

        cmocka_unit_test(weights_and_bias_accessors_reject_null_pointers),
        cmocka_unit_test(
            weights_and_bias_accessors_reject_out_of_range_layers),
        cmocka_unit_test(weights_and_bias_accessors_reject_wrong_counts),
        cmocka_unit_test(set_weights_and_set_bias_reject_non_finite_values),
        cmocka_unit_test(get_layer_grads_rejects_bad_arguments),
        cmocka_unit_test(get_layer_grads_message_names_dw_count_or_db_count),
        cmocka_unit_test(
            apply_grads_rejects_a_null_model_and_a_model_without_layers),
        cmocka_unit_test(apply_grads_rejects_non_finite_gradients_and_results),

        cmocka_unit_test(param_bounds_and_defaults_match_the_header),
        cmocka_unit_test(set_param_rejects_out_of_range_values_of_every_key),
        cmocka_unit_test(set_param_rejects_nesterov_other_than_zero_or_one),
        cmocka_unit_test(set_param_accepts_both_closed_bounds_of_every_key),
        cmocka_unit_test(set_optimizer_rejects_a_null_model_and_unknown_kinds),
        cmocka_unit_test(set_schedule_rejects_a_null_model_and_unknown_kinds),
        cmocka_unit_test(
            current_lr_rejects_null_pointers_and_step_count_of_null_is_zero),
        cmocka_unit_test(set_blas_threads_rejects_more_than_1024),

        cmocka_unit_test(data_free_of_null_is_a_no_op_and_has_no_rows),
        cmocka_unit_test(data_create_rejects_bad_arguments),
        cmocka_unit_test(data_create_labels_rejects_bad_arguments),
        cmocka_unit_test(data_create_rejects_n_times_width_overflowing_size_t),
        cmocka_unit_test(
            data_create_rejects_arrays_whose_byte_size_overflows_size_t),
        cmocka_unit_test(fit_rejects_null_pointers_bad_widths_and_bad_labels),
        cmocka_unit_test(fit_on_a_model_that_cannot_train_is_a_state_error),
        cmocka_unit_test(misaligned_arrays_are_refused_by_every_call),
        cmocka_unit_test(
            fit_stops_at_a_non_finite_step_keeping_the_last_good_parameters),
        cmocka_unit_test(
            evaluate_rejects_bad_arguments_and_models_that_cannot_evaluate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
