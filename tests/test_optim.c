/* SPDX-License-Identifier: MIT */
/*
 * test_optim.c - the optimizers, gradient clipping, learning-rate schedules
 * and their settings, against the formulas nn.h documents (those of
 * PyTorch's torch.optim.SGD with dampening, Adam and AdamW with AMSGrad,
 * RMSprop centered or not; clip_grad_value_ and clip_grad_norm_; and the
 * closed-form schedules of nn.h).
 *
 * Method. A tiny net (3 inputs -> 4 tanh -> 2 identity, MSE, batch of 4)
 * with known weights and biases. For each step the test asks the library
 * for the gradient at the current weights (nn_model_compute_grads), feeds
 * that gradient to its own optimizer, written here in double from the
 * formulas and keeping its own copy of the parameters and of the state in
 * double across steps, then calls nn_model_apply_grads and compares every
 * parameter with the prediction. A twin model given the same batches through
 * nn_model_train_batch must end bit-identical to the first.
 *
 * Negative checks. The same reference also runs with deliberate mistakes
 * (bias correction missing, L2 decay where AdamW decouples it, momentum
 * dampened, Nesterov ignored, clipping after weight decay, ...), fed the same
 * gradients. Each such wrong prediction must differ from the library by more
 * than the tolerance at some step, which shows the chosen values make the
 * comparison able to tell the right formula from that wrong one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn.h"

/* ---- shape of the net ---- */
enum {
    N_IN = 3,
    N_HID = 4,
    N_OUT = 2,
    BATCH = 4,
    N_W0 = N_IN * N_HID,
    N_W1 = N_HID * N_OUT,
    /* flat layout: W0, b0, W1, b1 */
    OFF_W0 = 0,
    OFF_B0 = OFF_W0 + N_W0,
    OFF_W1 = OFF_B0 + N_HID,
    OFF_B1 = OFF_W1 + N_W1,
    NP = OFF_B1 + N_OUT,
    N_STEPS = 3,
    MAX_FLAWS = 6
};

/* ---- tolerances ----
 * A parameter p from the library passes against the reference r when
 *     |p - r| <= max(REL_TOL * |r|, ABS_FLOOR).
 * The library stores parameters in float (half an ulp is 3e-8 relative) and
 * may compute the update in float too; over three steps its error is a few
 * 1e-7 relative at most, so 1e-5 leaves a wide margin. ABS_FLOOR covers a
 * parameter that passes near zero, where float rounding is set by the
 * size of the terms, not of the result. */
#define REL_TOL 1e-5
#define ABS_FLOOR 1e-7

/* Learning rates reported by nn_model_current_lr are doubles computed from
 * closed forms: they must agree to a few double ulps. */
#define LR_REL_TOL 1e-12

/* Worst agreement seen over the whole run, for the summary printed by main. */
static double g_worst_ratio; /* error / tolerance */
static double g_worst_abs;
static double g_worst_rel;
static double g_weakest_flaw = HUGE_VAL; /* smallest detection margin */

/* ------------------------------------------------------------------------
 * The net and its data
 * ------------------------------------------------------------------------ */

static float known_param(size_t i)
{
    /* Every parameter nonzero (biases too, so weight decay acts on them),
     * magnitudes up to 0.6. */
    return (float)(0.6 * sin(0.9 * (double)i + 0.3));
}

/* Batch s of BATCH rows: x is BATCH x N_IN, t is BATCH x N_OUT. */
static void batch(size_t s, float *x, float *t)
{
    size_t i;
    for (i = 0; i < BATCH * N_IN; i++)
        x[i] = (float)(1.5 * sin(0.7 * (double)(s * BATCH * N_IN + i) + 0.1));
    for (i = 0; i < BATCH * N_OUT; i++)
        t[i] = (float)cos(0.45 * (double)(s * BATCH * N_OUT + i) + 0.2);
}

static void set_known_params(nn_model *m)
{
    float p[NP];
    size_t i, count = 0;
    const float *flat;
    for (i = 0; i < NP; i++)
        p[i] = known_param(i);
    assert_int_equal(nn_model_set_weights(m, 0, p + OFF_W0, N_W0), NN_OK);
    assert_int_equal(nn_model_set_bias(m, 0, p + OFF_B0, N_HID), NN_OK);
    assert_int_equal(nn_model_set_weights(m, 1, p + OFF_W1, N_W1), NN_OK);
    assert_int_equal(nn_model_set_bias(m, 1, p + OFF_B1, N_OUT), NN_OK);
    /* The flat buffer has the layout this test assumes. */
    flat = nn_model_params(m, &count);
    assert_non_null(flat);
    assert_int_equal(count, NP);
    assert_memory_equal(flat, p, sizeof p);
}

static nn_model *make_net(void)
{
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(&m, N_IN, 7), NN_OK);
    assert_int_equal(nn_model_add_dense(m, N_HID, NN_ACT_TANH), NN_OK);
    assert_int_equal(nn_model_add_dense(m, N_OUT, NN_ACT_IDENTITY), NN_OK);
    assert_int_equal(nn_model_set_loss(m, NN_LOSS_MSE), NN_OK);
    set_known_params(m);
    return m;
}

static float *params_of(nn_model *m)
{
    size_t count = 0;
    float *p = nn_model_params(m, &count);
    assert_non_null(p);
    assert_int_equal(count, NP);
    return p;
}

static float *grads_of(nn_model *m)
{
    size_t count = 0;
    float *g = nn_model_grads(m, &count);
    assert_non_null(g);
    assert_int_equal(count, NP);
    return g;
}

/* ------------------------------------------------------------------------
 * Configurations
 * ------------------------------------------------------------------------ */

typedef struct opt_cfg {
    const char *name;
    nn_optimizer kind;
    int set_kind; /* 0: leave the optimizer at the default */
    double lr, momentum, nesterov, wd, beta1, beta2, eps, alpha, clip;
    double clip_value, amsgrad, centered, dampening;
    nn_schedule sched;
    double step_size, gamma, t_max, eta_min, warmup;
} opt_cfg;

/* The defaults nn.h documents. */
static opt_cfg cfg_default(const char *name, nn_optimizer kind)
{
    opt_cfg c;
    c.name = name;
    c.kind = kind;
    c.set_kind = 1;
    c.lr = 0.01;
    c.momentum = 0.0;
    c.nesterov = 0.0;
    c.wd = 0.0;
    c.beta1 = 0.9;
    c.beta2 = 0.999;
    c.eps = 1e-8;
    c.alpha = 0.99;
    c.clip = 0.0;
    c.clip_value = 0.0;
    c.amsgrad = 0.0;
    c.centered = 0.0;
    c.dampening = 0.0;
    c.sched = NN_SCHED_CONSTANT;
    c.step_size = 1000.0;
    c.gamma = 0.1;
    c.t_max = 1000.0;
    c.eta_min = 0.0;
    c.warmup = 0.0;
    return c;
}

static void set_param_ok(nn_model *m, nn_param key, double value)
{
    double got = -1.0;
    assert_int_equal(nn_model_set_param(m, key, value), NN_OK);
    assert_int_equal(nn_model_get_param(m, key, &got), NN_OK);
    assert_true(got == value);
}

static void configure(nn_model *m, const opt_cfg *c)
{
    if (c->set_kind)
        assert_int_equal(nn_model_set_optimizer(m, c->kind), NN_OK);
    set_param_ok(m, NN_PARAM_LEARNING_RATE, c->lr);
    set_param_ok(m, NN_PARAM_MOMENTUM, c->momentum);
    set_param_ok(m, NN_PARAM_NESTEROV, c->nesterov);
    set_param_ok(m, NN_PARAM_WEIGHT_DECAY, c->wd);
    set_param_ok(m, NN_PARAM_BETA1, c->beta1);
    set_param_ok(m, NN_PARAM_BETA2, c->beta2);
    set_param_ok(m, NN_PARAM_EPSILON, c->eps);
    set_param_ok(m, NN_PARAM_RMSPROP_ALPHA, c->alpha);
    set_param_ok(m, NN_PARAM_CLIP_NORM, c->clip);
    set_param_ok(m, NN_PARAM_CLIP_VALUE, c->clip_value);
    set_param_ok(m, NN_PARAM_AMSGRAD, c->amsgrad);
    set_param_ok(m, NN_PARAM_CENTERED, c->centered);
    set_param_ok(m, NN_PARAM_DAMPENING, c->dampening);
    set_param_ok(m, NN_PARAM_SCHED_STEP_SIZE, c->step_size);
    set_param_ok(m, NN_PARAM_SCHED_GAMMA, c->gamma);
    set_param_ok(m, NN_PARAM_SCHED_T_MAX, c->t_max);
    set_param_ok(m, NN_PARAM_SCHED_ETA_MIN, c->eta_min);
    set_param_ok(m, NN_PARAM_WARMUP_STEPS, c->warmup);
    assert_int_equal(nn_model_set_schedule(m, c->sched), NN_OK);
    assert_int_equal(nn_model_step_count(m), 0);
}

/* ------------------------------------------------------------------------
 * The reference: schedules and optimizers in double, from nn.h
 * ------------------------------------------------------------------------ */

