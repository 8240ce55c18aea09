/* SPDX-License-Identifier: MIT */
/*
 * test_clones.c - every cloned loop gives the same bits whichever clone
 * the machine runs (src/nn_internal.h: with GCC on x86-64 they are
 * compiled for the baseline, AVX2 and AVX-512, and the loader picks one).
 *
 * This file compiles dropout.c, batchnorm.c, layernorm.c, activation.c,
 * optim.c, gemm.c and loss.c once more, with NN_NO_CLONES and the tables and
 * entry points renamed: a baseline build of each, without -O3. A training
 * pass of a net with every kind fills the workspace; then each kind's
 * forward pass (training and inference) and backward pass run on the same
 * inputs through the library's table (the clone this machine dispatches to)
 * and through the baseline one, and every float written must be the same
 * bits; so must every activation kernel's on the same blocks, the
 * optimizer's steps, the small products of nn__gemm, and every loss's value
 * and gradient. The widths leave both whole vectors and tails: layer
 * normalization's lanes in blocks of eight, the other loops in vectors of up
 * to sixteen floats. The normalizations' loops over eight doubles in one
 * AVX-512 register (layers.h, NN__LANES_V4), which any clone calls on a CPU
 * with x86-64-v4, are held against the baseline the same way. (Built by
 * clang, the library has no clones and both sides are baseline code.)
 */
#define NN_NO_CLONES
#define nn__dropout_ops baseline_dropout_ops
#define nn__dropout_relu_forward baseline_dropout_relu_forward
#define nn__bn_relu_forward baseline_bn_relu_forward
#define nn__batchnorm_ops baseline_batchnorm_ops
#define nn__layernorm_ops baseline_layernorm_ops
#include "layers/batchnorm.c"
#include "layers/dropout.c"
#include "layers/layernorm.c"
#undef nn__dropout_ops
#undef nn__dropout_relu_forward
#undef nn__bn_relu_forward
/* the library's (layers.h declared them under the baseline names) */
void nn__dropout_relu_forward(nn_model *m, size_t l, const float *z,
                              const float *b, size_t n);
void nn__bn_relu_forward(nn_model *m, size_t l, float *z, const float *b,
                         size_t n);
#undef nn__batchnorm_ops
#undef nn__layernorm_ops

/* activation.c's entry points under baseline_ names (nn_internal.h,
 * already included, declared the library's; the baseline ones have no
 * declarations of their own: tests/CMakeLists.txt lifts
 * -Wmissing-prototypes for this file) */
#define nn__activation_valid baseline_activation_valid
#define nn__activation_forward baseline_activation_forward
#define nn__activation_forward_bias baseline_activation_forward_bias
#define nn__activation_forward_top baseline_activation_forward_top
#define nn__activation_backward_to baseline_activation_backward_to
#define nn__activation_backward baseline_activation_backward
#define nn__activation_backward_sums baseline_activation_backward_sums
#define nn__column_sums baseline_column_sums
#define nn__relu_dropout_sums baseline_relu_dropout_sums
#define nn__relu_dropout_back baseline_relu_dropout_back
#define nn__max_abs_bits baseline_max_abs_bits
#define nn__sigmoid baseline_sigmoid
#include "activation.c"
#undef nn__activation_valid
#undef nn__activation_forward
#undef nn__activation_forward_bias
#undef nn__activation_forward_top
#undef nn__activation_backward_to
#undef nn__activation_backward
#undef nn__activation_backward_sums
#undef nn__column_sums
#undef nn__relu_dropout_sums
#undef nn__relu_dropout_back
#undef nn__max_abs_bits
#undef nn__sigmoid

/* optim.c's, likewise */
#define nn__optim_reset baseline_optim_reset
#define nn_model_set_optimizer baseline_set_optimizer
#define nn_model_optimizer baseline_optimizer
#define nn_model_schedule baseline_schedule
#define nn_model_set_schedule baseline_set_schedule
#define nn_model_step_count baseline_step_count
#define nn_model_current_lr baseline_current_lr
#define nn__optim_max_arrays baseline_optim_max_arrays
#define nn__optim_prepare_arrays baseline_optim_prepare_arrays
#define nn__optim_unprepare baseline_optim_unprepare
#define nn__optim_alloc baseline_optim_alloc
#define nn__check_grads baseline_check_grads
#define nn__optim_step baseline_optim_step
#define nn_model_apply_grads baseline_apply_grads
#define nn__optim_fused_ready baseline_optim_fused_ready
#define nn__optim_fused baseline_optim_fused
/* called in optim.c before its definition */
void nn__optim_unprepare(nn_model *m, unsigned added);
#include "optim.c"
#undef nn__optim_reset
#undef nn_model_set_optimizer
#undef nn_model_optimizer
#undef nn_model_schedule
#undef nn_model_set_schedule
#undef nn_model_step_count
#undef nn_model_current_lr
#undef nn__optim_max_arrays
#undef nn__optim_prepare_arrays
#undef nn__optim_unprepare
#undef nn__optim_alloc
#undef nn__check_grads
#undef nn__optim_step
#undef nn_model_apply_grads
#undef nn__optim_fused_ready
#undef nn__optim_fused

