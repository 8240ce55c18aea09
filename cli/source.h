/* SPDX-License-Identifier: MIT */
/*
 * source.h - the bytes of an input file: read whole from a path or from
 * standard input ("-"), gunzipped when they start with gzip's magic
 * number, and sniffed for their format (NPY and IDX by their magic
 * numbers, CSV otherwise).
 */
#ifndef CLI_SOURCE_H
#define CLI_SOURCE_H

#include <stddef.h>

#include "err.h"

typedef enum cli_format {
    CLI_FMT_AUTO = 0, /* decide from the bytes */
    CLI_FMT_CSV = 1,
    CLI_FMT_NPY = 2,
    CLI_FMT_IDX = 3
} cli_format;

typedef struct cli_source {
    const char *name;     /* the path as given, for messages (not owned) */
    unsigned char *bytes; /* the data, decompressed (owned) */
    size_t size;
    int gzipped;          /* the file was gzip-compressed */
} cli_source;

/* Reads path ("-": standard input) into out. Errors: CLI_E_USAGE (no such
 * file, a directory, not readable), CLI_E_IO (a read failed), CLI_E_DATA
 * (damaged gzip data), CLI_E_NOMEM. */
cli_status cli_source_read(const char *path, cli_source *out, cli_err *e);

/* As cli_source_read for bytes already in memory (copied). */
cli_status cli_source_from_memory(const char *name, const void *data,
                                  size_t size, cli_source *out, cli_err *e);

/* Decompresses the gzip data at in (one or more members, as gzip writes
 * them) into a new buffer *out of *out_size bytes (plus a NUL after them).
 * Errors: CLI_E_DATA with the byte offset, CLI_E_NOMEM. Through
 * cli_gunzip_fast where it takes the data, else cli_gunzip_zlib. */
cli_status cli_gunzip(const char *name, const unsigned char *in, size_t size,
                      unsigned char **out, size_t *out_size, cli_err *e);

/* cli_gunzip through zlib's inflate alone: what reports every damaged
 * stream, and what the tests compare cli_gunzip_fast against. */
cli_status cli_gunzip_zlib(const char *name, const unsigned char *in,
                           size_t size, unsigned char **out, size_t *out_size,
                           cli_err *e);

/* cli_gunzip through libdeflate, in builds with it (NN_CLI_HAVE_LIBDEFLATE):
 * 1 and the bytes as cli_gunzip gives them when it decompressed every
 * member and the CRC-32 and length of each matched; else 0 (damaged or
 * truncated data, data after the last member, a member with a header
 * CRC, memory short, or a build without libdeflate), with *out NULL, and
 * cli_gunzip hands the data to zlib. */
int cli_gunzip_fast(const unsigned char *in, size_t size, unsigned char **out,
                    size_t *out_size);

void cli_source_free(cli_source *s);

/* The format the bytes are in: NPY or IDX by their magic number, else
 * CSV. */
cli_format cli_sniff(const unsigned char *bytes, size_t size);

const char *cli_format_name(cli_format f);

#endif /* CLI_SOURCE_H */
