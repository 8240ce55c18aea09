/* SPDX-License-Identifier: MIT */
/*
 * idx.c - reads MNIST-style IDX files through zlib (see idx.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "idx.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#define IDX_MAGIC_LABELS 0x00000801ul
#define IDX_MAGIC_IMAGES 0x00000803ul

/* Bytes asked of gzread at a time (it takes an unsigned int). */
#define IDX_CHUNK (1u << 16)

#if defined(__GNUC__)
#  define IDX_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define IDX_PRINTF(f, a)
#endif

static void set_msg(char *msg, size_t msg_size, const char *fmt, ...)
    IDX_PRINTF(3, 4);

static void set_msg(char *msg, size_t msg_size, const char *fmt, ...)
{
    va_list ap;
    if (!msg || msg_size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, msg_size, fmt, ap);
    va_end(ap);
}

static unsigned long be32(const unsigned char *p)
{
    return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) |
           ((unsigned long)p[2] << 8) | (unsigned long)p[3];
}

/* Opens path for reading through zlib (gzip or plain). */
static idx_result open_file(const char *path, gzFile *out, char *msg,
                            size_t msg_size)
{
    struct stat st;
    gzFile f;

    *out = NULL;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) {
            set_msg(msg, msg_size, "not found");
            return IDX_E_NOT_FOUND;
        }
        set_msg(msg, msg_size, "cannot open: %s", strerror(errno));
        return IDX_E_OPEN;
    }
    if (S_ISDIR(st.st_mode)) {
        set_msg(msg, msg_size, "is a directory, not a file");
        return IDX_E_OPEN;
    }
    errno = 0;
    f = gzopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) {
            set_msg(msg, msg_size, "not found");
            return IDX_E_NOT_FOUND;
        }
        set_msg(msg, msg_size, "cannot open: %s",
                errno ? strerror(errno) : "out of memory");
        return errno ? IDX_E_OPEN : IDX_E_NOMEM;
    }
    (void)gzbuffer(f, 1u << 17); /* fewer, larger reads; best effort */
    *out = f;
    return IDX_OK;
}

/* The reason gzread failed, as a result and a message. */
static idx_result stream_error(gzFile f, char *msg, size_t msg_size)
{
    int errnum = Z_OK;
    const char *what = gzerror(f, &errnum);
    const char *sep;

    if (errnum == Z_ERRNO) {
        set_msg(msg, msg_size, "read error: %s", strerror(errno));
        return IDX_E_OPEN;
    }
    if (errnum == Z_MEM_ERROR) {
        set_msg(msg, msg_size, "out of memory while decompressing");
        return IDX_E_NOMEM;
    }
    /* zlib's message reads "PATH: problem"; the caller prints the path. */
    if (what && (sep = strrchr(what, ':')) != NULL && sep[1] == ' ')
        what = sep + 2;
    set_msg(msg, msg_size, "corrupt gzip data (%s)",
            what && *what ? what : "unknown zlib error");
    return IDX_E_FORMAT;
}

/* Reads up to n bytes into buf; *got receives how many were read. A short
 * count means the end of the data (or of a cut gzip stream) was reached.
 * Fails only on a read error or corrupt compressed data. */
