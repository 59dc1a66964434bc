/*
 * test_depth16_blur.c - box, gaussian and unsharp at 16 bits per channel against their
 * definitions computed here: box exactly (integer arithmetic), gaussian within 1 level of the
 * real-valued blur computed in double, unsharp exactly on top of pixpool's own 16-bit gaussian
 * (its definition) and within 1 level of the all-double evaluation for amounts up to 1. Small
 * images with hand-chosen values (0, 1, 32767, 65534, 65535), random ones, a larger photo-like
 * one (gradients, edges, noise), 1..4 channels (alpha premultiplied at 16 bits by the pipeline,
 * modelled here), 8-bit RGBA through the 16-bit kernels (exact alpha), and the same bytes from
 * every loop variant (PIXPOOL_BLUR_ISA).
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- images and the pipeline's alpha, modelled ------------------------------------------- */

static pp_image *img16(pp_ctx *ctx, int w, int h, int c, const uint16_t *px)
{
    return th_image16_from(ctx, w, h, c, px);
}

/* The samples of a 16-bit image, packed (malloc()ed). */
static uint16_t *samples(const pp_image *im)
{
    const int w = pp_image_width(im), h = pp_image_height(im), c = pp_image_channels(im);
    uint16_t *s = malloc((size_t)w * h * c * 2);
    cr_assert_not_null(s);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) s[((size_t)y * w + x) * c + k] = th_px16(im, x, y, k);
    return s;
}

/* A photo-like image: smooth gradients, a few hard edges (a disc, a bar, a step), noise. */
static uint16_t *photo(int w, int h, int c, uint32_t seed)
{
    uint16_t *p = malloc((size_t)w * h * c * 2);
    cr_assert_not_null(p);
    uint32_t s = seed * 2654435761u + 7u;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                double v = 20000.0 + 30000.0 * (double)x / w + 12000.0 * sin(y * 0.05 + k);
                double dx = x - w * 0.6, dy = y - h * 0.4;
                if (dx * dx + dy * dy < (h * 0.25) * (h * 0.25)) v = 60000.0 - 5000.0 * k;
                if (x > w / 5 && x < w / 5 + 6) v = 0;
                if (y > h * 3 / 4) v = 65535.0 - v * 0.3;
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                v += (double)(s % 2001) - 1000.0;
                if ((c == 2 || c == 4) && k == c - 1) v = 65535; /* opaque alpha */
                p[((size_t)y * w + x) * c + k] = (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
            }
    return p;
}

/* The pipeline's premultiply at 16 bits: P = round(C A / 65535). */
static void premultiply(uint16_t *p, size_t npx, int c)
{
    if (c != 2 && c != 4) return;
    for (size_t i = 0; i < npx; i++) {
        uint32_t a = p[i * c + c - 1];
        for (int k = 0; k < c - 1; k++) p[i * c + k] = (uint16_t)((p[i * c + k] * a + 32767u) / 65535u);
    }
}

/* And its unpremultiply: C = A ? min(65535, round(P 65535 / A)) : 0. */
static void unpremultiply(uint16_t *p, size_t npx, int c)
{
    if (c != 2 && c != 4) return;
    for (size_t i = 0; i < npx; i++) {
        uint64_t a = p[i * c + c - 1];
        for (int k = 0; k < c - 1; k++) {
            uint64_t v = a ? (p[i * c + k] * 131070ull + a) / (2u * a) : 0u;
            p[i * c + k] = (uint16_t)(v > 65535u ? 65535u : v);
        }
    }
}

/* ---- the definitions ---------------------------------------------------------------------- */

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* box:radius=r on the samples as they are (no alpha handling): floor((2S + n) / (2n)). */
static void ref_box(const uint16_t *in, int w, int h, int c, int r, uint16_t *out)
{
    const int64_t n = (2LL * r + 1) * (2LL * r + 1);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                int64_t sum = 0;
                for (int dy = -r; dy <= r; dy++)
                    for (int dx = -r; dx <= r; dx++)
                        sum += in[((size_t)clampi(y + dy, 0, h - 1) * w + clampi(x + dx, 0, w - 1)) * c + k];
                out[((size_t)y * w + x) * c + k] = (uint16_t)((2 * sum + n) / (2 * n));
            }
}

