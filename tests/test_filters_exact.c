/*
 * test_filters_exact.c - exact values of every filter of the registry on tiny images whose
 * results are worked out by hand (in the comments), so that each filter's written definition
 * (formula, rounding, borders, alpha) is checked to the last bit.
 *
 * Every case runs on the serial backend, on OpenMP with 2 workers and one-row bands, and on
 * OpenMP with automatic bands: all three must give the expected bytes. A coverage test fails
 * when a filter of the registry has no case here.
 */
#include "helpers.h"
#include "internal.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------------------ */

typedef struct run_cfg {
    pp_backend backend;
    int workers, band_rows;
} run_cfg;

static const run_cfg configs[] = {
    {PP_BACKEND_SERIAL, 1, 0}, {PP_BACKEND_OPENMP, 2, 1}, {PP_BACKEND_OPENMP, 2, 0}};
#define NCONFIGS ((int)(sizeof configs / sizeof configs[0]))

static pp_ctx *cfg_ctx(const run_cfg *cfg)
{
    pp_ctx *ctx = th_ctx(cfg->backend, cfg->workers);
    cr_assert_eq(pp_ctx_set_band_rows(ctx, cfg->band_rows), PP_OK);
    return ctx;
}

/* Applies spec to a w x h x c image and asserts the output is exactly ow x oh x oc `want`. */
static void check(const char *spec, int w, int h, int c, const uint8_t *in, size_t in_len, int ow,
                  int oh, int oc, const uint8_t *want, size_t want_len)
{
    cr_assert_eq(in_len, (size_t)w * h * c, "%s: test input has %zu bytes, not %d", spec, in_len,
                 w * h * c);
    cr_assert_eq(want_len, (size_t)ow * oh * oc, "%s: expected output has %zu bytes, not %d", spec,
                 want_len, ow * oh * oc);
    for (int k = 0; k < NCONFIGS; k++) {
        pp_ctx *ctx = cfg_ctx(&configs[k]);
        pp_image *im = th_image_from(ctx, w, h, c, in);
        pp_image *out = th_apply(ctx, spec, im);
        cr_assert_eq(pp_image_width(out), ow, "%s: width %d, expected %d", spec,
                     pp_image_width(out), ow);
        cr_assert_eq(pp_image_height(out), oh, "%s: height %d, expected %d", spec,
                     pp_image_height(out), oh);
        cr_assert_eq(pp_image_channels(out), oc, "%s: %d channels, expected %d", spec,
                     pp_image_channels(out), oc);
        for (int y = 0; y < oh; y++) {
            const uint8_t *row = pp_image_data(out) + (size_t)y * pp_image_stride(out);
            for (int i = 0; i < ow * oc; i++)
                cr_assert_eq(row[i], want[(size_t)y * ow * oc + i],
                             "%s (config %d): pixel (%d, %d) channel %d is %d, expected %d", spec,
                             k, i / oc, y, i % oc, row[i], want[(size_t)y * ow * oc + i]);
        }
        pp_image_free(out);
        pp_image_free(im);
        pp_ctx_free(ctx);
    }
}

#define CHECK(spec, w, h, c, in, ow, oh, oc, want)                                              \
    check(spec, w, h, c, in, sizeof(in), ow, oh, oc, want, sizeof(want))
/* same geometry in and out */
#define CHECK_SAME(spec, w, h, c, in, want) CHECK(spec, w, h, c, in, w, h, c, want)

/* Runs spec and returns the output (serial backend); the caller frees it and ctx. */
static pp_image *apply_serial(pp_ctx **ctx, const char *spec, int w, int h, int c,
                              const uint8_t *in) {
    *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *im = th_image_from(*ctx, w, h, c, in);
    pp_image *out = th_apply(*ctx, spec, im);
    pp_image_free(im);
    return out;
}

/* A 3x3 gray ramp: v(x, y) = 10 + 10 x + 30 y. */
static const uint8_t ramp3[] = {10, 20, 30, 40, 50, 60, 70, 80, 90};
/* A 3x3 gray image with nine distinct values (rank filters). */
static const uint8_t nine[] = {9, 1, 8, 2, 7, 3, 6, 4, 5};

/* ---- coverage ----------------------------------------------------------------------------- */

/* Every filter tested below. */
static const char *const covered[] = {
    "invert",  "brightness", "contrast", "linear",  "gamma",    "threshold", "posterize",
    "sepia",   "grayscale",  "box",      "gaussian", "unsharp", "sharpen",   "convolve",
    "sobel",   "laplacian",  "emboss",   "median",  "erode",    "dilate",    "bilateral",
    "flip",    "flop",       "transpose", "rotate", "crop",     "resize",    "equalize",
    "normalize"};

Test(exact, every_filter_has_a_case)
{
    for (int i = 0; i < pp_filter_count(); i++) {
        const char *name = pp_filter_at(i)->name;
        int found = 0;
        for (size_t k = 0; k < sizeof covered / sizeof covered[0]; k++)
            if (!strcmp(covered[k], name)) found = 1;
        cr_expect(found, "filter '%s' has no exact-value test in test_filters_exact.c", name);
    }
}

/* ---- colour filters ----------------------------------------------------------------------- */

Test(exact, invert)
{
    /* 255 - v on colour; alpha kept */
    static const uint8_t in[] = {0, 100, 255, 1, 2, 3};
    static const uint8_t want[] = {255, 155, 0, 254, 253, 252};
    CHECK_SAME("invert", 2, 1, 3, in, want);
    static const uint8_t ina[] = {10, 20, 30, 40, 0, 0, 0, 0};
    static const uint8_t wanta[] = {245, 235, 225, 40, 255, 255, 255, 0};
    CHECK_SAME("invert", 2, 1, 4, ina, wanta);
    static const uint8_t inga[] = {10, 40, 200, 255};
    static const uint8_t wantga[] = {245, 40, 55, 255};
    CHECK_SAME("invert", 2, 1, 2, inga, wantga);
}

