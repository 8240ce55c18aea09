/* SPDX-License-Identifier: MIT */
/*
 * make_corpus.c - writes the seed corpus of the loader's fuzzer: small
 * valid model files and checkpoints of different shapes, activations,
 * losses, optimizers and schedules, and of every kind of layer with every
 * section of the format. Usage: fuzz_make_corpus DIR. The files in
 * tests/fuzz/corpus/seed-* were made by it (seed-v1-* are version-1 files
 * of libnn 0.1, the same as tests/data/v1); regress-* files there are
 * inputs that once crashed, kept as regression cases.
 */
#include <stdio.h>
#include <string.h>

#include "nn.h"

static int failed(const char *what)
{
    fprintf(stderr, "make_corpus: %s: %s\n", what, nn_last_error());
    return 1;
}

/* Trains a few steps on fixed data, so checkpoints carry state. */
static nn_status train(nn_model *m, int steps)
{
    float x[4 * 64], t[4 * 64];
    size_t in = nn_model_input_width(m), out = nn_model_output_width(m), i;
    nn_status st = NN_OK;
    for (i = 0; i < 4 * in; i++)
        x[i] = (float)((i * 7) % 5) / 5.0f - 0.4f;
    for (i = 0; i < 4 * out; i++)
        t[i] = (i % out) == (i / out) % out ? 1.0f : 0.0f;
    while (steps-- > 0 && st == NN_OK)
        st = nn_model_train_batch(m, 4, x, in, t, out, NULL);
    return st;
}

typedef struct seed {
    const char *name;
    size_t input;
    size_t widths[4];
    nn_activation acts[4];
    nn_loss loss;              /* 0: none */
    nn_optimizer opt;
    nn_schedule sched;
    int steps;                 /* training steps before saving */
    nn_save_what what;
} seed;

static const seed seeds[] = {
    {"seed-empty-model", 3, {0}, {0}, 0, NN_OPT_SGD, NN_SCHED_CONSTANT, 0,
     NN_SAVE_MODEL},
    {"seed-empty-checkpoint", 1, {0}, {0}, 0, NN_OPT_ADAM, NN_SCHED_STEP, 0,
     NN_SAVE_CHECKPOINT},
    {"seed-no-loss", 2, {2}, {NN_ACT_RELU}, 0, NN_OPT_SGD,
     NN_SCHED_CONSTANT, 0, NN_SAVE_MODEL},
    {"seed-xor-bce", 2, {3, 1}, {NN_ACT_TANH, NN_ACT_SIGMOID}, NN_LOSS_BCE,
     NN_OPT_SGD, NN_SCHED_CONSTANT, 3, NN_SAVE_MODEL},
    {"seed-xor-bce-sgd-checkpoint", 2, {3, 1},
     {NN_ACT_TANH, NN_ACT_SIGMOID}, NN_LOSS_BCE, NN_OPT_SGD,
     NN_SCHED_COSINE, 3, NN_SAVE_CHECKPOINT},
    {"seed-mse-identity", 4, {5, 2}, {NN_ACT_LEAKY_RELU, NN_ACT_IDENTITY},
     NN_LOSS_MSE, NN_OPT_RMSPROP, NN_SCHED_EXPONENTIAL, 2, NN_SAVE_MODEL},
    {"seed-mse-rmsprop-checkpoint", 4, {5, 2},
     {NN_ACT_LEAKY_RELU, NN_ACT_IDENTITY}, NN_LOSS_MSE, NN_OPT_RMSPROP,
     NN_SCHED_EXPONENTIAL, 2, NN_SAVE_CHECKPOINT},
    {"seed-softmax-ce", 3, {4, 4, 3},
     {NN_ACT_RELU, NN_ACT_SIGMOID, NN_ACT_SOFTMAX}, NN_LOSS_CROSS_ENTROPY,
     NN_OPT_ADAM, NN_SCHED_COSINE, 0, NN_SAVE_MODEL},
    {"seed-softmax-ce-adam-checkpoint", 3, {4, 4, 3},
     {NN_ACT_RELU, NN_ACT_SIGMOID, NN_ACT_SOFTMAX}, NN_LOSS_CROSS_ENTROPY,
     NN_OPT_ADAM, NN_SCHED_COSINE, 2, NN_SAVE_CHECKPOINT},
    {"seed-deep-adamw-checkpoint", 2, {3, 3, 3, 2},
     {NN_ACT_TANH, NN_ACT_LEAKY_RELU, NN_ACT_RELU, NN_ACT_IDENTITY},
     NN_LOSS_CROSS_ENTROPY, NN_OPT_ADAMW, NN_SCHED_STEP, 1,
     NN_SAVE_CHECKPOINT},
    {"seed-unstepped-checkpoint", 1, {1}, {NN_ACT_SIGMOID}, NN_LOSS_BCE,
     NN_OPT_SGD, NN_SCHED_CONSTANT, 0, NN_SAVE_CHECKPOINT},
};

