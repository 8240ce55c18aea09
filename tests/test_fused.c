/* SPDX-License-Identifier: MIT */
/*
 * test_fused.c - SGD folded into the weights' products (optim.c,
 * nn__optim_fused) against the separate update.
 *
 * A training step with plain SGD on the general path adds -lr A_prevᵀ G to
 * each W inside the product and never stores dL/dW; with classical
 * momentum it adds damp A_prevᵀ G to the momentum buffer inside the
 * product, then moves W by -lr times the buffer. Here, on nets too wide
 * for the small-net path:
 * - it follows nn_model_compute_grads + nn_model_apply_grads (themselves
 *   checked against finite differences and the documented formulas by
 *   test_gradients and test_optim) to float rounding, step after step,
 *   while each step moves the weights by far more than that tolerance;
 *   and it really is the folded step: the gradient buffer's dL/dW stays
 *   as the test filled it;
 *   with momentum, the momentum buffers follow the separate update's too;
 * - Nesterov momentum, clipping and Adam keep the separate update: bit for
 *   bit;
 * - where the checks cannot show every new weight finite (inputs, hidden
 *   activations, output or hidden deltas too large for the bound; an
 *   infinite input or weight), nothing is changed before
 *   the general path decides: bit for bit the separate update, or
 *   NN_E_NONFINITE with every weight as it was;
 * - the bound on the weights that a folded step leaves for the next check
 *   stays above every weight, and every other write to the parameters
 *   (and handing out nn_model_params's pointer) makes the next check read
 *   them instead;
 * - with momentum, the bound on the momentum buffer likewise stays above
 *   every entry, and the optimizer's other writes and its reset end it.
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

/* With mixed, batch normalization, dropout and layer normalization stand
 * between the dense layers, which still fold; the normalizations' scales
 * and shifts take the optimizer's update beside them. */
static nn_model *build(nn_activation hidden, nn_activation out, nn_loss loss,
                       int mixed)
{
    nn_model *m = NULL;
    NN_OK_OR_FAIL(nn_model_create(&m, N_IN, 11));
    if (mixed)
        NN_OK_OR_FAIL(nn_model_add_layernorm(m));
    NN_OK_OR_FAIL(nn_model_add_dense(m, N_HID, hidden));
    if (mixed) {
        NN_OK_OR_FAIL(nn_model_add_batchnorm(m));
        NN_OK_OR_FAIL(nn_model_add_dropout(m, 0.25));
        NN_OK_OR_FAIL(nn_model_add_dense(m, N_HID, hidden));
    }
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

/* The dense layers' weights: the ones the product forms and folds. */
static size_t dense_weights(const nn_model *m, size_t l)
{
    return nn_model_layer_kind(m, l) == NN_KIND_DENSE ? m->layers[l].w_count
                                                      : 0;
}

/* Every dL/dW entry of m's gradient buffer set to SENTINEL. */
static void mark_weight_grads(nn_model *m)
{
    size_t l, i;
    float *g = nn_model_grads(m, NULL);
    for (l = 0; l < m->n_layers; l++)
        for (i = 0; i < dense_weights(m, l); i++)
            g[m->layers[l].w_off + i] = SENTINEL;
}

/* How many dL/dW entries still hold SENTINEL. */
static size_t marked_weight_grads(nn_model *m)
{
    size_t l, i, k = 0;
    const float *g = nn_model_grads(m, NULL);
    for (l = 0; l < m->n_layers; l++)
        for (i = 0; i < dense_weights(m, l); i++)
            k += g[m->layers[l].w_off + i] == SENTINEL;
    return k;
}

/* m's parameters copied out through nn_model_get_weights and
 * nn_model_get_bias, which (unlike nn_model_params) leave the bound on the
 * weights that the folded update keeps in use. */
static void copy_params(const nn_model *m, float *dst)
{
    size_t l;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        NN_OK_OR_FAIL(nn_model_get_weights(m, l, dst + L->w_off,
                                           L->w_count));
        NN_OK_OR_FAIL(nn_model_get_bias(m, l, dst + L->b_off, L->b_count));
    }
}