/* The learning rate of step s (s updates taken before it). */
static double ref_lr(const opt_cfg *c, uint64_t s)
{
    double t;
    uint64_t w = (uint64_t)c->warmup;
    if (s < w)
        return c->lr * (double)(s + 1) / (double)w;
    t = (double)(s - w);
    switch (c->sched) {
    case NN_SCHED_CONSTANT:
        return c->lr;
    case NN_SCHED_STEP:
        return c->lr * pow(c->gamma, floor(t / c->step_size));
    case NN_SCHED_EXPONENTIAL:
        return c->lr * pow(c->gamma, t);
    case NN_SCHED_COSINE: {
        const double pi = 3.14159265358979323846;
        double tt = t < c->t_max ? t : c->t_max;
        return c->eta_min +
               (c->lr - c->eta_min) * (1.0 + cos(pi * tt / c->t_max)) / 2.0;
    }
    }
    fail_msg("unknown schedule %d", (int)c->sched);
    return 0.0;
}

/* Deliberate mistakes the reference can make, for the negative checks. */
enum {
    FLAW_NO_BIAS_CORRECTION = 1u << 0,      /* Adam without 1 - b^t */
    FLAW_L2_INSTEAD_OF_DECOUPLED = 1u << 1, /* AdamW as Adam with L2 */
    FLAW_DECOUPLED_INSTEAD_OF_L2 = 1u << 2, /* w -= lr wd w, no g += wd w */
    FLAW_NO_WEIGHT_DECAY = 1u << 3,
    FLAW_NESTEROV_IGNORED = 1u << 4,
    FLAW_DAMPENING = 1u << 5,               /* b = mu b + (1 - mu) g */
    FLAW_NO_MOMENTUM = 1u << 6,
    FLAW_RMSPROP_BIAS_CORRECTION = 1u << 7, /* v / (1 - a^t) */
    FLAW_NO_CLIP = 1u << 8,
    FLAW_CLIP_AFTER_WEIGHT_DECAY = 1u << 9,
    FLAW_CLIP_WITHOUT_EPS = 1u << 10,       /* clip / norm */
    FLAW_UNSCHEDULED_LR = 1u << 11,         /* the base lr every step */
    FLAW_EPS_INSIDE_SQRT = 1u << 12,        /* sqrt(v_hat + eps) */
    FLAW_AMSGRAD_IGNORED = 1u << 13,        /* v, not max(vmax, v) */
    FLAW_CENTERED_IGNORED = 1u << 14,       /* v, not v - c^2 */
    FLAW_DAMPENED_FIRST_STEP = 1u << 15,    /* b = (1 - tau) g at t = 1 */
    FLAW_NO_VALUE_CLIP = 1u << 16,
    FLAW_VALUE_CLIP_AFTER_NORM = 1u << 17   /* norm clip, then clamp */
};

static const char *flaw_name(unsigned flaw)
{
    switch (flaw) {
    case FLAW_NO_BIAS_CORRECTION: return "no bias correction";
    case FLAW_L2_INSTEAD_OF_DECOUPLED: return "L2 instead of decoupled decay";
    case FLAW_DECOUPLED_INSTEAD_OF_L2: return "decoupled decay instead of L2";
    case FLAW_NO_WEIGHT_DECAY: return "no weight decay";
    case FLAW_NESTEROV_IGNORED: return "Nesterov ignored";
    case FLAW_DAMPENING: return "momentum dampened by 1 - mu";
    case FLAW_NO_MOMENTUM: return "no momentum";
    case FLAW_RMSPROP_BIAS_CORRECTION: return "RMSprop v bias-corrected";
    case FLAW_NO_CLIP: return "no clipping";
    case FLAW_CLIP_AFTER_WEIGHT_DECAY: return "clipping after weight decay";
    case FLAW_CLIP_WITHOUT_EPS: return "clip / norm without + 1e-6";
    case FLAW_UNSCHEDULED_LR: return "schedule ignored";
    case FLAW_EPS_INSIDE_SQRT: return "eps inside the square root";
    case FLAW_AMSGRAD_IGNORED: return "AMSGrad ignored";
    case FLAW_CENTERED_IGNORED: return "centered ignored";
    case FLAW_DAMPENED_FIRST_STEP: return "dampening at the first step";
    case FLAW_NO_VALUE_CLIP: return "no clipping by value";
    case FLAW_VALUE_CLIP_AFTER_NORM: return "value clipping after norm";
    }
    return "?";
}

typedef struct ref_state {
    double w[NP];   /* parameters */
    double m[NP];   /* Adam first moment */
    double v[NP];   /* Adam second moment / RMSprop square average */
    double buf[NP]; /* momentum buffer */
    double vmax[NP]; /* AMSGrad: the largest second moment */
    double gavg[NP]; /* centered RMSprop: the average gradient */
    unsigned long t;
} ref_state;

static void ref_init(ref_state *r, const float *p)
{
    size_t i;
    memset(r, 0, sizeof *r);
    for (i = 0; i < NP; i++)
        r->w[i] = (double)p[i];
}

static double norm_of(const double *g)
{
    double s = 0.0;
    size_t i;
    for (i = 0; i < NP; i++)
        s += g[i] * g[i];
    return sqrt(s);
}

/* One update of the reference with gradient grad and learning rate lr.
 * Returns 1 if clipping scaled the gradient. */
static int ref_step(const opt_cfg *c, unsigned flaws, ref_state *r,
                    const float *grad, double lr)
{
    double g[NP];
    size_t i;
    int decoupled = c->kind == NN_OPT_ADAMW, clipped = 0;
    double wd = (flaws & FLAW_NO_WEIGHT_DECAY) ? 0.0 : c->wd;
    double mu = (flaws & FLAW_NO_MOMENTUM) ? 0.0 : c->momentum;
    double damp = (flaws & FLAW_DAMPENING) ? 1.0 - mu : 1.0;

    if (flaws & FLAW_L2_INSTEAD_OF_DECOUPLED)
        decoupled = 0;
    if (flaws & FLAW_DECOUPLED_INSTEAD_OF_L2)
        decoupled = 1;
    for (i = 0; i < NP; i++)
        g[i] = (double)grad[i];
    /* clip_grad_value_: each gradient clamped, before clipping by norm */
#define CLAMP_VALUES()                                                       \
    do {                                                                     \
        if (c->clip_value > 0.0 && !(flaws & FLAW_NO_VALUE_CLIP))            \
            for (i = 0; i < NP; i++)                                         \
                g[i] = g[i] > c->clip_value    ? c->clip_value               \
                       : g[i] < -c->clip_value ? -c->clip_value              \
                                               : g[i];                       \
    } while (0)
    if (!(flaws & FLAW_VALUE_CLIP_AFTER_NORM))
        CLAMP_VALUES();

    if (!decoupled && (flaws & FLAW_CLIP_AFTER_WEIGHT_DECAY))
        for (i = 0; i < NP; i++)
            g[i] += wd * r->w[i];
    if (c->clip > 0.0 && !(flaws & FLAW_NO_CLIP)) {
        double norm = norm_of(g);
        if (norm > c->clip) {
            double scale = (flaws & FLAW_CLIP_WITHOUT_EPS)
                               ? c->clip / norm
                               : c->clip / (norm + 1e-6);
            for (i = 0; i < NP; i++)
                g[i] *= scale;
            clipped = 1;
        }
    }
    if (flaws & FLAW_VALUE_CLIP_AFTER_NORM)
        CLAMP_VALUES();
#undef CLAMP_VALUES
    if (!decoupled && !(flaws & FLAW_CLIP_AFTER_WEIGHT_DECAY))
        for (i = 0; i < NP; i++)
            g[i] += wd * r->w[i];
    if (decoupled)
        for (i = 0; i < NP; i++)
            r->w[i] -= lr * wd * r->w[i];

    r->t++;
    switch (c->kind) {
    case NN_OPT_SGD:
        for (i = 0; i < NP; i++) {
            if (mu == 0.0) {
                r->w[i] -= lr * g[i];
                continue;
            }
            /* PyTorch: the buffer is g at the first step, then
             * mu b + (1 - tau) g */
            r->buf[i] = r->t == 1 && !(flaws & FLAW_DAMPENED_FIRST_STEP)
                            ? g[i]
                            : mu * r->buf[i] +
                                  damp * (1.0 - c->dampening) * g[i];
            if (c->nesterov == 1.0 && !(flaws & FLAW_NESTEROV_IGNORED))
                r->w[i] -= lr * (g[i] + mu * r->buf[i]);
            else
                r->w[i] -= lr * r->buf[i];
        }
        break;
    case NN_OPT_ADAM:
    case NN_OPT_ADAMW: {
        double bc1 = 1.0 - pow(c->beta1, (double)r->t);
        double bc2 = 1.0 - pow(c->beta2, (double)r->t);
        if (flaws & FLAW_NO_BIAS_CORRECTION)
            bc1 = bc2 = 1.0;
        for (i = 0; i < NP; i++) {
            double denom;
            double v;
            r->m[i] = c->beta1 * r->m[i] + (1.0 - c->beta1) * g[i];
            r->v[i] = c->beta2 * r->v[i] + (1.0 - c->beta2) * g[i] * g[i];
            v = r->v[i];
            if (c->amsgrad == 1.0 && !(flaws & FLAW_AMSGRAD_IGNORED)) {
                r->vmax[i] = r->vmax[i] > r->v[i] ? r->vmax[i] : r->v[i];
                v = r->vmax[i];
            }
            denom = (flaws & FLAW_EPS_INSIDE_SQRT)
                        ? sqrt(v / bc2 + c->eps)
                        : sqrt(v / bc2) + c->eps;
            r->w[i] -= lr * (r->m[i] / bc1) / denom;
        }
        break;
    }
    case NN_OPT_RMSPROP: {
        double bc = (flaws & FLAW_RMSPROP_BIAS_CORRECTION)
                        ? 1.0 - pow(c->alpha, (double)r->t)
                        : 1.0;
        for (i = 0; i < NP; i++) {
            double denom, v;
            r->v[i] = c->alpha * r->v[i] + (1.0 - c->alpha) * g[i] * g[i];
            v = r->v[i] / bc;
            if (c->centered == 1.0 && !(flaws & FLAW_CENTERED_IGNORED)) {
                r->gavg[i] = c->alpha * r->gavg[i] + (1.0 - c->alpha) * g[i];
                v -= r->gavg[i] * r->gavg[i];
            }
            denom = sqrt(v) + c->eps;
            if (mu > 0.0) {
                r->buf[i] = mu * r->buf[i] + damp * g[i] / denom;
                r->w[i] -= lr * r->buf[i];
            } else {
                r->w[i] -= lr * g[i] / denom;
            }
        }
        break;
    }
    default:
        fail_msg("unknown optimizer %d", (int)c->kind);
    }
    return clipped;
}

