/*
 * test_tiff.c - TIFF through libtiff (src/codec/tiff.c): files libtiff writes in every layout
 * (tests/tiff_writer.h) decode to the values the documented rules give (1-16-bit grey and
 * MinIsWhite, palettes with 16- and 8-bit colormaps, RGB and alpha of 8 and 16 bits, associated
 * alpha, strips and tiles, planar, big-endian, BigTIFF, every compression, the first page of
 * several, other orientations and CMYK through libtiff's RGBA interface); pixpool's own TIFFs
 * read back through libtiff's low-level API with the tags and bytes expected, for every channel
 * count and compression; hostile and unsupported files fail with a message and print nothing.
 */
#include "helpers.h"
#include "pixpool.h"
#include "tiff_writer.h"

#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { W = 37, H = 23 };

/* A sample value of `bits` bits for pixel (x, y), sample k: varied, covering 0 and the max. */
static unsigned pat(int x, int y, int k, int bits)
{
    unsigned max = (1u << bits) - 1u;
    unsigned v = (unsigned)(x * 2654435761u + y * 40503u + k * 977u) >> 7;
    if (x == 0) return 0;
    if (x == 1) return max;
    return v & max;
}

/* The samples of a W x H image of spp samples of bps bits as tiff_make takes them. */
static uint8_t *samples(const tiff_spec *s)
{
    int planes = s->planar ? s->spp : 1, per = s->planar ? 1 : s->spp;
    size_t prow = ((size_t)s->w * (size_t)per * s->bps + 7) / 8;
    uint8_t *px = calloc((size_t)planes * s->h, prow);
    cr_assert_not_null(px);
    for (int p = 0; p < planes; p++)
        for (uint32_t y = 0; y < s->h; y++) {
            uint8_t *row = px + ((size_t)p * s->h + y) * prow;
            for (uint32_t x = 0; x < s->w; x++)
                for (int j = 0; j < per; j++) {
                    int k = s->planar ? p : j;
                    unsigned v = pat((int)x, (int)y, k, s->bps);
                    size_t i = (size_t)x * (size_t)per + (size_t)j;
                    if (s->bps == 16) {
                        ((uint16_t *)(void *)row)[i] = (uint16_t)v;
                    } else if (s->bps == 8) {
                        row[i] = (uint8_t)v;
                    } else {
                        size_t bit = i * s->bps;
                        row[bit / 8] |= (uint8_t)(v << (8 - s->bps - bit % 8));
                    }
                }
        }
    return px;
}

static unsigned scale8(unsigned v, int bits)
{
    unsigned max = (1u << bits) - 1u;
    return (v * 255u + max / 2u) / max;
}

static pp_image *load(const uint8_t *file, size_t n, pp_status want)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *img = NULL;
    pp_status st = pp_load_mem(ctx, file, n, "t.tif", &img);
    cr_assert_eq(st, want, "pp_load_mem: %d (%s), expected %d", st, pp_ctx_last_error(ctx), want);
    pp_ctx_free(ctx);
    return img;
}

/* The decoded value of channel ch of pixel (x, y) by the documented rules. */
static unsigned expected(const tiff_spec *s, const uint16_t *cmap, bool map8, int x, int y, int ch,
                         int channels)
{
    bool grey = s->photometric == PHOTOMETRIC_MINISBLACK || s->photometric == PHOTOMETRIC_MINISWHITE;
    bool alpha = channels == 2 || channels == 4;
    int nin = grey || s->photometric == PHOTOMETRIC_PALETTE ? 1 : 3; /* colour samples */
    if (alpha && ch == channels - 1) return scale8(pat(x, y, nin, s->bps), s->bps);
    unsigned c;
    if (s->photometric == PHOTOMETRIC_PALETTE) {
        unsigned e = cmap[(unsigned)ch * (1u << s->bps) + pat(x, y, 0, s->bps)];
        c = map8 ? e : scale8(e, 16);
    } else {
        c = scale8(pat(x, y, ch, s->bps), s->bps);
        if (s->photometric == PHOTOMETRIC_MINISWHITE) c = 255 - c;
    }
    if (alpha && s->extra == EXTRASAMPLE_ASSOCALPHA) {
        unsigned a = scale8(pat(x, y, nin, s->bps), s->bps);
        c = a ? (c * 255u + a / 2) / a : 0;
        if (c > 255) c = 255;
    }
    return c;
}

