/*
 * rank.c - rank filters: median, erode (minimum), dilate (maximum).
 *
 * Border: edges extended. Alpha: premultiplied (see pipeline.c). Per channel:
 *   median:radius=r  the ((n+1)/2)-th smallest of the n = (2r+1)^2 values in the window.
 *                    Huang's sliding histogram: per output pixel the window moves one column,
 *                    2(2r+1) histogram updates and a short walk from the previous median, so
 *                    the cost grows with r, not with the window's area.
 *   erode:radius=r   minimum over the (2r+1)^2 window (separable: rows, then columns).
 *   dilate:radius=r  maximum over the window.
 */
#include "stencil.h"

#include <stdio.h>

typedef struct rank_params {
    int r;
    int op; /* 0 erode, 1 dilate */
} rank_params;

/* ---- median ------------------------------------------------------------------------------- */

static void median_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const rank_params *p = PP_STAGE_PARAMS(rank_params, s);
    const int c = s->src.channels, w = s->src.width, r = p->r, k = 2 * r + 1;
    const int half = (k * k - 1) / 2; /* the median has exactly `half` values below it or fewer */
    pp_ring g;
    pp_ring_init(&g, &s->src, r, y0, scratch);
    uint16_t(*hist)[256] = (void *)((uint8_t *)scratch + pp_ring_bytes(w, c, r));
    const uint8_t *rows[2 * 100 + 1];
    for (int y = y0; y < y1; y++) {
        pp_ring_advance(&g, y);
        for (int i = 0; i < k; i++) rows[i] = pp_ring_row(&g, y, i - r);
        uint8_t *out = pp_row(&s->dst, y);
        for (int ch = 0; ch < c; ch++) {
            uint16_t *h = hist[ch];
            for (int v = 0; v < 256; v++) h[v] = 0;
            for (int i = 0; i < k; i++)
                for (int x = 0; x < k; x++) h[rows[i][(size_t)x * c + ch]]++;
            /* find the median: m with count(< m) <= half < count(<= m) */
            int m = 0, lt = 0;
            while (lt + h[m] <= half) lt += h[m++];
            out[ch] = (uint8_t)m;
            for (int x = 1; x < w; x++) {
                const size_t outc = (size_t)(x - 1) * c + ch, inc = (size_t)(x + 2 * r) * c + ch;
                for (int i = 0; i < k; i++) {
                    int vo = rows[i][outc], vi = rows[i][inc];
                    h[vo]--;
                    h[vi]++;
                    lt -= vo < m;
                    lt += vi < m;
                }
                while (lt > half) lt -= h[--m];
                while (lt + h[m] <= half) lt += h[m++];
                out[(size_t)x * c + ch] = (uint8_t)m;
            }
        }
    }
}

static pp_status plan_median(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                             size_t errlen)
{
    (void)err;
    (void)errlen;
    plan->out = *in;
    pp_stage_tmpl *st = pp_plan_add_stage(plan, median_kernel, PP_BUF_IN, PP_BUF_OUT);
    rank_params *rp = PP_PARAMS_OF(rank_params, st);
    rp->r = (int)p->v[0];
    st->scratch_bytes = pp_ring_bytes(in->width, in->channels, rp->r) + 4 * 256 * sizeof(uint16_t);
    st->min_band_rows = 2 * rp->r;
    return PP_OK;
}

/* ---- erode / dilate ----------------------------------------------------------------------- */

static void minmax_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const rank_params *p = PP_STAGE_PARAMS(rank_params, s);
    const int c = s->src.channels, w = s->src.width, r = p->r, k = 2 * r + 1;
    const size_t pn = (size_t)(w + 2 * r) * c, n = (size_t)w * c;
    pp_ring g;
    pp_ring_init(&g, &s->src, r, y0, scratch);
    uint8_t *col = (uint8_t *)scratch + pp_ring_bytes(w, c, r);
    for (int y = y0; y < y1; y++) {
        pp_ring_advance(&g, y);
        const uint8_t *r0 = pp_ring_row(&g, y, -r);
        for (size_t i = 0; i < pn; i++) col[i] = r0[i];
        for (int i = 1; i < k; i++) {
            const uint8_t *ri = pp_ring_row(&g, y, i - r);
            if (p->op)
                for (size_t j = 0; j < pn; j++) col[j] = ri[j] > col[j] ? ri[j] : col[j];
            else
                for (size_t j = 0; j < pn; j++) col[j] = ri[j] < col[j] ? ri[j] : col[j];
        }
        uint8_t *out = pp_row(&s->dst, y);
        for (size_t i = 0; i < n; i++) out[i] = col[i];
        for (int dx = 1; dx < k; dx++) {
            const uint8_t *a = col + (size_t)dx * c;
            if (p->op)
                for (size_t i = 0; i < n; i++) out[i] = a[i] > out[i] ? a[i] : out[i];
            else
                for (size_t i = 0; i < n; i++) out[i] = a[i] < out[i] ? a[i] : out[i];
        }
    }
}

static pp_status plan_minmax(const pp_params *p, const pp_geom *in, pp_plan *plan, int op)
{
    plan->out = *in;
    pp_stage_tmpl *st = pp_plan_add_stage(plan, minmax_kernel, PP_BUF_IN, PP_BUF_OUT);
    rank_params *rp = PP_PARAMS_OF(rank_params, st);
    rp->r = (int)p->v[0];
    rp->op = op;
    st->scratch_bytes = pp_ring_bytes(in->width, in->channels, rp->r) +
                        pp_padded_stride(in->width, in->channels, rp->r);
    st->min_band_rows = 2 * rp->r;
    return PP_OK;
}

static pp_status plan_erode(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                            size_t errlen)
{
    (void)err;
    (void)errlen;
    return plan_minmax(p, in, plan, 0);
}
static pp_status plan_dilate(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                             size_t errlen)
{
    (void)err;
    (void)errlen;
    return plan_minmax(p, in, plan, 1);
}

static const pp_param_info p_median[] = {
    {"radius", PP_PARAM_INT, 1, 0, 100, NULL, 0, "window is (2 radius + 1) squared"}};
static const pp_param_info p_minmax[] = {
    {"radius", PP_PARAM_INT, 1, 0, 100, NULL, 0, "window is (2 radius + 1) squared"}};

#define NP(a) a, (int)(sizeof(a) / sizeof(a[0]))
static const pp_filter_def defs[] = {
    {{"median", "spatial", "median over a square window",
      "Per channel, the ((n+1)/2)-th smallest of the n = (2r+1)^2 window values; edges extended; "
      "premultiplied alpha. Cost grows with r, not r^2 (sliding histogram).", NP(p_median)},
     PP_ALPHA_PREMUL, plan_median},
    {{"erode", "spatial", "minimum over a square window",
      "Per channel minimum over the (2r+1)^2 window; edges extended; premultiplied alpha.",
      NP(p_minmax)}, PP_ALPHA_PREMUL, plan_erode},
    {{"dilate", "spatial", "maximum over a square window",
      "Per channel maximum over the (2r+1)^2 window; edges extended; premultiplied alpha.",
      NP(p_minmax)}, PP_ALPHA_PREMUL, plan_dilate},
};

const pp_filter_family pp_family_rank = {defs, (int)(sizeof defs / sizeof defs[0])};
