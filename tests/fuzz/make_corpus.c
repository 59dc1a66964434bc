/*
 * make_corpus.c - writes the seed corpus of the fuzz targets (generated at build/CI time, never
 * committed): small valid files of every format pixpool reads, spec strings from the registry
 * and encoded pipelines.
 *
 * usage: make_corpus DIR   creates DIR/load, DIR/spec, DIR/pipeline (seeds of fuzz_load,
 * fuzz_spec and fuzz_pipeline) and DIR/spec.dict (a libFuzzer dictionary for fuzz_spec: filter
 * and parameter names, choices, separators).
 *
 * Images are tiny (a few pixels to 17x9) so that each mutation decodes fast. PNG comes in every
 * colour type and bit depth (written with libpng directly: palettes, tRNS, 1-16 bits, Adam7);
 * JPEG, BMP (24/32 bits) and TGA (RLE) come from pixpool's own encoders at several qualities
 * and channel counts (JPEG also progressive, optimised, 4:2:2); JPEG that pixpool does not write
 * comes from libjpeg directly (CMYK and YCCK with and without the Adobe marker, restart markers,
 * arithmetic coding, components in separate scans, 4:1:1); TIFF from pixpool's encoder (every
 * compression) and from libtiff directly (1-bit and MinIsWhite grey, palettes, 16-bit planar
 * tiles, associated alpha, CMYK, big-endian, BigTIFF, another orientation, two pages); paletted and RLE8 BMP, uncompressed and colour-mapped TGA, GIF (87a and
 * 89a: transparency, interlace, local palette), PSD (raw and RLE, 8 and 16 bits), HDR (flat and
 * run-length) and PNM (P1-P6, several maxvals) are written here byte by byte. Metadata seeds
 * (meta-*): JPEG and PNG with EXIF of every orientation (one with an IFD loop), XMP, pHYs, an
 * ICC profile (in one JPEG two APP2 chunks), PNG gAMA/cHRM/sRGB.
 */
#include "pixpool.h"

#include "../jpeg_writer.h"
#include "../tiff_writer.h"

#include <png.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *root;
static int nfiles;

/* ---- output ------------------------------------------------------------------------------ */

static void die(const char *what)
{
    fprintf(stderr, "make_corpus: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void write_file(const char *sub, const char *name, const void *data, size_t size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", root, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f) die(path);
    if ((size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) die(path);
    nfiles++;
}

/* A growing byte buffer. */
typedef struct bytes {
    uint8_t *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np) die("out of memory");
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}
static void put8(bytes *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    put(b, &x, 1);
}
static void put16le(bytes *b, unsigned v) { put8(b, v & 255), put8(b, v >> 8 & 255); }
static void put32le(bytes *b, uint32_t v) { put16le(b, v & 0xffff), put16le(b, v >> 16); }
static void put16be(bytes *b, unsigned v) { put8(b, v >> 8 & 255), put8(b, v & 255); }
static void put32be(bytes *b, uint32_t v) { put16be(b, v >> 16), put16be(b, v & 0xffff); }
static void puts_(bytes *b, const char *s) { put(b, s, strlen(s)); }

