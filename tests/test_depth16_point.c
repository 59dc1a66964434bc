/*
 * test_depth16_point.c - the point and histogram filters at 16 bits per channel: invert,
 * brightness, contrast, linear, gamma, threshold, posterize, grayscale, sepia, equalize and
 * normalize give the written definition (docs/FILTERS.md) on the 0..65535 scale, computed here
 * in double precision: exactly where the definition is integer arithmetic (or a double
 * expression the filter evaluates the same way, rounded), else within 1 level. Parameters that
 * are 8-bit levels (brightness delta, linear offset b, threshold t) count 257 times at 16 bits.
 *
 * Every case runs on serial, OpenMP (2 workers, one-row bands) and fork (3 workers), on
 * hand-chosen samples (0, 1, 32767, 65534, 65535, the threshold and contrast pivots), random
 * ones and a photo-like generated image (gradients + edges + noise), with 1..4 channels.
 */
#include "helpers.h"
#include "internal.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct run_cfg {
    pp_backend backend;
    int workers, band_rows;
} run_cfg;

static const run_cfg configs[] = {
    {PP_BACKEND_SERIAL, 1, 0}, {PP_BACKEND_OPENMP, 2, 1}, {PP_BACKEND_FORK, 3, 0}};
#define NCONFIGS ((int)(sizeof configs / sizeof configs[0]))

/* Half away from zero, clamped to 0..65535 (the rule of every 16-bit result). */
static double clamp_round16(double v)
{
    if (!(v > 0)) return 0;
    v = floor(v + 0.5);
    return v > 65535 ? 65535 : v;
}

/* ---- reference definitions ---------------------------------------------------------------- */

enum { R_INVERT, R_BRIGHTNESS, R_CONTRAST, R_LINEAR, R_GAMMA, R_THRESHOLD, R_POSTERIZE };

typedef struct point_case {
    const char *spec;
    int op;
    double a, b; /* the parameters, in the spec's own (8-bit) units */
    int tol;     /* levels of 65535 */
} point_case;

static double point_ref(const point_case *pc, double v)
{
    switch (pc->op) {
    case R_INVERT: return 65535 - v;
    case R_BRIGHTNESS: return clamp_round16(v + pc->a * 257);
    case R_CONTRAST: return clamp_round16((v - 128 * 257) * pc->a + 128 * 257);
    case R_LINEAR: return clamp_round16(pc->a * v + pc->b * 257);
    case R_GAMMA: return clamp_round16(65535 * pow(v / 65535, 1 / pc->a));
    case R_THRESHOLD: return v >= pc->a * 257 ? 65535 : 0;
    default: {
        const double l1 = pc->a - 1;
        return clamp_round16(floor(floor(v * l1 / 65535 + 0.5) * 65535 / l1 + 0.5));
    }
    }
}

static const point_case point_cases[] = {
    {"invert", R_INVERT, 0, 0, 0},
    {"brightness:delta=1", R_BRIGHTNESS, 1, 0, 0},
    {"brightness:delta=-37.5", R_BRIGHTNESS, -37.5, 0, 0},
    {"brightness:delta=200", R_BRIGHTNESS, 200, 0, 0},
    {"contrast:factor=1.7", R_CONTRAST, 1.7, 0, 1},
    {"contrast:factor=0.3", R_CONTRAST, 0.3, 0, 1},
    {"linear:a=1.25,b=-10.5", R_LINEAR, 1.25, -10.5, 1},
    {"linear:a=-1,b=255", R_LINEAR, -1, 255, 0},
    {"gamma:g=2.2", R_GAMMA, 2.2, 0, 1},
    {"gamma:g=0.45", R_GAMMA, 0.45, 0, 1},
    {"threshold:t=128", R_THRESHOLD, 128, 0, 0},
    {"threshold:t=0", R_THRESHOLD, 0, 0, 0},
    {"threshold:t=256", R_THRESHOLD, 256, 0, 0},
    {"posterize:levels=4", R_POSTERIZE, 4, 0, 0},
    {"posterize:levels=2", R_POSTERIZE, 2, 0, 0},
    {"posterize:levels=256", R_POSTERIZE, 256, 0, 0},
};
#define NPOINT ((int)(sizeof point_cases / sizeof point_cases[0]))

