/* SPDX-License-Identifier: MIT */
/*
 * cli.h - the nn command's subcommands and what they share: the options
 * that say how to read data (train, evaluate and predict take the same
 * ones), loading a model with its metadata, and printing failures.
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "data.h"
#include "err.h"
#include "nn.h"
#include "opts.h"

int cli_train(int argc, char **argv);
int cli_evaluate(int argc, char **argv);
int cli_predict(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_import(int argc, char **argv);

/* Prints "nn CMD: MESSAGE" to standard error. */
void cli_report(const char *cmd, const cli_err *e);
/* Prints the problem with a "Try 'nn CMD --help'" line; returns 2. */
int cli_usage_error(const char *cmd, const cli_err *e);

/* ---- data options ---- */

enum {
    CLI_O_FORMAT = 1000,
    CLI_O_DELIMITER,
    CLI_O_NO_HEADER,
    CLI_O_SKIP,
    CLI_O_TARGET,
    CLI_O_FEATURES,
    CLI_O_TARGETS,
    CLI_O_ROWS,
    CLI_O_THREADS,
    CLI_O_HELP,
    CLI_O_FIRST_FREE
};

#define CLI_DATA_OPTIONS                                                      \
    {"format", required_argument, NULL, CLI_O_FORMAT},                        \
    {"delimiter", required_argument, NULL, CLI_O_DELIMITER},                  \
    {"no-header", no_argument, NULL, CLI_O_NO_HEADER},                        \
    {"skip", required_argument, NULL, CLI_O_SKIP},                            \
    {"target", required_argument, NULL, CLI_O_TARGET},                        \
    {"features", required_argument, NULL, CLI_O_FEATURES},                    \
    {"targets", required_argument, NULL, CLI_O_TARGETS},                      \
    {"rows", required_argument, NULL, CLI_O_ROWS}

#define CLI_DATA_HELP                                                         \
    "Reading data:\n"                                                         \
    "  --format csv|npy|idx  the data's format (default: from its bytes)\n"  \
    "  --delimiter C         CSV delimiter: one character, or 'tab'\n"       \
    "                        (default ',', or tab for a .tsv file)\n"        \
    "  --no-header           the CSV file's first row is data\n"             \
    "  --skip N              skip N lines at the start of a CSV file\n"      \
    "  --target LIST         the target columns, by header name or index\n"  \
    "                        from 0 (negative: from the end); default -1\n"  \
    "  --features LIST       the input columns (default: all others)\n"      \
    "  --targets FILE        with NPY or IDX inputs: the targets' file\n"    \
    "  --rows LIST           use only these data rows, from 0, such as\n"    \
    "                        0:100,150 (A:B is rows A to B-1)\n"

typedef struct cli_data_opts {
    cli_data_spec spec;
    const char *rows;      /* --rows */
    int delim_given;
} cli_data_opts;

void cli_data_opts_init(cli_data_opts *d);
/* Handles a data option; returns CLI_OK, an error, or -1 when code is not
 * one of them. */
int cli_data_opt(cli_data_opts *d, int code, const char *arg, cli_err *e);
void cli_data_opts_free(cli_data_opts *d);

/* Reads the data the options describe, with their --rows applied. */
cli_status cli_data_read(cli_data_opts *d, cli_task task, size_t nt,
                         cli_data *out, cli_err *e);

/* ---- models ---- */

/* Loads a model file; the message names the file. */
cli_status cli_model_load(const char *path, nn_model **out, cli_err *e);

/* A failed libnn call as an error: "WHAT: MESSAGE". */
cli_status cli_lib_fail(cli_err *e, nn_status s, const char *what);

/* Writes s as a JSON string (quoted, escaped). */
void cli_json_string(FILE *f, const char *s);
/* Writes a number, or null for NaN and infinities. */
void cli_json_number(FILE *f, double v);

/* The activation the model's outputs leave through: that of the last
 * dense or activation layer, identity if another kind is last. */
nn_activation cli_output_act(const nn_model *m);

/* Sets the BLAS thread count from --threads. */
cli_status cli_set_threads(const char *arg, cli_err *e);

/* The usage failure for what getopt_long returned that no option took:
 * ':' (an option given without its value) or an unknown option, each
 * named from argv[optind - 1]. */
cli_status cli_getopt_fail(int c, char *const argv[], cli_err *e);

#endif /* CLI_CLI_H */