/* The seeds of every layer kind, class weights, metadata, the third
 * optimizer state array and an interrupted fit run. */
static int stop_at_fifth(void *user, size_t epoch, size_t batch,
                         size_t batches, double loss)
{
    (void)epoch;
    (void)batch;
    (void)batches;
    (void)loss;
    return ++*(int *)user == 5 ? -1 : 0;
}

static nn_status kinds_seed(const char *dir, const char *name, int variant)
{
    const float sc[3] = {0.5f, 2.0f, -1.0f}, sh[3] = {0.0f, 1.0f, 0.25f};
    const float cw[2] = {1.0f, 3.0f};
    nn_model *m = NULL;
    nn_data *d = NULL;
    char path[4096];
    float x[12 * 3];
    int32_t y[12];
    int calls = 0, i;
    nn_status st;
    for (i = 0; i < 36; i++)
        x[i] = (float)((i * 7) % 5) / 5.0f - 0.4f;
    for (i = 0; i < 12; i++)
        y[i] = i % 2;
#define NN__TRY(call) do { st = (call); if (st != NN_OK) goto out; } while (0)
    NN__TRY(nn_model_create(&m, 3, 2000 + (uint64_t)variant));
    NN__TRY(nn_model_add_scaling(m, sc, sh, 3));
    NN__TRY(nn_model_add_dense(m, 4, NN_ACT_GELU));
    NN__TRY(nn_model_add_batchnorm(m));
    NN__TRY(nn_model_add_dropout(m, 0.25));
    NN__TRY(nn_model_add_layernorm(m));
    NN__TRY(nn_model_add_activation(m, variant ? NN_ACT_ELU : NN_ACT_SILU));
    NN__TRY(nn_model_add_dense(m, 2, variant ? NN_ACT_SOFTMAX
                                             : NN_ACT_IDENTITY));
    NN__TRY(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY));
    NN__TRY(nn_model_set_class_weights(m, cw, 2));
    NN__TRY(nn_model_set_meta(m, "classes", "no\nyes"));
    NN__TRY(nn_model_set_optimizer(m, variant ? NN_OPT_RMSPROP
                                              : NN_OPT_ADAMW));
    NN__TRY(nn_model_set_param(m, variant ? NN_PARAM_CENTERED
                                          : NN_PARAM_AMSGRAD, 1));
    NN__TRY(nn_model_set_param(m, NN_PARAM_BATCH_SIZE, 4));
    NN__TRY(nn_model_set_param(m, NN_PARAM_PATIENCE, variant ? 2 : 0));
    NN__TRY(nn_model_set_param(m, NN_PARAM_EPOCHS, 3));
    NN__TRY(nn_data_create_labels(&d, 12, x, 3, y));
    /* stopped at its fifth step: an interrupted run in the checkpoint */
    NN__TRY(nn_model_fit(m, d, variant ? d : NULL, NULL, stop_at_fifth,
                         &calls));
    snprintf(path, sizeof path, "%s/%s", dir, name);
    NN__TRY(nn_model_save(m, path, variant == 2 ? NN_SAVE_MODEL
                                                : NN_SAVE_CHECKPOINT));
#undef NN__TRY
out:
    nn_data_free(d);
    nn_model_free(m);
    return st;
}

int main(int argc, char **argv)
{
    size_t s;
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    if (kinds_seed(argv[1], "seed-kinds-adamw-checkpoint", 0) != NN_OK ||
        kinds_seed(argv[1], "seed-kinds-rmsprop-run-checkpoint", 1) !=
            NN_OK ||
        kinds_seed(argv[1], "seed-kinds-model", 2) != NN_OK)
        return failed("seed-kinds");
    for (s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        const seed *d = &seeds[s];
        nn_model *m = NULL;
        char path[4096];
        size_t l;
        if (nn_model_create(&m, d->input, 1000 + s) != NN_OK)
            return failed(d->name);
        for (l = 0; l < 4 && d->widths[l]; l++)
            if (nn_model_add_dense(m, d->widths[l], d->acts[l]) != NN_OK)
                return failed(d->name);
        if (l > 0 && nn_model_set_layer_param(m, 0, NN_LAYER_LEAKY_SLOPE,
                                              0.125) != NN_OK)
            return failed(d->name);
        if ((d->loss && nn_model_set_loss(m, d->loss) != NN_OK) ||
            nn_model_set_optimizer(m, d->opt) != NN_OK ||
            nn_model_set_schedule(m, d->sched) != NN_OK ||
            nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.5) != NN_OK ||
            nn_model_set_param(m, NN_PARAM_WARMUP_STEPS, 2) != NN_OK ||
            (d->steps && train(m, d->steps) != NN_OK))
            return failed(d->name);
        snprintf(path, sizeof path, "%s/%s", argv[1], d->name);
        if (nn_model_save(m, path, d->what) != NN_OK)
            return failed(d->name);
        nn_model_free(m);
    }
    return 0;
}