/* The largest |weight| (biases aside) in p, m's parameter layout. */
static double max_abs_weight(const nn_model *m, const float *p)
{
    size_t l, i;
    double top = 0.0;
    for (l = 0; l < m->n_layers; l++)
        for (i = 0; i < dense_weights(m, l); i++)
            if (fabs(p[m->layers[l].w_off + i]) > top)
                top = fabs(p[m->layers[l].w_off + i]);
    return top;
}

static size_t weight_count(const nn_model *m)
{
    size_t l, k = 0;
    for (l = 0; l < m->n_layers; l++)
        k += dense_weights(m, l);
    return k;
}

typedef struct run_cfg {
    const char *name;
    nn_activation hidden, out;
    nn_loss loss;
    int labels;
    double lr, wd, momentum, dampening, clip;
    int nesterov;
    nn_optimizer opt;
    nn_schedule sched;
    double warmup;
    int fused; /* whether train_batch must fold the update */
    int mixed; /* normalizations and dropout between the dense layers */
} run_cfg;

static void configure(nn_model *m, const run_cfg *c)
{
    NN_OK_OR_FAIL(nn_model_set_optimizer(m, c->opt));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, c->lr));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_WEIGHT_DECAY, c->wd));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_MOMENTUM, c->momentum));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_DAMPENING, c->dampening));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_NESTEROV, c->nesterov));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_CLIP_NORM, c->clip));
    NN_OK_OR_FAIL(nn_model_set_schedule(m, c->sched));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_WARMUP_STEPS, c->warmup));
    if (c->sched == NN_SCHED_COSINE)
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_SCHED_T_MAX, STEPS));
}

/* The largest difference of the momentum buffers of a and b (SGD's state
 * array 0) over the largest |b|: a norm-wise comparison, since an entry
 * may be the small difference of mu b and the new gradient. */
static double momentum_difference(const nn_model *a, const nn_model *b)
{
    size_t i, count = b->n_params;
    double top = 0.0, worst = 0.0;
    for (i = 0; i < count; i++) {
        double e = fabs((double)a->state[0][i] - b->state[0][i]);
        top = fabs(b->state[0][i]) > top ? fabs(b->state[0][i]) : top;
        worst = e > worst ? e : worst;
    }
    return worst / top;
}

/* a trains through train_batch, b through compute_grads + apply_grads, on
 * the same batches. Folded: a within tol of b at every step (and so are
 * the momentum buffers), and each step's largest change at least 100 tol.
 * Not folded: a equals b. */
