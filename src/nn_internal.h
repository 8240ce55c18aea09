/* SPDX-License-Identifier: MIT */
/*
 * nn_internal.h - struct nn_model and the helpers shared between libnn's
 * source files (nn__ prefix). Nothing here is API.
 */
#ifndef NN_INTERNAL_H
#define NN_INTERNAL_H

#include "nn.h"

#include <stddef.h>
#include <stdint.h>

#include "base.h" /* allocation, sizes, errors */
#include "file.h" /* file operations, atomic saves */

/* ---- random numbers (rng.c) ---- */
typedef struct nn__rng {
    uint64_t s[4];
} nn__rng;

void nn__rng_seed(nn__rng *rng, uint64_t seed);
uint64_t nn__rng_next(nn__rng *rng);
/* Uniform in [0, 1) with 24 random bits. */
float nn__rng_float(nn__rng *rng);

/* ---- the matrix product (gemm.c) ---- */
/* C (M x N) = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or Xᵀ
 * according to trans_a / trans_b (0 or 1). lda, ldb, ldc are the row strides
 * of A, B, C as stored. nn__gemm calls CBLAS, or direct loops for tiny
 * products; nn__gemm_ref is the naive triple loop kept beside it as the
 * reference. */
void nn__gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K,
              float alpha, const float *A, size_t lda, const float *B,
              size_t ldb, float beta, float *C, size_t ldc);
void nn__gemm_ref(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                  float alpha, const float *A, size_t lda, const float *B,
                  size_t ldb, float beta, float *C, size_t ldc);
/* Where nn__gemm gives the BLAS a product in parts, each of which
 * OpenBLAS forms on the calling thread (gemm.c; measured there): the
 * length of a part along *side (rows of C, columns of C, or k), or 0
 * where the product goes to the BLAS whole. Depends on the shape and the
 * BLAS's thread count. */
enum { NN__PART_ROWS, NN__PART_COLUMNS, NN__PART_K };
size_t nn__blas_part(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                     int *side);

/* ---- libnn's own product for AVX-512 and AVX2 CPUs (gemm_avx512.c) ----
 * Built on x86-64 with GCC or clang (NN__HAVE_KERNEL), unless NN_NO_KERNEL
 * is defined (the CMake option NN_KERNEL=OFF); run only where the CPU has
 * AVX-512F, or AVX2 and FMA, and only for the products gemm.c's rule gives
 * it. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(NN_NO_KERNEL)
#define NN__HAVE_KERNEL 1
#else
#define NN__HAVE_KERNEL 0
#endif
/* Which build of the kernel runs (gemm_avx512.c): the AVX-512 one where
 * the CPU has AVX-512F, else the AVX2 one where it has AVX2 and FMA, else
 * none; NN_GEMM=blas in the environment when libnn first asks chooses
 * none, NN_GEMM=avx2 the AVX2 build where the CPU has it. Once per
 * process, the same answer in every thread. The two builds give the same
 * bits but lay out packed weights differently (pack.c). */
#define NN__KERNEL_NONE 0
#define NN__KERNEL_AVX2 2
#define NN__KERNEL_AVX512 3
int nn__kernel_isa(void);
/* 1 if a build of the kernel runs (nn__kernel_isa() is not NONE). */
int nn__kernel_on(void);
/* Tests and benchmarks: 1 runs the best build the CPU has,
 * NN__KERNEL_AVX2 the AVX2 build (where the CPU has it), 0 none, -1
 * decides again as above; returns nn__kernel_on's answer from then on.
 * Only while no other thread is inside libnn. */
int nn__kernel_force(int on);
/* Tests: 1 makes the AVX-512 build's tiles prefetch (PF_K, gemm_avx512.c),
 * 0 not, -1 decides again from the CPU. Only while no other thread is
 * inside libnn. Where NN__HAVE_KERNEL. */
void nn__kernel_prefetch_force(int on);
/* The builds' entry points, behind nn__kernel_packed_floats, _pack and
 * _gemm below (gemm_kernel.h). */
size_t nn__k512_packed_floats(size_t K, size_t N);
size_t nn__k256_packed_floats(size_t K, size_t N);
void nn__k512_pack(int trans_b, size_t K, size_t N, const float *B,
                   size_t ldb, float *dst);
void nn__k256_pack(int trans_b, size_t K, size_t N, const float *B,
                   size_t ldb, float *dst);
void nn__k512_gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                   float alpha, const float *A, size_t lda, const float *B,
                   size_t ldb, int b_form, float *buf, float beta, float *C,
                   size_t ldc, const float *bias, int act, float slope);
void nn__k256_gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                   float alpha, const float *A, size_t lda, const float *B,
                   size_t ldb, int b_form, float *buf, float beta, float *C,
                   size_t ldc, const float *bias, int act, float slope);
void nn__k512_gemm_top(int trans_a, int trans_b, size_t M, size_t N,
                       size_t K, float alpha, const float *A, size_t lda,
                       const float *B, size_t ldb, int b_form, float *buf,
                       float beta, float *C, size_t ldc, const float *bias,
                       int act, float slope, uint32_t *top);
void nn__k256_gemm_top(int trans_a, int trans_b, size_t M, size_t N,
                       size_t K, float alpha, const float *A, size_t lda,
                       const float *B, size_t ldb, int b_form, float *buf,
                       float beta, float *C, size_t ldc, const float *bias,
                       int act, float slope, uint32_t *top);
/* Floats of op(B) (K x N) packed by nn__kernel_pack; 0 on overflow. */
size_t nn__kernel_packed_floats(size_t K, size_t N);
/* Copies op(B) (K x N; B is K x N, or N x K with trans_b, row stride ldb)
 * into dst in the kernel's panel layout. Only where nn__kernel_on(). */
