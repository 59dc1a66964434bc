/*
 * test_png_write.c - the strip-parallel PNG encoder (src/codec/png_write.c).
 *
 * Every output is decoded by libpng directly (not by pixpool's loader) and must give back the
 * exact bytes, with the expected colour type and depth, for 1-4 channels, widths 1..4097 and
 * heights of one to several strips; the bytes of the file must be the same on every backend
 * and worker count; each level and the RLE/LZ77 choice is exercised; strided and wrapped
 * images work. tests/cli_png.sh checks the same files with Pillow.
 */
#include "internal.h"

#include "helpers.h"

#include <criterion/criterion.h>
#include <png.h>

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* ---- an independent decoder: libpng's low-level API, no transformation ------------------- */

typedef struct mem_reader {
    const uint8_t *d;
    size_t n, pos;
} mem_reader;

static void read_cb(png_structp png, png_bytep out, size_t len)
{
    mem_reader *r = png_get_io_ptr(png);
    if (len > r->n - r->pos) png_error(png, "truncated");
    memcpy(out, r->d + r->pos, len);
    r->pos += len;
}

/* Decodes a PNG in memory with libpng into packed 8-bit samples (malloc()ed); asserts that it
   is 8-bit, non-interlaced, of the colour type for `channels`, and w x h. */
static uint8_t *libpng_decode(const void *buf, size_t size, int w, int h, int channels)
{
    static const int ctypes[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                  PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    cr_assert_not_null(png);
    png_infop info = png_create_info_struct(png);
    cr_assert_not_null(info);
    mem_reader r = {buf, size, 0};
    uint8_t *volatile px = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        cr_assert_fail("libpng could not decode the file (%dx%d, %d channels)", w, h, channels);
    }
    png_set_read_fn(png, &r, read_cb);
    png_read_info(png, info);
    cr_assert_eq(png_get_image_width(png, info), (png_uint_32)w);
    cr_assert_eq(png_get_image_height(png, info), (png_uint_32)h);
    cr_assert_eq(png_get_bit_depth(png, info), 8);
    cr_assert_eq(png_get_color_type(png, info), ctypes[channels]);
    cr_assert_eq(png_get_interlace_type(png, info), PNG_INTERLACE_NONE);
    size_t row = (size_t)w * (size_t)channels;
    px = malloc(row * (size_t)h);
    rows = malloc(sizeof(png_bytep) * (size_t)h);
    cr_assert(px && rows);
    for (int y = 0; y < h; y++) rows[y] = px + (size_t)y * row;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    cr_assert_eq(r.pos, size, "bytes after IEND");
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    return px;
}

/* Pixels that exercise every filter type and both strategies: smooth gradients (Paeth/Up win,
   runs of small residuals), noise (nothing wins), flat areas and a repeated pattern (LZ77 wins
   over RLE). */
static pp_image *test_image(pp_ctx *ctx, int w, int h, int c, uint32_t seed)
{
    pp_image *img;
    cr_assert_eq(pp_image_new(ctx, w, h, c, &img), PP_OK, "%s", pp_ctx_last_error(ctx));
    uint32_t s = seed * 2654435761u + 1u;
    for (int y = 0; y < h; y++) {
        uint8_t *p = pp_image_data(img) + (size_t)y * pp_image_stride(img);
        int kind = (y / 3 + (int)seed) % 4;
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                uint8_t v;
                s = s * 1664525u + 1013904223u;
                switch (kind) {
                case 0: v = (uint8_t)(x * 3 + y * 5 + k * 40); break;
                case 1: v = (uint8_t)(s >> 24); break;
                case 2: v = (uint8_t)(k * 60 + 7); break;
                default: v = (uint8_t)("pixpool strips"[(x + k) % 14] + y % 2); break;
                }
                p[(size_t)x * (size_t)c + (size_t)k] = v;
            }
    }
    return img;
}

static uint8_t *packed(const pp_image *img)
{
    int w = pp_image_width(img), h = pp_image_height(img), c = pp_image_channels(img);
    size_t row = (size_t)w * (size_t)c;
    uint8_t *out = malloc(row * (size_t)h);
    cr_assert_not_null(out);
    for (int y = 0; y < h; y++)
        memcpy(out + (size_t)y * row,
               pp_image_data((pp_image *)img) + (size_t)y * pp_image_stride(img), row);
    return out;
}

