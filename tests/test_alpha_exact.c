/*
 * test_alpha_exact.c - exact alpha: 8-bit RGBA through the premultiplied filters (smoothing,
 * sharpening, rank, resampling) stays within one 8-bit premultiplied level of a floating-point
 * premultiplied reference at every alpha 1..255, because the premultiplied colour is kept at 16
 * bits between premultiply and unpremultiply (pipeline.c).
 *
 * The reference is computed here in double precision from the written definitions
 * (docs/FILTERS.md): premultiply p = c a / 255, filter p and a alike (edges extended),
 * unpremultiply c = p' 255 / a'. A pixel's error is |c - c_ref| a_ref / 255, in 8-bit
 * premultiplied levels; it must be at most 1 wherever the reference alpha is at least 1, and
 * the alpha itself within 1 level. The image has a soft alpha ramp (every alpha 0..255 across
 * its width, smooth, so filtered alpha covers 1..255 too) under noisy colour, the case where
 * rounding the premultiplied colour to 8 bits between the steps put gaussian sigma 3 up to 3
 * levels off at alpha 86-90.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { W = 300, H = 40 };

static pp_image *ramp_image(pp_ctx *ctx)
{
    uint8_t *px = malloc((size_t)W * H * 4);
    uint32_t s = 12345;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = px + ((size_t)y * W + x) * 4;
            for (int k = 0; k < 3; k++) {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                p[k] = (uint8_t)(s >> 24);
            }
            /* alpha: a ramp over x from 0 to 255 (and a few rows fully opaque/transparent) */
            int a = (int)lround((x - 20) * 255.0 / (W - 41));
            p[3] = (uint8_t)(a < 0 ? 0 : a > 255 ? 255 : a);
        }
    pp_image *im = th_image_from(ctx, W, H, 4, px);
    free(px);
    return im;
}

static double at(const double *v, int x, int y, int k)
{
    x = x < 0 ? 0 : x >= W ? W - 1 : x;
    y = y < 0 ? 0 : y >= H ? H - 1 : y;
    return v[((size_t)y * W + x) * 4 + k];
}

/* The premultiplied input in double: p = c a / 255, alpha as it is. */
static double *premultiplied(const pp_image *in)
{
    double *p = malloc(sizeof(double) * W * H * 4);
    const uint8_t *d = pp_image_data((pp_image *)in);
    for (size_t i = 0; i < (size_t)W * H; i++) {
        double a = d[i * 4 + 3];
        for (int k = 0; k < 3; k++) p[i * 4 + k] = d[i * 4 + k] * a / 255.0;
        p[i * 4 + 3] = a;
    }
    return p;
}

/* Separable convolution of every channel with taps t[0..2r] (edges extended). */
static double *separable(const double *src, const double *t, int r)
{
    double *tmp = malloc(sizeof(double) * W * H * 4), *out = malloc(sizeof(double) * W * H * 4);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int k = 0; k < 4; k++) {
                double s = 0;
                for (int i = -r; i <= r; i++) s += t[i + r] * at(src, x + i, y, k);
                tmp[((size_t)y * W + x) * 4 + k] = s;
            }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int k = 0; k < 4; k++) {
                double s = 0;
                for (int i = -r; i <= r; i++) s += t[i + r] * at(tmp, x, y + i, k);
                out[((size_t)y * W + x) * 4 + k] = s;
            }
    free(tmp);
    return out;
}

static double *ref_gaussian(const double *p, double sigma)
{
    int r = (int)ceil(3 * sigma);
    double t[64], sum = 0;
    for (int i = -r; i <= r; i++) sum += t[i + r] = exp(-(double)i * i / (2 * sigma * sigma));
    for (int i = 0; i <= 2 * r; i++) t[i] /= sum;
    return separable(p, t, r);
}

static double *ref_box(const double *p, int r)
{
    double t[64];
    for (int i = 0; i <= 2 * r; i++) t[i] = 1.0 / (2 * r + 1);
    return separable(p, t, r);
}

/* Checks pixpool's output against the premultiplied reference; returns the worst error in
   premultiplied levels, and counts the alpha values the check covered. */
static double check(const char *spec, const pp_image *out, const double *ref, int *alphas_seen)
{
    const uint8_t *d = pp_image_data((pp_image *)out);
    double worst = 0;
    bool seen[256] = {false};
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const double *q = ref + ((size_t)y * W + x) * 4;
            const uint8_t *o = d + (size_t)y * pp_image_stride(out) + (size_t)x * 4;
            double a = q[3];
            cr_assert(fabs(o[3] - a) <= 1.0, "%s (%d,%d): alpha %d, reference %.3f", spec, x, y,
                      o[3], a);
            if (a < 1.0) continue;
            seen[(int)lround(a)] = true;
            for (int k = 0; k < 3; k++) {
                double c = q[k] * 255.0 / a;
                if (c > 255) c = 255;
                double err = fabs(o[k] - c) * a / 255.0;
                if (err > worst) worst = err;
                cr_assert(err <= 1.0,
                          "%s (%d,%d) channel %d at alpha %d: colour %d, reference %.3f: %.2f "
                          "premultiplied levels off", spec, x, y, k, o[3], o[k], c, err);
            }
        }
    *alphas_seen = 0;
    for (int i = 1; i < 256; i++) *alphas_seen += seen[i];
    return worst;
}

static void run_case(const char *spec, double *(*ref_fn)(const double *, double), double arg)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *in = ramp_image(ctx);
    double *p = premultiplied(in);
    double *ref = ref_fn(p, arg);
    const pp_backend kinds[] = {PP_BACKEND_SERIAL, PP_BACKEND_OPENMP, PP_BACKEND_FORK};
    pp_image *first = NULL;
    for (int k = 0; k < 3; k++) {
        pp_ctx *c = th_ctx(kinds[k], 2);
        pp_image *out = th_apply(c, spec, in);
        int alphas;
        double worst = check(spec, out, ref, &alphas);
        cr_assert_geq(alphas, 250, "%s: only %d alpha values covered", spec, alphas);
        if (k == 0) cr_log_info("%s: worst %.3f premultiplied levels over %d alphas", spec, worst, alphas);
        if (first) cr_assert(th_same(first, out), "%s differs between backends", spec);
        else first = out;
        if (out != first) pp_image_free(out);
        pp_ctx_free(c);
    }
    pp_image_free(first);
    free(ref);
    free(p);
    pp_image_free(in);
    pp_ctx_free(ctx);
}

static double *gauss_fn(const double *p, double sigma) { return ref_gaussian(p, sigma); }
static double *box_fn(const double *p, double r) { return ref_box(p, (int)r); }

Test(alpha_exact, gaussian_sigma_3_within_one_premultiplied_level)
{
    run_case("gaussian:sigma=3", gauss_fn, 3.0);
}

Test(alpha_exact, gaussian_sigma_1_within_one_premultiplied_level)
{
    run_case("gaussian:sigma=1", gauss_fn, 1.0);
}

Test(alpha_exact, box_within_one_premultiplied_level)
{
    run_case("box:radius=2", box_fn, 2.0);
}
