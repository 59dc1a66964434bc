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
 *
 * 16 bits (v on 0..65535): the same definitions with 255 read as 65535 and the parameters that
 * are 8-bit levels scaled by 257 (brightness delta, linear b, threshold t; contrast pivots on
 * 128 x 257 = 32896), so a parameter means the same at both depths; rounded half away from
 * zero and clamped to 0..65535. invert, brightness and threshold are computed in integers,
 * contrast and linear in double with the gain rounded to float (affine16.h, within 0.01 of a
 * level before rounding), posterize as an exact integer quotient and a table of its L levels;
 * gamma goes through a 65536-entry uint16 table (128 KiB: the plan's partials block, filled by
 * a first stage that the workers share, read by AVX-512 gathers: lut.h); grayscale and sepia use the same integer thousandths (sums below
 * 2^32).
 */
#include "affine16.h"
#include "lut.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The arguments of the point filters (each binds the fields it has, PP_FIELD). */
typedef struct point_args {
    double delta, factor, a, b, g;
    int t, levels;
} point_args;
#define ARG(p, f) (PP_ARGS(point_args, p)->f)

typedef struct lut_params {
    uint8_t lut[256];
    int fast; /* pp_lut_fast() */
} lut_params;

/* The table is applied by lut.h (packed bands as one run, VBMI, streaming stores). */
static void lut_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const lut_params *p = PP_STAGE_PARAMS(lut_params, s);
    const int c = s->src.channels, w = s->src.width;
    if (!pp_has_alpha(c)) {
        pp_lut_rows(s, y0, y1, p->lut, 1, p->fast);
        return;
    }
    for (int y = y0; y < y1; y++) {
        const uint8_t *in = pp_row(&s->src, y);
        uint8_t *out = pp_row(&s->dst, y);
        pp_lut_run(p->lut, 1, in, out, (size_t)w * (size_t)c, false, p->fast);
        for (int x = 0; x < w; x++) out[x * c + c - 1] = in[x * c + c - 1]; /* alpha back */
    }
}

typedef double (*value_fn)(double v, const pp_params *p);

static pp_status plan_lut(const pp_params *p, const pp_geom *in, pp_plan *plan, value_fn fn)
{
    plan->out = *in;
    pp_stage_tmpl *st = pp_plan_add_stage(plan, lut_kernel, PP_BUF_IN, PP_BUF_OUT);
    lut_params *lp = PP_PARAMS_OF(lut_params, st);
    for (int v = 0; v < 256; v++) lp->lut[v] = pp_clamp_round(fn((double)v, p));
    lp->fast = pp_lut_fast();
    return PP_OK;
}

static double f_invert(double v, const pp_params *p) { (void)p; return 255.0 - v; }
static double f_brightness(double v, const pp_params *p) { return v + ARG(p, delta); }
static double f_contrast(double v, const pp_params *p)
{
    return (v - 128.0) * ARG(p, factor) + 128.0;
}
static double f_linear(double v, const pp_params *p) { return ARG(p, a) * v + ARG(p, b); }
static double f_gamma(double v, const pp_params *p)
{
    return 255.0 * pow(v / 255.0, 1.0 / ARG(p, g));
}
static double f_threshold(double v, const pp_params *p) { return v >= ARG(p, t) ? 255.0 : 0.0; }
static double f_posterize(double v, const pp_params *p)
{
    double l1 = ARG(p, levels) - 1.0;
    return round(round(v * l1 / 255.0) * 255.0 / l1);
}

/* ---- 16 bits: a 64 Ki-entry table in the partials block ----------------------------------- */

enum { OP_INVERT, OP_BRIGHTNESS, OP_CONTRAST, OP_LINEAR, OP_GAMMA, OP_THRESHOLD, OP_POSTERIZE };

typedef struct lut16_params {
    int op;
    point_args args; /* plain data: the filter's arguments */
    pp_lut16 look;   /* the table for the colour channels, alpha copied */
} lut16_params;

