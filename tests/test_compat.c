/* SPDX-License-Identifier: MIT */
/*
 * test_compat.c - model files written by libnn 0.1 (format version 1)
 * still load, bit for bit: tests/data/v1 holds such files and what libnn
 * 0.1 computed from them (make_expected.c, run against that libnn): the
 * predictions for fixed rows, and for each checkpoint the parameters after
 * three more training steps. This libnn must give the same bits.
 *
 * libnn 0.1 predicted through nn__gemm (CBLAS, or its direct loops for
 * products this small) and a bias pass; where libnn's AVX-512 kernel runs
 * (gemm_avx512.c), predictions add the bias in the product's last pass
 * and sum in another order, which changes bits within float rounding. So
 * the bit-for-bit comparison runs on the path 0.1 took (the kernel
 * switched off), and the kernel's predictions are compared with the same
 * numbers to float rounding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h" /* nn__kernel_force, small_kernel_sigmoid */
#include "nn_test.h"
#include "data/v1/rows.h"

#ifndef NN_V1_DIR
#error "NN_V1_DIR: the directory of the version-1 files"
#endif

enum { ROWS = 6 };


/* Reads "NAME WHAT N HEX..." lines until one for name and what; fills
 * want (at most cap floats) and returns N, or 0 if there is none. */
static size_t expected(const char *name, const char *what, float *want,
                       size_t cap)
{
    char path[4096], line[65536];
    FILE *f;
    size_t n = 0;
    snprintf(path, sizeof path, "%s/expected.txt", NN_V1_DIR);
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        char nm[128], wh[32];
        int used = 0;
        const char *p;
        size_t i;
        if (sscanf(line, "%127s %31s %zu%n", nm, wh, &n, &used) != 3)
            continue;
        if (strcmp(nm, name) || strcmp(wh, what))
            continue;
        assert_true(n <= cap);
        p = line + used;
        for (i = 0; i < n; i++) {
            unsigned u;
            int k = 0;
            assert_int_equal(sscanf(p, "%x%n", &u, &k), 1);
            memcpy(&want[i], &u, sizeof u);
            p += k;
        }
        fclose(f);
        return n;
    }
    fclose(f);
    return 0;
}

static void version_1_files_load_to_the_same_bits(void **state)
{
    static const char *const names[] = {
        "seed-no-loss", "seed-xor-bce", "seed-xor-bce-sgd-checkpoint",
        "seed-mse-identity", "seed-mse-rmsprop-checkpoint",
        "seed-softmax-ce", "seed-softmax-ce-adam-checkpoint",
        "seed-deep-adamw-checkpoint", "seed-unstepped-checkpoint"};
    size_t f, resumed = 0;
    (void)state;
    for (f = 0; f < ARRAY_LEN(names); f++) {
        char path[4096];
        nn_model *m = NULL;
        float x[ROWS * 8], t[ROWS * 8], y[ROWS * 8], want[256];
        size_t in, out, i, j, n, count = 0;
        snprintf(path, sizeof path, "%s/%s.nnm", NN_V1_DIR, names[f]);
        NN_OK_OR_FAIL(nn_model_load(&m, path));
        in = nn_model_input_width(m);
        out = nn_model_output_width(m);
        for (i = 0; i < ROWS; i++)
            for (j = 0; j < in; j++)
                x[i * in + j] = row_value(i, j);
        n = expected(names[f], "predict", want, ARRAY_LEN(want));
        assert_int_equal(n, ROWS * out);
        /* through the kernel where it runs: to float rounding */
        NN_OK_OR_FAIL(nn_model_predict(m, ROWS, x, in, y, out));
        for (i = 0; i < n; i++)
            if (!(fabsf(y[i] - want[i]) <= 1e-5f * (1.0f + fabsf(want[i]))))
                fail_msg("%s: prediction %zu is %.9g, libnn 0.1's %.9g",
                         names[f], i, (double)y[i], (double)want[i]);
        /* on 0.1's path, bit for bit */
        (void)nn__kernel_force(0);
        NN_OK_OR_FAIL(nn_model_predict(m, ROWS, x, in, y, out));
        (void)nn__kernel_force(-1);
        if (memcmp(y, want, n * sizeof(float)) != 0)
            fail_msg("%s: the predictions differ from libnn 0.1's",
                     names[f]);
        n = expected(names[f], "resume", want, ARRAY_LEN(want));
        if (n > 0) { /* a checkpoint: three more steps */
            const float *p;
            int ce = strstr(names[f], "softmax") || strstr(names[f], "deep");
            int k;
            for (i = 0; i < ROWS; i++)
                for (j = 0; j < out; j++)
                    t[i * out + j] = target_value(i, j, out, ce);
            /* with the small path's own sigmoid (if the net has one):
             * to float rounding */
            {
                nn_model *own = NULL;
                NN_OK_OR_FAIL(nn_model_load(&own, path));
                for (k = 0; k < 3; k++)
                    NN_OK_OR_FAIL(nn_model_train_batch(own, ROWS, x, in, t,
                                                       out, NULL));
                p = nn_model_params(own, &count);
                assert_int_equal(count, n);
                for (i = 0; i < n; i++)
                    if (!(fabsf(p[i] - want[i]) <=
                          1e-5f * (1.0f + fabsf(want[i]))))
                        fail_msg("%s: parameter %zu is %.9g three steps "
                                 "from the checkpoint, libnn 0.1's %.9g",
                                 names[f], i, (double)p[i],
                                 (double)want[i]);
                nn_model_free(own);
            }
            /* with the vector kernels' sigmoid, as 0.1: bit for bit */
            m->small_kernel_sigmoid = 1;
            for (k = 0; k < 3; k++)
                NN_OK_OR_FAIL(
                    nn_model_train_batch(m, ROWS, x, in, t, out, NULL));
            m->small_kernel_sigmoid = 0;
            p = nn_model_params(m, &count);
            assert_int_equal(count, n);
            if (memcmp(p, want, n * sizeof(float)) != 0)
                fail_msg("%s: three steps from the checkpoint differ from "
                         "libnn 0.1's", names[f]);
            resumed++;
        }
        /* and saved again, as version 2, it loads to the same model */
        {
            size_t size = 0;
            unsigned char *buf;
            nn_model *back = NULL;
            float y2[ROWS * 8];
            NN_OK_OR_FAIL(nn_model_save_size(m, NN_SAVE_CHECKPOINT, &size));
            buf = (unsigned char *)malloc(size);
            assert_non_null(buf);
            NN_OK_OR_FAIL(nn_model_save_buffer(m, NN_SAVE_CHECKPOINT, buf,
                                               size, NULL));
            assert_int_equal(buf[8], 2);
            NN_OK_OR_FAIL(nn_model_load_buffer(&back, buf, size));
            NN_OK_OR_FAIL(nn_model_predict(m, ROWS, x, in, y, out));
            NN_OK_OR_FAIL(nn_model_predict(back, ROWS, x, in, y2, out));
            assert_memory_equal(y, y2, ROWS * out * sizeof(float));
            free(buf);
            nn_model_free(back);
        }
        nn_model_free(m);
    }
    assert_int_equal(resumed, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_1_files_load_to_the_same_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
