/* SPDX-License-Identifier: MIT */
/*
 * optim.c - optimizers (SGD with momentum or Nesterov, Adam, AdamW,
 * RMSprop), gradient clipping and learning-rate schedules: everything that
 * turns the gradient buffer into new parameters. The rules are the ones
 * PyTorch documents for torch.optim, written out in nn.h.
 */
#include "nn_internal.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

void nn__optim_reset(nn_model *m)
{
    int a;
    for (a = 0; a < NN__STATE_ARRAYS; a++) {
        nn__free_lines(m->state[a]);
        m->state[a] = NULL;
    }
    m->b_bound_ok = 0;
    m->steps = 0;
}

nn_status nn_model_set_optimizer(nn_model *model, nn_optimizer kind)
{
    if (!model)
        return nn__fail(NN_E_NULL, "nn_model_set_optimizer: model is NULL");
    if ((int)kind < NN_OPT_SGD || (int)kind > NN_OPT_RMSPROP)
        return nn__fail(NN_E_INVALID,
                        "nn_model_set_optimizer: kind is %d, not an "
                        "nn_optimizer", (int)kind);
    nn__optim_reset(model);
    nn__fit_run_end(model);
    model->opt = (int)kind;
    return NN_OK;
}

nn_optimizer nn_model_optimizer(const nn_model *model)
{
    return (nn_optimizer)(model ? model->opt : 0);
}

nn_schedule nn_model_schedule(const nn_model *model)
{
    return (nn_schedule)(model ? model->sched : 0);
}

nn_status nn_model_set_schedule(nn_model *model, nn_schedule kind)
{
    if (!model)
        return nn__fail(NN_E_NULL, "nn_model_set_schedule: model is NULL");
    if ((int)kind < NN_SCHED_CONSTANT || (int)kind > NN_SCHED_COSINE)
        return nn__fail(NN_E_INVALID,
                        "nn_model_set_schedule: kind is %d, not an "
                        "nn_schedule", (int)kind);
    model->sched = (int)kind;
    return NN_OK;
}

uint64_t nn_model_step_count(const nn_model *model)
{
    return model ? model->steps : 0;
}

/* The learning rate of the step that follows `steps` completed ones. */
static double scheduled_lr(const nn_model *m)
{
    const double *p = m->param;
    double base = p[NN_PARAM_LEARNING_RATE];
    double s = (double)m->steps, warm = p[NN_PARAM_WARMUP_STEPS], t;
    if (s < warm)
        return base * (s + 1.0) / warm;
    t = s - warm;
    switch (m->sched) {
    case NN_SCHED_STEP:
        return base * pow(p[NN_PARAM_SCHED_GAMMA],
                          floor(t / p[NN_PARAM_SCHED_STEP_SIZE]));
    case NN_SCHED_EXPONENTIAL:
        return base * pow(p[NN_PARAM_SCHED_GAMMA], t);
    case NN_SCHED_COSINE: {
        double tmax = p[NN_PARAM_SCHED_T_MAX], lo = p[NN_PARAM_SCHED_ETA_MIN];
        double tc = t < tmax ? t : tmax;
        return lo + (base - lo) * (1.0 + cos(M_PI * tc / tmax)) / 2.0;
    }
    default:
        return base;
    }
}

nn_status nn_model_current_lr(const nn_model *model, double *lr)
{
    if (!model || !lr)
        return nn__fail(NN_E_NULL, "nn_model_current_lr: %s is NULL",
                        model ? "lr" : "model");
    *lr = scheduled_lr(model);
    return NN_OK;
}

/* One step's constants, worked out once. */
typedef struct nn__step {
    double lr, coef, wd, mu, b1, b2, eps, alpha, bc1, bc2, damp, clip;
    int nesterov, amsgrad, centered;
} nn__step;

/* The update, element by element. Each optimizer's rule is written once,
 * as COMPUTE below, and expanded into two loops: one that only checks that
 * every new value is finite, and one that stores them. Both compute the
 * same numbers, so checking first and writing after gives an all-or-nothing
 * step without copying the parameters or the state. The loops have no
 * branches, so they vectorise and run at memory speed. The arithmetic is
 * float, as in PyTorch's own optimizers; the step's constants (learning
 * rate, bias corrections) are worked out in double. */
#define NN__FIN(x) (fabsf(x) <= FLT_MAX)

