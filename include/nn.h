/* SPDX-License-Identifier: MIT */
/*
 * nn.h - libnn, feed-forward neural networks trained by backpropagation.
 *
 * This header is the whole public API and its manual: anything not declared
 * here is private and may change without notice.
 *
 * ------------------------------------------------------------------------
 * Overview
 * ------------------------------------------------------------------------
 * A model (nn_model, an opaque handle) is an input width followed by a
 * sequence of layers, each taking the previous layer's output (the first
 * takes the input) and giving its own, as torch.nn.Sequential does. The
 * kinds of layer (nn_layer_kind) are dense layers, dropout, batch
 * normalization, layer normalization, activation layers and a fixed
 * scaling. A dense layer l holds a weight matrix W_l of in_l x out_l
 * floats, row-major (row i holds the weights leaving input i), a bias b_l
 * of out_l floats and an activation f_l. For a batch X of n rows:
 *
 *     Z_l = A_{l-1} . W_l + b_l      (A_0 = X)
 *     A_l = f_l(Z_l)                 (A_L is the prediction)
 *
 * The other kinds are described where they are added
 * (nn_model_add_dropout and the functions after it).
 *
 * Training and inference. The training calls (nn_model_train_batch,
 * nn_model_compute_grads, nn_model_fit) run the layers in training mode:
 * dropout drops units and batch normalization uses the batch's statistics.
 * nn_model_predict and nn_model_evaluate run them in inference mode:
 * dropout is the identity and batch normalization uses its running
 * statistics.
 *
 * Every array crossing the API is row-major IEEE-754 binary32 (float). A
 * batch of n rows of width w is n*w consecutive floats; there is no stride
 * and no fixed maximum n.
 *
 * Simple use, in main() with x holding 4 rows of 2 inputs, t 4 targets and
 * y room for 4 outputs (examples/xor.c is the whole program):
 *
 *     nn_model *m = NULL;
 *     double loss;
 *     int i;
 *     if (nn_model_create(&m, 2, 42) != NN_OK ||
 *         nn_model_add_dense(m, 4, NN_ACT_TANH) != NN_OK ||
 *         nn_model_add_dense(m, 1, NN_ACT_SIGMOID) != NN_OK ||
 *         nn_model_set_loss(m, NN_LOSS_BCE) != NN_OK ||
 *         nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.5) != NN_OK)
 *         goto fail;
 *     for (i = 0; i < 2000; i++)
 *         if (nn_model_train_batch(m, 4, x, 2, t, 1, &loss) != NN_OK)
 *             goto fail;
 *     if (nn_model_predict(m, 4, x, 2, y, 1) != NN_OK)
 *         goto fail;
 *     nn_model_free(m);
 *     return 0;
 *   fail:
 *     fprintf(stderr, "%s\n", nn_last_error());
 *     nn_model_free(m);
 *     return 1;
 *
 * ------------------------------------------------------------------------
 * Conventions
 * ------------------------------------------------------------------------
 * Status.   Every call that can fail returns an nn_status. NN_OK is 0; any
 *           other value means the call failed and changed nothing that the
 *           caller can observe (the model is exactly as before the call),
 *           unless the function says otherwise.
 * Messages. After a failure, nn_last_error() returns a sentence naming the
 *           function, the argument and the numbers involved. The message is
 *           kept per thread, so it also works for a failed nn_model_create
 *           (no handle yet) and for nn_model_predict called from many threads
 *           on one model. That thread-local buffer, the allocator (see
 *           nn_set_allocator) and the once-per-process choice of libnn's
 *           own product kernel (see nn_model_predict) are libnn's only
 *           state outside its handles.
 * Widths.   Calls taking a batch also take the width the caller believes
 *           each array has (x_width, t_width, y_width). A width that
 *           disagrees with the model gives NN_E_SHAPE rather than a read
 *           past the end of the caller's array.
 * Threads.  Distinct models may be used from distinct threads at the same
 *           time. nn_model_predict and the other calls taking a
 *           const nn_model * may run concurrently on one model. Every call
 *           taking a non-const nn_model * must not run concurrently with any
 *           other call on the same model; preventing that is the caller's
 *           job. Datasets follow the same rule (only nn_data_free takes a
 *           non-const nn_data *), so one dataset may feed concurrent calls
 *           on distinct models. Calls that take neither a model nor a
 *           dataset are thread-safe, except nn_set_allocator and
 *           nn_set_blas_threads, which say so.
 * FFI.      No varargs, no FILE *, no structs by value, no bool, no exported
 *           variables: every function can be bound with ctypes, koffi or
 *           libffi without a compiler.
 * Enums.    Values are explicit and never renumbered; new values are
 *           appended. Zero is never a valid activation, loss or parameter,
 *           so zero-filled memory is always rejected.
 * Arrays.   Every float * and int32_t * argument must be aligned for its
 *           type (to 4 bytes), as any array of that type is; a misaligned
 *           pointer gives NN_E_INVALID rather than undefined behaviour.
 *           Arrays a call reads and arrays it writes must not overlap.
 * Handles.  A handle (nn_model *, nn_data *) belongs to the caller from
 *           the call that creates it to the one that frees it. libnn keeps
 *           no pointer to a caller's array after a call returns, except a
 *           dataset, which is a view (see nn_data). Strings libnn returns
 *           are its own: static, except nn_last_error's.
 * Versions. Everything declared here exists since 0.1.0, unless its comment
 *           says "Since X.Y." (each later addition does). Within one major
 *           version, the number in the SONAME (libnn.so.0), functions and
 *           enum values are only ever added: none is removed, renumbered or
 *           given another signature or meaning. tests/abi checks the
 *           exported functions and the ABI against a committed baseline.
 */
#ifndef NN_H
#define NN_H

#include <stddef.h> /* size_t */
#include <stdint.h> /* int32_t, uint64_t */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Version. These macros are the single source of truth: the build reads
 * them from this file.
 * ------------------------------------------------------------------------ */
/* The version of this header, MAJOR.MINOR.PATCH, and as one number; the
 * loaded library's may differ (nn_version_number). */
#define NN_VERSION_MAJOR 0
#define NN_VERSION_MINOR 2
#define NN_VERSION_PATCH 0
#define NN_VERSION_NUMBER \
    (NN_VERSION_MAJOR * 10000 + NN_VERSION_MINOR * 100 + NN_VERSION_PATCH)

/* Symbols are hidden by default; NN_API marks the exported ones. */
#ifndef NN_API
#  if defined(_WIN32) && defined(NN_BUILDING_DLL)
#    define NN_API __declspec(dllexport)
#  elif defined(__GNUC__) && __GNUC__ >= 4
#    define NN_API __attribute__((visibility("default")))
#  else
#    define NN_API
#  endif
#endif

/* Calls whose status must be checked. */
#ifndef NN_NODISCARD
#  if defined(__GNUC__) && __GNUC__ >= 4
#    define NN_NODISCARD __attribute__((warn_unused_result))
#  else
#    define NN_NODISCARD
#  endif
#endif

/* The version of the loaded library, as NN_VERSION_NUMBER computes it. A
 * binding compares it with the header it was written against: the same
 * major version is compatible, and a later minor version only adds.
 * Thread-safe. */
NN_API unsigned nn_version_number(void);

/* The version of the loaded library as "MAJOR.MINOR.PATCH", static.
 * Thread-safe. */
NN_API const char *nn_version_string(void);

/* ------------------------------------------------------------------------
 * Status codes and messages
 * ------------------------------------------------------------------------ */
/* What a call returns: NN_OK, or why it failed. */
typedef enum nn_status {
    NN_OK = 0,          /* success */
    NN_E_NULL = 1,      /* a required pointer argument is NULL */
    NN_E_INVALID = 2,   /* an argument's value is out of its range: a zero
                           width or count, an unknown enum value, a setting
                           outside its bounds, a class label outside
                           [0, outputs) */
    NN_E_SHAPE = 3,     /* a width or count disagrees with the model */
    NN_E_STATE = 4,     /* the model cannot do this yet or at all: no layers,
                           no loss, softmax on a hidden layer, a loss that
                           does not fit the output activation */
    NN_E_NOMEM = 5,     /* an allocation failed; nothing was changed */
    NN_E_OVERFLOW = 6,  /* a size (n * width, bytes) overflows size_t */
    NN_E_NONFINITE = 7, /* the loss or a gradient of this step is NaN or
                           infinite; the step was rejected and no parameter
                           was changed */
    NN_E_IO = 8,        /* a file could not be opened, read, written, synced
                           or renamed; the message names the file and the
                           step, with the system's error text and errno */
    NN_E_FORMAT = 9,    /* the bytes given to a load are not a model file
                           this libnn can read: damaged, truncated, from a
                           newer libnn, or not a model file at all; the
                           message says what is wrong and at which byte */
    NN_E_REDUCE = 10    /* since 0.2: the reducer a data-parallel pass
                           called (nn_model_set_reducer) reported a failure;
                           the message carries its code */
} nn_status;

/* A short, static, English description of a status ("invalid argument").
 * Unknown values give "unknown status". Thread-safe. */
NN_API const char *nn_status_string(nn_status status);

/* The message of the most recent failed call made by the calling thread, for
 * example "nn_model_predict: x_width is 3, the model's input width is 4".
 * Successful calls leave it unchanged. The string is owned by the library and
 * valid until the next libnn call in the same thread; "" if no call has
 * failed in this thread. Thread-safe. */
NN_API const char *nn_last_error(void);

/* ------------------------------------------------------------------------
 * Memory
 *
 * Every allocation libnn makes goes through one allocator, by default the C
 * library's malloc and free. A program may replace it, for example to count
 * or limit libnn's memory, or to fail chosen allocations in tests. The
 * arrays that training and prediction stream through (parameters,
 * gradients, optimizer state, buffers, the training workspace, the packed
 * copy of the weights, the fit's batch, the scratch of prediction and
 * evaluation) start on 64-byte boundaries whatever the allocator's
 * alignment: libnn asks for up to 71 bytes more for each and aligns it
 * itself.
 * ------------------------------------------------------------------------ */

/* Returns a block of at least size bytes aligned for any type, or NULL. */
typedef void *(*nn_malloc_fn)(void *ctx, size_t size);
/* Releases a block returned by the paired nn_malloc_fn; never given NULL. */
typedef void (*nn_free_fn)(void *ctx, void *ptr);

/* Replaces the allocator of the whole library; ctx is passed to both
 * functions. NULL for both restores malloc and free. Call it only while no
 * model exists and no other thread is inside libnn: a block must be freed by
 * the allocator that made it, and the setting is process-wide and not
 * synchronised. Returns NN_OK, or NN_E_NULL if exactly one of alloc_fn and
 * free_fn is NULL (nothing changes). */
