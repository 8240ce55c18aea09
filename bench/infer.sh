#!/bin/bash
# SPDX-License-Identifier: MIT
# infer.sh BUILD [ROUNDS]: inference of libnn against ONNX Runtime, side by
# side. BUILD is a build tree with the benchmarks (-DNN_BUILD_BENCH=ON,
# Release); ROUNDS (default 5) rounds each run bench_infer (libnn from C)
# and then bench/infer/infer.js (ONNX Runtime and libnn's Node.js package,
# in alternating blocks), all at one thread, on the same nets: bench_infer
# exports them, as libnn model files and as ONNX files, once at the start.
# Prints every round's figures, then a table of the medians over the
# rounds, in microseconds per call, and each against ONNX Runtime's.
#
# Needs node and npm; installs bench/infer's packages (onnxruntime-node
# with its CPU runtime, koffi) from npm on the first run.
set -euo pipefail
build=${1:?usage: bench/infer.sh BUILD [ROUNDS]}
rounds=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" && pwd)
lib=$(ls "$build"/libnn.so | head -n 1)

if [ ! -d "$here/infer/node_modules/onnxruntime-node" ]; then
    # onnxruntime-node's install script only fetches GPU parts
    npm ci --prefix "$here/infer" --no-audit --no-fund --ignore-scripts >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/bench/bench_infer" --export "$work" --quick >/dev/null

for r in $(seq "$rounds"); do
    echo "# round $r"
    "$build/bench/bench_infer" | grep '^c '
    LIBNN_PATH="$lib" NODE_PATH="$here/infer/node_modules" \
        node "$here/infer/infer.js" "$work" 5
done | tee "$work/all.txt"

echo
echo "medians of $rounds rounds, microseconds per call, one thread:"
echo "| net | batch | ONNX Runtime (Node.js) | libnn (C) | libnn (Node.js) | C / ORT | Node.js / ORT |"
echo "| --- | --: | --: | --: | --: | --: | --: |"
awk '
    $1 == "c" || $1 == "ort" || $1 == "node" {
        k = $2 " " $3; v[$1, k, ++n[$1, k]] = $4; keys[k] = 1
    }
    function med(impl, k,    m, i, j, t, a) {
        m = n[impl, k]
        for (i = 1; i <= m; i++) a[i] = v[impl, k, i]
        for (i = 1; i <= m; i++)
            for (j = i + 1; j <= m; j++)
                if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    END {
        for (k in keys) {
            split(k, p, " ")
            o = med("ort", k); c = med("c", k); j = med("node", k)
            printf "| %s | %s | %.1f | %.1f | %.1f | %.2f | %.2f |\n", \
                p[1], p[2], o, c, j, c / o, j / o
        }
    }' "$work/all.txt" | sort -t'|' -k2,2 -k3,3n
