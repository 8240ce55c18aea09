#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the build tree into a temporary prefix and uses libnn_mpi as a
# user would:
#   - the install holds libnn_mpi.so and its links, nn_mpi.h, nn-mpi.pc and
#     the CMake package's nnMpiTargets.cmake;
#   - pkg-config --cflags --libs nn-mpi gives -lnn_mpi, libnn and MPI;
#   - a C program built with cc ... $(pkg-config --cflags --libs nn-mpi)
#     and one built by a CMake project with find_package(nn) and
#     nn::nn_mpi each learn XOR on 2 ranks under mpirun.
#
#   run.sh BUILD_DIR WORK_DIR VERSION C_COMPILER MPIEXEC
set -euo pipefail
build=$1 work=$2 version=$3 cc=$4 mpiexec=$5
here=$(cd "$(dirname "$0")" && pwd)
major=${version%%.*}
mpirun=(bash "$here/../mpirun.sh" "$mpiexec" 2)

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
prefix=$work/prefix
step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*"; exit 1; }

step "cmake --install into $prefix"
cmake --install "$build" --prefix "$prefix" --strip > "$work/install.log"
libdir=$(cd "$prefix" && find . -name "libnn_mpi.so.$version" -printf '%h\n' | sed 's|^\./||')
[ -n "$libdir" ] || fail "libnn_mpi.so.$version not installed"
for f in "$libdir/libnn_mpi.so.$version" "$libdir/libnn_mpi.so.$major" \
         "$libdir/libnn_mpi.so" include/nn_mpi.h "$libdir/pkgconfig/nn-mpi.pc" \
         "$libdir/cmake/nn/nnMpiTargets.cmake"; do
    [ -e "$prefix/$f" ] || fail "$f is not installed"
    echo "installed: $f"
done
if readelf -d "$prefix/$libdir/libnn_mpi.so.$version" | grep -Eq 'RPATH|RUNPATH'; then
    fail "the installed libnn_mpi has an RPATH/RUNPATH"
fi
if grep -rlF -e "$build" -e "$prefix" "$prefix/$libdir/pkgconfig" \
        "$prefix/$libdir/cmake" > "$work/paths.txt"; then
    cat "$work/paths.txt"
    fail "the pkg-config or CMake files name the build tree or the prefix"
fi

step "pkg-config nn-mpi"
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
flags=$(pkg-config --cflags --libs nn-mpi)
echo "pkg-config --cflags --libs nn-mpi: $flags"
[ "$(pkg-config --modversion nn-mpi)" = "$version" ] || fail "nn-mpi's version"
for want in -lnn_mpi -lnn -lmpi; do
    [[ " $flags " == *" $want "* ]] || fail "no $want in '$flags'"
done

run_installed() {
    ldd "$1" | grep -F "libnn_mpi.so.$major => $prefix/$libdir/libnn_mpi.so.$major" > /dev/null ||
        { ldd "$1"; fail "$1 does not load the installed libnn_mpi"; }
    "${mpirun[@]}" "$1"
}

step "C program: $cc consumer_mpi.c \$(pkg-config --cflags --libs nn-mpi), 2 ranks"
# shellcheck disable=SC2046
"$cc" -std=c99 -Wall -Wextra -Werror -o "$work/consumer_mpi" \
    "$here/consumer_mpi.c" $(pkg-config --cflags --libs nn-mpi) \
    -Wl,-rpath,"$prefix/$libdir"
run_installed "$work/consumer_mpi"

step "CMake project: find_package(nn) and nn::nn_mpi, 2 ranks"
cmake -S "$here/find_package" -B "$work/find_package" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_RPATH="$prefix/$libdir" > "$work/find_package.log" ||
    { cat "$work/find_package.log"; fail "configuring the find_package project"; }
grep 'found nn' "$work/find_package.log"
cmake --build "$work/find_package" > "$work/find_package_build.log" ||
    { cat "$work/find_package_build.log"; fail "building the find_package project"; }
run_installed "$work/find_package/consumer_mpi_cmake"

echo
echo "ok: installed libnn_mpi $version works through pkg-config nn-mpi and nn::nn_mpi under mpirun"
