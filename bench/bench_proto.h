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

/* Plain SGD, w -= lr g, as an all-or-nothing update in two passes over
 * memory instead of libnn's four (two finite scans, a dry run, the write):
 * one read of g sums |g| (Inf or NaN if any gradient is); if
 * *w_bound + lr * sum|g| (a bound on every updated |w|) is then far from
 * overflow, one pass writes w and stores sum |w| as the next *w_bound
 * (start it at sum |w| of the initial weights). Returns 1 after updating,
 * or -1 with nothing written: a gradient is not finite, a sum overflowed or
 * the bound failed, and the exact per-element path must decide (and name
 * the element). */
int bench_proto_sgd(float *w, const float *g, size_t n, float lr,
                    float *w_bound);

#endif /* NN_BENCH_PROTO_H */
