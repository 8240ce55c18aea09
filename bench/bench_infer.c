/* SPDX-License-Identifier: MIT */
/*
 * bench_infer.c - inference: nn_model_predict of 784-256-128-10 and
 * 784-1024-1024-10 (relu hidden layers, softmax output) at batch 1, 32 and
 * 256, at one BLAS thread unless --threads says otherwise, and whether a
 * call allocates.
 *
 * With --export DIR it also writes each net as DIR/<net>.nn and, through
 * nn_model_export_onnx, DIR/<net>.onnx, and the input rows as DIR/x.f32
 * (256 x 784 floats, little-endian): bench/infer/infer.js times ONNX
 * Runtime and libnn's Node.js package on those files, and bench/infer.sh
 * runs the two programs in turn, several times, for medians side by side.
 *
 * Output: one line per net and batch, "c NET BATCH MICROSECONDS ALLOCS",
 * after the run's header.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "nn.h"

typedef struct infer_net {
    const char *name;
    size_t widths[4];
} infer_net;

static const infer_net nets[] = {
    {"784-256-128-10", {784, 256, 128, 10}},
    {"784-1024-1024-10", {784, 1024, 1024, 10}},
};
static const size_t batches[] = {1, 32, 256};
enum { MAX_ROWS = 256, IN = 784, OUT = 10 };

typedef struct call {
    nn_model *m;
    const float *x;
    float *y;
    size_t n;
} call;

static void predict(void *ctx)
{
    call *c = (call *)ctx;
    if (nn_model_predict(c->m, c->n, c->x, IN, c->y, OUT) != NN_OK) {
        fprintf(stderr, "nn_model_predict: %s\n", nn_last_error());
        exit(1);
    }
}

static nn_model *build(const infer_net *net, uint64_t seed)
{
    nn_model *m = NULL;
    size_t l;
    if (nn_model_create(&m, net->widths[0], seed) != NN_OK)
        goto fail;
    for (l = 1; l < 4; l++)
        if (nn_model_add_dense(m, net->widths[l],
                               l == 3 ? NN_ACT_SOFTMAX : NN_ACT_RELU) !=
            NN_OK)
            goto fail;
    if (nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY) != NN_OK)
        goto fail;
    return m;
fail:
    fprintf(stderr, "building %s: %s\n", net->name, nn_last_error());
    exit(1);
}

static void export_files(const char *dir, nn_model *m, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.nn", dir, name);
    if (nn_model_save(m, path, NN_SAVE_MODEL) != NN_OK)
        goto fail;
    snprintf(path, sizeof path, "%s/%s.onnx", dir, name);
    if (nn_model_export_onnx(m, path) != NN_OK)
        goto fail;
    return;
fail:
    fprintf(stderr, "%s\n", nn_last_error());
    exit(1);
}

static void export_rows(const char *dir, const float *x)
{
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/x.f32", dir);
    f = fopen(path, "wb");
    /* little-endian hosts only, as the benchmarks' machines are */
    if (!f || fwrite(x, sizeof(float), (size_t)MAX_ROWS * IN, f) !=
                  (size_t)MAX_ROWS * IN ||
        fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    static float x[MAX_ROWS * IN], y[MAX_ROWS * OUT];
    const char *export_dir = NULL;
    bench_opts o;
    uint64_t state = 2026;
    size_t i, b;
    int a;

    /* --export DIR is this program's own; the rest are bench_parse's */
    for (a = 1; a < argc; a++)
        if (strcmp(argv[a], "--export") == 0 && a + 1 < argc) {
            export_dir = argv[a + 1];
            memmove(argv + a, argv + a + 2,
                    (size_t)(argc - a - 1) * sizeof *argv);
            argc -= 2;
            break;
        }
    if (bench_parse(argc, argv, &o,
                    "  --export DIR   also write the nets (.nn, .onnx) and "
                    "the rows (x.f32)\n"))
        return 1;
    if (bench_install_counter() != 0)
        return 1;
    /* one thread count: --threads T; the default list (1,2) means 1 */
    if (nn_set_blas_threads((size_t)(o.threads[1] ? 1 : o.threads[0])) !=
        NN_OK) {
        fprintf(stderr, "%s\n", nn_last_error());
        return 1;
    }
    bench_print_header("bench_infer", NULL);
    bench_fill(x, (size_t)MAX_ROWS * IN, 0.0f, 1.0f, &state);
    if (export_dir)
        export_rows(export_dir, x);
    bench_spin(0.5);
    for (i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        nn_model *m;
        if (o.only && !strstr(nets[i].name, o.only))
            continue;
        m = build(&nets[i], 1 + i);
        if (export_dir)
            export_files(export_dir, m, nets[i].name);
        for (b = 0; b < sizeof batches / sizeof batches[0]; b++) {
            call c;
            bench_stat s;
            long before;
            if (o.batch && o.batch != batches[b])
                continue;
            c.m = m;
            c.x = x;
            c.y = y;
            c.n = batches[b];
            s = bench_time(predict, &c, o.min_block, o.reps, 0.0);
            before = bench_allocs.allocs;
            predict(&c);
            printf("c %s %zu %.3f %ld\n", nets[i].name, batches[b],
                   s.median * 1e6, bench_allocs.allocs - before);
            fflush(stdout);
        }
        nn_model_free(m);
    }
    return 0;
}
