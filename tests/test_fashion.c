/* SPDX-License-Identifier: MIT */
/*
 * test_fashion.c - the main job as a test (labelled slow): 784-256-128-10
 * relu/softmax trained for 2 epochs on the 60,000 Fashion-MNIST training
 * images (SGD, momentum 0.9, learning rate 0.05 annealed by a cosine,
 * batch 128) reaches at least 85% accuracy on the 10,000 test images. The data
 * comes from Debian's dataset-fashion-mnist, which the test command
 * installs; NN_FASHION_DIR overrides the directory. Missing data fails the
 * test: it is never counted as passed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "idx.h"
#include "nn.h"

static const char *data_dir(void)
{
    const char *d = getenv("NN_FASHION_DIR");
    return d && *d ? d : "/usr/share/datasets/fashion-mnist";
}

static void load(const char *name, int images, idx_images *im,
                 idx_labels *lb)
{
    char path[1024], msg[256];
    idx_result r;
    snprintf(path, sizeof path, "%s/%s", data_dir(), name);
    r = images ? idx_read_images(path, 28, 28, im, msg, sizeof msg)
               : idx_read_labels(path, 10, lb, msg, sizeof msg);
    if (r != IDX_OK)
        fail_msg("%s: %s (install dataset-fashion-mnist)", path, msg);
}

static void two_epochs_reach_85_percent_test_accuracy(void **state)
{
    idx_images train_x, test_x;
    idx_labels train_y, test_y;
    nn_model *m = NULL;
    nn_data *train = NULL, *test = NULL;
    double loss, acc;
    (void)state;
    load("train-images-idx3-ubyte.gz", 1, &train_x, NULL);
    load("train-labels-idx1-ubyte.gz", 0, NULL, &train_y);
    load("t10k-images-idx3-ubyte.gz", 1, &test_x, NULL);
    load("t10k-labels-idx1-ubyte.gz", 0, NULL, &test_y);
    assert_int_equal(train_x.count, 60000);
    assert_int_equal(test_x.count, 10000);

    assert_int_equal(nn_model_create(&m, 784, 1), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 256, NN_ACT_RELU), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 128, NN_ACT_RELU), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 10, NN_ACT_SOFTMAX), NN_OK);
    assert_int_equal(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.05),
                     NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.9), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_BATCH_SIZE, 128), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_EPOCHS, 2), NN_OK);
    /* Cosine annealing to zero over the two epochs' 2 * 469 steps. */
    assert_int_equal(nn_model_set_schedule(m, NN_SCHED_COSINE), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_SCHED_T_MAX, 2 * 469),
                     NN_OK);
    assert_int_equal(nn_data_create_labels(&train, train_x.count,
                                           train_x.pixels, 784,
                                           train_y.labels), NN_OK);
    assert_int_equal(nn_data_create_labels(&test, test_x.count, test_x.pixels,
                                           784, test_y.labels), NN_OK);

    assert_int_equal(nn_model_evaluate(m, test, &loss, &acc), NN_OK);
    print_message("before training: test loss %.4f, accuracy %.2f%%\n", loss,
                  100.0 * acc);
    assert_true(acc < 0.3); /* untrained: near chance, so the rise is real */

    assert_int_equal(nn_model_fit(m, train, NULL, NULL, NULL, NULL), NN_OK);
    assert_int_equal(nn_model_evaluate(m, test, &loss, &acc), NN_OK);
    print_message("after 2 epochs: test loss %.4f, accuracy %.2f%%\n", loss,
                  100.0 * acc);
    assert_true(acc >= 0.85);

    nn_data_free(train);
    nn_data_free(test);
    nn_model_free(m);
    idx_images_free(&train_x);
    idx_images_free(&test_x);
    idx_labels_free(&train_y);
    idx_labels_free(&test_y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_epochs_reach_85_percent_test_accuracy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
