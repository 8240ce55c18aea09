/* SPDX-License-Identifier: MIT */
/*
 * onnx_export.c - a model as an ONNX file (opset 17, IR version 8) that
 * computes what nn_model_predict computes: nn_model_export_onnx and
 * nn_model_export_onnx_buffer.
 *
 * The model is first described as a list of ONNX nodes and initializers
 * (build), then encoded as protocol buffers by a small writer of its own:
 * writing needs no library (a few varints and length-prefixed fields), so
 * export works in every build, with or without the protobuf-c that the
 * importer reads with. The exported files are checked by an independent
 * reader, onnx.checker and ONNX Runtime, in tests/onnx.
 *
 * A length-prefixed message needs its length before its content. The
 * encoder runs over the description three times: counting the messages,
 * measuring each one's length (kept in pre-order), and writing, which
 * reads the lengths back in the same order. Only the last pass reads the
 * weights (through the getters, one layer array at a time), so an export
 * holds the file's bytes in memory only when the caller's buffer is the
 * destination.
 */
#include "interop.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The opset whose operators the file uses, and the IR version that goes
 * with it. 17 is the newest opset that onnx.checker of python3-onnx 1.12
 * (Debian 12) knows; it is the first with LayerNormalization. */
#define NN__ONNX_OPSET 17
#define NN__ONNX_IR 8

/* Longest value or node name: "l" + 20 digits + ".running_mean" fits. */
#define NN__NAME 48

/* ---- the graph, described ---- */

/* Where an initializer's floats come from. */
enum { SRC_WEIGHTS, SRC_BIAS, SRC_BUF_FIRST, SRC_BUF_SECOND, SRC_SCALAR };

typedef struct ex_init {
    char name[NN__NAME];
    int src;
    size_t layer;
    size_t count;      /* floats */
    int rank;          /* 0 (a scalar), 1 or 2 */
    size_t dims[2];
    float value;       /* SRC_SCALAR */
} ex_init;

typedef struct ex_attr {
    const char *name;
    int type;          /* 1 FLOAT, 2 INT */
    float f;
    int64_t i;
} ex_attr;

typedef struct ex_node {
    char name[NN__NAME];
    const char *op;
    char in[5][NN__NAME];
    int n_in;
    char out[NN__NAME];
    ex_attr attr[3];
    int n_attr;
} ex_node;

typedef struct ex_graph {
    const nn_model *model;
    size_t in_width, out_width;
    ex_node *nodes;
    size_t n_nodes, cap_nodes;
    ex_init *inits;
    size_t n_inits, cap_inits;
    char cur[NN__NAME];   /* the value the next layer reads */
    /* the encoder */
    size_t *sizes;        /* message lengths, pre-order */
    size_t n_sizes;
    size_t next;
    int pass;             /* PASS_COUNT, PASS_MEASURE, PASS_WRITE */
    size_t open_idx[8];
    size_t open_at[8];
    int depth;
    float *scratch;       /* room for nn__ix_max_array floats */
    nn__sink *out;
} ex_graph;

enum { PASS_COUNT, PASS_MEASURE, PASS_WRITE };

/* Each layer adds at most this many nodes and initializers (GELU: five
 * nodes; a dense layer with GELU: six nodes and five initializers). */
#define NN__NODES_PER_LAYER 6
#define NN__INITS_PER_LAYER 5

static ex_node *add_node(ex_graph *g, const char *op, size_t layer,
                         const char *what)
{
    ex_node *n = &g->nodes[g->n_nodes++];
    memset(n, 0, sizeof *n);
    n->op = op;
    snprintf(n->name, sizeof n->name, "l%zu.%s", layer, what);
    return n;
}

static void node_in(ex_node *n, const char *value)
{
    snprintf(n->in[n->n_in++], NN__NAME, "%s", value);
}

/* The node's output becomes the current value: "l<layer>.<what>". */
static void node_out(ex_graph *g, ex_node *n, size_t layer, const char *what)
{
    snprintf(n->out, sizeof n->out, "l%zu.%s", layer, what);
    snprintf(g->cur, sizeof g->cur, "%s", n->out);
}

static void attr_f(ex_node *n, const char *name, float f)
{
    ex_attr *a = &n->attr[n->n_attr++];
    a->name = name;
    a->type = 1;
    a->f = f;
}

