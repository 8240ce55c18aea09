/* SPDX-License-Identifier: MIT */
/*
 * model.c - the model's lifecycle, its layers (appended through the kinds'
 * tables of src/layers/), its settings and their names, class weights,
 * metadata, and copying parameters and buffers in and out.
 */
#include "nn_internal.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* BLAS takes int dimensions. */
#define NN__MAX_WIDTH ((size_t)INT_MAX)
/* Metadata limits (nn.h). */
#define NN__META_KEY_MAX 255
#define NN__META_VALUE_MAX ((size_t)1 << 24)
#define NN__META_COUNT_MAX 1024

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
    m->seed = seed;
    nn__rng_seed(&m->rng, seed);
    *out = m;
    return NN_OK;
}

void nn__workspace_free(nn_model *m)
{
    nn__free_lines(m->ws);
    nn__free(m->act);
    m->ws = NULL;
    m->kbuf = NULL;
    m->act = NULL;
    m->delta = NULL;
    m->extra = NULL;
    m->logits = NULL;
    m->act_top = NULL;
    m->delta_top = NULL;
    m->ws_rows = 0;
    m->small_rows = 0;
}

static void meta_clear(nn_model *m)
{
    size_t i;
    for (i = 0; i < m->n_meta; i++) {
        nn__free(m->meta[i].key);
        nn__free(m->meta[i].value);
    }
    nn__free(m->meta);
    m->meta = NULL;
    m->n_meta = m->cap_meta = 0;
}

