/* SPDX-License-Identifier: MIT */
/*
 * gemm_kernel.h - the body of libnn's own matrix product (gemm_avx512.c
 * says what it does and why), written once over a vector of VL floats and
 * compiled once per instruction set: gemm_avx512.c with 16-float vectors
 * and 8 x 48 tiles, gemm_avx2.c with 8-float vectors and 6 x 16 tiles.
 * Private; included only by those two files, each of which defines first:
 *
 *   VL, MR, NV        floats per vector; rows and vectors of a tile
 *                     (NR = VL NV columns)
 *   NC                columns of a block of B (a multiple of NR)
 *   PF_K              steps of k ahead a tile prefetches the rows of its
 *                     panel of B into L1 (0: it does not)
 *   PF_ON(form, K, N) 1 where the tiles take that prefetch in a product
 *                     whose B has the form and K x N floats, 0 where
 *                     they skip it (a constant where PF_K is 0)
 *   FEW_W1..FEW_W3    vectors of columns few_rows keeps per row, for 1 to
 *                     3 rows (as many accumulators as registers allow)
 *   NARROW_N          the widest B whose products Aᵀ B take narrow() (0:
 *                     none; then transpose16 need not exist)
 *   K_FN, K_INLINE    the target attribute, for functions and for
 *                     always-inline helpers
 *   KENTRY(name)      the names of the three entry points
 *   VEC, VMASK        the vector and the mask of a panel's last vector;
 *                     V_ZERO, V_SET1, V_LOAD, V_STORE, V_LOADM (masked,
 *                     zero elsewhere, no fault past the mask), V_STOREM,
 *                     V_FMADD, V_ADD, V_MUL, V_RELU (z > 0 ? z : 0, 0 for
 *                     NaN), V_LEAKY (z > 0 ? z : s z), V_FULL, and
 *                     edge_mask(w) (the lanes of the last vector of w
 *                     columns that hold columns)
 *   VECI, VI_ZERO     a vector of VL 32-bit integers, and zero;
 *                     VI_MAXU(i, v) the lanes' unsigned maxima of i and
 *                     v's bits, VI_MAX_OF(i) the largest lane of i
 *
 * Every element of C is the same chain of fused multiply-adds whatever the
 * vector width: from zero over each block of KC = 256 rows of k, in order,
 * then added to C, then the bias and the activation. So the two builds
 * give the same bits, which test_kernel checks where a CPU runs both.
 */
#define NR (VL * NV)
#define KC 256 /* rows of B per block */
_Static_assert(KC * NC <= NN__KERNEL_BUF_FLOATS, "a block of B fits buf");
_Static_assert(NC % NR == 0, "blocks of whole panels");

/* ---- packing ---- */

/* Columns in the panel at column j0 of B's N: NR, and what is left at the
 * edge; but with 48-column panels (NV = 3), where 64 columns are left
 * within one block of NC columns, two panels of 32 rather than 48 and
 * 16. A 16-column tile there runs one multiply-add per load of A, at
 * about half a full tile's rate, and a 256- or 1024-wide layer would put
 * a sixteenth or a sixty-fourth of its product there. Blocks start at
 * multiples of NC, so a function of N and j0 alone: the panels packed at
 * once (nn__kernel_pack) are the panels of the blocks. The columns' sums
 * are the same whatever the panels. */
static size_t panel_width(size_t N, size_t j0)
{
    size_t rem = N - j0;
    if (NV == 3 && rem == 64 && j0 % NC + 64 <= NC)
        return 32;
    return rem < NR ? rem : NR;
}

/* Vectors of VL in a panel of w <= NR columns. */
static int panel_vectors(size_t w)
{
    return (int)((w + VL - 1) / VL);
}

size_t KENTRY(packed_floats)(size_t K, size_t N)
{
    size_t full = N / NR, rem = N % NR, count;
    if (!nn__mul_size(full, NR, &count) ||
        !nn__add_size(count, (rem + VL - 1) / VL * VL, &count) ||
        !nn__mul_size(count, K, &count))
        return 0;
    return count;
}

/* dst rows c = 0..7 (stride ldd) = the 8 floats of column c of the 8 x 8
 * block at src (row stride lds). */
K_INLINE void transpose8(const float *src, size_t lds, float *dst,
                            size_t ldd)
{
    __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lds);
    __m256 r2 = _mm256_loadu_ps(src + 2 * lds);
    __m256 r3 = _mm256_loadu_ps(src + 3 * lds);
    __m256 r4 = _mm256_loadu_ps(src + 4 * lds);
    __m256 r5 = _mm256_loadu_ps(src + 5 * lds);
    __m256 r6 = _mm256_loadu_ps(src + 6 * lds);
    __m256 r7 = _mm256_loadu_ps(src + 7 * lds);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(dst + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
}

/* Rows of B ahead that the copy into panels prefetches. A panel's copy
 * reads a few lines of each row, ldb floats apart (4 KiB for a 1024-wide
 * layer's weights), and waited on those loads: 16 rows ahead, training
 * steps of 784-1024-1024-10 take 0.973 to 0.988 of the time (16 rows
 * against 8 0.991, 32 against 16 1.004; bench/RESULTS.md, "Since
 * 9d4cbe1"). */
#define PACK_PF 16

/* Packs rows [p0, p0 + kc) of op(B) (K x N; B is N x K with trans_b, row
 * stride ldb) for the panels of columns [j_lo, j_hi) (j_lo a multiple of
 * NR): the panel at column j goes to dst + (j - j_lo) kc, kc rows of its
 * width (a multiple of VL), the columns past N zeroed. */
