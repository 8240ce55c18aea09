/*
 * nn_math.h - the elementary functions libnn's kernels share, written as
 * branch-free inline code so that the loops calling them vectorise (libm's
 * expf neither inlines nor vectorises). Private.
 */
#ifndef NN_MATH_H
#define NN_MATH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* e^x for x <= 0, within about 2 ulp (subnormal results included, down to
 * e^-103.9), NaN for NaN. Written without branches or calls, so the
 * loops below vectorise; libm's expf does neither. Every activation needs
 * e^x only for x <= 0: sigmoid and tanh take e^-|z|, softmax e^(z - max).
 *
 * x = n ln2 + r with |r| <= ln2/2 (ln2 split in two so n ln2 is exact),
 * e^r by a degree-7 polynomial (Taylor; the first omitted term is below
 * 2^-26 on that interval), then times 2^n in two halves, so that a
 * subnormal result is reached through normal scale factors. */
static inline float nn__exp_nonpos(float x)
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

/* |v| as the bits of a non-negative float: these order as the magnitudes
 * do, and every infinite or NaN v is above FLT_MAX's 0x7f7fffff. Kernels
 * fold max(top, nn__abs_bits(v)) into the pass that writes v, so a later
 * check needs no read of its own (optim.c). */
static inline uint32_t nn__abs_bits(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return u & 0x7fffffffu;
}

/* Largest of v[0..k), k >= 1, in eight lanes so the loop vectorises (the
 * maximum does not depend on the order). NaN entries are skipped here; the
 * caller's exp(v - max) turns them into NaN anyway. */
static inline float nn__row_max(const float *v, size_t k)
{
    float m[8];
    size_t j, q;
    for (q = 0; q < 8; q++)
        m[q] = v[0];
    for (j = 0; j + 8 <= k; j += 8)
        for (q = 0; q < 8; q++)
            m[q] = v[j + q] > m[q] ? v[j + q] : m[q];
    for (; j < k; j++)
        m[0] = v[j] > m[0] ? v[j] : m[0];
    for (q = 1; q < 8; q++)
        m[0] = m[q] > m[0] ? m[q] : m[0];
    return m[0];
}

/* Sum of v[0..k) in eight partial sums, added pairwise at the end: a fixed
 * order, so the result is the same on every machine. */
static inline float nn__row_sum(const float *v, size_t k)
{
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t j, q;
    for (j = 0; j + 8 <= k; j += 8)
        for (q = 0; q < 8; q++)
            s[q] += v[j + q];
    for (; j < k; j++)
        s[j & 7] += v[j];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

#endif /* NN_MATH_H */
