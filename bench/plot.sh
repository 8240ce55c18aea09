#!/usr/bin/env bash
# plot.sh - turns bench_train's CSV into a PNG: one panel per net, samples/s
# against batch size on log-log axes, for libnn (1 and 2 BLAS threads), its
# ceiling (the sgemm calls alone), the naive loops, libnn with its small-net
# path switched off (small nets) and FANN (per sample and batch mode). The
# small-net sweep's rows are not plotted.
#
#   bench/plot.sh train.csv [out.png]
#
# Needs gnuplot (Debian: apt-get install gnuplot-nox).
set -euo pipefail

csv=${1:?usage: bench/plot.sh TRAIN.csv [OUT.png]}
out=${2:-${csv%.csv}.png}
command -v gnuplot >/dev/null 2>&1 || {
    echo "plot.sh: gnuplot not found (Debian: apt-get install gnuplot-nox)" >&2
    exit 1
}
[ -r "$csv" ] || { echo "plot.sh: cannot read $csv" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One data file per net and series: "batch samples_per_s" lines. Rows that
# are not timings (efficiency, allocations, parts of the breakdown) have no
# samples/s and are skipped.
awk -F, -v dir="$tmp" '
    /^#/ || $1 == "net" || $1 ~ /^sweep / || NF < 9 || $9 == "" { next }
    {
        impl = $4; key = ""
        if (impl == "libnn") key = "libnn_" $3 "t"
        else if (impl ~ /^ceiling/) key = "ceiling_" $3 "t"
        else if (impl ~ /^naive/) key = "naive"
        else if (impl ~ /general path/) key = "general"
        else if (impl ~ /fann_train/) key = "fann_sample"
        else if (impl ~ /batch epoch/) key = "fann_batch"
        if (key == "") next
        if (!($1 in seen)) { seen[$1] = 1; print $1 > (dir "/nets") }
        print $2, $9 > (dir "/" $1 "__" key ".dat")
    }' "$csv"
[ -s "$tmp/nets" ] || { echo "plot.sh: no timings in $csv" >&2; exit 1; }

# series key, title, line style
series=(
    "ceiling_1t|ceiling (sgemm only), 1 thread|lc rgb '#999999' dt 2 lw 2 pt 6"
    "ceiling_2t|ceiling, 2 threads|lc rgb '#bbbbbb' dt 3 lw 2 pt 6"
    "libnn_1t|libnn, 1 thread|lc rgb '#0060ad' lw 2 pt 7"
    "libnn_2t|libnn, 2 threads|lc rgb '#00a0ff' lw 2 pt 5"
    "naive|naive loops (nn__gemm_ref)|lc rgb '#dd181f' lw 2 pt 9"
    "general|libnn, small-net path off|lc rgb '#8b008b' lw 2 pt 11"
    "fann_sample|FANN fann_train (per sample)|lc rgb '#2e8b57' lw 2 pt 13"
    "fann_batch|FANN batch epoch|lc rgb '#e69f00' lw 2 pt 15"
)

nets=$(wc -l <"$tmp/nets")
cols=3
rows=$(( (nets + cols - 1) / cols ))
{
    echo "set terminal pngcairo size $((cols * 560)),$((rows * 430 + 40)) font ',10'"
    echo "set output '$out'"
    echo "set termoption noenhanced"
    echo "set datafile separator ' '"
    echo "set offsets 0, 0, graph 0.05, graph 0.05"
    echo "set multiplot layout $rows,$cols title 'libnn training throughput: samples/s against batch size (log-log)'"
    echo "set logscale xy"
    echo "set xrange [0.7:800]"
    echo "set xlabel 'batch size'"
    echo "set ylabel 'samples/s'"
    echo "set format y '%.0e'"
    echo "set grid"
    echo "set key top left font ',8'"
    while read -r net; do
        echo "set title '$net'"
        plot=""
        for s in "${series[@]}"; do
            IFS='|' read -r key title style <<<"$s"
            f="$tmp/${net}__${key}.dat"
            [ -s "$f" ] || continue
            sort -n -o "$f" "$f"
            plot+="${plot:+, }'$f' using 1:2 with linespoints $style title '$title'"
        done
        echo "plot $plot"
    done <"$tmp/nets"
    echo "unset multiplot"
} >"$tmp/plot.gp"
gnuplot "$tmp/plot.gp"
echo "plot.sh: wrote $out"
