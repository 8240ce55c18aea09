#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The scaling model of docs/SCALING.md, from the figures measured by
bench/mpi.sh (bench/results/mpi-506c323.txt, mpi-batch-506c323.txt).

A step on P machines, each one process training b rows of the global batch
(b = 256: the global batch grows with P), then summing the gradients with a
ring all-reduce after the backward pass (what libnn_mpi does):

    T(P) = a + b c + 2 (P - 1) / P * 4 n / bw

a: the part of a step that does not shrink with rows (the optimizer's pass
over the n parameters, per-step overheads), c: compute per row, both from
one process with one BLAS thread; 4 n bytes of gradients; bw the link's
bandwidth in bytes/s; latency is left out (2 (P - 1) messages of a few
microseconds each, small against these transfers).

Overlapped with the backward pass (about 2/3 of b c: two of a dense layer's
three products), the all-reduce would be hidden while
2/3 b c >= 2 (P - 1) / P * 4 n / bw, that is for b >= b_hide.
"""
nets = {
    # name: (parameters, ms at batch 16, ms at batch 256)
    "784-1024-1024-10": (1863690, 10.08, 30.22),
    "4096-4096-4096": (33562624, 164.08, 650.25),
}
links = [10, 25, 100]  # Gb/s
ps = [1, 2, 4, 8, 16, 32, 64]
b = 256

for name, (n, t16, t256) in nets.items():
    c = (t256 - t16) / 240.0          # ms per row
    a = t16 - 16 * c                  # ms per step
    mb = 4 * n / 1e6
    print(f"\n{name}: {n} parameters, {mb:.2f} MB of gradients; "
          f"a = {a:.2f} ms, c = {c:.4f} ms/row, one machine at b = 256: "
          f"{a + b * c:.1f} ms, {1000 * b / (a + b * c):.0f} samples/s")
    print("| P | " + " | ".join(f"{g} Gb/s: ms/step, samples/s, efficiency"
                                for g in links) + " |")
    print("| --: |" + " --: |" * len(links))
    for p in ps:
        cells = []
        for g in links:
            bw = g * 1e9 / 8 / 1e3    # bytes per ms
            comm = 2 * (p - 1) / p * 4 * n / bw
            t = a + b * c + comm
            cells.append(f"{t:.1f}, {1000 * b * p / t:,.0f}, "
                         f"{(a + b * c) / t:.2f}")
        print(f"| {p} | " + " | ".join(cells) + " |")
    print("b_hide (rows per machine, P = 64): " + ", ".join(
        f"{g} Gb/s {2 * 63 / 64 * 4 * n / (g * 1e9 / 8 / 1e3) / (2 / 3 * c):.0f}"
        for g in links))
    print("all-reduce time at P = 64: " + ", ".join(
        f"{g} Gb/s {2 * 63 / 64 * 4 * n / (g * 1e9 / 8 / 1e3):.1f} ms"
        for g in links))
