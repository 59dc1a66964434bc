/*
 * point.c - colour (point) filters: every output pixel depends only on the same input pixel.
 *
 * Definitions (v is a colour channel value 0..255; alpha is always copied unchanged):
 *   invert            v' = 255 - v
 *   brightness:delta  v' = v + delta
 *   contrast:factor   v' = (v - 128) * factor + 128
 *   linear:a,b        v' = a * v + b
 *   gamma:g           v' = 255 * (v / 255)^(1 / g)
 *   threshold:t       v' = v >= t ? 255 : 0
 *   posterize:levels  v' = round(round(v * (L - 1) / 255) * 255 / (L - 1))
 *   grayscale         Y = 0.299 R + 0.587 G + 0.114 B; output 1 channel (2 with alpha)
 *   sepia             R' = .393R + .769G + .189B, G' = .349R + .686G + .168B,
 *                     B' = .272R + .534G + .131B; gray input is read as R = G = B
 * All results are rounded to nearest, halves away from zero, then clamped to 0..255.
 * The per-value operations are evaluated once per value into a 256-entry table in plan(), so the
 * kernel is one table look-up per channel; grayscale and sepia use exact integer arithmetic in
 * thousandths ((299 R + 587 G + 114 B + 500) / 1000 is exactly the rounded definition).
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct lut_params {
    uint8_t lut[256];
} lut_params;

/* out[i] = lut[in[i]] over n bytes; the AVX-512 VBMI version looks 64 bytes up at once with two
   two-table byte permutes (vpermi2b) and a blend on the top bit. */
static void lut_bytes_scalar(const uint8_t *lut, const uint8_t *in, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = lut[in[i]];
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static void
lut_bytes_vbmi(const uint8_t *lut, const uint8_t *in, uint8_t *out, size_t n)
{
    const __m512i t0 = _mm512_loadu_si512(lut), t1 = _mm512_loadu_si512(lut + 64);
    const __m512i t2 = _mm512_loadu_si512(lut + 128), t3 = _mm512_loadu_si512(lut + 192);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i v = _mm512_loadu_si512(in + i);
        __m512i lo = _mm512_permutex2var_epi8(t0, v, t1), hi = _mm512_permutex2var_epi8(t2, v, t3);
        _mm512_storeu_si512(out + i, _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), lo, hi));
    }
    lut_bytes_scalar(lut, in + i, out + i, n - i);
}
#endif

typedef void (*lut_fn)(const uint8_t *, const uint8_t *, uint8_t *, size_t);

static lut_fn pick_lut(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bw"))
        return lut_bytes_vbmi;
#endif
    return lut_bytes_scalar;
}

static void lut_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const lut_params *p = PP_STAGE_PARAMS(lut_params, s);
    const int c = s->src.channels, w = s->src.width;
    const size_t n = (size_t)w * (size_t)c;
    const lut_fn lut = pick_lut();
    for (int y = y0; y < y1; y++) {
        const uint8_t *in = pp_row(&s->src, y);
        uint8_t *out = pp_row(&s->dst, y);
        lut(p->lut, in, out, n);
        if (pp_has_alpha(c)) /* put alpha back */
            for (int x = 0; x < w; x++) out[x * c + c - 1] = in[x * c + c - 1];
    }
}

typedef double (*value_fn)(double v, const pp_params *p);

static pp_status plan_lut(const pp_params *p, const pp_geom *in, pp_plan *plan, value_fn fn)
{
    plan->out = *in;
    pp_stage_tmpl *st = pp_plan_add_stage(plan, lut_kernel, PP_BUF_IN, PP_BUF_OUT);
    lut_params *lp = PP_PARAMS_OF(lut_params, st);
    for (int v = 0; v < 256; v++) lp->lut[v] = pp_clamp_round(fn((double)v, p));
    return PP_OK;
}

