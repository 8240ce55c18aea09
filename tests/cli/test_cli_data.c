/* SPDX-License-Identifier: MIT */
/*
 * test_cli_data.c - the nn command's data sets (cli/data.c) from real
 * files: columns chosen by name, by index and by a model's recorded
 * columns; rows picked; the validation split (deterministic, disjoint,
 * in file order); classes found in labels (integers 0..k-1 as themselves,
 * other labels sorted, "1" and "01" one class) and refused when they do
 * not fit the output layer; labels mapped through known classes, an
 * unseen one named with its line and column; and every allocation of a
 * whole load, split and class fit failed in turn.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data.h"
#include "mem.h"

static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/nn-cli-data-XXXXXX");
    int fd;
    assert_non_null(path);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void spec_init(cli_data_spec *s, const char *path)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    s->format = CLI_FMT_AUTO;
    s->csv.delim = ',';
    s->csv.header = 1;
}

static char *items[4];

/* A one-item list for --target or --features. */
static char **one(const char *s)
{
    items[0] = (char *)(uintptr_t)s;
    return items;
}

static const char table[] =
    "id,x1,x2,kind\n"
    "7,1,10,b\n"
    "8,2,20,a\n"
    "9,3,30,c\n"
    "10,4,40,a\n";

static void columns_by_name_index_and_default(void **state)
{
    char *path = write_tmp(table);
    cli_data_spec s;
    cli_data d;
    cli_err e;
    (void)state;

    /* default: the last column is the target, the others inputs */
    spec_init(&s, path);
    assert_int_equal(cli_data_load(&s, CLI_TASK_CLASSES, 0, &d, &e), CLI_OK);
    assert_int_equal(d.rows, 4);
    assert_int_equal(d.nx, 3);
    assert_true(d.x[0] == 7 && d.x[1] == 1 && d.x[2] == 10);
    assert_int_equal(d.n_raw, 3);
    assert_int_equal(d.label_col, 3);
    assert_string_equal(d.label_col_name, "kind");
    assert_int_equal(d.cols.ncols, 4);
    assert_string_equal(d.cols.in_name[2], "x2");
    cli_data_free(&d);

    /* features by name in a chosen order, target by negative index */
    spec_init(&s, path);
    s.features = one("x2");
    s.n_features = 1;
    s.target = (char *[]){"-1"};
    s.n_target = 1;
    assert_int_equal(cli_data_load(&s, CLI_TASK_CLASSES, 0, &d, &e), CLI_OK);
    assert_int_equal(d.nx, 1);
    assert_true(d.x[0] == 10 && d.x[3] == 40);
    assert_int_equal(d.cols.in_col[0], 2);
    cli_data_free(&d);

    /* a regression on column 1 by index; a name that is not there */
    spec_init(&s, path);
    s.target = one("1");
    s.n_target = 1;
    s.features = (char *[]){"id", "x2"};
    s.n_features = 2;
    assert_int_equal(cli_data_load(&s, CLI_TASK_REGRESS, 1, &d, &e), CLI_OK);
    assert_int_equal(d.nt, 1);
    assert_true(d.t[2] == 3);
    assert_true(d.x[4] == 9 && d.x[5] == 30);
    cli_data_free(&d);
    s.target = one("x9");
    assert_int_equal(cli_data_load(&s, CLI_TASK_REGRESS, 1, &d, &e),
                     CLI_E_USAGE);
    assert_non_null(strstr(e.msg, "line 1: no column is named \"x9\""));
    s.target = one("x1");
    s.features = (char *[]){"x1"};
    s.n_features = 1;
    assert_int_equal(cli_data_load(&s, CLI_TASK_REGRESS, 1, &d, &e),
                     CLI_E_USAGE);
    assert_non_null(strstr(e.msg, "column 1 is also a target"));
    unlink(path);
    free(path);
}

static void a_models_columns_are_found_by_name(void **state)
{
    /* trained on (x1, x2) -> kind; this file has them in another order,
     * with an extra column */
    char *path = write_tmp("kind,zz,x2,x1\nb,0,10,1\na,0,20,2\n");
    size_t in_col[2] = {1, 2}, out_col[1] = {3};
    char *in_name[2] = {"x1", "x2"}, *out_name[1] = {"kind"};
    cli_columns m;
    cli_data_spec s;
    cli_data d;
    cli_err e;
    (void)state;
    m.ncols = 4;
    m.nin = 2;
    m.nout = 1;
    m.in_col = in_col;
    m.in_name = in_name;
    m.out_col = out_col;
    m.out_name = out_name;
    spec_init(&s, path);
    s.model = &m;
    s.model_inputs = 2;
    assert_int_equal(cli_data_load(&s, CLI_TASK_CLASSES, 0, &d, &e), CLI_OK);
    assert_true(d.x[0] == 1 && d.x[1] == 10 && d.x[2] == 2);
    assert_int_equal(d.label_col, 0);
    cli_data_free(&d);
    /* without targets, a file of the inputs alone by position */
    unlink(path);
    free(path);
    path = write_tmp("5,6\n7,8\n");
    spec_init(&s, path);
    s.csv.header = 0;
    s.model = &m;
    s.model_inputs = 2;
    assert_int_equal(cli_data_load(&s, CLI_TASK_NONE, 0, &d, &e), CLI_OK);
    assert_true(d.x[3] == 8);
    cli_data_free(&d);
    assert_int_equal(cli_data_load(&s, CLI_TASK_CLASSES, 0, &d, &e),
                     CLI_E_DATA);
    assert_non_null(strstr(e.msg, "2 columns; expected 4"));
    unlink(path);
    free(path);
}