Test(exact, brightness)
{
    /* v + 10.5, halves away from zero: 0 -> 10.5 -> 11, 100 -> 111, 250 -> 260.5 -> 255 */
    static const uint8_t in[] = {0, 100, 250};
    static const uint8_t want[] = {11, 111, 255};
    CHECK_SAME("brightness:delta=10.5", 3, 1, 1, in, want);
    /* v - 20.5: 20 -> -0.5 -> -1 -> 0; 30 -> 9.5 -> 10; 255 -> 234.5 -> 235 */
    static const uint8_t in2[] = {20, 30, 255};
    static const uint8_t want2[] = {0, 10, 235};
    CHECK_SAME("brightness:delta=-20.5", 3, 1, 1, in2, want2);
}

Test(exact, contrast)
{
    /* (v - 128) * 2 + 128: 100 -> 72, 128 -> 128, 200 -> 272 -> 255, 64 -> 0, 130 -> 132 */
    static const uint8_t in[] = {100, 128, 200, 64, 130};
    static const uint8_t want[] = {72, 128, 255, 0, 132};
    CHECK_SAME("contrast:factor=2", 5, 1, 1, in, want);
    /* factor 0.5: 101 -> -27 * 0.5 + 128 = 114.5 -> 115; 0 -> 64; 255 -> 191.5 -> 192 */
    static const uint8_t in2[] = {101, 0, 255};
    static const uint8_t want2[] = {115, 64, 192};
    CHECK_SAME("contrast:factor=0.5", 3, 1, 1, in2, want2);
}

Test(exact, linear)
{
    /* 0.5 v + 1: 3 -> 2.5 -> 3; 0 -> 1; 255 -> 128.5 -> 129 */
    static const uint8_t in[] = {3, 0, 255};
    static const uint8_t want[] = {3, 1, 129};
    CHECK_SAME("linear:a=0.5,b=1", 3, 1, 1, in, want);
    /* -v + 255 is invert */
    static const uint8_t want2[] = {252, 255, 0};
    CHECK_SAME("linear:a=-1,b=255", 3, 1, 1, in, want2);
}

Test(exact, gamma)
{
    /* 255 sqrt(v / 255): 1 -> 15.97 -> 16; 64 -> 127.75 -> 128; 0 -> 0; 255 -> 255 */
    static const uint8_t in[] = {1, 64, 0, 255};
    static const uint8_t want[] = {16, 128, 0, 255};
    CHECK_SAME("gamma:g=2", 4, 1, 1, in, want);
}

Test(exact, threshold)
{
    static const uint8_t in[] = {99, 100, 255, 0};
    static const uint8_t want[] = {0, 255, 255, 0};
    CHECK_SAME("threshold:t=100", 4, 1, 1, in, want);
}

Test(exact, posterize)
{
    /* L = 3: round(v 2 / 255) -> 0, 1, 2 -> 0, round(127.5) = 128, 255.
       63 -> 0.494 -> 0; 64 -> 0.502 -> 1 -> 128; 191 -> 1.498 -> 128; 192 -> 1.506 -> 255 */
    static const uint8_t in[] = {63, 64, 191, 192};
    static const uint8_t want[] = {0, 128, 128, 255};
    CHECK_SAME("posterize:levels=3", 4, 1, 1, in, want);
    /* L = 2: 127 -> 0.498 -> 0; 128 -> 0.502 -> 255 */
    static const uint8_t in2[] = {127, 128};
    static const uint8_t want2[] = {0, 255};
    CHECK_SAME("posterize:levels=2", 2, 1, 1, in2, want2);
}

Test(exact, sepia)
{
    /* (100, 150, 200): R' = 39.3 + 115.35 + 37.8 = 192.45 -> 192; G' = 34.9 + 102.9 + 33.6 =
       171.4 -> 171; B' = 27.2 + 80.1 + 26.2 = 133.5 -> 134 (half up). (255, 255, 255) -> 255
       for R' (1.351 * 255 clamps), G' 1.203 * 255 -> 255, B' 0.937 * 255 = 238.935 -> 239 */
    static const uint8_t in[] = {100, 150, 200, 255, 255, 255};
    static const uint8_t want[] = {192, 171, 134, 255, 255, 239};
    CHECK_SAME("sepia", 2, 1, 3, in, want);
    /* gray 50 is R = G = B = 50: 67.55 -> 68, 60.15 -> 60, 46.85 -> 47; gray+alpha keeps alpha */
    static const uint8_t ing[] = {50, 9};
    static const uint8_t wantg[] = {68, 60, 47, 9};
    CHECK("sepia", 1, 1, 2, ing, 1, 1, 4, wantg);
}

Test(exact, grayscale)
{
    /* 0.299 R + 0.587 G + 0.114 B: red 76.245 -> 76, green 149.685 -> 150, blue 29.07 -> 29,
       (10, 20, 30) 18.15 -> 18, (100, 150, 200) 140.75 -> 141 */
    static const uint8_t in[] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 100, 150, 200};
    static const uint8_t want[] = {76, 150, 29, 18, 141};
    CHECK("grayscale", 5, 1, 3, in, 5, 1, 1, want);
    /* RGBA -> gray + alpha */
    static const uint8_t ina[] = {255, 255, 255, 7, 100, 150, 200, 0};
    static const uint8_t wanta[] = {255, 7, 141, 0};
    CHECK("grayscale", 2, 1, 4, ina, 2, 1, 2, wanta);
    /* gray is copied */
    static const uint8_t ing[] = {3, 4};
    CHECK_SAME("grayscale", 2, 1, 1, ing, ing);
}

/* ---- smoothing ---------------------------------------------------------------------------- */

Test(exact, box)
{
    /* Window 3x3 with edges extended. Centre: all nine, 450 / 9 = 50. Corner (0,0): rows 0,0,1,
       columns 0,0,1: 10 10 20 / 10 10 20 / 40 40 50 = 210 / 9 = 23.3 -> 23. (1,0): 10 20 30
       twice + 40 50 60 = 270 / 9 = 30. The ramp is linear, so inside it stays itself; the
       edges pull towards the border values. */
    static const uint8_t want[] = {23, 30, 37, 43, 50, 57, 63, 70, 77};
    CHECK_SAME("box:radius=1", 3, 3, 1, ramp3, want);
    /* 2x1 {0, 3}: each row of pixel 0's window reads columns -1, 0, 1 -> 0 0 3: 9 / 9 = 1;
       pixel 1 reads 0 3 3: 18 / 9 = 2. (n = (2r+1)^2 is odd, so a mean never ends in .5.) */
    static const uint8_t in3[] = {0, 3};
    static const uint8_t want3[] = {1, 2};
    CHECK_SAME("box:radius=1", 2, 1, 1, in3, want3);
    /* a radius larger than the image: radius 3 on {0, 3}: pixel 0 reads columns -3..3 ->
       0 0 0 0 3 3 3 = 9 per row, 63 / 49 = 1.29 -> 1; pixel 1 reads -2..4 -> 0 0 0 3 3 3 3 =
       12 per row, 84 / 49 = 1.71 -> 2 */
    CHECK_SAME("box:radius=3", 2, 1, 1, in3, want3);
    /* radius 0 is the identity */
    CHECK_SAME("box:radius=0", 3, 3, 1, ramp3, ramp3);
}