K_FN static void pack_panels(int trans_b, const float *B, size_t ldb,
                             size_t p0, size_t kc, size_t j_lo, size_t j_hi,
                             size_t N, float *dst)
{
    size_t j0, p, jj;
    for (j0 = j_lo; j0 < j_hi; j0 += panel_width(N, j0)) {
        size_t w = panel_width(N, j0);
        int nv = panel_vectors(w), v;
        size_t width = (size_t)VL * (size_t)nv;
        float *panel = dst + (j0 - j_lo) * kc;
        if (!trans_b) {
            VMASK mask = edge_mask(w);
            for (p = 0; p < kc; p++) {
                const float *src = B + (p0 + p) * ldb + j0;
                float *d = panel + p * width;
                if (p + PACK_PF < kc)
                    for (v = 0; v < nv; v++)
                        _mm_prefetch((const char *)(src + PACK_PF * ldb +
                                                    VL * v),
                                     _MM_HINT_T0);
                for (v = 0; v + 1 < nv; v++)
                    V_STORE(d + VL * v, V_LOAD(src + VL * v));
                V_STORE(d + VL * v, V_LOADM(mask, src + VL * v));
            }
            continue;
        }
        /* op(B)[p][j] = B[j][p]: 8 x 8 blocks transposed, the edges one by
         * one, and the padding columns zeroed. Each block reads 32 bytes
         * of eight rows of B, ldb floats apart, and each group of eight
         * rows is read along for kc floats: streams too short for the
         * CPU's own prefetch to find. While one group is transposed, the
         * next group's lines are prefetched: training steps of
         * 784-1024-1024-10 at batch 256 (its backward products pack W
         * transposed, 4 MiB) took 0.991 to 0.998 of the time in five
         * runs, median 0.997; at batch 32 0.996; 784-256-128-10 0.998
         * and 0.999 (bench/kernel_ab.sh; bench/RESULTS.md, "Since
         * 005ec65"). */
        for (jj = 0; jj + 8 <= w; jj += 8) {
            const float *src = B + (j0 + jj) * ldb + p0;
            /* the next eight rows of B, whose lines come next */
            const int ahead = j0 + jj + 16 <= N;
            for (p = 0; p + 8 <= kc; p += 8) {
                size_t r;
                if (ahead && p % 16 == 0)
                    for (r = 8; r < 16; r++)
                        _mm_prefetch((const char *)(src + r * ldb + p),
                                     _MM_HINT_T0);
                transpose8(src + p, ldb, panel + p * width + jj, width);
            }
            for (; p < kc; p++) {
                size_t r;
                for (r = 0; r < 8; r++)
                    panel[p * width + jj + r] = src[r * ldb + p];
            }
        }
        for (p = 0; p < kc; p++) {
            size_t r;
            for (r = jj; r < w; r++)
                panel[p * width + r] = B[(j0 + r) * ldb + p0 + p];
            for (r = w; r < width; r++)
                panel[p * width + r] = 0.0f;
        }
    }
}

/* Packed columns of the block of columns at jc: its panels' widths, each
 * a multiple of VL (only the last panel of B may be narrower than its
 * vectors). */
static size_t block_width(size_t N, size_t jc)
{
    size_t nc = N - jc < NC ? N - jc : NC;
    return (nc + VL - 1) / VL * VL;
}

/* The block of rows [pc, pc + kc) and columns [jc, jc + nc) goes to dst +
 * jc K + pc block_width (the blocks of columns before it take jc K floats,
 * its blocks of rows before it pc block_width), laid out as pack_panels
 * lays out a block in buf; nn__kernel_gemm reads it there. Measured (the
 * AVX-512 build) with bench/kernel_ab.sh on 784-1024-1024-10 predictions
 * at batch 256: 0.969 of the time of panels that each ran down the whole
 * of K, whose ten pieces of a block lay 48 K floats apart. */
void KENTRY(pack)(int trans_b, size_t K, size_t N, const float *B,
                     size_t ldb, float *dst)
{
    size_t jc, pc;
    for (jc = 0; jc < N; jc += NC) {
        size_t nc = N - jc < NC ? N - jc : NC, nb = block_width(N, jc);
        for (pc = 0; pc < K; pc += KC) {
            size_t kc = K - pc < KC ? K - pc : KC;
            pack_panels(trans_b, B, ldb, pc, kc, jc, jc + nc, N,
                        dst + jc * K + pc * nb);
        }
    }
}

/* The micro-panel of op(A) for rows [0, mr) and kc steps of k: dst[p MR +
 * i] = op(A)[i][p], where op(A)[i][p] is a[i lda + p], or a[p lda + i]
 * with trans_a. Rows mr..MR-1 are left as they are (no tile reads them). */
K_INLINE void pack_a(int trans_a, const float *a, size_t lda, size_t mr,
                        size_t kc, float *dst)
{
    size_t i, p = 0;
    if (trans_a) {
        if (MR == 8 && mr == MR)
            for (p = 0; p < kc; p++)
                _mm256_storeu_ps(dst + p * MR, _mm256_loadu_ps(a + p * lda));
        else
            for (p = 0; p < kc; p++)
                for (i = 0; i < mr; i++)
                    dst[p * MR + i] = a[p * lda + i];
        return;
    }
    if (MR == 8 && mr == MR)
        for (; p + 8 <= kc; p += 8)
            transpose8(a + p, lda, dst + p * MR, MR);
    for (; p < kc; p++)
        for (i = 0; i < mr; i++)
            dst[p * MR + i] = a[i * lda + p];
}

