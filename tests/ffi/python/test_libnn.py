"""python/libnn.py against the C API: the ffi_python ctest test.

Run by ctest with Debian's /usr/bin/python3 and python3-numpy:
    LIBNN_PATH=<build>/libnn.so NN_FFI_REFERENCE=<build>/tests/ffi/nn_ffi_reference \
    NN_HEADER=include/nn.h NN_SYMBOLS=tests/abi/symbols.txt \
    PYTHONPATH=python python3 -m unittest -v test_libnn

The reference program (tests/ffi/reference.c) does the same computations in C
and prints every result as IEEE-754 bit patterns; these tests redo them through
the Python module, reading results back by other calls than the C program uses
(per-layer weights and biases rather than the flat buffer), and require
equality bit for bit.
"""

import gc
import os
import re
import subprocess
import tempfile
import unittest

import numpy as np

import libnn
from libnn import Activation, Loss, NNError, Param, Status

HERE = os.path.dirname(os.path.abspath(__file__))


def env_path(name):
    value = os.environ.get(name)
    if not value:
        raise unittest.SkipTest("%s is not set (ctest sets it)" % name)
    return value


def run_reference():
    out = subprocess.run([env_path("NN_FFI_REFERENCE")], check=True,
                         capture_output=True, text=True).stdout
    ref = {}
    for line in out.splitlines():
        key, _, rest = line.partition(" ")
        ref[key] = rest.split()
    return ref


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


def classifier():
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


class SameBitsAsTheCApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ref = run_reference()
        libnn.set_blas_threads(1)  # as the reference program

    def test_xor_trained_step_by_step_equals_c(self):
        m = libnn.Model(2, seed=7)
        m.add_dense(8, Activation.TANH).add_dense(1, Activation.SIGMOID)
        m.set_loss(Loss.BCE).set_param(Param.LEARNING_RATE, 0.5)
        m.set_param(Param.MOMENTUM, 0.9).set_param(Param.NESTEROV, 1)
        losses = [m.train_batch(XOR_X, XOR_T) for _ in range(300)]
        y = m.predict(XOR_X)
        np.testing.assert_array_equal(bits64(losses), f64(self.ref["xor.losses"]))
        np.testing.assert_array_equal(bits32(flat_params(m)),
                                      f32(self.ref["xor.params"]))
        np.testing.assert_array_equal(bits32(y), f32(self.ref["xor.pred"]))
        self.assertTrue(np.array_equal(y.ravel() > 0.5, XOR_T.ravel() > 0.5))
        m.close()

    def test_compute_and_apply_grads_equal_c(self):
        m = libnn.Model(2, seed=3)
        m.add_dense(3, Activation.SIGMOID).add_dense(1, Activation.IDENTITY)
        m.set_loss(Loss.MSE).set_param(Param.LEARNING_RATE, 0.25)
        loss = m.compute_grads(XOR_X, XOR_T)
        dw0, db0 = m.layer_grads(0)
        dw1, db1 = m.layer_grads(1)
        np.testing.assert_array_equal(bits32(m.grads()),
                                      bits32(np.concatenate(
                                          [dw0.ravel(), db0, dw1.ravel(), db1])))
        m.apply_grads()
        self.assertEqual(bits64([loss])[0], f64(self.ref["grads.loss"])[0])
        for name, got in (("dw0", dw0), ("db0", db0), ("dw1", dw1),
                          ("db1", db1)):
            np.testing.assert_array_equal(bits32(got),
                                          f32(self.ref["grads." + name]), name)
        np.testing.assert_array_equal(bits32(flat_params(m)),
                                      f32(self.ref["grads.params"]))

    def test_classifier_data_regenerate_exactly(self):
        x, labels = lcg_data()
        np.testing.assert_array_equal(bits32(x), f32(self.ref["clf.x"]))
        np.testing.assert_array_equal(
            labels, np.array(self.ref["clf.labels"], dtype=np.int32))
        self.assertEqual(set(labels.tolist()), {0, 1, 2})

    def test_classifier_fit_evaluate_predict_save_load_equal_c(self):
        x, labels = lcg_data()
        train = libnn.Data(x[:192], labels[:192])
        val = libnn.Data(x[192:], labels[192:])
        self.assertEqual((train.rows, val.rows), (192, 64))
        history, batches = [], []

        def on_epoch(epoch, train_loss, val_loss, val_accuracy, seconds):
            self.assertEqual(epoch, len(history) // 3 + 1)
            self.assertGreaterEqual(seconds, 0.0)
            history.extend([train_loss, val_loss, val_accuracy])

        m = classifier()
        m.fit(train, val, on_epoch=on_epoch,
              on_batch=lambda *args: batches.append(args))
        loss, accuracy = m.evaluate(train)
        pred = m.predict(x[192:])

        ref = self.ref
        np.testing.assert_array_equal(bits64(history), f64(ref["clf.epochs"]))
        self.assertEqual(len(batches), int(ref["clf.batches"][0]))
        self.assertEqual(batches[0], (1, 1, 6, batches[0][3]))
        self.assertEqual(m.step_count, int(ref["clf.steps"][0]))
        self.assertEqual(bits64([m.current_lr])[0], f64(ref["clf.lr"])[0])
        np.testing.assert_array_equal(bits64([loss, accuracy]),
                                      f64(ref["clf.eval"]))
        np.testing.assert_array_equal(bits32(pred), f32(ref["clf.pred"]))
        np.testing.assert_array_equal(bits32(flat_params(m)),
                                      f32(ref["clf.params"]))
        self.assertGreater(accuracy, 0.7)

        # The checkpoint file, byte for byte, and training on after loading it.
        checkpoint = m.to_bytes(libnn.SaveWhat.CHECKPOINT)
        self.assertEqual(checkpoint.hex(), ref["clf.checkpoint"][0])
        resumed = libnn.Model.from_bytes(checkpoint)
        resumed.set_param(Param.EPOCHS, 1)
        resumed.fit(train)
        np.testing.assert_array_equal(bits32(flat_params(resumed)),
                                      f32(ref["clf.resumed"]))
        for obj in (resumed, m, val, train):
            obj.close()


class ModelFiles(unittest.TestCase):
    def test_save_then_load_predicts_the_same_bits(self):
        m = libnn.Model(2, seed=11).add_dense(5, Activation.TANH)
        m.add_dense(1, Activation.SIGMOID).set_loss(Loss.BCE)
        for _ in range(20):
            m.train_batch(XOR_X, XOR_T)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "xor.nn")
            m.save(path)
            self.assertEqual(os.path.getsize(path), m.save_size())
            with open(path, "rb") as f:
                self.assertEqual(f.read(), m.to_bytes())
            loaded = libnn.Model.load(path)
        self.assertEqual((loaded.input_width, loaded.output_width,
                          loaded.layer_count), (2, 1, 2))
        np.testing.assert_array_equal(bits32(loaded.predict(XOR_X)),
                                      bits32(m.predict(XOR_X)))
        self.assertEqual(loaded.get_param(Param.LEARNING_RATE),
                         m.get_param(Param.LEARNING_RATE))

    def test_a_corrupt_file_is_an_nn_error_with_the_library_message(self):
        good = libnn.Model(2).add_dense(1, Activation.IDENTITY).to_bytes()
        bad = bytearray(good)
        bad[-1] ^= 0xFF
        with self.assertRaises(NNError) as cm:
            libnn.Model.from_bytes(bytes(bad))
        self.assertEqual(cm.exception.status, Status.E_FORMAT)
        self.assertIn("nn_model_load_buffer", cm.exception.message)
        with self.assertRaises(NNError) as cm:
            libnn.Model.load("/nonexistent/dir/model.nn")
        self.assertEqual(cm.exception.status, Status.E_IO)
        self.assertIn("nn_model_load", cm.exception.message)


