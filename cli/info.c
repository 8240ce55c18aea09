/* SPDX-License-Identifier: MIT */
/*
 * info.c - nn info: everything a model file holds, readable: the file
 * (size, format version, model or checkpoint), every layer (kind, width,
 * activation, settings, parameter count, buffers such as the scaling and
 * batch normalization's running statistics), the loss, optimizer,
 * schedule and every setting, the step count and learning rate, class
 * weights and class names, and the metadata nn train keeps (columns,
 * scaling, the options of the run) and the file nn import read. --json
 * gives the same as one object.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "mem.h"

#define CMD "info"
#define SHORT_LIST 8 /* values shown of a long list without --all */

enum { O_JSON = CLI_O_FIRST_FREE, O_ALL };

static const struct option longopts[] = {
    {"json", no_argument, NULL, O_JSON},
    {"all", no_argument, NULL, O_ALL},
    {"help", no_argument, NULL, CLI_O_HELP},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
"usage: nn info MODEL [--json] [--all]\n"
"Prints everything MODEL holds: the file's size, format version and kind,\n"
"each layer with its settings and buffers, the loss, optimizer, schedule\n"
"and settings, the step count, class weights and names, and the metadata\n"
"nn train keeps (the columns, the scaling, the options of the run) and\n"
"the file nn import read.\n"
"\n"
"  --json    one JSON object, every value in full\n"
"  --all     print long lists (buffers, metadata) in full\n"
"  --help    show this help\n"
"\n"
"Exit status: 0 success, 1 failure, 2 bad usage or a damaged file.\n");
}

typedef struct file_head {
    long long size;
    unsigned version, kind;
} file_head;

/* The size, and the format version and kind from the first 16 bytes (see
 * docs/FORMAT.md). */
static cli_status read_head(const char *path, file_head *h, cli_err *e)
{
    unsigned char b[16];
    struct stat sb;
    FILE *f = fopen(path, "rb");
    if (!f || fstat(fileno(f), &sb) != 0) {
        if (f)
            fclose(f);
        return cli_fail(e, CLI_E_USAGE, "%s: cannot open", path);
    }
    h->size = (long long)sb.st_size;
    if (fread(b, 1, 16, f) != 16) {
        fclose(f);
        return cli_fail(e, CLI_E_DATA, "%s: too short for a model file",
                        path);
    }
    fclose(f);
    h->version = (unsigned)b[8] | (unsigned)b[9] << 8 |
                 (unsigned)b[10] << 16 | (unsigned)b[11] << 24;
    h->kind = (unsigned)b[12] | (unsigned)b[13] << 8 |
              (unsigned)b[14] << 16 | (unsigned)b[15] << 24;
    return CLI_OK;
}

static void floats(FILE *f, const float *v, size_t n, int all, int json)
{
    size_t i, shown = all || json || n <= SHORT_LIST ? n : SHORT_LIST / 2;
    fputc('[', f);
    for (i = 0; i < shown; i++)
        fprintf(f, i ? ", %.9g" : "%.9g", (double)v[i]);
    if (shown < n)
        fprintf(f, ", ... (%zu values)", n);
    fputc(']', f);
}

static const char *kind_str(unsigned kind)
{
    return kind == NN_SAVE_MODEL ? "model"
           : kind == NN_SAVE_CHECKPOINT ? "checkpoint" : "unknown kind";
}

static size_t param_count(const nn_model *m)
{
    size_t i, n = 0;
    for (i = 0; i < nn_model_layer_count(m); i++)
        n += nn_model_layer_weight_count(m, i) +
             nn_model_layer_bias_count(m, i);
    return n;
}