/* The same kept at 16 bits (16-bit grey or RGB read directly). */
static unsigned expected16(const tiff_spec *s, int x, int y, int ch, int channels)
{
    bool grey = s->photometric == PHOTOMETRIC_MINISBLACK || s->photometric == PHOTOMETRIC_MINISWHITE;
    bool alpha = channels == 2 || channels == 4;
    int nin = grey ? 1 : 3;
    if (alpha && ch == channels - 1) return pat(x, y, nin, 16);
    unsigned c = pat(x, y, ch, 16);
    if (s->photometric == PHOTOMETRIC_MINISWHITE) c = 65535 - c;
    if (alpha && s->extra == EXTRASAMPLE_ASSOCALPHA) {
        unsigned a = pat(x, y, nin, 16);
        c = a ? (c * 65535u + a / 2) / a : 0;
        if (c > 65535) c = 65535;
    }
    return c;
}

static void check(const tiff_spec *s, const uint16_t *cmap, bool map8, int channels, const char *what)
{
    uint8_t *px = samples(s);
    size_t n;
    uint8_t *file = tiff_make(s, px, &n);
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image_info info;
    char path[] = "/tmp/pp-tiff-info-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0 && write(fd, file, n) == (ssize_t)n);
    close(fd);
    cr_assert_eq(pp_info(ctx, path, &info), PP_OK, "%s: %s", what, pp_ctx_last_error(ctx));
    unlink(path);
    cr_assert_eq(info.format, PP_FORMAT_TIFF, "%s", what);
    cr_assert_eq(info.channels, channels, "%s: info says %d channels", what, info.channels);
    cr_assert_eq(info.depth, s->bps, "%s", what);
    pp_ctx_free(ctx);
    pp_image *img = load(file, n, PP_OK);
    cr_assert_eq(pp_image_channels(img), channels, "%s: %d channels", what, pp_image_channels(img));
    cr_assert_eq(pp_image_width(img), (int)s->w);
    cr_assert_eq(pp_image_height(img), (int)s->h);
    cr_assert_eq(pp_image_depth(img), info.decoded_depth, "%s", what);
    if (s->bps == 16 && s->photometric != PHOTOMETRIC_PALETTE &&
        s->photometric != PHOTOMETRIC_SEPARATED && s->photometric != PHOTOMETRIC_YCBCR)
        cr_assert_eq(pp_image_depth(img), 16, "%s: 16-bit samples not kept", what);
    if (pp_image_depth(img) == 16) {
        for (int y = 0; y < (int)s->h; y++) {
            const uint16_t *row = (const uint16_t *)(const void *)(pp_image_data(img) +
                                                                  (size_t)y * pp_image_stride(img));
            for (int x = 0; x < (int)s->w; x++)
                for (int k = 0; k < channels; k++) {
                    unsigned want = expected16(s, x, y, k, channels);
                    cr_assert_eq(row[x * channels + k], want,
                                 "%s: (%d,%d) channel %d: %u, expected %u (16 bits)", what, x, y,
                                 k, row[x * channels + k], want);
                }
        }
        pp_image_free(img);
        free(file);
        free(px);
        return;
    }
    for (int y = 0; y < (int)s->h; y++) {
        const uint8_t *row = pp_image_data(img) + (size_t)y * pp_image_stride(img);
        for (int x = 0; x < (int)s->w; x++)
            for (int k = 0; k < channels; k++) {
                unsigned want = expected(s, cmap, map8, x, y, k, channels);
                cr_assert_eq(row[x * channels + k], want, "%s: (%d,%d) channel %d: %u, expected %u",
                             what, x, y, k, row[x * channels + k], want);
            }
    }
    pp_image_free(img);
    free(file);
    free(px);
}

static const uint16_t comps[] = {COMPRESSION_NONE, COMPRESSION_LZW, COMPRESSION_ADOBE_DEFLATE,
                                 COMPRESSION_PACKBITS};