void nn__kernel_pack(int trans_b, size_t K, size_t N, const float *B,
                     size_t ldb, float *dst);
/* How nn__kernel_gemm finds B: packed by nn__kernel_pack; read in place
 * (K x N, row stride ldb); or packed a block at a time into buf, which has
 * room for NN__KERNEL_BUF_FLOATS floats (B is then K x N, or N x K with
 * trans_b). The three give the same bits. */
#define NN__B_PACKED 1
#define NN__B_IN_PLACE 2
#define NN__B_PACK_BLOCKS 3
#define NN__KERNEL_BUF_FLOATS ((size_t)256 * 480)
/* C (M x N, row stride ldc) = alpha op(A) op(B) + beta C (beta 0: C is not
 * read), then bias (N floats, or NULL) added to every row, then act
 * (NN_ACT_RELU, NN_ACT_LEAKY_RELU with slope; anything else: none). A is
 * M x K, or K x M with trans_a (row stride lda); B as b_form says. M, N
 * and K are at least 1. The same bits whichever form B takes and however
 * many rows M has (see gemm_avx512.c). Only where nn__kernel_on(). */
void nn__kernel_gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                     float alpha, const float *A, size_t lda, const float *B,
                     size_t ldb, int b_form, float *buf, float beta, float *C,
                     size_t ldc, const float *bias, int act, float slope);
/* nn__kernel_gemm, and where act is NN_ACT_RELU and top is not NULL, *top
 * raised to the largest bits among C's new values (relu outputs, at least
 * +0, so their bits order as their values): the number the dense layer's
 * bias pass notes for the folded update (nn__activation_forward_bias). */
void nn__kernel_gemm_top(int trans_a, int trans_b, size_t M, size_t N,
                         size_t K, float alpha, const float *A, size_t lda,
                         const float *B, size_t ldb, int b_form, float *buf,
                         float beta, float *C, size_t ldc, const float *bias,
                         int act, float slope, uint32_t *top);
/* Whether a dense layer's inference product X W + b, of M rows, N outputs
 * and K inputs, takes the kernel (gemm.c; measured there). A function of
 * the shape alone, once nn__kernel_on() has answered. */
int nn__kernel_infer(size_t M, size_t N, size_t K);
/* Whether a training pass's product (as nn__gemm's arguments) takes the
 * kernel (gemm.c; measured there); a function of the shape alone, once
 * nn__kernel_on() has answered. */
int nn__kernel_train(int trans_a, int trans_b, size_t M, size_t N,
                     size_t K);
/* How nn__gemm_train hands B to the kernel for a product of M rows and N
 * columns: NN__B_IN_PLACE or NN__B_PACK_BLOCKS (gemm.c; measured there). */
int nn__kernel_train_form(int trans_b, size_t M, size_t N);
/* Floats of buf nn__gemm_train needs for a product of M rows whose op(B)
 * is K x N (at most 2 NN__KERNEL_BUF_FLOATS: two where the product may run
 * on two threads; 0 where the kernel does not run). */
size_t nn__kernel_buf_floats(size_t M, size_t K, size_t N);
/* nn__gemm for the training passes: libnn's kernel where
 * nn__kernel_train takes the product and buf is not NULL (room for
 * nn__kernel_buf_floats(M, K, N) floats), nn__gemm otherwise. The kernel
 * runs the largest products on two threads where the BLAS has two
 * (gemm.c), with the same bits as on one. */
void nn__gemm_train(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                    float alpha, const float *A, size_t lda, const float *B,
                    size_t ldb, float beta, float *C, size_t ldc,
                    float *buf);
/* A dense relu layer's forward product: C = relu(A B + bias) (A M x K, B
 * K x N, C M x N, row strides lda, ldb, ldc), with *top raised to the
 * largest bits among C's values, in the kernel's last pass over C;
 * returns 1. Where the kernel does not take the product (as
 * nn__gemm_train), C = A B only, and 0: the caller's bias pass follows.
 * The same bits as the product and that pass. */
int nn__gemm_train_relu(size_t M, size_t N, size_t K, const float *A,
                        size_t lda, const float *B, size_t ldb, float *C,
                        size_t ldc, float *buf, const float *bias,
                        uint32_t *top);

/* On x86-64 with GCC, the hot loops are compiled twice, for the baseline
 * and for AVX2 (x86-64-v3), some three times (NN__WIDE_CLONES, AVX-512
 * too), and the loader picks one for the machine (an ifunc). The clones
 * compute the same operations in the same order (GCC does not contract
 * into FMA in ISO C mode), so results do not depend on the machine
 * (test_clones holds each against a baseline build of its source). Only
 * for static functions: the dispatcher of an external one is exported
 * whatever its visibility. Not with clang: clang 14 exports the
 * dispatchers of static functions too (tests/abi sees them), and it
 * contracts a * b + c into FMA by default, which would make results
 * depend on the machine. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    defined(__linux__) && !defined(NN_NO_CLONES) && \
    !defined(__SANITIZE_THREAD__)
#define NN__VECTOR_CLONES \
    __attribute__((target_clones("arch=x86-64-v3", "default")))
/* Also for AVX-512 (x86-64-v4): the layers' loops over a whole block of
 * activations (dropout, batch and layer normalization), whose added time
 * in a step fell to 0.6-0.85 of the v3 clones' (bench_layers). Not the
 * kernels a small net calls on a handful of floats: with v4 clones of
 * those too, 2-2-1 steps ran at a median 0.70 and 0.73 of the samples/s
 * (bench/ab.sh, --only 2-2-1 --batch 1 --threads 1, 9 and 11 pairs). */
#define NN__WIDE_CLONES                                                       \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3",         \
                                 "default")))
