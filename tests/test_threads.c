/* SPDX-License-Identifier: MIT */
/*
 * test_threads.c - the thread contract of nn.h: predict and evaluate on one
 * const model from many threads at once give results bit-identical to a
 * single-threaded run, and separate models train in separate threads
 * exactly as they do alone. The model has a layer of every kind. Run
 * under ThreadSanitizer by the test command.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

#define THREADS 8
#define ROWS 300 /* more than one predict slice */
#define IN 12
#define OUT 5

static float x_data[ROWS * IN];
static int32_t labels[ROWS];

static void make_data(void)
{
    uint64_t s = 99;
    size_t i;
    for (i = 0; i < ROWS * IN; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x_data[i] = (float)((s >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
    }
    for (i = 0; i < ROWS; i++)
        labels[i] = (int32_t)(i % OUT);
}

/* Every kind of layer: the inference passes of each run from many
 * threads at once on one const model. */
static nn_model *make_model(uint64_t seed)
{
    nn_model *m = NULL;
    float scale[IN], shift[IN];
    size_t i;
    for (i = 0; i < IN; i++) {
        scale[i] = 1.0f + 0.1f * (float)i;
        shift[i] = 0.05f * (float)i;
    }
    assert_int_equal(nn_model_create(&m, IN, seed), NN_OK);
    assert_int_equal(nn_model_add_scaling(m, scale, shift, IN), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 32, NN_ACT_TANH), NN_OK);
    assert_int_equal(nn_model_add_batchnorm(m), NN_OK);
    assert_int_equal(nn_model_add_dropout(m, 0.2), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 16, NN_ACT_GELU), NN_OK);
    assert_int_equal(nn_model_add_layernorm(m), NN_OK);
    assert_int_equal(nn_model_add_activation(m, NN_ACT_SILU), NN_OK);
    assert_int_equal(nn_model_add_dense(m, OUT, NN_ACT_SOFTMAX), NN_OK);
    assert_int_equal(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY), NN_OK);
    return m;
}

typedef struct job {
    const nn_model *model;
    const nn_data *data;
    float y[ROWS * OUT];
    double loss, accuracy;
    int rounds;
    nn_status status;
} job;

static void *predict_job(void *arg)
{
    job *j = (job *)arg;
    int r;
    j->status = NN_OK;
    for (r = 0; r < j->rounds && j->status == NN_OK; r++) {
        j->status = nn_model_predict(j->model, ROWS, x_data, IN, j->y, OUT);
        if (j->status == NN_OK)
            j->status = nn_model_evaluate(j->model, j->data, &j->loss,
                                          &j->accuracy);
    }
    return NULL;
}

static void predict_from_eight_threads_matches_one_thread(void **state)
{
    nn_model *m = make_model(5);
    nn_data *d = NULL;
    job ref, *jobs = calloc(THREADS, sizeof *jobs);
    pthread_t tid[THREADS];
    int i;
    (void)state;
    assert_non_null(jobs);
    assert_int_equal(nn_data_create_labels(&d, ROWS, x_data, IN, labels),
                     NN_OK);
    /* a trained model, so outputs are not near-uniform */
    assert_int_equal(nn_model_set_param(m, NN_PARAM_EPOCHS, 3), NN_OK);
    assert_int_equal(nn_model_fit(m, d, NULL, NULL, NULL, NULL), NN_OK);

    memset(&ref, 0, sizeof ref);
    ref.model = m;
    ref.data = d;
    ref.rounds = 1;
    predict_job(&ref);
    assert_int_equal(ref.status, NN_OK);

    for (i = 0; i < THREADS; i++) {
        jobs[i].model = m;
        jobs[i].data = d;
        jobs[i].rounds = 20;
        assert_int_equal(pthread_create(&tid[i], NULL, predict_job, &jobs[i]),
                         0);
    }
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        assert_int_equal(jobs[i].status, NN_OK);
        assert_memory_equal(jobs[i].y, ref.y, sizeof ref.y);
        assert_memory_equal(&jobs[i].loss, &ref.loss, sizeof ref.loss);
        assert_memory_equal(&jobs[i].accuracy, &ref.accuracy,
                            sizeof ref.accuracy);
    }
    free(jobs);
    nn_data_free(d);
    nn_model_free(m);
}

typedef struct train_job {
    nn_model *model;
    nn_status status;
} train_job;

static void *train_job_run(void *arg)
{
    train_job *j = (train_job *)arg;
    int step;
    double loss;
    j->status = NN_OK;
    for (step = 0; step < 50 && j->status == NN_OK; step++)
        j->status = nn_model_train_batch_labels(j->model, ROWS, x_data, IN,
                                                labels, &loss);
    return NULL;
}

static void separate_models_train_in_separate_threads_as_they_do_alone(
    void **state)
{
    nn_model *alone = make_model(11);
    train_job jobs[4], ref;
    pthread_t tid[4];
    size_t count;
    int i;
    (void)state;
    ref.model = alone;
    train_job_run(&ref);
    assert_int_equal(ref.status, NN_OK);
    (void)nn_model_params(alone, &count);

    for (i = 0; i < 4; i++) {
        jobs[i].model = make_model(11);
        assert_int_equal(
            pthread_create(&tid[i], NULL, train_job_run, &jobs[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        assert_int_equal(jobs[i].status, NN_OK);
        assert_memory_equal(nn_model_params(jobs[i].model, NULL),
                            nn_model_params(alone, NULL),
                            count * sizeof(float));
        nn_model_free(jobs[i].model);
    }
    nn_model_free(alone);
}

static void *fail_job(void *arg)
{
    char *msg = (char *)arg;
    nn_model *m = NULL;
    /* each thread gets its own message */
    if (nn_model_create(&m, 0, 1) == NN_E_INVALID)
        strncpy(msg, nn_last_error(), 255);
    return NULL;
}

static void error_messages_are_kept_per_thread(void **state)
{
    char msg[256] = "";
    pthread_t tid;
    nn_model *m = NULL;
    (void)state;
    assert_int_equal(nn_model_create(&m, 3, 1), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 0, NN_ACT_TANH), NN_E_INVALID);
    assert_int_equal(pthread_create(&tid, NULL, fail_job, msg), 0);
    assert_int_equal(pthread_join(tid, NULL), 0);
    assert_non_null(strstr(msg, "nn_model_create"));
    /* the other thread's failure did not overwrite this thread's message */
    assert_non_null(strstr(nn_last_error(), "nn_model_add_dense"));
    nn_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(predict_from_eight_threads_matches_one_thread),
        cmocka_unit_test(
            separate_models_train_in_separate_threads_as_they_do_alone),
        cmocka_unit_test(error_messages_are_kept_per_thread),
    };
    make_data();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
