/*
 * rank.c - rank filters: median, erode (minimum), dilate (maximum).
 *
 * Border: edges extended. Alpha: premultiplied (see pipeline.c). Per channel:
 *   median:radius=r  the ((n+1)/2)-th smallest of the n = (2r+1)^2 values in the window.
 *                    Huang's sliding histogram: per output pixel the window moves one column,
 *                    2(2r+1) histogram updates and a short walk from the previous median, so
 *                    the cost grows with r, not with the window's area. Radius 1 to 3 use a
 *                    pruned sorting network on byte vectors instead (same result, faster).
 *   erode:radius=r   minimum over the (2r+1)^2 window (separable: rows, then columns).
 *   dilate:radius=r  maximum over the window.
 *
 * 16 bits: the same definitions on uint16_t samples, exact (a rank selects one of the window's
 * values: nothing to round or clamp). median: the networks run on 16-bit lanes for radius 1-3;
 * above, a sliding histogram of 65536 fine, 4096 middle and 256 coarse bins (the walk skips
 * whole middle and coarse bins). erode/dilate: the same two separable passes. The pipeline premultiplies 8-bit RGBA
 * into 16 bits for these kernels (exact alpha), so 8-bit images with alpha use them too.
 */
#include "median_net.h"
#include "stencil.h"

#include <stdio.h>

typedef struct rank_params {
    int r;
    int op;       /* 0 erode, 1 dilate */
    int net;      /* median by selection network (radius 1 to 3) */
    int isa;      /* the network's vector loop: NET_SCALAR, NET_SSE2, NET_AVX2, NET_AVX512 (plan) */
} rank_params;

enum { NET_SCALAR = 0, NET_SSE2 = 1, NET_AVX2 = 2, NET_AVX512 = 3 };

/* ---- median by selection network (radius 1 to 3) ------------------------------------------ */
/* For 3x3, 5x5 and 7x7 windows the median is selected by a fixed comparator network
   (median_net.h) applied to whole vectors of bytes: each comparator is one byte min and one
   max on 16 to 64 pixels at once. The networks are unrolled at compile time so the wires stay
   in registers (the 49 of 7x7 spill a few: still 14x the sliding histogram's speed, 2000x1500
   RGB, AVX-512). Same result as the histogram method (the tests compare both, and a plain sort). */

#ifdef PP_X86
#define NET_VARIANT(NAME, ATTR, VT, LOAD, STORE, MIN, MAX, W, NET, K, OUT)                      \
    ATTR static size_t NAME(const uint8_t *const *rows, int c, size_t n, uint8_t *out)          \
    {                                                                                           \
        if (n < W) return 0;                                                                    \
        for (size_t i = 0;; i += W) {                                                           \
            if (i + W > n) { /* the tail: one more vector that ends at n (recomputes a few) */  \
                if (i >= n) break;                                                              \
                i = n - W;                                                                      \
            }                                                                                   \
            VT v[K * K];                                                                        \
            _Pragma("GCC unroll 32") for (int dy = 0; dy < K; dy++)                             \
                _Pragma("GCC unroll 32") for (int dx = 0; dx < K; dx++)                         \
                    v[dy * K + dx] = LOAD((const void *)(rows[dy] + i + (size_t)dx * c));       \
            _Pragma("GCC unroll 512") for (size_t q = 0; q < sizeof NET / sizeof NET[0]; q++) { \
                VT a = v[NET[q][0]], b = v[NET[q][1]];                                          \
                v[NET[q][0]] = MIN(a, b);                                                       \
                v[NET[q][1]] = MAX(a, b);                                                       \
            }                                                                                   \
            STORE((void *)(out + i), v[OUT]);                                                   \
        }                                                                                       \
        return n;                                                                               \
    }
