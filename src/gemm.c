/*
 * gemm.c - the matrix product behind every forward and backward pass:
 * nn__gemm hands it to CBLAS; nn__gemm_ref is the naive triple loop kept
 * beside it as the reference that tests and benchmarks compare against.
 */
#include "nn_internal.h"

#include <cblas.h>

void nn__gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K,
              float alpha, const float *A, size_t lda, const float *B,
              size_t ldb, float beta, float *C, size_t ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C,
                (int)ldc);
}

void nn__gemm_ref(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                  float alpha, const float *A, size_t lda, const float *B,
                  size_t ldb, float beta, float *C, size_t ldc)
{
    size_t i, j, p;
    for (i = 0; i < M; i++) {
        for (j = 0; j < N; j++) {
            /* Accumulates in double: as a reference it should be more
             * accurate than the code it checks. */
            double acc = 0.0;
            for (p = 0; p < K; p++) {
                float a = trans_a ? A[p * lda + i] : A[i * lda + p];
                float b = trans_b ? B[j * ldb + p] : B[p * ldb + j];
                acc += (double)a * b;
            }
            /* BLAS semantics: beta == 0 ignores C, even NaN in it. */
            C[i * ldc + j] = (float)(alpha * acc +
                                     (beta == 0.0f ? 0.0
                                                   : (double)beta *
                                                         C[i * ldc + j]));
        }
    }
}

nn_status nn_set_blas_threads(size_t threads)
{
    if (threads > 1024)
        return nn__fail(NN_E_INVALID,
                        "nn_set_blas_threads: threads is %zu, more than 1024",
                        threads);
#if defined(NN_HAVE_OPENBLAS)
    openblas_set_num_threads(threads ? (int)threads
                                     : openblas_get_num_procs());
    return NN_OK;
#else
    return nn__fail(NN_E_STATE, "nn_set_blas_threads: libnn was built with "
                    "a BLAS whose thread count it cannot set");
#endif
}
