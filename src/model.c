/*
 * model.c - the model's lifecycle, its layers, its settings, and copying
 * parameters in and out.
 */
#include "nn_internal.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* BLAS takes int dimensions. */
#define NN__MAX_WIDTH ((size_t)INT_MAX)

nn_status nn_model_create(nn_model **out, size_t input_width, uint64_t seed)
{
    nn_model *m;
    if (!out)
        return nn__fail(NN_E_NULL, "nn_model_create: out is NULL");
    *out = NULL;
    if (input_width == 0)
        return nn__fail(NN_E_INVALID, "nn_model_create: input_width is 0");
    if (input_width > NN__MAX_WIDTH)
        return nn__fail(NN_E_INVALID,
                        "nn_model_create: input_width is %zu, the largest "
                        "width is %zu", input_width, NN__MAX_WIDTH);
    m = (nn_model *)nn__calloc(1, sizeof *m);
    if (!m)
        return nn__fail(NN_E_NOMEM,
                        "nn_model_create: allocating %zu bytes failed",
                        sizeof *m);
    m->input_width = input_width;
    nn__params_default(m->param);
    m->opt = NN_OPT_SGD;
    m->sched = NN_SCHED_CONSTANT;
    nn__rng_seed(&m->rng, seed);
    *out = m;
    return NN_OK;
}

void nn__workspace_free(nn_model *m)
{
    nn__free(m->ws);
    nn__free(m->act);
    m->ws = NULL;
    m->act = NULL;
    m->delta = NULL;
    m->logits = NULL;
    m->act_top = NULL;
    m->delta_top = NULL;
    m->ws_rows = 0;
    m->small_rows = 0;
}

void nn_model_free(nn_model *model)
{
    if (!model)
        return;
    nn__workspace_free(model);
    nn__optim_reset(model);
    nn__free(model->layers);
    nn__free(model->params);
    nn__free(model->grads);
    nn__free(model);
}

size_t nn__max_width(const nn_model *m)
{
    size_t l, w = m->input_width;
    for (l = 0; l < m->n_layers; l++)
        if (m->layers[l].out > w)
            w = m->layers[l].out;
    return w;
}

static void init_weights(nn_model *m, const nn__layer *L)
{
    float *w = m->params + L->w_off;
    size_t i, count = L->in * L->out;
    double fan = (L->act == NN_ACT_RELU || L->act == NN_ACT_LEAKY_RELU)
                     ? (double)L->in
                     : (double)(L->in + L->out);
    float limit = (float)sqrt(6.0 / fan);
    for (i = 0; i < count; i++)
        w[i] = (2.0f * nn__rng_float(&m->rng) - 1.0f) * limit;
    memset(m->params + L->b_off, 0, L->out * sizeof(float));
}

nn_status nn_model_add_dense(nn_model *model, size_t width, nn_activation act)
{
    static const char fn[] = "nn_model_add_dense";
    nn__layer L, *layers = NULL;
    size_t in, wcount, total, bytes, cap = 0;
    float *params = NULL, *grads = NULL;

    if (!model)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    if (width == 0)
        return nn__fail(NN_E_INVALID, "%s: width is 0", fn);
    if (width > NN__MAX_WIDTH)
        return nn__fail(NN_E_INVALID,
                        "%s: width is %zu, the largest width is %zu", fn,
                        width, NN__MAX_WIDTH);
    if (!nn__activation_valid((int)act))
        return nn__fail(NN_E_INVALID, "%s: act is %d, not an nn_activation",
                        fn, (int)act);
    if (model->n_layers > 0 &&
        model->layers[model->n_layers - 1].act == NN_ACT_SOFTMAX)
        return nn__fail(NN_E_STATE,
                        "%s: layer %zu is softmax, which must be the output "
                        "layer; no layer can follow it", fn,
                        model->n_layers - 1);

    in = model->n_layers ? model->layers[model->n_layers - 1].out
                         : model->input_width;
    if (!nn__mul_size(in, width, &wcount) ||
        !nn__add_size(model->n_params, wcount, &total) ||
        !nn__add_size(total, width, &total) ||
        !nn__mul_size(total, sizeof(float), &bytes))
        return nn__fail(NN_E_OVERFLOW,
                        "%s: a %zu x %zu layer makes the parameter count "
                        "overflow size_t", fn, in, width);

    if (model->n_layers == model->cap_layers) {
        cap = model->cap_layers ? 2 * model->cap_layers : 4;
        layers = (nn__layer *)nn__malloc(cap * sizeof *layers);
        if (!layers)
            goto nomem;
        if (model->n_layers)
            memcpy(layers, model->layers, model->n_layers * sizeof *layers);
    }
    params = (float *)nn__malloc(bytes);
    grads = (float *)nn__calloc(total, sizeof(float));
    if (!params || !grads)
        goto nomem;

    /* Everything allocated: commit. */
    if (layers) {
        nn__free(model->layers);
        model->layers = layers;
        model->cap_layers = cap;
    }
    if (model->n_params) {
        memcpy(params, model->params, model->n_params * sizeof(float));
        memcpy(grads, model->grads, model->n_params * sizeof(float));
    }
    nn__free(model->params);
    nn__free(model->grads);
    model->params = params;
    model->grads = grads;
    model->params_shared = 0; /* pointers to the old buffer are invalid */

    L.in = in;
    L.out = width;
    L.act = (int)act;
    L.slope = 0.01f;
    L.w_off = model->n_params;
    L.b_off = model->n_params + wcount;
    model->layers[model->n_layers++] = L;
    model->n_params = total;
    init_weights(model, &L);
    nn__params_written(model);
    nn__workspace_free(model); /* its layout depends on the layers */
    nn__optim_reset(model);    /* and so does the optimizer state's */
    return NN_OK;

nomem:
    nn__free(layers);
    nn__free(params);
    nn__free(grads);
    return nn__fail(NN_E_NOMEM, "%s: allocating %zu parameters failed", fn,
                    total);
}

