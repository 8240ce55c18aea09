/* SPDX-License-Identifier: MIT */
/*
 * c_driver_other.c - a second file including the header of
 * nn_model_export_c without NET_IMPLEMENTATION, as every caller but one
 * does: it declares net_predict and the sizes, and defines nothing.
 */
#include NET_HEADER

void other_predict(const float *x, float *y);

void other_predict(const float *x, float *y)
{
    float in[NET_INPUTS];
    int i;
    for (i = 0; i < NET_INPUTS; i++)
        in[i] = x[i];
    net_predict(in, y);
}