static void rows_and_the_validation_split(void **state)
{
    char text[4096];
    size_t i, n = 0, seen[100] = {0};
    char *path;
    cli_data_spec s;
    cli_data d, v, d2, v2;
    cli_err e;
    size_t pick[3] = {5, 1, 5};
    (void)state;
    n += (size_t)sprintf(text, "x,y\n");
    for (i = 0; i < 100; i++)
        n += (size_t)sprintf(text + n, "%zu,%zu\n", i, i % 2);
    path = write_tmp(text);
    spec_init(&s, path);
    assert_int_equal(cli_data_load(&s, CLI_TASK_REGRESS, 1, &d, &e), CLI_OK);
    assert_int_equal(cli_data_split(&d, 20, 42, &v, &e), CLI_OK);
    assert_int_equal(d.rows, 80);
    assert_int_equal(v.rows, 20);
    for (i = 0; i < 80; i++) {
        seen[(size_t)d.x[i]]++;
        assert_int_equal(d.origin[i], (size_t)d.x[i] + 2); /* its line */
        if (i)
            assert_true(d.x[i] > d.x[i - 1]);
    }
    for (i = 0; i < 20; i++) {
        seen[(size_t)v.x[i]]++;
        assert_true(v.t[i] == (float)((size_t)v.x[i] % 2));
    }
    for (i = 0; i < 100; i++)
        assert_int_equal(seen[i], 1);
    /* the same seed, the same split; another seed, another */
    assert_int_equal(cli_data_load(&s, CLI_TASK_REGRESS, 1, &d2, &e),
                     CLI_OK);
    assert_int_equal(cli_data_split(&d2, 20, 42, &v2, &e), CLI_OK);
    assert_memory_equal(v.x, v2.x, 20 * sizeof(float));
    cli_data_free(&d2);
    cli_data_free(&v2);
    assert_int_equal(cli_data_load(&s, CLI_TASK_REGRESS, 1, &d2, &e),
                     CLI_OK);
    assert_int_equal(cli_data_split(&d2, 20, 43, &v2, &e), CLI_OK);
    assert_true(memcmp(v.x, v2.x, 20 * sizeof(float)) != 0);
    cli_data_free(&d2);
    cli_data_free(&v2);
    cli_data_free(&v);
    assert_int_equal(cli_data_split(&d, 80, 1, &v, &e), CLI_E_USAGE);
    /* rows in the order given, repeats allowed */
    assert_int_equal(cli_data_select(&d, pick, 3, &e), CLI_OK);
    assert_int_equal(d.rows, 3);
    assert_true(d.x[0] == d.x[2]);
    cli_data_free(&d);
    unlink(path);
    free(path);
}

typedef struct class_case {
    const char *labels; /* one per line */
    cli_task task;
    size_t k;
    cli_status want;
    const char *names;  /* the classes, joined by '|', or the message */
    const char *first;  /* the class index of each row, as digits */
} class_case;

static const class_case class_cases[] = {
    {"2\n0\n1\n0\n", CLI_TASK_CLASSES, 4, CLI_OK, "0|1|2|3", "2010"},
    {"b\na\nc\na\n", CLI_TASK_CLASSES, 3, CLI_OK, "a|b|c", "1020"},
    {"10\n9\n01\n1\n", CLI_TASK_CLASSES, 3, CLI_OK, "1|9|10", "2100"},
    {"-1\n5\n5\n", CLI_TASK_CLASSES, 2, CLI_OK, "-1|5", "011"},
    {"yes\nno\nno\n", CLI_TASK_BINARY, 2, CLI_OK, "no|yes", "100"},
    {"0\n0\n", CLI_TASK_BINARY, 2, CLI_OK, "0|1", "00"},
    {"b\na\nc\n", CLI_TASK_CLASSES, 2, CLI_E_DATA,
     "column 1 (\"y\"): 3 classes (\"a\", \"b\", \"c\"), but the output "
     "layer has 2 units; make its width 3", NULL},
    {"b\na\n", CLI_TASK_CLASSES, 3, CLI_E_DATA,
     "only 2 classes (\"a\", \"b\"), but the output layer has 3 units",
     NULL},
    {"x\nx\n", CLI_TASK_BINARY, 2, CLI_E_DATA,
     "1 class (\"x\"); binary classification (one sigmoid output) needs 2",
     NULL},
};

