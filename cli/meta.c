/* SPDX-License-Identifier: MIT */
/*
 * meta.c - the metadata nn train keeps in a model (see meta.h).
 */
#include "meta.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "opts.h"

cli_status cli_meta_set(nn_model *m, const char *key, const char *value,
                        cli_err *e)
{
    nn_status s = nn_model_set_meta(m, key, value);
    if (s == NN_OK)
        return CLI_OK;
    return cli_fail(e, s == NN_E_NOMEM ? CLI_E_NOMEM : CLI_E_LIB,
                    "keeping %s in the model: %s", key, nn_last_error());
}

cli_status cli_meta_setf(nn_model *m, const char *key, cli_err *e,
                         const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return cli_meta_set(m, key, buf, e);
}

static cli_status put_list(nn_model *m, const char *role, size_t n,
                           const size_t *col, char **name, cli_err *e)
{
    char key[64];
    size_t i;
    cli_status st;
    for (i = 0; i < n; i++) {
        snprintf(key, sizeof key, "nn.%s.%zu.column", role, i);
        if ((st = cli_meta_setf(m, key, e, "%zu", col[i])) != CLI_OK)
            return st;
        if (name) {
            snprintf(key, sizeof key, "nn.%s.%zu.name", role, i);
            if ((st = cli_meta_set(m, key, name[i], e)) != CLI_OK)
                return st;
        }
    }
    return CLI_OK;
}

cli_status cli_meta_put_columns(nn_model *m, const cli_columns *c,
                                cli_err *e)
{
    cli_status st = cli_meta_setf(m, "nn.columns", e, "%zu", c->ncols);
    if (st == CLI_OK)
        st = put_list(m, "input", c->nin, c->in_col, c->in_name, e);
    if (st == CLI_OK)
        st = put_list(m, "target", c->nout, c->out_col, c->out_name, e);
    return st;
}

cli_status cli_meta_put_classes(nn_model *m, const cli_classes *c,
                                cli_err *e)
{
    char key[64];
    size_t i;
    cli_status st = cli_meta_set(m, "nn.labels",
                                 c->integers ? "integers" : "names", e);
    for (i = 0; i < c->n && st == CLI_OK; i++) {
        snprintf(key, sizeof key, "nn.class.%zu", i);
        st = cli_meta_set(m, key, c->names[i], e);
    }
    return st;
}

cli_status cli_meta_put_args(nn_model *m, char **args, size_t n, cli_err *e)
{
    char key[64];
    size_t i;
    cli_status st = CLI_OK;
    for (i = 0; i < n && st == CLI_OK; i++) {
        snprintf(key, sizeof key, "nn.train.arg.%zu", i);
        st = cli_meta_set(m, key, args[i], e);
    }
    return st;
}

cli_status cli_meta_size(const nn_model *m, const char *file,
                         const char *key, size_t *out, cli_err *e)
{
    const char *v = nn_model_get_meta(m, key);
    unsigned long long x;
    char *end;
    if (!v)
        return cli_fail(e, CLI_E_DATA, "%s: the model has no metadata %s "
                        "(was it made by nn train?)", file, key);
    errno = 0;
    x = strtoull(v, &end, 10);
    if (*v < '0' || *v > '9' || *end || errno == ERANGE || x > SIZE_MAX) {
        char shown[64];
        return cli_fail(e, CLI_E_DATA, "%s: metadata %s is %s; expected a "
                        "whole number", file, key,
                        cli_show(shown, sizeof shown, v, strlen(v)));
    }
    *out = (size_t)x;
    return CLI_OK;
}

static cli_status get_list(const nn_model *m, const char *file,
                           const char *role, size_t n, size_t ncols,
                           size_t **col, char ***name, cli_err *e)
{
    char key[64];
    size_t i, named = 0;
    cli_status st;

    *col = cli_malloc_array(n ? n : 1, sizeof **col);
    *name = cli_malloc_array(n ? n : 1, sizeof **name);
    if (!*col || !*name)
        return cli_nomem(e, "reading the model's columns");
    for (i = 0; i < n; i++)
        (*name)[i] = NULL;
    for (i = 0; i < n; i++) {
        const char *v;
        snprintf(key, sizeof key, "nn.%s.%zu.column", role, i);
        if ((st = cli_meta_size(m, file, key, &(*col)[i], e)) != CLI_OK)
            return st;
        if ((*col)[i] >= ncols)
            return cli_fail(e, CLI_E_DATA, "%s: metadata %s is %zu, beyond "
                            "the %zu columns of nn.columns", file, key,
                            (*col)[i], ncols);
        snprintf(key, sizeof key, "nn.%s.%zu.name", role, i);
        v = nn_model_get_meta(m, key);
        if (v) {
            (*name)[i] = cli_strdup(v);
            if (!(*name)[i])
                return cli_nomem(e, "reading the model's columns");
            named++;
        }
    }
    if (named < n || n == 0) {
        for (i = 0; i < n; i++)
            cli_free((*name)[i]);
        cli_free(*name);
        *name = NULL;
    }
    return CLI_OK;
}

