/* SPDX-License-Identifier: MIT */
/*
 * test_gradients.c - the gradients libnn computes (nn_model_compute_grads,
 * nn_model_compute_grads_labels) agree with central finite differences of
 * the loss, for every valid combination of hidden activation, output
 * activation, loss and kind of target.
 *
 * The reference is written here, independently of the library: a naive
 * forward pass and loss in double precision, straight from the definitions
 * in nn.h (the PyTorch means). The finite differences are taken in double on
 * the float weights the model holds, so they are accurate to about 1e-10
 * and the comparison measures the library's own (float) error.
 *
 * Net: 3 inputs -> 5 -> 4 -> 3 outputs, batch of 4 rows (of 1 in
 * test_gradients_row). Three outputs make
 * softmax and cross-entropy non-trivial; two hidden layers make every
 * hidden activation appear both after the input and after another hidden
 * layer, so the backward pass through hidden activations is exercised.
 *
 * A net this small trains through the direct loops of src/small.c; every
 * combination is checked twice, once that way and once with the small-net
 * path switched off (nn_model.small_rows = 0), through the matrix products
 * and whole-block kernels that larger nets use.
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
#include "nn_internal.h" /* small_rows: which path computes the gradients */
#include "nn_test.h"

/* ---- shape of the net ---- */
/* test_gradients_row builds this file with NN_TEST_BATCH=1: the small
 * path's sigmoid layers then take nn__sigmoid_chain (nn__chain_block), and
 * a sigmoid output under MSE gets dL/dA from the loss and its derivative
 * from small.c (tests/CMakeLists.txt). */
#ifndef NN_TEST_BATCH
#define NN_TEST_BATCH 4
#endif
enum { N_LAYERS = 3, BATCH = NN_TEST_BATCH, MAX_W = 5 };
static const size_t widths[N_LAYERS + 1] = {3, 5, 4, 3};
#define N_IN ((size_t)3)
#define N_OUT ((size_t)3)

/* ---- tolerances ---- */

/* Central-difference step, in double. The truncation error is
 * O(h^2 f''') ~ 1e-9 relative and the rounding error O(eps/h) ~ 1e-12, both
 * far below the tolerance. */
#define FD_STEP 1e-4

/* A library gradient component a passes against the reference b when
 *     |a - b| <= REL_TOL * max(|a|, |b|) + ABS_FLOOR.
 * REL_TOL: the library computes in float (eps ~ 6e-8); after a forward and a
 * backward pass through three layers its error is ~1e-7..1e-5 relative
 * (worst seen: 3e-5, on a component of ~1e-3), so 1e-3 leaves a wide margin
 * while still catching a wrong derivative (off by 0.5% or more; a missing
 * factor or a wrong branch is off by tens of percent).
 * ABS_FLOOR: a component that is a sum of terms of opposite sign can cancel
 * to nearly zero; its float rounding error is then set by the size of the
 * terms (~1e-1 here, giving ~1e-8 absolute), not by the tiny result, and a
 * pure relative test would fail on noise. 1e-5 is far above that noise but
 * far below the gradients checked: the guard below requires every layer's
 * dW to have a component of at least GUARD_LAYER_MIN = 10 * ABS_FLOOR, and
 * the whole gradient one of at least GUARD_MAX_MIN = 100 * ABS_FLOOR, so a
 * library returning (near) zero gradients cannot pass on the floor alone. */
#define REL_TOL 1e-3
#define ABS_FLOOR 1e-5
#define GUARD_LAYER_MIN 1e-4
#define GUARD_MAX_MIN 1e-3

/* The loss the library reports is accumulated in double from float
 * activations: relative error ~1e-7..1e-6. */
#define LOSS_REL_TOL 1e-5
#define LOSS_ABS_FLOOR 1e-8

/* Every relu / leaky relu pre-activation of the unperturbed batch is at
 * least this far from the kink at 0. One finite-difference step moves a
 * pre-activation by about FD_STEP * (sum of |inputs| or |weights| on the
 * path) < 1e-3 here, so a step cannot cross the kink; the perturbed passes
 * also check it explicitly (same sign pattern as the unperturbed pass). */
#define KINK_MARGIN 1e-2

/* Leaky relu slopes, distinct per layer so that a slope taken from the
 * wrong layer is caught; large enough (>= 0.1) that the negative branch
 * visibly contributes to the gradient. */
static const double leaky_slopes[N_LAYERS] = {0.1, 0.2, 0.3};