/* Runs COMPUTE (which sets w and the state values s0, s1, s2 from p[i],
 * the clipped gradient, a[i], b[i], c[i]) over all elements, ANDing the
 * finiteness of w, s0, s1, s2 into ok; then, if all are finite and write
 * is set, runs it again with STORE. One call does both passes, so a small
 * net pays the set-up once. */
#define NN__UPDATE(COMPUTE, STORE)                                           \
    do {                                                                     \
        for (i = 0; i < n; i++) {                                            \
            float w, s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, gc = CLIP(g[i]);       \
            COMPUTE;                                                         \
            ok &= NN__FIN(w) & NN__FIN(s0) & NN__FIN(s1) & NN__FIN(s2);      \
            (void)gc;                                                        \
        }                                                                    \
        if (ok && write)                                                     \
            for (i = 0; i < n; i++) {                                        \
                float w, s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, gc = CLIP(g[i]);   \
                COMPUTE;                                                     \
                STORE;                                                       \
                (void)gc;                                                    \
                (void)s0;                                                    \
                (void)s1;                                                    \
                (void)s2;                                                    \
            }                                                                \
    } while (0)

/* Clipping by value: v clamped to [-clip, clip]; clip is infinite when
 * clipping is off, and then every v, NaN included, passes unchanged. */
#define CLIP(v) ((v) > clip ? clip : ((v) < -clip ? -clip : (v)))

/* Returns whether every new value of the update is finite, and if so and
 * write is set, applies it; nothing is written otherwise. Momentum buffers
 * start at zero, so b = mu b + g is PyTorch's b = g on the first step. */
NN__VECTOR_CLONES
static int update(nn_model *m, const nn__step *c, int write)
{
    size_t i, n = m->n_params;
    float *restrict p = m->params, *restrict a = m->state[0];
    float *restrict b = m->state[1], *restrict cs = m->state[2];
    const float *restrict g = m->grads;
    const float k = (float)c->coef, lr = (float)c->lr, wd = (float)c->wd;
    const float mu = (float)c->mu, damp = (float)c->damp;
    const float clip = (float)c->clip;
    int ok = 1;

    switch (m->opt) {
    case NN_OPT_SGD:
        /* plain SGD without clipping or decay: the same bits as the line
         * after it, in fewer operations for the small nets. g passes the
         * infinite clip unchanged; with finite weights, +0 p is a zero of
         * p's sign, which changes no sum but one of two zeros, and then
         * only to the zero that p - lr (...) gives in either form (a
         * decay of -0 could show, hence the sign test) */
        if (mu == 0.0f && wd == 0.0f && !signbit(wd) && clip == INFINITY)
            NN__UPDATE(w = p[i] - lr * (k * g[i]), p[i] = w);
        else if (mu == 0.0f)
            NN__UPDATE(w = p[i] - lr * (k * gc + wd * p[i]),
                       p[i] = w);
        else if (!c->nesterov)
            NN__UPDATE((s0 = mu * a[i] + damp * (k * gc + wd * p[i]),
                        w = p[i] - lr * s0),
                       (p[i] = w, a[i] = s0));
        else
            NN__UPDATE((s1 = k * gc + wd * p[i], s0 = mu * a[i] + damp * s1,
                        w = p[i] - lr * (s1 + mu * s0), s1 = 0.0f),
                       (p[i] = w, a[i] = s0));
        break;
    case NN_OPT_ADAM:
    case NN_OPT_ADAMW: {
        /* AdamW decays the weight itself, as PyTorch does:
         * w *= 1 - lr wd; Adam adds wd w to the gradient. */
        const float shrink =
            m->opt == NN_OPT_ADAMW ? (float)(1.0 - c->lr * c->wd) : 1.0f;
        const float l2 = m->opt == NN_OPT_ADAMW ? 0.0f : wd;
        /* constants as PyTorch forms them, in double, then rounded */
        const float b1 = (float)c->b1, b2 = (float)c->b2;
        const float omb1 = (float)(1.0 - c->b1), omb2 = (float)(1.0 - c->b2);
        const float eps = (float)c->eps, step = (float)(c->lr / c->bc1);
        const float rbc2 = (float)sqrt(c->bc2);
        if (!c->amsgrad)
            NN__UPDATE((w = k * gc + l2 * p[i],
                        s0 = b1 * a[i] + omb1 * w,
                        s1 = b2 * b[i] + omb2 * w * w,
                        w = p[i] * shrink -
                            step * s0 / (sqrtf(s1) / rbc2 + eps)),
                       (p[i] = w, a[i] = s0, b[i] = s1));
        else /* AMSGrad: the largest second moment so far, in c */
            NN__UPDATE((w = k * gc + l2 * p[i],
                        s0 = b1 * a[i] + omb1 * w,
                        s1 = b2 * b[i] + omb2 * w * w,
                        s2 = cs[i] > s1 ? cs[i] : s1,
                        w = p[i] * shrink -
                            step * s0 / (sqrtf(s2) / rbc2 + eps)),
                       (p[i] = w, a[i] = s0, b[i] = s1, cs[i] = s2));
        break;
    }
    default: { /* NN_OPT_RMSPROP */
        const float al = (float)c->alpha, oma = (float)(1.0 - c->alpha);
        const float eps = (float)c->eps;
        /* centered: the average gradient s2 (kept in c), and the square
         * average less its square, kept at 0 or above, in place of the
         * square average */
        if (mu == 0.0f && !c->centered)
            NN__UPDATE((w = k * gc + wd * p[i],
                        s1 = al * b[i] + oma * w * w,
                        w = p[i] - lr * w / (sqrtf(s1) + eps)),
                       (p[i] = w, b[i] = s1));
        else if (!c->centered)
            NN__UPDATE((w = k * gc + wd * p[i],
                        s1 = al * b[i] + oma * w * w,
                        s0 = mu * a[i] + w / (sqrtf(s1) + eps),
                        w = p[i] - lr * s0),
                       (p[i] = w, a[i] = s0,
                        b[i] = s1));
        else if (mu == 0.0f)
            NN__UPDATE((w = k * gc + wd * p[i],
                        s1 = al * b[i] + oma * w * w,
                        s2 = al * cs[i] + oma * w,
                        w = p[i] - lr * w /
                                       (sqrtf(s1 - s2 * s2 > 0.0f
                                                  ? s1 - s2 * s2
                                                  : 0.0f) +
                                        eps)),
                       (p[i] = w, b[i] = s1, cs[i] = s2));
        else
            NN__UPDATE((w = k * gc + wd * p[i],
                        s1 = al * b[i] + oma * w * w,
                        s2 = al * cs[i] + oma * w,
                        s0 = mu * a[i] + w / (sqrtf(s1 - s2 * s2 > 0.0f
                                                        ? s1 - s2 * s2
                                                        : 0.0f) +
                                              eps),
                        w = p[i] - lr * s0),
                       (p[i] = w, a[i] = s0, b[i] = s1, cs[i] = s2));
        break;
    }
    }
    return ok;
}

