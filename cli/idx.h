/* SPDX-License-Identifier: MIT */
/*
 * idx.h - the IDX format of MNIST and Fashion-MNIST: a big-endian header
 * (two zero bytes, a type code, the number of dimensions, then each
 * dimension as a 32-bit count) followed by the elements, big-endian:
 * 0x08 unsigned byte, 0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D
 * float32, 0x0E float64. Gzip-compressed files are decompressed first (see
 * source.h).
 */
#ifndef CLI_IDX_H
#define CLI_IDX_H

#include "array.h"
#include "err.h"
#include "source.h"

/* Reads the array in src: the header, then exactly the elements it
 * announces (a short or a longer file is an error). Non-finite floats are
 * refused with their row and column. Errors: CLI_E_DATA with the byte
 * offset or the element, CLI_E_NOMEM. */
cli_status cli_idx_read(const cli_source *src, cli_array *out, cli_err *e);

#endif /* CLI_IDX_H */
