/* SPDX-License-Identifier: MIT */
/*
 * import.c - nn import: an ONNX file (a torch.nn.Sequential that
 * torch.onnx.export wrote, or a file of nn export) read by
 * nn_model_import_onnx into a model file that nn info, nn predict and
 * nn evaluate read. The model gets the loss those commands go by, and the
 * source's file name in its metadata (nn.import.file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mem.h"
#include "meta.h"
#include "outfile.h"

#define CMD "import"

enum { O_OUTPUT = CLI_O_FIRST_FREE, O_LOSS, O_FORCE };

static const struct option longopts[] = {
    {"output", required_argument, NULL, O_OUTPUT},
    {"loss", required_argument, NULL, O_LOSS},
    {"force", no_argument, NULL, O_FORCE},
    {"help", no_argument, NULL, CLI_O_HELP},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
"usage: nn import ONNX -o MODEL [--loss NAME] [--force]\n"
"Reads an ONNX file into a model file for nn info, nn predict and\n"
"nn evaluate: a torch.nn.Sequential of Linear, activations, BatchNorm1d,\n"
"LayerNorm, Dropout, Flatten and Identity that torch.onnx.export wrote\n"
"in eval mode, or a file of nn export --onnx (which keeps its columns,\n"
"classes and scaling). Anything else is refused with the node and the\n"
"operator libnn cannot import.\n"
"\n"
"  -o, --output MODEL    the model file to write\n"
"  --loss NAME           mse, bce, cross_entropy, l1 or huber: the loss\n"
"                        nn evaluate reports; cross_entropy, or bce with\n"
"                        one output, makes the model a classifier, whose\n"
"                        classes are 0, 1, ... unless the file names them.\n"
"                        Default: the --loss of nn train the file keeps,\n"
"                        else cross_entropy after softmax, bce after\n"
"                        sigmoid, else mse (give cross_entropy or bce for\n"
"                        a classifier that outputs logits)\n"
"  --force               replace MODEL if it exists\n"
"  --help                show this help\n"
"\n"
"Exit status: 0 success, 1 failure (also a libnn built without the ONNX\n"
"reader), 2 bad usage or a file libnn does not import.\n");
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The loss the file's metadata names: the --loss of nn train's options,
 * which nn export keeps; 0 if it names none. */
static cli_status kept_loss(const nn_model *m, const char *src, int *loss,
                            cli_err *e)
{
    char **args;
    size_t n, i;
    cli_status st = cli_meta_get_args(m, &args, &n, e);
    *loss = 0;
    for (i = 0; i < n && st == CLI_OK; i++) {
        if (strncmp(args[i], "--loss=", 7) != 0)
            continue;
        if (cli_opt_name("loss", args[i] + 7, cli_loss_name, loss, e) !=
            CLI_OK) {
            char why[CLI_MSG_SIZE];
            memcpy(why, e->msg, sizeof why);
            st = cli_fail(e, CLI_E_DATA, "%s: metadata nn.train.arg.%zu: "
                          "%s", src, i, why);
        }
    }
    cli_list_free(args, n);
    return st;
}

/* The loss: as given, as the file keeps it, or as nn train would choose
 * it from the output activation; one that libnn would refuse to evaluate
 * after that activation is refused here. */
static cli_status set_loss(nn_model *m, const char *src, int loss,
                           cli_err *e)
{
    nn_activation act = cli_output_act(m);
    const char *need = NULL;
    cli_status st;
    nn_status s;

    if (!loss) {
        if ((st = kept_loss(m, src, &loss, e)) != CLI_OK)
            return st;
        if (!loss)
            loss = act == NN_ACT_SOFTMAX   ? NN_LOSS_CROSS_ENTROPY
                   : act == NN_ACT_SIGMOID ? NN_LOSS_BCE
                                           : NN_LOSS_MSE;
    }
    if (loss == NN_LOSS_CROSS_ENTROPY && act != NN_ACT_SOFTMAX &&
        act != NN_ACT_IDENTITY)
        need = "softmax";
    else if (loss == NN_LOSS_BCE && act != NN_ACT_SIGMOID &&
             act != NN_ACT_IDENTITY)
        need = "sigmoid";
    if (need)
        return cli_fail(e, CLI_E_USAGE, "--loss %s: %s's outputs leave "
                        "through %s; %s needs %s, or identity (logits)",
                        nn_loss_name((nn_loss)loss), src,
                        nn_activation_name(act), nn_loss_name((nn_loss)loss),
                        need);
    s = nn_model_set_loss(m, (nn_loss)loss);
    return s == NN_OK ? CLI_OK : cli_lib_fail(e, s, "--loss");
}

