/* SPDX-License-Identifier: MIT */
/*
 * file.h - files, for model files (io.c) and the interchange formats
 * (src/onnx): a table of file operations (the real POSIX calls, or a
 * test's that fails chosen ones), bytes emitted to memory or to a file in
 * chunks, atomic saves, and reads of regular files. Nothing here is API.
 */
#ifndef NN_FILE_H
#define NN_FILE_H

#include "nn.h"

#include <stddef.h>
#include <stdint.h>

/* The file operations of saves and loads. Each returns 0, or -1 with errno
 * set, as the POSIX call it stands for; tests pass a table that fails
 * chosen calls, so that the library needs no global hook. */
typedef struct nn__file_ops {
    void *ctx;                 /* passed to every function */
    /* open(path, O_RDONLY) */
    int (*open_read)(void *ctx, const char *path, int *fd);
    /* open(path, O_RDONLY | O_DIRECTORY): every name below is in it */
    int (*open_dir)(void *ctx, const char *path, int *fd);
    /* openat(dir_fd, ".", O_TMPFILE | O_WRONLY): a file without a name */
    int (*create_anon)(void *ctx, int dir_fd, int *fd);
    /* openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL, 0666) */
    int (*create_at)(void *ctx, int dir_fd, const char *name, int *fd);
    /* linkat: gives create_anon's file the name name in dir_fd */
    int (*link_at)(void *ctx, int fd, int dir_fd, const char *name);
    /* fstat: the size, and whether fd is a regular file */
    int (*stat_fd)(void *ctx, int fd, uint64_t *size, int *regular);
    /* read and write: *got / *done receive the byte count */
    int (*read_fd)(void *ctx, int fd, void *buf, size_t len, size_t *got);
    int (*write_fd)(void *ctx, int fd, const void *buf, size_t len,
                    size_t *done);
    int (*sync_fd)(void *ctx, int fd);          /* fsync */
    int (*close_fd)(void *ctx, int fd);
    /* renameat(dir_fd, from, dir_fd, to) */
    int (*rename_at)(void *ctx, int dir_fd, const char *from,
                     const char *to);
    /* unlinkat(dir_fd, name, 0) */
    int (*unlink_at)(void *ctx, int dir_fd, const char *name);
} nn__file_ops;

/* The real POSIX calls (a constant table). */
const nn__file_ops *nn__file_ops_posix(void);

/* Where emitted bytes go. With buf NULL they are only counted; with ops
 * NULL, buf is memory of cap bytes that must hold them all (more sets err
 * to ENOBUFS); with ops set, buf is a chunk of cap bytes written to fd
 * whenever it fills. */
typedef struct nn__sink {
    unsigned char *buf;
    size_t cap, len;
    size_t total;              /* bytes emitted so far */
    const nn__file_ops *ops;
    int fd;
    int err;                   /* errno of the first failed write, or 0 */
} nn__sink;

void nn__sink_put(nn__sink *s, const void *p, size_t n);
/* Writes what the chunk holds to the file (nothing in memory). */
void nn__sink_flush(nn__sink *s);

/* Writes a file atomically: emit(ctx, out) produces the content into a
 * temporary file in path's directory, unnamed where the file system can
 * (O_TMPFILE, named only once complete and synced) and ".nn-<12 hex
 * digits>.tmp" otherwise; it is synced, renamed over path, and the
 * directory synced. On failure path is untouched and no temporary file is
 * left. emit must not fail other than through out (every check comes
 * before the call); size is the number of bytes it emits, or 0 when not
 * known in advance. Everything is allocated before the file system is
 * touched. fn names the public function in messages.
 * Returns NN_OK, NN_E_NULL (path), NN_E_INVALID (a path that is empty or
 * ends in '/'), NN_E_OVERFLOW, NN_E_NOMEM, NN_E_IO (naming the step). */
typedef void (*nn__emit_fn)(void *ctx, nn__sink *out);
nn_status nn__save_atomic(const char *fn, const char *path, size_t size,
                          nn__emit_fn emit, void *ctx,
                          const nn__file_ops *ops);

/* Opens path, which must be a regular file, for reading; *size receives
 * its size. where prefixes messages. On failure *fd is -1.
 * Returns NN_OK, NN_E_IO. */
nn_status nn__open_regular(const char *where, const char *path,
                           const nn__file_ops *ops, int *fd,
                           uint64_t *size);
/* Reads up to len bytes, stopping early only at the end of the file
 * (*got < len). Returns 0, or -1 with errno set. */
int nn__read_full(const nn__file_ops *ops, int fd, unsigned char *buf,
                  size_t len, size_t *got);
/* Reads the regular file at path whole into a block from nn__malloc,
 * which the caller frees; *size receives its length.
 * Returns NN_OK, NN_E_IO (also when the file changes size while read),
 * NN_E_OVERFLOW, NN_E_NOMEM. */
nn_status nn__read_file(const char *fn, const char *path,
                        const nn__file_ops *ops, unsigned char **data,
                        size_t *size);

/* "fn: 'path'" into dst, keeping the end of a path too long to fit. */
void nn__file_label(char *dst, size_t cap, const char *fn, const char *path);
/* strerror_r's text for errno e. */
const char *nn__errno_text(int e, char *buf, size_t cap);

#endif /* NN_FILE_H */
