/* SPDX-License-Identifier: MIT */
/*
 * nn_mpi.c - libnn_mpi: the context, its reductions on MPI, and the
 * data-parallel calls of nn_mpi.h, built on libnn's public API alone
 * (nn_model_set_reducer, nn_model_set_replica, nn_model_set_batch_part,
 * checkpoints in memory).
 *
 * Two rules shape every collective call here:
 *
 * 1. No rank is left waiting. A call that fails on one rank before it
 *    reaches the first collective operation of a libnn pass (a bad
 *    argument, an allocation, a file) would leave the others blocked in
 *    that operation. So every call ends its local part with an agreement
 *    (agree: one MPI_Allreduce of "lowest failing rank and its status"),
 *    and the calls that hand the model to libnn arm a "first reduction"
 *    agreement: the first reduction libnn asks for begins with the same
 *    small all-reduce, which a rank whose libnn call failed early joins
 *    from finish() instead. Every rank then knows who failed and why, and
 *    returns that status with that rank's message.
 *
 * 2. Every rank gets the same bits. libnn needs every replica's sums to
 *    be bit-identical (else the replicas' parameters drift apart). MPI
 *    does not promise that of MPI_Allreduce (MPI-3.1 5.9.1 only advises
 *    it). Open MPI's algorithms do give it: each element's sum is formed
 *    once and passed on (ring, reduce-scatter + allgather, reduce +
 *    bcast), or formed pairwise in an order that differs only by the
 *    commutation of one addition, which is exact in IEEE arithmetic
 *    (recursive doubling). Rather than rely on that, each reduction is
 *    followed by a check: a 64-bit hash of the result, compared with one
 *    16-byte all-reduce (the maximum of h and of ~h: all equal exactly
 *    when max h == ~max ~h); on a difference rank 0's result is
 *    broadcast and counted (NN_MPI_STAT_REPAIRS; tests/mpi asserts it
 *    stays 0 on Open MPI with 2, 3 and 4 ranks). Small sums (losses,
 *    flags, batch statistics) are instead gathered and added in rank
 *    order on every rank: the same bits by construction, in one call.
 *    The check's cost is one small all-reduce and one read of the buffer
 *    (0.12 ms for the 7.5 MB of 784-1024-1024-10 here, with AVX2, against
 *    a step of about 30 ms); a fixed-order scheme (reduce to a root, then
 *    broadcast) would instead pass the whole buffer through one root's
 *    link twice on every step, where a ring all-reduce spreads
 *    2 (P-1) / P of it over every link.
 *
 * Why the gradients are summed in one MPI_Allreduce after the backward
 * pass, not layer by layer as libnn's grads_ready hook offers them
 * (overlapping communication with the backward pass, as PyTorch's DDP
 * does): bench/bench_mpi measured both on this machine (2 cores shared
 * with other jobs, Open MPI 4.1 over shared memory, 2 ranks of one BLAS
 * thread, global batch 256; bench/mpi.sh, 5 interleaved rounds, results
 * in bench/results/mpi-506c323.txt), as ms per step, median:
 *
 *                       one MPI_Allreduce   per-layer MPI_Iallreduce
 *   784-1024-1024-10         37.1                  47.2
 *   4096-4096-4096         2889                  3930
 *
 * Open MPI progresses a non-blocking collective only inside MPI calls
 * (no progress thread), and the backward pass gives it a chance only
 * between layers (MPI_Testall in the hook), so most of the transfer still
 * happens after the last layer, now in pieces, each with its own
 * start-up, while the progress calls steal time from the products.
 * docs/SCALING.md works out, from the measured compute, at which batch
 * a network's all-reduce would stop being hidden if it could overlap.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_mpi.h"

/* ---- allocator and message (libnn_mpi's only global state) ---- */

static void *default_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void default_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

nn_malloc_fn nn_mpi__alloc_fn = default_malloc;
nn_free_fn nn_mpi__free_fn = default_free;
void *nn_mpi__alloc_ctx = NULL;

enum { MSG_SIZE = 1024 };
_Thread_local char nn_mpi__msg[MSG_SIZE];

static void *alloc(size_t size)
{
    return nn_mpi__alloc_fn(nn_mpi__alloc_ctx, size ? size : 1);
}

