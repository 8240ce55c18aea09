/* SPDX-License-Identifier: MIT */
/*
 * test_mpi.c - libnn_mpi on P processes (mpirun -np P; ctest runs P = 1
 * to 4), against the independent reference: the same model trained by
 * one process with plain libnn (every rank trains that reference itself).
 *
 * - nn_mpi_fit with every optimizer (SGD, Nesterov momentum, Adam with
 *   AMSGrad, AdamW, centered RMSprop with momentum), schedules with
 *   warm-up, clipping by norm and by value, dropout, batch normalization,
 *   class weights, label smoothing, MSE targets, validation, 53 rows in
 *   batches of 10 (P = 3 and 4 do not divide 10, and the last batch of 3
 *   leaves P = 4 a rank without rows): P = 1 is the reference bit for
 *   bit; P > 1 is within relative 1e-5, parameters and loss history, and
 *   every rank holds the same bits;
 * - nn_mpi_train_batch(_labels) with uneven local rows (and a rank with
 *   none) against one step on the ranks' rows concatenated;
 * - nn_mpi_evaluate against nn_model_evaluate;
 * - a run interrupted on 2 ranks, saved by nn_mpi_save, resumed on 3
 *   ranks and on 1 (sub-communicators of the job) to the unbroken run;
 * - models that differ (shape, setting, weights, optimizer state, libnn
 *   version), a row that is not finite, a failure on one rank, a failing
 *   MPI call: every rank returns the same status and message, no model
 *   changes, no rank waits;
 * - bad arguments, and an allocation failure at every allocation (on rank
 *   0 only) of a create, broadcast, fit, evaluate, save and load.
 *
 * Checks do not abort a rank mid-test (that would leave the others
 * waiting in a collective): each records its failure, and at the end of a
 * test every rank learns the total and fails the test together.
 */
#define _GNU_SOURCE /* dlsym(RTLD_NEXT), mkdtemp */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_mpi.h"
#include "nn_test.h"

static int rank, size;
static long failures;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "rank %d of %d: %s:%d: %s: ", rank, size,       \
                    __FILE__, __LINE__, #cond);                             \
            fprintf(stderr, __VA_ARGS__);                                   \
            fprintf(stderr, "\n");                                          \
            failures++;                                                     \
        }                                                                   \
    } while (0)

#define CHECK_OK(call)                                                      \
    do {                                                                    \
        nn_status st_ = (call);                                             \
        CHECK(st_ == NN_OK, "%s (%s / %s)", nn_status_string(st_),          \
              nn_mpi_last_error(), nn_last_error());                        \
    } while (0)

/* Every rank fails the test together if any rank recorded a failure. */
static void end_test(void)
{
    long total = failures;
    MPI_Allreduce(MPI_IN_PLACE, &total, 1, MPI_LONG, MPI_SUM,
                  MPI_COMM_WORLD);
    failures = 0;
    assert_int_equal(total, 0);
}

/* 1 if every rank passed the same bytes. */
static int same_everywhere(const void *p, size_t n, MPI_Comm comm)
{
    uint64_t h = 1469598103934665603ull, v[2];
    const unsigned char *b = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    v[0] = h;
    v[1] = ~h;
    MPI_Allreduce(MPI_IN_PLACE, v, 2, MPI_UINT64_T, MPI_MAX, comm);
    return v[0] == ~v[1];
}

static int same_message_everywhere(MPI_Comm comm)
{
    const char *m = nn_mpi_last_error();
    return same_everywhere(m, strlen(m), comm);
}

static int close_to(double got, double want, double rel, double abs_floor)
{
    return fabs(got - want) <= rel * fabs(want) + abs_floor;
}

/* ---- data ---- */

enum { IN = 6, OUT = 3, N = 53, NVAL = 17, BATCH = 10, EPOCHS = 3 };

typedef struct data {
    float x[N * IN], t[N * OUT], vx[NVAL * IN], vt[NVAL * OUT];
    int32_t y[N], vy[NVAL];
    nn_data *train, *val;
} data;

static void make_data(data *d, int regression)
{
    test_rng g = {2026};
    size_t i, j;
    for (i = 0; i < N * IN; i++)
        d->x[i] = (float)(rng_unit(&g) * 4.0 - 2.0);
    for (i = 0; i < NVAL * IN; i++)
        d->vx[i] = (float)(rng_unit(&g) * 4.0 - 2.0);
    for (i = 0; i < N; i++)
        d->y[i] = (int32_t)((d->x[i * IN] > 0) + (d->x[i * IN + 1] > 0.5f));
    for (i = 0; i < NVAL; i++)
        d->vy[i] = (int32_t)((d->vx[i * IN] > 0) +
                             (d->vx[i * IN + 1] > 0.5f));
    for (i = 0; i < N; i++)
        for (j = 0; j < OUT; j++)
            d->t[i * OUT + j] = (float)sin((double)d->x[i * IN + j] +
                                           0.5 * (double)j);
    for (i = 0; i < NVAL; i++)
        for (j = 0; j < OUT; j++)
            d->vt[i * OUT + j] = (float)sin((double)d->vx[i * IN + j] +
                                            0.5 * (double)j);
    if (regression) {
        NN_OK_OR_FAIL(nn_data_create(&d->train, N, d->x, IN, d->t, OUT));
        NN_OK_OR_FAIL(nn_data_create(&d->val, NVAL, d->vx, IN, d->vt, OUT));
    } else {
        NN_OK_OR_FAIL(nn_data_create_labels(&d->train, N, d->x, IN, d->y));
        NN_OK_OR_FAIL(nn_data_create_labels(&d->val, NVAL, d->vx, IN,
                                            d->vy));
    }
}

