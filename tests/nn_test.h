/*
 * nn_test.h - what several test programs share. Include after <cmocka.h>
 * and "nn.h".
 */
#ifndef NN_TEST_H
#define NN_TEST_H

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Asserts that a libnn call succeeded, printing its message if not. */
#define NN_OK_OR_FAIL(call)                                                 \
    do {                                                                    \
        nn_status st_ = (call);                                             \
        if (st_ != NN_OK)                                                   \
            print_error("%s failed: %s (%s)\n", #call,                      \
                        nn_status_string(st_), nn_last_error());            \
        assert_int_equal(st_, NN_OK);                                       \
    } while (0)

#endif /* NN_TEST_H */
