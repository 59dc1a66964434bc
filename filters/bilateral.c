/*
 * bilateral.c - edge-preserving smoothing: bilateral:sigma_s,sigma_r,d.
 *
 * Definition (OpenCV 4.6's bilateralFilter on 8-bit images with BORDER_REPLICATE):
 *   radius r = d / 2 when d > 0, else round_half_even(1.5 sigma_s) (OpenCV's cvRound); r >= 1.
 *   The window is circular: offsets (i, j) with i^2 + j^2 <= r^2.
 *   Spatial weight  ws(i, j) = exp(-(i^2 + j^2) / (2 sigma_s^2)).
 *   Colour weight   wc(D)    = exp(-D^2 / (2 sigma_r^2)), where D is the absolute difference of
 *                  the neighbour and the centre pixel: for 3 colour channels the SUM
 *                  |dR| + |dG| + |dB| (OpenCV's convention), for gray |dV|.
 *   v' = round(sum(w p) / sum(w)), w = ws * wc, per channel, halves away from zero; the sums are
 *   accumulated in single precision over the window in row-major order (i, then j), both
 *   weights rounded to float as OpenCV does (wc comes from a table of float values indexed by
 *   the integer D, 0..765, made in plan()).
 * Border: edges extended. Alpha: premultiplied (pipeline.c); the colour difference uses the
 * colour channels only and alpha is averaged with the same weights.
 * Accuracy (tests/test_reference.c): within 1 level of cv2.bilateralFilter(img, d, sigma_r,
 * sigma_s, borderType=BORDER_REPLICATE) on photographs, almost always identical.
 * 16 bits (and 8-bit RGBA, which the pipeline premultiplies into 16 bits): the same definition
 * on 0..65535 with sigma_r in 8-bit levels (the range weight uses 257 sigma_r), the weights
 * from a table of every difference in the partials block, the sums in double (see below);
 * within 1 level of the definition evaluated in double (tests/test_depth16_edge.c).
 *
 * Kernel: a ring of the 2r+1 input rows around the current output row keeps each row as one
 * plane per channel with r replicated pixels on each side. Each output row is processed in
 * chunks of pixels; for each window offset three straight passes over the chunk compute the
 * colour differences (vectorised), the weights (one table look-up per pixel) and the weighted
 * sums into per-pixel float accumulators held in scratch (vectorised). Each pixel's sums run in
 * the same order whatever the band cuts are, so results are identical for every backend and
 * worker count. Cost: about pi r^2 weight evaluations per pixel.
 */
#include "stencil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define BILAT_MAX_R 60
#define NCW (3 * 255 + 1)
#define CHUNK 256

typedef struct bilat_params {
    int r;
    double sigma_s;
    float cw[NCW]; /* colour weight by difference D */
} bilat_params;

typedef struct bilat_tap {
    int dy, dx;
    float w;
} bilat_tap;

/* Scratch layout: ring (2r+1 rows of c planes), taps, per-chunk work arrays. */
static size_t taps_bytes(int r)
{
    return pp_align_up((size_t)(2 * r + 1) * (size_t)(2 * r + 1) * sizeof(bilat_tap));
}

/* Bytes of one plane of a ring row: w + 2r values. */
static size_t plane_bytes(int w, int r) { return pp_align_up((size_t)w + 2 * (size_t)r); }

static size_t ring_bytes(int w, int c, int r)
{
    return plane_bytes(w, r) * (size_t)c * (2 * (size_t)r + 1);
}

/* 4 accumulators, the weight sums, the weights (floats) and the differences (uint16). */
static size_t work_bytes(void) { return (size_t)CHUNK * (6 * sizeof(float) + sizeof(uint16_t)); }

/* The circular window's offsets and spatial weights, in row-major order. */
static int make_taps(const bilat_params *p, bilat_tap *taps)
{
    const int r = p->r;
    const double coeff = -0.5 / (p->sigma_s * p->sigma_s);
    int n = 0;
    for (int i = -r; i <= r; i++)
        for (int j = -r; j <= r; j++) {
            int d2 = i * i + j * j;
            if (d2 > r * r) continue;
            taps[n].dy = i;
            taps[n].dx = j;
            taps[n].w = (float)exp((double)d2 * coeff);
            n++;
        }
    return n;
}

/* A ring of 2r+1 rows around the current output row, each stored as C planes (one per channel)
   with r replicated pixels on each side, so that the per-tap loops below read contiguous bytes
   of one channel. */
