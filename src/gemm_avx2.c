/* SPDX-License-Identifier: MIT */
/*
 * gemm_avx2.c - the AVX2 and FMA build of libnn's own matrix product
 * (gemm_kernel.h; gemm_avx512.c says what it does, and runs this build on
 * a CPU with AVX2 and FMA but not AVX-512F).
 *
 * AVX2 has 16 vector registers of 8 floats: a tile of C is 6 rows by 16
 * columns (12 accumulators, two vectors of B and a broadcast of A), one
 * broadcast and two fused multiply-adds per row and step of k. The rows
 * of op(A) a tile reads (6 x 256 floats, 6 KiB) stay in a 32 KiB L1
 * while the panels of B (256 x 16 floats, 16 KiB each) stream from L2 in
 * blocks of 256 columns, 256 KiB: half of Zen 3's L2 per core. Blocks of
 * KC = 256 rows of k, as in the AVX-512 build, so each element of C is the
 * same chain of multiply-adds and the two builds give the same bits.
 */
#include "nn_internal.h"

#if NN__HAVE_KERNEL

#include <assert.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VL 8       /* floats per vector */
#define MR 6       /* rows of a tile */
#define NV 2       /* vectors in a full panel: NR = 16 columns */
#define NC (16 * 16) /* columns per block: KC x NC floats, 256 KiB */
/* No prefetch of B's panel ahead of the tile (PF_K, gemm_avx512.c): this
 * build with 8 steps ahead ran as fast as without it on an Intel Xeon
 * (training steps 1.005, predictions 1.001 of the time), and the AMD CPUs
 * it is for were not measured. */
#define PF_K 0
#define PF_ON(form, K, N) 0
#define FEW_W1 12
#define FEW_W2 6
#define FEW_W3 4
#define NARROW_N 0 /* no narrow products: 6 x 16 tiles */
#define K_FN __attribute__((target("avx2,fma")))
#define K_INLINE \
    static inline __attribute__((always_inline, target("avx2,fma")))
#define KENTRY(name) nn__k256_##name
#define VEC __m256
#define VMASK __m256i
#define V_ZERO() _mm256_setzero_ps()
#define V_SET1(x) _mm256_set1_ps(x)
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_STORE(p, v) _mm256_storeu_ps(p, v)
#define V_LOADM(m, p) _mm256_maskload_ps(p, m)
#define V_STOREM(p, m, v) _mm256_maskstore_ps(p, m, v)
#define V_FMADD(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_ADD(a, b) _mm256_add_ps(a, b)
#define V_MUL(a, b) _mm256_mul_ps(a, b)
#define V_FULL _mm256_set1_epi32(-1)
#define V_POS(r) _mm256_cmp_ps(r, _mm256_setzero_ps(), _CMP_GT_OQ)
#define V_RELU(r) _mm256_and_ps(V_POS(r), r)
#define V_LEAKY(r, s) _mm256_blendv_ps(_mm256_mul_ps(s, r), r, V_POS(r))
#define VECI __m256i
#define VI_ZERO() _mm256_setzero_si256()
#define VI_MAXU(i, v) _mm256_max_epu32(i, _mm256_castps_si256(v))
#define VI_MAX_OF(i) max_of(i)

K_INLINE uint32_t max_of(__m256i i)
{
    __m128i m = _mm_max_epu32(_mm256_castsi256_si128(i),
                              _mm256_extracti128_si256(i, 1));
    m = _mm_max_epu32(m, _mm_shuffle_epi32(m, 0x4e));
    m = _mm_max_epu32(m, _mm_shuffle_epi32(m, 0xb1));
    return (uint32_t)_mm_cvtsi128_si32(m);
}

/* Lanes of the last vector of a panel w columns wide that hold columns:
 * all-ones in those, zero past them. */
K_INLINE __m256i edge_mask(size_t w)
{
    static const int32_t lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                      0,  0,  0,  0,  0,  0,  0,  0};
    return _mm256_loadu_si256((const __m256i *)(const void *)(lanes + 8 -
                                                              (w % 8 ? w % 8
                                                                     : 8)));
}

#include "gemm_kernel.h"

#endif
