/* SPDX-License-Identifier: MIT */
/*
 * gemm_avx512.c - libnn's own single-precision matrix product for CPUs with
 * AVX-512 or AVX2 and FMA, C = alpha op(A) B + beta C, with the bias and a
 * relu of a dense layer's forward pass fused into its last pass over C
 * (in training, with the largest output noted: nn__kernel_gemm_top).
 * The body is gemm_kernel.h, compiled here for AVX-512 and in gemm_avx2.c
 * for AVX2; this file also makes the choice between them.
 *
 * Why: OpenBLAS's core type is fixed for the process when it loads
 * (OPENBLAS_CORETYPE; Debian machines often pin Haswell), so on a CPU with
 * full-rate AVX-512 it may run AVX2 kernels at half the machine's peak.
 * This file is compiled for the baseline like the rest of the library;
 * only its functions carry target("avx512f"), and nn__kernel_on decides
 * once, from the CPU, whether they may run (gemm.c says for which shapes
 * they do). A CPU with AVX2 and FMA but not AVX-512F runs the AVX2 build
 * (gemm_avx2.c), which gives the same bits (gemm_kernel.h). There
 * OpenBLAS runs the CPU's own AVX2 kernels, so the AVX2 build takes fewer
 * shapes (gemm.c): on AMD EPYC Zen 3 it wins where its packed weights and
 * fused bias help (inference) and on narrow layers, not on training's
 * wide products (bench/RESULTS.md).
 *
 * The layout follows BLIS (the figures below are AVX-512's; AVX2's are in
 * gemm_avx2.c). B (K x N) is read in panels of NR = 48 columns
 * (at the right edge what is left, and two of 32 where 64 are left:
 * panel_width), each either packed (kc rows of the panel's width,
 * contiguous, zero-padded; nn__kernel_pack, done once for inference
 * weights, lays out each block of B below as the block's panels side by
 * side, so that a block is one run of memory as it is when the block is
 * packed for one call) or read in place with masked loads at
 * the right edge. For each block of KC = 256 rows of B and NC = 480
 * columns, each MR = 8 row strip of op(A) stays in L1 while the panels of
 * the block (KC x NC, 480 KiB) stream from L2: read in place where op(A)
 * is A (eight rows of kc floats), copied into an 8 x KC micro-panel
 * (p-major, so one cache line serves two steps of k) where it is Aᵀ;
 * the micro-kernel keeps an 8 x 48 tile of C in 24 registers and runs one
 * broadcast and three fused multiply-adds per row and step of k, and
 * prefetches into L1 the panel's row PF_K steps of k ahead. Aᵀ B with B
 * at most NARROW_N = 12 columns wide (an output layer's weight gradient)
 * takes 32 rows of C at a time instead (gemm_kernel.h, narrow()).
 *
 * Every element of C is the same sum in the same order whichever way B is
 * stored and however M is cut into strips: for each block of KC in turn, a
 * chain of fused multiply-adds from zero over its k, then added to C (or,
 * for the first block, scaled: alpha acc + beta C); the bias, then the
 * activation, after the last block. So a packed and an unpacked call give
 * the same bits, and a row's result does not depend on the other rows of
 * the batch. The result differs from BLAS's by float rounding only.
 */
#include "nn_internal.h"

#if NN__HAVE_KERNEL

#include <assert.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

/* ---- the choice, once per process ---- */

/* 0: not decided yet; else 1 + an NN__KERNEL_* value. Written with
 * relaxed atomics: every thread that decides decides alike. */
static int nn__kernel_state;

static int cpu_has(int isa)
{
    __builtin_cpu_init();
    if (isa == NN__KERNEL_AVX512)
        return __builtin_cpu_supports("avx512f");
    return isa == NN__KERNEL_AVX2 && __builtin_cpu_supports("avx2") &&
           __builtin_cpu_supports("fma");
}

/* The order of preference, once: AVX-512 where allowed and present, else
 * AVX2 with FMA, else none. */