/* A second copy of a loop written over eight doubles in one vector (one
 * AVX-512 register), compiled for x86-64-v4 (NN__V4) and called from any
 * clone where the CPU has it (nn__cpu_v4): layers.h's nn__wide8. One
 * vector of eight cannot serve the other clones, whose 256-bit registers
 * GCC holds it in through the stack. */
#define NN__WIDE_LANES 1
#define NN__V4 __attribute__((target("arch=x86-64-v4")))
static inline int nn__cpu_v4(void)
{
    __builtin_cpu_init(); /* returns at once once done */
    return __builtin_cpu_supports("x86-64-v4");
}
#else
#define NN__VECTOR_CLONES
#define NN__WIDE_CLONES
#endif

/* ---- activations (activation.c) ---- */
int nn__activation_valid(int act);
/* Whether the derivative of act needs z (the pre-activation) and not only
 * a = f(z): GELU, SiLU, softplus and ELU. Layers keep Z for these. */
static inline int nn__activation_needs_z(int act)
{
    /* GELU, SiLU, softplus and ELU: one range of nn_activation's values,
     * so that a step asks one comparison */
    return (unsigned)act - NN_ACT_GELU <= NN_ACT_ELU - NN_ACT_GELU;
}
/* The activation kernels take the activation's parameter p: the leaky
 * relu slope, or ELU's alpha (nn__act_param picks it for a layer). */
/* a (n x k) = f(z); a == z is allowed. */
void nn__activation_forward(int act, float p, const float *z, float *a,
                            size_t n, size_t k);
/* a (n x k) = f(z) as nn__activation_forward does, out of place (a != z),
 * in the same pass returning the largest nn__abs_bits of a. */
uint32_t nn__activation_forward_top(int act, float p, const float *z,
                                    float *a, size_t n, size_t k);
/* z (n x k) += b (k) on every row, then a = f(z): the bias and the
 * activation of a layer whose product left X.W in z. a == z is allowed
 * (one pass over the block); otherwise z keeps the pre-activations. If top is not NULL, *top = the largest
 * nn__abs_bits (nn_math.h) of a. */
void nn__activation_forward_bias(int act, float p, float *z,
                                 const float *b, float *a, size_t n,
                                 size_t k, uint32_t *top);
/* g (n x k) *= f'(z), f' expressed through a = f(z), or through z for the
 * activations that need it (z may be NULL otherwise); for softmax,
 * g = J(a)ᵀ g per row. */
void nn__activation_backward(int act, float p, const float *z,
                             const float *a, float *g, size_t n, size_t k);
/* gx (n x k) = the g nn__activation_backward would leave, from g left as
 * it is (gx != g): the same values in one pass. */
void nn__activation_backward_to(int act, float p, const float *z,
                                const float *a, const float *g, float *gx,
                                size_t n, size_t k);
/* nn__activation_backward, and in the same pass db (k) = the column sums
 * of the new g (added row by row from 0); returns the largest
 * nn__abs_bits of the new g. With NN_ACT_IDENTITY neither z nor a is read
 * (may be NULL): the sums and the largest magnitude of g alone. */
uint32_t nn__activation_backward_sums(int act, float p, const float *z,
                                      const float *a, float *g, float *db,
                                      size_t n, size_t k);
/* A relu's dL/dZ where a dropout layer follows (layers.h): g (n x k),
 * the dropout's dL/dy, becomes dL/dZ = (y > 0 ? g scale : 0) in place,
 * from the dropout's output y, with db and the largest bits as
 * nn__activation_backward_sums forms them for the relu from the
 * dropout's dL/da: the same bits. */
uint32_t nn__relu_dropout_sums(const float *y, float *g, float scale,
                               float *db, size_t n, size_t k);
/* The same for a relu activation layer: its dL/dx gx (len) = (y > 0 ?
 * g scale : 0), the bits of dropout's pass and then the relu's. */
void nn__relu_dropout_back(const float *y, const float *g, float scale,
                           float *gx, size_t len);
/* db (k) = the column sums of g (n x k), each added row by row from 0;
 * returns the largest nn__abs_bits of g. Row by row (vectorised along the
 * row) for wide blocks, column by column for narrow ones, where the row
 * loop would be all set-up: the same sums either way. g is not changed. */
uint32_t nn__column_sums(const float *g, float *db, size_t n, size_t k);
/* The largest nn__abs_bits of x[0, len): above 0x7f7fffff (FLT_MAX) if
 * some x[i] is infinite or NaN. */
uint32_t nn__max_abs_bits(const float *x, size_t len);
/* The logistic function, safe for any finite z. */
float nn__sigmoid(float z);

/* ---- losses (loss.c) ---- */
int nn__loss_valid(int loss);
/* Whether `loss` can follow an output layer of activation `act`. */
int nn__loss_fits(int loss, int act);
/* Whether `loss` is element-wise (MSE, L1, Huber): its gradient is dL/dA,
 * to which nn__loss_grad applies the output activation's derivative. */
static inline int nn__loss_elementwise(int loss)
{
    return loss == NN_LOSS_MSE || loss == NN_LOSS_L1 ||
           loss == NN_LOSS_HUBER;
}

/* What a loss needs besides the outputs and targets. */
typedef struct nn__loss_args {
    int loss;
    int act;                   /* the output activation, and its */
    float p;                   /* parameter (nn__out_act) */
    double huber_delta;        /* NN_PARAM_HUBER_DELTA */
    double smoothing;          /* NN_PARAM_LABEL_SMOOTHING */
    const float *class_w;      /* NULL, or k class weights */
    /* The rows the mean runs over: the batch's own (n), or more when the
     * rows given are a part of a larger batch (a data-parallel part, a
     * slice of an evaluation): the loss returned is then this part's
     * share of the whole's. */
    size_t rows;
    /* Cross-entropy with class weights and labels: sum of w_{y_i} over
     * those rows, or 0 to sum this batch's own. */
    double weight_sum;
} nn__loss_args;