NN_API NN_NODISCARD nn_status nn_set_allocator(nn_malloc_fn alloc_fn,
                                               nn_free_fn free_fn, void *ctx);

/* ------------------------------------------------------------------------
 * Building a model
 * ------------------------------------------------------------------------ */
/* A model (opaque): its layers, loss, settings, parameters and training
 * state. nn_model_create makes one, nn_model_free releases it. */
typedef struct nn_model nn_model;

/* Activation functions, of dense layers (nn_model_add_dense) and of
 * activation layers (nn_model_add_activation). */
typedef enum nn_activation {
    NN_ACT_IDENTITY = 1,   /* f(z) = z */
    NN_ACT_SIGMOID = 2,    /* f(z) = 1 / (1 + e^-z) */
    NN_ACT_TANH = 3,       /* f(z) = tanh z */
    NN_ACT_RELU = 4,       /* f(z) = max(z, 0); f'(0) taken as 0 */
    NN_ACT_LEAKY_RELU = 5, /* f(z) = z > 0 ? z : slope * z; slope is the
                              layer parameter NN_LAYER_LEAKY_SLOPE */
    NN_ACT_SOFTMAX = 6,    /* f(z)_j = e^z_j / sum_k e^z_k over each row;
                              output layer only */
    /* Since 0.2. */
    NN_ACT_GELU = 7,       /* f(z) = z Phi(z) = z (1 + erf(z / sqrt 2)) / 2,
                              the exact (erf) form, torch.nn.GELU()'s
                              default */
    NN_ACT_SILU = 8,       /* f(z) = z / (1 + e^-z) (swish) */
    NN_ACT_SOFTPLUS = 9,   /* f(z) = log(1 + e^z), and z itself for
                              z > 20, as torch.nn.Softplus() (beta 1,
                              threshold 20) */
    NN_ACT_ELU = 10        /* f(z) = z > 0 ? z : alpha (e^z - 1); alpha is
                              the layer parameter NN_LAYER_ELU_ALPHA;
                              f'(0) taken as alpha, as PyTorch does */
} nn_activation;

/* Losses that training minimises (nn_model_set_loss). */
typedef enum nn_loss {
    /* Mean over all n*k elements of (y - t)^2. Any output activation. */
    NN_LOSS_MSE = 1,
    /* Binary cross-entropy: mean over all n*k elements of
     * -[t log y + (1 - t) log(1 - y)], targets in [0, 1]. The output layer
     * must be sigmoid (y = sigmoid(z)) or identity (its outputs are then
     * logits and the loss applies the sigmoid, like PyTorch's
     * BCEWithLogitsLoss). Either way it is computed from the logits z and
     * stays finite for any finite z. */
    NN_LOSS_BCE = 2,
    /* Softmax cross-entropy: mean over the n rows of -sum_j t_j log p_j,
     * p = softmax(z), computed with log-sum-exp. Targets are probability
     * rows (each summing to 1) or integer class labels. The output layer
     * must be softmax or identity (logits, like PyTorch's
     * CrossEntropyLoss).
     * With class weights w (nn_model_set_class_weights) and label
     * smoothing e (NN_PARAM_LABEL_SMOOTHING), as PyTorch's
     * CrossEntropyLoss(weight=w, label_smoothing=e) defines them, for k
     * classes and log-probabilities q = log p:
     *   labels y_i:  [ (1 - e) sum_i w_{y_i} (-q_{i,y_i})
     *                  + (e / k) sum_i sum_j w_j (-q_{ij}) ] / sum_i w_{y_i}
     *   rows t_i:    -(1/n) sum_i sum_j w_j ((1 - e) t_ij + e / k) q_ij
     * (w_j = 1 without class weights). */
    NN_LOSS_CROSS_ENTROPY = 3,
    /* Since 0.2. Mean absolute error: mean over all n*k elements of
     * |y - t|, with the gradient sign(y - t) / (n k), 0 where y = t (as
     * torch.nn.L1Loss). Any output activation. */
    NN_LOSS_L1 = 4,
    /* Since 0.2. Huber loss with d = y - t and delta the setting
     * NN_PARAM_HUBER_DELTA: mean over all n*k elements of d^2 / 2 where
     * |d| < delta and delta (|d| - delta / 2) elsewhere (as
     * torch.nn.HuberLoss). Any output activation. */
    NN_LOSS_HUBER = 5
} nn_loss;

/* Creates an empty model taking inputs of input_width floats. seed drives
 * every random choice of the model (weight initialisation, and shuffling
 * when that exists): two models built by the same calls with the same seed
 * are bit-identical. On success *out is the new model, owned by the caller
 * and released with nn_model_free. On failure *out is NULL.
 * Returns NN_OK, NN_E_NULL (out), NN_E_INVALID (input_width 0 or above
 * 2^31 - 1, the largest dimension BLAS takes), NN_E_NOMEM. */
NN_API NN_NODISCARD nn_status nn_model_create(nn_model **out,
                                              size_t input_width,
                                              uint64_t seed);

/* Releases a model and everything it owns. NULL is a no-op. The handle,
 * and any pointer nn_model_params or nn_model_grads returned for it, are
 * invalid afterwards. */
NN_API void nn_model_free(nn_model *model);

/* Appends a dense layer of width outputs with activation act. Its weights
 * are drawn from the model's generator as the layer's NN_LAYER_INIT
 * setting says, by default (NN_INIT_AUTO) He-uniform,
 * U(-sqrt(6/in), +sqrt(6/in)), for relu, leaky relu, GELU, SiLU and ELU
 * layers, and Glorot/Xavier-uniform, U(-sqrt(6/(in+out)), +sqrt(6/(in+out))),
 * for the others. Biases start at zero.
 * No layer of any kind may follow a softmax (dense or activation) layer.
 * Every nn_model_add_* call: invalidates pointers previously returned by
 * nn_model_params and nn_model_grads, resets the optimizer's state and step
 * count, and costs O(1) amortised beyond the new layer's own parameters
 * (the parameter buffers grow geometrically), so building L layers is
 * linear in the model's size.
 * Returns NN_OK, NN_E_NULL, NN_E_INVALID (width 0 or above 2^31 - 1, unknown
 * act), NN_E_STATE (the last layer is softmax), NN_E_OVERFLOW, NN_E_NOMEM. */
NN_API NN_NODISCARD nn_status nn_model_add_dense(nn_model *model,
                                                 size_t width,
                                                 nn_activation act);

/* Kinds of layer. Since 0.2. Every kind except dense keeps the width of
 * its input: its output width is the previous layer's (or the input
 * width, as the first layer). */
typedef enum nn_layer_kind {
    NN_KIND_DENSE = 1,      /* nn_model_add_dense */
    NN_KIND_DROPOUT = 2,    /* nn_model_add_dropout */
    NN_KIND_BATCHNORM = 3,  /* nn_model_add_batchnorm */
    NN_KIND_LAYERNORM = 4,  /* nn_model_add_layernorm */
    NN_KIND_ACTIVATION = 5, /* nn_model_add_activation */
    NN_KIND_SCALING = 6     /* nn_model_add_scaling */
} nn_layer_kind;

/* Since 0.2. Appends inverted dropout with drop probability rate in
 * [0, 1) (the layer setting NN_LAYER_DROPOUT_RATE). In training mode each
 * unit is kept with probability 1 - rate and then multiplied by
 * (float)(1 / (1 - rate)), or set to 0; in inference mode the layer is the
 * identity, so predictions of a model with dropout equal, bit for bit,
 * those of the same model without it. Which units a step drops depends
 * only on the model's seed (nn_model_create), the step count
 * (nn_model_step_count), the layer's index and the row's position in the
 * batch: the same seed gives the same run, bit for bit, and a batch split
 * into parts that know their rows' positions draws the same masks.
 * nn_model_compute_grads draws the masks of the step that would follow it.
 * Returns as nn_model_add_dense; NN_E_INVALID also for a rate outside
 * [0, 1) or NaN. */
NN_API NN_NODISCARD nn_status nn_model_add_dropout(nn_model *model,
                                                   double rate);

/* Since 0.2. Appends batch normalization over the features, as
 * torch.nn.BatchNorm1d defines it, with a learnable scale gamma (the
 * layer's weights, starting at 1) and shift beta (its bias, starting at
 * 0). In training mode, with the batch's per-feature mean m and biased
 * variance v, y = gamma (x - m) / sqrt(v + eps) + beta, and a step that
 * succeeds updates the running statistics: mean_r = (1 - mom) mean_r +
 * mom m and var_r = (1 - mom) var_r + mom v n / (n - 1) (the unbiased
 * variance), for mom = NN_LAYER_MOMENTUM (default 0.1) and eps =
 * NN_LAYER_EPSILON (default 1e-5). They start at 0 and 1 and are the
 * layer's buffers (nn_model_get_layer_buffers). In inference mode
 * y = gamma (x - mean_r) / sqrt(var_r + eps) + beta. A training batch of
 * one row is refused with NN_E_INVALID, as PyTorch refuses it.
 * Returns as nn_model_add_dense. */
NN_API NN_NODISCARD nn_status nn_model_add_batchnorm(nn_model *model);

/* Since 0.2. Appends layer normalization over each row, as
 * torch.nn.LayerNorm(width) defines it: with the row's mean m and biased
 * variance v, y = gamma (x - m) / sqrt(v + eps) + beta, gamma (the layer's
 * weights) starting at 1, beta (its bias) at 0, eps = NN_LAYER_EPSILON
 * (default 1e-5). The same in training and inference mode.
 * Returns as nn_model_add_dense. */
NN_API NN_NODISCARD nn_status nn_model_add_layernorm(nn_model *model);

/* Since 0.2. Appends an activation on its own, y = act(x) (for example
 * after a batch normalization, as torch.nn.ReLU() would stand in a
 * Sequential). Softmax only as the last layer. The activation's setting
 * (NN_LAYER_LEAKY_SLOPE, NN_LAYER_ELU_ALPHA) is the layer's.
 * Returns as nn_model_add_dense. */
NN_API NN_NODISCARD nn_status nn_model_add_activation(nn_model *model,
                                                      nn_activation act);

/* Since 0.2. Appends a fixed per-feature scaling, y_j = x_j scale_j +
 * shift_j, for example to standardise inputs ((x - mean) / sd is
 * scale = 1 / sd, shift = -mean / sd). scale and shift (count floats
 * each, count equal to the layer's width) are copied; they are the
 * layer's buffers, not parameters: training does not change them.
 * Returns as nn_model_add_dense; NN_E_NULL also for scale or shift,
 * NN_E_SHAPE for count, NN_E_INVALID for a value that is not finite. */
