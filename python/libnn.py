"""libnn from Python, through ctypes: no compiler, no extension module.

    import numpy as np
    import libnn

    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    t = np.array([[0], [1], [1], [0]], dtype=np.float32)
    with libnn.Model(2, seed=7) as m:
        m.add_dense(4, libnn.Activation.TANH)
        m.add_dense(1, libnn.Activation.SIGMOID)
        m.set_loss(libnn.Loss.BCE)
        m.set_param(libnn.Param.LEARNING_RATE, 0.5)
        for _ in range(2000):
            loss = m.train_batch(x, t)
        print(m.predict(x))

Which library. LIBNN_PATH, if set, is the path of the libnn shared library
to load; otherwise the system's loader looks for libnn.so.<ABI major> as for
any program (LD_LIBRARY_PATH, the ld.so cache, the default directories). At
import, the loaded library's major version must be ABI_MAJOR, the one this
module was written for; later minor versions only add functions and enum
values.

Arrays are never copied. Every array goes to libnn as a pointer to its own
memory, so it must already be what libnn reads: a numpy.ndarray, C-contiguous,
of dtype float32 (inputs, targets, outputs) or int32 (class labels), with
shape (rows, width) (labels: (rows,)). Anything else raises NNError with
status Status.E_INVALID (not an ndarray, wrong dtype, not C-contiguous, not
writeable) or Status.E_SHAPE (wrong number of dimensions, rows that disagree)
and a message naming the libnn function and the argument. Widths are passed
to libnn with each array, and libnn itself rejects a width that disagrees with
the model (NN_E_SHAPE, with its message). Convert with
numpy.ascontiguousarray(a, dtype=numpy.float32) when a copy is acceptable.

Errors. A libnn call that fails raises NNError; .status is the nn_status (a
Status member) and .message the library's message (nn_last_error), which
names the function, the argument and the numbers.

Threads. As in nn.h: distinct models may be used from distinct threads;
predict and evaluate may run concurrently on one model; every other call on a
model must not overlap any call on the same model. ctypes releases the GIL
during each libnn call.

Not bound: nn_set_allocator (a Python allocator called from C while libnn
holds memory gains nothing over malloc); nn_model_grads' pointer is exposed
only as a copy (grads()), nn_model_params' as a copy (params()) or a
documented view (params_view()).
"""

import ctypes
import enum
import os

import numpy as np

__all__ = [
    "ABI_MAJOR", "NNError", "Status", "Activation", "Loss", "Param",
    "LayerParam", "Optimizer", "Schedule", "SaveWhat", "Model", "Data",
    "version", "version_number", "status_string", "last_error",
    "param_bounds", "layer_param_bounds", "set_blas_threads", "library_path",
]

#: The major version (NN_VERSION_MAJOR) of the libnn this module binds.
ABI_MAJOR = 0


# ---------------------------------------------------------------------------
# Enums: the values of nn.h, which never change (new ones are appended).
# ---------------------------------------------------------------------------

class Status(enum.IntEnum):
    """nn_status."""
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


class Activation(enum.IntEnum):
    """nn_activation."""
    IDENTITY = 1
    SIGMOID = 2
    TANH = 3
    RELU = 4
    LEAKY_RELU = 5
    SOFTMAX = 6


class Loss(enum.IntEnum):
    """nn_loss."""
    MSE = 1
    BCE = 2
    CROSS_ENTROPY = 3


class Param(enum.IntEnum):
    """nn_param: model settings; see nn.h for each default and bounds."""
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


class LayerParam(enum.IntEnum):
    """nn_layer_param: per-layer settings."""
    LEAKY_SLOPE = 1


class Optimizer(enum.IntEnum):
    """nn_optimizer."""
    SGD = 1
    ADAM = 2
    ADAMW = 3
    RMSPROP = 4


class Schedule(enum.IntEnum):
    """nn_schedule."""
    CONSTANT = 1
    STEP = 2
    EXPONENTIAL = 3
    COSINE = 4


class SaveWhat(enum.IntEnum):
    """nn_save_what: what a model file holds."""
    MODEL = 1
    CHECKPOINT = 2


