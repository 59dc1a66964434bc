/*
 * test_depth16_resize.c - resize on 16-bit images: every method against the definition of
 * docs/FILTERS.md evaluated here in double precision (weights K((j + 0.5 - c) / f) normalised,
 * horizontal pass first into an intermediate clamped to [0, 65535], vertical pass rounded half
 * away from zero and clamped): within 1 level for bilinear, bicubic and lanczos3, exact for
 * nearest and for an axis of unchanged size; premultiplied alpha at 16 bits and the exact alpha
 * path of 8-bit RGBA; the same bytes on every backend, band size and loop variant.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NEAREST = 0, BILINEAR = 1, BICUBIC = 2, LANCZOS3 = 3 };
static const char *const mname[] = {"nearest", "bilinear", "bicubic", "lanczos3"};

/* ---- the definition, in double precision --------------------------------------------------- */

static double kern(int method, double t)
{
    t = fabs(t);
    if (method == BILINEAR) return t < 1.0 ? 1.0 - t : 0.0;
    if (method == BICUBIC) {
        const double a = -0.5;
        if (t < 1.0) return (a + 2.0) * t * t * t - (a + 3.0) * t * t + 1.0;
        if (t < 2.0) return a * t * t * t - 5.0 * a * t * t + 8.0 * a * t - 4.0 * a;
        return 0.0;
    }
    if (t >= 3.0) return 0.0;
    if (t == 0.0) return 1.0;
    const double pt = M_PI * t;
    return sin(pt) / pt * (sin(pt / 3.0) / (pt / 3.0));
}

typedef struct taps {
    int *j0, *cnt;
    double *w; /* m * kmax */
    int kmax;
} taps;

/* The taps of output i of an axis n -> m. */
static taps axis(int method, int n, int m)
{
    const double s = (double)n / m, f = s > 1.0 ? s : 1.0;
    const double support = (method == BILINEAR ? 1.0 : method == BICUBIC ? 2.0 : 3.0) * f;
    taps t;
    t.kmax = (int)ceil(2 * support) + 3;
    t.j0 = calloc((size_t)m, sizeof(int));
    t.cnt = calloc((size_t)m, sizeof(int));
    t.w = calloc((size_t)m * t.kmax, sizeof(double));
    cr_assert(t.j0 && t.cnt && t.w);
    for (int i = 0; i < m; i++) {
        double *w = t.w + (size_t)i * t.kmax;
        if (n == m) {
            t.j0[i] = i;
            t.cnt[i] = 1;
            w[0] = 1.0;
            continue;
        }
        const double c = (i + 0.5) * s;
        int a = (int)floor(c - support + 0.5), b = (int)floor(c + support + 0.5);
        if (a < 0) a = 0;
        if (b > n) b = n;
        cr_assert(b - a <= t.kmax);
        double total = 0.0;
        for (int j = a; j < b; j++) total += w[j - a] = kern(method, (j + 0.5 - c) / f);
        if (b <= a || total == 0.0) {
            int jn = (int)floor(c);
            t.j0[i] = jn < 0 ? 0 : jn >= n ? n - 1 : jn;
            t.cnt[i] = 1;
            w[0] = 1.0;
            continue;
        }
        t.j0[i] = a;
        t.cnt[i] = b - a;
        for (int j = 0; j < b - a; j++) w[j] /= total;
    }
    return t;
}

static void taps_free(taps *t)
{
    free(t->j0);
    free(t->cnt);
    free(t->w);
}

/* Pillow's NEAREST: t accumulates n / m in double from half of it. */
static int *axis_nearest(int n, int m)
{
    int *idx = malloc((size_t)m * sizeof(int));
    cr_assert(idx);
    const double s = (double)n / m;
    double t = s * 0.5;
    for (int i = 0; i < m; i++) {
        const int j = (int)t;
        idx[i] = j >= n ? n - 1 : j;
        t += s;
    }
    return idx;
}

/* The real-valued resampling of in (W x H x C values) to tw x th: out[(y tw + x) C + k], before
   the final rounding (nearest: the input value). */
