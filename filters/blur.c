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
 *
 * 16 bits per channel (0..65535, kernels beside the 8-bit ones, picked in plan()):
 *   box                 the same definition, exact: 32-bit column sums, window sums in 32 bits
 *                       (r <= 7, direct) or 64 bits (running), floor(T / n) by an exact
 *                       multiply-high (see "box at 16 bits").
 *   gaussian            the same separable Gaussian with unquantised taps: single-precision
 *                       fused multiply-adds in one fixed order in every loop variant, the ring
 *                       of float rows between the passes, rounded half up once at the end;
 *                       within 1 level of the real-valued blur (see "gaussian / unsharp at
 *                       16 bits" for the bound).
 *   unsharp             g = the 16-bit gaussian, threshold x 257 (it is in 8-bit levels),
 *                       round(amount d) as the definition computes it in double, clamp to
 *                       0..65535.
 * PIXPOOL_BLUR_ISA=scalar|avx2 caps the 16-bit gaussian's loops (a test hook).
 */
#include "stencil.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- gaussian / unsharp at 16 bits -------------------------------------------------------- */

/* Floating-point scheme (single precision, fused multiply-adds, the same operations in the same
   order in every variant, so the scalar, AVX2+FMA and AVX-512 loops give the same bytes):
   taps w = (float)(g / sum g), zero below 2^-40 (so no product is ever subnormal), the zero
   outer taps trimmed (r16 <= R: they add exactly nothing). Per element, with p the samples of
   the padded row (exact in float) and s_k the sum of the pair of samples k taps from the
   outside (p[-d] + p[+d], d = r16 - k), from the outermost pair in:
     acc = 0; acc = fma(w_k, s_k, acc) for k = 0..r16-1; acc = fma(w_c, p[0], acc).
   The horizontal results stay floats in the ring (no rounding between the passes); the vertical
   pass is the same over them, and out = t + (v - t >= 0.5), t = trunc(v) (v - t is exact: half
   rounded up, values are never negative), clamped to 65535.
   Error: each fma rounds once, by at most 2^-24 of its result; summed from the outside in, the
   partial sums of a pass add up to at most 65535 (1 + E|i|) with E|i| <= 0.8 sigma + 1, and the
   taps are within 2^-24 of theirs. Over both passes the float result is within
   2 * 65535 * 2^-24 (3 + 0.8 sigma) < 0.40 levels (sigma <= 60) of the real-valued blur, so
   the output is within 0.9 levels of it. */

typedef struct gauss16_params {
    int r;                      /* taps each side after trimming the zero ones */
    int unsharp;
    int threshold;              /* unsharp: 257 x the 8-bit threshold */
    int identity;               /* every tap but the centre is 0 and the centre is 1 */
    int isa;                    /* ISA_SCALAR, ISA_AVX2 (with FMA), ISA_AVX512 */
    double amount;              /* unsharp */
    float w[GAUSS_MAX_R + 1];   /* w[k], k < r: the tap r - k pixels away; w[r]: the centre */
} gauss16_params;

#define G16_VL 16 /* the SIMD rows are computed in whole groups of 16 floats (scratch slack) */

static size_t g16_round(size_t n) { return (n + G16_VL - 1) / G16_VL * G16_VL; }

/* Row y (clamped) of a 16-bit view as floats, with r replicated pixels each side. */
static void pad_row_f(const pp_view *src, int y, int r, float *dst)
{
    const int c = src->channels, w = src->width;
    const uint16_t *in = pp_row16(src, pp_clampi(y, 0, src->height - 1));
    const size_t n = (size_t)w * c;
    float *mid = dst + (size_t)r * c;
    for (size_t i = 0; i < n; i++) mid[i] = (float)in[i];
    for (int i = 0; i < r; i++)
        for (int k = 0; k < c; k++) {
            dst[(size_t)i * c + k] = (float)in[k];
            dst[(size_t)(r + w + i) * c + k] = (float)in[(size_t)(w - 1) * c + k];
        }
}

static inline uint16_t g16_out(float v)
{
    int32_t t = (int32_t)v;
    t += v - (float)t >= 0.5f;
    return (uint16_t)(t > 65535 ? 65535 : t);
}

static void hrow16_scalar(const float *pf, size_t n, int r, int c, const float *w, float *out)
{
    for (size_t i = 0; i < n; i++) {
        float acc = 0.0f;
        for (int k = 0; k < r; k++)
            acc = fmaf(w[k], pf[i + (size_t)k * c] + pf[i + (size_t)(2 * r - k) * c], acc);
        out[i] = fmaf(w[r], pf[i + (size_t)r * c], acc);
    }
}

static void vrow16_scalar(const float *const *rows, size_t n, int r, const float *w,
                          uint16_t *out)
{
    for (size_t i = 0; i < n; i++) {
        float acc = 0.0f;
        for (int k = 0; k < r; k++) acc = fmaf(w[k], rows[k][i] + rows[2 * r - k][i], acc);
        out[i] = g16_out(fmaf(w[r], rows[r][i], acc));
    }
}

#ifdef PP_X86
/* n rounded up to G16_VL: the scratch rows have the slack */
__attribute__((target("avx2,fma"))) static void hrow16_avx2(const float *pf, size_t n, int r,
                                                             int c, const float *w, float *out)
{
    const size_t nv = g16_round(n);
    for (size_t i = 0; i < nv; i += 8) {
        __m256 acc = _mm256_setzero_ps();
        for (int k = 0; k < r; k++) {
            __m256 s = _mm256_add_ps(_mm256_loadu_ps(pf + i + (size_t)k * c),
                                     _mm256_loadu_ps(pf + i + (size_t)(2 * r - k) * c));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(w[k]), s, acc);
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(w[r]), _mm256_loadu_ps(pf + i + (size_t)r * c), acc);
        _mm256_storeu_ps(out + i, acc);
    }
}

