/* SPDX-License-Identifier: MIT */
/*
 * file_faults.h - a table of file operations (src/file.h) for the tests of
 * saves, loads, exports and imports: it passes every call through to POSIX
 * but can fail the Nth call (of any kind) with a chosen errno, end the
 * process there, interrupt every first call of a kind with EINTR, cut
 * writes short, and act as a file system without O_TMPFILE or /proc.
 * Also a test's temporary directory and whole-file reads and writes.
 * Include after cmocka.h and nn_internal.h.
 */
#ifndef NN_FILE_FAULTS_H
#define NN_FILE_FAULTS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* File operations that pass through to POSIX but can fail the Nth call
 * (of any kind) with a chosen errno, interrupt every first call of a kind
 * with EINTR, and cut writes short. */
typedef struct faults {
    const nn__file_ops *real;
    long calls, fail_at;
    int err;
    const char *fired;         /* name of the call that failed, or NULL */
    int fired_on_dir;          /* it was given the directory's fd */
    int dir_fd;
    int eintr;                 /* interrupt the first call of each kind */
    unsigned interrupted;      /* bit per kind already interrupted */
    size_t max_write;          /* 0: no limit */
    long writes, reads;
    int no_tmpfile;            /* the file system has no O_TMPFILE */
    int no_link;               /* naming an unnamed file fails (no /proc) */
    int crash;                 /* at fail_at, the process ends instead */
} faults;

/* 0 to let the call through, else the errno it fails with. */
static int inject(faults *f, const char *name, unsigned kind, int fd)
{
    f->calls++;
    if (f->eintr && !(f->interrupted & (1u << kind))) {
        f->interrupted |= 1u << kind;
        return EINTR;
    }
    if (f->fail_at && f->calls == f->fail_at) {
        if (f->crash)
            _exit(0); /* the process dies here, mid-save */
        f->fired = name;
        f->fired_on_dir = fd >= 0 && fd == f->dir_fd;
        return f->err;
    }
    return 0;
}

#define INJECT(name, kind, fd)                         \
    do {                                               \
        int e_ = inject(f, name, kind, fd);            \
        if (e_) {                                      \
            errno = e_;                                \
            return -1;                                 \
        }                                              \
    } while (0)

static int f_open_read(void *ctx, const char *path, int *fd)
{
    faults *f = (faults *)ctx;
    INJECT("open_read", 0, -1);
    return f->real->open_read(NULL, path, fd);
}

static int f_create_anon(void *ctx, int dir_fd, int *fd)
{
    faults *f = (faults *)ctx;
    INJECT("create_anon", 10, dir_fd);
    if (f->no_tmpfile) {
        errno = EOPNOTSUPP;
        return -1;
    }
    return f->real->create_anon(NULL, dir_fd, fd);
}

static int f_create_at(void *ctx, int dir_fd, const char *name, int *fd)
{
    faults *f = (faults *)ctx;
    INJECT("create_at", 1, dir_fd);
    return f->real->create_at(NULL, dir_fd, name, fd);
}

static int f_link_at(void *ctx, int fd, int dir_fd, const char *name)
{
    faults *f = (faults *)ctx;
    INJECT("link_at", 11, fd);
    if (f->no_link) {
        errno = ENOENT; /* as without /proc */
        return -1;
    }
    return f->real->link_at(NULL, fd, dir_fd, name);
}

static int f_open_dir(void *ctx, const char *path, int *fd)
{
    faults *f = (faults *)ctx;
    int rc;
    INJECT("open_dir", 2, -1);
    rc = f->real->open_dir(NULL, path, fd);
    if (rc == 0)
        f->dir_fd = *fd;
    return rc;
}

static int f_stat_fd(void *ctx, int fd, uint64_t *size, int *regular)
{
    faults *f = (faults *)ctx;
    INJECT("stat_fd", 3, fd);
    return f->real->stat_fd(NULL, fd, size, regular);
}

static int f_read_fd(void *ctx, int fd, void *buf, size_t len, size_t *got)
{
    faults *f = (faults *)ctx;
    INJECT("read_fd", 4, fd);
    f->reads++;
    return f->real->read_fd(NULL, fd, buf, len, got);
}

static int f_write_fd(void *ctx, int fd, const void *buf, size_t len,
                      size_t *done)
{
    faults *f = (faults *)ctx;
    INJECT("write_fd", 5, fd);
    f->writes++;
    if (f->max_write && len > f->max_write)
        len = f->max_write;
    return f->real->write_fd(NULL, fd, buf, len, done);
}

static int f_sync_fd(void *ctx, int fd)
{
    faults *f = (faults *)ctx;
    INJECT("sync_fd", 6, fd);
    return f->real->sync_fd(NULL, fd);
}

static int f_close_fd(void *ctx, int fd)
{
    faults *f = (faults *)ctx;
    int e = inject(f, "close_fd", 7, fd);
    /* close releases the descriptor even when it reports an error */
    int rc = f->real->close_fd(NULL, fd);
    if (e) {
        errno = e;
        return -1;
    }
    return rc;
}

static int f_rename(void *ctx, int dir_fd, const char *from, const char *to)
{
    faults *f = (faults *)ctx;
    INJECT("rename", 8, dir_fd);
    return f->real->rename_at(NULL, dir_fd, from, to);
}

static int f_unlink(void *ctx, int dir_fd, const char *name)
{
    faults *f = (faults *)ctx;
    INJECT("unlink", 9, dir_fd);
    return f->real->unlink_at(NULL, dir_fd, name);
}

static void faults_init(faults *f, nn__file_ops *ops)
{
    memset(f, 0, sizeof *f);
    f->real = nn__file_ops_posix();
    f->dir_fd = -1;
    f->err = EIO;
    ops->ctx = f;
    ops->open_read = f_open_read;
    ops->create_anon = f_create_anon;
    ops->create_at = f_create_at;
    ops->link_at = f_link_at;
    ops->open_dir = f_open_dir;
    ops->stat_fd = f_stat_fd;
    ops->read_fd = f_read_fd;
    ops->write_fd = f_write_fd;
    ops->sync_fd = f_sync_fd;
    ops->close_fd = f_close_fd;
    ops->rename_at = f_rename;
    ops->unlink_at = f_unlink;
}

/* ---- a test's files ---- */
/* The test's temporary directory (its setup fills it in), a name in it,
 * and whole-file reads and writes that fail the test on any error. */
static char tmpdir[256];

static const char *in_tmp(char *buf, const char *name)
{
    snprintf(buf, 512, "%s/%s", tmpdir, name);
    return buf;
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = (unsigned char *)malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void write_all(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

#endif /* NN_FILE_FAULTS_H */
