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

/* The dense layer's direct loops for small nets (small.c). */
void nn__dense_small_forward(nn_model *m, size_t l, const float *x,
                             size_t n);
void nn__dense_small_backward(nn_model *m, size_t l, const float *x,
                              size_t n, int dz);

#endif /* NN_LAYERS_H */