#define NET_ALL(SUFFIX, NET, K, OUT)                                                            \
    NET_VARIANT(net##SUFFIX##_sse2, , __m128i, _mm_loadu_si128, _mm_storeu_si128, _mm_min_epu8, \
                _mm_max_epu8, 16, NET, K, OUT)                                                  \
    NET_VARIANT(net##SUFFIX##_avx2, __attribute__((target("avx2"))), __m256i,                   \
                _mm256_loadu_si256, _mm256_storeu_si256, _mm256_min_epu8, _mm256_max_epu8, 32,  \
                NET, K, OUT)                                                                    \
    NET_VARIANT(net##SUFFIX##_avx512, __attribute__((target("avx512f,avx512bw"))), __m512i,     \
                _mm512_loadu_si512, _mm512_storeu_si512, _mm512_min_epu8, _mm512_max_epu8, 64,  \
                NET, K, OUT)
NET_ALL(9, pp_median9_net, 3, PP_MEDIAN9_OUT)
NET_ALL(25, pp_median25_net, 5, PP_MEDIAN25_OUT)
NET_ALL(49, pp_median49_net, 7, PP_MEDIAN49_OUT)

/* The same networks on 16-bit samples: rows, c and n in bytes (c = 2 x channels, n = 2 x
   width x channels), so the vectors step by whole samples (W and every offset are even). SSE2
   has no unsigned 16-bit min/max: with d = a -sat b, min = a - d and max = b + d (exact). */
static inline __m128i min_epu16_sse2(__m128i a, __m128i b)
{
    return _mm_sub_epi16(a, _mm_subs_epu16(a, b));
}
static inline __m128i max_epu16_sse2(__m128i a, __m128i b)
{
    return _mm_add_epi16(b, _mm_subs_epu16(a, b));
}
#define NET_ALL16(SUFFIX, NET, K, OUT)                                                          \
    NET_VARIANT(net##SUFFIX##_16_sse2, , __m128i, _mm_loadu_si128, _mm_storeu_si128,            \
                min_epu16_sse2, max_epu16_sse2, 16, NET, K, OUT)                                \
    NET_VARIANT(net##SUFFIX##_16_avx2, __attribute__((target("avx2"))), __m256i,                \
                _mm256_loadu_si256, _mm256_storeu_si256, _mm256_min_epu16, _mm256_max_epu16,    \
                32, NET, K, OUT)                                                                \
    NET_VARIANT(net##SUFFIX##_16_avx512, __attribute__((target("avx512f,avx512bw"))), __m512i,  \
                _mm512_loadu_si512, _mm512_storeu_si512, _mm512_min_epu16, _mm512_max_epu16,   \
                64, NET, K, OUT)
NET_ALL16(9, pp_median9_net, 3, PP_MEDIAN9_OUT)
NET_ALL16(25, pp_median25_net, 5, PP_MEDIAN25_OUT)
NET_ALL16(49, pp_median49_net, 7, PP_MEDIAN49_OUT)
#endif

typedef size_t (*net_fn)(const uint8_t *const *, int, size_t, uint8_t *);

/* The network of radius r (1..3): its comparators, their count and the median's wire. */
typedef struct median_net {
    const uint8_t (*cmp)[2];
    int ncmp, out;
} median_net;

static median_net net_of(int r)
{
    if (r == 1) return (median_net){pp_median9_net, (int)(sizeof pp_median9_net / 2), PP_MEDIAN9_OUT};
    if (r == 2)
        return (median_net){pp_median25_net, (int)(sizeof pp_median25_net / 2), PP_MEDIAN25_OUT};
    return (median_net){pp_median49_net, (int)(sizeof pp_median49_net / 2), PP_MEDIAN49_OUT};
}

#ifdef PP_X86
/* The vector loop of radius r for isa (NULL: none, the scalar loop does every sample). */
static net_fn net_vec(int isa, int r, bool deep)
{
    static const net_fn fns[2][3][3] = {
        {{net9_sse2, net9_avx2, net9_avx512},
         {net25_sse2, net25_avx2, net25_avx512},
         {net49_sse2, net49_avx2, net49_avx512}},
        {{net9_16_sse2, net9_16_avx2, net9_16_avx512},
         {net25_16_sse2, net25_16_avx2, net25_16_avx512},
         {net49_16_sse2, net49_16_avx2, net49_16_avx512}}};
    return isa == NET_SCALAR ? NULL : fns[deep][r - 1][isa - NET_SSE2];
}
#endif