#undef NN__UPDATE

/* Cuts v, a copy of m, to the count elements of m's arrays from lo. */
static void cut(nn_model *v, const nn_model *m, size_t lo, size_t count)
{
    int a;
    /* a model without parameters has NULL arrays, and NULL + 0 is
     * undefined behaviour in C */
    v->params = m->params ? m->params + lo : NULL;
    v->grads = m->grads ? m->grads + lo : NULL;
    for (a = 0; a < NN__STATE_ARRAYS; a++)
        v->state[a] = m->state[a] ? m->state[a] + lo : NULL;
    v->n_params = count;
}

/* The first parameter whose update is not finite, for the message (only
 * after update() found one): bisects with update() on a view of the model
 * whose arrays are cut to [lo, hi). */
static size_t update_first_bad(const nn_model *m, const nn__step *c)
{
    nn_model v = *m;
    size_t lo = 0, hi = m->n_params;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        cut(&v, m, lo, mid - lo);
        if (update(&v, c, 0))
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

unsigned nn__optim_max_arrays(int opt)
{
    return opt == NN_OPT_SGD ? 1 : 3;
}

/* Allocates the arrays [0, count) that are missing; *added gets a bit per
 * array allocated. */
static nn_status alloc_arrays(const char *fn, nn_model *m, unsigned count,
                              unsigned *added)
{
    unsigned a;
    *added = 0;
    for (a = 0; a < count; a++) {
        if (m->state[a])
            continue;
        m->state[a] = (float *)nn__calloc_lines(
            m->n_params ? m->n_params : 1, sizeof(float));
        if (!m->state[a]) {
            nn__optim_unprepare(m, *added);
            *added = 0;
            return nn__fail(NN_E_NOMEM,
                            "%s: allocating the optimizer state for %zu "
                            "parameters failed", fn, m->n_params);
        }
        *added |= 1u << a;
    }
    return NN_OK;
}

nn_status nn__optim_prepare_arrays(const char *fn, nn_model *m,
                                   unsigned *added)
{
    unsigned mine;
    nn_status st = alloc_arrays(fn, m, nn__optim_arrays(m), &mine);
    if (added)
        *added = mine;
    return st;
}

void nn__optim_unprepare(nn_model *m, unsigned added)
{
    int a;
    for (a = 0; a < NN__STATE_ARRAYS; a++)
        if (added & (1u << a)) {
            nn__free_lines(m->state[a]);
            m->state[a] = NULL;
        }
}

nn_status nn__optim_alloc(const char *fn, nn_model *m, unsigned count)
{
    unsigned added;
    nn__optim_reset(m);
    return alloc_arrays(fn, m, count, &added);
}

/* NN_OK if every gradient is finite, else a message naming the layer. The
 * first pass is branch-free (it vectorises and costs a read of the
 * buffer); the second, which finds the culprit, runs only on failure. */
nn_status nn__check_grads(const char *fn, const nn_model *m)
{
    size_t l, i, n = m->n_params;
    const float *restrict g = m->grads;
    int ok = 1;
    for (i = 0; i < n; i++)
        ok &= isfinite(g[i]) != 0;
    if (ok)
        return NN_OK;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        const float *gl = m->grads + L->w_off;
        size_t count = L->w_count + L->b_count;
        for (i = 0; i < count; i++)
            if (!isfinite(gl[i]))
                return nn__fail(NN_E_NONFINITE,
                                "%s: the gradient of layer %zu is not finite "
                                "(%s[%zu] = %g); no parameter was changed",
                                fn, l, i < L->w_count ? "dW" : "db",
                                i < L->w_count ? i : i - L->w_count,
                                (double)gl[i]);
    }
    return NN_OK;
}

