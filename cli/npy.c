/* SPDX-License-Identifier: MIT */
/*
 * npy.c - numpy's .npy files (see npy.h). The header is a Python dict
 * literal, {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), },
 * read here by a small parser that accepts what numpy writes and nothing
 * else.
 */
#include "npy.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6

typedef struct hdr {
    const char *file;
    const unsigned char *p, *end;
    size_t base; /* file offset of the header text */
    const unsigned char *start;
    cli_err *e;
} hdr;

static size_t off(const hdr *h)
{
    return h->base + (size_t)(h->p - h->start);
}

static cli_status hfail(hdr *h, const char *what)
{
    return cli_fail(h->e, CLI_E_DATA, "%s: byte %zu: the NPY header is "
                    "malformed: %s", h->file, off(h), what);
}

static void skip_ws(hdr *h)
{
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' ||
                             *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static int accept(hdr *h, char c)
{
    skip_ws(h);
    if (h->p < h->end && *h->p == (unsigned char)c) {
        h->p++;
        return 1;
    }
    return 0;
}

/* A quoted string into buf (size bytes). */
static cli_status string(hdr *h, char *buf, size_t size)
{
    unsigned char q;
    size_t n = 0;
    skip_ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
        return hfail(h, "expected a quoted string");
    q = *h->p++;
    while (h->p < h->end && *h->p != q) {
        if (n + 1 >= size)
            return hfail(h, "a string is too long");
        buf[n++] = (char)*h->p++;
    }
    if (h->p >= h->end)
        return hfail(h, "a string is not closed");
    h->p++;
    buf[n] = '\0';
    return CLI_OK;
}

/* A non-negative decimal integer (numpy 1.x on Python 2 wrote "3L"). */
static cli_status integer(hdr *h, uint64_t *v)
{
    uint64_t x = 0;
    int digits = 0;
    skip_ws(h);
    while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
        unsigned d = (unsigned)(*h->p - '0');
        if (x > (UINT64_MAX - d) / 10)
            return hfail(h, "a dimension is too large");
        x = x * 10 + d;
        h->p++;
        digits++;
    }
    if (!digits)
        return hfail(h, "expected a dimension (a whole number)");
    if (h->p < h->end && *h->p == 'L')
        h->p++;
    *v = x;
    return CLI_OK;
}

static int word(hdr *h, const char *w)
{
    size_t n = strlen(w);
    skip_ws(h);
    if ((size_t)(h->end - h->p) >= n && memcmp(h->p, w, n) == 0) {
        h->p += n;
        return 1;
    }
    return 0;
}

typedef struct dtype {
    char kind;
    size_t size;
    int big_endian;
} dtype;

static cli_status parse_descr(hdr *h, const char *s, dtype *dt)
{
    char order = s[0], k;
    const char *num;
    size_t size;

    if (order != '<' && order != '>' && order != '|' && order != '=')
        return cli_fail(h->e, CLI_E_DATA, "%s: the NPY dtype '%.40s' is "
                        "not supported; expected float32, float64, an "
                        "integer or a boolean type", h->file, s);
    k = s[1];
    num = s + 2;
    if (strcmp(num, "1") == 0)
        size = 1;
    else if (strcmp(num, "2") == 0)
        size = 2;
    else if (strcmp(num, "4") == 0)
        size = 4;
    else if (strcmp(num, "8") == 0)
        size = 8;
    else
        size = 0;
    if (!((k == 'f' && (size == 4 || size == 8)) ||
          ((k == 'i' || k == 'u') && size != 0) || (k == 'b' && size == 1)))
        return cli_fail(h->e, CLI_E_DATA, "%s: the NPY dtype '%.40s' is "
                        "not supported; expected float32 (<f4), float64 "
                        "(<f8), an integer type (i1..i8, u1..u8) or a "
                        "boolean (|b1)", h->file, s);
    dt->kind = k;
    dt->size = size;
    dt->big_endian = order == '>';
    return CLI_OK;
}

static cli_status parse_header(hdr *h, dtype *dt, cli_array *a)
{
    char key[32], val[64];
    int have_descr = 0, have_order = 0, have_shape = 0, fortran = 0;
    cli_status st;

    if (!accept(h, '{'))
        return hfail(h, "expected '{'");
    while (!accept(h, '}')) {
        const unsigned char *key_at;
        skip_ws(h);
        key_at = h->p;
        if ((st = string(h, key, sizeof key)) != CLI_OK)
            return st;
        if (!accept(h, ':'))
            return hfail(h, "expected ':' after a key");
        if (strcmp(key, "descr") == 0 && !have_descr) {
            skip_ws(h);
            if (h->p < h->end && *h->p == '[')
                return cli_fail(h->e, CLI_E_DATA, "%s: the array has a "
                                "structured dtype (fields); expected plain "
                                "numbers", h->file);
            if ((st = string(h, val, sizeof val)) != CLI_OK)
                return st;
            if ((st = parse_descr(h, val, dt)) != CLI_OK)
                return st;
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0 && !have_order) {
            if (word(h, "True"))
                fortran = 1;
            else if (!word(h, "False"))
                return hfail(h, "expected True or False");
            have_order = 1;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            if (!accept(h, '('))
                return hfail(h, "expected '(' starting the shape");
            a->ndim = 0;
            while (!accept(h, ')')) {
                uint64_t v = 0;
                if (a->ndim == CLI_MAX_DIMS)
                    return hfail(h, "more than 32 dimensions");
                if ((st = integer(h, &v)) != CLI_OK)
                    return st;
                if (v > SIZE_MAX)
                    return hfail(h, "a dimension is too large");
                a->shape[a->ndim++] = (size_t)v;
                if (!accept(h, ',')) {
                    if (!accept(h, ')'))
                        return hfail(h, "expected ',' or ')' in the shape");
                    break;
                }
            }
            have_shape = 1;
        } else {
            h->p = key_at;
            return hfail(h, "an unknown or repeated key");
        }
        if (!accept(h, ',')) {
            if (!accept(h, '}'))
                return hfail(h, "expected ',' or '}'");
            break;
        }
    }
    skip_ws(h);
    if (h->p != h->end)
        return hfail(h, "text after the closing '}'");
    if (!have_descr || !have_order || !have_shape)
        return cli_fail(h->e, CLI_E_DATA, "%s: the NPY header lacks '%s'",
                        h->file, !have_descr ? "descr"
                                 : !have_order ? "fortran_order" : "shape");
    if (fortran)
        return cli_fail(h->e, CLI_E_DATA, "%s: the array is in Fortran "
                        "order; expected C order (save "
                        "numpy.ascontiguousarray(a))", h->file);
    if (a->ndim == 0)
        return cli_fail(h->e, CLI_E_DATA, "%s: the array is a scalar (shape "
                        "()); expected rows", h->file);
    return CLI_OK;
}

