/*
 * test_png_palette.c - palette PNGs kept as palette PNGs (png_read.c records the palette as the
 * "png:palette" blob, png_write.c writes colour type 3 from it, pipeline.c keeps it only
 * through filters that copy pixels).
 *
 * The palette files are written here by libpng itself, at bit depths 1, 2, 4 and 8, with and
 * without tRNS; what pixpool writes is read back by libpng's low-level API without any
 * transformation, so the colour type, the bit depth, PLTE, tRNS and every index are checked
 * as they are in the file. tests/cli_png.sh checks the same with Pillow, and ImageMagick's
 * files.
 */
#include "internal.h"

#include "helpers.h"

#include <criterion/criterion.h>
#include <png.h>

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- libpng, both ways, in memory --------------------------------------------------------- */

typedef struct membuf {
    uint8_t *d;
    size_t n, cap, pos;
} membuf;

static void write_cb(png_structp png, png_bytep p, size_t len)
{
    membuf *m = png_get_io_ptr(png);
    if (m->n + len > m->cap) {
        m->cap = (m->n + len) * 2;
        m->d = realloc(m->d, m->cap);
        cr_assert_not_null(m->d);
    }
    memcpy(m->d + m->n, p, len);
    m->n += len;
}

static void flush_cb(png_structp png) { (void)png; }

static void read_cb(png_structp png, png_bytep out, size_t len)
{
    membuf *m = png_get_io_ptr(png);
    if (len > m->n - m->pos) png_error(png, "truncated");
    memcpy(out, m->d + m->pos, len);
    m->pos += len;
}

/* A palette PNG of w x h whose pixel (x, y) has index idx[y * w + x], with n RGBA entries
   (pal: 4 bytes each; tRNS from their alpha when trns), at bit depth `bits`. */
static membuf palette_file(int w, int h, const uint8_t *idx, const uint8_t *pal, int n, bool trns,
                           int bits)
{
    membuf m = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert(png && info);
    if (setjmp(png_jmpbuf(png))) cr_assert_fail("libpng could not write the palette file");
    png_set_write_fn(png, &m, write_cb, flush_cb);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, bits, PNG_COLOR_TYPE_PALETTE,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_color plte[256];
    png_byte alpha[256];
    for (int i = 0; i < n; i++) {
        plte[i] = (png_color){pal[4 * i], pal[4 * i + 1], pal[4 * i + 2]};
        alpha[i] = pal[4 * i + 3];
    }
    png_set_PLTE(png, info, plte, n);
    if (trns) png_set_tRNS(png, info, alpha, n, NULL);
    png_write_info(png, info);
    png_set_packing(png);
    for (int y = 0; y < h; y++) png_write_row(png, (png_bytep)(uintptr_t)(idx + (size_t)y * w));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return m;
}

/* What libpng finds in a PNG, untransformed (indices unpacked to a byte each). */
typedef struct png_seen {
    int w, h, bits, ctype, nplte, ntrns;
    png_color plte[256];
    png_byte trns[256];
    uint8_t *px; /* w * h * (channels of ctype, 1 for a palette) bytes */
} png_seen;

static png_seen libpng_read(const void *buf, size_t size)
{
    png_seen s;
    memset(&s, 0, sizeof s);
    membuf m = {(uint8_t *)(uintptr_t)buf, size, size, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert(png && info);
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) cr_assert_fail("libpng could not read pixpool's file");
    png_set_read_fn(png, &m, read_cb);
    png_read_info(png, info);
    s.w = (int)png_get_image_width(png, info);
    s.h = (int)png_get_image_height(png, info);
    s.bits = png_get_bit_depth(png, info);
    s.ctype = png_get_color_type(png, info);
    png_colorp plte;
    if (png_get_PLTE(png, info, &plte, &s.nplte)) memcpy(s.plte, plte, (size_t)s.nplte * 3);
    png_bytep t;
    if (png_get_tRNS(png, info, &t, &s.ntrns, NULL) && s.ctype == PNG_COLOR_TYPE_PALETTE)
        memcpy(s.trns, t, (size_t)s.ntrns);
    if (s.bits < 8) png_set_packing(png);
    png_read_update_info(png, info);
    size_t row = png_get_rowbytes(png, info);
    s.px = malloc(row * (size_t)s.h);
    rows = malloc(sizeof(png_bytep) * (size_t)s.h);
    cr_assert(s.px && rows);
    for (int y = 0; y < s.h; y++) rows[y] = s.px + (size_t)y * row;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    cr_assert_eq(m.pos, size, "bytes after IEND");
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    return s;
}

