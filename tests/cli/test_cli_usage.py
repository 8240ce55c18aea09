# SPDX-License-Identifier: MIT
"""The nn command's interface: help and version, bad usage (exit 2 with a
message and a pointer to --help), the man page documenting every option
each command's --help lists (and rendering without warnings), the
progress bar on a terminal and its absence elsewhere, --quiet, and the
--log file's JSON lines."""

import json
import os
import pty
import re
import shutil
import subprocess

from clitest import NN, WRAPPER, CliTest

SRC = os.environ.get("NN_SOURCE_DIR",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
MAN = os.path.join(SRC, "cli", "nn.1")
COMMANDS = ["train", "evaluate", "predict", "info", "export", "import"]
DATA = "a,b,y\n" + "".join("%d,%d,%d\n" % (i, i % 7, i % 2)
                           for i in range(200))


class Usage(CliTest):
    def test_help_and_version(self):
        r = self.nn("--help")
        for c in COMMANDS:
            self.assertIn(c, r.out)
        self.assertIn("Exit status: 0 success, 1 failure, 2 bad usage", r.out)
        r = self.nn("--version")
        self.assertRegex(r.out, r"^nn \d+\.\d+\.\d+ \(libnn \d+\.\d+\.\d+\)")
        for c in COMMANDS:
            r = self.nn(c, "--help")
            self.assertIn("usage: nn " + c, r.out)
        self.nn(code=2)

    def test_bad_usage_exits_2_with_a_pointer_to_help(self):
        self.write("d.csv", DATA)
        cases = [
            (["frobnicate"], "unknown command 'frobnicate'"),
            (["train", "d.csv", "--layers", "2:softmax", "--frob", "-o",
              "m.nn"], "unknown option '--frob'"),
            (["train", "d.csv", "--layers", "2:softmax"], "give -o MODEL"),
            (["train", "d.csv", "-o", "m.nn"], "--layers is required"),
            (["train", "d.csv", "--layers", "2:softmax", "-o", "m.nn",
              "--epochs"], "--epochs needs a value"),
            (["train", "d.csv", "--layers", "2:softmax", "-o", "m.nn",
              "--epochs", "ten"], "--epochs: 'ten' is not a whole number"),
            (["train", "d.csv", "--layers", "2:softmux", "-o", "m.nn"],
             "'2:softmux' names an unknown activation"),
            (["train", "d.csv", "--layers", "2:softmax,relu", "-o", "m.nn"],
             "--layers: layer 2"),
            (["train", "d.csv", "--layers", "2:softmax", "--loss", "hinge",
              "-o", "m.nn"], "--loss: unknown value 'hinge'; expected mse, "
             "bce, cross_entropy, l1 or huber"),
            (["train", "d.csv", "--layers", "2:softmax", "--optimizer",
              "lbfgs", "-o", "m.nn"], "expected sgd, adam, adamw or "
             "rmsprop"),
            (["train", "d.csv", "--layers", "2:softmax", "--set",
              "colour=3", "-o", "m.nn"], "--set: unknown setting 'colour'"),
            (["train", "d.csv", "--layers", "2:softmax", "--set",
              "momentum=7", "-o", "m.nn"], "--set momentum: "),
            (["train", "d.csv", "--layers", "2:softmax", "--rows", "5:500",
              "-o", "m.nn"], "--rows: '5:500' is outside the 200 data rows"),
            (["train", "d.csv", "--layers", "2:softmax", "--val-split", "1.5",
              "-o", "m.nn"], "--val-split: 1.5 is neither"),
            (["predict", "m.nn"], "give MODEL and DATA"),
            (["info"], "give MODEL"),
            (["info", "missing.nn"], "missing.nn: "),
            (["export"], "give MODEL"),
            (["export", "m.nn", "--onnx"], "--onnx needs a value"),
            (["export", "m.nn", "--frob"], "unknown option '--frob'"),
            (["import", "m.onnx"], "give -o MODEL"),
            (["import", "m.onnx", "m2.onnx", "-o", "m.nn"],
             "unexpected argument 'm2.onnx'"),
        ]
        for args, words in cases:
            with self.subTest(" ".join(args)):
                r = self.nn(*args, code=2)
                self.assertIn(words, r.err)
                self.assertEqual(self.files(), ["d.csv"])

    def test_the_man_page_documents_every_option(self):
        with open(MAN) as f:
            page = f.read()
        for c in COMMANDS:
            with self.subTest(c):
                self.assertIn(".SS nn " + c, page)
                opts = set(re.findall(r"--([a-z][a-z-]+)",
                                      self.nn(c, "--help").out))
                for o in opts:
                    roff = "\\-\\-" + o.replace("-", "\\-")
                    self.assertTrue(roff in page, "--%s of nn %s" % (o, c))
        groff = shutil.which("groff")
        self.assertIsNotNone(groff, "groff (Debian's groff-base) is needed")
        p = subprocess.run([groff, "-man", "-ww", "-z", MAN],
                           capture_output=True)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stderr.decode(), "")

    def test_progress_shows_on_a_terminal_and_only_summaries_elsewhere(self):
        self.write("d.csv", DATA)
        args = ["train", "d.csv", "--layers", "8:relu,2:softmax",
                "--epochs", "3", "--val-split", "0.2"]
        r = self.nn(*args, "-o", "a.nn")
        epochs = [l for l in r.out.splitlines() if l.startswith("epoch")]
        self.assertEqual(len(epochs), 3)
        self.assertRegex(epochs[0], r"^epoch 1/3  loss \d+\.\d{4}  val_loss "
                         r"\d+\.\d{4}  val_acc +\d+\.\d\d%  lr 0.001 ")
        self.assertNotIn("\r", r.out)
        self.assertNotIn("samples/s", r.out)
        r = self.nn(*args, "--quiet", "-o", "b.nn")
        self.assertEqual(r.out, "")

        # on a terminal: the bar, redrawn in place, then the summary
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(self.dir)
            argv = WRAPPER + [NN] + args + ["-o", "c.nn"]
            os.execvp(argv[0], argv)
        out = b""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        text = out.decode()
        self.assertRegex(text, r"\repoch 1/3 \[#+-*\] +\d+/\d+ +[\d.]+[kM]? "
                         r"samples/s +\d+:\d\d elapsed +\d+:\d\d left +loss")
        self.assertIn("epoch 3/3  loss", text)

    def test_a_validation_file_is_read_like_the_data(self):
        self.write("d.csv", DATA)
        # the validation file's columns in another order: found by name
        self.write("v.csv", "y,b,a\n1,3,5\n0,2,4\n")
        r = self.nn("train", "d.csv", "--layers", "8:relu,2:softmax",
                    "--epochs", "2", "--val", "v.csv", "-o", "m.nn")
        self.assertIn("200 rows of 2 inputs, 2 validation rows", r.out)
        self.assertIn("val_acc", r.out)
        # a class the training data lacks is refused in the validation
        self.write("w.csv", "a,b,y\n1,2,5\n")
        r = self.nn("train", "d.csv", "--layers", "8:relu,2:softmax",
                    "--val", "w.csv", "-o", "n.nn", code=2)
        self.assertIn("w.csv: line 2, column 2 (\"y\"): class \"5\" was "
                      "not seen in training", r.err)

    def test_log_has_one_json_object_per_epoch(self):
        self.write("d.csv", DATA)
        self.nn("train", "d.csv", "--layers", "8:relu,2:softmax",
                "--epochs", "4", "--val-split", "40", "--schedule", "cosine",
                "--lr", "0.01", "--log", "log.jsonl", "-o", "m.nn")
        lines = self.read("log.jsonl").splitlines()
        self.assertEqual(len(lines), 4)
        rows = [json.loads(l) for l in lines]
        self.assertEqual([r["epoch"] for r in rows], [1, 2, 3, 4])
        for r in rows:
            for k in ("loss", "val_loss", "val_accuracy", "lr", "seconds"):
                self.assertIsInstance(r[k], (int, float))
        # cosine over 4 epochs of 160 / 32 = 5 steps, from 0.01 to 0
        import math
        for r in rows:
            t = 5 * r["epoch"]
            self.assertAlmostEqual(r["lr"], 0.01 * (1 + math.cos(
                math.pi * t / 20)) / 2, places=9)
        self.assertLess(rows[-1]["lr"], 1e-12)


if __name__ == "__main__":
    import unittest
    unittest.main()
