#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The C examples people copy compile without a warning and run:
#   - nn.h's "Simple use", put in main() with the x, t and y it names;
#   - every ```c block of README.md, as a whole program;
#   - a README block that a "This is `FILE`" line names is FILE, byte for
#     byte (examples/xor.c).
# Each is compiled with -std=c99 -Wall -Wextra -Werror -pedantic, linked
# with the built libnn and run.
#
#   check-examples.sh CC SOURCE_DIR LIBNN_SO WORK_DIR
set -euo pipefail
cc=$1 src=$2 lib=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
libdir=$(cd "$(dirname "$lib")" && pwd)
fail() { echo "FAIL: $*"; exit 1; }
flags=(-std=c99 -Wall -Wextra -Werror -pedantic -I "$src/include")

build_and_run() { # name source
    "$cc" "${flags[@]}" "$2" -o "$work/$1" -L "$libdir" -lnn \
        -Wl,-rpath,"$libdir" || fail "$1 does not compile cleanly ($2)"
    "$work/$1" > "$work/$1.out" 2>&1 || { cat "$work/$1.out"; fail "$1 failed"; }
    echo "ok: $1 compiles without warnings and runs: $(tail -n 1 "$work/$1.out")"
}

# nn.h's Simple use: the indented lines after "Simple use".
awk '/^ \* Simple use/ { on = 1; next }
     on && /^ \*     / { code = 1; sub(/^ \* /, ""); print; next }
     on && /^ \*   [a-z]+:$/ && code { sub(/^ \* /, ""); print; next }
     on && code { exit }' "$src/include/nn.h" > "$work/simple.body"
[ "$(wc -l < "$work/simple.body")" -ge 5 ] || fail "no Simple use example in nn.h"
{
    printf '#include <stdio.h>\n#include "nn.h"\n\nint main(void)\n{\n'
    printf '    const float x[] = {0, 0, 0, 1, 1, 0, 1, 1};\n'
    printf '    const float t[] = {0, 1, 1, 0};\n    float y[4];\n'
    cat "$work/simple.body"
    printf '}\n'
} > "$work/simple_use.c"
build_and_run simple_use "$work/simple_use.c"

# The README's C blocks, and the files they claim to be.
awk -v dir="$work" '
    /^```c$/ { n++; file = dir "/readme_" n ".c"; inblock = 1; next }
    inblock && /^```$/ { inblock = 0; close(file); last = n; next }
    inblock { print > file; next }
    last && /This is `[^`]*`/ {
        match($0, /This is `[^`]*`/)
        print last, substr($0, RSTART + 9, RLENGTH - 10) > (dir "/claims")
    }
    /[^ ]/ && !inblock { last = 0 }
    END { print n + 0 > (dir "/count") }' "$src/README.md"
blocks=$(cat "$work/count")
[ "$blocks" -ge 1 ] || fail "README.md has no C example"
for i in $(seq 1 "$blocks"); do
    build_and_run "readme_$i" "$work/readme_$i.c"
done
[ -s "$work/claims" ] || fail "no README block says which file it is"
while read -r n file; do
    cmp "$work/readme_$n.c" "$src/$file" ||
        fail "README's C block $n is not $file byte for byte"
    echo "ok: README's C block $n is $file byte for byte"
done < "$work/claims"
