/* SPDX-License-Identifier: MIT */
/*
 * gemm.c - the matrix product behind every forward and backward pass:
 * nn__gemm hands it to CBLAS; nn__gemm_ref is the naive triple loop kept
 * beside it as the reference that tests and benchmarks compare against.
 */
#if defined(NN_HAVE_BLIS)
#define _POSIX_C_SOURCE 200112L /* sysconf */
#endif
#include "nn_internal.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#if defined(NN_HAVE_BLIS)
#include <blis.h>
#include <unistd.h>
#endif

/* The BLAS's thread count now (1 where libnn cannot ask). */
static int blas_threads(void)
{
#if defined(NN_HAVE_OPENBLAS)
    return openblas_get_num_threads();
#elif defined(NN_HAVE_BLIS)
    return (int)bli_thread_get_num_threads();
#else
    return 1;
#endif
}

/* A product's multiply-adds, in double (M N K may wrap in size_t). */
static double macs(size_t M, size_t N, size_t K)
{
    return (double)M * (double)N * (double)K;
}

/* When the direct loops of gemm_small beat cblas_sgemm. A BLAS call
 * costs 70-100 ns before any arithmetic, and OpenBLAS 0.3.21 runs products
 * of one or two rows (a batch of 1 or 2) at a third of the loops' speed;
 * with more rows its blocking wins as soon as the product is not tiny.
 * Measured on the development machine (AMD EPYC, single thread): 1x256x784
 * 12.7 us loops vs 39.5 us BLAS; 4x4x3 52 vs 75 ns; 32x2x2 315 vs 115 ns;
 * 4x128x256 10.0 vs 6.3 us. A sum of one or two terms into rows of C
 * wider than 16 with B's rows contiguous (K <= 2: the weights' gradient
 * of a batch of one or two, C += alpha Aᵀ B) is a pass over C, which the
 * loops make row by row. Each as a fraction of the kernel's time in
 * alternating blocks, the loops against OpenBLAS at one thread
 * (bench_gemm --only kernel --threads 1 --quick, its A^T.G rows at b1
 * and b2, at fab0807 (the loops) and 059cb80 (OpenBLAS); AMD EPYC Zen 5;
 * bench/results/zen5-fab0807/kernel*.txt): 784 x 1024 x 1 0.47 against
 * 1.12, 1024 x 1024 x 1 0.47 against 1.14, 784 x 1024 x 2 0.82 against
 * 1.32, 1024 x 1024 x 2 0.83 against 1.33; where C fits in L2 OpenBLAS
 * is a little ahead, 784 x 256 x 1 0.79 against 0.75, 784 x 256 x 2 0.97
 * against 0.84. Rows of at most 16 stay with the BLAS (1024 x 10 x 1:
 * the loops' scalar path 1.55 of the kernel's time, OpenBLAS 0.33).
 * With two BLAS threads OpenBLAS split these products between its
 * threads at a loss (see NN__BLAS_THREAD_MACS); the loops give one and
 * two threads the same bits. Where B is transposed the loops form each
 * entry as a dot product, which is slower than the BLAS for a wide C. */
static int use_small(int trans_b, size_t M, size_t N, size_t K)
{
    return M <= 2 || (!trans_b && K <= 2 && N > 16) ||
           (M <= 8 && M * N * K <= 1024);
}

/* Dot product of a (stride sa) and contiguous b, in eight partial sums so
 * the compiler can keep several multiply-adds in flight (and vectorise
 * when sa is 1). */
