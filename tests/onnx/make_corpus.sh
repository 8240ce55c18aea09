#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make_corpus.sh EXPORTS_DIR: refreshes the importer's seed corpus,
# tests/onnx/corpus, from the files libnn exports (the directory
# onnx_export_cases writes, BUILD/tests/onnx/exports) and the PyTorch
# fixtures, good and refused. Files the fuzzer found (crash-*, or any
# other name) are kept: ctest replays them all.
set -euo pipefail
exports=$1
here=$(cd "$(dirname "$0")" && pwd)
corpus=$here/corpus
mkdir -p "$corpus"
rm -f "$corpus"/seed-*.onnx
n=0
for f in "$exports"/*.onnx; do
    cp "$f" "$corpus/seed-export-$(basename "$f")"
    n=$((n + 1))
done
for f in "$here"/fixtures/*.onnx; do
    cp "$f" "$corpus/seed-torch-$(basename "$f")"
    n=$((n + 1))
done
echo "make_corpus: $n seeds in $corpus"
