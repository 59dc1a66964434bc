/*
 * blur.c - smoothing filters: box, gaussian, unsharp.
 *
 * Border: edges extended (the nearest pixel inside the image is used). Alpha: these filters run
 * on premultiplied colour (see pipeline.c). Definitions, per channel:
 *
 *   box:radius=r        mean over the (2r+1)^2 window, rounded half up:
 *                       floor((2 S + n) / (2 n)), S the window sum, n = (2r+1)^2.
 *                       Vertical running sums; horizontally running sums too (cost per pixel
 *                       independent of r), except for r <= 7 where a direct 16-bit sum in
 *                       SIMD lanes is faster. Exact integer arithmetic either way.
 *   gaussian:sigma,radius
 *                       separable, normalised, sampled Gaussian g(i) ~ exp(-i^2 / (2 sigma^2)),
 *                       i = -R..R, R = radius or ceil(3 sigma), taps quantised to 2^-16 and
 *                       summing to exactly one. 16-bit fixed point: the horizontal pass keeps 7
 *                       fractional bits, every product is rounded (see "Fixed-point scheme"
 *                       below), the result is rounded once at the end. Within 1 level of the
 *                       exact real-valued blur.
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
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define GAUSS_MAX_R 200
#define CHUNK 512 /* elements processed together so accumulators stay in L1 */

/* ---- gaussian / unsharp ------------------------------------------------------------------- */

/* Fixed-point scheme (16-bit lanes throughout, so one AVX-512 instruction does 32 values):
   mulhrs(a, b) = (a * b + 2^14) >> 15, the rounding high multiply of SSSE3/AVX2/AVX-512.
   Horizontal: h = mulhrs(p << 7, Wc) + sum_k mulhrs((p[-k] + p[+k]) << 6, Wk), a Q7 value, where
   Wc is the centre tap in Q15 and Wk a paired tap in Q16 (a paired tap is < 0.5, so < 2^15).
   Vertical: g = mulhrs(h0, Wc) + sum_k mulhrs(avg(h[-k], h[+k]), Wk), avg(a, b) = (a + b + 1) >> 1;
   out = min(255, (g + 64) >> 7). Every term is non-negative and the sums stay below 2^15, so the
   scalar, AVX2 and AVX-512 versions below give the same bytes. */

enum { ISA_SCALAR = 0, ISA_AVX2 = 1, ISA_AVX512 = 2 };

typedef struct gauss_params {
    int r;
    int unsharp;
    int threshold;
    int identity;                   /* sigma so small that every tap but the centre is 0 */
    int isa;                        /* row loops: ISA_SCALAR, ISA_AVX2, ISA_AVX512 (plan) */
    int16_t w[GAUSS_MAX_R + 1];     /* w[k], k < r: paired taps (Q16); w[r]: centre (Q15) */
    int16_t amt[511];               /* round(amount * d) for d = -255..255 */
    int32_t amul, ashift;           /* round(amount * |d|) = (|d| amul + 2^(ashift-1)) >> ashift,
                                       verified in plan() for every d; amul < 0: use amt[] */
} gauss_params;

/* v' = |d| < threshold ? v : clamp(v + round(amount d)), d = v - blur; vectorises. */
PP_CLONES static void unsharp_row(const gauss_params *p, const uint8_t *in, const uint8_t *blur,
                                  uint8_t *out, size_t n)
{
    const int thr = p->threshold;
    if (p->amul >= 0) {
        const int32_t m = p->amul, sh = p->ashift, half = (int32_t)1 << (p->ashift - 1);
        for (size_t i = 0; i < n; i++) {
            int32_t d = (int32_t)in[i] - (int32_t)blur[i];
            int32_t ad = d < 0 ? -d : d;
            int32_t t = (ad * m + half) >> sh;
            int32_t v = (int32_t)in[i] + (d < 0 ? -t : t);
            v = v < 0 ? 0 : v > 255 ? 255 : v;
            out[i] = (uint8_t)(ad < thr ? in[i] : v);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            int d = (int)in[i] - (int)blur[i];
            int ad = d < 0 ? -d : d;
            out[i] = ad < thr ? in[i] : pp_clamp_int(in[i] + p->amt[d + 255]);
        }
    }
}