/* The constants of the next step, gradient clipping aside (coef = 1):
 * those every rule reads, then those of the model's optimizer (the others
 * stay 0; a tiny net's step feels each one). */
static void step_constants(const nn_model *m, nn__step *c)
{
    const double *p = m->param;
    double t;
    /* field by field: a copy of a zero struct compiles to `rep stos`,
     * whose start-up is slow for a struct this small */
    c->b1 = c->b2 = c->eps = c->alpha = 0.0;
    c->nesterov = c->amsgrad = c->centered = 0;
    c->coef = 1.0;
    c->lr = scheduled_lr(m);
    c->wd = p[NN_PARAM_WEIGHT_DECAY];
    c->mu = p[NN_PARAM_MOMENTUM];
    /* PyTorch's momentum buffer is the gradient itself at the first step:
     * dampening applies from the second */
    c->damp = m->steps == 0 ? 1.0 : 1.0 - p[NN_PARAM_DAMPENING];
    c->clip = p[NN_PARAM_CLIP_VALUE] > 0.0 ? p[NN_PARAM_CLIP_VALUE]
                                           : (double)INFINITY;
    c->bc1 = c->bc2 = 1.0;
    switch (m->opt) {
    case NN_OPT_ADAM:
    case NN_OPT_ADAMW:
        c->b1 = p[NN_PARAM_BETA1];
        c->b2 = p[NN_PARAM_BETA2];
        c->eps = p[NN_PARAM_EPSILON];
        c->amsgrad = p[NN_PARAM_AMSGRAD] != 0.0;
        /* Once beta^t is below the smallest double it is 0; pow's
         * underflow path is slow, and this runs every step. */
        t = (double)m->steps + 1.0;
        if (t * log(c->b1) > -700.0)
            c->bc1 = 1.0 - pow(c->b1, t);
        if (t * log(c->b2) > -700.0)
            c->bc2 = 1.0 - pow(c->b2, t);
        break;
    case NN_OPT_RMSPROP:
        c->eps = p[NN_PARAM_EPSILON];
        c->alpha = p[NN_PARAM_RMSPROP_ALPHA];
        c->centered = p[NN_PARAM_CENTERED] != 0.0;
        break;
    default: /* SGD */
        c->nesterov = p[NN_PARAM_NESTEROV] != 0.0;
        break;
    }
}

