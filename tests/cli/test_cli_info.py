# SPDX-License-Identifier: MIT
"""nn info on a model of every layer kind: the JSON and the text output
hold the file's size, format version and kind, every layer with its kind,
width, activation and settings, the scaling (checked against the
training data's statistics computed here with numpy), the loss,
optimizer, schedule, settings, step count, class names and the options
of the run."""

import os

import numpy as np

from clitest import CliTest

LAYERS = ("8:leaky_relu:leaky_slope=0.2,batchnorm:momentum=0.2,"
          "dropout:0.25,layernorm:epsilon=0.001,"
          "6:elu:elu_alpha=1.5:init=he_normal,gelu,3:softmax")


class Info(CliTest):
    def test_every_layer_kind_and_setting_is_shown(self):
        rng = np.random.default_rng(5)
        x = rng.normal([1, -2, 30, 0.5], [1, 2, 10, 0.1], (90, 4))
        y = np.array(["red", "green", "blue"])[np.arange(90) % 3]
        lines = ["p,q,r,s,colour"] + ["%.9g,%.9g,%.9g,%.9g,%s" % (*a, b)
                                      for a, b in zip(x, y)]
        self.write("d.csv", "\n".join(lines) + "\n")
        self.nn("train", "d.csv", "--layers", LAYERS, "--epochs", "3",
                "--batch-size", "10", "--optimizer", "rmsprop",
                "--schedule", "exponential", "--set", "sched_gamma=0.99",
                "--class-weights", "1,2,3", "-o", "m.nn")
        info = self.nn("info", "m.nn", "--json").json()

        self.assertEqual(info["size"], os.path.getsize(self.path("m.nn")))
        self.assertEqual(info["format_version"], 2)
        self.assertEqual(info["kind"], "model")
        self.assertEqual(info["inputs"], 4)
        self.assertEqual(info["outputs"], 3)
        kinds = [(l["kind"], l["width"], l.get("activation"))
                 for l in info["layers"]]
        self.assertEqual(kinds, [
            ("scaling", 4, None), ("dense", 8, "leaky_relu"),
            ("batchnorm", 8, None), ("dropout", 8, None),
            ("layernorm", 8, None), ("dense", 6, "elu"),
            ("activation", 6, "gelu"), ("dense", 3, "softmax")])
        s = [l["settings"] for l in info["layers"]]
        self.assertAlmostEqual(s[1]["leaky_slope"], 0.2, places=6)
        self.assertAlmostEqual(s[2]["momentum"], 0.2)
        self.assertAlmostEqual(s[2]["epsilon"], 1e-5)
        self.assertAlmostEqual(s[3]["dropout_rate"], 0.25)
        self.assertAlmostEqual(s[4]["epsilon"], 0.001)
        self.assertAlmostEqual(s[5]["elu_alpha"], 1.5)
        self.assertEqual(s[5]["init"], "he_normal")
        self.assertEqual(info["parameters"],
                         4 * 8 + 8 + 8 + 8 + 8 + 8 + 8 * 6 + 6 + 6 * 3 + 3)
        # the scaling layer standardises with the training rows' mean and
        # (population) standard deviation
        sc = info["layers"][0]
        sd, mean = x.std(axis=0), x.mean(axis=0)
        self.assertTrue(np.allclose(sc["scale"], 1 / sd, rtol=1e-5))
        self.assertTrue(np.allclose(sc["shift"], -mean / sd, rtol=1e-4,
                                    atol=1e-5))
        # batch normalization's running statistics have moved from 0 and 1
        bn = info["layers"][2]
        self.assertEqual(len(bn["running_mean"]), 8)
        self.assertNotEqual(bn["running_var"], [1.0] * 8)

        self.assertEqual(info["loss"], "cross_entropy")
        self.assertEqual(info["optimizer"], "rmsprop")
        self.assertEqual(info["schedule"], "exponential")
        # a model file keeps no optimizer state: its step count is 0, and
        # nn train notes the steps taken (90 rows / 10, 3 epochs)
        self.assertEqual(info["step_count"], 0)
        self.assertEqual(info["metadata"]["nn.train.steps"], "27")
        self.assertEqual(info["metadata"]["nn.train.epochs"], "3")
        self.assertAlmostEqual(info["settings"]["sched_gamma"], 0.99)
        self.assertAlmostEqual(info["settings"]["learning_rate"], 0.001)
        self.assertAlmostEqual(info["next_lr"], 0.001)
        self.assertEqual(info["class_weights"], [1, 2, 3])
        self.assertEqual(info["classes"], ["blue", "green", "red"])
        meta = info["metadata"]
        self.assertEqual(meta["nn.scale"], "standard")
        self.assertEqual(meta["nn.input.2.name"], "r")
        self.assertEqual(meta["nn.target.0.name"], "colour")
        self.assertIn("--layers=" + LAYERS, meta.values())

        text = self.nn("info", "m.nn").out
        for words in ("format version 2, model", "scaling", "leaky_relu",
                      "leaky_slope 0.2", "batchnorm", "momentum 0.2",
                      "dropout", "dropout_rate 0.25", "layernorm",
                      "epsilon 0.001", "elu_alpha 1.5", "init he_normal",
                      "gelu", "softmax", "cross_entropy", "rmsprop",
                      "exponential", "step count    0",
                      "trained       3 epochs, 27 steps",
                      "names: blue, green, red", "class weights [1, 2, 3]",
                      "--layers=" + LAYERS, "sched_gamma"):
            self.assertIn(words, text)
        full = self.nn("info", "m.nn", "--all").out
        self.assertIn("nn.input.3.name = \"s\"", full)


if __name__ == "__main__":
    import unittest
    unittest.main()
