/* SPDX-License-Identifier: MIT */
/*
 * array.c - arrays read from NPY and IDX files: their elements decoded to
 * float, with the checks both formats share (see array.h).
 */
#include "array.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "mem.h"

size_t cli_array_rows(const cli_array *a)
{
    return a->ndim ? a->shape[0] : 0;
}

size_t cli_array_width(const cli_array *a)
{
    size_t w = 1, i;
    for (i = 1; i < a->ndim; i++)
        w *= a->shape[i];
    return w;
}

void cli_array_free(cli_array *a)
{
    if (!a)
        return;
    cli_free(a->data);
    cli_free(a->owner);
    memset(a, 0, sizeof *a);
}

void cli_bytes_to_floats(float *dst, const unsigned char *src, size_t count)
{
    size_t i;
    for (i = 0; i < count; i++)
        dst[i] = (float)src[i];
}

cli_status cli_array_floats(cli_array *a, cli_err *e)
{
    float *out;
    if (!a->u8)
        return CLI_OK;
    out = cli_malloc_array(a->count, sizeof *out);
    if (!out)
        return cli_nomem(e, "for the array's elements");
    cli_bytes_to_floats(out, a->u8, a->count);
    a->data = out;
    a->u8 = NULL;
    cli_free(a->owner);
    a->owner = NULL;
    return CLI_OK;
}

static uint64_t load(const unsigned char *p, size_t size, int big_endian)
{
    uint64_t v = 0;
    size_t i;
    if (big_endian)
        for (i = 0; i < size; i++)
            v = (v << 8) | p[i];
    else
        for (i = size; i-- > 0;)
            v = (v << 8) | p[i];
    return v;
}

#define EXACT_INT 16777216.0 /* 2^24: float holds every integer up to it */

cli_status cli_array_decode(cli_array *a, const unsigned char *bytes,
                            char kind, size_t size, int big_endian,
                            const char *file, size_t data_offset,
                            cli_err *e)
{
    size_t i, width = cli_array_width(a);
    float *out;

    a->data = NULL;
    a->u8 = NULL;
    a->owner = NULL;
    a->kind = kind;
    a->inexact = 0;
    if (kind == 'u' && size == 1) {
        /* bytes (IDX images, uint8 NPY): every value is exact and valid;
         * kept as they are, a quarter of their floats' memory */
        a->u8 = bytes;
        return CLI_OK;
    }
    out = cli_malloc_array(a->count, sizeof *out);
    if (!out)
        return cli_nomem(e, "for the array's elements");
    for (i = 0; i < a->count; i++) {
        uint64_t u = load(bytes + i * size, size, big_endian);
        double d;
        const char *why = NULL;
        switch (kind) {
        case 'f':
            if (size == 4) {
                uint32_t w = (uint32_t)u;
                float f;
                memcpy(&f, &w, sizeof f);
                d = f;
            } else {
                memcpy(&d, &u, sizeof d);
            }
            if (isnan(d))
                why = "NaN";
            else if (isinf(d))
                why = "infinite";
            else if (fabs(d) > FLT_MAX)
                why = "beyond float's range (3.4e38)";
            break;
        case 'i':
            /* sign-extend the size-byte two's complement value */
            if (size < 8 && (u >> (8 * size - 1)) & 1)
                u |= ~(uint64_t)0 << (8 * size);
            d = (double)(int64_t)u;
            break;
        case 'b':
            if (u > 1)
                why = "not a boolean (0 or 1)";
            d = (double)u;
            break;
        default: /* 'u' */
            d = (double)u;
            break;
        }
        if (why) {
            cli_free(out);
            if (a->ndim == 1)
                return cli_fail(e, CLI_E_DATA, "%s: row %zu (byte %zu): "
                                "the value is %s; expected a finite number",
                                file, i, data_offset + i * size, why);
            return cli_fail(e, CLI_E_DATA, "%s: row %zu, column %zu (byte "
                            "%zu): the value is %s; expected a finite "
                            "number", file, i / width, i % width,
                            data_offset + i * size, why);
        }
        if (kind != 'f' && fabs(d) > EXACT_INT)
            a->inexact = 1;
        out[i] = (float)d;
    }
    a->data = out;
    return CLI_OK;
}
