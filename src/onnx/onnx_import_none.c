/* SPDX-License-Identifier: MIT */
/*
 * onnx_import_none.c - nn_model_import_onnx and nn_model_import_onnx_buffer
 * in a libnn built without protobuf-c, which the importer decodes ONNX
 * files with (src/onnx/onnx.cmake). The functions exist in every build, so
 * that the ABI does not depend on how libnn was configured; here they
 * check their arguments and say why they cannot import.
 */
#include "interop.h"

#define NN__IX_NO_READER                                                   \
    "this libnn was built without the ONNX reader (protobuf-c was not "    \
    "found when it was configured; install libprotobuf-c-dev and "         \
    "protobuf-c-compiler and build it again)"

nn_status nn_model_import_onnx_buffer(nn_model **out, const void *buf,
                                      size_t size)
{
    static const char fn[] = "nn_model_import_onnx_buffer";
    (void)size;
    if (!out)
        return nn__fail(NN_E_NULL, "%s: out is NULL", fn);
    *out = NULL;
    if (!buf)
        return nn__fail(NN_E_NULL, "%s: buf is NULL", fn);
    return nn__fail(NN_E_STATE, "%s: %s", fn, NN__IX_NO_READER);
}

nn_status nn__onnx_import_ops(nn_model **out, const char *path,
                              const nn__file_ops *ops)
{
    static const char fn[] = "nn_model_import_onnx";
    (void)ops;
    if (!out)
        return nn__fail(NN_E_NULL, "%s: out is NULL", fn);
    *out = NULL;
    if (!path)
        return nn__fail(NN_E_NULL, "%s: path is NULL", fn);
    return nn__fail(NN_E_STATE, "%s: %s", fn, NN__IX_NO_READER);
}

nn_status nn_model_import_onnx(nn_model **out, const char *path)
{
    return nn__onnx_import_ops(out, path, nn__file_ops_posix());
}