static void emit(const char *sub, const char *name, bytes *b)
{
    write_file(sub, name, b->p, b->n);
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* A deterministic test pattern value for (x, y, channel). */
static unsigned pattern(int x, int y, int k) { return (unsigned)(x * 40 + y * 23 + k * 71 + x * y * 7) & 255u; }

/* ---- PNG (libpng) ------------------------------------------------------------------------- */

static void png_put(png_structp png, png_bytep p, size_t n) { put(png_get_io_ptr(png), p, n); }
static void png_flush(png_structp png) { (void)png; }

static void make_png(int w, int h, int depth, int ctype, int interlace, int trns)
{
    bytes out = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) die("libpng");
    int spp = ctype == PNG_COLOR_TYPE_GRAY || ctype == PNG_COLOR_TYPE_PALETTE ? 1
              : ctype == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : ctype == PNG_COLOR_TYPE_RGB ? 3 : 4;
    size_t rowbytes = ((size_t)w * spp * depth + 7) / 8;
    uint8_t *img = calloc((size_t)h, rowbytes);
    png_bytep *rows = calloc((size_t)h, sizeof *rows);
    if (!img || !rows) die("out of memory");
    if (setjmp(png_jmpbuf(png))) die("libpng write");
    png_set_write_fn(png, &out, png_put, png_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ctype, interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (ctype == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[16];
        int n = 1 << (depth > 4 ? 4 : depth);
        for (int i = 0; i < n; i++) pal[i] = (png_color){(png_byte)(i * 16), (png_byte)(255 - i * 9), (png_byte)(i * 5)};
        png_set_PLTE(png, info, pal, n);
        if (trns) {
            png_byte a[3] = {0, 128, 255};
            png_set_tRNS(png, info, a, n < 3 ? n : 3, NULL);
        }
    } else if (trns) {
        png_color_16 t = {0, 1, 2, 3, 1};
        png_set_tRNS(png, info, NULL, 0, &t);
    }
    png_set_gAMA(png, info, 0.45455);
    png_text text = {PNG_TEXT_COMPRESSION_NONE, "Comment", "pixpool fuzz seed", 0, 0, 0, 0};
    png_set_text(png, info, &text, 1);
    unsigned maxv = (1u << depth) - 1u;
    int maxpal = ctype == PNG_COLOR_TYPE_PALETTE ? (1 << (depth > 4 ? 4 : depth)) - 1 : 0;
    for (int y = 0; y < h; y++) {
        rows[y] = img + (size_t)y * rowbytes;
        for (int x = 0; x < w; x++)
            for (int k = 0; k < spp; k++) {
                unsigned v = pattern(x, y, k) * 257u;
                if (depth < 16) v = ctype == PNG_COLOR_TYPE_PALETTE
                                        ? pattern(x, y, k) % (unsigned)(maxpal + 1)
                                        : (v >> (16 - depth)) & maxv;
                size_t bit = ((size_t)x * spp + k) * depth;
                if (depth == 16) {
                    rows[y][bit / 8] = (uint8_t)(v >> 8);
                    rows[y][bit / 8 + 1] = (uint8_t)v;
                } else {
                    rows[y][bit / 8] |= (uint8_t)(v << (8 - depth - bit % 8));
                }
            }
    }
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(img);
    free(rows);
    char name[64];
    snprintf(name, sizeof name, "png-%dx%d-t%d-d%d-i%d%s.png", w, h, ctype, depth, interlace,
             trns ? "-trns" : "");
    emit("load", name, &out);
}

static void pngs(void)
{
    static const struct { int ctype, depths[5]; } kinds[] = {
        {PNG_COLOR_TYPE_GRAY, {1, 2, 4, 8, 16}},      {PNG_COLOR_TYPE_GRAY_ALPHA, {8, 16}},
        {PNG_COLOR_TYPE_RGB, {8, 16}},                {PNG_COLOR_TYPE_RGB_ALPHA, {8, 16}},
        {PNG_COLOR_TYPE_PALETTE, {1, 2, 4, 8}},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        for (int d = 0; d < 5 && kinds[i].depths[d]; d++) {
            int depth = kinds[i].depths[d], ct = kinds[i].ctype;
            make_png(5, 3, depth, ct, PNG_INTERLACE_NONE, 0);
            if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_RGB || ct == PNG_COLOR_TYPE_PALETTE)
                make_png(4, 2, depth, ct, PNG_INTERLACE_NONE, 1);
        }
    make_png(9, 7, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7, 0);
    make_png(3, 9, 16, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_ADAM7, 0);
    make_png(1, 1, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, 0);
}

/* ---- pixpool's own encoders: PNG, JPEG, BMP, TGA ------------------------------------------ */

static void encoded(void)
{
    pp_ctx *ctx = pp_ctx_new();
    if (!ctx) die("pp_ctx_new");
    pp_ctx_set_backend(ctx, PP_BACKEND_SERIAL);
    static const struct { int w, h; } sizes[] = {{8, 8}, {17, 9}, {1, 5}};
    static const pp_format fmts[] = {PP_FORMAT_PNG, PP_FORMAT_JPEG, PP_FORMAT_BMP, PP_FORMAT_TGA,
                                     PP_FORMAT_TIFF};
    for (size_t s = 0; s < 3; s++)
        for (int c = 1; c <= 4; c++) {
            pp_image *img = NULL;
            if (pp_image_new(ctx, sizes[s].w, sizes[s].h, c, &img)) die("pp_image_new");
            for (int y = 0; y < sizes[s].h; y++)
                for (int x = 0; x < sizes[s].w; x++)
                    for (int k = 0; k < c; k++)
                        pp_image_data(img)[(size_t)y * pp_image_stride(img) + (size_t)x * c + k] =
                            (uint8_t)pattern(x, y, k);
            for (size_t f = 0; f < 5; f++)
                for (int q = 0; q < (fmts[f] == PP_FORMAT_JPEG ? 5 : fmts[f] == PP_FORMAT_TIFF ? 4 : 1); q++) {
                    /* JPEG: 4:4:4, 4:4:4, 4:2:0, then progressive and optimised 4:2:2 */
                    static const int quality[5] = {90, 100, 20, 75, 60};
                    pp_ctx_set_jpeg_quality(ctx, quality[q]);
                    pp_ctx_set_jpeg_subsample(ctx, q >= 3 ? PP_SUBSAMPLE_422 : PP_SUBSAMPLE_AUTO);
                    pp_ctx_set_jpeg_progressive(ctx, q == 3);
                    pp_ctx_set_jpeg_optimize(ctx, q == 4);
                    pp_ctx_set_tiff_compression(ctx, (pp_tiff_compression)q); /* TIFF: q 0..3 */
                    void *buf;
                    size_t size;
                    if (pp_save_mem(ctx, img, fmts[f], &buf, &size)) die(pp_ctx_last_error(ctx));
                    char name[64];
                    snprintf(name, sizeof name, "pp-%dx%dx%d-q%d%s.%s", sizes[s].w, sizes[s].h, c,
                             quality[q], q == 3 ? "-prog" : q == 4 ? "-opt" : "",
                             pp_format_name(fmts[f]));
                    write_file("load", name, buf, size);
                    free(buf);
                }
            pp_image_free(img);
        }
    pp_ctx_free(ctx);
}

/* ---- TIFF through libtiff: layouts pixpool's encoder does not write ----------------------- */

static void tiff_seed(const char *name, tiff_spec s)
{
    uint8_t px[4 * 16 * 16 * 2 * 2] = {0};
    size_t row = ((size_t)s.w * (s.planar ? 1u : s.spp) * s.bps + 7) / 8;
    size_t planes = s.planar ? s.spp : 1;
    if (planes * s.h * row > sizeof px) die("tiff_seed: too large");
    for (size_t i = 0; i < planes * s.h * row; i++) px[i] = (uint8_t)pattern((int)i, (int)(i / 7), 1);
    size_t n;
    uint8_t *file = tiff_make(&s, px, &n);
    write_file("load", name, file, n);
    free(file);
}

static void tiffs(void)
{
    uint16_t cmap[3 * 16];
    for (int i = 0; i < 48; i++) cmap[i] = (uint16_t)(i * 1361);
    tiff_seed("grey1.tif", (tiff_spec){.w = 13, .h = 5, .spp = 1, .bps = 1,
                                       .photometric = PHOTOMETRIC_MINISWHITE, .compression = COMPRESSION_PACKBITS});
    tiff_seed("pal4.tif", (tiff_spec){.w = 9, .h = 7, .spp = 1, .bps = 4, .photometric = PHOTOMETRIC_PALETTE,
                                      .colormap = cmap, .compression = COMPRESSION_LZW, .rows_per_strip = 2});
    tiff_seed("rgb16-tiles.tif", (tiff_spec){.w = 17, .h = 9, .spp = 3, .bps = 16, .photometric = PHOTOMETRIC_RGB,
                                             .planar = true, .tile = 16, .compression = COMPRESSION_ADOBE_DEFLATE,
                                             .predictor = PREDICTOR_HORIZONTAL});
    tiff_seed("rgba-assoc.tif", (tiff_spec){.w = 8, .h = 8, .spp = 4, .bps = 8, .photometric = PHOTOMETRIC_RGB,
                                            .extra = EXTRASAMPLE_ASSOCALPHA, .rows_per_strip = 3});
    tiff_seed("ga16-be.tif", (tiff_spec){.w = 7, .h = 6, .spp = 2, .bps = 16, .photometric = PHOTOMETRIC_MINISBLACK,
                                         .extra = EXTRASAMPLE_UNASSALPHA, .big_endian = true, .bigtiff = true,
                                         .compression = COMPRESSION_LZW});
    tiff_seed("cmyk.tif", (tiff_spec){.w = 6, .h = 4, .spp = 4, .bps = 8, .photometric = PHOTOMETRIC_SEPARATED});
    tiff_seed("botleft-2pages.tif", (tiff_spec){.w = 5, .h = 7, .spp = 3, .bps = 8, .photometric = PHOTOMETRIC_RGB,
                                                .orientation = ORIENTATION_BOTLEFT, .pages = 2});
}

/* ---- metadata: ICC (two JPEG APP2 chunks in one seed), EXIF, XMP, PNG colour chunks -------- */

/* A TIFF stream with Orientation o, ImageWidth, and an Exif IFD (PixelX/YDimension); with
   `loop`, the Exif IFD and the next-IFD pointer lead back to IFD0. Returns its size. */
static size_t exif_seed(uint8_t *d, int o, int loop)
{
    bytes b = {0};
    puts_(&b, "MM");
    put16be(&b, 42);
    put32be(&b, 8);
    put16be(&b, 3); /* IFD0 at 8 */
    put16be(&b, 0x0100), put16be(&b, 3), put32be(&b, 1), put16be(&b, 8), put16be(&b, 0);
    put16be(&b, 0x0112), put16be(&b, 3), put32be(&b, 1), put16be(&b, (unsigned)o), put16be(&b, 0);
    put16be(&b, 0x8769), put16be(&b, 4), put32be(&b, 1), put32be(&b, loop ? 8 : 50);
    put32be(&b, loop ? 8 : 0); /* next IFD; 50 follows */
    put16be(&b, 2);
    put16be(&b, 0xA002), put16be(&b, 3), put32be(&b, 1), put16be(&b, 8), put16be(&b, 0);
    put16be(&b, 0xA003), put16be(&b, 4), put32be(&b, 1), put32be(&b, 8);
    put32be(&b, 0);
    memcpy(d, b.p, b.n);
    size_t n = b.n;
    free(b.p);
    return n;
}

static void meta_seeds(void)
{
    pp_ctx *ctx = pp_ctx_new();
    if (!ctx) die("pp_ctx_new");
    pp_ctx_set_backend(ctx, PP_BACKEND_SERIAL);
    size_t icc_n = 65600; /* just over one APP2 chunk */
    uint8_t *icc = calloc(1, icc_n);
    if (!icc) die("calloc");
    icc[1] = (uint8_t)(icc_n >> 16), icc[2] = (uint8_t)(icc_n >> 8), icc[3] = (uint8_t)icc_n;
    memcpy(icc + 16, "RGB ", 4);
    memcpy(icc + 20, "XYZ ", 4);
    memcpy(icc + 36, "acsp", 4);
    static const uint8_t gama[4] = {0, 0, 0xb1, 0x8f}, srgb[1] = {0};
    static const uint8_t phys[9] = {0, 0, 0x2e, 0x23, 0, 0, 0x2e, 0x23, 1};
    static const uint8_t chrm[32] = {0, 0, 0x7a, 0x25, 0, 0, 0x80, 0x83, 0, 0, 0xf9, 0xff, 0, 0,
                                     0x80, 0xe9, 0, 0, 0x75, 0x30, 0, 0, 0xea, 0x60, 0, 0, 0x3a,
                                     0x98, 0, 0, 0x17, 0x70};
    static const char xmp[] = "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF/></x:xmpmeta>";
    uint8_t exif[128];
    for (int o = 1; o <= 9; o++) { /* orientations 1-8, and 8 with an IFD loop */
        pp_image *img = NULL;
        if (pp_image_new(ctx, 8, 6, 3, &img)) die("pp_image_new");
        for (int i = 0; i < 8 * 6 * 3; i++) pp_image_data(img)[i] = (uint8_t)pattern(i % 24, i / 24, 0);
        size_t en = exif_seed(exif, o == 9 ? 8 : o, o == 9);
        pp_image_set_meta(ctx, img, "exif", exif, en);
        pp_image_set_meta(ctx, img, "xmp", xmp, sizeof xmp - 1);
        pp_image_set_meta(ctx, img, "png:pHYs", phys, 9);
        if (o == 1 || o == 9) pp_image_set_meta(ctx, img, "icc", icc, o == 1 ? icc_n : 200);
        if (o == 2) {
            pp_image_set_meta(ctx, img, "png:gAMA", gama, 4);
            pp_image_set_meta(ctx, img, "png:cHRM", chrm, 32);
            pp_image_set_meta(ctx, img, "png:sRGB", srgb, 1);
        }
        if (o == 9) { /* a 200-byte profile: its size field must say so */
            uint8_t small[200];
            memcpy(small, icc, 200);
            small[1] = small[2] = 0, small[3] = 200;
            pp_image_set_meta(ctx, img, "icc", small, 200);
        }
        for (int f = 0; f < 2; f++) {
            if (f == 1 && o == 1) continue; /* the 64 KiB profile only in a JPEG (two chunks) */
            pp_format fmt = f == 0 ? PP_FORMAT_JPEG : PP_FORMAT_PNG;
            void *buf;
            size_t size;
            if (pp_save_mem(ctx, img, fmt, &buf, &size)) die(pp_ctx_last_error(ctx));
            char name[64];
            snprintf(name, sizeof name, "meta-%s-%d.%s", o == 9 ? "loop" : "orient", o,
                     pp_format_name(fmt));
            write_file("load", name, buf, size);
            free(buf);
        }
        pp_image_free(img);
    }
    free(icc);
    pp_ctx_free(ctx);
}

/* ---- JPEG through libjpeg: what pixpool's encoder does not write -------------------------- */

enum { J_YCCK = 1, J_NO_ADOBE = 2, J_RESTART = 4, J_ARITH = 8, J_SEPARATE = 16, J_411 = 32 };

/* A w x h JPEG of 3 (YCbCr) or 4 (CMYK, or YCCK with J_YCCK) components; J_NO_ADOBE leaves out
   the Adobe marker, J_RESTART puts a restart marker after every MCU, J_ARITH codes it
   arithmetically, J_SEPARATE gives each component a sequential scan of its own (a multi-scan
   file that is not progressive), J_411 samples the chroma 4:1:1. */
static void jpeg_seed(int w, int h, int comps, unsigned flags)
{
    uint8_t px[64 * 16 * 4];
    if (w > 64 || h > 16) die("jpeg_seed: too large");
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < comps; k++) px[(y * w + x) * comps + k] = (uint8_t)pattern(x, y, k);
    jpeg_writer jw;
    jw_start(&jw, w, h, comps, comps == 4 ? JCS_CMYK : JCS_RGB);
    j_compress_ptr ci = &jw.ci;
    if (comps == 4) jpeg_set_colorspace(ci, flags & J_YCCK ? JCS_YCCK : JCS_CMYK);
    jpeg_set_quality(ci, 80, TRUE);
    if (flags & J_NO_ADOBE) ci->write_Adobe_marker = FALSE;
    if (flags & J_RESTART) ci->restart_interval = 1;
    if (flags & J_ARITH) ci->arith_code = TRUE;
    if (flags & J_411) ci->comp_info[0].h_samp_factor = 4, ci->comp_info[0].v_samp_factor = 1;
    static jpeg_scan_info separate[4];
    if (flags & J_SEPARATE) {
        for (int k = 0; k < comps; k++) separate[k] = (jpeg_scan_info){1, {k}, 0, 63, 0, 0};
        ci->scan_info = separate;
        ci->num_scans = comps;
    }
    uint8_t *mem;
    size_t size = jw_finish(&jw, px, &mem);
    char name[64];
    snprintf(name, sizeof name, "jpeg-%dx%d-%s%s%s%s%s%s.jpg", w, h,
             comps == 4 ? (flags & J_YCCK ? "ycck" : "cmyk") : "ycbcr",
             flags & J_NO_ADOBE ? "-noadobe" : "", flags & J_RESTART ? "-restart" : "",
             flags & J_ARITH ? "-arith" : "", flags & J_SEPARATE ? "-separate" : "",
             flags & J_411 ? "-411" : "");
    write_file("load", name, mem, size);
    free(mem);
}

