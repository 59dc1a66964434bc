/*
 * test_meta.c - metadata on pp_image through the library: the blob API and its limits; blobs
 * byte-identical after a pipeline and a save/load in PNG and JPEG (and across the two) on
 * every backend; density converted between pHYs and JFIF; the EXIF walker (orientation,
 * dimensions, SHORT to LONG, IFD loops, bounds); auto-orient's pixel mapping for all 8
 * orientations; strip; ICC profiles that do not suit the channels; hostile metadata (an ICC
 * sequence missing a chunk or repeating one, an iCCP that inflates past the limits or claims
 * 2 GB, a chunk of 2 GB, bad CRCs, EXIF that is not TIFF) dropped or failed cleanly; and, read
 * back by exiftool, the ICC and EXIF bytes of files the library saved from files exiftool
 * wrote (tests/cli_meta.sh does the same through the CLI).
 */
#include "helpers.h"
#include "meta.h"
#include "pixpool.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* ---- helpers ------------------------------------------------------------------------------ */

static const pp_backend backends[3] = {PP_BACKEND_SERIAL, PP_BACKEND_OPENMP, PP_BACKEND_FORK};

/* A fake ICC profile of n bytes (>= 132): size field, colour space, 'acsp', a pattern. */
static uint8_t *fake_icc(size_t n, const char space[4])
{
    uint8_t *p = malloc(n);
    cr_assert(p);
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 7 + 3);
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
    memcpy(p + 16, space, 4);
    memcpy(p + 36, "acsp", 4);
    return p;
}

/* A little TIFF/EXIF stream: IFD0 {ImageWidth SHORT, ImageLength LONG, Orientation SHORT,
   ExifIFD pointer}, Exif IFD {PixelXDimension SHORT, PixelYDimension SHORT}, then 16 bytes of
   a "maker note" pattern. le: "II" else "MM". Returns its size (buffer of 128 bytes). */
static size_t make_exif(uint8_t *d, bool le, int orientation, uint32_t w, uint32_t h)
{
    memset(d, 0, 128);
#define P16(o, v) (le ? (d[o] = (uint8_t)(v), d[(o) + 1] = (uint8_t)((v) >> 8)) \
                      : (d[o] = (uint8_t)((v) >> 8), d[(o) + 1] = (uint8_t)(v)))
#define P32(o, v) (le ? (P16(o, (v) & 0xffff), P16((o) + 2, (v) >> 16)) \
                      : (P16(o, (v) >> 16), P16((o) + 2, (v) & 0xffff)))
    d[0] = d[1] = le ? 'I' : 'M';
    P16(2, 42);
    P32(4, 8);
    P16(8, 4); /* IFD0: 4 entries at 10 */
    size_t e = 10;
    P16(e, 0x0100); P16(e + 2, 3); P32(e + 4, 1); P16(e + 8, w); e += 12;
    P16(e, 0x0101); P16(e + 2, 4); P32(e + 4, 1); P32(e + 8, h); e += 12;
    P16(e, 0x0112); P16(e + 2, 3); P32(e + 4, 1); P16(e + 8, orientation); e += 12;
    P16(e, 0x8769); P16(e + 2, 4); P32(e + 4, 1); P32(e + 8, 62); e += 12;
    P32(e, 0); /* no next IFD; e = 58 */
    P16(62, 2); /* Exif IFD at 62: 2 entries */
    P16(64, 0xA002); P16(66, 3); P32(68, 1); P16(72, w);
    P16(76, 0xA003); P16(78, 3); P32(80, 1); P16(84, h);
    P32(88, 0);
    for (int i = 0; i < 16; i++) d[92 + i] = (uint8_t)(0xa0 + i);
#undef P16
#undef P32
    return 108;
}

static uint32_t get(const uint8_t *d, bool le, size_t o, int bytes)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint32_t)d[o + (le ? i : bytes - 1 - i)] << (8 * i);
    return v;
}

static void set_blob(pp_ctx *ctx, pp_image *img, const char *name, const void *d, size_t n)
{
    cr_assert_eq(pp_image_set_meta(ctx, img, name, d, n), PP_OK, "%s: %s", name,
                 pp_ctx_last_error(ctx));
}

static void assert_blob(const pp_image *img, const char *name, const void *d, size_t n,
                        const char *what)
{
    size_t got;
    const void *p = pp_image_meta(img, name, &got);
    cr_assert(p, "%s: no '%s'", what, name);
    cr_assert_eq(got, n, "%s: '%s' is %zu bytes, want %zu", what, name, got, n);
    cr_assert(memcmp(p, d, n) == 0, "%s: '%s' bytes differ", what, name);
}

static pp_image *reload(pp_ctx *ctx, const pp_image *img, pp_format fmt)
{
    void *data;
    size_t n;
    cr_assert_eq(pp_save_mem(ctx, img, fmt, &data, &n), PP_OK, "%s", pp_ctx_last_error(ctx));
    pp_image *back;
    cr_assert_eq(pp_load_mem(ctx, data, n, "back", &back), PP_OK, "%s", pp_ctx_last_error(ctx));
    free(data);
    return back;
}

static uint8_t *save(pp_ctx *ctx, const pp_image *img, pp_format fmt, size_t *n)
{
    void *data;
    cr_assert_eq(pp_save_mem(ctx, img, fmt, &data, n), PP_OK, "%s", pp_ctx_last_error(ctx));
    return data;
}

/* ---- the API ------------------------------------------------------------------------------ */