static float dot(const float *restrict a, size_t sa, const float *restrict b,
                 size_t K)
{
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t p = 0, q;
    if (sa == 1)
        for (; p + 8 <= K; p += 8)
            for (q = 0; q < 8; q++)
                s[q] += a[p + q] * b[p + q];
    for (; p < K; p++)
        s[p & 7] += a[p * sa] * b[p];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

NN__VECTOR_CLONES
static void gemm_small(int trans_a, int trans_b, size_t M, size_t N,
                       size_t K, float alpha, const float *restrict A,
                       size_t lda, const float *restrict B, size_t ldb,
                       float beta, float *restrict C, size_t ldc)
{
    /* op(A)[i][p] is A[i * sa_i + p * sa_p]: no branch in the loops */
    size_t sa_i = trans_a ? 1 : lda, sa_p = trans_a ? lda : 1;
    size_t sb_p = trans_b ? 1 : ldb, sb_j = trans_b ? ldb : 1;
    size_t i, j, p;
    if (N * K <= 16) {
        /* a handful of multiply-adds per row: plain scalar loops beat the
         * set-up of vector code */
        for (i = 0; i < M; i++)
            for (j = 0; j < N; j++) {
                float acc = 0.0f;
                for (p = 0; p < K; p++)
                    acc += A[i * sa_i + p * sa_p] * B[p * sb_p + j * sb_j];
                C[i * ldc + j] = alpha * acc +
                                 (beta == 0.0f ? 0.0f : beta * C[i * ldc + j]);
            }
        return;
    }
    for (i = 0; i < M; i++) {
        float *restrict c = C + i * ldc;
        const float *a = A + i * sa_i;
        if (trans_b) {
            /* C[i][j] is a dot product of a row of op(A) and a row of B */
            for (j = 0; j < N; j++) {
                float d = alpha * dot(a, sa_p, B + j * ldb, K);
                c[j] = beta == 0.0f ? d : beta * c[j] + d;
            }
            continue;
        }
        if (K == 2) { /* one pass over the row: a sum of two terms */
            const float *restrict b0 = B, *restrict b1 = B + ldb;
            const float a0 = alpha * a[0], a1 = alpha * a[sa_p];
            if (beta == 0.0f)
                for (j = 0; j < N; j++)
                    c[j] = a0 * b0[j] + a1 * b1[j];
            else
                for (j = 0; j < N; j++)
                    c[j] = beta * c[j] + (a0 * b0[j] + a1 * b1[j]);
            continue;
        }
        /* the row of C accumulates scaled rows of B: contiguous */
        if (beta == 0.0f)
            for (j = 0; j < N; j++)
                c[j] = 0.0f;
        else if (beta != 1.0f)
            for (j = 0; j < N; j++)
                c[j] *= beta;
        for (p = 0; p < K; p++) {
            const float *restrict b = B + p * ldb;
            float ap = alpha * a[p * sa_p];
            for (j = 0; j < N; j++)
                c[j] += ap * b[j];
        }
    }
}

#if defined(NN_HAVE_OPENBLAS)
/* C = beta C, row by row: what OpenBLAS's own pass computes before its
 * kernel adds alpha op(A) op(B), one multiply per entry, so the results
 * keep OpenBLAS's bits (test_gemm). OpenBLAS 0.3.21's pass (sgemm_beta)
 * is slower than this loop: on the main job (momentum's product into its
 * buffer, beta mu) it took 4.7-5.2% of the job's samples at one thread,
 * where this loop and the zeroing OpenBLAS still does for beta 0 take
 * 1.5-2.4% and 1.0-1.3% (three runs each, AMD EPYC Zen 3;
 * bench/results/beta-zen3/shares.txt). With more threads OpenBLAS shares
 * its pass between them, and keeps it. Below 100^3 multiply-adds OpenBLAS
 * may instead take the product through a small-matrix kernel that adds
 * beta C in its last step (on AVX-512 cores, with its own rounding), so
 * those keep their beta too. */
NN__VECTOR_CLONES
static void scale_c(float *restrict C, size_t M, size_t N, size_t ldc,
                    float beta)
{
    size_t i, j;
    for (i = 0; i < M; i++) {
        float *restrict c = C + i * ldc;
        for (j = 0; j < N; j++)
            c[j] *= beta;
    }
}
#endif

/* OpenBLAS 0.3.21 runs a product of more than 2^18 multiply-adds on its
 * threads (256 x 128 x 8 ran as at one thread, 784 x 256 x 2 took 4.7
 * times as long at two). For products of a few rows those threads cost
 * more than they share where libnn's kernel does not take the product
 * (its AVX2 build, NN_GEMM=blas, other CPUs): with two BLAS threads,
 * steps of 784-256-128-10 at batches 2 to 16 took 1.24 to 2.39 times one
 * thread's time, of 784-1024-1024-10 at batches 1 to 8 1.16 to 1.71
 * times, where from 32 and 16 rows on they gain (0.97 and 0.84;
 * NN_GEMM=avx2 bench/threads_sweep.sh build-bench/bench/bench_threads 15
 * 784-256-128-10 784-1024-1024-10 on AMD EPYC Zen 5, 2 vCPUs;
 * bench/results/zen5-threads/sweep-avx2-fab0807.txt). So for a product of
 * at most 16 rows (the batch: M, or K where op(A) is Aᵀ) and at most 2^23
 * multiply-adds, nn__gemm calls the BLAS once per part of at most 2^18,
 * which OpenBLAS forms on the calling thread, the parts one after the
 * other, each reading its share of the large operand as one run of
 * memory: the weights' gradient (Aᵀ B) by rows of C, G Wᵀ by columns of
 * C (rows of W), X W by rows of W (k), each part after the first adding
 * to C. Parts by columns of X W (strips of W's rows, 4 KiB apart) had
 * taken 784-1024-1024-10 at batch 8 to 1.60 times one thread's time.
 * With the parts, the same sweep over every benchmark net (21 pairs) had
 * no row slower with NN_GEMM=avx2, with NN_GEMM=blas or with the AVX-512
 * build (bench/results/zen5-threads/sweep-*-parts.txt). Each part packs
 * its share of the operands again where the split leaves one whole (A of
 * G Wᵀ): 8 x 1024 x 1024 in 32 parts took 362 us against 346 whole, and
 * 784-1024-1024-10 at batch 8 comes out at 1.02 to 1.04 in some runs.
 * On a quieter spell of the same machine OpenBLAS's threads gained at
 * 16 rows (784-256-128-10 0.63 to 0.77), which the parts give up. */
#define NN__BLAS_THREAD_MACS 262144.0
#define NN__BLAS_ONE_THREAD_MACS 8388608.0
#define NN__BLAS_FEW_ROWS 16

#if defined(NN_HAVE_OPENBLAS)
/* Lines of a part, for len lines at per multiply-adds each: the fewest
 * parts of at most 2^18, all of one length but the last (a shorter last
 * part of 16 k's, after parts of 256, took 8 x 256 x 784 from 53 to 61
 * us, where seven of 112 took 54; one thread); 0 where one line is more
 * than 2^18. */
static size_t part_len(double per, size_t len)
{
    double fit = floor(NN__BLAS_THREAD_MACS / per);
    size_t parts;
    if (fit < 1.0)
        return 0;
    if (fit >= (double)len)
        return len;
    parts = (size_t)ceil((double)len / fit);
    return (len + parts - 1) / parts;
}

size_t nn__blas_part(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                     int *side)
{
    double m = macs(M, N, K);
    *side = trans_a ? NN__PART_ROWS : trans_b ? NN__PART_COLUMNS
                                              : NN__PART_K;
    if (blas_threads() < 2 || m <= NN__BLAS_THREAD_MACS ||
        m > NN__BLAS_ONE_THREAD_MACS ||
        (trans_a ? K : M) > NN__BLAS_FEW_ROWS)
        return 0;
    switch (*side) {
    case NN__PART_ROWS:
        return part_len(macs(1, N, K), M);
    case NN__PART_COLUMNS:
        return part_len(macs(M, 1, K), N);
    default:
        return part_len(macs(M, N, 1), K);
    }
}
#else
size_t nn__blas_part(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                     int *side)
{
    (void)trans_a;
    (void)trans_b;
    (void)M;
    (void)N;
    (void)K;
    *side = NN__PART_ROWS;
    return 0; /* other BLASes' threads: not measured */
}
#endif

static void blas_call(int trans_a, int trans_b, size_t M, size_t N,
                      size_t K, float alpha, const float *A, size_t lda,
                      const float *B, size_t ldb, float beta, float *C,
                      size_t ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C,
                (int)ldc);
}