/* The metadata the other commands read (a file of nn export keeps nn
 * train's), checked now rather than at every later command. */
static cli_status check_meta(const nn_model *m, const char *src,
                             cli_err *e)
{
    cli_task task = cli_model_task(m);
    cli_columns cols;
    cli_classes cls;
    cli_status st = cli_meta_get_columns(m, src, &cols, e);
    if (st != CLI_OK)
        return st;
    cli_columns_free(&cols);
    if (task == CLI_TASK_REGRESS)
        return CLI_OK;
    st = cli_meta_get_classes(m, src,
                              task == CLI_TASK_BINARY
                                  ? 2
                                  : nn_model_output_width(m),
                              &cls, e);
    if (st == CLI_OK)
        cli_classes_free(&cls);
    return st;
}

static cli_status import_fail(cli_err *e, nn_status s, const char *src)
{
    switch (s) {
    case NN_E_NOMEM:
        return cli_fail(e, CLI_E_NOMEM, "%s: out of memory importing the "
                        "model", src);
    case NN_E_IO: /* missing or unreadable: as a missing model file */
        return cli_fail(e, CLI_E_USAGE, "%s: %s", src, nn_last_error());
    case NN_E_FORMAT:
    case NN_E_OVERFLOW:
        return cli_fail(e, CLI_E_DATA, "%s: %s", src, nn_last_error());
    default: /* NN_E_STATE: a libnn built without the ONNX reader */
        return cli_fail(e, CLI_E_LIB, "%s: cannot import: %s", src,
                        nn_last_error());
    }
}

int cli_import(int argc, char **argv)
{
    const char *src = NULL, *out = NULL;
    int c, force = 0, loss = 0, code = CLI_EXIT_OK;
    nn_model *m = NULL;
    nn_status s;
    cli_err e;
    cli_status st = CLI_OK;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "-:o:", longopts, NULL)) != -1) {
        switch (c) {
        case 1:
            if (src)
                st = cli_fail(&e, CLI_E_USAGE, "unexpected argument '%s'",
                              optarg);
            src = optarg;
            break;
        case 'o':
        case O_OUTPUT:
            out = optarg;
            break;
        case O_LOSS:
            st = cli_opt_name("loss", optarg, cli_loss_name, &loss, &e);
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
    if (!src)
        st = cli_fail(&e, CLI_E_USAGE, "give ONNX, the file to import");
    else if (!out)
        st = cli_fail(&e, CLI_E_USAGE, "give -o MODEL");
    else if (strcmp(out, "-") == 0)
        st = cli_fail(&e, CLI_E_USAGE, "-o: give a file name (nn import "
                      "does not write to standard output)");
    if (st != CLI_OK)
        return cli_usage_error(CMD, &e);

    /* the output first: fail before any work */
    if ((st = cli_out_check("-o", out, force, &e)) != CLI_OK)
        goto fail;
    s = nn_model_import_onnx(&m, src);
    if (s != NN_OK) {
        st = import_fail(&e, s, src);
        goto fail;
    }
    if ((st = set_loss(m, src, loss, &e)) != CLI_OK ||
        (st = check_meta(m, src, &e)) != CLI_OK ||
        (st = cli_meta_set(m, "nn.import.file", base_name(src), &e)) !=
            CLI_OK ||
        (st = cli_out_save_model(m, out, NN_SAVE_MODEL, force, &e)) !=
            CLI_OK)
        goto fail;
    nn_model_free(m);
    return CLI_EXIT_OK;
fail:
    code = cli_exit_code(st);
    cli_report(CMD, &e);
    nn_model_free(m);
    return code;
}
