/*
 * edge.c - convolution filters: sharpen, convolve, laplacian, emboss, sobel.
 *
 * Border: edges extended. Definitions, per channel, with p the input around the pixel:
 *   convolve:kernel,divisor,bias
 *            v' = clamp(round(sum(K[i][j] p[y+i][x+j]) / divisor + bias)), K a square odd-sized
 *            kernel (1x1 .. 15x15) given row by row as numbers separated by '/' or spaces,
 *            e.g. convolve:kernel=0/-1/0/-1/5/-1/0/-1/0. divisor 0 (default) means the sum of
 *            the kernel, or 1 when that sum is 0. Rounding is half away from zero. With integer
 *            kernel, divisor and bias the arithmetic is exact integer arithmetic.
 *            Alpha: premultiplied.
 *   sharpen  convolve with 0 -1 0 / -1 5 -1 / 0 -1 0. Alpha: premultiplied.
 *   laplacian v' = clamp(|sum(L p)|), L = 0 1 0 / 1 -4 1 / 0 1 0 (OpenCV's Laplacian, ksize 1,
 *            followed by convertScaleAbs). Alpha copied unchanged.
 *   emboss   convolve with -2 -1 0 / -1 1 1 / 0 1 2 (flat areas keep their value).
 *            Alpha copied unchanged.
 *   sobel    v' = clamp(round(sqrt(gx^2 + gy^2))), gx = [-1 0 1; -2 0 2; -1 0 1] * p,
 *            gy its transpose. Alpha copied unchanged.
 *
 * 16 bits: the same definitions on 0..65535 (clamp to 0..65535, rounding half away from zero);
 * convolve's bias is in 8-bit levels and adds 257 bias. Integer kernels whose sums fit in int32
 * (sum |K| * 65535 + 257 |bias| < 2^31: sharpen, laplacian, emboss and most user kernels) use
 * exact integer arithmetic (3x3 ones with divisor 1 in one pass), the others double precision
 * (exact too for integer kernels); sobel's round(sqrt(gx^2 + gy^2)) is exact (a float root
 * corrected with the integer square sum).
 * Emboss has no offset (flat areas keep their value), at 8 as at 16 bits.
 */
#include "stencil.h"

#include <math.h>
#include <stdio.h>

#define CONV_MAX_R 7
#define CHUNK 512

typedef struct conv_params {
    int r;
    int integer; /* exact integer path */
    int small;   /* integer, divisor 1, |bias| <= 255 and sum |K| * 255 < 2^15: 16-bit sums */
    int absval;  /* laplacian: absolute value before clamping */
    int ncomp;   /* channels computed; the rest (alpha) copied */
    int32_t div; /* integer path */
    int32_t bias;
    double ddiv, dbias;
    int32_t wi[(2 * CONV_MAX_R + 1) * (2 * CONV_MAX_R + 1)];
    float wf[(2 * CONV_MAX_R + 1) * (2 * CONV_MAX_R + 1)];
    /* 16 bits: integer = int32 sums (sum |K| * 65535 + 257 |bias| fits), else double sums;
       the bias in 16-bit levels (257 bias) */
    int32_t bias16;
    double dbias16;
    double wd[(2 * CONV_MAX_R + 1) * (2 * CONV_MAX_R + 1)];
    int fused3; /* 16 bits, integer 3x3 kernel, divisor 1: the nine taps in one pass */
} conv_params;

_Static_assert(sizeof(conv_params) <= PP_PARAM_BYTES, "convolve parameters fit the blob");

