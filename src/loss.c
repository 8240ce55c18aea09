/* SPDX-License-Identifier: MIT */
/*
 * loss.c - loss functions and their gradients with respect to the output
 * layer's pre-activations Z. Definitions follow PyTorch's defaults (means),
 * so values can be compared with it. Sums accumulate in double. The mean
 * runs over la->rows rows, which are more than the n given when these are
 * part of a larger batch: the loss and gradient are then the part's
 * share of the whole's.
 */
#include "nn_internal.h"
#include "nn_math.h"

#include <math.h>

int nn__loss_valid(int loss)
{
    return loss >= NN_LOSS_MSE && loss <= NN_LOSS_HUBER;
}

int nn__loss_fits(int loss, int act)
{
    switch (loss) {
    case NN_LOSS_BCE: return act == NN_ACT_SIGMOID || act == NN_ACT_IDENTITY;
    case NN_LOSS_CROSS_ENTROPY:
        return act == NN_ACT_SOFTMAX || act == NN_ACT_IDENTITY;
    }
    return nn__loss_valid(loss); /* the element-wise losses: any */
}

NN__VECTOR_CLONES
static double mse(const nn__loss_args *la, const float *z, const float *a,
                  const float *t, float *g, size_t n, size_t k)
{
    size_t i, j, len = n * k, norm = la->rows * k;
    double part[8] = {0.0}, sum, scale = 2.0 / (double)norm;
    /* Eight running sums (element i goes to sum i mod 8), so that each
     * addition need not wait for the one before: one chain of double
     * additions took 1.2 ms for 256 x 4096 outputs. */
    for (i = 0; i + 8 <= len; i += 8)
        for (j = 0; j < 8; j++) {
            double d = (double)a[i + j] - (double)t[i + j];
            part[j] += d * d;
            g[i + j] = (float)(scale * d);
        }
    for (j = 0; i < len; i++, j++) {
        double d = (double)a[i] - (double)t[i];
        part[j] += d * d;
        g[i] = (float)(scale * d);
    }
    sum = ((part[0] + part[1]) + (part[2] + part[3])) +
          ((part[4] + part[5]) + (part[6] + part[7]));
    if (la->act != NN_ACT_IDENTITY) /* f' = 1: no call */
        nn__activation_backward(la->act, la->p, z, a, g, n, k);
    return sum / (double)norm;
}

/* L1: mean of |a - t|, gradient sign(a - t) / (rows k) (0 where they are
 * equal), as torch.nn.L1Loss. Huber: d^2 / 2 inside delta, delta (|d| -
 * delta / 2) outside, gradient d clamped to [-delta, delta], over rows k.
 * Both in eight running sums, as mse. */
NN__VECTOR_CLONES
static double l1_huber(const nn__loss_args *la, const float *z,
                       const float *a, const float *t, float *g, size_t n,
                       size_t k)
{
    size_t i, len = n * k;
    double part[8] = {0.0}, sum, scale = 1.0 / ((double)la->rows * k);
    double delta = la->huber_delta;
    int huber = la->loss == NN_LOSS_HUBER;
    for (i = 0; i < len; i++) {
        double d = (double)a[i] - (double)t[i], ad = fabs(d), v, gd;
        if (huber) {
            v = ad < delta ? 0.5 * d * d : delta * (ad - 0.5 * delta);
            gd = d < -delta ? -delta : (d > delta ? delta : d);
        } else {
            v = ad;
            gd = d > 0.0 ? 1.0 : (d < 0.0 ? -1.0 : 0.0);
        }
        part[i & 7] += v;
        g[i] = (float)(scale * gd);
    }
    sum = ((part[0] + part[1]) + (part[2] + part[3])) +
          ((part[4] + part[5]) + (part[6] + part[7]));
    if (la->act != NN_ACT_IDENTITY)
        nn__activation_backward(la->act, la->p, z, a, g, n, k);
    return sum * scale;
}

/* -[t log s(z) + (1-t) log(1-s(z))] = max(z,0) - z t + log(1 + e^-|z|) */
static double bce(const float *z, const float *t, float *g, size_t n,
                  size_t k, size_t rows)
{
    size_t i, len = n * k, norm = rows * k;
    double sum = 0.0, scale = 1.0 / (double)norm;
    for (i = 0; i < len; i++) {
        double zi = z[i], ti = t[i];
        sum += (zi > 0.0 ? zi : 0.0) - zi * ti + log1p(exp(-fabs(zi)));
        g[i] = (float)(scale * ((double)nn__sigmoid(z[i]) - ti));
    }
    return sum / (double)norm;
}

/* Per row: -sum_j t_j log p_j = sum_j t_j (lse - z_j), and
 * dL/dz_j = p_j sum_i t_i - t_j, which is p - t for rows summing to 1.
 * The exponentials are float (nn__exp_nonpos, vectorised); the log-sum-exp
 * and the loss accumulate in double. */
