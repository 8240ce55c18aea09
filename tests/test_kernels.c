/* SPDX-License-Identifier: MIT */
/*
 * test_kernels.c - the activation kernels against double-precision libm on
 * a dense grid of inputs, extremes included: sigmoid, tanh and softmax
 * within a few float ulps, relu and leaky relu exact, NaN kept NaN, and
 * the same input giving the same output whatever the block length (the
 * kernels have a vector body and a scalar tail); and the scan for a
 * block's largest magnitude against the test's own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"
#include "nn_math.h"

#define GRID 200001

/* |got - want| in units of the float spacing at want (one ulp of a float
 * near want), with a floor at the smallest normal. */
static double ulps(float got, double want)
{
    double w = fabs(want) < FLT_MIN ? FLT_MIN : fabs(want);
    int e;
    frexp(w, &e);
    return fabs((double)got - want) / ldexp(1.0, e - 24);
}

static float *grid(float lo, float hi)
{
    float *z = malloc(GRID * sizeof *z);
    size_t i;
    assert_non_null(z);
    for (i = 0; i < GRID; i++)
        z[i] = lo + (hi - lo) * (float)i / (float)(GRID - 1);
    return z;
}

static double worst_ulps(int act, const float *z, size_t n)
{
    float *a = malloc(n * sizeof *a);
    double worst = 0.0;
    size_t i;
    assert_non_null(a);
    nn__activation_forward(act, 0.0f, z, a, n, 1);
    for (i = 0; i < n; i++) {
        double want = act == NN_ACT_SIGMOID ? 1.0 / (1.0 + exp(-(double)z[i]))
                                            : tanh((double)z[i]);
        double u = ulps(a[i], want);
        if (u > worst)
            worst = u;
    }
    free(a);
    return worst;
}

static void sigmoid_is_within_four_ulps_of_libm_double(void **state)
{
    float *z = grid(-100.0f, 100.0f), *small = grid(-1e-3f, 1e-3f);
    double w1, w2;
    (void)state;
    w1 = worst_ulps(NN_ACT_SIGMOID, z, GRID);
    w2 = worst_ulps(NN_ACT_SIGMOID, small, GRID);
    print_message("sigmoid: worst %.2f ulp on [-100, 100], %.2f near 0\n",
                  w1, w2);
    assert_true(w1 <= 4.0);
    assert_true(w2 <= 4.0);
    free(z);
    free(small);
}

/* nn__sigmoid_chain, the small path's sigmoid: computed in double and
 * rounded once, so within half an ulp and a hair of the double reference
 * (whose own error is near 2^-53), on grids over the whole range (results
 * down to the subnormals, and 0 beyond), near 0, and on every float of
 * [-2, 2] in steps of 2^-17; the extremes and NaN as the kernels give
 * them. */
static double chain_worst(const float *z, size_t n)
{
    double worst = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        double u = ulps(nn__sigmoid_chain(z[i]),
                        1.0 / (1.0 + exp(-(double)z[i])));
        if (u > worst)
            worst = u;
    }
    return worst;
}

static void chain_sigmoid_is_within_half_an_ulp(void **state)
{
    float *z = grid(-110.0f, 110.0f), *tail = grid(-104.5f, -86.0f);
    float *small = grid(-1e-3f, 1e-3f), *steps = grid(-2.0f, 2.0f);
    double w[4], kernel;
    size_t i;
    (void)state;
    for (i = 0; i < GRID; i++) /* -2 + i 2^-17 with i < 2^19: exact */
        steps[i] = -2.0f + (float)i * 0x1p-17f;
    w[0] = chain_worst(z, GRID);
    w[1] = chain_worst(tail, GRID);
    w[2] = chain_worst(small, GRID);
    w[3] = chain_worst(steps, GRID);
    kernel = worst_ulps(NN_ACT_SIGMOID, steps, GRID);
    print_message("chain sigmoid: worst %.3f ulp on [-110, 110], %.3f on "
                  "[-104.5, -86], %.3f near 0, %.3f on [-2, 2] (the "
                  "kernels' %.3f)\n", w[0], w[1], w[2], w[3], kernel);
    for (i = 0; i < 4; i++)
        assert_true(w[i] <= 0.52);
    assert_true(nn__sigmoid_chain(0.0f) == 0.5f);
    assert_true(nn__sigmoid_chain(-0.0f) == 0.5f);
    assert_true(nn__sigmoid_chain(INFINITY) == 1.0f);
    assert_true(nn__sigmoid_chain(-INFINITY) == 0.0f);
    assert_true(nn__sigmoid_chain(FLT_MAX) == 1.0f);
    assert_true(nn__sigmoid_chain(-FLT_MAX) == 0.0f);
    assert_true(isnan(nn__sigmoid_chain(NAN)));
    assert_true(isnan(nn__sigmoid_chain(-NAN)));
    /* sigmoid(-103) = 1.8e-45 rounds to the smallest subnormal, not 0 */
    assert_true(nn__sigmoid_chain(-103.0f) == 0x1p-149f);
    free(z);
    free(tail);
    free(small);
    free(steps);
}