static uint8_t net_scalar(const uint8_t *const *rows, int c, size_t i, int r)
{
    const int k = 2 * r + 1;
    const median_net net = net_of(r);
    uint8_t v[49];
    for (int dy = 0; dy < k; dy++)
        for (int dx = 0; dx < k; dx++) v[dy * k + dx] = rows[dy][i + (size_t)dx * c];
    for (int q = 0; q < net.ncmp; q++) {
        uint8_t a = v[net.cmp[q][0]], b = v[net.cmp[q][1]];
        v[net.cmp[q][0]] = a < b ? a : b;
        v[net.cmp[q][1]] = a < b ? b : a;
    }
    return v[net.out];
}

static void median_net_kernel(const pp_stage *s, int y0, int y1, void *scratch)
{
    const rank_params *p = PP_STAGE_PARAMS(rank_params, s);
    const int c = s->src.channels, r = p->r, k = 2 * r + 1;
    const size_t n = (size_t)s->src.width * c;
    net_fn vec = NULL;
#ifdef PP_X86
    vec = net_vec(p->isa, r, false);
#endif
    pp_ring g;
    pp_ring_init(&g, &s->src, r, y0, scratch);
    const uint8_t *rows[7];
    for (int y = y0; y < y1; y++) {
        pp_ring_advance(&g, y);
        pp_prefetch_out(&s->dst, y + 1);
        for (int i = 0; i < k; i++) rows[i] = pp_ring_row(&g, y, i - r);
        uint8_t *out = pp_row(&s->dst, y);
        size_t i = vec ? vec(rows, c, n, out) : 0;
        for (; i < n; i++) out[i] = net_scalar(rows, c, i, r); /* the tail */
    }
}

/* 16 bits: sample i of a row (rows, c in bytes as above). */
static uint16_t net_scalar16(const uint8_t *const *rows, int c, size_t i, int r)
{
    const int k = 2 * r + 1;
    const median_net net = net_of(r);
    uint16_t v[49];
    for (int dy = 0; dy < k; dy++)
        for (int dx = 0; dx < k; dx++)
            memcpy(&v[dy * k + dx], rows[dy] + 2 * i + (size_t)dx * c, 2);
    for (int q = 0; q < net.ncmp; q++) {
        uint16_t a = v[net.cmp[q][0]], b = v[net.cmp[q][1]];
        v[net.cmp[q][0]] = a < b ? a : b;
        v[net.cmp[q][1]] = a < b ? b : a;
    }
    return v[net.out];
}

/* A 16-bit view seen as an 8-bit one whose pixels are 2 x channels bytes wide: the padded-row
   ring of stencil.h then replicates whole 16-bit pixels. */
static pp_view bytes_view(const pp_view *v)
{
    pp_view b = *v;
    b.channels = v->channels * 2;
    b.depth = 8;
    return b;
}

static void median_net16_kernel(const pp_stage *s, int y0, int y1, void *scratch)
{
    const rank_params *p = PP_STAGE_PARAMS(rank_params, s);
    const pp_view src = bytes_view(&s->src), dstb = bytes_view(&s->dst);
    const int c = src.channels, r = p->r, k = 2 * r + 1; /* c: bytes per pixel */
    const size_t n = (size_t)s->src.width * c;           /* bytes per row */
    net_fn vec = NULL;
#ifdef PP_X86
    vec = net_vec(p->isa, r, true);
#endif
    pp_ring g;
    pp_ring_init(&g, &src, r, y0, scratch);
    const uint8_t *rows[7];
    for (int y = y0; y < y1; y++) {
        pp_ring_advance(&g, y);
        pp_prefetch_out(&dstb, y + 1);
        for (int i = 0; i < k; i++) rows[i] = pp_ring_row(&g, y, i - r);
        uint8_t *out = pp_row(&s->dst, y);
        size_t i = vec ? vec(rows, c, n, out) / 2 : 0;
        for (; i < n / 2; i++) { /* the tail */
            uint16_t m = net_scalar16(rows, c, i, r);
            memcpy(out + 2 * i, &m, 2);
        }
    }
}

