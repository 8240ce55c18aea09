/* SPDX-License-Identifier: MIT */
/*
 * soak.c - libnn under a long random load, outside CI: threads that each,
 * again and again, build a random model (every layer kind, activation,
 * loss and optimizer), train it on random batches beside a twin, throw bad
 * calls at it, save and load it through memory and files, and predict
 * with it from other threads, checking all the while that
 *   - the twin, given the same calls, stays bit-identical (and a model
 *     loaded from a checkpoint goes on bit-identically),
 *   - every refused call leaves a checkpoint of the model byte for byte,
 *   - concurrent predictions on a shared model equal a lone thread's,
 *   - no allocation outlives its model (a counting allocator, checked
 *     when the run ends).
 *
 *   soak [--seconds N] [--threads N] [--seed N] [--dir DIR]
 *
 * Prints one line of counts every 60 s and a summary; exits 1 on the first
 * failed check (with what failed), 0 otherwise. See docs/RELIABILITY.md.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nn.h"

#define MAX_W 24
#define MAX_N 16

/* ---- a thread-safe counting allocator ---- */
static atomic_long live_blocks, allocations;

static void *soak_malloc(void *ctx, size_t size)
{
    void *p = malloc(size);
    (void)ctx;
    if (p) {
        atomic_fetch_add(&live_blocks, 1);
        atomic_fetch_add(&allocations, 1);
    }
    return p;
}

static void soak_free(void *ctx, void *p)
{
    (void)ctx;
    atomic_fetch_sub(&live_blocks, 1);
    free(p);
}

/* ---- counts ---- */
static atomic_long n_models, n_steps, n_rejected, n_saves, n_loads,
    n_predicts, n_shared_predicts, n_fits;
static atomic_int failed;
static const char *dir = "/tmp";
static double deadline;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "soak: %s:%d: ", __FILE__, __LINE__);            \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, " (last error: %s)\n", nn_last_error());         \
            atomic_store(&failed, 1);                                        \
            return -1;                                                       \
        }                                                                    \
    } while (0)

/* ---- random numbers (splitmix64) ---- */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t below(rng *r, size_t n)
{
    return (size_t)(next(r) % n);
}

static float unit(rng *r)
{
    return (float)(next(r) >> 40) / 16777216.0f;
}

/* ---- the random model ---- */
typedef struct recipe {
    uint64_t seed;
    size_t in, out, nl;
    int kinds[8], widths[8], acts[8];
    double rates[8];
    nn_loss loss;
    nn_optimizer opt;
    int amsgrad, centered;
    double lr, momentum, clip_value, smoothing;
} recipe;

static void draw_recipe(rng *r, recipe *c)
{
    static const nn_activation hidden[] = {
        NN_ACT_IDENTITY, NN_ACT_SIGMOID, NN_ACT_TANH, NN_ACT_RELU,
        NN_ACT_LEAKY_RELU, NN_ACT_GELU, NN_ACT_SILU, NN_ACT_SOFTPLUS,
        NN_ACT_ELU};
    size_t l, w;
    memset(c, 0, sizeof *c);
    c->seed = next(r);
    c->in = 1 + below(r, 8);
    c->out = 2 + below(r, 4);
    c->nl = 1 + below(r, 6);
    w = c->in;
    for (l = 0; l + 1 < c->nl; l++) {
        c->kinds[l] = 1 + (int)below(r, 6);
        if (c->kinds[l] == NN_KIND_SCALING && l > 0)
            c->kinds[l] = NN_KIND_DENSE;
        c->acts[l] = hidden[below(r, 9)];
        c->rates[l] = 0.5 * unit(r);
        if (c->kinds[l] == NN_KIND_DENSE)
            w = 1 + below(r, MAX_W - 1);
        c->widths[l] = (int)w;
    }
    c->kinds[c->nl - 1] = NN_KIND_DENSE;
    c->widths[c->nl - 1] = (int)c->out;
    c->loss = (nn_loss)(1 + below(r, 5));
    c->acts[c->nl - 1] = c->loss == NN_LOSS_CROSS_ENTROPY ? NN_ACT_SOFTMAX
                         : c->loss == NN_LOSS_BCE         ? NN_ACT_SIGMOID
                                                          : hidden[below(r, 9)];
    c->opt = (nn_optimizer)(1 + below(r, 4));
    c->amsgrad = (int)below(r, 2);
    c->centered = (int)below(r, 2);
    c->lr = 0.001 + 0.05 * unit(r);
    c->momentum = below(r, 2) ? 0.9 : 0.0;
    c->clip_value = below(r, 3) == 0 ? 0.5 : 0.0;
    c->smoothing = below(r, 3) == 0 ? 0.1 : 0.0;
}