Test(tiff_read, grey_of_every_depth)
{
    static const int bits[] = {1, 2, 4, 8, 16};
    for (int i = 0; i < 5; i++)
        for (int white = 0; white < 2; white++)
            for (int c = 0; c < 4; c++) {
                tiff_spec s = {.w = W, .h = H, .spp = 1, .bps = (uint16_t)bits[i],
                               .photometric = white ? PHOTOMETRIC_MINISWHITE : PHOTOMETRIC_MINISBLACK,
                               .compression = comps[c], .rows_per_strip = 5};
                char what[64];
                snprintf(what, sizeof what, "grey %d-bit white=%d comp %d", bits[i], white, comps[c]);
                check(&s, NULL, false, 1, what);
            }
}

Test(tiff_read, palettes)
{
    static const int bits[] = {1, 2, 4, 8};
    uint16_t cmap[3 * 256];
    for (int map8 = 0; map8 < 2; map8++)
        for (int i = 0; i < 4; i++) {
            int n = 1 << bits[i];
            for (int k = 0; k < 3; k++)
                for (int e = 0; e < n; e++)
                    cmap[k * n + e] = map8 ? (uint16_t)((e * 37 + k * 91) & 255)
                                           : (uint16_t)(e * 9311u + k * 20011u + 300u);
            tiff_spec s = {.w = W, .h = H, .spp = 1, .bps = (uint16_t)bits[i],
                           .photometric = PHOTOMETRIC_PALETTE, .colormap = cmap,
                           .compression = comps[i], .rows_per_strip = 4};
            char what[64];
            snprintf(what, sizeof what, "palette %d-bit map8=%d", bits[i], map8);
            check(&s, cmap, map8 != 0, 3, what);
        }
}

Test(tiff_read, rgb_and_alpha_layouts)
{
    for (int bps = 8; bps <= 16; bps += 8)
        for (int spp = 2; spp <= 4; spp++)
            for (int layout = 0; layout < 4; layout++) { /* strips, tiles, planar, planar tiles */
                bool grey = spp == 2;
                tiff_spec s = {.w = W, .h = H, .spp = (uint16_t)spp, .bps = (uint16_t)bps,
                               .photometric = grey ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_RGB,
                               .planar = layout >= 2, .tile = layout % 2 ? 16 : 0,
                               .rows_per_strip = 7, .compression = comps[(spp + layout) % 4],
                               .predictor = (spp + layout) % 4 == 1 ? PREDICTOR_HORIZONTAL : 0,
                               .extra = spp == 3 ? 0 : EXTRASAMPLE_UNASSALPHA};
                char what[80];
                snprintf(what, sizeof what, "%d-bit spp %d layout %d", bps, spp, layout);
                check(&s, NULL, false, grey ? 2 : spp, what);
            }
    /* associated alpha becomes straight alpha */
    tiff_spec s = {.w = W, .h = H, .spp = 4, .bps = 8, .photometric = PHOTOMETRIC_RGB,
                   .extra = EXTRASAMPLE_ASSOCALPHA};
    check(&s, NULL, false, 4, "associated alpha");
    /* RGB with an unspecified 4th sample: taken as alpha (as libvips does) */
    s.extra = EXTRASAMPLE_UNSPECIFIED;
    check(&s, NULL, false, 4, "unspecified extra sample");
    /* big-endian 16-bit, BigTIFF, three pages (the first is read) */
    tiff_spec b = {.w = W, .h = H, .spp = 3, .bps = 16, .photometric = PHOTOMETRIC_RGB,
                   .big_endian = true, .bigtiff = true, .pages = 3, .compression = COMPRESSION_LZW};
    check(&b, NULL, false, 3, "big-endian BigTIFF of 3 pages");
}

/* Another orientation goes through libtiff's RGBA interface, which turns the image upright. */
Test(tiff_read, orientation_bottom_left)
{
    tiff_spec s = {.w = W, .h = H, .spp = 3, .bps = 8, .photometric = PHOTOMETRIC_RGB,
                   .orientation = ORIENTATION_BOTLEFT};
    uint8_t *px = samples(&s);
    size_t n;
    uint8_t *file = tiff_make(&s, px, &n);
    pp_image *img = load(file, n, PP_OK);
    cr_assert_eq(pp_image_channels(img), 3);
    for (int y = 0; y < H; y++)
        cr_assert_eq(memcmp(pp_image_data(img) + (size_t)y * pp_image_stride(img),
                            px + (size_t)(H - 1 - y) * W * 3, W * 3), 0, "row %d", y);
    pp_image_free(img);
    free(file);
    free(px);
}