/* n distinct entries (alpha varied when trns) and a pattern of indices using all of them. */
static void make_palette(int n, bool trns, uint8_t *pal)
{
    for (int i = 0; i < n; i++) {
        pal[4 * i] = (uint8_t)(i * 37 + 5);
        pal[4 * i + 1] = (uint8_t)(255 - i);
        pal[4 * i + 2] = (uint8_t)(i * 11);
        pal[4 * i + 3] = trns ? (uint8_t)(i % 3 == 0 ? 255 : i * 5) : 255;
    }
}

static uint8_t *make_indices(int w, int h, int n)
{
    uint8_t *idx = malloc((size_t)w * (size_t)h);
    cr_assert_not_null(idx);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            idx[(size_t)y * w + x] = (uint8_t)(((x / 3) + y * 7 + (x * y) % 5) % n);
    return idx;
}

static pp_image *load(pp_ctx *ctx, const membuf *m)
{
    pp_image *img;
    cr_assert_eq(pp_load_mem(ctx, m->d, m->n, "palette.png", &img), PP_OK, "%s",
                 pp_ctx_last_error(ctx));
    return img;
}

static membuf save(pp_ctx *ctx, const pp_image *img)
{
    membuf m = {0};
    void *buf;
    cr_assert_eq(pp_save_mem(ctx, img, PP_FORMAT_PNG, &buf, &m.n), PP_OK, "%s",
                 pp_ctx_last_error(ctx));
    m.d = buf;
    return m;
}

static int bits_for(int n) { return n <= 2 ? 1 : n <= 4 ? 2 : n <= 16 ? 4 : 8; }

/* Runs a pipeline of the specs separated by ';'. */
static pp_image *chain(pp_ctx *ctx, const char *specs, const pp_image *in)
{
    pp_pipeline *pl;
    cr_assert_eq(pp_pipeline_new(ctx, &pl), PP_OK);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", specs);
    for (char *save = NULL, *t = strtok_r(buf, ";", &save); t; t = strtok_r(NULL, ";", &save))
        cr_assert_eq(pp_pipeline_add_spec(ctx, pl, t), PP_OK, "%s", pp_ctx_last_error(ctx));
    pp_image *out;
    cr_assert_eq(pp_pipeline_run(ctx, pl, in, &out), PP_OK, "%s", pp_ctx_last_error(ctx));
    pp_pipeline_free(pl);
    return out;
}

/* ---- tests -------------------------------------------------------------------------------- */

/* The decoder gives RGB (RGBA with tRNS) pixels and the palette as the "png:palette" blob. */
Test(png_palette, decoder_records_the_palette)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    uint8_t pal[256 * 4];
    for (int t = 0; t < 2; t++) {
        make_palette(5, t, pal);
        uint8_t *idx = make_indices(9, 4, 5);
        membuf f = palette_file(9, 4, idx, pal, 5, t, 4);
        pp_image *img = load(ctx, &f);
        int c = t ? 4 : 3;
        cr_assert_eq(pp_image_channels(img), c);
        size_t size;
        const uint8_t *blob = pp_image_meta(img, "png:palette", &size);
        cr_assert_not_null(blob);
        cr_assert_eq(size, 5u * 4u);
        cr_assert_eq(memcmp(blob, pal, 20), 0);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 9; x++)
                cr_assert_eq(memcmp(pp_image_data(img) + (size_t)y * pp_image_stride(img) +
                                        (size_t)x * (size_t)c,
                                    pal + 4 * idx[y * 9 + x], (size_t)c),
                             0, "pixel %d,%d", x, y);
        pp_image_free(img);
        free(f.d);
        free(idx);
    }
    pp_ctx_free(ctx);
}

/* Loaded and saved: colour type 3 at the smallest depth that holds the palette, the same PLTE,
   tRNS without its opaque tail (kept, one entry, for an RGBA image whose palette is opaque) and
   the same index for every pixel; for palettes of 1..256 entries and odd widths. */
