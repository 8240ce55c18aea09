/* SPDX-License-Identifier: MIT */
/*
 * data.h - a data set as the commands use it: the inputs, and the targets
 * as numbers or as class labels, read from a CSV file (columns chosen by
 * name or index) or from NPY and IDX files (inputs and targets in two
 * files), with where each row came from, so that a problem found later (a
 * class never seen in training) still names the file, line and column.
 */
#ifndef CLI_DATA_H
#define CLI_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "csv_read.h"
#include "err.h"
#include "source.h"

/* What the targets are. */
typedef enum cli_task {
    CLI_TASK_NONE = 0,    /* none are read (prediction) */
    CLI_TASK_REGRESS = 1, /* numbers, one column per output */
    CLI_TASK_CLASSES = 2, /* one column of class labels (cross-entropy) */
    CLI_TASK_BINARY = 3   /* one column of two classes, as 0 and 1 (binary
                             cross-entropy on one output) */
} cli_task;

/* The classes of a classifier. Integer labels 0..n-1 name themselves
 * ("integers"); other labels are names, sorted (numerically when they are
 * all integers, else byte by byte) to give their indices. */
typedef struct cli_classes {
    size_t n;
    char **names;
    int integers;
} cli_classes;

/* The columns of a CSV file a model was trained on (from its metadata). */
typedef struct cli_columns {
    size_t ncols;     /* columns of the training file; 0 when not CSV */
    size_t nin, nout;
    size_t *in_col;   /* nin column indices */
    char **in_name;   /* nin names, or NULL (no header) */
    size_t *out_col;  /* nout */
    char **out_name;
} cli_columns;

/* How to read a data set. */
typedef struct cli_data_spec {
    const char *path;         /* the data, or the inputs for NPY and IDX */
    const char *targets_path; /* NPY and IDX: the targets (or NULL) */
    cli_format format;        /* CLI_FMT_AUTO: from the bytes */
    cli_csv_options csv;
    char **target;            /* --target items (names or indices) */
    size_t n_target;
    char **features;          /* --features items */
    size_t n_features;
    const cli_columns *model; /* evaluate, predict: the model's columns
                                 (used when target and features are not
                                 given) */
    size_t model_inputs;      /* evaluate, predict: the input width */
    int keep_bytes;           /* NPY and IDX inputs of 1-byte unsigned
                                 integers stay bytes (cli_data.xb) */
} cli_data_spec;

typedef struct cli_data {
    const char *file;         /* for messages: the data file */
    const char *label_file;   /* the file holding the targets */
    cli_format format;
    size_t rows;
    size_t nx;
    float *x;                 /* rows x nx; NULL when xb holds them */
    unsigned char *xb;        /* rows x nx inputs of 1-byte unsigned
                                 integers, kept as bytes (keep_bytes) */
    void *xb_block;           /* the allocation xb points into */
    size_t nt;
    float *t;                 /* REGRESS: rows x nt; BINARY: rows x 1 */
    int32_t *labels;          /* CLASSES: rows class indices */
    uint32_t *raw;            /* class tasks: rows ids into raw_names */
    char **raw_names;         /* the distinct labels as read */
    size_t n_raw;
    size_t *origin;           /* rows: the CSV line, or the row index in
                                 an NPY/IDX file */
    size_t label_col;         /* CSV: the column of the labels */
    char *label_col_name;     /* CSV: its header name, or NULL */
    cli_columns cols;         /* CSV: the columns read */
} cli_data;

/* Reads a data set for the given task; for CLI_TASK_REGRESS, nt is the
 * number of target columns expected (the output width). */
cli_status cli_data_load(const cli_data_spec *spec, cli_task task,
                         size_t nt, cli_data *out, cli_err *e);

/* Keeps the rows idx[0..n) (in that order). */
cli_status cli_data_select(cli_data *d, const size_t *idx, size_t n,
                           cli_err *e);

/* Moves n rows chosen at random (a generator seeded with seed) into val,
 * both keeping the file's order. */
cli_status cli_data_split(cli_data *d, size_t n, uint64_t seed,
                          cli_data *val, cli_err *e);

/* Training: finds the classes in the labels (k outputs; BINARY: 2) and
 * sets labels or t. */
cli_status cli_classes_fit(cli_data *d, cli_task task, size_t k,
                           cli_classes *out, cli_err *e);

/* Evaluation and validation: maps the labels through known classes; a
 * label that is not one of them is an error naming its place. */
cli_status cli_classes_map(cli_data *d, cli_task task,
                           const cli_classes *c, cli_err *e);

/* "FILE: line L, column C (NAME)" or "FILE: row R" for row i's target. */
void cli_data_where(const cli_data *d, size_t row, char *buf, size_t size);

/* A 64-bit hash (FNV-1a over words) of the rows, inputs and targets. */
uint64_t cli_data_hash(const cli_data *d);

/* count inputs from element at (row * nx + column) as floats: the data's
 * own, or its bytes converted into buf (count floats). */
const float *cli_data_x_floats(const cli_data *d, size_t at, size_t count,
                               float *buf);

void cli_data_free(cli_data *d);
void cli_classes_free(cli_classes *c);
void cli_columns_free(cli_columns *c);

#endif /* CLI_DATA_H */
