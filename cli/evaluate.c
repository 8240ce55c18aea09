/* SPDX-License-Identifier: MIT */
/*
 * evaluate.c - nn evaluate: a trained model on a labelled data set: the
 * loss (nn_model_evaluate), and for a classifier the accuracy and the
 * confusion matrix, for a regression the mean absolute error, the root
 * mean squared error and R^2 of each target.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mem.h"
#include "model_data.h"

#define CMD "evaluate"

enum { O_JSON = CLI_O_FIRST_FREE };

static const struct option longopts[] = {
    CLI_DATA_OPTIONS,
    {"json", no_argument, NULL, O_JSON},
    {"threads", required_argument, NULL, CLI_O_THREADS},
    {"help", no_argument, NULL, CLI_O_HELP},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
"usage: nn evaluate MODEL DATA [options]\n"
"Measures MODEL on the labelled DATA: the loss, and the accuracy and the\n"
"confusion matrix of a classifier, or the MAE, RMSE and R^2 of each\n"
"target of a regression. DATA is read as in training: the model knows its\n"
"columns and classes (a class it never saw is an error).\n"
"\n"
CLI_DATA_HELP
"Output:\n"
"  --json                one JSON object instead of the table\n"
"  --threads N           BLAS threads\n"
"  --help                show this help\n"
"\n"
"Exit status: 0 success, 1 failure, 2 bad usage or data.\n");
}

static void print_name(FILE *f, const char *s, int width)
{
    char shown[64];
    int n = (int)strlen(s);
    if (n > 24 || strpbrk(s, "\t\r\n")) {
        cli_show(shown, sizeof shown, s, strlen(s));
        fprintf(f, "%*s", width, shown);
    } else {
        fprintf(f, "%*s", width, s);
    }
}

static void classify(const cli_model_data *md, const float *y, size_t out,
                     double loss, double acc, int json)
{
    const cli_data *d = &md->data;
    size_t k = md->k, i, j, right = 0, *conf;
    nn_activation act = cli_output_act(md->model);
    int width = 8;

    conf = calloc(k * k, sizeof *conf);
    if (!conf)
        return;
    for (i = 0; i < d->rows; i++) {
        size_t truth, pred = 0;
        if (md->task == CLI_TASK_BINARY) {
            truth = d->t[i] > 0.5f;
            pred = act == NN_ACT_SIGMOID ? y[i] > 0.5f : y[i] > 0.0f;
        } else {
            truth = (size_t)d->labels[i];
            for (j = 1; j < out; j++)
                if (y[i * out + j] > y[i * out + pred])
                    pred = j;
        }
        conf[truth * k + pred]++;
        right += truth == pred;
    }
    if (json) {
        printf("{\"rows\": %zu, \"loss\": ", d->rows);
        cli_json_number(stdout, loss);
        printf(", \"loss_name\": ");
        cli_json_string(stdout, nn_loss_name(nn_model_loss(md->model)));
        printf(", \"accuracy\": ");
        cli_json_number(stdout, acc);
        printf(", \"correct\": %zu, \"classes\": [", right);
        for (i = 0; i < k; i++) {
            printf(i ? ", " : "");
            cli_json_string(stdout, md->classes.names[i]);
        }
        printf("], \"confusion\": [");
        for (i = 0; i < k; i++) {
            printf("%s[", i ? ", " : "");
            for (j = 0; j < k; j++)
                printf("%s%zu", j ? ", " : "", conf[i * k + j]);
            printf("]");
        }
        printf("]}\n");
        free(conf);
        return;
    }
    for (i = 0; i < k; i++) {
        int n = (int)strlen(md->classes.names[i]);
        if (n > width)
            width = n > 24 ? 26 : n;
    }
    printf("rows      %zu (%s)\n", d->rows, d->file);
    printf("loss      %.6g (%s)\n", loss,
           nn_loss_name(nn_model_loss(md->model)));
    printf("accuracy  %.2f%% (%zu of %zu)\n", 100.0 * acc, right, d->rows);
    printf("confusion matrix (rows: true class, columns: predicted class)\n");
    printf("  %*s", width, "");
    for (j = 0; j < k; j++) {
        printf("  ");
        print_name(stdout, md->classes.names[j], width);
    }
    printf("  %8s\n", "recall");
    for (i = 0; i < k; i++) {
        size_t row = 0;
        printf("  ");
        print_name(stdout, md->classes.names[i], width);
        for (j = 0; j < k; j++) {
            printf("  %*zu", width, conf[i * k + j]);
            row += conf[i * k + j];
        }
        if (row)
            printf("  %7.2f%%\n", 100.0 * (double)conf[i * k + i] /
                                      (double)row);
        else
            printf("  %8s\n", "-");
    }
    free(conf);
}

static void regress(const cli_model_data *md, const float *y, size_t out,
                    double loss, int json)
{
    const cli_data *d = &md->data;
    size_t i, j, n = d->rows;
    double *mae = calloc(out, sizeof *mae), *mse = calloc(out, sizeof *mse);
    double *mean = calloc(out, sizeof *mean), *var = calloc(out,
                                                            sizeof *var);
    const cli_columns *c = &md->cols;

    if (!mae || !mse || !mean || !var)
        goto done;
    for (i = 0; i < n; i++)
        for (j = 0; j < out; j++)
            mean[j] += d->t[i * out + j];
    for (j = 0; j < out; j++)
        mean[j] /= (double)n;
    for (i = 0; i < n; i++)
        for (j = 0; j < out; j++) {
            double t = d->t[i * out + j], r = (double)y[i * out + j] - t;
            mae[j] += fabs(r);
            mse[j] += r * r;
            var[j] += (t - mean[j]) * (t - mean[j]);
        }
    if (json) {
        printf("{\"rows\": %zu, \"loss\": ", n);
        cli_json_number(stdout, loss);
        printf(", \"loss_name\": ");
        cli_json_string(stdout, nn_loss_name(nn_model_loss(md->model)));
        printf(", \"targets\": [");
        for (j = 0; j < out; j++) {
            char buf[32];
            printf(j ? ", " : "");
            snprintf(buf, sizeof buf, "%zu", j);
            cli_json_string(stdout, c->out_name && j < c->nout
                                        ? c->out_name[j]
                                        : buf);
        }
        printf("], \"mae\": [");
        for (j = 0; j < out; j++) {
            printf(j ? ", " : "");
            cli_json_number(stdout, mae[j] / (double)n);
        }
        printf("], \"rmse\": [");
        for (j = 0; j < out; j++) {
            printf(j ? ", " : "");
            cli_json_number(stdout, sqrt(mse[j] / (double)n));
        }
        printf("], \"r2\": [");
        for (j = 0; j < out; j++) {
            printf(j ? ", " : "");
            cli_json_number(stdout, var[j] > 0 ? 1.0 - mse[j] / var[j]
                                               : NAN);
        }
        printf("]}\n");
        goto done;
    }
    printf("rows    %zu (%s)\n", n, d->file);
    printf("loss    %.6g (%s)\n", loss,
           nn_loss_name(nn_model_loss(md->model)));
    printf("%-16s %12s %12s %10s\n", "target", "MAE", "RMSE", "R^2");
    for (j = 0; j < out; j++) {
        char name[64];
        if (c->out_name && j < c->nout)
            cli_show(name, sizeof name, c->out_name[j],
                     strlen(c->out_name[j]));
        else
            snprintf(name, sizeof name, "%zu", j);
        printf("%-16s %12.6g %12.6g ", name, mae[j] / (double)n,
               sqrt(mse[j] / (double)n));
        if (var[j] > 0)
            printf("%10.6f\n", 1.0 - mse[j] / var[j]);
        else
            printf("%10s\n", "-");
    }
done:
    free(mae);
    free(mse);
    free(mean);
    free(var);
}

int cli_evaluate(int argc, char **argv)
{
    cli_data_opts d;
    cli_model_data md;
    cli_err e;
    cli_status st;
    const char *pos[2] = {NULL, NULL};
    int c, json = 0, npos = 0, code = CLI_EXIT_OK;
    nn_data *set = NULL;
    float *y = NULL;
    double loss = NAN, acc = NAN;
    size_t out;
    nn_status s;

    cli_data_opts_init(&d);
    memset(&md, 0, sizeof md);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "-:", longopts, NULL)) != -1) {
        st = cli_data_opt(&d, c, optarg, &e);
        if ((int)st == -1) {
            st = CLI_OK;
            switch (c) {
            case 1:
                if (npos == 2) {
                    st = cli_fail(&e, CLI_E_USAGE, "unexpected argument "
                                  "'%s'", optarg);
                    break;
                }
                pos[npos++] = optarg;
                break;
            case O_JSON:
                json = 1;
                break;
            case CLI_O_THREADS:
                st = cli_set_threads(optarg, &e);
                break;
            case CLI_O_HELP:
                usage(stdout);
                cli_data_opts_free(&d);
                return CLI_EXIT_OK;
            default: /* ':' too */
                st = cli_getopt_fail(c, argv, &e);
                break;
            }
        }
        if (st != CLI_OK) {
            cli_data_opts_free(&d);
            return cli_usage_error(CMD, &e);
        }
    }
    if (npos < 2) {
        cli_fail(&e, CLI_E_USAGE, "give MODEL and DATA");
        cli_data_opts_free(&d);
        return cli_usage_error(CMD, &e);
    }
    d.spec.path = pos[1];
    if ((st = cli_model_data_load(pos[0], &d, 1, &md, &e)) != CLI_OK)
        goto fail;
    out = nn_model_output_width(md.model);
    if (md.task == CLI_TASK_CLASSES)
        s = nn_data_create_labels(&set, md.data.rows, md.data.x, md.data.nx,
                                  md.data.labels);
    else
        s = nn_data_create(&set, md.data.rows, md.data.x, md.data.nx,
                           md.data.t, md.data.nt);
    if (s != NN_OK) {
        st = cli_lib_fail(&e, s, "the data set");
        goto fail;
    }
    if ((s = nn_model_evaluate(md.model, set, &loss, &acc)) != NN_OK) {
        st = cli_lib_fail(&e, s, "evaluating");
        goto fail;
    }
    y = cli_malloc_array(md.data.rows, out * sizeof *y);
    if (!y) {
        st = cli_nomem(&e, "for the predictions");
        goto fail;
    }
    if ((s = nn_model_predict(md.model, md.data.rows, md.data.x, md.data.nx,
                              y, out)) != NN_OK) {
        st = cli_lib_fail(&e, s, "predicting");
        goto fail;
    }
    if (md.k)
        classify(&md, y, out, loss, acc, json);
    else
        regress(&md, y, out, loss, json);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        st = cli_fail(&e, CLI_E_IO, "writing the results failed");
        goto fail;
    }
    goto done;
fail:
    code = cli_exit_code(st);
    cli_report(CMD, &e);
done:
    cli_free(y);
    nn_data_free(set);
    cli_model_data_free(&md);
    cli_data_opts_free(&d);
    return code;
}
