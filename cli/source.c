/* SPDX-License-Identifier: MIT */
/*
 * source.c - input files into memory, gzip through libdeflate where the
 * build has it (zlib's inflate otherwise, and for every stream libdeflate
 * does not take whole), and the format of the bytes (see source.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#if defined(NN_CLI_HAVE_LIBDEFLATE)
#include <libdeflate.h>
#endif

#include "mem.h"

static void *z_alloc(void *opaque, unsigned items, unsigned size)
{
    (void)opaque;
    return cli_malloc_array(items, size);
}

static void z_free(void *opaque, void *ptr)
{
    (void)opaque;
    cli_free(ptr);
}

static int is_gzip(const unsigned char *p, size_t n)
{
    return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

cli_status cli_gunzip_zlib(const char *name, const unsigned char *in,
                           size_t size, unsigned char **out, size_t *out_size,
                           cli_err *e)
{
    z_stream zs;
    unsigned char *buf = NULL;
    size_t cap, len = 0, pos = 0;
    cli_status st = CLI_OK;
    int zr;

    *out = NULL;
    *out_size = 0;
    memset(&zs, 0, sizeof zs);
    zs.zalloc = z_alloc;
    zs.zfree = z_free;
    /* 16 + MAX_WBITS: a gzip wrapper, whose CRC-32 and length zlib checks */
    zr = inflateInit2(&zs, 16 + MAX_WBITS);
    if (zr != Z_OK)
        return zr == Z_MEM_ERROR ? cli_nomem(e, "starting to decompress")
                                 : cli_fail(e, CLI_E_IO, "%s: zlib cannot "
                                            "start: %s", name,
                                            zs.msg ? zs.msg : "?");
    cap = size < SIZE_MAX / 4 ? size * 4 + 64 : SIZE_MAX - 1;
    buf = cli_malloc(cap + 1);
    if (!buf) {
        st = cli_nomem(e, "decompressing");
        goto done;
    }
    for (;;) {
        size_t in_chunk = size - pos, out_chunk;
        if (in_chunk > UINT_MAX)
            in_chunk = UINT_MAX;
        if (len == cap) {
            size_t ncap;
            unsigned char *p;
            if (cap >= (SIZE_MAX - 1) / 2) {
                st = cli_nomem(e, "decompressing");
                goto done;
            }
            ncap = cap * 2;
            p = cli_realloc(buf, ncap + 1);
            if (!p) {
                st = cli_nomem(e, "decompressing");
                goto done;
            }
            buf = p;
            cap = ncap;
        }
        out_chunk = cap - len;
        if (out_chunk > UINT_MAX)
            out_chunk = UINT_MAX;
        zs.next_in = (unsigned char *)(uintptr_t)(in + pos);
        zs.avail_in = (unsigned)in_chunk;
        zs.next_out = buf + len;
        zs.avail_out = (unsigned)out_chunk;
        zr = inflate(&zs, Z_NO_FLUSH);
        pos += in_chunk - zs.avail_in;
        len += out_chunk - zs.avail_out;
        if (zr == Z_STREAM_END) {
            if (pos == size)
                break;
            /* Another member follows, as "cat a.gz b.gz" makes. */
            if (!is_gzip(in + pos, size - pos)) {
                st = cli_fail(e, CLI_E_DATA, "%s: byte %zu: data after the "
                              "end of the gzip stream", name, pos);
                goto done;
            }
            if (inflateReset(&zs) != Z_OK) {
                st = cli_fail(e, CLI_E_DATA, "%s: byte %zu: cannot "
                              "restart the gzip stream", name, pos);
                goto done;
            }
            continue;
        }
        if (zr == Z_MEM_ERROR) {
            st = cli_nomem(e, "decompressing");
            goto done;
        }
        if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT || zr == Z_STREAM_ERROR) {
            st = cli_fail(e, CLI_E_DATA, "%s: byte %zu: damaged gzip data "
                          "(%s)", name, pos,
                          zs.msg ? zs.msg : "zlib could not inflate it");
            goto done;
        }
        /* Z_OK or Z_BUF_ERROR: with room left in the output, inflate
         * stopped for want of input */
        if (len < cap && pos == size) {
            st = cli_fail(e, CLI_E_DATA, "%s: byte %zu: the gzip data is "
                          "truncated (it ends before the end of its "
                          "stream)", name, pos);
            goto done;
        }
        if (len < cap && zr == Z_BUF_ERROR) {
            st = cli_fail(e, CLI_E_DATA, "%s: byte %zu: damaged gzip data "
                          "(inflate made no progress)", name, pos);
            goto done;
        }
    }
    buf[len] = '\0';
    *out = buf;
    *out_size = len;
    buf = NULL;
