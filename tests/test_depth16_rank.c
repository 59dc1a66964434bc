/*
 * test_depth16_rank.c - the rank filters (median, erode, dilate) and the geometry filters (flip,
 * flop, transpose, rotate, crop) on 16-bit images, against their definitions computed here.
 *
 * Every filter of these two families is exact integer arithmetic at 16 bits (a rank of window
 * values, or a copy of one input sample), so each output is compared with the reference to the
 * last bit: on small images of hand-chosen values (0, 1, 32767, 65534, 65535 and neighbours of
 * the byte boundaries), on uniform random ones and on a larger photo-like image (gradients,
 * edges, noise), for 1-4 channels and odd sizes, on the serial, OpenMP and fork backends with
 * one-row and automatic bands. With alpha (2 and 4 channels) the rank filters run on
 * premultiplied colour (pipeline.c), which the reference does in double precision:
 * P = round(C A / 65535), and back C = A ? min(65535, round(P 65535 / A)) : 0. 8-bit RGBA through
 * them is premultiplied into 16 bits (exact alpha), also checked here.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- images ------------------------------------------------------------------------------- */

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* Samples drawn from values that sit on the edges of the range and of the byte boundaries. */
static uint16_t *hand_samples(int w, int h, int c, uint32_t seed)
{
    static const uint16_t vals[] = {0, 1, 32767, 65534, 65535, 32768, 255, 256, 65280, 2, 40000};
    const size_t n = (size_t)w * h * c;
    uint16_t *px = malloc(n * sizeof *px);
    cr_assert_not_null(px);
    for (size_t i = 0; i < n; i++) px[i] = vals[lcg(&seed) % (sizeof vals / sizeof vals[0])];
    return px;
}

static uint16_t *random_samples(int w, int h, int c, uint32_t seed)
{
    const size_t n = (size_t)w * h * c;
    uint16_t *px = malloc(n * sizeof *px);
    cr_assert_not_null(px);
    for (size_t i = 0; i < n; i++) px[i] = (uint16_t)lcg(&seed);
    return px;
}

/* Photo-like: a smooth gradient per channel, a bright disc and a dark bar with hard edges, and
   noise of a few hundred levels; alpha (the last of 2 or 4 channels) is a ramp with holes. */
static uint16_t *photo_samples(int w, int h, int c, uint32_t seed)
{
    const size_t n = (size_t)w * h * c;
    uint16_t *px = malloc(n * sizeof *px);
    cr_assert_not_null(px);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                double v = 8000.0 + 30000.0 * x / w + 12000.0 * y / h + 3000.0 * k;
                double dx = x - 0.6 * w, dy = y - 0.4 * h;
                if (dx * dx + dy * dy < 0.05 * w * h) v += 22000.0;
                if (x > w / 5 && x < w / 5 + 6) v = 900.0;
                v += (double)(lcg(&seed) % 801) - 400.0;
                if ((c == 2 || c == 4) && k == c - 1) {
                    v = 65535.0 * y / (h - 1);
                    if ((x + y) % 11 == 0) v = 0.0;
                    if ((x * 3 + y) % 13 == 0) v = 65535.0;
                }
                px[((size_t)y * w + x) * c + k] =
                    (uint16_t)(v < 0.0 ? 0.0 : v > 65535.0 ? 65535.0 : v + 0.5);
            }
    return px;
}

/* ---- references --------------------------------------------------------------------------- */

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

static uint16_t round16(double v)
{
    if (!(v > 0.0)) return 0;
    if (v >= 65534.5) return 65535;
    return (uint16_t)floor(v + 0.5);
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

enum { OP_MEDIAN, OP_ERODE, OP_DILATE };

/* The rank filter `op` of radius r on w x h x c samples (premultiplied around it when c has
   alpha), edges extended. */
static uint16_t *rank_ref(const uint16_t *in, int w, int h, int c, int op, int r)
{
    const size_t n = (size_t)w * h * c;
    const bool alpha = c == 2 || c == 4;
    uint16_t *pre = malloc(n * sizeof *pre), *out = malloc(n * sizeof *out);
    const int k = 2 * r + 1;
    uint16_t *win = malloc((size_t)k * k * sizeof *win);
    cr_assert(pre && out && win);
    for (size_t i = 0; i < n; i += c)
        for (int ch = 0; ch < c; ch++)
            pre[i + ch] = alpha && ch < c - 1
                              ? round16((double)in[i + ch] * in[i + c - 1] / 65535.0)
                              : in[i + ch];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++) {
                int m = 0;
                for (int dy = -r; dy <= r; dy++)
                    for (int dx = -r; dx <= r; dx++)
                        win[m++] = pre[((size_t)clampi(y + dy, 0, h - 1) * w +
                                        clampi(x + dx, 0, w - 1)) * c + ch];
                qsort(win, (size_t)m, sizeof *win, cmp_u16);
                out[((size_t)y * w + x) * c + ch] =
                    op == OP_MEDIAN ? win[(m - 1) / 2] : op == OP_ERODE ? win[0] : win[m - 1];
            }
    if (alpha)
        for (size_t i = 0; i < n; i += c) {
            const double a = out[i + c - 1];
            for (int ch = 0; ch < c - 1; ch++) {
                double v = a > 0.0 ? out[i + ch] * 65535.0 / a : 0.0;
                out[i + ch] = round16(v);
            }
        }
    free(win);
    free(pre);
    return out;
}

