/* SPDX-License-Identifier: MIT */
/*
 * test_io.c - model files: the byte layout of docs/FORMAT.md decoded here
 * independently (shifts and a bit-by-bit CRC-32), bit-identical round trips
 * of models and checkpoints, checkpoints resumed in a fresh process (this
 * binary runs itself with --resume) that train exactly like an
 * uninterrupted run for every optimizer, atomic saves with every file
 * operation failed in turn (a table of failing operations passed to
 * nn__model_save_ops; no global hook), a real write failure from the
 * kernel (RLIMIT_FSIZE), and loads of damaged files: truncated at every
 * length, every bit flipped, fields tampered with and the checksum
 * recomputed, absurd sizes refused before any allocation, and every
 * allocation of a load or a save failed in turn.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nn.h"
#include "nn_test.h"
#include "nn_internal.h"
#include "file_faults.h"

/* ======================================================================
 * The layout of docs/FORMAT.md, written down again here
 * ====================================================================== */
enum {
    OFF_VERSION = 8,
    OFF_KIND = 12,
    OFF_LENGTH = 16,
    OFF_INPUT = 24,
    OFF_LAYERS = 32,
    OFF_LOSS = 40,
    OFF_OPT = 44,
    OFF_SCHED = 48,
    OFF_NSETTINGS = 52,
    OFF_SETTINGS = 56,
    /* kind u32, width u64, activation u32, then the layer settings */
    REC_KIND = 0,
    REC_WIDTH = 4,
    REC_ACT = 12,
    REC_SETTINGS = 16
};
/* Settings stored: one per nn_param key, and per nn_layer_param key. */
#define NSETTINGS ((size_t)(NN__PARAM_COUNT - 1))
#define NLAYERSETTINGS ((size_t)(NN__LAYER_PARAM_COUNT - 1))
#define LAYER_RECORD (16 + 8 * NLAYERSETTINGS)
#define OFF_NLAYERSET (OFF_SETTINGS + 8 * NSETTINGS)
#define OFF_LAYER(l) (OFF_NLAYERSET + 4 + (size_t)(l) * LAYER_RECORD)
/* After L layer records: the class weight count (u64), the weights, the
 * metadata count (u32) and entries, then the parameters. Without class
 * weights or metadata, the parameters start 12 bytes after the records. */
#define OFF_PARAMS_PLAIN(L) (OFF_LAYER(L) + 8 + 4)
/* The size of a model file with L layers, N parameters and B buffer
 * values, without class weights or metadata; a checkpoint adds the
 * generator, step count, seed, state count and run flag, and S arrays. */
#define MODEL_SIZE(L, N, B) \
    (24 + 32 + 8 * NSETTINGS + 4 + (L) * LAYER_RECORD + 8 + 4 + 4 * (N) + \
     4 * (B) + 4)
#define CHECKPOINT_EXTRA(N, S) (32 + 8 + 8 + 4 + 4 * (N) * (S) + 4)

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    int i;
    for (i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void set_le(unsigned char *p, uint64_t v, int n)
{
    int i;
    for (i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t bits32(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static uint64_t bits64(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

/* CRC-32 bit by bit, the textbook way: independent of crc32.c's table. */
static uint32_t crc_ref(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++)
            c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

/* After tampering: the checksum made right again, so that the loader's
 * structural checks, not the CRC, must catch the change. */
static void fix_crc(unsigned char *buf, size_t size)
{
    set_le(buf + size - 4, crc_ref(buf, size - 4), 4);
}

/* ======================================================================
 * Allocator, files, models
 * ====================================================================== */
static counter ctr;

/* Starts counting allocations afresh; blocks already live stay counted. */
static void counting(void)
{
    ctr.allocs = 0;
    ctr.largest = 0;
}

static int setup(void **state)
{
    (void)state;
    memset(&ctr, 0, sizeof ctr);
    strcpy(tmpdir, "/tmp/nn_test_io_XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    return nn_set_allocator(count_malloc, count_free, &ctr) == NN_OK ? 0
                                                                     : -1;
}

/* Removes what a test left in tmpdir (one level of subdirectories). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        struct stat sb;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            chmod(p, 0700);
            remove_tree(p);
        } else {
            unlink(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

static int teardown(void **state)
{
    (void)state;
    remove_tree(tmpdir);
    assert_int_equal(ctr.live, 0);
    return nn_set_allocator(NULL, NULL, NULL) == NN_OK ? 0 : -1;
}

/* Entries of tmpdir (without . and ..); *tmp_seen is set if any is a
 * leftover temporary file. */
static int dir_entries(const char *dir, int *tmp_seen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    *tmp_seen = 0;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        n++;
        if (strstr(e->d_name, ".tmp"))
            *tmp_seen = 1;
    }
    closedir(d);
    return n;
}

/* The file at path holds exactly the size bytes of want. */
static void assert_file_holds(const char *path, const void *want,
                              size_t size)
{
    size_t len;
    unsigned char *got = read_all(path, &len);
    assert_int_equal(len, size);
    assert_memory_equal(got, want, size);
    free(got);
}

/* The test directory holds one file, not a temporary one: a save left no
 * temporary file behind. */
static void assert_no_temporary_left(void)
{
    int tmp_seen;
    assert_int_equal(dir_entries(tmpdir, &tmp_seen), 1);
    assert_false(tmp_seen);
}

/* The message of the last failure contains want. */
static void expect_message(const char *want)
{
    if (!strstr(nn_last_error(), want))
        fail_msg("message \"%s\" lacks \"%s\"", nn_last_error(), want);
}

/* st is NN_E_FORMAT, *m was set to NULL and the message contains at. */
static void expect_format(nn_status st, nn_model **m, const char *at)
{
    if (st != NN_E_FORMAT)
        fail_msg("status %d (%s), expected NN_E_FORMAT; message: %s",
                 (int)st, nn_status_string(st), nn_last_error());
    assert_null(*m);
    expect_message(at);
}

static void fill(float *x, size_t len, float scale, unsigned salt)
{
    size_t i;
    for (i = 0; i < len; i++)
        x[i] = scale * ((float)((i * 37 + salt * 11 + 5) % 29) / 29.0f -
                        0.5f);
}

/* 3 -> 5 leaky relu (slope 0.2) -> 4 sigmoid -> 3 tanh -> 3 softmax, cross
 * entropy, Adam, cosine schedule, and settings away from their defaults. */
static nn_model *rich_model(uint64_t seed)
{
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(&m, 3, seed), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 5, NN_ACT_LEAKY_RELU), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 4, NN_ACT_SIGMOID), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 3, NN_ACT_TANH), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 3, NN_ACT_SOFTMAX), NN_OK);
    assert_int_equal(nn_model_set_layer_param(m, 0, NN_LAYER_LEAKY_SLOPE,
                                              0.2), NN_OK);
    assert_int_equal(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY), NN_OK);
    assert_int_equal(nn_model_set_optimizer(m, NN_OPT_ADAM), NN_OK);
    assert_int_equal(nn_model_set_schedule(m, NN_SCHED_COSINE), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_LEARNING_RATE,
                                        0.0123456789), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_WEIGHT_DECAY, 1e-4),
                     NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_BETA2, 0.995), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_SCHED_T_MAX, 77), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_EPOCHS, 7), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_BATCH_SIZE, 5), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_WARMUP_STEPS, 3), NN_OK);
    return m;
}

/* 2 -> 3 tanh -> 1 sigmoid, binary cross-entropy: a small file. */
static nn_model *tiny_model(uint64_t seed)
{
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(&m, 2, seed), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 3, NN_ACT_TANH), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 1, NN_ACT_SIGMOID), NN_OK);
    assert_int_equal(nn_model_set_loss(m, NN_LOSS_BCE), NN_OK);
    return m;
}

/* A few steps of training, so that a checkpoint has optimizer state. */
static void train_tiny(nn_model *m, int steps)
{
    float x[8 * 2], t[8];
    double loss;
    int i;
    fill(x, 16, 2.0f, 1);
    for (i = 0; i < 8; i++)
        t[i] = (float)(i % 2);
    for (i = 0; i < steps; i++)
        assert_int_equal(nn_model_train_batch(m, 8, x, 2, t, 1, &loss),
                         NN_OK);
}

static unsigned char *save_to_memory(const nn_model *m, nn_save_what what,
                                     size_t *size)
{
    unsigned char *buf;
    size_t written = 0;
    assert_int_equal(nn_model_save_size(m, what, size), NN_OK);
    buf = (unsigned char *)malloc(*size);
    assert_non_null(buf);
    assert_int_equal(nn_model_save_buffer(m, what, buf, *size, &written),
                     NN_OK);
    assert_int_equal(written, *size);
    return buf;
}

/* Every layer, weight, bias, buffer, setting, class weight and metadata
 * entry of a and b, bit for bit. */
static void assert_same_model(nn_model *a, nn_model *b)
{
    size_t na = 0, nb = 0, l, i;
    int k;
    assert_int_equal(nn_model_input_width(a), nn_model_input_width(b));
    assert_int_equal(nn_model_layer_count(a), nn_model_layer_count(b));
    assert_int_equal(nn_model_loss(a), nn_model_loss(b));
    assert_int_equal(nn_model_optimizer(a), nn_model_optimizer(b));
    assert_int_equal(nn_model_schedule(a), nn_model_schedule(b));
    for (l = 0; l < nn_model_layer_count(a); l++) {
        size_t nbuf = nn_model_layer_buffer_count(a, l);
        assert_int_equal(nn_model_layer_kind(a, l), nn_model_layer_kind(b, l));
        assert_int_equal(nn_model_layer_activation(a, l),
                         nn_model_layer_activation(b, l));
        assert_int_equal(nn_model_layer_width(a, l),
                         nn_model_layer_width(b, l));
        for (k = 1; nn_layer_param_name((nn_layer_param)k); k++) {
            double sa = -1.0, sb = -2.0;
            nn_status st = nn_model_get_layer_param(a, l, (nn_layer_param)k,
                                                    &sa);
            assert_int_equal(nn_model_get_layer_param(b, l, (nn_layer_param)k,
                                                      &sb), st);
            if (st == NN_OK)
                assert_memory_equal(&sa, &sb, sizeof sa);
        }
        assert_int_equal(nbuf, nn_model_layer_buffer_count(b, l));
        if (nbuf) {
            float *ba = (float *)malloc(nbuf * sizeof(float));
            float *bb = (float *)malloc(nbuf * sizeof(float));
            assert_non_null(ba);
            assert_non_null(bb);
            assert_int_equal(nn_model_get_layer_buffers(a, l, ba, nbuf),
                             NN_OK);
            assert_int_equal(nn_model_get_layer_buffers(b, l, bb, nbuf),
                             NN_OK);
            assert_memory_equal(ba, bb, nbuf * sizeof(float));
            free(ba);
            free(bb);
        }
    }
    assert_int_equal(nn_model_class_weight_count(a),
                     nn_model_class_weight_count(b));
    if (nn_model_class_weight_count(a)) {
        float wa[16], wb[16];
        size_t c = nn_model_class_weight_count(a);
        assert_true(c <= 16);
        assert_int_equal(nn_model_get_class_weights(a, wa, c), NN_OK);
        assert_int_equal(nn_model_get_class_weights(b, wb, c), NN_OK);
        assert_memory_equal(wa, wb, c * sizeof(float));
    }
    assert_int_equal(nn_model_meta_count(a), nn_model_meta_count(b));
    for (i = 0; i < nn_model_meta_count(a); i++) {
        assert_string_equal(nn_model_meta_key(a, i), nn_model_meta_key(b, i));
        assert_string_equal(nn_model_get_meta(a, nn_model_meta_key(a, i)),
                            nn_model_get_meta(b, nn_model_meta_key(b, i)));
    }
    (void)nn_model_params(a, &na);
    (void)nn_model_params(b, &nb);
    assert_int_equal(na, nb);
    if (na)
        assert_memory_equal(nn_model_params(a, NULL), nn_model_params(b, NULL),
                            na * sizeof(float));
    for (k = 1; k < NN__PARAM_COUNT; k++) {
        double va, vb;
        assert_int_equal(nn_model_get_param(a, (nn_param)k, &va), NN_OK);
        assert_int_equal(nn_model_get_param(b, (nn_param)k, &vb), NN_OK);
        assert_memory_equal(&va, &vb, sizeof va);
    }
}