static void attr_i(ex_node *n, const char *name, int64_t i)
{
    ex_attr *a = &n->attr[n->n_attr++];
    a->name = name;
    a->type = 2;
    a->i = i;
}

static ex_init *add_init(ex_graph *g, size_t layer, const char *what,
                         int src, size_t count)
{
    ex_init *t = &g->inits[g->n_inits++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "l%zu.%s", layer, what);
    t->src = src;
    t->layer = layer;
    t->count = count;
    t->rank = 1;
    t->dims[0] = count;
    return t;
}

static const char *add_scalar(ex_graph *g, size_t layer, const char *what,
                              float value)
{
    ex_init *t = add_init(g, layer, what, SRC_SCALAR, 1);
    t->rank = 0;
    t->value = value;
    return t->name;
}

/* One activation applied to the current value. Where opset 17 has no
 * operator for it, the composition that computes it exactly: GELU as
 * x (1 + erf(x / sqrt 2)) / 2 (the graph torch.onnx.export writes for
 * torch.nn.GELU(); opset 20 added Gelu), SiLU as x sigmoid(x), and
 * softplus with PyTorch's threshold: x where x > 20, else Softplus(x). */
static void add_activation(ex_graph *g, size_t layer, int act)
{
    char x[NN__NAME];
    ex_node *n;
    double v = 0.0;
    snprintf(x, sizeof x, "%s", g->cur);
    switch (act) {
    case NN_ACT_IDENTITY:
        return;
    case NN_ACT_SIGMOID:
        n = add_node(g, "Sigmoid", layer, "sigmoid");
        node_in(n, x);
        node_out(g, n, layer, "sigmoid");
        return;
    case NN_ACT_TANH:
        n = add_node(g, "Tanh", layer, "tanh");
        node_in(n, x);
        node_out(g, n, layer, "tanh");
        return;
    case NN_ACT_RELU:
        n = add_node(g, "Relu", layer, "relu");
        node_in(n, x);
        node_out(g, n, layer, "relu");
        return;
    case NN_ACT_LEAKY_RELU:
        v = nn__ix_layer_param(g->model, layer, NN_LAYER_LEAKY_SLOPE);
        n = add_node(g, "LeakyRelu", layer, "leaky_relu");
        node_in(n, x);
        attr_f(n, "alpha", (float)v);
        node_out(g, n, layer, "leaky_relu");
        return;
    case NN_ACT_SOFTMAX:
        n = add_node(g, "Softmax", layer, "softmax");
        node_in(n, x);
        attr_i(n, "axis", -1);
        node_out(g, n, layer, "softmax");
        return;
    case NN_ACT_GELU: {
        char e[NN__NAME];
        n = add_node(g, "Div", layer, "gelu_div");
        node_in(n, x);
        node_in(n, add_scalar(g, layer, "sqrt2", 1.41421356237309505f));
        node_out(g, n, layer, "gelu_div");
        n = add_node(g, "Erf", layer, "gelu_erf");
        node_in(n, g->cur);
        node_out(g, n, layer, "gelu_erf");
        n = add_node(g, "Add", layer, "gelu_add");
        node_in(n, g->cur);
        node_in(n, add_scalar(g, layer, "one", 1.0f));
        node_out(g, n, layer, "gelu_add");
        snprintf(e, sizeof e, "%s", g->cur);
        n = add_node(g, "Mul", layer, "gelu_mul");
        node_in(n, x);
        node_in(n, e);
        node_out(g, n, layer, "gelu_mul");
        n = add_node(g, "Mul", layer, "gelu");
        node_in(n, g->cur);
        node_in(n, add_scalar(g, layer, "half", 0.5f));
        node_out(g, n, layer, "gelu");
        return;
    }
    case NN_ACT_SILU:
        n = add_node(g, "Sigmoid", layer, "silu_sigmoid");
        node_in(n, x);
        node_out(g, n, layer, "silu_sigmoid");
        n = add_node(g, "Mul", layer, "silu");
        node_in(n, x);
        node_in(n, g->cur);
        node_out(g, n, layer, "silu");
        return;
    case NN_ACT_SOFTPLUS: {
        char above[NN__NAME], sp[NN__NAME];
        n = add_node(g, "Greater", layer, "softplus_above");
        node_in(n, x);
        node_in(n, add_scalar(g, layer, "threshold", 20.0f));
        node_out(g, n, layer, "softplus_above");
        snprintf(above, sizeof above, "%s", g->cur);
        n = add_node(g, "Softplus", layer, "softplus_log");
        node_in(n, x);
        node_out(g, n, layer, "softplus_log");
        snprintf(sp, sizeof sp, "%s", g->cur);
        n = add_node(g, "Where", layer, "softplus");
        node_in(n, above);
        node_in(n, x);
        node_in(n, sp);
        node_out(g, n, layer, "softplus");
        return;
    }
    case NN_ACT_ELU:
        v = nn__ix_layer_param(g->model, layer, NN_LAYER_ELU_ALPHA);
        n = add_node(g, "Elu", layer, "elu");
        node_in(n, x);
        attr_f(n, "alpha", (float)v);
        node_out(g, n, layer, "elu");
        return;
    default:
        return; /* nn__ix_check_model let no other through */
    }
}