done:
    inflateEnd(&zs);
    cli_free(buf);
    return st;
}

#if defined(NN_CLI_HAVE_LIBDEFLATE)
/* libdeflate allocates through cli_malloc, as zlib does above, so that the
 * tests' failing allocations reach it too. */
static void deflate_allocator(void)
{
    static int set;
    if (!set) {
        libdeflate_set_memory_allocator(cli_malloc, cli_free);
        set = 1;
    }
}

/* The gzip member at in (n >= 2 bytes, the magic number checked) has a
 * header CRC, which libdeflate 1.14 skips and zlib checks. */
static int has_header_crc(const unsigned char *in, size_t n)
{
    return n >= 4 && (in[3] & 0x02) != 0;
}
#endif

int cli_gunzip_fast(const unsigned char *in, size_t size, unsigned char **out,
                    size_t *out_size)
{
#if defined(NN_CLI_HAVE_LIBDEFLATE)
    struct libdeflate_decompressor *d;
    unsigned char *buf = NULL;
    size_t cap, cap_max, len = 0, pos = 0;
    int ok = 0;

    *out = NULL;
    *out_size = 0;
    /* Deflate turns a byte into at most 1032 (a 258-byte match in two
     * bits), so no valid input needs more; the last member's length field
     * (its last 4 bytes, the size mod 2^32) is the whole size where there
     * is one member, and the first guess. */
    if (size < 18 || size > (SIZE_MAX - 2) / 1032)
        return 0;
    cap_max = size * 1032;
    cap = (size_t)in[size - 4] | (size_t)in[size - 3] << 8 |
          (size_t)in[size - 2] << 16 | (size_t)in[size - 1] << 24;
    cap = cap < cap_max ? cap : cap_max;
    /* Where memory runs short here, zlib's smaller steps may still fit
     * (or report it) */
    deflate_allocator();
    d = libdeflate_alloc_decompressor();
    if (!d)
        return 0;
    buf = cli_malloc(cap + 1);
    if (!buf) {
        libdeflate_free_decompressor(d);
        return 0;
    }
    while (pos < size) {
        size_t used_in = 0, used_out = 0;
        enum libdeflate_result r;
        if (!is_gzip(in + pos, size - pos) ||
            has_header_crc(in + pos, size - pos))
            break; /* zlib's to check, and to name what is wrong */
        r = libdeflate_gzip_decompress_ex(d, in + pos, size - pos,
                                          buf + len, cap - len, &used_in,
                                          &used_out);
        if (r == LIBDEFLATE_INSUFFICIENT_SPACE && cap < cap_max) {
            /* more members, or more than 4 GiB: room, and the member again */
            size_t ncap = cap < cap_max / 2 ? cap * 2 + 4096 : cap_max;
            unsigned char *p;
            ncap = ncap < cap_max ? ncap : cap_max;
            p = cli_realloc(buf, ncap + 1);
            if (!p)
                break;
            buf = p;
            cap = ncap;
            continue;
        }
        if (r != LIBDEFLATE_SUCCESS || used_in == 0)
            break;
        pos += used_in;
        len += used_out;
        if (pos == size)
            ok = 1;
    }
    libdeflate_free_decompressor(d);
    if (!ok) {
        cli_free(buf);
        return 0;
    }
    buf[len] = '\0';
    *out = buf;
    *out_size = len;
    return 1;
#else
    (void)in;
    (void)size;
    *out = NULL;
    *out_size = 0;
    return 0;
#endif
}

cli_status cli_gunzip(const char *name, const unsigned char *in, size_t size,
                      unsigned char **out, size_t *out_size, cli_err *e)
{
    if (cli_gunzip_fast(in, size, out, out_size))
        return CLI_OK;
    return cli_gunzip_zlib(name, in, size, out, out_size, e);
}

