"""The tables of libnn's API, from include/nn.h.

Generated from include/nn.h by tests/ffi/gen_bindings.py: do not edit.
"""

import enum
from typing import Dict, Tuple

VERSION_MAJOR = 0
VERSION_MINOR = 2
VERSION_PATCH = 0
__version__ = "0.2.0"


class Status(enum.IntEnum):
    """
    nn_status (NN_*): the values of nn.h's enum nn_status.

    OK = 0: success
    E_NULL = 1: a required pointer argument is NULL
    E_INVALID = 2: an argument's value is out of its range: a zero width or
        count, an unknown enum value, a setting outside its bounds, a class
        label outside [0, outputs)
    E_SHAPE = 3: a width or count disagrees with the model
    E_STATE = 4: the model cannot do this yet or at all: no layers, no loss,
        softmax on a hidden layer, a loss that does not fit the output
        activation
    E_NOMEM = 5: an allocation failed; nothing was changed
    E_OVERFLOW = 6: a size (n * width, bytes) overflows size_t
    E_NONFINITE = 7: the loss or a gradient of this step is NaN or infinite;
        the step was rejected and no parameter was changed
    E_IO = 8: a file could not be opened, read, written, synced or renamed;
        the message names the file and the step, with the system's error
        text and errno
    E_FORMAT = 9: the bytes given to a load are not a model file this libnn
        can read: damaged, truncated, from a newer libnn, or not a model
        file at all; the message says what is wrong and at which byte
    E_REDUCE = 10: since 0.2: the reducer a data-parallel pass called
        (nn_model_set_reducer) reported a failure; the message carries its
        code
    """

    OK = 0
    E_NULL = 1
    E_INVALID = 2
    E_SHAPE = 3
    E_STATE = 4
    E_NOMEM = 5
    E_OVERFLOW = 6
    E_NONFINITE = 7
    E_IO = 8
    E_FORMAT = 9
    E_REDUCE = 10


class Activation(enum.IntEnum):
    """
    nn_activation (NN_ACT_*): the values of nn.h's enum nn_activation.

    IDENTITY = 1: f(z) = z
    SIGMOID = 2: f(z) = 1 / (1 + e^-z)
    TANH = 3: f(z) = tanh z
    RELU = 4: f(z) = max(z, 0); f'(0) taken as 0
    LEAKY_RELU = 5: f(z) = z > 0 ? z : slope * z; slope is the layer
        parameter NN_LAYER_LEAKY_SLOPE
    SOFTMAX = 6: f(z)_j = e^z_j / sum_k e^z_k over each row; output layer
        only
    GELU = 7 (since 0.2): f(z) = z Phi(z) = z (1 + erf(z / sqrt 2)) / 2, the
        exact (erf) form, torch.nn.GELU()'s default
    SILU = 8 (since 0.2): f(z) = z / (1 + e^-z) (swish)
    SOFTPLUS = 9 (since 0.2): f(z) = log(1 + e^z), and z itself for z > 20,
        as torch.nn.Softplus() (beta 1, threshold 20)
    ELU = 10 (since 0.2): f(z) = z > 0 ? z : alpha (e^z - 1); alpha is the
        layer parameter NN_LAYER_ELU_ALPHA; f'(0) taken as alpha, as PyTorch
        does
    """

    IDENTITY = 1
    SIGMOID = 2
    TANH = 3
    RELU = 4
    LEAKY_RELU = 5
    SOFTMAX = 6
    GELU = 7
    SILU = 8
    SOFTPLUS = 9
    ELU = 10


class Loss(enum.IntEnum):
    """
    nn_loss (NN_LOSS_*): the values of nn.h's enum nn_loss.

    MSE = 1: Mean over all n*k elements of (y - t)^2. Any output activation.
    BCE = 2: Binary cross-entropy: mean over all n*k elements of -[t log y +
        (1 - t) log(1 - y)], targets in [0, 1]. The output layer must be
        sigmoid (y = sigmoid(z)) or identity (its outputs are then logits
        and the loss applies the sigmoid, like PyTorch's BCEWithLogitsLoss).
        Either way it is computed from the logits z and stays finite for any
        finite z.
    CROSS_ENTROPY = 3: Softmax cross-entropy: mean over the n rows of -sum_j
        t_j log p_j, p = softmax(z), computed with log-sum-exp. Targets are
        probability rows (each summing to 1) or integer class labels. The
        output layer must be softmax or identity (logits, like PyTorch's
        CrossEntropyLoss). With class weights w (nn_model_set_class_weights)
        and label smoothing e (NN_PARAM_LABEL_SMOOTHING), as PyTorch's
        CrossEntropyLoss(weight=w, label_smoothing=e) defines them, for k
        classes and log-probabilities q = log p: labels y_i: [ (1 - e) sum_i
        w_{y_i} (-q_{i,y_i}) + (e / k) sum_i sum_j w_j (-q_{ij}) ] / sum_i
        w_{y_i} rows t_i: -(1/n) sum_i sum_j w_j ((1 - e) t_ij + e / k) q_ij
        (w_j = 1 without class weights).
    L1 = 4 (since 0.2): Mean absolute error: mean over all n*k elements of
        |y - t|, with the gradient sign(y - t) / (n k), 0 where y = t (as
        torch.nn.L1Loss). Any output activation.
    HUBER = 5 (since 0.2): Huber loss with d = y - t and delta the setting
        NN_PARAM_HUBER_DELTA: mean over all n*k elements of d^2 / 2 where
        |d| < delta and delta (|d| - delta / 2) elsewhere (as
        torch.nn.HuberLoss). Any output activation.
    """

    MSE = 1
    BCE = 2
    CROSS_ENTROPY = 3
    L1 = 4
    HUBER = 5


class LayerKind(enum.IntEnum):
    """
    nn_layer_kind (NN_KIND_*): the values of nn.h's enum nn_layer_kind.

    DENSE = 1: nn_model_add_dense
    DROPOUT = 2: nn_model_add_dropout
    BATCHNORM = 3: nn_model_add_batchnorm
    LAYERNORM = 4: nn_model_add_layernorm
    ACTIVATION = 5: nn_model_add_activation
    SCALING = 6: nn_model_add_scaling
    """

    DENSE = 1
    DROPOUT = 2
    BATCHNORM = 3
    LAYERNORM = 4
    ACTIVATION = 5
    SCALING = 6


class Param(enum.IntEnum):
    """
    nn_param (NN_PARAM_*): the values of nn.h's enum nn_param.

    LEARNING_RATE = 1: Base step size of the optimizer; the schedule scales
        it. Default 0.01, bounds [0, 1e6].
    MOMENTUM = 2: SGD: momentum mu; RMSprop: momentum of the scaled step. 0
        disables. Default 0, bounds [0, 0.9999]. SGD's dampening:
        NN_PARAM_DAMPENING.
    NESTEROV = 3: (whole) SGD: 1 for Nesterov momentum, 0 for classical.
        Default 0, bounds [0, 1]. Without momentum it has no effect.
    WEIGHT_DECAY = 4: Weight decay lambda. SGD, Adam, RMSprop: L2, g +=
        lambda * w. AdamW: decoupled, w -= lr * lambda * w. Default 0 (note:
        PyTorch's AdamW defaults to 0.01), bounds [0, 1e3].
    BETA1 = 5: Adam/AdamW beta1. Default 0.9, bounds [0, 0.9999].
    BETA2 = 6: Adam/AdamW beta2. Default 0.999, bounds [0, 0.999999].
    EPSILON = 7: Adam/AdamW/RMSprop epsilon. Default 1e-8, bounds [1e-30,
        1].
    RMSPROP_ALPHA = 8: RMSprop smoothing constant alpha. Default 0.99,
        bounds [0, 0.999999].
    CLIP_NORM = 9: Gradient clipping: if the global L2 norm of all gradients
        exceeds this, every gradient is scaled by clip / (norm + 1e-6), as
        PyTorch's clip_grad_norm_ does, before weight decay. 0 disables.
        Default 0, bounds [0, 1e30].
    SCHED_STEP_SIZE = 10: (whole) Schedules (see nn_model_set_schedule),
        counted in optimizer steps. Step decay: lr * gamma^floor(t /
        step_size). Default 1000, bounds [1, 1e15].
    SCHED_GAMMA = 11: Step and exponential decay factor gamma. Default 0.1,
        bounds [0, 1].
    SCHED_T_MAX = 12: (whole) Cosine annealing period T_max in steps.
        Default 1000, bounds [1, 1e15].
    SCHED_ETA_MIN = 13: Cosine annealing floor eta_min, an absolute learning
        rate. Default 0, bounds [0, 1e6].
    WARMUP_STEPS = 14: (whole) Linear warm-up length W in steps: step s < W
        (counting from 0) uses lr * (s + 1) / W, and the schedule proper
        starts at t = s - W. Default 0 (none), bounds [0, 1e15].
    EPOCHS = 15: (whole) nn_model_fit: passes over the training data.
        Default 10, bounds [1, 1e9].
    BATCH_SIZE = 16: (whole) nn_model_fit: rows per step; the last batch of
        an epoch holds the remainder. Default 32, bounds [1, 1e9].
    SHUFFLE = 17: (whole) nn_model_fit: 1 shuffles the rows every epoch with
        the model's generator, 0 keeps their order. Default 1, bounds [0,
        1].
    PATIENCE = 18: (whole) nn_model_fit: early stopping. Stop after this
        many epochs without a lower monitored loss (the validation loss, or
        the training loss when there is no validation set) and restore the
        weights of the best epoch. 0 disables. Default 0, bounds [0, 1e9].
    CLIP_VALUE = 19 (since 0.2): Gradient clipping by value: every gradient
        is clamped to [-clip, clip], as PyTorch's clip_grad_value_ does,
        before clipping by norm (NN_PARAM_CLIP_NORM) and weight decay. 0
        disables. Default 0, bounds [0, 1e30].
    AMSGRAD = 20 (since 0.2): (whole) Adam and AdamW: 1 for the AMSGrad
        variant, which divides by the largest second moment so far. Default
        0, bounds [0, 1].
    CENTERED = 21 (since 0.2): (whole) RMSprop: 1 for the centered variant,
        which divides by an estimate of the gradient's variance instead of
        its second moment. Default 0, bounds [0, 1].
    DAMPENING = 22 (since 0.2): SGD: dampening tau of the momentum, b = mu b
        + (1 - tau) g from the second step on. Default 0, bounds [0, 1].
    HUBER_DELTA = 23 (since 0.2): NN_LOSS_HUBER: where the loss turns from
        quadratic to linear. Default 1, bounds [1e-12, 1e30].
    LABEL_SMOOTHING = 24 (since 0.2): NN_LOSS_CROSS_ENTROPY: label smoothing
        e (see nn_loss). Default 0, bounds [0, 1].
    """

    LEARNING_RATE = 1
    MOMENTUM = 2
    NESTEROV = 3
    WEIGHT_DECAY = 4
    BETA1 = 5
    BETA2 = 6
    EPSILON = 7
    RMSPROP_ALPHA = 8
    CLIP_NORM = 9
    SCHED_STEP_SIZE = 10
    SCHED_GAMMA = 11
    SCHED_T_MAX = 12
    SCHED_ETA_MIN = 13
    WARMUP_STEPS = 14
    EPOCHS = 15
    BATCH_SIZE = 16
    SHUFFLE = 17
    PATIENCE = 18
    CLIP_VALUE = 19
    AMSGRAD = 20
    CENTERED = 21
    DAMPENING = 22
    HUBER_DELTA = 23
    LABEL_SMOOTHING = 24


