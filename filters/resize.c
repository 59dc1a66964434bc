/*
 * resize.c - resampling to a new size: resize:width,height | resize:scale, method.
 *
 * Target size: width and height as given; with only one of them the other keeps the aspect
 * ratio, round(H * width / W) or round(W * height / H) (halves up, at least 1); scale=s gives
 * round(W s) x round(H s). Giving both forms, neither, a zero size, a side over 65535 or more
 * than 2^31 pixels is an error. The sampling ratio of each axis is the real one, in/out.
 *
 * method=bilinear|bicubic|lanczos3 (default lanczos3): Pillow's ImagingResample convolution.
 * For an axis of input size n and output size m, s = n / m (double precision):
 *   kernel K: bilinear 1 - |t| (support 1); bicubic a = -0.5 (support 2):
 *             (a+2)|t|^3 - (a+3)|t|^2 + 1 for |t| < 1, a|t|^3 - 5a|t|^2 + 8a|t| - 4a for |t| < 2;
 *             lanczos3 sinc(t) sinc(t/3) for |t| < 3 (support 3), sinc(t) = sin(pi t) / (pi t).
 *   antialiasing: f = max(1, s), support S = support(K) * f (the kernel widens when shrinking).
 *   output i (0-based) is centred at c = (i + 0.5) s in input coordinates (input pixel j spans
 *   [j, j+1), i.e. pixel centres map as (i + 0.5) / scale - 0.5);
 *   it reads the inputs j in [max(0, floor(c - S + 0.5)), min(n, floor(c + S + 0.5))), taps
 *   outside the image are dropped (not replicated: Pillow's edge rule),
 *   with weights K((j + 0.5 - c) / f) normalised to sum 1.
 *   Fixed point: the normalised weights are quantised to Q14 by rounding their running sums
 *   (w_j = round(16384 C_j) - round(16384 C_{j-1}), C the cumulative sum), so they sum to
 *   exactly 16384 and a flat image stays flat. The horizontal pass runs first, from 8-bit input
 *   to an intermediate with 7 fractional bits, rounded half up and clamped to [0, 255] (as
 *   Pillow clamps its 8-bit intermediate); the vertical pass rounds once, half up, and clamps.
 *   An axis whose size does not change is copied exactly.
 * method=nearest: Pillow's NEAREST bit for bit: input column floor(t_i), t_0 = s / 2 and
 *   t_{i+1} = t_i + s accumulated in IEEE double (about floor((i + 0.5) s)); rows likewise.
 * Alpha: premultiplied (pipeline.c), as Pillow does for RGBA.
 * Accuracy (tests/test_reference.c): within 1 level of Pillow for all three kernels, enlarging
 * and shrinking (mean 0.1-0.2, from Pillow's 8-bit intermediate); within 0.51 of the exact
 * real-valued resampling, where Pillow is within about 1.2. nearest is identical to Pillow.
 *
 * Stages: a first `serial` stage computes the per-column and per-row tap tables (window start,
 * tap count, Q14 weights) into the plan's partials block, once, so every band and every worker
 * uses the same numbers; the second stage computes a band of output rows. It keeps a ring of
 * horizontally filtered input rows (as many as the longest vertical window) that follows the
 * band down the image: each input row is filtered horizontally once per band, and each output
 * row is a vertical weighted sum of ring rows over contiguous 16-bit values. A band recomputes
 * only its own halo rows, from the same tables, so band cuts never change the result.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_SIDE 65535
#define MAX_PIXELS ((int64_t)1 << 31)
#define WBITS 14 /* weight precision */
#define HBITS 7  /* fractional bits of the intermediate */
#define CHUNK 512

enum { M_NEAREST = 0, M_BILINEAR = 1, M_BICUBIC = 2, M_LANCZOS3 = 3 };

/* Where the tables live in the partials block (byte offsets). */
typedef struct resize_params {
    int method;
    int kx, ky;          /* longest window per axis (the stride of the weight tables) */
    int ring;            /* rows in the ring of horizontally filtered rows */
    size_t xb, xw, yb, yw; /* int32 pairs (start, count) / int16 weights; nearest: int32 index */
    size_t hstride;      /* bytes per ring row */
} resize_params;

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