static void jpegs(void)
{
    jpeg_seed(9, 7, 4, 0);
    jpeg_seed(9, 7, 4, J_YCCK);
    jpeg_seed(8, 8, 4, J_NO_ADOBE);
    jpeg_seed(17, 9, 3, J_RESTART);
    jpeg_seed(17, 9, 3, J_ARITH);
    jpeg_seed(17, 9, 3, J_SEPARATE);
    jpeg_seed(13, 5, 3, J_411 | J_RESTART);
}

/* ---- BMP by hand: paletted 1/4/8 bits, RLE8 ------------------------------------------------ */

static void bmp_paletted(int w, int h, int bpp, int rle)
{
    bytes px = {0};
    int ncol = 1 << bpp, ncolors = ncol > 16 ? 16 : ncol; /* palette entries written */
    if (rle) { /* RLE8: a run, then an absolute run, per row; end of line, end of bitmap */
        for (int y = 0; y < h; y++) {
            put8(&px, (unsigned)(w / 2)), put8(&px, (unsigned)y % 4);
            int left = w - w / 2;
            if (left >= 3) {
                put8(&px, 0), put8(&px, (unsigned)left);
                for (int i = 0; i < left; i++) put8(&px, (unsigned)i % 4);
                if (left & 1) put8(&px, 0);
            } else {
                for (int i = 0; i < left; i++) put8(&px, 1), put8(&px, 2);
            }
            put8(&px, 0), put8(&px, 0);
        }
        put8(&px, 0), put8(&px, 1);
    } else {
        size_t row = (((size_t)w * bpp + 31) / 32) * 4;
        for (int y = 0; y < h; y++) {
            uint8_t line[64] = {0};
            for (int x = 0; x < w; x++) {
                unsigned v = pattern(x, y, 0) % (unsigned)ncolors;
                size_t bit = (size_t)x * bpp;
                line[bit / 8] |= (uint8_t)(v << (8 - bpp - bit % 8));
            }
            put(&px, line, row);
        }
    }
    bytes b = {0};
    uint32_t off = 14 + 40 + 4 * (uint32_t)ncolors;
    puts_(&b, "BM");
    put32le(&b, off + (uint32_t)px.n);
    put32le(&b, 0);
    put32le(&b, off);
    put32le(&b, 40);
    put32le(&b, (uint32_t)w);
    put32le(&b, (uint32_t)h);
    put16le(&b, 1);
    put16le(&b, (unsigned)bpp);
    put32le(&b, rle ? 1 : 0);
    put32le(&b, (uint32_t)px.n);
    put32le(&b, 2835), put32le(&b, 2835);
    put32le(&b, (uint32_t)ncolors), put32le(&b, 0);
    for (int i = 0; i < ncolors; i++)
        put8(&b, (unsigned)i * 60), put8(&b, 255 - (unsigned)i * 15), put8(&b, (unsigned)i * 7), put8(&b, 0);
    put(&b, px.p, px.n);
    free(px.p);
    char name[64];
    snprintf(name, sizeof name, "bmp-%dx%d-%dbit%s.bmp", w, h, bpp, rle ? "-rle8" : "");
    emit("load", name, &b);
}

