#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# plot.sh - the benchmark pictures, from the CSV files that bench_train and
# bench_torch.py write (gnuplot):
#
#   OUT/throughput.png  samples/s against batch size (log-log), one panel
#                       per net: libnn and its ceiling (the same cblas_sgemm
#                       calls alone) at 1 and 2 BLAS threads, PyTorch at 1
#                       and 2 threads when a bench_torch.py file is given,
#                       and FANN (the faster of its per-sample and batch
#                       training, 1 thread); one legend, below the panels,
#                       with one entry per series drawn in any of them
#   OUT/compare.png     side by side, per net at its largest batch, at one
#                       thread: libnn, the sgemm ceiling, PyTorch and FANN,
#                       samples/s on a log scale, each bar labelled
#
# Each picture is stamped with where its numbers come from: per CSV file,
# the commit, the date, the machine, the BLAS and the load average its
# header records. bench_train's naive-loop and small-net rows are in its
# tables, not here.
#
#   bench/plot.sh [-o OUT] [--commit C] TRAIN.csv [TORCH.csv]
#
#   -o OUT       where the PNGs go (default: the first CSV's directory)
#   --commit C   the commit of a CSV whose header has no "# commit:" line
#                (files written before bench_train recorded it)
#
# Needs gnuplot (Debian: apt-get install gnuplot-nox).
set -euo pipefail

out= commit=
csvs=()
while [ $# -gt 0 ]; do
    case $1 in
        -o) out=$2; shift 2 ;;
        --commit) commit=$2; shift 2 ;;
        -h | --help) sed -n '4,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "plot.sh: unknown option $1" >&2; exit 2 ;;
        *) csvs+=("$1"); shift ;;
    esac