/* CMYK (separated) through libtiff's RGBA interface: the corners of the cube are exact. */
Test(tiff_read, cmyk)
{
    static const uint8_t cmyk[4][4] = {{0, 0, 0, 0}, {255, 0, 0, 0}, {0, 0, 0, 255}, {0, 255, 0, 0}};
    static const uint8_t rgb[4][3] = {{255, 255, 255}, {0, 255, 255}, {0, 0, 0}, {255, 0, 255}};
    tiff_spec s = {.w = 4, .h = 1, .spp = 4, .bps = 8, .photometric = PHOTOMETRIC_SEPARATED};
    size_t n;
    uint8_t *file = tiff_make(&s, cmyk, &n);
    pp_image *img = load(file, n, PP_OK);
    cr_assert_eq(pp_image_channels(img), 3);
    cr_assert_eq(memcmp(pp_image_data(img), rgb, 12), 0);
    pp_image_free(img);
    free(file);
}

/* ---- pixpool's TIFFs, read back by libtiff ------------------------------------------------ */

typedef struct tiff_mem {
    const uint8_t *d;
    size_t n, pos;
} tiff_mem;

static tmsize_t m_read(thandle_t h, void *b, tmsize_t s)
{
    tiff_mem *m = h;
    size_t k = m->n - m->pos < (size_t)s ? m->n - m->pos : (size_t)s;
    memcpy(b, m->d + m->pos, k);
    m->pos += k;
    return (tmsize_t)k;
}
static tmsize_t m_write(thandle_t h, void *b, tmsize_t s)
{
    (void)h, (void)b, (void)s;
    return -1;
}
static toff_t m_seek(thandle_t h, toff_t o, int w)
{
    tiff_mem *m = h;
    m->pos = (size_t)(w == SEEK_SET ? o : w == SEEK_CUR ? m->pos + o : m->n + o);
    return m->pos;
}
static int m_close(thandle_t h)
{
    (void)h;
    return 0;
}
static toff_t m_size(thandle_t h) { return ((tiff_mem *)h)->n; }

Test(tiff_write, libtiff_reads_every_channel_count_and_compression)
{
    static const pp_tiff_compression modes[] = {PP_TIFF_NONE, PP_TIFF_LZW, PP_TIFF_DEFLATE,
                                                PP_TIFF_PACKBITS};
    static const int sizes[][2] = {{1, 1}, {7, 3}, {301, 97}, {1000, 300}};
    for (int c = 1; c <= 4; c++)
        for (int m = 0; m < 4; m++)
            for (int z = 0; z < 4; z++) {
                int w = sizes[z][0], h = sizes[z][1];
                pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
                cr_assert_eq(pp_ctx_set_tiff_compression(ctx, modes[m]), PP_OK);
                pp_image *img;
                cr_assert_eq(pp_image_new(ctx, w, h, c, &img), PP_OK);
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w * c; x++)
                        pp_image_data(img)[(size_t)y * pp_image_stride(img) + x] =
                            (uint8_t)(y / 4 % 3 ? (unsigned)(x * 7 + y) : (x * 2654435761u) >> 13);
                void *buf;
                size_t n;
                cr_assert_eq(pp_save_mem(ctx, img, PP_FORMAT_TIFF, &buf, &n), PP_OK, "%s",
                             pp_ctx_last_error(ctx));
                tiff_mem mem = {buf, n, 0};
                TIFF *t = TIFFClientOpen("x.tif", "rm", &mem, m_read, m_write, m_seek, m_close,
                                         m_size, NULL, NULL);
                cr_assert_not_null(t);
                uint32_t tw, th;
                uint16_t spp, bps, photo, comp, pred = 1, planar, nextra = 0, *extra = NULL;
                TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &tw);
                TIFFGetField(t, TIFFTAG_IMAGELENGTH, &th);
                TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
                TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
                TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo);
                TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &comp);
                if (m == 1 || m == 2) TIFFGetFieldDefaulted(t, TIFFTAG_PREDICTOR, &pred);
                TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
                TIFFGetFieldDefaulted(t, TIFFTAG_EXTRASAMPLES, &nextra, &extra);
                cr_assert(tw == (uint32_t)w && th == (uint32_t)h && spp == c && bps == 8);
                cr_assert_eq(photo, c <= 2 ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_RGB);
                cr_assert_eq(planar, PLANARCONFIG_CONTIG);
                cr_assert_eq(comp, comps[m]);
                if (m == 1 || m == 2) cr_assert_eq(pred, PREDICTOR_HORIZONTAL);
                cr_assert_eq(nextra, c % 2 == 0 ? 1 : 0);
                if (nextra) cr_assert_eq(extra[0], EXTRASAMPLE_UNASSALPHA);
                uint8_t *row = malloc((size_t)w * c);
                for (int y = 0; y < h; y++) {
                    cr_assert_eq(TIFFReadScanline(t, row, (uint32_t)y, 0), 1);
                    cr_assert_eq(memcmp(row, pp_image_data(img) + (size_t)y * pp_image_stride(img),
                                        (size_t)w * c), 0, "c%d mode %d %dx%d row %d", c, m, w, h, y);
                }
                free(row);
                TIFFClose(t);
                pp_image *back = load(buf, n, PP_OK);
                cr_assert(th_same(img, back));
                pp_image_free(back);
                free(buf);
                pp_image_free(img);
                pp_ctx_free(ctx);
            }
}

