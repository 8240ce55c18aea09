/* SPDX-License-Identifier: MIT */
/*
 * idx.h - a small reader for the IDX files of MNIST and Fashion-MNIST,
 * gzip-compressed or not (zlib reads both).
 *
 * An IDX file is a big-endian header followed by unsigned bytes:
 *
 *   images: magic 0x00000803, count, rows, cols, then count*rows*cols pixels
 *   labels: magic 0x00000801, count, then count labels
 *
 * Each reader checks the magic, the dimensions, that the data is all there
 * (no truncation, no trailing bytes, a sound gzip stream and checksum) and,
 * for labels, their range. On failure it fills msg with a short description
 * of the problem, without the file name (the caller prints that), and
 * leaves *out empty; nothing needs freeing.
 */
#ifndef IDX_H
#define IDX_H

#include <stddef.h>
#include <stdint.h>

/* The largest count either reader accepts, as a sanity bound. */
#define IDX_MAX_COUNT 1000000u

typedef enum idx_result {
    IDX_OK = 0,
    IDX_E_NOT_FOUND = 1, /* the file does not exist */
    IDX_E_OPEN = 2,      /* it exists but cannot be opened or read */
    IDX_E_FORMAT = 3,    /* it is not a well-formed IDX file of that kind */
    IDX_E_NOMEM = 4      /* out of memory */
} idx_result;

typedef struct idx_images {
    size_t count;  /* number of images */
    size_t rows;   /* rows of each image */
    size_t cols;   /* columns of each image */
    float *pixels; /* count * rows * cols values in [0, 1] (byte / 255),
                      image after image, row-major */
} idx_images;

typedef struct idx_labels {
    size_t count;    /* number of labels */
    int32_t *labels; /* count values in [0, classes) */
} idx_labels;

/* Reads an image file whose images must be rows x cols. */
idx_result idx_read_images(const char *path, size_t rows, size_t cols,
                           idx_images *out, char *msg, size_t msg_size);

/* Reads a label file whose labels must lie in [0, classes). */
idx_result idx_read_labels(const char *path, unsigned classes,
                           idx_labels *out, char *msg, size_t msg_size);

/* Release what a successful read allocated and empty the struct. NULL and
 * empty structs are fine. */
void idx_images_free(idx_images *images);
void idx_labels_free(idx_labels *labels);

#endif /* IDX_H */