/* gemm.c's, likewise: its small products' loops (gemm_small) are cloned */
#define nn__gemm baseline_gemm
#define nn__blas_part baseline_blas_part
#define nn__kernel_infer baseline_kernel_infer
#define nn__kernel_train baseline_kernel_train
#define nn__kernel_buf_floats baseline_kernel_buf_floats
#define nn__kernel_train_form baseline_kernel_train_form
#define nn__gemm_train baseline_gemm_train
#define nn__gemm_train_relu baseline_gemm_train_relu
#define nn__gemm_ref baseline_gemm_ref
#define nn_set_blas_threads baseline_set_blas_threads
#include "gemm.c"
#undef nn__gemm
#undef nn__blas_part
#undef nn__kernel_infer
#undef nn__kernel_train
#undef nn__kernel_buf_floats
#undef nn__kernel_train_form
#undef nn__gemm_train
#undef nn__gemm_train_relu
#undef nn__gemm_ref
#undef nn_set_blas_threads

/* loss.c's, likewise: its loops over the outputs are cloned */
#define nn__loss_valid baseline_loss_valid
#define nn__loss_fits baseline_loss_fits
#define nn__loss_grad baseline_loss_grad
#include "loss.c"
#undef nn__loss_valid
#undef nn__loss_fits
#undef nn__loss_grad

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "nn_test.h"

/* the library's own tables, which layers.h declared under the names
 * above */
extern const nn__layer_ops nn__dropout_ops;
extern const nn__layer_ops nn__batchnorm_ops;
extern const nn__layer_ops nn__layernorm_ops;

enum { IN = 5, W1 = 37, W2 = 35, OUT = 3, N = 13 };

/* Room for count floats (at least one), or the test fails. */
static float *room(size_t count)
{
    float *p = malloc((count ? count : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

/* a and b hold the same bits, float by float; with nan_ok, two NaNs also
 * pass (a NaN's payload is not promised). */
static void same_floats(const char *kind, const char *what, const float *a,
                        const float *b, size_t count, int nan_ok)
{
    size_t i;
    for (i = 0; i < count; i++)
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0 &&
            !(nan_ok && isnan(a[i]) && isnan(b[i])))
            fail_msg("%s, %s: float %zu: the dispatched clone wrote %.9g, "
                     "the baseline build %.9g", kind, what, i, (double)a[i],
                     (double)b[i]);
}

static void same_bits(const char *what, const char *kind, const float *a,
                      const float *b, size_t count)
{
    same_floats(kind, what, a, b, count, 0);
}

/* Runs one pass of layer l through ops, then returns what it wrote:
 * fwd = 1 the training forward pass (output, then extra block, then the
 * output's top bits as a float's), 0 the backward pass (dL/dx, the
 * layer's parameter gradients, the extra block). The extra blocks hold
 * the normalizations' statistics and sums in double, so a difference in
 * a double's last bit shows even where the floats round it away. */
static float *pass(nn_model *m, size_t l, const nn__layer_ops *ops, int fwd,
                   size_t *count)
{
    const nn__layer *L = &m->layers[l];
    const float *x = m->act[l - 1];
    size_t out = N * L->out, ex = ops->train_floats(m, l, N);
    size_t np = L->w_count + L->b_count;
    float *r;
    if (fwd) {
        ops->forward_train(m, l, x, N);
        *count = out + ex + 1;
        r = room(*count);
        memcpy(r, m->act[l], out * sizeof *r);
        if (ex)
            memcpy(r + out, m->extra[l], ex * sizeof *r);
        memcpy(r + out + ex, &m->act_top[l], sizeof *r);
    } else {
        memset(m->delta[l - 1], 0, N * L->in * sizeof(float));
        ops->backward(m, l, x, N, 0);
        *count = N * L->in + np + ex;
        r = room(*count);
        memcpy(r, m->delta[l - 1], N * L->in * sizeof *r);
        if (np)
            memcpy(r + N * L->in, m->grads + L->w_off, np * sizeof *r);
        if (ex) /* the normalizations keep their sums there, in double */
            memcpy(r + N * L->in + np, m->extra[l], ex * sizeof *r);
    }
    return r;
}

static void infer_same(nn_model *m, size_t l, const nn__layer_ops *lib,
                       const nn__layer_ops *base)
{
    const nn__layer *L = &m->layers[l];
    size_t s = lib->infer_floats(L, N);
    float *ya = room(N * L->out), *yb = room(N * L->out);
    float *scratch = room(s);
    const float *ra, *rb, *logits = NULL;
    nn__infer a;
    memset(&a, 0, sizeof a);
    a.x = m->act[l - 1];
    a.k = N;
    a.scratch = scratch;
    a.logits = &logits;
    a.y = ya;
    ra = lib->forward_infer(m, L, &a);
    a.y = yb;
    rb = base->forward_infer(m, L, &a);
    same_bits("inference", lib->name, ra, rb, N * L->out);
    free(ya);
    free(yb);
    free(scratch);
}

static nn_model *make(void)
{
    nn_model *m = NULL;
    NN_OK_OR_FAIL(nn_model_create(&m, IN, 21));
    NN_OK_OR_FAIL(nn_model_add_dense(m, W1, NN_ACT_TANH));
    NN_OK_OR_FAIL(nn_model_add_layernorm(m));
    NN_OK_OR_FAIL(nn_model_add_dense(m, W2, NN_ACT_GELU));
    NN_OK_OR_FAIL(nn_model_add_batchnorm(m));
    NN_OK_OR_FAIL(nn_model_add_dropout(m, 0.3));
    NN_OK_OR_FAIL(nn_model_add_dense(m, OUT, NN_ACT_IDENTITY));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_MSE));
    return m;
}