Test(exact, gaussian)
{
    /* A flat image stays flat (the taps sum to exactly 1). */
    uint8_t flat[7 * 5 * 3];
    memset(flat, 77, sizeof flat);
    CHECK_SAME("gaussian:sigma=1.5", 7, 5, 3, flat, flat);

    /* An impulse of 255 in a 9x9 image, sigma 1 (R = 3, the whole kernel inside): the output is
       255 g(i) g(j) with g the normalised 7-tap Gaussian, g(0) = 0.39894, g(1) = 0.24197:
       centre 255 * 0.15915 = 40.6 -> 41, next 255 * 0.09653 = 24.6 -> 25; symmetric in x, y
       and the diagonal; sums to about 255. */
    uint8_t imp[81];
    memset(imp, 0, sizeof imp);
    imp[40] = 255;
    pp_ctx *ctx;
    pp_image *out = apply_serial(&ctx, "gaussian:sigma=1", 9, 9, 1, imp);
    const uint8_t *o = pp_image_data(out);
    const size_t st = pp_image_stride(out);
#define G(x, y) o[(size_t)(y) * st + (x)]
    cr_expect_eq(G(4, 4), 41);
    cr_expect_eq(G(5, 4), 25);
    cr_expect_eq(G(4, 3), 25);
    int sum = 0;
    for (int y = 0; y < 9; y++)
        for (int x = 0; x < 9; x++) {
            sum += G(x, y);
            cr_expect_eq(G(x, y), G(8 - x, y), "not symmetric at %d,%d", x, y);
            cr_expect_eq(G(x, y), G(x, 8 - y), "not symmetric at %d,%d", x, y);
            /* the two passes round differently (see blur.c), so the diagonal mirror holds
               within one level, not bit for bit */
            cr_expect(abs((int)G(x, y) - (int)G(y, x)) <= 1, "not symmetric at %d,%d", x, y);
            cr_expect(G(x, y) <= G(4, 4));
        }
    cr_expect(sum >= 245 && sum <= 265, "impulse response sums to %d", sum);
    cr_expect_eq(G(0, 0), 0); /* 4 pixels from the impulse: outside R = 3 */
#undef G
    pp_image_free(out);
    pp_ctx_free(ctx);
}

Test(exact, unsharp)
{
    /* flat: blur = v, d = 0 -> unchanged; amount 0 -> unchanged */
    uint8_t flat[5 * 4];
    memset(flat, 90, sizeof flat);
    CHECK_SAME("unsharp:sigma=1,amount=2", 5, 4, 1, flat, flat);
    CHECK_SAME("unsharp:amount=0", 3, 3, 1, ramp3, ramp3);
    /* A step 0 | 100 in a 2x1 row, sigma 0.5 (R = 2): the taps are
       g = exp(-2 i^2) = 1, 0.135335, 0.000335 normalised over i = -2..2 (sum 1.27134):
       0.78657, 0.10645, 0.000264. Pixel 0 reads columns -2..2 -> 0 0 0 100 100 (edges
       extended): blur = 100 (0.10645 + 0.000264) = 10.67 -> 11 and d = -11; with amount 1,
       v' = 0 - 11 -> 0. Pixel 1 reads 0 0 100 100 100: blur = 100 (1 - 0.10672) = 89.33 -> 89,
       d = 11, v' = 111. With threshold 12 both |d| < 12: unchanged. */
    static const uint8_t step[] = {0, 100};
    static const uint8_t want[] = {0, 111};
    CHECK_SAME("unsharp:sigma=0.5,amount=1", 2, 1, 1, step, want);
    CHECK_SAME("unsharp:sigma=0.5,amount=1,threshold=12", 2, 1, 1, step, step);
    /* amount 0.5: round(0.5 * 11) = round(5.5) = 6 (half away from zero): 0 - 6 -> 0, 106 */
    static const uint8_t want2[] = {0, 106};
    CHECK_SAME("unsharp:sigma=0.5,amount=0.5", 2, 1, 1, step, want2);
}

/* ---- convolutions ------------------------------------------------------------------------- */

Test(exact, sharpen)
{
    /* 5 v - up - left - right - down, edges extended, clamped. Centre: 250 - 200 = 50.
       (0,0): 50 - (10 + 10 + 20 + 40) = -30 -> 0. (1,0): 100 - (20 + 10 + 30 + 50) = -10 -> 0.
       (2,0): 150 - (30 + 20 + 30 + 60) = 10. (0,1): 200 - (10 + 40 + 50 + 70) = 30.
       (2,2): 450 - (60 + 80 + 90 + 90) = 130. */
    static const uint8_t want[] = {0, 0, 10, 30, 50, 70, 90, 110, 130};
    CHECK_SAME("sharpen", 3, 3, 1, ramp3, want);
}