/* Uniform in [lo, hi). */
static double rng_uniform(test_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_unit(r);
}

static int32_t rng_below(test_rng *r, int32_t n)
{
    return (int32_t)(rng_next(r) % (uint64_t)n);
}

/* ---- what is being tested ---- */
typedef enum {
    TARGET_VALUES,   /* MSE: any reals; BCE: in [0, 1], including 0 and 1 */
    TARGET_ONE_HOT,  /* CE: one-hot probability rows */
    TARGET_SOFT,     /* CE: probability rows that are not one-hot */
    TARGET_LABELS    /* CE: integer class labels */
} target_kind;

typedef struct {
    nn_activation act[N_LAYERS]; /* two hidden layers and the output */
    nn_loss loss;
    target_kind targets;
    int general;                 /* 1: small-net path off */
} combo;

static const nn_activation hidden_acts[] = {
    NN_ACT_IDENTITY, NN_ACT_SIGMOID, NN_ACT_TANH, NN_ACT_RELU,
    NN_ACT_LEAKY_RELU};
#define N_HIDDEN_ACTS (sizeof hidden_acts / sizeof hidden_acts[0])

static const char *act_name(nn_activation act)
{
    switch (act) {
    case NN_ACT_IDENTITY: return "identity";
    case NN_ACT_SIGMOID: return "sigmoid";
    case NN_ACT_TANH: return "tanh";
    case NN_ACT_RELU: return "relu";
    case NN_ACT_LEAKY_RELU: return "leaky-relu";
    case NN_ACT_SOFTMAX: return "softmax";
    default: break; /* test_layers.c checks the other activations */
    }
    return "?";
}

static const char *loss_name(nn_loss loss)
{
    switch (loss) {
    case NN_LOSS_MSE: return "mse";
    case NN_LOSS_BCE: return "bce";
    case NN_LOSS_CROSS_ENTROPY: return "cross-entropy";
    default: break; /* test_layers.c checks the other losses */
    }
    return "?";
}

static const char *target_name(target_kind k)
{
    switch (k) {
    case TARGET_VALUES: return "values";
    case TARGET_ONE_HOT: return "one-hot rows";
    case TARGET_SOFT: return "soft probability rows";
    case TARGET_LABELS: return "class labels";
    }
    return "?";
}

static void describe(const combo *c, char *buf, size_t size)
{
    snprintf(buf, size, "hidden %s/%s, output %s, loss %s, targets %s, %s "
             "path", act_name(c->act[0]), act_name(c->act[1]),
             act_name(c->act[2]), loss_name(c->loss), target_name(c->targets),
             c->general ? "general" : "small-net");
}

static int has_kink(nn_activation act)
{
    return act == NN_ACT_RELU || act == NN_ACT_LEAKY_RELU;
}

/* ---- the reference: a naive forward pass and loss in double ---- */
typedef struct {
    nn_activation act[N_LAYERS];
    double slope[N_LAYERS];
    nn_loss loss;
    double w[N_LAYERS][MAX_W * MAX_W]; /* in x out, row-major, as nn.h */
    double b[N_LAYERS][MAX_W];
} ref_net;

/* Pre-activations of every layer for the batch. */
typedef struct {
    double z[N_LAYERS][BATCH * MAX_W];
} ref_trace;

