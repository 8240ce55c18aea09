/* SPDX-License-Identifier: MIT */
/*
 * test_layers.c - the layer kinds, activations and losses of libnn 0.2
 * against independent computations.
 *
 * Gradients. For nets that mix every kind (dense, batch normalization in
 * training mode, layer normalization, dropout, activation layers, scaling)
 * and every new activation and loss, the gradient libnn computes
 * (nn_model_compute_grads) is compared with central finite differences of
 * the loss of a forward pass written here in double, straight from the
 * definitions in nn.h (PyTorch's). Dropout's mask is the one the library
 * drew for the step (read from its workspace), so the reference differs
 * only by being exact; batch normalization's statistics are recomputed for
 * every perturbed batch, so its gradient through the mean and variance is
 * checked too. Each net has a dense layer first, so every later layer's
 * gradient with respect to its input takes part in that layer's weights'
 * gradient.
 *
 * Values. Batch normalization's running statistics after several steps,
 * its inference-mode output, layer normalization's output, the new
 * activations at chosen points (far from 0 too), Huber on both sides of
 * delta and weighted, smoothed cross-entropy: each against sums worked out
 * here.
 *
 * Dropout. The fraction dropped over many rows is the rate within four
 * standard deviations; a model's predictions with dropout layers equal,
 * bit for bit, those of the same weights without them; two runs with one
 * seed are bit-identical; a batch trained in two parts, each told its rows'
 * position, draws the masks of the whole.
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
#include "layers/layers.h" /* the dropout mask in the workspace; small_rows;
                              * nn__dropout_folded */
#include "nn_test.h"

enum { BATCH = 6, MAX_W = 24, MAX_L = 10 };

/* Central differences in double; see test_gradients.c for the reasoning
 * behind the tolerances, which are the same. */
#define FD_STEP 1e-5
#define REL_TOL 2e-3
#define ABS_FLOOR 2e-5
#define GUARD_LAYER_MIN 2e-4
#define LOSS_REL_TOL 2e-5
/* Pre-activations of relu-like and ELU units, and output-target
 * differences under L1, stay this far from their kinks. */
#define KINK_MARGIN 2e-3

/* ---- a net, as the test describes it ---- */
typedef struct lspec {
    nn_layer_kind kind;
    size_t width;              /* dense */
    nn_activation act;         /* dense, activation */
    double p;                  /* leaky slope or ELU alpha (0: default) */
    double rate;               /* dropout */
} lspec;

typedef struct net_spec {
    const char *name;
    size_t in;
    size_t nl;
    lspec l[MAX_L];
} net_spec;

typedef struct loss_spec {
    const char *name;
    nn_loss loss;
    int labels;                /* cross-entropy: class labels */
    double delta;              /* Huber */
    double smoothing;
    int weighted;              /* cross-entropy: class weights */
} loss_spec;

/* ---- the reference ---- */
typedef struct rlayer {
    nn_layer_kind kind;
    int act;
    double p, eps, rate;
    size_t in, out;
    size_t w_off, w_n, b_off, b_n; /* into the double parameter copy */
    const unsigned char *mask;     /* dropout: BATCH x out */
    unsigned char own_mask[BATCH * MAX_W]; /* where the library keeps none */
    double buf[2 * MAX_W];         /* scaling: scale, shift */
} rlayer;

typedef struct ref {
    size_t nl, in, out;
    rlayer l[MAX_L];
    double *w;                     /* every parameter, in the library's order */
    size_t np;
    loss_spec ls;
    double class_w[MAX_W];
    double kink;                   /* smallest distance to a kink seen */
    size_t huber_in, huber_out;    /* elements inside and outside delta */
} ref;

static double sigmoid(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

/* f(z) for the activations of nn.h; softmax over rows of k. */
static void activate(int act, double p, const double *z, double *a, size_t n,
                     size_t k, double *kink)
{
    size_t i, j;
    if (act == NN_ACT_SOFTMAX) {
        for (i = 0; i < n; i++) {
            double mx = z[i * k], s = 0.0;
            for (j = 1; j < k; j++)
                mx = z[i * k + j] > mx ? z[i * k + j] : mx;
            for (j = 0; j < k; j++)
                s += exp(z[i * k + j] - mx);
            for (j = 0; j < k; j++)
                a[i * k + j] = exp(z[i * k + j] - mx) / s;
        }
        return;
    }
    for (i = 0; i < n * k; i++) {
        double v = z[i];
        switch (act) {
        case NN_ACT_SIGMOID: a[i] = sigmoid(v); break;
        case NN_ACT_TANH: a[i] = tanh(v); break;
        case NN_ACT_RELU: a[i] = v > 0.0 ? v : 0.0; break;
        case NN_ACT_LEAKY_RELU: a[i] = v > 0.0 ? v : p * v; break;
        case NN_ACT_GELU: a[i] = 0.5 * v * erfc(-v / sqrt(2.0)); break;
        case NN_ACT_SILU: a[i] = v / (1.0 + exp(-v)); break;
        case NN_ACT_SOFTPLUS: a[i] = v > 20.0 ? v : log1p(exp(v)); break;
        case NN_ACT_ELU: a[i] = v > 0.0 ? v : p * expm1(v); break;
        default: a[i] = v; break; /* identity */
        }
        if (kink && (act == NN_ACT_RELU || act == NN_ACT_LEAKY_RELU ||
                     act == NN_ACT_ELU) &&
            fabs(v) < *kink)
            *kink = fabs(v);
    }
}

/* The batch loss of the reference with parameters r->w on x against t (or
 * labels). */
static double ref_loss(ref *r, const double *x, const double *t,
                       const int32_t *labels)
{
    double cur[BATCH * MAX_W], nxt[BATCH * MAX_W], z[BATCH * MAX_W];
    const double *logits = NULL;
    size_t l, i, j, q, n = BATCH, k = r->out, len = BATCH * r->out;
    double sum = 0.0;
    memcpy(cur, x, n * r->in * sizeof(double));
    for (l = 0; l < r->nl; l++) {
        const rlayer *L = &r->l[l];
        const double *w = r->w + L->w_off, *b = r->w + L->b_off;
        int last = l + 1 == r->nl;
        switch (L->kind) {
        case NN_KIND_DENSE:
            for (i = 0; i < n; i++)
                for (j = 0; j < L->out; j++) {
                    double acc = b[j];
                    for (q = 0; q < L->in; q++)
                        acc += cur[i * L->in + q] * w[q * L->out + j];
                    z[i * L->out + j] = acc;
                }
            activate(L->act, L->p, z, nxt, n, L->out, &r->kink);
            if (last)
                logits = z;
            break;
        case NN_KIND_ACTIVATION:
            activate(L->act, L->p, cur, nxt, n, L->out, &r->kink);
            if (last) {
                memcpy(z, cur, n * L->out * sizeof(double));
                logits = z;
            }
            break;
        case NN_KIND_DROPOUT:
            for (i = 0; i < n * L->out; i++)
                nxt[i] = L->mask[i] ? cur[i] * (double)(float)(1.0 /
                                                               (1.0 - L->rate))
                                    : 0.0;
            break;
        case NN_KIND_BATCHNORM:
            for (j = 0; j < L->out; j++) {
                double mean = 0.0, var = 0.0;
                for (i = 0; i < n; i++)
                    mean += cur[i * L->out + j];
                mean /= (double)n;
                for (i = 0; i < n; i++)
                    var += (cur[i * L->out + j] - mean) *
                           (cur[i * L->out + j] - mean);
                var /= (double)n;
                for (i = 0; i < n; i++)
                    nxt[i * L->out + j] =
                        w[j] * (cur[i * L->out + j] - mean) /
                            sqrt(var + L->eps) +
                        b[j];
            }
            break;
        case NN_KIND_LAYERNORM:
            for (i = 0; i < n; i++) {
                double mean = 0.0, var = 0.0;
                for (j = 0; j < L->out; j++)
                    mean += cur[i * L->out + j];
                mean /= (double)L->out;
                for (j = 0; j < L->out; j++)
                    var += (cur[i * L->out + j] - mean) *
                           (cur[i * L->out + j] - mean);
                var /= (double)L->out;
                for (j = 0; j < L->out; j++)
                    nxt[i * L->out + j] =
                        w[j] * (cur[i * L->out + j] - mean) /
                            sqrt(var + L->eps) +
                        b[j];
            }
            break;
        case NN_KIND_SCALING:
            for (i = 0; i < n; i++)
                for (j = 0; j < L->out; j++)
                    nxt[i * L->out + j] = cur[i * L->out + j] * L->buf[j] +
                                          L->buf[L->out + j];
            break;
        }
        memcpy(cur, nxt, n * L->out * sizeof(double));
    }
    if (!logits) {
        memcpy(z, cur, len * sizeof(double));
        logits = z;
    }
    switch (r->ls.loss) {
    case NN_LOSS_MSE:
        for (i = 0; i < len; i++)
            sum += (cur[i] - t[i]) * (cur[i] - t[i]);
        return sum / (double)len;
    case NN_LOSS_L1:
        for (i = 0; i < len; i++) {
            sum += fabs(cur[i] - t[i]);
            if (fabs(cur[i] - t[i]) < r->kink)
                r->kink = fabs(cur[i] - t[i]);
        }
        return sum / (double)len;
    case NN_LOSS_HUBER:
        for (i = 0; i < len; i++) {
            double d = fabs(cur[i] - t[i]), dl = r->ls.delta;
            sum += d < dl ? 0.5 * d * d : dl * (d - 0.5 * dl);
            if (d < dl)
                r->huber_in++;
            else
                r->huber_out++;
        }
        return sum / (double)len;
    case NN_LOSS_BCE:
        for (i = 0; i < len; i++) {
            double y = sigmoid(logits[i]);
            sum -= t[i] * log(y) + (1.0 - t[i]) * log(1.0 - y);
        }
        return sum / (double)len;
    case NN_LOSS_CROSS_ENTROPY: {
        /* nn.h's formulas, with q = log softmax(logits) */
        double e = r->ls.smoothing, denom = 0.0;
        for (i = 0; i < n; i++) {
            double mx = logits[i * k], s = 0.0, lq[MAX_W] = {0.0};
            for (j = 1; j < k; j++)
                mx = logits[i * k + j] > mx ? logits[i * k + j] : mx;
            for (j = 0; j < k; j++)
                s += exp(logits[i * k + j] - mx);
            for (j = 0; j < k; j++)
                lq[j] = logits[i * k + j] - mx - log(s);
            if (labels) {
                size_t y = (size_t)labels[i];
                denom += r->class_w[y];
                sum += (1.0 - e) * r->class_w[y] * -lq[y];
                for (j = 0; j < k; j++)
                    sum += (e / (double)k) * r->class_w[j] * -lq[j];
            } else {
                for (j = 0; j < k; j++)
                    sum -= r->class_w[j] *
                           ((1.0 - e) * t[i * k + j] + e / (double)k) * lq[j];
            }
        }
        return labels ? sum / denom : sum / (double)n;
    }
    }
    fail_msg("unknown loss %d", (int)r->ls.loss);
    return NAN;
}

/* ---- building both ---- */

static nn_model *build(const net_spec *ns, const loss_spec *ls,
                       uint64_t seed)
{
    nn_model *m = NULL;
    size_t l, w = ns->in;
    NN_OK_OR_FAIL(nn_model_create(&m, ns->in, seed));
    for (l = 0; l < ns->nl; l++) {
        const lspec *s = &ns->l[l];
        switch (s->kind) {
        case NN_KIND_DENSE:
            NN_OK_OR_FAIL(nn_model_add_dense(m, s->width, s->act));
            w = s->width;
            break;
        case NN_KIND_ACTIVATION:
            NN_OK_OR_FAIL(nn_model_add_activation(m, s->act));
            break;
        case NN_KIND_DROPOUT:
            NN_OK_OR_FAIL(nn_model_add_dropout(m, s->rate));
            break;
        case NN_KIND_BATCHNORM:
            NN_OK_OR_FAIL(nn_model_add_batchnorm(m));
            break;
        case NN_KIND_LAYERNORM:
            NN_OK_OR_FAIL(nn_model_add_layernorm(m));
            break;
        case NN_KIND_SCALING: {
            float sc[MAX_W], sh[MAX_W];
            size_t j;
            for (j = 0; j < w; j++) {
                sc[j] = 0.5f + 0.25f * (float)j;
                sh[j] = 0.3f - 0.2f * (float)j;
            }
            NN_OK_OR_FAIL(nn_model_add_scaling(m, sc, sh, w));
            break;
        }
        }
        if (s->p != 0.0)
            NN_OK_OR_FAIL(nn_model_set_layer_param(
                m, l, s->act == NN_ACT_ELU ? NN_LAYER_ELU_ALPHA
                                           : NN_LAYER_LEAKY_SLOPE,
                s->p));
    }
    NN_OK_OR_FAIL(nn_model_set_loss(m, ls->loss));
    if (ls->loss == NN_LOSS_HUBER)
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_HUBER_DELTA, ls->delta));
    if (ls->smoothing > 0.0)
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LABEL_SMOOTHING,
                                         ls->smoothing));
    if (ls->weighted) {
        float cw[MAX_W];
        size_t j, k = nn_model_output_width(m);
        for (j = 0; j < k; j++)
            cw[j] = 0.5f + 0.75f * (float)((j * 2) % 3);
        NN_OK_OR_FAIL(nn_model_set_class_weights(m, cw, k));
    }
    return m;
}