static void every_kind_gives_the_baseline_bits(void **state)
{
    static const struct {
        size_t layer;
        const nn__layer_ops *lib, *base;
    } kinds[] = {{1, &nn__layernorm_ops, &baseline_layernorm_ops},
                 {3, &nn__batchnorm_ops, &baseline_batchnorm_ops},
                 {4, &nn__dropout_ops, &baseline_dropout_ops}};
    float x[N * IN], t[N * OUT];
    nn_model *m = NULL;
    double loss;
    size_t k, i, kept = 0;
    (void)state;
    m = make();
    lcg_fill(x, N * IN, -2.0f, 2.0f, 5u);
    lcg_fill(t, N * OUT, -1.0f, 1.0f, 6u);
    /* a step first, so that the normalizations' scales and shifts are
     * no longer 1 and 0; then a pass that leaves the workspace full */
    NN_OK_OR_FAIL(nn_model_train_batch(m, N, x, IN, t, OUT, &loss));
    NN_OK_OR_FAIL(nn_model_compute_grads(m, N, x, IN, t, OUT, &loss));
    for (k = 0; k < ARRAY_LEN(kinds); k++) {
        size_t l = kinds[k].layer, ca, cb;
        float *a, *b;
        assert_ptr_equal(m->layers[l].ops, kinds[k].lib);
        /* the forward pass writes the whole extra block but for padding
         * (the compared bytes must all be defined: valgrind) */
        memset(m->extra[l], 0,
               kinds[k].lib->train_floats(m, l, N) * sizeof(float));
        a = pass(m, l, kinds[k].lib, 1, &ca);
        b = pass(m, l, kinds[k].base, 1, &cb);
        assert_int_equal(ca, cb);
        same_bits("training forward pass", kinds[k].lib->name, a, b, ca);
        /* not a vacuous match: values of both signs came out */
        {
            int pos = 0, neg = 0;
            for (i = 0; i < N * m->layers[l].out; i++) {
                pos |= a[i] > 0.0f;
                neg |= a[i] < 0.0f;
                kept += kinds[k].lib == &nn__dropout_ops && a[i] != 0.0f;
            }
            assert_true(pos && neg);
        }
        free(a);
        free(b);
        a = pass(m, l, kinds[k].lib, 0, &ca);
        b = pass(m, l, kinds[k].base, 0, &cb);
        same_bits("backward pass", kinds[k].lib->name, a, b, ca);
        free(a);
        free(b);
        infer_same(m, l, kinds[k].lib, kinds[k].base);
    }
    /* the dropout kept some units and dropped others */
    assert_true(kept > 0 && kept < N * W2);
    nn_model_free(m);
}

/* A relu dense layer's bias pass and the dropout after it, folded into
 * one (layers.h), and a relu activation layer's (no bias): the clone
 * against the baseline, on pre-activations of both signs. */
static void folded_dropout_gives_the_baseline_bits(void **state)
{
    float x[N * IN], t[N * OUT], z[N * W2], a[N * W2];
    nn_model *m = NULL;
    double loss;
    uint32_t top;
    size_t i, kept = 0;
    (void)state;
    NN_OK_OR_FAIL(nn_model_create(&m, IN, 23));
    NN_OK_OR_FAIL(nn_model_add_dense(m, W2, NN_ACT_RELU));
    NN_OK_OR_FAIL(nn_model_add_dropout(m, 0.3));
    NN_OK_OR_FAIL(nn_model_add_dense(m, OUT, NN_ACT_IDENTITY));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_MSE));
    assert_true(nn__dropout_folded(m, 1));
    lcg_fill(x, N * IN, -2.0f, 2.0f, 7u);
    lcg_fill(t, N * OUT, -1.0f, 1.0f, 8u);
    lcg_fill(z, N * W2, -3.0f, 3.0f, 9u);
    NN_OK_OR_FAIL(nn_model_train_batch(m, N, x, IN, t, OUT, &loss));
    lcg_fill(m->params + m->layers[0].b_off, W2, -1.0f, 1.0f, 10u);
    nn__dropout_relu_forward(m, 1, z, m->params + m->layers[0].b_off, N);
    memcpy(a, m->act[1], sizeof a);
    top = m->act_top[1];
    memset(m->act[1], 0xff, sizeof a);
    baseline_dropout_relu_forward(m, 1, z, m->params + m->layers[0].b_off,
                                  N);
    same_bits("relu and dropout folded", "dropout", a, m->act[1], N * W2);
    assert_int_equal(top, m->act_top[1]);
    for (i = 0; i < N * W2; i++)
        kept += a[i] != 0.0f;
    assert_true(kept > 0 && kept < N * W2);
    nn__dropout_relu_forward(m, 1, z, NULL, N);
    memcpy(a, m->act[1], sizeof a);
    top = m->act_top[1];
    memset(m->act[1], 0xff, sizeof a);
    baseline_dropout_relu_forward(m, 1, z, NULL, N);
    same_bits("relu layer and dropout folded", "dropout", a, m->act[1],
              N * W2);
    assert_int_equal(top, m->act_top[1]);
    nn_model_free(m);
}

