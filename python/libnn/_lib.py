# SPDX-License-Identifier: MIT
"""Loading libnn and declaring its functions to ctypes, from nn.h's tables.

Every prototype comes from _nn_h.FUNCTIONS, which tests/ffi/gen_bindings.py
generates from include/nn.h: nothing here is retyped from the header. This
module also holds the argument checks that stand between Python values and
C types, since ctypes itself wraps out-of-range integers silently
(ctypes.c_size_t(-1) is 2**64 - 1, ctypes.c_int(2**32 + 1) is 1) and stops
a char * at its first NUL.
"""

import ctypes
import enum
import operator
import os
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple, Type, TypeVar

from . import _nn_h
from ._nn_h import Status

F = TypeVar("F", bound=Callable[..., Any])

#: The major version of libnn this package binds: libnn.so.<ABI_MAJOR>.
ABI_MAJOR = _nn_h.VERSION_MAJOR

_SIZE_MAX = (1 << (8 * ctypes.sizeof(ctypes.c_size_t))) - 1
_UINT64_MAX = (1 << 64) - 1
_INT_MIN = -(1 << (8 * ctypes.sizeof(ctypes.c_int) - 1))
_INT_MAX = (1 << (8 * ctypes.sizeof(ctypes.c_int) - 1)) - 1


class NNError(Exception):
    """A libnn call failed, or an argument cannot be given to libnn.

    status  -- the nn_status, a Status member (a plain int for a value this
               package does not know, from a newer libnn)
    message -- libnn's message (nn_last_error), which names the function,
               the argument and the numbers; or, for a call this package
               refuses before reaching libnn, a message in the same form
    """

    status: "Status | int"
    message: str

    def __init__(self, status: int, message: str) -> None:
        try:
            st: "Status | int" = Status(status)
        except ValueError:
            st = int(status)
        super().__init__(st, message)
        self.status = st
        self.message = message

    def __str__(self) -> str:
        name = self.status.name if isinstance(self.status, Status) \
            else str(self.status)
        return "%s [%s]" % (self.message, name)

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (int(self.status), self.message))


# ---------------------------------------------------------------------------
# Finding the library
# ---------------------------------------------------------------------------

def _install_dirs() -> List[str]:
    """Where `cmake --install` puts libnn by default (prefix /usr/local),
    for a library installed without running ldconfig afterwards."""
    dirs = ["/usr/local/lib", "/usr/local/lib64"]
    multiarch = getattr(sys.implementation, "_multiarch", None)
    if multiarch:
        dirs.insert(1, "/usr/local/lib/" + multiarch)
    return dirs


def _load() -> Tuple[ctypes.CDLL, str]:
    soname = "libnn.so.%d" % ABI_MAJOR
    env = os.environ.get("LIBNN_PATH")
    if env:
        try:
            return ctypes.CDLL(env), env
        except OSError as e:
            raise ImportError("libnn: cannot load LIBNN_PATH=%s (%s)"
                              % (env, e)) from None
    tried = [soname + " (the system's loader)"]
    try:
        return ctypes.CDLL(soname), soname
    except OSError:
        pass
    for d in _install_dirs():
        path = os.path.join(d, soname)
        tried.append(path)
        if os.path.exists(path):
            try:
                return ctypes.CDLL(path), path
            except OSError as e:
                raise ImportError("libnn: cannot load %s (%s)"
                                  % (path, e)) from None
    raise ImportError(
        "libnn: the C library %s is not installed: tried %s. Install it "
        "(cmake --install <build>, then ldconfig) or set LIBNN_PATH to its "
        "path" % (soname, ", ".join(tried)))


lib, library_path = _load()