class LayerParam(enum.IntEnum):
    """
    nn_layer_param (NN_LAYER_*): the values of nn.h's enum nn_layer_param.

    LEAKY_SLOPE = 1: Slope of a leaky relu layer for z <= 0. Default 0.01,
        bounds [0, 1]. Stored as a float, so the getter returns the value
        rounded to float. May be set on a layer of any activation; only
        leaky relu uses it.
    ELU_ALPHA = 2 (since 0.2): alpha of an ELU layer. Default 1, bounds [0,
        1e3]. Stored as a float, as NN_LAYER_LEAKY_SLOPE.
    INIT = 3 (since 0.2): (whole) How a dense layer's weights are drawn: an
        nn_init. Setting it draws the layer's weights anew from the model's
        generator and sets its bias to zero, as adding the layer did; it
        does not reset the optimizer. Default NN_INIT_AUTO, bounds [1, 6].
    DROPOUT_RATE = 4 (since 0.2): Dropout's drop probability. Bounds [0,
        0.999999]; set by nn_model_add_dropout.
    MOMENTUM = 5 (since 0.2): Batch normalization: the momentum of the
        running statistics. Default 0.1, bounds [0, 1].
    EPSILON = 6 (since 0.2): Batch and layer normalization: eps added to the
        variance. Default 1e-5, bounds [1e-30, 1].
    """

    LEAKY_SLOPE = 1
    ELU_ALPHA = 2
    INIT = 3
    DROPOUT_RATE = 4
    MOMENTUM = 5
    EPSILON = 6


class Init(enum.IntEnum):
    """
    nn_init (NN_INIT_*): the values of nn.h's enum nn_init.

    AUTO = 1: He-uniform or Glorot-uniform by the activation
        (nn_model_add_dense)
    GLOROT_UNIFORM = 2: a = sqrt(6 / (in + out))
    GLOROT_NORMAL = 3: s = sqrt(2 / (in + out))
    HE_UNIFORM = 4: a = sqrt(6 / in)
    HE_NORMAL = 5: s = sqrt(2 / in)
    LECUN_NORMAL = 6: s = sqrt(1 / in)
    """

    AUTO = 1
    GLOROT_UNIFORM = 2
    GLOROT_NORMAL = 3
    HE_UNIFORM = 4
    HE_NORMAL = 5
    LECUN_NORMAL = 6


class Optimizer(enum.IntEnum):
    """
    nn_optimizer (NN_OPT_*): the values of nn.h's enum nn_optimizer.

    SGD = 1: the default
    ADAM = 2
    ADAMW = 3
    RMSPROP = 4
    """

    SGD = 1
    ADAM = 2
    ADAMW = 3
    RMSPROP = 4


class Schedule(enum.IntEnum):
    """
    nn_schedule (NN_SCHED_*): the values of nn.h's enum nn_schedule.

    CONSTANT = 1: lr; the default
    STEP = 2: lr * gamma^floor(t / step_size)
    EXPONENTIAL = 3: lr * gamma^t
    COSINE = 4: eta_min + (lr - eta_min) (1 + cos(pi * min(t, T_max) /
        T_max)) / 2
    """

    CONSTANT = 1
    STEP = 2
    EXPONENTIAL = 3
    COSINE = 4


class SaveWhat(enum.IntEnum):
    """
    nn_save_what (NN_SAVE_*): the values of nn.h's enum nn_save_what.

    MODEL = 1: architecture, loss, settings, parameters
    CHECKPOINT = 2: also optimizer state, step count, generator
    """

    MODEL = 1
    CHECKPOINT = 2


#: C enum name -> (Python class, value prefix in nn.h).
ENUMS: Dict[str, Tuple[type, str]] = {
    "nn_status": (Status, "NN_"),
    "nn_activation": (Activation, "NN_ACT_"),
    "nn_loss": (Loss, "NN_LOSS_"),
    "nn_layer_kind": (LayerKind, "NN_KIND_"),
    "nn_param": (Param, "NN_PARAM_"),
    "nn_layer_param": (LayerParam, "NN_LAYER_"),
    "nn_init": (Init, "NN_INIT_"),
    "nn_optimizer": (Optimizer, "NN_OPT_"),
    "nn_schedule": (Schedule, "NN_SCHED_"),
    "nn_save_what": (SaveWhat, "NN_SAVE_"),
}

#: Callback type -> (return type, ((parameter type, name), ...)).
CALLBACKS: Dict[str, Tuple[str, Tuple[Tuple[str, str], ...]]] = {
    "nn_malloc_fn": ("void *", (("void *", "ctx"), ("size_t", "size"),)),
    "nn_free_fn": ("void", (("void *", "ctx"), ("void *", "ptr"),)),
    "nn_reduce_fn": ("int", (("void *", "user"), ("double *", "values"), ("size_t", "count"),)),
    "nn_grads_ready_fn": ("void", (("void *", "user"), ("size_t", "layer"), ("size_t", "offset"), ("size_t", "count"),)),
    "nn_reduce_grads_fn": ("int", (("void *", "user"), ("float *", "grads"), ("size_t", "count"),)),
    "nn_epoch_fn": ("int", (("void *", "user"), ("size_t", "epoch"), ("double", "train_loss"), ("double", "val_loss"), ("double", "val_accuracy"), ("double", "seconds"),)),
    "nn_batch_fn": ("int", (("void *", "user"), ("size_t", "epoch"), ("size_t", "batch"), ("size_t", "batches"), ("double", "loss"),)),
}

