/*
 * test_reference.c - pixpool against the well-known implementations its filters are defined
 * by: OpenCV 4.6 (BORDER_REPLICATE) and Pillow, through tests/reference.py.
 *
 * Each test generates its own photo-like images (smooth gradients, hard-edged shapes and a
 * little noise, odd sizes, RGB and gray), writes them into a fresh temporary folder, runs every
 * case of one filter through the library and, in one batch, through reference.py with the
 * system interpreter (/usr/bin/python3, which has cv2 and PIL). Each case logs the maximum and
 * mean absolute difference per channel value and must stay within its tolerance: 1 level
 * (DESIGN.md section 5) by default, 2 for bilateral and for bicubic/bilinear resizing, 0 where
 * the reference computes exactly the same thing (geometry, nearest resizing, equalize).
 * Without OpenCV/Pillow every test is skipped with a message saying so.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"

/* ---- environment -------------------------------------------------------------------------- */

static void need_reference(char *script, size_t len)
{
    if (system(PYTHON " -c 'import cv2, PIL' >/dev/null 2>&1") != 0)
        cr_skip_test("OpenCV/Pillow not installed: " PYTHON " -c 'import cv2, PIL' failed "
                     "(Debian: apt-get install python3-opencv python3-pil)");
    const char *src = getenv("PP_SOURCE_DIR");
    snprintf(script, len, "%s/tests/reference.py", src && *src ? src : "..");
    if (access(script, R_OK) != 0)
        cr_skip_test("reference script %s not found (set PP_SOURCE_DIR to the source tree)",
                     script);
}

/* ---- test images -------------------------------------------------------------------------- */

typedef struct test_image {
    const char *name;
    int w, h, c;
    uint32_t seed;
} test_image;

static const test_image images[] = {
    {"rgb97x61", 97, 61, 3, 1},
    {"gray64x48", 64, 48, 1, 2},
    {"rgb131x89", 131, 89, 3, 3},
};
#define NIMAGES ((int)(sizeof images / sizeof images[0]))

static uint32_t xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Photo-like content: per-channel smooth waves and gradients, a disc, a rectangle and a thin
   diagonal line with hard edges, plus +-3 levels of noise. */
static pp_image *make_image(pp_ctx *ctx, const test_image *t)
{
    pp_image *im = NULL;
    cr_assert_eq(pp_image_new(ctx, t->w, t->h, t->c, &im), PP_OK);
    uint8_t *d = pp_image_data(im);
    const size_t stride = pp_image_stride(im);
    uint32_t s = t->seed * 2654435761u + 7u;
    const double cx = t->w * 0.62, cy = t->h * 0.4, rad = t->h * 0.28;
    for (int y = 0; y < t->h; y++)
        for (int x = 0; x < t->w; x++)
            for (int k = 0; k < t->c; k++) {
                double ph = t->seed + 1.7 * k;
                double v = 128 + 70 * sin(x * 0.09 + ph) * cos(y * 0.07 - ph) +
                           40.0 * (x - t->w / 2.0) / t->w + 25.0 * (y - t->h / 2.0) / t->h;
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < rad * rad) v = 230 - 60 * k;
                if (x > t->w / 8 && x < t->w / 3 && y > t->h / 2 && y < t->h * 7 / 8)
                    v = 30 + 50 * k;
                if (abs(x - 2 * y) <= 1) v = 250;
                v += (int)(xorshift(&s) % 7) - 3;
                d[(size_t)y * stride + (size_t)x * t->c + k] = (uint8_t)(v < 0     ? 0
                                                                         : v > 255 ? 255
                                                                                   : v);
            }
    return im;
}

/* ---- running cases ------------------------------------------------------------------------ */

typedef struct ref_case {
    const char *spec; /* pixpool spec: name or name:key=value,... */
    int tol;          /* allowed max |difference| */
} ref_case;

enum { ANY = 0, RGB_ONLY = 1 };

/* "name:k=v,k=v" -> "name" and "k=v k=v" for reference.py. */
static void split_spec(const char *spec, char *op, size_t oplen, char *args, size_t arglen)
{
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    snprintf(op, oplen, "%.*s", (int)n, spec);
    snprintf(args, arglen, "%s", colon ? colon + 1 : "");
    for (char *p = args; *p; p++)
        if (*p == ',') *p = ' ';
}

static void rm_dir(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) cr_log_warn("could not remove %s", dir);
}