/* ---- test images -------------------------------------------------------------------------- */

static const uint16_t hand_values[] = {0,     1,     2,     127,   128,   255,   256,   257,
                                       1000,  32767, 32768, 32895, 32896, 32897, 40000, 65279,
                                       65280, 65533, 65534, 65535, 12345, 54321, 9999,  7};
#define NHAND ((int)(sizeof hand_values / sizeof hand_values[0]))

/* w x h x c samples: the hand values in turn, shifted per channel. */
static uint16_t *hand_samples(int w, int h, int c)
{
    uint16_t *px = malloc((size_t)w * h * c * sizeof *px);
    cr_assert(px);
    for (int i = 0; i < w * h * c; i++) px[i] = hand_values[(i + i / NHAND) % NHAND];
    return px;
}

/* A photo-like image: per channel a smooth gradient, a bright disc with a hard edge, a dark
   bar, and noise of a few hundred levels, clamped to 0..65535. */
static uint16_t *photo_samples(int w, int h, int c, uint32_t seed)
{
    uint16_t *px = malloc((size_t)w * h * c * sizeof *px);
    cr_assert(px);
    uint32_t s = seed * 2654435761u + 99u;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                double v = 9000 + 40000.0 * (x + (k + 1) * y) / (w + (k + 1) * h);
                const double dx = x - w * 0.6, dy = y - h * 0.4;
                if (dx * dx + dy * dy < (w * 0.2) * (w * 0.2)) v += 14000 + 3000 * k;
                if (x > w / 5 && x < w / 5 + 9) v = 2000 + 500 * k;
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                v += (double)(s % 801) - 400;
                px[((size_t)y * w + x) * c + k] = (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
            }
    return px;
}

static uint16_t *random_samples(int w, int h, int c, uint32_t seed)
{
    uint16_t *px = malloc((size_t)w * h * c * sizeof *px);
    cr_assert(px);
    uint32_t s = seed * 2246822519u + 7u;
    for (int i = 0; i < w * h * c; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        px[i] = (uint16_t)(s >> 7);
    }
    return px;
}

/* The images every case runs on: hand values, random values, a photo-like image. */
typedef struct test_image {
    const char *what;
    int w, h;
    uint16_t *(*make)(int w, int h, int c);
} test_image;
static uint16_t *make_hand(int w, int h, int c) { return hand_samples(w, h, c); }
static uint16_t *make_random(int w, int h, int c) { return random_samples(w, h, c, 7u + c); }
static uint16_t *make_photo(int w, int h, int c) { return photo_samples(w, h, c, 3u + c); }
static const test_image images[] = {
    {"hand", 6, 4, make_hand}, {"random", 37, 11, make_random}, {"photo", 263, 211, make_photo}};
#define NIMAGES ((int)(sizeof images / sizeof images[0]))

/* Runs spec on w x h x c samples `in` on every config; asserts a 16-bit result of oc channels
   and that all configs agree; returns the serial result's samples (malloc()ed). */
