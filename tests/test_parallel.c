/* SPDX-License-Identifier: MIT */
/*
 * test_parallel.c - a batch split into parts that the processes of a
 * data-parallel step hold (nn_model_set_batch_part, nn_model_set_reducer,
 * nn_model_set_grads_ready), here P threads, each with its own copy of one
 * model, and a reducer built on a barrier that sums every part's values in
 * rank order (so every part gets the same bits, as an MPI all-reduce whose
 * result the ranks share).
 *
 * Against the whole batch in one model: the parts' gradient buffers sum to
 * the whole's gradient and each part reports the whole's loss (to the
 * order of the sums: relative 1e-5, as float rounding differs); the step
 * applied with the summed gradient is the same in every part and agrees
 * with the whole's; batch normalization's running statistics too. For P of
 * 1, 2, 3 and 4, parts of uneven sizes and a part without rows, on a model
 * with every kind of layer, class weights and label smoothing. Also: the
 * finished-gradients callback, a reducer that fails on one part (both
 * refuse the pass, neither waits), a part whose gradient is not finite
 * (both refuse), and the calls a part refuses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "nn_test.h"

enum { MAX_P = 4, IN = 6, OUT = 3, MAX_G = 24 };

/* ---- a reducer for threads ---- */
typedef struct group {
    int parts;
    pthread_barrier_t barrier;
    double slot[MAX_P][64];
    int fail_rank; /* this rank's reducer fails (-1: none) */
    long calls[MAX_P];
} group;

typedef struct member {
    group *g;
    int rank;
} member;

static int thread_reduce(void *user, double *values, size_t count)
{
    member *me = (member *)user;
    group *g = me->g;
    size_t i;
    int r;
    if (count > 64)
        return 99;
    g->calls[me->rank]++;
    memcpy(g->slot[me->rank], values, count * sizeof(double));
    pthread_barrier_wait(&g->barrier);
    for (i = 0; i < count; i++) { /* rank order: the same sums for all */
        double s = 0.0;
        for (r = 0; r < g->parts; r++)
            s += g->slot[r][i];
        values[i] = s;
    }
    pthread_barrier_wait(&g->barrier);
    return me->rank == g->fail_rank ? 7 : 0;
}

/* ---- the model ---- */
static nn_model *model(int with_bn)
{
    const float sc[IN] = {1.0f, 0.5f, 2.0f, 1.0f, 1.5f, 0.75f};
    const float sh[IN] = {0.0f, 0.1f, -0.2f, 0.3f, 0.0f, -0.1f};
    const float cw[OUT] = {1.0f, 2.5f, 0.5f};
    nn_model *m = NULL;
    NN_OK_OR_FAIL(nn_model_create(&m, IN, 123));
    NN_OK_OR_FAIL(nn_model_add_scaling(m, sc, sh, IN));
    NN_OK_OR_FAIL(nn_model_add_dense(m, 10, NN_ACT_IDENTITY));
    if (with_bn)
        NN_OK_OR_FAIL(nn_model_add_batchnorm(m));
    NN_OK_OR_FAIL(nn_model_add_activation(m, NN_ACT_GELU));
    NN_OK_OR_FAIL(nn_model_add_dropout(m, 0.3));
    NN_OK_OR_FAIL(nn_model_add_dense(m, 8, NN_ACT_SILU));
    NN_OK_OR_FAIL(nn_model_add_layernorm(m));
    NN_OK_OR_FAIL(nn_model_add_dense(m, OUT, NN_ACT_SOFTMAX));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY));
    NN_OK_OR_FAIL(nn_model_set_class_weights(m, cw, OUT));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LABEL_SMOOTHING, 0.1));
    /* SGD with momentum: Adam would turn the rounding noise of a gradient
     * that is 0 in exact arithmetic (the bias before batch
     * normalization's) into a step of lr, which no tolerance covers */
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.9));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.1));
    return m;
}

typedef struct data {
    float x[MAX_G * IN];
    int32_t y[MAX_G];
} data;

static void make_data(data *d, uint64_t seed)
{
    test_rng g = {seed};
    size_t i;
    for (i = 0; i < MAX_G * IN; i++)
        d->x[i] = (float)(rng_unit(&g) * 4.0 - 2.0);
    for (i = 0; i < MAX_G; i++)
        d->y[i] = (int32_t)(rng_next(&g) % OUT);
}

/* ---- one part's work ---- */
typedef struct part {
    member me;
    nn_model *m;
    const data *d;
    size_t first, n, rows;
    double loss;
    nn_status st;
    /* grads_ready calls: layer, offset, count */
    size_t ready[16][3];
    size_t n_ready;
} part;

static void on_ready(void *user, size_t layer, size_t offset, size_t count)
{
    part *p = (part *)user;
    if (p->n_ready < 16) {
        p->ready[p->n_ready][0] = layer;
        p->ready[p->n_ready][1] = offset;
        p->ready[p->n_ready][2] = count;
    }
    p->n_ready++;
}