void nn_model_free(nn_model *model)
{
    if (!model)
        return;
    nn__workspace_free(model);
    nn__infer_cache_free(model);
    nn__pack_drop(model);
    nn__optim_reset(model);
    nn__fit_run_end(model);
    meta_clear(model);
    nn__free(model->class_w);
    nn__free(model->layers);
    nn__free_lines(model->params);
    nn__free_lines(model->grads);
    nn__free_lines(model->buffers);
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

/* ---- data parallelism ---- */

nn_status nn_model_set_reducer(nn_model *model, nn_reduce_fn reduce,
                               void *user)
{
    if (!model)
        return nn__fail(NN_E_NULL, "nn_model_set_reducer: model is NULL");
    model->reduce = reduce;
    model->reduce_user = reduce ? user : NULL;
    nn__config_changed(model);
    return NN_OK;
}

nn_status nn_model_set_batch_part(nn_model *model, size_t first_row,
                                  size_t global_rows)
{
    static const char fn[] = "nn_model_set_batch_part";
    if (!model)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    if (global_rows > NN__MAX_WIDTH)
        return nn__fail(NN_E_INVALID, "%s: global_rows is %zu, above %zu",
                        fn, global_rows, NN__MAX_WIDTH);
    if (global_rows > 0 && first_row >= global_rows)
        return nn__fail(NN_E_INVALID, "%s: first_row is %zu, the global "
                        "batch has %zu rows", fn, first_row, global_rows);
    model->part_rows = global_rows;
    model->part_first = global_rows ? first_row : 0;
    nn__config_changed(model);
    return NN_OK;
}

nn_status nn_model_set_grads_ready(nn_model *model, nn_grads_ready_fn fn,
                                   void *user)
{
    if (!model)
        return nn__fail(NN_E_NULL, "nn_model_set_grads_ready: model is "
                        "NULL");
    model->grads_ready = fn;
    model->grads_ready_user = fn ? user : NULL;
    nn__config_changed(model);
    return NN_OK;
}

nn_status nn_model_set_replica(nn_model *model, size_t rank, size_t count,
                               nn_reduce_grads_fn reduce_grads, void *user)
{
    static const char fn[] = "nn_model_set_replica";
    if (!model)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    if (count > 65536)
        return nn__fail(NN_E_INVALID, "%s: count is %zu, above 65536", fn,
                        count);
    if (count > 0 && rank >= count)
        return nn__fail(NN_E_INVALID, "%s: rank is %zu, not below count "
                        "%zu", fn, rank, count);
    if (count > 1 && !reduce_grads)
        return nn__fail(NN_E_NULL, "%s: reduce_grads is NULL", fn);
    model->replica_rank = count ? rank : 0;
    model->replica_count = count;
    model->reduce_grads = count ? reduce_grads : NULL;
    model->reduce_grads_user = count ? user : NULL;
    nn__config_changed(model);
    return NN_OK;
}

void nn__reduce(nn_model *m, double *values, size_t count)
{
    int rc;
    if (!m->reduce || count == 0)
        return;
    /* Called even after a failure: the other processes make the same
     * calls, and one that stopped would leave them waiting. The first
     * failure is what the pass reports. */
    rc = m->reduce(m->reduce_user, values, count);
    if (rc != 0 && !m->reduce_failed)
        m->reduce_failed = rc;
}

/* ---- growing the model ---- */

/* The capacity to grow cap to for need: half as much again at least, so
 * that L appends copy O(total) floats in all, not O(L x total). */
static size_t grown(size_t cap, size_t need)
{
    size_t next = cap + cap / 2, bytes;
    if (next <= need || !nn__mul_size(next, sizeof(float), &bytes))
        return need;
    return next;
}

nn_status nn__model_reserve(const char *fn, nn_model *m, size_t n_layers,
                            size_t n_params, size_t n_buffers)
{
    nn__layer *layers = NULL;
    float *params = NULL, *grads = NULL, *buffers = NULL;
    size_t bytes;
    if (!nn__mul_size(n_params, sizeof(float), &bytes) ||
        !nn__mul_size(n_buffers, sizeof(float), &bytes) ||
        !nn__mul_size(n_layers, sizeof *layers, &bytes))
        return nn__fail(NN_E_OVERFLOW, "%s: %zu layers of %zu parameters "
                        "overflow size_t", fn, n_layers, n_params);
    if (n_layers > m->cap_layers) {
        layers = (nn__layer *)nn__malloc(n_layers * sizeof *layers);
        if (!layers)
            goto nomem;
    }
    if (n_params > m->cap_params) {
        params = (float *)nn__malloc_lines(n_params * sizeof(float));
        grads = (float *)nn__malloc_lines(n_params * sizeof(float));
        if (!params || !grads)
            goto nomem;
    }
    if (n_buffers > m->cap_buffers) {
        buffers = (float *)nn__malloc_lines(n_buffers * sizeof(float));
        if (!buffers)
            goto nomem;
    }
    /* Everything allocated: commit. */
    if (layers) {
        if (m->n_layers)
            memcpy(layers, m->layers, m->n_layers * sizeof *layers);
        nn__free(m->layers);
        m->layers = layers;
        m->cap_layers = n_layers;
    }
    if (params) {
        if (m->n_params) {
            memcpy(params, m->params, m->n_params * sizeof(float));
            memcpy(grads, m->grads, m->n_params * sizeof(float));
        }
        nn__free_lines(m->params);
        nn__free_lines(m->grads);
        m->params = params;
        m->grads = grads;
        m->cap_params = n_params;
    }
    if (buffers) {
        if (m->n_buffers)
            memcpy(buffers, m->buffers, m->n_buffers * sizeof(float));
        nn__free_lines(m->buffers);
        m->buffers = buffers;
        m->cap_buffers = n_buffers;
    }
    return NN_OK;
nomem:
    nn__free(layers);
    nn__free_lines(params);
    nn__free_lines(grads);
    nn__free_lines(buffers);
    return nn__fail(NN_E_NOMEM, "%s: allocating room for %zu layers, %zu "
                    "parameters and %zu buffer values failed", fn, n_layers,
                    n_params, n_buffers);
}

static void layer_defaults(nn__layer *L)
{
    int k;
    nn__bounds b = {0, 0, 0, 0};
    L->lp[0] = 0.0;
    for (k = 1; k < NN__LAYER_PARAM_COUNT; k++) {
        (void)nn__layer_param_bounds(k, &b);
        L->lp[k] = nn__layer_param_stored(k, b.def);
    }
    nn__layer_settled(L);
}

nn_status nn__layer_append(const char *fn, nn_model *m,
                           const nn__layer_ops *ops, size_t out, int act,
                           int init)
{
    nn__layer L;
    size_t need_p, need_b, bytes;
    nn_status st;

    memset(&L, 0, sizeof L);
    L.ops = ops;
    L.in = m->n_layers ? m->layers[m->n_layers - 1].out : m->input_width;
    L.out = ops->kind == NN_KIND_DENSE ? out : L.in;
    L.act = act;
    layer_defaults(&L);
    ops->shape(&L);
    /* widths are below 2^31, so w_count (in x out) fits in 64 bits; the
     * sums are checked */
    if (!nn__add_size(m->n_params, L.w_count, &need_p) ||
        !nn__add_size(need_p, L.b_count, &need_p) ||
        !nn__add_size(m->n_buffers, L.buf_count, &need_b) ||
        !nn__mul_size(need_p, sizeof(float), &bytes) ||
        !nn__mul_size(need_b, sizeof(float), &bytes))
        return nn__fail(NN_E_OVERFLOW,
                        "%s: a %zu x %zu layer makes the parameter count "
                        "overflow size_t", fn, L.in, L.out);
    st = nn__model_reserve(
        fn, m,
        m->n_layers < m->cap_layers ? m->cap_layers
                                    : grown(m->cap_layers, m->n_layers + 1),
        need_p <= m->cap_params ? m->cap_params
                                : grown(m->cap_params, need_p),
        need_b <= m->cap_buffers ? m->cap_buffers
                                 : grown(m->cap_buffers, need_b));
    if (st != NN_OK)
        return st;

    L.w_off = m->n_params;
    L.b_off = L.w_off + L.w_count;
    L.buf_off = m->n_buffers;
    if (need_p > m->n_params) {
        memset(m->grads + m->n_params, 0,
               (need_p - m->n_params) * sizeof(float));
        memset(m->params + m->n_params, 0,
               (need_p - m->n_params) * sizeof(float));
    }
    if (need_b > m->n_buffers)
        memset(m->buffers + m->n_buffers, 0,
               (need_b - m->n_buffers) * sizeof(float));
    m->layers[m->n_layers++] = L;
    nn__config_changed(m);
    if (ops->kind == NN_KIND_BATCHNORM)
        m->has_batchnorm = 1;
    if (ops->commit)
        m->has_commit = 1;
    if (ops->kind != NN_KIND_DENSE)
        m->has_nondense = 1;
    if (m->grad_from == m->n_layers - 1 && L.w_count + L.b_count == 0)
        m->grad_from = m->n_layers; /* no layer with parameters yet */
    m->n_params = need_p;
    m->n_buffers = need_b;
    if (init)
        ops->init(m, &m->layers[m->n_layers - 1]);
    m->params_shared = 0; /* pointers handed out before are invalid */
    nn__params_written(m);
    nn__workspace_free(m); /* its layout depends on the layers */
    nn__optim_reset(m);    /* and so does the optimizer state's */
    nn__fit_run_end(m);
    return NN_OK;
}

/* The checks every nn_model_add_* makes. */
static nn_status check_add(const char *fn, const nn_model *m)
{
    const nn__layer *last;
    if (!m)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    if (m->n_layers == 0)
        return NN_OK;
    last = &m->layers[m->n_layers - 1];
    if (last->act == NN_ACT_SOFTMAX)
        return nn__fail(NN_E_STATE,
                        "%s: layer %zu is softmax, which must be the output "
                        "layer; no layer can follow it", fn,
                        m->n_layers - 1);
    return NN_OK;
}

static nn_status check_act(const char *fn, int act)
{
    if (!nn__activation_valid(act))
        return nn__fail(NN_E_INVALID, "%s: act is %d, not an nn_activation",
                        fn, act);
    return NN_OK;
}

nn_status nn_model_add_dense(nn_model *model, size_t width, nn_activation act)
{
    static const char fn[] = "nn_model_add_dense";
    nn_status st = check_add(fn, model);
    if (st != NN_OK)
        return st;
    if (width == 0)
        return nn__fail(NN_E_INVALID, "%s: width is 0", fn);
    if (width > NN__MAX_WIDTH)
        return nn__fail(NN_E_INVALID,
                        "%s: width is %zu, the largest width is %zu", fn,
                        width, NN__MAX_WIDTH);
    st = check_act(fn, (int)act);
    if (st != NN_OK)
        return st;
    return nn__layer_append(fn, model, nn__layer_kind(NN_KIND_DENSE), width,
                            (int)act, 1);
}

nn_status nn_model_add_dropout(nn_model *model, double rate)
{
    static const char fn[] = "nn_model_add_dropout";
    nn_status st = check_add(fn, model);
    if (st != NN_OK)
        return st;
    if (!(rate >= 0.0 && rate < 1.0))
        return nn__fail(NN_E_INVALID, "%s: rate is %g, outside [0, 1)", fn,
                        rate);
    st = nn__layer_append(fn, model, nn__layer_kind(NN_KIND_DROPOUT), 0, 0,
                          1);
    if (st == NN_OK) {
        nn__layer *L = &model->layers[model->n_layers - 1];
        L->lp[NN_LAYER_DROPOUT_RATE] = rate;
        nn__layer_settled(L);
    }
    return st;
}

nn_status nn_model_add_batchnorm(nn_model *model)
{
    static const char fn[] = "nn_model_add_batchnorm";
    nn_status st = check_add(fn, model);
    if (st != NN_OK)
        return st;
    return nn__layer_append(fn, model, nn__layer_kind(NN_KIND_BATCHNORM), 0,
                            0, 1);
}

nn_status nn_model_add_layernorm(nn_model *model)
{
    static const char fn[] = "nn_model_add_layernorm";
    nn_status st = check_add(fn, model);
    if (st != NN_OK)
        return st;
    return nn__layer_append(fn, model, nn__layer_kind(NN_KIND_LAYERNORM), 0,
                            0, 1);
}

nn_status nn_model_add_activation(nn_model *model, nn_activation act)
{
    static const char fn[] = "nn_model_add_activation";
    nn_status st = check_add(fn, model);
    if (st == NN_OK)
        st = check_act(fn, (int)act);
    if (st != NN_OK)
        return st;
    return nn__layer_append(fn, model, nn__layer_kind(NN_KIND_ACTIVATION), 0,
                            (int)act, 1);
}

/* Finite values, for copies into the model. */
static nn_status check_finite_in(const char *fn, const char *name,
                                 const float *v, size_t count)
{
    size_t i;
    for (i = 0; i < count; i++)
        if (!isfinite(v[i]))
            return nn__fail(NN_E_INVALID, "%s: %s[%zu] is %g, not finite",
                            fn, name, i, (double)v[i]);
    return NN_OK;
}

nn_status nn_model_add_scaling(nn_model *model, const float *scale,
                               const float *shift, size_t count)
{
    static const char fn[] = "nn_model_add_scaling";
    size_t width;
    nn__layer *L;
    nn_status st = check_add(fn, model);
    if (st != NN_OK)
        return st;
    if (!scale || !shift)
        return nn__fail(NN_E_NULL, "%s: %s is NULL", fn,
                        scale ? "shift" : "scale");
    if (!nn__aligned(scale) || !nn__aligned(shift))
        return nn__fail(NN_E_INVALID, "%s: %s is not aligned for float", fn,
                        nn__aligned(scale) ? "shift" : "scale");
    width = nn_model_output_width(model);
    if (width == 0)
        width = model->input_width;
    if (count != width)
        return nn__fail(NN_E_SHAPE,
                        "%s: count is %zu, the layer's width is %zu", fn,
                        count, width);
    st = check_finite_in(fn, "scale", scale, count);
    if (st == NN_OK)
        st = check_finite_in(fn, "shift", shift, count);
    if (st == NN_OK)
        st = nn__layer_append(fn, model, nn__layer_kind(NN_KIND_SCALING), 0,
                              0, 1);
    if (st != NN_OK)
        return st;
    L = &model->layers[model->n_layers - 1];
    memcpy(model->buffers + L->buf_off, scale, count * sizeof(float));
    memcpy(model->buffers + L->buf_off + count, shift,
           count * sizeof(float));
    return NN_OK;
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
    nn__config_changed(model);
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

/* The layer, or NULL for a NULL model or an index out of range. */
static const nn__layer *layer_at(const nn_model *model, size_t layer)
{
    return model && layer < model->n_layers ? &model->layers[layer] : NULL;
}

size_t nn_model_layer_width(const nn_model *model, size_t layer)
{
    const nn__layer *L = layer_at(model, layer);
    return L ? L->out : 0;
}

nn_layer_kind nn_model_layer_kind(const nn_model *model, size_t layer)
{
    const nn__layer *L = layer_at(model, layer);
    return (nn_layer_kind)(L ? L->ops->kind : 0);
}

nn_activation nn_model_layer_activation(const nn_model *model, size_t layer)
{
    const nn__layer *L = layer_at(model, layer);
    return (nn_activation)(L ? L->act : 0);
}

size_t nn_model_layer_weight_count(const nn_model *model, size_t layer)
{
    const nn__layer *L = layer_at(model, layer);
    return L ? L->w_count : 0;
}

size_t nn_model_layer_bias_count(const nn_model *model, size_t layer)
{
    const nn__layer *L = layer_at(model, layer);
    return L ? L->b_count : 0;
}

size_t nn_model_layer_buffer_count(const nn_model *model, size_t layer)
{
    const nn__layer *L = layer_at(model, layer);
    return L ? L->buf_count : 0;
}

nn_loss nn_model_loss(const nn_model *model)
{
    return (nn_loss)(model ? model->loss : 0);
}

/* ---- names ---- */

/* names[v] for v in [1, count), or NULL. */
static const char *name_of(const char *const *names, size_t count, int v)
{
    return v >= 1 && (size_t)v < count ? names[v] : NULL;
}

static const char *const param_names[NN__PARAM_COUNT] = {
    NULL,          "learning_rate",   "momentum",       "nesterov",
    "weight_decay", "beta1",          "beta2",          "epsilon",
    "rmsprop_alpha", "clip_norm",     "sched_step_size", "sched_gamma",
    "sched_t_max", "sched_eta_min",   "warmup_steps",   "epochs",
    "batch_size",  "shuffle",         "patience",       "clip_value",
    "amsgrad",     "centered",        "dampening",      "huber_delta",
    "label_smoothing"};
static const char *const layer_param_names[NN__LAYER_PARAM_COUNT] = {
    NULL, "leaky_slope", "elu_alpha", "init", "dropout_rate", "momentum",
    "epsilon"};
static const char *const activation_names[] = {
    NULL,      "identity", "sigmoid", "tanh", "relu",    "leaky_relu",
    "softmax", "gelu",     "silu",    "softplus", "elu"};
static const char *const loss_names[] = {
    NULL, "mse", "bce", "cross_entropy", "l1", "huber"};
static const char *const init_names[] = {
    NULL,           "auto",       "glorot_uniform", "glorot_normal",
    "he_uniform",   "he_normal",  "lecun_normal"};
static const char *const optimizer_names[] = {NULL, "sgd", "adam", "adamw",
                                              "rmsprop"};
static const char *const schedule_names[] = {NULL, "constant", "step",
                                             "exponential", "cosine"};

#define NN__NAMES(t) (t), sizeof(t) / sizeof((t)[0])

const char *nn_param_name(nn_param key)
{
    return name_of(NN__NAMES(param_names), (int)key);
}

const char *nn_layer_param_name(nn_layer_param key)
{
    return name_of(NN__NAMES(layer_param_names), (int)key);
}

const char *nn_activation_name(nn_activation act)
{
    return name_of(NN__NAMES(activation_names), (int)act);
}

const char *nn_loss_name(nn_loss loss)
{
    return name_of(NN__NAMES(loss_names), (int)loss);
}

const char *nn_layer_kind_name(nn_layer_kind kind)
{
    const nn__layer_ops *ops = nn__layer_kind((int)kind);
    return ops ? ops->name : NULL;
}

const char *nn_init_name(nn_init init)
{
    return name_of(NN__NAMES(init_names), (int)init);
}

const char *nn_optimizer_name(nn_optimizer kind)
{
    return name_of(NN__NAMES(optimizer_names), (int)kind);
}

const char *nn_schedule_name(nn_schedule kind)
{
    return name_of(NN__NAMES(schedule_names), (int)kind);
}

#undef NN__NAMES

/* ---- settings ---- */

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
    {0.0, 1e30, 0.0, 0},               /* CLIP_VALUE */
    {0.0, 1.0, 0.0, 1},                /* AMSGRAD */
    {0.0, 1.0, 0.0, 1},                /* CENTERED */
    {0.0, 1.0, 0.0, 0},                /* DAMPENING */
    {1e-12, 1e30, 1.0, 0},             /* HUBER_DELTA */
    {0.0, 1.0, 0.0, 0},                /* LABEL_SMOOTHING */
};

int nn__param_bounds(int key, nn__bounds *b)
{
    if (key < 1 || key >= NN__PARAM_COUNT)
        return 0;
    *b = nn__param_table[key];
    return 1;
}

void nn__params_default(double *param)
{
    int k;
    for (k = 0; k < NN__PARAM_COUNT; k++)
        param[k] = nn__param_table[k].def;
}

nn_status nn_param_bounds(nn_param key, double *lo, double *hi, double *def)
{
    nn__bounds b = {0, 0, 0, 0};
    if (!nn__param_bounds((int)key, &b))
        return nn__fail(NN_E_INVALID,
                        "nn_param_bounds: key is %d, not an nn_param",
                        (int)key);
    if (lo) *lo = b.lo;
    if (hi) *hi = b.hi;
    if (def) *def = b.def;
    return NN_OK;
}

/* NN_OK if value is within b and whole where b asks; else a message
 * naming the key by name. */
static nn_status check_value(const char *fn, const char *name, int key,
                             const nn__bounds *b, double value)
{
    if (!(value >= b->lo && value <= b->hi))
        return nn__fail(NN_E_INVALID,
                        "%s: value %g for %s (key %d) is outside [%g, %g]",
                        fn, value, name, key, b->lo, b->hi);
    if (b->integral && value != floor(value))
        return nn__fail(NN_E_INVALID,
                        "%s: value %g for %s (key %d) is not a whole number",
                        fn, value, name, key);
    return NN_OK;
}

nn_status nn_model_set_param(nn_model *model, nn_param key, double value)
{
    static const char fn[] = "nn_model_set_param";
    nn__bounds b = {0, 0, 0, 0};
    nn_status st;
    if (!model)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    if (!nn__param_bounds((int)key, &b))
        return nn__fail(NN_E_INVALID, "%s: key is %d, not an nn_param", fn,
                        (int)key);
    st = check_value(fn, nn_param_name(key), (int)key, &b, value);
    if (st != NN_OK)
        return st;
    model->param[key] = value;
    return NN_OK;
}

nn_status nn_model_get_param(const nn_model *model, nn_param key,
                             double *value)
{
    nn__bounds b = {0, 0, 0, 0};
    if (!model || !value)
        return nn__fail(NN_E_NULL, "nn_model_get_param: %s is NULL",
                        model ? "value" : "model");
    if (!nn__param_bounds((int)key, &b))
        return nn__fail(NN_E_INVALID,
                        "nn_model_get_param: key is %d, not an nn_param",
                        (int)key);
    *value = model->param[key];
    return NN_OK;
}

int nn__layer_param_bounds(int key, nn__bounds *b)
{
    static const nn__bounds table[NN__LAYER_PARAM_COUNT] = {
        {0, 0, 0, 0},                           /* 0: not a key */
        {0.0, 1.0, 0.01, 0},                    /* LEAKY_SLOPE */
        {0.0, 1e3, 1.0, 0},                     /* ELU_ALPHA */
        {1.0, 6.0, 1.0, 1},                     /* INIT */
        {0.0, 1.0 - 1.0 / 9007199254740992.0,   /* DROPOUT_RATE: [0, 1) */
         0.5, 0},
        {0.0, 1.0, 0.1, 0},                     /* MOMENTUM */
        {1e-30, 1.0, 1e-5, 0},                  /* EPSILON */
    };
    if (key < 1 || key >= NN__LAYER_PARAM_COUNT)
        return 0;
    *b = table[key];
    return 1;
}

nn_status nn_layer_param_bounds(nn_layer_param key, double *lo, double *hi,
                                double *def)
{
    nn__bounds b = {0, 0, 0, 0};
    if (!nn__layer_param_bounds((int)key, &b))
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

/* The layer and key checks of set and get: *b receives the key's bounds. */
static nn_status check_layer_key(const char *fn, const nn_model *model,
                                 size_t layer, int key, nn__bounds *b)
{
    const nn__layer *L;
    nn_status st = check_layer(fn, model, layer);
    if (st != NN_OK)
        return st;
    if (!nn__layer_param_bounds(key, b))
        return nn__fail(NN_E_INVALID, "%s: key is %d, not an nn_layer_param",
                        fn, key);
    L = &model->layers[layer];
    if (!(L->ops->keys & (1u << key)))
        return nn__fail(NN_E_INVALID, "%s: layer %zu is %s, which has no "
                        "setting %s", fn, layer, L->ops->name,
                        nn_layer_param_name((nn_layer_param)key));
    return NN_OK;
}

nn_status nn_model_set_layer_param(nn_model *model, size_t layer,
                                   nn_layer_param key, double value)
{
    static const char fn[] = "nn_model_set_layer_param";
    nn__bounds b = {0, 0, 0, 0};
    nn__layer *L;
    nn_status st = check_layer_key(fn, model, layer, (int)key, &b);
    if (st == NN_OK)
        st = check_value(fn, nn_layer_param_name(key), (int)key, &b, value);
    if (st != NN_OK)
        return st;
    L = &model->layers[layer];
    L->lp[key] = nn__layer_param_stored((int)key, value);
    nn__layer_settled(L);
    nn__config_changed(model);
    if (key == NN_LAYER_INIT) { /* draw the weights the setting names */
        L->ops->init(model, L);
        nn__params_written(model);
    }
    return NN_OK;
}

nn_status nn_model_get_layer_param(const nn_model *model, size_t layer,
                                   nn_layer_param key, double *value)
{
    static const char fn[] = "nn_model_get_layer_param";
    nn__bounds b = {0, 0, 0, 0};
    nn_status st;
    if (model && !value)
        return nn__fail(NN_E_NULL, "%s: value is NULL", fn);
    st = check_layer_key(fn, model, layer, (int)key, &b);
    if (st != NN_OK)
        return st;
    *value = model->layers[layer].lp[key];
    return NN_OK;
}

/* ---- class weights ---- */

nn_status nn_model_set_class_weights(nn_model *model, const float *w,
                                     size_t count)
{
    static const char fn[] = "nn_model_set_class_weights";
    float *copy = NULL;
    size_t i;
    if (!model)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    if (count > 0) {
        if (!w)
            return nn__fail(NN_E_NULL, "%s: w is NULL", fn);
        if (!nn__aligned(w))
            return nn__fail(NN_E_INVALID, "%s: w is not aligned for float",
                            fn);
        if (count > NN__MAX_WIDTH)
            return nn__fail(NN_E_INVALID, "%s: count is %zu, above %zu", fn,
                            count, NN__MAX_WIDTH);
        for (i = 0; i < count; i++)
            if (!(w[i] >= 0.0f && w[i] <= 3.4028234663852886e38f))
                return nn__fail(NN_E_INVALID,
                                "%s: w[%zu] is %g; a class weight is finite "
                                "and >= 0", fn, i, (double)w[i]);
        copy = (float *)nn__malloc(count * sizeof(float));
        if (!copy)
            return nn__fail(NN_E_NOMEM, "%s: allocating %zu class weights "
                            "failed", fn, count);
        memcpy(copy, w, count * sizeof(float));
    }
    nn__free(model->class_w);
    model->class_w = copy;
    model->n_class_w = count;
    nn__config_changed(model);
    return NN_OK;
}

size_t nn_model_class_weight_count(const nn_model *model)
{
    return model ? model->n_class_w : 0;
}

nn_status nn_model_get_class_weights(const nn_model *model, float *w,
                                     size_t count)
{
    static const char fn[] = "nn_model_get_class_weights";
    if (!model)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    if (count != model->n_class_w)
        return nn__fail(NN_E_SHAPE, "%s: count is %zu, the model has %zu "
                        "class weights", fn, count, model->n_class_w);
    if (count == 0)
        return NN_OK;
    if (!w)
        return nn__fail(NN_E_NULL, "%s: w is NULL", fn);
    if (!nn__aligned(w))
        return nn__fail(NN_E_INVALID, "%s: w is not aligned for float", fn);
    memcpy(w, model->class_w, count * sizeof(float));
    return NN_OK;
}

/* ---- metadata ---- */

/* A copy of the len bytes at s and a NUL. */
static char *copy_text(const char *s, size_t len)
{
    char *c = (char *)nn__malloc(len + 1);
    if (c) {
        memcpy(c, s, len);
        c[len] = '\0';
    }
    return c;
}

static size_t meta_find(const nn_model *m, const char *key)
{
    size_t i;
    for (i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta[i].key, key) == 0)
            return i;
    return (size_t)-1;
}

/* strlen, stopping past max: a value of more than max bytes is refused
 * without reading all of it. */
static size_t text_len(const char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n])
        n++;
    return n;
}