void nn__gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K,
              float alpha, const float *A, size_t lda, const float *B,
              size_t ldb, float beta, float *C, size_t ldc)
{
    size_t part, at;
    int side;
    if (use_small(trans_b, M, N, K)) {
        gemm_small(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C,
                   ldc);
        return;
    }
#if defined(NN_HAVE_OPENBLAS)
    if (beta != 0.0f && beta != 1.0f && blas_threads() == 1 &&
        macs(M, N, K) > 1e6) {
        scale_c(C, M, N, ldc, beta);
        beta = 1.0f;
    }
#endif
    part = nn__blas_part(trans_a, trans_b, M, N, K, &side);
    if (!part) {
        blas_call(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C,
                  ldc);
        return;
    }
    for (at = 0; side == NN__PART_ROWS && at < M; at += part)
        blas_call(trans_a, trans_b, M - at < part ? M - at : part, N, K,
                  alpha, trans_a ? A + at : A + at * lda, lda, B, ldb, beta,
                  C + at * ldc, ldc);
    for (at = 0; side == NN__PART_COLUMNS && at < N; at += part)
        blas_call(trans_a, trans_b, M, N - at < part ? N - at : part, K,
                  alpha, A, lda, trans_b ? B + at * ldb : B + at, ldb, beta,
                  C + at, ldc);
    for (at = 0; side == NN__PART_K && at < K; at += part)
        blas_call(trans_a, trans_b, M, N, K - at < part ? K - at : part,
                  alpha, trans_a ? A + at * lda : A + at, lda,
                  trans_b ? B + at : B + at * ldb, ldb, at ? 1.0f : beta, C,
                  ldc);
}