static void free_data(data *d)
{
    nn_data_free(d->train);
    nn_data_free(d->val);
}

/* ---- the models: one per optimizer path ---- */

enum {
    CFG_SGD,      /* plain SGD, step schedule, clipping by value */
    CFG_NESTEROV, /* Nesterov momentum, batchnorm, cosine, clip norm,
                     class weights, label smoothing */
    CFG_ADAM,     /* Adam + AMSGrad, warm-up + cosine, clip norm */
    CFG_ADAMW,    /* AdamW with decay, exponential schedule */
    CFG_RMSPROP,  /* centered RMSprop with momentum, MSE targets */
    CFG_COUNT
};
static const char *const cfg_name[CFG_COUNT] = {
    "sgd", "nesterov+batchnorm", "adam", "adamw", "rmsprop+mse"};

static nn_model *model_of_width(int cfg, size_t hidden)
{
    static const float cw[OUT] = {1.0f, 2.0f, 0.5f};
    nn_model *m = NULL;
    int bn = cfg == CFG_NESTEROV, mse = cfg == CFG_RMSPROP;
    NN_OK_OR_FAIL(nn_model_create(&m, IN, 77 + (uint64_t)cfg));
    NN_OK_OR_FAIL(nn_model_add_dense(m, hidden, bn ? NN_ACT_IDENTITY
                                                   : NN_ACT_TANH));
    if (bn) {
        NN_OK_OR_FAIL(nn_model_add_batchnorm(m));
        NN_OK_OR_FAIL(nn_model_add_activation(m, NN_ACT_RELU));
    }
    NN_OK_OR_FAIL(nn_model_add_dropout(m, 0.25));
    NN_OK_OR_FAIL(nn_model_add_dense(m, 9, NN_ACT_GELU));
    NN_OK_OR_FAIL(nn_model_add_dense(m, OUT, mse ? NN_ACT_IDENTITY
                                                 : NN_ACT_SOFTMAX));
    NN_OK_OR_FAIL(nn_model_set_loss(m, mse ? NN_LOSS_MSE
                                           : NN_LOSS_CROSS_ENTROPY));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_BATCH_SIZE, BATCH));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_EPOCHS, EPOCHS));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_PATIENCE, 5));
    switch (cfg) {
    case CFG_SGD:
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.1));
        NN_OK_OR_FAIL(nn_model_set_schedule(m, NN_SCHED_STEP));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_SCHED_STEP_SIZE, 5));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_SCHED_GAMMA, 0.7));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_CLIP_VALUE, 0.05));
        break;
    case CFG_NESTEROV:
        /* SGD: Adam would turn the rounding noise of the bias before
         * batch normalization (0 in exact arithmetic) into steps of lr */
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.05));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.9));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_NESTEROV, 1));
        NN_OK_OR_FAIL(nn_model_set_schedule(m, NN_SCHED_COSINE));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_SCHED_T_MAX, 20));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_CLIP_NORM, 2.0));
        NN_OK_OR_FAIL(nn_model_set_class_weights(m, cw, OUT));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LABEL_SMOOTHING, 0.1));
        break;
    case CFG_ADAM:
        NN_OK_OR_FAIL(nn_model_set_optimizer(m, NN_OPT_ADAM));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_AMSGRAD, 1));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.01));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_WARMUP_STEPS, 3));
        NN_OK_OR_FAIL(nn_model_set_schedule(m, NN_SCHED_COSINE));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_SCHED_T_MAX, 15));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_CLIP_NORM, 1.0));
        break;
    case CFG_ADAMW:
        NN_OK_OR_FAIL(nn_model_set_optimizer(m, NN_OPT_ADAMW));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.01));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_WEIGHT_DECAY, 0.01));
        NN_OK_OR_FAIL(nn_model_set_schedule(m, NN_SCHED_EXPONENTIAL));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_SCHED_GAMMA, 0.95));
        break;
    default:
        NN_OK_OR_FAIL(nn_model_set_optimizer(m, NN_OPT_RMSPROP));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_CENTERED, 1));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.5));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.003));
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_CLIP_NORM, 5.0));
        /* RMSprop, like Adam, divides by the gradient's running size: a
         * gradient whose rows nearly cancel (its relative rounding error
         * large) still moves its parameter by about lr, and the P-process
         * sum rounds it otherwise. eps 1e-3 bounds what such a gradient
         * can do (lr |g| / eps); at 1e-8 P = 4 differed by 1e-4 at the
         * first step of train_batch's test. */
        NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_EPSILON, 1e-3));
        break;
    }
    return m;
}

static nn_model *model_of(int cfg)
{
    return model_of_width(cfg, 12);
}

/* ---- the callbacks' log ---- */

enum { MAX_LOG = 64 };

typedef struct run_log {
    double batch_loss[MAX_LOG];
    size_t n_batch;
    double epoch[EPOCHS * 3];
    size_t n_epoch;
    size_t interrupt_at; /* interrupt at this on_batch call (0: never) */
    int interrupt_rank;  /* ... on this rank */
} run_log;

static int log_batch(void *user, size_t epoch, size_t batch, size_t batches,
                     double loss)
{
    run_log *p = (run_log *)user;
    (void)epoch;
    (void)batch;
    (void)batches;
    if (p->n_batch < MAX_LOG)
        p->batch_loss[p->n_batch] = loss;
    p->n_batch++;
    return p->interrupt_at && p->n_batch == p->interrupt_at &&
                   p->interrupt_rank == rank
               ? -1
               : 0;
}

