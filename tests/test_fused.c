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
 * - where the checks cannot show every new weight finite (inputs, hidden
 *   activations, output or hidden deltas too large for the bound; an
 *   infinite input or weight), nothing is changed before
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

/* Which layers' weight products the bound rejects, as a bit mask, worked
 * out from the workspace of a compute_grads pass by the test's own scans:
 * bit l is set when n max|A_{l-1}| max|delta_l| max(1, lr) > 2^100. */
static unsigned beyond_the_bound(const nn_model *m, const float *x, double lr)
{
    size_t l, i;
    unsigned mask = 0;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        const float *a = l ? m->act[l - 1] : x;
        double amax = 0.0, gmax = 0.0;
        for (i = 0; i < ROWS * L->in; i++)
            amax = fabs(a[i]) > amax ? fabs(a[i]) : amax;
        for (i = 0; i < ROWS * L->out; i++)
            gmax = fabs(m->delta[l][i]) > gmax ? fabs(m->delta[l][i]) : gmax;
        if (ROWS * amax * gmax * (lr > 1.0 ? lr : 1.0) > ldexp(1.0, 100))
            mask |= 1u << l;
    }
    return mask;
}

/* The largest magnitudes of the hidden activations and of the deltas are
 * noted by the passes that write them (activation.c), not read again by
 * the check. Three nets, each set up so that one layer's product is
 * beyond the bound through a large block of that kind (the test's own
 * scan shows which layer), every value finite: the step must take the
 * separate update, exactly. `prepare` writes the parameters and batch. */
static void only_one_block_beyond_the_bound(
    nn_activation hidden, void (*prepare)(nn_model *, float *, float *),
    unsigned want_mask)
{
    nn_model *a = build(hidden, NN_ACT_IDENTITY, NN_LOSS_MSE);
    nn_model *b = build(hidden, NN_ACT_IDENTITY, NN_LOSS_MSE);
    float x[ROWS * N_IN], t[ROWS * N_OUT];
    size_t count, i;
    double la, lb;
    const float *pa, *pb;
    prepare(a, x, t);
    prepare(b, x, t);
    NN_OK_OR_FAIL(nn_model_compute_grads(b, ROWS, x, N_IN, t, N_OUT, &lb));
    assert_int_equal(beyond_the_bound(b, x, 0.01), want_mask);
    mark_weight_grads(a);
    NN_OK_OR_FAIL(nn_model_train_batch(a, ROWS, x, N_IN, t, N_OUT, &la));
    NN_OK_OR_FAIL(nn_model_apply_grads(b));
    assert_int_equal(marked_weight_grads(a), 0); /* dW was formed */
    pa = params_of(a, &count);
    pb = params_of(b, NULL);
    assert_memory_equal(pa, pb, count * sizeof *pa);
    for (i = 0; i < count; i++)
        assert_true(isfinite(pa[i]));
    nn_model_free(a);
    nn_model_free(b);
}

static void set_block(nn_model *m, size_t off, size_t count, float v)
{
    float *p = params_of(m, NULL) + off;
    size_t i;
    for (i = 0; i < count; i++)
        p[i] = v;
}

/* Relu units of about 1e33 (weights of 1e32 on inputs in [0.1, 1]), read
 * by output weights of 1e-33: outputs, deltas and inputs are all small. */
static void big_hidden_activations(nn_model *m, float *x, float *t)
{
    const nn__layer *L0 = &m->layers[0], *L1 = &m->layers[1];
    lcg_fill(x, ROWS * N_IN, 0.1f, 1.0f, 21u);
    lcg_fill(t, ROWS * N_OUT, -1.0f, 1.0f, 22u);
    set_block(m, L0->w_off, N_IN * N_HID, 1e32f);
    lcg_fill(params_of(m, NULL) + L1->w_off, N_HID * N_OUT, -1e-33f, 1e-33f,
             23u);
}

/* Targets of 1e17 make the output layer's delta about 1e15 (the loss,
 * about 1e34, stays a float), beside relu units of about 1e14: their
 * product is beyond the bound, while the first layer's is small. */
static void big_output_deltas(nn_model *m, float *x, float *t)
{
    lcg_fill(x, ROWS * N_IN, 0.1f, 1.0f, 24u);
    lcg_fill(t, ROWS * N_OUT, 0.5e17f, 1e17f, 25u);
    set_block(m, m->layers[0].w_off, N_IN * N_HID, 1e13f);
}

/* Hidden sigmoid units all at exactly 0.5 (first layer zero) and output
 * weights of +-2^102 by hidden unit, half of each sign: the outputs cancel
 * exactly (multiples of a power of two), so the output deltas are small,
 * but the first layer's delta, (delta . Wᵀ) f', is about 2^98. */
static void big_hidden_deltas(nn_model *m, float *x, float *t)
{
    const nn__layer *L0 = &m->layers[0], *L1 = &m->layers[1];
    size_t j;
    lcg_fill(x, ROWS * N_IN, 1.0f, 2.0f, 26u);
    lcg_fill(t, ROWS * N_OUT, 0.0f, 1.0f, 27u);
    set_block(m, L0->w_off, N_IN * N_HID, 0.0f);
    set_block(m, L0->b_off, N_HID, 0.0f);
    set_block(m, L1->b_off, N_OUT, 0.0f);
    for (j = 0; j < N_HID; j++)
        set_block(m, L1->w_off + j * N_OUT, N_OUT,
                  (j & 1 ? -1.0f : 1.0f) * ldexpf(1.0f, 102));
}

static void big_hidden_activations_take_the_separate_update(void **state)
{
    (void)state;
    only_one_block_beyond_the_bound(NN_ACT_RELU, big_hidden_activations,
                                    1u << 1);
}

static void big_output_deltas_take_the_separate_update(void **state)
{
    (void)state;
    only_one_block_beyond_the_bound(NN_ACT_RELU, big_output_deltas,
                                    1u << 1);
}

static void big_hidden_deltas_take_the_separate_update(void **state)
{
    (void)state;
    only_one_block_beyond_the_bound(NN_ACT_SIGMOID, big_hidden_deltas,
                                    1u << 0);
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
        cmocka_unit_test(big_hidden_activations_take_the_separate_update),
        cmocka_unit_test(big_output_deltas_take_the_separate_update),
        cmocka_unit_test(big_hidden_deltas_take_the_separate_update),
        cmocka_unit_test(an_infinite_input_rejects_the_step),
        cmocka_unit_test(an_infinite_weight_rejects_the_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