static nn_status build(const recipe *c, nn_model **out)
{
    nn_model *m = NULL;
    float sc[MAX_W], sh[MAX_W];
    size_t l, j;
    nn_status st = nn_model_create(&m, c->in, c->seed);
    *out = NULL;
    for (j = 0; j < MAX_W; j++) {
        sc[j] = 0.5f + 0.1f * (float)j;
        sh[j] = 0.05f * (float)j;
    }
#define TRY(call) do { if (st == NN_OK) st = (call); } while (0)
    for (l = 0; l < c->nl; l++) {
        switch (c->kinds[l]) {
        case NN_KIND_DENSE:
            TRY(nn_model_add_dense(m, (size_t)c->widths[l],
                                   (nn_activation)c->acts[l]));
            break;
        case NN_KIND_DROPOUT:
            TRY(nn_model_add_dropout(m, c->rates[l]));
            break;
        case NN_KIND_BATCHNORM:
            TRY(nn_model_add_batchnorm(m));
            break;
        case NN_KIND_LAYERNORM:
            TRY(nn_model_add_layernorm(m));
            break;
        case NN_KIND_ACTIVATION:
            TRY(nn_model_add_activation(
                m, c->acts[l] == NN_ACT_SOFTMAX ? NN_ACT_TANH
                                                : (nn_activation)c->acts[l]));
            break;
        case NN_KIND_SCALING:
            TRY(nn_model_add_scaling(m, sc, sh, c->in));
            break;
        }
    }
    TRY(nn_model_set_loss(m, c->loss));
    TRY(nn_model_set_optimizer(m, c->opt));
    TRY(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, c->lr));
    TRY(nn_model_set_param(m, NN_PARAM_MOMENTUM, c->momentum));
    TRY(nn_model_set_param(m, NN_PARAM_AMSGRAD, c->amsgrad));
    TRY(nn_model_set_param(m, NN_PARAM_CENTERED, c->centered));
    TRY(nn_model_set_param(m, NN_PARAM_CLIP_VALUE, c->clip_value));
    if (c->loss == NN_LOSS_CROSS_ENTROPY)
        TRY(nn_model_set_param(m, NN_PARAM_LABEL_SMOOTHING, c->smoothing));
#undef TRY
    if (st != NN_OK) {
        nn_model_free(m);
        return st;
    }
    *out = m;
    return NN_OK;
}

/* ---- checks ---- */

static unsigned char *checkpoint(const nn_model *m, size_t *size)
{
    unsigned char *b;
    if (nn_model_save_size(m, NN_SAVE_CHECKPOINT, size) != NN_OK)
        return NULL;
    b = malloc(*size);
    if (b && nn_model_save_buffer(m, NN_SAVE_CHECKPOINT, b, *size, NULL) !=
                 NN_OK) {
        free(b);
        return NULL;
    }
    return b;
}

static int same_checkpoint(const nn_model *a, const nn_model *b)
{
    size_t na, nb;
    unsigned char *ca = checkpoint(a, &na), *cb = checkpoint(b, &nb);
    int same = ca && cb && na == nb && memcmp(ca, cb, na) == 0;
    free(ca);
    free(cb);
    return same;
}

static void batch(rng *r, const recipe *c, size_t n, float *x, float *t,
                  int32_t *lab)
{
    size_t i, j;
    for (i = 0; i < n * c->in; i++)
        x[i] = 4.0f * unit(r) - 2.0f;
    for (i = 0; i < n; i++) {
        lab[i] = (int32_t)below(r, c->out);
        for (j = 0; j < c->out; j++)
            t[i * c->out + j] =
                c->loss == NN_LOSS_CROSS_ENTROPY
                    ? (j == (size_t)lab[i] ? 1.0f : 0.0f)
                    : (c->loss == NN_LOSS_BCE ? unit(r)
                                              : 2.0f * unit(r) - 1.0f);
    }
}