static double f_invert(double v, const pp_params *p) { (void)p; return 255.0 - v; }
static double f_brightness(double v, const pp_params *p) { return v + p->v[0]; }
static double f_contrast(double v, const pp_params *p) { return (v - 128.0) * p->v[0] + 128.0; }
static double f_linear(double v, const pp_params *p) { return p->v[0] * v + p->v[1]; }
static double f_gamma(double v, const pp_params *p) { return 255.0 * pow(v / 255.0, 1.0 / p->v[0]); }
static double f_threshold(double v, const pp_params *p) { return v >= p->v[0] ? 255.0 : 0.0; }
static double f_posterize(double v, const pp_params *p)
{
    double l1 = p->v[0] - 1.0;
    return round(round(v * l1 / 255.0) * 255.0 / l1);
}

#define LUT_PLAN(fname, fn)                                                                    \
    static pp_status fname(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,   \
                           size_t errlen)                                                      \
    {                                                                                          \
        (void)err;                                                                             \
        (void)errlen;                                                                          \
        return plan_lut(p, in, plan, fn);                                                      \
    }
LUT_PLAN(plan_invert, f_invert)
LUT_PLAN(plan_brightness, f_brightness)
LUT_PLAN(plan_contrast, f_contrast)
LUT_PLAN(plan_linear, f_linear)
LUT_PLAN(plan_gamma, f_gamma)
LUT_PLAN(plan_threshold, f_threshold)
LUT_PLAN(plan_posterize, f_posterize)

/* ---- grayscale ---------------------------------------------------------------------------- */

/* round(0.299 R + 0.587 G + 0.114 B) = (299 R + 587 G + 114 B + 500) / 1000 exactly; the
   multiply-shift form below equals it for all 2^24 inputs (checked exhaustively) and vectorises. */
static inline uint8_t luma(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((156763u * r + 307758u * g + 59769u * b + 262142u) >> 19);
}

__attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
static void gray_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const int c = s->src.channels, w = s->src.width;
    for (int y = y0; y < y1; y++) {
        const uint8_t *in = pp_row(&s->src, y);
        uint8_t *out = pp_row(&s->dst, y);
        if (c == 3) {
            for (int x = 0; x < w; x++) out[x] = luma(in[3 * x], in[3 * x + 1], in[3 * x + 2]);
        } else if (c == 4) {
            for (int x = 0; x < w; x++) {
                out[2 * x] = luma(in[4 * x], in[4 * x + 1], in[4 * x + 2]);
                out[2 * x + 1] = in[4 * x + 3];
            }
        } else {
            memcpy(out, in, (size_t)w * (size_t)c);
        }
    }
}

static pp_status plan_grayscale(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                                size_t errlen)
{
    (void)p;
    (void)err;
    (void)errlen;
    plan->out = *in;
    plan->out.channels = pp_has_alpha(in->channels) ? 2 : 1;
    pp_plan_add_stage(plan, gray_kernel, PP_BUF_IN, PP_BUF_OUT);
    return PP_OK;
}

/* ---- sepia -------------------------------------------------------------------------------- */

static void sepia_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const int c = s->src.channels, w = s->src.width, oc = s->dst.channels;
    const int alpha = pp_has_alpha(c);
    for (int y = y0; y < y1; y++) {
        const uint8_t *in = pp_row(&s->src, y);
        uint8_t *out = pp_row(&s->dst, y);
        for (int x = 0; x < w; x++) {
            const uint8_t *px = in + (size_t)x * c;
            unsigned r, g, b;
            if (c >= 3) {
                r = px[0], g = px[1], b = px[2];
            } else {
                r = g = b = px[0];
            }
            unsigned nr = (393u * r + 769u * g + 189u * b + 500u) / 1000u;
            unsigned ng = (349u * r + 686u * g + 168u * b + 500u) / 1000u;
            unsigned nb = (272u * r + 534u * g + 131u * b + 500u) / 1000u;
            uint8_t *o = out + (size_t)x * oc;
            o[0] = (uint8_t)(nr > 255 ? 255 : nr);
            o[1] = (uint8_t)(ng > 255 ? 255 : ng);
            o[2] = (uint8_t)(nb > 255 ? 255 : nb);
            if (alpha) o[3] = px[c - 1];
        }
    }
}

