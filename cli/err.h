/* SPDX-License-Identifier: MIT */
/*
 * err.h - how the nn command's parts report a failure: a status that
 * decides the exit code and one complete sentence, naming the file, the
 * place in it (line and column, or row and element) and what was expected.
 */
#ifndef CLI_ERR_H
#define CLI_ERR_H

#include <stddef.h>

#if defined(__GNUC__)
#  define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define CLI_PRINTF(f, a)
#endif

typedef enum cli_status {
    CLI_OK = 0,
    CLI_E_DATA = 1,  /* the data is not what was expected: exit 2 */
    CLI_E_USAGE = 2, /* a bad option or argument, a missing file: exit 2 */
    CLI_E_IO = 3,    /* reading or writing failed: exit 1 */
    CLI_E_NOMEM = 4, /* out of memory: exit 1 */
    CLI_E_LIB = 5    /* a libnn call failed: exit 1 */
} cli_status;

/* The documented exit codes. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_BAD 2
#define CLI_EXIT_INTERRUPTED 130

#define CLI_MSG_SIZE 1024

typedef struct cli_err {
    cli_status status;
    char msg[CLI_MSG_SIZE];
} cli_err;

/* Records status and the formatted message in e (which may be NULL) and
 * returns status. */
cli_status cli_fail(cli_err *e, cli_status status, const char *fmt, ...)
    CLI_PRINTF(3, 4);

/* "out of memory" with what was being done. */
cli_status cli_nomem(cli_err *e, const char *what);

/* The exit code for a status. */
int cli_exit_code(cli_status status);

/* Writes a printable, quoted and possibly shortened form of the len bytes
 * at s into buf (size bytes, at least 16) for a message, and returns buf:
 * control bytes and quotes are escaped, and text beyond about 40 bytes is
 * cut with "...". */
const char *cli_show(char *buf, size_t size, const char *s, size_t len);

#endif /* CLI_ERR_H */
