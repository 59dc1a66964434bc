/*
 * example_speedup.c - measure what the parallel backends buy on this machine: the same pipeline
 * on the same generated image with the serial, OpenMP and fork backends, best of N runs each,
 * and a check that all three give byte-identical pixels.
 *
 *   example_speedup [--size WxH] [--repeat N] [--workers N] [--min-speedup X]
 *
 * Defaults: 2048x1536 RGB, 3 runs, one worker per available CPU, no speedup required. With
 * --min-speedup X the program fails unless the faster parallel backend is at least X times
 * faster than serial (only meaningful on an otherwise idle machine with several CPUs).
 * Exit status 0 on success, 1 on failure, 2 on a usage error.
 */
#include <pixpool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const SPECS[] = {"gaussian:sigma=3", "median:radius=2", "sharpen"};
enum { NSPECS = sizeof SPECS / sizeof SPECS[0] };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Fills an RGB image with a deterministic picture: gradients plus a hashed texture. */
static void draw(pp_image *im)
{
    int w = pp_image_width(im), h = pp_image_height(im);
    for (int y = 0; y < h; y++) {
        uint8_t *row = pp_image_data(im) + (size_t)y * pp_image_stride(im);
        for (int x = 0; x < w; x++) {
            uint32_t n = (uint32_t)x * 374761393u + (uint32_t)y * 668265263u;
            n = (n ^ (n >> 13)) * 1274126177u;
            row[3 * x + 0] = (uint8_t)(((uint32_t)(x * 255 / w) + (n & 31)) & 255);
            row[3 * x + 1] = (uint8_t)(((uint32_t)(y * 255 / h) + ((n >> 8) & 31)) & 255);
            row[3 * x + 2] = (uint8_t)(((x ^ y) & 64 ? 180 : 60) + ((n >> 16) & 15));
        }
    }
}

static int same_pixels(pp_image *a, pp_image *b)
{
    int w = pp_image_width(a), h = pp_image_height(a), c = pp_image_channels(a);
    if (w != pp_image_width(b) || h != pp_image_height(b) || c != pp_image_channels(b)) return 0;
    for (int y = 0; y < h; y++)
        if (memcmp(pp_image_data(a) + (size_t)y * pp_image_stride(a),
                   pp_image_data(b) + (size_t)y * pp_image_stride(b), (size_t)w * (size_t)c))
            return 0;
    return 1;
}

typedef struct run {
    const char *name;
    pp_backend backend;
    pp_ctx *ctx;
    pp_pipeline *pipe;
    pp_image *in, *out;
    double first, best; /* seconds: the first call (pool start-up included), the best later one */
} run;

static int fail(const run *r, const char *what, pp_status st)
{
    fprintf(stderr, "example_speedup: %s: %s: %s (%s)\n", r->name, what,
            r->ctx ? pp_ctx_last_error(r->ctx) : "", pp_strerror(st));
    return 1;
}