typedef struct bilat_ring {
    uint8_t *buf;
    size_t plane, row; /* bytes per plane, per row (C planes) */
    int r, n, base;
} bilat_ring;

static void ring_fill(const bilat_ring *g, const pp_view *src, int yy, const int C)
{
    const int w = src->width, r = g->r;
    const uint8_t *in = pp_row(src, yy < 0 ? 0 : yy >= src->height ? src->height - 1 : yy);
    uint8_t *dst = g->buf + (size_t)((yy - g->base + g->r) % g->n) * g->row;
    for (int k = 0; k < C; k++) {
        uint8_t *pl = dst + (size_t)k * g->plane;
        for (int x = 0; x < w; x++) pl[r + x] = in[(size_t)x * C + k];
        for (int i = 0; i < r; i++) {
            pl[i] = in[k];
            pl[r + w + i] = in[(size_t)(w - 1) * C + k];
        }
    }
}

static inline const uint8_t *ring_plane(const bilat_ring *g, int y, int dy, int k)
{
    return g->buf + (size_t)((y + dy - g->base + g->r) % g->n) * g->row + (size_t)k * g->plane;
}

/* Output row y, C channels, NC of them in the colour difference. Specialised per channel count
   so that the compiler unrolls the channel loops. */
static inline __attribute__((always_inline)) void
bilat_row(const bilat_params *p, const bilat_tap *taps, int ntaps, const bilat_ring *g, int y,
          int w, uint8_t *out, float *work, const int C, const int NC)
{
    const int r = p->r;
    const float *cw = p->cw;
    float *acc[4] = {work, work + CHUNK, work + 2 * CHUNK, work + 3 * CHUNK};
    float *wsum = work + 4 * CHUNK, *wt = work + 5 * CHUNK;
    uint16_t *dd = (uint16_t *)(void *)(work + 6 * CHUNK);
    for (int x0 = 0; x0 < w; x0 += CHUNK) {
        const int len = w - x0 < CHUNK ? w - x0 : CHUNK;
        const uint8_t *ctr[4];
        for (int k = 0; k < C; k++) ctr[k] = ring_plane(g, y, 0, k) + r + x0;
        for (int i = 0; i < len; i++) wsum[i] = 0.0f;
        for (int k = 0; k < C; k++)
            for (int i = 0; i < len; i++) acc[k][i] = 0.0f;
        for (int t = 0; t < ntaps; t++) {
            const uint8_t *nb[4];
            for (int k = 0; k < C; k++)
                nb[k] = ring_plane(g, y, taps[t].dy, k) + r + x0 + taps[t].dx;
            const float sw = taps[t].w;
            /* colour difference D, then the weight (a table look-up), then the sums */
            for (int i = 0; i < len; i++) {
                uint8_t a = nb[0][i], b = ctr[0][i];
                uint16_t d = (uint16_t)(a > b ? a - b : b - a);
                if (NC == 3) {
                    uint8_t a1 = nb[1][i], b1 = ctr[1][i], a2 = nb[2][i], b2 = ctr[2][i];
                    d = (uint16_t)(d + (a1 > b1 ? a1 - b1 : b1 - a1) +
                                   (a2 > b2 ? a2 - b2 : b2 - a2));
                }
                dd[i] = d;
            }
            for (int i = 0; i < len; i++) wt[i] = sw * cw[dd[i]];
            float *restrict a0 = acc[0], *restrict a1 = acc[1], *restrict a2 = acc[2],
                  *restrict a3 = acc[3], *restrict ws = wsum;
            const float *restrict wv = wt;
            const uint8_t *q0 = nb[0], *q1 = nb[C > 1 ? 1 : 0], *q2 = nb[C > 2 ? 2 : 0],
                          *q3 = nb[C > 3 ? 3 : 0];
            for (int i = 0; i < len; i++) {
                const float wi = wv[i];
                ws[i] += wi;
                a0[i] += wi * (float)q0[i];
                if (C > 1) a1[i] += wi * (float)q1[i];
                if (C > 2) a2[i] += wi * (float)q2[i];
                if (C > 3) a3[i] += wi * (float)q3[i];
            }
        }
        for (int k = 0; k < C; k++)
            for (int i = 0; i < len; i++) {
                float v = acc[k][i] / wsum[i] + 0.5f;
                out[(size_t)(x0 + i) * C + k] = (uint8_t)(v >= 255.0f ? 255 : (int)v);
            }
    }
}