/* A bad call: refused, and the model unchanged. */
static int bad_call(rng *r, nn_model *m, const recipe *c)
{
    float x[MAX_N * MAX_W], t[MAX_N * 8], y[MAX_N * 8];
    int32_t lab[MAX_N];
    size_t n0, n1;
    unsigned char *before = checkpoint(m, &n0), *after;
    nn_status st = NN_OK;
    batch(r, c, 4, x, t, lab);
    switch (below(r, 7)) {
    case 0:
        x[below(r, 4 * c->in)] = NAN;
        st = nn_model_train_batch(m, 4, x, c->in, t, c->out, NULL);
        break;
    case 1:
        x[0] = INFINITY;
        st = nn_model_train_batch(m, 4, x, c->in, t, c->out, NULL);
        break;
    case 2:
        st = nn_model_train_batch(m, 4, x, c->in + 1, t, c->out, NULL);
        break;
    case 3:
        st = nn_model_predict(m, 4, x, c->in, y, c->out + 1);
        break;
    case 4:
        st = nn_model_set_layer_param(m, below(r, c->nl),
                                      NN_LAYER_DROPOUT_RATE, 1.5);
        break;
    case 5: {
        nn_model *other = m; /* a failed load sets it to NULL */
        st = nn_model_load_buffer(&other, "junk", 4);
        CHECK(st == NN_E_FORMAT && other == NULL, "junk loaded");
        break;
    }
    default:
        st = nn_model_set_param(m, NN_PARAM_LEARNING_RATE, NAN);
        break;
    }
    after = checkpoint(m, &n1);
    if (st != NN_OK)
        atomic_fetch_add(&n_rejected, 1);
    CHECK(before && after, "a checkpoint could not be taken");
    CHECK(st == NN_OK || (n0 == n1 && memcmp(before, after, n0) == 0),
          "a refused call (status %d) changed the model", (int)st);
    free(before);
    free(after);
    return 0;
}

typedef struct shared {
    const nn_model *m;
    const float *x;
    size_t n, in, out;
    const float *want;
    int ok;
} shared;

static void *predict_thread(void *arg)
{
    shared *s = arg;
    float y[MAX_N * 8];
    int k;
    s->ok = 1;
    for (k = 0; k < 50; k++) {
        if (nn_model_predict(s->m, s->n, s->x, s->in, y, s->out) != NN_OK ||
            memcmp(y, s->want, s->n * s->out * sizeof(float)) != 0)
            s->ok = 0;
        atomic_fetch_add(&n_shared_predicts, 1);
    }
    return NULL;
}

/* One model's life. */
static int one_model(rng *r, int id)
{
    recipe c;
    nn_model *m = NULL, *twin = NULL;
    float x[MAX_N * MAX_W], t[MAX_N * 8], y[MAX_N * 8], y2[MAX_N * 8];
    int32_t lab[MAX_N];
    size_t steps = 20 + below(r, 200), s;
    char path[512];
    draw_recipe(r, &c);
    CHECK(build(&c, &m) == NN_OK && build(&c, &twin) == NN_OK,
          "building a model failed");
    atomic_fetch_add(&n_models, 1);
    for (s = 0; s < steps; s++) {
        size_t n = 2 + below(r, MAX_N - 1);
        nn_status a, b;
        int labels = c.loss == NN_LOSS_CROSS_ENTROPY && below(r, 2);
        batch(r, &c, n, x, t, lab);
        if (labels) {
            a = nn_model_train_batch_labels(m, n, x, c.in, lab, NULL);
            b = nn_model_train_batch_labels(twin, n, x, c.in, lab, NULL);
        } else {
            a = nn_model_train_batch(m, n, x, c.in, t, c.out, NULL);
            b = nn_model_train_batch(twin, n, x, c.in, t, c.out, NULL);
        }
        CHECK(a == b, "a model and its twin answered %d and %d", (int)a,
              (int)b);
        CHECK(a == NN_OK || a == NN_E_NONFINITE, "a step failed: %d",
              (int)a);
        atomic_fetch_add(&n_steps, 2);
        if (below(r, 5) == 0) {
            /* the same bad call on both: one that turns out good (a NaN
             * input that dropout or a relu removes) trains both alike */
            rng again = *r;
            if (bad_call(r, m, &c) != 0 || bad_call(&again, twin, &c) != 0)
                return -1;
        }
        if (below(r, 25) == 0) { /* through a checkpoint, and on */
            size_t size;
            unsigned char *bytes = checkpoint(m, &size);
            nn_model *back = NULL;
            CHECK(bytes != NULL, "saving to memory failed");
            atomic_fetch_add(&n_saves, 1);
            if (below(r, 2)) {
                snprintf(path, sizeof path, "%s/soak-%d.nn", dir, id);
                CHECK(nn_model_save(m, path, NN_SAVE_CHECKPOINT) == NN_OK,
                      "saving to %s failed", path);
                CHECK(nn_model_load(&back, path) == NN_OK, "loading failed");
                atomic_fetch_add(&n_saves, 1);
            } else {
                CHECK(nn_model_load_buffer(&back, bytes, size) == NN_OK,
                      "loading from memory failed");
            }
            atomic_fetch_add(&n_loads, 1);
            CHECK(same_checkpoint(m, back), "a loaded model differs");
            nn_model_free(twin);
            twin = back; /* the loaded copy goes on as the twin */
            free(bytes);
        }
        if (below(r, 10) == 0) {
            n = 1 + below(r, MAX_N);
            batch(r, &c, n, x, t, lab);
            CHECK(nn_model_predict(m, n, x, c.in, y, c.out) == NN_OK &&
                      nn_model_predict(twin, n, x, c.in, y2, c.out) ==
                          NN_OK,
                  "a prediction failed");
            CHECK(memcmp(y, y2, n * c.out * sizeof(float)) == 0,
                  "the twins predict differently");
            atomic_fetch_add(&n_predicts, 2);
        }
    }
    CHECK(same_checkpoint(m, twin), "the twins drifted apart");
    /* a short fit, interrupted by nothing, on both */
    {
        nn_data *d = NULL;
        size_t n = 12;
        batch(r, &c, n, x, t, lab);
        CHECK(nn_data_create(&d, n, x, c.in, t, c.out) == NN_OK, "data");
        CHECK(nn_model_set_param(m, NN_PARAM_EPOCHS, 2) == NN_OK &&
                  nn_model_set_param(twin, NN_PARAM_EPOCHS, 2) == NN_OK &&
                  nn_model_set_param(m, NN_PARAM_BATCH_SIZE, 5) == NN_OK &&
                  nn_model_set_param(twin, NN_PARAM_BATCH_SIZE, 5) == NN_OK,
              "settings");
        {
            nn_status a = nn_model_fit(m, d, d, NULL, NULL, NULL);
            nn_status b = nn_model_fit(twin, d, d, NULL, NULL, NULL);
            CHECK(a == b && (a == NN_OK || a == NN_E_NONFINITE),
                  "fit answered %d and %d", (int)a, (int)b);
        }
        atomic_fetch_add(&n_fits, 2);
        nn_data_free(d);
        CHECK(same_checkpoint(m, twin), "the twins drifted apart in fit");
    }
    /* predictions from three threads on the shared model */
    {
        pthread_t tid[3];
        shared sh[3];
        size_t n = 1 + below(r, MAX_N), k;
        batch(r, &c, n, x, t, lab);
        CHECK(nn_model_predict(m, n, x, c.in, y, c.out) == NN_OK, "predict");
        for (k = 0; k < 3; k++) {
            sh[k].m = m;
            sh[k].x = x;
            sh[k].n = n;
            sh[k].in = c.in;
            sh[k].out = c.out;
            sh[k].want = y;
            CHECK(pthread_create(&tid[k], NULL, predict_thread, &sh[k]) == 0,
                  "pthread_create");
        }
        for (k = 0; k < 3; k++) {
            pthread_join(tid[k], NULL);
            CHECK(sh[k].ok, "a concurrent prediction differed");
        }
    }
    nn_model_free(m);
    nn_model_free(twin);
    return 0;
}

