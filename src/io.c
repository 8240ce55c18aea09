/* SPDX-License-Identifier: MIT */
/*
 * io.c - model files: writing a model (and, for a checkpoint, its optimizer
 * state and generator) in the portable format of docs/FORMAT.md, reading it
 * back with every field checked before anything is allocated. Saves are
 * atomic and reads go through a table of file operations that the tests
 * replace to make any step fail (file.c).
 */
#include "nn_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The layout; docs/FORMAT.md is its reference. Version 2 is written;
 * versions 1 and 2 are read. */
#define NN__FORMAT_VERSION 2u
#define NN__HEADER_BYTES 24u   /* magic, version, kind, length */
#define NN__CRC_BYTES 4u
#define NN__RNG_WORDS 4
/* Settings stored: keys 1 .. NN__PARAM_COUNT - 1, as float64. */
#define NN__SETTINGS ((uint32_t)(NN__PARAM_COUNT - 1))
/* Layer settings stored per layer: keys 1 .. NN__LAYER_PARAM_COUNT - 1. */
#define NN__LAYER_SETTINGS ((uint32_t)(NN__LAYER_PARAM_COUNT - 1))
/* A version-2 layer record: kind (4), width (8), activation (4), and the
 * settings (8 each); version 1 had no kind. */
#define NN__RECORD_BYTES(version, p) \
    ((version) == 1 ? 12u + 8u * (size_t)(p) : 16u + 8u * (size_t)(p))
/* BLAS takes int dimensions; model.c refuses wider layers. */
#define NN__MAX_WIDTH ((uint64_t)INT_MAX)
/* Metadata limits, as nn_model_set_meta's. */
#define NN__META_KEY_MAX 255u
#define NN__META_VALUE_MAX ((uint64_t)1 << 24)
#define NN__META_COUNT_MAX 1024u
/* An interrupted run: rows, batch size, epoch, batch, generator (4),
 * loss sum, best, epochs since, and whether the best parameters follow. */
#define NN__RUN_BYTES (8u * 4u + 8u * NN__RNG_WORDS + 8u + 8u + 8u + 4u)

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

/* ---- sizes ---- */

/* Optimizer-state arrays a checkpoint holds: those the optimizer has
 * allocated, which are always the first ones. */
static uint32_t state_arrays(const nn_model *m)
{
    uint32_t a = 0;
    while (a < NN__STATE_ARRAYS && m->state[a])
        a++;
    return a;
}

