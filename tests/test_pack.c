/* SPDX-License-Identifier: MIT */
/*
 * test_pack.c - the passes through libnn's kernel, and inference through
 * the packed copy of the weights (pack.c, gemm_avx512.c): predictions
 * agree with the BLAS path to float rounding, and bit for bit with the
 * training forward pass and with the weights read in place; training's
 * gradients agree with BLAS's, and a row's outputs do not depend on its
 * batch; every write to the parameters (a step of each kind, set_weights,
 * set_bias, a redrawn init, fit restoring its best epoch, writes through
 * nn_model_params, a new layer) reaches the next prediction, which a stale
 * copy would not; threads predicting while the copy is built all get the
 * same bits; and a copy that cannot be allocated leaves predict correct.
 * Run under ThreadSanitizer by the test command. On a CPU without
 * AVX-512F (or under valgrind) no copy is built: the tests that need one
 * say so and check what they can.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"
#include "nn_test.h"

enum { IN = 40, OUT = 7, ROWS = 300 }; /* ROWS: more than one slice */

static float x_rows[ROWS * IN];

static void make_rows(void)
{
    static int done;
    if (!done)
        lcg_fill(x_rows, ROWS * IN, -1.0f, 1.0f, 2024);
    done = 1;
}

static int kernel_here(void)
{
    static int told;
    if (nn__kernel_on())
        return 1;
    if (!told)
        print_message("[ SKIPPED  ] the CPU has neither AVX-512F nor AVX2 "
                      "and FMA: no packed copy is built\n");
    told = 1;
    return 0;
}

/* Whether the model holds a packed copy now (the slot's placeholder is
 * never seen between calls). */
static int has_copy(const nn_model *m)
{
    return m->infer_pack != NULL;
}

static nn_model *make_net(uint64_t seed)
{
    static const size_t widths[] = {64, 50, OUT};
    static const nn_activation acts[] = {NN_ACT_RELU, NN_ACT_LEAKY_RELU,
                                         NN_ACT_SOFTMAX};
    return build_model(IN, seed, widths, acts, 3, NN_LOSS_CROSS_ENTROPY,
                       0.05);
}

/* |a - b| <= tol (1 + |b|) everywhere. */
static void assert_close(const float *a, const float *b, size_t len,
                         double tol, const char *what)
{
    size_t i;
    for (i = 0; i < len; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= tol * (1.0 + fabs((double)b[i])))) {
            print_error("%s: [%zu] %.9g against %.9g\n", what, i,
                        (double)a[i], (double)b[i]);
            fail();
        }
    }
}

/* Predictions of the model loaded from a copy of m's file: a model that
 * never saw m's history, with a copy built from its own weights. */
static void predict_fresh(const nn_model *m, size_t n, float *y)
{
    size_t size = 0;
    unsigned char *buf;
    nn_model *twin = NULL;
    size_t out = nn_model_output_width(m);
    NN_OK_OR_FAIL(nn_model_save_size(m, NN_SAVE_MODEL, &size));
    buf = malloc(size);
    assert_non_null(buf);
    NN_OK_OR_FAIL(nn_model_save_buffer(m, NN_SAVE_MODEL, buf, size, NULL));
    NN_OK_OR_FAIL(nn_model_load_buffer(&twin, buf, size));
    NN_OK_OR_FAIL(nn_model_predict(twin, n, x_rows, IN, y, out));
    free(buf);
    nn_model_free(twin);
}

/* ---- agreement ---- */

typedef struct net_case {
    size_t widths[3];
    nn_activation acts[3];
    nn_loss loss;
} net_case;