static uint16_t *run16(const char *spec, int w, int h, int c, const uint16_t *in, int oc)
{
    uint16_t *first = NULL;
    for (int k = 0; k < NCONFIGS; k++) {
        pp_ctx *ctx = th_ctx(configs[k].backend, configs[k].workers);
        cr_assert_eq(pp_ctx_set_band_rows(ctx, configs[k].band_rows), PP_OK);
        pp_image *im = th_image16_from(ctx, w, h, c, in);
        pp_image *out = th_apply(ctx, spec, im);
        cr_assert_eq(pp_image_depth(out), 16, "%s: depth %d", spec, pp_image_depth(out));
        cr_assert_eq(pp_image_width(out), w);
        cr_assert_eq(pp_image_height(out), h);
        cr_assert_eq(pp_image_channels(out), oc, "%s: %d channels, expected %d", spec,
                     pp_image_channels(out), oc);
        uint16_t *got = malloc((size_t)w * h * oc * sizeof *got);
        cr_assert(got);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int j = 0; j < oc; j++) got[((size_t)y * w + x) * oc + j] = th_px16(out, x, y, j);
        if (!first) {
            first = got;
        } else {
            cr_assert_eq(memcmp(first, got, (size_t)w * h * oc * sizeof *got), 0,
                         "%s: config %d differs from serial", spec, k);
            free(got);
        }
        pp_image_free(out);
        pp_image_free(im);
        pp_ctx_free(ctx);
    }
    return first;
}

static void expect_near(const char *spec, const char *what, int c, int i, int j, double got,
                        double want, int tol)
{
    cr_assert(fabs(got - want) <= tol,
              "%s on %s (%d channels): sample %d channel %d is %.0f, reference %.3f (tol %d)",
              spec, what, c, i, j, got, want, tol);
}

/* ---- point filters ------------------------------------------------------------------------ */

Test(depth16_point, lut_filters_match_the_definition)
{
    for (int n = 0; n < NPOINT; n++)
        for (int im = 0; im < NIMAGES; im++)
            for (int c = 1; c <= 4; c++) {
                const point_case *pc = &point_cases[n];
                const int w = images[im].w, h = images[im].h;
                uint16_t *in = images[im].make(w, h, c);
                uint16_t *out = run16(pc->spec, w, h, c, in, c);
                const int cc = pp_color_channels(c);
                for (int i = 0; i < w * h; i++)
                    for (int j = 0; j < c; j++) {
                        const double v = in[(size_t)i * c + j];
                        const double want = j < cc ? point_ref(pc, v) : v; /* alpha kept */
                        expect_near(pc->spec, images[im].what, c, i, j, out[(size_t)i * c + j],
                                    want, j < cc ? pc->tol : 0);
                    }
                free(out);
                free(in);
            }
}

/* The scaled parameters, by hand: delta=1 adds 257, t=128 splits at 32896, contrast pivots on
   32896, invert is 65535 - v. */
Test(depth16_point, scaled_parameters_by_hand)
{
    const uint16_t in[] = {0, 1, 32895, 32896, 65278, 65279, 65534, 65535};
    const struct {
        const char *spec;
        uint16_t want[8];
    } cases[] = {
        {"brightness:delta=1", {257, 258, 33152, 33153, 65535, 65535, 65535, 65535}},
        {"brightness:delta=-1", {0, 0, 32638, 32639, 65021, 65022, 65277, 65278}},
        {"threshold:t=128", {0, 0, 0, 65535, 65535, 65535, 65535, 65535}},
        {"threshold:t=255", {0, 0, 0, 0, 0, 0, 0, 65535}},
        {"invert", {65535, 65534, 32640, 32639, 257, 256, 1, 0}},
        {"contrast:factor=2", {0, 0, 32894, 32896, 65535, 65535, 65535, 65535}},
        {"linear:a=1,b=0.5", {129, 130, 33024, 33025, 65407, 65408, 65535, 65535}},
        {"posterize:levels=2", {0, 0, 65535, 65535, 65535, 65535, 65535, 65535}},
    };
    for (size_t n = 0; n < sizeof cases / sizeof cases[0]; n++) {
        uint16_t *out = run16(cases[n].spec, 8, 1, 1, in, 1);
        for (int i = 0; i < 8; i++)
            cr_assert_eq(out[i], cases[n].want[i], "%s: %u -> %u, expected %u", cases[n].spec,
                         in[i], out[i], cases[n].want[i]);
        free(out);
    }
}

