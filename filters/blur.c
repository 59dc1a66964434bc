/*
 * blur.c - smoothing filters: box, gaussian, unsharp.
 *
 * Border: edges extended (the nearest pixel inside the image is used). Alpha: these filters run
 * on premultiplied colour (see pipeline.c). Definitions, per channel:
 *
 *   box:radius=r        mean over the (2r+1)^2 window, rounded half up:
 *                       floor((2 S + n) / (2 n)), S the window sum, n = (2r+1)^2.
 *                       Running sums: cost per pixel independent of r.
 *   gaussian:sigma,radius
 *                       separable, normalised, sampled Gaussian g(i) ~ exp(-i^2 / (2 sigma^2)),
 *                       i = -R..R, R = radius or ceil(3 sigma). The taps are quantised to Q14
 *                       integers that sum to exactly 16384 (the centre tap takes the rounding
 *                       remainder). The horizontal pass keeps 8 fractional bits
 *                       (h = (sum w p + 32) >> 6), the vertical pass rounds once at the end
 *                       ((sum w h + 2^21) >> 22). Within 1 level of the exact real-valued blur.
 *   unsharp:sigma,amount,threshold
 *                       g = gaussian(sigma) as above, d = v - g;
 *                       v' = |d| < threshold ? v : clamp(v + round(amount * d)).
 *
 * Both gaussian passes are fused per band: a ring of 2R+1 horizontally filtered rows (16-bit)
 * follows the band down, so each input row is filtered horizontally once per band and the
 * working set is a few rows, not a whole intermediate image.
 */
#include "stencil.h"

#include <math.h>
#include <stdio.h>

#define GAUSS_MAX_R 200
#define CHUNK 512 /* elements processed together so accumulators stay in L1 */

/* ---- gaussian / unsharp ------------------------------------------------------------------- */

typedef struct gauss_params {
    int r;
    int unsharp;
    int threshold;
    int16_t w[2 * GAUSS_MAX_R + 1]; /* Q14, symmetric, sum 16384 */
    int16_t amt[511];               /* round(amount * d) for d = -255..255 */
} gauss_params;

static size_t gauss_scratch(int w, int c, int r)
{
    size_t row = (size_t)w * c;
    return pp_align_up(row * 2) * (size_t)(2 * r + 1) /* ring of Q8 rows */
           + pp_padded_stride(w, c, r)                 /* padded input row */
           + pp_align_up(row);                         /* blurred row (unsharp) */
}

/* Horizontal pass of input row y into the Q8 row h. */
static void gauss_hrow(const gauss_params *p, const pp_view *src, int y, uint8_t *pad,
                       uint16_t *h)
{
    const int c = src->channels, r = p->r;
    const size_t n = (size_t)src->width * c;
    pp_pad_row(src, y, r, pad);
    const int16_t *w = p->w;
    for (size_t i0 = 0; i0 < n; i0 += CHUNK) {
        size_t len = n - i0 < CHUNK ? n - i0 : CHUNK;
        uint32_t acc[CHUNK];
        const uint8_t *base = pad + i0;
        const uint32_t wc = (uint32_t)w[r];
        const uint8_t *mid = base + (size_t)r * c;
        for (size_t i = 0; i < len; i++) acc[i] = wc * mid[i];
        for (int k = 0; k < r; k++) {
            const uint32_t wk = (uint32_t)w[k];
            const uint8_t *a = base + (size_t)k * c, *b = base + (size_t)(2 * r - k) * c;
            for (size_t i = 0; i < len; i++) acc[i] += wk * (uint32_t)(a[i] + b[i]);
        }
        for (size_t i = 0; i < len; i++) h[i0 + i] = (uint16_t)((acc[i] + 32u) >> 6);
    }
}

