/*
 * geometry.c - pixel-moving filters: flip, flop, transpose, rotate, crop.
 *
 * Each output pixel is a copy of exactly one input pixel (all channels, alpha included), so
 * these are exact by construction, at 8 and at 16 bits per channel alike (a pixel moves as
 * one unit of channels x 1 or 2 bytes). Output row y of rotate/transpose reads an input column; the
 * band loop walks the output in tiles so both sides stay in cache.
 *   flip       out(x, y) = in(x, H-1-y)             (upside down)
 *   flop       out(x, y) = in(W-1-x, y)             (mirror)
 *   transpose  out(x, y) = in(y, x)                 (W and H swap)
 *   rotate:90  clockwise: out(x, y) = in(y, H-1-x)  (W and H swap)
 *   rotate:180 out(x, y) = in(W-1-x, H-1-y)
 *   rotate:270 clockwise: out(x, y) = in(W-1-y, x)
 *   crop:x,y,width,height  out(i, j) = in(x+i, y+j); width/height 0 mean "to the edge"
 */
#include "cpu.h"
#include "internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct geo_params {
    int op; /* see enum */
    int x, y;
    bool blocks;          /* transpose-like: 4 x 4 pixel blocks (AVX-512 VBMI), see block_rows */
    uint8_t idx[2][64];   /* blocks: the two byte permutes, built once by plan */
} geo_params;

enum { G_FLIP, G_FLOP, G_TRANSPOSE, G_ROT90, G_ROT180, G_ROT270, G_CROP };


/* out[i] = the pixel at sp + i * step, for n pixels of c bytes (c constant per loop: 1-4
   channels of 8 bits, or 2, 4, 6, 8 bytes for 1-4 channels of 16 bits); wide: the source pixels
   are not in the image's last column. Each source pixel's row is prefetched pf bytes on (the
   line the next output rows will read: the column walks 64 different rows, too many streams
   for the hardware prefetchers; 2000x1500 to 4608x3072 rotations 10-30% faster). */
#define COLUMN_LOOP(body)                                                                      \
    for (; i < n; i++, sp += step) {                                                           \
        __builtin_prefetch(sp + pf);                                                           \
        body;                                                                                  \
    }
static inline void column_copy(uint8_t *out, const uint8_t *sp, ptrdiff_t step, int n, int c,
                               int wide, ptrdiff_t pf)
{
    int i = 0;
    switch (c) {
    case 1: COLUMN_LOOP(out[i] = sp[0]) break;
    case 2: COLUMN_LOOP(memcpy(out + 2 * i, sp, 2)) break;
    case 3:
        /* 4-byte moves whose 4th byte lands on the next output pixel (rewritten by the next
           iteration); its source byte is the next input pixel, so only when one exists */
        if (wide) {
            n--;
            COLUMN_LOOP(memcpy(out + 3 * i, sp, 4))
            n++;
        }
        COLUMN_LOOP(memcpy(out + 3 * i, sp, 3))
        break;
    case 6: /* 16-bit RGB: 8-byte moves, as the 3-byte case does with 4 */
        if (wide) {
            n--;
            COLUMN_LOOP(memcpy(out + 6 * i, sp, 8))
            n++;
        }
        COLUMN_LOOP(memcpy(out + 6 * i, sp, 6))
        break;
    case 8: COLUMN_LOOP(memcpy(out + 8 * i, sp, 8)) break;
    default: COLUMN_LOOP(memcpy(out + 4 * i, sp, 4)) break;
    }
}
#undef COLUMN_LOOP

/* One pixel of c bytes (1-4, or 6 and 8 for 16-bit RGB / RGBA). */
static inline void copy_px(uint8_t *d, const uint8_t *s, int c)
{
    switch (c) {
    case 8: memcpy(d, s, 8); break;
    case 6: memcpy(d, s, 6); break;
    case 4: d[3] = s[3]; /* fall through */
    case 3: d[2] = s[2]; /* fall through */
    case 2: d[1] = s[1]; /* fall through */
    default: d[0] = s[0];
    }
}

/* Where output row y of a transpose-like op reads from output column tx on: source column
   *sx, source row *sy0, then *dir (+1 or -1) rows per output column. */
static void column_source(int op, int W, int H, int y, int tx, int *sx, int *sy0, int *dir)
{
    *dir = 1;
    if (op == G_TRANSPOSE) *sx = y, *sy0 = tx;
    else if (op == G_ROT90) *sx = y, *sy0 = H - 1 - tx, *dir = -1;
    else *sx = W - 1 - y, *sy0 = tx; /* G_ROT270 */
}

