/*
 * activation.c - activation functions and their derivatives, applied to
 * whole n x k blocks. Derivatives are written in terms of the activation's
 * output a = f(z), so the training workspace stores A and not Z.
 */
#include "nn_internal.h"
#include "nn_math.h"

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

/* 1 / (1 + e^-z) for any z, from e^-|z| so nothing overflows. */
static inline float sigmoidf(float z)
{
    float e = nn__exp_nonpos(-fabsf(z));
    return (z >= 0.0f ? 1.0f : e) / (1.0f + e);
}

/* tanh z: an odd Taylor polynomial for |z| < 0.4 (where 1 - e^-2|z|
 * would cancel; the first omitted term is below 2^-27 relative), else
 * (1 - e) / (1 + e) with e = e^-2|z|. Both are computed and one chosen,
 * without a branch. */
static inline float tanhf_fast(float z)
{
    float az = fabsf(z), z2 = z * z, e = nn__exp_nonpos(-2.0f * az);
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

/* The element-wise activations f(z), and their backward step g f'(z)
 * written through a = f(z): one definition for every kernel below. For
 * leaky relu, a > 0 exactly when z > 0, for any slope >= 0. */
static inline float relu(float z)
{
    return z > 0.0f ? z : 0.0f;
}

static inline float leaky_relu(float z, float slope)
{
    return z > 0.0f ? z : slope * z;
}

static inline float sigmoid_back(float g, float a)
{
    return g * (a * (1.0f - a));
}

static inline float tanh_back(float g, float a)
{
    return g * (1.0f - a * a);
}

static inline float relu_back(float g, float a)
{
    return a > 0.0f ? g : 0.0f;
}

static inline float leaky_relu_back(float g, float a, float slope)
{
    return a > 0.0f ? g : slope * g;
}

static void softmax_rows(const float *z, float *a, size_t n, size_t k)
{
    size_t i, j;
    for (i = 0; i < n; i++) {
        const float *zr = z + i * k;
        float *ar = a + i * k;
        float mx = nn__row_max(zr, k), sum;
        for (j = 0; j < k; j++)
            ar[j] = nn__exp_nonpos(zr[j] - mx);
        sum = 1.0f / nn__row_sum(ar, k);
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
            a[i] = relu(z[i]);
        break;
    case NN_ACT_LEAKY_RELU:
        for (i = 0; i < len; i++)
            a[i] = leaky_relu(z[i], slope);
        break;
    case NN_ACT_SOFTMAX:
        softmax_rows(z, a, n, k);
        break;
    }
}

/* The largest nn__abs_bits of x[0, len). */
NN__VECTOR_CLONES
static uint32_t max_bits_kernel(const float *restrict x, size_t len)
{
    size_t i;
    uint32_t top = 0;
    for (i = 0; i < len; i++) {
        uint32_t u = nn__abs_bits(x[i]);
        top = u > top ? u : top;
    }
    return top;
}

/* a (n x k) = f(a + b) in place, b (k) added to every row: the bias and
 * the activation in one pass over the block, which also returns the
 * largest nn__abs_bits of the result. */
NN__VECTOR_CLONES
static uint32_t bias_forward_kernel(int act, float slope, float *restrict a,
                                    const float *restrict b, size_t n,
                                    size_t k)
{
    size_t i, j;
    uint32_t top = 0;
#define NN__ROWS(EXPR, BITS)                                                 \
    for (i = 0; i < n; i++) {                                                \
        float *restrict r = a + i * k;                                       \
        uint32_t rtop = 0; /* per row: a reduction the row loop vectorises */\
        for (j = 0; j < k; j++) {                                            \
            const float t = r[j] + b[j];                                     \
            const float v = (EXPR);                                          \
            const uint32_t u = (BITS);                                       \
            r[j] = v;                                                        \
            rtop = u > rtop ? u : rtop;                                      \
        }                                                                    \
        top = rtop > top ? rtop : top;                                       \
    }
    switch (act) {
    case NN_ACT_SIGMOID:
        NN__ROWS(sigmoidf(t), nn__abs_bits(v));
        break;
    case NN_ACT_TANH:
        NN__ROWS(tanhf_fast(t), nn__abs_bits(v));
        break;
    case NN_ACT_RELU:
        /* the bits of v, written so that GCC vectorises the loop (it does
         * not when they are taken from the select) */
        NN__ROWS(relu(t), nn__abs_bits(t) & (t > 0.0f ? 0xffffffffu : 0u));
        break;
    case NN_ACT_LEAKY_RELU:
        NN__ROWS(leaky_relu(t, slope), nn__abs_bits(v));
        break;
    default: /* identity; softmax adds the bias, then normalises */
        NN__ROWS(t, nn__abs_bits(v));
        if (act == NN_ACT_SOFTMAX) {
            softmax_rows(a, a, n, k);
            top = max_bits_kernel(a, n * k);
        }
        break;
    }
#undef NN__ROWS
    return top;
}

/* g (n x k) = J_softmax(a)^T g per row: g_j = a_j (g_j - sum_i a_i g_i). */
static void softmax_backward(const float *a, float *g, size_t n, size_t k)
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

NN__VECTOR_CLONES
static void backward_kernel(int act, float slope, const float *a, float *g,
                            size_t n, size_t k)
{
    size_t i, len = n * k;
    switch (act) {
    case NN_ACT_SIGMOID:
        for (i = 0; i < len; i++)
            g[i] = sigmoid_back(g[i], a[i]);
        break;
    case NN_ACT_TANH:
        for (i = 0; i < len; i++)
            g[i] = tanh_back(g[i], a[i]);
        break;
    case NN_ACT_RELU:
        for (i = 0; i < len; i++)
            g[i] = relu_back(g[i], a[i]);
        break;
    case NN_ACT_LEAKY_RELU:
        for (i = 0; i < len; i++)
            g[i] = leaky_relu_back(g[i], a[i], slope);
        break;
    case NN_ACT_SOFTMAX:
        softmax_backward(a, g, n, k);
        break;
    default: /* identity: f' = 1 */
        break;
    }
}

/* g (n x k) = f'(a) g as backward_kernel does, and in the same pass
 * db (k) = the column sums of the new g, each added row by row from 0 (as
 * a separate sum would), and the largest nn__abs_bits of the new g. With
 * NN_ACT_IDENTITY, g is left as it is and a is not read (it may be NULL):
 * column sums and the largest magnitude alone. */
NN__VECTOR_CLONES
static uint32_t backward_sums_kernel(int act, float slope,
                                     const float *restrict a,
                                     float *restrict g, float *restrict db,
                                     size_t n, size_t k)
{
    size_t i, j;
    uint32_t top = 0;
    for (j = 0; j < k; j++)
        db[j] = 0.0f;
#define NN__ROWS(EXPR, BITS)                                                 \
    for (i = 0; i < n; i++) {                                                \
        const float *restrict ar = a + i * k;                                \
        float *restrict gr = g + i * k;                                      \
        uint32_t rtop = 0;                                                   \
        for (j = 0; j < k; j++) {                                            \
            const float y = ar[j], d = gr[j];                                \
            const float v = (EXPR);                                          \
            const uint32_t u = (BITS);                                       \
            gr[j] = v;                                                       \
            db[j] += v;                                                      \
            rtop = u > rtop ? u : rtop;                                      \
        }                                                                    \
        top = rtop > top ? rtop : top;                                       \
    }
    switch (act) {
    case NN_ACT_SIGMOID:
        NN__ROWS(sigmoid_back(d, y), nn__abs_bits(v));
        break;
    case NN_ACT_TANH:
        NN__ROWS(tanh_back(d, y), nn__abs_bits(v));
        break;
    case NN_ACT_RELU:
        NN__ROWS(relu_back(d, y), /* bits as in the forward pass */
                 nn__abs_bits(d) & (y > 0.0f ? 0xffffffffu : 0u));
        break;
    case NN_ACT_LEAKY_RELU:
        NN__ROWS(leaky_relu_back(d, y, slope), nn__abs_bits(v));
        break;
    default: /* identity (f' = 1; a is not read); softmax's Jacobian */
        if (act == NN_ACT_SOFTMAX)
            softmax_backward(a, g, n, k);
        for (i = 0; i < n; i++) {
            const float *restrict gr = g + i * k;
            uint32_t rtop = 0;
            for (j = 0; j < k; j++) {
                const uint32_t u = nn__abs_bits(gr[j]);
                db[j] += gr[j];
                rtop = u > rtop ? u : rtop;
            }
            top = rtop > top ? rtop : top;
        }
        break;
    }
#undef NN__ROWS
    return top;
}

/* The kernels are static so that their AVX2 dispatch stays unexported (the
 * compilers export the dispatcher of a cloned external function whatever
 * its visibility); these are the entry points. */
void nn__activation_forward(int act, float slope, const float *z, float *a,
                            size_t n, size_t k)
{
    forward_kernel(act, slope, z, a, n, k);
}

void nn__activation_forward_bias(int act, float slope, float *z,
                                 const float *b, float *a, size_t n, size_t k,
                                 uint32_t *top)
{
    uint32_t bits;
    if (a == z) {
        bits = bias_forward_kernel(act, slope, a, b, n, k);
    } else {
        (void)bias_forward_kernel(NN_ACT_IDENTITY, 0.0f, z, b, n, k);
        forward_kernel(act, slope, z, a, n, k);
        bits = top ? max_bits_kernel(a, n * k) : 0;
    }
    if (top)
        *top = bits;
}

void nn__activation_backward(int act, float slope, const float *a, float *g,
                             size_t n, size_t k)
{
    backward_kernel(act, slope, a, g, n, k);
}

uint32_t nn__activation_backward_sums(int act, float slope, const float *a,
                                      float *g, float *db, size_t n, size_t k)
{
    return backward_sums_kernel(act, slope, a, g, db, n, k);
}

uint32_t nn__max_abs_bits(const float *x, size_t len)
{
    return max_bits_kernel(x, len);
}

float nn__sigmoid(float z)
{
    return sigmoidf(z);
}