/* Number of IDAT chunks of a PNG in memory. */
static int idat_count(const uint8_t *d, size_t n)
{
    int count = 0;
    for (size_t pos = 8; pos + 12 <= n;) {
        size_t len = ((size_t)d[pos] << 24) | ((size_t)d[pos + 1] << 16) |
                     ((size_t)d[pos + 2] << 8) | d[pos + 3];
        if (memcmp(d + pos + 4, "IDAT", 4) == 0) count++;
        pos += 12 + len;
    }
    return count;
}

static void encode(pp_ctx *ctx, const pp_image *img, void **buf, size_t *size)
{
    cr_assert_eq(pp_save_mem(ctx, img, PP_FORMAT_PNG, buf, size), PP_OK, "%s",
                 pp_ctx_last_error(ctx));
}

/* ---- tests -------------------------------------------------------------------------------- */

/* 1-4 channels, widths 1..4097, heights of 1 row up to several strips (strips of 3 rows here, so
   small images have many), at levels 0, 1, 3, 6 and 9: libpng gives back every byte. */
Test(png_write, libpng_decodes_every_shape)
{
    static const int widths[] = {1, 2, 3, 5, 8, 15, 16, 17, 31, 64, 127, 255, 256, 257,
                                 1000, 4095, 4096, 4097};
    static const int heights[] = {1, 2, 3, 4, 6, 7, 9, 10};
    static const int levels[] = {0, 1, 3, 6, 9};
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    int n = 0;
    for (int c = 1; c <= 4; c++)
        for (size_t wi = 0; wi < sizeof widths / sizeof *widths; wi++)
            for (size_t hi = 0; hi < sizeof heights / sizeof *heights; hi++) {
                int w = widths[wi], h = heights[hi];
                int level = levels[(wi + hi + (size_t)c) % 5];
                cr_assert_eq(pp_ctx_set_png_level(ctx, level), PP_OK);
                ctx->png_strip_bytes = 3 * ((size_t)w * (size_t)c + 1);
                pp_image *img = test_image(ctx, w, h, c, (uint32_t)(wi * 31 + hi));
                void *buf;
                size_t size;
                encode(ctx, img, &buf, &size);
                uint8_t *want = packed(img), *got = libpng_decode(buf, size, w, h, c);
                cr_assert_eq(memcmp(want, got, (size_t)w * (size_t)h * (size_t)c), 0,
                             "%dx%d, %d channels, level %d: pixels differ", w, h, c, level);
                cr_assert_eq(idat_count(buf, size), (h + 2) / 3, "one IDAT per strip");
                free(want);
                free(got);
                free(buf);
                pp_image_free(img);
                n++;
            }
    cr_assert_eq(n, 4 * 18 * 8);
    pp_ctx_free(ctx);
}

/* The bytes of the file do not depend on the backend or the number of workers. */
Test(png_write, same_bytes_on_every_backend_and_worker_count)
{
    const pp_backend backends[] = {PP_BACKEND_SERIAL, PP_BACKEND_OPENMP, PP_BACKEND_FORK};
    const int workers[] = {1, 2, 3, 5};
    for (int c = 1; c <= 4; c++) {
        void *ref = NULL;
        size_t ref_size = 0;
        for (int b = 0; b < 3; b++)
            for (int wk = 0; wk < 4; wk++) {
                if (b == 0 && wk > 0) continue;
                pp_ctx *ctx = th_ctx(backends[b], workers[wk]);
                ctx->png_strip_bytes = 4096; /* 301x97: 4-13 rows a strip, 8-25 strips */
                cr_assert_eq(pp_ctx_set_png_level(ctx, c == 2 ? 9 : 3), PP_OK);
                pp_image *img = test_image(ctx, 301, 97, c, 7);
                void *buf;
                size_t size;
                encode(ctx, img, &buf, &size);
                if (!ref) {
                    ref = buf;
                    ref_size = size;
                    uint8_t *want = packed(img), *got = libpng_decode(buf, size, 301, 97, c);
                    cr_assert_eq(memcmp(want, got, 301u * 97u * (size_t)c), 0);
                    free(want);
                    free(got);
                } else {
                    cr_assert_eq(size, ref_size, "backend %d, %d workers: size %zu, not %zu", b,
                                 workers[wk], size, ref_size);
                    cr_assert_eq(memcmp(buf, ref, size), 0, "backend %d, %d workers: bytes differ",
                                 b, workers[wk]);
                    free(buf);
                }
                pp_image_free(img);
                pp_ctx_free(ctx);
            }
        free(ref);
    }
}

