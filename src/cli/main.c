/*
 * main.c - the pixpool command-line tool: dispatch to subcommands, shared option parsing.
 *
 * Exit codes: 0 all good, 1 some work failed, 2 usage error, 130 interrupted.
 * Errors go to stderr as "pixpool: error: FILE: reason".
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pixpool: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_parse_backend(const char *s)
{
    if (strcmp(s, "serial") == 0) return PP_BACKEND_SERIAL;
    if (strcmp(s, "openmp") == 0) return PP_BACKEND_OPENMP;
    if (strcmp(s, "fork") == 0) return PP_BACKEND_FORK;
    return -1;
}

int cli_parse_int(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) {
        cli_error("%s: '%s' is not an integer in %ld..%ld", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_subsample(const char *s, int *out)
{
    static const char *const names[] = {"auto", "444", "422", "420"};
    static const pp_jpeg_subsample modes[] = {PP_SUBSAMPLE_AUTO, PP_SUBSAMPLE_444,
                                              PP_SUBSAMPLE_422, PP_SUBSAMPLE_420};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (int)modes[i];
            return 0;
        }
    cli_error("--jpeg-subsample: '%s' is not one of auto, 444, 422, 420", s);
    return -1;
}

int cli_parse_tiff_compression(const char *s, int *out)
{
    static const char *const names[] = {"none", "lzw", "deflate", "packbits"};
    static const pp_tiff_compression modes[] = {PP_TIFF_NONE, PP_TIFF_LZW, PP_TIFF_DEFLATE,
                                                PP_TIFF_PACKBITS};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (int)modes[i];
            return 0;
        }
    cli_error("--tiff-compression: '%s' is not one of none, lzw, deflate, packbits", s);
    return -1;
}

int cli_parse_size(const char *opt, const char *s, uint64_t *out)
{
    static const char units[] = "KMGT";
    char *end = (char *)s;
    errno = 0;
    unsigned long long v = s[0] >= '0' && s[0] <= '9' ? strtoull(s, &end, 10) : 0;
    int ok = s[0] >= '0' && s[0] <= '9' && !errno && v > 0;
    if (ok && *end) { /* a suffix: K/M/G/T, then optionally "iB" or "B" */
        int shift = -1;
        for (int i = 0; units[i]; i++)
            if (end[0] == units[i] || end[0] == units[i] + ('a' - 'A')) shift = 10 * (i + 1);
        const char *rest = end + 1;
        if (strcmp(rest, "") && strcmp(rest, "B") && strcmp(rest, "b") && strcmp(rest, "iB") &&
            strcmp(rest, "ib"))
            shift = -1;
        if (shift < 0 || v > (~0ULL >> shift)) ok = 0;
        else v <<= shift;
    }
    if (!ok) {
        cli_error("%s: '%s' is not a size in bytes (a positive integer, optionally with K, M, G "
                  "or T: 512M, 4G)", opt, s);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int cli_exit_code(pp_status st)
{
    return st == PP_ERR_SPEC || st == PP_ERR_INVALID ? EXIT_USAGE : EXIT_FAIL;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pixpool COMMAND [options] ...\n"
            "\n"
            "Parallel image filtering with serial, OpenMP and fork (process pool) backends.\n"
            "\n"
            "commands:\n"
            "  apply    filter one image:        pixpool apply -f SPEC... INPUT OUTPUT\n"
            "  batch    filter a folder:         pixpool batch -f SPEC... INPUT_DIR OUTPUT_DIR\n"
            "  bench    time backends and worker counts: pixpool bench [-f SPEC]... [IMAGE]\n"
            "  filters  list filters and their parameters\n"
            "  info     print format, size, channels and depth of images\n"
            "  report   one summary of many batch --report files: pixpool report FILE...\n"
            "\n"
            "options:\n"
            "  -h, --help     this help (pixpool COMMAND --help for a command's)\n"
            "  -V, --version  print the version\n"
            "\n"
            "Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("pixpool %s\n", pp_version());
        return EXIT_OK;
    }
    if (!strcmp(cmd, "apply")) return cmd_apply(argc - 1, argv + 1);
    if (!strcmp(cmd, "batch")) return cmd_batch(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "filters")) return cmd_filters(argc - 1, argv + 1);
    if (!strcmp(cmd, "info")) return cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "report")) return cmd_report(argc - 1, argv + 1);
    cli_error("unknown command '%s' (commands: apply, batch, bench, filters, info, report; see pixpool --help)", cmd);
    return EXIT_USAGE;
}
