/* SPDX-License-Identifier: MIT */
/* A data-parallel program built against an installed libnn_mpi the way a
 * user builds one:
 *   cc consumer_mpi.c $(pkg-config --cflags --libs nn-mpi)
 *   mpirun -np 2 ./a.out
 * Rank 0 builds a model, every rank receives it, all learn XOR together
 * (each rank holds two of the four rows of every step), and every rank
 * checks the predictions. Exits non-zero on any failure. */
#include <nn_mpi.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    static const float x[] = {0, 0, 0, 1, 1, 0, 1, 1};
    static const float t[] = {0, 1, 1, 0};
    float y[4];
    nn_mpi *ctx = NULL;
    nn_model *m = NULL;
    double loss = 0;
    size_t rank, size, first, n;
    int i, ok = 1;

    MPI_Init(&argc, &argv);
    if (nn_mpi_version_number() != NN_VERSION_NUMBER ||
        nn_version_number() != NN_VERSION_NUMBER) {
        fprintf(stderr, "header %d, libraries %u and %u\n",
                NN_VERSION_NUMBER, nn_mpi_version_number(),
                nn_version_number());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (nn_mpi_create(&ctx, MPI_COMM_WORLD) != NN_OK)
        goto fail;
    rank = nn_mpi_rank(ctx);
    size = nn_mpi_size(ctx);
    if (rank == 0 &&
        (nn_model_create(&m, 2, 7) != NN_OK ||
         nn_model_add_dense(m, 4, NN_ACT_TANH) != NN_OK ||
         nn_model_add_dense(m, 1, NN_ACT_SIGMOID) != NN_OK ||
         nn_model_set_loss(m, NN_LOSS_BCE) != NN_OK ||
         nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.5) != NN_OK))
        m = NULL; /* the broadcast then fails on every rank */
    if (nn_mpi_broadcast_model(ctx, &m) != NN_OK)
        goto fail;
    /* this rank's rows of the four */
    first = 4 * rank / size;
    n = 4 * (rank + 1) / size - first;
    for (i = 0; i < 2000; i++)
        if (nn_mpi_train_batch(ctx, m, n, x + 2 * first, 2, t + first, 1,
                               &loss) != NN_OK)
            goto fail;
    if (nn_model_predict(m, 4, x, 2, y, 1) != NN_OK) {
        fprintf(stderr, "%s\n", nn_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (i = 0; i < 4; i++)
        if ((y[i] > 0.5f) != (t[i] > 0.5f)) {
            fprintf(stderr, "rank %zu, row %d: predicted %f for target %g\n",
                    rank, i, y[i], t[i]);
            ok = 0;
        }
    if (ok && rank == 0)
        printf("MPI consumer: libnn_mpi %u on %zu ranks learned XOR "
               "(loss %.4f)\n", nn_mpi_version_number(), size, loss);
    nn_model_free(m);
    nn_mpi_free(ctx);
    MPI_Finalize();
    return ok ? 0 : 1;
fail:
    fprintf(stderr, "%s\n", nn_mpi_last_error());
    nn_model_free(m);
    nn_mpi_free(ctx);
    MPI_Finalize();
    return 1;
}
