/* SPDX-License-Identifier: MIT */
/*
 * spec.c - the --layers specification (see spec.h).
 */
#include "spec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "opts.h"

static int find_name(cli_name_fn fn, const char *s, int *v)
{
    int i;
    for (i = 1; fn(i); i++)
        if (strcmp(fn(i), s) == 0) {
            *v = i;
            return 1;
        }
    return 0;
}

static int number(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return end != s && *end == '\0' && errno != ERANGE && isfinite(*v);
}

static cli_status bad_item(const char *item, const char *why, cli_err *e)
{
    char acts[256];
    return cli_fail(e, CLI_E_USAGE, "--layers: '%s' %s; a layer is "
                    "WIDTH[:ACTIVATION], dropout:RATE, batchnorm, layernorm "
                    "or an activation (%s), then :KEY=VALUE settings",
                    item, why, cli_name_list(cli_act_name, acts,
                                             sizeof acts));
}

static cli_status setting(const char *item, const char *kv, cli_layer *l,
                          cli_err *e)
{
    char key[64], names[256];
    const char *eq = strchr(kv, '=');
    int k, v;
    double d;

    if (!eq || (size_t)(eq - kv) >= sizeof key)
        return bad_item(item, "has a part that is not KEY=VALUE", e);
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    if (!find_name(cli_layer_param_name, key, &k))
        return cli_fail(e, CLI_E_USAGE, "--layers: '%s': unknown setting "
                        "'%s'; expected %s", item, key,
                        cli_name_list(cli_layer_param_name, names,
                                      sizeof names));
    if (k == NN_LAYER_INIT && find_name(cli_init_name, eq + 1, &v))
        d = v;
    else if (!number(eq + 1, &d))
        return cli_fail(e, CLI_E_USAGE, "--layers: '%s': %s=%s is not a "
                        "number%s%s", item, key, eq + 1,
                        k == NN_LAYER_INIT ? " or one of " : "",
                        k == NN_LAYER_INIT
                            ? cli_name_list(cli_init_name, names,
                                            sizeof names)
                            : "");
    if (l->n_set == CLI_LAYER_SETTINGS)
        return bad_item(item, "has too many settings", e);
    l->key[l->n_set] = (nn_layer_param)k;
    l->value[l->n_set] = d;
    l->n_set++;
    return CLI_OK;
}