class NNError(Exception):
    """A libnn call failed, or an argument cannot be given to libnn.

    status  -- the nn_status, a Status member (a plain int if this module does
               not know the value)
    message -- the library's message (nn_last_error()), or for an argument
               this module rejects before calling, a message in the same form
    """

    def __init__(self, status, message):
        try:
            status = Status(status)
        except ValueError:
            status = int(status)
        super().__init__(status, message)
        self.status = status
        self.message = message

    def __str__(self):
        name = self.status.name if isinstance(self.status, Status) else self.status
        return "%s [%s]" % (self.message, name)


# ---------------------------------------------------------------------------
# Loading and prototypes
# ---------------------------------------------------------------------------

def _load_library():
    path = os.environ.get("LIBNN_PATH") or "libnn.so.%d" % ABI_MAJOR
    try:
        return ctypes.CDLL(path), path
    except OSError as e:
        raise ImportError("libnn: cannot load %s (%s); set LIBNN_PATH to the "
                          "library's path" % (path, e)) from None


_lib, _path = _load_library()

_c_status = ctypes.c_int
_c_size = ctypes.c_size_t
_c_size_p = ctypes.POINTER(ctypes.c_size_t)
_c_double_p = ctypes.POINTER(ctypes.c_double)
_c_ptr = ctypes.c_void_p
_c_handle_p = ctypes.POINTER(ctypes.c_void_p)

#: int (*nn_epoch_fn)(void *, size_t, double, double, double, double)
EPOCH_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t,
                            ctypes.c_double, ctypes.c_double, ctypes.c_double,
                            ctypes.c_double)
#: int (*nn_batch_fn)(void *, size_t, size_t, size_t, double)
BATCH_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t,
                            ctypes.c_size_t, ctypes.c_size_t, ctypes.c_double)

# name: (restype, argtypes). Pointers to arrays are void *: the address of the
# numpy array's own data is passed, after the checks in _floats/_labels.
_PROTOTYPES = {
    "nn_version_number": (ctypes.c_uint, []),
    "nn_version_string": (ctypes.c_char_p, []),
    "nn_status_string": (ctypes.c_char_p, [ctypes.c_int]),
    "nn_last_error": (ctypes.c_char_p, []),
    "nn_model_create": (_c_status, [_c_handle_p, _c_size, ctypes.c_uint64]),
    "nn_model_free": (None, [_c_ptr]),
    "nn_model_add_dense": (_c_status, [_c_ptr, _c_size, ctypes.c_int]),
    "nn_model_set_loss": (_c_status, [_c_ptr, ctypes.c_int]),
    "nn_model_input_width": (_c_size, [_c_ptr]),
    "nn_model_output_width": (_c_size, [_c_ptr]),
    "nn_model_layer_count": (_c_size, [_c_ptr]),
    "nn_model_layer_width": (_c_size, [_c_ptr, _c_size]),
    "nn_model_set_param": (_c_status, [_c_ptr, ctypes.c_int, ctypes.c_double]),
    "nn_model_get_param": (_c_status, [_c_ptr, ctypes.c_int, _c_double_p]),
    "nn_param_bounds": (_c_status, [ctypes.c_int, _c_double_p, _c_double_p,
                                    _c_double_p]),
    "nn_model_set_layer_param": (_c_status, [_c_ptr, _c_size, ctypes.c_int,
                                             ctypes.c_double]),
    "nn_model_get_layer_param": (_c_status, [_c_ptr, _c_size, ctypes.c_int,
                                             _c_double_p]),
    "nn_layer_param_bounds": (_c_status, [ctypes.c_int, _c_double_p,
                                          _c_double_p, _c_double_p]),
    "nn_model_predict": (_c_status, [_c_ptr, _c_size, _c_ptr, _c_size, _c_ptr,
                                     _c_size]),
    "nn_model_train_batch": (_c_status, [_c_ptr, _c_size, _c_ptr, _c_size,
                                         _c_ptr, _c_size, _c_double_p]),
    "nn_model_train_batch_labels": (_c_status, [_c_ptr, _c_size, _c_ptr,
                                                _c_size, _c_ptr, _c_double_p]),
    "nn_model_compute_grads": (_c_status, [_c_ptr, _c_size, _c_ptr, _c_size,
                                           _c_ptr, _c_size, _c_double_p]),
    "nn_model_compute_grads_labels": (_c_status, [_c_ptr, _c_size, _c_ptr,
                                                  _c_size, _c_ptr,
                                                  _c_double_p]),
    "nn_model_apply_grads": (_c_status, [_c_ptr]),
    "nn_model_set_optimizer": (_c_status, [_c_ptr, ctypes.c_int]),
    "nn_model_set_schedule": (_c_status, [_c_ptr, ctypes.c_int]),
    "nn_model_step_count": (ctypes.c_uint64, [_c_ptr]),
    "nn_model_current_lr": (_c_status, [_c_ptr, _c_double_p]),
    "nn_data_create": (_c_status, [_c_handle_p, _c_size, _c_ptr, _c_size,
                                   _c_ptr, _c_size]),
    "nn_data_create_labels": (_c_status, [_c_handle_p, _c_size, _c_ptr,
                                          _c_size, _c_ptr]),
    "nn_data_free": (None, [_c_ptr]),
    "nn_data_rows": (_c_size, [_c_ptr]),
    "nn_model_fit": (_c_status, [_c_ptr, _c_ptr, _c_ptr, EPOCH_FN, BATCH_FN,
                                 _c_ptr]),
    "nn_model_evaluate": (_c_status, [_c_ptr, _c_ptr, _c_double_p,
                                      _c_double_p]),
    "nn_set_blas_threads": (_c_status, [_c_size]),
    "nn_model_save_size": (_c_status, [_c_ptr, ctypes.c_int, _c_size_p]),
    "nn_model_save_buffer": (_c_status, [_c_ptr, ctypes.c_int, _c_ptr, _c_size,
                                         _c_size_p]),
    "nn_model_save": (_c_status, [_c_ptr, ctypes.c_char_p, ctypes.c_int]),
    "nn_model_load": (_c_status, [_c_handle_p, ctypes.c_char_p]),
    "nn_model_load_buffer": (_c_status, [_c_handle_p, _c_ptr, _c_size]),
    "nn_model_get_weights": (_c_status, [_c_ptr, _c_size, _c_ptr, _c_size]),
    "nn_model_set_weights": (_c_status, [_c_ptr, _c_size, _c_ptr, _c_size]),
    "nn_model_get_bias": (_c_status, [_c_ptr, _c_size, _c_ptr, _c_size]),
    "nn_model_set_bias": (_c_status, [_c_ptr, _c_size, _c_ptr, _c_size]),
    "nn_model_get_layer_grads": (_c_status, [_c_ptr, _c_size, _c_ptr, _c_size,
                                             _c_ptr, _c_size]),
    "nn_model_params": (ctypes.POINTER(ctypes.c_float), [_c_ptr, _c_size_p]),
    "nn_model_grads": (ctypes.POINTER(ctypes.c_float), [_c_ptr, _c_size_p]),
}

