/* SPDX-License-Identifier: MIT */
/*
 * fashion_mnist.c - libnn's main demo: a 784-256-128-10 classifier for
 * Fashion-MNIST, read from Debian's dataset-fashion-mnist package
 * (apt-get install dataset-fashion-mnist).
 *
 *   fashion_mnist [--epochs N] [--batch N] [--lr X] [--optimizer NAME]
 *                 [--schedule cosine|constant] [--threads N] [--seed N]
 *                 [--dropout P] [--batchnorm | --layernorm]
 *                 [--data DIR] [--limit N] [--save PATH] [--history PATH]
 *
 * Trains with nn_model_fit on the first 55,000 training images, validates on
 * the last 5,000 after every epoch, then reports loss and accuracy on the
 * 10,000 test images. Exit status: 0 success, 1 usage or libnn error,
 * 2 missing or malformed data (or an unavailable feature).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "idx.h"
#include "nn.h"

#define PROG "fashion_mnist"
#define DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"
#define INSTALL_HINT "install it with: apt-get install dataset-fashion-mnist"

#define IMAGE_SIDE 28
#define IMAGE_SIZE (IMAGE_SIDE * IMAGE_SIDE)
#define CLASSES 10
#define VALIDATION_ROWS 5000

#define EXIT_USAGE 1 /* bad option, or a libnn call failed */
#define EXIT_DATA 2  /* missing or malformed data files */

/* Redraws of the progress bar per epoch, at most (plus the first). */
#define BAR_UPDATES 20
#define BAR_WIDTH 20

/* ---- options ---- */

typedef enum optimizer_choice {
    OPT_SGD,      /* plain SGD */
    OPT_MOMENTUM, /* SGD with momentum 0.9: the default */
    OPT_NESTEROV, /* SGD with Nesterov momentum 0.9 */
    OPT_ADAM,
    OPT_ADAMW,
    OPT_RMSPROP
} optimizer_choice;

static const struct {
    const char *name;
    optimizer_choice choice;
    nn_optimizer kind;
    double momentum;
    int nesterov;
    double weight_decay; /* AdamW: PyTorch's default, else none */
    double default_lr;
} optimizers[] = {
    {"sgd", OPT_SGD, NN_OPT_SGD, 0.0, 0, 0.0, 0.05},
    {"momentum", OPT_MOMENTUM, NN_OPT_SGD, 0.9, 0, 0.0, 0.05},
    {"nesterov", OPT_NESTEROV, NN_OPT_SGD, 0.9, 1, 0.0, 0.05},
    {"adam", OPT_ADAM, NN_OPT_ADAM, 0.0, 0, 0.0, 1e-3},
    {"adamw", OPT_ADAMW, NN_OPT_ADAMW, 0.0, 0, 0.01, 1e-3},
    {"rmsprop", OPT_RMSPROP, NN_OPT_RMSPROP, 0.0, 0, 0.0, 1e-3},
};
#define N_OPTIMIZERS (sizeof optimizers / sizeof optimizers[0])

