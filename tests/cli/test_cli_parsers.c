/* SPDX-License-Identifier: MIT */
/*
 * test_cli_parsers.c - the nn command's readers of untrusted bytes (CSV
 * through libcsv, NPY, IDX, gzip): good files of every accepted form read
 * to the values written into them, a table of bad inputs per parser each
 * refused with the expected message (file, line and column, or byte
 * offset, or row and column), and every allocation of every good read
 * failed in turn: each failure reports "out of memory" and leaks nothing
 * (checked by the sanitizer and valgrind runs).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "csv_read.h"
#include "idx.h"
#include "mem.h"
#include "npy.h"
#include "source.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

/* How the test plans CSV columns. */
typedef enum plan_mode {
    PLAN_LAST_LABEL, /* the last column holds labels, the rest inputs */
    PLAN_LAST_T,     /* the last column is a numeric target */
    PLAN_ALL_X,      /* every column is an input */
    PLAN_FIRST_SKIP  /* column 0 is skipped, the rest inputs */
} plan_mode;

static cli_status plan_cols(void *ctx, const char *file, size_t header_line,
                            size_t ncols, char *const *names,
                            cli_col_plan *plan, size_t *nx, size_t *nt,
                            cli_err *e)
{
    plan_mode mode = *(const plan_mode *)ctx;
    size_t i;
    (void)file;
    (void)header_line;
    (void)names;
    (void)e;
    *nx = 0;
    *nt = 0;
    for (i = 0; i < ncols; i++) {
        int last = i + 1 == ncols;
        if (mode == PLAN_FIRST_SKIP && i == 0) {
            plan[i].role = CLI_COL_SKIP;
        } else if (last && mode == PLAN_LAST_LABEL && ncols > 1) {
            plan[i].role = CLI_COL_LABEL;
        } else if (last && mode == PLAN_LAST_T && ncols > 1) {
            plan[i].role = CLI_COL_T;
            plan[i].dest = (*nt)++;
        } else {
            plan[i].role = CLI_COL_X;
            plan[i].dest = (*nx)++;
        }
    }
    return CLI_OK;
}

static cli_status read_csv(const void *bytes, size_t n, unsigned char delim,
                           int header, size_t skip, plan_mode mode,
                           cli_csv_table *t, cli_err *e)
{
    cli_source src;
    cli_csv_options opt;
    cli_status st = cli_source_from_memory("t.csv", bytes, n, &src, e);
    if (st != CLI_OK)
        return st;
    opt.delim = delim;
    opt.header = header;
    opt.skip = skip;
    st = cli_csv_read(&src, &opt, plan_cols, &mode, t, e);
    cli_source_free(&src);
    return st;
}

static cli_status read_array(const char *name, const void *bytes, size_t n,
                             cli_format fmt, cli_array *a, cli_err *e)
{
    cli_source src;
    cli_status st = cli_source_from_memory(name, bytes, n, &src, e);
    if (st != CLI_OK)
        return st;
    st = fmt == CLI_FMT_NPY ? cli_npy_read(&src, a, e)
                            : cli_idx_read(&src, a, e);
    if (st == CLI_OK && a->u8) /* bytes, pointing into the source */
        st = cli_array_floats(a, e);
    cli_source_free(&src);
    return st;
}