NN_API NN_NODISCARD nn_status nn_model_add_scaling(nn_model *model,
                                                   const float *scale,
                                                   const float *shift,
                                                   size_t count);

/* Sets the loss minimised by training. A model has no loss until this is
 * called. Whether the loss fits the output activation is checked when
 * training starts (layers may still be added after this call).
 * Returns NN_OK, NN_E_NULL, NN_E_INVALID (unknown loss). */
NN_API NN_NODISCARD nn_status nn_model_set_loss(nn_model *model, nn_loss loss);

/* The model's shape. nn_model_input_width is 0 and nn_model_layer_count is 0
 * for a NULL model; nn_model_output_width is 0 when there are no layers.
 * nn_model_layer_width gives the output width of layer `layer` (0-based), 0
 * for an index out of range. Thread-safe on a const model. */
NN_API size_t nn_model_input_width(const nn_model *model);
NN_API size_t nn_model_output_width(const nn_model *model);
NN_API size_t nn_model_layer_count(const nn_model *model);
NN_API size_t nn_model_layer_width(const nn_model *model, size_t layer);

/* Since 0.2. What a model is, for printing it in full and for bindings
 * that rebuild it; each returns 0 for a NULL model or a layer index out of
 * range. Thread-safe on a const model.
 * nn_model_layer_kind: the layer's nn_layer_kind.
 * nn_model_layer_activation: the activation of a dense or activation
 *   layer; 0 for the other kinds.
 * nn_model_layer_weight_count, nn_model_layer_bias_count: the floats of
 *   the layer's weights and bias as nn_model_get_weights and
 *   nn_model_get_bias copy them: in x out and out for dense layers, width
 *   and width (gamma and beta) for batch and layer normalization, 0 for
 *   the other kinds.
 * nn_model_layer_buffer_count: the floats of the layer's buffers
 *   (nn_model_get_layer_buffers): 2 x width for batch normalization and
 *   scaling, 0 for the other kinds.
 * nn_model_loss, nn_model_optimizer, nn_model_schedule: the model's
 *   choices (nn_model_loss is 0 until a loss is set). */
NN_API nn_layer_kind nn_model_layer_kind(const nn_model *model, size_t layer);
NN_API nn_activation nn_model_layer_activation(const nn_model *model,
                                               size_t layer);
NN_API size_t nn_model_layer_weight_count(const nn_model *model,
                                          size_t layer);
NN_API size_t nn_model_layer_bias_count(const nn_model *model, size_t layer);
NN_API size_t nn_model_layer_buffer_count(const nn_model *model,
                                          size_t layer);
NN_API nn_loss nn_model_loss(const nn_model *model);

/* ------------------------------------------------------------------------
 * Settings
 *
 * Enum-keyed, so that a new setting is a new enum value and never a new
 * signature. Each key has a default and closed bounds [lo, hi] that
 * nn_param_bounds reports; a value outside them, or NaN, gives NN_E_INVALID
 * and leaves the setting unchanged. Keys marked (whole) also reject values
 * that are not whole numbers (they count steps, epochs or rows, or are
 * switches).
 * ------------------------------------------------------------------------ */
/* Settings of a model (nn_model_set_param, nn_model_get_param). */
typedef enum nn_param {
    /* Base step size of the optimizer; the schedule scales it. Default 0.01,
     * bounds [0, 1e6]. */
    NN_PARAM_LEARNING_RATE = 1,
    /* SGD: momentum mu; RMSprop: momentum of the scaled step. 0 disables.
     * Default 0, bounds [0, 0.9999]. SGD's dampening: NN_PARAM_DAMPENING. */
    NN_PARAM_MOMENTUM = 2,
    /* (whole) SGD: 1 for Nesterov momentum, 0 for classical. Default 0,
     * bounds [0, 1]. Without momentum it has no effect. */
    NN_PARAM_NESTEROV = 3,
    /* Weight decay lambda. SGD, Adam, RMSprop: L2, g += lambda * w.
     * AdamW: decoupled, w -= lr * lambda * w. Default 0 (note: PyTorch's
     * AdamW defaults to 0.01), bounds [0, 1e3]. */
    NN_PARAM_WEIGHT_DECAY = 4,
    /* Adam/AdamW beta1. Default 0.9, bounds [0, 0.9999]. */
    NN_PARAM_BETA1 = 5,
    /* Adam/AdamW beta2. Default 0.999, bounds [0, 0.999999]. */
    NN_PARAM_BETA2 = 6,
    /* Adam/AdamW/RMSprop epsilon. Default 1e-8, bounds [1e-30, 1]. */
    NN_PARAM_EPSILON = 7,
    /* RMSprop smoothing constant alpha. Default 0.99, bounds [0, 0.999999]. */
    NN_PARAM_RMSPROP_ALPHA = 8,
    /* Gradient clipping: if the global L2 norm of all gradients exceeds this,
     * every gradient is scaled by clip / (norm + 1e-6), as PyTorch's
     * clip_grad_norm_ does, before weight decay. 0 disables. Default 0,
     * bounds [0, 1e30]. */
    NN_PARAM_CLIP_NORM = 9,
    /* (whole) Schedules (see nn_model_set_schedule), counted in optimizer
     * steps. Step decay: lr * gamma^floor(t / step_size). Default 1000,
     * bounds [1, 1e15]. */
    NN_PARAM_SCHED_STEP_SIZE = 10,
    /* Step and exponential decay factor gamma. Default 0.1, bounds [0, 1]. */
    NN_PARAM_SCHED_GAMMA = 11,
    /* (whole) Cosine annealing period T_max in steps. Default 1000, bounds
     * [1, 1e15]. */
    NN_PARAM_SCHED_T_MAX = 12,
    /* Cosine annealing floor eta_min, an absolute learning rate. Default 0,
     * bounds [0, 1e6]. */
    NN_PARAM_SCHED_ETA_MIN = 13,
    /* (whole) Linear warm-up length W in steps: step s < W (counting from
     * 0) uses lr * (s + 1) / W, and the schedule proper starts at t = s -
     * W. Default 0 (none), bounds [0, 1e15]. */
    NN_PARAM_WARMUP_STEPS = 14,
    /* (whole) nn_model_fit: passes over the training data. Default 10, bounds
     * [1, 1e9]. */
    NN_PARAM_EPOCHS = 15,
    /* (whole) nn_model_fit: rows per step; the last batch of an epoch holds
     * the remainder. Default 32, bounds [1, 1e9]. */
    NN_PARAM_BATCH_SIZE = 16,
    /* (whole) nn_model_fit: 1 shuffles the rows every epoch with the model's
     * generator, 0 keeps their order. Default 1, bounds [0, 1]. */
    NN_PARAM_SHUFFLE = 17,
    /* (whole) nn_model_fit: early stopping. Stop after this many epochs
     * without a lower monitored loss (the validation loss, or the training
     * loss when there is no validation set) and restore the weights of the
     * best epoch. 0 disables. Default 0, bounds [0, 1e9]. */
    NN_PARAM_PATIENCE = 18,
    /* Since 0.2. Gradient clipping by value: every gradient is clamped to
     * [-clip, clip], as PyTorch's clip_grad_value_ does, before clipping by
     * norm (NN_PARAM_CLIP_NORM) and weight decay. 0 disables. Default 0,
     * bounds [0, 1e30]. */
    NN_PARAM_CLIP_VALUE = 19,
    /* Since 0.2. (whole) Adam and AdamW: 1 for the AMSGrad variant, which
     * divides by the largest second moment so far. Default 0, bounds
     * [0, 1]. */
    NN_PARAM_AMSGRAD = 20,
    /* Since 0.2. (whole) RMSprop: 1 for the centered variant, which
     * divides by an estimate of the gradient's variance instead of its
     * second moment. Default 0, bounds [0, 1]. */
    NN_PARAM_CENTERED = 21,
    /* Since 0.2. SGD: dampening tau of the momentum, b = mu b + (1 - tau) g
     * from the second step on. Default 0, bounds [0, 1]. */
    NN_PARAM_DAMPENING = 22,
    /* Since 0.2. NN_LOSS_HUBER: where the loss turns from quadratic to
     * linear. Default 1, bounds [1e-12, 1e30]. */
    NN_PARAM_HUBER_DELTA = 23,
    /* Since 0.2. NN_LOSS_CROSS_ENTROPY: label smoothing e (see nn_loss).
     * Default 0, bounds [0, 1]. */
    NN_PARAM_LABEL_SMOOTHING = 24
} nn_param;

/* Sets a setting of the model, read by the steps and fits that follow.
 * Keys whose bounds are counts or flags (steps, epochs, batch size,
 * Nesterov, shuffle, patience) take whole numbers only.
 * Returns NN_OK, NN_E_NULL, NN_E_INVALID (unknown key; a value outside the
 * key's bounds, NaN, or a fraction for a whole-number key: the setting is
 * unchanged). */
NN_API NN_NODISCARD nn_status nn_model_set_param(nn_model *model,
                                                 nn_param key, double value);
/* *value receives the current value of a setting (its default until set).
 * Returns NN_OK, NN_E_NULL (model, value), NN_E_INVALID (unknown key). */
NN_API NN_NODISCARD nn_status nn_model_get_param(const nn_model *model,
                                                 nn_param key, double *value);
/* Bounds and default of a key, for FFI users who do not parse this header.
 * Any of lo, hi, def may be NULL. Returns NN_OK or NN_E_INVALID. */
NN_API NN_NODISCARD nn_status nn_param_bounds(nn_param key, double *lo,
                                              double *hi, double *def);

/* Per-layer settings. Each kind of layer has its own: dense and
 * activation layers NN_LAYER_LEAKY_SLOPE and NN_LAYER_ELU_ALPHA (dense
 * layers also NN_LAYER_INIT), dropout NN_LAYER_DROPOUT_RATE, batch
 * normalization NN_LAYER_MOMENTUM and NN_LAYER_EPSILON, layer
 * normalization NN_LAYER_EPSILON; scaling has none. */
typedef enum nn_layer_param {
    /* Slope of a leaky relu layer for z <= 0. Default 0.01, bounds [0, 1].
     * Stored as a float, so the getter returns the value rounded to float.
     * May be set on a layer of any activation; only leaky relu uses it. */
    NN_LAYER_LEAKY_SLOPE = 1,
    /* Since 0.2. alpha of an ELU layer. Default 1, bounds [0, 1e3].
     * Stored as a float, as NN_LAYER_LEAKY_SLOPE. */
    NN_LAYER_ELU_ALPHA = 2,
    /* Since 0.2. (whole) How a dense layer's weights are drawn: an
     * nn_init. Setting it draws the layer's weights anew from the model's
     * generator and sets its bias to zero, as adding the layer did; it does
     * not reset the optimizer. Default NN_INIT_AUTO, bounds [1, 6]. */
    NN_LAYER_INIT = 3,
    /* Since 0.2. Dropout's drop probability. Bounds [0, 0.999999]; set by
     * nn_model_add_dropout. */
    NN_LAYER_DROPOUT_RATE = 4,
    /* Since 0.2. Batch normalization: the momentum of the running
     * statistics. Default 0.1, bounds [0, 1]. */
    NN_LAYER_MOMENTUM = 5,
    /* Since 0.2. Batch and layer normalization: eps added to the variance.
     * Default 1e-5, bounds [1e-30, 1]. */
    NN_LAYER_EPSILON = 6
} nn_layer_param;

