/* SPDX-License-Identifier: MIT */
/*
 * mem.c - the nn command's allocator (see mem.h).
 */
#if defined(__linux__)
#define _DEFAULT_SOURCE /* madvise */
#endif
#include "mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

static unsigned long mem_count;   /* allocations since cli_mem_fail_at */
static unsigned long mem_fail_at; /* 0: never fail */

static int mem_should_fail(void)
{
    mem_count++;
    return mem_fail_at != 0 && mem_count >= mem_fail_at;
}

/* Blocks from this size on are data sets and decompressed files (an
 * image set of Fashion-MNIST is 47 MB of bytes and 188 MB of floats),
 * written once from start to end as they are filled. */
#define BIG_BLOCK ((size_t)4 << 20)

/* Asks Linux to back a big block with 2 MiB pages where it can (with
 * transparent huge pages in "madvise" mode, Debian's default, it would
 * not otherwise): the first write of each 4 KiB page faults, and in a
 * virtual machine each fault costs microseconds. nn train on
 * Fashion-MNIST spent about a fifth of a one-epoch run in page faults.
 * Advice only: an error changes nothing. */
static void *advise(void *p, size_t size)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (p && size >= BIG_BLOCK) {
        uintptr_t lo = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
        uintptr_t hi = ((uintptr_t)p + size) & ~(uintptr_t)4095;
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
    }
#else
    (void)size;
#endif
    return p;
}

void *cli_malloc(size_t size)
{
    if (mem_should_fail())
        return NULL;
    return advise(malloc(size ? size : 1), size);
}

void *cli_realloc(void *ptr, size_t size)
{
    if (mem_should_fail())
        return NULL;
    return advise(realloc(ptr, size ? size : 1), size);
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
