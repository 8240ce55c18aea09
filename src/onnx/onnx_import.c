/* SPDX-License-Identifier: MIT */
/*
 * onnx_import.c - nn_model_import_onnx and nn_model_import_onnx_buffer:
 * the feed-forward graphs that torch.onnx.export writes for an
 * nn.Sequential of Linear, activations, BatchNorm1d, LayerNorm, Dropout,
 * Flatten and Identity, read into a new model.
 *
 * The bytes are untrusted. They are decoded by protobuf-c, a maintained
 * decoder, with the schema of onnx_read.proto (whose messages do not
 * nest recursively, so decoding cannot exhaust the stack) and through an
 * allocator that counts: the decoded tree may hold at most
 * NN__IX_BUDGET_PER_BYTE bytes per byte given plus NN__IX_BUDGET_BASE, so
 * a small file of many tiny messages cannot make the decoder allocate
 * without bound. Everything after the decoding is sized by what it
 * decoded: the tables below hold one entry per node, initializer and
 * value, and every array of the model is the data of a tensor present in
 * the file, except the widths of parameter-free layers, which are checked
 * against the size of the file.
 *
 * The graph is read backwards, from its one output to its one input: the
 * node that produces the current value is matched against the forms that
 * PyTorch and libnn's exporter write for each kind of layer (a Gemm; a
 * MatMul and an Add; an Erf-based GELU; BatchNormalization; a
 * LayerNormalization or its ReduceMean decomposition; ...), which gives
 * the layer and the value before it. Every node must be used exactly once
 * on that path (Constant nodes, and Identity nodes of constants, aside),
 * so a graph that is not a chain is refused, as are shapes that do not
 * chain. Any refusal is NN_E_FORMAT with a message naming the node, its
 * operator and what libnn imports.
 */
