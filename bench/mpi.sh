#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The data-parallel step (docs/SCALING.md): for each net, R rounds of three
# runs of bench_mpi side by side, in turn, so that a slow spell of the
# shared machine hits all three alike:
#   P1T1  one process, one BLAS thread
#   P2T1  two processes (mpirun -np 2), one BLAS thread each
#   P1T2  one process, two BLAS threads
# Prints every run's lines, then the medians over the rounds and the
# ratios to P1T1.
#
#   bench/mpi.sh BUILD_DIR [ROUNDS] [NETS]     e.g. bench/mpi.sh build-bench 5 "mlp wide"
set -euo pipefail
build=$1 rounds=${2:-5} nets=${3:-"mlp wide"}
here=$(cd "$(dirname "$0")" && pwd)
run=(bash "$here/../tests/mpi/mpirun.sh" mpirun)
bench=$build/bench/bench_mpi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for net in $nets; do
    if [ "$net" = wide ]; then steps=2 blocks=3; else steps=10 blocks=5; fi
    args=(--net "$net" --steps "$steps" --blocks "$blocks")
    for r in $(seq "$rounds"); do
        for cfg in P1T1 P2T1 P1T2; do
            np=${cfg:1:1} threads=${cfg:3:1}
            echo "== $net round $r $cfg: mpirun -np $np bench_mpi ${args[*]} --threads $threads"
            "${run[@]}" "$np" "$bench" "${args[@]}" --threads "$threads" |
                tee "$tmp/$net.$cfg.$r"
        done
    done
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "medians over $rounds rounds (ms per step; samples/s; ms in the reductions and their share of the step)"
printf '%-5s %-5s %-8s %9s %11s %10s %7s %9s\n' net run mode ms/step samples/s ms_reduce share vs_P1T1
for net in $nets; do
    base=$(for r in $(seq "$rounds"); do awk '$1 == "single" { print $2 }' "$tmp/$net.P1T1.$r"; done | median)
    for cfg in P1T1 P2T1 P1T2; do
        for mode in single lib after overlap; do
            [ -n "$(awk -v m="$mode" '$1 == m' "$tmp/$net.$cfg.1")" ] || continue
            ms=$(for r in $(seq "$rounds"); do awk -v m="$mode" '$1 == m { print $2 }' "$tmp/$net.$cfg.$r"; done | median)
            red=$(for r in $(seq "$rounds"); do awk -v m="$mode" '$1 == m { print $4 }' "$tmp/$net.$cfg.$r"; done | median)
            awk -v net="$net" -v cfg="$cfg" -v mode="$mode" -v ms="$ms" -v red="$red" -v base="$base" \
                'BEGIN { printf "%-5s %-5s %-8s %9.2f %11.1f %10.2f %6.1f%% %8.2fx\n",
                         net, cfg, mode, ms, 256000 / ms, red, 100 * red / ms, base / ms }'
        done
    done
done