/* The micro-panels of op(A) = Aᵀ for two whole strips, rows [0, 2 MR),
 * into dst0 and dst1 (MR == 8 only): each step of k reads its 16 floats,
 * 64 bytes, in one go. With a call of pack_a per strip, each read half
 * of those bytes, the second after the first strip's tiles had streamed
 * B's panels through L1; in a dW product A is X, whose rows lie lda
 * floats apart, and the lines came in again. Training steps with the
 * pair take 0.983 to 0.993 of the time (bench/kernel_ab.sh, medians;
 * bench/RESULTS.md, "Since b08d951"); four or eight strips at once did
 * no better. */
K_INLINE void pack_a2(const float *a, size_t lda, size_t kc, float *dst0,
                      float *dst1)
{
    size_t p;
    for (p = 0; p < kc; p++) {
        _mm256_storeu_ps(dst0 + p * MR, _mm256_loadu_ps(a + p * lda));
        _mm256_storeu_ps(dst1 + p * MR, _mm256_loadu_ps(a + p * lda + MR));
    }
}

/* ---- the micro-kernel ---- */

/* What a tile needs: its strip of op(A) (a micro-panel, or A in place),
 * its panel of B (packed or in place: ldb floats from one row to the
 * next), the tile of C, and the step's place among the blocks of k. */
typedef struct nn__tile_args {
    size_t kc;
    const float *a;     /* op(A)'s strip: step p's elements */
    size_t a_step;      /* a_step floats apart, row i's element */
    size_t a_row;       /* i a_row floats after row 0's */
    const float *b;
    size_t ldb;
    VMASK mask;     /* the columns in the panel's last vector */
    float *c;
    size_t ldc;
    int first, last;    /* the first and the last block of k */
    float alpha, beta;
    const float *bias;  /* at the panel's first column, or NULL */
    int act;            /* NN_ACT_RELU, NN_ACT_LEAKY_RELU or identity */
    float slope;
    int prefetch;       /* PF_K > 0 and PF_ON(...): prefetch B's panel */
    VECI *top;          /* or NULL: the largest relu outputs' bits (below) */
} nn__tile_args;

/* A vector at p: through the mask m where e (a constant where inlined:
 * the panel's last vector, narrower than VL), else whole. */
#define LOAD_E(m, p, e) ((e) ? V_LOADM(m, p) : V_LOAD(p))
#define STORE_E(p, m, r, e)                                                  \
    do {                                                                     \
        if (e)                                                               \
            V_STOREM(p, m, r);                                               \
        else                                                                 \
            V_STORE(p, r);                                                   \
    } while (0)

/* The new value of one vector of C from the sum acc; e as LOAD_E. */
K_INLINE VEC finish(const nn__tile_args *t, VEC acc, const float *c,
                    const float *bias, VMASK m, const int e)
{
    VEC r;
    if (t->first) {
        r = t->alpha == 1.0f ? acc
                             : V_MUL(V_SET1(t->alpha), acc);
        if (t->beta != 0.0f) /* BLAS: beta 0 ignores C, even NaN in it */
            r = V_FMADD(V_SET1(t->beta), LOAD_E(m, c, e), r);
    } else {
        VEC old = LOAD_E(m, c, e);
        r = t->alpha == 1.0f
                ? V_ADD(old, acc)
                : V_FMADD(V_SET1(t->alpha), acc, old);
    }
    if (t->last) {
        if (bias)
            r = V_ADD(r, LOAD_E(m, bias, e));
        if (t->act == NN_ACT_RELU || t->act == NN_ACT_LEAKY_RELU) {
            /* as activation.c: z > 0 ? z : slope z (0 for relu, and for
             * NaN) */
            r = t->act == NN_ACT_RELU ? V_RELU(r)
                                      : V_LEAKY(r, V_SET1(t->slope));
        }
    }
    return r;
}

/* A tile of mr rows and nv vectors, the last through the mask where
 * edge; mr, nv and edge are constants where it is inlined. The
 * accumulators are named variables, not an array, so that GCC and clang
 * alike keep all MR x NV of them in registers. */
#define NN__ACC(i)                                                           \
    VEC c##i##0 = V_ZERO(), c##i##1 = c##i##0,                 \
           c##i##2 = c##i##0
#define NN__FMA(i)                                                           \
    if (mr > i) {                                                            \
        VEC av = V_SET1(a[(size_t)(i) * a_row]);                  \
        c##i##0 = V_FMADD(av, b0, c##i##0);                          \
        if (nv > 1)                                                          \
            c##i##1 = V_FMADD(av, b1, c##i##1);                      \
        if (nv > 2)                                                          \
            c##i##2 = V_FMADD(av, b2, c##i##2);                      \
    }