#: Function -> (return type, ((parameter type, name), ...), since).
FUNCTIONS: Dict[str, Tuple[str, Tuple[Tuple[str, str], ...], str]] = {
    "nn_version_number": ("unsigned", (), "0.1"),
    "nn_version_string": ("const char *", (), "0.1"),
    "nn_status_string": ("const char *", (("nn_status", "status"),), "0.1"),
    "nn_last_error": ("const char *", (), "0.1"),
    "nn_set_allocator": ("nn_status", (("nn_malloc_fn", "alloc_fn"), ("nn_free_fn", "free_fn"), ("void *", "ctx"),), "0.1"),
    "nn_model_create": ("nn_status", (("nn_model **", "out"), ("size_t", "input_width"), ("uint64_t", "seed"),), "0.1"),
    "nn_model_free": ("void", (("nn_model *", "model"),), "0.1"),
    "nn_model_add_dense": ("nn_status", (("nn_model *", "model"), ("size_t", "width"), ("nn_activation", "act"),), "0.1"),
    "nn_model_add_dropout": ("nn_status", (("nn_model *", "model"), ("double", "rate"),), "0.2"),
    "nn_model_add_batchnorm": ("nn_status", (("nn_model *", "model"),), "0.2"),
    "nn_model_add_layernorm": ("nn_status", (("nn_model *", "model"),), "0.2"),
    "nn_model_add_activation": ("nn_status", (("nn_model *", "model"), ("nn_activation", "act"),), "0.2"),
    "nn_model_add_scaling": ("nn_status", (("nn_model *", "model"), ("const float *", "scale"), ("const float *", "shift"), ("size_t", "count"),), "0.2"),
    "nn_model_set_loss": ("nn_status", (("nn_model *", "model"), ("nn_loss", "loss"),), "0.1"),
    "nn_model_input_width": ("size_t", (("const nn_model *", "model"),), "0.1"),
    "nn_model_output_width": ("size_t", (("const nn_model *", "model"),), "0.1"),
    "nn_model_layer_count": ("size_t", (("const nn_model *", "model"),), "0.1"),
    "nn_model_layer_width": ("size_t", (("const nn_model *", "model"), ("size_t", "layer"),), "0.1"),
    "nn_model_layer_kind": ("nn_layer_kind", (("const nn_model *", "model"), ("size_t", "layer"),), "0.2"),
    "nn_model_layer_activation": ("nn_activation", (("const nn_model *", "model"), ("size_t", "layer"),), "0.2"),
    "nn_model_layer_weight_count": ("size_t", (("const nn_model *", "model"), ("size_t", "layer"),), "0.2"),
    "nn_model_layer_bias_count": ("size_t", (("const nn_model *", "model"), ("size_t", "layer"),), "0.2"),
    "nn_model_layer_buffer_count": ("size_t", (("const nn_model *", "model"), ("size_t", "layer"),), "0.2"),
    "nn_model_loss": ("nn_loss", (("const nn_model *", "model"),), "0.2"),
    "nn_model_set_param": ("nn_status", (("nn_model *", "model"), ("nn_param", "key"), ("double", "value"),), "0.1"),
    "nn_model_get_param": ("nn_status", (("const nn_model *", "model"), ("nn_param", "key"), ("double *", "value"),), "0.1"),
    "nn_param_bounds": ("nn_status", (("nn_param", "key"), ("double *", "lo"), ("double *", "hi"), ("double *", "def"),), "0.1"),
    "nn_model_set_layer_param": ("nn_status", (("nn_model *", "model"), ("size_t", "layer"), ("nn_layer_param", "key"), ("double", "value"),), "0.1"),
    "nn_model_get_layer_param": ("nn_status", (("const nn_model *", "model"), ("size_t", "layer"), ("nn_layer_param", "key"), ("double *", "value"),), "0.1"),
    "nn_layer_param_bounds": ("nn_status", (("nn_layer_param", "key"), ("double *", "lo"), ("double *", "hi"), ("double *", "def"),), "0.1"),
    "nn_param_name": ("const char *", (("nn_param", "key"),), "0.2"),
    "nn_layer_param_name": ("const char *", (("nn_layer_param", "key"),), "0.2"),
    "nn_activation_name": ("const char *", (("nn_activation", "act"),), "0.2"),
    "nn_loss_name": ("const char *", (("nn_loss", "loss"),), "0.2"),
    "nn_layer_kind_name": ("const char *", (("nn_layer_kind", "kind"),), "0.2"),
    "nn_init_name": ("const char *", (("nn_init", "init"),), "0.2"),
    "nn_model_set_class_weights": ("nn_status", (("nn_model *", "model"), ("const float *", "w"), ("size_t", "count"),), "0.2"),
    "nn_model_class_weight_count": ("size_t", (("const nn_model *", "model"),), "0.2"),
    "nn_model_get_class_weights": ("nn_status", (("const nn_model *", "model"), ("float *", "w"), ("size_t", "count"),), "0.2"),
    "nn_model_set_meta": ("nn_status", (("nn_model *", "model"), ("const char *", "key"), ("const char *", "value"),), "0.2"),
    "nn_model_get_meta": ("const char *", (("const nn_model *", "model"), ("const char *", "key"),), "0.2"),
    "nn_model_meta_count": ("size_t", (("const nn_model *", "model"),), "0.2"),
    "nn_model_meta_key": ("const char *", (("const nn_model *", "model"), ("size_t", "index"),), "0.2"),
    "nn_model_predict": ("nn_status", (("const nn_model *", "model"), ("size_t", "n"), ("const float *", "x"), ("size_t", "x_width"), ("float *", "y"), ("size_t", "y_width"),), "0.1"),
    "nn_model_train_batch": ("nn_status", (("nn_model *", "model"), ("size_t", "n"), ("const float *", "x"), ("size_t", "x_width"), ("const float *", "t"), ("size_t", "t_width"), ("double *", "loss"),), "0.1"),
    "nn_model_train_batch_labels": ("nn_status", (("nn_model *", "model"), ("size_t", "n"), ("const float *", "x"), ("size_t", "x_width"), ("const int32_t *", "labels"), ("double *", "loss"),), "0.1"),
    "nn_model_compute_grads": ("nn_status", (("nn_model *", "model"), ("size_t", "n"), ("const float *", "x"), ("size_t", "x_width"), ("const float *", "t"), ("size_t", "t_width"), ("double *", "loss"),), "0.1"),
    "nn_model_compute_grads_labels": ("nn_status", (("nn_model *", "model"), ("size_t", "n"), ("const float *", "x"), ("size_t", "x_width"), ("const int32_t *", "labels"), ("double *", "loss"),), "0.1"),
    "nn_model_apply_grads": ("nn_status", (("nn_model *", "model"),), "0.1"),
    "nn_model_set_optimizer": ("nn_status", (("nn_model *", "model"), ("nn_optimizer", "kind"),), "0.1"),
    "nn_model_set_schedule": ("nn_status", (("nn_model *", "model"), ("nn_schedule", "kind"),), "0.1"),
    "nn_model_optimizer": ("nn_optimizer", (("const nn_model *", "model"),), "0.2"),
    "nn_model_schedule": ("nn_schedule", (("const nn_model *", "model"),), "0.2"),
    "nn_optimizer_name": ("const char *", (("nn_optimizer", "kind"),), "0.2"),
    "nn_schedule_name": ("const char *", (("nn_schedule", "kind"),), "0.2"),
    "nn_model_step_count": ("uint64_t", (("const nn_model *", "model"),), "0.1"),
    "nn_model_current_lr": ("nn_status", (("const nn_model *", "model"), ("double *", "lr"),), "0.1"),
    "nn_model_set_reducer": ("nn_status", (("nn_model *", "model"), ("nn_reduce_fn", "reduce"), ("void *", "user"),), "0.2"),
    "nn_model_set_batch_part": ("nn_status", (("nn_model *", "model"), ("size_t", "first_row"), ("size_t", "global_rows"),), "0.2"),
    "nn_model_set_grads_ready": ("nn_status", (("nn_model *", "model"), ("nn_grads_ready_fn", "fn"), ("void *", "user"),), "0.2"),
    "nn_model_set_replica": ("nn_status", (("nn_model *", "model"), ("size_t", "rank"), ("size_t", "count"), ("nn_reduce_grads_fn", "reduce_grads"), ("void *", "user"),), "0.2"),
    "nn_data_create": ("nn_status", (("nn_data **", "out"), ("size_t", "n"), ("const float *", "x"), ("size_t", "x_width"), ("const float *", "t"), ("size_t", "t_width"),), "0.1"),
    "nn_data_create_labels": ("nn_status", (("nn_data **", "out"), ("size_t", "n"), ("const float *", "x"), ("size_t", "x_width"), ("const int32_t *", "labels"),), "0.1"),
    "nn_data_create_u8": ("nn_status", (("nn_data **", "out"), ("size_t", "n"), ("const uint8_t *", "x"), ("size_t", "x_width"), ("const float *", "t"), ("size_t", "t_width"),), "0.2"),
    "nn_data_create_labels_u8": ("nn_status", (("nn_data **", "out"), ("size_t", "n"), ("const uint8_t *", "x"), ("size_t", "x_width"), ("const int32_t *", "labels"),), "0.2"),
    "nn_data_free": ("void", (("nn_data *", "data"),), "0.1"),
    "nn_data_rows": ("size_t", (("const nn_data *", "data"),), "0.1"),
    "nn_model_fit": ("nn_status", (("nn_model *", "model"), ("const nn_data *", "train"), ("const nn_data *", "val"), ("nn_epoch_fn", "on_epoch"), ("nn_batch_fn", "on_batch"), ("void *", "user"),), "0.1"),
    "nn_model_fit_resume": ("nn_status", (("nn_model *", "model"), ("const nn_data *", "train"), ("const nn_data *", "val"), ("nn_epoch_fn", "on_epoch"), ("nn_batch_fn", "on_batch"), ("void *", "user"),), "0.2"),
    "nn_model_evaluate": ("nn_status", (("const nn_model *", "model"), ("const nn_data *", "data"), ("double *", "loss"), ("double *", "accuracy"),), "0.1"),
    "nn_set_blas_threads": ("nn_status", (("size_t", "threads"),), "0.1"),
    "nn_model_save_size": ("nn_status", (("const nn_model *", "model"), ("nn_save_what", "what"), ("size_t *", "size"),), "0.1"),
    "nn_model_save_buffer": ("nn_status", (("const nn_model *", "model"), ("nn_save_what", "what"), ("void *", "buf"), ("size_t", "capacity"), ("size_t *", "written"),), "0.1"),
    "nn_model_save": ("nn_status", (("const nn_model *", "model"), ("const char *", "path"), ("nn_save_what", "what"),), "0.1"),
    "nn_model_load": ("nn_status", (("nn_model **", "out"), ("const char *", "path"),), "0.1"),
    "nn_model_load_buffer": ("nn_status", (("nn_model **", "out"), ("const void *", "buf"), ("size_t", "size"),), "0.1"),
    "nn_model_get_weights": ("nn_status", (("const nn_model *", "model"), ("size_t", "layer"), ("float *", "w"), ("size_t", "count"),), "0.1"),
    "nn_model_set_weights": ("nn_status", (("nn_model *", "model"), ("size_t", "layer"), ("const float *", "w"), ("size_t", "count"),), "0.1"),
    "nn_model_get_bias": ("nn_status", (("const nn_model *", "model"), ("size_t", "layer"), ("float *", "b"), ("size_t", "count"),), "0.1"),
    "nn_model_set_bias": ("nn_status", (("nn_model *", "model"), ("size_t", "layer"), ("const float *", "b"), ("size_t", "count"),), "0.1"),
    "nn_model_get_layer_grads": ("nn_status", (("const nn_model *", "model"), ("size_t", "layer"), ("float *", "dw"), ("size_t", "dw_count"), ("float *", "db"), ("size_t", "db_count"),), "0.1"),
    "nn_model_get_layer_buffers": ("nn_status", (("const nn_model *", "model"), ("size_t", "layer"), ("float *", "buf"), ("size_t", "count"),), "0.2"),
    "nn_model_set_layer_buffers": ("nn_status", (("nn_model *", "model"), ("size_t", "layer"), ("const float *", "buf"), ("size_t", "count"),), "0.2"),
    "nn_model_params": ("float *", (("nn_model *", "model"), ("size_t *", "count"),), "0.1"),
    "nn_model_grads": ("float *", (("nn_model *", "model"), ("size_t *", "count"),), "0.1"),
    "nn_model_export_onnx": ("nn_status", (("const nn_model *", "model"), ("const char *", "path"),), "0.2"),
    "nn_model_export_onnx_buffer": ("nn_status", (("const nn_model *", "model"), ("void *", "buf"), ("size_t", "capacity"), ("size_t *", "written"),), "0.2"),
    "nn_model_import_onnx": ("nn_status", (("nn_model **", "out"), ("const char *", "path"),), "0.2"),
    "nn_model_import_onnx_buffer": ("nn_status", (("nn_model **", "out"), ("const void *", "buf"), ("size_t", "size"),), "0.2"),
    "nn_model_export_c": ("nn_status", (("const nn_model *", "model"), ("const char *", "path"), ("const char *", "prefix"),), "0.2"),
}

