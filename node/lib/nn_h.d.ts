// Generated from include/nn.h by tests/ffi/gen_bindings.py: do not edit.

export declare const version: { readonly major: 0; readonly minor: 2; readonly patch: 0 };

/** nn_status: the values of nn.h's enum nn_status. */
export declare const Status: {
  /** success */
  readonly OK: 0;
  /** a required pointer argument is NULL */
  readonly E_NULL: 1;
  /** an argument's value is out of its range: a zero width or count, an unknown enum value, a setting outside its bounds, a class label outside [0, outputs) */
  readonly E_INVALID: 2;
  /** a width or count disagrees with the model */
  readonly E_SHAPE: 3;
  /** the model cannot do this yet or at all: no layers, no loss, softmax on a hidden layer, a loss that does not fit the output activation */
  readonly E_STATE: 4;
  /** an allocation failed; nothing was changed */
  readonly E_NOMEM: 5;
  /** a size (n * width, bytes) overflows size_t */
  readonly E_OVERFLOW: 6;
  /** the loss or a gradient of this step is NaN or infinite; the step was rejected and no parameter was changed */
  readonly E_NONFINITE: 7;
  /** a file could not be opened, read, written, synced or renamed; the message names the file and the step, with the system's error text and errno */
  readonly E_IO: 8;
  /** the bytes given to a load are not a model file this libnn can read: damaged, truncated, from a newer libnn, or not a model file at all; the message says what is wrong and at which byte */
  readonly E_FORMAT: 9;
  /** since 0.2: the reducer a data-parallel pass called (nn_model_set_reducer) reported a failure; the message carries its code */
  readonly E_REDUCE: 10;
};
export type Status = (typeof Status)[keyof typeof Status];
/** The members' names in lower case, which the package also takes. */
export type StatusName = 'ok' | 'e_null' | 'e_invalid' | 'e_shape' | 'e_state' | 'e_nomem' | 'e_overflow' | 'e_nonfinite' | 'e_io' | 'e_format' | 'e_reduce';

/** nn_activation: the values of nn.h's enum nn_activation. */
export declare const Activation: {
  /** f(z) = z */
  readonly IDENTITY: 1;
  /** f(z) = 1 / (1 + e^-z) */
  readonly SIGMOID: 2;
  /** f(z) = tanh z */
  readonly TANH: 3;
  /** f(z) = max(z, 0); f'(0) taken as 0 */
  readonly RELU: 4;
  /** f(z) = z > 0 ? z : slope * z; slope is the layer parameter NN_LAYER_LEAKY_SLOPE */
  readonly LEAKY_RELU: 5;
  /** f(z)_j = e^z_j / sum_k e^z_k over each row; output layer only */
  readonly SOFTMAX: 6;
  /** f(z) = z Phi(z) = z (1 + erf(z / sqrt 2)) / 2, the exact (erf) form, torch.nn.GELU()'s default */
  readonly GELU: 7;
  /** f(z) = z / (1 + e^-z) (swish) */
  readonly SILU: 8;
  /** f(z) = log(1 + e^z), and z itself for z > 20, as torch.nn.Softplus() (beta 1, threshold 20) */
  readonly SOFTPLUS: 9;
  /** f(z) = z > 0 ? z : alpha (e^z - 1); alpha is the layer parameter NN_LAYER_ELU_ALPHA; f'(0) taken as alpha, as PyTorch does */
  readonly ELU: 10;
};
export type Activation = (typeof Activation)[keyof typeof Activation];
/** The members' names in lower case, which the package also takes. */
export type ActivationName = 'identity' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'softmax' | 'gelu' | 'silu' | 'softplus' | 'elu';