static void tanh_is_within_four_ulps_of_libm_double(void **state)
{
    float *z = grid(-20.0f, 20.0f), *small = grid(-0.3f, 0.3f);
    float *tiny = grid(-1e-5f, 1e-5f);
    double w1, w2, w3;
    (void)state;
    w1 = worst_ulps(NN_ACT_TANH, z, GRID);
    w2 = worst_ulps(NN_ACT_TANH, small, GRID);
    w3 = worst_ulps(NN_ACT_TANH, tiny, GRID);
    print_message("tanh: worst %.2f ulp on [-20, 20], %.2f on [-0.3, 0.3], "
                  "%.2f near 0\n", w1, w2, w3);
    assert_true(w1 <= 4.0);
    assert_true(w2 <= 4.0);
    assert_true(w3 <= 4.0);
    free(z);
    free(small);
    free(tiny);
}

static void softmax_rows_match_double_and_sum_to_one(void **state)
{
    enum { ROWS = 1000, K = 10 };
    float *z = malloc(ROWS * K * sizeof *z), *a = malloc(ROWS * K * sizeof *a);
    double worst = 0.0, worst_sum = 0.0;
    size_t i, j;
    uint64_t s = 3;
    (void)state;
    assert_non_null(z);
    assert_non_null(a);
    for (i = 0; i < ROWS * K; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        /* logits up to +-80, so rows hold both dominant and tiny terms */
        z[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 160.0 - 80.0);
    }
    nn__activation_forward(NN_ACT_SOFTMAX, 0.0f, z, a, ROWS, K);
    for (i = 0; i < ROWS; i++) {
        double mx = z[i * K], sum = 0.0, got = 0.0;
        for (j = 1; j < K; j++)
            mx = z[i * K + j] > mx ? z[i * K + j] : mx;
        for (j = 0; j < K; j++)
            sum += exp((double)z[i * K + j] - mx);
        for (j = 0; j < K; j++) {
            double want = exp((double)z[i * K + j] - mx) / sum;
            /* absolute: entries far below the largest are within 1e-7 of
             * their value or of 0 */
            double e = fabs(a[i * K + j] - want) / (want > 1e-3 ? want : 1e-3);
            worst = e > worst ? e : worst;
            got += a[i * K + j];
        }
        worst_sum = fabs(got - 1.0) > worst_sum ? fabs(got - 1.0) : worst_sum;
    }
    print_message("softmax: worst relative error %.3g, row sums off by "
                  "%.3g\n", worst, worst_sum);
    assert_true(worst <= 1e-6);
    assert_true(worst_sum <= 1e-6);
    free(z);
    free(a);
}

static void relu_and_leaky_relu_are_exact(void **state)
{
    float *z = grid(-5.0f, 5.0f), *a = malloc(GRID * sizeof *a);
    size_t i;
    (void)state;
    assert_non_null(a);
    nn__activation_forward(NN_ACT_RELU, 0.0f, z, a, GRID, 1);
    for (i = 0; i < GRID; i++)
        assert_true(a[i] == (z[i] > 0.0f ? z[i] : 0.0f));
    nn__activation_forward(NN_ACT_LEAKY_RELU, 0.125f, z, a, GRID, 1);
    for (i = 0; i < GRID; i++)
        assert_true(a[i] == (z[i] > 0.0f ? z[i] : 0.125f * z[i]));
    free(z);
    free(a);
}