#: Function -> its comment in nn.h.
DOCS: Dict[str, str] = {
    "nn_version_number": "The version of the loaded library, as NN_VERSION_NUMBER computes it. A\nbinding compares it with the header it was written against: the same\nmajor version is compatible, and a later minor version only adds.\nThread-safe.",
    "nn_version_string": "The version of the loaded library as \"MAJOR.MINOR.PATCH\", static.\nThread-safe.",
    "nn_status_string": "A short, static, English description of a status (\"invalid argument\").\nUnknown values give \"unknown status\". Thread-safe.",
    "nn_last_error": "The message of the most recent failed call made by the calling thread, for\nexample \"nn_model_predict: x_width is 3, the model's input width is 4\".\nSuccessful calls leave it unchanged. The string is owned by the library and\nvalid until the next libnn call in the same thread; \"\" if no call has\nfailed in this thread. Thread-safe.",
    "nn_set_allocator": "Replaces the allocator of the whole library; ctx is passed to both\nfunctions. NULL for both restores malloc and free. Call it only while no\nmodel exists and no other thread is inside libnn: a block must be freed by\nthe allocator that made it, and the setting is process-wide and not\nsynchronised. Returns NN_OK, or NN_E_NULL if exactly one of alloc_fn and\nfree_fn is NULL (nothing changes).",
    "nn_model_create": "Creates an empty model taking inputs of input_width floats. seed drives\nevery random choice of the model (weight initialisation, and shuffling\nwhen that exists): two models built by the same calls with the same seed\nare bit-identical. On success *out is the new model, owned by the caller\nand released with nn_model_free. On failure *out is NULL.\nReturns NN_OK, NN_E_NULL (out), NN_E_INVALID (input_width 0 or above\n2^31 - 1, the largest dimension BLAS takes), NN_E_NOMEM.",
    "nn_model_free": "Releases a model and everything it owns. NULL is a no-op. The handle,\nand any pointer nn_model_params or nn_model_grads returned for it, are\ninvalid afterwards.",
    "nn_model_add_dense": "Appends a dense layer of width outputs with activation act. Its weights\nare drawn from the model's generator as the layer's NN_LAYER_INIT\nsetting says, by default (NN_INIT_AUTO) He-uniform,\nU(-sqrt(6/in), +sqrt(6/in)), for relu, leaky relu, GELU, SiLU and ELU\nlayers, and Glorot/Xavier-uniform, U(-sqrt(6/(in+out)), +sqrt(6/(in+out))),\nfor the others. Biases start at zero.\nNo layer of any kind may follow a softmax (dense or activation) layer.\nEvery nn_model_add_* call: invalidates pointers previously returned by\nnn_model_params and nn_model_grads, resets the optimizer's state and step\ncount, and costs O(1) amortised beyond the new layer's own parameters\n(the parameter buffers grow geometrically), so building L layers is\nlinear in the model's size.\nReturns NN_OK, NN_E_NULL, NN_E_INVALID (width 0 or above 2^31 - 1, unknown\nact), NN_E_STATE (the last layer is softmax), NN_E_OVERFLOW, NN_E_NOMEM.",
    "nn_model_add_dropout": "Since 0.2. Appends inverted dropout with drop probability rate in\n[0, 1) (the layer setting NN_LAYER_DROPOUT_RATE). In training mode each\nunit is kept with probability 1 - rate and then multiplied by\n(float)(1 / (1 - rate)), or set to 0; in inference mode the layer is the\nidentity, so predictions of a model with dropout equal, bit for bit,\nthose of the same model without it. Which units a step drops depends\nonly on the model's seed (nn_model_create), the step count\n(nn_model_step_count), the layer's index and the row's position in the\nbatch: the same seed gives the same run, bit for bit, and a batch split\ninto parts that know their rows' positions draws the same masks.\nnn_model_compute_grads draws the masks of the step that would follow it.\nReturns as nn_model_add_dense; NN_E_INVALID also for a rate outside\n[0, 1) or NaN.",
    "nn_model_add_batchnorm": "Since 0.2. Appends batch normalization over the features, as\ntorch.nn.BatchNorm1d defines it, with a learnable scale gamma (the\nlayer's weights, starting at 1) and shift beta (its bias, starting at\n0). In training mode, with the batch's per-feature mean m and biased\nvariance v, y = gamma (x - m) / sqrt(v + eps) + beta, and a step that\nsucceeds updates the running statistics: mean_r = (1 - mom) mean_r +\nmom m and var_r = (1 - mom) var_r + mom v n / (n - 1) (the unbiased\nvariance), for mom = NN_LAYER_MOMENTUM (default 0.1) and eps =\nNN_LAYER_EPSILON (default 1e-5). They start at 0 and 1 and are the\nlayer's buffers (nn_model_get_layer_buffers). In inference mode\ny = gamma (x - mean_r) / sqrt(var_r + eps) + beta. A training batch of\none row is refused with NN_E_INVALID, as PyTorch refuses it.\nReturns as nn_model_add_dense.",
    "nn_model_add_layernorm": "Since 0.2. Appends layer normalization over each row, as\ntorch.nn.LayerNorm(width) defines it: with the row's mean m and biased\nvariance v, y = gamma (x - m) / sqrt(v + eps) + beta, gamma (the layer's\nweights) starting at 1, beta (its bias) at 0, eps = NN_LAYER_EPSILON\n(default 1e-5). The same in training and inference mode.\nReturns as nn_model_add_dense.",
    "nn_model_add_activation": "Since 0.2. Appends an activation on its own, y = act(x) (for example\nafter a batch normalization, as torch.nn.ReLU() would stand in a\nSequential). Softmax only as the last layer. The activation's setting\n(NN_LAYER_LEAKY_SLOPE, NN_LAYER_ELU_ALPHA) is the layer's.\nReturns as nn_model_add_dense.",
    "nn_model_add_scaling": "Since 0.2. Appends a fixed per-feature scaling, y_j = x_j scale_j +\nshift_j, for example to standardise inputs ((x - mean) / sd is\nscale = 1 / sd, shift = -mean / sd). scale and shift (count floats\neach, count equal to the layer's width) are copied; they are the\nlayer's buffers, not parameters: training does not change them.\nReturns as nn_model_add_dense; NN_E_NULL also for scale or shift,\nNN_E_SHAPE for count, NN_E_INVALID for a value that is not finite.",
    "nn_model_set_loss": "Sets the loss minimised by training. A model has no loss until this is\ncalled. Whether the loss fits the output activation is checked when\ntraining starts (layers may still be added after this call).\nReturns NN_OK, NN_E_NULL, NN_E_INVALID (unknown loss).",
    "nn_model_input_width": "The model's shape. nn_model_input_width is 0 and nn_model_layer_count is 0\nfor a NULL model; nn_model_output_width is 0 when there are no layers.\nnn_model_layer_width gives the output width of layer `layer` (0-based), 0\nfor an index out of range. Thread-safe on a const model.",
    "nn_model_output_width": "The model's shape. nn_model_input_width is 0 and nn_model_layer_count is 0\nfor a NULL model; nn_model_output_width is 0 when there are no layers.\nnn_model_layer_width gives the output width of layer `layer` (0-based), 0\nfor an index out of range. Thread-safe on a const model.",
    "nn_model_layer_count": "The model's shape. nn_model_input_width is 0 and nn_model_layer_count is 0\nfor a NULL model; nn_model_output_width is 0 when there are no layers.\nnn_model_layer_width gives the output width of layer `layer` (0-based), 0\nfor an index out of range. Thread-safe on a const model.",
    "nn_model_layer_width": "The model's shape. nn_model_input_width is 0 and nn_model_layer_count is 0\nfor a NULL model; nn_model_output_width is 0 when there are no layers.\nnn_model_layer_width gives the output width of layer `layer` (0-based), 0\nfor an index out of range. Thread-safe on a const model.",
    "nn_model_layer_kind": "Since 0.2. What a model is, for printing it in full and for bindings\nthat rebuild it; each returns 0 for a NULL model or a layer index out of\nrange. Thread-safe on a const model.\nnn_model_layer_kind: the layer's nn_layer_kind.\nnn_model_layer_activation: the activation of a dense or activation\n  layer; 0 for the other kinds.\nnn_model_layer_weight_count, nn_model_layer_bias_count: the floats of\n  the layer's weights and bias as nn_model_get_weights and\n  nn_model_get_bias copy them: in x out and out for dense layers, width\n  and width (gamma and beta) for batch and layer normalization, 0 for\n  the other kinds.\nnn_model_layer_buffer_count: the floats of the layer's buffers\n  (nn_model_get_layer_buffers): 2 x width for batch normalization and\n  scaling, 0 for the other kinds.\nnn_model_loss, nn_model_optimizer, nn_model_schedule: the model's\n  choices (nn_model_loss is 0 until a loss is set).",
    "nn_model_layer_activation": "Since 0.2. What a model is, for printing it in full and for bindings\nthat rebuild it; each returns 0 for a NULL model or a layer index out of\nrange. Thread-safe on a const model.\nnn_model_layer_kind: the layer's nn_layer_kind.\nnn_model_layer_activation: the activation of a dense or activation\n  layer; 0 for the other kinds.\nnn_model_layer_weight_count, nn_model_layer_bias_count: the floats of\n  the layer's weights and bias as nn_model_get_weights and\n  nn_model_get_bias copy them: in x out and out for dense layers, width\n  and width (gamma and beta) for batch and layer normalization, 0 for\n  the other kinds.\nnn_model_layer_buffer_count: the floats of the layer's buffers\n  (nn_model_get_layer_buffers): 2 x width for batch normalization and\n  scaling, 0 for the other kinds.\nnn_model_loss, nn_model_optimizer, nn_model_schedule: the model's\n  choices (nn_model_loss is 0 until a loss is set).",
    "nn_model_layer_weight_count": "Since 0.2. What a model is, for printing it in full and for bindings\nthat rebuild it; each returns 0 for a NULL model or a layer index out of\nrange. Thread-safe on a const model.\nnn_model_layer_kind: the layer's nn_layer_kind.\nnn_model_layer_activation: the activation of a dense or activation\n  layer; 0 for the other kinds.\nnn_model_layer_weight_count, nn_model_layer_bias_count: the floats of\n  the layer's weights and bias as nn_model_get_weights and\n  nn_model_get_bias copy them: in x out and out for dense layers, width\n  and width (gamma and beta) for batch and layer normalization, 0 for\n  the other kinds.\nnn_model_layer_buffer_count: the floats of the layer's buffers\n  (nn_model_get_layer_buffers): 2 x width for batch normalization and\n  scaling, 0 for the other kinds.\nnn_model_loss, nn_model_optimizer, nn_model_schedule: the model's\n  choices (nn_model_loss is 0 until a loss is set).",
    "nn_model_layer_bias_count": "Since 0.2. What a model is, for printing it in full and for bindings\nthat rebuild it; each returns 0 for a NULL model or a layer index out of\nrange. Thread-safe on a const model.\nnn_model_layer_kind: the layer's nn_layer_kind.\nnn_model_layer_activation: the activation of a dense or activation\n  layer; 0 for the other kinds.\nnn_model_layer_weight_count, nn_model_layer_bias_count: the floats of\n  the layer's weights and bias as nn_model_get_weights and\n  nn_model_get_bias copy them: in x out and out for dense layers, width\n  and width (gamma and beta) for batch and layer normalization, 0 for\n  the other kinds.\nnn_model_layer_buffer_count: the floats of the layer's buffers\n  (nn_model_get_layer_buffers): 2 x width for batch normalization and\n  scaling, 0 for the other kinds.\nnn_model_loss, nn_model_optimizer, nn_model_schedule: the model's\n  choices (nn_model_loss is 0 until a loss is set).",
    "nn_model_layer_buffer_count": "Since 0.2. What a model is, for printing it in full and for bindings\nthat rebuild it; each returns 0 for a NULL model or a layer index out of\nrange. Thread-safe on a const model.\nnn_model_layer_kind: the layer's nn_layer_kind.\nnn_model_layer_activation: the activation of a dense or activation\n  layer; 0 for the other kinds.\nnn_model_layer_weight_count, nn_model_layer_bias_count: the floats of\n  the layer's weights and bias as nn_model_get_weights and\n  nn_model_get_bias copy them: in x out and out for dense layers, width\n  and width (gamma and beta) for batch and layer normalization, 0 for\n  the other kinds.\nnn_model_layer_buffer_count: the floats of the layer's buffers\n  (nn_model_get_layer_buffers): 2 x width for batch normalization and\n  scaling, 0 for the other kinds.\nnn_model_loss, nn_model_optimizer, nn_model_schedule: the model's\n  choices (nn_model_loss is 0 until a loss is set).",
    "nn_model_loss": "Since 0.2. What a model is, for printing it in full and for bindings\nthat rebuild it; each returns 0 for a NULL model or a layer index out of\nrange. Thread-safe on a const model.\nnn_model_layer_kind: the layer's nn_layer_kind.\nnn_model_layer_activation: the activation of a dense or activation\n  layer; 0 for the other kinds.\nnn_model_layer_weight_count, nn_model_layer_bias_count: the floats of\n  the layer's weights and bias as nn_model_get_weights and\n  nn_model_get_bias copy them: in x out and out for dense layers, width\n  and width (gamma and beta) for batch and layer normalization, 0 for\n  the other kinds.\nnn_model_layer_buffer_count: the floats of the layer's buffers\n  (nn_model_get_layer_buffers): 2 x width for batch normalization and\n  scaling, 0 for the other kinds.\nnn_model_loss, nn_model_optimizer, nn_model_schedule: the model's\n  choices (nn_model_loss is 0 until a loss is set).",
    "nn_model_set_param": "Sets a setting of the model, read by the steps and fits that follow.\nKeys whose bounds are counts or flags (steps, epochs, batch size,\nNesterov, shuffle, patience) take whole numbers only.\nReturns NN_OK, NN_E_NULL, NN_E_INVALID (unknown key; a value outside the\nkey's bounds, NaN, or a fraction for a whole-number key: the setting is\nunchanged).",
    "nn_model_get_param": "*value receives the current value of a setting (its default until set).\nReturns NN_OK, NN_E_NULL (model, value), NN_E_INVALID (unknown key).",
    "nn_param_bounds": "Bounds and default of a key, for FFI users who do not parse this header.\nAny of lo, hi, def may be NULL. Returns NN_OK or NN_E_INVALID.",
    "nn_model_set_layer_param": "Set and read a setting of layer `layer` (0-based). A layer's settings\nstart at their defaults when it is added. NN_LAYER_LEAKY_SLOPE and\nNN_LAYER_ELU_ALPHA are stored as floats, so get returns\n(double)(float)value; the others as given.\nReturns NN_OK, NN_E_NULL (model; value for get), NN_E_INVALID (layer out\nof range, unknown key, a key the layer's kind does not have, value\noutside the bounds or NaN).",
    "nn_model_get_layer_param": "Set and read a setting of layer `layer` (0-based). A layer's settings\nstart at their defaults when it is added. NN_LAYER_LEAKY_SLOPE and\nNN_LAYER_ELU_ALPHA are stored as floats, so get returns\n(double)(float)value; the others as given.\nReturns NN_OK, NN_E_NULL (model; value for get), NN_E_INVALID (layer out\nof range, unknown key, a key the layer's kind does not have, value\noutside the bounds or NaN).",
    "nn_layer_param_bounds": "Bounds and default of a per-layer key, as nn_param_bounds.",
    "nn_param_name": "Since 0.2. The name of an enum value, as a static lowercase identifier\nfor messages, files and command lines: nn_param_name(\nNN_PARAM_LEARNING_RATE) is \"learning_rate\", nn_activation_name(\nNN_ACT_LEAKY_RELU) \"leaky_relu\", nn_layer_kind_name(NN_KIND_BATCHNORM)\n\"batchnorm\" (each is the enum value's name after its prefix, in lower\ncase). NULL for a value that is not one of the enum's, so a binding can\nlist every value by counting up from 1 until NULL. Thread-safe.",
    "nn_layer_param_name": "Since 0.2. The name of an enum value, as a static lowercase identifier\nfor messages, files and command lines: nn_param_name(\nNN_PARAM_LEARNING_RATE) is \"learning_rate\", nn_activation_name(\nNN_ACT_LEAKY_RELU) \"leaky_relu\", nn_layer_kind_name(NN_KIND_BATCHNORM)\n\"batchnorm\" (each is the enum value's name after its prefix, in lower\ncase). NULL for a value that is not one of the enum's, so a binding can\nlist every value by counting up from 1 until NULL. Thread-safe.",
    "nn_activation_name": "Since 0.2. The name of an enum value, as a static lowercase identifier\nfor messages, files and command lines: nn_param_name(\nNN_PARAM_LEARNING_RATE) is \"learning_rate\", nn_activation_name(\nNN_ACT_LEAKY_RELU) \"leaky_relu\", nn_layer_kind_name(NN_KIND_BATCHNORM)\n\"batchnorm\" (each is the enum value's name after its prefix, in lower\ncase). NULL for a value that is not one of the enum's, so a binding can\nlist every value by counting up from 1 until NULL. Thread-safe.",
    "nn_loss_name": "Since 0.2. The name of an enum value, as a static lowercase identifier\nfor messages, files and command lines: nn_param_name(\nNN_PARAM_LEARNING_RATE) is \"learning_rate\", nn_activation_name(\nNN_ACT_LEAKY_RELU) \"leaky_relu\", nn_layer_kind_name(NN_KIND_BATCHNORM)\n\"batchnorm\" (each is the enum value's name after its prefix, in lower\ncase). NULL for a value that is not one of the enum's, so a binding can\nlist every value by counting up from 1 until NULL. Thread-safe.",
    "nn_layer_kind_name": "Since 0.2. The name of an enum value, as a static lowercase identifier\nfor messages, files and command lines: nn_param_name(\nNN_PARAM_LEARNING_RATE) is \"learning_rate\", nn_activation_name(\nNN_ACT_LEAKY_RELU) \"leaky_relu\", nn_layer_kind_name(NN_KIND_BATCHNORM)\n\"batchnorm\" (each is the enum value's name after its prefix, in lower\ncase). NULL for a value that is not one of the enum's, so a binding can\nlist every value by counting up from 1 until NULL. Thread-safe.",
    "nn_init_name": "Since 0.2. The name of an enum value, as a static lowercase identifier\nfor messages, files and command lines: nn_param_name(\nNN_PARAM_LEARNING_RATE) is \"learning_rate\", nn_activation_name(\nNN_ACT_LEAKY_RELU) \"leaky_relu\", nn_layer_kind_name(NN_KIND_BATCHNORM)\n\"batchnorm\" (each is the enum value's name after its prefix, in lower\ncase). NULL for a value that is not one of the enum's, so a binding can\nlist every value by counting up from 1 until NULL. Thread-safe.",
    "nn_model_set_class_weights": "Since 0.2. Class weights for NN_LOSS_CROSS_ENTROPY (see nn_loss): count\nfloats, finite and >= 0, one per class, copied into the model; count 0\nremoves them (w may then be NULL). Training and evaluation need count to\nequal the output width (NN_E_STATE otherwise) and the cross-entropy loss\n(NN_E_STATE with another). A batch whose rows' classes all weigh 0 has a\nloss of 0 / 0, which its step rejects (NN_E_NONFINITE).\nReturns NN_OK, NN_E_NULL (model; w with count > 0), NN_E_INVALID (a\nvalue that is negative or not finite, count above 2^31 - 1),\nNN_E_NOMEM.",
    "nn_model_class_weight_count": "Since 0.2. The number of class weights (0: none, or a NULL model), and a\ncopy of them: count must equal that number.\nReturns NN_OK, NN_E_NULL, NN_E_SHAPE (count). Thread-safe on a const\nmodel.",
    "nn_model_get_class_weights": "Since 0.2. The number of class weights (0: none, or a NULL model), and a\ncopy of them: count must equal that number.\nReturns NN_OK, NN_E_NULL, NN_E_SHAPE (count). Thread-safe on a const\nmodel.",
    "nn_model_set_meta": "Since 0.2. Metadata: text the model carries and its files keep, for\nexample class names or how the inputs were prepared. A key is 1 to 255\nbytes, a value at most 2^24 bytes; both end at their NUL and are copied.\nA model holds at most 1024 keys.\nSetting a key that exists replaces its value in place; a NULL value\nremoves the key. nn_model_get_meta returns the value of key, or NULL if\nit has none; nn_model_meta_count and nn_model_meta_key list the keys in\nthe order they were first set. Returned strings belong to the model and\nstay valid until the next call that changes its metadata or frees it.\nThe getters are thread-safe on a const model.\nnn_model_set_meta returns NN_OK, NN_E_NULL (model, key), NN_E_INVALID\n(an empty or too long key, a too long value, a 1025th key), NN_E_NOMEM.",
    "nn_model_get_meta": "Since 0.2. Metadata: text the model carries and its files keep, for\nexample class names or how the inputs were prepared. A key is 1 to 255\nbytes, a value at most 2^24 bytes; both end at their NUL and are copied.\nA model holds at most 1024 keys.\nSetting a key that exists replaces its value in place; a NULL value\nremoves the key. nn_model_get_meta returns the value of key, or NULL if\nit has none; nn_model_meta_count and nn_model_meta_key list the keys in\nthe order they were first set. Returned strings belong to the model and\nstay valid until the next call that changes its metadata or frees it.\nThe getters are thread-safe on a const model.\nnn_model_set_meta returns NN_OK, NN_E_NULL (model, key), NN_E_INVALID\n(an empty or too long key, a too long value, a 1025th key), NN_E_NOMEM.",
    "nn_model_meta_count": "Since 0.2. Metadata: text the model carries and its files keep, for\nexample class names or how the inputs were prepared. A key is 1 to 255\nbytes, a value at most 2^24 bytes; both end at their NUL and are copied.\nA model holds at most 1024 keys.\nSetting a key that exists replaces its value in place; a NULL value\nremoves the key. nn_model_get_meta returns the value of key, or NULL if\nit has none; nn_model_meta_count and nn_model_meta_key list the keys in\nthe order they were first set. Returned strings belong to the model and\nstay valid until the next call that changes its metadata or frees it.\nThe getters are thread-safe on a const model.\nnn_model_set_meta returns NN_OK, NN_E_NULL (model, key), NN_E_INVALID\n(an empty or too long key, a too long value, a 1025th key), NN_E_NOMEM.",
    "nn_model_meta_key": "Since 0.2. Metadata: text the model carries and its files keep, for\nexample class names or how the inputs were prepared. A key is 1 to 255\nbytes, a value at most 2^24 bytes; both end at their NUL and are copied.\nA model holds at most 1024 keys.\nSetting a key that exists replaces its value in place; a NULL value\nremoves the key. nn_model_get_meta returns the value of key, or NULL if\nit has none; nn_model_meta_count and nn_model_meta_key list the keys in\nthe order they were first set. Returned strings belong to the model and\nstay valid until the next call that changes its metadata or frees it.\nThe getters are thread-safe on a const model.\nnn_model_set_meta returns NN_OK, NN_E_NULL (model, key), NN_E_INVALID\n(an empty or too long key, a too long value, a 1025th key), NN_E_NOMEM.",
    "nn_model_predict": "Forward pass of n rows: x is n x x_width, y receives n x y_width floats.\nx_width must equal the input width and y_width the output width.\nDoes not change the model: it may run on one model from many threads at\nonce. Works through at most 256 rows at a time, whatever n is, in\nscratch memory that the model keeps for the next call (freed with it):\nonce the model has predicted min(n, 256) rows, a call allocates nothing,\nunless another thread is predicting on the same model at that moment\n(the two calls then never share scratch; one allocates its own) or the\nparameters changed since the last call (see below).\nWhere the CPU has AVX-512F, or AVX2 and FMA (x86-64; libnn built with\nGCC or clang and NN_KERNEL on, the default), the dense layers' products\nrun in libnn's own kernel, on the calling thread, rather than in the\nBLAS: all but the tiniest (fewer than 8 multiply-adds), a rule on the\nproduct's shape measured on such CPUs. The choice is made once per\nprocess, from the CPU and from the environment variable NN_GEMM\n(NN_GEMM=blas, set before the first call, keeps the BLAS for every\nproduct; NN_GEMM=avx2 runs the AVX2 build even where the CPU has\nAVX-512F), so results are the same from run to run for a given build,\nCPU and thread count (a product of a few rows that goes to OpenBLAS\nwhile it has two or more threads is given to it in parts, as\nnn_model_train_batch says). The kernel's AVX-512 and AVX2 builds give the\nsame bits; its results differ from the BLAS's by float rounding, and a\nrow's do not depend on n or on the other rows. The kernel reads a copy of the\ndense layers' weights laid out for it, which the first call after the\nparameters change builds and the model keeps (as many bytes as those\nweights; freed with the model, and dropped by every change to the\nparameters); if that copy cannot be allocated, the call reads the\nweights where they are, with the same results, more slowly, and a later\ncall tries again. No copy is built while a pointer from\nnn_model_params is out (until the next nn_model_add_* call): those calls\nread the weights where they are.\nReturns NN_OK, NN_E_NULL, NN_E_INVALID (n 0), NN_E_SHAPE, NN_E_STATE (no\nlayers), NN_E_OVERFLOW, NN_E_NOMEM (the scratch, never the copy).",
    "nn_model_train_batch": "One training step on a batch of n rows: forward pass, loss, backward pass\nand an update of every weight and bias with plain gradient descent,\nw -= learning_rate * dL/dw.\nt holds n x t_width targets; t_width must equal the output width. If loss\nis not NULL it receives the batch loss computed before the update.\nThe first step at a batch size larger than any before grows the model's\nworkspace; later steps at that size or smaller allocate nothing.\nA batch with little arithmetic (n times the net's multiply-adds per row at\nmost 320: a 2-2-1 net up to 53 rows) runs through direct loops rather\nthan BLAS, which costs more than such a batch's arithmetic. The two agree\nto float rounding, and which one runs depends only on the layers and n,\nnot on earlier calls. Where the CPU has AVX-512F, the products run in\nlibnn's own kernel rather than the BLAS, as nn_model_predict describes,\neach as a rule on its shape says (the forward products at any n, the\nothers from a few rows on); where it has AVX2 and FMA but not AVX-512F,\nonly the products of layers of at most 16 outputs do (forward at any n,\nbackward from 16 rows, the weights' gradient from 128), measured against\nthe BLAS's own AVX2 kernels. With AVX-512F, a product of 2^26\nmultiply-adds or more (784-1024-1024-10 from 64 rows, say) runs on two\nthreads where the BLAS has two (nn_set_blas_threads; OpenBLAS's default\non a machine of two cores), with the same bits as on one, and goes to\nthe BLAS and its threads from 2^27 where it has more than two; where\nthe BLAS has two or more, a product of a few rows that the BLAS would\nrun on its threads (above 2^18 multiply-adds) runs in the kernel on the\ncalling thread instead, and its results may differ from one thread's\nby float rounding. A product that goes to OpenBLAS while it has two\nor more threads (the kernel's AVX2 build, NN_GEMM=blas, other CPUs)\nand that has at most 16 rows in the batch and more than 2^18 but at\nmost 2^23 multiply-adds is given to it in parts of at most 2^18, which\nOpenBLAS forms on the calling thread, one after the other (its threads\ncost more than they share there); those results, too, may differ from\none thread's by float rounding. So the choice depends on the layers, n\nand the BLAS's thread count, and a dense layer's\nforward product through the kernel gives each row the same bits\nwhatever the other rows of the batch, and the same bits as\nnn_model_predict, as the BLAS's need not.\nThe layers run in training mode (see the Overview); a step that succeeds\nalso updates the running statistics of batch normalization layers, and\none row is too few for a model with such a layer (NN_E_INVALID).\nIf the loss or any gradient is NaN or infinite, or an updated parameter\nwould be, the step returns NN_E_NONFINITE and leaves every weight, bias,\nrunning statistic and optimizer state exactly as it was; *loss still\nreceives the loss computed.\nThe gradient buffer (nn_model_grads) is scratch: after a step its\ncontents are unspecified, except that a rejected step leaves the\nrejected gradients there. (SGD without clipping or Nesterov momentum,\non a batch that does not take the small-net path, does not store dL/dW:\nplain SGD adds -learning_rate * dL/dW to the weights inside the matrix\nproduct that forms dL/dW; with momentum that product adds\n(1 - dampening) * dL/dW to the momentum buffer, and the weights then\nmove by -learning_rate times the buffer. The result agrees with\nnn_model_compute_grads followed by nn_model_apply_grads to float\nrounding. Every other step is exactly those two calls.)\nInputs and targets are not scanned for NaN or infinity before the step: a\nnon-finite value makes the loss or a gradient non-finite, and the step\nfinds that after the backward pass, in one pass over the gradients or\n(folded SGD) over the parameters or the momentum buffer, the products'\ninputs and the deltas\n(the cost is O(parameters + n x widths), against O(n x parameters) for\nthe products) and rejects it. A NaN input therefore costs little on the\ngood path and never reaches the weights. One step takes at most 2^31 - 1 rows (BLAS\ntakes int dimensions); more gives NN_E_OVERFLOW.\nReturns NN_OK, NN_E_NULL, NN_E_INVALID (n 0; n 1 with batch\nnormalization; a misaligned array), NN_E_SHAPE, NN_E_STATE (no layers,\nno loss, a loss that does not fit the output activation, class weights\nthat do not fit the output width or the loss), NN_E_OVERFLOW,\nNN_E_NOMEM, NN_E_NONFINITE.",
    "nn_model_train_batch_labels": "As nn_model_train_batch, with the targets given as n class labels in\n[0, output width), for NN_LOSS_CROSS_ENTROPY only (NN_E_STATE otherwise).\nA label out of range gives NN_E_INVALID.",
    "nn_model_compute_grads": "Forward and backward passes without an update: afterwards the model's\ngradient buffer holds dL/dW and dL/db of this batch (read it with\nnn_model_get_layer_grads or nn_model_grads) and nn_model_apply_grads can\napply it. Arguments, statuses and allocation as nn_model_train_batch; on\nNN_E_NONFINITE the gradients are kept so the caller can inspect them.\nThe layers run in training mode, with the dropout masks of the step\nthat follows (nn_model_step_count), and a call that succeeds updates the\nrunning statistics of batch normalization, as a forward pass of a\nPyTorch module in training mode does: compute_grads followed by\napply_grads is one training step.",
    "nn_model_compute_grads_labels": "Forward and backward passes without an update: afterwards the model's\ngradient buffer holds dL/dW and dL/db of this batch (read it with\nnn_model_get_layer_grads or nn_model_grads) and nn_model_apply_grads can\napply it. Arguments, statuses and allocation as nn_model_train_batch; on\nNN_E_NONFINITE the gradients are kept so the caller can inspect them.\nThe layers run in training mode, with the dropout masks of the step\nthat follows (nn_model_step_count), and a call that succeeds updates the\nrunning statistics of batch normalization, as a forward pass of a\nPyTorch module in training mode does: compute_grads followed by\napply_grads is one training step.",
    "nn_model_apply_grads": "Applies the gradient buffer to the parameters, as the update half of\nnn_model_train_batch does (to float rounding where that step folds plain\nSGD into its products; see nn_model_train_batch). The caller may have\nchanged the gradients through nn_model_grads first. Returns NN_OK, NN_E_NULL, NN_E_STATE (no\nlayers), NN_E_NONFINITE (a gradient or an updated parameter is not finite;\nnothing changed).",
    "nn_model_set_optimizer": "Chooses the optimizer and resets its state and the step count (so the\nschedule restarts too). Settings are kept. Setting the current optimizer\nagain also resets.\nReturns NN_OK, NN_E_NULL, NN_E_INVALID (unknown kind).",
    "nn_model_set_schedule": "Chooses how the learning rate follows the step count (t = steps taken\nsince the optimizer was chosen, less the warm-up). Does not reset the step\ncount. Returns NN_OK, NN_E_NULL, NN_E_INVALID.",
    "nn_model_optimizer": "Since 0.2. The model's optimizer and schedule (0 for a NULL model), and\ntheir names, as nn_param_name.",
    "nn_model_schedule": "Since 0.2. The model's optimizer and schedule (0 for a NULL model), and\ntheir names, as nn_param_name.",
    "nn_optimizer_name": "Since 0.2. The model's optimizer and schedule (0 for a NULL model), and\ntheir names, as nn_param_name.",
    "nn_schedule_name": "Since 0.2. The model's optimizer and schedule (0 for a NULL model), and\ntheir names, as nn_param_name.",
    "nn_model_step_count": "The number of updates applied since the optimizer was chosen. 0 for a\nNULL model.",
    "nn_model_current_lr": "The learning rate the next update will use (schedule and warm-up\napplied). Returns NN_OK, NN_E_NULL.",
    "nn_model_set_reducer": "Since 0.2. Sets the reducer of data-parallel passes; NULL removes it.\nuser is passed to it. Returns NN_OK, NN_E_NULL (model).",
    "nn_model_set_batch_part": "Since 0.2. The rows of the following nn_model_compute_grads(_labels)\ncalls are rows [first_row, first_row + n) of a global batch of\nglobal_rows rows; global_rows 0 (the default) ends this, and passes see\nwhole batches again. While it holds: compute_grads normalises the loss\nand its gradient by the global batch (so the buffers of the parts sum to\nthe whole's gradient), takes n = 0, refuses n with first_row + n above\nglobal_rows (NN_E_SHAPE), needs a reducer where the model has batch\nnormalization or class weights (NN_E_STATE), and its *loss is the whole\nbatch's when a reducer is set (else this part's share). nn_model_fit\nrefuses (NN_E_STATE: it splits batches itself, see\nnn_model_set_replica), and so does nn_model_train_batch(_labels) unless\nthe model is a replica with a gradient reducer: reduce the gradients,\nthen nn_model_apply_grads. Not saved in model files.\nReturns NN_OK, NN_E_NULL (model), NN_E_INVALID (first_row not below\nglobal_rows, global_rows above 2^31 - 1).",
    "nn_model_set_grads_ready": "Since 0.2. Sets that callback; NULL removes it. Returns NN_OK,\nNN_E_NULL (model).",
    "nn_model_set_replica": "Since 0.2. Makes this process replica `rank` of `count` processes that\ntrain one model together, each holding the same model (same parameters,\nsettings, optimizer state and generator: save one process's checkpoint\nand load it in the others) and the same reducer (nn_model_set_reducer).\nreduce_grads sums the gradient buffer; user is passed to it. count 0\nends this (rank and reduce_grads are then ignored); count 1 is one\nprocess, and every call works as without it. With count of 2 or more:\n\n- nn_model_fit and nn_model_fit_resume take the same datasets on every\n  replica (every row: each dataset is a view, so the rows can be a\n  shared or memory-mapped file) and run the same epochs, in the same\n  order, with the same global batches as one process would; of each\n  global batch of k rows, replica r trains on rows [k r / count,\n  k (r+1) / count) of it, the gradients are summed with reduce_grads,\n  and every replica takes the same step. Losses, validation and early\n  stopping are the whole batch's and the whole set's on every replica,\n  the callbacks are called on every replica with the same values, and a\n  stop or an interruption asked for by any replica's callback stops or\n  interrupts all of them at the same step. An interrupted run is the\n  same on every replica: one replica saves the checkpoint, and the run\n  resumes with any number of replicas (or none).\n- nn_model_train_batch(_labels) takes this replica's rows of a batch\n  given with nn_model_set_batch_part, sums the gradients and steps.\n- nn_model_evaluate takes the whole set on every replica, evaluates\n  rows [n r / count, n (r+1) / count) of it and sums, so every replica\n  gets the whole set's loss and accuracy.\n\nA failing reducer makes these calls fail with NN_E_REDUCE. The result\nequals one process's to float rounding (the sums' order differs); with\ncount 1 it is bit for bit one process's. Not saved in model files.\nReturns NN_OK, NN_E_NULL (model; reduce_grads with count above 1),\nNN_E_INVALID (rank not below count, count above 65536).",
    "nn_data_create": "Create a dataset of n rows: targets t (n x t_width floats, for any loss)\nor class labels (n, for NN_LOSS_CROSS_ENTROPY). On success *out is the new\ndataset, owned by the caller and released with nn_data_free.\nReturns NN_OK, NN_E_NULL (out, x, t or labels), NN_E_INVALID (n or a width\n0, a negative label), NN_E_OVERFLOW, NN_E_NOMEM.",
    "nn_data_create_labels": "Create a dataset of n rows: targets t (n x t_width floats, for any loss)\nor class labels (n, for NN_LOSS_CROSS_ENTROPY). On success *out is the new\ndataset, owned by the caller and released with nn_data_free.\nReturns NN_OK, NN_E_NULL (out, x, t or labels), NN_E_INVALID (n or a width\n0, a negative label), NN_E_OVERFLOW, NN_E_NOMEM.",
    "nn_data_create_u8": "Since 0.2. As nn_data_create and nn_data_create_labels for inputs held\nas bytes (images, say): x is n x x_width uint8_t values, each of which\nthe model reads as the float of the same value, 0 to 255 (no scaling; a\nscaling layer or the first layer's weights do that); x needs no\nalignment. Fit and evaluate convert the rows they read (fit's batch,\nevaluate's slices of at most 256 rows), so the set takes a quarter of\nthe memory its floats would, and every result is bit for bit the one of\na float dataset holding the same values. Returns as nn_data_create and\nnn_data_create_labels.",
    "nn_data_create_labels_u8": "Since 0.2. As nn_data_create and nn_data_create_labels for inputs held\nas bytes (images, say): x is n x x_width uint8_t values, each of which\nthe model reads as the float of the same value, 0 to 255 (no scaling; a\nscaling layer or the first layer's weights do that); x needs no\nalignment. Fit and evaluate convert the rows they read (fit's batch,\nevaluate's slices of at most 256 rows), so the set takes a quarter of\nthe memory its floats would, and every result is bit for bit the one of\na float dataset holding the same values. Returns as nn_data_create and\nnn_data_create_labels.",
    "nn_data_free": "Releases the dataset, not the caller's arrays. NULL is a no-op.",
    "nn_data_rows": "Rows in the dataset; 0 for NULL.",
    "nn_model_fit": "Trains on `train` for NN_PARAM_EPOCHS epochs of mini-batches of\nNN_PARAM_BATCH_SIZE rows, shuffled every epoch from the model's generator\nwhen NN_PARAM_SHUFFLE is 1 (so the same seed gives the same run, bit for\nbit), with early stopping when NN_PARAM_PATIENCE > 0. val may be NULL.\non_epoch and on_batch may be NULL; user is passed to them.\nAllocates everything it needs at the start (the workspace, the optimizer\nstate, a permutation, batch buffers, scratch for validation, a copy of the\nbest weights for early stopping): an NN_E_NOMEM comes before the first\nstep and leaves the parameters as they were; the steps allocate\nnothing.\nWhen fit ends with NN_PARAM_PATIENCE > 0 and at least one epoch done, for\nwhatever reason (epochs run out, early stop, a callback's stop), the model\nholds the parameters of the epoch with the lowest monitored loss; the\noptimizer's state and step count are not rolled back.\nIf a step fails (NN_E_NONFINITE), fit stops and returns that status; the\nmodel keeps the parameters of the last good step. A fit that fails\nbefore its first step succeeds changes nothing (not the generator, nor\nthe optimizer's state, nor an interrupted run).\nA callback that returns a negative value interrupts the run instead: fit\nreturns NN_OK at once and the model keeps the parameters of the last\nstep (no early-stopping restore), and remembers where the run stands\n(epoch, batch, the epoch's order, the loss so far, early stopping's best\nepoch and its parameters); a checkpoint saved then holds that too.\nnn_model_fit_resume continues such a run.\nThe callbacks may call functions that take a const nn_model * (predict,\nevaluate, get_weights, nn_model_save, ...) on the model being fitted,\nand nothing else on it.\nValidation runs the layers in inference mode. With batch normalization,\na training set, or a last batch of an epoch, of one row is refused before\nthe first step (NN_E_INVALID; choose another batch size).\nReturns NN_OK, NN_E_NULL, NN_E_SHAPE (widths), NN_E_INVALID (a label out\nof range; one row with batch normalization), NN_E_STATE (as\nnn_model_train_batch), NN_E_NOMEM, NN_E_OVERFLOW, NN_E_NONFINITE.",
    "nn_model_fit_resume": "Since 0.2. Continues the run that a callback of nn_model_fit\ninterrupted (a negative return), on the same model or on one loaded\nfrom a checkpoint saved after the interruption: the rest of the epoch in\nthe same order, then further epochs up to NN_PARAM_EPOCHS, exactly as if\nthe run had not been interrupted, so that the final model is the same,\nbit for bit (given the same data, BLAS and thread count). Callbacks see\nthe epochs and batches numbered as in the unbroken run. A resumed run\ncan be interrupted and resumed again. nn_model_fit, nn_model_set_optimizer\nand every nn_model_add_* call end an interrupted run.\nReturns as nn_model_fit; NN_E_STATE also when the model has no\ninterrupted run, or when train's row count or NN_PARAM_BATCH_SIZE is not\nthe run's.",
    "nn_model_evaluate": "Loss and accuracy of the model on a dataset, without training. loss and\naccuracy may each be NULL. Accuracy is the fraction of rows classified\nright: for labels, or targets of width > 1, the arg-max of the output\nagainst the label or the target's arg-max; for one output with\nNN_LOSS_BCE, output > 0.5 (sigmoid) or > 0 (identity logits) against\ntarget > 0.5. Otherwise (regression) it is NaN. Thread-safe on a const\nmodel, like nn_model_predict, whose products (and copy of the weights)\nit shares.\nReturns NN_OK, NN_E_NULL, NN_E_SHAPE, NN_E_INVALID (label), NN_E_STATE\n(no layers, no loss, a loss that does not fit the output activation, or\nlabels without NN_LOSS_CROSS_ENTROPY), NN_E_NOMEM.",
    "nn_set_blas_threads": "Sets how many threads the BLAS library uses for the products, process\nwide (OpenBLAS: openblas_set_num_threads). 0 means one thread per core.\nUntil it is called, the BLAS keeps its own default: OpenBLAS reads\nOPENBLAS_NUM_THREADS (then OMP_NUM_THREADS) when it loads, else takes\none thread per core; BLIS reads BLIS_NUM_THREADS (then\nOMP_NUM_THREADS), else runs one thread.\nThe products libnn's own kernel takes (see nn_model_predict) run\non the calling thread whatever the count, except the training products\nof 2^26 multiply-adds or more (see nn_model_train_batch): with a count\nof two, the kernel forms them on the calling thread and one thread it\nstarts for the product, with the same results, bit for bit, as on one;\nwith a count above two, those from 2^27 leave the kernel for the BLAS's\nthreads. With a count of two or more, the kernel also takes the\ntraining products of a few rows that the BLAS would split between its\nthreads, which cost more than they share there; where the kernel does\nnot (its AVX2 build, NN_GEMM=blas, other CPUs), OpenBLAS gets such\nproducts (at most 16 rows, up to 2^23 multiply-adds) in parts that it\nforms on the calling thread (see nn_model_train_batch).\nCall it while no other thread is inside libnn.\nReturns NN_OK, NN_E_INVALID (more than 1024), NN_E_STATE (the BLAS libnn\nwas built with cannot be told).",
    "nn_model_save_size": "*size receives the number of bytes of the file that nn_model_save would\nwrite and nn_model_save_buffer needs. It depends on the model's shape,\nthe number of settings and, for a checkpoint, on whether the optimizer\nhas state yet (it does from the first step after it is chosen).\nThread-safe on a const model.\nReturns NN_OK, NN_E_NULL, NN_E_INVALID (what), NN_E_OVERFLOW.",
    "nn_model_save_buffer": "Writes the file into buf, which has room for capacity bytes; the model\nkeeps no pointer to it. On success *written (when written is not NULL)\nreceives the file's size, as nn_model_save_size gives it. If capacity is\nsmaller, the call returns NN_E_SHAPE, writes nothing into buf and\n*written receives the size needed. Allocates nothing. Thread-safe on a\nconst model.\nReturns NN_OK, NN_E_NULL (model, buf), NN_E_INVALID (what), NN_E_SHAPE\n(capacity), NN_E_OVERFLOW, NN_E_NONFINITE (a parameter or optimizer\nstate value is NaN or infinite, which only writes through\nnn_model_params can cause: a file holds finite values only).",
    "nn_model_save": "Saves the model to the file path (a name in the system's encoding),\natomically: the bytes go to a new temporary file in path's directory,\nwhich is synced to disk, given a name and renamed over path; then the\ndirectory is synced. On Linux the temporary file is created without a\nname (O_TMPFILE) and named (\".nn-\" and 12 hex digits and \".tmp\") only\nonce it is complete and synced, so a crash while it is written leaves\nnothing behind; a crash in the instant between naming it and renaming it\ncan leave that complete file under its temporary name. Where the file\nsystem has no unnamed files, the temporary file is named from the start,\nand a crash during the save can leave it (since 0.2; before, the\ntemporary file was always named path with \".tmp.\" and 12 hex digits\nappended). The temporary name is short, so any name the system accepts\ncan be saved. If any step fails, path is untouched (an old file keeps\nits old content, a missing one stays missing), the temporary file is\nremoved and the call returns NN_E_IO with a message naming the file,\nthe step and the system's error text. One step comes after the\nreplacement: if only the final sync of the directory fails, path already\nholds the new file, and the message says that it may not survive a\ncrash. path is replaced, not rewritten: the new file has the permissions\nof a file the process creates (umask), not those of the old one, and a\nsymbolic link at path is replaced rather than followed. The directory\nmust exist and be readable and writable. Allocates the temporary name\nand a write buffer of at most 64 KiB, before touching the file system.\nThread-safe on a const model; saves to one path from several threads or\nprocesses each write a whole file, and the last rename wins.\nReturns NN_OK, NN_E_NULL (model, path), NN_E_INVALID (what; a path that\nis empty or ends in '/'), NN_E_OVERFLOW, NN_E_NONFINITE (as\nnn_model_save_buffer), NN_E_NOMEM, NN_E_IO.",
    "nn_model_load": "Loads the model file at path (a regular file) into a new model. The\nheader is checked against the file's real size first; then the whole\nfile is read into memory and loaded as by nn_model_load_buffer, so the\ncall needs the file's size on top of the model's. On success *out is the\nnew model, owned by the caller and released with nn_model_free; on\nfailure *out is NULL and nothing is left allocated. Thread-safe.\nReturns NN_OK, NN_E_NULL (out, path), NN_E_IO (the file cannot be\nopened or read, or is not a regular file), NN_E_FORMAT, NN_E_OVERFLOW,\nNN_E_NOMEM.",
    "nn_model_load_buffer": "Loads a model from the size bytes at buf, which must be exactly one\nmodel file: bytes after its end are an error. buf is only read, and not\nkept. *out as nn_model_load. Every size in the file is checked against\nthe bytes present before anything is allocated, so a load never\nallocates more than the bytes given imply. Thread-safe.\nReturns NN_OK, NN_E_NULL (out, buf), NN_E_FORMAT, NN_E_NOMEM.",
    "nn_model_get_weights": "Copy the weights (in x out floats, row-major, row i = weights leaving input\ni) or the bias (out floats) of layer `layer` (0-based) out of or into the\nmodel; for batch and layer normalization the weights are gamma and the\nbias beta (width floats each), and the other kinds have none\n(nn_model_layer_weight_count). count must equal the number of floats;\nwith count 0 the pointer may be NULL. Setting copies; the model never\nkeeps the caller's pointer. Set rejects non-finite values with\nNN_E_INVALID and changes nothing.\nReturns NN_OK, NN_E_NULL, NN_E_INVALID (layer out of range, non-finite\nvalue, misaligned array), NN_E_SHAPE (count).",
    "nn_model_set_weights": "Copy the weights (in x out floats, row-major, row i = weights leaving input\ni) or the bias (out floats) of layer `layer` (0-based) out of or into the\nmodel; for batch and layer normalization the weights are gamma and the\nbias beta (width floats each), and the other kinds have none\n(nn_model_layer_weight_count). count must equal the number of floats;\nwith count 0 the pointer may be NULL. Setting copies; the model never\nkeeps the caller's pointer. Set rejects non-finite values with\nNN_E_INVALID and changes nothing.\nReturns NN_OK, NN_E_NULL, NN_E_INVALID (layer out of range, non-finite\nvalue, misaligned array), NN_E_SHAPE (count).",
    "nn_model_get_bias": "Copy the weights (in x out floats, row-major, row i = weights leaving input\ni) or the bias (out floats) of layer `layer` (0-based) out of or into the\nmodel; for batch and layer normalization the weights are gamma and the\nbias beta (width floats each), and the other kinds have none\n(nn_model_layer_weight_count). count must equal the number of floats;\nwith count 0 the pointer may be NULL. Setting copies; the model never\nkeeps the caller's pointer. Set rejects non-finite values with\nNN_E_INVALID and changes nothing.\nReturns NN_OK, NN_E_NULL, NN_E_INVALID (layer out of range, non-finite\nvalue, misaligned array), NN_E_SHAPE (count).",
    "nn_model_set_bias": "Copy the weights (in x out floats, row-major, row i = weights leaving input\ni) or the bias (out floats) of layer `layer` (0-based) out of or into the\nmodel; for batch and layer normalization the weights are gamma and the\nbias beta (width floats each), and the other kinds have none\n(nn_model_layer_weight_count). count must equal the number of floats;\nwith count 0 the pointer may be NULL. Setting copies; the model never\nkeeps the caller's pointer. Set rejects non-finite values with\nNN_E_INVALID and changes nothing.\nReturns NN_OK, NN_E_NULL, NN_E_INVALID (layer out of range, non-finite\nvalue, misaligned array), NN_E_SHAPE (count).",
    "nn_model_get_layer_grads": "Copy dL/dW (in x out) or dL/db (out) of layer `layer` from the last\nnn_model_compute_grads or training step, in the layout of\nnn_model_get_weights and nn_model_get_bias. Zero before any. Statuses as\nnn_model_get_weights.",
    "nn_model_get_layer_buffers": "Since 0.2. Copy the buffers of layer `layer`: state that is not\ntrained by gradients but belongs to the model and its files. Batch\nnormalization: the running mean then the running variance (width floats\neach); scaling: scale then shift. count must equal\nnn_model_layer_buffer_count (with count 0 the pointer may be NULL). Set\nrejects non-finite values and negative variances with NN_E_INVALID and\nchanges nothing.\nReturns NN_OK, NN_E_NULL, NN_E_INVALID, NN_E_SHAPE (count).",
    "nn_model_set_layer_buffers": "Since 0.2. Copy the buffers of layer `layer`: state that is not\ntrained by gradients but belongs to the model and its files. Batch\nnormalization: the running mean then the running variance (width floats\neach); scaling: scale then shift. count must equal\nnn_model_layer_buffer_count (with count 0 the pointer may be NULL). Set\nrejects non-finite values and negative variances with NN_E_INVALID and\nchanges nothing.\nReturns NN_OK, NN_E_NULL, NN_E_INVALID, NN_E_SHAPE (count).",
    "nn_model_params": "The flat parameter and gradient buffers: for each layer in order, its\nweights then its bias (W_l, in_l x out_l, then b_l, out_l, for a dense\nlayer; gamma then beta for normalization; nothing for the other kinds).\n*count (if count is not NULL) receives the number of floats. The\npointers stay valid until the next nn_model_add_* call or nn_model_free;\nwrites through nn_model_params change the model. NULL (and *count 0) for\na NULL model or a model without parameters.\nPlain-SGD steps normally know a bound on the weights from the step\nbefore; writes through the pointer are not seen, so once nn_model_params\nhas handed it out, every later step reads all the weights before changing\nthem (one more pass over memory the size of the weights), and\nnn_model_predict keeps no copy of the weights for libnn's own kernel\n(it reads them where they are, more slowly), until the next\nnn_model_add_* call. nn_model_get_weights and nn_model_get_bias read\ncopies without that cost.",
    "nn_model_grads": "The flat parameter and gradient buffers: for each layer in order, its\nweights then its bias (W_l, in_l x out_l, then b_l, out_l, for a dense\nlayer; gamma then beta for normalization; nothing for the other kinds).\n*count (if count is not NULL) receives the number of floats. The\npointers stay valid until the next nn_model_add_* call or nn_model_free;\nwrites through nn_model_params change the model. NULL (and *count 0) for\na NULL model or a model without parameters.\nPlain-SGD steps normally know a bound on the weights from the step\nbefore; writes through the pointer are not seen, so once nn_model_params\nhas handed it out, every later step reads all the weights before changing\nthem (one more pass over memory the size of the weights), and\nnn_model_predict keeps no copy of the weights for libnn's own kernel\n(it reads them where they are, more slowly), until the next\nnn_model_add_* call. nn_model_get_weights and nn_model_get_bias read\ncopies without that cost.",
    "nn_model_export_onnx": "Since 0.2. Writes the model as an ONNX file at path, atomically as\nnn_model_save writes (a temporary file beside it, synced and renamed;\non failure path is untouched and NN_E_IO names the step). Allocates a\ndescription of the graph (about 3 KiB per layer), a copy of the\nlargest layer's weights and a write buffer of at most 64 KiB, before\ntouching the file system. Thread-safe on a const model.\nReturns NN_OK, NN_E_NULL (model, path), NN_E_INVALID (a path that is\nempty or ends in '/'), NN_E_STATE (no layers), NN_E_NONFINITE (a\nweight, bias or buffer is NaN or infinite, which only writes through\nnn_model_params can cause), NN_E_OVERFLOW, NN_E_NOMEM, NN_E_IO.",
    "nn_model_export_onnx_buffer": "Since 0.2. Writes the ONNX file of nn_model_export_onnx into buf, which\nhas room for capacity bytes. On success *written (when written is not\nNULL) receives the file's size. If capacity is smaller, the call returns\nNN_E_SHAPE, writes nothing into buf and *written receives the size\nneeded; buf may be NULL when capacity is 0, to ask for the size.\nAllocates as nn_model_export_onnx, less the write buffer. Thread-safe\non a const model.\nReturns NN_OK, NN_E_NULL (model; buf with capacity > 0), NN_E_SHAPE\n(capacity), NN_E_STATE, NN_E_NONFINITE, NN_E_OVERFLOW, NN_E_NOMEM.",
    "nn_model_import_onnx": "Since 0.2. Reads the ONNX file at path (a regular file) into a new\nmodel, as nn_model_import_onnx_buffer reads its bytes; the file is read\nwhole into memory first. On success *out is the new model, owned by the\ncaller and released with nn_model_free; on failure *out is NULL and\nnothing is left allocated. Thread-safe.\nReturns NN_OK, NN_E_NULL (out, path), NN_E_IO (the file cannot be\nopened or read, or is not a regular file), NN_E_FORMAT, NN_E_STATE\n(libnn was built without the ONNX reader), NN_E_OVERFLOW, NN_E_NOMEM.",
    "nn_model_import_onnx_buffer": "Since 0.2. Reads the size bytes at buf, an ONNX model (a serialized\nModelProto), into a new model; buf is only read, and not kept. *out as\nnn_model_import_onnx. Decoding may take at most 16 bytes of memory per\nbyte given, plus 1 MiB (a file that needs more holds too many tiny\nmessages to be a model, and gives NN_E_FORMAT); the model's arrays are\nthe file's tensors. Thread-safe.\nReturns NN_OK, NN_E_NULL (out, buf), NN_E_FORMAT (not an ONNX model, or\na graph libnn does not import; the message names the node, its operator\nand what libnn imports), NN_E_STATE (built without the ONNX reader),\nNN_E_NOMEM.",
    "nn_model_export_c": "Since 0.2. Writes the model as C99 source: one header file at path,\natomically as nn_model_save writes, holding the weights as static const\nfloat arrays and\n\n    void <prefix>_predict(const float *x, float *y);\n\nwhich computes the outputs y (output width floats) of one row x (input\nwidth floats) as nn_model_predict does in inference mode (dropout gone,\nbatch normalization with its running statistics), to float rounding,\nwith no allocation, no state and no dependency on libnn; it uses libm\n(-lm) for the activations that need it and a stack array of the widest\nlayer between input and output. The header also defines <PREFIX>_INPUTS\nand <PREFIX>_OUTPUTS (prefix in upper case). Include it wherever the\nfunction is called; in exactly one C file, define\n<PREFIX>_IMPLEMENTATION before including it, which compiles the weights\nand the function there. It compiles as C99 and later, warning-free with\n-Wall -Wextra -Wpedantic. prefix is a C identifier of 1 to 63 ASCII\nletters, digits and '_' that starts with a letter. Allocates a copy of\nthe largest layer's weights and a write buffer of at most 64 KiB.\nThread-safe on a const model.\nReturns NN_OK, NN_E_NULL (model, path, prefix), NN_E_INVALID (prefix; a\npath that is empty or ends in '/'), NN_E_STATE (no layers),\nNN_E_NONFINITE (as nn_model_export_onnx), NN_E_OVERFLOW, NN_E_NOMEM,\nNN_E_IO.",
}