/* The one table op at 16 bits, gamma (v and the result on 0..65535; the others are computed). */
static double value16(const lut16_params *p, double v)
{
    return 65535.0 * pow(v / 65535.0, 1.0 / p->args.g);
}

/* Stage 1: the table, 65536 uint16 at the start of the partials block, as 64 rows of 1024
   entries (the workers share them out: 65536 pow() calls are most of the filter's time). */
static void lut16_fill_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const lut16_params *p = PP_STAGE_PARAMS(lut16_params, s);
    uint16_t *lut = (uint16_t *)(void *)s->partials;
    for (int v = y0 * 1024; v < y1 * 1024; v++) lut[v] = pp_clamp_round16(value16(p, (double)v));
}

/* Stage 2: every colour sample through the table, alpha copied (lut.h). */
static void lut16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const lut16_params *p = PP_STAGE_PARAMS(lut16_params, s);
    pp_lut16_rows(s, y0, y1, &p->look, (const uint16_t *)(const void *)s->partials);
}

/* posterize at 16 bits, computed: q = round(v (L-1) / 65535) is exactly
   floor((v (L-1) + 32767) / 65535) (the double quotient is never within rounding of a half but
   at a half), and the output is level[q] = round(q 65535 / (L-1)), a table of L entries
   filled in plan() with the definition's own expression. */
typedef struct poster16_params {
    int l1;   /* L - 1: 1..255 */
    int fast; /* pp_cpu_has(AVX512BW) */
    uint16_t level[256];
} poster16_params;

static void poster16_scalar(const poster16_params *p, const uint16_t *in, uint16_t *out, size_t n)
{
    const uint32_t l1 = (uint32_t)p->l1;
    for (size_t i = 0; i < n; i++) out[i] = p->level[((uint32_t)in[i] * l1 + 32767u) / 65535u];
}

#ifdef PP_X86
/* 32 samples a step in 16-bit lanes: v (L-1) + 32767 = H 65536 + Lo (a multiply high and low
   and a carry), and floor of that over 65535 is H + (Lo >= 65535 - H) (H <= 255); then level[q]
   by four two-register word permutes of 64 entries each, merged on bits 6 and 7 of q. */
__attribute__((target("avx512f,avx512bw"))) static void
poster16_avx512(const poster16_params *p, const uint16_t *in, uint16_t *out, size_t n)
{
    __m512i t[8];
    for (int k = 0; k < 8; k++) t[k] = _mm512_loadu_si512((const void *)(p->level + 32 * k));
    const __m512i l1 = _mm512_set1_epi16((short)p->l1), half = _mm512_set1_epi16(32767);
    const __m512i one = _mm512_set1_epi16(1), ones = _mm512_set1_epi16(-1);
    const __m512i b6 = _mm512_set1_epi16(64), b7 = _mm512_set1_epi16(128);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512i v = _mm512_loadu_si512((const void *)(in + i));
        const __m512i lo = _mm512_mullo_epi16(v, l1);
        __m512i hi = _mm512_mulhi_epu16(v, l1);
        const __m512i lo2 = _mm512_add_epi16(lo, half);
        hi = _mm512_mask_add_epi16(hi, _mm512_cmplt_epu16_mask(lo2, lo), hi, one); /* carry */
        const __mmask32 up = _mm512_cmpge_epu16_mask(lo2, _mm512_sub_epi16(ones, hi));
        const __m512i q = _mm512_mask_add_epi16(hi, up, hi, one);
        const __mmask32 m6 = _mm512_test_epi16_mask(q, b6), m7 = _mm512_test_epi16_mask(q, b7);
        const __m512i r0 = _mm512_mask_blend_epi16(m6, _mm512_permutex2var_epi16(t[0], q, t[1]),
                                                   _mm512_permutex2var_epi16(t[2], q, t[3]));
        const __m512i r1 = _mm512_mask_blend_epi16(m6, _mm512_permutex2var_epi16(t[4], q, t[5]),
                                                   _mm512_permutex2var_epi16(t[6], q, t[7]));
        _mm512_storeu_si512((void *)(out + i), _mm512_mask_blend_epi16(m7, r0, r1));
    }
    poster16_scalar(p, in + i, out + i, n - i);
}
#endif

