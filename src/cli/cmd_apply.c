/*
 * cmd_apply.c - `pixpool apply`: load one image, run the pipeline, save it.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Ctrl-C and SIGTERM: the library's progress callback stops the run between bands (the same
   path a GUI's cancel button takes), so no half-written output is left. */
static volatile sig_atomic_t apply_stop;
static void on_stop_signal(int sig) { apply_stop = sig; }
static int apply_progress(void *user, int done, int total)
{
    (void)user;
    (void)done;
    (void)total;
    return apply_stop != 0;
}

static void apply_usage(FILE *f, uint64_t max_memory)
{
    char why[256];
    int budget = pp_cpu_budget(why, sizeof why);
    fprintf(f,
            "usage: pixpool apply [options] [-f SPEC]... INPUT OUTPUT\n"
            "\n"
            "Filters INPUT through the pipeline of -f filters (in order) and writes OUTPUT;\n"
            "without -f, INPUT is only converted. The output format follows OUTPUT's\n"
            "extension, in any case (.png .jpg .jpeg .bmp .tga .tif .tiff .pnm .ppm .pgm\n"
            ".psd). INPUT '-' reads standard input, OUTPUT '-' writes standard output\n"
            "(--format names its format). A file OUTPUT appears complete or not at all.\n"
            "16-bit input (PNG, TIFF, PNM, PSD) is filtered and written at 16 bits.\n"
            "\n"
            "options:\n"
            "  -f, --filter SPEC    a filter: NAME or NAME:KEY=VALUE,KEY=VALUE (pixpool filters)\n"
            "  -b, --backend NAME   serial | openmp | fork (default: openmp)\n"
            "      --format FMT     the output format (any case): %s;\n"
            "                       needed for OUTPUT '-', else it must match the extension\n"
            "  -j, --workers N      threads or worker processes (default: the CPU budget, the\n"
            "                       least of CPU affinity, cgroup quota, OMP_NUM_THREADS and\n"
            "                       SLURM_CPUS_PER_TASK: here %d: %s)\n"
            "      --band-rows N    rows per band (default 0: automatic)\n"
            "      --png-level N    PNG compression 0..9 (default 5)\n"
            "      --quality N      JPEG quality 1..100 (default 90)\n"
            "      --jpeg-subsample auto|444|422|420\n"
            "                       JPEG chroma subsampling (default auto: 444 at quality 90\n"
            "                       and above, 420 below)\n"
            "      --jpeg-progressive  progressive JPEG (default off: baseline)\n"
            "      --jpeg-optimize  optimised JPEG Huffman tables (default off)\n"
            "      --tiff-compression none|lzw|deflate|packbits\n"
            "                       TIFF compression (default none)\n"
            "      --depth 8|16     bits per channel of OUTPUT (default: INPUT's; JPEG, BMP\n"
            "                       and TGA hold 8 only); 16 also filters 8-bit input at 16\n"
            "      --strip[=KINDS]  leave metadata out of OUTPUT: all of it, or the kinds listed\n"
            "                       (exif, xmp, icc, density, other), e.g. --strip=exif,xmp\n"
            "                       keeps the colour profile (default: keep what OUTPUT's\n"
            "                       format can hold)\n"
            "      --auto-orient    turn the pixels as INPUT's EXIF orientation says and write\n"
            "                       orientation 1 (default: pixels as stored, orientation kept)\n"
            "      --max-pixels N   refuse larger images (default 1073741824)\n"
            "      --max-memory SIZE  most memory the pixel buffers of the load and of the run\n"
            "                       may each hold, e.g. 512M or 4G (default: half the memory,\n"
            "                       at most 16G: %.1fG here)\n"
            "  -h, --help           this help\n",
            CLI_FORMAT_NAMES, budget, why, max_memory / 1073741824.0);
}

/* Loads, runs and saves; on failure prints the error (PP_ERR_INTERRUPTED is left to the
   caller), sets *rc and returns the status. */