/* Gives the normalizations' scales and shifts values away from 1 and 0, so
 * that a missing gamma or beta shows. */
static void vary_norm_params(nn_model *m)
{
    size_t l;
    for (l = 0; l < nn_model_layer_count(m); l++) {
        nn_layer_kind k = nn_model_layer_kind(m, l);
        if (k == NN_KIND_BATCHNORM || k == NN_KIND_LAYERNORM) {
            float g[MAX_W], b[MAX_W];
            size_t j, w = nn_model_layer_width(m, l);
            for (j = 0; j < w; j++) {
                g[j] = 0.7f + 0.2f * (float)j;
                b[j] = 0.1f * (float)j - 0.2f;
            }
            NN_OK_OR_FAIL(nn_model_set_weights(m, l, g, w));
            NN_OK_OR_FAIL(nn_model_set_bias(m, l, b, w));
        }
    }
}

static int spec_keep(uint64_t seed, uint64_t step, uint64_t layer,
                     uint64_t row, uint32_t j, double rate);

/* The reference for m (after a pass, for dropout's masks: the library's,
 * or where a dropout layer folded into the relu before it keeps none, the
 * documented hash's for the pass's step and rows). */
static void ref_of(const nn_model *m, const loss_spec *ls, ref *r,
                   double *w)
{
    size_t l, j, k = nn_model_output_width(m);
    memset(r, 0, sizeof *r);
    r->nl = nn_model_layer_count(m);
    r->in = nn_model_input_width(m);
    r->out = k;
    r->ls = *ls;
    r->np = m->n_params;
    r->w = w;
    r->kink = INFINITY;
    for (j = 0; j < m->n_params; j++)
        w[j] = (double)m->params[j];
    for (j = 0; j < k; j++)
        r->class_w[j] = 1.0;
    if (ls->weighted) {
        float cw[MAX_W];
        NN_OK_OR_FAIL(nn_model_get_class_weights(m, cw, k));
        for (j = 0; j < k; j++)
            r->class_w[j] = cw[j];
    }
    for (l = 0; l < r->nl; l++) {
        const nn__layer *L = &m->layers[l];
        rlayer *R = &r->l[l];
        R->kind = nn_model_layer_kind(m, l);
        R->act = (int)nn_model_layer_activation(m, l);
        R->in = L->in;
        R->out = L->out;
        R->w_off = L->w_off;
        R->w_n = L->w_count;
        R->b_off = L->b_off;
        R->b_n = L->b_count;
        if (R->act == NN_ACT_ELU || R->act == NN_ACT_LEAKY_RELU)
            NN_OK_OR_FAIL(nn_model_get_layer_param(
                m, l, R->act == NN_ACT_ELU ? NN_LAYER_ELU_ALPHA
                                           : NN_LAYER_LEAKY_SLOPE,
                &R->p));
        if (R->kind == NN_KIND_BATCHNORM || R->kind == NN_KIND_LAYERNORM)
            NN_OK_OR_FAIL(
                nn_model_get_layer_param(m, l, NN_LAYER_EPSILON, &R->eps));
        if (R->kind == NN_KIND_DROPOUT) {
            NN_OK_OR_FAIL(nn_model_get_layer_param(m, l, NN_LAYER_DROPOUT_RATE,
                                                   &R->rate));
            R->mask = (const unsigned char *)m->extra[l];
            if (!R->mask) {
                size_t i;
                assert_true(l > 0 && r->l[l - 1].act == NN_ACT_RELU);
                for (i = 0; i < BATCH; i++)
                    for (j = 0; j < R->out; j++)
                        R->own_mask[i * R->out + j] = (unsigned char)spec_keep(
                            m->seed, m->steps, l, m->row_offset + i,
                            (uint32_t)j, R->rate);
                R->mask = R->own_mask;
            }
        }
        if (R->kind == NN_KIND_SCALING) {
            float b[2 * MAX_W];
            NN_OK_OR_FAIL(nn_model_get_layer_buffers(m, l, b, 2 * R->out));
            for (j = 0; j < 2 * R->out; j++)
                R->buf[j] = b[j];
        }
    }
}

/* Inputs of both signs, targets fitting the loss. */
static void data(size_t in, size_t k, const loss_spec *ls, uint64_t seed,
                 float *x, float *t, int32_t *labels)
{
    test_rng g = {seed};
    size_t i, j;
    for (i = 0; i < BATCH * in; i++)
        x[i] = (float)(rng_unit(&g) * 3.0 - 1.5);
    for (i = 0; i < BATCH; i++) {
        double s = 0.0;
        labels[i] = (int32_t)(i % k);
        for (j = 0; j < k; j++) {
            double v = rng_unit(&g);
            switch (ls->loss) {
            case NN_LOSS_BCE: t[i * k + j] = (float)v; break;
            case NN_LOSS_CROSS_ENTROPY:
                t[i * k + j] = (float)(v + 0.1);
                s += v + 0.1;
                break;
            default: t[i * k + j] = (float)(v * 4.0 - 2.0); break;
            }
        }
        if (ls->loss == NN_LOSS_CROSS_ENTROPY)
            for (j = 0; j < k; j++)
                t[i * k + j] = (float)(t[i * k + j] / s);
    }
}

/* Checks the gradient of m (whose next pass the library has just made)
 * against central differences of the reference; returns the worst error
 * as a multiple of the tolerance. */
static double check_grads(const char *what, nn_model *m, const loss_spec *ls,
                          const float *xf, const float *tf,
                          const int32_t *labels, double lib_loss)
{
    static double w[4096];
    double x[BATCH * MAX_W], t[BATCH * MAX_W], worst = 0.0, base;
    size_t i, l, k = nn_model_output_width(m);
    const float *grads = m->grads;
    ref r;
    assert_true(m->n_params <= sizeof w / sizeof w[0]);
    ref_of(m, ls, &r, w);
    for (i = 0; i < BATCH * r.in; i++)
        x[i] = xf[i];
    for (i = 0; i < BATCH * k; i++)
        t[i] = tf[i];
    base = ref_loss(&r, x, t, ls->labels ? labels : NULL);
    if (!(fabs(lib_loss - base) <= LOSS_REL_TOL * fabs(base) + 1e-9))
        fail_msg("%s: loss %.9g, the reference gives %.9g", what, lib_loss,
                 base);
    if (!(r.kink > KINK_MARGIN))
        fail_msg("%s: a value lies %g from a kink; choose other data", what,
                 r.kink);
    if (ls->loss == NN_LOSS_HUBER && (r.huber_in == 0 || r.huber_out == 0))
        fail_msg("%s: %zu outputs within delta, %zu beyond: both sides must "
                 "be checked; choose another delta", what, r.huber_in,
                 r.huber_out);
    for (i = 0; i < r.np; i++) {
        double keep = w[i], lp, lm, fd, err, tol;
        w[i] = keep + FD_STEP;
        lp = ref_loss(&r, x, t, ls->labels ? labels : NULL);
        w[i] = keep - FD_STEP;
        lm = ref_loss(&r, x, t, ls->labels ? labels : NULL);
        w[i] = keep;
        fd = (lp - lm) / (2.0 * FD_STEP);
        err = fabs((double)grads[i] - fd);
        tol = REL_TOL * fmax(fabs(fd), fabs((double)grads[i])) + ABS_FLOOR;
        if (err / tol > worst)
            worst = err / tol;
        if (!(err <= tol))
            fail_msg("%s: parameter %zu: libnn %.9g, finite differences "
                     "%.9g", what, i, (double)grads[i], fd);
    }
    /* Every layer with parameters has a gradient that is not small, so a
     * zero gradient cannot pass on the absolute floor. */
    for (l = 0; l < r.nl; l++) {
        double big = 0.0;
        size_t n = r.l[l].w_n + r.l[l].b_n;
        for (i = 0; i < n; i++)
            big = fmax(big, fabs((double)grads[r.l[l].w_off + i]));
        if (n > 0 && !(big >= GUARD_LAYER_MIN))
            fail_msg("%s: layer %zu's largest gradient is %g, too small to "
                     "check", what, l, big);
    }
    return worst;
}

/* path: 0 as the library chooses, 1 the small-net loops (dense nets), 2
 * the general path. */
static void check_net(const net_spec *ns, const loss_spec *ls, int path)
{
    static const char *const paths[] = {"", " (small-net loops)",
                                        " (general path)"};
    float x[BATCH * MAX_W], t[BATCH * MAX_W];
    int32_t labels[BATCH];
    char what[160];
    double loss, worst;
    nn_model *m = build(ns, ls, 31);
    int pass;
    nn_status st = NN_OK;
    vary_norm_params(m);
    data(ns->in, nn_model_output_width(m), ls, 77, x, t, labels);
    snprintf(what, sizeof what, "%s, %s%s", ns->name, ls->name, paths[path]);
    for (pass = 0; pass < (path ? 2 : 1); pass++) {
        if (pass == 1) /* the workspace is there: choose the path */
            m->small_rows = path == 1 ? BATCH : 0;
        st = ls->labels ? nn_model_compute_grads_labels(m, BATCH, x, ns->in,
                                                        labels, &loss)
                        : nn_model_compute_grads(m, BATCH, x, ns->in, t,
                                                 nn_model_output_width(m),
                                                 &loss);
        if (st != NN_OK)
            fail_msg("%s: %s", what, nn_last_error());
    }
    worst = check_grads(what, m, ls, x, t, labels, loss);
    printf("  %-70s worst %.2g x tol\n", what, worst);
    nn_model_free(m);
}

/* ---- the nets ---- */

#define DENSE(w, a) {NN_KIND_DENSE, (w), (a), 0.0, 0.0}
#define DENSE_P(w, a, p) {NN_KIND_DENSE, (w), (a), (p), 0.0}
#define ACT(a) {NN_KIND_ACTIVATION, 0, (a), 0.0, 0.0}
#define DROPOUT(r) {NN_KIND_DROPOUT, 0, (nn_activation)0, 0.0, (r)}
#define BN {NN_KIND_BATCHNORM, 0, (nn_activation)0, 0.0, 0.0}
#define LN {NN_KIND_LAYERNORM, 0, (nn_activation)0, 0.0, 0.0}
#define SCALING {NN_KIND_SCALING, 0, (nn_activation)0, 0.0, 0.0}

/* dense -> batchnorm -> GELU -> dropout -> dense(SiLU) -> layernorm ->
 * softplus -> dense: every kind and three new activations, a regression
 * or logit output. */
static const net_spec NET_MIXED = {
    "4 d6 bn gelu drop.25 d5:silu ln softplus d3",
    4,
    8,
    {DENSE(6, NN_ACT_IDENTITY), BN, ACT(NN_ACT_GELU), DROPOUT(0.25),
     DENSE(5, NN_ACT_SILU), LN, ACT(NN_ACT_SOFTPLUS),
     DENSE(3, NN_ACT_IDENTITY)}};

