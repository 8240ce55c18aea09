/* SPDX-License-Identifier: MIT */
/*
 * test_gemm.c - the CBLAS path (nn__gemm) against the naive-loop reference
 * (nn__gemm_ref) on every transpose combination the library uses, on shapes
 * from 1x1x1 through odd sizes to a batch of 1, with beta 0, 1 and others;
 * and, with OpenBLAS, nn__gemm's own beta pass against OpenBLAS's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

#include <cblas.h>

static uint64_t lcg_state = 12345;

static float uniform(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((lcg_state >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

/* Largest |c - r| / mag over the matrix, where mag is the entry's
 * sum_p |alpha a_ip b_pj| + |beta c_ij|: the relative error of each dot
 * product measured against the size of its terms, which is what float
 * rounding is proportional to. (Measured against |r| alone, an entry whose
 * terms cancel to near zero would show a large error for any summation
 * order.) */
static double max_rel_error(const float *c, const float *r, const float *mag,
                            size_t len)
{
    size_t i;
    double worst = 0.0;
    for (i = 0; i < len; i++) {
        double den = mag[i] > 0.0f ? mag[i] : 1.0;
        double e = fabs((double)c[i] - (double)r[i]) / den;
        if (e > worst)
            worst = e;
    }
    return worst;
}

/* nn__gemm against the reference on a random product whose rows of A, B
 * and C are pad floats longer than the product reads (left as they were:
 * the rows of C past N must keep their values). */
static void check_padded(int ta, int tb, size_t M, size_t N, size_t K,
                         float alpha, float beta, size_t pad)
{
    size_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad,
           ldc = N + pad;
    size_t a_len = (ta ? K : M) * lda, b_len = (tb ? N : K) * ldb,
           c_len = M * ldc, i;
    float *A = malloc(a_len * sizeof *A), *B = malloc(b_len * sizeof *B);
    float *C = malloc(c_len * sizeof *C), *R = malloc(c_len * sizeof *R);
    float *AA = malloc(a_len * sizeof *A), *BB = malloc(b_len * sizeof *B);
    float *MAG = malloc(c_len * sizeof *C);
    double err;
    assert_non_null(AA);
    assert_non_null(BB);
    assert_non_null(MAG);
    assert_non_null(A);
    assert_non_null(B);
    assert_non_null(C);
    assert_non_null(R);
    for (i = 0; i < a_len; i++)
        A[i] = uniform();
    for (i = 0; i < b_len; i++)
        B[i] = uniform();
    for (i = 0; i < c_len; i++)
        C[i] = R[i] = uniform();
    for (i = 0; i < a_len; i++)
        AA[i] = fabsf(A[i]);
    for (i = 0; i < b_len; i++)
        BB[i] = fabsf(B[i]);
    for (i = 0; i < c_len; i++)
        MAG[i] = fabsf(C[i]);
    nn__gemm_ref(ta, tb, M, N, K, fabsf(alpha), AA, lda, BB, ldb,
                 fabsf(beta), MAG, ldc);
    nn__gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    nn__gemm_ref(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, R, ldc);
    /* the padding is the reference's too: R kept it, so it compares */
    err = max_rel_error(C, R, MAG, c_len);
    if (err > 1e-5)
        print_error("ta=%d tb=%d M=%zu N=%zu K=%zu pad=%zu: max rel error "
                    "%g\n",
                    ta, tb, M, N, K, pad, err);
    assert_true(err <= 1e-5);
    free(A);
    free(B);
    free(C);
    free(R);
    free(AA);
    free(BB);
    free(MAG);
}

static void check_shape(int ta, int tb, size_t M, size_t N, size_t K,
                        float alpha, float beta)
{
    check_padded(ta, tb, M, N, K, alpha, beta, 0);
}