static void *compute(void *arg)
{
    part *p = (part *)arg;
    p->st = nn_model_set_batch_part(p->m, p->first, p->rows);
    if (p->st == NN_OK)
        p->st = nn_model_compute_grads_labels(p->m, p->n,
                                              p->d->x + p->first * IN, IN,
                                              p->d->y + p->first, &p->loss);
    return NULL;
}

/* Runs the parts of one step of a batch of rows rows in P threads. */
static void run_parts(part *pt, group *g, int parts, size_t rows)
{
    pthread_t tid[MAX_P];
    int r;
    g->parts = parts;
    assert_int_equal(pthread_barrier_init(&g->barrier, NULL,
                                          (unsigned)parts), 0);
    for (r = 0; r < parts; r++)
        assert_int_equal(pthread_create(&tid[r], NULL, compute, &pt[r]), 0);
    for (r = 0; r < parts; r++)
        assert_int_equal(pthread_join(tid[r], NULL), 0);
    pthread_barrier_destroy(&g->barrier);
    (void)rows;
}

static void assert_close(const char *what, double got, double want,
                         double rel, double abs_floor)
{
    if (!(fabs(got - want) <= rel * fabs(want) + abs_floor))
        fail_msg("%s: %.9g, the whole batch gives %.9g", what, got, want);
}

/* P parts of a batch of `rows` rows (sizes from `sizes`), three steps:
 * each step's summed gradient, loss, parameters and running statistics
 * against one model trained on the whole batches. */
static void check_split(int parts, const size_t *sizes, size_t rows,
                        int with_bn)
{
    nn_model *whole = model(with_bn);
    part pt[MAX_P];
    group g;
    data d;
    size_t count, i, first;
    int r, step;
    memset(&g, 0, sizeof g);
    g.fail_rank = -1;
    memset(pt, 0, sizeof pt);
    for (r = 0, first = 0; r < parts; r++) {
        pt[r].me.g = &g;
        pt[r].me.rank = r;
        pt[r].m = model(with_bn);
        pt[r].d = &d;
        pt[r].first = first;
        pt[r].n = sizes[r];
        pt[r].rows = rows;
        first += sizes[r];
        NN_OK_OR_FAIL(nn_model_set_reducer(pt[r].m, thread_reduce,
                                           &pt[r].me));
        NN_OK_OR_FAIL(nn_model_set_grads_ready(pt[r].m, on_ready, &pt[r]));
    }
    assert_int_equal(first, rows);
    (void)nn_model_grads(whole, &count);
    for (step = 0; step < 3; step++) {
        double whole_loss;
        const float *gw;
        make_data(&d, 40 + (uint64_t)step);
        NN_OK_OR_FAIL(nn_model_compute_grads_labels(whole, rows, d.x, IN,
                                                    d.y, &whole_loss));
        for (r = 0; r < parts; r++)
            pt[r].n_ready = 0;
        run_parts(pt, &g, parts, rows);
        gw = nn_model_grads(whole, NULL);
        /* the sum of the parts' buffers is the whole's gradient */
        for (i = 0; i < count; i++) {
            double sum = 0.0;
            for (r = 0; r < parts; r++)
                sum += (double)nn_model_grads(pt[r].m, NULL)[i];
            assert_close("summed gradient", sum, gw[i], 1e-5, 1e-7);
        }
        for (r = 0; r < parts; r++) {
            NN_OK_OR_FAIL(pt[r].st);
            assert_close("a part's loss", pt[r].loss, whole_loss, 1e-6,
                         0.0);
            /* every part holds the same (reduced) loss */
            assert_memory_equal(&pt[r].loss, &pt[0].loss, sizeof(double));
            /* the layers with parameters, last to first, whole buffer */
            {
                size_t k, covered = 0, prev_layer = SIZE_MAX;
                assert_true(pt[r].n_ready >= 4);
                for (k = 0; k < pt[r].n_ready; k++) {
                    assert_true(pt[r].ready[k][0] < prev_layer);
                    prev_layer = pt[r].ready[k][0];
                    covered += pt[r].ready[k][2];
                }
                assert_int_equal(covered, count);
            }
        }
        /* the all-reduce of the gradients, then the same step everywhere */
        {
            float *sum = (float *)calloc(count, sizeof(float));
            assert_non_null(sum);
            for (r = 0; r < parts; r++)
                for (i = 0; i < count; i++)
                    sum[i] += nn_model_grads(pt[r].m, NULL)[i];
            for (r = 0; r < parts; r++) {
                memcpy(nn_model_grads(pt[r].m, NULL), sum,
                       count * sizeof(float));
                NN_OK_OR_FAIL(nn_model_apply_grads(pt[r].m));
            }
            free(sum);
        }
        NN_OK_OR_FAIL(nn_model_apply_grads(whole));
        {
            size_t np;
            const float *pw = nn_model_params(whole, &np);
            for (r = 0; r < parts; r++) {
                const float *pr = nn_model_params(pt[r].m, NULL);
                assert_memory_equal(pr, nn_model_params(pt[0].m, NULL),
                                    np * sizeof(float));
                for (i = 0; i < np; i++)
                    assert_close("a parameter", pr[i], pw[i], 1e-5, 1e-6);
            }
        }
        if (with_bn) {
            float bw[20], bp[20];
            NN_OK_OR_FAIL(nn_model_get_layer_buffers(whole, 2, bw, 20));
            for (r = 0; r < parts; r++) {
                NN_OK_OR_FAIL(nn_model_get_layer_buffers(pt[r].m, 2, bp, 20));
                for (i = 0; i < 20; i++)
                    assert_close("a running statistic", bp[i], bw[i], 1e-5,
                                 1e-7);
            }
        }
    }
    printf("  %d part%s of %zu rows%s: reducer called %ld times per part "
           "per 3 steps\n", parts, parts > 1 ? "s" : "", rows,
           with_bn ? ", batchnorm" : "", g.calls[0]);
    for (r = 0; r < parts; r++)
        nn_model_free(pt[r].m);
    nn_model_free(whole);
}

