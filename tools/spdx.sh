#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# spdx.sh - the "SPDX-License-Identifier: MIT" line at the head of libnn's
# sources, headers, scripts and build files (LICENSE holds the text).
#
#   tools/spdx.sh --list     print the files that must carry the line
#   tools/spdx.sh --check    name each of them that lacks it; exit 1 if any
#                            does (the ctest test `spdx`)
#   tools/spdx.sh --all      add the line to every one of them that lacks it
#   tools/spdx.sh FILE...    add the line to these files (each must be of a
#                            kind selected below)
#
# Which files: those git tracks (git ls-files, from the top directory),
# chosen by name alone, so that --list is the same on every machine:
#
#   /* ... */  C and C++: *.c *.h *.cc *.cpp *.hpp
#   // ...     JavaScript, TypeScript, Protocol Buffers: *.js *.mjs *.cjs
#              *.ts (*.d.ts too) *.proto
#   # ...      shell, Python, awk, gnuplot, CMake, TOML, pkg-config:
#              *.sh *.bash *.py *.awk *.gp *.cmake *.toml *.pc,
#              CMakeLists.txt, Doxyfile, and files without a dot in their
#              name whose first line starts with #! (the scripts in .ci/)
#   a template NAME.in counts as NAME (nnConfig.cmake.in as a .cmake file)
#
# and, among those, not:
#   - generated files: a file with "do not edit" (any case) in its first
#     five lines, such as the tables tests/ffi/gen_bindings.py writes into
#     the Python and Node.js packages;
#   - test inputs and results: anything under a directory named corpus or
#     fixtures below tests/ (fuzzing corpora, files compared byte for
#     byte), and everything under bench/results/ (a source that makes test
#     data, such as tests/data/v1/make_expected.c, is a source).
# Everything else is documentation or data and is left alone: *.md, man
# pages, *.txt, *.csv, images, model files, fuzzing dictionaries, the ABI
# baseline, and JSON, which has no comments (node/package.json names the
# licence in its "license" field).
#
# "At its head" means within the first five lines. The line is added as the
# first line, or after a #! line (and after a Python coding line, which
# must stay among the first two). A file under another licence carries its
# own identifier and is listed in OTHER_LICENCES below; --check accepts
# another identifier in those files only, and this script never adds a
# second line to a file that has one.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

# path|SPDX identifier, for files that libnn takes from elsewhere under
# their own licence.
OTHER_LICENCES=(
    # A subset of ONNX's onnx.proto (Apache License 2.0).
    "src/onnx/onnx_read.proto|Apache-2.0"
)

usage() {
    sed -n '5,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# Reads paths (one per line, relative to the top directory) and prints
# "KIND LICENCE PATH" for each selected one: KIND is c, slash or hash (the
# comment syntax), LICENCE the identifier its head names or "-".
select_files() {
    (cd "$root" && awk '
        function kind_of(path,    name) {
            name = path
            sub(/.*\//, "", name)
            sub(/\.in$/, "", name)
            if (name ~ /\.(c|h|cc|cpp|hpp)$/) return "c"
            if (name ~ /\.(js|mjs|cjs|ts|proto)$/) return "slash"
            if (name ~ /\.(sh|bash|py|awk|gp|cmake|toml|pc)$/) return "hash"
            if (name == "CMakeLists.txt" || name == "Doxyfile") return "hash"
            if (name !~ /\./) return "script"
            return ""
        }
        {
            path = $0
            if (path ~ /^bench\/results\// ||
                path ~ /^tests\/(.*\/)?(corpus|fixtures)\//) next
            kind = kind_of(path)
            if (kind == "") next
            licence = "-"; generated = 0; n = 0
            while (n < 5 && (getline line < path) > 0) {
                n++
                if (n == 1 && kind == "script") {
                    if (line !~ /^#!/) break
                    kind = "hash"
                }
                if (tolower(line) ~ /do not edit/) generated = 1
                if (licence == "-" &&
                    match(line, /SPDX-License-Identifier: [A-Za-z0-9.+-]+/))
                    licence = substr(line, RSTART + 25, RLENGTH - 25)
            }
            close(path)
            if (n == 0 || kind == "script" || generated) next
            print kind, licence, path
        }')
}

other_licence() {
    local entry
    for entry in "${OTHER_LICENCES[@]}"; do
        [ "${entry%%|*}" = "$1" ] && { echo "${entry#*|}"; return 0; }
    done
    return 0
}

tracked() {
    git -C "$root" ls-files | select_files
}

add_line() {
    local kind=$1 licence=$2 path=$3 line file=$root/$3 tmp skip=0
    case $kind in
        c) line='/* SPDX-License-Identifier: MIT */' ;;
        slash) line='// SPDX-License-Identifier: MIT' ;;
        hash) line='# SPDX-License-Identifier: MIT' ;;
    esac
    [ "$licence" = - ] || return 0
    [ "$(head -c 2 "$file")" = '#!' ] && skip=1
    if [ "$kind" = hash ] && sed -n "$((skip + 1))p" "$file" |
            grep -Eq '^#.*coding[:=]'; then
        skip=$((skip + 1))
    fi
    tmp=$(mktemp "$file.XXXXXX")
    {
        head -n "$skip" "$file"
        echo "$line"
        tail -n "+$((skip + 1))" "$file"
    } > "$tmp"
    chmod --reference="$file" "$tmp"
    mv "$tmp" "$file"
    echo "spdx.sh: $path"
}

check() {
    local kind lic path want bad=0 count=0
    while read -r kind lic path; do
        count=$((count + 1))
        want=$(other_licence "$path")
        want=${want:-MIT}
        if [ "$lic" = - ]; then
            echo "no SPDX-License-Identifier line in the first 5 lines: $path"
            bad=$((bad + 1))
        elif [ "$lic" != "$want" ]; then
            echo "$path: SPDX-License-Identifier $lic, expected $want" \
                 "(a file under another licence is listed in OTHER_LICENCES" \
                 "in tools/spdx.sh)"
            bad=$((bad + 1))
        fi
    done < <(tracked)
    if [ "$count" -eq 0 ]; then
        echo "FAIL: no file selected (is $root a git checkout?)"
        return 1
    fi
    if [ "$bad" -ne 0 ]; then
        echo "FAIL: $bad of $count files lack their SPDX line" \
             "(tools/spdx.sh --all adds the MIT one)"
        return 1
    fi
    echo "ok: all $count sources, headers, scripts and build files carry" \
         "their SPDX-License-Identifier"
}

[ $# -ge 1 ] || usage
case $1 in
    --list) tracked | cut -d' ' -f3- ;;
    --check) check ;;
    --all)
        tracked | while read -r kind lic path; do
            add_line "$kind" "$lic" "$path"
        done ;;
    -*) usage ;;
    *)
        for arg in "$@"; do
            rel=$(realpath --relative-to="$root" "$arg")
            sel=$(echo "$rel" | select_files)
            if [ -z "$sel" ]; then
                echo "spdx.sh: $arg is not a file that takes the line" >&2
                exit 1
            fi
            read -r kind lic path <<< "$sel"
            add_line "$kind" "$lic" "$path"
        done ;;
esac
