/* SPDX-License-Identifier: MIT */
/*
 * csv_read.c - CSV tables through libcsv (see csv_read.h).
 *
 * libcsv does the quoting and splitting; this file feeds it one physical
 * line at a time, so that every field and row it reports is known to end
 * on the line just fed, and turns the fields into numbers and labels.
 */
#include "csv_read.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "mem.h"

/* ---- numbers ---- */

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
           c == '\f';
}

#define NUMBER_MAX 255

int cli_parse_float(const char *s, size_t len, float *v, const char **why)
{
    char buf[NUMBER_MAX + 1];
    char *end;
    double d;
    size_t i;

    while (len > 0 && is_space((unsigned char)s[0])) {
        s++;
        len--;
    }
    while (len > 0 && is_space((unsigned char)s[len - 1]))
        len--;
    if (len == 0) {
        *why = "an empty cell";
        return -1;
    }
    if (len > NUMBER_MAX) {
        *why = "not a number (too long)";
        return -1;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    /* strtod would skip spaces inside; a NUL inside ends it early */
    for (i = 0; i < len; i++)
        if (buf[i] == '\0' || is_space((unsigned char)buf[i])) {
            *why = "not a number";
            return -1;
        }
    errno = 0;
    d = strtod(buf, &end);
    if (end == buf || *end != '\0') {
        *why = "not a number";
        return -1;
    }
    if (isnan(d)) {
        *why = "NaN, not a finite number";
        return -1;
    }
    if (isinf(d) && errno != ERANGE) {
        *why = "infinite, not a finite number";
        return -1;
    }
    if (errno == ERANGE && fabs(d) > 1.0) {
        *why = "out of range (beyond float's largest value, 3.4e38)";
        return -1;
    }
    if (fabs(d) > FLT_MAX) {
        *why = "out of range (beyond float's largest value, 3.4e38)";
        return -1;
    }
    /* an underflow (ERANGE with a tiny result) is a tiny number: fine */
    *v = (float)d;
    return 0;
}

/* ---- the label set ---- */

typedef struct label_set {
    size_t *slot;  /* cap entries: class id + 1, 0 for empty */
    size_t cap;    /* a power of two */
    char **names;  /* n names */
    size_t n, names_cap;
} label_set;

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    size_t i;
    for (i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* The id of the label s, added if new: 0 or -1 (out of memory). */
static int label_intern(label_set *ls, const char *s, size_t len,
                        uint32_t *id)
{
    size_t i, mask;

    if (ls->n >= ls->cap / 2) {
        size_t ncap = ls->cap ? ls->cap * 2 : 64, k;
        size_t *slot = cli_malloc_array(ncap, sizeof *slot);
        if (!slot)
            return -1;
        memset(slot, 0, ncap * sizeof *slot);
        for (k = 0; k < ls->n; k++) {
            const char *nm = ls->names[k];
            i = (size_t)hash_bytes(nm, strlen(nm)) & (ncap - 1);
            while (slot[i])
                i = (i + 1) & (ncap - 1);
            slot[i] = k + 1;
        }
        cli_free(ls->slot);
        ls->slot = slot;
        ls->cap = ncap;
    }
    mask = ls->cap - 1;
    i = (size_t)hash_bytes(s, len) & mask;
    while (ls->slot[i]) {
        const char *nm = ls->names[ls->slot[i] - 1];
        if (strlen(nm) == len && memcmp(nm, s, len) == 0) {
            *id = (uint32_t)(ls->slot[i] - 1);
            return 0;
        }
        i = (i + 1) & mask;
    }
    if (ls->n >= UINT32_MAX)
        return -1;
    if (ls->n == ls->names_cap) {
        size_t ncap = ls->names_cap ? ls->names_cap * 2 : 16;
        char **p = cli_realloc_array(ls->names, ncap, sizeof *p);
        if (!p)
            return -1;
        ls->names = p;
        ls->names_cap = ncap;
    }
    ls->names[ls->n] = cli_strndup(s, len);
    if (!ls->names[ls->n])
        return -1;
    ls->slot[i] = ls->n + 1;
    *id = (uint32_t)ls->n;
    ls->n++;
    return 0;
}

/* ---- the parse ---- */

typedef struct state {
    const char *file;
    const cli_csv_options *opt;
    cli_csv_plan_fn plan_fn;
    void *ctx;
    cli_err *e;
    cli_status st;       /* the first failure; callbacks stop after it */

    size_t line;         /* the physical line being fed, from 1 */
    size_t col;          /* index of the next field in the current row */
    size_t row_line;     /* line of the current row's first field */

    /* the first row, kept until the columns are planned */
    int planned;
    char **first;
    size_t first_n, first_cap;
    size_t first_line;

    cli_col_plan *plan;
    size_t label_col;
    size_t rows_cap;
    uint32_t row_label;  /* the current row's label */
    label_set labels;
    cli_csv_table *t;
} state;

static const char *col_name(const state *s, size_t col)
{
    if (s->t->names && col < s->t->ncols)
        return s->t->names[col];
    return NULL;
}

/* " (NAME)" after a column number, or nothing without a header */
static void describe_col(const state *s, size_t col, char *buf, size_t size)
{
    const char *nm = col_name(s, col);
    char shown[96];
    if (nm)
        snprintf(buf, size, " (%s)", cli_show(shown, sizeof shown, nm,
                                              strlen(nm)));
    else
        buf[0] = '\0';
}

static void fail_nomem(state *s)
{
    if (s->st == CLI_OK)
        s->st = cli_fail(s->e, CLI_E_NOMEM, "%s: line %zu: out of memory "
                         "while reading the table", s->file, s->line);
}

static int grow_rows(state *s)
{
    cli_csv_table *t = s->t;
    size_t ncap;
    float *x, *tt;
    size_t *line;
    uint32_t *lab;

    if (t->rows < s->rows_cap)
        return 0;
    ncap = s->rows_cap ? s->rows_cap * 2 : 256;
    if (ncap < s->rows_cap) {
        fail_nomem(s);
        return -1;
    }
    if (t->nx) {
        x = cli_realloc_array(t->x, ncap, t->nx * sizeof(float));
        if (!x || t->nx > SIZE_MAX / sizeof(float))
            goto nomem_x;
        t->x = x;
    }
    if (t->nt) {
        tt = cli_realloc_array(t->t, ncap, t->nt * sizeof(float));
        if (!tt || t->nt > SIZE_MAX / sizeof(float))
            goto nomem_x;
        t->t = tt;
    }
    line = cli_realloc_array(t->line, ncap, sizeof *line);
    if (!line)
        goto nomem_x;
    t->line = line;
    if (s->label_col != SIZE_MAX) {
        lab = cli_realloc_array(t->label, ncap, sizeof *lab);
        if (!lab)
            goto nomem_x;
        t->label = lab;
    }
    s->rows_cap = ncap;
    return 0;
nomem_x:
    fail_nomem(s);
    return -1;
}

/* One data cell. */
static void data_cell(state *s, size_t col, const char *data, size_t len)
{
    cli_csv_table *t = s->t;
    const cli_col_plan *p;
    char shown[128], where[128];
    const char *why;
    float v;

    if (col >= t->ncols) {
        describe_col(s, col, where, sizeof where);
        s->st = cli_fail(s->e, CLI_E_DATA, "%s: line %zu, column %zu: an "
                         "extra column; expected %zu columns (0 to %zu), as "
                         "line %zu has", s->file, s->line, col, t->ncols,
                         t->ncols - 1, t->header_line);
        return;
    }
    if (col == 0 && grow_rows(s) != 0)
        return;
    p = &s->plan[col];
    switch (p->role) {
    case CLI_COL_SKIP:
        return;
    case CLI_COL_X:
    case CLI_COL_T:
        if (cli_parse_float(data, len, &v, &why) != 0) {
            describe_col(s, col, where, sizeof where);
            s->st = cli_fail(s->e, CLI_E_DATA, "%s: line %zu, column %zu%s: "
                             "%s is %s; expected a number", s->file,
                             s->line, col, where,
                             cli_show(shown, sizeof shown, data, len), why);
            return;
        }
        if (p->role == CLI_COL_X)
            t->x[t->rows * t->nx + p->dest] = v;
        else
            t->t[t->rows * t->nt + p->dest] = v;
        return;
    case CLI_COL_LABEL:
        {
            size_t a = 0, b = len;
            while (a < b && is_space((unsigned char)data[a]))
                a++;
            while (b > a && is_space((unsigned char)data[b - 1]))
                b--;
            if (a == b) {
                describe_col(s, col, where, sizeof where);
                s->st = cli_fail(s->e, CLI_E_DATA, "%s: line %zu, column "
                                 "%zu%s: an empty cell; expected a class "
                                 "label", s->file, s->line, col, where);
                return;
            }
            if (memchr(data + a, '\0', b - a) != NULL) {
                describe_col(s, col, where, sizeof where);
                s->st = cli_fail(s->e, CLI_E_DATA, "%s: line %zu, column "
                                 "%zu%s: a NUL byte in a class label; "
                                 "expected text", s->file, s->line, col,
                                 where);
                return;
            }
            if (label_intern(&s->labels, data + a, b - a, &s->row_label) !=
                0)
                fail_nomem(s);
        }
        return;
    }
}

/* The end of a data row. */
static void data_row_end(state *s)
{
    cli_csv_table *t = s->t;
    char where[128];

    if (s->col < t->ncols) {
        describe_col(s, s->col, where, sizeof where);
        s->st = cli_fail(s->e, CLI_E_DATA, "%s: line %zu, column %zu%s: "
                         "missing; the row has %zu column%s, expected %zu, "
                         "as line %zu has", s->file, s->line, s->col, where,
                         s->col, s->col == 1 ? "" : "s", t->ncols,
                         t->header_line);
        return;
    }
    t->line[t->rows] = s->line;
    if (s->label_col != SIZE_MAX)
        t->label[t->rows] = s->row_label;
    t->rows++;
}

/* The first row is complete: plan the columns, then read it as data unless
 * it is the header. */
static void first_row_end(state *s)
{
    cli_csv_table *t = s->t;
    size_t i, nx = 0, nt = 0, labels = 0;
    size_t first_line = s->line;
    cli_status st;

    t->ncols = s->first_n;
    t->header_line = first_line;
    if (s->opt->header) {
        t->names = s->first;
        s->first = NULL;
        s->first_n = 0;
        s->first_cap = 0;
    }
    s->plan = cli_malloc_array(t->ncols, sizeof *s->plan);
    if (!s->plan) {
        fail_nomem(s);
        return;
    }
    for (i = 0; i < t->ncols; i++) {
        s->plan[i].role = CLI_COL_SKIP;
        s->plan[i].dest = 0;
    }
    st = s->plan_fn(s->ctx, s->file, first_line, t->ncols, t->names, s->plan,
                    &nx, &nt, s->e);
    if (st != CLI_OK) {
        s->st = st;
        return;
    }
    t->nx = nx;
    t->nt = nt;
    for (i = 0; i < t->ncols; i++)
        if (s->plan[i].role == CLI_COL_LABEL) {
            s->label_col = i;
            labels++;
        }
    if (labels > 1) {
        s->st = cli_fail(s->e, CLI_E_USAGE, "%s: only one column of class "
                         "labels can be read", s->file);
        return;
    }
    t->label_col = s->label_col;
    s->planned = 1;
    if (!s->opt->header) {
        for (i = 0; i < t->ncols && s->st == CLI_OK; i++)
            data_cell(s, i, s->first[i], strlen(s->first[i]));
        /* a cell with a NUL inside is cut at it here: as a number it
         * fails either way, and a label holding a NUL is refused when it
         * comes in a later row (labels are text) */
        s->col = t->ncols;
        if (s->st == CLI_OK)
            data_row_end(s);
    }
}

static void on_field(void *data, size_t len, void *user)
{
    state *s = user;
    const char *d = data ? (const char *)data : "";

    if (s->st != CLI_OK)
        return;
    if (s->col == 0)
        s->row_line = s->line;
    if (!s->planned) {
        if (s->first_n == s->first_cap) {
            size_t ncap = s->first_cap ? s->first_cap * 2 : 16;
            char **p = cli_realloc_array(s->first, ncap, sizeof *p);
            if (!p) {
                fail_nomem(s);
                return;
            }
            s->first = p;
            s->first_cap = ncap;
        }
        s->first[s->first_n] = cli_strndup(d, len);
        if (!s->first[s->first_n]) {
            fail_nomem(s);
            return;
        }
        s->first_n++;
    } else {
        data_cell(s, s->col, d, len);
    }
    s->col++;
}

static void on_row(int c, void *user)
{
    state *s = user;
    (void)c;
    if (s->st != CLI_OK)
        return;
    if (!s->planned)
        first_row_end(s);
    else
        data_row_end(s);
    s->col = 0;
}

/* libcsv trims these around unquoted fields; not the delimiter */
static unsigned char space_delim;
static int space_not_tab(unsigned char c)
{
    return c == ' ' || (c == '\t' && space_delim != '\t');
}

static void *csv_realloc_fn(void *p, size_t n)
{
    return cli_realloc(p, n);
}

/* The end of the physical line starting at p (just past its line break,
 * or end): LF, CRLF and a lone CR each end a line. */
static const unsigned char *line_end(const unsigned char *p,
                                     const unsigned char *end)
{
    while (p < end) {
        if (*p == '\n')
            return p + 1;
        if (*p == '\r')
            return p + 1 < end && p[1] == '\n' ? p + 2 : p + 1;
        p++;
    }
    return end;
}

cli_status cli_csv_read(const cli_source *src, const cli_csv_options *opt,
                        cli_csv_plan_fn plan, void *ctx, cli_csv_table *out,
                        cli_err *e)
{
    struct csv_parser parser;
    const unsigned char *p = src->bytes, *end = src->bytes + src->size;
    state s;
    size_t i;
    int parser_ok = 0;

    memset(out, 0, sizeof *out);
    out->label_col = SIZE_MAX;
    memset(&s, 0, sizeof s);
    s.file = src->name;
    s.opt = opt;
    s.plan_fn = plan;
    s.ctx = ctx;
    s.e = e;
    s.t = out;
    s.label_col = SIZE_MAX;
    s.line = 1;

    if (end - p >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
        p += 3;
    for (i = 0; i < opt->skip && p < end; i++) {
        p = line_end(p, end);
        s.line++;
    }

    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) !=
        0) {
        s.st = cli_nomem(e, "starting the CSV parser");
        goto done;
    }
    parser_ok = 1;
    csv_set_realloc_func(&parser, csv_realloc_fn);
    csv_set_free_func(&parser, cli_free);
    csv_set_delim(&parser, opt->delim ? opt->delim : ',');
    space_delim = opt->delim ? opt->delim : ',';
    csv_set_space_func(&parser, space_not_tab);

    while (p < end && s.st == CLI_OK) {
        const unsigned char *q = line_end(p, end);
        size_t n = (size_t)(q - p);
        if (csv_parse(&parser, p, n, on_field, on_row, &s) != n &&
            s.st == CLI_OK) {
            int err = csv_error(&parser);
            if (err == CSV_ENOMEM || err == CSV_ETOOBIG)
                fail_nomem(&s);
            else
                s.st = cli_fail(e, CLI_E_DATA, "%s: line %zu, column %zu: "
                                "a misplaced quote; a quoted field must "
                                "start and end with '\"' and write a quote "
                                "inside as \"\"", s.file, s.line, s.col);
        }
        p = q;
        /* a line break inside quotes continues the field on the next
         * line; otherwise the row has ended with this line */
        if (q > src->bytes && (q[-1] == '\n' || q[-1] == '\r'))
            s.line++;
    }
    if (s.st == CLI_OK) {
        /* what csv_fini reports belongs to the last line: the line
         * counter went one past it if that line ended with a break */
        if (s.line > 1 && (p[-1] == '\n' || p[-1] == '\r'))
            s.line--;
        if (csv_fini(&parser, on_field, on_row, &s) != 0 ||
            (csv_error(&parser) == CSV_EPARSE && s.st == CLI_OK)) {
            if (s.st == CLI_OK)
                s.st = cli_fail(e, CLI_E_DATA, "%s: line %zu: a quoted field "
                                "is not closed by the end of the file",
                                s.file, s.line);
        }
    }
    if (s.st == CLI_OK && !s.planned)
        s.st = cli_fail(e, CLI_E_DATA, "%s: %s", s.file,
                        opt->skip ? "nothing after the skipped lines; "
                                    "expected a table"
                                  : "the file is empty; expected a table");
    if (s.st == CLI_OK && out->rows == 0)
        s.st = cli_fail(e, CLI_E_DATA, "%s: line %zu: only a header row; "
                        "expected data rows after it", s.file,
                        out->header_line);
    if (s.st == CLI_OK) {
        out->classes = s.labels.names;
        out->n_classes = s.labels.n;
        s.labels.names = NULL;
        s.labels.n = 0;
    }
done:
    if (parser_ok)
        csv_free(&parser);
    for (i = 0; i < s.first_n; i++)
        cli_free(s.first[i]);
    cli_free(s.first);
    cli_free(s.plan);
    for (i = 0; i < s.labels.n; i++)
        cli_free(s.labels.names[i]);
    cli_free(s.labels.names);
    cli_free(s.labels.slot);
    if (s.st != CLI_OK)
        cli_csv_table_free(out);
    return s.st;
}

void cli_csv_table_free(cli_csv_table *t)
{
    size_t i;
    if (!t)
        return;
    if (t->names) {
        for (i = 0; i < t->ncols; i++)
            cli_free(t->names[i]);
        cli_free(t->names);
    }
    for (i = 0; i < t->n_classes; i++)
        cli_free(t->classes[i]);
    cli_free(t->classes);
    cli_free(t->x);
    cli_free(t->t);
    cli_free(t->label);
    cli_free(t->line);
    memset(t, 0, sizeof *t);
    t->label_col = SIZE_MAX;
}
