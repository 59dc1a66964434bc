/*
 * resize.c - resampling to a new size: resize:width,height | resize:scale, method.
 *
 * Target size: width and height as given; with only one of them the other keeps the aspect
 * ratio, round(H * width / W) or round(W * height / H) (halves up, at least 1); scale=s gives
 * round(W s) x round(H s). Giving both forms, neither, a zero size, a side over 65535 or more
 * than 2^31 pixels is an error. The sampling ratio of each axis is the real one, in/out.
 *
 * method=bilinear|bicubic|lanczos3 (default lanczos3): Pillow's ImagingResample convolution.
 * For an axis of input size n and output size m, s = n / m (double precision):
 *   kernel K: bilinear 1 - |t| (support 1); bicubic a = -0.5 (support 2):
 *             (a+2)|t|^3 - (a+3)|t|^2 + 1 for |t| < 1, a|t|^3 - 5a|t|^2 + 8a|t| - 4a for |t| < 2;
 *             lanczos3 sinc(t) sinc(t/3) for |t| < 3 (support 3), sinc(t) = sin(pi t) / (pi t).
 *   antialiasing: f = max(1, s), support S = support(K) * f (the kernel widens when shrinking).
 *   output i (0-based) is centred at c = (i + 0.5) s in input coordinates (input pixel j spans
 *   [j, j+1), i.e. pixel centres map as (i + 0.5) / scale - 0.5);
 *   it reads the inputs j in [max(0, floor(c - S + 0.5)), min(n, floor(c + S + 0.5))), taps
 *   outside the image are dropped (not replicated: Pillow's edge rule),
 *   with weights K((j + 0.5 - c) / f) normalised to sum 1.
 *   Fixed point: the normalised weights are quantised to Q14 by rounding their running sums
 *   (w_j = round(16384 C_j) - round(16384 C_{j-1}), C the cumulative sum), so they sum to
 *   exactly 16384 and a flat image stays flat. The horizontal pass runs first, from 8-bit input
 *   to an intermediate with 7 fractional bits, rounded half up and clamped to [0, 255] (as
 *   Pillow clamps its 8-bit intermediate); the vertical pass rounds once, half up, and clamps.
 *   An axis whose size does not change is copied exactly.
 * method=nearest: Pillow's NEAREST bit for bit: input column floor(t_i), t_0 = s / 2 and
 *   t_{i+1} = t_i + s accumulated in IEEE double (about floor((i + 0.5) s)); rows likewise.
 * Alpha: premultiplied (pipeline.c), as Pillow does for RGBA. Since resize takes 16 bits, 8-bit
 * input with alpha is premultiplied into 16 bits and goes through the 16-bit loops (exact alpha).
 * 16 bits: the same windows and kernel, the normalised weights as floats (not quantised); the
 * horizontal pass sums w_j * in_j in float by fused multiply-adds (taps in window order) into a
 * float intermediate clamped to [0, 65535], not rounded; the vertical pass sums in float the same
 * way (rows in window order, from the first row's rounded product),
 * rounds half away from zero and clamps to 0..65535. Within 1 level of the double evaluation
 * (tests/test_depth16_resize.c). An unchanged axis has the weight 1: exact. nearest copies samples.
 * Accuracy (tests/test_reference.c): within 1 level of Pillow for all three kernels, enlarging
 * and shrinking (mean 0.1-0.2, from Pillow's 8-bit intermediate); within 0.51 of the exact
 * real-valued resampling, where Pillow is within about 1.2. nearest is identical to Pillow.
 *
 * Stages: a first `serial` stage computes the per-column and per-row tap tables (window start,
 * tap count, Q14 weights) into the plan's partials block, once, so every band and every worker
 * uses the same numbers; the second stage computes a band of output rows. It keeps a ring of
 * horizontally filtered input rows (as many as the longest vertical window) that follows the
 * band down the image: each input row is filtered horizontally once per band, and each output
 * row is a vertical weighted sum of ring rows over contiguous 16-bit values. A band recomputes
 * only its own halo rows, from the same tables, so band cuts never change the result.
 *
 * Loops: the sums above are exact in int32 (no overflow), so any order of the additions gives
 * the same bytes. plan() picks, once, scalar loops or SIMD ones (AVX2, or AVX-512 with VBMI,
 * as filters/cpu.h reports them; the environment variable PIXPOOL_RESIZE_ISA=scalar|avx2|avx512
 * caps the choice, a test hook) and the choice travels in the stage parameters, so every worker
 * runs the same loops. SIMD horizontal pass: the output pixels of a row are cut into groups of
 * up to 16 int32 lanes (a pixel's channels); per step one unaligned load of the input at the
 * group's first window start, a byte permutation that gives every lane taps 2t and 2t + 1 of its
 * own window as 16-bit values, and one 16-bit multiply-add (pmaddwd) with per-lane weights,
 * zero past a window's end; the first stage builds these tables (shared between the groups whose
 * tables are equal). SIMD vertical pass: pairs of ring rows interleaved and multiplied by
 * (w_j, w_j+1) with pmaddwd. Taps tables are computed once per distinct set of kernel arguments
 * (equal arguments give equal weights).
 * 16-bit loops: float weight tables instead of Q14 ones, a ring of float rows (twice the scratch
 * bytes of the 8-bit ring). Scalar loops, or AVX2 ones built without FMA (a product is rounded
 * before it is added, as in the scalar loop; PIXPOOL_RESIZE_ISA=scalar picks the scalar ones):
 * horizontally, 1-2 channels by groups of 8 output samples with one gather per tap, 3-4 channels
 * by pairs of pixels with one 4-sample load per pixel and tap (four groups at once when their
 * windows are equally long), from per-group weight tables the first stage builds; vertically 16
 * output samples a step. Every variant adds the same products in the same order: same bytes.
 */
#include "cpu.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIDE 65535
/* The SIMD horizontal passes prefetch the input this many bytes ahead of the group they work
   on: the hardware prefetchers stop at 4 KiB page boundaries, and the fork backend's shared
   memory has no huge pages (14 MP, 50% lanczos3, one thread: serial 12.9 -> 11.6 ms, fork 14.3
   -> 12.3 ms). Prefetching past the end of a row or image is harmless (no fault). */
#define PREFETCH_AHEAD 1536
#define MAX_PIXELS ((int64_t)1 << 31)
#define WBITS 14 /* weight precision */
#define HBITS 7  /* fractional bits of the intermediate */
#define CHUNK 512

enum { M_NEAREST = 0, M_BILINEAR = 1, M_BICUBIC = 2, M_LANCZOS3 = 3 };

/* Instruction sets of the resampling loops (all give the same bytes). */
enum { ISA_SCALAR = 0, ISA_AVX2 = 1, ISA_AVX512 = 2 };

/* Where the tables live in the partials block (byte offsets). */
typedef struct resize_params {
    int method;
    int kx, ky;          /* longest window per axis (the stride of the weight tables) */
    int ring;            /* rows in the ring of horizontally filtered rows */
    size_t xb, xw, yb, yw; /* int32 pairs (start, count) / int16 weights; nearest: int32 index */
    size_t hstride;      /* bytes per ring row (with 32 bytes of slack for vector stores) */
    int isa;             /* ISA_*: which loops stage 2 runs */
    int gpx, nsub;       /* SIMD horizontal pass: output pixels per sub-window, sub-windows */
    int ngroups;         /* groups of nsub * gpx output pixels (0: no SIMD horizontal pass) */
    size_t xg;           /* group tables: offset */
    int depth;           /* 8, or 16: float weights at xw / yw, float ring rows */
} resize_params;

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

/* ---- kernels of the continuous filters ---------------------------------------------------- */

static double k_bilinear(double t)
{
    t = fabs(t);
    return t < 1.0 ? 1.0 - t : 0.0;
}

static double k_bicubic(double t)
{
    const double a = -0.5;
    t = fabs(t);
    if (t < 1.0) return ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0;
    if (t < 2.0) return (((t - 5.0) * t + 8.0) * t - 4.0) * a;
    return 0.0;
}

static double sinc(double t)
{
    if (t == 0.0) return 1.0;
    t *= M_PI;
    return sin(t) / t;
}

static double k_lanczos3(double t)
{
    if (t <= -3.0 || t >= 3.0) return 0.0;
    return sinc(t) * sinc(t / 3.0);
}

static double support_of(int method)
{
    return method == M_BILINEAR ? 1.0 : method == M_BICUBIC ? 2.0 : 3.0;
}

/* Window of output i of an axis n -> m (n != m): centre *c, first input *j0, and the count,
   clamped to kmax; before the degenerate-window rule of axis_taps. */
static int axis_window(int method, int n, int m, int i, int kmax, double *c, int *j0)
{
    const double s = (double)n / m, f = s > 1.0 ? s : 1.0, support = support_of(method) * f;
    *c = (i + 0.5) * s;
    int a = (int)floor(*c - support + 0.5), b = (int)floor(*c + support + 0.5);
    if (a < 0) a = 0;
    if (b > n) b = n;
    if (b - a > kmax) b = a + kmax;
    *j0 = a;
    return b - a;
}