/* Normalizations and a dropout wider than eight units: layer
 * normalization's row sums run in blocks of eight lanes and a tail (19 =
 * 2 x 8 + 3), batch normalization's and dropout's loops in vectors of up
 * to 16 floats and a tail (17). */
static const net_spec NET_WIDE = {
    "4 d19:tanh ln d17:gelu bn drop.2 d3",
    4,
    6,
    {DENSE(19, NN_ACT_TANH), LN, DENSE(17, NN_ACT_GELU), BN, DROPOUT(0.2),
     DENSE(3, NN_ACT_IDENTITY)}};

/* Dropout after a relu dense layer and after a relu activation layer,
 * which take its passes into theirs (layers.h, nn__dropout_folded), wider
 * than a vector (17 = 16 + 1), and after a tanh dense layer, which does
 * not. */
static const net_spec NET_RELU_DROPOUT = {
    "4 d17:relu drop.3 d9 relu drop.5 d6:tanh drop.2 d3",
    4,
    8,
    {DENSE(17, NN_ACT_RELU), DROPOUT(0.3), DENSE(9, NN_ACT_IDENTITY),
     ACT(NN_ACT_RELU), DROPOUT(0.5), DENSE(6, NN_ACT_TANH), DROPOUT(0.2),
     DENSE(3, NN_ACT_IDENTITY)}};

/* Batch and layer normalization after relu dense layers, which leave
 * their backward passes to them (layers.h, nn__norm_takes_relu), wider
 * than a vector (17 = 16 + 1, 11). */
static const net_spec NET_RELU_NORM = {
    "4 d17:relu bn d11:relu ln d3",
    4,
    5,
    {DENSE(17, NN_ACT_RELU), BN, DENSE(11, NN_ACT_RELU), LN,
     DENSE(3, NN_ACT_IDENTITY)}};

/* ELU (alpha .7) -> layernorm -> GELU dense -> batchnorm -> softmax. */
static const net_spec NET_SOFTMAX = {
    "4 d5:elu.7 ln d5:gelu bn d3:softmax",
    4,
    5,
    {DENSE_P(5, NN_ACT_ELU, 0.7), LN, DENSE(5, NN_ACT_GELU), BN,
     DENSE(3, NN_ACT_SOFTMAX)}};

/* A fixed scaling of the inputs, softplus, dropout, a sigmoid output. */
static const net_spec NET_SCALED = {
    "4 scaling d5:softplus drop.5 d2:sigmoid",
    4,
    4,
    {SCALING, DENSE(5, NN_ACT_SOFTPLUS), DROPOUT(0.5),
     DENSE(2, NN_ACT_SIGMOID)}};

/* Three layers without parameters before the first that has some (the
 * backward pass stops at layernorm, which forms no gradient of its
 * input): their gradients must still be those of the whole net. */
static const net_spec NET_LEADING = {
    "4 scaling tanh drop.3 ln d3:tanh d2",
    4,
    5,
    {SCALING, ACT(NN_ACT_TANH), DROPOUT(0.3), LN, DENSE(3, NN_ACT_TANH),
     DENSE(2, NN_ACT_IDENTITY)}};

/* Softmax as an activation layer of its own, after identity logits. */
static const net_spec NET_ACT_SOFTMAX = {
    "4 d6:tanh d3 softmax",
    4,
    3,
    {DENSE(6, NN_ACT_TANH), DENSE(3, NN_ACT_IDENTITY), ACT(NN_ACT_SOFTMAX)}};

/* Batch normalization as the output layer; ELU as an activation layer. */
static const net_spec NET_BN_OUT = {
    "4 d5:relu d4 elu bn",
    4,
    4,
    {DENSE(5, NN_ACT_RELU), DENSE(4, NN_ACT_IDENTITY), ACT(NN_ACT_ELU), BN}};

/* Dense only, with the new activations: the small-net loops and the
 * general path; the outputs GELU and softplus, whose derivative the loss
 * takes through z. */
static const net_spec NET_DENSE = {
    "3 d5:gelu d4:silu d4:elu d3",
    3,
    4,
    {DENSE(5, NN_ACT_GELU), DENSE(4, NN_ACT_SILU), DENSE(4, NN_ACT_ELU),
     DENSE(3, NN_ACT_IDENTITY)}};

static const net_spec NET_DENSE_GELU_OUT = {
    "3 d5:softplus d3:gelu",
    3,
    2,
    {DENSE(5, NN_ACT_SOFTPLUS), DENSE(3, NN_ACT_GELU)}};

static const net_spec NET_DENSE_SOFTPLUS_OUT = {
    "3 d5:silu d3:softplus",
    3,
    2,
    {DENSE(5, NN_ACT_SILU), DENSE(3, NN_ACT_SOFTPLUS)}};

static const loss_spec MSE = {"mse", NN_LOSS_MSE, 0, 0.0, 0.0, 0};
static const loss_spec L1 = {"l1", NN_LOSS_L1, 0, 0.0, 0.0, 0};
static const loss_spec HUBER = {"huber 0.6", NN_LOSS_HUBER, 0, 0.6, 0.0, 0};
static const loss_spec BCE = {"bce", NN_LOSS_BCE, 0, 0.0, 0.0, 0};
static const loss_spec CE_ROWS = {"ce rows", NN_LOSS_CROSS_ENTROPY, 0, 0.0,
                                  0.0, 0};
static const loss_spec CE_LABELS_WS = {"ce labels, weights, smoothing .2",
                                       NN_LOSS_CROSS_ENTROPY, 1, 0.0, 0.2, 1};
static const loss_spec CE_ROWS_WS = {"ce rows, weights, smoothing .1",
                                     NN_LOSS_CROSS_ENTROPY, 0, 0.0, 0.1, 1};
static const loss_spec CE_LABELS_S = {"ce labels, smoothing .3",
                                      NN_LOSS_CROSS_ENTROPY, 1, 0.0, 0.3, 0};
static const loss_spec CE_LABELS_W = {"ce labels, weights",
                                      NN_LOSS_CROSS_ENTROPY, 1, 0.0, 0.0, 1};

static void mixed_net_gradients_match_finite_differences(void **state)
{
    const loss_spec *losses[] = {&MSE, &L1, &HUBER, &CE_LABELS_WS,
                                 &CE_ROWS_WS, &CE_LABELS_W, &BCE};
    size_t i;
    (void)state;
    for (i = 0; i < ARRAY_LEN(losses); i++)
        if (losses[i]->loss != NN_LOSS_BCE) { /* 3 outputs: any loss */
            check_net(&NET_MIXED, losses[i], 0);
            /* with this net's data one output lies within the margin of
             * L1's kink: the other losses */
            if (losses[i]->loss != NN_LOSS_L1)
                check_net(&NET_WIDE, losses[i], 0);
            check_net(&NET_RELU_DROPOUT, losses[i], 0);
            check_net(&NET_RELU_NORM, losses[i], 0);
        }
}

static void softmax_net_gradients_match_finite_differences(void **state)
{
    const loss_spec *losses[] = {&CE_ROWS, &CE_LABELS_WS, &CE_ROWS_WS,
                                 &CE_LABELS_S, &MSE};
    size_t i;
    (void)state;
    for (i = 0; i < ARRAY_LEN(losses); i++) {
        check_net(&NET_SOFTMAX, losses[i], 0);
        check_net(&NET_ACT_SOFTMAX, losses[i], 0);
    }
}

static void scaled_and_normalized_output_nets_match_finite_differences(
    void **state)
{
    (void)state;
    check_net(&NET_SCALED, &BCE, 0);
    check_net(&NET_SCALED, &HUBER, 0);
    check_net(&NET_LEADING, &MSE, 0);
    check_net(&NET_LEADING, &L1, 0);
    check_net(&NET_BN_OUT, &MSE, 0);
    check_net(&NET_BN_OUT, &HUBER, 0);
    check_net(&NET_BN_OUT, &L1, 0);
}

static void new_activations_on_dense_nets_match_on_both_paths(void **state)
{
    const net_spec *nets[] = {&NET_DENSE, &NET_DENSE_GELU_OUT,
                              &NET_DENSE_SOFTPLUS_OUT};
    const loss_spec *losses[] = {&MSE, &HUBER, &L1};
    size_t i, j;
    (void)state;
    for (i = 0; i < ARRAY_LEN(nets); i++)
        for (j = 0; j < ARRAY_LEN(losses); j++) {
            check_net(nets[i], losses[j], 1);
            check_net(nets[i], losses[j], 2);
        }
}

/* ---- values ---- */

/* Batch normalization alone, after k steps on known batches: running
 * statistics as PyTorch moves them (momentum 0.3 here), and inference
 * with them. lr 0, so that gamma and beta stay as set. */
static void batchnorm_running_statistics_follow_the_formula(void **state)
{
    enum { IN = 3, N = 5, STEPS = 4 };
    const double mom = 0.3, eps = 1e-3;
    nn_model *m = NULL;
    float x[N * IN], t[N * IN], buf[2 * IN], y[N * IN];
    const float gamma[IN] = {1.5f, 0.5f, -2.0f}, beta[IN] = {0.1f, -0.3f, 2.0f};
    double rm[IN] = {0.0, 0.0, 0.0}, rv[IN] = {1.0, 1.0, 1.0};
    size_t s, i, j;
    (void)state;
    NN_OK_OR_FAIL(nn_model_create(&m, IN, 5));
    NN_OK_OR_FAIL(nn_model_add_batchnorm(m));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_MSE));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.0));
    NN_OK_OR_FAIL(nn_model_set_layer_param(m, 0, NN_LAYER_MOMENTUM, mom));
    NN_OK_OR_FAIL(nn_model_set_layer_param(m, 0, NN_LAYER_EPSILON, eps));
    NN_OK_OR_FAIL(nn_model_set_weights(m, 0, gamma, IN));
    NN_OK_OR_FAIL(nn_model_set_bias(m, 0, beta, IN));
    NN_OK_OR_FAIL(nn_model_get_layer_buffers(m, 0, buf, 2 * IN));
    for (j = 0; j < IN; j++) {
        assert_true(buf[j] == 0.0f);      /* running mean starts at 0 */
        assert_true(buf[IN + j] == 1.0f); /* running variance at 1 */
    }
    for (s = 0; s < STEPS; s++) {
        lcg_fill(x, N * IN, -2.0f + (float)s, 3.0f + 2.0f * (float)s,
                 (uint32_t)(11 + s));
        lcg_fill(t, N * IN, -1.0f, 1.0f, (uint32_t)(50 + s));
        if (s % 2) /* compute_grads moves them too, as a forward pass */
            NN_OK_OR_FAIL(
                nn_model_compute_grads(m, N, x, IN, t, IN, NULL));
        else
            NN_OK_OR_FAIL(nn_model_train_batch(m, N, x, IN, t, IN, NULL));
        for (j = 0; j < IN; j++) {
            double mean = 0.0, ss = 0.0;
            for (i = 0; i < N; i++)
                mean += x[i * IN + j];
            mean /= N;
            for (i = 0; i < N; i++)
                ss += (x[i * IN + j] - mean) * (x[i * IN + j] - mean);
            rm[j] = (1.0 - mom) * rm[j] + mom * mean;
            rv[j] = (1.0 - mom) * rv[j] + mom * ss / (N - 1); /* unbiased */
        }
    }
    NN_OK_OR_FAIL(nn_model_get_layer_buffers(m, 0, buf, 2 * IN));
    for (j = 0; j < IN; j++) {
        assert_rel_close("running mean", buf[j], rm[j], 1e-6);
        assert_rel_close("running variance", buf[IN + j], rv[j], 1e-6);
    }
    /* a step that is refused moves nothing */
    x[0] = NAN;
    assert_int_equal(nn_model_train_batch(m, N, x, IN, t, IN, NULL),
                     NN_E_NONFINITE);
    {
        float after[2 * IN];
        NN_OK_OR_FAIL(nn_model_get_layer_buffers(m, 0, after, 2 * IN));
        assert_memory_equal(after, buf, sizeof buf);
    }
    /* inference: the running statistics, not the batch's */
    lcg_fill(x, N * IN, -4.0f, 4.0f, 99u);
    NN_OK_OR_FAIL(nn_model_predict(m, N, x, IN, y, IN));
    for (i = 0; i < N; i++)
        for (j = 0; j < IN; j++) {
            double want = gamma[j] * (x[i * IN + j] - rm[j]) /
                              sqrt(rv[j] + eps) +
                          beta[j];
            if (!(fabs(y[i * IN + j] - want) <= 2e-6 * fabs(want) + 1e-6))
                fail_msg("batchnorm inference [%zu][%zu]: %.9g, want %.9g",
                         i, j, (double)y[i * IN + j], want);
        }
    nn_model_free(m);
}