/* A relu dense layer's backward pass taken by the batch or layer
 * normalization after it (layers.h, nn__norm_takes_relu), and its
 * forward pass forming the batch normalization's sums
 * (nn__bn_relu_forward): the clone against the baseline, on the
 * workspace a training pass left. Compared, forward: the relu's output,
 * its largest magnitude and the sums; backward:
 * the relu's dL/dZ (written over the dense layer's delta block), that
 * layer's bias gradient and largest |dL/dZ|, and the normalization's own
 * gradients and sums. */
static void norm_taking_the_relu_gives_the_baseline_bits(void **state)
{
    static const struct {
        size_t layer;
        const nn__layer_ops *lib, *base;
    } kinds[] = {{1, &nn__layernorm_ops, &baseline_layernorm_ops},
                 {3, &nn__batchnorm_ops, &baseline_batchnorm_ops}};
    float x[N * IN], t[N * OUT];
    nn_model *m = NULL;
    double loss;
    size_t k, i;
    (void)state;
    NN_OK_OR_FAIL(nn_model_create(&m, IN, 25));
    NN_OK_OR_FAIL(nn_model_add_dense(m, W1, NN_ACT_RELU));
    NN_OK_OR_FAIL(nn_model_add_layernorm(m));
    NN_OK_OR_FAIL(nn_model_add_dense(m, W2, NN_ACT_RELU));
    NN_OK_OR_FAIL(nn_model_add_batchnorm(m));
    NN_OK_OR_FAIL(nn_model_add_dense(m, OUT, NN_ACT_IDENTITY));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_MSE));
    lcg_fill(x, N * IN, -2.0f, 2.0f, 11u);
    lcg_fill(t, N * OUT, -1.0f, 1.0f, 12u);
    NN_OK_OR_FAIL(nn_model_train_batch(m, N, x, IN, t, OUT, &loss));
    NN_OK_OR_FAIL(nn_model_compute_grads(m, N, x, IN, t, OUT, &loss));
    {
        /* forward: the relu dense layer's bias pass with the batch
         * normalization's sums (layer 3), on pre-activations of both
         * signs; the sums are the extra block's first W2 doubles */
        float z[N * W2], za[N * W2];
        double sa[W2];
        uint32_t ta;
        lcg_fill(z, N * W2, -3.0f, 3.0f, 13u);
        memcpy(za, z, sizeof z);
        nn__bn_relu_forward(m, 3, za, m->params + m->layers[2].b_off, N);
        memcpy(sa, m->extra[3], sizeof sa);
        ta = m->act_top[2];
        memset(m->extra[3], 0xff, sizeof sa);
        m->act_top[2] = 0xffffffffu;
        baseline_bn_relu_forward(m, 3, z, m->params + m->layers[2].b_off, N);
        same_bits("relu with the batch normalization's sums", "batchnorm",
                  za, z, N * W2);
        assert_memory_equal(sa, m->extra[3], sizeof sa);
        assert_int_equal(ta, m->act_top[2]);
        /* the workspace again; the passes write the normalizations'
         * extra blocks but for padding, which the backward comparison
         * reads (it must be defined: valgrind) */
        for (k = 0; k < ARRAY_LEN(kinds); k++)
            memset(m->extra[kinds[k].layer], 0,
                   kinds[k].lib->train_floats(m, kinds[k].layer, N) *
                       sizeof(float));
        NN_OK_OR_FAIL(nn_model_compute_grads(m, N, x, IN, t, OUT, &loss));
    }
    for (k = 0; k < ARRAY_LEN(kinds); k++) {
        size_t l = kinds[k].layer, ca, cb, zeros = 0;
        const nn__layer *P = &m->layers[l - 1];
        float *a, *b, dba[W1], dbb[W1];
        uint32_t ta, tb;
        assert_true(nn__norm_takes_relu(m, l));
        assert_ptr_equal(m->layers[l].ops, kinds[k].lib);
        memset(m->grads + P->b_off, 0xff, P->out * sizeof(float));
        a = pass(m, l, kinds[k].lib, 0, &ca);
        memcpy(dba, m->grads + P->b_off, P->out * sizeof(float));
        ta = m->delta_top[l - 1];
        memset(m->grads + P->b_off, 0xff, P->out * sizeof(float));
        m->delta_top[l - 1] = 0xffffffffu;
        b = pass(m, l, kinds[k].base, 0, &cb);
        memcpy(dbb, m->grads + P->b_off, P->out * sizeof(float));
        tb = m->delta_top[l - 1];
        assert_int_equal(ca, cb);
        same_bits("backward pass with the relu's", kinds[k].lib->name, a, b,
                  ca);
        same_bits("the relu's bias gradient", kinds[k].lib->name, dba, dbb,
                  P->out);
        assert_int_equal(ta, tb);
        /* not vacuous: the relu dropped some units and kept others */
        for (i = 0; i < N * P->out; i++)
            zeros += a[i] == 0.0f;
        assert_true(zeros > 0 && zeros < N * P->out);
        free(a);
        free(b);
    }
    nn_model_free(m);
}

static void same_values(const char *what, int act, const float *a,
                        const float *b, size_t count)
{
    same_floats(act ? nn_activation_name((nn_activation)act) : "column sums",
                what, a, b, count, 1);
}

/* Every activation kernel, on blocks with whole vectors and tails, over
 * the range and its special values: the clone the library dispatches to
 * against the baseline build of activation.c. */