__attribute__((target("avx2,fma"))) static __m256i g16_out_avx2(__m256 v)
{
    __m256i t = _mm256_cvttps_epi32(v);
    __m256 f = _mm256_sub_ps(v, _mm256_cvtepi32_ps(t));
    __m256i up = _mm256_castps_si256(_mm256_cmp_ps(f, _mm256_set1_ps(0.5f), _CMP_GE_OQ));
    return _mm256_sub_epi32(t, up); /* up is -1 where rounded up */
}

__attribute__((target("avx2,fma"))) static void vrow16_avx2(const float *const *rows, size_t n,
                                                             int r, const float *w, uint16_t *out)
{
    for (size_t i = 0; i < n; i += 16) {
        __m256i q[2];
        for (int h = 0; h < 2; h++) {
            const size_t o = i + 8 * (size_t)h;
            __m256 acc = _mm256_setzero_ps();
            for (int k = 0; k < r; k++) {
                __m256 s = _mm256_add_ps(_mm256_loadu_ps(rows[k] + o),
                                         _mm256_loadu_ps(rows[2 * r - k] + o));
                acc = _mm256_fmadd_ps(_mm256_set1_ps(w[k]), s, acc);
            }
            acc = _mm256_fmadd_ps(_mm256_set1_ps(w[r]), _mm256_loadu_ps(rows[r] + o), acc);
            q[h] = g16_out_avx2(acc);
        }
        /* unsigned saturation to 0..65535 (values are never negative) */
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(q[0], q[1]), 0xD8);
        if (i + 16 <= n) {
            _mm256_storeu_si256((void *)(out + i), p);
        } else {
            uint16_t tmp[16];
            _mm256_storeu_si256((void *)tmp, p);
            memcpy(out + i, tmp, (n - i) * 2);
        }
    }
}

__attribute__((target("avx512f,avx512bw"))) static void hrow16_avx512(const float *pf, size_t n,
                                                                      int r, int c,
                                                                      const float *w, float *out)
{
    const size_t nv = g16_round(n);
    for (size_t i = 0; i < nv; i += 16) {
        __m512 acc = _mm512_setzero_ps();
        for (int k = 0; k < r; k++) {
            __m512 s = _mm512_add_ps(_mm512_loadu_ps(pf + i + (size_t)k * c),
                                     _mm512_loadu_ps(pf + i + (size_t)(2 * r - k) * c));
            acc = _mm512_fmadd_ps(_mm512_set1_ps(w[k]), s, acc);
        }
        acc = _mm512_fmadd_ps(_mm512_set1_ps(w[r]), _mm512_loadu_ps(pf + i + (size_t)r * c), acc);
        _mm512_storeu_ps(out + i, acc);
    }
}

