/* SPDX-License-Identifier: MIT */
/*
 * alloc.c - the one place where libnn allocates memory (through a
 * replaceable allocator), and the size arithmetic that guards every
 * allocation against overflow.
 */
#include "nn_internal.h"

#include <stdlib.h>
#include <string.h>

static void *default_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void default_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

/* The library's only global mutable state; see nn_set_allocator. */
static nn_malloc_fn nn__alloc_fn = default_malloc;
static nn_free_fn nn__free_fn = default_free;
static void *nn__alloc_ctx = NULL;

nn_status nn_set_allocator(nn_malloc_fn alloc_fn, nn_free_fn free_fn,
                           void *ctx)
{
    if (!alloc_fn != !free_fn)
        return nn__fail(NN_E_NULL, "nn_set_allocator: %s is NULL but %s is "
                        "not", alloc_fn ? "free_fn" : "alloc_fn",
                        alloc_fn ? "alloc_fn" : "free_fn");
    nn__alloc_fn = alloc_fn ? alloc_fn : default_malloc;
    nn__free_fn = free_fn ? free_fn : default_free;
    nn__alloc_ctx = alloc_fn ? ctx : NULL;
    return NN_OK;
}

void *nn__malloc(size_t size)
{
    return nn__alloc_fn(nn__alloc_ctx, size ? size : 1);
}

/* count x size bytes from alloc, zeroed. */
static void *zeroed(void *(*alloc)(size_t), size_t count, size_t size)
{
    size_t bytes;
    void *p;
    if (!nn__mul_size(count, size, &bytes))
        return NULL;
    p = alloc(bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

void *nn__calloc(size_t count, size_t size)
{
    return zeroed(nn__malloc, count, size);
}

void nn__free(void *p)
{
    if (p)
        nn__free_fn(nn__alloc_ctx, p);
}

/* The allocator's block is asked for NN__LINE - 1 bytes more than the
 * caller's, and room for the pointer to it, which is kept in the bytes
 * just before the caller's block: the block starts on the first line
 * boundary with that room before it. */
#define NN__LINE ((uintptr_t)64)

void *nn__malloc_lines(size_t size)
{
    size_t bytes;
    unsigned char *raw, *p;
    if (!nn__add_size(size ? size : 1, NN__LINE - 1 + sizeof raw, &bytes))
        return NULL;
    raw = (unsigned char *)nn__malloc(bytes);
    if (!raw)
        return NULL;
    p = raw + sizeof raw;
    p += (NN__LINE - (uintptr_t)p % NN__LINE) % NN__LINE;
    memcpy(p - sizeof raw, &raw, sizeof raw);
    return p;
}

void *nn__calloc_lines(size_t count, size_t size)
{
    return zeroed(nn__malloc_lines, count, size);
}

void nn__free_lines(void *p)
{
    unsigned char *raw;
    if (!p)
        return;
    memcpy(&raw, (unsigned char *)p - sizeof raw, sizeof raw);
    nn__free(raw);
}