/* ---- TGA by hand: uncompressed true colour, colour-mapped ---------------------------------- */

static void tga_hand(int w, int h, int mapped, int bpp)
{
    bytes b = {0};
    put8(&b, 0);                 /* id length */
    put8(&b, mapped ? 1 : 0);    /* colour map type */
    put8(&b, mapped ? 1 : bpp == 8 ? 3 : 2); /* image type */
    put16le(&b, 0), put16le(&b, mapped ? 4 : 0), put8(&b, mapped ? 24 : 0);
    put16le(&b, 0), put16le(&b, 0), put16le(&b, (unsigned)w), put16le(&b, (unsigned)h);
    put8(&b, mapped ? 8 : (unsigned)bpp);
    put8(&b, bpp == 32 ? 8 | 0x20 : 0x20); /* top-left origin */
    if (mapped)
        for (int i = 0; i < 4; i++) put8(&b, (unsigned)i * 50), put8(&b, 200 - (unsigned)i * 30), put8(&b, 99);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (mapped) put8(&b, pattern(x, y, 0) % 4);
            else
                for (int k = 0; k < bpp / 8; k++) put8(&b, pattern(x, y, k));
        }
    char name[64];
    snprintf(name, sizeof name, "tga-%dx%d-%s%d.tga", w, h, mapped ? "map" : "true", bpp);
    emit("load", name, &b);
}

