/* SPDX-License-Identifier: MIT */
/*
 * test_kernel.c - libnn's own product (nn__kernel_gemm: its AVX-512
 * build, or its AVX2 build on a CPU without AVX-512F) against the naive
 * reference (nn__gemm_ref, which accumulates in double) on shapes that
 * reach every edge of its blocking: 1, primes, one below and above the
 * tile (AVX-512: 8 rows, 16 and 48 columns; AVX2: 6 rows, 8 and 16), the
 * blocks (256 of k, 480 or 256 columns), and long sums; with op(A)
 * transposed or not, B packed whole or a block at a time (transposed or
 * not) or read in place, alpha and beta, the bias, relu and leaky relu.
 * Also the promises the passes build on: the same bits whatever form B
 * takes and whatever the other rows, and from either build; the
 * activations bit for bit as activation.c computes them; and the choice
 * of the kernel (the CPU, NN_GEMM=blas or avx2). On a CPU with neither
 * build's instructions the tests that run the kernel end as skipped
 * (cmocka's SKIPPED); valgrind hides AVX-512F, so there the AVX2 build
 * runs.
 */
#define _POSIX_C_SOURCE 200112L /* setenv */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"
#include "nn_test.h"

static uint64_t lcg_state = 777;

static float uniform(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((lcg_state >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

/* len floats of room (at least one), or the test fails. */
static float *room(size_t len)
{
    float *p = malloc((len ? len : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

static float *fresh(size_t len)
{
    float *p = room(len);
    size_t i;
    for (i = 0; i < len; i++)
        p[i] = uniform();
    return p;
}

/* Room for a block of B (NN__B_PACK_BLOCKS), kept for the whole run. */
static float *block_buffer(void)
{
    static float *buf;
    if (!buf)
        buf = room(NN__KERNEL_BUF_FLOATS);
    return buf;
}

/* |got - want| within float rounding of a sum of k terms of size at most
 * 1 (the operands are in [-1, 1)): 1e-5 of k, as the scale. */
static void assert_close_scaled(const float *got, const float *want,
                                size_t len, size_t k)
{
    size_t i;
    for (i = 0; i < len; i++)
        if (!(fabs((double)got[i] - want[i]) <= 1e-6 * (double)k + 1e-6)) {
            print_error("[%zu]: %.9g against %.9g (sum of %zu terms)\n", i,
                        (double)got[i], (double)want[i], k);
            fail();
        }
}

/* Whether the kernel can run here; if not, the test ends as skipped
 * (cmocka's skip(), reported as SKIPPED, never as passed). Called before
 * a test allocates anything. */
static int kernel_here(void)
{
    if (nn__kernel_force(1))
        return 1;
    print_message("the CPU has neither AVX-512F nor AVX2 and FMA (or "
                  "valgrind hides them): the kernel cannot run\n");
    skip();
    return 0;
}

static float act_ref(int act, float z, float slope)
{
    if (act == NN_ACT_RELU)
        return z > 0.0f ? z : 0.0f;
    if (act == NN_ACT_LEAKY_RELU)
        return z > 0.0f ? z : slope * z;
    return z;
}

/* One product through the kernel against the reference: the largest
 * |kernel - reference| over the magnitude of the terms of each entry,
 * sum_p |alpha a_ip b_pj| + |beta c_ij| + |bias_j|, the scale of float
 * rounding (as tests/test_gemm.c measures it). */
typedef struct shape {
    int ta, tb, form; /* form: NN__B_PACKED, _IN_PLACE or _PACK_BLOCKS */
    size_t M, N, K;
    float alpha, beta;
    int bias, act;
    size_t pad; /* floats past each row of A, B and C (their strides) */
} shape;

/* rows x cols of src (tight) in rows of ld >= cols floats, the floats past
 * cols set to fill. */
static float *strided(const float *src, size_t rows, size_t cols, size_t ld,
                      float fill)
{
    float *p = room(rows * ld);
    size_t r, c;
    for (r = 0; r < rows; r++)
        for (c = 0; c < ld; c++)
            p[r * ld + c] = c < cols ? src[r * cols + c] : fill;
    return p;
}

static void check(const shape *s)
{
    const size_t M = s->M, N = s->N, K = s->K;
    size_t lda = s->ta ? M : K, ldb = s->tb ? K : N, i, j;
    float *A = fresh(M * K), *B = fresh(K * N), *C = fresh(M * N);
    float *R = room(M * N), *MAG = room(M * N);
    float *AA = room(M * K), *BB = room(K * N);
    float *bias = s->bias ? fresh(N) : NULL, *packed = NULL;
    float *buf = s->form == NN__B_PACK_BLOCKS ? block_buffer() : NULL;
    const float slope = 0.125f, guard = 1234.5f;
    /* the kernel sees A, B and C with s->pad floats after each row: NaN
     * in A's and B's, which would reach C if read, and a guard in C's,
     * which must stay */
    const size_t lda_k = lda + s->pad, ldb_k = ldb + s->pad;
    const size_t ldc_k = N + s->pad;
    float *Ak, *Bk, *Ck;
    double worst = 0.0;
    memcpy(R, C, M * N * sizeof *R);
    for (i = 0; i < M * K; i++)
        AA[i] = fabsf(A[i]);
    for (i = 0; i < K * N; i++)
        BB[i] = fabsf(B[i]);
    for (i = 0; i < M * N; i++)
        MAG[i] = fabsf(C[i]);
    nn__gemm_ref(s->ta, s->tb, M, N, K, fabsf(s->alpha), AA, lda, BB, ldb,
                 fabsf(s->beta), MAG, N);
    nn__gemm_ref(s->ta, s->tb, M, N, K, s->alpha, A, lda, B, ldb, s->beta, R,
                 N);
    Ak = strided(A, s->ta ? K : M, lda, lda_k, NAN);
    Bk = strided(B, s->tb ? N : K, ldb, ldb_k, NAN);
    Ck = strided(C, M, N, ldc_k, guard);
    if (s->form == NN__B_PACKED) {
        packed = room(nn__kernel_packed_floats(K, N));
        nn__kernel_pack(s->tb, K, N, Bk, ldb_k, packed);
    }
    nn__kernel_gemm(s->ta, s->tb, M, N, K, s->alpha, Ak, lda_k,
                    packed ? packed : Bk, ldb_k, s->form, buf, s->beta, Ck,
                    ldc_k, bias, s->act, slope);
    for (i = 0; i < M; i++)
        for (j = N; j < ldc_k; j++)
            assert_true(Ck[i * ldc_k + j] == guard);
    for (i = 0; i < M; i++)
        for (j = 0; j < N; j++) {
            size_t e = i * N + j;
            float want = R[e], mag = MAG[e];
            double err;
            if (bias) {
                want += bias[j];
                mag += fabsf(bias[j]);
            }
            want = act_ref(s->act, want, slope);
            err = fabs((double)Ck[i * ldc_k + j] - want) /
                  (mag > 0.0f ? mag : 1.0f);
            if (err > worst)
                worst = err;
        }
    if (!(worst <= 1e-5))
        print_error("ta=%d tb=%d form=%d M=%zu N=%zu K=%zu alpha=%g "
                    "beta=%g bias=%d act=%d pad=%zu: max rel error %g\n",
                    s->ta, s->tb, s->form, M, N, K, (double)s->alpha,
                    (double)s->beta, s->bias, s->act, s->pad, worst);
    assert_true(worst <= 1e-5);
    free(A);
    free(B);
    free(C);
    free(Ak);
    free(Bk);
    free(Ck);
    free(R);
    free(MAG);
    free(AA);
    free(BB);
    free(bias);
    free(packed);
}

/* Every way of calling the kernel on one shape, with pad floats past the
 * rows of A, B and C. */
static void check_all_ways_pad(size_t M, size_t N, size_t K, size_t pad)
{
    static const float ab[][2] = {{1.0f, 0.0f}, {-0.5f, 1.0f},
                                  {0.75f, 0.25f}};
    shape s;
    size_t v, n = 0;
    memset(&s, 0, sizeof s);
    s.M = M;
    s.N = N;
    s.K = K;
    s.pad = pad;
    for (v = 0; v < 12; v++) {
        s.ta = (int)(v & 1);
        s.tb = (int)((v >> 1) & 1);
        s.form = NN__B_PACKED + (int)(v >> 2);
        if (s.tb && s.form == NN__B_IN_PLACE)
            continue; /* a transposed B is packed */
        s.alpha = ab[n % 3][0];
        s.beta = ab[n % 3][1];
        n++;
        s.bias = 0;
        s.act = NN_ACT_IDENTITY;
        check(&s);
    }
    /* the inference pass: X W + b, then the activation */
    s.ta = s.tb = 0;
    s.alpha = 1.0f;
    s.beta = 0.0f;
    s.bias = 1;
    for (v = 0; v < 9; v++) {
        static const int acts[3] = {NN_ACT_IDENTITY, NN_ACT_RELU,
                                    NN_ACT_LEAKY_RELU};
        s.form = NN__B_PACKED + (int)(v % 3);
        s.act = acts[v / 3];
        check(&s);
    }
}

static void check_all_ways(size_t M, size_t N, size_t K)
{
    check_all_ways_pad(M, N, K, 0);
}

static void kernel_matches_reference_at_every_edge(void **state)
{
    static const size_t ms[] = {1, 2, 7, 8, 9, 17, 33};
    /* 64, 112 and 544: the last 64 columns in two panels of 32; 496: 64
     * left across the end of the block of 480 columns, 48 and 16 */
    static const size_t ns[] = {1,  3,  15,  16,  17,  47,  48,  49,
                                63, 64, 65, 97, 112, 130, 496, 544};
    static const size_t ks[] = {1, 2, 9, 257};
    /* around the block of k, on fewer rows and columns */
    static const size_t ms2[] = {1, 8, 9}, ns2[] = {1, 16, 17, 48, 49};
    static const size_t ks2[] = {255, 256, 512, 600};
    size_t a, b, c;
    (void)state;
    if (!kernel_here())
        return;
    for (a = 0; a < ARRAY_LEN(ms); a++)
        for (b = 0; b < ARRAY_LEN(ns); b++)
            for (c = 0; c < ARRAY_LEN(ks); c++)
                check_all_ways(ms[a], ns[b], ks[c]);
    for (a = 0; a < ARRAY_LEN(ms2); a++)
        for (b = 0; b < ARRAY_LEN(ns2); b++)
            for (c = 0; c < ARRAY_LEN(ks2); c++)
                check_all_ways(ms2[a], ns2[b], ks2[c]);
    nn__kernel_force(-1);
}

/* Past the column block (480), and long sums over several blocks of k. */
static void kernel_matches_reference_on_large_shapes(void **state)
{
    static const size_t shapes[][3] = {
        {13, 481, 97}, {40, 1000, 33}, {9, 530, 1100}, {3, 61, 3001},
        {64, 256, 784}, {32, 10, 1024}, {17, 976, 300}};
    size_t i;
    (void)state;
    if (!kernel_here())
        return;
    for (i = 0; i < ARRAY_LEN(shapes); i++) /* every other one strided */
        check_all_ways_pad(shapes[i][0], shapes[i][1], shapes[i][2],
                           i % 2 ? 3 + i : 0);
    /* op(A) = Aᵀ with its rows 1024 floats apart, 4 KiB: the strips
     * copied into micro-panels (in pairs, one alone, and an edge strip of
     * fewer rows), where other strides read them in place */
    check_all_ways_pad(1000, 100, 37, 24);
    check_all_ways_pad(1021, 50, 300, 3);
    nn__kernel_force(-1);
}

static void kernel_matches_reference_on_random_shapes(void **state)
{
    int trial;
    (void)state;
    if (!kernel_here())
        return;
    for (trial = 0; trial < 150; trial++) {
        shape s;
        memset(&s, 0, sizeof s);
        s.M = 1 + (size_t)((uniform() + 1.0f) * 30.0f);
        s.N = 1 + (size_t)((uniform() + 1.0f) * 60.0f);
        s.K = 1 + (size_t)((uniform() + 1.0f) * 200.0f);
        s.ta = trial & 1;
        s.tb = (trial >> 1) & 1;
        s.form = (trial >> 2) & 1 ? NN__B_PACK_BLOCKS
                 : s.tb           ? NN__B_PACKED
                                  : NN__B_IN_PLACE;
        s.alpha = 1.0f;
        s.beta = (trial & 8) ? 1.0f : 0.0f;
        s.bias = (trial >> 4) & 1;
        s.act = (trial & 32) ? NN_ACT_RELU : NN_ACT_IDENTITY;
        /* two trials in three with strides past the rows */
        s.pad = (size_t)(trial % 3) * (size_t)(1 + trial % 17);
        check(&s);
    }
    nn__kernel_force(-1);
}

/* The passes count on it: the packed copy of the weights and the weights
 * in place give the same bits, and a row's result does not depend on the
 * other rows computed with it. */
static void packed_in_place_and_row_by_row_give_the_same_bits(void **state)
{
    static const size_t shapes[][3] = {{1, 1, 1},    {37, 10, 128},
                                       {19, 49, 300}, {64, 256, 784},
                                       {9, 530, 513}, {5, 1024, 1024}};
    size_t s;
    (void)state;
    if (!kernel_here())
        return;
    for (s = 0; s < ARRAY_LEN(shapes); s++) {
        const size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        float *A = fresh(M * K), *B = fresh(K * N), *bias = fresh(N);
        float *C1 = fresh(M * N), *C2 = fresh(M * N), *C3 = fresh(M * N);
        float *P = room(nn__kernel_packed_floats(K, N));
        float *buf = block_buffer();
        size_t i;
        nn__kernel_pack(0, K, N, B, N, P);
        nn__kernel_gemm(0, 0, M, N, K, 1.0f, A, K, P, N, NN__B_PACKED, NULL,
                        0.0f, C1, N, bias, NN_ACT_RELU, 0.0f);
        nn__kernel_gemm(0, 0, M, N, K, 1.0f, A, K, B, N, NN__B_IN_PLACE,
                        NULL, 0.0f, C2, N, bias, NN_ACT_RELU, 0.0f);
        for (i = 0; i < M; i++)
            nn__kernel_gemm(0, 0, 1, N, K, 1.0f, A + i * K, K, P, N,
                            NN__B_PACKED, NULL, 0.0f, C3 + i * N, N, bias,
                            NN_ACT_RELU, 0.0f);
        assert_memory_equal(C1, C2, M * N * sizeof *C1);
        assert_memory_equal(C1, C3, M * N * sizeof *C1);
        nn__kernel_gemm(0, 0, M, N, K, 1.0f, A, K, B, N, NN__B_PACK_BLOCKS,
                        buf, 0.0f, C3, N, bias, NN_ACT_RELU, 0.0f);
        assert_memory_equal(C1, C3, M * N * sizeof *C1);
        /* 1 to 3 rows with B in place read B's rows along (few_rows) */
        for (i = 0; i < M; i += 1 + i % 3) {
            size_t r = M - i < 1 + i % 3 ? M - i : 1 + i % 3;
            nn__kernel_gemm(0, 0, r, N, K, 1.0f, A + i * K, K, B, N,
                            NN__B_IN_PLACE, NULL, 0.0f, C3 + i * N, N, bias,
                            NN_ACT_RELU, 0.0f);
        }
        assert_memory_equal(C1, C3, M * N * sizeof *C1);
        free(A);
        free(B);
        free(bias);
        free(C1);
        free(C2);
        free(C3);
        free(P);
    }
    nn__kernel_force(-1);
}

/* The AVX-512 and the AVX2 builds of the kernel (gemm_kernel.h) give the
 * same bits, and the AVX-512 build's tiles with their prefetch the same
 * as without it (gemm_avx512.c chooses by the CPU and the product): every
 * shape, transposition, form of B, alpha, beta, bias and activation below
 * through each build's entry point, compared bit for bit. The widths
 * reach each build's edges (8, 16 and 48 columns, the 32 + 32 panels,
 * blocks of 256 and 480 columns) and the rows their tiles (6 and 8),
 * few_rows (1 to 3) and the AVX-512 build's narrow products (32 rows of
 * Aᵀ B, B 1 to 12 columns wide). Needs a CPU with both (skipped
 * elsewhere; on a CPU with AVX2 only, the tests above check the AVX2
 * build against the reference). */
static void both_builds_give_the_same_bits(void **state)
{
#if NN__HAVE_KERNEL
    static const size_t shapes[][3] = {
        {1, 1, 1},     {2, 7, 9},      {3, 17, 300},   {5, 33, 257},
        {6, 64, 256},  {7, 49, 513},   {8, 16, 40},    {9, 530, 130},
        {13, 10, 784}, {37, 1000, 70}, {64, 257, 600}, {2, 1024, 33},
        /* Aᵀ B with B of 12 columns or fewer: 32 rows at a time in the
         * AVX-512 build (narrow), then tiles; at 13 columns tiles only */
        {37, 10, 300}, {64, 1, 20},    {96, 12, 130},  {40, 13, 33}};
    size_t s;
    int v;
    (void)state;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") ||
        !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        print_message("the CPU lacks AVX-512F or AVX2: one build cannot "
                      "run\n");
        skip();
    }
    for (s = 0; s < ARRAY_LEN(shapes); s++)
        for (v = 0; v < 8; v++) {
            const size_t M = shapes[s][0], N = shapes[s][1];
            const size_t K = shapes[s][2];
            const int ta = v & 1, tb = (v >> 1) & 1, update = v >> 2;
            const float alpha = update ? -0.01f : 1.0f;
            const float beta = update ? 0.999f : 0.0f;
            const int act = v % 3 == 0   ? NN_ACT_RELU
                            : v % 3 == 1 ? NN_ACT_LEAKY_RELU
                                         : NN_ACT_IDENTITY;
            float *A = fresh(M * K), *B = fresh(K * N), *bias = fresh(N);
            float *C0 = fresh(M * N), *C1 = room(M * N), *C2 = room(M * N);
            float *P1 = room(nn__k512_packed_floats(K, N));
            float *P2 = room(nn__k256_packed_floats(K, N));
            float *buf = block_buffer();
            int form, pf;
            for (form = NN__B_PACKED; form <= NN__B_PACK_BLOCKS; form++) {
                const float *b1 = form == NN__B_PACKED ? P1 : B;
                const float *b2 = form == NN__B_PACKED ? P2 : B;
                /* packed weights and in-place B are K x N as stored */
                const int t = form == NN__B_PACK_BLOCKS ? tb : 0;
                const size_t ldb = t ? K : N;
                const float *bs = update ? NULL : bias;
                nn__k512_pack(0, K, N, B, N, P1);
                nn__k256_pack(0, K, N, B, N, P2);
                memcpy(C2, C0, M * N * sizeof *C2);
                nn__k256_gemm(ta, t, M, N, K, alpha, A, ta ? M : K, b2, ldb,
                              form, buf, beta, C2, N, bs, act, 0.01f);
                for (pf = 0; pf < 2; pf++) {
                    memcpy(C1, C0, M * N * sizeof *C1);
                    nn__kernel_prefetch_force(pf);
                    nn__k512_gemm(ta, t, M, N, K, alpha, A, ta ? M : K, b1,
                                  ldb, form, buf, beta, C1, N, bs, act,
                                  0.01f);
                    nn__kernel_prefetch_force(-1);
                    if (memcmp(C1, C2, M * N * sizeof *C1) != 0)
                        fail_msg("%zu x %zu x %zu, trans %d %d, form %d, "
                                 "v %d, prefetch %d: the builds differ",
                                 M, N, K, ta, t, form, v, pf);
                }
            }
            free(A);
            free(B);
            free(bias);
            free(C0);
            free(C1);
            free(C2);
            free(P1);
            free(P2);
        }
#else
    (void)state;
    print_message("no kernel in this build\n");
    skip();
#endif
}

/* One layer's three training products through nn__gemm_train (forward,
 * backward, and the folded update into a copy of W) against the
 * reference. */
static void check_training_products(size_t in, size_t out, size_t n,
                                    float *buf)
{
    float *X = fresh(n * in), *W = fresh(in * out);
    float *G = fresh(n * out), *Z = fresh(n * out);
    float *DX = fresh(n * in), *W2 = room(in * out);
    float *R = room(in * out + n * in + n * out);
    assert_true(nn__kernel_buf_floats(n, in, out) <= NN__KERNEL_BUF_FLOATS);
    nn__gemm_train(0, 0, n, out, in, 1.0f, X, in, W, out, 0.0f, Z, out,
                   buf);
    nn__gemm_ref(0, 0, n, out, in, 1.0f, X, in, W, out, 0.0f, R, out);
    assert_close_scaled(Z, R, n * out, in);
    nn__gemm_train(0, 1, n, in, out, 1.0f, G, out, W, out, 0.0f, DX, in,
                   buf);
    nn__gemm_ref(0, 1, n, in, out, 1.0f, G, out, W, out, 0.0f, R, in);
    assert_close_scaled(DX, R, n * in, out);
    memcpy(W2, W, in * out * sizeof *W);
    memcpy(R, W, in * out * sizeof *W);
    nn__gemm_train(1, 0, in, out, n, -0.01f, X, in, G, out, 0.999f, W2,
                   out, buf);
    nn__gemm_ref(1, 0, in, out, n, -0.01f, X, in, G, out, 0.999f, R, out);
    assert_close_scaled(W2, R, in * out, n);
    free(X);
    free(W);
    free(G);
    free(Z);
    free(DX);
    free(W2);
    free(R);
}

/* The training passes' products against the reference, on the benchmark
 * nets' shapes at small batches, each side of the rule's thresholds, at
 * one BLAS thread and (where the count can be set) two, where products of
 * a few rows leave the BLAS for the kernel: whichever way the rule sends
 * them, the product is right. */
static void training_products_match_reference_on_both_sides_of_the_rule(
    void **state)
{
    static const size_t layers[][2] = {{784, 256}, {256, 128}, {128, 10},
                                       {33, 70}};
    static const size_t batches[] = {1, 2, 3, 4, 15, 16, 31, 32, 65, 130};
    size_t l, b, threads;
    float *buf;
    (void)state;
    if (!kernel_here())
        return;
    buf = block_buffer();
    for (threads = 1; threads <= 2; threads++) {
        if (nn_set_blas_threads(threads) != NN_OK)
            break; /* a BLAS whose count libnn cannot set: one thread */
        for (l = 0; l < ARRAY_LEN(layers); l++)
            for (b = 0; b < ARRAY_LEN(batches); b++)
                check_training_products(layers[l][0], layers[l][1],
                                        batches[b], buf);
    }
    if (nn_set_blas_threads(1) != NN_OK)
        print_message("the BLAS's thread count cannot be set: one thread "
                      "only\n");
    nn__kernel_force(-1);
}

/* The largest training products run on two threads where the BLAS has
 * two (gemm.c): each product of a 530-in, 1000-out layer at 256 rows
 * (2^27 multiply-adds and more, past the 2^26 from which they split;
 * the second thread's columns end at an edge panel) gives the same bits
 * on two threads as on one, and both are right against the reference. */
static void two_threads_give_a_large_product_the_same_bits(void **state)
{
    const size_t n = 256, in = 530, out = 1000;
    float *X, *W, *G, *one, *two, *ref, *buf;
    int pass;
    (void)state;
    if (!kernel_here())
        return;
    if (nn_set_blas_threads(2) != NN_OK) {
        print_message("the BLAS's thread count cannot be set: no second "
                      "thread to compare\n");
        skip();
    }
    if (!nn__kernel_train(0, 0, n, out, in)) {
        print_message("the kernel's rule gives these products to the BLAS "
                      "on this CPU (its AVX2 build)\n");
        skip();
    }
    X = fresh(n * in);
    W = fresh(in * out);
    G = fresh(n * out);
    one = room(in * out);
    two = room(in * out);
    ref = room(in * out);
    /* room for both threads' blocks of B, counted for each product */
    assert_true(nn__kernel_buf_floats(n, in, out) > NN__KERNEL_BUF_FLOATS);
    assert_true(nn__kernel_buf_floats(n, out, in) > NN__KERNEL_BUF_FLOATS);
    assert_true(nn__kernel_buf_floats(in, n, out) > NN__KERNEL_BUF_FLOATS);
    buf = room(2 * NN__KERNEL_BUF_FLOATS);
    for (pass = 0; pass < 3; pass++) {
        size_t len = pass == 1 ? n * in : pass == 0 ? n * out : in * out;
        int t;
        for (t = 1; t <= 2; t++) {
            float *dst = t == 1 ? one : two;
            assert_int_equal(nn_set_blas_threads((size_t)t), NN_OK);
            if (pass == 0) /* forward */
                nn__gemm_train(0, 0, n, out, in, 1.0f, X, in, W, out, 0.0f,
                               dst, out, buf);
            else if (pass == 1) /* backward */
                nn__gemm_train(0, 1, n, in, out, 1.0f, G, out, W, out, 0.0f,
                               dst, in, buf);
            else { /* the folded update of W */
                memcpy(dst, W, in * out * sizeof *W);
                nn__gemm_train(1, 0, in, out, n, -0.01f, X, in, G, out,
                               0.999f, dst, out, buf);
            }
        }
        assert_memory_equal(one, two, len * sizeof *one);
        if (pass == 0) {
            nn__gemm_ref(0, 0, n, out, in, 1.0f, X, in, W, out, 0.0f, ref,
                         out);
            assert_close_scaled(one, ref, len, in);
        } else if (pass == 1) {
            nn__gemm_ref(0, 1, n, in, out, 1.0f, G, out, W, out, 0.0f, ref,
                         in);
            assert_close_scaled(one, ref, len, out);
        } else {
            memcpy(ref, W, in * out * sizeof *W);
            nn__gemm_ref(1, 0, in, out, n, -0.01f, X, in, G, out, 0.999f,
                         ref, out);
            assert_close_scaled(one, ref, len, n);
        }
    }
    assert_int_equal(nn_set_blas_threads(1), NN_OK);
    free(X);
    free(W);
    free(G);
    free(one);
    free(two);
    free(ref);
    free(buf);
}

/* Packing Bᵀ equals packing the transpose written out. */
static void transposed_packing_equals_packing_the_transpose(void **state)
{
    static const size_t shapes[][2] = {{1, 1}, {7, 9}, {8, 48}, {300, 97},
                                       {129, 530}};
    size_t s;
    (void)state;
    if (!kernel_here())
        return;
    for (s = 0; s < ARRAY_LEN(shapes); s++) {
        const size_t K = shapes[s][0], N = shapes[s][1];
        size_t count = nn__kernel_packed_floats(K, N), p, j;
        float *B = fresh(K * N), *BT = room(K * N);
        float *P1 = room(count), *P2 = room(count);
        for (p = 0; p < K; p++)
            for (j = 0; j < N; j++)
                BT[j * K + p] = B[p * N + j];
        nn__kernel_pack(0, K, N, B, N, P1);
        nn__kernel_pack(1, K, N, BT, K, P2);
        assert_memory_equal(P1, P2, count * sizeof *P1);
        free(B);
        free(BT);
        free(P1);
        free(P2);
    }
    nn__kernel_force(-1);
}

/* The fused activations are activation.c's, bit for bit, NaN included;
 * beta 0 ignores C as BLAS does, even NaN in it. */
static void fused_activations_are_activation_c_bit_for_bit(void **state)
{
    const size_t M = 11, N = 37, K = 50;
    float *A, *B, *bias, *Z, *Y, *F;
    int a;
    (void)state;
    if (!kernel_here())
        return;
    A = fresh(M * K);
    B = fresh(K * N);
    bias = fresh(N);
    Z = room(M * N);
    Y = room(M * N);
    F = room(M * N);
    A[3 * K + 5] = NAN; /* row 3 is NaN before its activation */
    for (a = 0; a < 2; a++) {
        int act = a ? NN_ACT_LEAKY_RELU : NN_ACT_RELU;
        size_t i;
        for (i = 0; i < M * N; i++)
            Z[i] = F[i] = NAN;
        nn__kernel_gemm(0, 0, M, N, K, 1.0f, A, K, B, N, NN__B_IN_PLACE,
                        NULL, 0.0f, Z, N, bias, NN_ACT_IDENTITY, 0.0f);
        nn__activation_forward(act, 0.3f, Z, Y, M, N);
        nn__kernel_gemm(0, 0, M, N, K, 1.0f, A, K, B, N, NN__B_IN_PLACE,
                        NULL, 0.0f, F, N, bias, act, 0.3f);
        assert_memory_equal(F, Y, M * N * sizeof *F);
        assert_true(isnan(Z[3 * N]));
        /* relu(NaN) is +0, leaky relu's slope NaN is NaN */
        if (act == NN_ACT_RELU)
            assert_true(F[3 * N] == 0.0f && !signbit(F[3 * N]));
        else
            assert_true(isnan(F[3 * N]));
    }
    nn__kernel_force(-1);
    free(A);
    free(B);
    free(bias);
    free(Z);
    free(Y);
    free(F);
}

/* The dense layer's bias pass done by hand on the product Z (M x N): Y =
 * relu(Z + bias), and the largest bits among Y's values (all at least +0)
 * found by a scan. */
static uint32_t relu_by_hand(const float *Z, const float *bias, size_t M,
                             size_t N, float *Y)
{
    uint32_t top = 0, u;
    size_t i, j;
    for (i = 0; i < M; i++)
        for (j = 0; j < N; j++) {
            const float t = Z[i * N + j] + bias[j];
            Y[i * N + j] = t > 0.0f ? t : 0.0f;
            memcpy(&u, Y + i * N + j, sizeof u);
            top = u > top ? u : top;
        }
    return top;
}

/* One shape: A with a NaN in row 0 (relu gives +0 there; with more rows
 * than one), and the largest
 * output in the last column (where 0: an edge panel's, or the second
 * thread's) or the last row (where 1: the last strip's). Every form of B
 * through nn__kernel_gemm_top, then nn__gemm_train_relu at one thread and
 * at two (big: only that, at two threads). */
static void check_relu_top(size_t M, size_t N, size_t K, int where, int big)
{
    float *A = fresh(M * K), *B = fresh(K * N), *bias = fresh(N);
    float *Z = room(M * N), *Y = room(M * N), *F = room(M * N);
    float *P = room(nn__kernel_packed_floats(K, N));
    float *buf = room(2 * NN__KERNEL_BUF_FLOATS);
    static const int forms[] = {NN__B_IN_PLACE, NN__B_PACK_BLOCKS,
                                NN__B_PACKED};
    size_t f, p;
    int t;
    if (M > 1)
        A[1] = NAN;
    if (where == 0)
        bias[N - 1] = 40.0f;
    else
        for (p = 0; p < K; p++)
            A[(M - 1) * K + p] *= 40.0f;
    nn__kernel_pack(0, K, N, B, N, P);
    for (f = 0; f < (big ? 0 : ARRAY_LEN(forms)); f++) {
        const float *b = forms[f] == NN__B_PACKED ? P : B;
        uint32_t want, top = 1;
        nn__kernel_gemm(0, 0, M, N, K, 1.0f, A, K, b, N, forms[f],
                        block_buffer(), 0.0f, Z, N, NULL, NN_ACT_IDENTITY,
                        0.0f);
        want = relu_by_hand(Z, bias, M, N, Y);
        assert_true(want > 0x42000000u); /* above 32: the planted one */
        nn__kernel_gemm_top(0, 0, M, N, K, 1.0f, A, K, b, N, forms[f],
                            block_buffer(), 0.0f, F, N, bias, NN_ACT_RELU,
                            0.0f, &top);
        assert_memory_equal(F, Y, M * N * sizeof *F);
        assert_int_equal(top, want);
        top = 0x7f000000u; /* raised, never lowered */
        nn__kernel_gemm_top(0, 0, M, N, K, 1.0f, A, K, b, N, forms[f],
                            block_buffer(), 0.0f, F, N, bias, NN_ACT_RELU,
                            0.0f, &top);
        assert_int_equal(top, 0x7f000000u);
    }
    for (t = big ? 2 : 1; t <= 2; t++) {
        uint32_t want, top = 0;
        int took;
        if (nn_set_blas_threads((size_t)t) != NN_OK)
            continue;
        nn__gemm_train(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, Z, N, buf);
        want = relu_by_hand(Z, bias, M, N, Y);
        took = nn__gemm_train_relu(M, N, K, A, K, B, N, F, N, buf, bias,
                                   &top);
        assert_int_equal(took, nn__kernel_train(0, 0, M, N, K));
        if (took) {
            assert_memory_equal(F, Y, M * N * sizeof *F);
            assert_int_equal(top, want);
        } else { /* the product only, for the caller's pass */
            assert_memory_equal(F, Z, M * N * sizeof *F);
            assert_int_equal(top, 0);
        }
    }
    assert_int_equal(nn_set_blas_threads(1), NN_OK);
    free(A);
    free(B);
    free(bias);
    free(Z);
    free(Y);
    free(F);
    free(P);
    free(buf);
}

/* A relu layer's forward product adds the bias, takes the relu and notes
 * the largest output in its last pass over C (nn__kernel_gemm_top,
 * nn__gemm_train_relu): the same bits as the product and then the dense
 * layer's bias pass, and the largest output's bits as a scan finds them,
 * wherever it lies: few rows, whole and edge panels, the last strip, more
 * than one block of k, the second thread's columns; in each build the CPU
 * has. */
static void relu_product_notes_its_largest_output(void **state)
{
    static const size_t shapes[][3] = {
        {1, 300, 50},    {2, 37, 10},    {3, 1000, 20},  {11, 37, 50},
        {13, 10, 784},   {128, 256, 784}, {100, 530, 300}, {200, 13, 300}};
    int build, where;
    size_t s;
    (void)state;
    if (!kernel_here())
        return;
    for (build = 0; build < 2; build++) {
        if (build && (nn__kernel_isa() != NN__KERNEL_AVX512 ||
                      !nn__kernel_force(NN__KERNEL_AVX2)))
            break; /* the AVX2 build ran already, or cannot */
        for (s = 0; s < ARRAY_LEN(shapes); s++)
            for (where = 0; where < 2; where++)
                check_relu_top(shapes[s][0], shapes[s][1], shapes[s][2],
                               where, 0);
    }
    nn__kernel_force(1);
    if (nn__kernel_train(0, 0, 256, 1000, 530)) /* two threads' parts */
        for (where = 0; where < 2; where++)
            check_relu_top(256, 1000, 530, where, 1);
    nn__kernel_force(-1);
}

/* Aᵀ B with a relu, where B has 12 columns or fewer (narrow() in
 * gemm_kernel.h, 32 rows of C a call in the AVX-512 build, the rest in
 * tiles): the product, then the bias and the relu by hand, bit for bit,
 * and the largest output's bits noted, planted in the last column (the
 * bias) or in the last column of one of the first 32 rows (lanes 0,
 * 15, 16 and 31 of the two vectors narrow() keeps for a column), over
 * one block of k or two; every form of B. */
static void narrow_relu_product_notes_its_largest_output(void **state)
{
    static const size_t shapes[][3] = {
        {37, 10, 300}, {64, 1, 20}, {32, 12, 7}, {70, 5, 256}};
    static const size_t planted[] = {0, 15, 16, 31};
    static const int forms[] = {NN__B_IN_PLACE, NN__B_PACK_BLOCKS,
                                NN__B_PACKED};
    size_t s, w, f, p;
    (void)state;
    if (!kernel_here())
        return;
    for (s = 0; s < ARRAY_LEN(shapes); s++)
        for (w = 0; w <= ARRAY_LEN(planted); w++) {
            const size_t M = shapes[s][0], N = shapes[s][1];
            const size_t K = shapes[s][2];
            /* A is K x M: op(A) = Aᵀ, row i of it column i of A */
            float *A = fresh(K * M), *B = fresh(K * N), *bias = fresh(N);
            float *Z = room(M * N), *Y = room(M * N), *F = room(M * N);
            float *P = room(nn__kernel_packed_floats(K, N));
            if (w == ARRAY_LEN(planted))
                bias[N - 1] = 40.0f;
            else
                for (p = 0; p < K; p++) /* +40 |b| in its last column */
                    A[p * M + planted[w]] =
                        B[p * N + N - 1] > 0.0f ? 40.0f : -40.0f;
            nn__kernel_pack(0, K, N, B, N, P);
            for (f = 0; f < ARRAY_LEN(forms); f++) {
                const float *b = forms[f] == NN__B_PACKED ? P : B;
                uint32_t want, top = 1;
                nn__kernel_gemm(1, 0, M, N, K, 1.0f, A, M, b, N, forms[f],
                                block_buffer(), 0.0f, Z, N, NULL,
                                NN_ACT_IDENTITY, 0.0f);
                want = relu_by_hand(Z, bias, M, N, Y);
                assert_true(want > 0x42000000u); /* above 32 */
                nn__kernel_gemm_top(1, 0, M, N, K, 1.0f, A, M, b, N,
                                    forms[f], block_buffer(), 0.0f, F, N,
                                    bias, NN_ACT_RELU, 0.0f, &top);
                assert_memory_equal(F, Y, M * N * sizeof *F);
                assert_int_equal(top, want);
            }
            free(A);
            free(B);
            free(bias);
            free(Z);
            free(Y);
            free(F);
            free(P);
        }
    nn__kernel_force(-1);
}

/* nn__kernel_on follows the CPU, nn__kernel_force, and NN_GEMM=blas or
 * avx2 in the environment. */
static void the_environment_can_switch_the_kernel_off(void **state)
{
    int avx512 = 0, avx2 = 0, cpu;
    (void)state;
    /* from a clean environment, whatever the run was started with */
    assert_int_equal(unsetenv("NN_GEMM"), 0);
#if NN__HAVE_KERNEL
    __builtin_cpu_init();
    avx512 = __builtin_cpu_supports("avx512f") != 0;
    avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    cpu = avx512 || avx2;
    assert_int_equal(nn__kernel_force(-1), cpu);
    assert_int_equal(nn__kernel_on(), cpu);
    assert_int_equal(nn__kernel_isa(), avx512 ? NN__KERNEL_AVX512
                                       : avx2 ? NN__KERNEL_AVX2
                                              : NN__KERNEL_NONE);
    assert_int_equal(nn__kernel_force(0), 0);
    assert_int_equal(nn__kernel_on(), 0);
    assert_int_equal(nn__kernel_isa(), NN__KERNEL_NONE);
    assert_int_equal(nn__kernel_force(NN__KERNEL_AVX2), avx2);
    assert_int_equal(nn__kernel_isa(),
                     avx2 ? NN__KERNEL_AVX2 : NN__KERNEL_NONE);
    assert_int_equal(setenv("NN_GEMM", "blas", 1), 0);
    assert_int_equal(nn__kernel_force(-1), 0);
    assert_int_equal(nn__kernel_infer(256, 256, 784), 0);
    assert_int_equal(setenv("NN_GEMM", "avx2", 1), 0);
    assert_int_equal(nn__kernel_force(-1), avx2);
    assert_int_equal(nn__kernel_isa(),
                     avx2 ? NN__KERNEL_AVX2 : NN__KERNEL_NONE);
    assert_int_equal(setenv("NN_GEMM", "other", 1), 0);
    assert_int_equal(nn__kernel_force(-1), cpu);
    assert_int_equal(unsetenv("NN_GEMM"), 0);
    assert_int_equal(nn__kernel_force(-1), cpu);
    assert_int_equal(nn__kernel_infer(256, 256, 784), cpu);
    /* the rules, as gemm.c writes them down: first at one BLAS thread
     * (a BLAS whose count libnn cannot set counts as one) */
    if (nn_set_blas_threads(1) != NN_OK)
        print_message("the BLAS's thread count cannot be set\n");
    assert_int_equal(nn__kernel_infer(1, 2, 2), 0);
    assert_int_equal(nn__kernel_infer(2, 2, 2), cpu);
    if (!avx512) { /* the AVX2 build's training rule, or no kernel */
        assert_int_equal(nn__kernel_train(0, 0, 1, 10, 128), cpu);
        assert_int_equal(nn__kernel_train(0, 0, 256, 10, 1024), cpu);
        assert_int_equal(nn__kernel_train(0, 0, 256, 17, 1024), 0);
        assert_int_equal(nn__kernel_train(0, 0, 32, 1024, 784), 0);
        assert_int_equal(nn__kernel_train(0, 1, 15, 128, 10), 0);
        assert_int_equal(nn__kernel_train(0, 1, 16, 128, 10), cpu);
        /* batches of 2 and 3 rows */
        assert_int_equal(nn__kernel_train(0, 0, 1, 1024, 784), 0);
        assert_int_equal(nn__kernel_train(0, 0, 2, 1024, 784), cpu);
        assert_int_equal(nn__kernel_train(0, 0, 3, 256, 784), cpu);
        assert_int_equal(nn__kernel_train(0, 0, 4, 1024, 784), 0);
        assert_int_equal(nn__kernel_train(0, 1, 2, 256, 128), 0);
        assert_int_equal(nn__kernel_train(0, 1, 3, 256, 128), cpu);
        assert_int_equal(nn__kernel_train(0, 1, 4, 128, 10), 0);
        assert_int_equal(nn__kernel_train(0, 1, 1, 128, 10), cpu);
        assert_int_equal(nn__kernel_train(1, 0, 784, 256, 3), 0);
        assert_int_equal(nn__kernel_train(0, 1, 256, 1024, 17), 0);
        assert_int_equal(nn__kernel_train(1, 0, 128, 10, 127), 0);
        assert_int_equal(nn__kernel_train(1, 0, 128, 10, 128), cpu);
        assert_int_equal(nn__kernel_train(1, 0, 784, 256, 256), 0);
        assert_int_equal(nn__kernel_train(0, 0, 0, 10, 10), 0);
        (void)nn__kernel_force(-1);
        return;
    }
    assert_int_equal(nn__kernel_train(0, 0, 1, 1024, 1024), cpu);
    assert_int_equal(nn__kernel_train(0, 1, 3, 1024, 1024), 0);
    assert_int_equal(nn__kernel_train(0, 1, 4, 1024, 1024), cpu);
    assert_int_equal(nn__kernel_train(1, 0, 784, 256, 3), 0);
    assert_int_equal(nn__kernel_train(1, 0, 512, 171, 3), 0);
    assert_int_equal(nn__kernel_train(1, 0, 784, 256, 4), cpu);
    assert_int_equal(nn__kernel_train(1, 0, 128, 10, 4), 0);
    assert_int_equal(nn__kernel_train(1, 0, 128, 10, 31), 0);
    assert_int_equal(nn__kernel_train(1, 0, 128, 10, 32), cpu);
    assert_int_equal(nn__kernel_train(0, 0, 0, 10, 10), 0);
    /* two threads' blocks of B from 2^26 multiply-adds and 96 columns */
    assert_true(nn__kernel_buf_floats(64, 1024, 1024) >
                NN__KERNEL_BUF_FLOATS);
    assert_true(nn__kernel_buf_floats(63, 1024, 1024) <=
                NN__KERNEL_BUF_FLOATS);
    assert_true(nn__kernel_buf_floats(1 << 20, 1024, 95) <=
                NN__KERNEL_BUF_FLOATS);
    /* with two BLAS threads the kernel keeps the largest training products
     * (and runs them on two threads); with more, they go to the BLAS's. A
     * BLAS whose count libnn cannot set keeps one thread and the kernel.
     * With two or more, the products of a few rows that the BLAS would
     * run on its threads (above 2^18 multiply-adds) stay in the kernel,
     * but not those of the direct loops (one or two rows, or a sum of one
     * or two terms with B's rows contiguous) */
    if (nn_set_blas_threads(2) == NN_OK) {
        assert_int_equal(nn__kernel_train(0, 0, 256, 1024, 1024), cpu);
        assert_int_equal(nn__kernel_train(1, 0, 1024, 1024, 256), cpu);
        assert_int_equal(nn__kernel_train(0, 1, 256, 1024, 1024), cpu);
        assert_int_equal(nn__kernel_train(1, 0, 784, 256, 3), cpu);
        assert_int_equal(nn__kernel_train(1, 0, 784, 256, 2), 0);
        assert_int_equal(nn__kernel_train(1, 0, 1024, 1024, 1), 0);
        assert_int_equal(nn__kernel_train(1, 0, 512, 170, 3), 0);
        assert_int_equal(nn__kernel_train(1, 0, 512, 171, 3), cpu);
        assert_int_equal(nn__kernel_train(0, 1, 3, 1024, 1024), cpu);
        assert_int_equal(nn__kernel_train(0, 1, 2, 1024, 1024), 0);
        assert_int_equal(nn_set_blas_threads(3), NN_OK);
        assert_int_equal(nn__kernel_train(0, 0, 256, 1024, 1024), 0);
        assert_int_equal(nn__kernel_train(1, 0, 1024, 1024, 256), 0);
        assert_int_equal(nn__kernel_train(0, 1, 256, 1024, 1024), 0);
        assert_int_equal(nn__kernel_train(0, 0, 128, 1024, 1023), cpu);
        assert_int_equal(nn__kernel_train(1, 0, 784, 256, 3), cpu);
        assert_int_equal(nn__kernel_infer(256, 1024, 1024), cpu);
        assert_int_equal(nn_set_blas_threads(1), NN_OK);
    }
    assert_int_equal(nn__kernel_train(0, 0, 256, 1024, 1024), cpu);
    assert_int_equal(nn__kernel_train(1, 0, 1024, 1024, 256), cpu);
    /* NN_GEMM=avx2 on this CPU: the AVX2 build's rule */
    assert_int_equal(nn__kernel_force(NN__KERNEL_AVX2), 1);
    assert_int_equal(nn__kernel_train(0, 0, 256, 1024, 1024), 0);
    assert_int_equal(nn__kernel_train(0, 0, 256, 10, 1024), 1);
    (void)nn__kernel_force(-1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_environment_can_switch_the_kernel_off),
        cmocka_unit_test(kernel_matches_reference_at_every_edge),
        cmocka_unit_test(kernel_matches_reference_on_large_shapes),
        cmocka_unit_test(kernel_matches_reference_on_random_shapes),
        cmocka_unit_test(packed_in_place_and_row_by_row_give_the_same_bits),
        cmocka_unit_test(both_builds_give_the_same_bits),
        cmocka_unit_test(transposed_packing_equals_packing_the_transpose),
        cmocka_unit_test(
            training_products_match_reference_on_both_sides_of_the_rule),
        cmocka_unit_test(fused_activations_are_activation_c_bit_for_bit),
        cmocka_unit_test(relu_product_notes_its_largest_output),
        cmocka_unit_test(narrow_relu_product_notes_its_largest_output),
        cmocka_unit_test(two_threads_give_a_large_product_the_same_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
