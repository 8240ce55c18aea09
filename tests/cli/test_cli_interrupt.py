# SPDX-License-Identifier: MIT
"""SIGINT and SIGTERM during nn train: the command finishes the step in
progress, saves a checkpoint beside the output, says how to resume and
exits with status 130, leaving no model file; the checkpoint loads (nn
info reads it); and the resumed run ends with a model file identical,
byte for byte, to the one an uninterrupted run writes, also after a
second interruption."""

import os
import signal
import subprocess
import time

import numpy as np

from clitest import NN, WRAPPER, CliTest

EPOCHS = 8
ARGS = ["--layers", "128:relu,dropout:0.1,128:relu,1", "--epochs",
        str(EPOCHS), "--batch-size", "16", "--optimizer", "sgd",
        "--momentum", "0.9", "--schedule", "cosine", "--val-split", "0.1",
        "--patience", "50", "--seed", "7", "--threads", "1"]


class Interrupt(CliTest):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(3)
        x = rng.standard_normal((6000, 12))
        y = x[:, 0] * x[:, 1] + np.sin(x[:, 2])
        lines = ["x%d" % i for i in range(12)]
        lines = [",".join(lines) + ",y"] + [
            ",".join("%.6g" % v for v in r) + ",%.6g" % t
            for r, t in zip(x, y)]
        self.write("d.csv", "\n".join(lines) + "\n")

    def interrupt(self, sig, args, after_epoch=None):
        """Starts nn train, sends sig once the summary line of after_epoch
        (of the first epoch it reports, if None) is out and a little more
        time has passed (so the signal lands in the middle of the next
        epoch, which takes about 25 ms here), and returns the finished
        process's exit code, output and error text."""
        p = subprocess.Popen(WRAPPER + [NN, "train", "d.csv"] + args,
                             cwd=self.dir, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        out = []
        for line in p.stdout:
            line = line.decode()
            out.append(line)
            if line.startswith("epoch ") and (
                    after_epoch is None or
                    line.startswith("epoch %d/" % after_epoch)):
                time.sleep(0.01)
                p.send_signal(sig)
                break
        rest, err = p.communicate(timeout=600)
        return (p.returncode, "".join(out) + rest.decode(),
                err.decode("utf-8", "replace"))

    def test_interrupted_and_resumed_run_equals_an_unbroken_one(self):
        self.nn("train", "d.csv", *ARGS, "-o", "whole.nn")
        whole = self.read("whole.nn", binary=True)

        # The signal is meant to land in the middle of an epoch. Where the
        # machine is busy, this process may read epoch 2's line only when
        # the next epoch's steps are done, and the run then stops at the
        # epoch's end: such an attempt is made again, up to five times.
        per_epoch = -(-5400 // 16)
        for attempt in range(5):
            code, out, err = self.interrupt(signal.SIGINT,
                                            ARGS + ["-o", "m.nn"], 2)
            self.assertEqual(code, 130, err)
            self.assertIn("interrupted; the run is saved in "
                          "m.nn.checkpoint", err)
            self.assertIn("resume it with: nn train d.csv --resume "
                          "m.nn.checkpoint -o m.nn", err)
            self.assertFalse(os.path.exists(self.path("m.nn")))
            self.assertNotIn("epoch %d/" % EPOCHS, out)
            info = self.nn("info", "m.nn.checkpoint", "--json").json()
            self.assertEqual(info["kind"], "checkpoint")
            steps = info["step_count"]
            self.assertGreater(steps, 0)
            if steps % per_epoch != 0:
                break
            print("attempt %d stopped at an epoch's end (step %d)"
                  % (attempt + 1, steps))
            os.remove(self.path("m.nn.checkpoint"))
        # the signal came in the middle of an epoch, not at its end
        self.assertNotEqual(steps % per_epoch, 0)

        # resume, interrupt again with SIGTERM after the first epoch the
        # resumed run finishes, resume to the end
        code, out, err = self.interrupt(
            signal.SIGTERM, ["--resume", "m.nn.checkpoint", "-o", "m.nn"])
        self.assertEqual(code, 130, err)
        info2 = self.nn("info", "m.nn.checkpoint", "--json").json()
        self.assertGreater(info2["step_count"], steps)
        r = self.nn("train", "d.csv", "--resume", "m.nn.checkpoint",
                    "-o", "m.nn")
        self.assertIn("epoch %d/%d" % (EPOCHS, EPOCHS), r.out)
        self.assertEqual(self.read("m.nn", binary=True), whole)

    def test_resume_refuses_other_data_and_new_options(self):
        code, _, err = self.interrupt(signal.SIGINT, ARGS + ["-o", "m.nn"],
                                      1)
        self.assertEqual(code, 130, err)
        r = self.nn("train", "d.csv", "--resume", "m.nn.checkpoint",
                    "--epochs", "3", "-o", "m.nn", code=2)
        self.assertIn("--epochs: a resumed run takes its options from the "
                      "checkpoint", r.err)
        text = self.read("d.csv").replace("\n1", "\n2", 1)
        self.write("e.csv", text)
        r = self.nn("train", "e.csv", "--resume", "m.nn.checkpoint",
                    "-o", "m.nn", code=2)
        self.assertIn("not the data the interrupted run trained on", r.err)
        self.assertFalse(os.path.exists(self.path("m.nn")))


if __name__ == "__main__":
    import unittest
    unittest.main()
