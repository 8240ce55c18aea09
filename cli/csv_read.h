/* SPDX-License-Identifier: MIT */
/*
 * csv_read.h - reads a CSV table through libcsv into numeric columns
 * (inputs and numeric targets) and one column of class labels.
 *
 * Accepted: a header row or none, lines to skip before it, any one-byte
 * delimiter, quoted fields (with "" for a quote, and delimiters and line
 * breaks inside), LF, CRLF or CR line ends, a UTF-8 byte-order mark, blank
 * lines (ignored). Every row must have as many columns as the first.
 * Numbers are C-locale decimal (or hexadecimal floating) literals with
 * spaces around them allowed; NaN, infinities, empty cells and values
 * beyond float's range are refused. Messages name the file, the line
 * (counted from 1) and the column (counted from 0, as --target and
 * --features count them, with its header name).
 */
#ifndef CLI_CSV_READ_H
#define CLI_CSV_READ_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "source.h"

typedef struct cli_csv_options {
    unsigned char delim; /* the delimiter, ',' by default */
    int header;          /* 1: the first row (after skip) names columns */
    size_t skip;         /* lines skipped at the start of the file */
} cli_csv_options;

typedef enum cli_col_role {
    CLI_COL_SKIP = 0,  /* not read */
    CLI_COL_X = 1,     /* a number, into x at dest */
    CLI_COL_T = 2,     /* a number, into t at dest */
    CLI_COL_LABEL = 3  /* a class label (any text); at most one column */
} cli_col_role;

typedef struct cli_col_plan {
    cli_col_role role;
    size_t dest;
} cli_col_plan;

/* Called once the columns are known (after the header row, or the first
 * row without a header), with their count and names (NULL without a
 * header); header_line is the line of the header (or first row). It fills
 * plan[0..ncols) and *nx and *nt, the widths of x and t: the X columns'
 * dest values must be 0..*nx-1 once each, and the T columns' 0..*nt-1.
 * Returns CLI_OK, or fails with a message (for example a --target name
 * that is not in the header). */
typedef cli_status (*cli_csv_plan_fn)(void *ctx, const char *file,
                                      size_t header_line, size_t ncols,
                                      char *const *names,
                                      cli_col_plan *plan, size_t *nx,
                                      size_t *nt, cli_err *e);

typedef struct cli_csv_table {
    size_t ncols;       /* columns in every row */
    char **names;       /* ncols header names, or NULL without a header */
    size_t header_line; /* line of the header, or of the first row */
    size_t rows;        /* data rows */
    size_t nx, nt;      /* widths of x and t */
    float *x;           /* rows x nx, row-major */
    float *t;           /* rows x nt, row-major (NULL if nt is 0) */
    size_t label_col;   /* the label column, or SIZE_MAX for none */
    uint32_t *label;    /* rows class ids, indices into classes */
    char **classes;     /* the distinct labels, in order of appearance */
    size_t n_classes;
    size_t *line;       /* rows line numbers (the line each row ends on) */
} cli_csv_table;

/* Reads the table in src. On failure *out is empty and e says why:
 * CLI_E_DATA (with file, line and column), CLI_E_NOMEM, or the plan
 * function's error. */
cli_status cli_csv_read(const cli_source *src, const cli_csv_options *opt,
                        cli_csv_plan_fn plan, void *ctx, cli_csv_table *out,
                        cli_err *e);

void cli_csv_table_free(cli_csv_table *t);

/* Parses a number as the reader does: the len bytes at s (spaces around
 * allowed). Returns 0 and *v, or -1 with *why set to a short reason
 * ("empty", "not a number", "NaN", "infinite", "out of range"). */
int cli_parse_float(const char *s, size_t len, float *v, const char **why);

#endif /* CLI_CSV_READ_H */
