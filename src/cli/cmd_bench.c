/*
 * cmd_bench.c - `pixpool bench`: times pipelines on every backend and worker count, after
 * checking that every backend gives serial's bytes, and reports speedup, efficiency, the
 * Karp-Flatt serial fraction and the start-up costs that decide small images; or, with --batch,
 * times `pixpool batch` on a folder for each job count.
 *
 * Options are parsed and validated here (usage errors exit 2 before anything is measured); the
 * measurements live in bench_run.c, the reports in bench_report.c (see bench.h).
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_W 4000
#define DEFAULT_H 3000
#define DEFAULT_REPEAT 7
#define DEFAULT_WARMUP 1
#define DEFAULT_BUDGET_S 8.0

enum { FMT_TABLE, FMT_CSV, FMT_JSON };

static void bench_usage(FILE *f)
{
    char why[256];
    int budget = pp_cpu_budget(why, sizeof why);
    fprintf(f,
            "usage: pixpool bench [options] [IMAGE]\n"
            "       pixpool bench --batch DIR [options]\n"
            "\n"
            "Times pp_pipeline_run (decode and encode excluded) on IMAGE, or on a generated\n"
            "photo-like image, for each backend and worker count. Every backend's output is first\n"
            "checked to be byte-identical to serial's (FNV-1a 64 hash); a difference is an error.\n"
            "Reports median/min/max ms, megapixels/s, speedup over serial, efficiency, the\n"
            "Karp-Flatt serial fraction, and start-up costs (fork pool, OpenMP team, first touch).\n"
            "\n"
            "options:\n"
            "  -f, --filter SPEC     add SPEC to the pipeline (default: linear:a=1.2,b=10,\n"
            "                        gaussian:sigma=2, median:radius=2 and resize:scale=0.5 (or\n"
            "                        rotate:angle=90 without resize), each measured on its own)\n"
            "      --each            measure each -f SPEC on its own instead of as one pipeline\n"
            "  -b, --backends LIST   comma-separated: serial,openmp,fork (default: all; serial is\n"
            "                        always measured, it is the baseline)\n"
            "  -j, --workers LIST    comma-separated worker counts (default: 1, 2, 4, ... up to\n"
            "                        the CPU budget and that count itself; the budget is the\n"
            "                        least of CPU affinity, cgroup quota, OMP_NUM_THREADS and\n"
            "                        SLURM_CPUS_PER_TASK: here %d: %s)\n"
            "      --repeat N        timed runs per cell (default %d; when not given, fewer -\n"
            "                        at least 3 - where a workload would take over %.0f s)\n"
            "      --warmup N        untimed runs per cell after the check run (default %d)\n"
            "      --size WxH        size of the generated image (default %dx%d)\n"
            "      --channels N      channels of the generated image, 1..4 (default 3)\n"
            "      --depth 8|16      bits per channel the filters run at (default: 8 for the\n"
            "                        generated image, a file's own depth); 16 makes the\n"
            "                        generated image 16-bit (all 16 bits vary)\n"
            "      --format FMT      table | csv | json (default table)\n"
            "      --plot FILE.svg   also draw speedup versus workers as an SVG chart (SVG only:\n"
            "                        another extension is refused)\n"
            "      --csv-header comments|none\n"
            "                        comments (default): the CSV begins with '#' lines on the\n"
            "                        machine, build and image; none: with its header row only\n"
            "                        (for pandas, spreadsheets)\n"
            "      --no-startup      skip the start-up cost measurements\n"
            "      --save-image FILE write the generated image (--size, --channels) to FILE and\n"
            "                        exit, to give other tools the same pixels (bench/compare.sh)\n"
            "      --batch DIR       time `pixpool batch -j J -t 1 -f SPEC... DIR OUT --overwrite`\n"
            "                        for each J of --workers (default repeat 3 here; the pipeline\n"
            "                        is the -f specs, default gaussian:sigma=2)\n"
            "  -h, --help            this help\n"
            "\n"
            "Exit codes: 0 success, 1 a measurement failed or a backend's result differed,\n"
            "2 usage error, 130 interrupted. The JSON schema is in docs/BENCH.md.\n",
            budget, why, DEFAULT_REPEAT, DEFAULT_BUDGET_S, DEFAULT_WARMUP, DEFAULT_W, DEFAULT_H);
}

static void on_signal(int sig)
{
    (void)sig;
    bench_interrupted = 1;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

/* Parses "1,2,4" into a sorted list without duplicates. */
static int parse_workers(const char *s, int *out, int *n)
{
    char *copy = strdup(s), *save = NULL;
    if (!copy) return -1;
    *n = 0;
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long v;
        if (cli_parse_int("--workers", tok, 1, 1024, &v)) {
            rc = -1;
            break;
        }
        int dup = 0;
        for (int i = 0; i < *n; i++) dup |= out[i] == (int)v;
        if (dup) continue;
        if (*n == BENCH_MAX_WORKERS) {
            cli_error("--workers: at most %d worker counts", BENCH_MAX_WORKERS);
            rc = -1;
            break;
        }
        out[(*n)++] = (int)v;
    }
    if (!rc && *n == 0) {
        cli_error("--workers: '%s' lists no worker count", s);
        rc = -1;
    }
    free(copy);
    qsort(out, (size_t)*n, sizeof *out, cmp_int);
    return rc;
}