/* gzip-compresses n bytes (one member) into a new buffer. */
static unsigned char *gzip_bytes(const void *in, size_t n, size_t *out_n)
{
    z_stream zs;
    size_t cap = n + 128;
    unsigned char *out = malloc(cap);
    assert_non_null(out);
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (unsigned char *)(uintptr_t)in;
    zs.avail_in = (unsigned)n;
    zs.next_out = out;
    zs.avail_out = (unsigned)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_n = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

static void assert_contains(const char *msg, const char *want)
{
    if (!strstr(msg, want))
        print_error("message \"%s\" lacks \"%s\"\n", msg, want);
    assert_non_null(strstr(msg, want));
}

/* ---- CSV: good files ---- */

static void csv_reads_header_numbers_and_labels(void **state)
{
    static const char text[] =
        "a,b,species\n1,2.5,setosa\n-3e2, 4 ,\"vir,ginica\"\n"
        "0x10,1e-3,setosa\n";
    cli_csv_table t;
    cli_err e;
    (void)state;
    assert_int_equal(read_csv(text, strlen(text), ',', 1, 0,
                              PLAN_LAST_LABEL, &t, &e), CLI_OK);
    assert_int_equal(t.ncols, 3);
    assert_string_equal(t.names[2], "species");
    assert_int_equal(t.rows, 3);
    assert_int_equal(t.nx, 2);
    assert_true(t.x[0] == 1.0f && t.x[1] == 2.5f);
    assert_true(t.x[2] == -300.0f && t.x[3] == 4.0f);
    assert_true(t.x[4] == 16.0f && t.x[5] == 1e-3f);
    assert_int_equal(t.n_classes, 2);
    assert_string_equal(t.classes[0], "setosa");
    assert_string_equal(t.classes[1], "vir,ginica");
    assert_int_equal(t.label[0], 0);
    assert_int_equal(t.label[1], 1);
    assert_int_equal(t.label[2], 0);
    assert_int_equal(t.line[0], 2);
    assert_int_equal(t.line[2], 4);
    cli_csv_table_free(&t);
}

static void csv_reads_crlf_bom_skip_tabs_and_blank_lines(void **state)
{
    /* sklearn's files start with a line of counts: --skip 1 */
    static const char text[] =
        "\xef\xbb\xbf" "150,4,setosa\r\n\r\n5.1\t3.5\t0\r\n\r\n"
        "4.9\t\"3.0\"\t1";
    cli_csv_table t;
    cli_err e;
    (void)state;
    assert_int_equal(read_csv(text, strlen(text), '\t', 0, 1, PLAN_LAST_T,
                              &t, &e), CLI_OK);
    assert_null(t.names);
    assert_int_equal(t.rows, 2);
    assert_int_equal(t.nx, 2);
    assert_int_equal(t.nt, 1);
    assert_true(t.x[0] == 5.1f && t.x[1] == 3.5f && t.t[0] == 0.0f);
    assert_true(t.x[2] == 4.9f && t.x[3] == 3.0f && t.t[1] == 1.0f);
    assert_int_equal(t.line[0], 3);
    assert_int_equal(t.line[1], 5);
    cli_csv_table_free(&t);
}

static void csv_reads_quoted_line_breaks_and_cr_line_ends(void **state)
{
    static const char text[] = "x;\"a\nb\"\r1;\"p \"\"q\"\"\"\r2;z\r";
    cli_csv_table t;
    cli_err e;
    (void)state;
    assert_int_equal(read_csv(text, strlen(text), ';', 1, 0,
                              PLAN_LAST_LABEL, &t, &e), CLI_OK);
    assert_string_equal(t.names[1], "a\nb");
    assert_int_equal(t.rows, 2);
    assert_string_equal(t.classes[0], "p \"q\"");
    assert_int_equal(t.line[0], 3);
    assert_int_equal(t.line[1], 4);
    cli_csv_table_free(&t);
}

static void csv_skips_columns_and_reads_many_rows(void **state)
{
    char *text = malloc(100000);
    size_t n = 0, i;
    cli_csv_table t;
    cli_err e;
    (void)state;
    assert_non_null(text);
    for (i = 0; i < 2000; i++)
        n += (size_t)sprintf(text + n, "id%zu,%zu,%zu.5\n", i, i, i);
    assert_int_equal(read_csv(text, n, ',', 0, 0, PLAN_FIRST_SKIP, &t, &e),
                     CLI_OK);
    assert_int_equal(t.rows, 2000);
    assert_int_equal(t.nx, 2);
    assert_true(t.x[2 * 1999] == 1999.0f && t.x[2 * 1999 + 1] == 1999.5f);
    assert_int_equal(t.line[1999], 2000);
    cli_csv_table_free(&t);
    free(text);
}

/* ---- CSV: bad files ---- */

/* A string literal and its length, NULs inside included. */
#define TEXT(s) s, sizeof(s) - 1

typedef struct bad_csv {
    const char *text;
    size_t len;
    int header;
    size_t skip;
    plan_mode mode;
    const char *want; /* in the message */
} bad_csv;

static const bad_csv bad_csvs[] = {
    {TEXT("a,b\n1,2\n3\n"), 1, 0, PLAN_ALL_X,
     "t.csv: line 3, column 1 (\"b\"): missing; the row has 1 column, "
     "expected 2, as line 1 has"},
    {TEXT("a,b\n1,2\n3,4,5\n"), 1, 0, PLAN_ALL_X,
     "t.csv: line 3, column 2: an extra column; expected 2 columns"},
    {TEXT("1,2\n3,x\n"), 0, 0, PLAN_ALL_X,
     "t.csv: line 2, column 1: \"x\" is not a number; expected a number"},
    {TEXT("a,b\n1,nan\n"), 1, 0, PLAN_ALL_X,
     "line 2, column 1 (\"b\"): \"nan\" is NaN"},
    {TEXT("a,b\n1,-inf\n"), 1, 0, PLAN_ALL_X,
     "line 2, column 1 (\"b\"): \"-inf\" is infinite"},
    {TEXT("a,b\n1,1e39\n"), 1, 0, PLAN_ALL_X, "\"1e39\" is out of range"},
    {TEXT("a,b\n1,1e999\n"), 1, 0, PLAN_ALL_X, "\"1e999\" is out of range"},
    {TEXT("a,b\n1,\n"), 1, 0, PLAN_ALL_X,
     "line 2, column 1 (\"b\"): \"\" is an empty cell; expected a number"},
    {TEXT("a,b\n1,\"2 3\"\n"), 1, 0, PLAN_ALL_X, "\"2 3\" is not a number"},
    {TEXT(""), 1, 0, PLAN_ALL_X, "t.csv: the file is empty"},
    {TEXT("\xef\xbb\xbf"), 1, 0, PLAN_ALL_X, "t.csv: the file is empty"},
    {TEXT("\n\n\n"), 1, 0, PLAN_ALL_X, "t.csv: the file is empty"},
    {TEXT("1,2\n"), 1, 1, PLAN_ALL_X, "nothing after the skipped lines"},
    {TEXT("a,b\n"), 1, 0, PLAN_ALL_X, "t.csv: line 1: only a header row"},
    {TEXT("a,b\n1,2\n3,4\"5\n"), 1, 0, PLAN_ALL_X,
     "t.csv: line 3, column 1: a misplaced quote"},
    {TEXT("a,b\n1,\"2\"x\n"), 1, 0, PLAN_ALL_X,
     "t.csv: line 2, column 1: a misplaced quote"},
    {TEXT("a,b\n1,\"2\n3,4\n"), 1, 0, PLAN_ALL_X,
     "t.csv: line 3: a quoted field is not closed"},
    {TEXT("x,y\n1,a\n2, \n"), 1, 0, PLAN_LAST_LABEL,
     "t.csv: line 3, column 1 (\"y\"): an empty cell; expected a class"},
    {TEXT("x,y\n1,a\n2,\"b\0c\"\n"), 1, 0, PLAN_LAST_LABEL,
     "line 3, column 1 (\"y\"): a NUL byte in a class label"},
    {TEXT("x,y\r\n1,2\r\n3,\"4\0\"\r\n"), 1, 0, PLAN_ALL_X,
     "t.csv: line 3, column 1 (\"y\"): \"4\\x00\" is not a number"},
};

static void csv_refuses_each_bad_input(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < ARRAY_LEN(bad_csvs); i++) {
        const bad_csv *b = &bad_csvs[i];
        cli_csv_table t;
        cli_err e;
        cli_status st = read_csv(b->text, b->len, ',', b->header,
                                 b->skip, b->mode, &t, &e);
        if (st != CLI_E_DATA)
            print_error("bad CSV %zu read with status %d\n", i, (int)st);
        assert_int_equal(st, CLI_E_DATA);
        assert_contains(e.msg, b->want);
        assert_int_equal(t.rows, 0);
        assert_null(t.x);
    }
}

