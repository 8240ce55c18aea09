/* SPDX-License-Identifier: MIT */
/*
 * test_seeds.c - libnn reproduces five tutorial notebooks ("seeds" 000-004),
 * learns XOR, and builds reproducible, correctly bounded initial weights.
 *
 * The notebooks themselves contain bugs (wrong sigmoid derivatives, a loss
 * used as a gradient, gradient ascent); these tests check what a correct
 * implementation of each notebook's network gives, with every number copied
 * into this file. Reference values of seed 004 come from an independent
 * float64 numpy implementation of backpropagation (checked against finite
 * differences).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn.h"
#include "nn_test.h"

/* ---------------------------------------------------------------------
 * Helpers
 * --------------------------------------------------------------------- */

/* Runs `steps` full-batch steps; returns the loss of the last one and
 * stores the loss of the first in *first (before any update). */
static double train_steps(nn_model *m, size_t n, const float *x, size_t xw,
                          const float *t, size_t tw, int steps, double *first)
{
    double loss = NAN;
    int k;
    for (k = 0; k < steps; k++) {
        NN_OK_OR_FAIL(nn_model_train_batch(m, n, x, xw, t, tw, &loss));
        assert_true(isfinite(loss));
        if (k == 0 && first)
            *first = loss;
    }
    return loss;
}

/* Asserts that an output is on the right side of 0.5 for a 0/1 label. */
static void assert_classified(size_t row, float y, float label)
{
    int ok = label > 0.5f ? y > 0.5f : y < 0.5f;
    if (!ok)
        print_error("row %zu: prediction %.6f, label %.0f\n", row, (double)y,
                    (double)label);
    assert_true(ok);
}

/* 64-bit LCG (Knuth's MMIX constants); 24 high bits give u in [0, 1). */
static uint64_t lcg_state;

static float lcg_uniform01(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(lcg_state >> 40) / 16777216.0);
}

/* ---------------------------------------------------------------------
 * 002: one sigmoid neuron
 * --------------------------------------------------------------------- */

static void seed_002_single_sigmoid_neuron_predicts_0_8591684(void **state)
{
    static const size_t widths[] = {1};
    static const nn_activation acts[] = {NN_ACT_SIGMOID};
    const float x[2] = {1.54f, 1.32f};
    const float w[2] = {1.56f, -0.45f};
    const float b[1] = {0.0f};
    float y[1] = {0.0f};
    nn_model *m = build_model(2, 1, widths, acts, 1, NN_LOSS_MSE, 0.01);
    (void)state;

    NN_OK_OR_FAIL(nn_model_set_weights(m, 0, w, 2));
    NN_OK_OR_FAIL(nn_model_set_bias(m, 0, b, 1));
    NN_OK_OR_FAIL(nn_model_predict(m, 1, x, 2, y, 1));
    /* sigmoid(1.54 * 1.56 - 1.32 * 0.45) = sigmoid(1.8084) */
    if (fabs((double)y[0] - 0.8591684) > 1e-6)
        print_error("prediction %.9f, want 0.8591684\n", (double)y[0]);
    assert_true(fabs((double)y[0] - 0.8591684) <= 1e-6);
    nn_model_free(m);
}

/* ---------------------------------------------------------------------
 * 004: 2-2-1 sigmoid net, one sample, 100 full-batch steps
 * --------------------------------------------------------------------- */

static void seed_004_losses_match_correct_backprop(void **state)
{
    static const size_t widths[] = {2, 1};
    static const nn_activation acts[] = {NN_ACT_SIGMOID, NN_ACT_SIGMOID};
    const float x[2] = {0.5f, 0.6f};
    const float t[1] = {0.8f};
    const float w1[4] = {0.37454012f, 0.95071431f, 0.73199394f, 0.59865848f};
    const float w2[2] = {0.15601864f, 0.15599452f};
    const float b1[2] = {0.0f, 0.0f}, b2[1] = {0.0f};
    /* Loss of step k (before its update), float64 numpy reference. */
    static const struct {
        int step;
        double loss;
    } want[] = {
        {1, 0.0612958954},
        {10, 0.0497025333},
        {50, 0.0210649081},
        {100, 0.0084645895},
    };
    double loss[101];
    size_t i;
    int k;
    nn_model *m = build_model(2, 7, widths, acts, 2, NN_LOSS_MSE, 0.05);
    (void)state;

    NN_OK_OR_FAIL(nn_model_set_weights(m, 0, w1, 4));
    NN_OK_OR_FAIL(nn_model_set_bias(m, 0, b1, 2));
    NN_OK_OR_FAIL(nn_model_set_weights(m, 1, w2, 2));
    NN_OK_OR_FAIL(nn_model_set_bias(m, 1, b2, 1));

    for (k = 1; k <= 100; k++) {
        NN_OK_OR_FAIL(nn_model_train_batch(m, 1, x, 2, t, 1, &loss[k]));
        if (k > 1)
            assert_true(loss[k] < loss[k - 1]); /* descends every step */
    }
    for (i = 0; i < ARRAY_LEN(want); i++) {
        char what[32];
        snprintf(what, sizeof what, "loss of step %d", want[i].step);
        assert_rel_close(what, loss[want[i].step], want[i].loss, 1e-4);
    }
    nn_model_free(m);
}

