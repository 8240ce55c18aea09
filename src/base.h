/* SPDX-License-Identifier: MIT */
/*
 * base.h - what every file of libnn shares, the core's and src/onnx's
 * alike: the allocator that nn_set_allocator replaces, overflow-checked
 * size arithmetic, and the per-thread message of nn_last_error. Nothing
 * here is API.
 */
#ifndef NN_BASE_H
#define NN_BASE_H

#include "nn.h"

#include <stddef.h>
#include <stdint.h>

/* ---- allocation (alloc.c): every allocation of the library goes here ---- */
void *nn__malloc(size_t size);
void *nn__calloc(size_t count, size_t size);
void nn__free(void *p);
/* A block of size bytes starting on a 64-byte boundary (a cache line),
 * whatever the allocator's blocks are aligned to (malloc's, on 16 bytes
 * and 16 bytes past a page for large ones), for the arrays the products
 * and passes stream through with vector loads and stores: the parameters
 * and gradients, which the folded update writes, the optimizer's state,
 * the fit's batch and the scratch of prediction and evaluation. Freed
 * only by nn__free_lines. */
void *nn__malloc_lines(size_t size);
void *nn__calloc_lines(size_t count, size_t size);
void nn__free_lines(void *p);

/* ---- sizes ---- */
/* *out = a * b; returns 0 on overflow. Inline: every batch checks its
 * sizes, and a call costs as much as the check. */
static inline int nn__mul_size(size_t a, size_t b, size_t *out)
{
#if defined(__GNUC__) /* GCC and Clang: no division */
    size_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return 0;
    *out = r;
#else
    if (a != 0 && b > (size_t)-1 / a)
        return 0;
    *out = a * b;
#endif
    return 1;
}

/* *out = a + b; returns 0 on overflow. */
static inline int nn__add_size(size_t a, size_t b, size_t *out)
{
    if (b > (size_t)-1 - a)
        return 0;
    *out = a + b;
    return 1;
}

/* A function off the hot path (a rare case of a per-step function), kept
 * out of its caller so that the caller stays small. */
#if defined(__GNUC__)
#define NN__COLD __attribute__((cold, noinline))
#else
#define NN__COLD
#endif

/* A function kept out of its callers (where inlining it costs them more
 * than the call). */
#if defined(__GNUC__)
#define NN__NOINLINE __attribute__((noinline))
#else
#define NN__NOINLINE
#endif

/* A function inlined wherever it is called, for the few per-step
 * functions whose callers pass constants that fold its branches away. */
#if defined(__GNUC__)
#define NN__ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define NN__ALWAYS_INLINE inline
#endif

/* ---- errors (status.c) ---- */
/* Records a message for nn_last_error (printf-style) and returns status. */
nn_status nn__fail(nn_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif /* NN_BASE_H */