/* The layer settings the layer's kind has, as "name value" pairs. */
static void layer_settings(FILE *f, const nn_model *m, size_t l, int json)
{
    int k, first = 1;
    for (k = 1; nn_layer_param_name((nn_layer_param)k); k++) {
        double v;
        if (nn_model_get_layer_param(m, l, (nn_layer_param)k, &v) != NN_OK)
            continue;
        /* the text shows an activation's setting only where it is used */
        if (!json && ((k == NN_LAYER_LEAKY_SLOPE &&
                       nn_model_layer_activation(m, l) != NN_ACT_LEAKY_RELU) ||
                      (k == NN_LAYER_ELU_ALPHA &&
                       nn_model_layer_activation(m, l) != NN_ACT_ELU)))
            continue;
        if (json) {
            fprintf(f, "%s", first ? "" : ", ");
            cli_json_string(f, nn_layer_param_name((nn_layer_param)k));
            fputs(": ", f);
            if (k == NN_LAYER_INIT && nn_init_name((nn_init)(int)v))
                cli_json_string(f, nn_init_name((nn_init)(int)v));
            else
                cli_json_number(f, v);
        } else if (k == NN_LAYER_INIT && nn_init_name((nn_init)(int)v)) {
            fprintf(f, "  %s %s", nn_layer_param_name((nn_layer_param)k),
                    nn_init_name((nn_init)(int)v));
        } else {
            /* the activations' settings are floats: 7 digits show them */
            fprintf(f, k == NN_LAYER_LEAKY_SLOPE || k == NN_LAYER_ELU_ALPHA
                           ? "  %s %.7g"
                           : "  %s %.9g",
                    nn_layer_param_name((nn_layer_param)k), v);
        }
        first = 0;
    }
}

static int buffers(FILE *f, const nn_model *m, size_t l, int all, int json)
{
    size_t n = nn_model_layer_buffer_count(m, l), w = n / 2;
    nn_layer_kind kind = nn_model_layer_kind(m, l);
    float *b;
    const char *a = kind == NN_KIND_SCALING ? "scale" : "running_mean";
    const char *c = kind == NN_KIND_SCALING ? "shift" : "running_var";
    if (n == 0)
        return 0;
    b = cli_malloc_array(n, sizeof *b);
    if (!b || nn_model_get_layer_buffers(m, l, b, n) != NN_OK) {
        cli_free(b);
        return -1;
    }
    if (json) {
        fprintf(f, ", \"%s\": ", a);
        floats(f, b, w, 1, 1);
        fprintf(f, ", \"%s\": ", c);
        floats(f, b + w, w, 1, 1);
    } else {
        fprintf(f, "\n      %s ", a);
        floats(f, b, w, all, 0);
        fprintf(f, "\n      %s ", c);
        floats(f, b + w, w, all, 0);
    }
    cli_free(b);
    return 0;
}