/* ---- NPY ---- */

/* A version 1.0 file with the given header dict and data. */
static size_t make_npy(unsigned char *buf, const char *dict,
                       const void *data, size_t n)
{
    size_t dl = strlen(dict), hl = dl + 1;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)(hl & 0xff);
    buf[9] = (unsigned char)(hl >> 8);
    memcpy(buf + 10, dict, dl);
    buf[10 + dl] = '\n';
    memcpy(buf + 10 + hl, data, n);
    return 10 + hl + n;
}

static void npy_reads_each_dtype_and_shape(void **state)
{
    unsigned char buf[512];
    cli_array a;
    cli_err e;
    size_t n;
    (void)state;

    {   /* float32 little-endian, 2 x 3, written by our own header */
        float v[6] = {1, -2, 3.5f, 4, 5, 6e-3f};
        char head[256];
        size_t hl = cli_npy_header(head, 'f', 2, 3);
        assert_int_equal(hl % 64, 0);
        memcpy(buf, head, hl);
        memcpy(buf + hl, v, sizeof v);
        assert_int_equal(read_array("a.npy", buf, hl + sizeof v,
                                    CLI_FMT_NPY, &a, &e), CLI_OK);
        assert_int_equal(a.ndim, 2);
        assert_int_equal(cli_array_rows(&a), 2);
        assert_int_equal(cli_array_width(&a), 3);
        assert_memory_equal(a.data, v, sizeof v);
        assert_int_equal(a.kind, 'f');
        cli_array_free(&a);
    }
    {   /* float64 big-endian, 1-D */
        unsigned char d[16] = {0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d,
                               0x18, 0xbf, 0xf0, 0, 0, 0, 0, 0, 0};
        n = make_npy(buf, "{'descr': '>f8', 'fortran_order': False, "
                     "'shape': (2,), }", d, sizeof d);
        assert_int_equal(read_array("a.npy", buf, n, CLI_FMT_NPY, &a, &e),
                         CLI_OK);
        assert_int_equal(a.ndim, 1);
        assert_true(a.data[0] == (float)3.141592653589793);
        assert_true(a.data[1] == -1.0f);
        cli_array_free(&a);
    }
    {   /* int8, int16, uint32, int64 and bool, 3-D */
        signed char i1[4] = {-1, 2, -128, 127};
        unsigned char i2[4] = {0xff, 0xff, 0x10, 0x00};  /* -1, 16 */
        unsigned char u4[4] = {0xff, 0xff, 0xff, 0xff};
        unsigned char i8[8] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                               0xff};
        unsigned char b1[2] = {1, 0};
        n = make_npy(buf, "{'descr': '|i1', 'fortran_order': False, "
                     "'shape': (1, 2, 2)}", i1, 4);
        assert_int_equal(read_array("a.npy", buf, n, CLI_FMT_NPY, &a, &e),
                         CLI_OK);
        assert_int_equal(a.ndim, 3);
        assert_int_equal(cli_array_width(&a), 4);
        assert_true(a.data[0] == -1 && a.data[2] == -128 &&
                    a.data[3] == 127);
        assert_int_equal(a.kind, 'i');
        cli_array_free(&a);
        n = make_npy(buf, "{'descr': '<i2', 'fortran_order': False, "
                     "'shape': (2,)}", i2, 4);
        assert_int_equal(read_array("a.npy", buf, n, CLI_FMT_NPY, &a, &e),
                         CLI_OK);
        assert_true(a.data[0] == -1 && a.data[1] == 16);
        cli_array_free(&a);
        n = make_npy(buf, "{\"descr\": \"<u4\", \"fortran_order\": False, "
                     "\"shape\": (1L,)}", u4, 4);
        assert_int_equal(read_array("a.npy", buf, n, CLI_FMT_NPY, &a, &e),
                         CLI_OK);
        assert_true(a.data[0] == 4294967295.0f);
        assert_int_equal(a.kind, 'u');
        assert_int_equal(a.inexact, 1);
        cli_array_free(&a);
        n = make_npy(buf, "{'descr': '<i8', 'fortran_order': False, "
                     "'shape': (1,)}", i8, 8);
        assert_int_equal(read_array("a.npy", buf, n, CLI_FMT_NPY, &a, &e),
                         CLI_OK);
        assert_true(a.data[0] == -2.0f);
        assert_int_equal(a.inexact, 0);
        cli_array_free(&a);
        n = make_npy(buf, "{'descr': '|b1', 'fortran_order': False, "
                     "'shape': (2,)}", b1, 2);
        assert_int_equal(read_array("a.npy", buf, n, CLI_FMT_NPY, &a, &e),
                         CLI_OK);
        assert_true(a.data[0] == 1 && a.data[1] == 0 && a.kind == 'b');
        cli_array_free(&a);
    }
    {   /* version 2.0: a 4-byte header length */
        float v = 7;
        static const char dict[] = "{'descr': '<f4', 'fortran_order': "
                                   "False, 'shape': (1, 1), }\n";
        size_t dl = strlen(dict);
        memcpy(buf, "\x93NUMPY\x02\x00", 8);
        buf[8] = (unsigned char)dl;
        buf[9] = buf[10] = buf[11] = 0;
        memcpy(buf + 12, dict, dl);
        memcpy(buf + 12 + dl, &v, 4);
        assert_int_equal(read_array("a.npy", buf, 12 + dl + 4, CLI_FMT_NPY,
                                    &a, &e), CLI_OK);
        assert_true(a.data[0] == 7.0f);
        cli_array_free(&a);
    }
}

