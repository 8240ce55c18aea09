/* SPDX-License-Identifier: MIT */
/*
 * meta.h - what nn train keeps in a model's metadata (nn_model_set_meta)
 * so that the other commands can read raw data like the training data:
 *
 *   nn.format              csv, npy or idx: how the training data came
 *   nn.columns             CSV: the training file's number of columns
 *   nn.input.I.column      CSV: the column of input I (from 0)
 *   nn.input.I.name        CSV with a header: its name
 *   nn.target.I.column     CSV: the column of target I
 *   nn.target.I.name       CSV with a header: its name
 *   nn.labels              classifiers: "integers" (labels 0..k-1) or
 *                          "names"
 *   nn.class.I             classifiers: the name of class I
 *   nn.scale               standard, minmax or none (the scaling layer)
 *   nn.train.rows          the number of training rows
 *   nn.train.hash          a hash of the training rows (to check that a
 *                          resumed run has the same data)
 *   nn.train.arg.I         the options of nn train that shaped the run,
 *                          in order, as --name=value
 *   nn.train.epochs        the epochs run (early stopping may end sooner)
 *   nn.train.steps         the optimizer steps taken (a model file keeps
 *                          no step count; a checkpoint does)
 *
 * nn import adds
 *
 *   nn.import.file         the name (without its directory) of the ONNX
 *                          file read
 *
 * to what the file brings: nn export writes the model's metadata into the
 * ONNX file, and libnn's importer reads it back, so that a model goes out
 * and in again with its columns, classes and options.
 *
 * Every key is its own entry, so reading them back needs no parser beyond
 * whole numbers.
 */
#ifndef CLI_META_H
#define CLI_META_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "err.h"
#include "nn.h"

cli_status cli_meta_set(nn_model *m, const char *key, const char *value,
                        cli_err *e);
cli_status cli_meta_setf(nn_model *m, const char *key, cli_err *e,
                         const char *fmt, ...) CLI_PRINTF(4, 5);

cli_status cli_meta_put_columns(nn_model *m, const cli_columns *c,
                                cli_err *e);
cli_status cli_meta_put_classes(nn_model *m, const cli_classes *c,
                                cli_err *e);
cli_status cli_meta_put_args(nn_model *m, char **args, size_t n,
                             cli_err *e);

/* Readers; file names the model file in messages. */
cli_status cli_meta_size(const nn_model *m, const char *file,
                         const char *key, size_t *out, cli_err *e);
cli_status cli_meta_get_columns(const nn_model *m, const char *file,
                                cli_columns *out, cli_err *e);
cli_status cli_meta_get_classes(const nn_model *m, const char *file,
                                size_t k, cli_classes *out, cli_err *e);
/* The stored options, as a new array of strings (cli_list_free). */
cli_status cli_meta_get_args(const nn_model *m, char ***args, size_t *n,
                             cli_err *e);

/* What the model's targets are, from its loss and output width. */
cli_task cli_model_task(const nn_model *m);

#endif /* CLI_META_H */