static void poster16_run(const poster16_params *p, const uint16_t *in, uint16_t *out, size_t n)
{
#ifdef PP_X86
    if (p->fast) {
        poster16_avx512(p, in, out, n);
        return;
    }
#endif
    poster16_scalar(p, in, out, n);
}

static void poster16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const poster16_params *p = PP_STAGE_PARAMS(poster16_params, s);
    const int c = s->src.channels, w = s->src.width;
    const size_t n = (size_t)w * (size_t)c;
    if (!pp_has_alpha(c) && pp_view_packed(&s->src) && pp_view_packed(&s->dst)) {
        poster16_run(p, pp_row16(&s->src, y0), pp_row16(&s->dst, y0), n * (size_t)(y1 - y0));
        return;
    }
    for (int y = y0; y < y1; y++) {
        const uint16_t *in = pp_row16(&s->src, y);
        uint16_t *out = pp_row16(&s->dst, y);
        poster16_run(p, in, out, n);
        if (pp_has_alpha(c))
            for (int x = 0; x < w; x++) out[x * c + c - 1] = in[x * c + c - 1]; /* alpha back */
    }
}

/* The exact integer ones computed instead of looked up (the same values as the table, and the
   loops vectorise): invert 65535 - v; brightness v + k clamped, where
   k = floor(257 delta + 0.5) (round(v + 257 delta) = v + k for every v with a non-negative
   result, and both clamp to 0 otherwise); threshold v >= k ? 65535 : 0 with k = 257 t. */
typedef struct calc16_params {
    int op;
    int32_t k;
} calc16_params;

PP_CLONES static void calc16_run(const calc16_params *p, const uint16_t *restrict in,
                                 uint16_t *restrict out, size_t n)
{
    const int op = p->op;
    const int32_t k = p->k;
    if (op == OP_INVERT) {
        for (size_t i = 0; i < n; i++) out[i] = (uint16_t)(65535u - in[i]);
    } else if (op == OP_BRIGHTNESS) {
        for (size_t i = 0; i < n; i++) {
            const int32_t v = (int32_t)in[i] + k;
            out[i] = (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
        }
    } else {
        for (size_t i = 0; i < n; i++) out[i] = (uint16_t)((int32_t)in[i] >= k ? 65535 : 0);
    }
}

static void calc16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const calc16_params *p = PP_STAGE_PARAMS(calc16_params, s);
    const int c = s->src.channels, w = s->src.width;
    const size_t n = (size_t)w * (size_t)c;
    if (!pp_has_alpha(c)) {
        if (pp_view_packed(&s->src) && pp_view_packed(&s->dst)) /* the band is one run */
            calc16_run(p, pp_row16(&s->src, y0), pp_row16(&s->dst, y0),
                       n * (size_t)(y1 - y0));
        else
            for (int y = y0; y < y1; y++)
                calc16_run(p, pp_row16(&s->src, y), pp_row16(&s->dst, y), n);
        return;
    }
    for (int y = y0; y < y1; y++) {
        const uint16_t *in = pp_row16(&s->src, y);
        uint16_t *out = pp_row16(&s->dst, y);
        calc16_run(p, in, out, n);
        for (int x = 0; x < w; x++) out[x * c + c - 1] = in[x * c + c - 1]; /* alpha back */
    }
}

/* contrast and linear as v' = v ga + gb (affine16.h) with the gain ga rounded to single
   precision, so that v ga (16 x 24 bits) is exact in double and a fused multiply-add gives the
   same bits as a multiply and an add; the float gain moves v' by at most 131070 x 2^-24 < 0.01
   of a level from the double definition. */
static void affine16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    pp_affine16_rows(s, y0, y1, PP_STAGE_PARAMS(pp_affine16, s));
}