/* Normalization of values whose mean lies some 10^4 times their spread:
 * dense (identity weights, biases b, so that its outputs are x + b
 * exactly: x in multiples of 2^-10) -> batch or layer normalization,
 * MSE. The loss, gamma's and beta's gradients and, through the dense
 * layer's (x^T dL/dz), dL/dz against the formulas in double on the same
 * floats; for layer normalization also the predictions. z - mean must
 * come out to its float rounding: with the mean held in one float, x-hat
 * would be off by up to half the mean's last bit over the spread (about
 * 1e-3 here), and so would the loss and the gradients. */
enum { FAR_K = 19, FAR_N = 10 }; /* 16 lanes and a tail; 4 + 4 + 1 + 1 */

/* The reference's x-hat, y, dL/dy and dL/dz of z (n x k) for MSE against
 * t: statistics over each column (batch) or each row (layer
 * normalization), epsilon 1e-5 (the default). Returns the loss. */
static double far_reference(int batch, const double *z, const float *t,
                            const float *gamma, const float *beta,
                            double *xh, double *y, double *dy, double *gz)
{
    const size_t k = FAR_K, n = FAR_N;
    const size_t groups = batch ? k : n, len = batch ? n : k;
    double loss = 0.0;
    size_t g, e;
#define AT(g, e) (batch ? (e) * k + (g) : (g) * k + (e))
#define COL(g, e) (batch ? (g) : (e)) /* the feature of element e */
    for (g = 0; g < groups; g++) {
        double mean = 0.0, var = 0.0, inv, s1 = 0.0, s2 = 0.0;
        for (e = 0; e < len; e++)
            mean += z[AT(g, e)];
        mean /= (double)len;
        for (e = 0; e < len; e++)
            var += (z[AT(g, e)] - mean) * (z[AT(g, e)] - mean);
        inv = 1.0 / sqrt(var / (double)len + 1e-5);
        for (e = 0; e < len; e++) {
            size_t i = AT(g, e), c = COL(g, e);
            xh[i] = (z[i] - mean) * inv;
            y[i] = gamma[c] * xh[i] + beta[c];
            loss += (y[i] - t[i]) * (y[i] - t[i]);
            dy[i] = 2.0 * (y[i] - t[i]) / (double)(n * k);
            /* the sums over the group of dL/dx-hat and of it times x-hat */
            s1 += dy[i] * gamma[c];
            s2 += dy[i] * gamma[c] * xh[i];
        }
        for (e = 0; e < len; e++) {
            size_t i = AT(g, e), c = COL(g, e);
            gz[i] = inv * (dy[i] * gamma[c] - s1 / (double)len -
                           xh[i] * s2 / (double)len);
        }
    }
#undef AT
#undef COL
    return loss / (double)(n * k);
}

/* |got - want| within rel times the largest |want| of the array. */
static void far_close(const char *what, const float *got, const double *want,
                      size_t count, double rel)
{
    double top = 0.0;
    size_t i;
    for (i = 0; i < count; i++)
        top = fmax(top, fabs(want[i]));
    for (i = 0; i < count; i++)
        if (!(fabs(got[i] - want[i]) <= rel * top))
            fail_msg("%s[%zu] %.9g, want %.9g", what, i, (double)got[i],
                     want[i]);
}

static void check_far_mean(int batch)
{
    enum { K = FAR_K, N = FAR_N };
    nn_model *m = NULL;
    float x[N * K], t[N * K], w[K * K], b[K], gamma[K], beta[K], y[N * K];
    float dw[K * K], db[K], dgamma[K], dbeta[K];
    double z[N * K], xh[N * K], dy[N * K], gz[N * K], loss, want;
    double rdw[K * K], rdgamma[K], rdbeta[K], ry[N * K];
    size_t i, j, c;
    lcg_fill(x, N * K, -1.0f, 1.0f, 7u);
    lcg_fill(t, N * K, -1.0f, 1.0f, 8u);
    for (i = 0; i < N * K; i++) /* multiples of 2^-10: x + b is exact */
        x[i] = (float)(floor(ldexp(x[i], 10)) / 1024.0);
    memset(w, 0, sizeof w);
    for (j = 0; j < K; j++) {
        w[j * K + j] = 1.0f;
        /* batch: features far from 0 either way; layer: rows near 10^4 */
        b[j] = batch && j % 2 == 0 ? -2500.0f : 10000.0f;
        gamma[j] = 0.5f + 0.125f * (float)j;
        beta[j] = 0.25f - 0.0625f * (float)j;
    }
    NN_OK_OR_FAIL(nn_model_create(&m, K, 3));
    NN_OK_OR_FAIL(nn_model_add_dense(m, K, NN_ACT_IDENTITY));
    if (batch)
        NN_OK_OR_FAIL(nn_model_add_batchnorm(m));
    else
        NN_OK_OR_FAIL(nn_model_add_layernorm(m));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_MSE));
    NN_OK_OR_FAIL(nn_model_set_weights(m, 0, w, K * K));
    NN_OK_OR_FAIL(nn_model_set_bias(m, 0, b, K));
    NN_OK_OR_FAIL(nn_model_set_weights(m, 1, gamma, K));
    NN_OK_OR_FAIL(nn_model_set_bias(m, 1, beta, K));
    if (!batch) /* inference normalises alike */
        NN_OK_OR_FAIL(nn_model_predict(m, N, x, K, y, K));
    NN_OK_OR_FAIL(nn_model_compute_grads(m, N, x, K, t, K, &loss));
    NN_OK_OR_FAIL(nn_model_get_layer_grads(m, 0, dw, K * K, db, K));
    NN_OK_OR_FAIL(nn_model_get_layer_grads(m, 1, dgamma, K, dbeta, K));
    for (i = 0; i < N; i++)
        for (j = 0; j < K; j++)
            z[i * K + j] = (double)x[i * K + j] + b[j];
    want = far_reference(batch, z, t, gamma, beta, xh, ry, dy, gz);
    for (j = 0; j < K; j++) {
        rdgamma[j] = rdbeta[j] = 0.0;
        for (i = 0; i < N; i++) {
            rdgamma[j] += dy[i * K + j] * xh[i * K + j];
            rdbeta[j] += dy[i * K + j];
        }
        for (c = 0; c < K; c++) {
            rdw[j * K + c] = 0.0;
            for (i = 0; i < N; i++)
                rdw[j * K + c] += x[i * K + j] * gz[i * K + c];
        }
    }
    assert_rel_close("the loss", loss, want, 1e-6);
    far_close("dL/dgamma", dgamma, rdgamma, K, 1e-5);
    far_close("dL/dbeta", dbeta, rdbeta, K, 1e-5);
    far_close("the dense layer's dL/dW (x^T dL/dz)", dw, rdw, K * K, 1e-5);
    if (!batch)
        far_close("a prediction", y, ry, N * K, 1e-6);
    nn_model_free(m);
}

static void batchnorm_keeps_a_far_mean_exact(void **state)
{
    (void)state;
    check_far_mean(1);
}

static void layernorm_keeps_a_far_mean_exact(void **state)
{
    (void)state;
    check_far_mean(0);
}

static void layernorm_output_is_each_row_normalized(void **state)
{
    enum { IN = 21, N = 9 }; /* two blocks of eight lanes and a tail */
    nn_model *m = NULL;
    float x[N * IN], y[N * IN], g[IN], b[IN];
    size_t i, j;
    (void)state;
    NN_OK_OR_FAIL(nn_model_create(&m, IN, 5));
    NN_OK_OR_FAIL(nn_model_add_layernorm(m));
    NN_OK_OR_FAIL(nn_model_set_layer_param(m, 0, NN_LAYER_EPSILON, 1e-3));
    lcg_fill(g, IN, 0.5f, 2.0f, 3u);
    lcg_fill(b, IN, -1.0f, 1.0f, 4u);
    NN_OK_OR_FAIL(nn_model_set_weights(m, 0, g, IN));
    NN_OK_OR_FAIL(nn_model_set_bias(m, 0, b, IN));
    lcg_fill(x, N * IN, -3.0f, 5.0f, 5u);
    for (j = 0; j < IN; j++) /* a row far from 0, and a constant one */
        x[j] = 1000.0f + (float)j * 0.01f, x[IN + j] = 2.5f;
    NN_OK_OR_FAIL(nn_model_predict(m, N, x, IN, y, IN));
    for (i = 0; i < N; i++) {
        double mean = 0.0, var = 0.0;
        for (j = 0; j < IN; j++)
            mean += x[i * IN + j];
        mean /= IN;
        for (j = 0; j < IN; j++)
            var += (x[i * IN + j] - mean) * (x[i * IN + j] - mean);
        var /= IN;
        for (j = 0; j < IN; j++) {
            double want =
                g[j] * (x[i * IN + j] - mean) / sqrt(var + 1e-3) + b[j];
            if (!(fabs(y[i * IN + j] - want) <= 1e-6 * fabs(want) + 1e-6))
                fail_msg("layernorm [%zu][%zu]: %.9g, want %.9g", i, j,
                         (double)y[i * IN + j], want);
        }
    }
    nn_model_free(m);
}

/* The new activations and their derivatives against libm in double, from
 * 0 to far on both sides (GELU's tail down to 1e-30 and beyond).
 * Measured: values within 5e-7 relative, derivatives within 2e-7 of
 * max(|f'|, 1) (GELU' and SiLU' pass through 0, where a relative
 * measure means nothing) and ELU's within 2e-7 relative; the bounds
 * below leave a factor 2. */
static double act_ref(int act, double z, double p)
{
    switch (act) {
    case NN_ACT_GELU: return 0.5 * z * erfc(-z / sqrt(2.0));
    case NN_ACT_SILU: return z / (1.0 + exp(-z));
    case NN_ACT_SOFTPLUS: return z > 20.0 ? z : log1p(exp(z));
    case NN_ACT_ELU: return z > 0.0 ? z : p * expm1(z);
    }
    return NAN;
}

static double act_dref(int act, double z, double p)
{
    const double inv_sqrt_2pi = 0.3989422804014327;
    double s = 1.0 / (1.0 + exp(-z));
    switch (act) {
    case NN_ACT_GELU:
        return 0.5 * erfc(-z / sqrt(2.0)) + z * exp(-0.5 * z * z) *
                                                inv_sqrt_2pi;
    case NN_ACT_SILU: return s * (1.0 + z * (1.0 - s));
    case NN_ACT_SOFTPLUS: return z > 20.0 ? 1.0 : s;
    case NN_ACT_ELU: return z > 0.0 ? 1.0 : p * exp(z);
    }
    return NAN;
}