static void add_layer(ex_graph *g, size_t l, size_t in, size_t width)
{
    int kind = (int)nn_model_layer_kind(g->model, l);
    double eps = 0.0, mom = 0.0;
    ex_node *n;
    ex_init *t;
    switch (kind) {
    case NN_KIND_DENSE:
        /* libnn's W is in x out, row-major: Gemm's B as it stands. */
        n = add_node(g, "Gemm", l, "gemm");
        node_in(n, g->cur);
        t = add_init(g, l, "weight", SRC_WEIGHTS, in * width);
        t->rank = 2;
        t->dims[0] = in;
        t->dims[1] = width;
        node_in(n, t->name);
        node_in(n, add_init(g, l, "bias", SRC_BIAS, width)->name);
        node_out(g, n, l, "gemm");
        add_activation(g, l, (int)nn_model_layer_activation(g->model, l));
        return;
    case NN_KIND_DROPOUT:
        return; /* the identity in inference mode */
    case NN_KIND_BATCHNORM:
        eps = nn__ix_layer_param(g->model, l, NN_LAYER_EPSILON);
        mom = nn__ix_layer_param(g->model, l, NN_LAYER_MOMENTUM);
        n = add_node(g, "BatchNormalization", l, "batchnorm");
        node_in(n, g->cur);
        node_in(n, add_init(g, l, "weight", SRC_WEIGHTS, width)->name);
        node_in(n, add_init(g, l, "bias", SRC_BIAS, width)->name);
        node_in(n, add_init(g, l, "running_mean", SRC_BUF_FIRST,
                            width)->name);
        node_in(n, add_init(g, l, "running_var", SRC_BUF_SECOND,
                            width)->name);
        attr_f(n, "epsilon", (float)eps);
        /* ONNX's momentum weighs the old statistic, PyTorch's and
         * libnn's the new one; inference does not use it. */
        attr_f(n, "momentum", (float)(1.0 - mom));
        node_out(g, n, l, "batchnorm");
        return;
    case NN_KIND_LAYERNORM:
        eps = nn__ix_layer_param(g->model, l, NN_LAYER_EPSILON);
        n = add_node(g, "LayerNormalization", l, "layernorm");
        node_in(n, g->cur);
        node_in(n, add_init(g, l, "weight", SRC_WEIGHTS, width)->name);
        node_in(n, add_init(g, l, "bias", SRC_BIAS, width)->name);
        attr_i(n, "axis", -1);
        attr_f(n, "epsilon", (float)eps);
        node_out(g, n, l, "layernorm");
        return;
    case NN_KIND_ACTIVATION:
        add_activation(g, l, (int)nn_model_layer_activation(g->model, l));
        return;
    case NN_KIND_SCALING:
        n = add_node(g, "Mul", l, "mul");
        node_in(n, g->cur);
        node_in(n, add_init(g, l, "scale", SRC_BUF_FIRST, width)->name);
        node_out(g, n, l, "mul");
        n = add_node(g, "Add", l, "add");
        node_in(n, g->cur);
        node_in(n, add_init(g, l, "shift", SRC_BUF_SECOND, width)->name);
        node_out(g, n, l, "add");
        return;
    default:
        return;
    }
}

