/* SPDX-License-Identifier: MIT */
/*
 * bench_train.c - training steps per second of the nets of issue 7, for:
 *   libnn     nn_model_train_batch(_labels) in a loop (plain SGD);
 *   ceiling   the same cblas_sgemm calls as one step of train.c, on buffers
 *             of the same sizes, and nothing else (the BLAS-bound limit);
 *   naive     the same step with nn__gemm_ref in place of BLAS, reusing the
 *             library's activation and loss kernels;
 *   general   (small nets only) libnn with its small-net path switched
 *             off (nn_model.small_rows = 0): the general path of matrix
 *             products and whole-block kernels, for comparison;
 *   FANN      FANN 2.2 on the same layer sizes, per sample (fann_train) and
 *             in batch mode (fann_train_epoch, FANN_TRAIN_BATCH, one epoch =
 *             one step over the batch), when CMake found libfann.
 * Efficiency is ceiling time / libnn time (above 1 where libnn uses its own
 * loops for products too small for BLAS). It also counts libnn's
 * allocations per step after warm-up and, at 1 thread, measures each
 * non-GEMM part of libnn's step on its own ("where the time goes").
 */
/* BLIS's cblas.h declares pthread barriers (NN_BLAS=blis) */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "bench.h"
#include "bench_nets.h"
#include "nn_internal.h"

#if defined(NN_BENCH_HAVE_FANN)
#include <floatfann.h>
#endif

#define LEARNING_RATE 0.001f

/* ---- the batch ---- */
typedef struct batch {
    const bench_net *net;
    size_t n, in, out;
    float *x, *t;     /* t: n x out targets (one-hot for label nets) */
    int32_t *labels;  /* label nets only */
} batch;

static void batch_make(batch *b, const bench_net *net, size_t n)
{
    uint64_t seed = 42;
    size_t i;
    b->net = net;
    b->n = n;
    b->in = net->widths[0];
    b->out = net->widths[net->n_layers];
    b->x = (float *)bench_xmalloc(n * b->in * sizeof(float));
    b->t = (float *)bench_xmalloc(n * b->out * sizeof(float));
    b->labels = NULL;
    bench_fill(b->x, n * b->in, 0.0f, 1.0f, &seed);
    if (net->labels) {
        b->labels = (int32_t *)bench_xmalloc(n * sizeof(int32_t));
        memset(b->t, 0, n * b->out * sizeof(float));
        for (i = 0; i < n; i++) {
            b->labels[i] = (int32_t)((i * 7 + 3) % b->out);
            b->t[i * b->out + (size_t)b->labels[i]] = 1.0f;
        }
    } else {
        bench_fill(b->t, n * b->out, 0.0f, 1.0f, &seed);
    }
}

static void batch_free(batch *b)
{
    free(b->x);
    free(b->t);
    free(b->labels);
}

static int layer_act(const bench_net *net, size_t l)
{
    return l + 1 == net->n_layers ? net->out_act : net->hidden_act;
}

/* ---- libnn ---- */
typedef struct lib_ctx {
    nn_model *m;
    const batch *b;
    long calls;
    nn_status first_error;
    char error[256];
} lib_ctx;

static nn_model *lib_model(const bench_net *net)
{
    nn_model *m = NULL;
    size_t l;
    if (nn_model_create(&m, net->widths[0], 1) != NN_OK)
        goto fail;
    for (l = 0; l < net->n_layers; l++)
        if (nn_model_add_dense(m, net->widths[l + 1],
                               (nn_activation)layer_act(net, l)) != NN_OK)
            goto fail;
    if (nn_model_set_loss(m, (nn_loss)net->loss) != NN_OK ||
        nn_model_set_param(m, NN_PARAM_LEARNING_RATE, LEARNING_RATE) != NN_OK)
        goto fail;
    return m;
fail:
    fprintf(stderr, "bench_train: building %s: %s\n", net->name,
            nn_last_error());
    exit(2);
}

static void lib_step(void *v)
{
    lib_ctx *c = (lib_ctx *)v;
    const batch *b = c->b;
    double loss;
    nn_status st = b->labels
                       ? nn_model_train_batch_labels(c->m, b->n, b->x, b->in,
                                                     b->labels, &loss)
                       : nn_model_train_batch(c->m, b->n, b->x, b->in, b->t,
                                              b->out, &loss);
    c->calls++;
    if (st != NN_OK && c->first_error == NN_OK) {
        c->first_error = st;
        snprintf(c->error, sizeof c->error, "%s", nn_last_error());
    }
}

/* ---- plain buffers for the ceiling and naive steps ---- */
typedef struct plain {
    const bench_net *net;
    const batch *b;
    size_t n, L, n_params;
    float *params, *grads; /* W_l then b_l per layer, as the library */
    float *w[BENCH_MAX_LAYERS], *bias[BENCH_MAX_LAYERS];
    float *dw[BENCH_MAX_LAYERS], *db[BENCH_MAX_LAYERS];
    float *a[BENCH_MAX_LAYERS]; /* n x out_l */
    float *logits;              /* n x out_L */
    float *g[2];                /* n x max width (naive step) */
    float *d[BENCH_MAX_LAYERS]; /* n x out_l, as the library's deltas */
} plain;

static void plain_make(plain *p, const batch *b)
{
    const bench_net *net = b->net;
    size_t l, off = 0, maxw = 0, total;
    uint64_t seed = 9;
    memset(p, 0, sizeof *p);
    p->net = net;
    p->b = b;
    p->n = b->n;
    p->L = net->n_layers;
    for (l = 0; l <= p->L; l++)
        if (net->widths[l] > maxw)
            maxw = net->widths[l];
    for (l = 0; l < p->L; l++)
        off += net->widths[l] * net->widths[l + 1] + net->widths[l + 1];
    p->n_params = off;
    p->params = (float *)bench_xmalloc(off * sizeof(float));
    p->grads = (float *)bench_xmalloc(off * sizeof(float));
    off = 0;
    for (l = 0; l < p->L; l++) {
        size_t in = net->widths[l], out = net->widths[l + 1];
        float lim = sqrtf(6.0f / (float)(in + out));
        p->w[l] = p->params + off;
        p->dw[l] = p->grads + off;
        off += in * out;
        p->bias[l] = p->params + off;
        p->db[l] = p->grads + off;
        off += out;
        bench_fill(p->w[l], in * out, -lim, lim, &seed);
        memset(p->bias[l], 0, out * sizeof(float));
        p->a[l] = (float *)bench_xmalloc(p->n * out * sizeof(float));
        bench_fill(p->a[l], p->n * out, 0.0f, 1.0f, &seed);
        p->d[l] = (float *)bench_xmalloc(p->n * out * sizeof(float));
        bench_fill(p->d[l], p->n * out, -0.01f, 0.01f, &seed);
    }
    p->logits = (float *)bench_xmalloc(p->n * net->widths[p->L] *
                                       sizeof(float));
    total = p->n * maxw;
    p->g[0] = (float *)bench_xmalloc(total * sizeof(float));
    p->g[1] = (float *)bench_xmalloc(total * sizeof(float));
    bench_fill(p->g[0], total, -0.01f, 0.01f, &seed);
    bench_fill(p->g[1], total, -0.01f, 0.01f, &seed);
    memset(p->grads, 0, p->n_params * sizeof(float));
}