static void parts_of_a_batch_sum_to_the_whole_batch(void **state)
{
    static const size_t one[1] = {12}, two[2] = {7, 5}, three[3] = {4, 4, 4};
    static const size_t four[4] = {6, 1, 3, 2}, empty[4] = {2, 0, 1, 2};
    (void)state;
    check_split(1, one, 12, 1);
    check_split(2, two, 12, 1);
    check_split(3, three, 12, 1);
    check_split(4, four, 12, 1);
    check_split(4, empty, 5, 1);  /* a part without rows takes part */
    check_split(3, three, 12, 0);
}

/* A failing reducer, a part whose gradient is not finite, and the calls a
 * part refuses. */
static void parts_fail_together_and_refuse_what_they_cannot_do(void **state)
{
    static const size_t two[2] = {3, 3};
    part pt[2];
    group g;
    data d;
    size_t n0, n1;
    int r;
    unsigned char *before, *after;
    (void)state;
    memset(&g, 0, sizeof g);
    memset(pt, 0, sizeof pt);
    make_data(&d, 9);
    for (r = 0; r < 2; r++) {
        pt[r].me.g = &g;
        pt[r].me.rank = r;
        pt[r].m = model(1);
        pt[r].d = &d;
        pt[r].first = r ? two[0] : 0;
        pt[r].n = two[r];
        pt[r].rows = 6;
        NN_OK_OR_FAIL(nn_model_set_reducer(pt[r].m, thread_reduce,
                                           &pt[r].me));
    }
    /* rank 1's reducer reports a failure: both parts refuse the pass,
     * and neither waits for the other */
    g.fail_rank = 1;
    run_parts(pt, &g, 2, 6);
    assert_int_equal(pt[0].st, NN_E_REDUCE);
    assert_int_equal(pt[1].st, NN_E_REDUCE);
    /* a NaN in rank 0's rows: both refuse the pass */
    g.fail_rank = -1;
    d.x[1] = NAN;
    run_parts(pt, &g, 2, 6);
    assert_int_equal(pt[0].st, NN_E_NONFINITE);
    assert_int_equal(pt[1].st, NN_E_NONFINITE);
    /* a refused pass leaves the running statistics as they were */
    {
        float b0[20], b1[20];
        NN_OK_OR_FAIL(nn_model_get_layer_buffers(pt[0].m, 2, b0, 20));
        NN_OK_OR_FAIL(nn_model_get_layer_buffers(pt[1].m, 2, b1, 20));
        assert_memory_equal(b0, b1, sizeof b0);
    }
    d.x[1] = 0.5f;
    /* what a part refuses, without changing anything */
    before = NULL;
    {
        nn_model *m = pt[0].m;
        size_t size;
        NN_OK_OR_FAIL(nn_model_save_size(m, NN_SAVE_CHECKPOINT, &size));
        before = (unsigned char *)malloc(size);
        assert_non_null(before);
        NN_OK_OR_FAIL(nn_model_save_buffer(m, NN_SAVE_CHECKPOINT, before,
                                           size, &n0));
        NN_OK_OR_FAIL(nn_model_set_batch_part(m, 3, 6));
        assert_int_equal(nn_model_train_batch_labels(m, 3, d.x, IN, d.y,
                                                     NULL), NN_E_STATE);
        assert_non_null(strstr(nn_last_error(), "apply them"));
        assert_int_equal(nn_model_compute_grads_labels(m, 4, d.x, IN, d.y,
                                                       NULL), NN_E_SHAPE);
        assert_non_null(strstr(nn_last_error(), "rows 3 to 7 of a batch of "
                                                "6"));
        NN_OK_OR_FAIL(nn_model_set_reducer(m, NULL, NULL));
        assert_int_equal(nn_model_compute_grads_labels(m, 3, d.x, IN, d.y,
                                                       NULL), NN_E_STATE);
        assert_non_null(strstr(nn_last_error(), "needs a reducer"));
        {
            nn_data *set = NULL;
            NN_OK_OR_FAIL(nn_data_create_labels(&set, 6, d.x, IN, d.y));
            assert_int_equal(nn_model_fit(m, set, NULL, NULL, NULL, NULL),
                             NN_E_STATE);
            nn_data_free(set);
        }
        assert_int_equal(nn_model_set_batch_part(m, 6, 6), NN_E_INVALID);
        NN_OK_OR_FAIL(nn_model_set_batch_part(m, 0, 0)); /* whole again */
        after = (unsigned char *)malloc(size);
        assert_non_null(after);
        NN_OK_OR_FAIL(nn_model_save_buffer(m, NN_SAVE_CHECKPOINT, after,
                                           size, &n1));
        assert_int_equal(n0, n1);
        assert_memory_equal(before, after, n0);
        free(before);
        free(after);
    }
    for (r = 0; r < 2; r++)
        nn_model_free(pt[r].m);
}

