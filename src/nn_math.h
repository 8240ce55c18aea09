/* SPDX-License-Identifier: MIT */
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

/* The sigmoid of one value on a dependency chain, where latency counts:
 * small.c's loops apply it as a small net's layer forms each output (a
 * step at batch 1 waits for every layer's activations in turn). In double,
 * from a table: t = -z = (k + r) ln2 / 32 with k an integer and |r| <=
 * 1/2, e^t = 2^(k/32) e^(r ln2/32); the first factor is 2^(k >> 5) times
 * a table entry, formed beside the polynomial, the second a cubic (its
 * error below 6e-10 relative, about a hundredth of a float's ulp). 1 / (1
 * + e^t) in double, rounded once to float: within 0.52 ulp of the true
 * value (tests/test_kernels.c), though not always the bits of the vector
 * kernels' float sigmoid (activation.c, within 4 ulp), which the general
 * path applies; that path's table lookups would be gathers. t is clamped
 * to [-104, 104], beyond which the float result no longer changes; NaN
 * passes through the arithmetic. */
static inline float nn__sigmoid_chain(float z)
{
    /* 2^(j/32), j = 0..31, each the nearest double */
    static const double exp2_32nds[32] = {
        0x1.0000000000000p+0, 0x1.059b0d3158574p+0, 0x1.0b5586cf9890fp+0,
        0x1.11301d0125b51p+0, 0x1.172b83c7d517bp+0, 0x1.1d4873168b9aap+0,
        0x1.2387a6e756238p+0, 0x1.29e9df51fdee1p+0, 0x1.306fe0a31b715p+0,
        0x1.371a7373aa9cbp+0, 0x1.3dea64c123422p+0, 0x1.44e086061892dp+0,
        0x1.4bfdad5362a27p+0, 0x1.5342b569d4f82p+0, 0x1.5ab07dd485429p+0,
        0x1.6247eb03a5585p+0, 0x1.6a09e667f3bcdp+0, 0x1.71f75e8ec5f74p+0,
        0x1.7a11473eb0187p+0, 0x1.82589994cce13p+0, 0x1.8ace5422aa0dbp+0,
        0x1.93737b0cdc5e5p+0, 0x1.9c49182a3f090p+0, 0x1.a5503b23e255dp+0,
        0x1.ae89f995ad3adp+0, 0x1.b7f76f2fb5e47p+0, 0x1.c199bdd85529cp+0,
        0x1.cb720dcef9069p+0, 0x1.d5818dcfba487p+0, 0x1.dfc97337b9b5fp+0,
        0x1.ea4afa2a490dap+0, 0x1.f50765b6e4540p+0};
    const double c1 = 0x1.62e42fefa39efp-6; /* ln2 / 32 */
    const double c2 = c1 * c1 / 2.0, c3 = c2 * c1 / 3.0;
    const double round = 0x1.8p52; /* adding it rounds to an integer */
    double t = -(double)z, u, kd, r, p, two_m, e;
    uint64_t bits;
    int32_t k, j;
    t = t > 104.0 ? 104.0 : t;
    t = t < -104.0 ? -104.0 : t;
    u = t * 0x1.71547652b82fep+5; /* t 32 / ln2, |u| < 4802 */
    kd = u + round;
    memcpy(&bits, &kd, sizeof bits); /* k in the low bits, two's complement */
    kd -= round;
    r = u - kd;
    k = (int32_t)(uint32_t)bits;
    j = k & 31;
    /* 2^(k >> 5): the biased exponent floor(k / 32) + 1023, from a
     * positive k + 32 * 1023 by a shift (no division on the chain) */
    bits = (uint64_t)((uint32_t)(k + 1023 * 32) >> 5) << 52;
    memcpy(&two_m, &bits, sizeof two_m);
    p = (1.0 + c1 * r) + (r * r) * (c2 + c3 * r);
    e = p * (exp2_32nds[j] * two_m);
    return (float)(1.0 / (1.0 + e));
}

/* The sigmoid's backward step g f'(z), from a = f(z): g a (1 - a). The
 * vector kernels (activation.c) and small.c's loops take it from here,
 * so both give the same bits. */
