/*
 * test_depth16_edge.c - the edge family (sharpen, convolve, sobel, laplacian, emboss) and
 * bilateral at 16 bits per channel, against their written definitions computed here in double
 * precision on the 0..65535 scale: exactly where the definition is integer arithmetic (and for
 * sobel, whose magnitude is rounded exactly), within 1 level otherwise. Inputs: hand-chosen
 * values (0, 1, 32767, 65534, 65535, ...), random images and a larger photo-like image
 * (gradients, edges, noise) made here; 1 to 4 channels. Premultiplied-alpha filters (sharpen,
 * convolve, bilateral) are checked through the pipeline's 16-bit premultiply / unpremultiply,
 * and 8-bit RGBA through their 16-bit kernels (exact alpha).
 */
#include "helpers.h"
#include "internal.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- images and running ------------------------------------------------------------------- */

typedef struct img16 {
    int w, h, c;
    uint16_t *v; /* w*h*c samples */
} img16;

static img16 img_new(int w, int h, int c)
{
    img16 m = {w, h, c, calloc((size_t)w * h * c, sizeof(uint16_t))};
    cr_assert(m.v);
    return m;
}

static uint16_t at(const img16 *m, int x, int y, int k)
{
    x = x < 0 ? 0 : x >= m->w ? m->w - 1 : x;
    y = y < 0 ? 0 : y >= m->h ? m->h - 1 : y;
    return m->v[((size_t)y * m->w + x) * m->c + k];
}

static uint32_t rng_state = 1;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static const uint16_t special[] = {0, 1, 32767, 65534, 65535, 2, 32768, 65533, 257, 65278};
#define NSPECIAL ((int)(sizeof special / sizeof special[0]))

/* Hand-chosen values: the special levels in a shuffled pattern, with alpha from the same set. */
static img16 img_special(int w, int h, int c, int shift)
{
    img16 m = img_new(w, h, c);
    for (size_t i = 0; i < (size_t)w * h * c; i++)
        m.v[i] = special[(i * 7 + i / 3 + (size_t)shift) % NSPECIAL];
    return m;
}

static img16 img_random(int w, int h, int c, uint32_t seed)
{
    img16 m = img_new(w, h, c);
    rng_state = seed * 2654435761u + 1u;
    for (size_t i = 0; i < (size_t)w * h * c; i++) m.v[i] = (uint16_t)(rnd() >> 16);
    return m;
}

/* Photo-like: smooth gradients per channel, a few hard edges (a disc and a diagonal step),
   saturated patches at 0 and 65535 and some noise; alpha a slow ramp with a transparent and an
   opaque region. */
static img16 img_photo(int w, int h, int c, uint32_t seed)
{
    img16 m = img_new(w, h, c);
    rng_state = seed * 2654435761u + 7u;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                double v;
                if (pp_has_alpha(c) && k == c - 1) {
                    v = x < w / 8 ? 0 : x > w - w / 8 ? 65535 : 65535.0 * (y + 1) / (h + 1);
                } else {
                    v = 9000 + 40000.0 * (0.5 + 0.5 * sin(x * 0.07 + k)) * (y + 5) / (h + 5);
                    double dx = x - w / 3.0, dy = y - h / 2.0;
                    if (dx * dx + dy * dy < (h / 4.0) * (h / 4.0)) v += 15000 + 3000 * k;
                    if (x + y > w) v = 65535 - v / 3;
                    if (x > w - 6 && y < 6) v = 65535;
                    if (x < 5 && y > h - 5) v = 0;
                    v += (double)(rnd() % 1201) - 600;
                }
                v = v < 0 ? 0 : v > 65535 ? 65535 : v;
                m.v[((size_t)y * w + x) * c + k] = (uint16_t)v;
            }
    return m;
}