#include "interop.h"
#include "onnx_read.pb-c.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The decoded tree's allowance; see the file's comment. The weights,
 * the bulk of a model, decode to a copy of themselves (a torch export of
 * 784-256-128-10 takes 1.01 bytes per byte); the structure costs more:
 * deep and narrow models, all structure, take 5 to 8 (500 blocks of
 * Linear, GELU, LayerNorm of width 2 from torch.onnx.export: 5.3; 5000
 * dense layers of width 2 from libnn's export: 7.3). Empty messages,
 * which no model needs in bulk, take 50 and more. */
#define NN__IX_BUDGET_PER_BYTE 16
#define NN__IX_BUDGET_BASE ((size_t)1 << 20)

/* The newest opset whose operators this file knows the meaning of. */
#define NN__IX_MAX_OPSET 21

/* ONNX TensorProto.DataType values used here. */
#define DT_FLOAT 1
#define DT_INT64 7
#define DT_BOOL 9
#define DT_DOUBLE 11

/* AttributeProto.AttributeType values used here. */
#define AT_FLOAT 1
#define AT_INT 2
#define AT_STRING 3
#define AT_TENSOR 4
#define AT_FLOATS 6
#define AT_INTS 7

#define NN__IX_SUPPORTED                                                      \
    "libnn imports Gemm, MatMul (and Add), BatchNormalization, "              \
    "LayerNormalization (or its ReduceMean form), Relu, LeakyRelu, Sigmoid, " \
    "Tanh, Softmax, Elu, Softplus, Gelu (or its Erf form), SiLU (Sigmoid "    \
    "and Mul), Dropout, Flatten, Identity, and Mul, Add, Sub and Div by "     \
    "constants (docs/INTEROP.md)"

/* ---- decoding under a budget ---- */

typedef struct pb_budget {
    size_t left;
    int nomem;      /* the allocator failed */
    int over;       /* the budget ran out */
} pb_budget;

/* Each block carries its size in front, so that freeing gives it back. */
#define PB_HEAD 16

static void *pb_alloc(void *ctx, size_t size)
{
    pb_budget *b = (pb_budget *)ctx;
    unsigned char *p;
    if (size > b->left || b->left - size < PB_HEAD) {
        b->over = 1;
        return NULL;
    }
    p = (unsigned char *)nn__malloc(size + PB_HEAD);
    if (!p) {
        b->nomem = 1;
        return NULL;
    }
    b->left -= size + PB_HEAD;
    memcpy(p, &size, sizeof size);
    return p + PB_HEAD;
}

static void pb_free(void *ctx, void *ptr)
{
    pb_budget *b = (pb_budget *)ctx;
    unsigned char *p = (unsigned char *)ptr - PB_HEAD;
    size_t size;
    memcpy(&size, p, sizeof size);
    b->left += size + PB_HEAD;
    nn__free(p);
}

/* ---- constants ---- */

/* A constant tensor: an initializer, or a Constant node's value. The data
 * stays where the decoder put it. */
typedef struct cview {
    int type;                   /* DT_FLOAT, DT_INT64, DT_BOOL, DT_DOUBLE */
    size_t count;
    size_t rank;
    const int64_t *dims;
    const unsigned char *raw;   /* little-endian elements, or NULL */
    const float *f;             /* or one of these */
    const int64_t *i;
    const int32_t *b;           /* DT_BOOL */
    const double *d;
    int64_t own_dim;            /* dims of a value_floats / value_ints */
    const char *name;
} cview;

static double cv_at(const cview *c, size_t k)
{
    if (c->raw) {
        const unsigned char *p = c->raw;
        uint64_t u = 0;
        int b, n = c->type == DT_FLOAT ? 4 : c->type == DT_BOOL ? 1 : 8;
        p += (size_t)n * k;
        for (b = n - 1; b >= 0; b--)
            u = (u << 8) | p[b];
        if (c->type == DT_FLOAT) {
            uint32_t u32 = (uint32_t)u;
            float f;
            memcpy(&f, &u32, sizeof f);
            return f;
        }
        if (c->type == DT_DOUBLE) {
            double d;
            memcpy(&d, &u, sizeof d);
            return d;
        }
        if (c->type == DT_BOOL)
            return u != 0;
        return (double)(int64_t)u;
    }
    if (c->type == DT_FLOAT)
        return c->f[k];
    if (c->type == DT_DOUBLE)
        return c->d[k];
    if (c->type == DT_BOOL)
        return c->b[k] != 0;
    return (double)c->i[k];
}

/* ---- the importer's state ---- */

enum { V_INPUT = 1, V_CONST, V_NODE };

typedef struct im_val {
    const char *name;
    int kind;
    size_t index;     /* constant or node */
    size_t slot;      /* which output of the node */
    size_t uses;      /* node inputs and graph outputs reading it */
} im_val;

/* A layer as the graph gives it, before it becomes a model's. */
typedef struct im_layer {
    int kind;                 /* NN_KIND_* */
    int act;                  /* dense and activation layers */
    double param;             /* leaky slope, ELU alpha, dropout rate */
    double eps, momentum;     /* batch and layer normalization */
    const cview *w;           /* dense: the weights */
    int w_trans;              /* stored out x in (Gemm transB = 1) */
    double alpha;             /* Gemm: alpha, and beta on the bias */
    double beta;
    const cview *b;           /* dense: the bias, or NULL */
    const cview *p[4];        /* batchnorm: gamma, beta, mean, var;
                                 layernorm: gamma, beta (or NULL);
                                 scaling: scale, shift (or NULL) */
    int p_inv;                /* scaling: divide by the scale (Div) */
    int p_neg;                /* scaling: subtract the shift (Sub) */
    size_t in, out;           /* widths, set by the width pass */
    size_t node;              /* the node named in messages */
} im_layer;

typedef struct im {
    const char *fn;
    size_t bytes;             /* the size of the file */
    const NnOnnx__GraphProto *g;
    int64_t opset;
    cview *consts;
    size_t n_consts;
    im_val *vals;             /* sorted by name, each name once */
    size_t n_vals;
    unsigned char *used;      /* per node */
    im_layer *layers;         /* in the order found: output first */
    size_t n_layers;
    const char *input;        /* the graph input's name */
    int input_rank;           /* 0 when its shape is not given */
    size_t input_width;       /* 0 when not fixed by the shape */
    size_t output_width;      /* 0 when not fixed by the shape */
    int first_is_flatten;     /* the node reading the input is Flatten */
} im;

/* ---- messages ---- */

static const char *node_name(const NnOnnx__NodeProto *n)
{
    return n->name && n->name[0] ? n->name : "(unnamed)";
}

static const char *op_of(const NnOnnx__NodeProto *n)
{
    return n->op_type ? n->op_type : "";
}

/* The default ONNX operator set, named "" or "ai.onnx". */
static int default_domain(const NnOnnx__NodeProto *n)
{
    return !n->domain || !n->domain[0] || strcmp(n->domain, "ai.onnx") == 0;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static nn_status bad(const im *s, const char *fmt, ...)
{
    char what[440];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return nn__fail(NN_E_FORMAT, "%s: %s", s->fn, what);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static nn_status bad_node(const im *s, size_t k, const char *fmt, ...)
{
    char what[360];
    const NnOnnx__NodeProto *n = s->g->node[k];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return nn__fail(NN_E_FORMAT, "%s: node %zu '%.60s' (%.40s): %s", s->fn,
                    k, node_name(n), op_of(n), what);
}

/* ---- values by name ---- */

/* Values are found by binary search in the array sorted by name, not
 * by hashing: names are the file's, and a file could make them collide
 * in any hash that is not keyed, turning each lookup into a scan. */
static im_val *find(const im *s, const char *name)
{
    size_t lo = 0, hi = s->n_vals;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->vals[mid].name, name);
        if (c == 0)
            return &s->vals[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void add_val(im *s, const char *name, int kind, size_t index,
                    size_t slot)
{
    im_val *v = &s->vals[s->n_vals++];
    v->name = name;
    v->kind = kind;
    v->index = index;
    v->slot = slot;
    v->uses = 0;
}

/* Sorts a[0, n) by name, stably (a merge sort, O(n log n) whatever the
 * names), through tmp of n entries. */
static void sort_vals(im_val *a, im_val *tmp, size_t n)
{
    size_t width, lo;
    for (width = 1; width < n; width *= 2) {
        for (lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = mid + width < n ? mid + width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = strcmp(a[j].name, a[i].name) < 0 ? a[j++]
                                                            : a[i++];
            while (i < mid)
                tmp[k++] = a[i++];
            while (j < hi)
                tmp[k++] = a[j++];
        }
        memcpy(a, tmp, n * sizeof *a);
    }
}

static const cview *const_of(const im *s, const char *name)
{
    const im_val *v = name ? find(s, name) : NULL;
    return v && v->kind == V_CONST ? &s->consts[v->index] : NULL;
}

/* The node producing name at its first output, if that node is not used
 * yet and its op is op (any op when op is NULL); else SIZE_MAX. */
static size_t producer(const im *s, const char *name, const char *op)
{
    const im_val *v = name ? find(s, name) : NULL;
    if (!v || v->kind != V_NODE || v->slot != 0 || s->used[v->index])
        return (size_t)-1;
    if (op && strcmp(op_of(s->g->node[v->index]), op) != 0)
        return (size_t)-1;
    return v->index;
}

static size_t uses_of(const im *s, const char *name)
{
    const im_val *v = find(s, name);
    return v ? v->uses : 0;
}

/* ---- attributes ---- */

static const NnOnnx__AttributeProto *attr(const NnOnnx__NodeProto *n,
                                          const char *name)
{
    size_t k;
    for (k = 0; k < n->n_attribute; k++)
        if (n->attribute[k]->name && strcmp(n->attribute[k]->name, name) == 0)
            return n->attribute[k];
    return NULL;
}

/* A float attribute, or def when absent. */
static nn_status attr_float(const im *s, size_t k, const char *name,
                            double def, double *out)
{
    const NnOnnx__AttributeProto *a = attr(s->g->node[k], name);
    *out = def;
    if (!a)
        return NN_OK;
    if ((a->has_type && a->type != AT_FLOAT) || !a->has_f)
        return bad_node(s, k, "attribute %s is not a float", name);
    if (!isfinite(a->f))
        return bad_node(s, k, "attribute %s is %g", name, (double)a->f);
    *out = a->f;
    return NN_OK;
}

static nn_status attr_int(const im *s, size_t k, const char *name,
                          int64_t def, int64_t *out)
{
    const NnOnnx__AttributeProto *a = attr(s->g->node[k], name);
    *out = def;
    if (!a)
        return NN_OK;
    if ((a->has_type && a->type != AT_INT) || !a->has_i)
        return bad_node(s, k, "attribute %s is not an integer", name);
    *out = a->i;
    return NN_OK;
}

/* ---- node shapes ---- */

static const char *in_at(const NnOnnx__NodeProto *n, size_t k)
{
    return k < n->n_input && n->input[k] && n->input[k][0] ? n->input[k]
                                                           : NULL;
}

/* The node reads exactly `lo` to `hi` inputs (the optional ones may be
 * named ""), and only its first output is read by others. */
static nn_status arity(const im *s, size_t k, size_t lo, size_t hi)
{
    const NnOnnx__NodeProto *n = s->g->node[k];
    size_t i;
    if (n->n_input < lo || n->n_input > hi) {
        if (lo == hi)
            return bad_node(s, k, "it has %zu inputs; libnn imports it "
                            "with %zu", n->n_input, lo);
        return bad_node(s, k, "it has %zu inputs; libnn imports it with "
                        "%zu to %zu", n->n_input, lo, hi);
    }
    for (i = 0; i < lo; i++)
        if (!in_at(n, i))
            return bad_node(s, k, "input %zu is missing", i);
    for (i = 1; i < n->n_output; i++)
        if (n->output[i] && n->output[i][0] && uses_of(s, n->output[i]) > 0)
            return bad_node(s, k, "its output %zu ('%.60s') is read; libnn "
                            "imports only the first output of a %s", i,
                            n->output[i], op_of(n));
    return NN_OK;
}

static nn_status take(im *s, size_t k)
{
    if (s->used[k])
        return bad_node(s, k, "the node is reached twice: the graph is not "
                        "a chain of layers");
    s->used[k] = 1;
    return NN_OK;
}

static im_layer *push(im *s, int kind, size_t node)
{
    im_layer *L = &s->layers[s->n_layers++];
    memset(L, 0, sizeof *L);
    L->kind = kind;
    L->node = node;
    L->alpha = 1.0;
    L->beta = 1.0;
    return L;
}

/* A scalar constant equal to want (within rel); for the constants of the
 * fixed patterns (GELU's sqrt 2, 1 and 0.5; the softplus threshold; the
 * exponent 2). */
static int const_is(const im *s, const char *name, double want, double rel)
{
    const cview *c = const_of(s, name);
    return c && c->count == 1 && fabs(cv_at(c, 0) - want) <= rel * want;
}

/* The chain operand of a binary node with one constant operand: *x the
 * computed one, *c the constant. 0 unless exactly one is constant. */
static int split_const(const im *s, const NnOnnx__NodeProto *n,
                       const char **x, const cview **c)
{
    const cview *c0 = const_of(s, in_at(n, 0)), *c1 = const_of(s, in_at(n, 1));
    if (!in_at(n, 0) || !in_at(n, 1) || (c0 != NULL) == (c1 != NULL))
        return 0;
    *x = c0 ? in_at(n, 1) : in_at(n, 0);
    *c = c0 ? c0 : c1;
    return 1;
}

/* ---- patterns ---- */

/* ReduceMean over the last axis of a matrix, keeping it. */
static int is_row_mean(const im *s, size_t k)
{
    const NnOnnx__NodeProto *n = s->g->node[k];
    const NnOnnx__AttributeProto *a = attr(n, "axes");
    int64_t keep = 1, axis;
    const cview *c;
    if (attr_int(s, k, "keepdims", 1, &keep) != NN_OK || keep != 1)
        return 0;
    if (a) {
        if (a->n_ints != 1)
            return 0;
        axis = a->ints[0];
    } else {
        c = const_of(s, in_at(n, 1)); /* opset 18: axes as an input */
        if (!c || c->count != 1 || c->type != DT_INT64)
            return 0;
        axis = (int64_t)cv_at(c, 0);
    }
    return axis == -1 || axis == 1;
}

/* Layer normalization written out (torch.onnx.export before opset 17):
 *   m = ReduceMean(x); d = Sub(x, m); v = ReduceMean(Pow(d, 2));
 *   y = Div(d, Sqrt(Add(v, eps)))
 * for the Div node k; on a match the nodes are taken and *x, *eps set. */
static int match_layernorm(im *s, size_t k, const char **x, double *eps)
{
    const NnOnnx__NodeProto *div = s->g->node[k], *n;
    size_t sub, m1, sq, add, m2, pw;
    const char *d = in_at(div, 0), *v_name;
    const cview *e;
    if (div->n_input != 2 || !d)
        return 0;
    sub = producer(s, d, "Sub");
    sq = producer(s, in_at(div, 1), "Sqrt");
    if (sub == (size_t)-1 || sq == (size_t)-1)
        return 0;
    n = s->g->node[sub];
    if (n->n_input != 2 || !in_at(n, 0))
        return 0;
    m1 = producer(s, in_at(n, 1), "ReduceMean");
    if (m1 == (size_t)-1 || !in_at(s->g->node[m1], 0) ||
        strcmp(in_at(s->g->node[m1], 0), in_at(n, 0)) != 0 ||
        !is_row_mean(s, m1))
        return 0;
    add = producer(s, in_at(s->g->node[sq], 0), "Add");
    if (add == (size_t)-1)
        return 0;
    n = s->g->node[add];
    if (!split_const(s, n, &v_name, &e) || e->count != 1)
        return 0;
    m2 = producer(s, v_name, "ReduceMean");
    if (m2 == (size_t)-1 || !is_row_mean(s, m2))
        return 0;
    pw = producer(s, in_at(s->g->node[m2], 0), "Pow");
    if (pw == (size_t)-1)
        return 0;
    n = s->g->node[pw];
    if (n->n_input != 2 || !in_at(n, 0) || strcmp(in_at(n, 0), d) != 0 ||
        !const_is(s, in_at(n, 1), 2.0, 0.0))
        return 0;
    *x = in_at(s->g->node[sub], 0);
    *eps = cv_at(e, 0);
    s->used[sub] = s->used[m1] = s->used[sq] = s->used[add] = 1;
    s->used[m2] = s->used[pw] = s->used[k] = 1;
    return 1;
}

/* GELU as torch.onnx.export writes it before opset 20:
 *   Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5)
 * (either operand order of each Mul and Add, and Mul by 1/sqrt 2 for the
 * Div), for the outer Mul node k whose constant operand is 0.5. */
static int match_gelu(im *s, size_t k, const char *inner, const char **x)
{
    size_t m, a, e, q;
    const NnOnnx__NodeProto *n;
    const char *xa, *one_or_e;
    const cview *c;
    m = producer(s, inner, "Mul");
    if (m == (size_t)-1)
        return 0;
    n = s->g->node[m];
    if (n->n_input != 2 || !in_at(n, 0) || !in_at(n, 1))
        return 0;
    a = producer(s, in_at(n, 1), "Add");
    xa = in_at(n, 0);
    if (a == (size_t)-1) {
        a = producer(s, in_at(n, 0), "Add");
        xa = in_at(n, 1);
    }
    if (a == (size_t)-1)
        return 0;
    if (!split_const(s, s->g->node[a], &one_or_e, &c) || c->count != 1 ||
        cv_at(c, 0) != 1.0)
        return 0;
    e = producer(s, one_or_e, "Erf");
    if (e == (size_t)-1 || s->g->node[e]->n_input != 1)
        return 0;
    q = producer(s, in_at(s->g->node[e], 0), NULL);
    if (q == (size_t)-1)
        return 0;
    n = s->g->node[q];
    if (!split_const(s, n, &one_or_e, &c) || c->count != 1 ||
        strcmp(one_or_e, xa) != 0)
        return 0;
    if (strcmp(op_of(n), "Div") == 0) {
        if (c != const_of(s, in_at(n, 1)) ||
            !const_is(s, in_at(n, 1), 1.4142135623730951, 1e-6))
            return 0;
    } else if (strcmp(op_of(n), "Mul") != 0 ||
               fabs(cv_at(c, 0) - 0.7071067811865476) > 1e-6) {
        return 0;
    }
    *x = xa;
    s->used[k] = s->used[m] = s->used[a] = s->used[e] = s->used[q] = 1;
    return 1;
}

/* ---- one step back along the chain ---- */

static nn_status activation(im *s, size_t k, int act, const char **next)
{
    nn_status st = arity(s, k, 1, 1);
    im_layer *L;
    if (st != NN_OK)
        return st;
    L = push(s, NN_KIND_ACTIVATION, k);
    L->act = act;
    *next = in_at(s->g->node[k], 0);
    return NN_OK;
}

static nn_status step_gemm(im *s, size_t k, const char **next)
{
    const NnOnnx__NodeProto *n = s->g->node[k];
    int64_t ta = 0, tb = 0;
    double alpha = 1.0, beta = 1.0;
    const cview *w, *b = NULL;
    im_layer *L;
    nn_status st = arity(s, k, 2, 3);
    if (st == NN_OK)
        st = attr_int(s, k, "transA", 0, &ta);
    if (st == NN_OK)
        st = attr_int(s, k, "transB", 0, &tb);
    if (st == NN_OK)
        st = attr_float(s, k, "alpha", 1.0, &alpha);
    if (st == NN_OK)
        st = attr_float(s, k, "beta", 1.0, &beta);
    if (st != NN_OK)
        return st;
    if (ta != 0)
        return bad_node(s, k, "transA is %lld; libnn imports a Gemm of the "
                        "rows (transA 0)", (long long)ta);
    if (const_of(s, in_at(n, 0)))
        return bad_node(s, k, "input A is a constant; libnn imports a Gemm "
                        "of the rows by constant weights");
    w = const_of(s, in_at(n, 1));
    if (!w || w->rank != 2)
        return bad_node(s, k, "input B is %s; libnn imports a Gemm by a "
                        "constant matrix", w ? "not a matrix" :
                        "not a constant");
    if (in_at(n, 2)) {
        b = const_of(s, in_at(n, 2));
        if (!b)
            return bad_node(s, k, "input C is not a constant");
    }
    L = push(s, NN_KIND_DENSE, k);
    L->act = NN_ACT_IDENTITY;
    L->w = w;
    L->w_trans = tb != 0;
    L->b = b;
    L->alpha = alpha;
    L->beta = beta;
    *next = in_at(n, 0);
    return NN_OK;
}

/* MatMul(x, W), and the Add of a bias after it when add_node is set. */
static nn_status step_matmul(im *s, size_t k, const cview *bias,
                             size_t add_node, const char **next)
{
    const NnOnnx__NodeProto *n = s->g->node[k];
    const cview *w;
    im_layer *L;
    nn_status st = arity(s, k, 2, 2);
    if (st != NN_OK)
        return st;
    w = const_of(s, in_at(n, 1));
    if (const_of(s, in_at(n, 0)) || !w || w->rank != 2)
        return bad_node(s, k, "libnn imports a MatMul of the rows by a "
                        "constant matrix");
    L = push(s, NN_KIND_DENSE, add_node != (size_t)-1 ? add_node : k);
    L->act = NN_ACT_IDENTITY;
    L->w = w;
    L->b = bias;
    *next = in_at(n, 0);
    return NN_OK;
}

static nn_status step_scaling(im *s, size_t k, const char *x, const cview *c,
                              int is_shift, int flip, const char **next)
{
    im_layer *L = push(s, NN_KIND_SCALING, k);
    if (is_shift) {
        L->p[1] = c;
        L->p_neg = flip;
    } else {
        L->p[0] = c;
        L->p_inv = flip;
    }
    *next = x;
    return NN_OK;
}

/* Add, Mul: the layer forms built on them, tried before a scaling. */
static nn_status step_add(im *s, size_t k, const char **next)
{
    const NnOnnx__NodeProto *n = s->g->node[k];
    const char *y;
    const cview *c;
    size_t p;
    nn_status st = arity(s, k, 2, 2);
    if (st != NN_OK)
        return st;
    if (!split_const(s, n, &y, &c))
        return bad_node(s, k, "libnn imports an Add of the rows and a "
                        "constant (a bias); this one adds %s",
                        const_of(s, in_at(n, 0)) ? "two constants"
                                                 : "two computed values");
    p = producer(s, y, "MatMul");
    if (p != (size_t)-1 && uses_of(s, y) == 1) {
        s->used[p] = 1;
        return step_matmul(s, p, c, k, next);
    }
    /* Layer normalization's shift after its scale, or its scale alone. */
    p = producer(s, y, "Mul");
    if (p != (size_t)-1 && uses_of(s, y) == 1) {
        const char *z;
        const cview *gamma;
        size_t d;
        if (split_const(s, s->g->node[p], &z, &gamma) &&
            (d = producer(s, z, "Div")) != (size_t)-1 &&
            uses_of(s, z) == 1 && !const_of(s, in_at(s->g->node[d], 1))) {
            double eps;
            if (match_layernorm(s, d, next, &eps)) {
                im_layer *L = push(s, NN_KIND_LAYERNORM, k);
                s->used[p] = 1;
                L->eps = eps;
                L->p[0] = gamma;
                L->p[1] = c;
                return NN_OK;
            }
        }
    }
    return step_scaling(s, k, y, c, 1, 0, next);
}

static nn_status step_mul(im *s, size_t k, const char **next)
{
    const NnOnnx__NodeProto *n = s->g->node[k];
    const char *y;
    const cview *c;
    size_t p;
    nn_status st = arity(s, k, 2, 2);
    if (st != NN_OK)
        return st;
    if (split_const(s, n, &y, &c)) {
        if (c->count == 1 && cv_at(c, 0) == 0.5 && uses_of(s, y) == 1 &&
            match_gelu(s, k, y, next)) {
            push(s, NN_KIND_ACTIVATION, k)->act = NN_ACT_GELU;
            return NN_OK;
        }
        p = producer(s, y, "Div");
        if (p != (size_t)-1 && uses_of(s, y) == 1 &&
            !const_of(s, in_at(s->g->node[p], 1))) {
            double eps;
            if (match_layernorm(s, p, next, &eps)) {
                im_layer *L = push(s, NN_KIND_LAYERNORM, k);
                L->eps = eps;
                L->p[0] = c;
                return NN_OK;
            }
        }
        return step_scaling(s, k, y, c, 0, 0, next);
    }
    /* SiLU: Mul(x, Sigmoid(x)), either order. */
    if (in_at(n, 0) && in_at(n, 1) && !const_of(s, in_at(n, 0)) &&
        !const_of(s, in_at(n, 1))) {
        int side;
        for (side = 0; side < 2; side++) {
            const char *x = in_at(n, side), *sg = in_at(n, 1 - side);
            p = producer(s, sg, "Sigmoid");
            if (p != (size_t)-1 && uses_of(s, sg) == 1 &&
                s->g->node[p]->n_input == 1 && in_at(s->g->node[p], 0) &&
                strcmp(in_at(s->g->node[p], 0), x) == 0) {
                s->used[p] = 1;
                push(s, NN_KIND_ACTIVATION, k)->act = NN_ACT_SILU;
                *next = x;
                return NN_OK;
            }
        }
    }
    return bad_node(s, k, "libnn imports a Mul of the rows by a constant "
                    "(a scaling), x * Sigmoid(x) (SiLU) and the Mul nodes "
                    "of GELU and layer normalization; this one is none");
}

static nn_status step_div(im *s, size_t k, const char **next)
{
    const NnOnnx__NodeProto *n = s->g->node[k];
    const char *y;
    const cview *c;
    nn_status st = arity(s, k, 2, 2);
    if (st != NN_OK)
        return st;
    if (!const_of(s, in_at(n, 0)) && const_of(s, in_at(n, 1)) &&
        split_const(s, n, &y, &c))
        return step_scaling(s, k, y, c, 0, 1, next);
    if (!const_of(s, in_at(n, 0)) && !const_of(s, in_at(n, 1))) {
        double eps;
        if (match_layernorm(s, k, next, &eps)) {
            im_layer *L = push(s, NN_KIND_LAYERNORM, k);
            L->eps = eps;
            return NN_OK;
        }
    }
    return bad_node(s, k, "libnn imports a Div of the rows by a constant "
                    "and the Div of layer normalization; this one is "
                    "neither");
}

static nn_status step_sub(im *s, size_t k, const char **next)
{
    const NnOnnx__NodeProto *n = s->g->node[k];
    const char *y;
    const cview *c;
    nn_status st = arity(s, k, 2, 2);
    if (st != NN_OK)
        return st;
    if (!const_of(s, in_at(n, 0)) && const_of(s, in_at(n, 1)) &&
        split_const(s, n, &y, &c))
        return step_scaling(s, k, y, c, 1, 1, next);
    return bad_node(s, k, "libnn imports a Sub of a constant from the "
                    "rows; this one is not");
}

/* Softplus with PyTorch's threshold: Where(Greater(x, 20), x,
 * Softplus(x)), as libnn's exporter writes it. */
static nn_status step_where(im *s, size_t k, const char **next)
{
    const NnOnnx__NodeProto *n = s->g->node[k], *gt;
    const char *x = in_at(n, 1);
    size_t pg, ps;
    nn_status st = arity(s, k, 3, 3);
    if (st != NN_OK)
        return st;
    pg = producer(s, in_at(n, 0), "Greater");
    ps = producer(s, in_at(n, 2), "Softplus");
    if (pg != (size_t)-1 && ps != (size_t)-1 && x && !const_of(s, x)) {
        gt = s->g->node[pg];
        if (gt->n_input == 2 && in_at(gt, 0) &&
            strcmp(in_at(gt, 0), x) == 0 &&
            const_is(s, in_at(gt, 1), 20.0, 0.0) &&
            s->g->node[ps]->n_input == 1 && in_at(s->g->node[ps], 0) &&
            strcmp(in_at(s->g->node[ps], 0), x) == 0 &&
            uses_of(s, in_at(n, 0)) == 1 && uses_of(s, in_at(n, 2)) == 1) {
            s->used[pg] = s->used[ps] = 1;
            push(s, NN_KIND_ACTIVATION, k)->act = NN_ACT_SOFTPLUS;
            *next = x;
            return NN_OK;
        }
    }
    return bad_node(s, k, "libnn imports Where only as softplus with "
                    "PyTorch's threshold, Where(Greater(x, 20), x, "
                    "Softplus(x))");
}

static nn_status step_batchnorm(im *s, size_t k, const char **next)
{
    const NnOnnx__NodeProto *n = s->g->node[k];
    int64_t training = 0, spatial = 1;
    double eps, mom;
    im_layer *L;
    int i;
    nn_status st = arity(s, k, 5, 5);
    if (st == NN_OK)
        st = attr_float(s, k, "epsilon", 1e-5, &eps);
    if (st == NN_OK)
        st = attr_float(s, k, "momentum", 0.9, &mom);
    if (st == NN_OK)
        st = attr_int(s, k, "training_mode", 0, &training);
    if (st == NN_OK)
        st = attr_int(s, k, "spatial", 1, &spatial);
    if (st != NN_OK)
        return st;
    if (training != 0)
        return bad_node(s, k, "training_mode is %lld; libnn imports "
                        "inference graphs (export the model in eval mode)",
                        (long long)training);
    if (spatial != 1)
        return bad_node(s, k, "spatial is %lld; libnn imports per-feature "
                        "statistics (spatial 1)", (long long)spatial);
    L = push(s, NN_KIND_BATCHNORM, k);
    for (i = 0; i < 4; i++) {
        L->p[i] = const_of(s, in_at(n, (size_t)i + 1));
        if (!L->p[i])
            return bad_node(s, k, "input %d is not a constant", i + 1);
    }
    L->eps = eps;
    L->momentum = 1.0 - mom;
    *next = in_at(n, 0);
    return NN_OK;
}

static nn_status step_layernorm(im *s, size_t k, const char **next)
{
    const NnOnnx__NodeProto *n = s->g->node[k];
    int64_t axis = -1;
    double eps;
    im_layer *L;
    nn_status st = arity(s, k, 2, 3);
    if (st == NN_OK)
        st = attr_int(s, k, "axis", -1, &axis);
    if (st == NN_OK)
        st = attr_float(s, k, "epsilon", 1e-5, &eps);
    if (st != NN_OK)
        return st;
    if (axis != -1 && axis != 1)
        return bad_node(s, k, "axis is %lld; libnn normalizes each row "
                        "(axis -1)", (long long)axis);
    L = push(s, NN_KIND_LAYERNORM, k);
    L->eps = eps;
    L->p[0] = const_of(s, in_at(n, 1));
    if (!L->p[0])
        return bad_node(s, k, "the scale is not a constant");
    if (in_at(n, 2)) {
        L->p[1] = const_of(s, in_at(n, 2));
        if (!L->p[1])
            return bad_node(s, k, "the bias is not a constant");
    }
    *next = in_at(n, 0);
    return NN_OK;
}

static nn_status step_dropout(im *s, size_t k, const char **next)
{
    const NnOnnx__NodeProto *n = s->g->node[k];
    double rate = 0.5;
    const cview *c;
    im_layer *L;
    nn_status st = arity(s, k, 1, 3);
    if (st != NN_OK)
        return st;
    if (s->opset < 12) {
        st = attr_float(s, k, "ratio", 0.5, &rate);
        if (st != NN_OK)
            return st;
    } else if (in_at(n, 1)) {
        c = const_of(s, in_at(n, 1));
        if (!c || c->count != 1)
            return bad_node(s, k, "the ratio is not a constant scalar");
        rate = cv_at(c, 0);
    }
    if (in_at(n, 2)) {
        c = const_of(s, in_at(n, 2));
        if (!c || c->count != 1 || cv_at(c, 0) != 0.0)
            return bad_node(s, k, "training_mode is not the constant false; "
                            "libnn imports inference graphs");
    }
    if (!(rate >= 0.0 && rate < 1.0))
        return bad_node(s, k, "the ratio is %g; libnn's dropout takes "
                        "[0, 1)", rate);
    L = push(s, NN_KIND_DROPOUT, k);
    L->param = rate;
    *next = in_at(n, 0);
    return NN_OK;
}

/* One node back: the node k that produces the current value; *next
 * receives the value before it. */
static nn_status step(im *s, size_t k, const char **next)
{
    const NnOnnx__NodeProto *n = s->g->node[k];
    const char *op = op_of(n);
    nn_status st;
    if (!default_domain(n))
        return bad_node(s, k, "its domain is '%.40s'; libnn imports "
                        "operators of the default ONNX domain", n->domain);
    st = take(s, k);
    if (st != NN_OK)
        return st;
    if (strcmp(op, "Gemm") == 0)
        return step_gemm(s, k, next);
    if (strcmp(op, "MatMul") == 0)
        return step_matmul(s, k, NULL, (size_t)-1, next);
    if (strcmp(op, "Add") == 0)
        return step_add(s, k, next);
    if (strcmp(op, "Mul") == 0)
        return step_mul(s, k, next);
    if (strcmp(op, "Div") == 0)
        return step_div(s, k, next);
    if (strcmp(op, "Sub") == 0)
        return step_sub(s, k, next);
    if (strcmp(op, "Where") == 0)
        return step_where(s, k, next);
    if (strcmp(op, "BatchNormalization") == 0)
        return step_batchnorm(s, k, next);
    if (strcmp(op, "LayerNormalization") == 0)
        return step_layernorm(s, k, next);
    if (strcmp(op, "Dropout") == 0)
        return step_dropout(s, k, next);
    if (strcmp(op, "Relu") == 0)
        return activation(s, k, NN_ACT_RELU, next);
    if (strcmp(op, "Sigmoid") == 0)
        return activation(s, k, NN_ACT_SIGMOID, next);
    if (strcmp(op, "Tanh") == 0)
        return activation(s, k, NN_ACT_TANH, next);
    if (strcmp(op, "Softplus") == 0)
        return activation(s, k, NN_ACT_SOFTPLUS, next);
    if (strcmp(op, "LeakyRelu") == 0 || strcmp(op, "Elu") == 0) {
        int leaky = op[0] == 'L';
        double a;
        st = attr_float(s, k, "alpha", leaky ? 0.01 : 1.0, &a);
        if (st == NN_OK)
            st = activation(s, k, leaky ? NN_ACT_LEAKY_RELU : NN_ACT_ELU,
                            next);
        if (st == NN_OK)
            s->layers[s->n_layers - 1].param = a;
        return st;
    }
    if (strcmp(op, "Softmax") == 0) {
        int64_t axis;
        st = attr_int(s, k, "axis", s->opset < 13 ? 1 : -1, &axis);
        if (st != NN_OK)
            return st;
        if (axis != 1 && axis != -1)
            return bad_node(s, k, "axis is %lld; libnn's softmax is over "
                            "each row (axis 1 or -1)", (long long)axis);
        return activation(s, k, NN_ACT_SOFTMAX, next);
    }
    if (strcmp(op, "Gelu") == 0) {
        const NnOnnx__AttributeProto *a = attr(n, "approximate");
        if (a && !(a->has_s && a->s.len == 4 &&
                   memcmp(a->s.data, "none", 4) == 0))
            return bad_node(s, k, "libnn's GELU is the exact (erf) form; "
                            "this one is approximated");
        return activation(s, k, NN_ACT_GELU, next);
    }
    if (strcmp(op, "Identity") == 0 || strcmp(op, "Flatten") == 0) {
        int64_t axis = 1;
        st = arity(s, k, 1, 1);
        if (st == NN_OK && op[0] == 'F')
            st = attr_int(s, k, "axis", 1, &axis);
        if (st != NN_OK)
            return st;
        if (axis != 1 && !(axis == -1 && s->input_rank <= 2))
            return bad_node(s, k, "axis is %lld; libnn imports Flatten of "
                            "rows (axis 1)", (long long)axis);
        *next = in_at(n, 0);
        if (strcmp(*next, s->input) == 0)
            s->first_is_flatten = op[0] == 'F';
        return NN_OK;
    }
    return bad_node(s, k, "%s", "libnn does not import this operator; "
                    NN__IX_SUPPORTED);
}

/* ---- reading the graph ---- */

static nn_status tensor_view(const im *s, const NnOnnx__TensorProto *t,
                             const char *name, cview *c)
{
    size_t k, count = 1, esize;
    memset(c, 0, sizeof *c);
    c->name = name;
    if (t->has_data_location && t->data_location != 0)
        return bad(s, "tensor '%.60s' keeps its data in an external file, "
                   "which libnn does not read", name);
    if (t->n_dims > 8)
        return bad(s, "tensor '%.60s' has %zu dimensions; libnn reads up "
                   "to 8", name, t->n_dims);
    for (k = 0; k < t->n_dims; k++) {
        if (t->dims[k] < 0 || (uint64_t)t->dims[k] > (size_t)-1 ||
            !nn__mul_size(count, (size_t)t->dims[k], &count))
            return bad(s, "tensor '%.60s' has dimension %zu of %lld", name,
                       k, (long long)t->dims[k]);
    }
    c->type = t->has_data_type ? t->data_type : 0;
    c->count = count;
    c->rank = t->n_dims;
    c->dims = t->dims;
    switch (c->type) {
    case DT_FLOAT:
        esize = 4;
        c->f = t->float_data;
        k = t->n_float_data;
        break;
    case DT_DOUBLE:
        esize = 8;
        c->d = t->double_data;
        k = t->n_double_data;
        break;
    case DT_INT64:
        esize = 8;
        c->i = t->int64_data;
        k = t->n_int64_data;
        break;
    case DT_BOOL:
        esize = 1;
        c->b = t->int32_data;
        k = t->n_int32_data;
        break;
    default:
        return bad(s, "tensor '%.60s' is of ONNX data type %d; libnn reads "
                   "float (1), double (11), int64 (7) and bool (9) tensors",
                   name, c->type);
    }
    if (t->has_raw_data) {
        size_t need;
        if (!nn__mul_size(count, esize, &need) || t->raw_data.len != need)
            return bad(s, "tensor '%.60s' has %zu bytes of raw data; its "
                       "%zu elements take %zu", name, t->raw_data.len,
                       count, count * esize);
        c->raw = t->raw_data.data;
        c->f = NULL;
        c->d = NULL;
        c->i = NULL;
        c->b = NULL;
    } else if (k != count) {
        return bad(s, "tensor '%.60s' holds %zu values; its shape has %zu",
                   name, k, count);
    }
    return NN_OK;
}

/* A Constant node's value. */
static nn_status constant_view(const im *s, size_t k, cview *c)
{
    const NnOnnx__NodeProto *n = s->g->node[k];
    const NnOnnx__AttributeProto *a;
    const char *name = n->output[0];
    if (n->n_attribute != 1)
        return bad_node(s, k, "a Constant has one attribute, this one %zu",
                        n->n_attribute);
    a = n->attribute[0];
    memset(c, 0, sizeof *c);
    c->name = name;
    if (a->name && strcmp(a->name, "value") == 0 && a->t)
        return tensor_view(s, a->t, name, c);
    if (a->name && strcmp(a->name, "value_float") == 0 && a->has_f) {
        c->type = DT_FLOAT;
        c->count = 1;
        c->f = &a->f;
        return NN_OK;
    }
    if (a->name && strcmp(a->name, "value_floats") == 0) {
        c->type = DT_FLOAT;
        c->count = a->n_floats;
        c->f = a->floats;
        c->rank = 1;
        c->own_dim = (int64_t)a->n_floats;
        c->dims = &c->own_dim;
        return NN_OK;
    }
    if (a->name && strcmp(a->name, "value_int") == 0 && a->has_i) {
        c->type = DT_INT64;
        c->count = 1;
        c->i = &a->i;
        return NN_OK;
    }
    if (a->name && strcmp(a->name, "value_ints") == 0) {
        c->type = DT_INT64;
        c->count = a->n_ints;
        c->i = a->ints;
        c->rank = 1;
        c->own_dim = (int64_t)a->n_ints;
        c->dims = &c->own_dim;
        return NN_OK;
    }
    return bad_node(s, k, "libnn reads Constant nodes of a tensor, a float "
                    "or an integer value");
}

static int is_float_matrix_type(const NnOnnx__ValueInfoProto *v)
{
    return !v->type ||
           v->type->value_case != NN_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
           !v->type->tensor_type->has_elem_type ||
           v->type->tensor_type->elem_type == DT_FLOAT;
}

/* The shape of a graph input or output: *rank (0 if not given) and the
 * product of its dimensions after the first (0 if any is not a fixed
 * number). */
static nn_status value_shape(const im *s, const NnOnnx__ValueInfoProto *v,
                             const char *what, int *rank, size_t *width)
{
    const NnOnnx__TensorShapeProto *sh;
    size_t k, w = 1;
    *rank = 0;
    *width = 0;
    if (!is_float_matrix_type(v))
        return bad(s, "the graph %s '%.60s' is not of type float; libnn "
                   "computes in float", what, v->name ? v->name : "");
    if (!v->type ||
        v->type->value_case != NN_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
        !v->type->tensor_type->shape)
        return NN_OK;
    sh = v->type->tensor_type->shape;
    if (sh->n_dim < 2 || sh->n_dim > 8)
        return bad(s, "the graph %s '%.60s' has %zu dimensions; libnn takes "
                   "a batch of rows (2 dimensions, or more flattened)",
                   what, v->name ? v->name : "", sh->n_dim);
    *rank = (int)sh->n_dim;
    for (k = 1; k < sh->n_dim; k++) {
        const NnOnnx__TensorShapeProto__Dimension *d = sh->dim[k];
        if (d->value_case !=
            NN_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            w = 0;
            continue;
        }
        if (d->dim_value <= 0 || d->dim_value > INT32_MAX ||
            (w != 0 && !nn__mul_size(w, (size_t)d->dim_value, &w)))
            return bad(s, "the graph %s '%.60s' has dimension %zu of %lld",
                       what, v->name ? v->name : "", k,
                       (long long)d->dim_value);
    }
    if (w > (size_t)INT32_MAX)
        return bad(s, "the graph %s '%.60s' is %zu wide; libnn takes at "
                   "most 2^31 - 1", what, v->name ? v->name : "", w);
    *width = w;
    return NN_OK;
}

/* Builds the tables: constants, values by name, their uses. */
static nn_status tables(im *s)
{
    const NnOnnx__GraphProto *g = s->g;
    size_t k, j, n_vals, bytes, lbytes, nc, cbytes, live;
    im_val *tmp;
    nn_status st;
    if (!nn__add_size(g->n_initializer, g->n_input, &n_vals))
        return bad(s, "too many values");
    for (k = 0; k < g->n_node; k++)
        if (!nn__add_size(n_vals, g->node[k]->n_output, &n_vals))
            return bad(s, "too many values");
    /* The decoder holds a pointer per value and a message per node
     * already, so these tables are of the order of the decoded tree. */
    if (!nn__mul_size(n_vals + 1, sizeof(im_val), &bytes) ||
        !nn__mul_size(g->n_node + 1, sizeof(im_layer), &lbytes) ||
        !nn__add_size(g->n_initializer, g->n_node + 1, &nc) ||
        !nn__mul_size(nc, sizeof(cview), &cbytes))
        return bad(s, "too many values");
    s->vals = (im_val *)nn__malloc(bytes);
    s->consts = (cview *)nn__malloc(cbytes);
    s->used = (unsigned char *)nn__malloc(g->n_node + 1);
    s->layers = (im_layer *)nn__malloc(lbytes);
    if (!s->vals || !s->consts || !s->used || !s->layers)
        return nn__fail(NN_E_NOMEM, "%s: allocating the tables of %zu "
                        "nodes and %zu values failed", s->fn, g->n_node,
                        n_vals);
    memset(s->used, 0, g->n_node + 1);

    /* Every value the graph defines: initializers, graph inputs, and the
     * outputs of nodes (Constant nodes' as constants). */
    for (k = 0; k < g->n_initializer; k++) {
        const NnOnnx__TensorProto *t = g->initializer[k];
        if (!t->name || !t->name[0])
            return bad(s, "initializer %zu has no name", k);
        st = tensor_view(s, t, t->name, &s->consts[s->n_consts]);
        if (st != NN_OK)
            return st;
        add_val(s, t->name, V_CONST, s->n_consts++, 0);
    }
    for (k = 0; k < g->n_input; k++) {
        if (!g->input[k]->name || !g->input[k]->name[0])
            return bad(s, "graph input %zu has no name", k);
        add_val(s, g->input[k]->name, V_INPUT, k, 0);
    }
    for (k = 0; k < g->n_node; k++) {
        const NnOnnx__NodeProto *n = g->node[k];
        if (n->n_output == 0 || !n->output[0] || !n->output[0][0])
            return bad_node(s, k, "it has no output");
        if (strcmp(op_of(n), "Constant") == 0 && default_domain(n)) {
            st = constant_view(s, k, &s->consts[s->n_consts]);
            if (st != NN_OK)
                return st;
            add_val(s, n->output[0], V_CONST, s->n_consts++, 0);
            s->used[k] = 1;
            continue;
        }
        for (j = 0; j < n->n_output; j++)
            if (n->output[j] && n->output[j][0])
                add_val(s, n->output[j], V_NODE, k, j);
    }

    /* By name; a name defined twice is refused, except a graph input
     * that repeats an initializer (old exporters list the initializers
     * as inputs too), which is the initializer. */
    if (!nn__mul_size(s->n_vals + 1, sizeof(im_val), &bytes))
        return bad(s, "too many values");
    tmp = (im_val *)nn__malloc(bytes);
    if (!tmp)
        return nn__fail(NN_E_NOMEM, "%s: allocating %zu bytes failed", s->fn,
                        bytes);
    sort_vals(s->vals, tmp, s->n_vals);
    nn__free(tmp);
    for (k = 0, live = 0; k < s->n_vals; k++) {
        im_val *v = &s->vals[k];
        if (live > 0 && strcmp(s->vals[live - 1].name, v->name) == 0) {
            im_val *prev = &s->vals[live - 1];
            int init_prev = prev->kind == V_CONST &&
                            prev->index < g->n_initializer;
            int init_v = v->kind == V_CONST && v->index < g->n_initializer;
            if (init_prev && v->kind == V_INPUT)
                continue;
            if (prev->kind == V_INPUT && init_v) {
                *prev = *v;
                continue;
            }
            return bad(s, "the value '%.60s' is defined twice", v->name);
        }
        s->vals[live++] = *v;
    }
    s->n_vals = live;

    /* The input: the one graph input that is not an initializer. */
    for (k = 0; k < g->n_input; k++) {
        const char *name = g->input[k]->name;
        const im_val *v = find(s, name);
        if (!v || v->kind != V_INPUT || v->index != k)
            continue;
        if (s->input)
            return bad(s, "the graph has inputs '%.60s' and '%.60s'; libnn "
                       "imports graphs of one input", s->input, name);
        s->input = name;
        st = value_shape(s, g->input[k], "input", &s->input_rank,
                         &s->input_width);
        if (st != NN_OK)
            return st;
    }
    if (!s->input)
        return bad(s, "the graph has no input");

    /* Identity nodes of constants are constants (torch.onnx.export
     * shares equal initializers through them); in node order, which ONNX
     * keeps topological, so that one of another is one too. */
    for (k = 0; k < g->n_node; k++) {
        const NnOnnx__NodeProto *n = g->node[k];
        const cview *alias;
        im_val *out;
        if (strcmp(op_of(n), "Identity") != 0 || !default_domain(n) ||
            n->n_input != 1 || n->n_output != 1 ||
            (alias = const_of(s, in_at(n, 0))) == NULL)
            continue;
        out = find(s, n->output[0]);
        if (!out || out->kind != V_NODE)
            continue;
        out->kind = V_CONST;
        out->index = (size_t)(alias - s->consts);
        out->slot = 0;
        s->used[k] = 1;
    }

    for (k = 0; k < g->n_node; k++)
        for (j = 0; j < g->node[k]->n_input; j++) {
            const char *name = g->node[k]->input[j];
            im_val *v = name && name[0] ? find(s, name) : NULL;
            if (v)
                v->uses++;
            else if (name && name[0])
                return bad_node(s, k, "its input '%.60s' is not defined "
                                "by the graph", name);
        }
    return NN_OK;
}

/* Walks from the output back to the input. */
static nn_status walk(im *s)
{
    const NnOnnx__GraphProto *g = s->g;
    const char *v;
    size_t k;
    int rank;
    nn_status st;
    if (g->n_output != 1)
        return bad(s, "the graph has %zu outputs; libnn imports graphs of "
                   "one output", g->n_output);
    v = g->output[0]->name;
    if (!v || !v[0])
        return bad(s, "the graph output has no name");
    st = value_shape(s, g->output[0], "output", &rank, &s->output_width);
    if (st != NN_OK)
        return st;
    if (rank > 2)
        return bad(s, "the graph output has %d dimensions; libnn gives "
                   "rows (2)", rank);
    if (find(s, v))
        find(s, v)->uses++;
    for (;;) {
        const im_val *val = find(s, v);
        if (!val)
            return bad(s, "the value '%.60s' is not defined by the graph",
                       v);
        if (val->kind == V_INPUT)
            break;
        if (val->kind == V_CONST)
            return bad(s, "the output does not depend on the input: the "
                       "chain reaches the constant '%.60s'", v);
        if (s->used[val->index])
            return bad_node(s, val->index, "the node is reached twice: the "
                            "graph is not a chain of layers");
        if (val->slot != 0)
            return bad_node(s, val->index, "its output %zu is read; libnn "
                            "imports only the first output of a %s",
                            val->slot, op_of(g->node[val->index]));
        st = step(s, val->index, &v);
        if (st != NN_OK)
            return st;
    }
    for (k = 0; k < g->n_node; k++)
        if (!s->used[k])
            return bad_node(s, k, "the node is not on the path from the "
                            "input to the output; libnn imports a single "
                            "chain of layers");
    if (s->input_rank > 2 && !s->first_is_flatten)
        return bad(s, "the graph input has %d dimensions; libnn takes rows, "
                   "so the first node must be Flatten (axis 1)",
                   s->input_rank);
    return NN_OK;
}

/* ---- widths ---- */

/* A constant that broadcasts over rows of width w: [w], [1, w], or a
 * single value ([], [1], [1, 1]). */
static int fits_row(const cview *c, size_t w)
{
    size_t k;
    if (c->count == 1)
        return 1;
    for (k = 0; k + 1 < c->rank; k++)
        if (c->dims[k] != 1)
            return 0;
    return c->count == w && c->rank >= 1;
}

/* Parameters are real numbers: float, or double (rounded to float). */
static nn_status check_real(const im *s, const im_layer *L, const cview *c)
{
    if (!c || c->type == DT_FLOAT || c->type == DT_DOUBLE)
        return NN_OK;
    return bad_node(s, L->node, "the constant '%.60s' is of ONNX data type "
                    "%d; libnn's parameters are float", c->name ? c->name
                                                                : "", c->type);
}

/* The input width a layer fixes, or 0 for layers that take any width. */
static nn_status layer_in_width(const im *s, const im_layer *L, size_t *w)
{
    int i;
    *w = 0;
    switch (L->kind) {
    case NN_KIND_DENSE:
        *w = (size_t)L->w->dims[L->w_trans ? 1 : 0];
        return NN_OK;
    case NN_KIND_BATCHNORM:
    case NN_KIND_LAYERNORM:
        /* a layer normalization without scale and shift (its Div alone)
         * has no constant, and takes any width */
        for (i = 0; i < 4 && *w == 0; i++)
            if (L->p[i])
                *w = L->p[i]->count;
        return NN_OK;
    case NN_KIND_SCALING:
        for (i = 0; i < 2; i++)
            if (L->p[i] && L->p[i]->count != 1)
                *w = L->p[i]->count;
        return NN_OK;
    default:
        (void)s;
        return NN_OK;
    }
}

static const char *kind_word(int kind)
{
    switch (kind) {
    case NN_KIND_DENSE: return "dense layer";
    case NN_KIND_BATCHNORM: return "batch normalization";
    case NN_KIND_LAYERNORM: return "layer normalization";
    case NN_KIND_SCALING: return "scaling";
    default: return "layer";
    }
}

/* In input-to-output order: each layer's widths, checked against the one
 * before; then the merges that give the model a user would build (a dense
 * layer and the activation after it; a scale and the shift after it). */
static nn_status widths(im *s)
{
    size_t l, w = s->input_width, fixed, n = s->n_layers, i;
    /* Found output first; turn around. */
    for (l = 0; l < n / 2; l++) {
        im_layer t = s->layers[l];
        s->layers[l] = s->layers[n - 1 - l];
        s->layers[n - 1 - l] = t;
    }
    if (w == 0) {
        for (l = 0; l < n && w == 0; l++) {
            nn_status st = layer_in_width(s, &s->layers[l], &w);
            if (st != NN_OK)
                return st;
        }
        if (w == 0)
            return bad(s, "the input width is not known: the graph input's "
                       "shape does not fix it and no layer does");
        s->input_width = w;
    }
    for (l = 0; l < n; l++) {
        im_layer *L = &s->layers[l];
        int i2;
        nn_status st = check_real(s, L, L->w);
        if (st == NN_OK)
            st = check_real(s, L, L->b);
        for (i2 = 0; i2 < 4 && st == NN_OK; i2++)
            st = check_real(s, L, L->p[i2]);
        if (st != NN_OK)
            return st;
        layer_in_width(s, L, &fixed);
        if (fixed != 0 && fixed != w)
            return bad_node(s, L->node, "the shapes do not chain: this %s "
                            "takes rows of %zu, %s %zu", kind_word(L->kind),
                            fixed, l == 0 ? "the graph input is"
                                          : "the layer before gives", w);
        L->in = w;
        switch (L->kind) {
        case NN_KIND_DENSE:
            L->out = (size_t)L->w->dims[L->w_trans ? 0 : 1];
            if (L->out == 0 || L->out > (size_t)INT32_MAX)
                return bad_node(s, L->node, "the layer is %zu wide",
                                L->out);
            if (L->b && !fits_row(L->b, L->out))
                return bad_node(s, L->node, "the bias '%.60s' has %zu "
                                "values in %zu dimensions; the layer is %zu "
                                "wide", L->b->name ? L->b->name : "",
                                L->b->count, L->b->rank, L->out);
            break;
        case NN_KIND_BATCHNORM:
        case NN_KIND_LAYERNORM:
            for (i2 = 0; i2 < 4; i2++)
                if (L->p[i2] && (L->p[i2]->count != w ||
                                 !fits_row(L->p[i2], w)))
                    return bad_node(s, L->node, "input '%.60s' has %zu "
                                    "values; the layer is %zu wide",
                                    L->p[i2]->name ? L->p[i2]->name : "",
                                    L->p[i2]->count, w);
            L->out = w;
            break;
        case NN_KIND_SCALING:
            for (i2 = 0; i2 < 2; i2++)
                if (L->p[i2] && !fits_row(L->p[i2], w))
                    return bad_node(s, L->node, "the constant '%.60s' does "
                                    "not broadcast over rows of %zu",
                                    L->p[i2]->name ? L->p[i2]->name : "", w);
            L->out = w;
            break;
        default:
            L->out = w;
            break;
        }
        /* The arrays whose size no tensor of the file gives: a scaling
         * by single values, or a layer normalization without scale and
         * shift, is as wide as the rows, which may come from the input's
         * declared shape alone. */
        if (fixed == 0 && w > s->bytes &&
            (L->kind == NN_KIND_SCALING || L->kind == NN_KIND_LAYERNORM))
            return bad_node(s, L->node, "a %s of rows of %zu %s is wider "
                            "than a file of %zu bytes justifies",
                            kind_word(L->kind), w,
                            L->kind == NN_KIND_SCALING
                                ? "by single values"
                                : "without scale and shift",
                            s->bytes);
        if (L->kind == NN_KIND_DENSE && L->w->count == 0)
            return bad_node(s, L->node, "the weights are empty");
        w = L->out;
    }
    if (s->output_width != 0 && s->output_width != w)
        return bad(s, "the graph output is declared %zu wide; the layers "
                   "give %zu", s->output_width, w);
    /* Merges. */
    for (l = 0, i = 0; l < n; l++) {
        im_layer *L = &s->layers[l];
        if (i > 0) {
            im_layer *P = &s->layers[i - 1];
            if (P->kind == NN_KIND_DENSE && P->act == NN_ACT_IDENTITY &&
                L->kind == NN_KIND_ACTIVATION) {
                P->act = L->act;
                P->param = L->param;
                continue;
            }
            if (P->kind == NN_KIND_SCALING && P->p[0] && !P->p[1] &&
                L->kind == NN_KIND_SCALING && !L->p[0] && L->p[1]) {
                P->p[1] = L->p[1];
                P->p_neg = L->p_neg;
                continue;
            }
        }
        s->layers[i++] = *L;
    }
    s->n_layers = i;
    if (i == 0)
        return bad(s, "the graph holds no layer, only Identity or Flatten "
                   "nodes");
    return NN_OK;
}

/* ---- building the model ---- */

/* A libnn call made for layer L: its refusal becomes the importer's. */
static nn_status lib(const im *s, const im_layer *L, nn_status st)
{
    char why[300];
    if (st == NN_OK || st == NN_E_NOMEM)
        return st;
    snprintf(why, sizeof why, "%s", nn_last_error());
    return bad_node(s, L->node, "libnn refuses it: %s", why);
}

/* dst (w floats) = the constant broadcast over a row, or fill if c is
 * NULL; inverted or negated as asked. */
static void row_of(const cview *c, size_t w, float fill, int inv, int neg,
                   float *dst)
{
    size_t j;
    for (j = 0; j < w; j++) {
        double v = c ? cv_at(c, c->count == 1 ? 0 : j) : fill;
        if (inv)
            v = 1.0 / v;
        if (neg)
            v = -v;
        dst[j] = (float)v;
    }
}

static nn_status build_layer(const im *s, nn_model *m, const im_layer *L,
                             float *buf)
{
    size_t i, j, w = L->out;
    nn_status st;
    switch (L->kind) {
    case NN_KIND_DENSE:
        st = lib(s, L, nn_model_add_dense(m, w, (nn_activation)L->act));
        if (st != NN_OK)
            return st;
        for (i = 0; i < L->in; i++)
            for (j = 0; j < w; j++)
                buf[i * w + j] = (float)(L->alpha *
                    cv_at(L->w, L->w_trans ? j * L->in + i : i * w + j));
        st = lib(s, L, nn_model_set_weights(m, nn_model_layer_count(m) - 1,
                                            buf, L->in * w));
        if (st != NN_OK)
            return st;
        for (j = 0; j < w; j++)
            buf[j] = L->b ? (float)(L->beta *
                                    cv_at(L->b, L->b->count == 1 ? 0 : j))
                          : 0.0f;
        st = lib(s, L, nn_model_set_bias(m, nn_model_layer_count(m) - 1,
                                         buf, w));
        break;
    case NN_KIND_ACTIVATION:
        st = lib(s, L, nn_model_add_activation(m, (nn_activation)L->act));
        break;
    case NN_KIND_DROPOUT:
        return lib(s, L, nn_model_add_dropout(m, L->param));
    case NN_KIND_BATCHNORM:
    case NN_KIND_LAYERNORM:
        st = lib(s, L, L->kind == NN_KIND_BATCHNORM
                           ? nn_model_add_batchnorm(m)
                           : nn_model_add_layernorm(m));
        if (st != NN_OK)
            return st;
        i = nn_model_layer_count(m) - 1;
        row_of(L->p[0], w, 1.0f, 0, 0, buf);
        st = lib(s, L, nn_model_set_weights(m, i, buf, w));
        if (st != NN_OK)
            return st;
        row_of(L->p[1], w, 0.0f, 0, 0, buf);
        st = lib(s, L, nn_model_set_bias(m, i, buf, w));
        if (st != NN_OK)
            return st;
        st = lib(s, L, nn_model_set_layer_param(m, i, NN_LAYER_EPSILON,
                                                L->eps));
        if (st != NN_OK || L->kind == NN_KIND_LAYERNORM)
            return st;
        st = lib(s, L, nn_model_set_layer_param(m, i, NN_LAYER_MOMENTUM,
                                                L->momentum));
        if (st != NN_OK)
            return st;
        row_of(L->p[2], w, 0.0f, 0, 0, buf);
        row_of(L->p[3], w, 0.0f, 0, 0, buf + w);
        return lib(s, L, nn_model_set_layer_buffers(m, i, buf, 2 * w));
    case NN_KIND_SCALING:
        row_of(L->p[0], w, 1.0f, L->p_inv, 0, buf);
        row_of(L->p[1], w, 0.0f, 0, L->p_neg, buf + w);
        return lib(s, L, nn_model_add_scaling(m, buf, buf + w, w));
    default:
        return bad_node(s, L->node, "internal error: layer kind %d",
                        L->kind);
    }
    if (st != NN_OK)
        return st;
    if (L->act == NN_ACT_LEAKY_RELU || L->act == NN_ACT_ELU)
        st = lib(s, L, nn_model_set_layer_param(
                           m, nn_model_layer_count(m) - 1,
                           L->act == NN_ACT_ELU ? NN_LAYER_ELU_ALPHA
                                                : NN_LAYER_LEAKY_SLOPE,
                           L->param));
    return st;
}

static nn_status build_model(const im *s, const NnOnnx__ModelProto *mp,
                             nn_model **out)
{
    size_t l, most = 1, bytes;
    float *buf;
    nn_model *m = NULL;
    nn_status st;
    for (l = 0; l < s->n_layers; l++) {
        const im_layer *L = &s->layers[l];
        size_t need = L->kind == NN_KIND_DENSE ? L->in * L->out : 2 * L->out;
        if (need > most)
            most = need;
    }
    /* Every width was read from a tensor present in the file or checked
     * against its size, so this is within the bytes given. */
    if (!nn__mul_size(most, sizeof(float), &bytes))
        return bad(s, "a layer of %zu floats overflows size_t", most);
    buf = (float *)nn__malloc(bytes);
    if (!buf)
        return nn__fail(NN_E_NOMEM, "%s: allocating %zu bytes failed", s->fn,
                        bytes);
    st = nn_model_create(&m, s->input_width, 0);
    if (st != NN_OK && st != NN_E_NOMEM)
        st = bad(s, "libnn refuses an input of %zu: %s", s->input_width,
                 nn_last_error());
    for (l = 0; l < s->n_layers && st == NN_OK; l++)
        st = build_layer(s, m, &s->layers[l], buf);
    for (l = 0; l < mp->n_metadata_props && st == NN_OK; l++) {
        const NnOnnx__StringStringEntryProto *e = mp->metadata_props[l];
        st = nn_model_set_meta(m, e->key ? e->key : "",
                               e->value ? e->value : "");
        if (st != NN_OK && st != NN_E_NOMEM)
            st = bad(s, "metadata entry %zu: libnn refuses it: %s", l,
                     nn_last_error());
    }
    nn__free(buf);
    if (st != NN_OK) {
        nn_model_free(m);
        return st;
    }
    *out = m;
    return NN_OK;
}

/* ---- the import ---- */

static nn_status check_model_proto(im *s, const NnOnnx__ModelProto *mp)
{
    size_t k;
    s->opset = -1;
    for (k = 0; k < mp->n_opset_import; k++) {
        const NnOnnx__OperatorSetIdProto *o = mp->opset_import[k];
        if ((!o->domain || !o->domain[0] ||
             strcmp(o->domain, "ai.onnx") == 0) && o->has_version)
            s->opset = o->version;
    }
    if (s->opset < 0)
        return bad(s, "the model imports no version of the default ONNX "
                   "operator set");
    if (s->opset < 7 || s->opset > NN__IX_MAX_OPSET)
        return bad(s, "the model uses ONNX opset %lld; libnn imports opsets "
                   "7 to %d", (long long)s->opset, NN__IX_MAX_OPSET);
    if (!mp->graph)
        return bad(s, "the model has no graph");
    s->g = mp->graph;
    return NN_OK;
}

static nn_status import_bytes(const char *fn, nn_model **out,
                              const void *buf, size_t size)
{
    ProtobufCAllocator alloc;
    pb_budget budget;
    NnOnnx__ModelProto *mp;
    im s;
    nn_status st;
    size_t room;

    memset(&s, 0, sizeof s);
    s.fn = fn;
    s.bytes = size;
    if (!nn__mul_size(size, NN__IX_BUDGET_PER_BYTE, &room) ||
        !nn__add_size(room, NN__IX_BUDGET_BASE, &room))
        room = (size_t)-1;
    budget.left = room;
    budget.nomem = 0;
    budget.over = 0;
    alloc.alloc = pb_alloc;
    alloc.free = pb_free;
    alloc.allocator_data = &budget;
    mp = nn_onnx__model_proto__unpack(&alloc, size, (const uint8_t *)buf);
    if (!mp) {
        if (budget.nomem)
            return nn__fail(NN_E_NOMEM, "%s: out of memory decoding %zu "
                            "bytes", fn, size);
        if (budget.over)
            return nn__fail(NN_E_FORMAT, "%s: decoding the %zu bytes needs "
                            "more than %zu bytes of memory: the file holds "
                            "too many small messages to be a model", fn,
                            size, room);
        return nn__fail(NN_E_FORMAT, "%s: the %zu bytes are not an ONNX "
                        "model (protobuf-c cannot decode them as a "
                        "ModelProto)", fn, size);
    }
    st = check_model_proto(&s, mp);
    if (st == NN_OK)
        st = tables(&s);
    if (st == NN_OK)
        st = walk(&s);
    if (st == NN_OK)
        st = widths(&s);
    if (st == NN_OK)
        st = build_model(&s, mp, out);
    nn__free(s.vals);
    nn__free(s.consts);
    nn__free(s.used);
    nn__free(s.layers);
    nn_onnx__model_proto__free_unpacked(mp, &alloc);
    return st;
}

nn_status nn_model_import_onnx_buffer(nn_model **out, const void *buf,
                                      size_t size)
{
    static const char fn[] = "nn_model_import_onnx_buffer";
    if (!out)
        return nn__fail(NN_E_NULL, "%s: out is NULL", fn);
    *out = NULL;
    if (!buf)
        return nn__fail(NN_E_NULL, "%s: buf is NULL", fn);
    return import_bytes(fn, out, buf, size);
}

nn_status nn__onnx_import_ops(nn_model **out, const char *path,
                              const nn__file_ops *ops)
{
    static const char fn[] = "nn_model_import_onnx";
    unsigned char *data;
    size_t size;
    nn_status st;
    if (!out)
        return nn__fail(NN_E_NULL, "%s: out is NULL", fn);
    *out = NULL;
    if (!path)
        return nn__fail(NN_E_NULL, "%s: path is NULL", fn);
    st = nn__read_file(fn, path, ops, &data, &size);
    if (st != NN_OK)
        return st;
    st = import_bytes(fn, out, data, size);
    nn__free(data);
    return st;
}

nn_status nn_model_import_onnx(nn_model **out, const char *path)
{
    return nn__onnx_import_ops(out, path, nn__file_ops_posix());
}