static pp_status plan_sepia(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                            size_t errlen)
{
    (void)p;
    (void)err;
    (void)errlen;
    plan->out = *in;
    plan->out.channels = pp_has_alpha(in->channels) ? 4 : 3;
    pp_plan_add_stage(plan, sepia_kernel, PP_BUF_IN, PP_BUF_OUT);
    return PP_OK;
}

/* ---- registry entries --------------------------------------------------------------------- */

static const pp_param_info p_brightness[] = {
    {"delta", PP_PARAM_FLOAT, 0, -255, 255, NULL, 0, "value added to each colour channel"}};
static const pp_param_info p_contrast[] = {
    {"factor", PP_PARAM_FLOAT, 1, 0, 100, NULL, 0, "contrast factor around 128"}};
static const pp_param_info p_linear[] = {
    {"a", PP_PARAM_FLOAT, 1, -100, 100, NULL, 0, "gain"},
    {"b", PP_PARAM_FLOAT, 0, -255, 255, NULL, 0, "offset"}};
static const pp_param_info p_gamma[] = {
    {"g", PP_PARAM_FLOAT, 1, 0.01, 100, NULL, 0, "gamma; > 1 brightens"}};
static const pp_param_info p_threshold[] = {
    {"t", PP_PARAM_INT, 128, 0, 256, NULL, 0, "values >= t become 255, others 0"}};
static const pp_param_info p_posterize[] = {
    {"levels", PP_PARAM_INT, 4, 2, 256, NULL, 0, "number of levels per channel"}};

#define NP(a) a, (int)(sizeof(a) / sizeof(a[0]))
static const pp_filter_def defs[] = {
    {{"grayscale", "colour", "luma of RGB (Rec. 601 weights)",
      "Y = 0.299 R + 0.587 G + 0.114 B, rounded; output 1 channel (gray+alpha keeps alpha). "
      "Gray input is copied.", NULL, 0}, PP_ALPHA_SELF, plan_grayscale},
    {{"invert", "colour", "negative", "v' = 255 - v on colour channels; alpha unchanged.", NULL, 0},
     PP_ALPHA_SELF, plan_invert},
    {{"brightness", "colour", "add a constant", "v' = v + delta, rounded, clamped; alpha unchanged.",
      NP(p_brightness)}, PP_ALPHA_SELF, plan_brightness},
    {{"contrast", "colour", "scale around mid-gray",
      "v' = (v - 128) * factor + 128, rounded, clamped; alpha unchanged.", NP(p_contrast)},
     PP_ALPHA_SELF, plan_contrast},
    {{"linear", "colour", "gain and offset", "v' = a v + b, rounded, clamped; alpha unchanged.",
      NP(p_linear)}, PP_ALPHA_SELF, plan_linear},
    {{"gamma", "colour", "gamma correction",
      "v' = 255 (v / 255)^(1 / g), rounded, clamped; alpha unchanged.", NP(p_gamma)},
     PP_ALPHA_SELF, plan_gamma},
    {{"threshold", "colour", "binarise each channel", "v' = v >= t ? 255 : 0; alpha unchanged.",
      NP(p_threshold)}, PP_ALPHA_SELF, plan_threshold},
    {{"sepia", "colour", "sepia tone",
      "R' = .393R + .769G + .189B, G' = .349R + .686G + .168B, B' = .272R + .534G + .131B, "
      "rounded, clamped; gray input gives RGB; alpha unchanged.", NULL, 0},
     PP_ALPHA_SELF, plan_sepia},
    {{"posterize", "colour", "reduce to N levels per channel",
      "v' = round(round(v (L-1) / 255) * 255 / (L-1)); alpha unchanged.", NP(p_posterize)},
     PP_ALPHA_SELF, plan_posterize},
};

const pp_filter_family pp_family_point = {defs, (int)(sizeof defs / sizeof defs[0])};