static img16 run_on(pp_ctx *ctx, const char *spec, const img16 *in)
{
    pp_image *im = th_image16_from(ctx, in->w, in->h, in->c, in->v);
    pp_image *out = th_apply(ctx, spec, im);
    cr_assert_eq(pp_image_depth(out), 16, "%s: output depth %d", spec, pp_image_depth(out));
    cr_assert_eq(pp_image_width(out), in->w);
    cr_assert_eq(pp_image_height(out), in->h);
    cr_assert_eq(pp_image_channels(out), in->c);
    img16 r = img_new(in->w, in->h, in->c);
    for (int y = 0; y < in->h; y++)
        for (int x = 0; x < in->w; x++)
            for (int k = 0; k < in->c; k++)
                r.v[((size_t)y * in->w + x) * in->c + k] = th_px16(out, x, y, k);
    pp_image_free(out);
    pp_image_free(im);
    return r;
}

/* Serial, one band; and OpenMP with 3 workers and 2-row bands, which must give the same. */
static img16 run16(const char *spec, const img16 *in)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    img16 r = run_on(ctx, spec, in);
    pp_ctx_free(ctx);
    ctx = th_ctx(PP_BACKEND_OPENMP, 3);
    cr_assert_eq(pp_ctx_set_band_rows(ctx, 2), PP_OK);
    img16 o = run_on(ctx, spec, in);
    cr_assert_eq(memcmp(r.v, o.v, (size_t)in->w * in->h * in->c * 2), 0,
                 "%s: openmp differs from serial", spec);
    free(o.v);
    pp_ctx_free(ctx);
    return r;
}

/* ---- the definitions in double ------------------------------------------------------------ */

static double round_clamp(double v) /* half away from zero, 0..65535 */
{
    if (!(v > 0)) return 0;
    double r = floor(v + 0.5);
    return r > 65535 ? 65535 : r;
}

/* The pipeline's premultiply (P = round(C A / 65535)) and unpremultiply
   (C = A ? min(65535, round(P 65535 / A)) : 0), as documented in pipeline.c. */
static img16 premul(const img16 *in)
{
    img16 m = img_new(in->w, in->h, in->c);
    memcpy(m.v, in->v, (size_t)in->w * in->h * in->c * 2);
    if (!pp_has_alpha(in->c)) return m;
    for (size_t p = 0; p < (size_t)in->w * in->h; p++) {
        uint16_t *px = m.v + p * in->c;
        double a = px[in->c - 1];
        for (int k = 0; k < in->c - 1; k++) px[k] = (uint16_t)floor(px[k] * a / 65535.0 + 0.5);
    }
    return m;
}

static void unpremul(img16 *m)
{
    if (!pp_has_alpha(m->c)) return;
    for (size_t p = 0; p < (size_t)m->w * m->h; p++) {
        uint16_t *px = m->v + p * m->c;
        double a = px[m->c - 1];
        for (int k = 0; k < m->c - 1; k++) {
            double v = a > 0 ? floor(px[k] * 65535.0 / a + 0.5) : 0;
            px[k] = (uint16_t)(v > 65535 ? 65535 : v);
        }
    }
}

/* clamp(round(sum(K p) / div + 257 bias)) per channel (or |sum| for absval) on edge-extended
   input; channels at or above ncomp copied. div 0: the sum of the kernel (1 if that is 0). */
static img16 ref_conv(const img16 *in, const double *K, int k, double div, double bias,
                      int absval, int ncomp)
{
    img16 o = img_new(in->w, in->h, in->c);
    const int r = k / 2;
    if (div == 0) { /* the default: the sum of the kernel */
        for (int i = 0; i < k * k; i++) div += K[i];
        if (div == 0) div = 1;
    }
    for (int y = 0; y < in->h; y++)
        for (int x = 0; x < in->w; x++)
            for (int ch = 0; ch < in->c; ch++) {
                size_t i = ((size_t)y * in->w + x) * in->c + ch;
                if (ch >= ncomp) {
                    o.v[i] = in->v[i];
                    continue;
                }
                double s = 0;
                for (int dy = -r; dy <= r; dy++)
                    for (int dx = -r; dx <= r; dx++)
                        s += K[(dy + r) * k + dx + r] * at(in, x + dx, y + dy, ch);
                double v = s / div + 257.0 * bias;
                if (absval) v = fabs(v);
                o.v[i] = (uint16_t)round_clamp(v);
            }
    return o;
}

