/*
 * affine16.h - v' = clamp(round(v ga + gb)) on runs of 16-bit samples, with a gain and an offset
 * per channel (filters/ only): contrast and linear (point.c) and normalize (histogram.c) at 16
 * bits. Alpha is passed through by giving it ga = 1, gb = 0 (v 1 + 0 = v exactly).
 *
 * Every variant gives the same bytes: x = v ga + gb in double, then clamped to [0, 65535] and
 * rounded half up ((int)(x + 0.5)). The AVX-512 loop uses a fused multiply-add and clamps after
 * the conversion (truncating x + 0.5 then clamping to 0..65535 equals clamping first for every
 * |x| < 2^31); the scalar loop multiplies and adds. The callers keep the two equal: contrast and
 * linear round the gain to single precision, so v ga (16 x 24 bits) is exact and fused or not
 * is the same; normalize's result is exact whichever (histogram.c says why).
 */
#ifndef PP_AFFINE16_H
#define PP_AFFINE16_H

#include "cpu.h"
#include "internal.h"

typedef struct pp_affine16 {
    /* sample i of a run is channel i % channels; its gain and offset are ga[i % 48], gb[i % 48]
       (48 is a multiple of 1, 2, 3 and 4): pp_affine16_init() */
    double ga[48], gb[48];
    int channels;
    int fast; /* pp_affine16_fast() (plan) */
} pp_affine16;

/* Fills a from the gain and offset of each of the channels (1..4) (a plan() calls it). */
static inline void pp_affine16_init(pp_affine16 *a, int channels, const double *ga,
                                    const double *gb, int fast)
{
    for (int i = 0; i < 48; i++) {
        a->ga[i] = ga[i % channels];
        a->gb[i] = gb[i % channels];
    }
    a->channels = channels;
    a->fast = fast;
}

/* Whether the AVX-512 loop may run on this CPU (asked once in a plan()). */
static inline int pp_affine16_fast(void) { return pp_cpu_has(PP_CPU_AVX512F | PP_CPU_AVX512BW); }

static inline void pp_affine16_scalar(const pp_affine16 *a, const uint16_t *in, uint16_t *out,
                                      size_t n)
{
    int j = 0;
    for (size_t i = 0; i < n; i++) {
        double x = (double)in[i] * a->ga[j] + a->gb[j];
        x = x > 0.0 ? x : 0.0; /* NaN cannot occur: the gains and offsets are finite */
        x = x < 65535.0 ? x : 65535.0;
        out[i] = (uint16_t)(int32_t)(x + 0.5);
        j = j == 47 ? 0 : j + 1;
    }
}

#ifdef PP_X86
/* 48 samples a step: six vectors of 8 doubles with the gains and offsets of their lanes. */
__attribute__((target("avx512f,avx512bw"))) static void
pp_affine16_avx512(const pp_affine16 *a, const uint16_t *in, uint16_t *out, size_t n)
{
    __m512d ga[6], gb[6];
    for (int k = 0; k < 6; k++) {
        ga[k] = _mm512_loadu_pd(a->ga + 8 * k);
        gb[k] = _mm512_loadu_pd(a->gb + 8 * k);
    }
    const __m512d half = _mm512_set1_pd(0.5);
    const __m512i zero = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 48 <= n; i += 48) {
        for (int k = 0; k < 6; k += 2) {
            const __m256i v = _mm256_loadu_si256((const void *)(in + i + 8 * k));
            const __m512i v32 = _mm512_cvtepu16_epi32(v);
            __m512d x0 = _mm512_cvtepi32_pd(_mm512_castsi512_si256(v32));
            __m512d x1 = _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(v32, 1));
            x0 = _mm512_add_pd(_mm512_fmadd_pd(x0, ga[k], gb[k]), half);
            x1 = _mm512_add_pd(_mm512_fmadd_pd(x1, ga[k + 1], gb[k + 1]), half);
            __m512i r = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvttpd_epi32(x0)),
                                           _mm512_cvttpd_epi32(x1), 1);
            r = _mm512_max_epi32(r, zero); /* then 65535 by the unsigned saturation */
            _mm256_storeu_si256((void *)(out + i + 8 * k), _mm512_cvtusepi32_epi16(r));
        }
    }
    pp_affine16_scalar(a, in + i, out + i, n - i);
}
#endif

/* One run of n samples that starts on channel 0 (a row, or a band of packed rows). */
static inline void pp_affine16_run(const pp_affine16 *a, const uint16_t *in, uint16_t *out,
                                   size_t n)
{
#ifdef PP_X86
    if (a->fast) {
        pp_affine16_avx512(a, in, out, n);
        return;
    }
#endif
    pp_affine16_scalar(a, in, out, n);
}

/* Rows [y0, y1) of s->src into s->dst (16-bit, same geometry). */
static inline void pp_affine16_rows(const pp_stage *s, int y0, int y1, const pp_affine16 *a)
{
    const size_t n = (size_t)s->src.width * (size_t)s->src.channels;
    if (pp_view_packed(&s->src) && pp_view_packed(&s->dst)) /* the band is one run */
        pp_affine16_run(a, pp_row16(&s->src, y0), pp_row16(&s->dst, y0), n * (size_t)(y1 - y0));
    else
        for (int y = y0; y < y1; y++) pp_affine16_run(a, pp_row16(&s->src, y), pp_row16(&s->dst, y), n);
}

#endif /* PP_AFFINE16_H */