__attribute__((target("avx512f,avx512bw"))) static void vrow16_avx512(const float *const *rows,
                                                                      size_t n, int r,
                                                                      const float *w,
                                                                      uint16_t *out)
{
    for (size_t i = 0; i < n; i += 16) {
        __m512 acc = _mm512_setzero_ps();
        for (int k = 0; k < r; k++) {
            __m512 s = _mm512_add_ps(_mm512_loadu_ps(rows[k] + i),
                                     _mm512_loadu_ps(rows[2 * r - k] + i));
            acc = _mm512_fmadd_ps(_mm512_set1_ps(w[k]), s, acc);
        }
        acc = _mm512_fmadd_ps(_mm512_set1_ps(w[r]), _mm512_loadu_ps(rows[r] + i), acc);
        __m512i t = _mm512_cvttps_epi32(acc);
        __m512 f = _mm512_sub_ps(acc, _mm512_cvtepi32_ps(t));
        __mmask16 up = _mm512_cmp_ps_mask(f, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
        t = _mm512_mask_add_epi32(t, up, t, _mm512_set1_epi32(1));
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_cvtusepi32_storeu_epi16(out + i, m, t); /* saturates at 65535 */
    }
}
#endif

typedef void (*hrow16_fn)(const float *, size_t, int, int, const float *, float *);
typedef void (*vrow16_fn)(const float *const *, size_t, int, const float *, uint16_t *);

static void pick_rows16(int isa, hrow16_fn *h, vrow16_fn *v)
{
    *h = hrow16_scalar;
    *v = vrow16_scalar;
#ifdef PP_X86
    if (isa == ISA_AVX512) {
        *h = hrow16_avx512;
        *v = vrow16_avx512;
    } else if (isa == ISA_AVX2) {
        *h = hrow16_avx2;
        *v = vrow16_avx2;
    }
#else
    (void)isa;
#endif
}

/* Scratch of the 16-bit kernel: the ring of 2r+1 float rows, the padded float input row, the
   blurred row (unsharp); every float row has G16_VL floats of slack for the SIMD loops. */
static size_t g16_hstride(int w, int c) { return pp_align_up(g16_round((size_t)w * c) * 4) / 4; }
static size_t g16_pstride(int w, int c, int r)
{
    return pp_align_up((g16_round((size_t)w * c) + (size_t)2 * r * c) * 4) / 4;
}
static size_t gauss16_scratch(int w, int c, int r)
{
    return g16_hstride(w, c) * 4 * (size_t)(2 * r + 1) + g16_pstride(w, c, r) * 4 +
           pp_align_up((size_t)w * c * 2);
}

/* v' = |d| < threshold ? v : clamp(v + round(amount d)), d = v - blur. round(amount |d|) is
   computed as the C definition does: x = amount |d| (one double product, the same value as the
   definition's), then t = trunc(x) + (x >= trunc(x) + 0.5), which is round(x) for x >= 0
   exactly (a comparison, so no multiply-add can be fused into the product); vectorises. */
PP_CLONES static void unsharp_row16(double amount, int thr, const uint16_t *in,
                                    const uint16_t *blur, uint16_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int32_t d = (int32_t)in[i] - (int32_t)blur[i];
        int32_t ad = d < 0 ? -d : d;
        double x = amount * (double)ad;
        int32_t t = (int32_t)x;
        t += x >= (double)t + 0.5;
        int32_t v = (int32_t)in[i] + (d < 0 ? -t : t);
        v = v < 0 ? 0 : v > 65535 ? 65535 : v;
        out[i] = (uint16_t)(ad < thr ? in[i] : v);
    }
}

