/* SPDX-License-Identifier: MIT */
/*
 * dense.c - the dense layer: Z = X . W + b, A = f(Z), with W (in x out,
 * row-major) and b in the flat parameter buffer.
 *
 * A batch goes through as one matrix product per pass (nn__gemm): X . W
 * forward, and backward Gᵀ-side products formed by the passes. The bias
 * and the activation take one further pass (nn__activation_forward_bias);
 * backward, the derivative of the activation and the bias's gradient (the
 * column sums of dL/dZ) take one pass too, which also notes the largest
 * |dL/dZ| for the folded SGD update (optim.c). The weights' gradient
 * dW = Xᵀ . dL/dZ is formed last, by weight_product, or inside the update
 * where plain SGD folds it (optim.c).
 *
 * The layer keeps Z beside A (in its extra block) only where something
 * needs it: the derivatives of GELU, SiLU, softplus and ELU, and the
 * loss, which reads the last layer's Z. Otherwise the activation
 * overwrites Z in place.
 *
 * For small nets the passes also have direct loops (small_forward,
 * small_backward), in small.c, which is compiled without vectorisation.
 */
#include "layers.h"

#include <math.h>
#include <string.h>

static int is_last(const nn_model *m, size_t l)
{
    return l + 1 == m->n_layers;
}

static void dense_shape(nn__layer *L)
{
    /* widths are below 2^31: in x out fits in 64 bits */
    L->w_count = L->in * L->out;
    L->b_count = L->out;
    L->buf_count = 0;
}

/* Normal deviates from the model's generator, two per pair of draws
 * (Box-Muller, in double). */
static void fill_normal(nn__rng *rng, float *w, size_t count, double sd)
{
    const double two_pi = 6.283185307179586;
    size_t i;
    for (i = 0; i < count; i += 2) {
        double u1 = (double)(nn__rng_next(rng) >> 11) * 0x1p-53;
        double u2 = (double)(nn__rng_next(rng) >> 11) * 0x1p-53;
        double r = sqrt(-2.0 * log(1.0 - u1)) * sd;
        w[i] = (float)(r * cos(two_pi * u2));
        if (i + 1 < count)
            w[i + 1] = (float)(r * sin(two_pi * u2));
    }
}

static void dense_init(nn_model *m, nn__layer *L)
{
    float *w = m->params + L->w_off;
    size_t i, count = L->w_count;
    int init = (int)L->lp[NN_LAYER_INIT];
    double in = (double)L->in, out = (double)L->out;
    if (init == NN_INIT_AUTO)
        init = L->act == NN_ACT_RELU || L->act == NN_ACT_LEAKY_RELU ||
                       L->act == NN_ACT_GELU || L->act == NN_ACT_SILU ||
                       L->act == NN_ACT_ELU
                   ? NN_INIT_HE_UNIFORM
                   : NN_INIT_GLOROT_UNIFORM;
    switch (init) {
    case NN_INIT_GLOROT_NORMAL:
        fill_normal(&m->rng, w, count, sqrt(2.0 / (in + out)));
        break;
    case NN_INIT_HE_NORMAL:
        fill_normal(&m->rng, w, count, sqrt(2.0 / in));
        break;
    case NN_INIT_LECUN_NORMAL:
        fill_normal(&m->rng, w, count, sqrt(1.0 / in));
        break;
    default: { /* the uniform ones, U(-limit, limit) */
        double fan = init == NN_INIT_HE_UNIFORM ? in : in + out;
        float limit = (float)sqrt(6.0 / fan);
        for (i = 0; i < count; i++)
            w[i] = (2.0f * nn__rng_float(&m->rng) - 1.0f) * limit;
        break;
    }
    }
    memset(m->params + L->b_off, 0, L->b_count * sizeof(float));
}

static size_t dense_train_floats(const nn_model *m, size_t l, size_t n)
{
    return nn__dense_keeps_z(m, l) ? n * m->layers[l].out : 0;
}

static void dense_forward_train(nn_model *m, size_t l, const float *x,
                                size_t n)
{
    const nn__layer *L = &m->layers[l];
    float *z = nn__dense_z(m, l);
    nn__gemm(0, 0, n, L->out, L->in, 1.0f, x, L->in, m->params + L->w_off,
             L->out, 0.0f, z, L->out);
    /* The output layer's largest value is not needed (nothing folds on
     * it): its top is not noted. */
    nn__activation_forward_bias(L->act, nn__act_param(L), z,
                                m->params + L->b_off, m->act[l], n, L->out,
                                is_last(m, l) ? NULL : &m->act_top[l]);
    m->logits = z;
}

static const float *dense_forward_infer(const nn_model *m,
                                        const nn__layer *L,
                                        const nn__infer *a)
{
    /* with room for the logits, Z there and A in y; else in place */
    int keep = a->z && L->act != NN_ACT_IDENTITY;
    float *z = keep ? a->z : a->y;
    nn__gemm(0, 0, a->k, L->out, L->in, 1.0f, a->x, L->in,
             m->params + L->w_off, L->out, 0.0f, z, L->out);
    nn__activation_forward_bias(L->act, nn__act_param(L), z,
                                m->params + L->b_off, a->y, a->k, L->out,
                                NULL);
    if (a->logits)
        *a->logits = z;
    return a->y;
}

static void dense_backward(nn_model *m, size_t l, const float *x, size_t n,
                           int dz)
{
    const nn__layer *L = &m->layers[l];
    float *g = m->delta[l], *db = m->grads + L->b_off;
    float *gx = nn__delta_in(m, l);
    (void)x;
    /* dL/dZ, with db and the largest |dL/dZ| in the same pass */
    if (dz)
        m->delta_top[l] = nn__column_sums(g, db, n, L->out);
    else
        m->delta_top[l] = nn__activation_backward_sums(
            L->act, nn__act_param(L),
            nn__activation_needs_z(L->act) ? m->extra[l] : NULL, m->act[l],
            g, db, n, L->out);
    /* dL/dX = dL/dZ . Wᵀ */
    if (gx)
        nn__gemm(0, 1, n, L->in, L->out, 1.0f, g, L->out,
                 m->params + L->w_off, L->out, 0.0f, gx, L->in);
}

static void dense_weight_product(nn_model *m, size_t l, const float *x,
                                 size_t n, float alpha, float beta,
                                 float *dst)
{
    const nn__layer *L = &m->layers[l];
    nn__gemm(1, 0, L->in, L->out, n, alpha, x, L->in, m->delta[l], L->out,
             beta, dst, L->out);
}

const nn__layer_ops nn__dense_ops = {
    NN_KIND_DENSE,
    "dense",
    NN__KEY(NN_LAYER_LEAKY_SLOPE) | NN__KEY(NN_LAYER_ELU_ALPHA) |
        NN__KEY(NN_LAYER_INIT),
    dense_shape,
    dense_init,
    dense_train_floats,
    dense_forward_train,
    nn__no_infer_floats,
    dense_forward_infer,
    dense_backward,
    dense_weight_product,
    NULL, /* commit */
    NULL, /* buffers_valid */
    nn__dense_small_forward,  /* small.c */
    nn__dense_small_backward,
};