/* ------------------------------------------------------------------------
 * Comparisons
 * ------------------------------------------------------------------------ */

static double tol_of(double ref)
{
    double t = REL_TOL * fabs(ref);
    return t > ABS_FLOOR ? t : ABS_FLOOR;
}

/* max_i |p_i - r_i| / tol(r_i); also tracks the global worst if track. */
static double err_ratio(const float *p, const double *r, int track,
                        size_t *worst_index)
{
    double worst = 0.0;
    size_t i;
    for (i = 0; i < NP; i++) {
        double d = fabs((double)p[i] - r[i]);
        double q = d / tol_of(r[i]);
        if (!(q <= worst)) { /* also catches NaN */
            worst = q;
            if (worst_index)
                *worst_index = i;
        }
        if (track) {
            if (d > g_worst_abs)
                g_worst_abs = d;
            if (r[i] != 0.0 && d / fabs(r[i]) > g_worst_rel)
                g_worst_rel = d / fabs(r[i]);
        }
    }
    if (track && worst > g_worst_ratio)
        g_worst_ratio = worst;
    return worst;
}

static void assert_lr_close(double got, double want, double base)
{
    double tol = LR_REL_TOL * fabs(want) + 1e-15 * fabs(base);
    if (!(fabs(got - want) <= tol))
        fail_msg("learning rate %.17g, expected %.17g (difference %.3g)", got,
                 want, got - want);
}

/* nn_model_get_layer_grads and the flat buffer agree. */
static void check_layer_grads(const nn_model *m, const float *flat)
{
    float dw0[N_W0], db0[N_HID], dw1[N_W1], db1[N_OUT];
    assert_int_equal(nn_model_get_layer_grads(m, 0, dw0, N_W0, db0, N_HID),
                     NN_OK);
    assert_int_equal(nn_model_get_layer_grads(m, 1, dw1, N_W1, db1, N_OUT),
                     NN_OK);
    assert_memory_equal(dw0, flat + OFF_W0, sizeof dw0);
    assert_memory_equal(db0, flat + OFF_B0, sizeof db0);
    assert_memory_equal(dw1, flat + OFF_W1, sizeof dw1);
    assert_memory_equal(db1, flat + OFF_B1, sizeof db1);
}

/* ------------------------------------------------------------------------
 * The harness: N_STEPS steps of one configuration
 * ------------------------------------------------------------------------ */

/* Runs cfg for N_STEPS steps on two models, a through compute_grads +
 * apply_grads and b through train_batch, comparing a with the reference
 * after every step and b with a bit for bit. Each flaw in flaws must be
 * detected: its prediction differs from the library by more than the
 * tolerance at some step. expect_clipped: clipping must act at every step
 * (1), at none (0). */
static void run_case(const opt_cfg *c, const unsigned *flaws, size_t n_flaws,
                     int expect_clipped)
{
    nn_model *a = make_net(), *b = make_net();
    ref_state ref, bad[MAX_FLAWS];
    double worst = 0.0, bad_worst[MAX_FLAWS];
    size_t k, s, worst_i = 0;
    char line[512];
    int len;

    assert_true(n_flaws <= MAX_FLAWS);
    configure(a, c);
    configure(b, c);
    ref_init(&ref, params_of(a));
    for (k = 0; k < n_flaws; k++) {
        bad[k] = ref;
        bad_worst[k] = 0.0;
    }

    for (s = 0; s < N_STEPS; s++) {
        float x[BATCH * N_IN], t[BATCH * N_OUT], g[NP];
        double loss_a = 0.0, loss_b = 0.0, lr = 0.0, want_lr = ref_lr(c, s);
        double e;
        int clipped;
        size_t wi = 0;

        batch(s, x, t);
        assert_int_equal(nn_model_step_count(a), s);
        assert_int_equal(nn_model_current_lr(a, &lr), NN_OK);
        assert_lr_close(lr, want_lr, c->lr);

        assert_int_equal(
            nn_model_compute_grads(a, BATCH, x, N_IN, t, N_OUT, &loss_a),
            NN_OK);
        memcpy(g, grads_of(a), sizeof g);
        check_layer_grads(a, g);

        clipped = ref_step(c, 0, &ref, g, want_lr);
        if (expect_clipped >= 0 && clipped != expect_clipped)
            fail_msg("%s step %zu: the reference %s clip (norm vs clip %g); "
                     "choose other values", c->name, s,
                     clipped ? "did" : "did not", c->clip);
        for (k = 0; k < n_flaws; k++)
            ref_step(c, flaws[k], &bad[k], g,
                     (flaws[k] & FLAW_UNSCHEDULED_LR) ? c->lr : want_lr);

        assert_int_equal(nn_model_apply_grads(a), NN_OK);
        assert_int_equal(
            nn_model_train_batch(b, BATCH, x, N_IN, t, N_OUT, &loss_b),
            NN_OK);
        assert_true(loss_a == loss_b);
        assert_int_equal(nn_model_step_count(a), s + 1);
        assert_int_equal(nn_model_step_count(b), s + 1);
        /* train_batch is compute_grads + apply_grads, bit for bit. */
        assert_memory_equal(params_of(a), params_of(b), NP * sizeof(float));

        e = err_ratio(params_of(a), ref.w, 1, &wi);
        if (!(e <= 1.0))
            fail_msg("%s step %zu: parameter %zu is %.9g, the documented "
                     "formula gives %.9g (error %.3g x tolerance)",
                     c->name, s + 1, wi, (double)params_of(a)[wi], ref.w[wi],
                     e);
        if (e > worst) {
            worst = e;
            worst_i = wi;
        }
        for (k = 0; k < n_flaws; k++) {
            double eb = err_ratio(params_of(a), bad[k].w, 0, NULL);
            if (eb > bad_worst[k])
                bad_worst[k] = eb;
        }
    }

    len = snprintf(line, sizeof line,
                   "  %-34s worst %.2g x tol (param %zu)", c->name, worst,
                   worst_i);
    for (k = 0; k < n_flaws; k++) {
        if (!(bad_worst[k] > 1.0))
            fail_msg("%s: the wrong formula \"%s\" stays within tolerance "
                     "(%.3g x); the test could not catch it", c->name,
                     flaw_name(flaws[k]), bad_worst[k]);
        if (bad_worst[k] < g_weakest_flaw)
            g_weakest_flaw = bad_worst[k];
        if (len > 0 && (size_t)len < sizeof line)
            len += snprintf(line + len, sizeof line - (size_t)len,
                            "; %s off by %.2g x", flaw_name(flaws[k]),
                            bad_worst[k]);
    }
    printf("%s\n", line);
    nn_model_free(a);
    nn_model_free(b);
}

/* ------------------------------------------------------------------------
 * Optimizers: the first three steps
 * ------------------------------------------------------------------------ */

static void sgd_is_the_default_optimizer_and_matches_plain_descent(void **st)
{
    opt_cfg c = cfg_default("SGD (default, never chosen)", NN_OPT_SGD);
    (void)st;
    c.set_kind = 0;
    c.lr = 0.1;
    run_case(&c, NULL, 0, 0);
}