/* scaling -> dense gelu -> batchnorm -> dropout -> layernorm -> elu ->
 * dense softmax, with settings away from their defaults, class weights,
 * metadata, AdamW with AMSGrad: every kind and section of a file. */
static nn_model *every_kind_model(uint64_t seed)
{
    nn_model *m = NULL;
    const float sc[4] = {0.5f, 2.0f, 1.0f, -1.0f};
    const float sh[4] = {0.25f, 0.0f, -1.0f, 3.0f};
    const float cw[3] = {1.0f, 0.5f, 2.0f};
    assert_int_equal(nn_model_create(&m, 4, seed), NN_OK);
    assert_int_equal(nn_model_add_scaling(m, sc, sh, 4), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 6, NN_ACT_GELU), NN_OK);
    assert_int_equal(nn_model_set_layer_param(m, 1, NN_LAYER_INIT,
                                              NN_INIT_HE_NORMAL), NN_OK);
    assert_int_equal(nn_model_add_batchnorm(m), NN_OK);
    assert_int_equal(nn_model_set_layer_param(m, 2, NN_LAYER_MOMENTUM, 0.25),
                     NN_OK);
    assert_int_equal(nn_model_set_layer_param(m, 2, NN_LAYER_EPSILON, 1e-3),
                     NN_OK);
    assert_int_equal(nn_model_add_dropout(m, 0.375), NN_OK);
    assert_int_equal(nn_model_add_layernorm(m), NN_OK);
    assert_int_equal(nn_model_set_layer_param(m, 4, NN_LAYER_EPSILON, 1e-4),
                     NN_OK);
    assert_int_equal(nn_model_add_activation(m, NN_ACT_ELU), NN_OK);
    assert_int_equal(nn_model_set_layer_param(m, 5, NN_LAYER_ELU_ALPHA, 0.3),
                     NN_OK);
    assert_int_equal(nn_model_add_dense(m, 3, NN_ACT_SOFTMAX), NN_OK);
    assert_int_equal(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY), NN_OK);
    assert_int_equal(nn_model_set_class_weights(m, cw, 3), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_LABEL_SMOOTHING, 0.1),
                     NN_OK);
    assert_int_equal(nn_model_set_optimizer(m, NN_OPT_ADAMW), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_AMSGRAD, 1), NN_OK);
    assert_int_equal(nn_model_set_meta(m, "classes", "cat\ndog\nemu"),
                     NN_OK);
    assert_int_equal(nn_model_set_meta(m, "columns", ""), NN_OK);
    return m;
}

static void train_every_kind(nn_model *m, int steps, unsigned salt)
{
    float x[8 * 4];
    int32_t y[8];
    int i;
    fill(x, 32, 3.0f, salt);
    for (i = 0; i < 8; i++)
        y[i] = i % 3;
    for (i = 0; i < steps; i++)
        assert_int_equal(nn_model_train_batch_labels(m, 8, x, 4, y, NULL),
                         NN_OK);
}

/* ======================================================================
 * The checksum and the layout
 * ====================================================================== */

static void crc32_gives_the_standard_check_value_and_chains(void **state)
{
    static const char check[] = "123456789";
    unsigned char buf[1000];
    size_t i;
    (void)state;
    /* The catalogued check value of CRC-32/ISO-HDLC. */
    assert_int_equal(nn__crc32(0, check, 9), 0xCBF43926u);
    assert_int_equal(crc_ref((const unsigned char *)check, 9), 0xCBF43926u);
    assert_int_equal(nn__crc32(0, "", 0), 0);
    for (i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 131 + (i >> 3));
    assert_int_equal(nn__crc32(0, buf, sizeof buf), crc_ref(buf, sizeof buf));
    assert_int_equal(nn__crc32(nn__crc32(0, buf, 333), buf + 333, 667),
                     crc_ref(buf, sizeof buf));
}

static void file_layout_matches_the_documented_offsets(void **state)
{
    nn_model *m = rich_model(11);
    size_t size, l, n = 0, off, expect;
    unsigned char *f = save_to_memory(m, NN_SAVE_MODEL, &size);
    const float *p = nn_model_params(m, &n);
    double lr;
    (void)state;

    /* header */
    assert_memory_equal(f, "\x89NNM\r\n\x1a\n", 8);
    assert_int_equal(get_le(f + OFF_VERSION, 4), 2);
    assert_int_equal(get_le(f + OFF_KIND, 4), NN_SAVE_MODEL);
    assert_int_equal(get_le(f + OFF_LENGTH, 8), size);
    /* architecture, ids, settings */
    assert_int_equal(get_le(f + OFF_INPUT, 8), 3);
    assert_int_equal(get_le(f + OFF_LAYERS, 8), 4);
    assert_int_equal(get_le(f + OFF_LOSS, 4), NN_LOSS_CROSS_ENTROPY);
    assert_int_equal(get_le(f + OFF_OPT, 4), NN_OPT_ADAM);
    assert_int_equal(get_le(f + OFF_SCHED, 4), NN_SCHED_COSINE);
    assert_int_equal(get_le(f + OFF_NSETTINGS, 4), NSETTINGS);
    assert_int_equal(nn_model_get_param(m, NN_PARAM_LEARNING_RATE, &lr),
                     NN_OK);
    assert_int_equal(get_le(f + OFF_SETTINGS, 8), bits64(lr));
    assert_int_equal(get_le(f + OFF_SETTINGS + 8 * (NN_PARAM_EPOCHS - 1), 8),
                     bits64(7.0));
    assert_int_equal(get_le(f + OFF_NLAYERSET, 4), NLAYERSETTINGS);
    {
        static const uint64_t widths[4] = {5, 4, 3, 3};
        static const uint32_t acts[4] = {NN_ACT_LEAKY_RELU, NN_ACT_SIGMOID,
                                         NN_ACT_TANH, NN_ACT_SOFTMAX};
        for (l = 0; l < 4; l++) {
            const unsigned char *r = f + OFF_LAYER(l);
            assert_int_equal(get_le(r + REC_KIND, 4), NN_KIND_DENSE);
            assert_int_equal(get_le(r + REC_WIDTH, 8), widths[l]);
            assert_int_equal(get_le(r + REC_ACT, 4), acts[l]);
            /* settings by key: the slope, then the others' defaults */
            assert_int_equal(get_le(r + REC_SETTINGS, 8),
                             bits64(l == 0 ? (double)0.2f : (double)0.01f));
            assert_int_equal(get_le(r + REC_SETTINGS + 8, 8), bits64(1.0));
            assert_int_equal(get_le(r + REC_SETTINGS + 16, 8),
                             bits64((double)NN_INIT_AUTO));
            assert_int_equal(get_le(r + REC_SETTINGS + 40, 8), bits64(1e-5));
        }
    }
    /* no class weights, no metadata */
    off = OFF_LAYER(4);
    assert_int_equal(get_le(f + off, 8), 0);
    assert_int_equal(get_le(f + off + 8, 4), 0);
    /* parameters: every float, little-endian, in nn_model_params order */
    off = OFF_PARAMS_PLAIN(4);
    assert_int_equal(n, 3 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3 + 3 * 3 + 3);
    for (l = 0; l < n; l++)
        assert_int_equal(get_le(f + off + 4 * l, 4), bits32(p[l]));
    off += 4 * n;
    /* no buffers; the checksum, and nothing else */
    assert_int_equal(off + 4, size);
    assert_int_equal(get_le(f + off, 4), crc_ref(f, off));
    expect = MODEL_SIZE(4, n, 0);
    assert_int_equal(size, expect);

    free(f);
    nn_model_free(m);
}

static void checkpoint_layout_appends_generator_steps_and_state(void **state)
{
    nn_model *m = tiny_model(3);
    size_t size, n = 0, off, i;
    unsigned char *f;
    (void)state;
    assert_int_equal(nn_model_set_optimizer(m, NN_OPT_ADAM), NN_OK);
    train_tiny(m, 3);
    f = save_to_memory(m, NN_SAVE_CHECKPOINT, &size);
    (void)nn_model_params(m, &n);
    assert_int_equal(get_le(f + OFF_KIND, 4), NN_SAVE_CHECKPOINT);
    off = OFF_PARAMS_PLAIN(2) + 4 * n;
    for (i = 0; i < 4; i++)
        assert_int_equal(get_le(f + off + 8 * i, 8), m->rng.s[i]);
    assert_int_equal(get_le(f + off + 32, 8), 3);  /* steps */
    assert_int_equal(get_le(f + off + 40, 8), 3);  /* the seed */
    assert_int_equal(get_le(f + off + 48, 4), 2);  /* Adam: m and v */
    off += 52;
    for (i = 0; i < n; i++) {
        assert_int_equal(get_le(f + off + 4 * i, 4), bits32(m->state[0][i]));
        assert_int_equal(get_le(f + off + 4 * (n + i), 4),
                         bits32(m->state[1][i]));
    }
    off += 8 * n;
    assert_int_equal(get_le(f + off, 4), 0); /* no interrupted run */
    assert_int_equal(off + 4 + 4, size);
    assert_int_equal(get_le(f + size - 4, 4), crc_ref(f, size - 4));
    free(f);
    nn_model_free(m);
}

/* ======================================================================
 * Round trips
 * ====================================================================== */

static void model_file_round_trip_is_bit_identical(void **state)
{
    nn_model *m = rich_model(5), *back = NULL;
    float x[6 * 3], ya[6 * 3], yb[6 * 3];
    size_t size, size2;
    unsigned char *f, *f2;
    (void)state;
    /* trained a little, so the weights are not the initial ones */
    {
        int32_t labels[6] = {0, 1, 2, 2, 1, 0};
        double loss;
        fill(x, 18, 3.0f, 2);
        assert_int_equal(nn_model_train_batch_labels(m, 6, x, 3, labels,
                                                     &loss), NN_OK);
    }
    f = save_to_memory(m, NN_SAVE_MODEL, &size);
    assert_int_equal(nn_model_load_buffer(&back, f, size), NN_OK);
    assert_same_model(m, back);
    assert_int_equal(nn_model_predict(m, 6, x, 3, ya, 3), NN_OK);
    assert_int_equal(nn_model_predict(back, 6, x, 3, yb, 3), NN_OK);
    assert_memory_equal(ya, yb, sizeof ya);
    /* a model file starts the optimizer afresh */
    assert_int_equal(nn_model_step_count(back), 0);
    /* and saving what was loaded gives the same bytes */
    f2 = save_to_memory(back, NN_SAVE_MODEL, &size2);
    assert_int_equal(size2, size);
    assert_memory_equal(f, f2, size);
    free(f);
    free(f2);
    nn_model_free(m);
    nn_model_free(back);
}