#: Exported libnn functions this module deliberately leaves unbound.
UNBOUND = frozenset(["nn_set_allocator"])


class _Functions:
    pass


_f = _Functions()
for _name, (_res, _args) in _PROTOTYPES.items():
    # A function the loaded library lacks (an older minor version) stays
    # unbound; calling a method that needs it raises NNError.
    _fn = getattr(_lib, _name, None)
    if _fn is not None:
        _fn.restype = _res
        _fn.argtypes = _args
        setattr(_f, _name, _fn)
del _name, _res, _args, _fn


def _fn(name):
    fn = getattr(_f, name, None)
    if fn is None:
        raise NNError(Status.E_STATE, "%s: not in the loaded libnn %s (%s)"
                      % (name, version(), _path))
    return fn


def version_number():
    """The loaded library's version as MAJOR*10000 + MINOR*100 + PATCH."""
    return _f.nn_version_number()


def version():
    """The loaded library's version, "MAJOR.MINOR.PATCH"."""
    return _f.nn_version_string().decode()


def library_path():
    """The path or name the library was loaded from."""
    return _path


if version_number() // 10000 != ABI_MAJOR:
    raise ImportError("libnn: %s is version %s; this module binds major "
                      "version %d" % (_path, version(), ABI_MAJOR))


def status_string(status):
    """nn_status_string: a short description of a status."""
    return _f.nn_status_string(int(status)).decode()


def last_error():
    """nn_last_error: the calling thread's last failure message."""
    return _f.nn_last_error().decode(errors="replace")


def _check(status):
    if status != 0:
        raise NNError(status, last_error())


def _size(fn, name, value):
    """A size_t argument: a non-negative integer (ctypes would wrap -1)."""
    try:
        v = int(value)
    except (TypeError, ValueError):
        raise NNError(Status.E_INVALID, "%s: %s must be an integer, not %r"
                      % (fn, name, value)) from None
    if v != value or v < 0:
        raise NNError(Status.E_INVALID, "%s: %s must be a non-negative integer,"
                      " not %r" % (fn, name, value))
    return v