class ArraysAreCheckedNotCopied(unittest.TestCase):
    def setUp(self):
        self.m = libnn.Model(2, seed=1).add_dense(3, Activation.TANH)
        self.m.add_dense(1, Activation.SIGMOID).set_loss(Loss.BCE)

    def tearDown(self):
        self.m.close()

    def assert_nn_error(self, status, words, fn, *args):
        with self.assertRaises(NNError) as cm:
            fn(*args)
        self.assertEqual(cm.exception.status, status, cm.exception.message)
        for word in words:
            self.assertIn(word, cm.exception.message)
        return cm.exception

    def test_predict_writes_into_the_callers_array(self):
        y = np.full((4, 1), np.nan, dtype=np.float32)
        out = self.m.predict(XOR_X, out=y)
        self.assertIs(out, y)
        self.assertTrue(np.all(np.isfinite(y)))

    def test_a_float64_array_is_rejected_not_converted(self):
        self.assert_nn_error(Status.E_INVALID, ["nn_model_predict", "float64"],
                             self.m.predict, XOR_X.astype(np.float64))
        self.assert_nn_error(Status.E_INVALID, ["nn_model_train_batch",
                                                "float64"],
                             self.m.train_batch, XOR_X, XOR_T.astype(float))
        self.assert_nn_error(Status.E_INVALID, ["nn_model_predict", "list"],
                             self.m.predict, [[0.0, 1.0]])

    def test_a_wrong_width_is_the_librarys_shape_error(self):
        e = self.assert_nn_error(Status.E_SHAPE, ["nn_model_predict",
                                                  "x_width is 3"],
                                 self.m.predict, np.zeros((4, 3), np.float32))
        self.assertEqual(e.message, libnn.last_error())
        self.assert_nn_error(Status.E_SHAPE, ["nn_model_train_batch",
                                              "t_width"],
                             self.m.train_batch, XOR_X,
                             np.zeros((4, 2), np.float32))

    def test_dimensions_rows_and_layout_are_checked(self):
        self.assert_nn_error(Status.E_SHAPE, ["nn_model_predict", "1 dimension"],
                             self.m.predict, np.zeros(2, np.float32))
        self.assert_nn_error(Status.E_SHAPE, ["x has 4 rows", "t has 3"],
                             self.m.train_batch, XOR_X, XOR_T[:3])
        self.assert_nn_error(Status.E_INVALID, ["C-contiguous"],
                             self.m.predict,
                             np.zeros((2, 4), np.float32).T)
        ro = np.zeros((4, 1), np.float32)
        ro.flags.writeable = False
        self.assert_nn_error(Status.E_INVALID, ["read-only"],
                             self.m.predict, XOR_X, ro)

    def test_labels_must_be_int32_and_in_range(self):
        m = libnn.Model(2).add_dense(3, Activation.SOFTMAX)
        m.set_loss(Loss.CROSS_ENTROPY)
        self.assert_nn_error(Status.E_INVALID, ["int64"], m.train_batch,
                             XOR_X, np.array([0, 1, 2, 0], dtype=np.int64))
        self.assert_nn_error(Status.E_INVALID,
                             ["nn_model_train_batch_labels"], m.train_batch,
                             XOR_X, np.array([0, 1, 7, 0], dtype=np.int32))
        self.assertGreater(m.train_batch(XOR_X, np.array([0, 1, 2, 0],
                                                         dtype=np.int32)), 0)

    def test_settings_sizes_and_closed_models_are_errors(self):
        self.assert_nn_error(Status.E_INVALID, ["nn_model_set_param"],
                             self.m.set_param, Param.LEARNING_RATE, -1.0)
        self.assert_nn_error(Status.E_INVALID, ["nn_model_create"],
                             libnn.Model, -2)
        self.assert_nn_error(Status.E_INVALID, ["nn_model_add_dense"],
                             self.m.add_dense, 0, Activation.RELU)
        m = libnn.Model(1)
        m.close()
        self.assert_nn_error(Status.E_NULL, ["closed"], m.predict, XOR_X)

    def test_a_dataset_keeps_its_arrays_alive(self):
        x, t = XOR_X.copy(), XOR_T.copy()
        data = libnn.Data(x, t)
        del x, t
        gc.collect()
        loss, accuracy = self.m.evaluate(data)
        self.assertTrue(np.isfinite(loss) and 0 <= accuracy <= 1)
        data.close()

    def test_params_view_is_the_models_memory(self):
        view = self.m.params_view()
        self.assertEqual(view.size, 2 * 3 + 3 + 3 * 1 + 1)
        # params() reads copies layer by layer, in the buffer's layout
        self.assertTrue(np.count_nonzero(view) >= 6)
        np.testing.assert_array_equal(self.m.params(), view)
        view[:] = 0
        np.testing.assert_array_equal(self.m.predict(XOR_X),
                                      np.full((4, 1), 0.5, np.float32))
        self.assertEqual(self.m.params().tolist(), [0.0] * view.size)