static void plain_free(plain *p)
{
    size_t l;
    for (l = 0; l < p->L; l++) {
        free(p->a[l]);
        free(p->d[l]);
    }
    free(p->params);
    free(p->grads);
    free(p->logits);
    free(p->g[0]);
    free(p->g[1]);
}

/* The ceiling: exactly the cblas_sgemm calls of one train.c step with
 * plain SGD, nothing between them: forward X.W (beta 0; the bias is added
 * with the activation);
 * backward dX = G.W^T from the last layer down to the second; then each
 * layer's update W += -lr A^T.G with beta 1 (optim.c's fused step). */
static void ceiling_step(void *v)
{
    plain *p = (plain *)v;
    const bench_net *net = p->net;
    const float *in = p->b->x;
    size_t l, n = p->n;
    for (l = 0; l < p->L; l++) {
        int fi = (int)net->widths[l], fo = (int)net->widths[l + 1];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, fo, fi,
                    1.0f, in, fi, p->w[l], fo, 0.0f, p->a[l], fo);
        in = p->a[l];
    }
    for (l = p->L; l-- > 1;) {
        int fi = (int)net->widths[l], fo = (int)net->widths[l + 1];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, fi, fo,
                    1.0f, p->d[l], fo, p->w[l], fo, 0.0f, p->d[l - 1], fi);
    }
    for (l = 0; l < p->L; l++) {
        int fi = (int)net->widths[l], fo = (int)net->widths[l + 1];
        const float *a_prev = l ? p->a[l - 1] : p->b->x;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, fi, fo, (int)n,
                    -LEARNING_RATE, a_prev, fi, p->d[l], fo, 1.0f, p->w[l],
                    fo);
    }
}

/* The naive-loop step: train.c's algorithm with nn__gemm_ref for every
 * product, the library's activation and loss kernels, plain SGD. */
static void naive_step(void *v)
{
    plain *p = (plain *)v;
    const bench_net *net = p->net;
    const float *in = p->b->x;
    size_t l, i, n = p->n, out_w = net->widths[p->L];
    int cur = 0;
    for (l = 0; l < p->L; l++) {
        size_t fi = net->widths[l], fo = net->widths[l + 1];
        float *z = l + 1 == p->L ? p->logits : p->a[l];
        for (i = 0; i < n; i++)
            memcpy(z + i * fo, p->bias[l], fo * sizeof(float));
        nn__gemm_ref(0, 0, n, fo, fi, 1.0f, in, fi, p->w[l], fo, 1.0f, z, fo);
        nn__activation_forward(layer_act(net, l), 0.0f, z, p->a[l], n, fo);
        in = p->a[l];
    }
    {
        nn__loss_args la = {0, 0, 0.0f, 1.0, 0.0, NULL, 0, 0.0};
        la.rows = n;
        la.loss = net->loss;
        la.act = net->out_act;
        (void)nn__loss_grad(&la, p->logits, p->a[p->L - 1],
                            p->b->labels ? NULL : p->b->t, p->b->labels,
                            p->g[0], n, out_w);
    }
    for (l = p->L; l-- > 0;) {
        size_t fi = net->widths[l], fo = net->widths[l + 1];
        const float *a_prev = l ? p->a[l - 1] : p->b->x;
        nn__gemm_ref(1, 0, fi, fo, n, 1.0f, a_prev, fi, p->g[cur], fo, 0.0f,
                     p->dw[l], fo);
        (void)nn__column_sums(p->g[cur], p->db[l], n, fo);
        if (l > 0) {
            nn__gemm_ref(0, 1, n, fi, fo, 1.0f, p->g[cur], fo, p->w[l], fo,
                         0.0f, p->g[cur ^ 1], fi);
            nn__activation_backward(layer_act(net, l - 1), 0.0f, NULL,
                                    a_prev, p->g[cur ^ 1], n, fi);
            cur ^= 1;
        }
    }
    for (i = 0; i < p->n_params; i++)
        p->params[i] -= LEARNING_RATE * p->grads[i];
}

/* ---- FANN ---- */
#if defined(NN_BENCH_HAVE_FANN)
typedef struct fann_ctx {
    struct fann *ann;
    struct fann_train_data *data;
    const batch *b;
    size_t next;
} fann_ctx;

static struct fann *fann_model(const bench_net *net)
{
    unsigned sizes[BENCH_MAX_LAYERS + 1];
    size_t l;
    struct fann *ann;
    for (l = 0; l <= net->n_layers; l++)
        sizes[l] = (unsigned)net->widths[l];
    ann = fann_create_standard_array((unsigned)net->n_layers + 1, sizes);
    if (!ann) {
        fprintf(stderr, "bench_train: fann_create_standard_array failed\n");
        exit(2);
    }
    /* FANN 2.2 has no relu and no softmax: relu layers become
     * FANN_LINEAR_PIECE (max(0, min(1, x)), the nearest it has), softmax
     * outputs sigmoid with MSE on one-hot targets. */
    fann_set_activation_function_hidden(
        ann, net->hidden_act == NN_ACT_RELU ? FANN_LINEAR_PIECE : FANN_SIGMOID);
    fann_set_activation_function_output(
        ann, net->out_act == NN_ACT_IDENTITY ? FANN_LINEAR : FANN_SIGMOID);
    fann_set_train_error_function(ann, FANN_ERRORFUNC_LINEAR);
    fann_set_learning_rate(ann, LEARNING_RATE);
    fann_set_learning_momentum(ann, 0.0f);
    fann_randomize_weights(ann, -0.1f, 0.1f);
    return ann;
}

static void fann_sample_step(void *v)
{
    fann_ctx *c = (fann_ctx *)v;
    const batch *b = c->b;
    fann_train(c->ann, b->x + c->next * b->in, b->t + c->next * b->out);
    c->next = c->next + 1 == b->n ? 0 : c->next + 1;
}

/* Rounds of the comparison beside FANN: with 21 the sign test's interval
 * for the median (bench.h) runs from the 6th to the 16th of the sorted
 * ratios, where 7 rounds left it only the smallest and the largest. */
enum { FANN_ROUNDS = 21 };

/* At batch 1: libnn's step and fann_train in alternating blocks, so that
 * a slow spell of the shared machine hits both (the rows above time them
 * one after the other, and on a machine whose speed swings from one
 * second to the next that order decides), and each round's ratio of the
 * two, with a 95% interval for their median (the order of the two blocks
 * alternating from round to round). Target 5 of issue 21, for 2-2-1:
 * libnn at least FANN's samples/s; met where the interval lies at or
 * above 1, not met where it lies below, unresolved otherwise. */
