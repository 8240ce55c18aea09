/* SPDX-License-Identifier: MIT */
/*
 * bench_gemm.c - the matrix products of the benchmark nets, one row per
 * distinct shape: the forward X.W, the backward A^T.G (dW) and G.W^T (dX),
 * each through nn__gemm (CBLAS, or the library's direct loops for the tiny
 * shapes it picks them for) at 1 and 2 threads and through nn__gemm_ref
 * (naive loops), with GFLOP/s, speed-ups and the largest relative difference
 * between the two results. Then, the measurements behind a small-net fast
 * path: at batch 1, cblas_sgemm against BLAS level 2 and direct loops; and a
 * sweep over small shapes that finds where a call to cblas_sgemm starts to
 * beat plain direct loops. Last (or alone, with --only kernel), libnn's
 * own kernel (src/gemm_avx512.c: its AVX-512 build, or its AVX2 build
 * where the CPU has no AVX-512F or NN_GEMM=avx2) against nn__gemm, in
 * interleaved blocks, on the products of training and inference where
 * gemm.c's rules choose between them: the measurements behind those
 * rules; and (or alone, with --only forms) the kernel reading B in place
 * against packing it a block at a time, behind nn__kernel_train_form's
 * rule.
 */
/* BLIS's cblas.h declares pthread barriers (NN_BLAS=blis) */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "bench.h"
#include "bench_nets.h"
#include "nn_internal.h"

enum { OP_FWD, OP_DW, OP_DX };
static const char *const op_names[] = {"X.W", "A^T.G", "G.W^T"};

/* One product: the operands of a layer as train.c passes them. */
typedef struct product {
    int op;
    size_t M, N, K;
    char label[64];
} product;

typedef struct gemm_ctx {
    const product *p;
    const float *A, *B;
    float *C;
    size_t lda, ldb;
    int kind; /* 0 nn__gemm (the library's dispatch), 1 nn__gemm_ref,
                 2 direct loops, 3 BLAS level 2, 4 cblas_sgemm itself */
} gemm_ctx;

static void product_args(const product *p, int *ta, int *tb, size_t *lda,
                         size_t *ldb)
{
    /* M x N = op(A) (M x K) . op(B) (K x N), with the layouts of train.c */
    switch (p->op) {
    case OP_FWD: /* A (n x in) . W (in x out) */
        *ta = 0, *tb = 0, *lda = p->K, *ldb = p->N;
        break;
    case OP_DW: /* A_prev^T: A_prev is n x in (K x M); G is n x out (K x N) */
        *ta = 1, *tb = 0, *lda = p->M, *ldb = p->N;
        break;
    default: /* G (n x out) . W^T: W is in x out (N x K) */
        *ta = 0, *tb = 1, *lda = p->K, *ldb = p->K;
        break;
    }
}

/* Plain loops in the order a direct small-shape path would use: unit stride
 * in the innermost loop, float accumulation, no blocking. */
static void direct_gemm(int op, size_t M, size_t N, size_t K, const float *A,
                        const float *B, float *C)
{
    size_t i, j, p;
    switch (op) {
    case OP_FWD: /* C (M x N) = A (M x K) . B (K x N) */
        for (i = 0; i < M; i++) {
            float *c = C + i * N;
            for (j = 0; j < N; j++)
                c[j] = 0.0f;
            for (p = 0; p < K; p++) {
                float a = A[i * K + p];
                const float *b = B + p * N;
                for (j = 0; j < N; j++)
                    c[j] += a * b[j];
            }
        }
        break;
    case OP_DW: /* C (M x N) = A^T . B, A is K x M, B is K x N */
        memset(C, 0, M * N * sizeof *C);
        for (p = 0; p < K; p++) {
            const float *a = A + p * M, *b = B + p * N;
            for (i = 0; i < M; i++) {
                float ai = a[i];
                float *c = C + i * N;
                for (j = 0; j < N; j++)
                    c[j] += ai * b[j];
            }
        }
        break;
    default: /* C (M x N) = A . B^T, A is M x K, B is N x K */
        for (i = 0; i < M; i++) {
            const float *a = A + i * K;
            for (j = 0; j < N; j++) {
                const float *b = B + j * K;
                float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
                for (p = 0; p + 4 <= K; p += 4) {
                    s0 += a[p] * b[p];
                    s1 += a[p + 1] * b[p + 1];
                    s2 += a[p + 2] * b[p + 2];
                    s3 += a[p + 3] * b[p + 3];
                }
                for (; p < K; p++)
                    s0 += a[p] * b[p];
                C[i * N + j] = (s0 + s1) + (s2 + s3);
            }
        }
        break;
    }
}