/* Since 0.2. Weight initialisations for NN_LAYER_INIT, as PyTorch's
 * torch.nn.init functions define them for a layer of in inputs and out
 * outputs (uniform ones draw U(-a, a), normal ones N(0, s^2)). */
typedef enum nn_init {
    NN_INIT_AUTO = 1,           /* He-uniform or Glorot-uniform by the
                                   activation (nn_model_add_dense) */
    NN_INIT_GLOROT_UNIFORM = 2, /* a = sqrt(6 / (in + out)) */
    NN_INIT_GLOROT_NORMAL = 3,  /* s = sqrt(2 / (in + out)) */
    NN_INIT_HE_UNIFORM = 4,     /* a = sqrt(6 / in) */
    NN_INIT_HE_NORMAL = 5,      /* s = sqrt(2 / in) */
    NN_INIT_LECUN_NORMAL = 6    /* s = sqrt(1 / in) */
} nn_init;

/* Set and read a setting of layer `layer` (0-based). A layer's settings
 * start at their defaults when it is added. NN_LAYER_LEAKY_SLOPE and
 * NN_LAYER_ELU_ALPHA are stored as floats, so get returns
 * (double)(float)value; the others as given.
 * Returns NN_OK, NN_E_NULL (model; value for get), NN_E_INVALID (layer out
 * of range, unknown key, a key the layer's kind does not have, value
 * outside the bounds or NaN). */
NN_API NN_NODISCARD nn_status nn_model_set_layer_param(nn_model *model,
                                                       size_t layer,
                                                       nn_layer_param key,
                                                       double value);
NN_API NN_NODISCARD nn_status nn_model_get_layer_param(const nn_model *model,
                                                       size_t layer,
                                                       nn_layer_param key,
                                                       double *value);
/* Bounds and default of a per-layer key, as nn_param_bounds. */
NN_API NN_NODISCARD nn_status nn_layer_param_bounds(nn_layer_param key,
                                                    double *lo, double *hi,
                                                    double *def);

/* Since 0.2. The name of an enum value, as a static lowercase identifier
 * for messages, files and command lines: nn_param_name(
 * NN_PARAM_LEARNING_RATE) is "learning_rate", nn_activation_name(
 * NN_ACT_LEAKY_RELU) "leaky_relu", nn_layer_kind_name(NN_KIND_BATCHNORM)
 * "batchnorm" (each is the enum value's name after its prefix, in lower
 * case). NULL for a value that is not one of the enum's, so a binding can
 * list every value by counting up from 1 until NULL. Thread-safe. */
NN_API const char *nn_param_name(nn_param key);
NN_API const char *nn_layer_param_name(nn_layer_param key);
NN_API const char *nn_activation_name(nn_activation act);
NN_API const char *nn_loss_name(nn_loss loss);
NN_API const char *nn_layer_kind_name(nn_layer_kind kind);
NN_API const char *nn_init_name(nn_init init);

/* Since 0.2. Class weights for NN_LOSS_CROSS_ENTROPY (see nn_loss): count
 * floats, finite and >= 0, one per class, copied into the model; count 0
 * removes them (w may then be NULL). Training and evaluation need count to
 * equal the output width (NN_E_STATE otherwise) and the cross-entropy loss
 * (NN_E_STATE with another). A batch whose rows' classes all weigh 0 has a
 * loss of 0 / 0, which its step rejects (NN_E_NONFINITE).
 * Returns NN_OK, NN_E_NULL (model; w with count > 0), NN_E_INVALID (a
 * value that is negative or not finite, count above 2^31 - 1),
 * NN_E_NOMEM. */
NN_API NN_NODISCARD nn_status nn_model_set_class_weights(nn_model *model,
                                                         const float *w,
                                                         size_t count);
/* Since 0.2. The number of class weights (0: none, or a NULL model), and a
 * copy of them: count must equal that number.
 * Returns NN_OK, NN_E_NULL, NN_E_SHAPE (count). Thread-safe on a const
 * model. */
NN_API size_t nn_model_class_weight_count(const nn_model *model);
NN_API NN_NODISCARD nn_status nn_model_get_class_weights(
    const nn_model *model, float *w, size_t count);

/* Since 0.2. Metadata: text the model carries and its files keep, for
 * example class names or how the inputs were prepared. A key is 1 to 255
 * bytes, a value at most 2^24 bytes; both end at their NUL and are copied.
 * A model holds at most 1024 keys.
 * Setting a key that exists replaces its value in place; a NULL value
 * removes the key. nn_model_get_meta returns the value of key, or NULL if
 * it has none; nn_model_meta_count and nn_model_meta_key list the keys in
 * the order they were first set. Returned strings belong to the model and
 * stay valid until the next call that changes its metadata or frees it.
 * The getters are thread-safe on a const model.
 * nn_model_set_meta returns NN_OK, NN_E_NULL (model, key), NN_E_INVALID
 * (an empty or too long key, a too long value, a 1025th key), NN_E_NOMEM.
 */
NN_API NN_NODISCARD nn_status nn_model_set_meta(nn_model *model,
                                                const char *key,
                                                const char *value);
NN_API const char *nn_model_get_meta(const nn_model *model, const char *key);
NN_API size_t nn_model_meta_count(const nn_model *model);
NN_API const char *nn_model_meta_key(const nn_model *model, size_t index);

/* ------------------------------------------------------------------------
 * Prediction and training
 * ------------------------------------------------------------------------ */

/* Forward pass of n rows: x is n x x_width, y receives n x y_width floats.
 * x_width must equal the input width and y_width the output width.
 * Does not change the model: it may run on one model from many threads at
 * once. Works through at most 256 rows at a time, whatever n is, in
 * scratch memory that the model keeps for the next call (freed with it):
 * once the model has predicted min(n, 256) rows, a call allocates nothing,
 * unless another thread is predicting on the same model at that moment
 * (the two calls then never share scratch; one allocates its own) or the
 * parameters changed since the last call (see below).
 * Where the CPU has AVX-512F, or AVX2 and FMA (x86-64; libnn built with
 * GCC or clang and NN_KERNEL on, the default), the dense layers' products
 * run in libnn's own kernel, on the calling thread, rather than in the
 * BLAS: all but the tiniest (fewer than 8 multiply-adds), a rule on the
 * product's shape measured on such CPUs. The choice is made once per
 * process, from the CPU and from the environment variable NN_GEMM
 * (NN_GEMM=blas, set before the first call, keeps the BLAS for every
 * product; NN_GEMM=avx2 runs the AVX2 build even where the CPU has
 * AVX-512F), so results are the same from run to run for a given build,
 * CPU and thread count (a product of a few rows that goes to OpenBLAS
 * while it has two or more threads is given to it in parts, as
 * nn_model_train_batch says). The kernel's AVX-512 and AVX2 builds give the
 * same bits; its results differ from the BLAS's by float rounding, and a
 * row's do not depend on n or on the other rows. The kernel reads a copy of the
 * dense layers' weights laid out for it, which the first call after the
 * parameters change builds and the model keeps (as many bytes as those
 * weights; freed with the model, and dropped by every change to the
 * parameters); if that copy cannot be allocated, the call reads the
 * weights where they are, with the same results, more slowly, and a later
 * call tries again. No copy is built while a pointer from
 * nn_model_params is out (until the next nn_model_add_* call): those calls
 * read the weights where they are.
 * Returns NN_OK, NN_E_NULL, NN_E_INVALID (n 0), NN_E_SHAPE, NN_E_STATE (no
 * layers), NN_E_OVERFLOW, NN_E_NOMEM (the scratch, never the copy). */
NN_API NN_NODISCARD nn_status nn_model_predict(const nn_model *model,
                                               size_t n, const float *x,
                                               size_t x_width, float *y,
                                               size_t y_width);

/* One training step on a batch of n rows: forward pass, loss, backward pass
 * and an update of every weight and bias with plain gradient descent,
 * w -= learning_rate * dL/dw.
 * t holds n x t_width targets; t_width must equal the output width. If loss
 * is not NULL it receives the batch loss computed before the update.
 * The first step at a batch size larger than any before grows the model's
 * workspace; later steps at that size or smaller allocate nothing.
 * A batch with little arithmetic (n times the net's multiply-adds per row at
 * most 320: a 2-2-1 net up to 53 rows) runs through direct loops rather
 * than BLAS, which costs more than such a batch's arithmetic. The two agree
 * to float rounding, and which one runs depends only on the layers and n,
 * not on earlier calls. Where the CPU has AVX-512F, the products run in
 * libnn's own kernel rather than the BLAS, as nn_model_predict describes,
 * each as a rule on its shape says (the forward products at any n, the
 * others from a few rows on); where it has AVX2 and FMA but not AVX-512F,
 * only the products of layers of at most 16 outputs do (forward at any n,
 * backward from 16 rows, the weights' gradient from 128), measured against
 * the BLAS's own AVX2 kernels. With AVX-512F, a product of 2^26
 * multiply-adds or more (784-1024-1024-10 from 64 rows, say) runs on two
 * threads where the BLAS has two (nn_set_blas_threads; OpenBLAS's default
 * on a machine of two cores), with the same bits as on one, and goes to
 * the BLAS and its threads from 2^27 where it has more than two; where
 * the BLAS has two or more, a product of a few rows that the BLAS would
 * run on its threads (above 2^18 multiply-adds) runs in the kernel on the
 * calling thread instead, and its results may differ from one thread's
 * by float rounding. A product that goes to OpenBLAS while it has two
 * or more threads (the kernel's AVX2 build, NN_GEMM=blas, other CPUs)
 * and that has at most 16 rows in the batch and more than 2^18 but at
 * most 2^23 multiply-adds is given to it in parts of at most 2^18, which
 * OpenBLAS forms on the calling thread, one after the other (its threads
 * cost more than they share there); those results, too, may differ from
 * one thread's by float rounding. So the choice depends on the layers, n
 * and the BLAS's thread count, and a dense layer's
 * forward product through the kernel gives each row the same bits
 * whatever the other rows of the batch, and the same bits as
 * nn_model_predict, as the BLAS's need not.
 * The layers run in training mode (see the Overview); a step that succeeds
 * also updates the running statistics of batch normalization layers, and
 * one row is too few for a model with such a layer (NN_E_INVALID).
 * If the loss or any gradient is NaN or infinite, or an updated parameter
 * would be, the step returns NN_E_NONFINITE and leaves every weight, bias,
 * running statistic and optimizer state exactly as it was; *loss still
 * receives the loss computed.
 * The gradient buffer (nn_model_grads) is scratch: after a step its
 * contents are unspecified, except that a rejected step leaves the
 * rejected gradients there. (SGD without clipping or Nesterov momentum,
 * on a batch that does not take the small-net path, does not store dL/dW:
 * plain SGD adds -learning_rate * dL/dW to the weights inside the matrix
 * product that forms dL/dW; with momentum that product adds
 * (1 - dampening) * dL/dW to the momentum buffer, and the weights then
 * move by -learning_rate times the buffer. The result agrees with
 * nn_model_compute_grads followed by nn_model_apply_grads to float
 * rounding. Every other step is exactly those two calls.)
 * Inputs and targets are not scanned for NaN or infinity before the step: a
 * non-finite value makes the loss or a gradient non-finite, and the step
 * finds that after the backward pass, in one pass over the gradients or
 * (folded SGD) over the parameters or the momentum buffer, the products'
 * inputs and the deltas
 * (the cost is O(parameters + n x widths), against O(n x parameters) for
 * the products) and rejects it. A NaN input therefore costs little on the
 * good path and never reaches the weights. One step takes at most 2^31 - 1 rows (BLAS
 * takes int dimensions); more gives NN_E_OVERFLOW.
 * Returns NN_OK, NN_E_NULL, NN_E_INVALID (n 0; n 1 with batch
 * normalization; a misaligned array), NN_E_SHAPE, NN_E_STATE (no layers,
 * no loss, a loss that does not fit the output activation, class weights
 * that do not fit the output width or the loss), NN_E_OVERFLOW,
 * NN_E_NOMEM, NN_E_NONFINITE. */