static void every_activation_loss_and_depth_round_trips(void **state)
{
    static const nn_activation acts[] = {
        NN_ACT_IDENTITY, NN_ACT_SIGMOID, NN_ACT_TANH, NN_ACT_RELU,
        NN_ACT_LEAKY_RELU};
    static const nn_loss losses[] = {NN_LOSS_MSE, NN_LOSS_BCE,
                                     NN_LOSS_CROSS_ENTROPY};
    size_t a, lo, depth;
    (void)state;
    for (depth = 1; depth <= 3; depth++)
        for (a = 0; a < 5; a++)
            for (lo = 0; lo < 3; lo++) {
                nn_model *m = NULL, *back = NULL;
                float x[4 * 7], ya[4 * 6], yb[4 * 6];
                size_t size, d, out = 1 + (a + depth) % 6;
                unsigned char *f;
                assert_int_equal(nn_model_create(&m, 7, depth * 100 + a),
                                 NN_OK);
                for (d = 0; d < depth; d++) {
                    nn_activation act =
                        d + 1 == depth && losses[lo] == NN_LOSS_CROSS_ENTROPY
                            ? NN_ACT_SOFTMAX
                            : acts[(a + d) % 5];
                    assert_int_equal(
                        nn_model_add_dense(m, d + 1 == depth ? out : 2 + d,
                                           act), NN_OK);
                    assert_int_equal(nn_model_set_layer_param(
                                         m, d, NN_LAYER_LEAKY_SLOPE,
                                         0.03 * (double)(d + a + 1)), NN_OK);
                }
                assert_int_equal(nn_model_set_loss(m, losses[lo]), NN_OK);
                f = save_to_memory(m, NN_SAVE_MODEL, &size);
                assert_int_equal(nn_model_load_buffer(&back, f, size), NN_OK);
                assert_same_model(m, back);
                assert_int_equal(get_le(f + OFF_LOSS, 4), losses[lo]);
                fill(x, 28, 2.0f, (unsigned)a);
                assert_int_equal(nn_model_predict(m, 4, x, 7, ya, out), NN_OK);
                assert_int_equal(nn_model_predict(back, 4, x, 7, yb, out),
                                 NN_OK);
                assert_memory_equal(ya, yb, 4 * out * sizeof(float));
                free(f);
                nn_model_free(m);
                nn_model_free(back);
            }
}

static void models_without_layers_or_loss_round_trip(void **state)
{
    nn_model *m = NULL, *back = NULL;
    size_t size, n = 99;
    unsigned char *f;
    (void)state;
    assert_int_equal(nn_model_create(&m, 9, 1), NN_OK);
    f = save_to_memory(m, NN_SAVE_CHECKPOINT, &size);
    assert_int_equal(nn_model_load_buffer(&back, f, size), NN_OK);
    assert_int_equal(nn_model_input_width(back), 9);
    assert_int_equal(nn_model_layer_count(back), 0);
    assert_null(nn_model_params(back, &n));
    assert_int_equal(n, 0);
    assert_int_equal(get_le(f + OFF_LOSS, 4), 0);
    free(f);
    nn_model_free(back);
    back = NULL;
    /* layers, no loss: loads, and training says what is missing */
    assert_int_equal(nn_model_add_dense(m, 2, NN_ACT_RELU), NN_OK);
    f = save_to_memory(m, NN_SAVE_MODEL, &size);
    assert_int_equal(nn_model_load_buffer(&back, f, size), NN_OK);
    assert_same_model(m, back);
    {
        float x[9] = {0}, t[2] = {0};
        assert_int_equal(nn_model_train_batch(back, 1, x, 9, t, 2, NULL),
                         NN_E_STATE);
    }
    free(f);
    nn_model_free(m);
    nn_model_free(back);
}

static void checkpoint_round_trip_keeps_optimizer_state_steps_and_generator(
    void **state)
{
    nn_model *m = rich_model(21), *back = NULL;
    float x[20 * 3];
    int32_t labels[20];
    nn_data *d = NULL;
    size_t size, n = 0, i;
    unsigned char *f;
    double lr_a, lr_b;
    (void)state;
    fill(x, 60, 2.5f, 3);
    for (i = 0; i < 20; i++)
        labels[i] = (int32_t)(i % 3);
    assert_int_equal(nn_data_create_labels(&d, 20, x, 3, labels), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_EPOCHS, 2), NN_OK);
    assert_int_equal(nn_model_fit(m, d, NULL, NULL, NULL, NULL), NN_OK);
    f = save_to_memory(m, NN_SAVE_CHECKPOINT, &size);
    assert_int_equal(nn_model_load_buffer(&back, f, size), NN_OK);
    assert_same_model(m, back);
    (void)nn_model_params(m, &n);
    assert_int_equal(nn_model_step_count(back), nn_model_step_count(m));
    assert_int_equal(nn_model_step_count(m), 8); /* 2 epochs of 4 batches */
    assert_memory_equal(back->rng.s, m->rng.s, sizeof m->rng.s);
    assert_memory_equal(back->state[0], m->state[0], n * sizeof(float));
    assert_memory_equal(back->state[1], m->state[1], n * sizeof(float));
    assert_int_equal(nn_model_current_lr(m, &lr_a), NN_OK);
    assert_int_equal(nn_model_current_lr(back, &lr_b), NN_OK);
    assert_memory_equal(&lr_a, &lr_b, sizeof lr_a);
    /* both go on identically, shuffling included */
    assert_int_equal(nn_model_fit(m, d, NULL, NULL, NULL, NULL), NN_OK);
    assert_int_equal(nn_model_fit(back, d, NULL, NULL, NULL, NULL), NN_OK);
    assert_same_model(m, back);
    assert_memory_equal(back->state[1], m->state[1], n * sizeof(float));
    free(f);
    nn_data_free(d);
    nn_model_free(m);
    nn_model_free(back);
}

static void model_file_loads_with_the_generator_of_seed_zero(void **state)
{
    nn_model *m = tiny_model(77), *back = NULL, *ref = NULL;
    size_t size, n = 0, nr = 0, i;
    unsigned char *f;
    float *g;
    (void)state;
    train_tiny(m, 2);
    f = save_to_memory(m, NN_SAVE_MODEL, &size);
    assert_int_equal(nn_model_load_buffer(&back, f, size), NN_OK);
    g = nn_model_grads(back, &n);
    for (i = 0; i < n; i++)
        assert_true(g[i] == 0.0f);
    /* a layer added now draws what a fresh seed-0 model would draw */
    assert_int_equal(nn_model_create(&ref, 1, 0), NN_OK);
    assert_int_equal(nn_model_add_dense(back, 4, NN_ACT_TANH), NN_OK);
    assert_int_equal(nn_model_add_dense(ref, 4, NN_ACT_TANH), NN_OK);
    (void)nn_model_params(ref, &nr);
    (void)nn_model_params(back, &n);
    assert_int_equal(nr, 8);
    assert_memory_equal(nn_model_params(back, NULL) + (n - nr),
                        nn_model_params(ref, NULL), nr * sizeof(float));
    free(f);
    nn_model_free(m);
    nn_model_free(back);
    nn_model_free(ref);
}

static void a_file_with_fewer_settings_loads_the_rest_as_defaults(
    void **state)
{
    /* As a file from an older libnn that knew fewer settings would be. */
    nn_model *m = tiny_model(8), *back = NULL;
    size_t size, keep = 4, drop, i;
    unsigned char *f, *g;
    double v, def;
    (void)state;
    assert_int_equal(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, 0.5),
                     NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_PATIENCE, 4), NN_OK);
    f = save_to_memory(m, NN_SAVE_MODEL, &size);
    drop = 8 * (NSETTINGS - keep);
    g = (unsigned char *)malloc(size);
    assert_non_null(g);
    memcpy(g, f, OFF_SETTINGS + 8 * keep);
    memcpy(g + OFF_SETTINGS + 8 * keep, f + OFF_NLAYERSET,
           size - OFF_NLAYERSET);
    set_le(g + OFF_NSETTINGS, keep, 4);
    set_le(g + OFF_LENGTH, size - drop, 8);
    fix_crc(g, size - drop);
    assert_int_equal(nn_model_load_buffer(&back, g, size - drop), NN_OK);
    assert_int_equal(nn_model_get_param(back, NN_PARAM_LEARNING_RATE, &v),
                     NN_OK);
    assert_true(v == 0.5);
    for (i = keep + 1; i < NN__PARAM_COUNT; i++) {
        assert_int_equal(nn_model_get_param(back, (nn_param)i, &v), NN_OK);
        assert_int_equal(nn_param_bounds((nn_param)i, NULL, NULL, &def),
                         NN_OK);
        assert_true(v == def);
    }
    assert_memory_equal(nn_model_params(back, NULL), nn_model_params(m, NULL),
                        13 * sizeof(float));
    free(f);
    free(g);
    nn_model_free(m);
    nn_model_free(back);
}

/* Every kind, setting, buffer, class weight and metadata entry comes back
 * bit for bit, from a model file and from a checkpoint; the checkpoint goes
 * on training (dropout's masks, batch normalization's statistics, AMSGrad's
 * three arrays) exactly as the saved model does. */
static void every_kind_round_trips_and_a_checkpoint_trains_on_alike(
    void **state)
{
    nn_model *m = every_kind_model(21), *back = NULL;
    size_t size, n = 0, i;
    unsigned char *f;
    float x[5 * 4], ya[5 * 3], yb[5 * 3];
    (void)state;
    train_every_kind(m, 3, 1);
    fill(x, 20, 2.0f, 9);
    for (i = 0; i < 2; i++) {
        nn_save_what what = i ? NN_SAVE_CHECKPOINT : NN_SAVE_MODEL;
        f = save_to_memory(m, what, &size);
        assert_int_equal(nn_model_load_buffer(&back, f, size), NN_OK);
        assert_same_model(m, back);
        assert_int_equal(nn_model_predict(m, 5, x, 4, ya, 3), NN_OK);
        assert_int_equal(nn_model_predict(back, 5, x, 4, yb, 3), NN_OK);
        assert_memory_equal(ya, yb, sizeof ya);
        if (what == NN_SAVE_CHECKPOINT) {
            size_t a;
            assert_int_equal(nn_model_step_count(back), 3);
            assert_memory_equal(back->rng.s, m->rng.s, sizeof m->rng.s);
            assert_true(back->seed == 21);
            (void)nn_model_params(m, &n);
            for (a = 0; a < 3; a++) {
                assert_non_null(back->state[a]);
                assert_memory_equal(back->state[a], m->state[a],
                                    n * sizeof(float));
            }
            train_every_kind(m, 4, 2);
            train_every_kind(back, 4, 2);
            assert_same_model(m, back);
        } else {
            assert_int_equal(nn_model_step_count(back), 0);
            assert_true(back->seed == 0);
        }
        free(f);
        nn_model_free(back);
        back = NULL;
    }
    nn_model_free(m);
}

/* A step that is refused changes nothing a checkpoint holds: not the
 * optimizer state it would have allocated on the first step, nor a third
 * array AMSGrad would add mid-run; nor does a fit that fails at its first
 * step. */