Test(meta_api, set_get_replace_remove_strip)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *img = th_random_image(ctx, 8, 4, 3, 1);
    cr_assert_eq(pp_image_meta_count(img), 0);
    cr_assert_null(pp_image_meta(img, "icc", NULL));
    set_blob(ctx, img, "icc", "abc", 3);
    set_blob(ctx, img, "exif", "MM\0*", 4);
    set_blob(ctx, img, "xmp", "<x/>", 4);
    set_blob(ctx, img, "png:pHYs", "123456789", 9);
    set_blob(ctx, img, "my.app_note-1", "", 0);
    cr_assert_eq(pp_image_meta_count(img), 5);
    cr_assert_str_eq(pp_image_meta_name(img, 4), "my.app_note-1");
    cr_assert_null(pp_image_meta_name(img, 5));
    cr_assert_null(pp_image_meta_name(img, -1));
    size_t n = 99;
    cr_assert_not_null(pp_image_meta(img, "my.app_note-1", &n));
    cr_assert_eq(n, 0);
    set_blob(ctx, img, "icc", "abcdef", 6); /* replaces */
    cr_assert_eq(pp_image_meta_count(img), 5);
    assert_blob(img, "icc", "abcdef", 6, "replaced");
    cr_assert_eq(pp_image_remove_meta(img, "xmp"), 1);
    cr_assert_eq(pp_image_remove_meta(img, "xmp"), 0);
    pp_image_strip_meta(img, PP_META_EXIF | PP_META_DENSITY);
    cr_assert_eq(pp_image_meta_count(img), 2);
    cr_assert_not_null(pp_image_meta(img, "icc", NULL));
    cr_assert_not_null(pp_image_meta(img, "my.app_note-1", NULL));
    pp_image_strip_meta(img, PP_META_ALL);
    cr_assert_eq(pp_image_meta_count(img), 0);
    pp_image_free(img);
    pp_ctx_free(ctx);
}

Test(meta_api, invalid_and_limits)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *img = th_random_image(ctx, 8, 4, 3, 1);
    cr_assert_eq(pp_image_set_meta(ctx, img, "", "x", 1), PP_ERR_INVALID);
    cr_assert_eq(pp_image_set_meta(ctx, img, "has space", "x", 1), PP_ERR_INVALID);
    cr_assert(strstr(pp_ctx_last_error(ctx), "invalid name"), "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(pp_image_set_meta(ctx, img, "a23456789012345678901234567890123", "x", 1),
                 PP_ERR_INVALID);
    cr_assert_eq(pp_image_set_meta(ctx, img, "icc", NULL, 1), PP_ERR_INVALID);
    cr_assert_eq(pp_image_set_meta(ctx, NULL, "icc", "x", 1), PP_ERR_INVALID);
    cr_assert_eq(pp_image_set_meta(ctx, img, "icc", NULL, (size_t)33 << 20), PP_ERR_INVALID);
    uint8_t *big = calloc(1, (size_t)33 << 20);
    cr_assert(big);
    cr_assert_eq(pp_image_set_meta(ctx, img, "icc", big, (size_t)33 << 20), PP_ERR_LIMIT);
    cr_assert(strstr(pp_ctx_last_error(ctx), "over the metadata limits"));
    /* 64 MiB in all: two blobs of 30 MiB fit, a third does not */
    cr_assert_eq(pp_image_set_meta(ctx, img, "a", big, (size_t)30 << 20), PP_OK);
    cr_assert_eq(pp_image_set_meta(ctx, img, "b", big, (size_t)30 << 20), PP_OK);
    cr_assert_eq(pp_image_set_meta(ctx, img, "c", big, (size_t)5 << 20), PP_ERR_LIMIT);
    cr_assert_eq(pp_image_set_meta(ctx, img, "a", big, (size_t)32 << 20), PP_OK); /* replaces */
    free(big);
    pp_image_strip_meta(img, PP_META_ALL);
    char name[8];
    for (int i = 0; i < 32; i++) {
        snprintf(name, sizeof name, "n%d", i);
        cr_assert_eq(pp_image_set_meta(ctx, img, name, "x", 1), PP_OK);
    }
    cr_assert_eq(pp_image_set_meta(ctx, img, "n32", "x", 1), PP_ERR_LIMIT);
    cr_assert_eq(pp_image_meta_count(img), 32);
    cr_assert_eq(pp_ctx_set_strip(ctx, 32), PP_ERR_INVALID);
    cr_assert_eq(pp_ctx_set_strip(NULL, 0), PP_ERR_INVALID);
    cr_assert_eq(pp_ctx_set_auto_orient(NULL, 1), PP_ERR_INVALID);
    pp_image_free(img); /* frees the 32 blobs (ASan's leak check) */
    pp_ctx_free(ctx);
}

/* ---- pipelines and codecs ----------------------------------------------------------------- */

