#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mainjob.py - the Fashion-MNIST main job in libnn and in PyTorch (issue 21).

Runs README.md's Quick start training with the nn command at one thread,
and the same training in PyTorch at one thread, in alternating rounds
(libnn, PyTorch, libnn, PyTorch, ...), prints every round, the medians,
each round's ratio (median, range, rounds above 0.6), and whether issue
21's target 3 is met: libnn in at most 0.6 of PyTorch's time, with a
test accuracy within 1 point of PyTorch's.

    /usr/bin/python3 bench/mainjob.py --build build-rel [--rounds 3]
        [--epochs 10] [--data /usr/share/datasets/fashion-mnist]

Needs a build with the nn command (BUILD/cli/nn), Debian's python3-torch
and python3-numpy, and dataset-fashion-mnist. Exits 2 if one is missing,
else 0 (whether or not the target is met).

The two trainings:
  libnn    nn train TRAIN-IMAGES --targets TRAIN-LABELS --layers
           256:relu,128:relu,10:softmax --optimizer sgd --momentum 0.9
           --lr 0.05 --schedule cosine --batch-size 128 --epochs E
           --val-split 5000 --seed 1 --force -o MODEL --threads 1,
           then nn evaluate MODEL T10K-IMAGES --targets T10K-LABELS.
  PyTorch  the same 784-256-128-10 net (relu, relu, logits into
           cross_entropy, which is softmax and cross-entropy), the same
           5000 validation rows (nn's split, computed here the way
           cli/data.c draws it), the inputs standardised per pixel as nn
           train does (cli/train.c), SGD with momentum 0.9, lr 0.05
           annealed per step along a cosine to 0 over E * ceil(55000/128)
           steps (src/optim.c), batches of 128 (the last of each epoch
           88 rows) in a new random order each epoch, the validation
           loss and accuracy after each epoch, the model saved at the end.
  What differs: the initial weights (libnn: He-uniform for the relu
  layers, Glorot-uniform for the softmax layer, zero biases; PyTorch: its
  default, U(+-1/sqrt(fan_in)) for weights and biases) and the random
  generators, hence the batch order; libnn applies the standardisation
  as the model's first layer at every step, PyTorch once to the data.