/* Inference: a dense layer's X W + b and its activation, the weights
 * packed once (pack.c), through the kernel with the bias and relu fused,
 * against nn__gemm and the bias and activation pass. The kernel wins at
 * every shape measured (bench_gemm --kernel; AMD EPYC Zen 5, one thread,
 * OpenBLAS 0.3.21 Haswell kernels): 1.2x to 2.3x at one row (N = K = 4 to
 * 64), 1.5x to 5x at 2 to 32 rows of widths 2 to 128, 1.8x to 2.6x for the
 * benchmark nets' layers at batch 32 and 256. The exception is a row of
 * 2 x 2 (13 ns against 17): below 8 multiply-adds the direct loops stay.
 * The AVX2 build (AMD EPYC Zen 3, OpenBLAS 0.3.21's Zen kernels, as below
 * for training; bench/results/avx2-zen3/kernel.txt) wins from 8 x 8 at
 * one row and from 4 x 4 at two (1.07x to 3.7x; 2 x 2 0.73x to 0.96x
 * below 8 rows, 4 x 4 0.82x at one), the benchmark nets' layers 1.01x to
 * 1.52x at batch 32 and 256, and at one row all but 1 x 1024 x 784
 * (0.73x; 0.99x for 1 x 1024 x 1024, 1.07x to 2.09x the others), where
 * the weights' bytes bound both. It keeps the same rule, so that a row's
 * outputs stay independent of the batch. */
static int tiny(size_t M, size_t N, size_t K)
{
    /* each of M, N, K is below 2^31 */
    return M < 8 && N * K < 8 && M * N * K < 8;
}

int nn__kernel_infer(size_t M, size_t N, size_t K)
{
    return nn__kernel_on() && M && N && K && !tiny(M, N, K);
}

/* Training products and threads, with two BLAS threads (a machine of two
 * cores, by default), measured as a step at two threads over one,
 * alternating blocks in one process with nothing else running
 * (bench/threads_sweep.sh build-bench/bench/bench_threads: every
 * benchmark net at batches 1, 2, 4, ..., 512; AMD EPYC Zen 5, 2 vCPUs,
 * OpenBLAS 0.3.21; bench/results/zen5-threads/):
 *   - from 2^26 multiply-adds the kernel forms a product on two threads of
 *     its own, each a part of C's columns (nn__gemm_train). Every column's
 *     sums are the same whichever thread forms them, so the results have
 *     the same bits as on one. Steps whose largest products are just past
 *     the bound: 784-1024-1024-10 at batch 64 (1024 x 1024 x 64) 0.82 to
 *     0.85 of one thread's time in three runs, 784-256-128-10 at 384 rows
 *     0.87; just below it, at 2^25 to 2^26, two threads gained or lost a
 *     few per cent from run to run (batch 40 to 56 of 784-1024-1024-10:
 *     1.06, 1.05 and 0.94, 0.96), and at 2^25 and below they lost (1.10
 *     at batch 32); the bound was 2^27 until the sweep replaced the
 *     benchmark nets' own batches, where bench_train's OpenBLAS blocks in
 *     between had hidden the gain;
 *   - a product the rules below would give the BLAS (not the direct
 *     loops: one or two rows, or a sum of one or two terms into wide rows
 *     of C) goes to the kernel, on the calling thread, where the BLAS
 *     would start its threads for it (OpenBLAS does above 2^18
 *     multiply-adds: 256 x 128 x 8 ran as at one thread, 784 x 256 x 2
 *     took 4.7 times as long). Those were products of few rows (the
 *     weights' gradient of 1 to 15 rows, the backward product of 3),
 *     whose threads cost more than they shared: steps of 784-256-128-10
 *     at batch 2 to 8 took 2.0 to 2.7 times one thread's time, of
 *     784-1024-1024-10 at batch 1, 2 and 8 1.35 to 2.06 times. Now this
 *     takes the weights' gradient of 3 rows and the backward product of
 *     3 (and wide outputs' products of at most 16 columns): at one thread
 *     the BLAS keeps those, and the results of one and two threads
 *     differ there by float rounding;
 *   - with more than two BLAS threads, products from 2^27 go to the BLAS,
 *     with its threads. */
