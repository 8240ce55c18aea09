/* SPDX-License-Identifier: MIT */
/*
 * fashion_mnist_mpi.c - the Fashion-MNIST demo (fashion_mnist.c) trained
 * data-parallel with libnn_mpi: every rank reads the data, rank 0 builds
 * the 784-256-128-10 model and gives it to the others, and nn_mpi_fit
 * splits every batch of 128 among the ranks. The run is the
 * single-process demo's up to float rounding, whatever the number of
 * processes.
 *
 *   mpirun -np 2 fashion_mnist_mpi [--epochs N] [--batch N] [--lr X]
 *                                  [--threads N] [--seed N] [--data DIR]
 *                                  [--limit N] [--batchnorm]
 *                                  [--dropout P] [--save PATH]
 *
 * Defaults as fashion_mnist's: SGD with momentum 0.9, learning rate 0.05
 * annealed to 0 along a cosine, batch 128, 10 epochs, seed 1, the first
 * 55,000 training images to train and the last 5,000 to validate; one
 * BLAS thread per process. --save writes a checkpoint from rank 0 (load
 * it with nn_model_load, or nn_mpi_load on any number of processes).
 * Exit status: 0 success, 1 usage or libnn error, 2 missing data.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idx.h"
#include "nn_mpi.h"

#define PROG "fashion_mnist_mpi"
#define IMAGE_SIZE (28 * 28)
#define CLASSES 10
#define VALIDATION_ROWS 5000

static size_t rank;

typedef struct set {
    idx_images images;
    idx_labels labels;
} set;

/* Reads one pair of IDX files of dir; 0, or 2 with a message. */
static int load_set(const char *dir, const char *images, const char *labels,
                    set *s)
{
    char path[1024], msg[256];
    memset(s, 0, sizeof *s);
    snprintf(path, sizeof path, "%s/%s", dir, images);
    if (idx_read_images(path, 28, 28, &s->images, msg, sizeof msg) != IDX_OK)
        goto fail;
    snprintf(path, sizeof path, "%s/%s", dir, labels);
    if (idx_read_labels(path, CLASSES, &s->labels, msg, sizeof msg) != IDX_OK)
        goto fail;
    if (s->labels.count != s->images.count) {
        snprintf(msg, sizeof msg, "%zu labels for %zu images",
                 s->labels.count, s->images.count);
        goto fail;
    }
    return 0;
fail:
    fprintf(stderr, PROG ": rank %zu: %s: %s (Debian: apt-get install "
            "dataset-fashion-mnist)\n", rank, path, msg);
    idx_images_free(&s->images);
    idx_labels_free(&s->labels);
    return 2;
}

/* The model of fashion_mnist's default run, or NULL (with a message). */
static nn_model *build(uint64_t seed, int batchnorm, double dropout,
                       double lr, size_t epochs, size_t batch,
                       size_t train_rows)
{
    static const size_t hidden[2] = {256, 128};
    size_t h, steps = epochs * ((train_rows + batch - 1) / batch);
    nn_model *m = NULL;
    int ok = nn_model_create(&m, IMAGE_SIZE, seed) == NN_OK;
    for (h = 0; h < 2 && ok; h++) {
        ok = nn_model_add_dense(m, hidden[h], batchnorm ? NN_ACT_IDENTITY
                                                        : NN_ACT_RELU) ==
             NN_OK;
        if (ok && batchnorm)
            ok = nn_model_add_batchnorm(m) == NN_OK &&
                 nn_model_add_activation(m, NN_ACT_RELU) == NN_OK;
        if (ok && dropout > 0.0)
            ok = nn_model_add_dropout(m, dropout) == NN_OK;
    }
    ok = ok && nn_model_add_dense(m, CLASSES, NN_ACT_SOFTMAX) == NN_OK &&
         nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY) == NN_OK &&
         nn_model_set_param(m, NN_PARAM_LEARNING_RATE, lr) == NN_OK &&
         nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.9) == NN_OK &&
         nn_model_set_param(m, NN_PARAM_EPOCHS, (double)epochs) == NN_OK &&
         nn_model_set_param(m, NN_PARAM_BATCH_SIZE, (double)batch) ==
             NN_OK &&
         nn_model_set_schedule(m, NN_SCHED_COSINE) == NN_OK &&
         nn_model_set_param(m, NN_PARAM_SCHED_T_MAX, (double)steps) ==
             NN_OK;
    if (!ok) {
        fprintf(stderr, PROG ": building the model: %s\n", nn_last_error());
        nn_model_free(m);
        return NULL;
    }
    return m;
}

