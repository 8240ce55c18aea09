# SPDX-License-Identifier: MIT
"""The Python reader of docs/FORMAT.md, run over every model file the
repository holds (the fuzz corpus, version 1 and 2, and tests/data/v1):
each must parse to its last byte, and its counts must agree with what the
layers imply. A format change the document does not follow fails here.

Usage: python3 check-format-doc.py FORMAT.md FILE_OR_DIR..."""
import os
import sys


def reader(doc_path):
    text = open(doc_path, encoding="utf-8").read()
    start = text.index("```python") + len("```python")
    code = text[start:text.index("```", start)]
    scope = {}
    exec(compile(code, doc_path, "exec"), scope)
    return scope["read_model"]


def files(args):
    for a in args:
        if os.path.isdir(a):
            for name in sorted(os.listdir(a)):
                if name.startswith("seed-") or name.endswith(".nnm"):
                    yield os.path.join(a, name)
        else:
            yield a


def main():
    read_model = reader(sys.argv[1])
    seen = 0
    for path in files(sys.argv[2:]):
        data = open(path, "rb").read()
        m = read_model(data)
        widths = [layer["width"] for layer in m["layers"]]
        kinds = [layer["kind"] for layer in m["layers"]]
        # every kind but dense keeps its input's width
        fan_in = m["input"]
        for k, w in zip(kinds, widths):
            if k != 1 and w != fan_in:
                raise SystemExit("%s: a kind-%d layer changes the width"
                                 % (path, k))
            fan_in = w
        if m["version"] >= 2 and m["class_weights"]:
            if len(m["class_weights"]) != widths[-1]:
                raise SystemExit("%s: class weights do not fit" % path)
        seen += 1
        print("%-40s version %d, %d layers, %d parameters, %d buffer values"
              % (os.path.basename(path), m["version"], len(widths),
                 len(m["params"]), len(m["buffers"])))
    if seen == 0:
        raise SystemExit("no model file found")


if __name__ == "__main__":
    main()
