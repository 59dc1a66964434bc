/*
 * test_jpeg_write.c - the JPEG encoder in strips (src/codec/jpeg_write.c): a baseline file is
 * byte for byte what libjpeg writes for the whole image with a restart interval of one strip,
 * on every backend and worker count, for every shape (1-4 channels, every subsampling, widths
 * and heights around the MCU sizes, one strip up to many), with strips that outgrow their slot,
 * and for a strided image the fork workers cannot see; its pixels are those of a file without
 * restart markers; its buffers count against the memory limit.
 */
#include "internal.h"

#include "helpers.h"
#include "jpeg_writer.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

/* Smooth gradients, noise and flat rows, different in every channel. */
static pp_image *test_image(pp_ctx *ctx, int w, int h, int c, uint32_t seed, bool noise)
{
    pp_image *img;
    cr_assert_eq(pp_image_new(ctx, w, h, c, &img), PP_OK, "%s", pp_ctx_last_error(ctx));
    uint32_t s = seed * 2654435761u + 1u;
    for (int y = 0; y < h; y++) {
        uint8_t *p = pp_image_data(img) + (size_t)y * pp_image_stride(img);
        int kind = noise ? 1 : (y / 5 + (int)seed) % 3;
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                s = s * 1664525u + 1013904223u;
                uint8_t v = kind == 0   ? (uint8_t)(x * 3 + y * 5 + k * 40)
                            : kind == 1 ? (uint8_t)(s >> 24)
                                        : (uint8_t)(k * 60 + 7);
                p[(size_t)x * (size_t)c + (size_t)k] = v;
            }
    }
    return img;
}

typedef struct jset {
    int quality;
    pp_jpeg_subsample sub;
} jset;

static int luma_h(jset s, int c)
{
    pp_jpeg_subsample m = s.sub == PP_SUBSAMPLE_AUTO
                              ? (s.quality >= 90 ? PP_SUBSAMPLE_444 : PP_SUBSAMPLE_420)
                              : s.sub;
    return c >= 3 && m != PP_SUBSAMPLE_444 ? 2 : 1;
}

static int luma_v(jset s, int c)
{
    pp_jpeg_subsample m = s.sub == PP_SUBSAMPLE_AUTO
                              ? (s.quality >= 90 ? PP_SUBSAMPLE_444 : PP_SUBSAMPLE_420)
                              : s.sub;
    return c >= 3 && m == PP_SUBSAMPLE_420 ? 2 : 1;
}

/* The restart interval (MCUs) the encoder's documented cut gives: strips of whole rows of MCUs
   of about strip_bytes pixel bytes (at least one row of MCUs), none for a single strip. */
static unsigned expected_restart(int w, int h, int c, jset s, size_t strip_bytes)
{
    int mh = 8 * luma_v(s, c), mcus = (w + 8 * luma_h(s, c) - 1) / (8 * luma_h(s, c));
    size_t rows = strip_bytes / ((size_t)w * (c <= 2 ? 1u : 3u)) / (size_t)mh * (size_t)mh;
    if (rows < (size_t)mh) rows = (size_t)mh;
    if (rows > (size_t)(65535 / mcus) * (size_t)mh) rows = (size_t)(65535 / mcus) * (size_t)mh;
    return rows >= (size_t)h ? 0u : (unsigned)((size_t)mcus * rows / (size_t)mh);
}

/* libjpeg's own encode of the whole image with pixpool's settings and a restart interval. */
static uint8_t *reference(const pp_image *img, jset s, unsigned restart, size_t *n)
{
    int w = pp_image_width(img), h = pp_image_height(img), c = pp_image_channels(img);
    int jc = c <= 2 ? 1 : c;
    uint8_t *px = malloc((size_t)w * (size_t)h * (size_t)jc);
    cr_assert_not_null(px);
    for (int y = 0; y < h; y++) {
        const uint8_t *row = pp_image_data((pp_image *)img) + (size_t)y * pp_image_stride(img);
        for (int x = 0; x < w; x++)
            for (int k = 0; k < jc; k++)
                px[((size_t)y * (size_t)w + (size_t)x) * (size_t)jc + (size_t)k] =
                    row[(size_t)x * (size_t)c + (size_t)k];
    }
    jpeg_writer jw;
    jw_start(&jw, w, h, jc, c <= 2 ? JCS_GRAYSCALE : c == 3 ? JCS_RGB : JCS_EXT_RGBX);
    jw.ci.dct_method = JDCT_ISLOW;
    jpeg_set_quality(&jw.ci, s.quality, TRUE);
    if (c >= 3) {
        jw.ci.comp_info[0].h_samp_factor = luma_h(s, c);
        jw.ci.comp_info[0].v_samp_factor = luma_v(s, c);
        for (int i = 1; i < 3; i++) jw.ci.comp_info[i].h_samp_factor = jw.ci.comp_info[i].v_samp_factor = 1;
    }
    jw.ci.restart_interval = restart;
    uint8_t *out;
    *n = jw_finish(&jw, px, &out);
    free(px);
    return out;
}

