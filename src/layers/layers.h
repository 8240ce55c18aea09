/* SPDX-License-Identifier: MIT */
/*
 * layers.h - what the files of src/layers/ share: each kind's table of
 * operations (defined in its own file, listed in table.c) and the small
 * helpers several kinds use. Private; the rest of libnn reaches the kinds
 * through nn__layer_kind (nn_internal.h).
 */
#ifndef NN_LAYERS_H
#define NN_LAYERS_H

#include "nn_internal.h"
#include "nn_math.h"

#include <string.h>

extern const nn__layer_ops nn__dense_ops;
extern const nn__layer_ops nn__dropout_ops;
extern const nn__layer_ops nn__batchnorm_ops;
extern const nn__layer_ops nn__layernorm_ops;
extern const nn__layer_ops nn__activation_ops;
extern const nn__layer_ops nn__scaling_ops;

/* Bit for the nn_layer_param key k in nn__layer_ops.keys. */
#define NN__KEY(k) (1u << (k))

/* The kinds whose output width is their input width and that have no
 * parameters or buffers beyond what they set here. */
static inline void nn__shape_same(nn__layer *L)
{
    L->out = L->in;
    L->w_count = L->b_count = L->buf_count = 0;
}

/* Table entries for kinds that need no extra workspace or scratch, or
 * have nothing to initialise. */
static inline size_t nn__no_train_floats(const nn_model *m, size_t l,
                                         size_t n)
{
    (void)m;
    (void)l;
    (void)n;
    return 0;
}

static inline size_t nn__no_infer_floats(const nn__layer *L, size_t k)
{
    (void)L;
    (void)k;
    return 0;
}

static inline void nn__no_init(nn_model *m, nn__layer *L)
{
    (void)m;
    (void)L;
}

/* The gradient of a layer's input, delta[l - 1], or NULL for the first
 * layer with parameters and those below it (nn_model.grad_from), whose
 * input gradient nothing needs. */
static inline float *nn__delta_in(nn_model *m, size_t l)
{
    return l > m->grad_from ? m->delta[l - 1] : NULL;
}

/* Workspace blocks start on 64-byte boundaries (train.c), so a layer may
 * keep doubles in its extra block: this many floats hold count of them
 * after an even number of floats. */
static inline size_t nn__floats_for_doubles(size_t count)
{
    return 2 * count;
}

/* The even float offset at or after off, where doubles may start. */
static inline size_t nn__even(size_t off)
{
    return off + (off & 1);
}

/* Sets a normalization's scale gamma (its weights) to 1 and its shift
 * beta (its bias) to 0, as PyTorch's do. */
static inline void nn__norm_init(nn_model *m, nn__layer *L)
{
    size_t j;
    for (j = 0; j < L->w_count; j++)
        m->params[L->w_off + j] = 1.0f;
    for (j = 0; j < L->b_count; j++)
        m->params[L->b_off + j] = 0.0f;
}

/* Eight lanes of double for sums along a row: element j of a row goes to
 * lane j mod 8, and the lanes are added pairwise at the end (a fixed
 * order, so every build gives the same bits). With GCC and clang the
 * lanes are vectors (the compiler's vector extension): written as an
 * array of eight, GCC vectorised a lone sum but not a loop forming two
 * sums from products of converted floats (layernorm's backward ran its
 * lanes one double at a time). NN_NO_VECTOR_TYPES builds the portable
 * array of eight instead, with the same bits. */
#if defined(__GNUC__) && !defined(NN_NO_VECTOR_TYPES)
/* Two vectors of four: GCC keeps each in a register for AVX2 and AVX-512
 * (and in two for SSE2), where one vector of eight made the AVX2 clone
 * pass it through the stack (layernorm 2.3 times as slow). Macros, not
 * functions: a function taking or returning the vectors would have a
 * calling convention that depends on the clone's instruction set (GCC
 * warns, -Wpsabi). The macros evaluate their arguments more than once. */