NN_API NN_NODISCARD nn_status nn_model_train_batch(nn_model *model, size_t n,
                                                   const float *x,
                                                   size_t x_width,
                                                   const float *t,
                                                   size_t t_width,
                                                   double *loss);

/* As nn_model_train_batch, with the targets given as n class labels in
 * [0, output width), for NN_LOSS_CROSS_ENTROPY only (NN_E_STATE otherwise).
 * A label out of range gives NN_E_INVALID. */
NN_API NN_NODISCARD nn_status nn_model_train_batch_labels(
    nn_model *model, size_t n, const float *x, size_t x_width,
    const int32_t *labels, double *loss);

/* Forward and backward passes without an update: afterwards the model's
 * gradient buffer holds dL/dW and dL/db of this batch (read it with
 * nn_model_get_layer_grads or nn_model_grads) and nn_model_apply_grads can
 * apply it. Arguments, statuses and allocation as nn_model_train_batch; on
 * NN_E_NONFINITE the gradients are kept so the caller can inspect them.
 * The layers run in training mode, with the dropout masks of the step
 * that follows (nn_model_step_count), and a call that succeeds updates the
 * running statistics of batch normalization, as a forward pass of a
 * PyTorch module in training mode does: compute_grads followed by
 * apply_grads is one training step. */
NN_API NN_NODISCARD nn_status nn_model_compute_grads(nn_model *model, size_t n,
                                                     const float *x,
                                                     size_t x_width,
                                                     const float *t,
                                                     size_t t_width,
                                                     double *loss);
NN_API NN_NODISCARD nn_status nn_model_compute_grads_labels(
    nn_model *model, size_t n, const float *x, size_t x_width,
    const int32_t *labels, double *loss);

/* Applies the gradient buffer to the parameters, as the update half of
 * nn_model_train_batch does (to float rounding where that step folds plain
 * SGD into its products; see nn_model_train_batch). The caller may have
 * changed the gradients through nn_model_grads first. Returns NN_OK, NN_E_NULL, NN_E_STATE (no
 * layers), NN_E_NONFINITE (a gradient or an updated parameter is not finite;
 * nothing changed). */
NN_API NN_NODISCARD nn_status nn_model_apply_grads(nn_model *model);

/* ------------------------------------------------------------------------
 * Optimizers and learning-rate schedules
 *
 * The update rules are those PyTorch documents for torch.optim.SGD, Adam,
 * AdamW and RMSprop, with g the gradient after clipping, lr the scheduled
 * learning rate and t the step count from 1:
 *
 *   SGD      g += wd w;  b = mu b + (1-tau) g (b = g at t = 1);
 *            w -= lr (nesterov ? g + mu b : b)     (w -= lr g if mu = 0)
 *   Adam     g += wd w;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *            amsgrad: vmax = max(vmax, v), used in place of v below;
 *            w -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 *   AdamW    w -= lr wd w;  then Adam without the g += wd w term
 *   RMSprop  g += wd w;  v = a v + (1-a) g^2;
 *            centered: c = a c + (1-a) g, and v - c^2 (at least 0) in
 *            place of v below;
 *            mu > 0: b = mu b + g / (sqrt(v) + eps); w -= lr b
 *            mu = 0: w -= lr g / (sqrt(v) + eps)
 *
 * (tau is NN_PARAM_DAMPENING; PyTorch refuses Nesterov with dampening,
 * libnn applies the formula. Centered RMSprop's v - c^2 is never negative
 * in exact arithmetic; libnn clamps a rounding below 0 to 0, where PyTorch
 * would take the square root of a negative number.)
 *
 * An update is all or nothing: if any gradient, new parameter or new state
 * value would be NaN or infinite, nothing changes and the step returns
 * NN_E_NONFINITE. The optimizer's state (momentum buffers, moments, step
 * count) is allocated at the first step after the optimizer is chosen.
 * ------------------------------------------------------------------------ */
/* Optimizers (nn_model_set_optimizer), updating as described above. */
typedef enum nn_optimizer {
    NN_OPT_SGD = 1,     /* the default */
    NN_OPT_ADAM = 2,
    NN_OPT_ADAMW = 3,
    NN_OPT_RMSPROP = 4
} nn_optimizer;

/* Chooses the optimizer and resets its state and the step count (so the
 * schedule restarts too). Settings are kept. Setting the current optimizer
 * again also resets.
 * Returns NN_OK, NN_E_NULL, NN_E_INVALID (unknown kind). */
NN_API NN_NODISCARD nn_status nn_model_set_optimizer(nn_model *model,
                                                     nn_optimizer kind);

/* Learning-rate schedules (nn_model_set_schedule), with t the step count
 * less the warm-up. */
typedef enum nn_schedule {
    NN_SCHED_CONSTANT = 1,    /* lr; the default */
    NN_SCHED_STEP = 2,        /* lr * gamma^floor(t / step_size) */
    NN_SCHED_EXPONENTIAL = 3, /* lr * gamma^t */
    NN_SCHED_COSINE = 4       /* eta_min + (lr - eta_min)
                                 * (1 + cos(pi * min(t, T_max) / T_max)) / 2 */
} nn_schedule;

/* Chooses how the learning rate follows the step count (t = steps taken
 * since the optimizer was chosen, less the warm-up). Does not reset the step
 * count. Returns NN_OK, NN_E_NULL, NN_E_INVALID. */
NN_API NN_NODISCARD nn_status nn_model_set_schedule(nn_model *model,
                                                    nn_schedule kind);

/* Since 0.2. The model's optimizer and schedule (0 for a NULL model), and
 * their names, as nn_param_name. */
NN_API nn_optimizer nn_model_optimizer(const nn_model *model);
NN_API nn_schedule nn_model_schedule(const nn_model *model);
NN_API const char *nn_optimizer_name(nn_optimizer kind);
NN_API const char *nn_schedule_name(nn_schedule kind);

/* The number of updates applied since the optimizer was chosen. 0 for a
 * NULL model. */
NN_API uint64_t nn_model_step_count(const nn_model *model);

/* The learning rate the next update will use (schedule and warm-up
 * applied). Returns NN_OK, NN_E_NULL. */
NN_API NN_NODISCARD nn_status nn_model_current_lr(const nn_model *model,
                                                  double *lr);

/* ------------------------------------------------------------------------
 * Data parallelism: a batch split among processes
 *
 * Since 0.2. A data-parallel step (libnn_mpi does this on MPI; any other
 * transport can) splits one global batch of G rows among P processes that
 * hold the same model. Each process says which rows it has
 * (nn_model_set_batch_part) and calls nn_model_compute_grads on them: the
 * gradient it forms is its rows' share of the gradient of the global
 * batch's mean loss, so the sum of the P gradient buffers is the gradient
 * of the whole batch. Summed into every process's buffer (an all-reduce of
 * nn_model_grads), nn_model_apply_grads then takes the same step
 * everywhere, and the result does not depend on P (up to the order of the
 * sums). Dropout draws each row's mask from its place in the global batch,
 * so the masks are those one process would draw.
 *
 * What needs the whole batch goes through a reducer the caller gives
 * (nn_model_set_reducer): batch normalization's per-feature sums, forward
 * and backward; cross-entropy's class-weighted normaliser; and, at the
 * end of the pass, the loss and the count of processes that found a
 * gradient not finite, so that every process reports the same loss and
 * refuses (NN_E_NONFINITE) or accepts the pass alike. Every process calls
 * the reducer the same number of times with the same counts, in the same
 * order (the model's layers decide them), and a process with no rows of
 * this batch (n = 0) still calls nn_model_compute_grads to take part.
 *
 * nn_model_set_replica goes further: it gives the model the gradients'
 * reducer too, and then nn_model_fit, nn_model_train_batch and
 * nn_model_evaluate split their work among the processes themselves.
 * ------------------------------------------------------------------------ */

/* Sums values[0, count) over every process taking part, leaving the sums
 * in values on every process (each process must get the same sums, bit for
 * bit: an MPI_Allreduce whose result every rank shares, for example).
 * Returns 0, or non-zero on failure (the pass then fails with
 * NN_E_REDUCE on this process, and on every process when the failure came
 * before the pass's last reduction). A transport whose failures strike
 * one process alone can leave the others waiting; MPI's collectives fail
 * on every rank. */
typedef int (*nn_reduce_fn)(void *user, double *values, size_t count);

/* Since 0.2. Sets the reducer of data-parallel passes; NULL removes it.
 * user is passed to it. Returns NN_OK, NN_E_NULL (model). */
NN_API NN_NODISCARD nn_status nn_model_set_reducer(nn_model *model,
                                                   nn_reduce_fn reduce,
                                                   void *user);

