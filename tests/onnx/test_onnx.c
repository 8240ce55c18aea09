/* SPDX-License-Identifier: MIT */
/*
 * test_onnx.c - ONNX export and import and C source export (src/onnx/):
 * the buffer API of the export; models of every layer kind and activation
 * exported and imported back to the same predictions, bit for bit; the
 * graphs PyTorch's torch.onnx.export writes (tests/onnx/fixtures, made by
 * make_fixtures.py) imported to the layers they describe, predicting what
 * PyTorch predicted and training one step as PyTorch did; graphs libnn
 * refuses, with the message each must give; bytes that are not ONNX,
 * truncated at every length or with every bit flipped; atomic exports
 * with every file operation failed in turn; and every allocation of each
 * call failed in turn.
 *
 * ONNX Runtime and onnx.checker check the exported files, and gcc and
 * clang the exported C, in the tests onnx_runtime, onnx_checker and
 * onnx_c_export (CMakeLists.txt).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn.h"
#include "nn_test.h"
/* Both: src/onnx/interop.h repeats three declarations of
 * src/nn_internal.h, and a disagreement between them fails here. */
#include "nn_internal.h"
#include "interop.h"
#include "file_faults.h"
#include "models.h"

static counter ctr;

/* ======================================================================
 * Helpers
 * ====================================================================== */

static void assert_file_holds(const char *path, const void *p, size_t n)
{
    size_t len;
    unsigned char *got = read_all(path, &len);
    assert_int_equal(len, n);
    assert_memory_equal(got, p, n);
    free(got);
}

/* Entries of tmpdir but . and ..; none may be a temporary file. */
static int dir_entries(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (strstr(e->d_name, ".tmp."))
            print_error("temporary file left: %s\n", e->d_name);
        assert_null(strstr(e->d_name, ".tmp."));
        n++;
    }
    closedir(d);
    return n;
}

static void clear_tmp(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char p[512];
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        unlink(in_tmp(p, e->d_name));
    }
    closedir(d);
}

static void expect_message(const char *part)
{
    if (!strstr(nn_last_error(), part))
        print_error("message '%s' lacks '%s'\n", nn_last_error(), part);
    assert_non_null(strstr(nn_last_error(), part));
}

static unsigned char *export_to_memory(const nn_model *m, size_t *size)
{
    unsigned char *buf;
    size_t need = 0, written = 0;
    assert_int_equal(nn_model_export_onnx_buffer(m, NULL, 0, &need),
                     NN_E_SHAPE);
    assert_true(need > 0);
    buf = (unsigned char *)malloc(need);
    assert_non_null(buf);
    NN_OK_OR_FAIL(nn_model_export_onnx_buffer(m, buf, need, &written));
    assert_int_equal(written, need);
    *size = need;
    return buf;
}

static nn_model *case_model(size_t k)
{
    nn_model *m = tm_build(k);
    if (!m)
        print_error("building %s: %s\n", test_cases[k].name,
                    nn_last_error());
    assert_non_null(m);
    return m;
}

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/nn_test_onnx_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    clear_tmp();
    return rmdir(tmpdir);
}

static int each_setup(void **state)
{
    (void)state;
    memset(&ctr, 0, sizeof ctr);
    clear_tmp();
    return nn_set_allocator(count_malloc, count_free, &ctr) == NN_OK ? 0 : -1;
}

static int each_teardown(void **state)
{
    (void)state;
    if (ctr.live != 0)
        print_error("%ld blocks not freed\n", ctr.live);
    return nn_set_allocator(NULL, NULL, NULL) == NN_OK && ctr.live == 0 ? 0
                                                                        : -1;
}

/* ======================================================================
 * The export's API
 * ====================================================================== */

static void export_buffer_reports_the_size_it_needs_and_writes_nothing_short(
    void **state)
{
    nn_model *m = case_model(0);
    unsigned char *a, *b;
    size_t size, need = 0, written = 7, i;
    (void)state;
    a = export_to_memory(m, &size);
    b = (unsigned char *)malloc(size + 16);
    assert_non_null(b);

    /* one byte short: the size, and not a byte written */
    memset(b, 0xab, size + 16);
    assert_int_equal(nn_model_export_onnx_buffer(m, b, size - 1, &need),
                     NN_E_SHAPE);
    assert_int_equal(need, size);
    expect_message("the file needs");
    for (i = 0; i < size + 16; i++)
        assert_int_equal(b[i], 0xab);

    /* room to spare: the same bytes, and nothing after them */
    assert_int_equal(nn_model_export_onnx_buffer(m, b, size + 16, &written),
                     NN_OK);
    assert_int_equal(written, size);
    assert_memory_equal(a, b, size);
    for (i = size; i < size + 16; i++)
        assert_int_equal(b[i], 0xab);
    /* written may be NULL */
    assert_int_equal(nn_model_export_onnx_buffer(m, b, size, NULL), NN_OK);
    free(a);
    free(b);
    nn_model_free(m);
}