/* ---- median ------------------------------------------------------------------------------- */

static void median_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const rank_params *p = PP_STAGE_PARAMS(rank_params, s);
    if (p->net) {
        median_net_kernel(s, y0, y1, scratch);
        return;
    }
    const int c = s->src.channels, w = s->src.width, r = p->r, k = 2 * r + 1;
    const int half = (k * k - 1) / 2; /* the median has exactly `half` values below it or fewer */
    pp_ring g;
    pp_ring_init(&g, &s->src, r, y0, scratch);
    uint16_t(*hist)[256] = (void *)((uint8_t *)scratch + pp_ring_bytes(w, c, r));
    const uint8_t *rows[2 * 100 + 1];
    for (int y = y0; y < y1; y++) {
        pp_ring_advance(&g, y);
        pp_prefetch_out(&s->dst, y + 1);
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

/* 16 bits: Huang's sliding window on a three-level histogram: 65536 fine bins, 4096 middle bins
   (16 values each) and 256 coarse bins (256 values each). The median is tracked as in the
   8-bit kernel (m and lt = count(< m)); its walk crosses a whole coarse or middle bin in one
   step whenever the median lies beyond it, so a move from one pixel's median to the next costs
   at most about 60 steps however far it goes (16-bit levels are 257 times finer than 8-bit
   ones: a plain walk over fine bins would take that many more steps). The histograms are
   zeroed once per band; each row takes its last window back out, so they are zero again for
   the next one. */
#define FINE_BINS 65536
#define MID_BINS 4096
#define COARSE_BINS 256
static size_t median16_hist_bytes(void)
{
    return (FINE_BINS + MID_BINS + COARSE_BINS) * sizeof(uint16_t);
}

static void median16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const rank_params *p = PP_STAGE_PARAMS(rank_params, s);
    if (p->net) {
        median_net16_kernel(s, y0, y1, scratch);
        return;
    }
    const pp_view src = bytes_view(&s->src), dstb = bytes_view(&s->dst);
    const int c = s->src.channels, w = s->src.width, r = p->r, k = 2 * r + 1;
    const int half = (k * k - 1) / 2;
    pp_ring g;
    pp_ring_init(&g, &src, r, y0, scratch);
    uint16_t *h = (void *)((uint8_t *)scratch + pp_ring_bytes(w, src.channels, r));
    uint16_t *mb = h + FINE_BINS;  /* mb[b]: values in h[16 b .. 16 b + 15] */
    uint16_t *cb = mb + MID_BINS;  /* cb[b]: values in h[256 b .. 256 b + 255] */
    memset(h, 0, median16_hist_bytes());
    const uint16_t *rows[2 * 100 + 1];
    for (int y = y0; y < y1; y++) {
        pp_ring_advance(&g, y);
        pp_prefetch_out(&dstb, y + 1);
        for (int i = 0; i < k; i++) rows[i] = (const void *)pp_ring_row(&g, y, i - r);
        uint16_t *out = pp_row16(&s->dst, y);
        for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < k; i++)
                for (int x = 0; x < k; x++) {
                    unsigned v = rows[i][(size_t)x * c + ch];
                    h[v]++;
                    mb[v >> 4]++;
                    cb[v >> 8]++;
                }
            int m = 0, lt = 0;
            for (int x = 0;; x++) {
                /* to the median: m with count(< m) <= half < count(<= m) */
                while (lt > half) {
                    if ((m & 255) == 0 && lt - cb[(m >> 8) - 1] > half) {
                        lt -= cb[(m >> 8) - 1];
                        m -= 256;
                    } else if ((m & 15) == 0 && lt - mb[(m >> 4) - 1] > half) {
                        lt -= mb[(m >> 4) - 1];
                        m -= 16;
                    } else {
                        lt -= h[--m];
                    }
                }
                while (lt + h[m] <= half) {
                    if ((m & 255) == 0 && lt + cb[m >> 8] <= half) {
                        lt += cb[m >> 8];
                        m += 256;
                    } else if ((m & 15) == 0 && lt + mb[m >> 4] <= half) {
                        lt += mb[m >> 4];
                        m += 16;
                    } else {
                        lt += h[m++];
                    }
                }
                out[(size_t)x * c + ch] = (uint16_t)m;
                if (x + 1 == w) break;
                const size_t outc = (size_t)x * c + ch, inc = (size_t)(x + k) * c + ch;
                for (int i = 0; i < k; i++) {
                    int vo = rows[i][outc], vi = rows[i][inc];
                    h[vo]--;
                    mb[vo >> 4]--;
                    cb[vo >> 8]--;
                    h[vi]++;
                    mb[vi >> 4]++;
                    cb[vi >> 8]++;
                    lt -= vo < m;
                    lt += vi < m;
                }
            }
            /* the last window out again */
            for (int i = 0; i < k; i++)
                for (int x = w - 1; x < w - 1 + k; x++) {
                    unsigned v = rows[i][(size_t)x * c + ch];
                    h[v]--;
                    mb[v >> 4]--;
                    cb[v >> 8]--;
                }
        }
    }
}