static void gauss_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const gauss_params *p = PP_STAGE_PARAMS(gauss_params, s);
    const int c = s->src.channels, w = s->src.width, r = p->r, nr = 2 * r + 1;
    const size_t n = (size_t)w * c;
    const size_t hstride = pp_align_up(n * 2) / 2; /* in uint16 */
    uint16_t *ring = scratch;
    uint8_t *pad = (uint8_t *)scratch + hstride * 2 * (size_t)nr;
    uint8_t *blur = pad + pp_padded_stride(w, c, r);

    for (int yy = y0 - r; yy < y0 + r; yy++)
        gauss_hrow(p, &s->src, yy, pad, ring + (size_t)((yy - y0 + r) % nr) * hstride);
    for (int y = y0; y < y1; y++) {
        int yn = y + r;
        gauss_hrow(p, &s->src, yn, pad, ring + (size_t)((yn - y0 + r) % nr) * hstride);
        uint8_t *out = pp_row(&s->dst, y);
        uint8_t *dstrow = p->unsharp ? blur : out;
        const uint16_t *rows[2 * GAUSS_MAX_R + 1];
        for (int k = 0; k < nr; k++) rows[k] = ring + (size_t)((y - r + k - y0 + r) % nr) * hstride;
        for (size_t i0 = 0; i0 < n; i0 += CHUNK) {
            size_t len = n - i0 < CHUNK ? n - i0 : CHUNK;
            uint32_t acc[CHUNK];
            const uint32_t wc = (uint32_t)p->w[r];
            const uint16_t *mid = rows[r] + i0;
            for (size_t i = 0; i < len; i++) acc[i] = wc * mid[i];
            for (int k = 0; k < r; k++) {
                const uint32_t wk = (uint32_t)p->w[k];
                const uint16_t *a = rows[k] + i0, *b = rows[2 * r - k] + i0;
                for (size_t i = 0; i < len; i++) acc[i] += wk * (uint32_t)(a[i] + b[i]);
            }
            for (size_t i = 0; i < len; i++) dstrow[i0 + i] = (uint8_t)((acc[i] + (1u << 21)) >> 22);
        }
        if (p->unsharp) {
            const uint8_t *in = pp_row(&s->src, y);
            for (size_t i = 0; i < n; i++) {
                int d = (int)in[i] - (int)blur[i];
                int ad = d < 0 ? -d : d;
                out[i] = ad < p->threshold ? in[i] : pp_clamp_int(in[i] + p->amt[d + 255]);
            }
        }
    }
}

static pp_status gauss_setup(double sigma, int radius, gauss_params *gp, char *err, size_t errlen)
{
    int r = radius > 0 ? radius : (int)ceil(3.0 * sigma);
    if (r > GAUSS_MAX_R) {
        snprintf(err, errlen, "radius %d is larger than the maximum %d", r, GAUSS_MAX_R);
        return PP_ERR_SPEC;
    }
    if (r < 1) r = 1;
    double g[2 * GAUSS_MAX_R + 1], sum = 0;
    for (int i = -r; i <= r; i++) sum += g[i + r] = exp(-(double)i * i / (2.0 * sigma * sigma));
    int total = 0;
    for (int i = 0; i < 2 * r + 1; i++) {
        gp->w[i] = (int16_t)lround(g[i] / sum * 16384.0);
        total += gp->w[i];
    }
    gp->w[r] = (int16_t)(gp->w[r] + (16384 - total));
    gp->r = r;
    return PP_OK;
}

static pp_status plan_gaussian(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                               size_t errlen)
{
    plan->out = *in;
    pp_stage_tmpl *st = pp_plan_add_stage(plan, gauss_kernel, PP_BUF_IN, PP_BUF_OUT);
    gauss_params *gp = PP_PARAMS_OF(gauss_params, st);
    pp_status s = gauss_setup(p->v[0], (int)p->v[1], gp, err, errlen);
    if (s) return s;
    st->scratch_bytes = gauss_scratch(in->width, in->channels, gp->r);
    st->min_band_rows = 2 * gp->r;
    return PP_OK;
}

static pp_status plan_unsharp(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                              size_t errlen)
{
    plan->out = *in;
    pp_stage_tmpl *st = pp_plan_add_stage(plan, gauss_kernel, PP_BUF_IN, PP_BUF_OUT);
    gauss_params *gp = PP_PARAMS_OF(gauss_params, st);
    pp_status s = gauss_setup(p->v[0], 0, gp, err, errlen);
    if (s) return s;
    gp->unsharp = 1;
    gp->threshold = (int)p->v[2];
    for (int d = -255; d <= 255; d++) {
        double v = round(p->v[1] * d); /* round() is half away from zero */
        gp->amt[d + 255] = (int16_t)(v > 510 ? 510 : v < -510 ? -510 : v);
    }
    st->scratch_bytes = gauss_scratch(in->width, in->channels, gp->r);
    st->min_band_rows = 2 * gp->r;
    return PP_OK;
}

/* ---- box ---------------------------------------------------------------------------------- */

typedef struct box_params {
    int r;
    uint64_t inv; /* ceil(2^48 / (2n)) */
    uint32_t n;
} box_params;

