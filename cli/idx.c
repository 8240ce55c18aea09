/* SPDX-License-Identifier: MIT */
/*
 * idx.c - IDX files (see idx.h).
 */
#include "idx.h"

#include <stdint.h>
#include <string.h>

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

cli_status cli_idx_read(const cli_source *src, cli_array *out, cli_err *e)
{
    const unsigned char *b = src->bytes;
    size_t n = src->size, ndim, i, size, head, count = 1, have;
    char kind;
    cli_status st;

    memset(out, 0, sizeof *out);
    if (n < 4 || b[0] != 0 || b[1] != 0)
        return cli_fail(e, CLI_E_DATA, "%s: byte 0: not an IDX file (it "
                        "does not start with two zero bytes)", src->name);
    switch (b[2]) {
    case 0x08:
        kind = 'u';
        size = 1;
        break;
    case 0x09:
        kind = 'i';
        size = 1;
        break;
    case 0x0b:
        kind = 'i';
        size = 2;
        break;
    case 0x0c:
        kind = 'i';
        size = 4;
        break;
    case 0x0d:
        kind = 'f';
        size = 4;
        break;
    case 0x0e:
        kind = 'f';
        size = 8;
        break;
    default:
        return cli_fail(e, CLI_E_DATA, "%s: byte 2: IDX type code 0x%02x; "
                        "expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E",
                        src->name, (unsigned)b[2]);
    }
    ndim = b[3];
    if (ndim == 0 || ndim > CLI_MAX_DIMS)
        return cli_fail(e, CLI_E_DATA, "%s: byte 3: %zu dimensions; "
                        "expected 1 to %d", src->name, ndim, CLI_MAX_DIMS);
    head = 4 + 4 * ndim;
    if (n < head)
        return cli_fail(e, CLI_E_DATA, "%s: byte %zu: the file is "
                        "truncated: the header of %zu dimensions needs %zu "
                        "bytes", src->name, n, ndim, head);
    out->ndim = ndim;
    for (i = 0; i < ndim; i++) {
        size_t d = be32(b + 4 + 4 * i);
        if (d == 0) {
            memset(out, 0, sizeof *out);
            return cli_fail(e, CLI_E_DATA, "%s: byte %zu: dimension %zu is "
                            "0; expected data", src->name, 4 + 4 * i, i);
        }
        if (count > SIZE_MAX / d) {
            memset(out, 0, sizeof *out);
            return cli_fail(e, CLI_E_DATA, "%s: the header announces more "
                            "elements than the file can hold", src->name);
        }
        out->shape[i] = d;
        count *= d;
    }
    have = n - head;
    if (count > have / size) {
        memset(out, 0, sizeof *out);
        return cli_fail(e, CLI_E_DATA, "%s: byte %zu: the file is "
                        "truncated: the header announces %zu elements of "
                        "%zu byte%s, the file holds %zu bytes of data",
                        src->name, n, count, size, size == 1 ? "" : "s",
                        have);
    }
    if (count * size != have) {
        memset(out, 0, sizeof *out);
        return cli_fail(e, CLI_E_DATA, "%s: byte %zu: %zu bytes follow the "
                        "%zu elements the header announces", src->name,
                        head + count * size, have - count * size, count);
    }
    out->count = count;
    st = cli_array_decode(out, b + head, kind, size, 1, src->name, head, e);
    if (st != CLI_OK)
        memset(out, 0, sizeof *out);
    return st;
}
