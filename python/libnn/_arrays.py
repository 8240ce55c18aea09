# SPDX-License-Identifier: MIT
"""Arrays on their way to libnn: what C may be given, and what is copied.

libnn reads and writes row-major float32 (and int32 labels) through bare
pointers, with no stride and no dtype, and requires alignment to 4 bytes.
Inputs that are not exactly that (another dtype, a transpose, a slice with a
step, an odd offset into a buffer, a list) are copied into an array that
is; nothing else reaches C as it is. A dataset's inputs of dtype uint8 go
as bytes instead (nn_data_create_u8), at any offset, copied only when not
C-contiguous. Arrays libnn writes into (predict's
out) cannot be copied back behind the caller's back, so those are refused
instead when they are not exactly right.
"""

from typing import Any, Tuple

import numpy as np
import numpy.typing as npt

from ._lib import NNError
from ._nn_h import Status

Floats = npt.NDArray[np.float32]
Labels = npt.NDArray[np.int32]
Bytes = npt.NDArray[np.uint8]

_INT32_MIN = -(1 << 31)
_INT32_MAX = (1 << 31) - 1


def _as_array(fn: str, name: str, a: Any) -> npt.NDArray[Any]:
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError) as e:
        raise TypeError("%s: %s cannot be read as an array (%s)"
                        % (fn, name, e)) from None
    if arr.dtype.kind not in "biuf":
        raise TypeError("%s: %s has dtype %s; libnn takes real numbers"
                        % (fn, name, arr.dtype))
    return arr


def floats(fn: str, name: str, a: Any, ndim: int = 2) -> Floats:
    """An input of ndim dimensions as C-contiguous, aligned float32: the
    array itself when it is one, else a copy."""
    arr = _as_array(fn, name, a)
    if arr.ndim != ndim:
        raise ValueError("%s: %s has shape %s; libnn takes %s" % (
            fn, name, arr.shape,
            "(rows, width)" if ndim == 2 else "a 1-D array"))
    out: Floats = np.require(arr, np.float32, ["C_CONTIGUOUS", "ALIGNED"])
    return out


def is_bytes(a: Any) -> bool:
    """Inputs of dtype uint8 (as numpy reads them: a uint8 array, or a
    memoryview or array.array of format "B") are bytes, which a dataset
    keeps as they are; any other inputs are converted to float32."""
    if isinstance(a, np.ndarray):
        return bool(a.dtype == np.uint8)
    try:
        return bool(np.asarray(a).dtype == np.uint8)
    except (TypeError, ValueError):  # floats() says what is wrong with it
        return False


def byte_rows(fn: str, name: str, a: Any) -> Bytes:
    """Inputs of dtype uint8 (see is_bytes) as a C-contiguous uint8 array
    (rows, width): the array itself when it is one, else a copy. Bytes need
    no alignment."""
    arr = _as_array(fn, name, a)
    if arr.dtype != np.uint8:
        raise TypeError("%s: %s has dtype %s, not uint8" % (fn, name, arr.dtype))
    if arr.ndim != 2:
        raise ValueError("%s: %s has shape %s; libnn takes (rows, width)"
                         % (fn, name, arr.shape))
    out: Bytes = np.require(arr, np.uint8, ["C_CONTIGUOUS"])
    return out


def labels(fn: str, name: str, a: Any) -> Labels:
    """Class labels as C-contiguous, aligned int32 (rows,): integers only,
    and each must fit int32 (no wrapping of 2**32 into 0)."""
    arr = _as_array(fn, name, a)
    if arr.dtype.kind == "f":
        raise TypeError("%s: %s has dtype %s; class labels are integers"
                        % (fn, name, arr.dtype))
    if arr.ndim != 1:
        raise ValueError("%s: %s has shape %s; labels are (rows,)"
                         % (fn, name, arr.shape))
    if arr.size and arr.dtype != np.int32:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < _INT32_MIN or hi > _INT32_MAX:
            raise OverflowError("%s: %s holds %d, outside int32's range"
                                % (fn, name, hi if hi > _INT32_MAX else lo))
    out: Labels = np.require(arr, np.int32, ["C_CONTIGUOUS", "ALIGNED"])
    return out


def is_labels(t: Any) -> bool:
    """Targets of an integer dtype are class labels; any other numbers
    (floats, bools) are target rows."""
    kind = np.asarray(t).dtype.kind if not isinstance(t, np.ndarray) \
        else t.dtype.kind
    return kind in "iu"


def out_floats(fn: str, name: str, out: Any, shape: Tuple[int, int]) -> Floats:
    """An array libnn writes into: float32, C-contiguous, aligned, writeable
    and of this shape, or refused (a copy would not reach the caller)."""
    if not isinstance(out, np.ndarray):
        raise TypeError("%s: %s must be a numpy.ndarray, not %s"
                        % (fn, name, type(out).__name__))
    problems = []
    if out.dtype != np.float32:
        problems.append("has dtype %s, not float32" % out.dtype)
    if out.shape != shape:
        problems.append("has shape %s, not %s" % (out.shape, shape))
    if not out.flags.c_contiguous:
        problems.append("is not C-contiguous")
    if not out.flags.aligned:
        problems.append("is not aligned for float")
    if not out.flags.writeable:
        problems.append("is read-only")
    if problems:
        raise ValueError("%s: %s %s" % (fn, name, ", ".join(problems)))
    return out


def rows_agree(fn: str, x: npt.NDArray[Any], name: str,
               other: npt.NDArray[Any]) -> None:
    if other.shape[0] != x.shape[0]:
        raise NNError(Status.E_SHAPE, "%s: x has %d rows, %s has %d"
                      % (fn, x.shape[0], name, other.shape[0]))


def no_overlap(fn: str, read: npt.NDArray[Any], written: npt.NDArray[Any]) -> None:
    if np.may_share_memory(read, written):
        raise ValueError("%s: the output array overlaps the input; libnn "
                         "needs them apart" % fn)


def bytes_view(fn: str, data: Any) -> npt.NDArray[np.uint8]:
    """Any bytes-like object as uint8 over its memory (a copy only when the
    buffer is not contiguous)."""
    try:
        mv = memoryview(data)
    except TypeError:
        raise TypeError("%s: expected a bytes-like object, not %s"
                        % (fn, type(data).__name__)) from None
    if not mv.contiguous:
        mv = memoryview(mv.tobytes())
    if mv.ndim != 1 or mv.format not in ("B", "b", "c"):
        mv = mv.cast("B") if mv.c_contiguous else memoryview(mv.tobytes())
    arr: npt.NDArray[np.uint8] = np.frombuffer(mv, dtype=np.uint8)
    return arr