/* ---- replicas (nn_model_set_replica): fit, evaluate, resume ---- */

enum { FN = 50, FVAL = 17, MAX_LOG = 64, EPOCHS = 3 };

/* Sums the replicas' gradient buffers in rank order into every one: each
 * publishes its buffer, all sum into scratch, and only after all have read
 * does each overwrite its own. */
typedef struct fgroup {
    int parts;
    pthread_barrier_t barrier;
    float *bufs[MAX_P];
    int fail_rank;
} fgroup;

typedef struct replica {
    member me;          /* for the double reducer */
    fgroup *fg;
    int rank;
    nn_model *m;
    const nn_data *train, *val;
    float *scratch;
    int resume;
    /* the callbacks' log */
    double batch_loss[MAX_LOG];
    size_t n_batch;
    double epoch_val[EPOCHS * 3];
    size_t n_epoch;
    /* stop or interrupt at this replica's call of on_batch (0: never) */
    size_t stop_at, interrupt_at;
    nn_status st;
    double eval[2]; /* nn_model_evaluate's loss and accuracy */
} replica;

static int thread_reduce_grads(void *user, float *grads, size_t count)
{
    replica *me = (replica *)user;
    fgroup *g = me->fg;
    size_t i;
    int r;
    g->bufs[me->rank] = grads;
    pthread_barrier_wait(&g->barrier);
    for (i = 0; i < count; i++) {
        float s = 0.0f;
        for (r = 0; r < g->parts; r++)
            s += g->bufs[r][i];
        me->scratch[i] = s;
    }
    pthread_barrier_wait(&g->barrier);
    memcpy(grads, me->scratch, count * sizeof(float));
    return me->rank == g->fail_rank ? 5 : 0;
}

static int log_batch(void *user, size_t epoch, size_t batch, size_t batches,
                     double loss)
{
    replica *p = (replica *)user;
    (void)epoch;
    (void)batch;
    (void)batches;
    if (p->n_batch < MAX_LOG)
        p->batch_loss[p->n_batch] = loss;
    p->n_batch++;
    if (p->interrupt_at && p->n_batch == p->interrupt_at)
        return -1;
    if (p->stop_at && p->n_batch == p->stop_at)
        return 1;
    return 0;
}

static int log_epoch(void *user, size_t epoch, double train_loss,
                     double val_loss, double val_accuracy, double seconds)
{
    replica *p = (replica *)user;
    (void)epoch;
    (void)seconds;
    if (p->n_epoch < EPOCHS) {
        p->epoch_val[3 * p->n_epoch] = train_loss;
        p->epoch_val[3 * p->n_epoch + 1] = val_loss;
        p->epoch_val[3 * p->n_epoch + 2] = val_accuracy;
    }
    p->n_epoch++;
    return 0;
}

static void *fit_thread(void *arg)
{
    replica *p = (replica *)arg;
    p->st = p->resume ? nn_model_fit_resume(p->m, p->train, p->val,
                                            log_epoch, log_batch, p)
                      : nn_model_fit(p->m, p->train, p->val, log_epoch,
                                     log_batch, p);
    return NULL;
}

/* The model of the fit tests: with batch normalization and SGD with
 * momentum, or without it and Adam; dropout, a schedule and clipping. */
static nn_model *fit_model(int with_bn)
{
    nn_model *m = NULL;
    NN_OK_OR_FAIL(nn_model_create(&m, IN, 77));
    NN_OK_OR_FAIL(nn_model_add_dense(m, 12, with_bn ? NN_ACT_IDENTITY
                                                    : NN_ACT_TANH));
    if (with_bn) {
        NN_OK_OR_FAIL(nn_model_add_batchnorm(m));
        NN_OK_OR_FAIL(nn_model_add_activation(m, NN_ACT_RELU));
    }
    NN_OK_OR_FAIL(nn_model_add_dropout(m, 0.25));
    NN_OK_OR_FAIL(nn_model_add_dense(m, OUT, NN_ACT_SOFTMAX));
    NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY));
    if (with_bn) {
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.9));
    } else {
        NN_OK_OR_FAIL(nn_model_set_optimizer(m, NN_OPT_ADAM));
    }
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE,
                                     with_bn ? 0.05 : 0.01));
    NN_OK_OR_FAIL(nn_model_set_schedule(m, NN_SCHED_COSINE));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_CLIP_NORM, 2.0));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_BATCH_SIZE, 8));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_EPOCHS, EPOCHS));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_PATIENCE, 5));
    return m;
}