typedef double nn__doubles4 __attribute__((vector_size(32)));
typedef double nn__doubles4u
    __attribute__((vector_size(32), aligned(8), may_alias));
typedef struct {
    nn__doubles4 lo, hi; /* lanes 0-3, 4-7 */
} nn__lanes8;

/* p[0..3], each converted to double. Element by element, not
 * __builtin_convertvector of four floats: GCC 12 converts such a vector
 * two floats at a time and passes the upper pair through the stack, where
 * this form is one vcvtps2pd from memory (layernorm's share of a step's
 * samples at batch 128 fell from 5.70% to 4.93% on an AVX2 CPU,
 * bench/layer_share.sh, seven pairs). */
#define NN__LOAD4(p) ((nn__doubles4){(p)[0], (p)[1], (p)[2], (p)[3]})
#define nn__lanes8_zero() ((nn__lanes8){{0, 0, 0, 0}, {0, 0, 0, 0}})
/* p[0..7], each converted to double */
#define nn__lanes8_load(p) ((nn__lanes8){NN__LOAD4(p), NN__LOAD4((p) + 4)})
/* p[0..7], doubles */
#define nn__lanes8_load_doubles(p)                                           \
    ((nn__lanes8){*(const nn__doubles4u *)(const void *)(p),                 \
                  *(const nn__doubles4u *)(const void *)((p) + 4)})
/* The lanes into out[0..7], in lane order. */
#define nn__lanes8_store(out, a)                                             \
    (*(nn__doubles4u *)(void *)(out) = (a).lo,                               \
     *(nn__doubles4u *)(void *)((out) + 4) = (a).hi)
#define nn__lanes8_splat(d) ((nn__lanes8){{d, d, d, d}, {d, d, d, d}})
#define nn__lanes8_add(a, b) ((nn__lanes8){(a).lo + (b).lo, (a).hi + (b).hi})
#define nn__lanes8_sub(a, b) ((nn__lanes8){(a).lo - (b).lo, (a).hi - (b).hi})
#define nn__lanes8_mul(a, b) ((nn__lanes8){(a).lo * (b).lo, (a).hi * (b).hi})

#ifdef NN__WIDE_LANES
/* The same eight lanes as one vector, for the copies of the loops
 * compiled for x86-64-v4 (nn_internal.h): the same operations on the
 * same lanes in the same order as nn__lanes8's, the same bits, with one
 * AVX-512 instruction where nn__lanes8 takes two of 256 bits. The same
 * macros, for loops written once over either (NN__LANES). */
#define NN__LANES_V4 1
typedef double nn__doubles8 __attribute__((vector_size(64)));
typedef double nn__doubles8u
    __attribute__((vector_size(64), aligned(8), may_alias));
typedef nn__doubles8 nn__wide8;
#define nn__wide8_zero() ((nn__wide8){0, 0, 0, 0, 0, 0, 0, 0})
#define nn__wide8_load(p)                                                    \
    ((nn__wide8){(p)[0], (p)[1], (p)[2], (p)[3], (p)[4], (p)[5], (p)[6],    \
                 (p)[7]})
#define nn__wide8_load_doubles(p) (*(const nn__doubles8u *)(const void *)(p))
#define nn__wide8_store(out, a) (*(nn__doubles8u *)(void *)(out) = (a))
#define nn__wide8_splat(d) ((nn__wide8){d, d, d, d, d, d, d, d})
#define nn__wide8_add(a, b) ((a) + (b))
#define nn__wide8_sub(a, b) ((a) - (b))
#define nn__wide8_mul(a, b) ((a) * (b))
#endif
#else
typedef struct {
    double v[8];
} nn__lanes8;

static inline nn__lanes8 nn__lanes8_zero(void)
{
    nn__lanes8 z = {{0, 0, 0, 0, 0, 0, 0, 0}};
    return z;
}

static inline nn__lanes8 nn__lanes8_load(const float *p)
{
    nn__lanes8 r;
    int q;
    for (q = 0; q < 8; q++)
        r.v[q] = p[q];
    return r;
}