/* ---------------------------------------------------------------------
 * 000: four rows, three features of very different scales
 * --------------------------------------------------------------------- */

static const float seed000_data[4][3] = {
    {4.0f, 500.0f, 6.0f},
    {4.0f, 550.0f, 5.5f},
    {2.0f, 200.0f, 3.5f},
    {2.0f, 250.0f, 4.0f},
};
static const float seed000_labels[4] = {1.0f, 1.0f, 0.0f, 0.0f};

/* Standardizes each column: (v - mean) / std, population std. */
static void seed000_standardize(float out[4][3])
{
    size_t i, j;
    for (j = 0; j < 3; j++) {
        double mean = 0.0, var = 0.0, sd;
        for (i = 0; i < 4; i++)
            mean += seed000_data[i][j];
        mean /= 4.0;
        for (i = 0; i < 4; i++) {
            double d = seed000_data[i][j] - mean;
            var += d * d;
        }
        sd = sqrt(var / 4.0);
        assert_true(sd > 0.0);
        for (i = 0; i < 4; i++)
            out[i][j] = (float)((seed000_data[i][j] - mean) / sd);
    }
}

static void seed000_train_and_check(const size_t *widths,
                                    const nn_activation *acts, size_t nl,
                                    uint64_t seed, int steps)
{
    float x[4][3], y[4];
    double first = NAN, last;
    size_t i;
    nn_model *m = build_model(3, seed, widths, acts, nl, NN_LOSS_BCE, 0.5);

    seed000_standardize(x);
    last = train_steps(m, 4, &x[0][0], 3, seed000_labels, 1, steps, &first);
    NN_OK_OR_FAIL(nn_model_predict(m, 4, &x[0][0], 3, y, 1));
    for (i = 0; i < 4; i++)
        assert_classified(i, y[i], seed000_labels[i]);
    if (!(last < 0.05 && last < 0.1 * first))
        print_error("BCE: first %.6g, last %.6g\n", first, last);
    assert_true(last < 0.05);
    assert_true(last < 0.1 * first);
    nn_model_free(m);
}

static void seed_000_standardized_single_neuron_classifies_all_rows(
    void **state)
{
    static const size_t widths[] = {1};
    static const nn_activation acts[] = {NN_ACT_SIGMOID};
    (void)state;
    seed000_train_and_check(widths, acts, 1, 1, 500);
}

static void seed_000_standardized_hidden_layer_net_classifies_all_rows(
    void **state)
{
    static const size_t widths[] = {4, 1};
    static const nn_activation acts[] = {NN_ACT_SIGMOID, NN_ACT_SIGMOID};
    (void)state;
    seed000_train_and_check(widths, acts, 2, 1, 2000);
}

/* ---------------------------------------------------------------------
 * 001: 4-3-1 sigmoid net with biases on three rows
 * --------------------------------------------------------------------- */