static void beside_fann(const bench_opts *o, const bench_net *net,
                        lib_ctx *lc, fann_ctx *fc, int reps)
{
    bench_stat sl, sf;
    bench_diff ratio; /* FANN's time over libnn's */
    const char *verdict;
    bench_time_pair_ratio(lib_step, lc, fann_sample_step, fc, o->min_block,
                          reps > FANN_ROUNDS ? reps : FANN_ROUNDS, &sl, &sf,
                          &ratio);
    verdict = ratio.lo >= 1.0  ? "met"
              : ratio.hi < 1.0 ? "NOT met"
                               : "unresolved";
    printf("  %-22s libnn %.4g, FANN %.4g samples/s in alternating blocks; "
           "libnn / FANN median of %d rounds %.3f (%.0f%% interval "
           "%.3f-%.3f, rounds %.3f-%.3f)%s%s\n",
           "beside FANN", 1.0 / sl.median, 1.0 / sf.median, ratio.reps,
           ratio.median, ratio.level * 100.0, ratio.lo, ratio.hi, ratio.min,
           ratio.max, strcmp(net->name, "2-2-1") == 0 ? "; target 5: " : "",
           strcmp(net->name, "2-2-1") == 0 ? verdict : "");
}

static void fann_batch_step(void *v)
{
    fann_ctx *c = (fann_ctx *)v;
    (void)fann_train_epoch(c->ann, c->data);
}

static struct fann_train_data *fann_data(const batch *b)
{
    struct fann_train_data *d = fann_create_train((unsigned)b->n,
                                                  (unsigned)b->in,
                                                  (unsigned)b->out);
    size_t i;
    if (!d) {
        fprintf(stderr, "bench_train: fann_create_train failed\n");
        exit(2);
    }
    for (i = 0; i < b->n; i++) {
        memcpy(d->input[i], b->x + i * b->in, b->in * sizeof(float));
        memcpy(d->output[i], b->t + i * b->out, b->out * sizeof(float));
    }
    return d;
}
#endif

/* ---- where the time goes: each non-GEMM part of libnn's step alone ---- */
typedef struct part_ctx {
    nn_model *m;
    const batch *b;
    float *g0, *gsave; /* activation backward: restore g each call */
    size_t glen;
    float *db;         /* bias gradient: scratch, so m->grads stays valid */
    long slow;         /* fused check: calls that said no */
} part_ctx;

static void part_check_batch(void *v)
{
    part_ctx *c = (part_ctx *)v;
    const batch *b = c->b;
    nn_status st;
#if defined(NN__LABELS) /* the signature grew flags */
    st = nn__check_batch("bench", c->m, b->n, b->x, b->in,
                         b->labels ? NULL : b->t, b->labels ? 0 : b->out,
                         b->labels,
                         (b->labels ? NN__LABELS : 0) | NN__STEP);
#else
    st = nn__check_batch("bench", c->m, b->n, b->x, b->in,
                         b->labels ? NULL : b->t,
                         b->labels ? (size_t)-1 : b->out, b->labels);
#endif
    (void)st;
}

static void part_act_forward(void *v)
{
    part_ctx *c = (part_ctx *)v;
    nn_model *m = c->m;
    size_t l;
    for (l = 0; l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        float *z = m->extra[l] ? m->extra[l] : m->act[l]; /* dense: Z */
        uint32_t top;
        nn__activation_forward_bias(L->act, nn__act_param(L), z,
                                    m->params + L->b_off, m->act[l],
                                    c->b->n, L->out,
                                    l + 1 < m->n_layers ? &top : NULL);
    }
}

static void part_loss(void *v)
{
    part_ctx *c = (part_ctx *)v;
    nn_model *m = c->m;
    const nn__layer *L = &m->layers[m->n_layers - 1];
    nn__loss_args la;
    nn__loss_args_of(m, c->b->n, &la);
    (void)nn__loss_grad(&la, m->logits, m->act[m->n_layers - 1],
                        c->b->labels ? NULL : c->b->t, c->b->labels,
                        m->delta[m->n_layers - 1], c->b->n, L->out);
}

/* The output layer's bias gradient; the hidden layers' is part of their
 * activation backward pass. */
static void part_db(void *v)
{
    part_ctx *c = (part_ctx *)v;
    nn_model *m = c->m;
    (void)nn__column_sums(c->gsave, c->db, c->b->n,
                          m->layers[m->n_layers - 1].out);
}

/* Restores g from a copy before each kernel call, so repeated sigmoid
 * derivatives do not drive g into subnormals: an upper bound. */
static void part_act_backward(void *v)
{
    part_ctx *c = (part_ctx *)v;
    nn_model *m = c->m;
    size_t l;
    for (l = 0; l + 1 < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        size_t len = c->b->n * L->out;
        if (L->act != NN_ACT_RELU && L->act != NN_ACT_IDENTITY)
            memcpy(c->g0, c->gsave, len * sizeof(float));
        (void)nn__activation_backward_sums(L->act, nn__act_param(L),
                                           m->extra[l], m->act[l], c->g0,
                                           c->db, c->b->n, L->out);
    }
}

/* The checks that let a plain-SGD step fold its update into the products
 * (the rest of that update is the products themselves). */
static void part_fused_ready(void *v)
{
    part_ctx *c = (part_ctx *)v;
    if (!nn__optim_fused_ready(c->m, c->b->x, c->b->n))
        c->slow++;
}

/* The separate update pass of the other optimizers and of small batches. */
static void part_optim(void *v)
{
    part_ctx *c = (part_ctx *)v;
    nn_status st = nn__optim_step("bench", c->m);
    (void)st;
}

/* ---- results ---- */
typedef struct result {
    const bench_net *net;
    size_t n;
    int threads;
    double lib, ceil, naive, general, fann_sample, fann_batch; /* s/step */
    double lib_spread, ceil_spread;
    double allocs_per_step;
    /* target 2's shares from paired blocks (paired_shares): the step's
     * GF/s over the peak loop's, over the tile's, and the tile's over the
     * peak's; each a median with its 95% interval (reps 0: not measured) */
    bench_diff of_peak, of_tile, tile_of_peak;
} result;

#define MAX_RESULTS 32
static result results[MAX_RESULTS];
static size_t n_results;

static FILE *csv;

/* Issue 21's target 2: these nets at these batches, one thread. */
static const struct {
    const char *net;
    size_t n;
} t21[] = {{"784-256-128-10", 128}, {"784-1024-1024-10", 256}};

static int target2(const bench_net *net, size_t n)
{
    size_t i;
    for (i = 0; i < sizeof t21 / sizeof t21[0]; i++)
        if (!strcmp(net->name, t21[i].net) && n == t21[i].n)
            return 1;
    return 0;
}