static void bilat_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const bilat_params *p = PP_STAGE_PARAMS(bilat_params, s);
    const int c = s->src.channels, w = s->src.width, r = p->r;
    bilat_ring g = {scratch, plane_bytes(w, r), plane_bytes(w, r) * (size_t)c, r, 2 * r + 1, y0};
    uint8_t *sp = (uint8_t *)scratch + ring_bytes(w, c, r);
    bilat_tap *taps = (bilat_tap *)(void *)sp;
    float *work = (float *)(void *)(sp + taps_bytes(r));
    const int ntaps = make_taps(p, taps);
    for (int yy = y0 - r; yy < y0 + r; yy++) ring_fill(&g, &s->src, yy, c);
    for (int y = y0; y < y1; y++) {
        ring_fill(&g, &s->src, y + r, c);
        uint8_t *out = pp_row(&s->dst, y);
        switch (c) {
        case 1: bilat_row(p, taps, ntaps, &g, y, w, out, work, 1, 1); break;
        case 2: bilat_row(p, taps, ntaps, &g, y, w, out, work, 2, 1); break;
        case 3: bilat_row(p, taps, ntaps, &g, y, w, out, work, 3, 3); break;
        default: bilat_row(p, taps, ntaps, &g, y, w, out, work, 4, 3); break;
        }
    }
}

/* ---- 16 bits ------------------------------------------------------------------------------
 * The same definition on 0..65535 with sigma_r in 8-bit levels (the range weight uses 257
 * sigma_r): D is the sum of the colour channels' absolute differences (0..3 * 65535) or |dV|;
 * wc(D) = exp(-D^2 / (2 (257 sigma_r)^2)) rounded to float, from a table of every D (196606
 * floats for colour, 65536 for gray) in the plan's partials block, filled by a first stage in
 * bands of TABLE_ROW entries; ws and w = ws * wc in float as at 8 bits; the sums sum(w p) and
 * sum(w) in double (a float sum of up to 11000 16-bit terms could drift by more than a level);
 * v' = round(sum(w p) / sum(w)), halves away from zero, clamped to 65535. */

#define TABLE_ROW 1024

typedef struct bilat16_table_params {
    double coeff; /* -1 / (2 (257 sigma_r)^2) */
    int count;    /* entries */
} bilat16_table_params;

static int table16_count(int channels)
{
    return pp_color_channels(channels) == 3 ? 3 * 65535 + 1 : 65536;
}

static void bilat16_table_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const bilat16_table_params *p = PP_STAGE_PARAMS(bilat16_table_params, s);
    float *cw = (float *)(void *)s->partials;
    const int end = y1 * TABLE_ROW < p->count ? y1 * TABLE_ROW : p->count;
    for (int i = y0 * TABLE_ROW; i < end; i++) cw[i] = (float)exp((double)i * i * p->coeff);
}

static size_t plane16_bytes(int w, int r) { return pp_align_up(2 * ((size_t)w + 2 * (size_t)r)); }

static size_t ring16_bytes(int w, int c, int r)
{
    return plane16_bytes(w, r) * (size_t)c * (2 * (size_t)r + 1);
}

/* 4 accumulators and the weight sums (double), the weights (float), the differences (uint32). */
static size_t work16_bytes(void)
{
    return (size_t)CHUNK * (5 * sizeof(double) + sizeof(float) + sizeof(uint32_t));
}

static void ring16_fill(const bilat_ring *g, const pp_view *src, int yy, const int C)
{
    const int w = src->width, r = g->r;
    const uint16_t *in = pp_row16(src, yy < 0 ? 0 : yy >= src->height ? src->height - 1 : yy);
    uint8_t *dst = g->buf + (size_t)((yy - g->base + g->r) % g->n) * g->row;
    for (int k = 0; k < C; k++) {
        uint16_t *pl = (uint16_t *)(void *)(dst + (size_t)k * g->plane);
        for (int x = 0; x < w; x++) pl[r + x] = in[(size_t)x * C + k];
        for (int i = 0; i < r; i++) {
            pl[i] = in[k];
            pl[r + w + i] = in[(size_t)(w - 1) * C + k];
        }
    }
}

static inline const uint16_t *ring16_plane(const bilat_ring *g, int y, int dy, int k)
{
    return (const uint16_t *)(const void *)ring_plane(g, y, dy, k);
}