/* The real-valued separable blur of the normalised sampled Gaussian, taps -R..R, edges
   extended, in double (no rounding). */
static void ref_gauss(const double *in, int w, int h, int c, double sigma, int radius, double *out)
{
    int r = radius > 0 ? radius : (int)ceil(3.0 * sigma);
    if (r < 1) r = 1;
    double *g = malloc(sizeof(double) * (size_t)(2 * r + 1)), sum = 0;
    cr_assert_not_null(g);
    for (int i = -r; i <= r; i++) sum += g[i + r] = exp(-(double)i * i / (2.0 * sigma * sigma));
    for (int i = 0; i <= 2 * r; i++) g[i] /= sum;
    double *t = malloc(sizeof(double) * (size_t)w * h * c);
    cr_assert_not_null(t);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                double a = 0;
                for (int i = -r; i <= r; i++) a += g[i + r] * in[((size_t)y * w + clampi(x + i, 0, w - 1)) * c + k];
                t[((size_t)y * w + x) * c + k] = a;
            }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                double a = 0;
                for (int i = -r; i <= r; i++) a += g[i + r] * t[((size_t)clampi(y + i, 0, h - 1) * w + x) * c + k];
                out[((size_t)y * w + x) * c + k] = a;
            }
    free(t);
    free(g);
}

static double *to_double(const uint16_t *p, size_t n)
{
    double *d = malloc(n * sizeof(double));
    cr_assert_not_null(d);
    for (size_t i = 0; i < n; i++) d[i] = p[i];
    return d;
}

/* ---- checks ------------------------------------------------------------------------------- */

static pp_ctx *ctx_serial(void) { return th_ctx(PP_BACKEND_SERIAL, 1); }

/* box on a 16-bit image equals the definition exactly, with the pipeline's alpha modelled. */
static void check_box(pp_ctx *ctx, const uint16_t *px, int w, int h, int c, int r)
{
    const size_t npx = (size_t)w * h, ns = npx * c;
    uint16_t *pre = malloc(ns * 2), *want = malloc(ns * 2);
    cr_assert(pre && want);
    memcpy(pre, px, ns * 2);
    premultiply(pre, npx, c);
    ref_box(pre, w, h, c, r, want);
    unpremultiply(want, npx, c);
    char spec[32];
    snprintf(spec, sizeof spec, "box:radius=%d", r);
    pp_image *in = img16(ctx, w, h, c, px);
    pp_image *out = th_apply(ctx, spec, in);
    cr_assert_eq(pp_image_depth(out), 16);
    uint16_t *got = samples(out);
    for (size_t i = 0; i < ns; i++)
        cr_assert_eq(got[i], want[i], "%s on %dx%dx%d: sample %zu (pixel %zu, channel %zu) is %u, "
                     "expected %u", spec, w, h, c, i, i / c % w, i % c, got[i], want[i]);
    free(got);
    pp_image_free(out);
    pp_image_free(in);
    free(want);
    free(pre);
}

/* gaussian on a 16-bit image within 1 level of the real-valued blur (opaque or no alpha: the
   premultiply is then the identity); returns the largest difference. */
static double check_gauss(pp_ctx *ctx, const uint16_t *px, int w, int h, int c, double sigma,
                          int radius)
{
    const size_t ns = (size_t)w * h * c;
    double *d = to_double(px, ns), *want = malloc(ns * sizeof(double));
    cr_assert_not_null(want);
    ref_gauss(d, w, h, c, sigma, radius, want);
    char spec[64];
    snprintf(spec, sizeof spec, "gaussian:sigma=%g,radius=%d", sigma, radius);
    pp_image *in = img16(ctx, w, h, c, px);
    pp_image *out = th_apply(ctx, spec, in);
    uint16_t *got = samples(out);
    double worst = 0;
    for (size_t i = 0; i < ns; i++) {
        double e = fabs(got[i] - want[i]);
        if (e > worst) worst = e;
        cr_assert(e < 1.0, "%s on %dx%dx%d: sample %zu is %u, the real blur %.4f", spec, w, h, c,
                  i, got[i], want[i]);
        cr_assert(abs((int)got[i] - (int)lround(want[i])) <= 1);
    }
    free(got);
    pp_image_free(out);
    pp_image_free(in);
    free(want);
    free(d);
    return worst;
}

