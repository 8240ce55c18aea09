#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""check_exports.py DIR: onnx.checker.check_model (full check, with shape
inference) on every ONNX file that export_cases wrote into DIR (listed in
DIR/cases.txt), with Debian's python3-onnx; and what nn.h promises of
them: opset 17 of the default domain, IR version 8, one input "input" and
one output "output", float matrices whose first dimension is the dynamic
"batch" and whose second is the model's width (DIR/NAME.json). Fails if a
case is missing."""
import json
import os
import sys

import onnx

d = sys.argv[1]
with open(os.path.join(d, "cases.txt")) as f:
    names = [line.strip() for line in f if line.strip()]
if not names:
    sys.exit("no cases in %s/cases.txt" % d)
for name in names:
    path = os.path.join(d, name + ".onnx")
    mp = onnx.load(path)
    onnx.checker.check_model(mp, full_check=True)
    with open(os.path.join(d, name + ".json")) as f:
        shape = json.load(f)
    assert mp.ir_version == 8, (name, mp.ir_version)
    assert [(o.domain, o.version) for o in mp.opset_import] == [("", 17)], \
        (name, mp.opset_import)
    for vi, want_name, width in ((mp.graph.input, "input", shape["inputs"]),
                                 (mp.graph.output, "output",
                                  shape["outputs"])):
        assert len(vi) == 1 and vi[0].name == want_name, (name, vi)
        t = vi[0].type.tensor_type
        assert t.elem_type == onnx.TensorProto.FLOAT, (name, t)
        dims = t.shape.dim
        assert len(dims) == 2 and dims[0].dim_param == "batch" and \
            dims[1].dim_value == width, (name, dims)
    print("%-22s checked: %d nodes, %d initializers" %
          (name, len(mp.graph.node), len(mp.graph.initializer)))
print("check_exports: %d files pass onnx.checker %s" %
      (len(names), onnx.__version__))
