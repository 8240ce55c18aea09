/* SPDX-License-Identifier: MIT */
/*
 * train.c - nn train: reads a data set, builds a network from --layers
 * (with the inputs' scaling as its first, fixed layer), trains it with
 * nn_model_fit and saves it with what the other commands need in its
 * metadata (see meta.h). SIGINT or SIGTERM stop the run after the step in
 * progress and save a checkpoint beside the output, which --resume
 * continues exactly where the run stopped.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mem.h"
#include "meta.h"
#include "outfile.h"
#include "progress.h"
#include "spec.h"

#define CMD "train"
#define MAX_SET 64

enum { SCALE_STANDARD = 1, SCALE_MINMAX, SCALE_NONE };
static const char *const scale_names[] = {NULL, "standard", "minmax",
                                          "none"};

enum {
    O_LAYERS = CLI_O_FIRST_FREE,
    O_LOSS,
    O_SCALE,
    O_OPTIMIZER,
    O_LR,
    O_MOMENTUM,
    O_NESTEROV,
    O_WEIGHT_DECAY,
    O_SCHEDULE,
    O_WARMUP,
    O_SET,
    O_EPOCHS,
    O_BATCH,
    O_PATIENCE,
    O_VAL_SPLIT,
    O_VAL,
    O_VAL_TARGETS,
    O_SEED,
    O_CLASS_WEIGHTS,
    /* the run's own options, not kept in the model */
    O_OUTPUT,
    O_RESUME,
    O_LOG,
    O_FORCE,
    O_QUIET
};

static const struct option longopts[] = {
    CLI_DATA_OPTIONS,
    {"layers", required_argument, NULL, O_LAYERS},
    {"loss", required_argument, NULL, O_LOSS},
    {"scale", required_argument, NULL, O_SCALE},
    {"optimizer", required_argument, NULL, O_OPTIMIZER},
    {"lr", required_argument, NULL, O_LR},
    {"momentum", required_argument, NULL, O_MOMENTUM},
    {"nesterov", no_argument, NULL, O_NESTEROV},
    {"weight-decay", required_argument, NULL, O_WEIGHT_DECAY},
    {"schedule", required_argument, NULL, O_SCHEDULE},
    {"warmup", required_argument, NULL, O_WARMUP},
    {"set", required_argument, NULL, O_SET},
    {"epochs", required_argument, NULL, O_EPOCHS},
    {"batch-size", required_argument, NULL, O_BATCH},
    {"patience", required_argument, NULL, O_PATIENCE},
    {"val-split", required_argument, NULL, O_VAL_SPLIT},
    {"val", required_argument, NULL, O_VAL},
    {"val-targets", required_argument, NULL, O_VAL_TARGETS},
    {"seed", required_argument, NULL, O_SEED},
    {"class-weights", required_argument, NULL, O_CLASS_WEIGHTS},
    {"output", required_argument, NULL, O_OUTPUT},
    {"resume", required_argument, NULL, O_RESUME},
    {"log", required_argument, NULL, O_LOG},
    {"force", no_argument, NULL, O_FORCE},
    {"quiet", no_argument, NULL, O_QUIET},
    {"threads", required_argument, NULL, CLI_O_THREADS},
    {"help", no_argument, NULL, CLI_O_HELP},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
"usage: nn train DATA --layers SPEC [options] -o MODEL\n"
"       nn train DATA --resume CHECKPOINT -o MODEL\n"
"Trains a network on DATA (CSV, or NPY or IDX inputs with --targets) and\n"
"saves it to MODEL.\n"
"\n"
"The network:\n"
"  --layers SPEC         layers separated by commas: WIDTH[:ACTIVATION]\n"
"                        (dense), dropout:RATE, batchnorm, layernorm or an\n"
"                        ACTIVATION alone, each with :KEY=VALUE settings;\n"
"                        e.g. 64:relu,dropout:0.2,3:softmax\n"
"  --loss NAME           mse, bce, cross_entropy, l1 or huber (default:\n"
"                        cross_entropy after softmax, bce after sigmoid,\n"
"                        else mse)\n"
"  --scale standard|minmax|none\n"
"                        scale each input with statistics of the training\n"
"                        rows, kept in the model (default standard)\n"
"Training:\n"
"  --optimizer NAME      sgd, adam, adamw or rmsprop (default adam)\n"
"  --lr X                learning rate (default 0.001; sgd 0.01)\n"
"  --momentum X          SGD or RMSprop momentum (default 0)\n"
"  --nesterov            Nesterov momentum (SGD)\n"
"  --weight-decay X      weight decay (default 0; adamw 0.01)\n"
"  --schedule NAME       constant, step, exponential or cosine (default\n"
"                        constant; cosine anneals to 0 over the run)\n"
"  --warmup N            linear warm-up over N steps\n"
"  --set KEY=VALUE       any other setting by its libnn name, e.g.\n"
"                        clip_norm=1 or label_smoothing=0.1 (repeatable)\n"
"  --epochs N            passes over the data (default 10)\n"
"  --batch-size N        rows per step (default 32)\n"
"  --patience N          early stopping after N epochs without a better\n"
"                        validation loss, keeping the best epoch's weights\n"
"  --val-split X         hold out a fraction X < 1, or X rows, chosen at\n"
"                        random, for validation\n"
"  --val FILE            validate on FILE instead (read like DATA)\n"
"  --val-targets FILE    its targets, for NPY or IDX validation inputs\n"
"  --class-weights W     'balanced' or one weight per class, w0,w1,...\n"
"  --seed N              seed of initialisation, shuffling and the split\n"
"                        (default 1)\n"
CLI_DATA_HELP
"Output:\n"
"  -o, --output MODEL    the model file to write\n"
"  --force               replace MODEL (and the --log file) if they exist\n"
"  --resume CHECKPOINT   continue the interrupted run CHECKPOINT holds (its\n"
"                        options are kept in it: give only DATA and -o)\n"
"  --log FILE            write one JSON object per epoch to FILE\n"
"  --quiet               print nothing while training\n"
"  --threads N           BLAS threads\n"
"  --help                show this help\n"
"\n"
"SIGINT (Ctrl-C) or SIGTERM stops training after the current step and saves\n"
"MODEL.checkpoint; exit status 130. Exit status: 0 success, 1 failure, 2 bad\n"
"usage or data.\n");
}

