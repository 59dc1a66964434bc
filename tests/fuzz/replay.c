/*
 * replay.c - a plain main() for one fuzz target: feeds it every file named on the command line
 * (folders are walked, one level) without libFuzzer, so that any compiler can replay a corpus
 * or a crasher: the generated seed corpus in every build (ctest fuzz_corpus), its coverage in a
 * --coverage build, a libFuzzer finding under gdb or valgrind. Files ending in ".hex" are
 * decoded as in tests/fuzz/regressions/. The target is chosen at build time with
 * -DPP_FUZZ_TARGET=pp_fuzz_load (or _spec, _pipeline).
 *
 * usage: replay_TARGET FILE_OR_DIR...   prints the number of inputs; exits 0, or aborts at the
 * first input that breaks a contract (after naming it on stderr).
 */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef PP_FUZZ_TARGET
#error "build with -DPP_FUZZ_TARGET=pp_fuzz_load (or pp_fuzz_spec, pp_fuzz_pipeline)"
#endif

static int run_file(const char *path)
{
    size_t size = 0;
    uint8_t *data = pp_fuzz_read_input(path, &size);
    if (!data) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        return -1;
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
    PP_FUZZ_TARGET(data, size);
    free(data);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Runs every regular file of a folder, in name order. Returns the count, or -1. */
static long run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) abort();
            names = nn;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n]) abort();
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_names);
    long count = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(names[i])) bad = 1;
            else count++;
        }
        free(names[i]);
    }
    free(names);
    return bad ? -1 : count;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    long total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: not found\n", argv[i]);
            return 1;
        }
        long n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]) == 0 ? 1 : -1;
        if (n < 0) return 1;
        total += n;
    }
    printf("%ld inputs replayed\n", total);
    return 0;
}