static void activation_kernels_give_the_baseline_bits(void **state)
{
    enum { R = 3, K = 37, L = R * K };
    static const struct {
        int act;
        float p;
    } acts[] = {{NN_ACT_IDENTITY, 0.0f}, {NN_ACT_SIGMOID, 0.0f},
                {NN_ACT_TANH, 0.0f},     {NN_ACT_RELU, 0.0f},
                {NN_ACT_LEAKY_RELU, 0.1f}, {NN_ACT_SOFTMAX, 0.0f},
                {NN_ACT_GELU, 0.0f},     {NN_ACT_SILU, 0.0f},
                {NN_ACT_SOFTPLUS, 0.0f}, {NN_ACT_ELU, 0.7f}};
    static const float special[] = {0.0f, -0.0f, 1e-40f, -1e-40f, 88.7f,
                                    -88.7f, -104.0f, 3e38f, -3e38f,
                                    INFINITY, -INFINITY, NAN};
    float z[L], b[K], za[L], zb[L], aa[L], ab[L], ga[L], gb[L], g0[L];
    float da[K], db[K], gk[L];
    size_t i, q, widths[] = {K, 15, 16, 3};
    (void)state;
    lcg_fill(z, L, -12.0f, 12.0f, 11u);
    lcg_fill(b, K, -1.0f, 1.0f, 12u);
    lcg_fill(g0, L, -2.0f, 2.0f, 13u);
    for (i = 0; i < ARRAY_LEN(special); i++)
        z[7 * i + 1] = special[i];
    for (q = 0; q < ARRAY_LEN(acts); q++) {
        int act = acts[q].act;
        float p = acts[q].p;
        uint32_t ta = 0, tb = 1;
        nn__activation_forward(act, p, z, aa, R, K);
        baseline_activation_forward(act, p, z, ab, R, K);
        same_values("forward", act, aa, ab, L);
        /* bias and activation, in place and into a block of its own */
        memcpy(za, z, sizeof za);
        memcpy(zb, z, sizeof zb);
        nn__activation_forward_bias(act, p, za, b, za, R, K, &ta);
        baseline_activation_forward_bias(act, p, zb, b, zb, R, K, &tb);
        same_values("forward_bias in place", act, za, zb, L);
        assert_int_equal(ta, tb);
        memcpy(za, z, sizeof za);
        memcpy(zb, z, sizeof zb);
        nn__activation_forward_bias(act, p, za, b, aa, R, K, &ta);
        baseline_activation_forward_bias(act, p, zb, b, ab, R, K, &tb);
        same_values("forward_bias, z", act, za, zb, L);
        same_values("forward_bias, a", act, aa, ab, L);
        assert_int_equal(ta, tb);
        /* an activation layer's pass: the values of forward and the bits
         * nn__max_abs_bits takes of them, in one pass */
        nn__activation_forward(act, p, z, ab, R, K);
        tb = nn__max_abs_bits(ab, L);
        ta = nn__activation_forward_top(act, p, z, aa, R, K);
        same_values("forward_top against forward", act, aa, ab, L);
        assert_int_equal(ta, tb);
        tb = baseline_activation_forward_top(act, p, z, ab, R, K);
        same_values("forward_top", act, aa, ab, L);
        assert_int_equal(ta, tb);
        /* backward from the same z and a */
        memcpy(ga, g0, sizeof ga);
        memcpy(gb, g0, sizeof gb);
        nn__activation_backward(act, p, za, aa, ga, R, K);
        baseline_activation_backward(act, p, za, aa, gb, R, K);
        same_values("backward", act, ga, gb, L);
        /* out of place: the same values, g left as it was */
        memcpy(gk, g0, sizeof gk);
        nn__activation_backward_to(act, p, za, aa, gk, gb, R, K);
        same_values("backward_to against backward", act, gb, ga, L);
        same_values("backward_to leaves g", act, gk, g0, L);
        baseline_activation_backward_to(act, p, za, aa, gk, ga, R, K);
        same_values("backward_to", act, ga, gb, L);
        memcpy(ga, g0, sizeof ga);
        memcpy(gb, g0, sizeof gb);
        ta = nn__activation_backward_sums(act, p, za, aa, ga, da, R, K);
        tb = baseline_activation_backward_sums(act, p, za, aa, gb, db, R,
                                               K);
        same_values("backward_sums, g", act, ga, gb, L);
        same_values("backward_sums, db", act, da, db, K);
        assert_int_equal(ta, tb);
    }
    /* a relu's dL/dZ from a dropout's output (some units dropped: 0) and
     * its dL/dy */
    nn__activation_forward(NN_ACT_RELU, 0.0f, z, aa, R, K);
    for (i = 0; i < L; i += 3)
        aa[i] = 0.0f;
    memcpy(ga, g0, sizeof ga);
    memcpy(gb, g0, sizeof gb);
    assert_int_equal(nn__relu_dropout_sums(aa, ga, 1.25f, da, R, K),
                     baseline_relu_dropout_sums(aa, gb, 1.25f, db, R, K));
    same_values("relu_dropout_sums, dz", NN_ACT_RELU, ga, gb, L);
    same_values("relu_dropout_sums, db", NN_ACT_RELU, da, db, K);
    nn__relu_dropout_back(aa, g0, 1.25f, ga, L);
    baseline_relu_dropout_back(aa, g0, 1.25f, gb, L);
    same_values("relu_dropout_back", NN_ACT_RELU, ga, gb, L);
    for (q = 0; q < ARRAY_LEN(widths); q++) {
        size_t k = widths[q];
        assert_int_equal(nn__column_sums(g0, da, R, k),
                         baseline_column_sums(g0, db, R, k));
        same_values("column sums", 0, da, db, k);
        assert_int_equal(nn__max_abs_bits(z, R * k),
                         baseline_max_abs_bits(z, R * k));
    }
}

