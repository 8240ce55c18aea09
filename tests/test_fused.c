/*
 * test_fused.c - plain SGD folded into the weights' products (optim.c,
 * nn__optim_fused) against the separate update.
 *
 * A training step with plain SGD on the general path adds -lr A_prevᵀ G to
 * each W inside the product and never stores dL/dW. Here, on nets too wide
 * for the small-net path:
 * - it follows nn_model_compute_grads + nn_model_apply_grads (themselves
 *   checked against finite differences and the documented formulas by
 *   test_gradients and test_optim) to float rounding, step after step,
 *   while each step moves the weights by far more than that tolerance;
 *   and it really is the folded step: the gradient buffer's dL/dW stays
 *   as the test filled it;
 * - momentum, clipping and Adam keep the separate update: bit for bit;
 * - where the checks cannot show every new weight finite (values too large
 *   for the bound, an infinite input or weight), nothing is changed before
 *   the general path decides: bit for bit the separate update, or
 *   NN_E_NONFINITE with every weight as it was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn.h"
#include "nn_internal.h" /* nn__optim_fused_ready, small_rows */
#include "nn_test.h"

enum { N_IN = 20, N_HID = 24, N_OUT = 5, ROWS = 16, STEPS = 12 };

#define SENTINEL 12345.0f

static nn_model *build(nn_activation hidden, nn_activation out, nn_loss loss)
{
    nn_model *m = NULL;
    NN_OK_OR_FAIL(nn_model_create(&m, N_IN, 11));
    NN_OK_OR_FAIL(nn_model_add_dense(m, N_HID, hidden));
    NN_OK_OR_FAIL(nn_model_add_dense(m, N_OUT, out));
    NN_OK_OR_FAIL(nn_model_set_loss(m, loss));
    /* 20*24 + 24*5 = 600 multiply-adds per row: never the small path */
    assert_int_equal(nn__small_rows(m), 0);
    return m;
}

static float *params_of(nn_model *m, size_t *count)
{
    return nn_model_params(m, count);
}

/* Every dL/dW entry of m's gradient buffer set to SENTINEL. */
static void mark_weight_grads(nn_model *m)
{
    size_t l, i;
    float *g = nn_model_grads(m, NULL);
    for (l = 0; l < m->n_layers; l++)
        for (i = 0; i < m->layers[l].in * m->layers[l].out; i++)
            g[m->layers[l].w_off + i] = SENTINEL;
}

/* How many dL/dW entries still hold SENTINEL. */
static size_t marked_weight_grads(nn_model *m)
{
    size_t l, i, k = 0;
    const float *g = nn_model_grads(m, NULL);
    for (l = 0; l < m->n_layers; l++)
        for (i = 0; i < m->layers[l].in * m->layers[l].out; i++)
            k += g[m->layers[l].w_off + i] == SENTINEL;
    return k;
}

static size_t weight_count(const nn_model *m)
{
    size_t l, k = 0;
    for (l = 0; l < m->n_layers; l++)
        k += m->layers[l].in * m->layers[l].out;
    return k;
}

typedef struct run_cfg {
    const char *name;
    nn_activation hidden, out;
    nn_loss loss;
    int labels;
    double lr, wd, momentum, clip;
    nn_optimizer opt;
    nn_schedule sched;
    double warmup;
    int fused; /* whether train_batch must fold the update */
} run_cfg;

static void configure(nn_model *m, const run_cfg *c)
{
    NN_OK_OR_FAIL(nn_model_set_optimizer(m, c->opt));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, c->lr));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_WEIGHT_DECAY, c->wd));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_MOMENTUM, c->momentum));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_CLIP_NORM, c->clip));
    NN_OK_OR_FAIL(nn_model_set_schedule(m, c->sched));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_WARMUP_STEPS, c->warmup));
    if (c->sched == NN_SCHED_COSINE)
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_SCHED_T_MAX, STEPS));
}

/* a trains through train_batch, b through compute_grads + apply_grads, on
 * the same batches. Folded: a within tol of b at every step, and each
 * step's largest change at least 100 tol. Not folded: a equals b. */
