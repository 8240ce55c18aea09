/* SPDX-License-Identifier: MIT */
/* reference.c - the computations of the FFI tests, done through the C API.
 *
 * tests/ffi/python/test_libnn.py and tests/ffi/node/xor.test.js repeat them
 * through their bindings and require the same bits: every float and double
 * below is printed as its IEEE-754 bit pattern in hex, one "key value..."
 * line per quantity. The data come from a 32-bit LCG whose outputs are
 * exact in float, so a binding can regenerate them independently.
 *
 *   xor.*     SGD with Nesterov momentum, 300 nn_model_train_batch steps
 *   grads.*   nn_model_compute_grads, nn_model_get_layer_grads, apply
 *   clf.*     a 4-16-16-3 relu/leaky-relu/softmax classifier trained with
 *             nn_model_fit (Adam, weight decay, cosine schedule, warm-up,
 *             shuffling, validation), evaluated, predicted, saved as a
 *             checkpoint, loaded and trained one epoch more
 *   v2.*      the 0.2 API on the same data: scaling, GELU, batch norm,
 *             dropout, SiLU, layer norm, an ELU activation layer, logits;
 *             class weights, label smoothing, AdamW with AMSGrad,
 *             metadata; a fit interrupted by a callback's negative return
 *             and resumed; the batch norm's running statistics
 *   hub.*     Huber loss, softplus, centered RMSprop, clipping by value:
 *             nn_model_train_batch steps
 *
 * Exits non-zero, with libnn's message, if any call fails. */
#include "nn.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLF_ROWS 256
#define CLF_TRAIN 192
#define CLF_FEATURES 4
#define MAX_EPOCHS 16

static void check(nn_status s, const char *what)
{
    if (s != NN_OK) {
        fprintf(stderr, "%s: %s\n", what, nn_last_error());
        exit(1);
    }
}

static void print_floats(const char *key, const float *v, size_t n)
{
    size_t i;
    printf("%s", key);
    for (i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], sizeof bits);
        printf(" %08lx", (unsigned long)bits);
    }
    printf("\n");
}

static void print_doubles(const char *key, const double *v, size_t n)
{
    size_t i;
    printf("%s", key);
    for (i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &v[i], sizeof bits);
        printf(" %016llx", (unsigned long long)bits);
    }
    printf("\n");
}

static void print_params(const char *key, nn_model *m)
{
    size_t count = 0;
    const float *p = nn_model_params(m, &count);
    print_floats(key, p, count);
}

/* ---- xor ---- */
static const float xor_x[] = {0, 0, 0, 1, 1, 0, 1, 1};
static const float xor_t[] = {0, 1, 1, 0};

static void xor_run(void)
{
    nn_model *m;
    double losses[300];
    float y[4];
    int i;

    check(nn_model_create(&m, 2, 7), "create");
    check(nn_model_add_dense(m, 8, NN_ACT_TANH), "add_dense");
    check(nn_model_add_dense(m, 1, NN_ACT_SIGMOID), "add_dense");
    check(nn_model_set_loss(m, NN_LOSS_BCE), "set_loss");
    check(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.5), "lr");
    check(nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.9), "momentum");
    check(nn_model_set_param(m, NN_PARAM_NESTEROV, 1), "nesterov");
    for (i = 0; i < 300; i++)
        check(nn_model_train_batch(m, 4, xor_x, 2, xor_t, 1, &losses[i]),
              "train_batch");
    check(nn_model_predict(m, 4, xor_x, 2, y, 1), "predict");
    print_doubles("xor.losses", losses, 300);
    print_params("xor.params", m);
    print_floats("xor.pred", y, 4);
    nn_model_free(m);
}