/* Every loss (and cross-entropy's forms: labels or target rows, with
 * class weights, label smoothing or both), after an identity output and
 * after the activations the element-wise losses pass their gradient
 * through, on rows of 10 and 37 (whole vectors and tails): the value
 * returned and every float of the gradient, the clone the library
 * dispatches to against the baseline build of loss.c (both take the
 * activation's derivative from the library's nn__activation_backward,
 * which activation_kernels_give_the_baseline_bits holds against its
 * baseline). The rows the mean runs over exceed the block's, as for a
 * part of a batch. */
static void losses_give_the_baseline_bits(void **state)
{
    enum { R = 5, KMAX = 37 };
    static const struct {
        int loss, act;
        int labels, weights;
        double smoothing;
    } cases[] = {
        {NN_LOSS_MSE, NN_ACT_IDENTITY, 0, 0, 0.0},
        {NN_LOSS_MSE, NN_ACT_SIGMOID, 0, 0, 0.0},
        {NN_LOSS_MSE, NN_ACT_TANH, 0, 0, 0.0},
        {NN_LOSS_L1, NN_ACT_IDENTITY, 0, 0, 0.0},
        {NN_LOSS_L1, NN_ACT_RELU, 0, 0, 0.0},
        {NN_LOSS_HUBER, NN_ACT_IDENTITY, 0, 0, 0.0},
        {NN_LOSS_HUBER, NN_ACT_SIGMOID, 0, 0, 0.0},
        {NN_LOSS_BCE, NN_ACT_SIGMOID, 0, 0, 0.0},
        {NN_LOSS_CROSS_ENTROPY, NN_ACT_SOFTMAX, 1, 0, 0.0},
        {NN_LOSS_CROSS_ENTROPY, NN_ACT_SOFTMAX, 0, 0, 0.0},
        {NN_LOSS_CROSS_ENTROPY, NN_ACT_SOFTMAX, 1, 1, 0.0},
        {NN_LOSS_CROSS_ENTROPY, NN_ACT_SOFTMAX, 0, 1, 0.0},
        {NN_LOSS_CROSS_ENTROPY, NN_ACT_SOFTMAX, 1, 0, 0.1},
        {NN_LOSS_CROSS_ENTROPY, NN_ACT_SOFTMAX, 1, 1, 0.1},
        {NN_LOSS_CROSS_ENTROPY, NN_ACT_SOFTMAX, 0, 1, 0.1}};
    static const size_t widths[] = {10, KMAX};
    float z[R * KMAX], a[R * KMAX], t[R * KMAX], w[KMAX];
    float ga[R * KMAX], gb[R * KMAX];
    int32_t labels[R];
    size_t c, q, i;
    (void)state;
    lcg_fill(z, R * KMAX, -9.0f, 9.0f, 21u);
    lcg_fill(w, KMAX, 0.25f, 2.0f, 22u);
    z[3] = -104.0f; /* e^(z - max) below float's range */
    z[4] = 88.0f;
    for (c = 0; c < ARRAY_LEN(cases); c++)
        for (q = 0; q < ARRAY_LEN(widths); q++) {
            const size_t k = widths[q], len = R * k;
            nn__loss_args la;
            double va, vb;
            memset(&la, 0, sizeof la);
            la.loss = cases[c].loss;
            la.act = cases[c].act;
            la.huber_delta = 0.75;
            la.smoothing = cases[c].smoothing;
            la.class_w = cases[c].weights ? w : NULL;
            la.rows = 2 * R;
            if (la.loss == NN_LOSS_CROSS_ENTROPY) {
                /* target rows of probabilities, labels across the row */
                lcg_fill(t, len, 0.0f, 1.0f, 23u);
                for (i = 0; i < R; i++) {
                    size_t j;
                    float sum = 0.0f;
                    for (j = 0; j < k; j++)
                        sum += t[i * k + j];
                    for (j = 0; j < k; j++)
                        t[i * k + j] /= sum;
                    labels[i] = (int32_t)((7 * i + 3) % k);
                }
            } else if (la.loss == NN_LOSS_BCE) {
                lcg_fill(t, len, 0.0f, 1.0f, 24u);
            } else {
                lcg_fill(t, len, -1.5f, 1.5f, 25u);
            }
            nn__activation_forward(la.act, 0.0f, z, a, R, k);
            memset(ga, 0xff, sizeof ga);
            memset(gb, 0xff, sizeof gb);
            va = nn__loss_grad(&la, z, a, cases[c].labels ? NULL : t,
                               cases[c].labels ? labels : NULL, ga, R, k);
            vb = baseline_loss_grad(&la, z, a, cases[c].labels ? NULL : t,
                                    cases[c].labels ? labels : NULL, gb, R,
                                    k);
            if (memcmp(&va, &vb, sizeof va) != 0)
                fail_msg("loss %d, activation %d, case %zu, k %zu: the "
                         "dispatched clone returned %.17g, the baseline "
                         "build %.17g", la.loss, la.act, c, k, va, vb);
            same_bits("loss gradient", nn_loss_name((nn_loss)la.loss), ga,
                      gb, len);
        }
}