static double *reference(const double *in, int W, int H, int C, int method, int tw, int th)
{
    double *out = malloc((size_t)tw * th * C * sizeof(double));
    cr_assert(out);
    if (method == NEAREST) {
        int *xi = axis_nearest(W, tw), *yi = axis_nearest(H, th);
        for (int y = 0; y < th; y++)
            for (int x = 0; x < tw; x++)
                for (int k = 0; k < C; k++)
                    out[((size_t)y * tw + x) * C + k] = in[((size_t)yi[y] * W + xi[x]) * C + k];
        free(xi);
        free(yi);
        return out;
    }
    taps tx = axis(method, W, tw), ty = axis(method, H, th);
    double *mid = malloc((size_t)tw * H * C * sizeof(double));
    cr_assert(mid);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < tw; x++)
            for (int k = 0; k < C; k++) {
                double acc = 0.0;
                for (int j = 0; j < tx.cnt[x]; j++)
                    acc += tx.w[(size_t)x * tx.kmax + j] * in[((size_t)y * W + tx.j0[x] + j) * C + k];
                mid[((size_t)y * tw + x) * C + k] = acc < 0.0 ? 0.0 : acc > 65535.0 ? 65535.0 : acc;
            }
    for (int y = 0; y < th; y++)
        for (int x = 0; x < tw; x++)
            for (int k = 0; k < C; k++) {
                double acc = 0.0;
                for (int j = 0; j < ty.cnt[y]; j++)
                    acc += ty.w[(size_t)y * ty.kmax + j] * mid[(((size_t)ty.j0[y] + j) * tw + x) * C + k];
                out[((size_t)y * tw + x) * C + k] = acc;
            }
    free(mid);
    taps_free(&tx);
    taps_free(&ty);
    return out;
}

/* Round half away from zero, clamp to 0..top. */
static long round_clamp(double v, long top)
{
    if (!(v > 0.0)) return 0;
    const long r = (long)floor(v + 0.5);
    return r > top ? top : r;
}

/* ---- comparing ---------------------------------------------------------------------------- */

typedef struct stats {
    long samples, off1; /* samples compared; those 1 level off round(reference) */
} stats;

/* 1 when some integer within `tol` of round(ref) (clamped to 0..65535) satisfies ok(). */
static long near_lo(double ref, int tol)
{
    const long r = round_clamp(ref, 65535) - tol;
    return r < 0 ? 0 : r;
}
static long near_hi(double ref, int tol)
{
    const long r = round_clamp(ref, 65535) + tol;
    return r > 65535 ? 65535 : r;
}

/* The 16-bit values the pipeline gives for colour C, alpha A: P = round(C A / 65535). */
static double premul16(unsigned c, unsigned a) { return (double)((c * a + 32767u) / 65535u); }
/* The pipeline's unpremultiply at 16 bits. */
static long unpremul16(long p, long a)
{
    if (!a) return 0;
    const long v = (p * 131070L + a) / (2 * a);
    return v > 65535 ? 65535 : v;
}

/* Checks a 16-bit result against the definition, within tol levels (0: exact). With alpha, the
   resampling runs on premultiplied colour: the alpha is within tol of the reference, and the
   colour is what unpremultiplying some premultiplied value within tol of the reference by that
   alpha gives. */
