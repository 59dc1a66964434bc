/*
 * encode_bench.c - times pixpool's encoders alone (pp_save_mem), per backend and worker count:
 * the codec part of an end-to-end run, without process start, file reading or decoding.
 *
 * Usage: encode_bench IMAGE [FORMAT [RUNS]]
 *   FORMAT: png (default) or jpeg; RUNS: timed runs per cell (default 7, after one warm-up).
 *   Environment: PP_LEVEL (PNG level, default the library's), PP_QUALITY (JPEG quality).
 * Prints, for serial and for openmp and fork at 1..nproc workers, the median time in ms, the
 * speedup over the same backend at 1 worker, and the output size (which must not change with
 * the backend: checked, exit 1 if it does).
 */
#define _POSIX_C_SOURCE 200809L
#include <pixpool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median ms of `runs` encodes (after a warm-up); *size the output's bytes; -1 on failure. */
static double time_encode(pp_backend b, int workers, const char *path, pp_format fmt, int runs,
                          size_t *size)
{
    pp_ctx *ctx = pp_ctx_new();
    if (!ctx) return -1;
    pp_ctx_set_backend(ctx, b);
    pp_ctx_set_workers(ctx, workers);
    const char *lv = getenv("PP_LEVEL"), *q = getenv("PP_QUALITY");
    if (lv) pp_ctx_set_png_level(ctx, atoi(lv));
    if (q) pp_ctx_set_jpeg_quality(ctx, atoi(q));
    pp_image *img;
    if (pp_load(ctx, path, &img)) {
        fprintf(stderr, "encode_bench: %s\n", pp_ctx_last_error(ctx));
        pp_ctx_free(ctx);
        return -1;
    }
    double *t = malloc(sizeof(double) * (size_t)runs);
    double med = -1;
    for (int i = -1; t && i < runs; i++) {
        void *buf;
        size_t n;
        double t0 = now_ms();
        if (pp_save_mem(ctx, img, fmt, &buf, &n)) {
            fprintf(stderr, "encode_bench: %s\n", pp_ctx_last_error(ctx));
            goto out;
        }
        double t1 = now_ms();
        free(buf);
        *size = n;
        if (i >= 0) t[i] = t1 - t0;
    }
    if (t) {
        qsort(t, (size_t)runs, sizeof *t, cmp_double);
        med = t[runs / 2];
    }
out:
    free(t);
    pp_image_free(img);
    pp_ctx_free(ctx);
    return med;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: encode_bench IMAGE [png|jpeg [RUNS]]\n");
        return 2;
    }
    pp_format fmt = argc > 2 && strcmp(argv[2], "jpeg") == 0 ? PP_FORMAT_JPEG : PP_FORMAT_PNG;
    int runs = argc > 3 ? atoi(argv[3]) : 7;
    if (runs < 1) runs = 1;
    int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
    size_t ref = 0, n = 0;
    double base = time_encode(PP_BACKEND_SERIAL, 1, argv[1], fmt, runs, &ref);
    if (base < 0) return 1;
    printf("| backend | workers | median ms | speedup | bytes |\n|---|---:|---:|---:|---:|\n");
    printf("| serial | 1 | %.1f | 1.00 | %zu |\n", base, ref);
    const pp_backend bs[2] = {PP_BACKEND_OPENMP, PP_BACKEND_FORK};
    const char *names[2] = {"openmp", "fork"};
    int rc = 0;
    for (int k = 0; k < 2; k++) {
        double one = -1;
        for (int w = 1; w <= ncpu; w++) {
            double ms = time_encode(bs[k], w, argv[1], fmt, runs, &n);
            if (ms < 0) return 1;
            if (w == 1) one = ms;
            printf("| %s | %d | %.1f | %.2f | %zu |\n", names[k], w, ms, one / ms, n);
            if (n != ref) {
                fprintf(stderr, "encode_bench: %s -j %d wrote %zu bytes, serial %zu\n", names[k],
                        w, n, ref);
                rc = 1;
            }
        }
    }
    return rc;
}