/* ---- GIF by hand ---------------------------------------------------------------------------- */

/* LZW without compression: every pixel is a literal code and a clear code comes before the
   table would grow past the first code size, so the codes keep min_size + 1 bits. */
static void gif_lzw(bytes *b, const uint8_t *idx, size_t n, int min_size)
{
    const unsigned clear = 1u << min_size, eoi = clear + 1, bits = (unsigned)min_size + 1;
    const size_t per_clear = (1u << min_size) - 2u;
    bytes data = {0};
    uint32_t acc = 0;
    unsigned nacc = 0;
#define GIF_CODE(c)                                                                             \
    do {                                                                                        \
        acc |= (uint32_t)(c) << nacc;                                                          \
        nacc += bits;                                                                           \
        while (nacc >= 8) put8(&data, acc & 255), acc >>= 8, nacc -= 8;                        \
    } while (0)
    for (size_t i = 0; i < n; i++) {
        if (i % (per_clear ? per_clear : 1) == 0) GIF_CODE(clear);
        GIF_CODE(idx[i]);
    }
    GIF_CODE(eoi);
    if (nacc) put8(&data, acc & 255);
#undef GIF_CODE
    put8(b, (unsigned)min_size);
    for (size_t i = 0; i < data.n; i += 255) {
        size_t len = data.n - i < 255 ? data.n - i : 255;
        put8(b, (unsigned)len);
        put(b, data.p + i, len);
    }
    put8(b, 0);
    free(data.p);
}

