/* SPDX-License-Identifier: MIT */
/*
 * file.c - files for model files and the interchange formats: the real
 * POSIX calls behind the table of file operations, bytes emitted to memory
 * or to a file in chunks, atomic saves, and reads of regular files.
 */
/* glibc declares O_TMPFILE (atomic saves) with _GNU_SOURCE only; that
 * also gives strerror_r its GNU form (nn__errno_text). */
#define _GNU_SOURCE

#include "nn_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Bytes buffered between write calls when saving to a file. */
#define NN__WRITE_CHUNK ((size_t)65536)
/* Reads are split so that no call asks for more than ssize_t can count. */
#define NN__READ_CHUNK ((size_t)1 << 30)

/* Runs op until it succeeds or fails with an error other than EINTR. */
#define NN__RETRY(call) \
    do { errno = 0; rc = (call); } while (rc != 0 && errno == EINTR)

/* ---- messages ---- */

/* The system's text for errno e, thread-safe. */
const char *nn__errno_text(int e, char *buf, size_t cap)
{
#if defined(__GLIBC__)
    /* the GNU strerror_r: returns the text, in buf or static */
    const char *t = strerror_r(e, buf, cap);
    if (t != buf)
        snprintf(buf, cap, "%s", t ? t : "unknown error");
#else
    if (strerror_r(e, buf, cap) != 0)
        snprintf(buf, cap, "error %d", e);
#endif
    return buf;
}

/* "fn: 'path'" for messages, keeping the end of a path too long to fit. */
void nn__file_label(char *dst, size_t cap, const char *fn, const char *path)
{
    size_t len = strlen(path), keep = 160;
    if (len <= keep)
        snprintf(dst, cap, "%s: '%s'", fn, path);
    else
        snprintf(dst, cap, "%s: '...%s'", fn, path + (len - keep));
}

/* ---- the real calls ---- */

static int posix_open_read(void *ctx, const char *path, int *fd)
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

static int posix_create_anon(void *ctx, int dir_fd, int *fd)
{
#if defined(O_TMPFILE)
    int f;
    (void)ctx;
    f = openat(dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    if (f < 0)
        return -1;
    *fd = f;
    return 0;
#else
    (void)ctx;
    (void)dir_fd;
    (void)fd;
    errno = EOPNOTSUPP;
    return -1;
#endif
}

static int posix_create_at(void *ctx, int dir_fd, const char *name, int *fd)
{
    int f;
    (void)ctx;
    f = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (f < 0)
        return -1;
    *fd = f;
    return 0;
}

/* Gives the unnamed file of fd the name name: through /proc, which any
 * process may use on its own descriptors (AT_EMPTY_PATH needs a
 * capability unprivileged processes lack). */
static int posix_link_at(void *ctx, int fd, int dir_fd, const char *name)
{
    char proc[40];
    (void)ctx;
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc, dir_fd, name, AT_SYMLINK_FOLLOW);
}

static int posix_open_dir(void *ctx, const char *path, int *fd)
{
    int f;
    (void)ctx;
    f = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f < 0)
        return -1;
    *fd = f;
    return 0;
}

static int posix_stat_fd(void *ctx, int fd, uint64_t *size, int *regular)
{
    struct stat sb;
    (void)ctx;
    if (fstat(fd, &sb) != 0)
        return -1;
    *regular = S_ISREG(sb.st_mode) ? 1 : 0;
    *size = sb.st_size > 0 ? (uint64_t)sb.st_size : 0;
    return 0;
}

static int posix_read_fd(void *ctx, int fd, void *buf, size_t len,
                         size_t *got)
{
    ssize_t k;
    (void)ctx;
    k = read(fd, buf, len);
    if (k < 0)
        return -1;
    *got = (size_t)k;
    return 0;
}