#define NN__STORE(i, how)                                                    \
    if (mr > i) {                                                            \
        float *c = t->c + (size_t)(i) * t->ldc;                              \
        store(t, c##i##0, c, 0, mask, how, edge && nv == 1);                 \
        if (nv > 1)                                                          \
            store(t, c##i##1, c, 1, mask, how, edge && nv == 2);             \
        if (nv > 2)                                                          \
            store(t, c##i##2, c, 2, mask, how, edge);                        \
    }
#define NN__STORES(how)                                                      \
    do {                                                                     \
        NN__STORE(0, how)                                                    \
        NN__STORE(1, how)                                                    \
        NN__STORE(2, how)                                                    \
        NN__STORE(3, how)                                                    \
        NN__STORE(4, how)                                                    \
        NN__STORE(5, how)                                                    \
        NN__STORE(6, how)                                                    \
        NN__STORE(7, how)                                                    \
    } while (0)

/* How a tile writes C, decided once per tile rather than per vector:
 * finish() for any case (HOW_ANY), or, where alpha is 1 and beta 0 or
 * the block not the first, C = acc (HOW_FIRST) or C += acc, then in the
 * last block with HOW_BIAS the bias and with HOW_RELU the relu; with
 * HOW_AXPY (alpha not 1, and beta not 0 in the first block: the update
 * folded into a dW product, W = beta W - lr dW) C = beta C + alpha acc
 * (HOW_FIRST) or C += alpha acc. Those are finish's operations in
 * finish's order, so its bits. */
#define HOW_ANY 8
#define HOW_FIRST 1
#define HOW_BIAS 2
#define HOW_RELU 4
#define HOW_AXPY 16

/* Vector v of a row of the tile of C, from its sum acc. */
K_INLINE void store(const nn__tile_args *t, VEC acc, float *c, int v,
                    VMASK m, const int how, const int e)
{
    VEC r;
    if (how & HOW_ANY) {
        r = finish(t, acc, c + VL * v, t->bias ? t->bias + VL * v : NULL, m,
                   e);
    } else if (how & HOW_AXPY) {
        const VEC old = LOAD_E(m, c + VL * v, e);
        r = how & HOW_FIRST
                ? V_FMADD(V_SET1(t->beta), old, V_MUL(V_SET1(t->alpha), acc))
                : V_FMADD(V_SET1(t->alpha), acc, old);
    } else {
        r = how & HOW_FIRST ? acc : V_ADD(LOAD_E(m, c + VL * v, e), acc);
        if (how & HOW_BIAS)
            r = V_ADD(r, LOAD_E(m, t->bias + VL * v, e));
        if (how & HOW_RELU)
            r = V_RELU(r);
    }
    STORE_E(c + VL * v, m, r, e);
}

/* X(how) for how (a constant), or X(how | HOW_FIRST) where this is the
 * first block of k. */
#define NN__STORES_FIRST(X, how)                                             \
    do {                                                                     \
        if (t->first)                                                        \
            X((how) | HOW_FIRST);                                            \
        else                                                                 \
            X(how);                                                          \
    } while (0)

/* The way a tile's rows of C are written, chosen once for the tile from
 * t (in scope): X(how), X a macro that stores the rows for a constant
 * how. tile() and narrow() both choose here. */
#define NN__STORES_BY_HOW(X)                                                 \
    do {                                                                     \
        /* no bias or activation to apply: a block before the last, or a \
         * last block without them */                                       \
        const int bare = !t->last || (!t->bias && t->act != NN_ACT_RELU &&  \
                                      t->act != NN_ACT_LEAKY_RELU);          \
        if (t->alpha == 1.0f && !(t->first && t->beta != 0.0f)) {            \
            if (bare)                                                        \
                NN__STORES_FIRST(X, 0);                                      \
            else if (t->bias && t->act == NN_ACT_RELU)                       \
                NN__STORES_FIRST(X, HOW_BIAS | HOW_RELU);                    \
            else if (t->bias && t->act != NN_ACT_LEAKY_RELU)                 \
                NN__STORES_FIRST(X, HOW_BIAS);                               \
            else                                                             \
                X(HOW_ANY);                                                  \
        } else if (t->alpha != 1.0f && !(t->first && t->beta == 0.0f) &&    \
                   bare)                                                     \
            NN__STORES_FIRST(X, HOW_AXPY);                                   \
        else                                                                 \
            X(HOW_ANY);                                                      \
    } while (0)

/* The tile's steps of k, prefetching B's panel pf steps ahead (pf > 0,
 * a constant) or not. The panel's last vector goes through the mask: in
 * place, the columns past N are not read. The prefetch's address is an
 * integer, for it may lie past B's end (a prefetch does not fault there,
 * and changes no sum). */
#define NN__K_STEPS(pf)                                                      \
    do {                                                                     \
        for (p = 0; p < kc; p++) {                                           \
            VEC b0 = LOAD_E(mask, b, edge && nv == 1);                       \
            VEC b1 = nv > 1 ? LOAD_E(mask, b + VL, edge && nv == 2) : b0;    \
            VEC b2 = nv > 2 ? LOAD_E(mask, b + 2 * VL, edge) : b0;           \
            if ((pf) > 0)                                                    \
                for (off = 0; off < (size_t)nv * VL * sizeof(float);         \
                     off += 64)                                              \
                    _mm_prefetch((const char *)((uintptr_t)b +               \
                                                (size_t)(pf) * ldb *         \
                                                    sizeof(float) +          \
                                                off),                        \
                                 _MM_HINT_T0);                               \
            NN__FMA(0)                                                       \
            NN__FMA(1)                                                       \
            NN__FMA(2)                                                       \
            NN__FMA(3)                                                       \
            NN__FMA(4)                                                       \
            NN__FMA(5)                                                       \
            NN__FMA(6)                                                       \
            NN__FMA(7)                                                       \
            b += ldb;                                                        \
            a += a_step;                                                     \
        }                                                                    \
    } while (0)

/* The relu outputs of a tile of mr rows and nv vectors just stored (the
 * last through the mask where edge), their bits' lane by lane maxima into
 * *t->top; the product takes the largest lane once, at its end. The
 * outputs are at least +0 (V_RELU gives +0 for NaN), so their bits order
 * as their values: activation.c's bias pass notes the same number, the
 * bits of the relu's input where that is above 0. Read back from L1
 * after the stores, 3 x 8 loads to a tile's 256 x 24 multiply-adds. With
 * the largest lane taken in every tile, steps of 784-256-128-10 at batch
 * 128 took 1.000 to 1.005 of the time of the separate pass, and with it
 * once a product 0.996 to 0.998 (bench/RESULTS.md, "Since 61e9da9"). */
K_INLINE void note_top(const nn__tile_args *t, const int mr, const int nv,
                       const int edge)
{
    VECI top = *t->top;
    int i, v;
    for (i = 0; i < mr; i++)
        for (v = 0; v < nv; v++) {
            const float *c = t->c + (size_t)i * t->ldc + VL * v;
            top = VI_MAXU(top, LOAD_E(t->mask, c, edge && v == nv - 1));
        }
    *t->top = top;
}

K_INLINE void tile(const nn__tile_args *t, const int mr, const int nv,
                   const int edge)
{
    const float *a = t->a, *b = t->b;
    const size_t ldb = t->ldb, kc = t->kc, a_step = t->a_step;
    const size_t a_row = t->a_row;
    const VMASK mask = t->mask;
    size_t p, off;
    NN__ACC(0);
    NN__ACC(1);
    NN__ACC(2);
    NN__ACC(3);
    NN__ACC(4);
    NN__ACC(5);
    NN__ACC(6);
    NN__ACC(7);
    /* C's tile is read and written only after the loop: where C is larger
     * than the caches (the weights of a wide layer, which the folded
     * update writes), its lines would arrive when the sums are done */
    for (p = 0; p < (size_t)mr; p++) {
        const char *row = (const char *)(t->c + p * t->ldc);
        for (off = 0; off < (size_t)nv * VL * sizeof(float); off += 64)
            _mm_prefetch(row + off, _MM_HINT_T0);
    }
    /* two copies of the loop, one without the prefetch: the flag tested
     * at every step kept its test, its branch and the prefetch's pointer
     * in the loop (gcc 12 -O3 did not split it), and a Zen 5 skipping the
     * prefetch kept about half of what tiles built without it gain
     * (bench/results/zen5-prefetch/flag-in-loop.txt) */
    if (PF_K > 0 && t->prefetch)
        NN__K_STEPS(PF_K);
    else
        NN__K_STEPS(0);
    NN__STORES_BY_HOW(NN__STORES);
    if (t->top && t->last && t->act == NN_ACT_RELU)
        note_top(t, mr, nv, edge);
}

typedef void (*tile_fn)(const nn__tile_args *t);

/* X(r, V, E) for r = 1..MR */
#if MR == 8
#define NN__ROWS(X, V, E)                                                    \
    X(1, V, E) X(2, V, E) X(3, V, E) X(4, V, E) X(5, V, E) X(6, V, E)        \
    X(7, V, E) X(8, V, E)
#elif MR == 6
#define NN__ROWS(X, V, E)                                                    \
    X(1, V, E) X(2, V, E) X(3, V, E) X(4, V, E) X(5, V, E) X(6, V, E)
#else
#error "tiles of 6 or 8 rows"
#endif
#define NN__TILE(R, V, E)                                                    \
    K_FN static void tile_##R##_##V##_##E(const nn__tile_args *t)           \
    {                                                                        \
        tile(t, R, V, E);                                                    \
    }
#define NN__TILE_NAME(R, V, E) tile_##R##_##V##_##E,
#define NN__TILE_ROW(V, E) {NN__ROWS(NN__TILE_NAME, V, E)}
/* Whole panels take tiles without masks, in both builds: AVX2's
 * vmaskmovps costs more than a plain load or store, and with AVX-512 the
 * edge tiles kept their mask on the stack and loaded it again at every
 * step of k (gcc 12), which on an Intel Xeon cost 2.6% to 6.4% of a
 * training step or a prediction of the benchmark nets (but for
 * 784-1024-1024-10's predictions at batch 32, 2.5% faster with the
 * masks; bench/kernel_ab.sh, bench/RESULTS.md). The edge tiles' masks
 * are all ones on whole panels, so the bits are the same either way. */
NN__ROWS(NN__TILE, 1, 0)
NN__ROWS(NN__TILE, 2, 0)
NN__ROWS(NN__TILE, 1, 1)
NN__ROWS(NN__TILE, 2, 1)
#if NV == 3
NN__ROWS(NN__TILE, 3, 0)
NN__ROWS(NN__TILE, 3, 1)
#define NN__TILE_THIRD(E) , NN__TILE_ROW(3, E)
#else
#define NN__TILE_THIRD(E)
#endif
/* tiles[edge][nv - 1][mr - 1]; edge: the last vector is through the mask */
static const tile_fn tiles[2][NV][MR] = {
    {NN__TILE_ROW(1, 0), NN__TILE_ROW(2, 0) NN__TILE_THIRD(0)},
    {NN__TILE_ROW(1, 1), NN__TILE_ROW(2, 1) NN__TILE_THIRD(1)}};

/* n tiles of MR rows and NR columns side by side, in one call: a strip's
 * run of whole panels (strip_run). With a call through the table per
 * tile, training steps of 784-256-128-10 at batch 32 and 128 took about
 * 2% longer (bench/kernel_ab.sh; bench/RESULTS.md, "Since 0fbe941");
 * 784-1024-1024-10's at 256, whose tiles do more work per call, took
 * the same time within 1%. The panels of 2 VL columns stay out: with
 * their tile inlined here too, steps ran 0.7% slower. */
K_FN static void strip_whole(nn__tile_args *t, size_t n, int in_place)
{
    size_t q;
    for (q = 0; q < n; q++) {
        tile(t, MR, NV, 0);
        t->b += in_place ? NR : NR * t->kc;
        t->c += NR;
        if (t->bias)
            t->bias += NR;
    }
}

/* The whole panels of NR columns from column j0 of a block ending at
 * j_end: how many there are side by side. */
static size_t strip_run(size_t N, size_t j0, size_t j_end)
{
    size_t n = 0;
    while (j0 < j_end && panel_width(N, j0) == NR) {
        n++;
        j0 += NR;
    }
    return n;
}

/* ---- Aᵀ B with few columns ---- */

#if NARROW_N > 0
/* VL rows of C from row l0 of the tile, each the vector r[l], through
 * the mask (a narrow B is narrower than VL); how a constant. */
#define NN__NARROW_ROWS(how)                                                 \
    do {                                                                     \
        for (l = 0; l < VL; l++)                                             \
            store(t, r[l], t->c + (l0 + (size_t)l) * t->ldc, 0, t->mask,     \
                  how, 1);                                                   \
    } while (0)

/* VL rows of C from row l0 of the tile, from r[j], column j of them
 * (zero past B's columns): turned into rows and written as a tile writes
 * its rows. One function for every width, not inlined: each narrow_n
 * with its own copy of these stores took 7.5 to 8.3 KiB of code. */
K_FN NN__NOINLINE static void narrow_out(const nn__tile_args *t, VEC *r,
                                          size_t l0)
{
    int l;
    transpose16(r);
    NN__STORES_BY_HOW(NN__NARROW_ROWS);
}

/* 2 VL rows of C = alpha op(A) B + ..., op(A) = Aᵀ read in place, B of n
 * <= NARROW_N columns (a constant where inlined). A tile of MR rows keeps
 * its row's one vector of C with n of VL lanes in use, and takes a
 * broadcast of A for each multiply-add: the weights' gradient of an
 * output layer of ten units (128 x 10 x 128 at batch 128) ran at 0.31 of
 * the peak, and runs here at about 0.6 (bench/RESULTS.md, "Since
 * 14170e6"). Here a column of C, 2 VL rows of it, is two vectors: a step
 * of k loads them from A's row (Aᵀ's column) and broadcasts each of B's
 * n floats to two multiply-adds. Each element of C is the same chain of
 * fused multiply-adds from zero over the block of k as in a tile; the
 * columns are turned into rows (transpose16) and written as a tile
 * writes them (store, with tile()'s choice of how: NN__STORES_BY_HOW),
 * so the bits are a tile's. */
K_INLINE void narrow(const nn__tile_args *t, const int n)
{
    const float *a = t->a, *b = t->b;
    const size_t kc = t->kc, a_step = t->a_step, ldb = t->ldb;
    VEC lo[NARROW_N], hi[NARROW_N], r[VL];
    size_t p;
    int j;
#pragma GCC unroll 16
    for (j = 0; j < n; j++)
        lo[j] = hi[j] = V_ZERO();
    for (p = 0; p < kc; p++) {
        const VEC a0 = V_LOAD(a), a1 = V_LOAD(a + VL);
#pragma GCC unroll 16
        for (j = 0; j < n; j++) {
            const VEC bj = V_SET1(b[j]);
            lo[j] = V_FMADD(a0, bj, lo[j]);
            hi[j] = V_FMADD(a1, bj, hi[j]);
        }
        a += a_step;
        b += ldb;
    }
#pragma GCC unroll 16
    for (j = 0; j < VL; j++)
        r[j] = j < n ? lo[j] : V_ZERO();
    narrow_out(t, r, 0);
#pragma GCC unroll 16
    for (j = 0; j < VL; j++)
        r[j] = j < n ? hi[j] : V_ZERO();
    narrow_out(t, r, VL);
    if (t->top && t->last && t->act == NN_ACT_RELU)
        note_top(t, 2 * VL, 1, 1);
}

#define NN__NARROW(n)                                                        \
    K_FN static void narrow_##n(const nn__tile_args *t)                      \
    {                                                                        \
        narrow(t, n);                                                        \
    }
NN__NARROW(1)
NN__NARROW(2)
NN__NARROW(3)
NN__NARROW(4)
NN__NARROW(5)
NN__NARROW(6)
NN__NARROW(7)
NN__NARROW(8)
NN__NARROW(9)
NN__NARROW(10)
NN__NARROW(11)
NN__NARROW(12)
_Static_assert(NARROW_N == 12 && VL == 16, "narrow_1..12, 16 x 16 blocks");
/* narrows[n - 1] */
static const tile_fn narrows[NARROW_N] = {
    narrow_1, narrow_2, narrow_3, narrow_4,  narrow_5,  narrow_6,
    narrow_7, narrow_8, narrow_9, narrow_10, narrow_11, narrow_12};
#endif

/* ---- a few rows, B in place ---- */

/* Below 4 rows a tile's NR columns reach down B a row of k at a time, one
 * 4 KiB page after another where N is 1024. Here the rows of the block of
 * B are read along, WIDE[mr] vectors of columns at a time (as many
 * accumulators as a tile keeps), and what is left of a block of columns
 * with its accumulators on the stack. Each element of C is still the
 * same chain of fused multiply-adds from zero over each block of k, so
 * these rows have the same bits as in a tile. */
#define ROWS_FEW 4
#define WIDE_MAX 16

/* mr rows (constant where inlined) by W vectors of full columns. */
K_INLINE void few_wide(int trans_a, const int mr, const int W,
                          const float *a, size_t lda, const float *b,
                          size_t ldb, float *c, const float *bias,
                          const nn__tile_args *t)
{
    VEC acc[ROWS_FEW - 1][WIDE_MAX];
    size_t p;
    int i, v;
#pragma GCC unroll 3
    for (i = 0; i < mr; i++)
#pragma GCC unroll 16
        for (v = 0; v < W; v++)
            acc[i][v] = V_ZERO();
    for (p = 0; p < t->kc; p++) {
        const float *bp = b + p * ldb;
#pragma GCC unroll 3
        for (i = 0; i < mr; i++) {
            VEC av = V_SET1(trans_a ? a[p * lda + (size_t)i]
                                               : a[(size_t)i * lda + p]);
#pragma GCC unroll 16
            for (v = 0; v < W; v++)
                acc[i][v] = V_FMADD(av, V_LOAD(bp + VL * v), acc[i][v]);
        }
    }
#pragma GCC unroll 3
    for (i = 0; i < mr; i++)
#pragma GCC unroll 16
        for (v = 0; v < W; v++) {
            float *cv = c + (size_t)i * t->ldc + VL * v;
            V_STORE(cv, finish(t, acc[i][v], cv, bias ? bias + VL * v : NULL,
                               V_FULL, 0));
        }
}

#define NN__FEW(MR_, W_)                                                     \
    K_FN static void few_##MR_(int trans_a, const float *a, size_t lda,      \
                               const float *b, size_t ldb, float *c,         \
                               const float *bias, const nn__tile_args *t)    \
    {                                                                        \
        few_wide(trans_a, MR_, W_, a, lda, b, ldb, c, bias, t);              \
    }
NN__FEW(1, FEW_W1)
NN__FEW(2, FEW_W2)
NN__FEW(3, FEW_W3)
typedef void (*few_fn)(int trans_a, const float *a, size_t lda,
                       const float *b, size_t ldb, float *c,
                       const float *bias, const nn__tile_args *t);
static const few_fn few_wides[ROWS_FEW - 1] = {few_1, few_2, few_3};
static const int few_width[ROWS_FEW - 1] = {FEW_W1, FEW_W2, FEW_W3};

K_FN static void few_rows(int trans_a, size_t M, size_t N, size_t K,
                          const float *A, size_t lda, const float *B,
                          size_t ldb, float *C, nn__tile_args *t,
                          float *apanel)
{
    const size_t W = (size_t)few_width[M - 1];
    const float *bias = t->bias;
    size_t pc, v, nv = (N + VL - 1) / VL;
    for (pc = 0; pc < K; pc += KC) {
        const float *a = trans_a ? A + pc * lda : A + pc;
        const float *b = B + pc * ldb;
        t->kc = K - pc < KC ? K - pc : KC;
        t->first = pc == 0;
        t->last = pc + t->kc == K;
        /* whole groups of W full vectors, then tiles of the rest */
        for (v = 0; (v + W) * VL <= N; v += W)
            few_wides[M - 1](trans_a, a, lda, b + VL * v, ldb, C + VL * v,
                             bias ? bias + VL * v : NULL, t);
        if (v == nv)
            continue;
        pack_a(trans_a, a, lda, M, t->kc, apanel);
        t->a = apanel;
        t->a_step = MR;
        t->a_row = 1;
        t->ldb = ldb;
        for (; v < nv; v += NV) {
            size_t g = nv - v < NV ? nv - v : NV;
            int edge = v + g == nv && N % VL != 0;
            t->mask = edge ? edge_mask(N) : V_FULL;
            t->b = b + VL * v;
            t->c = C + VL * v;
            t->bias = bias ? bias + VL * v : NULL;
            tiles[edge][g - 1][M - 1](t);
        }
        t->bias = bias;
    }
}

/* ---- the product ---- */

#if NARROW_N > 0
#define NARROW_CALL(n, t) narrows[(n) - 1](t)
#else
#define NARROW_CALL(n, t) assert(0)
#endif

K_FN void KENTRY(gemm_top)(int trans_a, int trans_b, size_t M, size_t N,
                           size_t K, float alpha, const float *A, size_t lda,
                           const float *B, size_t ldb, int b_form,
                           float *buf, float beta, float *C, size_t ldc,
                           const float *bias, int act, float slope,
                           uint32_t *top)
{
    float apanel[2 * MR * KC] __attribute__((aligned(64)));
    size_t jc, pc, j0, j, i0, paired, rows;
    assert(M > 0 && N > 0 && K > 0);
    int a_in_place, narrow_b;
    nn__tile_args t;
    t.alpha = alpha;
    t.beta = beta;
    t.act = act;
    t.slope = slope;
    t.ldc = ldc;
    t.prefetch = PF_K > 0 && PF_ON(b_form, K, N);
    VECI topv = VI_ZERO();
    t.top = act == NN_ACT_RELU && top ? &topv : NULL;
    if (M < ROWS_FEW && b_form == NN__B_IN_PLACE) {
        t.bias = bias;
        t.top = NULL;
        few_rows(trans_a, M, N, K, A, lda, B, ldb, C, &t, apanel);
        if (top && act == NN_ACT_RELU) { /* a row or three, read back */
            for (i0 = 0; i0 < M; i0++)
                for (j = 0; j < N; j += VL) {
                    VMASK m = N - j < VL ? edge_mask(N) : V_FULL;
                    topv = VI_MAXU(topv, V_LOADM(m, C + i0 * ldc + j));
                }
            uint32_t u = VI_MAX_OF(topv);
            *top = u > *top ? u : *top;
        }
        return;
    }
    /* The tile reads op(A) = A in place, a broadcast from each of MR
     * rows (bench/kernel_ab.sh on predictions at batch 256: 0.965 of the
     * time of micro-panels for 784-256-128-10, 0.989 for 784-1024-1024-10;
     * training steps alike). op(A) = Aᵀ has a strip's MR elements side by
     * side, its kc steps lda floats apart: read in place too, but where
     * those rows lie a multiple of 4 KiB apart, which puts every line of
     * the strip in one set of L1, and there it is copied into micro-panels
     * (where it serves one panel of B, it is read in place whatever lda).
     * In place against copied, the weight gradients' products of training
     * steps (bench/kernel_ab.sh, medians of the pairs): 784-256-128-10 at
     * batch 32 to 512 0.981 to 0.988 of the time (X's rows 3136 bytes
     * apart), 784-512-512-10 at 256 0.991 (2 KiB apart too); 784-1024-1024-10
     * at 256 0.993 to 0.999 with its 4 KiB rows copied, 1.008 with them in
     * place (bench/RESULTS.md, "Since 18e95bb"). */
    a_in_place = trans_a && (N <= NR || lda * sizeof(float) % 4096 != 0);
    /* op(A) = Aᵀ, in place, and a narrow B: 2 VL rows at a time */
    narrow_b = NARROW_N > 0 && trans_a && N <= NARROW_N;
    for (jc = 0; jc < N; jc += NC) {
        size_t nc = N - jc < NC ? N - jc : NC;
        for (pc = 0; pc < K; pc += KC) {
            t.kc = K - pc < KC ? K - pc : KC;
            t.first = pc == 0;
            t.last = pc + t.kc == K;
            if (b_form == NN__B_PACK_BLOCKS) /* used by every row strip */
                pack_panels(trans_b, B, ldb, pc, t.kc, jc, jc + nc, N, buf);
            /* the second strip of the pair packed last: its panel waits
             * in apanel's second half */
            paired = (size_t)-1;
            for (i0 = 0; i0 < M; i0 += rows) {
                size_t mr = M - i0 < MR ? M - i0 : MR;
                rows = narrow_b && M - i0 >= 2 * VL ? 2 * VL : MR;
                if (a_in_place) {
                    t.a = A + pc * lda + i0;
                    t.a_step = lda;
                    t.a_row = 1;
                } else if (!trans_a) {
                    t.a = A + i0 * lda + pc;
                    t.a_step = 1;
                    t.a_row = lda;
                } else {
                    /* packed with the strip before: in the second half */
                    const int waits = i0 == paired;
                    if (!waits && MR == 8 && M - i0 >= 2 * MR) {
                        pack_a2(A + pc * lda + i0, lda, t.kc, apanel,
                                apanel + MR * KC);
                        paired = i0 + MR;
                    } else if (!waits) {
                        pack_a(1, A + pc * lda + i0, lda, mr, t.kc, apanel);
                    }
                    t.a = waits ? apanel + MR * KC : apanel;
                    t.a_step = MR;
                    t.a_row = 1;
                }
                for (j0 = jc; j0 < jc + nc; j0 = j) {
                    size_t w = panel_width(N, j0);
                    size_t run = mr == MR ? strip_run(N, j0, jc + nc) : 0;
                    int nv = panel_vectors(w);
                    t.mask = edge_mask(w);
                    switch (b_form) {
                    case NN__B_PACKED: /* as nn__kernel_pack */
                        t.ldb = (size_t)VL * (size_t)nv;
                        t.b = B + jc * K + pc * block_width(N, jc) +
                              (j0 - jc) * t.kc;
                        break;
                    case NN__B_PACK_BLOCKS:
                        t.ldb = (size_t)VL * (size_t)nv;
                        t.b = buf + (j0 - jc) * t.kc;
                        break;
                    default: /* in place */
                        t.ldb = ldb;
                        t.b = B + pc * ldb + j0;
                        break;
                    }
                    t.bias = bias ? bias + j0 : NULL;
                    t.c = C + i0 * ldc + j0;
                    if (rows > MR) { /* narrow_b: one panel, w = N */
                        NARROW_CALL(N, &t);
                        j = j0 + w;
                    } else if (run > 1) {
                        strip_whole(&t, run, b_form == NN__B_IN_PLACE);
                        j = j0 + run * NR;
                    } else {
                        tiles[w % VL != 0][nv - 1][mr - 1](&t);
                        j = j0 + w;
                    }
                }
            }
        }
    }
    if (t.top) {
        uint32_t u = VI_MAX_OF(topv);
        *top = u > *top ? u : *top;
    }
}

K_FN void KENTRY(gemm)(int trans_a, int trans_b, size_t M, size_t N,
                          size_t K, float alpha, const float *A, size_t lda,
                          const float *B, size_t ldb, int b_form, float *buf,
                          float beta, float *C, size_t ldc, const float *bias,
                          int act, float slope)
{
    KENTRY(gemm_top)(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, b_form,
                     buf, beta, C, ldc, bias, act, slope, NULL);
}
