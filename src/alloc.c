/*
 * alloc.c - the one place where libnn allocates memory, and the size
 * arithmetic that guards every allocation against overflow.
 */
#include "nn_internal.h"

#include <stdlib.h>

void *nn__malloc(size_t size)
{
    return malloc(size ? size : 1);
}

void *nn__calloc(size_t count, size_t size)
{
    if (count == 0 || size == 0)
        return calloc(1, 1);
    return calloc(count, size);
}

void nn__free(void *p)
{
    free(p);
}

int nn__mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > (size_t)-1 / a)
        return 0;
    *out = a * b;
    return 1;
}

int nn__add_size(size_t a, size_t b, size_t *out)
{
    if (b > (size_t)-1 - a)
        return 0;
    *out = a + b;
    return 1;
}