static void release(void *p)
{
    if (p)
        nn_mpi__free_fn(nn_mpi__alloc_ctx, p);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static nn_status fail(nn_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(nn_mpi__msg, sizeof nn_mpi__msg, fmt, ap);
    va_end(ap);
    return st;
}

/* A libnn call failed: its message, under fn's name. */
static nn_status fail_core(nn_status st, const char *fn)
{
    return fail(st, "%s: %s", fn, nn_last_error());
}

unsigned nn_mpi_version_number(void)
{
    return NN_VERSION_NUMBER;
}

const char *nn_mpi_last_error(void)
{
    return nn_mpi__msg;
}

nn_status nn_mpi_set_allocator(nn_malloc_fn alloc_fn, nn_free_fn free_fn,
                               void *ctx)
{
    if (!alloc_fn != !free_fn)
        return fail(NN_E_NULL, "nn_mpi_set_allocator: %s is NULL and %s is "
                    "not", alloc_fn ? "free_fn" : "alloc_fn",
                    alloc_fn ? "alloc_fn" : "free_fn");
    nn_mpi__alloc_fn = alloc_fn ? alloc_fn : default_malloc;
    nn_mpi__free_fn = free_fn ? free_fn : default_free;
    nn_mpi__alloc_ctx = alloc_fn ? ctx : NULL;
    return NN_OK;
}

/* ---- the context ---- */

struct nn_mpi {
    MPI_Comm comm; /* the duplicate, with MPI_ERRORS_RETURN */
    int rank, size;
    /* The next reduction libnn asks for first agrees that every rank got
     * there (rule 1 above). */
    int pending;
    /* What the agreement found: 0, or the lowest failing rank * 64 + its
     * status + 1; reductions then fail at once, without communicating,
     * on every rank alike. */
    int aborted;
    /* The first MPI failure in a reduction of the current call. */
    int mpi_failed;
    char mpi_msg[MPI_MAX_ERROR_STRING + 64];
    double stats[7]; /* by nn_mpi_stat */
    /* Scratch of the reductions, allocated with the context so that a
     * reduction never allocates (a failed allocation on one rank would
     * leave the others waiting): GATHER doubles for small sums, and a
     * (rows, status) pair per rank for nn_mpi_train_batch. */
    double *gather;
    uint64_t *rows;
};

/* Small sums (count x ranks up to this many doubles) are gathered and
 * added in rank order on every rank: the same bits by construction, in
 * one collective operation, with no check needed. */
enum { GATHER = 4096 };

/* rc is an MPI call's result: 0 on success; else the call's name and
 * MPI's text for rc in c->mpi_msg, and 1. */
static int mpi_error(nn_mpi *c, int rc, const char *call)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (rc == MPI_SUCCESS)
        return 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "MPI error code %d", rc);
    if (!c->mpi_failed)
        snprintf(c->mpi_msg, sizeof c->mpi_msg, "%s failed: %s", call, text);
    c->mpi_failed = 1;
    return 1;
}

static nn_status fail_mpi(nn_mpi *c, const char *fn)
{
    c->mpi_failed = 0;
    return fail(NN_E_REDUCE, "%s: %s", fn, c->mpi_msg);
}

/* The largest count one MPI call is given: counts are int. */
#define MPI_PIECE ((size_t)1 << 30)

static int bcast_bytes(nn_mpi *c, void *buf, size_t size, int root)
{
    size_t off;
    for (off = 0; off < size; off += MPI_PIECE) {
        size_t n = size - off < MPI_PIECE ? size - off : MPI_PIECE;
        if (mpi_error(c, MPI_Bcast((char *)buf + off, (int)n, MPI_BYTE, root,
                                   c->comm), "MPI_Bcast"))
            return 1;
    }
    return 0;
}

/* Rule 1: every rank's outcome of its local part. mine is this rank's
 * status (its message in nn_mpi__msg). Returns NN_OK on every rank if all
 * succeeded; else, on every rank, the status of the lowest failing rank
 * and its message, prefixed with fn and that rank. */
static nn_status settle(nn_mpi *c, const char *fn, int code);

static nn_status agree(nn_mpi *c, const char *fn, nn_status mine)
{
    int code = mine == NN_OK ? INT_MAX : c->rank * 64 + (int)mine;
    if (mpi_error(c, MPI_Allreduce(MPI_IN_PLACE, &code, 1, MPI_INT, MPI_MIN,
                                   c->comm), "MPI_Allreduce"))
        return fail_mpi(c, fn);
    return settle(c, fn, code);
}

/* code: the agreed key * 64 + status, or INT_MAX; the key is the rank
 * whose message every rank takes, plus a multiple of the size (a key
 * lets a rank with the more telling message come first). */
static nn_status settle(nn_mpi *c, const char *fn, int code)
{
    char text[MSG_SIZE];
    int who, st;
    if (code == INT_MAX)
        return NN_OK;
    who = code / 64 % c->size;
    st = code % 64;
    if (who == c->rank)
        memcpy(text, nn_mpi__msg, sizeof text);
    if (bcast_bytes(c, text, sizeof text, who))
        return fail_mpi(c, fn);
    text[sizeof text - 1] = '\0';
    if (c->size == 1)
        return fail((nn_status)st, "%s", text);
    return fail((nn_status)st, "%s (on rank %d; every rank refused the "
                "call)", text, who);
}

nn_status nn_mpi_create(nn_mpi **out, MPI_Comm comm)
{
    static const char fn[] = "nn_mpi_create";
    int flag = 0, inter = 0;
    nn_mpi tmp, *c;
    nn_status mine = NN_OK;
    if (!out)
        return fail(NN_E_NULL, "%s: out is NULL", fn);
    *out = NULL;
    if (MPI_Initialized(&flag) != MPI_SUCCESS || !flag)
        return fail(NN_E_STATE, "%s: MPI is not initialised (call MPI_Init "
                    "first)", fn);
    if (MPI_Finalized(&flag) != MPI_SUCCESS || flag)
        return fail(NN_E_STATE, "%s: MPI is already finalised", fn);
    if (comm == MPI_COMM_NULL)
        return fail(NN_E_INVALID, "%s: comm is MPI_COMM_NULL", fn);
    if (MPI_Comm_test_inter(comm, &inter) != MPI_SUCCESS || inter)
        return fail(NN_E_INVALID, "%s: comm is an intercommunicator; a "
                    "context needs an intracommunicator", fn);
    memset(&tmp, 0, sizeof tmp);
    /* errors of MPI_Comm_dup go to comm's own handler: the caller's */
    if (mpi_error(&tmp, MPI_Comm_dup(comm, &tmp.comm), "MPI_Comm_dup"))
        return fail(NN_E_REDUCE, "%s: %s", fn, tmp.mpi_msg);
    if (mpi_error(&tmp, MPI_Comm_set_errhandler(tmp.comm, MPI_ERRORS_RETURN),
                  "MPI_Comm_set_errhandler") ||
        mpi_error(&tmp, MPI_Comm_rank(tmp.comm, &tmp.rank), "MPI_Comm_rank") ||
        mpi_error(&tmp, MPI_Comm_size(tmp.comm, &tmp.size), "MPI_Comm_size")) {
        MPI_Comm_free(&tmp.comm);
        return fail(NN_E_REDUCE, "%s: %s", fn, tmp.mpi_msg);
    }
    /* the context and its scratch in one block */
    c = (nn_mpi *)alloc(sizeof *c + GATHER * sizeof(double) +
                        2 * (size_t)tmp.size * sizeof(uint64_t));
    if (!c)
        mine = fail(NN_E_NOMEM, "%s: allocating the context for %d ranks "
                    "failed", fn, tmp.size);
    /* every rank agrees, one whose allocation failed too */
    mine = agree(&tmp, fn, mine);
    if (mine != NN_OK) {
        MPI_Comm_free(&tmp.comm);
        release(c);
        return mine;
    }
    *c = tmp;
    c->gather = (double *)(void *)(c + 1);
    c->rows = (uint64_t *)(void *)(c->gather + GATHER);
    *out = c;
    return NN_OK;
}