/* Since 0.2. The rows of the following nn_model_compute_grads(_labels)
 * calls are rows [first_row, first_row + n) of a global batch of
 * global_rows rows; global_rows 0 (the default) ends this, and passes see
 * whole batches again. While it holds: compute_grads normalises the loss
 * and its gradient by the global batch (so the buffers of the parts sum to
 * the whole's gradient), takes n = 0, refuses n with first_row + n above
 * global_rows (NN_E_SHAPE), needs a reducer where the model has batch
 * normalization or class weights (NN_E_STATE), and its *loss is the whole
 * batch's when a reducer is set (else this part's share). nn_model_fit
 * refuses (NN_E_STATE: it splits batches itself, see
 * nn_model_set_replica), and so does nn_model_train_batch(_labels) unless
 * the model is a replica with a gradient reducer: reduce the gradients,
 * then nn_model_apply_grads. Not saved in model files.
 * Returns NN_OK, NN_E_NULL (model), NN_E_INVALID (first_row not below
 * global_rows, global_rows above 2^31 - 1). */
NN_API NN_NODISCARD nn_status nn_model_set_batch_part(nn_model *model,
                                                      size_t first_row,
                                                      size_t global_rows);

/* Since 0.2. Called during nn_model_compute_grads(_labels) as soon as the
 * gradients of layer `layer` are final in the gradient buffer: count
 * floats at offset in nn_model_grads's buffer (its weights then its bias),
 * from the last layer to the first, for the layers that have parameters.
 * A data-parallel transport can start reducing them while the earlier
 * layers' are still being formed. The callback may read the gradient
 * buffer and must not call libnn on the model. */
typedef void (*nn_grads_ready_fn)(void *user, size_t layer, size_t offset,
                                  size_t count);

/* Since 0.2. Sets that callback; NULL removes it. Returns NN_OK,
 * NN_E_NULL (model). */
NN_API NN_NODISCARD nn_status nn_model_set_grads_ready(nn_model *model,
                                                       nn_grads_ready_fn fn,
                                                       void *user);

/* Sums grads[0, count) over every process taking part, in place, leaving
 * the same bits on every process. It may first finish reductions started
 * from an nn_grads_ready_fn. Returns 0, or non-zero on failure. */
typedef int (*nn_reduce_grads_fn)(void *user, float *grads, size_t count);

/* Since 0.2. Makes this process replica `rank` of `count` processes that
 * train one model together, each holding the same model (same parameters,
 * settings, optimizer state and generator: save one process's checkpoint
 * and load it in the others) and the same reducer (nn_model_set_reducer).
 * reduce_grads sums the gradient buffer; user is passed to it. count 0
 * ends this (rank and reduce_grads are then ignored); count 1 is one
 * process, and every call works as without it. With count of 2 or more:
 *
 * - nn_model_fit and nn_model_fit_resume take the same datasets on every
 *   replica (every row: each dataset is a view, so the rows can be a
 *   shared or memory-mapped file) and run the same epochs, in the same
 *   order, with the same global batches as one process would; of each
 *   global batch of k rows, replica r trains on rows [k r / count,
 *   k (r+1) / count) of it, the gradients are summed with reduce_grads,
 *   and every replica takes the same step. Losses, validation and early
 *   stopping are the whole batch's and the whole set's on every replica,
 *   the callbacks are called on every replica with the same values, and a
 *   stop or an interruption asked for by any replica's callback stops or
 *   interrupts all of them at the same step. An interrupted run is the
 *   same on every replica: one replica saves the checkpoint, and the run
 *   resumes with any number of replicas (or none).
 * - nn_model_train_batch(_labels) takes this replica's rows of a batch
 *   given with nn_model_set_batch_part, sums the gradients and steps.
 * - nn_model_evaluate takes the whole set on every replica, evaluates
 *   rows [n r / count, n (r+1) / count) of it and sums, so every replica
 *   gets the whole set's loss and accuracy.
 *
 * A failing reducer makes these calls fail with NN_E_REDUCE. The result
 * equals one process's to float rounding (the sums' order differs); with
 * count 1 it is bit for bit one process's. Not saved in model files.
 * Returns NN_OK, NN_E_NULL (model; reduce_grads with count above 1),
 * NN_E_INVALID (rank not below count, count above 65536). */
NN_API NN_NODISCARD nn_status nn_model_set_replica(
    nn_model *model, size_t rank, size_t count,
    nn_reduce_grads_fn reduce_grads, void *user);

/* ------------------------------------------------------------------------
 * Datasets, fit and evaluation
 * ------------------------------------------------------------------------ */

/* A dataset is a view of the caller's arrays, not a copy: x (n x x_width)
 * and t (n x t_width) or labels (n) must stay valid and unchanged until
 * nn_data_free. Creating one checks the arguments (NULL, zero sizes,
 * n x width overflow) and, for labels, that none is negative; widths are
 * checked against a model when it is used. On failure *out is NULL. Datasets
 * have no row limit beyond memory: fit and evaluate work through them in
 * slices. */
typedef struct nn_data nn_data;

/* Create a dataset of n rows: targets t (n x t_width floats, for any loss)
 * or class labels (n, for NN_LOSS_CROSS_ENTROPY). On success *out is the new
 * dataset, owned by the caller and released with nn_data_free.
 * Returns NN_OK, NN_E_NULL (out, x, t or labels), NN_E_INVALID (n or a width
 * 0, a negative label), NN_E_OVERFLOW, NN_E_NOMEM. */
NN_API NN_NODISCARD nn_status nn_data_create(nn_data **out, size_t n,
                                             const float *x, size_t x_width,
                                             const float *t, size_t t_width);
NN_API NN_NODISCARD nn_status nn_data_create_labels(nn_data **out, size_t n,
                                                    const float *x,
                                                    size_t x_width,
                                                    const int32_t *labels);
/* Since 0.2. As nn_data_create and nn_data_create_labels for inputs held
 * as bytes (images, say): x is n x x_width uint8_t values, each of which
 * the model reads as the float of the same value, 0 to 255 (no scaling; a
 * scaling layer or the first layer's weights do that); x needs no
 * alignment. Fit and evaluate convert the rows they read (fit's batch,
 * evaluate's slices of at most 256 rows), so the set takes a quarter of
 * the memory its floats would, and every result is bit for bit the one of
 * a float dataset holding the same values. Returns as nn_data_create and
 * nn_data_create_labels. */
NN_API NN_NODISCARD nn_status nn_data_create_u8(nn_data **out, size_t n,
                                                const uint8_t *x,
                                                size_t x_width,
                                                const float *t,
                                                size_t t_width);
NN_API NN_NODISCARD nn_status nn_data_create_labels_u8(nn_data **out,
                                                       size_t n,
                                                       const uint8_t *x,
                                                       size_t x_width,
                                                       const int32_t *labels);
/* Releases the dataset, not the caller's arrays. NULL is a no-op. */
NN_API void nn_data_free(nn_data *data);
/* Rows in the dataset; 0 for NULL. */
NN_API size_t nn_data_rows(const nn_data *data);

/* Called by nn_model_fit after each epoch (counted from 1). train_loss is the
 * mean loss of the epoch's steps weighted by their rows; val_loss and
 * val_accuracy are measured on the validation set after the epoch (NaN
 * without one; accuracy is NaN unless it is defined, see
 * nn_model_evaluate); seconds is the wall time since fit started. Return 0
 * to go on, a positive value to stop after this epoch (fit then returns
 * NN_OK), a negative value to interrupt the run (see nn_model_fit_resume;
 * since 0.2: before, any non-zero value stopped). */
typedef int (*nn_epoch_fn)(void *user, size_t epoch, double train_loss,
                           double val_loss, double val_accuracy,
                           double seconds);

/* Called by nn_model_fit after each step: batch counts from 1 to batches
 * within the epoch, loss is the step's batch loss. Return 0 to go on, a
 * positive value to stop at once (fit returns NN_OK), a negative value to
 * interrupt the run at once (see nn_model_fit_resume). */
typedef int (*nn_batch_fn)(void *user, size_t epoch, size_t batch,
                           size_t batches, double loss);

/* Trains on `train` for NN_PARAM_EPOCHS epochs of mini-batches of
 * NN_PARAM_BATCH_SIZE rows, shuffled every epoch from the model's generator
 * when NN_PARAM_SHUFFLE is 1 (so the same seed gives the same run, bit for
 * bit), with early stopping when NN_PARAM_PATIENCE > 0. val may be NULL.
 * on_epoch and on_batch may be NULL; user is passed to them.
 * Allocates everything it needs at the start (the workspace, the optimizer
 * state, a permutation, batch buffers, scratch for validation, a copy of the
 * best weights for early stopping): an NN_E_NOMEM comes before the first
 * step and leaves the parameters as they were; the steps allocate
 * nothing.
 * When fit ends with NN_PARAM_PATIENCE > 0 and at least one epoch done, for
 * whatever reason (epochs run out, early stop, a callback's stop), the model
 * holds the parameters of the epoch with the lowest monitored loss; the
 * optimizer's state and step count are not rolled back.
 * If a step fails (NN_E_NONFINITE), fit stops and returns that status; the
 * model keeps the parameters of the last good step. A fit that fails
 * before its first step succeeds changes nothing (not the generator, nor
 * the optimizer's state, nor an interrupted run).
 * A callback that returns a negative value interrupts the run instead: fit
 * returns NN_OK at once and the model keeps the parameters of the last
 * step (no early-stopping restore), and remembers where the run stands
 * (epoch, batch, the epoch's order, the loss so far, early stopping's best
 * epoch and its parameters); a checkpoint saved then holds that too.
 * nn_model_fit_resume continues such a run.
 * The callbacks may call functions that take a const nn_model * (predict,
 * evaluate, get_weights, nn_model_save, ...) on the model being fitted,
 * and nothing else on it.
 * Validation runs the layers in inference mode. With batch normalization,
 * a training set, or a last batch of an epoch, of one row is refused before
 * the first step (NN_E_INVALID; choose another batch size).
 * Returns NN_OK, NN_E_NULL, NN_E_SHAPE (widths), NN_E_INVALID (a label out
 * of range; one row with batch normalization), NN_E_STATE (as
 * nn_model_train_batch), NN_E_NOMEM, NN_E_OVERFLOW, NN_E_NONFINITE. */
NN_API NN_NODISCARD nn_status nn_model_fit(nn_model *model,
                                           const nn_data *train,
                                           const nn_data *val,
                                           nn_epoch_fn on_epoch,
                                           nn_batch_fn on_batch, void *user);