/** nn_loss: the values of nn.h's enum nn_loss. */
export declare const Loss: {
  /** Mean over all n*k elements of (y - t)^2. Any output activation. */
  readonly MSE: 1;
  /** Binary cross-entropy: mean over all n*k elements of -[t log y + (1 - t) log(1 - y)], targets in [0, 1]. The output layer must be sigmoid (y = sigmoid(z)) or identity (its outputs are then logits and the loss applies the sigmoid, like PyTorch's BCEWithLogitsLoss). Either way it is computed from the logits z and stays finite for any finite z. */
  readonly BCE: 2;
  /** Softmax cross-entropy: mean over the n rows of -sum_j t_j log p_j, p = softmax(z), computed with log-sum-exp. Targets are probability rows (each summing to 1) or integer class labels. The output layer must be softmax or identity (logits, like PyTorch's CrossEntropyLoss). With class weights w (nn_model_set_class_weights) and label smoothing e (NN_PARAM_LABEL_SMOOTHING), as PyTorch's CrossEntropyLoss(weight=w, label_smoothing=e) defines them, for k classes and log-probabilities q = log p: labels y_i: [ (1 - e) sum_i w_{y_i} (-q_{i,y_i}) + (e / k) sum_i sum_j w_j (-q_{ij}) ] / sum_i w_{y_i} rows t_i: -(1/n) sum_i sum_j w_j ((1 - e) t_ij + e / k) q_ij (w_j = 1 without class weights). */
  readonly CROSS_ENTROPY: 3;
  /** Mean absolute error: mean over all n*k elements of |y - t|, with the gradient sign(y - t) / (n k), 0 where y = t (as torch.nn.L1Loss). Any output activation. */
  readonly L1: 4;
  /** Huber loss with d = y - t and delta the setting NN_PARAM_HUBER_DELTA: mean over all n*k elements of d^2 / 2 where |d| < delta and delta (|d| - delta / 2) elsewhere (as torch.nn.HuberLoss). Any output activation. */
  readonly HUBER: 5;
};
export type Loss = (typeof Loss)[keyof typeof Loss];
/** The members' names in lower case, which the package also takes. */
export type LossName = 'mse' | 'bce' | 'cross_entropy' | 'l1' | 'huber';

/** nn_layer_kind: the values of nn.h's enum nn_layer_kind. */
export declare const LayerKind: {
  /** nn_model_add_dense */
  readonly DENSE: 1;
  /** nn_model_add_dropout */
  readonly DROPOUT: 2;
  /** nn_model_add_batchnorm */
  readonly BATCHNORM: 3;
  /** nn_model_add_layernorm */
  readonly LAYERNORM: 4;
  /** nn_model_add_activation */
  readonly ACTIVATION: 5;
  /** nn_model_add_scaling */
  readonly SCALING: 6;
};
export type LayerKind = (typeof LayerKind)[keyof typeof LayerKind];
/** The members' names in lower case, which the package also takes. */
export type LayerKindName = 'dense' | 'dropout' | 'batchnorm' | 'layernorm' | 'activation' | 'scaling';

