/* SPDX-License-Identifier: MIT */
/*
 * bench_kernels.c - throughput of libnn's element-wise kernels
 * (nn__activation_forward for identity, relu, sigmoid, tanh and softmax;
 * nn__activation_backward for sigmoid; nn__loss_grad for cross-entropy and
 * MSE) in GB/s of data read and written, against a memcpy of the same size,
 * on a block that fits in L2 and one that does not. Also a prototype of a
 * branch-free sigmoid and tanh that the compiler can vectorise, to show
 * what a vectorised kernel would gain.
 *
 * Last, latency: a batch of one waits for each layer's activations before
 * the next layer can start, so what bounds a tiny net's step is how long
 * one element takes to pass through a kernel, not how many pass per
 * second. A chain x <- f(0.75 x - 0.25), each link one call of
 * nn__activation_forward on one element in memory (as a 2-2-1 step makes
 * it), gives that time per link; beside it the same chain with f = libm's
 * 1 / (1 + expf(-z)) (FANN's sigmoid) and with no f (the affine step,
 * the store and the load alone).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_proto.h"
#include "nn_internal.h"

typedef struct kctx {
    int kind;
    size_t n, k;        /* n rows of k */
    float *z, *a, *t;
    int32_t *labels;
} kctx;

enum {
    K_MEMCPY, K_IDENTITY, K_RELU, K_SIGMOID, K_TANH, K_SOFTMAX, K_SIGMOID_BWD,
    K_CE_LABELS, K_MSE_SIGMOID, K_PROTO_SIGMOID, K_PROTO_TANH
};

static void run_kernel(void *v)
{
    kctx *c = (kctx *)v;
    size_t len = c->n * c->k;
    switch (c->kind) {
    case K_MEMCPY:
        memcpy(c->a, c->z, len * sizeof(float));
        break;
    case K_IDENTITY:
        nn__activation_forward(NN_ACT_IDENTITY, 0.0f, c->z, c->a, c->n, c->k);
        break;
    case K_RELU:
        nn__activation_forward(NN_ACT_RELU, 0.0f, c->z, c->a, c->n, c->k);
        break;
    case K_SIGMOID:
        nn__activation_forward(NN_ACT_SIGMOID, 0.0f, c->z, c->a, c->n, c->k);
        break;
    case K_TANH:
        nn__activation_forward(NN_ACT_TANH, 0.0f, c->z, c->a, c->n, c->k);
        break;
    case K_SOFTMAX:
        nn__activation_forward(NN_ACT_SOFTMAX, 0.0f, c->z, c->a, c->n, c->k);
        break;
    case K_SIGMOID_BWD:
        /* g (in t) is zero: repeated calls would otherwise drive it into
         * subnormals; the multiply costs the same for any value. */
        nn__activation_backward(NN_ACT_SIGMOID, 0.0f, NULL, c->z, c->t, c->n,
                                c->k);
        break;
    case K_CE_LABELS: {
        nn__loss_args la = {NN_LOSS_CROSS_ENTROPY, NN_ACT_SOFTMAX, 0.0f, 1.0,
                            0.0, NULL, 0, 0.0};
        la.rows = c->n;
        (void)nn__loss_grad(&la, c->z, c->a, NULL, c->labels, c->t, c->n,
                            c->k);
        break;
    }
    case K_MSE_SIGMOID: {
        nn__loss_args la = {NN_LOSS_MSE, NN_ACT_SIGMOID, 0.0f, 1.0, 0.0, NULL,
                            0, 0.0};
        la.rows = c->n;
        (void)nn__loss_grad(&la, c->z, c->a, c->z, NULL, c->t, c->n, c->k);
        break;
    }
    case K_PROTO_SIGMOID:
        bench_proto_sigmoid(c->z, c->a, len);
        break;
    case K_PROTO_TANH:
        bench_proto_tanh(c->z, c->a, len);
        break;
    }
}

/* ---- latency ---- */

enum { L_NONE = -1, L_LIBM_SIGMOID = -2 };

