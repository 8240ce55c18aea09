# SPDX-License-Identifier: MIT
"""ONNX and C source through the Python package (docs/INTEROP.md): part of
the ffi_python ctest test.

What each check compares with is computed elsewhere: PyTorch's outputs for
its own graphs (tests/onnx/fixtures, written by make_fixtures.py), the
exported file as the onnx package (Debian's python3-onnx) reads it, the
exported C header compiled by the system's C compiler, and predict on the
model that was exported. Imports are expected to work, or to fail with
NN_E_STATE, as the build says (NN_HAVE_ONNX_READER), not as the library
answers.
"""

import os
import subprocess
import tempfile
import unittest
from pathlib import Path

import numpy as np

import libnn
from libnn import Activation, Loss, NNError, Param, Status

from common import (XOR_T, XOR_X, assert_rows_close, bits32, env_path,
                    flat_params, lcg_data, onnx_fixture, onnx_reader,
                    source_dir, v2_model)

READER = onnx_reader()
NEEDS_READER = unittest.skipUnless(
    READER, "this libnn was built without the ONNX reader (the import "
    "functions' NN_E_STATE is checked instead)")

#: tests/onnx's tolerances, relative to a row's largest output.
PYTORCH_REL = 1e-5   # an imported PyTorch graph against PyTorch
C_REL = 1e-6         # an exported C header against predict


def fixtures_dir():
    return os.path.join(source_dir(), "tests", "onnx", "fixtures")


def fixture_names(bad):
    names = sorted(f[:-5] for f in os.listdir(fixtures_dir())
                   if f.endswith(".onnx"))
    return [n for n in names if n.startswith("bad-") == bad]


def trained_v2():
    """reference.c's v2 model after 3 epochs: every layer kind, running
    statistics that are not the initial ones, metadata."""
    x, labels = lcg_data()
    m = v2_model()
    with libnn.Data(x[:192], labels[:192]) as train:
        m.fit(train)
    return m, x


def dense_stack():
    """Dense layers with the activations the v2 model lacks."""
    m = libnn.Model(4, seed=3).add_dense(7, "relu").add_dense(6, "tanh")
    m.add_dense(6, "leaky_relu").set_layer_param(2, "leaky_slope", 0.2)
    m.add_dense(5, "softplus").add_dense(5, "sigmoid")
    m.add_dense(3, "softmax").set_loss("cross_entropy")
    x, labels = lcg_data(64)
    m.set_param(Param.LEARNING_RATE, 0.1)
    for _ in range(5):
        m.train_batch(x, labels)
    return m, x