static int posix_write_fd(void *ctx, int fd, const void *buf, size_t len,
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

static int posix_sync_fd(void *ctx, int fd)
{
    (void)ctx;
    return fsync(fd);
}

static int posix_close_fd(void *ctx, int fd)
{
    (void)ctx;
    return close(fd);
}

static int posix_rename_at(void *ctx, int dir_fd, const char *from,
                           const char *to)
{
    (void)ctx;
    return renameat(dir_fd, from, dir_fd, to);
}

static int posix_unlink_at(void *ctx, int dir_fd, const char *name)
{
    (void)ctx;
    return unlinkat(dir_fd, name, 0);
}

static const nn__file_ops posix_ops = {
    NULL,            posix_open_read,   posix_open_dir,  posix_create_anon,
    posix_create_at, posix_link_at,     posix_stat_fd,   posix_read_fd,
    posix_write_fd,  posix_sync_fd,     posix_close_fd,  posix_rename_at,
    posix_unlink_at};

const nn__file_ops *nn__file_ops_posix(void)
{
    return &posix_ops;
}

/* ---- emitting bytes ---- */

void nn__sink_flush(nn__sink *s)
{
    size_t off = 0;
    if (!s->ops)
        return;
    while (off < s->len && !s->err) {
        size_t done = 0;
        errno = 0;
        if (s->ops->write_fd(s->ops->ctx, s->fd, s->buf + off, s->len - off,
                             &done) != 0) {
            if (errno != EINTR)
                s->err = errno ? errno : EIO;
        } else if (done == 0 || done > s->len - off) {
            s->err = EIO; /* a write that makes no progress never will */
        } else {
            off += done;
        }
    }
    s->len = 0;
}

void nn__sink_put(nn__sink *s, const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    s->total += n;
    if (!s->buf || s->err)
        return;
    while (n > 0) {
        size_t k;
        if (s->len == s->cap) {
            if (!s->ops) {
                /* Memory is sized before emitting; never reached. */
                s->err = ENOBUFS;
                return;
            }
            nn__sink_flush(s);
        }
        k = s->cap - s->len < n ? s->cap - s->len : n;
        memcpy(s->buf + s->len, b, k);
        s->len += k;
        b += k;
        n -= k;
    }
}

/* ---- atomic saves ---- */

/* The temporary file's name in the target's directory: ".nn-", 12 hex
 * digits and ".tmp", 20 bytes whatever the target's name, so that any
 * name the system accepts can be saved. The digits mix the process, the
 * time, an address on this thread's stack and the attempt, so that
 * concurrent saves pick different names (and O_EXCL or link refuse a
 * name taken anyway). */
#define NN__TEMP_NAME_BYTES 21
static void temp_name(char *dst, int attempt)
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
    snprintf(dst, NN__TEMP_NAME_BYTES, ".nn-%012llx.tmp",
             (unsigned long long)(z & 0xffffffffffffull));
}

/* Whether an error of O_TMPFILE or of naming its file says the file
 * system (or the system) cannot do it, rather than that the save cannot
 * work: then a named temporary file takes its place. */
static int unsupported(int e)
{
    return e == EOPNOTSUPP || e == EISDIR || e == EINVAL || e == ENOENT ||
           e == EPERM || e == EXDEV || e == ENOSYS;
}

/* One attempt at the save through an unnamed file (anon) or a named one.
 * *fell_back is set when the unnamed way is not available here (nothing
 * was left behind: the caller tries again with a name). */
typedef struct nn__save {
    nn__emit_fn emit;
    void *ctx;
    size_t size;               /* 0: not known in advance */
    const nn__file_ops *ops;
    int dir_fd;
    const char *base;          /* the target's name in its directory */
    char *tmp;                 /* room for the temporary name */
    unsigned char *chunk;
    size_t cap;
    const char *step;          /* what failed, for the message */
} nn__save;

