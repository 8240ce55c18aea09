# SPDX-License-Identifier: MIT
"""libnn from Python: feed-forward neural networks on the libnn C library.

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
            m.train_batch(x, t)
        print(m.predict(x))

The package calls the C library through ctypes (no compiled extension).
Which library: LIBNN_PATH, if set, is the path of the one to load;
otherwise libnn.so.<major> as the system's loader finds it (after `cmake
--install` and `ldconfig`), else in /usr/local/lib. Its major version must
be this package's (ABI_MAJOR): a later minor version only adds.

Errors: a libnn call that fails raises NNError, with .status (a Status) and
.message (libnn's, naming the function, the argument and the numbers).
Python values that cannot become the C argument raise before the call:
TypeError (a float for an integer, a string for an array), OverflowError
(an integer outside the C type's range, such as a negative size),
ValueError (a NUL in a path, an array of the wrong shape).

Every function of nn.h is bound: most through Model, Data and the functions
below, whose docstrings carry nn.h's text; all of them raw through `capi`
(see CApi), as unchecked as from C.
"""

from typing import Tuple

from . import _nn_h
from ._lib import (ABI_MAJOR, RAW_ONLY, WRAPPED, CApi, NNError, capi, check,
                   library_path, wraps)
from . import _lib
from ._model import Data, FlatView, Layer, Model, name_of
from ._nn_h import (Activation, Init, LayerKind, LayerParam, Loss, Optimizer,
                    Param, SaveWhat, Schedule, Status)

__version__ = _nn_h.__version__

__all__ = [
    "ABI_MAJOR", "NNError", "Status", "Activation", "Loss", "Param",
    "LayerParam", "LayerKind", "Init", "Optimizer", "Schedule", "SaveWhat",
    "Model", "Data", "Layer", "FlatView", "capi", "CApi", "library_path",
    "library_version", "library_version_number", "status_string",
    "last_error", "param_bounds", "layer_param_bounds", "set_blas_threads",
    "name_of", "__version__",
]


@wraps("nn_version_number")
def library_version_number() -> int:
    """The loaded library's version, MAJOR * 10000 + MINOR * 100 + PATCH."""
    return int(capi.nn_version_number())


@wraps("nn_version_string")
def library_version() -> str:
    """The loaded library's version, "MAJOR.MINOR.PATCH". (__version__ is
    this package's: the nn.h it was generated from.)"""
    return str(capi.nn_version_string().decode("ascii"))


@wraps("nn_status_string")
def status_string(status: int) -> str:
    """A short description of a status."""
    s = _lib.enum_value("nn_status_string", "status", status, Status)
    return str(capi.nn_status_string(s).decode("ascii", "replace"))


@wraps("nn_last_error")
def last_error() -> str:
    """The calling thread's last failure message."""
    return _lib.last_error_text()


def _bounds(fn: str, key: int) -> Tuple[float, float, float]:
    import ctypes
    lo, hi, df = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    check(getattr(capi, fn)(key, ctypes.byref(lo), ctypes.byref(hi),
                            ctypes.byref(df)))
    return lo.value, hi.value, df.value


@wraps("nn_param_bounds")
def param_bounds(key: object) -> Tuple[float, float, float]:
    """(lo, hi, default) of a Param."""
    fn = "nn_param_bounds"
    return _bounds(fn, _lib.enum_value(fn, "key", key, Param))


@wraps("nn_layer_param_bounds")
def layer_param_bounds(key: object) -> Tuple[float, float, float]:
    """(lo, hi, default) of a LayerParam."""
    fn = "nn_layer_param_bounds"
    return _bounds(fn, _lib.enum_value(fn, "key", key, LayerParam))


@wraps("nn_set_blas_threads")
def set_blas_threads(threads: int) -> None:
    """BLAS threads, process wide; 0 = one per core."""
    fn = "nn_set_blas_threads"
    check(capi.nn_set_blas_threads(_lib.size(fn, "threads", threads)))


del Tuple
