/*
 * test_io.c - loading and saving: PNG of every colour type and bit depth (written here with
 * libpng), JPEG (more in test_jpeg.c), the stb formats (BMP, TGA, GIF), PSD, HDR and PNM built
 * by hand, header-only reads, atomic saves, and the error paths (empty, truncated, corrupt,
 * foreign and oversized files, unknown extensions, missing folders). All test data is generated
 * by the tests.
 */
#include "internal.h"

#include <criterion/criterion.h>
#include <png.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- small helpers ------------------------------------------------------------------------ */

static pp_ctx *new_ctx(void)
{
    pp_ctx *ctx = pp_ctx_new();
    cr_assert_not_null(ctx);
    cr_assert_eq(pp_ctx_set_backend(ctx, PP_BACKEND_SERIAL), PP_OK);
    return ctx;
}

static char *make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    size_t n = strlen(base) + sizeof "/pp-test-io-XXXXXX";
    char *dir = malloc(n);
    cr_assert_not_null(dir);
    snprintf(dir, n, "%s/pp-test-io-XXXXXX", base);
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    return dir;
}

/* Number of entries in a folder (without . and ..). */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

/* Removes a temporary folder and the plain files in it. */
static void remove_tmpdir(char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[4096];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    cr_assert_not_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void write_bytes(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    if (size) cr_assert_eq(fwrite(data, 1, size, f), size);
    cr_assert_eq(fclose(f), 0);
}

static uint8_t *read_bytes(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert(n >= 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* Checks an image's geometry and every byte against a packed expectation of 8-bit values; a
   16-bit image (what 16-bit files decode to) is compared rounded to 8 bits. */
static void expect_image8(pp_image *img, int w, int h, int c, const uint8_t *expected);
static void expect_image(pp_image *img, int w, int h, int c, const uint8_t *expected)
{
    cr_assert_not_null(img);
    if (pp_image_depth(img) == 16) {
        pp_ctx *ctx = pp_ctx_new();
        pp_image *n8 = NULL;
        cr_assert_eq(pp_image_convert_depth(ctx, img, 8, &n8), PP_OK);
        expect_image8(n8, w, h, c, expected);
        pp_image_free(n8);
        pp_ctx_free(ctx);
        return;
    }
    cr_assert_eq(pp_image_depth(img), 8);
    expect_image8(img, w, h, c, expected);
}

static void expect_image8(pp_image *img, int w, int h, int c, const uint8_t *expected)
{
    cr_assert_eq(pp_image_width(img), w);
    cr_assert_eq(pp_image_height(img), h);
    cr_assert_eq(pp_image_channels(img), c, "channels %d, expected %d", pp_image_channels(img), c);
    const uint8_t *data = pp_image_data(img);
    size_t stride = pp_image_stride(img);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w * c; x++)
            cr_assert_eq(data[(size_t)y * stride + x], expected[(size_t)y * w * c + x],
                         "byte %d of row %d: %d, expected %d", x, y,
                         data[(size_t)y * stride + x], expected[(size_t)y * w * c + x]);
}

/* A new image with deterministic, varied content. */
static pp_image *pattern_image(pp_ctx *ctx, int w, int h, int c)
{
    pp_image *img;
    cr_assert_eq(pp_image_new(ctx, w, h, c, &img), PP_OK, "%s", pp_ctx_last_error(ctx));
    uint8_t *d = pp_image_data(img);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w * c; x++)
            d[(size_t)y * pp_image_stride(img) + x] = (uint8_t)(x * 37 + y * 101 + (x % c) * 53 + 7);
    return img;
}

/* A packed copy of an image's pixels. */
static uint8_t *packed_pixels(pp_image *img)
{
    int w = pp_image_width(img), h = pp_image_height(img), c = pp_image_channels(img);
    uint8_t *p = malloc((size_t)w * h * c);
    cr_assert_not_null(p);
    for (int y = 0; y < h; y++)
        memcpy(p + (size_t)y * w * c, pp_image_data(img) + (size_t)y * pp_image_stride(img),
               (size_t)w * c);
    return p;
}

static void expect_error(pp_ctx *ctx, pp_status got, pp_status want, const char *needle)
{
    cr_assert_eq(got, want, "status %d (%s), expected %d; message: %s", got, pp_strerror(got),
                 want, pp_ctx_last_error(ctx));
    if (needle)
        cr_assert(strstr(pp_ctx_last_error(ctx), needle) != NULL, "message \"%s\" lacks \"%s\"",
                  pp_ctx_last_error(ctx), needle);
}

/* CRC-32 as PNG uses it (polynomial 0xedb88320), for hand-made chunks. */
static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

static void put32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- writing test PNGs with libpng -------------------------------------------------------- */

typedef struct membuf {
    uint8_t *buf;
    size_t len, cap;
} membuf;

static void membuf_put(membuf *m, const void *p, size_t n)
{
    if (m->len + n > m->cap) {
        size_t cap = m->cap ? m->cap : 256;
        while (cap < m->len + n) cap *= 2;
        m->buf = realloc(m->buf, cap);
        cr_assert_not_null(m->buf);
        m->cap = cap;
    }
    memcpy(m->buf + m->len, p, n);
    m->len += n;
}

static void png_put_cb(png_structp png, png_bytep p, size_t n)
{
    membuf_put(png_get_io_ptr(png), p, n);
}

static void png_flush_nop(png_structp png) { (void)png; }

typedef struct png_spec {
    int w, h, depth, ctype, interlace;
    const uint16_t *samples;       /* w * h * file channels samples, row by row */
    const png_color *palette;
    int npalette;
    const png_byte *trns_alpha;    /* palette tRNS */
    int ntrns;
    const png_color_16 *trns_color; /* gray/RGB tRNS */
} png_spec;

static png_spec spec(int w, int h, int depth, int ctype, int interlace, const uint16_t *samples)
{
    png_spec s;
    memset(&s, 0, sizeof s);
    s.w = w;
    s.h = h;
    s.depth = depth;
    s.ctype = ctype;
    s.interlace = interlace;
    s.samples = samples;
    return s;
}

static int file_channels(int ctype)
{
    switch (ctype) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 1; /* palette indices */
    }
}

static int encode_png(const png_spec *s, membuf *out, png_bytep *rows)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return 0;
    }
    png_set_write_fn(png, out, png_put_cb, png_flush_nop);
    png_set_IHDR(png, info, (png_uint_32)s->w, (png_uint_32)s->h, s->depth, s->ctype,
                 s->interlace, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (s->palette) png_set_PLTE(png, info, s->palette, s->npalette);
    if (s->trns_alpha || s->trns_color)
        png_set_tRNS(png, info, s->trns_alpha, s->ntrns, s->trns_color);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return 1;
}

/* Writes a PNG from samples (packed here into PNG rows: MSB first below 8 bits, big-endian at
   16 bits) and returns the file's bytes. */
static uint8_t *make_png(const png_spec *s, size_t *size)
{
    int fc = file_channels(s->ctype);
    size_t rowbytes = ((size_t)s->w * fc * s->depth + 7) / 8;
    uint8_t *mem = calloc((size_t)s->h, rowbytes);
    png_bytep *rows = malloc(sizeof *rows * (size_t)s->h);
    cr_assert(mem && rows);
    for (int y = 0; y < s->h; y++) {
        uint8_t *row = mem + (size_t)y * rowbytes;
        rows[y] = row;
        for (int i = 0; i < s->w * fc; i++) {
            unsigned v = s->samples[(size_t)y * s->w * fc + i];
            if (s->depth == 16) {
                row[2 * i] = (uint8_t)(v >> 8);
                row[2 * i + 1] = (uint8_t)v;
            } else if (s->depth == 8) {
                row[i] = (uint8_t)v;
            } else {
                int bit = i * s->depth;
                row[bit / 8] |= (uint8_t)(v << (8 - s->depth - bit % 8));
            }
        }
    }
    membuf out = {0};
    cr_assert(encode_png(s, &out, rows), "libpng could not write the test image");
    free(rows);
    free(mem);
    *size = out.len;
    return out.buf;
}

