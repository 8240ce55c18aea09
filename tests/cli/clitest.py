# SPDX-License-Identifier: MIT
"""What the nn command's end-to-end tests share: running the built binary
(NN_CLI), optionally under a wrapper such as valgrind (NN_CLI_WRAPPER),
in a fresh directory per test, and reading its outputs back with numpy.

The tests run under Debian's /usr/bin/python3 with python3-numpy and
python3-sklearn; a missing module is an error, never a skip."""

import json
import os
import shlex
import shutil
import subprocess
import tempfile
import unittest

NN = os.environ.get("NN_CLI", "nn")
WRAPPER = shlex.split(os.environ.get("NN_CLI_WRAPPER", ""))
SKLEARN_DATA = "/usr/lib/python3/dist-packages/sklearn/datasets/data"
IRIS = os.path.join(SKLEARN_DATA, "iris.csv")
BREAST_CANCER = os.path.join(SKLEARN_DATA, "breast_cancer.csv")
FASHION = "/usr/share/datasets/fashion-mnist"


class Result:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    def json(self):
        return json.loads(self.out)


class CliTest(unittest.TestCase):
    """A test case with its own directory (self.dir) and self.nn()."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="nn-cli-test-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def nn(self, *args, code=0, stdin=None, timeout=600):
        """Runs nn with args in self.dir; asserts the exit code."""
        p = subprocess.run(WRAPPER + [NN] + [str(a) for a in args],
                           cwd=self.dir, input=stdin, capture_output=True,
                           timeout=timeout)
        r = Result(p.returncode, p.stdout.decode("utf-8", "replace"),
                   p.stderr.decode("utf-8", "replace"))
        if code is not None and r.code != code:
            self.fail("nn %s: exit %d, expected %d\nstdout:\n%s\nstderr:\n%s"
                      % (" ".join(map(str, args)), r.code, code, r.out,
                         r.err))
        return r

    def write(self, name, text):
        with open(self.path(name), "w", newline="") as f:
            f.write(text)
        return self.path(name)

    def read(self, name, binary=False):
        with open(self.path(name), "rb" if binary else "r") as f:
            return f.read()

    def files(self):
        return sorted(os.listdir(self.dir))