static inline int16_t mulhrs16(int a, int b) { return (int16_t)((a * b + 0x4000) >> 15); }

static void hrow_scalar(const uint8_t *pad, size_t n, int r, int c, const int16_t *w, int16_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int acc = mulhrs16(pad[i + (size_t)r * c] << 7, w[r]);
        for (int k = 0; k < r; k++)
            acc += mulhrs16((pad[i + (size_t)k * c] + pad[i + (size_t)(2 * r - k) * c]) << 6, w[k]);
        out[i] = (int16_t)acc;
    }
}

static void vrow_scalar(const int16_t *const *rows, size_t n, int r, const int16_t *w, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int acc = mulhrs16(rows[r][i], w[r]);
        for (int k = 0; k < r; k++)
            acc += mulhrs16(((uint16_t)rows[k][i] + (uint16_t)rows[2 * r - k][i] + 1) >> 1, w[k]);
        int v = (acc + 64) >> 7;
        out[i] = (uint8_t)(v > 255 ? 255 : v);
    }
}

#ifdef PP_X86

__attribute__((target("avx2"))) static void hrow_avx2(const uint8_t *pad, size_t n, int r, int c,
                                                       const int16_t *w, int16_t *out)
{
    size_t i = 0;
    const __m256i wc = _mm256_set1_epi16(w[r]);
    for (; i + 16 <= n; i += 16) {
        __m256i v = _mm256_cvtepu8_epi16(_mm_loadu_si128((const void *)(pad + i + (size_t)r * c)));
        __m256i acc = _mm256_mulhrs_epi16(_mm256_slli_epi16(v, 7), wc);
        for (int k = 0; k < r; k++) {
            __m256i a = _mm256_cvtepu8_epi16(_mm_loadu_si128((const void *)(pad + i + (size_t)k * c)));
            __m256i b = _mm256_cvtepu8_epi16(
                _mm_loadu_si128((const void *)(pad + i + (size_t)(2 * r - k) * c)));
            __m256i s = _mm256_slli_epi16(_mm256_add_epi16(a, b), 6);
            acc = _mm256_add_epi16(acc, _mm256_mulhrs_epi16(s, _mm256_set1_epi16(w[k])));
        }
        _mm256_storeu_si256((void *)(out + i), acc);
    }
    if (i < n) hrow_scalar(pad + i, n - i, r, c, w, out + i);
}

__attribute__((target("avx2"))) static void vrow_avx2(const int16_t *const *rows, size_t n, int r,
                                                       const int16_t *w, uint8_t *out)
{
    size_t i = 0;
    const __m256i wc = _mm256_set1_epi16(w[r]), rnd = _mm256_set1_epi16(64);
    for (; i + 32 <= n; i += 32) {
        __m256i acc[2];
        for (int h = 0; h < 2; h++) {
            size_t o = i + 16 * (size_t)h;
            __m256i a0 = _mm256_mulhrs_epi16(_mm256_loadu_si256((const void *)(rows[r] + o)), wc);
            for (int k = 0; k < r; k++) {
                __m256i m = _mm256_avg_epu16(_mm256_loadu_si256((const void *)(rows[k] + o)),
                                             _mm256_loadu_si256((const void *)(rows[2 * r - k] + o)));
                a0 = _mm256_add_epi16(a0, _mm256_mulhrs_epi16(m, _mm256_set1_epi16(w[k])));
            }
            acc[h] = _mm256_srli_epi16(_mm256_add_epi16(a0, rnd), 7);
        }
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi16(acc[0], acc[1]), 0xD8);
        _mm256_storeu_si256((void *)(out + i), p);
    }
    if (i < n) {
        const int16_t *tail[2 * GAUSS_MAX_R + 1];
        for (int k = 0; k <= 2 * r; k++) tail[k] = rows[k] + i;
        vrow_scalar(tail, n - i, r, w, out + i);
    }
}