/* unsharp on a 16-bit image (no alpha or opaque) equals its definition exactly on top of
   pixpool's 16-bit gaussian: d = v - g, v' = |d| < 257 t ? v : clamp(v + round(amount d)). */
static void check_unsharp_exact(pp_ctx *ctx, const uint16_t *px, int w, int h, int c,
                                double sigma, double amount, int thr)
{
    const size_t ns = (size_t)w * h * c;
    char spec[96], gspec[64];
    snprintf(spec, sizeof spec, "unsharp:sigma=%g,amount=%.6f,threshold=%d", sigma, amount, thr);
    snprintf(gspec, sizeof gspec, "gaussian:sigma=%g", sigma);
    amount = atof(strstr(spec, "amount=") + 7); /* the value the spec carries */
    pp_image *in = img16(ctx, w, h, c, px);
    pp_image *blur = th_apply(ctx, gspec, in);
    pp_image *out = th_apply(ctx, spec, in);
    uint16_t *g = samples(blur), *got = samples(out);
    for (size_t i = 0; i < ns; i++) {
        int d = (int)px[i] - (int)g[i];
        double v = px[i] + round(amount * d);
        int want = abs(d) < 257 * thr ? px[i] : v < 0 ? 0 : v > 65535 ? 65535 : (int)v;
        cr_assert_eq(got[i], want, "%s on %dx%dx%d at %zu: v=%u blur=%u", spec, w, h, c, i, px[i],
                     g[i]);
    }
    free(got);
    free(g);
    pp_image_free(out);
    pp_image_free(blur);
    pp_image_free(in);
}

/* unsharp (threshold 0, amount <= 1) within 1 level of v + amount (v - blur), all in double. */
static void check_unsharp_double(pp_ctx *ctx, const uint16_t *px, int w, int h, int c,
                                 double sigma, double amount)
{
    const size_t ns = (size_t)w * h * c;
    double *d = to_double(px, ns), *g = malloc(ns * sizeof(double));
    cr_assert_not_null(g);
    ref_gauss(d, w, h, c, sigma, 0, g);
    char spec[96];
    snprintf(spec, sizeof spec, "unsharp:sigma=%g,amount=%g", sigma, amount);
    pp_image *in = img16(ctx, w, h, c, px);
    pp_image *out = th_apply(ctx, spec, in);
    uint16_t *got = samples(out);
    for (size_t i = 0; i < ns; i++) {
        double v = d[i] + amount * (d[i] - g[i]);
        v = v < 0 ? 0 : v > 65535 ? 65535 : v;
        cr_assert(fabs(got[i] - v) <= 1.0, "%s on %dx%dx%d at %zu: %u, in double %.4f", spec, w,
                  h, c, i, got[i], v);
    }
    free(got);
    pp_image_free(out);
    pp_image_free(in);
    free(g);
    free(d);
}

static const uint16_t special[] = {0, 1, 32767, 65534, 65535};

/* A w x h x c image of the special values in a pattern (alpha, if any, opaque). */
static uint16_t *special_image(int w, int h, int c, int shift)
{
    uint16_t *p = malloc((size_t)w * h * c * 2);
    cr_assert_not_null(p);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++)
                p[((size_t)y * w + x) * c + k] =
                    (c == 2 || c == 4) && k == c - 1 ? 65535
                                                     : special[(x * 3 + y * 2 + k + shift) % 5];
    return p;
}

static uint16_t *random_samples(pp_ctx *ctx, int w, int h, int c, uint32_t seed, int opaque)
{
    pp_image *im = th_random_image16(ctx, w, h, c, seed);
    uint16_t *p = samples(im);
    pp_image_free(im);
    if (opaque && (c == 2 || c == 4))
        for (size_t i = 0; i < (size_t)w * h; i++) p[i * c + c - 1] = 65535;
    return p;
}

/* ---- box ---------------------------------------------------------------------------------- */

