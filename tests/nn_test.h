/* SPDX-License-Identifier: MIT */
/*
 * nn_test.h - what several test programs share. Include after <cmocka.h>
 * and "nn.h".
 */
#ifndef NN_TEST_H
#define NN_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Asserts that a libnn call succeeded, printing its message if not. */
#define NN_OK_OR_FAIL(call)                                                 \
    do {                                                                    \
        nn_status st_ = (call);                                             \
        if (st_ != NN_OK)                                                   \
            print_error("%s failed: %s (%s)\n", #call,                      \
                        nn_status_string(st_), nn_last_error());            \
        assert_int_equal(st_, NN_OK);                                       \
    } while (0)

/* Asserts |got - want| <= rel * |want|, printing both on failure. */
static inline void assert_rel_close(const char *what, double got,
                                    double want, double rel)
{
    double err = fabs(got - want) / fabs(want);
    if (!(err <= rel))
        print_error("%s: got %.17g, want %.17g (relative error %.3g > %.3g)\n",
                    what, got, want, err, rel);
    assert_true(err <= rel);
}

/* Deterministic values in [lo, hi) from a linear congruential generator
 * started at seed. */
static inline void lcg_fill(float *v, size_t n, float lo, float hi,
                            uint32_t seed)
{
    size_t i;
    for (i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = lo + (hi - lo) * (float)(seed >> 8) / 16777216.0f;
    }
}

/* splitmix64: a fixed generator for the test data. */
typedef struct {
    uint64_t s;
} test_rng;

static inline uint64_t rng_next(test_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 bits. */
static inline double rng_unit(test_rng *r)
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

/* A model of input width `in` with `nl` dense layers, the loss (none if
 * 0) and the learning rate set. */
static inline nn_model *build_model(size_t in, uint64_t seed,
                                    const size_t *widths,
                                    const nn_activation *acts, size_t nl,
                                    nn_loss loss, double lr)
{
    nn_model *m = NULL;
    size_t l;
    NN_OK_OR_FAIL(nn_model_create(&m, in, seed));
    assert_non_null(m);
    for (l = 0; l < nl; l++)
        NN_OK_OR_FAIL(nn_model_add_dense(m, widths[l], acts[l]));
    if (loss != 0)
        NN_OK_OR_FAIL(nn_model_set_loss(m, loss));
    NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, lr));
    return m;
}

/* A counting allocator for nn_set_allocator(count_malloc, count_free,
 * &counter) that can also fail a chosen allocation. */
typedef struct counter {
    long allocs, frees, live;
    long fail_at;   /* 0: never; k: the kth allocation from arming fails */
    size_t largest; /* largest request seen */
    size_t total;   /* bytes of every request */
} counter;

static inline void *count_malloc(void *ctx, size_t size)
{
    counter *c = (counter *)ctx;
    void *p;
    c->allocs++;
    c->total += size;
    if (size > c->largest)
        c->largest = size;
    if (c->fail_at && c->allocs == c->fail_at)
        return NULL;
    /* A request no test machine can meet is refused here, as malloc would
     * refuse it, without asking malloc (sanitizers abort on such sizes). */
    if (size > ((size_t)1 << 40))
        return NULL;
    p = malloc(size);
    if (p) /* a request the system refuses leaves nothing to free */
        c->live++;
    return p;
}

static inline void count_free(void *ctx, void *ptr)
{
    counter *c = (counter *)ctx;
    c->frees++;
    c->live--;
    free(ptr);
}

#endif /* NN_TEST_H */
