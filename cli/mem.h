/* SPDX-License-Identifier: MIT */
/*
 * mem.h - the nn command's allocator: malloc, realloc and free through one
 * place, so that tests can fail a chosen allocation (the parsers are
 * checked to report "out of memory" and leak nothing at every one).
 * libcsv, zlib and libdeflate are given these functions too.
 */
#ifndef CLI_MEM_H
#define CLI_MEM_H

#include <stddef.h>

void *cli_malloc(size_t size);
void *cli_realloc(void *ptr, size_t size);
void cli_free(void *ptr);

/* n * size bytes, or NULL when the product overflows or memory is out. */
void *cli_malloc_array(size_t n, size_t size);
void *cli_realloc_array(void *ptr, size_t n, size_t size);

/* A copy of the len bytes at s with a NUL after them. */
char *cli_strndup(const char *s, size_t len);
char *cli_strdup(const char *s);

/* Tests: the allocation numbered fail_at (counting from 1 after this call)
 * and every later one fail; 0 turns failing off. Returns how many
 * allocations were made since the previous call. Not thread-safe (the
 * command is single-threaded). */
unsigned long cli_mem_fail_at(unsigned long fail_at);

#endif /* CLI_MEM_H */