static img16 ref_sobel(const img16 *in)
{
    img16 o = img_new(in->w, in->h, in->c);
    const int ncomp = pp_has_alpha(in->c) ? in->c - 1 : in->c;
    for (int y = 0; y < in->h; y++)
        for (int x = 0; x < in->w; x++)
            for (int ch = 0; ch < in->c; ch++) {
                size_t i = ((size_t)y * in->w + x) * in->c + ch;
                if (ch >= ncomp) {
                    o.v[i] = in->v[i];
                    continue;
                }
#define P(dx, dy) ((double)at(in, x + (dx), y + (dy), ch))
                double gx = P(1, -1) + 2 * P(1, 0) + P(1, 1) - P(-1, -1) - 2 * P(-1, 0) - P(-1, 1);
                double gy = P(-1, 1) + 2 * P(0, 1) + P(1, 1) - P(-1, -1) - 2 * P(0, -1) - P(1, -1);
#undef P
                o.v[i] = (uint16_t)round_clamp(sqrt(gx * gx + gy * gy));
            }
    return o;
}

/* The bilateral definition at 16 bits, all in double: radius, circular window, spatial weight
   exp(-(i^2 + j^2) / (2 ss^2)), range weight exp(-D^2 / (2 (257 sr)^2)) with D the sum of the
   colour channels' absolute differences to the centre (|dV| for gray), on premultiplied colour
   for alpha images (alpha averaged with the same weights). Returns the premultiplied result
   before rounding in `exact` (w*h*c doubles). */
static void ref_bilateral(const img16 *pre, double ss, double sr, int d, double *exact)
{
    int r = d > 0 ? d / 2 : (int)lrint(ss * 1.5);
    if (r < 1) r = 1;
    const int c = pre->c, nc = pp_color_channels(c);
    const double srr = 257.0 * sr;
    for (int y = 0; y < pre->h; y++)
        for (int x = 0; x < pre->w; x++) {
            double acc[4] = {0, 0, 0, 0}, ws = 0;
            for (int i = -r; i <= r; i++)
                for (int j = -r; j <= r; j++) {
                    if (i * i + j * j > r * r) continue;
                    double D = 0;
                    for (int k = 0; k < nc; k++)
                        D += fabs((double)at(pre, x + j, y + i, k) - at(pre, x, y, k));
                    double w = exp(-(i * i + j * j) / (2 * ss * ss)) * exp(-D * D / (2 * srr * srr));
                    ws += w;
                    for (int k = 0; k < c; k++) acc[k] += w * at(pre, x + j, y + i, k);
                }
            for (int k = 0; k < c; k++) exact[((size_t)y * pre->w + x) * c + k] = acc[k] / ws;
        }
}

/* ---- comparisons -------------------------------------------------------------------------- */

static void expect_equal(const char *spec, const img16 *got, const img16 *want, int tol)
{
    for (size_t i = 0; i < (size_t)got->w * got->h * got->c; i++) {
        int d = abs((int)got->v[i] - (int)want->v[i]);
        cr_assert(d <= tol, "%s on %dx%dx%d: pixel (%zu, %zu) channel %zu is %u, definition %u",
                  spec, got->w, got->h, got->c, (i / got->c) % got->w, i / got->c / got->w,
                  i % got->c, got->v[i], want->v[i]);
    }
}

/* For a filter on premultiplied colour: the output equals the unpremultiplied reference
   (ref is premultiplied, exact) within `tol` levels of premultiplied colour, i.e. within
   tol * 65535 / A + 1 levels of colour where A is the output alpha. */
