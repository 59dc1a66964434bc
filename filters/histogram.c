/*
 * histogram.c - filters defined by whole-image statistics: equalize, normalize.
 *
 * Definitions, per colour channel (R, G, B or gray), with h[v] the number of pixels of the whole
 * image whose channel value is v and n the number of pixels; alpha is copied unchanged (it is
 * neither counted nor changed):
 *
 *   equalize   OpenCV's equalizeHist, bit for bit: i0 = the lowest value with h[i0] > 0.
 *              If h[i0] = n (a flat channel) the channel is left unchanged. Otherwise, in IEEE
 *              single precision as OpenCV computes it,
 *                  scale  = 255.0f / (float)(n - h[i0])
 *                  lut[v] = round_half_even((float)S(v) * scale), clamped to 0..255,
 *              where S(v) = sum of h[j] for i0 < j <= v (so lut[i0] = 0 and lut[255] = 255),
 *              and v' = lut[v].
 *   normalize  min/max stretch: lo, hi = the lowest and highest value present.
 *              If hi = lo the channel is unchanged; otherwise
 *                  v' = round((v - lo) * 255 / (hi - lo)), halves up (exact integer arithmetic).
 *
 * Three stages (DESIGN.md, "reduction"):
 *   1. count: bands of a FIXED height (from the image height only) each count their rows into
 *      a slot of their own in the plan's partials block (slot = band index);
 *   2. combine (serial, one band): adds the slots in band order and writes the look-up tables
 *      after the slots in the partials block;
 *   3. apply: v' = lut[channel][v] per pixel.
 * Counts are exact integers, so the result depends neither on the backend nor on the number of
 * workers; the fixed band height only sets how many slots there are.
 *
 * 16 bits: equalize's h has 65536 bins per channel and v' = round(S(v) * 65535 / (n - h[i0]))
 * (flat channel unchanged), halves up in exact 64-bit integer arithmetic (OpenCV's
 * equalizeHist has no 16-bit form to follow). A slot is 3 x 65536 32-bit counts (768 KiB), so
 * bands are at least 64 rows, at most 16 of them (12 MiB of slots at most) and hold fewer than
 * 2^32 pixels each; the combine stage sums one channel at a time into a 64-bit histogram after
 * the slots, then writes 65536-entry uint16 tables after that. normalize at 16 bits,
 * v' = round((v - lo) * 65535 / (hi - lo)) halves up, needs only lo and hi: its slots hold
 * those, and the result is computed, not looked up (the section "normalize at 16 bits").
 */
#include "affine16.h"
#include "lut.h"

#include <math.h>
#include <string.h>

#define SLOT_BYTES (3 * 256 * sizeof(uint64_t)) /* counts of one band, up to 3 channels */
#define MAX_SLOTS 1024

enum { OP_EQUALIZE = 0, OP_NORMALIZE = 1 };

typedef struct hist_params {
    int op;
    int nbands;     /* slots written by the count stage */
    int ncolour;    /* colour channels: 1 or 3 */
    size_t lut_off; /* offset of the tables (ncolour x 256 bytes) in the partials block */
    int fast;       /* pp_lut_fast() */
} hist_params;

/* The three stages of a reduction (the file's comment): count in bands of a fixed height into
   per-band slots, combine serially, apply; the same parameters for all three. Returns the
   count stage (for its scratch). */
static pp_stage_tmpl *add_reduction(pp_plan *plan, int band_rows, pp_kernel_fn count,
                                    pp_kernel_fn combine, pp_kernel_fn apply,
                                    const void *params, size_t size)
{
    pp_stage_tmpl *first = pp_plan_add_stage(plan, count, PP_BUF_IN, PP_BUF_OUT);
    first->band_rows = band_rows;
    memcpy(first->params, params, size);
    pp_stage_tmpl *st = pp_plan_add_stage(plan, combine, PP_BUF_IN, PP_BUF_OUT);
    st->rows = 1;
    st->serial = 1;
    memcpy(st->params, params, size);
    st = pp_plan_add_stage(plan, apply, PP_BUF_IN, PP_BUF_OUT);
    memcpy(st->params, params, size);
    return first;
}