nn_status nn_model_set_meta(nn_model *model, const char *key,
                            const char *value)
{
    static const char fn[] = "nn_model_set_meta";
    size_t klen, vlen = 0, at;
    char *k = NULL, *v = NULL;
    if (!model || !key)
        return nn__fail(NN_E_NULL, "%s: %s is NULL", fn,
                        model ? "key" : "model");
    klen = text_len(key, NN__META_KEY_MAX);
    if (klen == 0 || klen > NN__META_KEY_MAX)
        return nn__fail(NN_E_INVALID, "%s: a key is 1 to %d bytes; this one "
                        "is %s", fn, NN__META_KEY_MAX,
                        klen ? "longer" : "empty");
    at = meta_find(model, key);
    if (!value) {
        if (at != (size_t)-1) {
            nn__free(model->meta[at].key);
            nn__free(model->meta[at].value);
            memmove(model->meta + at, model->meta + at + 1,
                    (model->n_meta - at - 1) * sizeof *model->meta);
            model->n_meta--;
        }
        return NN_OK;
    }
    vlen = text_len(value, NN__META_VALUE_MAX);
    if (vlen > NN__META_VALUE_MAX)
        return nn__fail(NN_E_INVALID, "%s: the value of '%s' is longer than "
                        "%zu bytes", fn, key, NN__META_VALUE_MAX);
    v = copy_text(value, vlen);
    if (!v)
        goto nomem;
    if (at != (size_t)-1) {
        nn__free(model->meta[at].value);
        model->meta[at].value = v;
        return NN_OK;
    }
    if (model->n_meta == NN__META_COUNT_MAX) {
        nn__free(v);
        return nn__fail(NN_E_INVALID, "%s: the model has %d metadata keys, "
                        "the most it can hold", fn, NN__META_COUNT_MAX);
    }
    k = copy_text(key, klen);
    if (!k)
        goto nomem;
    if (model->n_meta == model->cap_meta) {
        size_t cap = model->cap_meta ? 2 * model->cap_meta : 4;
        nn__meta *grown_meta = (nn__meta *)nn__malloc(cap * sizeof *grown_meta);
        if (!grown_meta)
            goto nomem;
        if (model->n_meta)
            memcpy(grown_meta, model->meta,
                   model->n_meta * sizeof *grown_meta);
        nn__free(model->meta);
        model->meta = grown_meta;
        model->cap_meta = cap;
    }
    model->meta[model->n_meta].key = k;
    model->meta[model->n_meta].value = v;
    model->n_meta++;
    return NN_OK;
nomem:
    nn__free(k);
    nn__free(v);
    return nn__fail(NN_E_NOMEM, "%s: allocating %zu bytes for '%s' failed",
                    fn, klen + vlen + 2, key);
}

