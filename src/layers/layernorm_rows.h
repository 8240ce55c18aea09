/* SPDX-License-Identifier: MIT */
/*
 * layernorm_rows.h - layernorm.c's passes over the rows, written once
 * over eight lanes of double (L8_T, L8, L8_NAME, L8_ATTR) and included
 * through lanes.h once per type of lanes; no include guard. Either copy
 * forms every sum in the same order.
 */

/* The mean and 1 / sqrt(var + eps) of R rows of k floats at x (R at most
 * STAT_ROWS, a constant where this is inlined), each row's two sums in
 * its own eight lanes as for a row alone (the same order, the same bits).
 * The R rows' chains of additions are interleaved: a row's chain waits for each
 * addition before the next, so one row alone ran at the adder's latency,
 * not its throughput. Always inlined: a copy called from the clones would
 * be compiled for the baseline only (and one from norm_rows_v4 for v4
 * with a variable R). With keep (a constant where inlined) the first pass
 * stores the rows in double at xd (R rows of k) and the second reads them
 * there. */
static NN__ALWAYS_INLINE void L8_NAME(row_stats)(const float *x, size_t k,
                                                 size_t R, double eps,
                                                 double *mean, double *r,
                                                 double *xd, const int keep)
{
    L8_T acc[STAT_ROWS];
    double s[8];
    size_t q, j, t;
#pragma GCC unroll 4
    for (q = 0; q < R; q++)
        acc[q] = L8(zero)();
    for (j = 0; j + 8 <= k; j += 8)
#pragma GCC unroll 4
        for (q = 0; q < R; q++) {
            L8_T v = L8(load)(x + q * k + j);
            if (keep)
                L8(store)(xd + q * k + j, v);
            acc[q] = L8(add)(acc[q], v);
        }
#pragma GCC unroll 4
    for (q = 0; q < R; q++) {
        L8(store)(s, acc[q]);
        for (t = j; t < k; t++) {
            if (keep)
                xd[q * k + t] = x[q * k + t];
            s[t & 7] += x[q * k + t];
        }
        mean[q] = nn__lanes8_total(s) / (double)k;
        acc[q] = L8(zero)();
    }
    for (j = 0; j + 8 <= k; j += 8)
#pragma GCC unroll 4
        for (q = 0; q < R; q++) {
            L8_T v, d;
            if (keep)
                v = L8(load_doubles)(xd + q * k + j);
            else
                v = L8(load)(x + q * k + j);
            d = L8(sub)(v, L8(splat)(mean[q]));
            acc[q] = L8(add)(acc[q], L8(mul)(d, d));
        }
#pragma GCC unroll 4
    for (q = 0; q < R; q++) {
        L8(store)(s, acc[q]);
        for (t = j; t < k; t++) {
            double v = keep ? xd[q * k + t] : (double)x[q * k + t];
            double d = v - mean[q];
            s[t & 7] += d * d;
        }
        r[q] = 1.0 / sqrt(nn__lanes8_total(s) / (double)k + eps);
    }
}

/* n rows of k: y = gamma x-hat + beta, and each row's mean and 1 /
 * sqrt(var + eps) into mean_out and inv when inv is not NULL (both or
 * neither); STAT_ROWS rows at a time. Where xd is not NULL (room for
 * STAT_ROWS rows of k doubles) the first pass over the rows keeps them
 * there in double, and the second reads that copy rather than converting
 * each float again (the same values: a float is exact in double).
 * Returns the largest |y|'s bits. */
static L8_ATTR uint32_t L8_NAME(norm_rows)(const float *x,
                                           const float *gamma,
                                           const float *beta, double eps,
                                           size_t n, size_t k, float *y,
                                           double *mean_out, double *inv,
                                           double *xd)
{
    uint32_t top = 0;
    size_t i = 0, q, R;
    const int keep = xd != NULL;
    for (; i < n; i += R) {
        double mean[STAT_ROWS], r[STAT_ROWS];
        R = n - i >= STAT_ROWS ? STAT_ROWS : 1;
        if (R == STAT_ROWS && keep)
            L8_NAME(row_stats)(x + i * k, k, STAT_ROWS, eps, mean, r, xd, 1);
        else if (R == STAT_ROWS)
            L8_NAME(row_stats)(x + i * k, k, STAT_ROWS, eps, mean, r, xd, 0);
        else if (keep)
            L8_NAME(row_stats)(x + i * k, k, 1, eps, mean, r, xd, 1);
        else
            L8_NAME(row_stats)(x + i * k, k, 1, eps, mean, r, xd, 0);
        for (q = 0; q < R; q++) {
            size_t o = (i + q) * k;
            uint32_t t = norm_row(x + o, gamma, beta,
                                  coefs_of(mean[q], r[q]), k, y + o);
            top = t > top ? t : top;
            if (inv) {
                mean_out[i + q] = mean[q];
                inv[i + q] = r[q];
            }
        }
    }
    return top;
}