typedef struct options {
    size_t epochs;
    size_t batch;
    double lr; /* 0: the optimizer's default */
    size_t optimizer; /* index into optimizers[] */
    int cosine;       /* anneal the learning rate to 0 over the run */
    size_t threads;   /* 0: leave the BLAS default */
    uint64_t seed;
    const char *data_dir;
    int data_dir_given;
    size_t limit; /* 0: no limit */
    const char *save_path;
    const char *history_path; /* per-epoch CSV, or NULL */
    double dropout;           /* after each hidden layer; 0: none */
    nn_layer_kind norm;       /* 0, NN_KIND_BATCHNORM or NN_KIND_LAYERNORM */
} options;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: " PROG " [options]\n"
        "Trains a 784-256-128-10 network on Fashion-MNIST with libnn.\n"
        "\n"
        "  --epochs N        passes over the training set (default 10)\n"
        "  --batch N         rows per step (default 128)\n"
        "  --lr X            learning rate (default 0.05 for sgd, momentum\n"
        "                    and nesterov; 0.001 for adam, adamw, rmsprop)\n"
        "  --optimizer NAME  sgd, momentum (SGD + momentum 0.9, the\n"
        "                    default), nesterov, adam, adamw (decoupled\n"
        "                    weight decay 0.01, as in PyTorch) or rmsprop\n"
        "  --schedule NAME   cosine (the default: the learning rate falls\n"
        "                    to 0 along a half cosine over the whole run)\n"
        "                    or constant\n"
        "  --threads N       BLAS threads (default: the BLAS library's own)\n"
        "  --seed N          seed of initialisation, shuffling and dropout\n"
        "                    (default 1)\n"
        "  --dropout P       dropout with rate P in [0, 1) after each hidden\n"
        "                    layer (default 0: none)\n"
        "  --batchnorm       batch normalization in each hidden layer,\n"
        "                    between the product and the relu\n"
        "  --layernorm       layer normalization there instead\n"
        "  --data DIR        directory of the four .gz IDX files\n"
        "                    (default " DEFAULT_DATA_DIR ")\n"
        "  --limit N         train on the first N training images only and\n"
        "                    validate on the (up to) 5000 after them\n"
        "  --save PATH       save the trained model there (libnn's model\n"
        "                    file format; load it with nn_model_load)\n"
        "  --history PATH    write one CSV line per epoch there: epoch,\n"
        "                    train loss, validation loss and accuracy,\n"
        "                    seconds (bench/plot-history.sh draws it)\n"
        "  --help            show this help\n"
        "\n"
        "Without --limit the first 55000 training images train and the last\n"
        "5000 validate. Exit status: 0 success, 1 bad option or libnn error,\n"
        "2 missing or malformed data.\n");
}

/* A whole decimal number in [min, max]; anything else is an error. */
static int parse_count(const char *opt, const char *s, unsigned long long min,
                       unsigned long long max, unsigned long long *out)
{
    char *end = NULL;
    unsigned long long v;
    const char *p = s;

    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '-' || *p == '+' || *p < '0' || *p > '9') {
        if (*p == '-')
            fprintf(stderr, PROG ": --%s must not be negative, got '%s'\n",
                    opt, s);
        else
            fprintf(stderr, PROG ": --%s needs a whole number, got '%s'\n",
                    opt, s);
        return 0;
    }
    errno = 0;
    v = strtoull(p, &end, 10);
    if (*end != '\0') {
        fprintf(stderr, PROG ": --%s needs a whole number, got '%s'\n", opt,
                s);
        return 0;
    }
    if (errno == ERANGE || v > max) {
        fprintf(stderr, PROG ": --%s %s is too large (at most %llu)\n", opt,
                s, max);
        return 0;
    }
    if (v < min) {
        fprintf(stderr, PROG ": --%s must be at least %llu, got '%s'\n",
                opt, min, s);
        return 0;
    }
    *out = v;
    return 1;
}

/* A finite number > 0. */
static int parse_positive(const char *opt, const char *s, double *out)
{
    char *end = NULL;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v)) {
        fprintf(stderr, PROG ": --%s needs a finite number, got '%s'\n", opt,
                s);
        return 0;
    }
    if (v <= 0.0) {
        fprintf(stderr, PROG ": --%s must be greater than 0, got '%s'\n", opt,
                s);
        return 0;
    }
    *out = v;
    return 1;
}