/* ---- kernels of the continuous filters ---------------------------------------------------- */

static double k_bilinear(double t)
{
    t = fabs(t);
    return t < 1.0 ? 1.0 - t : 0.0;
}

static double k_bicubic(double t)
{
    const double a = -0.5;
    t = fabs(t);
    if (t < 1.0) return ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0;
    if (t < 2.0) return (((t - 5.0) * t + 8.0) * t - 4.0) * a;
    return 0.0;
}

static double sinc(double t)
{
    if (t == 0.0) return 1.0;
    t *= M_PI;
    return sin(t) / t;
}

static double k_lanczos3(double t)
{
    if (t <= -3.0 || t >= 3.0) return 0.0;
    return sinc(t) * sinc(t / 3.0);
}

static double support_of(int method)
{
    return method == M_BILINEAR ? 1.0 : method == M_BICUBIC ? 2.0 : 3.0;
}

/* Longest window of an axis n -> m. */
static int window_of(int method, int n, int m)
{
    if (n == m) return 1;
    double s = (double)n / m, f = s > 1.0 ? s : 1.0;
    double k = ceil(support_of(method) * f) * 2.0 + 1.0;
    return k > n ? n : (int)k;
}

/* ---- stage 1: tap tables ------------------------------------------------------------------ */

/* Tap table of one axis n -> m: bounds[2i] = first input, bounds[2i+1] = count, weights at
   w[i * kmax]; k is scratch for kmax doubles. */
static void axis_taps(int method, int n, int m, int kmax, int32_t *bounds, int16_t *w, double *k)
{
    double (*K)(double) = method == M_BILINEAR ? k_bilinear
                          : method == M_BICUBIC ? k_bicubic : k_lanczos3;
    const double s = (double)n / m, f = s > 1.0 ? s : 1.0, support = support_of(method) * f;
    for (int i = 0; i < m; i++) {
        int16_t *wi = w + (size_t)i * kmax;
        if (n == m) { /* unchanged axis: an exact copy */
            bounds[2 * i] = i;
            bounds[2 * i + 1] = 1;
            wi[0] = 1 << WBITS;
            continue;
        }
        const double c = (i + 0.5) * s;
        int j0 = (int)floor(c - support + 0.5), j1 = (int)floor(c + support + 0.5);
        if (j0 < 0) j0 = 0;
        if (j1 > n) j1 = n;
        if (j1 - j0 > kmax) j1 = j0 + kmax; /* cannot happen; keeps the table in bounds */
        int cnt = j1 - j0;
        double total = 0.0;
        for (int j = 0; j < cnt; j++) total += k[j] = K((j + j0 + 0.5 - c) / f);
        if (cnt <= 0 || total == 0.0) { /* degenerate window: take the nearest pixel */
            int jn = (int)floor(c);
            bounds[2 * i] = jn < 0 ? 0 : jn >= n ? n - 1 : jn;
            bounds[2 * i + 1] = 1;
            wi[0] = 1 << WBITS;
            continue;
        }
        double cum = 0.0;
        long prev = 0;
        for (int j = 0; j < cnt; j++) {
            cum += k[j] / total;
            long q = j == cnt - 1 ? 1L << WBITS : lround(cum * (1 << WBITS));
            wi[j] = (int16_t)(q - prev);
            prev = q;
        }
        bounds[2 * i] = j0;
        bounds[2 * i + 1] = cnt;
    }
}

/* Pillow's NEAREST: t accumulates s in double from s / 2. */
static void axis_nearest(int n, int m, int32_t *idx)
{
    const double s = (double)n / m;
    double t = s * 0.5;
    for (int i = 0; i < m; i++) {
        int j = t < 0.0 ? 0 : (int)t;
        idx[i] = j >= n ? n - 1 : j;
        t += s;
    }
}

