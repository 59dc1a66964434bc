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

#endif /* PP_LUT_H */