/* Taps that axis_taps gives output i: at most this (1 for a degenerate window or an unchanged
   axis). */
static int taps_bound(int method, int n, int m, int i)
{
    if (n == m) return 1;
    double c;
    int j0, cnt = axis_window(method, n, m, i, n, &c, &j0);
    return cnt < 1 ? 1 : cnt;
}

/* Longest window of an axis n -> m: the stride of its weight table. */
static int window_of(int method, int n, int m)
{
    int k = 1;
    for (int i = 0; i < m; i++) {
        const int t = taps_bound(method, n, m, i);
        if (t > k) k = t;
    }
    return k;
}

/* ---- stage 1: tap tables ------------------------------------------------------------------ */

/* Windows whose kernel arguments are equal (bit for bit) get equal weights, so a few recent
   windows are remembered and their weights reused: a regular scale (1/2, 2, 3/2...) evaluates the
   kernel for a handful of windows instead of every one. Only windows of up to TAP_CACHE_K taps. */
#define TAP_CACHE 8
#define TAP_CACHE_K 256

/* Doubles of scratch axis_taps needs for windows of up to kmax taps. */
static size_t taps_scratch(int kmax)
{
    return (size_t)kmax * 2 + (kmax <= TAP_CACHE_K ? (size_t)TAP_CACHE * kmax : 0);
}

/* Tap table of one axis n -> m: bounds[2i] = first input, bounds[2i+1] = count, weights at
   w[i * kmax] (Q14), or, when wf is not NULL (16 bits), the normalised weights as floats at
   wf[i * kmax] instead; k is scratch for taps_scratch(kmax) doubles. */
static void axis_taps(int method, int n, int m, int kmax, int32_t *bounds, int16_t *w, float *wf,
                      double *k)
{
    double (*K)(double) = method == M_BILINEAR ? k_bilinear
                          : method == M_BICUBIC ? k_bicubic : k_lanczos3;
    const double f = n > m ? (double)n / m : 1.0;
    double *arg = k + kmax, *cargs = arg + kmax; /* this window's arguments, the remembered ones */
    int ccnt[TAP_CACHE], crow[TAP_CACHE], nc = 0, next = 0;
    const int cache = kmax <= TAP_CACHE_K;
    for (int i = 0; i < m; i++) {
        int16_t *wi = wf ? NULL : w + (size_t)i * kmax;
        float *fi = wf ? wf + (size_t)i * kmax : NULL;
        if (n == m) { /* unchanged axis: an exact copy */
            bounds[2 * i] = i;
            bounds[2 * i + 1] = 1;
            if (fi) fi[0] = 1.0f;
            else wi[0] = 1 << WBITS;
            continue;
        }
        double c;
        int j0, cnt = axis_window(method, n, m, i, kmax, &c, &j0); /* kmax: never shortens it */
        for (int j = 0; j < cnt; j++) arg[j] = (j + j0 + 0.5 - c) / f;
        int hit = -1;
        for (int e = 0; cache && e < nc && hit < 0; e++) {
            if (ccnt[e] != cnt) continue;
            const double *a = cargs + (size_t)e * kmax;
            int j = 0;
            while (j < cnt && a[j] == arg[j]) j++;
            if (j == cnt) hit = e;
        }
        if (hit >= 0) {
            if (fi) memcpy(fi, wf + (size_t)crow[hit] * kmax, (size_t)cnt * sizeof(*fi));
            else memcpy(wi, w + (size_t)crow[hit] * kmax, (size_t)cnt * sizeof(*wi));
            bounds[2 * i] = j0;
            bounds[2 * i + 1] = cnt;
            continue;
        }
        double total = 0.0;
        for (int j = 0; j < cnt; j++) total += k[j] = K(arg[j]);
        if (cnt <= 0 || total == 0.0) { /* degenerate window: take the nearest pixel */
            int jn = (int)floor(c);
            bounds[2 * i] = jn < 0 ? 0 : jn >= n ? n - 1 : jn;
            bounds[2 * i + 1] = 1;
            if (fi) fi[0] = 1.0f;
            else wi[0] = 1 << WBITS;
            continue;
        }
        if (fi) { /* 16 bits: the normalised weights themselves */
            for (int j = 0; j < cnt; j++) fi[j] = (float)(k[j] / total);
        }
        double cum = 0.0;
        long prev = 0;
        for (int j = 0; wi && j < cnt; j++) {
            cum += k[j] / total;
            long q = j == cnt - 1 ? 1L << WBITS : lround(cum * (1 << WBITS));
            wi[j] = (int16_t)(q - prev);
            prev = q;
        }
        bounds[2 * i] = j0;
        bounds[2 * i + 1] = cnt;
        if (cache) {
            memcpy(cargs + (size_t)next * kmax, arg, (size_t)cnt * sizeof(*arg));
            ccnt[next] = cnt;
            crow[next] = i;
            next = (next + 1) % TAP_CACHE;
            if (nc < TAP_CACHE) nc++;
        }
    }
}

/* Pillow's NEAREST: t accumulates s in double from s / 2. */
static void axis_nearest(int n, int m, int32_t *idx)
{
    const double s = (double)n / m;
    double t = s * 0.5;
    for (int i = 0; i < m; i++) {
        int j = t < 0.0 ? 0 : (int)t;
        idx[i] = j >= n ? n - 1 : j;
        t += s;
    }
}

/* SIMD horizontal pass: the output pixels of a row are cut into groups of nsub sub-windows of
   gpx pixels (AVX-512: 1 x 16 / C pixels, AVX2: 2 x 4 / C). A sub-window's lanes are its pixels'
   channels as int32; it reads SB bytes of input from the window start of its first pixel (base),
   moving by two pixels per step t, and a byte permutation picks for each lane the pair of taps
   2t, 2t + 1 of its own pixel (offset j0(x) - base), zero-extended to 16 bits, so one 16-bit
   multiply-add per step accumulates two taps of every lane. The weights are stored per step,
   laid out like the lanes, zero beyond a pixel's count, so the sums are the scalar ones. */
typedef struct hgroup {
    int32_t x0, nx;       /* first output pixel, output pixels in the group */
    int32_t P;            /* steps (tap pairs) */
    int32_t flags;        /* G_SCALAR: computed by the scalar loop; G_TAIL: a read may pass the row */
    int32_t base[2];      /* per sub-window: first input pixel read */
    int32_t npx1;         /* output pixels of the second sub-window */
    int32_t blk;          /* its block (byte permutation, then P weight vectors): offset */
} hgroup;
enum { G_SCALAR = 1, G_TAIL = 2 };
_Static_assert(sizeof(hgroup) == 32, "group header is 32 bytes");

static int isa_lanes(int isa) { return isa == ISA_AVX512 ? 16 : 4; } /* int32 lanes per sub */
static int isa_subbytes(int isa) { return isa == ISA_AVX512 ? 64 : 16; }
static int isa_vbytes(int isa) { return isa == ISA_AVX512 ? 64 : 32; } /* bytes per vector */

/* Output pixels per sub-window: the most that fit the lanes and, for an axis n -> m, whose window
   starts (at most ceil((g - 1) n / m) apart) leave both taps of a step inside the SB bytes. A
   group that still does not fit (a degenerate window) is flagged for the scalar loop. */
static int group_pixels(int isa, int c, int n, int m)
{
    const int sb = isa_subbytes(isa);
    int g = isa_lanes(isa) / c;
    while (g > 1 && (ceil((double)(g - 1) * n / m) + 2.0) * c > sb) g--;
    return g < 1 ? 1 : g;
}

/* Bytes of the group tables: headers, and blocks as if none were shared. */
static size_t groups_bytes(const resize_params *p, int n, int m)
{
    size_t bytes = (size_t)p->ngroups * sizeof(hgroup);
    for (int g = 0; g < p->ngroups; g++) {
        const int x0 = g * p->gpx * p->nsub;
        const int x1 = x0 + p->gpx * p->nsub < m ? x0 + p->gpx * p->nsub : m;
        int P = 0;
        for (int x = x0; x < x1; x++) {
            const int q = (taps_bound(p->method, n, m, x) + 1) / 2;
            if (q > P) P = q;
        }
        bytes += (size_t)isa_vbytes(p->isa) * (1 + (size_t)P);
    }
    return bytes;
}

/* 1 when group a (already built) has the block that group hg (header filled, block not yet)
   needs: the same pixels' offsets from their sub-window's base, counts and weights. */
static int same_block(const resize_params *p, const int32_t *xb, const int16_t *xw,
                      const hgroup *a, const hgroup *hg)
{
    if ((a->flags & G_SCALAR) || a->nx != hg->nx || a->P != hg->P) return 0;
    for (int i = 0; i < hg->nx; i++) {
        const int sub = i / p->gpx, x = hg->x0 + i, y = a->x0 + i;
        if (xb[2 * x] - hg->base[sub] != xb[2 * y] - a->base[sub] || xb[2 * x + 1] != xb[2 * y + 1] ||
            memcmp(xw + (size_t)x * p->kx, xw + (size_t)y * p->kx,
                   (size_t)xb[2 * x + 1] * sizeof(*xw)))
            return 0;
    }
    return 1;
}