def _array(fn, name, a, dtype, ndim, writeable=False):
    if not isinstance(a, np.ndarray):
        raise NNError(Status.E_INVALID, "%s: %s must be a numpy.ndarray of %s, "
                      "not %s" % (fn, name, dtype.__name__, type(a).__name__))
    if a.dtype != dtype:
        raise NNError(Status.E_INVALID, "%s: %s has dtype %s; libnn reads %s "
                      "and this module does not copy (use %s.astype(numpy.%s))"
                      % (fn, name, a.dtype, dtype.__name__, name,
                         dtype.__name__))
    if a.ndim != ndim:
        raise NNError(Status.E_SHAPE, "%s: %s has %d dimension%s, shape %s; "
                      "libnn takes %s" % (fn, name, a.ndim,
                                          "" if a.ndim == 1 else "s", a.shape,
                                          "(rows, width)" if ndim == 2
                                          else "(rows,)"))
    if not a.flags.c_contiguous:
        raise NNError(Status.E_INVALID, "%s: %s is not C-contiguous (a "
                      "transpose or a slice with a step?); use "
                      "numpy.ascontiguousarray(%s)" % (fn, name, name))
    if writeable and not a.flags.writeable:
        raise NNError(Status.E_INVALID, "%s: %s is read-only" % (fn, name))
    return a


def _floats(fn, name, a, writeable=False):
    return _array(fn, name, a, np.float32, 2, writeable)


def _labels(fn, name, a):
    return _array(fn, name, a, np.int32, 1)


def _rows(fn, x, name, other):
    if other.shape[0] != x.shape[0]:
        raise NNError(Status.E_SHAPE, "%s: x has %d rows, %s has %d"
                      % (fn, x.shape[0], name, other.shape[0]))


def _targets(fn, x, t):
    """Targets: float32 (rows, width) or int32 class labels (rows,)."""
    if isinstance(t, np.ndarray) and t.dtype == np.int32:
        t = _labels(fn + "_labels", "labels", t)
        _rows(fn + "_labels", x, "labels", t)
        return t, True
    if isinstance(t, np.ndarray) and t.dtype != np.float32:
        raise NNError(Status.E_INVALID, "%s: t has dtype %s; libnn reads "
                      "float32 targets or int32 class labels" % (fn, t.dtype))
    t = _floats(fn, "t", t)
    _rows(fn, x, "t", t)
    return t, False


def _bounds(fn, key):
    lo, hi, df = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    _check(fn(int(key), ctypes.byref(lo), ctypes.byref(hi), ctypes.byref(df)))
    return lo.value, hi.value, df.value


def param_bounds(key):
    """nn_param_bounds: (lo, hi, default) of a Param."""
    return _bounds(_f.nn_param_bounds, key)


def layer_param_bounds(key):
    """nn_layer_param_bounds: (lo, hi, default) of a LayerParam."""
    return _bounds(_f.nn_layer_param_bounds, key)


def set_blas_threads(threads):
    """nn_set_blas_threads: BLAS threads, process wide; 0 = one per core."""
    _check(_f.nn_set_blas_threads(_size("nn_set_blas_threads", "threads",
                                        threads)))


def _bytes_view(fn, data):
    """A bytes-like object as uint8 array over the same memory (no copy)."""
    try:
        return np.frombuffer(memoryview(data), dtype=np.uint8)
    except (TypeError, ValueError) as e:
        raise NNError(Status.E_INVALID, "%s: buf must be a contiguous "
                      "bytes-like object (%s)" % (fn, e)) from None


# ---------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------