static int log_epoch(void *user, size_t epoch, double train_loss,
                     double val_loss, double val_accuracy, double seconds)
{
    run_log *p = (run_log *)user;
    (void)epoch;
    (void)seconds;
    if (p->n_epoch < EPOCHS) {
        p->epoch[3 * p->n_epoch] = train_loss;
        p->epoch[3 * p->n_epoch + 1] = val_loss;
        p->epoch[3 * p->n_epoch + 2] = val_accuracy;
    }
    p->n_epoch++;
    return 0;
}

static unsigned char *checkpoint(const nn_model *m, size_t *len)
{
    unsigned char *b;
    NN_OK_OR_FAIL(nn_model_save_size(m, NN_SAVE_CHECKPOINT, len));
    b = (unsigned char *)malloc(*len);
    assert_non_null(b);
    NN_OK_OR_FAIL(nn_model_save_buffer(m, NN_SAVE_CHECKPOINT, b, *len, len));
    return b;
}

/* Model m (of P ranks of comm) against the reference: bit for bit when
 * rel is 0, else within rel; and the same bits on every rank. */
static void compare_params(const char *what, nn_model *m, nn_model *ref,
                           double rel, MPI_Comm comm)
{
    size_t np, i, bad = 0;
    const float *p = nn_model_params(m, &np), *q = nn_model_params(ref, NULL);
    CHECK(same_everywhere(p, np * sizeof(float), comm),
          "%s: the ranks' parameters differ", what);
    CHECK(nn_model_step_count(m) == nn_model_step_count(ref),
          "%s: %llu steps, the reference took %llu", what,
          (unsigned long long)nn_model_step_count(m),
          (unsigned long long)nn_model_step_count(ref));
    for (i = 0; i < np; i++) {
        int ok = rel == 0.0 ? memcmp(&p[i], &q[i], sizeof(float)) == 0
                            : close_to(p[i], q[i], rel, 1e-6);
        if (!ok && bad++ < 3)
            CHECK(ok, "%s: parameter %zu is %.9g, the reference's %.9g",
                  what, i, (double)p[i], (double)q[i]);
    }
}

static void compare_logs(const char *what, const run_log *a,
                         const run_log *ref, size_t skip, double rel)
{
    size_t i;
    CHECK(a->n_batch + skip == ref->n_batch, "%s: %zu batches, the "
          "reference %zu", what, a->n_batch + skip, ref->n_batch);
    for (i = 0; i < a->n_batch && i + skip < MAX_LOG; i++)
        CHECK(rel == 0.0 ? a->batch_loss[i] == ref->batch_loss[i + skip]
                         : close_to(a->batch_loss[i],
                                    ref->batch_loss[i + skip], rel, 1e-7),
              "%s: batch %zu's loss %.12g, the reference's %.12g", what,
              i + skip, a->batch_loss[i], ref->batch_loss[i + skip]);
    if (skip)
        return;
    CHECK(a->n_epoch == ref->n_epoch, "%s: %zu epochs, the reference %zu",
          what, a->n_epoch, ref->n_epoch);
    for (i = 0; i < 3 * a->n_epoch && i < 3 * EPOCHS; i++)
        CHECK(rel == 0.0 ? memcmp(&a->epoch[i], &ref->epoch[i],
                                  sizeof(double)) == 0
                         : close_to(a->epoch[i], ref->epoch[i], rel, 1e-7),
              "%s: epoch value %zu is %.12g, the reference's %.12g", what,
              i, a->epoch[i], ref->epoch[i]);
}

/* ---- tests ---- */

static nn_mpi *world;

static void fit_is_the_single_process_fit(void **state)
{
    int cfg;
    double rel = size == 1 ? 0.0 : 1e-5;
    (void)state;
    for (cfg = 0; cfg < CFG_COUNT; cfg++) {
        data d;
        nn_model *ref = model_of(cfg), *m = NULL;
        run_log lr, lm;
        double steps0, repairs;
        size_t len0, len1;
        unsigned char *c0, *c1;
        make_data(&d, cfg == CFG_RMSPROP);
        memset(&lr, 0, sizeof lr);
        memset(&lm, 0, sizeof lm);
        /* rank 0 builds the model, the others receive it */
        if (rank == 0)
            m = model_of(cfg);
        CHECK_OK(nn_mpi_broadcast_model(world, &m));
        assert_non_null(m);
        c0 = checkpoint(m, &len0);
        c1 = checkpoint(ref, &len1);
        CHECK(len0 == len1 && memcmp(c0, c1, len0) == 0,
              "%s: the broadcast model is not the one rank 0 built",
              cfg_name[cfg]);
        free(c0);
        free(c1);
        NN_OK_OR_FAIL(nn_model_fit(ref, d.train, d.val, log_epoch,
                                   log_batch, &lr));
        CHECK(nn_mpi_get_stat(world, NN_MPI_STAT_GRAD_REDUCES, &steps0) ==
                  NN_OK, "get_stat");
        CHECK_OK(nn_mpi_fit(world, m, d.train, d.val, log_epoch, log_batch,
                            &lm));
        compare_params(cfg_name[cfg], m, ref, rel, MPI_COMM_WORLD);
        compare_logs(cfg_name[cfg], &lm, &lr, 0, rel);
        CHECK(same_everywhere(&lm, sizeof lm, MPI_COMM_WORLD),
              "%s: the ranks' callbacks saw different values",
              cfg_name[cfg]);
        {
            double steps1;
            NN_OK_OR_FAIL(nn_mpi_get_stat(world, NN_MPI_STAT_GRAD_REDUCES,
                                          &steps1));
            CHECK(steps1 - steps0 == (size > 1 ? (double)lr.n_batch : 0.0),
                  "%s: %g gradient all-reduces for %zu steps",
                  cfg_name[cfg], steps1 - steps0, lr.n_batch);
        }
        /* Open MPI's all-reduce gave every rank the same bits: the
         * check after each reduction never had to repair one */
        NN_OK_OR_FAIL(nn_mpi_get_stat(world, NN_MPI_STAT_REPAIRS, &repairs));
        CHECK(repairs == 0.0, "%g reductions needed repair", repairs);
        if (rank == 0)
            printf("  %-20s P=%d: %zu steps, final loss %.6f (reference "
                   "%.6f)\n", cfg_name[cfg], size, lm.n_batch,
                   lm.epoch[3 * (EPOCHS - 1)], lr.epoch[3 * (EPOCHS - 1)]);
        /* the reducers are gone: plain libnn calls work on the model */
        {
            double l;
            NN_OK_OR_FAIL(nn_model_evaluate(m, d.train, &l, NULL));
        }
        nn_model_free(m);
        nn_model_free(ref);
        free_data(&d);
    }
    end_test();
}

