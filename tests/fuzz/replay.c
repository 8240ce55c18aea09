/* SPDX-License-Identifier: MIT */
/*
 * replay.c - runs the fuzz entry points over saved inputs without
 * libFuzzer, so that ctest replays the seed corpus and every crash ever
 * found. Arguments are files or directories (one level); without any, the
 * corpus directory the build names (NN_FUZZ_CORPUS). A run that finds no
 * input at all fails, so that a missing corpus cannot pass.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    rewind(f);
    buf = (unsigned char *)malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    long files = 0;
    int i;
#ifdef NN_FUZZ_CORPUS
    static char corpus[] = NN_FUZZ_CORPUS;
    static char *fallback[] = {NULL, corpus, NULL};
    if (argc < 2) {
        fallback[0] = argv[0];
        argv = fallback;
        argc = 2;
    }
#endif
    for (i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "replay: %s does not exist\n", argv[i]);
            return 1;
        }
        if (S_ISDIR(sb.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            char path[4096];
            if (!d)
                return 1;
            while ((e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                    continue;
                snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
                if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
                    continue;
                if (run_file(path) != 0) {
                    closedir(d);
                    return 1;
                }
                files++;
            }
            closedir(d);
        } else {
            if (run_file(argv[i]) != 0)
                return 1;
            files++;
        }
    }
    printf("replay: %ld inputs, no failure\n", files);
    return files > 0 ? 0 : 1;
}