static void new_activations_match_libm_at_chosen_points(void **state)
{
    static const int acts[] = {NN_ACT_GELU, NN_ACT_SILU, NN_ACT_SOFTPLUS,
                               NN_ACT_ELU};
    static const float zs[] = {0.0f,  1e-30f, -1e-30f, 1e-6f, -1e-6f,
                               0.01f, -0.01f, 0.3f,    -0.3f, 0.7518f,
                               -0.7518f, 1.0f, -1.0f,  -1.278f, 2.5f,
                               -2.5f, 4.0f,  -4.0f,   7.5f,  -7.5f,
                               12.0f, -12.0f, 19.9f,  20.0f, 20.5f,
                               -25.0f, 40.0f, -40.0f, 90.0f, -90.0f,
                               3e4f,  -3e4f};
    const float alpha = 0.7f;
    size_t a, i;
    (void)state;
    for (a = 0; a < ARRAY_LEN(acts); a++)
        for (i = 0; i < ARRAY_LEN(zs); i++) {
            float z = zs[i], y = 0.0f, g = 1.0f;
            double want = act_ref(acts[a], z, alpha);
            double dwant = act_dref(acts[a], z, alpha);
            nn__activation_forward(acts[a], alpha, &z, &y, 1, 1);
            nn__activation_backward(acts[a], alpha, &z, &y, &g, 1, 1);
            if (!(fabs(y - want) <= 1e-6 * fabs(want) ||
                  fabs(want) < 1e-37)) /* below float's normal range */
                fail_msg("%s(%g) = %.9g, libm gives %.9g",
                         nn_activation_name((nn_activation)acts[a]),
                         (double)z, (double)y, want);
            if (!(fabs(g - dwant) <= 5e-7 * fmax(fabs(dwant), 1.0)))
                fail_msg("%s'(%g) = %.9g, libm gives %.9g",
                         nn_activation_name((nn_activation)acts[a]),
                         (double)z, (double)g, dwant);
            if (acts[a] == NN_ACT_ELU && z <= 0.0f &&
                !(fabs(g - dwant) <= 5e-7 * fabs(dwant) ||
                  fabs(dwant) < 1e-37))
                fail_msg("elu'(%g) = %.9g, libm gives %.9g", (double)z,
                         (double)g, dwant);
        }
}

/* ---- dropout ---- */

/* A model of input width w whose only layer is dropout at rate. */
static nn_model *dropout_only(size_t w, double rate, uint64_t seed)
{
    nn_model *m = NULL;
    NN_OK_OR_FAIL(nn_model_create(&m, w, seed));
    NN_OK_OR_FAIL(nn_model_add_dropout(m, rate));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_MSE));
    return m;
}

static void dropout_drops_the_rate_of_units_and_scales_the_rest(void **state)
{
    enum { W = 256, N = 400 };
    static const double rates[] = {0.0, 0.1, 0.5, 0.9, 0.999};
    static float x[N * W], t[N * W];
    size_t r, i;
    (void)state;
    for (i = 0; i < N * W; i++) {
        x[i] = 1.0f + (float)(i % 13) * 0.25f; /* never 0 */
        t[i] = 0.0f;
    }
    for (r = 0; r < ARRAY_LEN(rates); r++) {
        nn_model *m = dropout_only(W, rates[r], 2024);
        float scale = (float)(1.0 / (1.0 - rates[r]));
        double n = (double)N * W, dropped = 0.0, mean, sd;
        NN_OK_OR_FAIL(nn_model_compute_grads(m, N, x, W, t, W, NULL));
        for (i = 0; i < N * W; i++) {
            float y = m->act[0][i];
            if (y == 0.0f)
                dropped += 1.0;
            else if (y != x[i] * scale)
                fail_msg("rate %g: a kept unit is %.9g, not %.9g", rates[r],
                         (double)y, (double)(x[i] * scale));
        }
        mean = n * rates[r];
        sd = sqrt(n * rates[r] * (1.0 - rates[r]));
        printf("  rate %-6g dropped %.0f of %.0f (expected %.1f, sd %.1f)\n",
               rates[r], dropped, n, mean, sd);
        if (!(fabs(dropped - mean) <= 4.0 * sd))
            fail_msg("rate %g: %.0f of %.0f units dropped, %g expected (sd "
                     "%g)", rates[r], dropped, n, mean, sd);
        nn_model_free(m);
    }
}

/* The masks are the hash dropout.c documents, computed here on its own:
 * unit j of the row at position r, in layer l, at step s, is kept when
 * murmur3's finaliser of (key's halves xor'ed) + j times 0x9E3779B9 is at
 * least rate x 2^32, key being splitmix64's finaliser chained over the
 * seed, s, l and r. Widths that are not a multiple of the vector width,
 * three steps, the mask bytes and the values both. */
static uint64_t spec_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t spec_fmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    return h ^ (h >> 16);
}

static int spec_keep(uint64_t seed, uint64_t step, uint64_t layer,
                     uint64_t row, uint32_t j, double rate)
{
    uint64_t h = spec_mix64(seed + 0x9E3779B97F4A7C15ull);
    uint32_t base;
    h = spec_mix64(h ^ (step + 0x632BE59BD9B4E019ull));
    h = spec_mix64(h ^ (layer + 0x8CB92BA72F3D8DD7ull));
    h = spec_mix64(h ^ (row + 0xD6E8FEB86659FD93ull));
    base = (uint32_t)h ^ (uint32_t)(h >> 32);
    return (double)spec_fmix32(base + j * 0x9E3779B9u) >=
           floor(rate * 4294967296.0);
}

static void dropout_masks_are_the_documented_hash(void **state)
{
    enum { IN = 5, W = 37, N = 9 };
    static const double rate = 0.3;
    float x[N * IN], t[N * W];
    nn_model *m = NULL;
    size_t i, j, kept = 0;
    int s;
    (void)state;
    NN_OK_OR_FAIL(nn_model_create(&m, IN, 77));
    NN_OK_OR_FAIL(nn_model_add_dense(m, W, NN_ACT_SIGMOID)); /* > 0 */
    NN_OK_OR_FAIL(nn_model_add_dropout(m, rate));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_MSE));
    lcg_fill(x, N * IN, -1.0f, 1.0f, 9u);
    lcg_fill(t, N * W, 0.0f, 1.0f, 10u);
    for (s = 0; s < 3; s++) {
        const unsigned char *mask;
        NN_OK_OR_FAIL(nn_model_train_batch(m, N, x, IN, t, W, NULL));
        mask = (const unsigned char *)m->extra[1];
        for (i = 0; i < N; i++)
            for (j = 0; j < W; j++) {
                int want = spec_keep(77, (uint64_t)s, 1, i, (uint32_t)j,
                                     rate);
                float y = m->act[1][i * W + j];
                if (mask[i * W + j] != want || (y != 0.0f) != want)
                    fail_msg("step %d, row %zu, unit %zu: mask %d, value "
                             "%g; the hash says %s", s, i, j,
                             mask[i * W + j], (double)y,
                             want ? "keep" : "drop");
                kept += (size_t)want;
            }
    }
    /* the masks are not all alike: some units kept, some dropped */
    assert_true(kept > 0 && kept < 3 * N * W);
    nn_model_free(m);
}

/* relu -> dropout -> tanh -> dropout -> softmax, and the same dense layers
 * without the dropouts, with the same weights: equal predictions. */
static void predictions_with_dropout_equal_those_without_bit_for_bit(
    void **state)
{
    enum { IN = 20, N = 300 };
    static float x[N * IN], ya[N * 4], yb[N * 4];
    nn_model *a = NULL, *b = NULL;
    float w[IN * 32];
    size_t l;
    (void)state;
    NN_OK_OR_FAIL(nn_model_create(&a, IN, 7));
    NN_OK_OR_FAIL(nn_model_add_dense(a, 32, NN_ACT_RELU));
    NN_OK_OR_FAIL(nn_model_add_dropout(a, 0.5));
    NN_OK_OR_FAIL(nn_model_add_dense(a, 16, NN_ACT_TANH));
    NN_OK_OR_FAIL(nn_model_add_dropout(a, 0.2));
    NN_OK_OR_FAIL(nn_model_add_dense(a, 4, NN_ACT_SOFTMAX));
    NN_OK_OR_FAIL(nn_model_create(&b, IN, 8));
    NN_OK_OR_FAIL(nn_model_add_dense(b, 32, NN_ACT_RELU));
    NN_OK_OR_FAIL(nn_model_add_dense(b, 16, NN_ACT_TANH));
    NN_OK_OR_FAIL(nn_model_add_dense(b, 4, NN_ACT_SOFTMAX));
    for (l = 0; l < 3; l++) {
        size_t la = 2 * l, nw = nn_model_layer_weight_count(b, l);
        size_t nb = nn_model_layer_bias_count(b, l);
        NN_OK_OR_FAIL(nn_model_get_weights(a, la, w, nw));
        NN_OK_OR_FAIL(nn_model_set_weights(b, l, w, nw));
        lcg_fill(w, nb, -0.5f, 0.5f, (uint32_t)l);
        NN_OK_OR_FAIL(nn_model_set_bias(a, la, w, nb));
        NN_OK_OR_FAIL(nn_model_set_bias(b, l, w, nb));
    }
    lcg_fill(x, N * IN, -2.0f, 2.0f, 1u);
    NN_OK_OR_FAIL(nn_model_predict(a, N, x, IN, ya, 4));
    NN_OK_OR_FAIL(nn_model_predict(b, N, x, IN, yb, 4));
    assert_memory_equal(ya, yb, sizeof ya);
    nn_model_free(a);
    nn_model_free(b);
}

/* Ten steps of a net with dropout and batch normalization, twice with one
 * seed: the same weights bit for bit; another seed draws other masks. */
static nn_model *dropout_net(uint64_t seed)
{
    nn_model *m = NULL;
    NN_OK_OR_FAIL(nn_model_create(&m, 6, seed));
    NN_OK_OR_FAIL(nn_model_add_dense(m, 12, NN_ACT_RELU));
    NN_OK_OR_FAIL(nn_model_add_batchnorm(m));
    NN_OK_OR_FAIL(nn_model_add_dropout(m, 0.4));
    NN_OK_OR_FAIL(nn_model_add_dense(m, 3, NN_ACT_SOFTMAX));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.1));
    return m;
}

static void dropout_runs_with_one_seed_are_bit_identical(void **state)
{
    enum { N = 16 };
    float x[N * 6];
    int32_t y[N];
    nn_model *a = dropout_net(3), *b = dropout_net(3), *c = NULL;
    size_t na, nc, i;
    int s;
    (void)state;
    lcg_fill(x, N * 6, -1.0f, 1.0f, 4u);
    for (i = 0; i < N; i++)
        y[i] = (int32_t)(i % 3);
    /* c: the same weights as a, another seed, so only the masks differ */
    c = dropout_net(4);
    for (i = 0; i < 4; i++) {
        size_t nw = nn_model_layer_weight_count(a, i);
        size_t nb = nn_model_layer_bias_count(a, i);
        float w[12 * 6];
        if (nw) {
            NN_OK_OR_FAIL(nn_model_get_weights(a, i, w, nw));
            NN_OK_OR_FAIL(nn_model_set_weights(c, i, w, nw));
            NN_OK_OR_FAIL(nn_model_get_bias(a, i, w, nb));
            NN_OK_OR_FAIL(nn_model_set_bias(c, i, w, nb));
        }
    }
    for (s = 0; s < 10; s++) {
        NN_OK_OR_FAIL(nn_model_train_batch_labels(a, N, x, 6, y, NULL));
        NN_OK_OR_FAIL(nn_model_train_batch_labels(b, N, x, 6, y, NULL));
        NN_OK_OR_FAIL(nn_model_train_batch_labels(c, N, x, 6, y, NULL));
    }
    (void)nn_model_params(a, &na);
    (void)nn_model_params(c, &nc);
    assert_memory_equal(nn_model_params(a, NULL), nn_model_params(b, NULL),
                        na * sizeof(float));
    assert_int_equal(na, nc);
    assert_true(memcmp(nn_model_params(a, NULL), nn_model_params(c, NULL),
                       na * sizeof(float)) != 0);
    nn_model_free(a);
    nn_model_free(b);
    nn_model_free(c);
}

/* m with a dense output layer of 3 (identity) added, MSE, and SGD with
 * momentum .9 at learning rate .05: the bit-for-bit nets below. */
static nn_model *with_mse_momentum_out(nn_model *m)
{
    NN_OK_OR_FAIL(nn_model_add_dense(m, 3, NN_ACT_IDENTITY));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_MSE));
    NN_OK_OR_FAIL(nn_model_set_optimizer(m, NN_OPT_SGD));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.9));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.05));
    return m;
}

/* A relu before a dropout, a dense layer's or an activation layer's,
 * takes the dropout's passes into its own (nn__dropout_folded) and the
 * dropout keeps no mask; a relu activation layer, then an identity one,
 * then the dropout, do not fold, and run dropout's own passes and mask.
 * The three nets are one function with the dropout at layer 3 (so that
 * it draws the same masks): 0 identity, 1 identity, 2 dense relu; 0
 * identity, 1 dense, 2 relu; 0 dense, 1 relu, 2 identity (layers
 * without parameters as activation layers, the dense layers'
 * activation identity unless relu is named). Eight steps with momentum
 * from the same weights: the same losses and weights bit for bit, and a
 * mask that dropped units. */