Times, each a wall clock:
  libnn train    the nn train process from start to exit: reading and
                 decompressing the gz files, the split, the scaling
                 statistics, the training with its per-epoch validation,
                 saving the model.
  PyTorch train  the same work in the worker process, timed from after
                 `import torch` (the interpreter's start and the import,
                 about a second, are left out: in PyTorch's favour).
  fit            the training loop alone, with its per-epoch validation
                 (libnn: the elapsed time nn prints after the last epoch,
                 to 0.1 s; PyTorch: timed around its loop).
Both processes run with OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=
MKL_NUM_THREADS=1; the PyTorch worker also calls torch.set_num_threads(1)
and torch.set_num_interop_threads(1) before any work.
"""
import argparse
import gzip
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

LAYERS = "256:relu,128:relu,10:softmax"
LR = 0.05
MOMENTUM = 0.9
BATCH = 128
VAL_ROWS = 5000
SEED = 1
TARGET_RATIO = 0.6
TARGET_POINTS = 1.0
FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1"}
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail(msg):
    print("mainjob.py: " + msg, file=sys.stderr)
    sys.exit(2)


# ---- the data, as the nn command reads and splits it ----

def read_idx(path, np):
    """An IDX file of unsigned bytes (type 0x08), gzip-compressed, as a
    numpy array of its shape."""
    with gzip.open(path, "rb") as f:
        b = f.read()
    if len(b) < 4 or b[0] or b[1] or b[2] != 0x08:
        raise ValueError("%s: not an IDX file of unsigned bytes" % path)
    ndim = b[3]
    shape = tuple(int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big")
                  for i in range(ndim))
    return np.frombuffer(b, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def nn_split(rows, n, seed):
    """(validation rows, training rows), ascending, as cli_data_split
    draws them: a partial Fisher-Yates shuffle of n places driven by
    splitmix64 seeded with seed ^ 0x5eed5eed5eed5eed."""
    m64 = (1 << 64) - 1
    s = (seed ^ 0x5eed5eed5eed5eed) & m64
    perm = list(range(rows))
    for i in range(n):
        s = (s + 0x9e3779b97f4a7c15) & m64
        z = s
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & m64
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & m64
        z ^= z >> 31
        j = i + z % (rows - i)
        perm[i], perm[j] = perm[j], perm[i]
    return sorted(perm[:n]), sorted(perm[n:])


def nn_scaling(x, np):
    """Per-input scale and shift of nn train's default --scale standard
    (cli/train.c): the mean, then the population standard deviation about
    it, in double; a constant input only shifted; both rounded to float.
    (By blocks of rows: one double copy of the whole array costs more
    than the rest of the reading.)"""
    n = x.shape[0]
    mean = x.sum(axis=0, dtype=np.float64) / n
    ss = np.zeros(x.shape[1])
    for i in range(0, n, 4096):
        d = x[i:i + 4096] - mean
        ss += np.einsum("ij,ij->j", d, d)
    sd = np.sqrt(ss / n)
    s = np.where(sd > 0, 1.0 / np.where(sd > 0, sd, 1.0), 1.0)
    return s.astype(np.float32), (-mean * s).astype(np.float32)


# ---- the PyTorch worker (a process of its own per round) ----

def worker(args):
    t_start = time.perf_counter()
    import numpy as np
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    t_import = time.perf_counter() - t_start
    d = args.data

    t0 = time.perf_counter()
    x = read_idx(os.path.join(d, FILES[0]), np)
    y = read_idx(os.path.join(d, FILES[1]), np)
    x = x.reshape(x.shape[0], -1)
    val, train = nn_split(x.shape[0], VAL_ROWS, SEED)
    scale, shift = nn_scaling(x[train], np)
    sc, sh = torch.from_numpy(scale), torch.from_numpy(shift)
    xt = torch.from_numpy(x[train].astype(np.float32)).mul_(sc).add_(sh)
    xv = torch.from_numpy(x[val].astype(np.float32)).mul_(sc).add_(sh)
    yt = torch.from_numpy(y[train].astype(np.int64))
    yv = torch.from_numpy(y[val].astype(np.int64))
    t_read = time.perf_counter() - t0

    torch.manual_seed(SEED)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    n = xt.shape[0]
    batches = (n + BATCH - 1) // BATCH
    t_max = float(args.epochs * batches)
    gen = torch.Generator().manual_seed(SEED)
    step = 0
    epochs = []
    t1 = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for b in range(batches):
            idx = perm[b * BATCH:(b + 1) * BATCH]
            xb = xt.index_select(0, idx)
            yb = yt.index_select(0, idx)
            # libnn's cosine: the rate of the step after `step` completed
            lr = LR * (1.0 + math.cos(math.pi * min(step, t_max) / t_max)) / 2
            for g in opt.param_groups:
                g["lr"] = lr
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            step += 1
            total += loss.item() * idx.shape[0]
        with torch.no_grad():
            out = model(xv)
            vloss = F.cross_entropy(out, yv).item()
            vacc = (out.argmax(1) == yv).double().mean().item()
        epochs.append((epoch, total / n, vloss, vacc))
    t_fit = time.perf_counter() - t1
    t2 = time.perf_counter()
    torch.save(model.state_dict(), args.out)
    t_save = time.perf_counter() - t2
    t_train = time.perf_counter() - t0

    # the test set, untimed, scaled with the training rows' statistics
    xs = read_idx(os.path.join(d, FILES[2]), np)
    ys = read_idx(os.path.join(d, FILES[3]), np)
    xs = torch.from_numpy(xs.reshape(xs.shape[0], -1).astype(np.float32))
    xs.mul_(sc).add_(sh)
    with torch.no_grad():
        acc = (model(xs).argmax(1) == torch.from_numpy(
            ys.astype(np.int64))).double().mean().item()

    blas = "unknown"
    with open("/proc/self/maps") as f:
        libs = sorted({os.path.basename(l.split()[-1]) for l in f
                       if "blas" in l.split()[-1].lower()})
    if libs:
        blas = ", ".join(libs)
    print(json.dumps({
        "import": t_import, "read": t_read, "fit": t_fit, "save": t_save,
        "train": t_train, "test_acc": 100.0 * acc, "epochs": epochs,
        "threads": torch.get_num_threads(),
        "interop": torch.get_num_interop_threads(),
        "torch": torch.__version__, "numpy": np.__version__, "blas": blas,
    }))


# ---- the rounds ----

def env_one_thread():
    env = dict(os.environ)
    env.update(ONE_THREAD)
    return env


def run_libnn(args, tmp):
    nn = os.path.join(args.build, "cli", "nn")
    d = args.data
    model = os.path.join(tmp, "fashion-mnist.nn")
    cmd = [nn, "train", os.path.join(d, FILES[0]),
           "--targets", os.path.join(d, FILES[1]),
           "--layers", LAYERS, "--optimizer", "sgd",
           "--momentum", str(MOMENTUM), "--lr", str(LR),
           "--schedule", "cosine", "--batch-size", str(BATCH),
           "--epochs", str(args.epochs), "--val-split", str(VAL_ROWS),
           "--seed", str(SEED), "--force", "-o", model, "--threads", "1"]
    env = env_one_thread()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        fail("nn train failed (%d): %s" % (p.returncode, p.stderr.strip()))
    last = [l for l in p.stdout.splitlines() if l.startswith("epoch ")][-1]
    m = re.search(r"loss ([0-9.]+)\s+val_loss ([0-9.]+)\s+val_acc\s+"
                  r"([0-9.]+)%.*\s([0-9.]+) s$", last)
    saved = re.search(r"^saved .* in ([0-9.]+) s$", p.stdout, re.M)
    p2 = subprocess.run([nn, "evaluate", model,
                         os.path.join(d, FILES[2]), "--targets",
                         os.path.join(d, FILES[3]), "--threads", "1"],
                        env=env, capture_output=True, text=True)
    if p2.returncode != 0:
        fail("nn evaluate failed (%d): %s" % (p2.returncode,
                                              p2.stderr.strip()))
    acc = re.search(r"^accuracy\s+([0-9.]+)%", p2.stdout, re.M)
    if not (m and saved and acc):
        fail("could not read nn's output:\n" + p.stdout + p2.stdout)
    return {"train": wall, "fit": float(m.group(4)),
            "nn_total": float(saved.group(1)), "loss": float(m.group(1)),
            "val_loss": float(m.group(2)), "val_acc": float(m.group(3)),
            "test_acc": float(acc.group(1))}


def run_torch(args, tmp):
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-worker",
           "--data", args.data, "--epochs", str(args.epochs),
           "--out", os.path.join(tmp, "fashion-mnist.pt")]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env_one_thread(), capture_output=True,
                       text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        fail("the PyTorch worker failed (%d): %s" % (p.returncode,
                                                     p.stderr.strip()))
    r = json.loads(p.stdout.strip().splitlines()[-1])
    r["process"] = wall
    return r


# ---- the report ----

def git_commit():
    try:
        c = subprocess.run(["git", "-C", REPO, "rev-parse", "--short",
                            "HEAD"], capture_output=True, text=True,
                           check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "diff", "--quiet",
                                "HEAD", "--", "src", "include", "cli",
                                "CMakeLists.txt"]).returncode != 0
        return c + (" (src/include/cli modified)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def nn_blas(nn):
    try:
        out = subprocess.run(["ldd", nn], capture_output=True,
                             text=True).stdout
    except OSError:
        return "unknown"
    libs = sorted({l.split()[0] for l in out.splitlines()
                   if "blas" in l.lower()})
    return ", ".join(libs) or "unknown"


def check(args):
    try:
        import numpy  # noqa: F401
        import torch  # noqa: F401
    except ImportError as e:
        fail("PyTorch and numpy are needed (Debian: python3-torch, "
             "python3-numpy): %s" % e)
    for f in FILES:
        if not os.path.isfile(os.path.join(args.data, f)):
            fail("no %s in %s (Debian: dataset-fashion-mnist, or --data "
                 "DIR)" % (f, args.data))
    nn = os.path.join(args.build, "cli", "nn")
    if not os.access(nn, os.X_OK):
        fail("no nn command at %s: build libnn (cmake --build %s) or give "
             "--build DIR" % (nn, args.build))
    if args.rounds < 1 or args.epochs < 1:
        fail("--rounds and --epochs must be at least 1")


def main():
    ap = argparse.ArgumentParser(
        description="Fashion-MNIST main job: libnn's nn command against "
        "PyTorch, one thread each (issue 21, target 3).")
    ap.add_argument("--build", help="build directory holding cli/nn")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--torch-worker", action="store_true",
                    help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker:
        worker(args)
        return 0
    if not args.build:
        fail("give the build directory: --build DIR (holding cli/nn)")
    check(args)
    import torch
    import numpy

    nn = os.path.join(args.build, "cli", "nn")
    print("# mainjob.py  %s  commit %s  cpu %s (%d online)  load average "
          "%s" % (time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                  git_commit(), cpu_model(), os.cpu_count() or 0,
                  " ".join("%.2f" % v for v in os.getloadavg())))
    print("# libnn: %s (%s); PyTorch %s, numpy %s; %d rounds of %d epochs; "
          "OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=MKL_NUM_THREADS=1"
          % (nn, nn_blas(nn), torch.__version__, numpy.__version__,
             args.rounds, args.epochs))
    sys.stdout.flush()

    lib, tor = [], []
    tmp = tempfile.mkdtemp(prefix="mainjob-")
    try:
        for r in range(1, args.rounds + 1):
            a = run_libnn(args, tmp)
            lib.append(a)
            print("round %d libnn    train %6.2f s  (fit %5.1f s, the rest "
                  "%.2f s; nn says %.1f s)  last epoch: loss %.4f val_loss "
                  "%.4f val_acc %.2f%%  test acc %.2f%%"
                  % (r, a["train"], a["fit"], a["train"] - a["fit"],
                     a["nn_total"], a["loss"], a["val_loss"], a["val_acc"],
                     a["test_acc"]))
            sys.stdout.flush()
            b = run_torch(args, tmp)
            tor.append(b)
            e = b["epochs"][-1]
            print("round %d PyTorch  train %6.2f s  (fit %5.2f s, read+prep "
                  "%.2f s, save %.3f s; process %.2f s with import %.2f s)"
                  "  last epoch: loss %.4f val_loss %.4f val_acc %.2f%%  "
                  "test acc %.2f%%" % (r, b["train"], b["fit"], b["read"],
                                       b["save"], b["process"], b["import"],
                                       e[1], e[2], 100.0 * e[3],
                                       b["test_acc"]))
            sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    b = tor[-1]
    print("# PyTorch worker: %d thread(s), %d interop thread(s), BLAS %s"
          % (b["threads"], b["interop"], b["blas"]))

    def med(rows, key):
        return statistics.median(x[key] for x in rows)

    lt, pt = med(lib, "train"), med(tor, "train")
    lf, pf = med(lib, "fit"), med(tor, "fit")
    la, pa = med(lib, "test_acc"), med(tor, "test_acc")
    print()
    print("medians of %d rounds     libnn    PyTorch   libnn/PyTorch"
          % args.rounds)
    print("train (read+fit+save)  %7.2f s  %7.2f s   %.3f" % (lt, pt, lt / pt))
    print("fit only               %7.2f s  %7.2f s   %.3f" % (lf, pf, lf / pf))
    print("test accuracy          %7.2f %%  %7.2f %%   %+.2f points"
          % (la, pa, la - pa))
    # each round's pair (libnn, then PyTorch, a few seconds apart): how
    # far the machine's drift moves the ratio from round to round
    ratios = sorted(x["train"] / y["train"] for x, y in zip(lib, tor))
    print("each round's train ratio: median %.3f, range %.3f-%.3f, above "
          "%.1f in %d of %d" % (statistics.median(ratios), ratios[0],
                               ratios[-1], TARGET_RATIO,
                               sum(r > TARGET_RATIO for r in ratios),
                               len(ratios)))
    met = lt / pt <= TARGET_RATIO and abs(la - pa) <= TARGET_POINTS
    print("issue 21 target 3 (<= %.1f of PyTorch's time, same accuracy "
          "within %g point): %s" % (TARGET_RATIO, TARGET_POINTS,
                                    "met" if met else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