static void predictions_agree_with_blas_and_the_training_pass(void **state)
{
    static const net_case nets[] = {
        {{64, 50, OUT}, {NN_ACT_RELU, NN_ACT_LEAKY_RELU, NN_ACT_SOFTMAX},
         NN_LOSS_CROSS_ENTROPY},
        {{33, 17, OUT}, {NN_ACT_SIGMOID, NN_ACT_TANH, NN_ACT_IDENTITY},
         NN_LOSS_MSE},
        {{64, 49, OUT}, {NN_ACT_GELU, NN_ACT_SILU, NN_ACT_SIGMOID},
         NN_LOSS_BCE},
        {{16, 100, OUT}, {NN_ACT_ELU, NN_ACT_SOFTPLUS, NN_ACT_SOFTMAX},
         NN_LOSS_CROSS_ENTROPY}};
    static const size_t batches[] = {1, 5, 32, ROWS};
    static float y[ROWS * OUT], yb[ROWS * OUT], t[ROWS * OUT];
    size_t c, b, i;
    (void)state;
    make_rows();
    for (i = 0; i < ROWS * OUT; i++)
        t[i] = 1.0f / OUT;
    for (c = 0; c < ARRAY_LEN(nets); c++) {
        nn_model *m = build_model(IN, 10 + c, nets[c].widths, nets[c].acts,
                                  3, nets[c].loss, 0.05);
        for (b = 0; b < ARRAY_LEN(batches); b++) {
            size_t n = batches[b];
            double loss;
            int on = nn__kernel_force(-1);
            NN_OK_OR_FAIL(nn_model_predict(m, n, x_rows, IN, y, OUT));
            assert_int_equal(has_copy(m), on);
            /* through nn__gemm (CBLAS) and the bias pass */
            nn__kernel_force(0);
            NN_OK_OR_FAIL(nn_model_predict(m, n, x_rows, IN, yb, OUT));
            nn__kernel_force(-1);
            assert_close(y, yb, n * OUT, 1e-5, "kernel against BLAS");
            /* the training pass's outputs, in the workspace: the same
             * products where the kernel takes every training forward
             * product (its AVX-512 build; gemm.c), so the same bits */
            NN_OK_OR_FAIL(nn_model_compute_grads(m, n, x_rows, IN, t, OUT,
                                                 &loss));
            assert_close(y, m->act[m->n_layers - 1], n * OUT, 1e-5,
                         "predict against the training forward pass");
            if (nn__kernel_isa() == NN__KERNEL_AVX512)
                assert_memory_equal(y, m->act[m->n_layers - 1],
                                    n * OUT * sizeof *y);
        }
        nn_model_free(m);
    }
}

static void packed_and_in_place_give_the_same_bits(void **state)
{
    static float y[ROWS * OUT], y2[ROWS * OUT];
    nn_model *m = make_net(3), *twin = make_net(3);
    nn_data *d = NULL;
    int32_t labels[ROWS];
    double l1, a1, l2, a2;
    size_t i;
    (void)state;
    make_rows();
    for (i = 0; i < ROWS; i++)
        labels[i] = (int32_t)(i % OUT);
    /* nn_model_params hands out the buffer: the twin builds no copy and
     * reads its weights in place */
    assert_non_null(nn_model_params(twin, NULL));
    NN_OK_OR_FAIL(nn_model_predict(m, ROWS, x_rows, IN, y, OUT));
    NN_OK_OR_FAIL(nn_model_predict(twin, ROWS, x_rows, IN, y2, OUT));
    assert_int_equal(has_copy(m), kernel_here());
    assert_false(has_copy(twin));
    assert_memory_equal(y, y2, sizeof y);
    /* evaluate reads the copy too */
    NN_OK_OR_FAIL(nn_data_create_labels(&d, ROWS, x_rows, IN, labels));
    NN_OK_OR_FAIL(nn_model_evaluate(m, d, &l1, &a1));
    NN_OK_OR_FAIL(nn_model_evaluate(twin, d, &l2, &a2));
    assert_memory_equal(&l1, &l2, sizeof l1);
    assert_memory_equal(&a1, &a2, sizeof a1);
    nn_data_free(d);
    nn_model_free(m);
    nn_model_free(twin);
}

/* The training passes through the kernel: gradients as BLAS's to float
 * rounding, and, where the kernel takes every forward product (its
 * AVX-512 build), a row's forward outputs the same bits in any batch. */