static cli_status parse_item(char *item, cli_layer *l, cli_err *e)
{
    char *parts[CLI_LAYER_SETTINGS + 3];
    char whole[256];
    size_t np = 0, i, first_set = 1;
    char *p = item;
    int v;
    cli_status st;

    snprintf(whole, sizeof whole, "%s", item);
    memset(l, 0, sizeof *l);
    for (;;) {
        char *c = strchr(p, ':');
        if (np == sizeof parts / sizeof parts[0])
            return bad_item(whole, "has too many parts", e);
        parts[np++] = p;
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    if (parts[0][0] >= '0' && parts[0][0] <= '9') {
        unsigned long long w;
        char *end;
        errno = 0;
        w = strtoull(parts[0], &end, 10);
        if (*end || errno == ERANGE || w == 0 || w > 2147483647ull)
            return bad_item(whole, "has a width that is not a whole number "
                            "from 1 to 2147483647", e);
        l->kind = NN_KIND_DENSE;
        l->width = (size_t)w;
        l->act = NN_ACT_IDENTITY;
        if (np > 1 && !strchr(parts[1], '=')) {
            if (!find_name(cli_act_name, parts[1], &v))
                return bad_item(whole, "names an unknown activation", e);
            l->act = (nn_activation)v;
            first_set = 2;
        }
    } else if (strcmp(parts[0], nn_layer_kind_name(NN_KIND_DROPOUT)) == 0) {
        double r;
        if (np < 2 || !number(parts[1], &r))
            return bad_item(whole, "needs a rate, as in dropout:0.2", e);
        l->kind = NN_KIND_DROPOUT;
        l->rate = r;
        first_set = 2;
    } else if (strcmp(parts[0], nn_layer_kind_name(NN_KIND_BATCHNORM)) ==
               0) {
        l->kind = NN_KIND_BATCHNORM;
    } else if (strcmp(parts[0], nn_layer_kind_name(NN_KIND_LAYERNORM)) ==
               0) {
        l->kind = NN_KIND_LAYERNORM;
    } else if (find_name(cli_act_name, parts[0], &v)) {
        l->kind = NN_KIND_ACTIVATION;
        l->act = (nn_activation)v;
    } else {
        return bad_item(whole, "is not a layer", e);
    }
    for (i = first_set; i < np; i++)
        if ((st = setting(whole, parts[i], l, e)) != CLI_OK)
            return st;
    return CLI_OK;
}

cli_status cli_spec_parse(const char *spec, cli_layer **out, size_t *n,
                          cli_err *e)
{
    size_t len = strlen(spec), cap = 0, count = 0;
    char *copy = cli_strdup(spec), *p;
    cli_layer *v = NULL;
    cli_status st = CLI_OK;

    *out = NULL;
    *n = 0;
    if (!copy)
        return cli_nomem(e, "for --layers");
    if (len == 0) {
        cli_free(copy);
        return cli_fail(e, CLI_E_USAGE, "--layers: empty; give at least the "
                        "output layer, as in 3:softmax");
    }
    p = copy;
    for (;;) {
        char *comma = strchr(p, ','), *a, *b;
        if (comma)
            *comma = '\0';
        a = p;
        while (*a == ' ')
            a++;
        b = a + strlen(a);
        while (b > a && b[-1] == ' ')
            *--b = '\0';
        if (*a == '\0') {
            st = cli_fail(e, CLI_E_USAGE, "--layers: an empty layer in "
                          "'%s'", spec);
            break;
        }
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            cli_layer *q = cli_realloc_array(v, ncap, sizeof *q);
            if (!q) {
                st = cli_nomem(e, "for --layers");
                break;
            }
            v = q;
            cap = ncap;
        }
        if ((st = parse_item(a, &v[count], e)) != CLI_OK)
            break;
        count++;
        if (!comma)
            break;
        p = comma + 1;
    }
    cli_free(copy);
    if (st != CLI_OK) {
        cli_free(v);
        return st;
    }
    *out = v;
    *n = count;
    return CLI_OK;
}

static cli_status lib_fail(const char *what, nn_status s, cli_err *e)
{
    return cli_fail(e, CLI_E_USAGE, "--layers: %s: %s", what,
                    nn_last_error()[0] ? nn_last_error()
                                       : nn_status_string(s));
}

cli_status cli_spec_apply(nn_model *m, const cli_layer *l, size_t n,
                          cli_err *e)
{
    size_t i, j;
    for (i = 0; i < n; i++) {
        size_t index = nn_model_layer_count(m);
        nn_status s;
        char what[64];
        snprintf(what, sizeof what, "layer %zu", i + 1);
        switch (l[i].kind) {
        case NN_KIND_DENSE:
            s = nn_model_add_dense(m, l[i].width, l[i].act);
            break;
        case NN_KIND_DROPOUT:
            s = nn_model_add_dropout(m, l[i].rate);
            break;
        case NN_KIND_BATCHNORM:
            s = nn_model_add_batchnorm(m);
            break;
        case NN_KIND_LAYERNORM:
            s = nn_model_add_layernorm(m);
            break;
        case NN_KIND_ACTIVATION:
            s = nn_model_add_activation(m, l[i].act);
            break;
        default:
            s = NN_E_INVALID;
            break;
        }
        if (s != NN_OK)
            return lib_fail(what, s, e);
        for (j = 0; j < l[i].n_set; j++) {
            s = nn_model_set_layer_param(m, index, l[i].key[j],
                                         l[i].value[j]);
            if (s != NN_OK)
                return lib_fail(what, s, e);
        }
    }
    return CLI_OK;
}

size_t cli_spec_output_width(const cli_layer *l, size_t n, size_t input)
{
    size_t i, w = input;
    for (i = 0; i < n; i++)
        if (l[i].kind == NN_KIND_DENSE)
            w = l[i].width;
    return w;
}

nn_activation cli_spec_output_act(const cli_layer *l, size_t n)
{
    size_t i;
    for (i = n; i-- > 0;) {
        if (l[i].kind == NN_KIND_DENSE || l[i].kind == NN_KIND_ACTIVATION)
            return l[i].act;
        if (l[i].kind != NN_KIND_DROPOUT)
            return NN_ACT_IDENTITY;
    }
    return NN_ACT_IDENTITY;
}