/* Every 16-bit value, alone (gray) and in each channel of gray+alpha, RGB and RGBA runs (the
   vector loops, their tails and the alpha lanes): posterize at every level count exactly as
   written; contrast and linear exactly as evaluated (docs/FILTERS.md: the gain rounded to
   single precision, v f + 32896 (1 - f), v a + 257 b, in double). */
static void check_every_value(const char *spec, int op, double a, double b)
{
    for (int c = 1; c <= 4; c++) {
        const int w = 65536 / 16 + 5, h = 16; /* a row is not a multiple of any vector */
        uint16_t *in = malloc((size_t)w * h * c * sizeof *in);
        cr_assert(in);
        for (int i = 0; i < w * h * c; i++) in[i] = (uint16_t)(i / c + 7919 * (i % c));
        uint16_t *out = run16(spec, w, h, c, in, c);
        for (int i = 0; i < w * h * c; i++) {
            const double v = in[i];
            double want = v; /* alpha kept */
            if (!pp_has_alpha(c) || i % c != c - 1) {
                if (op == R_POSTERIZE) {
                    const double l1 = a - 1;
                    want = clamp_round16(floor(floor(v * l1 / 65535 + 0.5) * 65535 / l1 + 0.5));
                } else {
                    const double f = (float)a;
                    want = clamp_round16(op == R_CONTRAST ? v * f + (32896 - 32896 * f)
                                                          : v * f + 257 * b);
                }
            }
            cr_assert_eq(out[i], want, "%s, %d channels: %.0f -> %u, expected %.0f", spec, c, v,
                         out[i], want);
        }
        free(out);
        free(in);
    }
}

Test(depth16_point, every_value_posterize_contrast_linear)
{
    char spec[64];
    for (int l = 2; l <= 256; l += (l < 20 ? 1 : 17)) {
        snprintf(spec, sizeof spec, "posterize:levels=%d", l);
        check_every_value(spec, R_POSTERIZE, l, 0);
    }
    check_every_value("posterize:levels=256", R_POSTERIZE, 256, 0);
    const double factors[] = {0, 0.3, 1, 1.3, 1.7, 2.5, 99.9};
    for (size_t k = 0; k < sizeof factors / sizeof factors[0]; k++) {
        snprintf(spec, sizeof spec, "contrast:factor=%g", factors[k]);
        check_every_value(spec, R_CONTRAST, factors[k], 0);
    }
    check_every_value("linear:a=1.2,b=10", R_LINEAR, 1.2, 10);
    check_every_value("linear:a=-0.7,b=200.3", R_LINEAR, -0.7, 200.3);
    check_every_value("linear:a=1,b=0.5", R_LINEAR, 1, 0.5);
}

/* An 8-bit image widened to 16 bits (v * 257) through an exact 8-bit-level filter gives the
   8-bit result widened: the parameters mean the same at both depths. */
Test(depth16_point, same_meaning_as_8_bits)
{
    const char *specs[] = {"invert", "threshold:t=100", "brightness:delta=-20",
                           "brightness:delta=30", "linear:a=-1,b=200", "posterize:levels=2"};
    uint8_t in8[256];
    uint16_t in16[256];
    for (int v = 0; v < 256; v++) in8[v] = (uint8_t)v, in16[v] = (uint16_t)(v * 257);
    for (size_t n = 0; n < sizeof specs / sizeof specs[0]; n++) {
        pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
        pp_image *im = th_image_from(ctx, 256, 1, 1, in8);
        pp_image *out8 = th_apply(ctx, specs[n], im);
        uint16_t *out16 = run16(specs[n], 256, 1, 1, in16, 1);
        for (int v = 0; v < 256; v++)
            cr_assert_eq(out16[v], pp_image_data(out8)[v] * 257, "%s: %d -> %u at 16 bits, %u at 8",
                         specs[n], v, out16[v], pp_image_data(out8)[v]);
        free(out16);
        pp_image_free(out8);
        pp_image_free(im);
        pp_ctx_free(ctx);
    }
}