typedef struct train_opts {
    cli_data_opts data;
    const char *layers;
    int loss;
    int scale;
    int optimizer;
    double lr, momentum, weight_decay, val_split;
    int nesterov;
    int schedule;
    size_t warmup, epochs, batch, patience;
    int warmup_given, patience_given;
    const char *val_path, *val_targets;
    uint64_t seed;
    const char *class_weights;
    size_t n_set;
    nn_param set_key[MAX_SET];
    double set_val[MAX_SET];
    /* the run */
    const char *out, *resume, *log;
    int force, quiet;
    /* the options that shape the run, as --name=value */
    char **recipe;
    size_t n_recipe, cap_recipe;
    /* a resumed run's options, read from the checkpoint: the parsed
     * values point into them */
    char **kept;
    size_t n_kept;
} train_opts;

static void opts_init(train_opts *o)
{
    memset(o, 0, sizeof *o);
    cli_data_opts_init(&o->data);
    o->scale = SCALE_STANDARD;
    o->optimizer = NN_OPT_ADAM;
    o->lr = NAN;
    o->momentum = NAN;
    o->weight_decay = NAN;
    o->schedule = NN_SCHED_CONSTANT;
    o->epochs = 10;
    o->batch = 32;
    o->seed = 1;
}

static void opts_free(train_opts *o)
{
    cli_data_opts_free(&o->data);
    cli_list_free(o->recipe, o->n_recipe);
    o->recipe = NULL;
    o->n_recipe = 0;
    cli_list_free(o->kept, o->n_kept);
    o->kept = NULL;
    o->n_kept = 0;
}

static cli_status keep_recipe(train_opts *o, const char *name,
                              const char *arg, cli_err *e)
{
    size_t n = strlen(name) + (arg ? strlen(arg) : 0) + 4;
    char *s;
    if (o->n_recipe == o->cap_recipe) {
        size_t ncap = o->cap_recipe ? o->cap_recipe * 2 : 16;
        char **p = cli_realloc_array(o->recipe, ncap, sizeof *p);
        if (!p)
            return cli_nomem(e, "for the options");
        o->recipe = p;
        o->cap_recipe = ncap;
    }
    s = cli_malloc(n);
    if (!s)
        return cli_nomem(e, "for the options");
    if (arg)
        snprintf(s, n, "--%s=%s", name, arg);
    else
        snprintf(s, n, "--%s", name);
    o->recipe[o->n_recipe++] = s;
    return CLI_OK;
}

static cli_status parse_set(train_opts *o, const char *arg, cli_err *e)
{
    const char *eq = strchr(arg, '=');
    char key[64], names[1024];
    int k;
    double v;
    cli_status st;

    if (!eq || (size_t)(eq - arg) >= sizeof key)
        return cli_fail(e, CLI_E_USAGE, "--set: '%s' is not KEY=VALUE", arg);
    memcpy(key, arg, (size_t)(eq - arg));
    key[eq - arg] = '\0';
    for (k = 1; nn_param_name((nn_param)k); k++)
        if (strcmp(nn_param_name((nn_param)k), key) == 0)
            break;
    if (!nn_param_name((nn_param)k))
        return cli_fail(e, CLI_E_USAGE, "--set: unknown setting '%s'; "
                        "expected %s", key,
                        cli_name_list(cli_param_name, names, sizeof names));
    st = cli_opt_double("set", eq + 1, -1e300, 1e300, &v, e);
    if (st != CLI_OK)
        return st;
    if (o->n_set == MAX_SET)
        return cli_fail(e, CLI_E_USAGE, "--set: more than %d settings",
                        MAX_SET);
    o->set_key[o->n_set] = (nn_param)k;
    o->set_val[o->n_set] = v;
    o->n_set++;
    return CLI_OK;
}