static void blas_matches_reference_on_fixed_shapes(void **state)
{
    static const size_t shapes[][3] = {
        {1, 1, 1}, {1, 7, 3}, {7, 1, 3}, {3, 5, 1}, {1, 256, 784},
        {13, 17, 19}, {32, 10, 128}, {128, 33, 65}, {2, 2, 2}, {4, 1, 3}};
    size_t s;
    int ta, tb;
    (void)state;
    for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (ta = 0; ta < 2; ta++)
            for (tb = 0; tb < 2; tb++) {
                check_shape(ta, tb, shapes[s][0], shapes[s][1], shapes[s][2],
                            1.0f, 0.0f);
                check_shape(ta, tb, shapes[s][0], shapes[s][1], shapes[s][2],
                            0.5f, 1.0f);
                check_shape(ta, tb, shapes[s][0], shapes[s][1], shapes[s][2],
                            -0.25f, 0.9f);
            }
}

static void blas_matches_reference_on_random_shapes(void **state)
{
    static const float betas[4] = {0.0f, 1.0f, 0.9f, -1.5f};
    int trial;
    (void)state;
    for (trial = 0; trial < 200; trial++) {
        size_t M = 1 + (size_t)((uniform() + 1.0f) * 40.0f);
        size_t N = 1 + (size_t)((uniform() + 1.0f) * 40.0f);
        size_t K = 1 + (size_t)((uniform() + 1.0f) * 40.0f);
        check_shape(trial & 1, (trial >> 1) & 1, M, N, K, 1.0f,
                    betas[(trial >> 2) & 3]);
    }
}

/* The error measure must notice a wrong product, or the tests above prove
 * nothing. */
static void error_measure_detects_a_wrong_product(void **state)
{
    float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, 0, 1, 1, 1};
    float C[4], R[4], MAG[4] = {4, 5, 10, 11};
    (void)state;
    nn__gemm(0, 0, 2, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C, 2);
    nn__gemm_ref(0, 0, 2, 2, 3, 1.0f, A, 3, B, 2, 0.0f, R, 2);
    /* Worked by hand: [1 2 3; 4 5 6] . [1 0; 0 1; 1 1] = [4 5; 10 11]. */
    assert_float_equal(R[0], 4.0f, 0.0f);
    assert_float_equal(R[1], 5.0f, 0.0f);
    assert_float_equal(R[2], 10.0f, 0.0f);
    assert_float_equal(R[3], 11.0f, 0.0f);
    assert_true(max_rel_error(C, R, MAG, 4) <= 1e-6);
    C[3] *= 1.0001f;
    assert_true(max_rel_error(C, R, MAG, 4) > 1e-5);
}

#if defined(NN_HAVE_OPENBLAS)
/* With one OpenBLAS thread, nn__gemm scales C by beta itself (neither 0
 * nor 1: momentum's mu, or 1 - lr wd) and asks OpenBLAS for beta 1. Its
 * results must keep OpenBLAS's own bits, which scale C in a pass of their
 * own the same way, and it must leave alone the entries of C's rows past
 * N (ldc > N). It does so from 100^3 multiply-adds (below, OpenBLAS may
 * take a path of its own); the shapes are the main job's products of dW
 * (784 x 256 and 256 x 128 over a batch of 128) and odd ones just past
 * that size. */
static void own_beta_pass_keeps_openblas_bits(void **state)
{
    static const size_t shapes[][3] = {
        {784, 256, 128}, {256, 128, 128}, {101, 103, 97}, {131, 67, 117}};
    static const float betas[3] = {0.9f, -1.5f, 3.0f};
    int threads = openblas_get_num_threads();
    size_t s, i, pad = 3;
    (void)state;
    openblas_set_num_threads(1);
    for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        size_t ldc = N + pad, c_len = M * ldc;
        float *A = malloc(M * K * sizeof *A), *B = malloc(K * N * sizeof *B);
        float *C = malloc(c_len * sizeof *C), *R = malloc(c_len * sizeof *R);
        int ta, b;
        assert_non_null(A);
        assert_non_null(B);
        assert_non_null(C);
        assert_non_null(R);
        for (i = 0; i < M * K; i++)
            A[i] = uniform();
        for (i = 0; i < K * N; i++)
            B[i] = uniform();
        for (ta = 0; ta < 2; ta++)
            for (b = 0; b < 3; b++) {
                for (i = 0; i < c_len; i++)
                    C[i] = R[i] = uniform();
                nn__gemm(ta, 0, M, N, K, 0.75f, A, ta ? M : K, B, N,
                         betas[b], C, ldc);
                cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                            CblasNoTrans, (int)M, (int)N, (int)K, 0.75f, A,
                            ta ? (int)M : (int)K, B, (int)N, betas[b], R,
                            (int)ldc);
                /* every entry, the padding's included, bit for bit */
                assert_memory_equal(C, R, c_len * sizeof *C);
            }
        free(A);
        free(B);
        free(C);
        free(R);
    }
    openblas_set_num_threads(threads);
}
#endif