static void tables_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)y0;
    (void)y1;
    (void)band;
    const resize_params *p = PP_STAGE_PARAMS(resize_params, s);
    uint8_t *base = s->partials;
    const int W = s->src.width, H = s->src.height, tw = s->dst.width, th = s->dst.height;
    if (p->method == M_NEAREST) {
        axis_nearest(W, tw, (int32_t *)(void *)(base + p->xb));
        axis_nearest(H, th, (int32_t *)(void *)(base + p->yb));
        return;
    }
    axis_taps(p->method, W, tw, p->kx, (int32_t *)(void *)(base + p->xb),
              (int16_t *)(void *)(base + p->xw), scratch);
    axis_taps(p->method, H, th, p->ky, (int32_t *)(void *)(base + p->yb),
              (int16_t *)(void *)(base + p->yw), scratch);
}

/* ---- stage 2: the resampling itself ------------------------------------------------------- */

/* Horizontal pass of one input row into Q7 values clamped to [0, 255 << 7]. */
static inline __attribute__((always_inline)) void
hpass(const uint8_t *in, int tw, const int32_t *xb, const int16_t *xw, int kx, int16_t *h,
      const int C)
{
    for (int x = 0; x < tw; x++) {
        const int j0 = xb[2 * x], cnt = xb[2 * x + 1];
        const int16_t *w = xw + (size_t)x * kx;
        const uint8_t *px = in + (size_t)j0 * C;
        int32_t acc[4] = {0, 0, 0, 0};
        for (int j = 0; j < cnt; j++)
            for (int k = 0; k < C; k++) acc[k] += (int32_t)w[j] * px[j * C + k];
        for (int k = 0; k < C; k++) {
            int32_t v = acc[k] <= 0 ? 0 : (acc[k] + (1 << (WBITS - HBITS - 1))) >> (WBITS - HBITS);
            h[(size_t)x * C + k] = (int16_t)(v > (255 << HBITS) ? (255 << HBITS) : v);
        }
    }
}

static void hpass_any(const uint8_t *in, int tw, const int32_t *xb, const int16_t *xw, int kx,
                      int16_t *h, int c)
{
    switch (c) {
    case 1: hpass(in, tw, xb, xw, kx, h, 1); break;
    case 2: hpass(in, tw, xb, xw, kx, h, 2); break;
    case 3: hpass(in, tw, xb, xw, kx, h, 3); break;
    default: hpass(in, tw, xb, xw, kx, h, 4); break;
    }
}

static void resample_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const resize_params *p = PP_STAGE_PARAMS(resize_params, s);
    const uint8_t *base = s->partials;
    const int32_t *xb = (const int32_t *)(const void *)(base + p->xb);
    const int16_t *xw = (const int16_t *)(const void *)(base + p->xw);
    const int32_t *yb = (const int32_t *)(const void *)(base + p->yb);
    const int16_t *yw = (const int16_t *)(const void *)(base + p->yw);
    const int c = s->src.channels, tw = s->dst.width, R = p->ring;
    const size_t n = (size_t)tw * c;
    uint8_t *ring = scratch;
    int hi = -1; /* ring holds the filtered input rows [hi - R, hi) that were computed */
    for (int y = y0; y < y1; y++) {
        const int j0 = yb[2 * y], cnt = yb[2 * y + 1];
        int from = hi < j0 ? j0 : hi;
        for (int j = from; j < j0 + cnt; j++)
            hpass_any(pp_row(&s->src, j), tw, xb, xw, p->kx,
                      (int16_t *)(void *)(ring + (size_t)(j % R) * p->hstride), c);
        if (j0 + cnt > hi) hi = j0 + cnt;
        const int16_t *w = yw + (size_t)y * p->ky;
        uint8_t *out = pp_row(&s->dst, y);
        for (size_t i0 = 0; i0 < n; i0 += CHUNK) {
            const size_t len = n - i0 < CHUNK ? n - i0 : CHUNK;
            int32_t acc[CHUNK];
            for (size_t i = 0; i < len; i++) acc[i] = 1 << (WBITS + HBITS - 1);
            for (int j = 0; j < cnt; j++) {
                const uint8_t *slot = ring + (size_t)((j0 + j) % R) * p->hstride;
                const int16_t *row = (const int16_t *)(const void *)slot + i0;
                const int32_t wj = w[j];
                for (size_t i = 0; i < len; i++) acc[i] += wj * row[i];
            }
            for (size_t i = 0; i < len; i++) {
                int32_t v = acc[i] < 0 ? 0 : acc[i] >> (WBITS + HBITS);
                out[i0 + i] = (uint8_t)(v > 255 ? 255 : v);
            }
        }
    }
}

