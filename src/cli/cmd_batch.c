/*
 * cmd_batch.c - `pixpool batch`: filter every image of a folder into another folder, many files
 * in flight at once. Options, checks, the CPU budget, the summary; the listing is in
 * batch_list.c, the budget in batch_budget.c, the runners in batch_run.c (see docs/BATCH.md).
 */
#include "batch.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files go to a pool of pre-forked worker processes unless -b says otherwise: on a folder of
   many small files it was measured as fast as threads (see docs/BATCH.md), and a crash on a
   hostile file then fails that file only. */
#define BATCH_DEFAULT_BACKEND BB_FORK

static void batch_usage(FILE *f)
{
    char why[256];
    int budget = pp_cpu_budget(why, sizeof why);
    fprintf(f,
            "usage: pixpool batch [options] [-f SPEC]... INPUT_DIR OUTPUT_DIR\n"
            "\n"
            "Filters every image of INPUT_DIR through the pipeline of -f filters (in order) and\n"
            "writes the results under OUTPUT_DIR at the same relative paths, creating folders\n"
            "as needed. Images are taken by extension, case-insensitively (png jpg jpeg bmp tga\n"
            "tif tiff gif psd hdr pnm ppm pgm), in sorted order; the format is read from the bytes. Each\n"
            "output appears complete or not at all; a bad file is reported and the rest go on.\n"
            "\n"
            "pipeline and output:\n"
            "  -f, --filter SPEC      a filter: NAME or NAME:KEY=VALUE,... (pixpool filters);\n"
            "                         default none: the images are only converted\n"
            "      --format FMT       png | jpg (jpeg) | bmp | tga | tif (tiff) | pnm (ppm, pgm)\n"
            "                         | psd | same, in any\n"
            "                         case (default same: .png .jpg .jpeg .bmp .tga .tif\n"
            "                         .tiff keep their name, others become .png)\n"
            "      --png-level N      PNG compression 0..9 (default 5)\n"
            "      --quality N        JPEG quality 1..100 (default 90)\n"
            "      --jpeg-subsample auto|444|422|420\n"
            "                         JPEG chroma subsampling (default auto: 444 at quality\n"
            "                         90 and above, 420 below)\n"
            "      --jpeg-progressive progressive JPEG (default off: baseline)\n"
            "      --jpeg-optimize    optimised JPEG Huffman tables (default off)\n"
            "      --tiff-compression none|lzw|deflate|packbits\n"
            "                         TIFF compression (default none)\n"
            "      --depth 8|16       bits per channel of the outputs (default: each input's:\n"
            "                         16-bit PNG, TIFF, PNM and PSD stay 16-bit; JPEG, BMP and\n"
            "                         TGA hold 8 only); 16 also filters 8-bit input at 16\n"
            "      --strip[=KINDS]    leave metadata out of the outputs: all of it, or the kinds\n"
            "                         listed (exif, xmp, icc, density, other), e.g.\n"
            "                         --strip=exif,xmp keeps the colour profile (default: keep\n"
            "                         what the output format can hold)\n"
            "      --auto-orient      turn the pixels as each input's EXIF orientation says\n"
            "                         and write orientation 1 (default: as stored)\n"
            "      --max-pixels N     refuse larger images (default 1073741824)\n"
            "      --max-memory SIZE  most memory the pixel buffers of one file may hold,\n"
            "                         per file in flight, e.g. 512M or 4G (default: half the\n"
            "                         memory, at most 16G)\n"
            "\n"
            "which files:\n"
            "  -r, --recursive        descend into sub-folders (default: off); symbolic links\n"
            "                         to folders are not followed, OUTPUT_DIR is never entered\n"
            "      --files-from FILE  process the paths listed in FILE ('-': standard input),\n"
            "                         relative to INPUT_DIR, one a line (default: walk INPUT_DIR)\n"
            "  -0, --null             --files-from paths end with NUL, not newline (default off)\n"
            "      --shard K/N        only shard K of N (1-based, by an FNV-1a hash of the\n"
            "                         relative path): N runs cover the files exactly once\n"
            "                         (default 1/1)\n"
            "\n"
            "existing outputs (default: an existing output is an error for that file):\n"
            "      --overwrite        replace existing outputs (default off)\n"
            "      --skip-existing    leave outputs as new as their input alone, count them as\n"
            "                         skipped, redo the others (default off)\n"
            "\n"
            "parallelism:\n"
            "  -b, --backend NAME     how files run (default fork: processes were measured as\n"
            "                         fast as threads on many small files, see docs/BATCH.md)\n"
            "                         fork   = a pool of pre-forked worker processes takes the\n"
            "                                  files; a crash fails that file only\n"
            "                         openmp = threads take the files, each image filtered with\n"
            "                                  -t OpenMP threads\n"
            "                         serial = threads take the files, each filtered serially\n"
            "  -j, --jobs N           files in flight at once (default min(budget, files))\n"
            "  -t, --threads N        threads inside one image (default max(1, budget / jobs))\n"
            "                         jobs x threads never exceeds the CPU budget: the least of\n"
            "                         CPU affinity, cgroup quota, OMP_NUM_THREADS and\n"
            "                         SLURM_CPUS_PER_TASK (here %d: %s)\n"
            "\n"
            "reporting:\n"
            "      --report FILE      one JSON object per line per file ('-': standard output),\n"
            "                         after a line on the run (shard, CPU budget) and before\n"
            "                         one on its end (counts, CPU time); see pixpool report\n"
            "      --progress         a progress line on stderr (default: if it is a terminal)\n"
            "      --no-progress      no progress line\n"
            "  -v, --verbose          also the chosen jobs/threads, folders not entered and each\n"
            "                         file passed over, with the reason (always counted)\n"
            "  -h, --help             this help\n"
            "\n"
            "Exit codes: 0 every file ok or skipped, 1 some file failed or the report was not\n"
            "written whole, 2 usage error (option, --skip-existing with --overwrite,\n"
            "filter spec, INPUT_DIR, --files-from), 130 interrupted (SIGINT or SIGTERM: files in\n"
            "flight are stopped (threads) or abandoned (fork); rerun with --skip-existing).\n",
            budget, why);
}