/* Group headers (32 bytes each) come first, then the blocks of byte permutation + weights, which
   groups share when they are equal (at a regular scale nearly all are: the block stays in L1). */
#define BLOCK_RECENT 16
static void build_groups(const resize_params *p, int c, int n, int m, const int32_t *xb,
                         const int16_t *xw, uint8_t *out)
{
    const int sb = isa_subbytes(p->isa), vb = isa_vbytes(p->isa), lanes = isa_lanes(p->isa);
    const int64_t rowbytes = (int64_t)n * c;
    const size_t blocks = (size_t)p->ngroups * sizeof(hgroup);
    size_t used = 0;                     /* bytes of blocks written */
    size_t rblk[BLOCK_RECENT];           /* recent distinct blocks: offset, size */
    size_t rsize[BLOCK_RECENT];
    int nr = 0, rnext = 0;
    for (int g = 0; g < p->ngroups; g++) {
        hgroup *hg = (hgroup *)(void *)(out + (size_t)g * sizeof(hgroup));
        memset(hg, 0, sizeof *hg);
        const int x0 = g * p->gpx * p->nsub;
        int nx = m - x0;
        if (nx > p->gpx * p->nsub) nx = p->gpx * p->nsub;
        hg->x0 = x0;
        hg->nx = nx;
        int P = 0;
        for (int x = x0; x < x0 + nx; x++) {
            const int q = (xb[2 * x + 1] + 1) / 2;
            if (q > P) P = q;
        }
        hg->P = P;
        for (int sub = 0; sub < p->nsub; sub++) { /* header: bases, flags */
            const int sx0 = x0 + sub * p->gpx;
            int snx = x0 + nx - sx0;
            if (snx > p->gpx) snx = p->gpx;
            if (snx < 0) snx = 0;
            const int base = snx > 0 ? xb[2 * sx0] : hg->base[0];
            hg->base[sub] = base;
            if (sub == 1) hg->npx1 = snx;
            if (((int64_t)base + 2 * (int64_t)(P - 1)) * c + sb > rowbytes) hg->flags |= G_TAIL;
            for (int x = sx0; x < sx0 + snx; x++) {
                const int off = xb[2 * x] - base;
                if (off < 0 || (off + 2) * c > sb) hg->flags = G_SCALAR;
            }
        }
        if (hg->flags & G_SCALAR) {
            hg->flags = G_SCALAR; /* no block */
            continue;
        }
        /* the previous groups first: a regular scale repeats every group or two */
        int prev = 0;
        for (int back = 1; back <= 2 && !prev && g >= back; back++) {
            const hgroup *a = (const hgroup *)(const void *)(out + (size_t)(g - back) * sizeof(hgroup));
            if (same_block(p, xb, xw, a, hg)) {
                hg->blk = a->blk;
                prev = 1;
            }
        }
        if (prev) continue;
        const size_t bsize = (size_t)vb * (1 + (size_t)P);
        uint8_t *idx = out + blocks + used;
        int16_t *wv = (int16_t *)(void *)(idx + vb);
        memset(idx, 0, bsize);
        for (int sub = 0; sub < p->nsub; sub++) {
            const int sx0 = x0 + sub * p->gpx, base = hg->base[sub];
            const int snx = sub == 0 ? (nx < p->gpx ? nx : p->gpx) : hg->npx1;
            for (int e = 0; e < 2 * lanes; e++) /* unused lanes: AVX2 zeroes them (0x80) */
                idx[sub * sb + 2 * e] = idx[sub * sb + 2 * e + 1] = p->isa == ISA_AVX2 ? 0x80 : 0;
            for (int i = 0; i < snx; i++) {
                const int x = sx0 + i, off = xb[2 * x] - base, cnt = xb[2 * x + 1];
                for (int k = 0; k < c; k++) {
                    const int lane = i * c + k, e0 = sub * 2 * lanes + 2 * lane;
                    for (int e = 0; e < 2; e++) {
                        idx[sub * sb + 2 * (2 * lane + e)] = (uint8_t)((off + e) * c + k);
                        for (int t = 0; t < P; t++)
                            wv[(size_t)t * (vb / 2) + e0 + e] =
                                2 * t + e < cnt ? xw[(size_t)x * p->kx + 2 * t + e] : 0;
                    }
                }
            }
        }
        int hit = -1;
        for (int r = 0; r < nr && hit < 0; r++)
            if (rsize[r] == bsize && !memcmp(out + blocks + rblk[r], idx, bsize)) hit = r;
        if (hit >= 0) {
            hg->blk = (int32_t)(blocks + rblk[hit]);
            continue;
        }
        hg->blk = (int32_t)(blocks + used);
        rblk[rnext] = used;
        rsize[rnext] = bsize;
        rnext = (rnext + 1) % BLOCK_RECENT;
        if (nr < BLOCK_RECENT) nr++;
        used += bsize;
    }
}

/* 16 bits: bytes of a group of the AVX2 horizontal pass (build_groups16). */
#define G16_BYTES(kx) ((size_t)64 + (size_t)(kx) * 32)
static void build_groups16(const resize_params *p, int c, int n, int m, const int32_t *xb,
                           const float *xw, uint8_t *out);

static void tables_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)y0;
    (void)y1;
    (void)band;
    const resize_params *p = PP_STAGE_PARAMS(resize_params, s);
    uint8_t *base = s->partials;
    const int W = s->src.width, H = s->src.height, tw = s->dst.width, th = s->dst.height;
    if (p->method == M_NEAREST) {
        axis_nearest(W, tw, (int32_t *)(void *)(base + p->xb));
        axis_nearest(H, th, (int32_t *)(void *)(base + p->yb));
        return;
    }
    const int wide = p->depth == 16;
    axis_taps(p->method, W, tw, p->kx, (int32_t *)(void *)(base + p->xb),
              (int16_t *)(void *)(base + p->xw), wide ? (float *)(void *)(base + p->xw) : NULL,
              scratch);
    axis_taps(p->method, H, th, p->ky, (int32_t *)(void *)(base + p->yb),
              (int16_t *)(void *)(base + p->yw), wide ? (float *)(void *)(base + p->yw) : NULL,
              scratch);
    if (p->ngroups && wide)
        build_groups16(p, s->src.channels, W, tw, (const int32_t *)(const void *)(base + p->xb),
                       (const float *)(const void *)(base + p->xw), base + p->xg);
    else if (p->ngroups)
        build_groups(p, s->src.channels, W, tw, (const int32_t *)(const void *)(base + p->xb),
                     (const int16_t *)(const void *)(base + p->xw), base + p->xg);
}

/* ---- stage 2: the resampling itself ------------------------------------------------------- */

/* Horizontal pass of one input row into Q7 values clamped to [0, 255 << 7]. */
static inline __attribute__((always_inline)) void
hpass(const uint8_t *in, int tw, const int32_t *xb, const int16_t *xw, int kx, int16_t *h,
      const int C)
{
    for (int x = 0; x < tw; x++) {
        const int j0 = xb[2 * x], cnt = xb[2 * x + 1];
        const int16_t *w = xw + (size_t)x * kx;
        const uint8_t *px = in + (size_t)j0 * C;
        int32_t acc[4] = {0, 0, 0, 0};
        for (int j = 0; j < cnt; j++)
            for (int k = 0; k < C; k++) acc[k] += (int32_t)w[j] * px[j * C + k];
        for (int k = 0; k < C; k++) {
            int32_t v = acc[k] <= 0 ? 0 : (acc[k] + (1 << (WBITS - HBITS - 1))) >> (WBITS - HBITS);
            h[(size_t)x * C + k] = (int16_t)(v > (255 << HBITS) ? (255 << HBITS) : v);
        }
    }
}

static void hpass_any(const uint8_t *in, int tw, const int32_t *xb, const int16_t *xw, int kx,
                      int16_t *h, int c)
{
    switch (c) {
    case 1: hpass(in, tw, xb, xw, kx, h, 1); break;
    case 2: hpass(in, tw, xb, xw, kx, h, 2); break;
    case 3: hpass(in, tw, xb, xw, kx, h, 3); break;
    default: hpass(in, tw, xb, xw, kx, h, 4); break;
    }
}

/* Vertical pass of columns [from, n) of one output row, scalar: rows[j] the cnt ring rows, w
   their weights (also the SIMD loops' remainder). */