static void run(const run_cfg *c)
{
    nn_model *a = build(c->hidden, c->out, c->loss);
    nn_model *b = build(c->hidden, c->out, c->loss);
    size_t count, i, s;
    const double tol = 2e-6; /* relative to max(|w|, 0.01) */
    double worst = 0.0, least_move = INFINITY;
    float *before;

    configure(a, c);
    configure(b, c);
    (void)params_of(a, &count);
    before = (float *)malloc(count * sizeof *before);
    assert_non_null(before);
    for (s = 0; s < STEPS; s++) {
        float x[ROWS * N_IN], t[ROWS * N_OUT];
        int32_t lab[ROWS];
        double la = 0.0, lb = 0.0, move = 0.0;
        const float *pa, *pb;
        lcg_fill(x, ROWS * N_IN, -1.0f, 1.0f, 100u + (uint32_t)s);
        lcg_fill(t, ROWS * N_OUT, 0.0f, 1.0f, 200u + (uint32_t)s);
        for (i = 0; i < ROWS; i++)
            lab[i] = (int32_t)((i * 7 + s) % N_OUT);
        memcpy(before, params_of(b, NULL), count * sizeof *before);
        mark_weight_grads(a);
        if (c->labels) {
            NN_OK_OR_FAIL(nn_model_train_batch_labels(a, ROWS, x, N_IN, lab,
                                                      &la));
            NN_OK_OR_FAIL(nn_model_compute_grads_labels(b, ROWS, x, N_IN,
                                                        lab, &lb));
        } else {
            NN_OK_OR_FAIL(nn_model_train_batch(a, ROWS, x, N_IN, t, N_OUT,
                                               &la));
            NN_OK_OR_FAIL(nn_model_compute_grads(b, ROWS, x, N_IN, t, N_OUT,
                                                 &lb));
        }
        NN_OK_OR_FAIL(nn_model_apply_grads(b));
        assert_int_equal(nn_model_step_count(a), s + 1);
        assert_int_equal(nn_model_step_count(b), s + 1);
        /* the forward pass is the same code: the same loss */
        if (s == 0)
            assert_true(la == lb);
        else
            assert_rel_close("loss", la, lb, 1e-4);
        /* folded: dL/dW was never stored */
        assert_int_equal(marked_weight_grads(a),
                         c->fused ? weight_count(a) : 0);
        pa = params_of(a, NULL);
        pb = params_of(b, NULL);
        if (!c->fused) {
            assert_memory_equal(pa, pb, count * sizeof *pa);
            continue;
        }
        for (i = 0; i < count; i++) {
            double scale = fabs(pb[i]) > 0.01 ? fabs(pb[i]) : 0.01;
            double e = fabs((double)pa[i] - pb[i]) / scale;
            double d = fabs((double)pb[i] - before[i]) / scale;
            if (e > worst)
                worst = e;
            if (d > move)
                move = d;
        }
        if (move < least_move)
            least_move = move;
    }
    if (c->fused) {
        print_message("  %-40s worst %.3g, smallest step %.3g (x tol)\n",
                      c->name, worst / tol, least_move / tol);
        assert_true(worst <= tol);
        assert_true(least_move >= 100.0 * tol);
    }
    free(before);
    nn_model_free(a);
    nn_model_free(b);
}

static run_cfg plain(const char *name)
{
    run_cfg c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.hidden = NN_ACT_TANH;
    c.out = NN_ACT_IDENTITY;
    c.loss = NN_LOSS_MSE;
    c.lr = 0.1;
    c.opt = NN_OPT_SGD;
    c.sched = NN_SCHED_CONSTANT;
    c.fused = 1;
    return c;
}

static void plain_sgd_folds_the_update_and_follows_the_separate_one(
    void **state)
{
    run_cfg c = plain("tanh/identity, MSE");
    (void)state;
    run(&c);
    c = plain("relu/softmax, cross-entropy on labels");
    c.hidden = NN_ACT_RELU;
    c.out = NN_ACT_SOFTMAX;
    c.loss = NN_LOSS_CROSS_ENTROPY;
    c.labels = 1;
    c.lr = 0.5;
    run(&c);
    c = plain("sigmoid/sigmoid, BCE, decay, warm-up, cosine");
    c.hidden = NN_ACT_SIGMOID;
    c.out = NN_ACT_SIGMOID;
    c.loss = NN_LOSS_BCE;
    c.lr = 1.0;
    c.wd = 0.05;
    c.sched = NN_SCHED_COSINE;
    c.warmup = 3.0;
    run(&c);
}

static void momentum_clipping_and_adam_keep_the_separate_update(void **state)
{
    run_cfg c = plain("momentum");
    (void)state;
    c.momentum = 0.9;
    c.fused = 0;
    run(&c);
    c = plain("clipping");
    c.clip = 0.01;
    c.fused = 0;
    run(&c);
    c = plain("Adam");
    c.opt = NN_OPT_ADAM;
    c.lr = 0.01;
    c.fused = 0;
    run(&c);
}

/* Inputs of 1e16 with a learning rate of 1: every new weight is finite,
 * but n max|x| max|G| exceeds the bound that lets the step fold its
 * update, so it takes the separate one, exactly. */