Test(png_palette, written_back_as_a_palette)
{
    static const int sizes[] = {1, 2, 3, 4, 5, 15, 16, 17, 100, 255, 256};
    static const int widths[] = {1, 3, 7, 13, 301};
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    uint8_t pal[256 * 4];
    int k = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
        for (size_t wi = 0; wi < sizeof widths / sizeof *widths; wi++, k++) {
            int n = sizes[si], w = widths[wi], h = 1 + k % 9;
            bool trns = k % 2;
            make_palette(n, trns, pal);
            uint8_t *idx = make_indices(w, h, n);
            int in_bits = k % 3 ? 8 : bits_for(n); /* the output's depth is the smallest anyway */
            membuf f = palette_file(w, h, idx, pal, n, trns, in_bits);
            pp_image *img = load(ctx, &f);
            membuf o = save(ctx, img);
            png_seen s = libpng_read(o.d, o.n);
            cr_assert_eq(s.ctype, PNG_COLOR_TYPE_PALETTE, "%d entries, %d wide", n, w);
            cr_assert_eq(s.bits, bits_for(n), "%d entries: depth %d", n, s.bits);
            cr_assert_eq(s.nplte, n);
            for (int i = 0; i < n; i++)
                cr_assert(s.plte[i].red == pal[4 * i] && s.plte[i].green == pal[4 * i + 1] &&
                          s.plte[i].blue == pal[4 * i + 2], "entry %d", i);
            int want_trns = 0;
            if (trns) {
                for (int i = 0; i < n; i++)
                    if (pal[4 * i + 3] != 255) want_trns = i + 1;
                if (!want_trns) want_trns = 1;
            }
            cr_assert_eq(s.ntrns, want_trns, "%d entries: tRNS of %d", n, s.ntrns);
            for (int i = 0; i < s.ntrns; i++) cr_assert_eq(s.trns[i], pal[4 * i + 3]);
            cr_assert_eq(memcmp(s.px, idx, (size_t)w * (size_t)h), 0, "%d entries, %d wide", n, w);
            /* and pixpool reads its own file back to the same pixels */
            pp_image *back = load(ctx, &o);
            cr_assert(th_same(img, back), "%d entries, %d wide", n, w);
            pp_image_free(back);
            free(s.px);
            free(o.d);
            pp_image_free(img);
            free(f.d);
            free(idx);
        }
    pp_ctx_free(ctx);
}

/* The bytes of the palette file do not depend on the backend or the number of workers (strips
   of a few rows, so many of them). */
Test(png_palette, same_bytes_on_every_backend_and_worker_count)
{
    const pp_backend backends[] = {PP_BACKEND_SERIAL, PP_BACKEND_OPENMP, PP_BACKEND_FORK};
    const int workers[] = {1, 2, 3, 5};
    uint8_t pal[256 * 4];
    for (int n = 4; n <= 200; n += 196) {
        make_palette(n, n == 4, pal);
        uint8_t *idx = make_indices(301, 97, n);
        membuf f = palette_file(301, 97, idx, pal, n, n == 4, 8);
        membuf ref = {0};
        for (int b = 0; b < 3; b++)
            for (int wk = 0; wk < 4; wk++) {
                if (b == 0 && wk > 0) continue;
                pp_ctx *ctx = th_ctx(backends[b], workers[wk]);
                ctx->png_strip_bytes = 1000;
                for (int level = 1; level <= 9; level += 4) {
                    cr_assert_eq(pp_ctx_set_png_level(ctx, level), PP_OK);
                    pp_image *img = load(ctx, &f);
                    membuf o = save(ctx, img);
                    if (level == 5) {
                        if (!ref.d) {
                            ref = o;
                            png_seen s = libpng_read(o.d, o.n);
                            cr_assert_eq(s.ctype, PNG_COLOR_TYPE_PALETTE);
                            cr_assert_eq(memcmp(s.px, idx, 301u * 97u), 0);
                            free(s.px);
                            pp_image_free(img);
                            continue;
                        }
                        cr_assert_eq(o.n, ref.n, "backend %d, %d workers", b, workers[wk]);
                        cr_assert_eq(memcmp(o.d, ref.d, o.n), 0, "backend %d, %d workers", b,
                                     workers[wk]);
                    } else {
                        png_seen s = libpng_read(o.d, o.n);
                        cr_assert_eq(memcmp(s.px, idx, 301u * 97u), 0, "level %d", level);
                        free(s.px);
                    }
                    free(o.d);
                    pp_image_free(img);
                }
                pp_ctx_free(ctx);
            }
        free(ref.d);
        free(f.d);
        free(idx);
    }
}

/* Geometry filters keep the palette (the file is a palette PNG with the moved indices); any
   other filter drops it, and the file is RGB(A) with the filter's pixels. */