/* Parses argv into o. from_model: argv holds the options a checkpoint
 * kept (no DATA). On the command line of a resumed run (resuming), the
 * options that shape the run are refused: they come from the checkpoint. */
static int is_recipe(int c)
{
    return (c >= CLI_O_FORMAT && c <= CLI_O_ROWS) ||
           (c >= O_LAYERS && c <= O_CLASS_WEIGHTS);
}

static cli_status parse(int argc, char **argv, train_opts *o, int from_model,
                        int resuming, int *help, cli_err *e)
{
    int c, idx;
    cli_status st = CLI_OK;
    const char *data = NULL;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "-:o:", longopts, &idx)) != -1) {
        int recipe = is_recipe(c);
        const char *name = recipe ? longopts[idx].name : NULL;
        if (recipe && !from_model && resuming)
            return cli_fail(e, CLI_E_USAGE, "--%s: a resumed run takes its "
                            "options from the checkpoint; give only DATA, "
                            "--resume and -o (and --log, --quiet, --force, "
                            "--threads)", name);
        if (!recipe && from_model)
            return cli_fail(e, CLI_E_DATA, "the checkpoint keeps an option "
                            "it should not: %s", argv[optind - 1]);
        st = cli_data_opt(&o->data, c, optarg, e);
        if (st != CLI_OK && (int)st != -1)
            return st;
        if ((int)st == -1) {
            st = CLI_OK;
            switch (c) {
            case 1:
                if (from_model || data)
                    return cli_fail(e, CLI_E_USAGE, "unexpected argument "
                                    "'%s' (one DATA file)", optarg);
                data = optarg;
                break;
            case O_LAYERS:
                o->layers = optarg;
                break;
            case O_LOSS:
                st = cli_opt_name("loss", optarg, cli_loss_name, &o->loss,
                                  e);
                break;
            case O_SCALE:
                for (o->scale = SCALE_STANDARD; o->scale <= SCALE_NONE;
                     o->scale++)
                    if (strcmp(scale_names[o->scale], optarg) == 0)
                        break;
                if (o->scale > SCALE_NONE)
                    st = cli_fail(e, CLI_E_USAGE, "--scale: unknown value "
                                  "'%s'; expected standard, minmax or none",
                                  optarg);
                break;
            case O_OPTIMIZER:
                st = cli_opt_name("optimizer", optarg, cli_opt_kind_name,
                                  &o->optimizer, e);
                break;
            case O_LR:
                st = cli_opt_double("lr", optarg, 0, 1e6, &o->lr, e);
                break;
            case O_MOMENTUM:
                st = cli_opt_double("momentum", optarg, 0, 0.9999,
                                    &o->momentum, e);
                break;
            case O_NESTEROV:
                o->nesterov = 1;
                break;
            case O_WEIGHT_DECAY:
                st = cli_opt_double("weight-decay", optarg, 0, 1e3,
                                    &o->weight_decay, e);
                break;
            case O_SCHEDULE:
                st = cli_opt_name("schedule", optarg, cli_sched_name,
                                  &o->schedule, e);
                break;
            case O_WARMUP:
                st = cli_opt_size("warmup", optarg, 0, (size_t)1 << 50,
                                  &o->warmup, e);
                o->warmup_given = 1;
                break;
            case O_SET:
                st = parse_set(o, optarg, e);
                break;
            case O_EPOCHS:
                st = cli_opt_size("epochs", optarg, 1, 1000000000,
                                  &o->epochs, e);
                break;
            case O_BATCH:
                st = cli_opt_size("batch-size", optarg, 1, 1000000000,
                                  &o->batch, e);
                break;
            case O_PATIENCE:
                st = cli_opt_size("patience", optarg, 0, 1000000000,
                                  &o->patience, e);
                o->patience_given = 1;
                break;
            case O_VAL_SPLIT:
                st = cli_opt_double("val-split", optarg, 0, 1e15,
                                    &o->val_split, e);
                if (st == CLI_OK && o->val_split >= 1 &&
                    o->val_split != floor(o->val_split))
                    st = cli_fail(e, CLI_E_USAGE, "--val-split: %s is "
                                  "neither a fraction below 1 nor a whole "
                                  "number of rows", optarg);
                break;
            case O_VAL:
                o->val_path = optarg;
                break;
            case O_VAL_TARGETS:
                o->val_targets = optarg;
                break;
            case O_SEED:
                st = cli_opt_u64("seed", optarg, &o->seed, e);
                break;
            case O_CLASS_WEIGHTS:
                o->class_weights = optarg;
                break;
            case 'o':
            case O_OUTPUT:
                o->out = optarg;
                break;
            case O_RESUME:
                o->resume = optarg;
                break;
            case O_LOG:
                o->log = optarg;
                break;
            case O_FORCE:
                o->force = 1;
                break;
            case O_QUIET:
                o->quiet = 1;
                break;
            case CLI_O_THREADS:
                st = cli_set_threads(optarg, e);
                break;
            case CLI_O_HELP:
                *help = 1;
                return CLI_OK;
            default: /* ':' too */
                return cli_getopt_fail(c, argv, e);
            }
        }
        if (st != CLI_OK)
            return st;
        if (recipe && !from_model &&
            (st = keep_recipe(o, name, longopts[idx].has_arg ? optarg : NULL,
                              e)) != CLI_OK)
            return st;
    }
    if (!from_model) {
        if (!data)
            return cli_fail(e, CLI_E_USAGE, "no DATA file given");
        o->data.spec.path = data;
    }
    o->data.spec.keep_bytes = 1; /* byte images are trained on as bytes */
    return CLI_OK;
}