static inline nn__lanes8 nn__lanes8_splat(double d)
{
    nn__lanes8 r;
    int q;
    for (q = 0; q < 8; q++)
        r.v[q] = d;
    return r;
}

static inline nn__lanes8 nn__lanes8_load_doubles(const double *p)
{
    nn__lanes8 r;
    memcpy(r.v, p, sizeof r.v);
    return r;
}

static inline void nn__lanes8_store(double *out, nn__lanes8 a)
{
    memcpy(out, a.v, sizeof a.v);
}

#define NN__LANES8_OP(name, op)                                              \
    static inline nn__lanes8 nn__lanes8_##name(nn__lanes8 a, nn__lanes8 b)   \
    {                                                                        \
        int q;                                                               \
        for (q = 0; q < 8; q++)                                              \
            a.v[q] = a.v[q] op b.v[q];                                       \
        return a;                                                            \
    }
NN__LANES8_OP(add, +)
NN__LANES8_OP(sub, -)
NN__LANES8_OP(mul, *)
#undef NN__LANES8_OP
#endif

/* Loops over lanes written once (NN__LANES): a header without an include
 * guard defines them over L8_T with the operations L8(zero), L8(add) and
 * so on, and a layer's file includes it through lanes.h, which makes one
 * copy over nn__lanes8, inlined into each of its callers' clones, and
 * where NN__LANES_V4 is defined another over nn__wide8, compiled for
 * x86-64-v4 and named f_v4. NN__BY_LANES calls the copy for the CPU. */
#ifdef NN__LANES_V4
#define NN__BY_LANES(f, args) (nn__cpu_v4() ? f##_v4 args : f args)
#else
#define NN__BY_LANES(f, args) (f args)
#endif