nn_status nn__optim_step(const char *fn, nn_model *m)
{
    const double *p = m->param;
    double norm2 = 0.0;
    size_t i;
    nn__step c;
    unsigned added;
    nn_status st = nn__optim_prepare(fn, m, &added);
    if (st != NN_OK)
        return st;

    step_constants(m, &c);
    if (p[NN_PARAM_CLIP_NORM] > 0.0) {
        const float clip = (float)c.clip;
        double norm;
        for (i = 0; i < m->n_params; i++) {
            float gc = CLIP(m->grads[i]);
            norm2 += (double)gc * gc;
        }
        norm = sqrt(norm2);
        if (norm > p[NN_PARAM_CLIP_NORM])
            c.coef = p[NN_PARAM_CLIP_NORM] / (norm + 1e-6);
    }

    nn__params_written(m);
    if (!update(m, &c, 1)) {
        /* Name the layer if the gradients are to blame. */
        size_t bad = update_first_bad(m, &c);
        st = nn__check_grads(fn, m);
        if (st == NN_OK)
            st = nn__fail(NN_E_NONFINITE,
                          "%s: the update of parameter %zu (value %g, "
                          "gradient %g, learning rate %g) is not finite; no "
                          "parameter was changed", fn, bad,
                          (double)m->params[bad], (double)m->grads[bad],
                          c.lr);
        nn__optim_unprepare(m, added);
        return st;
    }
    m->steps++;
    return NN_OK;
}

nn_status nn_model_apply_grads(nn_model *model)
{
    static const char fn[] = "nn_model_apply_grads";
    if (!model)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    if (model->n_params == 0)
        return nn__fail(NN_E_STATE, "%s: the model has no %s", fn,
                        model->n_layers ? "parameters" : "layers");
    return nn__optim_step(fn, model);
}

/* ---- SGD folded into the products ----
 *
 * Plain SGD (no momentum, no clipping) changes a layer's weights by
 * W = (1 - lr wd) W - lr dW with dW = A_prevᵀ . G: one matrix product with
 * alpha = -lr and beta = 1 - lr wd, written straight into W. The gradient
 * buffer is then neither written by the product nor read by an update
 * pass, and the update runs inside BLAS on all its threads. (For
 * 784-1024-1024-10 at batch 256 the separate update took 465 us beside a
 * 24 ms step at 1 thread, and 1058 us beside 14.3 ms at 2:
 * bench/results/split-step.txt.)
 *
 * SGD with classical momentum (not Nesterov's, which needs the gradient
 * itself) folds the same way into the momentum buffer B: the product adds
 * damp dW to B = mu B (beta = mu; with weight decay, a pass forms
 * B = mu B + damp wd W first and beta is 1), then one pass makes
 * W -= lr B. That replaces the separate update's two passes over W, dW
 * and B (check, then write) and the product's own pass that clears dW.
 * Its bound: B's largest magnitude is read (one pass over the buffer);
 * with b_max that and w_max, w_add below, every partial sum of the
 * product is at most ((mu b_max + damp wd w_max) grow + damp w_add) grow
 * (grow as fused_ready works it out), so every new B value, and
 * every new weight, at most (w_max + lr that) grow, is finite when those
 * are at most 2^126.
 *
 * The step stays all or nothing. Before any weight changes, a bound on the
 * weights, one read of x, and the largest magnitudes of the hidden
 * activations and of the deltas (noted by the passes that wrote them:
 * act_top, delta_top), show that every new weight is finite: all are
 * finite, |W| <= 2^126, |beta| <= 1, and
 * n max|A| max|G| max(1, lr) <= 2^100 with n <= 2^24. Then every partial
 * sum of the product, in whatever order and blocking BLAS forms it, is at
 * most n max|A| max|G| (1 + 2^-24)^n < 2^102 / max(1, lr), and a new
 * weight at most 2^126 + 2^102 < FLT_MAX. The biases take the optimizer's
 * own check. Where any of this fails, nothing has changed and the step
 * takes the general path, which finds and reports the culprit exactly.
 *
 * The bound on the weights is their largest magnitude, read from the
 * parameters, or, after a folded step, a bound worked out from the
 * previous one without reading them (nn__optim_fused). Reading 2 x 4096 x
 * 4096 weights took 3.5 ms beside a 218 ms step at 2 threads, where it was
 * the largest part of the step besides the products. Any other write to
 * the parameters, and nn_model_params (which lets the caller write them),
 * makes the next check read them again; so does a bound above 2^126.
 *
 * The result agrees with nn_model_compute_grads + nn_model_apply_grads to
 * float rounding, not bit for bit: BLAS adds -lr dW to W as it goes. */