/* ---- building the model ---- */

/* Per-input scale and shift from the training rows: (x - mean) / sd for
 * standard, (x - min) / (max - min) for minmax; a constant input is only
 * shifted. */
static cli_status scaling(const cli_data *d, int kind, float **scale,
                          float **shift, cli_err *e)
{
    size_t n = d->rows, w = d->nx, i, j;
    double *a = cli_malloc_array(w, sizeof *a);
    double *b = cli_malloc_array(w, sizeof *b);
    float *buf = cli_malloc_array(w, sizeof *buf); /* a row of bytes */
    const float *x;
    *scale = cli_malloc_array(w, sizeof **scale);
    *shift = cli_malloc_array(w, sizeof **shift);
    if (!a || !b || !buf || !*scale || !*shift) {
        cli_free(a);
        cli_free(b);
        cli_free(buf);
        cli_free(*scale);
        cli_free(*shift);
        *scale = *shift = NULL;
        return cli_nomem(e, "computing the scaling");
    }
    x = cli_data_x_floats(d, 0, w, buf);
    for (j = 0; j < w; j++) {
        a[j] = kind == SCALE_STANDARD ? 0.0 : x[j];
        b[j] = kind == SCALE_STANDARD ? 0.0 : x[j];
    }
    if (kind == SCALE_STANDARD) {
        /* mean, then the population variance about it (as scikit-learn's
         * StandardScaler), in double */
        for (i = 0; i < n; i++) {
            x = cli_data_x_floats(d, i * w, w, buf);
            for (j = 0; j < w; j++)
                a[j] += x[j];
        }
        for (j = 0; j < w; j++)
            a[j] /= (double)n;
        for (i = 0; i < n; i++) {
            x = cli_data_x_floats(d, i * w, w, buf);
            for (j = 0; j < w; j++) {
                double dx = x[j] - a[j];
                b[j] += dx * dx;
            }
        }
        for (j = 0; j < w; j++) {
            double sd = sqrt(b[j] / (double)n);
            double s = sd > 0 ? 1.0 / sd : 1.0;
            (*scale)[j] = (float)s;
            (*shift)[j] = (float)(-a[j] * s);
        }
    } else {
        for (i = 1; i < n; i++) {
            x = cli_data_x_floats(d, i * w, w, buf);
            for (j = 0; j < w; j++) {
                double v = x[j];
                if (v < a[j])
                    a[j] = v;
                if (v > b[j])
                    b[j] = v;
            }
        }
        for (j = 0; j < w; j++) {
            double r = b[j] - a[j];
            double s = r > 0 ? 1.0 / r : 1.0;
            (*scale)[j] = (float)s;
            (*shift)[j] = (float)(-a[j] * s);
        }
    }
    cli_free(a);
    cli_free(b);
    cli_free(buf);
    return CLI_OK;
}

#define LIB(what, call)                                                       \
    do {                                                                      \
        nn_status s_ = (call);                                                \
        if (s_ != NN_OK)                                                      \
            return cli_lib_fail(e, s_, what);                                 \
    } while (0)

static int has_set(const train_opts *o, nn_param key)
{
    size_t i;
    for (i = 0; i < o->n_set; i++)
        if (o->set_key[i] == key)
            return 1;
    return 0;
}

