/* SPDX-License-Identifier: MIT */
/*
 * common.c - what the subcommands share (see cli.h).
 */
#include "cli.h"

#include <math.h>
#include <string.h>

#include "mem.h"

void cli_report(const char *cmd, const cli_err *e)
{
    fprintf(stderr, "nn%s%s: %s\n", cmd ? " " : "", cmd ? cmd : "", e->msg);
}

int cli_usage_error(const char *cmd, const cli_err *e)
{
    cli_report(cmd, e);
    fprintf(stderr, "Try 'nn %s --help' for more information.\n", cmd);
    return CLI_EXIT_BAD;
}

void cli_data_opts_init(cli_data_opts *d)
{
    memset(d, 0, sizeof *d);
    d->spec.format = CLI_FMT_AUTO;
    d->spec.csv.delim = ',';
    d->spec.csv.header = 1;
    d->spec.csv.skip = 0;
}

void cli_data_opts_free(cli_data_opts *d)
{
    cli_list_free(d->spec.target, d->spec.n_target);
    cli_list_free(d->spec.features, d->spec.n_features);
    d->spec.target = d->spec.features = NULL;
    d->spec.n_target = d->spec.n_features = 0;
}

int cli_data_opt(cli_data_opts *d, int code, const char *arg, cli_err *e)
{
    int v;
    switch (code) {
    case CLI_O_FORMAT:
        if (strcmp(arg, "csv") == 0)
            v = CLI_FMT_CSV;
        else if (strcmp(arg, "npy") == 0)
            v = CLI_FMT_NPY;
        else if (strcmp(arg, "idx") == 0)
            v = CLI_FMT_IDX;
        else
            return cli_fail(e, CLI_E_USAGE, "--format: unknown format '%s'; "
                            "expected csv, npy or idx", arg);
        d->spec.format = (cli_format)v;
        return CLI_OK;
    case CLI_O_DELIMITER:
        if (strcmp(arg, "tab") == 0 || strcmp(arg, "\\t") == 0)
            d->spec.csv.delim = '\t';
        else if (strlen(arg) == 1 && arg[0] != '"' && arg[0] != '\n' &&
                 arg[0] != '\r')
            d->spec.csv.delim = (unsigned char)arg[0];
        else
            return cli_fail(e, CLI_E_USAGE, "--delimiter: '%s' is not one "
                            "character (other than a quote or a line "
                            "break) or 'tab'", arg);
        d->delim_given = 1;
        return CLI_OK;
    case CLI_O_NO_HEADER:
        d->spec.csv.header = 0;
        return CLI_OK;
    case CLI_O_SKIP:
        return cli_opt_size("skip", arg, 0, (size_t)1 << 40,
                            &d->spec.csv.skip, e);
    case CLI_O_TARGET:
        cli_list_free(d->spec.target, d->spec.n_target);
        return cli_list_split("target", arg, &d->spec.target,
                              &d->spec.n_target, e);
    case CLI_O_FEATURES:
        cli_list_free(d->spec.features, d->spec.n_features);
        return cli_list_split("features", arg, &d->spec.features,
                              &d->spec.n_features, e);
    case CLI_O_TARGETS:
        d->spec.targets_path = arg;
        return CLI_OK;
    case CLI_O_ROWS:
        d->rows = arg;
        return CLI_OK;
    default:
        return -1;
    }
}

cli_status cli_data_read(cli_data_opts *d, cli_task task, size_t nt,
                         cli_data *out, cli_err *e)
{
    cli_status st;
    size_t len = strlen(d->spec.path);
    if (!d->delim_given && len > 4 &&
        (strcmp(d->spec.path + len - 4, ".tsv") == 0 ||
         (len > 7 && strcmp(d->spec.path + len - 7, ".tsv.gz") == 0)))
        d->spec.csv.delim = '\t';
    st = cli_data_load(&d->spec, task, nt, out, e);
    if (st == CLI_OK && d->rows) {
        cli_rows r;
        st = cli_rows_parse(d->rows, out->rows, out->file, &r, e);
        if (st == CLI_OK) {
            st = cli_data_select(out, r.idx, r.n, e);
            cli_rows_free(&r);
        }
        if (st != CLI_OK)
            cli_data_free(out);
    }
    return st;
}

cli_status cli_model_load(const char *path, nn_model **out, cli_err *e)
{
    nn_status s = nn_model_load(out, path);
    if (s == NN_OK)
        return CLI_OK;
    if (s == NN_E_NOMEM)
        return cli_fail(e, CLI_E_NOMEM, "%s: out of memory loading the "
                        "model", path);
    /* a missing or unreadable file is a usage problem, a damaged one bad
     * data: both exit 2 */
    return cli_fail(e, s == NN_E_IO ? CLI_E_USAGE : CLI_E_DATA, "%s: %s",
                    path, nn_last_error());
}

cli_status cli_lib_fail(cli_err *e, nn_status s, const char *what)
{
    return cli_fail(e, s == NN_E_NOMEM ? CLI_E_NOMEM : CLI_E_LIB, "%s: %s",
                    what, nn_last_error()[0] ? nn_last_error()
                                             : nn_status_string(s));
}

cli_status cli_getopt_fail(int c, char *const argv[], cli_err *e)
{
    if (c == ':')
        return cli_fail(e, CLI_E_USAGE, "%s needs a value",
                        argv[optind - 1]);
    return cli_fail(e, CLI_E_USAGE, "unknown option '%s'",
                    argv[optind - 1]);
}

cli_status cli_set_threads(const char *arg, cli_err *e)
{
    size_t n;
    nn_status s;
    cli_status st = cli_opt_size("threads", arg, 1, 1024, &n, e);
    if (st != CLI_OK)
        return st;
    s = nn_set_blas_threads(n);
    if (s != NN_OK)
        fprintf(stderr, "nn: warning: --threads %s ignored: %s\n", arg,
                nn_last_error());
    return CLI_OK;
}

void cli_json_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    for (; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p == '\r')
            fputs("\\r", f);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void cli_json_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
    else
        fputs("null", f);
}

nn_activation cli_output_act(const nn_model *m)
{
    size_t n = nn_model_layer_count(m), i;
    for (i = n; i-- > 0;) {
        nn_layer_kind k = nn_model_layer_kind(m, i);
        if (k == NN_KIND_DENSE || k == NN_KIND_ACTIVATION)
            return nn_model_layer_activation(m, i);
        if (k != NN_KIND_DROPOUT)
            return NN_ACT_IDENTITY;
    }
    return NN_ACT_IDENTITY;
}