static void nearest_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const resize_params *p = PP_STAGE_PARAMS(resize_params, s);
    const int32_t *xi = (const int32_t *)(const void *)(s->partials + p->xb);
    const int32_t *yi = (const int32_t *)(const void *)(s->partials + p->yb);
    const int c = s->src.channels, tw = s->dst.width;
    for (int y = y0; y < y1; y++) {
        const uint8_t *in = pp_row(&s->src, yi[y]);
        uint8_t *out = pp_row(&s->dst, y);
        switch (c) {
        case 1:
            for (int x = 0; x < tw; x++) out[x] = in[xi[x]];
            break;
        case 2:
            for (int x = 0; x < tw; x++) memcpy(out + 2 * x, in + (size_t)xi[x] * 2, 2);
            break;
        case 3:
            for (int x = 0; x < tw; x++) memcpy(out + 3 * x, in + (size_t)xi[x] * 3, 3);
            break;
        default:
            for (int x = 0; x < tw; x++) memcpy(out + 4 * x, in + (size_t)xi[x] * 4, 4);
            break;
        }
    }
}

/* ---- plan --------------------------------------------------------------------------------- */

/* round(a * b / d) for positive values, halves up, in 64-bit integers. */
static int64_t muldiv_round(int64_t a, int64_t b, int64_t d) { return (2 * a * b + d) / (2 * d); }

static pp_status target_size(const pp_params *p, const pp_geom *in, int64_t *tw, int64_t *th,
                             char *err, size_t errlen)
{
    const bool has_w = p->set[0], has_h = p->set[1], has_s = p->set[2];
    if (has_s && (has_w || has_h)) {
        snprintf(err, errlen, "give either width/height or scale, not both");
        return PP_ERR_SPEC;
    }
    if (!has_s && !has_w && !has_h) {
        snprintf(err, errlen, "needs a target size: width=, height= (one keeps the aspect ratio) "
                              "or scale=");
        return PP_ERR_SPEC;
    }
    if (has_s) {
        const double sc = p->v[2];
        const double fw = floor(in->width * sc + 0.5), fh = floor(in->height * sc + 0.5);
        if (!(fw >= 1 && fh >= 1)) {
            snprintf(err, errlen, "scale=%g turns the %dx%d image into %.0fx%.0f pixels", sc,
                     in->width, in->height, fw, fh);
            return PP_ERR_SPEC;
        }
        *tw = fw > 1e12 ? (int64_t)1e12 : (int64_t)fw;
        *th = fh > 1e12 ? (int64_t)1e12 : (int64_t)fh;
    } else {
        const int64_t w = (int64_t)p->v[0], h = (int64_t)p->v[1];
        if ((has_w && w < 1) || (has_h && h < 1)) {
            snprintf(err, errlen, "the target %s must be at least 1",
                     has_w && w < 1 ? "width" : "height");
            return PP_ERR_SPEC;
        }
        *tw = has_w ? w : muldiv_round(in->width, h, in->height);
        *th = has_h ? h : muldiv_round(in->height, w, in->width);
        if (*tw < 1) *tw = 1;
        if (*th < 1) *th = 1;
    }
    if (*tw > MAX_SIDE || *th > MAX_SIDE || *tw * *th > MAX_PIXELS) {
        snprintf(err, errlen, "target %lldx%lld is too large (at most %d per side and 2^31 pixels)",
                 (long long)*tw, (long long)*th, MAX_SIDE);
        return PP_ERR_SPEC;
    }
    return PP_OK;
}