static int best_build(int avx512_allowed)
{
    if (avx512_allowed && cpu_has(NN__KERNEL_AVX512))
        return NN__KERNEL_AVX512;
    return cpu_has(NN__KERNEL_AVX2) ? NN__KERNEL_AVX2 : NN__KERNEL_NONE;
}

static int decide(void)
{
    const char *env = getenv("NN_GEMM");
    if (env && strcmp(env, "blas") == 0)
        return NN__KERNEL_NONE;
    return best_build(!(env && strcmp(env, "avx2") == 0));
}

int nn__kernel_isa(void)
{
    int s = __atomic_load_n(&nn__kernel_state, __ATOMIC_RELAXED);
    if (s == 0) {
        s = 1 + decide();
        __atomic_store_n(&nn__kernel_state, s, __ATOMIC_RELAXED);
    }
    return s - 1;
}

int nn__kernel_on(void)
{
    return nn__kernel_isa() != NN__KERNEL_NONE;
}

int nn__kernel_force(int on)
{
    int s;
    if (on < 0)
        s = decide();
    else if (on == 0)
        s = NN__KERNEL_NONE;
    else
        s = best_build(on != NN__KERNEL_AVX2);
    __atomic_store_n(&nn__kernel_state, 1 + s, __ATOMIC_RELAXED);
    return s != NN__KERNEL_NONE;
}

size_t nn__kernel_packed_floats(size_t K, size_t N)
{
    return nn__kernel_isa() == NN__KERNEL_AVX2 ? nn__k256_packed_floats(K, N)
                                               : nn__k512_packed_floats(K, N);
}

void nn__kernel_pack(int trans_b, size_t K, size_t N, const float *B,
                     size_t ldb, float *dst)
{
    if (nn__kernel_isa() == NN__KERNEL_AVX2)
        nn__k256_pack(trans_b, K, N, B, ldb, dst);
    else
        nn__k512_pack(trans_b, K, N, B, ldb, dst);
}

void nn__kernel_gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                     float alpha, const float *A, size_t lda, const float *B,
                     size_t ldb, int b_form, float *buf, float beta, float *C,
                     size_t ldc, const float *bias, int act, float slope)
{
    if (nn__kernel_isa() == NN__KERNEL_AVX2)
        nn__k256_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
                      b_form, buf, beta, C, ldc, bias, act, slope);
    else
        nn__k512_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
                      b_form, buf, beta, C, ldc, bias, act, slope);
}

void nn__kernel_gemm_top(int trans_a, int trans_b, size_t M, size_t N,
                         size_t K, float alpha, const float *A, size_t lda,
                         const float *B, size_t ldb, int b_form, float *buf,
                         float beta, float *C, size_t ldc, const float *bias,
                         int act, float slope, uint32_t *top)
{
    if (nn__kernel_isa() == NN__KERNEL_AVX2)
        nn__k256_gemm_top(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
                          b_form, buf, beta, C, ldc, bias, act, slope, top);
    else
        nn__k512_gemm_top(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
                          b_form, buf, beta, C, ldc, bias, act, slope, top);
}

/* ---- the AVX-512 build of gemm_kernel.h ---- */