nn_status nn_model_set_loss(nn_model *model, nn_loss loss)
{
    if (!model)
        return nn__fail(NN_E_NULL, "nn_model_set_loss: model is NULL");
    if (!nn__loss_valid((int)loss))
        return nn__fail(NN_E_INVALID,
                        "nn_model_set_loss: loss is %d, not an nn_loss",
                        (int)loss);
    model->loss = (int)loss;
    return NN_OK;
}

size_t nn_model_input_width(const nn_model *model)
{
    return model ? model->input_width : 0;
}

size_t nn_model_output_width(const nn_model *model)
{
    return model && model->n_layers ? model->layers[model->n_layers - 1].out
                                    : 0;
}

size_t nn_model_layer_count(const nn_model *model)
{
    return model ? model->n_layers : 0;
}

size_t nn_model_layer_width(const nn_model *model, size_t layer)
{
    return model && layer < model->n_layers ? model->layers[layer].out : 0;
}

/* ---- settings ---- */

typedef struct nn__bounds {
    double lo, hi, def;
    int integral; /* only whole numbers are accepted */
} nn__bounds;

static const nn__bounds nn__param_table[NN__PARAM_COUNT] = {
    /* lo, hi, default, integral */
    {0, 0, 0, 0},                      /* 0: not a key */
    {0.0, 1e6, 0.01, 0},               /* LEARNING_RATE */
    {0.0, 0.9999, 0.0, 0},             /* MOMENTUM */
    {0.0, 1.0, 0.0, 1},                /* NESTEROV */
    {0.0, 1e3, 0.0, 0},                /* WEIGHT_DECAY */
    {0.0, 0.9999, 0.9, 0},             /* BETA1 */
    {0.0, 0.999999, 0.999, 0},         /* BETA2 */
    {1e-30, 1.0, 1e-8, 0},             /* EPSILON */
    {0.0, 0.999999, 0.99, 0},          /* RMSPROP_ALPHA */
    {0.0, 1e30, 0.0, 0},               /* CLIP_NORM */
    {1.0, 1e15, 1000.0, 1},            /* SCHED_STEP_SIZE */
    {0.0, 1.0, 0.1, 0},                /* SCHED_GAMMA */
    {1.0, 1e15, 1000.0, 1},            /* SCHED_T_MAX */
    {0.0, 1e6, 0.0, 0},                /* SCHED_ETA_MIN */
    {0.0, 1e15, 0.0, 1},               /* WARMUP_STEPS */
    {1.0, 1e9, 10.0, 1},               /* EPOCHS */
    {1.0, 1e9, 32.0, 1},               /* BATCH_SIZE */
    {0.0, 1.0, 1.0, 1},                /* SHUFFLE */
    {0.0, 1e9, 0.0, 1},                /* PATIENCE */
};

static const nn__bounds *param_bounds(int key)
{
    if (key < 1 || key >= NN__PARAM_COUNT)
        return NULL;
    return &nn__param_table[key];
}

