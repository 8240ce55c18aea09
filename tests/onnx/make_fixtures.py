#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Makes the ONNX files that tests/onnx imports, and what PyTorch computes
from them, with Debian's python3-torch (1.13) and python3-onnx (1.12):

    /usr/bin/python3 tests/onnx/make_fixtures.py tests/onnx/fixtures

The output is committed, so the tests themselves need neither PyTorch nor
onnx. For each model NAME:

  NAME.onnx  torch.onnx.export of an nn.Sequential in eval mode (or that
             file rewritten with onnx.helper into another form PyTorch's
             graphs take: MatMul + Add, Gemm without transB, float lists)
  NAME.txt   sections "name rows cols" followed by rows of numbers:
               input   the rows fed to the model
               output  PyTorch's outputs for them (float32, printed %.9g)
             and for the models trained one step after import:
               target or labels, lr, and output_after_step: PyTorch's
               outputs after one SGD step (learning rate lr) on the input
               with MSE against the target, or cross-entropy against the
               labels computed from the logits before the final Softmax
               (libnn's NN_LOSS_CROSS_ENTROPY with a softmax output)

bad-NAME.onnx are graphs libnn must refuse; bad-NAME.txt holds the
substring its message must contain (section "message").

Every file written here passes onnx.checker.check_model.
"""
import copy
import io
import os
import sys

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper, TensorProto
from torch import nn

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "fixtures")


def export(model, x, opset, dynamic=True, **kw):
    model.eval()
    f = io.BytesIO()
    if dynamic:
        kw["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
    torch.onnx.export(model, x, f, opset_version=opset,
                      input_names=["input"], output_names=["output"], **kw)
    return onnx.load_from_string(f.getvalue())


def randomize(model, gen):
    """Weights away from PyTorch's defaults, and running statistics of
    batch normalization that are not 0 and 1."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear,)):
                m.weight.uniform_(-1.0, 1.0, generator=gen)
                if m.bias is not None:
                    m.bias.uniform_(-0.5, 0.5, generator=gen)
            if (isinstance(m, (nn.BatchNorm1d, nn.LayerNorm)) and
                    m.weight is not None):
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.uniform_(-0.5, 0.5, generator=gen)
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.uniform_(-1.0, 1.0, generator=gen)
                m.running_var.uniform_(0.5, 2.0, generator=gen)


def rows(gen, n, shape, scale=2.0):
    return (torch.rand((n,) + tuple(shape), generator=gen) * 2 - 1) * scale


def fmt(v):
    return "%.9g" % float(v)


def write_txt(name, sections):
    with open(os.path.join(OUT, name + ".txt"), "w") as f:
        for key, arr in sections:
            arr = np.asarray(arr, dtype=np.float64)
            if arr.ndim == 0:
                arr = arr.reshape(1, 1)
            arr = arr.reshape(arr.shape[0], -1)
            f.write("%s %d %d\n" % (key, arr.shape[0], arr.shape[1]))
            for r in arr:
                f.write(" ".join(fmt(v) for v in r) + "\n")


def save(name, mp):
    onnx.checker.check_model(mp, full_check=True)
    onnx.save(mp, os.path.join(OUT, name + ".onnx"))


def as_float32(t):
    return t.detach().to(torch.float32).numpy()


def fixture(name, model, x, opset=17, rewrite=None, train=None, **kw):
    """Exports model (kw go to torch.onnx.export), applies rewrite (a
    function of the ModelProto), and writes NAME.onnx and NAME.txt; train
    is None, ("mse", lr, target) or ("ce", lr, labels)."""
    model.eval()
    with torch.no_grad():
        y = model(x)
    mp = export(model, x, opset, **kw)
    if rewrite:
        mp = rewrite(mp)
    save(name, mp)
    sections = [("input", as_float32(x).reshape(x.shape[0], -1)),
                ("output", as_float32(y))]
    if train:
        kind, lr, t = train
        m2 = copy.deepcopy(model)
        m2.train()
        opt = torch.optim.SGD(m2.parameters(), lr=lr)
        opt.zero_grad()
        if kind == "mse":
            loss = nn.MSELoss()(m2(x), t)
            sections.append(("target", as_float32(t)))
        else:
            assert isinstance(m2[-1], nn.Softmax)
            loss = nn.CrossEntropyLoss()(m2[:-1](x), t)
            sections.append(("labels", t.numpy().reshape(-1, 1)))
        loss.backward()
        opt.step()
        m2.eval()
        with torch.no_grad():
            y2 = m2(x)
        sections.append(("lr", np.array([[lr]])))
        sections.append(("output_after_step", as_float32(y2)))
    write_txt(name, sections)
    return mp


def bad(name, mp, message, check=True):
    if check:
        onnx.checker.check_model(mp, full_check=True)
    onnx.save(mp, os.path.join(OUT, "bad-" + name + ".onnx"))
    with open(os.path.join(OUT, "bad-" + name + ".txt"), "w") as f:
        f.write("message\n%s\n" % message)


# ---- rewrites into the other forms PyTorch's graphs take ----

def init_map(g):
    return {t.name: t for t in g.initializer}


def replace_init(g, name, array):
    for i, t in enumerate(g.initializer):
        if t.name == name:
            g.initializer[i].CopyFrom(numpy_helper.from_array(
                np.ascontiguousarray(array, dtype=np.float32), name))
            return
    raise KeyError(name)


def gemm_to_matmul_add(mp):
    """Each Gemm(x, W, b, transB=1) becomes MatMul(x, Wt) and Add(., b),
    the graph torch.onnx.export writes for Linear on inputs of rank 3."""
    g = mp.graph
    inits = init_map(g)
    nodes = []
    for n in g.node:
        if n.op_type != "Gemm":
            nodes.append(n)
            continue
        w = numpy_helper.to_array(inits[n.input[1]])
        wt_name = n.input[1] + ".t"
        g.initializer.append(numpy_helper.from_array(
            np.ascontiguousarray(w.T), wt_name))
        mm_out = n.output[0] + ".mm"
        nodes.append(helper.make_node("MatMul", [n.input[0], wt_name],
                                      [mm_out], name=n.name + ".matmul"))
        nodes.append(helper.make_node("Add", [mm_out, n.input[2]],
                                      list(n.output), name=n.name + ".add"))
    del g.node[:]
    g.node.extend(nodes)
    unused = {t.name for t in g.initializer} - {i for n in g.node
                                                for i in n.input}
    keep = [t for t in g.initializer if t.name not in unused]
    del g.initializer[:]
    g.initializer.extend(keep)
    return mp


def gemm_untransposed(mp, alpha=2.0, beta=0.5):
    """Each Gemm(transB=1) becomes Gemm(transB=0) of the transposed
    weights, with alpha and beta that powers of two keep exact."""
    g = mp.graph
    inits = init_map(g)
    for n in g.node:
        if n.op_type != "Gemm":
            continue
        w = numpy_helper.to_array(inits[n.input[1]])
        b = numpy_helper.to_array(inits[n.input[2]])
        replace_init(g, n.input[1], w.T / alpha)
        replace_init(g, n.input[2], b / beta)
        del n.attribute[:]
        n.attribute.extend([helper.make_attribute("alpha", alpha),
                            helper.make_attribute("beta", beta),
                            helper.make_attribute("transB", 0)])
    return mp


def float_lists(mp):
    """Initializers as float_data lists instead of raw_data."""
    g = mp.graph
    for i, t in enumerate(list(g.initializer)):
        a = numpy_helper.to_array(t)
        g.initializer[i].CopyFrom(helper.make_tensor(
            t.name, TensorProto.FLOAT, list(a.shape),
            a.astype(np.float32).flatten().tolist(), raw=False))
    return mp


def with_dropout_node(mp, ratio=0.25):
    """A Dropout node (ratio as an input, training_mode absent: the
    inference form) after the first node."""
    g = mp.graph
    first = g.node[0]
    old = first.output[0]
    first.output[0] = old + ".pre"
    g.initializer.append(numpy_helper.from_array(
        np.array(ratio, dtype=np.float32), "ratio"))
    drop = helper.make_node("Dropout", [old + ".pre", "ratio"], [old],
                            name="dropout")
    g.node.insert(1, drop)
    return mp


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)

    # Linear + ReLU + Softmax: Gemm (transB 1), raw data; fine-tuned with
    # cross-entropy on labels.
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3),
                      nn.Softmax(dim=1))
    randomize(m, gen)
    x = rows(gen, 16, (4,))
    labels = torch.randint(0, 3, (16,), generator=gen)
    fixture("relu-softmax", m, x, 17, train=("ce", 0.1, labels))

    # Tanh and Sigmoid at opset 14, and its rewrites: MatMul + Add, Gemm
    # with transB 0 and alpha/beta, initializers as float lists, and a
    # Dropout node. Fine-tuned with MSE.
    m = nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 6),
                      nn.Sigmoid(), nn.Linear(6, 2))
    randomize(m, gen)
    x = rows(gen, 12, (5,))
    t = rows(gen, 12, (2,), 1.0)
    fixture("tanh-sigmoid", m, x, 14, train=("mse", 0.05, t))
    fixture("tanh-sigmoid-matmul-add", m, x, 14, gemm_to_matmul_add,
            train=("mse", 0.05, t))
    fixture("tanh-sigmoid-gemm-notrans", m, x, 14, gemm_untransposed)
    fixture("tanh-sigmoid-float-data", m, x, 14, float_lists)
    fixture("tanh-sigmoid-dropout-node", m, x, 14, with_dropout_node)
    fixture("tanh-sigmoid-opset9", m, x, 9)
    fixture("tanh-sigmoid-initializers-as-inputs", m, x, 11,
            keep_initializers_as_inputs=True)

    # Every other activation: GELU (Erf form), SiLU (Sigmoid, Mul),
    # Softplus, ELU, LeakyReLU.
    m = nn.Sequential(nn.Linear(3, 6), nn.GELU(), nn.Linear(6, 6), nn.SiLU(),
                      nn.Linear(6, 6), nn.Softplus(), nn.Linear(6, 6),
                      nn.ELU(alpha=0.7), nn.Linear(6, 5),
                      nn.LeakyReLU(0.2), nn.Linear(5, 2))
    randomize(m, gen)
    x = rows(gen, 16, (3,), 3.0)
    fixture("activations", m, x, 17)

    # Batch normalization with running statistics, opset 17 and 11.
    m = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6, eps=1e-3,
                                                      momentum=0.2),
                      nn.ReLU(), nn.Linear(6, 3))
    randomize(m, gen)
    x = rows(gen, 10, (4,))
    fixture("batchnorm", m, x, 17)
    fixture("batchnorm-opset11", m, x, 11)

    # Batch normalization straight on the input, then an activation
    # layer of its own.
    m = nn.Sequential(nn.BatchNorm1d(5), nn.Tanh(), nn.Linear(5, 2))
    randomize(m, gen)
    x = rows(gen, 8, (5,))
    fixture("batchnorm-first", m, x, 17)

    # Layer normalization: LayerNormalization (opset 17) and the
    # ReduceMean form (opset 14, torch.onnx.export's default).
    m = nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6, eps=1e-4), nn.Tanh(),
                      nn.Linear(6, 2))
    randomize(m, gen)
    x = rows(gen, 10, (4,))
    fixture("layernorm", m, x, 17)
    fixture("layernorm-opset14", m, x, 14, train=None)

    # Dropout, Flatten, Identity: eval mode leaves Flatten only.
    m = nn.Sequential(nn.Flatten(), nn.Linear(4, 5), nn.Dropout(0.3),
                      nn.Identity(), nn.ReLU(), nn.Linear(5, 2))
    randomize(m, gen)
    x = rows(gen, 6, (4,))
    fixture("dropout-flatten-identity", m, x, 17)

    # Images: an input of rank 4 flattened first.
    m = nn.Sequential(nn.Flatten(), nn.Linear(6, 4), nn.ReLU(),
                      nn.Linear(4, 2))
    randomize(m, gen)
    x = rows(gen, 5, (1, 2, 3))
    fixture("flatten-image", m, x, 17)

    # A Linear without bias: MatMul alone.
    m = nn.Sequential(nn.Linear(4, 3, bias=False), nn.Sigmoid())
    randomize(m, gen)
    x = rows(gen, 6, (4,))
    fixture("no-bias", m, x, 17)

    # Default initialization: equal initializers shared through Identity
    # nodes (torch.onnx.export deduplicates them).
    m = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.LayerNorm(4),
                      nn.Linear(4, 2))
    x = rows(gen, 6, (4,))
    fixture("shared-initializers", m, x, 17)

    # ---- graphs libnn refuses ----
    x = rows(gen, 2, (1, 4, 4))
    conv = nn.Sequential(nn.Conv1d(1, 2, 3), nn.Flatten(), nn.Linear(4, 2))
    bad("conv", export(conv, rows(gen, 2, (1, 4)), 17),
        "(Conv): libnn does not import this operator")
    ls = nn.Sequential(nn.Linear(4, 3), nn.LogSoftmax(dim=1))
    bad("logsoftmax", export(ls, rows(gen, 2, (4,)), 17),
        "(LogSoftmax): libnn does not import this operator")

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, v):
            return v + self.lin(v)
    bad("residual", export(Residual(), rows(gen, 2, (4,)), 17),
        "this one adds two computed values")
    gt = nn.Sequential(nn.Linear(3, 4), nn.GELU(approximate="tanh"))
    bad("gelu-tanh", export(gt, rows(gen, 2, (3,)), 17), "(Mul)")

    # Training-mode dropout: the graph drops units when run.
    mp = export(nn.Sequential(nn.Linear(3, 2)), rows(gen, 2, (3,)), 17)
    g = mp.graph
    g.node[0].output[0] = "pre"
    g.initializer.append(numpy_helper.from_array(
        np.array(0.5, dtype=np.float32), "ratio"))
    g.initializer.append(numpy_helper.from_array(np.array(True), "training"))
    g.node.append(helper.make_node("Dropout", ["pre", "ratio", "training"],
                                   ["output"], name="drop"))
    bad("dropout-training", mp, "training_mode is not the constant false")

    # Shapes that do not chain: a Gemm of 5 inputs after a layer of 4.
    w1 = numpy_helper.from_array(np.ones((4, 3), np.float32), "w1")
    w2 = numpy_helper.from_array(np.ones((2, 5), np.float32), "w2")
    nodes = [helper.make_node("Gemm", ["input", "w1"], ["h"], name="g1",
                              transB=1),
             helper.make_node("Gemm", ["h", "w2"], ["output"], name="g2",
                              transB=1)]
    graph = helper.make_graph(
        nodes, "bad", [helper.make_tensor_value_info(
            "input", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT,
                                       ["batch", 2])], [w1, w2])
    bad("shapes", helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)]),
        "the shapes do not chain: this dense layer takes rows of 5, the "
        "layer before gives 4", check=False)

    # Two outputs.
    graph = helper.make_graph(
        [helper.make_node("Relu", ["input"], ["a"], name="r1"),
         helper.make_node("Sigmoid", ["input"], ["b"], name="r2")], "bad",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                       ["batch", 3])],
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["batch", 3]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT,
                                       ["batch", 3])])
    bad("two-outputs", helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)]),
        "the graph has 2 outputs")

    # An input of doubles.
    graph = helper.make_graph(
        [helper.make_node("Relu", ["input"], ["output"], name="r")], "bad",
        [helper.make_tensor_value_info("input", TensorProto.DOUBLE,
                                       ["batch", 3])],
        [helper.make_tensor_value_info("output", TensorProto.DOUBLE,
                                       ["batch", 3])])
    bad("double-input", helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)]),
        "is not of type float")

    # Weights in an external file.
    mp = export(nn.Sequential(nn.Linear(3, 2)), rows(gen, 2, (3,)), 17)
    t = mp.graph.initializer[0]
    t.data_location = TensorProto.EXTERNAL
    t.ClearField("raw_data")
    e = t.external_data.add()
    e.key, e.value = "location", "weights.bin"
    bad("external-data", mp, "keeps its data in an external file",
        check=False)

    # A branch off the chain.
    graph = helper.make_graph(
        [helper.make_node("Relu", ["input"], ["output"], name="r1"),
         helper.make_node("Sigmoid", ["input"], ["side"], name="side")],
        "bad", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                              ["batch", 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT,
                                       ["batch", 3])])
    bad("branch", helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)]),
        "node 1 'side' (Sigmoid): the node is not on the path from the "
        "input to the output")

    # Layer normalization without its scale and shift
    # (elementwise_affine=False): at opset 14 the graph ends the layer at
    # its Div. Last, so that the generator's draws above stay as they were.
    m = nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6, eps=1e-3,
                                                    elementwise_affine=False),
                      nn.Tanh(), nn.Linear(6, 2))
    randomize(m, gen)
    x = rows(gen, 10, (4,))
    fixture("layernorm-bare-opset14", m, x, 14)
    # The same layer alone on an input declared 2^30 wide: no constant
    # of the file bounds its width.
    mp = export(nn.Sequential(nn.LayerNorm(6, elementwise_affine=False)),
                rows(gen, 2, (6,)), 14)
    for v in (mp.graph.input[0], mp.graph.output[0]):
        v.type.tensor_type.shape.dim[1].dim_value = 1 << 30
    bad("layernorm-bare-wide", mp, "layer normalization of rows of "
        "1073741824 without scale and shift is wider than a file of")


if __name__ == "__main__":
    main()
