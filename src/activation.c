/*
 * activation.c - activation functions and their derivatives, applied to
 * whole n x k blocks. Derivatives are written in terms of the activation's
 * output a = f(z), so the training workspace stores A and not Z.
 */
#include "nn_internal.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

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

/* e^x for x <= 0, within about 2 ulp (subnormal results included, down to
 * e^-103.9), NaN for NaN. Written without branches or calls, so the
 * loops below vectorise; libm's expf does neither. Every activation needs
 * e^x only for x <= 0: sigmoid and tanh take e^-|z|, softmax e^(z - max).
 *
 * x = n ln2 + r with |r| <= ln2/2 (ln2 split in two so n ln2 is exact),
 * e^r by a degree-7 polynomial (Taylor; the first omitted term is below
 * 2^-26 on that interval), then times 2^n in two halves, so that a
 * subnormal result is reached through normal scale factors. */
static inline float exp_nonpos(float x)
{
    const float lo = -103.98f; /* below this e^x rounds to 0 */
    /* clamped into [lo, 0], NaN to 0 (it is put back at the end): the
     * conversion to int below must see a value in range */
    float xc = x < lo ? lo : (x == x ? x : 0.0f);
    /* round to nearest by the 1.5 * 2^23 trick: no SSE4.1 needed */
    float n = (xc * 1.44269504089f + 12582912.0f) - 12582912.0f;
    float r = (xc - n * 0.693359375f) + n * 2.12194440e-4f;
    /* Estrin's scheme: half the dependency chain of Horner's, which is
     * what a single element (a batch of one) waits for */
    float r2 = r * r, r4 = r2 * r2;
    float p01 = 1.0f + r, p23 = 0.5f + r * (1.0f / 6.0f);
    float p45 = 1.0f / 24.0f + r * (1.0f / 120.0f);
    float p67 = 1.0f / 720.0f + r * (1.0f / 5040.0f);
    float p = (p01 + r2 * p23) + r4 * (p45 + r2 * p67);
    int32_t n1, n2, bits;
    float s1, s2;
    n1 = (int32_t)n / 2; /* n in [-150, 0]: both halves >= -75 */
    n2 = (int32_t)n - n1;
    bits = (int32_t)((uint32_t)(n1 + 127) << 23);
    memcpy(&s1, &bits, sizeof s1);
    bits = (int32_t)((uint32_t)(n2 + 127) << 23);
    memcpy(&s2, &bits, sizeof s2);
    p = p * s1 * s2;
    p = x < lo ? 0.0f : p;
    return x == x ? p : x; /* NaN stays NaN */
}

/* 1 / (1 + e^-z) for any z, from e^-|z| so nothing overflows. */
static inline float sigmoidf(float z)
{
    float e = exp_nonpos(-fabsf(z));
    return (z >= 0.0f ? 1.0f : e) / (1.0f + e);
}

/* tanh z: an odd Taylor polynomial for |z| < 0.4 (where 1 - e^-2|z|
 * would cancel; the first omitted term is below 2^-27 relative), else
 * (1 - e) / (1 + e) with e = e^-2|z|. Both are computed and one chosen,
 * without a branch. */
static inline float tanhf_fast(float z)
{
    float az = fabsf(z), z2 = z * z, e = exp_nonpos(-2.0f * az);
    float big = (1.0f - e) / (1.0f + e);
    float small = 21844.0f / 6081075.0f;
    small = small * z2 - 1382.0f / 155925.0f;
    small = small * z2 + 62.0f / 2835.0f;
    small = small * z2 - 17.0f / 315.0f;
    small = small * z2 + 2.0f / 15.0f;
    small = small * z2 - 1.0f / 3.0f;
    small = small * z2 * az + az;
    return copysignf(az < 0.4f ? small : big, z);
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
            ar[j] = exp_nonpos(zr[j] - mx);
            sum += ar[j];
        }
        sum = 1.0f / sum;
        for (j = 0; j < k; j++)
            ar[j] *= sum;
    }
}

NN__VECTOR_CLONES
static void forward_kernel(int act, float slope, const float *z, float *a,
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
            a[i] = tanhf_fast(z[i]);
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

NN__VECTOR_CLONES
static void backward_kernel(int act, float slope, const float *a, float *g,
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

/* The kernels are static so that their AVX2 dispatch stays unexported (the
 * compilers export the dispatcher of a cloned external function whatever
 * its visibility); these are the entry points. */
void nn__activation_forward(int act, float slope, const float *z, float *a,
                            size_t n, size_t k)
{
    forward_kernel(act, slope, z, a, n, k);
}

void nn__activation_backward(int act, float slope, const float *a, float *g,
                             size_t n, size_t k)
{
    backward_kernel(act, slope, a, g, n, k);
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