/* Fills o from argv. Returns -1 to go on, else an exit status. */
static int parse_options(int argc, char **argv, options *o)
{
    enum { O_EPOCHS = 1, O_BATCH, O_LR, O_OPTIMIZER, O_SCHEDULE, O_THREADS,
           O_SEED, O_DATA, O_LIMIT, O_SAVE, O_HISTORY, O_DROPOUT,
           O_BATCHNORM, O_LAYERNORM, O_HELP };
    static const struct option longopts[] = {
        {"epochs", required_argument, NULL, O_EPOCHS},
        {"batch", required_argument, NULL, O_BATCH},
        {"lr", required_argument, NULL, O_LR},
        {"optimizer", required_argument, NULL, O_OPTIMIZER},
        {"schedule", required_argument, NULL, O_SCHEDULE},
        {"threads", required_argument, NULL, O_THREADS},
        {"seed", required_argument, NULL, O_SEED},
        {"data", required_argument, NULL, O_DATA},
        {"limit", required_argument, NULL, O_LIMIT},
        {"save", required_argument, NULL, O_SAVE},
        {"history", required_argument, NULL, O_HISTORY},
        {"dropout", required_argument, NULL, O_DROPOUT},
        {"batchnorm", no_argument, NULL, O_BATCHNORM},
        {"layernorm", no_argument, NULL, O_LAYERNORM},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    unsigned long long v;
    size_t i;
    int c;

    o->epochs = 10;
    o->batch = 128;
    o->lr = 0.0;
    o->optimizer = 1; /* momentum */
    o->cosine = 1;
    o->threads = 0;
    o->seed = 1;
    o->data_dir = DEFAULT_DATA_DIR;
    o->data_dir_given = 0;
    o->limit = 0;
    o->save_path = NULL;
    o->history_path = NULL;
    o->dropout = 0.0;
    o->norm = (nn_layer_kind)0;

    opterr = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_EPOCHS:
            if (!parse_count("epochs", optarg, 1, 1000000000ull, &v))
                return EXIT_USAGE;
            o->epochs = (size_t)v;
            break;
        case O_BATCH:
            if (!parse_count("batch", optarg, 1, 1000000000ull, &v))
                return EXIT_USAGE;
            o->batch = (size_t)v;
            break;
        case O_LR:
            if (!parse_positive("lr", optarg, &o->lr))
                return EXIT_USAGE;
            break;
        case O_OPTIMIZER:
            for (i = 0; i < N_OPTIMIZERS; i++)
                if (strcmp(optarg, optimizers[i].name) == 0)
                    break;
            if (i == N_OPTIMIZERS) {
                fprintf(stderr, PROG ": unknown --optimizer '%s'; choose "
                        "sgd, momentum, nesterov, adam, adamw or rmsprop\n",
                        optarg);
                return EXIT_USAGE;
            }
            o->optimizer = i;
            break;
        case O_SCHEDULE:
            if (strcmp(optarg, "cosine") == 0) {
                o->cosine = 1;
            } else if (strcmp(optarg, "constant") == 0) {
                o->cosine = 0;
            } else {
                fprintf(stderr, PROG ": unknown --schedule '%s'; choose "
                        "cosine or constant\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case O_THREADS:
            if (!parse_count("threads", optarg, 1, 1024, &v))
                return EXIT_USAGE;
            o->threads = (size_t)v;
            break;
        case O_SEED:
            /* Any 64-bit value is a seed, 0 included. */
            if (!parse_count("seed", optarg, 0, UINT64_MAX, &v))
                return EXIT_USAGE;
            o->seed = (uint64_t)v;
            break;
        case O_DATA:
            if (optarg[0] == '\0') {
                fprintf(stderr, PROG ": --data needs a directory\n");
                return EXIT_USAGE;
            }
            o->data_dir = optarg;
            o->data_dir_given = 1;
            break;
        case O_LIMIT:
            if (!parse_count("limit", optarg, 1, IDX_MAX_COUNT, &v))
                return EXIT_USAGE;
            o->limit = (size_t)v;
            break;
        case O_SAVE:
            if (optarg[0] == '\0') {
                fprintf(stderr, PROG ": --save needs a path\n");
                return EXIT_USAGE;
            }
            o->save_path = optarg;
            break;
        case O_HISTORY:
            if (optarg[0] == '\0') {
                fprintf(stderr, PROG ": --history needs a path\n");
                return EXIT_USAGE;
            }
            o->history_path = optarg;
            break;
        case O_DROPOUT: {
            char *end = NULL;
            errno = 0;
            o->dropout = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || errno != 0 ||
                !(o->dropout >= 0.0 && o->dropout < 1.0)) {
                fprintf(stderr, PROG ": --dropout needs a rate in [0, 1), "
                        "got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case O_BATCHNORM:
        case O_LAYERNORM: {
            nn_layer_kind k = c == O_BATCHNORM ? NN_KIND_BATCHNORM
                                               : NN_KIND_LAYERNORM;
            if (o->norm != 0 && o->norm != k) {
                fprintf(stderr, PROG ": choose --batchnorm or --layernorm, "
                        "not both\n");
                return EXIT_USAGE;
            }
            o->norm = k;
            break;
        }
        case O_HELP:
            usage(stdout);
            return 0;
        default: /* getopt_long has printed the problem */
            fprintf(stderr, "Try '" PROG " --help' for more information.\n");
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'\n"
                "Try '" PROG " --help' for more information.\n",
                argv[optind]);
        return EXIT_USAGE;
    }
    return -1;
}

/* ---- saving ---- */

/* Saves the trained model (architecture, settings, parameters; load it
 * with nn_model_load) to path, atomically: an existing file is replaced only
 * once the new one is complete on disk. Returns 0 on success, else an exit
 * status, having printed the problem. */
static int save_model(const nn_model *model, const char *path)
{
    nn_status st = nn_model_save(model, path, NN_SAVE_MODEL);
    if (st != NN_OK) {
        fprintf(stderr, PROG ": saving the model failed (%s): %s\n",
                nn_status_string(st), nn_last_error());
        return EXIT_USAGE;
    }
    return 0;
}

/* Fails early, before any training, if path's directory cannot take a new
 * file. Returns 0 or an exit status, having printed the problem. */
static int check_save_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int ok;
    if (!slash)
        dir = strdup(".");
    else
        dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
    if (!dir) {
        fprintf(stderr, PROG ": out of memory\n");
        return EXIT_USAGE;
    }
    ok = access(dir, W_OK | X_OK) == 0;
    if (!ok)
        fprintf(stderr, PROG ": --save %s: cannot write in %s: %s\n", path,
                dir, strerror(errno));
    free(dir);
    return ok ? 0 : EXIT_USAGE;
}

/* ---- data ---- */

typedef struct dataset {
    idx_images images;
    idx_labels labels;
} dataset;

static void dataset_free(dataset *d)
{
    idx_images_free(&d->images);
    idx_labels_free(&d->labels);
}

static char *join_path(const char *dir, const char *file)
{
    size_t n = strlen(dir), m = strlen(file);
    int slash = n > 0 && dir[n - 1] != '/';
    char *p = malloc(n + (size_t)slash + m + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, n);
    if (slash)
        p[n] = '/';
    memcpy(p + n + slash, file, m + 1);
    return p;
}

/* Prints a data problem: "fashion_mnist: PATH: MESSAGE", with a hint for a
 * missing file. */
static void report_data_error(const options *o, const char *path,
                              idx_result res, const char *msg)
{
    if (res == IDX_E_NOT_FOUND) {
        if (o->data_dir_given)
            fprintf(stderr, PROG ": %s: not found; --data needs a directory "
                    "holding the four Fashion-MNIST IDX .gz files, as "
                    "installed by apt-get install dataset-fashion-mnist in "
                    DEFAULT_DATA_DIR "\n", path);
        else
            fprintf(stderr, PROG ": %s: not found; " INSTALL_HINT "\n",
                    path);
    } else {
        fprintf(stderr, PROG ": %s: %s\n", path, msg);
    }
}

/* Loads one images + labels pair from the data directory. Returns 0 or an
 * exit status, having printed the problem. */
static int load_set(const options *o, const char *images_file,
                    const char *labels_file, dataset *out)
{
    char msg[512];
    char *images_path = join_path(o->data_dir, images_file);
    char *labels_path = join_path(o->data_dir, labels_file);
    idx_result res;
    int status = 0;

    if (!images_path || !labels_path) {
        fprintf(stderr, PROG ": out of memory\n");
        status = EXIT_USAGE;
        goto done;
    }
    res = idx_read_images(images_path, IMAGE_SIDE, IMAGE_SIDE, &out->images,
                          msg, sizeof msg);
    if (res != IDX_OK) {
        report_data_error(o, images_path, res, msg);
        status = res == IDX_E_NOMEM ? EXIT_USAGE : EXIT_DATA;
        goto done;
    }
    res = idx_read_labels(labels_path, CLASSES, &out->labels, msg,
                          sizeof msg);
    if (res != IDX_OK) {
        report_data_error(o, labels_path, res, msg);
        status = res == IDX_E_NOMEM ? EXIT_USAGE : EXIT_DATA;
        goto done;
    }
    if (out->labels.count != out->images.count) {
        fprintf(stderr, PROG ": %s: holds %zu labels, but %s holds %zu "
                "images\n", labels_path, out->labels.count, images_path,
                out->images.count);
        status = EXIT_DATA;
    }
done:
    if (status != 0)
        dataset_free(out);
    free(images_path);
    free(labels_path);
    return status;
}

/* ---- progress ---- */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct progress {
    FILE *history;       /* per-epoch CSV, or NULL */
    int tty;             /* draw the bar? */
    size_t epochs;       /* total, for "epoch  3/10" */
    int epoch_digits;    /* width of the epoch number */
    size_t rows;         /* training rows */
    size_t batch;        /* rows per step */
    double loss_sum;     /* sum over this epoch's steps of loss * rows */
    size_t rows_done;    /* rows of this epoch so far */
    long last_tick;      /* last bar position drawn, -1 for none yet */
    size_t bar_len;      /* length of the last line drawn, to erase it */
} progress;

static int digits(size_t v)
{
    int d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

/* Called after every step. The bar shows the mean loss of the epoch so far,
 * weighted by rows like fit's train_loss, and is redrawn only when it moves
 * by a twentieth of the epoch. */
static int on_batch(void *user, size_t epoch, size_t batch, size_t batches,
                    double loss)
{
    progress *p = user;
    size_t rows = p->batch;
    long tick;
    char bar[BAR_WIDTH + 1];
    int len, i, filled;

    if (batch == 1) {
        p->loss_sum = 0.0;
        p->rows_done = 0;
        p->last_tick = -1;
    }
    if (batch == batches && p->rows % p->batch != 0)
        rows = p->rows % p->batch;
    p->loss_sum += loss * (double)rows;
    p->rows_done += rows;
    if (!p->tty)
        return 0;

    tick = (long)((double)batch * BAR_UPDATES / (double)batches);
    if (tick == p->last_tick && batch != batches)
        return 0;
    p->last_tick = tick;
    filled = (int)((double)batch * BAR_WIDTH / (double)batches);
    for (i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '-';
    bar[BAR_WIDTH] = '\0';
    len = printf("\repoch %*zu/%zu [%s] %3d%% loss %.4f  batch %zu/%zu",
                 p->epoch_digits, epoch, p->epochs, bar,
                 (int)(100.0 * (double)batch / (double)batches),
                 p->loss_sum / (double)p->rows_done, batch, batches);
    if (len > 0)
        p->bar_len = (size_t)len;
    fflush(stdout);
    return 0;
}

/* Called after every epoch: one plain line, replacing the bar. */
static int on_epoch(void *user, size_t epoch, double train_loss,
                    double val_loss, double val_accuracy, double seconds)
{
    progress *p = user;

    if (p->tty && p->bar_len > 0) {
        /* Blank the bar (its leading \r counts in bar_len) and return. */
        printf("\r%*s\r", (int)(p->bar_len - 1), "");
        p->bar_len = 0;
    }
    printf("epoch %*zu/%zu  train loss %.4f", p->epoch_digits, epoch,
           p->epochs, train_loss);
    if (isnan(val_loss))
        printf("  (no validation)");
    else
        printf("  val loss %.4f  val acc %6.2f%%", val_loss,
               100.0 * val_accuracy);
    printf("  %7.1f s\n", seconds);
    fflush(stdout);
    if (p->history)
        fprintf(p->history, "%zu,%.6f,%.6f,%.6f,%.3f\n", epoch, train_loss,
                val_loss, val_accuracy, seconds);
    return 0;
}

/* ---- the model ---- */

/* Prints the failed call's message; returns the exit status. */
static int nn_failed(const char *what, nn_status st)
{
    fprintf(stderr, PROG ": %s failed (%s): %s\n", what,
            nn_status_string(st), nn_last_error());
    return EXIT_USAGE;
}

#define CHECK(what, call)                                                     \
    do {                                                                      \
        nn_status st_ = (call);                                               \
        if (st_ != NN_OK) {                                                   \
            status = nn_failed(what, st_);                                    \
            goto done;                                                        \
        }                                                                     \
    } while (0)

int main(int argc, char **argv)
{
    options o;
    dataset train, test;
    nn_model *model = NULL;
    nn_data *train_data = NULL, *val_data = NULL, *test_data = NULL;
    progress prog;
    size_t train_rows, val_rows;
    double lr, t_start, t_fit, fit_seconds, test_loss = 0.0, test_acc = 0.0;
    int status;

    memset(&train, 0, sizeof train);
    memset(&test, 0, sizeof test);
    memset(&prog, 0, sizeof prog);
    t_start = now_seconds();

    status = parse_options(argc, argv, &o);
    if (status >= 0)
        return status;
    status = 0;
    if (o.save_path && (status = check_save_dir(o.save_path)) != 0)
        return status;
    lr = o.lr > 0.0 ? o.lr : optimizers[o.optimizer].default_lr;

    if (o.threads > 0) {
        nn_status st = nn_set_blas_threads(o.threads);
        if (st != NN_OK)
            fprintf(stderr, PROG ": warning: --threads %zu ignored: %s\n",
                    o.threads, nn_last_error());
    }

    /* ---- data ---- */
    status = load_set(&o, "train-images-idx3-ubyte.gz",
                      "train-labels-idx1-ubyte.gz", &train);
    if (status == 0)
        status = load_set(&o, "t10k-images-idx3-ubyte.gz",
                          "t10k-labels-idx1-ubyte.gz", &test);
    if (status != 0)
        goto done;

    /* Training rows first, then validation rows: the last 5000 by default,
     * or the (up to) 5000 after --limit. */
    if (o.limit > 0) {
        if (o.limit > train.images.count) {
            fprintf(stderr, PROG ": --limit %zu exceeds the %zu training "
                    "images\n", o.limit, train.images.count);
            status = EXIT_USAGE;
            goto done;
        }
        train_rows = o.limit;
    } else {
        train_rows = train.images.count > VALIDATION_ROWS
                         ? train.images.count - VALIDATION_ROWS
                         : train.images.count;
    }
    val_rows = train.images.count - train_rows;
    if (val_rows > VALIDATION_ROWS)
        val_rows = VALIDATION_ROWS;

    CHECK("nn_data_create_labels (train)",
          nn_data_create_labels(&train_data, train_rows, train.images.pixels,
                                IMAGE_SIZE, train.labels.labels));
    if (val_rows > 0)
        CHECK("nn_data_create_labels (validation)",
              nn_data_create_labels(&val_data, val_rows,
                                    train.images.pixels +
                                        train_rows * IMAGE_SIZE,
                                    IMAGE_SIZE,
                                    train.labels.labels + train_rows));
    CHECK("nn_data_create_labels (test)",
          nn_data_create_labels(&test_data, test.images.count,
                                test.images.pixels, IMAGE_SIZE,
                                test.labels.labels));

    /* ---- model ---- */
    CHECK("nn_model_create", nn_model_create(&model, IMAGE_SIZE, o.seed));
    {
        /* Each hidden layer: the product, its normalization with the relu
         * after it (as torch.nn.Sequential(Linear, BatchNorm1d, ReLU)), or
         * the relu in the dense layer itself; then dropout. */
        static const size_t hidden[2] = {256, 128};
        size_t h;
        for (h = 0; h < 2; h++) {
            CHECK("nn_model_add_dense",
                  nn_model_add_dense(model, hidden[h],
                                     o.norm ? NN_ACT_IDENTITY
                                            : NN_ACT_RELU));
            if (o.norm == NN_KIND_BATCHNORM)
                CHECK("nn_model_add_batchnorm",
                      nn_model_add_batchnorm(model));
            if (o.norm == NN_KIND_LAYERNORM)
                CHECK("nn_model_add_layernorm",
                      nn_model_add_layernorm(model));
            if (o.norm)
                CHECK("nn_model_add_activation",
                      nn_model_add_activation(model, NN_ACT_RELU));
            if (o.dropout > 0.0)
                CHECK("nn_model_add_dropout",
                      nn_model_add_dropout(model, o.dropout));
        }
    }
    CHECK("nn_model_add_dense",
          nn_model_add_dense(model, CLASSES, NN_ACT_SOFTMAX));
    CHECK("nn_model_set_loss",
          nn_model_set_loss(model, NN_LOSS_CROSS_ENTROPY));
    CHECK("nn_model_set_optimizer",
          nn_model_set_optimizer(model, optimizers[o.optimizer].kind));
    CHECK("setting the learning rate",
          nn_model_set_param(model, NN_PARAM_LEARNING_RATE, lr));
    if (optimizers[o.optimizer].kind == NN_OPT_SGD) {
        CHECK("setting the momentum",
              nn_model_set_param(model, NN_PARAM_MOMENTUM,
                                 optimizers[o.optimizer].momentum));
        CHECK("setting Nesterov momentum",
              nn_model_set_param(model, NN_PARAM_NESTEROV,
                                 optimizers[o.optimizer].nesterov));
    }
    CHECK("setting the weight decay",
          nn_model_set_param(model, NN_PARAM_WEIGHT_DECAY,
                             optimizers[o.optimizer].weight_decay));
    CHECK("setting the epochs",
          nn_model_set_param(model, NN_PARAM_EPOCHS, (double)o.epochs));
    CHECK("setting the batch size",
          nn_model_set_param(model, NN_PARAM_BATCH_SIZE, (double)o.batch));
    if (o.cosine) {
        /* One half cosine over every step of the run. */
        size_t batch = o.batch < train_rows ? o.batch : train_rows;
        double steps = (double)o.epochs *
                       (double)((train_rows + batch - 1) / batch);
        CHECK("nn_model_set_schedule",
              nn_model_set_schedule(model, NN_SCHED_COSINE));
        CHECK("setting the schedule's length",
              nn_model_set_param(model, NN_PARAM_SCHED_T_MAX, steps));
    }

    printf("Fashion-MNIST from %s: %zu training, %zu validation, %zu test "
           "images\n", o.data_dir, train_rows, val_rows, test.images.count);
    printf("784-256-128-10 relu/relu/softmax");
    if (o.norm)
        printf(", %s", nn_layer_kind_name(o.norm));
    if (o.dropout > 0.0)
        printf(", dropout %g", o.dropout);
    printf(", %s, lr %g (%s), batch %zu, %zu epoch%s, seed %llu\n",
           optimizers[o.optimizer].name, lr,
           o.cosine ? "cosine" : "constant", o.batch, o.epochs,
           o.epochs == 1 ? "" : "s", (unsigned long long)o.seed);
    fflush(stdout);

    /* ---- training ---- */
    prog.tty = isatty(STDOUT_FILENO);
    prog.epochs = o.epochs;
    prog.epoch_digits = digits(o.epochs);
    prog.rows = train_rows;
    prog.batch = o.batch < train_rows ? o.batch : train_rows;
    prog.last_tick = -1;
    if (o.history_path) {
        prog.history = fopen(o.history_path, "w");
        if (!prog.history) {
            fprintf(stderr, PROG ": --history %s: %s\n", o.history_path,
                    strerror(errno));
            status = EXIT_USAGE;
            goto done;
        }
        fprintf(prog.history,
                "epoch,train_loss,val_loss,val_accuracy,seconds\n");
    }

    t_fit = now_seconds();
    {
        nn_status st = nn_model_fit(model, train_data, val_data, on_epoch,
                                    on_batch, &prog);
        if (prog.tty && prog.bar_len > 0)
            printf("\n"); /* keep a half-drawn bar readable */
        if (st != NN_OK) {
            status = nn_failed("nn_model_fit", st);
            if (st == NN_E_NONFINITE)
                fprintf(stderr, PROG ": the training diverged; try a "
                        "smaller --lr (now %g)\n", lr);
            goto done;
        }
    }
    fit_seconds = now_seconds() - t_fit;

    /* ---- test ---- */
    CHECK("nn_model_evaluate",
          nn_model_evaluate(model, test_data, &test_loss, &test_acc));
    printf("test accuracy %.2f%% (%zu images), test loss %.4f, trained in "
           "%.1f s, total %.1f s\n", 100.0 * test_acc, test.images.count,
           test_loss, fit_seconds, now_seconds() - t_start);

    if (o.save_path) {
        status = save_model(model, o.save_path);
        if (status == 0)
            printf("model saved to %s\n", o.save_path);
    }

done:
    fflush(stdout);
    if (prog.history && fclose(prog.history) != 0 && status == 0) {
        fprintf(stderr, PROG ": --history %s: %s\n", o.history_path,
                strerror(errno));
        status = EXIT_USAGE;
    }
    nn_model_free(model);
    nn_data_free(train_data);
    nn_data_free(val_data);
    nn_data_free(test_data);
    dataset_free(&train);
    dataset_free(&test);
    return status;
}