static void check16(const pp_image *in, const pp_image *out, int method, int tol, stats *st,
                    const char *what)
{
    const int W = pp_image_width(in), H = pp_image_height(in), C = pp_image_channels(in);
    const int tw = pp_image_width(out), th = pp_image_height(out);
    cr_assert_eq(pp_image_depth(out), 16, "%s", what);
    cr_assert_eq(pp_image_channels(out), C, "%s", what);
    const int alpha = C == 2 || C == 4;
    double *v = malloc((size_t)W * H * C * sizeof(double));
    cr_assert(v);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const unsigned a = alpha ? th_px16(in, x, y, C - 1) : 65535u;
            for (int k = 0; k < C; k++) {
                const unsigned s = th_px16(in, x, y, k);
                v[((size_t)y * W + x) * C + k] = alpha && k < C - 1 ? premul16(s, a) : s;
            }
        }
    double *ref = reference(v, W, H, C, method, tw, th);
    for (int y = 0; y < th; y++)
        for (int x = 0; x < tw; x++) {
            const double *r = ref + ((size_t)y * tw + x) * C;
            const long a = alpha ? th_px16(out, x, y, C - 1) : 65535;
            if (alpha) {
                cr_assert(a >= near_lo(r[C - 1], tol) && a <= near_hi(r[C - 1], tol),
                          "%s: alpha at (%d,%d) is %ld, the definition gives %.3f", what, x, y, a,
                          r[C - 1]);
                st->off1 += a != round_clamp(r[C - 1], 65535);
                st->samples++;
            }
            for (int k = 0; k < C - alpha; k++) {
                const long got = th_px16(out, x, y, k);
                int found = 0;
                if (!alpha) found = got >= near_lo(r[k], tol) && got <= near_hi(r[k], tol);
                for (long p = near_lo(r[k], tol); alpha && p <= near_hi(r[k], tol) && !found; p++)
                    found = unpremul16(p, a) == got;
                cr_assert(found, "%s: sample %d of (%d,%d) is %ld, the definition gives %.3f%s",
                          what, k, x, y, got, r[k], alpha ? " (premultiplied)" : "");
                if (!alpha) st->off1 += got != round_clamp(r[k], 65535);
                st->samples++;
            }
        }
    free(ref);
    free(v);
}

/* ---- images ------------------------------------------------------------------------------- */

/* A photo-like image: smooth gradients, a few hard-edged shapes and noise; alpha (if any) a
   gradient with a transparent and an opaque region. */
static pp_image *photo16(pp_ctx *ctx, int w, int h, int c, uint32_t seed)
{
    pp_image *im = NULL;
    cr_assert_eq(pp_image_new_depth(ctx, w, h, c, 16, &im), PP_OK);
    uint32_t s = seed * 2654435761u + 99u;
    for (int y = 0; y < h; y++) {
        uint16_t *row = (uint16_t *)(void *)(pp_image_data(im) + (size_t)y * pp_image_stride(im));
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                const double noise = ((double)(s >> 8) / (1 << 24) - 0.5) * 1200.0;
                double v;
                if ((c == 2 || c == 4) && k == c - 1) {
                    v = x < w / 6 ? 0.0 : x > w - w / 6 ? 65535.0 : 65535.0 * y / (h - 1);
                } else {
                    v = 32768.0 + 20000.0 * sin(x * 0.05 + k) * cos(y * 0.037 - k);
                    v += 9000.0 * x / w;
                    if ((x / 23 + y / 17) % 3 == 0) v = k == 0 ? 65535.0 : 2000.0 * k; /* edges */
                    if (x > w / 2 && x < w / 2 + 9) v = 0.0;                          /* a bar */
                    v += noise;
                }
                row[(size_t)x * c + k] = (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
            }
    }
    return im;
}

static pp_image *apply_ok(pp_ctx *ctx, const char *spec, const pp_image *in)
{
    pp_image *out = NULL;
    cr_assert_eq(pp_apply(ctx, spec, in, &out), PP_OK, "%s: %s", spec, pp_ctx_last_error(ctx));
    return out;
}

/* The hand-chosen values of a small image: the ends of the scale and its middle. */
static const uint16_t special[] = {0, 1, 32767, 65534, 65535, 65535, 0, 32768, 1, 65534, 2, 40000};
#define NSPECIAL ((int)(sizeof special / sizeof special[0]))

static pp_image *special16(pp_ctx *ctx, int w, int h, int c, uint32_t seed)
{
    uint16_t *px = malloc((size_t)w * h * c * sizeof(uint16_t));
    cr_assert(px);
    uint32_t s = seed;
    for (size_t i = 0; i < (size_t)w * h * c; i++) {
        s = s * 1103515245u + 12345u;
        px[i] = special[(s >> 16) % NSPECIAL];
    }
    pp_image *im = th_image16_from(ctx, w, h, c, px);
    free(px);
    return im;
}

/* ---- tests -------------------------------------------------------------------------------- */

static const int targets[][2] = {{10, 8}, {3, 2}, {1, 1}, {7, 4}, {5, 9}, {2, 7}, {13, 1}, {5, 4}};
#define NTARGETS ((int)(sizeof targets / sizeof targets[0]))