static nn_model *relu_dropout_net(int form)
{
    static const int acts[3][3] = {
        {NN_ACT_IDENTITY, NN_ACT_IDENTITY, -1},
        {NN_ACT_IDENTITY, -2, NN_ACT_RELU},
        {-2, NN_ACT_RELU, NN_ACT_IDENTITY}};
    nn_model *m = NULL;
    int l;
    NN_OK_OR_FAIL(nn_model_create(&m, 5, 21));
    for (l = 0; l < 3; l++) {
        int a = acts[form][l];
        if (a == -1)
            NN_OK_OR_FAIL(nn_model_add_dense(m, 37, NN_ACT_RELU));
        else if (a == -2)
            NN_OK_OR_FAIL(nn_model_add_dense(m, 37, NN_ACT_IDENTITY));
        else
            NN_OK_OR_FAIL(nn_model_add_activation(m, (nn_activation)a));
    }
    NN_OK_OR_FAIL(nn_model_add_dropout(m, 0.35));
    return with_mse_momentum_out(m);
}

static void relu_dropout_folded_trains_as_the_unfolded_net_bit_for_bit(
    void **state)
{
    enum { N = 7 };
    static const size_t dense_at[3] = {2, 1, 0};
    float x[N * 5], t[N * 3], w[37 * 5];
    nn_model *m[3];
    size_t np[3], i, q, zeros = 0;
    int s;
    (void)state;
    for (q = 0; q < 3; q++)
        m[q] = relu_dropout_net((int)q);
    /* the weights of net 0, and the same biases, in all three */
    for (i = 0; i < 2; i++) {
        size_t l0 = i ? 4 : dense_at[0];
        size_t nw = nn_model_layer_weight_count(m[0], l0);
        size_t nb = nn_model_layer_bias_count(m[0], l0);
        NN_OK_OR_FAIL(nn_model_get_weights(m[0], l0, w, nw));
        for (q = 1; q < 3; q++)
            NN_OK_OR_FAIL(
                nn_model_set_weights(m[q], i ? 4 : dense_at[q], w, nw));
        lcg_fill(w, nb, -0.3f, 0.3f, (uint32_t)(i + 5));
        for (q = 0; q < 3; q++)
            NN_OK_OR_FAIL(nn_model_set_bias(m[q], i ? 4 : dense_at[q], w, nb));
    }
    lcg_fill(x, N * 5, -1.5f, 1.5f, 12u);
    lcg_fill(t, N * 3, -1.0f, 1.0f, 13u);
    for (s = 0; s < 8; s++) {
        double loss[3];
        for (q = 0; q < 3; q++)
            NN_OK_OR_FAIL(nn_model_train_batch(m[q], N, x, 5, t, 3, &loss[q]));
        assert_memory_equal(&loss[0], &loss[2], sizeof loss[0]);
        assert_memory_equal(&loss[1], &loss[2], sizeof loss[0]);
    }
    assert_true(nn__dropout_folded(m[0], 3) && nn__dropout_folded(m[1], 3));
    assert_false(nn__dropout_folded(m[2], 3));
    assert_null(m[0]->extra[3]);
    assert_null(m[1]->extra[3]);
    assert_non_null(m[2]->extra[3]);
    for (i = 0; i < N * 37; i++)
        zeros += ((const unsigned char *)m[2]->extra[3])[i] == 0;
    assert_true(zeros > 0 && zeros < N * 37);
    for (q = 0; q < 3; q++)
        (void)nn_model_params(m[q], &np[q]);
    for (q = 0; q < 2; q++) {
        assert_memory_equal(m[q]->act[3], m[2]->act[3],
                            N * 37 * sizeof(float));
        assert_int_equal(np[q], np[2]);
        assert_memory_equal(nn_model_params(m[q], NULL),
                            nn_model_params(m[2], NULL),
                            np[2] * sizeof(float));
    }
    for (q = 0; q < 3; q++)
        nn_model_free(m[q]);
}

/* A relu dense layer followed by a batch or layer normalization, which
 * takes the dense layer's backward pass into its own (layers.h,
 * nn__norm_takes_relu), against the same net with the relu as a layer of
 * its own (dense identity, relu, normalization), which does not: form 0
 * 4 d19:relu bn d11:relu ln d3, form 1 4 d19 relu bn d11 relu ln d3 (19
 * = 16 + 3: batch normalization's sums in a block and a tail).
 * Eight steps with momentum from the same weights, scales and shifts:
 * the same losses, parameters, running statistics and predictions bit
 * for bit. */
static nn_model *relu_norm_net(int form)
{
    nn_model *m = NULL;
    nn_activation act = form ? NN_ACT_IDENTITY : NN_ACT_RELU;
    NN_OK_OR_FAIL(nn_model_create(&m, 4, 27));
    NN_OK_OR_FAIL(nn_model_add_dense(m, 19, act));
    if (form)
        NN_OK_OR_FAIL(nn_model_add_activation(m, NN_ACT_RELU));
    NN_OK_OR_FAIL(nn_model_add_batchnorm(m));
    NN_OK_OR_FAIL(nn_model_add_dense(m, 11, act));
    if (form)
        NN_OK_OR_FAIL(nn_model_add_activation(m, NN_ACT_RELU));
    NN_OK_OR_FAIL(nn_model_add_layernorm(m));
    return with_mse_momentum_out(m);
}

static void relu_taken_by_a_norm_trains_as_the_unfolded_net_bit_for_bit(
    void **state)
{
    enum { N = 9 };
    /* the layers with parameters: dense, bn, dense, ln, dense */
    static const size_t at[2][5] = {{0, 1, 2, 3, 4}, {0, 2, 3, 5, 6}};
    float x[N * 4], t[N * 3], w[19 * 11], w2[19 * 11], pa[N * 3], pb[N * 3];
    nn_model *m[2];
    size_t i, q, zeros = 0;
    int s;
    (void)state;
    for (q = 0; q < 2; q++)
        m[q] = relu_norm_net((int)q);
    assert_true(nn__norm_takes_relu(m[0], 1) && nn__norm_takes_relu(m[0], 3));
    assert_false(nn__norm_takes_relu(m[1], 2) ||
                 nn__norm_takes_relu(m[1], 5));
    for (i = 0; i < 5; i++) {
        size_t nw = nn_model_layer_weight_count(m[0], at[0][i]);
        size_t nb = nn_model_layer_bias_count(m[0], at[0][i]);
        if (i == 1 || i == 3) /* scales away from 1 */
            lcg_fill(w, nw, 0.5f, 1.5f, (uint32_t)(i + 20));
        else
            NN_OK_OR_FAIL(nn_model_get_weights(m[0], at[0][i], w, nw));
        for (q = 0; q < 2; q++)
            NN_OK_OR_FAIL(nn_model_set_weights(m[q], at[q][i], w, nw));
        lcg_fill(w, nb, -0.3f, 0.3f, (uint32_t)(i + 5));
        for (q = 0; q < 2; q++)
            NN_OK_OR_FAIL(nn_model_set_bias(m[q], at[q][i], w, nb));
    }
    lcg_fill(x, N * 4, -1.5f, 1.5f, 14u);
    lcg_fill(t, N * 3, -1.0f, 1.0f, 15u);
    for (s = 0; s < 8; s++) {
        double loss[2];
        for (q = 0; q < 2; q++)
            NN_OK_OR_FAIL(nn_model_train_batch(m[q], N, x, 4, t, 3, &loss[q]));
        assert_memory_equal(&loss[0], &loss[1], sizeof loss[0]);
    }
    /* not vacuous: the first relu dropped some units and kept others */
    for (i = 0; i < N * 19; i++)
        zeros += m[0]->act[0][i] == 0.0f;
    assert_true(zeros > 0 && zeros < N * 19);
    for (i = 0; i < 5; i++) {
        size_t nw = nn_model_layer_weight_count(m[0], at[0][i]);
        size_t nb = nn_model_layer_bias_count(m[0], at[0][i]);
        NN_OK_OR_FAIL(nn_model_get_weights(m[0], at[0][i], w, nw));
        NN_OK_OR_FAIL(nn_model_get_weights(m[1], at[1][i], w2, nw));
        assert_memory_equal(w, w2, nw * sizeof *w);
        NN_OK_OR_FAIL(nn_model_get_bias(m[0], at[0][i], w, nb));
        NN_OK_OR_FAIL(nn_model_get_bias(m[1], at[1][i], w2, nb));
        assert_memory_equal(w, w2, nb * sizeof *w);
    }
    /* the batch normalization's running mean and variance */
    assert_memory_equal(m[0]->buffers + m[0]->layers[1].buf_off,
                        m[1]->buffers + m[1]->layers[2].buf_off,
                        2 * 19 * sizeof(float));
    NN_OK_OR_FAIL(nn_model_predict(m[0], N, x, 4, pa, 3));
    NN_OK_OR_FAIL(nn_model_predict(m[1], N, x, 4, pb, 3));
    assert_memory_equal(pa, pb, sizeof pa);
    for (q = 0; q < 2; q++)
        nn_model_free(m[q]);
}

/* A row's mask depends on its position in the batch and the step: a batch
 * passed in two parts, the second told that its rows start at position 4,
 * draws the masks of the whole batch; the next step draws others. */
static void a_rows_mask_depends_on_its_position_and_the_step_only(
    void **state)
{
    enum { W = 64, N = 8 };
    float x[N * W], t[N * W], whole[N * W];
    nn_model *a = dropout_only(W, 0.5, 11), *b = dropout_only(W, 0.5, 11);
    size_t i;
    (void)state;
    for (i = 0; i < N * W; i++) {
        x[i] = 1.0f + (float)(i % 7);
        t[i] = 0.0f;
    }
    NN_OK_OR_FAIL(nn_model_compute_grads(a, N, x, W, t, W, NULL));
    memcpy(whole, a->act[0], sizeof whole);
    NN_OK_OR_FAIL(nn_model_set_batch_part(b, 0, N));
    NN_OK_OR_FAIL(nn_model_compute_grads(b, N / 2, x, W, t, W, NULL));
    assert_memory_equal(b->act[0], whole, N / 2 * W * sizeof(float));
    NN_OK_OR_FAIL(nn_model_set_batch_part(b, N / 2, N));
    NN_OK_OR_FAIL(nn_model_compute_grads(b, N / 2, x + N / 2 * W, W,
                                         t + N / 2 * W, W, NULL));
    assert_memory_equal(b->act[0], whole + N / 2 * W,
                        N / 2 * W * sizeof(float));
    /* the rows of the second half at positions 0..3 draw other masks */
    NN_OK_OR_FAIL(nn_model_set_batch_part(b, 0, N));
    NN_OK_OR_FAIL(nn_model_compute_grads(b, N / 2, x + N / 2 * W, W,
                                         t + N / 2 * W, W, NULL));
    assert_true(memcmp(b->act[0], whole + N / 2 * W,
                       N / 2 * W * sizeof(float)) != 0);
    /* the next step draws other masks for the same rows */
    NN_OK_OR_FAIL(nn_model_train_batch(a, N, x, W, t, W, NULL));
    NN_OK_OR_FAIL(nn_model_compute_grads(a, N, x, W, t, W, NULL));
    assert_true(memcmp(a->act[0], whole, sizeof whole) != 0);
    nn_model_free(a);
    nn_model_free(b);
}

/* ---- initialisation ---- */