class Data:
    """nn_data: a view of x (rows, x_width) float32 and either targets t
    (rows, t_width) float32 or class labels (rows,) int32, for Model.fit and
    Model.evaluate.

    libnn keeps pointers to the arrays, not copies: this object holds
    references so they stay alive, and they must not be changed while it
    exists. close() (or a with block) releases the nn_data at once.
    """

    def __init__(self, x, t):
        fn = "nn_data_create"
        x = _floats(fn, "x", x)
        t, labels = _targets(fn, x, t)
        h = ctypes.c_void_p()
        if labels:
            _check(_fn("nn_data_create_labels")(
                ctypes.byref(h), x.shape[0], x.ctypes.data, x.shape[1],
                t.ctypes.data))
        else:
            _check(_fn("nn_data_create")(
                ctypes.byref(h), x.shape[0], x.ctypes.data, x.shape[1],
                t.ctypes.data, t.shape[1]))
        self._h = h.value
        self.x, self.t, self.labels = x, t, labels

    @property
    def handle(self):
        if not self._h:
            raise NNError(Status.E_NULL, "nn_data: the dataset is closed")
        return self._h

    @property
    def rows(self):
        """nn_data_rows."""
        return _f.nn_data_rows(self.handle)

    def close(self):
        """nn_data_free; the object is unusable afterwards."""
        h, self._h = getattr(self, "_h", None), None
        if h and _f is not None:
            _f.nn_data_free(h)

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------

