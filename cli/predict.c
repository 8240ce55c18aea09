/* SPDX-License-Identifier: MIT */
/*
 * predict.c - nn predict: one row of output per row of DATA, as CSV or
 * NPY: the predicted class (its name) or, with --proba, the probability of
 * each class for a classifier; the predicted values for a regression.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <csv.h>

#include "cli.h"
#include "mem.h"
#include "model_data.h"
#include "npy.h"
#include "outfile.h"

#define CMD "predict"

enum {
    O_OUTPUT = CLI_O_FIRST_FREE,
    O_PROBA,
    O_HEADER,
    O_OUTPUT_FORMAT,
    O_FORCE
};

static const struct option longopts[] = {
    CLI_DATA_OPTIONS,
    {"output", required_argument, NULL, O_OUTPUT},
    {"proba", no_argument, NULL, O_PROBA},
    {"header", no_argument, NULL, O_HEADER},
    {"output-format", required_argument, NULL, O_OUTPUT_FORMAT},
    {"force", no_argument, NULL, O_FORCE},
    {"threads", required_argument, NULL, CLI_O_THREADS},
    {"help", no_argument, NULL, CLI_O_HELP},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
"usage: nn predict MODEL DATA [options] [-o OUT]\n"
"Writes one row per row of DATA: the predicted class's name (or, with\n"
"--proba, each class's probability) for a classifier, the predicted\n"
"values for a regression. DATA is read as in training; its target\n"
"columns, if present, are ignored. DATA - reads standard input.\n"
"\n"
CLI_DATA_HELP
"Output:\n"
"  -o, --output OUT      write to OUT (default: standard output)\n"
"  --output-format csv|npy\n"
"                        default: npy if OUT ends in .npy, else csv; NPY\n"
"                        holds float32 values, or int32 class indices\n"
"  --proba               the probabilities of the classes\n"
"  --header              a CSV header row naming the columns\n"
"  --force               replace OUT if it exists\n"
"  --threads N           BLAS threads\n"
"  --help                show this help\n"
"\n"
"Exit status: 0 success, 1 failure, 2 bad usage or data.\n");
}

/* A CSV field: quoted (by libcsv) when it holds a delimiter, a quote, a
 * line break or spaces at its ends. */
static void put_field(FILE *f, const char *s)
{
    size_t n = strlen(s);
    if (strpbrk(s, ",\"\r\n") || (n && (s[0] == ' ' || s[n - 1] == ' ')))
        csv_fwrite(f, s, n);
    else
        fputs(s, f);
}

static float sigmoid(float z)
{
    return (float)(1.0 / (1.0 + exp(-(double)z)));
}

/* Turns the model's outputs into class probabilities in place (softmax or
 * sigmoid of logits; a softmax or sigmoid output already is). */
static void to_proba(const cli_model_data *md, float *y, size_t rows,
                     size_t out)
{
    nn_activation act = cli_output_act(md->model);
    size_t i, j;
    if (md->task == CLI_TASK_BINARY) {
        if (act != NN_ACT_SIGMOID)
            for (i = 0; i < rows; i++)
                y[i] = sigmoid(y[i]);
        return;
    }
    if (act == NN_ACT_SOFTMAX)
        return;
    for (i = 0; i < rows; i++) {
        float *r = y + i * out, mx = r[0];
        double sum = 0;
        for (j = 1; j < out; j++)
            if (r[j] > mx)
                mx = r[j];
        for (j = 0; j < out; j++)
            sum += exp((double)(r[j] - mx));
        for (j = 0; j < out; j++)
            r[j] = (float)(exp((double)(r[j] - mx)) / sum);
    }
}

static size_t predicted(const cli_model_data *md, const float *y, size_t i,
                        size_t out)
{
    size_t j, best = 0;
    if (md->task == CLI_TASK_BINARY)
        return y[i] > 0.5f;
    for (j = 1; j < out; j++)
        if (y[i * out + j] > y[i * out + best])
            best = j;
    return best;
}

static void write_csv(FILE *f, const cli_model_data *md, const float *y,
                      size_t out, int proba, int header)
{
    size_t rows = md->data.rows, i, j, w;
    const cli_columns *c = &md->cols;
    if (header) {
        if (md->k && proba) {
            for (j = 0; j < md->k; j++) {
                if (j)
                    fputc(',', f);
                put_field(f, md->classes.names[j]);
            }
        } else if (md->k) {
            put_field(f, c->out_name && c->nout == 1 ? c->out_name[0]
                                                      : "class");
        } else {
            for (j = 0; j < out; j++) {
                char buf[32];
                if (j)
                    fputc(',', f);
                snprintf(buf, sizeof buf, "y%zu", j);
                put_field(f, c->out_name && j < c->nout ? c->out_name[j]
                                                        : buf);
            }
        }
        fputc('\n', f);
    }
    for (i = 0; i < rows; i++) {
        if (md->k && !proba) {
            put_field(f, md->classes.names[predicted(md, y, i, out)]);
        } else if (md->task == CLI_TASK_BINARY) {
            fprintf(f, "%.9g,%.9g", 1.0 - (double)y[i], (double)y[i]);
        } else {
            w = out;
            for (j = 0; j < w; j++)
                fprintf(f, j ? ",%.9g" : "%.9g", (double)y[i * w + j]);
        }
        fputc('\n', f);
    }
}