typedef struct bad_npy {
    const char *dict; /* NULL: raw bytes below */
    size_t data_len;  /* bytes of data after the header (value 0x7f..) */
    const char *raw;
    size_t raw_len;
    const char *want;
} bad_npy;

static const bad_npy bad_npys[] = {
    {NULL, 0, "\x93NUMPZ\x01\x00\x00\x00", 10, "byte 0: not an NPY file"},
    {NULL, 0, "\x93NUMPY\x04\x00\x00\x00", 10, "byte 6: NPY format version 4.0"},
    {NULL, 0, "\x93NUMPY\x01\x00\x05", 9, "truncated inside its NPY preamble"},
    {NULL, 0, "\x93NUMPY\x01\x00\x50\x00{}", 12,
     "byte 10: the file is truncated: the NPY header is 80 bytes, only 2"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 4,
     NULL, 0, "byte 72: the file is truncated: the header announces 2 "
     "elements of 4 bytes, the file holds 4 bytes"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 6,
     NULL, 0, "byte 72: 2 bytes follow the 1 elements"},
    {"{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", 4,
     NULL, 0, "Fortran order"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4,
     NULL, 0, "a scalar"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", 0,
     NULL, 0, "the array is empty (dimension 0 is 0)"},
    {"{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", 2,
     NULL, 0, "the NPY dtype '<f2' is not supported"},
    {"{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", 12,
     NULL, 0, "the NPY dtype '<U3' is not supported"},
    {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
     4, NULL, 0, "structured dtype"},
    {"{'descr': '<f4', 'shape': (1,), }", 4, NULL, 0,
     "the NPY header lacks 'fortran_order'"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 4,
     NULL, 0, "byte 66: the NPY header is malformed: an unknown or "
     "repeated key"},
    {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", 4,
     NULL, 0, "expected True or False"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (1 2), }", 4,
     NULL, 0, "expected ',' or ')' in the shape"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 4,
     NULL, 0, "expected a dimension"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': "
     "(99999999999999999999,), }", 4, NULL, 0, "a dimension is too large"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': "
     "(4294967296, 4294967296, 4294967296), }", 4, NULL, 0,
     "more elements than the file can hold"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } x", 4,
     NULL, 0, "text after the closing '}'"},
    {"{'descr': '<f4", 4, NULL, 0, "a string is not closed"},
    {"['descr']", 4, NULL, 0, "expected '{'"},
};

