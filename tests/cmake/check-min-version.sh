#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The build keeps to the CMake that cmake_minimum_required names (3.16:
# Ubuntu 20.04, Debian 11): fails when a command, keyword, generator
# expression or command-line option that CMake added later appears in a
# CMake file of the tree (CMakeLists.txt, *.cmake, *.cmake.in) or in the
# README's and docs' shell commands. The table below lists the newer ones
# a build like this one is tempted to use, each with the version that
# brought it (from CMake's documentation). First, every rule must catch its
# own example in too-new.txt, so that a pass means something.
#
#   check-min-version.sh SOURCE_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)

# version|pattern (ERE, matched against one whole command with comments
# removed; for .md files, against each line)|what
rules='3.17|\<foreach *\([^)]*\<ZIP_LISTS\>|foreach(... IN ZIP_LISTS)
3.17|\<message *\( *CHECK_(START|PASS|FAIL)\>|message(CHECK_START)
3.17|cmake +-E +rm\>|cmake -E rm
3.18|\<cmake_language *\(|cmake_language()
3.18|\<find_(path|file|library|program) *\([^)]*\<REQUIRED\>|find_path/find_library/find_program(... REQUIRED)
3.18|\<file *\( *(ARCHIVE_CREATE|ARCHIVE_EXTRACT|CONFIGURE)\>|file(ARCHIVE_*), file(CONFIGURE)
3.18|\<(BLAS|LAPACK)::(BLAS|LAPACK)\>|the BLAS::BLAS and LAPACK::LAPACK targets
3.18|\<(CheckLinkerFlag|check_linker_flag)\>|CheckLinkerFlag
3.18|\$<(LINK_LANGUAGE|DEVICE_LINK|HOST_LINK)|$<LINK_LANGUAGE>, $<DEVICE_LINK>, $<HOST_LINK>
3.18|cmake +-E +cat\>|cmake -E cat
3.19|\$<CONFIG:[^>]*,|$<CONFIG:a,b> (more than one configuration)
3.19|\<execute_process *\([^)]*\<COMMAND_ERROR_IS_FATAL\>|execute_process(COMMAND_ERROR_IS_FATAL)
3.19|\<file *\( *(REAL_PATH|CHMOD|CHMOD_RECURSE)\>|file(REAL_PATH), file(CHMOD)
3.19|\<string *\( *JSON\>|string(JSON)
3.19|\<(CheckCompilerFlag|check_compiler_flag|CheckSourceCompiles|check_source_compiles)\>|CheckCompilerFlag, CheckSourceCompiles
3.19|cmake +-E +create_hardlink\>|cmake -E create_hardlink
3.20|\<cmake_path *\(|cmake_path()
3.20|\$<(OUTPUT_CONFIG|COMMAND_CONFIG):|$<OUTPUT_CONFIG>, $<COMMAND_CONFIG>
3.20|\<add_custom_command *\([^)]*\<DEPFILE\>|add_custom_command(DEPFILE) (Makefiles)
3.20|ctest .*--test-dir\>|ctest --test-dir
3.21|\<(find_[a-z]+) *\([^)]*\<NO_CACHE\>|find_*(... NO_CACHE)
3.21|\<file *\( *COPY_FILE\>|file(COPY_FILE)
3.21|\<install *\([^)]*\<(RUNTIME_DEPENDENCIES|RUNTIME_DEPENDENCY_SET|IMPORTED_RUNTIME_ARTIFACTS)\>|install(RUNTIME_DEPENDENCIES), install(IMPORTED_RUNTIME_ARTIFACTS)
3.21|\$<TARGET_RUNTIME_DLLS|$<TARGET_RUNTIME_DLLS>
3.21|\<PROJECT_IS_TOP_LEVEL\>|PROJECT_IS_TOP_LEVEL
3.22|\<ENVIRONMENT_MODIFICATION\>|the ENVIRONMENT_MODIFICATION test property
3.23|\<FILE_SET\>|target_sources(FILE_SET), install(FILE_SET)
3.24|\<find_package *\([^)]*\<GLOBAL\>|find_package(... GLOBAL)
3.24|\<COMPILE_WARNING_AS_ERROR\>|COMPILE_WARNING_AS_ERROR
3.24|\$<(LINK_LIBRARY|LINK_GROUP|PATH|PATH_EQUAL):|$<LINK_LIBRARY>, $<LINK_GROUP>, $<PATH>
3.24|cmake .*--fresh\>|cmake --fresh
3.25|\<(block|endblock) *\(|block()
3.25|\<return *\( *PROPAGATE\>|return(PROPAGATE)
3.25|\<SOURCE_FROM_(CONTENT|VAR|FILE)\>|try_compile(SOURCE_FROM_CONTENT)
3.26|\<message *\( *CONFIGURE_LOG\>|message(CONFIGURE_LOG)
3.26|cmake +-E +copy_directory_if_different\>|cmake -E copy_directory_if_different
3.27|\$<(LIST|COMPILE_ONLY):|$<LIST>, $<COMPILE_ONLY>
3.27|\<DEPENDS_EXPLICIT_ONLY\>|add_custom_command(DEPENDS_EXPLICIT_ONLY)'

minimum=$(sed -n 's/^cmake_minimum_required *( *VERSION \([0-9]*\.[0-9]*\).*/\1/p' \
          "$src/CMakeLists.txt")
[ -n "$minimum" ] || { echo "FAIL: no cmake_minimum_required(VERSION x.y) in $src/CMakeLists.txt"; exit 1; }

newer() { # version > minimum?
    [ "$(printf '%s\n%s\n' "$1" "$minimum" | sort -V | tail -n 1)" != "$minimum" ]
}

# scan FILE...: prints "file:line: what (CMake version)" per finding.
scan() {
    printf '%s\n' "$rules" | awk -v min="$minimum" '
        function newer(v,    a, b) {
            split(v, a, "."); split(min, b, ".")
            return a[1] > b[1] || (a[1] == b[1] && a[2] + 0 > b[2] + 0)
        }
        FNR == NR {
            # version|pattern|what, the pattern holding | of its own.
            i = index($0, "|")
            v = substr($0, 1, i - 1)
            r = substr($0, i + 1)
            match(r, /\|[^|]*$/)
            if (newer(v)) {
                n++; ver[n] = v; pat[n] = substr(r, 1, RSTART - 1)
                what[n] = substr(r, RSTART + 1)
                # Word boundaries, in POSIX terms (mawk has no \< \>).
                gsub(/\\</, "(^|[^A-Za-z0-9_])", pat[n])
                gsub(/\\>/, "([^A-Za-z0-9_]|$)", pat[n])
            }
            next
        }
        FNR == 1 { stmt = ""; depth = 0; md = (FILENAME ~ /\.md$/) }
        {
            line = $0
            if (!md) {
                # Drop a comment: from a # that is not in quotes.
                out = ""; q = 0
                for (i = 1; i <= length(line); i++) {
                    c = substr(line, i, 1)
                    if (c == "\"" && substr(line, i - 1, 1) != "\\") q = !q
                    if (c == "#" && !q) break
                    out = out c
                }
                line = out
            }
            if (stmt == "") start = FNR
            stmt = stmt " " line
            if (!md) {
                t = line
                depth += gsub(/\(/, "(", t) - gsub(/\)/, ")", t)
                if (depth > 0) next
            }
            for (k = 1; k <= n; k++)
                if (stmt ~ pat[k])
                    printf "%s:%d: %s (CMake %s)\n", FILENAME, start, what[k], ver[k]
            stmt = ""; depth = 0
        }' - "$@"
}

# Every rule newer than the minimum catches its example.
bad=$(scan "$here/too-new.txt")
count=$(printf '%s\n' "$rules" | while IFS='|' read -r v _ _; do
            newer "$v" && echo; done | wc -l)
caught=$(printf '%s\n' "$bad" | sed -n 's/.*: \(.*\) (CMake .*/\1/p' | sort -u | wc -l)
if [ "$caught" -ne "$count" ]; then
    printf '%s\n' "$bad"
    echo "FAIL: $caught of the $count rules newer than $minimum caught their example in too-new.txt"
    exit 1
fi
echo "ok: each of the $count rules newer than CMake $minimum catches its example"

cd "$src"
# The project's CMake files: not those of a build tree (a directory with a
# CMakeCache.txt, wherever it is and whatever its name), nor packages'.
mapfile -t files < <(find . \( -name node_modules -o -name .git \) -prune -o \
                         -type d -exec test -e '{}/CMakeCache.txt' \; -prune -o \
                         -type f \( -name CMakeLists.txt -o -name '*.cmake' \
                                    -o -name '*.cmake.in' \) -print | sort)
files+=(README.md docs/*.md)
found=$(scan "${files[@]}")
if [ -n "$found" ]; then
    printf '%s\n' "$found"
    echo "FAIL: the above need a CMake newer than the $minimum that CMakeLists.txt requires"
    exit 1
fi
echo "ok: ${#files[@]} files use nothing newer than CMake $minimum"