static void vpass_scalar(const int16_t *const *rows, const int16_t *w, int cnt, size_t from,
                         size_t n, uint8_t *out)
{
    for (size_t i0 = from; i0 < n; i0 += CHUNK) {
        const size_t len = n - i0 < CHUNK ? n - i0 : CHUNK;
        int32_t acc[CHUNK];
        for (size_t i = 0; i < len; i++) acc[i] = 1 << (WBITS + HBITS - 1);
        for (int j = 0; j < cnt; j++) {
            const int16_t *row = rows[j] + i0;
            const int32_t wj = w[j];
            for (size_t i = 0; i < len; i++) acc[i] += wj * row[i];
        }
        for (size_t i = 0; i < len; i++) {
            int32_t v = acc[i] < 0 ? 0 : acc[i] >> (WBITS + HBITS);
            out[i0 + i] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
}

#ifdef PP_X86

/* Horizontal pass of output pixels [x0, x0 + nx) of one row, scalar. */
static void hpass_range(const uint8_t *in, int x0, int nx, const int32_t *xb, const int16_t *xw,
                        int kx, int16_t *h, int c)
{
    hpass_any(in, nx, xb + 2 * (size_t)x0, xw + (size_t)x0 * kx, kx, h + (size_t)x0 * c, c);
}

/* The SIMD loops: the same integer sums as hpass / vpass_scalar in another order (exact, no
   overflow: |sums| < 2^31), so the same bytes. */

__attribute__((target("avx2"))) static void
hpass_avx2(const uint8_t *in, const resize_params *p, const uint8_t *groups, const int32_t *xb,
           const int16_t *xw, int16_t *h, int c, int n)
{
    const size_t rowbytes = (size_t)n * c, step = 2 * (size_t)c;
    const __m256i rnd = _mm256_set1_epi32(1 << (WBITS - HBITS - 1)), zero = _mm256_setzero_si256(),
                  top = _mm256_set1_epi32(255 << HBITS);
    for (int g = 0; g < p->ngroups; g++) {
        const hgroup *hg = (const hgroup *)(const void *)(groups + (size_t)g * sizeof(hgroup));
        if (hg->flags & G_SCALAR) {
            hpass_range(in, hg->x0, hg->nx, xb, xw, p->kx, h, c);
            continue;
        }
        const __m256i idx = _mm256_loadu_si256((const void *)(groups + hg->blk));
        const uint8_t *wv = groups + hg->blk + 32;
        const size_t o0 = (size_t)hg->base[0] * c, o1 = (size_t)hg->base[1] * c;
        __m256i acc = zero;
        _mm_prefetch((const char *)(in + o0 + PREFETCH_AHEAD), _MM_HINT_T0);
        if (!(hg->flags & G_TAIL)) {
            const uint8_t *s0 = in + o0, *s1 = in + o1;
            for (int t = 0; t < hg->P; t++) {
                __m256i d = _mm256_inserti128_si256(
                    _mm256_castsi128_si256(_mm_loadu_si128((const void *)(s0 + t * step))),
                    _mm_loadu_si128((const void *)(s1 + t * step)), 1);
                d = _mm256_shuffle_epi8(d, idx);
                acc = _mm256_add_epi32(
                    acc, _mm256_madd_epi16(d, _mm256_loadu_si256((const void *)(wv + 32 * t))));
            }
        } else {
            for (int t = 0; t < hg->P; t++) {
                uint8_t tmp[32] = {0};
                const size_t a = o0 + t * step, b = o1 + t * step;
                if (a < rowbytes) memcpy(tmp, in + a, rowbytes - a < 16 ? rowbytes - a : 16);
                if (b < rowbytes) memcpy(tmp + 16, in + b, rowbytes - b < 16 ? rowbytes - b : 16);
                __m256i d = _mm256_shuffle_epi8(_mm256_loadu_si256((const void *)tmp), idx);
                acc = _mm256_add_epi32(
                    acc, _mm256_madd_epi16(d, _mm256_loadu_si256((const void *)(wv + 32 * t))));
            }
        }
        __m256i v = _mm256_srai_epi32(_mm256_add_epi32(acc, rnd), WBITS - HBITS);
        v = _mm256_min_epi32(_mm256_max_epi32(v, zero), top);
        v = _mm256_packs_epi32(v, v);
        /* 4 values per sub-window; the extra lanes land where the next store or the ring row's
           slack is */
        _mm_storel_epi64((void *)(h + (size_t)hg->x0 * c), _mm256_castsi256_si128(v));
        if (hg->npx1)
            _mm_storel_epi64((void *)(h + (size_t)(hg->x0 + p->gpx) * c),
                             _mm256_extracti128_si256(v, 1));
    }
}

/* The P steps of a group that reads inside the row. */
static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vbmi"))) __m512i
steps512(const uint8_t *s0, size_t step, const uint8_t *wv, __m512i idx, const int P)
{
    const __mmask64 even = 0x5555555555555555ULL;
    __m512i acc = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int t = 0; t < P; t++) {
        __m512i d = _mm512_maskz_permutexvar_epi8(
            even, idx, _mm512_loadu_si512((const void *)(s0 + t * step)));
        acc = _mm512_add_epi32(acc,
                               _mm512_madd_epi16(d, _mm512_loadu_si512((const void *)(wv + 64 * t))));
    }
    return acc;
}

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static void
hpass_avx512(const uint8_t *in, const resize_params *p, const uint8_t *groups, const int32_t *xb,
             const int16_t *xw, int16_t *h, int c, int n)
{
    const size_t rowbytes = (size_t)n * c, step = 2 * (size_t)c;
    const __mmask64 even = 0x5555555555555555ULL;
    const __m512i rnd = _mm512_set1_epi32(1 << (WBITS - HBITS - 1)), zero = _mm512_setzero_si512(),
                  top = _mm512_set1_epi32(255 << HBITS);
    for (int g = 0; g < p->ngroups; g++) {
        const hgroup *hg = (const hgroup *)(const void *)(groups + (size_t)g * sizeof(hgroup));
        if (hg->flags & G_SCALAR) {
            hpass_range(in, hg->x0, hg->nx, xb, xw, p->kx, h, c);
            continue;
        }
        const __m512i idx = _mm512_loadu_si512((const void *)(groups + hg->blk));
        const uint8_t *wv = groups + hg->blk + 64;
        const size_t o0 = (size_t)hg->base[0] * c;
        __m512i acc = zero;
        _mm_prefetch((const char *)(in + o0 + PREFETCH_AHEAD), _MM_HINT_T0);
        if (!(hg->flags & G_TAIL)) {
            const uint8_t *s0 = in + o0;
            switch (hg->P) { /* unrolled for the usual window lengths */
            case 1: acc = steps512(s0, step, wv, idx, 1); break;
            case 2: acc = steps512(s0, step, wv, idx, 2); break;
            case 3: acc = steps512(s0, step, wv, idx, 3); break;
            case 4: acc = steps512(s0, step, wv, idx, 4); break;
            case 5: acc = steps512(s0, step, wv, idx, 5); break;
            case 6: acc = steps512(s0, step, wv, idx, 6); break;
            case 7: acc = steps512(s0, step, wv, idx, 7); break;
            case 8: acc = steps512(s0, step, wv, idx, 8); break;
            default: acc = steps512(s0, step, wv, idx, hg->P); break;
            }
        } else {
            for (int t = 0; t < hg->P; t++) {
                const size_t a = o0 + t * step;
                __m512i raw = zero;
                if (a < rowbytes) {
                    const size_t left = rowbytes - a;
                    const __mmask64 m = left >= 64 ? ~0ULL : (1ULL << left) - 1;
                    raw = _mm512_maskz_loadu_epi8(m, in + a);
                }
                __m512i d = _mm512_maskz_permutexvar_epi8(even, idx, raw);
                acc = _mm512_add_epi32(
                    acc, _mm512_madd_epi16(d, _mm512_loadu_si512((const void *)(wv + 64 * t))));
            }
        }
        __m512i v = _mm512_srai_epi32(_mm512_add_epi32(acc, rnd), WBITS - HBITS);
        v = _mm512_min_epi32(_mm512_max_epi32(v, zero), top);
        /* 16 values; those past the group land where the next store or the slack is */
        _mm256_storeu_si256((void *)(h + (size_t)hg->x0 * c), _mm512_cvtepi32_epi16(v));
    }
}

/* Vertical pass: pairs of ring rows interleaved as 16-bit pairs, multiplied by (w_j, w_j+1) and
   summed into int32 lanes; wp[t] packs w_2t (low half) and w_2t+1 (high half). */
__attribute__((target("avx2"))) static void vpass_avx2(const int16_t *const *rows,
                                                       const int32_t *wp, const int16_t *w,
                                                       int cnt, size_t n, uint8_t *out)
{
    const int np = (cnt + 1) / 2;
    const __m256i bias = _mm256_set1_epi32(1 << (WBITS + HBITS - 1));
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        for (int t = 0; t < np; t++) {
            const int16_t *ra = rows[2 * t] + i, *rb = rows[2 * t + 1] + i;
            const __m256i wt = _mm256_set1_epi32(wp[t]);
            const __m256i x0 = _mm256_loadu_si256((const void *)ra),
                          y0 = _mm256_loadu_si256((const void *)rb),
                          x1 = _mm256_loadu_si256((const void *)(ra + 16)),
                          y1 = _mm256_loadu_si256((const void *)(rb + 16));
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, y0), wt));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, y0), wt));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_unpacklo_epi16(x1, y1), wt));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_unpackhi_epi16(x1, y1), wt));
        }
        const int sh = WBITS + HBITS;
        __m256i p0 = _mm256_packs_epi32(_mm256_srai_epi32(a0, sh), _mm256_srai_epi32(a1, sh));
        __m256i p1 = _mm256_packs_epi32(_mm256_srai_epi32(a2, sh), _mm256_srai_epi32(a3, sh));
        __m256i b = _mm256_permute4x64_epi64(_mm256_packus_epi16(p0, p1), 0xD8);
        _mm256_storeu_si256((void *)(out + i), b);
    }
    vpass_scalar(rows, w, cnt, i, n, out);
}