static void sgd_first_three_steps_match_documented_formula(void **st)
{
    static const unsigned flaws[] = {FLAW_NO_WEIGHT_DECAY};
    opt_cfg c = cfg_default("SGD, L2 0.05", NN_OPT_SGD);
    (void)st;
    c.lr = 0.1;
    c.wd = 0.05;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

static void sgd_momentum_first_three_steps_match_documented_formula(void **st)
{
    static const unsigned flaws[] = {FLAW_NO_MOMENTUM, FLAW_DAMPENING,
                                     FLAW_NO_WEIGHT_DECAY,
                                     FLAW_DECOUPLED_INSTEAD_OF_L2};
    opt_cfg c = cfg_default("SGD momentum 0.9, L2 0.05", NN_OPT_SGD);
    (void)st;
    c.lr = 0.1;
    c.momentum = 0.9;
    c.wd = 0.05;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

static void sgd_nesterov_first_three_steps_match_documented_formula(void **st)
{
    static const unsigned flaws[] = {FLAW_NESTEROV_IGNORED, FLAW_DAMPENING,
                                     FLAW_NO_WEIGHT_DECAY};
    opt_cfg c = cfg_default("SGD Nesterov 0.9, L2 0.02", NN_OPT_SGD);
    (void)st;
    c.lr = 0.1;
    c.momentum = 0.9;
    c.nesterov = 1.0;
    c.wd = 0.02;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

static void adam_first_three_steps_match_documented_formula(void **st)
{
    static const unsigned flaws[] = {FLAW_NO_BIAS_CORRECTION};
    opt_cfg c = cfg_default("Adam (defaults)", NN_OPT_ADAM);
    (void)st;
    c.lr = 0.01;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

static void adam_with_l2_decay_first_three_steps_match_documented_formula(
    void **st)
{
    static const unsigned flaws[] = {FLAW_NO_BIAS_CORRECTION,
                                     FLAW_DECOUPLED_INSTEAD_OF_L2,
                                     FLAW_NO_WEIGHT_DECAY,
                                     FLAW_EPS_INSIDE_SQRT};
    opt_cfg c = cfg_default("Adam b .8/.99, eps 1e-4, L2 0.1", NN_OPT_ADAM);
    (void)st;
    c.lr = 0.01;
    c.beta1 = 0.8;
    c.beta2 = 0.99;
    c.eps = 1e-4;
    c.wd = 0.1;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

static void adamw_first_three_steps_match_documented_formula(void **st)
{
    static const unsigned flaws[] = {FLAW_L2_INSTEAD_OF_DECOUPLED,
                                     FLAW_NO_WEIGHT_DECAY,
                                     FLAW_NO_BIAS_CORRECTION};
    opt_cfg c = cfg_default("AdamW, decoupled 0.1", NN_OPT_ADAMW);
    (void)st;
    c.lr = 0.01;
    c.wd = 0.1;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

static void rmsprop_first_three_steps_match_documented_formula(void **st)
{
    static const unsigned flaws[] = {FLAW_RMSPROP_BIAS_CORRECTION};
    opt_cfg c = cfg_default("RMSprop (defaults)", NN_OPT_RMSPROP);
    (void)st;
    c.lr = 0.01;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

static void rmsprop_with_l2_decay_first_three_steps_match_documented_formula(
    void **st)
{
    static const unsigned flaws[] = {FLAW_NO_WEIGHT_DECAY,
                                     FLAW_DECOUPLED_INSTEAD_OF_L2,
                                     FLAW_RMSPROP_BIAS_CORRECTION};
    opt_cfg c = cfg_default("RMSprop alpha .9, L2 0.05", NN_OPT_RMSPROP);
    (void)st;
    c.lr = 0.01;
    c.alpha = 0.9;
    c.wd = 0.05;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

static void rmsprop_momentum_first_three_steps_match_documented_formula(
    void **st)
{
    static const unsigned flaws[] = {FLAW_NO_MOMENTUM, FLAW_DAMPENING,
                                     FLAW_NO_WEIGHT_DECAY,
                                     FLAW_RMSPROP_BIAS_CORRECTION};
    opt_cfg c = cfg_default("RMSprop momentum .9, L2 0.05", NN_OPT_RMSPROP);
    (void)st;
    c.lr = 0.01;
    c.momentum = 0.9;
    c.wd = 0.05;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

static void sgd_dampening_first_three_steps_match_documented_formula(
    void **st)
{
    static const unsigned flaws[] = {FLAW_DAMPENED_FIRST_STEP,
                                     FLAW_NO_MOMENTUM,
                                     FLAW_NO_WEIGHT_DECAY};
    opt_cfg c = cfg_default("SGD momentum .9, dampening .6", NN_OPT_SGD);
    (void)st;
    c.lr = 0.1;
    c.momentum = 0.9;
    c.dampening = 0.6;
    c.wd = 0.02;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

static void adam_amsgrad_first_three_steps_match_documented_formula(
    void **st)
{
    static const unsigned flaws[] = {FLAW_AMSGRAD_IGNORED,
                                     FLAW_NO_BIAS_CORRECTION};
    opt_cfg c = cfg_default("Adam AMSGrad, beta2 .5", NN_OPT_ADAM);
    (void)st;
    c.lr = 0.05;
    c.beta2 = 0.5; /* v forgets fast, so that it falls below its maximum */
    c.amsgrad = 1.0;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

static void adamw_amsgrad_first_three_steps_match_documented_formula(
    void **st)
{
    static const unsigned flaws[] = {FLAW_AMSGRAD_IGNORED,
                                     FLAW_L2_INSTEAD_OF_DECOUPLED};
    opt_cfg c = cfg_default("AdamW AMSGrad, beta2 .5, wd .1", NN_OPT_ADAMW);
    (void)st;
    c.lr = 0.05;
    c.beta2 = 0.5;
    c.amsgrad = 1.0;
    c.wd = 0.1;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

static void rmsprop_centered_first_three_steps_match_documented_formula(
    void **st)
{
    static const unsigned flaws[] = {FLAW_CENTERED_IGNORED,
                                     FLAW_RMSPROP_BIAS_CORRECTION};
    opt_cfg c = cfg_default("RMSprop centered, alpha .9", NN_OPT_RMSPROP);
    (void)st;
    c.lr = 0.01;
    c.alpha = 0.9;
    c.centered = 1.0;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

static void rmsprop_centered_momentum_first_three_steps_match_formula(
    void **st)
{
    static const unsigned flaws[] = {FLAW_CENTERED_IGNORED, FLAW_NO_MOMENTUM};
    opt_cfg c = cfg_default("RMSprop centered, momentum .5", NN_OPT_RMSPROP);
    (void)st;
    c.lr = 0.01;
    c.alpha = 0.9;
    c.centered = 1.0;
    c.momentum = 0.5;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

static void clipping_by_value_clamps_each_gradient_before_the_norm(void **st)
{
    static const unsigned flaws[] = {FLAW_NO_VALUE_CLIP,
                                     FLAW_VALUE_CLIP_AFTER_NORM};
    opt_cfg c = cfg_default("SGD momentum, clip value .02, norm .05",
                            NN_OPT_SGD);
    (void)st;
    c.lr = 0.5;
    c.momentum = 0.5;
    c.clip_value = 0.02;
    c.clip = 0.05;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 1);
}

static void plain_sgd_clipped_by_value_matches_documented_formula(void **st)
{
    static const unsigned flaws[] = {FLAW_NO_VALUE_CLIP};
    opt_cfg c = cfg_default("SGD, clip value .01", NN_OPT_SGD);
    (void)st;
    c.lr = 0.5;
    c.clip_value = 0.01;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

/* The lr of the update is the scheduled one (the harness also checks
 * nn_model_current_lr before each step). */
static void steps_use_the_exponentially_decayed_learning_rate(void **st)
{
    static const unsigned flaws[] = {FLAW_UNSCHEDULED_LR};
    opt_cfg c = cfg_default("SGD momentum, exponential .5", NN_OPT_SGD);
    (void)st;
    c.lr = 0.1;
    c.momentum = 0.5;
    c.sched = NN_SCHED_EXPONENTIAL;
    c.gamma = 0.5;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

static void steps_use_the_warmed_up_learning_rate(void **st)
{
    static const unsigned flaws[] = {FLAW_UNSCHEDULED_LR};
    opt_cfg c = cfg_default("AdamW, warm-up 3, cosine", NN_OPT_ADAMW);
    (void)st;
    c.lr = 0.01;
    c.wd = 0.1;
    c.sched = NN_SCHED_COSINE;
    c.t_max = 4.0;
    c.warmup = 3.0;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 0);
}

/* train_batch and compute_grads + apply_grads agree bit for bit over a
 * longer run with every feature on, for every optimizer. */
static void train_batch_equals_compute_then_apply_bit_for_bit(void **st)
{
    static const nn_optimizer kinds[] = {NN_OPT_SGD, NN_OPT_ADAM,
                                         NN_OPT_ADAMW, NN_OPT_RMSPROP};
    size_t k, s;
    (void)st;
    for (k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        opt_cfg c = cfg_default("all features", kinds[k]);
        nn_model *a = make_net(), *b = make_net();
        c.lr = 0.02;
        c.momentum = 0.8;
        c.nesterov = kinds[k] == NN_OPT_SGD ? 1.0 : 0.0;
        c.wd = 0.03;
        c.clip = 0.3;
        c.sched = NN_SCHED_STEP;
        c.step_size = 3.0;
        c.gamma = 0.7;
        c.warmup = 2.0;
        configure(a, &c);
        configure(b, &c);
        for (s = 0; s < 12; s++) {
            float x[BATCH * N_IN], t[BATCH * N_OUT];
            double la = 0.0, lb = 0.0;
            batch(s % 5, x, t);
            assert_int_equal(
                nn_model_compute_grads(a, BATCH, x, N_IN, t, N_OUT, &la),
                NN_OK);
            assert_int_equal(nn_model_apply_grads(a), NN_OK);
            assert_int_equal(
                nn_model_train_batch(b, BATCH, x, N_IN, t, N_OUT, &lb), NN_OK);
            assert_true(la == lb);
            assert_memory_equal(params_of(a), params_of(b),
                                NP * sizeof(float));
        }
        assert_int_equal(nn_model_step_count(a), 12);
        assert_int_equal(nn_model_step_count(b), 12);
        nn_model_free(a);
        nn_model_free(b);
    }
}

/* ------------------------------------------------------------------------
 * Gradient clipping
 * ------------------------------------------------------------------------ */

static void sgd_clipping_scales_gradients_before_weight_decay(void **st)
{
    static const unsigned flaws[] = {FLAW_NO_CLIP,
                                     FLAW_CLIP_AFTER_WEIGHT_DECAY};
    opt_cfg c = cfg_default("SGD momentum, L2, clip 0.05", NN_OPT_SGD);
    (void)st;
    c.lr = 0.1;
    c.momentum = 0.9;
    c.wd = 0.05;
    c.clip = 0.05;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 1);
}

static void adam_clipping_scales_gradients_before_weight_decay(void **st)
{
    static const unsigned flaws[] = {FLAW_NO_CLIP,
                                     FLAW_CLIP_AFTER_WEIGHT_DECAY};
    opt_cfg c = cfg_default("Adam, L2 0.5, clip 0.05", NN_OPT_ADAM);
    (void)st;
    c.lr = 0.01;
    c.wd = 0.5;
    c.clip = 0.05;
    run_case(&c, flaws, sizeof flaws / sizeof *flaws, 1);
}

/* clip / (norm + 1e-6), not clip / norm: with gradients of norm ~1e-5
 * written through nn_model_grads the two differ by ~10%. */
static void clipping_divides_by_norm_plus_1e_minus_6(void **st)
{
    static const unsigned flaws[] = {FLAW_CLIP_WITHOUT_EPS, FLAW_NO_CLIP};
    opt_cfg c = cfg_default("SGD, clip 1e-6 of norm 1e-5", NN_OPT_SGD);
    nn_model *m = make_net();
    ref_state ref, bad[2];
    double bad_worst[2] = {0.0, 0.0};
    size_t s, i, k;
    (void)st;
    c.lr = 1e4;
    c.clip = 1e-6;
    configure(m, &c);
    ref_init(&ref, params_of(m));
    bad[0] = bad[1] = ref;
    for (s = 0; s < N_STEPS; s++) {
        float *g = grads_of(m), gc[NP];
        double e;
        for (i = 0; i < NP; i++)
            g[i] = (float)(2e-6 * sin(2.1 * (double)(i + 7 * s) + 0.5));
        memcpy(gc, g, sizeof gc);
        assert_int_equal(ref_step(&c, 0, &ref, gc, c.lr), 1);
        for (k = 0; k < 2; k++)
            ref_step(&c, flaws[k], &bad[k], gc, c.lr);
        assert_int_equal(nn_model_apply_grads(m), NN_OK);
        e = err_ratio(params_of(m), ref.w, 1, NULL);
        if (!(e <= 1.0))
            fail_msg("step %zu: error %.3g x tolerance", s + 1, e);
        for (k = 0; k < 2; k++) {
            double eb = err_ratio(params_of(m), bad[k].w, 0, NULL);
            if (eb > bad_worst[k])
                bad_worst[k] = eb;
        }
    }
    for (k = 0; k < 2; k++) {
        if (!(bad_worst[k] > 1.0))
            fail_msg("\"%s\" is not detectable (%.3g x tolerance)",
                     flaw_name(flaws[k]), bad_worst[k]);
        if (bad_worst[k] < g_weakest_flaw)
            g_weakest_flaw = bad_worst[k];
    }
    printf("  %-34s %s off by %.2g x; %s off by %.2g x\n", c.name,
           flaw_name(flaws[0]), bad_worst[0], flaw_name(flaws[1]),
           bad_worst[1]);
    nn_model_free(m);
}

/* When the global norm is at most the clip, the update is exactly the
 * unclipped one: the clip is set just above the norm at every step, and a
 * twin without clipping must stay bit-identical. Just below, it must not. */
static void clipping_changes_nothing_when_norm_is_within_clip(void **st)
{
    static const nn_optimizer kinds[] = {NN_OPT_SGD, NN_OPT_ADAM,
                                         NN_OPT_RMSPROP};
    size_t k, s;
    (void)st;
    for (k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        opt_cfg c = cfg_default("clip above norm", kinds[k]);
        nn_model *a = make_net(), *b = make_net(), *below = make_net();
        c.lr = 0.05;
        c.momentum = kinds[k] == NN_OPT_ADAM ? 0.0 : 0.9;
        c.wd = 0.05;
        configure(a, &c);
        configure(b, &c);
        configure(below, &c);
        for (s = 0; s < N_STEPS; s++) {
            float x[BATCH * N_IN], t[BATCH * N_OUT];
            double gd[NP], norm;
            const float *g;
            size_t i;
            batch(s, x, t);
            assert_int_equal(
                nn_model_compute_grads(a, BATCH, x, N_IN, t, N_OUT, NULL),
                NN_OK);
            assert_int_equal(
                nn_model_compute_grads(b, BATCH, x, N_IN, t, N_OUT, NULL),
                NN_OK);
            g = grads_of(a);
            for (i = 0; i < NP; i++)
                gd[i] = (double)g[i];
            norm = norm_of(gd);
            set_param_ok(a, NN_PARAM_CLIP_NORM, norm * 1.001);
            assert_int_equal(nn_model_apply_grads(a), NN_OK);
            assert_int_equal(nn_model_apply_grads(b), NN_OK);
            assert_memory_equal(params_of(a), params_of(b),
                                NP * sizeof(float));
            /* A third model follows b (no clipping) and, at the last step
             * only, clips just below the norm: that step is not the
             * unclipped one. (Not at the first step: Adam's first update
             * is +-lr whatever the gradient's scale.) */
            assert_int_equal(nn_model_compute_grads(below, BATCH, x, N_IN, t,
                                                    N_OUT, NULL),
                             NN_OK);
            if (s + 1 == N_STEPS)
                set_param_ok(below, NN_PARAM_CLIP_NORM, norm * 0.99);
            assert_int_equal(nn_model_apply_grads(below), NN_OK);
            if (s + 1 == N_STEPS)
                assert_memory_not_equal(params_of(below), params_of(b),
                                        NP * sizeof(float));
            else
                assert_memory_equal(params_of(below), params_of(b),
                                    NP * sizeof(float));
        }
        nn_model_free(a);
        nn_model_free(b);
        nn_model_free(below);
    }
}

/* ------------------------------------------------------------------------
 * Schedules
 * ------------------------------------------------------------------------ */

/* Steps 0..n_steps: nn_model_step_count and nn_model_current_lr follow the
 * documented closed form. The lr is small so the steps do not matter. */
static void check_schedule(const opt_cfg *c, size_t n_steps)
{
    nn_model *m = make_net();
    size_t s;
    configure(m, c);
    for (s = 0; s <= n_steps; s++) {
        float x[BATCH * N_IN], t[BATCH * N_OUT];
        double lr = -1.0;
        assert_int_equal(nn_model_step_count(m), s);
        assert_int_equal(nn_model_current_lr(m, &lr), NN_OK);
        assert_lr_close(lr, ref_lr(c, s), c->lr);
        batch(s % 3, x, t);
        assert_int_equal(nn_model_train_batch(m, BATCH, x, N_IN, t, N_OUT,
                                              NULL),
                         NN_OK);
    }
    nn_model_free(m);
}

static opt_cfg schedule_cfg(nn_schedule kind, double warmup)
{
    opt_cfg c = cfg_default("schedule", NN_OPT_SGD);
    c.lr = 1e-3;
    c.sched = kind;
    c.step_size = 4.0;
    c.gamma = kind == NN_SCHED_STEP ? 0.5 : 0.8;
    c.t_max = 10.0;
    c.eta_min = 1e-4;
    c.warmup = warmup;
    return c;
}

static void constant_schedule_keeps_the_base_learning_rate(void **st)
{
    opt_cfg c = schedule_cfg(NN_SCHED_CONSTANT, 0.0);
    (void)st;
    check_schedule(&c, 30);
}

static void step_schedule_multiplies_by_gamma_every_step_size_steps(void **st)
{
    opt_cfg c = schedule_cfg(NN_SCHED_STEP, 0.0);
    (void)st;
    check_schedule(&c, 30);
}

static void exponential_schedule_multiplies_by_gamma_every_step(void **st)
{
    opt_cfg c = schedule_cfg(NN_SCHED_EXPONENTIAL, 0.0);
    (void)st;
    check_schedule(&c, 30);
}

static void cosine_schedule_anneals_to_eta_min_and_stays_there(void **st)
{
    opt_cfg c = schedule_cfg(NN_SCHED_COSINE, 0.0);
    (void)st;
    check_schedule(&c, 30);
    /* eta_min above lr, and T_max of one step. */
    c.eta_min = 5e-3;
    c.t_max = 1.0;
    check_schedule(&c, 5);
}

static void warm_up_ramps_linearly_then_starts_each_schedule_at_zero(void **st)
{
    static const nn_schedule kinds[] = {NN_SCHED_CONSTANT, NN_SCHED_STEP,
                                        NN_SCHED_EXPONENTIAL,
                                        NN_SCHED_COSINE};
    size_t k;
    (void)st;
    for (k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        opt_cfg c = schedule_cfg(kinds[k], 5.0);
        check_schedule(&c, 30);
        c.warmup = 1.0;
        check_schedule(&c, 8);
    }
}

static void set_optimizer_resets_the_step_count_and_the_schedule(void **st)
{
    opt_cfg c = schedule_cfg(NN_SCHED_EXPONENTIAL, 2.0);
    nn_model *m = make_net();
    size_t s;
    double lr = 0.0;
    (void)st;
    configure(m, &c);
    for (s = 0; s < 5; s++) {
        float x[BATCH * N_IN], t[BATCH * N_OUT];
        batch(s, x, t);
        assert_int_equal(
            nn_model_train_batch(m, BATCH, x, N_IN, t, N_OUT, NULL), NN_OK);
    }
    assert_int_equal(nn_model_step_count(m), 5);
    assert_int_equal(nn_model_current_lr(m, &lr), NN_OK);
    assert_lr_close(lr, ref_lr(&c, 5), c.lr);

    /* Changing the schedule does not reset the count. */
    assert_int_equal(nn_model_set_schedule(m, NN_SCHED_STEP), NN_OK);
    assert_int_equal(nn_model_step_count(m), 5);
    c.sched = NN_SCHED_STEP;
    assert_int_equal(nn_model_current_lr(m, &lr), NN_OK);
    assert_lr_close(lr, ref_lr(&c, 5), c.lr);

    /* A rejected optimizer changes nothing. */
    assert_int_equal(nn_model_set_optimizer(m, (nn_optimizer)0),
                     NN_E_INVALID);
    assert_int_equal(nn_model_set_optimizer(m, (nn_optimizer)5),
                     NN_E_INVALID);
    assert_int_equal(nn_model_step_count(m), 5);

    /* Choosing the optimizer again, even the same one, resets; the warm-up
     * starts over. */
    assert_int_equal(nn_model_set_optimizer(m, NN_OPT_SGD), NN_OK);
    assert_int_equal(nn_model_step_count(m), 0);
    assert_int_equal(nn_model_current_lr(m, &lr), NN_OK);
    assert_lr_close(lr, ref_lr(&c, 0), c.lr);
    assert_lr_close(lr, c.lr / 2.0, c.lr);

    {
        float x[BATCH * N_IN], t[BATCH * N_OUT];
        batch(0, x, t);
        assert_int_equal(
            nn_model_train_batch(m, BATCH, x, N_IN, t, N_OUT, NULL), NN_OK);
    }
    assert_int_equal(nn_model_step_count(m), 1);
    assert_int_equal(nn_model_set_optimizer(m, NN_OPT_ADAM), NN_OK);
    assert_int_equal(nn_model_step_count(m), 0);
    nn_model_free(m);
}

/* After two Adam steps, choosing Adam again makes the next step exactly the
 * first step of a fresh model holding the same parameters: moments and t
 * are reset, not just the count. Likewise for SGD momentum and RMSprop. */
static void set_optimizer_resets_the_optimizer_state(void **st)
{
    static const nn_optimizer kinds[] = {NN_OPT_SGD, NN_OPT_ADAM,
                                         NN_OPT_ADAMW, NN_OPT_RMSPROP};
    size_t k, s;
    (void)st;
    for (k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        opt_cfg c = cfg_default("reset", kinds[k]);
        nn_model *a = make_net(), *fresh = make_net();
        float x[BATCH * N_IN], t[BATCH * N_OUT];
        c.lr = 0.05;
        c.momentum = 0.9;
        c.wd = 0.01;
        configure(a, &c);
        for (s = 0; s < 2; s++) {
            batch(s, x, t);
            assert_int_equal(
                nn_model_train_batch(a, BATCH, x, N_IN, t, N_OUT, NULL),
                NN_OK);
        }
        assert_int_equal(nn_model_set_optimizer(a, kinds[k]), NN_OK);
        configure(fresh, &c);
        memcpy(params_of(fresh), params_of(a), NP * sizeof(float));
        for (s = 2; s < 4; s++) {
            batch(s, x, t);
            assert_int_equal(
                nn_model_train_batch(a, BATCH, x, N_IN, t, N_OUT, NULL),
                NN_OK);
            assert_int_equal(
                nn_model_train_batch(fresh, BATCH, x, N_IN, t, N_OUT, NULL),
                NN_OK);
            assert_memory_equal(params_of(a), params_of(fresh),
                                NP * sizeof(float));
        }
        nn_model_free(a);
        nn_model_free(fresh);
    }
}

/* ------------------------------------------------------------------------
 * Settings
 * ------------------------------------------------------------------------ */

typedef struct param_doc {
    nn_param key;
    const char *name;
    double def, lo, hi;
    double other; /* a valid value other than the default */
} param_doc;

/* Transcribed from nn.h. */
static const param_doc docs[] = {
    {NN_PARAM_LEARNING_RATE, "LEARNING_RATE", 0.01, 0.0, 1e6, 0.5},
    {NN_PARAM_MOMENTUM, "MOMENTUM", 0.0, 0.0, 0.9999, 0.5},
    {NN_PARAM_NESTEROV, "NESTEROV", 0.0, 0.0, 1.0, 1.0},
    {NN_PARAM_WEIGHT_DECAY, "WEIGHT_DECAY", 0.0, 0.0, 1e3, 2.0},
    {NN_PARAM_BETA1, "BETA1", 0.9, 0.0, 0.9999, 0.5},
    {NN_PARAM_BETA2, "BETA2", 0.999, 0.0, 0.999999, 0.5},
    {NN_PARAM_EPSILON, "EPSILON", 1e-8, 1e-30, 1.0, 1e-4},
    {NN_PARAM_RMSPROP_ALPHA, "RMSPROP_ALPHA", 0.99, 0.0, 0.999999, 0.5},
    {NN_PARAM_CLIP_NORM, "CLIP_NORM", 0.0, 0.0, 1e30, 3.0},
    {NN_PARAM_SCHED_STEP_SIZE, "SCHED_STEP_SIZE", 1000.0, 1.0, 1e15, 7.0},
    {NN_PARAM_SCHED_GAMMA, "SCHED_GAMMA", 0.1, 0.0, 1.0, 0.5},
    {NN_PARAM_SCHED_T_MAX, "SCHED_T_MAX", 1000.0, 1.0, 1e15, 7.0},
    {NN_PARAM_SCHED_ETA_MIN, "SCHED_ETA_MIN", 0.0, 0.0, 1e6, 1e-3},
    {NN_PARAM_WARMUP_STEPS, "WARMUP_STEPS", 0.0, 0.0, 1e15, 5.0},
    {NN_PARAM_EPOCHS, "EPOCHS", 10.0, 1.0, 1e9, 3.0},
    {NN_PARAM_BATCH_SIZE, "BATCH_SIZE", 32.0, 1.0, 1e9, 8.0},
    {NN_PARAM_SHUFFLE, "SHUFFLE", 1.0, 0.0, 1.0, 0.0},
    {NN_PARAM_PATIENCE, "PATIENCE", 0.0, 0.0, 1e9, 2.0},
    {NN_PARAM_CLIP_VALUE, "CLIP_VALUE", 0.0, 0.0, 1e30, 0.5},
    {NN_PARAM_AMSGRAD, "AMSGRAD", 0.0, 0.0, 1.0, 1.0},
    {NN_PARAM_CENTERED, "CENTERED", 0.0, 0.0, 1.0, 1.0},
    {NN_PARAM_DAMPENING, "DAMPENING", 0.0, 0.0, 1.0, 0.5},
    {NN_PARAM_HUBER_DELTA, "HUBER_DELTA", 1.0, 1e-12, 1e30, 0.5},
    {NN_PARAM_LABEL_SMOOTHING, "LABEL_SMOOTHING", 0.0, 0.0, 1.0, 0.1},
};
#define N_DOCS (sizeof docs / sizeof *docs)

static void every_param_default_and_bounds_match_nn_h_and_a_fresh_model(
    void **st)
{
    nn_model *m = NULL;
    size_t i;
    (void)st;
    assert_int_equal(nn_model_create(&m, N_IN, 1), NN_OK);
    for (i = 0; i < N_DOCS; i++) {
        double lo = -1.0, hi = -1.0, def = -1.0, got = -1.0;
        if (nn_param_bounds(docs[i].key, &lo, &hi, &def) != NN_OK)
            fail_msg("nn_param_bounds(%s) fails: %s", docs[i].name,
                     nn_last_error());
        if (lo != docs[i].lo || hi != docs[i].hi || def != docs[i].def)
            fail_msg("%s: bounds [%.17g, %.17g] default %.17g; nn.h says "
                     "[%.17g, %.17g] default %.17g", docs[i].name, lo, hi,
                     def, docs[i].lo, docs[i].hi, docs[i].def);
        assert_int_equal(nn_model_get_param(m, docs[i].key, &got), NN_OK);
        if (got != def)
            fail_msg("%s: a fresh model has %.17g, the default is %.17g",
                     docs[i].name, got, def);
        /* Any of lo, hi, def may be NULL. */
        assert_int_equal(nn_param_bounds(docs[i].key, NULL, NULL, NULL),
                         NN_OK);
    }
    /* Keys outside the enum, including zero. */
    {
        static const int bad_keys[] = {0, -1, NN_PARAM_LABEL_SMOOTHING + 1, 1000};
        double v = 0.0;
        for (i = 0; i < sizeof bad_keys / sizeof *bad_keys; i++) {
            nn_param key = (nn_param)bad_keys[i];
            assert_int_equal(nn_param_bounds(key, &v, &v, &v), NN_E_INVALID);
            assert_int_equal(nn_model_set_param(m, key, 0.0), NN_E_INVALID);
            assert_int_equal(nn_model_get_param(m, key, &v), NN_E_INVALID);
        }
    }
    nn_model_free(m);
}

static void expect_rejected(nn_model *m, const param_doc *d, double value,
                            double kept)
{
    double got = -1.0;
    nn_status s = nn_model_set_param(m, d->key, value);
    if (s != NN_E_INVALID)
        fail_msg("%s = %.17g gives status %d, expected NN_E_INVALID",
                 d->name, value, (int)s);
    assert_true(nn_last_error()[0] != '\0');
    assert_int_equal(nn_model_get_param(m, d->key, &got), NN_OK);
    if (got != kept)
        fail_msg("%s = %.17g was rejected but changed the value from %.17g "
                 "to %.17g", d->name, value, kept, got);
}

static void out_of_range_and_nan_settings_are_rejected_and_change_nothing(
    void **st)
{
    nn_model *m = make_net();
    size_t i;
    (void)st;
    for (i = 0; i < N_DOCS; i++) {
        const param_doc *d = &docs[i];
        /* The bounds are closed. */
        set_param_ok(m, d->key, d->lo);
        set_param_ok(m, d->key, d->hi);
        set_param_ok(m, d->key, d->other);
        expect_rejected(m, d, nextafter(d->lo, -HUGE_VAL), d->other);
        expect_rejected(m, d, nextafter(d->hi, HUGE_VAL), d->other);
        expect_rejected(m, d, d->lo - 1.0, d->other);
        expect_rejected(m, d, d->hi * 2.0 + 1.0, d->other);
        expect_rejected(m, d, NAN, d->other);
        expect_rejected(m, d, -NAN, d->other);
        expect_rejected(m, d, HUGE_VAL, d->other);
        expect_rejected(m, d, -HUGE_VAL, d->other);
    }
    nn_model_free(m);
}

static void nesterov_accepts_only_zero_and_one(void **st)
{
    static const double bad[] = {0.5, 0.25, 0.999, 1e-300};
    nn_model *m = make_net();
    size_t i;
    (void)st;
    assert_int_equal(docs[2].key, NN_PARAM_NESTEROV);
    set_param_ok(m, NN_PARAM_NESTEROV, 1.0);
    for (i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_rejected(m, &docs[2], bad[i], 1.0);
    set_param_ok(m, NN_PARAM_NESTEROV, 0.0);
    for (i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_rejected(m, &docs[2], bad[i], 0.0);
    nn_model_free(m);
}

static void optimizer_and_schedule_calls_reject_bad_arguments(void **st)
{
    nn_model *m = make_net();
    double lr = -1.0;
    (void)st;
    assert_int_equal(nn_model_set_optimizer(NULL, NN_OPT_ADAM), NN_E_NULL);
    assert_int_equal(nn_model_set_schedule(NULL, NN_SCHED_STEP), NN_E_NULL);
    assert_int_equal(nn_model_current_lr(NULL, &lr), NN_E_NULL);
    assert_int_equal(nn_model_current_lr(m, NULL), NN_E_NULL);
    assert_int_equal(nn_model_step_count(NULL), 0);
    assert_int_equal(nn_model_set_optimizer(m, (nn_optimizer)0),
                     NN_E_INVALID);
    assert_int_equal(nn_model_set_optimizer(m, (nn_optimizer)5),
                     NN_E_INVALID);
    assert_int_equal(nn_model_set_schedule(m, (nn_schedule)0), NN_E_INVALID);
    assert_int_equal(nn_model_set_schedule(m, (nn_schedule)5), NN_E_INVALID);
    assert_int_equal(nn_model_current_lr(m, &lr), NN_OK);
    assert_true(lr == 0.01);
    nn_model_free(m);
}

/* ------------------------------------------------------------------------
 * Non-finite steps
 * ------------------------------------------------------------------------ */

static void step_pair(nn_model *a, nn_model *b, size_t s)
{
    float x[BATCH * N_IN], t[BATCH * N_OUT];
    batch(s, x, t);
    assert_int_equal(nn_model_compute_grads(a, BATCH, x, N_IN, t, N_OUT, NULL),
                     NN_OK);
    assert_int_equal(nn_model_apply_grads(a), NN_OK);
    assert_int_equal(nn_model_compute_grads(b, BATCH, x, N_IN, t, N_OUT, NULL),
                     NN_OK);
    assert_int_equal(nn_model_apply_grads(b), NN_OK);
    assert_memory_equal(params_of(a), params_of(b), NP * sizeof(float));
    assert_int_equal(nn_model_step_count(a), nn_model_step_count(b));
}

/* Plain SGD without clipping or decay takes a shorter loop (optim.c);
 * a clip of 1e30, which no gradient here reaches, sends the twin through
 * the general one. The two must agree bit for bit, zeros' signs included:
 * some weights start at +0 and -0, and the first input column is zero in
 * every row, so that their gradients are zeros too. */
static void plain_sgd_short_loop_equals_the_general_one(void **st)
{
    static const float zeros[4] = {0.0f, -0.0f, 0.0f, -0.0f};
    nn_model *a = make_net(), *b = make_net();
    size_t s;
    (void)st;
    assert_int_equal(nn_model_set_optimizer(a, NN_OPT_SGD), NN_OK);
    assert_int_equal(nn_model_set_optimizer(b, NN_OPT_SGD), NN_OK);
    set_param_ok(a, NN_PARAM_LEARNING_RATE, 0.05);
    set_param_ok(b, NN_PARAM_LEARNING_RATE, 0.05);
    set_param_ok(b, NN_PARAM_CLIP_VALUE, 1e30);
    memcpy(params_of(a) + OFF_W0, zeros, sizeof zeros);
    memcpy(params_of(b) + OFF_W0, zeros, sizeof zeros);
    for (s = 0; s < 60; s++) {
        float x[BATCH * N_IN], t[BATCH * N_OUT];
        size_t r;
        batch(s, x, t);
        for (r = 0; r < BATCH; r++)
            x[r * N_IN] = 0.0f;
        assert_int_equal(nn_model_train_batch(a, BATCH, x, N_IN, t, N_OUT,
                                              NULL), NN_OK);
        assert_int_equal(nn_model_train_batch(b, BATCH, x, N_IN, t, N_OUT,
                                              NULL), NN_OK);
        assert_memory_equal(params_of(a), params_of(b), NP * sizeof(float));
    }
    /* the first input's weights met only zero gradients: still zeros */
    for (s = 0; s < 4; s++)
        assert_true(params_of(a)[OFF_W0 + s] == 0.0f);
    nn_model_free(a);
    nn_model_free(b);
}

/* Snapshot of what a failed step must leave alone. */
typedef struct snapshot {
    float p[NP];
    uint64_t steps;
    double lr;
} snapshot;

static void take_snapshot(nn_model *m, snapshot *sn)
{
    memcpy(sn->p, params_of(m), sizeof sn->p);
    sn->steps = nn_model_step_count(m);
    assert_int_equal(nn_model_current_lr(m, &sn->lr), NN_OK);
}

static void assert_unchanged(nn_model *m, const snapshot *sn)
{
    double lr = -1.0;
    assert_memory_equal(params_of(m), sn->p, sizeof sn->p);
    assert_int_equal(nn_model_step_count(m), sn->steps);
    assert_int_equal(nn_model_current_lr(m, &lr), NN_OK);
    assert_true(lr == sn->lr);
}

static opt_cfg stateful_cfg(nn_optimizer kind)
{
    opt_cfg c = cfg_default("stateful", kind);
    c.lr = kind == NN_OPT_SGD ? 0.1 : 0.01;
    c.momentum = 0.9;
    c.nesterov = kind == NN_OPT_SGD ? 1.0 : 0.0;
    c.wd = 0.05;
    c.sched = NN_SCHED_EXPONENTIAL;
    c.gamma = 0.9;
    return c;
}

/* A gradient set to +inf, -inf or NaN through nn_model_grads: apply_grads
 * returns NN_E_NONFINITE and changes no parameter and no state. The bad
 * value is the last parameter's, so an update that works in place and
 * stops at the bad value would already have changed the others (and their
 * moments). Two more valid steps on this model and on a twin that never
 * saw the failure must agree bit for bit. */
static void a_non_finite_gradient_is_rejected_and_changes_no_state(void **st)
{
    static const nn_optimizer kinds[] = {NN_OPT_SGD, NN_OPT_ADAM,
                                         NN_OPT_ADAMW, NN_OPT_RMSPROP};
    static const size_t bad_index[] = {NP - 1, 0};
    const float bad_values[] = {INFINITY, -INFINITY, NAN};
    size_t k, v, j, s;
    (void)st;
    for (k = 0; k < sizeof kinds / sizeof *kinds; k++)
        for (v = 0; v < sizeof bad_values / sizeof *bad_values; v++)
            for (j = 0; j < 2; j++) {
                opt_cfg c = stateful_cfg(kinds[k]);
                nn_model *a = make_net(), *b = make_net();
                float x[BATCH * N_IN], t[BATCH * N_OUT];
                size_t idx = bad_index[j];
                snapshot sn;
                configure(a, &c);
                configure(b, &c);
                step_pair(a, b, 0);
                step_pair(a, b, 1);
                batch(2, x, t);
                assert_int_equal(
                    nn_model_compute_grads(a, BATCH, x, N_IN, t, N_OUT, NULL),
                    NN_OK);
                take_snapshot(a, &sn);
                grads_of(a)[idx] = bad_values[v];
                assert_int_equal(nn_model_apply_grads(a), NN_E_NONFINITE);
                assert_true(nn_last_error()[0] != '\0');
                assert_unchanged(a, &sn);
                for (s = 2; s < 5; s++)
                    step_pair(a, b, s);
                nn_model_free(a);
                nn_model_free(b);
            }
}

/* SGD with momentum: finite gradients, but lr 1e6 times a gradient of 1e35
 * (in the last parameter only) overflows float. The momentum buffer must not
 * have taken the huge gradient in. */
static void an_update_that_overflows_is_rejected_and_changes_no_momentum(
    void **st)
{
    opt_cfg c = stateful_cfg(NN_OPT_SGD);
    nn_model *a = make_net(), *b = make_net();
    float x[BATCH * N_IN], t[BATCH * N_OUT];
    snapshot sn;
    size_t s;
    (void)st;
    configure(a, &c);
    configure(b, &c);
    step_pair(a, b, 0);
    step_pair(a, b, 1);
    batch(2, x, t);
    set_param_ok(a, NN_PARAM_LEARNING_RATE, 1e6);
    assert_int_equal(nn_model_compute_grads(a, BATCH, x, N_IN, t, N_OUT, NULL),
                     NN_OK);
    take_snapshot(a, &sn);
    grads_of(a)[NP - 1] = 1e35f;
    assert_int_equal(nn_model_apply_grads(a), NN_E_NONFINITE);
    assert_unchanged(a, &sn);
    set_param_ok(a, NN_PARAM_LEARNING_RATE, c.lr);
    for (s = 2; s < 5; s++)
        step_pair(a, b, s);
    nn_model_free(a);
    nn_model_free(b);
}

/* AdamW: a parameter of 3e38 decayed by w -= lr wd w with lr wd = 10
 * becomes -2.7e39, beyond float, although gradients and moments are
 * finite. The step must change no parameter and no moment. */
static void an_adamw_decay_that_overflows_is_rejected_and_changes_no_moment(
    void **st)
{
    opt_cfg c = stateful_cfg(NN_OPT_ADAMW);
    nn_model *a = make_net(), *b = make_net();
    snapshot sn;
    float saved;
    size_t s;
    (void)st;
    configure(a, &c);
    configure(b, &c);
    step_pair(a, b, 0);
    step_pair(a, b, 1);
    /* The gradient buffer still holds step 2's finite gradients. */
    saved = params_of(a)[NP - 1];
    params_of(a)[NP - 1] = 3e38f;
    set_param_ok(a, NN_PARAM_LEARNING_RATE, 1.0);
    set_param_ok(a, NN_PARAM_WEIGHT_DECAY, 11.0);
    take_snapshot(a, &sn);
    assert_int_equal(nn_model_apply_grads(a), NN_E_NONFINITE);
    assert_unchanged(a, &sn);
    params_of(a)[NP - 1] = saved;
    set_param_ok(a, NN_PARAM_LEARNING_RATE, c.lr);
    set_param_ok(a, NN_PARAM_WEIGHT_DECAY, c.wd);
    for (s = 2; s < 5; s++)
        step_pair(a, b, s);
    nn_model_free(a);
    nn_model_free(b);
}

/* nn_model_train_batch with lr 1e6 and targets of 1e34: the gradients
 * (~1e33) are finite in float but the update is not. */
static void train_batch_with_huge_lr_and_gradients_is_rejected(void **st)
{
    static const nn_optimizer kinds[] = {NN_OPT_SGD};
    size_t k, s, i;
    (void)st;
    for (k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        opt_cfg c = stateful_cfg(kinds[k]);
        nn_model *a = make_net(), *b = make_net();
        float x[BATCH * N_IN], t[BATCH * N_OUT];
        double loss = 0.0;
        snapshot sn;
        configure(a, &c);
        configure(b, &c);
        step_pair(a, b, 0);
        step_pair(a, b, 1);
        batch(2, x, t);
        for (i = 0; i < BATCH * N_OUT; i++)
            t[i] = 1e34f;
        set_param_ok(a, NN_PARAM_LEARNING_RATE, 1e6);
        take_snapshot(a, &sn);
        assert_int_equal(
            nn_model_train_batch(a, BATCH, x, N_IN, t, N_OUT, &loss),
            NN_E_NONFINITE);
        assert_unchanged(a, &sn);
        set_param_ok(a, NN_PARAM_LEARNING_RATE, c.lr);
        for (s = 2; s < 5; s++)
            step_pair(a, b, s);
        nn_model_free(a);
        nn_model_free(b);
    }
}

/* A failed first step does not start the optimizer: the next valid step is
 * step 1 (Adam's bias correction with t = 1, SGD's b = g). */
static void a_failed_first_step_does_not_start_the_optimizer(void **st)
{
    static const nn_optimizer kinds[] = {NN_OPT_SGD, NN_OPT_ADAM,
                                         NN_OPT_ADAMW, NN_OPT_RMSPROP};
    size_t k, s;
    (void)st;
    for (k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        opt_cfg c = stateful_cfg(kinds[k]);
        nn_model *a = make_net(), *b = make_net();
        float x[BATCH * N_IN], t[BATCH * N_OUT];
        snapshot sn;
        configure(a, &c);
        configure(b, &c);
        batch(0, x, t);
        assert_int_equal(
            nn_model_compute_grads(a, BATCH, x, N_IN, t, N_OUT, NULL), NN_OK);
        take_snapshot(a, &sn);
        grads_of(a)[NP - 1] = INFINITY;
        assert_int_equal(nn_model_apply_grads(a), NN_E_NONFINITE);
        assert_unchanged(a, &sn);
        assert_int_equal(nn_model_step_count(a), 0);
        for (s = 0; s < 3; s++)
            step_pair(a, b, s);
        nn_model_free(a);
        nn_model_free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* optimizers */
        cmocka_unit_test(sgd_is_the_default_optimizer_and_matches_plain_descent),
        cmocka_unit_test(sgd_first_three_steps_match_documented_formula),
        cmocka_unit_test(
            sgd_momentum_first_three_steps_match_documented_formula),
        cmocka_unit_test(
            sgd_nesterov_first_three_steps_match_documented_formula),
        cmocka_unit_test(adam_first_three_steps_match_documented_formula),
        cmocka_unit_test(
            adam_with_l2_decay_first_three_steps_match_documented_formula),
        cmocka_unit_test(adamw_first_three_steps_match_documented_formula),
        cmocka_unit_test(rmsprop_first_three_steps_match_documented_formula),
        cmocka_unit_test(
            rmsprop_with_l2_decay_first_three_steps_match_documented_formula),
        cmocka_unit_test(
            rmsprop_momentum_first_three_steps_match_documented_formula),
        cmocka_unit_test(
            sgd_dampening_first_three_steps_match_documented_formula),
        cmocka_unit_test(
            adam_amsgrad_first_three_steps_match_documented_formula),
        cmocka_unit_test(
            adamw_amsgrad_first_three_steps_match_documented_formula),
        cmocka_unit_test(
            rmsprop_centered_first_three_steps_match_documented_formula),
        cmocka_unit_test(
            rmsprop_centered_momentum_first_three_steps_match_formula),
        cmocka_unit_test(clipping_by_value_clamps_each_gradient_before_the_norm),
        cmocka_unit_test(plain_sgd_clipped_by_value_matches_documented_formula),
        cmocka_unit_test(steps_use_the_exponentially_decayed_learning_rate),
        cmocka_unit_test(steps_use_the_warmed_up_learning_rate),
        cmocka_unit_test(train_batch_equals_compute_then_apply_bit_for_bit),
        /* clipping */
        cmocka_unit_test(sgd_clipping_scales_gradients_before_weight_decay),
        cmocka_unit_test(adam_clipping_scales_gradients_before_weight_decay),
        cmocka_unit_test(clipping_divides_by_norm_plus_1e_minus_6),
        cmocka_unit_test(clipping_changes_nothing_when_norm_is_within_clip),
        /* schedules */
        cmocka_unit_test(constant_schedule_keeps_the_base_learning_rate),
        cmocka_unit_test(
            step_schedule_multiplies_by_gamma_every_step_size_steps),
        cmocka_unit_test(exponential_schedule_multiplies_by_gamma_every_step),
        cmocka_unit_test(cosine_schedule_anneals_to_eta_min_and_stays_there),
        cmocka_unit_test(
            warm_up_ramps_linearly_then_starts_each_schedule_at_zero),
        cmocka_unit_test(set_optimizer_resets_the_step_count_and_the_schedule),
        cmocka_unit_test(set_optimizer_resets_the_optimizer_state),
        /* settings */
        cmocka_unit_test(
            every_param_default_and_bounds_match_nn_h_and_a_fresh_model),
        cmocka_unit_test(
            out_of_range_and_nan_settings_are_rejected_and_change_nothing),
        cmocka_unit_test(nesterov_accepts_only_zero_and_one),
        cmocka_unit_test(optimizer_and_schedule_calls_reject_bad_arguments),
        /* non-finite steps */
        cmocka_unit_test(plain_sgd_short_loop_equals_the_general_one),
        cmocka_unit_test(a_non_finite_gradient_is_rejected_and_changes_no_state),
        cmocka_unit_test(
            an_update_that_overflows_is_rejected_and_changes_no_momentum),
        cmocka_unit_test(
            an_adamw_decay_that_overflows_is_rejected_and_changes_no_moment),
        cmocka_unit_test(train_batch_with_huge_lr_and_gradients_is_rejected),
        cmocka_unit_test(a_failed_first_step_does_not_start_the_optimizer),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    printf("test_optim: worst parameter error %.3g x tolerance (abs %.3g, "
           "rel %.3g); weakest wrong-formula margin %.3g x tolerance\n",
           g_worst_ratio, g_worst_abs, g_worst_rel, g_weakest_flaw);
    return failed;
}
