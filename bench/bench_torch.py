#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench_torch.py - PyTorch on bench_train's nets, for bench/plot.sh.

One plain-SGD training step (zero_grad, forward, loss, backward, step) of
each net of bench/bench_nets.c at its batch sizes, at 1 and 2 threads,
timed as bench_train times libnn: the median of 7 blocks of at least 0.2 s
(5 single-step blocks for 4096-4096-4096), after warm-up steps. The rows
are bench_train's CSV columns, impl "PyTorch <version>", so plot.sh reads
both files together.

    /usr/bin/python3 bench/bench_torch.py --csv torch.csv [--quick]
        [--only NAME] [--threads 1,2]

Needs Debian's python3-torch. Each thread count runs in a process of its
own, started with OMP_NUM_THREADS and OPENBLAS_NUM_THREADS set, since the
BLAS reads its thread count when it loads.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

# name, widths, hidden activation, output, loss, batches (bench_nets.c)
NETS = [
    ("2-2-1", [2, 2, 1], "sigmoid", "sigmoid", "mse", [1, 32]),
    ("3-4-1", [3, 4, 1], "sigmoid", "sigmoid", "mse", [4]),
    ("784-256-128-10", [784, 256, 128, 10], "relu", "softmax", "ce",
     [1, 32, 128, 512]),
    ("784-1024-1024-10", [784, 1024, 1024, 10], "relu", "softmax", "ce",
     [256]),
    ("4096-4096-4096", [4096, 4096, 4096], "relu", "identity", "mse", [256]),
]
COLUMNS = ("net,batch,threads,impl,median_s,min_s,max_s,steps_per_s,"
           "samples_per_s,reps,iters,spread")


def header(torch):
    import platform
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    # The BLAS library this process loaded, as the mappings name it.
    torch.ones(64, 64) @ torch.ones(64, 64)
    blas = "unknown"
    try:
        with open("/proc/self/maps") as f:
            libs = {os.path.basename(l.split()[-1]) for l in f
                    if "blas" in os.path.basename(l.split()[-1]).lower()}
        blas = ", ".join(sorted(libs))
        for lib in libs:  # libopenblasp-r0.3.21.so: OpenBLAS 0.3.21
            m = re.match(r"libopenblas\w*-r([0-9.]+)\.so", lib)
            if m:
                blas = "OpenBLAS %s (%s)" % (m.group(1), blas)
    except OSError:
        pass
    with open("/proc/loadavg") as f:
        load = f.read().strip()
    return [
        "# bench_torch.py, PyTorch %s" % torch.__version__,
        "# date: %s" % time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "# cpu: %s, %d online" % (cpu, os.cpu_count() or 0),
        "# load average at start: %s" % load,
        "# blas: %s" % blas,
        "# environment: OMP_NUM_THREADS, OPENBLAS_NUM_THREADS = the threads "
        "column",
    ]


def measure(torch, name, widths, hidden, out, loss, n, threads, quick):
    nn = torch.nn
    torch.manual_seed(1)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        act = hidden if i < len(widths) - 2 else out
        if act == "relu":
            layers.append(nn.ReLU())
        elif act == "sigmoid":
            layers.append(nn.Sigmoid())
        # softmax is in CrossEntropyLoss; identity is nothing
    model = nn.Sequential(*layers)
    x = torch.rand(n, widths[0])
    if loss == "ce":
        t = torch.randint(0, widths[-1], (n,))
        lossf = nn.CrossEntropyLoss()
    else:
        t = torch.rand(n, widths[-1])
        lossf = nn.MSELoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad(set_to_none=True)
        lossf(model(x), t).backward()
        opt.step()

    big = widths[0] >= 4096
    for _ in range(1 if big else 5):
        step()
    reps = 3 if quick else (5 if big else 7)
    min_block = 0.05 if quick else 0.2
    iters = 1
    if not big:
        while True:  # steps per block: at least min_block seconds
            t0 = time.perf_counter()
            for _ in range(iters):
                step()
            if time.perf_counter() - t0 >= min_block:
                break
            iters *= 2
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(iters):
            step()
        times.append((time.perf_counter() - t0) / iters)
    med = statistics.median(times)
    return ("%s,%d,%d,PyTorch %s,%.8e,%.8e,%.8e,%.6g,%.6g,%d,%d,%.4f" % (
        name, n, threads, torch.__version__, med, min(times), max(times),
        1 / med, n / med, reps, iters * reps,
        (max(times) - min(times)) / med))


def child(args):
    import torch
    torch.set_num_threads(args.threads_one)
    rows = header(torch) if args.with_header else []
    if args.with_header:
        rows.append(COLUMNS)
    for name, widths, hidden, out, loss, batches in NETS:
        if args.only and args.only not in name:
            continue
        for n in batches:
            row = measure(torch, name, widths, hidden, out, loss, n,
                          args.threads_one, args.quick)
            print(row, file=sys.stderr)
            rows.append(row)
    print("\n".join(rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", help="write the rows there (and print them)")
    ap.add_argument("--quick", action="store_true",
                    help="0.05 s blocks, 3 repetitions")
    ap.add_argument("--only", help="nets whose name contains this")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--threads-one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--with-header", action="store_true",
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.threads_one:
        child(args)
        return
    out = []
    for i, t in enumerate(int(v) for v in args.threads.split(",")):
        env = dict(os.environ, OMP_NUM_THREADS=str(t),
                   OPENBLAS_NUM_THREADS=str(t))
        cmd = [sys.executable, os.path.abspath(__file__),
               "--threads-one", str(t)]
        cmd += ["--quick"] if args.quick else []
        cmd += ["--only", args.only] if args.only else []
        cmd += ["--with-header"] if i == 0 else []
        r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, check=True,
                           universal_newlines=True)
        out.append(r.stdout.rstrip("\n"))
    text = "\n".join(out) + "\n"
    if args.csv:
        with open(args.csv, "w") as f:
            f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
