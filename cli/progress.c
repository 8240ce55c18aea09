/* SPDX-License-Identifier: MIT */
/*
 * progress.c - the progress bar, epoch lines and JSON log of nn train
 * (see progress.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "progress.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "outfile.h"

#define BAR_WIDTH 24
#define DRAW_EVERY 0.1 /* seconds between redraws */

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_progress_start(cli_progress *p)
{
    p->t_start = cli_now();
    p->t_epoch = p->t_start;
    p->last_draw = 0.0;
    p->first_batch = 0;
    p->loss_sum = 0.0;
    p->rows_done = 0;
    p->bar_len = 0;
    p->interrupted = 0;
    p->last_epoch = 0;
}

static void clock_text(char *buf, size_t size, double s)
{
    long t = s > 0 && s < 1e9 ? (long)(s + 0.5) : 0;
    if (t >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60,
                 t % 60);
    else
        snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

static void rate_text(char *buf, size_t size, double r)
{
    if (r >= 1e6)
        snprintf(buf, size, "%.1fM", r / 1e6);
    else if (r >= 1e3)
        snprintf(buf, size, "%.1fk", r / 1e3);
    else
        snprintf(buf, size, "%.0f", r);
}

static int digits(size_t v)
{
    int d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

void cli_progress_end(cli_progress *p)
{
    if (p->tty && p->bar_len > 0) {
        fprintf(p->out, "\r%*s\r", (int)p->bar_len, "");
        fflush(p->out);
    }
    p->bar_len = 0;
}

int cli_progress_batch(void *user, size_t epoch, size_t batch,
                       size_t batches, double loss)
{
    cli_progress *p = user;
    size_t rows = p->batch, batch_rows = p->batch;
    double now, el, rate, left;
    char bar[BAR_WIDTH + 1], e_txt[48], l_txt[48], r_txt[48];
    int i, filled, len;

    if (batch == batches && p->rows % p->batch != 0)
        rows = p->rows % p->batch;
    now = cli_now();
    if (p->first_batch == 0 || batch < p->first_batch ||
        batch == 1) {
        /* a new epoch, or the first step after a resume */
        p->first_batch = batch;
        p->loss_sum = 0.0;
        p->rows_done = 0;
    }
    p->loss_sum += loss * (double)rows;
    p->rows_done += rows;
    if (cli_signal_caught) {
        p->interrupted = 1;
        return -1;
    }
    if (!p->tty || p->quiet || (now - p->last_draw < DRAW_EVERY &&
                                batch != batches))
        return 0;
    p->last_draw = now;
    el = now - p->t_epoch;
    rate = el > 0 ? (double)p->rows_done / el : 0.0;
    left = rate > 0 ? (double)((batches - batch) * batch_rows) / rate : 0.0;
    filled = (int)((double)batch * BAR_WIDTH / (double)batches);
    for (i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '-';
    bar[BAR_WIDTH] = '\0';
    clock_text(e_txt, sizeof e_txt, el);
    clock_text(l_txt, sizeof l_txt, left);
    rate_text(r_txt, sizeof r_txt, rate);
    len = fprintf(p->out, "\repoch %*zu/%zu [%s] %*zu/%zu  %s samples/s  "
                  "%s elapsed  %s left  loss %.4f",
                  digits(p->epochs), epoch, p->epochs, bar, digits(batches),
                  batch, batches, r_txt, e_txt, l_txt,
                  p->loss_sum / (double)p->rows_done);
    if (len > 0 && (size_t)len > p->bar_len)
        p->bar_len = (size_t)len;
    fflush(p->out);
    return 0;
}

static void json_number(FILE *f, const char *key, double v)
{
    if (isfinite(v))
        fprintf(f, ", \"%s\": %.9g", key, v);
    else
        fprintf(f, ", \"%s\": null", key);
}

int cli_progress_epoch(void *user, size_t epoch, double train_loss,
                       double val_loss, double val_accuracy, double seconds)
{
    cli_progress *p = user;
    double lr = NAN;

    (void)seconds;
    p->last_epoch = epoch;
    p->last_loss = train_loss;
    p->last_val_loss = val_loss;
    p->last_val_acc = val_accuracy;
    p->first_batch = 0;
    if (nn_model_current_lr(p->model, &lr) != NN_OK)
        lr = NAN;
    cli_progress_end(p);
    if (!p->quiet) {
        fprintf(p->out, "epoch %*zu/%zu  loss %.4f", digits(p->epochs),
                epoch, p->epochs, train_loss);
        if (!isnan(val_loss)) {
            fprintf(p->out, "  val_loss %.4f", val_loss);
            if (p->classify && !isnan(val_accuracy))
                fprintf(p->out, "  val_acc %6.2f%%", 100.0 * val_accuracy);
        }
        fprintf(p->out, "  lr %.3g  %.1f s\n", lr, cli_now() - p->t_start);
        fflush(p->out);
    }
    if (p->log) {
        fprintf(p->log, "{\"epoch\": %zu", epoch);
        json_number(p->log, "loss", train_loss);
        json_number(p->log, "val_loss", val_loss);
        json_number(p->log, "val_accuracy", val_accuracy);
        json_number(p->log, "lr", lr);
        json_number(p->log, "seconds", cli_now() - p->t_start);
        fprintf(p->log, "}\n");
        fflush(p->log);
    }
    p->t_epoch = cli_now();
    if (cli_signal_caught) {
        p->interrupted = 1;
        return -1;
    }
    return 0;
}