static void exports_refuse_null_empty_and_nonfinite_models(void **state)
{
    nn_model *empty = NULL, *m = case_model(3);
    unsigned char buf[16];
    size_t n = 0;
    float *params;
    char p[512];
    (void)state;
    NN_OK_OR_FAIL(nn_model_create(&empty, 3, 1));

    assert_int_equal(nn_model_export_onnx_buffer(NULL, buf, 16, &n),
                     NN_E_NULL);
    assert_int_equal(nn_model_export_onnx_buffer(m, NULL, 16, &n), NN_E_NULL);
    assert_int_equal(nn_model_export_onnx(NULL, in_tmp(p, "a.onnx")),
                     NN_E_NULL);
    assert_int_equal(nn_model_export_onnx(m, NULL), NN_E_NULL);
    assert_int_equal(nn_model_export_c(NULL, in_tmp(p, "a.h"), "net"),
                     NN_E_NULL);
    assert_int_equal(nn_model_export_c(m, NULL, "net"), NN_E_NULL);
    assert_int_equal(nn_model_export_c(m, in_tmp(p, "a.h"), NULL),
                     NN_E_NULL);

    assert_int_equal(nn_model_export_onnx_buffer(empty, buf, 16, &n),
                     NN_E_STATE);
    expect_message("no layers");
    assert_int_equal(nn_model_export_c(empty, in_tmp(p, "a.h"), "net"),
                     NN_E_STATE);

    assert_int_equal(nn_model_export_onnx(m, ""), NN_E_INVALID);
    assert_int_equal(nn_model_export_onnx(m, in_tmp(p, "dir/")),
                     NN_E_INVALID);
    assert_int_equal(nn_model_export_c(m, "", "net"), NN_E_INVALID);

    params = nn_model_params(m, &n);
    params[n - 1] = NAN; /* the last bias */
    assert_int_equal(nn_model_export_onnx_buffer(m, buf, 16, &n),
                     NN_E_NONFINITE);
    expect_message("layer 1");
    assert_int_equal(nn_model_export_onnx(m, in_tmp(p, "a.onnx")),
                     NN_E_NONFINITE);
    assert_int_equal(nn_model_export_c(m, in_tmp(p, "a.h"), "net"),
                     NN_E_NONFINITE);
    assert_int_equal(dir_entries(), 0);
    nn_model_free(empty);
    nn_model_free(m);
}

static void export_c_takes_c_identifiers_only(void **state)
{
    static const char *const bad[] = {"", "1net", "net-1", "_net", "n et",
                                      "n\xc3\xa9t", "net.h"};
    char p[512], long_name[80];
    nn_model *m = case_model(3);
    unsigned char *text;
    size_t i, len;
    (void)state;
    for (i = 0; i < ARRAY_LEN(bad); i++) {
        assert_int_equal(nn_model_export_c(m, in_tmp(p, "a.h"), bad[i]),
                         NN_E_INVALID);
        expect_message("not a C identifier");
    }
    memset(long_name, 'a', sizeof long_name);
    long_name[64] = '\0';
    assert_int_equal(nn_model_export_c(m, in_tmp(p, "a.h"), long_name),
                     NN_E_INVALID);
    assert_int_equal(dir_entries(), 0);
    long_name[63] = '\0';
    NN_OK_OR_FAIL(nn_model_export_c(m, in_tmp(p, "a.h"), long_name));
    NN_OK_OR_FAIL(nn_model_export_c(m, in_tmp(p, "b.h"), "Xor_Net2"));
    text = read_all(p, &len);
    text[len - 1] = '\0';
    assert_non_null(strstr(
        (char *)text, "void Xor_Net2_predict(const float *x, float *y);"));
    assert_non_null(strstr((char *)text, "#define XOR_NET2_INPUTS 2\n"));
    assert_non_null(strstr((char *)text, "#define XOR_NET2_OUTPUTS 1\n"));
    assert_non_null(strstr((char *)text, "#ifdef XOR_NET2_IMPLEMENTATION") ||
                    strstr((char *)text, "defined(XOR_NET2_IMPLEMENTATION)"));
    free(text);
    nn_model_free(m);
}

static void export_to_a_file_writes_the_bytes_of_the_buffer(void **state)
{
    nn_model *m = case_model(1);
    unsigned char *a;
    size_t size;
    char p[512];
    (void)state;
    a = export_to_memory(m, &size);
    NN_OK_OR_FAIL(nn_model_export_onnx(m, in_tmp(p, "m.onnx")));
    assert_file_holds(p, a, size);
    /* over an existing file */
    write_all(p, "old", 3);
    NN_OK_OR_FAIL(nn_model_export_onnx(m, p));
    assert_file_holds(p, a, size);
    assert_int_equal(dir_entries(), 1);
    free(a);
    nn_model_free(m);
}

/* ======================================================================
 * Atomic exports: every file operation failed in turn
 * ====================================================================== */

/* Runs export (ONNX if prefix is NULL, else C) with every file operation
 * failed in turn: the old file stays until the rename, no temporary file
 * is left, and the message says which step failed. */
static void export_fails_safely_at_every_step(const char *prefix)
{
    nn_model *m = case_model(4);
    nn__file_ops ops;
    faults f;
    char p[512];
    unsigned char *want;
    size_t want_size;
    long k;
    int done = 0, failures = 0;
    nn_status st;
    in_tmp(p, "model.out");
    st = prefix ? nn_model_export_c(m, p, prefix)
                : nn_model_export_onnx(m, p);
    NN_OK_OR_FAIL(st);
    want = read_all(p, &want_size);
    for (k = 1; !done; k++) {
        write_all(p, "old", 3);
        faults_init(&f, &ops);
        f.fail_at = k;
        f.max_write = 1000; /* short writes: the loop around them runs */
        st = prefix ? nn__c_export_ops(m, p, prefix, &ops)
                    : nn__onnx_export_ops(m, p, &ops);
        assert_int_equal(dir_entries(), 1);
        if (!f.fired) {
            NN_OK_OR_FAIL(st);
            assert_file_holds(p, want, want_size);
            done = 1;
        } else if (!strcmp(f.fired, "sync_fd") && f.fired_on_dir) {
            assert_int_equal(st, NN_E_IO);
            expect_message("the file was replaced");
            assert_file_holds(p, want, want_size);
        } else if (!strcmp(f.fired, "close_fd") && f.fired_on_dir) {
            NN_OK_OR_FAIL(st);
        } else {
            assert_int_equal(st, NN_E_IO);
            expect_message("the file is unchanged");
            expect_message(strerror(EIO));
            assert_file_holds(p, "old", 3);
            failures++;
        }
    }
    /* open_dir, create_anon, several writes, sync, link_at, close, rename */
    assert_true(failures >= 8);
    free(want);
    nn_model_free(m);
}