enum { G_FLIP, G_FLOP, G_TRANSPOSE, G_ROT90, G_ROT180, G_ROT270, G_CROP };

/* The geometry filter op on w x h x c samples; *ow x *oh the output size; crop takes cr[4] =
   x, y, width, height (0: to the edge). */
static uint16_t *geo_ref(const uint16_t *in, int w, int h, int c, int op, const int cr[4],
                         int *ow, int *oh)
{
    const bool swap = op == G_TRANSPOSE || op == G_ROT90 || op == G_ROT270;
    *ow = swap ? h : w;
    *oh = swap ? w : h;
    if (op == G_CROP) {
        *ow = cr[2] ? cr[2] : w - cr[0];
        *oh = cr[3] ? cr[3] : h - cr[1];
    }
    uint16_t *out = malloc((size_t)*ow * *oh * c * sizeof *out);
    cr_assert_not_null(out);
    for (int y = 0; y < *oh; y++)
        for (int x = 0; x < *ow; x++) {
            int sx = x, sy = y;
            switch (op) {
            case G_FLIP: sy = h - 1 - y; break;
            case G_FLOP: sx = w - 1 - x; break;
            case G_TRANSPOSE: sx = y, sy = x; break;
            case G_ROT90: sx = y, sy = h - 1 - x; break;
            case G_ROT180: sx = w - 1 - x, sy = h - 1 - y; break;
            case G_ROT270: sx = w - 1 - y, sy = x; break;
            default: sx = cr[0] + x, sy = cr[1] + y; break;
            }
            memcpy(out + ((size_t)y * *ow + x) * c, in + ((size_t)sy * w + sx) * c,
                   (size_t)c * sizeof *out);
        }
    return out;
}

/* ---- running ------------------------------------------------------------------------------ */

typedef struct run_cfg {
    pp_backend backend;
    int workers, band_rows;
} run_cfg;

static const run_cfg configs[] = {{PP_BACKEND_SERIAL, 1, 0},
                                  {PP_BACKEND_OPENMP, 2, 1},
                                  {PP_BACKEND_OPENMP, 3, 0},
                                  {PP_BACKEND_FORK, 2, 3}};
#define NCONFIGS ((int)(sizeof configs / sizeof configs[0]))

/* Applies spec to the 16-bit w x h x c image `in` on every configuration and asserts the output
   is the 16-bit ow x oh x c image `want`, sample for sample. */
static void expect16(const char *spec, const char *what, const uint16_t *in, int w, int h, int c,
                     const uint16_t *want, int ow, int oh)
{
    for (int k = 0; k < NCONFIGS; k++) {
        pp_ctx *ctx = th_ctx(configs[k].backend, configs[k].workers);
        cr_assert_eq(pp_ctx_set_band_rows(ctx, configs[k].band_rows), PP_OK);
        pp_image *im = th_image16_from(ctx, w, h, c, in);
        pp_image *out = th_apply(ctx, spec, im);
        cr_assert_eq(pp_image_depth(out), 16, "%s on %s: depth %d", spec, what,
                     pp_image_depth(out));
        cr_assert_eq(pp_image_width(out), ow, "%s on %s: width %d, expected %d", spec, what,
                     pp_image_width(out), ow);
        cr_assert_eq(pp_image_height(out), oh, "%s on %s: height %d, expected %d", spec, what,
                     pp_image_height(out), oh);
        cr_assert_eq(pp_image_channels(out), c);
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
                for (int ch = 0; ch < c; ch++) {
                    const unsigned got = th_px16(out, x, y, ch);
                    const unsigned exp = want[((size_t)y * ow + x) * c + ch];
                    if (got != exp)
                        cr_assert_fail("%s on %s %dx%dx%d (config %d): (%d, %d) channel %d is "
                                       "%u, expected %u",
                                       spec, what, w, h, c, k, x, y, ch, got, exp);
                }
        pp_image_free(out);
        pp_image_free(im);
        pp_ctx_free(ctx);
    }
}