void nn__params_default(double *param)
{
    int k;
    for (k = 0; k < NN__PARAM_COUNT; k++)
        param[k] = nn__param_table[k].def;
}

nn_status nn_param_bounds(nn_param key, double *lo, double *hi, double *def)
{
    const nn__bounds *b = param_bounds((int)key);
    if (!b)
        return nn__fail(NN_E_INVALID,
                        "nn_param_bounds: key is %d, not an nn_param",
                        (int)key);
    if (lo) *lo = b->lo;
    if (hi) *hi = b->hi;
    if (def) *def = b->def;
    return NN_OK;
}

nn_status nn_model_set_param(nn_model *model, nn_param key, double value)
{
    const nn__bounds *b = param_bounds((int)key);
    if (!model)
        return nn__fail(NN_E_NULL, "nn_model_set_param: model is NULL");
    if (!b)
        return nn__fail(NN_E_INVALID,
                        "nn_model_set_param: key is %d, not an nn_param",
                        (int)key);
    if (!(value >= b->lo && value <= b->hi))
        return nn__fail(NN_E_INVALID,
                        "nn_model_set_param: value %g for key %d is outside "
                        "[%g, %g]", value, (int)key, b->lo, b->hi);
    if (b->integral && value != floor(value))
        return nn__fail(NN_E_INVALID,
                        "nn_model_set_param: value %g for key %d is not a "
                        "whole number", value, (int)key);
    model->param[key] = value;
    return NN_OK;
}

nn_status nn_model_get_param(const nn_model *model, nn_param key,
                             double *value)
{
    if (!model || !value)
        return nn__fail(NN_E_NULL, "nn_model_get_param: %s is NULL",
                        model ? "value" : "model");
    if (!param_bounds((int)key))
        return nn__fail(NN_E_INVALID,
                        "nn_model_get_param: key is %d, not an nn_param",
                        (int)key);
    *value = model->param[key];
    return NN_OK;
}

static int layer_param_bounds(int key, nn__bounds *b)
{
    switch (key) {
    case NN_LAYER_LEAKY_SLOPE:
        b->lo = 0.0; b->hi = 1.0; b->def = 0.01; b->integral = 0;
        return 1;
    }
    return 0;
}

nn_status nn_layer_param_bounds(nn_layer_param key, double *lo, double *hi,
                                double *def)
{
    nn__bounds b;
    if (!layer_param_bounds((int)key, &b))
        return nn__fail(NN_E_INVALID,
                        "nn_layer_param_bounds: key is %d, not an "
                        "nn_layer_param", (int)key);
    if (lo) *lo = b.lo;
    if (hi) *hi = b.hi;
    if (def) *def = b.def;
    return NN_OK;
}

static nn_status check_layer(const char *fn, const nn_model *model,
                             size_t layer)
{
    if (!model)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    if (layer >= model->n_layers)
        return nn__fail(NN_E_INVALID,
                        "%s: layer is %zu, the model has %zu layers", fn,
                        layer, model->n_layers);
    return NN_OK;
}

nn_status nn_model_set_layer_param(nn_model *model, size_t layer,
                                   nn_layer_param key, double value)
{
    static const char fn[] = "nn_model_set_layer_param";
    nn__bounds b;
    nn_status st = check_layer(fn, model, layer);
    if (st != NN_OK)
        return st;
    if (!layer_param_bounds((int)key, &b))
        return nn__fail(NN_E_INVALID, "%s: key is %d, not an nn_layer_param",
                        fn, (int)key);
    if (!(value >= b.lo && value <= b.hi))
        return nn__fail(NN_E_INVALID,
                        "%s: value %g for key %d is outside [%g, %g]", fn,
                        value, (int)key, b.lo, b.hi);
    model->layers[layer].slope = (float)value;
    return NN_OK;
}

nn_status nn_model_get_layer_param(const nn_model *model, size_t layer,
                                   nn_layer_param key, double *value)
{
    static const char fn[] = "nn_model_get_layer_param";
    nn__bounds b;
    nn_status st = check_layer(fn, model, layer);
    if (st != NN_OK)
        return st;
    if (!value)
        return nn__fail(NN_E_NULL, "%s: value is NULL", fn);
    if (!layer_param_bounds((int)key, &b))
        return nn__fail(NN_E_INVALID, "%s: key is %d, not an nn_layer_param",
                        fn, (int)key);
    *value = model->layers[layer].slope;
    return NN_OK;
}

/* ---- parameters ---- */

