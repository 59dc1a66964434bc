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

static void lut_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const lut_params *p = PP_STAGE_PARAMS(lut_params, s);
    const int c = s->src.channels, w = s->src.width;
    for (int y = y0; y < y1; y++) {
        const uint8_t *in = pp_row(&s->src, y);
        uint8_t *out = pp_row(&s->dst, y);
        if (!pp_has_alpha(c)) {
            const size_t n = (size_t)w * (size_t)c;
            for (size_t i = 0; i < n; i++) out[i] = p->lut[in[i]];
        } else {
            const int cc = c - 1;
            for (int x = 0; x < w; x++) {
                for (int k = 0; k < cc; k++) out[x * c + k] = p->lut[in[x * c + k]];
                out[x * c + cc] = in[x * c + cc];
            }
        }
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

static void gray_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const int c = s->src.channels, w = s->src.width;
    for (int y = y0; y < y1; y++) {
        const uint8_t *in = pp_row(&s->src, y);
        uint8_t *out = pp_row(&s->dst, y);
        if (c == 3) {
            for (int x = 0; x < w; x++)
                out[x] = (uint8_t)((299u * in[3 * x] + 587u * in[3 * x + 1] +
                                    114u * in[3 * x + 2] + 500u) / 1000u);
        } else if (c == 4) {
            for (int x = 0; x < w; x++) {
                out[2 * x] = (uint8_t)((299u * in[4 * x] + 587u * in[4 * x + 1] +
                                        114u * in[4 * x + 2] + 500u) / 1000u);
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
