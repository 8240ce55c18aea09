/* SPDX-License-Identifier: MIT */
/*
 * export.c - nn export: a model file as an ONNX file (for ONNX Runtime
 * and the other ONNX tools) or as one C99 header (for a program that must
 * not link libnn), through nn_model_export_onnx_buffer and
 * nn_model_export_c. The model's layers go out as they are, the scaling
 * nn train keeps as the first layer among them, so both files take raw
 * rows as nn predict does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mem.h"
#include "outfile.h"

#define CMD "export"
/* nn_model_export_c's prefix: 1 to 63 ASCII letters, digits and '_',
 * starting with a letter (nn.h). */
#define PREFIX_MAX 63

enum { O_ONNX = CLI_O_FIRST_FREE, O_C, O_PREFIX, O_FORCE };

static const struct option longopts[] = {
    {"onnx", required_argument, NULL, O_ONNX},
    {"c", required_argument, NULL, O_C},
    {"prefix", required_argument, NULL, O_PREFIX},
    {"force", no_argument, NULL, O_FORCE},
    {"help", no_argument, NULL, CLI_O_HELP},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
"usage: nn export MODEL --onnx OUT [--force]\n"
"       nn export MODEL --c OUT [--prefix NAME] [--force]\n"
"Writes MODEL as an ONNX file or as one C99 header. Both compute what\n"
"nn predict computes from raw rows: the scaling nn train keeps in the\n"
"model is part of them. A classifier's outputs are its last layer's (the\n"
"probabilities after softmax or sigmoid, else the logits).\n"
"\n"
"  --onnx OUT       an ONNX file (opset 17): input \"input\" and output\n"
"                   \"output\", float [batch, width]\n"
"  --c OUT          a C99 header defining PREFIX_INPUTS, PREFIX_OUTPUTS\n"
"                   and void prefix_predict(const float *x, float *y);\n"
"                   define PREFIX_IMPLEMENTATION in one file before\n"
"                   including it; link with -lm\n"
"  --prefix NAME    the C names' prefix: a letter, then letters, digits\n"
"                   or '_', at most 63 (default: OUT's name without its\n"
"                   extension, other characters made '_')\n"
"  --force          replace OUT if it exists\n"
"  --help           show this help\n"
"\n"
"Exit status: 0 success, 1 failure, 2 bad usage or a damaged model.\n");
}

static int is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_ident_char(char c)
{
    return is_letter(c) || (c >= '0' && c <= '9') || c == '_';
}

static int is_prefix(const char *s)
{
    size_t i, n = strlen(s);
    if (n == 0 || n > PREFIX_MAX || !is_letter(s[0]))
        return 0;
    for (i = 1; i < n; i++)
        if (!is_ident_char(s[i]))
            return 0;
    return 1;
}

/* The prefix for OUT: its file name less the last extension, every
 * character that cannot be in a C name made '_', "nn_" first when that
 * does not start with a letter, "model" when nothing is left. */
static void derive_prefix(const char *out, char buf[PREFIX_MAX + 1])
{
    const char *base = strrchr(out, '/'), *dot;
    size_t n, i, o = 0;

    base = base ? base + 1 : out;
    dot = strrchr(base, '.');
    n = dot ? (size_t)(dot - base) : strlen(base);
    if (n == 0) {
        strcpy(buf, "model");
        return;
    }
    if (!is_letter(base[0])) {
        strcpy(buf, "nn_");
        o = 3;
    }
    for (i = 0; i < n && o < PREFIX_MAX; i++)
        buf[o++] = is_ident_char(base[i]) ? base[i] : '_';
    buf[o] = '\0';
}

/* A failed export: a model libnn cannot write (no layers, weights that are
 * not finite) is bad data; anything else a failure. */
static cli_status export_fail(cli_err *e, nn_status s, const char *model,
                              const char *out)
{
    if (s == NN_E_NOMEM)
        return cli_nomem(e, "exporting the model");
    if (s == NN_E_STATE || s == NN_E_NONFINITE)
        return cli_fail(e, CLI_E_DATA, "%s: %s", model, nn_last_error());
    return cli_fail(e, CLI_E_LIB, "%s: exporting failed: %s", out,
                    nn_last_error());
}

/* ONNX: the file's bytes in memory, then through the command's own
 * atomic writer, as models are saved (outfile.c). */