static int save_attempt(nn__save *sv, int anon, int *fell_back)
{
    const nn__file_ops *ops = sv->ops;
    int fd = -1, named = 0, rc = 0, attempt, e;
    nn__sink out;
    *fell_back = 0;
    sv->step = "creating a temporary file beside it";
    if (anon) {
        NN__RETRY(ops->create_anon(ops->ctx, sv->dir_fd, &fd));
        if (rc != 0) {
            *fell_back = unsupported(errno);
            return -1;
        }
    } else {
        for (attempt = 0; attempt < 16; attempt++) {
            temp_name(sv->tmp, attempt);
            NN__RETRY(ops->create_at(ops->ctx, sv->dir_fd, sv->tmp, &fd));
            if (rc == 0 || errno != EEXIST)
                break;
        }
        if (rc != 0)
            return -1;
        named = 1;
    }
    sv->step = "writing the temporary file";
    memset(&out, 0, sizeof out);
    out.buf = sv->chunk;
    out.cap = sv->cap;
    out.ops = ops;
    out.fd = fd;
    sv->emit(sv->ctx, &out);
    nn__sink_flush(&out);
    if (!out.err && sv->size != 0 && out.total != sv->size) {
        sv->step = "writing the temporary file (internal error: size "
                   "mismatch)";
        out.err = EIO;
    }
    if (out.err) {
        errno = out.err;
        goto fail;
    }
    sv->step = "syncing the temporary file";
    NN__RETRY(ops->sync_fd(ops->ctx, fd));
    if (rc != 0)
        goto fail;
    if (anon) {
        /* Until now the file had no name: a crash left nothing. It gets
         * one only now, complete and synced. */
        sv->step = "naming the temporary file";
        for (attempt = 0; attempt < 16; attempt++) {
            temp_name(sv->tmp, attempt);
            NN__RETRY(ops->link_at(ops->ctx, fd, sv->dir_fd, sv->tmp));
            if (rc == 0 || errno != EEXIST)
                break;
        }
        if (rc != 0) {
            *fell_back = unsupported(errno);
            goto fail;
        }
        named = 1;
    }
    sv->step = "closing the temporary file";
    errno = 0;
    rc = ops->close_fd(ops->ctx, fd);
    fd = -1; /* closed even when close reports an error */
    /* EINTR: the descriptor is gone and the data already synced. */
    if (rc != 0 && errno != EINTR)
        goto fail;
    sv->step = "renaming the temporary file over it";
    NN__RETRY(ops->rename_at(ops->ctx, sv->dir_fd, sv->tmp, sv->base));
    if (rc != 0)
        goto fail;
    return 0;
fail:
    e = errno ? errno : EIO;
    if (fd >= 0)
        (void)ops->close_fd(ops->ctx, fd);
    if (named)
        (void)ops->unlink_at(ops->ctx, sv->dir_fd, sv->tmp);
    errno = e;
    return -1;
}

nn_status nn__save_atomic(const char *fn, const char *path, size_t size,
                          nn__emit_fn emit, void *ctx,
                          const nn__file_ops *ops)
{
    char where[200], etext[128];
    size_t plen, cap, slash, bytes;
    unsigned char *block;
    char *dir;
    int rc = 0, e, fell_back = 0;
    nn__save sv;
    nn_status st;
    if (!path)
        return nn__fail(NN_E_NULL, "%s: path is NULL", fn);
    plen = strlen(path);
    if (plen == 0 || path[plen - 1] == '/')
        return nn__fail(NN_E_INVALID, "%s: path '%s' names no file", fn,
                        path);
    nn__file_label(where, sizeof where, fn, path);

    /* Everything is allocated before the file system is touched: the
     * temporary name, the directory's name and the write buffer. */
    cap = size != 0 && size < NN__WRITE_CHUNK ? size : NN__WRITE_CHUNK;
    if (!nn__add_size(NN__TEMP_NAME_BYTES + 2 + cap, plen, &bytes))
        return nn__fail(NN_E_OVERFLOW, "%s: the path is too long", where);
    block = (unsigned char *)nn__malloc(bytes);
    if (!block)
        return nn__fail(NN_E_NOMEM, "%s: allocating %zu bytes failed", where,
                        bytes);
    memset(&sv, 0, sizeof sv);
    sv.emit = emit;
    sv.ctx = ctx;
    sv.size = size;
    sv.ops = ops;
    sv.dir_fd = -1;
    sv.tmp = (char *)block;
    dir = sv.tmp + NN__TEMP_NAME_BYTES;
    sv.chunk = block + NN__TEMP_NAME_BYTES + plen + 2;
    sv.cap = cap;
    for (slash = plen; slash > 0 && path[slash - 1] != '/'; slash--)
        ;
    sv.base = path + slash;
    if (slash == 0) {
        strcpy(dir, ".");
    } else {
        memcpy(dir, path, slash > 1 ? slash - 1 : 1); /* "/x" -> "/" */
        dir[slash > 1 ? slash - 1 : 1] = '\0';
    }

    /* The directory is opened first: every other call names files in it,
     * it is synced after the rename, and a missing directory is reported
     * before anything is created. */
    sv.step = "opening its directory";
    NN__RETRY(ops->open_dir(ops->ctx, dir, &sv.dir_fd));
    if (rc != 0) {
        sv.dir_fd = -1;
        goto fail;
    }
    rc = save_attempt(&sv, 1, &fell_back);
    if (rc != 0 && fell_back)
        rc = save_attempt(&sv, 0, &fell_back);
    if (rc != 0)
        goto fail;

    /* The rename is durable once the directory is synced. Some file
     * systems cannot sync a directory (EINVAL); nothing more can be done
     * there. */
    NN__RETRY(ops->sync_fd(ops->ctx, sv.dir_fd));
    e = errno;
    (void)ops->close_fd(ops->ctx, sv.dir_fd);
    nn__free(block);
    if (rc != 0 && e != EINVAL)
        return nn__fail(NN_E_IO,
                        "%s: the file was replaced, but syncing its directory "
                        "failed, so the change may not survive a crash: %s "
                        "(errno %d)", where,
                        nn__errno_text(e, etext, sizeof etext), e);
    return NN_OK;

fail:
    e = errno ? errno : EIO;
    if (sv.dir_fd >= 0)
        (void)ops->close_fd(ops->ctx, sv.dir_fd);
    st = nn__fail(NN_E_IO, "%s: %s failed: %s (errno %d); the file is "
                  "unchanged", where, sv.step,
                  nn__errno_text(e, etext, sizeof etext), e);
    nn__free(block);
    return st;
}