static void nan_stays_nan_and_extremes_stay_in_range(void **state)
{
    const float in[] = {NAN, -NAN, INFINITY, -INFINITY, FLT_MAX, -FLT_MAX,
                        0.0f, -0.0f, 1e-30f, -1e-30f};
    const int acts[] = {NN_ACT_SIGMOID, NN_ACT_TANH};
    float out[sizeof in / sizeof in[0]];
    size_t i, k, n = sizeof in / sizeof in[0];
    (void)state;
    for (k = 0; k < 2; k++) {
        nn__activation_forward(acts[k], 0.0f, in, out, n, 1);
        assert_true(isnan(out[0]) && isnan(out[1]));
        for (i = 2; i < n; i++) {
            double want = acts[k] == NN_ACT_SIGMOID
                              ? 1.0 / (1.0 + exp(-(double)in[i]))
                              : tanh((double)in[i]);
            assert_true(ulps(out[i], want) <= 4.0);
        }
    }
}

/* The kernels' vector body and scalar tail must agree: every element
 * computed alone or in a block of 2 to 4 equals the same element computed
 * in a long block, forward and backward, special values included. */
static void pieces_equal_the_block(int act, const float *z, size_t len)
{
    float *a = malloc(len * sizeof *a), *g = malloc(len * sizeof *g);
    float *gb = malloc(len * sizeof *gb), piece[4];
    size_t i, w;
    assert_non_null(a);
    assert_non_null(g);
    assert_non_null(gb);
    nn__activation_forward(act, 0.01f, z, a, len, 1);
    for (i = 0; i < len; i++) /* upstream gradients of both signs */
        g[i] = gb[i] = (float)((int)(i % 7) - 3) * 0.375f + 0.0625f;
    nn__activation_backward(act, 0.01f, z, a, gb, len, 1);
    for (i = 0; i < len; i += len > 100 ? 997 : 1)
        for (w = 1; w <= 4 && i + w <= len; w++) {
            nn__activation_forward(act, 0.01f, z + i, piece, 1, w);
            assert_memory_equal(piece, a + i, w * sizeof *piece);
            memcpy(piece, g + i, w * sizeof *piece);
            nn__activation_backward(act, 0.01f, z + i, a + i, piece, w, 1);
            assert_memory_equal(piece, gb + i, w * sizeof *piece);
        }
    free(a);
    free(g);
    free(gb);
}

static void a_value_does_not_depend_on_the_block_it_is_in(void **state)
{
    const int acts[] = {NN_ACT_SIGMOID, NN_ACT_TANH, NN_ACT_LEAKY_RELU};
    const float special[] = {NAN,      -NAN,     INFINITY, -INFINITY,
                             FLT_MAX,  -FLT_MAX, 0.0f,     -0.0f,
                             1e-30f,   -1e-30f,  88.7f,    -88.7f,
                             -103.9f,  1e-8f,    0.5f,     -17.25f};
    float *z = grid(-9.0f, 9.0f);
    size_t k;
    (void)state;
    for (k = 0; k < 3; k++) {
        pieces_equal_the_block(acts[k], z, GRID);
        pieces_equal_the_block(acts[k], special,
                               sizeof special / sizeof special[0]);
    }
    free(z);
}

/* The largest |v[i]| as a float, or INFINITY if some v[i] is infinite or
 * NaN: what a kernel's nn__abs_bits maximum must decode to. */
static float largest_magnitude(const float *v, size_t len)
{
    size_t i;
    float top = 0.0f;
    for (i = 0; i < len; i++) {
        if (!isfinite(v[i]))
            return INFINITY;
        top = fabsf(v[i]) > top ? fabsf(v[i]) : top;
    }
    return top;
}