/* Rounds of a block of fa (fa_flops per call) and one of fb (fb_flops),
 * in alternating order (bench_time_pair_ratio), and *share, fb's GFLOP/s
 * over fa's: per round fb_flops / fa_flops over the ratio of fb's time
 * per call to fa's, so its median and interval are the ratios' turned
 * over. */
static void paired_share(bench_fn fa, void *ca, double fa_flops,
                         bench_fn fb, void *cb, double fb_flops,
                         double min_block, int rounds, bench_diff *share)
{
    bench_stat sa, sb;
    bench_diff ratio;
    double c = fb_flops / fa_flops;
    bench_time_pair_ratio(fa, ca, fb, cb, min_block, rounds, &sa, &sb,
                          &ratio);
    *share = ratio;
    share->median = c / ratio.median;
    share->lo = c / ratio.hi;
    share->hi = c / ratio.lo;
    share->min = c / ratio.max;
    share->max = c / ratio.min;
}

/* Target 2 against a peak measured beside the step. The peak figure of
 * the run's start is measured once, minutes before some nets' steps, and
 * the core's clock moves between the two (the peak loop alone read 212 to
 * 230 GF/s within minutes on the AMD EPYC of bench/RESULTS.md): here
 * blocks of the step alternate with blocks of the peak loop, and with
 * blocks of the tile, so that each round's ratio sees one clock. */
static void paired_shares(const bench_opts *o, result *r, lib_ctx *lc)
{
    double peak_flops, tile_flops;
    double step_flops = bench_net_step_flops(r->net, r->n);
    int widest = 512, rounds = o->quick ? 7 : 21;
    bench_fn peak = bench_peak_fn(widest, &peak_flops);
    void *tile;
    if (!peak) {
        widest = 256;
        peak = bench_peak_fn(widest, &peak_flops);
    }
    if (!peak)
        return;
    paired_share(peak, NULL, peak_flops, lib_step, lc, step_flops,
                 o->min_block, rounds, &r->of_peak);
    printf("  %-22s %12.3f   median of %d rounds beside the %d-bit peak "
           "loop (95%%: %.3f-%.3f)\n",
           "share of the peak", r->of_peak.median, r->of_peak.reps, widest,
           r->of_peak.lo, r->of_peak.hi);
    tile = bench_tile_new(&tile_flops);
    if (tile) {
        paired_share(bench_tile_call, tile, tile_flops, lib_step, lc,
                     step_flops, o->min_block, rounds, &r->of_tile);
        paired_share(peak, NULL, peak_flops, bench_tile_call, tile,
                     tile_flops, o->min_block, rounds, &r->tile_of_peak);
        printf("  %-22s %12.3f   median of %d rounds beside the tile "
               "(95%%: %.3f-%.3f); the tile %.3f of the peak (%.3f-%.3f)"
               "\n",
               "share of the tile", r->of_tile.median, r->of_tile.reps,
               r->of_tile.lo, r->of_tile.hi, r->tile_of_peak.median,
               r->tile_of_peak.lo, r->tile_of_peak.hi);
        bench_tile_free(tile);
    }
    /* as the efficiency rows: the share in median_s, its interval in
     * min_s and max_s; the tile's row only where the tile ran */
    if (csv)
        fprintf(csv, "%s,%zu,1,share_of_peak,%.6f,%.6f,%.6f,,,%d,,\n",
                r->net->name, r->n, r->of_peak.median, r->of_peak.lo,
                r->of_peak.hi, r->of_peak.reps);
    if (csv && r->of_tile.reps > 0)
        fprintf(csv, "%s,%zu,1,share_of_tile,%.6f,%.6f,%.6f,,,%d,,\n",
                r->net->name, r->n, r->of_tile.median, r->of_tile.lo,
                r->of_tile.hi, r->of_tile.reps);
}

static void report(const result *r, const char *impl, const bench_stat *s,
                   size_t rows_per_step, const char *note)
{
    double sps = 1.0 / s->median;
    double flops = bench_net_step_flops(r->net, r->n);
    printf("  %-22s %12.4g %12.4g %12.4g %8.3g %4d x %-8ld %6.1f%% %s\n",
           impl, s->median * 1e6, sps, sps * (double)rows_per_step,
           rows_per_step == r->n ? flops / s->median * 1e-9 : 0.0, s->reps,
           s->iters, 100.0 * bench_spread(s), note ? note : "");
    fflush(stdout);
    if (csv)
        fprintf(csv, "%s,%zu,%d,%s,%.9g,%.9g,%.9g,%.9g,%.9g,%d,%ld,%.4f\n",
                r->net->name, r->n, r->threads, impl, s->median, s->min,
                s->max, sps, sps * (double)rows_per_step, s->reps, s->iters,
                bench_spread(s));
}

/* The step in two calls, nn_model_compute_grads(_labels) then
 * nn_model_apply_grads, each timed around the call, at the configured
 * thread count: shows what the optimizer costs right after the step's
 * products, with its data where they left it (compute_grads also runs the
 * finite scan that a training step leaves to the optimizer). */
static nn_status grads_of(nn_model *m, const batch *b)
{
    double loss;
    return b->labels ? nn_model_compute_grads_labels(m, b->n, b->x, b->in,
                                                     b->labels, &loss)
                     : nn_model_compute_grads(m, b->n, b->x, b->in, b->t,
                                              b->out, &loss);
}

static void split_step(const bench_opts *o, nn_model *m, const batch *b,
                       int threads)
{
    double cmed[9], amed[9], t0, t1, t2;
    int r, reps = o->reps < 9 ? o->reps : 9, failed = 0;
    long k, iters = 1;
    for (;;) { /* calls per block: about min_block / 2 seconds */
        t0 = bench_now();
        for (k = 0; k < iters; k++)
            failed |= grads_of(m, b) != NN_OK ||
                      nn_model_apply_grads(m) != NN_OK;
        if (bench_now() - t0 >= o->min_block / 2.0 || iters > (1L << 24))
            break;
        iters *= 2;
    }
    for (r = 0; r < reps; r++) {
        double tc = 0.0, ta = 0.0;
        for (k = 0; k < iters; k++) {
            t0 = bench_now();
            failed |= grads_of(m, b) != NN_OK;
            t1 = bench_now();
            failed |= nn_model_apply_grads(m) != NN_OK;
            t2 = bench_now();
            tc += t1 - t0;
            ta += t2 - t1;
        }
        cmed[r] = tc / (double)iters;
        amed[r] = ta / (double)iters;
    }
    printf("  %-22s compute_grads %.4g us + apply_grads %.4g us per step "
           "(%d thread%s; medians of %d blocks)%s\n", "split step",
           bench_median(cmed, reps) * 1e6, bench_median(amed, reps) * 1e6,
           threads, threads > 1 ? "s" : "", reps,
           failed ? "  !! a call failed" : "");
    if (csv)
        fprintf(csv, "%s,%zu,%d,split:compute_grads,%.9g,,,,,%d,%ld,\n"
                     "%s,%zu,%d,split:apply_grads,%.9g,,,,,%d,%ld,\n",
                b->net->name, b->n, threads, bench_median(cmed, reps), reps,
                iters, b->net->name, b->n, threads,
                bench_median(amed, reps), reps, iters);
}