/* ---- hostile and unsupported files -------------------------------------------------------- */

/* Runs pp_load_mem with stderr redirected to a file; returns what was printed there. */
static pp_status quiet_load(pp_ctx *ctx, const uint8_t *d, size_t n, size_t *printed)
{
    fflush(stderr);
    int saved = dup(2);
    char path[] = "/tmp/pp-tiff-err-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    pp_image *img = NULL;
    pp_status st = pp_load_mem(ctx, d, n, "bad.tif", &img);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    *printed = (size_t)lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(path);
    cr_assert_null(img);
    return st;
}

Test(tiff_hostile, truncated_corrupt_huge_and_unsupported)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    tiff_spec s = {.w = 200, .h = 100, .spp = 3, .bps = 8, .photometric = PHOTOMETRIC_RGB,
                   .compression = COMPRESSION_ADOBE_DEFLATE, .rows_per_strip = 10};
    uint8_t *px = samples(&s);
    size_t n, printed;
    uint8_t *file = tiff_make(&s, px, &n);
    /* the strips cut off: the directory (at the end) is gone */
    for (size_t cut = 8; cut < n; cut += n / 7) {
        pp_status st = quiet_load(ctx, file, cut, &printed);
        cr_assert(st == PP_ERR_DECODE, "cut at %zu: %d", cut, st);
        cr_assert_eq(printed, 0, "libtiff printed %zu bytes", printed);
        cr_assert(strstr(pp_ctx_last_error(ctx), "bad.tif"), "%s", pp_ctx_last_error(ctx));
    }
    /* damaged compressed data: every byte of the strips flipped */
    uint8_t *bad = malloc(n);
    memcpy(bad, file, n);
    for (size_t i = 16; i < n / 2; i++) bad[i] ^= 0x5a;
    cr_assert_eq(quiet_load(ctx, bad, n, &printed), PP_ERR_DECODE);
    cr_assert_eq(printed, 0);
    free(bad);
    free(file);
    free(px);

    /* a header that claims 2^30 x 2^30 pixels: refused by the pixel limit, nothing allocated */
    static const uint8_t huge[] = {
        'I', 'I', 42, 0, 8, 0, 0, 0, 6, 0,                 /* header, 6 entries */
        0x00, 0x01, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0x40,      /* width 2^30 */
        0x01, 0x01, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0x40,      /* length 2^30 */
        0x02, 0x01, 3, 0, 1, 0, 0, 0, 8, 0, 0, 0,         /* 8 bits */
        0x06, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0,         /* min-is-black */
        0x11, 0x01, 4, 0, 1, 0, 0, 0, 200, 0, 0, 0,       /* strip offset */
        0x17, 0x01, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0x40,      /* strip bytes */
        0, 0, 0, 0};
    cr_assert_eq(quiet_load(ctx, huge, sizeof huge, &printed), PP_ERR_LIMIT, "%s",
                 pp_ctx_last_error(ctx));
    cr_assert_eq(printed, 0);

    /* floating-point samples: a clear refusal */
    float fpx[4] = {0.f, 0.5f, 1.f, 0.25f};
    char path[] = "/tmp/pp-tiff-f-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    TIFF *t = TIFFOpen(path, "w");
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 4);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, 1);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 32);
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_IEEEFP);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFWriteScanline(t, fpx, 0, 0);
    TIFFClose(t);
    pp_image *img = NULL;
    cr_assert_eq(pp_load(ctx, path, &img), PP_ERR_DECODE);
    cr_assert(strstr(pp_ctx_last_error(ctx), "floating-point"), "%s", pp_ctx_last_error(ctx));
    unlink(path);
    pp_ctx_free(ctx);
}