/* The same product of one row through BLAS level 2, as a batch-1 path
 * could call it: X.W (M = 1) is y = W^T x (sgemv), A^T.G (K = 1) the outer
 * product a g^T (sger onto a zeroed C), G.W^T (M = 1) is y = W g (sgemv). */
static void level2(const product *p, const float *A, const float *B,
                   float *C)
{
    switch (p->op) {
    case OP_FWD: /* A: 1 x K, B: K x N */
        cblas_sgemv(CblasRowMajor, CblasTrans, (int)p->K, (int)p->N, 1.0f, B,
                    (int)p->N, A, 1, 0.0f, C, 1);
        break;
    case OP_DW: /* A: 1 x M, B: 1 x N */
        memset(C, 0, p->M * p->N * sizeof *C);
        cblas_sger(CblasRowMajor, (int)p->M, (int)p->N, 1.0f, A, 1, B, 1, C,
                   (int)p->N);
        break;
    default: /* A: 1 x K (G), B: N x K (W) */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)p->N, (int)p->K, 1.0f,
                    B, (int)p->K, A, 1, 0.0f, C, 1);
        break;
    }
}

static void run_gemm(void *vctx)
{
    gemm_ctx *c = (gemm_ctx *)vctx;
    const product *p = c->p;
    int ta, tb;
    size_t lda, ldb;
    product_args(p, &ta, &tb, &lda, &ldb);
    if (c->kind == 0)
        nn__gemm(ta, tb, p->M, p->N, p->K, 1.0f, c->A, lda, c->B, ldb, 0.0f,
                 c->C, p->N);
    else if (c->kind == 1)
        nn__gemm_ref(ta, tb, p->M, p->N, p->K, 1.0f, c->A, lda, c->B, ldb,
                     0.0f, c->C, p->N);
    else if (c->kind == 2)
        direct_gemm(p->op, p->M, p->N, p->K, c->A, c->B, c->C);
    else if (c->kind == 3)
        level2(p, c->A, c->B, c->C);
    else
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                    tb ? CblasTrans : CblasNoTrans, (int)p->M, (int)p->N,
                    (int)p->K, 1.0f, c->A, (int)lda, c->B, (int)ldb, 0.0f,
                    c->C, (int)p->N);
}

static size_t collect_products(product *out, size_t cap, const char *only)
{
    size_t count = 0, k, b, l, q;
    for (k = 0; k < bench_net_count; k++) {
        const bench_net *net = &bench_nets[k];
        if (only && !strstr(net->name, only))
            continue;
        for (b = 0; b < BENCH_MAX_BATCHES && net->batches[b]; b++) {
            size_t n = net->batches[b];
            for (l = 0; l < net->n_layers; l++) {
                size_t in = net->widths[l], o = net->widths[l + 1];
                product cand[3];
                int nc = 0, c;
                cand[nc].op = OP_FWD, cand[nc].M = n, cand[nc].N = o,
                cand[nc++].K = in;
                cand[nc].op = OP_DW, cand[nc].M = in, cand[nc].N = o,
                cand[nc++].K = n;
                if (l > 0)
                    cand[nc].op = OP_DX, cand[nc].M = n, cand[nc].N = in,
                    cand[nc++].K = o;
                for (c = 0; c < nc; c++) {
                    for (q = 0; q < count; q++)
                        if (out[q].op == cand[c].op && out[q].M == cand[c].M &&
                            out[q].N == cand[c].N && out[q].K == cand[c].K)
                            break;
                    if (q < count || count == cap)
                        continue;
                    out[count] = cand[c];
                    snprintf(out[count].label, sizeof out[count].label,
                             "%s b%zu L%zu", net->name, n, l + 1);
                    count++;
                }
            }
        }
    }
    return count;
}

/* |C_blas - C_ref| / (|A|.|B|) elementwise: the error of each dot product
 * against the size of its terms, the scale float rounding works at (as
 * tests/test_gemm.c measures it). */
