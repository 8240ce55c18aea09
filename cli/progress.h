/* SPDX-License-Identifier: MIT */
/*
 * progress.h - what nn train shows while it trains: on a terminal a bar
 * per epoch (batches done, samples per second, elapsed and remaining
 * time, the running loss), and after each epoch one summary line (the
 * only output when standard output is not a terminal); --quiet shows
 * neither. --log writes one JSON object per epoch. The callbacks also stop
 * training when SIGINT or SIGTERM arrives.
 */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

#include "nn.h"

typedef struct cli_progress {
    const nn_model *model;
    int tty;              /* draw the bar */
    int quiet;            /* no output at all */
    FILE *out;            /* the bar and the summaries */
    FILE *log;            /* JSON lines, or NULL */
    size_t epochs;
    size_t rows;          /* training rows */
    size_t batch;         /* rows per step */
    int classify;         /* report validation accuracy */
    double t_start;       /* when the run (or this part of it) started */
    double t_epoch;       /* when the epoch's first step in this process
                             started */
    double last_draw;
    size_t first_batch;   /* the epoch's first batch seen in this process */
    double loss_sum;      /* the epoch's loss so far, weighted by rows */
    size_t rows_done;
    size_t bar_len;
    int interrupted;      /* a signal stopped the run */
    size_t last_epoch;    /* the last epoch completed */
    double last_loss, last_val_loss, last_val_acc;
} cli_progress;

double cli_now(void);
void cli_progress_start(cli_progress *p);
int cli_progress_batch(void *user, size_t epoch, size_t batch,
                       size_t batches, double loss);
int cli_progress_epoch(void *user, size_t epoch, double train_loss,
                       double val_loss, double val_accuracy,
                       double seconds);
/* Erases a half-drawn bar. */
void cli_progress_end(cli_progress *p);

#endif /* CLI_PROGRESS_H */