static void expect_premul(const char *spec, const img16 *got, const img16 *ref_pre, int tol)
{
    img16 want = img_new(ref_pre->w, ref_pre->h, ref_pre->c);
    memcpy(want.v, ref_pre->v, (size_t)want.w * want.h * want.c * 2);
    unpremul(&want);
    if (tol == 0 || !pp_has_alpha(got->c)) {
        expect_equal(spec, got, &want, tol);
    } else {
        const int c = got->c;
        for (size_t p = 0; p < (size_t)got->w * got->h; p++) {
            int a = got->v[p * c + c - 1];
            cr_assert(abs(a - ref_pre->v[p * c + c - 1]) <= tol, "%s: alpha of pixel %zu", spec, p);
            double lim = a ? tol * 65535.0 / a + 1 : 0;
            for (int k = 0; k < c - 1; k++)
                cr_assert(fabs((double)got->v[p * c + k] - want.v[p * c + k]) <= lim,
                          "%s on %dx%dx%d: pixel %zu channel %d is %u, definition %u (alpha %d)",
                          spec, got->w, got->h, c, p, k, got->v[p * c + k], want.v[p * c + k], a);
        }
    }
    free(want.v);
}

/* ---- the convolution filters -------------------------------------------------------------- */

static const double k_sharpen[9] = {0, -1, 0, -1, 5, -1, 0, -1, 0};
static const double k_laplacian[9] = {0, 1, 0, 1, -4, 1, 0, 1, 0};
static const double k_emboss[9] = {-2, -1, 0, -1, 1, 1, 0, 1, 2};

typedef struct conv_case {
    const char *spec;
    const double *K;
    int k;
    double div, bias;
    int absval, premul, keep_alpha, tol;
} conv_case;

static const double k_box5[25] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
static const double k_frac[9] = {0.5, 0, -0.25, 1, 0, 1, -1, 2, 0.1};
static const double k_121[9] = {1, 2, 1, 2, 4, 2, 1, 2, 1};
static const double k_big[9] = {1e6, 0, 0, 0, 1e6, 0, 0, 0, -3e5}; /* int32 sums overflow */
static const double k_one[1] = {1};
static const double k_sobelx[9] = {1, 0, -1, 2, 0, -2, 1, 0, -1}; /* sums to 0: divisor 1 */

static const conv_case conv_cases[] = {
    {"sharpen", k_sharpen, 3, 1, 0, 0, 1, 0, 0},
    {"laplacian", k_laplacian, 3, 1, 0, 1, 0, 1, 0},
    {"emboss", k_emboss, 3, 1, 0, 0, 0, 1, 0},
    {"convolve:kernel=1/2/1/2/4/2/1/2/1", k_121, 3, 16, 0, 0, 1, 0, 0},
    {"convolve:kernel=1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1,divisor=7", k_box5, 5, 7,
     0, 0, 1, 0, 0},
    {"convolve:kernel=0/-1/0/-1/5/-1/0/-1/0,bias=-37", k_sharpen, 3, 1, -37, 0, 1, 0, 0},
    {"convolve:kernel=1,bias=255", k_one, 1, 1, 255, 0, 1, 0, 0},
    {"convolve:kernel=1/0/-1/2/0/-2/1/0/-1,bias=100", k_sobelx, 3, 0, 100, 0, 1, 0, 0},
    {"convolve:kernel=1e6/0/0/0/1e6/0/0/0/-3e5,divisor=1700000,bias=3", k_big, 3, 1.7e6, 3, 0, 1,
     0, 0},
    {"convolve:kernel=0.5/0/-0.25/1/0/1/-1/2/0.1,bias=10", k_frac, 3, 0, 10, 0, 1, 0, 1},
    {"convolve:kernel=0.5/0/-0.25/1/0/1/-1/2/0.1,divisor=2.5,bias=-4.5", k_frac, 3, 2.5, -4.5, 0,
     1, 0, 1},
};
#define NCONV ((int)(sizeof conv_cases / sizeof conv_cases[0]))