typedef uint16_t *(*make_fn)(int w, int h, int c, uint32_t seed);

static const struct {
    const char *name;
    make_fn make;
    int w, h;
} images[] = {{"hand-chosen values", hand_samples, 7, 5},
              {"hand-chosen values", hand_samples, 1, 1},
              {"hand-chosen values", hand_samples, 3, 9},
              {"random values", random_samples, 11, 6},
              {"random values", random_samples, 45, 4},
              {"photo-like image", photo_samples, 97, 61}};
#define NIMAGES ((int)(sizeof images / sizeof images[0]))

static void check_rank(const char *spec, int op, int r)
{
    for (int i = 0; i < NIMAGES; i++)
        for (int c = 1; c <= 4; c++) {
            const int w = images[i].w, h = images[i].h;
            uint16_t *in = images[i].make(w, h, c, 77u + (uint32_t)(i * 5 + c));
            uint16_t *want = rank_ref(in, w, h, c, op, r);
            expect16(spec, images[i].name, in, w, h, c, want, w, h);
            free(want);
            free(in);
        }
}

static void check_geo(const char *spec, int op, const int cr[4])
{
    static const int extra[][2] = {{130, 67}, {2, 3}};
    for (int i = 0; i < NIMAGES + 2; i++)
        for (int c = 1; c <= 4; c++) {
            const int w = i < NIMAGES ? images[i].w : extra[i - NIMAGES][0];
            const int h = i < NIMAGES ? images[i].h : extra[i - NIMAGES][1];
            if (op == G_CROP && (cr[0] + (cr[2] ? cr[2] : 1) > w || cr[1] + (cr[3] ? cr[3] : 1) > h))
                continue;
            uint16_t *in = i < NIMAGES ? images[i].make(w, h, c, 91u + (uint32_t)(i * 5 + c))
                                       : random_samples(w, h, c, 5u + (uint32_t)c);
            int ow, oh;
            uint16_t *want = geo_ref(in, w, h, c, op, cr, &ow, &oh);
            expect16(spec, i < NIMAGES ? images[i].name : "random values", in, w, h, c, want, ow,
                     oh);
            free(want);
            free(in);
        }
}

/* ---- rank --------------------------------------------------------------------------------- */

Test(depth16_rank, median_radius0_copies)
{
    check_rank("median:radius=0", OP_MEDIAN, 0);
}
Test(depth16_rank, median_radius1_network) { check_rank("median", OP_MEDIAN, 1); }
Test(depth16_rank, median_radius2_network) { check_rank("median:radius=2", OP_MEDIAN, 2); }
Test(depth16_rank, median_radius1_histogram)
{
    check_rank("median:radius=1,method=histogram", OP_MEDIAN, 1);
}
Test(depth16_rank, median_radius2_histogram)
{
    check_rank("median:radius=2,method=histogram", OP_MEDIAN, 2);
}
Test(depth16_rank, median_radius3_network) { check_rank("median:radius=3", OP_MEDIAN, 3); }
Test(depth16_rank, median_radius3_histogram)
{
    check_rank("median:radius=3,method=histogram", OP_MEDIAN, 3);
}
Test(depth16_rank, median_radius7_histogram) { check_rank("median:radius=7", OP_MEDIAN, 7); }
/* a window far wider than the small images: mostly replicated edge pixels */
Test(depth16_rank, median_radius12_histogram) { check_rank("median:radius=12", OP_MEDIAN, 12); }

Test(depth16_rank, erode) {
    check_rank("erode:radius=0", OP_ERODE, 0);
    check_rank("erode", OP_ERODE, 1);
    check_rank("erode:radius=3", OP_ERODE, 3);
}
Test(depth16_rank, dilate) {
    check_rank("dilate:radius=0", OP_DILATE, 0);
    check_rank("dilate", OP_DILATE, 1);
    check_rank("dilate:radius=4", OP_DILATE, 4);
}