static void classes_are_found_and_checked(void **state)
{
    size_t c;
    (void)state;
    for (c = 0; c < sizeof class_cases / sizeof class_cases[0]; c++) {
        const class_case *k = &class_cases[c];
        char text[256] = "x,y\n";
        const char *p = k->labels;
        char *path;
        cli_data_spec s;
        cli_data d;
        cli_classes cls;
        cli_err e;
        cli_status st;
        size_t i = 0;
        while (*p) {
            const char *nl = strchr(p, '\n');
            sprintf(text + strlen(text), "%zu,%.*s\n", i++, (int)(nl - p),
                    p);
            p = nl + 1;
        }
        path = write_tmp(text);
        spec_init(&s, path);
        assert_int_equal(cli_data_load(&s, k->task, 0, &d, &e), CLI_OK);
        st = cli_classes_fit(&d, k->task, k->k, &cls, &e);
        if (st != k->want)
            print_error("case %zu: status %d: %s\n", c, (int)st, e.msg);
        assert_int_equal(st, k->want);
        if (st == CLI_OK) {
            char joined[128] = "";
            for (i = 0; i < cls.n; i++)
                sprintf(joined + strlen(joined), "%s%s", i ? "|" : "",
                        cls.names[i]);
            assert_string_equal(joined, k->names);
            for (i = 0; i < d.rows; i++)
                assert_int_equal(k->task == CLI_TASK_CLASSES
                                     ? (int)d.labels[i]
                                     : (int)d.t[i],
                                 k->first[i] - '0');
            cli_classes_free(&cls);
        } else {
            if (!strstr(e.msg, k->names))
                print_error("case %zu: \"%s\" lacks \"%s\"\n", c, e.msg,
                            k->names);
            assert_non_null(strstr(e.msg, k->names));
        }
        cli_data_free(&d);
        unlink(path);
        free(path);
    }
}

static void labels_map_through_known_classes(void **state)
{
    char *path = write_tmp("x,y\n1,cat\n2,dog\n3,cow\n");
    char *names[2] = {"cat", "dog"};
    cli_classes c = {2, names, 0};
    cli_data_spec s;
    cli_data d;
    cli_err e;
    size_t keep[2] = {1, 0};
    (void)state;
    spec_init(&s, path);
    assert_int_equal(cli_data_load(&s, CLI_TASK_CLASSES, 0, &d, &e), CLI_OK);
    assert_int_equal(cli_classes_map(&d, CLI_TASK_CLASSES, &c, &e),
                     CLI_E_DATA);
    assert_non_null(strstr(e.msg, ": line 4, column 1 (\"y\"): class "
                           "\"cow\" was not seen in training; the model's "
                           "classes are \"cat\", \"dog\""));
    /* without the cow's row, every label maps */
    assert_int_equal(cli_data_select(&d, keep, 2, &e), CLI_OK);
    assert_int_equal(cli_classes_map(&d, CLI_TASK_CLASSES, &c, &e), CLI_OK);
    assert_int_equal(d.labels[0], 1);
    assert_int_equal(d.labels[1], 0);
    cli_data_free(&d);
    unlink(path);
    free(path);
}

static cli_status load_split_fit(const char *path)
{
    cli_data_spec s;
    cli_data d, v;
    cli_classes c;
    cli_err e;
    cli_status st;
    memset(&v, 0, sizeof v);
    spec_init(&s, path);
    st = cli_data_load(&s, CLI_TASK_CLASSES, 0, &d, &e);
    if (st != CLI_OK)
        goto out;
    st = cli_data_split(&d, 2, 3, &v, &e);
    if (st == CLI_OK)
        st = cli_classes_fit(&d, CLI_TASK_CLASSES, 3, &c, &e);
    if (st == CLI_OK) {
        st = cli_classes_map(&v, CLI_TASK_CLASSES, &c, &e);
        cli_classes_free(&c);
    }
    cli_data_free(&d);
    cli_data_free(&v);
out:
    if (st != CLI_OK && st != CLI_E_NOMEM)
        print_error("%s\n", e.msg);
    return st;
}

static void every_allocation_of_a_load_can_fail_cleanly(void **state)
{
    char *path = write_tmp("a,b,c\n1,2,x\n3,4,y\n5,6,z\n7,8,x\n9,10,y\n"
                           "11,12,z\n");
    unsigned long k;
    (void)state;
    for (k = 1; k < 10000; k++) {
        cli_status st;
        cli_mem_fail_at(k);
        st = load_split_fit(path);
        cli_mem_fail_at(0);
        if (st == CLI_OK)
            break;
        assert_int_equal(st, CLI_E_NOMEM);
    }
    assert_true(k > 10 && k < 10000);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(columns_by_name_index_and_default),
        cmocka_unit_test(a_models_columns_are_found_by_name),
        cmocka_unit_test(rows_and_the_validation_split),
        cmocka_unit_test(classes_are_found_and_checked),
        cmocka_unit_test(labels_map_through_known_classes),
        cmocka_unit_test(every_allocation_of_a_load_can_fail_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
