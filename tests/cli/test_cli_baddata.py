# SPDX-License-Identifier: MIT
"""Bad data through the nn command: every case exits with status 2, says
what is wrong naming the file and the place (line and column for CSV, row
and column or byte for NPY and IDX), and leaves no output file, finished
or not, and no temporary file behind."""

import gzip
import os
import struct

import numpy as np

from clitest import CliTest

GOOD = "a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n"
LAYERS = ["--layers", "4:relu,2:softmax", "--epochs", "1"]


def idx(a, code=0x08):
    a = np.asarray(a)
    return bytes([0, 0, code, a.ndim]) + b"".join(
        struct.pack(">I", d) for d in a.shape) + a.astype(">u1").tobytes()


# (name, file contents, extra options, words the message must contain)
CSV_CASES = [
    ("ragged-short", "a,b,y\n1,2,0\n3,4\n", [],
     ["bad.csv: line 3, column 2 (\"y\"): missing",
      "expected 3, as line 1 has"]),
    ("ragged-long", "a,b,y\n1,2,0\n3,4,1,9\n", [],
     ["bad.csv: line 3, column 3: an extra column", "expected 3 columns"]),
    ("not-a-number", "a,b,y\n1,2,0\n3,abc,1\n", [],
     ["bad.csv: line 3, column 1 (\"b\"): \"abc\" is not a number",
      "expected a number"]),
    ("nan", "a,b,y\n1,2,0\n3,NaN,1\n", [],
     ["bad.csv: line 3, column 1 (\"b\"): \"NaN\" is NaN"]),
    ("infinite", "a,b,y\n1,2,0\n3,-inf,1\n", [],
     ["bad.csv: line 3, column 1 (\"b\"): \"-inf\" is infinite"]),
    ("huge", "a,b,y\n1,2,0\n3,1e40,1\n", [],
     ["bad.csv: line 3, column 1 (\"b\"): \"1e40\" is out of range"]),
    ("empty-cell", "a,b,y\n1,,0\n3,4,1\n", [],
     ["bad.csv: line 2, column 1 (\"b\"): \"\" is an empty cell"]),
    ("empty-label", "a,b,y\n1,2,0\n3,4,\n", [],
     ["bad.csv: line 3, column 2 (\"y\"): an empty cell; expected a class"]),
    ("empty-file", "", [], ["bad.csv: the file is empty"]),
    ("header-only", "a,b,y\n", [], ["bad.csv: line 1: only a header row"]),
    ("bad-quote", "a,b,y\n1,2,0\n3,\"4\"x,1\n", [],
     ["bad.csv: line 3, column 1: a misplaced quote"]),
    ("open-quote", "a,b,y\n1,2,0\n3,\"4,1\n", [],
     ["bad.csv: line 3: a quoted field is not closed"]),
    ("missing-target", GOOD, ["--target", "z"],
     ["bad.csv: line 1: no column is named \"z\""]),
    ("target-index", GOOD, ["--target", "5"],
     ["--target 5: bad.csv has 3 columns"]),
    ("too-many-classes", "a,b,y\n1,2,0\n3,4,1\n5,6,2\n", [],
     ["bad.csv: column 2 (\"y\"): 3 classes", "output layer has 2 units"]),
]


