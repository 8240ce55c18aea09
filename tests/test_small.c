/* SPDX-License-Identifier: MIT */
/*
 * test_small.c - the small-net path (src/small.c) against the general one.
 *
 * test_gradients.c checks both paths against finite differences; here:
 * which batches take the small path, that moving between the paths as the
 * batch size changes leaves every result as a fresh model computes it, and
 * that training through either path follows the same trajectory (to float
 * rounding: the two sum in different orders).
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
#include "nn_internal.h" /* small_rows, nn__small_rows */
#include "nn_test.h"

static nn_model *build(size_t in, const size_t *widths,
                       const nn_activation *acts, size_t nl, nn_loss loss)
{
    nn_model *m = NULL;
    size_t l;
    NN_OK_OR_FAIL(nn_model_create(&m, in, 7));
    for (l = 0; l < nl; l++)
        NN_OK_OR_FAIL(nn_model_add_dense(m, widths[l], acts[l]));
    NN_OK_OR_FAIL(nn_model_set_loss(m, loss));
    return m;
}

/* The rule: rows x multiply-adds per row <= NN__SMALL_WORK. */
static void the_small_path_takes_batches_up_to_the_work_limit(void **state)
{
    static const size_t w221[] = {2, 1}, w343[] = {4, 3}, wbig[] = {64, 10};
    static const nn_activation acts[] = {NN_ACT_SIGMOID, NN_ACT_SIGMOID};
    nn_model *a = build(2, w221, acts, 2, NN_LOSS_MSE);
    nn_model *b = build(3, w343, acts, 2, NN_LOSS_MSE);
    nn_model *c = build(784, wbig, acts, 2, NN_LOSS_MSE);
    (void)state;
    /* 2-2-1: 2*2 + 2*1 = 6 multiply-adds per row */
    assert_int_equal(nn__small_rows(a), NN__SMALL_WORK / 6);
    /* 3-4-3: 12 + 12 = 24 */
    assert_int_equal(nn__small_rows(b), NN__SMALL_WORK / 24);
    /* 784 inputs: more than the limit for a single row */
    assert_int_equal(nn__small_rows(c), 0);
    /* the seed-sized nets of the benchmarks take it at batch 1 and 32 */
    assert_true(nn__small_rows(a) >= 32);
    nn_model_free(a);
    nn_model_free(b);
    nn_model_free(c);
}

/* Gradients of the first n rows, through a fresh model or through m. */
static void grads(nn_model *m, size_t n, const float *x, const float *t,
                  float *out, double *loss)
{
    size_t l, off = 0;
    NN_OK_OR_FAIL(nn_model_compute_grads(m, n, x, 3, t, 2, loss));
    for (l = 0; l < nn_model_layer_count(m); l++) {
        size_t in = l ? nn_model_layer_width(m, l - 1) : 3;
        size_t out_w = nn_model_layer_width(m, l);
        NN_OK_OR_FAIL(nn_model_get_layer_grads(m, l, out + off, in * out_w,
                                               out + off + in * out_w,
                                               out_w));
        off += in * out_w + out_w;
    }
}

/* 3-4-2: 12 + 8 = 20 multiply-adds per row, so 16 rows are small and 64
 * are not. The workspace grows at 64 rows and the path flips back at 1 and
 * 16; every result must be what a model that never saw the other sizes
 * computes. */
static void changing_batch_size_between_paths_keeps_results_exact(
    void **state)
{
    static const size_t widths[] = {4, 2};
    static const nn_activation acts[] = {NN_ACT_TANH, NN_ACT_IDENTITY};
    static const size_t sizes[] = {1, 64, 16, 1, 64, 16};
    /* 3 x 4 + 4 + 4 x 2 + 2 = 26 parameters */
    float x[64 * 3], t[64 * 2], got[26], want[26];
    nn_model *m = build(3, widths, acts, 2, NN_LOSS_MSE);
    size_t k;
    (void)state;
    assert_true(16 <= nn__small_rows(m) && 64 > nn__small_rows(m));
    lcg_fill(x, 64 * 3, -1.0f, 1.0f, 1);
    lcg_fill(t, 64 * 2, -1.0f, 1.0f, 2);
    for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        nn_model *fresh = build(3, widths, acts, 2, NN_LOSS_MSE);
        double lg, lw;
        grads(m, sizes[k], x, t, got, &lg);
        grads(fresh, sizes[k], x, t, want, &lw);
        assert_memory_equal(got, want, sizeof got);
        assert_memory_equal(&lg, &lw, sizeof lg);
        nn_model_free(fresh);
    }
    nn_model_free(m);
}

/* A 3-4-2 sigmoid net under MSE, L1 and Huber, at batches of 1, 2 and 4
 * rows: at one row (nn__chain_block) both layers take nn__sigmoid_chain
 * and its derivative in small.c's loops, the output's dL/dA from the
 * loss; at 2 and 4 rows, the vector kernels.
 * The gradients and the loss agree with the general path's, whose sigmoid
 * is the vector kernels', to float rounding; a wrong derivative or a
 * derivative applied twice or not at all is off by far more. */