static int on_epoch(void *user, size_t epoch, double train_loss,
                    double val_loss, double val_accuracy, double seconds)
{
    const size_t *epochs = (const size_t *)user;
    /* every rank is called with the same values; rank 0 reports */
    if (rank == 0) {
        printf("epoch %2zu/%zu  loss %.4f  val_loss %.4f  val_acc %6.2f%%  "
               "%.1f s\n", epoch, *epochs, train_loss, val_loss,
               100.0 * val_accuracy, seconds);
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = "/usr/share/datasets/fashion-mnist", *save = NULL;
    size_t epochs = 10, batch = 128, threads = 1, limit = 0, train_rows,
           val_rows, size;
    double lr = 0.05, dropout = 0.0, loss, acc;
    uint64_t seed = 1;
    int batchnorm = 0, status = 1, i, local = 0, all = 0;
    set train, test;
    nn_mpi *ctx = NULL;
    nn_model *m = NULL;
    nn_data *train_data = NULL, *val_data = NULL, *test_data = NULL;
    nn_status st;

    MPI_Init(&argc, &argv);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--batchnorm")) {
            batchnorm = 1;
            continue;
        }
        if (!v || strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "usage: mpirun -np P " PROG " [--epochs N] "
                    "[--batch N] [--lr X] [--threads N] [--seed N] "
                    "[--data DIR] [--limit N] [--batchnorm] [--dropout P] "
                    "[--save PATH]\n");
            MPI_Finalize();
            return 1;
        }
        if (!strcmp(a, "--epochs")) epochs = (size_t)atol(v);
        else if (!strcmp(a, "--batch")) batch = (size_t)atol(v);
        else if (!strcmp(a, "--lr")) lr = atof(v);
        else if (!strcmp(a, "--threads")) threads = (size_t)atol(v);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--data")) dir = v;
        else if (!strcmp(a, "--limit")) limit = (size_t)atol(v);
        else if (!strcmp(a, "--dropout")) dropout = atof(v);
        else if (!strcmp(a, "--save")) save = v;
        else {
            fprintf(stderr, PROG ": unknown option %s\n", a);
            MPI_Finalize();
            return 1;
        }
        i++;
    }
    if (epochs == 0 || batch == 0) {
        fprintf(stderr, PROG ": --epochs and --batch must be at least 1\n");
        MPI_Finalize();
        return 1;
    }
    /* The context first: its calls report every rank's failures to all. */
    if (nn_mpi_create(&ctx, MPI_COMM_WORLD) != NN_OK) {
        fprintf(stderr, PROG ": %s\n", nn_mpi_last_error());
        MPI_Finalize();
        return 1;
    }
    rank = nn_mpi_rank(ctx);
    size = nn_mpi_size(ctx);
    /* the ranks share the cores: one BLAS thread each by default */
    if (threads > 0 && nn_set_blas_threads(threads) != NN_OK)
        fprintf(stderr, PROG ": --threads %zu ignored: %s\n", threads,
                nn_last_error());

    /* Every rank reads the data (a dataset is a view: fit reads only the
     * rows of its share of each batch, but the order of an epoch draws
     * from all of them). The ranks agree on the outcome before going on. */
    local = load_set(dir, "train-images-idx3-ubyte.gz",
                     "train-labels-idx1-ubyte.gz", &train);
    if (local == 0)
        local = load_set(dir, "t10k-images-idx3-ubyte.gz",
                         "t10k-labels-idx1-ubyte.gz", &test);
    MPI_Allreduce(&local, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (all != 0) {
        status = all;
        if (local == 0) {
            idx_images_free(&train.images);
            idx_labels_free(&train.labels);
            idx_images_free(&test.images);
            idx_labels_free(&test.labels);
        }
        goto done_data;
    }
    train_rows = limit && limit < train.images.count
                     ? limit
                     : train.images.count - VALIDATION_ROWS;
    val_rows = train.images.count - train_rows;
    if (val_rows > VALIDATION_ROWS)
        val_rows = VALIDATION_ROWS;
    if ((st = nn_data_create_labels(&train_data, train_rows,
                                    train.images.pixels, IMAGE_SIZE,
                                    train.labels.labels)) != NN_OK ||
        (st = nn_data_create_labels(&val_data, val_rows,
                                    train.images.pixels +
                                        train_rows * IMAGE_SIZE,
                                    IMAGE_SIZE,
                                    train.labels.labels + train_rows)) !=
            NN_OK ||
        (st = nn_data_create_labels(&test_data, test.images.count,
                                    test.images.pixels, IMAGE_SIZE,
                                    test.labels.labels)) != NN_OK) {
        fprintf(stderr, PROG ": rank %zu: nn_data_create_labels: %s\n",
                rank, nn_last_error());
        local = 1;
    }
    MPI_Allreduce(&local, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (all != 0)
        goto done;

    /* Rank 0 builds the model exactly as fashion_mnist does; if it
     * cannot, m stays NULL and the broadcast fails on every rank. */
    if (rank == 0) {
        m = build(seed, batchnorm, dropout, lr, epochs, batch, train_rows);
        printf("Fashion-MNIST on %zu process%s (%zu BLAS thread%s each): "
               "%zu training, %zu validation, %zu test images\n"
               "784-256-128-10, momentum 0.9, lr %g (cosine), batch %zu "
               "(about %zu rows per process), %zu epochs, seed %llu\n",
               size, size > 1 ? "es" : "", threads, threads == 1 ? "" : "s",
               train_rows, val_rows, test.images.count, lr, batch,
               batch / size, epochs, (unsigned long long)seed);
        fflush(stdout);
    }
    /* If rank 0 failed above, this fails on every rank. */
    if (nn_mpi_broadcast_model(ctx, &m) != NN_OK)
        goto mpi_fail;
    if (nn_mpi_fit(ctx, m, train_data, val_data, on_epoch, NULL, &epochs) !=
            NN_OK ||
        nn_mpi_evaluate(ctx, m, test_data, &loss, &acc) != NN_OK)
        goto mpi_fail;
    if (rank == 0)
        printf("test: loss %.6f, accuracy %.2f%% (%.0f of %zu)\n", loss,
               100.0 * acc, acc * (double)test.images.count,
               test.images.count);
    if (save) {
        if (nn_mpi_save(ctx, m, save, NN_SAVE_CHECKPOINT) != NN_OK)
            goto mpi_fail;
        if (rank == 0)
            printf("saved %s\n", save);
    }
    status = 0;
    goto done;
mpi_fail:
    /* the same message on every rank: rank 0 prints it */
    if (rank == 0)
        fprintf(stderr, PROG ": %s\n", nn_mpi_last_error());
done:
    nn_model_free(m);
    nn_data_free(train_data);
    nn_data_free(val_data);
    nn_data_free(test_data);
    idx_images_free(&train.images);
    idx_labels_free(&train.labels);
    idx_images_free(&test.images);
    idx_labels_free(&test.labels);
done_data:
    nn_mpi_free(ctx);
    MPI_Finalize();
    return status;
}
