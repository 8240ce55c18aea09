/* SPDX-License-Identifier: MIT */
/*
 * activation.c - activation functions and their derivatives, applied to
 * whole n x k blocks, and the column sums that a layer's backward pass
 * folds into the same sweep. Derivatives are written in terms of the
 * activation's output a = f(z) where that is possible, so most layers keep
 * A and not Z; GELU, SiLU, softplus and ELU need z
 * (nn__activation_needs_z).
 */
#include "nn_internal.h"
#include "nn_math.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

int nn__activation_valid(int act)
{
    return act >= NN_ACT_IDENTITY && act <= NN_ACT_ELU;
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
 * written through a = f(z) or through z: one definition for every kernel
 * below. For leaky relu, a > 0 exactly when z > 0, for any slope >= 0. */
static inline float relu(float z)
{
    return z > 0.0f ? z : 0.0f;
}

static inline float leaky_relu(float z, float slope)
{
    return z > 0.0f ? z : slope * z;
}

/* z Phi(z), with Phi(z) = 1 - tail for z >= 0 and the tail itself below:
 * accurate to a few ulp relative also for z far below 0. */
static inline float gelu(float z)
{
    float gauss, tail = nn__normal_tail(z, &gauss);
    (void)gauss;
    return z * (z >= 0.0f ? 1.0f - tail : tail);
}

static inline float silu(float z)
{
    return z * sigmoidf(z);
}

/* log(1 + e^z) = max(z, 0) + log(1 + e^-|z|); z itself above 20, as
 * PyTorch's threshold does. */
static inline float softplus(float z)
{
    float sp = relu(z) + nn__log1p_unit(nn__exp_nonpos(-fabsf(z)));
    return z > 20.0f ? z : sp;
}

static inline float elu(float z, float alpha)
{
    return z > 0.0f ? z : alpha * nn__expm1_nonpos(z);
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

/* d/dz z Phi(z) = Phi(z) + z phi(z), phi(z) = e^(-z^2/2) / sqrt(2 pi). */
static inline float gelu_back(float g, float z)
{
    float gauss, tail = nn__normal_tail(z, &gauss);
    float phi = z >= 0.0f ? 1.0f - tail : tail;
    return g * (phi + z * (gauss * 0.398942280f));
}

/* d/dz z s(z) = s(z) (1 + z s(-z)), with s(-z) = 1 - s(z) formed from
 * e^-|z| directly, without the cancellation of 1 - s(z). */
static inline float silu_back(float g, float z)
{
    float e = nn__exp_nonpos(-fabsf(z)), inv = 1.0f / (1.0f + e);
    float s = z >= 0.0f ? inv : e * inv, sm = z >= 0.0f ? e * inv : inv;
    return g * (s * (1.0f + z * sm));
}

static inline float softplus_back(float g, float z)
{
    return z > 20.0f ? g : g * sigmoidf(z);
}

/* f'(z) = 1 for z > 0, alpha e^z for z <= 0 (alpha at 0, as PyTorch's).
 * From z, not as a + alpha: that cancels for z far below 0 (at z = -10 it
 * would keep three correct digits). */
static inline float elu_back(float g, float z, float alpha)
{
    return z > 0.0f ? g : g * (alpha * nn__exp_nonpos(z));
}

NN__VECTOR_CLONES
static void softmax_rows(const float *z, float *a, size_t n, size_t k)
{
    size_t i0, i, j, rows = nn__exp_group(k);
    for (i0 = 0; i0 < n; i0 += rows) {
        size_t i1 = n - i0 < rows ? n : i0 + rows;
        for (i = i0; i < i1; i++) { /* z - max, in a (a may be z) */
            const float *zr = z + i * k;
            float *ar = a + i * k, mx = nn__row_max(zr, k);
            for (j = 0; j < k; j++)
                ar[j] = zr[j] - mx;
        }
        for (j = i0 * k; j < i1 * k; j++) /* the group's rows as one */
            a[j] = nn__exp_nonpos(a[j]);
        for (i = i0; i < i1; i++) {
            float *ar = a + i * k, sum = 1.0f / nn__row_sum(ar, k);
            for (j = 0; j < k; j++)
                ar[j] *= sum;
        }
    }
}

NN__VECTOR_CLONES
static void forward_kernel(int act, float p, const float *z, float *a,
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
            a[i] = leaky_relu(z[i], p);
        break;
    case NN_ACT_SOFTMAX:
        softmax_rows(z, a, n, k);
        break;
    }
}

/* forward_kernel's activations whose derivative needs z, apart: their
 * loops need more registers, which a tiny net's sigmoid layer would
 * otherwise save and restore on every call. */
NN__VECTOR_CLONES
static void forward_z_kernel(int act, float p, const float *z, float *a,
                             size_t n, size_t k)
{
    size_t i, len = n * k;
    switch (act) {
    case NN_ACT_GELU:
        for (i = 0; i < len; i++)
            a[i] = gelu(z[i]);
        break;
    case NN_ACT_SILU:
        for (i = 0; i < len; i++)
            a[i] = silu(z[i]);
        break;
    case NN_ACT_SOFTPLUS:
        for (i = 0; i < len; i++)
            a[i] = softplus(z[i]);
        break;
    case NN_ACT_ELU:
        for (i = 0; i < len; i++)
            a[i] = elu(z[i], p);
        break;
    }
}

/* The largest nn__abs_bits of x[0, len), in 32 lanes' maxima (four
 * AVX2 vectors) over the body: with one, each vector's maximum waited on
 * the last. The folded update's check scans the batch with it (optim.c),
 * 1.1% of the samples of 784-256-128-10's step at batch 128; with the
 * lanes, steps of that net at batch 32 to 512 took 0.994 to 0.998 of
 * the time (bench/steps_ab.sh; bench/RESULTS.md, "Since 005ec65"). */
NN__VECTOR_CLONES
static uint32_t max_bits_kernel(const float *restrict x, size_t len)
{
    size_t i = 0, j;
    uint32_t top = 0;
    if (len >= 32) {
        uint32_t lanes[32] = {0};
        for (; i + 32 <= len; i += 32)
            for (j = 0; j < 32; j++) {
                uint32_t u = nn__abs_bits(x[i + j]);
                lanes[j] = u > lanes[j] ? u : lanes[j];
            }
        for (j = 0; j < 32; j++)
            top = lanes[j] > top ? lanes[j] : top;
    }
    for (; i < len; i++) {
        uint32_t u = nn__abs_bits(x[i]);
        top = u > top ? u : top;
    }
    return top;
}

/* One pass over a block: t = IN (r[j] is the row of z, RTYPE r's type),
 * v = EXPR of t, stored by STORE (o[j] is the row of out), and the
 * largest BITS of v returned. Per row, so that the row loop vectorises as
 * a reduction. */
#define NN__ACT_ROWS(RTYPE, IN, EXPR, BITS, STORE)                           \
    for (i = 0; i < n; i++) {                                                \
        RTYPE *restrict r = z + i * k;                                       \
        float *restrict o = out + i * k;                                     \
        uint32_t rtop = 0;                                                   \
        for (j = 0; j < k; j++) {                                            \
            const float t = (IN);                                            \
            const float v = (EXPR);                                          \
            const uint32_t u = (BITS);                                       \
            STORE;                                                           \
            rtop = u > rtop ? u : rtop;                                      \
        }                                                                    \
        top = rtop > top ? rtop : top;                                       \
    }
/* With a bias: t = z + b (b of k floats, on every row). */
#define NN__BIAS_ROWS(EXPR, BITS, STORE)                                     \
    NN__ACT_ROWS(float, r[j] + b[j], EXPR, BITS, STORE)
/* The cases of the activations other than identity and softmax, each by
 * ROWS(EXPR, BITS) with the largest magnitude's bits. */
#define NN__ACT_CASES(ROWS)                                                  \
    case NN_ACT_SIGMOID:                                                     \
        ROWS(sigmoidf(t), nn__abs_bits(v));                                  \
        break;                                                               \
    case NN_ACT_TANH:                                                        \
        ROWS(tanhf_fast(t), nn__abs_bits(v));                                \
        break;                                                               \
    case NN_ACT_RELU:                                                        \
        /* the bits of v, written so that GCC vectorises the loop (it does  \
         * not when they are taken from the select) */                       \
        ROWS(relu(t), nn__abs_bits(t) & (t > 0.0f ? 0xffffffffu : 0u));      \
        break;                                                               \
    case NN_ACT_LEAKY_RELU:                                                  \
        ROWS(leaky_relu(t, p), nn__abs_bits(v));                             \
        break;                                                               \
    case NN_ACT_ELU:                                                         \
        ROWS(elu(t, p), nn__abs_bits(v));                                    \
        break;                                                               \
    case NN_ACT_GELU:                                                        \
        ROWS(gelu(t), nn__abs_bits(v));                                      \
        break;                                                               \
    case NN_ACT_SILU:                                                        \
        ROWS(silu(t), nn__abs_bits(v));                                      \
        break;                                                               \
    case NN_ACT_SOFTPLUS:                                                    \
        ROWS(softplus(t), nn__abs_bits(v));                                  \
        break;

/* z (n x k) = f(z + b) in place, b (k) added to every row: the bias and
 * the activation in one pass over the block, which also returns the
 * largest nn__abs_bits of the result. (A layer whose backward pass needs
 * z keeps it with bias_forward2_kernel instead.) */
NN__VECTOR_CLONES
static uint32_t bias_forward_kernel(int act, float p, float *restrict z,
                                    const float *restrict b, size_t n,
                                    size_t k)
{
    size_t i, j;
    uint32_t top = 0;
    float *const out = z; /* o is not used: r[j] is written */
#define NN__IN_PLACE(EXPR, BITS) NN__BIAS_ROWS(EXPR, BITS, (r[j] = v, (void)o))
    switch (act) {
        NN__ACT_CASES(NN__IN_PLACE)
    default: /* identity; softmax adds the bias, then normalises */
        NN__IN_PLACE(t, nn__abs_bits(v));
        if (act == NN_ACT_SOFTMAX) {
            softmax_rows(z, z, n, k);
            top = max_bits_kernel(z, n * k);
        }
        break;
    }
#undef NN__IN_PLACE
    return top;
}

/* a (n x k) = f(z), out of place, returning the largest nn__abs_bits of
 * a: an activation layer's forward pass, which had taken a second pass
 * over a for its largest magnitude. The values are forward_kernel's and
 * forward_z_kernel's (the same expressions per element). */
NN__VECTOR_CLONES
static uint32_t forward_top_kernel(int act, float p, const float *restrict z,
                                   float *restrict a, size_t n, size_t k)
{
    size_t i, j;
    uint32_t top = 0;
    float *const out = a;
#define NN__TOP(EXPR, BITS)                                                  \
    NN__ACT_ROWS(const float, r[j], EXPR, BITS, o[j] = v)
    switch (act) {
        NN__ACT_CASES(NN__TOP)
    case NN_ACT_SOFTMAX:
        softmax_rows(z, a, n, k);
        top = max_bits_kernel(a, n * k);
        break;
    default: /* identity */
        NN__TOP(t, nn__abs_bits(v));
        break;
    }
#undef NN__TOP
    return top;
}

/* z (n x k) += b on every row and a = f(z), in one pass: the bias and
 * activation of a layer that keeps its pre-activations. Softmax takes
 * a second pass over the rows. */
NN__VECTOR_CLONES
static uint32_t bias_forward2_kernel(int act, float p, float *restrict z,
                                     const float *restrict b,
                                     float *restrict a, size_t n, size_t k)
{
    size_t i, j;
    uint32_t top = 0;
    float *const out = a;
#define NN__TWO(EXPR) NN__BIAS_ROWS(EXPR, nn__abs_bits(v), (r[j] = t, o[j] = v))
    switch (act) {
    case NN_ACT_SIGMOID:
        NN__TWO(sigmoidf(t));
        break;
    case NN_ACT_TANH:
        NN__TWO(tanhf_fast(t));
        break;
    case NN_ACT_RELU:
        NN__TWO(relu(t));
        break;
    case NN_ACT_LEAKY_RELU:
        NN__TWO(leaky_relu(t, p));
        break;
    case NN_ACT_GELU:
        NN__TWO(gelu(t));
        break;
    case NN_ACT_SILU:
        NN__TWO(silu(t));
        break;
    case NN_ACT_SOFTPLUS:
        NN__TWO(softplus(t));
        break;
    case NN_ACT_ELU:
        NN__TWO(elu(t, p));
        break;
    default: /* identity; softmax adds the bias, then normalises */
        NN__TWO(t);
        if (act == NN_ACT_SOFTMAX) {
            softmax_rows(z, a, n, k);
            top = max_bits_kernel(a, n * k);
        }
        break;
    }
#undef NN__TWO
    return top;
}

#undef NN__BIAS_ROWS
#undef NN__ACT_CASES
#undef NN__ACT_ROWS

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

/* The act of backward_body and backward_sums_kernel for
 * nn__relu_dropout_back and nn__relu_dropout_sums: a relu whose output a
 * dropout scaled by p (its output is a, g its dL/dy). */
enum { RELU_DROPOUT = -1 };

/* out = f'(.) g, element by element, for backward_kernel (in place: out
 * is g) and backward_to_kernel; f' through a, or through z for the
 * activations that need it (nn__activation_needs_z). Not softmax. With
 * RELU_DROPOUT, the dropout's scaling, then the relu's selection. */
static NN__ALWAYS_INLINE void backward_body(int act, float p, const float *z,
                                            const float *a, const float *g,
                                            float *out, size_t len)
{
    size_t i;
#define NN__BACK(EXPR)                                                       \
    for (i = 0; i < len; i++)                                                \
        out[i] = (EXPR)
    switch (act) {
    case NN_ACT_SIGMOID: NN__BACK(nn__sigmoid_back(g[i], a[i])); break;
    case NN_ACT_TANH: NN__BACK(tanh_back(g[i], a[i])); break;
    case NN_ACT_RELU: NN__BACK(relu_back(g[i], a[i])); break;
    case NN_ACT_LEAKY_RELU: NN__BACK(leaky_relu_back(g[i], a[i], p)); break;
    case NN_ACT_GELU: NN__BACK(gelu_back(g[i], z[i])); break;
    case NN_ACT_SILU: NN__BACK(silu_back(g[i], z[i])); break;
    case NN_ACT_SOFTPLUS: NN__BACK(softplus_back(g[i], z[i])); break;
    case NN_ACT_ELU: NN__BACK(elu_back(g[i], z[i], p)); break;
    case RELU_DROPOUT: NN__BACK(relu_back(g[i] * p, a[i])); break;
    default: /* identity: f' = 1 */
        if (out != g)
            NN__BACK(g[i]);
        break;
    }
#undef NN__BACK
}

NN__VECTOR_CLONES
static void backward_kernel(int act, float p, const float *z, const float *a,
                            float *g, size_t n, size_t k)
{
    /* the activations through a only: the body's other loops not compiled
     * in (see backward_z_kernel) */
    switch (act) {
    case NN_ACT_SIGMOID:
        backward_body(NN_ACT_SIGMOID, p, z, a, g, g, n * k);
        break;
    case NN_ACT_TANH:
        backward_body(NN_ACT_TANH, p, z, a, g, g, n * k);
        break;
    case NN_ACT_RELU:
        backward_body(NN_ACT_RELU, p, z, a, g, g, n * k);
        break;
    case NN_ACT_LEAKY_RELU:
        backward_body(NN_ACT_LEAKY_RELU, p, z, a, g, g, n * k);
        break;
    case NN_ACT_SOFTMAX:
        softmax_backward(a, g, n, k);
        break;
    default: /* identity: f' = 1 */
        break;
    }
}

/* backward_kernel's activations whose derivative needs z (as
 * forward_z_kernel). */
NN__VECTOR_CLONES
static void backward_z_kernel(int act, float p, const float *z,
                              const float *a, float *g, size_t n, size_t k)
{
    switch (act) {
    case NN_ACT_GELU:
        backward_body(NN_ACT_GELU, p, z, a, g, g, n * k);
        break;
    case NN_ACT_SILU:
        backward_body(NN_ACT_SILU, p, z, a, g, g, n * k);
        break;
    case NN_ACT_SOFTPLUS:
        backward_body(NN_ACT_SOFTPLUS, p, z, a, g, g, n * k);
        break;
    case NN_ACT_ELU:
        backward_body(NN_ACT_ELU, p, z, a, g, g, n * k);
        break;
    }
}

/* gx = f'(.) g out of place (an activation layer's dL/dx from its dL/dy),
 * in one pass where a copy and then backward_kernel took two. */
NN__VECTOR_CLONES
static void backward_to_kernel(int act, float p, const float *restrict z,
                               const float *restrict a,
                               const float *restrict g, float *restrict gx,
                               size_t len)
{
    backward_body(act, p, z, a, g, gx, len);
}

/* g (n x k) = f'(a) g as backward_kernel does, and in the same pass
 * db (k) = the column sums of the new g, each added row by row from 0 (as
 * a separate sum would), and the largest nn__abs_bits of the new g. With
 * NN_ACT_IDENTITY, g is left as it is and neither z nor a is read (they
 * may be NULL): column sums and the largest magnitude alone. With
 * RELU_DROPOUT, g = (a > 0 ? g p : 0): the dropout's scaling (as
 * dropout.c's backward pass forms it), then the relu's selection, a > 0
 * standing for both the mask and the relu's output above 0. */
NN__VECTOR_CLONES
static uint32_t backward_sums_kernel(int act, float p,
                                     const float *restrict z,
                                     const float *restrict a,
                                     float *restrict g, float *restrict db,
                                     size_t n, size_t k)
{
    size_t i, j;
    uint32_t top = 0;
    for (j = 0; j < k; j++)
        db[j] = 0.0f;
#define NN__ROWS(SRC, EXPR, BITS)                                            \
    for (i = 0; i < n; i++) {                                                \
        const float *restrict ar = SRC + i * k;                              \
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
        NN__ROWS(a, nn__sigmoid_back(d, y), nn__abs_bits(v));
        break;
    case NN_ACT_TANH:
        NN__ROWS(a, tanh_back(d, y), nn__abs_bits(v));
        break;
    case NN_ACT_RELU:
        NN__ROWS(a, relu_back(d, y), /* bits as in the forward pass */
                 nn__abs_bits(d) & (y > 0.0f ? 0xffffffffu : 0u));
        break;
    case RELU_DROPOUT:
        NN__ROWS(a, relu_back(d * p, y),
                 nn__abs_bits(d * p) & (y > 0.0f ? 0xffffffffu : 0u));
        break;
    case NN_ACT_LEAKY_RELU:
        NN__ROWS(a, leaky_relu_back(d, y, p), nn__abs_bits(v));
        break;
    case NN_ACT_GELU:
        NN__ROWS(z, gelu_back(d, y), nn__abs_bits(v));
        break;
    case NN_ACT_SILU:
        NN__ROWS(z, silu_back(d, y), nn__abs_bits(v));
        break;
    case NN_ACT_SOFTPLUS:
        NN__ROWS(z, softplus_back(d, y), nn__abs_bits(v));
        break;
    case NN_ACT_ELU:
        NN__ROWS(z, elu_back(d, y, p), nn__abs_bits(v));
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
void nn__activation_forward(int act, float p, const float *z, float *a,
                            size_t n, size_t k)
{
    if (nn__activation_needs_z(act))
        forward_z_kernel(act, p, z, a, n, k);
    else
        forward_kernel(act, p, z, a, n, k);
}

uint32_t nn__activation_forward_top(int act, float p, const float *z,
                                    float *a, size_t n, size_t k)
{
    return forward_top_kernel(act, p, z, a, n, k);
}

void nn__activation_forward_bias(int act, float p, float *z, const float *b,
                                 float *a, size_t n, size_t k, uint32_t *top)
{
    uint32_t bits;
    if (a == z)
        bits = bias_forward_kernel(act, p, a, b, n, k);
    else
        bits = bias_forward2_kernel(act, p, z, b, a, n, k);
    if (top)
        *top = bits;
}

void nn__activation_backward(int act, float p, const float *z,
                             const float *a, float *g, size_t n, size_t k)
{
    /* both kernels take the same arguments, so either call is a jump */
    if (nn__activation_needs_z(act))
        backward_z_kernel(act, p, z, a, g, n, k);
    else
        backward_kernel(act, p, z, a, g, n, k);
}

void nn__activation_backward_to(int act, float p, const float *z,
                                const float *a, const float *g, float *gx,
                                size_t n, size_t k)
{
    if (act == NN_ACT_SOFTMAX) { /* by rows, in place */
        memcpy(gx, g, n * k * sizeof *gx);
        softmax_backward(a, gx, n, k);
    } else {
        backward_to_kernel(act, p, z, a, g, gx, n * k);
    }
}

uint32_t nn__activation_backward_sums(int act, float p, const float *z,
                                      const float *a, float *g, float *db,
                                      size_t n, size_t k)
{
    return backward_sums_kernel(act, p, z, a, g, db, n, k);
}

void nn__relu_dropout_back(const float *y, const float *g, float scale,
                           float *gx, size_t len)
{
    backward_to_kernel(RELU_DROPOUT, scale, NULL, y, g, gx, len);
}

uint32_t nn__relu_dropout_sums(const float *y, float *g, float scale,
                               float *db, size_t n, size_t k)
{
    return backward_sums_kernel(RELU_DROPOUT, scale, NULL, y, g, db, n, k);
}

uint32_t nn__column_sums(const float *g, float *db, size_t n, size_t k)
{
    size_t i, j;
    uint32_t top = 0;
    if (k >= 16) /* identity: g is only read */
        return backward_sums_kernel(NN_ACT_IDENTITY, 0.0f, NULL, NULL,
                                    (float *)g, db, n, k);
    for (j = 0; j < k; j++) {
        float acc = 0.0f;
        for (i = 0; i < n; i++) {
            uint32_t u = nn__abs_bits(g[i * k + j]);
            acc += g[i * k + j];
            top = u > top ? u : top;
        }
        db[j] = acc;
    }
    return top;
}

uint32_t nn__max_abs_bits(const float *x, size_t len)
{
    return max_bits_kernel(x, len);
}

float nn__sigmoid(float z)
{
    return sigmoidf(z);
}