__attribute__((target("avx512f,avx512bw"))) static void hrow_avx512(const uint8_t *pad, size_t n,
                                                                    int r, int c,
                                                                    const int16_t *w, int16_t *out)
{
    size_t i = 0;
    const __m512i wc = _mm512_set1_epi16(w[r]);
    for (; i + 32 <= n; i += 32) {
        __m512i v = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const void *)(pad + i + (size_t)r * c)));
        __m512i acc = _mm512_mulhrs_epi16(_mm512_slli_epi16(v, 7), wc);
        for (int k = 0; k < r; k++) {
            __m512i a = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const void *)(pad + i + (size_t)k * c)));
            __m512i b = _mm512_cvtepu8_epi16(
                _mm256_loadu_si256((const void *)(pad + i + (size_t)(2 * r - k) * c)));
            __m512i s = _mm512_slli_epi16(_mm512_add_epi16(a, b), 6);
            acc = _mm512_add_epi16(acc, _mm512_mulhrs_epi16(s, _mm512_set1_epi16(w[k])));
        }
        _mm512_storeu_si512((void *)(out + i), acc);
    }
    if (i < n) hrow_scalar(pad + i, n - i, r, c, w, out + i);
}

__attribute__((target("avx512f,avx512bw"))) static void vrow_avx512(const int16_t *const *rows,
                                                                    size_t n, int r,
                                                                    const int16_t *w, uint8_t *out)
{
    size_t i = 0;
    const __m512i wc = _mm512_set1_epi16(w[r]), rnd = _mm512_set1_epi16(64);
    for (; i + 32 <= n; i += 32) {
        __m512i a0 = _mm512_mulhrs_epi16(_mm512_loadu_si512((const void *)(rows[r] + i)), wc);
        for (int k = 0; k < r; k++) {
            __m512i m = _mm512_avg_epu16(_mm512_loadu_si512((const void *)(rows[k] + i)),
                                         _mm512_loadu_si512((const void *)(rows[2 * r - k] + i)));
            a0 = _mm512_add_epi16(a0, _mm512_mulhrs_epi16(m, _mm512_set1_epi16(w[k])));
        }
        a0 = _mm512_srli_epi16(_mm512_add_epi16(a0, rnd), 7);
        _mm256_storeu_si256((void *)(out + i), _mm512_cvtusepi16_epi8(a0));
    }
    if (i < n) {
        const int16_t *tail[2 * GAUSS_MAX_R + 1];
        for (int k = 0; k <= 2 * r; k++) tail[k] = rows[k] + i;
        vrow_scalar(tail, n - i, r, w, out + i);
    }
}
#endif

typedef void (*hrow_fn)(const uint8_t *, size_t, int, int, const int16_t *, int16_t *);
typedef void (*vrow_fn)(const int16_t *const *, size_t, int, const int16_t *, uint8_t *);

/* The row loops of the plan's choice. */
static void pick_rows(int isa, hrow_fn *h, vrow_fn *v)
{
    *h = hrow_scalar;
    *v = vrow_scalar;
#ifdef PP_X86
    if (isa == ISA_AVX512) {
        *h = hrow_avx512;
        *v = vrow_avx512;
    } else if (isa == ISA_AVX2) {
        *h = hrow_avx2;
        *v = vrow_avx2;
    }
#else
    (void)isa;
#endif
}

static size_t gauss_scratch(int w, int c, int r)
{
    size_t row = (size_t)w * c;
    return pp_align_up(row * 2) * (size_t)(2 * r + 1) /* ring of Q7 rows */
           + pp_padded_stride(w, c, r)                 /* padded input row */
           + pp_align_up(row);                         /* blurred row (unsharp) */
}