/* icc, exif, xmp and density through sharpen and PNG/JPEG, every backend and conversion */
Test(meta_io, blobs_survive_pipeline_and_codecs_on_every_backend)
{
    uint8_t *icc = fake_icc(150000, "RGB "); /* three JPEG APP2 chunks */
    uint8_t exif[128];
    size_t en = make_exif(exif, false, 6, 40, 30);
    static const char xmp[] = "<x:xmpmeta xmlns:x='adobe:ns:meta/'>pixpool</x:xmpmeta>";
    static const uint8_t phys[9] = {0, 0, 0x2e, 0x23, 0, 0, 0x2e, 0x23, 1}; /* 11811/m */
    static const uint8_t jfif300[5] = {1, 0x01, 0x2c, 0x01, 0x2c};           /* 300 dpi */
    for (int b = 0; b < 3; b++) {
        pp_ctx *ctx = th_ctx(backends[b], 2);
        pp_image *img = th_random_image(ctx, 40, 30, 3, 7);
        set_blob(ctx, img, "icc", icc, 150000);
        set_blob(ctx, img, "exif", exif, en);
        set_blob(ctx, img, "xmp", xmp, strlen(xmp));
        set_blob(ctx, img, "png:pHYs", phys, 9);
        pp_image *sh = th_apply(ctx, "sharpen", img);
        assert_blob(sh, "icc", icc, 150000, "pipeline");
        assert_blob(sh, "exif", exif, en, "pipeline");
        assert_blob(sh, "png:pHYs", phys, 9, "pipeline");
        pp_image *png = reload(ctx, sh, PP_FORMAT_PNG);
        cr_assert_eq(pp_image_meta_count(png), 4);
        assert_blob(png, "icc", icc, 150000, "PNG");
        assert_blob(png, "exif", exif, en, "PNG");
        assert_blob(png, "xmp", xmp, strlen(xmp), "PNG");
        assert_blob(png, "png:pHYs", phys, 9, "PNG");
        pp_image *jpg = reload(ctx, png, PP_FORMAT_JPEG); /* PNG -> JPEG */
        cr_assert_eq(pp_image_meta_count(jpg), 4);
        assert_blob(jpg, "icc", icc, 150000, "PNG->JPEG");
        assert_blob(jpg, "exif", exif, en, "PNG->JPEG");
        assert_blob(jpg, "xmp", xmp, strlen(xmp), "PNG->JPEG");
        assert_blob(jpg, "jfif:density", jfif300, 5, "PNG->JPEG");
        pp_image *inv = th_apply(ctx, "invert", jpg);
        pp_image *jj = reload(ctx, inv, PP_FORMAT_JPEG); /* JPEG -> JPEG */
        pp_image_free(inv);
        assert_blob(jj, "icc", icc, 150000, "JPEG->JPEG");
        assert_blob(jj, "jfif:density", jfif300, 5, "JPEG->JPEG");
        pp_image *jp = reload(ctx, jj, PP_FORMAT_PNG); /* JPEG -> PNG */
        assert_blob(jp, "icc", icc, 150000, "JPEG->PNG");
        assert_blob(jp, "exif", exif, en, "JPEG->PNG");
        assert_blob(jp, "png:pHYs", phys, 9, "JPEG->PNG"); /* 300 dpi is 11811/m again */
        /* BMP and TGA carry none */
        pp_image *bmp = reload(ctx, jp, PP_FORMAT_BMP);
        cr_assert_eq(pp_image_meta_count(bmp), 0);
        pp_image_free(bmp);
        pp_image_free(jp);
        pp_image_free(jj);
        pp_image_free(jpg);
        pp_image_free(png);
        pp_image_free(sh);
        pp_image_free(img);
        pp_ctx_free(ctx);
    }
    free(icc);
}

Test(meta_io, density_conversions)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    static const struct {
        uint8_t jfif[5];
        uint8_t phys[9];
        uint8_t back[5];
    } cases[] = {
        {{1, 0, 72, 0, 72}, {0, 0, 0x0b, 0x13, 0, 0, 0x0b, 0x13, 1}, {1, 0, 72, 0, 72}}, /* 2835 */
        {{2, 0, 100, 0, 50}, {0, 0, 0x27, 0x10, 0, 0, 0x13, 0x88, 1}, {2, 0, 100, 0, 50}},
        {{0, 0, 2, 0, 1}, {0, 0, 0, 2, 0, 0, 0, 1, 0}, {0, 0, 2, 0, 1}}, /* aspect ratio only */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pp_image *img = th_random_image(ctx, 9, 9, 3, 2);
        set_blob(ctx, img, "jfif:density", cases[i].jfif, 5);
        pp_image *png = reload(ctx, img, PP_FORMAT_PNG);
        assert_blob(png, "png:pHYs", cases[i].phys, 9, "JFIF -> pHYs");
        pp_image *jpg = reload(ctx, png, PP_FORMAT_JPEG);
        assert_blob(jpg, "jfif:density", cases[i].back, 5, "pHYs -> JFIF");
        pp_image_free(jpg);
        pp_image_free(png);
        pp_image_free(img);
    }
    /* libjpeg's 1:1 without unit says nothing: not kept */
    pp_image *img = th_random_image(ctx, 9, 9, 3, 2);
    pp_image *jpg = reload(ctx, img, PP_FORMAT_JPEG);
    cr_assert_eq(pp_image_meta_count(jpg), 0);
    pp_image_free(jpg);
    pp_image_free(img);
    pp_ctx_free(ctx);
}

Test(meta_io, strip_and_icc_fit)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    uint8_t *rgb = fake_icc(500, "RGB "), *gray = fake_icc(300, "GRAY"), *cmyk = fake_icc(300, "CMYK");
    uint8_t exif[128];
    size_t en = make_exif(exif, true, 1, 16, 8);
    pp_image *img = th_random_image(ctx, 16, 8, 3, 3);
    set_blob(ctx, img, "icc", rgb, 500);
    set_blob(ctx, img, "exif", exif, en);
    set_blob(ctx, img, "xmp", "<x/>", 4);
    cr_assert_eq(pp_ctx_set_strip(ctx, PP_META_EXIF | PP_META_XMP), PP_OK);
    for (int f = 0; f < 2; f++) {
        pp_image *back = reload(ctx, img, f ? PP_FORMAT_JPEG : PP_FORMAT_PNG);
        cr_assert_eq(pp_image_meta_count(back), 1);
        assert_blob(back, "icc", rgb, 500, "--strip=exif,xmp");
        pp_image_free(back);
    }
    cr_assert_eq(pp_image_meta_count(img), 3, "stripping on save leaves the image's blobs");
    cr_assert_eq(pp_ctx_set_strip(ctx, PP_META_ALL), PP_OK);
    pp_image *none = reload(ctx, img, PP_FORMAT_PNG);
    cr_assert_eq(pp_image_meta_count(none), 0);
    pp_image_free(none);
    cr_assert_eq(pp_ctx_set_strip(ctx, 0), PP_OK);
    /* grayscale drops the RGB profile; a GRAY one suits a gray image; CMYK suits nothing */
    pp_image *g = th_apply(ctx, "grayscale", img);
    cr_assert_null(pp_image_meta(g, "icc", NULL));
    assert_blob(g, "exif", exif, en, "grayscale keeps EXIF");
    set_blob(ctx, g, "icc", gray, 300);
    pp_image *gb = reload(ctx, g, PP_FORMAT_PNG);
    assert_blob(gb, "icc", gray, 300, "gray profile on a gray PNG");
    pp_image_free(gb);
    gb = reload(ctx, g, PP_FORMAT_JPEG);
    assert_blob(gb, "icc", gray, 300, "gray profile on a gray JPEG");
    pp_image_free(gb);
    set_blob(ctx, g, "icc", rgb, 500); /* set by hand on a gray image: not written */
    gb = reload(ctx, g, PP_FORMAT_PNG);
    cr_assert_null(pp_image_meta(gb, "icc", NULL));
    pp_image_free(gb);
    set_blob(ctx, img, "icc", cmyk, 300);
    gb = reload(ctx, img, PP_FORMAT_JPEG);
    cr_assert_null(pp_image_meta(gb, "icc", NULL));
    pp_image_free(gb);
    pp_image_free(g);
    pp_image_free(img);
    free(rgb);
    free(gray);
    free(cmyk);
    pp_ctx_free(ctx);
}