/* Computes the batch loss and g = dL/dZ of the output activation (n x k).
 * z: its pre-activations (logits); a: its outputs (a == z for identity).
 * t: n x k targets, or NULL with labels (n class labels, checked by the
 * caller). Returns the loss. For the losses not fused with the
 * activation (MSE, L1, Huber after a non-identity activation) g includes
 * f'. */
double nn__loss_grad(const nn__loss_args *la, const float *z,
                     const float *a, const float *t, const int32_t *labels,
                     float *g, size_t n, size_t k);

/* ---- layers (src/layers/) ----
 *
 * A layer kind is a table of operations (nn__layer_ops) filled by one file
 * in src/layers/; each layer of a model points at its kind's table, and the
 * passes (train.c), the model (model.c) and the files (io.c) call the
 * table without knowing the kind. src/layers/README says how to add one.
 */
/* Layer settings are kept in one array indexed by nn_layer_param. */
#define NN__LAYER_PARAM_COUNT 7

typedef struct nn__layer_ops nn__layer_ops;

typedef struct nn__layer {
    const nn__layer_ops *ops;
    size_t in, out;            /* input and output width */
    int act;                   /* dense and activation layers; else 0 */
    double lp[NN__LAYER_PARAM_COUNT]; /* settings, by nn_layer_param */
    float act_p;               /* nn__act_param; nn__layer_settled sets it */
    /* Parameters, in the flat buffers: w_count weights at w_off, then
     * b_count biases at b_off = w_off + w_count. */
    size_t w_off, w_count, b_off, b_count;
    /* Buffers (running statistics, fixed scalings): buf_count floats at
     * buf_off in the model's buffer array. */
    size_t buf_off, buf_count;
} nn__layer;

/* The workspace of one inference pass over k rows (predict, evaluate). */
typedef struct nn__infer {
    const float *x;            /* the layer's input, k x in */
    float *y;                  /* room for its output, k x out */
    /* For the last layer of evaluate: room for k x out pre-activations, or
     * NULL. A layer with an activation writes them there (or points at
     * them) and sets *logits; every layer's output is its own logits
     * otherwise (the driver sees to that). */
    float *z;
    const float **logits;
    size_t k;
    float *scratch;            /* ops->infer_floats(layer, k) floats */
    const float *packed;       /* the layer's packed weights, or NULL */
} nn__infer;

struct nn__layer_ops {
    int kind;                  /* nn_layer_kind */
    const char *name;          /* as nn_layer_kind_name */
    unsigned keys;             /* bit k set: has nn_layer_param k */
    /* Sets out (dense: given), w_count, b_count and buf_count from in. */
    void (*shape)(nn__layer *L);
    /* Fills the layer's parameters and buffers as a new layer has them;
     * may draw from the model's generator. */
    void (*init)(nn_model *m, nn__layer *L);
    /* Floats of training workspace layer l needs for n rows beyond its
     * output and delta blocks. */
    size_t (*train_floats)(const nn_model *m, size_t l, size_t n);
    /* Training mode: from x (n x in) writes act[l], sets m->logits to the
     * block that holds its pre-activations (its output if it has no
     * activation) and act_top[l] to the largest nn__abs_bits of act[l]
     * (the last layer need not: nothing reads it). */
    void (*forward_train)(nn_model *m, size_t l, const float *x, size_t n);
    /* Inference mode, on a const model from any thread: writes a->y, or
     * returns a->x itself for the identity. Returns the output. */
    size_t (*infer_floats)(const nn__layer *L, size_t k);
    const float *(*forward_infer)(const nn_model *m, const nn__layer *L,
                                  const nn__infer *a);
    /* From delta[l] = dL/d(output of l) (dL/d(pre-activation) when dz is
     * set: the loss has applied the output activation's derivative),
     * writes the layer's gradients into the gradient buffer (but for what
     * weight_product forms) and dL/dx into delta[l - 1] when l > 0. x is
     * the layer's input, as forward_train read it (the normalizations
     * form x-hat from it again). A dense layer also notes delta_top[l]. */
    void (*backward)(nn_model *m, size_t l, const float *x, size_t n,
                     int dz);
    /* Dense: dst (its weights' layout) = beta dst + alpha xᵀ . dL/dZ, the
     * product that forms dW (alpha 1, beta 0, into the gradient buffer),
     * or that folds SGD's update into the weights or the momentum buffer
     * (optim.c). Called
     * after every layer's backward. NULL for kinds whose backward forms
     * every gradient. */
    void (*weight_product)(nn_model *m, size_t l, const float *x, size_t n,
                           float alpha, float beta, float *dst);
    /* After a training pass of n rows that succeeded: what the layer keeps
     * besides parameters (batch normalization's running statistics). NULL
     * if nothing. */
    void (*commit)(nn_model *m, size_t l, size_t n);
    /* Whether buffers read from a file or a caller are valid; on failure
     * *bad is the index of the first bad value. NULL: any finite value. */
    int (*buffers_valid)(const nn__layer *L, const float *buf, size_t *bad);
    /* Direct loops for small nets (small.c); NULL for kinds without. A
     * model takes that path only if every layer has them; a net of dense
     * layers alone runs the dense loops inlined in small.c's loop over
     * the layers, not through these pointers. */
    void (*small_forward)(nn_model *m, size_t l, const float *x, size_t n);
    void (*small_backward)(nn_model *m, size_t l, const float *x, size_t n,
                           int dz);
    /* Inference through libnn's kernel (pack.c): the floats of the copy of
     * the layer's weights laid out for it (0: the layer keeps none, as
     * where the kernel does not run), and the copy itself, into dst. NULL
     * for kinds without weights. */
    size_t (*pack_floats)(const nn__layer *L);
    void (*pack)(const nn_model *m, const nn__layer *L, float *dst);
    /* Training through libnn's kernel: the floats of room its products
     * of n rows need to pack B into (nn__gemm_train's buf; the workspace
     * holds the largest any layer needs). NULL for kinds without
     * products. */
    size_t (*kernel_floats)(const nn__layer *L, size_t n);
};

