/* SPDX-License-Identifier: MIT */
/*
 * rows.h - the rows and targets that make_expected.c fed libnn 0.1 and
 * test_compat.c feeds this libnn: one definition for both.
 */
#ifndef NN_V1_ROWS_H
#define NN_V1_ROWS_H

#include <stddef.h>

/* Row i, column j of the inputs. */
static float row_value(size_t i, size_t j)
{
    return (float)((int)((i * 5 + j * 3) % 11) - 5) / 4.0f;
}

/* The targets: one-hot rows for cross-entropy, values in (0, 1) else. */
static float target_value(size_t i, size_t j, size_t out, int ce)
{
    if (ce)
        return j == i % out ? 1.0f : 0.0f;
    return (float)((i + 2 * j) % 7 + 1) / 8.0f;
}

#endif /* NN_V1_ROWS_H */