static void gif(int w, int h, int version89, int transparent, int interlace, int local)
{
    bytes b = {0};
    puts_(&b, version89 ? "GIF89a" : "GIF87a");
    put16le(&b, (unsigned)w), put16le(&b, (unsigned)h);
    put8(&b, local ? 0x00 : 0x80 | 0x01); /* global table of 4 colours (size field 1) */
    put8(&b, 0), put8(&b, 0);
    static const uint8_t pal[12] = {0, 0, 0, 255, 0, 0, 0, 255, 0, 20, 40, 250};
    if (!local) put(&b, pal, 12);
    if (version89 && transparent) { /* graphic control extension: colour 2 transparent */
        put8(&b, 0x21), put8(&b, 0xf9), put8(&b, 4), put8(&b, 0x01), put16le(&b, 0), put8(&b, 2), put8(&b, 0);
    }
    put8(&b, 0x2c);
    put16le(&b, 0), put16le(&b, 0), put16le(&b, (unsigned)w), put16le(&b, (unsigned)h);
    put8(&b, (interlace ? 0x40 : 0) | (local ? 0x80 | 0x01 : 0));
    if (local) put(&b, pal, 12);
    uint8_t idx[256];
    size_t n = (size_t)w * h;
    for (size_t i = 0; i < n && i < sizeof idx; i++) idx[i] = (uint8_t)(pattern((int)i % w, (int)i / w, 0) % 4);
    gif_lzw(&b, idx, n, 2);
    put8(&b, 0x3b);
    char name[64];
    snprintf(name, sizeof name, "gif-%dx%d-%s%s%s%s.gif", w, h, version89 ? "89a" : "87a",
             transparent ? "-trans" : "", interlace ? "-interlaced" : "", local ? "-local" : "");
    emit("load", name, &b);
}

/* ---- PSD by hand ------------------------------------------------------------------------------ */

static void psd(int w, int h, int channels, int depth, int rle)
{
    bytes b = {0};
    puts_(&b, "8BPS");
    put16be(&b, 1);
    for (int i = 0; i < 6; i++) put8(&b, 0);
    put16be(&b, (unsigned)channels);
    put32be(&b, (uint32_t)h), put32be(&b, (uint32_t)w);
    put16be(&b, (unsigned)depth), put16be(&b, 3); /* RGB mode */
    put32be(&b, 0); /* mode data */
    if (channels == 3 && depth == 8 && !rle) { /* image resources: resolution, EXIF, XMP */
        uint8_t exif[128];
        size_t en = exif_seed(exif, 6, 0);
        put32be(&b, (uint32_t)(12 + 16 + 12 + en + (en & 1) + 12 + 4));
        puts_(&b, "8BIM"), put16be(&b, 0x03ED), put16be(&b, 0), put32be(&b, 16);
        put32be(&b, 300u << 16), put16be(&b, 1), put16be(&b, 1);
        put32be(&b, 300u << 16), put16be(&b, 1), put16be(&b, 1);
        puts_(&b, "8BIM"), put16be(&b, 0x0422), put16be(&b, 0), put32be(&b, (uint32_t)en);
        put(&b, exif, en);
        if (en & 1) put8(&b, 0);
        puts_(&b, "8BIM"), put16be(&b, 0x0424), put16be(&b, 0), put32be(&b, 4);
        puts_(&b, "<x/>");
    } else {
        put32be(&b, 0);
    }
    put32be(&b, 0); /* layers */
    put16be(&b, rle ? 1 : 0);
    if (rle) { /* PackBits: per row one literal run of w bytes */
        for (int k = 0; k < channels; k++)
            for (int y = 0; y < h; y++) put16be(&b, 1 + (unsigned)w);
        for (int k = 0; k < channels; k++)
            for (int y = 0; y < h; y++) {
                put8(&b, (unsigned)w - 1);
                for (int x = 0; x < w; x++) put8(&b, pattern(x, y, k));
            }
    } else {
        for (int k = 0; k < channels; k++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    unsigned v = pattern(x, y, k);
                    if (depth == 16) put16be(&b, v * 257u);
                    else put8(&b, v);
                }
    }
    char name[64];
    snprintf(name, sizeof name, "psd-%dx%d-c%d-d%d%s.psd", w, h, channels, depth, rle ? "-rle" : "");
    emit("load", name, &b);
}

/* ---- HDR by hand ------------------------------------------------------------------------------ */

