/*
 * bench_proto.c - a branch-free e^x and the sigmoid and tanh built on it,
 * written so that GCC and Clang vectorise the loops at -O3. The build gives
 * this file -fno-trapping-math, without which GCC will not if-convert the
 * clamps (the comparisons could raise FP exceptions); it changes no result.
 */
#include "bench_proto.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* e^x for x in about [-87, 88] (clamped), relative error ~2e-7: rounding
 * by the 1.5 * 2^23 trick, a degree-6 polynomial, the exponent built in the
 * bits. No calls and no branches, so -O3 vectorises the loops. */
static float proto_expf(float x)
{
    const float log2e = 1.44269504f, ln2_hi = 0.693359375f,
                ln2_lo = -2.12194440e-4f, magic = 12582912.0f;
    float t, n, r, p;
    int32_t bits;
    uint32_t u;
    x = x < -87.0f ? -87.0f : x; /* if-converted under -fno-trapping-math */
    x = x > 88.0f ? 88.0f : x;
    t = x * log2e + magic;
    n = t - magic;
    r = x - n * ln2_hi - n * ln2_lo;
    p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666667f +
        r * (0.041666667f + r * (0.0083333337f + r * 0.0013888889f)))));
    memcpy(&bits, &t, sizeof bits); /* low bits of t hold n */
    u = (uint32_t)(bits - 0x4B400000 + 127) << 23;
    memcpy(&t, &u, sizeof t);
    return p * t;
}

void bench_proto_sigmoid(const float *z, float *a, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        a[i] = 1.0f / (1.0f + proto_expf(-z[i]));
}

/* tanh z = 1 - 2 / (e^2z + 1) */
void bench_proto_tanh(const float *z, float *a, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        a[i] = 1.0f - 2.0f / (proto_expf(2.0f * z[i]) + 1.0f);
}


/* sum |p[i]| in 8 independent float accumulators: the compiler keeps them
 * in two vector registers (no reassociation is needed, so no -ffast-math),
 * and the sum is Inf or NaN whenever an element is, and otherwise bounds
 * max |p[i]|. */
static float abs_sum(const float *p, size_t n)
{
    float s[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    size_t i, k;
    for (i = 0; i + 8 <= n; i += 8)
        for (k = 0; k < 8; k++)
            s[k] += fabsf(p[i + k]);
    for (; i < n; i++)
        s[0] += fabsf(p[i]);
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

int bench_proto_sgd(float *w, const float *g, size_t n, float lr,
                    float *w_bound)
{
    float gsum = abs_sum(g, n);
    float s[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    size_t i, k;
    /* A non-finite gradient makes gsum Inf or NaN. Otherwise
     * |w - lr g| <= max|w| + lr max|g| <= w_bound + lr gsum. */
    if (!(isfinite(gsum) && *w_bound + lr * gsum < 1.0e38f))
        return -1;
    for (i = 0; i + 8 <= n; i += 8)
        for (k = 0; k < 8; k++) {
            float v = w[i + k] - lr * g[i + k];
            w[i + k] = v;
            s[k] += fabsf(v);
        }
    for (; i < n; i++) {
        float v = w[i] - lr * g[i];
        w[i] = v;
        s[0] += fabsf(v);
    }
    *w_bound = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    return 1;
}
