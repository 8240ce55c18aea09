#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs a program on NP processes of this machine with the MPI launcher:
#
#   mpirun.sh MPIEXEC NP PROGRAM [ARGS...]
#
# Open MPI refuses to run as root without --allow-run-as-root (CI runs as
# root) and to start more processes than there are cores without
# --oversubscribe (the tests run up to 4 on 2 cores); both are added only
# when needed, and only for Open MPI's launcher.
set -euo pipefail
mpiexec=$1 np=$2
shift 2
flags=()
if "$mpiexec" --version 2>&1 | grep -Eq "Open MPI|OpenRTE"; then
    [ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
    [ "$np" -gt "$(nproc)" ] && flags+=(--oversubscribe)
fi
exec "$mpiexec" "${flags[@]}" -np "$np" "$@"
