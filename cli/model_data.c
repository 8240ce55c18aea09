/* SPDX-License-Identifier: MIT */
/*
 * model_data.c - data read through a trained model's metadata (see
 * model_data.h).
 */
#include "model_data.h"

#include <string.h>

#include "meta.h"

cli_status cli_model_data_load(const char *path, cli_data_opts *d,
                               int with_targets, cli_model_data *out,
                               cli_err *e)
{
    cli_status st;
    size_t nt;

    memset(out, 0, sizeof *out);
    if ((st = cli_model_load(path, &out->model, e)) != CLI_OK)
        return st;
    if (nn_model_layer_count(out->model) == 0) {
        st = cli_fail(e, CLI_E_DATA, "%s: the model has no layers", path);
        goto fail;
    }
    out->task = cli_model_task(out->model);
    out->k = out->task == CLI_TASK_CLASSES ? nn_model_output_width(out->model)
             : out->task == CLI_TASK_BINARY ? 2 : 0;
    if (out->k &&
        (st = cli_meta_get_classes(out->model, path, out->k, &out->classes,
                                   e)) != CLI_OK)
        goto fail;
    if ((st = cli_meta_get_columns(out->model, path, &out->cols, e)) !=
        CLI_OK)
        goto fail;
    if (out->cols.ncols)
        d->spec.model = &out->cols;
    d->spec.model_inputs = nn_model_input_width(out->model);
    nt = out->task == CLI_TASK_REGRESS ? nn_model_output_width(out->model)
                                       : 0;
    st = cli_data_read(d, with_targets ? out->task : CLI_TASK_NONE, nt,
                       &out->data, e);
    if (st == CLI_OK && with_targets && out->k)
        st = cli_classes_map(&out->data, out->task, &out->classes, e);
    if (st != CLI_OK)
        goto fail;
    return CLI_OK;
fail:
    cli_model_data_free(out);
    return st;
}

void cli_model_data_free(cli_model_data *md)
{
    nn_model_free(md->model);
    md->model = NULL;
    cli_classes_free(&md->classes);
    cli_columns_free(&md->cols);
    cli_data_free(&md->data);
}