/* At the fast levels a drawing-like strip is deflated again with LZ77 when that is smaller, so
   level 3 is no more than a few percent larger than level 6 on repetitive content; noise
   compresses to (almost) nothing at any level, and level 0 stores. */
Test(png_write, levels_and_strategies)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    enum { W = 640, H = 200 };
    pp_image *text;
    cr_assert_eq(pp_image_new(ctx, W, H, 3, &text), PP_OK);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W * 3; x++) /* a repeated 37-byte motif: long-distance matches */
            pp_image_data(text)[(size_t)y * pp_image_stride(text) + (size_t)x] =
                (uint8_t)("a repeated motif that RLE cannot see."[(x + y * 5) % 37]);
    size_t sizes[10];
    for (int level = 0; level <= 9; level++) {
        cr_assert_eq(pp_ctx_set_png_level(ctx, level), PP_OK);
        void *buf;
        encode(ctx, text, &buf, &sizes[level]);
        uint8_t *got = libpng_decode(buf, sizes[level], W, H, 3), *want = packed(text);
        cr_assert_eq(memcmp(got, want, (size_t)W * H * 3), 0, "level %d", level);
        free(got);
        free(want);
        free(buf);
    }
    cr_assert_gt(sizes[0], (size_t)W * H * 3, "level 0 stores");
    cr_assert_lt(sizes[3] * 4, sizes[0], "level 3 compresses the motif");
    /* RLE alone would leave the motif at 62% of its size: LZ77 was chosen */
    cr_assert_leq(sizes[3], 2 * sizes[6], "level 3 %zu vs level 6 %zu", sizes[3], sizes[6]);
    cr_assert_leq(sizes[9], sizes[1], "level 9 %zu vs level 1 %zu", sizes[9], sizes[1]);
    pp_image_free(text);
    pp_ctx_free(ctx);
}

/* A wrapped buffer with a row gap, saved through the fork backend (its pixels are not in the
   shared arena, so the encoder copies them there first). */
Test(png_write, strided_wrapped_image_on_fork)
{
    enum { W = 123, H = 57, C = 3, STRIDE = W * C + 13 };
    static uint8_t mem[H * STRIDE];
    for (int i = 0; i < H * STRIDE; i++) mem[i] = (uint8_t)(i * 7 + i / 97);
    pp_ctx *ctx = th_ctx(PP_BACKEND_FORK, 2);
    ctx->png_strip_bytes = 2000;
    pp_image *img;
    cr_assert_eq(pp_image_wrap(ctx, mem, W, H, C, STRIDE, &img), PP_OK);
    void *buf;
    size_t size;
    encode(ctx, img, &buf, &size);
    uint8_t *got = libpng_decode(buf, size, W, H, C);
    for (int y = 0; y < H; y++)
        cr_assert_eq(memcmp(got + y * W * C, mem + y * STRIDE, W * C), 0, "row %d", y);
    free(got);
    free(buf);
    pp_image_free(img);
    pp_ctx_free(ctx);
}

/* The encoder's buffers count against the memory limit. */
Test(png_write, memory_limit)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *img = test_image(ctx, 1000, 1000, 3, 1);
    cr_assert_eq(pp_ctx_set_max_memory(ctx, 1u << 20), PP_OK);
    void *buf = NULL;
    size_t size = 0;
    cr_assert_eq(pp_save_mem(ctx, img, PP_FORMAT_PNG, &buf, &size), PP_ERR_LIMIT);
    cr_assert_null(buf);
    cr_assert(strstr(pp_ctx_last_error(ctx), "memory"), "%s", pp_ctx_last_error(ctx));
    pp_image_free(img);
    pp_ctx_free(ctx);
}