typedef struct fit_data {
    float x[FN * IN], vx[FVAL * IN];
    int32_t y[FN], vy[FVAL];
    nn_data *train, *val;
} fit_data;

static void make_fit_data(fit_data *d)
{
    test_rng g = {2026};
    size_t i;
    for (i = 0; i < FN * IN; i++)
        d->x[i] = (float)(rng_unit(&g) * 4.0 - 2.0);
    for (i = 0; i < FVAL * IN; i++)
        d->vx[i] = (float)(rng_unit(&g) * 4.0 - 2.0);
    /* learnable labels: the sign pattern of two inputs */
    for (i = 0; i < FN; i++)
        d->y[i] = (int32_t)((d->x[i * IN] > 0) + (d->x[i * IN + 1] > 0.5f));
    for (i = 0; i < FVAL; i++)
        d->vy[i] = (int32_t)((d->vx[i * IN] > 0) +
                             (d->vx[i * IN + 1] > 0.5f));
    NN_OK_OR_FAIL(nn_data_create_labels(&d->train, FN, d->x, IN, d->y));
    NN_OK_OR_FAIL(nn_data_create_labels(&d->val, FVAL, d->vx, IN, d->vy));
}

/* Gives each of `parts` replicas a copy of `from` (a checkpoint's bytes),
 * their reducers and data. */
static void make_replicas(replica *rp, group *g, fgroup *fg, int parts,
                          const unsigned char *from, size_t size,
                          const fit_data *d)
{
    int r;
    memset(rp, 0, (size_t)parts * sizeof *rp);
    memset(g, 0, sizeof *g);
    memset(fg, 0, sizeof *fg);
    g->parts = fg->parts = parts;
    g->fail_rank = fg->fail_rank = -1;
    assert_int_equal(pthread_barrier_init(&g->barrier, NULL,
                                          (unsigned)parts), 0);
    assert_int_equal(pthread_barrier_init(&fg->barrier, NULL,
                                          (unsigned)parts), 0);
    for (r = 0; r < parts; r++) {
        size_t np;
        rp[r].me.g = g;
        rp[r].me.rank = r;
        rp[r].fg = fg;
        rp[r].rank = r;
        rp[r].train = d->train;
        rp[r].val = d->val;
        NN_OK_OR_FAIL(nn_model_load_buffer(&rp[r].m, from, size));
        (void)nn_model_grads(rp[r].m, &np);
        rp[r].scratch = (float *)malloc(np * sizeof(float));
        assert_non_null(rp[r].scratch);
        NN_OK_OR_FAIL(nn_model_set_reducer(rp[r].m, thread_reduce,
                                           &rp[r].me));
        NN_OK_OR_FAIL(nn_model_set_replica(rp[r].m, (size_t)r,
                                           (size_t)parts,
                                           thread_reduce_grads, &rp[r]));
    }
}

static void run_replicas(replica *rp, int parts)
{
    pthread_t tid[MAX_P];
    int r;
    for (r = 0; r < parts; r++)
        assert_int_equal(pthread_create(&tid[r], NULL, fit_thread, &rp[r]),
                         0);
    for (r = 0; r < parts; r++)
        assert_int_equal(pthread_join(tid[r], NULL), 0);
}

static void *evaluate_thread(void *arg)
{
    replica *p = (replica *)arg;
    p->st = nn_model_evaluate(p->m, p->train, &p->eval[0], &p->eval[1]);
    return NULL;
}

static void run_evaluate(replica *rp, int parts, const nn_data *set)
{
    pthread_t tid[MAX_P];
    int r;
    for (r = 0; r < parts; r++) {
        rp[r].train = set;
        assert_int_equal(pthread_create(&tid[r], NULL, evaluate_thread,
                                        &rp[r]), 0);
    }
    for (r = 0; r < parts; r++)
        assert_int_equal(pthread_join(tid[r], NULL), 0);
}

static void free_replicas(replica *rp, group *g, fgroup *fg, int parts)
{
    int r;
    for (r = 0; r < parts; r++) {
        nn_model_free(rp[r].m);
        free(rp[r].scratch);
    }
    pthread_barrier_destroy(&g->barrier);
    pthread_barrier_destroy(&fg->barrier);
}

static unsigned char *checkpoint(const nn_model *m, size_t *size)
{
    unsigned char *b;
    NN_OK_OR_FAIL(nn_model_save_size(m, NN_SAVE_CHECKPOINT, size));
    b = (unsigned char *)malloc(*size);
    assert_non_null(b);
    NN_OK_OR_FAIL(nn_model_save_buffer(m, NN_SAVE_CHECKPOINT, b, *size,
                                       size));
    return b;
}

/* Replica r against the single process: the same parameters and the
 * same callback values, within rel (0: bit for bit), and every replica
 * the same as replica 0 bit for bit. */