typedef struct median_args {
    int radius;
    int method; /* 0 auto (network for radius <= 3), 1 histogram */
} median_args;

typedef struct minmax_args {
    int radius;
} minmax_args;

static pp_status plan_median(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                             size_t errlen)
{
    (void)err;
    (void)errlen;
    plan->out = *in;
    const bool deep = pp_geom_depth(in) == 16;
    const int pb = in->channels * (deep ? 2 : 1); /* bytes per pixel */
    pp_stage_tmpl *st =
        pp_plan_add_stage(plan, deep ? median16_kernel : median_kernel, PP_BUF_IN, PP_BUF_OUT);
    rank_params *rp = PP_PARAMS_OF(rank_params, st);
    const median_args *a = PP_ARGS(median_args, p);
    rp->r = a->radius;
    if (rp->r >= 1 && rp->r <= 3 && a->method == 0) {
        rp->net = 1;
#ifdef PP_X86
        rp->isa = pp_cpu_has(PP_CPU_AVX512BW) ? NET_AVX512
                  : pp_cpu_has(PP_CPU_AVX2)   ? NET_AVX2
                                              : NET_SSE2;
#endif
    }
    st->scratch_bytes = deep ? pp_ring_bytes(in->width, pb, rp->r) + median16_hist_bytes()
                             : pp_ring_bytes(in->width, pb, rp->r) + 4 * 256 * sizeof(uint16_t);
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
        pp_prefetch_out(&s->dst, y + 1);
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

/* 16 bits: the same two passes on uint16_t samples; the loops are cloned per ISA (cpu.h) so
   each one runs on the widest unsigned 16-bit min/max there is. */
PP_CLONES static void min16_into(uint16_t *restrict d, const uint16_t *restrict a, size_t n)
{
    for (size_t i = 0; i < n; i++) d[i] = a[i] < d[i] ? a[i] : d[i];
}
PP_CLONES static void max16_into(uint16_t *restrict d, const uint16_t *restrict a, size_t n)
{
    for (size_t i = 0; i < n; i++) d[i] = a[i] > d[i] ? a[i] : d[i];
}

static void minmax16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const rank_params *p = PP_STAGE_PARAMS(rank_params, s);
    const pp_view src = bytes_view(&s->src), dstb = bytes_view(&s->dst);
    const int c = s->src.channels, w = s->src.width, r = p->r, k = 2 * r + 1;
    const size_t pn = (size_t)(w + 2 * r) * c, n = (size_t)w * c; /* samples */
    void (*into)(uint16_t *restrict, const uint16_t *restrict, size_t) =
        p->op ? max16_into : min16_into;
    pp_ring g;
    pp_ring_init(&g, &src, r, y0, scratch);
    uint16_t *col = (void *)((uint8_t *)scratch + pp_ring_bytes(w, src.channels, r));
    for (int y = y0; y < y1; y++) {
        pp_ring_advance(&g, y);
        pp_prefetch_out(&dstb, y + 1);
        memcpy(col, pp_ring_row(&g, y, -r), pn * 2);
        for (int i = 1; i < k; i++) into(col, (const void *)pp_ring_row(&g, y, i - r), pn);
        uint16_t *out = pp_row16(&s->dst, y);
        memcpy(out, col, n * 2);
        for (int dx = 1; dx < k; dx++) into(out, col + (size_t)dx * c, n);
    }
}