static void initialisers_draw_what_their_names_say(void **state)
{
    enum { IN = 300, OUT = 200, NW = IN * OUT };
    static float w[NW];
    struct {
        nn_init init;
        nn_activation act;
        int uniform;
        double scale; /* a for U(-a, a), s for N(0, s^2) */
    } cases[] = {
        {NN_INIT_AUTO, NN_ACT_RELU, 1, 0.0},
        {NN_INIT_AUTO, NN_ACT_TANH, 1, 0.0},
        {NN_INIT_GLOROT_UNIFORM, NN_ACT_RELU, 1, 0.0},
        {NN_INIT_GLOROT_NORMAL, NN_ACT_TANH, 0, 0.0},
        {NN_INIT_HE_UNIFORM, NN_ACT_SIGMOID, 1, 0.0},
        {NN_INIT_HE_NORMAL, NN_ACT_GELU, 0, 0.0},
        {NN_INIT_LECUN_NORMAL, NN_ACT_SILU, 0, 0.0},
    };
    size_t c, i;
    (void)state;
    cases[0].scale = sqrt(6.0 / IN);           /* relu: He */
    cases[1].scale = sqrt(6.0 / (IN + OUT));   /* tanh: Glorot */
    cases[2].scale = sqrt(6.0 / (IN + OUT));
    cases[3].scale = sqrt(2.0 / (IN + OUT));
    cases[4].scale = sqrt(6.0 / IN);
    cases[5].scale = sqrt(2.0 / IN);
    cases[6].scale = sqrt(1.0 / IN);
    for (c = 0; c < ARRAY_LEN(cases); c++) {
        nn_model *m = NULL, *twin = NULL;
        double sum = 0.0, sq = 0.0, mx = 0.0, sd, want_sd, v;
        float b[OUT];
        NN_OK_OR_FAIL(nn_model_create(&m, IN, 100 + c));
        NN_OK_OR_FAIL(nn_model_add_dense(m, OUT, cases[c].act));
        if (cases[c].init != NN_INIT_AUTO) {
            float one[OUT];
            for (i = 0; i < OUT; i++)
                one[i] = 1.0f;
            NN_OK_OR_FAIL(nn_model_set_bias(m, 0, one, OUT));
            NN_OK_OR_FAIL(nn_model_set_layer_param(m, 0, NN_LAYER_INIT,
                                                   cases[c].init));
        }
        NN_OK_OR_FAIL(nn_model_get_weights(m, 0, w, NW));
        NN_OK_OR_FAIL(nn_model_get_bias(m, 0, b, OUT));
        for (i = 0; i < OUT; i++)
            assert_true(b[i] == 0.0f); /* drawing sets the bias to 0 */
        for (i = 0; i < NW; i++) {
            sum += w[i];
            sq += (double)w[i] * w[i];
            mx = fmax(mx, fabs(w[i]));
        }
        sd = sqrt(sq / NW - (sum / NW) * (sum / NW));
        want_sd = cases[c].uniform ? cases[c].scale / sqrt(3.0)
                                   : cases[c].scale;
        printf("  %-15s %-8s sd %.5f (want %.5f), max %.4f\n",
               nn_init_name(cases[c].init),
               nn_activation_name(cases[c].act), sd, want_sd, mx);
        /* the sample sd of 60000 draws is within 1% of the true one */
        assert_rel_close("standard deviation", sd, want_sd, 0.01);
        assert_true(fabs(sum / NW) <= 4.0 * want_sd / sqrt((double)NW));
        if (cases[c].uniform) {
            assert_true(mx <= cases[c].scale);
            assert_true(mx >= 0.999 * cases[c].scale);
        } else {
            assert_true(mx >= 3.5 * want_sd); /* tails: not uniform */
        }
        /* the same calls with the same seed draw the same weights */
        NN_OK_OR_FAIL(nn_model_create(&twin, IN, 100 + c));
        NN_OK_OR_FAIL(nn_model_add_dense(twin, OUT, cases[c].act));
        if (cases[c].init != NN_INIT_AUTO)
            NN_OK_OR_FAIL(nn_model_set_layer_param(twin, 0, NN_LAYER_INIT,
                                                   cases[c].init));
        NN_OK_OR_FAIL(nn_model_get_layer_param(twin, 0, NN_LAYER_INIT, &v));
        assert_true(v == (double)cases[c].init);
        assert_memory_equal(nn_model_params(twin, NULL),
                            nn_model_params(m, NULL), NW * sizeof(float));
        nn_model_free(m);
        nn_model_free(twin);
    }
}

/* ---- names ---- */

static void every_enum_value_has_its_name_and_no_other_value_has_one(
    void **state)
{
    static const char *const acts[] = {"identity", "sigmoid", "tanh",
                                       "relu", "leaky_relu", "softmax",
                                       "gelu", "silu", "softplus", "elu"};
    static const char *const kinds[] = {"dense", "dropout", "batchnorm",
                                        "layernorm", "activation",
                                        "scaling"};
    static const char *const losses[] = {"mse", "bce", "cross_entropy",
                                         "l1", "huber"};
    static const char *const lparams[] = {"leaky_slope", "elu_alpha",
                                          "init", "dropout_rate",
                                          "momentum", "epsilon"};
    static const char *const inits[] = {"auto", "glorot_uniform",
                                        "glorot_normal", "he_uniform",
                                        "he_normal", "lecun_normal"};
    size_t i;
    (void)state;
    for (i = 0; i < ARRAY_LEN(acts); i++)
        assert_string_equal(nn_activation_name((nn_activation)(i + 1)),
                            acts[i]);
    assert_null(nn_activation_name((nn_activation)(ARRAY_LEN(acts) + 1)));
    for (i = 0; i < ARRAY_LEN(kinds); i++)
        assert_string_equal(nn_layer_kind_name((nn_layer_kind)(i + 1)),
                            kinds[i]);
    assert_null(nn_layer_kind_name((nn_layer_kind)(ARRAY_LEN(kinds) + 1)));
    for (i = 0; i < ARRAY_LEN(losses); i++)
        assert_string_equal(nn_loss_name((nn_loss)(i + 1)), losses[i]);
    assert_null(nn_loss_name((nn_loss)(ARRAY_LEN(losses) + 1)));
    for (i = 0; i < ARRAY_LEN(lparams); i++)
        assert_string_equal(nn_layer_param_name((nn_layer_param)(i + 1)),
                            lparams[i]);
    assert_null(nn_layer_param_name((nn_layer_param)(ARRAY_LEN(lparams) + 1)));
    for (i = 0; i < ARRAY_LEN(inits); i++)
        assert_string_equal(nn_init_name((nn_init)(i + 1)), inits[i]);
    assert_null(nn_init_name((nn_init)(ARRAY_LEN(inits) + 1)));
    assert_string_equal(nn_param_name(NN_PARAM_LEARNING_RATE),
                        "learning_rate");
    assert_string_equal(nn_param_name(NN_PARAM_LABEL_SMOOTHING),
                        "label_smoothing");
    assert_null(nn_param_name((nn_param)(NN_PARAM_LABEL_SMOOTHING + 1)));
    assert_string_equal(nn_optimizer_name(NN_OPT_ADAMW), "adamw");
    assert_null(nn_optimizer_name((nn_optimizer)5));
    assert_string_equal(nn_schedule_name(NN_SCHED_COSINE), "cosine");
    assert_null(nn_schedule_name((nn_schedule)5));
    for (i = 0; i < 3; i++) { /* 0, negative and huge: no name */
        int bad = i == 0 ? 0 : i == 1 ? -1 : 1 << 30;
        assert_null(nn_activation_name((nn_activation)bad));
        assert_null(nn_param_name((nn_param)bad));
        assert_null(nn_layer_kind_name((nn_layer_kind)bad));
    }
}

/* ---- bad input ---- */

/* A model with every kind of layer, trained a step so that it has state;
 * it ends in softmax unless open (then in identity, so that layers can
 * follow). */
static nn_model *every_kind(int open)
{
    enum { N = 4 };
    nn_model *m = NULL;
    float sc[5] = {1, 2, 3, 4, 5}, sh[5] = {0, 1, 0, 1, 0};
    float x[N * 5], t[N * 2];
    NN_OK_OR_FAIL(nn_model_create(&m, 5, 1));
    NN_OK_OR_FAIL(nn_model_add_scaling(m, sc, sh, 5));       /* 0 */
    NN_OK_OR_FAIL(nn_model_add_dense(m, 6, NN_ACT_GELU));    /* 1 */
    NN_OK_OR_FAIL(nn_model_add_batchnorm(m));                /* 2 */
    NN_OK_OR_FAIL(nn_model_add_dropout(m, 0.3));             /* 3 */
    NN_OK_OR_FAIL(nn_model_add_layernorm(m));                /* 4 */
    NN_OK_OR_FAIL(nn_model_add_activation(m, NN_ACT_ELU));   /* 5 */
    NN_OK_OR_FAIL(nn_model_add_dense(                        /* 6 */
        m, 2, open ? NN_ACT_IDENTITY : NN_ACT_SOFTMAX));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY));
    NN_OK_OR_FAIL(nn_model_set_optimizer(m, NN_OPT_ADAM));
    lcg_fill(x, N * 5, -1.0f, 1.0f, 1u);
    lcg_fill(t, N * 2, 0.0f, 1.0f, 2u);
    NN_OK_OR_FAIL(nn_model_train_batch(m, N, x, 5, t, 2, NULL));
    return m;
}

/* The bytes of a checkpoint of m: everything a failed call must leave. */
static unsigned char *snapshot(const nn_model *m, size_t *size)
{
    unsigned char *b;
    NN_OK_OR_FAIL(nn_model_save_size(m, NN_SAVE_CHECKPOINT, size));
    b = (unsigned char *)malloc(*size);
    assert_non_null(b);
    NN_OK_OR_FAIL(nn_model_save_buffer(m, NN_SAVE_CHECKPOINT, b, *size,
                                       NULL));
    return b;
}

typedef enum {
    C_ADD_DROPOUT, C_SET_LP, C_ADD_DENSE, C_ADD_ACT, C_SCALING, C_TRAIN_ONE,
    C_CLASS_W, C_BUFFERS, C_META, C_PREDICT_MISALIGNED
} call_kind;

/* A call with a bad argument: layer, key and value mean what the call
 * takes (for C_ADD_DENSE, layer 1 asks for the model ending in softmax). */
typedef struct bad_case {
    const char *what;
    call_kind call;
    size_t layer;
    int key;
    double value;
    nn_status want;
    const char *message;
} bad_case;

static nn_status run_bad(nn_model *m, const bad_case *c)
{
    static float buf[64], aligned[16];
    float *misaligned = (float *)(void *)((char *)aligned + 2);
    float x[4 * 5], t[4 * 2];
    size_t i;
    lcg_fill(x, 20, -1.0f, 1.0f, 3u);
    for (i = 0; i < 8; i++)
        t[i] = (float)(i % 2);
    switch (c->call) {
    case C_ADD_DROPOUT:
        return nn_model_add_dropout(m, c->value);
    case C_SET_LP:
        return nn_model_set_layer_param(m, c->layer, (nn_layer_param)c->key,
                                        c->value);
    case C_ADD_DENSE:
        return nn_model_add_dense(m, 3, (nn_activation)c->key);
    case C_ADD_ACT:
        return nn_model_add_activation(m, (nn_activation)c->key);
    case C_SCALING:
        for (i = 0; i < 64; i++)
            buf[i] = 1.0f;
        if (c->key == 0)
            return nn_model_add_scaling(m, NULL, buf, 2);
        if (c->key == 1)
            return nn_model_add_scaling(m, buf, buf, 3);
        if (c->key == 2) {
            buf[1] = (float)c->value;
            return nn_model_add_scaling(m, buf, buf + 8, 2);
        }
        return nn_model_add_scaling(m, misaligned, buf, 2);
    case C_TRAIN_ONE:
        return nn_model_train_batch(m, 1, x, 5, t, 2, NULL);
    case C_CLASS_W:
        buf[0] = 1.0f;
        buf[1] = (float)c->value;
        return nn_model_set_class_weights(m, c->key ? NULL : buf, 2);
    case C_BUFFERS:
        NN_OK_OR_FAIL(nn_model_get_layer_buffers(m, 2, buf, 12));
        buf[c->key] = (float)c->value;
        return nn_model_set_layer_buffers(m, 2, buf, c->layer ? 11 : 12);
    case C_META:
        if (c->key == 0)
            return nn_model_set_meta(m, "", "v");
        if (c->key == 1) {
            static char longkey[300];
            memset(longkey, 'k', 299);
            return nn_model_set_meta(m, longkey, "v");
        }
        return nn_model_set_meta(m, NULL, "v");
    case C_PREDICT_MISALIGNED:
        return nn_model_predict(m, 1, misaligned, 5, buf, 2);
    }
    return NN_OK;
}