/* Output row y, columns [tx, tx1), of a transpose-like op, one pixel at a time. */
static void scalar_column(const pp_stage *s, const geo_params *p, int y, int tx, int tx1, int c)
{
    const int W = s->src.width;
    int sx, sy0, dir;
    column_source(p->op, W, s->src.height, y, tx, &sx, &sy0, &dir);
    const uint8_t *sp = pp_row(&s->src, sy0) + (size_t)sx * c;
    const ptrdiff_t pf = (p->op == G_ROT270 ? -1 : 1) * (c <= 4 ? 64 : 128);
    column_copy(pp_row(&s->dst, y) + (size_t)tx * c, sp, (ptrdiff_t)s->src.stride * dir,
                tx1 - tx, c, sx < W - 1, pf);
}

#ifdef PP_X86
/* Output rows [y, y + 4) x columns [x0, x1) (x1 - x0 a multiple of 4) of a transpose-like op,
   in blocks of 4 x 4 pixels: four source rows' 4 pixels (4c <= 32 bytes each, masked loads)
   go into two registers, and two byte permutes (vpermi2b, p->idx) give the four output rows,
   written with masked stores. The block's source columns are the four from output row y's
   (rotate 270: from output row y + 3's, the lowest) on. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi"))) static void
block_rows(const pp_stage *s, const geo_params *p, int y, int x0, int x1, int c)
{
    int sx, sy0, dir;
    column_source(p->op, s->src.width, s->src.height, y, x0, &sx, &sy0, &dir);
    if (p->op == G_ROT270) sx -= 3;
    const __m512i ix0 = _mm512_loadu_si512(p->idx[0]), ix1 = _mm512_loadu_si512(p->idx[1]);
    const __mmask32 m = (__mmask32)((1ull << (4 * c)) - 1);
    const ptrdiff_t step = (ptrdiff_t)s->src.stride * dir;
    const uint8_t *sp = pp_row(&s->src, sy0) + (size_t)sx * c;
    uint8_t *o0 = pp_row(&s->dst, y), *o1 = pp_row(&s->dst, y + 1), *o2 = pp_row(&s->dst, y + 2),
            *o3 = pp_row(&s->dst, y + 3);
    for (int x = x0; x < x1; x += 4, sp += 4 * step) {
        const __m256i l0 = _mm256_maskz_loadu_epi8(m, sp), l1 = _mm256_maskz_loadu_epi8(m, sp + step),
                      l2 = _mm256_maskz_loadu_epi8(m, sp + 2 * step),
                      l3 = _mm256_maskz_loadu_epi8(m, sp + 3 * step);
        const __m512i a = _mm512_inserti64x4(_mm512_castsi256_si512(l0), l1, 1);
        const __m512i b = _mm512_inserti64x4(_mm512_castsi256_si512(l2), l3, 1);
        const __m512i p0 = _mm512_permutex2var_epi8(a, ix0, b), p1 = _mm512_permutex2var_epi8(a, ix1, b);
        const size_t off = (size_t)x * c;
        _mm256_mask_storeu_epi8(o0 + off, m, _mm512_castsi512_si256(p0));
        _mm256_mask_storeu_epi8(o1 + off, m, _mm512_extracti64x4_epi64(p0, 1));
        _mm256_mask_storeu_epi8(o2 + off, m, _mm512_castsi512_si256(p1));
        _mm256_mask_storeu_epi8(o3 + off, m, _mm512_extracti64x4_epi64(p1, 1));
    }
}
#endif

static void geo_kernel(const pp_stage *s, int y0, int y1, int band, void *scratch)
{
    (void)band;
    (void)scratch;
    const geo_params *p = PP_STAGE_PARAMS(geo_params, s);
    /* c: bytes per pixel (channels at 8 bits, twice that at 16): pixels move as whole units */
    const int c = (int)pp_view_pixel_bytes(&s->src), W = s->src.width, H = s->src.height;
    const int ow = s->dst.width;
    const size_t rowbytes = (size_t)ow * c;
    switch (p->op) {
    case G_FLIP:
        for (int y = y0; y < y1; y++) memcpy(pp_row(&s->dst, y), pp_row(&s->src, H - 1 - y), rowbytes);
        return;
    case G_CROP:
        for (int y = y0; y < y1; y++)
            memcpy(pp_row(&s->dst, y), pp_row(&s->src, p->y + y) + (size_t)p->x * c, rowbytes);
        return;
    case G_FLOP:
    case G_ROT180:
        for (int y = y0; y < y1; y++) {
            const uint8_t *in = pp_row(&s->src, p->op == G_FLOP ? y : H - 1 - y);
            uint8_t *out = pp_row(&s->dst, y);
            for (int x = 0; x < W; x++) copy_px(out + (size_t)x * c, in + (size_t)(W - 1 - x) * c, c);
        }
        return;
    default: /* transpose-like: output row y reads an input column, one stride per pixel */
    {
        /* tiles of 128 x 128 pixels of up to 4 bytes, 64 x 64 of 6 or 8 (the faster at
           4608x3072 on the development machine) */
        const int tile = c <= 4 ? 128 : 64;
        for (int ty = y0; ty < y1; ty += tile) {
            int ty1 = ty + tile < y1 ? ty + tile : y1;
            for (int tx = 0; tx < ow; tx += tile) {
                int tx1 = tx + tile < ow ? tx + tile : ow;
                int y = ty;
#ifdef PP_X86
                if (p->blocks) {
                    const int bx1 = tx + (tx1 - tx) / 4 * 4;
                    for (; bx1 > tx && y + 4 <= ty1; y += 4) {
                        block_rows(s, p, y, tx, bx1, c);
                        for (int j = 0; j < 4 && bx1 < tx1; j++) /* the last columns */
                            scalar_column(s, p, y + j, bx1, tx1, c);
                    }
                }
#endif
                for (; y < ty1; y++) scalar_column(s, p, y, tx, tx1, c);
            }
        }
        return;
    }
    }
}

