/* SPDX-License-Identifier: MIT */
/*
 * opts.h - reading option values: whole numbers and real numbers with
 * their bounds, names of libnn's enums (through nn_*_name, so that the
 * command knows every value the library has), lists of columns and of
 * rows. Each reports a bad value as "--OPTION: ..." with what was
 * expected.
 */
#ifndef CLI_OPTS_H
#define CLI_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

cli_status cli_opt_size(const char *opt, const char *s, size_t min,
                        size_t max, size_t *out, cli_err *e);
cli_status cli_opt_u64(const char *opt, const char *s, uint64_t *out,
                       cli_err *e);
/* A finite number in [min, max]. */
cli_status cli_opt_double(const char *opt, const char *s, double min,
                          double max, double *out, cli_err *e);

/* The enum value whose name (name_fn(1), name_fn(2), ... until NULL) is
 * s; the message lists the names. */
typedef const char *(*cli_name_fn)(int value);
cli_status cli_opt_name(const char *opt, const char *s, cli_name_fn name_fn,
                        int *out, cli_err *e);
/* "a, b, c or d": the names name_fn gives, into buf. */
const char *cli_name_list(cli_name_fn name_fn, char *buf, size_t size);

/* Adapters from libnn's typed name functions. */
const char *cli_act_name(int v);
const char *cli_loss_name(int v);
const char *cli_opt_kind_name(int v);
const char *cli_sched_name(int v);
const char *cli_param_name(int v);
const char *cli_layer_param_name(int v);
const char *cli_init_name(int v);
const char *cli_kind_name(int v);

/* A selection of data rows, counted from 0: "A:B" (B excluded), "A:",
 * ":B", "A", joined by commas, in the order given. */
typedef struct cli_rows {
    size_t *idx;
    size_t n;
} cli_rows;

/* Resolves spec against total rows into out (owned; cli_rows_free). */
cli_status cli_rows_parse(const char *spec, size_t total, const char *file,
                          cli_rows *out, cli_err *e);
void cli_rows_free(cli_rows *r);

/* Splits a comma-separated list into its items (trimmed of spaces); the
 * array and the strings are owned by the caller (cli_list_free). A comma
 * inside a column name can be written as "\,". */
cli_status cli_list_split(const char *opt, const char *s, char ***items,
                          size_t *n, cli_err *e);
void cli_list_free(char **items, size_t n);

#endif /* CLI_OPTS_H */
