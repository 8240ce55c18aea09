/* SPDX-License-Identifier: MIT */
/*
 * status.c - status strings, the per-thread message of the last failure,
 * and the library's version.
 */
#include "nn_internal.h"

#include <stdarg.h>
#include <stdio.h>

/* Per thread, so that a failed create (no handle yet) can report, and so
 * that concurrent predicts on one const model never share a buffer. */
static _Thread_local char nn__msg[512];

nn_status nn__fail(nn_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(nn__msg, sizeof nn__msg, fmt, ap);
    va_end(ap);
    return status;
}

const char *nn_last_error(void)
{
    return nn__msg;
}

const char *nn_status_string(nn_status status)
{
    switch (status) {
    case NN_OK: return "success";
    case NN_E_NULL: return "required pointer argument is NULL";
    case NN_E_INVALID: return "invalid argument value";
    case NN_E_SHAPE: return "width or count disagrees with the model";
    case NN_E_STATE: return "operation not possible in the model's state";
    case NN_E_NOMEM: return "out of memory";
    case NN_E_OVERFLOW: return "size overflows size_t";
    case NN_E_NONFINITE: return "non-finite loss or gradient; step rejected";
    case NN_E_IO: return "file input/output failed";
    case NN_E_FORMAT: return "not a valid model file";
    case NN_E_REDUCE: return "a reduction across processes failed";
    }
    return "unknown status";
}

#define NN__STR2(x) #x
#define NN__STR(x) NN__STR2(x)

unsigned nn_version_number(void)
{
    return NN_VERSION_NUMBER;
}

const char *nn_version_string(void)
{
    return NN__STR(NN_VERSION_MAJOR) "." NN__STR(NN_VERSION_MINOR) "."
        NN__STR(NN_VERSION_PATCH);
}