static pp_status plan_lut16(const pp_params *p, const pp_geom *in, pp_plan *plan, int op)
{
    plan->out = *in;
    if (op == OP_CONTRAST || op == OP_LINEAR) {
        const double g = op == OP_CONTRAST ? (float)ARG(p, factor) : (float)ARG(p, a);
        const double b = op == OP_CONTRAST ? 32896.0 - 32896.0 * g : 257.0 * ARG(p, b);
        double ga[4], gb[4];
        for (int k = 0; k < in->channels; k++) {
            const bool alpha = pp_has_alpha(in->channels) && k == in->channels - 1;
            ga[k] = alpha ? 1.0 : g; /* alpha: v 1 + 0 = v */
            gb[k] = alpha ? 0.0 : b;
        }
        pp_affine16 a;
        pp_affine16_init(&a, in->channels, ga, gb, pp_affine16_fast());
        pp_stage_tmpl *st = pp_plan_add_stage(plan, affine16_kernel, PP_BUF_IN, PP_BUF_OUT);
        memcpy(st->params, &a, sizeof a);
        return PP_OK;
    }
    if (op == OP_INVERT || op == OP_BRIGHTNESS || op == OP_THRESHOLD) {
        pp_stage_tmpl *st = pp_plan_add_stage(plan, calc16_kernel, PP_BUF_IN, PP_BUF_OUT);
        calc16_params cp = {op, 0};
        if (op == OP_BRIGHTNESS) cp.k = (int32_t)floor(257.0 * ARG(p, delta) + 0.5);
        if (op == OP_THRESHOLD) cp.k = 257 * ARG(p, t);
        memcpy(st->params, &cp, sizeof cp);
        return PP_OK;
    }
    if (op == OP_POSTERIZE) {
        poster16_params pp;
        memset(&pp, 0, sizeof pp);
        pp.l1 = ARG(p, levels) - 1;
        pp.fast = pp_cpu_has(PP_CPU_AVX512F | PP_CPU_AVX512BW);
        const double l1 = pp.l1;
        for (int q = 0; q <= pp.l1; q++) pp.level[q] = pp_clamp_round16(round(q * 65535.0 / l1));
        pp_stage_tmpl *st = pp_plan_add_stage(plan, poster16_kernel, PP_BUF_IN, PP_BUF_OUT);
        memcpy(st->params, &pp, sizeof pp);
        return PP_OK;
    }
    plan->partial_bytes = 65536 * sizeof(uint16_t) + PP_LUT16_PAD;
    lut16_params lp;
    memset(&lp, 0, sizeof lp);
    lp.op = op;
    lp.args = *PP_ARGS(point_args, p);
    lp.look.channels = in->channels;
    lp.look.fast = pp_lut16_fast();
    for (int k = 0; k < in->channels; k++)
        lp.look.off[k] = pp_has_alpha(in->channels) && k == in->channels - 1 ? -1 : 0;
    pp_stage_tmpl *st = pp_plan_add_stage(plan, lut16_fill_kernel, PP_BUF_IN, PP_BUF_OUT);
    st->rows = 64; /* of 1024 entries */
    memcpy(st->params, &lp, sizeof lp);
    st = pp_plan_add_stage(plan, lut16_kernel, PP_BUF_IN, PP_BUF_OUT);
    memcpy(st->params, &lp, sizeof lp);
    return PP_OK;
}

#define LUT_PLAN(fname, fn, op)                                                                \
    static pp_status fname(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,   \
                           size_t errlen)                                                      \
    {                                                                                          \
        (void)err;                                                                             \
        (void)errlen;                                                                          \
        if (pp_geom_depth(in) == 16) return plan_lut16(p, in, plan, op);                       \
        return plan_lut(p, in, plan, fn);                                                      \
    }
