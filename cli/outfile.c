/* SPDX-License-Identifier: MIT */
/*
 * outfile.c - atomic output files and the signals that could leave a
 * temporary one behind (see outfile.h).
 */
/* glibc declares O_TMPFILE with _GNU_SOURCE only */
#define _GNU_SOURCE

#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"

/* ---- signals ---- */

volatile int cli_signal_caught;
/* While training, or while libnn writes a file of its own
 * (cli_out_write_file), the first signal is only noted. */
static volatile sig_atomic_t deferring;
/* The temporary files that exist now, for the handler to remove. */
#define MAX_TMP 4
static char *volatile tmp_files[MAX_TMP];

static void register_tmp(char *path)
{
    int i;
    for (i = 0; i < MAX_TMP; i++)
        if (!tmp_files[i]) {
            tmp_files[i] = path;
            return;
        }
}

static void unregister_tmp(const char *path)
{
    int i;
    for (i = 0; i < MAX_TMP; i++)
        if (tmp_files[i] == path)
            tmp_files[i] = NULL;
}

static void on_signal(int sig)
{
    int i;
    if (deferring && !cli_signal_caught) {
        cli_signal_caught = sig;
        return;
    }
    for (i = 0; i < MAX_TMP; i++)
        if (tmp_files[i])
            unlink(tmp_files[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

void cli_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void cli_signals_train(int on)
{
    deferring = on;
}

/* ---- paths ---- */

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return cli_strdup(".");
    if (slash == path)
        return cli_strdup("/");
    return cli_strndup(path, (size_t)(slash - path));
}

cli_status cli_out_check(const char *opt, const char *path, int force,
                         cli_err *e)
{
    struct stat sb;
    char *dir;
    int ok;

    if (path[0] == '\0' || path[strlen(path) - 1] == '/')
        return cli_fail(e, CLI_E_USAGE, "%s: '%s' is not a file name", opt,
                        path);
    if (lstat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return cli_fail(e, CLI_E_USAGE, "%s: %s is a directory", opt,
                            path);
        if (!force)
            return cli_fail(e, CLI_E_USAGE, "%s: %s exists; pass --force to "
                            "replace it", opt, path);
    }
    dir = dir_of(path);
    if (!dir)
        return cli_nomem(e, "checking the output");
    /* access() on a file says "permission denied"; say what it is */
    ok = stat(dir, &sb) != 0 || S_ISDIR(sb.st_mode);
    if (!ok)
        cli_fail(e, CLI_E_USAGE, "%s: cannot create %s: %s is not a "
                 "directory", opt, path, dir);
    else if (!(ok = access(dir, W_OK | X_OK) == 0))
        cli_fail(e, CLI_E_USAGE, "%s: cannot create %s: %s: %s", opt, path,
                 dir, strerror(errno));
    cli_free(dir);
    return ok ? CLI_OK : CLI_E_USAGE;
}

/* The temporary file's name: ".nn-", the process, a counter and ".tmp"
 * in path's directory, so that any name the system accepts for path can
 * be written (a name of NAME_MAX bytes leaves no room for a suffix). */
static char *tmp_name(const char *path)
{
    static unsigned counter;
    char *dir = dir_of(path), *t;
    size_t n;
    if (!dir)
        return NULL;
    n = strlen(dir) + 64;
    t = cli_malloc(n);
    if (t)
        snprintf(t, n, "%s/.nn-%ld-%u.tmp", dir, (long)getpid(), counter++);
    cli_free(dir);
    return t;
}

/* Opens an unnamed file in path's directory (O_TMPFILE): a crash, even
 * kill -9, then leaves nothing; it gets a name only when complete. Needs
 * /proc to name it (linkat of /proc/self/fd/N); -1 where either is
 * missing or the file system cannot. */
static int open_unnamed(const char *path)
{
#if defined(O_TMPFILE) && defined(__linux__)
    char *dir;
    int fd;
    if (access("/proc/self/fd", X_OK) != 0)
        return -1;
    dir = dir_of(path);
    if (!dir)
        return -1;
    fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    cli_free(dir);
    return fd;
#else
    (void)path;
    return -1;
#endif
}

/* Gives the unnamed file fd the name to; fails with EEXIST if to
 * exists. */
static int link_unnamed(int fd, const char *to)
{
    char proc[48];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc, AT_FDCWD, to, AT_SYMLINK_FOLLOW);
}

static void sync_dir(const char *path)
{
    char *dir = dir_of(path);
    int fd;
    if (!dir)
        return;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    cli_free(dir);
}

/* Moves tmp to path: without force by link(2), which fails if path
 * exists; with force by rename(2). tmp is gone afterwards either way. */
static cli_status place(const char *tmp, const char *path, int force,
                        cli_err *e)
{
    if (force) {
        if (rename(tmp, path) != 0) {
            int err = errno;
            unlink(tmp);
            return cli_fail(e, CLI_E_IO, "%s: cannot rename the temporary "
                            "file into place: %s", path, strerror(err));
        }
    } else {
        if (link(tmp, path) != 0) {
            int err = errno;
            unlink(tmp);
            if (err == EEXIST)
                return cli_fail(e, CLI_E_USAGE, "%s: exists (it appeared "
                                "while the command ran); pass --force to "
                                "replace it", path);
            return cli_fail(e, CLI_E_IO, "%s: cannot link the temporary "
                            "file into place: %s", path, strerror(err));
        }
        unlink(tmp);
    }
    sync_dir(path);
    return CLI_OK;
}

static cli_status out_open(cli_out *out, const char *path, int force,
                           int named, cli_err *e)
{
    int fd = -1;
    memset(out, 0, sizeof *out);
    out->force = force;
    out->path = cli_strdup(path);
    if (!out->path) {
        cli_out_abort(out);
        return cli_nomem(e, "opening the output");
    }
    if (!named)
        fd = open_unnamed(path);
    if (fd < 0) {
        out->tmp = tmp_name(path);
        if (!out->tmp) {
            cli_out_abort(out);
            return cli_nomem(e, "opening the output");
        }
        fd = open(out->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) {
            cli_fail(e, CLI_E_IO, "%s: cannot create %s: %s", path,
                     out->tmp, strerror(errno));
            cli_free(out->tmp);
            out->tmp = NULL;
            cli_out_abort(out);
            return CLI_E_IO;
        }
        register_tmp(out->tmp);
    }
    out->f = fdopen(fd, "w");
    if (!out->f) {
        close(fd);
        cli_out_abort(out);
        return cli_nomem(e, "opening the output");
    }
    return CLI_OK;
}

cli_status cli_out_open(cli_out *out, const char *path, int force,
                        cli_err *e)
{
    return out_open(out, path, force, 0, e);
}

/* Names the unnamed file of out: without force at its path directly
 * (linkat refuses to replace), with force at a temporary name that is
 * then renamed over the path. */
static cli_status place_unnamed(cli_out *out, cli_err *e)
{
    int fd = fileno(out->f), err;
    if (!out->force) {
        if (link_unnamed(fd, out->path) == 0)
            return CLI_OK;
        err = errno;
        if (err == EEXIST)
            return cli_fail(e, CLI_E_USAGE, "%s: exists (it appeared while "
                            "the command ran); pass --force to replace it",
                            out->path);
        return cli_fail(e, CLI_E_IO, "%s: cannot give the new file its "
                        "name: %s", out->path, strerror(err));
    }
    out->tmp = tmp_name(out->path);
    if (!out->tmp)
        return cli_nomem(e, "naming the output");
    register_tmp(out->tmp);
    if (link_unnamed(fd, out->tmp) != 0) {
        err = errno;
        unregister_tmp(out->tmp);
        cli_free(out->tmp);
        out->tmp = NULL;
        return cli_fail(e, CLI_E_IO, "%s: cannot name the temporary file: "
                        "%s", out->path, strerror(err));
    }
    return CLI_OK;
}

cli_status cli_out_commit(cli_out *out, cli_err *e)
{
    int err = 0, unnamed = out->tmp == NULL;
    cli_status st = CLI_OK;
    if (fflush(out->f) != 0 || ferror(out->f))
        err = errno ? errno : EIO;
    else if (fsync(fileno(out->f)) != 0)
        err = errno;
    if (!err && unnamed) {
        /* complete and synced: now it may have a name */
        st = place_unnamed(out, e);
        if (st == CLI_OK && !out->force) {
            fclose(out->f);
            out->f = NULL;
            sync_dir(out->path);
            cli_free(out->path);
            out->path = NULL;
            return CLI_OK;
        }
    }
    if (fclose(out->f) != 0 && !err)
        err = errno;
    out->f = NULL;
    if (err || st != CLI_OK) {
        if (err)
            cli_fail(e, CLI_E_IO, "%s: writing failed: %s", out->path,
                     strerror(err));
        cli_out_abort(out);
        return err ? CLI_E_IO : st;
    }
    st = place(out->tmp, out->path, out->force, e);
    unregister_tmp(out->tmp);
    cli_free(out->tmp);
    out->tmp = NULL;
    cli_free(out->path);
    out->path = NULL;
    return st;
}

void cli_out_abort(cli_out *out)
{
    if (!out)
        return;
    if (out->f)
        fclose(out->f);
    out->f = NULL;
    if (out->tmp) {
        unlink(out->tmp);
        unregister_tmp(out->tmp);
        cli_free(out->tmp);
    }
    out->tmp = NULL;
    cli_free(out->path);
    out->path = NULL;
}

cli_status cli_out_write_bytes(const void *buf, size_t size,
                               const char *path, int force, cli_err *e)
{
    cli_out out;
    cli_status st = cli_out_open(&out, path, force, e);
    if (st != CLI_OK)
        return st;
    if (fwrite(buf, 1, size, out.f) != size) {
        cli_out_abort(&out);
        return cli_fail(e, CLI_E_IO, "%s: writing failed", path);
    }
    return cli_out_commit(&out, e);
}

cli_status cli_out_save_model(const nn_model *m, const char *path,
                              nn_save_what what, int force, cli_err *e)
{
    size_t size = 0;
    unsigned char *buf;
    nn_status s;
    cli_status st;

    /* the file's bytes in memory, then through the same atomic writer as
     * every other output: one temporary file, known to the signal
     * handler, and no replacing without force */
    s = nn_model_save_size(m, what, &size);
    if (s != NN_OK)
        return cli_fail(e, CLI_E_LIB, "%s: saving failed: %s", path,
                        nn_last_error());
    buf = cli_malloc(size);
    if (!buf)
        return cli_nomem(e, "saving the model");
    s = nn_model_save_buffer(m, what, buf, size, NULL);
    if (s != NN_OK) {
        cli_free(buf);
        return cli_fail(e, s == NN_E_NOMEM ? CLI_E_NOMEM : CLI_E_LIB,
                        "%s: saving failed: %s", path, nn_last_error());
    }
    st = cli_out_write_bytes(buf, size, path, force, e);
    cli_free(buf);
    return st;
}

cli_status cli_out_write_file(const char *path, int force,
                              cli_file_writer writer, void *ctx,
                              cli_err *e)
{
    cli_out out;
    /* writer needs a name to write at */
    cli_status st = out_open(&out, path, force, 1, e);
    int sig;

    if (st != CLI_OK)
        return st;
    /* writer puts a complete file at out.tmp by a rename of its own
     * temporary file, whose name the signal handler cannot know: until
     * it returns, a signal is only noted (as while training), so that it
     * cannot end the process with that file left behind. The descriptor
     * of out.f then refers to the empty file the rename replaced; the
     * commit closes it and moves the file writer made into place. */
    cli_signal_caught = 0;
    deferring = 1;
    st = writer(out.tmp, ctx, e);
    deferring = 0;
    sig = cli_signal_caught;
    if (sig) {
        cli_out_abort(&out);
        signal(sig, SIG_DFL);
        raise(sig);
        return cli_fail(e, CLI_E_IO, "%s: interrupted", path);
    }
    if (st != CLI_OK) {
        cli_out_abort(&out);
        return st;
    }
    return cli_out_commit(&out, e);
}
