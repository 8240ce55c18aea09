/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cli_csv.c - libFuzzer entry point for the nn command's CSV reader
 * (cli/csv_read.c over libcsv), also replayed over the committed corpus by
 * ctest. The first byte chooses the options (header or not, delimiter,
 * how columns are planned, lines to skip); the rest is the file. A read
 * must either fail with a message naming the file, or give a table whose
 * every number is finite, every label id names a class and every row's
 * line is after the header's.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static cli_status plan(void *ctx, const char *file, size_t header_line,
                       size_t ncols, char *const *names, cli_col_plan *p,
                       size_t *nx, size_t *nt, cli_err *e)
{
    unsigned mode = *(const unsigned *)ctx;
    size_t i;
    (void)file;
    (void)header_line;
    (void)names;
    (void)e;
    *nx = *nt = 0;
    for (i = 0; i < ncols; i++) {
        int last = i + 1 == ncols && ncols > 1;
        if (mode == 1 && last) {
            p[i].role = CLI_COL_LABEL;
        } else if (mode == 2 && last) {
            p[i].role = CLI_COL_T;
            p[i].dest = (*nt)++;
        } else if (mode == 3 && i % 2 == 1) {
            p[i].role = CLI_COL_SKIP;
        } else {
            p[i].role = CLI_COL_X;
            p[i].dest = (*nx)++;
        }
    }
    return CLI_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char delims[4] = {',', ';', '\t', '|'};
    cli_csv_options opt;
    cli_source src;
    cli_csv_table t;
    cli_err e;
    unsigned mode;
    size_t i;

    if (size < 1)
        return 0;
    opt.header = data[0] & 1;
    opt.delim = delims[(data[0] >> 1) & 3];
    mode = (data[0] >> 3) & 3;
    opt.skip = (data[0] >> 5) & 3;
    if (cli_source_from_memory("f.csv", data + 1, size - 1, &src, &e) !=
        CLI_OK) {
        check(strncmp(e.msg, "f.csv: ", 7) == 0 ||
              strstr(e.msg, "out of memory") != NULL);
        return 0;
    }
    if (cli_csv_read(&src, &opt, plan, &mode, &t, &e) != CLI_OK) {
        check(strncmp(e.msg, "f.csv: ", 7) == 0);
        check(t.rows == 0 && t.x == NULL);
        cli_source_free(&src);
        return 0;
    }
    check(t.rows > 0 && t.ncols > 0);
    check((t.names != NULL) == (opt.header != 0));
    for (i = 0; i < t.rows * t.nx; i++)
        check(isfinite(t.x[i]));
    for (i = 0; i < t.rows * t.nt; i++)
        check(isfinite(t.t[i]));
    for (i = 0; i < t.rows; i++) {
        check(t.line[i] >= t.header_line);
        check(i == 0 || t.line[i] > t.line[i - 1]);
        if (t.label_col != SIZE_MAX)
            check(t.label[i] < t.n_classes);
    }
    for (i = 0; i < t.n_classes; i++)
        check(t.classes[i][0] != '\0');
    cli_csv_table_free(&t);
    cli_source_free(&src);
    return 0;
}