/* Reads all of fd into a new buffer (with a NUL after the data). */
static cli_status read_all(int fd, const char *name, size_t hint,
                           unsigned char **out, size_t *out_size, cli_err *e)
{
    size_t cap = hint > 0 && hint < SIZE_MAX - 1 ? hint : 65536, len = 0;
    unsigned char *buf = cli_malloc(cap + 1);

    if (!buf)
        return cli_nomem(e, "reading the file");
    for (;;) {
        ssize_t r;
        if (len == cap) {
            unsigned char *p;
            if (cap >= (SIZE_MAX - 1) / 2) {
                cli_free(buf);
                return cli_nomem(e, "reading the file");
            }
            p = cli_realloc(buf, cap * 2 + 1);
            if (!p) {
                cli_free(buf);
                return cli_nomem(e, "reading the file");
            }
            buf = p;
            cap *= 2;
        }
        r = read(fd, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            cli_fail(e, CLI_E_IO, "%s: read failed: %s", name,
                     strerror(errno));
            cli_free(buf);
            return CLI_E_IO;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    *out = buf;
    *out_size = len;
    return CLI_OK;
}

static cli_status finish(cli_source *out, unsigned char *raw, size_t n,
                         cli_err *e)
{
    if (is_gzip(raw, n)) {
        unsigned char *plain;
        size_t plain_n;
        cli_status st = cli_gunzip(out->name, raw, n, &plain, &plain_n, e);
        cli_free(raw);
        if (st != CLI_OK)
            return st;
        out->bytes = plain;
        out->size = plain_n;
        out->gzipped = 1;
        return CLI_OK;
    }
    out->bytes = raw;
    out->size = n;
    return CLI_OK;
}

cli_status cli_source_read(const char *path, cli_source *out, cli_err *e)
{
    struct stat sb;
    unsigned char *raw = NULL;
    size_t n = 0;
    cli_status st;
    int fd;

    memset(out, 0, sizeof *out);
    out->name = path;
    if (strcmp(path, "-") == 0) {
        out->name = "(standard input)";
        st = read_all(STDIN_FILENO, out->name, 0, &raw, &n, e);
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return cli_fail(e, CLI_E_USAGE,
                            "%s: cannot open: %s", path, strerror(errno));
        if (fstat(fd, &sb) != 0) {
            cli_fail(e, CLI_E_IO, "%s: cannot stat: %s", path,
                     strerror(errno));
            close(fd);
            return CLI_E_IO;
        }
        if (S_ISDIR(sb.st_mode)) {
            close(fd);
            return cli_fail(e, CLI_E_USAGE, "%s: is a directory, not a "
                            "data file", path);
        }
        st = read_all(fd, path,
                      S_ISREG(sb.st_mode) && sb.st_size > 0 &&
                              (uintmax_t)sb.st_size < SIZE_MAX / 2
                          ? (size_t)sb.st_size + 1
                          : 0,
                      &raw, &n, e);
        close(fd);
    }
    if (st != CLI_OK)
        return st;
    return finish(out, raw, n, e);
}

cli_status cli_source_from_memory(const char *name, const void *data,
                                  size_t size, cli_source *out, cli_err *e)
{
    unsigned char *raw;

    memset(out, 0, sizeof *out);
    out->name = name;
    if (size == SIZE_MAX)
        return cli_nomem(e, "copying the data");
    raw = cli_malloc(size + 1);
    if (!raw)
        return cli_nomem(e, "copying the data");
    if (size)
        memcpy(raw, data, size);
    raw[size] = '\0';
    return finish(out, raw, size, e);
}

void cli_source_free(cli_source *s)
{
    if (!s)
        return;
    cli_free(s->bytes);
    s->bytes = NULL;
    s->size = 0;
}

cli_format cli_sniff(const unsigned char *b, size_t n)
{
    if (n >= 6 && memcmp(b, "\x93NUMPY", 6) == 0)
        return CLI_FMT_NPY;
    if (n >= 4 && b[0] == 0 && b[1] == 0 &&
        (b[2] == 0x08 || b[2] == 0x09 || b[2] == 0x0b || b[2] == 0x0c ||
         b[2] == 0x0d || b[2] == 0x0e) && b[3] >= 1)
        return CLI_FMT_IDX;
    return CLI_FMT_CSV;
}

const char *cli_format_name(cli_format f)
{
    switch (f) {
    case CLI_FMT_CSV:
        return "csv";
    case CLI_FMT_NPY:
        return "npy";
    case CLI_FMT_IDX:
        return "idx";
    case CLI_FMT_AUTO:
        break;
    }
    return "auto";
}