/* ---- EXIF --------------------------------------------------------------------------------- */

Test(meta_exif, orientation_and_dimensions_both_byte_orders)
{
    for (int le = 0; le < 2; le++) {
        uint8_t d[128], orig[128];
        size_t n = make_exif(d, le, 6, 640, 480);
        memcpy(orig, d, sizeof d);
        cr_assert(pp_exif_valid(d, n));
        cr_assert_eq(pp_exif_orientation(d, n), 6);
        cr_assert(pp_exif_set_orientation(d, n, 1));
        cr_assert_eq(pp_exif_orientation(d, n), 1);
        cr_assert_eq(pp_exif_set_dimensions(d, n, 100000, 50), 4);
        /* ImageWidth was a SHORT: now a LONG of 100000; ImageLength a LONG of 50 */
        cr_assert_eq(get(d, le, 12, 2), 4);
        cr_assert_eq(get(d, le, 18, 4), 100000);
        cr_assert_eq(get(d, le, 30, 4), 50);
        cr_assert_eq(get(d, le, 66, 2), 4); /* PixelXDimension became LONG */
        cr_assert_eq(get(d, le, 72, 4), 100000);
        cr_assert_eq(get(d, le, 78, 2), 3); /* PixelYDimension stays SHORT */
        cr_assert_eq(get(d, le, 84, 2), 50);
        cr_assert_eq(get(d, le, 86, 2), 0);
        cr_assert(memcmp(d + 92, orig + 92, 16) == 0, "the rest is left alone");
    }
}

Test(meta_exif, hostile_streams)
{
    uint8_t d[128];
    size_t n = make_exif(d, false, 3, 10, 10);
    cr_assert_eq(pp_exif_orientation(d, 7), 0);        /* shorter than a header */
    cr_assert_eq(pp_exif_orientation(d, 20), 0);       /* IFD0's entries run past the end */
    cr_assert_eq(pp_exif_set_dimensions(d, 20, 1, 1), 0);
    uint8_t e[128];
    memcpy(e, d, sizeof d);
    e[9] = 0xff; /* 255 entries claimed */
    cr_assert_eq(pp_exif_orientation(e, n), 0);
    memcpy(e, d, sizeof d);
    e[4] = 0x7f; /* IFD0 at 2 GB */
    cr_assert(!pp_exif_valid(e, n));
    cr_assert_eq(pp_exif_orientation(e, n), 0);
    /* a loop: the Exif IFD pointer and the next-IFD pointer both lead back to IFD0 */
    memcpy(e, d, sizeof d);
    e[10 + 36 + 8 + 3] = 8;       /* ExifIFD -> IFD0 */
    e[58 + 3] = 8;                /* next IFD -> IFD0 */
    cr_assert_eq(pp_exif_orientation(e, n), 3);
    cr_assert_eq(pp_exif_set_dimensions(e, n, 20, 30), 2); /* IFD0's two, once */
    /* Orientation 9 is not one */
    memcpy(e, d, sizeof d);
    e[10 + 24 + 9] = 9;
    cr_assert_eq(pp_exif_orientation(e, n), 0);
    cr_assert(!pp_exif_valid((const uint8_t *)"Exif\0\0MM", 8));
}

/* ---- auto-orient -------------------------------------------------------------------------- */

/* The pixel of the upright image at (x, y) for a stored image s (w x h) of orientation o. */
static uint8_t upright(const uint8_t *s, int w, int h, int o, int x, int y)
{
    int sx, sy; /* upright size: w x h for 1-4, h x w for 5-8 */
    switch (o) {
    case 1: sx = x; sy = y; break;
    case 2: sx = w - 1 - x; sy = y; break;
    case 3: sx = w - 1 - x; sy = h - 1 - y; break;
    case 4: sx = x; sy = h - 1 - y; break;
    case 5: sx = y; sy = x; break;
    case 6: sx = y; sy = h - 1 - x; break;
    case 7: sx = w - 1 - y; sy = h - 1 - x; break;
    default: sx = w - 1 - y; sy = x; break;
    }
    return s[sy * w + sx];
}

