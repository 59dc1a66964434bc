/*
 * histogram.c - filters defined by whole-image statistics: equalize, normalize.
 *
 * Definitions, per colour channel (R, G, B or gray), with h[v] the number of pixels of the whole
 * image whose channel value is v and n the number of pixels; alpha is copied unchanged (it is
 * neither counted nor changed):
 *
 *   equalize   OpenCV's equalizeHist, bit for bit: i0 = the lowest value with h[i0] > 0.
 *              If h[i0] = n (a flat channel) the channel is left unchanged. Otherwise, in IEEE
 *              single precision as OpenCV computes it,
 *                  scale  = 255.0f / (float)(n - h[i0])
 *                  lut[v] = round_half_even((float)S(v) * scale), clamped to 0..255,
 *              where S(v) = sum of h[j] for i0 < j <= v (so lut[i0] = 0 and lut[255] = 255),
 *              and v' = lut[v].
 *   normalize  min/max stretch: lo, hi = the lowest and highest value present.
 *              If hi = lo the channel is unchanged; otherwise
 *                  v' = round((v - lo) * 255 / (hi - lo)), halves up (exact integer arithmetic).
 *
 * Three stages (DESIGN.md, "reduction"):
 *   1. count: bands of a FIXED height (from the image height only) each count their rows into
 *      a slot of their own in the plan's partials block (slot = band index);
 *   2. combine (serial, one band): adds the slots in band order and writes the look-up tables
 *      after the slots in the partials block;
 *   3. apply: v' = lut[channel][v] per pixel.
 * Counts are exact integers, so the result depends neither on the backend nor on the number of
 * workers; the fixed band height only sets how many slots there are.
 */
#include "lut.h"

#include <math.h>
#include <string.h>

#define SLOT_BYTES (3 * 256 * sizeof(uint64_t)) /* counts of one band, up to 3 channels */
#define MAX_SLOTS 1024

enum { OP_EQUALIZE = 0, OP_NORMALIZE = 1 };

typedef struct hist_params {
    int op;
    int nbands;     /* slots written by the count stage */
    int ncolour;    /* colour channels: 1 or 3 */
    size_t lut_off; /* offset of the tables (ncolour x 256 bytes) in the partials block */
    int fast;       /* pp_lut_fast() */
} hist_params;

/* ---- stage 1: per-band counts ------------------------------------------------------------- */

/* Adds four sets of 32-bit counts (for up to 3 channels) into the band's 64-bit slot. */
static void flush_counts(uint32_t (*t)[3][256], uint64_t *h, int nch)
{
    for (int k = 0; k < nch; k++)
        for (int v = 0; v < 256; v++) {
            h[k * 256 + v] += (uint64_t)t[0][k][v] + t[1][k][v] + t[2][k][v] + t[3][k][v];
            t[0][k][v] = t[1][k][v] = t[2][k][v] = 0;
        }
}

/* Counts with four sets of tables, pixel x into set x % 4: runs of equal values (common in
   photographs) would otherwise chain every increment on the one before through memory. The
   32-bit counts are flushed into the band's slot at least every 2^30 pixels. */
static void count_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    const hist_params *p = PP_STAGE_PARAMS(hist_params, s);
    uint64_t *h = (uint64_t *)(void *)(s->partials + (size_t)band * SLOT_BYTES);
    const int c = s->src.channels, w = s->src.width, nch = p->ncolour;
    uint32_t (*t)[3][256] = scratch; /* 4 sets, 12 KiB (the plan's scratch) */
    memset(h, 0, SLOT_BYTES);
    memset(t, 0, 4 * sizeof *t);
    size_t pending = 0;
    for (int y = y0; y < y1; y++) {
        const uint8_t *in = pp_row(&s->src, y);
        int x = 0;
        if (nch == 1) {
            for (; x + 4 <= w; x += 4) {
                t[0][0][in[(size_t)x * c]]++;
                t[1][0][in[(size_t)(x + 1) * c]]++;
                t[2][0][in[(size_t)(x + 2) * c]]++;
                t[3][0][in[(size_t)(x + 3) * c]]++;
            }
            for (; x < w; x++) t[0][0][in[(size_t)x * c]]++;
        } else {
            for (; x + 4 <= w; x += 4) {
                for (int k = 0; k < 4; k++) {
                    const uint8_t *px = in + (size_t)(x + k) * c;
                    t[k][0][px[0]]++;
                    t[k][1][px[1]]++;
                    t[k][2][px[2]]++;
                }
            }
            for (; x < w; x++) {
                const uint8_t *px = in + (size_t)x * c;
                t[0][0][px[0]]++;
                t[0][1][px[1]]++;
                t[0][2][px[2]]++;
            }
        }
        if ((pending += (size_t)w) >= ((size_t)1 << 30)) {
            flush_counts(t, h, nch);
            pending = 0;
        }
    }
    flush_counts(t, h, nch);
}

/* ---- stage 2: combine the slots into look-up tables --------------------------------------- */

static void equalize_lut(const uint64_t *h, uint64_t n, uint8_t *lut)
{
    int i0 = 0;
    while (i0 < 255 && h[i0] == 0) i0++;
    if (h[i0] == n) { /* flat channel: OpenCV sets every pixel to i0, i.e. leaves it */
        for (int v = 0; v < 256; v++) lut[v] = (uint8_t)v;
        return;
    }
    const float scale = 255.0f / (float)(n - h[i0]);
    uint64_t sum = 0;
    for (int v = 0; v <= i0; v++) lut[v] = 0;
    for (int v = i0 + 1; v < 256; v++) {
        sum += h[v];
        long q = lrintf((float)sum * scale); /* round half to even, as OpenCV's cvRound */
        lut[v] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
    }
}