cli_status cli_npy_read(const cli_source *src, cli_array *out, cli_err *e)
{
    const unsigned char *b = src->bytes;
    size_t n = src->size, hlen, hstart, data_off, count = 1, i;
    dtype dt;
    hdr h;
    cli_status st;

    memset(out, 0, sizeof *out);
    if (n < NPY_MAGIC_LEN + 2 || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return cli_fail(e, CLI_E_DATA, "%s: byte 0: not an NPY file (it does "
                        "not start with \\x93NUMPY)", src->name);
    if (b[6] == 1) {
        if (n < 10)
            return cli_fail(e, CLI_E_DATA, "%s: byte %zu: the file is "
                            "truncated inside its NPY preamble", src->name,
                            n);
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        hstart = 10;
    } else if (b[6] == 2 || b[6] == 3) {
        if (n < 12)
            return cli_fail(e, CLI_E_DATA, "%s: byte %zu: the file is "
                            "truncated inside its NPY preamble", src->name,
                            n);
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 |
               (size_t)b[11] << 24;
        hstart = 12;
    } else {
        return cli_fail(e, CLI_E_DATA, "%s: byte 6: NPY format version "
                        "%u.%u; expected 1.0, 2.0 or 3.0", src->name,
                        (unsigned)b[6], (unsigned)b[7]);
    }
    if (hlen > n - hstart)
        return cli_fail(e, CLI_E_DATA, "%s: byte %zu: the file is truncated: "
                        "the NPY header is %zu bytes, only %zu follow",
                        src->name, hstart, hlen, n - hstart);
    data_off = hstart + hlen;
    h.file = src->name;
    h.p = h.start = b + hstart;
    h.end = b + data_off;
    h.base = hstart;
    h.e = e;
    memset(&dt, 0, sizeof dt);
    st = parse_header(&h, &dt, out);
    if (st != CLI_OK) {
        memset(out, 0, sizeof *out);
        return st;
    }
    for (i = 0; i < out->ndim; i++) {
        if (out->shape[i] == 0) {
            memset(out, 0, sizeof *out);
            return cli_fail(e, CLI_E_DATA, "%s: the array is empty "
                            "(dimension %zu is 0); expected data",
                            src->name, i);
        }
        if (count > SIZE_MAX / out->shape[i]) {
            memset(out, 0, sizeof *out);
            return cli_fail(e, CLI_E_DATA, "%s: the shape announces more "
                            "elements than the file can hold", src->name);
        }
        count *= out->shape[i];
    }
    if (count > (n - data_off) / dt.size || count * dt.size != n - data_off) {
        size_t have = n - data_off;
        int more = count <= have / dt.size;
        memset(out, 0, sizeof *out);
        if (more)
            return cli_fail(e, CLI_E_DATA, "%s: byte %zu: %zu bytes follow "
                            "the %zu elements the header announces",
                            src->name, data_off + count * dt.size,
                            have - count * dt.size, count);
        return cli_fail(e, CLI_E_DATA, "%s: byte %zu: the file is "
                        "truncated: the header announces %zu elements of "
                        "%zu bytes, the file holds %zu bytes of data",
                        src->name, n, count, dt.size, have);
    }
    out->count = count;
    st = cli_array_decode(out, b + data_off, dt.kind, dt.size, dt.big_endian,
                          src->name, data_off, e);
    if (st != CLI_OK)
        memset(out, 0, sizeof *out);
    return st;
}

size_t cli_npy_header(char *buf, char kind, size_t rows, size_t cols)
{
    char dict[160];
    int n;
    size_t total, i;

    if (cols)
        n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': "
                     "False, 'shape': (%zu, %zu), }",
                     kind == 'i' ? "<i4" : "<f4", rows, cols);
    else
        n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': "
                     "False, 'shape': (%zu,), }",
                     kind == 'i' ? "<i4" : "<f4", rows);
    /* magic, version, length, dict, spaces, '\n': a multiple of 64 */
    total = ((size_t)10 + (size_t)n + 1 + 63) / 64 * 64;
    memcpy(buf, NPY_MAGIC, NPY_MAGIC_LEN);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (char)((total - 10) & 0xff);
    buf[9] = (char)((total - 10) >> 8);
    memcpy(buf + 10, dict, (size_t)n);
    for (i = 10 + (size_t)n; i < total - 1; i++)
        buf[i] = ' ';
    buf[total - 1] = '\n';
    return total;
}