static void check_against(const replica *rp, int parts, const nn_model *one,
                          const replica *single, double rel)
{
    size_t np, i;
    const float *p1 = nn_model_params((nn_model *)one, &np);
    int r;
    for (r = 0; r < parts; r++) {
        const float *pr = nn_model_params(rp[r].m, NULL);
        NN_OK_OR_FAIL(rp[r].st);
        assert_int_equal(nn_model_step_count(rp[r].m),
                         nn_model_step_count(one));
        assert_memory_equal(pr, nn_model_params(rp[0].m, NULL),
                            np * sizeof(float));
        assert_int_equal(rp[r].n_batch, single->n_batch);
        assert_int_equal(rp[r].n_epoch, single->n_epoch);
        assert_memory_equal(rp[r].batch_loss, rp[0].batch_loss,
                            sizeof rp[r].batch_loss);
        assert_memory_equal(rp[r].epoch_val, rp[0].epoch_val,
                            sizeof rp[r].epoch_val);
        if (rel == 0.0) {
            assert_memory_equal(pr, p1, np * sizeof(float));
            assert_memory_equal(rp[r].batch_loss, single->batch_loss,
                                sizeof rp[r].batch_loss);
            assert_memory_equal(rp[r].epoch_val, single->epoch_val,
                                sizeof rp[r].epoch_val);
            continue;
        }
        for (i = 0; i < np; i++)
            assert_close("a replica's parameter", pr[i], p1[i], rel, 1e-6);
        for (i = 0; i < single->n_batch && i < MAX_LOG; i++)
            assert_close("a batch's loss", rp[r].batch_loss[i],
                         single->batch_loss[i], rel, 1e-7);
        for (i = 0; i < 3 * single->n_epoch && i < 3 * EPOCHS; i++)
            assert_close("an epoch's loss or accuracy", rp[r].epoch_val[i],
                         single->epoch_val[i], rel, 1e-7);
    }
}

/* nn_model_fit on 1 to 4 replicas against one process: every optimizer
 * path (SGD with momentum and batch normalization, Adam), a schedule,
 * clipping, dropout, validation and early stopping's copy, 50 rows in
 * batches of 8 (the last batch has 2 rows, so some replicas have none). */
static void replicas_fit_as_one_process_does(void **state)
{
    fit_data d;
    int with_bn, parts;
    (void)state;
    make_fit_data(&d);
    for (with_bn = 0; with_bn < 2; with_bn++) {
        nn_model *start = fit_model(with_bn), *one;
        replica single;
        size_t size;
        unsigned char *ck = checkpoint(start, &size);
        NN_OK_OR_FAIL(nn_model_load_buffer(&one, ck, size));
        memset(&single, 0, sizeof single);
        NN_OK_OR_FAIL(nn_model_fit(one, d.train, d.val, log_epoch,
                                   log_batch, &single));
        assert_int_equal(single.n_batch, EPOCHS * 7);
        for (parts = 1; parts <= MAX_P; parts++) {
            replica rp[MAX_P];
            group g;
            fgroup fg;
            make_replicas(rp, &g, &fg, parts, ck, size, &d);
            run_replicas(rp, parts);
            /* one replica is one process, bit for bit */
            check_against(rp, parts, one, &single, parts == 1 ? 0.0 : 1e-5);
            /* evaluate splits the set and sums: every replica gets the
             * whole set's loss and accuracy, which replica 0's model gives
             * alone */
            {
                double l1, a1;
                int r;
                run_evaluate(rp, parts, d.train);
                NN_OK_OR_FAIL(nn_model_set_replica(rp[0].m, 0, 0, NULL,
                                                   NULL));
                NN_OK_OR_FAIL(nn_model_evaluate(rp[0].m, d.train, &l1, &a1));
                for (r = 0; r < parts; r++) {
                    NN_OK_OR_FAIL(rp[r].st);
                    assert_close("a replica's evaluation", rp[r].eval[0],
                                 l1, 1e-12, 0.0);
                    assert_true(rp[r].eval[1] == a1);
                    assert_memory_equal(rp[r].eval, rp[0].eval,
                                        sizeof rp[r].eval);
                }
            }
            free_replicas(rp, &g, &fg, parts);
        }
        printf("  fit on 1 to %d replicas%s: %zu steps, final training "
               "loss %.6f\n", MAX_P, with_bn ? ", batchnorm" : "",
               (size_t)nn_model_step_count(one), single.epoch_val[6]);
        nn_model_free(one);
        nn_model_free(start);
        free(ck);
    }
    nn_data_free(d.train);
    nn_data_free(d.val);
}

/* An interruption asked for by one replica stops all at the same step;
 * its checkpoint, the same from every replica, resumes on 3 replicas and
 * on one process to the unbroken run's result. A stop asked for by one
 * replica stops all; a failing gradient reducer or a row that is not
 * finite makes every replica refuse the same step. */