static void npy_refuses_each_bad_input(void **state)
{
    unsigned char buf[512];
    size_t i;
    (void)state;
    for (i = 0; i < ARRAY_LEN(bad_npys); i++) {
        const bad_npy *b = &bad_npys[i];
        unsigned char data[64];
        cli_array a;
        cli_err e;
        size_t n;
        cli_status st;
        memset(data, 0x11, sizeof data);
        if (b->dict)
            n = make_npy(buf, b->dict, data, b->data_len);
        else {
            memcpy(buf, b->raw, b->raw_len);
            n = b->raw_len;
        }
        st = read_array("a.npy", buf, n, CLI_FMT_NPY, &a, &e);
        if (st != CLI_E_DATA)
            print_error("bad NPY %zu read with status %d\n", i, (int)st);
        assert_int_equal(st, CLI_E_DATA);
        assert_contains(e.msg, b->want);
        assert_contains(e.msg, "a.npy: ");
        assert_null(a.data);
    }
}

static void npy_refuses_values_that_are_not_finite(void **state)
{
    unsigned char buf[512];
    float f[6] = {0, 1, 2, 3, NAN, 5};
    double d[2] = {1.0, 1e300};
    unsigned char b1[1] = {2};
    cli_array a;
    cli_err e;
    size_t n;
    (void)state;
    n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, "
                 "'shape': (2, 3), }", f, sizeof f);
    assert_int_equal(read_array("x.npy", buf, n, CLI_FMT_NPY, &a, &e),
                     CLI_E_DATA);
    assert_contains(e.msg, "x.npy: row 1, column 1 (byte ");
    assert_contains(e.msg, "the value is NaN; expected a finite number");
    f[4] = INFINITY;
    n = make_npy(buf, "{'descr': '<f4', 'fortran_order': False, "
                 "'shape': (6,), }", f, sizeof f);
    assert_int_equal(read_array("x.npy", buf, n, CLI_FMT_NPY, &a, &e),
                     CLI_E_DATA);
    assert_contains(e.msg, "x.npy: row 4 (byte ");
    assert_contains(e.msg, "infinite");
    n = make_npy(buf, "{'descr': '<f8', 'fortran_order': False, "
                 "'shape': (1, 2), }", d, sizeof d);
    assert_int_equal(read_array("x.npy", buf, n, CLI_FMT_NPY, &a, &e),
                     CLI_E_DATA);
    assert_contains(e.msg, "row 0, column 1");
    assert_contains(e.msg, "beyond float's range");
    n = make_npy(buf, "{'descr': '|b1', 'fortran_order': False, "
                 "'shape': (1,), }", b1, 1);
    assert_int_equal(read_array("x.npy", buf, n, CLI_FMT_NPY, &a, &e),
                     CLI_E_DATA);
    assert_contains(e.msg, "not a boolean");
}

/* ---- IDX ---- */

static void idx_reads_each_type(void **state)
{
    static const unsigned char u8[] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1,
                                       0, 0, 0, 2, 0, 128, 255, 7};
    static const unsigned char i16[] = {0, 0, 0x0b, 1, 0, 0, 0, 2,
                                        0xff, 0xfe, 0x01, 0x00};
    static const unsigned char f32[] = {0, 0, 0x0d, 2, 0, 0, 0, 1, 0, 0, 0,
                                        1, 0x3f, 0xc0, 0, 0};
    static const unsigned char f64[] = {0, 0, 0x0e, 1, 0, 0, 0, 1, 0xc0,
                                        0x24, 0, 0, 0, 0, 0, 0};
    static const unsigned char i8[] = {0, 0, 9, 1, 0, 0, 0, 1, 0x80};
    cli_array a;
    cli_err e;
    (void)state;
    assert_int_equal(read_array("i", u8, sizeof u8, CLI_FMT_IDX, &a, &e),
                     CLI_OK);
    assert_int_equal(a.ndim, 3);
    assert_int_equal(cli_array_rows(&a), 2);
    assert_int_equal(cli_array_width(&a), 2);
    assert_true(a.data[0] == 0 && a.data[1] == 128 && a.data[2] == 255 &&
                a.data[3] == 7);
    cli_array_free(&a);
    assert_int_equal(read_array("i", i16, sizeof i16, CLI_FMT_IDX, &a, &e),
                     CLI_OK);
    assert_true(a.data[0] == -2 && a.data[1] == 256);
    cli_array_free(&a);
    assert_int_equal(read_array("i", f32, sizeof f32, CLI_FMT_IDX, &a, &e),
                     CLI_OK);
    assert_true(a.data[0] == 1.5f);
    cli_array_free(&a);
    assert_int_equal(read_array("i", f64, sizeof f64, CLI_FMT_IDX, &a, &e),
                     CLI_OK);
    assert_true(a.data[0] == -10.0f);
    cli_array_free(&a);
    assert_int_equal(read_array("i", i8, sizeof i8, CLI_FMT_IDX, &a, &e),
                     CLI_OK);
    assert_true(a.data[0] == -128.0f);
    cli_array_free(&a);
}

typedef struct bad_idx {
    unsigned char bytes[24];
    size_t n;
    const char *want;
} bad_idx;