/* ---- grayscale, sepia --------------------------------------------------------------------- */

Test(depth16_point, grayscale_and_sepia_match_the_definition)
{
    static const double sw[3][3] = {{393, 769, 189}, {349, 686, 168}, {272, 534, 131}};
    for (int im = 0; im < NIMAGES; im++)
        for (int c = 1; c <= 4; c++) {
            const int w = images[im].w, h = images[im].h, alpha = pp_has_alpha(c);
            uint16_t *in = images[im].make(w, h, c);
            uint16_t *gray = run16("grayscale", w, h, c, in, alpha ? 2 : 1);
            uint16_t *sep = run16("sepia", w, h, c, in, alpha ? 4 : 3);
            for (int i = 0; i < w * h; i++) {
                const uint16_t *px = in + (size_t)i * c;
                const double r = px[0], g = c >= 3 ? px[1] : px[0], b = c >= 3 ? px[2] : px[0];
                const double y =
                    c >= 3 ? clamp_round16((299 * r + 587 * g + 114 * b) / 1000) : r;
                const int go = alpha ? 2 : 1, so = alpha ? 4 : 3;
                /* exact: the weights as thousandths over an exact integer sum, divided once in
                   double (0.299 * r + ... would put an exact half like 23238.5 a hair below) */
                expect_near("grayscale", images[im].what, c, i, 0, gray[(size_t)i * go],
                            y, 0);
                if (alpha) expect_near("grayscale", images[im].what, c, i, 1,
                                       gray[(size_t)i * go + 1], px[c - 1], 0);
                for (int k = 0; k < 3; k++) {
                    const double exact = (sw[k][0] * r + sw[k][1] * g + sw[k][2] * b) / 1000;
                    expect_near("sepia", images[im].what, c, i, k, sep[(size_t)i * so + k],
                                clamp_round16(exact), 0);
                }
                if (alpha)
                    expect_near("sepia", images[im].what, c, i, 3, sep[(size_t)i * so + 3],
                                px[c - 1], 0);
            }
            free(sep);
            free(gray);
            free(in);
        }
}

/* ---- equalize, normalize ------------------------------------------------------------------ */

/* The 16-bit definitions per colour channel j, from the channel's histogram over the image. */
static void hist_ref(const uint16_t *in, int npx, int c, int j, int equalize, double *lut)
{
    double *hist = calloc(65536, sizeof *hist);
    cr_assert(hist);
    for (int i = 0; i < npx; i++) hist[in[(size_t)i * c + j]]++;
    int lo = 0, hi = 65535;
    while (lo < 65535 && hist[lo] == 0) lo++;
    while (hi > 0 && hist[hi] == 0) hi--;
    if (equalize) {
        if (hist[lo] == npx) {
            for (int v = 0; v < 65536; v++) lut[v] = v;
        } else {
            double s = 0;
            const double d = npx - hist[lo];
            for (int v = 0; v < 65536; v++) {
                if (v > lo) s += hist[v];
                lut[v] = floor(s * 65535 / d + 0.5);
            }
        }
    } else {
        for (int v = 0; v < 65536; v++)
            lut[v] = hi <= lo ? v
                     : v <= lo ? 0
                     : v >= hi ? 65535
                               : floor((double)(v - lo) * 65535 / (hi - lo) + 0.5);
    }
    free(hist);
}

static void check_hist(const char *spec, int equalize, const char *what, int w, int h, int c,
                       const uint16_t *in)
{
    uint16_t *out = run16(spec, w, h, c, in, c);
    double *lut = malloc(65536 * sizeof *lut);
    cr_assert(lut);
    const int cc = pp_color_channels(c);
    for (int j = 0; j < c; j++) {
        if (j < cc) hist_ref(in, w * h, c, j, equalize, lut);
        for (int i = 0; i < w * h; i++) {
            const uint16_t v = in[(size_t)i * c + j];
            expect_near(spec, what, c, i, j, out[(size_t)i * c + j], j < cc ? lut[v] : v, 0);
        }
    }
    free(lut);
    free(out);
}

