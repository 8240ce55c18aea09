/* SPDX-License-Identifier: MIT */
/*
 * err.c - failures and messages of the nn command (see err.h).
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

cli_status cli_fail(cli_err *e, cli_status status, const char *fmt, ...)
{
    va_list ap;
    if (e) {
        e->status = status;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

cli_status cli_nomem(cli_err *e, const char *what)
{
    return cli_fail(e, CLI_E_NOMEM, "out of memory %s", what);
}

int cli_exit_code(cli_status status)
{
    switch (status) {
    case CLI_OK:
        return CLI_EXIT_OK;
    case CLI_E_DATA:
    case CLI_E_USAGE:
        return CLI_EXIT_BAD;
    case CLI_E_IO:
    case CLI_E_NOMEM:
    case CLI_E_LIB:
        break;
    }
    return CLI_EXIT_FAIL;
}

#define SHOW_MAX 40

const char *cli_show(char *buf, size_t size, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, i;

    if (size < 16) {
        if (size)
            buf[0] = '\0';
        return buf;
    }
    buf[o++] = '"';
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[5];
        size_t n;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            n = 2;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            n = 2;
        } else if (c < 0x20 || c == 0x7f) {
            esc[0] = '\\';
            esc[1] = 'x';
            esc[2] = hex[c >> 4];
            esc[3] = hex[c & 15];
            n = 4;
        } else {
            esc[0] = (char)c;
            n = 1;
        }
        /* room for this, the closing quote, "..." and the NUL */
        if (i >= SHOW_MAX || o + n + 5 > size) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(buf + o, esc, n);
        o += n;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}