PP_CLONES static void conv_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const conv_params *p = PP_STAGE_PARAMS(conv_params, s);
    const int c = s->src.channels, w = s->src.width, r = p->r, k = 2 * r + 1;
    const size_t n = (size_t)w * c;
    pp_ring g;
    pp_ring_init(&g, &s->src, r, y0, scratch);
    for (int y = y0; y < y1; y++) {
        pp_ring_advance(&g, y);
        uint8_t *out = pp_row(&s->dst, y);
        for (size_t i0 = 0; i0 < n; i0 += CHUNK) {
            size_t len = n - i0 < CHUNK ? n - i0 : CHUNK;
            if (p->small) { /* sums fit in 16 bits: twice the lanes of the 32-bit path */
                int16_t acc[CHUNK];
                for (size_t i = 0; i < len; i++) acc[i] = 0;
                for (int dy = 0; dy < k; dy++) {
                    const uint8_t *row = pp_ring_row(&g, y, dy - r) + i0;
                    for (int dx = 0; dx < k; dx++) {
                        const int16_t wk = (int16_t)p->wi[dy * k + dx];
                        if (!wk) continue;
                        const uint8_t *a = row + (size_t)dx * c;
                        for (size_t i = 0; i < len; i++) acc[i] = (int16_t)(acc[i] + wk * a[i]);
                    }
                }
                if (p->absval) {
                    for (size_t i = 0; i < len; i++) {
                        int v = acc[i] < 0 ? -acc[i] : acc[i];
                        out[i0 + i] = (uint8_t)(v > 255 ? 255 : v);
                    }
                } else {
                    const int b = p->bias;
                    for (size_t i = 0; i < len; i++) {
                        int v = acc[i] + b;
                        out[i0 + i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                    }
                }
            } else if (p->integer) {
                int32_t acc[CHUNK];
                for (size_t i = 0; i < len; i++) acc[i] = 0;
                for (int dy = 0; dy < k; dy++) {
                    const uint8_t *row = pp_ring_row(&g, y, dy - r) + i0;
                    for (int dx = 0; dx < k; dx++) {
                        const int32_t wk = p->wi[dy * k + dx];
                        if (!wk) continue;
                        const uint8_t *a = row + (size_t)dx * c;
                        for (size_t i = 0; i < len; i++) acc[i] += wk * a[i];
                    }
                }
                if (p->absval) {
                    for (size_t i = 0; i < len; i++) {
                        int32_t v = acc[i] < 0 ? -acc[i] : acc[i];
                        out[i0 + i] = (uint8_t)(v > 255 ? 255 : v);
                    }
                } else if (p->div == 1) {
                    for (size_t i = 0; i < len; i++) out[i0 + i] = pp_clamp_int(acc[i] + p->bias);
                } else {
                    const int64_t d = p->div, b = (int64_t)p->bias * p->div;
                    for (size_t i = 0; i < len; i++) {
                        int64_t num = acc[i] + b;
                        int64_t v = num <= 0 ? 0 : (2 * num + d) / (2 * d);
                        out[i0 + i] = (uint8_t)(v > 255 ? 255 : v);
                    }
                }
            } else {
                float acc[CHUNK];
                for (size_t i = 0; i < len; i++) acc[i] = 0;
                for (int dy = 0; dy < k; dy++) {
                    const uint8_t *row = pp_ring_row(&g, y, dy - r) + i0;
                    for (int dx = 0; dx < k; dx++) {
                        const float wk = p->wf[dy * k + dx];
                        if (wk == 0.0f) continue;
                        const uint8_t *a = row + (size_t)dx * c;
                        for (size_t i = 0; i < len; i++) acc[i] += wk * (float)a[i];
                    }
                }
                const float inv = (float)(1.0 / p->ddiv), bias = (float)p->dbias;
                for (size_t i = 0; i < len; i++) {
                    float v = acc[i] * inv + bias;
                    if (p->absval) v = fabsf(v);
                    out[i0 + i] = pp_clamp_round(v);
                }
            }
        }
        if (p->ncomp < c) { /* copy alpha */
            const uint8_t *in = pp_row(&s->src, y);
            for (int x = 0; x < w; x++) out[(size_t)x * c + c - 1] = in[(size_t)x * c + c - 1];
        }
    }
}

/* A 16-bit view read as bytes: each pixel is 2c bytes, so that pp_ring pads and replicates
   whole 16-bit pixels. */
static inline pp_view bytes_view(const pp_view *v)
{
    pp_view b = *v;
    b.channels = 2 * v->channels;
    b.depth = 8;
    return b;
}

/* Padded row y+dy of a ring of 16-bit pixels (bytes_view), as samples. */
static inline const uint16_t *ring_row16(const pp_ring *g, int y, int dy)
{
    return (const uint16_t *)(const void *)pp_ring_row(g, y, dy);
}

/* Copies the alpha samples of row y of a 16-bit src into dst. */
static inline void copy_alpha16(const pp_stage *s, int y)
{
    const int c = s->src.channels, w = s->src.width;
    const uint16_t *in = pp_row16(&s->src, y);
    uint16_t *out = pp_row16(&s->dst, y);
    for (int x = 0; x < w; x++) out[(size_t)x * c + c - 1] = in[(size_t)x * c + c - 1];
}