static void sigmoid_blocks_agree_with_the_general_path(void **state)
{
    static const size_t widths[] = {4, 2}, rows[] = {1, 2, 4};
    static const nn_activation acts[] = {NN_ACT_SIGMOID, NN_ACT_SIGMOID};
    static const nn_loss losses[] = {NN_LOSS_MSE, NN_LOSS_L1,
                                     NN_LOSS_HUBER};
    float x[4 * 3], t[4 * 2], got[26], want[26];
    size_t li, ri, i;
    (void)state;
    lcg_fill(x, 4 * 3, -2.0f, 2.0f, 3);
    lcg_fill(t, 4 * 2, -1.5f, 1.5f, 4); /* both sides of Huber's delta 1 */
    for (li = 0; li < ARRAY_LEN(losses); li++)
        for (ri = 0; ri < ARRAY_LEN(rows); ri++) {
            nn_model *a = build(3, widths, acts, 2, losses[li]);
            nn_model *b = build(3, widths, acts, 2, losses[li]);
            double la, lb;
            float big = 0.0f;
            NN_OK_OR_FAIL(nn__workspace_reserve("test", a, rows[ri]));
            NN_OK_OR_FAIL(nn__workspace_reserve("test", b, rows[ri]));
            assert_true(rows[ri] <= a->small_rows);
            b->small_rows = 0;
            grads(a, rows[ri], x, t, got, &la);
            grads(b, rows[ri], x, t, want, &lb);
            if (!(fabs(la - lb) <= 1e-6 * fabs(lb)))
                fail_msg("loss %d, %zu rows: loss %.9g on the small path, "
                         "%.9g on the general one", (int)losses[li],
                         rows[ri], la, lb);
            for (i = 0; i < 26; i++) {
                if (!(fabsf(got[i] - want[i]) <=
                      1e-5f * fabsf(want[i]) + 1e-8f))
                    fail_msg("loss %d, %zu rows: gradient %zu is %.9g on "
                             "the small path, %.9g on the general one",
                             (int)losses[li], rows[ri], i, (double)got[i],
                             (double)want[i]);
                big = fmaxf(big, fabsf(want[i]));
            }
            assert_true(big > 1e-3f); /* not a vacuous comparison */
            nn_model_free(a);
            nn_model_free(b);
        }
}

/* Two copies of a 2-3-1 sigmoid net learn XOR with Adam, batch 4: one
 * through the small-net path, one with it switched off. Their losses and
 * weights stay within float rounding of each other for 300 steps, and
 * both learn. */
static void training_through_either_path_follows_the_same_trajectory(
    void **state)
{
    static const size_t widths[] = {3, 1};
    static const nn_activation acts[] = {NN_ACT_SIGMOID, NN_ACT_SIGMOID};
    static const float x[] = {0, 0, 0, 1, 1, 0, 1, 1};
    static const float t[] = {0, 1, 1, 0};
    nn_model *a = build(2, widths, acts, 2, NN_LOSS_MSE);
    nn_model *b = build(2, widths, acts, 2, NN_LOSS_MSE);
    float wa[6], wb[6];
    double la = 0.0, lb = 0.0, first = 0.0, worst = 0.0;
    size_t i;
    int step;
    (void)state;
    NN_OK_OR_FAIL(nn_model_set_optimizer(a, NN_OPT_ADAM));
    NN_OK_OR_FAIL(nn_model_set_optimizer(b, NN_OPT_ADAM));
    NN_OK_OR_FAIL(nn_model_set_param(a, NN_PARAM_LEARNING_RATE, 0.05));
    NN_OK_OR_FAIL(nn_model_set_param(b, NN_PARAM_LEARNING_RATE, 0.05));
    NN_OK_OR_FAIL(nn__workspace_reserve("test", a, 4));
    NN_OK_OR_FAIL(nn__workspace_reserve("test", b, 4));
    assert_true(4 <= a->small_rows);
    b->small_rows = 0;
    for (step = 0; step < 300; step++) {
        NN_OK_OR_FAIL(nn_model_train_batch(a, 4, x, 2, t, 1, &la));
        NN_OK_OR_FAIL(nn_model_train_batch(b, 4, x, 2, t, 1, &lb));
        if (step == 0)
            first = la;
        worst = fmax(worst, fabs(la - lb) / la);
    }
    /* float rounding, compounded over 300 steps: 1.4e-6 on this machine */
    if (!(worst <= 1e-4))
        fail_msg("losses differ by %.3g relative", worst);
    assert_true(la < 0.5 * first); /* both learned */
    NN_OK_OR_FAIL(nn_model_get_weights(a, 0, wa, 6));
    NN_OK_OR_FAIL(nn_model_get_weights(b, 0, wb, 6));
    for (i = 0; i < 6; i++)
        if (!(fabsf(wa[i] - wb[i]) <= 1e-4f * (1.0f + fabsf(wb[i]))))
            fail_msg("W[%zu]: %.9g through the small path, %.9g through the "
                     "general one", i, (double)wa[i], (double)wb[i]);
    nn_model_free(a);
    nn_model_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_small_path_takes_batches_up_to_the_work_limit),
        cmocka_unit_test(
            changing_batch_size_between_paths_keeps_results_exact),
        cmocka_unit_test(sigmoid_blocks_agree_with_the_general_path),
        cmocka_unit_test(
            training_through_either_path_follows_the_same_trajectory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
