#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Runs docs/TUTORIAL.md as a reader would: in a fresh home directory with
# libnn's source in ~/libnn and the system's PATH, every ```sh block in
# order in one shell, and every block marked <!-- file: PATH --> saved to
# PATH at the point where it appears. The one command a test cannot run,
# `sudo apt-get install ...`, is checked instead: each package it names
# must be installed. Any command that fails fails the test.
#
#   check-tutorial.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
rm -rf "$work"
mkdir -p "$work/home"
work=$(cd "$work" && pwd)
home=$work/home
fail() { echo "FAIL: $*"; exit 1; }

# ~/libnn: the source as a reader has it: the files git knows of (tracked,
# or new and not ignored), never a build tree (this test's own work
# directory may be inside one). Without git: the tree less the usual build
# and package directories.
mkdir "$home/libnn"
if git -C "$src" rev-parse --git-dir > /dev/null 2>&1; then
    # Build trees: directories holding a CMakeCache.txt (this test's is
    # inside one).
    skip=$(cd "$src" && find . -name CMakeCache.txt -printf '%h/\n' |
           sed 's|^\./||' | paste -sd '|')
    git -C "$src" ls-files -z --cached --others --exclude-standard |
        awk -v RS='\0' -v ORS='\0' -v skip="$skip" '
            BEGIN { n = split(skip, dirs, "|") }
            { for (i = 1; i <= n; i++)
                  if (substr($0, 1, length(dirs[i])) == dirs[i]) next
              print }' |
        tar -C "$src" --null -T - -cf - | tar -C "$home/libnn" -xf -
else
    tar -C "$src" --exclude='./build*' --exclude=./.git --exclude='./_*' \
        --exclude=node_modules --exclude="$work" -cf - . |
        tar -C "$home/libnn" -xf -
fi

awk -v home="$home" '
    function path(p) { sub(/^~/, home, p); return p }
    /^<!-- file: .* -->$/ {
        file = $0
        sub(/^<!-- file: /, "", file); sub(/ -->$/, "", file)
        next
    }
    /^```/ && !inblock {
        inblock = 1
        if (file != "") {
            printf "mkdir -p \"$(dirname %s)\"\n", path(file)
            printf "cat > %s <<'\''NN_TUTORIAL_EOF'\''\n", path(file)
            files++
            kind = "file"
        } else if ($0 == "```sh") {
            printf "# ---- block %d\n", ++shells
            kind = "sh"
        } else {
            kind = "other"
        }
        next
    }
    /^```$/ && inblock {
        if (kind == "file") print "NN_TUTORIAL_EOF"
        inblock = 0; file = ""
        next
    }
    inblock && kind == "file" { print; next }
    inblock && kind == "sh" {
        if ($0 ~ /^sudo apt-get install /) {
            pkgs = $0
            sub(/^sudo apt-get install /, "", pkgs)
            printf "for p in %s; do dpkg-query -W -f='\''${Status}\\n'\'' \"$p\" | grep -q \"ok installed\" || { echo \"not installed: $p\"; exit 1; }; done\n", pkgs
            printf "echo \"installed: %s\"\n", pkgs
        } else {
            printf "echo \"\\$ \"%s\n", "'\''" gensafe($0) "'\''"
            print
        }
        next
    }
    function gensafe(s) { gsub(/'\''/, "'\''\\'\'''\''", s); return s }
    END {
        printf "echo \"ok: ran %d shell blocks and wrote %d files\"\n", shells, files
        if (shells < 5 || files < 3) print "exit 3"
    }' "$src/docs/TUTORIAL.md" > "$work/tutorial.sh"

cd "$home"
if ! env -i HOME="$home" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 bash -euo pipefail "$work/tutorial.sh" > "$work/log" 2>&1; then
    cat "$work/log"
    fail "a step of docs/TUTORIAL.md failed (above; the script is $work/tutorial.sh)"
fi
grep -v '^-- \|^\[ *[0-9]*%\]' "$work/log"
