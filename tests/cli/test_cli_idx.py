# SPDX-License-Identifier: MIT
"""IDX data through the nn command: a synthetic gzip-compressed image set
whose class is a simple function of the pixels, and Debian's
Fashion-MNIST files (dataset-fashion-mnist), with the labels read here
independently (gzip and numpy) to check nn evaluate's counts and nn
predict's output."""

import gzip
import os
import struct

import numpy as np

from clitest import FASHION, CliTest


def write_idx(path, a, code=0x08, compress=True):
    a = np.asarray(a)
    dt = {0x08: ">u1", 0x0D: ">f4"}[code]
    data = bytes([0, 0, code, a.ndim]) + b"".join(
        struct.pack(">I", d) for d in a.shape) + a.astype(dt).tobytes()
    with open(path, "wb") as f:
        f.write(gzip.compress(data) if compress else data)


def read_idx_labels(path):
    data = gzip.open(path).read()
    n = struct.unpack(">I", data[4:8])[0]
    return np.frombuffer(data, dtype=np.uint8, count=n, offset=8)


class Idx(CliTest):
    def test_synthetic_images_are_classified_by_their_bright_quadrant(self):
        rng = np.random.default_rng(9)
        n = 1200
        img = rng.integers(0, 60, (n, 6, 6))
        lab = rng.integers(0, 4, n)
        for i, q in enumerate(lab):
            r, c = divmod(int(q), 2)
            img[i, 3 * r:3 * r + 3, 3 * c:3 * c + 3] += 150
        write_idx(self.path("img.gz"), img[:1000])
        write_idx(self.path("lab.gz"), lab[:1000])
        write_idx(self.path("timg"), img[1000:], compress=False)
        write_idx(self.path("tlab"), lab[1000:], compress=False)
        self.nn("train", "img.gz", "--targets", "lab.gz",
                "--layers", "16:relu,4:softmax", "--epochs", "20",
                "--lr", "0.01", "--scale", "minmax", "-o", "q.nn")
        r = self.nn("evaluate", "q.nn", "timg", "--targets", "tlab",
                    "--json").json()
        self.assertEqual(r["classes"], ["0", "1", "2", "3"])
        self.assertGreaterEqual(r["accuracy"], 0.99)
        self.nn("predict", "q.nn", "timg", "-o", "p.npy")
        p = np.load(self.path("p.npy"))
        self.assertEqual(p.dtype, np.int32)
        self.assertAlmostEqual((p == lab[1000:]).mean(), r["accuracy"])
        # bytes and floats of the same pixels are the same input, bit for
        # bit (bytes take their own decoding loop)
        write_idx(self.path("timg4"), img[1000:], code=0x0D, compress=False)
        self.nn("predict", "q.nn", "timg", "--proba", "-o", "pu.npy")
        self.nn("predict", "q.nn", "timg4", "--proba", "-o", "pf.npy")
        pu, pf = np.load(self.path("pu.npy")), np.load(self.path("pf.npy"))
        self.assertEqual(pu.shape, (200, 4))
        self.assertEqual(pu.tobytes(), pf.tobytes())
        # the minmax scaling, from the training images' own range
        info = self.nn("info", "q.nn", "--json").json()
        sc = info["layers"][0]
        lo = img[:1000].reshape(1000, -1).min(axis=0)
        hi = img[:1000].reshape(1000, -1).max(axis=0)
        self.assertTrue(np.allclose(sc["scale"], 1 / (hi - lo)))
        self.assertTrue(np.allclose(sc["shift"], -lo / (hi - lo)))

    def test_byte_images_train_as_their_floats_do_bit_for_bit(self):
        # nn train keeps uint8 images as bytes (nn_data_create_labels_u8);
        # the same pixels as float32 must give the same model: the
        # scaling's statistics, the validation split, --rows and the fit
        rng = np.random.default_rng(21)
        n = 900
        img = rng.integers(0, 256, (n, 5, 5))
        lab = (img[:, :, :2].sum(axis=(1, 2)) >
               img[:, :, 3:].sum(axis=(1, 2))).astype(np.int64)
        write_idx(self.path("u.gz"), img)
        write_idx(self.path("f.gz"), img, code=0x0D)
        write_idx(self.path("l.gz"), lab)
        np.save(self.path("u.npy"), img.astype(np.uint8))
        for data, model in (("u.gz", "u.nn"), ("f.gz", "f.nn"),
                            ("u.npy", "n.nn")):
            self.nn("train", data, "--targets", "l.gz", "--rows", "50:880",
                    "--val-split", "200", "--layers", "12:relu,2:softmax",
                    "--epochs", "10", "--lr", "0.01", "--batch-size", "32",
                    "--seed", "5",
                    "-o", model)
        probs = []
        for model in ("u.nn", "f.nn", "n.nn"):
            self.nn("predict", model, "f.gz", "--proba", "-o", "p.npy",
                    "--force")
            probs.append(np.load(self.path("p.npy")))
        self.assertEqual(probs[0].shape, (n, 2))
        self.assertEqual(probs[0].tobytes(), probs[1].tobytes())
        self.assertEqual(probs[0].tobytes(), probs[2].tobytes())
        # it learned the rule
        self.assertGreater((probs[0].argmax(axis=1) == lab).mean(), 0.8)
        # the same scaling and the same hash of the training rows (a
        # resumed run checks it)
        infos = [self.nn("info", m, "--json").json()
                 for m in ("u.nn", "f.nn", "n.nn")]
        for i in (1, 2):
            self.assertEqual(infos[0]["layers"][0], infos[i]["layers"][0])
            self.assertEqual(infos[0]["metadata"]["nn.train.hash"],
                             infos[i]["metadata"]["nn.train.hash"])

    def test_arrays_read_from_standard_input_as_from_their_files(self):
        # the format is found from the bytes, which nn reads once: an NPY
        # or (gzip) IDX file piped to "-" gives what its path gives
        rng = np.random.default_rng(4)
        img = rng.integers(0, 256, (300, 4, 3))
        lab = (img[:, 0, :].sum(axis=1) > img[:, 3, :].sum(axis=1))
        write_idx(self.path("u.gz"), img)
        write_idx(self.path("l.gz"), lab.astype(np.int64))
        np.save(self.path("u.npy"), img.astype(np.uint8))
        args = ("--targets", "l.gz", "--val-split", "50", "--layers",
                "8:relu,2:softmax", "--epochs", "5", "--seed", "3")
        hashes = []
        for data in ("u.gz", "u.npy"):
            self.nn("train", data, *args, "-o", "a.nn", "--force")
            r = self.nn("train", "-", *args, "-o", "b.nn", "--force",
                        stdin=self.read(data, binary=True))
            self.assertIn("training on (standard input): 250 rows of 12 "
                          "inputs", r.out + r.err)
            out = []
            for model, src in (("a.nn", data), ("b.nn", "-")):
                out.append(self.nn("predict", model, src, "--proba",
                                   stdin=self.read(data, binary=True)).out)
                hashes.append(self.nn("info", model, "--json").json()
                              ["metadata"]["nn.train.hash"])
            self.assertEqual(len(out[0].splitlines()), 300)
            self.assertEqual(out[0], out[1])
        self.assertEqual(len(set(hashes)), 1)

    def test_fashion_mnist_from_the_debian_package(self):
        f = lambda name: os.path.join(FASHION, name)
        self.nn("train", f("train-images-idx3-ubyte.gz"),
                "--targets", f("train-labels-idx1-ubyte.gz"),
                "--rows", "0:12000", "--layers", "128:relu,10:softmax",
                "--epochs", "2", "--batch-size", "64", "--val-split", "2000",
                "-o", "f.nn")
        truth = read_idx_labels(f("t10k-labels-idx1-ubyte.gz"))
        r = self.nn("evaluate", "f.nn", f("t10k-images-idx3-ubyte.gz"),
                    "--targets", f("t10k-labels-idx1-ubyte.gz"),
                    "--json").json()
        self.assertEqual(r["rows"], 10000)
        conf = np.array(r["confusion"])
        self.assertEqual(list(conf.sum(axis=1)),
                         list(np.bincount(truth, minlength=10)))
        print("Fashion-MNIST, 10000 training images, 2 epochs: test "
              "accuracy %.4f" % r["accuracy"])
        self.assertGreater(r["accuracy"], 0.78)
        out = self.nn("predict", "f.nn", f("t10k-images-idx3-ubyte.gz"),
                      "--rows", "0:500").out
        pred = np.array([int(v) for v in out.split()])
        self.assertEqual(len(pred), 500)
        self.assertGreater((pred == truth[:500]).mean(), 0.75)


if __name__ == "__main__":
    import unittest
    unittest.main()