static int parse_backends(const char *s, int *out, int *n)
{
    char *copy = strdup(s), *save = NULL;
    if (!copy) return -1;
    int seen[BENCH_NBACKENDS] = {0};
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int b = cli_parse_backend(tok);
        if (b < 0) {
            cli_error("--backends: unknown backend '%s' (serial, openmp or fork)", tok);
            rc = -1;
            break;
        }
        seen[b] = 1;
    }
    /* a fixed order: serial, openmp, fork */
    *n = 0;
    for (int b = 0; b < BENCH_NBACKENDS; b++)
        if (seen[b]) out[(*n)++] = b;
    if (!rc && *n == 0) {
        cli_error("--backends: '%s' lists no backend", s);
        rc = -1;
    }
    free(copy);
    return rc;
}

static int parse_size(const char *s, int *w, int *h)
{
    char *end;
    errno = 0;
    long a = strtol(s, &end, 10);
    if (end != s && (*end == 'x' || *end == 'X')) {
        const char *p = end + 1;
        long b = strtol(p, &end, 10);
        if (end != p && !*end && !errno && a >= 1 && b >= 1 && a <= 1000000 && b <= 1000000 &&
            (unsigned long long)a * (unsigned long long)b <= (1ull << 30)) {
            *w = (int)a;
            *h = (int)b;
            return 0;
        }
    }
    cli_error("--size: '%s' is not WIDTHxHEIGHT (each >= 1, at most 2^30 pixels)", s);
    return -1;
}

/* Validates one spec: 0, or an exit code (2 for a bad spec), reported. */
static int check_spec(pp_ctx *ctx, const char *spec)
{
    pp_pipeline *pl = NULL;
    if (pp_pipeline_new(ctx, &pl)) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    pp_status st = pp_pipeline_add_spec(ctx, pl, spec);
    pp_pipeline_free(pl);
    if (st) {
        cli_error("%s", pp_ctx_last_error(ctx));
        return cli_exit_code(st);
    }
    return 0;
}

static void join_label(char *buf, size_t n, const char *const *specs, int nspecs)
{
    buf[0] = 0;
    size_t len = 0;
    for (int i = 0; i < nspecs && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? " | " : "", specs[i]);
}

/* The default worker list: powers of two below the CPU budget, and the budget itself. */
static void default_workers(int *out, int *n)
{
    int budget = pp_cpu_budget(NULL, 0);
    *n = 0;
    for (int p = 1; p < budget && *n < BENCH_MAX_WORKERS - 1; p *= 2) out[(*n)++] = p;
    out[(*n)++] = budget;
}