static void replicas_stop_interrupt_and_resume_with_another_count(void **s)
{
    fit_data d;
    nn_model *start = fit_model(1), *one, *alone;
    replica single, rp[MAX_P], solo;
    group g;
    fgroup fg;
    size_t size, size2, size2b, np, i;
    unsigned char *ck, *ck2, *ck2b;
    int r;
    (void)s;
    make_fit_data(&d);
    ck = checkpoint(start, &size);
    NN_OK_OR_FAIL(nn_model_load_buffer(&one, ck, size));
    memset(&single, 0, sizeof single);
    NN_OK_OR_FAIL(nn_model_fit(one, d.train, d.val, log_epoch, log_batch,
                               &single));
    (void)nn_model_params(one, &np);

    /* replica 1 interrupts at its 10th batch, in the second epoch */
    make_replicas(rp, &g, &fg, 2, ck, size, &d);
    rp[1].interrupt_at = 10;
    run_replicas(rp, 2);
    for (r = 0; r < 2; r++) {
        NN_OK_OR_FAIL(rp[r].st);
        assert_int_equal(nn_model_step_count(rp[r].m), 10);
        assert_int_equal(rp[r].n_batch, 10);
        assert_int_equal(rp[r].n_epoch, 1);
    }
    ck2 = checkpoint(rp[0].m, &size2);
    ck2b = checkpoint(rp[1].m, &size2b);
    assert_int_equal(size2b, size2);
    assert_memory_equal(ck2, ck2b, size2); /* the same run on each */
    free(ck2b);
    free_replicas(rp, &g, &fg, 2);

    /* resumed on 3 replicas */
    make_replicas(rp, &g, &fg, 3, ck2, size2, &d);
    for (r = 0; r < 3; r++)
        rp[r].resume = 1;
    run_replicas(rp, 3);
    for (r = 0; r < 3; r++) {
        const float *pr = nn_model_params(rp[r].m, NULL);
        NN_OK_OR_FAIL(rp[r].st);
        assert_int_equal(rp[r].n_batch, single.n_batch - 10);
        assert_int_equal(nn_model_step_count(rp[r].m),
                         nn_model_step_count(one));
        for (i = 0; i < np; i++)
            assert_close("a parameter resumed on 3 replicas", pr[i],
                         nn_model_params(one, NULL)[i], 1e-5, 1e-6);
        for (i = 0; i < rp[r].n_batch; i++)
            assert_close("a resumed batch's loss", rp[r].batch_loss[i],
                         single.batch_loss[10 + i], 1e-5, 1e-7);
    }
    free_replicas(rp, &g, &fg, 3);

    /* resumed by one process */
    NN_OK_OR_FAIL(nn_model_load_buffer(&alone, ck2, size2));
    memset(&solo, 0, sizeof solo);
    NN_OK_OR_FAIL(nn_model_fit_resume(alone, d.train, d.val, log_epoch,
                                      log_batch, &solo));
    for (i = 0; i < np; i++)
        assert_close("a parameter resumed alone",
                     nn_model_params(alone, NULL)[i],
                     nn_model_params(one, NULL)[i], 1e-5, 1e-6);
    nn_model_free(alone);

    /* replica 2 asks for a stop at its 4th batch: all stop there */
    make_replicas(rp, &g, &fg, 3, ck, size, &d);
    rp[2].stop_at = 4;
    run_replicas(rp, 3);
    for (r = 0; r < 3; r++) {
        NN_OK_OR_FAIL(rp[r].st);
        assert_int_equal(nn_model_step_count(rp[r].m), 4);
        assert_int_equal(rp[r].n_epoch, 0);
    }
    free_replicas(rp, &g, &fg, 3);

    /* replica 0's gradient reducer fails at the first step: every
     * replica refuses it, nothing changed */
    make_replicas(rp, &g, &fg, 2, ck, size, &d);
    fg.fail_rank = 0;
    run_replicas(rp, 2);
    for (r = 0; r < 2; r++) {
        assert_int_equal(rp[r].st, NN_E_REDUCE);
        assert_int_equal(nn_model_step_count(rp[r].m), 0);
        assert_memory_equal(nn_model_params(rp[r].m, NULL),
                            nn_model_params(start, NULL),
                            np * sizeof(float));
    }
    free_replicas(rp, &g, &fg, 2);

    /* a row that is not finite in the third batch of the first epoch
     * (somewhere in the permutation: every row is) */
    {
        float keep = d.x[7 * IN];
        size_t steps;
        d.x[7 * IN] = INFINITY;
        make_replicas(rp, &g, &fg, 2, ck, size, &d);
        run_replicas(rp, 2);
        steps = (size_t)nn_model_step_count(rp[0].m);
        for (r = 0; r < 2; r++) {
            assert_int_equal(rp[r].st, NN_E_NONFINITE);
            assert_int_equal(nn_model_step_count(rp[r].m), steps);
            assert_memory_equal(nn_model_params(rp[r].m, NULL),
                                nn_model_params(rp[0].m, NULL),
                                np * sizeof(float));
        }
        assert_true(steps < 7);
        free_replicas(rp, &g, &fg, 2);
        d.x[7 * IN] = keep;
    }

    /* what a replica refuses */
    {
        nn_model *m = NULL;
        float x[2 * IN] = {0};
        int32_t y[2] = {0, 1};
        NN_OK_OR_FAIL(nn_model_load_buffer(&m, ck, size));
        assert_int_equal(nn_model_set_replica(m, 2, 2, thread_reduce_grads,
                                              NULL), NN_E_INVALID);
        assert_int_equal(nn_model_set_replica(m, 0, 65537,
                                              thread_reduce_grads, NULL),
                         NN_E_INVALID);
        assert_int_equal(nn_model_set_replica(m, 0, 2, NULL, NULL),
                         NN_E_NULL);
        assert_int_equal(nn_model_set_replica(NULL, 0, 0, NULL, NULL),
                         NN_E_NULL);
        NN_OK_OR_FAIL(nn_model_set_replica(m, 1, 2, thread_reduce_grads,
                                           NULL));
        assert_int_equal(nn_model_fit(m, d.train, NULL, NULL, NULL, NULL),
                         NN_E_STATE);
        assert_non_null(strstr(nn_last_error(), "replica 1 of 2 and has "
                                                "no reducer"));
        assert_int_equal(nn_model_evaluate(m, d.train, NULL, NULL),
                         NN_E_STATE);
        assert_int_equal(nn_model_train_batch_labels(m, 2, x, IN, y, NULL),
                         NN_E_STATE);
        assert_non_null(strstr(nn_last_error(), "takes its part of a "
                                                "batch"));
        NN_OK_OR_FAIL(nn_model_set_batch_part(m, 2, 4));
        assert_int_equal(nn_model_train_batch_labels(m, 2, x, IN, y, NULL),
                         NN_E_STATE);
        assert_non_null(strstr(nn_last_error(), "needs a reducer"));
        assert_int_equal(nn_model_step_count(m), 0);
        nn_model_free(m);
    }
    nn_model_free(one);
    nn_model_free(start);
    free(ck);
    free(ck2);
    nn_data_free(d.train);
    nn_data_free(d.val);
}