static void bad_layer_input_gives_its_status_and_changes_nothing(
    void **state)
{
    const bad_case cases[] = {
        {"dropout rate -0.1", C_ADD_DROPOUT, 0, 0, -0.1, NN_E_INVALID,
         "rate is -0.1, outside [0, 1)"},
        {"dropout rate 1", C_ADD_DROPOUT, 0, 0, 1.0, NN_E_INVALID,
         "rate is 1"},
        {"dropout rate NaN", C_ADD_DROPOUT, 0, 0, NAN, NN_E_INVALID,
         "rate is nan"},
        {"dropout rate inf", C_ADD_DROPOUT, 0, 0, INFINITY, NN_E_INVALID,
         "rate is inf"},
        {"set dropout rate 1", C_SET_LP, 3, NN_LAYER_DROPOUT_RATE, 1.0,
         NN_E_INVALID, "dropout_rate"},
        {"set dropout rate NaN", C_SET_LP, 3, NN_LAYER_DROPOUT_RATE, NAN,
         NN_E_INVALID, "dropout_rate"},
        {"batchnorm momentum -0.1", C_SET_LP, 2, NN_LAYER_MOMENTUM, -0.1,
         NN_E_INVALID, "momentum (key 5) is outside [0, 1]"},
        {"batchnorm momentum 1.5", C_SET_LP, 2, NN_LAYER_MOMENTUM, 1.5,
         NN_E_INVALID, "momentum"},
        {"batchnorm eps 0", C_SET_LP, 2, NN_LAYER_EPSILON, 0.0,
         NN_E_INVALID, "epsilon"},
        {"batchnorm eps NaN", C_SET_LP, 2, NN_LAYER_EPSILON, NAN,
         NN_E_INVALID, "epsilon"},
        {"layernorm eps 2", C_SET_LP, 4, NN_LAYER_EPSILON, 2.0, NN_E_INVALID,
         "epsilon"},
        {"layernorm momentum", C_SET_LP, 4, NN_LAYER_MOMENTUM, 0.1,
         NN_E_INVALID, "layer 4 is layernorm, which has no setting momentum"},
        {"dropout slope", C_SET_LP, 3, NN_LAYER_LEAKY_SLOPE, 0.1,
         NN_E_INVALID, "dropout, which has no setting leaky_slope"},
        {"init 0", C_SET_LP, 1, NN_LAYER_INIT, 0.0, NN_E_INVALID, "init"},
        {"init 7", C_SET_LP, 1, NN_LAYER_INIT, 7.0, NN_E_INVALID, "init"},
        {"init 2.5", C_SET_LP, 1, NN_LAYER_INIT, 2.5, NN_E_INVALID,
         "not a whole number"},
        {"init on batchnorm", C_SET_LP, 2, NN_LAYER_INIT, 2.0, NN_E_INVALID,
         "no setting init"},
        {"ELU alpha -1", C_SET_LP, 5, NN_LAYER_ELU_ALPHA, -1.0, NN_E_INVALID,
         "elu_alpha"},
        {"unknown layer key", C_SET_LP, 1, 99, 0.0, NN_E_INVALID,
         "key is 99, not an nn_layer_param"},
        {"layer out of range", C_SET_LP, 7, NN_LAYER_EPSILON, 0.1,
         NN_E_INVALID, "layer is 7, the model has 7 layers"},
        {"dense after softmax", C_ADD_DENSE, 1, NN_ACT_RELU, 0.0,
         NN_E_STATE, "layer 6 is softmax"},
        {"dense of activation 11", C_ADD_DENSE, 0, 11, 0.0, NN_E_INVALID,
         "act is 11"},
        {"activation 0", C_ADD_ACT, 0, 0, 0.0, NN_E_INVALID,
         "act is 0, not an nn_activation"},
        {"activation 11", C_ADD_ACT, 0, 11, 0.0, NN_E_INVALID, "act is 11"},
        {"scaling without scale", C_SCALING, 0, 0, 0.0, NN_E_NULL,
         "scale is NULL"},
        {"scaling of the wrong width", C_SCALING, 0, 1, 0.0, NN_E_SHAPE,
         "count is 3"},
        {"scaling by NaN", C_SCALING, 0, 2, NAN, NN_E_INVALID,
         "scale[1] is nan"},
        {"scaling misaligned", C_SCALING, 0, 3, 0.0, NN_E_INVALID,
         "scale is not aligned for float"},
        {"one row into batchnorm", C_TRAIN_ONE, 0, 0, 0.0, NN_E_INVALID,
         "n is 1; batch normalization needs at least 2 rows"},
        {"class weight -1", C_CLASS_W, 0, 0, -1.0, NN_E_INVALID,
         "w[1] is -1"},
        {"class weight NaN", C_CLASS_W, 0, 0, NAN, NN_E_INVALID, "w[1]"},
        {"class weight inf", C_CLASS_W, 0, 0, INFINITY, NN_E_INVALID,
         "w[1] is inf"},
        {"class weights NULL", C_CLASS_W, 0, 1, 0.0, NN_E_NULL,
         "w is NULL"},
        {"negative running variance", C_BUFFERS, 0, 7, -0.5, NN_E_INVALID,
         "buf[7] is -0.5"},
        {"NaN running mean", C_BUFFERS, 0, 1, NAN, NN_E_INVALID,
         "buf[1] is nan"},
        {"buffers of the wrong count", C_BUFFERS, 1, 0, 0.0, NN_E_SHAPE,
         "count is 11, layer 2 has 12 buffer values"},
        {"empty metadata key", C_META, 0, 0, 0.0, NN_E_INVALID, "empty"},
        {"metadata key of 299 bytes", C_META, 0, 1, 0.0, NN_E_INVALID,
         "1 to 255 bytes"},
        {"metadata key NULL", C_META, 0, 2, 0.0, NN_E_NULL, "key is NULL"},
        {"misaligned input", C_PREDICT_MISALIGNED, 0, 0, 0.0, NN_E_INVALID,
         "x is not aligned for float"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < ARRAY_LEN(cases); i++) {
        /* the calls that add a layer need an end a layer can follow */
        int adds = cases[i].call == C_ADD_DROPOUT ||
                   cases[i].call == C_ADD_ACT || cases[i].call == C_SCALING ||
                   (cases[i].call == C_ADD_DENSE && cases[i].layer == 0);
        nn_model *m = every_kind(adds);
        size_t n0, n1;
        unsigned char *before = snapshot(m, &n0), *after;
        nn_status st = run_bad(m, &cases[i]);
        if (st != cases[i].want || !strstr(nn_last_error(), cases[i].message))
            fail_msg("%s: status %d (%s), message \"%s\"; expected %d and "
                     "\"%s\"", cases[i].what, (int)st, nn_status_string(st),
                     nn_last_error(), (int)cases[i].want, cases[i].message);
        after = snapshot(m, &n1);
        if (n0 != n1 || memcmp(before, after, n0) != 0)
            fail_msg("%s: the model changed", cases[i].what);
        free(before);
        free(after);
        nn_model_free(m);
    }
    /* class weights that do not fit: checked when training starts */
    {
        nn_model *m = every_kind(0);
        float w3[3] = {1, 1, 1};
        float x[4 * 5], t[4 * 2];
        size_t n0, n1;
        unsigned char *before, *after;
        lcg_fill(x, 20, -1.0f, 1.0f, 3u);
        lcg_fill(t, 8, 0.0f, 1.0f, 4u);
        NN_OK_OR_FAIL(nn_model_set_class_weights(m, w3, 3));
        before = snapshot(m, &n0);
        assert_int_equal(nn_model_train_batch(m, 4, x, 5, t, 2, NULL),
                         NN_E_STATE);
        assert_non_null(strstr(nn_last_error(), "3 class weights and 2 "
                                                "outputs"));
        NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_MSE));
        NN_OK_OR_FAIL(nn_model_set_class_weights(m, w3, 2));
        assert_int_equal(nn_model_train_batch(m, 4, x, 5, t, 2, NULL),
                         NN_E_STATE);
        assert_non_null(strstr(nn_last_error(), "class weights need "
                                                "NN_LOSS_CROSS_ENTROPY"));
        NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY));
        NN_OK_OR_FAIL(nn_model_set_class_weights(m, w3, 3));
        after = snapshot(m, &n1);
        assert_int_equal(n0, n1);
        assert_memory_equal(before, after, n0);
        free(before);
        free(after);
        nn_model_free(m);
    }
}

/* A model without trainable parameters (one activation layer) trains: the
 * loss is the hand-computed one, and every optimizer's step changes
 * nothing, with NULL parameter arrays in the step's views. */
static void a_model_without_parameters_trains_and_stays_the_same(void **state)
{
    static const int opts[] = {NN_OPT_SGD, NN_OPT_ADAM, NN_OPT_RMSPROP};
    float x[3 * 2] = {-1.0f, 2.0f, 0.5f, -0.25f, 3.0f, 0.0f};
    float t[3 * 2] = {0.0f, 1.0f, 1.0f, 0.0f, 2.0f, 1.0f};
    size_t k;
    (void)state;
    for (k = 0; k < sizeof opts / sizeof opts[0]; k++) {
        nn_model *m = NULL;
        double loss = -1.0, want = 0.0;
        float y[3 * 2];
        size_t i;
        NN_OK_OR_FAIL(nn_model_create(&m, 2, 1));
        NN_OK_OR_FAIL(nn_model_add_activation(m, NN_ACT_RELU));
        NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_MSE));
        NN_OK_OR_FAIL(nn_model_set_optimizer(m, opts[k]));
        for (i = 0; i < 6; i++) {
            double d = (x[i] > 0.0f ? x[i] : 0.0f) - t[i];
            want += d * d;
        }
        want /= 6.0;
        NN_OK_OR_FAIL(nn_model_train_batch(m, 3, x, 2, t, 2, &loss));
        assert_float_equal(loss, want, 1e-6);
        NN_OK_OR_FAIL(nn_model_train_batch(m, 3, x, 2, t, 2, &loss));
        assert_int_equal(nn_model_step_count(m), 2);
        NN_OK_OR_FAIL(nn_model_predict(m, 3, x, 2, y, 2));
        for (i = 0; i < 6; i++)
            assert_true(y[i] == (x[i] > 0.0f ? x[i] : 0.0f));
        nn_model_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mixed_net_gradients_match_finite_differences),
        cmocka_unit_test(softmax_net_gradients_match_finite_differences),
        cmocka_unit_test(
            scaled_and_normalized_output_nets_match_finite_differences),
        cmocka_unit_test(new_activations_on_dense_nets_match_on_both_paths),
        cmocka_unit_test(batchnorm_running_statistics_follow_the_formula),
        cmocka_unit_test(batchnorm_keeps_a_far_mean_exact),
        cmocka_unit_test(layernorm_output_is_each_row_normalized),
        cmocka_unit_test(layernorm_keeps_a_far_mean_exact),
        cmocka_unit_test(new_activations_match_libm_at_chosen_points),
        cmocka_unit_test(dropout_drops_the_rate_of_units_and_scales_the_rest),
        cmocka_unit_test(
            predictions_with_dropout_equal_those_without_bit_for_bit),
        cmocka_unit_test(dropout_masks_are_the_documented_hash),
        cmocka_unit_test(dropout_runs_with_one_seed_are_bit_identical),
        cmocka_unit_test(
            relu_dropout_folded_trains_as_the_unfolded_net_bit_for_bit),
        cmocka_unit_test(
            relu_taken_by_a_norm_trains_as_the_unfolded_net_bit_for_bit),
        cmocka_unit_test(a_rows_mask_depends_on_its_position_and_the_step_only),
        cmocka_unit_test(initialisers_draw_what_their_names_say),
        cmocka_unit_test(
            every_enum_value_has_its_name_and_no_other_value_has_one),
        cmocka_unit_test(bad_layer_input_gives_its_status_and_changes_nothing),
        cmocka_unit_test(a_model_without_parameters_trains_and_stays_the_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
