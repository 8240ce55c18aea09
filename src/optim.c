/*
 * optim.c - optimizers (SGD with momentum or Nesterov, Adam, AdamW,
 * RMSprop), gradient clipping and learning-rate schedules: everything that
 * turns the gradient buffer into new parameters. The rules are the ones
 * PyTorch documents for torch.optim, written out in nn.h.
 */
#include "nn_internal.h"

#include <math.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

void nn__optim_reset(nn_model *m)
{
    nn__free(m->state[0]);
    nn__free(m->state[1]);
    m->state[0] = m->state[1] = NULL;
    m->state_ready = 0;
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
    model->opt = (int)kind;
    return NN_OK;
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
    double lr, coef, wd, mu, b1, b2, eps, alpha, bc1, bc2;
    int nesterov, first;
} nn__step;

/* Applies the update to element range [0, n) when write is set; otherwise
 * only computes it. Returns n if every new value is finite, else the index
 * of the first element whose parameter or state would not be. Both passes
 * compute the same values, so checking first and writing after gives an
 * all-or-nothing step without a copy of the parameters. */
static size_t update(nn_model *m, const nn__step *c, int write)
{
    size_t i, n = m->n_params;
    float *p = m->params, *s0 = m->state[0], *s1 = m->state[1];
    const float *gr = m->grads;

    switch (m->opt) {
    case NN_OPT_SGD:
        for (i = 0; i < n; i++) {
            double w = p[i], g = c->coef * gr[i] + c->wd * w, b, d;
            if (c->mu > 0.0) {
                b = c->first ? g : c->mu * s0[i] + g;
                d = c->nesterov ? g + c->mu * b : b;
            } else {
                b = 0.0;
                d = g;
            }
            w -= c->lr * d;
            if (!isfinite((float)w) || !isfinite((float)b))
                return i;
            if (write) {
                p[i] = (float)w;
                if (c->mu > 0.0)
                    s0[i] = (float)b;
            }
        }
        break;
    case NN_OPT_ADAM:
    case NN_OPT_ADAMW:
        for (i = 0; i < n; i++) {
            double w = p[i], g = c->coef * gr[i], mm, vv;
            if (m->opt == NN_OPT_ADAMW)
                w -= c->lr * c->wd * w;
            else
                g += c->wd * w;
            mm = c->b1 * s0[i] + (1.0 - c->b1) * g;
            vv = c->b2 * s1[i] + (1.0 - c->b2) * g * g;
            w -= c->lr * (mm / c->bc1) / (sqrt(vv / c->bc2) + c->eps);
            if (!isfinite((float)w) || !isfinite((float)mm) ||
                !isfinite((float)vv))
                return i;
            if (write) {
                p[i] = (float)w;
                s0[i] = (float)mm;
                s1[i] = (float)vv;
            }
        }
        break;
    case NN_OPT_RMSPROP:
        for (i = 0; i < n; i++) {
            double w = p[i], g = c->coef * gr[i] + c->wd * w, vv, b = 0.0;
            vv = c->alpha * s1[i] + (1.0 - c->alpha) * g * g;
            if (c->mu > 0.0) {
                b = c->mu * s0[i] + g / (sqrt(vv) + c->eps);
                w -= c->lr * b;
            } else {
                w -= c->lr * g / (sqrt(vv) + c->eps);
            }
            if (!isfinite((float)w) || !isfinite((float)vv) ||
                !isfinite((float)b))
                return i;
            if (write) {
                p[i] = (float)w;
                s1[i] = (float)vv;
                if (c->mu > 0.0)
                    s0[i] = (float)b;
            }
        }
        break;
    }
    return n;
}

nn_status nn__optim_prepare(const char *fn, nn_model *m)
{
    float *a, *b = NULL;
    int need_b = m->opt != NN_OPT_SGD;
    if (m->state_ready)
        return NN_OK;
    a = (float *)nn__calloc(m->n_params, sizeof(float));
    if (need_b)
        b = (float *)nn__calloc(m->n_params, sizeof(float));
    if (!a || (need_b && !b)) {
        nn__free(a);
        nn__free(b);
        return nn__fail(NN_E_NOMEM,
                        "%s: allocating the optimizer state for %zu "
                        "parameters failed", fn, m->n_params);
    }
    m->state[0] = a;
    m->state[1] = b;
    m->state_ready = 1;
    return NN_OK;
}

nn_status nn__optim_step(const char *fn, nn_model *m)
{
    const double *p = m->param;
    double norm2 = 0.0, t;
    size_t i, bad;
    nn__step c;
    nn_status st = nn__check_grads(fn, m);
    if (st != NN_OK)
        return st;
    st = nn__optim_prepare(fn, m);
    if (st != NN_OK)
        return st;

    c.coef = 1.0;
    if (p[NN_PARAM_CLIP_NORM] > 0.0) {
        double norm;
        for (i = 0; i < m->n_params; i++)
            norm2 += (double)m->grads[i] * m->grads[i];
        norm = sqrt(norm2);
        if (norm > p[NN_PARAM_CLIP_NORM])
            c.coef = p[NN_PARAM_CLIP_NORM] / (norm + 1e-6);
    }
    t = (double)m->steps + 1.0;
    c.lr = scheduled_lr(m);
    c.wd = p[NN_PARAM_WEIGHT_DECAY];
    c.mu = p[NN_PARAM_MOMENTUM];
    c.nesterov = p[NN_PARAM_NESTEROV] != 0.0;
    c.b1 = p[NN_PARAM_BETA1];
    c.b2 = p[NN_PARAM_BETA2];
    c.eps = p[NN_PARAM_EPSILON];
    c.alpha = p[NN_PARAM_RMSPROP_ALPHA];
    c.bc1 = 1.0 - pow(c.b1, t);
    c.bc2 = 1.0 - pow(c.b2, t);
    c.first = m->steps == 0;

    bad = update(m, &c, 0);
    if (bad != m->n_params)
        return nn__fail(NN_E_NONFINITE,
                        "%s: the update of parameter %zu (value %g, "
                        "gradient %g, learning rate %g) is not finite; no "
                        "parameter was changed", fn, bad,
                        (double)m->params[bad], (double)m->grads[bad], c.lr);
    update(m, &c, 1);
    m->steps++;
    return NN_OK;
}

nn_status nn_model_apply_grads(nn_model *model)
{
    static const char fn[] = "nn_model_apply_grads";
    if (!model)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    if (model->n_layers == 0)
        return nn__fail(NN_E_STATE, "%s: the model has no layers", fn);
    return nn__optim_step(fn, model);
}