Test(depth16_resize, small_images_every_method)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    stats st = {0, 0};
    for (int c = 1; c <= 4; c++)
        for (int kind = 0; kind < 2; kind++) {
            pp_image *in = kind ? th_random_image16(ctx, 5, 4, c, 7u + (uint32_t)c)
                                : special16(ctx, 5, 4, c, 3u + (uint32_t)c);
            for (int m = 0; m < 4; m++)
                for (int t = 0; t < NTARGETS; t++) {
                    char spec[96], what[160];
                    snprintf(spec, sizeof spec, "resize:width=%d,height=%d,method=%s",
                             targets[t][0], targets[t][1], mname[m]);
                    snprintf(what, sizeof what, "%s on 5x4x%d (%s)", spec, c,
                             kind ? "random" : "special values");
                    pp_image *out = apply_ok(ctx, spec, in);
                    cr_assert_eq(pp_image_width(out), targets[t][0], "%s", what);
                    cr_assert_eq(pp_image_height(out), targets[t][1], "%s", what);
                    /* nearest and the unchanged size are exact */
                    const int exact = m == NEAREST || (targets[t][0] == 5 && targets[t][1] == 4);
                    check16(in, out, m, exact ? 0 : 1, &st, what);
                    if (targets[t][0] == 5 && targets[t][1] == 4 && (c == 1 || c == 3))
                        cr_assert(th_same(in, out), "%s: not a copy", what);
                    pp_image_free(out);
                }
            pp_image_free(in);
        }
    cr_log_info("%ld samples, %ld one level off the rounded definition", st.samples, st.off1);
    pp_ctx_free(ctx);
}

/* Random images of several sizes, shrunk and enlarged far: windows of hundreds of taps, windows
   cut by the edges, one-pixel sides. */
Test(depth16_resize, random_images_many_scales)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    static const int sizes[][2] = {{1, 1}, {2, 3}, {17, 9}, {131, 29}, {300, 21}};
    static const char *const scales[] = {"scale=0.5", "scale=0.37", "scale=0.1", "scale=0.02",
                                         "scale=1.7", "scale=3", "width=7,height=5",
                                         "width=1,height=9", "height=11"};
    stats st = {0, 0};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
        for (int c = 1; c <= 4; c++) {
            pp_image *in = th_random_image16(ctx, sizes[z][0], sizes[z][1], c, (uint32_t)(z * 5 + c));
            for (size_t k = 0; k < sizeof scales / sizeof scales[0]; k++)
                for (int m = 0; m < 4; m++) {
                    char spec[96], what[160];
                    snprintf(spec, sizeof spec, "resize:%s,method=%s", scales[k], mname[m]);
                    pp_image *out = NULL;
                    pp_status rc = pp_apply(ctx, spec, in, &out);
                    if (rc == PP_ERR_SPEC) continue; /* no pixel left at this scale */
                    cr_assert_eq(rc, PP_OK, "%s: %s", spec, pp_ctx_last_error(ctx));
                    snprintf(what, sizeof what, "%s on %dx%dx%d", spec, sizes[z][0], sizes[z][1], c);
                    check16(in, out, m, m == NEAREST ? 0 : 1, &st, what);
                    pp_image_free(out);
                }
            pp_image_free(in);
        }
    cr_log_info("%ld samples, %ld one level off the rounded definition", st.samples, st.off1);
    cr_assert_lt(st.off1 * 100, st.samples, "more than 1%% of the samples off by one");
    pp_ctx_free(ctx);
}

/* A photo-like image, every method, shrinking and enlarging, 1-4 channels. */
Test(depth16_resize, photo_like_image)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    static const char *const scales[] = {"scale=0.5", "scale=0.37", "scale=0.13", "scale=1.7",
                                         "width=400,height=90"};
    stats st = {0, 0};
    for (int c = 1; c <= 4; c++) {
        pp_image *in = photo16(ctx, 257, 181, c, 11u + (uint32_t)c);
        for (size_t k = 0; k < sizeof scales / sizeof scales[0]; k++)
            for (int m = 0; m < 4; m++) {
                char spec[96], what[160];
                snprintf(spec, sizeof spec, "resize:%s,method=%s", scales[k], mname[m]);
                snprintf(what, sizeof what, "%s on the photo-like 257x181x%d", spec, c);
                pp_image *out = apply_ok(ctx, spec, in);
                check16(in, out, m, m == NEAREST ? 0 : 1, &st, what);
                pp_image_free(out);
            }
        pp_image_free(in);
    }
    cr_log_info("%ld samples, %ld one level off the rounded definition", st.samples, st.off1);
    cr_assert_lt(st.off1 * 100, st.samples, "more than 1%% of the samples off by one");
    pp_ctx_free(ctx);
}

