/* SPDX-License-Identifier: MIT */
/*
 * data.c - data sets for the commands (see data.h): choosing the CSV
 * columns, reading arrays, picking rows, splitting off validation rows,
 * and turning labels into class indices.
 */
#include "data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "idx.h"
#include "mem.h"
#include "npy.h"

/* ---- choosing columns ---- */

typedef struct plan_ctx {
    const cli_data_spec *spec;
    cli_task task;
    size_t nt;
    cli_columns *cols;
} plan_ctx;

static int parse_int(const char *s, long long *v)
{
    char *end;
    if (!((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' &&
                                       s[1] <= '9')))
        return 0;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return *end == '\0' && errno != ERANGE;
}

/* The index of the column an option item names: a header name, else an
 * index counted from 0 (negative: from the end). */
static cli_status resolve_col(const char *opt, const char *item,
                              const char *file, size_t header_line,
                              size_t ncols, char *const *names, size_t *idx,
                              cli_err *e)
{
    size_t i, found = 0, at = 0;
    long long v;
    char shown[96];

    if (names) {
        for (i = 0; i < ncols; i++)
            if (strcmp(names[i], item) == 0) {
                if (!found)
                    at = i;
                found++;
            }
        if (found == 1) {
            *idx = at;
            return CLI_OK;
        }
        if (found > 1)
            return cli_fail(e, CLI_E_USAGE, "%s: line %zu: %zu columns are "
                            "named %s; --%s must choose one by index",
                            file, header_line, found,
                            cli_show(shown, sizeof shown, item,
                                     strlen(item)), opt);
    }
    if (parse_int(item, &v)) {
        if (v < 0)
            v += (long long)ncols;
        if (v >= 0 && (unsigned long long)v < ncols) {
            *idx = (size_t)v;
            return CLI_OK;
        }
        return cli_fail(e, CLI_E_USAGE, "--%s %s: %s has %zu columns "
                        "(0 to %zu, or -1 to -%zu from the end)", opt, item,
                        file, ncols, ncols - 1, ncols);
    }
    if (names)
        return cli_fail(e, CLI_E_USAGE, "--%s: %s: line %zu: no column is "
                        "named %s", opt, file, header_line,
                        cli_show(shown, sizeof shown, item, strlen(item)));
    return cli_fail(e, CLI_E_USAGE, "--%s: %s has no header row, so columns "
                    "are chosen by index (0 to %zu), not by the name %s",
                    opt, file, ncols - 1,
                    cli_show(shown, sizeof shown, item, strlen(item)));
}

static cli_status names_copy(char *const *names, const size_t *idx,
                             size_t n, char ***out, cli_err *e)
{
    size_t i;
    *out = NULL;
    if (!names)
        return CLI_OK;
    *out = cli_malloc_array(n ? n : 1, sizeof **out);
    if (!*out)
        return cli_nomem(e, "for column names");
    for (i = 0; i < n; i++) {
        (*out)[i] = cli_strdup(names[idx[i]]);
        if (!(*out)[i]) {
            while (i-- > 0)
                cli_free((*out)[i]);
            cli_free(*out);
            *out = NULL;
            return cli_nomem(e, "for column names");
        }
    }
    return CLI_OK;
}

/* Chooses the columns by the model's metadata: by name when the file and
 * the model both have them, else by position. */
static cli_status plan_from_model(const plan_ctx *c, const char *file,
                                  size_t header_line, size_t ncols,
                                  char *const *names, size_t *in,
                                  size_t *out, cli_err *e)
{
    const cli_columns *m = c->spec->model;
    int want_out = c->task != CLI_TASK_NONE;
    size_t i, j;
    char shown[96];

    if (names && m->in_name && (!want_out || m->out_name)) {
        for (i = 0; i < m->nin + (want_out ? m->nout : 0); i++) {
            const char *nm = i < m->nin ? m->in_name[i]
                                        : m->out_name[i - m->nin];
            size_t hits = 0, at = 0;
            for (j = 0; j < ncols; j++)
                if (strcmp(names[j], nm) == 0) {
                    hits++;
                    at = j;
                }
            if (hits != 1)
                return cli_fail(e, CLI_E_DATA, "%s: line %zu: %s column "
                                "named %s, %s the model was trained on",
                                file, header_line,
                                hits ? "more than one" : "no",
                                cli_show(shown, sizeof shown, nm,
                                         strlen(nm)),
                                i < m->nin ? "an input" : "a target");
            if (i < m->nin)
                in[i] = at;
            else
                out[i - m->nin] = at;
        }
        return CLI_OK;
    }
    if (m->ncols && ncols == m->ncols) {
        memcpy(in, m->in_col, m->nin * sizeof *in);
        if (want_out)
            memcpy(out, m->out_col, m->nout * sizeof *out);
        return CLI_OK;
    }
    if (!want_out && ncols == c->spec->model_inputs) {
        for (i = 0; i < ncols; i++)
            in[i] = i;
        return CLI_OK;
    }
    if (m->ncols && !want_out)
        return cli_fail(e, CLI_E_DATA, "%s: line %zu: %zu columns; expected "
                        "%zu (the model's inputs) or %zu (as the training "
                        "file)", file, header_line, ncols,
                        c->spec->model_inputs, m->ncols);
    if (m->ncols)
        return cli_fail(e, CLI_E_DATA, "%s: line %zu: %zu columns; expected "
                        "%zu, as the training file had (or choose them with "
                        "--features and --target)", file, header_line,
                        ncols, m->ncols);
    return cli_fail(e, CLI_E_DATA, "%s: line %zu: %zu columns; the model "
                    "takes %zu inputs%s", file, header_line, ncols,
                    c->spec->model_inputs,
                    want_out ? " and needs targets: choose the columns "
                               "with --features and --target"
                             : "");
}