int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {
        {"filter", required_argument, 0, 'f'}, {"backends", required_argument, 0, 'b'},
        {"workers", required_argument, 0, 'j'}, {"repeat", required_argument, 0, 1},
        {"warmup", required_argument, 0, 2},    {"size", required_argument, 0, 3},
        {"format", required_argument, 0, 4},    {"plot", required_argument, 0, 5},
        {"batch", required_argument, 0, 6},     {"each", no_argument, 0, 7},
        {"channels", required_argument, 0, 8},  {"no-startup", no_argument, 0, 9},
        {"save-image", required_argument, 0, 10}, {"help", no_argument, 0, 'h'},
        {"csv-header", required_argument, 0, 11}, {"depth", required_argument, 0, 12},
        {0, 0, 0, 0}};
    static bench_report r; /* large; one per process */
    memset(&r, 0, sizeof r);
    const char *specs[BENCH_MAX_SPECS];
    int nspecs = 0, each = 0, format = FMT_TABLE, no_startup = 0, repeat_given = 0;
    int width = DEFAULT_W, height = DEFAULT_H, channels = 3, depth = 0;
    const char *plot = NULL, *batch_dir = NULL, *save_image = NULL;
    r.repeat = DEFAULT_REPEAT;
    r.warmup = DEFAULT_WARMUP;
    r.budget_ms = DEFAULT_BUDGET_S * 1e3;
    r.nbackends = BENCH_NBACKENDS;
    for (int b = 0; b < BENCH_NBACKENDS; b++) r.backends[b] = b;
    default_workers(r.workers, &r.nworkers);

    pp_ctx *ctx = pp_ctx_new();
    if (!ctx) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    int rc = EXIT_USAGE, c;
    long v;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:b:j:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (nspecs == BENCH_MAX_SPECS) {
                cli_error("at most %d -f specs", BENCH_MAX_SPECS);
                goto done;
            }
            if ((rc = check_spec(ctx, optarg))) goto done;
            rc = EXIT_USAGE;
            specs[nspecs++] = optarg;
            break;
        case 'b':
            if (parse_backends(optarg, r.backends, &r.nbackends)) goto done;
            break;
        case 'j':
            if (parse_workers(optarg, r.workers, &r.nworkers)) goto done;
            break;
        case 1:
            if (cli_parse_int("--repeat", optarg, 1, 100000, &v)) goto done;
            r.repeat = (int)v;
            repeat_given = 1;
            break;
        case 2:
            if (cli_parse_int("--warmup", optarg, 0, 100000, &v)) goto done;
            r.warmup = (int)v;
            break;
        case 3:
            if (parse_size(optarg, &width, &height)) goto done;
            break;
        case 4:
            if (!strcasecmp(optarg, "table")) format = FMT_TABLE;
            else if (!strcasecmp(optarg, "csv")) format = FMT_CSV;
            else if (!strcasecmp(optarg, "json")) format = FMT_JSON;
            else {
                cli_error("--format: unknown format '%s' (table, csv or json)", optarg);
                goto done;
            }
            break;
        case 5: {
            const char *dot = strrchr(optarg, '.');
            if (!dot || strcasecmp(dot, ".svg") != 0) {
                cli_error("--plot: %s: only SVG charts are written; name the file .svg (convert "
                          "it to PNG with e.g. rsvg-convert)", optarg);
                goto done;
            }
            plot = optarg;
            break;
        }
        case 6: batch_dir = optarg; break;
        case 7: each = 1; break;
        case 8:
            if (cli_parse_int("--channels", optarg, 1, 4, &v)) goto done;
            channels = (int)v;
            break;
        case 9: no_startup = 1; break;
        case 12:
            if (cli_parse_depth(optarg, &depth)) goto done;
            break;
        case 10: save_image = optarg; break;
        case 11:
            if (!strcasecmp(optarg, "none")) r.csv_no_comments = 1;
            else if (!strcasecmp(optarg, "comments")) r.csv_no_comments = 0;
            else {
                cli_error("--csv-header: '%s' is not one of comments, none", optarg);
                goto done;
            }
            break;
        case 'h':
            bench_usage(stdout);
            rc = EXIT_OK;
            goto done;
        default: rc = cli_getopt_error("bench", c, argv); goto done;
        }
    }
    if (argc - optind > 1) {
        cli_error("bench takes at most one IMAGE (see pixpool bench --help)");
        goto done;
    }
    const char *image = argc - optind == 1 ? argv[optind] : NULL;
    if (image && batch_dir) {
        cli_error("--batch DIR and IMAGE cannot be combined");
        goto done;
    }
    if (save_image && (image || batch_dir)) {
        cli_error("--save-image writes the generated image: it takes no IMAGE and no --batch");
        goto done;
    }
    if (save_image) {
        if (pp_format_from_path(save_image) == PP_FORMAT_UNKNOWN) {
            cli_error("%s: cannot write this format (use .png, .jpg, .bmp or .tga)", save_image);
            goto done;
        }
        pp_image *im = NULL;
        pp_ctx_set_max_pixels(ctx, (uint64_t)1 << 40);
        pp_ctx_set_backend(ctx, PP_BACKEND_SERIAL);
        pp_ctx_set_png_level(ctx, 3);
        pp_status st = pp_image_new(ctx, width, height, channels, &im);
        if (!st) {
            bench_fill_image(im, 1);
            if (depth == 16 && bench_widen_image(ctx, &im)) goto done_image;
            st = pp_save(ctx, im, save_image);
        }
        if (st) cli_error("%s", pp_ctx_last_error(ctx));
        rc = st ? EXIT_FAIL : EXIT_OK;
    done_image:
        pp_image_free(im);
        goto done;
    }
    r.repeat_auto = !repeat_given;

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    bench_interrupted = 0;
    bench_collect_facts(&r.facts);
    r.ok = 1;
    rc = EXIT_FAIL;

    if (batch_dir) {
        static const char *batch_default[] = {"gaussian:sigma=2"};
        const char *const *bs = nspecs ? specs : batch_default;
        int m = bench_measure_batch(&r, batch_dir, bs, nspecs ? nspecs : 1,
                                    repeat_given ? r.repeat : 3, r.warmup, &r.batch);
        if (m) {
            rc = m == EXIT_INTERRUPTED ? EXIT_INTERRUPTED : EXIT_FAIL;
            goto restore;
        }
        r.batch_valid = 1;
        r.repeat = r.batch.nrows ? r.batch.rows[0].t.runs : 0;
    } else {
        /* the image: IMAGE (decode and encode timed once, apart) or a generated one */
        pp_image *src = NULL;
        if (image) {
            double t0 = bench_now_ms();
            pp_status st = pp_load(ctx, image, &src);
            r.decode_ms = bench_now_ms() - t0;
            if (st) {
                cli_error("%s", pp_ctx_last_error(ctx));
                goto restore;
            }
            pp_image_info info;
            pp_format fmt = PP_FORMAT_PNG;
            if (!pp_info(ctx, image, &info) &&
                (info.format == PP_FORMAT_JPEG || info.format == PP_FORMAT_BMP ||
                 info.format == PP_FORMAT_TGA))
                fmt = info.format;
            void *data = NULL;
            size_t size = 0;
            t0 = bench_now_ms();
            st = pp_save_mem(ctx, src, fmt, &data, &size);
            r.encode_ms = bench_now_ms() - t0;
            if (st) {
                cli_error("%s: encoding: %s", image, pp_ctx_last_error(ctx));
                pp_image_free(src);
                goto restore;
            }
            free(data);
            r.encoded_bytes = size;
            r.encode_format = pp_format_name(fmt);
            r.io_valid = 1;
            r.image_path = image;
        } else {
            pp_ctx_set_max_pixels(ctx, (uint64_t)1 << 40);
            if (pp_image_new(ctx, width, height, channels, &src)) {
                cli_error("%dx%d: %s", width, height, pp_ctx_last_error(ctx));
                goto restore;
            }
            pp_ctx_set_backend(ctx, PP_BACKEND_SERIAL);
            bench_fill_image(src, 1);
            if (depth == 16 && bench_widen_image(ctx, &src)) { pp_image_free(src); goto restore; }
        }
        if (depth && pp_image_depth(src) != depth) { /* a file at the other depth */
            pp_image *conv = NULL;
            if (pp_image_convert_depth(ctx, src, depth, &conv)) {
                cli_error("--depth %d: %s", depth, pp_ctx_last_error(ctx));
                { pp_image_free(src); goto restore; }
            }
            pp_image_free(src);
            src = conv;
        }
        r.depth = pp_image_depth(src);
        r.width = pp_image_width(src);
        r.height = pp_image_height(src);
        r.channels = pp_image_channels(src);

        /* the workloads */
        static const char *defaults[4] = {"linear:a=1.2,b=10", "gaussian:sigma=2",
                                          "median:radius=2", "resize:scale=0.5"};
        const char **list = specs;
        int nlist = nspecs, separate = each;
        if (nspecs == 0) {
            list = defaults;
            nlist = 4;
            separate = 1;
            if (!pp_filter_find("resize") || check_spec(ctx, defaults[3]) != 0)
                defaults[3] = "rotate:angle=90";
        }
        r.nworkloads = separate ? nlist : 1;
        r.workloads = calloc((size_t)r.nworkloads, sizeof *r.workloads);
        if (!r.workloads) {
            cli_error("out of memory");
            pp_image_free(src);
            goto restore;
        }
        for (int i = 0; i < r.nworkloads; i++) {
            bench_workload *w = &r.workloads[i];
            w->specs = separate ? &list[i] : list;
            w->nspecs = separate ? 1 : nlist;
            join_label(w->label, sizeof w->label, w->specs, w->nspecs);
        }

        int want_omp = 0, want_fork = 0, maxw = 1;
        for (int b = 0; b < r.nbackends; b++) {
            want_omp |= r.backends[b] == PP_BACKEND_OPENMP;
            want_fork |= r.backends[b] == PP_BACKEND_FORK;
        }
        for (int j = 0; j < r.nworkers; j++)
            if (r.workers[j] > maxw) maxw = r.workers[j];
        if (!no_startup) {
            if (bench_measure_startup(maxw, want_omp, want_fork, r.width, r.height, r.channels,
                                      &r.startup)) {
                pp_image_free(src);
                if (bench_interrupted) rc = EXIT_INTERRUPTED;
                goto restore;
            }
            r.startup_valid = 1;
        }
        int failed = 0;
        for (int i = 0; i < r.nworkloads; i++) {
            int m = bench_measure_workload(&r, src, &r.workloads[i]);
            if (m == EXIT_INTERRUPTED || bench_interrupted) {
                pp_image_free(src);
                rc = EXIT_INTERRUPTED;
                goto restore;
            }
            if (m < 0) {
                free(r.workloads[i].cells);
                r.workloads[i].cells = NULL;
                r.nworkloads = i; /* report what was measured */
                failed = 1;
                break;
            }
            if (m == 1) r.ok = 0;
        }
        pp_image_free(src);
        if (failed) r.ok = 0;
    }
    if (format == FMT_CSV) bench_write_csv(stdout, &r);
    else if (format == FMT_JSON) bench_write_json(stdout, &r);
    else bench_write_table(stdout, &r);
    fflush(stdout);
    rc = r.ok ? EXIT_OK : EXIT_FAIL;
    if (plot && bench_write_svg(plot, &r)) rc = EXIT_FAIL;
restore:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
done:
    if (r.workloads) {
        for (int i = 0; i < r.nworkloads; i++) free(r.workloads[i].cells);
        free(r.workloads);
    }
    pp_ctx_free(ctx);
    return rc;
}