static cli_status class_weights(nn_model *m, const train_opts *o,
                                const cli_data *d, size_t k, cli_err *e)
{
    float *w;
    size_t i;
    nn_status s;

    w = cli_malloc_array(k, sizeof *w);
    if (!w)
        return cli_nomem(e, "for the class weights");
    if (strcmp(o->class_weights, "balanced") == 0) {
        /* n / (k * count of the class), as scikit-learn's "balanced" */
        for (i = 0; i < k; i++)
            w[i] = 0;
        for (i = 0; i < d->rows; i++)
            w[d->labels ? (size_t)d->labels[i] : (size_t)d->t[i]] += 1;
        for (i = 0; i < k; i++)
            w[i] = w[i] > 0 ? (float)((double)d->rows /
                                       ((double)k * (double)w[i]))
                            : 0.0f;
    } else {
        char **items;
        size_t n;
        cli_status st = cli_list_split("class-weights", o->class_weights,
                                       &items, &n, e);
        if (st != CLI_OK) {
            cli_free(w);
            return st;
        }
        if (n != k) {
            cli_list_free(items, n);
            cli_free(w);
            return cli_fail(e, CLI_E_USAGE, "--class-weights: %zu weights "
                            "for %zu classes", n, k);
        }
        for (i = 0; i < n && st == CLI_OK; i++) {
            double v;
            st = cli_opt_double("class-weights", items[i], 0, 1e30, &v, e);
            w[i] = (float)v;
        }
        cli_list_free(items, n);
        if (st != CLI_OK) {
            cli_free(w);
            return st;
        }
    }
    s = nn_model_set_class_weights(m, w, k);
    cli_free(w);
    if (s != NN_OK)
        return cli_lib_fail(e, s, "--class-weights");
    return CLI_OK;
}

static cli_status build(nn_model **out, const train_opts *o,
                        const cli_layer *layers, size_t nl, int loss,
                        const cli_data *train, size_t k, cli_err *e)
{
    nn_model *m = NULL;
    cli_status st;
    size_t i;
    double lr;

    *out = NULL;
    LIB("nn_model_create", nn_model_create(&m, train->nx, o->seed));
    *out = m;
    if (o->scale != SCALE_NONE) {
        float *sc, *sh;
        nn_status s;
        st = scaling(train, o->scale, &sc, &sh, e);
        if (st != CLI_OK)
            return st;
        s = nn_model_add_scaling(m, sc, sh, train->nx);
        cli_free(sc);
        cli_free(sh);
        if (s != NN_OK)
            return cli_lib_fail(e, s, "the scaling layer");
    }
    if ((st = cli_spec_apply(m, layers, nl, e)) != CLI_OK)
        return st;
    LIB("--loss", nn_model_set_loss(m, (nn_loss)loss));
    LIB("--optimizer", nn_model_set_optimizer(m, (nn_optimizer)o->optimizer));
    lr = !isnan(o->lr) ? o->lr : o->optimizer == NN_OPT_SGD ? 0.01 : 0.001;
    LIB("--lr", nn_model_set_param(m, NN_PARAM_LEARNING_RATE, lr));
    if (!isnan(o->momentum))
        LIB("--momentum", nn_model_set_param(m, NN_PARAM_MOMENTUM,
                                             o->momentum));
    if (o->nesterov)
        LIB("--nesterov", nn_model_set_param(m, NN_PARAM_NESTEROV, 1));
    if (!isnan(o->weight_decay) || o->optimizer == NN_OPT_ADAMW)
        LIB("--weight-decay",
            nn_model_set_param(m, NN_PARAM_WEIGHT_DECAY,
                               isnan(o->weight_decay) ? 0.01
                                                      : o->weight_decay));
    LIB("--schedule", nn_model_set_schedule(m, (nn_schedule)o->schedule));
    if (o->schedule == NN_SCHED_COSINE && !has_set(o, NN_PARAM_SCHED_T_MAX)) {
        /* one half cosine over the whole run, after the warm-up */
        size_t b = o->batch < train->rows ? o->batch : train->rows;
        double steps = (double)o->epochs *
                       (double)((train->rows + b - 1) / b);
        steps -= (double)o->warmup;
        LIB("the cosine schedule's length",
            nn_model_set_param(m, NN_PARAM_SCHED_T_MAX,
                               steps >= 1 ? steps : 1));
    }
    if (o->warmup_given)
        LIB("--warmup", nn_model_set_param(m, NN_PARAM_WARMUP_STEPS,
                                           (double)o->warmup));
    LIB("--epochs", nn_model_set_param(m, NN_PARAM_EPOCHS,
                                       (double)o->epochs));
    LIB("--batch-size", nn_model_set_param(m, NN_PARAM_BATCH_SIZE,
                                           (double)o->batch));
    if (o->patience_given)
        LIB("--patience", nn_model_set_param(m, NN_PARAM_PATIENCE,
                                             (double)o->patience));
    for (i = 0; i < o->n_set; i++) {
        nn_status s = nn_model_set_param(m, o->set_key[i], o->set_val[i]);
        if (s != NN_OK)
            return cli_fail(e, CLI_E_USAGE, "--set %s: %s",
                            nn_param_name(o->set_key[i]), nn_last_error());
    }
    if (o->class_weights) {
        if (k == 0)
            return cli_fail(e, CLI_E_USAGE, "--class-weights: only for the "
                            "cross_entropy loss (a softmax output)");
        if ((st = class_weights(m, o, train, k, e)) != CLI_OK)
            return st;
    }
    return CLI_OK;
}