Test(exact, convolve)
{
    /* 1 2 1 / 2 4 2 / 1 2 1, divisor 0 -> the sum 16. Centre: 800 / 16 = 50.
       (0,0): 10 10 20 / 10 10 20 / 40 40 50 -> 320 / 16 = 20. (1,0): 10 20 30 / 10 20 30 /
       40 50 60 -> 440 / 16 = 27.5 -> 28. (0,1): 10 10 20 / 40 40 50 / 70 70 80 -> 680 / 16 =
       42.5 -> 43 (half away from zero; OpenCV's half-to-even would give 42). (1,2): 40 50 60 /
       70 80 90 / 70 80 90 -> 1160 / 16 = 72.5 -> 73. */
    static const uint8_t want[] = {20, 28, 35, 43, 50, 58, 65, 73, 80};
    CHECK_SAME("convolve:kernel=1/2/1/2/4/2/1/2/1", 3, 3, 1, ramp3, want);
    /* 1x1 kernels: v / 4 rounds half up: 2 -> 0.5 -> 1, 6 -> 1.5 -> 2, 10 -> 2.5 -> 3 */
    static const uint8_t in[] = {2, 6, 10, 1};
    static const uint8_t want4[] = {1, 2, 3, 0};
    CHECK_SAME("convolve:kernel=1,divisor=4", 4, 1, 1, in, want4);
    /* the non-integer path (divisor 0 would be the sum 0.5: the identity): 0.5 v / 1:
       2 -> 1, 6 -> 3, 10 -> 5, 1 -> 0.5 -> 1 */
    static const uint8_t want5[] = {1, 3, 5, 1};
    CHECK_SAME("convolve:kernel=0.5,divisor=1", 4, 1, 1, in, want5);
    /* bias: v - 5 clamps at 0; v + 250 clamps at 255 */
    static const uint8_t want6[] = {0, 1, 5, 0};
    CHECK_SAME("convolve:kernel=1,bias=-5", 4, 1, 1, in, want6);
    static const uint8_t want7[] = {252, 255, 255, 251};
    CHECK_SAME("convolve:kernel=1,bias=250", 4, 1, 1, in, want7);
    /* a kernel summing to 0 divides by 1: horizontal difference right - left:
       (0,0): 20 - 10 = 10, (1,0): 30 - 10 = 20, (2,0): 30 - 20 = 10 on every row */
    static const uint8_t want8[] = {10, 20, 10, 10, 20, 10, 10, 20, 10};
    CHECK_SAME("convolve:kernel=0/0/0/-1/0/1/0/0/0", 3, 3, 1, ramp3, want8);
    /* large integer weights must not overflow: 9 x 1e6 divided by 9e6 is the box mean */
    static const uint8_t wantbox[] = {23, 30, 37, 43, 50, 57, 63, 70, 77};
    CHECK_SAME("convolve:kernel=1e6/1e6/1e6/1e6/1e6/1e6/1e6/1e6/1e6", 3, 3, 1, ramp3, wantbox);
    /* ... and on white, where the integer sum 9e6 * 255 does not fit 32 bits: 9 * 255 -> 255 */
    static const uint8_t white[] = {255, 255, 255, 255};
    CHECK_SAME("convolve:kernel=1e6/1e6/1e6/1e6/1e6/1e6/1e6/1e6/1e6", 2, 2, 1, white, white);
    CHECK_SAME("convolve:kernel=1e6/1e6/1e6/1e6/1e6/1e6/1e6/1e6/1e6,divisor=1e6", 2, 2, 1,
               white, white);
}

Test(exact, sobel)
{
    /* gx = [-1 0 1; -2 0 2; -1 0 1] * p, gy its transpose, edges extended.
       Centre: gx = (30 + 120 + 90) - (10 + 80 + 70) = 80, gy = (70 + 160 + 90) - (10 + 40 + 30)
       = 240: sqrt(64000) = 252.98 -> 253.
       (0,0): columns -1,0 -> 0, rows -1 -> 0: gx = (20 + 40 + 50) - (10 + 20 + 40) = 40,
       gy = (40 + 80 + 50) - (10 + 20 + 20) = 120: sqrt(16000) = 126.49 -> 126.
       (1,0): gx = (30 + 60 + 60) - (10 + 20 + 40) = 80, gy = (40 + 100 + 60) - (10 + 40 + 30) =
       120: sqrt(20800) = 144.2 -> 144. (0,1): gx = 40 (rows 0, 1, 2 of columns 1 and 0),
       gy = (70 + 140 + 80) - (10 + 20 + 20) = 240: sqrt(59200) = 243.3 -> 243. */
    static const uint8_t want[] = {126, 144, 126, 243, 253, 243, 126, 144, 126};
    CHECK_SAME("sobel", 3, 3, 1, ramp3, want);
    /* alpha is copied */
    static const uint8_t ina[] = {10, 1, 20, 2, 30, 3};
    /* 3x1: gx at x = 0: (20 - 10) * 4 = 40; x = 1: (30 - 10) * 4 = 80; x = 2: 40; gy = 0 */
    static const uint8_t wanta[] = {40, 1, 80, 2, 40, 3};
    CHECK_SAME("sobel", 3, 1, 2, ina, wanta);
}

Test(exact, laplacian)
{
    /* |up + left + right + down - 4 v|: centre 20 + 40 + 60 + 80 - 200 = 0;
       (0,0): 10 + 10 + 20 + 40 - 40 = 40; (1,0): 20 + 10 + 30 + 50 - 80 = 30 */
    static const uint8_t want[] = {40, 30, 20, 10, 0, 10, 20, 30, 40};
    CHECK_SAME("laplacian", 3, 3, 1, ramp3, want);
}

Test(exact, emboss)
{
    /* -2 -1 0 / -1 1 1 / 0 1 2 sums to 1, and on a linear ramp v = 100 + x + 2y it adds
       6 b + 6 c = 6 + 12 = 18 inside: (1,1) = 103 + 18 = 121. At the edges the extension
       flattens the ramp: (0,0) reads rows 0,0,1 and columns 0,0,1:
       -2*100 - 1*100 + 0*101  -1*100 + 1*100 + 1*101  + 0*102 + 1*102 + 2*103 = 109. */
    static const uint8_t in[] = {100, 101, 102, 103, 102, 103, 104, 105, 104, 105, 106, 107};
    static const uint8_t want[] = {109, 113, 114, 112, 117, 121, 122, 120, 113, 117, 118, 116};
    CHECK_SAME("emboss", 4, 3, 1, in, want);
}

/* ---- rank filters ------------------------------------------------------------------------- */

Test(exact, median)
{
    /* 9 1 8 / 2 7 3 / 6 4 5. Centre: the median of 1..9 is 5. (0,0): rows 0,0,1, cols 0,0,1:
       9 9 1 9 9 1 2 2 7 sorted 1 1 2 2 7 9 9 9 9 -> 7. (2,2): rows 1,2,2, cols 1,2,2:
       7 3 3 4 5 5 4 5 5 -> 3 4 4 5 5 5 5 5 7 -> 5. (0,1): rows 0,1,2, cols 0,0,1:
       9 9 1 2 2 7 6 6 4 -> 1 2 2 4 6 6 7 9 9 -> 6. */
    static const uint8_t want[] = {7, 7, 7, 6, 5, 5, 6, 5, 5};
    CHECK_SAME("median:radius=1", 3, 3, 1, nine, want);
    CHECK_SAME("median:radius=0", 3, 3, 1, nine, nine);
}