static pp_status apply_run(pp_ctx *ctx, const pp_pipeline *pl, int depth, int in_std,
                           const char *ipath, int out_std, const char *opath, pp_format ofmt,
                           pp_image **in, pp_image **out, void **data, size_t *size, int *rc)
{
    pp_status st;
    const char *iname = in_std ? "standard input" : ipath;
    *rc = EXIT_FAIL;
    if (in_std) {
        if (cli_read_all(stdin, data, size) != 0) {
            cli_error("standard input: cannot read: %s", strerror(errno));
            return PP_ERR_IO;
        }
        st = pp_load_mem(ctx, *data, *size, "standard input", in);
        free(*data);
        *data = NULL;
    } else {
        st = pp_load(ctx, ipath, in);
    }
    if (!st) st = cli_depth_for_filters(ctx, depth, in);
    if (!st) {
        st = pp_pipeline_run(ctx, pl, *in, out);
        if (st == PP_ERR_INTERRUPTED) return st;
        if (st) {
            cli_error("%s: %s", iname, pp_ctx_last_error(ctx));
            if (st == PP_ERR_SPEC) *rc = EXIT_USAGE;
            return st;
        }
        st = out_std ? pp_save_mem(ctx, *out, ofmt, data, size) : pp_save(ctx, *out, opath);
    }
    if (st == PP_ERR_INTERRUPTED) return st;
    if (st) {
        cli_error("%s", pp_ctx_last_error(ctx));
        return st;
    }
    if (out_std && cli_write_fd(STDOUT_FILENO, *data, *size, "standard output")) return PP_ERR_IO;
    return PP_OK;
}