cli_status cli_meta_get_columns(const nn_model *m, const char *file,
                                cli_columns *out, cli_err *e)
{
    cli_status st;
    const char *fmt = nn_model_get_meta(m, "nn.format");

    memset(out, 0, sizeof *out);
    out->nin = nn_model_input_width(m);
    if (!fmt || strcmp(fmt, "csv") != 0 ||
        !nn_model_get_meta(m, "nn.columns"))
        return CLI_OK; /* not trained on CSV: columns by position */
    st = cli_meta_size(m, file, "nn.columns", &out->ncols, e);
    if (st == CLI_OK)
        st = get_list(m, file, "input", out->nin, out->ncols, &out->in_col,
                      &out->in_name, e);
    if (st == CLI_OK) {
        size_t n = 0;
        char key[64];
        snprintf(key, sizeof key, "nn.target.0.column");
        while (nn_model_get_meta(m, key))
            snprintf(key, sizeof key, "nn.target.%zu.column", ++n);
        out->nout = n;
        st = get_list(m, file, "target", n, out->ncols, &out->out_col,
                      &out->out_name, e);
    }
    if (st != CLI_OK)
        cli_columns_free(out);
    return st;
}

cli_status cli_meta_get_classes(const nn_model *m, const char *file,
                                size_t k, cli_classes *out, cli_err *e)
{
    const char *lab = nn_model_get_meta(m, "nn.labels");
    char key[64];
    size_t i;

    memset(out, 0, sizeof *out);
    out->names = cli_malloc_array(k ? k : 1, sizeof *out->names);
    if (!out->names)
        return cli_nomem(e, "reading the classes");
    out->integers = !lab || strcmp(lab, "integers") == 0;
    for (i = 0; i < k; i++) {
        const char *v;
        char buf[32];
        snprintf(key, sizeof key, "nn.class.%zu", i);
        v = nn_model_get_meta(m, key);
        if (!v && lab && !out->integers) {
            cli_classes_free(out);
            return cli_fail(e, CLI_E_DATA, "%s: the model has no metadata "
                            "%s (the name of class %zu)", file, key, i);
        }
        if (!v) {
            snprintf(buf, sizeof buf, "%zu", i);
            v = buf;
        }
        out->names[i] = cli_strdup(v);
        if (!out->names[i]) {
            cli_classes_free(out);
            return cli_nomem(e, "reading the classes");
        }
        out->n = i + 1;
    }
    return CLI_OK;
}

cli_status cli_meta_get_args(const nn_model *m, char ***args, size_t *n,
                             cli_err *e)
{
    char key[64];
    size_t count = 0, i;
    char **v;

    *args = NULL;
    *n = 0;
    for (;;) {
        snprintf(key, sizeof key, "nn.train.arg.%zu", count);
        if (!nn_model_get_meta(m, key))
            break;
        count++;
    }
    v = cli_malloc_array(count ? count : 1, sizeof *v);
    if (!v)
        return cli_nomem(e, "reading the model's options");
    for (i = 0; i < count; i++) {
        snprintf(key, sizeof key, "nn.train.arg.%zu", i);
        v[i] = cli_strdup(nn_model_get_meta(m, key));
        if (!v[i]) {
            cli_list_free(v, i);
            return cli_nomem(e, "reading the model's options");
        }
    }
    *args = v;
    *n = count;
    return CLI_OK;
}

cli_task cli_model_task(const nn_model *m)
{
    nn_loss loss = nn_model_loss(m);
    if (loss == NN_LOSS_CROSS_ENTROPY)
        return CLI_TASK_CLASSES;
    if (loss == NN_LOSS_BCE && nn_model_output_width(m) == 1)
        return CLI_TASK_BINARY;
    return CLI_TASK_REGRESS;
}