/** nn_param: the values of nn.h's enum nn_param. */
export declare const Param: {
  /** Base step size of the optimizer; the schedule scales it. Default 0.01, bounds [0, 1e6]. */
  readonly LEARNING_RATE: 1;
  /** SGD: momentum mu; RMSprop: momentum of the scaled step. 0 disables. Default 0, bounds [0, 0.9999]. SGD's dampening: NN_PARAM_DAMPENING. */
  readonly MOMENTUM: 2;
  /** (whole) SGD: 1 for Nesterov momentum, 0 for classical. Default 0, bounds [0, 1]. Without momentum it has no effect. */
  readonly NESTEROV: 3;
  /** Weight decay lambda. SGD, Adam, RMSprop: L2, g += lambda * w. AdamW: decoupled, w -= lr * lambda * w. Default 0 (note: PyTorch's AdamW defaults to 0.01), bounds [0, 1e3]. */
  readonly WEIGHT_DECAY: 4;
  /** Adam/AdamW beta1. Default 0.9, bounds [0, 0.9999]. */
  readonly BETA1: 5;
  /** Adam/AdamW beta2. Default 0.999, bounds [0, 0.999999]. */
  readonly BETA2: 6;
  /** Adam/AdamW/RMSprop epsilon. Default 1e-8, bounds [1e-30, 1]. */
  readonly EPSILON: 7;
  /** RMSprop smoothing constant alpha. Default 0.99, bounds [0, 0.999999]. */
  readonly RMSPROP_ALPHA: 8;
  /** Gradient clipping: if the global L2 norm of all gradients exceeds this, every gradient is scaled by clip / (norm + 1e-6), as PyTorch's clip_grad_norm_ does, before weight decay. 0 disables. Default 0, bounds [0, 1e30]. */
  readonly CLIP_NORM: 9;
  /** (whole) Schedules (see nn_model_set_schedule), counted in optimizer steps. Step decay: lr * gamma^floor(t / step_size). Default 1000, bounds [1, 1e15]. */
  readonly SCHED_STEP_SIZE: 10;
  /** Step and exponential decay factor gamma. Default 0.1, bounds [0, 1]. */
  readonly SCHED_GAMMA: 11;
  /** (whole) Cosine annealing period T_max in steps. Default 1000, bounds [1, 1e15]. */
  readonly SCHED_T_MAX: 12;
  /** Cosine annealing floor eta_min, an absolute learning rate. Default 0, bounds [0, 1e6]. */
  readonly SCHED_ETA_MIN: 13;
  /** (whole) Linear warm-up length W in steps: step s < W (counting from 0) uses lr * (s + 1) / W, and the schedule proper starts at t = s - W. Default 0 (none), bounds [0, 1e15]. */
  readonly WARMUP_STEPS: 14;
  /** (whole) nn_model_fit: passes over the training data. Default 10, bounds [1, 1e9]. */
  readonly EPOCHS: 15;
  /** (whole) nn_model_fit: rows per step; the last batch of an epoch holds the remainder. Default 32, bounds [1, 1e9]. */
  readonly BATCH_SIZE: 16;
  /** (whole) nn_model_fit: 1 shuffles the rows every epoch with the model's generator, 0 keeps their order. Default 1, bounds [0, 1]. */
  readonly SHUFFLE: 17;
  /** (whole) nn_model_fit: early stopping. Stop after this many epochs without a lower monitored loss (the validation loss, or the training loss when there is no validation set) and restore the weights of the best epoch. 0 disables. Default 0, bounds [0, 1e9]. */
  readonly PATIENCE: 18;
  /** Gradient clipping by value: every gradient is clamped to [-clip, clip], as PyTorch's clip_grad_value_ does, before clipping by norm (NN_PARAM_CLIP_NORM) and weight decay. 0 disables. Default 0, bounds [0, 1e30]. */
  readonly CLIP_VALUE: 19;
  /** (whole) Adam and AdamW: 1 for the AMSGrad variant, which divides by the largest second moment so far. Default 0, bounds [0, 1]. */
  readonly AMSGRAD: 20;
  /** (whole) RMSprop: 1 for the centered variant, which divides by an estimate of the gradient's variance instead of its second moment. Default 0, bounds [0, 1]. */
  readonly CENTERED: 21;
  /** SGD: dampening tau of the momentum, b = mu b + (1 - tau) g from the second step on. Default 0, bounds [0, 1]. */
  readonly DAMPENING: 22;
  /** NN_LOSS_HUBER: where the loss turns from quadratic to linear. Default 1, bounds [1e-12, 1e30]. */
  readonly HUBER_DELTA: 23;
  /** NN_LOSS_CROSS_ENTROPY: label smoothing e (see nn_loss). Default 0, bounds [0, 1]. */
  readonly LABEL_SMOOTHING: 24;
};
export type Param = (typeof Param)[keyof typeof Param];
/** The members' names in lower case, which the package also takes. */
export type ParamName = 'learning_rate' | 'momentum' | 'nesterov' | 'weight_decay' | 'beta1' | 'beta2' | 'epsilon' | 'rmsprop_alpha' | 'clip_norm' | 'sched_step_size' | 'sched_gamma' | 'sched_t_max' | 'sched_eta_min' | 'warmup_steps' | 'epochs' | 'batch_size' | 'shuffle' | 'patience' | 'clip_value' | 'amsgrad' | 'centered' | 'dampening' | 'huber_delta' | 'label_smoothing';