static void seed_001_sigmoid_net_with_biases_reaches_small_mse(void **state)
{
    static const size_t widths[] = {3, 1};
    static const nn_activation acts[] = {NN_ACT_SIGMOID, NN_ACT_SIGMOID};
    const float x[3][4] = {{1, 0, 1, 0}, {1, 0, 1, 1}, {0, 1, 0, 1}};
    const float t[3] = {1, 1, 0};
    float y[3], b1[3], b2[1];
    double first = NAN, last, mse = 0.0;
    size_t i;
    int biases_moved = 0;
    nn_model *m = build_model(4, 99, widths, acts, 2, NN_LOSS_MSE, 1.0);
    (void)state;

    last = train_steps(m, 3, &x[0][0], 4, t, 1, 3000, &first);
    NN_OK_OR_FAIL(nn_model_predict(m, 3, &x[0][0], 4, y, 1));
    for (i = 0; i < 3; i++) {
        double d = (double)y[i] - (double)t[i];
        mse += d * d;
    }
    mse /= 3.0;
    if (!(mse < 0.01))
        print_error("MSE %.6g (first training loss %.6g, last %.6g)\n", mse,
                    first, last);
    assert_true(mse < 0.01);
    assert_true(last < first);
    /* The biases take part in training: they started at 0. */
    NN_OK_OR_FAIL(nn_model_get_bias(m, 0, b1, 3));
    NN_OK_OR_FAIL(nn_model_get_bias(m, 1, b2, 1));
    for (i = 0; i < 3; i++)
        biases_moved += b1[i] != 0.0f;
    biases_moved += b2[0] != 0.0f;
    assert_int_equal(biases_moved, 4);
    nn_model_free(m);
}

/* ---------------------------------------------------------------------
 * 003: 1-2-1 identity net learning y = 2x, one sample per step
 * --------------------------------------------------------------------- */

#define SEED003_N 100

/* 100 samples uniform in [1, 100] from a fixed LCG. */
static void seed003_samples(float xs[SEED003_N])
{
    size_t i;
    lcg_state = 0x2545F4914F6CDD1Dull;
    for (i = 0; i < SEED003_N; i++)
        xs[i] = (float)(1.0 + 99.0 * (double)lcg_uniform01());
}

static nn_model *seed003_model(double lr)
{
    static const size_t widths[] = {2, 1};
    static const nn_activation acts[] = {NN_ACT_IDENTITY, NN_ACT_IDENTITY};
    const float w1[2] = {1.0f, 2.0f}; /* input -> hidden, 1 x 2 */
    const float w2[2] = {3.0f, 2.0f}; /* hidden -> output, 2 x 1 */
    const float b1[2] = {0.0f, 0.0f}, b2[1] = {0.0f};
    nn_model *m = build_model(1, 3, widths, acts, 2, NN_LOSS_MSE, lr);
    NN_OK_OR_FAIL(nn_model_set_weights(m, 0, w1, 2));
    NN_OK_OR_FAIL(nn_model_set_bias(m, 0, b1, 2));
    NN_OK_OR_FAIL(nn_model_set_weights(m, 1, w2, 2));
    NN_OK_OR_FAIL(nn_model_set_bias(m, 1, b2, 1));
    return m;
}