/* ---- stage 1: per-band counts ------------------------------------------------------------- */

/* Adds four sets of 32-bit counts (for up to 3 channels) into the band's 64-bit slot. */
static void flush_counts(uint32_t (*t)[3][256], uint64_t *h, int nch)
{
    for (int k = 0; k < nch; k++)
        for (int v = 0; v < 256; v++) {
            h[k * 256 + v] += (uint64_t)t[0][k][v] + t[1][k][v] + t[2][k][v] + t[3][k][v];
            t[0][k][v] = t[1][k][v] = t[2][k][v] = 0;
        }
}

/* Counts with four sets of tables, pixel x into set x % 4: runs of equal values (common in
   photographs) would otherwise chain every increment on the one before through memory. The
   32-bit counts are flushed into the band's slot at least every 2^30 pixels. */
static void count_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    const hist_params *p = PP_STAGE_PARAMS(hist_params, s);
    uint64_t *h = (uint64_t *)(void *)(s->partials + (size_t)band * SLOT_BYTES);
    const int c = s->src.channels, w = s->src.width, nch = p->ncolour;
    uint32_t (*t)[3][256] = scratch; /* 4 sets, 12 KiB (the plan's scratch) */
    memset(h, 0, SLOT_BYTES);
    memset(t, 0, 4 * sizeof *t);
    size_t pending = 0;
    for (int y = y0; y < y1; y++) {
        const uint8_t *in = pp_row(&s->src, y);
        int x = 0;
        if (nch == 1) {
            for (; x + 4 <= w; x += 4) {
                t[0][0][in[(size_t)x * c]]++;
                t[1][0][in[(size_t)(x + 1) * c]]++;
                t[2][0][in[(size_t)(x + 2) * c]]++;
                t[3][0][in[(size_t)(x + 3) * c]]++;
            }
            for (; x < w; x++) t[0][0][in[(size_t)x * c]]++;
        } else {
            for (; x + 4 <= w; x += 4) {
                for (int k = 0; k < 4; k++) {
                    const uint8_t *px = in + (size_t)(x + k) * c;
                    t[k][0][px[0]]++;
                    t[k][1][px[1]]++;
                    t[k][2][px[2]]++;
                }
            }
            for (; x < w; x++) {
                const uint8_t *px = in + (size_t)x * c;
                t[0][0][px[0]]++;
                t[0][1][px[1]]++;
                t[0][2][px[2]]++;
            }
        }
        if ((pending += (size_t)w) >= ((size_t)1 << 30)) {
            flush_counts(t, h, nch);
            pending = 0;
        }
    }
    flush_counts(t, h, nch);
}

/* ---- stage 2: combine the slots into look-up tables --------------------------------------- */

static void equalize_lut(const uint64_t *h, uint64_t n, uint8_t *lut)
{
    int i0 = 0;
    while (i0 < 255 && h[i0] == 0) i0++;
    if (h[i0] == n) { /* flat channel: OpenCV sets every pixel to i0, i.e. leaves it */
        for (int v = 0; v < 256; v++) lut[v] = (uint8_t)v;
        return;
    }
    const float scale = 255.0f / (float)(n - h[i0]);
    uint64_t sum = 0;
    for (int v = 0; v <= i0; v++) lut[v] = 0;
    for (int v = i0 + 1; v < 256; v++) {
        sum += h[v];
        long q = lrintf((float)sum * scale); /* round half to even, as OpenCV's cvRound */
        lut[v] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
    }
}

static void normalize_lut(const uint64_t *h, uint8_t *lut)
{
    int lo = 0, hi = 255;
    while (lo < 255 && h[lo] == 0) lo++;
    while (hi > 0 && h[hi] == 0) hi--;
    if (hi <= lo) {
        for (int v = 0; v < 256; v++) lut[v] = (uint8_t)v;
        return;
    }
    const uint32_t d = (uint32_t)(hi - lo);
    for (int v = 0; v < 256; v++) {
        if (v <= lo) lut[v] = 0;
        else if (v >= hi) lut[v] = 255;
        else lut[v] = (uint8_t)((510u * (uint32_t)(v - lo) + d) / (2u * d));
    }
}