const char *nn_model_get_meta(const nn_model *model, const char *key)
{
    size_t at;
    if (!model || !key)
        return NULL;
    at = meta_find(model, key);
    return at == (size_t)-1 ? NULL : model->meta[at].value;
}

size_t nn_model_meta_count(const nn_model *model)
{
    return model ? model->n_meta : 0;
}

const char *nn_model_meta_key(const nn_model *model, size_t index)
{
    return model && index < model->n_meta ? model->meta[index].key : NULL;
}

/* ---- parameters ---- */

/* What a copy in or out of a layer's arrays refers to. */
enum { PART_WEIGHTS, PART_BIAS, PART_BUFFERS };

/* Checks a copy of part of layer `layer` to or from p, count floats;
 * *off receives the block's place in its array. */
static nn_status check_copy(const char *fn, const nn_model *model,
                            size_t layer, const void *p, const char *pname,
                            size_t count, int part, size_t *off)
{
    static const char *const what[] = {"weight", "bias", "buffer"};
    const nn__layer *L;
    size_t want;
    nn_status st = check_layer(fn, model, layer);
    if (st != NN_OK)
        return st;
    L = &model->layers[layer];
    want = part == PART_WEIGHTS ? L->w_count
                                : part == PART_BIAS ? L->b_count
                                                    : L->buf_count;
    if (count != want)
        return nn__fail(NN_E_SHAPE,
                        "%s: count is %zu, layer %zu has %zu %s values", fn,
                        count, layer, want, what[part]);
    if (!p && count > 0)
        return nn__fail(NN_E_NULL, "%s: %s is NULL", fn, pname);
    if (!nn__aligned(p))
        return nn__fail(NN_E_INVALID, "%s: %s is not aligned for float", fn,
                        pname);
    *off = part == PART_WEIGHTS ? L->w_off
                                : part == PART_BIAS ? L->b_off : L->buf_off;
    return NN_OK;
}

