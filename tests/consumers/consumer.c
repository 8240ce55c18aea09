/* SPDX-License-Identifier: MIT */
/* A C program built against an installed libnn the way a user builds one:
 *   cc consumer.c $(pkg-config --cflags --libs nn)
 * It checks that the library it loaded is the version of the header it was
 * compiled with, then learns XOR. Exits non-zero on any failure. */
#include <nn.h>
#include <stdio.h>

int main(void)
{
    static const float x[] = {0, 0, 0, 1, 1, 0, 1, 1};
    static const float t[] = {0, 1, 1, 0};
    float y[4];
    nn_model *m = NULL;
    double loss = 0;
    int i;

    if (nn_version_number() != NN_VERSION_NUMBER) {
        fprintf(stderr, "header %d, library %u (%s)\n", NN_VERSION_NUMBER,
                nn_version_number(), nn_version_string());
        return 1;
    }
    if (nn_model_create(&m, 2, 7) != NN_OK ||
        nn_model_add_dense(m, 4, NN_ACT_TANH) != NN_OK ||
        nn_model_add_dense(m, 1, NN_ACT_SIGMOID) != NN_OK ||
        nn_model_set_loss(m, NN_LOSS_BCE) != NN_OK ||
        nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.5) != NN_OK)
        goto fail;
    for (i = 0; i < 2000; i++)
        if (nn_model_train_batch(m, 4, x, 2, t, 1, &loss) != NN_OK)
            goto fail;
    if (nn_model_predict(m, 4, x, 2, y, 1) != NN_OK)
        goto fail;
    for (i = 0; i < 4; i++)
        if ((y[i] > 0.5f) != (t[i] > 0.5f)) {
            fprintf(stderr, "row %d: predicted %f for target %g\n", i, y[i],
                    t[i]);
            nn_model_free(m);
            return 1;
        }
    printf("C consumer: libnn %s learned XOR (loss %.4f)\n",
           nn_version_string(), loss);
    nn_model_free(m);
    return 0;
fail:
    fprintf(stderr, "%s\n", nn_last_error());
    nn_model_free(m);
    return 1;
}