#define NN__SPLIT_MACS 67108864.0
#define NN__BLAS_MACS 134217728.0

/* Training: the three products of a dense layer's step, n rows:
 *   forward  X W          (0, 0, n, out, in)
 *   backward dL/dZ Wᵀ     (0, 1, n, in, out)
 *   dW       Xᵀ dL/dZ     (1, 0, in, out, n), with alpha -lr and beta
 *                         1 - lr wd where plain SGD folds its update
 *                         into W, alpha 1 - dampening and beta momentum
 *                         (or 1) where momentum folds into its buffer
 * through the kernel (B packed a block at a time, or read in place below
 * 65 rows or 257 columns: nn__gemm_train) against nn__gemm (CBLAS, or
 * gemm_small's loops), medians of interleaved blocks (bench_gemm --kernel;
 * machine as above):
 *   - forward: from 4 rows on 1.3x (4 x 256 x 784) to 1.9x (the benchmark
 *     nets at batch 32 to 256), the output layer's 1.2x to 1.7x; below 4
 *     rows, where the kernel reads B's rows along, 1.8x (1 x 256 x 784)
 *     to 2.7x (3 x 1024 x 1024), and even with the direct loops at one
 *     row of 1024 x 1024 or 128 x 256 (memory-bound; within 5%). So the
 *     forward product takes the kernel at any batch, and a row's outputs
 *     do not depend on the batch it came in;
 *   - backward (Wᵀ packed per block): 1.5x to 1.9x from 4 rows; at 1 row
 *     the direct loops win (1 x 1024 x 1024: 133 us against 244);
 *   - dW, a sum over the batch (K = n): from 4 rows on the kernel wins
 *     (1.4x at 32, 1.8x from 128), but for outputs of at most 16 columns,
 *     which need 32 rows (128 x 10 x 16: 0.8x; 128 x 10 x 32: 1.0x; 1.3x
 *     to 1.9x beyond). Below 16 rows the update of C dominates; the bound
 *     was 16 rows (784 x 256 x 8: 53 us against 62 on an earlier Zen 5
 *     machine) until a rerun on another (bench_gemm --only kernel
 *     --threads 1 --quick, bench/results/zen5-fab0807/kernel.txt) gave
 *     the kernel 1.02x to 1.12x at 4 rows on the benchmark nets' wide
 *     layers, 1.30x at 784 x 256 x 8 and 1.45x at 12; at 3 rows 0.98x and
 *     0.99x where C is 784 x 256 or 256 x 128, 1.03x and 1.04x where it is
 *     1024 wide, so 3 rows stay with the BLAS at one thread. */