static pp_status plan_minmax(const pp_params *p, const pp_geom *in, pp_plan *plan, int op)
{
    plan->out = *in;
    const bool deep = pp_geom_depth(in) == 16;
    const int pb = in->channels * (deep ? 2 : 1); /* bytes per pixel */
    pp_stage_tmpl *st =
        pp_plan_add_stage(plan, deep ? minmax16_kernel : minmax_kernel, PP_BUF_IN, PP_BUF_OUT);
    rank_params *rp = PP_PARAMS_OF(rank_params, st);
    rp->r = PP_ARGS(minmax_args, p)->radius;
    rp->op = op;
    st->scratch_bytes =
        pp_ring_bytes(in->width, pb, rp->r) + pp_padded_stride(in->width, pb, rp->r);
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

static const char *const median_methods[] = {"auto", "histogram", NULL};
static const pp_param_def p_median[] = {
    PP_PARAM(median_args, radius, INT, 1, 0, 100, NULL, OPTIONAL,
             "window is (2 radius + 1) squared"),
    PP_PARAM(median_args, method, ENUM, 0, 0, 1, median_methods, OPTIONAL,
             "auto: selection network for radius 1-3, sliding histogram above; same results")};
static const pp_param_def p_minmax[] = {
    PP_PARAM(minmax_args, radius, INT, 1, 0, 100, NULL, OPTIONAL,
             "window is (2 radius + 1) squared")};

static const pp_filter_def defs[] = {
    {{"median", "spatial", "median over a square window",
      "Per channel, the ((n+1)/2)-th smallest of the n = (2r+1)^2 window values; edges extended; "
      "premultiplied alpha. Radius 1-3: a pruned sorting network on whole vectors; above, a "
      "sliding histogram whose cost grows with r, not r^2. 16 bits: the same "
      "exact median of the 16-bit values (selection networks for radius 1-3, above a sliding "
      "three-level histogram of 65536 values, in groups of 16 and 256); no rounding. 8-bit input with alpha "
      "is filtered this way too (premultiplied into 16 bits: exact alpha).", NULL, 0},
     PP_ALPHA_PREMUL, plan_median, PP_PARAM_DEFS(p_median), PP_DEPTH_8 | PP_DEPTH_16},
    {{"erode", "spatial", "minimum over a square window",
      "Per channel minimum over the (2r+1)^2 window; edges extended; premultiplied alpha. "
      "16 bits: the same minimum of the 16-bit values, exact. 8-bit input with alpha is "
      "filtered this way too (premultiplied into 16 bits: exact alpha).",
      NULL, 0}, PP_ALPHA_PREMUL, plan_erode, PP_PARAM_DEFS(p_minmax), PP_DEPTH_8 | PP_DEPTH_16},
    {{"dilate", "spatial", "maximum over a square window",
      "Per channel maximum over the (2r+1)^2 window; edges extended; premultiplied alpha. "
      "16 bits: the same maximum of the 16-bit values, exact. 8-bit input with alpha is "
      "filtered this way too (premultiplied into 16 bits: exact alpha).",
      NULL, 0}, PP_ALPHA_PREMUL, plan_dilate, PP_PARAM_DEFS(p_minmax), PP_DEPTH_8 | PP_DEPTH_16},
};

const pp_filter_family pp_family_rank = {defs, (int)(sizeof defs / sizeof defs[0])};