static void encode(pp_ctx *ctx, const pp_image *img, jset s, void **buf, size_t *size)
{
    cr_assert_eq(pp_ctx_set_jpeg_quality(ctx, s.quality), PP_OK);
    cr_assert_eq(pp_ctx_set_jpeg_subsample(ctx, s.sub), PP_OK);
    cr_assert_eq(pp_save_mem(ctx, img, PP_FORMAT_JPEG, buf, size), PP_OK, "%s",
                 pp_ctx_last_error(ctx));
}

/* Restart markers in the entropy-coded data of a file of one scan. */
static int rst_count(const uint8_t *d, size_t n)
{
    int count = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (d[i] == 0xFF && d[i + 1] >= 0xD0 && d[i + 1] <= 0xD7) count++;
    return count;
}

static void check_same(const void *got, size_t gn, const uint8_t *want, size_t wn,
                       const char *what)
{
    cr_assert_eq(gn, wn, "%s: %zu bytes, libjpeg wrote %zu", what, gn, wn);
    cr_assert_eq(memcmp(got, want, wn), 0, "%s: bytes differ from libjpeg's", what);
}

/* ---- tests -------------------------------------------------------------------------------- */

/* Every channel count and subsampling; widths and heights around the MCU sizes; strips of one
   row of MCUs (the smallest cut) and of a few: libjpeg's file, byte for byte. */
Test(jpeg_write, every_shape_is_libjpegs_file_with_restarts)
{
    static const int widths[] = {1, 7, 16, 17, 301};
    static const int heights[] = {1, 8, 9, 16, 17, 40, 97};
    static const jset sets[] = {{75, PP_SUBSAMPLE_AUTO}, {95, PP_SUBSAMPLE_AUTO},
                                {85, PP_SUBSAMPLE_422}, {90, PP_SUBSAMPLE_420}};
    static const size_t strips[] = {1, 3000};
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 3);
    int multi = 0;
    for (int c = 1; c <= 4; c++)
        for (size_t wi = 0; wi < sizeof widths / sizeof *widths; wi++)
            for (size_t hi = 0; hi < sizeof heights / sizeof *heights; hi++)
                for (size_t si = 0; si < sizeof sets / sizeof *sets; si++)
                    for (size_t bi = 0; bi < 2; bi++) {
                        int w = widths[wi], h = heights[hi];
                        jset s = sets[si];
                        pp_image *img = test_image(ctx, w, h, c, (uint32_t)(w + h + c), false);
                        ctx->jpeg_strip_bytes = strips[bi];
                        unsigned restart = expected_restart(w, h, c, s, strips[bi]);
                        void *buf;
                        size_t size, rn;
                        encode(ctx, img, s, &buf, &size);
                        uint8_t *ref = reference(img, s, restart, &rn);
                        char what[96];
                        snprintf(what, sizeof what, "%dx%d c%d q%d sub%d strip %zu", w, h, c,
                                 s.quality, (int)s.sub, strips[bi]);
                        check_same(buf, size, ref, rn, what);
                        if (restart) {
                            int mh = 8 * luma_v(s, c), mcus = (w + 8 * luma_h(s, c) - 1) /
                                                              (8 * luma_h(s, c));
                            int rows = (int)restart / mcus * mh;
                            cr_assert_eq(rst_count(buf, size), (h + rows - 1) / rows - 1, "%s",
                                         what);
                            multi++;
                        }
                        free(ref);
                        free(buf);
                        pp_image_free(img);
                    }
    cr_assert_gt(multi, 200, "too few cases cut into strips: %d", multi);
    pp_ctx_free(ctx);
}

/* The default cut on a large image, and the same bytes from serial, openmp and fork at 1-3
   workers; the pixels decode as those of a file without restart markers. */