static void text(const nn_model *m, const char *path, const file_head *h,
                 int all)
{
    size_t i, n = nn_model_layer_count(m), k;
    double v, lr = 0;
    int key;

    printf("file          %s: %lld bytes, format version %u, %s\n", path,
           h->size, h->version, kind_str(h->kind));
    printf("inputs        %zu\n", nn_model_input_width(m));
    printf("outputs       %zu\n", nn_model_output_width(m));
    printf("parameters    %zu\n", param_count(m));
    printf("layers        %zu\n", n);
    for (i = 0; i < n; i++) {
        nn_layer_kind kind = nn_model_layer_kind(m, i);
        size_t np = nn_model_layer_weight_count(m, i) +
                    nn_model_layer_bias_count(m, i);
        printf("  %2zu  %-10s %6zu", i,
               nn_layer_kind_name(kind) ? nn_layer_kind_name(kind) : "?",
               nn_model_layer_width(m, i));
        if (kind == NN_KIND_DENSE || kind == NN_KIND_ACTIVATION)
            printf("  %s", nn_activation_name(
                               nn_model_layer_activation(m, i)));
        if (np)
            printf("  (%zu parameters)", np);
        layer_settings(stdout, m, i, 0);
        buffers(stdout, m, i, all, 0);
        putchar('\n');
    }
    printf("loss          %s\n", nn_model_loss(m)
                                     ? nn_loss_name(nn_model_loss(m))
                                     : "(none)");
    printf("optimizer     %s\n", nn_optimizer_name(nn_model_optimizer(m)));
    printf("schedule      %s\n", nn_schedule_name(nn_model_schedule(m)));
    printf("step count    %llu\n",
           (unsigned long long)nn_model_step_count(m));
    if (nn_model_current_lr(m, &lr) == NN_OK)
        printf("next lr       %.9g\n", lr);
    printf("settings\n");
    for (key = 1; nn_param_name((nn_param)key); key++)
        if (nn_model_get_param(m, (nn_param)key, &v) == NN_OK)
            printf("  %-18s %.9g\n", nn_param_name((nn_param)key), v);
    k = nn_model_class_weight_count(m);
    if (k) {
        float *w = cli_malloc_array(k, sizeof *w);
        if (w && nn_model_get_class_weights(m, w, k) == NN_OK) {
            printf("class weights ");
            floats(stdout, w, k, 1, 0);
            putchar('\n');
        }
        cli_free(w);
    }
    {
        const char *lab = nn_model_get_meta(m, "nn.labels");
        char key_buf[64];
        size_t c;
        if (lab) {
            printf("classes       %s:", lab);
            for (c = 0;; c++) {
                const char *nm;
                snprintf(key_buf, sizeof key_buf, "nn.class.%zu", c);
                nm = nn_model_get_meta(m, key_buf);
                if (!nm)
                    break;
                if (!all && c == 32) {
                    printf(" ...");
                    break;
                }
                printf("%s %s", c ? "," : "", nm);
            }
            putchar('\n');
        }
        if (nn_model_get_meta(m, "nn.scale"))
            printf("scaling       %s\n", nn_model_get_meta(m, "nn.scale"));
        if (nn_model_get_meta(m, "nn.format"))
            printf("trained on    %s data, %s rows\n",
                   nn_model_get_meta(m, "nn.format"),
                   nn_model_get_meta(m, "nn.train.rows")
                       ? nn_model_get_meta(m, "nn.train.rows")
                       : "?");
        if (nn_model_get_meta(m, "nn.train.steps"))
            printf("trained       %s epochs, %s steps\n",
                   nn_model_get_meta(m, "nn.train.epochs")
                       ? nn_model_get_meta(m, "nn.train.epochs")
                       : "?",
                   nn_model_get_meta(m, "nn.train.steps"));
        if (nn_model_get_meta(m, "nn.train.arg.0")) {
            printf("options       nn train DATA");
            for (c = 0;; c++) {
                const char *a;
                snprintf(key_buf, sizeof key_buf, "nn.train.arg.%zu", c);
                a = nn_model_get_meta(m, key_buf);
                if (!a)
                    break;
                printf(" %s", a);
            }
            putchar('\n');
        }
        if (nn_model_get_meta(m, "nn.import.file"))
            printf("imported from %s (nn import)\n",
                   nn_model_get_meta(m, "nn.import.file"));
    }
    k = nn_model_meta_count(m);
    printf("metadata      %zu entries%s\n", k,
           all || k <= 2 * SHORT_LIST ? "" : " (--all lists them all)");
    for (i = 0; i < k; i++) {
        const char *key_s = nn_model_meta_key(m, i);
        const char *val = nn_model_get_meta(m, key_s);
        char shown[128];
        if (!all && k > 2 * SHORT_LIST && i == SHORT_LIST) {
            printf("  ...\n");
            i = k - SHORT_LIST - 1;
            continue;
        }
        printf("  %s = %s\n", key_s,
               cli_show(shown, sizeof shown, val, strlen(val)));
    }
}