static const bad_idx bad_idxs[] = {
    {{1, 0, 8, 1}, 4, "l.idx: byte 0: not an IDX file"},
    {{0, 0}, 2, "byte 0: not an IDX file"},
    {{0, 0, 7, 1, 0, 0, 0, 1, 0}, 9, "byte 2: IDX type code 0x07"},
    {{0, 0, 8, 0}, 4, "byte 3: 0 dimensions"},
    {{0, 0, 8, 33}, 4, "byte 3: 33 dimensions"},
    {{0, 0, 8, 2, 0, 0, 0, 1}, 8,
     "byte 8: the file is truncated: the header of 2 dimensions needs 12"},
    {{0, 0, 8, 1, 0, 0, 0, 0}, 8, "byte 4: dimension 0 is 0"},
    {{0, 0, 8, 1, 0, 0, 0, 3, 1, 2}, 10,
     "byte 10: the file is truncated: the header announces 3 elements of 1 "
     "byte, the file holds 2 bytes"},
    {{0, 0, 8, 1, 0, 0, 0, 1, 1, 2}, 10,
     "byte 9: 1 bytes follow the 1 elements"},
    {{0, 0, 0x0c, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0}, 14,
     "the header announces 2 elements of 4 bytes, the file holds 6"},
    {{0, 0, 0x0d, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0x7f, 0xc0, 0, 0},
     20, "l.idx: row 0, column 1 (byte 16): the value is NaN"},
    {{0, 0, 0x0d, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, 24,
     "more elements than the file can hold"},
};

static void idx_refuses_each_bad_input(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < ARRAY_LEN(bad_idxs); i++) {
        cli_array a;
        cli_err e;
        cli_status st = read_array("l.idx", bad_idxs[i].bytes,
                                   bad_idxs[i].n, CLI_FMT_IDX, &a, &e);
        if (st != CLI_E_DATA)
            print_error("bad IDX %zu read with status %d\n", i, (int)st);
        assert_int_equal(st, CLI_E_DATA);
        assert_contains(e.msg, bad_idxs[i].want);
        assert_null(a.data);
    }
}

/* ---- gzip ---- */

static void gzip_members_are_decompressed_and_sniffed(void **state)
{
    static const unsigned char idx[] = {0, 0, 8, 1, 0, 0, 0, 3, 5, 6, 7};
    static const char csv[] = "a,b\n1,2\n";
    unsigned char *z1, *z2, *both;
    size_t n1, n2;
    cli_source src;
    cli_array a;
    cli_err e;
    (void)state;
    z1 = gzip_bytes(idx, 5, &n1);       /* the first 5 bytes */
    z2 = gzip_bytes(idx + 5, 6, &n2);   /* the rest, a second member */
    both = malloc(n1 + n2);
    assert_non_null(both);
    memcpy(both, z1, n1);
    memcpy(both + n1, z2, n2);
    assert_int_equal(cli_source_from_memory("l.gz", both, n1 + n2, &src, &e),
                     CLI_OK);
    assert_int_equal(src.gzipped, 1);
    assert_int_equal(src.size, sizeof idx);
    assert_int_equal(cli_sniff(src.bytes, src.size), CLI_FMT_IDX);
    assert_int_equal(cli_idx_read(&src, &a, &e), CLI_OK);
    /* unsigned bytes stay bytes, in the source's buffer */
    assert_null(a.data);
    assert_true(a.u8 == src.bytes + 8);
    assert_int_equal(a.u8[2], 7);
    assert_int_equal(cli_array_floats(&a, &e), CLI_OK);
    assert_null(a.u8);
    assert_true(a.data[2] == 7.0f);
    cli_array_free(&a);
    cli_source_free(&src);
    free(z1);
    free(z2);
    free(both);

    z1 = gzip_bytes(csv, strlen(csv), &n1);
    assert_int_equal(cli_source_from_memory("c.gz", z1, n1, &src, &e),
                     CLI_OK);
    assert_int_equal(cli_sniff(src.bytes, src.size), CLI_FMT_CSV);
    assert_memory_equal(src.bytes, csv, strlen(csv));
    cli_source_free(&src);
    free(z1);
}

static void gzip_refuses_damaged_streams(void **state)
{
    static char text[4000];
    unsigned char *z, *bad;
    size_t n, i, cut;
    cli_source src;
    cli_err e;
    (void)state;
    for (i = 0; i < sizeof text; i++)
        text[i] = (char)('a' + (i * 7919) % 26);
    z = gzip_bytes(text, sizeof text, &n);
    bad = malloc(n + 4);
    assert_non_null(bad);

    /* cut anywhere: truncated */
    for (cut = 2; cut < n; cut += (cut < 20 ? 1 : 97)) {
        cli_status st = cli_source_from_memory("z.gz", z, cut, &src, &e);
        assert_int_equal(st, CLI_E_DATA);
        assert_contains(e.msg, "z.gz: byte ");
        assert_true(strstr(e.msg, "truncated") != NULL ||
                    strstr(e.msg, "damaged") != NULL);
    }
    /* a flipped byte in the data or in the trailer's CRC */
    memcpy(bad, z, n);
    bad[n - 6] ^= 0x55;
    assert_int_equal(cli_source_from_memory("z.gz", bad, n, &src, &e),
                     CLI_E_DATA);
    assert_contains(e.msg, "damaged gzip data");
    /* garbage after the stream */
    memcpy(bad, z, n);
    memcpy(bad + n, "junk", 4);
    assert_int_equal(cli_source_from_memory("z.gz", bad, n + 4, &src, &e),
                     CLI_E_DATA);
    assert_contains(e.msg, "data after the end of the gzip stream");
    /* a bad header */
    memcpy(bad, z, n);
    bad[2] = 7; /* compression method other than deflate */
    assert_int_equal(cli_source_from_memory("z.gz", bad, n, &src, &e),
                     CLI_E_DATA);
    assert_contains(e.msg, "z.gz: byte ");
    free(bad);
    free(z);
}

