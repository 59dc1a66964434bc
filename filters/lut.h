/*
 * lut.h - byte look-up tables applied to pixel rows (filters/ only): the point filters (one table
 * for every colour channel) and the histogram filters (one table per colour channel).
 *
 * pp_lut_rows() maps rows [y0, y1) of a stage's src into dst through `ntab` tables of 256 bytes
 * (1: every byte through lut[0..255]; 3: packed RGB, byte i of a row through table i % 3). A
 * band whose rows are packed (stride = width x channels, as the pipeline allocates them) is one
 * run of bytes; large images are written with streaming stores (pp_stream_worth). The AVX-512
 * VBMI path looks up 64 bytes at once with two two-table byte permutes (vpermi2b) and a blend on
 * the top bit per table; with three tables it merges them by the chunk's channel pattern, which
 * repeats every three chunks (64 = 1 mod 3). Alpha is the caller's business.
 */
#ifndef PP_LUT_H
#define PP_LUT_H

#include "cpu.h"
#include "internal.h"

/* out[i] = lut[256 (i % ntab) + in[i]] for n bytes of a run that starts at table 0 */
static inline void pp_lut_run_scalar(const uint8_t *lut, int ntab, const uint8_t *in,
                                     uint8_t *out, size_t n, size_t phase)
{
    if (ntab == 1)
        for (size_t i = 0; i < n; i++) out[i] = lut[in[i]];
    else
        for (size_t i = 0; i < n; i++) out[i] = lut[256 * ((phase + i) % 3) + in[i]];
}

#ifdef PP_X86

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static void
pp_lut_run_vbmi(const uint8_t *lut, int ntab, const uint8_t *in, uint8_t *out, size_t n,
                bool stream)
{
    size_t i = 0;
    if (stream) { /* up to out's first 64-byte boundary with ordinary stores */
        const size_t head = (64 - ((uintptr_t)out & 63)) & 63;
        pp_lut_run_scalar(lut, ntab, in, out, i = head < n ? head : n, 0);
    }
    __m512i tb[3][4];
    for (int k = 0; k < ntab; k++)
        for (int q = 0; q < 4; q++) tb[k][q] = _mm512_loadu_si512(lut + 256 * k + 64 * q);
    /* mask[ph][k]: the bytes of a chunk whose first byte is channel ph that hold channel k */
    __mmask64 mask[3][3] = {{0}};
    for (int ph = 0; ph < 3; ph++)
        for (int j = 0; j < 64; j++) mask[ph][(ph + j) % 3] |= (__mmask64)1 << j;
    int ph = (int)(i % 3);
    for (; i + 64 <= n; i += 64) {
        const __m512i v = _mm512_loadu_si512(in + i);
        const __mmask64 top = _mm512_movepi8_mask(v);
#define PP_LUT_LOOKUP(k)                                                                       \
    _mm512_mask_blend_epi8(top, _mm512_permutex2var_epi8(tb[k][0], v, tb[k][1]),                \
                           _mm512_permutex2var_epi8(tb[k][2], v, tb[k][3]))
        __m512i res = PP_LUT_LOOKUP(0);
        if (ntab == 3) {
            res = _mm512_mask_blend_epi8(mask[ph][1], res, PP_LUT_LOOKUP(1));
            res = _mm512_mask_blend_epi8(mask[ph][2], res, PP_LUT_LOOKUP(2));
            ph = ph == 2 ? 0 : ph + 1;
        }
#undef PP_LUT_LOOKUP
        if (stream)
            _mm512_stream_si512((void *)(out + i), res);
        else
            _mm512_storeu_si512(out + i, res);
    }
    if (stream) _mm_sfence(); /* before the executor hands the rows over */
    pp_lut_run_scalar(lut, ntab, in + i, out + i, n - i, i);
}

#endif

/* Whether pp_lut_run may take the VBMI path on this CPU: a plan() asks once and passes the
   answer to its kernel in the stage parameters. */
static inline bool pp_lut_fast(void) { return pp_cpu_has(PP_CPU_AVX512VBMI | PP_CPU_AVX512BW); }

/* One run of n bytes that starts at table 0 (a row start); `fast` is pp_lut_fast()'s answer. */
static inline void pp_lut_run(const uint8_t *lut, int ntab, const uint8_t *in, uint8_t *out,
                              size_t n, bool stream, bool fast)
{
#ifdef PP_X86
    if (fast) {
        pp_lut_run_vbmi(lut, ntab, in, out, n, stream);
        return;
    }
#endif
    (void)stream;
    (void)fast;
    pp_lut_run_scalar(lut, ntab, in, out, n, 0);
}

/* Rows [y0, y1) of s->src through the tables into s->dst (same geometry; ntab 3 needs 3
   channels). */