static void run(const run_cfg *c)
{
    nn_model *a = build(c->hidden, c->out, c->loss, c->mixed);
    nn_model *b = build(c->hidden, c->out, c->loss, c->mixed);
    size_t count, i, s;
    const double tol = 2e-6; /* relative to max(|w|, 0.01) */
    double worst = 0.0, least_move = INFINITY, worst_b = 0.0;
    float *before, *pa;

    configure(a, c);
    configure(b, c);
    (void)params_of(b, &count); /* a is read through copies: see copy_params */
    before = (float *)malloc(count * sizeof *before);
    pa = (float *)malloc(count * sizeof *pa);
    assert_non_null(before);
    assert_non_null(pa);
    for (s = 0; s < STEPS; s++) {
        float x[ROWS * N_IN], t[ROWS * N_OUT];
        int32_t lab[ROWS];
        double la = 0.0, lb = 0.0, move = 0.0;
        const float *pb;
        lcg_fill(x, ROWS * N_IN, -1.0f, 1.0f, 100u + (uint32_t)s);
        lcg_fill(t, ROWS * N_OUT, 0.0f, 1.0f, 200u + (uint32_t)s);
        for (i = 0; i < ROWS; i++)
            lab[i] = (int32_t)((i * 7 + s) % N_OUT);
        if (s > 0) {
            /* The two paths round differently, and training amplifies the
             * difference step after step, by as much as the BLAS's
             * rounding and the layers let it (batch normalization: 0.9 x
             * tol after two steps, 3 x after twelve; BLIS's products on a
             * CPU where libnn's kernel leaves them to the BLAS: 1.4 x
             * after twelve): b starts each step from a's weights, so that
             * one step is compared at a time. */
            size_t l;
            copy_params(a, pa);
            for (l = 0; l < b->n_layers; l++) {
                const nn__layer *L = &b->layers[l];
                NN_OK_OR_FAIL(nn_model_set_weights(b, l, pa + L->w_off,
                                                   L->w_count));
                NN_OK_OR_FAIL(nn_model_set_bias(b, l, pa + L->b_off,
                                                L->b_count));
            }
            /* and with momentum from a's buffers */
            if (c->momentum > 0.0)
                memcpy(b->state[0], a->state[0],
                       count * sizeof *b->state[0]);
        }
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
        copy_params(a, pa);
        pb = params_of(b, NULL);
        /* folded: the next check may start from the bound it left */
        assert_int_equal(a->w_bound_ok, c->fused);
        if (c->fused)
            assert_true(max_abs_weight(a, pa) <= a->w_bound);
        if (!c->fused) {
            assert_memory_equal(pa, pb, count * sizeof *pa);
            if (c->momentum > 0.0)
                assert_memory_equal(a->state[0], b->state[0],
                                    count * sizeof *a->state[0]);
            continue;
        }
        if (c->momentum > 0.0) {
            double e = momentum_difference(a, b);
            worst_b = e > worst_b ? e : worst_b;
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
        print_message("  %-40s worst %.3g, smallest step %.3g, momentum "
                      "%.3g (x tol)\n",
                      c->name, worst / tol, least_move / tol, worst_b / tol);
        assert_true(worst <= tol);
        assert_true(worst_b <= tol);
        assert_true(least_move >= 100.0 * tol);
    }
    free(before);
    free(pa);
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

/* plain's net as a classifier: relu, softmax, cross-entropy on labels */
static run_cfg classifier(const char *name)
{
    run_cfg c = plain(name);
    c.hidden = NN_ACT_RELU;
    c.out = NN_ACT_SOFTMAX;
    c.loss = NN_LOSS_CROSS_ENTROPY;
    c.labels = 1;
    return c;
}

static void plain_sgd_folds_the_update_and_follows_the_separate_one(
    void **state)
{
    run_cfg c = plain("tanh/identity, MSE");
    (void)state;
    run(&c);
    c = classifier("relu/softmax, cross-entropy on labels");
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

/* Between dense layers that fold, normalizations and dropout: their
 * parameters take the update's own check and write, the dense ones still
 * fold, and the step follows the separate update. */
static void dense_layers_fold_among_other_kinds(void **state)
{
    run_cfg c = plain("ln, dense, bn, dropout, dense, dense: MSE");
    (void)state;
    c.mixed = 1;
    run(&c);
    c = classifier("the same, relu/softmax, labels, decay");
    c.mixed = 1;
    c.lr = 0.3;
    c.wd = 0.01;
    run(&c);
}

/* Classical momentum folds too: into the momentum buffer, with and
 * without weight decay (which takes a pass of its own before the product)
 * and dampening (from the second step on). */
static void momentum_folds_into_its_buffer(void **state)
{
    run_cfg c = plain("momentum 0.9");
    (void)state;
    c.momentum = 0.9;
    run(&c);
    c = classifier("momentum, decay, dampening, cosine, labels");
    c.lr = 0.2;
    c.momentum = 0.5;
    c.wd = 0.05;
    c.dampening = 0.3;
    c.sched = NN_SCHED_COSINE;
    run(&c);
    c = plain("momentum among other kinds, decay");
    c.mixed = 1;
    c.momentum = 0.9;
    c.wd = 0.01;
    run(&c);
}

static void nesterov_clipping_and_adam_keep_the_separate_update(void **state)
{
    run_cfg c = plain("Nesterov momentum");
    (void)state;
    c.momentum = 0.9;
    c.nesterov = 1;
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
    nn_model *a = build(NN_ACT_IDENTITY, NN_ACT_IDENTITY, NN_LOSS_MSE, 0);
    nn_model *b = build(NN_ACT_IDENTITY, NN_ACT_IDENTITY, NN_LOSS_MSE, 0);
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
    NN_OK_OR_FAIL(nn__optim_prepare("test", a, NULL));
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
    nn_model *a = build(hidden, NN_ACT_IDENTITY, NN_LOSS_MSE, 0);
    nn_model *b = build(hidden, NN_ACT_IDENTITY, NN_LOSS_MSE, 0);
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
    nn_model *m = build(NN_ACT_SIGMOID, NN_ACT_SIGMOID, NN_LOSS_MSE, 0);
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
    nn_model *m = build(NN_ACT_SIGMOID, NN_ACT_IDENTITY, NN_LOSS_MSE, 0);
    float x[ROWS * N_IN], t[ROWS * N_OUT];
    (void)state;
    lcg_fill(x, ROWS * N_IN, 0.1f, 1.0f, 7u);
    lcg_fill(t, ROWS * N_OUT, 0.0f, 1.0f, 8u);
    params_of(m, NULL)[m->layers[0].w_off + 5] = INFINITY;
    assert_step_rejected(m, x, t);
    assert_true(strstr(nn_last_error(), "not finite") != NULL);
    nn_model_free(m);
}

/* ---- the bound on the weights ----
 * After a folded step the next check starts from a bound on |W| worked out
 * by the update (optim.c) instead of reading the weights. */

/* One step of m on x, t; returns whether it folded its update (dL/dW
 * never formed). */
static int step_folds(nn_model *m, const float *x, const float *t)
{
    mark_weight_grads(m);
    NN_OK_OR_FAIL(nn_model_train_batch(m, ROWS, x, N_IN, t, N_OUT, NULL));
    return marked_weight_grads(m) == weight_count(m);
}

/* A momentum buffer entry of 2^127 (finite, beyond the 2^126 the folded
 * step's bound allows) on a weight from an input that is 0 in every row:
 * the separate update keeps the entry finite (0.9 x 2^127) and moves the
 * weight by lr times it, so the step must not fold, and must give exactly
 * what the separate update gives; a buffer back within the bound folds
 * again. */
static void a_momentum_buffer_beyond_the_bound_takes_the_separate_update(
    void **state)
{
    nn_model *a = build(NN_ACT_TANH, NN_ACT_IDENTITY, NN_LOSS_MSE, 0);
    nn_model *b = build(NN_ACT_TANH, NN_ACT_IDENTITY, NN_LOSS_MSE, 0);
    float x[ROWS * N_IN], t[ROWS * N_OUT];
    const size_t at = a->layers[0].w_off + 3 * N_HID + 5; /* W_0[3][5] */
    size_t i, count;
    double lb;
    (void)state;
    lcg_fill(x, ROWS * N_IN, -1.0f, 1.0f, 51u);
    lcg_fill(t, ROWS * N_OUT, 0.0f, 1.0f, 52u);
    for (i = 0; i < ROWS; i++)
        x[i * N_IN + 3] = 0.0f;
    NN_OK_OR_FAIL(nn_model_set_param(a, NN_PARAM_MOMENTUM, 0.9));
    NN_OK_OR_FAIL(nn_model_set_param(b, NN_PARAM_MOMENTUM, 0.9));
    assert_true(step_folds(a, x, t)); /* allocates the buffer */
    NN_OK_OR_FAIL(nn_model_compute_grads(b, ROWS, x, N_IN, t, N_OUT, &lb));
    NN_OK_OR_FAIL(nn_model_apply_grads(b));
    (void)params_of(b, &count);
    /* b: a's state, then the same step the separate way */
    copy_params(a, params_of(b, NULL));
    a->state[0][at] = ldexpf(1.0f, 127);
    a->b_bound_ok = 0; /* written here behind the update's back */
    memcpy(b->state[0], a->state[0], count * sizeof *b->state[0]);
    assert_false(step_folds(a, x, t));
    NN_OK_OR_FAIL(nn_model_compute_grads(b, ROWS, x, N_IN, t, N_OUT, &lb));
    NN_OK_OR_FAIL(nn_model_apply_grads(b));
    assert_memory_equal(a->state[0], b->state[0],
                        count * sizeof *a->state[0]);
    assert_memory_equal(params_of(a, NULL), params_of(b, NULL),
                        count * sizeof(float));
    assert_true(a->state[0][at] == 0.9f * ldexpf(1.0f, 127));
    a->state[0][at] = 0.0f;
    assert_true(step_folds(a, x, t));
    nn_model_free(a);
    nn_model_free(b);
}

/* Over steps that make the weights grow, every step folds, starts from
 * the bound, and the bound stays above every weight (the test's own scan
 * of a copy). */
static void the_weight_bound_covers_the_growing_weights(void **state)
{
    nn_model *m = build(NN_ACT_RELU, NN_ACT_IDENTITY, NN_LOSS_MSE, 0);
    float x[ROWS * N_IN], t[ROWS * N_OUT];
    float *p = (float *)malloc(m->n_params * sizeof *p);
    double first, top = 0.0, peak = 0.0;
    uint32_t s;
    (void)state;
    assert_non_null(p);
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.01));
    copy_params(m, p);
    first = max_abs_weight(m, p);
    for (s = 0; s < 200; s++) {
        lcg_fill(x, ROWS * N_IN, 0.0f, 1.0f, 300u + s);
        lcg_fill(t, ROWS * N_OUT, 50.0f, 100.0f, 700u + s);
        assert_true(step_folds(m, x, t));
        assert_true(m->w_bound_ok);
        copy_params(m, p);
        top = max_abs_weight(m, p);
        assert_true(top <= m->w_bound);
        if (top > peak)
            peak = top;
    }
    print_message("  weights grew from %.3g to %.3g (at most %.3g); bound "
                  "%.3g\n", first, top, peak, m->w_bound);
    /* The bound had to follow. The run swings (targets of 50 to 100), so
     * its last step depends on the BLAS's rounding: BLIS and OpenBLAS part
     * after about 30 steps. Its peak does not. */
    assert_true(peak >= 4.0 * first);
    free(p);
    nn_model_free(m);
}

/* A bound above 2^126 is not used: the check reads the weights, folds,
 * and leaves a bound worked out from what it read. */
static void a_bound_beyond_the_limit_reads_the_weights(void **state)
{
    nn_model *m = build(NN_ACT_TANH, NN_ACT_IDENTITY, NN_LOSS_MSE, 0);
    float x[ROWS * N_IN], t[ROWS * N_OUT];
    (void)state;
    lcg_fill(x, ROWS * N_IN, -1.0f, 1.0f, 31u);
    lcg_fill(t, ROWS * N_OUT, 0.0f, 1.0f, 32u);
    assert_true(step_folds(m, x, t));
    assert_true(m->w_bound_ok);
    m->w_bound = ldexp(1.0, 127);
    assert_true(step_folds(m, x, t));
    assert_true(m->w_bound_ok && m->w_bound < 10.0);
    nn_model_free(m);
}

/* The largest |B| of count entries of m's momentum buffer from off. */
static double max_abs_momentum(const nn_model *m, size_t off, size_t count)
{
    size_t i;
    double top = 0.0;
    for (i = off; i < off + count; i++)
        if (fabs(m->state[0][i]) > top)
            top = fabs(m->state[0][i]);
    return top;
}

/* With momentum, every step folds, starts from the bound on the momentum
 * buffer the last one left, and that bound stays above every entry of
 * the buffer. Inputs of at most 0.01 and targets of 5 to 10 make the
 * biases' entries, which the optimizer's own update writes, larger than
 * the weights' (which the products write): the bound has to cover both.
 * Then the same over a net with layer and batch normalization and
 * dropout, whose scales and shifts also take the optimizer's update. */
static void the_momentum_bound_covers_the_buffer(void **state)
{
    int mixed;
    (void)state;
    for (mixed = 0; mixed <= 1; mixed++) {
        nn_model *m = build(NN_ACT_TANH, NN_ACT_IDENTITY, NN_LOSS_MSE, mixed);
        float x[ROWS * N_IN], t[ROWS * N_OUT];
        double top = 0.0, bias_top = 0.0;
        uint32_t s;
        size_t l;
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.002));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.9));
        for (s = 0; s < 100; s++) {
            lcg_fill(x, ROWS * N_IN, 0.0f, 0.01f, 900u + s);
            lcg_fill(t, ROWS * N_OUT, 5.0f, 10.0f, 500u + s);
            assert_true(step_folds(m, x, t));
            assert_true(m->b_bound_ok);
            top = max_abs_momentum(m, 0, m->n_params);
            assert_true(top <= m->b_bound);
        }
        for (l = 0; l < m->n_layers; l++) {
            double v = max_abs_momentum(m, m->layers[l].b_off,
                                        m->layers[l].b_count);
            bias_top = v > bias_top ? v : bias_top;
        }
        print_message("  %s: largest |B| %.3g (biases %.3g), bound %.3g\n",
                      mixed ? "mixed" : "dense", top, bias_top, m->b_bound);
        assert_true(top > 0.0);
        if (!mixed) /* what the inputs were chosen for */
            assert_true(bias_top == top);
        nn_model_free(m);
    }
}