static void gauss16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const gauss16_params *p = PP_STAGE_PARAMS(gauss16_params, s);
    const int c = s->src.channels, w = s->src.width, r = p->r, nr = 2 * r + 1;
    const size_t n = (size_t)w * c;
    const size_t hstride = g16_hstride(w, c), pstride = g16_pstride(w, c, r);
    float *ring = scratch;
    float *pf = ring + hstride * (size_t)nr;
    uint16_t *blur = (uint16_t *)(void *)(pf + pstride);
    hrow16_fn hrow;
    vrow16_fn vrow;
    pick_rows16(p->isa, &hrow, &vrow);
    for (size_t i = (size_t)(w + 2 * r) * c; i < pstride; i++) pf[i] = 0.0f; /* SIMD slack */

    if (p->identity) {
        for (int y = y0; y < y1; y++) {
            uint16_t *out = pp_row16(&s->dst, y);
            const uint16_t *in = pp_row16(&s->src, y);
            if (p->unsharp) {
                memcpy(blur, in, n * 2);
                unsharp_row16(p->amount, p->threshold, in, blur, out, n);
            } else {
                memcpy(out, in, n * 2);
            }
        }
        return;
    }
    for (int yy = y0 - r; yy < y0 + r; yy++) {
        pad_row_f(&s->src, yy, r, pf);
        hrow(pf, n, r, c, p->w, ring + (size_t)((yy - y0 + r) % nr) * hstride);
    }
    const float *rows[2 * GAUSS_MAX_R + 1];
    for (int y = y0; y < y1; y++) {
        int yn = y + r;
        pad_row_f(&s->src, yn, r, pf);
        if (yn + 1 < s->src.height) pp_prefetch(pp_row16(&s->src, yn + 1), n * 2, false);
        hrow(pf, n, r, c, p->w, ring + (size_t)((yn - y0 + r) % nr) * hstride);
        uint16_t *out = pp_row16(&s->dst, y);
        uint16_t *dstrow = p->unsharp ? blur : out;
        int slot = (y - y0) % nr; /* ring slot of row y - r */
        for (int k = 0; k < nr; k++) {
            rows[k] = ring + (size_t)slot * hstride;
            if (++slot == nr) slot = 0;
        }
        vrow(rows, n, r, p->w, dstrow);
        if (p->unsharp) unsharp_row16(p->amount, p->threshold, pp_row16(&s->src, y), blur, out, n);
    }
}

/* The loops the 16-bit kernel runs: the widest this CPU has, or a narrower one named by the
   environment variable PIXPOOL_BLUR_ISA=scalar|avx2 (a test hook: every choice gives the same
   bytes). The AVX2 loops need FMA as well (every AVX2 CPU has it, but it is checked). */
static int pick_isa16(void)
{
    int isa = ISA_SCALAR;
#ifdef PP_X86
    if (pp_cpu_has(PP_CPU_AVX2) && __builtin_cpu_supports("fma")) isa = ISA_AVX2;
    if (pp_cpu_has(PP_CPU_AVX512F | PP_CPU_AVX512BW)) isa = ISA_AVX512;
#endif
    const char *e = getenv("PIXPOOL_BLUR_ISA");
    if (e) {
        const int want = !strcmp(e, "scalar") ? ISA_SCALAR : !strcmp(e, "avx2") ? ISA_AVX2 : isa;
        if (want < isa) isa = want;
    }
    return isa;
}

static pp_status gauss16_setup(double sigma, int radius, gauss16_params *gp, char *err,
                               size_t errlen)
{
    int r = radius > 0 ? radius : (int)ceil(3.0 * sigma);
    if (r > GAUSS_MAX_R) {
        snprintf(err, errlen, "radius %d is larger than the maximum %d", r, GAUSS_MAX_R);
        return PP_ERR_SPEC;
    }
    if (r < 1) r = 1;
    double g[GAUSS_MAX_R + 1], sum = 0; /* g[d]: the tap d pixels from the centre */
    for (int d = 0; d <= r; d++) {
        g[d] = exp(-(double)d * d / (2.0 * sigma * sigma));
        sum += d ? 2 * g[d] : g[d];
    }
    const double tiny = ldexp(1.0, -40);
    int rt = r;
    while (rt > 0 && g[rt] / sum < tiny) rt--;
    gp->r = rt > 0 ? rt : 1;
    for (int k = 0; k < gp->r; k++) {
        double v = g[gp->r - k] / sum;
        gp->w[k] = v < tiny ? 0.0f : (float)v;
    }
    gp->w[gp->r] = (float)(g[0] / sum);
    gp->identity = rt == 0 && gp->w[gp->r] == 1.0f;
    gp->isa = pick_isa16();
    return PP_OK;
}

