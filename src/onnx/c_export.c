/* SPDX-License-Identifier: MIT */
/*
 * c_export.c - nn_model_export_c: a model as one self-contained C99 header
 * that computes nn_model_predict's outputs for one row, for a
 * microcontroller or a program that must not link anything: the weights
 * as static const float arrays, a function with no allocation and no
 * state, libm only for the activations that need it, and no dependency on
 * libnn.
 *
 * The file is a single header in the manner of the stb libraries: every
 * file that calls <prefix>_predict includes it, and exactly one defines
 * <PREFIX>_IMPLEMENTATION first, which compiles the weights and the
 * function there. One path, one file, written atomically like every
 * libnn file.
 *
 * Numbers are written as C99 hexadecimal floating constants (0x1.8p+0f),
 * formatted here from the bits: exact, and free of the locale, which
 * printf's decimal point would follow.
 *
 * The code computes what libnn's inference computes, in the same order
 * where the order changes the rounding (each dense output is the sum of
 * its products, then the bias; each normalization as src/layers does it),
 * so that it agrees with nn_model_predict to float rounding; the tests
 * check 1e-6 relative on every layer kind and activation.
 */
#include "interop.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- formatting ---- */

/* Text into the file; the formatted piece is at most 1023 bytes. */
static void out_printf(nn__sink *o, const char *fmt, ...)
{
    char piece[1024];
    va_list ap;
    int k;
    va_start(ap, fmt);
    k = vsnprintf(piece, sizeof piece, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof piece) {
        o->err = EOVERFLOW; /* a bug in the caller; never reached */
        return;
    }
    nn__sink_put(o, piece, (size_t)k);
}

/* The float f as a C99 hexadecimal floating constant of type float. */
static void hex_float(char *dst, size_t cap, float f)
{
    static const char digits[] = "0123456789abcdef";
    uint32_t u, m;
    int e, k, n;
    char frac[8];
    memcpy(&u, &f, sizeof u);
    e = (int)((u >> 23) & 0xff);
    m = (u & 0x7fffff) << 1;      /* 24 bits: six hex digits */
    for (k = 0; k < 6; k++)
        frac[k] = digits[(m >> (20 - 4 * k)) & 0xf];
    n = 6;
    while (n > 0 && frac[n - 1] == '0')
        n--;
    frac[n] = '\0';
    if (e == 0 && m == 0) {
        snprintf(dst, cap, "%s0x0p+0f", u >> 31 ? "-" : "");
        return;
    }
    snprintf(dst, cap, "%s0x%c%s%sp%+df", u >> 31 ? "-" : "",
             e == 0 ? '0' : '1', n > 0 ? "." : "", frac,
             e == 0 ? -126 : e - 127);
}

/* The double d as a C99 hexadecimal floating constant. */
static void hex_double(char *dst, size_t cap, double d)
{
    static const char digits[] = "0123456789abcdef";
    uint64_t u, m;
    int e, k, n;
    char frac[16];
    memcpy(&u, &d, sizeof u);
    e = (int)((u >> 52) & 0x7ff);
    m = u & 0xfffffffffffffull;   /* 52 bits: thirteen hex digits */
    for (k = 0; k < 13; k++)
        frac[k] = digits[(m >> (48 - 4 * k)) & 0xf];
    n = 13;
    while (n > 0 && frac[n - 1] == '0')
        n--;
    frac[n] = '\0';
    if (e == 0 && m == 0) {
        snprintf(dst, cap, "%s0x0p+0", u >> 63 ? "-" : "");
        return;
    }
    snprintf(dst, cap, "%s0x%c%s%sp%+d", u >> 63 ? "-" : "",
             e == 0 ? '0' : '1', n > 0 ? "." : "", frac,
             e == 0 ? -1022 : e - 1023);
}