static void combine_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)y0;
    (void)y1;
    (void)band;
    (void)scratch;
    const hist_params *p = PP_STAGE_PARAMS(hist_params, s);
    const uint64_t n = (uint64_t)s->src.width * (uint64_t)s->src.height;
    uint8_t *luts = s->partials + p->lut_off;
    for (int k = 0; k < p->ncolour; k++) {
        uint64_t h[256];
        memset(h, 0, sizeof h);
        for (int b = 0; b < p->nbands; b++) {
            const uint64_t *slot =
                (const uint64_t *)(const void *)(s->partials + (size_t)b * SLOT_BYTES);
            for (int v = 0; v < 256; v++) h[v] += slot[k * 256 + v];
        }
        if (p->op == OP_EQUALIZE) equalize_lut(h, n, luts + k * 256);
        else normalize_lut(h, luts + k * 256);
    }
}

/* ---- stage 3: apply ----------------------------------------------------------------------- */

static void apply_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const hist_params *p = PP_STAGE_PARAMS(hist_params, s);
    const uint8_t *lut = s->partials + p->lut_off;
    const int c = s->src.channels, w = s->src.width;
    if (c == 1 || c == 3) { /* no alpha: lut.h (one table, or one per channel) */
        pp_lut_rows(s, y0, y1, lut, c, p->fast);
        return;
    }
    for (int y = y0; y < y1; y++) {
        const uint8_t *in = pp_row(&s->src, y);
        uint8_t *out = pp_row(&s->dst, y);
        if (c == 2) {
            for (int x = 0; x < w; x++) {
                out[2 * x] = lut[in[2 * x]];
                out[2 * x + 1] = in[2 * x + 1];
            }
        } else {
            for (int x = 0; x < w; x++) {
                out[4 * x] = lut[in[4 * x]];
                out[4 * x + 1] = lut[256 + in[4 * x + 1]];
                out[4 * x + 2] = lut[512 + in[4 * x + 2]];
                out[4 * x + 3] = in[4 * x + 3];
            }
        }
    }
}

/* ---- 16 bits: 65536 bins per channel ------------------------------------------------------ */

#define BINS16 65536
#define SLOT16_BYTES ((size_t)3 * BINS16 * sizeof(uint32_t)) /* one band, up to 3 channels */
#define MAX_SLOTS16 16 /* 12 MiB of slots at most */

/* Partials at 16 bits: nbands slots of 32-bit counts (a band holds fewer than 2^32 pixels),
   then one channel's 64-bit total (hist_off), then the tables (lut_off, ncolour x 65536
   uint16). */
typedef struct hist16_params {
    int nbands, ncolour;
    size_t hist_off, lut_off;
    pp_lut16 look; /* channel k through table k, alpha copied */
} hist16_params;

static void count16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)scratch;
    const hist16_params *p = PP_STAGE_PARAMS(hist16_params, s);
    uint32_t *h = (uint32_t *)(void *)(s->partials + (size_t)band * SLOT16_BYTES);
    const int c = s->src.channels, w = s->src.width, nch = p->ncolour;
    memset(h, 0, SLOT16_BYTES);
    for (int y = y0; y < y1; y++) {
        const uint16_t *in = pp_row16(&s->src, y);
        if (nch == 1) {
            for (int x = 0; x < w; x++) h[in[(size_t)x * c]]++;
        } else {
            for (int x = 0; x < w; x++) {
                const uint16_t *px = in + (size_t)x * c;
                h[px[0]]++;
                h[BINS16 + px[1]]++;
                h[2 * BINS16 + px[2]]++;
            }
        }
    }
}

/* round(num / den), halves up, for den > 0 (num * 2 fits 64 bits). */
static inline uint16_t div_round_up(uint64_t num, uint64_t den)
{
    return (uint16_t)((2 * num + den) / (2 * den));
}

/* equalize at 16 bits: i0 = the lowest occupied value; a flat channel (h[i0] = n) unchanged;
   else lut[v] = round(S(v) * 65535 / (n - h[i0])), halves up, exact in 64-bit integers. */