class BadData(CliTest):
    def assert_refused(self, r, words, outputs):
        self.assertEqual(r.code, 2, r.err)
        for w in words:
            self.assertIn(w, r.err)
        for o in outputs:
            self.assertFalse(os.path.exists(self.path(o)), o)
        leftovers = [f for f in self.files() if ".tmp" in f]
        self.assertEqual(leftovers, [])

    def test_train_refuses_each_bad_csv(self):
        for name, text, opts, words in CSV_CASES:
            with self.subTest(name):
                self.write("bad.csv", text)
                r = self.nn("train", "bad.csv", *LAYERS, *opts, "-o", "m.nn",
                            "--log", "log.json", code=None)
                self.assert_refused(r, words, ["m.nn", "log.json",
                                               "m.nn.checkpoint"])

    def test_predict_and_evaluate_refuse_each_bad_csv(self):
        self.write("good.csv", GOOD)
        self.nn("train", "good.csv", *LAYERS, "-o", "m.nn")
        for name, text, opts, words in CSV_CASES:
            if name in ("missing-target", "target-index",
                        "too-many-classes", "empty-label"):
                continue
            with self.subTest(name):
                self.write("bad.csv", text)
                r = self.nn("predict", "m.nn", "bad.csv", *opts, "-o",
                            "p.csv", code=None)
                self.assert_refused(r, words, ["p.csv"])
                r = self.nn("evaluate", "m.nn", "bad.csv", *opts, code=None)
                self.assert_refused(r, words, [])
                self.assertEqual(r.out, "")

    def test_a_class_never_seen_in_training_is_refused(self):
        self.write("good.csv", GOOD)
        self.nn("train", "good.csv", *LAYERS, "-o", "m.nn")
        self.write("new.csv", "a,b,y\n1,2,0\n3,4,7\n")
        r = self.nn("evaluate", "m.nn", "new.csv", code=None)
        self.assert_refused(r, ["new.csv: line 3, column 2 (\"y\"): class "
                                "\"7\" was not seen in training",
                                "\"0\", \"1\""], [])
        self.write("named.csv", "a,b,y\n1,2,cat\n3,4,dog\n5,6,cat\n")
        self.nn("train", "named.csv", *LAYERS, "-o", "n.nn")
        self.write("new.csv", "a,b,y\n1,2,cat\n3,4,cow\n")
        r = self.nn("evaluate", "n.nn", "new.csv", code=None)
        self.assert_refused(r, ["new.csv: line 3, column 2 (\"y\"): class "
                                "\"cow\" was not seen in training",
                                "\"cat\", \"dog\""], [])

    def test_missing_or_extra_target_columns_are_refused(self):
        self.write("good.csv", GOOD)
        self.nn("train", "good.csv", *LAYERS, "-o", "m.nn")
        # evaluate needs the target column the model was trained on
        self.write("nolabel.csv", "a,b\n1,2\n")
        r = self.nn("evaluate", "m.nn", "nolabel.csv", code=None)
        self.assert_refused(r, ["nolabel.csv: line 1: no column named "
                                "\"y\", a target the model was trained on"],
                            [])
        # regression: one target column per output
        self.write("two.csv", "a,y1,y2\n1,2,3\n4,5,6\n")
        r = self.nn("train", "two.csv", "--layers", "1", "--target",
                    "y1,y2", "-o", "r.nn", code=None)
        self.assert_refused(r, ["two.csv: 2 target columns are chosen, but "
                                "the model has 1 output"], ["r.nn"])
        # no header: a row with fewer columns than training is refused
        self.write("nohead.csv", "1,2,0\n3,4,1\n")
        self.nn("train", "nohead.csv", "--no-header", *LAYERS, "-o", "h.nn")
        self.write("short.csv", "1\n")
        r = self.nn("predict", "h.nn", "short.csv", "--no-header", code=None)
        self.assert_refused(r, ["short.csv: line 1: 1 columns; expected 2 "
                                "(the model's inputs) or 3"], [])

    def test_npy_and_idx_problems_name_the_row_column_or_byte(self):
        x = np.ones((4, 3), dtype=np.float32)
        x[2, 1] = np.nan
        np.save(self.path("x.npy"), x)
        np.save(self.path("y.npy"), np.array([0, 1, 0, 1]))
        r = self.nn("train", "x.npy", "--targets", "y.npy", *LAYERS,
                    "-o", "m.nn", code=None)
        self.assert_refused(r, ["x.npy: row 2, column 1 (byte ",
                                "the value is NaN"], ["m.nn"])
        x[2, 1] = np.inf
        np.save(self.path("x.npy"), x)
        r = self.nn("train", "x.npy", "--targets", "y.npy", *LAYERS,
                    "-o", "m.nn", code=None)
        self.assert_refused(r, ["x.npy: row 2, column 1", "infinite"],
                            ["m.nn"])
        x[2, 1] = 0
        np.save(self.path("x.npy"), x)
        np.save(self.path("y.npy"), np.array([0, 1, 0]))
        r = self.nn("train", "x.npy", "--targets", "y.npy", *LAYERS,
                    "-o", "m.nn", code=None)
        self.assert_refused(r, ["y.npy: 3 rows, but x.npy has 4"], ["m.nn"])
        np.save(self.path("y.npy"), np.array([0, 1, 0.5, 1]))
        r = self.nn("train", "x.npy", "--targets", "y.npy", *LAYERS,
                    "-o", "m.nn", code=None)
        self.assert_refused(r, ["y.npy: row 2: 0.5 is not a whole number"],
                            ["m.nn"])
        with open(self.path("t.npy"), "wb") as f:
            f.write(self.read("x.npy", binary=True)[:-6])
        r = self.nn("train", "t.npy", "--targets", "y.npy", *LAYERS,
                    "-o", "m.nn", code=None)
        self.assert_refused(r, ["t.npy: byte ", "the file is truncated"],
                            ["m.nn"])

        images = np.arange(4 * 2 * 2).reshape(4, 2, 2) % 256
        with open(self.path("img.gz"), "wb") as f:
            f.write(gzip.compress(idx(images)))
        with open(self.path("lab"), "wb") as f:
            f.write(idx([0, 1, 0, 1])[:-1])
        r = self.nn("train", "img.gz", "--targets", "lab", *LAYERS,
                    "-o", "m.nn", code=None)
        self.assert_refused(r, ["lab: byte 11: the file is truncated: the "
                                "header announces 4 elements"], ["m.nn"])
        with open(self.path("cut.gz"), "wb") as f:
            f.write(gzip.compress(idx(images))[:-9])
        r = self.nn("train", "cut.gz", "--targets", "lab", *LAYERS,
                    "-o", "m.nn", code=None)
        self.assert_refused(r, ["cut.gz: byte ", "gzip data is truncated"],
                            ["m.nn"])

    def test_an_existing_output_is_kept_without_force(self):
        self.write("good.csv", GOOD)
        self.write("m.nn", "precious")
        r = self.nn("train", "good.csv", *LAYERS, "-o", "m.nn", code=2)
        self.assertIn("m.nn exists; pass --force to replace it", r.err)
        self.assertEqual(self.read("m.nn"), "precious")
        self.nn("train", "good.csv", *LAYERS, "-o", "m.nn", "--force")
        self.assertNotEqual(self.read("m.nn", binary=True),
                            b"precious")
        self.write("p.csv", "precious")
        r = self.nn("predict", "m.nn", "good.csv", "-o", "p.csv", code=2)
        self.assertIn("p.csv exists; pass --force", r.err)
        self.assertEqual(self.read("p.csv"), "precious")
        self.nn("predict", "m.nn", "good.csv", "-o", "p.csv", "--force")
        self.assertEqual(len(self.read("p.csv").split()), 4)

    def test_an_output_name_of_the_longest_length_is_written(self):
        # a name of NAME_MAX bytes leaves no room for a suffix: the writer
        # must not build its temporary name from the output's
        self.write("good.csv", GOOD)
        limit = os.pathconf(self.path("."), "PC_NAME_MAX")
        for name in ("m" * (limit - 3) + ".nn", "p" * (limit - 4) + ".csv"):
            self.assertEqual(len(name), limit)
        model, preds = "m" * (limit - 3) + ".nn", "p" * (limit - 4) + ".csv"
        for force in ([], ["--force"]):
            self.nn("train", "good.csv", *LAYERS, "-o", model, *force)
            self.nn("predict", model, "good.csv", "-o", preds, *force)
            self.assertEqual(len(self.read(preds).split()), 4)
            # the outputs and the data, nothing else: no temporary file
            self.assertEqual(sorted(self.files()),
                             sorted(["good.csv", model, preds]))
        r = self.nn("info", model)
        self.assertIn("4:relu", r.out.replace(" ", ""))

    def test_a_damaged_model_file_is_refused(self):
        self.write("good.csv", GOOD)
        self.nn("train", "good.csv", *LAYERS, "-o", "m.nn")
        data = bytearray(self.read("m.nn", binary=True))
        data[40] ^= 1
        with open(self.path("bad.nn"), "wb") as f:
            f.write(data)
        for cmd in (["info", "bad.nn"], ["predict", "bad.nn", "good.csv"],
                    ["evaluate", "bad.nn", "good.csv"]):
            r = self.nn(*cmd, code=2)
            self.assertIn("bad.nn: ", r.err)
            self.assertIn("checksum", r.err)


if __name__ == "__main__":
    import unittest
    unittest.main()