NN__VECTOR_CLONES
static double cross_entropy(const float *z, const float *t,
                            const int32_t *labels, float *g, size_t n,
                            size_t k, size_t rows)
{
    size_t i, i0, j, group = nn__exp_group(k);
    double total = 0.0, scale = 1.0 / (double)rows;
    float sc = (float)scale, maxes[NN__EXP_ROWS];
    for (i0 = 0; i0 < n; i0 += group) {
        size_t i1 = n - i0 < group ? n : i0 + group;
        for (i = i0; i < i1; i++) { /* z_j - max, in g */
            const float *zr = z + i * k;
            float *gr = g + i * k, mx = nn__row_max(zr, k);
            maxes[i - i0] = mx;
            for (j = 0; j < k; j++)
                gr[j] = zr[j] - mx;
        }
        for (j = i0 * k; j < i1 * k; j++) /* e^(z_j - max), as one */
            g[j] = nn__exp_nonpos(g[j]);
        for (i = i0; i < i1; i++) {
            const float *zr = z + i * k;
            float *gr = g + i * k;
            float s = nn__row_sum(gr, k), inv = 1.0f / s;
            double lse = (double)maxes[i - i0] + log((double)s), row = 0.0;
            if (labels) {
                size_t c = (size_t)labels[i];
                row = lse - zr[c];
                for (j = 0; j < k; j++)
                    gr[j] = sc * (gr[j] * inv);
                gr[c] -= sc;
            } else {
                const float *tr = t + i * k;
                double tsum = 0.0;
                float ts;
                for (j = 0; j < k; j++) {
                    row += (double)tr[j] * (lse - zr[j]);
                    tsum += tr[j];
                }
                ts = (float)tsum;
                for (j = 0; j < k; j++)
                    gr[j] = sc * (gr[j] * inv * ts - tr[j]);
            }
            total += row;
        }
    }
    return total * scale;
}

/* The coefficient c_j of cross_entropy_weighted for row i, before
 * division by the normaliser. */
static inline double ce_coef(const nn__loss_args *la, const float *t,
                             const int32_t *labels, size_t i, size_t j,
                             size_t k)
{
    double wj = la->class_w ? (double)la->class_w[j] : 1.0;
    double e = la->smoothing;
    if (labels)
        return (e / (double)k) * wj +
               ((size_t)labels[i] == j ? (1.0 - e) * wj : 0.0);
    return wj * ((1.0 - e) * (double)t[i * k + j] + e / (double)k);
}

/* Cross-entropy with class weights w (w_j = 1 without them) or label
 * smoothing e, through one form: a row's loss is sum_j c_j (lse - z_j)
 * for coefficients c_j, and dL/dz_j = p_j sum_i c_i - c_j. For labels y,
 * c_j = ((1 - e) w_y [j = y] + (e / k) w_j) / D with D = sum_i w_{y_i};
 * for target rows t, c_j = w_j ((1 - e) t_j + e / k) / n: PyTorch's
 * CrossEntropyLoss(weight, label_smoothing), as nn.h writes it out. The
 * coefficients are worked out in double; the exponentials and the
 * gradient in float, as cross_entropy does. */
NN__VECTOR_CLONES
static double cross_entropy_weighted(const nn__loss_args *la, const float *z,
                                     const float *t, const int32_t *labels,
                                     float *g, size_t n, size_t k)
{
    size_t i, j;
    double total = 0.0, denom = 0.0;
    if (labels && la->class_w) {
        if (la->weight_sum > 0.0)
            denom = la->weight_sum;
        else
            for (i = 0; i < n; i++)
                denom += (double)la->class_w[labels[i]];
    } else {
        denom = (double)la->rows;
    }
    for (i = 0; i < n; i++) {
        const float *zr = z + i * k;
        float *gr = g + i * k;
        float mx = nn__row_max(zr, k), s, inv, cs;
        double lse, row = 0.0, csum = 0.0;
        for (j = 0; j < k; j++)
            gr[j] = nn__exp_nonpos(zr[j] - mx); /* e^(z_j - max) */
        s = nn__row_sum(gr, k);
        lse = (double)mx + log((double)s);
        inv = 1.0f / s;
        for (j = 0; j < k; j++) {
            double c = ce_coef(la, t, labels, i, j, k);
            csum += c;
            row += c * (lse - zr[j]);
        }
        cs = (float)(csum / denom);
        for (j = 0; j < k; j++)
            gr[j] = (gr[j] * inv) * cs -
                    (float)(ce_coef(la, t, labels, i, j, k) / denom);
        total += row;
    }
    return total / denom;
}

double nn__loss_grad(const nn__loss_args *la, const float *z, const float *a,
                     const float *t, const int32_t *labels, float *g,
                     size_t n, size_t k)
{
    switch (la->loss) {
    case NN_LOSS_MSE: return mse(la, z, a, t, g, n, k);
    case NN_LOSS_BCE: return bce(z, t, g, n, k, la->rows);
    case NN_LOSS_CROSS_ENTROPY:
        if (la->class_w || la->smoothing != 0.0)
            return cross_entropy_weighted(la, z, t, labels, g, n, k);
        return cross_entropy(z, t, labels, g, n, k, la->rows);
    case NN_LOSS_L1:
    case NN_LOSS_HUBER:
        return l1_huber(la, z, a, t, g, n, k);
    }
    return NAN;
}