static void put_le32(FILE *f, uint32_t v)
{
    unsigned char b[4];
    b[0] = (unsigned char)v;
    b[1] = (unsigned char)(v >> 8);
    b[2] = (unsigned char)(v >> 16);
    b[3] = (unsigned char)(v >> 24);
    fwrite(b, 1, 4, f);
}

static void write_npy(FILE *f, const cli_model_data *md, const float *y,
                      size_t out, int proba)
{
    char head[256];
    size_t rows = md->data.rows, i, j, n;
    if (md->k && !proba) {
        n = cli_npy_header(head, 'i', rows, 0);
        fwrite(head, 1, n, f);
        for (i = 0; i < rows; i++)
            put_le32(f, (uint32_t)predicted(md, y, i, out));
        return;
    }
    if (md->task == CLI_TASK_BINARY) {
        n = cli_npy_header(head, 'f', rows, 2);
        fwrite(head, 1, n, f);
        for (i = 0; i < rows; i++) {
            float p[2];
            uint32_t u;
            p[0] = 1.0f - y[i];
            p[1] = y[i];
            for (j = 0; j < 2; j++) {
                memcpy(&u, &p[j], 4);
                put_le32(f, u);
            }
        }
        return;
    }
    n = cli_npy_header(head, 'f', rows, out);
    fwrite(head, 1, n, f);
    for (i = 0; i < rows * out; i++) {
        uint32_t u;
        memcpy(&u, &y[i], 4);
        put_le32(f, u);
    }
}

int cli_predict(int argc, char **argv)
{
    cli_data_opts d;
    cli_model_data md;
    cli_err e;
    cli_status st;
    cli_out outf;
    const char *pos[2] = {NULL, NULL}, *out_path = NULL;
    int c, npos = 0, proba = 0, header = 0, force = 0, npy = -1;
    int code = CLI_EXIT_OK;
    float *y = NULL;
    size_t out;
    nn_status s;
    FILE *f;

    cli_data_opts_init(&d);
    memset(&md, 0, sizeof md);
    memset(&outf, 0, sizeof outf);
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "-:o:", longopts, NULL)) != -1) {
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
            case 'o':
            case O_OUTPUT:
                out_path = optarg;
                break;
            case O_PROBA:
                proba = 1;
                break;
            case O_HEADER:
                header = 1;
                break;
            case O_OUTPUT_FORMAT:
                if (strcmp(optarg, "csv") == 0)
                    npy = 0;
                else if (strcmp(optarg, "npy") == 0)
                    npy = 1;
                else
                    st = cli_fail(&e, CLI_E_USAGE, "--output-format: unknown "
                                  "format '%s'; expected csv or npy",
                                  optarg);
                break;
            case O_FORCE:
                force = 1;
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
    if (npy < 0) {
        size_t n = out_path ? strlen(out_path) : 0;
        npy = n > 4 && strcmp(out_path + n - 4, ".npy") == 0;
    }
    if (npy && header) {
        cli_fail(&e, CLI_E_USAGE, "--header: only for CSV output");
        cli_data_opts_free(&d);
        return cli_usage_error(CMD, &e);
    }
    if (!out_path && npy && isatty(STDOUT_FILENO)) {
        cli_fail(&e, CLI_E_USAGE, "NPY output is binary: give -o OUT or "
                 "redirect standard output");
        cli_data_opts_free(&d);
        return cli_usage_error(CMD, &e);
    }
    if (out_path && (st = cli_out_check("-o", out_path, force, &e)) !=
                        CLI_OK)
        goto fail;
    d.spec.path = pos[1];
    if ((st = cli_model_data_load(pos[0], &d, 0, &md, &e)) != CLI_OK)
        goto fail;
    if (proba && !md.k) {
        st = cli_fail(&e, CLI_E_USAGE, "--proba: %s is not a classifier "
                      "(its loss is %s)", pos[0],
                      nn_loss_name(nn_model_loss(md.model)));
        goto fail;
    }
    out = nn_model_output_width(md.model);
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
        to_proba(&md, y, md.data.rows, out);
    if (out_path) {
        if ((st = cli_out_open(&outf, out_path, force, &e)) != CLI_OK)
            goto fail;
        f = outf.f;
    } else {
        f = stdout;
    }
    if (npy)
        write_npy(f, &md, y, out, proba);
    else
        write_csv(f, &md, y, out, proba, header);
    if (out_path) {
        if ((st = cli_out_commit(&outf, &e)) != CLI_OK)
            goto fail;
    } else if (fflush(stdout) != 0 || ferror(stdout)) {
        st = cli_fail(&e, CLI_E_IO, "writing to standard output failed");
        goto fail;
    }
    goto done;
fail:
    code = cli_exit_code(st);
    cli_report(CMD, &e);
done:
    cli_out_abort(&outf);
    cli_free(y);
    cli_model_data_free(&md);
    cli_data_opts_free(&d);
    return code;
}