static void check_conv(const conv_case *cc, const img16 *in)
{
    img16 got = run16(cc->spec, in);
    const int ncomp = cc->keep_alpha && pp_has_alpha(in->c) ? in->c - 1 : in->c;
    if (cc->premul) {
        img16 pre = premul(in);
        img16 want = ref_conv(&pre, cc->K, cc->k, cc->div, cc->bias, cc->absval, in->c);
        expect_premul(cc->spec, &got, &want, cc->tol);
        free(want.v);
        free(pre.v);
    } else {
        img16 want = ref_conv(in, cc->K, cc->k, cc->div, cc->bias, cc->absval, ncomp);
        expect_equal(cc->spec, &got, &want, cc->tol);
        free(want.v);
    }
    free(got.v);
}

Test(depth16_edge, convolution_filters_hand_chosen_values)
{
    for (int f = 0; f < NCONV; f++)
        for (int c = 1; c <= 4; c++)
            for (int shift = 0; shift < 3; shift++) {
                img16 in = img_special(7, 5, c, shift * 3 + c);
                check_conv(&conv_cases[f], &in);
                free(in.v);
            }
}

Test(depth16_edge, convolution_filters_random)
{
    for (int f = 0; f < NCONV; f++)
        for (int c = 1; c <= 4; c++) {
            img16 in = img_random(19, 13, c, (uint32_t)(f * 10 + c));
            check_conv(&conv_cases[f], &in);
            free(in.v);
        }
}

Test(depth16_edge, convolution_filters_photo_like)
{
    for (int f = 0; f < NCONV; f++)
        for (int c = 1; c <= 4; c++) {
            img16 in = img_photo(131, 67, c, (uint32_t)c);
            check_conv(&conv_cases[f], &in);
            free(in.v);
        }
}

/* Worked by hand: sharpen of a 3x1 row 0, 65535, 1 (edges extended: the pixels above and below
   are the pixel itself): left 5*0 - 0 - 0 - 0 - 65535 -> 0, middle 5*65535 - 2*65535 - 0 - 1 =
   196604 -> 65535, right 5*1 - 1 - 1 - 65535 - 1 -> 0. Laplacian of 1, 32767, 65534 (sum of the
   4 neighbours minus 4 p): |1 + 1 + 1 + 32767 - 4| = 32766, |2 * 32767 + 1 + 65534 - 4 * 32767|
   = 1, |3 * 65534 + 32767 - 4 * 65534| = 32767. */
Test(depth16_edge, worked_by_hand)
{
    const uint16_t row[] = {0, 65535, 1};
    img16 in = {3, 1, 1, (uint16_t *)row};
    img16 got = run16("sharpen", &in);
    cr_assert_eq(got.v[0], 0);
    cr_assert_eq(got.v[1], 65535);
    cr_assert_eq(got.v[2], 0);
    free(got.v);
    const uint16_t row2[] = {1, 32767, 65534};
    in.v = (uint16_t *)row2;
    got = run16("laplacian", &in);
    cr_assert_eq(got.v[0], 32766);
    cr_assert_eq(got.v[1], 1);
    cr_assert_eq(got.v[2], 32767);
    free(got.v);
    /* emboss of a flat image keeps its value (the kernel sums to 1, no offset) */
    const uint16_t flat[] = {32767, 32767, 32767, 32767};
    in = (img16){2, 2, 1, (uint16_t *)flat};
    got = run16("emboss", &in);
    for (int i = 0; i < 4; i++) cr_assert_eq(got.v[i], 32767);
    free(got.v);
    /* sobel of a step 0 | 65535: gx = 4 * 65535 -> clamped 65535; gy = 0 */
    const uint16_t step[] = {0, 65535, 0, 65535};
    in = (img16){2, 2, 1, (uint16_t *)step};
    got = run16("sobel", &in);
    for (int i = 0; i < 4; i++) cr_assert_eq(got.v[i], 65535);
    free(got.v);
    /* a small gradient 0 1 2 (rows replicated, gy = 0): gx = 4 (p[x+1] - p[x-1]) */
    const uint16_t ramp[] = {0, 1, 2};
    in = (img16){3, 1, 1, (uint16_t *)ramp};
    got = run16("sobel", &in);
    cr_assert_eq(got.v[0], 4); /* (1 - 0) * 4 */
    cr_assert_eq(got.v[1], 8);
    cr_assert_eq(got.v[2], 4);
    free(got.v);
}