/* Each rank's local rows: rank r has (r * 3 + 2) % 5 rows, and with 3 or
 * more ranks rank 1 has none. */
static size_t local_rows(int r)
{
    if (size >= 3 && r == 1)
        return 0;
    return (size_t)(r * 3 + 2) % 5 + 1;
}

static void train_batch_is_one_step_on_the_ranks_rows(void **state)
{
    int cfg;
    (void)state;
    for (cfg = 0; cfg < CFG_COUNT; cfg++) {
        data d;
        nn_model *ref = model_of(cfg), *m = NULL;
        size_t first = 0, total = 0, n = local_rows(rank), s;
        int r;
        make_data(&d, cfg == CFG_RMSPROP);
        for (r = 0; r < size; r++) {
            if (r < rank)
                first += local_rows(r);
            total += local_rows(r);
        }
        if (rank == 0)
            m = model_of(cfg);
        CHECK_OK(nn_mpi_broadcast_model(world, &m));
        CHECK_OK(nn_mpi_check_models(world, m));
        for (s = 0; s < 4; s++) {
            size_t off = s * total; /* rows of this step: [off, off+total) */
            double lref, lm;
            if (cfg == CFG_RMSPROP) {
                NN_OK_OR_FAIL(nn_model_train_batch(ref, total,
                                                   d.x + off * IN, IN,
                                                   d.t + off * OUT, OUT,
                                                   &lref));
                CHECK_OK(nn_mpi_train_batch(
                    world, m, n, n ? d.x + (off + first) * IN : NULL, IN,
                    n ? d.t + (off + first) * OUT : NULL, OUT, &lm));
            } else {
                NN_OK_OR_FAIL(nn_model_train_batch_labels(
                    ref, total, d.x + off * IN, IN, d.y + off, &lref));
                CHECK_OK(nn_mpi_train_batch_labels(
                    world, m, n, n ? d.x + (off + first) * IN : NULL, IN,
                    n ? d.y + off + first : NULL, &lm));
            }
            CHECK(size == 1 ? lm == lref : close_to(lm, lref, 1e-6, 0.0),
                  "%s step %zu: loss %.12g, one process %.12g",
                  cfg_name[cfg], s, lm, lref);
            CHECK(same_everywhere(&lm, sizeof lm, MPI_COMM_WORLD),
                  "%s: the ranks' losses differ", cfg_name[cfg]);
            compare_params(cfg_name[cfg], m, ref, size == 1 ? 0.0 : 1e-5,
                           MPI_COMM_WORLD);
        }
        nn_model_free(m);
        nn_model_free(ref);
        free_data(&d);
    }
    end_test();
}

static void evaluate_gives_every_rank_the_whole_sets(void **state)
{
    int cfg;
    (void)state;
    for (cfg = 0; cfg < CFG_COUNT; cfg++) {
        data d;
        nn_model *ref = model_of(cfg), *m = NULL;
        double l1, a1, lm = 0, am = 0;
        make_data(&d, cfg == CFG_RMSPROP);
        if (rank == 0)
            m = model_of(cfg);
        CHECK_OK(nn_mpi_broadcast_model(world, &m));
        NN_OK_OR_FAIL(nn_model_evaluate(ref, d.train, &l1, &a1));
        CHECK_OK(nn_mpi_evaluate(world, m, d.train, &lm, &am));
        /* the rows' losses are summed in another order */
        CHECK(close_to(lm, l1, size == 1 ? 0.0 : 1e-7, 0.0),
              "%s: loss %.17g, one process %.17g", cfg_name[cfg], lm, l1);
        CHECK((isnan(a1) && isnan(am)) || am == a1, "%s: accuracy %g, one "
              "process %g", cfg_name[cfg], am, a1);
        CHECK(same_everywhere(&lm, sizeof lm, MPI_COMM_WORLD),
              "the ranks' losses differ");
        nn_model_free(m);
        nn_model_free(ref);
        free_data(&d);
    }
    end_test();
}

/* A sub-communicator of the first k ranks (MPI_COMM_NULL elsewhere). */
static MPI_Comm first_ranks(int k)
{
    MPI_Comm c = MPI_COMM_NULL;
    MPI_Comm_split(MPI_COMM_WORLD, rank < k ? 0 : MPI_UNDEFINED, rank, &c);
    return c;
}

static char tmpdir[256];