static void export_onnx_keeps_the_old_file_when_any_step_fails(void **state)
{
    (void)state;
    export_fails_safely_at_every_step(NULL);
}

static void export_c_keeps_the_old_file_when_any_step_fails(void **state)
{
    (void)state;
    export_fails_safely_at_every_step("net");
}

static void export_reports_a_missing_directory(void **state)
{
    nn_model *m = case_model(3);
    char p[512];
    (void)state;
    assert_int_equal(nn_model_export_onnx(m, in_tmp(p, "no/such/m.onnx")),
                     NN_E_IO);
    expect_message("opening its directory failed");
    assert_int_equal(nn_model_export_c(m, p, "net"), NN_E_IO);
    nn_model_free(m);
}

/* ======================================================================
 * Allocation failures
 * ====================================================================== */

/* Fails allocation 1, 2, ... of call() until it succeeds: each failure is
 * NN_E_NOMEM and leaves nothing allocated. */
#define EVERY_ALLOCATION_FAILS_IN_TURN(call, after_success)                  \
    do {                                                                     \
        long k_;                                                             \
        int done_ = 0;                                                       \
        for (k_ = 1; !done_; k_++) {                                         \
            long live_ = ctr.live;                                           \
            nn_status st_;                                                   \
            ctr.allocs = 0;                                                  \
            ctr.fail_at = k_;                                                \
            st_ = (call);                                                    \
            ctr.fail_at = 0;                                                 \
            if (st_ == NN_OK) {                                              \
                assert_true(ctr.allocs < k_);                                \
                after_success;                                               \
                done_ = 1;                                                   \
            } else {                                                         \
                if (st_ != NN_E_NOMEM)                                       \
                    print_error("allocation %ld: %s\n", k_, nn_last_error()); \
                assert_int_equal(st_, NN_E_NOMEM);                           \
                assert_int_equal(ctr.live, live_);                           \
                assert_int_equal(dir_entries(), 0);                          \
            }                                                                \
        }                                                                    \
        assert_true(k_ > 2);                                                 \
    } while (0)

static void exports_survive_every_failed_allocation(void **state)
{
    nn_model *m = case_model(1);
    unsigned char *buf;
    size_t size;
    char p[512];
    (void)state;
    buf = export_to_memory(m, &size);
    in_tmp(p, "m.out");
    EVERY_ALLOCATION_FAILS_IN_TURN(
        nn_model_export_onnx_buffer(m, buf, size, NULL), (void)0);
    EVERY_ALLOCATION_FAILS_IN_TURN(nn_model_export_onnx(m, p), unlink(p));
    EVERY_ALLOCATION_FAILS_IN_TURN(nn_model_export_c(m, p, "net"),
                                   unlink(p));
    free(buf);
    nn_model_free(m);
}

#if NN_TEST_ONNX_READER

/* ======================================================================
 * Round trips
 * ====================================================================== */

/* Predictions of n rows of case k's inputs; the caller frees them. */
static float *predict_rows(const nn_model *m, size_t k, size_t n)
{
    size_t in = nn_model_input_width(m), out = nn_model_output_width(m);
    float *x = (float *)malloc(n * in * sizeof(float));
    float *y = (float *)malloc(n * out * sizeof(float));
    assert_non_null(x);
    assert_non_null(y);
    tm_rows(k, x, n, in);
    NN_OK_OR_FAIL(nn_model_predict(m, n, x, in, y, out));
    free(x);
    return y;
}

/* "dense/relu/8 batchnorm/8 ...": each layer's kind, its activation for
 * dense and activation layers, and its width. */
static void describe(const nn_model *m, char *dst, size_t cap)
{
    size_t l, len = 0;
    dst[0] = '\0';
    for (l = 0; l < nn_model_layer_count(m); l++) {
        nn_layer_kind kind = nn_model_layer_kind(m, l);
        nn_activation act = nn_model_layer_activation(m, l);
        len += (size_t)snprintf(dst + len, cap - len, "%s%s%s%s/%zu",
                                l ? " " : "", nn_layer_kind_name(kind),
                                act ? "/" : "",
                                act ? nn_activation_name(act) : "",
                                nn_model_layer_width(m, l));
        assert_true(len < cap);
    }
}

/* Rows of outputs (n x k) within rel of the wanted ones, row by row and
 * relative to the row's largest output: max_j |got_j - want_j| <= rel *
 * max_j |want_j|. (Relative error of each output alone is not a measure
 * of float arithmetic: an output near 0 that is the sum of larger terms
 * of both signs keeps the terms' rounding, not its own.) */
static void assert_rows_close(const char *what, const float *got,
                              const double *want, size_t n, size_t k,
                              double rel)
{
    size_t r, j;
    for (r = 0; r < n; r++) {
        double scale = 0.0, err = 0.0;
        size_t at = 0;
        for (j = 0; j < k; j++) {
            double d = fabs((double)got[r * k + j] - want[r * k + j]);
            if (fabs(want[r * k + j]) > scale)
                scale = fabs(want[r * k + j]);
            if (!(d <= err)) {
                err = d;
                at = j;
            }
        }
        if (!(err <= rel * scale))
            print_error("%s: row %zu, output %zu: got %.9g, want %.9g "
                        "(%.3g of the row's largest, %.9g, > %.3g)\n", what,
                        r, at, (double)got[r * k + at], want[r * k + at],
                        err / scale, scale, rel);
        assert_true(err <= rel * scale);
    }
}

#define ROWS 33