done
[ ${#csvs[@]} -ge 1 ] || {
    echo "usage: bench/plot.sh [-o OUT] [--commit C] TRAIN.csv [TORCH.csv]" >&2
    exit 2
}
command -v gnuplot >/dev/null 2>&1 || {
    echo "plot.sh: gnuplot not found (Debian: apt-get install gnuplot-nox)" >&2
    exit 1
}
for f in "${csvs[@]}"; do
    [ -r "$f" ] || { echo "plot.sh: cannot read $f" >&2; exit 1; }
done
out=${out:-$(dirname "${csvs[0]}")}
mkdir -p "$out"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The stamp: one line per CSV from its header.
for f in "${csvs[@]}"; do
    awk -v commit="$commit" -v file="$(basename "$f")" '
        /^# commit: / { c = substr($0, 11) }
        /^# date: / { d = substr($0, 9) }
        /^# cpu: / { cpu = substr($0, 8) }
        /^# blas: / { b = substr($0, 9); sub(/ NO_LAPACKE.*MAX_THREADS=[0-9]+/, "", b) }
        /^# load average at start: / { split(substr($0, 26), l, " "); load = l[1] }
        NR == 1 { prog = substr($0, 3) }
        !/^#/ { exit }
        END {
            # libnn built at a commit; PyTorch is Debian'"'"'s package.
            if (prog ~ /libnn/) {
                if (c == "") c = (commit != "" ? commit : "unknown")
                c = "libnn at commit " c "; "
            } else {
                c = ""
            }
            printf "%s: %s; %s%s; %s; BLAS %s; load average %s\n",
                   file, prog, c, d, cpu, b, load
        }' "$f"
done > "$tmp/stamp"

# Series: "net batch samples_per_s" per file $tmp/<series>.dat, and the
# nets in order of appearance.
awk -F, -v dir="$tmp" '
    /^#/ || $1 == "net" || $1 ~ /^sweep / || NF < 9 || $9 == "" { next }
    {
        net = $1; n = $2; t = $3; impl = $4; v = $9 + 0
        key = ""
        if (impl == "libnn") key = "libnn_" t
        else if (impl ~ /^ceiling/) key = "ceiling_" t
        else if (impl ~ /^PyTorch/) { key = "torch_" t; torch = impl }
        else if (impl ~ /^FANN/ && t == 1) {
            k = net SUBSEP n
            if (!(k in fann) || v > fann[k]) fann[k] = v
            if (!(net in seen)) { seen[net] = ++nets; order[nets] = net }
            next
        }
        if (key == "") next
        if (!(net in seen)) { seen[net] = ++nets; order[nets] = net }
        print net, n, v > (dir "/" key ".dat")
    }
    END {
        for (k in fann) {
            split(k, p, SUBSEP)
            print p[1], p[2], fann[k] > (dir "/fann_1.dat")
        }
        for (i = 1; i <= nets; i++) print order[i] > (dir "/nets")
        if (torch != "") print torch > (dir "/torch_name")
    }' "${csvs[@]}"
[ -s "$tmp/nets" ] || { echo "plot.sh: no timings in ${csvs[*]}" >&2; exit 1; }
torch=$(cat "$tmp/torch_name" 2>/dev/null || echo PyTorch)

# key|title|style, in the legend's order
series=(
    "libnn_1|libnn, 1 thread|lc rgb '#0060ad' lw 2 pt 7 ps 1.2"
    "libnn_2|libnn, 2 threads|lc rgb '#0060ad' lw 2 dt 2 pt 5 ps 1.2"
    "ceiling_1|sgemm ceiling, 1 thread|lc rgb '#555555' lw 1.5 pt 6 ps 1.4"
    "ceiling_2|sgemm ceiling, 2 threads|lc rgb '#555555' lw 1.5 dt 2 pt 4 ps 1.4"
    "torch_1|$torch, 1 thread|lc rgb '#e8590c' lw 2 pt 9 ps 1.2"
    "torch_2|$torch, 2 threads|lc rgb '#e8590c' lw 2 dt 2 pt 11 ps 1.2"
    "fann_1|FANN 2.2 (its faster mode), 1 thread|lc rgb '#2e8b57' lw 2 pt 13 ps 1.2"
)
for s in "${series[@]}"; do
    key=${s%%|*}
    [ -s "$tmp/$key.dat" ] && sort -k1,1 -k2,2n -o "$tmp/$key.dat" "$tmp/$key.dat"
done

stamp_lines=$(wc -l < "$tmp/stamp")
stamp_gp() { # gnuplot labels for the stamp, at the bottom of the canvas
    local i=0 line
    while IFS= read -r line; do
        i=$((i + 1))
        line=${line//\'/}
        echo "set label $((100 + i)) '$line' at screen 0.01, screen $(awk -v i="$i" -v n="$stamp_lines" -v h="$1" 'BEGIN { printf "%.4f", (n - i + 0.6) * 16 / h }') font ',8' tc rgb '#555555' noenhanced"
    done < "$tmp/stamp"
}

# ---- throughput.png ----
nets=$(wc -l < "$tmp/nets")
cols=3
rows=$(( (nets + 1 + cols - 1) / cols ))   # one cell more for the legend
width=$((cols * 520))
height=$((rows * 400 + 100 + stamp_lines * 16))
{
    echo "set terminal pngcairo size $width,$height font ',10'"
    echo "set output '$out/throughput.png'"
    echo "set termoption noenhanced"
    echo "set datafile separator ' '"
    bottom=$(awk -v h="$height" -v n="$stamp_lines" 'BEGIN { printf "%.4f", (n * 16 + 50) / h }')
    echo "set multiplot layout $rows,$cols title 'Training throughput: samples/s against batch size (log-log; higher is better)' margins 0.06, 0.98, $bottom, 0.93 spacing 0.07, 0.1"
    stamp_gp "$height"
    echo "set logscale xy"
    echo "set xlabel 'batch size'"
    echo "set ylabel 'samples/s'"
    echo "set format y '10^{%T}'"
    echo "set termoption enhanced"
    echo "set grid xtics ytics mxtics mytics lc rgb '#dddddd'"
    echo "set key off"
    while read -r net; do
        echo "set title '$net' noenhanced"
        # x: the net's batches, from half the smallest to twice the largest.
        cat "$tmp"/*_[12].dat | awk -v net="$net" '
            $1 == net { if (lo == "" || $2 < lo) lo = $2; if ($2 > hi) hi = $2 }
            END { printf "set xrange [%g:%g]; set yrange [*:*]\n", lo / 2, hi * 2 }'
        # x tics: the batch sizes measured.
        cat "$tmp"/*_[12].dat | awk -v net="$net" '$1 == net { print $2 }' |
            sort -nu | paste -sd, | sed 's/^/set xtics (/; s/$/)/'
        echo "set offsets 0, 0, graph 0.08, graph 0.08"
        plot=""
        for s in "${series[@]}"; do
            IFS='|' read -r key title style <<<"$s"
            f=$tmp/$key.dat
            [ -s "$f" ] || continue
            grep -q "^$net " "$f" || continue
            plot+="${plot:+, }'< grep \"^$net \" $f' using 2:3 with linespoints $style notitle"
        done
        echo "plot $plot"
    done < "$tmp/nets"
    # The legend: its own cell, one entry per series drawn above.
    echo "unset title; unset xlabel; unset ylabel; unset grid; unset logscale"
    echo "unset border; unset xtics; unset ytics; unset label"
    echo "set xrange [0:1]; set yrange [0:1]; set offsets 0, 0, 0, 0"
    echo "set key center center vertical Left reverse samplen 3 spacing 1.4 font ',11' noenhanced"
    plot=""
    for s in "${series[@]}"; do
        IFS='|' read -r key title style <<<"$s"
        [ -s "$tmp/$key.dat" ] || continue
        plot+="${plot:+, }NaN with linespoints $style title '$title'"
    done
    echo "plot $plot"
    echo "unset multiplot"
} > "$tmp/throughput.gp"
gnuplot "$tmp/throughput.gp"
echo "plot.sh: wrote $out/throughput.png"

# ---- compare.png ----
# Per net, its largest batch at which libnn was measured at 1 thread.
awk '{ if ($2 + 0 > max[$1]) max[$1] = $2 + 0 } END { for (n in max) print n, max[n] }' \
    "$tmp/libnn_1.dat" > "$tmp/largest"
i=0
: > "$tmp/bars"
while read -r net; do
    n=$(awk -v net="$net" '$1 == net { print $2 }' "$tmp/largest")
    [ -n "$n" ] || continue
    i=$((i + 1))
    k=0
    for key in libnn_1 ceiling_1 torch_1 fann_1; do
        k=$((k + 1))
        v=$(awk -v net="$net" -v n="$n" '$1 == net && $2 == n { print $3 }' \
                "$tmp/$key.dat" 2>/dev/null || true)
        [ -n "$v" ] && awk -v i="$i" -v k="$k" -v v="$v" 'BEGIN {
            if (v >= 1e6) l = sprintf("%.3g M", v / 1e6)
            else if (v >= 1e3) l = sprintf("%.3g k", v / 1e3)
            else l = sprintf("%.3g", v)
            print i, k, v, "\"" l "\"" }' >> "$tmp/bars"
    done
    echo "$i $net (batch $n)" >> "$tmp/groups"
done < "$tmp/nets"
groups=$(wc -l < "$tmp/groups")
height=$((560 + stamp_lines * 16))
{
    echo "set terminal pngcairo size $((groups * 230 + 200)),$height font ',10'"
    echo "set output '$out/compare.png'"
    echo "set termoption noenhanced"
    bottom=$(awk -v h="$height" -v n="$stamp_lines" 'BEGIN { printf "%.4f", (n * 16 + 60) / h }')
    echo "set bmargin at screen $bottom"
    echo "set title 'Training throughput at 1 thread, each net at its largest batch: samples/s (log scale; higher is better)'"
    stamp_gp "$height"
    echo "set logscale y"
    echo "set format y '10^{%T}'"
    echo "set termoption enhanced"
    echo "set ylabel 'samples/s'"
    echo "set grid ytics lc rgb '#dddddd'"
    echo "set style fill solid 0.85 border -1"
    echo "set boxwidth 0.19"
    echo "set xrange [0.4:$groups.6]"
    ymin=$(awk 'NR == 1 || $3 < m { m = $3 } END { printf "%g", m / 4 }' "$tmp/bars")
    ymax=$(awk 'NR == 1 || $3 > m { m = $3 } END { printf "%g", m * 8 }' "$tmp/bars")
    echo "set yrange [$ymin:$ymax]"
    printf "set xtics ("
    awk '{ i = $1; $1 = ""; sub(/^ /, ""); printf "%s\"%s\" %d", (NR > 1 ? ", " : ""), $0, i }' "$tmp/groups"
    echo ") scale 0 noenhanced"
    echo "set key top right noenhanced"
    plot=""
    k=0
    for key in libnn_1 ceiling_1 torch_1 fann_1; do
        k=$((k + 1))
        awk -v k="$k" '$2 == k' "$tmp/bars" > "$tmp/bars_$k"
        [ -s "$tmp/bars_$k" ] || continue
        for s in "${series[@]}"; do
            IFS='|' read -r skey title style <<<"$s"
            [ "$skey" = "$key" ] || continue
            color=$(sed -n "s/.*lc rgb '\([^']*\)'.*/\1/p" <<<"$style")
            [ "$key" = ceiling_1 ] && color='#aaaaaa'
            title=${title%, 1 thread}
            off=$(awk -v k="$k" 'BEGIN { printf "%.3f", (k - 2.5) * 0.2 }')
            plot+="${plot:+, }'$tmp/bars_$k' using (\$1 + $off):3 with boxes lc rgb '$color' title '$title'"
            plot+=", '$tmp/bars_$k' using (\$1 + $off):3:4 with labels rotate by 90 left offset 0, 0.5 font ',8' noenhanced notitle"
        done
    done
    echo "plot $plot"
} > "$tmp/compare.gp"
gnuplot "$tmp/compare.gp"
echo "plot.sh: wrote $out/compare.png"