/* The table of a kind, or NULL (layers/table.c). */
const nn__layer_ops *nn__layer_kind(int kind);
/* The bounds and default of a layer setting (model.c); 0 if key is not an
 * nn_layer_param. */
typedef struct nn__bounds {
    double lo, hi, def;
    int integral; /* only whole numbers are accepted */
} nn__bounds;
int nn__layer_param_bounds(int key, nn__bounds *b);
/* The value a layer keeps for a setting: v itself, or v rounded to float
 * for the settings stored as floats (the leaky slope, ELU's alpha). */
static inline double nn__layer_param_stored(int key, double v)
{
    return key == NN_LAYER_LEAKY_SLOPE || key == NN_LAYER_ELU_ALPHA
               ? (double)(float)v
               : v;
}
/* After every write of a layer's settings (lp): what is derived from them
 * for the passes, which read it on every step. */
static inline void nn__layer_settled(nn__layer *L)
{
    L->act_p = (float)L->lp[L->act == NN_ACT_ELU ? NN_LAYER_ELU_ALPHA
                                                 : NN_LAYER_LEAKY_SLOPE];
}
/* The activation parameter of a layer: ELU's alpha or the leaky slope. */
static inline float nn__act_param(const nn__layer *L)
{
    return L->act_p;
}

/* Settings are kept in one array indexed by nn_param. */
#define NN__PARAM_COUNT 25
/* Optimizer state arrays: at most three. */
#define NN__STATE_ARRAYS 3

/* A run of nn_model_fit that a callback interrupted (fit.c). */
typedef struct nn__fit_run {
    int active;                /* an interrupted run is kept */
    uint64_t rows, batch_size; /* of the run's training set */
    uint64_t epoch;            /* the epoch in progress, from 1 */
    uint64_t batch;            /* batches of it done */
    nn__rng rng;               /* the generator before its shuffle */
    double loss_sum;           /* sum of loss x rows of its batches */
    double best;               /* early stopping: lowest monitored loss */
    uint64_t since_best;       /* epochs since */
    float *best_params;        /* that epoch's parameters, or NULL */
} nn__fit_run;

/* A metadata entry (model.c). */
typedef struct nn__meta {
    char *key;
    char *value;
} nn__meta;

struct nn_model {
    size_t input_width;
    size_t n_layers;
    size_t cap_layers;
    nn__layer *layers;
    int loss;                  /* 0 until set */

    size_t n_params;
    size_t cap_params;         /* floats allocated in params and grads */
    float *params;             /* each layer's weights then bias */
    float *grads;              /* same layout */
    size_t n_buffers;
    size_t cap_buffers;
    float *buffers;            /* each layer's buffers */

    double param[NN__PARAM_COUNT];
    size_t n_class_w;
    float *class_w;            /* NULL, or n_class_w class weights */
    size_t n_meta, cap_meta;
    nn__meta *meta;

    /* Optimizer: kind, and state in the parameters' layout. state[0] is the
     * momentum buffer (SGD, RMSprop) or first moment (Adam); state[1] the
     * second moment (Adam) or square average (RMSprop); state[2] the
     * largest second moment (AMSGrad) or the average gradient (centered
     * RMSprop). Each array is allocated, zeroed, at the first step that
     * needs it (nn__optim_prepare). */
    int opt;
    int sched;
    uint64_t steps;            /* updates since the optimizer was chosen */
    float *state[NN__STATE_ARRAYS];

    nn__rng rng;
    uint64_t seed;             /* nn_model_create's: dropout's key */
    /* Dropout: the position in the batch of the first row a training pass
     * sees (0; a pass over part of a batch sets it). */
    uint64_t row_offset;
    nn__fit_run run;
    /* Data parallelism (nn_model_set_batch_part and its kin): the rows of
     * the global batch (0: passes see whole batches) and the first of this
     * part's; the reducer; a failure of it during the pass; the callback
     * for finished gradients. */
    size_t part_rows, part_first;
    nn_reduce_fn reduce;
    void *reduce_user;
    int reduce_failed;
    nn_grads_ready_fn grads_ready;
    void *grads_ready_user;
    /* nn_model_set_replica: this process's rank among replica_count (0 or
     * 1: one process) and the gradients' reducer. */
    size_t replica_rank, replica_count;
    nn_reduce_grads_fn reduce_grads;
    void *reduce_grads_user;