static void every_case_comes_back_from_onnx_with_the_same_predictions(
    void **state)
{
    size_t k;
    (void)state;
    for (k = 0; k < TEST_CASES; k++) {
        nn_model *m = case_model(k), *back = NULL, *again = NULL;
        unsigned char *a, *b, *c;
        size_t na, nb, nc, i, out = nn_model_output_width(m);
        float *y, *y2;
        char d1[1024], d2[1024];
        nn_status st;
        a = export_to_memory(m, &na);
        st = nn_model_import_onnx_buffer(&back, a, na);
        if (!strcmp(test_cases[k].name, "only-dropout")) {
            /* nothing is left of it in inference mode */
            assert_int_equal(st, NN_E_FORMAT);
            expect_message("no layer");
            assert_null(back);
            free(a);
            nn_model_free(m);
            continue;
        }
        if (st != NN_OK)
            print_error("%s: %s\n", test_cases[k].name, nn_last_error());
        assert_int_equal(st, NN_OK);
        y = predict_rows(m, k, ROWS);
        y2 = predict_rows(back, k, ROWS);
        for (i = 0; i < ROWS * out; i++)
            if (memcmp(&y[i], &y2[i], sizeof(float)) != 0) {
                print_error("%s: output %zu is %.9g, back from ONNX %.9g\n",
                            test_cases[k].name, i, (double)y[i],
                            (double)y2[i]);
                fail();
            }
        /* The layers come back as they were, but for what inference
         * leaves out (dropout, identity activations) and a dense layer
         * followed by an activation, which becomes one layer; a second
         * trip changes nothing. */
        describe(m, d1, sizeof d1);
        describe(back, d2, sizeof d2);
        if (k == 0 || k == 3 || k == 4)
            assert_string_equal(d1, d2);
        b = export_to_memory(back, &nb);
        NN_OK_OR_FAIL(nn_model_import_onnx_buffer(&again, b, nb));
        c = export_to_memory(again, &nc);
        assert_int_equal(nb, nc);
        assert_memory_equal(b, c, nb);
        free(a);
        free(b);
        free(c);
        free(y);
        free(y2);
        nn_model_free(m);
        nn_model_free(back);
        nn_model_free(again);
    }
}

static void settings_come_back_from_onnx(void **state)
{
    nn_model *m = case_model(1), *back = NULL;
    unsigned char *a;
    size_t n;
    double v;
    char d[1024];
    (void)state;
    NN_OK_OR_FAIL(nn_model_set_meta(m, "classes", "cat,dog,bird"));
    NN_OK_OR_FAIL(nn_model_set_meta(m, "inputs", "standardized"));
    a = export_to_memory(m, &n);
    NN_OK_OR_FAIL(nn_model_import_onnx_buffer(&back, a, n));
    describe(back, d, sizeof d);
    assert_string_equal(d, "scaling/6 dense/identity/8 batchnorm/8 "
                           "activation/relu/8 dense/identity/8 layernorm/8 "
                           "activation/gelu/8 activation/silu/8 "
                           "activation/softplus/8 activation/elu/8 "
                           "activation/leaky_relu/8 activation/sigmoid/8 "
                           "activation/tanh/8 dense/softmax/3");
    NN_OK_OR_FAIL(nn_model_get_layer_param(back, 2, NN_LAYER_EPSILON, &v));
    assert_rel_close("batchnorm epsilon", v, 1e-3, 1e-7);
    NN_OK_OR_FAIL(nn_model_get_layer_param(back, 2, NN_LAYER_MOMENTUM, &v));
    assert_rel_close("batchnorm momentum", v, 0.3, 1e-7);
    NN_OK_OR_FAIL(nn_model_get_layer_param(back, 5, NN_LAYER_EPSILON, &v));
    assert_rel_close("layernorm epsilon", v, 1e-4, 1e-7);
    NN_OK_OR_FAIL(nn_model_get_layer_param(back, 9, NN_LAYER_ELU_ALPHA, &v));
    assert_true(v == 1.5);
    NN_OK_OR_FAIL(nn_model_get_layer_param(back, 10, NN_LAYER_LEAKY_SLOPE,
                                           &v));
    assert_true(v == (double)0.1f);
    assert_string_equal(nn_model_get_meta(back, "classes"), "cat,dog,bird");
    assert_string_equal(nn_model_get_meta(back, "inputs"), "standardized");
    assert_int_equal(nn_model_meta_count(back), 2);
    free(a);
    nn_model_free(m);
    nn_model_free(back);
}

/* A deep, narrow model is all structure: its file decodes to several
 * bytes per byte, more than weights do, and must still be let in. */
static void deep_narrow_models_come_back_from_onnx(void **state)
{
    nn_model *m = NULL, *back = NULL;
    unsigned char *a;
    size_t n, l, layers = 4000;
    float x[2] = {0.25f, -0.75f}, y[2], y2[2];
    (void)state;
    NN_OK_OR_FAIL(nn_model_create(&m, 2, 3));
    for (l = 0; l < layers; l++)
        NN_OK_OR_FAIL(nn_model_add_dense(m, 2, l % 2 ? NN_ACT_TANH
                                                     : NN_ACT_GELU));
    a = export_to_memory(m, &n);
    assert_true(n > ((size_t)1 << 20)); /* past the allowance's base */
    NN_OK_OR_FAIL(nn_model_import_onnx_buffer(&back, a, n));
    assert_int_equal(nn_model_layer_count(back), layers);
    NN_OK_OR_FAIL(nn_model_predict(m, 1, x, 2, y, 2));
    NN_OK_OR_FAIL(nn_model_predict(back, 1, x, 2, y2, 2));
    assert_memory_equal(y, y2, sizeof y);
    free(a);
    nn_model_free(m);
    nn_model_free(back);
}