/* A flat image stays flat, exactly, at every scale (the weights sum to 1). */
Test(depth16_resize, flat_stays_flat)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    static const uint16_t levels[] = {0, 1, 257, 32767, 32768, 65534, 65535};
    static const char *const scales[] = {"scale=0.5", "scale=0.09", "scale=2.5",
                                         "width=23,height=3"};
    for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
        uint16_t px[37 * 29 * 3];
        for (size_t i = 0; i < sizeof px / sizeof px[0]; i++) px[i] = levels[l];
        pp_image *in = th_image16_from(ctx, 37, 29, 3, px);
        for (size_t k = 0; k < sizeof scales / sizeof scales[0]; k++)
            for (int m = 1; m < 4; m++) {
                char spec[96];
                snprintf(spec, sizeof spec, "resize:%s,method=%s", scales[k], mname[m]);
                pp_image *out = apply_ok(ctx, spec, in);
                for (int y = 0; y < pp_image_height(out); y++)
                    for (int x = 0; x < pp_image_width(out); x++)
                        for (int q = 0; q < 3; q++)
                            cr_assert_eq(th_px16(out, x, y, q), levels[l],
                                         "%s on flat %u: (%d,%d) is %u", spec, levels[l], x, y,
                                         th_px16(out, x, y, q));
                pp_image_free(out);
            }
        pp_image_free(in);
    }
    pp_ctx_free(ctx);
}

/* Premultiplied alpha: the colour of fully transparent pixels never shows in the result. */
Test(depth16_resize, transparent_colour_does_not_bleed)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    for (int depth = 8; depth <= 16; depth += 8)
        for (int c = 2; c <= 4; c += 2) {
            pp_image *a = photo16(ctx, 61, 43, c, 5u), *b = photo16(ctx, 61, 43, c, 5u);
            for (int y = 0; y < 43; y++) {
                uint16_t *row = (uint16_t *)(void *)(pp_image_data(b) + (size_t)y * pp_image_stride(b));
                for (int x = 0; x < 61; x++)
                    if (row[(size_t)x * c + c - 1] == 0)
                        for (int k = 0; k < c - 1; k++) row[(size_t)x * c + k] ^= 0x5a5a;
            }
            cr_assert(!th_same(a, b));
            pp_image *a8 = a, *b8 = b;
            if (depth == 8) {
                cr_assert_eq(pp_image_convert_depth(ctx, a, 8, &a8), PP_OK);
                cr_assert_eq(pp_image_convert_depth(ctx, b, 8, &b8), PP_OK);
            }
            for (int m = 0; m < 4; m++) {
                char spec[96];
                snprintf(spec, sizeof spec, "resize:scale=0.6,method=%s", mname[m]);
                pp_image *oa = apply_ok(ctx, spec, a8), *ob = apply_ok(ctx, spec, b8);
                cr_assert(th_same(oa, ob), "%s, %d bits, %d channels: transparent colour shows",
                          spec, depth, c);
                pp_image_free(oa);
                pp_image_free(ob);
            }
            if (depth == 8) {
                pp_image_free(a8);
                pp_image_free(b8);
            }
            pp_image_free(a);
            pp_image_free(b);
        }
    pp_ctx_free(ctx);
}

/* 8-bit RGBA and gray+alpha take the exact alpha path: premultiplied into 16 bits
   (P = round(257 c a / 255), A = 257 a), resampled at 16 bits, back to 8 bits
   (a = round(A / 257), c = A ? min(255, round(255 P / A)) : 0). Opaque: the colour is the 16-bit
   resampling of the widened colour, narrowed, exactly. */