static void rejected_steps_leave_the_checkpoint_byte_for_byte(void **state)
{
    static const nn_optimizer opts[] = {NN_OPT_SGD, NN_OPT_ADAM,
                                        NN_OPT_ADAMW, NN_OPT_RMSPROP};
    size_t o;
    (void)state;
    for (o = 0; o < ARRAY_LEN(opts); o++) {
        nn_model *m = tiny_model(8);
        float x[2 * 2] = {1.0f, NAN, 0.5f, 0.25f}, t[2] = {1.0f, 0.0f};
        size_t s0, s1;
        unsigned char *before, *after;
        nn_data *d = NULL;
        assert_int_equal(nn_model_set_optimizer(m, opts[o]), NN_OK);
        assert_int_equal(nn_model_set_param(m, NN_PARAM_MOMENTUM, 0.5),
                         NN_OK);
        before = save_to_memory(m, NN_SAVE_CHECKPOINT, &s0);
        assert_int_equal(nn_model_train_batch(m, 2, x, 2, t, 1, NULL),
                         NN_E_NONFINITE);
        after = save_to_memory(m, NN_SAVE_CHECKPOINT, &s1);
        assert_int_equal(s0, s1);
        assert_memory_equal(before, after, s0);
        free(after);
        assert_int_equal(nn_data_create(&d, 2, x, 2, t, 1), NN_OK);
        assert_int_equal(nn_model_fit(m, d, NULL, NULL, NULL, NULL),
                         NN_E_NONFINITE);
        after = save_to_memory(m, NN_SAVE_CHECKPOINT, &s1);
        assert_int_equal(s0, s1);
        assert_memory_equal(before, after, s0);
        free(after);
        free(before);
        /* after a good step, a rejected one that would add a state array */
        x[1] = 0.75f;
        train_tiny(m, 1);
        assert_int_equal(nn_model_set_param(m, opts[o] == NN_OPT_RMSPROP
                                                   ? NN_PARAM_CENTERED
                                                   : NN_PARAM_AMSGRAD, 1),
                         NN_OK);
        before = save_to_memory(m, NN_SAVE_CHECKPOINT, &s0);
        x[1] = INFINITY;
        assert_int_equal(nn_model_train_batch(m, 2, x, 2, t, 1, NULL),
                         NN_E_NONFINITE);
        after = save_to_memory(m, NN_SAVE_CHECKPOINT, &s1);
        assert_int_equal(s0, s1);
        assert_memory_equal(before, after, s0);
        free(before);
        free(after);
        nn_data_free(d);
        nn_model_free(m);
    }
}

/* What the format adds in version 2, tampered with and the checksum fixed:
 * each refused where it lies. */
static void version_2_sections_tampered_with_are_caught_where_they_are(
    void **state)
{
    nn_model *m = every_kind_model(22);
    size_t size, cw_off, meta_off, e1, params_off, n = 0, buf_off, i;
    unsigned char *f, *g;
    struct {
        const char *what;
        size_t off;    /* where the message must say the fault lies */
        size_t at;     /* where the bytes change */
        int bytes;     /* how many (0: the 7 bytes of "classes") */
        uint64_t value;
        const char *message;
    } cases[9];
    (void)state;
    train_every_kind(m, 2, 3);
    f = save_to_memory(m, NN_SAVE_MODEL, &size);
    g = (unsigned char *)malloc(size);
    assert_non_null(g);
    (void)nn_model_params(m, &n);
    /* after the 7 layer records: the class weight count and 3 weights,
     * the metadata count and two entries ("classes" = "cat\ndog\nemu",
     * "columns" = ""), the parameters, then the buffers (scaling's 8,
     * batchnorm's 12) and the checksum */
    cw_off = OFF_LAYER(7);
    meta_off = cw_off + 8 + 4 * 3;
    e1 = meta_off + 4 + (4 + 7 + 4 + 11);
    params_off = e1 + (4 + 7 + 4 + 0);
    buf_off = params_off + 4 * n;
    assert_int_equal(get_le(f + cw_off, 8), 3);
    assert_int_equal(get_le(f + meta_off, 4), 2);
    assert_memory_equal(f + meta_off + 8, "classes", 7);
    assert_memory_equal(f + e1 + 4, "columns", 7);
    assert_int_equal(size, buf_off + 4 * (8 + 12) + 4);
    {
        const size_t width6 = OFF_LAYER(3) + REC_WIDTH;
        const size_t act2 = OFF_LAYER(2) + REC_ACT;
        const size_t rate3 = OFF_LAYER(3) + REC_SETTINGS + 24;
        const size_t var7 = buf_off + 4 * (8 + 6 + 1);
        i = 0;
#define CASE(w, o, a, b, v, msg)                                             \
        do {                                                                 \
            cases[i].what = (w);                                             \
            cases[i].off = (o);                                              \
            cases[i].at = (a);                                               \
            cases[i].bytes = (b);                                            \
            cases[i].value = (v);                                            \
            cases[i].message = (msg);                                        \
            i++;                                                             \
        } while (0)
        CASE("dropout of another width", width6, width6, 8, 5,
             "a dropout layer keeps its input's width, 6");
        CASE("batchnorm with an activation", act2, act2, 4, NN_ACT_RELU,
             "a batchnorm layer has none");
        CASE("dropout rate 1", rate3, rate3, 8, bits64(1.0),
             "dropout_rate) is 1, outside its bounds");
        CASE("negative class weight", cw_off + 8 + 4, cw_off + 8 + 4, 4,
             bits32(-1.0f), "class weight 1 is -1");
        CASE("empty metadata key", meta_off + 4, meta_off + 4, 4, 0,
             "metadata entry 0's key is 0 bytes long");
        CASE("zero byte in metadata", meta_off + 8, meta_off + 10, 1, 0,
             "metadata entry 0's key holds a zero byte");
        CASE("repeated metadata key", e1, e1 + 4, 0, 0,
             "metadata entry 1 repeats the key of entry 0");
        CASE("negative running variance", var7, var7, 4, bits32(-0.5f),
             "layer 2's buffer value 7 is -0.5");
        CASE("infinite scale", buf_off + 4, buf_off + 4, 4, 0x7F800000u,
             "buffer value 1 is inf");
#undef CASE
    }
    for (i = 0; i < ARRAY_LEN(cases); i++) {
        nn_model *back = (nn_model *)&ctr;
        char want[40];
        memcpy(g, f, size);
        if (cases[i].bytes == 0)
            memcpy(g + cases[i].at, "classes", 7);
        else
            set_le(g + cases[i].at, cases[i].value, cases[i].bytes);
        fix_crc(g, size);
        expect_format(nn_model_load_buffer(&back, g, size), &back,
                      cases[i].message);
        snprintf(want, sizeof want, "byte %zu: ", cases[i].off);
        expect_message(want);
    }
    free(f);
    free(g);
    nn_model_free(m);
}

/* ======================================================================
 * Sizes and arguments
 * ====================================================================== */

static void save_size_matches_the_bytes_written_for_both_kinds(void **state)
{
    nn_model *m = tiny_model(4);
    size_t model_size, ck_before, ck_after, n = 0;
    unsigned char *f;
    (void)state;
    (void)nn_model_params(m, &n);
    assert_int_equal(nn_model_save_size(m, NN_SAVE_MODEL, &model_size),
                     NN_OK);
    assert_int_equal(model_size, MODEL_SIZE(2, n, 0));
    /* no optimizer state before the first step, SGD keeps one array */
    assert_int_equal(nn_model_save_size(m, NN_SAVE_CHECKPOINT, &ck_before),
                     NN_OK);
    assert_int_equal(ck_before, model_size + CHECKPOINT_EXTRA(n, 0));
    train_tiny(m, 1);
    assert_int_equal(nn_model_save_size(m, NN_SAVE_CHECKPOINT, &ck_after),
                     NN_OK);
    assert_int_equal(ck_after, model_size + CHECKPOINT_EXTRA(n, 1));
    f = save_to_memory(m, NN_SAVE_CHECKPOINT, &ck_after);
    assert_int_equal(get_le(f + OFF_LENGTH, 8), ck_after);
    free(f);
    nn_model_free(m);
}

static void save_buffer_too_small_reports_the_size_needed_and_writes_nothing(
    void **state)
{
    nn_model *m = tiny_model(4);
    unsigned char buf[4096], ref[4096];
    size_t size, written = 0;
    (void)state;
    assert_int_equal(nn_model_save_size(m, NN_SAVE_MODEL, &size), NN_OK);
    memset(buf, 0xAB, sizeof buf);
    memcpy(ref, buf, sizeof ref);
    assert_int_equal(nn_model_save_buffer(m, NN_SAVE_MODEL, buf, size - 1,
                                          &written), NN_E_SHAPE);
    assert_int_equal(written, size);
    assert_memory_equal(buf, ref, sizeof buf);
    expect_message("nn_model_save_buffer: capacity is");
    assert_int_equal(nn_model_save_buffer(m, NN_SAVE_MODEL, buf, size,
                                          NULL), NN_OK);
    assert_int_equal(buf[size], 0xAB); /* not a byte beyond */
    nn_model_free(m);
}

static void save_and_load_reject_null_and_invalid_arguments(void **state)
{
    nn_model *m = tiny_model(4), *out = (nn_model *)&ctr;
    unsigned char buf[16] = {0};
    size_t size;
    char p[512];
    (void)state;
    assert_int_equal(nn_model_save(NULL, in_tmp(p, "a"), NN_SAVE_MODEL),
                     NN_E_NULL);
    assert_int_equal(nn_model_save(m, NULL, NN_SAVE_MODEL), NN_E_NULL);
    assert_int_equal(nn_model_save(m, in_tmp(p, "a"), (nn_save_what)0),
                     NN_E_INVALID);
    assert_int_equal(nn_model_save(m, in_tmp(p, "a"), (nn_save_what)3),
                     NN_E_INVALID);
    assert_int_equal(nn_model_save(m, "", NN_SAVE_MODEL), NN_E_INVALID);
    assert_int_equal(nn_model_save(m, in_tmp(p, "dir/"), NN_SAVE_MODEL),
                     NN_E_INVALID);
    assert_int_equal(nn_model_save_size(m, NN_SAVE_MODEL, NULL), NN_E_NULL);
    assert_int_equal(nn_model_save_size(NULL, NN_SAVE_MODEL, &size),
                     NN_E_NULL);
    assert_int_equal(nn_model_save_size(m, (nn_save_what)7, &size),
                     NN_E_INVALID);
    assert_int_equal(nn_model_save_buffer(m, NN_SAVE_MODEL, NULL, 100, NULL),
                     NN_E_NULL);
    assert_int_equal(nn_model_load(NULL, in_tmp(p, "a")), NN_E_NULL);
    assert_int_equal(nn_model_load(&out, NULL), NN_E_NULL);
    assert_null(out);
    out = (nn_model *)&ctr;
    assert_int_equal(nn_model_load_buffer(&out, NULL, 10), NN_E_NULL);
    assert_null(out);
    assert_int_equal(nn_model_load_buffer(NULL, buf, 16), NN_E_NULL);
    {
        int tmp_seen;
        assert_int_equal(dir_entries(tmpdir, &tmp_seen), 0);
    }
    nn_model_free(m);
}

static void save_refuses_a_model_with_a_non_finite_parameter(void **state)
{
    nn_model *m = tiny_model(4);
    unsigned char buf[4096];
    char p[512];
    int tmp_seen;
    (void)state;
    nn_model_params(m, NULL)[4] = NAN;
    assert_int_equal(nn_model_save_buffer(m, NN_SAVE_MODEL, buf, sizeof buf,
                                          NULL), NN_E_NONFINITE);
    expect_message("parameter 4 (layer 0) is nan");
    assert_int_equal(nn_model_save(m, in_tmp(p, "m.nn"), NN_SAVE_MODEL),
                     NN_E_NONFINITE);
    assert_int_equal(dir_entries(tmpdir, &tmp_seen), 0);
    nn_model_free(m);
}

/* ======================================================================
 * Checkpoints resumed in a fresh process
 * ====================================================================== */

static char self_exe[1024];

enum { RESUME_ROWS = 50, RESUME_IN = 4, RESUME_OUT = 3 };

static void resume_data(float *x, int32_t *labels)
{
    size_t i;
    fill(x, RESUME_ROWS * RESUME_IN, 3.0f, 9);
    for (i = 0; i < RESUME_ROWS; i++)
        labels[i] = (int32_t)((i * 7 + i / 3) % RESUME_OUT);
}

typedef struct opt_case {
    const char *name;
    nn_optimizer opt;
    double lr, momentum, nesterov, wd, clip, alpha;
    nn_schedule sched;
    double warmup;
} opt_case;