/* The image and libtiff's strip buffer count against the memory limit. */
Test(tiff_hostile, memory_limit)
{
    tiff_spec s = {.w = 1000, .h = 1000, .spp = 3, .bps = 8, .photometric = PHOTOMETRIC_RGB,
                   .rows_per_strip = 100};
    uint8_t *px = calloc(1000 * 1000, 3);
    size_t n;
    uint8_t *file = tiff_make(&s, px, &n);
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    cr_assert_eq(pp_ctx_set_max_memory(ctx, 1u << 20), PP_OK);
    size_t printed;
    cr_assert_eq(quiet_load(ctx, file, n, &printed), PP_ERR_LIMIT, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(printed, 0);
    pp_ctx_free(ctx);
    free(file);
    free(px);
}

/* ---- metadata ------------------------------------------------------------------------------ */

/* The ICC profile, XMP and density are TIFF tags both ways: libtiff reads pixpool's tags, and
   pixpool reads them back as the same blobs; PNG's pHYs (dots per metre) becomes dots per cm. */
Test(tiff_meta, icc_xmp_and_density_round_trip)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *img;
    cr_assert_eq(pp_image_new(ctx, 9, 5, 3, &img), PP_OK);
    memset(pp_image_data(img), 90, (size_t)pp_image_stride(img) * 5);
    uint8_t icc[300] = {0};
    icc[3] = 44, icc[2] = 1; /* 300 bytes */
    memcpy(icc + 16, "RGB ", 4);
    memcpy(icc + 20, "XYZ ", 4);
    memcpy(icc + 36, "acsp", 4);
    for (int i = 128; i < 300; i++) icc[i] = (uint8_t)i;
    static const char xmp[] = "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF/></x:xmpmeta>";
    static const uint8_t dpi[5] = {1, 0x01, 0x2c, 0x00, 0x96}; /* 300 x 150 per inch */
    cr_assert_eq(pp_image_set_meta(ctx, img, "icc", icc, sizeof icc), PP_OK);
    cr_assert_eq(pp_image_set_meta(ctx, img, "xmp", xmp, sizeof xmp - 1), PP_OK);
    cr_assert_eq(pp_image_set_meta(ctx, img, "jfif:density", dpi, 5), PP_OK);
    void *buf;
    size_t n;
    cr_assert_eq(pp_save_mem(ctx, img, PP_FORMAT_TIFF, &buf, &n), PP_OK, "%s", pp_ctx_last_error(ctx));
    tiff_mem mem = {buf, n, 0};
    TIFF *t = TIFFClientOpen("m.tif", "rm", &mem, m_read, m_write, m_seek, m_close, m_size, NULL, NULL);
    cr_assert_not_null(t);
    uint32_t cn = 0, xn = 0;
    void *cp = NULL, *xp = NULL;
    float xr = 0, yr = 0;
    uint16_t unit = 0;
    cr_assert(TIFFGetField(t, TIFFTAG_ICCPROFILE, &cn, &cp) && cn == sizeof icc && !memcmp(cp, icc, cn));
    cr_assert(TIFFGetField(t, TIFFTAG_XMLPACKET, &xn, &xp) && xn == sizeof xmp - 1 && !memcmp(xp, xmp, xn));
    cr_assert(TIFFGetField(t, TIFFTAG_XRESOLUTION, &xr) && TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr));
    TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
    cr_assert(xr == 300.f && yr == 150.f && unit == RESUNIT_INCH, "%g x %g unit %u", xr, yr, unit);
    TIFFClose(t);
    pp_image *back = load(buf, n, PP_OK);
    size_t sz;
    const void *got = pp_image_meta(back, "icc", &sz);
    cr_assert(got && sz == sizeof icc && !memcmp(got, icc, sz));
    got = pp_image_meta(back, "xmp", &sz);
    cr_assert(got && sz == sizeof xmp - 1 && !memcmp(got, xmp, sz));
    got = pp_image_meta(back, "jfif:density", &sz);
    cr_assert(got && sz == 5 && !memcmp(got, dpi, 5));
    pp_image_free(back);
    free(buf);
    /* 11811 dots per metre (pHYs) is 118.11 per cm: not a whole number, written per cm */
    cr_assert_eq(pp_image_remove_meta(img, "jfif:density"), 1);
    static const uint8_t phys[9] = {0, 0, 0x2e, 0x23, 0, 0, 0x2e, 0x23, 1};
    cr_assert_eq(pp_image_set_meta(ctx, img, "png:pHYs", phys, 9), PP_OK);
    cr_assert_eq(pp_save_mem(ctx, img, PP_FORMAT_TIFF, &buf, &n), PP_OK);
    mem = (tiff_mem){buf, n, 0};
    t = TIFFClientOpen("m.tif", "rm", &mem, m_read, m_write, m_seek, m_close, m_size, NULL, NULL);
    cr_assert(TIFFGetField(t, TIFFTAG_XRESOLUTION, &xr));
    TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
    TIFFClose(t);
    cr_assert(unit == RESUNIT_INCH ? xr == 300.f : (unit == RESUNIT_CENTIMETER && xr > 118.10f && xr < 118.12f),
              "%g unit %u", xr, unit);
    free(buf);
    pp_image_free(img);
    pp_ctx_free(ctx);
}

