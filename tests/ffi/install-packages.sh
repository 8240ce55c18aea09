#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs libnn and its Python and Node.js packages into WORK_DIR the way
# the README ("From Python and Node.js") tells a user to, so that the
# ffi_python and ffi_node tests run on the installed copies rather than on
# the source tree:
#
#   WORK_DIR/prefix   cmake --install of the build (the C library)
#   WORK_DIR/venv     python3 -m venv --system-site-packages, then
#                     pip install --no-build-isolation ./python
#   WORK_DIR/app      a fresh npm project, npm install of the tarball that
#                     npm pack ./node made (WORK_DIR/libnn-<version>.tgz)
#
#   install-packages.sh BUILD_DIR SOURCE_DIR WORK_DIR PYTHON
#
# Offline but for npm, which fetches koffi (from its cache when it has it).
set -euo pipefail
build=$1 src=$2 work=$3 python=$4

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)

step() { printf '\n== %s\n' "$*"; }

step "cmake --install $build --prefix $work/prefix"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"

step "Python: venv with the system's packages, pip install ./python"
"$python" -m venv --system-site-packages "$work/venv"
# pip builds in the source directory; its build/ and *.egg-info are ignored
# by python/.gitignore.
"$work/venv/bin/python" -m pip install --no-build-isolation --no-input \
    --disable-pip-version-check --quiet "$src/python"
"$work/venv/bin/python" -m pip show libnn | sed -n '1,2p'

step "Node.js: npm pack ./node, npm install the tarball into a fresh folder"
(cd "$src" && npm pack ./node --pack-destination "$work" --silent) > "$work/pack.txt"
tarball=$work/$(tail -n 1 "$work/pack.txt")
[ -f "$tarball" ] || { echo "npm pack made no $tarball"; exit 1; }
echo "$tarball"
mkdir "$work/app"
(cd "$work/app" && npm init -y > /dev/null &&
 npm install "$tarball" --prefer-offline --no-audit --no-fund --loglevel=error)
ls "$work/app/node_modules"
