/* SPDX-License-Identifier: MIT */
/*
 * bench_gunzip.c - the nn command's gzip decompression (cli/source.c):
 * libdeflate's path (cli_gunzip_fast) against zlib's (cli_gunzip_zlib) on
 * one file, in rounds that alternate which goes first, each round a fresh
 * output buffer as nn train has. Built with the nn command and the
 * benchmarks (NN_BUILD_CLI, NN_BUILD_BENCH) in builds with libdeflate.
 *
 *   build/cli/bench_gunzip [FILE.gz [ROUNDS]]
 *
 * FILE defaults to Fashion-MNIST's training images (dataset-fashion-mnist),
 * ROUNDS to 9. Prints each round, then the medians and the median of the
 * rounds' ratios (libdeflate over zlib) with its range.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "mem.h"
#include "source.h"

/* Seconds for one decompression of in, zlib's or libdeflate's; its size
 * in *n, -1 if it failed. */
static double once(int fast, const unsigned char *in, size_t size, size_t *n)
{
    unsigned char *out = NULL;
    cli_err e;
    int ok;
    double t0 = bench_now(), t;
    if (fast)
        ok = cli_gunzip_fast(in, size, &out, n);
    else
        ok = cli_gunzip_zlib("in", in, size, &out, n, &e) == CLI_OK;
    t = bench_now() - t0;
    cli_free(out);
    return ok ? t : -1.0;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1]
                                : "/usr/share/datasets/fashion-mnist/"
                                  "train-images-idx3-ubyte.gz";
    int rounds = argc > 2 ? atoi(argv[2]) : 9, r;
    double tz[101], tf[101], ratio[101];
    double mz, mf, mr;
    size_t nz = 0, nf = 0;
    FILE *f;
    long size;
    unsigned char *in;

    if (rounds < 1 || rounds > 101) {
        fprintf(stderr, "bench_gunzip: ROUNDS must be 1 to 101\n");
        return 1;
    }
    /* the file's bytes as they are (cli_source_read would decompress) */
    f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "bench_gunzip: cannot read %s\n", path);
        return 1;
    }
    in = malloc((size_t)size + 1);
    if (!in || fread(in, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "bench_gunzip: cannot read %s\n", path);
        return 1;
    }
    fclose(f);
    printf("# bench_gunzip %s (%ld bytes), %d rounds, order alternating\n",
           path, size, rounds);
    for (r = 0; r < rounds; r++) {
        if (r % 2 == 0) {
            tz[r] = once(0, in, (size_t)size, &nz);
            tf[r] = once(1, in, (size_t)size, &nf);
        } else {
            tf[r] = once(1, in, (size_t)size, &nf);
            tz[r] = once(0, in, (size_t)size, &nz);
        }
        if (tz[r] < 0.0) {
            fprintf(stderr, "bench_gunzip: zlib refused %s\n", path);
            return 1;
        }
        if (tf[r] < 0.0) {
            fprintf(stderr, "bench_gunzip: libdeflate's path did not take "
                    "%s (a build without libdeflate?)\n", path);
            return 1;
        }
        if (nz != nf) {
            fprintf(stderr, "bench_gunzip: %zu bytes from zlib, %zu from "
                    "libdeflate\n", nz, nf);
            return 1;
        }
        ratio[r] = tf[r] / tz[r];
        printf("round %d  zlib %.4f s  libdeflate %.4f s  ratio %.3f\n",
               r + 1, tz[r], tf[r], ratio[r]);
    }
    mz = bench_median(tz, rounds);
    mf = bench_median(tf, rounds);
    mr = bench_median(ratio, rounds); /* sorts ratio */
    printf("medians: zlib %.4f s, libdeflate %.4f s (%zu bytes out); "
           "ratio %.3f (%.3f-%.3f)\n",
           mz, mf, nz, mr, ratio[0], ratio[rounds - 1]);
    free(in);
    return 0;
}