/* pp_save writes the TIFF straight into the output file (libtiff seeks in it): the same bytes as
   pp_save_mem builds in memory, for one strip and for many, and with a directory larger than the
   stdio buffer (a 100 KB ICC profile). */
Test(tiff_write, file_and_memory_give_the_same_bytes)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    cr_assert_eq(pp_ctx_set_tiff_compression(ctx, PP_TIFF_LZW), PP_OK);
    static const int sizes[][2] = {{5, 3}, {700, 500}};
    for (int z = 0; z < 2; z++) {
        pp_image *img = th_random_image(ctx, sizes[z][0], sizes[z][1], 3, 9);
        if (z == 1) {
            size_t n = 100000;
            uint8_t *icc = calloc(1, n);
            icc[1] = (uint8_t)(n >> 16), icc[2] = (uint8_t)(n >> 8), icc[3] = (uint8_t)n;
            memcpy(icc + 16, "RGB ", 4);
            memcpy(icc + 36, "acsp", 4);
            cr_assert_eq(pp_image_set_meta(ctx, img, "icc", icc, n), PP_OK);
            free(icc);
        }
        void *mem;
        size_t mn;
        cr_assert_eq(pp_save_mem(ctx, img, PP_FORMAT_TIFF, &mem, &mn), PP_OK, "%s", pp_ctx_last_error(ctx));
        char dir[] = "/tmp/pp-tiff-save-XXXXXX", path[64];
        cr_assert_not_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/out.tif", dir);
        cr_assert_eq(pp_save(ctx, img, path), PP_OK, "%s", pp_ctx_last_error(ctx));
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f);
        uint8_t *disk = malloc(mn + 1);
        size_t dn = fread(disk, 1, mn + 1, f);
        fclose(f);
        cr_assert_eq(dn, mn, "file %zu bytes, memory %zu", dn, mn);
        cr_assert_eq(memcmp(disk, mem, mn), 0, "file and memory differ");
        unlink(path);
        rmdir(dir);
        free(disk);
        free(mem);
        pp_image_free(img);
    }
    pp_ctx_free(ctx);
}