/* The small products' loops (gemm.c's gemm_small, which nn__gemm takes
 * for products of one or two rows, sums of one or two terms where B is
 * not transposed, and tiny ones): every shape class the loops tell apart
 * (a handful of multiply-adds per row; rows of C as dot products,
 * contiguous or strided along op(A); rows of C accumulating rows of B,
 * one at a time or two in one pass), with whole vectors and tails, each
 * transposition, and the
 * alpha and beta the library passes (beta 0 overwrites C, 1 adds, others
 * scale), on values spread over many binades with special values among
 * them. */
static void small_products_give_the_baseline_bits(void **state)
{
    enum { CAP = 2048 };
    static const struct {
        size_t m, n, k;
    } shapes[] = {{1, 1, 1},   {2, 2, 2},   {5, 3, 5},   {2, 4, 4},
                  {1, 37, 45}, {2, 53, 19}, {1, 8, 16},  {2, 17, 33},
                  {8, 8, 16},  {6, 5, 21},  {1, 130, 7}, {37, 45, 1},
                  {19, 53, 2}, {13, 130, 2}, {2, 3, 100}};
    static const float alphas[] = {1.0f, -0.01f};
    static const float betas[] = {0.0f, 1.0f, 0.75f};
    static const float special[] = {-0.0f, 1e-40f, 3e38f, INFINITY, NAN};
    float *A = room(CAP), *B = room(CAP), *C0 = room(CAP);
    float *Ca = room(CAP), *Cb = room(CAP);
    size_t s, t, ai, bi, i;
    (void)state;
    lcg_fill(A, CAP, -2.0f, 2.0f, 21u);
    lcg_fill(B, CAP, -2.0f, 2.0f, 22u);
    lcg_fill(C0, CAP, -1.0f, 1.0f, 23u);
    /* magnitudes from 2^-60 to 2^60, so that sums round differently in
     * any other order */
    for (i = 0; i < CAP; i += 3)
        A[i] = ldexpf(A[i], (int)(i % 121) - 60);
    /* sums of one or two terms take the loops only into rows wider than
     * 16 and with B untransposed (gemm.c, use_small) */
    assert_false(use_small(0, 1024, 16, 1));
    assert_false(use_small(1, 1024, 1024, 2));
    assert_false(use_small(0, 1024, 1024, 3));
    for (s = 0; s < ARRAY_LEN(shapes); s++) {
        const size_t m = shapes[s].m, n = shapes[s].n, k = shapes[s].k;
        assert_true(use_small(0, m, n, k));
        assert_true(m * k <= CAP && k * n <= CAP && m * n <= CAP);
        /* the last shape carries the special values */
        if (s + 1 == ARRAY_LEN(shapes))
            for (i = 0; i < ARRAY_LEN(special); i++)
                A[37 * i + 5] = special[i];
        for (t = 0; t < 4; t++) {
            const int ta = (int)(t & 1), tb = (int)(t >> 1);
            /* op(A) is m x k (stored k x m when transposed), op(B) k x n */
            const size_t lda = ta ? m : k, ldb = tb ? k : n;
            char what[96];
            for (ai = 0; ai < ARRAY_LEN(alphas); ai++)
                for (bi = 0; bi < ARRAY_LEN(betas); bi++) {
                    memcpy(Ca, C0, m * n * sizeof *Ca);
                    memcpy(Cb, C0, m * n * sizeof *Cb);
                    nn__gemm(ta, tb, m, n, k, alphas[ai], A, lda, B, ldb,
                             betas[bi], Ca, n);
                    baseline_gemm(ta, tb, m, n, k, alphas[ai], A, lda, B,
                                  ldb, betas[bi], Cb, n);
                    snprintf(what, sizeof what,
                             "%zu x %zu x %zu, trans %d %d, alpha %g, "
                             "beta %g", m, n, k, ta, tb,
                             (double)alphas[ai], (double)betas[bi]);
                    same_floats("small product", what, Ca, Cb, m * n, 1);
                }
        }
    }
    free(A);
    free(B);
    free(C0);
    free(Ca);
    free(Cb);
}

/* The optimizer's update (optim.c, cloned): twin nets with the same
 * gradients, one stepped by the library, one by the baseline build of
 * optim.c; parameters and optimizer state the same bits after each of
 * six steps, for every optimizer and the settings that change the
 * update's loop. */