static pp_status plan_geo(const pp_geom *in, pp_plan *plan, int op, int swap)
{
    plan->out = *in;
    if (swap) {
        plan->out.width = in->height;
        plan->out.height = in->width;
    }
    pp_stage_tmpl *st = pp_plan_add_stage(plan, geo_kernel, PP_BUF_IN, PP_BUF_OUT);
    geo_params *gp = PP_PARAMS_OF(geo_params, st);
    gp->op = op;
    /* 4 x 4 blocks for 8-bit RGB and RGBA, where they measured 10-15% faster than the scalar
       loop (4608x3072 rotate 90, transpose). block_rows works for any pixel of up to 8 bytes,
       but on 16-bit RGB / RGBA it measured 25-40% slower than the scalar 6- and 8-byte moves. */
    const int c = in->channels * (pp_geom_depth(in) / 8);
    const char *isa = getenv("PIXPOOL_GEOMETRY_ISA");
    gp->blocks = (op == G_TRANSPOSE || op == G_ROT90 || op == G_ROT270) && (c == 3 || c == 4) &&
                 pp_cpu_has(PP_CPU_AVX512F | PP_CPU_AVX512BW | PP_CPU_AVX512VL | PP_CPU_AVX512VBMI) &&
                 !(isa && !strcmp(isa, "scalar"));
    /* idx[j / 2], bytes 32 (j % 2) on: output row y + j, from the four source rows' pixels (at
       bytes 32 k of the two registers) in column o of the block (rotate 270: 3 - j) */
    for (int j = 0; gp->blocks && j < 4; j++) {
        const int o = op == G_ROT270 ? 3 - j : j;
        for (int k = 0; k < 4; k++)
            for (int b = 0; b < c; b++)
                gp->idx[j >> 1][32 * (j & 1) + k * c + b] = (uint8_t)(32 * k + o * c + b);
    }
    return PP_OK;
}

#define GEO_PLAN(fname, op, swap)                                                              \
    static pp_status fname(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,   \
                           size_t errlen)                                                      \
    {                                                                                          \
        (void)p;                                                                               \
        (void)err;                                                                             \
        (void)errlen;                                                                          \
        return plan_geo(in, plan, op, swap);                                                   \
    }
GEO_PLAN(plan_flip, G_FLIP, 0)
GEO_PLAN(plan_flop, G_FLOP, 0)
GEO_PLAN(plan_transpose, G_TRANSPOSE, 1)

typedef struct rotate_args {
    int angle; /* index into angles[] */
} rotate_args;

typedef struct crop_args {
    int x, y, width, height;
} crop_args;