/* Runs every case on every image (RGB only when `which` says so) and compares. */
static void run_cases(const ref_case *cases, int ncases, int which)
{
    char script[1024];
    need_reference(script, sizeof script);
    const char *tmp = getenv("TMPDIR");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/pp_ref_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp %s failed", dir);

    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    pp_image *ins[NIMAGES];
    char path[1200], jobs[1200];
    for (int i = 0; i < NIMAGES; i++) {
        ins[i] = make_image(ctx, &images[i]);
        snprintf(path, sizeof path, "%s/%s.png", dir, images[i].name);
        cr_assert_eq(pp_save(ctx, ins[i], path), PP_OK, "%s", pp_ctx_last_error(ctx));
    }
    /* pixpool's results, and the job list for the reference */
    int total = ncases * NIMAGES;
    pp_image **outs = calloc((size_t)total, sizeof *outs);
    cr_assert_not_null(outs);
    snprintf(jobs, sizeof jobs, "%s/jobs.txt", dir);
    FILE *jf = fopen(jobs, "w");
    cr_assert_not_null(jf);
    for (int k = 0; k < ncases; k++)
        for (int i = 0; i < NIMAGES; i++) {
            if (which == RGB_ONLY && images[i].c != 3) continue;
            pp_status st = pp_apply(ctx, cases[k].spec, ins[i], &outs[k * NIMAGES + i]);
            cr_assert_eq(st, PP_OK, "%s: %s", cases[k].spec, pp_ctx_last_error(ctx));
            char op[64], args[512];
            split_spec(cases[k].spec, op, sizeof op, args, sizeof args);
            fprintf(jf, "%s '%s/%s.png' '%s/ref%d_%d.png' %s\n", op, dir, images[i].name, dir, k, i,
                    args);
        }
    fclose(jf);

    char cmd[3000], msg[4096];
    snprintf(cmd, sizeof cmd, PYTHON " '%s' --batch '%s' 2>&1", script, jobs);
    FILE *pf = popen(cmd, "r");
    cr_assert_not_null(pf, "cannot run %s", cmd);
    size_t got = fread(msg, 1, sizeof msg - 1, pf);
    msg[got] = '\0';
    int rc = pclose(pf);
    cr_assert_eq(rc, 0, "reference.py failed:\n%s", msg);

    for (int k = 0; k < ncases; k++)
        for (int i = 0; i < NIMAGES; i++) {
            pp_image *a = outs[k * NIMAGES + i], *b = NULL;
            if (!a) continue;
            snprintf(path, sizeof path, "%s/ref%d_%d.png", dir, k, i);
            cr_assert_eq(pp_load(ctx, path, &b), PP_OK, "%s", pp_ctx_last_error(ctx));
            const int w = pp_image_width(a), h = pp_image_height(a), c = pp_image_channels(a);
            cr_assert(w == pp_image_width(b) && h == pp_image_height(b) &&
                          c == pp_image_channels(b),
                      "%s on %s: pixpool gives %dx%dx%d, the reference %dx%dx%d", cases[k].spec,
                      images[i].name, w, h, c, pp_image_width(b), pp_image_height(b),
                      pp_image_channels(b));
            int maxd = 0, mx = 0, my = 0;
            double sum = 0;
            for (int y = 0; y < h; y++) {
                const uint8_t *ra = pp_image_data(a) + (size_t)y * pp_image_stride(a);
                const uint8_t *rb = pp_image_data(b) + (size_t)y * pp_image_stride(b);
                for (int x = 0; x < w * c; x++) {
                    int d = abs((int)ra[x] - (int)rb[x]);
                    sum += d;
                    if (d > maxd) maxd = d, mx = x / c, my = y;
                }
            }
            const double mean = sum / ((double)w * h * c);
            cr_log_info("%-44s %-10s max %d mean %.4f (tolerance %d)", cases[k].spec,
                        images[i].name, maxd, mean, cases[k].tol);
            cr_expect(maxd <= cases[k].tol,
                      "%s on %s: max difference %d at (%d, %d) > %d (mean %.4f)", cases[k].spec,
                      images[i].name, maxd, mx, my, cases[k].tol, mean);
            pp_image_free(b);
            pp_image_free(a);
        }
    free(outs);
    for (int i = 0; i < NIMAGES; i++) pp_image_free(ins[i]);
    pp_ctx_free(ctx);
    rm_dir(dir);
}