static void import_from_a_file_reads_what_the_buffer_gives(void **state)
{
    nn_model *m = case_model(0), *a = NULL, *b = NULL;
    unsigned char *bytes, *again;
    size_t n, n2;
    char p[512];
    (void)state;
    bytes = export_to_memory(m, &n);
    write_all(in_tmp(p, "m.onnx"), bytes, n);
    NN_OK_OR_FAIL(nn_model_import_onnx(&a, p));
    NN_OK_OR_FAIL(nn_model_import_onnx_buffer(&b, bytes, n));
    again = export_to_memory(a, &n2);
    assert_int_equal(n, n2);
    assert_memory_equal(bytes, again, n);
    free(again);
    again = export_to_memory(b, &n2);
    assert_memory_equal(bytes, again, n);
    free(again);
    free(bytes);
    nn_model_free(m);
    nn_model_free(a);
    nn_model_free(b);
}

/* ======================================================================
 * PyTorch's graphs (fixtures/, made by make_fixtures.py)
 * ====================================================================== */

typedef struct section {
    char name[32];
    size_t rows, cols;
    double *v;
} section;

typedef struct sections {
    section s[8];
    int n;
} sections;

static void read_sections(const char *path, sections *out)
{
    FILE *f = fopen(path, "r");
    char name[32];
    size_t rows, cols, i;
    memset(out, 0, sizeof *out);
    if (!f)
        print_error("cannot read %s\n", path);
    assert_non_null(f);
    while (fscanf(f, "%31s %zu %zu", name, &rows, &cols) == 3) {
        section *s = &out->s[out->n++];
        assert_true(out->n <= 8);
        strcpy(s->name, name);
        s->rows = rows;
        s->cols = cols;
        s->v = (double *)malloc(rows * cols * sizeof(double));
        assert_non_null(s->v);
        for (i = 0; i < rows * cols; i++)
            assert_int_equal(fscanf(f, "%lf", &s->v[i]), 1);
    }
    fclose(f);
    assert_true(out->n >= 2);
}

static const section *find_section(const sections *ss, const char *name)
{
    int i;
    for (i = 0; i < ss->n; i++)
        if (!strcmp(ss->s[i].name, name))
            return &ss->s[i];
    return NULL;
}

static void free_sections(sections *ss)
{
    int i;
    for (i = 0; i < ss->n; i++)
        free(ss->s[i].v);
}

static float *floats_of(const section *s)
{
    float *v = (float *)malloc(s->rows * s->cols * sizeof(float));
    size_t i;
    assert_non_null(v);
    for (i = 0; i < s->rows * s->cols; i++)
        v[i] = (float)s->v[i];
    return v;
}

static void assert_predicts(const char *what, const nn_model *m,
                            const section *x, const section *want)
{
    float *xf = floats_of(x);
    float *y = (float *)malloc(want->rows * want->cols * sizeof(float));
    assert_non_null(y);
    assert_int_equal(x->rows, want->rows);
    assert_int_equal(nn_model_input_width(m), x->cols);
    assert_int_equal(nn_model_output_width(m), want->cols);
    NN_OK_OR_FAIL(nn_model_predict(m, x->rows, xf, x->cols, y, want->cols));
    assert_rows_close(what, y, want->v, want->rows, want->cols, 1e-5);
    free(xf);
    free(y);
}

typedef struct fixture {
    const char *name;
    const char *layers;   /* describe() of the imported model */
} fixture;

static const fixture fixtures[] = {
    {"relu-softmax", "dense/relu/8 dense/softmax/3"},
    {"tanh-sigmoid", "dense/tanh/6 dense/sigmoid/6 dense/identity/2"},
    {"tanh-sigmoid-matmul-add",
     "dense/tanh/6 dense/sigmoid/6 dense/identity/2"},
    {"tanh-sigmoid-gemm-notrans",
     "dense/tanh/6 dense/sigmoid/6 dense/identity/2"},
    {"tanh-sigmoid-float-data",
     "dense/tanh/6 dense/sigmoid/6 dense/identity/2"},
    {"tanh-sigmoid-dropout-node",
     "dense/identity/6 dropout/6 activation/tanh/6 dense/sigmoid/6 "
     "dense/identity/2"},
    {"tanh-sigmoid-opset9", "dense/tanh/6 dense/sigmoid/6 dense/identity/2"},
    {"tanh-sigmoid-initializers-as-inputs",
     "dense/tanh/6 dense/sigmoid/6 dense/identity/2"},
    {"activations", "dense/gelu/6 dense/silu/6 dense/softplus/6 dense/elu/6 "
                    "dense/leaky_relu/5 dense/identity/2"},
    {"batchnorm", "dense/identity/6 batchnorm/6 activation/relu/6 "
                  "dense/identity/3"},
    {"batchnorm-opset11", "dense/identity/6 batchnorm/6 activation/relu/6 "
                          "dense/identity/3"},
    {"batchnorm-first", "batchnorm/5 activation/tanh/5 dense/identity/2"},
    {"layernorm", "dense/identity/6 layernorm/6 activation/tanh/6 "
                  "dense/identity/2"},
    {"layernorm-opset14", "dense/identity/6 layernorm/6 activation/tanh/6 "
                          "dense/identity/2"},
    /* without scale and shift: no constant gives the layer's width */
    {"layernorm-bare-opset14", "dense/identity/6 layernorm/6 "
                               "activation/tanh/6 dense/identity/2"},
    {"dropout-flatten-identity", "dense/relu/5 dense/identity/2"},
    {"flatten-image", "dense/relu/4 dense/identity/2"},
    {"no-bias", "dense/sigmoid/3"},
    {"shared-initializers", "dense/identity/4 batchnorm/4 layernorm/4 "
                            "dense/identity/2"},
};