static void json(const nn_model *m, const char *path, const file_head *h)
{
    size_t i, n = nn_model_layer_count(m), k;
    double v, lr = 0;
    int key;

    printf("{\"file\": ");
    cli_json_string(stdout, path);
    printf(", \"size\": %lld, \"format_version\": %u, \"kind\": \"%s\"",
           h->size, h->version, kind_str(h->kind));
    printf(", \"inputs\": %zu, \"outputs\": %zu, \"parameters\": %zu",
           nn_model_input_width(m), nn_model_output_width(m),
           param_count(m));
    printf(", \"layers\": [");
    for (i = 0; i < n; i++) {
        nn_layer_kind kind = nn_model_layer_kind(m, i);
        printf("%s{\"kind\": ", i ? ", " : "");
        cli_json_string(stdout, nn_layer_kind_name(kind)
                                    ? nn_layer_kind_name(kind)
                                    : "?");
        printf(", \"width\": %zu", nn_model_layer_width(m, i));
        if (kind == NN_KIND_DENSE || kind == NN_KIND_ACTIVATION) {
            printf(", \"activation\": ");
            cli_json_string(stdout, nn_activation_name(
                                        nn_model_layer_activation(m, i)));
        }
        printf(", \"weights\": %zu, \"biases\": %zu",
               nn_model_layer_weight_count(m, i),
               nn_model_layer_bias_count(m, i));
        printf(", \"settings\": {");
        layer_settings(stdout, m, i, 1);
        printf("}");
        buffers(stdout, m, i, 1, 1);
        printf("}");
    }
    printf("], \"loss\": ");
    if (nn_model_loss(m))
        cli_json_string(stdout, nn_loss_name(nn_model_loss(m)));
    else
        printf("null");
    printf(", \"optimizer\": ");
    cli_json_string(stdout, nn_optimizer_name(nn_model_optimizer(m)));
    printf(", \"schedule\": ");
    cli_json_string(stdout, nn_schedule_name(nn_model_schedule(m)));
    printf(", \"step_count\": %llu",
           (unsigned long long)nn_model_step_count(m));
    if (nn_model_current_lr(m, &lr) == NN_OK) {
        printf(", \"next_lr\": ");
        cli_json_number(stdout, lr);
    }
    printf(", \"settings\": {");
    for (key = 1; nn_param_name((nn_param)key); key++)
        if (nn_model_get_param(m, (nn_param)key, &v) == NN_OK) {
            printf("%s", key == 1 ? "" : ", ");
            cli_json_string(stdout, nn_param_name((nn_param)key));
            printf(": ");
            cli_json_number(stdout, v);
        }
    printf("}, \"class_weights\": ");
    k = nn_model_class_weight_count(m);
    if (k) {
        float *w = cli_malloc_array(k, sizeof *w);
        if (w && nn_model_get_class_weights(m, w, k) == NN_OK)
            floats(stdout, w, k, 1, 1);
        else
            printf("null");
        cli_free(w);
    } else {
        printf("null");
    }
    printf(", \"classes\": [");
    for (i = 0;; i++) {
        char key_buf[64];
        const char *nm;
        snprintf(key_buf, sizeof key_buf, "nn.class.%zu", i);
        nm = nn_model_get_meta(m, key_buf);
        if (!nm)
            break;
        printf(i ? ", " : "");
        cli_json_string(stdout, nm);
    }
    printf("], \"metadata\": {");
    k = nn_model_meta_count(m);
    for (i = 0; i < k; i++) {
        const char *key_s = nn_model_meta_key(m, i);
        printf(i ? ", " : "");
        cli_json_string(stdout, key_s);
        printf(": ");
        cli_json_string(stdout, nn_model_get_meta(m, key_s));
    }
    printf("}}\n");
}

int cli_info(int argc, char **argv)
{
    int c, as_json = 0, all = 0, code = CLI_EXIT_OK;
    const char *path = NULL;
    nn_model *m = NULL;
    file_head h = {0, 0, 0};
    cli_err e;
    cli_status st = CLI_OK;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "-:", longopts, NULL)) != -1) {
        switch (c) {
        case 1:
            if (path) {
                cli_fail(&e, CLI_E_USAGE, "unexpected argument '%s'",
                         optarg);
                return cli_usage_error(CMD, &e);
            }
            path = optarg;
            break;
        case O_JSON:
            as_json = 1;
            break;
        case O_ALL:
            all = 1;
            break;
        case CLI_O_HELP:
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            cli_getopt_fail(c, argv, &e);
            return cli_usage_error(CMD, &e);
        }
    }
    if (!path) {
        cli_fail(&e, CLI_E_USAGE, "give MODEL");
        return cli_usage_error(CMD, &e);
    }
    if ((st = cli_model_load(path, &m, &e)) != CLI_OK ||
        (st = read_head(path, &h, &e)) != CLI_OK) {
        code = cli_exit_code(st);
        cli_report(CMD, &e);
        nn_model_free(m);
        return code;
    }
    if (as_json)
        json(m, path, &h);
    else
        text(m, path, &h, all);
    nn_model_free(m);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_fail(&e, CLI_E_IO, "writing to standard output failed");
        cli_report(CMD, &e);
        return CLI_EXIT_FAIL;
    }
    return code;
}