int cmd_apply(int argc, char **argv)
{
    static const struct option opts[] = {
        {"filter", required_argument, 0, 'f'}, {"backend", required_argument, 0, 'b'},
        {"workers", required_argument, 0, 'j'}, {"band-rows", required_argument, 0, 1},
        {"png-level", required_argument, 0, 2}, {"quality", required_argument, 0, 3},
        {"max-pixels", required_argument, 0, 4}, {"max-memory", required_argument, 0, 5},
        {"jpeg-subsample", required_argument, 0, 6}, {"jpeg-progressive", no_argument, 0, 7},
        {"jpeg-optimize", no_argument, 0, 8}, {"tiff-compression", required_argument, 0, 9},
        {"strip", optional_argument, 0, 10}, {"auto-orient", no_argument, 0, 11},
        {"format", required_argument, 0, 12}, {"depth", required_argument, 0, 13},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    pp_ctx *ctx = pp_ctx_new();
    pp_pipeline *pl = NULL;
    pp_image *in = NULL, *out = NULL;
    pp_format format = PP_FORMAT_UNKNOWN; /* --format */
    int depth = 0;                        /* --depth */
    void *data = NULL;
    size_t size = 0;
    int rc = EXIT_USAGE;
    if (!ctx || pp_pipeline_new(ctx, &pl)) {
        cli_error("out of memory");
        pp_ctx_free(ctx);
        return EXIT_FAIL;
    }
    optind = 1;
    opterr = 0;
    int c;
    long v;
    while ((c = getopt_long(argc, argv, ":f:b:j:h", opts, NULL)) != -1) {
        pp_status st = PP_OK;
        switch (c) {
        case 'f':
            st = pp_pipeline_add_spec(ctx, pl, optarg);
            if (st) {
                cli_error("%s", pp_ctx_last_error(ctx));
                goto done;
            }
            break;
        case 'b': {
            int b = cli_parse_backend(optarg);
            if (b < 0) {
                cli_error("unknown backend '%s' (serial, openmp or fork)", optarg);
                goto done;
            }
            pp_ctx_set_backend(ctx, (pp_backend)b);
            break;
        }
        case 'j':
            if (cli_parse_int("--workers", optarg, 1, 1024, &v)) goto done;
            pp_ctx_set_workers(ctx, (int)v);
            break;
        case 1:
            if (cli_parse_int("--band-rows", optarg, 0, 1 << 30, &v)) goto done;
            pp_ctx_set_band_rows(ctx, (int)v);
            break;
        case 2:
            if (cli_parse_int("--png-level", optarg, 0, 9, &v)) goto done;
            pp_ctx_set_png_level(ctx, (int)v);
            break;
        case 3:
            if (cli_parse_int("--quality", optarg, 1, 100, &v)) goto done;
            pp_ctx_set_jpeg_quality(ctx, (int)v);
            break;
        case 4:
            if (cli_parse_int("--max-pixels", optarg, 1, 0x7fffffffffffffffL, &v)) goto done;
            pp_ctx_set_max_pixels(ctx, (uint64_t)v);
            break;
        case 5: {
            uint64_t bytes;
            if (cli_parse_size("--max-memory", optarg, &bytes)) goto done;
            pp_ctx_set_max_memory(ctx, bytes);
            break;
        }
        case 6: {
            int mode;
            if (cli_parse_subsample(optarg, &mode)) goto done;
            pp_ctx_set_jpeg_subsample(ctx, (pp_jpeg_subsample)mode);
            break;
        }
        case 7: pp_ctx_set_jpeg_progressive(ctx, 1); break;
        case 8: pp_ctx_set_jpeg_optimize(ctx, 1); break;
        case 9: {
            int mode;
            if (cli_parse_tiff_compression(optarg, &mode)) goto done;
            pp_ctx_set_tiff_compression(ctx, (pp_tiff_compression)mode);
            break;
        }
        case 10: {
            unsigned kinds;
            if (cli_parse_strip(optarg, &kinds)) goto done;
            pp_ctx_set_strip(ctx, kinds);
            break;
        }
        case 11: pp_ctx_set_auto_orient(ctx, 1); break;
        case 12:
            if ((format = cli_format_from_name(optarg)) == PP_FORMAT_UNKNOWN) {
                cli_error("--format: '%s' is not one of %s", optarg, CLI_FORMAT_NAMES);
                goto done;
            }
            break;
        case 13:
            if (cli_parse_depth(optarg, &depth)) goto done;
            pp_ctx_set_save_depth(ctx, depth);
            break;
        case 'h':
            apply_usage(stdout, pp_ctx_max_memory(ctx));
            rc = EXIT_OK;
            goto done;
        default:
            rc = cli_getopt_error("apply", c, argv);
            goto done;
        }
    }
    if (argc - optind != 2) {
        cli_error("apply needs INPUT and OUTPUT (see pixpool apply --help)");
        goto done;
    }
    const char *ipath = argv[optind], *opath = argv[optind + 1];
    int in_std = strcmp(ipath, "-") == 0, out_std = strcmp(opath, "-") == 0;
    pp_format ofmt = out_std ? format : pp_format_from_path(opath);
    if (!out_std && format != PP_FORMAT_UNKNOWN && ofmt != format) {
        cli_error("%s: --format %s does not match the extension of OUTPUT (it is needed for "
                  "OUTPUT '-' only)", opath, pp_format_name(format));
        goto done;
    }
    if (ofmt == PP_FORMAT_UNKNOWN) {
        const char *dot = strrchr(opath, '.');
        if (out_std)
            cli_error("OUTPUT '-' (standard output) needs --format FMT (%s)", CLI_FORMAT_NAMES);
        else
            cli_error("%s: cannot write format of extension '%s' (use .png, .jpg, .jpeg, .bmp, "
                      ".tga, .tif, .tiff, .pnm, .ppm, .pgm or .psd, in any case)", opath,
                      dot ? dot : "");
        goto done;
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    pp_ctx_set_progress(ctx, apply_progress, NULL);
    pp_status st = apply_run(ctx, pl, depth, in_std, ipath, out_std, opath, ofmt, &in, &out, &data,
                             &size, &rc);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (st == PP_ERR_INTERRUPTED || (apply_stop && st)) {
        cli_error("%s: interrupted%s", in_std ? "standard input" : ipath,
                  out_std ? "" : "; no output written");
        rc = EXIT_INTERRUPTED;
        goto done;
    }
    if (st) goto done;
    rc = EXIT_OK;
done:
    free(data);
    pp_image_free(in);
    pp_image_free(out);
    pp_pipeline_free(pl);
    pp_ctx_free(ctx);
    return rc;
}