static const opt_case opt_cases[] = {
    {"sgd", NN_OPT_SGD, 0.2, 0, 0, 0, 0, 0.99, NN_SCHED_STEP, 0},
    {"sgd_momentum", NN_OPT_SGD, 0.1, 0.9, 0, 1e-3, 0, 0.99,
     NN_SCHED_EXPONENTIAL, 2},
    {"nesterov", NN_OPT_SGD, 0.1, 0.8, 1, 0, 1.0, 0.99, NN_SCHED_COSINE, 3},
    {"adam", NN_OPT_ADAM, 0.02, 0, 0, 1e-3, 0, 0.99, NN_SCHED_COSINE, 2},
    {"adamw", NN_OPT_ADAMW, 0.02, 0, 0, 0.05, 0, 0.99, NN_SCHED_STEP, 1},
    {"rmsprop", NN_OPT_RMSPROP, 0.005, 0, 0, 0, 0, 0.9,
     NN_SCHED_EXPONENTIAL, 0},
    {"rmsprop_momentum", NN_OPT_RMSPROP, 0.003, 0.5, 0, 1e-3, 0, 0.95,
     NN_SCHED_COSINE, 4},
};

static nn_model *resume_model(const opt_case *c, double epochs)
{
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(&m, RESUME_IN, 1234), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 6, NN_ACT_TANH), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 5, NN_ACT_LEAKY_RELU), NN_OK);
    assert_int_equal(nn_model_add_dense(m, RESUME_OUT, NN_ACT_SOFTMAX),
                     NN_OK);
    assert_int_equal(nn_model_set_loss(m, NN_LOSS_CROSS_ENTROPY), NN_OK);
    assert_int_equal(nn_model_set_optimizer(m, c->opt), NN_OK);
    assert_int_equal(nn_model_set_schedule(m, c->sched), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_LEARNING_RATE, c->lr),
                     NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_MOMENTUM, c->momentum),
                     NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_NESTEROV, c->nesterov),
                     NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_WEIGHT_DECAY, c->wd),
                     NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_CLIP_NORM, c->clip),
                     NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_RMSPROP_ALPHA, c->alpha),
                     NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_WARMUP_STEPS, c->warmup),
                     NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_SCHED_STEP_SIZE, 3),
                     NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_SCHED_GAMMA, 0.9), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_SCHED_T_MAX, 12), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_BATCH_SIZE, 7), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_SHUFFLE, 1), NN_OK);
    assert_int_equal(nn_model_set_param(m, NN_PARAM_EPOCHS, epochs), NN_OK);
    return m;
}

/* The child's side: load the checkpoint, fit (one epoch, as the checkpoint
 * says), save a checkpoint. Plain C, no CMocka: it runs outside the test
 * runner. */
static int resume_main(const char *in, const char *out)
{
    float x[RESUME_ROWS * RESUME_IN];
    int32_t labels[RESUME_ROWS];
    nn_model *m = NULL;
    nn_data *d = NULL;
    resume_data(x, labels);
    if (nn_model_load(&m, in) != NN_OK ||
        nn_data_create_labels(&d, RESUME_ROWS, x, RESUME_IN, labels) !=
            NN_OK ||
        nn_model_fit(m, d, NULL, NULL, NULL, NULL) != NN_OK ||
        nn_model_save(m, out, NN_SAVE_CHECKPOINT) != NN_OK) {
        fprintf(stderr, "resume: %s\n", nn_last_error());
        nn_data_free(d);
        nn_model_free(m);
        return 1;
    }
    nn_data_free(d);
    nn_model_free(m);
    return 0;
}

static void run_resume_child(const char *in, const char *out)
{
    pid_t pid;
    int status = 0;
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* the child must take the products the way this process does:
         * under valgrind, which hides AVX-512 from this process but not
         * from the program it runs, the child would otherwise run the
         * kernel's AVX-512 build (or the kernel at all), whose training
         * rule gives other products to the kernel, and round differently */
        if (!nn__kernel_on())
            setenv("NN_GEMM", "blas", 1);
        else if (nn__kernel_isa() == NN__KERNEL_AVX2)
            setenv("NN_GEMM", "avx2", 1);
        execl(self_exe, self_exe, "--resume", in, out, (char *)NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void checkpoint_resumed_in_a_fresh_process_trains_like_an_unbroken_run(
    void **state)
{
    float x[RESUME_ROWS * RESUME_IN];
    int32_t labels[RESUME_ROWS];
    size_t c;
    (void)state;
    resume_data(x, labels);
    for (c = 0; c < sizeof opt_cases / sizeof opt_cases[0]; c++) {
        const opt_case *oc = &opt_cases[c];
        nn_model *twin = resume_model(oc, 2), *half = resume_model(oc, 1);
        nn_model *back = NULL;
        nn_data *d = NULL;
        char ck[512], out[512];
        size_t n = 0, a;
        float *after_one;
        assert_int_equal(nn_data_create_labels(&d, RESUME_ROWS, x, RESUME_IN,
                                               labels), NN_OK);
        assert_int_equal(nn_model_fit(twin, d, NULL, NULL, NULL, NULL),
                         NN_OK);
        assert_int_equal(nn_model_fit(half, d, NULL, NULL, NULL, NULL),
                         NN_OK);
        (void)nn_model_params(half, &n);
        after_one = (float *)malloc(n * sizeof(float));
        assert_non_null(after_one);
        memcpy(after_one, nn_model_params(half, NULL), n * sizeof(float));

        snprintf(ck, sizeof ck, "%s/%s.ckpt", tmpdir, oc->name);
        snprintf(out, sizeof out, "%s/%s.out", tmpdir, oc->name);
        assert_int_equal(nn_model_save(half, ck, NN_SAVE_CHECKPOINT), NN_OK);
        nn_model_free(half);
        run_resume_child(ck, out);

        assert_int_equal(nn_model_load(&back, out), NN_OK);
        if (memcmp(nn_model_params(back, NULL), nn_model_params(twin, NULL),
                   n * sizeof(float)) != 0)
            fail_msg("%s: resumed weights differ from 2 unbroken epochs",
                     oc->name);
        /* the second epoch did change the weights */
        assert_memory_not_equal(after_one, nn_model_params(twin, NULL),
                                n * sizeof(float));
        assert_int_equal(nn_model_step_count(back), 16); /* 2 x 8 batches */
        assert_int_equal(nn_model_step_count(twin), 16);
        assert_memory_equal(back->rng.s, twin->rng.s, sizeof twin->rng.s);
        for (a = 0; a < 2; a++) {
            assert_true(!back->state[a] == !twin->state[a]);
            if (twin->state[a])
                assert_memory_equal(back->state[a], twin->state[a],
                                    n * sizeof(float));
        }
        free(after_one);
        nn_data_free(d);
        nn_model_free(back);
        nn_model_free(twin);
    }
}

static void resuming_from_a_model_file_instead_does_not_match(void **state)
{
    /* The control: without the optimizer state and generator (a model file)
     * the second epoch goes differently, so the test above measures
     * something. */
    float x[RESUME_ROWS * RESUME_IN];
    int32_t labels[RESUME_ROWS];
    nn_model *twin = resume_model(&opt_cases[3], 2);
    nn_model *half = resume_model(&opt_cases[3], 1), *back = NULL;
    nn_data *d = NULL;
    size_t size, n = 0;
    unsigned char *f;
    (void)state;
    resume_data(x, labels);
    assert_int_equal(nn_data_create_labels(&d, RESUME_ROWS, x, RESUME_IN,
                                           labels), NN_OK);
    assert_int_equal(nn_model_fit(twin, d, NULL, NULL, NULL, NULL), NN_OK);
    assert_int_equal(nn_model_fit(half, d, NULL, NULL, NULL, NULL), NN_OK);
    f = save_to_memory(half, NN_SAVE_MODEL, &size);
    assert_int_equal(nn_model_load_buffer(&back, f, size), NN_OK);
    assert_int_equal(nn_model_fit(back, d, NULL, NULL, NULL, NULL), NN_OK);
    (void)nn_model_params(twin, &n);
    assert_memory_not_equal(nn_model_params(back, NULL),
                            nn_model_params(twin, NULL), n * sizeof(float));
    free(f);
    nn_data_free(d);
    nn_model_free(twin);
    nn_model_free(half);
    nn_model_free(back);
}

/* ======================================================================
 * Atomic saves
 * ====================================================================== */

/* 40 -> 300 -> 100 -> 10: about 130 KB, so a save takes several writes. */
static nn_model *big_model(uint64_t seed)
{
    nn_model *m = NULL;
    assert_int_equal(nn_model_create(&m, 40, seed), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 300, NN_ACT_RELU), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 100, NN_ACT_TANH), NN_OK);
    assert_int_equal(nn_model_add_dense(m, 10, NN_ACT_IDENTITY), NN_OK);
    assert_int_equal(nn_model_set_loss(m, NN_LOSS_MSE), NN_OK);
    return m;
}

static void save_replaces_an_existing_file_and_leaves_no_temporary(
    void **state)
{
    nn_model *a = tiny_model(1), *b = big_model(2), *back = NULL;
    char p[512];
    size_t size;
    unsigned char *want;
    (void)state;
    in_tmp(p, "model.nn");
    assert_int_equal(nn_model_save(a, p, NN_SAVE_MODEL), NN_OK);
    assert_int_equal(nn_model_save(b, p, NN_SAVE_CHECKPOINT), NN_OK);
    want = save_to_memory(b, NN_SAVE_CHECKPOINT, &size);
    assert_file_holds(p, want, size);
    assert_no_temporary_left();
    assert_int_equal(nn_model_load(&back, p), NN_OK);
    assert_same_model(b, back);
    free(want);
    nn_model_free(a);
    nn_model_free(b);
    nn_model_free(back);
}

static void save_to_a_bare_file_name_uses_the_current_directory(
    void **state)
{
    nn_model *m = tiny_model(1), *back = NULL;
    char cwd[1024];
    (void)state;
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tmpdir), 0);
    assert_int_equal(nn_model_save(m, "bare.nn", NN_SAVE_MODEL), NN_OK);
    assert_int_equal(nn_model_load(&back, "bare.nn"), NN_OK);
    assert_int_equal(chdir(cwd), 0);
    assert_same_model(m, back);
    nn_model_free(m);
    nn_model_free(back);
}

static void save_into_a_missing_directory_fails_and_creates_nothing(
    void **state)
{
    nn_model *m = tiny_model(1);
    char p[512], want[64];
    int tmp_seen;
    (void)state;
    assert_int_equal(nn_model_save(m, in_tmp(p, "no/such/dir/m.nn"),
                                   NN_SAVE_MODEL), NN_E_IO);
    snprintf(want, sizeof want, "(errno %d)", ENOENT);
    expect_message(want);
    expect_message(strerror(ENOENT));
    expect_message("opening its directory");
    assert_int_equal(dir_entries(tmpdir, &tmp_seen), 0);
    nn_model_free(m);
}

static void save_under_a_regular_file_posing_as_directory_fails(void **state)
{
    nn_model *m = tiny_model(1);
    char p[512], want[64];
    unsigned char *got;
    size_t len;
    int tmp_seen;
    (void)state;
    write_all(in_tmp(p, "plain"), "plain file", 10);
    /* works as root too, where permissions would not stop the write */
    assert_int_equal(nn_model_save(m, in_tmp(p, "plain/m.nn"),
                                   NN_SAVE_MODEL), NN_E_IO);
    snprintf(want, sizeof want, "(errno %d)", ENOTDIR);
    expect_message(want);
    got = read_all(in_tmp(p, "plain"), &len);
    assert_int_equal(len, 10);
    assert_memory_equal(got, "plain file", 10);
    assert_int_equal(dir_entries(tmpdir, &tmp_seen), 1);
    free(got);
    nn_model_free(m);
}