static void gauss_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const gauss_params *p = PP_STAGE_PARAMS(gauss_params, s);
    const int c = s->src.channels, w = s->src.width, r = p->r, nr = 2 * r + 1;
    const size_t n = (size_t)w * c;
    const size_t hstride = pp_align_up(n * 2) / 2; /* in int16 */
    int16_t *ring = scratch;
    uint8_t *pad = (uint8_t *)scratch + hstride * 2 * (size_t)nr;
    uint8_t *blur = pad + pp_padded_stride(w, c, r);
    hrow_fn hrow;
    vrow_fn vrow;
    pick_rows(p->isa, &hrow, &vrow);

    for (int yy = y0 - r; yy < y0 + r; yy++) {
        pp_pad_row(&s->src, yy, r, pad);
        hrow(pad, n, r, c, p->w, ring + (size_t)((yy - y0 + r) % nr) * hstride);
    }
    const int16_t *rows[2 * GAUSS_MAX_R + 1];
    for (int y = y0; y < y1; y++) {
        int yn = y + r;
        pp_pad_row(&s->src, yn, r, pad);
        if (yn + 1 < s->src.height) pp_prefetch(pp_row(&s->src, yn + 1), n, false);
        pp_prefetch_out(&s->dst, y + 1);
        hrow(pad, n, r, c, p->w, ring + (size_t)((yn - y0 + r) % nr) * hstride);
        uint8_t *out = pp_row(&s->dst, y);
        uint8_t *dstrow = p->unsharp ? blur : out;
        int slot = (y - y0) % nr; /* ring slot of row y - r */
        for (int k = 0; k < nr; k++) {
            rows[k] = ring + (size_t)slot * hstride;
            if (++slot == nr) slot = 0;
        }
        if (p->identity)
            memcpy(dstrow, pp_row(&s->src, y), n);
        else
            vrow(rows, n, r, p->w, dstrow);
        if (p->unsharp) unsharp_row(p, pp_row(&s->src, y), blur, out, n);
    }
}

typedef struct gauss_args {
    double sigma;
    int radius;
} gauss_args;

typedef struct unsharp_args {
    double sigma, amount;
    int threshold;
} unsharp_args;

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
    /* paired taps in Q16 (each pair is g[k] + g[2r-k] = 2 g[k]; mulhrs of (a+b)<<6 by W gives
       (a+b) W / 2^9, so W = g[k] / sum * 2^16), centre in Q15; the centre takes the rounding
       remainder so that the taps sum to exactly one. */
    long total = 0;
    for (int k = 0; k < r; k++) {
        gp->w[k] = (int16_t)lround(g[k] / sum * 65536.0);
        total += 2L * gp->w[k];
    }
    long centre = (65536L - total) / 2;
    gp->identity = centre >= 32768;
    gp->w[r] = (int16_t)(centre >= 32768 ? 32767 : centre);
    gp->r = r;
    gp->isa = pp_cpu_has(PP_CPU_AVX512BW) ? ISA_AVX512 : pp_cpu_has(PP_CPU_AVX2) ? ISA_AVX2
                                                                                 : ISA_SCALAR;
    return PP_OK;
}

static pp_status plan_gaussian(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                               size_t errlen)
{
    plan->out = *in;
    pp_stage_tmpl *st = pp_plan_add_stage(plan, gauss_kernel, PP_BUF_IN, PP_BUF_OUT);
    gauss_params *gp = PP_PARAMS_OF(gauss_params, st);
    const gauss_args *a = PP_ARGS(gauss_args, p);
    pp_status s = gauss_setup(a->sigma, a->radius, gp, err, errlen);
    if (s) return s;
    st->scratch_bytes = gauss_scratch(in->width, in->channels, gp->r);
    st->min_band_rows = 20 * gp->r; /* halo (2r rows) <= 10% of a band */
    return PP_OK;
}

static pp_status plan_unsharp(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                              size_t errlen)
{
    plan->out = *in;
    pp_stage_tmpl *st = pp_plan_add_stage(plan, gauss_kernel, PP_BUF_IN, PP_BUF_OUT);
    gauss_params *gp = PP_PARAMS_OF(gauss_params, st);
    const unsharp_args *a = PP_ARGS(unsharp_args, p);
    pp_status s = gauss_setup(a->sigma, 0, gp, err, errlen);
    if (s) return s;
    gp->unsharp = 1;
    gp->threshold = a->threshold;
    for (int d = -255; d <= 255; d++) {
        double v = round(a->amount * d); /* round() is half away from zero */
        gp->amt[d + 255] = (int16_t)(v > 510 ? 510 : v < -510 ? -510 : v);
    }
    /* a multiply-shift equal to the table for every |d| (and symmetric, as round() is) */
    gp->amul = -1;
    for (int sh = 12; sh <= 20 && gp->amul < 0; sh++) {
        long base = lround(a->amount * (double)(1L << sh));
        for (long m = base - 2; m <= base + 2 && gp->amul < 0; m++) {
            if (m < 0 || m * 255 + (1L << (sh - 1)) > INT32_MAX) continue;
            int ok = 1;
            for (int d = 0; d <= 255 && ok; d++) {
                long t = (d * m + (1L << (sh - 1))) >> sh;
                ok = t == (long)round(a->amount * d) || (t > 510 && gp->amt[d + 255] == 510);
            }
            if (ok) {
                gp->amul = (int32_t)m;
                gp->ashift = sh;
            }
        }
    }
    st->scratch_bytes = gauss_scratch(in->width, in->channels, gp->r);
    st->min_band_rows = 20 * gp->r; /* halo (2r rows) <= 10% of a band */
    return PP_OK;
}

