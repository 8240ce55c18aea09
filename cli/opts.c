/* SPDX-License-Identifier: MIT */
/*
 * opts.c - option values (see opts.h).
 */
#include "opts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "nn.h"

static int whole(const char *s, unsigned long long *v)
{
    char *end;
    if (*s < '0' || *s > '9')
        return 0;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return *end == '\0' && errno != ERANGE;
}

cli_status cli_opt_size(const char *opt, const char *s, size_t min,
                        size_t max, size_t *out, cli_err *e)
{
    unsigned long long v;
    if (!whole(s, &v))
        return cli_fail(e, CLI_E_USAGE, "--%s: '%s' is not a whole number "
                        "(0, 1, 2, ...)", opt, s);
    if (v < min || v > max)
        return cli_fail(e, CLI_E_USAGE, "--%s: %s is outside %zu to %zu",
                        opt, s, min, max);
    *out = (size_t)v;
    return CLI_OK;
}

cli_status cli_opt_u64(const char *opt, const char *s, uint64_t *out,
                       cli_err *e)
{
    unsigned long long v;
    if (!whole(s, &v))
        return cli_fail(e, CLI_E_USAGE, "--%s: '%s' is not a whole number "
                        "from 0 to 18446744073709551615", opt, s);
    *out = (uint64_t)v;
    return CLI_OK;
}

cli_status cli_opt_double(const char *opt, const char *s, double min,
                          double max, double *out, cli_err *e)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v) || errno == ERANGE)
        return cli_fail(e, CLI_E_USAGE, "--%s: '%s' is not a finite "
                        "number", opt, s);
    if (v < min || v > max)
        return cli_fail(e, CLI_E_USAGE, "--%s: %s is outside %g to %g", opt,
                        s, min, max);
    *out = v;
    return CLI_OK;
}

const char *cli_name_list(cli_name_fn name_fn, char *buf, size_t size)
{
    size_t o = 0, count = 0;
    int v;
    buf[0] = '\0';
    while (name_fn(count + 1))
        count++;
    for (v = 1; (size_t)v <= count; v++) {
        int n = snprintf(buf + o, size - o, "%s%s",
                         v == 1 ? "" : (size_t)v == count ? " or " : ", ",
                         name_fn(v));
        if (n < 0 || (size_t)n >= size - o)
            break;
        o += (size_t)n;
    }
    return buf;
}

cli_status cli_opt_name(const char *opt, const char *s, cli_name_fn name_fn,
                        int *out, cli_err *e)
{
    char list[512];
    int v;
    for (v = 1; name_fn(v); v++)
        if (strcmp(name_fn(v), s) == 0) {
            *out = v;
            return CLI_OK;
        }
    return cli_fail(e, CLI_E_USAGE, "--%s: unknown value '%s'; expected %s",
                    opt, s, cli_name_list(name_fn, list, sizeof list));
}

const char *cli_act_name(int v)
{
    return nn_activation_name((nn_activation)v);
}
const char *cli_loss_name(int v)
{
    return nn_loss_name((nn_loss)v);
}
const char *cli_opt_kind_name(int v)
{
    return nn_optimizer_name((nn_optimizer)v);
}
const char *cli_sched_name(int v)
{
    return nn_schedule_name((nn_schedule)v);
}
const char *cli_param_name(int v)
{
    return nn_param_name((nn_param)v);
}
const char *cli_layer_param_name(int v)
{
    return nn_layer_param_name((nn_layer_param)v);
}
const char *cli_init_name(int v)
{
    return nn_init_name((nn_init)v);
}
const char *cli_kind_name(int v)
{
    return nn_layer_kind_name((nn_layer_kind)v);
}

/* ---- rows ---- */

static int parse_index(const char *s, size_t len, size_t *v)
{
    char buf[32];
    unsigned long long x;
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (!whole(buf, &x) || x > (unsigned long long)SIZE_MAX)
        return 0;
    *v = (size_t)x;
    return 1;
}

cli_status cli_rows_parse(const char *spec, size_t total, const char *file,
                          cli_rows *out, cli_err *e)
{
    const char *p = spec;
    size_t cap = 0;

    out->idx = NULL;
    out->n = 0;
    for (;;) {
        const char *comma = strchr(p, ','), *colon;
        size_t len = comma ? (size_t)(comma - p) : strlen(p), a, b, i;
        colon = memchr(p, ':', len);
        if (colon) {
            size_t la = (size_t)(colon - p), lb = len - la - 1;
            a = 0;
            b = total;
            if ((la && !parse_index(p, la, &a)) ||
                (lb && !parse_index(colon + 1, lb, &b)))
                goto bad;
        } else {
            if (!parse_index(p, len, &a))
                goto bad;
            b = a + 1;
        }
        if (a >= b || b > total) {
            cli_rows_free(out);
            return cli_fail(e, CLI_E_USAGE, "--rows: '%.*s' is outside the "
                            "%zu data rows of %s (counted from 0)",
                            (int)len, p, total, file);
        }
        for (i = a; i < b; i++) {
            if (out->n == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                size_t *q = cli_realloc_array(out->idx, ncap, sizeof *q);
                if (!q) {
                    cli_rows_free(out);
                    return cli_nomem(e, "for --rows");
                }
                out->idx = q;
                cap = ncap;
            }
            out->idx[out->n++] = i;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return CLI_OK;
bad:
    cli_rows_free(out);
    return cli_fail(e, CLI_E_USAGE, "--rows: '%s' is not a list of rows "
                    "such as 0:100,150,200: (A:B is rows A to B-1)", spec);
}

void cli_rows_free(cli_rows *r)
{
    cli_free(r->idx);
    r->idx = NULL;
    r->n = 0;
}

/* ---- lists ---- */

cli_status cli_list_split(const char *opt, const char *s, char ***items,
                          size_t *n, cli_err *e)
{
    size_t cap = 0, len = strlen(s), i = 0;
    char **v = NULL, *cur;
    size_t k = 0;

    *items = NULL;
    *n = 0;
    cur = cli_malloc(len + 1);
    if (!cur)
        return cli_nomem(e, "for a list");
    for (;;) {
        size_t a, b;
        char *item;
        k = 0;
        while (i < len && s[i] != ',') {
            if (s[i] == '\\' && i + 1 < len && s[i + 1] == ',')
                i++;
            cur[k++] = s[i++];
        }
        a = 0;
        b = k;
        while (a < b && cur[a] == ' ')
            a++;
        while (b > a && cur[b - 1] == ' ')
            b--;
        if (a == b) {
            cli_free(cur);
            cli_list_free(v, *n);
            return cli_fail(e, CLI_E_USAGE, "--%s: an empty item in '%s'",
                            opt, s);
        }
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            char **q = cli_realloc_array(v, ncap, sizeof *q);
            if (!q)
                goto nomem;
            v = q;
            cap = ncap;
        }
        item = cli_strndup(cur + a, b - a);
        if (!item)
            goto nomem;
        v[(*n)++] = item;
        if (i >= len)
            break;
        i++; /* the comma */
    }
    cli_free(cur);
    *items = v;
    return CLI_OK;
nomem:
    cli_free(cur);
    cli_list_free(v, *n);
    *n = 0;
    return cli_nomem(e, "for a list");
}

void cli_list_free(char **items, size_t n)
{
    size_t i;
    if (!items)
        return;
    for (i = 0; i < n; i++)
        cli_free(items[i]);
    cli_free(items);
}
