/*
 * convert.c - alpha and depth conversions of whole images (convert.h), run by the pipeline
 * around the filters: premultiply / unpremultiply at 8 and 16 bits and between them (exact
 * alpha: 8-bit input filtered on 16-bit premultiplied colour), widen and narrow.
 *
 * Each conversion is a function of one row; a kernel runs it over its rows. The definitions
 * are the scalar rows (integer arithmetic, rounded half up). The conversions of RGBA around a
 * filter (8-bit premultiplied into 16 bits and back, and 16-bit both ways) also have AVX-512
 * rows, for 4 channels: a scalar division per sample would otherwise cost several times the
 * filter. They give the same bytes (the 16-bit ones say why next to their code):
 *   8 -> 16:  P = round(257 c a / 255) = x + floor((4 x + 255) / 510) with x = c a, the second
 *             term as floor((4 x + 255.5) / 510) in single precision (exact: 4 x + 255.5 is
 *             exact, it is at least 0.5 / 510 away from a multiple of 510, and the rounding
 *             error is below 2^-12; tests/test_alpha_exact.c checks every (c, a)).
 *   16 -> 8:  c = round(P 255 / A) = floor((510 P + A) / (2 A)) for P < A (255 for P >= A, 0
 *             for A = 0): an estimate from the approximate reciprocal of A (relative error
 *             2^-14, so off by at most 1 on results below 256), corrected by the exact
 *             remainder 510 P + A - 2 A q in 32-bit integers; a = floor((A + 128.5) / 257)
 *             in single precision (checked for every A). Four opaque pixels (A = 65535) are
 *             narrowed as a whole: c = round(P 255 / 65535) = round(P / 257), the same formula.
 * The variant is chosen once per process (pp_convert_kernel), never inside a kernel.
 */
#include "convert.h"

#include <stdbool.h>

typedef void (*row_fn)(const uint8_t *in, uint8_t *out, int w, int c);

/* ---- the definitions: one row each ------------------------------------------------------- */

static void premul8_row(const uint8_t *in, uint8_t *out, int w, int c)
{
    const int cc = c - 1;
    for (int x = 0; x < w; x++) {
        const unsigned a = in[x * c + cc];
        for (int k = 0; k < cc; k++) out[x * c + k] = (uint8_t)((in[x * c + k] * a + 127u) / 255u);
        out[x * c + cc] = (uint8_t)a;
    }
}

static void unpremul8_row(const uint8_t *in, uint8_t *out, int w, int c)
{
    const int cc = c - 1;
    for (int x = 0; x < w; x++) {
        const unsigned a = in[x * c + cc];
        for (int k = 0; k < cc; k++) {
            const unsigned v = a ? (in[x * c + k] * 510u + a) / (2u * a) : 0u;
            out[x * c + k] = (uint8_t)(v > 255u ? 255u : v);
        }
        out[x * c + cc] = (uint8_t)a;
    }
}

static void premul16_row(const uint8_t *in8, uint8_t *out8, int w, int c)
{
    const uint16_t *in = (const uint16_t *)(const void *)in8;
    uint16_t *out = (uint16_t *)(void *)out8;
    const int cc = c - 1;
    for (int x = 0; x < w; x++) {
        const uint32_t a = in[x * c + cc];
        for (int k = 0; k < cc; k++)
            out[x * c + k] = (uint16_t)((in[x * c + k] * a + 32767u) / 65535u);
        out[x * c + cc] = (uint16_t)a;
    }
}

static void unpremul16_row(const uint8_t *in8, uint8_t *out8, int w, int c)
{
    const uint16_t *in = (const uint16_t *)(const void *)in8;
    uint16_t *out = (uint16_t *)(void *)out8;
    const int cc = c - 1;
    for (int x = 0; x < w; x++) {
        const uint64_t a = in[x * c + cc];
        for (int k = 0; k < cc; k++) {
            const uint64_t v = a ? (in[x * c + k] * 131070ull + a) / (2u * a) : 0u;
            out[x * c + k] = (uint16_t)(v > 65535u ? 65535u : v);
        }
        out[x * c + cc] = (uint16_t)a;
    }
}

/* Exact alpha for 8-bit input: colour c and alpha a (8 bits) to 16-bit premultiplied colour,
   P = round(257 c * 257 a / 65535) = round(257 c a / 255), and A = 257 a. */
static void premul8to16_row(const uint8_t *in, uint8_t *out8, int w, int c)
{
    uint16_t *out = (uint16_t *)(void *)out8;
    const int cc = c - 1;
    for (int x = 0; x < w; x++) {
        const uint32_t a = in[x * c + cc];
        for (int k = 0; k < cc; k++)
            out[x * c + k] = (uint16_t)((in[x * c + k] * a * 514u + 255u) / 510u);
        out[x * c + cc] = (uint16_t)(a * 257u);
    }
}