static inline float nn__sigmoid_back(float g, float a)
{
    return g * (a * (1.0f - a));
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

/* Rows of k floats that softmax and cross-entropy take at a time: their
 * e^(z - max) over a whole group of rows in one loop, whose vectors then
 * run over row ends (rows of 10 classes left 2 of each 10 to the loop's
 * scalar tail, and a row's work to its overheads), while a group of
 * rows stays within L1. At most NN__EXP_ROWS rows. */
#define NN__EXP_ROWS 256
static inline size_t nn__exp_group(size_t k)
{
    size_t r = k ? 2048 / k : 1;
    return r < 1 ? 1 : r > NN__EXP_ROWS ? NN__EXP_ROWS : r;
}

/* e^x - 1 for x <= 0: Taylor's series where e^x - 1 would cancel
 * (|x| < 0.35, where the first omitted term, x^9/9!, is below 2^-30 of
 * the result), e^x - 1 elsewhere (there e^x <= 0.71, so the subtraction
 * loses at most two bits). Both are computed and one chosen, without a
 * branch. ELU needs it: alpha (e^z - 1) for z just below 0. */
static inline float nn__expm1_nonpos(float x)
{
    float x2 = x * x, x4 = x2 * x2;
    float q01 = 1.0f + x * 0.5f;
    float q23 = 1.0f / 6.0f + x * (1.0f / 24.0f);
    float q45 = 1.0f / 120.0f + x * (1.0f / 720.0f);
    float q67 = 1.0f / 5040.0f + x * (1.0f / 40320.0f);
    float small = x * ((q01 + x2 * q23) + x4 * (q45 + x2 * q67));
    float big = nn__exp_nonpos(x) - 1.0f;
    return x > -0.35f ? small : big;
}

/* log(1 + u) for u in [0, 1]. w = 1 + u rounds; log(w) u / (w - 1)
 * corrects for that rounding (Kahan's way), and u itself where w rounds
 * to 1. log(w) on [1, 2] is k ln 2 + 2 atanh(s), s = (m - 1) / (m + 1)
 * with m = w or w / 2 in [0.70, 1.42], so |s| <= 0.172 and the series
 * 2 s (1 + s^2/3 + ... + s^10/11) is within 2^-30 of atanh's. Softplus
 * needs it: log(1 + e^-|z|). */
static inline float nn__log1p_unit(float u)
{
    float w = 1.0f + u, big = w > 1.41421356f ? 1.0f : 0.0f;
    float m = big != 0.0f ? w * 0.5f : w;
    float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    float ser = 1.0f / 9.0f + s2 * (1.0f / 11.0f);
    float lg;
    ser = 1.0f / 7.0f + s2 * ser;
    ser = 1.0f / 5.0f + s2 * ser;
    ser = 1.0f / 3.0f + s2 * ser;
    ser = 1.0f + s2 * ser;
    lg = big * 0.693147181f + 2.0f * s * ser;
    return w == 1.0f ? u : lg * (u / (w - 1.0f));
}

/* e^(-z^2/2) as two factors whose arguments are exact or small, so that
 * the result keeps float's relative accuracy where z^2 is large: |z| is
 * split into a head h of 12 significant bits (h^2 is exact in float) and
 * the rest, z^2 = h^2 + r with r = (|z| - h)(|z| + h) small beside h^2.
 * *e_head = e^(-h^2/2); *r_half = r / 2, for e^(-r/2) or for folding
 * into another exponent. */
static inline void nn__gauss_split(float az, float *e_head, float *r_half)
{
    uint32_t u;
    float h;
    memcpy(&u, &az, sizeof u);
    u &= 0xfffff000u;
    memcpy(&h, &u, sizeof h);
    *e_head = nn__exp_nonpos(-0.5f * (h * h));
    *r_half = 0.5f * ((az - h) * (az + h));
}

/* Phi(-|z|) = erfc(|z| / sqrt 2) / 2, the normal distribution's tail, to
 * a few ulp relative for every z (below 1e-7 relative in exact
 * arithmetic: the Chebyshev fit of erfc(x) = t e^(-x^2 + P(t)),
 * t = 1 / (1 + x/2), from Numerical Recipes, section 6.2). The tail,
 * not 1 - Phi, so that z Phi(z) stays accurate far below 0. *gauss
 * receives e^(-z^2/2) for the derivative. GELU needs both. */
static inline float nn__normal_tail(float z, float *gauss)
{
    float az = fabsf(z), e_head, r_half;
    float t = 1.0f / (1.0f + 0.353553391f * az); /* x / 2 = |z| / 2^1.5 */
    float p = 0.17087277f;
    p = -0.82215223f + t * p;
    p = 1.48851587f + t * p;
    p = -1.13520398f + t * p;
    p = 0.27886807f + t * p;
    p = -0.18628806f + t * p;
    p = 0.09678418f + t * p;
    p = 0.37409196f + t * p;
    p = 1.00002368f + t * p;
    p = -1.26551223f + t * p;
    nn__gauss_split(az, &e_head, &r_half);
    *gauss = e_head * nn__exp_nonpos(-r_half);
    /* P(t) <= 3e-8: within the range nn__exp_nonpos computes exactly */
    return 0.5f * t * e_head * nn__exp_nonpos(p - r_half);
}

#endif /* NN_MATH_H */