/* A bias means the same on both depths: on an 8-bit image widened by 257, convolve's bias
   adds 257 bias. */
Test(depth16_edge, convolve_bias_in_8bit_levels)
{
    const uint16_t row[] = {0, 257 * 10, 257 * 200, 65535};
    img16 in = {4, 1, 1, (uint16_t *)row};
    img16 got = run16("convolve:kernel=1,bias=10", &in);
    const uint16_t want[] = {2570, 257 * 20, 257 * 210, 65535};
    for (int i = 0; i < 4; i++) cr_assert_eq(got.v[i], want[i], "%d: %u", i, got.v[i]);
    free(got.v);
    got = run16("convolve:kernel=1,bias=-10", &in);
    const uint16_t want2[] = {0, 0, 257 * 190, 65535 - 2570};
    for (int i = 0; i < 4; i++) cr_assert_eq(got.v[i], want2[i], "%d: %u", i, got.v[i]);
    free(got.v);
}

Test(depth16_edge, sobel_exact)
{
    for (int c = 1; c <= 4; c++) {
        img16 ins[3] = {img_special(7, 5, c, c), img_random(23, 11, c, 40u + (uint32_t)c),
                        img_photo(131, 67, c, 9u + (uint32_t)c)};
        for (int i = 0; i < 3; i++) {
            img16 got = run16("sobel", &ins[i]);
            img16 want = ref_sobel(&ins[i]);
            expect_equal("sobel", &got, &want, 0);
            free(got.v);
            free(want.v);
            free(ins[i].v);
        }
    }
}

/* 8-bit RGBA and gray+alpha through sharpen: premultiplied into 16 bits (P = round(257 c a /
   255), A = 257 a), sharpened at 16 bits, back to 8 bits (a = round(A / 257),
   c = A ? min(255, round(P 255 / A)) : 0): exact alpha. */
Test(depth16_edge, sharpen_8bit_alpha_runs_at_16_bits)
{
    for (int c = 2; c <= 4; c += 2) {
        pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
        const int w = 9, h = 7;
        pp_image *in = th_random_image(ctx, w, h, c, 77u + (uint32_t)c);
        pp_image *out = th_apply(ctx, "sharpen", in);
        cr_assert_eq(pp_image_depth(out), 8);
        img16 pre = img_new(w, h, c);
        const uint8_t *d = pp_image_data(in);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const uint8_t *px = d + (size_t)y * pp_image_stride(in) + (size_t)x * c;
                uint16_t *q = pre.v + ((size_t)y * w + x) * c;
                for (int k = 0; k < c - 1; k++)
                    q[k] = (uint16_t)floor(257.0 * px[k] * px[c - 1] / 255.0 + 0.5);
                q[c - 1] = (uint16_t)(257 * px[c - 1]);
            }
        img16 f = ref_conv(&pre, k_sharpen, 3, 1, 0, 0, c);
        const uint8_t *o = pp_image_data(out);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const uint16_t *q = f.v + ((size_t)y * w + x) * c;
                const uint8_t *px = o + (size_t)y * pp_image_stride(out) + (size_t)x * c;
                double A = q[c - 1];
                cr_assert_eq(px[c - 1], (int)floor(A / 257.0 + 0.5));
                for (int k = 0; k < c - 1; k++) {
                    double v = A > 0 ? floor(q[k] * 255.0 / A + 0.5) : 0;
                    cr_assert_eq(px[k], (int)(v > 255 ? 255 : v), "(%d, %d) %d", x, y, k);
                }
            }
        free(f.v);
        free(pre.v);
        pp_image_free(out);
        pp_image_free(in);
        pp_ctx_free(ctx);
    }
}

/* ---- bilateral ---------------------------------------------------------------------------- */

typedef struct bilat_case {
    const char *spec;
    double ss, sr;
    int d;
} bilat_case;

