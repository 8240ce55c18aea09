/* SPDX-License-Identifier: MIT */
/*
 * bench_mpi.c - the data-parallel training step of libnn_mpi: step time,
 * samples/s and the share of the step spent reducing, for a global batch
 * split among the ranks of mpirun (docs/SCALING.md; bench/mpi.sh runs the
 * comparisons).
 *
 *   mpirun -np P bench_mpi [--net mlp|wide] [--batch 256] [--threads T]
 *                          [--steps S] [--blocks B] [--modes LIST]
 *
 * Nets: mlp 784-1024-1024-10 (relu, softmax, cross-entropy), wide
 * 4096-4096-4096 (relu, identity, MSE); SGD with momentum 0.9, so that
 * every P takes the same optimizer path (one process without momentum
 * folds the update into its products; replicas cannot). Each rank holds
 * batch/P rows of every global batch of `batch` rows.
 *
 * Modes, timed in interleaved blocks of S steps (median over B blocks):
 *   lib      nn_mpi_train_batch: libnn_mpi's step (one MPI_Allreduce of
 *            the flat gradient after the backward pass, then its check
 *            that every rank got the same bits)
 *   after    the same without the check: libnn's replica hooks with one
 *            plain MPI_Allreduce (what the check costs is lib - after)
 *   overlap  libnn's grads_ready hook starts an MPI_Iallreduce of each
 *            layer's gradients as soon as the backward pass has formed
 *            them (MPI_Testall at each later layer to progress them);
 *            the gradient reducer waits for them all
 * With one rank, the modes are the plain nn_model_train_batch_labels.
 * Prints one line per mode: ms per step, samples/s, ms in the gradient
 * reduction and its share of the step (rank 0's figures).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_mpi.h"

static int rank, size;

/* ---- the bench's own reducers, on libnn's hooks ---- */

enum { MAX_LAYERS = 16 };

typedef struct hooks {
    MPI_Comm comm;
    float *grads;
    MPI_Request req[MAX_LAYERS];
    int n_req;
    int overlap;
    double reduce_seconds; /* in the gradient reducer (the waiting) */
} hooks;

static int sum_doubles(void *user, double *v, size_t n)
{
    hooks *h = (hooks *)user;
    return MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_DOUBLE, MPI_SUM,
                         h->comm) != MPI_SUCCESS;
}

static void on_ready(void *user, size_t layer, size_t offset, size_t count)
{
    hooks *h = (hooks *)user;
    (void)layer;
    if (!h->overlap || h->n_req >= MAX_LAYERS)
        return;
    if (h->n_req > 0) { /* let the earlier ones move */
        int done;
        MPI_Testall(h->n_req, h->req, &done, MPI_STATUSES_IGNORE);
    }
    MPI_Iallreduce(MPI_IN_PLACE, h->grads + offset, (int)count, MPI_FLOAT,
                   MPI_SUM, h->comm, &h->req[h->n_req++]);
}

static int sum_grads(void *user, float *g, size_t n)
{
    hooks *h = (hooks *)user;
    double t0 = MPI_Wtime();
    int rc;
    if (h->overlap) {
        rc = MPI_Waitall(h->n_req, h->req, MPI_STATUSES_IGNORE);
        h->n_req = 0;
    } else {
        rc = MPI_Allreduce(MPI_IN_PLACE, g, (int)n, MPI_FLOAT, MPI_SUM,
                           h->comm);
    }
    h->reduce_seconds += MPI_Wtime() - t0;
    return rc != MPI_SUCCESS;
}