static nn_status copy_in(const char *fn, nn_model *model, size_t layer,
                         const float *src, const char *pname, size_t count,
                         int part)
{
    size_t off = 0, bad;
    const nn__layer *L;
    nn_status st = check_copy(fn, model, layer, src, pname, count, part,
                              &off);
    if (st != NN_OK || count == 0)
        return st;
    st = check_finite_in(fn, pname, src, count);
    if (st != NN_OK)
        return st;
    L = &model->layers[layer];
    if (part == PART_BUFFERS) {
        if (L->ops->buffers_valid && !L->ops->buffers_valid(L, src, &bad))
            return nn__fail(NN_E_INVALID, "%s: %s[%zu] is %g, not a valid "
                            "value for a %s layer's buffers", fn, pname, bad,
                            (double)src[bad], L->ops->name);
        memcpy(model->buffers + off, src, count * sizeof(float));
        return NN_OK;
    }
    memcpy(model->params + off, src, count * sizeof(float));
    nn__params_written(model);
    return NN_OK;
}

static nn_status copy_out(const char *fn, const nn_model *model, size_t layer,
                          const float *buf, float *dst, const char *pname,
                          size_t count, int part)
{
    size_t off = 0;
    nn_status st = check_copy(fn, model, layer, dst, pname, count, part,
                              &off);
    if (st == NN_OK && count > 0)
        memcpy(dst, buf + off, count * sizeof(float));
    return st;
}