Test(meta_orient, all_eight_on_every_backend_and_at_load)
{
    const int w = 5, h = 3;
    uint8_t px[15];
    for (int i = 0; i < 15; i++) px[i] = (uint8_t)(i * 11);
    for (int b = 0; b < 3; b++) {
        pp_ctx *ctx = th_ctx(backends[b], 2);
        for (int o = 1; o <= 8; o++) {
            pp_image *img = th_image_from(ctx, w, h, 1, px);
            uint8_t exif[128];
            size_t en = make_exif(exif, o & 1, o, w, h);
            set_blob(ctx, img, "exif", exif, en);
            cr_assert_eq(pp_image_orientation(img), o);
            pp_image *up;
            cr_assert_eq(pp_auto_orient(ctx, img, &up), PP_OK, "%s", pp_ctx_last_error(ctx));
            int uw = o >= 5 ? h : w, uh = o >= 5 ? w : h;
            cr_assert_eq(pp_image_width(up), uw);
            cr_assert_eq(pp_image_height(up), uh);
            for (int y = 0; y < uh; y++)
                for (int x = 0; x < uw; x++)
                    cr_assert_eq(pp_image_data(up)[y * pp_image_stride(up) + x],
                                 upright(px, w, h, o, x, y), "orientation %d at (%d, %d)", o, x, y);
            cr_assert_eq(pp_image_orientation(up), 1);
            size_t n;
            const uint8_t *ue = pp_image_meta(up, "exif", &n);
            cr_assert_eq(get(ue, o & 1, 72, 2), (uint32_t)uw, "PixelXDimension");
            cr_assert_eq(get(ue, o & 1, 84, 2), (uint32_t)uh, "PixelYDimension");
            cr_assert_eq(pp_image_orientation(img), o, "the input is not modified");
            /* the same at load time */
            pp_image *onload;
            void *data;
            cr_assert_eq(pp_save_mem(ctx, img, PP_FORMAT_PNG, &data, &n), PP_OK);
            cr_assert_eq(pp_ctx_set_auto_orient(ctx, 1), PP_OK);
            cr_assert_eq(pp_load_mem(ctx, data, n, "o", &onload), PP_OK, "%s", pp_ctx_last_error(ctx));
            cr_assert(th_same(onload, up), "orientation %d at load", o);
            cr_assert_eq(pp_image_orientation(onload), 1);
            cr_assert_eq(pp_ctx_set_auto_orient(ctx, 0), PP_OK);
            free(data);
            pp_image_free(onload);
            pp_image_free(up);
            pp_image_free(img);
        }
        pp_ctx_free(ctx);
    }
}

Test(meta_orient, memory_limit_counts_the_second_image)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *img = th_random_image(ctx, 1024, 512, 1, 4); /* 512 KiB */
    uint8_t exif[128];
    size_t en = make_exif(exif, true, 6, 1024, 512);
    set_blob(ctx, img, "exif", exif, en);
    void *data;
    size_t n;
    cr_assert_eq(pp_save_mem(ctx, img, PP_FORMAT_PNG, &data, &n), PP_OK);
    cr_assert_eq(pp_ctx_set_max_memory(ctx, 800 << 10), PP_OK);
    cr_assert_eq(pp_ctx_set_auto_orient(ctx, 1), PP_OK);
    pp_image *out = (pp_image *)1;
    cr_assert_eq(pp_load_mem(ctx, data, n, "phone.png", &out), PP_ERR_LIMIT);
    cr_assert_null(out);
    cr_assert(strstr(pp_ctx_last_error(ctx), "phone.png"), "%s", pp_ctx_last_error(ctx));
    cr_assert(strstr(pp_ctx_last_error(ctx), "auto-orient"), "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(pp_ctx_set_auto_orient(ctx, 0), PP_OK);
    cr_assert_eq(pp_load_mem(ctx, data, n, "phone.png", &out), PP_OK);
    pp_image_free(out);
    free(data);
    pp_image_free(img);
    pp_ctx_free(ctx);
}

/* ---- hostile metadata --------------------------------------------------------------------- */

/* Removes the JPEG markers of `code` whose data starts with sig and has byte sig_n == seq
   (seq < 0: any). Returns the new size. */
static size_t drop_markers(uint8_t *d, size_t n, int code, const char *sig, size_t sig_n, int seq)
{
    size_t pos = 2;
    while (pos + 4 <= n && d[pos] == 0xff && d[pos + 1] != 0xda) {
        size_t len = (size_t)d[pos + 2] << 8 | d[pos + 3];
        bool hit = d[pos + 1] == code && len >= 2 + sig_n + 1 && memcmp(d + pos + 4, sig, sig_n) == 0 &&
                   (seq < 0 || d[pos + 4 + sig_n] == seq);
        if (hit) {
            memmove(d + pos, d + pos + 2 + len, n - pos - 2 - len);
            n -= 2 + len;
        } else {
            pos += 2 + len;
        }
    }
    return n;
}

Test(meta_hostile, jpeg_icc_sequences)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    uint8_t *icc = fake_icc(150000, "RGB ");
    pp_image *img = th_random_image(ctx, 16, 16, 3, 5);
    set_blob(ctx, img, "icc", icc, 150000);
    set_blob(ctx, img, "xmp", "<x/>", 4);
    size_t n;
    uint8_t *jpg = save(ctx, img, PP_FORMAT_JPEG, &n);
    pp_image *back;
    /* the middle chunk removed: the profile is dropped, the rest loads */
    uint8_t *cut = malloc(n);
    memcpy(cut, jpg, n);
    size_t cn = drop_markers(cut, n, 0xe2, "ICC_PROFILE", 12, 2);
    cr_assert_lt(cn, n);
    cr_assert_eq(pp_load_mem(ctx, cut, cn, "cut.jpg", &back), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_null(pp_image_meta(back, "icc", NULL));
    assert_blob(back, "xmp", "<x/>", 4, "the XMP stays");
    pp_image_free(back);
    /* chunk 2 made a second chunk 1: repeated, dropped */
    memcpy(cut, jpg, n);
    for (size_t i = 0; i + 14 < n; i++)
        if (memcmp(cut + i, "ICC_PROFILE\0\2\3", 14) == 0) cut[i + 12] = 1;
    cr_assert_eq(pp_load_mem(ctx, cut, n, "dup.jpg", &back), PP_OK);
    cr_assert_null(pp_image_meta(back, "icc", NULL));
    pp_image_free(back);
    /* a count that differs between chunks */
    memcpy(cut, jpg, n);
    for (size_t i = 0; i + 14 < n; i++)
        if (memcmp(cut + i, "ICC_PROFILE\0\3\3", 14) == 0) cut[i + 13] = 4;
    cr_assert_eq(pp_load_mem(ctx, cut, n, "count.jpg", &back), PP_OK);
    cr_assert_null(pp_image_meta(back, "icc", NULL));
    pp_image_free(back);
    /* the profile's size field says 2 GB */
    memcpy(cut, jpg, n);
    for (size_t i = 0; i + 18 < n; i++)
        if (memcmp(cut + i, "ICC_PROFILE\0\1\3", 14) == 0) cut[i + 14] = 0x7f;
    cr_assert_eq(pp_load_mem(ctx, cut, n, "claim.jpg", &back), PP_OK);
    cr_assert_null(pp_image_meta(back, "icc", NULL));
    pp_image_free(back);
    /* untouched, it is kept */
    cr_assert_eq(pp_load_mem(ctx, jpg, n, "ok.jpg", &back), PP_OK);
    assert_blob(back, "icc", icc, 150000, "intact sequence");
    pp_image_free(back);
    free(cut);
    free(jpg);
    free(icc);
    pp_image_free(img);
    pp_ctx_free(ctx);
}

