/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cli_gzip.c - libFuzzer entry point for the nn command's gzip
 * decompression (cli_gunzip in cli/source.c), fed the raw bytes: it must
 * fail with a message naming the file and a byte offset, or succeed with
 * a NUL after the data; and where libdeflate's path (cli_gunzip_fast) and
 * zlib's (cli_gunzip_zlib) both take the bytes, they give the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *out = NULL;
    size_t n = 0;
    cli_err e;

    if (cli_gunzip("f.gz", data, size, &out, &n, &e) != CLI_OK) {
        check(out == NULL);
        check(strncmp(e.msg, "f.gz: byte ", 11) == 0 ||
              strstr(e.msg, "out of memory") != NULL);
        return 0;
    }
    check(out != NULL && out[n] == '\0');
    cli_free(out);
    if (cli_gunzip_fast(data, size, &out, &n)) {
        unsigned char *z = NULL;
        size_t zn = 0;
        check(out != NULL && out[n] == '\0');
        if (cli_gunzip_zlib("f.gz", data, size, &z, &zn, &e) == CLI_OK) {
            check(zn == n && memcmp(z, out, n) == 0);
            cli_free(z);
        }
        cli_free(out);
    }
    return 0;
}
