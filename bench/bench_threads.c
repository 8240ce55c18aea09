/* SPDX-License-Identifier: MIT */
/*
 * bench_threads.c - training steps (or predictions) of one dense net at
 * one BLAS thread (A) and at two (B, nn_set_blas_threads), alternating
 * block by block in one process (ab_steps.h), with nothing else running:
 * no cblas_sgemm calls beside them, unlike bench_train, whose ceiling
 * blocks leave OpenBLAS's threads spinning on the other core for a while
 * after each block.
 *
 *   bench_threads NET BATCH STEPS BLOCKS [predict]
 */
#include "ab_steps.h"

static int switch_to(nn_model *m, int b)
{
    (void)m;
    return nn_set_blas_threads(b ? 2 : 1) != NN_OK;
}

int main(int argc, char **argv)
{
    static const ab_steps_sides sides = {
        "bench_threads", {"1 thread", "2 threads"}, switch_to};
    return ab_steps_main(argc, argv, &sides);
}