/* Removes trailing slashes (but keeps "/"). */
static void trim_slashes(char *s)
{
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/') s[--n] = '\0';
}

/* mkdir -p (following symbolic links: OUTPUT_DIR is the user's own path). */
static int mkdir_p(const char *path)
{
    char *p = strdup(path);
    if (!p) return -1;
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0') continue;
        char c = *s;
        *s = '\0';
        struct stat st;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            rc = -1;
        } else if (stat(p, &st) != 0) {
            rc = -1;
        } else if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            rc = -1;
        }
        *s = c;
        if (rc || !c) break;
    }
    int e = errno;
    free(p);
    errno = e;
    return rc;
}

static int parse_shard(const char *s, int *k, int *n)
{
    char *end;
    errno = 0;
    long a = strtol(s, &end, 10);
    if (end == s || *end != '/' || errno) return -1;
    const char *t = end + 1;
    long b = strtol(t, &end, 10);
    if (end == t || *end || errno || b < 1 || b > 1000000 || a < 1 || a > b) return -1;
    *k = (int)a;
    *n = (int)b;
    return 0;
}

/* --format, in any case: same or one of cli_format_from_name's names. */
static int parse_format(const char *s)
{
    if (!strcasecmp(s, "same")) return BF_SAME;
    switch (cli_format_from_name(s)) {
    case PP_FORMAT_PNG: return BF_PNG;
    case PP_FORMAT_JPEG: return BF_JPG;
    case PP_FORMAT_BMP: return BF_BMP;
    case PP_FORMAT_TGA: return BF_TGA;
    case PP_FORMAT_TIFF: return BF_TIF;
    case PP_FORMAT_PNM: return BF_PNM;
    case PP_FORMAT_PSD: return BF_PSD;
    default: return -1;
    }
}

static const char *backend_name(int b)
{
    return b == BB_FORK ? "fork" : b == BB_OPENMP ? "openmp" : "serial";
}