class ExportThenImport(unittest.TestCase):
    @NEEDS_READER
    def test_a_trained_model_comes_back_predicting_the_same_bits(self):
        m, x = trained_v2()
        back = libnn.Model.from_onnx(m.to_onnx())
        # Dropout is the identity in inference mode: the file leaves it out.
        kept = [layer for layer in m.layers
                if layer.kind != libnn.LayerKind.DROPOUT]
        self.assertEqual(back.layers, kept)
        self.assertEqual(len(kept), m.layer_count - 1)
        np.testing.assert_array_equal(bits32(flat_params(back)),
                                      bits32(flat_params(m)))
        for i in (0, 2):  # scaling, batch normalization's statistics
            np.testing.assert_array_equal(bits32(back.get_layer_buffers(i)),
                                          bits32(m.get_layer_buffers(i)))
        self.assertEqual(back.get_layer_param(5, "elu_alpha"), 0.5)
        self.assertEqual(back.meta, {"classes": "low,mid,high"})
        np.testing.assert_array_equal(bits32(back.predict(x)),
                                      bits32(m.predict(x)))
        for other in (dense_stack()[0],
                      libnn.Model(2, seed=4).add_dense(3, Activation.TANH)
                      .add_dense(1, Activation.SIGMOID)):
            with self.subTest(other=repr(other)):
                again = libnn.Model.from_onnx(other.to_onnx())
                xs = x[:, :other.input_width]
                np.testing.assert_array_equal(bits32(again.predict(xs)),
                                              bits32(other.predict(xs)))

    @NEEDS_READER
    def test_a_second_trip_writes_the_same_bytes(self):
        m, _ = trained_v2()
        once = m.to_onnx()
        twice = libnn.Model.from_onnx(once).to_onnx()
        thrice = libnn.Model.from_onnx(twice).to_onnx()
        self.assertEqual(thrice, twice)

    def test_the_file_is_the_bytes_at_any_kind_of_path(self):
        m, x = trained_v2()
        data = m.to_onnx()
        with tempfile.TemporaryDirectory() as d:
            for path in (os.path.join(d, "a.onnx"), Path(d) / "b.onnx",
                         os.fsencode(os.path.join(d, "c.onnx"))):
                with self.subTest(path=path):
                    self.assertIs(m.export_onnx(path), m)
                    with open(path, "rb") as f:
                        self.assertEqual(f.read(), data)
                    if READER:
                        got = libnn.Model.import_onnx(path).predict(x)
                        np.testing.assert_array_equal(bits32(got),
                                                      bits32(m.predict(x)))
            self.assertEqual(sorted(os.listdir(d)),
                             ["a.onnx", "b.onnx", "c.onnx"])

    def test_the_onnx_package_reads_the_graph_and_libnns_weights(self):
        import onnx
        from onnx import numpy_helper
        m, _ = trained_v2()
        model = onnx.load_model_from_string(m.to_onnx())
        onnx.checker.check_model(model, full_check=True)
        self.assertEqual(model.ir_version, 8)
        self.assertEqual([(o.domain, o.version) for o in model.opset_import],
                         [("", 17)])
        self.assertEqual({p.key: p.value for p in model.metadata_props},
                         m.meta)
        for value, width in ((model.graph.input, 4), (model.graph.output, 3)):
            self.assertEqual(len(value), 1)
            dims = value[0].type.tensor_type.shape.dim
            self.assertEqual((dims[0].dim_param, dims[1].dim_value),
                             ("batch", width))
        self.assertEqual((model.graph.input[0].name,
                          model.graph.output[0].name), ("input", "output"))
        # Weights bit for bit, as libnn's getters give them.
        init = {t.name: numpy_helper.to_array(t)
                for t in model.graph.initializer}
        self.assertEqual(init["l0.scale"].tolist(), [2, 2, 1, 0.5])
        for i in (1, 2, 4, 5, 7):
            np.testing.assert_array_equal(bits32(init["l%d.weight" % i]),
                                          bits32(m.get_weights(i)))
            np.testing.assert_array_equal(bits32(init["l%d.bias" % i]),
                                          bits32(m.get_bias(i)))
        self.assertEqual(init["l1.weight"].shape, (4, 8))
        np.testing.assert_array_equal(
            bits32(np.concatenate([init["l2.running_mean"],
                                   init["l2.running_var"]])),
            bits32(m.get_layer_buffers(2)))

    def test_a_closed_model_exports_nothing(self):
        m = libnn.Model(2).add_dense(1, "sigmoid")
        m.close()
        with tempfile.TemporaryDirectory() as d:
            for call in (m.to_onnx, lambda: m.export_onnx(Path(d) / "m.onnx"),
                         lambda: m.export_c(Path(d) / "m.h", "m")):
                with self.assertRaises(NNError) as cm:
                    call()
                self.assertEqual(cm.exception.status, Status.E_NULL)
                self.assertIn("closed", cm.exception.message)
            self.assertEqual(os.listdir(d), [])


@NEEDS_READER
class PyTorchGraphs(unittest.TestCase):
    def test_every_fixture_predicts_what_pytorch_computed(self):
        names = fixture_names(bad=False)
        self.assertGreaterEqual(len(names), 18)
        for name in names:
            with self.subTest(fixture=name):
                want = onnx_fixture(name)
                x = want["input"].astype(np.float32)
                path = os.path.join(fixtures_dir(), name + ".onnx")
                m = libnn.Model.import_onnx(path)
                self.assertEqual((m.input_width, m.output_width),
                                 (x.shape[1], want["output"].shape[1]))
                y = m.predict(x)
                assert_rows_close(y, want["output"], PYTORCH_REL, name)
                with open(path, "rb") as f:
                    same = libnn.Model.from_onnx(f.read())
                np.testing.assert_array_equal(bits32(same.predict(x)),
                                              bits32(y))

    def test_one_sgd_step_on_an_import_is_pytorchs_step(self):
        stepped = 0
        for name in fixture_names(bad=False):
            want = onnx_fixture(name)
            if "output_after_step" not in want:
                continue
            with self.subTest(fixture=name):
                m = libnn.Model.import_onnx(Path(fixtures_dir()) /
                                            (name + ".onnx"))
                self.assertIsNone(m.loss)
                x = want["input"].astype(np.float32)
                m.set_optimizer("sgd")
                m.set_param(Param.LEARNING_RATE, want["lr"][0, 0])
                if "labels" in want:
                    m.set_loss(Loss.CROSS_ENTROPY)
                    m.train_batch(x, want["labels"][:, 0].astype(np.int32))
                else:
                    m.set_loss(Loss.MSE)
                    m.train_batch(x, want["target"].astype(np.float32))
                assert_rows_close(m.predict(x), want["output_after_step"],
                                  PYTORCH_REL, name)
                stepped += 1
        self.assertEqual(stepped, 3)

    def test_graphs_libnn_cannot_hold_are_refused_naming_the_node(self):
        names = fixture_names(bad=True)
        self.assertGreaterEqual(len(names), 10)
        for name in names:
            with self.subTest(fixture=name):
                path = os.path.join(fixtures_dir(), name + ".onnx")
                with self.assertRaises(NNError) as cm:
                    libnn.Model.import_onnx(path)
                self.assertEqual(cm.exception.status, Status.E_FORMAT)
                self.assertTrue(cm.exception.message.startswith(
                    "nn_model_import_onnx: "), cm.exception.message)
                self.assertIn(onnx_fixture(name)["message"],
                              cm.exception.message)
                self.assertEqual(cm.exception.message, libnn.last_error())