static void hdr(int w, int h, int rle, int rgbe_magic)
{
    bytes b = {0};
    puts_(&b, rgbe_magic ? "#?RGBE\n" : "#?RADIANCE\n");
    puts_(&b, "# pixpool fuzz seed\nFORMAT=32-bit_rle_rgbe\nEXPOSURE=1.0\n\n");
    char res[64];
    snprintf(res, sizeof res, "-Y %d +X %d\n", h, w);
    puts_(&b, res);
    for (int y = 0; y < h; y++) {
        if (rle) {
            put8(&b, 2), put8(&b, 2), put8(&b, (unsigned)w >> 8), put8(&b, (unsigned)w & 255);
            for (int k = 0; k < 4; k++) {
                int half = w / 2;
                put8(&b, 128u + (unsigned)half), put8(&b, k == 3 ? 130 : pattern(0, y, k));
                put8(&b, (unsigned)(w - half));
                for (int x = half; x < w; x++) put8(&b, k == 3 ? 128 + (unsigned)x % 3 : pattern(x, y, k));
            }
        } else {
            for (int x = 0; x < w; x++) {
                put8(&b, pattern(x, y, 0)), put8(&b, pattern(x, y, 1)), put8(&b, pattern(x, y, 2));
                put8(&b, x % 5 ? 120 + (unsigned)x % 20 : 0);
            }
        }
    }
    char name[64];
    snprintf(name, sizeof name, "hdr-%dx%d%s%s.hdr", w, h, rle ? "-rle" : "", rgbe_magic ? "-rgbe" : "");
    emit("load", name, &b);
}

/* ---- PNM by hand ------------------------------------------------------------------------------ */

static void pnm(int type, int w, int h, unsigned maxval)
{
    bytes b = {0};
    char head[96];
    int bitmap = type == 1 || type == 4, plain = type <= 3, c = type == 3 || type == 6 ? 3 : 1;
    if (bitmap) snprintf(head, sizeof head, "P%d\n# seed\n%d %d\n", type, w, h);
    else snprintf(head, sizeof head, "P%d\n%d %d # size\n%u\n", type, w, h, maxval);
    puts_(&b, head);
    for (int y = 0; y < h; y++) {
        if (type == 4) {
            uint8_t line[16] = {0};
            for (int x = 0; x < w; x++) line[x / 8] |= (uint8_t)((pattern(x, y, 0) & 1) << (7 - x % 8));
            put(&b, line, (size_t)(w + 7) / 8);
            continue;
        }
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                unsigned v = bitmap ? pattern(x, y, k) & 1 : pattern(x, y, k) * maxval / 255u;
                if (plain) {
                    char num[16];
                    snprintf(num, sizeof num, "%u%c", v, x + 1 == w && k + 1 == c ? '\n' : ' ');
                    puts_(&b, num);
                } else if (maxval > 255) {
                    put16be(&b, v);
                } else {
                    put8(&b, v);
                }
            }
    }
    char name[64];
    snprintf(name, sizeof name, "pnm-p%d-%dx%d-m%u.pnm", type, w, h, maxval);
    emit("load", name, &b);
}

/* ---- spec strings and the dictionary ---------------------------------------------------------- */

static void spec_file(const char *text)
{
    char name[32];
    static int n;
    snprintf(name, sizeof name, "spec-%04d.txt", n++);
    write_file("spec", name, text, strlen(text));
}

/* A value of parameter pi for a seed: 0 minimum, 1 maximum, 2 default. */
static void param_text(const pp_param_info *pi, int which, char *buf, size_t len)
{
    if (pi->type == PP_PARAM_ENUM) {
        int n = 0;
        while (pi->choices[n]) n++;
        snprintf(buf, len, "%s", pi->choices[which == 0 ? 0 : which == 1 ? n - 1 : (int)pi->def]);
    } else if (pi->type == PP_PARAM_LIST) {
        snprintf(buf, len, "%s", which == 0 ? "1" : which == 1 ? "1/2/1/2/4/2/1/2/1" : "0 -1 0 -1 5 -1 0 -1 0");
    } else {
        snprintf(buf, len, "%.17g", which == 0 ? pi->min : which == 1 ? pi->max : pi->def);
    }
}

static void specs(void)
{
    char text[1024], val[128];
    FILE *dict;
    char path[4096];
    snprintf(path, sizeof path, "%s/spec.dict", root);
    if (!(dict = fopen(path, "w"))) die(path);
    fprintf(dict, "# libFuzzer dictionary for fuzz_spec, generated by make_corpus\n"
                  "sep_colon=\":\"\nsep_comma=\",\"\nsep_eq=\"=\"\nsep_slash=\"/\"\nnl=\"\\x0a\"\n"
                  "n0=\"0\"\nn1=\"-1\"\nbig=\"1e9\"\nsmall=\"1e-6\"\nhuge=\"1e308\"\n"
                  "nan=\"nan\"\ninf=\"inf\"\nhex=\"0x10\"\n");
    const int n = pp_filter_count();
    for (int i = 0; i < n; i++) {
        const pp_filter_info *fi = pp_filter_at(i);
        fprintf(dict, "f%d=\"%s\"\n", i, fi->name);
        spec_file(fi->name);
        for (int k = 0; k < fi->nparams; k++) {
            const pp_param_info *pi = &fi->params[k];
            fprintf(dict, "p%d_%d=\"%s=\"\n", i, k, pi->name);
            if (pi->type == PP_PARAM_ENUM)
                for (int j = 0; pi->choices[j]; j++) fprintf(dict, "c%d_%d_%d=\"%s\"\n", i, k, j, pi->choices[j]);
            for (int which = 0; which < 3; which++) {
                param_text(pi, which, val, sizeof val);
                /* a filter with required parameters gets them too */
                size_t off = (size_t)snprintf(text, sizeof text, "%s:%s=%s", fi->name, pi->name, val);
                for (int j = 0; j < fi->nparams; j++)
                    if (j != k && fi->params[j].required == PP_PARAM_REQUIRED) {
                        param_text(&fi->params[j], 2, val, sizeof val);
                        off += (size_t)snprintf(text + off, sizeof text - off, ",%s=%s", fi->params[j].name, val);
                    }
                spec_file(text);
            }
        }
        /* two filters in a row */
        snprintf(text, sizeof text, "%s\n%s", fi->name, pp_filter_at((i + 1) % n)->name);
        spec_file(text);
    }
    static const char *const extra[] = {
        "resize:width=7", "resize:height=2,method=nearest", "resize:width=1,height=1",
        "resize:scale=3,method=bicubic", "crop:x=1,y=1,width=2,height=1",
        "convolve:kernel=1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1,divisor=3,bias=-5",
        "gaussian:sigma=0.1,radius=200\nmedian:radius=100", "bilateral:sigma_s=40,d=121",
        "unknown-filter", "gaussian:sigma=", "gaussian:=1", "gaussian:sigma=1,sigma=2",
        "box:radius=1.5", "crop:x=-1", "resize:scale=1e6", ":", "gaussian:sigma=nan",
    };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) spec_file(extra[i]);
    if (fclose(dict) != 0) die(path);
}