__attribute__((target("avx512f,avx512bw"))) static void
vpass_avx512(const int16_t *const *rows, const int32_t *wp, const int16_t *w, int cnt, size_t n,
             uint8_t *out)
{
    const int np = (cnt + 1) / 2;
    const __m512i bias = _mm512_set1_epi32(1 << (WBITS + HBITS - 1));
    const __m512i perm = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        for (int t = 0; t < np; t++) {
            const int16_t *ra = rows[2 * t] + i, *rb = rows[2 * t + 1] + i;
            const __m512i wt = _mm512_set1_epi32(wp[t]);
            const __m512i x0 = _mm512_loadu_si512((const void *)ra),
                          y0 = _mm512_loadu_si512((const void *)rb),
                          x1 = _mm512_loadu_si512((const void *)(ra + 32)),
                          y1 = _mm512_loadu_si512((const void *)(rb + 32));
            a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(_mm512_unpacklo_epi16(x0, y0), wt));
            a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(_mm512_unpackhi_epi16(x0, y0), wt));
            a2 = _mm512_add_epi32(a2, _mm512_madd_epi16(_mm512_unpacklo_epi16(x1, y1), wt));
            a3 = _mm512_add_epi32(a3, _mm512_madd_epi16(_mm512_unpackhi_epi16(x1, y1), wt));
        }
        const int sh = WBITS + HBITS;
        __m512i p0 = _mm512_packs_epi32(_mm512_srai_epi32(a0, sh), _mm512_srai_epi32(a1, sh));
        __m512i p1 = _mm512_packs_epi32(_mm512_srai_epi32(a2, sh), _mm512_srai_epi32(a3, sh));
        __m512i b = _mm512_permutexvar_epi64(perm, _mm512_packus_epi16(p0, p1));
        _mm512_storeu_si512((void *)(out + i), b);
    }
    vpass_scalar(rows, w, cnt, i, n, out);
}
#endif

static void resample_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const resize_params *p = PP_STAGE_PARAMS(resize_params, s);
    const uint8_t *base = s->partials;
    const int32_t *xb = (const int32_t *)(const void *)(base + p->xb);
    const int16_t *xw = (const int16_t *)(const void *)(base + p->xw);
    const int32_t *yb = (const int32_t *)(const void *)(base + p->yb);
    const int16_t *yw = (const int16_t *)(const void *)(base + p->yw);
    const int c = s->src.channels, tw = s->dst.width, W = s->src.width, R = p->ring;
    const size_t n = (size_t)tw * c;
    uint8_t *ring = scratch;
    const int16_t **rows = (const int16_t **)(void *)(ring + p->hstride * (size_t)R);
    int32_t *wp = (int32_t *)(void *)((uint8_t *)rows + align64((size_t)(p->ky + 1) * sizeof(*rows)));
    int hi = -1; /* ring holds the filtered input rows [hi - R, hi) that were computed */
    for (int y = y0; y < y1; y++) {
        const int j0 = yb[2 * y], cnt = yb[2 * y + 1];
        int from = hi < j0 ? j0 : hi;
        for (int j = from; j < j0 + cnt; j++) {
            const uint8_t *in = pp_row(&s->src, j);
            int16_t *h = (int16_t *)(void *)(ring + (size_t)(j % R) * p->hstride);
            if (W == tw) { /* unchanged width: weight 1, exactly in << HBITS */
                for (size_t i = 0; i < n; i++) h[i] = (int16_t)(in[i] << HBITS);
                continue;
            }
#ifdef PP_X86
            if (p->isa == ISA_AVX512) {
                hpass_avx512(in, p, base + p->xg, xb, xw, h, c, W);
                continue;
            }
            if (p->isa == ISA_AVX2) {
                hpass_avx2(in, p, base + p->xg, xb, xw, h, c, W);
                continue;
            }
#endif
            hpass_any(in, tw, xb, xw, p->kx, h, c);
        }
        if (j0 + cnt > hi) hi = j0 + cnt;
        const int16_t *w = yw + (size_t)y * p->ky;
        int slot = j0 % R;
        for (int j = 0; j < cnt; j++) {
            rows[j] = (const int16_t *)(const void *)(ring + (size_t)slot * p->hstride);
            if (++slot == R) slot = 0;
        }
        rows[cnt] = rows[cnt - 1]; /* partner of an odd last tap, weight 0 */
        for (int t = 0; t < (cnt + 1) / 2; t++)
            wp[t] = (int32_t)((uint32_t)(uint16_t)w[2 * t] |
                              (2 * t + 1 < cnt ? (uint32_t)(uint16_t)w[2 * t + 1] << 16 : 0));
        uint8_t *out = pp_row(&s->dst, y);
#ifdef PP_X86
        if (p->isa == ISA_AVX512) {
            vpass_avx512(rows, wp, w, cnt, n, out);
            continue;
        }
        if (p->isa == ISA_AVX2) {
            vpass_avx2(rows, wp, w, cnt, n, out);
            continue;
        }
#endif
        vpass_scalar(rows, w, cnt, 0, n, out);
    }
}

static void nearest_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const resize_params *p = PP_STAGE_PARAMS(resize_params, s);
    const int32_t *xi = (const int32_t *)(const void *)(s->partials + p->xb);
    const int32_t *yi = (const int32_t *)(const void *)(s->partials + p->yb);
    const int c = s->src.channels, tw = s->dst.width;
    for (int y = y0; y < y1; y++) {
        const uint8_t *in = pp_row(&s->src, yi[y]);
        uint8_t *out = pp_row(&s->dst, y);
        switch (c) {
        case 1:
            for (int x = 0; x < tw; x++) out[x] = in[xi[x]];
            break;
        case 2:
            for (int x = 0; x < tw; x++) memcpy(out + 2 * x, in + (size_t)xi[x] * 2, 2);
            break;
        case 3:
            for (int x = 0; x < tw; x++) memcpy(out + 3 * x, in + (size_t)xi[x] * 3, 3);
            break;
        default:
            for (int x = 0; x < tw; x++) memcpy(out + 4 * x, in + (size_t)xi[x] * 4, 4);
            break;
        }
    }
}

/* ---- 16 bits: float weights and a float intermediate ------------------------------------ */

/* The same resampling on 0..65535 with the normalised weights as floats (no Q14): the
   horizontal pass sums w_j * in_j in float, taps in window order, into an intermediate clamped to
   [0, 65535] and not rounded; the vertical pass sums w_j * row_j in float, rows in window order,
   rounds half away from zero and clamps. Each product is added by a fused multiply-add (one
   rounding: acc = fma(w_j, x_j, acc), the horizontal sum from 0, the vertical one from the
   rounded product w_0 row_0), in the same order in every loop (the vectorised ones run across
   output samples, never across taps), so every variant and backend gives the same bytes. */
static inline __attribute__((always_inline)) void
hpass16(const uint16_t *in, int tw, const int32_t *xb, const float *xw, int kx, float *h,
        const int C)
{
    for (int x = 0; x < tw; x++) {
        const int j0 = xb[2 * x], cnt = xb[2 * x + 1];
        const float *w = xw + (size_t)x * kx;
        const uint16_t *px = in + (size_t)j0 * C;
        float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int j = 0; j < cnt; j++)
            for (int k = 0; k < C; k++) acc[k] = fmaf(w[j], (float)px[j * C + k], acc[k]);
        for (int k = 0; k < C; k++) {
            const float v = acc[k];
            h[(size_t)x * C + k] = v > 0.0f ? (v < 65535.0f ? v : 65535.0f) : 0.0f;
        }
    }
}

static inline __attribute__((always_inline)) void
hpass16_body(const uint16_t *in, int tw, const int32_t *xb, const float *xw, int kx, float *h,
             int c)
{
    switch (c) {
    case 1: hpass16(in, tw, xb, xw, kx, h, 1); break;
    case 2: hpass16(in, tw, xb, xw, kx, h, 2); break;
    case 3: hpass16(in, tw, xb, xw, kx, h, 3); break;
    default: hpass16(in, tw, xb, xw, kx, h, 4); break;
    }
}

static void hpass16_any(const uint16_t *in, int tw, const int32_t *xb, const float *xw, int kx,
                        float *h, int c)
{
    hpass16_body(in, tw, xb, xw, kx, h, c);
}

