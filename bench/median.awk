# SPDX-License-Identifier: MIT
#
# median.awk - the median of a[1..n], for the bench scripts' summaries
# (awk -f bench/median.awk -f PROGRAM). Sorts a in place.
function median(a, n,    i, j, t) {
    for (i = 2; i <= n; i++)            # insertion sort: n is small
        for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
            t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
        }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