/* The 16-bit convolution: the same definition on 0..65535, the bias scaled by 257. Integer
   kernels whose sums fit in int32 use exact integer arithmetic; the others sum in double (also
   exact for integer kernels: every partial sum is an integer below 2^53), divide by the
   divisor and add the bias in double, then round half away from zero. */
PP_CLONES static void conv16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const conv_params *p = PP_STAGE_PARAMS(conv_params, s);
    const int c = s->src.channels, w = s->src.width, r = p->r, k = 2 * r + 1;
    const size_t n = (size_t)w * c;
    const pp_view src = bytes_view(&s->src);
    pp_ring g;
    pp_ring_init(&g, &src, r, y0, scratch);
    for (int y = y0; y < y1; y++) {
        pp_ring_advance(&g, y);
        uint16_t *out = pp_row16(&s->dst, y);
        if (p->fused3) { /* the same sums, in registers: one pass over the row */
            const uint16_t *a = ring_row16(&g, y, -1), *b = ring_row16(&g, y, 0),
                           *d = ring_row16(&g, y, 1);
            const int32_t *wk = p->wi, bias = p->bias16;
            const int32_t w0 = wk[0], w1 = wk[1], w2 = wk[2], w3 = wk[3], w4 = wk[4], w5 = wk[5],
                          w6 = wk[6], w7 = wk[7], w8 = wk[8];
            const size_t c2 = 2 * (size_t)c;
            if (!w0 && !w2 && !w6 && !w8) { /* a cross (sharpen, laplacian): five taps */
                for (size_t i = 0; i < n; i++) {
                    int32_t v = w1 * a[i + c] + w3 * b[i] + w4 * b[i + c] + w5 * b[i + c2] +
                                w7 * d[i + c];
                    v = p->absval ? (v < 0 ? -v : v) : v + bias;
                    out[i] = (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
                }
            } else {
                for (size_t i = 0; i < n; i++) {
                    int32_t v = w0 * a[i] + w1 * a[i + c] + w2 * a[i + c2] + w3 * b[i] +
                                w4 * b[i + c] + w5 * b[i + c2] + w6 * d[i] + w7 * d[i + c] +
                                w8 * d[i + c2];
                    v = p->absval ? (v < 0 ? -v : v) : v + bias;
                    out[i] = (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
                }
            }
            if (p->ncomp < c) copy_alpha16(s, y);
            continue;
        }
        for (size_t i0 = 0; i0 < n; i0 += CHUNK) {
            size_t len = n - i0 < CHUNK ? n - i0 : CHUNK;
            if (p->integer) {
                int32_t acc[CHUNK];
                for (size_t i = 0; i < len; i++) acc[i] = 0;
                for (int dy = 0; dy < k; dy++) {
                    const uint16_t *row = ring_row16(&g, y, dy - r) + i0;
                    for (int dx = 0; dx < k; dx++) {
                        const int32_t wk = p->wi[dy * k + dx];
                        if (!wk) continue;
                        const uint16_t *a = row + (size_t)dx * c;
                        for (size_t i = 0; i < len; i++) acc[i] += wk * (int32_t)a[i];
                    }
                }
                if (p->absval) {
                    for (size_t i = 0; i < len; i++) {
                        int32_t v = acc[i] < 0 ? -acc[i] : acc[i];
                        out[i0 + i] = (uint16_t)(v > 65535 ? 65535 : v);
                    }
                } else if (p->div == 1) {
                    const int32_t b = p->bias16;
                    for (size_t i = 0; i < len; i++) {
                        int32_t v = acc[i] + b;
                        out[i0 + i] = (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
                    }
                } else {
                    const int64_t d = p->div, b = (int64_t)p->bias16 * p->div;
                    for (size_t i = 0; i < len; i++) {
                        int64_t num = acc[i] + b;
                        int64_t v = num <= 0 ? 0 : (2 * num + d) / (2 * d);
                        out[i0 + i] = (uint16_t)(v > 65535 ? 65535 : v);
                    }
                }
            } else {
                double acc[CHUNK];
                for (size_t i = 0; i < len; i++) acc[i] = 0;
                for (int dy = 0; dy < k; dy++) {
                    const uint16_t *row = ring_row16(&g, y, dy - r) + i0;
                    for (int dx = 0; dx < k; dx++) {
                        const double wk = p->wd[dy * k + dx];
                        if (wk == 0.0) continue;
                        const uint16_t *a = row + (size_t)dx * c;
                        for (size_t i = 0; i < len; i++) acc[i] += wk * (double)a[i];
                    }
                }
                const double div = p->ddiv, bias = p->dbias16;
                for (size_t i = 0; i < len; i++) {
                    double v = acc[i] / div + bias;
                    if (p->absval) v = fabs(v);
                    out[i0 + i] = pp_clamp_round16(v);
                }
            }
        }
        if (p->ncomp < c) copy_alpha16(s, y);
    }
}

/* Fills a conv stage; kernel values kv (size k*k). */
static pp_status conv_setup(pp_plan *plan, const pp_geom *in, const double *kv, int count,
                            double divisor, double bias, int absval, int keep_alpha, char *err,
                            size_t errlen)
{
    int k = (int)lround(sqrt((double)count));
    if (k * k != count || k % 2 == 0 || k > 2 * CONV_MAX_R + 1) {
        snprintf(err, errlen,
                 "kernel has %d values; it needs an odd square count (1, 9, 25, ... 225), "
                 "row by row, e.g. kernel=0/-1/0/-1/5/-1/0/-1/0", count);
        return PP_ERR_SPEC;
    }
    const int deep = pp_geom_depth(in) == 16;
    plan->out = *in;
    pp_stage_tmpl *st =
        pp_plan_add_stage(plan, deep ? conv16_kernel : conv_kernel, PP_BUF_IN, PP_BUF_OUT);
    conv_params *cp = PP_PARAMS_OF(conv_params, st);
    cp->r = k / 2;
    cp->absval = absval;
    cp->ncomp = keep_alpha && pp_has_alpha(in->channels) ? in->channels - 1 : in->channels;
    double sum = 0, sumabs = 0;
    int integer = 1;
    for (int i = 0; i < count; i++) {
        sum += kv[i];
        sumabs += fabs(kv[i]);
        if (kv[i] != floor(kv[i]) || fabs(kv[i]) > 1e6) integer = 0;
    }
    if (sumabs * 255.0 > 2147483647.0) integer = 0; /* the int32 sums could overflow */
    if (divisor == 0) divisor = sum != 0 ? sum : 1;
    if (divisor < 0) { /* keep the division positive: negate kernel and divisor */
        snprintf(err, errlen, "divisor must be positive (the kernel sums to %g)", sum);
        return PP_ERR_SPEC;
    }
    if (divisor != floor(divisor) || bias != floor(bias) || divisor > 1e6) integer = 0;
    /* 16 bits: int32 sums when sum |K| * 65535 and the bias (257 |bias|) fit */
    cp->integer = deep ? integer && sumabs * 65535.0 + fabs(bias) * 257.0 <= 2147483647.0
                       : integer;
    cp->small =
        !deep && integer && divisor == 1 && fabs(bias) <= 255 && sumabs * 255.0 < 32767.0;
    cp->fused3 = deep && cp->integer && k == 3 && divisor == 1;
    cp->div = (int32_t)divisor;
    cp->bias = (int32_t)bias;
    cp->ddiv = divisor;
    cp->dbias = bias;
    cp->bias16 = (int32_t)bias * 257;
    cp->dbias16 = bias * 257.0;
    for (int i = 0; i < count; i++) {
        cp->wi[i] = integer ? (int32_t)kv[i] : 0;
        cp->wf[i] = (float)kv[i];
        cp->wd[i] = kv[i];
    }
    st->scratch_bytes = pp_ring_bytes(in->width, (deep ? 2 : 1) * in->channels, cp->r);
    st->min_band_rows = 4 * cp->r;
    return PP_OK;
}

typedef struct convolve_args {
    pp_list kernel; /* required: never empty here */
    double divisor, bias;
} convolve_args;

static pp_status plan_convolve(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                               size_t errlen)
{
    const convolve_args *a = PP_ARGS(convolve_args, p);
    return conv_setup(plan, in, a->kernel.v, a->kernel.n, a->divisor, a->bias, 0, 0, err, errlen);
}

static const double k_sharpen[9] = {0, -1, 0, -1, 5, -1, 0, -1, 0};
static const double k_laplacian[9] = {0, 1, 0, 1, -4, 1, 0, 1, 0};
static const double k_emboss[9] = {-2, -1, 0, -1, 1, 1, 0, 1, 2};

static pp_status plan_sharpen(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                              size_t errlen)
{
    (void)p;
    return conv_setup(plan, in, k_sharpen, 9, 1, 0, 0, 0, err, errlen);
}
static pp_status plan_laplacian(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                                size_t errlen)
{
    (void)p;
    return conv_setup(plan, in, k_laplacian, 9, 1, 0, 1, 1, err, errlen);
}
static pp_status plan_emboss(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                             size_t errlen)
{
    (void)p;
    return conv_setup(plan, in, k_emboss, 9, 1, 0, 0, 1, err, errlen);
}

/* ---- sobel -------------------------------------------------------------------------------- */

PP_CLONES static void sobel_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const int c = s->src.channels, w = s->src.width;
    const size_t n = (size_t)w * c;
    const int ncomp = pp_has_alpha(c) ? c - 1 : c;
    pp_ring g;
    pp_ring_init(&g, &s->src, 1, y0, scratch);
    for (int y = y0; y < y1; y++) {
        pp_ring_advance(&g, y);
        const uint8_t *a = pp_ring_row(&g, y, -1), *b = pp_ring_row(&g, y, 0),
                      *d = pp_ring_row(&g, y, 1);
        uint8_t *out = pp_row(&s->dst, y);
        for (size_t i = 0; i < n; i++) {
            /* padded index of (x, k) is i + c; its left neighbour i, right i + 2c */
            int gx = (a[i + 2 * c] + 2 * b[i + 2 * c] + d[i + 2 * c]) - (a[i] + 2 * b[i] + d[i]);
            int gy = (d[i] + 2 * d[i + c] + d[i + 2 * c]) - (a[i] + 2 * a[i + c] + a[i + 2 * c]);
            float m = sqrtf((float)(gx * gx + gy * gy)) + 0.5f;
            out[i] = (uint8_t)(m >= 255.0f ? 255 : (int)m);
        }
        if (ncomp < c) {
            const uint8_t *in = pp_row(&s->src, y);
            for (int x = 0; x < w; x++) out[(size_t)x * c + c - 1] = in[(size_t)x * c + c - 1];
        }
    }
}

/* 16 bits: gx, gy as at 8 bits (|g| <= 4 * 65535); round(sqrt(gx^2 + gy^2)) exactly: a float
   estimate corrected by comparisons with the exact square sum. */
PP_CLONES static void sobel16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const int c = s->src.channels, w = s->src.width;
    const size_t n = (size_t)w * c;
    const int ncomp = pp_has_alpha(c) ? c - 1 : c;
    const pp_view src = bytes_view(&s->src);
    pp_ring g;
    pp_ring_init(&g, &src, 1, y0, scratch);
    for (int y = y0; y < y1; y++) {
        pp_ring_advance(&g, y);
        const uint16_t *a = ring_row16(&g, y, -1), *b = ring_row16(&g, y, 0),
                       *d = ring_row16(&g, y, 1);
        uint16_t *out = pp_row16(&s->dst, y);
        for (size_t i = 0; i < n; i++) {
            int gx = (a[i + 2 * c] + 2 * b[i + 2 * c] + d[i + 2 * c]) - (a[i] + 2 * b[i] + d[i]);
            int gy = (d[i] + 2 * d[i + c] + d[i + 2 * c]) - (a[i] + 2 * a[i + c] + a[i + 2 * c]);
            /* |g| clamped to 65535 and the square sum saturated to 2^32 - 1 change nothing
               (a magnitude of 65535 or more gives 65535); a float estimate of the root, off by
               less than 1, corrected exactly: the nearest integer m to sqrt(s) is the m with
               m^2 - m < s <= m^2 + m (m = 0 when s = 0), all in uint32 */
            uint32_t ax = (uint32_t)(gx < 0 ? -gx : gx), ay = (uint32_t)(gy < 0 ? -gy : gy);
            ax = ax > 65535u ? 65535u : ax;
            ay = ay > 65535u ? 65535u : ay;
            const uint32_t sx = ax * ax;
            uint32_t sq = sx + ay * ay;
            sq = sq < sx ? 0xFFFFFFFFu : sq;
            const float fx = (float)(int)ax, fy = (float)(int)ay;
            uint32_t m = (uint32_t)(int)(sqrtf(fx * fx + fy * fy) + 0.5f);
            m = m > 65535u ? 65535u : m;
            m = m + (sq > m * m + m) - ((m > 0) & (sq <= m * m - m));
            out[i] = (uint16_t)(m > 65535u ? 65535u : m);
        }
        if (ncomp < c) copy_alpha16(s, y);
    }
}