static void equalize16_lut(const uint64_t *h, uint64_t n, uint16_t *lut)
{
    int i0 = 0;
    while (i0 < BINS16 - 1 && h[i0] == 0) i0++;
    if (h[i0] == n) {
        for (int v = 0; v < BINS16; v++) lut[v] = (uint16_t)v;
        return;
    }
    const uint64_t d = n - h[i0];
    uint64_t sum = 0;
    for (int v = 0; v <= i0; v++) lut[v] = 0;
    for (int v = i0 + 1; v < BINS16; v++) {
        sum += h[v];
        lut[v] = div_round_up(sum * 65535u, d);
    }
}

static void combine16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)y0;
    (void)y1;
    (void)band;
    (void)scratch;
    const hist16_params *p = PP_STAGE_PARAMS(hist16_params, s);
    const uint64_t n = (uint64_t)s->src.width * (uint64_t)s->src.height;
    uint64_t *h = (uint64_t *)(void *)(s->partials + p->hist_off);
    uint16_t *luts = (uint16_t *)(void *)(s->partials + p->lut_off);
    for (int k = 0; k < p->ncolour; k++) {
        memset(h, 0, BINS16 * sizeof *h);
        for (int b = 0; b < p->nbands; b++) {
            const uint32_t *slot =
                (const uint32_t *)(const void *)(s->partials + (size_t)b * SLOT16_BYTES) +
                (size_t)k * BINS16;
            for (int v = 0; v < BINS16; v++) h[v] += slot[v];
        }
        equalize16_lut(h, n, luts + (size_t)k * BINS16);
    }
}

static void apply16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const hist16_params *p = PP_STAGE_PARAMS(hist16_params, s);
    pp_lut16_rows(s, y0, y1, &p->look,
                  (const uint16_t *)(const void *)(s->partials + p->lut_off));
}

static pp_status plan_equalize16(const pp_geom *in, pp_plan *plan)
{
    plan->out = *in;
    /* Fixed band height from the geometry alone: at least 64 rows, at most MAX_SLOTS16 bands,
       and fewer than 2^32 pixels a band (32-bit counts). */
    int64_t br = (in->height + MAX_SLOTS16 - 1) / MAX_SLOTS16;
    if (br < 64) br = 64;
    /* and at least 2^19 pixels a band: a slot costs a 768 KiB clear and a sum, which a band
       of fewer pixels would not repay */
    const int64_t least = ((int64_t)1 << 19) / in->width + 1;
    if (br < least) br = least;
    const int64_t most = (int64_t)(UINT32_MAX / (uint32_t)in->width);
    if (br > most) br = most > 0 ? most : 1;
    const int nb = pp_band_count(in->height, (int)br);
    hist16_params hp;
    memset(&hp, 0, sizeof hp);
    hp.nbands = nb;
    hp.ncolour = pp_color_channels(in->channels);
    hp.hist_off = (size_t)nb * SLOT16_BYTES;
    hp.lut_off = hp.hist_off + BINS16 * sizeof(uint64_t);
    plan->partial_bytes =
        hp.lut_off + (size_t)hp.ncolour * BINS16 * sizeof(uint16_t) + PP_LUT16_PAD;
    hp.look.channels = in->channels;
    hp.look.fast = pp_lut16_fast();
    for (int k = 0; k < in->channels; k++)
        hp.look.off[k] = k < hp.ncolour ? k * BINS16 : -1;

    add_reduction(plan, (int)br, count16_kernel, combine16_kernel, apply16_kernel, &hp, sizeof hp);
    return PP_OK;
}

