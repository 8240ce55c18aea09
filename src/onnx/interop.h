/*
 * interop.h - what the files of src/onnx/ (ONNX export and import, C source
 * export) share. Nothing here is API.
 *
 * These files reach the model through include/nn.h alone: export reads it
 * through the getters, import builds it through nn_model_create, the
 * nn_model_add_* calls and the setters, as a program linking libnn could.
 * From the core they take only what no public function offers to code
 * inside the library and what every libnn call must share: the allocator
 * that nn_set_allocator replaces (so that its counting and failing apply
 * here too) and the per-thread message of nn_last_error. The three
 * declarations below repeat those of src/nn_internal.h; the unit test
 * tests/onnx/test_interop_bridge.c includes both headers, so a change to
 * either that makes them disagree fails to compile.
 */
#ifndef NN_INTEROP_H
#define NN_INTEROP_H

#include "nn.h"

#include <stddef.h>
#include <stdint.h>

/* ---- from the core (alloc.c, status.c) ---- */
void *nn__malloc(size_t size);
void nn__free(void *p);
nn_status nn__fail(nn_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- sizes ---- */
/* *out = a * b, or 0 on overflow. */
static inline int nn__ix_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > (size_t)-1 / a)
        return 0;
    *out = a * b;
    return 1;
}

/* *out = a + b, or 0 on overflow. */
static inline int nn__ix_add(size_t a, size_t b, size_t *out)
{
    if (b > (size_t)-1 - a)
        return 0;
    *out = a + b;
    return 1;
}

/* ---- output: bytes to memory, to a counter, or to a file ---- */

/* The file operations of the exports and of nn_model_import_onnx. Each
 * returns 0, or -1 with errno set, as the POSIX call it stands for. The
 * public functions pass the real calls (nn__ix_file_ops_posix); tests pass
 * a table that fails chosen calls, so that no global hook is needed. */
typedef struct nn__ix_file_ops {
    void *ctx;
    int (*open_read)(void *ctx, const char *path, int *fd);
    int (*create)(void *ctx, const char *path, int *fd);   /* O_EXCL */
    int (*open_dir)(void *ctx, const char *path, int *fd);
    int (*stat_fd)(void *ctx, int fd, uint64_t *size, int *regular);
    int (*read_fd)(void *ctx, int fd, void *buf, size_t len, size_t *got);
    int (*write_fd)(void *ctx, int fd, const void *buf, size_t len,
                    size_t *done);
    int (*sync_fd)(void *ctx, int fd);
    int (*close_fd)(void *ctx, int fd);
    int (*rename_path)(void *ctx, const char *from, const char *to);
    int (*unlink_path)(void *ctx, const char *path);
} nn__ix_file_ops;

const nn__ix_file_ops *nn__ix_file_ops_posix(void);

/* Where emitted bytes go. With buf NULL the bytes are only counted; with
 * ops NULL, buf is memory of cap bytes that must hold them all; with ops
 * set, buf is a chunk written to fd whenever it fills. */
typedef struct nn__ix_out {
    unsigned char *buf;
    size_t cap, len;
    size_t total;              /* bytes emitted so far */
    const nn__ix_file_ops *ops;
    int fd;
    int err;                   /* errno of the first failed write, or 0 */
} nn__ix_out;

void nn__ix_put(nn__ix_out *o, const void *p, size_t n);
/* Text for the C source export; the formatted piece is at most 1023 bytes. */
void nn__ix_printf(nn__ix_out *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Writes a whole file atomically, as nn_model_save does: emit(ctx, out)
 * produces the content into a temporary file beside path, which is synced,
 * closed and renamed over path, and the directory synced. emit must not
 * fail other than through out (every check comes before the call);
 * expected is the number of bytes it emits, or 0 when not known in
 * advance. fn names the public function in messages.
 * Returns NN_OK, NN_E_INVALID (a path that names no file), NN_E_NOMEM,
 * NN_E_IO. */
typedef void (*nn__ix_emit_fn)(void *ctx, nn__ix_out *out);
nn_status nn__ix_save(const char *fn, const char *path, nn__ix_emit_fn emit,
                      void *ctx, size_t expected,
                      const nn__ix_file_ops *ops);

/* Reads the regular file at path whole into a block from nn__malloc,
 * which the caller frees; *size receives its length. */
nn_status nn__ix_read_file(const char *fn, const char *path,
                           unsigned char **data, size_t *size,
                           const nn__ix_file_ops *ops);

/* ---- the public functions, through a given table of file operations ---- */
nn_status nn__onnx_export_ops(const nn_model *model, const char *path,
                              const nn__ix_file_ops *ops);
nn_status nn__onnx_import_ops(nn_model **out, const char *path,
                              const nn__ix_file_ops *ops);
nn_status nn__c_export_ops(const nn_model *model, const char *path,
                           const char *prefix, const nn__ix_file_ops *ops);

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