/* R rows (at most BACK_ROWS, a constant where this is inlined) of the
 * backward pass, dy, xh and gx at their first, with dx-hat = dy gamma:
 * dL/dx = inv (dx-hat - mean(dx-hat) - x-hat mean(dx-hat x-hat)), into gx
 * when it is not NULL; each row's two sums in its own eight lanes, and
 * the rows' shares of the columns' sums sdx (dy x-hat) and sdy (dy) added
 * in row order: the same operations in the same order as one row at a
 * time, with the rows' chains of additions interleaved. dx-hat, in double
 * (exact: the product of two floats), goes to dxh (R rows of k) as the
 * sums form it, and dL/dx reads it there rather than forming it again.
 * With db not NULL, where x (the rows' input) is a relu's output, that
 * relu's dL/dZ goes to gx in place of dL/dx, its column sums are added
 * into db and its largest magnitude into *top (relu_row). */
static NN__ALWAYS_INLINE void
L8_NAME(back_rows)(const float *dy, const float *xh, const float *x,
                   const float *gamma, const double *inv, size_t k, size_t R,
                   double *sdx, double *sdy, double *dxh, float *gx,
                   float *db, uint32_t *top)
{
    L8_T v1[BACK_ROWS], v2[BACK_ROWS];
    double s1[8], s2[8], m1, m2;
    size_t q, j, t;
#pragma GCC unroll 4
    for (q = 0; q < R; q++)
        v1[q] = v2[q] = L8(zero)();
    for (j = 0; j + 8 <= k; j += 8) {
        L8_T w = L8(load)(gamma + j);
        L8_T cx = L8(load_doubles)(sdx + j);
        L8_T cy = L8(load_doubles)(sdy + j);
#pragma GCC unroll 4
        for (q = 0; q < R; q++) {
            L8_T g = L8(load)(dy + q * k + j);
            L8_T h = L8(load)(xh + q * k + j);
            L8_T d = L8(mul)(g, w);
            L8(store)(dxh + q * k + j, d);
            v1[q] = L8(add)(v1[q], d);
            v2[q] = L8(add)(v2[q], L8(mul)(d, h));
            cx = L8(add)(cx, L8(mul)(g, h));
            cy = L8(add)(cy, g);
        }
        L8(store)(sdx + j, cx);
        L8(store)(sdy + j, cy);
    }
    for (q = 0; q < R; q++) {
        const float *g = dy + q * k, *h = xh + q * k;
        double *dd = dxh + q * k;
        L8(store)(s1, v1[q]);
        L8(store)(s2, v2[q]);
        for (t = j; t < k; t++) {
            double d = (double)g[t] * gamma[t];
            dd[t] = d;
            s1[t & 7] += d;
            s2[t & 7] += d * h[t];
            sdx[t] += (double)g[t] * h[t];
            sdy[t] += g[t];
        }
        m1 = nn__lanes8_total(s1) / (double)k;
        m2 = nn__lanes8_total(s2) / (double)k;
        if (gx && db) {
            uint32_t t2 = relu_row(dd, h, x + q * k, inv[q], m1, m2, k,
                                   gx + q * k, db);
            *top = t2 > *top ? t2 : *top;
        } else if (gx) {
            for (t = 0; t < k; t++)
                gx[q * k + t] = (float)(inv[q] * (dd[t] - m1 - h[t] * m2));
        }
    }
}

/* The backward pass of n rows (dy, x at their first row, gx NULL or
 * likewise; each row's mean and 1 / sqrt(var + eps) in mean and inv;
 * with db not NULL, the relu's dL/dZ, bias gradient and largest |dL/dZ|,
 * returned as its bits, as back_rows forms them, db from zero; else 0):
 * back_rows BACK_ROWS rows at a time, then one, each group's rows of
 * x-hat formed first (x_hat_rows); the columns' sums sdx and sdy start at
 * zero; room holds BACK_ROWS rows of k doubles and then BACK_ROWS rows of
 * k floats. */
static L8_ATTR uint32_t L8_NAME(back_all)(
    const float *dy, const float *x, const float *gamma, const double *mean,
    const double *inv, size_t n, size_t k, double *sdx, double *sdy,
    double *room, float *gx, float *db)
{
    size_t i, j, R;
    uint32_t top = 0;
    float *xh = (float *)(void *)(room + BACK_ROWS * k);
    for (j = 0; j < k; j++)
        sdx[j] = sdy[j] = 0.0;
    if (db)
        for (j = 0; j < k; j++)
            db[j] = 0.0f;
    for (i = 0; i < n; i += R) {
        const float *d = dy + i * k;
        float *g = gx ? gx + i * k : NULL;
        R = n - i >= BACK_ROWS ? BACK_ROWS : 1;
        if (R == BACK_ROWS) {
            x_hat_rows(x + i * k, mean + i, inv + i, k, BACK_ROWS, xh);
            L8_NAME(back_rows)(d, xh, x + i * k, gamma, inv + i, k,
                               BACK_ROWS, sdx, sdy, room, g, db, &top);
        } else {
            x_hat_rows(x + i * k, mean + i, inv + i, k, 1, xh);
            L8_NAME(back_rows)(d, xh, x + i * k, gamma, inv + i, k, 1, sdx,
                               sdy, room, g, db, &top);
        }
    }
    return top;
}