/* ---- normalize at 16 bits: lowest and highest value, then affine16.h ----------------------
   normalize needs no histogram: a band's slot holds the lowest and highest value of each channel
   (the count stage, vector min and max), the combine stage folds the slots and writes the
   gains, and the apply stage is x = v ga + gb rounded half up (affine16.h) with, for a channel
   with lo < hi, d = hi - lo, ga = 65535 / d and gb = 0.001 / d - lo ga in double. That is the
   exact v' = round((v - lo) 65535 / d), halves up: (v - lo) 65535 / d is N / d for an integer N,
   so it is a half exactly or at least 1 / (2 d) away from one, and x differs from it by the
   0.001 / d nudge (which lifts an exact half over) and rounding errors below 4 x 65535^2 x 2^-53
   / d < 2e-6 / d (every product and sum is below 65535^2 / d), fused or not. Every v lies in
   [lo, hi], so x stays in [0, 65535] but for those errors, which the clamp removes. A flat
   channel and alpha get ga = 1, gb = 0 (v unchanged). */

#define MM_SLOT 64 /* bytes: uint16_t lo[4], hi[4], one cache line a band */

typedef struct minmax16_params {
    int nbands;
    int fast;      /* pp_affine16_fast() */
    size_t aff_off; /* the pp_affine16 after the slots */
} minmax16_params;

/* lo[j % c] and hi[j % c] of n samples, a run that starts on channel 0 (c = 1..4). */
PP_CLONES static void minmax16_run(const uint16_t *restrict in, size_t n, int c, uint16_t *lo,
                                   uint16_t *hi)
{
    uint16_t mn[96], mx[96]; /* 96 samples: a multiple of 1..4 channels and of vectors */
    for (int j = 0; j < 96; j++) mn[j] = 65535, mx[j] = 0;
    size_t i = 0;
    for (; i + 96 <= n; i += 96)
        for (int j = 0; j < 96; j++) {
            const uint16_t v = in[i + j];
            mn[j] = v < mn[j] ? v : mn[j];
            mx[j] = v > mx[j] ? v : mx[j];
        }
    for (int j = 0; i + (size_t)j < n; j++) {
        const uint16_t v = in[i + (size_t)j];
        mn[j] = v < mn[j] ? v : mn[j];
        mx[j] = v > mx[j] ? v : mx[j];
    }
    for (int j = 0; j < 96; j++) {
        const int k = j % c;
        if (mn[j] < lo[k]) lo[k] = mn[j];
        if (mx[j] > hi[k]) hi[k] = mx[j];
    }
}

static void minmax16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)scratch;
    uint16_t *slot = (uint16_t *)(void *)(s->partials + (size_t)band * MM_SLOT);
    uint16_t lo[4] = {65535, 65535, 65535, 65535}, hi[4] = {0, 0, 0, 0};
    const int c = s->src.channels;
    const size_t n = (size_t)s->src.width * (size_t)c;
    if (pp_view_packed(&s->src))
        minmax16_run(pp_row16(&s->src, y0), n * (size_t)(y1 - y0), c, lo, hi);
    else
        for (int y = y0; y < y1; y++) minmax16_run(pp_row16(&s->src, y), n, c, lo, hi);
    memcpy(slot, lo, sizeof lo);
    memcpy(slot + 4, hi, sizeof hi);
}

static void gains16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)y0;
    (void)y1;
    (void)band;
    (void)scratch;
    const minmax16_params *p = PP_STAGE_PARAMS(minmax16_params, s);
    const int c = s->src.channels, nc = pp_color_channels(c);
    double ga[4] = {1, 1, 1, 1}, gb[4] = {0, 0, 0, 0};
    for (int k = 0; k < nc; k++) {
        int lo = 65535, hi = 0;
        for (int b = 0; b < p->nbands; b++) {
            const uint16_t *slot = (const uint16_t *)(const void *)(s->partials + (size_t)b * MM_SLOT);
            if (slot[k] < lo) lo = slot[k];
            if (slot[4 + k] > hi) hi = slot[4 + k];
        }
        if (hi > lo) {
            const double d = hi - lo;
            ga[k] = 65535.0 / d;
            gb[k] = 0.001 / d - lo * ga[k];
        }
    }
    pp_affine16 a;
    pp_affine16_init(&a, c, ga, gb, p->fast);
    memcpy(s->partials + p->aff_off, &a, sizeof a);
}