/* Decompresses z (zn bytes) both ways and checks the bytes against want
 * (n bytes): cli_gunzip_fast takes it in a build with libdeflate where
 * fast says it should, and gives zlib's bytes. */
static void gunzip_both(const unsigned char *z, size_t zn, const void *want,
                        size_t n, int fast)
{
    unsigned char *a = NULL, *b = NULL;
    size_t an = 0, bn = 0;
    cli_err e;
    int r = cli_gunzip_fast(z, zn, &a, &an);
#if defined(NN_CLI_HAVE_LIBDEFLATE)
    assert_int_equal(r, fast);
#else
    (void)fast;
    assert_int_equal(r, 0);
#endif
    assert_int_equal(cli_gunzip_zlib("z.gz", z, zn, &b, &bn, &e), CLI_OK);
    assert_int_equal(bn, n);
    assert_memory_equal(b, want, n);
    assert_int_equal(b[n], '\0');
    if (r == 1) {
        assert_int_equal(an, n);
        assert_memory_equal(a, want, n);
        assert_int_equal(a[n], '\0');
    } else {
        assert_null(a);
    }
    cli_free(a);
    cli_free(b);
    /* and cli_gunzip, whichever way it goes */
    assert_int_equal(cli_gunzip("z.gz", z, zn, &a, &an, &e), CLI_OK);
    assert_int_equal(an, n);
    assert_memory_equal(a, want, n);
    cli_free(a);
}

static void gzip_fast_path_gives_zlibs_bytes(void **state)
{
    const size_t big = 300000, zeros = 1 << 20;
    unsigned char *text = malloc(big), *zero = calloc(zeros, 1);
    unsigned char *z1, *z2, *z3, *cat, *hc;
    size_t n1, n2, n3, i;
    uint32_t crc;
    (void)state;
    assert_non_null(text);
    assert_non_null(zero);
    for (i = 0; i < big; i++) /* compressible, not trivially */
        text[i] = (unsigned char)("abcdefgh"[(i * 2654435761u >> 13) & 7] +
                                  (i % 97 == 0));
    /* one member: its length field sizes the output */
    z1 = gzip_bytes(text, big, &n1);
    gunzip_both(z1, n1, text, big, 1);
    /* near deflate's largest ratio (a megabyte of zeros) */
    z2 = gzip_bytes(zero, zeros, &n2);
    assert_true(n2 < zeros / 500);
    gunzip_both(z2, n2, zero, zeros, 1);
    /* members of 300000, 0 and 7 bytes: the last length field is 7, the
     * output grows and the first member runs again */
    z3 = gzip_bytes(text, 0, &n3);
    free(z2);
    z2 = gzip_bytes(text + 1000, 7, &n2);
    cat = malloc(n1 + n2 + n3);
    assert_non_null(cat);
    memcpy(cat, z1, n1);
    memcpy(cat + n1, z3, n3);
    memcpy(cat + n1 + n3, z2, n2);
    memcpy(zero, text, big); /* the expected bytes */
    memcpy(zero + big, text + 1000, 7);
    gunzip_both(cat, n1 + n2 + n3, zero, big + 7, 1);
    /* a header CRC (FLG bit 1, two bytes after the 10-byte header: the low
     * half of the header's CRC-32), which zlib checks: zlib's to take */
    hc = malloc(n2 + 2);
    assert_non_null(hc);
    memcpy(hc, z2, 10);
    hc[3] |= 0x02;
    crc = (uint32_t)crc32(0L, hc, 10);
    hc[10] = (unsigned char)(crc & 0xff);
    hc[11] = (unsigned char)(crc >> 8 & 0xff);
    memcpy(hc + 12, z2 + 10, n2 - 10);
    gunzip_both(hc, n2 + 2, text + 1000, 7, 0);
    /* and a wrong one is refused (libdeflate 1.14 alone would take it) */
    hc[10] ^= 0x01;
    {
        unsigned char *o = NULL;
        size_t on = 0;
        cli_err e;
        assert_int_equal(cli_gunzip("z.gz", hc, n2 + 2, &o, &on, &e),
                         CLI_E_DATA);
        assert_contains(e.msg, "z.gz: byte ");
        assert_null(o);
    }
    /* damaged: refused by the fast path, reported by zlib (above) */
    memcpy(cat, z1, n1);
    cat[n1 / 2] ^= 0x20;
    {
        unsigned char *o = NULL;
        size_t on = 1;
        assert_true(cli_gunzip_fast(cat, n1, &o, &on) == 0);
        assert_null(o);
        assert_int_equal(on, 0);
    }
    free(hc);
    free(cat);
    free(z1);
    free(z2);
    free(z3);
    free(zero);
    free(text);
}

