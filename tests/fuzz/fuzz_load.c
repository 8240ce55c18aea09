/* SPDX-License-Identifier: MIT */
/*
 * fuzz_load.c - the libFuzzer entry point for the model loader, also run
 * over the committed corpus by replay.c in ctest.
 *
 * Each input is loaded twice: as given, which exercises the header and the
 * checksum, and with its length field and CRC-32 made right, so that the
 * mutations reach the structural checks behind the checksum (a mutated
 * file almost never has a valid CRC by chance). Whatever happens must be
 * one of the documented outcomes; anything else aborts:
 *   - NN_E_FORMAT with a message naming a byte offset, and *out NULL;
 *   - NN_E_NOMEM (the fuzzer's allocation limit), *out NULL;
 *   - NN_OK with a model that predicts, takes a training step or refuses
 *     it with a status, and saves to bytes that load back and save again
 *     to the very same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "nn_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The widest row exercised; loaded models are small (a fuzz input is a
 * few KiB), this only bounds the test's own buffers. */
#define FUZZ_MAX_WIDTH 4096

static void check(int ok)
{
    if (!ok)
        abort();
}

static void exercise(nn_model *m, nn_save_what kind)
{
    size_t in = nn_model_input_width(m), out = nn_model_output_width(m);
    size_t size = 0, size2 = 0, written = 0;
    unsigned char *buf, *buf2;
    nn_model *back = NULL;
    nn_status st;
    double lr;

    check(nn_model_current_lr(m, &lr) == NN_OK);
    (void)nn_model_step_count(m);

    /* save, load, save: the same bytes */
    check(nn_model_save_size(m, kind, &size) == NN_OK);
    buf = (unsigned char *)malloc(size);
    check(buf != NULL);
    check(nn_model_save_buffer(m, kind, buf, size, &written) == NN_OK);
    check(written == size);
    st = nn_model_load_buffer(&back, buf, size);
    check(st == NN_OK || st == NN_E_NOMEM);
    if (st == NN_OK) {
        check(nn_model_save_size(back, kind, &size2) == NN_OK);
        check(size2 == size);
        buf2 = (unsigned char *)malloc(size2);
        check(buf2 != NULL);
        check(nn_model_save_buffer(back, kind, buf2, size2, NULL) == NN_OK);
        check(memcmp(buf, buf2, size) == 0);
        free(buf2);
        nn_model_free(back);
    }
    free(buf);

    /* predict and train one step, when the shapes allow */
    if (nn_model_layer_count(m) > 0 && in <= FUZZ_MAX_WIDTH &&
        out <= FUZZ_MAX_WIDTH) {
        float x[2 * FUZZ_MAX_WIDTH], y[2 * FUZZ_MAX_WIDTH];
        size_t i;
        for (i = 0; i < 2 * in; i++)
            x[i] = (float)(i % 3) - 1.0f;
        st = nn_model_predict(m, 2, x, in, y, out);
        check(st == NN_OK || st == NN_E_NOMEM);
        memset(y, 0, 2 * out * sizeof(float));
        st = nn_model_train_batch(m, 2, x, in, y, out, NULL);
        check(st == NN_OK || st == NN_E_STATE || st == NN_E_INVALID ||
              st == NN_E_NONFINITE || st == NN_E_NOMEM);
        /* an interrupted run from the file: resumed on 2 rows, which is
         * refused unless the run had 2 */
        {
            nn_data *d = NULL;
            if (nn_data_create(&d, 2, x, in, y, out) == NN_OK) {
                st = nn_model_fit_resume(m, d, NULL, NULL, NULL, NULL);
                check(st == NN_OK || st == NN_E_STATE ||
                      st == NN_E_INVALID || st == NN_E_NONFINITE ||
                      st == NN_E_NOMEM);
                nn_data_free(d);
            }
        }
    }
}

static void load_one(const uint8_t *data, size_t size)
{
    static int sentinel;
    nn_model *m = (nn_model *)&sentinel; /* must become NULL on failure */
    nn_status st = nn_model_load_buffer(&m, data, size);
    if (st == NN_OK) {
        check(m != NULL && size >= 16);
        exercise(m, (nn_save_what)data[12]);
        nn_model_free(m);
        return;
    }
    check(m == NULL);
    check(st == NN_E_FORMAT || st == NN_E_NOMEM);
    if (st == NN_E_FORMAT)
        check(strstr(nn_last_error(), ": byte ") != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load_one(data, size);
    if (size >= 28) {
        uint8_t *fixed = (uint8_t *)malloc(size);
        uint32_t crc;
        size_t i;
        check(fixed != NULL);
        memcpy(fixed, data, size);
        for (i = 0; i < 8; i++)
            fixed[16 + i] = (uint8_t)((uint64_t)size >> (8 * i));
        crc = nn__crc32(0, fixed, size - 4);
        for (i = 0; i < 4; i++)
            fixed[size - 4 + i] = (uint8_t)(crc >> (8 * i));
        load_one(fixed, size);
        free(fixed);
    }
    return 0;
}