/** nn_layer_param: the values of nn.h's enum nn_layer_param. */
export declare const LayerParam: {
  /** Slope of a leaky relu layer for z <= 0. Default 0.01, bounds [0, 1]. Stored as a float, so the getter returns the value rounded to float. May be set on a layer of any activation; only leaky relu uses it. */
  readonly LEAKY_SLOPE: 1;
  /** alpha of an ELU layer. Default 1, bounds [0, 1e3]. Stored as a float, as NN_LAYER_LEAKY_SLOPE. */
  readonly ELU_ALPHA: 2;
  /** (whole) How a dense layer's weights are drawn: an nn_init. Setting it draws the layer's weights anew from the model's generator and sets its bias to zero, as adding the layer did; it does not reset the optimizer. Default NN_INIT_AUTO, bounds [1, 6]. */
  readonly INIT: 3;
  /** Dropout's drop probability. Bounds [0, 0.999999]; set by nn_model_add_dropout. */
  readonly DROPOUT_RATE: 4;
  /** Batch normalization: the momentum of the running statistics. Default 0.1, bounds [0, 1]. */
  readonly MOMENTUM: 5;
  /** Batch and layer normalization: eps added to the variance. Default 1e-5, bounds [1e-30, 1]. */
  readonly EPSILON: 6;
};
export type LayerParam = (typeof LayerParam)[keyof typeof LayerParam];
/** The members' names in lower case, which the package also takes. */
export type LayerParamName = 'leaky_slope' | 'elu_alpha' | 'init' | 'dropout_rate' | 'momentum' | 'epsilon';

/** nn_init: the values of nn.h's enum nn_init. */
export declare const Init: {
  /** He-uniform or Glorot-uniform by the activation (nn_model_add_dense) */
  readonly AUTO: 1;
  /** a = sqrt(6 / (in + out)) */
  readonly GLOROT_UNIFORM: 2;
  /** s = sqrt(2 / (in + out)) */
  readonly GLOROT_NORMAL: 3;
  /** a = sqrt(6 / in) */
  readonly HE_UNIFORM: 4;
  /** s = sqrt(2 / in) */
  readonly HE_NORMAL: 5;
  /** s = sqrt(1 / in) */
  readonly LECUN_NORMAL: 6;
};
export type Init = (typeof Init)[keyof typeof Init];
/** The members' names in lower case, which the package also takes. */
export type InitName = 'auto' | 'glorot_uniform' | 'glorot_normal' | 'he_uniform' | 'he_normal' | 'lecun_normal';

/** nn_optimizer: the values of nn.h's enum nn_optimizer. */
export declare const Optimizer: {
  /** the default */
  readonly SGD: 1;
  readonly ADAM: 2;
  readonly ADAMW: 3;
  readonly RMSPROP: 4;
};
export type Optimizer = (typeof Optimizer)[keyof typeof Optimizer];
/** The members' names in lower case, which the package also takes. */
export type OptimizerName = 'sgd' | 'adam' | 'adamw' | 'rmsprop';

/** nn_schedule: the values of nn.h's enum nn_schedule. */
export declare const Schedule: {
  /** lr; the default */
  readonly CONSTANT: 1;
  /** lr * gamma^floor(t / step_size) */
  readonly STEP: 2;
  /** lr * gamma^t */
  readonly EXPONENTIAL: 3;
  /** eta_min + (lr - eta_min) (1 + cos(pi * min(t, T_max) / T_max)) / 2 */
  readonly COSINE: 4;
};
export type Schedule = (typeof Schedule)[keyof typeof Schedule];
/** The members' names in lower case, which the package also takes. */
export type ScheduleName = 'constant' | 'step' | 'exponential' | 'cosine';

