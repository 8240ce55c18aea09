#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The HTML manual builds without one Doxygen warning (WARN_AS_ERROR, with
# every function, enum and macro required to be documented), and is what
# it should be: the README as the main page, each docs/*.md as a page, and
# nn.h's lists rendered as lists. First, the same settings must fail on a
# header with an undocumented function, so that a pass means something.
#
#   check-doxygen.sh DOXYGEN SOURCE_DIR WORK_DIR
set -euo pipefail
doxygen=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work/bad"
work=$(cd "$work" && pwd)
fail() { echo "FAIL: $*"; exit 1; }

config() { # OUTPUT_DIRECTORY, then extra lines
    local out=$1; shift
    printf '@INCLUDE = %s/docs/Doxyfile\nOUTPUT_DIRECTORY = %s\n' "$src" "$out"
    printf 'WARN_AS_ERROR = YES\nQUIET = YES\n'
    printf '%s\n' "$@"
}

# The check can fail: an undocumented function is a warning, and an error.
cat > "$work/bad/bad.h" <<'H'
/*
 * bad.h - a header with one undocumented function.
 */

/* A documented function. */
int documented(void);
int undocumented(void);
H
config "$work/bad/out" "INPUT = $work/bad/bad.h" "USE_MDFILE_AS_MAINPAGE =" \
    > "$work/bad/Doxyfile"
if (cd "$src" && "$doxygen" "$work/bad/Doxyfile") > "$work/bad/log" 2>&1; then
    cat "$work/bad/log"
    fail "doxygen passed a header with an undocumented function"
fi
grep -q "undocumented" "$work/bad/log" ||
    { cat "$work/bad/log"; fail "doxygen failed, but not on the undocumented function"; }
echo "ok: an undocumented function fails the build ($(grep -c warning "$work/bad/log") warning)"

# The manual itself.
config "$work/out" > "$work/Doxyfile"
if ! (cd "$src" && "$doxygen" "$work/Doxyfile") > "$work/log" 2>&1; then
    cat "$work/log"
    fail "doxygen warned (above)"
fi
[ ! -s "$work/log" ] || { cat "$work/log"; fail "doxygen printed something"; }
html=$work/out/html
grep -q 'Quick start' "$html/index.html" || fail "the main page is not the README"
for md in "$src"/docs/*.md; do
    page=$html/md_docs_$(basename "$md" .md).html
    [ -f "$page" ] || fail "no page for docs/$(basename "$md")"
done
# nn.h's Conventions and the per-function lists are HTML lists.
grep -q '<li><b>Status.</b>' "$html/nn_8h.html" ||
    fail "nn.h's Conventions are not rendered as a list"
grep -q '<li>nn_model_layer_activation: ' "$html/nn_8h.html" ||
    fail "nn.h's per-function lists are not rendered as lists"
grep -q '<li>NN_SAVE_CHECKPOINT: ' "$html/nn_8h.html" ||
    fail "nn.h's table of file contents is not rendered as a list"
# Every function declared in nn.h has its own entry.
missing=0
for f in $(sed -n 's/^NN_API .*[ *]\(nn_[a-z0-9_]*\) *(.*/\1/p' "$src/include/nn.h"); do
    grep -q "</span>$f()</h2>" "$html/nn_8h.html" ||
        { echo "not in the reference: $f"; missing=1; }
done
[ "$missing" -eq 0 ] || fail "functions missing from the reference"
echo "ok: the manual builds without warnings; $(ls "$html" | wc -l) files in $html"