static void save_failing_at_every_step_keeps_the_previous_file(void **state)
{
    nn_model *old = tiny_model(1), *fresh = big_model(2);
    nn__file_ops ops;
    faults f;
    char p[512];
    unsigned char *old_bytes, *new_bytes;
    size_t old_size, new_size;
    long k;
    int done = 0, kinds_seen = 0;
    (void)state;
    in_tmp(p, "model.nn");
    assert_int_equal(nn_model_save(old, p, NN_SAVE_MODEL), NN_OK);
    old_bytes = read_all(p, &old_size);
    new_bytes = save_to_memory(fresh, NN_SAVE_CHECKPOINT, &new_size);

    for (k = 1; !done; k++) {
        nn_status st;
        faults_init(&f, &ops);
        f.fail_at = k;
        st = nn__model_save_ops(fresh, p, NN_SAVE_CHECKPOINT, &ops);
        assert_no_temporary_left();
        if (!f.fired) {
            /* every call got through: the new file is in place */
            assert_int_equal(st, NN_OK);
            done = 1;
        } else if (!strcmp(f.fired, "sync_fd") && f.fired_on_dir) {
            /* after the rename: new file, and a warning */
            assert_int_equal(st, NN_E_IO);
            expect_message("the file was replaced");
            assert_file_holds(p, new_bytes, new_size);
        } else if (!strcmp(f.fired, "close_fd") && f.fired_on_dir) {
            assert_int_equal(st, NN_OK); /* nothing left to report */
        } else {
            assert_int_equal(st, NN_E_IO);
            expect_message(strerror(EIO));
            expect_message("the file is unchanged");
            assert_file_holds(p, old_bytes, old_size);
            kinds_seen++;
        }
        if (st == NN_OK)
            assert_file_holds(p, new_bytes, new_size);
        if (!done) {
            /* put the old file back for the next round */
            write_all(p, old_bytes, old_size);
        }
    }
    /* open dir, create, 3 writes, sync, close, rename at least */
    assert_true(kinds_seen >= 8);
    assert_true(f.writes >= 3);
    free(old_bytes);
    free(new_bytes);
    nn_model_free(old);
    nn_model_free(fresh);
}

/* Where the system has no O_TMPFILE, or cannot name such a file, the save
 * takes a named temporary file instead: every step of that way failing
 * keeps the old file too, and the save succeeds when nothing fails. */
static void saves_without_unnamed_files_fail_safely_at_every_step(
    void **state)
{
    nn_model *old = tiny_model(1), *fresh = big_model(2);
    nn__file_ops ops;
    faults f;
    char p[512];
    unsigned char *old_bytes, *new_bytes;
    size_t old_size, new_size;
    int way;
    (void)state;
    in_tmp(p, "model.nn");
    assert_int_equal(nn_model_save(old, p, NN_SAVE_MODEL), NN_OK);
    old_bytes = read_all(p, &old_size);
    new_bytes = save_to_memory(fresh, NN_SAVE_MODEL, &new_size);
    for (way = 0; way < 2; way++) {
        long k;
        int done = 0;
        for (k = 1; !done; k++) {
            nn_status st;
            faults_init(&f, &ops);
            f.no_tmpfile = way == 0;
            f.no_link = way == 1;
            f.fail_at = k;
            st = nn__model_save_ops(fresh, p, NN_SAVE_MODEL, &ops);
            assert_no_temporary_left();
            done = !f.fired;
            if (st == NN_OK) {
                /* nothing failed, or only a close whose failure does not
                 * matter (the abandoned unnamed file's, the directory's) */
                assert_file_holds(p, new_bytes, new_size);
            } else if (!strcmp(f.fired, "sync_fd") && f.fired_on_dir) {
                expect_message("the file was replaced");
                assert_file_holds(p, new_bytes, new_size);
            } else {
                assert_int_equal(st, NN_E_IO);
                expect_message("the file is unchanged");
                assert_file_holds(p, old_bytes, old_size);
            }
            write_all(p, old_bytes, old_size);
        }
        /* the unnamed way was tried, then the named one: more steps */
        assert_true(k > 8);
    }
    free(old_bytes);
    free(new_bytes);
    nn_model_free(old);
    nn_model_free(fresh);
}

/* Temporary files by name in the directory. */
static int temporaries_in(const char *dir)
{
    int tmp_seen, n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    (void)dir_entries(dir, &tmp_seen);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, ".nn-", 4) == 0;
    closedir(d);
    return n;
}

/* A process that dies at any point of a save (here: at each file
 * operation in turn, in a child process) leaves the old file whole, and
 * no temporary file unless it died between naming the complete temporary
 * file and renaming it over the target, the one step nn.h says can leave
 * one. With an unnamed temporary file, a death during the writing leaves
 * nothing. */
static void a_crash_at_any_step_of_a_save_leaves_at_most_a_named_temporary(
    void **state)
{
    nn_model *old = tiny_model(1), *fresh = big_model(2);
    char p[512];
    unsigned char *old_bytes, *new_bytes;
    size_t old_size, new_size;
    long k;
    int finished = 0, left_named = 0;
    (void)state;
    in_tmp(p, "model.nn");
    assert_int_equal(nn_model_save(old, p, NN_SAVE_MODEL), NN_OK);
    old_bytes = read_all(p, &old_size);
    new_bytes = save_to_memory(fresh, NN_SAVE_MODEL, &new_size);
    for (k = 1; !finished; k++) {
        pid_t pid;
        int wstatus, tmps;
        size_t len;
        unsigned char *now;
        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            nn__file_ops ops;
            faults f;
            faults_init(&f, &ops);
            f.crash = 1;
            f.fail_at = k;
            _exit(nn__model_save_ops(fresh, p, NN_SAVE_MODEL, &ops) == NN_OK
                      ? 3
                      : 4);
        }
        assert_int_equal(waitpid(pid, &wstatus, 0), pid);
        assert_true(WIFEXITED(wstatus));
        finished = WEXITSTATUS(wstatus) == 3;
        tmps = temporaries_in(tmpdir);
        now = read_all(p, &len);
        /* the target is the old file or the new one, never torn */
        assert_true((len == old_size && !memcmp(now, old_bytes, len)) ||
                    (len == new_size && !memcmp(now, new_bytes, len)));
        assert_true(tmps <= 1);
        if (tmps == 1) {
            /* only a death after the link (before the close or the
             * rename): the target is still the old file */
            left_named++;
            assert_true(len == old_size);
        }
        free(now);
        /* clean up for the next round */
        {
            DIR *d = opendir(tmpdir);
            struct dirent *e;
            char q[512];
            assert_non_null(d);
            while ((e = readdir(d)) != NULL)
                if (!strncmp(e->d_name, ".nn-", 4)) {
                    snprintf(q, sizeof q, "%s/%s", tmpdir, e->d_name);
                    unlink(q);
                }
            closedir(d);
        }
        write_all(p, old_bytes, old_size);
    }
    /* open_dir, create_anon, writes, sync, link, close, rename, ...: two
     * deaths, before the close and before the rename, left the named
     * temporary */
    assert_true(k > 6);
    assert_int_equal(left_named, 2);
    free(old_bytes);
    free(new_bytes);
    nn_model_free(old);
    nn_model_free(fresh);
}

/* A name of NAME_MAX bytes is a name the system accepts: it saves and
 * loads; one byte more is the system's error, reported. */
static void names_up_to_name_max_save_and_load(void **state)
{
    nn_model *m = tiny_model(5), *back = NULL;
    char name[300], p[600];
    long max = pathconf(tmpdir, _PC_NAME_MAX);
    (void)state;
    assert_true(max >= 14 && max < 290);
    memset(name, 'n', (size_t)max);
    name[max] = '\0';
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    assert_int_equal(nn_model_save(m, p, NN_SAVE_CHECKPOINT), NN_OK);
    assert_int_equal(nn_model_load(&back, p), NN_OK);
    assert_same_model(m, back);
    assert_no_temporary_left();
    nn_model_free(back);
    name[max] = 'n';
    name[max + 1] = '\0';
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    assert_int_equal(nn_model_save(m, p, NN_SAVE_MODEL), NN_E_IO);
    expect_message(strerror(ENAMETOOLONG));
    assert_int_equal(temporaries_in(tmpdir), 0);
    nn_model_free(m);
}

static void save_on_a_full_disk_reports_no_space_and_keeps_the_old_file(
    void **state)
{
    nn_model *old = tiny_model(1), *fresh = big_model(2);
    nn__file_ops ops;
    faults f;
    char p[512], want[64];
    unsigned char *old_bytes;
    size_t old_size;
    (void)state;
    in_tmp(p, "model.nn");
    assert_int_equal(nn_model_save(old, p, NN_SAVE_MODEL), NN_OK);
    old_bytes = read_all(p, &old_size);
    faults_init(&f, &ops);
    f.err = ENOSPC;
    f.fail_at = 4; /* open_dir, create_anon, write 1 succeed; write 2 */
    assert_int_equal(nn__model_save_ops(fresh, p, NN_SAVE_MODEL, &ops),
                     NN_E_IO);
    assert_string_equal(f.fired, "write_fd");
    expect_message("writing the temporary file failed");
    expect_message(strerror(ENOSPC));
    snprintf(want, sizeof want, "(errno %d)", ENOSPC);
    expect_message(want);
    assert_file_holds(p, old_bytes, old_size);
    assert_no_temporary_left();
    free(old_bytes);
    nn_model_free(old);
    nn_model_free(fresh);
}

static void save_past_the_file_size_limit_fails_and_keeps_the_old_file(
    void **state)
{
    /* A real write failure from the kernel, not an injected one: with
     * RLIMIT_FSIZE below the file's size, write() fails with EFBIG, as it
     * fails with ENOSPC on a full disk. */
    nn_model *old = tiny_model(1), *fresh = big_model(2);
    struct rlimit saved, low;
    void (*prev)(int);
    char p[512];
    unsigned char *old_bytes;
    size_t old_size;
    nn_status st;
    (void)state;
    in_tmp(p, "model.nn");
    assert_int_equal(nn_model_save(old, p, NN_SAVE_MODEL), NN_OK);
    old_bytes = read_all(p, &old_size);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    low = saved;
    low.rlim_cur = 20000;
    prev = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &low), 0);
    st = nn_model_save(fresh, p, NN_SAVE_MODEL);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(st, NN_E_IO);
    expect_message("writing the temporary file failed");
    expect_message(strerror(EFBIG));
    assert_file_holds(p, old_bytes, old_size);
    assert_no_temporary_left();
    free(old_bytes);
    nn_model_free(old);
    nn_model_free(fresh);
}

static void save_retries_interrupted_calls_and_finishes_short_writes(
    void **state)
{
    nn_model *m = big_model(3);
    nn__file_ops ops;
    faults f;
    char p[512];
    unsigned char *want, *got;
    size_t size, fsize;
    (void)state;
    faults_init(&f, &ops);
    f.eintr = 1;
    f.max_write = 777;
    in_tmp(p, "model.nn");
    assert_int_equal(nn__model_save_ops(m, p, NN_SAVE_MODEL, &ops), NN_OK);
    want = save_to_memory(m, NN_SAVE_MODEL, &size);
    got = read_all(p, &fsize);
    assert_int_equal(fsize, size);
    assert_memory_equal(got, want, size);
    assert_true(f.writes >= (long)(size / 777));
    free(want);
    free(got);
    nn_model_free(m);
}