static double sigmoid(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

static void activate(nn_activation act, double slope, const double *z,
                     double *a, size_t n, size_t k)
{
    size_t i, j;
    if (act == NN_ACT_SOFTMAX) {
        for (i = 0; i < n; i++) {
            double sum = 0.0;
            for (j = 0; j < k; j++)
                sum += exp(z[i * k + j]);
            for (j = 0; j < k; j++)
                a[i * k + j] = exp(z[i * k + j]) / sum;
        }
        return;
    }
    for (i = 0; i < n * k; i++) {
        double v = z[i];
        switch (act) {
        case NN_ACT_SIGMOID: a[i] = sigmoid(v); break;
        case NN_ACT_TANH: a[i] = tanh(v); break;
        case NN_ACT_RELU: a[i] = v > 0.0 ? v : 0.0; break;
        case NN_ACT_LEAKY_RELU: a[i] = v > 0.0 ? v : slope * v; break;
        default: a[i] = v; break; /* identity */
        }
    }
}

/* The batch loss of net on x (BATCH x N_IN) against dense targets t
 * (BATCH x N_OUT; class labels are passed as one-hot rows). Fills trace. */
static double ref_loss(const ref_net *net, const double *x, const double *t,
                       ref_trace *trace)
{
    double a_prev[BATCH * MAX_W], a[BATCH * MAX_W];
    size_t l, i, j, p;
    const size_t k = N_OUT, len = BATCH * N_OUT;
    const double *z_out = trace->z[N_LAYERS - 1];
    double sum = 0.0;

    memcpy(a_prev, x, BATCH * N_IN * sizeof(double));
    for (l = 0; l < N_LAYERS; l++) {
        size_t in = widths[l], out = widths[l + 1];
        double *z = trace->z[l];
        for (i = 0; i < BATCH; i++)
            for (j = 0; j < out; j++) {
                double acc = net->b[l][j];
                for (p = 0; p < in; p++)
                    acc += a_prev[i * in + p] * net->w[l][p * out + j];
                z[i * out + j] = acc;
            }
        activate(net->act[l], net->slope[l], z, a, BATCH, out);
        memcpy(a_prev, a, BATCH * out * sizeof(double));
    }
    /* a (and a_prev) now hold the output layer's activations. */

    switch (net->loss) {
    case NN_LOSS_MSE:
        /* mean over n*k of (y - t)^2 */
        for (i = 0; i < len; i++)
            sum += (a[i] - t[i]) * (a[i] - t[i]);
        return sum / (double)len;
    case NN_LOSS_BCE:
        /* mean over n*k of -[t log y + (1-t) log(1-y)], y = sigmoid(z);
         * for a sigmoid output y is the layer's output, for identity the
         * loss applies the sigmoid to the logits. Both are this. */
        for (i = 0; i < len; i++) {
            double y = sigmoid(z_out[i]);
            sum -= t[i] * log(y) + (1.0 - t[i]) * log(1.0 - y);
        }
        return sum / (double)len;
    case NN_LOSS_CROSS_ENTROPY:
        /* mean over rows of -sum_j t_j log softmax(z)_j */
        activate(NN_ACT_SOFTMAX, 0.0, z_out, a, BATCH, k);
        for (i = 0; i < BATCH; i++)
            for (j = 0; j < k; j++)
                sum -= t[i * k + j] * log(a[i * k + j]);
        return sum / (double)BATCH;
    default: /* test_layers.c checks the other losses */
        break;
    }
    return NAN;
}

/* 1 if every relu / leaky relu pre-activation of b has the sign it has in a. */
static int same_kink_sides(const ref_net *net, const ref_trace *a,
                           const ref_trace *b)
{
    size_t l, i;
    for (l = 0; l < N_LAYERS; l++) {
        if (!has_kink(net->act[l]))
            continue;
        for (i = 0; i < BATCH * widths[l + 1]; i++)
            if ((a->z[l][i] > 0.0) != (b->z[l][i] > 0.0))
                return 0;
    }
    return 1;
}

/* 1 if every relu / leaky relu layer keeps KINK_MARGIN away from its kink
 * and has pre-activations on both sides of it (so both branches of the
 * derivative, and the leaky slope, are exercised). */
static int kinks_well_placed(const ref_net *net, const ref_trace *tr)
{
    size_t l, i;
    for (l = 0; l < N_LAYERS; l++) {
        int pos = 0, neg = 0;
        if (!has_kink(net->act[l]))
            continue;
        for (i = 0; i < BATCH * widths[l + 1]; i++) {
            double z = tr->z[l][i];
            if (fabs(z) < KINK_MARGIN)
                return 0;
            if (z > 0.0)
                pos = 1;
            else
                neg = 1;
        }
        if (!pos || !neg)
            return 0;
    }
    return 1;
}

/* ---- one combination ---- */

/* Draws the targets of kind c->targets: floats for the library (t) or
 * labels, and the same values in double for the reference (td). */
static void draw_targets(const combo *c, test_rng *r, float *t,
                         int32_t *labels, double *td)
{
    size_t i, j;
    const size_t k = N_OUT;
    nn_activation out = c->act[N_LAYERS - 1];

    for (i = 0; i < BATCH; i++) {
        int32_t label = rng_below(r, (int32_t)k);
        labels[i] = label;
        for (j = 0; j < k; j++) {
            size_t e = i * k + j;
            double v;
            switch (c->targets) {
            case TARGET_VALUES:
                if (c->loss == NN_LOSS_BCE)
                    /* exact 0s and 1s as well as values in between */
                    v = e % 4 == 0 ? 0.0 : e % 4 == 1 ? 1.0
                                                      : rng_uniform(r, 0, 1);
                else if (out == NN_ACT_SIGMOID || out == NN_ACT_SOFTMAX ||
                         out == NN_ACT_RELU)
                    v = rng_uniform(r, 0.0, 1.0);
                else
                    v = rng_uniform(r, -1.0, 1.0);
                break;
            case TARGET_SOFT:
                /* positive weights, normalised below; row 1 has a zero */
                v = i == 1 && j == (size_t)label ? 0.0
                                                 : rng_uniform(r, 0.05, 1.0);
                break;
            default: /* one-hot rows and labels */
                v = j == (size_t)label ? 1.0 : 0.0;
                break;
            }
            t[e] = (float)v;
        }
        if (c->targets == TARGET_SOFT) {
            double s = 0.0;
            for (j = 0; j < k; j++)
                s += t[i * k + j];
            for (j = 0; j < k; j++)
                t[i * k + j] = (float)(t[i * k + j] / s);
        }
    }
    /* The reference sees exactly the floats the library sees. */
    for (i = 0; i < BATCH * k; i++)
        td[i] = t[i];
}

typedef struct {
    double worst_ratio; /* max over components of |a-b| / allowed */
    double worst_rel;   /* |a-b| / max(|a|,|b|) at that component */
    double lib, ref;
    size_t layer, index;
    int is_bias;
} comparison;

static void compare(comparison *cmp, size_t layer, size_t index, int is_bias,
                    double lib, double ref)
{
    double diff = fabs(lib - ref);
    double big = fmax(fabs(lib), fabs(ref));
    double ratio = diff / (REL_TOL * big + ABS_FLOOR);
    if (ratio > cmp->worst_ratio) {
        cmp->worst_ratio = ratio;
        cmp->worst_rel = big > 0.0 ? diff / big : 0.0;
        cmp->lib = lib;
        cmp->ref = ref;
        cmp->layer = layer;
        cmp->index = index;
        cmp->is_bias = is_bias;
    }
}

/* Central difference of the reference loss with respect to *param. */
static double central_difference(ref_net *net, double *param, const double *x,
                                 const double *t, const ref_trace *base,
                                 int *kink_crossed)
{
    ref_trace tr;
    double saved = *param, up, down;
    *param = saved + FD_STEP;
    up = ref_loss(net, x, t, &tr);
    if (!same_kink_sides(net, base, &tr))
        *kink_crossed = 1;
    *param = saved - FD_STEP;
    down = ref_loss(net, x, t, &tr);
    if (!same_kink_sides(net, base, &tr))
        *kink_crossed = 1;
    *param = saved;
    return (up - down) / (2.0 * FD_STEP);
}

/* Checks one combination; returns the number of problems found (0 or more),
 * after printing each. */
static int check_combo(const combo *c, uint64_t seed)
{
    char name[160];
    nn_model *m = NULL;
    test_rng r = {seed};
    ref_net net;
    ref_trace base;
    float wf[N_LAYERS][MAX_W * MAX_W], bf[N_LAYERS][MAX_W];
    float xf[BATCH * N_IN], tf[BATCH * N_OUT];
    float dw[N_LAYERS][MAX_W * MAX_W], db[N_LAYERS][MAX_W];
    int32_t labels[BATCH];
    double x[BATCH * N_IN], t[BATCH * N_OUT];
    double lib_loss = NAN, loss, max_grad = 0.0;
    comparison cmp;
    size_t l, i;
    int attempt, kink_crossed = 0, problems = 0;
    nn_status st;

    describe(c, name, sizeof name);
    memset(&net, 0, sizeof net);
    memset(&cmp, 0, sizeof cmp);

    assert_int_equal(nn_model_create(&m, N_IN, 1), NN_OK);
    for (l = 0; l < N_LAYERS; l++) {
        assert_int_equal(nn_model_add_dense(m, widths[l + 1], c->act[l]),
                         NN_OK);
        assert_int_equal(nn_model_set_layer_param(m, l, NN_LAYER_LEAKY_SLOPE,
                                                  leaky_slopes[l]),
                         NN_OK);
        /* The slope as the model stores it (a float), so the reference
         * differentiates exactly the function the library computes. */
        assert_int_equal(nn_model_get_layer_param(m, l, NN_LAYER_LEAKY_SLOPE,
                                                  &net.slope[l]),
                         NN_OK);
        net.act[l] = c->act[l];
    }
    assert_int_equal(nn_model_set_loss(m, c->loss), NN_OK);
    net.loss = c->loss;

    /* Draw weights, nonzero biases and inputs until every relu / leaky relu
     * pre-activation is clear of the kink (and both sides are used). */
    for (attempt = 0; attempt < 10000; attempt++) {
        for (l = 0; l < N_LAYERS; l++) {
            size_t in = widths[l], out = widths[l + 1];
            double scale = 1.5 / sqrt((double)in);
            for (i = 0; i < in * out; i++) {
                wf[l][i] = (float)rng_uniform(&r, -scale, scale);
                net.w[l][i] = wf[l][i];
            }
            for (i = 0; i < out; i++) {
                /* |b| in [0.1, 0.5): clearly nonzero, so db is checked on
                 * a bias that matters */
                double mag = rng_uniform(&r, 0.1, 0.5);
                bf[l][i] = (float)(rng_next(&r) & 1 ? mag : -mag);
                net.b[l][i] = bf[l][i];
            }
        }
        for (i = 0; i < BATCH * N_IN; i++) {
            xf[i] = (float)rng_uniform(&r, -1.0, 1.0);
            x[i] = xf[i];
        }
        for (i = 0; i < BATCH * N_OUT; i++)
            t[i] = 0.0; /* targets do not affect pre-activations */
        (void)ref_loss(&net, x, t, &base);
        if (kinks_well_placed(&net, &base))
            break;
    }
    assert_true(attempt < 10000);

    for (l = 0; l < N_LAYERS; l++) {
        size_t in = widths[l], out = widths[l + 1];
        assert_int_equal(nn_model_set_weights(m, l, wf[l], in * out), NN_OK);
        assert_int_equal(nn_model_set_bias(m, l, bf[l], out), NN_OK);
    }
    draw_targets(c, &r, tf, labels, t);

    /* The workspace decides the path; the small-net path must be the one
     * the library picks for this net, and is switched off for the
     * general one. */
    assert_int_equal(nn__workspace_reserve("test", m, BATCH), NN_OK);
    assert_true(BATCH <= m->small_rows);
    if (c->general)
        m->small_rows = 0;

    if (c->targets == TARGET_LABELS)
        st = nn_model_compute_grads_labels(m, BATCH, xf, N_IN, labels,
                                           &lib_loss);
    else
        st = nn_model_compute_grads(m, BATCH, xf, N_IN, tf, N_OUT, &lib_loss);
    if (st != NN_OK) {
        print_message("%s: compute_grads returned %d (%s)\n", name, (int)st,
                      nn_last_error());
        nn_model_free(m);
        return 1;
    }

    /* The loss value. */
    loss = ref_loss(&net, x, t, &base);
    if (!(fabs(lib_loss - loss) <=
          LOSS_REL_TOL * fabs(loss) + LOSS_ABS_FLOOR)) {
        print_message("%s: loss is %.9g, the double reference gives %.9g "
                      "(relative error %.3g)\n",
                      name, lib_loss, loss, fabs(lib_loss - loss) / fabs(loss));
        problems++;
    }

    /* Every component of dW and db against its central difference. */
    for (l = 0; l < N_LAYERS; l++) {
        size_t in = widths[l], out = widths[l + 1];
        double layer_max = 0.0;
        assert_int_equal(nn_model_get_layer_grads(m, l, dw[l], in * out,
                                                  db[l], out),
                         NN_OK);
        for (i = 0; i < in * out; i++) {
            double fd = central_difference(&net, &net.w[l][i], x, t, &base,
                                           &kink_crossed);
            compare(&cmp, l, i, 0, dw[l][i], fd);
            layer_max = fmax(layer_max, fabs((double)dw[l][i]));
        }
        for (i = 0; i < out; i++) {
            double fd = central_difference(&net, &net.b[l][i], x, t, &base,
                                           &kink_crossed);
            compare(&cmp, l, i, 1, db[l][i], fd);
            max_grad = fmax(max_grad, fabs((double)db[l][i]));
        }
        max_grad = fmax(max_grad, layer_max);
        /* Guard: no layer's dW may be trivially (near) zero, else the
         * comparison above would pass on a library that drops it. */
        if (!(layer_max >= GUARD_LAYER_MIN)) {
            print_message("%s: largest |dW| of layer %zu is %.3g, below "
                          "%.3g: the check would be vacuous\n",
                          name, l, layer_max, GUARD_LAYER_MIN);
            problems++;
        }
    }
    if (!(max_grad >= GUARD_MAX_MIN)) {
        print_message("%s: largest gradient component is %.3g, below %.3g: "
                      "the check would be vacuous\n",
                      name, max_grad, GUARD_MAX_MIN);
        problems++;
    }
    if (kink_crossed) {
        print_message("%s: a finite-difference step crossed a relu kink; "
                      "the reference is invalid (raise KINK_MARGIN)\n", name);
        problems++;
    }
    if (!(cmp.worst_ratio <= 1.0)) {
        print_message("%s: worst relative error %.3g at layer %zu %s[%zu]: "
                      "library %.9g, finite difference %.9g (allowed "
                      "|a-b| <= %g*max(|a|,|b|) + %g)\n",
                      name, cmp.worst_rel, cmp.layer,
                      cmp.is_bias ? "db" : "dW", cmp.index, cmp.lib, cmp.ref,
                      REL_TOL, ABS_FLOOR);
        problems++;
    }
    nn_model_free(m);
    return problems;
}

/* Runs every pair of hidden activations with each (output, loss, targets)
 * of the list; fails after reporting every failing combination. */
static void check_all_hidden(const nn_activation *outs, size_t n_outs,
                             nn_loss loss, target_kind targets)
{
    size_t h0, h1, o;
    int failed = 0, total = 0;
    for (h0 = 0; h0 < N_HIDDEN_ACTS; h0++)
        for (h1 = 0; h1 < N_HIDDEN_ACTS; h1++)
            for (o = 0; o < n_outs; o++) {
                combo c;
                uint64_t seed;
                c.act[0] = hidden_acts[h0];
                c.act[1] = hidden_acts[h1];
                c.act[2] = outs[o];
                c.loss = loss;
                c.targets = targets;
                seed = 1000003u * (uint64_t)c.act[0] +
                       10007u * (uint64_t)c.act[1] + 101u * (uint64_t)c.act[2] +
                       11u * (uint64_t)loss + (uint64_t)targets;
                for (c.general = 0; c.general < 2; c.general++) {
                    if (check_combo(&c, seed) != 0)
                        failed++;
                    total++;
                }
            }
    if (failed)
        fail_msg("%d of %d combinations failed (see above)", failed, total);
}

/* ---- tests ---- */

static void gradients_match_finite_differences_for_mse_with_every_output_activation(
    void **state)
{
    static const nn_activation outs[] = {
        NN_ACT_IDENTITY, NN_ACT_SIGMOID, NN_ACT_TANH,
        NN_ACT_RELU, NN_ACT_LEAKY_RELU, NN_ACT_SOFTMAX};
    (void)state;
    check_all_hidden(outs, sizeof outs / sizeof outs[0], NN_LOSS_MSE,
                     TARGET_VALUES);
}

static void gradients_match_finite_differences_for_bce_on_sigmoid_and_logit_outputs(
    void **state)
{
    static const nn_activation outs[] = {NN_ACT_SIGMOID, NN_ACT_IDENTITY};
    (void)state;
    check_all_hidden(outs, 2, NN_LOSS_BCE, TARGET_VALUES);
}

static void gradients_match_finite_differences_for_cross_entropy_with_one_hot_rows(
    void **state)
{
    static const nn_activation outs[] = {NN_ACT_SOFTMAX, NN_ACT_IDENTITY};
    (void)state;
    check_all_hidden(outs, 2, NN_LOSS_CROSS_ENTROPY, TARGET_ONE_HOT);
}

static void gradients_match_finite_differences_for_cross_entropy_with_soft_probability_rows(
    void **state)
{
    static const nn_activation outs[] = {NN_ACT_SOFTMAX, NN_ACT_IDENTITY};
    (void)state;
    check_all_hidden(outs, 2, NN_LOSS_CROSS_ENTROPY, TARGET_SOFT);
}

static void gradients_match_finite_differences_for_cross_entropy_with_class_labels(
    void **state)
{
    static const nn_activation outs[] = {NN_ACT_SOFTMAX, NN_ACT_IDENTITY};
    (void)state;
    check_all_hidden(outs, 2, NN_LOSS_CROSS_ENTROPY, TARGET_LABELS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            gradients_match_finite_differences_for_mse_with_every_output_activation),
        cmocka_unit_test(
            gradients_match_finite_differences_for_bce_on_sigmoid_and_logit_outputs),
        cmocka_unit_test(
            gradients_match_finite_differences_for_cross_entropy_with_one_hot_rows),
        cmocka_unit_test(
            gradients_match_finite_differences_for_cross_entropy_with_soft_probability_rows),
        cmocka_unit_test(
            gradients_match_finite_differences_for_cross_entropy_with_class_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