static cli_status export_onnx(const nn_model *m, const char *model,
                              const char *out, int force, cli_err *e)
{
    size_t size = 0;
    unsigned char *buf;
    nn_status s;
    cli_status st;

    s = nn_model_export_onnx_buffer(m, NULL, 0, &size);
    if (s != NN_E_SHAPE)
        return export_fail(e, s == NN_OK ? NN_E_STATE : s, model, out);
    buf = cli_malloc(size);
    if (!buf)
        return cli_nomem(e, "exporting the model");
    s = nn_model_export_onnx_buffer(m, buf, size, &size);
    st = s == NN_OK ? cli_out_write_bytes(buf, size, out, force, e)
                    : export_fail(e, s, model, out);
    cli_free(buf);
    return st;
}

typedef struct c_job {
    const nn_model *m;
    const char *model, *out, *prefix;
} c_job;

static cli_status write_c(const char *tmp, void *ctx, cli_err *e)
{
    const c_job *j = ctx;
    nn_status s = nn_model_export_c(j->m, tmp, j->prefix);
    return s == NN_OK ? CLI_OK : export_fail(e, s, j->model, j->out);
}

int cli_export(int argc, char **argv)
{
    const char *model = NULL, *onnx = NULL, *c_out = NULL, *prefix = NULL;
    const char *out, *opt;
    char derived[PREFIX_MAX + 1];
    int c, force = 0, code = CLI_EXIT_OK;
    nn_model *m = NULL;
    cli_err e;
    cli_status st = CLI_OK;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "-:", longopts, NULL)) != -1) {
        switch (c) {
        case 1:
            if (model)
                st = cli_fail(&e, CLI_E_USAGE, "unexpected argument '%s'",
                              optarg);
            model = optarg;
            break;
        case O_ONNX:
            onnx = optarg;
            break;
        case O_C:
            c_out = optarg;
            break;
        case O_PREFIX:
            prefix = optarg;
            break;
        case O_FORCE:
            force = 1;
            break;
        case CLI_O_HELP:
            usage(stdout);
            return CLI_EXIT_OK;
        default: /* ':' too */
            st = cli_getopt_fail(c, argv, &e);
            break;
        }
        if (st != CLI_OK)
            return cli_usage_error(CMD, &e);
    }
    if (!model)
        st = cli_fail(&e, CLI_E_USAGE, "give MODEL");
    else if (!onnx && !c_out)
        st = cli_fail(&e, CLI_E_USAGE, "give --onnx OUT or --c OUT");
    else if (onnx && c_out)
        st = cli_fail(&e, CLI_E_USAGE, "--onnx and --c: give one (each "
                      "export writes one file)");
    else if (prefix && !c_out)
        st = cli_fail(&e, CLI_E_USAGE, "--prefix: only with --c");
    else if (prefix && !is_prefix(prefix))
        st = cli_fail(&e, CLI_E_USAGE, "--prefix: '%s' is not a C name of "
                      "1 to %d letters, digits and '_' starting with a "
                      "letter", prefix, PREFIX_MAX);
    else if (strcmp(onnx ? onnx : c_out, "-") == 0)
        st = cli_fail(&e, CLI_E_USAGE, "%s: give a file name (nn export "
                      "does not write to standard output)",
                      onnx ? "--onnx" : "--c");
    if (st != CLI_OK)
        return cli_usage_error(CMD, &e);
    out = onnx ? onnx : c_out;
    opt = onnx ? "--onnx" : "--c";
    if (c_out && !prefix) {
        derive_prefix(c_out, derived);
        prefix = derived;
    }

    /* the output first: fail before any work */
    if ((st = cli_out_check(opt, out, force, &e)) != CLI_OK ||
        (st = cli_model_load(model, &m, &e)) != CLI_OK)
        goto fail;
    if (nn_model_layer_count(m) == 0) {
        st = cli_fail(&e, CLI_E_DATA, "%s: the model has no layers", model);
        goto fail;
    }
    if (onnx) {
        st = export_onnx(m, model, out, force, &e);
    } else {
        c_job job;
        job.m = m;
        job.model = model;
        job.out = out;
        job.prefix = prefix;
        st = cli_out_write_file(out, force, write_c, &job, &e);
    }
    if (st != CLI_OK)
        goto fail;
    nn_model_free(m);
    return CLI_EXIT_OK;
fail:
    code = cli_exit_code(st);
    cli_report(CMD, &e);
    nn_model_free(m);
    return code;
}
