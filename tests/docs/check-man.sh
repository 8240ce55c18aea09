#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# libnn(3) renders without a warning from man and groff
# (MANWIDTH=80 man --warnings -l), and documents every function that nn.h
# declares. First, a page with an undefined macro must draw a warning from
# the same command, so that a silent pass means something.
#
#   check-man.sh PAGE HEADER WORK_DIR
set -euo pipefail
page=$1 header=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }

render() { # page, text output; stderr goes to $work/err
    MANWIDTH=80 MAN_KEEP_FORMATTING= man --warnings -l "$1" > "$2" 2> "$work/err"
}

printf '.TH BAD 3\n.SH NAME\nbad \\- a page\n.XX undefined\n' > "$work/bad.3"
render "$work/bad.3" "$work/bad.txt" || true
[ -s "$work/err" ] || fail "man --warnings said nothing of an undefined macro"
echo "ok: man --warnings reports a bad page: $(head -n 1 "$work/err")"

[ -s "$page" ] || fail "$page is missing or empty"
render "$page" "$work/libnn.txt" || { cat "$work/err"; fail "man failed on $page"; }
if [ -s "$work/err" ]; then
    cat "$work/err"
    fail "man --warnings warned about $page (above)"
fi
for section in NAME SYNOPSIS DESCRIPTION CONVENTIONS EXAMPLE "SEE ALSO"; do
    grep -q "^$section\$" "$work/libnn.txt" || fail "no $section section"
done
missing=0
for f in $(sed -n 's/^NN_API .*[ *]\(nn_[a-z0-9_]*\) *(.*/\1/p' "$header"); do
    grep -q "[ *]$f(" "$work/libnn.txt" || { echo "not in libnn(3): $f"; missing=1; }
done
[ "$missing" -eq 0 ] || fail "functions missing from libnn(3)"
# Wider than 80 columns would mean a code line that the terminal wraps.
long=$(awk 'length($0) > 80' "$work/libnn.txt" | wc -l)
echo "ok: libnn(3) renders without warnings, $(wc -l < "$work/libnn.txt") lines," \
     "$(sed -n 's/^NN_API .*[ *]\(nn_[a-z0-9_]*\) *(.*/\1/p' "$header" | wc -l)" \
     "functions; $long lines wider than 80 columns"
