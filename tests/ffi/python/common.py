# SPDX-License-Identifier: MIT
"""What the Python package's tests share: the environment ctest gives them,
the reference program's output, the data of tests/ffi/reference.c."""

import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def env_path(name):
    """A path ctest passes in the environment. Missing, the test fails: a
    check that cannot run is not counted as passed."""
    value = os.environ.get(name)
    if not value:
        raise AssertionError("%s is not set: run the tests through ctest "
                             "(tests/ffi/CMakeLists.txt says what each is)"
                             % name)
    return value


def source_dir():
    return env_path("NN_SOURCE_DIR")


def header_api():
    """nn.h parsed afresh by the generator's parser."""
    sys.path.insert(0, os.path.join(source_dir(), "tests", "ffi"))
    try:
        import gen_bindings
    finally:
        sys.path.pop(0)
    with open(os.path.join(source_dir(), "include", "nn.h")) as f:
        return gen_bindings.parse_header(f.read())


_REF = None


def reference():
    global _REF
    if _REF is None:
        out = subprocess.run([env_path("NN_FFI_REFERENCE")], check=True,
                             capture_output=True, text=True).stdout
        _REF = {}
        for line in out.splitlines():
            key, _, rest = line.partition(" ")
            _REF[key] = rest.split()
    return _REF


def f32(tokens):
    return np.array([int(t, 16) for t in tokens], dtype=np.uint32)


def f64(tokens):
    return np.array([int(t, 16) for t in tokens], dtype=np.uint64)


def bits32(a):
    return np.ascontiguousarray(a, dtype=np.float32).ravel().view(np.uint32)


def bits64(values):
    return np.array(values, dtype=np.float64).view(np.uint64)


def flat_params(model):
    """W then b of every layer, read layer by layer (not nn_model_params)."""
    parts = []
    for layer in range(model.layer_count):
        parts.append(model.get_weights(layer).ravel())
        parts.append(model.get_bias(layer))
    return np.concatenate(parts)


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_T = np.array([[0], [1], [1], [0]], dtype=np.float32)


def lcg_data(rows=256, features=4):
    """tests/ffi/reference.c's data: the same LCG, in numpy integers."""
    state = 12345
    a = np.empty((rows, features), dtype=np.uint32)
    for i in range(rows):
        for j in range(features):
            state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
            a[i, j] = state >> 16
    x = (a.astype(np.float32) / np.float32(65536.0)) - np.float32(0.5)
    labels = ((a[:, 0] > a[:, 1]).astype(np.int32)
              + (a[:, 0].astype(np.int64) + a[:, 1] > 65536).astype(np.int32))
    return np.ascontiguousarray(x, dtype=np.float32), labels.astype(np.int32)


def classifier(libnn):
    """reference.c's 4-16-16-3 classifier."""
    from libnn import Activation, Loss, Param
    m = libnn.Model(4, seed=42)
    m.add_dense(16, Activation.RELU).add_dense(16, Activation.LEAKY_RELU)
    m.set_layer_param(1, libnn.LayerParam.LEAKY_SLOPE, 0.1)
    m.add_dense(3, Activation.SOFTMAX).set_loss(Loss.CROSS_ENTROPY)
    m.set_optimizer(libnn.Optimizer.ADAM)
    m.set_param(Param.LEARNING_RATE, 0.01).set_param(Param.WEIGHT_DECAY, 1e-4)
    m.set_schedule(libnn.Schedule.COSINE)
    m.set_param(Param.SCHED_T_MAX, 40).set_param(Param.WARMUP_STEPS, 5)
    m.set_param(Param.EPOCHS, 6).set_param(Param.BATCH_SIZE, 32)
    m.set_param(Param.SHUFFLE, 1)
    return m


def v2_model():
    """reference.c's v2 model: every layer kind and the 0.2 settings."""
    import libnn
    from libnn import Activation, Loss, Param
    m = libnn.Model(4, seed=5).add_scaling([2, 2, 1, 0.5], [0, 0.25, 0, -0.25])
    m.add_dense(8, Activation.GELU).add_batchnorm().add_dropout(0.25)
    m.add_dense(6, "silu").add_layernorm().add_activation(Activation.ELU)
    m.set_layer_param(6, libnn.LayerParam.ELU_ALPHA, 0.5)
    m.add_dense(3, "identity").set_loss(Loss.CROSS_ENTROPY)
    m.set_class_weights(np.array([1, 2, 0.5], np.float64))
    m.set_param(Param.LABEL_SMOOTHING, 0.1).set_optimizer("adamw")
    m.set_param(Param.AMSGRAD, 1).set_param(Param.WEIGHT_DECAY, 0.01)
    m.set_param(Param.LEARNING_RATE, 0.01).set_param(Param.EPOCHS, 3)
    m.set_param(Param.BATCH_SIZE, 32).set_meta("classes", "low,mid,high")
    return m


def onnx_reader():
    """Whether the libnn under test was built with the ONNX reader
    (protobuf-c), as its build says (NN_HAVE_ONNX_READER, 1 or 0): the
    tests expect imports to work, or to fail with NN_E_STATE, from that
    rather than from what the library answers."""
    value = env_path("NN_HAVE_ONNX_READER")
    if value not in ("0", "1"):
        raise AssertionError("NN_HAVE_ONNX_READER is %r, not 0 or 1" % value)
    return value == "1"


def onnx_fixture(name):
    """tests/onnx/fixtures/<name>.txt, which make_fixtures.py wrote with
    PyTorch: {section: float64 array (rows, cols)}, or {"message": text}
    for a graph libnn refuses."""
    path = os.path.join(source_dir(), "tests", "onnx", "fixtures",
                        name + ".txt")
    with open(path) as f:
        lines = f.read().splitlines()
    out = {}
    i = 0
    while i < len(lines):
        head = lines[i].split()
        if head == ["message"]:
            out["message"] = lines[i + 1]
            i += 2
            continue
        name_, rows, cols = head[0], int(head[1]), int(head[2])
        values = [float(v) for line in lines[i + 1:i + 1 + rows]
                  for v in line.split()]
        out[name_] = np.array(values, np.float64).reshape(rows, cols)
        i += 1 + rows
    return out


def assert_rows_close(got, want, rel, what=""):
    """Every row of got within rel of want, relative to the row's largest
    output of want, as tests/onnx compares: an output near 0 that sums
    larger terms of both signs keeps their rounding, so its own relative
    error measures nothing."""
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    if got.shape != want.shape:
        raise AssertionError("%s: shape %s, want %s" % (what, got.shape,
                                                        want.shape))
    err = np.abs(got - want).max(axis=1)
    scale = np.abs(want).max(axis=1)
    bad = np.flatnonzero(~(err <= rel * scale))
    if bad.size:
        r = bad[np.argmax(err[bad] / np.maximum(scale[bad], 1e-300))]
        raise AssertionError(
            "%s: row %d differs by %.3g of its largest output (%.9g), more "
            "than %.3g:\n got %s\nwant %s" % (what, r, err[r] / scale[r],
                                               scale[r], rel, got[r], want[r]))


def run_python(code, env=None, check=True):
    """Runs code in a fresh interpreter (this one's), returns the result."""
    full = dict(os.environ)
    full.update(env or {})
    full = {k: v for k, v in full.items() if v is not None}
    return subprocess.run([sys.executable, "-c", code], env=full,
                          capture_output=True, text=True, check=check,
                          timeout=120)
