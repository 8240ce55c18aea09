#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the build tree into a temporary prefix with `cmake --install` and
# uses it as a user would:
#   - the install holds the library, its symlinks, nn.h, nn.pc and the CMake
#     package, and names neither the source, the build tree nor the prefix
#     itself (so the install can be moved);
#   - pkg-config --cflags --libs nn gives -lnn, with BLAS only in the private
#     (static) fields;
#   - a C and a C++ program built with `cc ... $(pkg-config --cflags --libs nn)`
#     run and learn XOR;
#   - a CMake project using find_package(nn) builds and runs; the version
#     file accepts the same major version only;
#   - with NN_BUILD_STATIC, the same through libnn.a and nn::nn_static.
#
#   run.sh BUILD_DIR SOURCE_DIR WORK_DIR VERSION C_COMPILER CXX_COMPILER
set -euo pipefail
build=$1 src=$2 work=$3 version=$4 cc=$5 cxx=$6
here=$(cd "$(dirname "$0")" && pwd)
major=${version%%.*}

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
prefix=$work/prefix

step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*"; exit 1; }

step "cmake --install into $prefix"
# --strip: DWARF names the sources it was built from by design; a stripped
# install (what distributions ship) must name no build path at all.
cmake --install "$build" --prefix "$prefix" --strip > "$work/install.log"
cat "$work/install.log"

libdir=$(cd "$prefix" && find . -name "libnn.so.$version" -printf '%h\n' | sed 's|^\./||')
[ -n "$libdir" ] || fail "libnn.so.$version not installed"
for f in "$libdir/libnn.so.$version" "$libdir/libnn.so.$major" "$libdir/libnn.so" \
         include/nn.h "$libdir/pkgconfig/nn.pc" \
         "$libdir/cmake/nn/nnConfig.cmake" "$libdir/cmake/nn/nnConfigVersion.cmake" \
         "$libdir/cmake/nn/nnTargets.cmake" share/doc/libnn/LICENSE; do
    [ -e "$prefix/$f" ] || fail "$f is not installed"
done
[ "$(readlink "$prefix/$libdir/libnn.so")" = "libnn.so.$major" ] ||
    fail "libnn.so does not point to libnn.so.$major"
cmp -s "$src/include/nn.h" "$prefix/include/nn.h" || fail "installed nn.h differs"
cmp -s "$src/LICENSE" "$prefix/share/doc/libnn/LICENSE" || fail "installed LICENSE differs"
grep -qx 'License: MIT' "$prefix/$libdir/pkgconfig/nn.pc" || fail "nn.pc names no licence"
static=0
if [ -e "$prefix/$libdir/libnn.a" ]; then
    static=1
    # cmake --install --strip leaves archives alone; strip it as a package would.
    strip --strip-debug "$prefix/$libdir/libnn.a"
fi

step "no absolute build, source or prefix path in the install"
srcreal=$(cd "$src" && pwd -P)
buildreal=$(cd "$build" && pwd -P)
if grep -rlF -e "$src" -e "$srcreal" -e "$build" -e "$buildreal" -e "$prefix" \
        "$prefix" > "$work/paths.txt"; then
    echo "these installed files name $src, $build or $prefix:"
    cat "$work/paths.txt"
    grep -rnoF -e "$src" -e "$srcreal" -e "$build" -e "$buildreal" -e "$prefix" \
        "$prefix" --text | head -20
    fail "absolute paths in the install"
fi
if readelf -d "$prefix/$libdir/libnn.so.$version" | grep -Eq 'RPATH|RUNPATH'; then
    fail "the installed library has an RPATH/RUNPATH"
fi
echo "none"

step "pkg-config"
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
pcflags=$(pkg-config --cflags --libs nn)
echo "pkg-config --cflags --libs nn: $pcflags"
[ "$(pkg-config --modversion nn)" = "$version" ] ||
    fail "pkg-config --modversion nn is $(pkg-config --modversion nn), expected $version"