void nn_mpi_free(nn_mpi *ctx)
{
    int done = 1;
    if (!ctx)
        return;
    if (MPI_Finalized(&done) == MPI_SUCCESS && !done)
        MPI_Comm_free(&ctx->comm);
    release(ctx);
}

size_t nn_mpi_rank(const nn_mpi *ctx)
{
    return ctx ? (size_t)ctx->rank : 0;
}

size_t nn_mpi_size(const nn_mpi *ctx)
{
    return ctx ? (size_t)ctx->size : 0;
}

nn_status nn_mpi_get_stat(const nn_mpi *ctx, nn_mpi_stat key, double *value)
{
    if (!ctx || !value)
        return fail(NN_E_NULL, "nn_mpi_get_stat: %s is NULL",
                    ctx ? "value" : "ctx");
    if ((int)key < NN_MPI_STAT_GRAD_REDUCES || (int)key > NN_MPI_STAT_REPAIRS)
        return fail(NN_E_INVALID, "nn_mpi_get_stat: key %d is not an "
                    "nn_mpi_stat", (int)key);
    *value = ctx->stats[key];
    return NN_OK;
}

void nn_mpi_reset_stats(nn_mpi *ctx)
{
    if (ctx)
        memset(ctx->stats, 0, sizeof ctx->stats);
}

/* ---- reductions (rule 2) ---- */

/* A hash of n bytes in eight 32-bit lanes, each lane (h ^ w) * odd: a
 * bijection of h for every word w and of w for every h, so buffers that
 * differ in one word always hash apart. Eight independent lanes
 * vectorise: with AVX2, 7.5 MB (784-1024-1024-10's gradients) take 0.12
 * ms here, 1.3 ms without (x86-64's baseline has no 32-bit vector
 * multiply), so on x86-64 with GCC it is compiled for both and the loader
 * picks (as libnn does for its kernels; integer arithmetic, the same
 * result either way). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    defined(__linux__) && !defined(__SANITIZE_THREAD__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
static uint64_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    uint32_t lane[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)n;
    size_t i, j, blocks = n / 32;
    for (i = 0; i < blocks; i++) {
        uint32_t w[8];
        memcpy(w, b + 32 * i, 32);
        for (j = 0; j < 8; j++)
            lane[j] = (lane[j] ^ w[j]) * 0x9e3779b1u;
    }
    for (i = blocks * 32; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    for (j = 0; j < 8; j++)
        h = (h ^ lane[j]) * 0x100000001b3ull;
    return h;
}

/* Sums count elements of type t (size el bytes) at buf over the ranks, in
 * place, and makes sure every rank holds the same bits. 0, or 1 with
 * c->mpi_msg set. */
static int sum_same(nn_mpi *c, void *buf, size_t count, MPI_Datatype t,
                    size_t el)
{
    uint64_t h[2];
    size_t off;
    for (off = 0; off < count; off += MPI_PIECE) {
        size_t n = count - off < MPI_PIECE ? count - off : MPI_PIECE;
        if (mpi_error(c, MPI_Allreduce(MPI_IN_PLACE, (char *)buf + off * el,
                                       (int)n, t, MPI_SUM, c->comm),
                      "MPI_Allreduce"))
            return 1;
    }
    h[0] = hash_bytes(buf, count * el);
    h[1] = ~h[0];
    if (mpi_error(c, MPI_Allreduce(MPI_IN_PLACE, h, 2, MPI_UINT64_T, MPI_MAX,
                                   c->comm), "MPI_Allreduce"))
        return 1;
    if (h[0] != ~h[1]) { /* not the same everywhere: take rank 0's */
        c->stats[NN_MPI_STAT_REPAIRS] += 1.0;
        return bcast_bytes(c, buf, count * el, 0);
    }
    return 0;
}

/* The first reduction of an armed call (rule 1): every rank that got here
 * says so; a rank whose libnn call failed before says so from finish().
 * 0 if all are here. */
static int arrive(nn_mpi *c)
{
    int code = INT_MAX;
    c->pending = 0;
    if (mpi_error(c, MPI_Allreduce(MPI_IN_PLACE, &code, 1, MPI_INT, MPI_MIN,
                                   c->comm), "MPI_Allreduce"))
        return 1;
    if (code != INT_MAX) {
        c->aborted = code + 1;
        return 1;
    }
    return 0;
}