/* ---- box ---------------------------------------------------------------------------------- */

typedef struct box_params {
    int r;
    uint64_t inv; /* ceil(2^48 / (2n)) */
    uint32_t n;
    /* r <= BOX_SMALL_R: 16-bit path. floor((2S + n) / (2n)) = floor(T / n) with
       T = S + (n - 1) / 2 (n is odd), computed as ((T * m) >> 16) >> sh, verified at plan time
       for every possible T. */
    int small;
    uint16_t m, sh, half;
} box_params;

typedef struct box_args {
    int radius;
} box_args;

#define BOX_SMALL_R 7 /* 255 (2r+1)^2 + (n-1)/2 < 2^16 */

/* Small windows: 16-bit column sums updated per row, a direct (2r+1)-term horizontal sum in
   16-bit lanes and a multiply-high division: all of it vectorises, 32 values per AVX-512 op. */
PP_CLONES static void box_kernel_small(const pp_stage *s, int y0, int y1, void *scratch)
{
    const box_params *p = PP_STAGE_PARAMS(box_params, s);
    const int c = s->src.channels, w = s->src.width, h = s->src.height, r = p->r;
    const size_t n = (size_t)w * c;
    uint16_t *pcol = scratch;                      /* padded column sums, (w+2r)*c */
    uint16_t *col = pcol + (size_t)r * c;          /* the real columns, inside pcol */
    for (size_t i = 0; i < n; i++) col[i] = 0;
    for (int yy = y0 - r; yy <= y0 + r; yy++) {
        const uint8_t *in = pp_row(&s->src, pp_clampi(yy, 0, h - 1));
        for (size_t i = 0; i < n; i++) col[i] = (uint16_t)(col[i] + in[i]);
    }
    const uint16_t m = p->m, sh = p->sh, half = p->half;
    for (int y = y0; y < y1; y++) {
        if (y + 1 < y1) { /* the next row's new input row and output row */
            pp_prefetch(pp_row(&s->src, pp_clampi(y + 1 + r, 0, h - 1)), n, false);
            pp_prefetch_out(&s->dst, y + 1);
        }
        if (y > y0) {
            const uint8_t *add = pp_row(&s->src, pp_clampi(y + r, 0, h - 1));
            const uint8_t *sub = pp_row(&s->src, pp_clampi(y - r - 1, 0, h - 1));
            for (size_t i = 0; i < n; i++) col[i] = (uint16_t)(col[i] + add[i] - sub[i]);
        }
        for (int i = 0; i < r; i++)
            for (int k = 0; k < c; k++) {
                pcol[i * c + k] = col[k];
                pcol[(size_t)(r + w + i) * c + k] = col[(size_t)(w - 1) * c + k];
            }
        uint8_t *out = pp_row(&s->dst, y);
        for (size_t i0 = 0; i0 < n; i0 += CHUNK) {
            const size_t len = n - i0 < CHUNK ? n - i0 : CHUNK;
            uint16_t acc[CHUNK];
            for (size_t i = 0; i < len; i++) acc[i] = half;
            for (int k = 0; k <= 2 * r; k++) {
                const uint16_t *a = pcol + i0 + (size_t)k * c;
                for (size_t i = 0; i < len; i++) acc[i] = (uint16_t)(acc[i] + a[i]);
            }
            for (size_t i = 0; i < len; i++)
                out[i0 + i] = (uint8_t)((uint16_t)(((uint32_t)acc[i] * m) >> 16) >> sh);
        }
    }
}