/* ---- pipelines ---------------------------------------------------------------------------------- */

/* An input of fuzz_pipeline: geometry, one or two filters with the given selector for every
   parameter, then pixels. */
static void pipeline_seed(int idx, int idx2, unsigned sel, int w, int h, int c, unsigned flags)
{
    bytes b = {0};
    put8(&b, (unsigned)w - 1), put8(&b, (unsigned)h - 1), put8(&b, (unsigned)c - 1);
    put8(&b, (unsigned)(idx % 4) * 3), put8(&b, (unsigned)idx % 3), put8(&b, flags);
    put8(&b, idx2 >= 0 ? 1 : 0);
    for (int f = 0; f < (idx2 >= 0 ? 2 : 1); f++) {
        int i = f ? idx2 : idx;
        const pp_filter_info *fi = pp_filter_at(i);
        put8(&b, (unsigned)i);
        for (int k = 0; k < fi->nparams; k++) {
            put8(&b, sel), put16be(&b, (unsigned)(k * 5000 + i * 300) & 0xffff);
            if (fi->params[k].type == PP_PARAM_LIST && sel % 4 == 3)
                for (int j = 0; j < 9; j++) put8(&b, (unsigned)(j * 31) & 255);
        }
    }
    for (int i = 0; i < w * h * c; i++) put8(&b, (unsigned)(i * 53 + 7) & 255);
    char name[64];
    snprintf(name, sizeof name, "pipe-%02d-%02d-s%u-%dx%dx%d-f%u.bin", idx, idx2, sel, w, h, c, flags);
    emit("pipeline", name, &b);
}

static void pipelines(void)
{
    const int n = pp_filter_count();
    for (int i = 0; i < n; i++) {
        int c = 1 + i % 4;
        pipeline_seed(i, -1, 3, 7, 5, c, 0);       /* defaults */
        pipeline_seed(i, -1, 1, 1, 1, c, 1);       /* minimums, 1x1, with fork */
        pipeline_seed(i, -1, 2, 9, 1, 5 - c, 0);   /* maximums, 9x1 */
        pipeline_seed(i, -1, 4, 1, 9, c, 1 | 4);   /* low values, 1x9, padded rows, fork */
        pipeline_seed(i, -1, 5, 16, 11, c, 2);     /* moderate values, padded rows */
        pipeline_seed(i, (i * 7 + 3) % n, 4, 6, 6, 4, 1); /* two filters, RGBA, fork */
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus DIR\n");
        return 2;
    }
    root = argv[1];
    const char *subs[] = {"", "/load", "/spec", "/pipeline"};
    for (int i = 0; i < 4; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%s", root, subs[i]);
        if (mkdir(path, 0777) != 0 && errno != EEXIST) die(path);
    }
    pngs();
    encoded();
    meta_seeds();
    jpegs();
    tiffs();
    bmp_paletted(7, 3, 1, 0);
    bmp_paletted(6, 4, 4, 0);
    bmp_paletted(9, 5, 8, 0);
    bmp_paletted(8, 3, 8, 1);
    tga_hand(5, 3, 0, 24);
    tga_hand(4, 2, 0, 32);
    tga_hand(3, 3, 0, 8);
    tga_hand(6, 2, 1, 8);
    gif(5, 3, 0, 0, 0, 0);
    gif(7, 9, 1, 1, 0, 0);
    gif(4, 8, 1, 0, 1, 0);
    gif(6, 2, 1, 1, 0, 1);
    psd(4, 3, 3, 8, 0);
    psd(3, 2, 4, 16, 0);
    psd(5, 2, 3, 8, 1);
    psd(2, 2, 1, 8, 0);
    hdr(5, 3, 0, 0);
    hdr(9, 2, 1, 0);
    hdr(12, 3, 1, 1);
    for (int t = 1; t <= 6; t++) pnm(t, 5, 3, 255);
    pnm(2, 4, 2, 15);
    pnm(5, 4, 2, 1);
    pnm(5, 3, 3, 1000);
    pnm(6, 2, 2, 65535);
    pnm(3, 2, 2, 7);
    specs();
    pipelines();
    printf("make_corpus: %d files in %s\n", nfiles, root);
    return 0;
}