Test(jpeg_write, same_bytes_on_every_backend_and_worker_count)
{
    pp_ctx *ref_ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *img = test_image(ref_ctx, 1500, 1100, 3, 7, false);
    jset s = {90, PP_SUBSAMPLE_AUTO};
    unsigned restart = expected_restart(1500, 1100, 3, s, PP_JPEG_STRIP_BYTES);
    cr_assert_gt(restart, 0);
    size_t rn;
    uint8_t *ref = reference(img, s, restart, &rn);
    static const pp_backend backends[] = {PP_BACKEND_SERIAL, PP_BACKEND_OPENMP, PP_BACKEND_FORK};
    for (int b = 0; b < 3; b++)
        for (int j = 1; j <= 3; j++) {
            pp_ctx *ctx = th_ctx(backends[b], j);
            pp_image *in = NULL;
            void *buf;
            size_t size;
            /* the context's own image (in the arena with fork), and one of another context's
               (malloc()ed: copied for the fork workers) */
            cr_assert_eq(pp_image_new(ctx, 1500, 1100, 3, &in), PP_OK, "%s", pp_ctx_last_error(ctx));
            for (int y = 0; y < 1100; y++)
                memcpy(pp_image_data(in) + (size_t)y * pp_image_stride(in),
                       pp_image_data(img) + (size_t)y * pp_image_stride(img), 1500 * 3);
            encode(ctx, in, s, &buf, &size);
            char what[64];
            snprintf(what, sizeof what, "backend %d, %d workers", b, j);
            check_same(buf, size, ref, rn, what);
            free(buf);
            encode(ctx, img, s, &buf, &size);
            check_same(buf, size, ref, rn, what);
            free(buf);
            pp_image_free(in);
            pp_ctx_free(ctx);
        }
    size_t pn;
    uint8_t *plain = reference(img, s, 0, &pn);
    pp_image *a = NULL, *b = NULL;
    cr_assert_eq(pp_load_mem(ref_ctx, ref, rn, "strips.jpg", &a), PP_OK);
    cr_assert_eq(pp_load_mem(ref_ctx, plain, pn, "plain.jpg", &b), PP_OK);
    cr_assert(th_same(a, b), "restart markers changed decoded pixels");
    cr_assert_lt(rn > pn ? rn - pn : pn - rn, 8 * 64, "restarts: %zu bytes, %zu without", rn, pn);
    pp_image_free(a);
    pp_image_free(b);
    free(plain);
    free(ref);
    pp_image_free(img);
    pp_ctx_free(ref_ctx);
}

/* Noise at quality 100 outgrows the slots (half the strip's pixel bytes): those strips are
   encoded again on the calling thread, and the file is still libjpeg's. */
Test(jpeg_write, strips_that_outgrow_their_slot)
{
    static const pp_backend backends[] = {PP_BACKEND_SERIAL, PP_BACKEND_OPENMP, PP_BACKEND_FORK};
    jset s = {100, PP_SUBSAMPLE_444};
    for (int b = 0; b < 3; b++) {
        pp_ctx *ctx = th_ctx(backends[b], 2);
        pp_image *img = test_image(ctx, 512, 300, 3, 3, true);
        ctx->jpeg_strip_bytes = 512 * 3 * 64;
        size_t rn;
        uint8_t *ref = reference(img, s, expected_restart(512, 300, 3, s, ctx->jpeg_strip_bytes),
                                 &rn);
        /* more than all 5 slots hold, so some strip overflowed */
        cr_assert_gt(rn, 5 * (512 * 3 * 64 / 2 + 4096), "noise too compressible: %zu", rn);
        void *buf;
        size_t size;
        encode(ctx, img, s, &buf, &size);
        check_same(buf, size, ref, rn, "noise q100");
        free(buf);
        free(ref);
        pp_image_free(img);
        pp_ctx_free(ctx);
    }
}

/* A caller's strided buffer, which the fork workers cannot see, is copied for them. */
Test(jpeg_write, strided_wrapped_image_on_fork)
{
    enum { W = 123, H = 57, C = 4, STRIDE = W * C + 13 };
    static uint8_t mem[H * STRIDE];
    for (int i = 0; i < H * STRIDE; i++) mem[i] = (uint8_t)(i * 7 + i / 97);
    pp_ctx *ctx = th_ctx(PP_BACKEND_FORK, 2);
    ctx->jpeg_strip_bytes = 1;
    pp_image *img;
    cr_assert_eq(pp_image_wrap(ctx, mem, W, H, C, STRIDE, &img), PP_OK);
    jset s = {80, PP_SUBSAMPLE_420};
    void *buf;
    size_t size, rn;
    encode(ctx, img, s, &buf, &size);
    uint8_t *ref = reference(img, s, expected_restart(W, H, C, s, 1), &rn);
    check_same(buf, size, ref, rn, "wrapped");
    free(ref);
    free(buf);
    pp_image_free(img);
    pp_ctx_free(ctx);
}