/* ---- out of memory ---- */

typedef cli_status (*read_fn)(const void *bytes, size_t n, cli_err *e);

static const char oom_csv[] =
    "a,b,label\n1,2,x\n3,4,y\n5,6,\"a longer label to grow buffers\"\n";

static cli_status oom_read_csv(const void *bytes, size_t n, cli_err *e)
{
    cli_csv_table t;
    cli_status st = read_csv(bytes, n, ',', 1, 0, PLAN_LAST_LABEL, &t, e);
    if (st == CLI_OK) {
        assert_int_equal(t.rows, 3);
        assert_int_equal(t.n_classes, 3);
        cli_csv_table_free(&t);
    }
    return st;
}

static cli_status oom_read_csv_nohead(const void *bytes, size_t n,
                                      cli_err *e)
{
    cli_csv_table t;
    cli_status st = read_csv(bytes, n, ',', 0, 1, PLAN_LAST_LABEL, &t, e);
    if (st == CLI_OK) {
        assert_int_equal(t.rows, 3);
        cli_csv_table_free(&t);
    }
    return st;
}

static cli_status oom_read_npy(const void *bytes, size_t n, cli_err *e)
{
    cli_array a;
    cli_status st = read_array("a.npy", bytes, n, CLI_FMT_NPY, &a, e);
    if (st == CLI_OK) {
        assert_int_equal(a.count, 4);
        cli_array_free(&a);
    }
    return st;
}

static cli_status oom_read_idx(const void *bytes, size_t n, cli_err *e)
{
    cli_array a;
    cli_status st = read_array("a.idx", bytes, n, CLI_FMT_IDX, &a, e);
    if (st == CLI_OK) {
        assert_int_equal(a.count, 3);
        cli_array_free(&a);
    }
    return st;
}

/* Fails allocation 1, 2, ... of fn until it succeeds; every failure must
 * be a clean "out of memory". Returns the number of allocations. */
static unsigned long fail_each_allocation(read_fn fn, const void *bytes,
                                          size_t n)
{
    unsigned long k;
    for (k = 1; k < 10000; k++) {
        cli_err e;
        cli_status st;
        cli_mem_fail_at(k);
        st = fn(bytes, n, &e);
        cli_mem_fail_at(0);
        if (st == CLI_OK)
            return k;
        if (st != CLI_E_NOMEM)
            print_error("allocation %lu failed: status %d, %s\n", k,
                        (int)st, e.msg);
        assert_int_equal(st, CLI_E_NOMEM);
        assert_contains(e.msg, "out of memory");
    }
    fail_msg("the read never succeeded");
    return 0;
}

static void every_allocation_of_a_read_can_fail_cleanly(void **state)
{
    unsigned char npy[256];
    static const unsigned char idx[] = {0, 0, 8, 1, 0, 0, 0, 3, 5, 6, 7};
    float v[4] = {1, 2, 3, 4};
    unsigned char *z;
    size_t n, zn;
    (void)state;
    assert_true(fail_each_allocation(oom_read_csv, oom_csv,
                                     strlen(oom_csv)) > 5);
    assert_true(fail_each_allocation(oom_read_csv_nohead, oom_csv,
                                     strlen(oom_csv)) > 5);
    n = make_npy(npy, "{'descr': '<f4', 'fortran_order': False, "
                 "'shape': (2, 2), }", v, sizeof v);
    assert_true(fail_each_allocation(oom_read_npy, npy, n) >= 2);
    assert_true(fail_each_allocation(oom_read_idx, idx, sizeof idx) >= 2);
    z = gzip_bytes(idx, sizeof idx, &zn);
    /* gunzip: the copy, the inflate state and window, the output */
    assert_true(fail_each_allocation(oom_read_idx, z, zn) >= 4);
    free(z);
    z = gzip_bytes(oom_csv, strlen(oom_csv), &zn);
    assert_true(fail_each_allocation(oom_read_csv, z, zn) > 5);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_reads_header_numbers_and_labels),
        cmocka_unit_test(csv_reads_crlf_bom_skip_tabs_and_blank_lines),
        cmocka_unit_test(csv_reads_quoted_line_breaks_and_cr_line_ends),
        cmocka_unit_test(csv_skips_columns_and_reads_many_rows),
        cmocka_unit_test(csv_refuses_each_bad_input),
        cmocka_unit_test(npy_reads_each_dtype_and_shape),
        cmocka_unit_test(npy_refuses_each_bad_input),
        cmocka_unit_test(npy_refuses_values_that_are_not_finite),
        cmocka_unit_test(idx_reads_each_type),
        cmocka_unit_test(idx_refuses_each_bad_input),
        cmocka_unit_test(gzip_members_are_decompressed_and_sniffed),
        cmocka_unit_test(gzip_refuses_damaged_streams),
        cmocka_unit_test(gzip_fast_path_gives_zlibs_bytes),
        cmocka_unit_test(every_allocation_of_a_read_can_fail_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