static cli_status plan_cols(void *vctx, const char *file, size_t header_line,
                            size_t ncols, char *const *names,
                            cli_col_plan *plan, size_t *nx, size_t *nt,
                            cli_err *e)
{
    plan_ctx *c = vctx;
    const cli_data_spec *s = c->spec;
    int want_out = c->task != CLI_TASK_NONE;
    size_t *in = NULL, *out = NULL, nin = 0, nout = 0, i;
    unsigned char *used = NULL;
    cli_status st = CLI_OK;
    static char *const last[] = {"-1"};

    {
        /* room for every column, and for all the model's columns */
        size_t room = ncols;
        if (s->model && s->model->nin > room)
            room = s->model->nin;
        if (s->model && s->model->nout > room)
            room = s->model->nout;
        in = cli_malloc_array(room + 1, sizeof *in);
        out = cli_malloc_array(room + 1, sizeof *out);
    }
    used = cli_malloc(ncols);
    if (!in || !out || !used) {
        st = cli_nomem(e, "choosing columns");
        goto done;
    }
    memset(used, 0, ncols);

    if (s->model && !s->n_target && !s->n_features) {
        nin = s->model->nin;
        nout = want_out ? s->model->nout : 0;
        st = plan_from_model(c, file, header_line, ncols, names, in, out, e);
        if (st != CLI_OK)
            goto done;
        for (i = 0; i < nin; i++)
            used[in[i]] = 1;
    } else {
        char *const *titems = s->n_target ? s->target : last;
        size_t ntitems = s->n_target ? s->n_target : 1;
        /* targets: given, or the last column */
        if (want_out || s->n_target) {
            for (i = 0; i < ntitems; i++) {
                size_t k;
                st = resolve_col("target", titems[i], file, header_line,
                                 ncols, names, &k, e);
                if (st != CLI_OK)
                    goto done;
                if (used[k]) {
                    st = cli_fail(e, CLI_E_USAGE, "--target: column %zu is "
                                  "chosen twice", k);
                    goto done;
                }
                used[k] = 2;
                out[nout++] = k;
            }
        }
        if (s->n_features) {
            for (i = 0; i < s->n_features; i++) {
                size_t k;
                st = resolve_col("features", s->features[i], file,
                                 header_line, ncols, names, &k, e);
                if (st != CLI_OK)
                    goto done;
                if (used[k]) {
                    st = cli_fail(e, CLI_E_USAGE, "--features: column %zu is "
                                  "%s", k, used[k] == 2
                                              ? "also a target"
                                              : "chosen twice");
                    goto done;
                }
                used[k] = 1;
                in[nin++] = k;
            }
        } else {
            for (i = 0; i < ncols; i++)
                if (!used[i]) {
                    used[i] = 1;
                    in[nin++] = i;
                }
        }
        if (!want_out)
            nout = 0;
        if (nin == 0) {
            st = cli_fail(e, CLI_E_USAGE, "%s: no columns are left for the "
                          "inputs (the file has %zu, all targets)", file,
                          ncols);
            goto done;
        }
    }
    if (s->model_inputs && nin != s->model_inputs) {
        st = cli_fail(e, CLI_E_USAGE, "%s: %zu input columns are chosen; "
                      "the model takes %zu inputs", file, nin,
                      s->model_inputs);
        goto done;
    }
    if ((c->task == CLI_TASK_CLASSES || c->task == CLI_TASK_BINARY) &&
        nout != 1) {
        st = cli_fail(e, CLI_E_USAGE, "--target: a classifier reads one "
                      "column of class labels; %zu are chosen", nout);
        goto done;
    }
    if (c->task == CLI_TASK_REGRESS && nout != c->nt) {
        st = cli_fail(e, CLI_E_USAGE, "%s: %zu target column%s chosen, but "
                      "the model has %zu output%s; choose %zu with --target",
                      file, nout, nout == 1 ? " is" : "s are", c->nt,
                      c->nt == 1 ? "" : "s", c->nt);
        goto done;
    }

    for (i = 0; i < nin; i++) {
        plan[in[i]].role = CLI_COL_X;
        plan[in[i]].dest = i;
    }
    for (i = 0; i < nout; i++) {
        plan[out[i]].role = c->task == CLI_TASK_REGRESS ? CLI_COL_T
                                                        : CLI_COL_LABEL;
        plan[out[i]].dest = i;
    }
    *nx = nin;
    *nt = c->task == CLI_TASK_REGRESS ? nout : 0;

    c->cols->ncols = ncols;
    c->cols->nin = nin;
    c->cols->nout = nout;
    c->cols->in_col = in;
    c->cols->out_col = out;
    in = out = NULL;
    st = names_copy(names, c->cols->in_col, nin, &c->cols->in_name, e);
    if (st == CLI_OK)
        st = names_copy(names, c->cols->out_col, nout, &c->cols->out_name,
                        e);
done:
    cli_free(in);
    cli_free(out);
    cli_free(used);
    return st;
}