/* nn_reduce_fn: libnn's double sums (losses, batch statistics, flags). */
static int reduce_sums(void *user, double *values, size_t count)
{
    nn_mpi *c = (nn_mpi *)user;
    double t0;
    int rc;
    if (c->aborted || c->mpi_failed)
        return 1;
    if (c->pending && arrive(c))
        return 1;
    t0 = MPI_Wtime();
    if (count * (size_t)c->size <= GATHER) {
        size_t i;
        int r;
        rc = mpi_error(c, MPI_Allgather(values, (int)count, MPI_DOUBLE,
                                        c->gather, (int)count, MPI_DOUBLE,
                                        c->comm), "MPI_Allgather");
        for (i = 0; i < count && !rc; i++) {
            double sum = 0.0;
            for (r = 0; r < c->size; r++)
                sum += c->gather[(size_t)r * count + i];
            values[i] = sum;
        }
    } else {
        rc = sum_same(c, values, count, MPI_DOUBLE, sizeof(double));
    }
    c->stats[NN_MPI_STAT_SUM_REDUCES] += 1.0;
    c->stats[NN_MPI_STAT_SUM_SECONDS] += MPI_Wtime() - t0;
    return rc;
}

/* nn_reduce_grads_fn: the flat gradient buffer, in one all-reduce after
 * the backward pass (the file's first comment says why). */
static int reduce_grads(void *user, float *grads, size_t count)
{
    nn_mpi *c = (nn_mpi *)user;
    double t0;
    int rc;
    if (c->aborted || c->mpi_failed)
        return 1;
    if (c->pending && arrive(c))
        return 1;
    t0 = MPI_Wtime();
    rc = sum_same(c, grads, count, MPI_FLOAT, sizeof(float));
    c->stats[NN_MPI_STAT_GRAD_REDUCES] += 1.0;
    c->stats[NN_MPI_STAT_GRAD_BYTES] += (double)count * sizeof(float);
    c->stats[NN_MPI_STAT_GRAD_SECONDS] += MPI_Wtime() - t0;
    return rc;
}

/* Gives the model this context's reducers and arms rule 1's agreement. */
static void attach(nn_mpi *c, nn_model *m)
{
    nn_status st;
    c->pending = 1;
    c->aborted = 0;
    c->mpi_failed = 0;
    st = nn_model_set_reducer(m, reduce_sums, c);
    if (st == NN_OK)
        st = nn_model_set_replica(m, (size_t)c->rank, (size_t)c->size,
                                  reduce_grads, c);
    (void)st; /* fails only for a NULL model, which callers rule out */
}

static void detach(nn_model *m)
{
    nn_status st = nn_model_set_replica(m, 0, 0, NULL, NULL);
    if (st == NN_OK)
        st = nn_model_set_batch_part(m, 0, 0);
    if (st == NN_OK)
        st = nn_model_set_reducer(m, NULL, NULL);
    (void)st;
}

/* After the libnn call of an armed call returned st (its message in
 * nn_last_error when st is not NN_OK). Returns the status every rank
 * returns, with the message set. */
static nn_status finish(nn_mpi *c, const char *fn, nn_status st)
{
    int code;
    if (st != NN_OK && !c->mpi_failed)
        fail_core(st, fn);
    if (c->pending) {
        /* this rank made no reduction: the others' first one waits for
         * this agreement (if they made one) */
        c->pending = 0;
        return agree(c, fn, st);
    }
    if (c->aborted) {
        code = c->aborted - 1;
        c->aborted = 0;
        return settle(c, fn, code);
    }
    if (c->mpi_failed)
        return fail_mpi(c, fn);
    if (st == NN_E_NONFINITE) {
        /* libnn refused the step on every rank alike, each with its own
         * message: take, everywhere, that of the lowest rank whose own
         * rows gave the value (the others' say "another part") */
        int own = !strstr(nn_mpi__msg, "another part");
        code = ((own ? 0 : c->size) + c->rank) * 64 + (int)st;
        if (mpi_error(c, MPI_Allreduce(MPI_IN_PLACE, &code, 1, MPI_INT,
                                       MPI_MIN, c->comm), "MPI_Allreduce"))
            return fail_mpi(c, fn);
        return settle(c, fn, code);
    }
    return st;
}

/* ---- the models' agreement ---- */

/* What nn_mpi_check_models compares, one uint64 each. */
typedef enum field_kind {
    F_INPUT_WIDTH,
    F_LAYERS,
    F_LOSS,
    F_OPTIMIZER,
    F_SCHEDULE,
    F_CLASS_WEIGHTS,
    F_META,
    F_STEPS,
    F_HEADER_END, /* the fields above: a fixed count */
    F_LAYER_KIND,
    F_LAYER_WIDTH,
    F_LAYER_ACT,
    F_LAYER_PARAM,
    F_PARAM,
    F_CLASS_WEIGHT_VALUES,
    F_PARAMETERS,
    F_CHECKPOINT
} field_kind;

typedef struct field {
    uint64_t v;
    int kind, layer, key;
} field;

/* The number of keys an enum has: its names count up from 1. */
static int count_params(void)
{
    int k = 1;
    while (nn_param_name((nn_param)k))
        k++;
    return k - 1;
}

static int count_layer_params(void)
{
    int k = 1;
    while (nn_layer_param_name((nn_layer_param)k))
        k++;
    return k - 1;
}