Test(exact, erode_dilate)
{
    /* min / max over the 3x3 window, edges extended: (0,0) sees 9 1 2 7: min 1, max 9;
       (2,2) sees 7 3 4 5: min 3, max 7; (0,2) sees 2 7 6 4: min 2, max 7. */
    static const uint8_t er[] = {1, 1, 1, 1, 1, 1, 2, 2, 3};
    static const uint8_t di[] = {9, 9, 8, 9, 9, 8, 7, 7, 7};
    CHECK_SAME("erode:radius=1", 3, 3, 1, nine, er);
    CHECK_SAME("dilate:radius=1", 3, 3, 1, nine, di);
    /* radius 2 covers the whole image from every pixel */
    static const uint8_t er2[] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    static const uint8_t di2[] = {9, 9, 9, 9, 9, 9, 9, 9, 9};
    CHECK_SAME("erode:radius=2", 3, 3, 1, nine, er2);
    CHECK_SAME("dilate:radius=2", 3, 3, 1, nine, di2);
}

/* ---- bilateral ---------------------------------------------------------------------------- */

Test(exact, bilateral)
{
    /* 3x1 row {0, 100, 200}, d = 3 (r = 1: the centre and its 4 neighbours), sigma_s = 1
       (neighbour weight e^-0.5 = 0.60653), sigma_r = 10000 (colour weight
       c(100) = exp(-100^2 / 2e8) = 0.99995, c(0) = 1, c(200) = 0.9998). Rows are extended, so up
       and down equal the centre.
       x = 0: left = up = down = 0, right = 100:
              (0.60653 * 0.99995 * 100) / (1 + 3 * 0.60653 + 0.60653 * 0.99995) = 17.70 -> 18;
       x = 1: left 0 and right 200 weigh the same: 100;
       x = 2: (200 * (1 + 3 * 0.60653) + 100 * 0.60651) / 3.42606 = 182.3 -> 182. */
    static const uint8_t in[] = {0, 100, 200};
    static const uint8_t want[] = {18, 100, 182};
    CHECK_SAME("bilateral:d=3,sigma_s=1,sigma_r=10000", 3, 1, 1, in, want);
    /* sigma_r tiny: neighbours that differ weigh exp(-50) or less: the image is kept */
    CHECK_SAME("bilateral:sigma_s=2,sigma_r=0.1", 3, 3, 1, nine, nine);
    /* flat stays flat, colour too */
    uint8_t flat[6 * 5 * 3];
    for (size_t i = 0; i < sizeof flat; i++)
        flat[i] = (uint8_t)(i % 3 == 0 ? 200 : i % 3 == 1 ? 50 : 7);
    CHECK_SAME("bilateral", 6, 5, 3, flat, flat);
    /* colour: D is the SUM of the channel differences. 2x1 {(0,0,0), (10,10,10)}, d = 3,
       sigma_s = 1, sigma_r = 17.3205 (2 sigma_r^2 = 600): D = 30, c = exp(-900/600) = 0.22313.
       x = 0 sees itself, up, down, left (all 0) and right (10): 10 * 0.60653 * 0.22313 /
       (1 + 3 * 0.60653 + 0.60653 * 0.22313) = 1.3533 / 2.95492 = 0.458 -> 0; x = 1:
       10 (1 + 3 * 0.60653) / 2.95492 = 9.54 -> 10. */
    static const uint8_t inc[] = {0, 0, 0, 10, 10, 10};
    static const uint8_t wantc[] = {0, 0, 0, 10, 10, 10};
    CHECK_SAME("bilateral:d=3,sigma_s=1,sigma_r=17.3205", 2, 1, 3, inc, wantc);
    /* with gray 0 | 10 (D = 10, c = exp(-100/600) = 0.84648): x = 0:
       10 * 0.60653 * 0.84648 / (1 + 1.81959 + 0.51342) = 5.134 / 3.33301 = 1.54 -> 2 */
    static const uint8_t ing[] = {0, 10};
    static const uint8_t wantg[] = {2, 8};
    CHECK_SAME("bilateral:d=3,sigma_s=1,sigma_r=17.3205", 2, 1, 1, ing, wantg);
}

/* ---- geometry ----------------------------------------------------------------------------- */

/* 3x2 gray:  1 2 3
              4 5 6 */
static const uint8_t g32[] = {1, 2, 3, 4, 5, 6};

Test(exact, flip_flop_transpose)
{
    static const uint8_t flip[] = {4, 5, 6, 1, 2, 3};
    static const uint8_t flop[] = {3, 2, 1, 6, 5, 4};
    static const uint8_t tr[] = {1, 4, 2, 5, 3, 6}; /* 2x3 */
    CHECK_SAME("flip", 3, 2, 1, g32, flip);
    CHECK_SAME("flop", 3, 2, 1, g32, flop);
    CHECK("transpose", 3, 2, 1, g32, 2, 3, 1, tr);
}

Test(exact, rotate)
{
    /* 90 clockwise: out(x, y) = in(y, H-1-x) -> 4 1 / 5 2 / 6 3 */
    static const uint8_t r90[] = {4, 1, 5, 2, 6, 3};
    static const uint8_t r180[] = {6, 5, 4, 3, 2, 1};
    /* 270: out(x, y) = in(W-1-y, x) -> 3 6 / 2 5 / 1 4 */
    static const uint8_t r270[] = {3, 6, 2, 5, 1, 4};
    CHECK("rotate:angle=90", 3, 2, 1, g32, 2, 3, 1, r90);
    CHECK_SAME("rotate:angle=180", 3, 2, 1, g32, r180);
    CHECK("rotate:angle=270", 3, 2, 1, g32, 2, 3, 1, r270);
    /* RGBA: every channel moves with its pixel */
    static const uint8_t in4[] = {1, 2, 3, 4, 5, 6, 7, 8};        /* 2x1: A B */
    static const uint8_t want4[] = {1, 2, 3, 4, 5, 6, 7, 8};      /* 1x2: A over B */
    static const uint8_t want4b[] = {5, 6, 7, 8, 1, 2, 3, 4};     /* 1x2: B over A */
    CHECK("rotate:angle=90", 2, 1, 4, in4, 1, 2, 4, want4);
    CHECK("rotate:angle=270", 2, 1, 4, in4, 1, 2, 4, want4b);
}