static inline __attribute__((always_inline)) void
vpass16_body(const float *const *rows, const float *w, int cnt, size_t from, size_t n,
             uint16_t *out)
{
    for (size_t i0 = from; i0 < n; i0 += CHUNK) {
        const size_t len = n - i0 < CHUNK ? n - i0 : CHUNK;
        float acc[CHUNK];
        const float *r0 = rows[0] + i0, w0 = w[0];
        for (size_t i = 0; i < len; i++) acc[i] = w0 * r0[i];
        for (int j = 1; j < cnt; j++) {
            const float *row = rows[j] + i0, wj = w[j];
            for (size_t i = 0; i < len; i++) acc[i] = fmaf(wj, row[i], acc[i]);
        }
        for (size_t i = 0; i < len; i++) {
            const float v = acc[i];
            out[i0 + i] = v > 0.0f ? (v < 65534.5f ? (uint16_t)(v + 0.5f) : 65535) : 0;
        }
    }
}

static void vpass16_scalar(const float *const *rows, const float *w, int cnt, size_t from,
                           size_t n, uint16_t *out)
{
    vpass16_body(rows, w, cnt, from, n, out);
}

#ifdef PP_X86
/* The scalar loops built with FMA (fmaf is one instruction there), for the vector loops' tails
   and short groups. */
__attribute__((target("avx2,fma"))) static void
hpass16_fma(const uint16_t *in, int tw, const int32_t *xb, const float *xw, int kx, float *h, int c)
{
    hpass16_body(in, tw, xb, xw, kx, h, c);
}

__attribute__((target("avx2,fma"))) static void
vpass16_fma(const float *const *rows, const float *w, int cnt, size_t from, size_t n,
            uint16_t *out)
{
    vpass16_body(rows, w, cnt, from, n, out);
}

/* 8 output samples: the scalar sum and rounding (max(v, 0) + 0.5 truncated, at most 65535:
   the scalar cases), as 8 int32. */
static inline __attribute__((always_inline, target("avx2,fma"))) __m256i
vsum16(const float *const *rows, const float *w, int cnt, size_t i)
{
    __m256 acc = _mm256_mul_ps(_mm256_set1_ps(w[0]), _mm256_loadu_ps(rows[0] + i));
    for (int j = 1; j < cnt; j++)
        acc = _mm256_fmadd_ps(_mm256_set1_ps(w[j]), _mm256_loadu_ps(rows[j] + i), acc);
    acc = _mm256_add_ps(_mm256_max_ps(acc, _mm256_setzero_ps()), _mm256_set1_ps(0.5f));
    return _mm256_cvttps_epi32(_mm256_min_ps(acc, _mm256_set1_ps(65535.0f)));
}

/* The same sums, 16 output samples a step. */
__attribute__((target("avx2,fma"))) static void
vpass16_avx2(const float *const *rows, const float *w, int cnt, size_t from, size_t n,
             uint16_t *out)
{
    size_t i = from;
    for (; i + 16 <= n; i += 16) {
        const __m256i a = vsum16(rows, w, cnt, i), b = vsum16(rows, w, cnt, i + 8);
        const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8);
        _mm256_storeu_si256((void *)(out + i), p);
    }
    vpass16_fma(rows, w, cnt, i, n, out);
}

/* The same sums, 32 output samples a step in two chains of 16 lanes. */
static inline __attribute__((always_inline, target("avx512f"))) __m512
vsum16_512(const float *const *rows, const float *w, int cnt, size_t i)
{
    __m512 acc = _mm512_mul_ps(_mm512_set1_ps(w[0]), _mm512_loadu_ps(rows[0] + i));
    for (int j = 1; j < cnt; j++)
        acc = _mm512_fmadd_ps(_mm512_set1_ps(w[j]), _mm512_loadu_ps(rows[j] + i), acc);
    acc = _mm512_add_ps(_mm512_max_ps(acc, _mm512_setzero_ps()), _mm512_set1_ps(0.5f));
    return _mm512_min_ps(acc, _mm512_set1_ps(65535.0f));
}

__attribute__((target("avx512f,avx2,fma"))) static void
vpass16_avx512(const float *const *rows, const float *w, int cnt, size_t n, uint16_t *out)
{
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 a = vsum16_512(rows, w, cnt, i), b = vsum16_512(rows, w, cnt, i + 16);
        _mm256_storeu_si256((void *)(out + i), _mm512_cvtepi32_epi16(_mm512_cvttps_epi32(a)));
        _mm256_storeu_si256((void *)(out + i + 16),
                            _mm512_cvtepi32_epi16(_mm512_cvttps_epi32(b)));
    }
    vpass16_avx2(rows, w, cnt, i, n, out);
}
#endif

/* AVX2 horizontal pass at 16 bits: the output samples of a row in groups of 8 lanes (a lane is
   one channel of one output pixel); per step t one gather of each lane's tap t (the 32 bits at
   its sample, the low half kept), converted to float, times the lane's weight t (0 past its
   window's end: adds +0, which changes nothing), added to the lane's sum: the scalar sums, in
   the scalar order. A group's block (G16_BYTES(kx) bytes): int32 steps, int32 flags (1: computed
   by the scalar loop: the last, short group, or one whose reads would pass the row's last
   sample but one), 6 unused, int32 first sample of each lane, then kx steps of 8 weights. */
static void build_groups16(const resize_params *p, int c, int n, int m, const int32_t *xb,
                           const float *xw, uint8_t *out)
{
    const int64_t samples = (int64_t)n * c, outs = (int64_t)m * c;
    if (c >= 3) { /* pairs of pixels: lanes 0-3 pixel 2g, lanes 4-7 pixel 2g + 1 */
        for (int g = 0; g < p->ngroups; g++) {
            uint8_t *blk = out + (size_t)g * G16_BYTES(p->kx);
            int32_t *hdr = (int32_t *)(void *)blk, *first = hdr + 8;
            float *w = (float *)(void *)(blk + 64);
            memset(blk, 0, G16_BYTES(p->kx));
            const int x = 2 * g;
            if (x + 1 >= m) {
                hdr[1] = 1;
                continue;
            }
            const int P = xb[2 * x + 1] > xb[2 * x + 3] ? xb[2 * x + 1] : xb[2 * x + 3];
            for (int e = 0; e < 2; e++) {
                first[e] = xb[2 * (x + e)] * c;
                for (int t = 0; t < xb[2 * (x + e) + 1]; t++)
                    for (int k = 0; k < 4; k++)
                        w[t * 8 + 4 * e + k] = xw[(size_t)(x + e) * p->kx + t];
            }
            hdr[0] = P;
            /* each step reads 4 samples from a pixel's tap */
            hdr[1] = (int64_t)first[1] + (int64_t)(P - 1) * c + 4 > samples;
        }
        return;
    }
    for (int g = 0; g < p->ngroups; g++) {
        uint8_t *blk = out + (size_t)g * G16_BYTES(p->kx);
        int32_t *hdr = (int32_t *)(void *)blk, *first = hdr + 8;
        float *w = (float *)(void *)(blk + 64);
        memset(blk, 0, G16_BYTES(p->kx));
        const int64_t s0 = (int64_t)g * 8;
        if (s0 + 8 > outs) {
            hdr[1] = 1;
            continue;
        }
        int P = 0;
        int64_t last = 0; /* the highest sample read */
        for (int e = 0; e < 8; e++) {
            const int x = (int)((s0 + e) / c), k = (int)((s0 + e) % c);
            if (xb[2 * x + 1] > P) P = xb[2 * x + 1];
            first[e] = xb[2 * x] * c + k;
        }
        for (int e = 0; e < 8; e++) {
            const int x = (int)((s0 + e) / c);
            const int64_t r = first[e] + (int64_t)(P - 1) * c;
            if (r > last) last = r;
            for (int t = 0; t < xb[2 * x + 1]; t++) w[t * 8 + e] = xw[(size_t)x * p->kx + t];
        }
        hdr[0] = P;
        hdr[1] = last + 1 >= samples; /* the gather reads the sample after too */
    }
}