/* ---- grads ---- */
static void grads_run(void)
{
    nn_model *m;
    double loss;
    float dw0[2 * 3], db0[3], dw1[3 * 1], db1[1];

    check(nn_model_create(&m, 2, 3), "create");
    check(nn_model_add_dense(m, 3, NN_ACT_SIGMOID), "add_dense");
    check(nn_model_add_dense(m, 1, NN_ACT_IDENTITY), "add_dense");
    check(nn_model_set_loss(m, NN_LOSS_MSE), "set_loss");
    check(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.25), "lr");
    check(nn_model_compute_grads(m, 4, xor_x, 2, xor_t, 1, &loss), "grads");
    check(nn_model_get_layer_grads(m, 0, dw0, 6, db0, 3), "layer_grads");
    check(nn_model_get_layer_grads(m, 1, dw1, 3, db1, 1), "layer_grads");
    check(nn_model_apply_grads(m), "apply_grads");
    print_doubles("grads.loss", &loss, 1);
    print_floats("grads.dw0", dw0, 6);
    print_floats("grads.db0", db0, 3);
    print_floats("grads.dw1", dw1, 3);
    print_floats("grads.db1", db1, 1);
    print_params("grads.params", m);
    nn_model_free(m);
}

/* ---- classifier ---- */
static uint32_t lcg_state = 12345u;

static uint32_t lcg_next(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state;
}

static float clf_x[CLF_ROWS * CLF_FEATURES];
static int32_t clf_labels[CLF_ROWS];

/* Features: the top 16 bits of an LCG output, over 65536, minus 0.5: exact
 * in float. Label from the integers of the first two features. */
static void clf_data(void)
{
    int i, j;
    for (i = 0; i < CLF_ROWS; i++) {
        uint32_t a[CLF_FEATURES];
        for (j = 0; j < CLF_FEATURES; j++) {
            a[j] = lcg_next() >> 16;
            clf_x[i * CLF_FEATURES + j] = (float)a[j] / 65536.0f - 0.5f;
        }
        clf_labels[i] = (a[0] > a[1]) + (a[0] + a[1] > 65536u);
    }
}

struct history {
    double epochs[MAX_EPOCHS * 3];
    size_t n_epochs;
    size_t n_batches;
};

static int on_epoch(void *user, size_t epoch, double train_loss,
                    double val_loss, double val_accuracy, double seconds)
{
    struct history *h = (struct history *)user;
    (void)seconds;
    if (epoch != h->n_epochs + 1 || h->n_epochs >= MAX_EPOCHS)
        return 1;
    h->epochs[3 * h->n_epochs + 0] = train_loss;
    h->epochs[3 * h->n_epochs + 1] = val_loss;
    h->epochs[3 * h->n_epochs + 2] = val_accuracy;
    h->n_epochs++;
    return 0;
}

static int on_batch(void *user, size_t epoch, size_t batch, size_t batches,
                    double loss)
{
    (void)epoch;
    (void)batch;
    (void)batches;
    (void)loss;
    ((struct history *)user)->n_batches++;
    return 0;
}