static void breakdown(const bench_opts *o, nn_model *m, const batch *b,
                      double lib_s, double ceil_s)
{
    part_ctx pc;
    lib_ctx lc;
    size_t maxw = nn__max_width(m);
    /* A plain-SGD step of the general path folds its update into the
     * products after a check pass; the small-net path updates separately. */
    int small = b->n <= m->small_rows;
    struct {
        const char *name;
        bench_fn fn;
        int times; /* per step */
    } parts[] = {
        {"argument checks (nn__check_batch)", part_check_batch, 1},
        {"bias and activation forward", part_act_forward, 1},
        {"loss and output gradient", part_loss, 1},
        {"output bias gradient (column sums)", part_db, 1},
        {"activation backward + db (hidden)", part_act_backward, 1},
        {"fused update's checks", part_fused_ready, !small},
        {"nn__optim_step (separate update)", part_optim, small},
    };
    size_t k, count = sizeof parts / sizeof parts[0];
    double sum = ceil_s;
    uint64_t seed = 5;
    pc.m = m;
    pc.b = b;
    pc.slow = 0;
    pc.glen = b->n * maxw;
    pc.g0 = (float *)bench_xmalloc(pc.glen * sizeof(float));
    pc.gsave = (float *)bench_xmalloc(pc.glen * sizeof(float));
    pc.db = (float *)bench_xmalloc(maxw * sizeof(float));
    /* gradient-like values; the workspace beyond what a step wrote is
     * uninitialised and may hold NaN or subnormal bit patterns */
    bench_fill(pc.gsave, pc.glen, -0.01f, 0.01f, &seed);
    /* One training step first, so that the model is as a training loop
     * leaves it: the split step measured before ends with a separate
     * update, after which a folded step's check reads the weights once
     * (optim.c). */
    memset(&lc, 0, sizeof lc);
    lc.m = m;
    lc.b = b;
    lib_step(&lc);
    printf("  where the time goes (each part timed alone, 1 thread):\n");
    if (b->n <= m->small_rows)
        printf("    (this batch takes the small-net path, src/small.c: "
               "its products are not BLAS calls and the bias and column-sum "
               "parts below are the general path's)\n");
    printf("    %-36s %12.3f us  %5.1f%%\n", "GEMMs (ceiling)", ceil_s * 1e6,
           100.0 * ceil_s / lib_s);
    for (k = 0; k < count; k++) {
        bench_stat s = bench_time(parts[k].fn, &pc, o->min_block / 4.0,
                                  o->reps < 5 ? o->reps : 5, 10.0);
        sum += s.median * parts[k].times;
        printf("    %-36s %12.3f us  %5.1f%%%s\n", parts[k].name,
               s.median * 1e6, 100.0 * s.median / lib_s,
               parts[k].times ? "" : "  (not in the sum)");
        if (csv)
            fprintf(csv, "%s,%zu,1,part:%s,%.9g,%.9g,%.9g,,,%d,%ld,%.4f\n",
                    b->net->name, b->n, parts[k].name, s.median, s.min,
                    s.max, s.reps, s.iters, bench_spread(&s));
    }
    printf("    %-36s %12.3f us  %5.1f%%   (libnn step: %.3f us)\n",
           "sum of the parts", sum * 1e6, 100.0 * sum / lib_s, lib_s * 1e6);
    if (pc.slow && !small)
        printf("    !! the fused update's checks failed %ld times\n",
               pc.slow);
    free(pc.g0);
    free(pc.gsave);
    free(pc.db);
}

static int wanted(const bench_opts *o, const bench_net *net, size_t n)
{
    if (o->only && !strstr(net->name, o->only))
        return 0;
    return !o->batch || o->batch == n;
}

/* Seconds of timed blocks allowed to a slow reference row (naive loops,
 * FANN): on the 4096 net one naive step takes over a minute. */
static double ref_budget(const bench_opts *o)
{
    return o->quick ? 5.0 : 60.0;
}