/* The AVX2 build (AMD EPYC Zen 3, one thread, OpenBLAS 0.3.21's Zen
 * kernels; taskset -c 1 bench_gemm --only kernel --threads 1, medians;
 * bench/results/avx2-zen3/): OpenBLAS's AVX2 tiles are this CPU's own.
 * Against them, on the benchmark nets' wide layers from 32 rows on, the
 * kernel's dW products run at 0.81 to 0.93 of their speed and the
 * backward ones at 0.86 to 1.12; the forward ones from 0.29 (32 x 1024 x
 * 1024, B in place: its rows 4 KiB apart) to 1.25 (32 x 128 x 256), and
 * packed a block at a time 0.43 to 0.73 at 4 to 32 rows and 0.89 to 0.96
 * from 128 on the 1024-wide layers (kernel-forward-packed.txt). It wins on
 * layers of at most 16 outputs: forward at any batch (1.02x to 2.55x),
 * backward from 16 rows (1.39x to 2.37x; 0.95x to 0.98x at 4), dW from
 * 128 rows (1.17x to 1.23x; 0.83x to 0.87x at 32). So those; and batches
 * of 2 and 3 rows (bench_gemm --only kernel --threads 1 --quick, twice;
 * kernel-small-1.txt, kernel-small-2.txt), where OpenBLAS forms 3 rows
 * at 0.30 to 0.44 of its rows per second at 4, and gemm_small's loops
 * take 2. There the kernel's few-rows path wins every forward product
 * (1.45x to 7.0x), the backward products at 3 rows are 0.98x to 1.70x,
 * and at 1 or 2 rows those of outputs of at most 16 columns 1.34x to
 * 2.95x. At 4 rows the products range from 0.67x to 2.9x and stay with
 * the BLAS; the direct loops keep one row of a wide layer (the kernel
 * 0.31x to 1.04x).
 * Elsewhere a training step's forward rows keep the BLAS's bits (which
 * may depend on the batch), where the AVX-512 build's do not. */
static int avx2_train(int trans_a, int trans_b, size_t M, size_t N, size_t K)
{
    if (trans_a)
        return N <= 16 && K >= 128;
    if (trans_b)
        return M == 3 || (K <= 16 && (M >= 16 || M < 4));
    return (N <= 16 || M == 2 || M == 3) && !tiny(M, N, K);
}

int nn__kernel_train(int trans_a, int trans_b, size_t M, size_t N, size_t K)
{
    int threads;
    if (!nn__kernel_on() || M == 0 || N == 0 || K == 0)
        return 0; /* a part of a batch without rows: BLAS's no-op */
    if (nn__kernel_isa() == NN__KERNEL_AVX2)
        return avx2_train(trans_a, trans_b, M, N, K);
    threads = blas_threads();
    if (threads > 2 && macs(M, N, K) >= NN__BLAS_MACS)
        return 0;
    if (threads >= 2 && macs(M, N, K) > NN__BLAS_THREAD_MACS &&
        !use_small(trans_b, M, N, K))
        return 1; /* nn__gemm would take it to the BLAS's threads */
    if (trans_a)
        return (K >= 4 && N > 16) || K >= 32;
    if (trans_b)
        return M >= 4;
    return !tiny(M, N, K);
}

/* Whether the product may run on two threads (see NN__SPLIT_MACS): a
 * function of the shape; the thread count decides at the call. Its
 * columns are cut after a whole number of 48-column panels near the
 * middle: at least one panel before the cut, a column or more after. */
static int splittable(size_t M, size_t N, size_t K)
{
    return N >= 96 && macs(M, N, K) >= NN__SPLIT_MACS;
}

/* One thread's block of B: kc rows of the panels of at most 480 columns. */
static size_t block_floats(size_t K, size_t N)
{
    size_t kc = K < 256 ? K : 256, width = (N + 15) / 16 * 16;
    return kc * (width < 480 ? width : 480);
}

size_t nn__kernel_buf_floats(size_t M, size_t K, size_t N)
{
    if (!nn__kernel_on())
        return 0;
    return (splittable(M, N, K) ? 2 : 1) * block_floats(K, N);
}

/* B in place where the rows are few (the copy costs more than it saves)
 * or B is at most 256 columns wide; the same bits either way. Rows of
 * 1024 floats are 4 KiB apart, and a panel's rows then fall in the same
 * few sets of L1. Each form against the other in alternating blocks
 * (bench_gemm --only forms --threads 1; AMD EPYC Zen 5; time in place
 * over time packed, medians; bench/results/forms/forms-1.txt): forward
 * 32 x 256 x 784 0.79, 128 x 256 x 784 0.94, 128 x 128 x 256 0.95, 512
 * rows 0.97 to 0.99; dW 0.94 to 1.01; but 1.03 where B is 1024 wide. */
int nn__kernel_train_form(int trans_b, size_t M, size_t N)
{
    return !trans_b && (M <= 64 || N <= 256) ? NN__B_IN_PLACE
                                             : NN__B_PACK_BLOCKS;
}

/* A kernel call on some of a product's columns; with a relu (act), its
 * bias and the largest output's bits (top). */