static void pytorch_graphs_import_and_predict_what_pytorch_predicted(
    void **state)
{
    size_t k, trained = 0;
    (void)state;
    for (k = 0; k < ARRAY_LEN(fixtures); k++) {
        char p[512], d[1024];
        sections ss;
        const section *x, *y, *after;
        nn_model *m = NULL;
        nn_status st;
        snprintf(p, sizeof p, "%s/%s.onnx", NN_ONNX_FIXTURES,
                 fixtures[k].name);
        st = nn_model_import_onnx(&m, p);
        if (st != NN_OK)
            print_error("%s: %s\n", fixtures[k].name, nn_last_error());
        assert_int_equal(st, NN_OK);
        describe(m, d, sizeof d);
        if (strcmp(d, fixtures[k].layers) != 0)
            print_error("%s: imported as '%s'\n", fixtures[k].name, d);
        assert_string_equal(d, fixtures[k].layers);
        snprintf(p, sizeof p, "%s/%s.txt", NN_ONNX_FIXTURES,
                 fixtures[k].name);
        read_sections(p, &ss);
        x = find_section(&ss, "input");
        y = find_section(&ss, "output");
        assert_non_null(x);
        assert_non_null(y);
        assert_predicts(fixtures[k].name, m, x, y);

        /* Fine-tuning: one SGD step as PyTorch took it. */
        after = find_section(&ss, "output_after_step");
        if (after) {
            const section *t = find_section(&ss, "target");
            const section *lab = find_section(&ss, "labels");
            const section *lr = find_section(&ss, "lr");
            float *xf = floats_of(x);
            double loss;
            assert_non_null(lr);
            NN_OK_OR_FAIL(nn_model_set_param(m, NN_PARAM_LEARNING_RATE,
                                             lr->v[0]));
            NN_OK_OR_FAIL(nn_model_set_optimizer(m, NN_OPT_SGD));
            if (t) {
                float *tf = floats_of(t);
                NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_MSE));
                NN_OK_OR_FAIL(nn_model_train_batch(m, x->rows, xf, x->cols,
                                                   tf, t->cols, &loss));
                free(tf);
            } else {
                int32_t *labels = (int32_t *)malloc(x->rows *
                                                    sizeof(int32_t));
                size_t i;
                assert_non_null(lab);
                assert_non_null(labels);
                for (i = 0; i < x->rows; i++)
                    labels[i] = (int32_t)lab->v[i];
                NN_OK_OR_FAIL(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY));
                NN_OK_OR_FAIL(nn_model_train_batch_labels(
                    m, x->rows, xf, x->cols, labels, &loss));
                free(labels);
            }
            free(xf);
            assert_predicts(fixtures[k].name, m, x, after);
            trained++;
        }
        free_sections(&ss);
        nn_model_free(m);
    }
    assert_int_equal(trained, 3);
}

static void pytorch_settings_come_through(void **state)
{
    nn_model *m = NULL;
    char p[512];
    double v;
    (void)state;
    snprintf(p, sizeof p, "%s/batchnorm.onnx", NN_ONNX_FIXTURES);
    NN_OK_OR_FAIL(nn_model_import_onnx(&m, p));
    NN_OK_OR_FAIL(nn_model_get_layer_param(m, 1, NN_LAYER_EPSILON, &v));
    assert_rel_close("epsilon", v, 1e-3, 1e-7);
    NN_OK_OR_FAIL(nn_model_get_layer_param(m, 1, NN_LAYER_MOMENTUM, &v));
    assert_rel_close("momentum", v, 0.2, 1e-6);
    nn_model_free(m);
    snprintf(p, sizeof p, "%s/activations.onnx", NN_ONNX_FIXTURES);
    NN_OK_OR_FAIL(nn_model_import_onnx(&m, p));
    NN_OK_OR_FAIL(nn_model_get_layer_param(m, 3, NN_LAYER_ELU_ALPHA, &v));
    assert_true(v == (double)0.7f);
    NN_OK_OR_FAIL(nn_model_get_layer_param(m, 4, NN_LAYER_LEAKY_SLOPE, &v));
    assert_true(v == (double)0.2f);
    nn_model_free(m);
    snprintf(p, sizeof p, "%s/layernorm-opset14.onnx", NN_ONNX_FIXTURES);
    NN_OK_OR_FAIL(nn_model_import_onnx(&m, p));
    NN_OK_OR_FAIL(nn_model_get_layer_param(m, 1, NN_LAYER_EPSILON, &v));
    assert_rel_close("epsilon", v, 1e-4, 1e-6);
    nn_model_free(m);
}

/* ======================================================================
 * What the importer refuses
 * ====================================================================== */

static const char *const refused[] = {
    "conv", "logsoftmax", "residual", "gelu-tanh", "dropout-training",
    "shapes", "two-outputs", "double-input", "external-data", "branch",
    "layernorm-bare-wide"};

static void graphs_libnn_cannot_hold_are_refused_with_a_reason(void **state)
{
    size_t k;
    (void)state;
    for (k = 0; k < ARRAY_LEN(refused); k++) {
        char p[512], want[512];
        static int sentinel;
        nn_model *m = (nn_model *)&sentinel;
        FILE *f;
        snprintf(p, sizeof p, "%s/bad-%s.txt", NN_ONNX_FIXTURES, refused[k]);
        f = fopen(p, "r");
        assert_non_null(f);
        assert_non_null(fgets(want, sizeof want, f)); /* "message" */
        assert_non_null(fgets(want, sizeof want, f));
        fclose(f);
        want[strcspn(want, "\n")] = '\0';
        snprintf(p, sizeof p, "%s/bad-%s.onnx", NN_ONNX_FIXTURES,
                 refused[k]);
        assert_int_equal(nn_model_import_onnx(&m, p), NN_E_FORMAT);
        assert_null(m);
        expect_message("nn_model_import_onnx: ");
        expect_message(want);
    }
}