#ifdef PP_X86
__attribute__((target("avx2,fma"))) static void
hpass16_avx2(const uint16_t *in, const resize_params *p, const uint8_t *groups,
             const int32_t *xb, const float *xw, float *h, int c, int tw)
{
    const __m256i low = _mm256_set1_epi32(0xffff), step = _mm256_set1_epi32(c);
    const __m256 zero = _mm256_setzero_ps(), top = _mm256_set1_ps(65535.0f);
    if (c >= 3) { /* pairs of pixels, 4 samples of each per tap (3 and garbage for RGB) */
        const size_t gb = G16_BYTES(p->kx);
        for (int g = 0; g < p->ngroups; g++) {
            const uint8_t *blk = groups + (size_t)g * gb;
            const int32_t *hdr = (const int32_t *)(const void *)blk;
            if (g + 4 <= p->ngroups) { /* four groups of the same length at once: four
                                          independent sums hide the latency of the adds */
                const int32_t *h1 = (const int32_t *)(const void *)(blk + gb),
                              *h2 = (const int32_t *)(const void *)(blk + 2 * gb),
                              *h3 = (const int32_t *)(const void *)(blk + 3 * gb);
                const int P = hdr[0];
                if (!(hdr[1] | h1[1] | h2[1] | h3[1]) && h1[0] == P && h2[0] == P && h3[0] == P) {
                    const int32_t *hs[4] = {hdr, h1, h2, h3};
                    __m256 acc[4] = {zero, zero, zero, zero};
                    for (int t = 0; t < P; t++)
                        for (int q = 0; q < 4; q++) {
                            const uint16_t *a = in + hs[q][8] + (size_t)t * c,
                                           *b = in + hs[q][9] + (size_t)t * c;
                            const __m256i v = _mm256_cvtepu16_epi32(
                                _mm_unpacklo_epi64(_mm_loadl_epi64((const void *)a),
                                                   _mm_loadl_epi64((const void *)b)));
                            const float *w = (const float *)(const void *)(blk + q * gb + 64);
                            acc[q] = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * t),
                                                     _mm256_cvtepi32_ps(v), acc[q]);
                        }
                    for (int q = 0; q < 4; q++) {
                        const __m256 r = _mm256_min_ps(_mm256_max_ps(acc[q], zero), top);
                        float *o = h + (size_t)(g + q) * 2 * c;
                        if (c == 4) {
                            _mm256_storeu_ps(o, r);
                        } else {
                            _mm_storeu_ps(o, _mm256_castps256_ps128(r));
                            _mm_storeu_ps(o + 3, _mm256_extractf128_ps(r, 1));
                        }
                    }
                    g += 3;
                    continue;
                }
            }
            if (hdr[1]) {
                const int x0 = 2 * g, nx = tw - x0 < 2 ? tw - x0 : 2;
                hpass16_fma(in, nx, xb + 2 * (size_t)x0, xw + (size_t)x0 * p->kx, p->kx,
                            h + (size_t)x0 * c, c);
                continue;
            }
            const float *w = (const float *)(const void *)(blk + 64);
            const uint16_t *a = in + hdr[8], *b = in + hdr[9];
            __m256 acc = zero;
            for (int t = 0; t < hdr[0]; t++) {
                const __m128i va = _mm_loadl_epi64((const void *)(a + (size_t)t * c)),
                              vb = _mm_loadl_epi64((const void *)(b + (size_t)t * c));
                const __m256i v = _mm256_cvtepu16_epi32(_mm_unpacklo_epi64(va, vb));
                acc = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * t), _mm256_cvtepi32_ps(v), acc);
            }
            acc = _mm256_min_ps(_mm256_max_ps(acc, zero), top);
            float *o = h + (size_t)g * 2 * c;
            if (c == 4) {
                _mm256_storeu_ps(o, acc);
            } else { /* the second pixel's store overwrites the first one's 4th lane; its own
                        4th lane lands on the next pixel (written later) or the row's slack */
                _mm_storeu_ps(o, _mm256_castps256_ps128(acc));
                _mm_storeu_ps(o + 3, _mm256_extractf128_ps(acc, 1));
            }
        }
        return;
    }
    for (int g = 0; g < p->ngroups; g++) {
        const uint8_t *blk = groups + (size_t)g * G16_BYTES(p->kx);
        const int32_t *hdr = (const int32_t *)(const void *)blk;
        if (hdr[1]) { /* the pixels of these samples, by the scalar loop */
            const int x0 = g * 8 / c, x1 = (g * 8 + 7) / c + 1;
            const int nx = (x1 < tw ? x1 : tw) - x0;
            hpass16_fma(in, nx, xb + 2 * (size_t)x0, xw + (size_t)x0 * p->kx, p->kx,
                        h + (size_t)x0 * c, c);
            continue;
        }
        const float *w = (const float *)(const void *)(blk + 64);
        __m256i idx = _mm256_loadu_si256((const void *)(hdr + 8));
        __m256 acc = zero;
        for (int t = 0; t < hdr[0]; t++) {
            const __m256i v = _mm256_and_si256(
                _mm256_i32gather_epi32((const int *)(const void *)in, idx, 2), low);
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * t), _mm256_cvtepi32_ps(v), acc);
            idx = _mm256_add_epi32(idx, step);
        }
        acc = _mm256_min_ps(_mm256_max_ps(acc, zero), top);
        _mm256_storeu_ps(h + (size_t)g * 8, acc);
    }
}
#endif

static void resample16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    const resize_params *p = PP_STAGE_PARAMS(resize_params, s);
    const uint8_t *base = s->partials;
    const int32_t *xb = (const int32_t *)(const void *)(base + p->xb);
    const float *xw = (const float *)(const void *)(base + p->xw);
    const int32_t *yb = (const int32_t *)(const void *)(base + p->yb);
    const float *yw = (const float *)(const void *)(base + p->yw);
    const int c = s->src.channels, tw = s->dst.width, W = s->src.width, R = p->ring;
    const size_t n = (size_t)tw * c;
    uint8_t *ring = scratch;
    const float **rows = (const float **)(void *)(ring + p->hstride * (size_t)R);
    int hi = -1; /* ring holds the filtered input rows [hi - R, hi) that were computed */
    for (int y = y0; y < y1; y++) {
        const int j0 = yb[2 * y], cnt = yb[2 * y + 1];
        const int from = hi < j0 ? j0 : hi;
        for (int j = from; j < j0 + cnt; j++) {
            const uint16_t *in = pp_row16(&s->src, j);
            float *h = (float *)(void *)(ring + (size_t)(j % R) * p->hstride);
            if (W == tw) { /* unchanged width: weight 1, the input itself */
                for (size_t i = 0; i < n; i++) h[i] = (float)in[i];
                continue;
            }
#ifdef PP_X86
            if (p->ngroups) {
                hpass16_avx2(in, p, base + p->xg, xb, xw, h, c, tw);
                continue;
            }
#endif
            hpass16_any(in, tw, xb, xw, p->kx, h, c);
        }
        if (j0 + cnt > hi) hi = j0 + cnt;
        int slot = j0 % R;
        for (int j = 0; j < cnt; j++) {
            rows[j] = (const float *)(const void *)(ring + (size_t)slot * p->hstride);
            if (++slot == R) slot = 0;
        }
        const float *w = yw + (size_t)y * p->ky;
        uint16_t *out = pp_row16(&s->dst, y);
#ifdef PP_X86
        if (p->isa == ISA_AVX512) {
            vpass16_avx512(rows, w, cnt, n, out);
            continue;
        }
        if (p->isa == ISA_AVX2) {
            vpass16_avx2(rows, w, cnt, 0, n, out);
            continue;
        }
#endif
        vpass16_scalar(rows, w, cnt, 0, n, out);
    }
}

static void nearest16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const resize_params *p = PP_STAGE_PARAMS(resize_params, s);
    const int32_t *xi = (const int32_t *)(const void *)(s->partials + p->xb);
    const int32_t *yi = (const int32_t *)(const void *)(s->partials + p->yb);
    const int c = s->src.channels, tw = s->dst.width;
    for (int y = y0; y < y1; y++) {
        const uint16_t *in = pp_row16(&s->src, yi[y]);
        uint16_t *out = pp_row16(&s->dst, y);
        switch (c) { /* a pixel is 2c bytes */
        case 1:
            for (int x = 0; x < tw; x++) out[x] = in[xi[x]];
            break;
        case 2:
            for (int x = 0; x < tw; x++) memcpy(out + 2 * x, in + (size_t)xi[x] * 2, 4);
            break;
        case 3:
            for (int x = 0; x < tw; x++) memcpy(out + 3 * x, in + (size_t)xi[x] * 3, 6);
            break;
        default:
            for (int x = 0; x < tw; x++) memcpy(out + 4 * x, in + (size_t)xi[x] * 4, 8);
            break;
        }
    }
}

/* ---- plan --------------------------------------------------------------------------------- */

/* round(a * b / d) for positive values, halves up, in 64-bit integers. */
static int64_t muldiv_round(int64_t a, int64_t b, int64_t d) { return (2 * a * b + d) / (2 * d); }

typedef struct resize_args {
    int width, height; /* one of a group with scale: params.c checks that one is given */
    double scale;
    int method; /* M_* */
} resize_args;

static pp_status target_size(const pp_params *p, const pp_geom *in, int64_t *tw, int64_t *th,
                             char *err, size_t errlen)
{
    const resize_args *a = PP_ARGS(resize_args, p);
    const bool has_w = pp_param_given(p, "width"), has_h = pp_param_given(p, "height"),
               has_s = pp_param_given(p, "scale");
    if (has_s && (has_w || has_h)) {
        snprintf(err, errlen, "give either width/height or scale, not both");
        return PP_ERR_SPEC;
    }
    if (has_s) {
        const double sc = a->scale;
        const double fw = floor(in->width * sc + 0.5), fh = floor(in->height * sc + 0.5);
        if (!(fw >= 1 && fh >= 1)) {
            snprintf(err, errlen, "scale=%g turns the %dx%d image into %.0fx%.0f pixels", sc,
                     in->width, in->height, fw, fh);
            return PP_ERR_SPEC;
        }
        *tw = fw > 1e12 ? (int64_t)1e12 : (int64_t)fw;
        *th = fh > 1e12 ? (int64_t)1e12 : (int64_t)fh;
    } else {
        const int64_t w = a->width, h = a->height;
        if ((has_w && w < 1) || (has_h && h < 1)) {
            snprintf(err, errlen, "the target %s must be at least 1",
                     has_w && w < 1 ? "width" : "height");
            return PP_ERR_SPEC;
        }
        *tw = has_w ? w : muldiv_round(in->width, h, in->height);
        *th = has_h ? h : muldiv_round(in->height, w, in->width);
        if (*tw < 1) *tw = 1;
        if (*th < 1) *th = 1;
    }
    if (*tw > MAX_SIDE || *th > MAX_SIDE || *tw * *th > MAX_PIXELS) {
        snprintf(err, errlen, "target %lldx%lld is too large (at most %d per side and 2^31 pixels)",
                 (long long)*tw, (long long)*th, MAX_SIDE);
        return PP_ERR_SPEC;
    }
    return PP_OK;
}

