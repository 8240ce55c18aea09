/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cli_array.c - libFuzzer entry point for the nn command's NPY and
 * IDX readers (cli/npy.c, cli/idx.c), built twice: FUZZ_NPY or FUZZ_IDX
 * chooses the reader. The input goes through the same front door as a
 * file (gzip-compressed inputs are decompressed first). A read must fail
 * with a message naming the file, or give an array whose shape multiplies
 * to its element count, every element finite.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idx.h"
#include "npy.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_source src;
    cli_array a;
    cli_err e;
    cli_status st;
    size_t i, count = 1;

    if (cli_source_from_memory("f.bin", data, size, &src, &e) != CLI_OK) {
        check(strncmp(e.msg, "f.bin: ", 7) == 0 ||
              strstr(e.msg, "out of memory") != NULL);
        return 0;
    }
#if defined(FUZZ_NPY)
    st = cli_npy_read(&src, &a, &e);
#else
    st = cli_idx_read(&src, &a, &e);
#endif
    if (st == CLI_OK && a.u8) {
        /* bytes point into the source until converted */
        check(a.kind == 'u' && a.data == NULL);
        st = cli_array_floats(&a, &e);
        check(st != CLI_OK || (a.data != NULL && a.u8 == NULL));
    }
    cli_source_free(&src);
    if (st != CLI_OK) {
        check(a.data == NULL);
        check(strncmp(e.msg, "f.bin: ", 7) == 0 ||
              strstr(e.msg, "out of memory") != NULL);
        return 0;
    }
    check(a.ndim >= 1 && a.ndim <= CLI_MAX_DIMS);
    for (i = 0; i < a.ndim; i++)
        count *= a.shape[i];
    check(count == a.count && count > 0);
    check(cli_array_rows(&a) * cli_array_width(&a) == count);
    for (i = 0; i < a.count; i++)
        check(isfinite(a.data[i]));
    cli_array_free(&a);
    return 0;
}