static double max_rel_diff(const product *p, const float *A, const float *B,
                           const float *cb, const float *cr)
{
    size_t la = p->M * p->K, lb = p->K * p->N, lc = p->M * p->N, i;
    float *aa = (float *)bench_xmalloc(la * sizeof *aa);
    float *ab = (float *)bench_xmalloc(lb * sizeof *ab);
    float *mag = (float *)bench_xmalloc(lc * sizeof *mag);
    int ta, tb;
    size_t lda, ldb;
    double worst = 0.0;
    for (i = 0; i < la; i++)
        aa[i] = fabsf(A[i]);
    for (i = 0; i < lb; i++)
        ab[i] = fabsf(B[i]);
    product_args(p, &ta, &tb, &lda, &ldb);
    nn__gemm(ta, tb, p->M, p->N, p->K, 1.0f, aa, lda, ab, ldb, 0.0f, mag,
             p->N);
    for (i = 0; i < lc; i++) {
        double den = mag[i] > 0.0f ? mag[i] : 1.0;
        double e = fabs((double)cb[i] - (double)cr[i]) / den;
        if (e > worst)
            worst = e;
    }
    free(aa);
    free(ab);
    free(mag);
    return worst;
}

static void shapes_table(const bench_opts *o, FILE *csv)
{
    product prods[64];
    size_t count = collect_products(prods, 64, o->only), q;
    uint64_t seed = 1;

    printf("\nLayer products through nn__gemm (CBLAS, or the library's direct "
           "loops for the shapes it picks them for) and nn__gemm_ref\n"
           "(beta = 0; GF/s = 2MNK / time; median of timed blocks; max rel = "
           "max |nn__gemm - ref| / (|A|.|B|))\n");
    printf("%-24s %-6s %5s %5s %5s | %10s %7s | %10s %7s %7s | %7s %6s | "
           "%9s\n",
           "net, batch, layer", "op", "M", "N", "K", "naive us", "GF/s",
           "blas-1t us", "GF/s", "x naive", "2t GF/s", "2t/1t",
           "max rel");
    if (csv)
        fprintf(csv, "label,op,M,N,K,naive_s,naive_gflops,blas1_s,"
                     "blas1_gflops,blas1_spread,speedup,blas2_s,"
                     "blas2_gflops,blas2_spread,max_rel_diff,naive_reps,"
                     "blas_reps\n");
    for (q = 0; q < count; q++) {
        const product *p = &prods[q];
        size_t la = p->M * p->K, lb = p->K * p->N, lc = p->M * p->N;
        float *A = (float *)bench_xmalloc(la * sizeof *A);
        float *B = (float *)bench_xmalloc(lb * sizeof *B);
        float *cb = (float *)bench_xmalloc(lc * sizeof *cb);
        float *cr = (float *)bench_xmalloc(lc * sizeof *cr);
        double flops = 2.0 * (double)p->M * (double)p->N * (double)p->K;
        gemm_ctx c;
        bench_stat sr, s1, s2;
        double rel;
        int have_ref = !(o->quick && flops > 2e9), have2 = o->threads[1] > 0;

        bench_fill(A, la, -1.0f, 1.0f, &seed);
        bench_fill(B, lb, -1.0f, 1.0f, &seed);
        c.p = p;
        c.A = A;
        c.B = B;
        memset(&sr, 0, sizeof sr);
        memset(&s2, 0, sizeof s2);
        if (have_ref) {
            c.C = cr;
            c.kind = 1;
            /* The naive loops take up to a minute on the 4096 shapes: at
             * most ~20 s of blocks each, and at least one. */
            sr = bench_time(run_gemm, &c, o->min_block, o->reps, 20.0);
        }
        if (nn_set_blas_threads(1) != NN_OK)
            fprintf(stderr, "%s\n", nn_last_error());
        c.C = cb;
        c.kind = 0;
        s1 = bench_time(run_gemm, &c, o->min_block, o->reps, 0.0);
        if (have2) {
            if (nn_set_blas_threads((size_t)o->threads[1]) != NN_OK)
                fprintf(stderr, "%s\n", nn_last_error());
            s2 = bench_time(run_gemm, &c, o->min_block, o->reps, 0.0);
            if (nn_set_blas_threads(1) != NN_OK)
                fprintf(stderr, "%s\n", nn_last_error());
        }
        if (!have_ref) { /* still compare, with a single untimed call */
            c.C = cr;
            c.kind = 1;
            run_gemm(&c);
        }
        c.C = cb;
        c.kind = 0;
        run_gemm(&c);
        rel = max_rel_diff(p, A, B, cb, cr);

        printf("%-24s %-6s %5zu %5zu %5zu | ", p->label, op_names[p->op],
               p->M, p->N, p->K);
        if (have_ref)
            printf("%10.4g %7.2f | ", sr.median * 1e6,
                   flops / sr.median * 1e-9);
        else
            printf("%10s %7s | ", "(quick)", "-");
        printf("%10.4g %7.2f ", s1.median * 1e6, flops / s1.median * 1e-9);
        if (have_ref)
            printf("%7.1f | ", sr.median / s1.median);
        else
            printf("%7s | ", "-");
        if (have2)
            printf("%7.2f %6.2f | ", flops / s2.median * 1e-9,
                   s1.median / s2.median);
        else
            printf("%7s %6s | ", "-", "-");
        printf("%9.2e\n", rel);
        fflush(stdout);
        if (csv)
            fprintf(csv, "%s,%s,%zu,%zu,%zu,%.9g,%.6g,%.9g,%.6g,%.4f,%.6g,"
                         "%.9g,%.6g,%.4f,%.3e,%d,%d\n",
                    p->label, op_names[p->op], p->M, p->N, p->K,
                    have_ref ? sr.median : 0.0,
                    have_ref ? flops / sr.median * 1e-9 : 0.0, s1.median,
                    flops / s1.median * 1e-9, bench_spread(&s1),
                    have_ref ? sr.median / s1.median : 0.0,
                    have2 ? s2.median : 0.0,
                    have2 ? flops / s2.median * 1e-9 : 0.0,
                    have2 ? bench_spread(&s2) : 0.0, rel, sr.reps, s1.reps);
        free(A);
        free(B);
        free(cb);
        free(cr);
    }
}