/* Decodes a maximum of nn__abs_bits: INFINITY for any non-finite value. */
static float bits_magnitude(uint32_t bits)
{
    float f;
    if (bits > 0x7f7fffffu)
        return INFINITY;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* The bias added in the activation pass: f(z + b) with b broadcast along
 * the rows is, bit for bit, the plain kernel on a block to which the test
 * added b; in place, or out of place with z left holding z + b (the
 * pre-activations the loss reads). The largest magnitude the pass reports
 * is that of the block it wrote, NaN and infinity included. */
static void bias_then_activation_is_the_kernel_on_z_plus_b(void **state)
{
    enum { ROWS_B = 7, K_B = 37 }; /* a vector body and a tail per row */
    const int acts[] = {NN_ACT_IDENTITY, NN_ACT_SIGMOID, NN_ACT_TANH,
                        NN_ACT_RELU, NN_ACT_LEAKY_RELU, NN_ACT_SOFTMAX};
    float z[ROWS_B * K_B], b[K_B], zb[ROWS_B * K_B], want[ROWS_B * K_B];
    float got[ROWS_B * K_B], out[ROWS_B * K_B];
    size_t i, j, k;
    int bad;
    (void)state;
    for (bad = 0; bad < 3; bad++) {
        for (i = 0; i < ROWS_B * K_B; i++)
            z[i] = (float)((int)(i * 37 % 101) - 50) * 0.11f;
        /* one value far beyond the rest, in a row's tail; then an
         * infinity and a NaN */
        z[4 * K_B + 35] = bad == 0 ? 3e30f : bad == 1 ? INFINITY : NAN;
        for (j = 0; j < K_B; j++)
            b[j] = (float)((int)(j * 13 % 17) - 8) * 0.37f;
        for (i = 0; i < ROWS_B; i++)
            for (j = 0; j < K_B; j++)
                zb[i * K_B + j] = z[i * K_B + j] + b[j];
        for (k = 0; k < sizeof acts / sizeof acts[0]; k++) {
            uint32_t top = 0, top2 = 0;
            nn__activation_forward(acts[k], 0.02f, zb, want, ROWS_B, K_B);
            memcpy(got, z, sizeof z);
            nn__activation_forward_bias(acts[k], 0.02f, got, b, got, ROWS_B,
                                        K_B, &top);
            assert_memory_equal(got, want, sizeof want);
            assert_true(bits_magnitude(top) ==
                        largest_magnitude(want, ROWS_B * K_B));
            memcpy(got, z, sizeof z);
            nn__activation_forward_bias(acts[k], 0.02f, got, b, out, ROWS_B,
                                        K_B, &top2);
            assert_memory_equal(out, want, sizeof want);
            assert_memory_equal(got, zb, sizeof zb);
            assert_int_equal(top2, top);
        }
    }
}

/* The backward pass with the bias gradient folded in: g is, bit for bit,
 * what nn__activation_backward leaves; db is each column of it summed row
 * by row from 0 (the test's own loop, the order the sum is defined in);
 * and the largest magnitude is that of the new g, NaN included. The
 * identity (a not read) and nn__column_sums, narrow and wide, leave g as
 * it is and give the same sums. */
static void backward_with_sums_is_the_kernel_then_column_sums(void **state)
{
    enum { ROWS_G = 9, K_WIDE = 37, K_NARROW = 10 };
    const int acts[] = {NN_ACT_IDENTITY, NN_ACT_SIGMOID, NN_ACT_TANH,
                        NN_ACT_RELU, NN_ACT_LEAKY_RELU, NN_ACT_SOFTMAX};
    const size_t widths[] = {K_WIDE, K_NARROW};
    float a[ROWS_G * K_WIDE], g0[ROWS_G * K_WIDE], want[ROWS_G * K_WIDE];
    float got[ROWS_G * K_WIDE], db[K_WIDE], db_want[K_WIDE];
    size_t i, j, k, w;
    int bad;
    (void)state;
    for (w = 0; w < 2; w++) {
        size_t kk = widths[w], len = ROWS_G * kk;
        for (bad = 0; bad < 2; bad++) {
            for (i = 0; i < len; i++) {
                /* activations in (0, 1) (sigmoid- and softmax-like; relu
                 * sees some at 0), gradients of both signs */
                a[i] = (float)(i * 29 % 53) / 53.0f;
                g0[i] = (float)((int)(i * 41 % 97) - 48) * 0.013f;
            }
            if (bad)
                g0[5 * kk + kk - 1] = NAN;
            for (k = 0; k < sizeof acts / sizeof acts[0]; k++) {
                uint32_t top;
                memcpy(want, g0, len * sizeof *g0);
                nn__activation_backward(acts[k], 0.02f, NULL, a, want, ROWS_G,
                                        kk);
                for (j = 0; j < kk; j++) {
                    float acc = 0.0f;
                    for (i = 0; i < ROWS_G; i++)
                        acc += want[i * kk + j];
                    db_want[j] = acc;
                }
                memcpy(got, g0, len * sizeof *g0);
                top = nn__activation_backward_sums(
                    acts[k], 0.02f, NULL,
                    acts[k] == NN_ACT_IDENTITY ? NULL : a, got, db, ROWS_G,
                    kk);
                assert_memory_equal(got, want, len * sizeof *got);
                assert_memory_equal(db, db_want, kk * sizeof *db);
                assert_true(bits_magnitude(top) ==
                            largest_magnitude(want, len));
                if (acts[k] != NN_ACT_IDENTITY)
                    continue;
                memset(db, 0xff, sizeof db); /* NaN: must be overwritten */
                top = nn__column_sums(got, db, ROWS_G, kk);
                assert_memory_equal(got, want, len * sizeof *got);
                assert_memory_equal(db, db_want, kk * sizeof *db);
                assert_true(bits_magnitude(top) ==
                            largest_magnitude(want, len));
            }
        }
    }
}

/* The largest nn__abs_bits of a block, by nn__max_abs_bits (a vector
 * body of 32 floats, a tail) against a scan in the test: every length
 * from 0 to 100, the largest magnitude planted at each place in turn, as
 * a negative number (its sign bit must not count), then an infinity and
 * a NaN (above every finite value's bits), with a block of zeros and
 * negative zeros around it. */
static void largest_bits_of_a_block_match_a_scan(void **state)
{
    enum { LEN = 100 };
    float x[LEN] = {0};
    size_t len, at, i;
    int kind;
    (void)state;
    assert_int_equal(nn__max_abs_bits(x, 0), 0);
    for (len = 1; len <= LEN; len++)
        for (at = 0; at < len; at++)
            for (kind = 0; kind < 3; kind++) {
                uint32_t want = 0, u;
                for (i = 0; i < len; i++)
                    x[i] = i % 3 == 0   ? -0.0f
                           : i % 3 == 1 ? 0.0f
                                        : (float)((int)(i * 37 % 41) - 20);
                x[at] = kind == 0   ? -1000.0f - (float)at
                        : kind == 1 ? -INFINITY
                                    : NAN;
                for (i = 0; i < len; i++) {
                    float m = fabsf(x[i]);
                    memcpy(&u, &m, sizeof u);
                    want = u > want ? u : want;
                }
                assert_int_equal(nn__max_abs_bits(x, len), want);
                assert_true(kind == 0 ? want < 0x7f800000u
                                      : want >= 0x7f800000u);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sigmoid_is_within_four_ulps_of_libm_double),
        cmocka_unit_test(chain_sigmoid_is_within_half_an_ulp),
        cmocka_unit_test(tanh_is_within_four_ulps_of_libm_double),
        cmocka_unit_test(softmax_rows_match_double_and_sum_to_one),
        cmocka_unit_test(relu_and_leaky_relu_are_exact),
        cmocka_unit_test(nan_stays_nan_and_extremes_stay_in_range),
        cmocka_unit_test(a_value_does_not_depend_on_the_block_it_is_in),
        cmocka_unit_test(bias_then_activation_is_the_kernel_on_z_plus_b),
        cmocka_unit_test(backward_with_sums_is_the_kernel_then_column_sums),
        cmocka_unit_test(largest_bits_of_a_block_match_a_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