static void save_survives_every_failed_allocation_and_keeps_the_old_file(
    void **state)
{
    nn_model *old = tiny_model(1), *fresh = big_model(2);
    char p[512];
    unsigned char *old_bytes;
    size_t old_size;
    long k;
    int done = 0;
    (void)state;
    in_tmp(p, "model.nn");
    assert_int_equal(nn_model_save(old, p, NN_SAVE_MODEL), NN_OK);
    old_bytes = read_all(p, &old_size);
    for (k = 1; !done; k++) {
        long live = ctr.live;
        nn_status st;
        ctr.allocs = 0;
        ctr.fail_at = k;
        st = nn_model_save(fresh, p, NN_SAVE_CHECKPOINT);
        ctr.fail_at = 0;
        assert_int_equal(ctr.live, live);
        assert_no_temporary_left();
        if (st == NN_OK) {
            done = 1;
        } else {
            assert_int_equal(st, NN_E_NOMEM);
            assert_file_holds(p, old_bytes, old_size);
        }
    }
    assert_true(k > 2);
    free(old_bytes);
    nn_model_free(old);
    nn_model_free(fresh);
}

/* ======================================================================
 * Loading bad files
 * ====================================================================== */

static void load_of_a_missing_file_a_directory_or_a_fifo_reports_io(
    void **state)
{
    nn_model *m = (nn_model *)&ctr;
    char p[512], want[64];
    (void)state;
    assert_int_equal(nn_model_load(&m, in_tmp(p, "absent.nn")), NN_E_IO);
    assert_null(m);
    snprintf(want, sizeof want, "(errno %d)", ENOENT);
    expect_message(want);
    expect_message("absent.nn");
    assert_int_equal(nn_model_load(&m, tmpdir), NN_E_IO);
    assert_null(m);
    expect_message("not a regular file");
    /* a FIFO without a writer: refused at once, not waited on */
    assert_int_equal(mkfifo(in_tmp(p, "fifo"), 0600), 0);
    assert_int_equal(nn_model_load(&m, p), NN_E_IO);
    assert_null(m);
    expect_message("not a regular file");
    assert_int_equal(ctr.live, 0);
}

static void load_reports_a_failing_read_as_io_and_leaks_nothing(
    void **state)
{
    nn_model *m = big_model(5), *back = NULL;
    nn__file_ops ops;
    faults f;
    char p[512];
    long k, live;
    int done = 0;
    (void)state;
    in_tmp(p, "model.nn");
    assert_int_equal(nn_model_save(m, p, NN_SAVE_MODEL), NN_OK);
    live = ctr.live;
    for (k = 1; !done; k++) {
        nn_status st;
        faults_init(&f, &ops);
        f.fail_at = k;
        st = nn__model_load_ops(&back, p, &ops);
        if (!f.fired || !strcmp(f.fired, "close_fd")) {
            assert_int_equal(st, NN_OK);
            assert_same_model(m, back);
            nn_model_free(back);
            back = NULL;
            done = !f.fired;
        } else {
            assert_int_equal(st, NN_E_IO);
            assert_null(back);
            expect_message(strerror(EIO));
            assert_int_equal(ctr.live, live);
        }
    }
    assert_true(k > 4); /* open, stat, reads */
    nn_model_free(m);
}

static void truncated_at_every_length_gives_a_format_error(void **state)
{
    nn_model *m = tiny_model(6), *back;
    size_t size, len;
    unsigned char *f;
    char p[512];
    (void)state;
    train_tiny(m, 1);
    f = save_to_memory(m, NN_SAVE_CHECKPOINT, &size);
    in_tmp(p, "cut.nn");
    for (len = 0; len < size; len++) {
        counting();
        back = (nn_model *)&ctr;
        expect_format(nn_model_load_buffer(&back, f, len), &back, "byte ");
        assert_int_equal(ctr.allocs, 0);
        if (len >= 24)
            expect_message("byte 16: the file is truncated");
        else if (len > 0)
            expect_message("inside the 24-byte header");
        /* the same through a file: allocates nothing either */
        write_all(p, f, len);
        back = (nn_model *)&ctr;
        expect_format(nn_model_load(&back, p), &back, "byte ");
        expect_message("cut.nn");
        assert_int_equal(ctr.allocs, 0);
    }
    free(f);
    nn_model_free(m);
}

static void every_flipped_bit_gives_a_format_error_and_leaks_nothing(
    void **state)
{
    nn_model *m = tiny_model(6);
    int kind;
    (void)state;
    train_tiny(m, 2);
    for (kind = NN_SAVE_MODEL; kind <= NN_SAVE_CHECKPOINT; kind++) {
        size_t size, bit;
        unsigned char *f = save_to_memory(m, (nn_save_what)kind, &size);
        for (bit = 0; bit < 8 * size; bit++) {
            nn_model *back = (nn_model *)&ctr;
            f[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            counting();
            expect_format(nn_model_load_buffer(&back, f, size), &back,
                          "byte ");
            /* caught by the header or the checksum, before any allocation */
            assert_int_equal(ctr.allocs, 0);
            f[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        }
        {
            nn_model *back = NULL;
            assert_int_equal(nn_model_load_buffer(&back, f, size), NN_OK);
            nn_model_free(back);
        }
        free(f);
    }
    nn_model_free(m);
}

static void wrong_magic_and_future_versions_are_named(void **state)
{
    nn_model *m = tiny_model(6), *back = (nn_model *)&ctr;
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n',
                                        0x1a, '\n', 0, 0, 0, 13};
    size_t size;
    unsigned char *f = save_to_memory(m, NN_SAVE_MODEL, &size);
    (void)state;
    expect_format(nn_model_load_buffer(&back, png, sizeof png), &back,
                  "byte 1: not a libnn model file");
    back = (nn_model *)&ctr;
    expect_format(nn_model_load_buffer(&back, "hello", 5), &back,
                  "byte 0: not a libnn model file");
    set_le(f + OFF_VERSION, 3, 4);
    fix_crc(f, size);
    back = (nn_model *)&ctr;
    expect_format(nn_model_load_buffer(&back, f, size), &back,
                  "byte 8: format version 3");
    expect_message("newer libnn");
    set_le(f + OFF_VERSION, 0, 4);
    fix_crc(f, size);
    back = (nn_model *)&ctr;
    expect_format(nn_model_load_buffer(&back, f, size), &back,
                  "byte 8: format version 0");
    free(f);
    nn_model_free(m);
}

static void trailing_bytes_give_a_format_error(void **state)
{
    nn_model *m = tiny_model(6), *back = (nn_model *)&ctr;
    size_t size;
    unsigned char *f = save_to_memory(m, NN_SAVE_MODEL, &size), *g;
    (void)state;
    g = (unsigned char *)malloc(size + 3);
    assert_non_null(g);
    memcpy(g, f, size);
    g[size] = g[size + 1] = g[size + 2] = 0;
    expect_format(nn_model_load_buffer(&back, g, size + 3), &back,
                  "byte 16: 3 bytes follow the end of the file");
    /* a length and checksum that agree with the extra bytes: the sections
     * end before the checksum does */
    memcpy(g + size + 3 - 4, f + size - 4, 4);
    memset(g + size - 4, 0, 3);
    set_le(g + OFF_LENGTH, size + 3, 8);
    fix_crc(g, size + 3);
    back = (nn_model *)&ctr;
    {
        char want[64];
        snprintf(want, sizeof want, "byte %zu: 3 bytes follow the last",
                 size - 4);
        expect_format(nn_model_load_buffer(&back, g, size + 3), &back, want);
    }
    free(f);
    free(g);
    nn_model_free(m);
}

static void absurd_sizes_are_refused_before_any_allocation(void **state)
{
    nn_model *m = tiny_model(6);
    size_t size, i;
    unsigned char *f = save_to_memory(m, NN_SAVE_MODEL, &size);
    unsigned char *g = (unsigned char *)malloc(size);
    char p[512];
    static const struct {
        size_t off;
        int bytes;
        uint64_t value;
        const char *message;
    } cases[] = {
        {OFF_INPUT, 8, (uint64_t)1 << 40, "the input width is 1099511627776"},
        {OFF_LAYERS, 8, (uint64_t)1 << 40,
         "1099511627776 layers of 64 bytes each do not fit"},
        {OFF_LAYERS, 8, UINT64_MAX, "18446744073709551615 layers of"},
        {OFF_NSETTINGS, 4, 0xFFFFFFFFu, "the file has 4294967295 settings"},
        {OFF_NLAYERSET, 4, 0x80000000u, "layers have 2147483648 settings"},
    };
    (void)state;
    assert_non_null(g);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nn_model *back = (nn_model *)&ctr;
        char want[64];
        memcpy(g, f, size);
        set_le(g + cases[i].off, cases[i].value, cases[i].bytes);
        fix_crc(g, size);
        counting();
        snprintf(want, sizeof want, "byte %zu: ", cases[i].off);
        expect_format(nn_model_load_buffer(&back, g, size), &back, want);
        expect_message(cases[i].message);
        assert_int_equal(ctr.allocs, 0);
    }
    /* a layer 2^40 wide (and 2^31 - 1, the widest BLAS allows) is checked
     * against the bytes present */
    for (i = 0; i < 2; i++) {
        nn_model *back = (nn_model *)&ctr;
        char want[64];
        uint64_t width = i ? (uint64_t)1 << 40 : 2147483647u;
        memcpy(g, f, size);
        set_le(g + OFF_LAYER(0) + REC_WIDTH, width, 8);
        fix_crc(g, size);
        counting();
        snprintf(want, sizeof want, "byte %zu: layer 0 is %llu wide",
                 (size_t)OFF_LAYER(0) + REC_WIDTH, (unsigned long long)width);
        expect_format(nn_model_load_buffer(&back, g, size), &back,
                      i ? "outside [1, 2147483647]" : want);
        assert_int_equal(ctr.allocs, 0);
        /* through a file: only the file's own bytes are allocated */
        write_all(in_tmp(p, "wide.nn"), g, size);
        back = (nn_model *)&ctr;
        counting();
        expect_format(nn_model_load(&back, p), &back, "byte ");
        assert_true(ctr.largest <= size);
    }
    /* a second layer 2^20 wide after a first of 3: 3 * 2^20 weights */
    {
        nn_model *back = (nn_model *)&ctr;
        memcpy(g, f, size);
        set_le(g + OFF_LAYER(1) + REC_WIDTH, (uint64_t)1 << 20, 8);
        fix_crc(g, size);
        counting();
        expect_format(nn_model_load_buffer(&back, g, size), &back,
                      "layer 1 is 1048576 wide: with 3 inputs");
        assert_int_equal(ctr.allocs, 0);
    }
    free(f);
    free(g);
    nn_model_free(m);
}

typedef struct tamper {
    const char *what;
    int checkpoint;            /* 0: model file of tiny; 1: checkpoint */
    size_t off;
    int bytes;
    uint64_t value;
    const char *message;
} tamper;

