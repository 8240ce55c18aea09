/* SPDX-License-Identifier: MIT */
/*
 * interop.h - what the files of src/onnx/ (ONNX export and import, C source
 * export) share. Nothing here is API.
 *
 * These files reach the model through include/nn.h alone: export reads it
 * through the getters, import builds it through nn_model_create, the
 * nn_model_add_* calls and the setters, as a program linking libnn could.
 * From the core they take only what every file of libnn shares (base.h:
 * the allocator that nn_set_allocator replaces, so that its counting and
 * failing apply here too, size checks, and the per-thread message of
 * nn_last_error) and the files model files use too (file.h: atomic saves
 * and reads through a table of file operations that tests replace).
 */
#ifndef NN_INTEROP_H
#define NN_INTEROP_H

#include "nn.h"

#include <stddef.h>
#include <stdint.h>

#include "base.h"
#include "file.h"

/* ---- the public functions, through a given table of file operations ---- */
nn_status nn__onnx_export_ops(const nn_model *model, const char *path,
                              const nn__file_ops *ops);
nn_status nn__onnx_import_ops(nn_model **out, const char *path,
                              const nn__file_ops *ops);
nn_status nn__c_export_ops(const nn_model *model, const char *path,
                           const char *prefix, const nn__file_ops *ops);

/* ---- reading a model for export (model_read.c) ---- */
/* NN_OK if model is not NULL, has layers of kinds this libnn knows, and
 * every weight, bias and buffer is finite (an exported model holds finite
 * values only, as a model file does); else the status, with the message
 * under fn. */
nn_status nn__ix_check_model(const char *fn, const nn_model *model);
/* The number of floats of the largest weight, bias or buffer array of a
 * layer (at least 1): room for any nn__ix_layer_array. */
size_t nn__ix_max_array(const nn_model *model);
/* Copies the weights, bias or buffers of a layer (count floats). */
#define NN__IX_WEIGHTS 0
#define NN__IX_BIAS 1
#define NN__IX_BUFFERS 2
nn_status nn__ix_layer_array(const nn_model *model, size_t layer, int which,
                             float *dst, size_t count);
/* A layer setting that nn__ix_check_model has read (0 if it cannot be). */
double nn__ix_layer_param(const nn_model *model, size_t layer,
                          nn_layer_param key);

#endif /* NN_INTEROP_H */