/* ---- reading ---- */

nn_status nn__open_regular(const char *where, const char *path,
                           const nn__file_ops *ops, int *fd,
                           uint64_t *size)
{
    char etext[128];
    const char *step = "opening it";
    int regular = 0, rc, e;
    *size = 0;
    NN__RETRY(ops->open_read(ops->ctx, path, fd));
    if (rc != 0) {
        *fd = -1;
        goto fail;
    }
    step = "reading its size";
    NN__RETRY(ops->stat_fd(ops->ctx, *fd, size, &regular));
    if (rc != 0)
        goto fail;
    if (!regular) {
        (void)ops->close_fd(ops->ctx, *fd);
        *fd = -1;
        return nn__fail(NN_E_IO, "%s: not a regular file", where);
    }
    return NN_OK;
fail:
    e = errno ? errno : EIO;
    if (*fd >= 0)
        (void)ops->close_fd(ops->ctx, *fd);
    *fd = -1;
    return nn__fail(NN_E_IO, "%s: %s failed: %s (errno %d)", where, step,
                    nn__errno_text(e, etext, sizeof etext), e);
}

int nn__read_full(const nn__file_ops *ops, int fd, unsigned char *buf,
                  size_t len, size_t *got)
{
    int rc;
    *got = 0;
    while (*got < len) {
        size_t k = 0, want = len - *got;
        if (want > NN__READ_CHUNK)
            want = NN__READ_CHUNK;
        NN__RETRY(ops->read_fd(ops->ctx, fd, buf + *got, want, &k));
        if (rc != 0)
            return -1;
        if (k == 0 || k > want)
            break;
        *got += k;
    }
    return 0;
}

nn_status nn__read_file(const char *fn, const char *path,
                        const nn__file_ops *ops, unsigned char **data,
                        size_t *size)
{
    char where[200], etext[128];
    unsigned char *buf = NULL, extra;
    uint64_t fsize;
    size_t n = 0, got;
    int fd, e;
    nn_status st;

    *data = NULL;
    *size = 0;
    nn__file_label(where, sizeof where, fn, path);
    st = nn__open_regular(where, path, ops, &fd, &fsize);
    if (st != NN_OK)
        return st;
    if (fsize > (uint64_t)((size_t)-1 - 1)) {
        st = nn__fail(NN_E_OVERFLOW, "%s: the file's %llu bytes do not fit "
                      "in memory", where, (unsigned long long)fsize);
        goto done;
    }
    n = (size_t)fsize;
    buf = (unsigned char *)nn__malloc(n ? n : 1);
    if (!buf) {
        st = nn__fail(NN_E_NOMEM, "%s: allocating %zu bytes for the file "
                      "failed", where, n);
        goto done;
    }
    if (nn__read_full(ops, fd, buf, n, &got) != 0)
        goto io_fail;
    if (got != n)
        goto changed;
    if (nn__read_full(ops, fd, &extra, 1, &got) != 0)
        goto io_fail;
    if (got != 0)
        goto changed;
    st = NN_OK;
    goto done;
changed:
    st = nn__fail(NN_E_IO, "%s: the file changed size while being read",
                  where);
    goto done;
io_fail:
    e = errno ? errno : EIO;
    st = nn__fail(NN_E_IO, "%s: reading it failed: %s (errno %d)", where,
                  nn__errno_text(e, etext, sizeof etext), e);
done:
    (void)ops->close_fd(ops->ctx, fd);
    if (st == NN_OK) {
        *data = buf;
        *size = n;
    } else {
        nn__free(buf);
    }
    return st;
}