#define VL 16      /* floats per vector */
#define MR 8       /* rows of a tile */
#define NV 3       /* vectors in a full panel: NR = 48 columns */
#define NC (10 * 48) /* columns per block: KC x NC floats, 480 KiB */
/* On Intel CPUs a tile prefetches its panel's row 8 steps of k ahead
 * (8 x 192 bytes of a packed panel). On an Intel Xeon with AMX (48 KiB
 * L1d, 2 MiB L2), against none, medians of 15-21 pairs of blocks
 * (bench/kernel_ab.sh; bench/results/xeon-amx/kernel-prefetch.txt):
 * training steps of 784-256-128-10 at batch 128 0.962 of the time, at 32
 * 0.995, 784-1024-1024-10 at batch 256 0.968; predictions 0.955-0.982, of
 * 784-1024-1024-10 at batch 32 0.956 (its packed weights stream from
 * beyond L2); 16 steps ahead about the same, 32 slower than 16
 * (1.02-1.06). On AMD's CPUs the tiles prefetch only from packed weights
 * larger than L2 (prefetch_on). Without the prefetch an EPYC Zen 4 (32 KiB
 * L1d, 1 MiB L2) took 0.98-1.02 of the time (bench/results/zen4/
 * kernel-prefetch.txt); an EPYC Zen 5 (48 KiB L1d, 1 MiB L2), against
 * 2173cb5 in two or three runs of 15-21 pairs (bench/results/
 * zen5-prefetch/), 0.92-0.93 in training steps of 784-1024-1024-10 at
 * batch 32 and 1.00 at 256, 0.97-1.00 for 784-256-128-10 at batch 1 to
 * 512, 0.96-1.01 in its predictions; 784-1024-1024-10's predictions
 * 1.00-1.04 without it and 0.995-1.02 with it from packed weights over
 * 1 MiB (41 pairs in either order: 1.00 at batch 32, 0.995-1.009 at
 * 256). A flag in the tile's arguments and two copies of its loop, not
 * a second set of tiles: that doubled this file's code (f7611fa). */
#define PF_K 8
#define PF_ON(form, K, N) prefetch_on(form, K, N)
#define FEW_W1 16
#define FEW_W2 8
#define FEW_W3 5
#define K_FN __attribute__((target("avx512f")))
#define K_INLINE \
    static inline __attribute__((always_inline, target("avx512f")))
#define KENTRY(name) nn__k512_##name
#define VEC __m512
#define VMASK __mmask16
#define V_ZERO() _mm512_setzero_ps()
#define V_SET1(x) _mm512_set1_ps(x)
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_STORE(p, v) _mm512_storeu_ps(p, v)
#define V_LOADM(m, p) _mm512_maskz_loadu_ps(m, p)
#define V_STOREM(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define V_FMADD(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_ADD(a, b) _mm512_add_ps(a, b)
#define V_MUL(a, b) _mm512_mul_ps(a, b)
#define V_FULL ((__mmask16)0xffffu)
#define V_POS(r) _mm512_cmp_ps_mask(r, _mm512_setzero_ps(), _CMP_GT_OQ)
#define V_RELU(r) _mm512_maskz_mov_ps(V_POS(r), r)
#define V_LEAKY(r, s) _mm512_mask_mov_ps(_mm512_mul_ps(s, r), V_POS(r), r)
#define VECI __m512i
#define VI_ZERO() _mm512_setzero_si512()
#define VI_MAXU(i, v) _mm512_max_epu32(i, _mm512_castps_si512(v))
#define VI_MAX_OF(i) _mm512_reduce_max_epu32(i)

/* Whether the tiles prefetch (PF_K) in a product whose B has the form and
 * K x N floats: on AMD's CPUs only from packed weights larger than
 * PF_AMD_FLOATS, else always. The CPU's part is decided once, like the
 * build (relaxed atomics: every thread decides alike); a prefetch changes
 * no sum, so the bits are the same either way. */
#define PF_AMD_FLOATS ((size_t)1 << 18) /* 1 MiB, Zen 4's and Zen 5's L2 */
enum { PF_UNDECIDED, PF_NEVER, PF_ALWAYS, PF_AMD };
static int nn__prefetch_state; /* PF_UNDECIDED or how the tiles prefetch */

static int prefetch_on(int form, size_t K, size_t N)
{
    int s = __atomic_load_n(&nn__prefetch_state, __ATOMIC_RELAXED);
    if (s == PF_UNDECIDED) {
        __builtin_cpu_init();
        s = __builtin_cpu_is("amd") ? PF_AMD : PF_ALWAYS;
        __atomic_store_n(&nn__prefetch_state, s, __ATOMIC_RELAXED);
    }
    if (s == PF_AMD)
        return form == NN__B_PACKED && K > PF_AMD_FLOATS / N;
    return s == PF_ALWAYS;
}