/* The float whose bits nn__abs_bits gave (a magnitude), or -1 if they are
 * an infinity's or a NaN's. */
static double bits_value(uint32_t bits)
{
    float f;
    if (bits > 0x7f7fffffu) /* FLT_MAX */
        return -1.0;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* What the checks of the folded step work out: the step's constants, a
 * bound on every |weight| (w_max), the largest n max|A| max|G| of a layer
 * (w_add), and with momentum the largest |B| (b_max) and the bound on
 * every new B value (b_next); w_next bounds every new weight. */
typedef struct nn__fold {
    nn__step c;
    double w_max, w_add, b_max, b_next, w_next;
    int momentum;
} nn__fold;

/* 1 + 2 (n + 3) 2^-24: what n + 3 roundings of relative size 2^-24 can
 * grow a sum by, for n <= 2^24 (see fused_ready). */
static double fold_growth(size_t n)
{
    return 1.0 + 2.0 * ((double)n + 3.0) * ldexp(1.0, -24);
}

/* A bound worked out in double, made safe against the double arithmetic's
 * own rounding (2^-40) and against results below float's normal range
 * (2^-100). */
static double fold_safe(double v)
{
    return v * (1.0 + ldexp(1.0, -40)) + ldexp(1.0, -100);
}

/* The checks of the folded step, filling *f. The layers whose weights
 * form in a product (weight_product) fold; every other parameter takes
 * the optimizer's own check here and its update in nn__optim_fused. */
static int fused_ready(const nn_model *m, const float *x, size_t n,
                       nn__fold *f)
{
    const double *p = m->param;
    const double w_limit = ldexp(1.0, 126), sum_limit = ldexp(1.0, 100);
    nn__step *c = &f->c;
    double scale, grow, lr;
    size_t l;
    nn_model v;

    if (m->opt != NN_OPT_SGD || p[NN_PARAM_CLIP_NORM] > 0.0 ||
        p[NN_PARAM_CLIP_VALUE] > 0.0 || n > ((size_t)1 << 24))
        return 0;
    step_constants(m, c);
    f->momentum = c->mu != 0.0;
    if (!m->state[0] || (f->momentum && c->nesterov) ||
        (!f->momentum && !(c->lr * c->wd <= 1.0)))
        return 0;
    if (m->w_bound_ok && m->w_bound <= w_limit)
        f->w_max = m->w_bound;
    else
        f->w_max = bits_value(nn__max_abs_bits(m->params, m->n_params));
    if (f->w_max < 0.0 || f->w_max > w_limit)
        return 0;
    f->b_max = 0.0;
    if (f->momentum) {
        if (m->b_bound_ok && m->b_bound <= w_limit)
            f->b_max = m->b_bound;
        else
            f->b_max =
                bits_value(nn__max_abs_bits(m->state[0], m->n_params));
        if (f->b_max < 0.0 || f->b_max > w_limit)
            return 0;
    }
    scale = (double)n * (c->lr > 1.0 ? c->lr : 1.0);
    f->w_add = 0.0;
    v = *m;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        if (L->ops->weight_product) {
            double a = bits_value(l ? m->act_top[l - 1]
                                    : nn__max_abs_bits(x, n * L->in));
            double g = bits_value(m->delta_top[l]);
            if (a < 0.0 || g < 0.0 || scale * a * g > sum_limit)
                return 0;
            if ((double)n * a * g > f->w_add)
                f->w_add = (double)n * a * g;
            cut(&v, m, L->b_off, L->b_count);
        } else {
            cut(&v, m, L->w_off, L->w_count + L->b_count);
        }
        if (!update(&v, c, 0))
            return 0;
    }
    /* in the float constants nn__optim_fused passes and multiplies by */
    grow = fold_growth(n);
    lr = (float)c->lr;
    if (f->momentum) {
        const double mu = (float)c->mu, damp = (float)c->damp;
        const double wd = (float)c->wd;
        f->b_next = fold_safe(((mu * f->b_max + damp * wd * f->w_max) *
                                   grow +
                               damp * f->w_add) *
                              grow);
        f->w_next = fold_safe((f->w_max + lr * f->b_next) * grow);
        if (!(f->b_next <= w_limit) || !(f->w_next <= w_limit))
            return 0;
    } else {
        /* A new weight is beta w + alpha sum_r a_r g_r, n + 1 terms of at
         * most beta w_max and |alpha| n max|A| max|G| in all; in any order
         * of evaluation each takes at most n + 3 roundings of relative
         * size 2^-24, so the result is at most (beta w_max + |alpha|
         * w_add) (1 + 2^-24)^(n+3) <= (...) grow, plus at most
         * (n+3) 2^-149 from results below the normal range. (The other
         * parameters, biases and normalizations' scales, are not bounded
         * by it: the check reads them.) */
        const double beta = (float)(1.0 - c->lr * c->wd);
        f->w_next = fold_safe((beta * f->w_max + lr * f->w_add) * grow);
    }
    return 1;
}