static void training_through_the_kernel_agrees_with_blas(void **state)
{
    static float g_k[64 * IN + 64 + 50 * 64 + 50 + 7 * 50 + 7];
    static float g_b[sizeof g_k / sizeof g_k[0]], out[ROWS * OUT];
    static const size_t batches[] = {1, 3, 4, 17, 32, 100};
    int32_t labels[ROWS];
    nn_model *m = make_net(17);
    size_t count, i, b, n = 100;
    double top = 0.0, worst = 0.0;
    (void)state;
    make_rows();
    for (i = 0; i < ROWS; i++)
        labels[i] = (int32_t)(i % OUT);
    (void)nn_model_grads(m, &count);
    assert_int_equal(count, ARRAY_LEN(g_k));
    nn__kernel_force(-1);
    NN_OK_OR_FAIL(nn_model_compute_grads_labels(m, n, x_rows, IN, labels,
                                                NULL));
    memcpy(g_k, nn_model_grads(m, NULL), sizeof g_k);
    memcpy(out, m->act[m->n_layers - 1], n * OUT * sizeof *out);
    nn__kernel_force(0);
    nn__workspace_free(m); /* a workspace without the kernel's room */
    NN_OK_OR_FAIL(nn_model_compute_grads_labels(m, n, x_rows, IN, labels,
                                                NULL));
    memcpy(g_b, nn_model_grads(m, NULL), sizeof g_b);
    nn__kernel_force(-1);
    nn__workspace_free(m);
    for (i = 0; i < count; i++) {
        double d = fabs((double)g_k[i] - g_b[i]);
        top = fabs((double)g_b[i]) > top ? fabs((double)g_b[i]) : top;
        worst = d > worst ? d : worst;
    }
    assert_true(top > 1e-3);
    if (!(worst <= 1e-5 * top)) {
        print_error("gradients: kernel and BLAS differ by %g (largest "
                    "%g)\n", worst, top);
        fail();
    }
    /* rows 0..n-1 of smaller batches: the same outputs, bit for bit */
    for (b = 0; b < ARRAY_LEN(batches) && kernel_here() &&
                nn__kernel_isa() == NN__KERNEL_AVX512;
         b++) {
        size_t k = batches[b];
        NN_OK_OR_FAIL(nn_model_compute_grads_labels(m, k, x_rows, IN,
                                                    labels, NULL));
        assert_memory_equal(m->act[m->n_layers - 1], out,
                            k * OUT * sizeof *out);
    }
    nn_model_free(m);
}

/* ---- staleness ---- */

/* After a write to m's parameters: predict gives what a model with these
 * parameters and no history gives, bit for bit, and no longer what it
 * gave before (*before, updated). */
static void check_written(nn_model *m, float *before, const char *what)
{
    static float y[ROWS * OUT], fresh[ROWS * OUT];
    NN_OK_OR_FAIL(nn_model_predict(m, ROWS, x_rows, IN, y, OUT));
    predict_fresh(m, ROWS, fresh);
    if (memcmp(y, fresh, sizeof y) != 0) {
        print_error("after %s, predict does not see the new parameters\n",
                    what);
        fail();
    }
    if (memcmp(y, before, sizeof y) == 0) {
        print_error("%s changed no prediction: the test proves nothing\n",
                    what);
        fail();
    }
    memcpy(before, y, sizeof y);
    /* and the call built a new copy, which the next write must drop */
    if (!m->params_shared)
        assert_int_equal(has_copy(m), nn__kernel_on());
}

static void every_write_to_the_parameters_reaches_predict(void **state)
{
    static float before[ROWS * OUT], y1[ROWS * 64];
    float w[IN * 64], b[64], g[ROWS * OUT];
    int32_t labels[32];
    nn_model *m = NULL;
    float *p;
    size_t count, i;
    (void)state;
    make_rows();
    for (i = 0; i < 32; i++)
        labels[i] = (int32_t)(i % OUT);
    (void)kernel_here();

    /* layers added after a prediction: a new parameter buffer, a new
     * copy */
    NN_OK_OR_FAIL(nn_model_create(&m, IN, 7));
    NN_OK_OR_FAIL(nn_model_add_dense(m, 64, NN_ACT_RELU));
    NN_OK_OR_FAIL(nn_model_predict(m, ROWS, x_rows, IN, y1, 64));
    assert_int_equal(has_copy(m), nn__kernel_on());
    NN_OK_OR_FAIL(nn_model_add_dense(m, 50, NN_ACT_LEAKY_RELU));
    assert_false(has_copy(m));
    NN_OK_OR_FAIL(nn_model_add_dense(m, OUT, NN_ACT_SOFTMAX));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.05));
    NN_OK_OR_FAIL(nn_model_predict(m, ROWS, x_rows, IN, before, OUT));
    assert_int_equal(has_copy(m), nn__kernel_on());
    {
        static float fresh[ROWS * OUT];
        predict_fresh(m, ROWS, fresh);
        assert_memory_equal(before, fresh, sizeof fresh);
    }

    /* plain SGD: the update folded into the weights' products */
    NN_OK_OR_FAIL(nn_model_train_batch_labels(m, 32, x_rows, IN, labels,
                                              NULL));
    check_written(m, before, "a plain-SGD step");
    /* the general update, from the gradient buffer */
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.9));
    NN_OK_OR_FAIL(nn_model_train_batch_labels(m, 32, x_rows, IN, labels,
                                              NULL));
    check_written(m, before, "an SGD step with momentum");
    NN_OK_OR_FAIL(nn_model_set_optimizer(m, NN_OPT_ADAM));
    NN_OK_OR_FAIL(nn_model_train_batch_labels(m, 32, x_rows, IN, labels,
                                              NULL));
    check_written(m, before, "an Adam step");
    for (i = 0; i < ROWS * OUT; i++)
        g[i] = 1.0f / OUT;
    NN_OK_OR_FAIL(nn_model_compute_grads(m, ROWS, x_rows, IN, g, OUT, NULL));
    NN_OK_OR_FAIL(nn_model_apply_grads(m));
    check_written(m, before, "nn_model_apply_grads");

    NN_OK_OR_FAIL(nn_model_get_weights(m, 0, w, IN * 64));
    w[5] += 0.5f;
    w[IN * 64 - 1] -= 0.25f;
    NN_OK_OR_FAIL(nn_model_set_weights(m, 0, w, IN * 64));
    check_written(m, before, "nn_model_set_weights");
    NN_OK_OR_FAIL(nn_model_get_bias(m, 1, b, 50));
    b[3] += 1.0f;
    NN_OK_OR_FAIL(nn_model_set_bias(m, 1, b, 50));
    check_written(m, before, "nn_model_set_bias");
    NN_OK_OR_FAIL(nn_model_set_layer_param(m, 2, NN_LAYER_INIT,
                                           NN_INIT_HE_NORMAL));
    check_written(m, before, "a redrawn init");

    /* through the shared buffer: at once, and later through the same
     * pointer, unseen by the library */
    p = nn_model_params(m, &count);
    assert_non_null(p);
    p[7] += 0.75f;
    check_written(m, before, "a write through nn_model_params");
    assert_false(has_copy(m));
    p[IN * 64 + 3] -= 0.5f;
    check_written(m, before, "a later write through the same pointer");
    assert_false(has_copy(m));

    nn_model_free(m);
}

