#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# plot-history.sh - loss and accuracy curves of a training run, from the
# per-epoch CSV that examples/fashion_mnist writes with --history FILE
# (columns epoch,train_loss,val_loss,val_accuracy,seconds), with gnuplot:
# training and validation loss against the epoch on the left, validation
# accuracy on the right, and a stamp at the bottom.
#
#   bench/plot-history.sh HISTORY.csv [OUT.png] [--stamp TEXT]
#
# The stamp says where the numbers come from (the commit, the date, the
# machine, the BLAS, the command); without --stamp it names the file and
# its date. Lines starting with '#' in the CSV are ignored.
#
# Needs gnuplot (Debian: apt-get install gnuplot-nox).
set -euo pipefail

csv= out= stamp=
while [ $# -gt 0 ]; do
    case $1 in
        --stamp) stamp=$2; shift 2 ;;
        -h | --help) sed -n '4,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "plot-history.sh: unknown option $1" >&2; exit 2 ;;
        *) if [ -z "$csv" ]; then csv=$1; else out=$1; fi; shift ;;
    esac
done
[ -n "$csv" ] || {
    echo "usage: bench/plot-history.sh HISTORY.csv [OUT.png] [--stamp TEXT]" >&2
    exit 2
}
out=${out:-${csv%.csv}.png}
command -v gnuplot >/dev/null 2>&1 || {
    echo "plot-history.sh: gnuplot not found (Debian: apt-get install gnuplot-nox)" >&2
    exit 1
}
[ -r "$csv" ] || { echo "plot-history.sh: cannot read $csv" >&2; exit 1; }
header=$(grep -v '^#' "$csv" | head -n 1)
[ "$header" = "epoch,train_loss,val_loss,val_accuracy,seconds" ] || {
    echo "plot-history.sh: $csv does not start with fashion_mnist's header" \
         "(epoch,train_loss,val_loss,val_accuracy,seconds)" >&2
    exit 1
}
rows=$(grep -v '^#' "$csv" | tail -n +2 | grep -c . || true)
[ "$rows" -ge 1 ] || { echo "plot-history.sh: no epochs in $csv" >&2; exit 1; }
stamp=${stamp:-"$(basename "$csv"), $(date -u -r "$csv" '+%Y-%m-%d %H:%M UTC')"}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grep -v '^#' "$csv" | tail -n +2 | tr ',' ' ' > "$tmp/h.dat"
best=$(sort -k4,4gr "$tmp/h.dat" | head -n 1)
last=$(tail -n 1 "$tmp/h.dat")
stamp=${stamp//\'/}

{
    echo "set terminal pngcairo size 1200,500 font ',10'"
    echo "set output '$out'"
    echo "set termoption noenhanced"
    echo "set multiplot layout 1,2 title 'Training history: $(basename "$csv")' margins 0.07, 0.98, 0.17, 0.88 spacing 0.08, 0"
    echo "set label 100 '$stamp' at screen 0.01, screen 0.02 font ',8' tc rgb '#555555'"
    echo "set grid lc rgb '#dddddd'"
    echo "set xlabel 'epoch'"
    echo "set xrange [0.5:$rows.5]"
    echo "set xtics 1"
    echo "set title 'loss (cross-entropy)'"
    echo "set ylabel 'loss'"
    echo "set key top right"
    echo "plot '$tmp/h.dat' using 1:2 with linespoints lc rgb '#0060ad' lw 2 pt 7 title 'training (mean over the epoch)', \\"
    echo "     '$tmp/h.dat' using 1:3 with linespoints lc rgb '#e8590c' lw 2 pt 5 title 'validation (after the epoch)'"
    echo "unset label 100"
    echo "set title 'validation accuracy'"
    echo "set ylabel 'accuracy (%)'"
    echo "set key bottom right"
    read -r be _ _ ba _ <<< "$best"
    read -r le _ _ la _ <<< "$last"
    echo "set label 1 sprintf('best %.2f%% (epoch %d); last %.2f%%', $ba * 100, $be, $la * 100) at graph 0.03, graph 0.93"
    echo "plot '$tmp/h.dat' using 1:(\$4 * 100) with linespoints lc rgb '#2e8b57' lw 2 pt 9 title 'validation accuracy'"
    echo "unset multiplot"
} > "$tmp/h.gp"
gnuplot "$tmp/h.gp"
echo "plot-history.sh: wrote $out"