/* A PNG of the image with `chunk` (type, data, CRC right or not) inserted after IHDR. */
static uint8_t *png_with(pp_ctx *ctx, const char type[4], const uint8_t *d, uint32_t len,
                         uint32_t claimed, bool good_crc, size_t *n)
{
    pp_image *img = th_random_image(ctx, 8, 8, 3, 6);
    size_t pn;
    uint8_t *png = save(ctx, img, PP_FORMAT_PNG, &pn);
    pp_image_free(img);
    uint8_t *out = malloc(pn + 12 + len);
    cr_assert(out);
    memcpy(out, png, 33);
    uint8_t *c = out + 33;
    c[0] = (uint8_t)(claimed >> 24);
    c[1] = (uint8_t)(claimed >> 16);
    c[2] = (uint8_t)(claimed >> 8);
    c[3] = (uint8_t)claimed;
    memcpy(c + 4, type, 4);
    memcpy(c + 8, d, len);
    uint32_t crc = (uint32_t)crc32(crc32(0, c + 4, 4), d, len) ^ (good_crc ? 0u : 1u);
    c[8 + len] = (uint8_t)(crc >> 24);
    c[9 + len] = (uint8_t)(crc >> 16);
    c[10 + len] = (uint8_t)(crc >> 8);
    c[11 + len] = (uint8_t)crc;
    memcpy(c + 12 + len, png + 33, pn - 33);
    *n = pn + 12 + len;
    free(png);
    return out;
}

/* "name\0" method 0, then a zlib stream of `raw` */
static uint8_t *iccp_body(const uint8_t *raw, size_t rn, uint32_t *len)
{
    uLongf zn = compressBound((uLong)rn);
    uint8_t *z = malloc(zn);
    cr_assert_eq(compress2(z, &zn, raw, (uLong)rn, 9), Z_OK);
    uint8_t *out = malloc(6 + zn);
    memcpy(out, "test\0\0", 6);
    memcpy(out + 6, z, zn);
    free(z);
    *len = (uint32_t)(6 + zn);
    return out;
}