static const bilat_case bilat_cases[] = {
    {"bilateral", 3, 30, 0},
    {"bilateral:sigma_s=2,sigma_r=50", 2, 50, 0},
    {"bilateral:d=3,sigma_s=1,sigma_r=10000", 1, 10000, 3},
    {"bilateral:sigma_s=1.2,sigma_r=0.1", 1.2, 0.1, 0},
    {"bilateral:d=5,sigma_s=4,sigma_r=8", 4, 8, 5},
};
#define NBILAT ((int)(sizeof bilat_cases / sizeof bilat_cases[0]))

static void check_bilateral(const bilat_case *bc, const img16 *in)
{
    img16 got = run16(bc->spec, in);
    img16 pre = premul(in);
    double *exact = malloc((size_t)in->w * in->h * in->c * sizeof(double));
    cr_assert(exact);
    ref_bilateral(&pre, bc->ss, bc->sr, bc->d, exact);
    img16 want = img_new(in->w, in->h, in->c);
    for (size_t i = 0; i < (size_t)in->w * in->h * in->c; i++)
        want.v[i] = (uint16_t)round_clamp(exact[i]);
    expect_premul(bc->spec, &got, &want, 1);
    free(want.v);
    free(exact);
    free(pre.v);
    free(got.v);
}

Test(depth16_edge, bilateral_hand_chosen_and_random)
{
    for (int f = 0; f < NBILAT; f++)
        for (int c = 1; c <= 4; c++) {
            img16 a = img_special(9, 7, c, f + c), b = img_random(17, 12, c, 100u + (uint32_t)c);
            check_bilateral(&bilat_cases[f], &a);
            check_bilateral(&bilat_cases[f], &b);
            free(a.v);
            free(b.v);
        }
}

Test(depth16_edge, bilateral_photo_like)
{
    for (int f = 0; f < NBILAT; f++)
        for (int c = 1; c <= 4; c++) {
            img16 in = img_photo(97, 61, c, 3u + (uint32_t)c);
            check_bilateral(&bilat_cases[f], &in);
            free(in.v);
        }
}

/* The flat image stays flat (every weight multiplies the same value), whatever the sigmas. */
Test(depth16_edge, bilateral_flat)
{
    for (int c = 1; c <= 4; c++) {
        img16 in = img_new(6, 5, c);
        for (size_t i = 0; i < (size_t)6 * 5 * c; i++) in.v[i] = 65534;
        img16 got = run16("bilateral:sigma_s=2,sigma_r=0.1", &in);
        for (size_t i = 0; i < (size_t)6 * 5 * c; i++) cr_assert_eq(got.v[i], 65534);
        free(got.v);
        free(in.v);
    }
}

/* sigma_r is in 8-bit levels: an 8-bit gray image widened by 257 and filtered at 16 bits gives,
   rounded back to 8 bits, the 8-bit result within a level. */
Test(depth16_edge, bilateral_sigma_r_in_8bit_levels)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *in8 = th_random_image(ctx, 40, 30, 1, 5);
    pp_image *in16 = NULL, *back = NULL;
    cr_assert_eq(pp_image_convert_depth(ctx, in8, 16, &in16), PP_OK, "%s", pp_ctx_last_error(ctx));
    pp_image *o8 = th_apply(ctx, "bilateral:sigma_s=2,sigma_r=20", in8);
    pp_image *o16 = th_apply(ctx, "bilateral:sigma_s=2,sigma_r=20", in16);
    cr_assert_eq(pp_image_convert_depth(ctx, o16, 8, &back), PP_OK);
    for (int y = 0; y < 30; y++)
        for (int x = 0; x < 40; x++) {
            int a = pp_image_data(o8)[(size_t)y * pp_image_stride(o8) + x];
            int b = pp_image_data(back)[(size_t)y * pp_image_stride(back) + x];
            cr_assert(abs(a - b) <= 1, "(%d, %d): 8-bit %d, 16-bit %d", x, y, a, b);
        }
    pp_image_free(back);
    pp_image_free(o16);
    pp_image_free(o8);
    pp_image_free(in16);
    pp_image_free(in8);
    pp_ctx_free(ctx);
}