typedef struct worker {
    int id;
    uint64_t seed;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    rng r;
    r.s = w->seed;
    while (now() < deadline && !atomic_load(&failed))
        if (one_model(&r, w->id) != 0)
            break;
    return NULL;
}

static void report(double t0)
{
    printf("%7.0f s: %ld models, %ld steps, %ld fit runs, %ld refused "
           "calls, %ld saves, %ld loads, %ld predictions (+%ld shared), "
           "%ld allocations\n", now() - t0, atomic_load(&n_models),
           atomic_load(&n_steps), atomic_load(&n_fits),
           atomic_load(&n_rejected), atomic_load(&n_saves),
           atomic_load(&n_loads), atomic_load(&n_predicts),
           atomic_load(&n_shared_predicts), atomic_load(&allocations));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    double seconds = 60.0, t0, next_report;
    int threads = 2, i;
    uint64_t seed = 1;
    pthread_t tid[64];
    worker w[64];
    for (i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--dir"))
            dir = argv[i + 1];
        else {
            fprintf(stderr, "usage: soak [--seconds N] [--threads N] "
                    "[--seed N] [--dir DIR]\n");
            return 2;
        }
    }
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "soak: --threads in [1, 64]\n");
        return 2;
    }
    if (nn_set_allocator(soak_malloc, soak_free, NULL) != NN_OK)
        return 1;
    t0 = now();
    deadline = t0 + seconds;
    next_report = t0 + 60.0;
    for (i = 0; i < threads; i++) {
        w[i].id = i;
        w[i].seed = seed * 1000003u + (uint64_t)i;
        if (pthread_create(&tid[i], NULL, work, &w[i]) != 0)
            return 1;
    }
    while (now() < deadline && !atomic_load(&failed)) {
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
        if (now() >= next_report) {
            report(t0);
            next_report += 60.0;
        }
    }
    for (i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    report(t0);
    for (i = 0; i < threads; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/soak-%d.nn", dir, i);
        unlink(path);
    }
    if (atomic_load(&failed))
        return 1;
    if (atomic_load(&live_blocks) != 0) {
        fprintf(stderr, "soak: %ld blocks still allocated at the end\n",
                atomic_load(&live_blocks));
        return 1;
    }
    printf("soak: no failed check, every block freed\n");
    return 0;
}
