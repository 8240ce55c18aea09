/* SPDX-License-Identifier: MIT */
/*
 * kernel_ab.c - two versions of libnn's kernel (gemm_avx512.c) in
 * one process, compared on whole training steps or predictions of a dense
 * net through the public API. Built by bench/kernel_ab.sh, which compiles
 * each version with its functions renamed (A_gemm, B_gemm, ...) and links
 * this file's nn__kernel_* in their place.
 *
 * The two versions alternate block by block in one process (ab_steps.h
 * says why, and what the arguments are):
 *
 *   kernel_ab NET BATCH STEPS BLOCKS [predict]
 */
#include "ab_steps.h"
#include "nn_internal.h"

#include <stdio.h>
#include <string.h>

/* ---- the two versions, and which one runs ---- */

#define NN__AB_DECLARE(P)                                                    \
    int P##_on(void);                                                        \
    int P##_force(int on);                                                   \
    size_t P##_pf(size_t K, size_t N);                                       \
    void P##_pack(int trans_b, size_t K, size_t N, const float *B,           \
                  size_t ldb, float *dst);                                   \
    void P##_gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K,    \
                  float alpha, const float *A, size_t lda, const float *B,   \
                  size_t ldb, int b_form, float *buf, float beta, float *C,  \
                  size_t ldc, const float *bias, int act, float slope);
NN__AB_DECLARE(A)
NN__AB_DECLARE(B)
/* Versions with more than an AVX-512 build say which one runs; older ones
 * do not (the weak reference is then NULL). */
int A_isa(void) __attribute__((weak));
int B_isa(void) __attribute__((weak));
/* Versions from 61e9da9 on note a relu's largest output in the product
 * (nn__kernel_gemm_top); for older ones this file reads C back. */
#define NN__AB_DECLARE_TOP(P)                                                \
    void P##_gemm_top(int trans_a, int trans_b, size_t M, size_t N,          \
                      size_t K, float alpha, const float *A, size_t lda,     \
                      const float *B, size_t ldb, int b_form, float *buf,    \
                      float beta, float *C, size_t ldc, const float *bias,   \
                      int act, float slope, uint32_t *top)                   \
        __attribute__((weak));
NN__AB_DECLARE_TOP(A)
NN__AB_DECLARE_TOP(B)

static int use_b; /* 0: version A runs, 1: version B */

int nn__kernel_isa(void)
{
    int (*isa)(void) = use_b ? B_isa : A_isa;
    if (isa)
        return isa();
    return (use_b ? B_on : A_on)() ? NN__KERNEL_AVX512 : NN__KERNEL_NONE;
}

int nn__kernel_on(void)
{
    return A_on() && B_on();
}

int nn__kernel_force(int on)
{
    int b = B_force(on);
    return A_force(on) && b;
}

/* Weights packed for inference by one version are dropped (nn__pack_drop)
 * before the other runs: the versions may lay them out differently. */
size_t nn__kernel_packed_floats(size_t K, size_t N)
{
    return A_pf(K, N);
}

void nn__kernel_pack(int trans_b, size_t K, size_t N, const float *B,
                     size_t ldb, float *dst)
{
    (use_b ? B_pack : A_pack)(trans_b, K, N, B, ldb, dst);
}

void nn__kernel_gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                     float alpha, const float *A, size_t lda, const float *B,
                     size_t ldb, int b_form, float *buf, float beta, float *C,
                     size_t ldc, const float *bias, int act, float slope)
{
    (use_b ? B_gemm : A_gemm)(trans_a, trans_b, M, N, K, alpha, A, lda, B,
                              ldb, b_form, buf, beta, C, ldc, bias, act,
                              slope);
}

void nn__kernel_gemm_top(int trans_a, int trans_b, size_t M, size_t N,
                         size_t K, float alpha, const float *A, size_t lda,
                         const float *B, size_t ldb, int b_form, float *buf,
                         float beta, float *C, size_t ldc, const float *bias,
                         int act, float slope, uint32_t *top)
{
    size_t i, j;
    if ((use_b ? B_gemm_top : A_gemm_top) != NULL) {
        (use_b ? B_gemm_top : A_gemm_top)(trans_a, trans_b, M, N, K, alpha,
                                          A, lda, B, ldb, b_form, buf, beta,
                                          C, ldc, bias, act, slope, top);
        return;
    }
    nn__kernel_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, b_form,
                    buf, beta, C, ldc, bias, act, slope);
    if (top && act == NN_ACT_RELU)
        for (i = 0; i < M; i++)
            for (j = 0; j < N; j++) {
                uint32_t u; /* a relu's output: at least +0 */
                memcpy(&u, C + i * ldc + j, sizeof u);
                *top = u > *top ? u : *top;
            }
}

/* ---- the driver ---- */

static int switch_to(nn_model *m, int b)
{
    use_b = b;
    nn__pack_drop(m); /* the next prediction packs them again */
    return 0;
}

int main(int argc, char **argv)
{
    static const ab_steps_sides sides = {"kernel_ab", {"A", "B"}, switch_to};
    if (!nn__kernel_on()) {
        fprintf(stderr, "kernel_ab: a version has no build for this CPU: "
                        "nothing to compare\n");
        return 1;
    }
    if (nn_set_blas_threads(1) != NN_OK) {
        fprintf(stderr, "kernel_ab: %s\n", nn_last_error());
        return 1;
    }
    return ab_steps_main(argc, argv, &sides);
}