Test(depth16_blur, box_hand_values)
{
    pp_ctx *ctx = ctx_serial();
    /* {0, 65535}, r = 1: pixel 0 averages columns 0, 0, 1 (x 3 rows): 3 x 65535 / 9 = 21845
       exactly, (2S + n) / (2n) = 21845.5 -> 21845; pixel 1: 43690 */
    static const uint16_t a[] = {0, 65535};
    pp_image *in = img16(ctx, 2, 1, 1, a);
    pp_image *out = th_apply(ctx, "box:radius=1", in);
    cr_assert_eq(th_px16(out, 0, 0, 0), 21845);
    cr_assert_eq(th_px16(out, 1, 0, 0), 43690);
    pp_image_free(out);
    pp_image_free(in);
    /* {65534, 65535}: 65534.33 -> 65534 and 65534.67 -> 65535 */
    static const uint16_t b[] = {65534, 65535};
    in = img16(ctx, 2, 1, 1, b);
    out = th_apply(ctx, "box:radius=1", in);
    cr_assert_eq(th_px16(out, 0, 0, 0), 65534);
    cr_assert_eq(th_px16(out, 1, 0, 0), 65535);
    pp_image_free(out);
    pp_image_free(in);
    /* {1, 0, 0}, r = 1, 3x1: pixel 0 sums 3 x (1 + 1 + 0) = 6: 6/9 -> 1; pixel 1: 3/9 -> 0 */
    static const uint16_t d[] = {1, 0, 0};
    in = img16(ctx, 3, 1, 1, d);
    out = th_apply(ctx, "box:radius=1", in);
    cr_assert_eq(th_px16(out, 0, 0, 0), 1);
    cr_assert_eq(th_px16(out, 1, 0, 0), 0);
    cr_assert_eq(th_px16(out, 2, 0, 0), 0);
    pp_image_free(out);
    pp_image_free(in);
    /* a flat 65535 image and a window of 401^2 pixels: the sums pass 2^32 (65535 x 160801) */
    uint16_t flat[5 * 4 * 3];
    for (int i = 0; i < 60; i++) flat[i] = 65535;
    in = img16(ctx, 5, 4, 3, flat);
    out = th_apply(ctx, "box:radius=200", in);
    for (int i = 0; i < 60; i++) cr_assert_eq(th_px16(out, i / 3 % 5, i / 15, i % 3), 65535);
    pp_image_free(out);
    out = th_apply(ctx, "box:radius=500", in);
    for (int i = 0; i < 60; i++) cr_assert_eq(th_px16(out, i / 3 % 5, i / 15, i % 3), 65535);
    pp_image_free(out);
    pp_image_free(in);
    pp_ctx_free(ctx);
}

Test(depth16_blur, box_equals_definition)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    for (int c = 1; c <= 4; c++) {
        uint16_t *sp = special_image(23, 17, c, c);
        uint16_t *rnd = random_samples(ctx, 37, 19, c, 500 + c, 0); /* random alpha too */
        for (int r = 0; r <= 10; r++) {
            check_box(ctx, sp, 23, 17, c, r);
            check_box(ctx, rnd, 37, 19, c, r);
        }
        const int big[] = {16, 40, 130};
        for (int i = 0; i < 3; i++) check_box(ctx, rnd, 37, 19, c, big[i]);
        free(rnd);
        free(sp);
    }
    pp_ctx_free(ctx);
}

Test(depth16_blur, box_photo)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    for (int c = 1; c <= 4; c += 3) {
        uint16_t *p = photo(211, 157, c, 3);
        const int radii[] = {2, 7, 8, 25};
        for (int i = 0; i < 4; i++) check_box(ctx, p, 211, 157, c, radii[i]);
        free(p);
    }
    pp_ctx_free(ctx);
}

/* ---- gaussian ----------------------------------------------------------------------------- */

Test(depth16_blur, gaussian_flat_stays_flat)
{
    pp_ctx *ctx = ctx_serial();
    for (int s = 0; s < 5; s++) {
        uint16_t flat[9 * 7 * 3];
        for (int i = 0; i < 9 * 7 * 3; i++) flat[i] = special[s];
        pp_image *in = img16(ctx, 9, 7, 3, flat);
        const char *specs[] = {"gaussian:sigma=1.5", "gaussian:sigma=60", "gaussian:sigma=0.1",
                               "gaussian:sigma=3,radius=200"};
        for (int k = 0; k < 4; k++) {
            pp_image *out = th_apply(ctx, specs[k], in);
            cr_assert(th_same(in, out), "%s changed a flat %u image", specs[k], special[s]);
            pp_image_free(out);
        }
        pp_image_free(in);
    }
    pp_ctx_free(ctx);
}