/* A momentum bound above 2^126 is not used: the check reads the buffer
 * (with the bound taken as it is, the new entries' bound would pass the
 * limit and the step could not fold), folds, and leaves a bound worked
 * out from what it read. */
static void a_momentum_bound_beyond_the_limit_reads_the_buffer(void **state)
{
    nn_model *m = build(NN_ACT_TANH, NN_ACT_IDENTITY, NN_LOSS_MSE, 0);
    float x[ROWS * N_IN], t[ROWS * N_OUT];
    (void)state;
    lcg_fill(x, ROWS * N_IN, -1.0f, 1.0f, 33u);
    lcg_fill(t, ROWS * N_OUT, 0.0f, 1.0f, 34u);
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.9));
    assert_true(step_folds(m, x, t));
    assert_true(m->b_bound_ok);
    m->b_bound = ldexp(1.0, 127);
    assert_true(step_folds(m, x, t));
    assert_true(m->b_bound_ok && m->b_bound < 10.0);
    nn_model_free(m);
}

/* The optimizer's other writes to the buffer, and its reset, end the
 * bound: a step of the separate update (Nesterov momentum) and
 * nn_model_set_optimizer (which frees the buffer: the next step reads the
 * new, zero one). A checkpoint holding an entry beyond the limit loads
 * into a model that reads its buffer, and does not fold. */
