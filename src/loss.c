/*
 * loss.c - loss functions and their gradients with respect to the output
 * layer's pre-activations Z. Definitions follow PyTorch's defaults (means),
 * so values can be compared with it. Sums accumulate in double.
 */
#include "nn_internal.h"

#include <math.h>

int nn__loss_valid(int loss)
{
    return loss >= NN_LOSS_MSE && loss <= NN_LOSS_CROSS_ENTROPY;
}

const char *nn__loss_name(int loss)
{
    switch (loss) {
    case NN_LOSS_MSE: return "mse";
    case NN_LOSS_BCE: return "binary cross-entropy";
    case NN_LOSS_CROSS_ENTROPY: return "cross-entropy";
    }
    return "unknown";
}

int nn__loss_fits(int loss, int act)
{
    switch (loss) {
    case NN_LOSS_MSE: return 1;
    case NN_LOSS_BCE: return act == NN_ACT_SIGMOID || act == NN_ACT_IDENTITY;
    case NN_LOSS_CROSS_ENTROPY:
        return act == NN_ACT_SOFTMAX || act == NN_ACT_IDENTITY;
    }
    return 0;
}

static double mse(int act, float slope, const float *a, const float *t,
                  float *g, size_t n, size_t k)
{
    size_t i, len = n * k;
    double sum = 0.0, scale = 2.0 / (double)len;
    for (i = 0; i < len; i++) {
        double d = (double)a[i] - (double)t[i];
        sum += d * d;
        g[i] = (float)(scale * d);
    }
    nn__activation_backward(act, slope, a, g, n, k);
    return sum / (double)len;
}

/* -[t log s(z) + (1-t) log(1-s(z))] = max(z,0) - z t + log(1 + e^-|z|) */
static double bce(const float *z, const float *t, float *g, size_t n,
                  size_t k)
{
    size_t i, len = n * k;
    double sum = 0.0, scale = 1.0 / (double)len;
    for (i = 0; i < len; i++) {
        double zi = z[i], ti = t[i];
        sum += (zi > 0.0 ? zi : 0.0) - zi * ti + log1p(exp(-fabs(zi)));
        g[i] = (float)(scale * ((double)nn__sigmoid(z[i]) - ti));
    }
    return sum / (double)len;
}

/* Per row: -sum_j t_j log p_j = sum_j t_j (lse - z_j), and
 * dL/dz_j = p_j sum_i t_i - t_j, which is p - t for rows summing to 1. */
static double cross_entropy(const float *z, const float *t,
                            const int32_t *labels, float *g, size_t n,
                            size_t k)
{
    size_t i, j;
    double total = 0.0, scale = 1.0 / (double)n;
    for (i = 0; i < n; i++) {
        const float *zr = z + i * k;
        float *gr = g + i * k;
        double mx = zr[0], s = 0.0, lse, tsum = 0.0, row = 0.0;
        for (j = 1; j < k; j++)
            if (zr[j] > mx)
                mx = zr[j];
        for (j = 0; j < k; j++)
            s += exp((double)zr[j] - mx);
        lse = mx + log(s);
        if (labels) {
            row = lse - zr[labels[i]];
            tsum = 1.0;
        } else {
            const float *tr = t + i * k;
            for (j = 0; j < k; j++) {
                row += (double)tr[j] * (lse - zr[j]);
                tsum += tr[j];
            }
        }
        total += row;
        for (j = 0; j < k; j++) {
            double p = exp((double)zr[j] - lse);
            double tj = labels ? (j == (size_t)labels[i] ? 1.0 : 0.0)
                               : (double)t[i * k + j];
            gr[j] = (float)(scale * (p * tsum - tj));
        }
    }
    return total * scale;
}

double nn__loss_grad(int loss, int act, float slope, const float *z,
                     const float *a, const float *t, const int32_t *labels,
                     float *g, size_t n, size_t k)
{
    switch (loss) {
    case NN_LOSS_MSE: return mse(act, slope, a, t, g, n, k);
    case NN_LOSS_BCE: return bce(z, t, g, n, k);
    case NN_LOSS_CROSS_ENTROPY:
        return cross_entropy(z, t, labels, g, n, k);
    }
    return NAN;
}