static void checkpoint_of_two_ranks_resumes_on_three_and_on_one(void **st)
{
    data d;
    nn_model *ref = model_of(CFG_NESTEROV);
    run_log lr;
    char path[300];
    (void)st;
    if (size < 3) {
        /* needs 3 ranks: the P = 3 and P = 4 runs of this program check
         * it; here nothing is claimed */
        if (rank == 0)
            printf("  (checkpoint across counts: run with 3 or more "
                   "ranks)\n");
        nn_model_free(ref);
        end_test();
        return;
    }
    make_data(&d, 0);
    memset(&lr, 0, sizeof lr);
    NN_OK_OR_FAIL(nn_model_fit(ref, d.train, d.val, log_epoch, log_batch,
                               &lr));
    snprintf(path, sizeof path, "%s/run.nn", tmpdir);
    /* two ranks; rank 1 interrupts at its 8th batch (second epoch) */
    {
        MPI_Comm two = first_ranks(2);
        if (two != MPI_COMM_NULL) {
            nn_mpi *c = NULL;
            nn_model *m = NULL;
            run_log l;
            memset(&l, 0, sizeof l);
            l.interrupt_at = 8;
            l.interrupt_rank = 1;
            CHECK_OK(nn_mpi_create(&c, two));
            if (rank == 0)
                m = model_of(CFG_NESTEROV);
            CHECK_OK(nn_mpi_broadcast_model(c, &m));
            CHECK_OK(nn_mpi_fit(c, m, d.train, d.val, log_epoch, log_batch,
                                &l));
            CHECK(nn_model_step_count(m) == 8, "interrupted after %llu "
                  "steps", (unsigned long long)nn_model_step_count(m));
            CHECK_OK(nn_mpi_save(c, m, path, NN_SAVE_CHECKPOINT));
            nn_model_free(m);
            nn_mpi_free(c);
            MPI_Comm_free(&two);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    /* three ranks resume it; then one */
    {
        MPI_Comm three = first_ranks(3);
        if (three != MPI_COMM_NULL) {
            nn_mpi *c = NULL;
            nn_model *m = NULL;
            run_log l;
            memset(&l, 0, sizeof l);
            CHECK_OK(nn_mpi_create(&c, three));
            CHECK_OK(nn_mpi_load(c, path, &m));
            assert_non_null(m);
            CHECK_OK(nn_mpi_fit_resume(c, m, d.train, d.val, log_epoch,
                                       log_batch, &l));
            compare_params("resumed on 3 ranks", m, ref, 1e-5, three);
            compare_logs("resumed on 3 ranks", &l, &lr, 8, 1e-5);
            nn_model_free(m);
            nn_mpi_free(c);
            MPI_Comm_free(&three);
        }
    }
    {
        MPI_Comm one = first_ranks(1);
        if (one != MPI_COMM_NULL) {
            nn_mpi *c = NULL;
            nn_model *m = NULL;
            run_log l;
            memset(&l, 0, sizeof l);
            CHECK_OK(nn_mpi_create(&c, one));
            CHECK_OK(nn_mpi_load(c, path, &m));
            assert_non_null(m);
            CHECK_OK(nn_mpi_fit_resume(c, m, d.train, d.val, log_epoch,
                                       log_batch, &l));
            compare_params("resumed on 1 rank", m, ref, 1e-5, one);
            compare_logs("resumed on 1 rank", &l, &lr, 8, 1e-5);
            nn_model_free(m);
            nn_mpi_free(c);
            MPI_Comm_free(&one);
        }
    }
    if (rank == 0)
        printf("  interrupted on 2 ranks after 8 of %zu steps, resumed on 3 "
               "and on 1\n", lr.n_batch);
    nn_model_free(ref);
    free_data(&d);
    end_test();
}

/* ---- refusals ---- */

/* The same status and message on every rank, naming `needle`; the
 * model's checkpoint unchanged. */
static void refused_everywhere(const char *what, nn_status got,
                               nn_status want, const char *needle)
{
    CHECK(got == want, "%s: %s, expected %s (%s)", what,
          nn_status_string(got), nn_status_string(want),
          nn_mpi_last_error());
    CHECK(same_message_everywhere(MPI_COMM_WORLD),
          "%s: the ranks' messages differ: %s", what, nn_mpi_last_error());
    CHECK(!needle || strstr(nn_mpi_last_error(), needle),
          "%s: the message '%s' does not name '%s'", what,
          nn_mpi_last_error(), needle);
}

/* libnn's version as this program shows it to libnn_mpi: the real one,
 * or (when armed) another on the last rank, as a rank that loaded
 * another libnn would. */
static int fake_version;

unsigned nn_version_number(void)
{
    static unsigned (*real)(void);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "nn_version_number");
    return real() + (fake_version && rank == size - 1 ? 100u : 0u);
}

static void differing_models_are_refused_on_every_rank(void **state)
{
    data d;
    int k;
    char needle[64];
    (void)state;
    make_data(&d, 0);
    if (size == 1) {
        nn_model *m = model_of(CFG_ADAM);
        CHECK_OK(nn_mpi_check_models(world, m));
        nn_model_free(m);
    }
    for (k = 0; k < 5 && size > 1; k++) {
        nn_model *m = model_of(CFG_ADAM);
        size_t len0, len1;
        unsigned char *before, *after;
        const char *what = "";
        if (rank == size - 1) {
            float w[IN * 12];
            switch (k) {
            case 0: /* a layer of another width */
                nn_model_free(m);
                m = model_of_width(CFG_ADAM, 13);
                break;
            case 1: /* another learning rate */
                NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE,
                                                 0.02));
                break;
            case 2: /* other weights */
                NN_OK_OR_FAIL(nn_model_get_weights(m, 0, w, IN * 12));
                w[5] += 1.0f;
                NN_OK_OR_FAIL(nn_model_set_weights(m, 0, w, IN * 12));
                break;
            case 3: /* the optimizer's state: one step more */
                NN_OK_OR_FAIL(nn_model_train_batch_labels(m, 4, d.x, IN,
                                                          d.y, NULL));
                break;
            default: /* another libnn version */
                break;
            }
        }
        fake_version = k == 4;
        what = k == 0   ? "layer 0's width"
               : k == 1 ? "learning_rate"
               : k == 2 ? "the parameters' values"
               : k == 3 ? "the step count"
                        : "different versions of libnn";
        before = checkpoint(m, &len0);
        refused_everywhere(what, nn_mpi_fit(world, m, d.train, NULL, NULL,
                                            NULL, NULL),
                           NN_E_STATE, what);
        if (k < 4) {
            snprintf(needle, sizeof needle, "rank %d", size - 1);
            CHECK(strstr(nn_mpi_last_error(), needle),
                  "'%s' does not name the rank", nn_mpi_last_error());
        }
        refused_everywhere(what, nn_mpi_evaluate(world, m, d.train, NULL,
                                                 NULL),
                           NN_E_STATE, what);
        fake_version = 0;
        after = checkpoint(m, &len1);
        CHECK(len0 == len1 && memcmp(before, after, len0) == 0,
              "%s: a refused fit changed the model", what);
        if (rank == 0 && k == 0)
            printf("  %s\n", nn_mpi_last_error());
        free(before);
        free(after);
        nn_model_free(m);
    }
    free_data(&d);
    end_test();
}

