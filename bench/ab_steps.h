/* SPDX-License-Identifier: MIT */
/*
 * ab_steps.h - one dense net trained (or run) in blocks that alternate
 * between two settings of the same process, A and B, on the same model,
 * data and workspace: bench_threads (one and two BLAS threads) and
 * kernel_ab (two versions of the AVX-512 kernel).
 *
 * Why: the machines this runs on swing by 10-30% from one second to the
 * next, so two processes run one after the other measure the machine as
 * much as the difference. Here each pair of neighbouring blocks (A B, then
 * B A, ...) gives one ratio, and their median is the figure.
 *
 *   PROGRAM NET BATCH STEPS BLOCKS [predict]
 *
 * NET is a dense net such as 784-1024-1024-10 (relu hidden layers, softmax
 * and cross-entropy at the output, plain SGD), with dropout layers where
 * it has dR (784-256-d0.2-128-d0.2-10: rate 0.2), BATCH its rows per step,
 * STEPS the steps (or predictions) per timed block, BLOCKS the pairs of
 * blocks. Before timing, the two settings' predictions must agree to
 * float rounding. Prints the median and best time per step of each and
 * the median B/A ratio of the pairs with its quartiles.
 */
#ifndef NN_BENCH_AB_STEPS_H
#define NN_BENCH_AB_STEPS_H

#include <nn.h>

/* The two settings: names[0] is A's, names[1] B's; side(m, 0) switches
 * the process to A, side(m, 1) to B, and returns 0 (or nonzero, with
 * nn_last_error saying why, if it cannot). */
typedef struct ab_steps_sides {
    const char *program;
    const char *names[2];
    int (*side)(nn_model *m, int b);
} ab_steps_sides;

/* Runs the comparison from main's arguments; returns main's status (0, 1
 * on a failure, 2 on bad arguments). */
int ab_steps_main(int argc, char **argv, const ab_steps_sides *sides);

#endif /* NN_BENCH_AB_STEPS_H */
