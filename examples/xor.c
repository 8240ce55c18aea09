/* SPDX-License-Identifier: MIT */
/* xor.c - the smallest useful libnn program: learn XOR with a 2-4-1 net. */
#include <stdio.h>

#include "nn.h"

int main(void)
{
    const float x[] = {0, 0, 0, 1, 1, 0, 1, 1};
    const float t[] = {0, 1, 1, 0};
    float y[4];
    nn_model *m = NULL;
    double loss = 0.0;
    int step, i;

    if (nn_model_create(&m, 2, 7) != NN_OK ||
        nn_model_add_dense(m, 4, NN_ACT_TANH) != NN_OK ||
        nn_model_add_dense(m, 1, NN_ACT_SIGMOID) != NN_OK ||
        nn_model_set_loss(m, NN_LOSS_BCE) != NN_OK ||
        nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.5) != NN_OK)
        goto fail;
    for (step = 0; step < 2000; step++)
        if (nn_model_train_batch(m, 4, x, 2, t, 1, &loss) != NN_OK)
            goto fail;
    if (nn_model_predict(m, 4, x, 2, y, 1) != NN_OK)
        goto fail;
    printf("loss after 2000 steps: %.6f\n", loss);
    for (i = 0; i < 4; i++)
        printf("%g xor %g -> %.4f\n", x[2 * i], x[2 * i + 1], y[i]);
    nn_model_free(m);
    return 0;
fail:
    fprintf(stderr, "xor: %s\n", nn_last_error());
    nn_model_free(m);
    return 1;
}