/* fit's callbacks may predict on the model being fitted (nn.h): the copy
 * they build must not outlive the restore of the best epoch. */
typedef struct fit_watch {
    const nn_model *m;
    float first[ROWS * OUT]; /* epoch 1's predictions */
    float last[ROWS * OUT];
    size_t epochs;
} fit_watch;

static int watch_epoch(void *user, size_t epoch, double train_loss,
                       double val_loss, double val_accuracy, double seconds)
{
    fit_watch *w = (fit_watch *)user;
    (void)train_loss;
    (void)val_loss;
    (void)val_accuracy;
    (void)seconds;
    if (nn_model_predict(w->m, ROWS, x_rows, IN, w->last, OUT) != NN_OK)
        return -1;
    if (epoch == 1)
        memcpy(w->first, w->last, sizeof w->last);
    w->epochs = epoch;
    return 0;
}

static void fit_restoring_its_best_epoch_reaches_predict(void **state)
{
    static fit_watch w;
    static float y[ROWS * OUT];
    int32_t labels[ROWS], wrong[ROWS];
    nn_data *train = NULL, *val = NULL;
    nn_model *m = make_net(11);
    size_t i;
    (void)state;
    make_rows();
    /* the validation set's labels disagree with the training set's: its
     * loss grows as training goes on, and epoch 1 stays the best */
    for (i = 0; i < ROWS; i++) {
        labels[i] = (int32_t)(i % OUT);
        wrong[i] = (int32_t)((i + 3) % OUT);
    }
    NN_OK_OR_FAIL(nn_data_create_labels(&train, ROWS, x_rows, IN, labels));
    NN_OK_OR_FAIL(nn_data_create_labels(&val, ROWS, x_rows, IN, wrong));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_EPOCHS, 4));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_PATIENCE, 10));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.2));
    w.m = m;
    NN_OK_OR_FAIL(nn_model_fit(m, train, val, watch_epoch, NULL, &w));
    assert_int_equal(w.epochs, 4);
    /* the last callback built a copy of epoch 4's weights */
    assert_int_equal(has_copy(m), 0); /* dropped by the restore */
    NN_OK_OR_FAIL(nn_model_predict(m, ROWS, x_rows, IN, y, OUT));
    assert_memory_equal(y, w.first, sizeof y);
    assert_true(memcmp(y, w.last, sizeof y) != 0);
    nn_data_free(train);
    nn_data_free(val);
    nn_model_free(m);
}

/* ---- threads ---- */

#define THREADS 8

typedef struct racer {
    const nn_model *m;
    const int *go;
    float y[ROWS * OUT];
    nn_status st;
} racer;

static void *race(void *arg)
{
    racer *r = (racer *)arg;
    while (!__atomic_load_n(r->go, __ATOMIC_ACQUIRE))
        ; /* every thread starts at once, before any copy exists */
    r->st = nn_model_predict(r->m, ROWS, x_rows, IN, r->y, OUT);
    return NULL;
}