#define RUN(which, ...)                                                                         \
    do {                                                                                       \
        static const ref_case cs[] = {__VA_ARGS__};                                            \
        run_cases(cs, (int)(sizeof cs / sizeof cs[0]), which);                                 \
    } while (0)

/* ---- colour ------------------------------------------------------------------------------- */

Test(reference, point)
{
    RUN(ANY, {"invert", 0}, {"brightness:delta=-20.5", 1}, {"contrast:factor=1.3", 1},
        {"linear:a=0.7,b=10", 1}, {"gamma:g=2.2", 1}, {"threshold:t=100", 0},
        {"posterize:levels=5", 1}, {"sepia", 1});
}

Test(reference, grayscale) { RUN(RGB_ONLY, {"grayscale", 1}); }

/* ---- smoothing ---------------------------------------------------------------------------- */

Test(reference, box) { RUN(ANY, {"box:radius=1", 1}, {"box:radius=4", 1}); }

Test(reference, gaussian)
{
    RUN(ANY, {"gaussian:sigma=1", 1}, {"gaussian:sigma=2.5", 1},
        {"gaussian:sigma=0.8,radius=4", 1});
}

Test(reference, unsharp) { RUN(ANY, {"unsharp:sigma=1.5,amount=0.8", 1}); }

/* ---- convolutions ------------------------------------------------------------------------- */

Test(reference, sharpen) { RUN(ANY, {"sharpen", 1}); }

Test(reference, convolve)
{
    RUN(ANY, {"convolve:kernel=1/2/1/2/4/2/1/2/1", 1},
        {"convolve:kernel=0/-1/0/-1/5/-1/0/-1/0,bias=10", 1},
        {"convolve:kernel=1/1/1/1/1/1/2/2/2/1/1/2/4/2/1/1/2/2/2/1/1/1/1/1/1,divisor=30,bias=-5", 1},
        {"convolve:kernel=0.1/0.2/0.1/0.2/-0.5/0.2/0.1/0.2/0.1,divisor=0.5", 1});
}

Test(reference, sobel) { RUN(ANY, {"sobel", 1}); }
Test(reference, laplacian) { RUN(ANY, {"laplacian", 1}); }
Test(reference, emboss) { RUN(ANY, {"emboss", 1}); }

/* ---- rank --------------------------------------------------------------------------------- */

Test(reference, median) {
    RUN(ANY, {"median:radius=1", 1}, {"median:radius=2", 1}, {"median:radius=4", 1});
}

Test(reference, erode_dilate)
{
    RUN(ANY, {"erode:radius=1", 1}, {"erode:radius=3", 1}, {"dilate:radius=1", 1},
        {"dilate:radius=2", 1});
}

/* ---- bilateral ---------------------------------------------------------------------------- */

Test(reference, bilateral)
{
    RUN(ANY, {"bilateral:sigma_s=3,sigma_r=30", 2}, {"bilateral:sigma_s=2,sigma_r=15,d=7", 2},
        {"bilateral:sigma_s=5,sigma_r=60", 2});
}

/* ---- histogram ---------------------------------------------------------------------------- */

Test(reference, equalize) { RUN(ANY, {"equalize", 0}); }
Test(reference, normalize) { RUN(ANY, {"normalize", 1}); }

/* ---- geometry ----------------------------------------------------------------------------- */

Test(reference, geometry)
{
    RUN(ANY, {"flip", 0}, {"flop", 0}, {"transpose", 0}, {"rotate:angle=90", 0},
        {"rotate:angle=180", 0}, {"rotate:angle=270", 0}, {"crop:x=3,y=5,width=40,height=30", 0});
}

Test(reference, resize_lanczos3)
{
    RUN(ANY, {"resize:scale=0.5", 1}, {"resize:width=40", 1}, {"resize:scale=0.23", 1},
        {"resize:width=150,height=100", 1}, {"resize:scale=1.7", 1});
}

Test(reference, resize_bicubic_bilinear)
{
    RUN(ANY, {"resize:scale=0.5,method=bicubic", 2}, {"resize:scale=1.6,method=bicubic", 2},
        {"resize:scale=0.37,method=bilinear", 2},
        {"resize:width=200,height=50,method=bilinear", 2});
}

Test(reference, resize_nearest)
{
    RUN(ANY, {"resize:scale=0.43,method=nearest", 0}, {"resize:scale=2.6,method=nearest", 0},
        {"resize:width=33,height=77,method=nearest", 0});
}