/* A median of ties and extremes worked out by hand: a 3x3 gray image, radius 1. The centre
   window is all nine values {0, 1, 1, 32767, 65534, 65534, 65535, 65535, 65535} -> 65534; the
   corner (0, 0) reads 0 four times (edges extended), 1 twice, 65535 twice, 32767 once
   -> sorted 0 0 0 0 1 ... -> 1. */
Test(depth16_rank, median_by_hand)
{
    const uint16_t in[9] = {0, 1, 65535, 32767, 65534, 65535, 1, 65534, 65535};
    uint16_t *want = rank_ref(in, 3, 3, 1, OP_MEDIAN, 1);
    cr_assert_eq(want[4], 65534);
    cr_assert_eq(want[0], 1);
    expect16("median", "a 3x3 image", in, 3, 3, 1, want, 3, 3);
    expect16("median:method=histogram", "a 3x3 image", in, 3, 3, 1, want, 3, 3);
    free(want);
}

/* 8-bit RGBA and gray+alpha through the rank filters: premultiplied into 16 bits, P = round(257
   c a / 255) and A = 257 a, ranked, and back: a = round(A / 257), c = A ? min(255, round(P 255 /
   A)) : 0. */
static void check_rank8_alpha(const char *spec, int op, int r, int w, int h, int c,
                              uint32_t seed)
{
    const size_t n = (size_t)w * h * c;
    uint8_t *in8 = malloc(n);
    uint16_t *pre = malloc(n * sizeof *pre);
    cr_assert(in8 && pre);
    for (size_t i = 0; i < n; i++) in8[i] = (uint8_t)(lcg(&seed) >> 4);
    for (size_t i = 0; i < n; i += 5) in8[i] = (i / 5) % 3 ? 255 : 0; /* some 0 and 255 */
    for (size_t i = 0; i < n; i += c) {
        const double a = in8[i + c - 1];
        for (int ch = 0; ch < c - 1; ch++) pre[i + ch] = round16(257.0 * in8[i + ch] * a / 255.0);
        pre[i + c - 1] = (uint16_t)(257 * in8[i + c - 1]);
    }
    /* each channel of the premultiplied samples ranked alone (as a 1-channel image, which
       rank_ref does not premultiply) */
    uint16_t *plane = malloc((size_t)w * h * sizeof *plane), *ranked = malloc(n * sizeof *ranked);
    cr_assert(plane && ranked);
    for (int ch = 0; ch < c; ch++) {
        for (size_t p = 0; p < (size_t)w * h; p++) plane[p] = pre[p * c + ch];
        uint16_t *o = rank_ref(plane, w, h, 1, op, r);
        for (size_t p = 0; p < (size_t)w * h; p++) ranked[p * c + ch] = o[p];
        free(o);
    }
    uint8_t *want = malloc(n);
    cr_assert_not_null(want);
    for (size_t i = 0; i < n; i += c) {
        const double a = ranked[i + c - 1];
        for (int ch = 0; ch < c - 1; ch++) {
            double v = a > 0.0 ? ranked[i + ch] * 255.0 / a : 0.0;
            want[i + ch] = (uint8_t)(v >= 254.5 ? 255 : floor(v + 0.5));
        }
        want[i + c - 1] = (uint8_t)floor(a / 257.0 + 0.5);
    }
    for (int k = 0; k < NCONFIGS; k++) {
        pp_ctx *ctx = th_ctx(configs[k].backend, configs[k].workers);
        cr_assert_eq(pp_ctx_set_band_rows(ctx, configs[k].band_rows), PP_OK);
        pp_image *im = th_image_from(ctx, w, h, c, in8);
        pp_image *out = th_apply(ctx, spec, im);
        cr_assert_eq(pp_image_depth(out), 8);
        for (int y = 0; y < h; y++) {
            const uint8_t *row = pp_image_data(out) + (size_t)y * pp_image_stride(out);
            for (int i = 0; i < w * c; i++)
                if (row[i] != want[(size_t)y * w * c + i])
                    cr_assert_fail("%s, 8 bits %dx%dx%d (config %d): (%d, %d) channel %d is %d, "
                                   "expected %d",
                                   spec, w, h, c, k, i / c, y, i % c, row[i],
                                   want[(size_t)y * w * c + i]);
        }
        pp_image_free(out);
        pp_image_free(im);
        pp_ctx_free(ctx);
    }
    free(want);
    free(ranked);
    free(plane);
    free(pre);
    free(in8);
}