/* Checks a copy of layer `layer`'s weights (bias 0) or bias (bias 1) to or
 * from p, count floats; *off receives the block's place in the buffers. */
static nn_status check_copy(const char *fn, const nn_model *model,
                            size_t layer, const void *p, const char *pname,
                            size_t count, int bias, size_t *off)
{
    const nn__layer *L;
    size_t want;
    nn_status st = check_layer(fn, model, layer);
    if (st != NN_OK)
        return st;
    if (!p)
        return nn__fail(NN_E_NULL, "%s: %s is NULL", fn, pname);
    L = &model->layers[layer];
    want = bias ? L->out : L->in * L->out;
    if (count != want)
        return nn__fail(NN_E_SHAPE,
                        "%s: count is %zu, layer %zu has %zu %s values", fn,
                        count, layer, want, bias ? "bias" : "weight");
    *off = bias ? L->b_off : L->w_off;
    return NN_OK;
}

static nn_status copy_in(const char *fn, nn_model *model, size_t layer,
                         const float *src, const char *pname, size_t count,
                         int bias)
{
    size_t i, off = 0;
    nn_status st = check_copy(fn, model, layer, src, pname, count, bias,
                              &off);
    if (st != NN_OK)
        return st;
    for (i = 0; i < count; i++)
        if (!isfinite(src[i]))
            return nn__fail(NN_E_INVALID, "%s: %s[%zu] is %g, not finite",
                            fn, pname, i, (double)src[i]);
    memcpy(model->params + off, src, count * sizeof(float));
    nn__params_written(model);
    return NN_OK;
}

static nn_status copy_out(const char *fn, const nn_model *model, size_t layer,
                          const float *buf, float *dst, const char *pname,
                          size_t count, int bias)
{
    size_t off = 0;
    nn_status st = check_copy(fn, model, layer, dst, pname, count, bias,
                              &off);
    if (st != NN_OK)
        return st;
    memcpy(dst, buf + off, count * sizeof(float));
    return NN_OK;
}

nn_status nn_model_get_weights(const nn_model *model, size_t layer, float *w,
                               size_t count)
{
    return copy_out("nn_model_get_weights", model, layer,
                    model ? model->params : NULL, w, "w", count, 0);
}

nn_status nn_model_set_weights(nn_model *model, size_t layer, const float *w,
                               size_t count)
{
    return copy_in("nn_model_set_weights", model, layer, w, "w", count, 0);
}

nn_status nn_model_get_bias(const nn_model *model, size_t layer, float *b,
                            size_t count)
{
    return copy_out("nn_model_get_bias", model, layer,
                    model ? model->params : NULL, b, "b", count, 1);
}

nn_status nn_model_set_bias(nn_model *model, size_t layer, const float *b,
                            size_t count)
{
    return copy_in("nn_model_set_bias", model, layer, b, "b", count, 1);
}

nn_status nn_model_get_layer_grads(const nn_model *model, size_t layer,
                                   float *dw, size_t dw_count, float *db,
                                   size_t db_count)
{
    static const char fn[] = "nn_model_get_layer_grads";
    const nn__layer *L;
    nn_status st = check_layer(fn, model, layer);
    if (st != NN_OK)
        return st;
    L = &model->layers[layer];
    if (!dw || !db)
        return nn__fail(NN_E_NULL, "%s: %s is NULL", fn, dw ? "db" : "dw");
    if (dw_count != L->in * L->out)
        return nn__fail(NN_E_SHAPE,
                        "%s: dw_count is %zu, layer %zu has %zu weights", fn,
                        dw_count, layer, L->in * L->out);
    if (db_count != L->out)
        return nn__fail(NN_E_SHAPE,
                        "%s: db_count is %zu, layer %zu has %zu biases", fn,
                        db_count, layer, L->out);
    memcpy(dw, model->grads + L->w_off, dw_count * sizeof(float));
    memcpy(db, model->grads + L->b_off, db_count * sizeof(float));
    return NN_OK;
}

float *nn_model_params(nn_model *model, size_t *count)
{
    if (model && model->n_layers) {
        model->params_shared = 1; /* see nn_internal.h */
        nn__params_written(model);
    }
    if (count)
        *count = model && model->n_layers ? model->n_params : 0;
    return model && model->n_layers ? model->params : NULL;
}

float *nn_model_grads(nn_model *model, size_t *count)
{
    if (count)
        *count = model && model->n_layers ? model->n_params : 0;
    return model && model->n_layers ? model->grads : NULL;
}