/* Describes the model; the arrays must have room for its layers. */
static void build(ex_graph *g)
{
    size_t l, n = nn_model_layer_count(g->model);
    size_t in = nn_model_input_width(g->model);
    g->in_width = in;
    snprintf(g->cur, sizeof g->cur, "input");
    for (l = 0; l < n; l++) {
        size_t width = nn_model_layer_width(g->model, l);
        add_layer(g, l, in, width);
        in = width;
    }
    g->out_width = in;
    /* A model whose layers are all the identity in inference mode
     * (dropout, identity activations) still maps input to output. */
    if (g->n_nodes == 0) {
        ex_node *node = add_node(g, "Identity", 0, "identity");
        node_in(node, "input");
    }
    snprintf(g->nodes[g->n_nodes - 1].out, NN__NAME, "output");
}

/* ---- the encoder ---- */

static void put_varint(ex_graph *g, uint64_t v)
{
    unsigned char b[10];
    size_t k = 0;
    do {
        b[k] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            b[k] |= 0x80;
        k++;
    } while (v);
    nn__sink_put(g->out, b, k);
}

static size_t varint_len(uint64_t v)
{
    size_t k = 1;
    while (v >= 0x80) {
        v >>= 7;
        k++;
    }
    return k;
}

static void put_tag(ex_graph *g, unsigned field, unsigned wire)
{
    put_varint(g, ((uint64_t)field << 3) | wire);
}

static void put_int(ex_graph *g, unsigned field, int64_t v)
{
    put_tag(g, field, 0);
    put_varint(g, (uint64_t)v); /* negative: ten bytes, as protobuf has it */
}

static void put_bytes(ex_graph *g, unsigned field, const void *p, size_t n)
{
    put_tag(g, field, 2);
    put_varint(g, n);
    nn__sink_put(g->out, p, n);
}

static void put_str(ex_graph *g, unsigned field, const char *s)
{
    put_bytes(g, field, s, strlen(s));
}

static void put_f32(ex_graph *g, unsigned field, float f)
{
    unsigned char b[4];
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    b[0] = (unsigned char)u;
    b[1] = (unsigned char)(u >> 8);
    b[2] = (unsigned char)(u >> 16);
    b[3] = (unsigned char)(u >> 24);
    put_tag(g, field, 5);
    nn__sink_put(g->out, b, 4);
}

/* A length-delimited message starts: its tag, and in the write pass its
 * length measured before. */
static void begin(ex_graph *g, unsigned field)
{
    put_tag(g, field, 2);
    switch (g->pass) {
    case PASS_COUNT:
        g->n_sizes++;
        break;
    case PASS_MEASURE:
        g->open_idx[g->depth] = g->next++;
        g->open_at[g->depth] = g->out->total;
        g->depth++;
        break;
    default:
        put_varint(g, g->sizes[g->next++]);
        break;
    }
}

static void end(ex_graph *g)
{
    if (g->pass == PASS_MEASURE) {
        size_t len;
        g->depth--;
        len = g->out->total - g->open_at[g->depth];
        g->sizes[g->open_idx[g->depth]] = len;
        g->out->total += varint_len(len); /* the length's own bytes */
    }
}

/* A float array's bytes, little-endian, in raw_data. */
static void put_floats(ex_graph *g, const float *v, size_t n)
{
    unsigned char b[1024];
    while (n > 0) {
        size_t k = n < sizeof b / 4 ? n : sizeof b / 4, i;
        for (i = 0; i < k; i++) {
            uint32_t u;
            memcpy(&u, &v[i], sizeof u);
            b[4 * i] = (unsigned char)u;
            b[4 * i + 1] = (unsigned char)(u >> 8);
            b[4 * i + 2] = (unsigned char)(u >> 16);
            b[4 * i + 3] = (unsigned char)(u >> 24);
        }
        nn__sink_put(g->out, b, 4 * k);
        v += k;
        n -= k;
    }
}