static void other_writes_make_the_check_read_the_buffer(void **state)
{
    nn_model *m = build(NN_ACT_TANH, NN_ACT_IDENTITY, NN_LOSS_MSE, 0);
    nn_model *m2 = NULL;
    float x[ROWS * N_IN], t[ROWS * N_OUT];
    const size_t at = m->layers[0].w_off + 3 * N_HID + 5; /* W_0[3][5] */
    size_t i, size = 0;
    unsigned char *file;
    (void)state;
    lcg_fill(x, ROWS * N_IN, -1.0f, 1.0f, 43u);
    lcg_fill(t, ROWS * N_OUT, 0.0f, 1.0f, 44u);
    for (i = 0; i < ROWS; i++)
        x[i * N_IN + 3] = 0.0f;
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.9));
    assert_true(step_folds(m, x, t));
    assert_true(m->b_bound_ok);

    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_NESTEROV, 1.0));
    assert_false(step_folds(m, x, t));
    assert_false(m->b_bound_ok);
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_NESTEROV, 0.0));
    assert_true(step_folds(m, x, t));
    assert_true(m->b_bound_ok);

    NN_OK_OR_FAIL(nn_model_set_optimizer(m, NN_OPT_SGD));
    assert_false(m->b_bound_ok);
    assert_true(step_folds(m, x, t));
    assert_true(m->b_bound_ok);

    m->state[0][at] = ldexpf(1.0f, 127); /* behind the update's back */
    NN_OK_OR_FAIL(nn_model_save_size(m, NN_SAVE_CHECKPOINT, &size));
    file = (unsigned char *)malloc(size);
    assert_non_null(file);
    NN_OK_OR_FAIL(
        nn_model_save_buffer(m, NN_SAVE_CHECKPOINT, file, size, NULL));
    NN_OK_OR_FAIL(nn_model_load_buffer(&m2, file, size));
    free(file);
    assert_false(m2->b_bound_ok);
    assert_false(step_folds(m2, x, t));
    assert_true(m2->state[0][at] == 0.9f * ldexpf(1.0f, 127));
    nn_model_free(m2);
    nn_model_free(m);
}

