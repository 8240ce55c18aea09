/* SPDX-License-Identifier: MIT */
/*
 * c_driver.c - runs a header written by nn_model_export_c (prefix "net")
 * on the rows export_cases wrote and compares with what nn_model_predict
 * gave for them. Compiled by check_c_exports.sh with gcc and clang at
 * -std=c99 -Wall -Wextra -Wpedantic -Werror, with NET_HEADER naming the
 * header, together with c_driver_other.c, which includes the header
 * without NET_IMPLEMENTATION: the header serves several files.
 *
 *   c_driver ROWS NAME.in NAME.out
 *
 * Exits 0 when every row is within 1e-6 relative of libnn's: the largest
 * difference of an output relative to the row's largest output of
 * libnn's (an output near 0 that sums larger terms of both signs keeps
 * their rounding, so an output alone is not a measure of it); 1
 * otherwise. Prints the worst row.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NET_IMPLEMENTATION
#include NET_HEADER

/* c_driver_other.c */
void other_predict(const float *x, float *y);

static float *read_floats(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    float *v = (float *)malloc((n ? n : 1) * sizeof(float));
    size_t i;
    if (!f || !v) {
        fprintf(stderr, "c_driver: cannot read %s\n", path);
        exit(2);
    }
    for (i = 0; i < n; i++) {
        unsigned char b[4];
        unsigned long u;
        if (fread(b, 1, 4, f) != 4) {
            fprintf(stderr, "c_driver: %s is short\n", path);
            exit(2);
        }
        u = (unsigned long)b[0] | (unsigned long)b[1] << 8 |
            (unsigned long)b[2] << 16 | (unsigned long)b[3] << 24;
        {
            unsigned int u32 = (unsigned int)u;
            memcpy(&v[i], &u32, 4);
        }
    }
    if (fgetc(f) != EOF) {
        fprintf(stderr, "c_driver: %s is longer than %lu floats\n", path,
                (unsigned long)n);
        exit(2);
    }
    fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    size_t rows, r, j;
    float *x, *want, y[NET_OUTPUTS], y2[NET_OUTPUTS];
    double worst = 0.0, worst_got = 0.0, worst_want = 0.0;
    size_t worst_r = 0, worst_j = 0;
    if (argc != 4) {
        fprintf(stderr, "usage: c_driver ROWS NAME.in NAME.out\n");
        return 2;
    }
    rows = (size_t)strtoul(argv[1], NULL, 10);
    x = read_floats(argv[2], rows * NET_INPUTS);
    want = read_floats(argv[3], rows * NET_OUTPUTS);
    for (r = 0; r < rows; r++) {
        double scale = 0.0, err = 0.0, rel;
        size_t at = 0;
        net_predict(x + r * NET_INPUTS, y);
        other_predict(x + r * NET_INPUTS, y2);
        if (memcmp(y, y2, sizeof y) != 0) {
            fprintf(stderr, "c_driver: row %lu differs between the two "
                    "files\n", (unsigned long)r);
            return 1;
        }
        for (j = 0; j < NET_OUTPUTS; j++) {
            double w = want[r * NET_OUTPUTS + j], d = fabs(y[j] - w);
            if (fabs(w) > scale)
                scale = fabs(w);
            if (!(d <= err)) {
                err = d;
                at = j;
            }
        }
        rel = err / (scale > 0.0 ? scale : 1e-300);
        if (err == 0.0)
            rel = 0.0;
        if (!(rel <= worst)) {
            worst = rel;
            worst_r = r;
            worst_j = at;
            worst_got = y[at];
            worst_want = want[r * NET_OUTPUTS + at];
        }
    }
    printf("c_driver: %lu rows, worst relative difference %.3g (row %lu, "
           "output %lu: %.9g, libnn %.9g)\n", (unsigned long)rows, worst,
           (unsigned long)worst_r, (unsigned long)worst_j, worst_got,
           worst_want);
    free(x);
    free(want);
    return worst <= 1e-6 ? 0 : 1;
}
