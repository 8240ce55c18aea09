/* SPDX-License-Identifier: MIT */
/*
 * array.h - an n-dimensional array read from an NPY or IDX file, its
 * elements converted to float (or kept as bytes, see u8), and what they
 * were before.
 */
#ifndef CLI_ARRAY_H
#define CLI_ARRAY_H

#include <stddef.h>

#define CLI_MAX_DIMS 32

typedef struct cli_array {
    size_t ndim;                /* 1 .. CLI_MAX_DIMS */
    size_t shape[CLI_MAX_DIMS];
    size_t count;               /* product of the shape, at least 1 */
    float *data;                /* count values, C order; NULL while u8
                                   holds them */
    const unsigned char *u8;    /* 1-byte unsigned elements (IDX type 0x08,
                                   NPY uint8), count of them in C order, as
                                   read: they point into the decoded bytes
                                   (valid while those are, or owner) until
                                   cli_array_floats converts them */
    unsigned char *owner;       /* the allocation u8 points into, when the
                                   array owns it (freed with the array) */
    char kind;                  /* the stored type: 'f' floating point,
                                   'i' signed or 'u' unsigned integer,
                                   'b' boolean */
    int inexact;                /* an integer of magnitude above 2^24, which
                                   float cannot hold exactly, was rounded */
} cli_array;

/* Rows (the first dimension) and the width of a row (the product of the
 * others; 1 for a 1-dimensional array). */
size_t cli_array_rows(const cli_array *a);
size_t cli_array_width(const cli_array *a);

void cli_array_free(cli_array *a);


#include "err.h"

/* Converts bytes held in a->u8 into a->data (no-op without them). Errors:
 * CLI_E_NOMEM. */
cli_status cli_array_floats(cli_array *a, cli_err *e);

/* dst[i] = src[i] as a float, for i < count: the one conversion of bytes
 * into the values they stand for. */
void cli_bytes_to_floats(float *dst, const unsigned char *src, size_t count);

/* Converts count elements of the given type at bytes (kind 'f', 'i', 'u'
 * or 'b'; size 1, 2, 4 or 8 bytes; big_endian or little) into a->data,
 * allocated here, and sets a->kind and a->inexact; 1-byte unsigned
 * elements are not converted: a->u8 points to them (every value is exact
 * and valid; see cli_array_floats). a->shape, a->ndim and
 * a->count must be set. Refuses NaN, infinities and float64 values beyond
 * float's range, naming the file, the element's row and column and its
 * byte offset (data_offset is the offset of bytes in the file). */
cli_status cli_array_decode(cli_array *a, const unsigned char *bytes,
                            char kind, size_t size, int big_endian,
                            const char *file, size_t data_offset,
                            cli_err *e);

#endif /* CLI_ARRAY_H */
