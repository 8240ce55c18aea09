/*
 * nn_internal.h - struct nn_model and the helpers shared between libnn's
 * source files (nn__ prefix). Nothing here is API.
 */
#ifndef NN_INTERNAL_H
#define NN_INTERNAL_H

#include "nn.h"

#include <stddef.h>
#include <stdint.h>

/* ---- allocation (alloc.c): every allocation of the library goes here ---- */
void *nn__malloc(size_t size);
void *nn__calloc(size_t count, size_t size);
void nn__free(void *p);

/* ---- sizes ---- */
/* *out = a * b; returns 0 on overflow. Inline: every batch checks its
 * sizes, and a call costs as much as the check. */
static inline int nn__mul_size(size_t a, size_t b, size_t *out)
{
#if defined(__GNUC__) /* GCC and Clang: no division */
    size_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return 0;
    *out = r;
#else
    if (a != 0 && b > (size_t)-1 / a)
        return 0;
    *out = a * b;
#endif
    return 1;
}

/* *out = a + b; returns 0 on overflow. */
static inline int nn__add_size(size_t a, size_t b, size_t *out)
{
    if (b > (size_t)-1 - a)
        return 0;
    *out = a + b;
    return 1;
}

/* ---- errors (status.c) ---- */
/* Records a message for nn_last_error (printf-style) and returns status. */
nn_status nn__fail(nn_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

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

/* On x86-64 with GCC, the hot loops are compiled twice, for the baseline
 * and for AVX2 (x86-64-v3), and the loader picks one for the machine (an
 * ifunc). The two compute the same operations in the same order (GCC does
 * not contract into FMA in ISO C mode), so results do not depend on the
 * machine. Only for static functions: the dispatcher of an external one
 * is exported whatever its visibility. Not with clang: clang 14 exports
 * the dispatchers of static functions too (tests/abi sees them), and it
 * contracts a * b + c into FMA by default, which would make results
 * depend on the machine. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    defined(__linux__) && !defined(NN_NO_CLONES) && \
    !defined(__SANITIZE_THREAD__)
#define NN__VECTOR_CLONES \
    __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define NN__VECTOR_CLONES
#endif

/* ---- activations (activation.c) ---- */
int nn__activation_valid(int act);
const char *nn__activation_name(int act);
/* a (n x k) = f(z); a == z is allowed. */
void nn__activation_forward(int act, float slope, const float *z, float *a,
                            size_t n, size_t k);
/* z (n x k) += b (k) on every row, then a = f(z): the bias and the
 * activation of a layer whose product left X.W in z. a == z is allowed
 * (one pass over the block); otherwise z keeps the pre-activations. If top
 * is not NULL, *top = the largest nn__abs_bits (nn_math.h) of a. */
void nn__activation_forward_bias(int act, float slope, float *z,
                                 const float *b, float *a, size_t n,
                                 size_t k, uint32_t *top);
/* g (n x k) *= f'(z), f' expressed through a = f(z); for softmax, g = J(a)ᵀ g
 * per row. */
void nn__activation_backward(int act, float slope, const float *a, float *g,
                             size_t n, size_t k);
/* nn__activation_backward, and in the same pass db (k) = the column sums
 * of the new g (added row by row from 0); returns the largest
 * nn__abs_bits of the new g. With NN_ACT_IDENTITY a is not read (may be
 * NULL): the sums and the largest magnitude of g alone. */
uint32_t nn__activation_backward_sums(int act, float slope, const float *a,
                                      float *g, float *db, size_t n,
                                      size_t k);
/* The largest nn__abs_bits of x[0, len): above 0x7f7fffff (FLT_MAX) if
 * some x[i] is infinite or NaN. */
uint32_t nn__max_abs_bits(const float *x, size_t len);
/* The logistic function, safe for any finite z. */
float nn__sigmoid(float z);

/* ---- losses (loss.c) ---- */
int nn__loss_valid(int loss);
const char *nn__loss_name(int loss);
/* Whether `loss` can follow an output layer of activation `act`. */
int nn__loss_fits(int loss, int act);

/* Computes the batch loss and g = dL/dZ of the output layer (n x k).
 * z: the output layer's pre-activations (logits); a: its activations
 * (a == z for identity). t: n x k targets, or NULL with labels (n class
 * labels, checked by the caller). Returns the loss. For NN_LOSS_MSE with a
 * non-identity activation g includes f'. */
double nn__loss_grad(int loss, int act, float slope, const float *z,
                     const float *a, const float *t, const int32_t *labels,
                     float *g, size_t n, size_t k);

/* ---- the model ---- */
typedef struct nn__layer {
    size_t in, out;
    int act;
    float slope;       /* leaky relu */
    size_t w_off;      /* offset of W in the parameter buffer */
    size_t b_off;      /* offset of b in the parameter buffer */
} nn__layer;

/* Settings are kept in one array indexed by nn_param. */
#define NN__PARAM_COUNT 19

struct nn_model {
    size_t input_width;
    size_t n_layers;
    size_t cap_layers;
    nn__layer *layers;
    int loss;                  /* 0 until set */

    size_t n_params;
    float *params;             /* every W_l then b_l, layer by layer */
    float *grads;              /* same layout */

    double param[NN__PARAM_COUNT];

    /* Optimizer: kind, and state in the parameters' layout. state[0] is the
     * momentum buffer (SGD, RMSprop) or first moment (Adam); state[1] the
     * second moment (Adam) or square average (RMSprop). Allocated at the
     * first step after the optimizer is chosen (state_ready). */
    int opt;
    int sched;
    uint64_t steps;            /* updates since the optimizer was chosen */
    int state_ready;
    float *state[2];

    nn__rng rng;

    /* Workspace for training, sized for ws_rows rows: per layer an
     * activation block and a gradient block (n x out_l each), and the
     * output layer's logits. Grown, never shrunk. The gradient of every
     * layer is kept until the step ends, so that the weights can be
     * updated after all of them are known to be finite (optim.c). */
    size_t ws_rows;
    float *ws;                 /* single allocation */
    float **act;               /* act[l]: n x out_l, points into ws */
    float **delta;             /* delta[l]: n x out_l, dL/dZ of layer l */
    float *logits;             /* n x out_L */
    /* The largest nn__abs_bits of each block, noted by the passes that
     * write them so that the folded update's check (optim.c) need not read
     * them again: act_top[l] of act[l] for l < L - 1 (hidden layers), and
     * delta_top[l] of delta[l], both set by a training pass of the general
     * path (nn__run_batch) and valid until the next. */
    uint32_t *act_top;
    uint32_t *delta_top;
    /* An upper bound on every |weight|, kept by the folded update so that
     * its check need not read the weights each step (optim.c); valid while
     * w_bound_ok is set. Any other write to the parameters clears it
     * (nn__params_written), and so does handing out the writable buffer:
     * params_shared, set by nn_model_params, keeps it cleared until
     * nn_model_add_dense replaces that buffer. */
    double w_bound;
    int w_bound_ok;
    int params_shared;
    /* The largest batch that takes the small-net path of small.c (0:
     * none), set with the workspace, whose layout also depends on the
     * layers. Tests and benchmarks set it to compare the two paths. */
    size_t small_rows;
};

struct nn_data {
    size_t n;
    const float *x;
    size_t x_width;
    const float *t;            /* NULL when labels are given */
    size_t t_width;
    const int32_t *labels;     /* NULL when targets are given */
};

/* Releases the training workspace (it is rebuilt on the next step). */
void nn__workspace_free(nn_model *m);

/* NN_OK if every gradient is finite, else NN_E_NONFINITE naming the layer. */
nn_status nn__check_grads(const char *fn, const nn_model *m);

/* Applies the gradient buffer with the model's optimizer (optim.c). */
nn_status nn__optim_step(const char *fn, nn_model *m);
/* The step of plain SGD folded into the weights' products: with the
 * workspace holding the forward pass of x (n rows), every layer's delta,
 * and db in the gradient buffer, applies W_l = (1 - lr wd) W_l - lr
 * A_{l-1}ᵀ delta_l through nn__gemm and the update of the biases; returns
 * 1. Returns 0 having changed nothing where the optimizer's settings need
 * the gradient buffer, or where it cannot show beforehand that every new
 * value is finite (then nn__optim_step decides, and reports). The
 * optimizer's state must be allocated (nn__optim_prepare). */
int nn__optim_fused(nn_model *m, const float *x, size_t n);
/* The checks of nn__optim_fused alone: 1 if it would apply the step. */
int nn__optim_fused_ready(const nn_model *m, const float *x, size_t n);
/* To be called by every write to the parameters other than the folded
 * update: the bound on the weights that update keeps no longer holds. */
static inline void nn__params_written(nn_model *m)
{
    m->w_bound_ok = 0;
}
/* Allocates the optimizer state if the optimizer has none yet. */
nn_status nn__optim_prepare(const char *fn, nn_model *m);
/* Releases the optimizer state; the next step starts from scratch. */
void nn__optim_reset(nn_model *m);
/* Default of every setting; param_bounds reports them (model.c). */
void nn__params_default(double *param);

/* ---- batches (train.c) ---- */
#define NN__LABELS 1 /* the targets are class labels, not rows of t */
#define NN__STEP 2   /* one forward/backward pass: at most INT_MAX rows */
#define NN__TRAIN 4  /* and the optimizer's update, which checks them */

/* Whether n * width elements of elem bytes fit in size_t. */
int nn__bytes_fit(size_t n, size_t width, size_t elem);
/* The checks every call taking rows starts with: x and the targets
 * (t, or labels with with_labels) not NULL, n not 0. */
nn_status nn__check_rows(const char *fn, size_t n, const float *x,
                         const void *targets, int with_labels);
/* Validates a batch against the model (t, or labels with NN__LABELS; t_width
 * is ignored with labels) and records the message under fn. */
nn_status nn__check_batch(const char *fn, const nn_model *m, size_t n,
                          const float *x, size_t x_width, const float *t,
                          size_t t_width, const int32_t *labels, int flags);
/* Grows the training workspace to n rows. */
nn_status nn__workspace_reserve(const char *fn, nn_model *m, size_t n);
/* Checks, then forward, loss and backward: the gradient buffer holds this
 * batch's gradients. With NN__TRAIN, also the optimizer's update (after
 * which the gradient buffer's contents are unspecified). */
nn_status nn__run_batch(const char *fn, nn_model *m, size_t n,
                        const float *x, size_t x_width, const float *t,
                        size_t t_width, const int32_t *labels, int flags,
                        double *loss_out);
/* db (k) = the column sums of g (n x k), each added row by row from 0;
 * returns the largest nn__abs_bits of g. Row by row (vectorised along the
 * row) for wide blocks, column by column for narrow ones, where the row
 * loop would be all set-up: the same sums either way. g is not changed. */
uint32_t nn__column_sums(float *g, float *db, size_t n, size_t k);
/* Forward pass of k rows through a const model with caller scratch of
 * 2 * k * max width floats: z (k x out) receives the output layer's
 * pre-activations, y (k x out) its activations; z == y is allowed. */
void nn__forward_rows(const nn_model *m, const float *x, size_t k,
                      float *scratch, float *z, float *y);

/* Largest layer width, input width included. */
size_t nn__max_width(const nn_model *m);

/* ---- small nets (small.c) ---- */
/* A batch takes the direct loops of small.c when its rows times the net's
 * multiply-adds per row are at most this (measured crossover in small.c). */
#define NN__SMALL_WORK 320
/* The largest batch for which m takes the small-net path (0: none). */
size_t nn__small_rows(const nn_model *m);
/* The forward pass of n rows into the workspace, as train.c's forward. */
void nn__small_forward(nn_model *m, const float *x, size_t n);
/* The backward pass from delta[L-1] = dL/dZ of the output layer: fills
 * the gradient buffer (and the deltas), as train.c's general path. */
void nn__small_backward(nn_model *m, const float *x, size_t n);

/* ---- checksums (crc32.c) ---- */
/* CRC-32 as zlib's crc32() computes it: crc is 0 to start, or the value
 * returned for the bytes before buf to continue. */
uint32_t nn__crc32(uint32_t crc, const void *buf, size_t len);

/* ---- model files (io.c) ---- */
/* The file operations of nn_model_save and nn_model_load. Each returns 0,
 * or -1 with errno set, as the POSIX call it stands for; tests pass a table
 * that fails chosen calls, so that the library needs no global hook. */
typedef struct nn__file_ops {
    void *ctx;                 /* passed to every function */
    /* open(path, O_RDONLY) */
    int (*open_read)(void *ctx, const char *path, int *fd);
    /* open(path, O_WRONLY | O_CREAT | O_EXCL, 0666) */
    int (*create)(void *ctx, const char *path, int *fd);
    /* open(path, O_RDONLY | O_DIRECTORY), to sync the directory */
    int (*open_dir)(void *ctx, const char *path, int *fd);
    /* fstat: the size, and whether fd is a regular file */
    int (*stat_fd)(void *ctx, int fd, uint64_t *size, int *regular);
    /* read and write: *got / *done receive the byte count */
    int (*read_fd)(void *ctx, int fd, void *buf, size_t len, size_t *got);
    int (*write_fd)(void *ctx, int fd, const void *buf, size_t len,
                    size_t *done);
    int (*sync_fd)(void *ctx, int fd);          /* fsync */
    int (*close_fd)(void *ctx, int fd);
    int (*rename_path)(void *ctx, const char *from, const char *to);
    int (*unlink_path)(void *ctx, const char *path);
} nn__file_ops;

/* The real POSIX calls (a constant table). */
const nn__file_ops *nn__file_ops_posix(void);
/* nn_model_save and nn_model_load through the given operations. */
nn_status nn__model_save_ops(const nn_model *model, const char *path,
                             nn_save_what what, const nn__file_ops *ops);
nn_status nn__model_load_ops(nn_model **out, const char *path,
                             const nn__file_ops *ops);

#endif /* NN_INTERNAL_H */