/* Loads a PNG built from the spec and compares it with the expectation. */
static void check_png(const png_spec *s, int channels, const uint8_t *expected, int depth)
{
    size_t size;
    uint8_t *png = make_png(s, &size);
    pp_ctx *ctx = new_ctx();
    pp_image *img = NULL;
    pp_status st = pp_load_mem(ctx, png, size, "test.png", &img);
    cr_assert_eq(st, PP_OK, "%s", pp_ctx_last_error(ctx));
    if (depth == 16) { /* kept at 16 bits: every sample as in the file, and rounded to 8 by
                          pp_image_convert_depth as the expectation says */
        cr_assert_eq(pp_image_depth(img), 16);
        cr_assert_eq(pp_image_channels(img), channels);
        for (int y = 0; y < s->h; y++)
            for (int x = 0; x < s->w * channels; x++) {
                const uint16_t *row = (const uint16_t *)(const void *)(pp_image_data(img) +
                                                                      (size_t)y * pp_image_stride(img));
                cr_assert_eq(row[x], s->samples[(size_t)y * s->w * channels + x],
                             "16-bit sample %d of row %d", x, y);
            }
        pp_image *n8 = NULL;
        cr_assert_eq(pp_image_convert_depth(ctx, img, 8, &n8), PP_OK);
        pp_image_free(img);
        img = n8;
    }
    cr_assert_eq(pp_image_depth(img), 8);
    expect_image(img, s->w, s->h, channels, expected);
    pp_image_free(img);

    /* pp_info reports the same, with the file's depth */
    char *dir = make_tmpdir();
    char *path = join(dir, "t.png");
    write_bytes(path, png, size);
    pp_image_info info;
    cr_assert_eq(pp_info(ctx, path, &info), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(info.format, PP_FORMAT_PNG);
    cr_assert_eq(info.width, s->w);
    cr_assert_eq(info.height, s->h);
    cr_assert_eq(info.channels, channels);
    cr_assert_eq(info.depth, depth);
    free(path);
    remove_tmpdir(dir);
    pp_ctx_free(ctx);
    free(png);
}

static uint8_t round16(unsigned v) { return (uint8_t)floor(v * 255.0 / 65535.0 + 0.5); }

/* ---- PNG decoding: every colour type and depth -------------------------------------------- */

Test(io_png, gray_low_depths)
{
    for (int depth = 1; depth <= 4; depth *= 2) {
        int w = 13, h = 3, maxv = (1 << depth) - 1;
        uint16_t samples[39];
        uint8_t expected[39];
        for (int i = 0; i < w * h; i++) {
            samples[i] = (uint16_t)((i * 7 + i / w) % (maxv + 1));
            expected[i] = (uint8_t)(samples[i] * 255 / maxv); /* exact for 1, 2, 4 bits */
        }
        png_spec s = spec(w, h, depth, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, samples);
        check_png(&s, 1, expected, depth);
    }
}

Test(io_png, gray8)
{
    uint16_t samples[5 * 4];
    uint8_t expected[5 * 4];
    for (int i = 0; i < 20; i++) expected[i] = (uint8_t)(samples[i] = (uint16_t)(i * 13));
    png_spec s = spec(5, 4, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, samples);
    check_png(&s, 1, expected, 8);
}

/* Every 16-bit value: kept, and rounded to 8 bits it is round(v * 255 / 65535). */
Test(io_png, gray16_rounds_every_value)
{
    uint16_t *samples = malloc(65536 * sizeof *samples);
    uint8_t *expected = malloc(65536);
    cr_assert(samples && expected);
    for (unsigned v = 0; v < 65536; v++) {
        samples[v] = (uint16_t)v;
        expected[v] = round16(v);
    }
    cr_assert_eq(round16(0x1234), 18);
    png_spec s = spec(256, 256, 16, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, samples);
    check_png(&s, 1, expected, 16);
    free(samples);
    free(expected);
}

Test(io_png, gray_trns_adds_alpha)
{
    uint16_t samples[6] = {0, 7, 9, 7, 255, 100};
    uint8_t expected[12] = {0, 255, 7, 0, 9, 255, 7, 0, 255, 255, 100, 255};
    png_color_16 trans = {0};
    trans.gray = 7;
    png_spec s = spec(3, 2, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, samples);
    s.trns_color = &trans;
    check_png(&s, 2, expected, 8);
}

Test(io_png, gray_alpha_8_and_16)
{
    uint16_t s8[8] = {10, 255, 20, 0, 30, 128, 40, 1};
    uint8_t e8[8] = {10, 255, 20, 0, 30, 128, 40, 1};
    png_spec a = spec(2, 2, 8, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_INTERLACE_NONE, s8);
    check_png(&a, 2, e8, 8);

    uint16_t s16[8] = {0x1234, 0xffff, 0x0080, 0x0081, 0x7f7f, 0x8080, 0xfeff, 0x0000};
    uint8_t e16[8];
    for (int i = 0; i < 8; i++) e16[i] = round16(s16[i]);
    png_spec b = spec(2, 2, 16, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_INTERLACE_NONE, s16);
    check_png(&b, 2, e16, 16);
}

static const png_color test_palette[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};

Test(io_png, palette_to_rgb)
{
    uint16_t idx[6] = {0, 1, 2, 3, 3, 0};
    uint8_t expected[18];
    for (int i = 0; i < 6; i++) {
        expected[3 * i] = test_palette[idx[i]].red;
        expected[3 * i + 1] = test_palette[idx[i]].green;
        expected[3 * i + 2] = test_palette[idx[i]].blue;
    }
    png_spec s8 = spec(3, 2, 8, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, idx);
    s8.palette = test_palette;
    s8.npalette = 4;
    check_png(&s8, 3, expected, 8);
    png_spec s2 = s8;
    s2.depth = 2;
    check_png(&s2, 3, expected, 2);
}

Test(io_png, palette_trns_to_rgba)
{
    uint16_t idx[6] = {0, 1, 2, 3, 3, 0};
    png_byte alpha[2] = {0, 128}; /* entries 2 and 3 are opaque */
    uint8_t expected[24];
    for (int i = 0; i < 6; i++) {
        expected[4 * i] = test_palette[idx[i]].red;
        expected[4 * i + 1] = test_palette[idx[i]].green;
        expected[4 * i + 2] = test_palette[idx[i]].blue;
        expected[4 * i + 3] = idx[i] < 2 ? alpha[idx[i]] : 255;
    }
    png_spec s = spec(3, 2, 4, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, idx);
    s.palette = test_palette;
    s.npalette = 4;
    s.trns_alpha = alpha;
    s.ntrns = 2;
    check_png(&s, 4, expected, 4);
}

Test(io_png, rgb_8_16_and_trns)
{
    uint16_t s8[12];
    uint8_t e8[12];
    for (int i = 0; i < 12; i++) e8[i] = (uint8_t)(s8[i] = (uint16_t)(i * 21 + 3));
    png_spec a = spec(2, 2, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, s8);
    check_png(&a, 3, e8, 8);

    uint16_t s16[12];
    uint8_t e16[12];
    for (int i = 0; i < 12; i++) e16[i] = round16(s16[i] = (uint16_t)(i * 5501 + 0x1234));
    png_spec b = spec(2, 2, 16, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, s16);
    check_png(&b, 3, e16, 16);

    /* tRNS on RGB: pixels of exactly that colour become transparent */
    png_color_16 trans = {0};
    trans.red = s8[3];
    trans.green = s8[4];
    trans.blue = s8[5];
    uint8_t et[16];
    for (int p = 0; p < 4; p++) {
        memcpy(et + 4 * p, e8 + 3 * p, 3);
        et[4 * p + 3] = p == 1 ? 0 : 255;
    }
    png_spec c = spec(2, 2, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, s8);
    c.trns_color = &trans;
    check_png(&c, 4, et, 8);
}

Test(io_png, rgba_8_and_16)
{
    uint16_t s8[24];
    uint8_t e8[24];
    for (int i = 0; i < 24; i++) e8[i] = (uint8_t)(s8[i] = (uint16_t)(i * 11));
    png_spec a = spec(3, 2, 8, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE, s8);
    check_png(&a, 4, e8, 8);

    uint16_t s16[24];
    uint8_t e16[24];
    for (int i = 0; i < 24; i++) e16[i] = round16(s16[i] = (uint16_t)(i * 2843 + 0x80));
    png_spec b = spec(3, 2, 16, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE, s16);
    check_png(&b, 4, e16, 16);
}

Test(io_png, adam7_interlaced_rgb)
{
    enum { W = 13, H = 11 };
    uint16_t samples[W * H * 3];
    uint8_t expected[W * H * 3];
    for (int i = 0; i < W * H * 3; i++)
        expected[i] = (uint8_t)(samples[i] = (uint16_t)((i * 31 + i / 7) & 255));
    png_spec s = spec(W, H, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7, samples);
    check_png(&s, 3, expected, 8);
}

/* ---- PNG encoding ------------------------------------------------------------------------- */

Test(io_png, save_mem_round_trip_all_channels)
{
    pp_ctx *ctx = new_ctx();
    for (int c = 1; c <= 4; c++) {
        for (int level = 0; level <= 9; level += 9) {
            cr_assert_eq(pp_ctx_set_png_level(ctx, level), PP_OK);
            pp_image *img = pattern_image(ctx, 17, 9, c);
            void *buf;
            size_t size;
            cr_assert_eq(pp_save_mem(ctx, img, PP_FORMAT_PNG, &buf, &size), PP_OK, "%s",
                         pp_ctx_last_error(ctx));
            cr_assert(size > 8 && memcmp(buf, "\x89PNG", 4) == 0);
            pp_image *back;
            cr_assert_eq(pp_load_mem(ctx, buf, size, NULL, &back), PP_OK, "%s",
                         pp_ctx_last_error(ctx));
            uint8_t *want = packed_pixels(img);
            expect_image(back, 17, 9, c, want);
            free(want);
            free(buf);
            pp_image_free(back);
            pp_image_free(img);
        }
    }
    pp_ctx_free(ctx);
}

Test(io_png, save_honours_stride)
{
    pp_ctx *ctx = new_ctx();
    enum { W = 5, H = 4, C = 3, STRIDE = 23 };
    uint8_t mem[H * STRIDE], want[W * H * C];
    for (int i = 0; i < H * STRIDE; i++) mem[i] = (uint8_t)(i * 7);
    for (int y = 0; y < H; y++) memcpy(want + y * W * C, mem + y * STRIDE, W * C);
    pp_image *img;
    cr_assert_eq(pp_image_wrap(ctx, mem, W, H, C, STRIDE, &img), PP_OK);
    const pp_format fmts[] = {PP_FORMAT_PNG, PP_FORMAT_BMP, PP_FORMAT_TGA};
    for (int i = 0; i < 3; i++) {
        void *buf;
        size_t size;
        cr_assert_eq(pp_save_mem(ctx, img, fmts[i], &buf, &size), PP_OK, "%s",
                     pp_ctx_last_error(ctx));
        pp_image *back;
        cr_assert_eq(pp_load_mem(ctx, buf, size, "x", &back), PP_OK, "%s", pp_ctx_last_error(ctx));
        expect_image(back, W, H, C, want);
        pp_image_free(back);
        free(buf);
    }
    pp_image_free(img);
    pp_ctx_free(ctx);
}

Test(io_png, save_file_and_load)
{
    pp_ctx *ctx = new_ctx();
    char *dir = make_tmpdir();
    char *path = join(dir, "out.PNG");
    pp_image *img = pattern_image(ctx, 31, 7, 4);
    cr_assert_eq(pp_save(ctx, img, path), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(count_entries(dir), 1, "a temporary file was left behind");
    pp_image *back;
    cr_assert_eq(pp_load(ctx, path, &back), PP_OK, "%s", pp_ctx_last_error(ctx));
    uint8_t *want = packed_pixels(img);
    expect_image(back, 31, 7, 4, want);
    pp_image_info info;
    cr_assert_eq(pp_info(ctx, path, &info), PP_OK);
    cr_assert_eq(info.format, PP_FORMAT_PNG);
    cr_assert_eq(info.channels, 4);
    cr_assert_eq(info.depth, 8);
    free(want);
    pp_image_free(back);
    pp_image_free(img);
    free(path);
    remove_tmpdir(dir);
    pp_ctx_free(ctx);
}

/* A new file gets 0666 less the umask; an existing file keeps its permissions. */
Test(io_png, save_file_modes)
{
    pp_ctx *ctx = new_ctx();
    char *dir = make_tmpdir();
    char *path = join(dir, "m.png");
    pp_image *img = pattern_image(ctx, 3, 3, 1);
    mode_t old = umask(022);
    cr_assert_eq(pp_save(ctx, img, path), PP_OK, "%s", pp_ctx_last_error(ctx));
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644, "mode %o", st.st_mode & 0777);
    cr_assert_eq(chmod(path, 0600), 0);
    cr_assert_eq(pp_save(ctx, img, path), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
    unlink(path);
    umask(027);
    cr_assert_eq(pp_save(ctx, img, path), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0640, "mode %o", st.st_mode & 0777);
    umask(old);
    cr_assert_eq(count_entries(dir), 1);
    pp_image_free(img);
    free(path);
    remove_tmpdir(dir);
    pp_ctx_free(ctx);
}

/* ---- stb formats -------------------------------------------------------------------------- */

static void save_load_mem(pp_ctx *ctx, pp_image *img, pp_format fmt, pp_image **back,
                          void **buf_out, size_t *size_out)
{
    void *buf;
    size_t size;
    cr_assert_eq(pp_save_mem(ctx, img, fmt, &buf, &size), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(pp_load_mem(ctx, buf, size, "mem", back), PP_OK, "%s: %s", pp_format_name(fmt),
                 pp_ctx_last_error(ctx));
    if (buf_out) {
        *buf_out = buf;
        *size_out = size;
    } else {
        free(buf);
    }
}

Test(io_stb, bmp_round_trip)
{
    pp_ctx *ctx = new_ctx();
    for (int c = 1; c <= 4; c++) {
        pp_image *img = pattern_image(ctx, 7, 5, c); /* odd width: BMP rows are padded */
        pp_image *back;
        save_load_mem(ctx, img, PP_FORMAT_BMP, &back, NULL, NULL);
        /* BMP stores gray as RGB; gray+alpha is saved as RGBA so the alpha survives */
        int bc = c == 1 ? 3 : c == 2 ? 4 : c;
        uint8_t want[7 * 5 * 4];
        const uint8_t *src = pp_image_data(img);
        for (int p = 0; p < 35; p++) {
            const uint8_t *s = src + p * c;
            uint8_t *d = want + p * bc;
            if (c <= 2) {
                d[0] = d[1] = d[2] = s[0];
                if (c == 2) d[3] = s[1];
            } else {
                memcpy(d, s, (size_t)c);
            }
        }
        expect_image(back, 7, 5, bc, want);
        pp_image_free(back);
        pp_image_free(img);
    }
    pp_ctx_free(ctx);
}

Test(io_stb, tga_round_trip)
{
    pp_ctx *ctx = new_ctx();
    for (int c = 1; c <= 4; c++) {
        pp_image *img = pattern_image(ctx, 9, 6, c);
        pp_image *back;
        void *buf;
        size_t size;
        save_load_mem(ctx, img, PP_FORMAT_TGA, &back, &buf, &size);
        expect_image(back, 9, 6, c, pp_image_data(img));
        pp_image_free(back);
        /* a run of equal pixels (RLE) too */
        memset(pp_image_data(img), 0x5a, 9 * 6 * (size_t)c);
        free(buf);
        save_load_mem(ctx, img, PP_FORMAT_TGA, &back, NULL, NULL);
        expect_image(back, 9, 6, c, pp_image_data(img));
        pp_image_free(back);
        pp_image_free(img);
    }
    pp_ctx_free(ctx);
}

Test(io_jpeg, round_trip)
{
    pp_ctx *ctx = new_ctx();
    enum { W = 40, H = 24 };
    for (int c = 1; c <= 4; c++) {
        pp_image *img;
        cr_assert_eq(pp_image_new(ctx, W, H, c, &img), PP_OK);
        uint8_t *d = pp_image_data(img);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int k = 0; k < c; k++)
                    d[(y * W + x) * c + k] = (uint8_t)(40 + x * 3 + y * 2 + (k < 3 ? k * 20 : 0));
        pp_image *back;
        save_load_mem(ctx, img, PP_FORMAT_JPEG, &back, NULL, NULL);
        /* gray and gray+alpha come back gray, RGB and RGBA as RGB: alpha is dropped */
        const int bc = c >= 3 ? 3 : 1;
        cr_assert_eq(pp_image_width(back), W);
        cr_assert_eq(pp_image_height(back), H);
        cr_assert_eq(pp_image_channels(back), bc);
        const uint8_t *b = pp_image_data(back);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int k = 0; k < bc; k++) {
                    int want = d[(y * W + x) * c + k];
                    int got = b[(size_t)y * pp_image_stride(back) + x * bc + k];
                    cr_assert(abs(got - want) <= 10, "c=%d (%d,%d,%d): %d vs %d", c, x, y, k, got,
                              want);
                }
        pp_image_free(back);
        pp_image_free(img);
    }
    pp_ctx_free(ctx);
}

Test(io_stb, info_reports_headers)
{
    pp_ctx *ctx = new_ctx();
    char *dir = make_tmpdir();
    const pp_format fmts[] = {PP_FORMAT_JPEG, PP_FORMAT_BMP, PP_FORMAT_TGA};
    const char *names[] = {"a.jpg", "a.bmp", "a.tga"};
    const int chans[] = {3, 4, 4};
    pp_image *img = pattern_image(ctx, 21, 13, 4);
    for (int i = 0; i < 3; i++) {
        char *path = join(dir, names[i]);
        cr_assert_eq(pp_save(ctx, img, path), PP_OK, "%s", pp_ctx_last_error(ctx));
        pp_image_info info;
        cr_assert_eq(pp_info(ctx, path, &info), PP_OK, "%s", pp_ctx_last_error(ctx));
        cr_assert_eq(info.format, fmts[i], "%s: %s", names[i], pp_format_name(info.format));
        cr_assert_eq(info.width, 21);
        cr_assert_eq(info.height, 13);
        cr_assert_eq(info.channels, chans[i]);
        cr_assert_eq(info.depth, 8);
        pp_image *back;
        cr_assert_eq(pp_load(ctx, path, &back), PP_OK, "%s", pp_ctx_last_error(ctx));
        cr_assert_eq(pp_image_channels(back), chans[i]);
        pp_image_free(back);
        free(path);
    }
    cr_assert_eq(count_entries(dir), 3);
    pp_image_free(img);
    remove_tmpdir(dir);
    pp_ctx_free(ctx);
}

/* Packs LZW codes of `bits` bits, LSB first, as GIF does. */
static size_t pack_codes(const int *codes, int n, int bits, uint8_t *out)
{
    size_t nbits = 0;
    memset(out, 0, (size_t)(n * bits + 7) / 8);
    for (int i = 0; i < n; i++)
        for (int b = 0; b < bits; b++, nbits++)
            if (codes[i] >> b & 1) out[nbits / 8] |= (uint8_t)(1u << (nbits % 8));
    return (nbits + 7) / 8;
}

Test(io_stb, gif87a_first_frame)
{
    /* 2x2, a 4-colour global table; pixels 0 1 / 2 3. Every code follows a clear code, so the
       code size stays at 3 bits: CLEAR 0 CLEAR 1 CLEAR 2 CLEAR 3 END. */
    uint8_t gif[64];
    size_t n = 0;
    memcpy(gif, "GIF87a", 6);
    n = 6;
    const uint8_t screen[7] = {2, 0, 2, 0, 0x81, 0, 0};
    memcpy(gif + n, screen, 7);
    n += 7;
    const uint8_t table[12] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 200, 100, 50};
    memcpy(gif + n, table, 12);
    n += 12;
    const uint8_t desc[10] = {0x2c, 0, 0, 0, 0, 2, 0, 2, 0, 0};
    memcpy(gif + n, desc, 10);
    n += 10;
    gif[n++] = 2; /* LZW minimum code size */
    const int codes[9] = {4, 0, 4, 1, 4, 2, 4, 3, 5};
    uint8_t packed[8];
    size_t len = pack_codes(codes, 9, 3, packed);
    gif[n++] = (uint8_t)len;
    memcpy(gif + n, packed, len);
    n += len;
    gif[n++] = 0;    /* end of the image data */
    gif[n++] = 0x3b; /* trailer */

    pp_ctx *ctx = new_ctx();
    pp_image *img;
    /* no transparent colour: the channels the file has, RGB (stb alone gives RGBA) */
    cr_assert_eq(pp_load_mem(ctx, gif, n, "t.gif", &img), PP_OK, "%s", pp_ctx_last_error(ctx));
    const uint8_t want[12] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 200, 100, 50};
    expect_image(img, 2, 2, 3, want);
    pp_image_free(img);

    /* the same frame as GIF89a behind a graphic control extension: transparent colour 1 gives
       RGBA with that pixel's alpha 0; the flag off gives RGB again */
    uint8_t gif89[80];
    size_t head = 6 + 7 + 12;
    memcpy(gif89, gif, head);
    memcpy(gif89, "GIF89a", 6);
    const uint8_t gce[8] = {0x21, 0xf9, 4, 1, 0, 0, 1, 0};
    memcpy(gif89 + head, gce, 8);
    memcpy(gif89 + head + 8, gif + head, n - head);
    size_t n89 = n + 8;
    cr_assert_eq(pp_load_mem(ctx, gif89, n89, "t89.gif", &img), PP_OK, "%s", pp_ctx_last_error(ctx));
    const uint8_t want89[16] = {255, 0, 0, 255, 0, 0, 0, 0, 0, 0, 255, 255, 200, 100, 50, 255};
    cr_assert_eq(pp_image_channels(img), 4);
    cr_assert_eq(memcmp(pp_image_data(img), want89, 16), 0);
    pp_image_free(img);
    gif89[head + 3] = 0; /* no transparency flag */
    cr_assert_eq(pp_load_mem(ctx, gif89, n89, "t89.gif", &img), PP_OK, "%s", pp_ctx_last_error(ctx));
    expect_image(img, 2, 2, 3, want);
    pp_image_free(img);

    char *dir = make_tmpdir();
    char *path = join(dir, "t.gif");
    write_bytes(path, gif, n);
    pp_image_info info;
    cr_assert_eq(pp_info(ctx, path, &info), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(info.format, PP_FORMAT_GIF);
    cr_assert_eq(info.width, 2);
    cr_assert_eq(info.height, 2);
    cr_assert_eq(info.channels, 3);
    cr_assert_eq(info.depth, 8);
    free(path);
    remove_tmpdir(dir);
    pp_ctx_free(ctx);
}

