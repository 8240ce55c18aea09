#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "nn.h"
static void create_works(void **state) { nn_model *m; (void)state; assert_int_equal(nn_model_create(&m, 2, 1), NN_OK); nn_model_free(m); }
int main(void) { const struct CMUnitTest t[] = { cmocka_unit_test(create_works) }; return cmocka_run_group_tests(t, NULL, NULL); }