static inline __attribute__((always_inline)) void
bilat16_row(const bilat_params *p, const float *cw, const bilat_tap *taps, int ntaps,
            const bilat_ring *g, int y, int w, uint16_t *out, void *work, const int C,
            const int NC)
{
    const int r = p->r;
    double *acc[4];
    for (int k = 0; k < 4; k++) acc[k] = (double *)work + (size_t)k * CHUNK;
    double *wsum = (double *)work + 4 * CHUNK;
    float *wt = (float *)(void *)(wsum + CHUNK);
    uint32_t *dd = (uint32_t *)(void *)(wt + CHUNK);
    for (int x0 = 0; x0 < w; x0 += CHUNK) {
        const int len = w - x0 < CHUNK ? w - x0 : CHUNK;
        const uint16_t *ctr[4];
        for (int k = 0; k < C; k++) ctr[k] = ring16_plane(g, y, 0, k) + r + x0;
        for (int i = 0; i < len; i++) wsum[i] = 0.0;
        for (int k = 0; k < C; k++)
            for (int i = 0; i < len; i++) acc[k][i] = 0.0;
        for (int t = 0; t < ntaps; t++) {
            const uint16_t *nb[4];
            for (int k = 0; k < C; k++)
                nb[k] = ring16_plane(g, y, taps[t].dy, k) + r + x0 + taps[t].dx;
            const float sw = taps[t].w;
            for (int i = 0; i < len; i++) {
                int32_t d = nb[0][i] - ctr[0][i];
                d = d < 0 ? -d : d;
                if (NC == 3) {
                    int32_t d1 = nb[1][i] - ctr[1][i], d2 = nb[2][i] - ctr[2][i];
                    d += (d1 < 0 ? -d1 : d1) + (d2 < 0 ? -d2 : d2);
                }
                dd[i] = (uint32_t)d;
            }
            for (int i = 0; i < len; i++) wt[i] = sw * cw[dd[i]];
            double *restrict a0 = acc[0], *restrict a1 = acc[1], *restrict a2 = acc[2],
                   *restrict a3 = acc[3], *restrict ws = wsum;
            const float *restrict wv = wt;
            const uint16_t *q0 = nb[0], *q1 = nb[C > 1 ? 1 : 0], *q2 = nb[C > 2 ? 2 : 0],
                           *q3 = nb[C > 3 ? 3 : 0];
            for (int i = 0; i < len; i++) {
                const double wi = (double)wv[i];
                ws[i] += wi;
                a0[i] += wi * (double)q0[i];
                if (C > 1) a1[i] += wi * (double)q1[i];
                if (C > 2) a2[i] += wi * (double)q2[i];
                if (C > 3) a3[i] += wi * (double)q3[i];
            }
        }
        for (int k = 0; k < C; k++)
            for (int i = 0; i < len; i++)
                out[(size_t)(x0 + i) * C + k] = pp_clamp_round16(acc[k][i] / wsum[i]);
    }
}

PP_CLONES static void bilat16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const bilat_params *p = PP_STAGE_PARAMS(bilat_params, s);
    const float *cw = (const float *)(const void *)s->partials;
    const int c = s->src.channels, w = s->src.width, r = p->r;
    bilat_ring g = {scratch, plane16_bytes(w, r), plane16_bytes(w, r) * (size_t)c, r, 2 * r + 1,
                    y0};
    uint8_t *sp = (uint8_t *)scratch + ring16_bytes(w, c, r);
    bilat_tap *taps = (bilat_tap *)(void *)sp;
    void *work = sp + taps_bytes(r);
    const int ntaps = make_taps(p, taps);
    for (int yy = y0 - r; yy < y0 + r; yy++) ring16_fill(&g, &s->src, yy, c);
    for (int y = y0; y < y1; y++) {
        ring16_fill(&g, &s->src, y + r, c);
        uint16_t *out = pp_row16(&s->dst, y);
        switch (c) {
        case 1: bilat16_row(p, cw, taps, ntaps, &g, y, w, out, work, 1, 1); break;
        case 2: bilat16_row(p, cw, taps, ntaps, &g, y, w, out, work, 2, 1); break;
        case 3: bilat16_row(p, cw, taps, ntaps, &g, y, w, out, work, 3, 3); break;
        default: bilat16_row(p, cw, taps, ntaps, &g, y, w, out, work, 4, 3); break;
        }
    }
}

typedef struct bilat_args {
    double sigma_s, sigma_r;
    int d;
} bilat_args;