static void bytes_that_are_not_onnx_are_refused(void **state)
{
    nn_model *m = NULL, *good = case_model(3);
    unsigned char junk[300], file[4096];
    float noise[75];
    size_t n = 0;
    (void)state;
    assert_int_equal(nn_model_import_onnx_buffer(NULL, junk, 10), NN_E_NULL);
    assert_int_equal(nn_model_import_onnx_buffer(&m, NULL, 10), NN_E_NULL);
    assert_int_equal(nn_model_import_onnx_buffer(&m, junk, 0), NN_E_FORMAT);
    expect_message("no version of the default ONNX operator set");
    tm_fill(noise, 75, -1e9f, 1e9f, 5);
    memcpy(junk, noise, sizeof junk);
    assert_int_equal(nn_model_import_onnx_buffer(&m, junk, sizeof junk),
                     NN_E_FORMAT);
    assert_null(m);
    /* a libnn model file */
    NN_OK_OR_FAIL(nn_model_save_buffer(good, NN_SAVE_MODEL, file,
                                       sizeof file, &n));
    assert_int_equal(nn_model_import_onnx_buffer(&m, file, n), NN_E_FORMAT);
    assert_null(m);
    assert_int_equal(nn_model_import_onnx(&m, "/nonexistent/m.onnx"),
                     NN_E_IO);
    expect_message("opening it failed");
    assert_int_equal(nn_model_import_onnx(&m, tmpdir), NN_E_IO);
    expect_message("not a regular file");
    assert_null(m);
    nn_model_free(good);
}

static void files_cut_short_anywhere_are_refused(void **state)
{
    nn_model *m = case_model(3);
    unsigned char *a;
    size_t n, len;
    (void)state;
    a = export_to_memory(m, &n);
    nn_model_free(m);
    for (len = 0; len < n; len++) {
        m = NULL;
        assert_int_equal(nn_model_import_onnx_buffer(&m, a, len),
                         NN_E_FORMAT);
        assert_null(m);
    }
    free(a);
}

static void files_with_any_bit_flipped_import_or_are_refused(void **state)
{
    nn_model *m = case_model(3);
    unsigned char *a;
    size_t n, i, ok = 0, refused_count = 0;
    int bit;
    (void)state;
    a = export_to_memory(m, &n);
    nn_model_free(m);
    for (i = 0; i < n; i++)
        for (bit = 0; bit < 8; bit++) {
            nn_status st;
            a[i] ^= (unsigned char)(1u << bit);
            m = NULL;
            st = nn_model_import_onnx_buffer(&m, a, n);
            if (st == NN_OK) {
                float x[64] = {0.5f, -0.5f}, y[64];
                size_t in = nn_model_input_width(m);
                size_t out = nn_model_output_width(m);
                assert_true(in <= 64 && out <= 64);
                NN_OK_OR_FAIL(nn_model_predict(m, 1, x, in, y, out));
                ok++;
            } else {
                assert_int_equal(st, NN_E_FORMAT);
                assert_null(m);
                refused_count++;
            }
            nn_model_free(m);
            a[i] ^= (unsigned char)(1u << bit);
        }
    /* flips in the weights' bits still import */
    assert_true(ok > 0);
    assert_true(refused_count > 0);
    free(a);
}

/* Protocol buffer encoding, for bytes made by hand. */
static size_t pb_varint(unsigned char *p, uint64_t v)
{
    size_t k = 0;
    do {
        p[k] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            p[k] |= 0x80;
        k++;
    } while (v);
    return k;
}

static size_t pb_field(unsigned char *p, unsigned field,
                       const unsigned char *body, size_t len)
{
    size_t k = pb_varint(p, (uint64_t)field << 3 | 2);
    k += pb_varint(p + k, len);
    memcpy(p + k, body, len);
    return k + len;
}

static void many_tiny_messages_are_refused_before_they_take_memory(
    void **state)
{
    /* A graph of 100000 empty nodes: 2 bytes each in the file, about 100
     * bytes each decoded. */
    size_t nodes = 100000, k, len = 0, glen = 0;
    unsigned char *graph = (unsigned char *)malloc(2 * nodes);
    unsigned char *model = (unsigned char *)malloc(2 * nodes + 64);
    nn_model *m = NULL;
    (void)state;
    assert_non_null(graph);
    assert_non_null(model);
    for (k = 0; k < nodes; k++) {
        graph[glen++] = 0x0a; /* GraphProto.node, length-delimited */
        graph[glen++] = 0x00;
    }
    len += pb_field(model + len, 7, graph, glen);
    ctr.largest = 0;
    assert_int_equal(nn_model_import_onnx_buffer(&m, model, len),
                     NN_E_FORMAT);
    expect_message("too many small messages");
    assert_null(m);
    free(graph);
    free(model);
}