static void box_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const box_params *p = PP_STAGE_PARAMS(box_params, s);
    if (p->small) {
        box_kernel_small(s, y0, y1, scratch);
        return;
    }
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
    bp->r = PP_ARGS(box_args, p)->radius;
    bp->n = (uint32_t)(2 * bp->r + 1) * (uint32_t)(2 * bp->r + 1);
    uint64_t d = 2 * (uint64_t)bp->n;
    bp->inv = (((uint64_t)1 << 48) + d - 1) / d;
    if (bp->r <= BOX_SMALL_R) {
        const uint32_t n = bp->n, tmax = 255 * n + (n - 1) / 2;
        for (uint32_t sh = 0; sh < 16 && !bp->small; sh++) {
            uint64_t m = (((uint64_t)1 << (16 + sh)) + n - 1) / n;
            if (m > 65535) break;
            uint32_t t = 0;
            while (t <= tmax && ((((uint32_t)t * (uint32_t)m) >> 16) >> sh) == t / n) t++;
            if (t > tmax) {
                bp->small = 1;
                bp->m = (uint16_t)m;
                bp->sh = (uint16_t)sh;
                bp->half = (uint16_t)((n - 1) / 2);
            }
        }
    }
    size_t nbytes = (size_t)in->width * in->channels * 4;
    st->scratch_bytes = pp_align_up(nbytes) + pp_align_up((size_t)(in->width + 2 * bp->r) * in->channels * 4);
    st->min_band_rows = 2 * bp->r;
    return PP_OK;
}

/* ---- registry entries --------------------------------------------------------------------- */

static const pp_param_def p_box[] = {
    PP_PARAM(box_args, radius, INT, 1, 0, 500, NULL, OPTIONAL, "window is (2 radius + 1) squared")};
static const pp_param_def p_gauss[] = {
    PP_PARAM(gauss_args, sigma, FLOAT, 1, 0.1, 60, NULL, OPTIONAL, "standard deviation in pixels"),
    PP_PARAM(gauss_args, radius, INT, 0, 0, GAUSS_MAX_R, NULL, OPTIONAL,
             "taps each side; 0 = ceil(3 sigma)")};
static const pp_param_def p_unsharp[] = {
    PP_PARAM(unsharp_args, sigma, FLOAT, 1, 0.1, 60, NULL, OPTIONAL, "blur standard deviation"),
    PP_PARAM(unsharp_args, amount, FLOAT, 1, 0, 20, NULL, OPTIONAL, "strength of the added detail"),
    PP_PARAM(unsharp_args, threshold, INT, 0, 0, 255, NULL, OPTIONAL,
             "leave pixels with |v - blur| below it")};

static const pp_filter_def defs[] = {
    {{"box", "spatial", "mean over a square window",
      "Mean over the (2r+1)^2 window, rounded half up; edges extended; premultiplied alpha. "
      "Cost per pixel independent of r (running sums).", NULL, 0},
     PP_ALPHA_PREMUL, plan_box, PP_PARAM_DEFS(p_box), PP_DEPTH_8},
    {{"gaussian", "spatial", "Gaussian blur",
      "Separable normalised sampled Gaussian, taps i = -R..R (R = radius or ceil(3 sigma)), "
      "16-bit fixed point (taps to 2^-16 summing to 1, 7 fractional bits between the passes), "
      "rounded at the end; "
      "edges extended; premultiplied alpha.", NULL, 0},
     PP_ALPHA_PREMUL, plan_gaussian, PP_PARAM_DEFS(p_gauss), PP_DEPTH_8},
    {{"unsharp", "spatial", "unsharp mask",
      "d = v - gaussian(sigma); v' = |d| < threshold ? v : v + round(amount d), clamped; "
      "edges extended; premultiplied alpha.", NULL, 0},
     PP_ALPHA_PREMUL, plan_unsharp, PP_PARAM_DEFS(p_unsharp), PP_DEPTH_8},
};

const pp_filter_family pp_family_blur = {defs, (int)(sizeof defs / sizeof defs[0])};