    /* Workspace for training, sized for ws_rows rows: per layer an output
     * block and a gradient block (n x out_l each) and what the layer asks
     * for besides (extra). Grown, never shrunk. The gradient of every
     * layer is kept until the step ends, so that the weights can be
     * updated after all of them are known to be finite (optim.c). */
    size_t ws_rows;
    float *ws;                 /* single allocation */
    float *kbuf;               /* in it: room for the kernel to pack B
                                  into (kernel_floats), or NULL */
    float **act;               /* act[l]: n x out_l, layer l's output */
    float **delta;             /* delta[l]: n x out_l, dL/d(act[l]), or
                                  dL/dZ once the layer has applied f' */
    float **extra;             /* extra[l]: the layer's own, or NULL */
    const float *logits;       /* the output's pre-activations, set by the
                                  last layer's forward pass */
    /* The largest nn__abs_bits of each block, noted by the passes that
     * write them so that the folded update's check (optim.c) need not read
     * them again: act_top[l] of act[l], and delta_top[l] of dense layer
     * l's dL/dZ, both set by a training pass of the general path
     * (nn__run_batch) and valid until the next. */
    uint32_t *act_top;
    uint32_t *delta_top;
    /* An upper bound on every |weight|, kept by the folded update so that
     * its check need not read the weights each step (optim.c); valid while
     * w_bound_ok is set. Any other write to the parameters clears it
     * (nn__params_written), and so does handing out the writable buffer:
     * params_shared, set by nn_model_params, keeps it cleared until an
     * nn_model_add_* call replaces that buffer. */
    double w_bound;
    int w_bound_ok;
    int params_shared;
    /* The same for the momentum buffer (state[0]) under SGD with momentum:
     * an upper bound on every |B|, kept by the folded update and valid
     * while b_bound_ok is set. The buffer is written only by the optimizer
     * (its separate update clears the flag through nn__params_written) and
     * by loading (a new model), and freed by nn__optim_reset, which clears
     * it too. */
    double b_bound;
    int b_bound_ok;
    /* The largest batch that takes the small-net path of small.c (0:
     * none), set with the workspace, whose layout also depends on the
     * layers. Tests and benchmarks set it to compare the two paths. */
    size_t small_rows;
    /* Nonzero: the small path's sigmoid layers apply the vector kernels'
     * sigmoid (activation.c), as libnn 0.1 did, not nn__sigmoid_chain.
     * 0 in every model libnn makes; tests set it (test_compat). */
    int small_kernel_sigmoid;
    /* Whether a layer is batch normalization, whether a layer keeps
     * something after a pass (its ops have commit), and whether a layer is
     * of another kind than dense: set as layers are appended (layers are
     * never removed), so that a step asks no loop. */
    int has_batchnorm, has_commit, has_nondense;
    /* The first layer with parameters (n_layers when none has): the
     * layers below it have nothing to learn and nothing below them does,
     * so the backward pass stops there, and that layer forms no gradient
     * of its input (nn__delta_in). Set as layers are appended. */
    size_t grad_from;
    /* The model-level checks of nn__check_batch (loss set and fitting the
     * output, class weights, replicas) that passed for a whole batch, one
     * bit per kind of pass (nn__check_bit), so that a step of a tiny net
     * does not repeat them: set by nn__run_batch, cleared by every call
     * that changes what they read (nn__config_changed). */
    unsigned checked;
    /* nn_model_predict's scratch, kept for the next call: a block from
     * nn__malloc whose first size_t is its capacity in floats, taken and
     * given back with atomic exchanges (see train.c), so that concurrent
     * calls on a const model never share it. NULL: none kept. */
    void *infer_cache;
    /* The dense layers' weights laid out for the kernel (pack.c), built by
     * the first inference pass that finds none and published with atomic
     * operations: NULL (none), a placeholder while one call builds it, or
     * an nn__pack for the parameters as they are. Every write to the
     * parameters drops it (nn__params_written, nn__pack_drop), and none is
     * built while params_shared is set. */
    void *infer_pack;
};

struct nn_data {
    size_t n;
    const float *x;            /* NULL when the inputs are bytes */
    const uint8_t *xb;         /* the inputs as bytes (nn_data_create_u8) */
    size_t x_width;
    const float *t;            /* NULL when labels are given */
    size_t t_width;
    const int32_t *labels;     /* NULL when targets are given */
};

/* The rows whose statistics a training pass of n rows normalises by: n,
 * or the global batch's in a data-parallel part. */
static inline size_t nn__batch_rows(const nn_model *m, size_t n)
{
    return m->part_rows ? m->part_rows : n;
}
/* Whether the model is one of several replicas (nn_model_set_replica). */
static inline int nn__replicated(const nn_model *m)
{
    return m->replica_count > 1;
}
/* Sums values over the processes of a data-parallel pass through the
 * model's reducer (nothing without one); the first failure is noted in
 * m->reduce_failed. */
void nn__reduce(nn_model *m, double *values, size_t count);

/* The output activation the loss sees: the last layer's if it is a dense
 * or activation layer, else identity; *p its parameter. Inline, as the
 * next: every training step asks, and tiny nets feel a call. */
static inline int nn__out_act(const nn_model *m, float *p)
{
    const nn__layer *L;
    *p = 0.0f;
    if (m->n_layers == 0)
        return NN_ACT_IDENTITY;
    L = &m->layers[m->n_layers - 1];
    if (L->act == 0)
        return NN_ACT_IDENTITY;
    *p = nn__act_param(L);
    return L->act;
}
/* The loss's arguments for the model, its mean over rows rows. */
static inline void nn__loss_args_of(const nn_model *m, size_t rows,
                                    nn__loss_args *la)
{
    la->loss = m->loss;
    la->act = nn__out_act(m, &la->p);
    la->huber_delta = m->param[NN_PARAM_HUBER_DELTA];
    la->smoothing = m->param[NN_PARAM_LABEL_SMOOTHING];
    la->class_w = m->loss == NN_LOSS_CROSS_ENTROPY ? m->class_w : NULL;
    la->rows = rows;
    la->weight_sum = 0.0;
}

/* Appends a layer of the kind ops (model.c): out is the width for dense
 * layers (ignored otherwise), act the activation for dense and activation
 * layers. With init, the new layer's parameters and buffers are drawn or
 * set as the kind's init does; otherwise they are left zero for the caller
 * to fill (the loader). Checks nothing the caller must check (act, widths,
 * softmax); checks sizes. */