Test(depth16_resize, rgba8_exact_alpha)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    for (int c = 2; c <= 4; c += 2) {
        pp_image *in = th_random_image(ctx, 53, 31, c, 21u + (uint32_t)c);
        /* opaque copy, and its colour alone */
        pp_image *opaque = th_random_image(ctx, 53, 31, c, 21u + (uint32_t)c);
        pp_image *col = th_random_image(ctx, 53, 31, c - 1, 1u);
        for (int y = 0; y < 31; y++) {
            uint8_t *r = pp_image_data(opaque) + (size_t)y * pp_image_stride(opaque);
            uint8_t *q = pp_image_data(col) + (size_t)y * pp_image_stride(col);
            for (int x = 0; x < 53; x++) {
                r[(size_t)x * c + c - 1] = 255;
                for (int k = 0; k < c - 1; k++) q[(size_t)x * (c - 1) + k] = r[(size_t)x * c + k];
            }
        }
        pp_image *col16 = NULL;
        cr_assert_eq(pp_image_convert_depth(ctx, col, 16, &col16), PP_OK);
        for (int m = 0; m < 4; m++) {
            char spec[96];
            snprintf(spec, sizeof spec, "resize:width=29,height=47,method=%s", mname[m]);
            /* opaque: exact */
            pp_image *o = apply_ok(ctx, spec, opaque), *w16 = apply_ok(ctx, spec, col16), *w8 = NULL;
            cr_assert_eq(pp_image_convert_depth(ctx, w16, 8, &w8), PP_OK);
            cr_assert_eq(pp_image_depth(o), 8);
            for (int y = 0; y < 47; y++) {
                const uint8_t *r = pp_image_data(o) + (size_t)y * pp_image_stride(o);
                const uint8_t *q = pp_image_data(w8) + (size_t)y * pp_image_stride(w8);
                for (int x = 0; x < 29; x++) {
                    cr_assert_eq(r[(size_t)x * c + c - 1], 255, "%s: opaque alpha", spec);
                    for (int k = 0; k < c - 1; k++)
                        cr_assert_eq(r[(size_t)x * c + k], q[(size_t)x * (c - 1) + k],
                                     "%s, %d channels: (%d,%d) sample %d", spec, c, x, y, k);
                }
            }
            pp_image_free(o);
            pp_image_free(w16);
            pp_image_free(w8);
            /* any alpha: the definition in double, within 1 level of the 16-bit values */
            pp_image *out = apply_ok(ctx, spec, in);
            double *v = malloc((size_t)53 * 31 * c * sizeof(double));
            cr_assert(v);
            for (int y = 0; y < 31; y++) {
                const uint8_t *r = pp_image_data(in) + (size_t)y * pp_image_stride(in);
                for (int x = 0; x < 53; x++) {
                    const unsigned a = r[(size_t)x * c + c - 1];
                    for (int k = 0; k < c - 1; k++)
                        v[((size_t)y * 53 + x) * c + k] = (double)((r[(size_t)x * c + k] * a * 514u + 255u) / 510u);
                    v[((size_t)y * 53 + x) * c + c - 1] = a * 257.0;
                }
            }
            double *ref = reference(v, 53, 31, c, m, 29, 47);
            const int tol = m == NEAREST ? 0 : 1;
            for (int y = 0; y < 47; y++) {
                const uint8_t *r = pp_image_data(out) + (size_t)y * pp_image_stride(out);
                for (int x = 0; x < 29; x++) {
                    const double *e = ref + ((size_t)y * 29 + x) * c;
                    const long got_a = r[(size_t)x * c + c - 1];
                    for (int k = 0; k < c - 1; k++) {
                        const long got = r[(size_t)x * c + k];
                        int found = 0;
                        for (long A = near_lo(e[c - 1], tol); A <= near_hi(e[c - 1], tol) && !found; A++) {
                            if ((A + 128) / 257 != got_a) continue;
                            for (long P = near_lo(e[k], tol); P <= near_hi(e[k], tol) && !found; P++) {
                                long cv = A ? (P * 510 + A) / (2 * A) : 0;
                                found = (cv > 255 ? 255 : cv) == got;
                            }
                        }
                        cr_assert(found, "%s, %d channels: (%d,%d) sample %d = %ld, alpha %ld; "
                                  "definition: P %.3f, A %.3f", spec, c, x, y, k, got, got_a, e[k],
                                  e[c - 1]);
                    }
                }
            }
            free(ref);
            free(v);
            pp_image_free(out);
        }
        pp_image_free(col16);
        pp_image_free(col);
        pp_image_free(opaque);
        pp_image_free(in);
    }
    pp_ctx_free(ctx);
}