static void a_row_that_is_not_finite_is_refused_on_every_rank(void **s)
{
    data d;
    nn_model *m = NULL;
    size_t len0, len1, n = local_rows(rank);
    unsigned char *before, *after;
    double loss;
    (void)s;
    make_data(&d, 0);
    if (rank == 0)
        m = model_of(CFG_ADAMW);
    CHECK_OK(nn_mpi_broadcast_model(world, &m));
    CHECK_OK(nn_mpi_train_batch_labels(world, m, n, d.x, IN, d.y, &loss));
    before = checkpoint(m, &len0);
    /* the last rank's first row holds a NaN */
    if (rank == size - 1)
        d.x[2] = NAN;
    refused_everywhere("a NaN row", nn_mpi_train_batch_labels(
                           world, m, n, d.x, IN, d.y, &loss),
                       NN_E_NONFINITE, NULL);
    after = checkpoint(m, &len1);
    CHECK(len0 == len1 && memcmp(before, after, len0) == 0,
          "a refused step changed the model");
    free(after);
    /* in a fit: an infinite row somewhere in the first epoch's order */
    d.x[2] = 0.5f;
    d.x[7 * IN] = INFINITY;
    refused_everywhere("an infinite row in fit",
                       nn_mpi_fit(world, m, d.train, NULL, NULL, NULL, NULL),
                       NN_E_NONFINITE, NULL);
    {
        size_t np;
        const float *p = nn_model_params(m, &np);
        CHECK(same_everywhere(p, np * sizeof(float), MPI_COMM_WORLD),
              "after a refused fit, the ranks' parameters differ");
    }
    free(before);
    nn_model_free(m);
    free_data(&d);
    end_test();
}

static void a_failure_on_one_rank_is_every_ranks(void **state)
{
    data d;
    nn_model *m = NULL, *loaded = (nn_model *)&d;
    size_t n = local_rows(rank);
    char needle[32], bad[300];
    (void)state;
    make_data(&d, 0);
    if (rank == 0)
        m = model_of(CFG_SGD);
    CHECK_OK(nn_mpi_broadcast_model(world, &m));
    snprintf(needle, sizeof needle, "rank %d", size - 1);
    /* the last rank gives a width that is not the model's */
    refused_everywhere("x_width", nn_mpi_train_batch_labels(
                           world, m, n, d.x, rank == size - 1 ? 5 : IN, d.y,
                           NULL),
                       NN_E_SHAPE, size > 1 ? needle : "x_width");
    /* a label out of range on the last rank: found inside libnn's pass,
     * before its first reduction */
    if (rank == size - 1 && n)
        d.y[0] = 7;
    if (size > 1)
        refused_everywhere("a label", nn_mpi_train_batch_labels(
                               world, m, n ? n : 1, d.x, IN, d.y, NULL),
                           NN_E_INVALID, needle);
    d.y[0] = 0;
    /* the last rank has no model */
    refused_everywhere("a NULL model",
                       nn_mpi_fit(world, rank == size - 1 ? NULL : m,
                                  d.train, NULL, NULL, NULL, NULL),
                       NN_E_NULL, NULL);
    /* no rows anywhere */
    if (size > 1)
        refused_everywhere("no rows", nn_mpi_train_batch_labels(
                               world, m, 0, NULL, IN, NULL, NULL),
                           NN_E_INVALID, "empty");
    else
        CHECK(nn_mpi_train_batch_labels(world, m, 0, NULL, IN, NULL, NULL)
                  != NN_OK, "no rows on one rank");
    /* rank 0 cannot write the file, nor read one */
    snprintf(bad, sizeof bad, "%s/no/such/dir/m.nn", tmpdir);
    refused_everywhere("save", nn_mpi_save(world, m, bad, NN_SAVE_MODEL),
                       NN_E_IO, "no/such/dir");
    refused_everywhere("load", nn_mpi_load(world, bad, &loaded), NN_E_IO,
                       "no/such/dir");
    CHECK(loaded == NULL, "a failed load left *out set");
    nn_model_free(m);
    free_data(&d);
    end_test();
}

/* MPI_Allreduce as libnn_mpi sees it: the real one (PMPI), or, when
 * armed, a call MPI refuses (a negative count), so that the error comes
 * from MPI itself through the communicator's error handler. */
static int fail_allreduce_at; /* fail the nth call from arming (0: never) */

int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count,
                  MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
    if (fail_allreduce_at && --fail_allreduce_at == 0)
        count = -1;
    return PMPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm);
}