nn_status nn__layer_append(const char *fn, nn_model *m,
                           const nn__layer_ops *ops, size_t out, int act,
                           int init);
/* Makes room for n_layers layers, n_params parameters and n_buffers
 * buffer floats in all, so that appends up to them allocate nothing. */
nn_status nn__model_reserve(const char *fn, nn_model *m, size_t n_layers,
                            size_t n_params, size_t n_buffers);
/* Whether p is aligned for a float (and an int32_t). */
static inline int nn__aligned(const void *p)
{
    return ((uintptr_t)p & 3u) == 0;
}

/* Releases the training workspace (it is rebuilt on the next step). */
void nn__workspace_free(nn_model *m);
/* Ends an interrupted fit run, if any (fit.c). */
void nn__fit_run_end(nn_model *m);

/* ---- the optimizer (optim.c) ---- */
/* NN_OK if every gradient is finite, else NN_E_NONFINITE naming the layer. */
nn_status nn__check_grads(const char *fn, const nn_model *m);

/* Applies the gradient buffer with the model's optimizer (optim.c). */
nn_status nn__optim_step(const char *fn, nn_model *m);
/* The step of SGD folded into the weights' products: with the workspace
 * holding the forward pass of x (n rows), every layer's delta, and the
 * gradients of every parameter but the dense weights in the gradient
 * buffer, applies W_l = (1 - lr wd) W_l - lr A_{l-1}ᵀ delta_l (plain SGD)
 * or B_l = mu B_l + damp (wd W_l + A_{l-1}ᵀ delta_l), W_l -= lr B_l
 * (classical momentum, buffer B) through the products, and the update of
 * every other parameter; returns 1.
 * Returns 0 having changed nothing where the optimizer's settings need
 * the gradient buffer, or where it cannot show beforehand that every new
 * value is finite (then nn__optim_step decides, and reports). The
 * optimizer's state must be allocated (nn__optim_prepare). */
int nn__optim_fused(nn_model *m, const float *x, size_t n);
/* The checks of nn__optim_fused alone: 1 if it would apply the step. */
int nn__optim_fused_ready(const nn_model *m, const float *x, size_t n);
/* The copy of the weights inference reads (pack.c): an nn__pack, or NULL
 * where there is none and the passes read the parameters themselves. */
typedef struct nn__pack {
    size_t n_layers;
    const float **w;           /* w[l]: layer l's copy, or NULL */
    int isa;                   /* the kernel build whose layout it has */
} nn__pack;
/* For a pass on a const model, from any thread: the copy for the
 * parameters as they are, built now if there is none (and the kernel runs,
 * a layer wants one and params_shared is not set); NULL if there is none
 * and another call is building it, or if it cannot be allocated. The
 * passes give the same results with it and without (gemm_avx512.c). */
const nn__pack *nn__pack_get(const nn_model *m);
/* Frees the copy; every write to the parameters calls it (through
 * nn__params_written), as do nn__optim_fused and nn_model_free. Never
 * while a call on the const model runs. */
void nn__pack_drop(nn_model *m);
/* To be called by every write to the parameters other than the folded
 * update: the bound on the weights that update keeps no longer holds, and
 * the copy inference reads is out of date. */
static inline void nn__params_written(nn_model *m)
{
    m->w_bound_ok = 0;
    m->b_bound_ok = 0;
    nn__pack_drop(m);
}
/* Allocates, zeroed, the optimizer state arrays the optimizer and its
 * settings need and the model lacks. *added (if not NULL) receives a mask
 * of the arrays allocated, for nn__optim_unprepare. */
nn_status nn__optim_prepare_arrays(const char *fn, nn_model *m,
                                   unsigned *added);
/* The number of state arrays the optimizer and its settings use. */
static inline unsigned nn__optim_arrays(const nn_model *m)
{
    switch (m->opt) {
    case NN_OPT_SGD: return 1;
    case NN_OPT_ADAM:
    case NN_OPT_ADAMW: return m->param[NN_PARAM_AMSGRAD] != 0.0 ? 3 : 2;
    default: return m->param[NN_PARAM_CENTERED] != 0.0 ? 3 : 2;
    }
}
static inline nn_status nn__optim_prepare(const char *fn, nn_model *m,
                                          unsigned *added)
{
    unsigned k = nn__optim_arrays(m);
    if (m->state[0] && (k < 2 || m->state[1]) && (k < 3 || m->state[2])) {
        if (added)
            *added = 0; /* every step after the first */
        return NN_OK;
    }
    return nn__optim_prepare_arrays(fn, m, added);
}
/* Releases the arrays in the mask: a step that allocated state and then
 * failed leaves the model as it found it. */
void nn__optim_unprepare(nn_model *m, unsigned added);
/* The number of state arrays the optimizer keeps with its settings now,
 * and the most it can keep. */
unsigned nn__optim_max_arrays(int opt);
/* Allocates exactly `count` zeroed state arrays (the loader). */
nn_status nn__optim_alloc(const char *fn, nn_model *m, unsigned count);
/* Releases the optimizer state; the next step starts from scratch. */
void nn__optim_reset(nn_model *m);
/* The bounds of every setting; 0 if key is not an nn_param (model.c). */
int nn__param_bounds(int key, nn__bounds *b);
/* Default of every setting (model.c). */
void nn__params_default(double *param);