typedef struct lctx {
    int act; /* an nn_activation, or L_NONE, L_LIBM_SIGMOID */
    size_t links;
    volatile float *z, *a; /* one element each: stored, then loaded */
    float x;
} lctx;

static void run_chain(void *v)
{
    lctx *c = (lctx *)v;
    float x = c->x;
    size_t i;
    for (i = 0; i < c->links; i++) {
        float z = 0.75f * x - 0.25f;
        if (c->act == L_NONE) {
            c->a[0] = z;
        } else if (c->act == L_LIBM_SIGMOID) {
            c->a[0] = 1.0f / (1.0f + expf(-z));
        } else {
            c->z[0] = z;
            nn__activation_forward(c->act, 0.01f, (const float *)c->z,
                                   (float *)c->a, 1, 1);
        }
        x = c->a[0];
    }
    c->x = x;
}

static void latency(const bench_opts *o, FILE *csv)
{
    static const struct {
        int act;
        const char *name;
    } chains[] = {
        {L_NONE, "affine step alone"},
        {NN_ACT_IDENTITY, "identity"},
        {NN_ACT_RELU, "relu"},
        {NN_ACT_SIGMOID, "sigmoid"},
        {NN_ACT_TANH, "tanh"},
        {L_LIBM_SIGMOID, "libm 1/(1+expf(-z))"},
    };
    static float zbuf[16], abuf[16];
    double base = 0.0;
    size_t ci;
    printf("\nLatency: one element through the kernel on a dependent chain "
           "(a batch of one)\n");
    printf("  %-26s %10s %12s %7s\n", "link", "ns/link", "ns - affine",
           "spread");
    for (ci = 0; ci < sizeof chains / sizeof chains[0]; ci++) {
        lctx c;
        bench_stat s;
        double ns;
        c.act = chains[ci].act;
        c.links = 100000;
        c.z = zbuf;
        c.a = abuf;
        c.x = 0.5f;
        s = bench_time(run_chain, &c, o->min_block, o->reps, 0.0);
        ns = s.median * 1e9 / (double)c.links;
        if (ci == 0)
            base = ns;
        printf("  %-26s %10.2f %12.2f %6.1f%%\n", chains[ci].name, ns,
               ns - base, 100.0 * bench_spread(&s));
        if (csv)
            fprintf(csv, "latency %s,1,%.9g,,%.6g,,%.4f\n", chains[ci].name,
                    s.median / (double)c.links, ns, bench_spread(&s));
    }
}

static double max_abs_diff(const float *x, const float *y, size_t len)
{
    size_t i;
    double worst = 0.0;
    for (i = 0; i < len; i++) {
        double d = fabs((double)x[i] - (double)y[i]);
        if (d > worst)
            worst = d;
    }
    return worst;
}