/* Since 0.2. Continues the run that a callback of nn_model_fit
 * interrupted (a negative return), on the same model or on one loaded
 * from a checkpoint saved after the interruption: the rest of the epoch in
 * the same order, then further epochs up to NN_PARAM_EPOCHS, exactly as if
 * the run had not been interrupted, so that the final model is the same,
 * bit for bit (given the same data, BLAS and thread count). Callbacks see
 * the epochs and batches numbered as in the unbroken run. A resumed run
 * can be interrupted and resumed again. nn_model_fit, nn_model_set_optimizer
 * and every nn_model_add_* call end an interrupted run.
 * Returns as nn_model_fit; NN_E_STATE also when the model has no
 * interrupted run, or when train's row count or NN_PARAM_BATCH_SIZE is not
 * the run's. */
NN_API NN_NODISCARD nn_status nn_model_fit_resume(nn_model *model,
                                                  const nn_data *train,
                                                  const nn_data *val,
                                                  nn_epoch_fn on_epoch,
                                                  nn_batch_fn on_batch,
                                                  void *user);

/* Loss and accuracy of the model on a dataset, without training. loss and
 * accuracy may each be NULL. Accuracy is the fraction of rows classified
 * right: for labels, or targets of width > 1, the arg-max of the output
 * against the label or the target's arg-max; for one output with
 * NN_LOSS_BCE, output > 0.5 (sigmoid) or > 0 (identity logits) against
 * target > 0.5. Otherwise (regression) it is NaN. Thread-safe on a const
 * model, like nn_model_predict, whose products (and copy of the weights)
 * it shares.
 * Returns NN_OK, NN_E_NULL, NN_E_SHAPE, NN_E_INVALID (label), NN_E_STATE
 * (no layers, no loss, a loss that does not fit the output activation, or
 * labels without NN_LOSS_CROSS_ENTROPY), NN_E_NOMEM. */
NN_API NN_NODISCARD nn_status nn_model_evaluate(const nn_model *model,
                                                const nn_data *data,
                                                double *loss,
                                                double *accuracy);

/* Sets how many threads the BLAS library uses for the products, process
 * wide (OpenBLAS: openblas_set_num_threads). 0 means one thread per core.
 * Until it is called, the BLAS keeps its own default: OpenBLAS reads
 * OPENBLAS_NUM_THREADS (then OMP_NUM_THREADS) when it loads, else takes
 * one thread per core; BLIS reads BLIS_NUM_THREADS (then
 * OMP_NUM_THREADS), else runs one thread.
 * The products libnn's own kernel takes (see nn_model_predict) run
 * on the calling thread whatever the count, except the training products
 * of 2^26 multiply-adds or more (see nn_model_train_batch): with a count
 * of two, the kernel forms them on the calling thread and one thread it
 * starts for the product, with the same results, bit for bit, as on one;
 * with a count above two, those from 2^27 leave the kernel for the BLAS's
 * threads. With a count of two or more, the kernel also takes the
 * training products of a few rows that the BLAS would split between its
 * threads, which cost more than they share there; where the kernel does
 * not (its AVX2 build, NN_GEMM=blas, other CPUs), OpenBLAS gets such
 * products (at most 16 rows, up to 2^23 multiply-adds) in parts that it
 * forms on the calling thread (see nn_model_train_batch).
 * Call it while no other thread is inside libnn.
 * Returns NN_OK, NN_E_INVALID (more than 1024), NN_E_STATE (the BLAS libnn
 * was built with cannot be told). */
NN_API NN_NODISCARD nn_status nn_set_blas_threads(size_t threads);

/* ------------------------------------------------------------------------
 * Model files
 *
 * A model file is a model in the portable binary format that
 * docs/FORMAT.md describes byte by byte: a magic number, a format version,
 * little-endian integers, floats as little-endian IEEE-754 bit patterns and
 * a CRC-32 over everything. The bytes are the same on every host and in
 * every locale, and loading gives back every saved value bit for bit. A
 * file can also be kept in memory: nn_model_save_buffer writes exactly the
 * bytes of the file, and nn_model_load_buffer reads them.
 *
 * What a file holds is chosen when it is saved:
 *
 *   NN_SAVE_MODEL       the architecture (input width; each layer's kind,
 *                       width, activation and settings), the loss, the
 *                       kinds of optimizer and schedule, every setting
 *                       (nn_param), the class weights, the metadata, every
 *                       weight and bias and every layer's buffers (running
 *                       statistics, scalings): enough to predict and to
 *                       start training afresh.
 *   NN_SAVE_CHECKPOINT  all that, and where training stands: the
 *                       optimizer's state (momentum buffers, moments), the
 *                       step count (so that the schedule and warm-up go on
 *                       from there), the model's generator (so that
 *                       shuffling does) and its seed (so that dropout's
 *                       masks do). Training a loaded checkpoint gives
 *                       bit for bit the weights the saved model would have
 *                       reached by going on training, given the same BLAS
 *                       and thread count: nn_model_fit for 2 epochs equals
 *                       fit for 1, save, load, fit for 1. (Early stopping's
 *                       best epoch so far belongs to one fit call and is
 *                       not saved.)
 *
 * A loaded model has zero gradients and no workspace. Loaded from an
 * NN_SAVE_MODEL file, its optimizer has no state and a step count of 0 (as
 * after nn_model_set_optimizer), and its generator and seed are those of
 * nn_model_create with seed 0.
 *
 * libnn 0.2 writes format version 2 and reads versions 1 and 2; a file
 * written by libnn 0.1 loads to the same model, bit for bit.
 *
 * A load trusts nothing: it checks the magic number, the version, the
 * length and the checksum, then every size against the bytes actually
 * present (before allocating anything sized by the file) and every value
 * against the bounds the setters enforce. A file that fails gives
 * NN_E_FORMAT and a message naming the problem and its byte offset, for
 * example "nn_model_load_buffer: byte 16: the file is truncated: it is 100
 * bytes, the header says 300".
 * ------------------------------------------------------------------------ */
/* What a model file holds (see above), for the saving calls. */
typedef enum nn_save_what {
    NN_SAVE_MODEL = 1,      /* architecture, loss, settings, parameters */
    NN_SAVE_CHECKPOINT = 2  /* also optimizer state, step count, generator */
} nn_save_what;

/* *size receives the number of bytes of the file that nn_model_save would
 * write and nn_model_save_buffer needs. It depends on the model's shape,
 * the number of settings and, for a checkpoint, on whether the optimizer
 * has state yet (it does from the first step after it is chosen).
 * Thread-safe on a const model.
 * Returns NN_OK, NN_E_NULL, NN_E_INVALID (what), NN_E_OVERFLOW. */
NN_API NN_NODISCARD nn_status nn_model_save_size(const nn_model *model,
                                                 nn_save_what what,
                                                 size_t *size);

/* Writes the file into buf, which has room for capacity bytes; the model
 * keeps no pointer to it. On success *written (when written is not NULL)
 * receives the file's size, as nn_model_save_size gives it. If capacity is
 * smaller, the call returns NN_E_SHAPE, writes nothing into buf and
 * *written receives the size needed. Allocates nothing. Thread-safe on a
 * const model.
 * Returns NN_OK, NN_E_NULL (model, buf), NN_E_INVALID (what), NN_E_SHAPE
 * (capacity), NN_E_OVERFLOW, NN_E_NONFINITE (a parameter or optimizer
 * state value is NaN or infinite, which only writes through
 * nn_model_params can cause: a file holds finite values only). */
NN_API NN_NODISCARD nn_status nn_model_save_buffer(const nn_model *model,
                                                   nn_save_what what,
                                                   void *buf,
                                                   size_t capacity,
                                                   size_t *written);

/* Saves the model to the file path (a name in the system's encoding),
 * atomically: the bytes go to a new temporary file in path's directory,
 * which is synced to disk, given a name and renamed over path; then the
 * directory is synced. On Linux the temporary file is created without a
 * name (O_TMPFILE) and named (".nn-" and 12 hex digits and ".tmp") only
 * once it is complete and synced, so a crash while it is written leaves
 * nothing behind; a crash in the instant between naming it and renaming it
 * can leave that complete file under its temporary name. Where the file
 * system has no unnamed files, the temporary file is named from the start,
 * and a crash during the save can leave it (since 0.2; before, the
 * temporary file was always named path with ".tmp." and 12 hex digits
 * appended). The temporary name is short, so any name the system accepts
 * can be saved. If any step fails, path is untouched (an old file keeps
 * its old content, a missing one stays missing), the temporary file is
 * removed and the call returns NN_E_IO with a message naming the file,
 * the step and the system's error text. One step comes after the
 * replacement: if only the final sync of the directory fails, path already
 * holds the new file, and the message says that it may not survive a
 * crash. path is replaced, not rewritten: the new file has the permissions
 * of a file the process creates (umask), not those of the old one, and a
 * symbolic link at path is replaced rather than followed. The directory
 * must exist and be readable and writable. Allocates the temporary name
 * and a write buffer of at most 64 KiB, before touching the file system.
 * Thread-safe on a const model; saves to one path from several threads or
 * processes each write a whole file, and the last rename wins.
 * Returns NN_OK, NN_E_NULL (model, path), NN_E_INVALID (what; a path that
 * is empty or ends in '/'), NN_E_OVERFLOW, NN_E_NONFINITE (as
 * nn_model_save_buffer), NN_E_NOMEM, NN_E_IO. */
NN_API NN_NODISCARD nn_status nn_model_save(const nn_model *model,
                                            const char *path,
                                            nn_save_what what);

/* Loads the model file at path (a regular file) into a new model. The
 * header is checked against the file's real size first; then the whole
 * file is read into memory and loaded as by nn_model_load_buffer, so the
 * call needs the file's size on top of the model's. On success *out is the
 * new model, owned by the caller and released with nn_model_free; on
 * failure *out is NULL and nothing is left allocated. Thread-safe.
 * Returns NN_OK, NN_E_NULL (out, path), NN_E_IO (the file cannot be
 * opened or read, or is not a regular file), NN_E_FORMAT, NN_E_OVERFLOW,
 * NN_E_NOMEM. */
NN_API NN_NODISCARD nn_status nn_model_load(nn_model **out,
                                            const char *path);

/* Loads a model from the size bytes at buf, which must be exactly one
 * model file: bytes after its end are an error. buf is only read, and not
 * kept. *out as nn_model_load. Every size in the file is checked against
 * the bytes present before anything is allocated, so a load never
 * allocates more than the bytes given imply. Thread-safe.
 * Returns NN_OK, NN_E_NULL (out, buf), NN_E_FORMAT, NN_E_NOMEM. */
NN_API NN_NODISCARD nn_status nn_model_load_buffer(nn_model **out,
                                                   const void *buf,
                                                   size_t size);

/* ------------------------------------------------------------------------
 * Parameters
 * ------------------------------------------------------------------------ */