/** nn_save_what: the values of nn.h's enum nn_save_what. */
export declare const SaveWhat: {
  /** architecture, loss, settings, parameters */
  readonly MODEL: 1;
  /** also optimizer state, step count, generator */
  readonly CHECKPOINT: 2;
};
export type SaveWhat = (typeof SaveWhat)[keyof typeof SaveWhat];
/** The members' names in lower case, which the package also takes. */
export type SaveWhatName = 'model' | 'checkpoint';

/** The functions of nn.h, by name. */
export type FunctionName =
  | 'nn_version_number'
  | 'nn_version_string'
  | 'nn_status_string'
  | 'nn_last_error'
  | 'nn_set_allocator'
  | 'nn_model_create'
  | 'nn_model_free'
  | 'nn_model_add_dense'
  | 'nn_model_add_dropout'
  | 'nn_model_add_batchnorm'
  | 'nn_model_add_layernorm'
  | 'nn_model_add_activation'
  | 'nn_model_add_scaling'
  | 'nn_model_set_loss'
  | 'nn_model_input_width'
  | 'nn_model_output_width'
  | 'nn_model_layer_count'
  | 'nn_model_layer_width'
  | 'nn_model_layer_kind'
  | 'nn_model_layer_activation'
  | 'nn_model_layer_weight_count'
  | 'nn_model_layer_bias_count'
  | 'nn_model_layer_buffer_count'
  | 'nn_model_loss'
  | 'nn_model_set_param'
  | 'nn_model_get_param'
  | 'nn_param_bounds'
  | 'nn_model_set_layer_param'
  | 'nn_model_get_layer_param'
  | 'nn_layer_param_bounds'
  | 'nn_param_name'
  | 'nn_layer_param_name'
  | 'nn_activation_name'
  | 'nn_loss_name'
  | 'nn_layer_kind_name'
  | 'nn_init_name'
  | 'nn_model_set_class_weights'
  | 'nn_model_class_weight_count'
  | 'nn_model_get_class_weights'
  | 'nn_model_set_meta'
  | 'nn_model_get_meta'
  | 'nn_model_meta_count'
  | 'nn_model_meta_key'
  | 'nn_model_predict'
  | 'nn_model_train_batch'
  | 'nn_model_train_batch_labels'
  | 'nn_model_compute_grads'
  | 'nn_model_compute_grads_labels'
  | 'nn_model_apply_grads'
  | 'nn_model_set_optimizer'
  | 'nn_model_set_schedule'
  | 'nn_model_optimizer'
  | 'nn_model_schedule'
  | 'nn_optimizer_name'
  | 'nn_schedule_name'
  | 'nn_model_step_count'
  | 'nn_model_current_lr'
  | 'nn_model_set_reducer'
  | 'nn_model_set_batch_part'
  | 'nn_model_set_grads_ready'
  | 'nn_model_set_replica'
  | 'nn_data_create'
  | 'nn_data_create_labels'
  | 'nn_data_create_u8'
  | 'nn_data_create_labels_u8'
  | 'nn_data_free'
  | 'nn_data_rows'
  | 'nn_model_fit'
  | 'nn_model_fit_resume'
  | 'nn_model_evaluate'
  | 'nn_set_blas_threads'
  | 'nn_model_save_size'
  | 'nn_model_save_buffer'
  | 'nn_model_save'
  | 'nn_model_load'
  | 'nn_model_load_buffer'
  | 'nn_model_get_weights'
  | 'nn_model_set_weights'
  | 'nn_model_get_bias'
  | 'nn_model_set_bias'
  | 'nn_model_get_layer_grads'
  | 'nn_model_get_layer_buffers'
  | 'nn_model_set_layer_buffers'
  | 'nn_model_params'
  | 'nn_model_grads'
  | 'nn_model_export_onnx'
  | 'nn_model_export_onnx_buffer'
  | 'nn_model_import_onnx'
  | 'nn_model_import_onnx_buffer'
  | 'nn_model_export_c';
