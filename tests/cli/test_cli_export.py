# SPDX-License-Identifier: MIT
"""nn export and nn import, end to end.

- The C header of nn export --c, compiled by the C compiler (NN_CC, the
  build's) at -std=c99 -Wall -Wextra -Wpedantic -Werror into a small
  program, computes from raw rows what nn predict computes, within 1e-6
  relative: the scaling nn train keeps is inside it.
- PyTorch's graphs (tests/onnx/fixtures, made by make_fixtures.py with
  torch.onnx.export; the expected outputs are PyTorch's, stored beside
  them) go through nn import and nn predict to PyTorch's outputs within
  1e-5 relative, and through nn evaluate to the loss and accuracy
  computed here from PyTorch's outputs.
- A model of nn train goes out through nn export --onnx and back in
  through nn import with its columns, classes, scaling and loss: the
  same predictions, bit for bit.
- Bad input (a missing or damaged model, a damaged ONNX file, an operator
  libnn has no layer for, a bad prefix, an existing output without
  --force, a directory that cannot take the output, a write that fails
  midway) gives its exit status and message and leaves no file behind.

ONNX Runtime's check of nn export --onnx is test_cli_onnxruntime.py.
Relative differences are per row, as tests/onnx measures them: the
largest difference of an output over the row's largest output."""

import os
import resource
import shlex
import shutil
import signal
import subprocess
import tempfile

import numpy as np

from clitest import IRIS, NN, WRAPPER, CliTest