LUT_PLAN(plan_invert, f_invert, OP_INVERT)
LUT_PLAN(plan_brightness, f_brightness, OP_BRIGHTNESS)
LUT_PLAN(plan_contrast, f_contrast, OP_CONTRAST)
LUT_PLAN(plan_linear, f_linear, OP_LINEAR)
LUT_PLAN(plan_gamma, f_gamma, OP_GAMMA)
LUT_PLAN(plan_threshold, f_threshold, OP_THRESHOLD)
LUT_PLAN(plan_posterize, f_posterize, OP_POSTERIZE)

/* ---- grayscale ---------------------------------------------------------------------------- */

/* round(0.299 R + 0.587 G + 0.114 B) = (299 R + 587 G + 114 B + 500) / 1000 exactly; the
   multiply-shift form below equals it for all 2^24 inputs (checked exhaustively) and vectorises. */
static inline uint8_t luma(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((156763u * r + 307758u * g + 59769u * b + 262142u) >> 19);
}

#ifdef PP_X86
/* RGB -> Y for n pixels with AVX-512 VBMI + VNNI, 64 pixels at a time (the pixels before the
   first 64-byte boundary of out, when streaming, and the last ones through luma()). Same
   integers as luma()'s definition, computed as
     S = 299 R + 587 G + 114 B + 500 (32-bit lanes: two vpdpwssd on 16-bit pairs (R,G), (B,0)),
     Y = floor(floor(S / 8) / 125)   (= floor(S / 1000); S / 8 <= 31937 fits 16 bits)
   where the division by 125 is mulhi(T, 33555) >> 6, exact for T <= 31937 (33555 / 2^22
   exceeds 1/125 by 1.7e-5 relative, which moves T / 125 by at most 0.0043, less than the
   distance 1/125 from a quotient with a non-zero remainder to the next integer; the
   exhaustive test of all 2^24 colours checks it). Per 64 pixels: 8 two-table byte permutes
   spread R, G, B into 16-bit pairs, 8 dot products, packs to 16 and 8 bits, and one byte
   permute that undoes the packs' lane interleaving. */
__attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vnni"))) static void
gray3_avx512(const uint8_t *in, uint8_t *out, size_t n, bool stream)
{
    /* permute indices: group g (pixels 16g..16g+15) reads a 128-byte table that starts at byte
       0 (g = 0, 1) or 64 (g = 2, 3) of the 192-byte block */
    uint8_t irg[4][64], ib[4][64], iout[64];
    for (int g = 0; g < 4; g++) {
        const int base = g < 2 ? 0 : 64;
        for (int q = 0; q < 16; q++) {
            const int a = 48 * g + 3 * q - base;
            irg[g][4 * q] = (uint8_t)a;
            irg[g][4 * q + 1] = 0;
            irg[g][4 * q + 2] = (uint8_t)(a + 1);
            irg[g][4 * q + 3] = 0;
            ib[g][4 * q] = (uint8_t)(a + 2);
            ib[g][4 * q + 1] = ib[g][4 * q + 2] = ib[g][4 * q + 3] = 0;
        }
    }
    /* after the packs, byte 16 L + 4 g + i holds pixel 16 g + 4 L + i */
    for (int p = 0; p < 64; p++) iout[p] = (uint8_t)(16 * ((p % 16) / 4) + 4 * (p / 16) + p % 4);
    __m512i prg[4], pb[4];
    for (int g = 0; g < 4; g++) {
        prg[g] = _mm512_loadu_si512(irg[g]);
        pb[g] = _mm512_loadu_si512(ib[g]);
    }
    const __m512i pout = _mm512_loadu_si512(iout);
    const __m512i wrg = _mm512_set1_epi32(299 | (587 << 16)), wb = _mm512_set1_epi32(114);
    const __m512i c500 = _mm512_set1_epi32(500), m125 = _mm512_set1_epi16((short)33555);
    const __mmask64 krg = 0x5555555555555555ull, kb = 0x1111111111111111ull;
    size_t x = 0;
    if (stream)
        for (; x < n && ((uintptr_t)(out + x) & 63); x++)
            out[x] = luma(in[3 * x], in[3 * x + 1], in[3 * x + 2]);
    for (; x + 64 <= n; x += 64) {
        const uint8_t *p = in + 3 * (size_t)x;
        const __m512i v0 = _mm512_loadu_si512(p), v1 = _mm512_loadu_si512(p + 64),
                      v2 = _mm512_loadu_si512(p + 128);
        __m512i t[4];
        for (int g = 0; g < 4; g++) {
            const __m512i lo = g < 2 ? v0 : v1, hi = g < 2 ? v1 : v2;
            const __m512i rg = _mm512_maskz_permutex2var_epi8(krg, lo, prg[g], hi);
            const __m512i b = _mm512_maskz_permutex2var_epi8(kb, lo, pb[g], hi);
            __m512i acc = _mm512_dpwssd_epi32(c500, rg, wrg);
            acc = _mm512_dpwssd_epi32(acc, b, wb);
            t[g] = _mm512_srli_epi32(acc, 3);
        }
        __m512i h0 = _mm512_packus_epi32(t[0], t[1]), h1 = _mm512_packus_epi32(t[2], t[3]);
        h0 = _mm512_srli_epi16(_mm512_mulhi_epu16(h0, m125), 6);
        h1 = _mm512_srli_epi16(_mm512_mulhi_epu16(h1, m125), 6);
        const __m512i yv = _mm512_packus_epi16(h0, h1);
        if (stream)
            _mm512_stream_si512((void *)(out + x), _mm512_permutexvar_epi8(pout, yv));
        else
            _mm512_storeu_si512(out + x, _mm512_permutexvar_epi8(pout, yv));
    }
    if (stream) _mm_sfence();
    for (; x < n; x++) out[x] = luma(in[3 * x], in[3 * x + 1], in[3 * x + 2]);
}
#endif