class Model:
    """nn_model: a feed-forward network. Model(input_width, seed) is
    nn_model_create; Model.load(path) and Model.from_bytes(buf) read model
    files. close() (or a with block, or garbage collection) frees it.

    Methods returning nothing return the model, so that building chains:
    Model(2).add_dense(4, Activation.TANH).add_dense(1, Activation.SIGMOID).
    """

    def __init__(self, input_width, seed=0):
        h = ctypes.c_void_p()
        _check(_f.nn_model_create(ctypes.byref(h),
                                  _size("nn_model_create", "input_width",
                                        input_width),
                                  _size("nn_model_create", "seed", seed)))
        self._h = h.value

    @classmethod
    def _adopt(cls, handle):
        m = cls.__new__(cls)
        m._h = handle
        return m

    @classmethod
    def load(cls, path):
        """nn_model_load: a new model from the model file at path."""
        h = ctypes.c_void_p()
        _check(_fn("nn_model_load")(ctypes.byref(h), os.fsencode(path)))
        return cls._adopt(h.value)

    @classmethod
    def from_bytes(cls, buf):
        """nn_model_load_buffer: a new model from a model file's bytes
        (bytes, bytearray, memoryview or a uint8 array; not copied)."""
        b = _bytes_view("nn_model_load_buffer", buf)
        h = ctypes.c_void_p()
        _check(_fn("nn_model_load_buffer")(ctypes.byref(h), b.ctypes.data,
                                           b.size))
        return cls._adopt(h.value)

    @property
    def handle(self):
        """The nn_model * as an integer, for calling libnn directly."""
        if not getattr(self, "_h", None):
            raise NNError(Status.E_NULL, "nn_model: the model is closed")
        return self._h

    def close(self):
        """nn_model_free; the object is unusable afterwards."""
        h, self._h = getattr(self, "_h", None), None
        if h and _f is not None:
            _f.nn_model_free(h)

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- building ----
    def add_dense(self, width, activation):
        """nn_model_add_dense."""
        _check(_f.nn_model_add_dense(
            self.handle, _size("nn_model_add_dense", "width", width),
            int(activation)))
        return self

    def set_loss(self, loss):
        """nn_model_set_loss."""
        _check(_f.nn_model_set_loss(self.handle, int(loss)))
        return self

    @property
    def input_width(self):
        return _f.nn_model_input_width(self.handle)

    @property
    def output_width(self):
        return _f.nn_model_output_width(self.handle)

    @property
    def layer_count(self):
        return _f.nn_model_layer_count(self.handle)

    def layer_width(self, layer):
        """nn_model_layer_width: output width of a layer (0 out of range)."""
        return _f.nn_model_layer_width(
            self.handle, _size("nn_model_layer_width", "layer", layer))

    def _layer_shape(self, fn, layer):
        layer = _size(fn, "layer", layer)
        if layer >= self.layer_count:
            raise NNError(Status.E_INVALID, "%s: layer is %d, the model has "
                          "%d layers" % (fn, layer, self.layer_count))
        fan_in = self.input_width if layer == 0 else self.layer_width(layer - 1)
        return layer, fan_in, self.layer_width(layer)

    # ---- settings ----
    def set_param(self, key, value):
        """nn_model_set_param."""
        _check(_f.nn_model_set_param(self.handle, int(key), float(value)))
        return self

    def get_param(self, key):
        """nn_model_get_param."""
        v = ctypes.c_double()
        _check(_f.nn_model_get_param(self.handle, int(key), ctypes.byref(v)))
        return v.value

    def set_layer_param(self, layer, key, value):
        """nn_model_set_layer_param."""
        _check(_f.nn_model_set_layer_param(
            self.handle, _size("nn_model_set_layer_param", "layer", layer),
            int(key), float(value)))
        return self

    def get_layer_param(self, layer, key):
        """nn_model_get_layer_param."""
        v = ctypes.c_double()
        _check(_f.nn_model_get_layer_param(
            self.handle, _size("nn_model_get_layer_param", "layer", layer),
            int(key), ctypes.byref(v)))
        return v.value

    # ---- optimizers ----
    def set_optimizer(self, kind):
        """nn_model_set_optimizer (resets its state and the step count)."""
        _check(_f.nn_model_set_optimizer(self.handle, int(kind)))
        return self

    def set_schedule(self, kind):
        """nn_model_set_schedule."""
        _check(_f.nn_model_set_schedule(self.handle, int(kind)))
        return self

    @property
    def step_count(self):
        """nn_model_step_count."""
        return _f.nn_model_step_count(self.handle)

    @property
    def current_lr(self):
        """nn_model_current_lr: the learning rate of the next update."""
        v = ctypes.c_double()
        _check(_f.nn_model_current_lr(self.handle, ctypes.byref(v)))
        return v.value

    # ---- work ----
    def predict(self, x, out=None):
        """nn_model_predict: x (rows, input_width) float32. Writes into out
        (rows, output_width) float32 if given, else into a new array, and
        returns it."""
        fn = "nn_model_predict"
        x = _floats(fn, "x", x)
        if out is None:
            out = np.empty((x.shape[0], self.output_width), dtype=np.float32)
        out = _floats(fn, "y", out, writeable=True)
        _rows(fn, x, "y", out)
        _check(_f.nn_model_predict(self.handle, x.shape[0], x.ctypes.data,
                                   x.shape[1], out.ctypes.data, out.shape[1]))
        return out

    def _step(self, fn, x, t):
        x = _floats(fn, "x", x)
        t, labels = _targets(fn, x, t)
        loss = ctypes.c_double()
        if labels:
            _check(_fn(fn + "_labels")(self.handle, x.shape[0], x.ctypes.data,
                                       x.shape[1], t.ctypes.data,
                                       ctypes.byref(loss)))
        else:
            _check(_fn(fn)(self.handle, x.shape[0], x.ctypes.data, x.shape[1],
                           t.ctypes.data, t.shape[1], ctypes.byref(loss)))
        return loss.value

    def train_batch(self, x, t):
        """nn_model_train_batch (t float32 (rows, output_width)) or
        nn_model_train_batch_labels (t int32 (rows,)): one step; returns the
        batch loss before the update."""
        return self._step("nn_model_train_batch", x, t)

    def compute_grads(self, x, t):
        """nn_model_compute_grads(_labels): gradients without an update;
        returns the loss."""
        return self._step("nn_model_compute_grads", x, t)

    def apply_grads(self):
        """nn_model_apply_grads."""
        _check(_f.nn_model_apply_grads(self.handle))
        return self

    def fit(self, train, val=None, on_epoch=None, on_batch=None):
        """nn_model_fit on Data objects.

        on_epoch(epoch, train_loss, val_loss, val_accuracy, seconds) and
        on_batch(epoch, batch, batches, loss) are called from inside the
        call; a true return value stops training (fit still succeeds). An
        exception raised by a callback stops training and is raised again
        once nn_model_fit has returned."""
        errors = []

        def guard(callback):
            def call(_user, *args):
                try:
                    return 1 if callback(*args) else 0
                except BaseException as e:  # noqa: B902 - re-raised below
                    errors.append(e)
                    return 1
            return call

        # The ctypes callback objects must outlive the call: keep them here.
        ep = EPOCH_FN(guard(on_epoch)) if on_epoch else EPOCH_FN()
        bp = BATCH_FN(guard(on_batch)) if on_batch else BATCH_FN()
        status = _f.nn_model_fit(self.handle, train.handle,
                                 val.handle if val is not None else None,
                                 ep, bp, None)
        if errors:
            raise errors[0]
        _check(status)
        return self

    def evaluate(self, data):
        """nn_model_evaluate: (loss, accuracy); accuracy is NaN where it is
        not defined (regression)."""
        loss, acc = ctypes.c_double(), ctypes.c_double()
        _check(_f.nn_model_evaluate(self.handle, data.handle,
                                    ctypes.byref(loss), ctypes.byref(acc)))
        return loss.value, acc.value

    # ---- parameters ----
    def get_weights(self, layer):
        """nn_model_get_weights: a new (in, out) float32 array."""
        layer, fan_in, fan_out = self._layer_shape("nn_model_get_weights",
                                                   layer)
        w = np.empty((fan_in, fan_out), dtype=np.float32)
        _check(_f.nn_model_get_weights(self.handle, layer, w.ctypes.data,
                                       w.size))
        return w

    def set_weights(self, layer, w):
        """nn_model_set_weights: w (in, out) float32 is copied in."""
        w = _floats("nn_model_set_weights", "w", w)
        _check(_f.nn_model_set_weights(
            self.handle, _size("nn_model_set_weights", "layer", layer),
            w.ctypes.data, w.size))
        return self

    def get_bias(self, layer):
        """nn_model_get_bias: a new (out,) float32 array."""
        layer, _, fan_out = self._layer_shape("nn_model_get_bias", layer)
        b = np.empty(fan_out, dtype=np.float32)
        _check(_f.nn_model_get_bias(self.handle, layer, b.ctypes.data, b.size))
        return b

    def set_bias(self, layer, b):
        """nn_model_set_bias: b (out,) float32 is copied in."""
        b = _array("nn_model_set_bias", "b", b, np.float32, 1)
        _check(_f.nn_model_set_bias(
            self.handle, _size("nn_model_set_bias", "layer", layer),
            b.ctypes.data, b.size))
        return self

    def layer_grads(self, layer):
        """nn_model_get_layer_grads: (dW (in, out), db (out,)), new arrays."""
        layer, fan_in, fan_out = self._layer_shape("nn_model_get_layer_grads",
                                                   layer)
        dw = np.empty((fan_in, fan_out), dtype=np.float32)
        db = np.empty(fan_out, dtype=np.float32)
        _check(_f.nn_model_get_layer_grads(self.handle, layer, dw.ctypes.data,
                                           dw.size, db.ctypes.data, db.size))
        return dw, db

    def _flat(self, fn):
        count = ctypes.c_size_t()
        p = fn(self.handle, ctypes.byref(count))
        if not p:
            return None
        buf = (ctypes.c_float * count.value).from_address(
            ctypes.addressof(p.contents))
        buf.model = self  # the array's base keeps this object alive
        return np.ctypeslib.as_array(buf)

    def params(self):
        """A copy of the flat parameter buffer, laid out as nn_model_params
        lays it out: for each layer, W then b. It is read through
        nn_model_get_weights and nn_model_get_bias, which (unlike
        params_view) let later plain-SGD steps skip reading the weights
        (see nn_model_params in nn.h)."""
        parts = []
        for layer in range(self.layer_count):
            parts.append(self.get_weights(layer).ravel())
            parts.append(self.get_bias(layer))
        return np.concatenate(parts) if parts else np.empty(0, np.float32)

    def params_view(self):
        """The flat parameter buffer itself, as a float32 array over the
        model's memory: writes change the model. The array keeps this object
        alive, but it is valid only until the next add_dense or close."""
        v = self._flat(_f.nn_model_params)
        return np.empty(0, np.float32) if v is None else v

    def grads(self):
        """A copy of the flat gradient buffer (nn_model_grads)."""
        v = self._flat(_f.nn_model_grads)
        return np.empty(0, np.float32) if v is None else v.copy()

    # ---- model files ----
    def save_size(self, what=SaveWhat.MODEL):
        """nn_model_save_size: bytes of the file save/to_bytes write."""
        size = ctypes.c_size_t()
        _check(_fn("nn_model_save_size")(self.handle, int(what),
                                         ctypes.byref(size)))
        return size.value

    def to_bytes(self, what=SaveWhat.MODEL):
        """nn_model_save_buffer: the model file's bytes."""
        buf = np.empty(self.save_size(what), dtype=np.uint8)
        written = ctypes.c_size_t()
        _check(_fn("nn_model_save_buffer")(self.handle, int(what),
                                           buf.ctypes.data, buf.size,
                                           ctypes.byref(written)))
        return buf[:written.value].tobytes()

    def save(self, path, what=SaveWhat.MODEL):
        """nn_model_save: write the model file at path, atomically."""
        _check(_fn("nn_model_save")(self.handle, os.fsencode(path), int(what)))
        return self
