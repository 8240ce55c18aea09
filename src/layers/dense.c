/* SPDX-License-Identifier: MIT */
/*
 * dense.c - the dense layer: Z = X . W + b, A = f(Z), with W (in x out,
 * row-major) and b in the flat parameter buffer.
 *
 * A batch goes through as one matrix product per pass (nn__gemm): X . W
 * forward, and backward Gᵀ-side products formed by the passes. The bias
 * and the activation take one further pass (nn__activation_forward_bias),
 * or for a relu whose product libnn's kernel forms, that product's last
 * pass over Z, which also notes the largest output (nn__gemm_train_relu;
 * the same bits); backward, the derivative of the activation and the
 * bias's gradient (the column sums of dL/dZ) take one pass too, which
 * also notes the largest |dL/dZ| for the folded SGD update (optim.c).
 * The weights' gradient dW = Xᵀ . dL/dZ is formed last, by
 * weight_product, or inside the update where SGD folds it into the
 * weights or the momentum buffer (optim.c).
 *
 * A relu layer followed by a dropout layer takes that layer's passes into
 * its own (layers.h, nn__dropout_folded): forward, the bias, the relu and
 * the dropout's mask in one pass, writing the dropout's output; backward,
 * dL/dZ formed from the dropout's output and dL/dy, in the dropout's
 * delta block, which the products then read (nn__dense_dz). Backward, a
 * relu layer followed by a batch or layer normalization leaves its pass
 * to that layer, whose last pass writes dL/dZ, db and the largest
 * |dL/dZ| (layers.h, nn__norm_takes_relu).
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
    const float *w = m->params + L->w_off, *b = m->params + L->b_off;
    m->logits = z;
    if (L->act == NN_ACT_RELU && z == m->act[l] && !nn__folds_dropout(m, l) &&
        !nn__relu_forms_bn_sums(m, l)) {
        /* the bias and the relu in the product's last pass, where the
         * kernel takes it (gemm.c, nn__gemm_train_relu) */
        uint32_t top = 0;
        if (nn__gemm_train_relu(n, L->out, L->in, x, L->in, w, L->out, z,
                                L->out, m->kbuf, b, &top)) {
            if (!is_last(m, l))
                m->act_top[l] = top;
            return;
        }
    } else {
        nn__gemm_train(0, 0, n, L->out, L->in, 1.0f, x, L->in, w, L->out,
                       0.0f, z, L->out, m->kbuf);
    }
    if (nn__folds_dropout(m, l)) {
        /* relu and the dropout after it in one pass (layers.h) */
        nn__dropout_relu_forward(m, l + 1, z, b, n);
        return;
    }
    if (nn__relu_forms_bn_sums(m, l)) {
        /* the bias, relu and the batch normalization's sums (layers.h) */
        nn__bn_relu_forward(m, l + 1, z, b, n);
        return;
    }
    /* The output layer's largest value is not needed (nothing folds on
     * it): its top is not noted. */
    nn__activation_forward_bias(L->act, nn__act_param(L), z, b, m->act[l], n,
                                L->out, is_last(m, l) ? NULL : &m->act_top[l]);
}

static const float *dense_forward_infer(const nn_model *m,
                                        const nn__layer *L,
                                        const nn__infer *a)
{
    /* with room for the logits, Z there and A in y; else in place */
    int keep = a->z && L->act != NN_ACT_IDENTITY;
    float *z = keep ? a->z : a->y;
    const float *w = m->params + L->w_off, *b = m->params + L->b_off;
    float p = nn__act_param(L);
    if (nn__kernel_infer(a->k, L->out, L->in)) {
        /* The bias, and relu or leaky relu, in the product's last pass
         * over Z; the weights packed (pack.c) or in place, the same
         * bits either way. */
        int fused = !keep &&
                    (L->act == NN_ACT_RELU || L->act == NN_ACT_LEAKY_RELU);
        nn__kernel_gemm(0, 0, a->k, L->out, L->in, 1.0f, a->x, L->in,
                        a->packed ? a->packed : w, L->out,
                        a->packed ? NN__B_PACKED : NN__B_IN_PLACE, NULL,
                        0.0f, z, L->out, b,
                        fused ? L->act : NN_ACT_IDENTITY, p);
        if (!fused)
            nn__activation_forward(L->act, p, z, a->y, a->k, L->out);
    } else {
        nn__gemm(0, 0, a->k, L->out, L->in, 1.0f, a->x, L->in, w, L->out,
                 0.0f, z, L->out);
        nn__activation_forward_bias(L->act, p, z, b, a->y, a->k, L->out,
                                    NULL);
    }
    if (a->logits)
        *a->logits = z;
    return a->y;
}

/* The copy of W that inference reads through the kernel (pack.c): for
 * every layer whose product the kernel takes at predict's largest slice
 * (gemm.c's rule). */
static size_t dense_pack_floats(const nn__layer *L)
{
    return nn__kernel_infer(NN__PREDICT_ROWS, L->out, L->in)
               ? nn__kernel_packed_floats(L->in, L->out)
               : 0;
}

static void dense_pack(const nn_model *m, const nn__layer *L, float *dst)
{
    nn__kernel_pack(0, L->in, L->out, m->params + L->w_off, L->out, dst);
}

/* Room to pack op(B) of the three training products: W (in x out)
 * forward, Wᵀ (out x in) backward, dL/dZ (n x out) for dW. */
static size_t dense_kernel_floats(const nn__layer *L, size_t n)
{
    size_t a = nn__kernel_buf_floats(n, L->in, L->out);
    size_t b = nn__kernel_buf_floats(n, L->out, L->in);
    size_t c = nn__kernel_buf_floats(L->in, n, L->out);
    return a > b ? (a > c ? a : c) : (b > c ? b : c);
}

static void dense_backward(nn_model *m, size_t l, const float *x, size_t n,
                           int dz)
{
    const nn__layer *L = &m->layers[l];
    float *g = nn__dense_dz(m, l), *db = m->grads + L->b_off;
    float *gx = nn__delta_in(m, l);
    (void)x;
    /* dL/dZ, with db and the largest |dL/dZ| in the same pass */
    if (dz)
        m->delta_top[l] = nn__column_sums(g, db, n, L->out);
    else if (nn__relu_taken_by_norm(m, l))
        ; /* the normalization after it formed g, db, delta_top[l] */
    else if (nn__folds_dropout(m, l)) /* relu, then dropout (layers.h) */
        m->delta_top[l] = nn__relu_dropout_sums(
            m->act[l + 1], g, nn__dropout_scale(&m->layers[l + 1]), db, n,
            L->out);
    else
        m->delta_top[l] = nn__activation_backward_sums(
            L->act, nn__act_param(L),
            nn__activation_needs_z(L->act) ? m->extra[l] : NULL, m->act[l],
            g, db, n, L->out);
    /* dL/dX = dL/dZ . Wᵀ */
    if (gx)
        nn__gemm_train(0, 1, n, L->in, L->out, 1.0f, g, L->out,
                       m->params + L->w_off, L->out, 0.0f, gx, L->in,
                       m->kbuf);
}

static void dense_weight_product(nn_model *m, size_t l, const float *x,
                                 size_t n, float alpha, float beta,
                                 float *dst)
{
    const nn__layer *L = &m->layers[l];
    nn__gemm_train(1, 0, L->in, L->out, n, alpha, x, L->in,
                   nn__dense_dz(m, l), L->out, beta, dst, L->out, m->kbuf);
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
    dense_pack_floats,
    dense_pack,
    dense_kernel_floats,
};