typedef void (*gray3_fn)(const uint8_t *, uint8_t *, size_t, bool);

typedef struct gray_params {
    int fast3; /* RGB through gray3_avx512 (chosen in plan) */
} gray_params;

PP_CLONES static void gray_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const int c = s->src.channels, w = s->src.width;
    gray3_fn fast3 = NULL;
#ifdef PP_X86
    if (PP_STAGE_PARAMS(gray_params, s)->fast3) fast3 = gray3_avx512;
#endif
    if (fast3) {
        if (pp_view_packed(&s->src) && pp_view_packed(&s->dst)) /* the band is one run */
            fast3(pp_row(&s->src, y0), pp_row(&s->dst, y0), (size_t)w * (size_t)(y1 - y0),
                  pp_stream_worth(&s->src, &s->dst));
        else
            for (int y = y0; y < y1; y++) fast3(pp_row(&s->src, y), pp_row(&s->dst, y), (size_t)w, false);
        return;
    }
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

/* 16 bits: Y = (299 R + 587 G + 114 B + 500) / 1000, the rounded definition exactly (the sum is
   at most 1000 x 65535 + 500, so it fits 32 bits and Y fits 16). */
PP_CLONES static void gray16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const int c = s->src.channels, w = s->src.width;
    for (int y = y0; y < y1; y++) {
        const uint16_t *restrict in = pp_row16(&s->src, y);
        uint16_t *restrict out = pp_row16(&s->dst, y);
        if (c == 3) {
            for (int x = 0; x < w; x++)
                out[x] = (uint16_t)((299u * in[3 * x] + 587u * in[3 * x + 1] +
                                     114u * in[3 * x + 2] + 500u) / 1000u);
        } else if (c == 4) {
            for (int x = 0; x < w; x++) {
                out[2 * x] = (uint16_t)((299u * in[4 * x] + 587u * in[4 * x + 1] +
                                         114u * in[4 * x + 2] + 500u) / 1000u);
                out[2 * x + 1] = in[4 * x + 3];
            }
        } else {
            memcpy(out, in, (size_t)w * (size_t)c * sizeof *in);
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
    if (pp_geom_depth(in) == 16) {
        pp_plan_add_stage(plan, gray16_kernel, PP_BUF_IN, PP_BUF_OUT);
        return PP_OK;
    }
    pp_stage_tmpl *st = pp_plan_add_stage(plan, gray_kernel, PP_BUF_IN, PP_BUF_OUT);
    PP_PARAMS_OF(gray_params, st)->fast3 =
        in->channels == 3 &&
        pp_cpu_has(PP_CPU_AVX512VBMI | PP_CPU_AVX512BW | PP_CPU_AVX512VNNI);
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

/* 16 bits: the same weights in thousandths, (sum + 500) / 1000 clamped to 65535 (the sum is at
   most 1351 x 65535 + 500: 32 bits). */
static inline uint16_t sepia16(unsigned wr, unsigned wg, unsigned wb, unsigned r, unsigned g,
                               unsigned b)
{
    const unsigned v = (wr * r + wg * g + wb * b + 500u) / 1000u;
    return (uint16_t)(v > 65535u ? 65535u : v);
}

PP_CLONES static void sepia16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const int c = s->src.channels, w = s->src.width, oc = s->dst.channels;
    const int alpha = pp_has_alpha(c);
    for (int y = y0; y < y1; y++) {
        const uint16_t *restrict in = pp_row16(&s->src, y);
        uint16_t *restrict out = pp_row16(&s->dst, y);
        for (int x = 0; x < w; x++) {
            const uint16_t *px = in + (size_t)x * c;
            unsigned r, g, b;
            if (c >= 3) {
                r = px[0], g = px[1], b = px[2];
            } else {
                r = g = b = px[0];
            }
            uint16_t *o = out + (size_t)x * oc;
            o[0] = sepia16(393u, 769u, 189u, r, g, b);
            o[1] = sepia16(349u, 686u, 168u, r, g, b);
            o[2] = sepia16(272u, 534u, 131u, r, g, b);
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
    pp_plan_add_stage(plan, pp_geom_depth(in) == 16 ? sepia16_kernel : sepia_kernel, PP_BUF_IN,
                      PP_BUF_OUT);
    return PP_OK;
}

/* ---- registry entries --------------------------------------------------------------------- */

static const pp_param_def p_brightness[] = {
    PP_PARAM(point_args, delta, FLOAT, 0, -255, 255, NULL, OPTIONAL,
             "value added to each colour channel")};
static const pp_param_def p_contrast[] = {
    PP_PARAM(point_args, factor, FLOAT, 1, 0, 100, NULL, OPTIONAL, "contrast factor around 128")};
static const pp_param_def p_linear[] = {
    PP_PARAM(point_args, a, FLOAT, 1, -100, 100, NULL, OPTIONAL, "gain"),
    PP_PARAM(point_args, b, FLOAT, 0, -255, 255, NULL, OPTIONAL, "offset")};
static const pp_param_def p_gamma[] = {
    PP_PARAM(point_args, g, FLOAT, 1, 0.01, 100, NULL, OPTIONAL, "gamma; > 1 brightens")};
static const pp_param_def p_threshold[] = {
    PP_PARAM(point_args, t, INT, 128, 0, 256, NULL, OPTIONAL, "values >= t become 255, others 0")};
static const pp_param_def p_posterize[] = {
    PP_PARAM(point_args, levels, INT, 4, 2, 256, NULL, OPTIONAL, "number of levels per channel")};

static const pp_filter_def defs[] = {
    {{"grayscale", "colour", "luma of RGB (Rec. 601 weights)",
      "Y = 0.299 R + 0.587 G + 0.114 B, rounded; output 1 channel (gray+alpha keeps alpha). "
      "Gray input is copied. Metadata: an RGB ICC profile is dropped (a gray image cannot carry "
      "it); EXIF, XMP, density and PNG gAMA/cHRM/sRGB are kept. 16 bits: the same weights, "
      "(299 R + 587 G + 114 B + 500) / 1000 in integers (exactly the rounded definition).", NULL, 0}, PP_ALPHA_SELF, plan_grayscale, NULL, 0, PP_DEPTH_8 | PP_DEPTH_16},
    {{"invert", "colour", "negative", "v' = 255 - v on colour channels; alpha unchanged. 16 bits: v' = 65535 - v.", NULL, 0},
     PP_ALPHA_SELF, plan_invert, NULL, 0, PP_DEPTH_8 | PP_DEPTH_16},
    {{"brightness", "colour", "add a constant", "v' = v + delta, rounded, clamped; alpha unchanged. 16 bits: "
      "v' = v + 257 delta (delta keeps its 8-bit units), rounded, clamped to 0..65535.",
      NULL, 0}, PP_ALPHA_SELF, plan_brightness, PP_PARAM_DEFS(p_brightness), PP_DEPTH_8 | PP_DEPTH_16},
    {{"contrast", "colour", "scale around mid-gray",
      "v' = (v - 128) * factor + 128, rounded, clamped; alpha unchanged. 16 bits: "
      "v' = (v - 32896) * factor + 32896 (32896 = 128 x 257), rounded, clamped to 0..65535; "
      "evaluated as v f + 32896 (1 - f) with f = factor rounded to single precision.", NULL, 0},
     PP_ALPHA_SELF, plan_contrast, PP_PARAM_DEFS(p_contrast), PP_DEPTH_8 | PP_DEPTH_16},
    {{"linear", "colour", "gain and offset", "v' = a v + b, rounded, clamped; alpha unchanged. 16 bits: "
      "v' = a v + 257 b (b keeps its 8-bit units), rounded, clamped to 0..65535; a is "
      "rounded to single precision.",
      NULL, 0}, PP_ALPHA_SELF, plan_linear, PP_PARAM_DEFS(p_linear), PP_DEPTH_8 | PP_DEPTH_16},
    {{"gamma", "colour", "gamma correction",
      "v' = 255 (v / 255)^(1 / g), rounded, clamped; alpha unchanged. 16 bits: "
      "v' = 65535 (v / 65535)^(1 / g), rounded; through a 65536-entry table.", NULL, 0},
     PP_ALPHA_SELF, plan_gamma, PP_PARAM_DEFS(p_gamma), PP_DEPTH_8 | PP_DEPTH_16},
    {{"threshold", "colour", "binarise each channel", "v' = v >= t ? 255 : 0; alpha unchanged. "
      "16 bits: v' = v >= 257 t ? 65535 : 0 (t keeps its 8-bit units).",
      NULL, 0}, PP_ALPHA_SELF, plan_threshold, PP_PARAM_DEFS(p_threshold), PP_DEPTH_8 | PP_DEPTH_16},
    {{"sepia", "colour", "sepia tone",
      "R' = .393R + .769G + .189B, G' = .349R + .686G + .168B, B' = .272R + .534G + .131B, "
      "rounded, clamped; gray input gives RGB; alpha unchanged. 16 bits: the same weights, "
      "(393 R + 769 G + 189 B + 500) / 1000 etc. in integers, clamped to 0..65535.", NULL, 0},
     PP_ALPHA_SELF, plan_sepia, NULL, 0, PP_DEPTH_8 | PP_DEPTH_16},
    {{"posterize", "colour", "reduce to N levels per channel",
      "v' = round(round(v (L-1) / 255) * 255 / (L-1)); alpha unchanged. 16 bits: "
      "v' = round(round(v (L-1) / 65535) * 65535 / (L-1)), computed exactly (the inner "
      "round as floor((v (L-1) + 32767) / 65535) in integers, the outer from a table of L levels).", NULL, 0},
     PP_ALPHA_SELF, plan_posterize, PP_PARAM_DEFS(p_posterize), PP_DEPTH_8 | PP_DEPTH_16},
};

const pp_filter_family pp_family_point = {defs, (int)(sizeof defs / sizeof defs[0])};
