/*
 * io.c - model files: writing a model (and, for a checkpoint, its optimizer
 * state and generator) in the portable format of docs/FORMAT.md, reading it
 * back with every field checked before anything is allocated, and atomic
 * saves through a table of file operations that the tests replace to make
 * any step fail.
 */
#define _POSIX_C_SOURCE 200809L

#include "nn_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The layout; docs/FORMAT.md is its reference. */
#define NN__FORMAT_VERSION 1u
#define NN__HEADER_BYTES 24u   /* magic, version, kind, length */
#define NN__CRC_BYTES 4u
#define NN__RNG_WORDS 4
/* Settings stored: keys 1 .. NN__PARAM_COUNT - 1, as float64. */
#define NN__SETTINGS ((uint32_t)(NN__PARAM_COUNT - 1))
/* Layer settings stored per layer: NN_LAYER_LEAKY_SLOPE, as float64. */
#define NN__LAYER_SETTINGS 1u
/* A layer record: width (8), activation (4), its settings (8 each). */
#define NN__LAYER_BYTES (12u + 8u * NN__LAYER_SETTINGS)
/* BLAS takes int dimensions; model.c refuses wider layers. */
#define NN__MAX_WIDTH ((uint64_t)INT_MAX)
/* Bytes buffered between write calls when saving to a file. */
#define NN__WRITE_CHUNK ((size_t)65536)
/* Reads are split so that no call asks for more than ssize_t can count. */
#define NN__READ_CHUNK ((size_t)1 << 30)

static const unsigned char nn__magic[8] = {0x89, 'N', 'N', 'M',
                                           '\r', '\n', 0x1a, '\n'};