static int valid_prefix(const char *p)
{
    size_t k, n = strlen(p);
    if (n == 0 || n > 63)
        return 0;
    if (!((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
        return 0;
    for (k = 1; k < n; k++)
        if (!((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z') ||
              (p[k] >= '0' && p[k] <= '9') || p[k] == '_'))
            return 0;
    return 1;
}

typedef struct cx {
    const nn_model *model;
    const char *prefix;
    char upper[64];
    float *scratch;
    size_t max_hidden;         /* the widest value between layers */
    size_t last;               /* the last layer that computes something */
    size_t computing;          /* layers that compute something */
    int any_dense;             /* a dense layer: the loops need i */
    int any_sigmoid;           /* sigmoid or SiLU: the helper is needed */
    nn__sink *out;
} cx;

/* Whether layer l changes its input in inference mode. */
static int computes(const nn_model *m, size_t l)
{
    int kind = (int)nn_model_layer_kind(m, l);
    if (kind == NN_KIND_DROPOUT)
        return 0;
    if (kind == NN_KIND_ACTIVATION &&
        nn_model_layer_activation(m, l) == NN_ACT_IDENTITY)
        return 0;
    return 1;
}

/* ---- the emitted code ---- */

static void put_array(cx *c, size_t l, const char *what, const float *v,
                      size_t n)
{
    size_t k;
    char num[40];
    out_printf(c->out, "static const float %s_l%zu_%s[%zu] = {", c->prefix,
                  l, what, n);
    for (k = 0; k < n; k++) {
        hex_float(num, sizeof num, v[k]);
        out_printf(c->out, "%s%s", k % 4 == 0 ? "\n    " : " ", num);
        if (k + 1 < n)
            nn__sink_put(c->out, ",", 1);
    }
    out_printf(c->out, "\n};\n");
}

/* Batch normalization in inference mode is y = x a + c per feature, with
 * a = gamma / sqrt(var + eps) and c = beta - mean a worked out in double
 * and rounded once: libnn's own inference computes these constants the
 * same way (src/layers/batchnorm.c), so folding them here is exact. */
static void put_batchnorm(cx *c, size_t l, size_t w)
{
    const nn_model *m = c->model;
    double eps = nn__ix_layer_param(m, l, NN_LAYER_EPSILON);
    float *gamma = c->scratch, *beta = gamma + w, *stats = beta + w;
    size_t j;
    (void)nn__ix_layer_array(m, l, NN__IX_WEIGHTS, gamma, w);
    (void)nn__ix_layer_array(m, l, NN__IX_BIAS, beta, w);
    (void)nn__ix_layer_array(m, l, NN__IX_BUFFERS, stats, 2 * w);
    for (j = 0; j < w; j++) {
        double s = gamma[j] / sqrt((double)stats[w + j] + eps);
        float sc = (float)(beta[j] - stats[j] * s);
        gamma[j] = (float)s;
        beta[j] = sc;
    }
    put_array(c, l, "a", gamma, w);
    put_array(c, l, "c", beta, w);
}

static void put_arrays(cx *c, size_t l)
{
    const nn_model *m = c->model;
    size_t w = nn_model_layer_width(m, l);
    size_t nw = nn_model_layer_weight_count(m, l);
    size_t nb = nn_model_layer_bias_count(m, l);
    size_t nf = nn_model_layer_buffer_count(m, l);
    int kind = (int)nn_model_layer_kind(m, l);
    if (kind == NN_KIND_BATCHNORM) {
        put_batchnorm(c, l, w);
        return;
    }
    if (nw > 0) {
        (void)nn__ix_layer_array(m, l, NN__IX_WEIGHTS, c->scratch, nw);
        put_array(c, l, kind == NN_KIND_DENSE ? "w" : "gamma", c->scratch,
                  nw);
    }
    if (nb > 0) {
        (void)nn__ix_layer_array(m, l, NN__IX_BIAS, c->scratch, nb);
        put_array(c, l, kind == NN_KIND_DENSE ? "b" : "beta", c->scratch, nb);
    }
    if (kind == NN_KIND_SCALING) {
        (void)nn__ix_layer_array(m, l, NN__IX_BUFFERS, c->scratch, nf);
        put_array(c, l, "scale", c->scratch, w);
        put_array(c, l, "shift", c->scratch + w, w);
    }
}

/* The activation of z into out[j] (a statement), for the elementwise
 * activations; softmax is done over the row after. */
static void put_act(cx *c, size_t l, int act, const char *dst)
{
    char num[40];
    double v = 0.0;
    switch (act) {
    case NN_ACT_IDENTITY:
    case NN_ACT_SOFTMAX:
        out_printf(c->out, "        %s = z;\n", dst);
        return;
    case NN_ACT_SIGMOID:
        out_printf(c->out, "        %s = %s_sigmoid(z);\n", dst, c->prefix);
        return;
    case NN_ACT_TANH:
        out_printf(c->out, "        %s = tanhf(z);\n", dst);
        return;
    case NN_ACT_RELU:
        out_printf(c->out, "        %s = z > 0.0f ? z : 0.0f;\n", dst);
        return;
    case NN_ACT_LEAKY_RELU:
        v = nn__ix_layer_param(c->model, l, NN_LAYER_LEAKY_SLOPE);
        hex_float(num, sizeof num, (float)v);
        out_printf(c->out, "        %s = z > 0.0f ? z : %s * z;\n", dst,
                      num);
        return;
    case NN_ACT_GELU:
        out_printf(c->out, "        %s = 0.5f * z * (1.0f + erff(z * "
                      "0x1.6a09e6p-1f));\n", dst);
        return;
    case NN_ACT_SILU:
        out_printf(c->out, "        %s = z * %s_sigmoid(z);\n", dst,
                      c->prefix);
        return;
    case NN_ACT_SOFTPLUS:
        out_printf(c->out, "        %s = z > 20.0f ? z : log1pf(expf(z));"
                      "\n", dst);
        return;
    case NN_ACT_ELU:
        v = nn__ix_layer_param(c->model, l, NN_LAYER_ELU_ALPHA);
        hex_float(num, sizeof num, (float)v);
        out_printf(c->out, "        %s = z > 0.0f ? z : %s * expm1f(z);\n",
                      dst, num);
        return;
    default:
        return;
    }
}

static void put_softmax(cx *c, size_t w, const char *o)
{
    out_printf(c->out,
                  "    {\n"
                  "        float top = %s[0], sum = 0.0f;\n"
                  "        for (j = 1; j < %zu; j++)\n"
                  "            top = %s[j] > top ? %s[j] : top;\n",
                  o, w, o, o);
    out_printf(c->out,
                  "        for (j = 0; j < %zu; j++) {\n"
                  "            %s[j] = expf(%s[j] - top);\n"
                  "            sum += %s[j];\n"
                  "        }\n", w, o, o, o);
    out_printf(c->out,
                  "        sum = 1.0f / sum;\n"
                  "        for (j = 0; j < %zu; j++)\n"
                  "            %s[j] *= sum;\n"
                  "    }\n", w, o);
}

/* One layer: reads `in`, writes `o` (both names of float arrays). */
static void put_layer(cx *c, size_t l, size_t in_w, const char *in,
                      const char *o)
{
    const nn_model *m = c->model;
    const char *p = c->prefix;
    size_t w = nn_model_layer_width(m, l);
    int kind = (int)nn_model_layer_kind(m, l);
    int act = (int)nn_model_layer_activation(m, l);
    double eps = 0.0;
    char num[40];
    switch (kind) {
    case NN_KIND_DENSE:
        out_printf(c->out, "    /* layer %zu: dense, %zu -> %zu, %s */\n",
                      l, in_w, w, nn_activation_name((nn_activation)act));
        out_printf(c->out,
                      "    for (j = 0; j < %zu; j++)\n"
                      "        %s[j] = 0.0f;\n"
                      "    for (i = 0; i < %zu; i++)\n"
                      "        for (j = 0; j < %zu; j++)\n"
                      "            %s[j] += %s[i] * %s_l%zu_w[i * %zu + j];\n",
                      w, o, in_w, w, o, in, p, l, w);
        out_printf(c->out,
                      "    for (j = 0; j < %zu; j++) {\n"
                      "        float z = %s[j] + %s_l%zu_b[j];\n", w, o, p, l);
        put_act(c, l, act, "o[j]");
        out_printf(c->out, "    }\n");
        if (act == NN_ACT_SOFTMAX)
            put_softmax(c, w, o);
        return;
    case NN_KIND_ACTIVATION:
        out_printf(c->out, "    /* layer %zu: activation, %s */\n"
                      "    for (j = 0; j < %zu; j++) {\n"
                      "        float z = %s[j];\n", l,
                      nn_activation_name((nn_activation)act), w, in);
        put_act(c, l, act, "o[j]");
        out_printf(c->out, "    }\n");
        if (act == NN_ACT_SOFTMAX)
            put_softmax(c, w, o);
        return;
    case NN_KIND_BATCHNORM:
        /* Folded into y = x a + c, as libnn's inference does (put_arrays
         * computes a and c as it does), so the same floats come out. */
        out_printf(c->out,
                      "    /* layer %zu: batch normalization (running "
                      "statistics, folded), %zu */\n"
                      "    for (j = 0; j < %zu; j++)\n"
                      "        o[j] = %s[j] * %s_l%zu_a[j] + %s_l%zu_c[j];\n",
                      l, w, w, in, p, l, p, l);
        return;
    case NN_KIND_LAYERNORM:
        /* The row's statistics in double, as libnn forms them. */
        eps = nn__ix_layer_param(m, l, NN_LAYER_EPSILON);
        hex_double(num, sizeof num, eps);
        out_printf(c->out,
                      "    /* layer %zu: layer normalization, %zu */\n"
                      "    {\n"
                      "        double mean = 0.0, var = 0.0, r;\n"
                      "        for (j = 0; j < %zu; j++)\n"
                      "            mean += %s[j];\n"
                      "        mean /= %zu.0;\n", l, w, w, in, w);
        out_printf(c->out,
                      "        for (j = 0; j < %zu; j++)\n"
                      "            var += (%s[j] - mean) * (%s[j] - mean);\n"
                      "        r = 1.0 / sqrt(var / %zu.0 + %s);\n",
                      w, in, in, w, num);
        out_printf(c->out,
                      "        for (j = 0; j < %zu; j++)\n"
                      "            o[j] = %s_l%zu_gamma[j] * (float)((%s[j] - "
                      "mean) * r) + %s_l%zu_beta[j];\n"
                      "    }\n", w, p, l, in, p, l);
        return;
    case NN_KIND_SCALING:
        out_printf(c->out,
                      "    /* layer %zu: scaling, %zu */\n"
                      "    for (j = 0; j < %zu; j++)\n"
                      "        o[j] = %s[j] * %s_l%zu_scale[j] + "
                      "%s_l%zu_shift[j];\n", l, w, w, in, p, l, p, l);
        return;
    default:
        return;
    }
}

static void emit_c(void *ctx, nn__sink *out)
{
    cx *c = (cx *)ctx;
    const nn_model *m = c->model;
    const char *p = c->prefix, *P = c->upper;
    size_t l, n = nn_model_layer_count(m);
    size_t in = nn_model_input_width(m), outw = nn_model_output_width(m);
    const char *cur = "x";
    int flip = 0;
    c->out = out;

    out_printf(out,
                  "/*\n"
                  " * A libnn model as C99 source, written by "
                  "nn_model_export_c (libnn %s).\n"
                  " *\n"
                  " * %s_predict(x, y) computes the %zu outputs y of one "
                  "row x of %zu inputs,\n", nn_version_string(), p, outw,
                  in);
    out_printf(out,
                  " * as nn_model_predict does (dropout is the identity and "
                  "batch normalization\n"
                  " * uses its running statistics). It allocates nothing, "
                  "keeps no state, uses\n"
                  " * %zu bytes of stack for the values between layers and "
                  "may run in several\n"
                  " * threads at once; x and y must not overlap.\n",
                  2 * c->max_hidden * sizeof(float));
    out_printf(out,
                  " *\n"
                  " * Include this file wherever %s_predict is called; in "
                  "exactly one C file,\n"
                  " * define %s_IMPLEMENTATION before including it, which "
                  "compiles the weights\n"
                  " * and the function there. Link with -lm.\n"
                  " */\n", p, P);
    out_printf(out,
                  "#ifndef %s_H\n#define %s_H\n\n"
                  "#define %s_INPUTS %zu\n#define %s_OUTPUTS %zu\n\n"
                  "#ifdef __cplusplus\nextern \"C\" {\n#endif\n"
                  "void %s_predict(const float *x, float *y);\n"
                  "#ifdef __cplusplus\n}\n#endif\n\n#endif /* %s_H */\n\n",
                  P, P, P, in, P, outw, p, P);
    out_printf(out,
                  "#if defined(%s_IMPLEMENTATION) && "
                  "!defined(%s_IMPLEMENTED)\n#define %s_IMPLEMENTED\n\n"
                  "#include <math.h>\n#include <stddef.h>\n\n", P, P, P);
    for (l = 0; l < n; l++)
        if (computes(m, l))
            put_arrays(c, l);
    if (c->any_sigmoid)
        out_printf(out,
                  "\n/* 1 / (1 + e^-z), without overflow for any z. */\n"
                  "static float %s_sigmoid(float z)\n{\n"
                  "    float e;\n"
                  "    if (z >= 0.0f)\n"
                  "        return 1.0f / (1.0f + expf(-z));\n"
                  "    e = expf(z);\n"
                  "    return e / (1.0f + e);\n}\n\n", p);
    out_printf(out, "\nvoid %s_predict(const float *x, float *y)\n{\n", p);
    /* Two arrays for the values between layers, used in turn. */
    if (c->computing >= 2)
        out_printf(out, "    float a[%zu];\n", c->max_hidden);
    if (c->computing >= 3)
        out_printf(out, "    float b[%zu];\n", c->max_hidden);
    out_printf(out, "    size_t %sj;\n", c->any_dense ? "i, " : "");
    if (c->computing == 0) {
        out_printf(out,
                      "    /* every layer is the identity in inference mode "
                      "*/\n"
                      "    for (j = 0; j < %zu; j++)\n"
                      "        y[j] = x[j];\n", in);
    }
    for (l = 0; l < n; l++) {
        const char *dst;
        if (!computes(m, l)) {
            out_printf(out, "    /* layer %zu: %s, the identity in "
                          "inference mode */\n", l,
                          nn_layer_kind_name(nn_model_layer_kind(m, l)));
            continue;
        }
        dst = l == c->last ? "y" : flip ? "b" : "a";
        out_printf(out, "    {\n        float *o = %s;\n", dst);
        put_layer(c, l, in, cur, "o");
        out_printf(out, "    }\n");
        cur = dst;
        flip = !flip;
        in = nn_model_layer_width(m, l);
    }
    out_printf(out, "}\n\n#endif /* %s_IMPLEMENTATION */\n", P);
}

nn_status nn__c_export_ops(const nn_model *model, const char *path,
                           const char *prefix, const nn__file_ops *ops)
{
    static const char fn[] = "nn_model_export_c";
    cx c;
    size_t l, n, k;
    nn_status st;
    if (!model || !path || !prefix)
        return nn__fail(NN_E_NULL, "%s: %s is NULL", fn,
                        !model ? "model" : !path ? "path" : "prefix");
    if (!valid_prefix(prefix))
        return nn__fail(NN_E_INVALID, "%s: prefix '%.70s' is not a C "
                        "identifier of 1 to 63 letters, digits and '_' "
                        "starting with a letter", fn, prefix);
    st = nn__ix_check_model(fn, model);
    if (st != NN_OK)
        return st;
    memset(&c, 0, sizeof c);
    c.model = model;
    c.prefix = prefix;
    for (k = 0; prefix[k]; k++)
        c.upper[k] = prefix[k] >= 'a' && prefix[k] <= 'z'
                         ? (char)(prefix[k] - 'a' + 'A')
                         : prefix[k];
    n = nn_model_layer_count(model);
    c.max_hidden = 1;
    for (l = 0; l < n; l++)
        if (computes(model, l)) {
            int act = (int)nn_model_layer_activation(model, l);
            c.computing++;
            c.last = l;
            if (nn_model_layer_kind(model, l) == NN_KIND_DENSE)
                c.any_dense = 1;
            if (act == NN_ACT_SIGMOID || act == NN_ACT_SILU)
                c.any_sigmoid = 1;
        }
    /* Values between layers: every layer's output but the last's. */
    for (l = 0; l < n; l++)
        if (computes(model, l) && l != c.last &&
            nn_model_layer_width(model, l) > c.max_hidden)
            c.max_hidden = nn_model_layer_width(model, l);
    /* Room for a layer's largest array, twice: batch normalization's
     * gamma, beta and both statistics at once. */
    if (!nn__mul_size(nn__ix_max_array(model), 2 * sizeof(float), &k))
        return nn__fail(NN_E_OVERFLOW, "%s: a layer of %zu floats overflows "
                        "size_t", fn, nn__ix_max_array(model));
    c.scratch = (float *)nn__malloc(k);
    if (!c.scratch)
        return nn__fail(NN_E_NOMEM, "%s: allocating %zu bytes failed", fn, k);
    st = nn__save_atomic(fn, path, 0, emit_c, &c, ops);
    nn__free(c.scratch);
    return st;
}

nn_status nn_model_export_c(const nn_model *model, const char *path,
                            const char *prefix)
{
    return nn__c_export_ops(model, path, prefix, nn__file_ops_posix());
}