/* ---- reading ---- */

static cli_status load_csv(const cli_data_spec *spec, cli_source *src,
                           cli_task task, size_t nt, cli_data *d, cli_err *e)
{
    cli_csv_table t;
    plan_ctx c;
    cli_status st;

    c.spec = spec;
    c.task = task;
    c.nt = nt;
    c.cols = &d->cols;
    st = cli_csv_read(src, &spec->csv, plan_cols, &c, &t, e);
    if (st != CLI_OK)
        return st;
    d->format = CLI_FMT_CSV;
    d->rows = t.rows;
    d->nx = t.nx;
    d->x = t.x;
    d->nt = t.nt;
    d->t = t.t;
    d->origin = t.line;
    d->raw = t.label;
    d->raw_names = t.classes;
    d->n_raw = t.n_classes;
    d->label_col = t.label_col;
    if (t.label_col != SIZE_MAX && t.names) {
        d->label_col_name = t.names[t.label_col];
        t.names[t.label_col] = NULL;
    }
    t.x = t.t = NULL;
    t.line = NULL;
    t.label = NULL;
    t.classes = NULL;
    t.n_classes = 0;
    cli_csv_table_free(&t);
    return CLI_OK;
}

/* An array from path, or from *pre (path's bytes, read already: taken
 * over and freed) where pre is not NULL; 1-byte unsigned elements stay
 * bytes (a->u8, in the source's buffer, which a then owns) with
 * keep_bytes, else floats. */