static void values_beyond_the_bound_take_the_separate_update(void **state)
{
    nn_model *a = build(NN_ACT_IDENTITY, NN_ACT_IDENTITY, NN_LOSS_MSE);
    nn_model *b = build(NN_ACT_IDENTITY, NN_ACT_IDENTITY, NN_LOSS_MSE);
    float x[ROWS * N_IN], t[ROWS * N_OUT];
    size_t count, i;
    double la, lb;
    int changed = 0;
    const float *pa, *pb;
    (void)state;
    lcg_fill(x, ROWS * N_IN, 1e16f, 2e16f, 3u);
    lcg_fill(t, ROWS * N_OUT, -1.0f, 1.0f, 4u);
    NN_OK_OR_FAIL(nn_model_set_param(a, NN_PARAM_LEARNING_RATE, 1.0));
    NN_OK_OR_FAIL(nn_model_set_param(b, NN_PARAM_LEARNING_RATE, 1.0));
    /* the workspace after a forward and backward pass: not foldable */
    NN_OK_OR_FAIL(nn_model_compute_grads(a, ROWS, x, N_IN, t, N_OUT, &la));
    NN_OK_OR_FAIL(nn__optim_prepare("test", a));
    assert_int_equal(nn__optim_fused_ready(a, x, ROWS), 0);
    mark_weight_grads(a);
    NN_OK_OR_FAIL(nn_model_train_batch(a, ROWS, x, N_IN, t, N_OUT, &la));
    NN_OK_OR_FAIL(nn_model_compute_grads(b, ROWS, x, N_IN, t, N_OUT, &lb));
    NN_OK_OR_FAIL(nn_model_apply_grads(b));
    assert_int_equal(marked_weight_grads(a), 0);
    pa = params_of(a, &count);
    pb = params_of(b, NULL);
    assert_memory_equal(pa, pb, count * sizeof *pa);
    for (i = 0; i < count; i++) {
        assert_true(isfinite(pa[i]));
        changed += fabsf(pa[i]) > 1e20f; /* the step did happen */
    }
    assert_true(changed > 0);
    nn_model_free(a);
    nn_model_free(b);
}

/* Runs one step of m on x, which must fail with NN_E_NONFINITE and leave
 * every parameter and the step count as they were. */
static void assert_step_rejected(nn_model *m, const float *x, const float *t)
{
    size_t count;
    float *p = params_of(m, &count);
    float *snapshot = (float *)malloc(count * sizeof *snapshot);
    uint64_t steps = nn_model_step_count(m);
    double loss = 0.0;
    assert_non_null(snapshot);
    memcpy(snapshot, p, count * sizeof *p);
    assert_int_equal(nn_model_train_batch(m, ROWS, x, N_IN, t, N_OUT, &loss),
                     NN_E_NONFINITE);
    assert_true(isfinite(loss)); /* only the update could tell */
    assert_memory_equal(params_of(m, NULL), snapshot, count * sizeof *p);
    assert_int_equal(nn_model_step_count(m), steps);
    free(snapshot);
}

/* An infinite input saturates every sigmoid of the first layer, so the loss
 * is finite; but its weight gradient is inf * 0 = NaN. Folding that into
 * the weights would poison them: the step must be rejected whole. */
static void an_infinite_input_rejects_the_step(void **state)
{
    nn_model *m = build(NN_ACT_SIGMOID, NN_ACT_SIGMOID, NN_LOSS_MSE);
    float x[ROWS * N_IN], t[ROWS * N_OUT];
    (void)state;
    lcg_fill(x, ROWS * N_IN, -1.0f, 1.0f, 5u);
    lcg_fill(t, ROWS * N_OUT, 0.0f, 1.0f, 6u);
    NN_OK_OR_FAIL(nn_model_train_batch(m, ROWS, x, N_IN, t, N_OUT, NULL));
    x[3 * N_IN + 2] = INFINITY;
    assert_step_rejected(m, x, t);
    nn_model_free(m);
}

/* A weight set to infinity through nn_model_params, on an input that is
 * positive everywhere: its sigmoid unit saturates and the loss stays
 * finite, but the updated weight would be infinite. */
static void an_infinite_weight_rejects_the_step(void **state)
{
    nn_model *m = build(NN_ACT_SIGMOID, NN_ACT_IDENTITY, NN_LOSS_MSE);
    float x[ROWS * N_IN], t[ROWS * N_OUT];
    (void)state;
    lcg_fill(x, ROWS * N_IN, 0.1f, 1.0f, 7u);
    lcg_fill(t, ROWS * N_OUT, 0.0f, 1.0f, 8u);
    params_of(m, NULL)[m->layers[0].w_off + 5] = INFINITY;
    assert_step_rejected(m, x, t);
    assert_true(strstr(nn_last_error(), "not finite") != NULL);
    nn_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            plain_sgd_folds_the_update_and_follows_the_separate_one),
        cmocka_unit_test(momentum_clipping_and_adam_keep_the_separate_update),
        cmocka_unit_test(values_beyond_the_bound_take_the_separate_update),
        cmocka_unit_test(an_infinite_input_rejects_the_step),
        cmocka_unit_test(an_infinite_weight_rejects_the_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