static cli_status put_meta(nn_model *m, const train_opts *o,
                           const cli_data *train, const cli_classes *cls,
                           cli_err *e)
{
    cli_status st;
    st = cli_meta_set(m, "nn.format", cli_format_name(train->format), e);
    if (st == CLI_OK && train->format == CLI_FMT_CSV)
        st = cli_meta_put_columns(m, &train->cols, e);
    if (st == CLI_OK && cls->n)
        st = cli_meta_put_classes(m, cls, e);
    if (st == CLI_OK)
        st = cli_meta_set(m, "nn.scale", scale_names[o->scale], e);
    if (st == CLI_OK)
        st = cli_meta_setf(m, "nn.train.rows", e, "%zu", train->rows);
    if (st == CLI_OK)
        st = cli_meta_setf(m, "nn.train.hash", e, "%016llx",
                           (unsigned long long)cli_data_hash(train));
    if (st == CLI_OK)
        st = cli_meta_put_args(m, o->recipe, o->n_recipe, e);
    return st;
}

/* ---- the run ---- */

/* Writes s for a shell: as it is when it is made of safe characters, else
 * in single quotes. */
static void put_word(FILE *f, const char *s)
{
    const char *p;
    int safe = *s != '\0';
    for (p = s; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789_./-:=,+@%", *p))
            safe = 0;
    if (safe) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (p = s; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", f);
        else
            fputc(*p, f);
    }
    fputc('\'', f);
}

/* Builds the layers on a one-input model, so that what libnn refuses
 * (a layer after softmax, a setting out of bounds) is reported before the
 * data is read. */
static cli_status check_layers(const cli_layer *l, size_t n, cli_err *e)
{
    nn_model *probe = NULL;
    cli_status st;
    nn_status s = nn_model_create(&probe, 1, 0);
    if (s != NN_OK)
        return cli_lib_fail(e, s, "nn_model_create");
    st = cli_spec_apply(probe, l, n, e);
    nn_model_free(probe);
    return st;
}

static size_t param_count(const nn_model *m)
{
    size_t i, n = 0;
    for (i = 0; i < nn_model_layer_count(m); i++)
        n += nn_model_layer_weight_count(m, i) +
             nn_model_layer_bias_count(m, i);
    return n;
}

static cli_status make_set(nn_data **out, const cli_data *d, cli_task task,
                           cli_err *e)
{
    nn_status s;
    /* images read as bytes stay bytes: a quarter of the memory, the same
     * results */
    if (task == CLI_TASK_CLASSES && d->xb)
        s = nn_data_create_labels_u8(out, d->rows, d->xb, d->nx, d->labels);
    else if (task == CLI_TASK_CLASSES)
        s = nn_data_create_labels(out, d->rows, d->x, d->nx, d->labels);
    else if (d->xb)
        s = nn_data_create_u8(out, d->rows, d->xb, d->nx, d->t,
                              d->nt ? d->nt : 1);
    else
        s = nn_data_create(out, d->rows, d->x, d->nx, d->t,
                           d->nt ? d->nt : 1);
    return s == NN_OK ? CLI_OK : cli_lib_fail(e, s, "the data set");
}

/* Reads the validation rows: --val FILE like DATA, or a split of train. */
static cli_status load_val(train_opts *o, cli_data *train, cli_task task,
                           size_t nt, cli_data *val, cli_err *e)
{
    memset(val, 0, sizeof *val);
    if (o->val_path) {
        cli_data_opts vo = o->data;
        cli_status st;
        if (o->val_split > 0)
            return cli_fail(e, CLI_E_USAGE, "--val and --val-split: choose "
                            "one");
        vo.spec.path = o->val_path;
        vo.spec.targets_path = o->val_targets;
        vo.rows = NULL;
        if (train->format == CLI_FMT_CSV && !vo.spec.n_target &&
            !vo.spec.n_features) {
            /* the same columns as the training file */
            vo.spec.model = &train->cols;
            vo.spec.model_inputs = train->nx;
        }
        st = cli_data_read(&vo, task, nt, val, e);
        return st;
    }
    if (o->val_split > 0) {
        size_t n = o->val_split < 1
                       ? (size_t)floor(o->val_split * (double)train->rows +
                                       0.5)
                       : (size_t)o->val_split;
        if (n == 0)
            n = 1;
        return cli_data_split(train, n, o->seed, val, e);
    }
    return CLI_OK;
}

static int run(train_opts *o, int argc, char **argv)
{
    cli_err e;
    cli_status st;
    nn_model *m = NULL;
    cli_layer *layers = NULL;
    size_t nl = 0, k = 0, nt = 0, out_width;
    int loss;
    cli_task task;
    cli_data train, val;
    cli_classes cls;
    nn_data *dtrain = NULL, *dval = NULL;
    cli_progress prog;
    cli_out log;
    char *ckpt = NULL;
    nn_status s;
    int code = CLI_EXIT_OK;
    double t0 = cli_now();

    (void)argc;
    (void)argv;
    memset(&train, 0, sizeof train);
    memset(&val, 0, sizeof val);
    memset(&cls, 0, sizeof cls);
    memset(&log, 0, sizeof log);

    /* outputs first: fail before any work */
    if ((st = cli_out_check("-o", o->out, o->force, &e)) != CLI_OK ||
        (o->log && (st = cli_out_check("--log", o->log, o->force, &e)) !=
                       CLI_OK))
        goto fail;
    ckpt = cli_malloc(strlen(o->out) + sizeof ".checkpoint");
    if (!ckpt) {
        st = cli_nomem(&e, "");
        goto fail;
    }
    sprintf(ckpt, "%s.checkpoint", o->out);

    if (o->resume) {
        char **args;
        size_t nargs;
        int help = 0;
        if ((st = cli_model_load(o->resume, &m, &e)) != CLI_OK)
            goto fail;
        st = cli_meta_get_args(m, &o->kept, &o->n_kept, &e);
        args = o->kept;
        nargs = o->n_kept;
        if (st == CLI_OK && nargs == 0)
            st = cli_fail(&e, CLI_E_DATA, "%s: not a checkpoint of nn train "
                          "(it keeps no options)", o->resume);
        if (st == CLI_OK) {
            char **av = cli_malloc_array(nargs + 2, sizeof *av);
            if (!av) {
                st = cli_nomem(&e, "");
            } else {
                av[0] = "nn-train";
                memcpy(av + 1, args, nargs * sizeof *av);
                av[nargs + 1] = NULL;
                st = parse((int)nargs + 1, av, o, 1, 0, &help, &e);
                cli_free(av);
            }
        }
        if (st != CLI_OK)
            goto fail;
    } else if (!o->layers) {
        st = cli_fail(&e, CLI_E_USAGE, "--layers is required, e.g. "
                      "--layers 16:relu,3:softmax");
        goto fail;
    }
    if (!o->layers) {
        st = cli_fail(&e, CLI_E_DATA, "%s: the checkpoint keeps no --layers",
                      o->resume);
        goto fail;
    }
    if ((st = cli_spec_parse(o->layers, &layers, &nl, &e)) != CLI_OK ||
        (!o->resume && (st = check_layers(layers, nl, &e)) != CLI_OK))
        goto fail;
    loss = o->loss;
    if (!loss) {
        nn_activation a = cli_spec_output_act(layers, nl);
        loss = a == NN_ACT_SOFTMAX   ? NN_LOSS_CROSS_ENTROPY
               : a == NN_ACT_SIGMOID ? NN_LOSS_BCE
                                     : NN_LOSS_MSE;
    }
    out_width = cli_spec_output_width(layers, nl, 0);
    if (out_width == 0) {
        st = cli_fail(&e, CLI_E_USAGE, "--layers: no dense layer; the last "
                      "dense layer's width is the number of outputs");
        goto fail;
    }
    task = loss == NN_LOSS_CROSS_ENTROPY ? CLI_TASK_CLASSES
           : loss == NN_LOSS_BCE && out_width == 1 ? CLI_TASK_BINARY
                                                   : CLI_TASK_REGRESS;
    nt = task == CLI_TASK_REGRESS ? out_width : 0;
    k = task == CLI_TASK_CLASSES ? out_width
        : task == CLI_TASK_BINARY ? 2 : 0;

    /* the data */
    if ((st = cli_data_read(&o->data, task, nt, &train, &e)) != CLI_OK)
        goto fail;
    if ((st = load_val(o, &train, task, nt, &val, &e)) != CLI_OK)
        goto fail;
    if (task != CLI_TASK_REGRESS) {
        if (o->resume)
            st = cli_meta_get_classes(m, o->resume, k, &cls, &e);
        else
            st = cli_classes_fit(&train, task, out_width, &cls, &e);
        if (st == CLI_OK && o->resume)
            st = cli_classes_map(&train, task, &cls, &e);
        if (st == CLI_OK && val.rows)
            st = cli_classes_map(&val, task, &cls, &e);
        if (st != CLI_OK)
            goto fail;
    }

    /* the model */
    if (o->resume) {
        char want[32];
        const char *have = nn_model_get_meta(m, "nn.train.hash");
        snprintf(want, sizeof want, "%016llx",
                 (unsigned long long)cli_data_hash(&train));
        if (!have || strcmp(have, want) != 0) {
            st = cli_fail(&e, CLI_E_USAGE, "%s: not the data the "
                          "interrupted run trained on (its rows differ from "
                          "those %s was made from)", train.file, o->resume);
            goto fail;
        }
    } else {
        if ((st = build(&m, o, layers, nl, loss, &train,
                        task == CLI_TASK_CLASSES ? k : 0, &e)) != CLI_OK ||
            (st = put_meta(m, o, &train, &cls, &e)) != CLI_OK)
            goto fail;
    }
    if ((st = make_set(&dtrain, &train, task, &e)) != CLI_OK ||
        (val.rows && (st = make_set(&dval, &val, task, &e)) != CLI_OK))
        goto fail;
    if (o->log && (st = cli_out_open(&log, o->log, o->force, &e)) != CLI_OK)
        goto fail;

    memset(&prog, 0, sizeof prog);
    prog.model = m;
    prog.out = stdout;
    prog.tty = isatty(STDOUT_FILENO);
    prog.quiet = o->quiet;
    prog.log = log.f;
    prog.rows = train.rows;
    prog.batch = o->batch < train.rows ? o->batch : train.rows;
    prog.classify = task != CLI_TASK_REGRESS;
    {
        double ep = 0;
        if (nn_model_get_param(m, NN_PARAM_EPOCHS, &ep) != NN_OK)
            ep = 0;
        prog.epochs = (size_t)ep;
    }
    if (!o->quiet) {
        printf("%s %s: %zu rows of %zu inputs", o->resume ? "resuming"
                                                          : "training on",
               train.file, train.rows, train.nx);
        if (val.rows)
            printf(", %zu validation rows", val.rows);
        if (k)
            printf(", %zu classes", k);
        printf("; %zu parameters, loss %s, %s, %zu epochs of batch %zu\n",
               param_count(m), nn_loss_name(nn_model_loss(m)),
               nn_optimizer_name(nn_model_optimizer(m)), prog.epochs,
               o->batch);
        fflush(stdout);
    }

    cli_progress_start(&prog);
    cli_signals_train(1);
    if (o->resume)
        s = nn_model_fit_resume(m, dtrain, dval, cli_progress_epoch,
                                cli_progress_batch, &prog);
    else
        s = nn_model_fit(m, dtrain, dval, cli_progress_epoch,
                         cli_progress_batch, &prog);
    cli_signals_train(0);
    cli_progress_end(&prog);

    if (prog.interrupted) {
        st = cli_out_save_model(m, ckpt, NN_SAVE_CHECKPOINT, 1, &e);
        if (st != CLI_OK)
            goto fail;
        if (log.f && (st = cli_out_commit(&log, &e)) != CLI_OK)
            goto fail;
        fprintf(stderr, "nn train: interrupted; the run is saved in %s\n"
                "resume it with: nn train ", ckpt);
        put_word(stderr, train.file);
        fputs(" --resume ", stderr);
        put_word(stderr, ckpt);
        fputs(" -o ", stderr);
        put_word(stderr, o->out);
        fputc('\n', stderr);
        code = CLI_EXIT_INTERRUPTED;
        goto done;
    }
    if (s != NN_OK) {
        st = cli_lib_fail(&e, s, "training");
        if (s == NN_E_STATE || s == NN_E_INVALID)
            e.status = st = CLI_E_USAGE;
        if (s == NN_E_NONFINITE)
            snprintf(e.msg + strlen(e.msg), sizeof e.msg - strlen(e.msg),
                     "; the training diverged: try a smaller --lr");
        goto fail;
    }
    /* a model file keeps no step count (that is a checkpoint's): say how
     * long it trained in its metadata */
    if ((st = cli_meta_setf(m, "nn.train.epochs", &e, "%zu",
                            prog.last_epoch)) != CLI_OK ||
        (st = cli_meta_setf(m, "nn.train.steps", &e, "%llu",
                            (unsigned long long)nn_model_step_count(m))) !=
            CLI_OK)
        goto fail;
    if ((st = cli_out_save_model(m, o->out, NN_SAVE_MODEL, o->force, &e)) !=
            CLI_OK ||
        (log.f && (st = cli_out_commit(&log, &e)) != CLI_OK))
        goto fail;
    if (!o->quiet) {
        printf("saved %s (%zu parameters) after %zu epoch%s in %.1f s\n",
               o->out, param_count(m), prog.last_epoch,
               prog.last_epoch == 1 ? "" : "s", cli_now() - t0);
        fflush(stdout);
    }
    goto done;

fail:
    code = cli_exit_code(st);
    cli_report(CMD, &e);
done:
    cli_out_abort(&log);
    nn_data_free(dtrain);
    nn_data_free(dval);
    nn_model_free(m);
    cli_data_free(&train);
    cli_data_free(&val);
    cli_classes_free(&cls);
    cli_free(layers);
    cli_free(ckpt);
    return code;
}

int cli_train(int argc, char **argv)
{
    train_opts o;
    cli_err e;
    int help = 0, i, resuming = 0, code;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strncmp(argv[i], "--resume", 8) == 0 &&
            (argv[i][8] == '\0' || argv[i][8] == '='))
            resuming = 1;
    }
    opts_init(&o);
    if (parse(argc, argv, &o, 0, resuming, &help, &e) != CLI_OK) {
        opts_free(&o);
        return cli_usage_error(CMD, &e);
    }
    if (help) {
        usage(stdout);
        opts_free(&o);
        return CLI_EXIT_OK;
    }
    if (!o.out) {
        cli_fail(&e, CLI_E_USAGE, "no output: give -o MODEL");
        opts_free(&o);
        return cli_usage_error(CMD, &e);
    }
    code = run(&o, argc, argv);
    opts_free(&o);
    return code;
}