/* The transposes on 1-4 channels at sizes around the 4 x 4 blocks and 128-pixel tiles of the
   AVX-512 path: every output pixel is its definition's input pixel, and the scalar loop
   (PIXPOOL_GEOMETRY_ISA=scalar) gives the same bytes. */
Test(exact, transpose_blocks_match_definition)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    static const int sizes[][2] = {{1, 1}, {3, 5}, {4, 4}, {7, 9}, {8, 13}, {131, 67}, {260, 133}};
    static const char *const specs[] = {"transpose", "rotate:angle=90", "rotate:angle=270"};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
        for (int c = 1; c <= 4; c++) {
            const int w = sizes[z][0], h = sizes[z][1];
            pp_image *in = th_random_image(ctx, w, h, c, (uint32_t)(7 * z + c));
            for (int k = 0; k < 3; k++) {
                pp_image *out = NULL, *ref = NULL;
                cr_assert_eq(pp_apply(ctx, specs[k], in, &out), PP_OK, "%s", pp_ctx_last_error(ctx));
                cr_assert_eq(setenv("PIXPOOL_GEOMETRY_ISA", "scalar", 1), 0);
                pp_status rc = pp_apply(ctx, specs[k], in, &ref);
                unsetenv("PIXPOOL_GEOMETRY_ISA");
                cr_assert_eq(rc, PP_OK, "%s", pp_ctx_last_error(ctx));
                cr_assert(th_same(ref, out), "%s on %dx%dx%d: the block loop differs", specs[k], w,
                          h, c);
                cr_assert_eq(pp_image_width(out), h);
                const uint8_t *src = pp_image_data(in), *dst = pp_image_data(out);
                const size_t ss = pp_image_stride(in), ds = pp_image_stride(out);
                for (int y = 0; y < w; y++)
                    for (int x = 0; x < h; x++) {
                        int sx = y, sy = x; /* transpose: out(x, y) = in(y, x) */
                        if (k == 1) sy = h - 1 - x;              /* in(y, H-1-x) */
                        if (k == 2) sx = w - 1 - y;              /* in(W-1-y, x) */
                        cr_assert_arr_eq(dst + (size_t)y * ds + (size_t)x * c,
                                         src + (size_t)sy * ss + (size_t)sx * c, (size_t)c,
                                         "%s on %dx%dx%d: pixel %d,%d", specs[k], w, h, c, x, y);
                    }
                pp_image_free(out);
                pp_image_free(ref);
            }
            pp_image_free(in);
        }
    pp_ctx_free(ctx);
}

Test(exact, crop)
{
    static const uint8_t c1[] = {2, 3, 5, 6};
    static const uint8_t c2[] = {6};
    static const uint8_t c3[] = {4, 5, 6};
    CHECK("crop:x=1,y=0,width=2,height=2", 3, 2, 1, g32, 2, 2, 1, c1);
    CHECK("crop:x=2,y=1", 3, 2, 1, g32, 1, 1, 1, c2);
    CHECK("crop:y=1", 3, 2, 1, g32, 3, 1, 1, c3);
}

/* ---- resize ------------------------------------------------------------------------------- */

Test(exact, resize_nearest)
{
    /* 4x2 -> 2x1: s = 2, t = 1, 3 -> columns 1, 3; row t = 1 -> row 1 */
    static const uint8_t in[] = {0, 1, 2, 3, 4, 5, 6, 7};
    static const uint8_t want[] = {5, 7};
    CHECK("resize:width=2,height=1,method=nearest", 4, 2, 1, in, 2, 1, 1, want);
    /* 2x1 -> 4x1: s = 0.5, t = 0.25, 0.75, 1.25, 1.75 -> 0 0 1 1 */
    static const uint8_t in2[] = {10, 20};
    static const uint8_t want2[] = {10, 10, 20, 20};
    CHECK("resize:width=4,height=1,method=nearest", 2, 1, 1, in2, 4, 1, 1, want2);
    /* 3x1 -> 2x1 RGB: s = 1.5, t = 0.75, 2.25 -> pixels 0 and 2 */
    static const uint8_t in3[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    static const uint8_t want3[] = {1, 2, 3, 7, 8, 9};
    CHECK("resize:width=2,height=1,method=nearest", 3, 1, 3, in3, 2, 1, 3, want3);
    /* scale=0.5 of 4x2 is 2x1; height alone keeps the aspect: 4x2 -> height 1 -> width 2 */
    CHECK("resize:scale=0.5,method=nearest", 4, 2, 1, in, 2, 1, 1, want);
    CHECK("resize:height=1,method=nearest", 4, 2, 1, in, 2, 1, 1, want);
}

Test(exact, resize_bilinear)
{
    /* 2x1 {0, 200} -> 4x1: s = 0.5, support 1. Output centres c = 0.25, 0.75, 1.25, 1.75;
       input j has weight 1 - |j + 0.5 - c|: c = 0.25 reads only j = 0 (window [0, 1)) -> 0;
       c = 0.75: 0.75 * 0 + 0.25 * 200 = 50; c = 1.25: 0.25 * 0 + 0.75 * 200 = 150; c = 1.75
       reads only j = 1 -> 200. */
    static const uint8_t in[] = {0, 200};
    static const uint8_t want[] = {0, 50, 150, 200};
    CHECK("resize:width=4,height=1,method=bilinear", 2, 1, 1, in, 4, 1, 1, want);
    /* 4x1 {0, 100, 200, 40} -> 2x1: s = 2, the triangle widens to support 2, weights
       1 - |j + 0.5 - c| / 2. c = 1: j = 0..2 weigh 0.75 0.75 0.25 -> (75 + 50) / 1.75 = 71.4
       -> 71; c = 3: j = 1..3 weigh 0.25 0.75 0.75 -> (25 + 150 + 30) / 1.75 = 117.1 -> 117. */
    static const uint8_t in2[] = {0, 100, 200, 40};
    static const uint8_t want2[] = {71, 117};
    CHECK("resize:width=2,height=1,method=bilinear", 4, 1, 1, in2, 2, 1, 1, want2);
    /* a flat image stays flat with every method, enlarging and shrinking */
    uint8_t flat[9 * 7 * 3];
    memset(flat, 123, sizeof flat);
    uint8_t flat_big[20 * 15 * 3], flat_small[4 * 3 * 3];
    memset(flat_big, 123, sizeof flat_big);
    memset(flat_small, 123, sizeof flat_small);
    CHECK("resize:width=20,height=15", 9, 7, 3, flat, 20, 15, 3, flat_big);
    CHECK("resize:width=20,height=15,method=bicubic", 9, 7, 3, flat, 20, 15, 3, flat_big);
    CHECK("resize:width=4,height=3", 9, 7, 3, flat, 4, 3, 3, flat_small);
    CHECK("resize:width=4,height=3,method=bilinear", 9, 7, 3, flat, 4, 3, 3, flat_small);
    /* same size is the identity for every method */
    CHECK("resize:width=3,height=3", 3, 3, 1, nine, 3, 3, 1, nine);
    CHECK("resize:scale=1,method=bicubic", 3, 3, 1, nine, 3, 3, 1, nine);
}

Test(exact, resize_errors)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *im = th_random_image(ctx, 10, 8, 3, 1), *out = NULL;
    const char *bad[] = {"resize",
                         "resize:width=5,scale=0.5",
                         "resize:width=0",
                         "resize:scale=0.01",
                         "resize:width=70000",
                         "resize:width=60000,height=60000",
                         "resize:scale=10000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(pp_apply(ctx, bad[i], im, &out), PP_ERR_SPEC, "%s should fail", bad[i]);
        cr_expect(strlen(pp_ctx_last_error(ctx)) > 10, "%s: message '%s'", bad[i],
                  pp_ctx_last_error(ctx));
    }
    /* width alone keeps the aspect ratio: 10x8 -> 5x4; height 3 -> round(10 * 3 / 8) = 4 */
    out = th_apply(ctx, "resize:width=5", im);
    cr_expect_eq(pp_image_width(out), 5);
    cr_expect_eq(pp_image_height(out), 4);
    pp_image_free(out);
    out = th_apply(ctx, "resize:height=3", im);
    cr_expect_eq(pp_image_width(out), 4);
    cr_expect_eq(pp_image_height(out), 3);
    pp_image_free(out);
    pp_image_free(im);
    pp_ctx_free(ctx);
}