nn_status nn_model_get_weights(const nn_model *model, size_t layer, float *w,
                               size_t count)
{
    return copy_out("nn_model_get_weights", model, layer,
                    model ? model->params : NULL, w, "w", count, PART_WEIGHTS);
}

nn_status nn_model_set_weights(nn_model *model, size_t layer, const float *w,
                               size_t count)
{
    return copy_in("nn_model_set_weights", model, layer, w, "w", count,
                   PART_WEIGHTS);
}

nn_status nn_model_get_bias(const nn_model *model, size_t layer, float *b,
                            size_t count)
{
    return copy_out("nn_model_get_bias", model, layer,
                    model ? model->params : NULL, b, "b", count, PART_BIAS);
}

nn_status nn_model_set_bias(nn_model *model, size_t layer, const float *b,
                            size_t count)
{
    return copy_in("nn_model_set_bias", model, layer, b, "b", count,
                   PART_BIAS);
}

nn_status nn_model_get_layer_buffers(const nn_model *model, size_t layer,
                                     float *buf, size_t count)
{
    return copy_out("nn_model_get_layer_buffers", model, layer,
                    model ? model->buffers : NULL, buf, "buf", count,
                    PART_BUFFERS);
}

nn_status nn_model_set_layer_buffers(nn_model *model, size_t layer,
                                     const float *buf, size_t count)
{
    return copy_in("nn_model_set_layer_buffers", model, layer, buf, "buf",
                   count, PART_BUFFERS);
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
    if ((!dw && dw_count > 0) || (!db && db_count > 0))
        return nn__fail(NN_E_NULL, "%s: %s is NULL", fn, dw ? "db" : "dw");
    if (!nn__aligned(dw) || !nn__aligned(db))
        return nn__fail(NN_E_INVALID, "%s: %s is not aligned for float", fn,
                        nn__aligned(dw) ? "db" : "dw");
    if (dw_count != L->w_count)
        return nn__fail(NN_E_SHAPE,
                        "%s: dw_count is %zu, layer %zu has %zu weights", fn,
                        dw_count, layer, L->w_count);
    if (db_count != L->b_count)
        return nn__fail(NN_E_SHAPE,
                        "%s: db_count is %zu, layer %zu has %zu biases", fn,
                        db_count, layer, L->b_count);
    if (dw_count)
        memcpy(dw, model->grads + L->w_off, dw_count * sizeof(float));
    if (db_count)
        memcpy(db, model->grads + L->b_off, db_count * sizeof(float));
    return NN_OK;
}

float *nn_model_params(nn_model *model, size_t *count)
{
    int any = model && model->n_params > 0;
    if (any) {
        model->params_shared = 1; /* see nn_internal.h */
        nn__params_written(model);
    }
    if (count)
        *count = any ? model->n_params : 0;
    return any ? model->params : NULL;
}

float *nn_model_grads(nn_model *model, size_t *count)
{
    int any = model && model->n_params > 0;
    if (count)
        *count = any ? model->n_params : 0;
    return any ? model->grads : NULL;
}
