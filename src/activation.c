/*
 * activation.c - activation functions and their derivatives, applied to
 * whole n x k blocks. Derivatives are written in terms of the activation's
 * output a = f(z), so the training workspace stores A and not Z.
 */
#include "nn_internal.h"

#include <math.h>

int nn__activation_valid(int act)
{
    return act >= NN_ACT_IDENTITY && act <= NN_ACT_SOFTMAX;
}

const char *nn__activation_name(int act)
{
    switch (act) {
    case NN_ACT_IDENTITY: return "identity";
    case NN_ACT_SIGMOID: return "sigmoid";
    case NN_ACT_TANH: return "tanh";
    case NN_ACT_RELU: return "relu";
    case NN_ACT_LEAKY_RELU: return "leaky relu";
    case NN_ACT_SOFTMAX: return "softmax";
    }
    return "unknown";
}

/* Never evaluates exp of a large positive number. */
static float sigmoidf(float z)
{
    if (z >= 0.0f)
        return 1.0f / (1.0f + expf(-z));
    else {
        float e = expf(z);
        return e / (1.0f + e);
    }
}

static void softmax_rows(const float *z, float *a, size_t n, size_t k)
{
    size_t i, j;
    for (i = 0; i < n; i++) {
        const float *zr = z + i * k;
        float *ar = a + i * k;
        float mx = zr[0];
        float sum = 0.0f;
        for (j = 1; j < k; j++)
            if (zr[j] > mx)
                mx = zr[j];
        for (j = 0; j < k; j++) {
            ar[j] = expf(zr[j] - mx);
            sum += ar[j];
        }
        for (j = 0; j < k; j++)
            ar[j] /= sum;
    }
}

void nn__activation_forward(int act, float slope, const float *z, float *a,
                            size_t n, size_t k)
{
    size_t i, len = n * k;
    switch (act) {
    case NN_ACT_IDENTITY:
        if (a != z)
            for (i = 0; i < len; i++)
                a[i] = z[i];
        break;
    case NN_ACT_SIGMOID:
        for (i = 0; i < len; i++)
            a[i] = sigmoidf(z[i]);
        break;
    case NN_ACT_TANH:
        for (i = 0; i < len; i++)
            a[i] = tanhf(z[i]);
        break;
    case NN_ACT_RELU:
        for (i = 0; i < len; i++)
            a[i] = z[i] > 0.0f ? z[i] : 0.0f;
        break;
    case NN_ACT_LEAKY_RELU:
        for (i = 0; i < len; i++)
            a[i] = z[i] > 0.0f ? z[i] : slope * z[i];
        break;
    case NN_ACT_SOFTMAX:
        softmax_rows(z, a, n, k);
        break;
    }
}

void nn__activation_backward(int act, float slope, const float *a, float *g,
                             size_t n, size_t k)
{
    size_t i, len = n * k;
    switch (act) {
    case NN_ACT_SIGMOID:
        for (i = 0; i < len; i++)
            g[i] *= a[i] * (1.0f - a[i]);
        break;
    case NN_ACT_TANH:
        for (i = 0; i < len; i++)
            g[i] *= 1.0f - a[i] * a[i];
        break;
    case NN_ACT_RELU:
        for (i = 0; i < len; i++)
            g[i] = a[i] > 0.0f ? g[i] : 0.0f;
        break;
    case NN_ACT_LEAKY_RELU:
        /* a > 0 exactly when z > 0, for any slope >= 0. */
        for (i = 0; i < len; i++)
            g[i] = a[i] > 0.0f ? g[i] : slope * g[i];
        break;
    case NN_ACT_SOFTMAX:
        nn__softmax_backward(a, g, n, k);
        break;
    default: /* identity: f' = 1 */
        break;
    }
}

void nn__softmax_backward(const float *a, float *g, size_t n, size_t k)
{
    size_t i, j;
    for (i = 0; i < n; i++) {
        const float *ar = a + i * k;
        float *gr = g + i * k;
        double dot = 0.0;
        for (j = 0; j < k; j++)
            dot += (double)ar[j] * gr[j];
        for (j = 0; j < k; j++)
            gr[j] = ar[j] * (gr[j] - (float)dot);
    }
}

float nn__sigmoid(float z)
{
    return sigmoidf(z);
}