static void tampered_fields_with_a_fixed_checksum_are_caught_where_they_are(
    void **state)
{
    nn_model *m = tiny_model(6), *sgd0 = tiny_model(7);
    size_t n = 13, pofs = OFF_PARAMS_PLAIN(2), ck = pofs + 4 * n;
    size_t ms, cs, c0s, i;
    unsigned char *mf, *cf, *c0f;
    long live;
    const tamper cases[] = {
        {"kind", 0, OFF_KIND, 4, 3, "the kind is 3"},
        {"input width 0", 0, OFF_INPUT, 8, 0, "the input width is 0"},
        {"loss", 0, OFF_LOSS, 4, 99, "the loss is 99, not an nn_loss"},
        {"optimizer", 0, OFF_OPT, 4, 99, "the optimizer is 99"},
        {"schedule", 0, OFF_SCHED, 4, 0, "the schedule is 0"},
        {"settings count", 0, OFF_NSETTINGS, 4, NSETTINGS + 1,
         "settings, this libnn knows"},
        {"negative learning rate", 0, OFF_SETTINGS, 8, bits64(-1.0),
         "setting 1 (learning_rate) is -1, outside its bounds"},
        {"NaN learning rate", 0, OFF_SETTINGS, 8, bits64(NAN),
         "setting 1 (learning_rate) is nan"},
        {"fractional epochs", 0, OFF_SETTINGS + 8 * (NN_PARAM_EPOCHS - 1), 8,
         bits64(2.5), "setting 15 (epochs) is 2.5, not a whole number"},
        {"layer settings count", 0, OFF_NLAYERSET, 4, NLAYERSETTINGS + 1,
         "layers have 7 settings each"},
        {"kind 0", 0, OFF_LAYER(0) + REC_KIND, 4, 0,
         "layer 0's kind is 0, not an nn_layer_kind"},
        {"width 0", 0, OFF_LAYER(0) + REC_WIDTH, 8, 0, "layer 0 is 0 wide"},
        {"activation 0", 0, OFF_LAYER(0) + REC_ACT, 4, 0,
         "layer 0's activation is 0"},
        {"activation 77", 0, OFF_LAYER(1) + REC_ACT, 4, 77,
         "layer 1's activation is 77"},
        {"hidden softmax", 0, OFF_LAYER(0) + REC_ACT, 4, NN_ACT_SOFTMAX,
         "layer 0 is softmax but not the output layer"},
        {"slope 2", 0, OFF_LAYER(1) + REC_SETTINGS, 8, bits64(2.0),
         "layer 1's setting 1 (leaky_slope) is 2, outside its bounds [0, 1]"},
        {"dropout rate on a dense layer", 0, OFF_LAYER(1) + REC_SETTINGS + 24,
         8, bits64(0.25), "a dense layer has no such setting"},
        {"class weight count", 0, OFF_LAYER(2), 8, (uint64_t)1 << 40,
         "1099511627776 class weights do not fit"},
        {"metadata count", 0, OFF_LAYER(2) + 8, 4, 1025,
         "1025 metadata entries"},
        {"NaN weight", 0, pofs + 4 * 5, 4, 0x7FC00000u, "parameter 5 is nan"},
        {"infinite bias", 0, pofs + 4 * 12, 4, 0xFF800000u,
         "parameter 12 is -inf"},
        {"one layer too many", 0, OFF_LAYERS, 8, 3, "layer 2"},
        {"generator all zero", 1, ck, 8, 0, "the generator state is all zero"},
        {"three state arrays", 1, ck + 48, 4, 3,
         "3 optimizer-state arrays"},
        {"SGD state under Adam", 1, OFF_OPT, 4, NN_OPT_ADAM,
         "1 optimizer-state arrays; the adam optimizer keeps 2 or 3"},
        {"NaN momentum", 1, ck + 52 + 4 * 7, 4, 0x7FC00001u,
         "optimizer state 0 value 7 is nan"},
        {"steps without state", 2, ck + 32, 8, 5,
         "the step count is 5 but there is no optimizer state"},
        {"run flag 2", 2, ck + 52, 4, 2, "the interrupted run's flag is 2"},
    };
    (void)state;
    train_tiny(m, 2); /* SGD: one state array */
    mf = save_to_memory(m, NN_SAVE_MODEL, &ms);
    cf = save_to_memory(m, NN_SAVE_CHECKPOINT, &cs);
    c0f = save_to_memory(sgd0, NN_SAVE_CHECKPOINT, &c0s); /* no state yet */
    assert_int_equal(ms, pofs + 4 * n + 4);
    live = ctr.live;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tamper *t = &cases[i];
        const unsigned char *src = t->checkpoint == 0   ? mf
                                   : t->checkpoint == 1 ? cf
                                                        : c0f;
        size_t size = t->checkpoint == 0 ? ms : t->checkpoint == 1 ? cs : c0s;
        unsigned char *g = (unsigned char *)malloc(size);
        nn_model *back = (nn_model *)&ctr;
        char want[64];
        nn_status st;
        assert_non_null(g);
        memcpy(g, src, size);
        if (!strcmp(t->what, "generator all zero"))
            memset(g + t->off, 0, 32);
        else
            set_le(g + t->off, t->value, t->bytes);
        fix_crc(g, size);
        counting();
        st = nn_model_load_buffer(&back, g, size);
        if (st != NN_E_FORMAT)
            fail_msg("%s: status %d, message %s", t->what, (int)st,
                     nn_last_error());
        assert_null(back);
        snprintf(want, sizeof want, "byte %zu: ", t->off);
        if (strcmp(t->what, "one layer too many") &&
            strcmp(t->what, "SGD state under Adam"))
            expect_message(want);
        expect_message(t->message);
        assert_int_equal(ctr.live, live);
        free(g);
    }
    free(mf);
    free(cf);
    free(c0f);
    nn_model_free(m);
    nn_model_free(sgd0);
}

static void random_tampering_with_fixed_checksums_never_crashes_or_leaks(
    void **state)
{
    nn_model *m = rich_model(9);
    size_t size, i;
    unsigned char *f, *g;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    int kind, loaded = 0, refused = 0;
    long live;
    (void)state;
    assert_int_equal(nn_model_set_optimizer(m, NN_OPT_RMSPROP), NN_OK);
    {
        float xs[6 * 3];
        int32_t labels[6] = {0, 1, 2, 0, 1, 2};
        fill(xs, 18, 1.0f, 4);
        assert_int_equal(nn_model_train_batch_labels(m, 6, xs, 3, labels,
                                                     NULL), NN_OK);
    }
    live = ctr.live;
    for (kind = NN_SAVE_MODEL; kind <= NN_SAVE_CHECKPOINT; kind++) {
        f = save_to_memory(m, (nn_save_what)kind, &size);
        g = (unsigned char *)malloc(size);
        assert_non_null(g);
        for (i = 0; i < 4000; i++) {
            nn_model *back = NULL;
            int j, changes;
            nn_status st;
            memcpy(g, f, size);
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            changes = 1 + (int)(x % 4);
            for (j = 0; j < changes; j++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                /* mostly the header and the structure, which matter most */
                g[(x >> 8) % (i % 2 ? size - 4 : OFF_LAYER(5))] =
                    (unsigned char)(x >> 40);
            }
            fix_crc(g, size);
            st = nn_model_load_buffer(&back, g, size);
            if (st == NN_OK) {
                float in[3] = {0.5f, -1.0f, 2.0f}, out[64];
                size_t ow = nn_model_output_width(back);
                loaded++;
                if (ow > 0 && ow <= 64 && nn_model_input_width(back) == 3)
                    assert_int_equal(nn_model_predict(back, 1, in, 3, out,
                                                      ow), NN_OK);
                nn_model_free(back);
            } else {
                refused++;
                assert_int_equal(st, NN_E_FORMAT);
                assert_null(back);
                expect_message("byte ");
            }
            assert_int_equal(ctr.live, live);
        }
        free(f);
        free(g);
    }
    /* both outcomes occurred: the mutations reached past the checks */
    assert_true(loaded > 100);
    assert_true(refused > 100);
    nn_model_free(m);
}

static void load_survives_every_failed_allocation(void **state)
{
    nn_model *m = rich_model(12);
    char p[512];
    int kind, from_file;
    long live;
    (void)state;
    assert_int_equal(nn_model_set_optimizer(m, NN_OPT_ADAMW), NN_OK);
    {
        float xs[6 * 3];
        int32_t labels[6] = {0, 1, 2, 0, 1, 2};
        fill(xs, 18, 1.0f, 4);
        assert_int_equal(nn_model_train_batch_labels(m, 6, xs, 3, labels,
                                                     NULL), NN_OK);
    }
    in_tmp(p, "model.nn");
    live = ctr.live;
    for (kind = NN_SAVE_MODEL; kind <= NN_SAVE_CHECKPOINT; kind++)
        for (from_file = 0; from_file < 2; from_file++) {
            size_t size;
            unsigned char *f = save_to_memory(m, (nn_save_what)kind, &size);
            long k;
            int done = 0;
            write_all(p, f, size);
            for (k = 1; !done; k++) {
                nn_model *back = (nn_model *)&ctr;
                nn_status st;
                ctr.allocs = 0;
                ctr.fail_at = k;
                st = from_file ? nn_model_load(&back, p)
                               : nn_model_load_buffer(&back, f, size);
                ctr.fail_at = 0;
                if (st == NN_OK) {
                    done = 1;
                    assert_same_model(m, back);
                    nn_model_free(back);
                } else {
                    assert_int_equal(st, NN_E_NOMEM);
                    assert_null(back);
                    expect_message(from_file ? "nn_model_load: '"
                                             : "nn_model_load_buffer: ");
                }
                assert_int_equal(ctr.live, live);
            }
            /* the model, its layers, parameters and gradients (one block
             * each, whatever the layer count), and for a checkpoint two
             * state arrays: the loop failed each of them */
            assert_true(k > (kind == NN_SAVE_CHECKPOINT ? 6 : 4));
            free(f);
        }
    nn_model_free(m);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(crc32_gives_the_standard_check_value_and_chains),
        T(file_layout_matches_the_documented_offsets),
        T(checkpoint_layout_appends_generator_steps_and_state),
        T(model_file_round_trip_is_bit_identical),
        T(every_activation_loss_and_depth_round_trips),
        T(models_without_layers_or_loss_round_trip),
        T(checkpoint_round_trip_keeps_optimizer_state_steps_and_generator),
        T(model_file_loads_with_the_generator_of_seed_zero),
        T(a_file_with_fewer_settings_loads_the_rest_as_defaults),
        T(save_size_matches_the_bytes_written_for_both_kinds),
        T(saves_without_unnamed_files_fail_safely_at_every_step),
        T(rejected_steps_leave_the_checkpoint_byte_for_byte),
        T(a_crash_at_any_step_of_a_save_leaves_at_most_a_named_temporary),
        T(names_up_to_name_max_save_and_load),
        T(every_kind_round_trips_and_a_checkpoint_trains_on_alike),
        T(version_2_sections_tampered_with_are_caught_where_they_are),
        T(save_buffer_too_small_reports_the_size_needed_and_writes_nothing),
        T(save_and_load_reject_null_and_invalid_arguments),
        T(save_refuses_a_model_with_a_non_finite_parameter),
        T(checkpoint_resumed_in_a_fresh_process_trains_like_an_unbroken_run),
        T(resuming_from_a_model_file_instead_does_not_match),
        T(save_replaces_an_existing_file_and_leaves_no_temporary),
        T(save_to_a_bare_file_name_uses_the_current_directory),
        T(save_into_a_missing_directory_fails_and_creates_nothing),
        T(save_under_a_regular_file_posing_as_directory_fails),
        T(save_failing_at_every_step_keeps_the_previous_file),
        T(save_on_a_full_disk_reports_no_space_and_keeps_the_old_file),
        T(save_past_the_file_size_limit_fails_and_keeps_the_old_file),
        T(save_retries_interrupted_calls_and_finishes_short_writes),
        T(save_survives_every_failed_allocation_and_keeps_the_old_file),
        T(load_of_a_missing_file_a_directory_or_a_fifo_reports_io),
        T(load_reports_a_failing_read_as_io_and_leaks_nothing),
        T(truncated_at_every_length_gives_a_format_error),
        T(every_flipped_bit_gives_a_format_error_and_leaks_nothing),
        T(wrong_magic_and_future_versions_are_named),
        T(trailing_bytes_give_a_format_error),
        T(absurd_sizes_are_refused_before_any_allocation),
        T(tampered_fields_with_a_fixed_checksum_are_caught_where_they_are),
        T(random_tampering_with_fixed_checksums_never_crashes_or_leaks),
        T(load_survives_every_failed_allocation),
#undef T
    };
    ssize_t len;
    if (argc == 4 && !strcmp(argv[1], "--resume"))
        return resume_main(argv[2], argv[3]);
    /* This binary, to run itself for the fresh-process checkpoint test. */
    len = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (len > 0)
        self_exe[len] = '\0';
    else
        snprintf(self_exe, sizeof self_exe, "%s", argv[0]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