static inline void pp_lut_rows(const pp_stage *s, int y0, int y1, const uint8_t *lut, int ntab,
                               bool fast)
{
    const size_t n = (size_t)s->src.width * (size_t)s->src.channels;
    if (pp_view_packed(&s->src) && pp_view_packed(&s->dst)) /* the band is one run */
        pp_lut_run(lut, ntab, pp_row(&s->src, y0), pp_row(&s->dst, y0), n * (size_t)(y1 - y0),
                   pp_stream_worth(&s->src, &s->dst), fast);
    else
        for (int y = y0; y < y1; y++)
            pp_lut_run(lut, ntab, pp_row(&s->src, y), pp_row(&s->dst, y), n, false, fast);
}

/* ---- 16 bits: tables of 65536 uint16 ------------------------------------------------------
   pp_lut16_run maps a run of 16-bit samples that starts on channel 0 through per-channel
   tables: sample i is channel k = i % channels, and becomes lut[off[k] + v] where off[k] >= 0,
   or stays v where off[k] < 0 (alpha). The AVX-512 path gathers 16 samples at once (32-bit
   loads at 2-byte steps, the low half kept), so the 2 bytes after the last table entry must be
   readable (the callers allocate PP_LUT16_PAD more). */
#define PP_LUT16_PAD 64

typedef struct pp_lut16 {
    int32_t off[4]; /* per channel: the table's first entry in lut, or -1: copied */
    int channels;
    int fast; /* pp_lut16_fast() */
} pp_lut16;

static inline int pp_lut16_fast(void) { return pp_cpu_has(PP_CPU_AVX512F | PP_CPU_AVX512BW); }

static inline void pp_lut16_scalar(const pp_lut16 *t, const uint16_t *lut, const uint16_t *in,
                                   uint16_t *out, size_t n)
{
    const int c = t->channels;
    if (c == 1 && t->off[0] >= 0) {
        const uint16_t *l = lut + t->off[0];
        for (size_t i = 0; i < n; i++) out[i] = l[in[i]];
        return;
    }
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = t->off[k] >= 0 ? lut[t->off[k] + in[i]] : in[i];
        k = k + 1 == c ? 0 : k + 1;
    }
}

#ifdef PP_X86
__attribute__((target("avx512f,avx512bw"))) static void
pp_lut16_avx512(const pp_lut16 *t, const uint16_t *lut, const uint16_t *in, uint16_t *out,
                size_t n)
{
    /* 48 samples a step (a multiple of 1..4 channels): three vectors of 16 lanes */
    __m512i off[3];
    __mmask16 look[3];
    for (int q = 0; q < 3; q++) {
        int32_t o[16];
        look[q] = 0;
        for (int l = 0; l < 16; l++) {
            const int32_t f = t->off[(16 * q + l) % t->channels];
            o[l] = f < 0 ? 0 : f;
            if (f >= 0) look[q] |= (__mmask16)(1u << l);
        }
        off[q] = _mm512_loadu_si512(o);
    }
    size_t i = 0;
    for (; i + 48 <= n; i += 48)
        for (int q = 0; q < 3; q++) {
            const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const void *)(in + i + 16 * q)));
            const __m512i r = _mm512_mask_i32gather_epi32(v, look[q], _mm512_add_epi32(v, off[q]),
                                                          (const void *)lut, 2);
            _mm256_storeu_si256((void *)(out + i + 16 * q), _mm512_cvtepi32_epi16(r));
        }
    pp_lut16_scalar(t, lut, in + i, out + i, n - i);
}
#endif

static inline void pp_lut16_run(const pp_lut16 *t, const uint16_t *lut, const uint16_t *in,
                                uint16_t *out, size_t n)
{
#ifdef PP_X86
    if (t->fast) {
        pp_lut16_avx512(t, lut, in, out, n);
        return;
    }
#endif
    pp_lut16_scalar(t, lut, in, out, n);
}

/* Rows [y0, y1) of s->src into s->dst (16-bit, same geometry) through the tables. */
static inline void pp_lut16_rows(const pp_stage *s, int y0, int y1, const pp_lut16 *t,
                                 const uint16_t *lut)
{
    const size_t n = (size_t)s->src.width * (size_t)s->src.channels;
    if (pp_view_packed(&s->src) && pp_view_packed(&s->dst)) /* the band is one run */
        pp_lut16_run(t, lut, pp_row16(&s->src, y0), pp_row16(&s->dst, y0), n * (size_t)(y1 - y0));
    else
        for (int y = y0; y < y1; y++)
            pp_lut16_run(t, lut, pp_row16(&s->src, y), pp_row16(&s->dst, y), n);
}

#endif /* PP_LUT_H */
