/*
 * cmd_info.c - `pixpool info`: format, size, channels and bit depth of image files.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int cmd_info(int argc, char **argv)
{
    int first = 1;
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: pixpool info IMAGE...\n\n"
               "Prints each image's format (detected from its bytes), width, height, channels\n"
               "and bit depth per channel as decoded (8 or 16: what filters work on), and the\n"
               "bit depth stored in the file (stored_depth: 1..32). Exit 1 if any file cannot\n"
               "be read.\n");
        return EXIT_OK;
    }
    if (argc < 2) {
        cli_error("info needs at least one IMAGE (see pixpool info --help)");
        return EXIT_USAGE;
    }
    pp_ctx *ctx = pp_ctx_new();
    if (!ctx) return EXIT_FAIL;
    int rc = EXIT_OK;
    for (int i = first; i < argc; i++) {
        pp_image_info info;
        pp_status st = pp_info(ctx, argv[i], &info);
        if (st) {
            cli_error("%s", pp_ctx_last_error(ctx));
            rc = EXIT_FAIL;
            continue;
        }
        printf("%s: format=%s width=%d height=%d channels=%d depth=%d stored_depth=%d\n",
               argv[i], pp_format_name(info.format), info.width, info.height, info.channels,
               info.decoded_depth, info.depth);
    }
    pp_ctx_free(ctx);
    return rc;
}