static void clf_run(void)
{
    nn_model *m, *resumed;
    nn_data *train, *val;
    struct history h;
    double eval[2], lr;
    float pred[(CLF_ROWS - CLF_TRAIN) * 3];
    unsigned char *file;
    size_t size, written, i;
    uint64_t steps;

    memset(&h, 0, sizeof h);
    clf_data();
    print_floats("clf.x", clf_x, CLF_ROWS * CLF_FEATURES);
    printf("clf.labels");
    for (i = 0; i < CLF_ROWS; i++)
        printf(" %ld", (long)clf_labels[i]);
    printf("\n");

    check(nn_model_create(&m, CLF_FEATURES, 42), "create");
    check(nn_model_add_dense(m, 16, NN_ACT_RELU), "add_dense");
    check(nn_model_add_dense(m, 16, NN_ACT_LEAKY_RELU), "add_dense");
    check(nn_model_set_layer_param(m, 1, NN_LAYER_LEAKY_SLOPE, 0.1), "slope");
    check(nn_model_add_dense(m, 3, NN_ACT_SOFTMAX), "add_dense");
    check(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY), "set_loss");
    check(nn_model_set_optimizer(m, NN_OPT_ADAM), "optimizer");
    check(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.01), "lr");
    check(nn_model_set_param(m, NN_PARAM_WEIGHT_DECAY, 1e-4), "wd");
    check(nn_model_set_schedule(m, NN_SCHED_COSINE), "schedule");
    check(nn_model_set_param(m, NN_PARAM_SCHED_T_MAX, 40), "t_max");
    check(nn_model_set_param(m, NN_PARAM_WARMUP_STEPS, 5), "warmup");
    check(nn_model_set_param(m, NN_PARAM_EPOCHS, 6), "epochs");
    check(nn_model_set_param(m, NN_PARAM_BATCH_SIZE, 32), "batch");
    check(nn_model_set_param(m, NN_PARAM_SHUFFLE, 1), "shuffle");

    check(nn_data_create_labels(&train, CLF_TRAIN, clf_x, CLF_FEATURES,
                                clf_labels), "data");
    check(nn_data_create_labels(&val, CLF_ROWS - CLF_TRAIN,
                                clf_x + CLF_TRAIN * CLF_FEATURES, CLF_FEATURES,
                                clf_labels + CLF_TRAIN), "data");
    check(nn_model_fit(m, train, val, on_epoch, on_batch, &h), "fit");
    check(nn_model_evaluate(m, train, &eval[0], &eval[1]), "evaluate");
    check(nn_model_predict(m, CLF_ROWS - CLF_TRAIN,
                           clf_x + CLF_TRAIN * CLF_FEATURES, CLF_FEATURES,
                           pred, 3), "predict");
    steps = nn_model_step_count(m);
    check(nn_model_current_lr(m, &lr), "current_lr");

    print_doubles("clf.epochs", h.epochs, 3 * h.n_epochs);
    printf("clf.batches %lu\n", (unsigned long)h.n_batches);
    printf("clf.steps %llu\n", (unsigned long long)steps);
    print_doubles("clf.lr", &lr, 1);
    print_doubles("clf.eval", eval, 2);
    print_floats("clf.pred", pred, (CLF_ROWS - CLF_TRAIN) * 3);
    print_params("clf.params", m);

    check(nn_model_save_size(m, NN_SAVE_CHECKPOINT, &size), "save_size");
    file = (unsigned char *)malloc(size);
    if (!file)
        exit(1);
    check(nn_model_save_buffer(m, NN_SAVE_CHECKPOINT, file, size, &written),
          "save_buffer");
    printf("clf.checkpoint");
    for (i = 0; i < written; i++)
        printf("%s%02x", i ? "" : " ", file[i]);
    printf("\n");

    check(nn_model_load_buffer(&resumed, file, written), "load_buffer");
    check(nn_model_set_param(resumed, NN_PARAM_EPOCHS, 1), "epochs");
    check(nn_model_fit(resumed, train, NULL, NULL, NULL, NULL), "fit");
    print_params("clf.resumed", resumed);

    free(file);
    nn_model_free(resumed);
    nn_data_free(val);
    nn_data_free(train);
    nn_model_free(m);
}

/* ---- the 0.2 API ---- */
static size_t v2_interrupt_at; /* steps taken when the callback interrupted */

static int v2_on_batch(void *user, size_t epoch, size_t batch,
                       size_t batches, double loss)
{
    nn_model *m = (nn_model *)user;
    (void)batches;
    (void)loss;
    if (epoch == 2 && batch == 3 && v2_interrupt_at == 0) {
        v2_interrupt_at = (size_t)nn_model_step_count(m);
        return -1;
    }
    return 0;
}

