/* SPDX-License-Identifier: MIT */
/*
 * npy.h - numpy's .npy format (versions 1.0, 2.0 and 3.0): reading arrays
 * of float32, float64, integers of 1 to 8 bytes and booleans, either byte
 * order, C order; writing float32 and int32 arrays.
 */
#ifndef CLI_NPY_H
#define CLI_NPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "array.h"
#include "err.h"
#include "source.h"

/* Reads the array in src. NaN and infinite values, and float64 values
 * beyond float's range, are refused with the row and column (the index
 * within the row) they are at. Errors: CLI_E_DATA with the byte offset or
 * the element, CLI_E_NOMEM. */
cli_status cli_npy_read(const cli_source *src, cli_array *out, cli_err *e);

/* Writes the header of a version 1.0 file for a C-order array of rows x
 * cols ('f': little-endian float32, 'i': int32) into buf, which must hold
 * 256 bytes; cols 0 means a 1-dimensional array of rows. Returns its
 * length (a multiple of 64). */
size_t cli_npy_header(char *buf, char kind, size_t rows, size_t cols);

#endif /* CLI_NPY_H */