static void mpi_errors_are_statuses_with_mpis_text(void **state)
{
    data d;
    nn_model *m = NULL;
    char text[MPI_MAX_ERROR_STRING];
    int len, i;
    (void)state;
    make_data(&d, 0);
    MPI_Error_string(MPI_ERR_COUNT, text, &len);
    if (rank == 0)
        m = model_of(CFG_NESTEROV);
    CHECK_OK(nn_mpi_broadcast_model(world, &m));
    /* the check's 1st and 5th calls, then the first step's gradient
     * all-reduce (7th; one process makes only the check's: its fit is
     * libnn's alone) */
    for (i = 0; i < (size > 1 ? 3 : 2); i++) {
        static const int calls[3] = {1, 5, 7};
        int at = calls[i];
        size_t len0, len1;
        unsigned char *before = checkpoint(m, &len0), *after;
        nn_status st;
        fail_allreduce_at = at;
        st = nn_mpi_fit(world, m, d.train, NULL, NULL, NULL, NULL);
        fail_allreduce_at = 0;
        CHECK(st == NN_E_REDUCE, "call %d: %s (%s)", at, nn_status_string(st),
              nn_mpi_last_error());
        CHECK(strstr(nn_mpi_last_error(), text) &&
                  strstr(nn_mpi_last_error(), "MPI_Allreduce"),
              "call %d: '%s' lacks MPI's text '%s'", at, nn_mpi_last_error(),
              text);
        after = checkpoint(m, &len1);
        CHECK(len0 == len1 && memcmp(before, after, len0) == 0,
              "call %d: the failed fit changed the model", at);
        free(before);
        free(after);
    }
    if (rank == 0)
        printf("  %s\n", nn_mpi_last_error());
    /* and the context still works */
    CHECK_OK(nn_mpi_fit(world, m, d.train, NULL, NULL, NULL, NULL));
    nn_model_free(m);
    free_data(&d);
    end_test();
}

static void bad_arguments_are_refused(void **state)
{
    nn_mpi *c = (nn_mpi *)&c;
    nn_model *m = NULL;
    double v;
    data d;
    (void)state;
    make_data(&d, 0);
    /* not collective: a NULL context is refused where it is given */
    {
        static const struct {
            const char *name;
            int which;
        } table[] = {{"check_models", 0}, {"broadcast_model", 1},
                     {"train_batch", 2},  {"train_batch_labels", 3},
                     {"fit", 4},          {"fit_resume", 5},
                     {"evaluate", 6},     {"save", 7},
                     {"load", 8},         {"get_stat", 9}};
        size_t i;
        for (i = 0; i < ARRAY_LEN(table); i++) {
            nn_status st;
            switch (table[i].which) {
            case 0: st = nn_mpi_check_models(NULL, m); break;
            case 1: st = nn_mpi_broadcast_model(NULL, &m); break;
            case 2: st = nn_mpi_train_batch(NULL, m, 1, d.x, IN, d.t, OUT,
                                            NULL); break;
            case 3: st = nn_mpi_train_batch_labels(NULL, m, 1, d.x, IN, d.y,
                                                   NULL); break;
            case 4: st = nn_mpi_fit(NULL, m, d.train, NULL, NULL, NULL,
                                    NULL); break;
            case 5: st = nn_mpi_fit_resume(NULL, m, d.train, NULL, NULL,
                                           NULL, NULL); break;
            case 6: st = nn_mpi_evaluate(NULL, m, d.train, NULL, NULL);
                break;
            case 7: st = nn_mpi_save(NULL, m, "x", NN_SAVE_MODEL); break;
            case 8: st = nn_mpi_load(NULL, "x", &m); break;
            default: st = nn_mpi_get_stat(NULL, NN_MPI_STAT_REPAIRS, &v);
                break;
            }
            CHECK(st == NN_E_NULL && strstr(nn_mpi_last_error(), "ctx"),
                  "%s with a NULL ctx: %s (%s)", table[i].name,
                  nn_status_string(st), nn_mpi_last_error());
        }
    }
    CHECK(nn_mpi_create(NULL, MPI_COMM_WORLD) == NN_E_NULL, "create(NULL)");
    CHECK(nn_mpi_create(&c, MPI_COMM_NULL) == NN_E_INVALID && c == NULL,
          "create on MPI_COMM_NULL");
    CHECK(nn_mpi_get_stat(world, NN_MPI_STAT_REPAIRS, NULL) == NN_E_NULL,
          "get_stat NULL value");
    CHECK(nn_mpi_get_stat(world, (nn_mpi_stat)0, &v) == NN_E_INVALID,
          "get_stat key 0");
    CHECK(nn_mpi_get_stat(world, (nn_mpi_stat)7, &v) == NN_E_INVALID,
          "get_stat key 7");
    CHECK(nn_mpi_set_allocator(count_malloc, NULL, NULL) == NN_E_NULL,
          "half an allocator");
    CHECK(nn_mpi_rank(NULL) == 0 && nn_mpi_size(NULL) == 0, "NULL ctx");
    CHECK(nn_mpi_rank(world) == (size_t)rank &&
              nn_mpi_size(world) == (size_t)size, "rank and size");
    CHECK(nn_mpi_version_number() == NN_VERSION_NUMBER, "version");
    nn_mpi_free(NULL);
    nn_mpi_reset_stats(NULL);
    /* collective: rank 0 without a model to broadcast */
    refused_everywhere("broadcast of nothing",
                       nn_mpi_broadcast_model(world, &m), NN_E_NULL,
                       "*model");
    refused_everywhere("broadcast into NULL",
                       nn_mpi_broadcast_model(world, NULL), NN_E_NULL,
                       "model");
    refused_everywhere("check of NULL", nn_mpi_check_models(world, NULL),
                       NN_E_NULL, "model is NULL");
    refused_everywhere("load into NULL", nn_mpi_load(world, "x", NULL),
                       NN_E_NULL, "out");
    free_data(&d);
    end_test();
}