static void run_config(const bench_opts *o, const bench_net *net, size_t n,
                       int threads, int first_thread_pass)
{
    batch b;
    lib_ctx lc;
    plain p;
    result *r = &results[n_results < MAX_RESULTS ? n_results++ : 0];
    double flops = bench_net_step_flops(net, n);
    /* Steps of the 4096 net take 0.2-0.8 s with BLAS: fewer blocks there,
     * and --quick skips its naive and FANN-batch rows (minutes). */
    int big = flops > 5e9;
    int reps = big ? (o->reps < 5 ? o->reps : 5) : o->reps;
    long before;
    bench_stat s, s2;

    memset(r, 0, sizeof *r);
    r->net = net;
    r->n = n;
    r->threads = threads;
    if (nn_set_blas_threads((size_t)threads) != NN_OK)
        fprintf(stderr, "%s\n", nn_last_error());
    batch_make(&b, net, n);
    printf("\n%s (%s), batch %zu, %d BLAS thread%s, %.4g MFLOP of products "
           "per step\n",
           net->name, net->what, n, threads, threads > 1 ? "s" : "",
           flops * 1e-6);
    printf("  %-22s %12s %12s %12s %8s %15s %7s\n", "implementation",
           "us/step", "steps/s", "samples/s", "GF/s", "blocks x steps",
           "spread");

    /* libnn, with the allocation count over every timed step */
    memset(&lc, 0, sizeof lc);
    lc.m = lib_model(net);
    lc.b = &b;
    lib_step(&lc);
    lib_step(&lc);
    lc.calls = 0;
    plain_make(&p, &b);
    /* libnn and its ceiling in alternating blocks; the allocation count
     * covers every libnn step from here on */
    before = bench_allocs.allocs;
    bench_time_pair(lib_step, &lc, ceiling_step, &p, o->min_block, reps, &s,
                    &s2);
    r->allocs_per_step =
        (double)(bench_allocs.allocs - before) / (double)lc.calls;
    r->lib = s.median;
    r->lib_spread = bench_spread(&s);
    report(r, "libnn", &s, n, NULL);
    if (lc.first_error != NN_OK)
        printf("  !! a libnn step failed: %s\n", lc.error);
    r->ceil = s2.median;
    r->ceil_spread = bench_spread(&s2);
    report(r, "ceiling (sgemm only)", &s2, n, NULL);
    printf("  %-22s %12.3f   allocations per step after warm-up: %.3g "
           "(%ld steps)\n",
           "efficiency", r->ceil / r->lib, r->allocs_per_step, lc.calls);
    if (csv)
        fprintf(csv, "%s,%zu,%d,efficiency,%.6f,,,,,,,\n%s,%zu,%d,"
                     "allocs_per_step,%.6g,,,,,,%ld,\n",
                net->name, n, threads, r->ceil / r->lib, net->name, n,
                threads, r->allocs_per_step, lc.calls);

    if (threads == 1 && target2(net, n))
        paired_shares(o, r, &lc);

    if (!o->lib_only && flops > 1e8)
        split_step(o, lc.m, &b, threads);

    if (first_thread_pass && !o->lib_only) {
        /* single-threaded implementations: measured once per config */
        if (!(o->quick && big)) {
            s = bench_time(naive_step, &p, o->min_block, reps,
                           ref_budget(o));
            r->naive = s.median;
            report(r, "naive loops", &s, n, "(nn__gemm_ref)");
        } else {
            printf("  %-22s skipped with --quick\n", "naive loops");
        }
        if (n <= lc.m->small_rows) {
            /* the same model and steps through the general path */
            lib_ctx gc = lc;
            size_t keep = gc.m->small_rows;
            gc.m->small_rows = 0;
            gc.calls = 0;
            s = bench_time(lib_step, &gc, o->min_block, reps, 0.0);
            gc.m->small_rows = keep;
            r->general = s.median;
            report(r, "libnn general path", &s, n,
                   "(small-net path off)");
        }
#if defined(NN_BENCH_HAVE_FANN)
        {
            fann_ctx fc;
            fc.b = &b;
            fc.next = 0;
            fc.ann = fann_model(net);
            fc.data = NULL;
            s = bench_time(fann_sample_step, &fc, o->min_block, reps,
                           ref_budget(o) / 2.0);
            r->fann_sample = s.median * (double)n;
            report(r, "FANN fann_train", &s, 1, "(1 sample per step)");
            if (n == 1)
                beside_fann(o, net, &lc, &fc, reps);
            fann_destroy(fc.ann);
            if (!(o->quick && big)) {
                fc.ann = fann_model(net);
                fc.data = fann_data(&b);
                fann_set_training_algorithm(fc.ann, FANN_TRAIN_BATCH);
                s = bench_time(fann_batch_step, &fc, o->min_block, reps,
                               ref_budget(o) / 2.0);
                r->fann_batch = s.median;
                report(r, "FANN batch epoch", &s, n,
                       "(FANN_TRAIN_BATCH, 1 epoch = 1 step)");
                fann_destroy_train(fc.data);
                fann_destroy(fc.ann);
            } else {
                printf("  %-22s skipped with --quick\n", "FANN batch epoch");
            }
        }
#else
        printf("  FANN: not found by CMake (install libfann-dev); skipped\n");
#endif
        breakdown(o, lc.m, &b, r->lib, r->ceil);
    }
    plain_free(&p);
    nn_model_free(lc.m);
    batch_free(&b);
}

/* ---- the small-net sweep ----
 * Where the direct loops of small.c stop paying: nets (sigmoid, MSE)
 * trained through the small-net path and through the general path, in
 * interleaved blocks, at 1 thread. Both paths are forced
 * (nn_model.small_rows), so sizes beyond NN__SMALL_WORK show what the small
 * path would cost there. First w-w-w nets over a grid of widths and
 * batches, then uneven shapes near the limit (long dot products, one wide
 * layer, three layers). */
static void sweep_one(const bench_opts *o, const size_t *widths,
                      size_t n_layers, size_t n)
{
    char name[64], label[40];
    bench_net net = {NULL, {0, 0, 0, 0}, 0, NN_ACT_SIGMOID, NN_ACT_SIGMOID,
                     NN_LOSS_MSE, 0, {0, 0, 0, 0},
                     "sigmoid hidden, sigmoid output, MSE"};
    batch b;
    lib_ctx sc, gc;
    bench_stat s1, s2;
    size_t l, macs = 0;
    int reps = o->quick ? o->reps : 5, len = 0, auto_small;
    net.n_layers = n_layers;
    for (l = 0; l <= n_layers; l++) {
        net.widths[l] = widths[l];
        len += snprintf(label + len, sizeof label - (size_t)len, "%s%zu",
                        l ? "-" : "", widths[l]);
        if (l)
            macs += widths[l - 1] * widths[l];
    }
    snprintf(name, sizeof name, "sweep %s", label);
    net.name = name;
    net.batches[0] = n;
    batch_make(&b, &net, n);
    memset(&sc, 0, sizeof sc);
    memset(&gc, 0, sizeof gc);
    sc.b = gc.b = &b;
    sc.m = lib_model(&net);
    gc.m = lib_model(&net);
    lib_step(&sc); /* sizes the workspace, sets small_rows */
    lib_step(&gc);
    auto_small = n <= sc.m->small_rows;
    sc.m->small_rows = (size_t)-1;
    gc.m->small_rows = 0;
    bench_time_pair(lib_step, &sc, lib_step, &gc, o->min_block / 2.0, reps,
                    &s1, &s2);
    printf("  %-14s %5zu %8zu %14.4g %14.4g %9.2f  %s%s\n", label, n,
           n * macs, s1.median * 1e6, s2.median * 1e6, s2.median / s1.median,
           auto_small ? "small" : "general",
           sc.first_error || gc.first_error ? "  !! a step failed" : "");
    fflush(stdout);
    if (csv)
        fprintf(csv, "%s,%zu,1,small path,%.9g,%.9g,%.9g,%.9g,%.9g,%d,%ld,"
                     "%.4f\n%s,%zu,1,general path,%.9g,%.9g,%.9g,%.9g,%.9g,"
                     "%d,%ld,%.4f\n",
                name, n, s1.median, s1.min, s1.max, 1.0 / s1.median,
                n / s1.median, s1.reps, s1.iters, bench_spread(&s1), name, n,
                s2.median, s2.min, s2.max, 1.0 / s2.median, n / s2.median,
                s2.reps, s2.iters, bench_spread(&s2));
    nn_model_free(sc.m);
    nn_model_free(gc.m);
    batch_free(&b);
}

