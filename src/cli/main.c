/*
 * main.c - the pixpool command-line tool: dispatch to subcommands (their shared helpers are
 * cli_util.c's; nothing calls back into this file).
 *
 * Exit codes: 0 all good, 1 some work failed, 2 usage error, 130 interrupted.
 * Errors go to stderr as one line "pixpool: error: FILE: reason" (usage errors too). Standard
 * output is checked once every command is done: a write error there is exit 1.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
            "Exit codes: 0 success, 1 failure (also a lost write to standard output or a\n"
            "report), 2 usage error, 130 interrupted. Errors are one line on stderr:\n"
            "pixpool: error: FILE: reason.\n");
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        cli_error("no command given (commands: apply, batch, bench, filters, info, report; see "
                  "pixpool --help)");
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
    if (cmd[0] == '-')
        cli_error("unknown option '%s' (see pixpool --help)", cmd);
    else
        cli_error("unknown command '%s' (commands: apply, batch, bench, filters, info, report; "
                  "see pixpool --help)", cmd);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    int rc = dispatch(argc, argv);
    /* whatever went to standard output must have arrived: a lost write is a failure */
    if (cli_check_stream(stdout, "standard output") && rc == EXIT_OK) rc = EXIT_FAIL;
    return rc;
}