/* ---- the run ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "rank %d: %s: %s\n", rank, what, msg);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

int main(int argc, char **argv)
{
    const char *net = "mlp", *modes = "lib,after,overlap";
    size_t batch = 256, threads = 1, in, widths[3], i;
    int steps = 5, blocks = 5, b, mode, n_modes = 3, use[3] = {0, 0, 0};
    static const char *const mode_name[3] = {"lib", "after", "overlap"};
    double *t_step[3], *t_red[3];
    nn_mpi *ctx;
    nn_model *m = NULL;
    float *x;
    int32_t *y;
    size_t first, n, np;
    hooks h;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (b = 1; b < argc; b++) {
        if (!strcmp(argv[b], "--net") && b + 1 < argc)
            net = argv[++b];
        else if (!strcmp(argv[b], "--batch") && b + 1 < argc)
            batch = (size_t)atol(argv[++b]);
        else if (!strcmp(argv[b], "--threads") && b + 1 < argc)
            threads = (size_t)atol(argv[++b]);
        else if (!strcmp(argv[b], "--steps") && b + 1 < argc)
            steps = atoi(argv[++b]);
        else if (!strcmp(argv[b], "--blocks") && b + 1 < argc)
            blocks = atoi(argv[++b]);
        else if (!strcmp(argv[b], "--modes") && b + 1 < argc)
            modes = argv[++b];
        else {
            if (rank == 0)
                fprintf(stderr, "usage: bench_mpi [--net mlp|wide] "
                        "[--batch N] [--threads T] [--steps S] "
                        "[--blocks B] [--modes lib,after,overlap]\n");
            MPI_Finalize();
            return 1;
        }
    }
    for (mode = 0; mode < n_modes; mode++)
        use[mode] = strstr(modes, mode_name[mode]) != NULL;
    if (size == 1) /* one process: the modes are the same call */
        use[1] = use[2] = 0, use[0] = 1;
    if (nn_set_blas_threads(threads) != NN_OK)
        die("nn_set_blas_threads", nn_last_error());
    if (!strcmp(net, "wide")) {
        in = 4096;
        widths[0] = 4096;
        widths[1] = 4096;
    } else {
        in = 784;
        widths[0] = 1024;
        widths[1] = 1024;
        widths[2] = 10;
    }
    if (nn_mpi_create(&ctx, MPI_COMM_WORLD) != NN_OK)
        die("nn_mpi_create", nn_mpi_last_error());
    if (rank == 0) {
        int wide = !strcmp(net, "wide");
        if (nn_model_create(&m, in, 1) != NN_OK ||
            nn_model_add_dense(m, widths[0], NN_ACT_RELU) != NN_OK ||
            (wide ? nn_model_add_dense(m, widths[1], NN_ACT_IDENTITY)
                  : nn_model_add_dense(m, widths[1], NN_ACT_RELU)) !=
                NN_OK ||
            (!wide && nn_model_add_dense(m, widths[2], NN_ACT_SOFTMAX) !=
                          NN_OK) ||
            nn_model_set_loss(m, wide ? NN_LOSS_MSE
                                      : NN_LOSS_CROSS_ENTROPY) != NN_OK ||
            nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 1e-3) != NN_OK ||
            nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.9) != NN_OK)
            die("building the model", nn_last_error());
    }
    if (nn_mpi_broadcast_model(ctx, &m) != NN_OK)
        die("nn_mpi_broadcast_model", nn_mpi_last_error());
    (void)nn_model_params(m, &np);

    /* this rank's rows of every global batch */
    first = batch * (size_t)rank / (size_t)size;
    n = batch * (size_t)(rank + 1) / (size_t)size - first;
    {
        size_t out = nn_model_output_width(m);
        int wide = !strcmp(net, "wide");
        x = (float *)malloc((n ? n : 1) * in * sizeof *x);
        y = (int32_t *)malloc((n ? n : 1) * sizeof *y);
        if (!x || !y)
            die("malloc", "out of memory");
        for (i = 0; i < n * in; i++)
            x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
        for (i = 0; i < n; i++)
            y[i] = (int32_t)((first + i) % 10);
        if (wide) { /* MSE: targets of the output's width */
            float *t = (float *)malloc((n ? n : 1) * out * sizeof *t);
            if (!t)
                die("malloc", "out of memory");
            for (i = 0; i < n * out; i++)
                t[i] = (float)((i * 40503u) % 100) / 100.0f;
            free(y);
            y = (int32_t *)(void *)t;
        }
    }

    memset(&h, 0, sizeof h);
    h.comm = MPI_COMM_WORLD;
    h.grads = nn_model_grads(m, NULL);
    for (mode = 0; mode < n_modes; mode++) {
        t_step[mode] = (double *)calloc((size_t)blocks, sizeof(double));
        t_red[mode] = (double *)calloc((size_t)blocks, sizeof(double));
    }
    /* blocks: one warm-up, then the timed ones, modes interleaved */
    for (b = -1; b < blocks; b++) {
        for (mode = 0; mode < n_modes; mode++) {
            double t0, red0 = 0.0, red1 = 0.0, sums0 = 0.0, sums1 = 0.0;
            int s;
            if (!use[mode])
                continue;
            if (mode > 0) { /* the bench's own hooks */
                h.overlap = mode == 2;
                h.reduce_seconds = 0.0;
                if (nn_model_set_reducer(m, sum_doubles, &h) != NN_OK ||
                    nn_model_set_replica(m, (size_t)rank, (size_t)size,
                                         sum_grads, &h) != NN_OK ||
                    nn_model_set_grads_ready(m, h.overlap ? on_ready : NULL,
                                             &h) != NN_OK ||
                    nn_model_set_batch_part(m, first, batch) != NN_OK)
                    die("the hooks", nn_last_error());
            }
            if (nn_mpi_get_stat(ctx, NN_MPI_STAT_GRAD_SECONDS, &red0) !=
                    NN_OK ||
                nn_mpi_get_stat(ctx, NN_MPI_STAT_SUM_SECONDS, &sums0) !=
                    NN_OK)
                die("nn_mpi_get_stat", nn_mpi_last_error());
            MPI_Barrier(MPI_COMM_WORLD);
            t0 = MPI_Wtime();
            for (s = 0; s < steps; s++) {
                nn_status st;
                if (mode == 0 && !strcmp(net, "wide"))
                    st = nn_mpi_train_batch(ctx, m, n, x, in,
                                            (const float *)(void *)y,
                                            nn_model_output_width(m), NULL);
                else if (mode == 0)
                    st = nn_mpi_train_batch_labels(ctx, m, n, x, in, y,
                                                   NULL);
                else if (!strcmp(net, "wide"))
                    st = nn_model_train_batch(m, n, x, in,
                                              (const float *)(void *)y,
                                              nn_model_output_width(m),
                                              NULL);
                else
                    st = nn_model_train_batch_labels(m, n, x, in, y, NULL);
                if (st != NN_OK)
                    die(mode_name[mode], mode == 0 ? nn_mpi_last_error()
                                                   : nn_last_error());
            }
            MPI_Barrier(MPI_COMM_WORLD);
            if (b >= 0) {
                t_step[mode][b] = (MPI_Wtime() - t0) / steps;
                if (mode == 0) {
                    if (nn_mpi_get_stat(ctx, NN_MPI_STAT_GRAD_SECONDS,
                                        &red1) != NN_OK ||
                        nn_mpi_get_stat(ctx, NN_MPI_STAT_SUM_SECONDS,
                                        &sums1) != NN_OK)
                        die("nn_mpi_get_stat", nn_mpi_last_error());
                    t_red[mode][b] = (red1 - red0 + sums1 - sums0) / steps;
                } else {
                    t_red[mode][b] = h.reduce_seconds / steps;
                }
            }
            if (mode > 0 &&
                (nn_model_set_replica(m, 0, 0, NULL, NULL) != NN_OK ||
                 nn_model_set_batch_part(m, 0, 0) != NN_OK ||
                 nn_model_set_grads_ready(m, NULL, NULL) != NN_OK ||
                 nn_model_set_reducer(m, NULL, NULL) != NN_OK))
                die("removing the hooks", nn_last_error());
        }
    }
    if (rank == 0) {
        printf("# net %s (%zu parameters, %.1f MB of gradients), global "
               "batch %zu, %d rank%s x %zu BLAS thread%s, %d blocks of %d "
               "steps\n", net, np, 4.0 * (double)np / 1e6, batch, size,
               size > 1 ? "s" : "", threads, threads > 1 ? "s" : "", blocks,
               steps);
        printf("%-8s %10s %12s %14s %8s\n", "mode", "ms/step", "samples/s",
               "ms reducing", "share");
        for (mode = 0; mode < n_modes; mode++) {
            double ts, tr;
            if (!use[mode])
                continue;
            ts = median(t_step[mode], blocks);
            tr = median(t_red[mode], blocks);
            printf("%-8s %10.2f %12.1f %14.2f %7.1f%%\n",
                   size == 1 ? "single" : mode_name[mode], 1e3 * ts,
                   (double)batch / ts, 1e3 * tr, 100.0 * tr / ts);
        }
    }
    for (mode = 0; mode < n_modes; mode++) {
        free(t_step[mode]);
        free(t_red[mode]);
    }
    free(x);
    free(y);
    nn_model_free(m);
    nn_mpi_free(ctx);
    MPI_Finalize();
    return 0;
}