/* Copy the weights (in x out floats, row-major, row i = weights leaving input
 * i) or the bias (out floats) of layer `layer` (0-based) out of or into the
 * model; for batch and layer normalization the weights are gamma and the
 * bias beta (width floats each), and the other kinds have none
 * (nn_model_layer_weight_count). count must equal the number of floats;
 * with count 0 the pointer may be NULL. Setting copies; the model never
 * keeps the caller's pointer. Set rejects non-finite values with
 * NN_E_INVALID and changes nothing.
 * Returns NN_OK, NN_E_NULL, NN_E_INVALID (layer out of range, non-finite
 * value, misaligned array), NN_E_SHAPE (count). */
NN_API NN_NODISCARD nn_status nn_model_get_weights(const nn_model *model,
                                                   size_t layer, float *w,
                                                   size_t count);
NN_API NN_NODISCARD nn_status nn_model_set_weights(nn_model *model,
                                                   size_t layer,
                                                   const float *w,
                                                   size_t count);
NN_API NN_NODISCARD nn_status nn_model_get_bias(const nn_model *model,
                                                size_t layer, float *b,
                                                size_t count);
NN_API NN_NODISCARD nn_status nn_model_set_bias(nn_model *model, size_t layer,
                                                const float *b, size_t count);

/* Copy dL/dW (in x out) or dL/db (out) of layer `layer` from the last
 * nn_model_compute_grads or training step, in the layout of
 * nn_model_get_weights and nn_model_get_bias. Zero before any. Statuses as
 * nn_model_get_weights. */
NN_API NN_NODISCARD nn_status nn_model_get_layer_grads(const nn_model *model,
                                                       size_t layer,
                                                       float *dw,
                                                       size_t dw_count,
                                                       float *db,
                                                       size_t db_count);

/* Since 0.2. Copy the buffers of layer `layer`: state that is not
 * trained by gradients but belongs to the model and its files. Batch
 * normalization: the running mean then the running variance (width floats
 * each); scaling: scale then shift. count must equal
 * nn_model_layer_buffer_count (with count 0 the pointer may be NULL). Set
 * rejects non-finite values and negative variances with NN_E_INVALID and
 * changes nothing.
 * Returns NN_OK, NN_E_NULL, NN_E_INVALID, NN_E_SHAPE (count). */
NN_API NN_NODISCARD nn_status nn_model_get_layer_buffers(
    const nn_model *model, size_t layer, float *buf, size_t count);
NN_API NN_NODISCARD nn_status nn_model_set_layer_buffers(nn_model *model,
                                                         size_t layer,
                                                         const float *buf,
                                                         size_t count);

/* The flat parameter and gradient buffers: for each layer in order, its
 * weights then its bias (W_l, in_l x out_l, then b_l, out_l, for a dense
 * layer; gamma then beta for normalization; nothing for the other kinds).
 * *count (if count is not NULL) receives the number of floats. The
 * pointers stay valid until the next nn_model_add_* call or nn_model_free;
 * writes through nn_model_params change the model. NULL (and *count 0) for
 * a NULL model or a model without parameters.
 * Plain-SGD steps normally know a bound on the weights from the step
 * before; writes through the pointer are not seen, so once nn_model_params
 * has handed it out, every later step reads all the weights before changing
 * them (one more pass over memory the size of the weights), and
 * nn_model_predict keeps no copy of the weights for libnn's own kernel
 * (it reads them where they are, more slowly), until the next
 * nn_model_add_* call. nn_model_get_weights and nn_model_get_bias read
 * copies without that cost. */
NN_API float *nn_model_params(nn_model *model, size_t *count);
NN_API float *nn_model_grads(nn_model *model, size_t *count);

/* ------------------------------------------------------------------------
 * Interchange: ONNX and C source. Since 0.2.
 *
 * ONNX export writes a model as an ONNX file (opset 17, IR version 8) that
 * computes what nn_model_predict computes, for ONNX Runtime and the other
 * ONNX tools. The graph has one input "input" and one output "output",
 * float matrices [batch, width] with a dynamic batch dimension. Dense
 * layers are Gemm nodes; activations are their ONNX operators, or where
 * opset 17 has none the composition that computes them (GELU from Erf,
 * SiLU as x * Sigmoid(x), softplus with its threshold from Where); batch
 * normalization is BatchNormalization with the running statistics, layer
 * normalization LayerNormalization, scaling Mul and Add; dropout is left
 * out. The model's metadata becomes the file's metadata_props. Weights are
 * written bit for bit; ONNX Runtime's outputs agree with nn_model_predict
 * to float rounding. docs/INTEROP.md shows the graph of each kind.
 *
 * ONNX import reads the graphs that torch.onnx.export writes for a
 * torch.nn.Sequential of Linear, the activations libnn has, BatchNorm1d,
 * LayerNorm, Dropout, Flatten and Identity (Gemm with either transB, or
 * MatMul and Add; initializers as raw data or as float lists; opsets 7 to
 * 21), and the files nn_model_export_onnx writes. The result is a model
 * like one built with nn_model_create (seed 0) and the nn_model_add_*
 * calls, with the file's weights, statistics and settings (epsilon,
 * momentum, slopes) and its metadata_props as metadata: it predicts what
 * the graph computes, and takes a loss and an optimizer to be trained
 * further. Anything else gives NN_E_FORMAT with a message naming the
 * node, its operator and what libnn imports. The importer trusts nothing:
 * it decodes with protobuf-c under a memory allowance proportional to the
 * bytes given, allocates nothing that the bytes do not justify, refuses
 * graphs that are not one chain from the input to the output and shapes
 * that do not chain, and is fuzzed. Importing needs libnn built with
 * protobuf-c (found when libnn is configured); without it the import
 * functions return NN_E_STATE and say so, and the exports work.
 *
 * C source export writes one C99 header holding the weights as static
 * const float arrays and a function computing one row, for a
 * microcontroller or a program that must not link libnn.
 * ------------------------------------------------------------------------ */

/* Since 0.2. Writes the model as an ONNX file at path, atomically as
 * nn_model_save writes (a temporary file beside it, synced and renamed;
 * on failure path is untouched and NN_E_IO names the step). Allocates a
 * description of the graph (about 3 KiB per layer), a copy of the
 * largest layer's weights and a write buffer of at most 64 KiB, before
 * touching the file system. Thread-safe on a const model.
 * Returns NN_OK, NN_E_NULL (model, path), NN_E_INVALID (a path that is
 * empty or ends in '/'), NN_E_STATE (no layers), NN_E_NONFINITE (a
 * weight, bias or buffer is NaN or infinite, which only writes through
 * nn_model_params can cause), NN_E_OVERFLOW, NN_E_NOMEM, NN_E_IO. */
NN_API NN_NODISCARD nn_status nn_model_export_onnx(const nn_model *model,
                                                   const char *path);

/* Since 0.2. Writes the ONNX file of nn_model_export_onnx into buf, which
 * has room for capacity bytes. On success *written (when written is not
 * NULL) receives the file's size. If capacity is smaller, the call returns
 * NN_E_SHAPE, writes nothing into buf and *written receives the size
 * needed; buf may be NULL when capacity is 0, to ask for the size.
 * Allocates as nn_model_export_onnx, less the write buffer. Thread-safe
 * on a const model.
 * Returns NN_OK, NN_E_NULL (model; buf with capacity > 0), NN_E_SHAPE
 * (capacity), NN_E_STATE, NN_E_NONFINITE, NN_E_OVERFLOW, NN_E_NOMEM. */
NN_API NN_NODISCARD nn_status nn_model_export_onnx_buffer(
    const nn_model *model, void *buf, size_t capacity, size_t *written);

/* Since 0.2. Reads the ONNX file at path (a regular file) into a new
 * model, as nn_model_import_onnx_buffer reads its bytes; the file is read
 * whole into memory first. On success *out is the new model, owned by the
 * caller and released with nn_model_free; on failure *out is NULL and
 * nothing is left allocated. Thread-safe.
 * Returns NN_OK, NN_E_NULL (out, path), NN_E_IO (the file cannot be
 * opened or read, or is not a regular file), NN_E_FORMAT, NN_E_STATE
 * (libnn was built without the ONNX reader), NN_E_OVERFLOW, NN_E_NOMEM. */
NN_API NN_NODISCARD nn_status nn_model_import_onnx(nn_model **out,
                                                   const char *path);

/* Since 0.2. Reads the size bytes at buf, an ONNX model (a serialized
 * ModelProto), into a new model; buf is only read, and not kept. *out as
 * nn_model_import_onnx. Decoding may take at most 16 bytes of memory per
 * byte given, plus 1 MiB (a file that needs more holds too many tiny
 * messages to be a model, and gives NN_E_FORMAT); the model's arrays are
 * the file's tensors. Thread-safe.
 * Returns NN_OK, NN_E_NULL (out, buf), NN_E_FORMAT (not an ONNX model, or
 * a graph libnn does not import; the message names the node, its operator
 * and what libnn imports), NN_E_STATE (built without the ONNX reader),
 * NN_E_NOMEM. */
NN_API NN_NODISCARD nn_status nn_model_import_onnx_buffer(nn_model **out,
                                                          const void *buf,
                                                          size_t size);

/* Since 0.2. Writes the model as C99 source: one header file at path,
 * atomically as nn_model_save writes, holding the weights as static const
 * float arrays and
 *
 *     void <prefix>_predict(const float *x, float *y);
 *
 * which computes the outputs y (output width floats) of one row x (input
 * width floats) as nn_model_predict does in inference mode (dropout gone,
 * batch normalization with its running statistics), to float rounding,
 * with no allocation, no state and no dependency on libnn; it uses libm
 * (-lm) for the activations that need it and a stack array of the widest
 * layer between input and output. The header also defines <PREFIX>_INPUTS
 * and <PREFIX>_OUTPUTS (prefix in upper case). Include it wherever the
 * function is called; in exactly one C file, define
 * <PREFIX>_IMPLEMENTATION before including it, which compiles the weights
 * and the function there. It compiles as C99 and later, warning-free with
 * -Wall -Wextra -Wpedantic. prefix is a C identifier of 1 to 63 ASCII
 * letters, digits and '_' that starts with a letter. Allocates a copy of
 * the largest layer's weights and a write buffer of at most 64 KiB.
 * Thread-safe on a const model.
 * Returns NN_OK, NN_E_NULL (model, path, prefix), NN_E_INVALID (prefix; a
 * path that is empty or ends in '/'), NN_E_STATE (no layers),
 * NN_E_NONFINITE (as nn_model_export_onnx), NN_E_OVERFLOW, NN_E_NOMEM,
 * NN_E_IO. */
NN_API NN_NODISCARD nn_status nn_model_export_c(const nn_model *model,
                                                const char *path,
                                                const char *prefix);

#ifdef __cplusplus
}
#endif

#endif /* NN_H */