static void threads_predicting_while_the_copy_is_built_agree(void **state)
{
    static float ref[ROWS * OUT];
    static racer racers[THREADS];
    static const size_t widths[] = {512, 256, OUT};
    static const nn_activation acts[] = {NN_ACT_RELU, NN_ACT_RELU,
                                         NN_ACT_SOFTMAX};
    nn_model *m = build_model(IN, 5, widths, acts, 3, NN_LOSS_CROSS_ENTROPY,
                              0.05);
    float b[OUT];
    int round;
    (void)state;
    make_rows();
    NN_OK_OR_FAIL(nn_model_predict(m, ROWS, x_rows, IN, ref, OUT));
    NN_OK_OR_FAIL(nn_model_get_bias(m, 2, b, OUT));
    for (round = 0; round < 6; round++) {
        pthread_t tid[THREADS];
        int go = 0, i;
        /* the same values: drops the copy, changes no prediction */
        NN_OK_OR_FAIL(nn_model_set_bias(m, 2, b, OUT));
        assert_false(has_copy(m));
        for (i = 0; i < THREADS; i++) {
            racers[i].m = m;
            racers[i].go = &go;
            racers[i].st = NN_E_STATE;
            assert_int_equal(
                pthread_create(&tid[i], NULL, race, &racers[i]), 0);
        }
        __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
        for (i = 0; i < THREADS; i++) {
            assert_int_equal(pthread_join(tid[i], NULL), 0);
            assert_int_equal(racers[i].st, NN_OK);
            assert_memory_equal(racers[i].y, ref, sizeof ref);
        }
        assert_int_equal(has_copy(m), nn__kernel_on());
    }
    nn_model_free(m);
}

/* ---- memory ---- */

static counter ctr;

static void a_copy_that_cannot_be_allocated_leaves_predict_right(
    void **state)
{
    static float y[ROWS * OUT], ref[ROWS * OUT];
    nn_model *m, *twin;
    long k;
    int done, fell_back = 0;
    (void)state;
    make_rows();
    memset(&ctr, 0, sizeof ctr);
    NN_OK_OR_FAIL(nn_set_allocator(count_malloc, count_free, &ctr));
    m = make_net(21);
    twin = make_net(21);
    NN_OK_OR_FAIL(nn_model_predict(twin, ROWS, x_rows, IN, ref, OUT));
    for (done = 0, k = 1; !done; k++) {
        nn_status st;
        long live = ctr.live;
        ctr.allocs = 0;
        ctr.fail_at = k;
        memset(y, 0, sizeof y);
        st = nn_model_predict(m, ROWS, x_rows, IN, y, OUT);
        ctr.fail_at = 0;
        done = ctr.allocs < k; /* nothing failed */
        if (st == NN_OK) {
            /* the copy's failure is not the call's: the weights were read
             * in place, to the same bits */
            assert_memory_equal(y, ref, sizeof y);
            if (!has_copy(m) && nn__kernel_on())
                fell_back = 1;
            /* the scratch stays with the model, and the copy if built */
            assert_int_equal(ctr.live, live + 1 + has_copy(m));
        } else {
            assert_int_equal(st, NN_E_NOMEM);
            assert_int_equal(ctr.live, live);
        }
        /* the next round starts without a copy or scratch */
        nn__pack_drop(m);
        nn__infer_cache_free(m);
    }
    assert_int_equal(fell_back, nn__kernel_on());
    /* a later call builds the copy */
    NN_OK_OR_FAIL(nn_model_predict(m, ROWS, x_rows, IN, y, OUT));
    assert_int_equal(has_copy(m), nn__kernel_on());
    assert_memory_equal(y, ref, sizeof y);
    /* and then allocates nothing */
    ctr.allocs = 0;
    NN_OK_OR_FAIL(nn_model_predict(m, ROWS, x_rows, IN, y, OUT));
    assert_int_equal(ctr.allocs, 0);
    nn_model_free(m);
    nn_model_free(twin);
    assert_int_equal(ctr.live, 0);
    NN_OK_OR_FAIL(nn_set_allocator(NULL, NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(predictions_agree_with_blas_and_the_training_pass),
        cmocka_unit_test(packed_and_in_place_give_the_same_bits),
        cmocka_unit_test(training_through_the_kernel_agrees_with_blas),
        cmocka_unit_test(every_write_to_the_parameters_reaches_predict),
        cmocka_unit_test(fit_restoring_its_best_epoch_reaches_predict),
        cmocka_unit_test(threads_predicting_while_the_copy_is_built_agree),
        cmocka_unit_test(a_copy_that_cannot_be_allocated_leaves_predict_right),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
