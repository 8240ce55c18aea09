/*
 * file.c - the files of the ONNX and C source exports and of the ONNX
 * import: bytes emitted to memory, to a counter or to a file, atomic saves
 * (temporary file, fsync, rename, directory fsync, as nn_model_save does)
 * and whole-file reads, through a table of file operations that the tests
 * replace to make any step fail.
 */
#define _POSIX_C_SOURCE 200809L

#include "interop.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Bytes buffered between write calls when saving to a file. */
#define NN__IX_CHUNK ((size_t)65536)
/* Reads are split so that no call asks for more than ssize_t can count. */
#define NN__IX_READ_CHUNK ((size_t)1 << 30)

/* ---- the real file operations ---- */

static int px_open_read(void *ctx, const char *path, int *fd)
{
    int f;
    (void)ctx;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is then
     * refused as not a regular file); regular files ignore the flag. */
    f = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (f < 0)
        return -1;
    *fd = f;
    return 0;
}

static int px_create(void *ctx, const char *path, int *fd)
{
    int f;
    (void)ctx;
    f = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (f < 0)
        return -1;
    *fd = f;
    return 0;
}

static int px_open_dir(void *ctx, const char *path, int *fd)
{
    int f;
    (void)ctx;
    f = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f < 0)
        return -1;
    *fd = f;
    return 0;
}

static int px_stat_fd(void *ctx, int fd, uint64_t *size, int *regular)
{
    struct stat sb;
    (void)ctx;
    if (fstat(fd, &sb) != 0)
        return -1;
    *regular = S_ISREG(sb.st_mode) ? 1 : 0;
    *size = sb.st_size > 0 ? (uint64_t)sb.st_size : 0;
    return 0;
}

static int px_read_fd(void *ctx, int fd, void *buf, size_t len, size_t *got)
{
    ssize_t k;
    (void)ctx;
    k = read(fd, buf, len);
    if (k < 0)
        return -1;
    *got = (size_t)k;
    return 0;
}

static int px_write_fd(void *ctx, int fd, const void *buf, size_t len,
                       size_t *done)
{
    ssize_t k;
    (void)ctx;
    k = write(fd, buf, len);
    if (k < 0)
        return -1;
    *done = (size_t)k;
    return 0;
}

static int px_sync_fd(void *ctx, int fd)
{
    (void)ctx;
    return fsync(fd);
}

static int px_close_fd(void *ctx, int fd)
{
    (void)ctx;
    return close(fd);
}

static int px_rename(void *ctx, const char *from, const char *to)
{
    (void)ctx;
    return rename(from, to);
}

static int px_unlink(void *ctx, const char *path)
{
    (void)ctx;
    return unlink(path);
}

static const nn__ix_file_ops nn__ix_posix = {
    NULL,         px_open_read, px_create,   px_open_dir,
    px_stat_fd,   px_read_fd,   px_write_fd, px_sync_fd,
    px_close_fd,  px_rename,    px_unlink};

const nn__ix_file_ops *nn__ix_file_ops_posix(void)
{
    return &nn__ix_posix;
}

/* ---- emitting bytes ---- */

static void flush(nn__ix_out *o)
{
    size_t off = 0;
    while (off < o->len && !o->err) {
        size_t done = 0;
        errno = 0;
        if (o->ops->write_fd(o->ops->ctx, o->fd, o->buf + off, o->len - off,
                             &done) != 0) {
            if (errno != EINTR)
                o->err = errno ? errno : EIO;
        } else if (done == 0 || done > o->len - off) {
            o->err = EIO; /* a write that makes no progress never will */
        } else {
            off += done;
        }
    }
    o->len = 0;
}

void nn__ix_put(nn__ix_out *o, const void *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    o->total += n;
    if (!o->buf)
        return;
    while (n > 0) {
        size_t k;
        if (o->len == o->cap) {
            if (!o->ops) {
                /* Memory is sized before emitting; never reached. */
                o->err = ENOBUFS;
                return;
            }
            flush(o);
        }
        k = o->cap - o->len < n ? o->cap - o->len : n;
        memcpy(o->buf + o->len, s, k);
        o->len += k;
        s += k;
        n -= k;
    }
}

void nn__ix_printf(nn__ix_out *o, const char *fmt, ...)
{
    char piece[1024];
    va_list ap;
    int k;
    va_start(ap, fmt);
    k = vsnprintf(piece, sizeof piece, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof piece) {
        o->err = EOVERFLOW; /* a bug in the caller; never reached */
        return;
    }
    nn__ix_put(o, piece, (size_t)k);
}