/* nn_model_train_batch on replicas, each with its part of a batch: the
 * step of one model on the whole batch. */
typedef struct step_arg {
    replica *rp;
    const float *x;
    const int32_t *y;
    size_t first, n, rows;
} step_arg;

static void *step_thread(void *arg)
{
    step_arg *a = (step_arg *)arg;
    a->rp->st = nn_model_set_batch_part(a->rp->m, a->first, a->rows);
    if (a->rp->st == NN_OK)
        a->rp->st = nn_model_train_batch_labels(a->rp->m, a->n,
                                                a->x + a->first * IN, IN,
                                                a->y + a->first, NULL);
    return NULL;
}

static void replicas_train_batch_is_one_step_on_the_whole_batch(void **s)
{
    fit_data d;
    nn_model *start = fit_model(1), *one;
    replica rp[3];
    group g;
    fgroup fg;
    step_arg a[3];
    pthread_t tid[3];
    static const size_t first[3] = {0, 5, 6}, n[3] = {5, 1, 7};
    size_t size, np, i;
    unsigned char *ck;
    int r, step;
    (void)s;
    make_fit_data(&d);
    ck = checkpoint(start, &size);
    NN_OK_OR_FAIL(nn_model_load_buffer(&one, ck, size));
    make_replicas(rp, &g, &fg, 3, ck, size, &d);
    (void)nn_model_params(one, &np);
    for (step = 0; step < 4; step++) {
        const float *x = d.x + (size_t)step * 13 * IN;
        const int32_t *y = d.y + (size_t)step * 13;
        NN_OK_OR_FAIL(nn_model_train_batch_labels(one, 13, x, IN, y, NULL));
        for (r = 0; r < 3; r++) {
            a[r].rp = &rp[r];
            a[r].x = x;
            a[r].y = y;
            a[r].first = first[r];
            a[r].n = n[r];
            a[r].rows = 13;
            assert_int_equal(pthread_create(&tid[r], NULL, step_thread,
                                            &a[r]), 0);
        }
        for (r = 0; r < 3; r++)
            assert_int_equal(pthread_join(tid[r], NULL), 0);
        for (r = 0; r < 3; r++) {
            const float *pr = nn_model_params(rp[r].m, NULL);
            NN_OK_OR_FAIL(rp[r].st);
            assert_memory_equal(pr, nn_model_params(rp[0].m, NULL),
                                np * sizeof(float));
            for (i = 0; i < np; i++)
                assert_close("a parameter after train_batch", pr[i],
                             nn_model_params(one, NULL)[i], 1e-5, 1e-6);
        }
    }
    free_replicas(rp, &g, &fg, 3);
    nn_model_free(one);
    nn_model_free(start);
    free(ck);
    nn_data_free(d.train);
    nn_data_free(d.val);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parts_of_a_batch_sum_to_the_whole_batch),
        cmocka_unit_test(parts_fail_together_and_refuse_what_they_cannot_do),
        cmocka_unit_test(replicas_fit_as_one_process_does),
        cmocka_unit_test(
            replicas_stop_interrupt_and_resume_with_another_count),
        cmocka_unit_test(replicas_train_batch_is_one_step_on_the_whole_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