static pp_status plan_bilateral(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                                size_t errlen)
{
    const bilat_args *a = PP_ARGS(bilat_args, p);
    const double sigma_s = a->sigma_s, sigma_r = a->sigma_r;
    const int d = a->d;
    int r = d > 0 ? d / 2 : (int)lrint(sigma_s * 1.5); /* lrint: half to even, as cvRound */
    if (r < 1) r = 1;
    if (r > BILAT_MAX_R) {
        snprintf(err, errlen, "radius %d is larger than the maximum %d (d = 2 radius + 1)", r,
                 BILAT_MAX_R);
        return PP_ERR_SPEC;
    }
    plan->out = *in;
    if (pp_geom_depth(in) == 16) {
        const int count = table16_count(in->channels);
        plan->partial_bytes = (size_t)count * sizeof(float);
        pp_stage_tmpl *ts = pp_plan_add_stage(plan, bilat16_table_kernel, PP_BUF_IN, PP_BUF_OUT);
        bilat16_table_params *tp = PP_PARAMS_OF(bilat16_table_params, ts);
        const double sr = 257.0 * sigma_r;
        tp->coeff = -0.5 / (sr * sr);
        tp->count = count;
        ts->rows = (count + TABLE_ROW - 1) / TABLE_ROW;
        ts->min_band_rows = 8;
        pp_stage_tmpl *st = pp_plan_add_stage(plan, bilat16_kernel, PP_BUF_IN, PP_BUF_OUT);
        bilat_params *bp = PP_PARAMS_OF(bilat_params, st);
        bp->r = r;
        bp->sigma_s = sigma_s;
        st->scratch_bytes = ring16_bytes(in->width, in->channels, r) + taps_bytes(r) +
                            work16_bytes();
        st->min_band_rows = 2 * r;
        return PP_OK;
    }
    pp_stage_tmpl *st = pp_plan_add_stage(plan, bilat_kernel, PP_BUF_IN, PP_BUF_OUT);
    bilat_params *bp = PP_PARAMS_OF(bilat_params, st);
    bp->r = r;
    bp->sigma_s = sigma_s;
    const double coeff = -0.5 / (sigma_r * sigma_r);
    for (int i = 0; i < NCW; i++) bp->cw[i] = (float)exp((double)i * i * coeff);
    st->scratch_bytes = ring_bytes(in->width, in->channels, r) + taps_bytes(r) + work_bytes();
    st->min_band_rows = 2 * r;
    return PP_OK;
}

_Static_assert(sizeof(bilat_params) <= PP_PARAM_BYTES, "bilateral parameters fit the blob");

static const pp_param_def p_bilateral[] = {
    PP_PARAM(bilat_args, sigma_s, FLOAT, 3, 0.1, 40, NULL, OPTIONAL,
             "spatial standard deviation in pixels (sets the radius when d = 0)"),
    PP_PARAM(bilat_args, sigma_r, FLOAT, 30, 0.1, 10000, NULL, OPTIONAL,
             "range standard deviation in 8-bit levels (of |dR|+|dG|+|dB| for colour; 257 "
             "sigma_r at 16 bits)"),
    PP_PARAM(bilat_args, d, INT, 0, 0, 2 * BILAT_MAX_R + 1, NULL, OPTIONAL,
             "window diameter; 0 = 2 round(1.5 sigma_s) + 1")};

static const pp_filter_def defs[] = {
    {{"bilateral", "spatial", "edge-preserving smoothing",
      "OpenCV's bilateralFilter (8-bit, BORDER_REPLICATE): radius r = d/2 if d > 0 else "
      "round_half_even(1.5 sigma_s), at least 1 and at most 60; circular window "
      "i^2 + j^2 <= r^2; weight w = exp(-(i^2 + j^2) / (2 sigma_s^2)) * exp(-D^2 / "
      "(2 sigma_r^2)), D = |dR| + |dG| + |dB| to the centre pixel (|dV| for gray); "
      "v' = round(sum(w p) / sum(w)) per channel, weights and sums in single precision; edges "
      "extended; premultiplied alpha (alpha averaged with the same weights, D from the colour "
      "channels). 16 bits: the same on 0..65535 with the range weight exp(-D^2 / (2 (257 "
      "sigma_r)^2)) (sigma_r in 8-bit levels), D on 0..65535 per channel, from a table of "
      "float weights for every D; weights in single precision, sums in double; clamped to "
      "0..65535 (8-bit RGBA runs on 16-bit premultiplied colour).", NULL, 0},
     PP_ALPHA_PREMUL, plan_bilateral, PP_PARAM_DEFS(p_bilateral), PP_DEPTH_8 | PP_DEPTH_16},
};

const pp_filter_family pp_family_bilateral = {defs, (int)(sizeof defs / sizeof defs[0])};