/* Direct loops against one cblas_sgemm call on square layers (in = out = w)
 * for n rows, 1 thread: the time ratio direct / BLAS (> 1: BLAS is faster)
 * for each product, and per batch size the smallest width where BLAS wins
 * every larger width too. */
static void crossover(const bench_opts *o, FILE *csv)
{
    static const size_t ns[] = {1, 4, 16, 32, 64, 128, 256};
    static const size_t ws[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
    enum { NN_ = sizeof ns / sizeof ns[0], NW = sizeof ws / sizeof ws[0] };
    double ratio[3][NN_][NW], tblas[3][NN_][NW], lib[3][NN_][NW];
    double block = o->min_block / 10.0;
    int reps = o->reps < 5 ? o->reps : 5;
    size_t in, iw;
    int op;
    uint64_t seed = 7;
    float *A = (float *)bench_xmalloc(256 * 256 * sizeof *A);
    float *B = (float *)bench_xmalloc(256 * 256 * sizeof *B);
    float *C = (float *)bench_xmalloc(256 * 256 * sizeof *C);

    bench_fill(A, 256 * 256, -1.0f, 1.0f, &seed);
    bench_fill(B, 256 * 256, -1.0f, 1.0f, &seed);
    if (nn_set_blas_threads(1) != NN_OK)
        fprintf(stderr, "%s\n", nn_last_error());
    if (csv)
        fprintf(csv, "\nop,n,w,direct_s,blas_s,direct_over_blas,nn_gemm_s\n");
    for (op = 0; op < 3; op++) {
        for (in = 0; in < NN_; in++) {
            for (iw = 0; iw < NW; iw++) {
                product p;
                gemm_ctx c;
                bench_stat sd, sb, sl;
                size_t n = ns[in], w = ws[iw];
                p.op = op;
                if (op == OP_FWD)
                    p.M = n, p.N = w, p.K = w;
                else if (op == OP_DW)
                    p.M = w, p.N = w, p.K = n;
                else
                    p.M = n, p.N = w, p.K = w;
                c.p = &p;
                c.A = A;
                c.B = B;
                c.C = C;
                c.kind = 2;
                sd = bench_time(run_gemm, &c, block, reps, 0.0);
                c.kind = 4;
                sb = bench_time(run_gemm, &c, block, reps, 0.0);
                c.kind = 0;
                sl = bench_time(run_gemm, &c, block, reps, 0.0);
                ratio[op][in][iw] = sd.median / sb.median;
                tblas[op][in][iw] = sb.median;
                lib[op][in][iw] = sl.median / (sd.median < sb.median
                                                   ? sd.median
                                                   : sb.median);
                if (csv)
                    fprintf(csv, "%s,%zu,%zu,%.6g,%.6g,%.4f,%.6g\n",
                            op_names[op], n, w, sd.median, sb.median,
                            sd.median / sb.median, sl.median);
            }
        }
    }
    printf("\nCrossover: direct loops / cblas_sgemm time, square layer in = "
           "out = w, n rows, 1 thread (> 1: BLAS faster)\n");
    for (op = 0; op < 3; op++) {
        printf("%-6s n\\w ", op_names[op]);
        for (iw = 0; iw < NW; iw++)
            printf("%7zu", ws[iw]);
        printf("   BLAS wins from w =\n");
        for (in = 0; in < NN_; in++) {
            int from = -1;
            printf("%10zu ", ns[in]);
            for (iw = 0; iw < NW; iw++)
                printf("%7.2f", ratio[op][in][iw]);
            for (iw = NW; iw-- > 0;) {
                if (ratio[op][in][iw] <= 1.0)
                    break;
                from = (int)iw;
            }
            if (from >= 0)
                printf("   %zu\n", ws[from]);
            else
                printf("   never (up to %zu)\n", ws[NW - 1]);
        }
    }
    printf("\nThe library's choice: nn__gemm time / the faster of direct "
           "loops and cblas_sgemm (1.00: it picks the right one)\n");
    for (op = 0; op < 3; op++) {
        printf("%-6s n\\w ", op_names[op]);
        for (iw = 0; iw < NW; iw++)
            printf("%7zu", ws[iw]);
        printf("\n");
        for (in = 0; in < NN_; in++) {
            printf("%10zu ", ns[in]);
            for (iw = 0; iw < NW; iw++)
                printf("%7.2f", lib[op][in][iw]);
            printf("\n");
        }
    }
    printf("cblas_sgemm on 1x1x1: %.0f ns per call (X.W), %.0f ns (A^T.G), "
           "%.0f ns (G.W^T)\n",
           tblas[0][0][0] * 1e9, tblas[1][0][0] * 1e9, tblas[2][0][0] * 1e9);
    free(A);
    free(B);
    free(C);
}

/* Batch 1 (one row): cblas_sgemm against BLAS level 2 and direct loops
 * on the layer shapes of the nets at n = 1, 1 thread; and what nn__gemm
 * (the library's dispatch) takes. */
static void batch_one(const bench_opts *o, FILE *csv)
{
    product prods[64];
    size_t count = collect_products(prods, 64, NULL), q;
    uint64_t seed = 11;
    if (nn_set_blas_threads(1) != NN_OK)
        fprintf(stderr, "%s\n", nn_last_error());
    printf("\nBatch 1: one cblas_sgemm call against sgemv/sger and direct "
           "loops, 1 thread (times in us)\n");
    printf("%-24s %-6s %5s %5s %5s | %9s %9s %9s | %-8s | %9s\n",
           "net, batch, layer", "op", "M", "N", "K", "sgemm", "gemv/ger",
           "direct", "fastest", "nn__gemm");
    if (csv)
        fprintf(csv, "\nlabel,op,M,N,K,sgemm_s,level2_s,direct_s,"
                     "nn_gemm_s\n");
    for (q = 0; q < count; q++) {
        const product *p = &prods[q];
        size_t la = p->M * p->K, lb = p->K * p->N, lc = p->M * p->N;
        float *A, *B, *C;
        gemm_ctx c;
        bench_stat t[4];
        int k, best = 0;
        static const char *const names[] = {"sgemm", "gemv/ger", "direct"};
        if (!strstr(p->label, " b1 "))
            continue;
        A = (float *)bench_xmalloc(la * sizeof *A);
        B = (float *)bench_xmalloc(lb * sizeof *B);
        C = (float *)bench_xmalloc(lc * sizeof *C);
        bench_fill(A, la, -1.0f, 1.0f, &seed);
        bench_fill(B, lb, -1.0f, 1.0f, &seed);
        c.p = p;
        c.A = A;
        c.B = B;
        c.C = C;
        for (k = 0; k < 4; k++) {
            c.kind = k == 0 ? 4 : k == 1 ? 3 : k == 2 ? 2 : 0;
            t[k] = bench_time(run_gemm, &c, o->min_block / 4.0, o->reps, 0.0);
            if (k < 3 && t[k].median < t[best].median)
                best = k;
        }
        printf("%-24s %-6s %5zu %5zu %5zu | %9.3f %9.3f %9.3f | %-8s | "
               "%9.3f\n",
               p->label, op_names[p->op], p->M, p->N, p->K,
               t[0].median * 1e6, t[1].median * 1e6, t[2].median * 1e6,
               names[best], t[3].median * 1e6);
        if (csv)
            fprintf(csv, "%s,%s,%zu,%zu,%zu,%.6g,%.6g,%.6g,%.6g\n", p->label,
                    op_names[p->op], p->M, p->N, p->K, t[0].median,
                    t[1].median, t[2].median, t[3].median);
        free(A);
        free(B);
        free(C);
    }
}

/* ---- libnn's kernel against nn__gemm ---- */

typedef struct kernel_ctx {
    int ta, tb, infer, kernel; /* kernel: 1 the kernel, 0 nn__gemm */
    int form; /* B's form for the kernel; 0: gemm.c's rule */
    size_t M, N, K, lda, ldb;
    float alpha, beta;
    const float *A, *B, *packed, *bias;
    float *C, *buf;
} kernel_ctx;

static void run_kernel_ctx(void *vctx)
{
    kernel_ctx *c = (kernel_ctx *)vctx;
    if (c->infer && c->kernel) /* dense_forward_infer's kernel call */
        nn__kernel_gemm(0, 0, c->M, c->N, c->K, 1.0f, c->A, c->K, c->packed,
                        c->N, NN__B_PACKED, NULL, 0.0f, c->C, c->N, c->bias,
                        NN_ACT_RELU, 0.0f);
    else if (c->infer) { /* and its other path */
        nn__gemm(0, 0, c->M, c->N, c->K, 1.0f, c->A, c->K, c->B, c->N, 0.0f,
                 c->C, c->N);
        nn__activation_forward_bias(NN_ACT_RELU, 0.0f, c->C, c->bias, c->C,
                                    c->M, c->N, NULL);
    } else if (c->kernel) /* nn__gemm_train's kernel call */
        nn__kernel_gemm(c->ta, c->tb, c->M, c->N, c->K, c->alpha, c->A,
                        c->lda, c->B, c->ldb,
                        c->form ? c->form
                                : nn__kernel_train_form(c->tb, c->M, c->N),
                        c->buf, c->beta, c->C, c->N, NULL, NN_ACT_IDENTITY,
                        0.0f);
    else
        nn__gemm(c->ta, c->tb, c->M, c->N, c->K, c->alpha, c->A, c->lda,
                 c->B, c->ldb, c->beta, c->C, c->N);
}

/* One row of the kernel table: nn__gemm and the kernel in interleaved
 * blocks. op: 0 forward, 1 dW (the folded update's alpha and beta), 2
 * backward, 3 inference (bias and relu). */
static void kernel_row(const bench_opts *o, FILE *csv, const char *label,
                       int op, size_t M, size_t N, size_t K, float *buf)
{
    static const char *const names[] = {"X.W", "A^T.G", "G.W^T", "X.W+b"};
    kernel_ctx kc, bc;
    bench_stat sk, sb;
    uint64_t seed = 7;
    size_t la = M * K, lb = K * N, lc = M * N;
    float *A = (float *)bench_xmalloc(la * sizeof *A);
    float *B = (float *)bench_xmalloc(lb * sizeof *B);
    float *C = (float *)bench_xmalloc(lc * sizeof *C);
    float *bias = (float *)bench_xmalloc(N * sizeof *bias);
    float *P = NULL;
    int rule;
    bench_fill(A, la, -1.0f, 1.0f, &seed);
    bench_fill(B, lb, -1.0f, 1.0f, &seed);
    bench_fill(C, lc, -1.0f, 1.0f, &seed);
    bench_fill(bias, N, -0.1f, 0.1f, &seed);
    memset(&kc, 0, sizeof kc);
    kc.infer = op == 3;
    kc.ta = op == 1;
    kc.tb = op == 2;
    kc.M = M, kc.N = N, kc.K = K;
    kc.lda = kc.ta ? M : K;
    kc.ldb = kc.tb ? K : N;
    kc.alpha = op == 1 ? -0.01f : 1.0f;
    kc.beta = op == 1 ? 1.0f : 0.0f;
    kc.A = A, kc.B = B, kc.C = C, kc.bias = bias, kc.buf = buf;
    if (kc.infer) {
        P = (float *)bench_xmalloc(nn__kernel_packed_floats(K, N) *
                                   sizeof *P);
        nn__kernel_pack(0, K, N, B, N, P);
        kc.packed = P;
    }
    bc = kc;
    kc.kernel = 1;
    bench_time_pair(run_kernel_ctx, &bc, run_kernel_ctx, &kc, o->min_block,
                    o->reps, &sb, &sk);
    rule = kc.infer ? nn__kernel_infer(M, N, K)
                    : nn__kernel_train(kc.ta, kc.tb, M, N, K);
    printf("%-24s %-6s %5zu %5zu %5zu | %10.4g %10.4g | %6.2f | %s\n", label,
           names[op], M, N, K, sb.median * 1e6, sk.median * 1e6,
           sb.median / sk.median, rule ? "kernel" : "nn__gemm");
    fflush(stdout);
    if (csv)
        fprintf(csv, "%s,%s,%zu,%zu,%zu,%.9g,%.9g,%.6g,%.4f,%.4f,%d\n", label,
                names[op], M, N, K, sb.median, sk.median,
                sb.median / sk.median, bench_spread(&sb), bench_spread(&sk),
                rule);
    free(A);
    free(B);
    free(C);
    free(bias);
    free(P);
}

/* Lets the kernel run at one BLAS thread and returns the buffer its
 * training calls pack B into; NULL (and a line saying so) where the CPU
 * has neither AVX-512F nor AVX2 and FMA. */
static float *kernel_start(const char *what)
{
    if (!nn__kernel_force(1)) {
        printf("\n%s: the CPU has neither AVX-512F nor AVX2 and FMA, "
               "nothing to measure\n",
               what);
        return NULL;
    }
    if (nn_set_blas_threads(1) != NN_OK)
        fprintf(stderr, "%s\n", nn_last_error());
    return (float *)bench_xmalloc(NN__KERNEL_BUF_FLOATS * sizeof(float));
}

static void kernel_table(const bench_opts *o, FILE *csv)
{
    static const size_t nets[][4] = {{784, 256, 128, 10},
                                     {784, 1024, 1024, 10}};
    static const size_t batches[] = {1, 2, 3, 4, 16, 32, 128, 256};
    static const size_t sweep_m[] = {1, 2, 4, 8, 32};
    static const size_t sweep_nk[][2] = {{2, 2},   {4, 4},   {8, 8},
                                         {16, 16}, {32, 32}, {64, 64},
                                         {10, 128}};
    static const size_t dw_k[] = {4, 8, 12, 16, 24, 32};
    float *buf;
    size_t i, b, l, k;
    char label[64];
    if (!(buf = kernel_start("libnn's kernel")))
        return;
    printf("\nlibnn's kernel (%s build) against nn__gemm (CBLAS, or its "
           "direct loops), 1 thread, interleaved blocks, medians\n"
           "(training: forward X.W, dW = A^T.G with the folded update's "
           "alpha and beta, backward G.W^T; inference: X.W + b and relu, "
           "the\nweights packed, against nn__gemm and the bias pass; ratio "
           "= nn__gemm / kernel; rule: what gemm.c's rule picks)\n",
           nn__kernel_isa() == NN__KERNEL_AVX2 ? "AVX2" : "AVX-512");
    printf("%-24s %-6s %5s %5s %5s | %10s %10s | %6s | %s\n",
           "net, batch, layer", "op", "M", "N", "K", "nn__gemm us",
           "kernel us", "ratio", "rule");
    if (csv)
        fprintf(csv, "\nlabel,op,M,N,K,gemm_s,kernel_s,ratio,gemm_spread,"
                     "kernel_spread,rule_kernel\n");
    for (i = 0; i < sizeof nets / sizeof nets[0]; i++)
        for (b = 0; b < sizeof batches / sizeof batches[0]; b++) {
            size_t n = batches[b];
            for (l = 0; l < 3; l++) {
                size_t in = nets[i][l], out = nets[i][l + 1];
                snprintf(label, sizeof label, "%zu-%zu-%zu-%zu b%zu L%zu",
                         nets[i][0], nets[i][1], nets[i][2], nets[i][3], n,
                         l + 1);
                kernel_row(o, csv, label, 0, n, out, in, buf);
                kernel_row(o, csv, label, 1, in, out, n, buf);
                if (l > 0)
                    kernel_row(o, csv, label, 2, n, in, out, buf);
                if (n == 1 || n == 32 || n == 256)
                    kernel_row(o, csv, label, 3, n, out, in, buf);
            }
        }
    for (k = 0; k < sizeof dw_k / sizeof dw_k[0]; k++) {
        kernel_row(o, csv, "dW sweep", 1, 784, 256, dw_k[k], buf);
        kernel_row(o, csv, "dW sweep", 1, 128, 10, dw_k[k], buf);
    }
    for (i = 0; i < sizeof sweep_m / sizeof sweep_m[0]; i++)
        for (k = 0; k < sizeof sweep_nk / sizeof sweep_nk[0]; k++)
            kernel_row(o, csv, "inference sweep", 3, sweep_m[i],
                       sweep_nk[k][0], sweep_nk[k][1], buf);
    free(buf);
    (void)nn__kernel_force(-1);
}

/* ---- B in place against B packed a block at a time ---- */

/* The training products whose B gemm.c may read in place (forward X W and
 * dW = Xᵀ G; the backward product reads Wᵀ, which is always packed), both
 * forms in interleaved blocks. */
static void forms_table(const bench_opts *o, FILE *csv)
{
    static const size_t shapes[][4] = {
        /* net's widths in, out; batch */
        {784, 256, 32, 0},  {784, 256, 128, 0},  {784, 256, 512, 0},
        {256, 128, 128, 0}, {256, 128, 512, 0},  {128, 10, 128, 0},
        {784, 1024, 256, 0}, {1024, 1024, 256, 0}, {1024, 10, 256, 0}};
    static const char *const names[] = {"X.W", "A^T.G"};
    float *buf;
    size_t i;
    int op;
    if (!(buf = kernel_start("B's forms")))
        return;
    printf("\nThe kernel with B read in place against B packed a block at a "
           "time, 1 thread, interleaved blocks, medians\n"
           "(ratio = in place / packed; rule: the form gemm.c's rule "
           "picks)\n");
    printf("%-8s %5s %5s %5s | %10s %10s | %6s | %s\n", "op", "M", "N", "K",
           "packed us", "in place", "ratio", "rule");
    if (csv)
        fprintf(csv, "\nop,M,N,K,packed_s,in_place_s,ratio,packed_spread,"
                     "in_place_spread,rule_in_place\n");
    for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (op = 0; op < 2; op++) {
            size_t in = shapes[i][0], out = shapes[i][1], n = shapes[i][2];
            size_t M = op ? in : n, N = out, K = op ? n : in;
            size_t la = M * K, lb = K * N, lc = M * N;
            uint64_t seed = 11;
            float *A = (float *)bench_xmalloc(la * sizeof *A);
            float *B = (float *)bench_xmalloc(lb * sizeof *B);
            float *C = (float *)bench_xmalloc(lc * sizeof *C);
            kernel_ctx pk, ip;
            bench_stat sp, si;
            int rule;
            bench_fill(A, la, -1.0f, 1.0f, &seed);
            bench_fill(B, lb, -1.0f, 1.0f, &seed);
            bench_fill(C, lc, -1.0f, 1.0f, &seed);
            memset(&pk, 0, sizeof pk);
            pk.ta = op;
            pk.kernel = 1;
            pk.M = M, pk.N = N, pk.K = K;
            pk.lda = op ? M : K;
            pk.ldb = N;
            pk.alpha = op ? -0.01f : 1.0f;
            pk.beta = op ? 1.0f : 0.0f;
            pk.A = A, pk.B = B, pk.C = C, pk.buf = buf;
            pk.form = NN__B_PACK_BLOCKS;
            ip = pk;
            ip.form = NN__B_IN_PLACE;
            bench_time_pair(run_kernel_ctx, &pk, run_kernel_ctx, &ip,
                            o->min_block, o->reps, &sp, &si);
            rule = nn__kernel_train_form(0, M, N) == NN__B_IN_PLACE;
            printf("%-8s %5zu %5zu %5zu | %10.4g %10.4g | %6.3f | %s\n",
                   names[op], M, N, K, sp.median * 1e6, si.median * 1e6,
                   si.median / sp.median, rule ? "in place" : "packed");
            fflush(stdout);
            if (csv)
                fprintf(csv, "%s,%zu,%zu,%zu,%.9g,%.9g,%.6g,%.4f,%.4f,%d\n",
                        names[op], M, N, K, sp.median, si.median,
                        si.median / sp.median, bench_spread(&sp),
                        bench_spread(&si), rule);
            free(A);
            free(B);
            free(C);
        }
    free(buf);
    (void)nn__kernel_force(-1);
}

int main(int argc, char **argv)
{
    bench_opts o;
    FILE *csv = NULL;
    if (bench_parse(argc, argv, &o, NULL))
        return 1;
    csv = bench_open_csv(&o);
    bench_spin(1.0);
    bench_print_header("bench_gemm", csv);
    /* --only crossover runs the batch-1 table and the sweep alone, --only
     * kernel the kernel's table, --only forms B's two forms in the kernel;
     * any other --only, the shapes table. */
    if (!o.only || (strcmp(o.only, "crossover") &&
                    strcmp(o.only, "kernel") && strcmp(o.only, "forms")))
        shapes_table(&o, csv);
    if (!o.only || !strcmp(o.only, "crossover")) {
        batch_one(&o, csv);
        crossover(&o, csv);
    }
    if (!o.only || !strcmp(o.only, "kernel"))
        kernel_table(&o, csv);
    if (!o.only || !strcmp(o.only, "forms"))
        forms_table(&o, csv);
    if (csv)
        fclose(csv);
    return 0;
}
