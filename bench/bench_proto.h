/* SPDX-License-Identifier: MIT */
/*
 * bench_proto.h - prototypes of faster element-wise kernels, measured by
 * bench_kernels against the library's: evidence for the optimisation
 * notes in RESULTS.md, not library code.
 */
#ifndef NN_BENCH_PROTO_H
#define NN_BENCH_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* a[i] = 1 / (1 + e^-z[i]); |error| < 2e-7 against the library. */
void bench_proto_sigmoid(const float *z, float *a, size_t len);
/* a[i] = tanh z[i] = 1 - 2 / (e^2z + 1); |error| < 3e-7. */
void bench_proto_tanh(const float *z, float *a, size_t len);

#endif /* NN_BENCH_PROTO_H */