static int note_bound(void *user, size_t epoch, double train_loss,
                      double val_loss, double val_accuracy, double seconds)
{
    int *seen = (int *)user;
    (void)epoch, (void)train_loss, (void)val_loss, (void)val_accuracy;
    (void)seconds;
    *seen += 1;
    return 0;
}

/* Every other write to the parameters makes the next check read them
 * again. Input 3 is 0 in every row, so a weight of 2^127 from it (finite,
 * but beyond the folded update's bound of 2^126) changes no output and no
 * gradient: the separate update keeps it and succeeds, and the folded one
 * is refused only if the check reads the weights. A bias of 2^127 on a tanh
 * unit likewise (the unit is saturated). */
static void other_writes_make_the_check_read_the_weights(void **state)
{
    nn_model *m = build(NN_ACT_TANH, NN_ACT_IDENTITY, NN_LOSS_MSE, 0);
    nn_model *m2 = NULL;
    float x[ROWS * N_IN], t[ROWS * N_OUT], w[N_IN * N_HID], b[N_HID];
    const float big = ldexpf(1.0f, 127);
    const size_t at = 3 * N_HID + 5; /* W_0[3][5] */
    size_t i, size = 0;
    unsigned char *file;
    (void)state;
    lcg_fill(x, ROWS * N_IN, -1.0f, 1.0f, 41u);
    lcg_fill(t, ROWS * N_OUT, 0.0f, 1.0f, 42u);
    for (i = 0; i < ROWS; i++)
        x[i * N_IN + 3] = 0.0f;
    assert_true(step_folds(m, x, t));
    assert_true(m->w_bound_ok);

    /* nn_model_set_weights */
    NN_OK_OR_FAIL(nn_model_get_weights(m, 0, w, N_IN * N_HID));
    w[at] = big;
    NN_OK_OR_FAIL(nn_model_set_weights(m, 0, w, N_IN * N_HID));
    assert_false(m->w_bound_ok);
    assert_false(step_folds(m, x, t));
    NN_OK_OR_FAIL(nn_model_get_weights(m, 0, w, N_IN * N_HID));
    assert_true(w[at] == big); /* the separate update kept it */

    /* a model file holding it */
    NN_OK_OR_FAIL(nn_model_save_size(m, NN_SAVE_MODEL, &size));
    file = (unsigned char *)malloc(size);
    assert_non_null(file);
    NN_OK_OR_FAIL(nn_model_save_buffer(m, NN_SAVE_MODEL, file, size, NULL));
    NN_OK_OR_FAIL(nn_model_load_buffer(&m2, file, size));
    free(file);
    assert_false(step_folds(m2, x, t));
    nn_model_free(m2);

    /* back to 0.25: the separate update left no bound, the check reads the
     * weights and folds */
    w[at] = 0.25f;
    NN_OK_OR_FAIL(nn_model_set_weights(m, 0, w, N_IN * N_HID));
    assert_true(step_folds(m, x, t));
    assert_true(m->w_bound_ok);

    /* nn_model_set_bias */
    NN_OK_OR_FAIL(nn_model_get_bias(m, 0, b, N_HID));
    b[5] = big;
    NN_OK_OR_FAIL(nn_model_set_bias(m, 0, b, N_HID));
    assert_false(m->w_bound_ok);
    assert_false(step_folds(m, x, t));
    b[5] = 0.0f;
    NN_OK_OR_FAIL(nn_model_set_bias(m, 0, b, N_HID));
    assert_true(step_folds(m, x, t));
    assert_true(m->w_bound_ok);

    /* the separate update (Nesterov momentum) */
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.9));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_NESTEROV, 1.0));
    assert_false(step_folds(m, x, t));
    assert_false(m->w_bound_ok);
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_NESTEROV, 0.0));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.0));
    assert_true(step_folds(m, x, t));
    assert_true(m->w_bound_ok);

    /* nn_model_fit restoring the best epoch's weights */
    {
        nn_data *d = NULL;
        int epochs = 0;
        NN_OK_OR_FAIL(nn_data_create(&d, ROWS, x, N_IN, t, N_OUT));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_EPOCHS, 2.0));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_BATCH_SIZE, ROWS));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_PATIENCE, 5.0));
        NN_OK_OR_FAIL(nn_model_fit(m, d, NULL, note_bound, NULL, &epochs));
        assert_int_equal(epochs, 2);
        assert_false(m->w_bound_ok);
        nn_data_free(d);
    }
    assert_true(step_folds(m, x, t));
    assert_true(m->w_bound_ok);

    /* nn_model_params: writes through it are not seen, so the check reads
     * the weights at every step from then on */
    (void)params_of(m, NULL);
    assert_false(m->w_bound_ok);
    for (i = 0; i < 3; i++) {
        assert_true(step_folds(m, x, t));
        assert_false(m->w_bound_ok);
    }
    nn_model_free(m);
}