/* normalize is computed at 16 bits (v ga + gb in double, histogram.c): exact for every value
   of ranges chosen to be hard for it - one level wide at the top, even widths (exact halves),
   the full range, a prime width - with every value of [lo, hi] present, per channel. */
Test(depth16_point, normalize_exact_on_hard_ranges)
{
    static const int ranges[][2] = {{65534, 65535}, {65000, 65002}, {0, 65535}, {1000, 3000},
                                    {12345, 54321}, {1, 65534},     {40000, 40002}, {7, 65521},
                                    {0, 1},         {301, 65535}};
    const int nr = (int)(sizeof ranges / sizeof ranges[0]);
    for (int c = 1; c <= 4; c++)
        for (int r = 0; r < nr; r++) {
            const int w = 521, h = 131; /* 68251 pixels: every value of the widest range */
            uint16_t *in = malloc((size_t)w * h * c * sizeof *in);
            cr_assert(in);
            for (int i = 0; i < w * h; i++)
                for (int j = 0; j < c; j++) {
                    const int *rg = ranges[(r + j) % nr];
                    const int span = rg[1] - rg[0] + 1;
                    in[(size_t)i * c + j] = (uint16_t)(rg[0] + (int)(((int64_t)i * 7 + j) % span));
                }
            check_hist("normalize", 0, "a hard range", w, h, c, in);
            free(in);
        }
}

Test(depth16_point, equalize_and_normalize_match_the_definition)
{
    for (int im = 0; im < NIMAGES; im++)
        for (int c = 1; c <= 4; c++) {
            const int w = images[im].w, h = images[im].h;
            uint16_t *in = images[im].make(w, h, c);
            check_hist("equalize", 1, images[im].what, w, h, c, in);
            check_hist("normalize", 0, images[im].what, w, h, c, in);
            free(in);
        }
    /* a tall image: several count bands (64 rows each) summed */
    uint16_t *tall = photo_samples(19, 300, 3, 11);
    check_hist("equalize", 1, "tall photo", 19, 300, 3, tall);
    check_hist("normalize", 0, "tall photo", 19, 300, 3, tall);
    free(tall);
}

Test(depth16_point, histogram_by_hand)
{
    /* values 1000, 2000 (x2), 3000: equalize: i0 = 1000, n - h[i0] = 3, S = 0, 2, 3 ->
       0, round(2 * 65535 / 3) = 43690, 65535; normalize: lo 1000, hi 3000 -> 0, 32768
       (32767.5 rounded up), 65535 */
    const uint16_t in[] = {2000, 1000, 3000, 2000};
    uint16_t *eq = run16("equalize", 2, 2, 1, in, 1);
    uint16_t *no = run16("normalize", 2, 2, 1, in, 1);
    const uint16_t weq[] = {43690, 0, 65535, 43690}, wno[] = {32768, 0, 65535, 32768};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(eq[i], weq[i], "equalize: %u -> %u, expected %u", in[i], eq[i], weq[i]);
        cr_assert_eq(no[i], wno[i], "normalize: %u -> %u, expected %u", in[i], no[i], wno[i]);
    }
    free(eq);
    free(no);
    /* a flat channel is unchanged; alpha is neither counted nor changed */
    const uint16_t flat[] = {777, 0, 777, 65535, 777, 1};
    uint16_t *f = run16("equalize", 3, 1, 2, flat, 2);
    for (int i = 0; i < 6; i++) cr_assert_eq(f[i], flat[i], "flat equalize sample %d", i);
    free(f);
    f = run16("normalize", 3, 1, 2, flat, 2);
    for (int i = 0; i < 6; i++) cr_assert_eq(f[i], flat[i], "flat normalize sample %d", i);
    free(f);
}