#if defined(NN_HAVE_OPENBLAS)
/* With two OpenBLAS threads, a product of a few rows and more than 2^18
 * multiply-adds goes to the BLAS in parts (gemm.c): by rows of C where
 * op(A) is Aᵀ (the weights' gradient, its batch in K), by columns where
 * op(B) is Bᵀ, else by k, each part after the first adding to C. Each
 * shape here splits into two parts, the last one shorter, and
 * the results match the reference with every stride padded; at one
 * thread, and past 16 rows or 2^23 multiply-adds, nothing is split. */
static void parts_of_a_few_rows_product_match_the_reference(void **state)
{
    static const float alphas[3] = {1.0f, 0.5f, -0.25f};
    static const float betas[3] = {0.0f, 1.0f, 0.9f};
    int threads = openblas_get_num_threads(), ta, tb, side, c;
    (void)state;
    openblas_set_num_threads(1);
    assert_int_equal(nn__blas_part(0, 0, 8, 200, 300, &side), 0);
    openblas_set_num_threads(2);
    if (openblas_get_num_threads() < 2) { /* a single-threaded OpenBLAS */
        openblas_set_num_threads(threads);
        print_message("this OpenBLAS runs one thread: no parts\n");
        skip();
    }
    for (ta = 0; ta < 2; ta++)
        for (tb = 0; tb < 2; tb++) {
            /* the batch: 8 rows, in M or (ta) in K */
            size_t M = ta ? 301 : 8, N = ta ? 200 : tb ? 301 : 200;
            size_t K = ta ? 8 : tb ? 200 : 301;
            size_t part = nn__blas_part(ta, tb, M, N, K, &side);
            size_t len = side == NN__PART_ROWS      ? M
                         : side == NN__PART_COLUMNS ? N
                                                    : K;
            assert_int_equal(side, ta ? NN__PART_ROWS
                                      : tb ? NN__PART_COLUMNS : NN__PART_K);
            assert_int_equal(part, 151); /* 151 + 150 lines */
            assert_true((double)part * (double)(M * N * K / len) <=
                        262144.0);
            for (c = 0; c < 3; c++) /* beta 0 unpadded, then padded */
                check_padded(ta, tb, M, N, K, alphas[c], betas[c],
                             c ? 5 : 0);
        }
    /* 17 rows, at most 2^18, past 2^23: whole */
    assert_int_equal(nn__blas_part(0, 0, 17, 200, 300, &side), 0);
    assert_int_equal(nn__blas_part(1, 0, 300, 200, 17, &side), 0);
    assert_int_equal(nn__blas_part(0, 0, 8, 128, 256, &side), 0);
    assert_int_equal(nn__blas_part(0, 1, 16, 1024, 513, &side), 0);
    assert_true(nn__blas_part(0, 1, 16, 1024, 512, &side) > 0);
    openblas_set_num_threads(threads);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error_measure_detects_a_wrong_product),
        cmocka_unit_test(blas_matches_reference_on_fixed_shapes),
        cmocka_unit_test(blas_matches_reference_on_random_shapes),
#if defined(NN_HAVE_OPENBLAS)
        cmocka_unit_test(own_beta_pass_keeps_openblas_bits),
        cmocka_unit_test(parts_of_a_few_rows_product_match_the_reference),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