static void a_width_only_the_shape_gives_is_held_to_the_file_size(
    void **state)
{
    /* input [batch, 2^30] -> Mul by one scalar: the scaling would be 2^30
     * wide, from a file of a hundred bytes. */
    unsigned char dim[32], dims[64], shape[64], tt[80], type[96], vi[128];
    unsigned char node[96], tensor[64], graph[512], opset[16], model[640];
    size_t n, len;
    nn_model *m = NULL;
    (void)state;
    /* ValueInfoProto "input": type.tensor_type {elem_type 1, shape {dim
     * {dim_param "batch"}, dim {dim_value 2^30}}} */
    n = pb_field(dims, 2, (const unsigned char *)"batch", 5); /* dim_param */
    len = pb_field(shape, 1, dims, n);
    dim[0] = 0x08; /* dim_value */
    n = 1 + pb_varint(dim + 1, (uint64_t)1 << 30);
    len += pb_field(shape + len, 1, dim, n);
    tt[0] = 0x08; /* elem_type FLOAT */
    tt[1] = 1;
    n = 2 + pb_field(tt + 2, 2, shape, len);
    len = pb_field(type, 1, tt, n);               /* tensor_type */
    n = pb_field(vi, 1, (const unsigned char *)"input", 5);
    n += pb_field(vi + n, 2, type, len);          /* type */
    len = pb_field(graph, 11, vi, n);             /* GraphProto.input */
    n = pb_field(vi, 1, (const unsigned char *)"output", 6);
    len += pb_field(graph + len, 12, vi, n);      /* GraphProto.output */
    /* NodeProto Mul(input, s) -> output */
    n = pb_field(node, 1, (const unsigned char *)"input", 5);
    n += pb_field(node + n, 1, (const unsigned char *)"s", 1);
    n += pb_field(node + n, 2, (const unsigned char *)"output", 6);
    n += pb_field(node + n, 4, (const unsigned char *)"Mul", 3);
    len += pb_field(graph + len, 1, node, n);
    /* TensorProto s: a float scalar 2.0 */
    tensor[0] = 0x10; /* data_type */
    tensor[1] = 1;
    n = 2 + pb_field(tensor + 2, 8, (const unsigned char *)"s", 1);
    n += pb_field(tensor + n, 9, (const unsigned char *)"\0\0\0\x40", 4);
    len += pb_field(graph + len, 5, tensor, n);
    opset[0] = 0x10; /* version */
    opset[1] = 17;
    n = pb_field(model, 7, graph, len);
    n += pb_field(model + n, 8, opset, 2);
    ctr.largest = 0;
    assert_int_equal(nn_model_import_onnx_buffer(&m, model, n), NN_E_FORMAT);
    expect_message("wider than a file of");
    assert_true(ctr.largest < 4096);
    assert_null(m);
}

static void import_survives_every_failed_allocation(void **state)
{
    char p[512];
    size_t n;
    unsigned char *bytes;
    nn_model *m = NULL;
    (void)state;
    snprintf(p, sizeof p, "%s/layernorm-opset14.onnx", NN_ONNX_FIXTURES);
    bytes = read_all(p, &n);
    EVERY_ALLOCATION_FAILS_IN_TURN(
        nn_model_import_onnx_buffer(&m, bytes, n), nn_model_free(m));
    write_all(in_tmp(p, "m.onnx"), bytes, n);
    /* dir_entries() sees the file: count it out */
    {
        long k;
        int done = 0;
        for (k = 1; !done; k++) {
            long live = ctr.live;
            nn_status st;
            ctr.allocs = 0;
            ctr.fail_at = k;
            m = (nn_model *)&ctr;
            st = nn_model_import_onnx(&m, p);
            ctr.fail_at = 0;
            if (st == NN_OK) {
                nn_model_free(m);
                done = 1;
            } else {
                assert_int_equal(st, NN_E_NOMEM);
                assert_null(m);
                assert_int_equal(ctr.live, live);
            }
        }
    }
    free(bytes);
}

static void import_reading_fails_safely_at_every_step(void **state)
{
    nn_model *m = case_model(3);
    nn__file_ops ops;
    faults f;
    unsigned char *bytes;
    size_t n;
    char p[512];
    long k;
    int done = 0;
    (void)state;
    bytes = export_to_memory(m, &n);
    nn_model_free(m);
    write_all(in_tmp(p, "m.onnx"), bytes, n);
    for (k = 1; !done; k++) {
        nn_status st;
        faults_init(&f, &ops);
        f.fail_at = k;
        f.max_write = 1000; /* short writes: the loop around them runs */
        m = (nn_model *)&f;
        st = nn__onnx_import_ops(&m, p, &ops);
        if (!f.fired || !strcmp(f.fired, "close_fd")) {
            NN_OK_OR_FAIL(st);
            nn_model_free(m);
            done = !f.fired;
        } else {
            assert_int_equal(st, NN_E_IO);
            expect_message("failed");
            assert_null(m);
        }
    }
    assert_true(k > 4); /* open, stat, read, ... */
    free(bytes);
}

#else /* !NN_TEST_ONNX_READER */

static void import_says_the_reader_was_not_built(void **state)
{
    nn_model *m = (nn_model *)&ctr;
    unsigned char b[4] = {0};
    (void)state;
    assert_int_equal(nn_model_import_onnx_buffer(&m, b, 4), NN_E_STATE);
    assert_null(m);
    expect_message("built without the ONNX reader");
    m = (nn_model *)&ctr;
    assert_int_equal(nn_model_import_onnx(&m, "x.onnx"), NN_E_STATE);
    assert_null(m);
    assert_int_equal(nn_model_import_onnx(NULL, "x.onnx"), NN_E_NULL);
}

#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, each_setup, each_teardown)
        T(export_buffer_reports_the_size_it_needs_and_writes_nothing_short),
        T(exports_refuse_null_empty_and_nonfinite_models),
        T(export_c_takes_c_identifiers_only),
        T(export_to_a_file_writes_the_bytes_of_the_buffer),
        T(export_onnx_keeps_the_old_file_when_any_step_fails),
        T(export_c_keeps_the_old_file_when_any_step_fails),
        T(export_reports_a_missing_directory),
        T(exports_survive_every_failed_allocation),
#if NN_TEST_ONNX_READER
        T(every_case_comes_back_from_onnx_with_the_same_predictions),
        T(settings_come_back_from_onnx),
        T(deep_narrow_models_come_back_from_onnx),
        T(import_from_a_file_reads_what_the_buffer_gives),
        T(pytorch_graphs_import_and_predict_what_pytorch_predicted),
        T(pytorch_settings_come_through),
        T(graphs_libnn_cannot_hold_are_refused_with_a_reason),
        T(bytes_that_are_not_onnx_are_refused),
        T(files_cut_short_anywhere_are_refused),
        T(files_with_any_bit_flipped_import_or_are_refused),
        T(many_tiny_messages_are_refused_before_they_take_memory),
        T(a_width_only_the_shape_gives_is_held_to_the_file_size),
        T(import_survives_every_failed_allocation),
        T(import_reading_fails_safely_at_every_step),
#else
        T(import_says_the_reader_was_not_built),
#endif
#undef T
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