class BadInput(unittest.TestCase):
    @NEEDS_READER
    def test_corrupt_onnx_bytes_are_a_format_error(self):
        data = xor().to_onnx()
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0xFF
        for bad in (b"", b"not an ONNX file", data[:len(data) // 2],
                    data[:-1], bytes(flipped)):
            with self.subTest(size=len(bad)):
                with self.assertRaises(NNError) as cm:
                    libnn.Model.from_onnx(bad)
                self.assertEqual(cm.exception.status, Status.E_FORMAT)
                self.assertTrue(cm.exception.message.startswith(
                    "nn_model_import_onnx_buffer: "), cm.exception.message)
        # A model file of libnn's own format is not ONNX either.
        with self.assertRaises(NNError) as cm:
            libnn.Model.from_onnx(xor().to_bytes())
        self.assertEqual(cm.exception.status, Status.E_FORMAT)

    @NEEDS_READER
    def test_a_file_that_cannot_be_read_is_an_io_error(self):
        with tempfile.TemporaryDirectory() as d:
            for path, says in ((os.path.join(d, "missing.onnx"),
                                "No such file"),
                               (d, "not a regular file")):
                with self.subTest(path=path):
                    with self.assertRaises(NNError) as cm:
                        libnn.Model.import_onnx(path)
                    self.assertEqual(cm.exception.status, Status.E_IO)
                    self.assertIn(path, cm.exception.message)
                    self.assertIn(says, cm.exception.message)

    def test_what_is_not_bytes_or_a_path_is_refused_before_the_call(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.onnx")
            xor().export_onnx(path)
            for not_bytes in (path, Path(path), 3):
                with self.assertRaises(TypeError) as cm:
                    libnn.Model.from_onnx(not_bytes)
                self.assertIn("nn_model_import_onnx_buffer",
                              str(cm.exception))
            for bad in (path + "\0x", os.fsencode(path) + b"\0x"):
                with self.assertRaisesRegex(ValueError, "NUL"):
                    libnn.Model.import_onnx(bad)
                with self.assertRaisesRegex(ValueError, "NUL"):
                    xor().export_onnx(bad)
            with self.assertRaises(TypeError):
                libnn.Model.import_onnx(3.5)
            self.assertEqual(os.listdir(d), ["m.onnx"])

    def test_an_export_that_cannot_be_written_leaves_nothing(self):
        m = xor()
        with tempfile.TemporaryDirectory() as d:
            missing = os.path.join(d, "no", "such", "dir")
            onnx_path = os.path.join(missing, "m.onnx")
            c_path = os.path.join(missing, "m.h")
            for call in (lambda: m.export_onnx(onnx_path),
                         lambda: m.export_c(c_path, "net")):
                with self.assertRaises(NNError) as cm:
                    call()
                self.assertEqual(cm.exception.status, Status.E_IO)
                self.assertIn(missing, cm.exception.message)
            for call in (lambda: m.export_onnx(d + "/"),
                         lambda: m.export_onnx(""),
                         lambda: m.export_c(d + "/", "net")):
                with self.assertRaises(NNError) as cm:
                    call()
                self.assertEqual(cm.exception.status, Status.E_INVALID)
            self.assertEqual(os.listdir(d), [])

    def test_a_prefix_that_is_not_a_c_identifier_is_refused(self):
        m = xor()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "net.h")
            for bad in ("", "1net", "my-net", "net.h", "a" * 64, "r\u00e9seau",
                        "_net"):
                with self.subTest(prefix=bad):
                    with self.assertRaises(NNError) as cm:
                        m.export_c(path, bad)
                    self.assertEqual(cm.exception.status, Status.E_INVALID)
                    self.assertIn("nn_model_export_c: prefix",
                                  cm.exception.message)
            with self.assertRaisesRegex(ValueError, "NUL"):
                m.export_c(path, "net\0x")
            with self.assertRaises(TypeError):
                m.export_c(path, 3)
            self.assertEqual(os.listdir(d), [])
            m.export_c(path, "a" * 63).export_c(path, b"net")
            self.assertEqual(os.listdir(d), ["net.h"])

    def test_a_model_without_layers_or_with_a_nan_weight_is_not_exported(self):
        empty = libnn.Model(3)
        nan = xor()
        nan.params_view()[0] = float("nan")
        with tempfile.TemporaryDirectory() as d:
            for m, status, says in ((empty, Status.E_STATE, "no layers"),
                                    (nan, Status.E_NONFINITE,
                                     "weight 0 of layer 0 is nan")):
                for call, fn in ((m.to_onnx, "nn_model_export_onnx_buffer"),
                                 (lambda: m.export_onnx(Path(d) / "m.onnx"),
                                  "nn_model_export_onnx"),
                                 (lambda: m.export_c(Path(d) / "m.h", "m"),
                                  "nn_model_export_c")):
                    with self.subTest(fn=fn, status=status):
                        with self.assertRaises(NNError) as cm:
                            call()
                        self.assertEqual(cm.exception.status, status)
                        self.assertTrue(
                            cm.exception.message.startswith(fn + ":"),
                            cm.exception.message)
                        self.assertIn(says, cm.exception.message)
            self.assertEqual(os.listdir(d), [])

    @unittest.skipIf(READER, "this libnn has the ONNX reader (the imports "
                     "are checked instead)")
    def test_without_the_reader_imports_say_so_and_exports_work(self):
        m = xor()
        data = m.to_onnx()
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "xor.onnx"
            m.export_onnx(path)
            for call, fn in ((lambda: libnn.Model.from_onnx(data),
                              "nn_model_import_onnx_buffer"),
                             (lambda: libnn.Model.import_onnx(path),
                              "nn_model_import_onnx")):
                with self.assertRaises(NNError) as cm:
                    call()
                self.assertEqual(cm.exception.status, Status.E_STATE)
                self.assertTrue(cm.exception.message.startswith(
                    fn + ": this libnn was built without the ONNX reader"),
                    cm.exception.message)
                self.assertIn("protobuf-c", cm.exception.message)


def xor():
    m = libnn.Model(2, seed=11).add_dense(3, "tanh").add_dense(1, "sigmoid")
    m.set_loss("bce").set_param("learning_rate", 0.5)
    for _ in range(20):
        m.train_batch(XOR_X, XOR_T)
    return m


DRIVER = r"""
/* Runs PREFIX_predict on the rows of floats on stdin and writes its outputs
 * to stdout, after the widths the header defines. */
#include <stdio.h>
#define MY_NET_IMPLEMENTATION
#include "my_net.h"

int main(void)
{
    float x[MY_NET_INPUTS], y[MY_NET_OUTPUTS];
    int widths[2] = {MY_NET_INPUTS, MY_NET_OUTPUTS};
    if (fwrite(widths, sizeof widths, 1, stdout) != 1)
        return 1;
    while (fread(x, sizeof x, 1, stdin) == 1) {
        my_net_predict(x, y);
        if (fwrite(y, sizeof y, 1, stdout) != 1)
            return 1;
    }
    return 0;
}
"""


class CSource(unittest.TestCase):
    def run_header(self, m, x):
        """The outputs of my_net_predict, compiled by the C compiler libnn
        was built with, at -std=c99 -Wall -Wextra -Wpedantic -Werror."""
        cc = env_path("NN_CC")
        with tempfile.TemporaryDirectory() as d:
            self.assertIs(m.export_c(Path(d) / "my_net.h", "my_net"), m)
            with open(os.path.join(d, "driver.c"), "w") as f:
                f.write(DRIVER)
            exe = os.path.join(d, "driver")
            r = subprocess.run([cc, "-std=c99", "-Wall", "-Wextra",
                                "-Wpedantic", "-Werror", "-o", exe,
                                os.path.join(d, "driver.c"), "-lm"],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            out = subprocess.run([exe], input=np.ascontiguousarray(
                x, np.float32).tobytes(), capture_output=True, check=True,
                timeout=60).stdout
        widths = np.frombuffer(out[:8], np.int32).tolist()
        self.assertEqual(widths, [m.input_width, m.output_width])
        return np.frombuffer(out[8:], np.float32).reshape(-1, widths[1])

    def test_the_header_computes_what_predict_computes(self):
        v2, x = trained_v2()
        # 64 rows the model did not train on, as tests/onnx runs 64 rows:
        # 1e-6 of a row's largest output is float rounding only where the
        # outputs are not much smaller than the terms they sum, and on some
        # training rows of this model predict itself is 2e-6 away from the
        # same network computed in double.
        for m, x in ((v2, x[192:]), dense_stack(), (xor(), XOR_X)):
            with self.subTest(model=repr(m)):
                y = self.run_header(m, x)
                self.assertEqual(y.shape, (x.shape[0], m.output_width))
                assert_rows_close(y, m.predict(x), C_REL, repr(m))


if __name__ == "__main__":
    unittest.main()