Test(depth16_rank, rank_8bit_alpha_exact)
{
    for (int c = 2; c <= 4; c += 2) {
        check_rank8_alpha("median", OP_MEDIAN, 1, 45, 7, c, 3u + (uint32_t)c);
        check_rank8_alpha("median:radius=2", OP_MEDIAN, 2, 45, 7, c, 4u + (uint32_t)c);
        check_rank8_alpha("median:radius=3", OP_MEDIAN, 3, 70, 9, c, 6u + (uint32_t)c);
        check_rank8_alpha("median:radius=4", OP_MEDIAN, 4, 19, 9, c, 5u + (uint32_t)c);
        check_rank8_alpha("erode:radius=2", OP_ERODE, 2, 19, 9, c, 6u + (uint32_t)c);
        check_rank8_alpha("dilate:radius=1", OP_DILATE, 1, 19, 9, c, 7u + (uint32_t)c);
    }
}

/* ---- geometry ----------------------------------------------------------------------------- */

static const int nocrop[4] = {0, 0, 0, 0};
Test(depth16_rank, flip) { check_geo("flip", G_FLIP, nocrop); }
Test(depth16_rank, flop) { check_geo("flop", G_FLOP, nocrop); }
Test(depth16_rank, transpose) { check_geo("transpose", G_TRANSPOSE, nocrop); }
Test(depth16_rank, rotate)
{
    check_geo("rotate:angle=90", G_ROT90, nocrop);
    check_geo("rotate:angle=180", G_ROT180, nocrop);
    check_geo("rotate:angle=270", G_ROT270, nocrop);
}
Test(depth16_rank, crop)
{
    const int a[4] = {2, 1, 3, 2}, b[4] = {1, 2, 0, 0}, d[4] = {0, 0, 1, 1};
    check_geo("crop:x=2,y=1,width=3,height=2", G_CROP, a);
    check_geo("crop:x=1,y=2", G_CROP, b);
    check_geo("crop:width=1,height=1", G_CROP, d);
}

/* ---- the network's vector variants -------------------------------------------------------- */

/* The 16-bit selection networks' SSE2, AVX2 and AVX-512 loops against the scalar network, on
   every pixel size and row lengths around the vector widths (the pipeline runs only the widest
   variant the CPU has). rank.c is compiled in here for its static kernels. */
#define pp_family_rank pp_test_family_rank
#include "../filters/rank.c"
#undef pp_family_rank

Test(depth16_rank, network_variants_agree)
{
#ifdef PP_X86
    static const net_fn vars[2][3] = {{net9_16_sse2, net9_16_avx2, net9_16_avx512},
                                      {net25_16_sse2, net25_16_avx2, net25_16_avx512}};
    static const unsigned need[3] = {0, PP_CPU_AVX2, PP_CPU_AVX512F | PP_CPU_AVX512BW};
    uint32_t seed = 12345u;
    for (int r = 1; r <= 2; r++)
        for (int ch = 1; ch <= 4; ch++)
            for (int w = 1; w <= 70; w++) {
                const int c = 2 * ch;                   /* bytes per pixel */
                const size_t n = (size_t)w * c, pn = (size_t)(w + 2 * r) * c;
                uint8_t *buf[5], out[70 * 8];
                for (int i = 0; i < 2 * r + 1; i++) {
                    buf[i] = malloc(pn);
                    cr_assert_not_null(buf[i]);
                    uint16_t *s16 = malloc(pn);
                    cr_assert_not_null(s16);
                    uint16_t *h = hand_samples((int)(pn / 2), 1, 1, lcg(&seed));
                    for (size_t j = 0; j < pn / 2; j++)
                        s16[j] = j % 3 ? h[j] : (uint16_t)lcg(&seed);
                    memcpy(buf[i], s16, pn);
                    free(h);
                    free(s16);
                }
                const uint8_t *const *rows = (const uint8_t *const *)buf;
                for (int v = 0; v < 3; v++) {
                    if (!pp_cpu_has(need[v])) continue;
                    memset(out, 0xAB, sizeof out);
                    const size_t done = vars[r - 1][v](rows, c, n, out);
                    cr_assert(done == 0 || done == n, "variant %d returned %zu of %zu", v, done, n);
                    for (size_t i = 0; i < done / 2; i++) {
                        uint16_t got, want = net_scalar16(rows, c, i, r);
                        memcpy(&got, out + 2 * i, 2);
                        cr_assert_eq(got, want, "radius %d, %d channels, width %d, variant %d: "
                                     "sample %zu is %u, expected %u", r, ch, w, v, i, got, want);
                    }
                }
                for (int i = 0; i < 2 * r + 1; i++) free(buf[i]);
            }
#endif
}
