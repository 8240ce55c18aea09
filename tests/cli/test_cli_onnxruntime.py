# SPDX-License-Identifier: MIT
"""nn export --onnx run in ONNX Runtime (onnxruntime-node, CPU, through
ort_predict.js): a classifier trained by nn train --scale standard on
scikit-learn's iris file, given the raw rows, computes the probabilities
nn predict --proba prints, within 1e-5 relative per row (the tolerance of
tests/onnx). The scaling is in the file: its first nodes are Mul and Add
by the training rows' 1 / standard deviation and -mean / standard
deviation, computed here with numpy, and on rows standardised here ONNX
Runtime computes something else.

Needs Node.js (NN_NODE) and onnxruntime-node installed by
npm ci --prefix tests/onnx/ort --no-audit --no-fund --ignore-scripts
(NN_ORT_DIR), as tests/onnx's onnx_runtime does; either missing fails the
test. ctest labels it onnx, not cli, with onnx_runtime: .ci/test-all
runs the cli label before it installs ONNX Runtime."""

import os
import shutil
import subprocess

import numpy as np
import onnx
from onnx import numpy_helper

from clitest import IRIS, CliTest
from test_cli_export import IRIS_OPTS, IRIS_TRAIN, iris_rows, \
    worst_relative

SRC = os.environ.get("NN_SOURCE_DIR",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
NODE = os.environ.get("NN_NODE", "node")
ORT_DIR = os.environ.get("NN_ORT_DIR",
                         os.path.join(SRC, "tests", "onnx", "ort"))
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "ort_predict.js")


class OnnxRuntime(CliTest):
    def ort(self, model, x):
        self.assertIsNotNone(shutil.which(NODE), "Node.js (%s) is needed"
                             % NODE)
        self.assertTrue(os.path.isdir(os.path.join(
            ORT_DIR, "node_modules", "onnxruntime-node")),
            "onnxruntime-node is not installed: run npm ci --prefix %s "
            "--no-audit --no-fund --ignore-scripts" % ORT_DIR)
        x.astype("<f4").tofile(self.path("x.f32"))
        p = subprocess.run([NODE, SCRIPT, ORT_DIR, model, str(x.shape[0]),
                            str(x.shape[1]), "x.f32", "y.f32"],
                           cwd=self.dir, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        return np.fromfile(self.path("y.f32"), dtype="<f4")

    def test_onnx_runtime_computes_from_raw_rows_what_nn_predict_does(self):
        self.nn(*IRIS_TRAIN, "-o", "m.nn")
        self.nn("export", "m.nn", "--onnx", "m.onnx")
        self.assertEqual(sorted(self.files()), ["m.nn", "m.onnx"])

        # the scaling: the first nodes, with the training rows' statistics
        g = onnx.load(self.path("m.onnx")).graph
        self.assertEqual([n.op_type for n in g.node[:3]],
                         ["Mul", "Add", "Gemm"])
        init = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        x = iris_rows()
        x64 = x.astype(np.float64)
        mean, sd = x64.mean(axis=0), x64.std(axis=0)
        scale, shift = init[g.node[0].input[1]], init[g.node[1].input[1]]
        self.assertTrue(np.allclose(scale, 1 / sd, rtol=1e-5), scale)
        self.assertTrue(np.allclose(shift, -mean / sd, rtol=1e-5,
                                    atol=1e-6), shift)

        self.nn("predict", "m.nn", IRIS, *IRIS_OPTS, "--proba", "-o",
                "p.npy")
        want = np.load(self.path("p.npy"))
        got = self.ort("m.onnx", x).reshape(want.shape)
        worst = worst_relative(got, want)
        self.assertLessEqual(worst, 1e-5, "worst relative difference %g"
                             % worst)
        # on rows the caller scaled, the file scales again
        z = ((x64 - mean) / sd).astype(np.float32)
        self.assertGreater(worst_relative(
            self.ort("m.onnx", z).reshape(want.shape), want), 0.05)


if __name__ == "__main__":
    import unittest
    unittest.main()