static void emit_init(ex_graph *g, const ex_init *t)
{
    int d;
    begin(g, 5);                          /* GraphProto.initializer */
    for (d = 0; d < t->rank; d++)
        put_int(g, 1, (int64_t)t->dims[d]); /* dims */
    put_int(g, 2, 1);                     /* data_type FLOAT */
    put_str(g, 8, t->name);
    put_tag(g, 9, 2);                     /* raw_data */
    put_varint(g, 4 * (uint64_t)t->count);
    if (g->pass != PASS_WRITE) {
        g->out->total += 4 * t->count;    /* counted, not read */
    } else if (t->src == SRC_SCALAR) {
        put_floats(g, &t->value, 1);
    } else {
        size_t off = 0, count = t->count;
        int which = t->src == SRC_WEIGHTS ? NN__IX_WEIGHTS
                    : t->src == SRC_BIAS  ? NN__IX_BIAS
                                          : NN__IX_BUFFERS;
        if (which == NN__IX_BUFFERS) {
            count = nn_model_layer_buffer_count(g->model, t->layer);
            off = t->src == SRC_BUF_SECOND ? t->count : 0;
        }
        /* Checked readable by nn__ix_check_model. */
        (void)nn__ix_layer_array(g->model, t->layer, which, g->scratch,
                                 count);
        put_floats(g, g->scratch + off, t->count);
    }
    end(g);
}

static void emit_node(ex_graph *g, const ex_node *n)
{
    int k;
    begin(g, 1);                          /* GraphProto.node */
    for (k = 0; k < n->n_in; k++)
        put_str(g, 1, n->in[k]);          /* input */
    put_str(g, 2, n->out);                /* output */
    put_str(g, 3, n->name);
    put_str(g, 4, n->op);                 /* op_type */
    for (k = 0; k < n->n_attr; k++) {
        const ex_attr *a = &n->attr[k];
        begin(g, 5);                      /* attribute */
        put_str(g, 1, a->name);
        if (a->type == 1)
            put_f32(g, 2, a->f);
        else
            put_int(g, 3, a->i);
        put_int(g, 20, a->type);
        end(g);
    }
    end(g);
}

/* ValueInfoProto of a float matrix [batch, width]. */
static void emit_value_info(ex_graph *g, unsigned field, const char *name,
                            size_t width)
{
    begin(g, field);
    put_str(g, 1, name);
    begin(g, 2);                          /* type */
    begin(g, 1);                          /* tensor_type */
    put_int(g, 1, 1);                     /* elem_type FLOAT */
    begin(g, 2);                          /* shape */
    begin(g, 1);                          /* dim */
    put_str(g, 2, "batch");               /* dim_param */
    end(g);
    begin(g, 1);
    put_int(g, 1, (int64_t)width);        /* dim_value */
    end(g);
    end(g);
    end(g);
    end(g);
    end(g);
}

static void emit_model(ex_graph *g)
{
    size_t k;
    put_int(g, 1, NN__ONNX_IR);           /* ModelProto.ir_version */
    put_str(g, 2, "libnn");               /* producer_name */
    put_str(g, 3, nn_version_string());   /* producer_version */
    begin(g, 7);                          /* graph */
    for (k = 0; k < g->n_nodes; k++)
        emit_node(g, &g->nodes[k]);
    put_str(g, 2, "libnn");               /* GraphProto.name */
    for (k = 0; k < g->n_inits; k++)
        emit_init(g, &g->inits[k]);
    emit_value_info(g, 11, "input", g->in_width);
    emit_value_info(g, 12, "output", g->out_width);
    end(g);
    begin(g, 8);                          /* opset_import */
    put_str(g, 1, "");                    /* the default domain */
    put_int(g, 2, NN__ONNX_OPSET);
    end(g);
    for (k = 0; k < nn_model_meta_count(g->model); k++) {
        const char *key = nn_model_meta_key(g->model, k);
        const char *value = nn_model_get_meta(g->model, key);
        begin(g, 14);                     /* metadata_props */
        put_str(g, 1, key);
        put_str(g, 2, value ? value : "");
        end(g);
    }
}

/* ---- the export ---- */

static void ex_free(ex_graph *g)
{
    nn__free(g->nodes);
    nn__free(g->inits);
    nn__free(g->sizes);
    nn__free(g->scratch);
}

/* Checks the model, describes it and measures the file: afterwards
 * *size is the file's length and g is ready for the write pass. */