int main(int argc, char **argv)
{
    static const struct {
        int kind;
        const char *name;
        size_t k;        /* row length (softmax, losses) */
        double streams;  /* floats moved per element: read + write */
    } kernels[] = {
        {K_MEMCPY, "memcpy", 0, 2},
        {K_IDENTITY, "identity (copy)", 0, 2},
        {K_RELU, "relu", 0, 2},
        {K_SIGMOID, "sigmoid", 0, 2},
        {K_TANH, "tanh", 0, 2},
        {K_SOFTMAX, "softmax, rows of 10", 10, 2},
        {K_SOFTMAX, "softmax, rows of 1024", 1024, 2},
        {K_SIGMOID_BWD, "sigmoid backward", 0, 3},
        {K_CE_LABELS, "cross-entropy grad, 10", 10, 2},
        {K_MSE_SIGMOID, "MSE grad via sigmoid", 0, 3},
        {K_PROTO_SIGMOID, "prototype sigmoid", 0, 2},
        {K_PROTO_TANH, "prototype tanh", 0, 2},
    };
    static const size_t sizes[] = {65536, 8u << 20}; /* 256 KiB, 32 MiB */
    bench_opts o;
    FILE *csv = NULL;
    size_t si, ki;
    uint64_t seed = 3;

    if (bench_parse(argc, argv, &o, NULL))
        return 1;
    csv = bench_open_csv(&o);
    bench_spin(1.0);
    bench_print_header("bench_kernels", csv);
    if (csv)
        fprintf(csv, "kernel,elements,median_s,gbytes_per_s,ns_per_element,"
                     "vs_memcpy,spread\n");
    printf("GB/s counts the floats each kernel must read and write (2 per "
           "element: z in, a out;\n3 for the backward and MSE: a, t in, g out); memcpy "
           "moves the same 2 x 4 bytes per element.\n");
    for (si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t len = sizes[si], i;
        float *z = (float *)bench_xmalloc(len * sizeof(float));
        float *a = (float *)bench_xmalloc(len * sizeof(float));
        float *t = (float *)bench_xmalloc(len * sizeof(float));
        int32_t *labels = (int32_t *)bench_xmalloc(len * sizeof(int32_t));
        double memcpy_gbs = 0.0;
        bench_fill(z, len, -6.0f, 6.0f, &seed);
        bench_fill(t, len, 0.0f, 1.0f, &seed);
        for (i = 0; i < len; i++)
            labels[i] = (int32_t)(i % 10);
        printf("\n%zu floats (%zu KiB per array)\n", len, len * 4 / 1024);
        printf("  %-26s %10s %9s %9s %9s %7s\n", "kernel", "us", "GB/s",
               "ns/elem", "x memcpy", "spread");
        for (ki = 0; ki < sizeof kernels / sizeof kernels[0]; ki++) {
            kctx c;
            bench_stat s;
            double gbs;
            c.kind = kernels[ki].kind;
            c.k = kernels[ki].k ? kernels[ki].k : 1024;
            c.n = len / c.k;
            c.z = z;
            c.a = a;
            c.t = t;
            c.labels = labels;
            if (c.kind == K_SIGMOID_BWD)
                memset(t, 0, len * sizeof(float));
            s = bench_time(run_kernel, &c, o.min_block, o.reps, 0.0);
            if (c.kind == K_SIGMOID_BWD)
                bench_fill(t, len, 0.0f, 1.0f, &seed);
            gbs = kernels[ki].streams * 4.0 * (double)(c.n * c.k) /
                  s.median * 1e-9;
            if (c.kind == K_MEMCPY)
                memcpy_gbs = gbs;
            printf("  %-26s %10.1f %9.2f %9.3f %9.3f %6.1f%%\n",
                   kernels[ki].name, s.median * 1e6, gbs,
                   s.median * 1e9 / (double)(c.n * c.k),
                   gbs / memcpy_gbs, 100.0 * bench_spread(&s));
            fflush(stdout);
            if (csv)
                fprintf(csv, "%s,%zu,%.9g,%.6g,%.6g,%.6g,%.4f\n",
                        kernels[ki].name, c.n * c.k, s.median, gbs,
                        s.median * 1e9 / (double)(c.n * c.k),
                        gbs / memcpy_gbs, bench_spread(&s));
        }
        if (si == 0) { /* accuracy of the prototypes against the library */
            float *ref = (float *)bench_xmalloc(len * sizeof(float));
            nn__activation_forward(NN_ACT_SIGMOID, 0.0f, z, ref, 1, len);
            bench_proto_sigmoid(z, a, len);
            printf("  prototype sigmoid: max |diff| vs library %.2e",
                   max_abs_diff(ref, a, len));
            nn__activation_forward(NN_ACT_TANH, 0.0f, z, ref, 1, len);
            bench_proto_tanh(z, a, len);
            printf(", prototype tanh: %.2e (z in [-6, 6])\n",
                   max_abs_diff(ref, a, len));
            free(ref);
        }
        free(z);
        free(a);
        free(t);
        free(labels);
    }
    latency(&o, csv);
    if (csv)
        fclose(csv);
    return 0;
}