Test(depth16_blur, gaussian_hand_values)
{
    pp_ctx *ctx = ctx_serial();
    /* a 65535 impulse in a 0 field: the output is 65535 g(x) g(y), g the normalised taps */
    uint16_t imp[9 * 9] = {0};
    imp[4 * 9 + 4] = 65535;
    pp_image *in = img16(ctx, 9, 9, 1, imp);
    pp_image *out = th_apply(ctx, "gaussian:sigma=1", in);
    double g[7], sum = 0;
    for (int i = -3; i <= 3; i++) sum += g[i + 3] = exp(-i * i / 2.0);
    for (int y = 0; y < 9; y++)
        for (int x = 0; x < 9; x++) {
            double want = abs(x - 4) <= 3 && abs(y - 4) <= 3
                              ? 65535.0 * g[x - 1] / sum * g[y - 1] / sum : 0.0;
            cr_assert(fabs(th_px16(out, x, y, 0) - want) < 1.0, "(%d, %d): %u, expected %.3f",
                      x, y, th_px16(out, x, y, 0), want);
        }
    /* the centre: 65535 / sum^2 = 65535 / 2.50595^2 = 10435.87 -> 10436 (far from a tie) */
    cr_assert_eq(th_px16(out, 4, 4, 0), 10436);
    pp_image_free(out);
    pp_image_free(in);
    /* sigma 0.1: the outer taps are exp(-50) and less: the image comes back as it was */
    uint16_t sp[5] = {0, 1, 32767, 65534, 65535};
    in = img16(ctx, 5, 1, 1, sp);
    out = th_apply(ctx, "gaussian:sigma=0.1", in);
    cr_assert(th_same(in, out));
    pp_image_free(out);
    pp_image_free(in);
    pp_ctx_free(ctx);
}

Test(depth16_blur, gaussian_within_one_level)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    const struct {
        double sigma;
        int radius;
    } cases[] = {{0.1, 0}, {0.5, 0}, {0.6, 4}, {1, 0}, {1.5, 1}, {2.5, 0}, {4, 30}, {7, 0}};
    double worst = 0;
    for (int c = 1; c <= 4; c++) {
        uint16_t *sp = special_image(29, 23, c, c);
        uint16_t *rnd = random_samples(ctx, 41, 27, c, 900 + c, 1);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            double e = check_gauss(ctx, sp, 29, 23, c, cases[i].sigma, cases[i].radius);
            if (e > worst) worst = e;
            e = check_gauss(ctx, rnd, 41, 27, c, cases[i].sigma, cases[i].radius);
            if (e > worst) worst = e;
        }
        free(rnd);
        free(sp);
    }
    cr_log_info("gaussian 16-bit: largest difference to the real blur %.4f", worst);
    pp_ctx_free(ctx);
}

Test(depth16_blur, gaussian_photo_and_large_sigma)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    for (int c = 1; c <= 4; c++) {
        uint16_t *p = photo(203, 151, c, 11 + c);
        check_gauss(ctx, p, 203, 151, c, 1.5, 0);
        if (c == 3) {
            check_gauss(ctx, p, 203, 151, c, 5, 0);
            check_gauss(ctx, p, 203, 151, c, 20, 0);
        }
        free(p);
    }
    /* the widest: sigma 60, 181 taps each side */
    uint16_t *p = photo(97, 83, 1, 5);
    check_gauss(ctx, p, 97, 83, 1, 60, 0);
    check_gauss(ctx, p, 97, 83, 1, 60, 200);
    free(p);
    uint16_t *sp = special_image(61, 43, 1, 2);
    check_gauss(ctx, sp, 61, 43, 1, 60, 0);
    free(sp);
    pp_ctx_free(ctx);
}