SRC = os.environ.get("NN_SOURCE_DIR",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(SRC, "tests", "onnx", "fixtures")
CC = shlex.split(os.environ.get("NN_CC", "cc"))
# 0 when libnn was built without the ONNX reader (protobuf-c)
READER = os.environ.get("NN_ONNX_READER", "1") != "0"
NO_READER = "this libnn was built without the ONNX reader"

IRIS_OPTS = ["--skip", "1", "--no-header"]
# a softmax classifier on iris, its inputs standardised by the model
IRIS_TRAIN = ["train", IRIS, *IRIS_OPTS, "--scale", "standard",
              "--layers", "8:tanh,3:softmax", "--epochs", "40",
              "--batch-size", "16", "--lr", "0.01", "--quiet"]

# PyTorch's graphs and the loss nn import gives them as nn train would:
# cross_entropy after softmax (a classifier), bce after sigmoid (three
# outputs: not a classifier of one), mse after identity
PYTORCH = [("relu-softmax", "cross_entropy"), ("tanh-sigmoid", "mse"),
           ("tanh-sigmoid-matmul-add", "mse"), ("activations", "mse"),
           ("batchnorm", "mse"), ("layernorm", "mse"),
           ("layernorm-opset14", "mse"), ("flatten-image", "mse"),
           ("no-bias", "bce")]


def sections(name):
    """A fixture's .txt: {section: array of rows}."""
    out = {}
    with open(os.path.join(FIXTURES, name + ".txt")) as f:
        words = f.read().split()
    i = 0
    while i < len(words):
        key, rows, cols = words[i], int(words[i + 1]), int(words[i + 2])
        out[key] = np.array(words[i + 3:i + 3 + rows * cols],
                            dtype=np.float64).reshape(rows, cols)
        i += 3 + rows * cols
    return out


def iris_rows():
    """The iris inputs, raw, as float32 (as nn reads the CSV)."""
    return np.loadtxt(IRIS, delimiter=",", skiprows=1)[:, :4].astype(
        np.float32)


def worst_relative(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    err = np.abs(got - want).max(axis=1)
    scale = np.abs(want).max(axis=1)
    return float(np.max(np.where(err == 0, 0, err / np.maximum(scale,
                                                               1e-300))))


def csv_rows(a):
    return "".join(",".join("%.9g" % v for v in row) + "\n" for row in a)


class Export(CliTest):
    def assert_close(self, got, want, rel, what):
        worst = worst_relative(got, want)
        self.assertLessEqual(worst, rel, "%s: worst relative difference %g"
                             % (what, worst))
        return worst

    def assert_left_nothing(self, *keep):
        self.assertEqual(self.files(), sorted(keep))

    def need_reader(self):
        """Without the ONNX reader nn import must say so (exit 1); the
        numbers cannot be checked then, and the case says it skipped."""
        if READER:
            return
        r = self.nn("import", os.path.join(FIXTURES, "relu-softmax.onnx"),
                    "-o", "m.nn", code=1)
        self.assertIn(NO_READER, r.err)
        self.assertEqual(self.files(), [])
        self.skipTest("libnn was built without the ONNX reader: checked "
                      "only that nn import says so")

    @classmethod
    def setUpClass(cls):
        # one iris model for the cases that only read it (training is the
        # slow part under valgrind)
        cls.iris_dir = tempfile.mkdtemp(prefix="nn-cli-export-")
        subprocess.run(WRAPPER + [NN] + IRIS_TRAIN + ["-o", "m.nn"],
                       cwd=cls.iris_dir, check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.iris_dir, ignore_errors=True)

    def train_iris(self, model="m.nn"):
        shutil.copy(os.path.join(self.iris_dir, "m.nn"), self.path(model))
        return model

    def predict(self, model, data, *opts):
        self.nn("predict", model, data, *opts, "-o", "p.npy", "--force")
        return np.load(self.path("p.npy"))

    # ---- nn export --c ----

    def compile_driver(self, headers):
        """A program running each header's predict on the rows of a float32
        file, writing float32 outputs: headers is [(file, prefix)], each
        included in main.c for its declarations and compiled in impl.c."""
        main = ["#include <stdio.h>"]
        impl = []
        for h, p in headers:
            main.append('#include "%s"' % h)
            impl.append("#define %s_IMPLEMENTATION\n#include \"%s\"" %
                        (p.upper(), h))
        main.append("""
int main(int argc, char **argv)
{
    FILE *in, *out;
    int which;
    if (argc != 4 || sscanf(argv[1], "%d", &which) != 1)
        return 2;
    in = fopen(argv[2], "rb");
    out = fopen(argv[3], "wb");
    if (!in || !out)
        return 2;
    switch (which) {""")
        for k, (h, p) in enumerate(headers):
            main.append("""    case %d: {
        float x[%s_INPUTS], y[%s_OUTPUTS];
        while (fread(x, sizeof x, 1, in) == 1) {
            %s_predict(x, y);
            if (fwrite(y, sizeof y, 1, out) != 1)
                return 1;
        }
        break;
    }""" % (k, p.upper(), p.upper(), p))
        main.append("""    default:
        return 2;
    }
    return fclose(out) == 0 && fclose(in) == 0 ? 0 : 1;
}""")
        self.write("main.c", "\n".join(main) + "\n")
        self.write("impl.c", "\n".join(impl) + "\n")
        self.assertIsNotNone(shutil.which(CC[0]), "a C compiler (NN_CC, "
                             "default cc) is needed")
        p = subprocess.run(CC + ["-std=c99", "-Wall", "-Wextra", "-Wpedantic",
                                 "-Werror", "-o", "driver", "main.c",
                                 "impl.c", "-lm"], cwd=self.dir,
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, "%s does not compile the header "
                         "cleanly:\n%s" % (" ".join(CC), p.stderr))

    def run_driver(self, which, x, width):
        x.astype("<f4").tofile(self.path("x.f32"))
        subprocess.run([self.path("driver"), str(which), "x.f32", "y.f32"],
                       cwd=self.dir, check=True)
        return np.fromfile(self.path("y.f32"), dtype="<f4").reshape(-1,
                                                                     width)

    def test_the_c_header_computes_from_raw_rows_what_nn_predict_does(self):
        self.train_iris()
        # the prefix comes from the file's name, or from --prefix
        self.nn("export", "m.nn", "--c", "iris-net.h")
        self.nn("export", "m.nn", "--c", "other.h", "--prefix", "Iris2")
        header = self.read("iris-net.h")
        self.assertIn("void iris_net_predict(const float *x, float *y);",
                      header)
        self.assertIn("#define IRIS_NET_INPUTS 4", header)
        self.assertIn("void Iris2_predict(", self.read("other.h"))
        self.assert_left_nothing("iris-net.h", "m.nn", "other.h")
        self.compile_driver([("iris-net.h", "iris_net"),
                             ("other.h", "Iris2")])

        x = iris_rows()
        want = self.predict("m.nn", IRIS, *IRIS_OPTS, "--proba")
        self.assertEqual(want.shape, (150, 3))
        for which in (0, 1):
            got = self.run_driver(which, x, 3)
            self.assert_close(got, want, 1e-6, "C header %d" % which)
        # the header does not expect scaled rows: on rows standardised
        # here it computes something else
        z = (x - x.mean(axis=0)) / x.std(axis=0)
        self.assertGreater(worst_relative(self.run_driver(0, z, 3), want),
                           0.05)

    def test_an_imported_pytorch_model_exports_as_c_that_computes_it(self):
        self.need_reader()
        s = sections("batchnorm")
        self.nn("import", os.path.join(FIXTURES, "batchnorm.onnx"), "-o",
                "b.nn")
        self.nn("export", "b.nn", "--c", "bn.h")
        self.compile_driver([("bn.h", "bn")])
        got = self.run_driver(0, s["input"].astype(np.float32), 3)
        self.assert_close(got, s["output"], 1e-5, "batchnorm as C")

    # ---- nn import ----

    def test_pytorch_models_import_and_predict_what_pytorch_computed(self):
        self.need_reader()
        for name, loss in PYTORCH:
            classifier = loss == "cross_entropy"
            with self.subTest(name):
                s = sections(name)
                self.write("x.csv", csv_rows(s["input"]))
                self.nn("import", os.path.join(FIXTURES, name + ".onnx"),
                        "-o", name + ".nn")
                info = self.nn("info", name + ".nn", "--json").json()
                self.assertEqual(info["inputs"], s["input"].shape[1])
                self.assertEqual(info["outputs"], s["output"].shape[1])
                self.assertEqual(info["loss"], loss)
                self.assertEqual(info["metadata"]["nn.import.file"],
                                 name + ".onnx")
                # plain numbers without a header: the inputs by position
                got = self.predict(name + ".nn", "x.csv", "--no-header",
                                   *(["--proba"] if classifier else []))
                self.assert_close(got, s["output"], 1e-5, name)
                if classifier:
                    p = self.nn("predict", name + ".nn", "x.csv",
                                "--no-header").out.split()
                    self.assertEqual(p, [str(i) for i in
                                         s["output"].argmax(axis=1)])

    def test_nn_evaluate_scores_an_imported_model_as_pytorch_computed(self):
        self.need_reader()
        # a classifier: cross-entropy against the labels, and accuracy
        s = sections("relu-softmax")
        labels = s["labels"][:, 0].astype(int)
        self.write("d.csv", "".join(
            csv_rows(s["input"][i:i + 1]).strip() + ",%d\n" % labels[i]
            for i in range(len(labels))))
        self.nn("import", os.path.join(FIXTURES, "relu-softmax.onnx"), "-o",
                "c.nn")
        r = self.nn("evaluate", "c.nn", "d.csv", "--no-header",
                    "--json").json()
        p = s["output"]
        self.assertEqual(r["rows"], 16)
        self.assertAlmostEqual(r["loss"], -np.mean(np.log(
            p[np.arange(16), labels])), delta=1e-5 * r["loss"])
        self.assertAlmostEqual(r["accuracy"],
                               np.mean(p.argmax(axis=1) == labels))
        # a regression of two outputs: the mean squared error
        s = sections("tanh-sigmoid")
        self.write("r.csv", csv_rows(np.hstack([s["input"], s["target"]])))
        self.nn("import", os.path.join(FIXTURES, "tanh-sigmoid.onnx"), "-o",
                "r.nn")
        r = self.nn("evaluate", "r.nn", "r.csv", "--no-header", "--target",
                    "5,6", "--json").json()
        mse = np.mean((s["output"] - s["target"]) ** 2)
        self.assertAlmostEqual(r["loss"], mse, delta=1e-5 * mse)
        # its outputs taken as logits: --loss makes it a classifier, whose
        # probabilities are their softmax
        self.nn("import", os.path.join(FIXTURES, "tanh-sigmoid.onnx"),
                "--loss", "cross_entropy", "-o", "l.nn")
        self.write("x.csv", csv_rows(s["input"]))
        z = s["output"]
        soft = np.exp(z - z.max(axis=1, keepdims=True))
        soft /= soft.sum(axis=1, keepdims=True)
        got = self.predict("l.nn", "x.csv", "--no-header", "--proba")
        self.assert_close(got, soft, 1e-5, "softmax of the logits")

    def test_an_exported_model_imports_back_to_the_same_predictions(self):
        self.need_reader()
        # named columns and classes, and a loss nn import cannot guess from
        # the identity output: all kept in the ONNX file's metadata
        x = np.loadtxt(IRIS, delimiter=",", skiprows=1)
        names = ["setosa", "versicolor", "virginica"]
        cols = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
        self.write("iris.csv", ",".join(cols + ["species"]) + "\n" + "".join(
            "%g,%g,%g,%g,%s\n" % (*r[:4], names[int(r[4])]) for r in x))
        self.nn("train", "iris.csv", "--layers", "8:relu,3", "--loss",
                "cross_entropy", "--scale", "minmax", "--epochs", "30",
                "--batch-size", "16", "--lr", "0.01", "--quiet", "-o",
                "m.nn")
        self.nn("export", "m.nn", "--onnx", "m.onnx")
        self.nn("import", "m.onnx", "-o", "back.nn")

        for opts in ([], ["--proba"]):
            a = self.nn("predict", "m.nn", "iris.csv", *opts).out
            b = self.nn("predict", "back.nn", "iris.csv", *opts).out
            self.assertEqual(a, b)
        classes = self.nn("predict", "back.nn", "iris.csv").out.split()
        self.assertEqual(len(classes), 150)
        self.assertTrue(set(classes) <= set(names))
        a = self.predict("m.nn", "iris.csv", "--proba")
        b = self.predict("back.nn", "iris.csv", "--proba")
        self.assertEqual(a.tobytes(), b.tobytes())
        # the columns by name, in another order
        self.write("shuffled.csv", "species,petal_width,sepal_length,"
                   "petal_length,sepal_width\n" + "".join(
                       "%s,%g,%g,%g,%g\n" % (names[int(r[4])], r[3], r[0],
                                             r[2], r[1]) for r in x))
        c = self.predict("back.nn", "shuffled.csv", "--proba")
        self.assertEqual(a.tobytes(), c.tobytes())
        self.assertEqual(
            self.nn("evaluate", "m.nn", "iris.csv").out,
            self.nn("evaluate", "back.nn", "iris.csv").out)

        info = self.nn("info", "back.nn").out
        self.assertIn("loss          cross_entropy", info)
        self.assertIn("classes       names: setosa, versicolor, virginica",
                      info)
        self.assertIn("scaling       minmax", info)
        self.assertIn("imported from m.onnx (nn import)", info)
        layers = self.nn("info", "back.nn", "--json").json()["layers"]
        self.assertEqual([(l["kind"], l["width"]) for l in layers],
                         [("scaling", 4), ("dense", 8), ("dense", 3)])

    # ---- bad input ----

    def test_bad_input_gives_its_status_and_message_and_leaves_nothing(self):
        self.train_iris()
        self.write("bad.nn", "not a model\n")
        self.write("bad.onnx", "not an ONNX file\n")
        self.write("plain", "a file, not a directory\n")
        self.write("taken.onnx", "precious")
        self.write("taken.h", "precious")
        self.write("taken.nn", "precious")
        conv = os.path.join(FIXTURES, "bad-conv.onnx")
        good = os.path.join(FIXTURES, "relu-softmax.onnx")
        cases = [
            (["export", "missing.nn", "--onnx", "o.onnx"], 2,
             ["nn export: missing.nn: ", "No such file"]),
            (["export", "bad.nn", "--c", "o.h"], 2,
             ["nn export: bad.nn: ", "not a libnn model file"]),
            (["export", "m.nn", "--c", "o.h", "--prefix", "2fast"], 2,
             ["--prefix: '2fast' is not a C name of 1 to 63 letters"]),
            (["export", "m.nn", "--c", "o.h", "--prefix", "a-b"], 2,
             ["--prefix: 'a-b' is not a C name"]),
            (["export", "m.nn", "--c", "o.h", "--prefix", "a" * 64], 2,
             ["is not a C name of 1 to 63"]),
            (["export", "m.nn", "--onnx", "o.onnx", "--prefix", "p"], 2,
             ["--prefix: only with --c"]),
            (["export", "m.nn", "--onnx", "o.onnx", "--c", "o.h"], 2,
             ["--onnx and --c: give one"]),
            (["export", "m.nn"], 2, ["give --onnx OUT or --c OUT"]),
            (["export", "m.nn", "--onnx", "-"], 2,
             ["does not write to standard output"]),
            (["export", "m.nn", "--onnx", "taken.onnx"], 2,
             ["--onnx: taken.onnx exists; pass --force to replace it"]),
            (["export", "m.nn", "--c", "taken.h"], 2,
             ["--c: taken.h exists; pass --force to replace it"]),
            (["export", "m.nn", "--onnx", "plain/o.onnx"], 2,
             ["--onnx: cannot create plain/o.onnx: plain is not a "
              "directory"]),
            (["export", "m.nn", "--c", "no/such/dir/o.h"], 2,
             ["--c: cannot create no/such/dir/o.h: no/such/dir: No such "
              "file"]),
            (["import", "missing.onnx", "-o", "o.nn"], 2,
             ["nn import: missing.onnx: ", "No such file"]),
            (["import", "bad.onnx", "-o", "o.nn"], 2,
             ["nn import: bad.onnx: nn_model_import_onnx: ",
              "not an ONNX model"]),
            (["import", conv, "-o", "o.nn"], 2,
             ["bad-conv.onnx: nn_model_import_onnx: node 0 '/0/Conv' "
              "(Conv): libnn does not import this operator; libnn imports "
              "Gemm"]),
            (["import", good, "-o", "taken.nn"], 2,
             ["-o: taken.nn exists; pass --force to replace it"]),
            (["import", good, "-o", "plain/o.nn"], 2,
             ["-o: cannot create plain/o.nn: plain is not a directory"]),
            (["import", good, "--loss", "bce", "-o", "o.nn"], 2,
             ["--loss bce: ", "relu-softmax.onnx's outputs leave through "
              "softmax; bce needs sigmoid, or identity (logits)"]),
            (["import", good, "--loss", "hinge", "-o", "o.nn"], 2,
             ["--loss: unknown value 'hinge'"]),
            (["import", good], 2, ["give -o MODEL"]),
            (["import", "-o", "o.nn"], 2, ["give ONNX"]),
        ]
        # the cases that reach libnn's importer: without the ONNX reader
        # it says so instead (exit 1)
        reach = {"missing.onnx", "bad.onnx", conv, "bce"}
        before = self.files()
        for args, code, words in cases:
            with self.subTest(" ".join(args)):
                r = self.nn(*args, code=None)
                if not READER and args[0] == "import" and reach & set(args):
                    code, words = 1, [NO_READER]
                self.assertEqual(r.code, code, r.err)
                for w in words:
                    self.assertIn(w, r.err)
                self.assertEqual(self.files(), before)
                for f in ("taken.onnx", "taken.h", "taken.nn"):
                    self.assertEqual(self.read(f), "precious")

        # --force replaces
        self.nn("export", "m.nn", "--onnx", "taken.onnx", "--force")
        self.nn("export", "m.nn", "--c", "taken.h", "--force")
        self.assertIn("void taken_predict(", self.read("taken.h"))
        self.assertNotEqual(self.read("taken.onnx", binary=True),
                            b"precious")
        if READER:
            self.nn("import", good, "-o", "taken.nn", "--force")
            self.nn("info", "taken.nn")
        self.assertEqual(self.files(), before)

    def test_a_write_that_fails_midway_leaves_nothing(self):
        """Files are limited to 512 bytes (RLIMIT_FSIZE, with SIGXFSZ
        ignored so that the write fails with EFBIG): the outputs are
        larger, and fail after the checks at the start have passed, in the
        command's writer (ONNX, model) and in libnn's (C)."""
        self.train_iris()

        def limited():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))

        cases = [["export", "m.nn", "--onnx", "o.onnx"],
                 ["export", "m.nn", "--c", "o.h"]]
        if READER:
            cases.append(["import", os.path.join(FIXTURES, "batchnorm.onnx"),
                          "-o", "o.nn"])
        for args in cases:
            with self.subTest(" ".join(args)):
                p = subprocess.run(WRAPPER + [NN] + args, cwd=self.dir,
                                   capture_output=True, text=True,
                                   preexec_fn=limited, restore_signals=False)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn("File too large", p.stderr)
                self.assertEqual(self.files(), ["m.nn"])


if __name__ == "__main__":
    import unittest
    unittest.main()
