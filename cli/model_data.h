/* SPDX-License-Identifier: MIT */
/*
 * model_data.h - reading data for a trained model (nn evaluate and nn
 * predict): the columns and classes its metadata records, and the data
 * read through them, with the targets mapped to the model's classes.
 */
#ifndef CLI_MODEL_DATA_H
#define CLI_MODEL_DATA_H

#include "cli.h"

typedef struct cli_model_data {
    nn_model *model;
    cli_task task;      /* what the model's targets are */
    size_t k;           /* classes (0 for regression) */
    cli_classes classes;
    cli_columns cols;
    cli_data data;
} cli_model_data;

/* Loads the model at path and reads the data d describes through it;
 * with_targets 0 reads no targets (prediction). */
cli_status cli_model_data_load(const char *path, cli_data_opts *d,
                               int with_targets, cli_model_data *out,
                               cli_err *e);
void cli_model_data_free(cli_model_data *md);

#endif /* CLI_MODEL_DATA_H */