static pp_status plan_gaussian16(double sigma, int radius, const pp_geom *in, pp_plan *plan,
                                 pp_stage_tmpl **stage, char *err, size_t errlen)
{
    pp_stage_tmpl *st = pp_plan_add_stage(plan, gauss16_kernel, PP_BUF_IN, PP_BUF_OUT);
    gauss16_params *gp = PP_PARAMS_OF(gauss16_params, st);
    pp_status s = gauss16_setup(sigma, radius, gp, err, errlen);
    if (s) return s;
    st->scratch_bytes = gauss16_scratch(in->width, in->channels, gp->r);
    st->min_band_rows = 20 * gp->r; /* halo (2r rows) <= 10% of a band */
    *stage = st;
    return PP_OK;
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
    const gauss_args *a = PP_ARGS(gauss_args, p);
    if (pp_geom_depth(in) == 16) {
        pp_stage_tmpl *st16;
        return plan_gaussian16(a->sigma, a->radius, in, plan, &st16, err, errlen);
    }
    pp_stage_tmpl *st = pp_plan_add_stage(plan, gauss_kernel, PP_BUF_IN, PP_BUF_OUT);
    gauss_params *gp = PP_PARAMS_OF(gauss_params, st);
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
    const unsharp_args *a = PP_ARGS(unsharp_args, p);
    if (pp_geom_depth(in) == 16) {
        pp_stage_tmpl *st16;
        pp_status s16 = plan_gaussian16(a->sigma, 0, in, plan, &st16, err, errlen);
        if (s16) return s16;
        gauss16_params *gp16 = PP_PARAMS_OF(gauss16_params, st16);
        gp16->unsharp = 1;
        gp16->threshold = a->threshold * 257;
        gp16->amount = a->amount;
        return PP_OK;
    }
    pp_stage_tmpl *st = pp_plan_add_stage(plan, gauss_kernel, PP_BUF_IN, PP_BUF_OUT);
    gauss_params *gp = PP_PARAMS_OF(gauss_params, st);
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

/* ---- box at 16 bits ----------------------------------------------------------------------- */

/* The same definition, floor((2S + n) / (2n)) = floor(T / n) with T = S + (n - 1) / 2 (n is
   odd), exactly: T / n as (T m) >> k, m = ceil(2^k / n), which is floor(T / n) whenever
   T (m n - 2^k) < 2^k (m n - 2^k < n). Small windows (r <= BOX16_SMALL_R): 32-bit column and
   window sums (T < 65536 n <= 2^24), k = 32, a 32 x 32 -> 64-bit product that vectorises.
   Larger ones: 32-bit column sums (65535 (2r+1) < 2^32), 64-bit running window sums
   (T < 65536 n < 2^36), k = 57 with a 64 x 64 -> 128-bit product (T e < 2^16 n^2 < 2^56). */
#define BOX16_SMALL_R 7

typedef struct box16_params {
    int r;
    uint32_t n, half; /* (2r+1)^2, (n - 1) / 2 */
    int k;
    uint64_t m;
} box16_params;

__extension__ typedef unsigned __int128 box_u128;

static void box16_copy(const pp_stage *s, int y0, int y1)
{
    const size_t bytes = (size_t)s->src.width * s->src.channels * 2;
    for (int y = y0; y < y1; y++) memcpy(pp_row16(&s->dst, y), pp_row16(&s->src, y), bytes);
}

/* out[i] = floor((half + sum of the taps column sums from i on, c apart) / n), n = (2r+1)^2 */
static inline __attribute__((always_inline)) void box16_hsum(const uint32_t *pcol, size_t len,
                                                            int c, int taps, uint32_t half,
                                                            uint32_t m, uint16_t *out)
{
    for (size_t i = 0; i < len; i++) {
        uint32_t a = half;
        for (int k = 0; k < taps; k++) a += pcol[i + (size_t)k * c];
        out[i] = (uint16_t)(((uint64_t)a * m) >> 32);
    }
}

PP_CLONES static void box16_kernel_small(const pp_stage *s, int y0, int y1, void *scratch)
{
    const box16_params *p = PP_STAGE_PARAMS(box16_params, s);
    const int c = s->src.channels, w = s->src.width, h = s->src.height, r = p->r;
    const size_t n = (size_t)w * c;
    uint32_t *pcol = scratch;             /* padded column sums, (w+2r)*c */
    uint32_t *col = pcol + (size_t)r * c; /* the real columns, inside pcol */
    for (size_t i = 0; i < n; i++) col[i] = 0;
    for (int yy = y0 - r; yy <= y0 + r; yy++) {
        const uint16_t *in = pp_row16(&s->src, pp_clampi(yy, 0, h - 1));
        for (size_t i = 0; i < n; i++) col[i] += in[i];
    }
    const uint32_t m = (uint32_t)p->m, half = p->half;
    for (int y = y0; y < y1; y++) {
        if (y + 1 < y1) {
            pp_prefetch(pp_row16(&s->src, pp_clampi(y + 1 + r, 0, h - 1)), n * 2, false);
            if (y + 1 < s->dst.height) pp_prefetch(pp_row16(&s->dst, y + 1), n * 2, true);
        }
        if (y > y0) {
            const uint16_t *add = pp_row16(&s->src, pp_clampi(y + r, 0, h - 1));
            const uint16_t *sub = pp_row16(&s->src, pp_clampi(y - r - 1, 0, h - 1));
            for (size_t i = 0; i < n; i++) col[i] = col[i] + add[i] - sub[i];
        }
        for (int i = 0; i < r; i++)
            for (int k = 0; k < c; k++) {
                pcol[i * c + k] = col[k];
                pcol[(size_t)(r + w + i) * c + k] = col[(size_t)(w - 1) * c + k];
            }
        uint16_t *out = pp_row16(&s->dst, y);
        switch (r) { /* one pass with the taps in registers, unrolled for each width */
        case 1: box16_hsum(pcol, n, c, 3, half, m, out); break;
        case 2: box16_hsum(pcol, n, c, 5, half, m, out); break;
        case 3: box16_hsum(pcol, n, c, 7, half, m, out); break;
        case 4: box16_hsum(pcol, n, c, 9, half, m, out); break;
        case 5: box16_hsum(pcol, n, c, 11, half, m, out); break;
        case 6: box16_hsum(pcol, n, c, 13, half, m, out); break;
        default: box16_hsum(pcol, n, c, 15, half, m, out); break;
        }
    }
}

static void box16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const box16_params *p = PP_STAGE_PARAMS(box16_params, s);
    if (p->r == 0) {
        box16_copy(s, y0, y1);
        return;
    }
    if (p->r <= BOX16_SMALL_R) {
        box16_kernel_small(s, y0, y1, scratch);
        return;
    }
    const int c = s->src.channels, w = s->src.width, h = s->src.height, r = p->r;
    const size_t n = (size_t)w * c;
    uint32_t *col = scratch;                       /* column sums, w*c */
    uint32_t *pcol = col + pp_align_up(n * 4) / 4; /* padded column sums, (w+2r)*c */
    for (size_t i = 0; i < n; i++) col[i] = 0;
    for (int yy = y0 - r; yy <= y0 + r; yy++) {
        const uint16_t *in = pp_row16(&s->src, pp_clampi(yy, 0, h - 1));
        for (size_t i = 0; i < n; i++) col[i] += in[i];
    }
    const uint64_t m = p->m, half = p->half;
    const int sh = p->k;
    for (int y = y0; y < y1; y++) {
        if (y > y0) {
            const uint16_t *add = pp_row16(&s->src, pp_clampi(y + r, 0, h - 1));
            const uint16_t *sub = pp_row16(&s->src, pp_clampi(y - r - 1, 0, h - 1));
            for (size_t i = 0; i < n; i++) col[i] = col[i] + add[i] - sub[i];
        }
        for (int i = 0; i < r; i++)
            for (int k = 0; k < c; k++) {
                pcol[i * c + k] = col[k];
                pcol[(size_t)(r + w + i) * c + k] = col[(size_t)(w - 1) * c + k];
            }
        memcpy(pcol + (size_t)r * c, col, n * 4);
        uint16_t *out = pp_row16(&s->dst, y);
        for (int k = 0; k < c; k++) {
            uint64_t sum = half;
            for (int i = 0; i < 2 * r + 1; i++) sum += pcol[i * c + k];
            for (int x = 0;; x++) {
                out[(size_t)x * c + k] = (uint16_t)(((box_u128)sum * m) >> sh);
                if (x + 1 == w) break;
                sum += (uint64_t)pcol[(size_t)(x + 2 * r + 1) * c + k] - pcol[(size_t)x * c + k];
            }
        }
    }
}