void nn__kernel_prefetch_force(int on)
{
    __atomic_store_n(&nn__prefetch_state,
                     on < 0 ? PF_UNDECIDED : on ? PF_ALWAYS : PF_NEVER,
                     __ATOMIC_RELAXED);
}

/* The narrow products (gemm_kernel.h, narrow()): Aᵀ B where B has at
 * most NARROW_N columns, 32 rows of C at a time. */
#define NARROW_N 12

/* r[c] = column c of the 16 x 16 block whose rows are r[0..15]: pairs of
 * rows interleaved, then fours, then the 128-bit lanes of four rows
 * across the groups of rows, twice. */
K_INLINE void transpose16(__m512 *r)
{
    __m512 t[16], u[16], v, w, v2, w2;
    int i, s;
    for (i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    /* u[4g + s], lane q: rows 4g..4g+3 of column 4q + s */
    for (i = 0; i < 16; i += 4) {
        u[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
        u[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (s = 0; s < 4; s++) {
        /* v: rows 0-3 of columns s and 8 + s, rows 4-7 of the same; w:
         * of columns 4 + s and 12 + s; v2 and w2 the same of rows 8-15 */
        v = _mm512_shuffle_f32x4(u[s], u[4 + s], 0x88);
        w = _mm512_shuffle_f32x4(u[s], u[4 + s], 0xdd);
        v2 = _mm512_shuffle_f32x4(u[8 + s], u[12 + s], 0x88);
        w2 = _mm512_shuffle_f32x4(u[8 + s], u[12 + s], 0xdd);
        r[s] = _mm512_shuffle_f32x4(v, v2, 0x88);
        r[8 + s] = _mm512_shuffle_f32x4(v, v2, 0xdd);
        r[4 + s] = _mm512_shuffle_f32x4(w, w2, 0x88);
        r[12 + s] = _mm512_shuffle_f32x4(w, w2, 0xdd);
    }
}

/* Lanes of the last vector of a panel w columns wide that hold columns. */
static __mmask16 edge_mask(size_t w)
{
    return (__mmask16)(w % 16 ? (1u << (w % 16)) - 1u : 0xffffu);
}

#include "gemm_kernel.h"

#else /* no kernel in this build */

int nn__kernel_isa(void)
{
    return NN__KERNEL_NONE;
}

int nn__kernel_on(void)
{
    return 0;
}

int nn__kernel_force(int on)
{
    (void)on;
    return 0;
}

size_t nn__kernel_packed_floats(size_t K, size_t N)
{
    (void)K;
    (void)N;
    return 0;
}

void nn__kernel_pack(int trans_b, size_t K, size_t N, const float *B,
                     size_t ldb, float *dst)
{
    (void)trans_b;
    (void)K;
    (void)N;
    (void)B;
    (void)ldb;
    (void)dst;
}

void nn__kernel_gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                     float alpha, const float *A, size_t lda, const float *B,
                     size_t ldb, int b_form, float *buf, float beta, float *C,
                     size_t ldc, const float *bias, int act, float slope)
{
    /* never called: nn__kernel_on is 0 */
    (void)trans_a;
    (void)trans_b;
    (void)M;
    (void)N;
    (void)K;
    (void)alpha;
    (void)A;
    (void)lda;
    (void)B;
    (void)ldb;
    (void)b_form;
    (void)buf;
    (void)beta;
    (void)C;
    (void)ldc;
    (void)bias;
    (void)act;
    (void)slope;
}

void nn__kernel_gemm_top(int trans_a, int trans_b, size_t M, size_t N,
                         size_t K, float alpha, const float *A, size_t lda,
                         const float *B, size_t ldb, int b_form, float *buf,
                         float beta, float *C, size_t ldc, const float *bias,
                         int act, float slope, uint32_t *top)
{
    /* never called: nn__kernel_on is 0 */
    nn__kernel_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, b_form,
                    buf, beta, C, ldc, bias, act, slope);
    (void)top;
}

#endif