/* A raw (uncompressed) RGB PSD of 8 or 16 bits per channel. */
static uint8_t *make_psd(int w, int h, int depth, const uint16_t *planes, size_t *size)
{
    size_t bps = (size_t)depth / 8, n = 26 + 4 + 4 + 4 + 2 + (size_t)w * h * 3 * bps;
    uint8_t *p = calloc(1, n);
    cr_assert_not_null(p);
    memcpy(p, "8BPS", 4);
    p[5] = 1;  /* version */
    p[13] = 3; /* channels */
    put32be(p + 14, (uint32_t)h);
    put32be(p + 18, (uint32_t)w);
    p[23] = (uint8_t)depth;
    p[25] = 3; /* RGB mode; then three empty sections and compression 0 */
    uint8_t *d = p + 40;
    for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        if (bps == 2) {
            *d++ = (uint8_t)(planes[i] >> 8);
            *d++ = (uint8_t)planes[i];
        } else {
            *d++ = (uint8_t)planes[i];
        }
    }
    *size = n;
    return p;
}

Test(io_stb, psd_8_and_16_bit)
{
    pp_ctx *ctx = new_ctx();
    char *dir = make_tmpdir();
    char *path = join(dir, "t.psd");
    for (int depth = 8; depth <= 16; depth += 8) {
        enum { W = 3, H = 2 };
        uint16_t planes[W * H * 3];
        for (int i = 0; i < W * H * 3; i++)
            planes[i] = (uint16_t)(depth == 8 ? i * 13 : i * 3571 + 0x1234);
        size_t size;
        uint8_t *psd = make_psd(W, H, depth, planes, &size);
        uint8_t want[W * H * 3]; /* 3 channels in the file: RGB, no alpha added */
        for (int p = 0; p < W * H; p++) {
            for (int k = 0; k < 3; k++) {
                unsigned v = planes[k * W * H + p];
                want[3 * p + k] = depth == 8 ? (uint8_t)v : round16(v);
            }
        }
        pp_image *img;
        cr_assert_eq(pp_load_mem(ctx, psd, size, "t.psd", &img), PP_OK, "%s",
                     pp_ctx_last_error(ctx));
        expect_image(img, W, H, 3, want);
        pp_image_free(img);
        write_bytes(path, psd, size);
        pp_image_info info;
        cr_assert_eq(pp_info(ctx, path, &info), PP_OK, "%s", pp_ctx_last_error(ctx));
        cr_assert_eq(info.format, PP_FORMAT_PSD);
        cr_assert_eq(info.channels, 3);
        cr_assert_eq(info.width, W);
        cr_assert_eq(info.height, H);
        cr_assert_eq(info.depth, depth);
        free(psd);
    }
    free(path);
    remove_tmpdir(dir);
    pp_ctx_free(ctx);
}