static pp_status plan_box16(int r, const pp_geom *in, pp_plan *plan)
{
    pp_stage_tmpl *st = pp_plan_add_stage(plan, box16_kernel, PP_BUF_IN, PP_BUF_OUT);
    box16_params *bp = PP_PARAMS_OF(box16_params, st);
    bp->r = r;
    bp->n = (uint32_t)(2 * r + 1) * (uint32_t)(2 * r + 1);
    bp->half = (bp->n - 1) / 2;
    bp->k = r <= BOX16_SMALL_R ? 32 : 57;
    bp->m = (((uint64_t)1 << bp->k) + bp->n - 1) / bp->n;
    size_t nbytes = (size_t)in->width * in->channels * 4;
    st->scratch_bytes = pp_align_up(nbytes) + pp_align_up((size_t)(in->width + 2 * r) * in->channels * 4);
    st->min_band_rows = 2 * r;
    return PP_OK;
}

static pp_status plan_box(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                          size_t errlen)
{
    (void)err;
    (void)errlen;
    plan->out = *in;
    if (pp_geom_depth(in) == 16) return plan_box16(PP_ARGS(box_args, p)->radius, in, plan);
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
      "Cost per pixel independent of r (running sums). "
      "16 bits: the same mean on 0..65535, exact (32-bit column sums, 32- or 64-bit window "
      "sums, an exact multiply-high division).", NULL, 0},
     PP_ALPHA_PREMUL, plan_box, PP_PARAM_DEFS(p_box), PP_DEPTH_8 | PP_DEPTH_16},
    {{"gaussian", "spatial", "Gaussian blur",
      "Separable normalised sampled Gaussian, taps i = -R..R (R = radius or ceil(3 sigma)), "
      "16-bit fixed point (taps to 2^-16 summing to 1, 7 fractional bits between the passes), "
      "rounded at the end; "
      "edges extended; premultiplied alpha. "
      "16 bits: taps in single precision (not quantised; those below 2^-40 are 0), both passes "
      "in float with fused multiply-adds in one fixed order, no rounding between them, the "
      "result rounded half up and clamped to 0..65535: within 1 level of the exact blur.", NULL, 0},
     PP_ALPHA_PREMUL, plan_gaussian, PP_PARAM_DEFS(p_gauss), PP_DEPTH_8 | PP_DEPTH_16},
    {{"unsharp", "spatial", "unsharp mask",
      "d = v - gaussian(sigma); v' = |d| < threshold ? v : v + round(amount d), clamped; "
      "edges extended; premultiplied alpha. "
      "16 bits: gaussian is the 16-bit one, threshold is in 8-bit levels (x 257 at 16 bits), "
      "round() half away from zero, clamped to 0..65535.", NULL, 0},
     PP_ALPHA_PREMUL, plan_unsharp, PP_PARAM_DEFS(p_unsharp), PP_DEPTH_8 | PP_DEPTH_16},
};

const pp_filter_family pp_family_blur = {defs, (int)(sizeof defs / sizeof defs[0])};