/* Back from 16-bit premultiplied colour to 8 bits: a = round(A / 257),
   c = A ? min(255, round(P * 255 / A)) : 0 (the colour divided by the exact 16-bit alpha). */
static void unpremul16to8_row(const uint8_t *in8, uint8_t *out, int w, int c)
{
    const uint16_t *in = (const uint16_t *)(const void *)in8;
    const int cc = c - 1;
    for (int x = 0; x < w; x++) {
        const uint32_t a = in[x * c + cc];
        for (int k = 0; k < cc; k++) {
            const uint32_t v = a ? (in[x * c + k] * 510u + a) / (2u * a) : 0u;
            out[x * c + k] = (uint8_t)(v > 255u ? 255u : v);
        }
        out[x * c + cc] = (uint8_t)((a + 128u) / 257u);
    }
}

/* 8 -> 16 bits: v * 257 (0 -> 0, 255 -> 65535). */
static void widen_row(const uint8_t *in, uint8_t *out8, int w, int c)
{
    uint16_t *out = (uint16_t *)(void *)out8;
    const size_t n = (size_t)w * (size_t)c;
    for (size_t i = 0; i < n; i++) out[i] = (uint16_t)(in[i] * 257u);
}

/* 16 -> 8 bits: round(v / 257) = floor((v + 128) / 257) (no ties: 257 is odd). */
static void narrow_row(const uint8_t *in8, uint8_t *out, int w, int c)
{
    const uint16_t *in = (const uint16_t *)(const void *)in8;
    const size_t n = (size_t)w * (size_t)c;
    for (size_t i = 0; i < n; i++) out[i] = (uint8_t)((in[i] + 128u) / 257u);
}

/* ---- AVX-512 rows for 4 channels (the same bytes; the file's comment says why) ------------ */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PP_CONVERT_X86 1

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

/* 4 RGBA pixels a step: 16 lanes of 32 bits, one pixel per 128-bit lane, alpha in lane 3. */
#define ALPHA_LANES ((__mmask16)0x8888)

AVX512 static void premul8to16_row_avx512(const uint8_t *in, uint8_t *out8, int w, int c)
{
    if (c != 4) {
        premul8to16_row(in, out8, w, c);
        return;
    }
    uint16_t *out = (uint16_t *)(void *)out8;
    const __m512i c255 = _mm512_set1_epi32(255), c257 = _mm512_set1_epi32(257);
    const __m512 half = _mm512_set1_ps(0.5f), r510 = _mm512_set1_ps(1.0f / 510.0f);
    int x = 0;
    for (; x + 4 <= w; x += 4) {
        const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const void *)(in + 4 * x)));
        const __m512i a = _mm512_shuffle_epi32(v, _MM_PERM_DDDD);
        const __m512i p = _mm512_mullo_epi32(v, a); /* x = c a <= 65025 */
        const __m512 y = _mm512_add_ps(
            _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_slli_epi32(p, 2), c255)), half);
        const __m512i q = _mm512_cvttps_epi32(_mm512_mul_ps(y, r510));
        __m512i r = _mm512_add_epi32(p, q);
        r = _mm512_mask_mullo_epi32(r, ALPHA_LANES, a, c257); /* A = 257 a */
        _mm256_storeu_si256((void *)(out + 4 * x), _mm512_cvtepi32_epi16(r));
    }
    premul8to16_row(in + 4 * x, (uint8_t *)(out + 4 * x), w - x, c);
}