static void sweep(const bench_opts *o)
{
    static const size_t square[] = {2, 4, 8, 12, 16, 24, 32, 64};
    static const size_t batches[] = {1, 8, 32, 256};
    /* input width, layer widths (0 ends), batch */
    static const struct {
        size_t widths[BENCH_MAX_LAYERS + 1];
        size_t n;
    } uneven[] = {
        {{300, 1, 0, 0}, 1}, {{160, 2, 0, 0}, 1}, {{100, 3, 1, 0}, 1},
        {{64, 4, 1, 0}, 1},  {{32, 8, 1, 0}, 1},  {{16, 16, 4, 0}, 1},
        {{2, 100, 1, 0}, 1}, {{10, 10, 10, 0}, 1}, {{8, 8, 8, 8}, 1},
        {{3, 4, 1, 0}, 16},  {{80, 2, 1, 0}, 2},  {{40, 4, 1, 0}, 2},
        {{1, 160, 1, 0}, 2},
    };
    size_t wi, bi, k;
    if (nn_set_blas_threads(1) != NN_OK)
        fprintf(stderr, "%s\n", nn_last_error());
    printf("\nSmall-net path against the general path: sigmoid hidden and "
           "output, MSE, 1 thread (small path when batch x multiply-adds "
           "per row <= NN__SMALL_WORK = %d)\n", NN__SMALL_WORK);
    printf("  %-14s %5s %8s %14s %14s %9s  %s\n", "net", "batch",
           "n x MACs", "small us/step", "general us/step", "gen/small",
           "libnn takes");
    for (wi = 0; wi < sizeof square / sizeof square[0]; wi++)
        for (bi = 0; bi < sizeof batches / sizeof batches[0]; bi++) {
            size_t w[3];
            w[0] = w[1] = w[2] = square[wi];
            if (!o->batch || o->batch == batches[bi])
                sweep_one(o, w, 2, batches[bi]);
        }
    for (k = 0; k < sizeof uneven / sizeof uneven[0]; k++) {
        size_t layers = 0;
        while (layers < BENCH_MAX_LAYERS && uneven[k].widths[layers + 1])
            layers++;
        if (!o->batch || o->batch == uneven[k].n)
            sweep_one(o, uneven[k].widths, layers, uneven[k].n);
    }
}

static const result *find(const char *name, size_t n, int threads)
{
    size_t i;
    for (i = 0; i < n_results; i++)
        if (!strcmp(results[i].net->name, name) && results[i].n == n &&
            results[i].threads == threads)
            return &results[i];
    return NULL;
}

/* The core's peak at one thread, GFLOP/s, measured at the start of the
 * run (peak.c): with 256-bit and with the widest vectors it has. */
static double peak_avx2, peak_widest;
/* libnn's tile on a block in cache (peak.c), GFLOP/s; 0 without it. */
static double tile_rate;

/* GFLOP/s of the products of a result's libnn step. */
static double lib_gflops(const result *q)
{
    return bench_net_step_flops(q->net, q->n) / q->lib * 1e-9;
}

static void summary(void)
{
    size_t i;
    const result *r, *r2;
    printf("\nSummary (samples/s; FANN per-sample and naive measured at "
           "1 thread; peak: libnn's GF/s over the core's one-thread FMA "
           "peak, %.1f GF/s)\n", peak_widest);
    printf("%-17s %5s %3s | %11s %11s %6s %5s | %11s %11s %11s %11s | %8s "
           "%7s\n", "net", "batch", "thr", "libnn", "ceiling", "eff", "peak",
           "naive", "general", "FANN/sample", "FANN batch", "x FANN",
           "allocs");
    for (i = 0; i < n_results; i++) {
        const result *q = &results[i];
        const result *one = find(q->net->name, q->n, 1);
        double lib = q->n / q->lib, best = 0.0;
        if (one) {
            if (one->fann_sample > 0.0)
                best = one->n / one->fann_sample;
            if (one->fann_batch > 0.0 && one->n / one->fann_batch > best)
                best = one->n / one->fann_batch;
        }
        printf("%-17s %5zu %3d | %11.4g %11.4g %6.3f %5.2f | ", q->net->name,
               q->n, q->threads, lib, q->n / q->ceil, q->ceil / q->lib,
               peak_widest > 0.0 ? lib_gflops(q) / peak_widest : 0.0);
        {
            double v[4];
            int k;
            v[0] = q->naive;
            v[1] = q->general;
            v[2] = q->fann_sample;
            v[3] = q->fann_batch;
            for (k = 0; k < 4; k++) {
                if (v[k] > 0.0)
                    printf("%11.4g ", (double)q->n / v[k]);
                else
                    printf("%11s ", "-");
            }
            printf("| ");
        }
        if (best > 0.0)
            printf("%8.1f %7.3g\n", lib / best, q->allocs_per_step);
        else
            printf("%8s %7.3g\n", "-", q->allocs_per_step);
    }

    printf("\nTargets of issue 7\n");
#define VERDICT(ok) ((ok) ? "met" : "NOT met")
    if ((r = find("784-1024-1024-10", 256, 1)))
        printf("  efficiency >= 0.95, 784-1024-1024-10 b256: %.3f (1t), "
               "%s\n", r->ceil / r->lib, VERDICT(r->ceil / r->lib >= 0.95));
    if ((r = find("784-1024-1024-10", 256, 2)))
        printf("  efficiency >= 0.95, 784-1024-1024-10 b256: %.3f (2t), "
               "%s\n", r->ceil / r->lib, VERDICT(r->ceil / r->lib >= 0.95));
    if ((r = find("4096-4096-4096", 256, 1)))
        printf("  efficiency >= 0.95, 4096-4096-4096 b256: %.3f (1t), %s\n",
               r->ceil / r->lib, VERDICT(r->ceil / r->lib >= 0.95));
    if ((r = find("4096-4096-4096", 256, 2)))
        printf("  efficiency >= 0.95, 4096-4096-4096 b256: %.3f (2t), %s\n",
               r->ceil / r->lib, VERDICT(r->ceil / r->lib >= 0.95));
    if ((r = find("784-256-128-10", 128, 1)))
        printf("  efficiency >= 0.85, 784-256-128-10 b128: %.3f (1t), %s\n",
               r->ceil / r->lib, VERDICT(r->ceil / r->lib >= 0.85));
    if ((r = find("784-256-128-10", 128, 2)))
        printf("  efficiency >= 0.85, 784-256-128-10 b128: %.3f (2t), %s\n",
               r->ceil / r->lib, VERDICT(r->ceil / r->lib >= 0.85));
    if ((r = find("2-2-1", 1, 1)))
        printf("  2-2-1 b1 >= 10 M samples/s: %.3g M, %s\n",
               1e-6 / r->lib, VERDICT(1.0 / r->lib >= 1e7));
    for (i = 0; i < n_results; i++) {
        const result *q = &results[i], *one;
        double best = 0.0;
        if (strcmp(q->net->name, "784-256-128-10") || q->threads != 1)
            continue;
        one = q;
        if (one->fann_sample > 0.0)
            best = 1.0 / one->fann_sample * one->n;
        if (one->fann_batch > 0.0 && one->n / one->fann_batch > best)
            best = one->n / one->fann_batch;
        if (best > 0.0)
            printf("  784-256-128-10 b%zu >= 15x FANN's best: %.1fx, %s\n",
                   q->n, (q->n / q->lib) / best,
                   VERDICT((q->n / q->lib) / best >= 15.0));
    }
    r = find("4096-4096-4096", 256, 1);
    r2 = find("4096-4096-4096", 256, 2);
    if (r && r2)
        printf("  4096^3 b256, 2 threads >= 1.8x 1 thread: %.2fx (ceiling "
               "%.2fx), %s\n",
               r->lib / r2->lib, r->ceil / r2->ceil,
               VERDICT(r->lib / r2->lib >= 1.8));
    for (i = 0; i < n_results; i++)
        if (results[i].allocs_per_step != 0.0)
            break;
    printf("  zero allocations per step after warm-up: %s\n",
           VERDICT(i == n_results));

    /* issue 21: training against the machine, not against the BLAS. The
     * verdict takes the share measured beside the peak loop
     * (paired_shares); the run's start's figures follow it. */
    if (peak_widest > 0.0) {
        printf("\nTargets of issue 21 (core's one-thread FMA peak at the "
               "run's start: AVX2 %.1f GF/s, widest %.1f GF/s)\n",
               peak_avx2, peak_widest);
        for (i = 0; i < sizeof t21 / sizeof t21[0]; i++) {
            if (!(r = find(t21[i].net, t21[i].n, 1)))
                continue;
            if (r->of_peak.reps > 0)
                printf("  %s b%zu at >= 0.90 of the peak: %.3f of the peak "
                       "loop in blocks beside its steps (median of %d "
                       "rounds, 95%%: %.3f-%.3f), %s\n",
                       t21[i].net, t21[i].n, r->of_peak.median,
                       r->of_peak.reps, r->of_peak.lo, r->of_peak.hi,
                       VERDICT(r->of_peak.median >= 0.90));
            printf("  %s b%zu%s: %.1f GF/s = %.2f of the run's start's "
                   "widest peak (%.2f of AVX2's)",
                   t21[i].net, t21[i].n,
                   r->of_peak.reps > 0 ? "" : " at >= 0.90 of the peak",
                   lib_gflops(r), lib_gflops(r) / peak_widest,
                   lib_gflops(r) / peak_avx2);
            if (r->of_peak.reps > 0)
                printf("\n");
            else
                printf(", %s\n",
                       VERDICT(lib_gflops(r) >= 0.90 * peak_widest));
        }
        /* the figure as the tile's share of the peak times the step's
         * share of the tile's rate */
        if (tile_rate > 0.0) {
            printf("  libnn's tile on a block in cache: %.1f GF/s = %.2f "
                   "of the run's start's widest peak\n", tile_rate,
                   tile_rate / peak_widest);
            for (i = 0; i < sizeof t21 / sizeof t21[0]; i++) {
                if (!(r = find(t21[i].net, t21[i].n, 1)))
                    continue;
                printf("  %s b%zu at %.2f of the tile's rate", t21[i].net,
                       t21[i].n, lib_gflops(r) / tile_rate);
                if (r->of_tile.reps > 0)
                    printf("; beside the tile %.3f (95%%: %.3f-%.3f), the "
                           "tile beside the peak loop %.3f (%.3f-%.3f)",
                           r->of_tile.median, r->of_tile.lo, r->of_tile.hi,
                           r->tile_of_peak.median, r->tile_of_peak.lo,
                           r->tile_of_peak.hi);
                printf("\n");
            }
        }
    }
}