static void optimizer_steps_give_the_baseline_bits(void **state)
{
    static const struct {
        nn_optimizer opt;
        int param[3];
        double value[3];
    } cases[] = {
        {NN_OPT_SGD, {NN_PARAM_MOMENTUM, NN_PARAM_NESTEROV,
                      NN_PARAM_WEIGHT_DECAY}, {0.9, 1.0, 0.01}},
        {NN_OPT_SGD, {NN_PARAM_MOMENTUM, NN_PARAM_DAMPENING,
                      NN_PARAM_CLIP_VALUE}, {0.8, 0.3, 0.05}},
        {NN_OPT_ADAM, {NN_PARAM_WEIGHT_DECAY, NN_PARAM_CLIP_NORM,
                       NN_PARAM_LEARNING_RATE}, {0.01, 0.5, 0.01}},
        {NN_OPT_ADAMW, {NN_PARAM_AMSGRAD, NN_PARAM_WEIGHT_DECAY,
                        NN_PARAM_LEARNING_RATE}, {1.0, 0.1, 0.01}},
        {NN_OPT_RMSPROP, {NN_PARAM_CENTERED, NN_PARAM_MOMENTUM,
                          NN_PARAM_LEARNING_RATE}, {1.0, 0.5, 0.01}}};
    float x[N * IN], t[N * OUT];
    size_t c, s, q;
    (void)state;
    lcg_fill(x, N * IN, -2.0f, 2.0f, 14u);
    lcg_fill(t, N * OUT, -1.0f, 1.0f, 15u);
    for (c = 0; c < ARRAY_LEN(cases); c++) {
        nn_model *m[2];
        for (q = 0; q < 2; q++) {
            size_t j;
            m[q] = NULL;
            NN_OK_OR_FAIL(nn_model_create(&m[q], IN, 33));
            NN_OK_OR_FAIL(nn_model_add_dense(m[q], W1, NN_ACT_TANH));
            NN_OK_OR_FAIL(nn_model_add_dense(m[q], OUT, NN_ACT_IDENTITY));
            NN_OK_OR_FAIL(nn_model_set_loss(m[q], NN_LOSS_MSE));
            NN_OK_OR_FAIL(nn_model_set_optimizer(m[q], cases[c].opt));
            for (j = 0; j < 3; j++)
                NN_OK_OR_FAIL(nn_model_set_param(m[q], cases[c].param[j],
                                                 cases[c].value[j]));
        }
        for (s = 0; s < 6; s++) {
            double loss;
            size_t np = m[0]->n_params, k;
            NN_OK_OR_FAIL(nn_model_compute_grads(m[0], N, x, IN, t, OUT,
                                                 &loss));
            NN_OK_OR_FAIL(nn_model_compute_grads(m[1], N, x, IN, t, OUT,
                                                 &loss));
            same_bits("gradients", "optimizer", m[0]->grads, m[1]->grads,
                      np);
            NN_OK_OR_FAIL(nn__optim_step("test", m[0]));
            NN_OK_OR_FAIL(baseline_optim_step("test", m[1]));
            same_bits("parameters", "optimizer", m[0]->params,
                      m[1]->params, np);
            for (k = 0; k < nn__optim_arrays(m[0]); k++)
                same_bits("state", "optimizer", m[0]->state[k],
                          m[1]->state[k], np);
        }
        nn_model_free(m[0]);
        nn_model_free(m[1]);
    }
}

/* Every pass of every kind, forty times over values that move (and over
 * forty steps' dropout masks): Adam steps of the net with the library's
 * tables and of its twin with the baseline ones must give the same
 * losses and end in the same parameters and running statistics. */
static void training_through_the_baseline_builds_ends_the_same(void **state)
{
    enum { STEPS = 40 };
    float x[N * IN], t[N * OUT];
    nn_model *a = make(), *b = make();
    float *pa, *pb;
    size_t na, nb, s;
    (void)state;
    b->layers[1].ops = &baseline_layernorm_ops;
    b->layers[3].ops = &baseline_batchnorm_ops;
    b->layers[4].ops = &baseline_dropout_ops;
    NN_OK_OR_FAIL(nn_model_set_optimizer(a, NN_OPT_ADAM));
    NN_OK_OR_FAIL(nn_model_set_optimizer(b, NN_OPT_ADAM));
    NN_OK_OR_FAIL(nn_model_set_param(a, NN_PARAM_LEARNING_RATE, 0.01));
    NN_OK_OR_FAIL(nn_model_set_param(b, NN_PARAM_LEARNING_RATE, 0.01));
    lcg_fill(x, N * IN, -2.0f, 2.0f, 7u);
    lcg_fill(t, N * OUT, -1.0f, 1.0f, 8u);
    for (s = 0; s < STEPS; s++) {
        double la, lb;
        NN_OK_OR_FAIL(nn_model_train_batch(a, N, x, IN, t, OUT, &la));
        NN_OK_OR_FAIL(nn_model_train_batch(b, N, x, IN, t, OUT, &lb));
        if (memcmp(&la, &lb, sizeof la) != 0)
            fail_msg("step %zu: loss %.17g, through the baseline builds "
                     "%.17g", s, la, lb);
    }
    pa = nn_model_params(a, &na);
    pb = nn_model_params(b, &nb);
    assert_int_equal(na, nb);
    same_bits("parameters after training", "every kind", pa, pb, na);
    same_bits("buffers after training", "batchnorm",
              a->buffers + a->layers[3].buf_off,
              b->buffers + b->layers[3].buf_off, a->layers[3].buf_count);
    nn_model_free(a);
    nn_model_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_kind_gives_the_baseline_bits),
        cmocka_unit_test(folded_dropout_gives_the_baseline_bits),
        cmocka_unit_test(norm_taking_the_relu_gives_the_baseline_bits),
        cmocka_unit_test(training_through_the_baseline_builds_ends_the_same),
        cmocka_unit_test(activation_kernels_give_the_baseline_bits),
        cmocka_unit_test(optimizer_steps_give_the_baseline_bits),
        cmocka_unit_test(small_products_give_the_baseline_bits),
        cmocka_unit_test(losses_give_the_baseline_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
