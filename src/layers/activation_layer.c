/* SPDX-License-Identifier: MIT */
/*
 * activation_layer.c - an activation on its own, y = f(x), as
 * torch.nn.ReLU() and its kin stand in a Sequential: for an activation
 * after a normalization, or softmax after any layer. The kernels are
 * activation.c's, which dense layers use too; the layer's input is f's z,
 * so nothing beyond the output is kept. One pass forward (the output and
 * its largest magnitude) and one backward (dL/dx from dL/dy, out of
 * place), where a separate pass for the largest magnitude and a copy
 * before an in-place derivative had made four. A relu followed by
 * dropout takes that layer's passes into its own (layers.h,
 * nn__dropout_folded).
 */
#include "layers.h"

#include <string.h>

static void act_forward_train(nn_model *m, size_t l, const float *x, size_t n)
{
    const nn__layer *L = &m->layers[l];
    if (nn__folds_dropout(m, l)) { /* relu, then dropout (layers.h) */
        nn__dropout_relu_forward(m, l + 1, x, NULL, n);
        m->logits = x;
        return;
    }
    m->act_top[l] = nn__activation_forward_top(L->act, nn__act_param(L), x,
                                               m->act[l], n, L->out);
    m->logits = x;
}

static const float *act_forward_infer(const nn_model *m, const nn__layer *L,
                                      const nn__infer *a)
{
    (void)m;
    nn__activation_forward(L->act, nn__act_param(L), a->x, a->y, a->k,
                           L->out);
    if (a->logits)
        *a->logits = a->x;
    return a->y;
}

/* dL/dx = dL/dy f'(x); where the loss applied f' (dz), dL/dy is it. */
static void act_backward(nn_model *m, size_t l, const float *x, size_t n,
                         int dz)
{
    const nn__layer *L = &m->layers[l];
    float *gx = nn__delta_in(m, l);
    if (!gx)
        return;
    if (nn__folds_dropout(m, l)) {
        nn__relu_dropout_back(m->act[l + 1], m->delta[l + 1],
                              nn__dropout_scale(&m->layers[l + 1]), gx,
                              n * L->out);
        return;
    }
    if (dz) /* the loss applied f' */
        memcpy(gx, m->delta[l], n * L->out * sizeof(float));
    else
        nn__activation_backward_to(L->act, nn__act_param(L), x, m->act[l],
                                   m->delta[l], gx, n, L->out);
}

const nn__layer_ops nn__activation_ops = {
    NN_KIND_ACTIVATION,
    "activation",
    NN__KEY(NN_LAYER_LEAKY_SLOPE) | NN__KEY(NN_LAYER_ELU_ALPHA),
    nn__shape_same,
    nn__no_init,
    nn__no_train_floats,
    act_forward_train,
    nn__no_infer_floats,
    act_forward_infer,
    act_backward,
    NULL, /* weight_product */
    NULL, /* commit */
    NULL, /* buffers_valid */
    NULL, /* small_forward */
    NULL, /* small_backward */
    NULL, /* pack_floats */
    NULL, /* pack */
    NULL, /* kernel_floats */
};