Test(meta_hostile, png_chunks)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    cr_assert_eq(pp_ctx_set_max_memory(ctx, (uint64_t)256 << 20), PP_OK);
    pp_image *back;
    size_t n;
    uint32_t len;
    uint8_t *icc = fake_icc(1000, "RGB ");
    uint8_t *body = iccp_body(icc, 1000, &len);
    /* a good iCCP is kept; with a bad CRC it is dropped */
    uint8_t *png = png_with(ctx, "iCCP", body, len, len, true, &n);
    cr_assert_eq(pp_load_mem(ctx, png, n, "good.png", &back), PP_OK, "%s", pp_ctx_last_error(ctx));
    assert_blob(back, "icc", icc, 1000, "iCCP");
    pp_image_free(back);
    free(png);
    png = png_with(ctx, "iCCP", body, len, len, false, &n);
    cr_assert_eq(pp_load_mem(ctx, png, n, "crc.png", &back), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_null(pp_image_meta(back, "icc", NULL));
    pp_image_free(back);
    free(png);
    free(body);
    /* the profile says it is 2 GB */
    icc[0] = 0x7f;
    body = iccp_body(icc, 1000, &len);
    png = png_with(ctx, "iCCP", body, len, len, true, &n);
    cr_assert_eq(pp_load_mem(ctx, png, n, "claim.png", &back), PP_OK);
    cr_assert_null(pp_image_meta(back, "icc", NULL));
    pp_image_free(back);
    free(png);
    free(body);
    /* an iCCP that inflates to 40 MiB (over the 32 MiB a blob may hold): dropped */
    size_t bomb = (size_t)40 << 20;
    uint8_t *zeros = calloc(1, bomb);
    body = iccp_body(zeros, bomb, &len);
    free(zeros);
    png = png_with(ctx, "iCCP", body, len, len, true, &n);
    cr_assert_eq(pp_load_mem(ctx, png, n, "bomb.png", &back), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_null(pp_image_meta(back, "icc", NULL));
    pp_image_free(back);
    /* and under a memory limit of 1 MiB, a 2 MiB profile is not inflated either */
    free(png);
    free(body);
    uint8_t *two = fake_icc((size_t)2 << 20, "RGB ");
    body = iccp_body(two, (size_t)2 << 20, &len);
    png = png_with(ctx, "iCCP", body, len, len, true, &n);
    cr_assert_eq(pp_load_mem(ctx, png, n, "2m.png", &back), PP_OK);
    assert_blob(back, "icc", two, (size_t)2 << 20, "2 MiB profile, 256 MiB limit");
    pp_image_free(back);
    cr_assert_eq(pp_ctx_set_max_memory(ctx, (uint64_t)1 << 20), PP_OK);
    cr_assert_eq(pp_load_mem(ctx, png, n, "2m.png", &back), PP_OK);
    cr_assert_null(pp_image_meta(back, "icc", NULL));
    pp_image_free(back);
    free(png);
    free(body);
    free(two);
    /* a chunk that claims 2 GB in a small file: the file is truncated, the load fails */
    png = png_with(ctx, "iCCP", (const uint8_t *)"x\0\0", 3, 0x7ffffff0u, true, &n);
    back = (pp_image *)1;
    pp_status st = pp_load_mem(ctx, png, n, "huge.png", &back);
    cr_assert_eq(st, PP_ERR_DECODE, "%d: %s", st, pp_ctx_last_error(ctx));
    cr_assert_null(back);
    cr_assert(strstr(pp_ctx_last_error(ctx), "huge.png"));
    free(png);
    /* eXIf that is not TIFF, a gAMA of the wrong size, an sRGB intent of 9: dropped */
    png = png_with(ctx, "eXIf", (const uint8_t *)"not a tiff", 10, 10, true, &n);
    cr_assert_eq(pp_load_mem(ctx, png, n, "exif.png", &back), PP_OK);
    cr_assert_eq(pp_image_meta_count(back), 0);
    pp_image_free(back);
    free(png);
    png = png_with(ctx, "gAMA", (const uint8_t *)"\0\1\2", 3, 3, true, &n);
    cr_assert_eq(pp_load_mem(ctx, png, n, "gama.png", &back), PP_OK);
    cr_assert_eq(pp_image_meta_count(back), 0);
    pp_image_free(back);
    free(png);
    png = png_with(ctx, "sRGB", (const uint8_t *)"\x09", 1, 1, true, &n);
    cr_assert_eq(pp_load_mem(ctx, png, n, "srgb.png", &back), PP_OK);
    cr_assert_eq(pp_image_meta_count(back), 0);
    pp_image_free(back);
    free(png);
    /* eXIf with JPEG's "Exif\0\0" in front: the prefix is removed */
    uint8_t ex[6 + 128];
    memcpy(ex, "Exif\0\0", 6);
    size_t en = make_exif(ex + 6, true, 8, 8, 8);
    png = png_with(ctx, "eXIf", ex, (uint32_t)(6 + en), (uint32_t)(6 + en), true, &n);
    cr_assert_eq(pp_load_mem(ctx, png, n, "prefix.png", &back), PP_OK);
    assert_blob(back, "exif", ex + 6, en, "eXIf with a prefix");
    cr_assert_eq(pp_image_orientation(back), 8);
    pp_image_free(back);
    free(png);
    /* a compressed iTXt XMP is inflated */
    static const char xmp[] = "<x:xmpmeta>compressed</x:xmpmeta>";
    uLongf zn = compressBound(sizeof xmp - 1);
    uint8_t it[256];
    memcpy(it, "XML:com.adobe.xmp\0\1\0\0\0", 22);
    cr_assert_eq(compress2(it + 22, &zn, (const uint8_t *)xmp, sizeof xmp - 1, 9), Z_OK);
    png = png_with(ctx, "iTXt", it, (uint32_t)(22 + zn), (uint32_t)(22 + zn), true, &n);
    cr_assert_eq(pp_load_mem(ctx, png, n, "itxt.png", &back), PP_OK);
    assert_blob(back, "xmp", xmp, sizeof xmp - 1, "compressed iTXt");
    pp_image_free(back);
    free(png);
    free(icc);
    pp_ctx_free(ctx);
}

/* ---- read back by exiftool ---------------------------------------------------------------- */

/* Output of a shell command (asserts it ran), at most cap bytes into buf; returns its length. */
static size_t run(const char *cmd, char *buf, size_t cap)
{
    FILE *p = popen(cmd, "r");
    cr_assert(p, "%s", cmd);
    size_t n = fread(buf, 1, cap - 1, p);
    buf[n] = '\0';
    cr_assert_eq(pclose(p), 0, "%s", cmd);
    return n;
}

Test(meta_exiftool, library_outputs_on_every_backend)
{
    const char *src = getenv("PP_SOURCE_DIR");
    cr_assert(src, "PP_SOURCE_DIR is not set (ctest sets it)");
    char dir[] = "/tmp/pp-meta-XXXXXX";
    cr_assert(mkdtemp(dir));
    char cmd[4096], want_icc[64], want_exif[2][64], got[64];
    /* inputs written by pixpool, metadata added by exiftool */
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *img = th_random_image(ctx, 64, 48, 3, 9);
    snprintf(cmd, sizeof cmd, "%s/in.jpg", dir);
    cr_assert_eq(pp_save(ctx, img, cmd), PP_OK);
    snprintf(cmd, sizeof cmd, "%s/in.png", dir);
    cr_assert_eq(pp_save(ctx, img, cmd), PP_OK);
    pp_image_free(img);
    pp_ctx_free(ctx);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 %s/tests/make_icc.py %s/p.icc --big && exiftool -q "
             "-overwrite_original '-ICC_Profile<=%s/p.icc' -Make=LibTest '-DateTimeOriginal=2023:01:02 "
             "03:04:05' -Orientation#=3 %s/in.jpg %s/in.png && md5sum < %s/p.icc | cut -c1-32",
             src, dir, dir, dir, dir, dir);
    run(cmd, want_icc, sizeof want_icc);
    const char *ins[2] = {"in.jpg", "in.png"}, *outs[2] = {"jpg", "png"};
    for (int i = 0; i < 2; i++) { /* exiftool writes a few tags of its own per format */
        snprintf(cmd, sizeof cmd, "exiftool -b -EXIF %s/%s | md5sum | cut -c1-32", dir, ins[i]);
        run(cmd, want_exif[i], sizeof want_exif[i]);
        cr_assert_str_neq(want_exif[i], "d41d8cd98f00b204e9800998ecf8427e", "no EXIF in %s", ins[i]);
    }
    for (int b = 0; b < 3; b++) {
        ctx = th_ctx(backends[b], 2);
        for (int i = 0; i < 2; i++)
            for (int o = 0; o < 2; o++) {
                snprintf(cmd, sizeof cmd, "%s/%s", dir, ins[i]);
                pp_image *in, *out;
                cr_assert_eq(pp_load(ctx, cmd, &in), PP_OK, "%s", pp_ctx_last_error(ctx));
                cr_assert_eq(pp_apply(ctx, "sharpen", in, &out), PP_OK);
                snprintf(cmd, sizeof cmd, "%s/out-%d-%d.%s", dir, b, i, outs[o]);
                cr_assert_eq(pp_save(ctx, out, cmd), PP_OK, "%s", pp_ctx_last_error(ctx));
                pp_image_free(in);
                pp_image_free(out);
                snprintf(cmd, sizeof cmd,
                         "exiftool -b -ICC_Profile %s/out-%d-%d.%s | md5sum | cut -c1-32", dir,
                         b, i, outs[o]);
                run(cmd, got, sizeof got);
                cr_assert_str_eq(got, want_icc, "ICC of %s -> .%s, backend %d", ins[i], outs[o], b);
                snprintf(cmd, sizeof cmd, "exiftool -b -EXIF %s/out-%d-%d.%s | md5sum | cut -c1-32",
                         dir, b, i, outs[o]);
                run(cmd, got, sizeof got);
                cr_assert_str_eq(got, want_exif[i], "EXIF of %s -> .%s, backend %d", ins[i], outs[o], b);
                snprintf(cmd, sizeof cmd, "exiftool -s3 -n -Make -Orientation %s/out-%d-%d.%s",
                         dir, b, i, outs[o]);
                run(cmd, got, sizeof got);
                cr_assert_str_eq(got, "LibTest\n3\n", "%s -> .%s, backend %d", ins[i], outs[o], b);
            }
        pp_ctx_free(ctx);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

/* ---- PSD image resources ------------------------------------------------------------------ */

pp_status pp_psd_read_meta(pp_ctx *ctx, const char *name, const uint8_t *d, size_t n, pp_meta *m);

/* One resource block: "8BIM", id, a Pascal name padded to even, size, data padded to even. */
static size_t psd_block(uint8_t *o, unsigned id, const char *nm, const void *d, uint32_t n)
{
    size_t p = 0, nl = strlen(nm);
    memcpy(o, "8BIM", 4);
    o[4] = (uint8_t)(id >> 8), o[5] = (uint8_t)id;
    p = 6;
    o[p++] = (uint8_t)nl;
    memcpy(o + p, nm, nl);
    p += nl;
    if ((1 + nl) & 1) o[p++] = 0;
    o[p] = (uint8_t)(n >> 24), o[p + 1] = (uint8_t)(n >> 16), o[p + 2] = (uint8_t)(n >> 8), o[p + 3] = (uint8_t)n;
    p += 4;
    memcpy(o + p, d, n);
    p += n;
    if (n & 1) o[p++] = 0;
    return p;
}

Test(meta_psd, resources_and_hostile_blocks)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    uint8_t *icc = fake_icc(333, "RGB ");
    uint8_t exif[128];
    size_t en = make_exif(exif, false, 5, 4, 4);
    static const uint8_t res[16] = {0, 0x96, 0, 0, 0, 1, 0, 1, 0, 0x96, 0, 0, 0, 1, 0, 1}; /* 150 */
    static uint8_t sec[4096];
    size_t n = 0;
    n += psd_block(sec + n, 0x03ED, "", res, 16);
    n += psd_block(sec + n, 0x0400, "ab", "odd", 3);
    n += psd_block(sec + n, 0x040F, "icc", icc, 333);
    n += psd_block(sec + n, 0x0422, "", exif, (uint32_t)en);
    n += psd_block(sec + n, 0x0424, "", "<x/>", 4);
    pp_meta m = {0};
    cr_assert_eq(pp_psd_read_meta(ctx, "t.psd", sec, n, &m), PP_OK);
    cr_assert_eq(m.count, 4);
    const pp_meta_item *it = pp_meta_find(&m, "icc");
    cr_assert(it && it->size == 333 && memcmp(it->data, icc, 333) == 0);
    it = pp_meta_find(&m, "exif");
    cr_assert(it && it->size == en && pp_exif_orientation(it->data, it->size) == 5);
    it = pp_meta_find(&m, "jfif:density");
    static const uint8_t dpi150[5] = {1, 0, 150, 0, 150};
    cr_assert(it && it->size == 5 && memcmp(it->data, dpi150, 5) == 0);
    pp_meta_clear(&m);
    /* every truncation of the section: no read past it (ASan), a prefix of the blocks kept */
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, sec, cut);
        cr_assert_eq(pp_psd_read_meta(ctx, "t.psd", copy, cut, &m), PP_OK);
        cr_assert_leq(m.count, 4);
        pp_meta_clear(&m);
        free(copy);
    }
    /* a block claiming 2 GB, and a name running past the end */
    uint8_t bad[32];
    size_t bn = psd_block(bad, 0x040F, "", "x", 1);
    bad[8] = 0x7f;
    cr_assert_eq(pp_psd_read_meta(ctx, "t.psd", bad, bn, &m), PP_OK);
    cr_assert_eq(m.count, 0);
    bn = psd_block(bad, 0x0424, "", "x", 1);
    bad[6] = 200;
    cr_assert_eq(pp_psd_read_meta(ctx, "t.psd", bad, bn, &m), PP_OK);
    cr_assert_eq(m.count, 0);
    free(icc);
    pp_ctx_free(ctx);
}
