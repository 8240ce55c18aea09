#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check-globals.sh LIB: libnn keeps no global mutable state but the
# allocator hook (nn__alloc_fn, nn__free_fn, nn__alloc_ctx, see nn.h's
# nn_set_allocator), the per-thread message of the last failure
# (nn__msg, thread-local: no two threads share it) and, where the build
# has libnn's kernel, the decision which of its builds runs, if any
# (nn__kernel_state: made once per process from the CPU and NN_GEMM, as
# __cpu_model below is filled once; see gemm_avx512.c) and whether its
# AVX-512 tiles prefetch (nn__prefetch_state: once per process from the
# CPU's vendor, and a prefetch changes no result). Lists every object
# symbol in a writable data section (.data, .bss, and the thread-local
# .tdata, .tbss) of the built library, leaves out the C runtime's own, and
# fails if anything else is there.
#
#   check-globals.sh LIB [ALLOWED]   (ALLOWED: the names allowed, for
#                                     libnn_mpi its own hook and message)
set -euo pipefail
lib=$1
allowed=${2:-"nn__alloc_ctx nn__alloc_fn nn__free_fn nn__msg"}
optional="nn__kernel_state nn__prefetch_state"
# the C runtime's, and libgcc's CPU detection (__cpu_model, filled once at
# load for the AVX2 variants of the kernels, see NN__VECTOR_CLONES)
crt="completed.0 __TMC_END__ __dso_handle __cpu_model __cpu_features2"
found=$(objdump -t "$lib" |
    awk '$0 ~ /[[:space:]]\.(data|bss|tdata|tbss)[[:space:]]/ {print $NF}' |
    sort -u)
[ -n "$found" ] || { echo "check-globals: no data symbols read from $lib"; exit 1; }
bad=0
for s in $found; do
    case " $allowed $optional $crt " in
        *" $s "*) ;;
        *) echo "check-globals: $lib has mutable global state: $s"; bad=1 ;;
    esac
done
for s in $allowed; do
    grep -qx "$s" <<<"$found" ||
        { echo "check-globals: expected $s in $lib, not found"; bad=1; }
done
[ $bad -eq 0 ] && echo "check-globals: only the allowed state"
exit $bad