static void box_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const box_params *p = PP_STAGE_PARAMS(box_params, s);
    const int c = s->src.channels, w = s->src.width, h = s->src.height, r = p->r;
    const size_t n = (size_t)w * c;
    uint32_t *col = scratch;                       /* column sums, w*c */
    uint32_t *pcol = col + pp_align_up(n * 4) / 4; /* padded column sums, (w+2r)*c */
    for (size_t i = 0; i < n; i++) col[i] = 0;
    for (int yy = y0 - r; yy <= y0 + r; yy++) {
        const uint8_t *in = pp_row(&s->src, pp_clampi(yy, 0, h - 1));
        for (size_t i = 0; i < n; i++) col[i] += in[i];
    }
    const uint32_t nn = p->n;
    for (int y = y0; y < y1; y++) {
        if (y > y0) {
            const uint8_t *add = pp_row(&s->src, pp_clampi(y + r, 0, h - 1));
            const uint8_t *sub = pp_row(&s->src, pp_clampi(y - r - 1, 0, h - 1));
            for (size_t i = 0; i < n; i++) col[i] += (uint32_t)add[i] - sub[i];
        }
        /* pad the column sums with replicated edge columns */
        for (int i = 0; i < r; i++)
            for (int k = 0; k < c; k++) {
                pcol[i * c + k] = col[k];
                pcol[(size_t)(r + w + i) * c + k] = col[(size_t)(w - 1) * c + k];
            }
        memcpy(pcol + (size_t)r * c, col, n * 4);
        uint8_t *out = pp_row(&s->dst, y);
        for (int k = 0; k < c; k++) {
            uint32_t sum = 0;
            for (int i = 0; i < 2 * r + 1; i++) sum += pcol[i * c + k];
            for (int x = 0;; x++) {
                out[(size_t)x * c + k] = (uint8_t)(((uint64_t)(2 * sum + nn) * p->inv) >> 48);
                if (x + 1 == w) break;
                sum += pcol[(size_t)(x + 2 * r + 1) * c + k] - pcol[(size_t)x * c + k];
            }
        }
    }
}

static pp_status plan_box(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                          size_t errlen)
{
    (void)err;
    (void)errlen;
    plan->out = *in;
    pp_stage_tmpl *st = pp_plan_add_stage(plan, box_kernel, PP_BUF_IN, PP_BUF_OUT);
    box_params *bp = PP_PARAMS_OF(box_params, st);
    bp->r = (int)p->v[0];
    bp->n = (uint32_t)(2 * bp->r + 1) * (uint32_t)(2 * bp->r + 1);
    uint64_t d = 2 * (uint64_t)bp->n;
    bp->inv = (((uint64_t)1 << 48) + d - 1) / d;
    size_t nbytes = (size_t)in->width * in->channels * 4;
    st->scratch_bytes = pp_align_up(nbytes) + pp_align_up((size_t)(in->width + 2 * bp->r) * in->channels * 4);
    st->min_band_rows = 2 * bp->r;
    return PP_OK;
}

/* ---- registry entries --------------------------------------------------------------------- */

static const pp_param_info p_box[] = {
    {"radius", PP_PARAM_INT, 1, 0, 500, NULL, 0, "window is (2 radius + 1) squared"}};
static const pp_param_info p_gauss[] = {
    {"sigma", PP_PARAM_FLOAT, 1, 0.1, 60, NULL, 0, "standard deviation in pixels"},
    {"radius", PP_PARAM_INT, 0, 0, GAUSS_MAX_R, NULL, 0, "taps each side; 0 = ceil(3 sigma)"}};
static const pp_param_info p_unsharp[] = {
    {"sigma", PP_PARAM_FLOAT, 1, 0.1, 60, NULL, 0, "blur standard deviation"},
    {"amount", PP_PARAM_FLOAT, 1, 0, 20, NULL, 0, "strength of the added detail"},
    {"threshold", PP_PARAM_INT, 0, 0, 255, NULL, 0, "leave pixels with |v - blur| below it"}};

#define NP(a) a, (int)(sizeof(a) / sizeof(a[0]))
static const pp_filter_def defs[] = {
    {{"box", "spatial", "mean over a square window",
      "Mean over the (2r+1)^2 window, rounded half up; edges extended; premultiplied alpha. "
      "Cost per pixel independent of r (running sums).", NP(p_box)},
     PP_ALPHA_PREMUL, plan_box},
    {{"gaussian", "spatial", "Gaussian blur",
      "Separable normalised sampled Gaussian, taps i = -R..R (R = radius or ceil(3 sigma)), "
      "Q14 fixed-point taps summing to 1, 8 fractional bits between the passes, rounded once; "
      "edges extended; premultiplied alpha.", NP(p_gauss)},
     PP_ALPHA_PREMUL, plan_gaussian},
    {{"unsharp", "spatial", "unsharp mask",
      "d = v - gaussian(sigma); v' = |d| < threshold ? v : v + round(amount d), clamped; "
      "edges extended; premultiplied alpha.", NP(p_unsharp)},
     PP_ALPHA_PREMUL, plan_unsharp},
};

const pp_filter_family pp_family_blur = {defs, (int)(sizeof defs / sizeof defs[0])};