static nn_status prepare(const char *fn, const nn_model *model, ex_graph *g,
                         size_t *size)
{
    nn__sink counter;
    size_t layers, bytes, nodes, inits;
    nn_status st;
    memset(g, 0, sizeof *g);
    st = nn__ix_check_model(fn, model);
    if (st != NN_OK)
        return st;
    g->model = model;
    layers = nn_model_layer_count(model);
    if (!nn__mul_size(layers + 1, NN__NODES_PER_LAYER, &nodes) ||
        !nn__mul_size(layers + 1, NN__INITS_PER_LAYER, &inits) ||
        !nn__mul_size(nodes, sizeof(ex_node), &bytes) ||
        !nn__mul_size(inits, sizeof(ex_init), &bytes) ||
        !nn__mul_size(nn__ix_max_array(model), sizeof(float), &bytes))
        return nn__fail(NN_E_OVERFLOW, "%s: describing %zu layers overflows "
                        "size_t", fn, layers);
    g->nodes = (ex_node *)nn__malloc(nodes * sizeof(ex_node));
    g->inits = (ex_init *)nn__malloc(inits * sizeof(ex_init));
    g->scratch = (float *)nn__malloc(nn__ix_max_array(model) *
                                     sizeof(float));
    if (!g->nodes || !g->inits || !g->scratch) {
        ex_free(g);
        return nn__fail(NN_E_NOMEM, "%s: allocating the description of %zu "
                        "layers failed", fn, layers);
    }
    g->cap_nodes = nodes;
    g->cap_inits = inits;
    build(g);

    memset(&counter, 0, sizeof counter);
    g->out = &counter;
    g->pass = PASS_COUNT;
    emit_model(g);
    g->sizes = (size_t *)nn__malloc((g->n_sizes ? g->n_sizes : 1) *
                                    sizeof(size_t));
    if (!g->sizes) {
        ex_free(g);
        return nn__fail(NN_E_NOMEM, "%s: allocating %zu bytes failed", fn,
                        g->n_sizes * sizeof(size_t));
    }
    memset(&counter, 0, sizeof counter);
    g->pass = PASS_MEASURE;
    g->next = 0;
    emit_model(g);
    *size = counter.total;
    g->pass = PASS_WRITE;
    g->next = 0;
    g->out = NULL;
    return NN_OK;
}

static void emit_file(void *ctx, nn__sink *out)
{
    ex_graph *g = (ex_graph *)ctx;
    g->out = out;
    emit_model(g);
}

nn_status nn_model_export_onnx_buffer(const nn_model *model, void *buf,
                                      size_t capacity, size_t *written)
{
    static const char fn[] = "nn_model_export_onnx_buffer";
    ex_graph g;
    nn__sink mem;
    size_t size = 0;
    nn_status st;
    if (!buf && capacity > 0)
        return nn__fail(NN_E_NULL, "%s: buf is NULL and capacity %zu", fn,
                        capacity);
    st = prepare(fn, model, &g, &size);
    if (st != NN_OK)
        return st;
    if (capacity < size) {
        ex_free(&g);
        if (written)
            *written = size;
        return nn__fail(NN_E_SHAPE,
                        "%s: capacity is %zu bytes, the file needs %zu", fn,
                        capacity, size);
    }
    memset(&mem, 0, sizeof mem);
    mem.buf = (unsigned char *)buf;
    mem.cap = capacity;
    emit_file(&g, &mem);
    ex_free(&g);
    /* The passes agree, as the tests check; a mismatch is a bug in this
     * file and must not pass for a file. */
    if (mem.err || mem.total != size)
        return nn__fail(NN_E_STATE, "%s: internal error: %zu bytes written, "
                        "%zu measured", fn, mem.total, size);
    if (written)
        *written = size;
    return NN_OK;
}

nn_status nn__onnx_export_ops(const nn_model *model, const char *path,
                              const nn__file_ops *ops)
{
    static const char fn[] = "nn_model_export_onnx";
    ex_graph g;
    size_t size = 0;
    nn_status st;
    if (!model || !path)
        return nn__fail(NN_E_NULL, "%s: %s is NULL", fn,
                        model ? "path" : "model");
    st = prepare(fn, model, &g, &size);
    if (st != NN_OK)
        return st;
    st = nn__save_atomic(fn, path, size, emit_file, &g, ops);
    ex_free(&g);
    return st;
}

nn_status nn_model_export_onnx(const nn_model *model, const char *path)
{
    return nn__onnx_export_ops(model, path, nn__file_ops_posix());
}