static pp_status plan_rotate(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                             size_t errlen)
{
    switch (PP_ARGS(rotate_args, p)->angle) {
    case 0: return plan_geo(in, plan, G_ROT90, 1);
    case 1: return plan_geo(in, plan, G_ROT180, 0);
    case 2: return plan_geo(in, plan, G_ROT270, 1);
    default: snprintf(err, errlen, "angle must be 90, 180 or 270"); return PP_ERR_SPEC;
    }
}

static pp_status plan_crop(const pp_params *p, const pp_geom *in, pp_plan *plan, char *err,
                           size_t errlen)
{
    const crop_args *a = PP_ARGS(crop_args, p);
    long x = a->x, y = a->y, w = a->width, h = a->height;
    if (x >= in->width || y >= in->height) {
        snprintf(err, errlen, "origin %ld,%ld lies outside the %dx%d image", x, y, in->width,
                 in->height);
        return PP_ERR_SPEC;
    }
    if (w == 0) w = in->width - x;
    if (h == 0) h = in->height - y;
    if (x + w > in->width || y + h > in->height) {
        snprintf(err, errlen, "rectangle %ldx%ld at %ld,%ld does not fit in the %dx%d image", w, h,
                 x, y, in->width, in->height);
        return PP_ERR_SPEC;
    }
    plan->out = *in;
    plan->out.width = (int)w;
    plan->out.height = (int)h;
    pp_stage_tmpl *st = pp_plan_add_stage(plan, geo_kernel, PP_BUF_IN, PP_BUF_OUT);
    geo_params *gp = PP_PARAMS_OF(geo_params, st);
    gp->op = G_CROP;
    gp->x = (int)x;
    gp->y = (int)y;
    return PP_OK;
}

static const char *const angles[] = {"90", "180", "270", NULL};
static const pp_param_def p_rotate[] = {
    PP_PARAM(rotate_args, angle, ENUM, 0, 0, 2, angles, OPTIONAL, "degrees clockwise")};
static const pp_param_def p_crop[] = {
    PP_PARAM(crop_args, x, INT, 0, 0, 1e9, NULL, OPTIONAL, "left column"),
    PP_PARAM(crop_args, y, INT, 0, 0, 1e9, NULL, OPTIONAL, "top row"),
    PP_PARAM(crop_args, width, INT, 0, 0, 1e9, NULL, OPTIONAL, "0 = to the right edge"),
    PP_PARAM(crop_args, height, INT, 0, 0, 1e9, NULL, OPTIONAL, "0 = to the bottom edge")};

static const pp_filter_def defs[] = {
    {{"flip", "geometry", "upside down",
      "out(x, y) = in(x, H-1-y). 16 bits: the same, samples copied.", NULL, 0},
     PP_ALPHA_SELF, plan_flip, NULL, 0, PP_DEPTH_8 | PP_DEPTH_16},
    {{"flop", "geometry", "left-right mirror",
      "out(x, y) = in(W-1-x, y). 16 bits: the same, samples copied.", NULL, 0},
     PP_ALPHA_SELF, plan_flop, NULL, 0, PP_DEPTH_8 | PP_DEPTH_16},
    {{"transpose", "geometry", "swap rows and columns",
      "out(x, y) = in(y, x). 16 bits: the same, samples copied.", NULL, 0},
     PP_ALPHA_SELF, plan_transpose, NULL, 0, PP_DEPTH_8 | PP_DEPTH_16},
    {{"rotate", "geometry", "rotate by a multiple of 90 degrees clockwise",
      "90: out(x, y) = in(y, H-1-x); 180: out(x, y) = in(W-1-x, H-1-y); "
      "270: out(x, y) = in(W-1-y, x). 16 bits: the same, samples copied.", NULL, 0},
     PP_ALPHA_SELF, plan_rotate, PP_PARAM_DEFS(p_rotate), PP_DEPTH_8 | PP_DEPTH_16},
    {{"crop", "geometry", "cut out a rectangle",
      "out(i, j) = in(x+i, y+j); the rectangle must lie inside the image; width/height 0 mean "
      "to the edge. 16 bits: the same, samples copied.", NULL, 0},
     PP_ALPHA_SELF, plan_crop, PP_PARAM_DEFS(p_crop), PP_DEPTH_8 | PP_DEPTH_16},
};

const pp_filter_family pp_family_geometry = {defs, (int)(sizeof defs / sizeof defs[0])};