/* Sets up r (context, pipeline, a copy of `src` in memory its workers see) and times it. */
static int measure(run *r, const pp_image *src, int workers, int repeat)
{
    pp_status st;
    if (!(r->ctx = pp_ctx_new())) return fail(r, "context", PP_ERR_NOMEM);
    if ((st = pp_ctx_set_backend(r->ctx, r->backend)) || (st = pp_ctx_set_workers(r->ctx, workers)))
        return fail(r, "settings", st);
    if ((st = pp_pipeline_new(r->ctx, &r->pipe))) return fail(r, "pipeline", st);
    for (int i = 0; i < NSPECS; i++)
        if ((st = pp_pipeline_add_spec(r->ctx, r->pipe, SPECS[i]))) return fail(r, SPECS[i], st);
    /* An image made by a fork context lives in its shared arena: no copy per run. */
    int w = pp_image_width(src), h = pp_image_height(src), c = pp_image_channels(src);
    if ((st = pp_image_new(r->ctx, w, h, c, &r->in))) return fail(r, "image", st);
    for (int y = 0; y < h; y++)
        memcpy(pp_image_data(r->in) + (size_t)y * pp_image_stride(r->in),
               pp_image_data((pp_image *)src) + (size_t)y * pp_image_stride(src),
               (size_t)w * (size_t)c);
    for (int i = 0; i <= repeat; i++) {
        pp_image *out = NULL;
        double t0 = now();
        if ((st = pp_pipeline_run(r->ctx, r->pipe, r->in, &out))) return fail(r, "run", st);
        double t = now() - t0;
        if (i == 0) {
            r->first = t;
            r->best = t;
        } else if (t < r->best || i == 1) {
            r->best = t;
        }
        pp_image_free(r->out);
        r->out = out;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int w = 2048, h = 1536, repeat = 3, workers = 0;
    double min_speedup = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--size") && v && sscanf(v, "%dx%d", &w, &h) == 2 && w > 0 && h > 0)
            i++;
        else if (!strcmp(argv[i], "--repeat") && v && (repeat = atoi(v)) > 0)
            i++;
        else if (!strcmp(argv[i], "--workers") && v && (workers = atoi(v)) >= 0)
            i++;
        else if (!strcmp(argv[i], "--min-speedup") && v && (min_speedup = atof(v)) >= 0)
            i++;
        else {
            fprintf(stderr, "usage: example_speedup [--size WxH] [--repeat N] [--workers N] "
                            "[--min-speedup X]\n");
            return 2;
        }
    }

    int rc = 1;
    pp_ctx *gen = pp_ctx_new();
    pp_image *src = NULL;
    run runs[3] = {{.name = "serial", .backend = PP_BACKEND_SERIAL},
                   {.name = "openmp", .backend = PP_BACKEND_OPENMP},
                   {.name = "fork", .backend = PP_BACKEND_FORK}};
    if (!gen || pp_image_new(gen, w, h, 3, &src)) {
        fprintf(stderr, "example_speedup: cannot make a %dx%d image: %s\n", w, h,
                gen ? pp_ctx_last_error(gen) : "out of memory");
        goto done;
    }
    draw(src);
    printf("pipeline:");
    for (int i = 0; i < NSPECS; i++) printf(" %s", SPECS[i]);
    printf("\nimage: %dx%d RGB, best of %d run(s) after a first one, %d worker(s)\n", w, h,
           repeat, workers ? workers : pp_cpu_count());
    for (int i = 0; i < 3; i++)
        if (measure(&runs[i], src, i == 0 ? 1 : workers, repeat)) goto done;

    printf("%-8s %12s %12s %9s\n", "backend", "first (ms)", "best (ms)", "speedup");
    double best_speedup = 0;
    for (int i = 0; i < 3; i++) {
        double s = runs[0].best / runs[i].best;
        if (i > 0 && s > best_speedup) best_speedup = s;
        printf("%-8s %12.1f %12.1f %8.2fx\n", runs[i].name, runs[i].first * 1e3,
               runs[i].best * 1e3, s);
    }
    for (int i = 1; i < 3; i++) {
        if (!same_pixels(runs[0].out, runs[i].out)) {
            fprintf(stderr, "example_speedup: %s output differs from serial\n", runs[i].name);
            goto done;
        }
    }
    printf("all backends gave identical pixels\n");
    if (min_speedup > 0 && best_speedup < min_speedup) {
        fprintf(stderr, "example_speedup: best speedup %.2fx is below the required %.2fx\n",
                best_speedup, min_speedup);
        goto done;
    }
    rc = 0;

done:
    for (int i = 0; i < 3; i++) {
        pp_image_free(runs[i].out);
        pp_image_free(runs[i].in);
        pp_pipeline_free(runs[i].pipe);
        pp_ctx_free(runs[i].ctx);
    }
    pp_image_free(src);
    pp_ctx_free(gen);
    return rc;
}