/* --profile-steps N: N libnn steps of the first selected net and batch,
 * untimed, for callgrind or perf. */
static int profile(const bench_opts *o)
{
    size_t k, q;
    for (k = 0; k < bench_net_count; k++) {
        const bench_net *net = &bench_nets[k];
        for (q = 0; q < BENCH_MAX_BATCHES && net->batches[q]; q++) {
            batch b;
            lib_ctx lc;
            long i;
            if (!wanted(o, net, net->batches[q]))
                continue;
            if (nn_set_blas_threads((size_t)o->threads[0]) != NN_OK)
                fprintf(stderr, "%s\n", nn_last_error());
            batch_make(&b, net, net->batches[q]);
            memset(&lc, 0, sizeof lc);
            lc.m = lib_model(net);
            lc.b = &b;
            for (i = 0; i < o->profile_steps; i++)
                lib_step(&lc);
            printf("profiled %ld steps of %s at batch %zu%s%s\n",
                   o->profile_steps, net->name, b.n,
                   lc.first_error ? ": " : "", lc.error);
            nn_model_free(lc.m);
            batch_free(&b);
            return 0;
        }
    }
    fprintf(stderr, "bench_train: no net matches\n");
    return 1;
}

int main(int argc, char **argv)
{
    bench_opts o;
    size_t k, q;
    int ti;
    if (bench_parse(argc, argv, &o, " [--lib-only] [--sweep] "
                    "[--profile-steps N]\n"
                    "  --lib-only    libnn and its ceiling only (reruns)\n"
                    "  --sweep       the small-net path sweep only\n"
                    "  --profile-steps N  run N untimed libnn steps of the "
                    "first selected net (for callgrind)"))
        return 1;
    if (bench_install_counter() != 0) {
        fprintf(stderr, "bench_train: nn_set_allocator failed\n");
        return 1;
    }
    if (o.profile_steps > 0)
        return profile(&o);
    csv = bench_open_csv(&o);
    bench_spin(1.0);
    bench_print_header("bench_train", csv);
    printf("plain SGD, learning rate %g; samples/s = rows per step x "
           "steps/s; GF/s counts the products only\n",
           (double)LEARNING_RATE);
    peak_avx2 = bench_peak_gflops(256, o.min_block, o.reps);
    peak_widest = bench_peak_gflops(512, o.min_block, o.reps);
    if (peak_widest <= 0.0)
        peak_widest = peak_avx2;
    tile_rate = bench_tile_gflops(o.min_block, o.reps);
    printf("core's one-thread FMA peak (peak.c): AVX2 %.1f GF/s, widest "
           "%.1f GF/s; libnn's tile on a block in cache %.1f GF/s\n",
           peak_avx2, peak_widest, tile_rate);
    if (csv)
        fprintf(csv, "# peak_gflops avx2 %.2f widest %.2f tile %.2f\n",
                peak_avx2, peak_widest, tile_rate);
    if (csv)
        fprintf(csv, "net,batch,threads,impl,median_s,min_s,max_s,steps_per_s,"
                     "samples_per_s,reps,iters,spread\n");
    /* Net by net, all thread counts together, so that the rows compared in
     * the summary are measured close in time (the machine is shared). */
    for (k = 0; k < bench_net_count && !o.sweep_only; k++)
        for (q = 0; q < BENCH_MAX_BATCHES && bench_nets[k].batches[q]; q++) {
            if (!wanted(&o, &bench_nets[k], bench_nets[k].batches[q]))
                continue;
            for (ti = 0; ti < 2 && o.threads[ti]; ti++)
                run_config(&o, &bench_nets[k], bench_nets[k].batches[q],
                           o.threads[ti], ti == 0);
        }
    if (!o.sweep_only)
        summary();
    if (o.sweep_only || (!o.only && !o.lib_only))
        sweep(&o);
    if (csv)
        fclose(csv);
    return 0;
}