static cli_status read_array(const char *path, cli_source *pre,
                             cli_format fmt, int keep_bytes, cli_array *a,
                             cli_err *e)
{
    cli_source src;
    cli_status st = CLI_OK;
    cli_format f;

    if (pre) {
        src = *pre;
        memset(pre, 0, sizeof *pre);
    } else {
        st = cli_source_read(path, &src, e);
    }
    if (st != CLI_OK)
        return st;
    f = fmt != CLI_FMT_AUTO ? fmt : cli_sniff(src.bytes, src.size);
    if (f == CLI_FMT_IDX)
        st = cli_idx_read(&src, a, e);
    else if (f == CLI_FMT_NPY)
        st = cli_npy_read(&src, a, e);
    else
        st = cli_fail(e, CLI_E_DATA, "%s: not an NPY or IDX file (the "
                      "inputs are NPY or IDX, so the targets must be too)",
                      path);
    if (st == CLI_OK && a->u8) {
        if (keep_bytes) {
            a->owner = src.bytes; /* u8 points into them */
            src.bytes = NULL;
        } else {
            st = cli_array_floats(a, e);
            if (st != CLI_OK)
                cli_array_free(a);
        }
    }
    cli_source_free(&src);
    return st;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* Class labels from an array: whole numbers, kept as their decimal names
 * like labels read from a CSV file. */
static cli_status array_labels(const cli_array *a, const char *file,
                               cli_data *d, cli_err *e)
{
    size_t n = a->count, i, m = 0;
    long long *v = cli_malloc_array(n, sizeof *v), *u;
    cli_status st = CLI_OK;

    if (!v)
        return cli_nomem(e, "for the labels");
    if (a->inexact) {
        cli_free(v);
        return cli_fail(e, CLI_E_DATA, "%s: a label beyond 2^24 in "
                        "magnitude; expected class labels", file);
    }
    for (i = 0; i < n; i++) {
        float f = a->data[i];
        if (f != floorf(f)) {
            cli_free(v);
            return cli_fail(e, CLI_E_DATA, "%s: row %zu: %g is not a whole "
                            "number; expected a class label", file, i,
                            (double)f);
        }
        v[i] = (long long)f;
    }
    u = cli_malloc_array(n, sizeof *u);
    d->raw = cli_malloc_array(n, sizeof *d->raw);
    if (!u || !d->raw) {
        st = cli_nomem(e, "for the labels");
        goto done;
    }
    memcpy(u, v, n * sizeof *u);
    qsort(u, n, sizeof *u, cmp_ll);
    for (i = 0; i < n; i++)
        if (i == 0 || u[i] != u[m - 1])
            u[m++] = u[i];
    d->raw_names = cli_malloc_array(m, sizeof *d->raw_names);
    if (!d->raw_names) {
        st = cli_nomem(e, "for the labels");
        goto done;
    }
    for (i = 0; i < m; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", u[i]);
        d->raw_names[i] = cli_strdup(buf);
        if (!d->raw_names[i]) {
            st = cli_nomem(e, "for the labels");
            goto done;
        }
        d->n_raw = i + 1;
    }
    for (i = 0; i < n; i++) {
        long long *hit = bsearch(&v[i], u, m, sizeof *u, cmp_ll);
        d->raw[i] = (uint32_t)(hit - u);
    }
done:
    cli_free(u);
    cli_free(v);
    return st;
}

/* The inputs from spec->path (from *src where the caller has read it:
 * taken over and freed) and the targets from spec->targets_path. */
static cli_status load_arrays(const cli_data_spec *spec, cli_source *src,
                              cli_format fmt, cli_task task, size_t nt,
                              cli_data *d, cli_err *e)
{
    cli_array x, t;
    cli_status st;
    size_t i;

    memset(&t, 0, sizeof t);
    if (spec->n_target || spec->n_features) {
        if (src)
            cli_source_free(src);
        return cli_fail(e, CLI_E_USAGE, "--target and --features choose "
                        "CSV columns; %s is %s (give the targets as a "
                        "second file with --targets)", spec->path,
                        cli_format_name(fmt));
    }
    st = read_array(spec->path, src, fmt, spec->keep_bytes, &x, e);
    if (st != CLI_OK)
        return st;
    d->format = fmt;
    d->rows = cli_array_rows(&x);
    d->nx = cli_array_width(&x);
    d->x = x.data;
    if (x.u8) {
        d->xb_block = x.owner;
        d->xb = x.owner + (x.u8 - x.owner);
    }
    memset(&x, 0, sizeof x); /* d owns its arrays */
    if (spec->model_inputs && d->nx != spec->model_inputs)
        return cli_fail(e, CLI_E_DATA, "%s: rows of %zu values; the model "
                        "takes %zu inputs", spec->path, d->nx,
                        spec->model_inputs);
    d->origin = cli_malloc_array(d->rows, sizeof *d->origin);
    if (!d->origin)
        return cli_nomem(e, "for the rows");
    for (i = 0; i < d->rows; i++)
        d->origin[i] = i;
    if (task == CLI_TASK_NONE)
        return CLI_OK;
    if (!spec->targets_path)
        return cli_fail(e, CLI_E_USAGE, "%s is %s: give the targets as a "
                        "second file with --targets FILE", spec->path,
                        cli_format_name(fmt));
    d->label_file = spec->targets_path;
    st = read_array(spec->targets_path, NULL, CLI_FMT_AUTO, 0, &t, e);
    if (st != CLI_OK)
        return st;
    if (cli_array_rows(&t) != d->rows) {
        st = cli_fail(e, CLI_E_DATA, "%s: %zu rows, but %s has %zu",
                      spec->targets_path, cli_array_rows(&t), spec->path,
                      d->rows);
        goto done;
    }
    if (task == CLI_TASK_REGRESS) {
        if (cli_array_width(&t) != nt) {
            st = cli_fail(e, CLI_E_DATA, "%s: rows of %zu values; the "
                          "model has %zu output%s", spec->targets_path,
                          cli_array_width(&t), nt, nt == 1 ? "" : "s");
            goto done;
        }
        d->nt = nt;
        d->t = t.data;
        t.data = NULL;
    } else {
        if (cli_array_width(&t) != 1) {
            st = cli_fail(e, CLI_E_DATA, "%s: rows of %zu values; expected "
                          "one class label per row", spec->targets_path,
                          cli_array_width(&t));
            goto done;
        }
        st = array_labels(&t, spec->targets_path, d, e);
    }
done:
    cli_array_free(&t);
    return st;
}

cli_status cli_data_load(const cli_data_spec *spec, cli_task task,
                         size_t nt, cli_data *out, cli_err *e)
{
    cli_source src, *pre = NULL;
    cli_format fmt;
    cli_status st;

    memset(out, 0, sizeof *out);
    out->file = spec->path;
    out->label_file = spec->path;
    out->label_col = SIZE_MAX;
    fmt = spec->format;
    if (fmt == CLI_FMT_AUTO || fmt == CLI_FMT_CSV) {
        st = cli_source_read(spec->path, &src, e);
        if (st != CLI_OK)
            return st;
        if (fmt == CLI_FMT_AUTO)
            fmt = cli_sniff(src.bytes, src.size);
        if (fmt == CLI_FMT_CSV) {
            out->file = src.name;
            out->label_file = src.name;
            st = load_csv(spec, &src, task, nt, out, e);
            cli_source_free(&src);
            if (st != CLI_OK)
                cli_data_free(out);
            return st;
        }
        out->file = src.name; /* "(standard input)" for "-" */
        pre = &src; /* NPY or IDX: read once, and standard input too */
    }
    st = load_arrays(spec, pre, fmt, task, nt, out, e);
    if (st != CLI_OK)
        cli_data_free(out);
    return st;
}

/* ---- rows ---- */

/* A new array of the rows idx[0..n) of src (rows of row bytes). */
static cli_status take(const void *src, size_t row, const size_t *idx,
                       size_t n, void **out, cli_err *e)
{
    unsigned char *dst;
    size_t i;
    *out = NULL;
    if (!src)
        return CLI_OK;
    dst = cli_malloc_array(n ? n : 1, row);
    if (!dst)
        return cli_nomem(e, "selecting rows");
    for (i = 0; i < n; i++)
        memcpy(dst + i * row, (const unsigned char *)src + idx[i] * row,
               row);
    *out = dst;
    return CLI_OK;
}

/* dst's arrays become the rows idx[0..n) of src's. */
static cli_status take_rows(cli_data *dst, const cli_data *src,
                            const size_t *idx, size_t n, cli_err *e)
{
    void *x = NULL, *xb = NULL, *t = NULL, *lab = NULL, *raw = NULL;
    void *org = NULL;
    cli_status st;
    if ((st = take(src->x, src->nx * sizeof(float), idx, n, &x, e)) !=
            CLI_OK ||
        (st = take(src->xb, src->nx, idx, n, &xb, e)) != CLI_OK ||
        (st = take(src->t, (src->nt ? src->nt : 1) * sizeof(float), idx, n,
                   &t, e)) != CLI_OK ||
        (st = take(src->labels, sizeof(int32_t), idx, n, &lab, e)) !=
            CLI_OK ||
        (st = take(src->raw, sizeof(uint32_t), idx, n, &raw, e)) !=
            CLI_OK ||
        (st = take(src->origin, sizeof(size_t), idx, n, &org, e)) !=
            CLI_OK) {
        cli_free(x);
        cli_free(xb);
        cli_free(t);
        cli_free(lab);
        cli_free(raw);
        cli_free(org);
        return st;
    }
    if (dst == src) {
        cli_free(dst->x);
        cli_free(dst->xb_block);
        cli_free(dst->t);
        cli_free(dst->labels);
        cli_free(dst->raw);
        cli_free(dst->origin);
    }
    dst->x = x;
    dst->xb = xb;
    dst->xb_block = xb;
    dst->t = t;
    dst->labels = lab;
    dst->raw = raw;
    dst->origin = org;
    dst->rows = n;
    return CLI_OK;
}

cli_status cli_data_select(cli_data *d, const size_t *idx, size_t n,
                           cli_err *e)
{
    return take_rows(d, d, idx, n, e);
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static cli_status copy_shared(cli_data *dst, const cli_data *src,
                              cli_err *e)
{
    size_t i;
    memset(dst, 0, sizeof *dst);
    dst->file = src->file;
    dst->label_file = src->label_file;
    dst->format = src->format;
    dst->nx = src->nx;
    dst->nt = src->nt;
    dst->label_col = src->label_col;
    if (src->label_col_name &&
        !(dst->label_col_name = cli_strdup(src->label_col_name)))
        return cli_nomem(e, "splitting the data");
    if (src->n_raw) {
        dst->raw_names = cli_malloc_array(src->n_raw, sizeof(char *));
        if (!dst->raw_names)
            return cli_nomem(e, "splitting the data");
        for (i = 0; i < src->n_raw; i++) {
            dst->raw_names[i] = cli_strdup(src->raw_names[i]);
            if (!dst->raw_names[i])
                return cli_nomem(e, "splitting the data");
            dst->n_raw = i + 1;
        }
    }
    return CLI_OK;
}

/* Moves the rows idx[0..n) (ascending) to the front, in place: no copy of
 * the whole data set, whose arrays may be most of the memory in use. */
static void compact(void *arr, size_t row, const size_t *idx, size_t n)
{
    unsigned char *a = arr;
    size_t i;
    if (!a)
        return;
    for (i = 0; i < n; i++)
        if (idx[i] != i)
            memmove(a + i * row, a + idx[i] * row, row);
}

static void keep_in_place(cli_data *d, const size_t *idx, size_t n)
{
    compact(d->x, d->nx * sizeof(float), idx, n);
    compact(d->xb, d->nx, idx, n);
    compact(d->t, (d->nt ? d->nt : 1) * sizeof(float), idx, n);
    compact(d->labels, sizeof(int32_t), idx, n);
    compact(d->raw, sizeof(uint32_t), idx, n);
    compact(d->origin, sizeof(size_t), idx, n);
    d->rows = n;
}

cli_status cli_data_split(cli_data *d, size_t n, uint64_t seed,
                          cli_data *val, cli_err *e)
{
    size_t rows = d->rows, i, *perm;
    uint64_t s = seed ^ 0x5eed5eed5eed5eedull;
    cli_status st;

    memset(val, 0, sizeof *val);
    if (n == 0 || n >= rows)
        return cli_fail(e, CLI_E_USAGE, "--val-split: %zu validation rows "
                        "of %zu leave %s for training", n, rows,
                        n ? "none" : "all (give a fraction in (0, 1) or a "
                                     "count)");
    perm = cli_malloc_array(rows, sizeof *perm);
    if (!perm)
        return cli_nomem(e, "splitting the data");
    for (i = 0; i < rows; i++)
        perm[i] = i;
    for (i = 0; i < n; i++) {
        size_t j = i + (size_t)(splitmix(&s) % (uint64_t)(rows - i));
        size_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
    qsort(perm, n, sizeof *perm, cmp_size);
    qsort(perm + n, rows - n, sizeof *perm, cmp_size);

    /* val takes the first n of perm, d keeps the rest */
    st = copy_shared(val, d, e);
    if (st == CLI_OK)
        st = take_rows(val, d, perm, n, e);
    if (st == CLI_OK)
        keep_in_place(d, perm + n, rows - n);
    cli_free(perm);
    if (st != CLI_OK)
        cli_data_free(val);
    return st;
}

/* ---- classes ---- */

/* Whether s is a whole number, and its value. */
static int label_int(const char *s, long long *v)
{
    const char *p = s;
    char *end;
    if (*p == '+' || *p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return 0;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return *end == '\0' && errno != ERANGE;
}

typedef struct name_ref {
    const char *name;
    long long v;
    size_t raw;
} name_ref;

static int cmp_ref_num(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    return x->v < y->v ? -1 : x->v > y->v;
}

static int cmp_ref_str(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    return strcmp(x->name, y->name);
}

/* "a, b, c" of the first few class names, for messages. */
static void list_names(char *const *names, size_t n, char *buf, size_t size)
{
    size_t o = 0, i;
    buf[0] = '\0';
    for (i = 0; i < n && i < 8; i++) {
        char shown[64];
        int k = snprintf(buf + o, size - o, "%s%s", i ? ", " : "",
                         cli_show(shown, sizeof shown, names[i],
                                  strlen(names[i])));
        if (k < 0 || (size_t)k >= size - o)
            return;
        o += (size_t)k;
    }
    if (n > 8)
        snprintf(buf + o, size - o, ", ... (%zu in all)", n);
}

static void col_desc(const cli_data *d, char *buf, size_t size)
{
    char shown[96];
    if (d->format != CLI_FMT_CSV)
        snprintf(buf, size, "%s", d->label_file);
    else if (d->label_col_name)
        snprintf(buf, size, "%s: column %zu (%s)", d->file, d->label_col,
                 cli_show(shown, sizeof shown, d->label_col_name,
                          strlen(d->label_col_name)));
    else
        snprintf(buf, size, "%s: column %zu", d->file, d->label_col);
}

/* Sets labels or t from the class of each raw label. */
static cli_status apply_classes(cli_data *d, cli_task task,
                                const size_t *cls, cli_err *e)
{
    size_t i;
    if (task == CLI_TASK_CLASSES) {
        cli_free(d->labels);
        d->labels = cli_malloc_array(d->rows, sizeof *d->labels);
        if (!d->labels)
            return cli_nomem(e, "for the labels");
        for (i = 0; i < d->rows; i++)
            d->labels[i] = (int32_t)cls[d->raw[i]];
    } else {
        cli_free(d->t);
        d->t = cli_malloc_array(d->rows, sizeof *d->t);
        if (!d->t)
            return cli_nomem(e, "for the targets");
        d->nt = 1;
        for (i = 0; i < d->rows; i++)
            d->t[i] = (float)cls[d->raw[i]];
    }
    return CLI_OK;
}

cli_status cli_classes_fit(cli_data *d, cli_task task, size_t k,
                           cli_classes *out, cli_err *e)
{
    size_t n = d->n_raw, i, m = 0, *cls = NULL;
    name_ref *ref = NULL;
    int all_int = 1, in_range = 1;
    cli_status st = CLI_OK;
    char where[256], list[512];

    memset(out, 0, sizeof *out);
    if (task == CLI_TASK_BINARY)
        k = 2;
    ref = cli_malloc_array(n ? n : 1, sizeof *ref);
    cls = cli_malloc_array(n ? n : 1, sizeof *cls);
    if (!ref || !cls) {
        st = cli_nomem(e, "for the classes");
        goto done;
    }
    for (i = 0; i < n; i++) {
        ref[i].name = d->raw_names[i];
        ref[i].raw = i;
        ref[i].v = 0;
        if (!label_int(ref[i].name, &ref[i].v))
            all_int = 0;
        else if (ref[i].v < 0 || (unsigned long long)ref[i].v >= k)
            in_range = 0;
    }
    col_desc(d, where, sizeof where);
    if (all_int && in_range) {
        /* labels 0..k-1 are the class indices */
        out->integers = 1;
        out->n = k;
        out->names = cli_malloc_array(k, sizeof *out->names);
        if (!out->names) {
            st = cli_nomem(e, "for the classes");
            goto done;
        }
        for (i = 0; i < k; i++) {
            char buf[32];
            snprintf(buf, sizeof buf, "%zu", i);
            out->names[i] = cli_strdup(buf);
            if (!out->names[i]) {
                st = cli_nomem(e, "for the classes");
                goto done;
            }
        }
        for (i = 0; i < n; i++)
            cls[i] = (size_t)ref[i].v;
    } else {
        char **sorted;
        qsort(ref, n, sizeof *ref, all_int ? cmp_ref_num : cmp_ref_str);
        /* integer labels written two ways ("1", "01") are one class */
        for (i = 0; i < n; i++) {
            if (i > 0 && all_int && ref[i].v == ref[i - 1].v) {
                cls[ref[i].raw] = m - 1;
                continue;
            }
            cls[ref[i].raw] = m++;
        }
        sorted = cli_malloc_array(m ? m : 1, sizeof *sorted);
        if (!sorted) {
            st = cli_nomem(e, "for the classes");
            goto done;
        }
        out->names = sorted;
        for (i = 0; i < n; i++) {
            char buf[32];
            size_t c = cls[ref[i].raw];
            if (i > 0 && cls[ref[i - 1].raw] == c)
                continue;
            if (all_int)
                snprintf(buf, sizeof buf, "%lld", ref[i].v);
            sorted[c] = cli_strdup(all_int ? buf : ref[i].name);
            if (!sorted[c]) {
                st = cli_nomem(e, "for the classes");
                goto done;
            }
            out->n = c + 1;
        }
        if (m != k) {
            list_names(out->names, m, list, sizeof list);
            if (task == CLI_TASK_BINARY)
                st = cli_fail(e, CLI_E_DATA, "%s: %zu class%s (%s); binary "
                              "classification (one sigmoid output) needs "
                              "2", where, m, m == 1 ? "" : "es", list);
            else if (m > k)
                st = cli_fail(e, CLI_E_DATA, "%s: %zu classes (%s), but the "
                              "output layer has %zu units; make its width "
                              "%zu", where, m, list, k, m);
            else
                st = cli_fail(e, CLI_E_DATA, "%s: only %zu class%s (%s), "
                              "but the output layer has %zu units; make its "
                              "width %zu, or use integer labels 0 to %zu",
                              where, m, m == 1 ? "" : "es", list, k, m,
                              k - 1);
            goto done;
        }
    }
    st = apply_classes(d, task, cls, e);
done:
    cli_free(ref);
    cli_free(cls);
    if (st != CLI_OK)
        cli_classes_free(out);
    return st;
}

cli_status cli_classes_map(cli_data *d, cli_task task, const cli_classes *c,
                           cli_err *e)
{
    size_t i, j, *cls = cli_malloc_array(d->n_raw ? d->n_raw : 1,
                                         sizeof *cls);
    cli_status st = CLI_OK;

    if (!cls)
        return cli_nomem(e, "for the classes");
    for (i = 0; i < d->n_raw && st == CLI_OK; i++) {
        const char *nm = d->raw_names[i];
        long long v, w;
        int is_int = label_int(nm, &v);
        size_t hit = SIZE_MAX;
        if (c->integers) {
            if (is_int && v >= 0 && (unsigned long long)v < c->n)
                hit = (size_t)v;
        } else {
            for (j = 0; j < c->n && hit == SIZE_MAX; j++)
                if (strcmp(c->names[j], nm) == 0 ||
                    (is_int && label_int(c->names[j], &w) && w == v))
                    hit = j;
        }
        if (hit == SIZE_MAX) {
            char where[256], list[512], shown[96];
            size_t r;
            for (r = 0; r < d->rows && d->raw[r] != i; r++)
                ;
            if (r == d->rows) {
                cls[i] = 0; /* not in the selected rows: never used */
                continue;
            }
            cli_data_where(d, r, where, sizeof where);
            list_names(c->names, c->n, list, sizeof list);
            st = cli_fail(e, CLI_E_DATA, "%s: class %s was not seen in "
                          "training; the model's classes are %s", where,
                          cli_show(shown, sizeof shown, nm, strlen(nm)),
                          list);
            break;
        }
        cls[i] = hit;
    }
    if (st == CLI_OK)
        st = apply_classes(d, task, cls, e);
    cli_free(cls);
    return st;
}

void cli_data_where(const cli_data *d, size_t row, char *buf, size_t size)
{
    char shown[96];
    if (d->format != CLI_FMT_CSV)
        snprintf(buf, size, "%s: row %zu", d->label_file, d->origin[row]);
    else if (d->label_col_name)
        snprintf(buf, size, "%s: line %zu, column %zu (%s)", d->file,
                 d->origin[row], d->label_col,
                 cli_show(shown, sizeof shown, d->label_col_name,
                          strlen(d->label_col_name)));
    else
        snprintf(buf, size, "%s: line %zu, column %zu", d->file,
                 d->origin[row], d->label_col);
}

/* FNV-1a over 64-bit words (then the bytes left): the training rows can be
 * hundreds of megabytes, hashed once per run. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h ^= w;
        h *= 1099511628211ull;
        h ^= h >> 29;
    }
    for (; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

const float *cli_data_x_floats(const cli_data *d, size_t at, size_t count,
                               float *buf)
{
    if (!d->xb)
        return d->x + at;
    cli_bytes_to_floats(buf, d->xb + at, count);
    return buf;
}

uint64_t cli_data_hash(const cli_data *d)
{
    uint64_t h = 1469598103934665603ull, n = d->rows;
    h = fnv(h, &n, sizeof n);
    if (d->xb) {
        /* the same hash as the bytes' floats */
        size_t i, k, count = d->rows * d->nx;
        float buf[256];
        for (i = 0; i < count; i += k) {
            k = count - i < 256 ? count - i : 256;
            cli_data_x_floats(d, i, k, buf);
            h = fnv(h, buf, k * sizeof(float));
        }
    } else {
        h = fnv(h, d->x, d->rows * d->nx * sizeof(float));
    }
    if (d->t)
        h = fnv(h, d->t, d->rows * (d->nt ? d->nt : 1) * sizeof(float));
    if (d->labels)
        h = fnv(h, d->labels, d->rows * sizeof(int32_t));
    return h;
}

void cli_data_free(cli_data *d)
{
    size_t i;
    if (!d)
        return;
    cli_free(d->x);
    cli_free(d->xb_block);
    cli_free(d->t);
    cli_free(d->labels);
    cli_free(d->raw);
    for (i = 0; i < d->n_raw; i++)
        cli_free(d->raw_names[i]);
    cli_free(d->raw_names);
    cli_free(d->origin);
    cli_free(d->label_col_name);
    cli_columns_free(&d->cols);
    memset(d, 0, sizeof *d);
    d->label_col = SIZE_MAX;
}

void cli_classes_free(cli_classes *c)
{
    size_t i;
    if (!c)
        return;
    if (c->names)
        for (i = 0; i < c->n; i++)
            cli_free(c->names[i]);
    cli_free(c->names);
    memset(c, 0, sizeof *c);
}

void cli_columns_free(cli_columns *c)
{
    size_t i;
    if (!c)
        return;
    if (c->in_name)
        for (i = 0; i < c->nin; i++)
            cli_free(c->in_name[i]);
    if (c->out_name)
        for (i = 0; i < c->nout; i++)
            cli_free(c->out_name[i]);
    cli_free(c->in_name);
    cli_free(c->out_name);
    cli_free(c->in_col);
    cli_free(c->out_col);
    memset(c, 0, sizeof *c);
}