int cmd_batch(int argc, char **argv)
{
    enum { O_FORMAT = 256, O_PNG, O_QUALITY, O_MAXPIX, O_FILES, O_SKIP, O_OVER, O_SHARD,
           O_REPORT, O_PROGRESS, O_NOPROGRESS, O_MAXMEM, O_SUBSAMPLE, O_PROGRESSIVE,
           O_OPTIMIZE, O_TIFFCOMP, O_STRIP, O_AUTO_ORIENT, O_DEPTH };
    static const struct option opts[] = {
        {"filter", required_argument, 0, 'f'},       {"recursive", no_argument, 0, 'r'},
        {"format", required_argument, 0, O_FORMAT},  {"backend", required_argument, 0, 'b'},
        {"jobs", required_argument, 0, 'j'},         {"threads", required_argument, 0, 't'},
        {"png-level", required_argument, 0, O_PNG},  {"quality", required_argument, 0, O_QUALITY},
        {"max-pixels", required_argument, 0, O_MAXPIX},
        {"max-memory", required_argument, 0, O_MAXMEM},
        {"jpeg-subsample", required_argument, 0, O_SUBSAMPLE},
        {"jpeg-progressive", no_argument, 0, O_PROGRESSIVE},
        {"jpeg-optimize", no_argument, 0, O_OPTIMIZE},
        {"tiff-compression", required_argument, 0, O_TIFFCOMP},
        {"depth", required_argument, 0, O_DEPTH},
        {"strip", optional_argument, 0, O_STRIP}, {"auto-orient", no_argument, 0, O_AUTO_ORIENT},
        {"files-from", required_argument, 0, O_FILES}, {"null", no_argument, 0, '0'},
        {"skip-existing", no_argument, 0, O_SKIP},   {"overwrite", no_argument, 0, O_OVER},
        {"shard", required_argument, 0, O_SHARD},    {"report", required_argument, 0, O_REPORT},
        {"progress", no_argument, 0, O_PROGRESS},    {"no-progress", no_argument, 0, O_NOPROGRESS},
        {"verbose", no_argument, 0, 'v'},            {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    batch_opts o;
    memset(&o, 0, sizeof o);
    o.png_level = 5;
    o.quality = 90;
    o.max_pixels = (uint64_t)1 << 30;
    o.format = BF_SAME;
    o.backend = BATCH_DEFAULT_BACKEND;
    o.progress = -1;
    batch_list list = {0};
    FILE *report = NULL;
    char *in_dir = NULL, *out_dir = NULL;
    int rc = EXIT_USAGE;

    /* specs are parsed (and so validated) once, up front, before any file is touched */
    pp_ctx *ctx = pp_ctx_new();
    pp_pipeline *pl = NULL;
    o.specs = calloc((size_t)argc + 1, sizeof *o.specs);
    if (!ctx || !o.specs || pp_pipeline_new(ctx, &pl)) {
        cli_error("out of memory");
        rc = EXIT_FAIL;
        goto done;
    }
    optind = 1;
    opterr = 0;
    int c;
    long v;
    while ((c = getopt_long(argc, argv, ":f:rb:j:t:0vh", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (pp_pipeline_add_spec(ctx, pl, optarg) != PP_OK) {
                cli_error("%s", pp_ctx_last_error(ctx));
                goto done;
            }
            o.specs[o.nspecs++] = optarg;
            break;
        case 'r': o.recursive = 1; break;
        case O_FORMAT:
            if ((o.format = parse_format(optarg)) < 0) {
                cli_error("--format: '%s' is not one of %s, same", optarg, CLI_FORMAT_NAMES);
                goto done;
            }
            break;
        case 'b': {
            int b = cli_parse_backend(optarg);
            if (b < 0) {
                cli_error("unknown backend '%s' (serial, openmp or fork)", optarg);
                goto done;
            }
            o.backend = b;
            break;
        }
        case 'j':
            if (cli_parse_int("--jobs", optarg, 1, 1024, &v)) goto done;
            o.jobs = (int)v;
            break;
        case 't':
            if (cli_parse_int("--threads", optarg, 1, 1024, &v)) goto done;
            o.threads = (int)v;
            break;
        case O_PNG:
            if (cli_parse_int("--png-level", optarg, 0, 9, &v)) goto done;
            o.png_level = (int)v;
            break;
        case O_QUALITY:
            if (cli_parse_int("--quality", optarg, 1, 100, &v)) goto done;
            o.quality = (int)v;
            break;
        case O_SUBSAMPLE:
            if (cli_parse_subsample(optarg, &o.jpeg_subsample)) goto done;
            break;
        case O_PROGRESSIVE: o.jpeg_progressive = 1; break;
        case O_OPTIMIZE: o.jpeg_optimize = 1; break;
        case O_TIFFCOMP:
            if (cli_parse_tiff_compression(optarg, &o.tiff_compression)) goto done;
            break;
        case O_STRIP:
            if (cli_parse_strip(optarg, &o.strip)) goto done;
            break;
        case O_AUTO_ORIENT: o.auto_orient = 1; break;
        case O_DEPTH:
            if (cli_parse_depth(optarg, &o.depth)) goto done;
            break;
        case O_MAXPIX:
            if (cli_parse_int("--max-pixels", optarg, 1, 0x7fffffffffffffffL, &v)) goto done;
            o.max_pixels = (uint64_t)v;
            break;
        case O_MAXMEM:
            if (cli_parse_size("--max-memory", optarg, &o.max_memory)) goto done;
            break;
        case O_FILES: o.files_from = optarg; break;
        case '0': o.null_sep = 1; break;
        case O_SKIP: o.skip_existing = 1; break;
        case O_OVER: o.overwrite = 1; break;
        case O_SHARD:
            if (parse_shard(optarg, &o.shard_k, &o.shard_n)) {
                cli_error("--shard: '%s' is not K/N with 1 <= K <= N", optarg);
                goto done;
            }
            break;
        case O_REPORT: o.report = optarg; break;
        case O_PROGRESS: o.progress = 1; break;
        case O_NOPROGRESS: o.progress = 0; break;
        case 'v': o.verbose = 1; break;
        case 'h':
            batch_usage(stdout);
            rc = EXIT_OK;
            goto done;
        default:
            rc = cli_getopt_error("batch", c, argv);
            goto done;
        }
    }
    if (argc - optind != 2) {
        cli_error("batch needs INPUT_DIR and OUTPUT_DIR (see pixpool batch --help)");
        goto done;
    }
    if (o.skip_existing && o.overwrite) {
        cli_error("--skip-existing and --overwrite cannot be combined (one keeps existing "
                  "outputs, the other replaces them)");
        goto done;
    }
    if (o.null_sep && !o.files_from) {
        cli_error("-0/--null applies to --files-from only");
        goto done;
    }
    pp_pipeline_free(pl);
    pl = NULL;
    pp_ctx_free(ctx);
    ctx = NULL;
    in_dir = strdup(argv[optind]);
    out_dir = strdup(argv[optind + 1]);
    if (!in_dir || !out_dir) {
        cli_error("out of memory");
        rc = EXIT_FAIL;
        goto done;
    }
    trim_slashes(in_dir);
    trim_slashes(out_dir);
    o.in_dir = in_dir;
    o.out_dir = out_dir;

    struct stat ist, ost;
    if (stat(in_dir, &ist) != 0) {
        cli_error("%s: %s", in_dir, strerror(errno));
        goto done;
    }
    if (!S_ISDIR(ist.st_mode)) {
        cli_error("%s: INPUT_DIR is not a folder", in_dir);
        goto done;
    }
    int out_exists = stat(out_dir, &ost) == 0;
    if (out_exists && !S_ISDIR(ost.st_mode)) {
        cli_error("%s: OUTPUT_DIR exists and is not a folder", out_dir);
        goto done;
    }
    if (out_exists && ost.st_dev == ist.st_dev && ost.st_ino == ist.st_ino) {
        cli_error("%s: OUTPUT_DIR is INPUT_DIR; write the outputs to another folder", out_dir);
        goto done;
    }

    if (o.files_from) {
        if (batch_read_list(o.files_from, in_dir, o.null_sep, &list) != 0) goto done;
    } else if (batch_walk(in_dir, o.recursive, out_exists, out_exists ? ost.st_dev : 0,
                          out_exists ? ost.st_ino : 0, o.verbose, &list) != 0) {
        goto done;
    }
    if (batch_finish_list(&list, in_dir, o.format) != 0) {
        cli_error("out of memory");
        rc = EXIT_FAIL;
        goto done;
    }
    if (o.shard_n > 1) batch_shard(&list, o.shard_k, o.shard_n);

    char why[256];
    int budget = pp_cpu_budget(why, sizeof why);
    int jobs, threads;
    if (o.backend == BB_SERIAL && o.threads > 1)
        fprintf(stderr, "pixpool: warning: -t/--threads is ignored with -b serial\n");
    if (batch_plan_workers(o.jobs, o.threads, budget, list.count, o.backend == BB_SERIAL, &jobs,
                           &threads)) {
        char asked[64];
        if (o.jobs && o.threads)
            snprintf(asked, sizeof asked, "-j %d -t %d", o.jobs, o.threads);
        else if (o.jobs)
            snprintf(asked, sizeof asked, "-j %d", o.jobs);
        else
            snprintf(asked, sizeof asked, "-t %d", o.threads);
        fprintf(stderr,
                "pixpool: warning: %s exceeds the CPU budget of %d (%s); using %d job%s x %d "
                "thread%s\n",
                asked, budget, why, jobs, jobs == 1 ? "" : "s", threads, threads == 1 ? "" : "s");
    }

    if (list.count == 0)
        fprintf(stderr, "pixpool: note: no image files in %s%s\n", in_dir,
                o.files_from  ? " from the list"
                : o.recursive ? ""
                              : " (-r descends into sub-folders)");
    if (list.not_image || list.not_entered || list.not_regular) {
        fprintf(stderr, "pixpool: note: passed over in %s:", in_dir);
        const char *sep = " ";
        if (list.not_image) {
            fprintf(stderr, "%s%zu file%s not named as images (.png .jpg .jpeg .bmp .tga .tif "
                    ".tiff .gif .psd .hdr .pnm .ppm .pgm)", sep, list.not_image,
                    list.not_image == 1 ? "" : "s");
            sep = ", ";
        }
        if (list.not_entered) {
            fprintf(stderr, "%s%zu sub-folder%s (-r descends)", sep, list.not_entered,
                    list.not_entered == 1 ? "" : "s");
            sep = ", ";
        }
        if (list.not_regular)
            fprintf(stderr, "%s%zu special file%s", sep, list.not_regular,
                    list.not_regular == 1 ? "" : "s");
        fprintf(stderr, "%s\n", o.verbose ? "" : "; -v names them");
    }

    /* Until here nothing was written, so an interrupt may simply end the process; from here
       on it is caught, so that only complete outputs remain. */
    batch_signals_install();
    if (mkdir_p(out_dir) != 0) {
        cli_error("%s: cannot create OUTPUT_DIR: %s", out_dir, strerror(errno));
        rc = EXIT_FAIL;
        goto done;
    }
    if (o.report) {
        report = strcmp(o.report, "-") == 0 ? stdout : fopen(o.report, "w");
        if (!report) {
            cli_error("%s: cannot create the report: %s", o.report, strerror(errno));
            rc = EXIT_FAIL;
            goto done;
        }
    }
    if (report) batch_report_start(report, &o, list.count, jobs, threads, budget, why);
    int progress = o.progress < 0 ? isatty(STDERR_FILENO) : o.progress;
    batch_totals t = {0};
    int run_rc = 0;
    if (!batch_interrupted)
        run_rc = batch_run(&o, &list, jobs, threads, report, progress, &t);
    else
        t.not_done = list.count;
    batch_signals_restore();

    size_t failed = t.failed + (size_t)list.errors;
    fprintf(stderr, "pixpool: batch: %zu ok, %zu failed, %zu skipped", t.ok, failed, t.skipped);
    if (t.not_done) fprintf(stderr, ", %zu not processed", t.not_done);
    fprintf(stderr, " (%zu files); %.1f MP in %.2f s: %.1f MP/s, %.1f files/s\n", list.count,
            t.megapixels, t.seconds, t.seconds > 0 ? t.megapixels / t.seconds : 0.0,
            t.seconds > 0 ? (double)t.ok / t.seconds : 0.0);
    if (o.verbose)
        fprintf(stderr, "pixpool: batch: backend %s, %d job%s x %d thread%s, CPU budget %d (%s)\n",
                backend_name(o.backend), jobs, jobs == 1 ? "" : "s", threads,
                threads == 1 ? "" : "s", budget, why);
    if (batch_interrupted)
        rc = EXIT_INTERRUPTED;
    else if (failed || t.not_done || run_rc)
        rc = EXIT_FAIL;
    else
        rc = EXIT_OK;
    if (report) batch_report_end(report, &t, failed, list.count, rc);
done:
    if (report) {
        /* a report that did not arrive whole is a failure, wherever it went */
        if (report != stdout && cli_close_stream(report, o.report) && rc == EXIT_OK)
            rc = EXIT_FAIL; /* on standard output main.c checks it */
    }
    batch_signals_restore();
    batch_list_free(&list);
    free(in_dir);
    free(out_dir);
    free(o.specs);
    pp_pipeline_free(pl);
    pp_ctx_free(ctx);
    return rc;
}