static pp_status plan_sobel(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                            size_t errlen)
{
    (void)p;
    (void)err;
    (void)errlen;
    const int deep = pp_geom_depth(in) == 16;
    plan->out = *in;
    pp_stage_tmpl *st =
        pp_plan_add_stage(plan, deep ? sobel16_kernel : sobel_kernel, PP_BUF_IN, PP_BUF_OUT);
    st->scratch_bytes = pp_ring_bytes(in->width, (deep ? 2 : 1) * in->channels, 1);
    st->min_band_rows = 4;
    return PP_OK;
}

/* ---- registry entries --------------------------------------------------------------------- */

static const pp_param_def p_convolve[] = {
    PP_PARAM(convolve_args, kernel, LIST, 0, -1e6, 1e6, NULL, REQUIRED,
             "odd square kernel, row by row, values separated by '/' or spaces"),
    PP_PARAM(convolve_args, divisor, FLOAT, 0, 0, 1e9, NULL, OPTIONAL,
             "0 = sum of the kernel (1 if it is 0)"),
    PP_PARAM(convolve_args, bias, FLOAT, 0, -255, 255, NULL, OPTIONAL,
             "added after dividing, in 8-bit levels (257 bias at 16 bits)")};

static const pp_filter_def defs[] = {
    {{"sharpen", "spatial", "3x3 sharpening",
      "Convolution with 0 -1 0 / -1 5 -1 / 0 -1 0, clamped; edges extended; premultiplied alpha. "
      "16 bits: the same on 0..65535, exact integer arithmetic, clamped to 0..65535 (8-bit "
      "RGBA runs on 16-bit premultiplied colour).", NULL, 0},
     PP_ALPHA_PREMUL, plan_sharpen, NULL, 0, PP_DEPTH_8 | PP_DEPTH_16},
    {{"convolve", "spatial", "any odd square kernel",
      "v' = clamp(round(sum(K p) / divisor + bias)), half away from zero; kernel=a/b/c/... row "
      "by row (1x1 to 15x15); edges extended; premultiplied alpha. 16 bits: the same on "
      "0..65535 with bias in 8-bit levels (257 bias is added), clamped to 0..65535; exact "
      "integer arithmetic for integer kernels, double precision otherwise (8-bit RGBA runs on "
      "16-bit premultiplied colour).", NULL, 0},
     PP_ALPHA_PREMUL, plan_convolve, PP_PARAM_DEFS(p_convolve), PP_DEPTH_8 | PP_DEPTH_16},
    {{"sobel", "spatial", "Sobel gradient magnitude",
      "v' = clamp(round(sqrt(gx^2 + gy^2))) of the 3x3 Sobel derivatives, per channel; edges "
      "extended; alpha unchanged. 16 bits: the same on 0..65535, the magnitude rounded exactly "
      "and clamped to 65535.", NULL, 0},
     PP_ALPHA_SELF, plan_sobel, NULL, 0, PP_DEPTH_8 | PP_DEPTH_16},
    {{"laplacian", "spatial", "absolute Laplacian",
      "v' = clamp(|0 1 0 / 1 -4 1 / 0 1 0 * p|); edges extended; alpha unchanged. 16 bits: "
      "the same on 0..65535, clamped to 65535.", NULL, 0},
     PP_ALPHA_SELF, plan_laplacian, NULL, 0, PP_DEPTH_8 | PP_DEPTH_16},
    {{"emboss", "spatial", "emboss relief",
      "Convolution with -2 -1 0 / -1 1 1 / 0 1 2, clamped; edges extended; alpha unchanged. "
      "16 bits: the same on 0..65535 (no offset: flat areas keep their value), clamped to "
      "0..65535.", NULL, 0},
     PP_ALPHA_SELF, plan_emboss, NULL, 0, PP_DEPTH_8 | PP_DEPTH_16},
};

const pp_filter_family pp_family_edge = {defs, (int)(sizeof defs / sizeof defs[0])};