Test(png_palette, kept_through_geometry_filters_only)
{
    static const char *const keep[] = {"flip", "flop", "transpose", "rotate:angle=90",
                                       "crop:x=2,y=1,width=5,height=3", "flip;rotate:angle=180"};
    static const char *const drop[] = {"invert", "gaussian:sigma=1", "flip;invert",
                                       "resize:width=4,height=4", "grayscale"};
    pp_ctx *ctx = th_ctx(PP_BACKEND_FORK, 2);
    uint8_t pal[256 * 4];
    make_palette(6, true, pal);
    uint8_t *idx = make_indices(11, 7, 6);
    membuf f = palette_file(11, 7, idx, pal, 6, true, 4);
    pp_image *img = load(ctx, &f);
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) {
        pp_image *out = chain(ctx, keep[i], img);
        cr_assert_not_null(pp_image_meta(out, "png:palette", NULL), "%s", keep[i]);
        membuf o = save(ctx, out);
        png_seen s = libpng_read(o.d, o.n);
        cr_assert_eq(s.ctype, PNG_COLOR_TYPE_PALETTE, "%s", keep[i]);
        cr_assert_eq(s.w, pp_image_width(out));
        for (int y = 0; y < s.h; y++) /* each index names the output pixel's colour */
            for (int x = 0; x < s.w; x++)
                cr_assert_eq(memcmp(pal + 4 * s.px[(size_t)y * s.w + x],
                                    pp_image_data(out) + (size_t)y * pp_image_stride(out) +
                                        (size_t)x * 4, 4), 0, "%s: pixel %d,%d", keep[i], x, y);
        free(s.px);
        free(o.d);
        pp_image_free(out);
    }
    for (size_t i = 0; i < sizeof drop / sizeof *drop; i++) {
        pp_image *out = chain(ctx, drop[i], img);
        cr_assert_null(pp_image_meta(out, "png:palette", NULL), "%s", drop[i]);
        membuf o = save(ctx, out);
        png_seen s = libpng_read(o.d, o.n);
        cr_assert_neq(s.ctype, PNG_COLOR_TYPE_PALETTE, "%s", drop[i]);
        free(s.px);
        free(o.d);
        pp_image_free(out);
    }
    pp_image_free(img);
    free(f.d);
    free(idx);
    pp_ctx_free(ctx);
}

/* A colour that is not in the palette: the image is written as RGB, as without a palette;
   a colour listed twice takes the first index; stripping every kind of metadata keeps the
   palette (it is how the pixels are stored, not metadata). */
Test(png_palette, fallback_duplicates_and_strip)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    const uint8_t px[] = {10, 20, 30, 40, 50, 60, 10, 20, 30, 70, 80, 90};
    const uint8_t pal[] = {40, 50, 60, 255, 10, 20, 30, 255, 40, 50, 60, 255};
    pp_image *img = th_image_from(ctx, 4, 1, 3, px);
    cr_assert_eq(pp_image_set_meta(ctx, img, "png:palette", pal, sizeof pal), PP_OK);
    membuf o = save(ctx, img); /* 70,80,90 is not in it */
    png_seen s = libpng_read(o.d, o.n);
    cr_assert_eq(s.ctype, PNG_COLOR_TYPE_RGB);
    cr_assert_eq(memcmp(s.px, px, sizeof px), 0);
    free(s.px);
    free(o.d);
    pp_image_free(img);

    const uint8_t px2[] = {10, 20, 30, 40, 50, 60, 10, 20, 30};
    img = th_image_from(ctx, 3, 1, 3, px2);
    cr_assert_eq(pp_image_set_meta(ctx, img, "png:palette", pal, sizeof pal), PP_OK);
    cr_assert_eq(pp_ctx_set_strip(ctx, PP_META_ALL), PP_OK);
    o = save(ctx, img);
    s = libpng_read(o.d, o.n);
    cr_assert_eq(s.ctype, PNG_COLOR_TYPE_PALETTE, "--strip keeps the palette");
    cr_assert_eq(s.bits, 2);
    cr_assert_eq(s.nplte, 3);
    cr_assert_eq(s.ntrns, 0, "an RGB image has no tRNS");
    const uint8_t want[] = {1, 0, 1};
    cr_assert_eq(memcmp(s.px, want, 3), 0);
    free(s.px);
    free(o.d);
    pp_image_strip_meta(img, PP_META_ALL);
    cr_assert_not_null(pp_image_meta(img, "png:palette", NULL), "of no kind: not stripped");
    /* a malformed blob (not a whole number of entries) is ignored */
    cr_assert_eq(pp_image_set_meta(ctx, img, "png:palette", pal, 7), PP_OK);
    o = save(ctx, img);
    s = libpng_read(o.d, o.n);
    cr_assert_eq(s.ctype, PNG_COLOR_TYPE_RGB);
    free(s.px);
    free(o.d);
    pp_image_free(img);
    pp_ctx_free(ctx);
}