/* Colour under varying alpha: the premultiplied colour is blurred. The output's alpha is within
   1 level of the blurred alpha and its colour, premultiplied again, within 2 levels of the
   blurred premultiplied colour. */
Test(depth16_blur, gaussian_alpha)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    for (int c = 2; c <= 4; c += 2) {
        const int w = 33, h = 21;
        const size_t npx = (size_t)w * h, ns = npx * c;
        uint16_t *px = random_samples(ctx, w, h, c, 77 + c, 0);
        for (size_t i = 0; i < npx; i += 7) px[i * c + c - 1] = (uint16_t)(i % 3 ? 0 : 65535);
        uint16_t *pre = malloc(ns * 2);
        cr_assert_not_null(pre);
        memcpy(pre, px, ns * 2);
        premultiply(pre, npx, c);
        double *d = to_double(pre, ns), *want = malloc(ns * sizeof(double));
        cr_assert_not_null(want);
        ref_gauss(d, w, h, c, 1.7, 0, want);
        pp_image *in = img16(ctx, w, h, c, px);
        pp_image *out = th_apply(ctx, "gaussian:sigma=1.7", in);
        uint16_t *got = samples(out);
        for (size_t i = 0; i < npx; i++) {
            const double a = got[i * c + c - 1];
            cr_assert(fabs(a - want[i * c + c - 1]) < 1.0, "alpha at %zu: %.0f, expected %.3f", i,
                      a, want[i * c + c - 1]);
            for (int k = 0; k < c - 1; k++)
                cr_assert(fabs(got[i * c + k] * a / 65535.0 - want[i * c + k]) <= 2.0,
                          "pixel %zu channel %d: %u under alpha %.0f, premultiplied %.3f", i, k,
                          got[i * c + k], a, want[i * c + k]);
        }
        free(got);
        pp_image_free(out);
        pp_image_free(in);
        free(want);
        free(d);
        free(pre);
        free(px);
    }
    pp_ctx_free(ctx);
}

/* ---- unsharp ------------------------------------------------------------------------------ */

Test(depth16_blur, unsharp_equals_definition)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    const double amounts[] = {0, 0.1, 0.3, 0.5, 0.7, 1, 1.7, 2.5, 0.123457, 20};
    const int thresholds[] = {0, 1, 5, 255};
    for (int c = 1; c <= 4; c++) {
        uint16_t *rnd = random_samples(ctx, 31, 19, c, 40 + c, 1);
        uint16_t *sp = special_image(17, 13, c, c);
        for (size_t a = 0; a < sizeof amounts / sizeof amounts[0]; a++)
            for (int t = 0; t < 4; t++) {
                check_unsharp_exact(ctx, rnd, 31, 19, c, 1.5, amounts[a], thresholds[t]);
                check_unsharp_exact(ctx, sp, 17, 13, c, 0.7, amounts[a], thresholds[t]);
            }
        free(sp);
        free(rnd);
    }
    pp_ctx_free(ctx);
}

Test(depth16_blur, unsharp_threshold_in_8bit_levels)
{
    /* The peak 3000 among 2000s, sigma 0.5: its blur is about 2786, d about 214 levels of 65535.
       Threshold 0 sharpens it (to about 3214); threshold 1 means 257 at 16 bits, so |d| < 257
       keeps it at 3000 (a threshold taken as 1 level of 65535 would sharpen it). */
    pp_ctx *ctx = ctx_serial();
    static const uint16_t v[] = {0, 1000, 2000, 3000, 2000, 1000, 0, 65535};
    check_unsharp_exact(ctx, v, 8, 1, 1, 0.5, 1, 0);
    check_unsharp_exact(ctx, v, 8, 1, 1, 0.5, 1, 1);
    pp_image *in = img16(ctx, 8, 1, 1, v);
    pp_image *sharp = th_apply(ctx, "unsharp:sigma=0.5", in);
    cr_assert(th_px16(sharp, 3, 0, 0) > 3200 && th_px16(sharp, 3, 0, 0) < 3230, "%u",
              th_px16(sharp, 3, 0, 0));
    pp_image *kept = th_apply(ctx, "unsharp:sigma=0.5,threshold=1", in);
    cr_assert_eq(th_px16(kept, 3, 0, 0), 3000);
    pp_image_free(kept);
    pp_image_free(sharp);
    pp_image_free(in);
    pp_ctx_free(ctx);
}

