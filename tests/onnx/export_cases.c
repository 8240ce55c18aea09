/* SPDX-License-Identifier: MIT */
/*
 * export_cases.c - writes the models of models.h into a directory for the
 * checks that need other programs: for each NAME,
 *   NAME.onnx  nn_model_export_onnx      (onnx.checker, ONNX Runtime)
 *   NAME.h     nn_model_export_c, "net"  (gcc and clang, c_driver.c)
 *   NAME.in    ROWS rows of input, float32 little-endian
 *   NAME.out   what nn_model_predict gives for them, the same way
 *   NAME.json  {"rows": ROWS, "inputs": IN, "outputs": OUT}
 * and an index, cases.txt, naming every case written, so that a check
 * that finds fewer files than that fails. DIR is created if missing.
 *
 *   export_cases DIR
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models.h"
#include "nn.h"

#define ROWS 64

static int write_floats(const char *path, const float *v, size_t n)
{
    FILE *f = fopen(path, "wb");
    size_t i;
    int ok = f != NULL;
    for (i = 0; ok && i < n; i++) {
        unsigned char b[4];
        uint32_t u;
        memcpy(&u, &v[i], 4);
        b[0] = (unsigned char)u;
        b[1] = (unsigned char)(u >> 8);
        b[2] = (unsigned char)(u >> 16);
        b[3] = (unsigned char)(u >> 24);
        ok = fwrite(b, 1, 4, f) == 4;
    }
    if (f && fclose(f) != 0)
        ok = 0;
    return ok;
}

static int one(const char *dir, size_t k, FILE *index)
{
    char path[1024];
    const char *name = test_cases[k].name;
    nn_model *m = tm_build(k);
    size_t in, out;
    float *x, *y;
    FILE *f;
    int ok;
    if (!m) {
        fprintf(stderr, "export_cases: building %s: %s\n", name,
                nn_last_error());
        return 0;
    }
    in = nn_model_input_width(m);
    out = nn_model_output_width(m);
    x = (float *)malloc(ROWS * in * sizeof(float));
    y = (float *)malloc(ROWS * out * sizeof(float));
    ok = x && y;
    if (ok) {
        tm_rows(k, x, ROWS, in);
        ok = nn_model_predict(m, ROWS, x, in, y, out) == NN_OK;
    }
    snprintf(path, sizeof path, "%s/%s.onnx", dir, name);
    ok = ok && nn_model_export_onnx(m, path) == NN_OK;
    snprintf(path, sizeof path, "%s/%s.h", dir, name);
    ok = ok && nn_model_export_c(m, path, "net") == NN_OK;
    if (!ok)
        fprintf(stderr, "export_cases: %s: %s\n", name, nn_last_error());
    snprintf(path, sizeof path, "%s/%s.in", dir, name);
    ok = ok && write_floats(path, x, ROWS * in);
    snprintf(path, sizeof path, "%s/%s.out", dir, name);
    ok = ok && write_floats(path, y, ROWS * out);
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    f = ok ? fopen(path, "w") : NULL;
    if (f) {
        fprintf(f, "{\"rows\": %d, \"inputs\": %zu, \"outputs\": %zu}\n",
                ROWS, in, out);
        ok = fclose(f) == 0;
    } else {
        ok = 0;
    }
    if (ok)
        fprintf(index, "%s\n", name);
    free(x);
    free(y);
    nn_model_free(m);
    return ok;
}

int main(int argc, char **argv)
{
    char path[1024];
    FILE *index;
    size_t k, written = 0;
    int ok = 1;
    if (argc != 2) {
        fprintf(stderr, "usage: export_cases DIR\n");
        return 2;
    }
    if (mkdir(argv[1], 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "export_cases: cannot create %s\n", argv[1]);
        return 1;
    }
    snprintf(path, sizeof path, "%s/cases.txt", argv[1]);
    index = fopen(path, "w");
    if (!index) {
        fprintf(stderr, "export_cases: cannot write %s\n", path);
        return 1;
    }
    for (k = 0; k < TEST_CASES; k++) {
        int done = one(argv[1], k, index);
        written += (size_t)done;
        ok &= done;
    }
    if (fclose(index) != 0)
        ok = 0;
    printf("export_cases: %zu of %zu models written to %s\n", written,
           TEST_CASES, argv[1]);
    return ok ? 0 : 1;
}