static void normalize_lut(const uint64_t *h, uint8_t *lut)
{
    int lo = 0, hi = 255;
    while (lo < 255 && h[lo] == 0) lo++;
    while (hi > 0 && h[hi] == 0) hi--;
    if (hi <= lo) {
        for (int v = 0; v < 256; v++) lut[v] = (uint8_t)v;
        return;
    }
    const uint32_t d = (uint32_t)(hi - lo);
    for (int v = 0; v < 256; v++) {
        if (v <= lo) lut[v] = 0;
        else if (v >= hi) lut[v] = 255;
        else lut[v] = (uint8_t)((510u * (uint32_t)(v - lo) + d) / (2u * d));
    }
}

static void combine_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)y0;
    (void)y1;
    (void)band;
    (void)scratch;
    const hist_params *p = PP_STAGE_PARAMS(hist_params, s);
    const uint64_t n = (uint64_t)s->src.width * (uint64_t)s->src.height;
    uint8_t *luts = s->partials + p->lut_off;
    for (int k = 0; k < p->ncolour; k++) {
        uint64_t h[256];
        memset(h, 0, sizeof h);
        for (int b = 0; b < p->nbands; b++) {
            const uint64_t *slot =
                (const uint64_t *)(const void *)(s->partials + (size_t)b * SLOT_BYTES);
            for (int v = 0; v < 256; v++) h[v] += slot[k * 256 + v];
        }
        if (p->op == OP_EQUALIZE) equalize_lut(h, n, luts + k * 256);
        else normalize_lut(h, luts + k * 256);
    }
}

/* ---- stage 3: apply ----------------------------------------------------------------------- */

static void apply_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const hist_params *p = PP_STAGE_PARAMS(hist_params, s);
    const uint8_t *lut = s->partials + p->lut_off;
    const int c = s->src.channels, w = s->src.width;
    if (c == 1 || c == 3) { /* no alpha: lut.h (one table, or one per channel) */
        pp_lut_rows(s, y0, y1, lut, c, p->fast);
        return;
    }
    for (int y = y0; y < y1; y++) {
        const uint8_t *in = pp_row(&s->src, y);
        uint8_t *out = pp_row(&s->dst, y);
        if (c == 2) {
            for (int x = 0; x < w; x++) {
                out[2 * x] = lut[in[2 * x]];
                out[2 * x + 1] = in[2 * x + 1];
            }
        } else {
            for (int x = 0; x < w; x++) {
                out[4 * x] = lut[in[4 * x]];
                out[4 * x + 1] = lut[256 + in[4 * x + 1]];
                out[4 * x + 2] = lut[512 + in[4 * x + 2]];
                out[4 * x + 3] = in[4 * x + 3];
            }
        }
    }
}

/* ---- plans -------------------------------------------------------------------------------- */

static pp_status plan_hist(const pp_geom *in, pp_plan *plan, int op)
{
    plan->out = *in;
    /* Fixed band height from the geometry alone: at least 64 rows, at most MAX_SLOTS bands. */
    int br = (in->height + MAX_SLOTS - 1) / MAX_SLOTS;
    if (br < 64) br = 64;
    const int nb = pp_band_count(in->height, br);
    hist_params hp = {op, nb, pp_color_channels(in->channels), (size_t)nb * SLOT_BYTES,
                      pp_lut_fast()};
    plan->partial_bytes = hp.lut_off + 3 * 256;

    pp_stage_tmpl *st = pp_plan_add_stage(plan, count_kernel, PP_BUF_IN, PP_BUF_OUT);
    st->band_rows = br;
    st->scratch_bytes = 4 * 3 * 256 * sizeof(uint32_t);
    memcpy(st->params, &hp, sizeof hp);

    st = pp_plan_add_stage(plan, combine_kernel, PP_BUF_IN, PP_BUF_OUT);
    st->rows = 1;
    st->serial = 1;
    memcpy(st->params, &hp, sizeof hp);

    st = pp_plan_add_stage(plan, apply_kernel, PP_BUF_IN, PP_BUF_OUT);
    memcpy(st->params, &hp, sizeof hp);
    return PP_OK;
}

static pp_status plan_equalize(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                               size_t errlen)
{
    (void)p;
    (void)err;
    (void)errlen;
    return plan_hist(in, plan, OP_EQUALIZE);
}

static pp_status plan_normalize(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                                size_t errlen)
{
    (void)p;
    (void)err;
    (void)errlen;
    return plan_hist(in, plan, OP_NORMALIZE);
}

/* ---- registry entries --------------------------------------------------------------------- */

static const pp_filter_def defs[] = {
    {{"equalize", "histogram", "histogram equalisation per channel",
      "Per colour channel, OpenCV's equalizeHist bit for bit: h = the channel's histogram over "
      "all n pixels, i0 = its lowest occupied value; if h[i0] = n the channel is unchanged, else "
      "v' = round_half_even((float)S(v) * scale) with scale = 255.0f / (float)(n - h[i0]) in "
      "single precision, S(v) = number of pixels with i0 < value <= v (so i0 maps to 0, 255 "
      "to 255). "
      "Alpha unchanged and not counted.", NULL, 0},
     PP_ALPHA_SELF, plan_equalize, NULL, 0, PP_DEPTH_8},
    {{"normalize", "histogram", "stretch each channel to the full range",
      "Per colour channel, lo/hi = the lowest/highest value present in the image; "
      "v' = round((v - lo) * 255 / (hi - lo)), halves up (exact integer arithmetic); a channel "
      "with hi = lo is unchanged. Alpha unchanged and not counted.", NULL, 0},
     PP_ALPHA_SELF, plan_normalize, NULL, 0, PP_DEPTH_8},
};

const pp_filter_family pp_family_histogram = {defs, (int)(sizeof defs / sizeof defs[0])};