class FitCallbacks(unittest.TestCase):
    def setUp(self):
        x, labels = lcg_data(64)
        self.train = libnn.Data(x, labels)
        self.m = classifier().set_param(Param.BATCH_SIZE, 16)

    def tearDown(self):
        self.m.close()
        self.train.close()

    def test_a_true_return_from_on_epoch_stops_training(self):
        epochs = []
        self.m.fit(self.train, on_epoch=lambda e, *rest: epochs.append(e) or
                   e == 2)
        self.assertEqual(epochs, [1, 2])
        self.assertEqual(self.m.step_count, 2 * 4)

    def test_an_exception_in_a_callback_stops_fit_and_is_raised(self):
        def on_batch(epoch, batch, batches, loss):
            if batch == 3:
                raise ValueError("stop here")

        with self.assertRaisesRegex(ValueError, "stop here"):
            self.m.fit(self.train, on_batch=on_batch)
        self.assertEqual(self.m.step_count, 3)


class TheBindingFollowsTheHeader(unittest.TestCase):
    ENUMS = {"nn_status": (Status, "NN_"), "nn_activation": (Activation, "NN_ACT_"),
             "nn_loss": (Loss, "NN_LOSS_"), "nn_param": (Param, "NN_PARAM_"),
             "nn_layer_param": (libnn.LayerParam, "NN_LAYER_"),
             "nn_optimizer": (libnn.Optimizer, "NN_OPT_"),
             "nn_schedule": (libnn.Schedule, "NN_SCHED_"),
             "nn_save_what": (libnn.SaveWhat, "NN_SAVE_")}

    def test_every_enum_value_of_nn_h_is_in_the_module(self):
        with open(env_path("NN_HEADER")) as f:
            header = f.read()
        blocks = re.findall(r"typedef enum (\w+) \{(.*?)\} \1;", header, re.S)
        self.assertIn("nn_status", [name for name, _ in blocks])
        for name, body in blocks:
            self.assertIn(name, self.ENUMS,
                          "nn.h has a new enum %s: bind it in python/libnn.py"
                          % name)
            cls, prefix = self.ENUMS[name]
            values = dict(re.findall(r"^\s*(NN_\w+)\s*=\s*(\d+)", body, re.M))
            self.assertTrue(values)
            got = {prefix + m.name: str(m.value) for m in cls}
            self.assertEqual(got, values, "python/libnn.py's %s differs from "
                             "nn.h's %s" % (cls.__name__, name))

    def test_every_exported_function_is_bound(self):
        with open(env_path("NN_SYMBOLS")) as f:
            symbols = [s.strip() for s in f if s.strip() and s[0] != "#"]
        missing = [s for s in symbols
                   if s not in libnn._PROTOTYPES and s not in libnn.UNBOUND]
        self.assertEqual(missing, [], "bind these in python/libnn.py")
        for name in libnn._PROTOTYPES:
            self.assertTrue(hasattr(libnn._f, name), name + " is not exported")

    def test_the_loaded_library_is_the_headers_version(self):
        with open(env_path("NN_HEADER")) as f:
            v = dict(re.findall(r"#define NN_VERSION_(MAJOR|MINOR|PATCH) (\d+)",
                                f.read()))
        self.assertEqual(libnn.version(), "%s.%s.%s" % (v["MAJOR"], v["MINOR"],
                                                        v["PATCH"]))
        self.assertEqual(libnn.version_number(), int(v["MAJOR"]) * 10000
                         + int(v["MINOR"]) * 100 + int(v["PATCH"]))
        self.assertEqual(int(v["MAJOR"]), libnn.ABI_MAJOR)
        self.assertEqual(libnn.status_string(Status.E_SHAPE),
                         libnn.status_string(3))
        self.assertEqual(libnn.param_bounds(Param.LEARNING_RATE), (0.0, 1e6, 0.01))
        self.assertEqual(libnn.layer_param_bounds(libnn.LayerParam.LEAKY_SLOPE),
                         (0.0, 1.0, 0.01))


if __name__ == "__main__":
    unittest.main()
