# SPDX-License-Identifier: MIT
"""Regression through nn train, predict and evaluate: a CSV data set and
an NPY data set drawn from known functions, and predictions on fresh
points compared with those functions within a stated error. The metrics
nn evaluate prints are recomputed here from nn predict's output."""

import numpy as np

from clitest import CliTest


def f_csv(x):
    """The CSV set's function of two inputs."""
    return np.sin(2 * x[:, 0]) + 0.5 * x[:, 1] ** 2 - 0.5 * x[:, 0] * x[:, 1]


def f_npy(x):
    """The NPY set's two outputs of three inputs."""
    return np.stack([x[:, 0] + 2 * x[:, 1] - x[:, 2],
                     np.tanh(x[:, 0] * x[:, 2])], axis=1)


class Regress(CliTest):
    def test_csv_predictions_are_within_0_02_rms_of_the_function(self):
        rng = np.random.default_rng(1)
        x = rng.uniform(-2, 2, (3000, 2))
        y = f_csv(x)
        lines = ["a,b,target"] + ["%.9g,%.9g,%.9g" % (a, b, t)
                                  for (a, b), t in zip(x, y)]
        self.write("train.csv", "\r\n".join(lines) + "\r\n")
        self.nn("train", "train.csv", "--layers", "64:tanh,64:tanh,1",
                "--epochs", "150", "--batch-size", "32", "--lr", "0.003",
                "--schedule", "cosine", "-o", "f.nn")
        # fresh points on a grid, columns in another order and the target
        # missing: the model finds its inputs by name
        g = np.stack(np.meshgrid(np.linspace(-1.9, 1.9, 20),
                                 np.linspace(-1.9, 1.9, 20)), -1)
        g = g.reshape(-1, 2)
        lines = ["b;a"] + ["%.9g;%.9g" % (b, a) for a, b in g]
        self.write("grid.csv", "\n".join(lines) + "\n")
        self.nn("predict", "f.nn", "grid.csv", "--delimiter", ";",
                "-o", "pred.csv")
        # the same from standard input
        piped = self.nn("predict", "f.nn", "-", "--delimiter", ";",
                        stdin=self.read("grid.csv", binary=True)).out
        self.assertEqual(piped, self.read("pred.csv"))
        pred = np.loadtxt(self.path("pred.csv"), delimiter=",")
        err = pred - f_csv(g)
        rms, worst = np.sqrt(np.mean(err ** 2)), np.abs(err).max()
        print("CSV regression: RMS error %.4f, largest %.4f" % (rms, worst))
        self.assertLess(rms, 0.02)
        self.assertLess(worst, 0.1)

        # evaluate's metrics, recomputed from predictions on labelled rows
        t = f_csv(g)
        lines = ["a,b,target"] + ["%.9g,%.9g,%.9g" % (a, b, v)
                                  for (a, b), v in zip(g, t)]
        self.write("test.csv", "\n".join(lines) + "\n")
        r = self.nn("evaluate", "f.nn", "test.csv", "--json").json()
        p = np.loadtxt(self.path("pred.csv"), delimiter=",")
        self.assertEqual(r["targets"], ["target"])
        self.assertAlmostEqual(r["mae"][0], np.abs(p - t).mean(), places=5)
        self.assertAlmostEqual(r["rmse"][0], np.sqrt(((p - t) ** 2).mean()),
                               places=5)
        r2 = 1 - ((p - t) ** 2).sum() / ((t - t.mean()) ** 2).sum()
        self.assertAlmostEqual(r["r2"][0], r2, places=5)
        self.assertAlmostEqual(r["loss"], ((p - t) ** 2).mean(), places=5)

    def test_npy_predictions_are_within_0_02_rms_of_the_function(self):
        rng = np.random.default_rng(2)
        x = rng.uniform(-1, 1, (4000, 3))
        np.save(self.path("x.npy"), x)                       # float64
        np.save(self.path("y.npy"), f_npy(x).astype(np.float32))
        self.nn("train", "x.npy", "--targets", "y.npy",
                "--layers", "32:tanh,32:tanh,2", "--epochs", "100",
                "--batch-size", "32", "--lr", "0.003", "-o", "g.nn")
        xt = rng.uniform(-0.95, 0.95, (500, 3)).astype(np.float32)
        np.save(self.path("xt.npy"), xt)
        self.nn("predict", "g.nn", "xt.npy", "-o", "pt.npy")
        pred = np.load(self.path("pt.npy"))
        self.assertEqual(pred.dtype, np.float32)
        self.assertEqual(pred.shape, (500, 2))
        err = pred - f_npy(xt.astype(np.float64))
        rms = np.sqrt(np.mean(err ** 2, axis=0))
        print("NPY regression: RMS errors %s" % rms)
        self.assertTrue((rms < 0.02).all())
        # predict to CSV on standard output gives the same numbers
        out = self.nn("predict", "g.nn", "xt.npy").out
        self.assertTrue(np.array_equal(
            np.loadtxt(out.splitlines(), delimiter=",", dtype=np.float32),
            pred))


if __name__ == "__main__":
    import unittest
    unittest.main()