static pp_status plan_resize(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                             size_t errlen)
{
    int64_t tw, th;
    pp_status st = target_size(p, in, &tw, &th, err, errlen);
    if (st) return st;
    plan->out = *in;
    plan->out.width = (int)tw;
    plan->out.height = (int)th;

    resize_params rp;
    memset(&rp, 0, sizeof rp);
    rp.method = (int)p->v[3];
    if (rp.method == M_NEAREST) {
        rp.xb = 0;
        rp.yb = align64((size_t)tw * 4);
        plan->partial_bytes = rp.yb + align64((size_t)th * 4);
    } else {
        rp.kx = window_of(rp.method, in->width, (int)tw);
        rp.ky = window_of(rp.method, in->height, (int)th);
        rp.ring = rp.ky;
        rp.hstride = align64((size_t)tw * in->channels * sizeof(int16_t));
        rp.xb = 0;
        rp.xw = align64((size_t)tw * 8);
        rp.yb = rp.xw + align64((size_t)tw * rp.kx * sizeof(int16_t));
        rp.yw = rp.yb + align64((size_t)th * 8);
        plan->partial_bytes = rp.yw + align64((size_t)th * rp.ky * sizeof(int16_t));
    }

    pp_stage_tmpl *t = pp_plan_add_stage(plan, tables_kernel, PP_BUF_IN, PP_BUF_OUT);
    t->rows = 1;
    t->serial = 1;
    t->scratch_bytes =
        rp.method == M_NEAREST ? 0 : (size_t)(rp.kx > rp.ky ? rp.kx : rp.ky) * sizeof(double);
    memcpy(t->params, &rp, sizeof rp);

    t = pp_plan_add_stage(plan, rp.method == M_NEAREST ? nearest_kernel : resample_kernel,
                          PP_BUF_IN, PP_BUF_OUT);
    memcpy(t->params, &rp, sizeof rp);
    if (rp.method != M_NEAREST) {
        t->scratch_bytes = rp.hstride * (size_t)rp.ring;
        t->min_band_rows = 16;
    }
    return PP_OK;
}

/* ---- registry entry ----------------------------------------------------------------------- */

static const char *const methods[] = {"nearest", "bilinear", "bicubic", "lanczos3", NULL};

static const pp_param_info p_resize[] = {
    /* required = 2: "one of a group": width and/or height, or scale */
    {"width", PP_PARAM_INT, 0, 0, 1e9, NULL, 2,
     "target width; alone, the height keeps the aspect ratio (or give scale)"},
    {"height", PP_PARAM_INT, 0, 0, 1e9, NULL, 2,
     "target height; alone, the width keeps the aspect ratio (or give scale)"},
    {"scale", PP_PARAM_FLOAT, 1, 1e-6, 1e6, NULL, 2,
     "factor for both sides, instead of width/height"},
    {"method", PP_PARAM_ENUM, M_LANCZOS3, 0, 3, methods, 0, "resampling kernel"}};

#define NP(a) a, (int)(sizeof(a) / sizeof(a[0]))
static const pp_filter_def defs[] = {
    {{"resize", "geometry", "resample to a new size (antialiased)",
      "Pillow's resize. Size: width and/or height (one alone keeps the aspect ratio, rounded) or "
      "scale (round(W s) x round(H s)); at most 65535 per side and 2^31 pixels. "
      "bilinear/bicubic (a = -0.5)/lanczos3: separable, horizontal pass first; output i of an "
      "axis n -> m is centred at c = (i + 0.5) n/m, reads inputs j with |j + 0.5 - c| < S "
      "(S = support * max(1, n/m), widened when shrinking), taps outside the image dropped, "
      "weights K((j + 0.5 - c) / max(1, n/m)) normalised and quantised to Q14 by rounding their "
      "running sum (exact sum 1); intermediate with 7 fractional bits clamped to [0, 255]; "
      "results rounded half up and clamped; an axis of unchanged size is copied. "
      "nearest: in = floor(t), t = (i + 0.5) n/m accumulated in double as Pillow's NEAREST. "
      "Premultiplied alpha.", NP(p_resize)},
     PP_ALPHA_PREMUL, plan_resize},
};

_Static_assert(sizeof(resize_params) <= PP_PARAM_BYTES, "resize parameters fit the blob");

const pp_filter_family pp_family_resize = {defs, (int)(sizeof defs / sizeof defs[0])};