static uint64_t bits_of(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* "absent": a layer setting its kind does not have (no double has these
 * bits from a getter: a NaN payload libnn never makes). */
#define ABSENT 0x7ff8dead0000beefull

static void describe(const field *f, char *name, size_t name_size,
                     uint64_t v, char *val, size_t val_size)
{
    double d;
    memcpy(&d, &v, sizeof d);
    switch (f->kind) {
    case F_INPUT_WIDTH:
        snprintf(name, name_size, "the input width");
        break;
    case F_LAYERS:
        snprintf(name, name_size, "the number of layers");
        break;
    case F_LOSS:
        snprintf(name, name_size, "the loss");
        break;
    case F_OPTIMIZER:
        snprintf(name, name_size, "the optimizer");
        break;
    case F_SCHEDULE:
        snprintf(name, name_size, "the schedule");
        break;
    case F_CLASS_WEIGHTS:
        snprintf(name, name_size, "the number of class weights");
        break;
    case F_META:
        snprintf(name, name_size, "the number of metadata keys");
        break;
    case F_STEPS:
        snprintf(name, name_size, "the step count");
        break;
    case F_LAYER_KIND:
        snprintf(name, name_size, "layer %d's kind", f->layer);
        break;
    case F_LAYER_WIDTH:
        snprintf(name, name_size, "layer %d's width", f->layer);
        break;
    case F_LAYER_ACT:
        snprintf(name, name_size, "layer %d's activation", f->layer);
        break;
    case F_LAYER_PARAM:
        snprintf(name, name_size, "layer %d's setting %s", f->layer,
                 nn_layer_param_name((nn_layer_param)f->key));
        break;
    case F_PARAM:
        snprintf(name, name_size, "the setting %s",
                 nn_param_name((nn_param)f->key));
        break;
    case F_CLASS_WEIGHT_VALUES:
        snprintf(name, name_size, "the class weights' values");
        break;
    case F_PARAMETERS:
        snprintf(name, name_size, "the parameters' values");
        break;
    default:
        snprintf(name, name_size, "the checkpoint's bytes (optimizer "
                 "state, generator, layer buffers, metadata or an "
                 "interrupted run)");
        break;
    }
    switch (f->kind) {
    case F_LOSS:
        snprintf(val, val_size, "%s", v ? nn_loss_name((nn_loss)v) : "none");
        break;
    case F_OPTIMIZER:
        snprintf(val, val_size, "%s", nn_optimizer_name((nn_optimizer)v));
        break;
    case F_SCHEDULE:
        snprintf(val, val_size, "%s", nn_schedule_name((nn_schedule)v));
        break;
    case F_LAYER_KIND:
        snprintf(val, val_size, "%s",
                 nn_layer_kind_name((nn_layer_kind)v));
        break;
    case F_LAYER_ACT:
        snprintf(val, val_size, "%s", v ? nn_activation_name(
                                              (nn_activation)v) : "none");
        break;
    case F_LAYER_PARAM:
    case F_PARAM:
        if (v == ABSENT)
            snprintf(val, val_size, "absent");
        else
            snprintf(val, val_size, "%.17g", d);
        break;
    case F_CLASS_WEIGHT_VALUES:
    case F_PARAMETERS:
    case F_CHECKPOINT:
        snprintf(val, val_size, "hash %016llx", (unsigned long long)v);
        break;
    default:
        snprintf(val, val_size, "%llu", (unsigned long long)v);
        break;
    }
}

/* The header: fields of a fixed count, compared before the body (whose
 * length depends on the number of layers). */
static void header_fields(const nn_model *m, field *f)
{
    size_t layers = nn_model_layer_count(m);
    int i;
    for (i = 0; i < F_HEADER_END; i++) {
        f[i].kind = i;
        f[i].layer = f[i].key = 0;
    }
    f[F_INPUT_WIDTH].v = nn_model_input_width(m);
    f[F_LAYERS].v = layers;
    f[F_LOSS].v = (uint64_t)nn_model_loss(m);
    f[F_OPTIMIZER].v = (uint64_t)nn_model_optimizer(m);
    f[F_SCHEDULE].v = (uint64_t)nn_model_schedule(m);
    f[F_CLASS_WEIGHTS].v = nn_model_class_weight_count(m);
    f[F_META].v = nn_model_meta_count(m);
    f[F_STEPS].v = nn_model_step_count(m);
}

static size_t body_count(const nn_model *m)
{
    return nn_model_layer_count(m) * (3 + (size_t)count_layer_params()) +
           (size_t)count_params() + 3;
}

/* The body; allocates a checkpoint for its hash. NN_OK or a status with
 * the message set. */
static nn_status body_fields(const char *fn, const nn_model *m, field *f)
{
    size_t l, layers = nn_model_layer_count(m), k = 0, size = 0, np = 0;
    int key, nlp = count_layer_params(), np_keys = count_params();
    unsigned char *ck;
    nn_status st;
    for (l = 0; l < layers; l++) {
        f[k].kind = F_LAYER_KIND;
        f[k].layer = (int)l;
        f[k++].v = (uint64_t)nn_model_layer_kind(m, l);
        f[k].kind = F_LAYER_WIDTH;
        f[k].layer = (int)l;
        f[k++].v = nn_model_layer_width(m, l);
        f[k].kind = F_LAYER_ACT;
        f[k].layer = (int)l;
        f[k++].v = (uint64_t)nn_model_layer_activation(m, l);
        for (key = 1; key <= nlp; key++) {
            double d;
            f[k].kind = F_LAYER_PARAM;
            f[k].layer = (int)l;
            f[k].key = key;
            f[k++].v = nn_model_get_layer_param(m, l, (nn_layer_param)key,
                                                &d) == NN_OK
                           ? bits_of(d)
                           : ABSENT;
        }
    }
    for (key = 1; key <= np_keys; key++) {
        double d = 0.0;
        f[k].kind = F_PARAM;
        f[k].key = key;
        f[k++].v = nn_model_get_param(m, (nn_param)key, &d) == NN_OK
                       ? bits_of(d)
                       : ABSENT;
    }
    {
        size_t cw = nn_model_class_weight_count(m);
        float *w = (float *)alloc(cw * sizeof(float));
        if (!w)
            return fail(NN_E_NOMEM, "%s: allocating %zu class weights "
                        "failed", fn, cw);
        if (cw && nn_model_get_class_weights(m, w, cw) != NN_OK) {
            release(w);
            return fail_core(NN_E_STATE, fn);
        }
        f[k].kind = F_CLASS_WEIGHT_VALUES;
        f[k++].v = hash_bytes(w, cw * sizeof(float));
        release(w);
    }
    {
        /* read only: nn_model_params takes a non-const model to give
         * writable access, which is not used here */
        const float *p = nn_model_params((nn_model *)(uintptr_t)m, &np);
        f[k].kind = F_PARAMETERS;
        f[k++].v = hash_bytes(p, np * sizeof(float));
    }
    st = nn_model_save_size(m, NN_SAVE_CHECKPOINT, &size);
    if (st != NN_OK)
        return fail_core(st, fn);
    ck = (unsigned char *)alloc(size);
    if (!ck)
        return fail(NN_E_NOMEM, "%s: allocating a checkpoint of %zu bytes "
                    "to compare failed", fn, size);
    st = nn_model_save_buffer(m, NN_SAVE_CHECKPOINT, ck, size, &size);
    if (st != NN_OK) {
        release(ck);
        return fail_core(st, fn);
    }
    f[k].kind = F_CHECKPOINT;
    f[k++].v = hash_bytes(ck, size);
    release(ck);
    return NN_OK;
}

/* Compares n fields with rank 0's: every rank learns the first field
 * that differs anywhere and the lowest rank where it does. */
static nn_status compare(nn_mpi *c, const char *fn, const field *f, size_t n,
                         uint64_t *scratch)
{
    size_t i, first = n;
    long long code;
    int who;
    uint64_t theirs;
    char name[160], v0[96], v1[96];
    for (i = 0; i < n; i++)
        scratch[i] = f[i].v;
    if (bcast_bytes(c, scratch, n * sizeof *scratch, 0))
        return fail_mpi(c, fn);
    for (i = 0; i < n && first == n; i++)
        if (scratch[i] != f[i].v)
            first = i;
    code = first == n ? LLONG_MAX
                      : (long long)first * c->size + c->rank;
    if (mpi_error(c, MPI_Allreduce(MPI_IN_PLACE, &code, 1, MPI_LONG_LONG,
                                   MPI_MIN, c->comm), "MPI_Allreduce"))
        return fail_mpi(c, fn);
    if (code == LLONG_MAX)
        return NN_OK;
    first = (size_t)(code / c->size);
    who = (int)(code % c->size);
    theirs = f[first].v;
    if (bcast_bytes(c, &theirs, sizeof theirs, who))
        return fail_mpi(c, fn);
    name[0] = '\0';
    describe(&f[first], name, sizeof name, theirs, v1, sizeof v1);
    describe(&f[first], name, sizeof name, scratch[first], v0, sizeof v0);
    return fail(NN_E_STATE, "%s: rank %d's model differs from rank 0's: "
                "%s is %s there, %s on rank 0 (nn_mpi_broadcast_model "
                "gives every rank rank 0's model)", fn, who, name, v1, v0);
}

static nn_status check_models(nn_mpi *c, const char *fn,
                              const nn_model *m)
{
    long long v[4];
    field head[F_HEADER_END], *body = NULL;
    uint64_t scratch[F_HEADER_END], *scr = NULL;
    size_t nb = 0;
    nn_status st = NN_OK;

    /* The versions first, in a fixed exchange that every libnn_mpi makes
     * alike: a mismatch must not make the exchanges after it differ. */
    v[0] = (long long)nn_version_number();
    v[1] = -v[0];
    v[2] = (long long)nn_mpi_version_number();
    v[3] = -v[2];
    if (mpi_error(c, MPI_Allreduce(MPI_IN_PLACE, v, 4, MPI_LONG_LONG,
                                   MPI_MAX, c->comm), "MPI_Allreduce"))
        return fail_mpi(c, fn);
    if (v[0] != -v[1] || v[2] != -v[3]) {
        int dif_nn = v[0] != -v[1];
        long long hi = dif_nn ? v[0] : v[2], lo = dif_nn ? -v[1] : -v[3];
        return fail(NN_E_STATE, "%s: the ranks run different versions of "
                    "%s: from %lld.%lld.%lld to %lld.%lld.%lld; every rank "
                    "needs the same", fn, dif_nn ? "libnn" : "libnn_mpi",
                    lo / 10000, lo / 100 % 100, lo % 100, hi / 10000,
                    hi / 100 % 100, hi % 100);
    }

    if (!m)
        st = fail(NN_E_NULL, "%s: model is NULL", fn);
    st = agree(c, fn, st);
    if (st != NN_OK)
        return st;
    header_fields(m, head);
    st = compare(c, fn, head, F_HEADER_END, scratch);
    if (st != NN_OK)
        return st;
    nb = body_count(m);
    body = (field *)alloc(nb * sizeof *body);
    scr = (uint64_t *)alloc(nb * sizeof *scr);
    if (!body || !scr)
        st = fail(NN_E_NOMEM, "%s: allocating %zu fields to compare "
                  "failed", fn, nb);
    else
        st = body_fields(fn, m, body);
    st = agree(c, fn, st);
    if (st == NN_OK)
        st = compare(c, fn, body, nb, scr);
    release(body);
    release(scr);
    return st;
}

nn_status nn_mpi_check_models(nn_mpi *ctx, const nn_model *model)
{
    if (!ctx)
        return fail(NN_E_NULL, "nn_mpi_check_models: ctx is NULL");
    return check_models(ctx, "nn_mpi_check_models", model);
}

/* ---- broadcast, save, load ---- */

static nn_status broadcast(nn_mpi *c, const char *fn, nn_model **model)
{
    unsigned char *buf = NULL;
    uint64_t size = 0;
    nn_model *got = NULL;
    nn_status st = NN_OK;
    size_t sz = 0;

    if (!model || (c->rank == 0 && !*model))
        st = fail(NN_E_NULL, "%s: %s is NULL", fn, model ? "*model" : "model");
    if (st == NN_OK && c->rank == 0) {
        st = nn_model_save_size(*model, NN_SAVE_CHECKPOINT, &sz);
        if (st == NN_OK) {
            buf = (unsigned char *)alloc(sz);
            if (!buf)
                st = fail(NN_E_NOMEM, "%s: allocating the model's "
                          "checkpoint (%zu bytes) failed", fn, sz);
            else if ((st = nn_model_save_buffer(*model, NN_SAVE_CHECKPOINT,
                                                buf, sz, &sz)) != NN_OK)
                fail_core(st, fn);
        } else {
            fail_core(st, fn);
        }
        size = sz;
    }
    st = agree(c, fn, st);
    if (st != NN_OK)
        goto done;
    if (bcast_bytes(c, &size, sizeof size, 0)) {
        st = fail_mpi(c, fn);
        goto done;
    }
    if (c->rank != 0) {
        if (size > SIZE_MAX)
            st = fail(NN_E_OVERFLOW, "%s: a model of %llu bytes does not "
                      "fit in memory here", fn, (unsigned long long)size);
        else if (!(buf = (unsigned char *)alloc((size_t)size)))
            st = fail(NN_E_NOMEM, "%s: allocating %llu bytes for rank 0's "
                      "model failed", fn, (unsigned long long)size);
    }
    st = agree(c, fn, st);
    if (st != NN_OK)
        goto done;
    if (bcast_bytes(c, buf, (size_t)size, 0)) {
        st = fail_mpi(c, fn);
        goto done;
    }
    if (c->rank != 0) {
        st = nn_model_load_buffer(&got, buf, (size_t)size);
        if (st != NN_OK)
            fail_core(st, fn);
    }
    st = agree(c, fn, st);
    if (st != NN_OK)
        goto done;
    if (c->rank != 0) {
        nn_model_free(*model);
        *model = got;
        got = NULL;
    }
done:
    nn_model_free(got);
    release(buf);
    return st;
}

nn_status nn_mpi_broadcast_model(nn_mpi *ctx, nn_model **model)
{
    if (!ctx)
        return fail(NN_E_NULL, "nn_mpi_broadcast_model: ctx is NULL");
    return broadcast(ctx, "nn_mpi_broadcast_model", model);
}

nn_status nn_mpi_save(nn_mpi *ctx, const nn_model *model, const char *path,
                      nn_save_what what)
{
    static const char fn[] = "nn_mpi_save";
    nn_status st = NN_OK;
    if (!ctx)
        return fail(NN_E_NULL, "%s: ctx is NULL", fn);
    if (ctx->rank == 0) {
        st = nn_model_save(model, path, what);
        if (st != NN_OK)
            fail_core(st, fn);
    }
    return agree(ctx, fn, st);
}

nn_status nn_mpi_load(nn_mpi *ctx, const char *path, nn_model **out)
{
    static const char fn[] = "nn_mpi_load";
    nn_model *m = NULL;
    nn_status st = NN_OK;
    if (!ctx)
        return fail(NN_E_NULL, "%s: ctx is NULL", fn);
    if (out)
        *out = NULL;
    if (!out)
        st = fail(NN_E_NULL, "%s: out is NULL", fn);
    else if (ctx->rank == 0 && (st = nn_model_load(&m, path)) != NN_OK)
        fail_core(st, fn);
    st = agree(ctx, fn, st);
    if (st == NN_OK)
        st = broadcast(ctx, fn, &m);
    if (st != NN_OK) {
        nn_model_free(m);
        return st;
    }
    *out = m;
    return NN_OK;
}

/* ---- training and evaluation ---- */

typedef enum run_kind { RUN_FIT, RUN_RESUME, RUN_EVALUATE } run_kind;

static nn_status run(nn_mpi *c, const char *fn, run_kind kind,
                     nn_model *model, const nn_data *train,
                     const nn_data *val, nn_epoch_fn on_epoch,
                     nn_batch_fn on_batch, void *user, double *loss,
                     double *accuracy)
{
    nn_status st = check_models(c, fn, model);
    if (st != NN_OK)
        return st;
    if (c->size > 1)
        attach(c, model);
    switch (kind) {
    case RUN_FIT:
        st = nn_model_fit(model, train, val, on_epoch, on_batch, user);
        break;
    case RUN_RESUME:
        st = nn_model_fit_resume(model, train, val, on_epoch, on_batch,
                                 user);
        break;
    default:
        st = nn_model_evaluate(model, train, loss, accuracy);
        break;
    }
    if (c->size == 1)
        return st == NN_OK ? st : fail_core(st, fn);
    st = finish(c, fn, st);
    detach(model);
    return st;
}

nn_status nn_mpi_fit(nn_mpi *ctx, nn_model *model, const nn_data *train,
                     const nn_data *val, nn_epoch_fn on_epoch,
                     nn_batch_fn on_batch, void *user)
{
    if (!ctx)
        return fail(NN_E_NULL, "nn_mpi_fit: ctx is NULL");
    return run(ctx, "nn_mpi_fit", RUN_FIT, model, train, val, on_epoch,
               on_batch, user, NULL, NULL);
}

nn_status nn_mpi_fit_resume(nn_mpi *ctx, nn_model *model,
                            const nn_data *train, const nn_data *val,
                            nn_epoch_fn on_epoch, nn_batch_fn on_batch,
                            void *user)
{
    if (!ctx)
        return fail(NN_E_NULL, "nn_mpi_fit_resume: ctx is NULL");
    return run(ctx, "nn_mpi_fit_resume", RUN_RESUME, model, train, val,
               on_epoch, on_batch, user, NULL, NULL);
}

nn_status nn_mpi_evaluate(nn_mpi *ctx, nn_model *model, const nn_data *data,
                          double *loss, double *accuracy)
{
    if (!ctx)
        return fail(NN_E_NULL, "nn_mpi_evaluate: ctx is NULL");
    return run(ctx, "nn_mpi_evaluate", RUN_EVALUATE, model, data, NULL,
               NULL, NULL, NULL, loss, accuracy);
}

static nn_status step(nn_mpi *c, const char *fn, nn_model *model, size_t n,
                      const float *x, size_t x_width, const float *t,
                      size_t t_width, const int32_t *labels, int with_labels,
                      double *loss)
{
    static const float no_x[1] = {0.0f};
    static const int32_t no_label[1] = {0};
    uint64_t total = 0, first = 0;
    nn_status st = NN_OK;
    int r, code = INT_MAX;

    if (c->size == 1) {
        st = with_labels
                 ? nn_model_train_batch_labels(model, n, x, x_width, labels,
                                               loss)
                 : nn_model_train_batch(model, n, x, x_width, t, t_width,
                                        loss);
        return st == NN_OK ? st : fail_core(st, fn);
    }
    if (!model)
        st = fail(NN_E_NULL, "%s: model is NULL", fn);
    /* one exchange gives every rank the others' rows and whether they
     * can go on (rule 1, without a separate agreement) */
    c->rows[2 * c->rank] = n;
    c->rows[2 * c->rank + 1] = (uint64_t)st;
    if (mpi_error(c, MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL,
                                   c->rows, 2, MPI_UINT64_T, c->comm),
                  "MPI_Allgather"))
        return fail_mpi(c, fn);
    for (r = 0; r < c->size; r++) {
        if (c->rows[2 * r + 1] != 0 && code == INT_MAX)
            code = r * 64 + (int)c->rows[2 * r + 1];
        if (r < c->rank)
            first += c->rows[2 * r];
        total += c->rows[2 * r];
    }
    if (code != INT_MAX)
        return settle(c, fn, code);
    if (total == 0) {
        return fail(NN_E_INVALID, "%s: no rank has rows: the global batch "
                    "is empty", fn);
    }
    if (total > (uint64_t)INT_MAX) {
        return fail(NN_E_OVERFLOW, "%s: the ranks' rows add up to %llu, "
                    "more than one step can take (at most %d)", fn,
                    (unsigned long long)total, INT_MAX);
    }
    if (n == 0) {
        /* a rank without rows still takes part in the pass's reductions;
         * its place (no row of its own) is any row of the batch */
        if (first == total)
            first = total - 1;
        x = x ? x : no_x;
        t = t ? t : no_x;
        labels = labels ? labels : no_label;
    }
    attach(c, model);
    st = nn_model_set_batch_part(model, (size_t)first, (size_t)total);
    if (st == NN_OK)
        st = with_labels
                 ? nn_model_train_batch_labels(model, n, x, x_width, labels,
                                               loss)
                 : nn_model_train_batch(model, n, x, x_width, t, t_width,
                                        loss);
    st = finish(c, fn, st);
    detach(model);
    return st;
}

nn_status nn_mpi_train_batch(nn_mpi *ctx, nn_model *model, size_t n,
                             const float *x, size_t x_width, const float *t,
                             size_t t_width, double *loss)
{
    if (!ctx)
        return fail(NN_E_NULL, "nn_mpi_train_batch: ctx is NULL");
    return step(ctx, "nn_mpi_train_batch", model, n, x, x_width, t, t_width,
                NULL, 0, loss);
}

nn_status nn_mpi_train_batch_labels(nn_mpi *ctx, nn_model *model, size_t n,
                                    const float *x, size_t x_width,
                                    const int32_t *labels, double *loss)
{
    if (!ctx)
        return fail(NN_E_NULL, "nn_mpi_train_batch_labels: ctx is NULL");
    return step(ctx, "nn_mpi_train_batch_labels", model, n, x, x_width,
                NULL, 0, labels, 1, loss);
}