/* ---- batches (train.c) ---- */
#define NN__LABELS 1 /* the targets are class labels, not rows of t */
#define NN__STEP 2   /* one forward/backward pass: at most INT_MAX rows */
#define NN__TRAIN 4  /* and the optimizer's update, which checks them */
#define NN__X_BYTES 8 /* x is a byte dataset's rows (nn__check_batch) */
/* The bit of nn_model.checked for a pass with these flags. */
static inline unsigned nn__check_bit(int flags)
{
    return 1u << (flags & (NN__LABELS | NN__TRAIN));
}
/* Forgets the model-level checks that passed (nn_model.checked): every
 * change of the layers, the loss, the class weights or the data-parallel
 * settings calls it. */
static inline void nn__config_changed(nn_model *m)
{
    m->checked = 0;
}

/* Whether n * width elements of elem bytes fit in size_t. */
int nn__bytes_fit(size_t n, size_t width, size_t elem);
/* How nn__check_rows reads its arguments: the targets are class labels
 * (else floats t); x is bytes (else floats). */
#define NN__ROWS_LABELS 1
#define NN__ROWS_X_BYTES 2
/* The checks every call taking rows starts with: x and the targets
 * (t, or labels with NN__ROWS_LABELS in how) not NULL and aligned for their
 * types, n not 0. */
nn_status nn__check_rows(const char *fn, size_t n, const void *x,
                         const void *targets, int how);
/* The same, with n = 0 allowed when allow_empty is set. */
nn_status nn__check_rows_empty(const char *fn, size_t n, const void *x,
                               const void *targets, int how,
                               int allow_empty);
/* Validates a batch against the model (t, or labels with NN__LABELS; t_width
 * is ignored with labels; x is checked only for NULL and alignment: floats,
 * or bytes with NN__X_BYTES) and records the message under fn. */
nn_status nn__check_batch(const char *fn, const nn_model *m, size_t n,
                          const void *x, size_t x_width, const float *t,
                          size_t t_width, const int32_t *labels, int flags);
/* Whether a training pass needs two rows at least (batch normalization). */
static inline int nn__needs_two_rows(const nn_model *m)
{
    return m->has_batchnorm;
}
/* Grows the training workspace to n rows (train.c; never shrinks it). */
nn_status nn__workspace_grow(const char *fn, nn_model *m, size_t n);
/* The same, inline where the workspace is big enough already, as it is
 * at almost every step. */
static inline nn_status nn__workspace_reserve(const char *fn, nn_model *m,
                                              size_t n)
{
    return n <= m->ws_rows ? NN_OK : nn__workspace_grow(fn, m, n);
}
/* Checks, then forward, loss and backward: the gradient buffer holds this
 * batch's gradients. With NN__TRAIN, also the optimizer's update (after
 * which the gradient buffer's contents are unspecified). */
nn_status nn__run_batch(const char *fn, nn_model *m, size_t n,
                        const float *x, size_t x_width, const float *t,
                        size_t t_width, const int32_t *labels, int flags,
                        double *loss_out);
/* Rows per slice of a prediction: bounds predict's scratch memory. */
#define NN__PREDICT_ROWS 256
/* Floats of scratch nn__forward_rows needs for k rows. 0 on overflow. */
size_t nn__infer_floats(const nn_model *m, size_t k);
/* Frees nn_model_predict's kept scratch (nn_model_free). */
void nn__infer_cache_free(nn_model *m);
/* Inference-mode forward pass of k rows through a const model, with
 * scratch of nn__infer_floats(m, k) floats: y (k x out) receives the
 * output. With z (room for k x out floats), *logits receives the output
 * activation's pre-activations (in z, or in another block of the pass).
 * pack: nn__pack_get's answer for the model, or NULL. */
void nn__forward_rows(const nn_model *m, const float *x, size_t k,
                      float *scratch, float *y, float *z,
                      const float **logits, const nn__pack *pack);

/* Largest layer width, input width included. */
size_t nn__max_width(const nn_model *m);

/* ---- small nets (small.c) ---- */
/* A batch takes the direct loops of the layers' small_forward and
 * small_backward when its rows times the net's multiply-adds per row are
 * at most this (measured crossover in small.c). */
#define NN__SMALL_WORK 320
/* The largest batch for which m takes the small-net path (0: none). */
size_t nn__small_rows(const nn_model *m);
/* Whether a layer of the small path with activation act and a block of n
 * rows of out floats applies nn__sigmoid_chain and its derivative in the
 * loops, element by element, as a step waits for them: a sigmoid layer
 * of one row narrower than NN__CHAIN_FLOATS. Other blocks take the vector
 * kernels, whose throughput counts there (2-2-1 at batch 32 ran at 0.66
 * of the samples/s with the chain sigmoid on every block). */
#define NN__CHAIN_FLOATS 8
static inline int nn__chain_block(int act, size_t n, size_t out)
{
    return act == NN_ACT_SIGMOID && n == 1 && out < NN__CHAIN_FLOATS;
}
/* The small path's training passes over every layer (each has the loops:
 * nn__small_rows): forward from x, and backward from the last layer's
 * delta, which the loss filled with dL/dZ, or with dL/dA where out_da is
 * set (the last layer then applies its activation's derivative). */
void nn__small_forward(nn_model *m, const float *x, size_t n);
void nn__small_backward(nn_model *m, const float *x, size_t n, int out_da);

/* ---- checksums (crc32.c) ---- */
/* CRC-32 as zlib's crc32() computes it: crc is 0 to start, or the value
 * returned for the bytes before buf to continue. */
uint32_t nn__crc32(uint32_t crc, const void *buf, size_t len);

/* ---- model files (io.c) ---- */
/* nn_model_save and nn_model_load through the given operations. */
nn_status nn__model_save_ops(const nn_model *model, const char *path,
                             nn_save_what what, const nn__file_ops *ops);
nn_status nn__model_load_ops(nn_model **out, const char *path,
                             const nn__file_ops *ops);

#endif /* NN_INTERNAL_H */