static idx_result read_some(gzFile f, unsigned char *buf, size_t n,
                            size_t *got, char *msg, size_t msg_size)
{
    *got = 0;
    while (*got < n) {
        size_t want = n - *got;
        int r;
        if (want > IDX_CHUNK)
            want = IDX_CHUNK;
        r = gzread(f, buf + *got, (unsigned)want);
        if (r < 0)
            return stream_error(f, msg, msg_size);
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    if (*got < n) {
        /* A cut gzip stream reports Z_BUF_ERROR ("unexpected end of file")
         * and returns what it had: that is truncation, which the caller
         * reports with the numbers. Anything else is a real error. */
        int errnum = Z_OK;
        (void)gzerror(f, &errnum);
        if (errnum != Z_OK && errnum != Z_BUF_ERROR)
            return stream_error(f, msg, msg_size);
    }
    return IDX_OK;
}

/* Whether the gzip stream was cut short (its end or checksum missing). */
static int stream_cut(gzFile f)
{
    int errnum = Z_OK;
    (void)gzerror(f, &errnum);
    return errnum == Z_BUF_ERROR;
}

/* After the announced data: there must be nothing more, and the gzip stream
 * must end properly (reading to its end makes zlib verify the CRC-32 and
 * length trailer). */
static idx_result check_end(gzFile f, const char *what, size_t count,
                            char *msg, size_t msg_size)
{
    unsigned char extra[256];
    size_t got = 0;
    idx_result res = read_some(f, extra, sizeof extra, &got, msg, msg_size);

    if (res != IDX_OK)
        return res;
    if (got > 0) {
        set_msg(msg, msg_size,
                "malformed: more data follows the %zu %s the header "
                "announces", count, what);
        return IDX_E_FORMAT;
    }
    if (stream_cut(f)) {
        set_msg(msg, msg_size,
                "truncated: the gzip stream ends without its checksum "
                "trailer");
        return IDX_E_FORMAT;
    }
    return IDX_OK;
}

/* Reads the header: magic, then dims big-endian 32-bit sizes. */
static idx_result read_header(gzFile f, unsigned long magic, size_t dims,
                              unsigned long *dim, char *msg,
                              size_t msg_size)
{
    unsigned char head[16];
    size_t need = 4 + 4 * dims, got = 0, i;
    unsigned long found;
    idx_result res = read_some(f, head, need, &got, msg, msg_size);

    if (res != IDX_OK)
        return res;
    if (got == 0) {
        set_msg(msg, msg_size, "empty file%s",
                stream_cut(f) ? " (cut gzip stream)" : "");
        return IDX_E_FORMAT;
    }
    if (got < 4) {
        set_msg(msg, msg_size,
                "truncated: only %zu bytes, too short for an IDX header",
                got);
        return IDX_E_FORMAT;
    }
    found = be32(head);
    if (found != magic) {
        if (found == IDX_MAGIC_LABELS || found == IDX_MAGIC_IMAGES)
            set_msg(msg, msg_size,
                    "this is an IDX %s file (magic 0x%08lx), expected %s "
                    "(magic 0x%08lx); are the files swapped?",
                    found == IDX_MAGIC_LABELS ? "label" : "image", found,
                    magic == IDX_MAGIC_LABELS ? "labels" : "images", magic);
        else
            set_msg(msg, msg_size,
                    "not an IDX %s file: magic number 0x%08lx, expected "
                    "0x%08lx", magic == IDX_MAGIC_LABELS ? "label" : "image",
                    found, magic);
        return IDX_E_FORMAT;
    }
    if (got < need) {
        set_msg(msg, msg_size,
                "truncated: the header needs %zu bytes, the file has %zu",
                need, got);
        return IDX_E_FORMAT;
    }
    for (i = 0; i < dims; i++)
        dim[i] = be32(head + 4 + 4 * i);
    return IDX_OK;
}

static idx_result check_count(unsigned long count, const char *what,
                              char *msg, size_t msg_size)
{
    if (count == 0) {
        set_msg(msg, msg_size, "malformed: the header announces no %s",
                what);
        return IDX_E_FORMAT;
    }
    if (count > IDX_MAX_COUNT) {
        set_msg(msg, msg_size,
                "malformed: the header announces %lu %s, more than the %u "
                "this reader accepts", count, what, IDX_MAX_COUNT);
        return IDX_E_FORMAT;
    }
    return IDX_OK;
}

idx_result idx_read_images(const char *path, size_t rows, size_t cols,
                           idx_images *out, char *msg, size_t msg_size)
{
    gzFile f = NULL;
    unsigned long dim[3];
    unsigned char *buf = NULL;
    float *pix = NULL;
    size_t count, image_bytes, total, cap = 0, done = 0;
    idx_result res;

    if (!out)
        return IDX_E_OPEN;
    memset(out, 0, sizeof *out);
    if (!path || rows == 0 || cols == 0 || cols > SIZE_MAX / rows) {
        set_msg(msg, msg_size, "bad arguments to idx_read_images");
        return IDX_E_OPEN;
    }
    res = open_file(path, &f, msg, msg_size);
    if (res != IDX_OK)
        return res;
    res = read_header(f, IDX_MAGIC_IMAGES, 3, dim, msg, msg_size);
    if (res != IDX_OK)
        goto done;
    res = check_count(dim[0], "images", msg, msg_size);
    if (res != IDX_OK)
        goto done;
    if (dim[1] != rows || dim[2] != cols) {
        set_msg(msg, msg_size, "malformed: images are %lux%lu pixels, "
                "expected %zux%zu", dim[1], dim[2], rows, cols);
        res = IDX_E_FORMAT;
        goto done;
    }
    count = (size_t)dim[0];
    image_bytes = rows * cols;
    if (count > SIZE_MAX / sizeof(float) / image_bytes) {
        set_msg(msg, msg_size, "too large for this machine's memory");
        res = IDX_E_NOMEM;
        goto done;
    }
    total = count * image_bytes;

    buf = malloc(IDX_CHUNK);
    if (!buf)
        goto nomem;
    /* The float array grows with the data actually read, so a header that
     * promises far more than the file holds costs no huge allocation. */
    while (done < total) {
        size_t want = total - done, got = 0, i;
        if (want > IDX_CHUNK)
            want = IDX_CHUNK;
        res = read_some(f, buf, want, &got, msg, msg_size);
        if (res != IDX_OK)
            goto done;
        if (done + got > cap) {
            size_t new_cap = cap ? cap : (size_t)1 << 20;
            float *p;
            while (new_cap < done + got)
                new_cap *= 2;
            if (new_cap > total)
                new_cap = total;
            p = realloc(pix, new_cap * sizeof *pix);
            if (!p)
                goto nomem;
            pix = p;
            cap = new_cap;
        }
        for (i = 0; i < got; i++)
            pix[done + i] = (float)buf[i] / 255.0f;
        done += got;
        if (got < want)
            break;
    }
    if (done < total) {
        set_msg(msg, msg_size,
                "truncated: the header announces %zu images of %zux%zu "
                "(%zu bytes of pixels), the file holds %zu%s",
                count, rows, cols, total, done,
                stream_cut(f) ? " (the gzip stream is cut short)" : "");
        res = IDX_E_FORMAT;
        goto done;
    }
    res = check_end(f, "images", count, msg, msg_size);
    if (res != IDX_OK)
        goto done;

    out->count = count;
    out->rows = rows;
    out->cols = cols;
    out->pixels = pix;
    pix = NULL;
    goto done;

nomem:
    set_msg(msg, msg_size, "out of memory");
    res = IDX_E_NOMEM;
done:
    free(pix);
    free(buf);
    gzclose(f);
    return res;
}

idx_result idx_read_labels(const char *path, unsigned classes,
                           idx_labels *out, char *msg, size_t msg_size)
{
    gzFile f = NULL;
    unsigned long dim[1];
    unsigned char *bytes = NULL;
    int32_t *labels = NULL;
    size_t count, got = 0, i;
    idx_result res;

    if (!out)
        return IDX_E_OPEN;
    memset(out, 0, sizeof *out);
    if (!path || classes == 0 || classes > 256) {
        set_msg(msg, msg_size, "bad arguments to idx_read_labels");
        return IDX_E_OPEN;
    }
    res = open_file(path, &f, msg, msg_size);
    if (res != IDX_OK)
        return res;
    res = read_header(f, IDX_MAGIC_LABELS, 1, dim, msg, msg_size);
    if (res != IDX_OK)
        goto done;
    res = check_count(dim[0], "labels", msg, msg_size);
    if (res != IDX_OK)
        goto done;
    count = (size_t)dim[0];

    /* count is at most IDX_MAX_COUNT: a few megabytes at most. */
    bytes = malloc(count);
    labels = malloc(count * sizeof *labels);
    if (!bytes || !labels) {
        set_msg(msg, msg_size, "out of memory");
        res = IDX_E_NOMEM;
        goto done;
    }
    res = read_some(f, bytes, count, &got, msg, msg_size);
    if (res != IDX_OK)
        goto done;
    if (got < count) {
        set_msg(msg, msg_size,
                "truncated: the header announces %zu labels, the file holds "
                "%zu%s", count, got,
                stream_cut(f) ? " (the gzip stream is cut short)" : "");
        res = IDX_E_FORMAT;
        goto done;
    }
    res = check_end(f, "labels", count, msg, msg_size);
    if (res != IDX_OK)
        goto done;
    for (i = 0; i < count; i++) {
        if (bytes[i] >= classes) {
            set_msg(msg, msg_size,
                    "malformed: label %u at index %zu is outside 0..%u",
                    (unsigned)bytes[i], i, classes - 1);
            res = IDX_E_FORMAT;
            goto done;
        }
        labels[i] = (int32_t)bytes[i];
    }

    out->count = count;
    out->labels = labels;
    labels = NULL;
done:
    free(labels);
    free(bytes);
    gzclose(f);
    return res;
}

void idx_images_free(idx_images *images)
{
    if (!images)
        return;
    free(images->pixels);
    memset(images, 0, sizeof *images);
}

void idx_labels_free(idx_labels *labels)
{
    if (!labels)
        return;
    free(labels->labels);
    memset(labels, 0, sizeof *labels);
}
