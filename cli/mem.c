/* SPDX-License-Identifier: MIT */
/*
 * mem.c - the nn command's allocator (see mem.h).
 */
#include "mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static unsigned long mem_count;   /* allocations since cli_mem_fail_at */
static unsigned long mem_fail_at; /* 0: never fail */

static int mem_should_fail(void)
{
    mem_count++;
    return mem_fail_at != 0 && mem_count >= mem_fail_at;
}

void *cli_malloc(size_t size)
{
    if (mem_should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *cli_realloc(void *ptr, size_t size)
{
    if (mem_should_fail())
        return NULL;
    return realloc(ptr, size ? size : 1);
}

void cli_free(void *ptr)
{
    free(ptr);
}

void *cli_malloc_array(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    return cli_malloc(n * size);
}

void *cli_realloc_array(void *ptr, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    return cli_realloc(ptr, n * size);
}

char *cli_strndup(const char *s, size_t len)
{
    char *p;
    if (len == SIZE_MAX)
        return NULL;
    p = cli_malloc(len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *cli_strdup(const char *s)
{
    return cli_strndup(s, strlen(s));
}

unsigned long cli_mem_fail_at(unsigned long fail_at)
{
    unsigned long n = mem_count;
    mem_count = 0;
    mem_fail_at = fail_at;
    return n;
}
