/* SPDX-License-Identifier: MIT */
/*
 * mpi_allreduce.c - MPI_Allreduce of N floats alone, as bench_mpi's
 * gradient sum does it (in place, MPI_SUM), for docs/SCALING.md: what the
 * transport gives without libnn.
 *
 *   mpirun -np 2 mpi_allreduce N [REPEATS]
 *
 * Prints rank 0's time of each repeat and the bytes of buffer per second.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    size_t n, i;
    int rank, k, reps;
    float *b;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (argc < 2 || (n = strtoul(argv[1], NULL, 10)) == 0 ||
        n > (size_t)1 << 30) {
        if (rank == 0)
            fprintf(stderr, "usage: mpi_allreduce N [REPEATS]\n");
        MPI_Finalize();
        return 1;
    }
    reps = argc > 2 ? atoi(argv[2]) : 6;
    b = (float *)malloc(n * sizeof *b);
    if (!b)
        MPI_Abort(MPI_COMM_WORLD, 1);
    for (i = 0; i < n; i++)
        b[i] = 1.0f;
    for (k = 0; k < reps; k++) {
        double t;
        MPI_Barrier(MPI_COMM_WORLD);
        t = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, b, (int)n, MPI_FLOAT, MPI_SUM,
                      MPI_COMM_WORLD);
        t = MPI_Wtime() - t;
        if (rank == 0)
            printf("%zu floats: %.2f ms (%.3f GB/s of buffer)\n", n, t * 1e3,
                   4.0 * (double)n / t / 1e9);
    }
    free(b);
    MPI_Finalize();
    return 0;
}