Test(depth16_blur, unsharp_photo_within_one_level_of_double)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    for (int c = 1; c <= 4; c++) {
        uint16_t *p = photo(187, 139, c, 21 + c);
        check_unsharp_double(ctx, p, 187, 139, c, 1.2, 1);
        check_unsharp_double(ctx, p, 187, 139, c, 3, 0.5);
        check_unsharp_exact(ctx, p, 187, 139, c, 2, 1.7, 3);
        free(p);
    }
    pp_ctx_free(ctx);
}

/* ---- 8-bit RGBA through the 16-bit kernels, loop variants --------------------------------- */

/* 8-bit colour with alpha goes through the 16-bit box premultiplied at 16 bits (exact alpha):
   P = round(257 c 257 a / 65535), box, a' = round(A / 257), c' = A ? min(255, round(P 255 / A)). */
Test(depth16_blur, box_exact_alpha_from_8_bits)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    for (int c = 2; c <= 4; c += 2) {
        const int w = 19, h = 11, r = 2;
        const size_t npx = (size_t)w * h, ns = npx * c;
        pp_image *in = th_random_image(ctx, w, h, c, 3 + c);
        const uint8_t *px = pp_image_data(in);
        uint16_t *pre = malloc(ns * 2), *box = malloc(ns * 2);
        cr_assert(pre && box);
        for (size_t i = 0; i < npx; i++) {
            uint32_t a = px[i * c + c - 1];
            for (int k = 0; k < c - 1; k++)
                pre[i * c + k] = (uint16_t)((px[i * c + k] * a * 514u + 255u) / 510u);
            pre[i * c + c - 1] = (uint16_t)(a * 257u);
        }
        ref_box(pre, w, h, c, r, box);
        pp_image *out = th_apply(ctx, "box:radius=2", in);
        cr_assert_eq(pp_image_depth(out), 8);
        const uint8_t *o = pp_image_data(out);
        for (size_t i = 0; i < npx; i++) {
            uint32_t a = box[i * c + c - 1];
            for (int k = 0; k < c - 1; k++) {
                uint32_t v = a ? (box[i * c + k] * 510u + a) / (2u * a) : 0u;
                cr_assert_eq(o[i * c + k], v > 255 ? 255 : v, "pixel %zu channel %d", i, k);
            }
            cr_assert_eq(o[i * c + c - 1], (a + 128u) / 257u, "alpha of pixel %zu", i);
        }
        free(box);
        free(pre);
        pp_image_free(out);
        pp_image_free(in);
    }
    pp_ctx_free(ctx);
}

/* Every loop variant (scalar, AVX2 + FMA, AVX-512, as far as the CPU has them) gives the same
   bytes, on widths that leave every kind of tail. */
Test(depth16_blur, loop_variants_identical)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    const char *specs[] = {"gaussian:sigma=1", "gaussian:sigma=3.3", "gaussian:sigma=0.6,radius=4",
                           "unsharp:sigma=2,amount=1.5,threshold=2"};
    const int widths[] = {1, 3, 5, 8, 17, 33};
    for (int c = 1; c <= 4; c++)
        for (int wi = 0; wi < 6; wi++) {
            pp_image *in = th_random_image16(ctx, widths[wi], 9, c, (uint32_t)(c * 10 + wi));
            for (int s = 0; s < 4; s++) {
                unsetenv("PIXPOOL_BLUR_ISA");
                pp_image *best = th_apply(ctx, specs[s], in);
                const char *isas[] = {"scalar", "avx2"};
                for (int i = 0; i < 2; i++) {
                    cr_assert_eq(setenv("PIXPOOL_BLUR_ISA", isas[i], 1), 0);
                    pp_image *o = th_apply(ctx, specs[s], in);
                    cr_assert(th_same(best, o), "%s with %s loops differs (%dx9x%d)", specs[s],
                              isas[i], widths[wi], c);
                    pp_image_free(o);
                }
                unsetenv("PIXPOOL_BLUR_ISA");
                pp_image_free(best);
            }
            pp_image_free(in);
        }
    pp_ctx_free(ctx);
}