/* The loops stage 2 runs: the widest this CPU has, or a narrower one named by the environment
   variable PIXPOOL_RESIZE_ISA=scalar|avx2|avx512 (a test hook: every choice gives the same bytes). */
static int pick_isa(void)
{
    int isa = ISA_SCALAR;
#ifdef PP_X86
    if (pp_cpu_has(PP_CPU_AVX2)) isa = ISA_AVX2;
    if (pp_cpu_has(PP_CPU_AVX512F | PP_CPU_AVX512BW | PP_CPU_AVX512VBMI)) isa = ISA_AVX512;
#endif
    const char *e = getenv("PIXPOOL_RESIZE_ISA");
    if (e) {
        const int want = !strcmp(e, "scalar") ? ISA_SCALAR : !strcmp(e, "avx2") ? ISA_AVX2 : isa;
        if (want < isa) isa = want;
    }
    return isa;
}

static pp_status plan_resize(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                             size_t errlen)
{
    int64_t tw, th;
    pp_status st = target_size(p, in, &tw, &th, err, errlen);
    if (st) return st;
    plan->out = *in;
    plan->out.width = (int)tw;
    plan->out.height = (int)th;

    resize_params rp;
    memset(&rp, 0, sizeof rp);
    rp.method = PP_ARGS(resize_args, p)->method;
    rp.depth = pp_geom_depth(in);
    const int wide = rp.depth == 16;
    if (rp.method == M_NEAREST) {
        rp.xb = 0;
        rp.yb = align64((size_t)tw * 4);
        plan->partial_bytes = rp.yb + align64((size_t)th * 4);
    } else if (wide) { /* float weights and ring rows; no Q14 tables, no groups */
        rp.kx = window_of(rp.method, in->width, (int)tw);
        rp.ky = window_of(rp.method, in->height, (int)th);
        rp.ring = rp.ky;
        rp.hstride = align64((size_t)tw * in->channels * sizeof(float) + 32); /* + slack */
        rp.xb = 0;
        rp.xw = align64((size_t)tw * 8);
        rp.yb = rp.xw + align64((size_t)tw * rp.kx * sizeof(float));
        rp.yw = rp.yb + align64((size_t)th * 8);
        rp.isa = pick_isa();
#ifdef PP_X86
        if (!__builtin_cpu_supports("fma")) rp.isa = ISA_SCALAR; /* the vector loops fuse */
#endif
        rp.xg = rp.yw + align64((size_t)th * rp.ky * sizeof(float));
        if (rp.isa != ISA_SCALAR && in->width != (int)tw)
            rp.ngroups = (int)(in->channels >= 3 ? (tw + 1) / 2 : (tw * in->channels + 7) / 8);
        plan->partial_bytes = rp.xg + (size_t)rp.ngroups * G16_BYTES(rp.kx);
    } else {
        rp.kx = window_of(rp.method, in->width, (int)tw);
        rp.ky = window_of(rp.method, in->height, (int)th);
        rp.ring = rp.ky;
        rp.hstride = align64((size_t)tw * in->channels * sizeof(int16_t) + 32);
        rp.xb = 0;
        rp.xw = align64((size_t)tw * 8);
        rp.yb = rp.xw + align64((size_t)tw * rp.kx * sizeof(int16_t));
        rp.yw = rp.yb + align64((size_t)th * 8);
        rp.xg = rp.yw + align64((size_t)th * rp.ky * sizeof(int16_t));
        rp.isa = pick_isa();
        if (rp.isa != ISA_SCALAR && in->width != (int)tw) {
            rp.gpx = group_pixels(rp.isa, in->channels, in->width, (int)tw);
            rp.nsub = rp.isa == ISA_AVX512 ? 1 : 2;
            rp.ngroups = (int)((tw + rp.gpx * rp.nsub - 1) / (rp.gpx * rp.nsub));
        }
        plan->partial_bytes = rp.xg + groups_bytes(&rp, in->width, (int)tw);
    }

    pp_stage_tmpl *t = pp_plan_add_stage(plan, tables_kernel, PP_BUF_IN, PP_BUF_OUT);
    t->rows = 1;
    t->serial = 1;
    t->scratch_bytes =
        rp.method == M_NEAREST ? 0 : taps_scratch(rp.kx > rp.ky ? rp.kx : rp.ky) * sizeof(double);
    memcpy(t->params, &rp, sizeof rp);

    t = pp_plan_add_stage(plan, rp.method == M_NEAREST ? (wide ? nearest16_kernel : nearest_kernel)
                                : wide ? resample16_kernel : resample_kernel,
                          PP_BUF_IN, PP_BUF_OUT);
    memcpy(t->params, &rp, sizeof rp);
    if (rp.method != M_NEAREST && wide) {
        t->scratch_bytes = rp.hstride * (size_t)rp.ring /* ring of float rows */
                           + align64((size_t)rp.ky * sizeof(float *)); /* its rows */
        t->min_band_rows = 16;
    } else if (rp.method != M_NEAREST) {
        t->scratch_bytes = rp.hstride * (size_t)rp.ring /* ring */
                           + align64((size_t)(rp.ky + 1) * sizeof(int16_t *)) /* its rows */
                           + align64((size_t)(rp.ky + 1) / 2 * sizeof(int32_t)); /* weight pairs */
        t->min_band_rows = 16;
    }
    return PP_OK;
}

/* ---- registry entry ----------------------------------------------------------------------- */

static const char *const methods[] = {"nearest", "bilinear", "bicubic", "lanczos3", NULL};

static const pp_param_def p_resize[] = {
    /* PP_PARAM_GROUP: width and/or height, or scale */
    PP_PARAM(resize_args, width, INT, 0, 0, 1e9, NULL, GROUP,
             "target width; alone, the height keeps the aspect ratio (or give scale)"),
    PP_PARAM(resize_args, height, INT, 0, 0, 1e9, NULL, GROUP,
             "target height; alone, the width keeps the aspect ratio (or give scale)"),
    PP_PARAM(resize_args, scale, FLOAT, 1, 1e-6, 1e6, NULL, GROUP,
             "factor for both sides, instead of width/height"),
    PP_PARAM(resize_args, method, ENUM, M_LANCZOS3, 0, 3, methods, OPTIONAL, "resampling kernel")};

static const pp_filter_def defs[] = {
    {{"resize", "geometry", "resample to a new size (antialiased)",
      "Pillow's resize. Size: width and/or height (one alone keeps the aspect ratio, rounded) or "
      "scale (round(W s) x round(H s)); at most 65535 per side and 2^31 pixels. "
      "bilinear/bicubic (a = -0.5)/lanczos3: separable, horizontal pass first; output i of an "
      "axis n -> m is centred at c = (i + 0.5) n/m, reads inputs j with |j + 0.5 - c| < S "
      "(S = support * max(1, n/m), widened when shrinking), taps outside the image dropped, "
      "weights K((j + 0.5 - c) / max(1, n/m)) normalised and quantised to Q14 by rounding their "
      "running sum (exact sum 1); intermediate with 7 fractional bits clamped to [0, 255]; "
      "results rounded half up and clamped; an axis of unchanged size is copied. "
      "nearest: in = floor(t), t = (i + 0.5) n/m accumulated in double as Pillow's NEAREST. "
      "Premultiplied alpha. "
      "16 bits: the same windows with the normalised weights as floats (no Q14); the horizontal "
      "pass sums in float with fused multiply-adds, taps in order, into an intermediate clamped "
      "to [0, 65535] and not rounded; the vertical pass sums in float the same way (from the "
      "first row's rounded product), rounds half away from zero and clamps to "
      "0..65535; within 1 level of the definition in double, the same bytes on every backend; "
      "an axis of unchanged size is copied, nearest copies the samples. 8-bit input with alpha "
      "is resampled this way too (premultiplied into 16 bits: exact alpha).", NULL, 0},
     PP_ALPHA_PREMUL, plan_resize, PP_PARAM_DEFS(p_resize), PP_DEPTH_8 | PP_DEPTH_16},
};

_Static_assert(sizeof(resize_params) <= PP_PARAM_BYTES, "resize parameters fit the blob");

const pp_filter_family pp_family_resize = {defs, (int)(sizeof defs / sizeof defs[0])};
