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
            "  filters  list filters and their parameters\n"
            "  info     print format, size, channels and depth of images\n"
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
    if (!strcmp(cmd, "filters")) return cmd_filters(argc - 1, argv + 1);
    if (!strcmp(cmd, "info")) return cmd_info(argc - 1, argv + 1);
    cli_error("unknown command '%s' (commands: apply, filters, info; see pixpool --help)", cmd);
    return EXIT_USAGE;
}