static void stretch16_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const minmax16_params *p = PP_STAGE_PARAMS(minmax16_params, s);
    pp_affine16 a;
    memcpy(&a, s->partials + p->aff_off, sizeof a);
    pp_affine16_rows(s, y0, y1, &a);
}

static pp_status plan_normalize16(const pp_geom *in, pp_plan *plan)
{
    plan->out = *in;
    int64_t br = (in->height + MAX_SLOTS16 - 1) / MAX_SLOTS16; /* fixed from the geometry */
    if (br < 64) br = 64;
    const int nb = pp_band_count(in->height, (int)br);
    minmax16_params mp = {nb, pp_affine16_fast(), (size_t)nb * MM_SLOT};
    plan->partial_bytes = mp.aff_off + sizeof(pp_affine16);

    add_reduction(plan, (int)br, minmax16_kernel, gains16_kernel, stretch16_kernel, &mp, sizeof mp);
    return PP_OK;
}

/* ---- plans -------------------------------------------------------------------------------- */

static pp_status plan_hist(const pp_geom *in, pp_plan *plan, int op)
{
    if (pp_geom_depth(in) == 16)
        return op == OP_NORMALIZE ? plan_normalize16(in, plan) : plan_equalize16(in, plan);
    plan->out = *in;
    /* Fixed band height from the geometry alone: at least 64 rows, at most MAX_SLOTS bands. */
    int br = (in->height + MAX_SLOTS - 1) / MAX_SLOTS;
    if (br < 64) br = 64;
    const int nb = pp_band_count(in->height, br);
    hist_params hp = {op, nb, pp_color_channels(in->channels), (size_t)nb * SLOT_BYTES,
                      pp_lut_fast()};
    plan->partial_bytes = hp.lut_off + 3 * 256;

    pp_stage_tmpl *st =
        add_reduction(plan, br, count_kernel, combine_kernel, apply_kernel, &hp, sizeof hp);
    st->scratch_bytes = 4 * 3 * 256 * sizeof(uint32_t);
    return PP_OK;
}

static pp_status plan_equalize(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                               size_t errlen)
{
    (void)p;
    (void)err;
    (void)errlen;
    return plan_hist(in, plan, OP_EQUALIZE);
}

static pp_status plan_normalize(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                                size_t errlen)
{
    (void)p;
    (void)err;
    (void)errlen;
    return plan_hist(in, plan, OP_NORMALIZE);
}

/* ---- registry entries --------------------------------------------------------------------- */

static const pp_filter_def defs[] = {
    {{"equalize", "histogram", "histogram equalisation per channel",
      "Per colour channel, OpenCV's equalizeHist bit for bit: h = the channel's histogram over "
      "all n pixels, i0 = its lowest occupied value; if h[i0] = n the channel is unchanged, else "
      "v' = round_half_even((float)S(v) * scale) with scale = 255.0f / (float)(n - h[i0]) in "
      "single precision, S(v) = number of pixels with i0 < value <= v (so i0 maps to 0, 255 "
      "to 255). "
      "Alpha unchanged and not counted. 16 bits: h has 65536 bins; a flat channel is unchanged, "
      "else v' = round(S(v) * 65535 / (n - h[i0])), halves up, in exact integer arithmetic "
      "(OpenCV has no 16-bit equalizeHist to follow).", NULL, 0},
     PP_ALPHA_SELF, plan_equalize, NULL, 0, PP_DEPTH_8 | PP_DEPTH_16},
    {{"normalize", "histogram", "stretch each channel to the full range",
      "Per colour channel, lo/hi = the lowest/highest value present in the image; "
      "v' = round((v - lo) * 255 / (hi - lo)), halves up (exact integer arithmetic); a channel "
      "with hi = lo is unchanged. Alpha unchanged and not counted. 16 bits: lo/hi over 65536 "
      "values, v' = round((v - lo) * 65535 / (hi - lo)), halves up, exact integer arithmetic.", NULL, 0},
     PP_ALPHA_SELF, plan_normalize, NULL, 0, PP_DEPTH_8 | PP_DEPTH_16},
};

const pp_filter_family pp_family_histogram = {defs, (int)(sizeof defs / sizeof defs[0])};