/* ---- messages ---- */

static const char *errno_text(int e, char *buf, size_t cap)
{
    if (strerror_r(e, buf, cap) != 0)
        snprintf(buf, cap, "error %d", e);
    return buf;
}

/* "fn: 'path'", keeping the end of a path too long to fit. */
static void label(char *dst, size_t cap, const char *fn, const char *path)
{
    size_t len = strlen(path), keep = 160;
    if (len <= keep)
        snprintf(dst, cap, "%s: '%s'", fn, path);
    else
        snprintf(dst, cap, "%s: '...%s'", fn, path + (len - keep));
}

/* ---- atomic saves ---- */

/* A name for the temporary file that no other save picks: the process,
 * the time, an address on this thread's stack and the attempt, mixed. */
static void temp_name(char *dst, size_t cap, const char *path, int attempt)
{
    struct timespec ts;
    uint64_t z;
    int local = attempt;
    clock_gettime(CLOCK_REALTIME, &ts);
    z = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull ^
        (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
        (uint64_t)(uintptr_t)&local ^ (uint64_t)local << 48;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    snprintf(dst, cap, "%s.tmp.%012llx", path,
             (unsigned long long)(z & 0xffffffffffffull));
}

#define NN__IX_RETRY(call) \
    do { errno = 0; rc = (call); } while (rc != 0 && errno == EINTR)

nn_status nn__ix_save(const char *fn, const char *path, nn__ix_emit_fn emit,
                      void *ctx, size_t expected,
                      const nn__ix_file_ops *ops)
{
    char where[200], etext[128];
    const char *step;
    size_t plen, name_cap, cap, slash, bytes;
    unsigned char *block;
    char *tmp, *dir;
    int dir_fd = -1, fd = -1, created = 0, rc = 0, e, attempt;
    nn__ix_out o;
    nn_status st;

    plen = strlen(path);
    if (plen == 0 || path[plen - 1] == '/')
        return nn__fail(NN_E_INVALID, "%s: path '%s' names no file", fn,
                        path);
    label(where, sizeof where, fn, path);

    /* Everything is allocated before the file system is touched: the
     * temporary name, the directory's name and the write buffer. */
    name_cap = plen + 32;
    cap = expected != 0 && expected < NN__IX_CHUNK ? expected : NN__IX_CHUNK;
    if (!nn__ix_add(name_cap + 2, plen, &bytes) ||
        !nn__ix_add(bytes, cap, &bytes))
        return nn__fail(NN_E_OVERFLOW, "%s: the path is too long", where);
    block = (unsigned char *)nn__malloc(bytes);
    if (!block)
        return nn__fail(NN_E_NOMEM, "%s: allocating %zu bytes failed", where,
                        bytes);
    tmp = (char *)block;
    dir = tmp + name_cap;
    for (slash = plen; slash > 0 && path[slash - 1] != '/'; slash--)
        ;
    if (slash == 0) {
        strcpy(dir, ".");
    } else {
        memcpy(dir, path, slash > 1 ? slash - 1 : 1); /* "/x" -> "/" */
        dir[slash > 1 ? slash - 1 : 1] = '\0';
    }

    /* The directory is opened first: it is synced after the rename, and a
     * missing directory is reported before anything is created. */
    step = "opening its directory";
    NN__IX_RETRY(ops->open_dir(ops->ctx, dir, &dir_fd));
    if (rc != 0) {
        dir_fd = -1;
        goto fail;
    }
    step = "creating a temporary file beside it";
    for (attempt = 0; attempt < 16; attempt++) {
        temp_name(tmp, name_cap, path, attempt);
        NN__IX_RETRY(ops->create(ops->ctx, tmp, &fd));
        if (rc == 0 || errno != EEXIST)
            break;
    }
    if (rc != 0) {
        fd = -1;
        goto fail;
    }
    created = 1;

    step = "writing the temporary file";
    memset(&o, 0, sizeof o);
    o.buf = block + name_cap + plen + 2;
    o.cap = cap;
    o.ops = ops;
    o.fd = fd;
    emit(ctx, &o);
    if (!o.err)
        flush(&o);
    if (!o.err && expected != 0 && o.total != expected) {
        step = "writing the temporary file (internal error: size mismatch)";
        o.err = EIO;
    }
    if (o.err) {
        errno = o.err;
        rc = -1;
        goto fail;
    }
    step = "syncing the temporary file";
    NN__IX_RETRY(ops->sync_fd(ops->ctx, fd));
    if (rc != 0)
        goto fail;
    step = "closing the temporary file";
    errno = 0;
    rc = ops->close_fd(ops->ctx, fd);
    fd = -1; /* closed even when close reports an error */
    /* EINTR: the descriptor is gone and the data already synced. */
    if (rc != 0 && errno != EINTR)
        goto fail;
    step = "renaming the temporary file over it";
    NN__IX_RETRY(ops->rename_path(ops->ctx, tmp, path));
    if (rc != 0)
        goto fail;
    created = 0;

    /* The rename is durable once the directory is synced. Some file
     * systems cannot sync a directory (EINVAL); nothing more can be done
     * there. */
    NN__IX_RETRY(ops->sync_fd(ops->ctx, dir_fd));
    e = errno;
    (void)ops->close_fd(ops->ctx, dir_fd);
    nn__free(block);
    if (rc != 0 && e != EINVAL)
        return nn__fail(NN_E_IO,
                        "%s: the file was replaced, but syncing its directory "
                        "failed, so the change may not survive a crash: %s "
                        "(errno %d)", where,
                        errno_text(e, etext, sizeof etext), e);
    return NN_OK;

fail:
    e = errno ? errno : EIO;
    if (fd >= 0)
        (void)ops->close_fd(ops->ctx, fd);
    if (created)
        (void)ops->unlink_path(ops->ctx, tmp);
    if (dir_fd >= 0)
        (void)ops->close_fd(ops->ctx, dir_fd);
    st = nn__fail(NN_E_IO, "%s: %s failed: %s (errno %d); the file is "
                  "unchanged", where, step,
                  errno_text(e, etext, sizeof etext), e);
    nn__free(block);
    return st;
}

/* ---- whole-file reads ---- */

nn_status nn__ix_read_file(const char *fn, const char *path,
                           unsigned char **data, size_t *size,
                           const nn__ix_file_ops *ops)
{
    char where[200], etext[128];
    const char *step;
    uint64_t fsize = 0;
    size_t n, off = 0;
    unsigned char *buf = NULL;
    int fd = -1, regular = 0, rc = 0, e;

    *data = NULL;
    *size = 0;
    label(where, sizeof where, fn, path);
    step = "opening it";
    NN__IX_RETRY(ops->open_read(ops->ctx, path, &fd));
    if (rc != 0) {
        fd = -1;
        goto fail;
    }
    step = "reading its size";
    NN__IX_RETRY(ops->stat_fd(ops->ctx, fd, &fsize, &regular));
    if (rc != 0)
        goto fail;
    if (!regular) {
        (void)ops->close_fd(ops->ctx, fd);
        return nn__fail(NN_E_IO, "%s: not a regular file", where);
    }
    if (fsize > (uint64_t)((size_t)-1 - 1)) {
        (void)ops->close_fd(ops->ctx, fd);
        return nn__fail(NN_E_OVERFLOW, "%s: the file's %llu bytes do not "
                        "fit in memory", where, (unsigned long long)fsize);
    }
    n = (size_t)fsize;
    buf = (unsigned char *)nn__malloc(n);
    if (!buf) {
        (void)ops->close_fd(ops->ctx, fd);
        return nn__fail(NN_E_NOMEM, "%s: allocating %zu bytes for the file "
                        "failed", where, n);
    }
    step = "reading it";
    while (off < n) {
        size_t got = 0, want = n - off;
        if (want > NN__IX_READ_CHUNK)
            want = NN__IX_READ_CHUNK;
        NN__IX_RETRY(ops->read_fd(ops->ctx, fd, buf + off, want, &got));
        if (rc != 0)
            goto fail;
        if (got == 0 || got > want) {
            /* The file shrank while it was read. */
            errno = EIO;
            step = "reading it (it ended before its size)";
            goto fail;
        }
        off += got;
    }
    (void)ops->close_fd(ops->ctx, fd);
    *data = buf;
    *size = n;
    return NN_OK;

fail:
    e = errno ? errno : EIO;
    if (fd >= 0)
        (void)ops->close_fd(ops->ctx, fd);
    nn__free(buf);
    return nn__fail(NN_E_IO, "%s: %s failed: %s (errno %d)", where, step,
                    errno_text(e, etext, sizeof etext), e);
}
