# SPDX-License-Identifier: MIT
"""Model and Data: libnn's handles as Python objects that cannot be misused
into a crash.

Each object owns one handle and frees it once (close, a with block, or
garbage collection). A per-object guard stands for nn.h's thread rules:
calls that take a const handle run side by side, every other call runs
alone, and a callback of fit may read the model being fitted (predict,
evaluate, weights, save) but any other call on it raises NNError instead of
corrupting it. A closed object raises NNError (NN_E_NULL) from every method.
"""

import ctypes
import os
import signal
import threading
from contextlib import contextmanager
from typing import (Any, Callable, Dict, Iterator, List, NamedTuple, Optional,
                    Tuple, Type, TypeVar, Union)

import numpy as np

from . import _arrays
from ._arrays import Floats
from ._lib import NNError, capi, check, wraps
from . import _lib
from ._nn_h import (Activation, Init, LayerKind, LayerParam, Loss, Optimizer,
                    Param, SaveWhat, Schedule, Status)

M = TypeVar("M", bound="Model")

EpochCallback = Callable[[int, float, float, float, float], Any]
BatchCallback = Callable[[int, int, int, float], Any]


class _Guard:
    """Readers-writer bookkeeping for one handle (see the module's text)."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer: Optional[int] = None
        self.handle: Optional[int] = None

    def _open(self, fn: str) -> int:
        if self.handle is None:
            raise NNError(Status.E_NULL, "%s: the %s is closed" % (fn, self._what))
        return self.handle

    @contextmanager
    def shared(self, fn: str) -> Iterator[int]:
        me = threading.get_ident()
        with self._cond:
            while self._writer is not None and self._writer != me:
                self._cond.wait()
            h = self._open(fn)
            self._readers += 1
        try:
            yield h
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self, fn: str) -> Iterator[int]:
        me = threading.get_ident()
        with self._cond:
            if self._writer == me:
                raise NNError(Status.E_STATE, "%s: the %s is being fitted; a "
                              "callback of fit may only read it (predict, "
                              "evaluate, get_weights, save, ...)"
                              % (fn, self._what))
            while self._writer is not None or self._readers:
                self._cond.wait()
            h = self._open(fn)
            self._writer = me
        try:
            yield h
        finally:
            with self._cond:
                self._writer = None
                self._cond.notify_all()


class Data:
    """A dataset for Model.fit and Model.evaluate: x (rows, x_width) and
    either targets t (rows, t_width) of real numbers, or class labels
    (rows,) of an integer dtype, which need Loss.CROSS_ENTROPY.

    x of dtype uint8 (images, say) stays bytes: libnn reads each as the
    float of the same value, 0 to 255 (no scaling), and fit and evaluate
    give the same results, bit for bit, as on x.astype(np.float32), from a
    quarter of the memory (nn_data_create_u8, nn_data_create_labels_u8; a
    libnn older than those gets the float32 copy). Any other x is read as
    float32.

    libnn reads the arrays in place while the dataset exists: x and t are
    used as they are when already C-contiguous and, but for bytes, aligned
    float32 (int32 for labels), and copied otherwise; either way this
    object keeps them alive (as the read-only views .x and .t). Do not
    change the arrays passed in while the dataset exists.
    """

    x: "np.ndarray[Any, Any]"
    t: "np.ndarray[Any, Any]"
    labels: bool

    @wraps("nn_data_create", "nn_data_create_labels", "nn_data_create_u8",
           "nn_data_create_labels_u8")
    def __init__(self, x: Any, t: Any) -> None:
        """Creates the nn_data view."""
        self._guard = _Guard("dataset")
        as_bytes = _arrays.is_bytes(x) and capi.has("nn_data_create_u8")
        suffix = "_u8" if as_bytes else ""
        fn = "nn_data_create" + suffix
        xa: "np.ndarray[Any, Any]"
        if as_bytes:
            xa = _arrays.byte_rows(fn, "x", x)
        else:
            xa = _arrays.floats(fn, "x", x)
        h = ctypes.c_void_p()
        if _arrays.is_labels(t):
            fn = "nn_data_create_labels" + suffix
            ta: "np.ndarray[Any, Any]" = _arrays.labels(fn, "labels", t)
            _arrays.rows_agree(fn, xa, "labels", ta)
            check(getattr(capi, fn)(ctypes.byref(h), xa.shape[0],
                                    xa.ctypes.data, xa.shape[1],
                                    ta.ctypes.data))
            self.labels = True
        else:
            ta = _arrays.floats(fn, "t", t)
            _arrays.rows_agree(fn, xa, "t", ta)
            check(getattr(capi, fn)(ctypes.byref(h), xa.shape[0],
                                    xa.ctypes.data, xa.shape[1],
                                    ta.ctypes.data, ta.shape[1]))
            self.labels = False
        self._guard.handle = h.value
        self.x, self.t = xa.view(), ta.view()
        self.x.flags.writeable = False
        self.t.flags.writeable = False

    @property
    @wraps("nn_data_rows")
    def rows(self) -> int:
        """The number of rows."""
        with self._guard.shared("nn_data_rows") as h:
            return int(capi.nn_data_rows(h))

    @property
    def closed(self) -> bool:
        return self._guard.handle is None

    @wraps("nn_data_free")
    def close(self) -> None:
        """Frees the nn_data (not the arrays); later calls raise NNError."""
        guard = getattr(self, "_guard", None)
        if guard is None or guard.handle is None:
            return
        with guard.exclusive("nn_data_free") as h:
            guard.handle = None
            capi.nn_data_free(h)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # at interpreter exit, or a dataset in use
            pass

    def __enter__(self) -> "Data":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __len__(self) -> int:
        return self.rows

    def __reduce__(self) -> Tuple[Any, ...]:
        if self.closed:
            raise TypeError("cannot pickle a closed libnn.Data")
        return (type(self), (np.array(self.x), np.array(self.t)))

    def __repr__(self) -> str:
        if self.closed:
            return "<libnn.Data (closed)>"
        what = "labels" if self.labels else "t width %d" % self.t.shape[1]
        return "<libnn.Data %d rows, x width %d%s, %s>" % (
            self.x.shape[0], self.x.shape[1],
            " (uint8)" if self.x.dtype == np.uint8 else "", what)


class Layer(NamedTuple):
    """One layer of a model, as nn_model_layer_* describe it."""
    kind: Union[LayerKind, int]
    width: int
    activation: Union[Activation, int, None]


class FlatView:
    """The model's flat parameter (or gradient) buffer, in place.

    Reads (view[i], view[a:b], numpy.asarray(view) which copies) and writes
    (view[a:b] = values) go to the model's memory, each checked first: once
    the model is closed, or a layer is added (which moves the buffer), the
    view raises NNError instead of touching freed memory. Take a fresh view
    after adding layers.
    """

    def __init__(self, model: "Model", fn: str) -> None:
        self._model = model
        self._fn = fn
        self._generation = model._generation

    def _with(self, write: bool, body: Callable[[Floats], Any]) -> Any:
        # nn_model_params and nn_model_grads take a non-const model (the
        # pointer they give can change it), so a view reads alone too.
        m = self._model
        with m._guard.exclusive(self._fn) as h:
            if m._generation != self._generation:
                raise NNError(Status.E_STATE, "%s: the view is stale: layers "
                              "were added since it was taken" % self._fn)
            count = ctypes.c_size_t()
            p = getattr(capi, self._fn)(h, ctypes.byref(count))
            if not p:
                arr: Floats = np.empty(0, np.float32)
            else:
                buf = (ctypes.c_float * count.value).from_address(
                    ctypes.addressof(p.contents))
                arr = np.ctypeslib.as_array(buf)
            return body(arr)

    def __len__(self) -> int:
        return int(self._with(False, len))

    @property
    def shape(self) -> Tuple[int]:
        return (len(self),)

    def __getitem__(self, index: Any) -> Any:
        return self._with(False, lambda a: np.array(a[index]) if
                          not np.isscalar(a[index]) else a[index].item())

    def __setitem__(self, index: Any, value: Any) -> None:
        v = np.asarray(value, dtype=np.float32)

        def put(a: Floats) -> None:
            a[index] = v
        self._with(True, put)

    def __array__(self, dtype: Any = None) -> Floats:
        out: Floats = self._with(False, lambda a: np.array(a, dtype=dtype))
        return out

    def numpy(self) -> Floats:
        """A copy of the buffer."""
        return self.__array__()

    def __repr__(self) -> str:
        try:
            return "<libnn.FlatView %s, %d floats>" % (self._fn, len(self))
        except NNError as e:
            return "<libnn.FlatView %s (unusable: %s)>" % (self._fn, e.message)


class _FitRun:
    """The Python side of one nn_model_fit call: callbacks, Ctrl-C, and
    the first exception raised in a callback."""

    def __init__(self, on_epoch: Optional[EpochCallback],
                 on_batch: Optional[BatchCallback]) -> None:
        self.on_epoch = on_epoch
        self.on_batch = on_batch
        self.error: Optional[BaseException] = None
        self.interrupted = False
        self.in_user_code = False
        # Always a batch callback: the one place where Python runs during
        # fit, so where a Ctrl-C is seen, at most one batch late.
        self.epoch_fn = _lib.CALLBACK_TYPES["nn_epoch_fn"](self._epoch) \
            if on_epoch is not None else _lib.CALLBACK_TYPES["nn_epoch_fn"]()
        self.batch_fn = _lib.CALLBACK_TYPES["nn_batch_fn"](self._batch)

    def _user(self, fn: Optional[Callable[..., Any]], *args: Any) -> int:
        """0 to go on, 1 to stop, -1 to interrupt (see nn_epoch_fn)."""
        try:
            if self.error is not None or self.interrupted:
                return -1
            if fn is not None:
                self.in_user_code = True
                try:
                    r = fn(*args)
                finally:
                    self.in_user_code = False
                if isinstance(r, int) and not isinstance(r, bool) and r < 0:
                    return -1
                if r:
                    return 1
            return -1 if self.interrupted else 0
        except BaseException as e:  # re-raised by Model.fit
            if self.error is None:
                self.error = e
            return -1

    def _epoch(self, _user: Any, epoch: int, train_loss: float,
               val_loss: float, val_accuracy: float, seconds: float) -> int:
        return self._user(self.on_epoch, int(epoch), train_loss, val_loss,
                          val_accuracy, seconds)

    def _batch(self, _user: Any, epoch: int, batch: int, batches: int,
               loss: float) -> int:
        return self._user(self.on_batch, int(epoch), int(batch), int(batches),
                          loss)

    def _sigint(self, signum: int, frame: Any) -> None:
        self.interrupted = True
        if self.in_user_code:
            raise KeyboardInterrupt

    @contextmanager
    def catching_sigint(self) -> Iterator[None]:
        """While fit runs in the main thread, Ctrl-C only marks the run as
        interrupted (or interrupts the user's callback): the next callback
        then stops libnn, and KeyboardInterrupt is raised once it has
        returned, with the model at its last completed step."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.getsignal(signal.SIGINT)
        if not callable(previous):  # SIG_IGN or SIG_DFL: leave them be
            yield
            return
        signal.signal(signal.SIGINT, self._sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
        if self.interrupted and self.error is None:
            previous(signal.SIGINT, None)


def _restore(cls: Type[M], data: bytes) -> M:
    return cls.from_bytes(data)


class Model:
    """A feed-forward network (nn_model).

    Model(input_width, seed) creates an empty model; Model.load(path) and
    Model.from_bytes(data) read model files, Model.import_onnx(path) and
    Model.from_onnx(data) ONNX files (export_onnx and to_onnx write them;
    export_c writes a C header). Methods that return nothing else return
    the model, so building chains:

        m = Model(2, seed=7).add_dense(4, "tanh").add_dense(1, "sigmoid")

    Enum arguments take a member (Activation.TANH), its name ("tanh") or its
    number. Arrays: see Data and predict. Copying (copy.copy,
    copy.deepcopy) and pickling go through a checkpoint file in memory, so a
    copy is an independent model with the optimizer state and generator
    too. A model is freed by close(), a with block or garbage collection.
    """

    @wraps("nn_model_create")
    def __init__(self, input_width: int, seed: int = 0) -> None:
        """Creates an empty model (no layers, no loss)."""
        self._init_guard()
        fn = "nn_model_create"
        h = ctypes.c_void_p()
        check(capi.nn_model_create(ctypes.byref(h),
                                   _lib.size(fn, "input_width", input_width),
                                   _lib.uint64(fn, "seed", seed)))
        self._guard.handle = h.value

    def _init_guard(self) -> None:
        self._guard = _Guard("model")
        self._generation = 0

    @classmethod
    def _adopt(cls: Type[M], handle: Optional[int]) -> M:
        m = cls.__new__(cls)
        m._init_guard()
        m._guard.handle = handle
        return m

    @classmethod
    @wraps("nn_model_load")
    def load(cls: Type[M], path: Any) -> M:
        """A new model from the model file at path (str, bytes, PathLike)."""
        fn = "nn_model_load"
        p = _lib.path_bytes(fn, path)
        h = ctypes.c_void_p()
        check(capi.nn_model_load(ctypes.byref(h), p))
        return cls._adopt(h.value)

    @classmethod
    @wraps("nn_model_load_buffer")
    def from_bytes(cls: Type[M], data: Any) -> M:
        """A new model from a model file's bytes: any bytes-like object
        (bytes, bytearray, memoryview, mmap, array, numpy array)."""
        fn = "nn_model_load_buffer"
        b = _arrays.bytes_view(fn, data)
        h = ctypes.c_void_p()
        # A NULL pointer for no bytes would be NN_E_NULL; point at a byte.
        ptr = b.ctypes.data if b.size else ctypes.addressof(ctypes.c_char())
        check(capi.nn_model_load_buffer(ctypes.byref(h), ptr, b.size))
        return cls._adopt(h.value)

    @property
    def handle(self) -> int:
        """The nn_model * as an integer, for calling capi directly."""
        return self._guard._open("nn_model")

    @property
    def closed(self) -> bool:
        return self._guard.handle is None

    @wraps("nn_model_free")
    def close(self) -> None:
        """Frees the model; later calls, and its FlatViews, raise NNError."""
        guard = getattr(self, "_guard", None)
        if guard is None or guard.handle is None:
            return
        with guard.exclusive("nn_model_free") as h:
            guard.handle = None
            self._generation += 1
            capi.nn_model_free(h)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # at interpreter exit
            pass

    def __enter__(self: M) -> M:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- copies ----
    def __reduce__(self) -> Tuple[Any, ...]:
        if self.closed:
            raise TypeError("cannot pickle a closed libnn.Model")
        return (_restore, (type(self), self.to_bytes(SaveWhat.CHECKPOINT)))

    def __copy__(self: M) -> M:
        return type(self).from_bytes(self.to_bytes(SaveWhat.CHECKPOINT))

    def __deepcopy__(self: M, memo: Dict[int, Any]) -> M:
        return self.__copy__()

    # ---- building ----
    def _add(self: M, fn: str, *args: Any) -> M:
        with self._guard.exclusive(fn) as h:
            check(getattr(capi, fn)(h, *args))
            self._generation += 1
        return self

    @wraps("nn_model_add_dense")
    def add_dense(self: M, width: int, activation: Any) -> M:
        """Appends a dense layer."""
        fn = "nn_model_add_dense"
        return self._add(fn, _lib.size(fn, "width", width),
                         _lib.enum_value(fn, "act", activation, Activation))

    @wraps("nn_model_add_dropout")
    def add_dropout(self: M, rate: float) -> M:
        """Appends a dropout layer."""
        return self._add("nn_model_add_dropout",
                         _lib.real("nn_model_add_dropout", "rate", rate))

    @wraps("nn_model_add_batchnorm")
    def add_batchnorm(self: M) -> M:
        """Appends batch normalization."""
        return self._add("nn_model_add_batchnorm")

    @wraps("nn_model_add_layernorm")
    def add_layernorm(self: M) -> M:
        """Appends layer normalization."""
        return self._add("nn_model_add_layernorm")

    @wraps("nn_model_add_activation")
    def add_activation(self: M, activation: Any) -> M:
        """Appends an activation layer."""
        fn = "nn_model_add_activation"
        return self._add(fn, _lib.enum_value(fn, "act", activation, Activation))

    @wraps("nn_model_add_scaling")
    def add_scaling(self: M, scale: Any, shift: Any) -> M:
        """Appends a fixed scaling; scale and shift are 1-D, of the width."""
        fn = "nn_model_add_scaling"
        s = _arrays.floats(fn, "scale", scale, ndim=1)
        b = _arrays.floats(fn, "shift", shift, ndim=1)
        if s.size != b.size:
            raise NNError(Status.E_SHAPE, "%s: scale has %d values, shift %d"
                          % (fn, s.size, b.size))
        return self._add(fn, s.ctypes.data, b.ctypes.data, s.size)

    @wraps("nn_model_set_loss")
    def set_loss(self: M, loss: Any) -> M:
        """Sets the loss."""
        fn = "nn_model_set_loss"
        with self._guard.exclusive(fn) as h:
            check(capi.nn_model_set_loss(h, _lib.enum_value(fn, "loss", loss,
                                                            Loss)))
        return self

    def _read(self, fn: str, *args: Any) -> Any:
        with self._guard.shared(fn) as h:
            return getattr(capi, fn)(h, *args)

    @property
    @wraps("nn_model_loss")
    def loss(self) -> Union[Loss, int, None]:
        """The loss (None until one is set)."""
        v = int(self._read("nn_model_loss"))
        return None if v == 0 else _member(Loss, v)

    @property
    @wraps("nn_model_input_width")
    def input_width(self) -> int:
        """The input width."""
        return int(self._read("nn_model_input_width"))

    @property
    @wraps("nn_model_output_width")
    def output_width(self) -> int:
        """The output width (0 without layers)."""
        return int(self._read("nn_model_output_width"))

    @property
    @wraps("nn_model_layer_count")
    def layer_count(self) -> int:
        """The number of layers."""
        return int(self._read("nn_model_layer_count"))

    def __len__(self) -> int:
        return self.layer_count

    def _layer(self, fn: str, layer: Any) -> int:
        """A layer index, checked against the model (libnn's getters return
        0 out of range, which would read as a real answer)."""
        i = _lib.size(fn, "layer", layer)
        n = self.layer_count
        if i >= n:
            raise IndexError("%s: layer is %d, the model has %d layer%s"
                             % (fn, i, n, "" if n == 1 else "s"))
        return i

    @wraps("nn_model_layer_width")
    def layer_width(self, layer: int) -> int:
        """The output width of a layer."""
        fn = "nn_model_layer_width"
        return int(self._read(fn, self._layer(fn, layer)))

    @wraps("nn_model_layer_kind")
    def layer_kind(self, layer: int) -> Union[LayerKind, int]:
        """The kind of a layer."""
        fn = "nn_model_layer_kind"
        i = self._layer(fn, layer)
        if not capi.has(fn):  # a 0.1 libnn has dense layers only
            return LayerKind.DENSE
        return _member(LayerKind, int(self._read(fn, i)))

    @wraps("nn_model_layer_activation")
    def layer_activation(self, layer: int) -> Union[Activation, int, None]:
        """The activation of a dense or activation layer, else None."""
        fn = "nn_model_layer_activation"
        v = int(self._read(fn, self._layer(fn, layer)))
        return None if v == 0 else _member(Activation, v)

    @wraps("nn_model_layer_weight_count", "nn_model_layer_bias_count",
           "nn_model_layer_buffer_count")
    def layer_counts(self, layer: int) -> Tuple[int, int, int]:
        """(weights, bias, buffers): the floats of each a layer holds."""
        fn = "nn_model_layer_weight_count"
        i = self._layer(fn, layer)
        if not capi.has(fn):  # a 0.1 libnn: dense layers only
            fan_in = self.input_width if i == 0 else self.layer_width(i - 1)
            out = self.layer_width(i)
            return fan_in * out, out, 0
        return (int(self._read(fn, i)),
                int(self._read("nn_model_layer_bias_count", i)),
                int(self._read("nn_model_layer_buffer_count", i)))

    @property
    def layers(self) -> List[Layer]:
        """Every layer's kind, width and activation."""
        out = []
        for i in range(self.layer_count):
            act: Union[Activation, int, None] = None
            kind = self.layer_kind(i)
            if capi.has("nn_model_layer_activation"):
                act = self.layer_activation(i)
            out.append(Layer(kind, self.layer_width(i), act))
        return out

    # ---- settings ----
    @wraps("nn_model_set_param")
    def set_param(self: M, key: Any, value: float) -> M:
        """Sets a setting."""
        fn = "nn_model_set_param"
        k = _lib.enum_value(fn, "key", key, Param)
        v = _lib.real(fn, "value", value)
        with self._guard.exclusive(fn) as h:
            check(capi.nn_model_set_param(h, k, v))
        return self

    @wraps("nn_model_get_param")
    def get_param(self, key: Any) -> float:
        """A setting's value."""
        fn = "nn_model_get_param"
        k = _lib.enum_value(fn, "key", key, Param)
        v = ctypes.c_double()
        check(self._read(fn, k, ctypes.byref(v)))
        return v.value

    @wraps("nn_model_set_layer_param")
    def set_layer_param(self: M, layer: int, key: Any, value: float) -> M:
        """Sets a setting of a layer."""
        fn = "nn_model_set_layer_param"
        i = _lib.size(fn, "layer", layer)
        k = _lib.enum_value(fn, "key", key, LayerParam)
        v = _lib.real(fn, "value", value)
        with self._guard.exclusive(fn) as h:
            check(capi.nn_model_set_layer_param(h, i, k, v))
        return self

    @wraps("nn_model_get_layer_param")
    def get_layer_param(self, layer: int, key: Any) -> float:
        """A layer setting's value."""
        fn = "nn_model_get_layer_param"
        i = _lib.size(fn, "layer", layer)
        k = _lib.enum_value(fn, "key", key, LayerParam)
        v = ctypes.c_double()
        check(self._read(fn, i, k, ctypes.byref(v)))
        return v.value

    @wraps("nn_model_set_class_weights")
    def set_class_weights(self: M, weights: Any) -> M:
        """Sets the class weights (1-D, one per class); None or an empty
        array removes them."""
        fn = "nn_model_set_class_weights"
        w = _arrays.floats(fn, "w", [] if weights is None else weights, ndim=1)
        with self._guard.exclusive(fn) as h:
            check(capi.nn_model_set_class_weights(
                h, w.ctypes.data if w.size else None, w.size))
        return self

    @wraps("nn_model_class_weight_count", "nn_model_get_class_weights")
    def class_weights(self) -> Floats:
        """A copy of the class weights (empty: none)."""
        fn = "nn_model_get_class_weights"
        with self._guard.shared(fn) as h:
            n = int(capi.nn_model_class_weight_count(h))
            w = np.empty(n, np.float32)
            check(capi.nn_model_get_class_weights(
                h, w.ctypes.data if n else None, n))
        return w

    @wraps("nn_model_set_meta")
    def set_meta(self: M, key: str, value: Optional[str]) -> M:
        """Sets a metadata entry (str or bytes); None removes it."""
        fn = "nn_model_set_meta"
        k = _lib.text_bytes(fn, "key", key)
        v = None if value is None else _lib.text_bytes(fn, "value", value)
        with self._guard.exclusive(fn) as h:
            check(capi.nn_model_set_meta(h, k, v))
        return self

    @wraps("nn_model_get_meta")
    def get_meta(self, key: str) -> Optional[str]:
        """A metadata value, or None."""
        fn = "nn_model_get_meta"
        k = _lib.text_bytes(fn, "key", key)
        return _lib.text(self._read(fn, k))

    @property
    @wraps("nn_model_meta_count", "nn_model_meta_key", "nn_model_get_meta")
    def meta(self) -> Dict[str, str]:
        """A copy of all metadata, in the order the keys were first set."""
        fn = "nn_model_meta_count"
        out: Dict[str, str] = {}
        with self._guard.shared(fn) as h:
            for i in range(int(capi.nn_model_meta_count(h))):
                kb = capi.nn_model_meta_key(h, i)
                vb = capi.nn_model_get_meta(h, kb)
                out[_lib.text(kb) or ""] = _lib.text(vb) or ""
        return out

    # ---- optimizers ----
    @wraps("nn_model_set_optimizer")
    def set_optimizer(self: M, kind: Any) -> M:
        """Chooses the optimizer."""
        fn = "nn_model_set_optimizer"
        k = _lib.enum_value(fn, "kind", kind, Optimizer)
        with self._guard.exclusive(fn) as h:
            check(capi.nn_model_set_optimizer(h, k))
        return self

    @wraps("nn_model_set_schedule")
    def set_schedule(self: M, kind: Any) -> M:
        """Chooses the learning-rate schedule."""
        fn = "nn_model_set_schedule"
        k = _lib.enum_value(fn, "kind", kind, Schedule)
        with self._guard.exclusive(fn) as h:
            check(capi.nn_model_set_schedule(h, k))
        return self

    @property
    @wraps("nn_model_optimizer")
    def optimizer(self) -> Union[Optimizer, int]:
        """The optimizer."""
        return _member(Optimizer, int(self._read("nn_model_optimizer")))

    @property
    @wraps("nn_model_schedule")
    def schedule(self) -> Union[Schedule, int]:
        """The schedule."""
        return _member(Schedule, int(self._read("nn_model_schedule")))

    @property
    @wraps("nn_model_step_count")
    def step_count(self) -> int:
        """Updates since the optimizer was chosen."""
        return int(self._read("nn_model_step_count"))

    @property
    @wraps("nn_model_current_lr")
    def current_lr(self) -> float:
        """The learning rate of the next update."""
        v = ctypes.c_double()
        check(self._read("nn_model_current_lr", ctypes.byref(v)))
        return v.value

    # ---- work ----
    @wraps("nn_model_predict")
    def predict(self, x: Any, out: Optional[Floats] = None, *,
                rowwise: bool = False) -> Floats:
        """Predictions for x (rows, input_width), in inference mode.

        x is used in place when it is C-contiguous, aligned float32, and
        copied into such an array otherwise. The result goes into out when
        given (float32 (rows, output_width), C-contiguous, aligned,
        writeable, apart from x: refused otherwise), else into a new array;
        it is returned.

        rowwise=True predicts one row per libnn call, so that each row's
        result is the same bits whatever other rows come with it (a batch's
        matrix products may round a row differently by its position and the
        batch's size); it costs a call per row."""
        fn = "nn_model_predict"
        xa = _arrays.floats(fn, "x", x)
        with self._guard.shared(fn) as h:
            shape = (xa.shape[0], int(capi.nn_model_output_width(h)))
            if out is None:
                y = np.empty(shape, dtype=np.float32)
            else:
                y = _arrays.out_floats(fn, "out", out, shape)
                _arrays.no_overlap(fn, xa, y)
            if not rowwise or xa.shape[0] == 0:
                check(capi.nn_model_predict(h, xa.shape[0], xa.ctypes.data,
                                            xa.shape[1], y.ctypes.data,
                                            y.shape[1]))
                return y
            predict = capi.nn_model_predict
            xp, yp = xa.ctypes.data, y.ctypes.data
            xs, ys = xa.strides[0], y.strides[0]
            width, out_width = xa.shape[1], y.shape[1]
            for r in range(xa.shape[0]):
                check(predict(h, 1, xp + r * xs, width, yp + r * ys, out_width))
        return y

    def _step(self, fn: str, x: Any, t: Any) -> float:
        xa = _arrays.floats(fn, "x", x)
        loss = ctypes.c_double()
        if _arrays.is_labels(t):
            fn += "_labels"
            la = _arrays.labels(fn, "labels", t)
            _arrays.rows_agree(fn, xa, "labels", la)
            with self._guard.exclusive(fn) as h:
                check(getattr(capi, fn)(h, xa.shape[0], xa.ctypes.data,
                                        xa.shape[1], la.ctypes.data,
                                        ctypes.byref(loss)))
        else:
            ta = _arrays.floats(fn, "t", t)
            _arrays.rows_agree(fn, xa, "t", ta)
            with self._guard.exclusive(fn) as h:
                check(getattr(capi, fn)(h, xa.shape[0], xa.ctypes.data,
                                        xa.shape[1], ta.ctypes.data,
                                        ta.shape[1], ctypes.byref(loss)))
        return loss.value

    @wraps("nn_model_train_batch", "nn_model_train_batch_labels")
    def train_batch(self, x: Any, t: Any) -> float:
        """One training step; returns the batch loss before the update.

        t: targets (rows, output_width) of real numbers, or class labels
        (rows,) of an integer dtype (nn_model_train_batch_labels)."""
        return self._step("nn_model_train_batch", x, t)

    @wraps("nn_model_compute_grads", "nn_model_compute_grads_labels")
    def compute_grads(self, x: Any, t: Any) -> float:
        """Gradients of a batch without an update; returns the loss. t as
        for train_batch."""
        return self._step("nn_model_compute_grads", x, t)

    @wraps("nn_model_apply_grads")
    def apply_grads(self: M) -> M:
        """Applies the gradient buffer."""
        with self._guard.exclusive("nn_model_apply_grads") as h:
            check(capi.nn_model_apply_grads(h))
        return self

    def _fit(self, fn: str, train: Data, val: Optional[Data],
             on_epoch: Optional[EpochCallback],
             on_batch: Optional[BatchCallback]) -> None:
        if not isinstance(train, Data) or not (val is None or
                                               isinstance(val, Data)):
            raise TypeError("%s: train and val must be libnn.Data" % fn)
        run = _FitRun(on_epoch, on_batch)
        with self._guard.exclusive(fn) as h, \
                train._guard.shared(fn) as th, \
                _maybe_shared(val, fn) as vh, \
                run.catching_sigint():
            status = getattr(capi, fn)(h, th, vh, run.epoch_fn,
                                       run.batch_fn, None)
        if run.error is not None:
            raise run.error
        check(status)

    @wraps("nn_model_fit")
    def fit(self: M, train: Data, val: Optional[Data] = None,
            on_epoch: Optional[EpochCallback] = None,
            on_batch: Optional[BatchCallback] = None) -> M:
        """Trains on a Data for Param.EPOCHS epochs.

        on_epoch(epoch, train_loss, val_loss, val_accuracy, seconds) and
        on_batch(epoch, batch, batches, loss) run inside the call; they may
        read the model (predict, evaluate, get_weights, save), and any other
        call on it raises NNError. A callback returning a true value stops
        the fit there (fit returns); a negative integer interrupts the run,
        which fit_resume continues. An exception raised in a callback stops
        the fit and is raised from fit. Ctrl-C interrupts the run within one
        batch and raises KeyboardInterrupt from fit; the model keeps its last
        completed step, and fit_resume goes on from there."""
        self._fit("nn_model_fit", train, val, on_epoch, on_batch)
        return self

    @wraps("nn_model_fit_resume")
    def fit_resume(self: M, train: Data, val: Optional[Data] = None,
                   on_epoch: Optional[EpochCallback] = None,
                   on_batch: Optional[BatchCallback] = None) -> M:
        """Continues an interrupted fit (a callback's negative return, an
        exception in a callback, or Ctrl-C); callbacks as for fit."""
        self._fit("nn_model_fit_resume", train, val, on_epoch, on_batch)
        return self

    @wraps("nn_model_evaluate")
    def evaluate(self, data: Data) -> Tuple[float, float]:
        """(loss, accuracy) on a Data; accuracy is NaN where undefined."""
        fn = "nn_model_evaluate"
        if not isinstance(data, Data):
            raise TypeError("%s: data must be a libnn.Data" % fn)
        loss, acc = ctypes.c_double(), ctypes.c_double()
        with self._guard.shared(fn) as h, data._guard.shared(fn) as dh:
            check(capi.nn_model_evaluate(h, dh, ctypes.byref(loss),
                                         ctypes.byref(acc)))
        return loss.value, acc.value

    # ---- parameters ----
    def _shape_w(self, i: int, count: int) -> Tuple[int, ...]:
        if self.layer_kind(i) == LayerKind.DENSE:
            fan_in = self.input_width if i == 0 else self.layer_width(i - 1)
            return (fan_in, self.layer_width(i))
        return (count,)

    @wraps("nn_model_get_weights")
    def get_weights(self, layer: int) -> Floats:
        """A copy of a layer's weights: (in, out) for a dense layer, (width,)
        (gamma) for normalization, empty for the other kinds."""
        fn = "nn_model_get_weights"
        i = self._layer(fn, layer)
        n = self.layer_counts(i)[0]
        w = np.empty(self._shape_w(i, n), np.float32)
        check(self._read(fn, i, w.ctypes.data if n else None, n))
        return w

    @wraps("nn_model_get_bias")
    def get_bias(self, layer: int) -> Floats:
        """A copy of a layer's bias (beta for normalization)."""
        fn = "nn_model_get_bias"
        i = self._layer(fn, layer)
        n = self.layer_counts(i)[1]
        b = np.empty(n, np.float32)
        check(self._read(fn, i, b.ctypes.data if n else None, n))
        return b

    def _set(self: M, fn: str, layer: int, values: Any, count: int,
             shape: Tuple[int, ...]) -> M:
        i = self._layer(fn, layer)
        a = _arrays.floats(fn, "values", values, ndim=len(shape))
        if a.shape != shape:
            raise NNError(Status.E_SHAPE, "%s: values have shape %s, layer %d "
                          "takes %s" % (fn, a.shape, i, shape))
        with self._guard.exclusive(fn) as h:
            check(getattr(capi, fn)(h, i, a.ctypes.data if a.size else None,
                                    a.size))
        return self

    @wraps("nn_model_set_weights")
    def set_weights(self: M, layer: int, w: Any) -> M:
        """Copies weights in, of get_weights's shape."""
        fn = "nn_model_set_weights"
        i = self._layer(fn, layer)
        n = self.layer_counts(i)[0]
        return self._set(fn, i, w, n, self._shape_w(i, n))

    @wraps("nn_model_set_bias")
    def set_bias(self: M, layer: int, b: Any) -> M:
        """Copies a bias in."""
        fn = "nn_model_set_bias"
        i = self._layer(fn, layer)
        n = self.layer_counts(i)[1]
        return self._set(fn, i, b, n, (n,))

    @wraps("nn_model_get_layer_grads")
    def layer_grads(self, layer: int) -> Tuple[Floats, Floats]:
        """Copies of (dL/dW, dL/db) of a layer, shaped as its weights and
        bias."""
        fn = "nn_model_get_layer_grads"
        i = self._layer(fn, layer)
        nw, nb, _ = self.layer_counts(i)
        dw = np.empty(self._shape_w(i, nw), np.float32)
        db = np.empty(nb, np.float32)
        check(self._read(fn, i, dw.ctypes.data if nw else None, nw,
                         db.ctypes.data if nb else None, nb))
        return dw, db

    @wraps("nn_model_get_layer_buffers")
    def get_layer_buffers(self, layer: int) -> Floats:
        """A copy of a layer's buffers (running mean then variance; scale
        then shift), empty for kinds without."""
        fn = "nn_model_get_layer_buffers"
        i = self._layer(fn, layer)
        n = self.layer_counts(i)[2]
        b = np.empty(n, np.float32)
        check(self._read(fn, i, b.ctypes.data if n else None, n))
        return b

    @wraps("nn_model_set_layer_buffers")
    def set_layer_buffers(self: M, layer: int, buffers: Any) -> M:
        """Copies a layer's buffers in (1-D, of get_layer_buffers's size)."""
        fn = "nn_model_set_layer_buffers"
        i = self._layer(fn, layer)
        n = self.layer_counts(i)[2]
        return self._set(fn, i, buffers, n, (n,))

    def params(self) -> Floats:
        """A copy of all parameters, laid out as nn_model_params (for each
        layer its weights then its bias), read through get_weights and
        get_bias: unlike params_view, this leaves libnn's plain-SGD steps
        free to skip reading the weights (see nn_model_params)."""
        parts: List[Floats] = []
        for i in range(self.layer_count):
            parts.append(self.get_weights(i).ravel())
            parts.append(self.get_bias(i))
        return np.concatenate(parts) if parts else np.empty(0, np.float32)

    @wraps("nn_model_params")
    def params_view(self) -> FlatView:
        """The flat parameter buffer in place, as a FlatView: writes change
        the model."""
        self._guard._open("nn_model_params")
        return FlatView(self, "nn_model_params")

    @wraps("nn_model_grads")
    def grads_view(self) -> FlatView:
        """The flat gradient buffer in place, as a FlatView."""
        self._guard._open("nn_model_grads")
        return FlatView(self, "nn_model_grads")

    def grads(self) -> Floats:
        """A copy of the flat gradient buffer."""
        return self.grads_view().numpy()

    # ---- model files ----
    @wraps("nn_model_save_size")
    def save_size(self, what: Any = SaveWhat.MODEL) -> int:
        """Bytes of the file that save and to_bytes write."""
        fn = "nn_model_save_size"
        w = _lib.enum_value(fn, "what", what, SaveWhat)
        n = ctypes.c_size_t()
        check(self._read(fn, w, ctypes.byref(n)))
        return n.value

    @wraps("nn_model_save_buffer")
    def to_bytes(self, what: Any = SaveWhat.MODEL) -> bytes:
        """The model file's bytes."""
        fn = "nn_model_save_buffer"
        w = _lib.enum_value(fn, "what", what, SaveWhat)
        with self._guard.shared(fn) as h:
            n = ctypes.c_size_t()
            check(capi.nn_model_save_size(h, w, ctypes.byref(n)))
            buf = ctypes.create_string_buffer(max(n.value, 1))
            written = ctypes.c_size_t()
            check(capi.nn_model_save_buffer(h, w, buf, n.value,
                                            ctypes.byref(written)))
        return buf.raw[:written.value]

    @wraps("nn_model_save")
    def save(self: M, path: Any, what: Any = SaveWhat.MODEL) -> M:
        """Writes the model file at path, atomically."""
        fn = "nn_model_save"
        p = _lib.path_bytes(fn, path)
        w = _lib.enum_value(fn, "what", what, SaveWhat)
        check(self._read(fn, p, w))
        return self

    # ---- ONNX and C source (docs/INTEROP.md) ----
    @classmethod
    @wraps("nn_model_import_onnx")
    def import_onnx(cls: Type[M], path: Any) -> M:
        """A new model from the ONNX file at path (str, bytes, PathLike): a
        file that export_onnx wrote, or one that torch.onnx.export wrote for
        a torch.nn.Sequential (see docs/INTEROP.md for what libnn imports).
        The model has no loss and SGD as optimizer: set both to train it
        further.

        Raises NNError: Status.E_FORMAT for a graph libnn does not import
        (the message names the node, its operator and what libnn imports),
        E_IO for a file that cannot be read, and E_STATE when the loaded
        libnn was built without the ONNX reader (its message says so and
        how to build one with it; export_onnx and export_c work either
        way)."""
        fn = "nn_model_import_onnx"
        p = _lib.path_bytes(fn, path)
        h = ctypes.c_void_p()
        check(capi.nn_model_import_onnx(ctypes.byref(h), p))
        return cls._adopt(h.value)

    @classmethod
    @wraps("nn_model_import_onnx_buffer")
    def from_onnx(cls: Type[M], data: Any) -> M:
        """A new model from an ONNX file's bytes: any bytes-like object
        (bytes, bytearray, memoryview, mmap, numpy array). Errors as for
        import_onnx; a str or a path is refused with TypeError (a file is
        read by import_onnx)."""
        fn = "nn_model_import_onnx_buffer"
        if isinstance(data, (str, os.PathLike)):
            raise TypeError("%s: data must be the bytes of an ONNX file, not "
                            "%s; Model.import_onnx(path) reads a file"
                            % (fn, type(data).__name__))
        b = _arrays.bytes_view(fn, data)
        h = ctypes.c_void_p()
        # A NULL pointer for no bytes would be NN_E_NULL; point at a byte.
        ptr = b.ctypes.data if b.size else ctypes.addressof(ctypes.c_char())
        check(capi.nn_model_import_onnx_buffer(ctypes.byref(h), ptr, b.size))
        return cls._adopt(h.value)

    @wraps("nn_model_export_onnx")
    def export_onnx(self: M, path: Any) -> M:
        """Writes the model as an ONNX file at path (str, bytes, PathLike),
        atomically; ONNX Runtime and the other ONNX tools run it, with the
        input "input" and the output "output", float [batch, width]."""
        fn = "nn_model_export_onnx"
        p = _lib.path_bytes(fn, path)
        check(self._read(fn, p))
        return self

    @wraps("nn_model_export_onnx_buffer")
    def to_onnx(self) -> bytes:
        """The bytes of the ONNX file that export_onnx writes."""
        fn = "nn_model_export_onnx_buffer"
        with self._guard.shared(fn) as h:
            # No room: libnn answers NN_E_SHAPE with the size it needs.
            need = ctypes.c_size_t()
            status = capi.nn_model_export_onnx_buffer(h, None, 0,
                                                      ctypes.byref(need))
            if status != Status.E_SHAPE:
                check(status)
            buf = ctypes.create_string_buffer(max(need.value, 1))
            written = ctypes.c_size_t()
            check(capi.nn_model_export_onnx_buffer(h, buf, need.value,
                                                   ctypes.byref(written)))
        return buf.raw[:written.value]

    @wraps("nn_model_export_c")
    def export_c(self: M, path: Any, prefix: str) -> M:
        """Writes the model as one C99 header at path (str, bytes,
        PathLike), atomically: the weights and `<prefix>_predict`, which
        computes one row as predict does, with no libnn. prefix (str or
        bytes) is a C identifier: 1 to 63 ASCII letters, digits and '_',
        starting with a letter (else NNError, Status.E_INVALID)."""
        fn = "nn_model_export_c"
        p = _lib.path_bytes(fn, path)
        pre = _lib.text_bytes(fn, "prefix", prefix)
        check(self._read(fn, p, pre))
        return self

    # ---- printing ----
    def __repr__(self) -> str:
        if self.closed:
            return "<libnn.Model (closed)>"
        try:
            parts = [str(self.input_width)]
            for layer in self.layers:
                kind = _name(layer.kind)
                act = _name(layer.activation) if layer.activation else None
                if kind == "dense":
                    parts.append("%d %s" % (layer.width, act))
                else:
                    parts.append(kind + (" " + act if act else ""))
            loss = self.loss if capi.has("nn_model_loss") else None
            extra = []
            if loss is not None:
                extra.append("loss " + _name(loss))
            if capi.has("nn_model_optimizer"):
                extra.append("optimizer " + _name(self.optimizer))
            extra.append("%d steps" % self.step_count)
            return "<libnn.Model %s; %s>" % (" -> ".join(parts),
                                             ", ".join(extra))
        except NNError as e:  # a callback of fit on another thread, ...
            return "<libnn.Model (%s)>" % e.message


@contextmanager
def _maybe_shared(data: Optional[Data], fn: str) -> Iterator[Optional[int]]:
    if data is None:
        yield None
    else:
        with data._guard.shared(fn) as h:
            yield h


_E = TypeVar("_E", Activation, LayerKind, Loss, Optimizer, Schedule)


def _member(cls: Type[_E], v: int) -> Union[_E, int]:
    try:
        return cls(v)
    except ValueError:  # a value of a newer libnn
        return v


#: nn.h's name function of each enum (nn_<enum>_name).
_NAME_FUNCTIONS: Dict[Type[Any], str] = {
    Param: "nn_param_name", LayerParam: "nn_layer_param_name",
    Activation: "nn_activation_name", Loss: "nn_loss_name",
    LayerKind: "nn_layer_kind_name", Init: "nn_init_name",
    Optimizer: "nn_optimizer_name", Schedule: "nn_schedule_name"}


@wraps(*_NAME_FUNCTIONS.values())
def name_of(value: Any) -> str:
    """libnn's name of an enum member: name_of(Param.LEARNING_RATE) is
    "learning_rate". A value of an enum without a name function, or a
    plain int, gives str(value)."""
    for cls, fn in _NAME_FUNCTIONS.items():
        if isinstance(value, cls):
            if capi.has(fn):
                b = getattr(capi, fn)(int(value))
                if b:
                    return str(b.decode("ascii", "replace"))
            return str(value.name.lower())
    return str(value)


_name = name_of