static void seed_003_identity_net_learns_doubling_at_small_rate(void **state)
{
    static const float probe[] = {10.0f, 50.0f, 100.0f, 250.0f, 500.0f,
                                  750.0f, 1000.0f};
    float xs[SEED003_N], y[ARRAY_LEN(probe)];
    size_t i;
    int bad = 0;
    nn_model *m = seed003_model(1e-5);
    (void)state;

    seed003_samples(xs);
    for (i = 0; i < SEED003_N; i++) {
        const float t = 2.0f * xs[i];
        double loss;
        assert_true(xs[i] >= 1.0f && xs[i] <= 100.0f);
        NN_OK_OR_FAIL(nn_model_train_batch(m, 1, &xs[i], 1, &t, 1, &loss));
    }
    NN_OK_OR_FAIL(nn_model_predict(m, ARRAY_LEN(probe), probe, 1, y, 1));
    for (i = 0; i < ARRAY_LEN(probe); i++) {
        double want = 2.0 * (double)probe[i];
        double rel = fabs((double)y[i] - want) / want;
        if (!(rel <= 0.01)) {
            print_error("x = %g: prediction %.6g, want %g, relative error "
                        "%.3g\n", (double)probe[i], (double)y[i], want, rel);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    nn_model_free(m);
}

static void seed_003_identity_net_rejects_diverging_step_at_large_rate(
    void **state)
{
    float xs[SEED003_N];
    float w1[2], w2[2], b1[2], b2[1];
    float w1a[2], w2a[2], b1a[2], b2a[1];
    float probe[1] = {10.0f}, y[1];
    size_t i, failed_at = 0;
    nn_model *m = seed003_model(1e-3);
    (void)state;

    seed003_samples(xs);
    for (i = 0; i < SEED003_N; i++) {
        const float t = 2.0f * xs[i];
        double loss = NAN;
        nn_status st;
        NN_OK_OR_FAIL(nn_model_get_weights(m, 0, w1, 2));
        NN_OK_OR_FAIL(nn_model_get_bias(m, 0, b1, 2));
        NN_OK_OR_FAIL(nn_model_get_weights(m, 1, w2, 2));
        NN_OK_OR_FAIL(nn_model_get_bias(m, 1, b2, 1));
        st = nn_model_train_batch(m, 1, &xs[i], 1, &t, 1, &loss);
        if (st == NN_OK)
            continue;
        assert_int_equal(st, NN_E_NONFINITE);
        /* The loss of the rejected step is still reported. */
        assert_false(isnan(loss));
        failed_at = i + 1;
        break;
    }
    if (failed_at == 0 || failed_at > 20)
        print_error("lr 1e-3: first rejected step %zu (0 = none)\n",
                    failed_at);
    /* Earlier steps were accepted (and made the weights grow). */
    assert_true(failed_at >= 2 && failed_at <= 20);
    assert_true(strlen(nn_last_error()) > 0);
    assert_non_null(strstr(nn_last_error(), "nn_model_train_batch"));

    /* The rejected step changed no weight and no bias, bit for bit. */
    NN_OK_OR_FAIL(nn_model_get_weights(m, 0, w1a, 2));
    NN_OK_OR_FAIL(nn_model_get_bias(m, 0, b1a, 2));
    NN_OK_OR_FAIL(nn_model_get_weights(m, 1, w2a, 2));
    NN_OK_OR_FAIL(nn_model_get_bias(m, 1, b2a, 1));
    assert_memory_equal(w1, w1a, sizeof w1);
    assert_memory_equal(b1, b1a, sizeof b1);
    assert_memory_equal(w2, w2a, sizeof w2);
    assert_memory_equal(b2, b2a, sizeof b2);

    /* The model is still usable. */
    NN_OK_OR_FAIL(nn_model_predict(m, 1, probe, 1, y, 1));
    nn_model_free(m);
}

/* ---------------------------------------------------------------------
 * XOR
 * --------------------------------------------------------------------- */

static void xor_is_learned_by_a_tanh_sigmoid_net_from_a_fixed_seed(
    void **state)
{
    static const size_t widths[] = {4, 1};
    static const nn_activation acts[] = {NN_ACT_TANH, NN_ACT_SIGMOID};
    const float x[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
    const float t[4] = {0, 1, 1, 0};
    float y[4];
    double first = NAN, last;
    size_t i;
    nn_model *m = build_model(2, 42, widths, acts, 2, NN_LOSS_BCE, 0.5);
    (void)state;

    last = train_steps(m, 4, &x[0][0], 2, t, 1, 3000, &first);
    NN_OK_OR_FAIL(nn_model_predict(m, 4, &x[0][0], 2, y, 1));
    for (i = 0; i < 4; i++) {
        int ok = t[i] > 0.5f ? y[i] > 0.9f : y[i] < 0.1f;
        if (!ok)
            print_error("XOR row %zu: prediction %.6f, target %.0f (loss "
                        "%.6g -> %.6g)\n", i, (double)y[i], (double)t[i],
                        first, last);
        assert_true(ok);
    }
    nn_model_free(m);
}

/* ---------------------------------------------------------------------
 * Seeds and initialisation
 * --------------------------------------------------------------------- */

static nn_model *build_init_model(uint64_t seed)
{
    static const size_t widths[] = {8, 5, 3};
    static const nn_activation acts[] = {NN_ACT_TANH, NN_ACT_RELU,
                                         NN_ACT_SIGMOID};
    return build_model(6, seed, widths, acts, 3, NN_LOSS_MSE, 0.1);
}

static void same_seed_and_calls_build_bit_identical_models(void **state)
{
    size_t ca = 0, cb = 0, cc = 0;
    nn_model *a = build_init_model(12345);
    nn_model *b = build_init_model(12345);
    nn_model *c = build_init_model(12346);
    float *pa = nn_model_params(a, &ca);
    float *pb = nn_model_params(b, &cb);
    float *pc = nn_model_params(c, &cc);
    size_t differ = 0, i;
    (void)state;

    assert_non_null(pa);
    assert_non_null(pb);
    assert_non_null(pc);
    assert_int_equal(ca, 6 * 8 + 8 + 8 * 5 + 5 + 5 * 3 + 3);
    assert_int_equal(cb, ca);
    assert_int_equal(cc, ca);
    assert_memory_equal(pa, pb, ca * sizeof(float));

    /* A different seed gives different weights (almost all of them). */
    for (i = 0; i < ca; i++)
        differ += memcmp(&pa[i], &pc[i], sizeof(float)) != 0;
    assert_true(differ >= (6 * 8 + 8 * 5 + 5 * 3) * 9 / 10);

    /* Identical models stay identical through identical training. */
    {
        const float x[2][6] = {{1, 2, 3, 4, 5, 6}, {-1, 0, 1, 0, -1, 0.5f}};
        const float t[2][3] = {{0.1f, 0.5f, 0.9f}, {0.9f, 0.5f, 0.1f}};
        train_steps(a, 2, &x[0][0], 6, &t[0][0], 3, 10, NULL);
        train_steps(b, 2, &x[0][0], 6, &t[0][0], 3, 10, NULL);
        pa = nn_model_params(a, &ca);
        pb = nn_model_params(b, &cb);
        assert_memory_equal(pa, pb, ca * sizeof(float));
    }
    nn_model_free(a);
    nn_model_free(b);
    nn_model_free(c);
}

/* Checks one layer's weights against U(-limit, limit) and its zero bias;
 * returns the largest |w| / limit. */
static double check_layer_init(const nn_model *m, size_t layer, size_t in,
                               size_t out, double limit)
{
    float w[64 * 64], b[64];
    double maxr = 0.0, sum = 0.0;
    size_t i, count = in * out;
    assert_true(count <= ARRAY_LEN(w) && out <= ARRAY_LEN(b));
    NN_OK_OR_FAIL(nn_model_get_weights(m, layer, w, count));
    NN_OK_OR_FAIL(nn_model_get_bias(m, layer, b, out));
    for (i = 0; i < count; i++) {
        double r = fabs((double)w[i]) / limit;
        /* The library rounds the limit to float: allow that rounding. */
        if (!(r <= 1.0 + 1e-7))
            print_error("layer %zu weight %zu = %.9g, limit %.9g\n", layer, i,
                        (double)w[i], limit);
        assert_true(r <= 1.0 + 1e-7);
        if (r > maxr)
            maxr = r;
        sum += w[i];
    }
    for (i = 0; i < out; i++)
        assert_true(b[i] == 0.0f);
    /* Centred: the mean of U(-a, a) over count draws has sd a/sqrt(3 count). */
    assert_true(fabs(sum / (double)count) <= 5.0 * limit / sqrt(3.0 * count));
    return maxr;
}

static void initial_weights_lie_within_glorot_and_he_bounds(void **state)
{
    /* Widths chosen so the bounds differ: a draw above the Glorot bound of
     * a relu layer shows it uses He, one above 0.9 of the bound shows the
     * bound is not a smaller one. */
    static const size_t widths[] = {40, 40, 24, 10};
    static const nn_activation acts[] = {NN_ACT_SIGMOID, NN_ACT_RELU,
                                         NN_ACT_LEAKY_RELU, NN_ACT_TANH};
    const size_t in[] = {30, 40, 40, 24};
    nn_model *m = build_model(30, 2024, widths, acts, 4, NN_LOSS_MSE, 0.1);
    size_t l;
    (void)state;

    for (l = 0; l < 4; l++) {
        int he = acts[l] == NN_ACT_RELU || acts[l] == NN_ACT_LEAKY_RELU;
        double glorot = sqrt(6.0 / (double)(in[l] + widths[l]));
        double limit = he ? sqrt(6.0 / (double)in[l]) : glorot;
        double maxr = check_layer_init(m, l, in[l], widths[l], limit);
        assert_true(maxr > 0.9);
        if (he)
            assert_true(maxr * limit > glorot);
    }
    nn_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seed_002_single_sigmoid_neuron_predicts_0_8591684),
        cmocka_unit_test(seed_004_losses_match_correct_backprop),
        cmocka_unit_test(
            seed_000_standardized_single_neuron_classifies_all_rows),
        cmocka_unit_test(
            seed_000_standardized_hidden_layer_net_classifies_all_rows),
        cmocka_unit_test(seed_001_sigmoid_net_with_biases_reaches_small_mse),
        cmocka_unit_test(seed_003_identity_net_learns_doubling_at_small_rate),
        cmocka_unit_test(
            seed_003_identity_net_rejects_diverging_step_at_large_rate),
        cmocka_unit_test(
            xor_is_learned_by_a_tanh_sigmoid_net_from_a_fixed_seed),
        cmocka_unit_test(same_seed_and_calls_build_bit_identical_models),
        cmocka_unit_test(initial_weights_lie_within_glorot_and_he_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