/* ---- histogram ---------------------------------------------------------------------------- */

Test(exact, equalize)
{
    /* {10, 10, 20, 30}: n = 4, i0 = 10 with h = 2, scale = 255 / 2 = 127.5; lut[20] = 1 * 127.5
       -> 128 (half to even), lut[30] = 2 * 127.5 = 255 */
    static const uint8_t in[] = {10, 10, 20, 30};
    static const uint8_t want[] = {0, 0, 128, 255};
    CHECK_SAME("equalize", 4, 1, 1, in, want);
    /* {5..9}: scale = 255 / 4 = 63.75: 63.75 -> 64, 127.5 -> 128, 191.25 -> 191, 255 */
    static const uint8_t in2[] = {5, 6, 7, 8, 9};
    static const uint8_t want2[] = {0, 64, 128, 191, 255};
    CHECK_SAME("equalize", 5, 1, 1, in2, want2);
    /* half to even: one 0, one 1 and 101 twos: scale = 255 / 102 = 2.5, lut[1] = 2.5 -> 2 */
    uint8_t in3[103], want3[103];
    memset(in3, 2, sizeof in3);
    memset(want3, 255, sizeof want3);
    in3[0] = 0, want3[0] = 0;
    in3[1] = 1, want3[1] = 2;
    CHECK_SAME("equalize", 103, 1, 1, in3, want3);
    /* a flat channel is unchanged; channels are independent; alpha is kept */
    static const uint8_t in4[] = {10, 0, 5, 77, 20, 0, 9, 99};
    static const uint8_t want4[] = {0, 0, 0, 77, 255, 0, 255, 99};
    CHECK_SAME("equalize", 2, 1, 4, in4, want4);
    static const uint8_t in5[] = {7, 7, 7, 7};
    CHECK_SAME("equalize", 2, 2, 1, in5, in5);
}

Test(exact, equalize_many_bands)
{
    /* 3 x 300 rows: the counts of several fixed 64-row bands are combined. Rows y hold
       y % 4: each of 0..3 appears 225 times; scale = 255 / 675: lut[1] = 225 * 255 / 675 = 85,
       lut[2] = 170, lut[3] = 255. */
    uint8_t in[3 * 300], want[3 * 300];
    for (int i = 0; i < 900; i++) {
        in[i] = (uint8_t)((i / 3) % 4);
        want[i] = (uint8_t)(85 * in[i]);
    }
    CHECK_SAME("equalize", 3, 300, 1, in, want);
}

Test(exact, normalize)
{
    /* {50, 100, 150}: (v - 50) * 255 / 100 = 0, 127.5 -> 128 (half up), 255 */
    static const uint8_t in[] = {50, 100, 150};
    static const uint8_t want[] = {0, 128, 255};
    CHECK_SAME("normalize", 3, 1, 1, in, want);
    /* per channel: R {10, 20} -> 0 255; G flat 5 -> kept; B {0, 255} unchanged; alpha kept */
    static const uint8_t in2[] = {10, 5, 0, 1, 20, 5, 255, 2};
    static const uint8_t want2[] = {0, 5, 0, 1, 255, 5, 255, 2};
    CHECK_SAME("normalize", 2, 1, 4, in2, want2);
    /* gray+alpha: alpha is neither stretched nor counted */
    static const uint8_t in3[] = {100, 0, 110, 255, 105, 30};
    /* lo 100, hi 110: 0, 255, 5 * 25.5 = 127.5 -> 128 */
    static const uint8_t want3[] = {0, 0, 255, 255, 128, 30};
    CHECK_SAME("normalize", 3, 1, 2, in3, want3);
}

/* ---- alpha conventions -------------------------------------------------------------------- */

/* A spec that runs for every filter with default parameters where it needs some. */
static const char *spec_for(const char *name, char *buf, size_t len)
{
    if (!strcmp(name, "convolve")) return "convolve:kernel=1/2/1/2/4/2/1/2/1";
    if (!strcmp(name, "resize")) return "resize:width=7,height=3";
    snprintf(buf, len, "%s", name);
    return buf;
}