Test(io_stb, hdr_tone_mapped)
{
    /* two flat RGBE pixels: exponent 129 makes mantissa m worth m / 128 */
    const char head[] = "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 2\n";
    const uint8_t px[8] = {128, 64, 32, 129, 0, 16, 255, 129};
    uint8_t file[128];
    size_t n = strlen(head);
    memcpy(file, head, n);
    memcpy(file + n, px, 8);
    n += 8;
    pp_ctx *ctx = new_ctx();
    pp_image *img;
    cr_assert_eq(pp_load_mem(ctx, file, n, "t.hdr", &img), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(pp_image_channels(img), 3);
    cr_assert_eq(pp_image_width(img), 2);
    const uint8_t *d = pp_image_data(img);
    const int mant[6] = {128, 64, 32, 0, 16, 255};
    for (int i = 0; i < 6; i++) {
        double v = pow(mant[i] / 128.0, 1 / 2.2) * 255 + 0.5;
        int want = v > 255 ? 255 : (int)v;
        cr_assert(abs(d[i] - want) <= 1, "channel %d: %d, expected %d", i, d[i], want);
    }
    pp_image_free(img);

    char *dir = make_tmpdir();
    char *path = join(dir, "t.hdr");
    write_bytes(path, file, n);
    pp_image_info info;
    cr_assert_eq(pp_info(ctx, path, &info), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(info.format, PP_FORMAT_HDR);
    cr_assert_eq(info.channels, 3);
    cr_assert_eq(info.depth, 32);
    free(path);
    remove_tmpdir(dir);
    pp_ctx_free(ctx);
}

/* The same 9x2 image flat and run-length encoded decodes alike; damaged RLE data fails. */
Test(io_stb, hdr_run_length)
{
    const char head[] = "#?RGBE\nFORMAT=32-bit_rle_rgbe\nEXPOSURE=1.0\n\n-Y 2 +X 9\n";
    uint8_t flat[256], rle[256];
    size_t nf = strlen(head), nr = nf;
    memcpy(flat, head, nf);
    memcpy(rle, head, nr);
    for (int y = 0; y < 2; y++) {
        uint8_t px[9][4];
        for (int x = 0; x < 9; x++) {
            px[x][0] = (uint8_t)(x < 5 ? 200 : 17 * x);
            px[x][1] = (uint8_t)(100 + y);
            px[x][2] = (uint8_t)(x * 3);
            px[x][3] = (uint8_t)(x == 8 ? 0 : 128 + y);
        }
        memcpy(flat + nf, px, sizeof px);
        nf += sizeof px;
        const uint8_t start[4] = {2, 2, 0, 9};
        memcpy(rle + nr, start, 4);
        nr += 4;
        for (int k = 0; k < 4; k++) { /* a run of the first 5, then 4 literals */
            rle[nr++] = 128 + 5;
            rle[nr++] = px[0][k];
            rle[nr++] = 4;
            for (int x = 5; x < 9; x++) rle[nr++] = px[x][k];
            for (int x = 1; x < 5; x++) px[x][k] = px[0][k]; /* what the run means */
        }
        memcpy(flat + nf - sizeof px, px, sizeof px);
    }
    pp_ctx *ctx = new_ctx();
    pp_image *a, *b;
    cr_assert_eq(pp_load_mem(ctx, flat, nf, "flat.hdr", &a), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(pp_load_mem(ctx, rle, nr, "rle.hdr", &b), PP_OK, "%s", pp_ctx_last_error(ctx));
    uint8_t *want = packed_pixels(a);
    expect_image(b, 9, 2, 3, want);
    cr_assert_eq(want[8 * 3], 0); /* exponent 0 is black */
    free(want);
    pp_image_free(a);
    pp_image_free(b);

    pp_image *img = (pp_image *)1;
    for (size_t cut = strlen(head); cut < nr; cut++) {
        expect_error(ctx, pp_load_mem(ctx, rle, cut, "cut.hdr", &img), PP_ERR_DECODE, "cut.hdr: ");
        cr_assert_null(img);
    }
    for (size_t cut = strlen(head); cut < nf; cut += 5)
        expect_error(ctx, pp_load_mem(ctx, flat, cut, "cut.hdr", &img), PP_ERR_DECODE, "cut.hdr");
    rle[strlen(head) + 4 + 2] = 0; /* a literal count of 0 */
    expect_error(ctx, pp_load_mem(ctx, rle, nr, "zero.hdr", &img), PP_ERR_DECODE, "zero.hdr");
    const char xyze[] = "#?RADIANCE\nFORMAT=32-bit_rle_xyze\n\n-Y 1 +X 1\n\x80\x80\x80\x81";
    expect_error(ctx, pp_load_mem(ctx, xyze, sizeof xyze - 1, "xyze.hdr", &img), PP_ERR_FORMAT,
                 "xyze.hdr");
    const char flip[] = "#?RADIANCE\n\n+Y 1 +X 1\n\x80\x80\x80\x81";
    expect_error(ctx, pp_load_mem(ctx, flip, sizeof flip - 1, "flip.hdr", &img), PP_ERR_DECODE,
                 "flip.hdr");
    const char big[] = "#?RADIANCE\n\n-Y 100000 +X 100000\n";
    expect_error(ctx, pp_load_mem(ctx, big, sizeof big - 1, "big.hdr", &img), PP_ERR_LIMIT,
                 "limit");
    pp_ctx_free(ctx);
}

/* ---- PNM ---------------------------------------------------------------------------------- */

static void load_pnm(const void *data, size_t size, int w, int h, int c, const uint8_t *want,
                     int depth)
{
    pp_ctx *ctx = new_ctx();
    pp_image *img;
    cr_assert_eq(pp_load_mem(ctx, data, size, "t.pnm", &img), PP_OK, "%s",
                 pp_ctx_last_error(ctx));
    expect_image(img, w, h, c, want);
    pp_image_free(img);
    char *dir = make_tmpdir();
    char *path = join(dir, "t.pnm");
    write_bytes(path, data, size);
    pp_image_info info;
    cr_assert_eq(pp_info(ctx, path, &info), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(info.format, PP_FORMAT_PNM);
    cr_assert_eq(info.width, w);
    cr_assert_eq(info.height, h);
    cr_assert_eq(info.channels, c);
    cr_assert_eq(info.depth, depth);
    free(path);
    remove_tmpdir(dir);
    pp_ctx_free(ctx);
}

Test(io_pnm, p6_and_p5_raw)
{
    const char p6[] = "P6\n# a comment\n3 2\n255\n"
                      "\x01\x02\x03\x10\x20\x30\xff\x00\x80"
                      "\x00\x00\x00\x7f\x7e\x7d\xaa\xbb\xcc";
    const uint8_t w6[18] = {1, 2, 3, 16, 32, 48, 255, 0, 128, 0, 0, 0, 127, 126, 125, 170, 187, 204};
    load_pnm(p6, sizeof p6 - 1, 3, 2, 3, w6, 8);

    const char p5[] = "P5 4 1 255 \x00\x40\x80\xff";
    const uint8_t w5[4] = {0, 64, 128, 255};
    load_pnm(p5, sizeof p5 - 1, 4, 1, 1, w5, 8);

    /* maxval 15 is scaled to 0..255 with rounding; 16-bit samples are big-endian */
    const char p5s[] = "P5\n3 1\n15\n\x00\x07\x0f";
    const uint8_t w5s[3] = {0, 119, 255};
    load_pnm(p5s, sizeof p5s - 1, 3, 1, 1, w5s, 8);
    const char p5w[] = "P5\n2 1\n65535\n\x12\x34\xff\xff";
    const uint8_t w5w[2] = {round16(0x1234), 255};
    load_pnm(p5w, sizeof p5w - 1, 2, 1, 1, w5w, 16);
}

Test(io_pnm, plain_and_bitmaps)
{
    const char p3[] = "P3\n2 1\n# max\n255\n1 2 3\n  250 251 252\n";
    const uint8_t w3[6] = {1, 2, 3, 250, 251, 252};
    load_pnm(p3, sizeof p3 - 1, 2, 1, 3, w3, 8);
    const char p2[] = "P2 3 1 100 0 50 100";
    const uint8_t w2[3] = {0, 128, 255};
    load_pnm(p2, sizeof p2 - 1, 3, 1, 1, w2, 8);
    const char p1[] = "P1\n3 2\n1 0 1\n010\n";
    const uint8_t w1[6] = {0, 255, 0, 255, 0, 255};
    load_pnm(p1, sizeof p1 - 1, 3, 2, 1, w1, 1);
    const char p4[] = "P4\n10 2\n\xa5\x40\x00\xc0";
    const uint8_t w4[20] = {0, 255, 0, 255, 255, 0, 255, 0, 255, 0,
                            255, 255, 255, 255, 255, 255, 255, 255, 0, 0};
    load_pnm(p4, sizeof p4 - 1, 10, 2, 1, w4, 1);
}

Test(io_pnm, errors)
{
    pp_ctx *ctx = new_ctx();
    pp_image *img = (pp_image *)1;
    const char trunc[] = "P6\n4 4\n255\n\x01\x02\x03";
    expect_error(ctx, pp_load_mem(ctx, trunc, sizeof trunc - 1, "short.ppm", &img),
                 PP_ERR_DECODE, "short.ppm");
    cr_assert_null(img);
    const char plain[] = "P2\n2 2\n255\n1 2 3";
    expect_error(ctx, pp_load_mem(ctx, plain, sizeof plain - 1, "short.pgm", &img),
                 PP_ERR_DECODE, "short.pgm");
    const char over[] = "P2\n1 1\n10\n11";
    expect_error(ctx, pp_load_mem(ctx, over, sizeof over - 1, "over.pgm", &img), PP_ERR_DECODE,
                 "over.pgm");
    const char huge[] = "P5\n99999999999999999999 1\n255\n";
    expect_error(ctx, pp_load_mem(ctx, huge, sizeof huge - 1, "huge.pgm", &img), PP_ERR_DECODE,
                 "huge.pgm");
    const char claim[] = "P2\n30000 30000\n255\n1 2 3";
    expect_error(ctx, pp_load_mem(ctx, claim, sizeof claim - 1, "claim.pgm", &img),
                 PP_ERR_DECODE, "claim.pgm: truncated");
    const char big[] = "P5\n100000 100000\n255\n";
    expect_error(ctx, pp_load_mem(ctx, big, sizeof big - 1, "big.pgm", &img), PP_ERR_LIMIT,
                 "limit");
    pp_ctx_free(ctx);
}

/* ---- errors ------------------------------------------------------------------------------- */

/* A valid RGB PNG of some size, for the corruption tests. */
static uint8_t *sample_png(size_t *size)
{
    enum { W = 48, H = 32 };
    static uint16_t samples[W * H * 3];
    for (int i = 0; i < W * H * 3; i++) samples[i] = (uint16_t)((i * 7919) % 251);
    png_spec s = spec(W, H, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, samples);
    return make_png(&s, size);
}

Test(io_errors, empty_file)
{
    pp_ctx *ctx = new_ctx();
    char *dir = make_tmpdir();
    char *path = join(dir, "empty.png");
    write_bytes(path, "", 0);
    pp_image *img = (pp_image *)1;
    expect_error(ctx, pp_load(ctx, path, &img), PP_ERR_FORMAT, "empty file");
    cr_assert(strstr(pp_ctx_last_error(ctx), path) != NULL);
    cr_assert_null(img);
    pp_image_info info;
    expect_error(ctx, pp_info(ctx, path, &info), PP_ERR_FORMAT, path);
    expect_error(ctx, pp_load_mem(ctx, NULL, 0, NULL, &img), PP_ERR_FORMAT, "<memory>");
    free(path);
    remove_tmpdir(dir);
    pp_ctx_free(ctx);
}

Test(io_errors, truncated_png)
{
    size_t size;
    uint8_t *png = sample_png(&size);
    pp_ctx *ctx = new_ctx();
    pp_image *img = (pp_image *)1;
    expect_error(ctx, pp_load_mem(ctx, png, size / 2, "half.png", &img), PP_ERR_DECODE,
                 "half.png: ");
    cr_assert_null(img);
    /* without its last bytes (IEND) too: the file is checked to its end */
    expect_error(ctx, pp_load_mem(ctx, png, size - 6, "cut.png", &img), PP_ERR_DECODE, "cut.png");
    /* only the signature and part of IHDR: the header read fails */
    pp_image_info info;
    char *dir = make_tmpdir();
    char *path = join(dir, "head.png");
    write_bytes(path, png, 20);
    expect_error(ctx, pp_info(ctx, path, &info), PP_ERR_DECODE, path);
    expect_error(ctx, pp_load(ctx, path, &img), PP_ERR_DECODE, path);
    free(path);
    remove_tmpdir(dir);
    free(png);
    pp_ctx_free(ctx);
}

Test(io_errors, bad_crc)
{
    size_t size;
    uint8_t *png = sample_png(&size);
    pp_ctx *ctx = new_ctx();
    pp_image *img = (pp_image *)1;
    png[29] ^= 0x55; /* IHDR's CRC: bytes 29..32 */
    expect_error(ctx, pp_load_mem(ctx, png, size, "crc.png", &img), PP_ERR_DECODE, "crc.png: ");
    cr_assert(strstr(pp_ctx_last_error(ctx), "CRC") != NULL, "%s", pp_ctx_last_error(ctx));
    cr_assert_null(img);
    png[29] ^= 0x55;
    /* the CRC of the (first) IDAT chunk */
    size_t pos = 8;
    while (pos + 8 <= size && memcmp(png + pos + 4, "IDAT", 4) != 0)
        pos += 12 + ((size_t)png[pos] << 24 | (size_t)png[pos + 1] << 16 |
                     (size_t)png[pos + 2] << 8 | png[pos + 3]);
    cr_assert(pos + 8 <= size);
    size_t len = (size_t)png[pos] << 24 | (size_t)png[pos + 1] << 16 | (size_t)png[pos + 2] << 8 |
                 png[pos + 3];
    png[pos + 8 + len] ^= 0xff;
    expect_error(ctx, pp_load_mem(ctx, png, size, "idat.png", &img), PP_ERR_DECODE, "idat.png: ");
    cr_assert_null(img);
    free(png);
    pp_ctx_free(ctx);
}

Test(io_errors, text_file_named_png)
{
    pp_ctx *ctx = new_ctx();
    char *dir = make_tmpdir();
    char *path = join(dir, "notes.png");
    const char text[] = "This is not an image at all.\n";
    write_bytes(path, text, sizeof text - 1);
    pp_image *img = (pp_image *)1;
    expect_error(ctx, pp_load(ctx, path, &img), PP_ERR_FORMAT, "not a recognised image format");
    cr_assert(strstr(pp_ctx_last_error(ctx), path) != NULL);
    cr_assert_null(img);
    pp_image_info info;
    expect_error(ctx, pp_info(ctx, path, &info), PP_ERR_FORMAT, path);
    free(path);
    remove_tmpdir(dir);
    pp_ctx_free(ctx);
}

Test(io_errors, missing_file_and_directory)
{
    pp_ctx *ctx = new_ctx();
    char *dir = make_tmpdir();
    char *path = join(dir, "missing.png");
    pp_image *img = (pp_image *)1;
    expect_error(ctx, pp_load(ctx, path, &img), PP_ERR_IO, path);
    cr_assert(strstr(pp_ctx_last_error(ctx), strerror(ENOENT)) != NULL);
    cr_assert_null(img);
    pp_image_info info;
    expect_error(ctx, pp_info(ctx, path, &info), PP_ERR_IO, "missing.png");
    expect_error(ctx, pp_load(ctx, dir, &img), PP_ERR_IO, dir);
    free(path);
    remove_tmpdir(dir);
    pp_ctx_free(ctx);
}

/* A PNG of just a signature, an IHDR claiming w x h (valid CRC) and IEND. */
static size_t huge_png(uint8_t *out, uint32_t w, uint32_t h)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(out, sig, 8);
    uint8_t *c = out + 8;
    put32be(c, 13);
    memcpy(c + 4, "IHDR", 4);
    put32be(c + 8, w);
    put32be(c + 12, h);
    c[16] = 8;  /* depth */
    c[17] = 2;  /* RGB */
    c[18] = c[19] = c[20] = 0;
    put32be(c + 21, crc32_of(c + 4, 17));
    uint8_t *d = c + 25; /* an IDAT (never read: the size is refused first) */
    put32be(d, 2);
    memcpy(d + 4, "IDAT", 4);
    d[8] = 0x78;
    d[9] = 0x9c;
    put32be(d + 10, crc32_of(d + 4, 6));
    uint8_t *e = d + 14;
    put32be(e, 0);
    memcpy(e + 4, "IEND", 4);
    put32be(e + 8, crc32_of(e + 4, 4));
    return 8 + 25 + 14 + 12;
}

Test(io_errors, png_over_the_pixel_limit)
{
    uint8_t png[64];
    size_t n = huge_png(png, 100000, 100000);
    pp_ctx *ctx = new_ctx();
    pp_image *img = (pp_image *)1;
    expect_error(ctx, pp_load_mem(ctx, png, n, "huge.png", &img), PP_ERR_LIMIT, "limit");
    cr_assert(strstr(pp_ctx_last_error(ctx), "huge.png") != NULL);
    cr_assert_null(img);

    /* the header alone is fine to read */
    char *dir = make_tmpdir();
    char *path = join(dir, "huge.png");
    write_bytes(path, png, n);
    pp_image_info info;
    cr_assert_eq(pp_info(ctx, path, &info), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(info.width, 100000);
    cr_assert_eq(info.height, 100000);
    cr_assert_eq(info.channels, 3);
    expect_error(ctx, pp_load(ctx, path, &img), PP_ERR_LIMIT, path);
    free(path);
    remove_tmpdir(dir);

    /* a context limit applies to every decoder */
    cr_assert_eq(pp_ctx_set_max_pixels(ctx, 100), PP_OK);
    pp_image *small = pattern_image(ctx, 10, 10, 3);
    cr_assert_eq(pp_ctx_set_max_pixels(ctx, 99), PP_OK);
    const pp_format fmts[] = {PP_FORMAT_PNG, PP_FORMAT_BMP, PP_FORMAT_TGA, PP_FORMAT_JPEG};
    for (int i = 0; i < 4; i++) {
        void *buf;
        size_t size;
        cr_assert_eq(pp_save_mem(ctx, small, fmts[i], &buf, &size), PP_OK);
        expect_error(ctx, pp_load_mem(ctx, buf, size, "lim", &img), PP_ERR_LIMIT, "lim: ");
        free(buf);
    }
    pp_image_free(small);
    pp_ctx_free(ctx);
}

Test(io_errors, truncated_jpeg)
{
    pp_ctx *ctx = new_ctx();
    pp_image *img = pattern_image(ctx, 64, 48, 3);
    void *buf;
    size_t size;
    cr_assert_eq(pp_save_mem(ctx, img, PP_FORMAT_JPEG, &buf, &size), PP_OK);
    pp_image *back = (pp_image *)1;
    pp_status st = pp_load_mem(ctx, buf, size / 2, "cut.jpg", &back);
    cr_assert_neq(st, PP_OK);
    cr_assert_null(back);
    cr_assert(strstr(pp_ctx_last_error(ctx), "cut.jpg: ") != NULL, "%s", pp_ctx_last_error(ctx));
    st = pp_load_mem(ctx, buf, 40, "head.jpg", &back);
    expect_error(ctx, st, PP_ERR_DECODE, "head.jpg: ");
    free(buf);
    pp_image_free(img);
    pp_ctx_free(ctx);
}

Test(io_errors, save_unknown_extension)
{
    pp_ctx *ctx = new_ctx();
    char *dir = make_tmpdir();
    pp_image *img = pattern_image(ctx, 4, 4, 3);
    char *path = join(dir, "x.xyz");
    expect_error(ctx, pp_save(ctx, img, path), PP_ERR_FORMAT, "'.xyz'");
    cr_assert(strstr(pp_ctx_last_error(ctx), path) != NULL);
    char *noext = join(dir, "noext");
    expect_error(ctx, pp_save(ctx, img, noext), PP_ERR_FORMAT, noext);
    cr_assert_eq(count_entries(dir), 0);
    void *buf = (void *)1;
    size_t size = 1;
    expect_error(ctx, pp_save_mem(ctx, img, PP_FORMAT_GIF, &buf, &size), PP_ERR_FORMAT, "gif");
    cr_assert_null(buf);
    cr_assert_eq(size, 0);
    free(noext);
    free(path);
    pp_image_free(img);
    remove_tmpdir(dir);
    pp_ctx_free(ctx);
}

Test(io_errors, save_into_missing_directory)
{
    pp_ctx *ctx = new_ctx();
    char *dir = make_tmpdir();
    char *path = join(dir, "nowhere/out.png");
    pp_image *img = pattern_image(ctx, 4, 4, 3);
    expect_error(ctx, pp_save(ctx, img, path), PP_ERR_IO, path);
    cr_assert(strstr(pp_ctx_last_error(ctx), strerror(ENOENT)) != NULL);
    cr_assert_eq(count_entries(dir), 0);
    free(path);
    pp_image_free(img);
    remove_tmpdir(dir);
    pp_ctx_free(ctx);
}

/* An encoder failure after the temporary file exists removes it and leaves the old file. */
Test(io_errors, failed_save_leaves_destination)
{
    pp_ctx *ctx = new_ctx();
    char *dir = make_tmpdir();
    char *path = join(dir, "keep.jpg");
    write_bytes(path, "old", 3);
    pp_image *wide = pattern_image(ctx, 70000, 1, 3); /* JPEG allows 65535 at most */
    expect_error(ctx, pp_save(ctx, wide, path), PP_ERR_LIMIT, path);
    cr_assert_eq(count_entries(dir), 1);
    size_t size;
    uint8_t *old = read_bytes(path, &size);
    cr_assert_eq(size, 3);
    cr_assert_eq(memcmp(old, "old", 3), 0);
    free(old);
    pp_image_free(wide);
    free(path);
    remove_tmpdir(dir);
    pp_ctx_free(ctx);
}

Test(io_errors, invalid_arguments)
{
    pp_ctx *ctx = new_ctx();
    pp_image *img;
    cr_assert_eq(pp_load(NULL, "x.png", &img), PP_ERR_INVALID);
    cr_assert_eq(pp_load(ctx, NULL, &img), PP_ERR_INVALID);
    cr_assert_eq(pp_load_mem(ctx, NULL, 5, "x", &img), PP_ERR_INVALID);
    cr_assert_eq(pp_save(ctx, NULL, "x.png"), PP_ERR_INVALID);
    pp_image_info info;
    cr_assert_eq(pp_info(ctx, NULL, &info), PP_ERR_INVALID);
    pp_ctx_free(ctx);
}

/* Every prefix of small files of each format, and files with one byte changed, either decode or
   fail cleanly (the sanitizer build checks the memory accesses). */
Test(io_errors, damaged_inputs_fail_cleanly)
{
    pp_ctx *ctx = new_ctx();
    void *files[9];
    size_t sizes[9];
    int n = 0;
    pp_image *img = pattern_image(ctx, 19, 11, 4);
    const pp_format fmts[] = {PP_FORMAT_PNG, PP_FORMAT_JPEG, PP_FORMAT_BMP, PP_FORMAT_TGA};
    for (int i = 0; i < 4; i++, n++)
        cr_assert_eq(pp_save_mem(ctx, img, fmts[i], &files[n], &sizes[n]), PP_OK);
    pp_image_free(img);
    uint16_t planes[4 * 3 * 3];
    for (int i = 0; i < 36; i++) planes[i] = (uint16_t)(i * 1000);
    files[n] = make_psd(4, 3, 16, planes, &sizes[n]);
    n++;
    const char hdr[] = "#?RADIANCE\n\n-Y 1 +X 8\n\x02\x02\x00\x08\x88\x0a\x88\x14"
                       "\x84\x1e\x04\x01\x02\x03\x04\x88\x81";
    const char ppm[] = "P6\n4 2\n255\nabcdefghijklmnopqrstuvwx";
    const char pgm[] = "P2\n3 2\n9\n1 2 3\n4 5 6\n";
    const char *texts[3] = {ppm, pgm, hdr};
    const size_t lens[3] = {sizeof ppm - 1, sizeof pgm - 1, sizeof hdr - 1};
    for (int i = 0; i < 3; i++, n++) {
        sizes[n] = lens[i];
        files[n] = malloc(sizes[n]);
        memcpy(files[n], texts[i], sizes[n]);
    }
    /* a damaged header may claim a large image: keep those cheap to refuse */
    cr_assert_eq(pp_ctx_set_max_pixels(ctx, 1 << 16), PP_OK);
    for (int f = 0; f < n; f++) {
        uint8_t *copy = malloc(sizes[f]);
        cr_assert_not_null(copy);
        size_t step = sizes[f] > 600 ? sizes[f] / 300 : 1;
        for (size_t len = 0; len < sizes[f]; len += step) {
            memcpy(copy, files[f], len);
            pp_image *out = (pp_image *)1;
            pp_status st = pp_load_mem(ctx, copy, len, "damaged", &out);
            if (st == PP_OK) {
                pp_image_free(out);
            } else {
                cr_assert_null(out);
                cr_assert(strncmp(pp_ctx_last_error(ctx), "damaged: ", 9) == 0, "%s",
                          pp_ctx_last_error(ctx));
            }
        }
        for (size_t pos = 0; pos < sizes[f]; pos += step) {
            for (int bit = 0; bit < 8; bit += 3) {
                memcpy(copy, files[f], sizes[f]);
                copy[pos] ^= (uint8_t)(1u << bit);
                pp_image *out;
                if (pp_load_mem(ctx, copy, sizes[f], "damaged", &out) == PP_OK) pp_image_free(out);
            }
        }
        free(copy);
        free(files[f]);
    }
    pp_ctx_free(ctx);
}

/* ---- executors and threads -------------------------------------------------------------- */

/* With the fork backend an image is decoded straight into the shared arena; the pixels are the
   same as with the serial backend. */
Test(io_backends, fork_backend_loads_the_same_pixels)
{
    pp_ctx *ser = new_ctx();
    pp_image *img = pattern_image(ser, 23, 17, 3);
    const pp_format fmts[] = {PP_FORMAT_PNG, PP_FORMAT_BMP, PP_FORMAT_TGA, PP_FORMAT_JPEG};
    pp_ctx *fork = pp_ctx_new();
    cr_assert_not_null(fork);
    cr_assert_eq(pp_ctx_set_backend(fork, PP_BACKEND_FORK), PP_OK);
    cr_assert_eq(pp_ctx_set_workers(fork, 2), PP_OK);
    for (int i = 0; i < 4; i++) {
        void *buf;
        size_t size;
        cr_assert_eq(pp_save_mem(ser, img, fmts[i], &buf, &size), PP_OK);
        pp_image *a, *b;
        cr_assert_eq(pp_load_mem(ser, buf, size, "s", &a), PP_OK, "%s", pp_ctx_last_error(ser));
        cr_assert_eq(pp_load_mem(fork, buf, size, "f", &b), PP_OK, "%s", pp_ctx_last_error(fork));
        uint8_t *want = packed_pixels(a);
        expect_image(b, 23, 17, pp_image_channels(a), want);
        free(want);
        pp_image_free(a);
        pp_image_free(b);
        free(buf);
    }
    pp_image_free(img);
    pp_ctx_free(fork);
    pp_ctx_free(ser);
}

typedef struct thread_job {
    const void *files[3];
    size_t sizes[3];
    const uint8_t *want[3];
    int failures;
} thread_job;

static void *decode_thread(void *arg)
{
    thread_job *job = arg;
    pp_ctx *ctx = pp_ctx_new();
    if (!ctx) {
        job->failures++;
        return NULL;
    }
    pp_ctx_set_backend(ctx, PP_BACKEND_SERIAL);
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 3; i++) {
            pp_image *img;
            if (pp_load_mem(ctx, job->files[i], job->sizes[i], "t", &img) != PP_OK) {
                job->failures++;
                continue;
            }
            if (memcmp(pp_image_data(img), job->want[i], 16 * 12 * 3) != 0) job->failures++;
            pp_image_free(img);
            /* an error on this thread leaves the other threads' messages alone */
            if (pp_load_mem(ctx, job->files[i], 30, "cut", &img) == PP_OK ||
                strncmp(pp_ctx_last_error(ctx), "cut: ", 5) != 0)
                job->failures++;
        }
    }
    pp_ctx_free(ctx);
    return NULL;
}

/* Distinct contexts decode at the same time in distinct threads. */
Test(io_backends, concurrent_decoding)
{
    pp_ctx *ctx = new_ctx();
    pp_image *img = pattern_image(ctx, 16, 12, 3);
    const pp_format fmts[3] = {PP_FORMAT_PNG, PP_FORMAT_JPEG, PP_FORMAT_BMP};
    thread_job jobs[4];
    void *files[3];
    uint8_t *want[3];
    size_t sizes[3];
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(pp_save_mem(ctx, img, fmts[i], &files[i], &sizes[i]), PP_OK);
        pp_image *ref;
        cr_assert_eq(pp_load_mem(ctx, files[i], sizes[i], "ref", &ref), PP_OK);
        want[i] = packed_pixels(ref);
        pp_image_free(ref);
    }
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        memset(&jobs[t], 0, sizeof jobs[t]);
        for (int i = 0; i < 3; i++) {
            jobs[t].files[i] = files[i];
            jobs[t].sizes[i] = sizes[i];
            jobs[t].want[i] = want[i];
        }
        cr_assert_eq(pthread_create(&th[t], NULL, decode_thread, &jobs[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        cr_assert_eq(jobs[t].failures, 0, "thread %d: %d failures", t, jobs[t].failures);
    }
    for (int i = 0; i < 3; i++) {
        free(files[i]);
        free(want[i]);
    }
    pp_image_free(img);
    pp_ctx_free(ctx);
}

/* ---- names and extensions ----------------------------------------------------------------- */

Test(io_names, format_names_and_extensions)
{
    cr_assert_str_eq(pp_format_name(PP_FORMAT_PNG), "png");
    cr_assert_str_eq(pp_format_name(PP_FORMAT_JPEG), "jpeg");
    cr_assert_str_eq(pp_format_name(PP_FORMAT_BMP), "bmp");
    cr_assert_str_eq(pp_format_name(PP_FORMAT_TGA), "tga");
    cr_assert_str_eq(pp_format_name(PP_FORMAT_GIF), "gif");
    cr_assert_str_eq(pp_format_name(PP_FORMAT_PSD), "psd");
    cr_assert_str_eq(pp_format_name(PP_FORMAT_HDR), "hdr");
    cr_assert_str_eq(pp_format_name(PP_FORMAT_PNM), "pnm");
    cr_assert_str_eq(pp_format_name(PP_FORMAT_UNKNOWN), "unknown");
    cr_assert_str_eq(pp_format_name((pp_format)99), "unknown");

    cr_assert_eq(pp_format_from_path("a.png"), PP_FORMAT_PNG);
    cr_assert_eq(pp_format_from_path("dir/A.PnG"), PP_FORMAT_PNG);
    cr_assert_eq(pp_format_from_path("a.jpg"), PP_FORMAT_JPEG);
    cr_assert_eq(pp_format_from_path("a.b.JPEG"), PP_FORMAT_JPEG);
    cr_assert_eq(pp_format_from_path("a.bmp"), PP_FORMAT_BMP);
    cr_assert_eq(pp_format_from_path("a.Tga"), PP_FORMAT_TGA);
    cr_assert_eq(pp_format_from_path("a.gif"), PP_FORMAT_UNKNOWN);
    cr_assert_eq(pp_format_from_path("a.png.txt"), PP_FORMAT_UNKNOWN);
    cr_assert_eq(pp_format_from_path("dir.png/file"), PP_FORMAT_UNKNOWN);
    cr_assert_eq(pp_format_from_path("png"), PP_FORMAT_UNKNOWN);
    cr_assert_eq(pp_format_from_path(""), PP_FORMAT_UNKNOWN);
    cr_assert_eq(pp_format_from_path(NULL), PP_FORMAT_UNKNOWN);
}