int nn__optim_fused_ready(const nn_model *m, const float *x, size_t n)
{
    nn__fold f;
    return fused_ready(m, x, n, &f);
}

/* The passes around the momentum buffer's product: b = mu b + damp (wd w)
 * before it (with weight decay), w -= lr b after it. */
NN__VECTOR_CLONES
static void momentum_decay(float *restrict b, const float *restrict w,
                           float mu, float damp, float wd, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        b[i] = mu * b[i] + damp * (wd * w[i]);
}

NN__VECTOR_CLONES
static void momentum_apply(float *restrict w, const float *restrict b,
                           float lr, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        w[i] = w[i] - lr * b[i];
}

/* After a folded step with momentum: the bound on |B| the next check
 * starts from. b_next bounds the entries the products wrote; the other
 * entries (biases, the normalizations' parameters: a few per unit) took
 * the optimizer's own update, and are read. */
static void momentum_bound(nn_model *m, double b_next)
{
    const float *b = m->state[0];
    double top = b_next;
    size_t l;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        /* the entries b_next does not bound: a product's layer's biases,
         * or all of another layer's parameters (fused_ready's cut) */
        int product = L->ops->weight_product != NULL;
        size_t off = product ? L->b_off : L->w_off;
        size_t count = product ? L->b_count : L->w_count + L->b_count;
        double v = bits_value(nn__max_abs_bits(b + off, count));
        if (v < 0.0) { /* not finite: cannot be, the update checked it */
            m->b_bound_ok = 0;
            return;
        }
        top = v > top ? v : top;
    }
    m->b_bound = top;
    m->b_bound_ok = 1;
}

int nn__optim_fused(nn_model *m, const float *x, size_t n)
{
    size_t l;
    nn__fold f;
    nn_model v;
    float alpha, beta, mu, damp, wd, lr;

    if (!fused_ready(m, x, n, &f))
        return 0;
    lr = (float)f.c.lr;
    mu = (float)f.c.mu;
    damp = (float)f.c.damp;
    wd = (float)f.c.wd;
    if (f.momentum) { /* into B: damp dW + mu B, or + B decayed first */
        alpha = damp;
        beta = wd == 0.0f ? mu : 1.0f;
    } else { /* into W */
        alpha = -lr;
        beta = (float)(1.0 - f.c.lr * f.c.wd);
    }
    nn__pack_drop(m); /* the weights change below */
    v = *m;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        const float *in = l ? m->act[l - 1] : x;
        if (L->ops->weight_product && f.momentum) {
            float *w = m->params + L->w_off, *b = m->state[0] + L->w_off;
            if (wd != 0.0f)
                momentum_decay(b, w, mu, damp, wd, L->w_count);
            L->ops->weight_product(m, l, in, n, alpha, beta, b);
            momentum_apply(w, b, lr, L->w_count);
            cut(&v, m, L->b_off, L->b_count);
        } else if (L->ops->weight_product) {
            L->ops->weight_product(m, l, in, n, alpha, beta,
                                   m->params + L->w_off);
            cut(&v, m, L->b_off, L->b_count);
        } else {
            cut(&v, m, L->w_off, L->w_count + L->b_count);
        }
        (void)update(&v, &f.c, 1); /* checked by fused_ready */
    }
    /* The bounds the next step's check starts from (fused_ready). */
    m->w_bound = f.w_next;
    m->w_bound_ok = !m->params_shared;
    if (f.momentum)
        momentum_bound(m, f.b_next);
    m->steps++;
    return 1;
}