/* The slots and libjpeg's buffers count against the memory limit. */
Test(jpeg_write, memory_limit)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    pp_image *img = test_image(ctx, 2000, 2000, 3, 1, false);
    cr_assert_eq(pp_ctx_set_max_memory(ctx, 1u << 20), PP_OK);
    void *buf = NULL;
    size_t size = 0;
    cr_assert_eq(pp_save_mem(ctx, img, PP_FORMAT_JPEG, &buf, &size), PP_ERR_LIMIT);
    cr_assert_null(buf);
    cr_assert(strstr(pp_ctx_last_error(ctx), "JPEG encoder buffers"), "%s",
              pp_ctx_last_error(ctx));
    pp_image_free(img);
    pp_ctx_free(ctx);
}

/* Metadata in a file of many strips: the markers (EXIF, an ICC profile of two APP2 chunks) sit
   after the JFIF segment, the density is in it, the rest is the file without metadata, and the
   blobs read back unchanged. */
Test(jpeg_write, metadata_in_a_file_of_strips)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_FORK, 2);
    pp_image *img = test_image(ctx, 301, 97, 3, 5, false);
    ctx->jpeg_strip_bytes = 3000;
    jset s = {85, PP_SUBSAMPLE_420};
    void *plain;
    size_t pn;
    encode(ctx, img, s, &plain, &pn);
    static const uint8_t exif[] = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1,
                                   0, 6, 0, 0, 0, 0, 0, 0};
    size_t icc_n = 70000;
    uint8_t *icc = calloc(1, icc_n);
    icc[1] = (uint8_t)(icc_n >> 16), icc[2] = (uint8_t)(icc_n >> 8), icc[3] = (uint8_t)icc_n;
    memcpy(icc + 16, "RGB ", 4);
    memcpy(icc + 20, "XYZ ", 4);
    memcpy(icc + 36, "acsp", 4);
    for (size_t i = 128; i < icc_n; i++) icc[i] = (uint8_t)(i * 7);
    static const uint8_t density[5] = {1, 0x01, 0x2c, 0x01, 0x2c}; /* 300 x 300 per inch */
    cr_assert_eq(pp_image_set_meta(ctx, img, "exif", exif, sizeof exif), PP_OK);
    cr_assert_eq(pp_image_set_meta(ctx, img, "icc", icc, icc_n), PP_OK);
    cr_assert_eq(pp_image_set_meta(ctx, img, "jfif:density", density, 5), PP_OK);
    void *buf;
    size_t size;
    encode(ctx, img, s, &buf, &size);
    const uint8_t *d = buf, *q = plain;
    /* SOI, then the JFIF segment (its density bytes at 14..18 of the file) */
    cr_assert(d[2] == 0xFF && d[3] == 0xE0);
    size_t app0 = 4 + ((size_t)d[4] << 8 | d[5]);
    cr_assert_eq(memcmp(d + 13, density, 5), 0, "JFIF density");
    /* the markers: everything up to the plain file's DQT */
    size_t mk = 0;
    while (d[app0 + mk] == 0xFF && (d[app0 + mk + 1] == 0xE1 || d[app0 + mk + 1] == 0xE2))
        mk += 2 + ((size_t)d[app0 + mk + 2] << 8 | d[app0 + mk + 3]);
    cr_assert_gt(mk, icc_n, "markers of %zu bytes", mk);
    cr_assert_eq(size, pn + mk, "%zu bytes, %zu without metadata", size, pn);
    cr_assert_eq(memcmp(d + app0 + mk, q + app0, pn - app0), 0, "the rest differs");
    pp_image *back = NULL;
    cr_assert_eq(pp_load_mem(ctx, buf, size, "m.jpg", &back), PP_OK, "%s", pp_ctx_last_error(ctx));
    size_t n;
    const void *got = pp_image_meta(back, "icc", &n);
    cr_assert(got && n == icc_n && memcmp(got, icc, n) == 0, "ICC profile changed");
    got = pp_image_meta(back, "exif", &n);
    cr_assert(got && n == sizeof exif && memcmp(got, exif, n) == 0, "EXIF changed");
    pp_image_free(back);
    free(icc);
    free(buf);
    free(plain);
    pp_image_free(img);
    pp_ctx_free(ctx);
}