/* A row's sum: the lanes in s[0..7] added pairwise. */
static inline double nn__lanes8_total(const double *s)
{
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* Dense layers: whether layer l keeps Z in its extra block (for the
 * derivatives that need z, and for the loss, which reads the last
 * layer's), and the block that holds Z in training (the extra block, or
 * the output, which the activation then overwrites). */
static inline int nn__dense_keeps_z(const nn_model *m, size_t l)
{
    int act = m->layers[l].act;
    return nn__activation_needs_z(act) ||
           (l + 1 == m->n_layers && act != NN_ACT_IDENTITY);
}

static inline float *nn__dense_z(nn_model *m, size_t l)
{
    /* The workspace gives a layer an extra block exactly when it asks for
     * floats (train.c), which a dense layer does when it keeps Z: the
     * pointer answers without asking again. */
    return m->extra[l] ? m->extra[l] : m->act[l];
}

/* Whether dropout layer l's passes are folded into the relu before it, a
 * dense layer's or an activation layer's (dense.c, activation_layer.c,
 * dropout.c): a unit's output y is above 0 exactly where the mask kept it
 * and the relu's output a was above 0 (y is a times 1 / (1 - rate), at
 * least a), and dL/dZ is 0 elsewhere, so that layer forms dL/dZ = (y > 0
 * ? dL/dy scale : 0) from y and dL/dy in its own pass: a dense layer over
 * dL/dy in place, with its bias's gradient (nn__relu_dropout_sums; its
 * dL/dZ is then the dropout's delta block, nn__dense_dz), an activation
 * layer into the gradient of its input (nn__relu_dropout_back). The same
 * operations as dropout's pass, then the relu's, so the same bits,
 * without dropout's pass over the activations or its mask. The mask is
 * then neither stored nor given room. The forward passes fold alike
 * (nn__dropout_relu_forward). */
static inline int nn__dropout_folded(const nn_model *m, size_t l)
{
    const nn__layer *P = l ? &m->layers[l - 1] : NULL;
    return m->layers[l].ops->kind == NN_KIND_DROPOUT && P &&
           (P->ops->kind == NN_KIND_DENSE ||
            P->ops->kind == NN_KIND_ACTIVATION) &&
           P->act == NN_ACT_RELU;
}

/* The forward pass of dropout layer l where it is folded: its output
 * act[l] (and act_top[l]) in one pass from the relu's input: a dense
 * layer's X W (z) and bias b, relu(z + b) scaled or dropped, the same
 * bits as the dense layer's bias pass and then dropout's; or with b NULL
 * an activation layer's input, relu(z) (dropout.c). The relu's own output
 * is not formed: nothing else reads it. */
void nn__dropout_relu_forward(nn_model *m, size_t l, const float *z,
                              const float *b, size_t n);

/* A dropout layer's scale of the units it keeps, 1 / (1 - rate). */
static inline float nn__dropout_scale(const nn__layer *L)
{
    return (float)(1.0 / (1.0 - L->lp[NN_LAYER_DROPOUT_RATE]));
}

/* Whether layer l, a relu, takes the passes of the dropout after it. */
static inline int nn__folds_dropout(const nn_model *m, size_t l)
{
    return l + 1 < m->n_layers && nn__dropout_folded(m, l + 1);
}

/* A dense layer's dL/dZ in training: its delta block, or where a dropout
 * folded into it follows, that layer's (layers.h). */
static inline float *nn__dense_dz(nn_model *m, size_t l)
{
    return nn__folds_dropout(m, l) ? m->delta[l + 1] : m->delta[l];
}

/* Whether normalization layer l (batch or layer normalization) takes
 * the backward pass of the relu dense layer before it into its own
 * (batchnorm.c, layernorm.c, dense.c): the normalization's last pass
 * forms dL/dx of its input x, which is the relu's output a; the dense
 * layer's pass would read that block back with a and write dL/dZ = (a >
 * 0 ? dL/dx : 0) over it, with its bias's gradient (the column sums of
 * dL/dZ in float, row by row) and the largest |dL/dZ|. The normalization
 * writes dL/dZ there directly, with the same sums and the same largest
 * magnitude, in the same order: the same bits, one pass over the block
 * fewer. Only where the dense layer's gradients are formed (l - 1 at or
 * above grad_from, so that the normalization has an input gradient to
 * write). */
static inline int nn__norm_takes_relu(const nn_model *m, size_t l)
{
    const nn__layer *P = l ? &m->layers[l - 1] : NULL;
    int kind = m->layers[l].ops->kind;
    return (kind == NN_KIND_BATCHNORM || kind == NN_KIND_LAYERNORM) && P &&
           P->ops->kind == NN_KIND_DENSE && P->act == NN_ACT_RELU &&
           l > m->grad_from;
}

/* Forward, a relu dense layer followed by a batch normalization that
 * takes its backward pass (nn__norm_takes_relu) forms that layer's first
 * pass in its own: its bias pass, relu(z + b) in place with the largest
 * |a| noted in act_top[l - 1], also adds up each column of a in double
 * into the batch normalization's sums (layer l), in row order, the bits
 * of the batch normalization's own pass over a; the batch normalization
 * then starts from them. One read pass over the activations fewer. */
void nn__bn_relu_forward(nn_model *m, size_t l, float *z, const float *b,
                         size_t n);

/* Whether dense layer l's backward pass is taken by the normalization
 * after it (nn__norm_takes_relu). */
static inline int nn__relu_taken_by_norm(const nn_model *m, size_t l)
{
    return l + 1 < m->n_layers && nn__norm_takes_relu(m, l + 1);
}

/* Whether dense layer l's bias pass forms the sums of the batch
 * normalization after it (nn__bn_relu_forward). */
static inline int nn__relu_forms_bn_sums(const nn_model *m, size_t l)
{
    return nn__relu_taken_by_norm(m, l) &&
           m->layers[l + 1].ops->kind == NN_KIND_BATCHNORM;
}

/* The dense layer's direct loops for small nets (small.c). */
void nn__dense_small_forward(nn_model *m, size_t l, const float *x,
                             size_t n);
void nn__dense_small_backward(nn_model *m, size_t l, const float *x,
                              size_t n, int dz);

#endif /* NN_LAYERS_H */