/* ---- little-endian encoding, the same on every host ---- */

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    int i;
    for (i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    int i;
    for (i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* IEEE-754 bit patterns: the integer with the same bits as the float, which
 * put_le then writes least significant byte first. */
static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float f32_from(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint64_t f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double f64_from(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* ---- messages ---- */

/* The system's text for errno e, thread-safe. */
static const char *errno_text(int e, char *buf, size_t cap)
{
    if (strerror_r(e, buf, cap) != 0)
        snprintf(buf, cap, "error %d", e);
    return buf;
}

/* "fn: 'path'" for messages, keeping the end of a path too long to fit. */
static void label(char *dst, size_t cap, const char *fn, const char *path)
{
    size_t len = strlen(path), keep = 160;
    if (len <= keep)
        snprintf(dst, cap, "%s: '%s'", fn, path);
    else
        snprintf(dst, cap, "%s: '...%s'", fn, path + (len - keep));
}

/* ---- sizes ---- */

/* Optimizer-state arrays a checkpoint holds: those the optimizer has
 * allocated (none before its first step). */
static uint32_t state_arrays(const nn_model *m)
{
    if (!m->state_ready)
        return 0;
    return (uint32_t)(m->state[0] != NULL) + (uint32_t)(m->state[1] != NULL);
}

static int file_bytes(const nn_model *m, int what, size_t *out)
{
    size_t n, part, pbytes;
    n = NN__HEADER_BYTES + 8 + 8 + 4 + 4 + 4 + 4 + 8 * (size_t)NN__SETTINGS +
        4 + NN__CRC_BYTES;
    if (!nn__mul_size(m->n_layers, NN__LAYER_BYTES, &part) ||
        !nn__add_size(n, part, &n) ||
        !nn__mul_size(m->n_params, 4, &pbytes) ||
        !nn__add_size(n, pbytes, &n))
        return 0;
    if (what == NN_SAVE_CHECKPOINT &&
        (!nn__add_size(n, 8 * NN__RNG_WORDS + 8 + 4, &n) ||
         !nn__mul_size(pbytes, state_arrays(m), &part) ||
         !nn__add_size(n, part, &n)))
        return 0;
    *out = n;
    return 1;
}

static nn_status check_save_args(const char *fn, const nn_model *m, int what)
{
    if (!m)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    if (what != NN_SAVE_MODEL && what != NN_SAVE_CHECKPOINT)
        return nn__fail(NN_E_INVALID,
                        "%s: what is %d, not an nn_save_what", fn, what);
    return NN_OK;
}

static nn_status size_of(const char *fn, const nn_model *m, int what,
                         size_t *size)
{
    if (!file_bytes(m, what, size))
        return nn__fail(NN_E_OVERFLOW,
                        "%s: a file of %zu parameters overflows size_t", fn,
                        m->n_params);
    return NN_OK;
}

/* A file holds finite numbers only, as nn_model_set_weights accepts. */
static nn_status check_finite(const char *fn, const nn_model *m, int what)
{
    size_t i, l = 0, a;
    for (i = 0; i < m->n_params; i++) {
        if (isfinite(m->params[i]))
            continue;
        while (l + 1 < m->n_layers && i >= m->layers[l + 1].w_off)
            l++;
        return nn__fail(NN_E_NONFINITE,
                        "%s: parameter %zu (layer %zu) is %g; a model file "
                        "holds finite values only", fn, i, l,
                        (double)m->params[i]);
    }
    if (what == NN_SAVE_CHECKPOINT && m->state_ready)
        for (a = 0; a < 2; a++)
            for (i = 0; m->state[a] && i < m->n_params; i++)
                if (!isfinite(m->state[a][i]))
                    return nn__fail(NN_E_NONFINITE,
                                    "%s: optimizer state %zu[%zu] is %g; a "
                                    "model file holds finite values only",
                                    fn, a, i, (double)m->state[a][i]);
    return NN_OK;
}

/* ---- writing ---- */

/* Bytes go through buf. Saving to memory, buf is the caller's buffer and
 * already large enough; saving to a file, buf is a chunk flushed with
 * ops->write_fd whenever it fills. The CRC covers every byte put. */
typedef struct nn__writer {
    unsigned char *buf;
    size_t cap, len;
    uint32_t crc;
    size_t total;
    const nn__file_ops *ops;   /* NULL when writing to memory */
    int fd;
    int err;                   /* errno of the first failed write, or 0 */
} nn__writer;

static void wr_flush(nn__writer *w)
{
    size_t off = 0;
    if (!w->ops)
        return;
    while (off < w->len && !w->err) {
        size_t done = 0;
        errno = 0;
        if (w->ops->write_fd(w->ops->ctx, w->fd, w->buf + off, w->len - off,
                             &done) != 0) {
            if (errno != EINTR)
                w->err = errno ? errno : EIO;
        } else if (done == 0 || done > w->len - off) {
            w->err = EIO; /* a write that makes no progress never will */
        } else {
            off += done;
        }
    }
    w->len = 0;
}

static void wr_bytes(nn__writer *w, const unsigned char *p, size_t n)
{
    w->crc = nn__crc32(w->crc, p, n);
    w->total += n;
    while (n > 0) {
        size_t k;
        if (w->len == w->cap) {
            if (!w->ops) {
                /* Memory is sized before writing; never reached. */
                w->err = ENOBUFS;
                return;
            }
            wr_flush(w);
        }
        k = w->cap - w->len < n ? w->cap - w->len : n;
        memcpy(w->buf + w->len, p, k);
        w->len += k;
        p += k;
        n -= k;
    }
}

static void wr_u32(nn__writer *w, uint32_t v)
{
    unsigned char b[4];
    put_le(b, v, 4);
    wr_bytes(w, b, 4);
}

static void wr_u64(nn__writer *w, uint64_t v)
{
    unsigned char b[8];
    put_le(b, v, 8);
    wr_bytes(w, b, 8);
}

static void wr_f64(nn__writer *w, double v)
{
    wr_u64(w, f64_bits(v));
}

static void wr_f32s(nn__writer *w, const float *v, size_t n)
{
    unsigned char b[1024];
    while (n > 0) {
        size_t k = n < sizeof b / 4 ? n : sizeof b / 4, i;
        for (i = 0; i < k; i++)
            put_le(b + 4 * i, f32_bits(v[i]), 4);
        wr_bytes(w, b, 4 * k);
        v += k;
        n -= k;
    }
}

/* Everything but the checksum, in the order of docs/FORMAT.md. */
static void emit(nn__writer *w, const nn_model *m, int what, size_t size)
{
    size_t l, k;
    uint32_t a, arrays = state_arrays(m);
    wr_bytes(w, nn__magic, sizeof nn__magic);
    wr_u32(w, NN__FORMAT_VERSION);
    wr_u32(w, (uint32_t)what);
    wr_u64(w, (uint64_t)size);
    wr_u64(w, (uint64_t)m->input_width);
    wr_u64(w, (uint64_t)m->n_layers);
    wr_u32(w, (uint32_t)m->loss);
    wr_u32(w, (uint32_t)m->opt);
    wr_u32(w, (uint32_t)m->sched);
    wr_u32(w, NN__SETTINGS);
    for (k = 1; k <= NN__SETTINGS; k++)
        wr_f64(w, m->param[k]);
    wr_u32(w, NN__LAYER_SETTINGS);
    for (l = 0; l < m->n_layers; l++) {
        wr_u64(w, (uint64_t)m->layers[l].out);
        wr_u32(w, (uint32_t)m->layers[l].act);
        wr_f64(w, (double)m->layers[l].slope);
    }
    wr_f32s(w, m->params, m->n_params);
    if (what != NN_SAVE_CHECKPOINT)
        return;
    for (k = 0; k < NN__RNG_WORDS; k++)
        wr_u64(w, m->rng.s[k]);
    wr_u64(w, m->steps);
    wr_u32(w, arrays);
    for (a = 0; a < 2; a++)
        if (m->state_ready && m->state[a])
            wr_f32s(w, m->state[a], m->n_params);
}

static void emit_crc(nn__writer *w)
{
    wr_u32(w, w->crc);
}

nn_status nn_model_save_size(const nn_model *model, nn_save_what what,
                             size_t *size)
{
    static const char fn[] = "nn_model_save_size";
    nn_status st = check_save_args(fn, model, (int)what);
    if (st != NN_OK)
        return st;
    if (!size)
        return nn__fail(NN_E_NULL, "%s: size is NULL", fn);
    return size_of(fn, model, (int)what, size);
}

nn_status nn_model_save_buffer(const nn_model *model, nn_save_what what,
                               void *buf, size_t capacity, size_t *written)
{
    static const char fn[] = "nn_model_save_buffer";
    nn__writer w;
    size_t size = 0; /* set by size_of; GCC cannot see it */
    nn_status st = check_save_args(fn, model, (int)what);
    if (st != NN_OK)
        return st;
    if (!buf)
        return nn__fail(NN_E_NULL, "%s: buf is NULL", fn);
    st = size_of(fn, model, (int)what, &size);
    if (st != NN_OK)
        return st;
    if (capacity < size) {
        if (written)
            *written = size;
        return nn__fail(NN_E_SHAPE,
                        "%s: capacity is %zu bytes, the file needs %zu", fn,
                        capacity, size);
    }
    st = check_finite(fn, model, (int)what);
    if (st != NN_OK)
        return st;
    memset(&w, 0, sizeof w);
    w.buf = (unsigned char *)buf;
    w.cap = capacity;
    emit(&w, model, (int)what, size);
    emit_crc(&w);
    /* file_bytes and emit agree, as the tests check; a mismatch is a bug
     * in this file and must not pass for a file. */
    if (w.err || w.total != size)
        return nn__fail(NN_E_STATE, "%s: internal error: %zu bytes written, "
                        "%zu expected", fn, w.total, size);
    if (written)
        *written = size;
    return NN_OK;
}

/* ---- atomic saves ---- */

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

static int posix_create(void *ctx, const char *path, int *fd)
{
    int f;
    (void)ctx;
    f = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (f < 0)
        return -1;
    *fd = f;
    return 0;
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

static int posix_rename(void *ctx, const char *from, const char *to)
{
    (void)ctx;
    return rename(from, to);
}

static int posix_unlink(void *ctx, const char *path)
{
    (void)ctx;
    return unlink(path);
}

static const nn__file_ops nn__posix_ops = {
    NULL,           posix_open_read, posix_create,  posix_open_dir,
    posix_stat_fd,  posix_read_fd,   posix_write_fd, posix_sync_fd,
    posix_close_fd, posix_rename,    posix_unlink};

const nn__file_ops *nn__file_ops_posix(void)
{
    return &nn__posix_ops;
}

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

/* Runs op until it succeeds or fails with an error other than EINTR. */
#define NN__RETRY(call) \
    do { errno = 0; rc = (call); } while (rc != 0 && errno == EINTR)

nn_status nn__model_save_ops(const nn_model *model, const char *path,
                             nn_save_what what, const nn__file_ops *ops)
{
    static const char fn[] = "nn_model_save";
    char where[200], etext[128];
    const char *step;
    size_t size, plen, name_cap, cap, slash;
    unsigned char *block;
    char *tmp, *dir;
    int dir_fd = -1, fd = -1, created = 0, rc = 0, e, attempt;
    nn__writer w;
    nn_status st = check_save_args(fn, model, (int)what);
    if (st != NN_OK)
        return st;
    if (!path)
        return nn__fail(NN_E_NULL, "%s: path is NULL", fn);
    plen = strlen(path);
    if (plen == 0 || path[plen - 1] == '/')
        return nn__fail(NN_E_INVALID, "%s: path '%s' names no file", fn,
                        path);
    label(where, sizeof where, fn, path);
    st = size_of(fn, model, (int)what, &size);
    if (st == NN_OK)
        st = check_finite(fn, model, (int)what);
    if (st != NN_OK)
        return st;

    /* Everything is allocated before the file system is touched: the
     * temporary name, the directory's name and the write buffer. */
    name_cap = plen + 32;
    cap = size < NN__WRITE_CHUNK ? size : NN__WRITE_CHUNK;
    block = (unsigned char *)nn__malloc(name_cap + plen + 2 + cap);
    if (!block)
        return nn__fail(NN_E_NOMEM, "%s: allocating %zu bytes failed", where,
                        name_cap + plen + 2 + cap);
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
    NN__RETRY(ops->open_dir(ops->ctx, dir, &dir_fd));
    if (rc != 0) {
        dir_fd = -1;
        goto fail;
    }
    step = "creating a temporary file beside it";
    for (attempt = 0; attempt < 16; attempt++) {
        temp_name(tmp, name_cap, path, attempt);
        NN__RETRY(ops->create(ops->ctx, tmp, &fd));
        if (rc == 0 || errno != EEXIST)
            break;
    }
    if (rc != 0) {
        fd = -1;
        goto fail;
    }
    created = 1;

    step = "writing the temporary file";
    memset(&w, 0, sizeof w);
    w.buf = block + name_cap + plen + 2;
    w.cap = cap;
    w.ops = ops;
    w.fd = fd;
    emit(&w, model, (int)what, size);
    emit_crc(&w);
    wr_flush(&w);
    if (!w.err && w.total != size) {
        step = "writing the temporary file (internal error: size mismatch)";
        w.err = EIO;
    }
    if (w.err) {
        errno = w.err;
        rc = -1;
        goto fail;
    }
    step = "syncing the temporary file";
    NN__RETRY(ops->sync_fd(ops->ctx, fd));
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
    NN__RETRY(ops->rename_path(ops->ctx, tmp, path));
    if (rc != 0)
        goto fail;
    created = 0;

    /* The rename is durable once the directory is synced. Some file
     * systems cannot sync a directory (EINVAL); nothing more can be done
     * there. */
    NN__RETRY(ops->sync_fd(ops->ctx, dir_fd));
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

nn_status nn_model_save(const nn_model *model, const char *path,
                        nn_save_what what)
{
    return nn__model_save_ops(model, path, what, &nn__posix_ops);
}

/* ---- reading ---- */

/* Reads the content [0, end) of a file; end is where the checksum starts.
 * where prefixes every message. */
typedef struct nn__reader {
    const unsigned char *p;
    size_t off, end;
    const char *where;
} nn__reader;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static nn_status bad(const nn__reader *r, size_t off, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return nn__fail(NN_E_FORMAT, "%s: byte %zu: %s", r->where, off, what);
}

static nn_status need(nn__reader *r, size_t bytes, const char *field)
{
    if (r->end - r->off < bytes)
        return bad(r, r->off,
                   "the content ends %zu bytes into %s, which takes %zu",
                   r->end - r->off, field, bytes);
    return NN_OK;
}

static nn_status rd_u32(nn__reader *r, const char *field, uint32_t *v)
{
    nn_status st = need(r, 4, field);
    if (st != NN_OK)
        return st;
    *v = (uint32_t)get_le(r->p + r->off, 4);
    r->off += 4;
    return NN_OK;
}

static nn_status rd_u64(nn__reader *r, const char *field, uint64_t *v)
{
    nn_status st = need(r, 8, field);
    if (st != NN_OK)
        return st;
    *v = get_le(r->p + r->off, 8);
    r->off += 8;
    return NN_OK;
}

/* Checks the header against the file's real size; p holds its first avail
 * bytes (all of the header when the file has one). */
static nn_status check_header(const nn__reader *r, const unsigned char *p,
                              size_t avail, uint64_t size, uint32_t *kind)
{
    size_t i, n = avail < sizeof nn__magic ? avail : sizeof nn__magic;
    uint32_t version;
    uint64_t length;
    for (i = 0; i < n; i++)
        if (p[i] != nn__magic[i])
            return bad(r, i,
                       "not a libnn model file: the magic number has 0x%02x "
                       "here, the file 0x%02x", nn__magic[i], p[i]);
    if (size < NN__HEADER_BYTES)
        return bad(r, (size_t)size,
                   "the file ends after %zu bytes, inside the %u-byte "
                   "header", (size_t)size, NN__HEADER_BYTES);
    version = (uint32_t)get_le(p + 8, 4);
    if (version != NN__FORMAT_VERSION)
        return bad(r, 8,
                   "format version %lu; this libnn (%s) reads version %u%s",
                   (unsigned long)version, nn_version_string(),
                   NN__FORMAT_VERSION,
                   version > NN__FORMAT_VERSION
                       ? ", the file is from a newer libnn"
                       : "");
    *kind = (uint32_t)get_le(p + 12, 4);
    if (*kind != NN_SAVE_MODEL && *kind != NN_SAVE_CHECKPOINT)
        return bad(r, 12, "the kind is %lu, not an nn_save_what",
                   (unsigned long)*kind);
    length = get_le(p + 16, 8);
    if (size < length)
        return bad(r, 16,
                   "the file is truncated: it is %llu bytes, the header "
                   "says %llu", (unsigned long long)size,
                   (unsigned long long)length);
    if (size > length)
        return bad(r, 16,
                   "%llu bytes follow the end of the file: it is %llu "
                   "bytes, the header says %llu",
                   (unsigned long long)(size - length),
                   (unsigned long long)size, (unsigned long long)length);
    if (size < NN__HEADER_BYTES + NN__CRC_BYTES)
        return bad(r, 16, "a length of %llu leaves no room for the checksum",
                   (unsigned long long)length);
    return NN_OK;
}

/* What scan() found, with the offsets build() reports errors at. */
typedef struct nn__scan {
    uint32_t kind, loss, opt, sched, settings, layer_settings, arrays;
    uint64_t input, layers, steps, rng[NN__RNG_WORDS];
    size_t n_params;
    size_t opt_off, sched_off, settings_off, layers_off, params_off;
    size_t arrays_off, state_off;
} nn__scan;

/* Walks the content, checking every size and id against the bytes present
 * and the values this libnn knows. Allocates nothing. */
static nn_status scan(nn__reader *r, nn__scan *s)
{
    uint64_t l, in, width;
    uint32_t act, k;
    size_t at, left, pbytes, sbytes;
    nn_status st;

#define NN__TRY(x) do { st = (x); if (st != NN_OK) return st; } while (0)
    at = r->off;
    NN__TRY(rd_u64(r, "the input width", &s->input));
    if (s->input == 0 || s->input > NN__MAX_WIDTH)
        return bad(r, at, "the input width is %llu, outside [1, %llu]",
                   (unsigned long long)s->input,
                   (unsigned long long)NN__MAX_WIDTH);
    at = r->off;
    NN__TRY(rd_u64(r, "the layer count", &s->layers));
    NN__TRY(rd_u32(r, "the loss", &s->loss));
    if (s->loss != 0 && !nn__loss_valid((int)s->loss))
        return bad(r, r->off - 4, "the loss is %lu, not an nn_loss",
                   (unsigned long)s->loss);
    s->opt_off = r->off;
    NN__TRY(rd_u32(r, "the optimizer", &s->opt));
    s->sched_off = r->off;
    NN__TRY(rd_u32(r, "the schedule", &s->sched));
    NN__TRY(rd_u32(r, "the settings count", &s->settings));
    if (s->settings > NN__SETTINGS)
        return bad(r, r->off - 4,
                   "the file has %lu settings, this libnn knows %lu (the "
                   "file is from a newer libnn)", (unsigned long)s->settings,
                   (unsigned long)NN__SETTINGS);
    s->settings_off = r->off;
    NN__TRY(need(r, 8 * (size_t)s->settings, "the settings"));
    r->off += 8 * (size_t)s->settings;
    NN__TRY(rd_u32(r, "the layer settings count", &s->layer_settings));
    if (s->layer_settings > NN__LAYER_SETTINGS)
        return bad(r, r->off - 4,
                   "layers have %lu settings each, this libnn knows %u (the "
                   "file is from a newer libnn)",
                   (unsigned long)s->layer_settings, NN__LAYER_SETTINGS);

    /* Each layer record takes 12 + 8 * layer_settings bytes: a count that
     * cannot fit is refused before the loop. */
    left = r->end - r->off;
    if (s->layers > left / (12 + 8 * (size_t)s->layer_settings))
        return bad(r, at,
                   "%llu layers of %zu bytes each do not fit in the %zu "
                   "bytes that remain", (unsigned long long)s->layers,
                   12 + 8 * (size_t)s->layer_settings, left);
    s->layers_off = r->off;
    s->n_params = 0;
    in = s->input;
    for (l = 0; l < s->layers; l++) {
        size_t count;
        at = r->off;
        NN__TRY(rd_u64(r, "a layer width", &width));
        if (width == 0 || width > NN__MAX_WIDTH)
            return bad(r, at, "layer %llu is %llu wide, outside [1, %llu]",
                       (unsigned long long)l, (unsigned long long)width,
                       (unsigned long long)NN__MAX_WIDTH);
        NN__TRY(rd_u32(r, "an activation", &act));
        if (!nn__activation_valid((int)act))
            return bad(r, r->off - 4,
                       "layer %llu's activation is %lu, not an "
                       "nn_activation", (unsigned long long)l,
                       (unsigned long)act);
        if (act == NN_ACT_SOFTMAX && l + 1 < s->layers)
            return bad(r, r->off - 4,
                       "layer %llu is softmax but not the output layer",
                       (unsigned long long)l);
        NN__TRY(need(r, 8 * (size_t)s->layer_settings, "layer settings"));
        r->off += 8 * (size_t)s->layer_settings;
        /* The widths say how many parameters follow: check that they are
         * there, before anything is sized by them. */
        left = r->end - r->off;
        if (!nn__mul_size((size_t)in, (size_t)width, &count) ||
            !nn__add_size(count, (size_t)width, &count) ||
            !nn__add_size(s->n_params, count, &s->n_params) ||
            s->n_params > left / 4)
            return bad(r, at,
                       "layer %llu is %llu wide: with %llu inputs the "
                       "layers so far need more parameter bytes than the "
                       "%zu that remain", (unsigned long long)l,
                       (unsigned long long)width, (unsigned long long)in,
                       left);
        in = width;
    }
    s->params_off = r->off;
    pbytes = 4 * s->n_params;
    NN__TRY(need(r, pbytes, "the parameters"));
    r->off += pbytes;

    s->arrays = 0;
    s->steps = 0;
    if (s->kind == NN_SAVE_CHECKPOINT) {
        at = r->off;
        for (k = 0; k < NN__RNG_WORDS; k++)
            NN__TRY(rd_u64(r, "the generator state", &s->rng[k]));
        if ((s->rng[0] | s->rng[1] | s->rng[2] | s->rng[3]) == 0)
            return bad(r, at,
                       "the generator state is all zero, which xoshiro256** "
                       "never reaches");
        at = r->off;
        NN__TRY(rd_u64(r, "the step count", &s->steps));
        s->arrays_off = r->off;
        NN__TRY(rd_u32(r, "the optimizer-state count", &s->arrays));
        if (s->arrays > 2)
            return bad(r, s->arrays_off,
                       "%lu optimizer-state arrays; an optimizer keeps at "
                       "most 2", (unsigned long)s->arrays);
        if (s->arrays == 0 && s->steps != 0)
            return bad(r, at,
                       "the step count is %llu but there is no optimizer "
                       "state", (unsigned long long)s->steps);
        s->state_off = r->off;
        sbytes = pbytes * s->arrays; /* at most 2 * pbytes <= size */
        NN__TRY(need(r, sbytes, "the optimizer state"));
        r->off += sbytes;
    }
    if (r->off != r->end)
        return bad(r, r->off,
                   "%zu bytes follow the last section, before the checksum",
                   r->end - r->off);
    return NN_OK;
#undef NN__TRY
}

/* Copies n floats stored at off into dst, refusing non-finite ones. */
static nn_status rd_floats(const nn__reader *r, size_t off, float *dst,
                           size_t n, const char *what)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float f = f32_from((uint32_t)get_le(r->p + off + 4 * i, 4));
        if (!isfinite(f))
            return bad(r, off + 4 * i, "%s %zu is %g, not finite", what, i,
                       (double)f);
        dst[i] = f;
    }
    return NN_OK;
}

/* Recasts the failure of an allocating call as the loader's own. */
static nn_status nomem(const nn__reader *r, nn_status st)
{
    char inner[512];
    if (st != NN_E_NOMEM ||
        strncmp(nn_last_error(), r->where, strlen(r->where)) == 0)
        return st;
    snprintf(inner, sizeof inner, "%s", nn_last_error());
    return nn__fail(NN_E_NOMEM, "%s: building the model failed (%s)",
                    r->where, inner);
}

/* Makes the model scan() vouched for. The setters check the values they
 * own (optimizer, schedule, settings, slopes), so the file is held to the
 * same bounds as a caller. */
static nn_status build(nn__reader *r, const nn__scan *s, nn_model **out)
{
    nn_model *m = NULL;
    nn_status st;
    size_t l, off;
    uint32_t k;
    double v, lo, hi;

    st = nn_model_create(&m, (size_t)s->input, 0);
    if (st != NN_OK)
        return nomem(r, st);
    off = s->layers_off;
    for (l = 0; l < (size_t)s->layers; l++) {
        size_t width = (size_t)get_le(r->p + off, 8);
        int act = (int)get_le(r->p + off + 8, 4);
        st = nn_model_add_dense(m, width, (nn_activation)act);
        if (st != NN_OK)
            goto fail_nomem;
        off += 12 + 8 * (size_t)s->layer_settings;
    }
    if (s->loss != 0 && nn_model_set_loss(m, (nn_loss)s->loss) != NN_OK) {
        st = bad(r, s->opt_off - 4, "the loss is %lu, not an nn_loss",
                 (unsigned long)s->loss);
        goto fail;
    }
    if (nn_model_set_optimizer(m, (nn_optimizer)s->opt) != NN_OK) {
        st = bad(r, s->opt_off, "the optimizer is %lu, not an nn_optimizer",
                 (unsigned long)s->opt);
        goto fail;
    }
    if (nn_model_set_schedule(m, (nn_schedule)s->sched) != NN_OK) {
        st = bad(r, s->sched_off, "the schedule is %lu, not an nn_schedule",
                 (unsigned long)s->sched);
        goto fail;
    }
    for (k = 1; k <= s->settings; k++) {
        off = s->settings_off + 8 * (size_t)(k - 1);
        v = f64_from(get_le(r->p + off, 8));
        if (nn_model_set_param(m, (nn_param)k, v) != NN_OK) {
            if (nn_param_bounds((nn_param)k, &lo, &hi, NULL) != NN_OK)
                lo = hi = 0.0;
            st = bad(r, off, "setting %lu is %.17g, %s [%g, %g]",
                     (unsigned long)k, v,
                     v >= lo && v <= hi ? "not a whole number in"
                                        : "outside its bounds",
                     lo, hi);
            goto fail;
        }
    }
    off = s->layers_off;
    for (l = 0; l < (size_t)s->layers; l++) {
        for (k = 1; k <= s->layer_settings; k++) {
            size_t at = off + 12 + 8 * (size_t)(k - 1);
            v = f64_from(get_le(r->p + at, 8));
            if (nn_model_set_layer_param(m, l, (nn_layer_param)k, v) !=
                NN_OK) {
                if (nn_layer_param_bounds((nn_layer_param)k, &lo, &hi,
                                          NULL) != NN_OK)
                    lo = hi = 0.0;
                st = bad(r, at,
                         "layer %zu's setting %lu is %.17g, outside [%g, "
                         "%g]", l, (unsigned long)k, v, lo, hi);
                goto fail;
            }
        }
        off += 12 + 8 * (size_t)s->layer_settings;
    }
    st = rd_floats(r, s->params_off, m->params, m->n_params, "parameter");
    nn__params_written(m);
    if (st != NN_OK)
        goto fail;

    if (s->kind == NN_SAVE_CHECKPOINT) {
        uint32_t a, have;
        memcpy(m->rng.s, s->rng, sizeof m->rng.s);
        if (s->arrays > 0) {
            st = nn__optim_prepare(r->where, m);
            if (st != NN_OK)
                goto fail_nomem;
            have = state_arrays(m);
            if (have != s->arrays) {
                st = bad(r, s->arrays_off,
                         "%lu optimizer-state arrays; optimizer %lu keeps "
                         "%lu", (unsigned long)s->arrays,
                         (unsigned long)s->opt, (unsigned long)have);
                goto fail;
            }
            for (a = 0; a < have; a++) {
                st = rd_floats(r, s->state_off + 4 * m->n_params * a,
                               m->state[a], m->n_params,
                               a == 0 ? "optimizer state 0 value"
                                      : "optimizer state 1 value");
                if (st != NN_OK)
                    goto fail;
            }
            m->steps = s->steps;
        }
    } else {
        /* Adding the layers drew from the generator; a model file's
         * generator is that of a model created with seed 0. */
        nn__rng_seed(&m->rng, 0);
    }
    *out = m;
    return NN_OK;

fail_nomem:
    st = nomem(r, st);
fail:
    nn_model_free(m);
    return st;
}

/* Header, checksum, scan, build: the whole load of a file in memory. */
static nn_status load_memory(nn_model **out, const unsigned char *p,
                             size_t size, const char *where)
{
    nn__reader r;
    nn__scan s;
    uint32_t stored, computed;
    nn_status st;
    r.p = p;
    r.off = 0;
    r.end = size;
    r.where = where;
    memset(&s, 0, sizeof s);
    st = check_header(&r, p, size, (uint64_t)size, &s.kind);
    if (st != NN_OK)
        return st;
    r.end = size - NN__CRC_BYTES;
    stored = (uint32_t)get_le(p + r.end, 4);
    computed = nn__crc32(0, p, r.end);
    if (stored != computed)
        return bad(&r, r.end,
                   "the checksum is 0x%08lx, the content's CRC-32 is "
                   "0x%08lx: the file is damaged", (unsigned long)stored,
                   (unsigned long)computed);
    r.off = NN__HEADER_BYTES;
    st = scan(&r, &s);
    if (st != NN_OK)
        return st;
    r.off = NN__HEADER_BYTES;
    return build(&r, &s, out);
}

nn_status nn_model_load_buffer(nn_model **out, const void *buf, size_t size)
{
    static const char fn[] = "nn_model_load_buffer";
    if (!out)
        return nn__fail(NN_E_NULL, "%s: out is NULL", fn);
    *out = NULL;
    if (!buf)
        return nn__fail(NN_E_NULL, "%s: buf is NULL", fn);
    return load_memory(out, (const unsigned char *)buf, size, fn);
}

/* Reads up to len bytes, stopping early only at the end of the file. */
static int read_full(const nn__file_ops *ops, int fd, unsigned char *buf,
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

nn_status nn__model_load_ops(nn_model **out, const char *path,
                             const nn__file_ops *ops)
{
    static const char fn[] = "nn_model_load";
    char where[200], etext[128];
    unsigned char head[NN__HEADER_BYTES], extra;
    unsigned char *buf = NULL;
    const char *step;
    uint64_t size = 0;
    size_t got, n;
    int fd = -1, regular = 0, rc, e;
    uint32_t kind;
    nn__reader r;
    nn_status st;

    if (!out)
        return nn__fail(NN_E_NULL, "%s: out is NULL", fn);
    *out = NULL;
    if (!path)
        return nn__fail(NN_E_NULL, "%s: path is NULL", fn);
    label(where, sizeof where, fn, path);
    step = "opening it";
    NN__RETRY(ops->open_read(ops->ctx, path, &fd));
    if (rc != 0) {
        fd = -1;
        goto io_fail;
    }
    step = "reading its size";
    NN__RETRY(ops->stat_fd(ops->ctx, fd, &size, &regular));
    if (rc != 0)
        goto io_fail;
    if (!regular) {
        (void)ops->close_fd(ops->ctx, fd);
        return nn__fail(NN_E_IO, "%s: not a regular file", where);
    }
    /* The header is checked against the real size before the size is
     * trusted with an allocation. */
    step = "reading it";
    n = size < NN__HEADER_BYTES ? (size_t)size : NN__HEADER_BYTES;
    if (read_full(ops, fd, head, n, &got) != 0)
        goto io_fail;
    if (got != n)
        goto changed;
    r.p = head;
    r.off = 0;
    r.end = n;
    r.where = where;
    st = check_header(&r, head, n, size, &kind);
    if (st != NN_OK)
        goto done;
    if (size > (uint64_t)SIZE_MAX) {
        st = nn__fail(NN_E_OVERFLOW, "%s: %llu bytes overflow size_t", where,
                      (unsigned long long)size);
        goto done;
    }
    buf = (unsigned char *)nn__malloc((size_t)size);
    if (!buf) {
        st = nn__fail(NN_E_NOMEM, "%s: allocating %llu bytes to read it "
                      "failed", where, (unsigned long long)size);
        goto done;
    }
    memcpy(buf, head, n);
    if (read_full(ops, fd, buf + n, (size_t)size - n, &got) != 0)
        goto io_fail;
    if (got != (size_t)size - n)
        goto changed;
    if (read_full(ops, fd, &extra, 1, &got) != 0)
        goto io_fail;
    if (got != 0)
        goto changed;
    (void)ops->close_fd(ops->ctx, fd);
    fd = -1;
    st = load_memory(out, buf, (size_t)size, where);
    goto done;

changed:
    st = nn__fail(NN_E_IO, "%s: the file changed size while being read",
                  where);
    goto done;
io_fail:
    e = errno ? errno : EIO;
    st = nn__fail(NN_E_IO, "%s: %s failed: %s (errno %d)", where, step,
                  errno_text(e, etext, sizeof etext), e);
done:
    if (fd >= 0)
        (void)ops->close_fd(ops->ctx, fd);
    nn__free(buf);
    return st;
}

nn_status nn_model_load(nn_model **out, const char *path)
{
    return nn__model_load_ops(out, path, &nn__posix_ops);
}