[[ " $pcflags " == *" -lnn "* ]] || fail "no -lnn in '$pcflags'"
pclibs=$(pkg-config --libs nn)
[[ "$pclibs" != *blas* && " $pclibs " != *" -lm "* ]] ||
    fail "BLAS or libm leaked into the public Libs: '$pclibs'"
pcstatic=$(pkg-config --static --libs nn)
echo "pkg-config --static --libs nn: $pcstatic"
[[ "$pcstatic" == *blas* && " $pcstatic " == *" -lm "* ]] ||
    fail "pkg-config --static --libs nn lacks BLAS or -lm: '$pcstatic'"

run_installed() { # program: must load the installed libnn, then run
    local exe=$1
    ldd "$exe" | grep -F "libnn.so.$major => $prefix/$libdir/libnn.so.$major" > /dev/null ||
        { ldd "$exe"; fail "$exe does not load the installed libnn"; }
    "$exe"
}
run_static() { # program, its name in the message: must not need libnn.so
    if readelf -d "$1" | grep -q 'libnn\.so'; then
        fail "$2 still needs libnn.so"
    fi
    "$1"
}

step "C program: $cc consumer.c \$(pkg-config --cflags --libs nn)"
# shellcheck disable=SC2046
"$cc" -std=c99 -Wall -Wextra -Werror -o "$work/consumer_c" "$here/consumer.c" \
    $(pkg-config --cflags --libs nn) -Wl,-rpath,"$prefix/$libdir"
run_installed "$work/consumer_c"

step "C++ program: $cxx consumer.cpp \$(pkg-config --cflags --libs nn)"
# shellcheck disable=SC2046
"$cxx" -std=c++11 -Wall -Wextra -pedantic -Werror -o "$work/consumer_cxx" \
    "$here/consumer.cpp" $(pkg-config --cflags --libs nn) \
    -Wl,-rpath,"$prefix/$libdir"
run_installed "$work/consumer_cxx"

if [ "$static" -eq 1 ]; then
    step "C program against libnn.a: \$(pkg-config --static --libs nn)"
    # Both libnn.so and libnn.a are in libdir; ask the linker for the archive.
    # shellcheck disable=SC2046
    "$cc" -std=c99 -Wall -Wextra -Werror -o "$work/consumer_c_static" \
        "$here/consumer.c" $(pkg-config --cflags nn) \
        $(pkg-config --static --libs nn | sed 's/\(^\| \)-lnn\( \|$\)/ -l:libnn.a /')
    run_static "$work/consumer_c_static" "the static consumer"
fi

step "CMake project: find_package(nn) and nn::nn"
cmake -S "$here/find_package" -B "$work/find_package" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_RPATH="$prefix/$libdir" > "$work/find_package.log" ||
    { cat "$work/find_package.log"; fail "configuring the find_package project"; }
grep 'found nn' "$work/find_package.log"
cmake --build "$work/find_package" > "$work/find_package_build.log" ||
    { cat "$work/find_package_build.log"; fail "building the find_package project"; }
run_installed "$work/find_package/consumer_cmake"
if [ "$static" -eq 1 ]; then
    [ -x "$work/find_package/consumer_cmake_static" ] ||
        fail "libnn.a is installed but find_package(nn) gave no nn::nn_static"
    run_static "$work/find_package/consumer_cmake_static" \
        "the nn::nn_static consumer"
fi

step "CMake package version file: same major only"
cmake -S "$here/version_check" -B "$work/version_check" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DNN_SAME_MAJOR="$version" \
    -DNN_NEXT_MAJOR="$((major + 1)).0" > "$work/version_check.log" ||
    { cat "$work/version_check.log"; fail "the version file check"; }
grep 'version file:' "$work/version_check.log"

step "the installed tree still works after it is moved"
mv "$prefix" "$work/moved"
export PKG_CONFIG_PATH=$work/moved/$libdir/pkgconfig
# shellcheck disable=SC2046
"$cc" -o "$work/consumer_moved" "$here/consumer.c" $(pkg-config --cflags --libs nn) \
    -Wl,-rpath,"$work/moved/$libdir"
"$work/consumer_moved"

echo
echo "ok: installed libnn $version works through pkg-config, C, C++ and find_package(nn)"