def _check_version() -> Tuple[int, str]:
    fn = getattr(lib, "nn_version_number", None)
    sfn = getattr(lib, "nn_version_string", None)
    if fn is None or sfn is None:
        raise ImportError("libnn: %s is not libnn: it has no nn_version_number"
                          % library_path)
    fn.restype, fn.argtypes = ctypes.c_uint, []
    sfn.restype, sfn.argtypes = ctypes.c_char_p, []
    number = int(fn())
    text = (sfn() or b"?").decode("ascii", "replace")
    if number // 10000 != ABI_MAJOR:
        raise ImportError(
            "libnn: %s is libnn %s (major version %d), but this Python package "
            "(libnn %s) binds major version %d: install libnn %d.x, or the "
            "Python package made for libnn %d" % (
                library_path, text, number // 10000, _nn_h.__version__,
                ABI_MAJOR, ABI_MAJOR, number // 10000))
    return number, text


library_version_number, library_version = _check_version()


# ---------------------------------------------------------------------------
# Prototypes
# ---------------------------------------------------------------------------

_SCALARS: Dict[str, Any] = {
    "void": None,
    "int": ctypes.c_int,
    "unsigned": ctypes.c_uint,
    "size_t": ctypes.c_size_t,
    "uint64_t": ctypes.c_uint64,
    "double": ctypes.c_double,
    "const char *": ctypes.c_char_p,
    "char *": ctypes.c_char_p,
    # Arrays go as addresses, after the checks of _arrays.py.
    "void *": ctypes.c_void_p,
    "const void *": ctypes.c_void_p,
    "float *": ctypes.c_void_p,
    "const float *": ctypes.c_void_p,
    "const uint8_t *": ctypes.c_void_p,
    "const int32_t *": ctypes.c_void_p,
    "double *": ctypes.POINTER(ctypes.c_double),
    "size_t *": ctypes.POINTER(ctypes.c_size_t),
    "nn_model *": ctypes.c_void_p,
    "const nn_model *": ctypes.c_void_p,
    "nn_model **": ctypes.POINTER(ctypes.c_void_p),
    "nn_data *": ctypes.c_void_p,
    "const nn_data *": ctypes.c_void_p,
    "nn_data **": ctypes.POINTER(ctypes.c_void_p),
}
_RETURNS: Dict[str, Any] = {"float *": ctypes.POINTER(ctypes.c_float)}


def _ctype(ctype: str, callbacks: Dict[str, Any], ret: bool = False) -> Any:
    if ret and ctype in _RETURNS:
        return _RETURNS[ctype]
    if ctype in _SCALARS:
        return _SCALARS[ctype]
    base = ctype.replace("const ", "")
    if base in _nn_h.ENUMS:
        return ctypes.c_int
    if base in callbacks:
        return callbacks[base]
    raise ImportError("libnn: nn.h's type %r has no ctypes equivalent in "
                      "this package" % ctype)


def _callback_types() -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for name, (ret, params) in _nn_h.CALLBACKS.items():
        out[name] = ctypes.CFUNCTYPE(_ctype(ret, {}, ret=True),
                                     *[_ctype(t, {}) for t, _ in params])
    return out


#: The ctypes function types of nn.h's callback typedefs, by name.
CALLBACK_TYPES = _callback_types()


class CApi:
    """The C functions of the loaded libnn, declared to ctypes from nn.h.

    Each attribute nn_* is the ctypes function, with argtypes and restype
    set from nn.h's prototype, for calling libnn directly (which is as
    unchecked as calling it from C). A function of nn.h that the loaded
    library lacks (an older 0.x) is absent: see `missing`.
    """

    def __init__(self) -> None:
        #: nn.h functions the loaded library does not export.
        self.missing: Dict[str, str] = {}
        for name, (ret, params, since) in _nn_h.FUNCTIONS.items():
            fn = getattr(lib, name, None)
            if fn is None:
                self.missing[name] = since
                continue
            fn.restype = _ctype(ret, CALLBACK_TYPES, ret=True)
            fn.argtypes = [_ctype(t, CALLBACK_TYPES) for t, _ in params]
            setattr(self, name, fn)

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not set: missing or unknown.
        if name in _nn_h.FUNCTIONS:
            raise NNError(Status.E_STATE, "%s: not in the loaded libnn %s (%s); "
                          "it exists since libnn %s" % (
                              name, library_version, library_path,
                              _nn_h.FUNCTIONS[name][2]))
        raise AttributeError(name)

    def has(self, name: str) -> bool:
        """Whether the loaded library exports the nn.h function `name`."""
        return name in _nn_h.FUNCTIONS and name not in self.missing


capi = CApi()

#: The nn.h functions that the classes and functions of this package call;
#: filled by @wraps. Its test requires every nn.h function to be here or in
#: RAW_ONLY, so that a function added to nn.h cannot be forgotten.
WRAPPED: Dict[str, str] = {}

#: nn.h functions deliberately left to `capi` alone, and why.
RAW_ONLY = {
    "nn_set_allocator": "an allocator written in Python, called from C "
                        "while libnn holds its blocks, gains nothing over "
                        "malloc and can crash the interpreter at exit",
    "nn_model_set_reducer": "data-parallel training: the reducer is a C "
                            "callback that sums buffers across processes "
                            "in the middle of every step; libnn_mpi "
                            "provides it in C",
    "nn_model_set_batch_part": "meaningful only with a reducer (see "
                               "nn_model_set_reducer)",
    "nn_model_set_replica": "takes a C callback that sums gradients across "
                            "processes; see nn_model_set_reducer",
    "nn_model_set_grads_ready": "a C callback inside every step, for "
                                "overlapping communication with the "
                                "backward pass; see nn_model_set_reducer",
}


def wraps(*names: str) -> Callable[[F], F]:
    """Marks a Python function or method as the binding of nn.h's `names`,
    and appends nn.h's comment of each to its docstring."""
    for n in names:
        if n not in _nn_h.FUNCTIONS:
            raise ImportError("libnn: %s is not in nn.h" % n)

    def deco(f: F) -> F:
        parts = [f.__doc__.strip()] if f.__doc__ else []
        groups: Dict[str, List[str]] = {}  # nn.h's comment -> prototypes
        for n in names:
            WRAPPED[n] = f.__qualname__
            ret, params, _since = _nn_h.FUNCTIONS[n]
            proto = "%s %s(%s)" % (ret, n, ", ".join(
                "%s%s%s" % (t, "" if t.endswith("*") else " ", p)
                for t, p in params) or "void")
            groups.setdefault(_nn_h.DOCS[n], []).append(
                "nn.h: " + proto.replace("* ", "*"))
        for doc, protos in groups.items():
            parts.append("\n".join(protos) + "\n\n" + doc)
        f.__doc__ = "\n\n".join(parts)
        return f
    return deco


# ---------------------------------------------------------------------------
# Status and argument checks
# ---------------------------------------------------------------------------

def last_error_text() -> str:
    msg: Optional[bytes] = capi.nn_last_error()
    return msg.decode("utf-8", "replace") if msg else ""


def check(status: int) -> None:
    """Raises NNError with libnn's message for a status other than NN_OK."""
    if status != 0:
        raise NNError(status, last_error_text())


def _int(fn: str, name: str, value: Any) -> int:
    if isinstance(value, float):
        raise TypeError("%s: %s must be an integer, not float %r"
                        % (fn, name, value))
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError("%s: %s must be an integer, not %s"
                        % (fn, name, type(value).__name__)) from None


def size(fn: str, name: str, value: Any) -> int:
    """A size_t argument: an integer in [0, SIZE_MAX], else OverflowError."""
    v = _int(fn, name, value)
    if not 0 <= v <= _SIZE_MAX:
        raise OverflowError("%s: %s is %d, outside size_t's range [0, %d]"
                            % (fn, name, v, _SIZE_MAX))
    return v


def uint64(fn: str, name: str, value: Any) -> int:
    """A uint64_t argument."""
    v = _int(fn, name, value)
    if not 0 <= v <= _UINT64_MAX:
        raise OverflowError("%s: %s is %d, outside uint64_t's range [0, 2**64 "
                            "- 1]" % (fn, name, v))
    return v


def real(fn: str, name: str, value: Any) -> float:
    """A double argument (NaN passes: libnn rejects it where it must)."""
    if isinstance(value, (str, bytes)):
        raise TypeError("%s: %s must be a number, not %s"
                        % (fn, name, type(value).__name__))
    try:
        return float(value)
    except OverflowError:
        raise OverflowError("%s: %s is %r, beyond a double's range"
                            % (fn, name, value)) from None
    except (TypeError, ValueError):
        raise TypeError("%s: %s must be a number, not %s"
                        % (fn, name, type(value).__name__)) from None


E = TypeVar("E", bound=enum.IntEnum)


def enum_value(fn: str, name: str, value: Any, cls: Type[E]) -> int:
    """An enum argument: a member of cls, its name ("tanh"), or an int in the
    C int's range (a value this package does not know goes to libnn, which
    rejects it unless it is newer). A member of another enum is refused."""
    if isinstance(value, cls):
        return int(value)
    if isinstance(value, enum.Enum):
        raise TypeError("%s: %s must be a %s, not %s" % (
            fn, name, cls.__name__, value))
    if isinstance(value, str):
        try:
            return int(cls[value.upper()])
        except KeyError:
            raise ValueError("%s: %s is %r, not one of %s" % (
                fn, name, value,
                ", ".join(m.name.lower() for m in cls))) from None
    v = _int(fn, name, value)
    if not _INT_MIN <= v <= _INT_MAX:
        raise OverflowError("%s: %s is %d, outside the C enum's (int's) range"
                            % (fn, name, v))
    return v


def path_bytes(fn: str, path: Any) -> bytes:
    """A file name for a const char *: str, bytes or os.PathLike, without
    a NUL byte (which would end the C string early)."""
    try:
        p = os.fsencode(path)
    except TypeError:
        raise TypeError("%s: path must be str, bytes or os.PathLike, not %s"
                        % (fn, type(path).__name__)) from None
    if b"\0" in p:
        raise ValueError("%s: path contains a NUL byte: %r" % (fn, path))
    return p


def text_bytes(fn: str, name: str, value: Any) -> bytes:
    """A string for a const char *: str (as UTF-8) or bytes, without NUL."""
    if isinstance(value, str):
        b = value.encode("utf-8")
    elif isinstance(value, (bytes, bytearray)):
        b = bytes(value)
    else:
        raise TypeError("%s: %s must be str or bytes, not %s"
                        % (fn, name, type(value).__name__))
    if b"\0" in b:
        raise ValueError("%s: %s contains a NUL byte: %r" % (fn, name, value))
    return b


def text(value: Optional[bytes]) -> Optional[str]:
    return None if value is None else value.decode("utf-8", "replace")