/* The same bytes on every backend, worker count, band size and loop variant. */
Test(depth16_resize, same_bytes_everywhere)
{
    pp_ctx *serial = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_ctx *omp = th_ctx(PP_BACKEND_OPENMP, 3);
    pp_ctx *fork = th_ctx(PP_BACKEND_FORK, 2);
    static const char *const specs[] = {"resize:scale=0.5", "resize:scale=0.37,method=bilinear",
                                        "resize:scale=1.6,method=bicubic",
                                        "resize:width=150,height=333,method=nearest",
                                        "resize:width=611,height=100"};
    for (int c = 1; c <= 4; c++) {
        pp_image *in = photo16(serial, 611, 233, c, 77u + (uint32_t)c);
        for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
            cr_assert_eq(setenv("PIXPOOL_RESIZE_ISA", "scalar", 1), 0);
            pp_image *ref = apply_ok(serial, specs[s], in);
            unsetenv("PIXPOOL_RESIZE_ISA");
            pp_ctx *ctxs[] = {serial, omp, fork};
            for (int k = 0; k < 3; k++) {
                pp_ctx_set_band_rows(ctxs[k], k == 0 ? 0 : 7 + 5 * k);
                pp_image *out = apply_ok(ctxs[k], specs[s], in);
                cr_assert(th_same(ref, out), "%s on %d channels: backend %d differs from the "
                          "scalar loops", specs[s], c, k);
                pp_image_free(out);
            }
            pp_image_free(ref);
        }
        pp_image_free(in);
    }
    pp_ctx_free(fork);
    pp_ctx_free(omp);
    pp_ctx_free(serial);
}

/* The AVX2 and AVX-512 loops give the scalar loops' bytes at every width (groups cut by the
   row's end, windows that pass it), 1-4 channels, shrinking and enlarging. */
Test(depth16_resize, vector_loops_match_scalar)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    static const int sizes[][2] = {{1, 1}, {2, 3}, {5, 4}, {17, 9}, {64, 13}, {131, 29}};
    static const char *const specs[] = {"resize:scale=0.5", "resize:scale=0.37,method=bicubic",
                                        "resize:scale=0.1,method=bilinear", "resize:scale=1.7",
                                        "resize:scale=3,method=bilinear", "resize:width=7,height=5",
                                        "resize:width=1,height=9", "resize:height=11"};
    int compared = 0;
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
        for (int c = 1; c <= 4; c++) {
            pp_image *in = th_random_image16(ctx, sizes[z][0], sizes[z][1], c, (uint32_t)(z * 3 + c));
            for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
                pp_image *ref = NULL, *out = NULL;
                cr_assert_eq(setenv("PIXPOOL_RESIZE_ISA", "scalar", 1), 0);
                pp_status rc = pp_apply(ctx, specs[k], in, &ref);
                unsetenv("PIXPOOL_RESIZE_ISA");
                if (rc == PP_ERR_SPEC) continue;
                cr_assert_eq(rc, PP_OK, "%s", pp_ctx_last_error(ctx));
                for (int v = 0; v < 2; v++) { /* the AVX2 loops, then the best the CPU has */
                    if (v == 0) cr_assert_eq(setenv("PIXPOOL_RESIZE_ISA", "avx2", 1), 0);
                    out = apply_ok(ctx, specs[k], in);
                    unsetenv("PIXPOOL_RESIZE_ISA");
                    cr_assert(th_same(ref, out), "%s on %dx%dx%d: the %s loops differ", specs[k],
                              sizes[z][0], sizes[z][1], c, v == 0 ? "AVX2" : "best vector");
                    compared++;
                    pp_image_free(out);
                }
                pp_image_free(ref);
            }
            pp_image_free(in);
        }
    cr_log_info("%d results compared", compared);
    pp_ctx_free(ctx);
}