AVX512 static void unpremul16to8_row_avx512(const uint8_t *in8, uint8_t *out, int w, int c)
{
    if (c != 4) {
        unpremul16to8_row(in8, out, w, c);
        return;
    }
    const uint16_t *in = (const uint16_t *)(const void *)in8;
    const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
    const __m512i c255 = _mm512_set1_epi32(255), c510 = _mm512_set1_epi32(510);
    const __m512 f255 = _mm512_set1_ps(255.0f), half = _mm512_set1_ps(0.5f);
    const __m512 a_off = _mm512_set1_ps(128.5f), r257 = _mm512_set1_ps(1.0f / 257.0f);
    const __m512i opaque = _mm512_set1_epi32(65535);
    int x = 0;
    for (; x + 4 <= w; x += 4) {
        const __m512i p = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const void *)(in + 4 * x)));
        const __mmask16 full = _mm512_mask_cmpeq_epi32_mask(ALPHA_LANES, p, opaque);
        if (full == ALPHA_LANES) { /* 4 opaque pixels: every sample is round(v / 257) */
            const __m512 v = _mm512_add_ps(_mm512_cvtepi32_ps(p), a_off);
            _mm_storeu_si128((void *)(out + 4 * x),
                             _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(_mm512_mul_ps(v, r257))));
            continue;
        }
        const __m512i a = _mm512_shuffle_epi32(p, _MM_PERM_DDDD);
        const __m512 af = _mm512_cvtepi32_ps(a);
        /* the estimate (lanes with A = 0 or P >= A are replaced below) */
        __m512i q = _mm512_cvttps_epi32(
            _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(p), f255), _mm512_rcp14_ps(af)), half));
        const __m512i d = _mm512_add_epi32(a, a);
        const __m512i rem = _mm512_sub_epi32(_mm512_add_epi32(_mm512_mullo_epi32(p, c510), a),
                                             _mm512_mullo_epi32(q, d));
        q = _mm512_mask_sub_epi32(q, _mm512_cmplt_epi32_mask(rem, zero), q, one);
        q = _mm512_mask_add_epi32(q, _mm512_cmpge_epi32_mask(rem, d), q, one);
        q = _mm512_mask_mov_epi32(q, _mm512_cmpge_epu32_mask(p, a), c255);
        q = _mm512_maskz_mov_epi32(_mm512_cmpneq_epi32_mask(a, zero), q);
        const __m512i a8 = _mm512_cvttps_epi32(_mm512_mul_ps(_mm512_add_ps(af, a_off), r257));
        q = _mm512_mask_mov_epi32(q, ALPHA_LANES, a8);
        _mm_storeu_si128((void *)(out + 4 * x), _mm512_cvtepi32_epi8(q));
    }
    unpremul16to8_row((const uint8_t *)(in + 4 * x), out + 4 * x, w - x, c);
}

/* 16-bit RGBA, 8 pixels a step in 16-bit lanes: P = floor((C A + 32767) / 65535) with
   C A + 32767 = H 65536 + L (a multiply high and low, the carry of the add), and
   floor of that over 65535 = H + (L >= 65535 - H), as H + L < 2 x 65535. */
AVX512 static void premul16_row_avx512(const uint8_t *in8, uint8_t *out8, int w, int c)
{
    if (c != 4) {
        premul16_row(in8, out8, w, c);
        return;
    }
    const uint16_t *in = (const uint16_t *)(const void *)in8;
    uint16_t *out = (uint16_t *)(void *)out8;
    /* alpha (word 3 of each pixel) into all four words of the pixel */
    const __m512i spread = _mm512_set4_epi32(0x0f0e0f0e, 0x0f0e0f0e, 0x07060706, 0x07060706);
    const __m512i half = _mm512_set1_epi16(32767), one = _mm512_set1_epi16(1);
    const __m512i ones = _mm512_set1_epi16(-1);
    const __mmask32 alpha = 0x88888888u;
    int x = 0;
    for (; x + 8 <= w; x += 8) {
        const __m512i v = _mm512_loadu_si512((const void *)(in + 4 * x));
        const __m512i a = _mm512_shuffle_epi8(v, spread);
        const __m512i lo = _mm512_mullo_epi16(v, a);
        __m512i hi = _mm512_mulhi_epu16(v, a);
        const __m512i lo2 = _mm512_add_epi16(lo, half);
        hi = _mm512_mask_add_epi16(hi, _mm512_cmplt_epu16_mask(lo2, lo), hi, one);
        __m512i p = _mm512_mask_add_epi16(hi, _mm512_cmpge_epu16_mask(lo2, _mm512_sub_epi16(ones, hi)),
                                          hi, one);
        p = _mm512_mask_mov_epi16(p, alpha, v);
        _mm512_storeu_si512((void *)(out + 4 * x), p);
    }
    premul16_row((const uint8_t *)(in + 4 * x), (uint8_t *)(out + 4 * x), w - x, c);
}

/* 16-bit RGBA, 2 pixels a step in double lanes: C = floor(P 65535 / A + 0.5) for P < A
   (65535 for P >= A, 0 for A = 0) as P 65535 r + (0.5 + 1e-9) truncated, r the reciprocal of
   A from vrcp14pd and two Newton steps (relative error near 2^-52). Exact: P 65535 / A is a half
   or at least 1 / (2 A) >= 2^-17 from one, the error of the product is below 2^-34, and the
   1e-9 lifts an exact half over. */