typedef struct nn__part {
    int trans_a, trans_b, form, act;
    size_t M, N, K, lda, ldb, ldc;
    float alpha, beta;
    const float *A, *B, *bias;
    float *buf, *C;
    uint32_t top;
} nn__part;

static void part_run(nn__part *p)
{
    nn__kernel_gemm_top(p->trans_a, p->trans_b, p->M, p->N, p->K, p->alpha,
                        p->A, p->lda, p->B, p->ldb, p->form, p->buf, p->beta,
                        p->C, p->ldc, p->bias, p->act, 0.0f, &p->top);
}

static void *part_thread(void *arg)
{
    part_run((nn__part *)arg);
    return NULL;
}

/* nn__gemm_train, and with bias not NULL nn__gemm_train_relu's fused
 * relu: 1 where the kernel took the product, 0 where nn__gemm did. */
static int train_product(int trans_a, int trans_b, size_t M, size_t N,
                         size_t K, float alpha, const float *A, size_t lda,
                         const float *B, size_t ldb, float beta, float *C,
                         size_t ldc, float *buf, const float *bias,
                         uint32_t *top)
{
    nn__part first, second;
    pthread_t thread;
    size_t cut;
    int started;
    if (!buf || !nn__kernel_train(trans_a, trans_b, M, N, K)) {
        nn__gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C,
                 ldc);
        return 0;
    }
    first = (nn__part){.trans_a = trans_a, .trans_b = trans_b,
                       .form = nn__kernel_train_form(trans_b, M, N),
                       .act = bias ? NN_ACT_RELU : NN_ACT_IDENTITY,
                       .M = M, .N = N, .K = K, .lda = lda, .ldb = ldb,
                       .ldc = ldc, .alpha = alpha, .beta = beta, .A = A,
                       .B = B, .bias = bias, .buf = buf, .C = C, .top = 0};
    if (!splittable(M, N, K) || blas_threads() != 2) {
        part_run(&first);
    } else {
        /* columns [0, cut) here, [cut, N) on a thread of their own, each
         * part with its block of buf (nn__kernel_buf_floats counted two) */
        cut = (N / 2 + 47) / 48 * 48;
        second = first;
        first.N = cut;
        second.N = N - cut;
        second.B = trans_b ? B + cut * ldb : B + cut;
        second.C = C + cut;
        second.bias = bias ? bias + cut : NULL;
        second.buf = buf + block_floats(K, N);
        started = pthread_create(&thread, NULL, part_thread, &second) == 0;
        part_run(&first);
        if (started)
            pthread_join(thread, NULL);
        else /* no thread to be had: the same bits, one after the other */
            part_run(&second);
        if (second.top > first.top)
            first.top = second.top;
    }
    if (top)
        *top = first.top > *top ? first.top : *top;
    return 1;
}

void nn__gemm_train(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                    float alpha, const float *A, size_t lda, const float *B,
                    size_t ldb, float beta, float *C, size_t ldc,
                    float *buf)
{
    (void)train_product(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
                        beta, C, ldc, buf, NULL, NULL);
}

/* The bias pass over Z (n x out) that this saves read Z back after the
 * product had written it, and wrote A over it: in a step of
 * 784-256-128-10 at batch 128, 0.5% of the samples (perf record). Side
 * by side, steps of the benchmark nets at batch 32 to 512 took 0.980 to
 * 1.002 of the time, median 0.997 (bench/steps_ab.sh; bench/RESULTS.md,
 * "Since 61e9da9"). The product's last pass adds the bias and takes the
 * relu in the pass's own order (gemm_kernel.h: finish), so the bits are
 * the same. */
int nn__gemm_train_relu(size_t M, size_t N, size_t K, const float *A,
                        size_t lda, const float *B, size_t ldb, float *C,
                        size_t ldc, float *buf, const float *bias,
                        uint32_t *top)
{
    return train_product(0, 0, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc,
                         buf, bias, top);
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
#elif defined(NN_HAVE_BLIS)
    {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        bli_thread_set_num_threads(threads ? (dim_t)threads
                                           : (dim_t)(cores > 0 ? cores : 1));
    }
    return NN_OK;
#else
    return nn__fail(NN_E_STATE, "nn_set_blas_threads: libnn was built with "
                    "a BLAS whose thread count it cannot set");
#endif
}