static int file_bytes(const nn_model *m, int what, size_t *out)
{
    size_t n, part, pbytes, i;
    n = NN__HEADER_BYTES + 8 + 8 + 4 + 4 + 4 + 4 + 8 * (size_t)NN__SETTINGS +
        4 + 8 + 4 + NN__CRC_BYTES;
    if (!nn__mul_size(m->n_layers,
                      NN__RECORD_BYTES(2, NN__LAYER_SETTINGS), &part) ||
        !nn__add_size(n, part, &n) ||
        !nn__mul_size(m->n_class_w, 4, &part) ||
        !nn__add_size(n, part, &n) ||
        !nn__mul_size(m->n_params, 4, &pbytes) ||
        !nn__add_size(n, pbytes, &n) ||
        !nn__mul_size(m->n_buffers, 4, &part) ||
        !nn__add_size(n, part, &n))
        return 0;
    for (i = 0; i < m->n_meta; i++)
        if (!nn__add_size(n, 8 + strlen(m->meta[i].key), &n) ||
            !nn__add_size(n, strlen(m->meta[i].value), &n))
            return 0;
    if (what != NN_SAVE_CHECKPOINT) {
        *out = n;
        return 1;
    }
    if (!nn__add_size(n, 8 * NN__RNG_WORDS + 8 + 8 + 4 + 4, &n) ||
        !nn__mul_size(pbytes, state_arrays(m), &part) ||
        !nn__add_size(n, part, &n))
        return 0;
    if (m->run.active &&
        (!nn__add_size(n, NN__RUN_BYTES, &n) ||
         (m->run.best_params && !nn__add_size(n, pbytes, &n))))
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

/* The first of n floats that is not finite, or n. */
static size_t first_nonfinite(const float *v, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return i;
    return n;
}

/* A file holds finite numbers only, as the setters accept. */
static nn_status check_finite(const char *fn, const nn_model *m, int what)
{
    size_t i, l = 0, a;
    i = first_nonfinite(m->params, m->n_params);
    if (i < m->n_params) {
        while (l + 1 < m->n_layers && i >= m->layers[l + 1].w_off)
            l++;
        return nn__fail(NN_E_NONFINITE,
                        "%s: parameter %zu (layer %zu) is %g; a model file "
                        "holds finite values only", fn, i, l,
                        (double)m->params[i]);
    }
    i = first_nonfinite(m->buffers, m->n_buffers);
    if (i < m->n_buffers)
        return nn__fail(NN_E_NONFINITE,
                        "%s: buffer value %zu is %g; a model file holds "
                        "finite values only", fn, i, (double)m->buffers[i]);
    if (what != NN_SAVE_CHECKPOINT)
        return NN_OK;
    for (a = 0; a < state_arrays(m); a++) {
        i = first_nonfinite(m->state[a], m->n_params);
        if (i < m->n_params)
            return nn__fail(NN_E_NONFINITE,
                            "%s: optimizer state %zu[%zu] is %g; a model "
                            "file holds finite values only", fn, a, i,
                            (double)m->state[a][i]);
    }
    if (m->run.active && m->run.best_params &&
        first_nonfinite(m->run.best_params, m->n_params) < m->n_params)
        return nn__fail(NN_E_NONFINITE,
                        "%s: the interrupted run's best parameters are not "
                        "all finite", fn);
    return NN_OK;
}

/* ---- writing ---- */

/* Bytes go through buf. Saving to memory, buf is the caller's buffer and
 * already large enough; saving to a file, buf is a chunk flushed with
 * ops->write_fd whenever it fills. The CRC covers every byte put. */
/* The bytes of a file, to memory or to a file (file.c), and their
 * checksum so far. */
typedef struct nn__writer {
    nn__sink out;
    uint32_t crc;
} nn__writer;

static void wr_bytes(nn__writer *w, const unsigned char *p, size_t n)
{
    w->crc = nn__crc32(w->crc, p, n);
    nn__sink_put(&w->out, p, n);
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

static void wr_text(nn__writer *w, const char *t)
{
    size_t len = strlen(t);
    wr_u32(w, (uint32_t)len);
    wr_bytes(w, (const unsigned char *)t, len);
}

static void wr_rng(nn__writer *w, const nn__rng *rng)
{
    int k;
    for (k = 0; k < NN__RNG_WORDS; k++)
        wr_u64(w, rng->s[k]);
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
        const nn__layer *L = &m->layers[l];
        wr_u32(w, (uint32_t)L->ops->kind);
        wr_u64(w, (uint64_t)L->out);
        wr_u32(w, (uint32_t)L->act);
        for (k = 1; k <= NN__LAYER_SETTINGS; k++)
            wr_f64(w, L->lp[k]);
    }
    wr_u64(w, (uint64_t)m->n_class_w);
    wr_f32s(w, m->class_w, m->n_class_w);
    wr_u32(w, (uint32_t)m->n_meta);
    for (k = 0; k < m->n_meta; k++) {
        wr_text(w, m->meta[k].key);
        wr_text(w, m->meta[k].value);
    }
    wr_f32s(w, m->params, m->n_params);
    wr_f32s(w, m->buffers, m->n_buffers);
    if (what != NN_SAVE_CHECKPOINT)
        return;
    wr_rng(w, &m->rng);
    wr_u64(w, m->steps);
    wr_u64(w, m->seed);
    wr_u32(w, arrays);
    for (a = 0; a < arrays; a++)
        wr_f32s(w, m->state[a], m->n_params);
    wr_u32(w, (uint32_t)m->run.active);
    if (!m->run.active)
        return;
    wr_u64(w, m->run.rows);
    wr_u64(w, m->run.batch_size);
    wr_u64(w, m->run.epoch);
    wr_u64(w, m->run.batch);
    wr_rng(w, &m->run.rng);
    wr_f64(w, m->run.loss_sum);
    wr_f64(w, m->run.best);
    wr_u64(w, m->run.since_best);
    wr_u32(w, m->run.best_params != NULL);
    if (m->run.best_params)
        wr_f32s(w, m->run.best_params, m->n_params);
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
    w.out.buf = (unsigned char *)buf;
    w.out.cap = capacity;
    emit(&w, model, (int)what, size);
    emit_crc(&w);
    /* file_bytes and emit agree, as the tests check; a mismatch is a bug
     * in this file and must not pass for a file. */
    if (w.out.err || w.out.total != size)
        return nn__fail(NN_E_STATE, "%s: internal error: %zu bytes written, "
                        "%zu expected", fn, w.out.total, size);
    if (written)
        *written = size;
    return NN_OK;
}

/* ---- atomic saves (file.c) ---- */

typedef struct nn__save_args {
    const nn_model *model;
    int what;
    size_t size;
} nn__save_args;

static void emit_file(void *ctx, nn__sink *out)
{
    const nn__save_args *a = (const nn__save_args *)ctx;
    nn__writer w;
    memset(&w, 0, sizeof w);
    w.out = *out;
    emit(&w, a->model, a->what, a->size);
    emit_crc(&w);
    *out = w.out;
}

nn_status nn__model_save_ops(const nn_model *model, const char *path,
                             nn_save_what what, const nn__file_ops *ops)
{
    static const char fn[] = "nn_model_save";
    nn__save_args a;
    nn_status st = check_save_args(fn, model, (int)what);
    if (st != NN_OK)
        return st;
    if (!path)
        return nn__fail(NN_E_NULL, "%s: path is NULL", fn);
    if (path[0] == '\0' || path[strlen(path) - 1] == '/')
        return nn__fail(NN_E_INVALID, "%s: path '%s' names no file", fn,
                        path);
    st = size_of(fn, model, (int)what, &a.size);
    if (st == NN_OK)
        st = check_finite(fn, model, (int)what);
    if (st != NN_OK)
        return st;
    a.model = model;
    a.what = (int)what;
    return nn__save_atomic(fn, path, a.size, emit_file, &a, ops);
}

nn_status nn_model_save(const nn_model *model, const char *path,
                        nn_save_what what)
{
    return nn__model_save_ops(model, path, what, nn__file_ops_posix());
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
                              size_t avail, uint64_t size, uint32_t *kind,
                              uint32_t *version_out)
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
    if (version < 1 || version > NN__FORMAT_VERSION)
        return bad(r, 8,
                   "format version %lu; this libnn (%s) reads versions 1 "
                   "to %u%s",
                   (unsigned long)version, nn_version_string(),
                   NN__FORMAT_VERSION,
                   version > NN__FORMAT_VERSION
                       ? ", the file is from a newer libnn"
                       : "");
    *version_out = version;
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

/* What scan() found: counts, and where each section starts. */
typedef struct nn__scan {
    uint32_t version, kind, loss, opt, sched, settings, layer_settings;
    uint32_t arrays, meta, run, run_best;
    uint64_t input, layers, class_w, steps, seed;
    size_t n_params, n_buffers;
    size_t settings_off, layers_off, class_w_off, meta_off, params_off;
    size_t buffers_off, rng_off, state_off, run_off;
} nn__scan;

static nn_status rd_f64(nn__reader *r, const char *field, double *v)
{
    uint64_t u;
    nn_status st = rd_u64(r, field, &u);
    *v = f64_from(u);
    return st;
}

/* The generator state at r, which xoshiro256** never has all zero. */
static nn_status rd_rng(nn__reader *r, const char *field, nn__rng *rng)
{
    size_t at = r->off;
    int k;
    for (k = 0; k < NN__RNG_WORDS; k++) {
        nn_status st = rd_u64(r, field, &rng->s[k]);
        if (st != NN_OK)
            return st;
    }
    if ((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) == 0)
        return bad(r, at, "%s is all zero, which xoshiro256** never "
                   "reaches", field);
    return NN_OK;
}

/* Skips n floats, checking that they are there and finite. */
static nn_status skip_floats(nn__reader *r, size_t n, const char *what)
{
    size_t i;
    nn_status st = need(r, 4 * n, what);
    if (st != NN_OK)
        return st;
    for (i = 0; i < n; i++) {
        float f = f32_from((uint32_t)get_le(r->p + r->off + 4 * i, 4));
        if (!isfinite(f))
            return bad(r, r->off + 4 * i, "%s %zu is %g, not finite", what,
                       i, (double)f);
    }
    r->off += 4 * n;
    return NN_OK;
}

/* A setting's value against its bounds, as the setters hold a caller. */
static nn_status check_setting(const nn__reader *r, size_t at,
                               const char *owner, uint32_t key,
                               const char *name, const nn__bounds *b,
                               double v)
{
    if (!(v >= b->lo && v <= b->hi))
        return bad(r, at, "%ssetting %lu (%s) is %.17g, outside its bounds "
                   "[%g, %g]", owner, (unsigned long)key, name, v, b->lo,
                   b->hi);
    if (b->integral && v != floor(v))
        return bad(r, at, "%ssetting %lu (%s) is %.17g, not a whole number",
                   owner, (unsigned long)key, name, v);
    return NN_OK;
}

/* One layer record (at r), given its input width; *out_w receives its
 * width, and *params and *buffers grow by its counts. */
static nn_status scan_layer(nn__reader *r, const nn__scan *s, uint64_t l,
                            uint64_t in, uint64_t *out_w, size_t *params,
                            size_t *buffers)
{
    char owner[64];
    uint32_t kind = NN_KIND_DENSE, act, k;
    uint64_t width;
    size_t at = r->off, width_at, left;
    const nn__layer_ops *ops;
    nn__layer L;
    nn_status st;
#define NN__TRY(x) do { st = (x); if (st != NN_OK) return st; } while (0)
    if (s->version >= 2) {
        NN__TRY(rd_u32(r, "a layer kind", &kind));
        if (!nn__layer_kind((int)kind))
            return bad(r, at, "layer %llu's kind is %lu, not an "
                       "nn_layer_kind", (unsigned long long)l,
                       (unsigned long)kind);
    }
    ops = nn__layer_kind((int)kind);
    at = width_at = r->off;
    NN__TRY(rd_u64(r, "a layer width", &width));
    if (kind == NN_KIND_DENSE && (width == 0 || width > NN__MAX_WIDTH))
        return bad(r, at, "layer %llu is %llu wide, outside [1, %llu]",
                   (unsigned long long)l, (unsigned long long)width,
                   (unsigned long long)NN__MAX_WIDTH);
    if (kind != NN_KIND_DENSE && width != in)
        return bad(r, at, "layer %llu is %llu wide; a %s layer keeps its "
                   "input's width, %llu", (unsigned long long)l,
                   (unsigned long long)width, ops->name,
                   (unsigned long long)in);
    NN__TRY(rd_u32(r, "an activation", &act));
    if ((kind == NN_KIND_DENSE || kind == NN_KIND_ACTIVATION) &&
        !nn__activation_valid((int)act))
        return bad(r, r->off - 4, "layer %llu's activation is %lu, not an "
                   "nn_activation", (unsigned long long)l,
                   (unsigned long)act);
    if (kind != NN_KIND_DENSE && kind != NN_KIND_ACTIVATION && act != 0)
        return bad(r, r->off - 4, "layer %llu's activation is %lu; a %s "
                   "layer has none (0)", (unsigned long long)l,
                   (unsigned long)act, ops->name);
    if (act == NN_ACT_SOFTMAX && l + 1 < s->layers)
        return bad(r, r->off - 4,
                   "layer %llu is softmax but not the output layer",
                   (unsigned long long)l);
    snprintf(owner, sizeof owner, "layer %llu's ", (unsigned long long)l);
    for (k = 1; k <= s->layer_settings; k++) {
        nn__bounds b;
        double v;
        at = r->off;
        NN__TRY(rd_f64(r, "layer settings", &v));
        if (!nn__layer_param_bounds((int)k, &b))
            continue; /* not reached: layer_settings is checked */
        if (ops->keys & (1u << k)) {
            NN__TRY(check_setting(r, at, owner, k,
                                  nn_layer_param_name((nn_layer_param)k),
                                  &b, v));
        } else if (f64_bits(v) !=
                   f64_bits(nn__layer_param_stored((int)k, b.def))) {
            return bad(r, at, "%ssetting %lu (%s) is %.17g; a %s layer has "
                       "no such setting, which is kept at its default %g",
                       owner, (unsigned long)k,
                       nn_layer_param_name((nn_layer_param)k), v, ops->name,
                       b.def);
        }
    }
    /* The widths say how many parameters and buffer values follow: check
     * that they are there, before anything is sized by them. */
    memset(&L, 0, sizeof L);
    L.in = (size_t)in;
    L.out = (size_t)width;
    ops->shape(&L);
    left = r->end - r->off;
    if (!nn__add_size(*params, L.w_count, params) ||
        !nn__add_size(*params, L.b_count, params) ||
        !nn__add_size(*buffers, L.buf_count, buffers) ||
        *params > left / 4 || *buffers > left / 4 ||
        *params + *buffers > left / 4)
        return bad(r, width_at, "layer %llu is %llu wide: with %llu inputs the "
                   "layers so far need more parameter bytes than the %zu "
                   "that remain", (unsigned long long)l,
                   (unsigned long long)width, (unsigned long long)in, left);
    *out_w = width;
    return NN_OK;
#undef NN__TRY
}

/* Walks the content, checking every size, id and value against the bytes
 * present and the bounds this libnn enforces, in file order, so that a
 * file is refused at the first field that proves it bad. Allocates
 * nothing, and reads each byte a bounded number of times: linear in the
 * file's size. */
static nn_status scan(nn__reader *r, nn__scan *s)
{
    uint64_t l, in = 0, out_w = 0;
    uint32_t k, i;
    size_t at, layers_at, left, pbytes;
    nn_status st;

#define NN__TRY(x) do { st = (x); if (st != NN_OK) return st; } while (0)
    at = r->off;
    NN__TRY(rd_u64(r, "the input width", &s->input));
    if (s->input == 0 || s->input > NN__MAX_WIDTH)
        return bad(r, at, "the input width is %llu, outside [1, %llu]",
                   (unsigned long long)s->input,
                   (unsigned long long)NN__MAX_WIDTH);
    layers_at = r->off;
    NN__TRY(rd_u64(r, "the layer count", &s->layers));
    NN__TRY(rd_u32(r, "the loss", &s->loss));
    if (s->loss != 0 && !nn__loss_valid((int)s->loss))
        return bad(r, r->off - 4, "the loss is %lu, not an nn_loss",
                   (unsigned long)s->loss);
    NN__TRY(rd_u32(r, "the optimizer", &s->opt));
    if (s->opt < NN_OPT_SGD || s->opt > NN_OPT_RMSPROP)
        return bad(r, r->off - 4, "the optimizer is %lu, not an "
                   "nn_optimizer", (unsigned long)s->opt);
    NN__TRY(rd_u32(r, "the schedule", &s->sched));
    if (s->sched < NN_SCHED_CONSTANT || s->sched > NN_SCHED_COSINE)
        return bad(r, r->off - 4, "the schedule is %lu, not an "
                   "nn_schedule", (unsigned long)s->sched);
    NN__TRY(rd_u32(r, "the settings count", &s->settings));
    if (s->settings > NN__SETTINGS)
        return bad(r, r->off - 4,
                   "the file has %lu settings, this libnn knows %lu (the "
                   "file is from a newer libnn)", (unsigned long)s->settings,
                   (unsigned long)NN__SETTINGS);
    s->settings_off = r->off;
    for (k = 1; k <= s->settings; k++) {
        nn__bounds b;
        double v;
        at = r->off;
        NN__TRY(rd_f64(r, "the settings", &v));
        (void)nn__param_bounds((int)k, &b);
        NN__TRY(check_setting(r, at, "", k, nn_param_name((nn_param)k), &b,
                              v));
    }
    NN__TRY(rd_u32(r, "the layer settings count", &s->layer_settings));
    if (s->layer_settings > NN__LAYER_SETTINGS)
        return bad(r, r->off - 4,
                   "layers have %lu settings each, this libnn knows %u (the "
                   "file is from a newer libnn)",
                   (unsigned long)s->layer_settings, NN__LAYER_SETTINGS);

    /* A layer count that cannot fit is refused before the loop. */
    left = r->end - r->off;
    if (s->layers > left / NN__RECORD_BYTES(s->version, s->layer_settings))
        return bad(r, layers_at,
                   "%llu layers of %zu bytes each do not fit in the %zu "
                   "bytes that remain", (unsigned long long)s->layers,
                   NN__RECORD_BYTES(s->version, s->layer_settings), left);
    s->layers_off = r->off;
    s->n_params = s->n_buffers = 0;
    in = s->input;
    for (l = 0; l < s->layers; l++) {
        NN__TRY(scan_layer(r, s, l, in, &out_w, &s->n_params,
                           &s->n_buffers));
        in = out_w;
    }

    s->class_w_off = r->off;
    s->meta_off = r->off;
    if (s->version >= 2) {
        at = r->off;
        NN__TRY(rd_u64(r, "the class weight count", &s->class_w));
        left = r->end - r->off;
        if (s->class_w > NN__MAX_WIDTH || s->class_w > left / 4)
            return bad(r, at, "%llu class weights do not fit in the %zu "
                       "bytes that remain", (unsigned long long)s->class_w,
                       left);
        s->class_w_off = r->off;
        for (k = 0; k < s->class_w; k++) {
            float f = f32_from((uint32_t)get_le(r->p + r->off, 4));
            if (!(f >= 0.0f && isfinite(f)))
                return bad(r, r->off, "class weight %lu is %g; a class "
                           "weight is finite and >= 0", (unsigned long)k,
                           (double)f);
            r->off += 4;
        }
        NN__TRY(rd_u32(r, "the metadata count", &s->meta));
        if (s->meta > NN__META_COUNT_MAX)
            return bad(r, r->off - 4, "%lu metadata entries; a model holds "
                       "at most %u", (unsigned long)s->meta,
                       NN__META_COUNT_MAX);
        s->meta_off = r->off;
        for (i = 0; i < s->meta; i++) {
            uint32_t len;
            int part;
            size_t start = r->off;
            for (part = 0; part < 2; part++) {
                at = r->off;
                NN__TRY(rd_u32(r, part ? "a metadata value's length"
                                       : "a metadata key's length", &len));
                if (part ? len > NN__META_VALUE_MAX
                         : len == 0 || len > NN__META_KEY_MAX)
                    return bad(r, at, "metadata entry %lu's %s is %lu "
                               "bytes long", (unsigned long)i,
                               part ? "value" : "key", (unsigned long)len);
                NN__TRY(need(r, len, "metadata"));
                if (memchr(r->p + r->off, 0, len))
                    return bad(r, r->off, "metadata entry %lu's %s holds a "
                               "zero byte", (unsigned long)i,
                               part ? "value" : "key");
                r->off += len;
            }
            /* A key may appear once: compare with the earlier ones (at
             * most NN__META_COUNT_MAX of them). */
            {
                size_t o = s->meta_off, klen = get_le(r->p + start, 4);
                uint32_t j;
                for (j = 0; j < i; j++) {
                    size_t kl = get_le(r->p + o, 4);
                    size_t vl = get_le(r->p + o + 4 + kl, 4);
                    if (kl == klen &&
                        memcmp(r->p + o + 4, r->p + start + 4, kl) == 0)
                        return bad(r, start, "metadata entry %lu repeats "
                                   "the key of entry %lu", (unsigned long)i,
                                   (unsigned long)j);
                    o += 8 + kl + vl;
                }
            }
        }
    }
    s->params_off = r->off;
    pbytes = 4 * s->n_params;
    NN__TRY(need(r, pbytes, "the parameters"));
    r->off += pbytes;
    s->buffers_off = r->off;
    NN__TRY(need(r, 4 * s->n_buffers, "the layers' buffers"));
    r->off += 4 * s->n_buffers;

    s->arrays = s->run = s->run_best = 0;
    s->steps = s->seed = 0;
    if (s->kind == NN_SAVE_CHECKPOINT) {
        nn__rng rng;
        s->rng_off = r->off;
        NN__TRY(rd_rng(r, "the generator state", &rng));
        at = r->off;
        NN__TRY(rd_u64(r, "the step count", &s->steps));
        if (s->version >= 2)
            NN__TRY(rd_u64(r, "the seed", &s->seed));
        NN__TRY(rd_u32(r, "the optimizer-state count", &s->arrays));
        if (s->arrays > nn__optim_max_arrays((int)s->opt) ||
            (s->arrays == 1 && s->opt != NN_OPT_SGD))
            return bad(r, r->off - 4,
                       "%lu optimizer-state arrays; the %s optimizer keeps "
                       "%s", (unsigned long)s->arrays,
                       nn_optimizer_name((nn_optimizer)s->opt),
                       s->opt == NN_OPT_SGD ? "at most 1" : "2 or 3");
        if (s->arrays == 0 && s->steps != 0)
            return bad(r, at,
                       "the step count is %llu but there is no optimizer "
                       "state", (unsigned long long)s->steps);
        s->state_off = r->off;
        for (k = 0; k < s->arrays; k++) {
            char what[40];
            snprintf(what, sizeof what, "optimizer state %lu value",
                     (unsigned long)k);
            NN__TRY(skip_floats(r, s->n_params, what));
        }
        if (s->version >= 2) {
            NN__TRY(rd_u32(r, "the interrupted run's flag", &s->run));
            if (s->run > 1)
                return bad(r, r->off - 4, "the interrupted run's flag is "
                           "%lu", (unsigned long)s->run);
        }
        s->run_off = r->off;
        if (s->run) {
            uint64_t rows, bs, epoch, batch, since;
            double sum, best;
            NN__TRY(rd_u64(r, "the interrupted run", &rows));
            NN__TRY(rd_u64(r, "the interrupted run", &bs));
            NN__TRY(rd_u64(r, "the interrupted run", &epoch));
            at = r->off;
            NN__TRY(rd_u64(r, "the interrupted run", &batch));
            if (rows == 0 || bs == 0 || bs > rows || epoch == 0 ||
                batch > rows / bs + (rows % bs != 0))
                return bad(r, s->run_off, "the interrupted run's %llu rows "
                           "in batches of %llu, at batch %llu of epoch %llu, "
                           "do not agree", (unsigned long long)rows,
                           (unsigned long long)bs,
                           (unsigned long long)batch,
                           (unsigned long long)epoch);
            NN__TRY(rd_rng(r, "the interrupted run's generator", &rng));
            at = r->off;
            NN__TRY(rd_f64(r, "the interrupted run", &sum));
            NN__TRY(rd_f64(r, "the interrupted run", &best));
            if (!isfinite(sum) || !(best >= 0.0))
                return bad(r, at, "the interrupted run's loss sum %g or "
                           "best loss %g is not a loss", sum, best);
            NN__TRY(rd_u64(r, "the interrupted run", &since));
            NN__TRY(rd_u32(r, "the interrupted run", &s->run_best));
            if (s->run_best > 1 || (s->run_best && !isfinite(best)))
                return bad(r, r->off - 4, "the interrupted run's best "
                           "parameters flag is %lu for a best loss of %g",
                           (unsigned long)s->run_best, best);
            if (s->run_best)
                NN__TRY(skip_floats(r, s->n_params, "a best parameter"));
        }
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

/* Copies n floats stored at off into dst; scan() checked them. */
static void copy_floats(const nn__reader *r, size_t off, float *dst,
                        size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        dst[i] = f32_from((uint32_t)get_le(r->p + off + 4 * i, 4));
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

/* A copy of the text of len bytes whose length field is at off. */
static char *rd_text(const nn__reader *r, size_t off, size_t *len)
{
    char *t;
    *len = (size_t)get_le(r->p + off, 4);
    t = (char *)nn__malloc(*len + 1);
    if (t) {
        memcpy(t, r->p + off + 4, *len);
        t[*len] = '\0';
    }
    return t;
}

/* Makes the model scan() vouched for: one allocation of each array, sized
 * by the counts scan() checked against the bytes, then each section
 * copied in. */
static nn_status build(nn__reader *r, const nn__scan *s, nn_model **out)
{
    nn_model *m = NULL;
    nn_status st;
    size_t l, off, i;
    uint32_t k;

    st = nn_model_create(&m, (size_t)s->input, 0);
    if (st != NN_OK)
        return nomem(r, st);
    st = nn__model_reserve(r->where, m, (size_t)s->layers, s->n_params,
                           s->n_buffers);
    if (st != NN_OK)
        goto fail;
    m->loss = (int)s->loss;
    m->opt = (int)s->opt;
    m->sched = (int)s->sched;
    for (k = 1; k <= s->settings; k++)
        m->param[k] =
            f64_from(get_le(r->p + s->settings_off + 8 * (size_t)(k - 1), 8));
    off = s->layers_off;
    for (l = 0; l < (size_t)s->layers; l++) {
        const unsigned char *rec = r->p + off;
        int kind = s->version >= 2 ? (int)get_le(rec, 4) : NN_KIND_DENSE;
        size_t head = s->version >= 2 ? 4 : 0;
        size_t width = (size_t)get_le(rec + head, 8);
        int act = (int)get_le(rec + head + 8, 4);
        nn__layer *L;
        st = nn__layer_append(r->where, m, nn__layer_kind(kind), width, act,
                              0);
        if (st != NN_OK) /* not reached: the room was reserved */
            goto fail;
        L = &m->layers[m->n_layers - 1];
        for (k = 1; k <= s->layer_settings; k++) {
            double v = f64_from(get_le(rec + head + 12 + 8 * (k - 1), 8));
            L->lp[k] = nn__layer_param_stored((int)k, v);
        }
        nn__layer_settled(L);
        off += NN__RECORD_BYTES(s->version, s->layer_settings);
    }
    if (s->class_w > 0) {
        m->class_w = (float *)nn__malloc((size_t)s->class_w * sizeof(float));
        if (!m->class_w) {
            st = nn__fail(NN_E_NOMEM, "%s: allocating the class weights "
                          "failed", r->where);
            goto fail;
        }
        m->n_class_w = (size_t)s->class_w;
        copy_floats(r, s->class_w_off, m->class_w, m->n_class_w);
    }
    off = s->meta_off;
    for (i = 0; i < s->meta; i++) {
        size_t klen, vlen = 0;
        char *key = rd_text(r, off, &klen);
        char *value = key ? rd_text(r, off + 4 + klen, &vlen) : NULL;
        st = value ? nn_model_set_meta(m, key, value)
                   : nn__fail(NN_E_NOMEM, "%s: allocating metadata failed",
                              r->where);
        nn__free(key);
        nn__free(value);
        if (st != NN_OK)
            goto fail_nomem;
        off += 8 + klen + vlen;
    }
    st = rd_floats(r, s->params_off, m->params, m->n_params, "parameter");
    if (st != NN_OK)
        goto fail;
    off = s->buffers_off;
    st = rd_floats(r, off, m->buffers, m->n_buffers, "buffer value");
    for (l = 0; st == NN_OK && l < m->n_layers; l++) {
        const nn__layer *L = &m->layers[l];
        if (L->buf_count && L->ops->buffers_valid &&
            !L->ops->buffers_valid(L, m->buffers + L->buf_off, &i))
            st = bad(r, off + 4 * (L->buf_off + i),
                     "layer %zu's buffer value %zu is %g, not valid for a %s "
                     "layer", l, i, (double)m->buffers[L->buf_off + i],
                     L->ops->name);
    }
    if (st != NN_OK)
        goto fail;

    if (s->kind == NN_SAVE_CHECKPOINT) {
        const unsigned char *p = r->p + s->rng_off;
        for (k = 0; k < NN__RNG_WORDS; k++)
            m->rng.s[k] = get_le(p + 8 * k, 8);
        m->seed = s->seed;
        if (s->arrays > 0) {
            st = nn__optim_alloc(r->where, m, s->arrays);
            if (st != NN_OK)
                goto fail;
            for (k = 0; k < s->arrays; k++)
                copy_floats(r, s->state_off + 4 * m->n_params * k,
                            m->state[k], m->n_params);
            m->steps = s->steps;
        }
        if (s->run) {
            nn__fit_run *run = &m->run;
            p = r->p + s->run_off;
            run->rows = get_le(p, 8);
            run->batch_size = get_le(p + 8, 8);
            run->epoch = get_le(p + 16, 8);
            run->batch = get_le(p + 24, 8);
            for (k = 0; k < NN__RNG_WORDS; k++)
                run->rng.s[k] = get_le(p + 32 + 8 * k, 8);
            run->loss_sum = f64_from(get_le(p + 64, 8));
            run->best = f64_from(get_le(p + 72, 8));
            run->since_best = get_le(p + 80, 8);
            if (s->run_best) {
                run->best_params =
                    (float *)nn__malloc(m->n_params * sizeof(float));
                if (!run->best_params) {
                    st = nn__fail(NN_E_NOMEM, "%s: allocating the "
                                  "interrupted run's parameters failed",
                                  r->where);
                    goto fail;
                }
                copy_floats(r, s->run_off + NN__RUN_BYTES,
                            run->best_params, m->n_params);
            }
            run->active = 1;
        }
    }
    nn__params_written(m);
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
    st = check_header(&r, p, size, (uint64_t)size, &s.kind, &s.version);
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

nn_status nn__model_load_ops(nn_model **out, const char *path,
                             const nn__file_ops *ops)
{
    static const char fn[] = "nn_model_load";
    char where[200], etext[128];
    unsigned char head[NN__HEADER_BYTES], extra;
    unsigned char *buf = NULL;
    uint64_t size = 0;
    size_t got, n;
    int fd = -1, e;
    uint32_t kind, version;
    nn__reader r;
    nn_status st;

    if (!out)
        return nn__fail(NN_E_NULL, "%s: out is NULL", fn);
    *out = NULL;
    if (!path)
        return nn__fail(NN_E_NULL, "%s: path is NULL", fn);
    nn__file_label(where, sizeof where, fn, path);
    st = nn__open_regular(where, path, ops, &fd, &size);
    if (st != NN_OK)
        return st;
    /* The header is checked against the real size before the size is
     * trusted with an allocation. */
    n = size < NN__HEADER_BYTES ? (size_t)size : NN__HEADER_BYTES;
    if (nn__read_full(ops, fd, head, n, &got) != 0)
        goto io_fail;
    if (got != n)
        goto changed;
    r.p = head;
    r.off = 0;
    r.end = n;
    r.where = where;
    st = check_header(&r, head, n, size, &kind, &version);
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
    if (nn__read_full(ops, fd, buf + n, (size_t)size - n, &got) != 0)
        goto io_fail;
    if (got != (size_t)size - n)
        goto changed;
    if (nn__read_full(ops, fd, &extra, 1, &got) != 0)
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
    st = nn__fail(NN_E_IO, "%s: reading it failed: %s (errno %d)", where,
                  nn__errno_text(e, etext, sizeof etext), e);
done:
    if (fd >= 0)
        (void)ops->close_fd(ops->ctx, fd);
    nn__free(buf);
    return st;
}

nn_status nn_model_load(nn_model **out, const char *path)
{
    return nn__model_load_ops(out, path, nn__file_ops_posix());
}