AVX512 static void unpremul16_row_avx512(const uint8_t *in8, uint8_t *out8, int w, int c)
{
    if (c != 4) {
        unpremul16_row(in8, out8, w, c);
        return;
    }
    const uint16_t *in = (const uint16_t *)(const void *)in8;
    uint16_t *out = (uint16_t *)(void *)out8;
    const __m512d one = _mm512_set1_pd(1.0), k65535 = _mm512_set1_pd(65535.0);
    const __m512d bias = _mm512_set1_pd(0.5 + 1e-9);
    const __m256i zero = _mm256_setzero_si256(), full = _mm256_set1_epi32(65535);
    const __mmask8 alpha = 0x88;
    int x = 0;
    for (; x + 2 <= w; x += 2) {
        const __m256i p = _mm256_cvtepu16_epi32(_mm_loadu_si128((const void *)(in + 4 * x)));
        const __m256i a = _mm256_shuffle_epi32(p, _MM_SHUFFLE(3, 3, 3, 3));
        const __m512d af = _mm512_cvtepi32_pd(a);
        __m512d r = _mm512_rcp14_pd(af);
        r = _mm512_fmadd_pd(r, _mm512_fnmadd_pd(af, r, one), r);
        r = _mm512_fmadd_pd(r, _mm512_fnmadd_pd(af, r, one), r);
        const __m512d pf = _mm512_mul_pd(_mm512_cvtepi32_pd(p), k65535);
        __m256i q = _mm512_cvttpd_epi32(_mm512_fmadd_pd(pf, r, bias));
        q = _mm256_mask_mov_epi32(q, _mm256_cmpge_epu32_mask(p, a), full);
        q = _mm256_maskz_mov_epi32(_mm256_cmpneq_epi32_mask(a, zero), q);
        q = _mm256_mask_mov_epi32(q, alpha, p);
        _mm_storeu_si128((void *)(out + 4 * x), _mm256_cvtepi32_epi16(q));
    }
    unpremul16_row((const uint8_t *)(in + 4 * x), (uint8_t *)(out + 4 * x), w - x, c);
}
#endif

/* ---- kernels ------------------------------------------------------------------------------ */

static void run_rows(const pp_stage *s, int y0, int y1, row_fn f)
{
    for (int y = y0; y < y1; y++) f(pp_row(&s->src, y), pp_row(&s->dst, y), s->src.width, s->src.channels);
}

#define ROW_KERNEL(name, row)                                                                  \
    static void name(const pp_stage *s, int y0, int y1, int band, void *scratch)              \
    {                                                                                          \
        (void)band;                                                                            \
        (void)scratch;                                                                         \
        run_rows(s, y0, y1, row);                                                              \
    }
ROW_KERNEL(premul8_kernel, premul8_row)
ROW_KERNEL(unpremul8_kernel, unpremul8_row)
ROW_KERNEL(premul16_kernel, premul16_row)
ROW_KERNEL(unpremul16_kernel, unpremul16_row)
ROW_KERNEL(premul8to16_kernel, premul8to16_row)
ROW_KERNEL(unpremul16to8_kernel, unpremul16to8_row)
ROW_KERNEL(widen_kernel, widen_row)
ROW_KERNEL(narrow_kernel, narrow_row)
#ifdef PP_CONVERT_X86
ROW_KERNEL(premul8to16_kernel_avx512, premul8to16_row_avx512)
ROW_KERNEL(unpremul16to8_kernel_avx512, unpremul16to8_row_avx512)
ROW_KERNEL(premul16_kernel_avx512, premul16_row_avx512)
ROW_KERNEL(unpremul16_kernel_avx512, unpremul16_row_avx512)
#endif

static bool has_avx512(void)
{
#ifdef PP_CONVERT_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
#else
    return false;
#endif
}

pp_kernel_fn pp_convert_kernel(pp_convert what)
{
    switch (what) {
    case PP_CONV_PREMUL8: return premul8_kernel;
    case PP_CONV_UNPREMUL8: return unpremul8_kernel;
#ifdef PP_CONVERT_X86
    case PP_CONV_PREMUL16: return has_avx512() ? premul16_kernel_avx512 : premul16_kernel;
    case PP_CONV_UNPREMUL16: return has_avx512() ? unpremul16_kernel_avx512 : unpremul16_kernel;
    case PP_CONV_PREMUL8TO16: return has_avx512() ? premul8to16_kernel_avx512 : premul8to16_kernel;
    case PP_CONV_UNPREMUL16TO8:
        return has_avx512() ? unpremul16to8_kernel_avx512 : unpremul16to8_kernel;
#else
    case PP_CONV_PREMUL16: return premul16_kernel;
    case PP_CONV_UNPREMUL16: return unpremul16_kernel;
    case PP_CONV_PREMUL8TO16: return premul8to16_kernel;
    case PP_CONV_UNPREMUL16TO8: return unpremul16to8_kernel;
#endif
    case PP_CONV_WIDEN: return widen_kernel;
    case PP_CONV_NARROW: return narrow_kernel;
    }
    return narrow_kernel; /* not reached: every value is handled above */
}