/* nn_model_add_dense replaces the parameter buffer, so pointers
 * nn_model_params returned before are invalid and the bound is kept
 * again. */
static void add_dense_ends_the_shared_buffer(void **state)
{
    nn_model *m = NULL;
    float x[ROWS * N_IN], t[ROWS * N_OUT];
    (void)state;
    lcg_fill(x, ROWS * N_IN, -1.0f, 1.0f, 51u);
    lcg_fill(t, ROWS * N_OUT, 0.0f, 1.0f, 52u);
    NN_OK_OR_FAIL(nn_model_create(&m, N_IN, 11));
    NN_OK_OR_FAIL(nn_model_add_dense(m, N_HID, NN_ACT_TANH));
    (void)params_of(m, NULL);
    assert_true(m->params_shared);
    NN_OK_OR_FAIL(nn_model_add_dense(m, N_OUT, NN_ACT_IDENTITY));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_MSE));
    assert_false(m->params_shared);
    assert_true(step_folds(m, x, t));
    assert_true(m->w_bound_ok);
    nn_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            plain_sgd_folds_the_update_and_follows_the_separate_one),
        cmocka_unit_test(dense_layers_fold_among_other_kinds),
        cmocka_unit_test(momentum_folds_into_its_buffer),
        cmocka_unit_test(nesterov_clipping_and_adam_keep_the_separate_update),
        cmocka_unit_test(values_beyond_the_bound_take_the_separate_update),
        cmocka_unit_test(big_hidden_activations_take_the_separate_update),
        cmocka_unit_test(big_output_deltas_take_the_separate_update),
        cmocka_unit_test(big_hidden_deltas_take_the_separate_update),
        cmocka_unit_test(an_infinite_input_rejects_the_step),
        cmocka_unit_test(an_infinite_weight_rejects_the_step),
        cmocka_unit_test(
            a_momentum_buffer_beyond_the_bound_takes_the_separate_update),
        cmocka_unit_test(the_weight_bound_covers_the_growing_weights),
        cmocka_unit_test(a_bound_beyond_the_limit_reads_the_weights),
        cmocka_unit_test(other_writes_make_the_check_read_the_weights),
        cmocka_unit_test(add_dense_ends_the_shared_buffer),
        cmocka_unit_test(the_momentum_bound_covers_the_buffer),
        cmocka_unit_test(a_momentum_bound_beyond_the_limit_reads_the_buffer),
        cmocka_unit_test(other_writes_make_the_check_read_the_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
