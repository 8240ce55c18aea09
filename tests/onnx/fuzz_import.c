/* SPDX-License-Identifier: MIT */
/*
 * fuzz_import.c - the libFuzzer entry point for the ONNX importer
 * (nn_model_import_onnx_buffer), also run over the committed corpus
 * (tests/onnx/corpus) by tests/fuzz/replay.c in ctest.
 *
 * Whatever the bytes, the outcome must be one of the documented ones;
 * anything else aborts:
 *   - NN_E_FORMAT with a message of the importer's, and *out NULL;
 *   - NN_E_NOMEM (the fuzzer's allocation limit), *out NULL;
 *   - NN_OK with a model that predicts, takes a training step or refuses
 *     it with a status, and exports to an ONNX file that imports back to
 *     a model predicting the same numbers bit for bit and exporting the
 *     same bytes.
 * The importer must also never allocate more than its budget for the
 * bytes given: the allocator below counts the largest block and the
 * total in use at once, and aborts beyond 64 bytes per byte of input
 * plus 64 MiB (the decoder's allowance is 16 per byte plus 1 MiB; the
 * rest is the model, whose arrays are the file's tensors).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The widest row exercised; this only bounds the test's own buffers. */
#define FUZZ_MAX_WIDTH 4096

static void check(int ok)
{
    if (!ok)
        abort();
}

/* ---- an allocator that holds the importer to the bytes given ---- */

typedef struct tally {
    size_t live, peak, limit;
} tally;

static void *tally_malloc(void *ctx, size_t size)
{
    tally *t = (tally *)ctx;
    size_t *p;
    if (size > t->limit || t->live > t->limit - size)
        abort(); /* more than the bytes justify */
    p = (size_t *)malloc(size + sizeof(size_t) * 2);
    if (!p)
        return NULL;
    p[0] = size;
    t->live += size;
    if (t->live > t->peak)
        t->peak = t->live;
    return p + 2;
}

static void tally_free(void *ctx, void *ptr)
{
    tally *t = (tally *)ctx;
    size_t *p = (size_t *)ptr - 2;
    t->live -= p[0];
    free(p);
}

static void same_predictions(const nn_model *a, const nn_model *b,
                             const float *x, size_t in, size_t out)
{
    float ya[2 * FUZZ_MAX_WIDTH], yb[2 * FUZZ_MAX_WIDTH];
    nn_status sa = nn_model_predict(a, 2, x, in, ya, out);
    nn_status sb = nn_model_predict(b, 2, x, in, yb, out);
    check(sa == NN_OK || sa == NN_E_NOMEM);
    check(sb == NN_OK || sb == NN_E_NOMEM);
    if (sa == NN_OK && sb == NN_OK)
        check(memcmp(ya, yb, 2 * out * sizeof(float)) == 0);
}

static void exercise(nn_model *m)
{
    size_t in = nn_model_input_width(m), out = nn_model_output_width(m);
    size_t size = 0, size2 = 0, i;
    unsigned char *buf, *buf2;
    nn_model *back = NULL, *again = NULL;
    float x[2 * FUZZ_MAX_WIDTH], t[2 * FUZZ_MAX_WIDTH];
    nn_status st;

    check(nn_model_layer_count(m) > 0 && in > 0 && out > 0);
    if (in > FUZZ_MAX_WIDTH || out > FUZZ_MAX_WIDTH)
        return;
    for (i = 0; i < 2 * in; i++)
        x[i] = (float)(i % 5) - 2.0f;

    /* export, import, export: the same model and the same bytes */
    st = nn_model_export_onnx_buffer(m, NULL, 0, &size);
    check(st == NN_E_SHAPE || st == NN_E_NOMEM);
    if (st != NN_E_SHAPE)
        return;
    buf = (unsigned char *)malloc(size);
    check(buf != NULL);
    st = nn_model_export_onnx_buffer(m, buf, size, NULL);
    check(st == NN_OK || st == NN_E_NOMEM);
    if (st == NN_OK)
        st = nn_model_import_onnx_buffer(&back, buf, size);
    check(st == NN_OK || st == NN_E_NOMEM);
    if (st == NN_OK) {
        same_predictions(m, back, x, in, out);
        st = nn_model_export_onnx_buffer(back, NULL, 0, &size2);
        check(st == NN_E_SHAPE || st == NN_E_NOMEM);
        buf2 = st == NN_E_SHAPE ? (unsigned char *)malloc(size2) : NULL;
        if (buf2 &&
            nn_model_export_onnx_buffer(back, buf2, size2, NULL) == NN_OK &&
            nn_model_import_onnx_buffer(&again, buf2, size2) == NN_OK) {
            unsigned char *buf3 = (unsigned char *)malloc(size2);
            size_t size3 = 0;
            check(buf3 != NULL);
            st = nn_model_export_onnx_buffer(again, buf3, size2, &size3);
            check(st == NN_OK || st == NN_E_NOMEM);
            if (st == NN_OK)
                check(size3 == size2 && memcmp(buf2, buf3, size2) == 0);
            free(buf3);
            nn_model_free(again);
        }
        free(buf2);
        nn_model_free(back);
    }
    free(buf);

    /* fine-tuning: a step, or a status saying why not */
    memset(t, 0, 2 * out * sizeof(float));
    check(nn_model_set_loss(m, NN_LOSS_MSE) == NN_OK);
    st = nn_model_train_batch(m, 2, x, in, t, out, NULL);
    check(st == NN_OK || st == NN_E_STATE || st == NN_E_INVALID ||
          st == NN_E_NONFINITE || st == NN_E_NOMEM);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int sentinel;
    nn_model *m = (nn_model *)&sentinel; /* must become NULL on failure */
    tally t;
    nn_status st;
    memset(&t, 0, sizeof t);
    t.limit = 64 * size + ((size_t)64 << 20);
    check(nn_set_allocator(tally_malloc, tally_free, &t) == NN_OK);
    st = nn_model_import_onnx_buffer(&m, data, size);
    if (st == NN_OK) {
        check(m != NULL);
        /* what follows allocates for its own rows, not the importer's */
        t.limit = (size_t)-1 / 2;
        exercise(m);
        nn_model_free(m);
    } else {
        check(m == NULL);
        check(st == NN_E_FORMAT || st == NN_E_NOMEM);
        if (st == NN_E_FORMAT)
            check(strncmp(nn_last_error(), "nn_model_import_onnx_buffer: ",
                          29) == 0);
    }
    check(t.live == 0);
    check(nn_set_allocator(NULL, NULL, NULL) == NN_OK);
    return 0;
}
