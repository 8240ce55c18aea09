/* SPDX-License-Identifier: MIT */
/*
 * batchnorm_sums.h - batchnorm.c's sums down the rows, written once over
 * eight lanes of double (L8_T, L8, L8_NAME, L8_ATTR) and included
 * through lanes.h once per type of lanes; no include guard. Each
 * column's sum runs in row order in either copy.
 */

/* out[j] = the sum over the n rows of x[i][j] (mean NULL) or of
 * (x[i][j] - mean[j])^2, in double, each column's in row order. Sixteen
 * columns at a time stay in registers across the rows; with the sums in
 * memory, every row loaded and stored each column's sum again. */
static L8_ATTR void L8_NAME(column_sums)(const float *x, const double *mean,
                                         size_t n, size_t k, double *out)
{
    size_t i, j = 0;
    for (; j + 16 <= k; j += 16) {
        L8_T a = L8(zero)(), b = a, ma = a, mb = a;
        if (mean) {
            ma = L8(load_doubles)(mean + j);
            mb = L8(load_doubles)(mean + j + 8);
        }
        for (i = 0; i < n; i++) {
            L8_T u = L8(load)(x + i * k + j);
            L8_T v = L8(load)(x + i * k + j + 8);
            if (mean) {
                u = L8(sub)(u, ma);
                v = L8(sub)(v, mb);
                u = L8(mul)(u, u);
                v = L8(mul)(v, v);
            }
            a = L8(add)(a, u);
            b = L8(add)(b, v);
        }
        L8(store)(out + j, a);
        L8(store)(out + j + 8, b);
    }
    if (j == k)
        return;
    memset(out + j, 0, (k - j) * sizeof *out);
    for (i = 0; i < n; i++) {
        size_t c;
        for (c = j; c < k; c++) {
            double d = x[i * k + c];
            if (mean) {
                d -= mean[c];
                d *= d;
            }
            out[c] += d;
        }
    }
}

/* R rows (at most BN_SUM_ROWS, a constant where this is inlined) of dy
 * and x added into sdy (dy) and sdx (dy (x - mean)), in double, each
 * column's in row order: the R rows at a time along the columns, so that
 * each column's two sums are loaded and stored once for R rows, not for
 * each row. */
static NN__ALWAYS_INLINE void L8_NAME(dy_rows)(const float *dy,
                                               const float *x,
                                               const double *mean, size_t k,
                                               size_t R, double *sdy,
                                               double *sdx)
{
    size_t j, q, t;
    for (j = 0; j + 8 <= k; j += 8) {
        L8_T cy = L8(load_doubles)(sdy + j);
        L8_T cx = L8(load_doubles)(sdx + j);
        L8_T mu = L8(load_doubles)(mean + j);
#pragma GCC unroll 4
        for (q = 0; q < R; q++) {
            L8_T g = L8(load)(dy + q * k + j);
            L8_T c = L8(sub)(L8(load)(x + q * k + j), mu);
            cy = L8(add)(cy, g);
            cx = L8(add)(cx, L8(mul)(g, c));
        }
        L8(store)(sdy + j, cy);
        L8(store)(sdx + j, cx);
    }
    for (q = 0; q < R; q++)
        for (t = j; t < k; t++) {
            double c = (double)x[q * k + t] - mean[t];
            sdy[t] += dy[q * k + t];
            sdx[t] += (double)dy[q * k + t] * c;
        }
}

/* sdy[j] = the sum over the n rows of dy[i][j], sdx[j] that of
 * dy[i][j] (x[i][j] - mean[j]): BN_SUM_ROWS rows at a time, then one. */
static L8_ATTR void L8_NAME(dy_sums)(const float *dy, const float *x,
                                     const double *mean, size_t n, size_t k,
                                     double *sdy, double *sdx)
{
    size_t i, j, R;
    for (j = 0; j < k; j++)
        sdy[j] = sdx[j] = 0.0;
    for (i = 0; i < n; i += R) {
        R = n - i >= BN_SUM_ROWS ? BN_SUM_ROWS : 1;
        if (R == BN_SUM_ROWS)
            L8_NAME(dy_rows)(dy + i * k, x + i * k, mean, k, BN_SUM_ROWS,
                             sdy, sdx);
        else
            L8_NAME(dy_rows)(dy + i * k, x + i * k, mean, k, 1, sdy, sdx);
    }
}

/* A relu dense layer's bias pass, z = relu(z + b) in place over n rows of
 * k, with the largest |z|'s bits returned (bn_relu_rows: the dense layer's
 * pass, the same expressions), and the column sums of the result into
 * out, in double, each column's in row order, as column_sums (mean NULL)
 * forms them: BN_RELU_ROWS rows at a time, their pass first, then their
 * sums from L1, sixteen columns at a time (each column's sum loaded and
 * stored once for the rows). A loop over sixteen columns down every row
 * doing both did not vectorise, and its sums read the floats just stored
 * one by one: a step of bench_layers' batch normalization net took 1.15
 * ms more at batch 512. */
static L8_ATTR uint32_t L8_NAME(relu_sums)(float *z, const float *b,
                                           size_t n, size_t k, double *out)
{
    size_t i, j, q, c, R;
    uint32_t top = 0;
    for (i = 0; i < n; i += R) {
        const float *rows = z + i * k;
        R = n - i >= BN_RELU_ROWS ? BN_RELU_ROWS : n - i;
        top = bn_relu_rows(z + i * k, b, R, k, top);
        for (j = 0; j + 16 <= k; j += 16) {
            L8_T s = L8(zero)(), u = s;
            if (i) {
                s = L8(load_doubles)(out + j);
                u = L8(load_doubles)(out + j + 8);
            }
            for (q = 0; q < R; q++) {
                s = L8(add)(s, L8(load)(rows + q * k + j));
                u = L8(add)(u, L8(load)(rows + q * k + j + 8));
            }
            L8(store)(out + j, s);
            L8(store)(out + j + 8, u);
        }
        for (c = j; c < k; c++) {
            double d = i ? out[c] : 0.0;
            for (q = 0; q < R; q++)
                d += rows[q * k + c];
            out[c] = d;
        }
    }
    return top;
}