/* ---- allocation failures (rank 0's) ---- */

static counter ctr;

/* A create, a broadcast, a fit, an evaluation, a save and a load, with the
 * k-th allocation of rank 0 (libnn's and libnn_mpi's, counted together)
 * failing. Returns the status every rank got. */
static nn_status oom_sequence(long k, const data *d, const char *path)
{
    nn_mpi *c = NULL;
    nn_model *m = NULL, *l = NULL;
    nn_status st;
    memset(&ctr, 0, sizeof ctr);
    if (rank == 0) {
        ctr.fail_at = k;
        NN_OK_OR_FAIL(nn_set_allocator(count_malloc, count_free, &ctr));
        NN_OK_OR_FAIL(nn_mpi_set_allocator(count_malloc, count_free, &ctr));
    }
    st = nn_mpi_create(&c, MPI_COMM_WORLD);
    if (st == NN_OK) {
        if (rank == 0) {
            st = nn_model_create(&m, IN, 5);
            if (st == NN_OK)
                st = nn_model_add_dense(m, 5, NN_ACT_RELU);
            if (st == NN_OK)
                st = nn_model_add_dense(m, OUT, NN_ACT_SOFTMAX);
            if (st == NN_OK)
                st = nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY);
            if (st == NN_OK)
                st = nn_model_set_param(m, NN_PARAM_EPOCHS, 1);
            if (st != NN_OK) { /* make it fail in the broadcast */
                nn_model_free(m);
                m = NULL;
            }
        }
        st = nn_mpi_broadcast_model(c, &m);
        if (st == NN_OK)
            st = nn_mpi_fit(c, m, d->train, d->val, NULL, NULL, NULL);
        if (st == NN_OK)
            st = nn_mpi_evaluate(c, m, d->val, NULL, NULL);
        if (st == NN_OK)
            st = nn_mpi_save(c, m, path, NN_SAVE_CHECKPOINT);
        if (st == NN_OK)
            st = nn_mpi_load(c, path, &l);
        CHECK(st == NN_OK || st == NN_E_NOMEM || st == NN_E_NULL,
              "allocation %ld: %s (%s)", k, nn_status_string(st),
              nn_mpi_last_error());
        CHECK(same_message_everywhere(MPI_COMM_WORLD),
              "allocation %ld: the ranks' messages differ", k);
        nn_model_free(l);
        nn_model_free(m);
        nn_mpi_free(c);
    } else {
        CHECK(c == NULL, "a failed create left a context");
        CHECK(st == NN_E_NOMEM, "create: %s", nn_status_string(st));
    }
    if (rank == 0) {
        NN_OK_OR_FAIL(nn_set_allocator(NULL, NULL, NULL));
        NN_OK_OR_FAIL(nn_mpi_set_allocator(NULL, NULL, NULL));
        CHECK(ctr.live == 0, "allocation %ld: %ld blocks leaked", k,
              ctr.live);
    }
    return st;
}

static void every_allocation_failure_is_every_ranks(void **state)
{
    data d;
    char path[300];
    long k;
    int failed = 0;
    (void)state;
    make_data(&d, 0);
    snprintf(path, sizeof path, "%s/oom.nn", tmpdir);
    for (k = 1; k < 2000; k++) {
        nn_status st = oom_sequence(k, &d, path);
        int same = same_everywhere(&st, sizeof st, MPI_COMM_WORLD);
        CHECK(same, "allocation %ld: the ranks' statuses differ", k);
        if (!same || st == NN_OK)
            break;
        failed++;
    }
    CHECK(failed > 10, "only %d allocations failed", failed);
    if (rank == 0)
        printf("  %d allocations of rank 0 failed in turn, each refused "
               "on every rank\n", failed);
    free_data(&d);
    end_test();
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fit_is_the_single_process_fit),
        cmocka_unit_test(train_batch_is_one_step_on_the_ranks_rows),
        cmocka_unit_test(evaluate_gives_every_rank_the_whole_sets),
        cmocka_unit_test(checkpoint_of_two_ranks_resumes_on_three_and_on_one),
        cmocka_unit_test(differing_models_are_refused_on_every_rank),
        cmocka_unit_test(a_row_that_is_not_finite_is_refused_on_every_rank),
        cmocka_unit_test(a_failure_on_one_rank_is_every_ranks),
        cmocka_unit_test(mpi_errors_are_statuses_with_mpis_text),
        cmocka_unit_test(bad_arguments_are_refused),
        cmocka_unit_test(every_allocation_failure_is_every_ranks),
    };
    int rc;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    /* one thread of BLAS per rank, as the ranks share the cores */
    if (nn_set_blas_threads(1) != NN_OK)
        fprintf(stderr, "nn_set_blas_threads: %s\n", nn_last_error());
    if (rank == 0) {
        snprintf(tmpdir, sizeof tmpdir, "%s/nn_mpi_test.XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(tmpdir))
            tmpdir[0] = '\0';
    } else {
        /* only rank 0 reports; every rank's failures go to stderr */
        if (!freopen("/dev/null", "w", stdout))
            return 1;
    }
    MPI_Bcast(tmpdir, sizeof tmpdir, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (nn_mpi_create(&world, MPI_COMM_WORLD) != NN_OK) {
        fprintf(stderr, "nn_mpi_create: %s\n", nn_mpi_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (rank == 0)
        printf("libnn_mpi on %d rank%s\n", size, size > 1 ? "s" : "");
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    nn_mpi_free(world);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (tmpdir[0] && system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    MPI_Finalize();
    return rc;
}