static void v2_run(void)
{
    static const float scale[CLF_FEATURES] = {2, 2, 1, 0.5f};
    static const float shift[CLF_FEATURES] = {0, 0.25f, 0, -0.25f};
    static const float class_w[3] = {1, 2, 0.5f};
    nn_model *m;
    nn_data *train;
    double eval[2];
    float pred[(CLF_ROWS - CLF_TRAIN) * 3], bn[2 * 8];
    unsigned char *file;
    size_t size, written, i;

    check(nn_model_create(&m, CLF_FEATURES, 5), "create");
    check(nn_model_add_scaling(m, scale, shift, CLF_FEATURES), "scaling");
    check(nn_model_add_dense(m, 8, NN_ACT_GELU), "dense");
    check(nn_model_add_batchnorm(m), "batchnorm");
    check(nn_model_add_dropout(m, 0.25), "dropout");
    check(nn_model_add_dense(m, 6, NN_ACT_SILU), "dense");
    check(nn_model_add_layernorm(m), "layernorm");
    check(nn_model_add_activation(m, NN_ACT_ELU), "activation");
    check(nn_model_set_layer_param(m, 6, NN_LAYER_ELU_ALPHA, 0.5), "alpha");
    check(nn_model_add_dense(m, 3, NN_ACT_IDENTITY), "dense");
    check(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY), "loss");
    check(nn_model_set_class_weights(m, class_w, 3), "class weights");
    check(nn_model_set_param(m, NN_PARAM_LABEL_SMOOTHING, 0.1), "smoothing");
    check(nn_model_set_optimizer(m, NN_OPT_ADAMW), "optimizer");
    check(nn_model_set_param(m, NN_PARAM_AMSGRAD, 1), "amsgrad");
    check(nn_model_set_param(m, NN_PARAM_WEIGHT_DECAY, 0.01), "wd");
    check(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.01), "lr");
    check(nn_model_set_param(m, NN_PARAM_EPOCHS, 3), "epochs");
    check(nn_model_set_param(m, NN_PARAM_BATCH_SIZE, 32), "batch");
    check(nn_model_set_meta(m, "classes", "low,mid,high"), "meta");

    check(nn_data_create_labels(&train, CLF_TRAIN, clf_x, CLF_FEATURES,
                                clf_labels), "data");
    check(nn_model_fit(m, train, NULL, NULL, v2_on_batch, m), "fit");
    printf("v2.interrupted %lu\n", (unsigned long)v2_interrupt_at);
    check(nn_model_fit_resume(m, train, NULL, NULL, v2_on_batch, m),
          "fit_resume");
    printf("v2.steps %llu\n", (unsigned long long)nn_model_step_count(m));
    print_params("v2.params", m);
    check(nn_model_get_layer_buffers(m, 2, bn, 16), "buffers");
    print_floats("v2.bn", bn, 16);
    check(nn_model_evaluate(m, train, &eval[0], &eval[1]), "evaluate");
    print_doubles("v2.eval", eval, 2);
    check(nn_model_predict(m, CLF_ROWS - CLF_TRAIN,
                           clf_x + CLF_TRAIN * CLF_FEATURES, CLF_FEATURES,
                           pred, 3), "predict");
    print_floats("v2.pred", pred, (CLF_ROWS - CLF_TRAIN) * 3);

    check(nn_model_save_size(m, NN_SAVE_CHECKPOINT, &size), "save_size");
    file = (unsigned char *)malloc(size);
    if (!file)
        exit(1);
    check(nn_model_save_buffer(m, NN_SAVE_CHECKPOINT, file, size, &written),
          "save_buffer");
    printf("v2.checkpoint");
    for (i = 0; i < written; i++)
        printf("%s%02x", i ? "" : " ", file[i]);
    printf("\n");
    free(file);
    nn_data_free(train);
    nn_model_free(m);
}

static void huber_run(void)
{
    nn_model *m;
    double losses[50];
    float t[32 * 2];
    int i;

    for (i = 0; i < 32; i++) {
        t[2 * i] = 2 * clf_x[i * CLF_FEATURES];
        t[2 * i + 1] = clf_x[i * CLF_FEATURES + 1] - clf_x[i * CLF_FEATURES + 2];
    }
    check(nn_model_create(&m, CLF_FEATURES, 8), "create");
    check(nn_model_add_dense(m, 8, NN_ACT_SOFTPLUS), "dense");
    check(nn_model_add_dense(m, 2, NN_ACT_IDENTITY), "dense");
    check(nn_model_set_loss(m, NN_LOSS_HUBER), "loss");
    check(nn_model_set_param(m, NN_PARAM_HUBER_DELTA, 0.5), "delta");
    check(nn_model_set_optimizer(m, NN_OPT_RMSPROP), "optimizer");
    check(nn_model_set_param(m, NN_PARAM_CENTERED, 1), "centered");
    check(nn_model_set_param(m, NN_PARAM_CLIP_VALUE, 0.1), "clip");
    check(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.005), "lr");
    for (i = 0; i < 50; i++)
        check(nn_model_train_batch(m, 32, clf_x, CLF_FEATURES, t, 2,
                                   &losses[i]), "train_batch");
    print_doubles("hub.losses", losses, 50);
    print_params("hub.params", m);
    nn_model_free(m);
}

int main(void)
{
    /* The same thread count in every process that compares with this one. */
    check(nn_set_blas_threads(1), "blas_threads");
    xor_run();
    grads_run();
    clf_run();
    v2_run();
    huber_run();
    return 0;
}