Test(exact, premultiplied_filters_zero_transparent_colour)
{
    /* Fully transparent pixels with colour in them: every premultiplied filter sees colour 0
       everywhere, so its output colour must be 0 (and alpha 0). */
    uint8_t px[5 * 4 * 4];
    for (int i = 0; i < 20; i++) {
        px[4 * i] = (uint8_t)(200 + i);
        px[4 * i + 1] = 100;
        px[4 * i + 2] = 50;
        px[4 * i + 3] = 0;
    }
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *im = th_image_from(ctx, 5, 4, 4, px);
    int n = 0;
    for (int i = 0; i < pp_registry_count(); i++) {
        const pp_filter_def *d = pp_registry_at(i);
        if (d->alpha != PP_ALPHA_PREMUL) continue;
        char buf[64];
        const char *spec = spec_for(d->info.name, buf, sizeof buf);
        pp_image *out = th_apply(ctx, spec, im);
        const int w = pp_image_width(out), h = pp_image_height(out), c = pp_image_channels(out);
        cr_assert_eq(c, 4, "%s", spec);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w * c; x++)
                cr_expect_eq(pp_image_data(out)[(size_t)y * pp_image_stride(out) + x], 0,
                             "%s: transparent input gave %d at (%d, %d) channel %d", spec,
                             pp_image_data(out)[(size_t)y * pp_image_stride(out) + x], x / c, y,
                             x % c);
        pp_image_free(out);
        n++;
    }
    cr_expect(n >= 10, "only %d premultiplied filters", n);
    pp_image_free(im);
    pp_ctx_free(ctx);
}

Test(exact, premultiplied_no_dark_fringe)
{
    /* 2x1 RGBA {opaque red, transparent black}, box radius 1: premultiplied the pixels are
       (255,0,0,255) and (0,0,0,0). Pixel 0 averages p0 p0 p1 (x3 rows): 1530 / 9 = 170 for R
       and A -> unpremultiplied 170 * 255 / 170 = 255: (255, 0, 0, 170). Pixel 1 averages
       p0 p1 p1: 85 -> (255, 0, 0, 85). The colour stays pure red: no dark fringe. */
    static const uint8_t in[] = {255, 0, 0, 255, 0, 0, 0, 0};
    static const uint8_t want[] = {255, 0, 0, 170, 255, 0, 0, 85};
    CHECK_SAME("box:radius=1", 2, 1, 4, in, want);
    /* gray+alpha and median: the same pixels' median per channel (premultiplied) */
    static const uint8_t ga[] = {200, 255, 0, 0, 0, 0};
    /* premultiplied: 200/255, 0/0, 0/0; windows (3x3, rows extended) of pixel 0: columns
       0,0,1 -> two 200s and one 0 per row: median 200 (and alpha 255) -> 200/255; pixel 1:
       columns 0,1,2 -> 200, 0, 0 -> median 0, alpha 0 -> 0/0; pixel 2 likewise 0/0 */
    static const uint8_t gaw[] = {200, 255, 0, 0, 0, 0};
    CHECK_SAME("median:radius=1", 3, 1, 2, ga, gaw);
}

Test(exact, colour_filters_keep_alpha)
{
    /* Every colour and histogram filter leaves alpha as it was. */
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *im = th_random_image(ctx, 6, 5, 4, 42);
    for (int i = 0; i < pp_filter_count(); i++) {
        const pp_filter_info *f = pp_filter_at(i);
        if (strcmp(f->family, "colour") && strcmp(f->family, "histogram")) continue;
        pp_image *out = th_apply(ctx, f->name, im);
        const int oc = pp_image_channels(out);
        cr_assert(oc == 2 || oc == 4, "%s dropped alpha", f->name);
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 6; x++)
                cr_expect_eq(
                    pp_image_data(out)[(size_t)y * pp_image_stride(out) + (size_t)x * oc + oc - 1],
                    pp_image_data(im)[(size_t)y * pp_image_stride(im) + (size_t)x * 4 + 3],
                    "%s changed alpha at %d,%d", f->name, x, y);
        pp_image_free(out);
    }
    pp_image_free(im);
    pp_ctx_free(ctx);
}

/* ---- band and backend independence of the reduction and resampling filters ---------------- */

Test(exact, same_bytes_for_every_backend_and_band)
{
    /* The filters with tables, rings and reductions, on odd sizes (a 1-pixel side, sizes smaller
       than the window, several fixed 64-row reduction bands), must give the serial bytes for
       every backend, worker count and band height. */
    static const char *const specs[] = {
        "bilateral", "bilateral:sigma_s=1.2,sigma_r=10", "resize:width=23,height=5",
        "resize:width=2,height=3",
        "resize:scale=2.3,method=bicubic", "resize:width=50,height=7,method=bilinear",
        "resize:width=3,height=190", "resize:scale=0.5,method=nearest", "equalize", "normalize"};
    static const int geo[][3] = {{67, 53, 3}, {1, 9, 1}, {9, 1, 4}, {31, 200, 2}};
    static const run_cfg cfgs[] = {{PP_BACKEND_OPENMP, 2, 1},
                                   {PP_BACKEND_OPENMP, 3, 7},
                                   {PP_BACKEND_OPENMP, 2, 0},
                                   {PP_BACKEND_FORK, 2, 5}};
    pp_ctx *ref = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_ctx *ctxs[sizeof cfgs / sizeof cfgs[0]];
    for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) ctxs[k] = cfg_ctx(&cfgs[k]);
    for (size_t g = 0; g < sizeof geo / sizeof geo[0]; g++) {
        pp_image *im = th_random_image(ref, geo[g][0], geo[g][1], geo[g][2], (uint32_t)g + 5);
        for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
            pp_image *want = th_apply(ref, specs[i], im);
            for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
                pp_image *got = th_apply(ctxs[k], specs[i], im);
                cr_expect(th_same(got, want), "%s on %dx%dx%d differs with config %zu", specs[i],
                          geo[g][0], geo[g][1], geo[g][2], k);
                pp_image_free(got);
            }
            pp_image_free(want);
        }
        pp_image_free(im);
    }
    for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) pp_ctx_free(ctxs[k]);
    pp_ctx_free(ref);
}
