/* SPDX-License-Identifier: MIT */
/*
 * make_expected.c - what libnn 0.1 (model format version 1, commit
 * dbb18d3) computed from the version-1 files copied here from tests/fuzz/corpus/seed-*:
 * for each file, the predictions for fixed rows, and for each checkpoint
 * the parameters after three more training steps. Written once with that
 * libnn and committed as expected.txt, so that test_compat can check that
 * every later libnn loads those files to the same bits.
 *
 * Usage: make_expected DIR > expected.txt (DIR: this directory)
 * Lines: "NAME predict N HEX..." (N floats, bit patterns) and
 *        "NAME resume N HEX...".
 * The rows and targets are rows.h's, which test_compat.c uses too.
 */
#include <stdio.h>
#include <string.h>

#include "nn.h"
#include "rows.h"

static const char *const names[] = {
    "seed-no-loss", "seed-xor-bce", "seed-xor-bce-sgd-checkpoint",
    "seed-mse-identity", "seed-mse-rmsprop-checkpoint", "seed-softmax-ce",
    "seed-softmax-ce-adam-checkpoint", "seed-deep-adamw-checkpoint",
    "seed-unstepped-checkpoint"};


static void print_floats(const char *name, const char *what, const float *v,
                         size_t n)
{
    size_t i;
    printf("%s %s %zu", name, what, n);
    for (i = 0; i < n; i++) {
        unsigned u;
        memcpy(&u, &v[i], sizeof u);
        printf(" %08x", u);
    }
    printf("\n");
}

enum { ROWS = 6 };

int main(int argc, char **argv)
{
    size_t f;
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    for (f = 0; f < sizeof names / sizeof names[0]; f++) {
        char path[4096];
        nn_model *m = NULL;
        float x[ROWS * 8], t[ROWS * 8], y[ROWS * 8], p[256];
        size_t in, out, i, j, count = 0;
        snprintf(path, sizeof path, "%s/%s.nnm", argv[1], names[f]);
        if (nn_model_load(&m, path) != NN_OK) {
            fprintf(stderr, "%s: %s\n", path, nn_last_error());
            return 1;
        }
        in = nn_model_input_width(m);
        out = nn_model_output_width(m);
        for (i = 0; i < ROWS; i++)
            for (j = 0; j < in; j++)
                x[i * in + j] = row_value(i, j);
        if (nn_model_predict(m, ROWS, x, in, y, out) != NN_OK) {
            fprintf(stderr, "%s: %s\n", path, nn_last_error());
            return 1;
        }
        print_floats(names[f], "predict", y, ROWS * out);
        if (strstr(names[f], "checkpoint")) {
            int ce = strstr(names[f], "softmax") || strstr(names[f], "deep");
            int k;
            for (i = 0; i < ROWS; i++)
                for (j = 0; j < out; j++)
                    t[i * out + j] = target_value(i, j, out, ce);
            for (k = 0; k < 3; k++)
                if (nn_model_train_batch(m, ROWS, x, in, t, out, NULL) !=
                    NN_OK) {
                    fprintf(stderr, "%s: %s\n", path, nn_last_error());
                    return 1;
                }
            {
                const float *params = nn_model_params(m, &count);
                memcpy(p, params, count * sizeof(float));
            }
            print_floats(names[f], "resume", p, count);
        }
        nn_model_free(m);
    }
    return 0;
}
