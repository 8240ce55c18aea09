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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parts_of_a_batch_sum_to_the_whole_batch),
        cmocka_unit_test(parts_fail_together_and_refuse_what_they_cannot_do),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
