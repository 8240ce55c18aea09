/* SPDX-License-Identifier: MIT */
/*
 * main.c - the nn command: trains, evaluates, inspects, runs, exports and
 * imports libnn networks from the shell. Each subcommand is a file; this
 * one dispatches.
 *
 * NN_CLI_VERSION (the project's version) comes from the build.
 *
 * Exit status: 0 success, 1 failure (a read or write error, out of memory,
 * a libnn failure such as diverged training), 2 bad usage or bad data,
 * 130 training interrupted by SIGINT or SIGTERM (a checkpoint was saved).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "outfile.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: nn COMMAND [options]\n"
"Trains and runs feed-forward neural networks (libnn) on CSV, NPY and IDX\n"
"data; exports them as ONNX or C, and imports ONNX files.\n"
"\n"
"Commands:\n"
"  train DATA --layers SPEC -o MODEL   train a network, save it to MODEL\n"
"  evaluate MODEL DATA                 loss, accuracy and confusion matrix,\n"
"                                      or MAE, RMSE and R^2\n"
"  predict MODEL DATA [-o OUT]         one row of predictions per row in\n"
"  info MODEL                          everything the model file holds\n"
"  export MODEL --onnx OUT | --c OUT\n"
"                                      the model as an ONNX file or as a\n"
"                                      C99 header\n"
"  import ONNX -o MODEL                an ONNX file (from PyTorch, or\n"
"                                      nn export) as a model file\n"
"\n"
"  nn COMMAND --help     that command's options\n"
"  nn --version          the versions of nn and of the libnn it runs on\n"
"\n"
"Exit status: 0 success, 1 failure, 2 bad usage or bad data, 130 training\n"
"interrupted (a checkpoint was saved). See nn(1).\n");
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"train", cli_train},       {"evaluate", cli_evaluate},
        {"predict", cli_predict},   {"info", cli_info},
        {"export", cli_export},     {"import", cli_import},
    };
    size_t i;

    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_BAD;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("nn %s (libnn %s)\n", NN_CLI_VERSION,
               nn_version_string());
        return CLI_EXIT_OK;
    }
    cli_signals_install();
    for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "nn: unknown command '%s'\n"
            "Try 'nn --help' for more information.\n", argv[1]);
    return CLI_EXIT_BAD;
}
