/*
 * test_depth16_io.c - 16 bits per channel through the codecs and the depth conversions: every
 * 16-bit round trip (PNG, TIFF, PNM, PSD) keeps every bit, files are valid 16-bit files (their
 * bytes checked where the format is simple), the PNG encoder writes the same bytes on every
 * backend, 8-bit formats get the image rounded, and pp_image_convert_depth is exact.
 */
#include "helpers.h"
#include "internal.h"

#include "specs.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *save(pp_ctx *ctx, const pp_image *im, pp_format f, size_t *n)
{
    void *buf = NULL;
    cr_assert_eq(pp_save_mem(ctx, im, f, &buf, n), PP_OK, "%s", pp_ctx_last_error(ctx));
    return buf;
}

static pp_image *load(pp_ctx *ctx, const void *buf, size_t n)
{
    pp_image *im = NULL;
    cr_assert_eq(pp_load_mem(ctx, buf, n, "mem", &im), PP_OK, "%s", pp_ctx_last_error(ctx));
    return im;
}

/* A 16-bit image whose samples use all 16 bits: random, plus 0, 1, 255, 256, 65534, 65535. */
static pp_image *image16(pp_ctx *ctx, int w, int h, int c, uint32_t seed)
{
    pp_image *im = th_random_image16(ctx, w, h, c, seed);
    uint16_t *d = (uint16_t *)(void *)pp_image_data(im);
    static const uint16_t edge[] = {0, 1, 255, 256, 65534, 65535};
    for (size_t i = 0; i < 6 && i < (size_t)w * h * c; i++) d[i] = edge[i];
    return im;
}

Test(depth16, lossless_round_trips_keep_every_bit)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    const pp_format fmts[] = {PP_FORMAT_PNG, PP_FORMAT_TIFF, PP_FORMAT_PNM, PP_FORMAT_PSD};
    for (int f = 0; f < 4; f++)
        for (int c = 1; c <= 4; c++) {
            /* PNM has no alpha; PSD is RGB(A) */
            if (fmts[f] == PP_FORMAT_PNM && pp_has_alpha(c)) continue;
            if (fmts[f] == PP_FORMAT_PSD && c < 3) continue;
            pp_image *in = image16(ctx, 37, 23, c, (uint32_t)(f * 10 + c));
            if (fmts[f] == PP_FORMAT_PSD && c == 4) { /* opaque and transparent extremes too */
                uint16_t *d = (uint16_t *)(void *)pp_image_data(in);
                d[3] = 65535;
                d[7] = 0;
                d[0 + 4] = d[1 + 4] = d[2 + 4] = 0; /* colour of a transparent pixel: 0 */
            }
            size_t n;
            void *buf = save(ctx, in, fmts[f], &n);
            pp_image *back = load(ctx, buf, n);
            cr_assert_eq(pp_image_depth(back), 16, "%s %d channels: depth %d",
                         pp_format_name(fmts[f]), c, pp_image_depth(back));
            if (fmts[f] == PP_FORMAT_PSD && c == 4) {
                /* a PSD's merged image is composited on white: colour is kept exactly where
                   the pixel is opaque, and to the precision alpha leaves elsewhere */
                for (int y = 0; y < 23; y++)
                    for (int x = 0; x < 37; x++) {
                        unsigned a = th_px16(in, x, y, 3);
                        cr_assert_eq(th_px16(back, x, y, 3), a);
                        for (int k = 0; k < 3 && a; k++) {
                            int d = abs((int)th_px16(back, x, y, k) - (int)th_px16(in, x, y, k));
                            cr_assert(d <= (a == 65535 ? 0 : (int)(65535 / a) + 1),
                                      "PSD RGBA (%d,%d) k %d alpha %u: off by %d", x, y, k, a, d);
                        }
                    }
            } else {
                cr_assert(th_same(in, back), "%s, %d channels: 16-bit round trip changed samples",
                          pp_format_name(fmts[f]), c);
            }
            pp_image_free(back);
            pp_image_free(in);
            free(buf);
        }
    pp_ctx_free(ctx);
}

Test(depth16, png_header_and_samples_are_big_endian_16_bit)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    const uint16_t px[] = {0x0102, 0xfffe, 0x8000};
    pp_image *in = th_image16_from(ctx, 3, 1, 1, px);
    size_t n;
    uint8_t *buf = save(ctx, in, PP_FORMAT_PNG, &n);
    cr_assert_eq(buf[24], 16, "IHDR bit depth %d", buf[24]);
    cr_assert_eq(buf[25], 0, "colour type %d", buf[25]);
    pp_image *back = load(ctx, buf, n);
    cr_assert_eq(th_px16(back, 0, 0, 0), 0x0102);
    cr_assert_eq(th_px16(back, 1, 0, 0), 0xfffe);
    pp_image_info info;
    cr_assert_eq(pp_image_depth(back), 16);
    free(buf);
    /* PNM: P5, maxval 65535, big-endian samples after the header */
    buf = save(ctx, in, PP_FORMAT_PNM, &n);
    const char *head = "P5\n3 1\n65535\n";
    size_t hl = strlen(head);
    cr_assert_eq(n, hl + 6);
    cr_assert(memcmp(buf, head, hl) == 0);
    const uint8_t body[] = {0x01, 0x02, 0xff, 0xfe, 0x80, 0x00};
    cr_assert(memcmp(buf + hl, body, 6) == 0, "PNM samples not big-endian");
    (void)info;
    pp_image_free(back);
    pp_image_free(in);
    free(buf);
    pp_ctx_free(ctx);
}

Test(depth16, png_16_bit_bytes_identical_on_every_backend_and_strip_size)
{
    pp_ctx *ref = th_ctx(PP_BACKEND_SERIAL, 1);
    for (int c = 1; c <= 4; c++) {
        pp_image *in = image16(ref, 301, 97, c, (uint32_t)c);
        size_t rn;
        void *rbuf = save(ref, in, PP_FORMAT_PNG, &rn);
        const pp_backend kinds[] = {PP_BACKEND_SERIAL, PP_BACKEND_OPENMP, PP_BACKEND_FORK};
        for (int k = 0; k < 3; k++)
            for (int w = 1; w <= 3; w++) {
                pp_ctx *ctx = th_ctx(kinds[k], w);
                /* several strips of an odd and an even number of rows: dictionaries cross
                   rows (5000 bytes: 1-8 rows a strip for 1-4 channels) */
                const size_t sb = (size_t)(w == 2 ? 3 : 2) * (301u * (unsigned)c * 2u + 1u) + 7u;
                ctx->png_strip_bytes = w == 1 ? 5000 : sb;
                ref->png_strip_bytes = ctx->png_strip_bytes;
                size_t n, n1;
                void *buf = save(ctx, in, PP_FORMAT_PNG, &n);
                void *buf1 = save(ref, in, PP_FORMAT_PNG, &n1);
                cr_assert(n == n1 && memcmp(buf, buf1, n) == 0,
                          "16-bit PNG bytes differ on backend %d with %d workers", k, w);
                pp_image *back = load(ctx, buf, n);
                cr_assert(th_same(in, back), "16-bit PNG in strips does not decode to the input");
                pp_image_free(back);
                free(buf);
                free(buf1);
                ref->png_strip_bytes = 0;
                pp_ctx_free(ctx);
            }
        pp_image *back = load(ref, rbuf, rn);
        cr_assert(th_same(in, back));
        pp_image_free(back);
        free(rbuf);
        pp_image_free(in);
    }
    pp_ctx_free(ref);
}

Test(depth16, convert_depth_is_exact_both_ways)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_FORK, 2);
    uint8_t v8[256];
    for (int i = 0; i < 256; i++) v8[i] = (uint8_t)i;
    pp_image *a = th_image_from(ctx, 16, 16, 1, v8), *b = NULL, *c = NULL;
    cr_assert_eq(pp_image_convert_depth(ctx, a, 16, &b), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(pp_image_depth(b), 16);
    for (int i = 0; i < 256; i++) cr_assert_eq(th_px16(b, i % 16, i / 16, 0), i * 257);
    cr_assert_eq(pp_image_convert_depth(ctx, b, 8, &c), PP_OK);
    cr_assert(th_same(a, c), "8 -> 16 -> 8 is not the identity");
    pp_image_free(b);
    pp_image_free(c);
    /* 16 -> 8 is round(v * 255 / 65535) for every value */
    uint16_t *all = malloc(65536 * 2);
    for (int i = 0; i < 65536; i++) all[i] = (uint16_t)i;
    pp_image *w = th_image16_from(ctx, 256, 256, 1, all), *n = NULL;
    cr_assert_eq(pp_image_convert_depth(ctx, w, 8, &n), PP_OK);
    const uint8_t *d = pp_image_data(n);
    for (int i = 0; i < 65536; i++) {
        double want = i * 255.0 / 65535.0;
        int r = (int)(want + 0.5);
        cr_assert_eq(d[(size_t)(i / 256) * pp_image_stride(n) + (size_t)(i % 256)], r,
                     "16 -> 8 of %d", i);
    }
    free(all);
    pp_image_free(w);
    pp_image_free(n);
    pp_image_free(a);
    cr_assert_neq(pp_image_convert_depth(ctx, NULL, 8, &n), PP_OK);
    cr_assert(pp_ctx_last_error(ctx)[0]);
    pp_ctx_free(ctx);
}

Test(depth16, eight_bit_formats_get_the_image_rounded)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *in = image16(ctx, 29, 11, 3, 7), *n8 = NULL;
    cr_assert_eq(pp_image_convert_depth(ctx, in, 8, &n8), PP_OK);
    const pp_format fmts[] = {PP_FORMAT_JPEG, PP_FORMAT_BMP, PP_FORMAT_TGA};
    for (int f = 0; f < 3; f++) {
        size_t a, b;
        void *x = save(ctx, in, fmts[f], &a), *y = save(ctx, n8, fmts[f], &b);
        cr_assert(a == b && memcmp(x, y, a) == 0, "%s of a 16-bit image is not the rounded one",
                  pp_format_name(fmts[f]));
        free(x);
        free(y);
    }
    pp_image_free(n8);
    pp_image_free(in);
    pp_ctx_free(ctx);
}

Test(depth16, pnm_maxval_above_255_scales_to_16_bits)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    /* P2, maxval 1000: 0 -> 0, 1000 -> 65535, 500 -> round(500 * 65535 / 1000) = 32768 */
    const char *p2 = "P2\n3 1\n1000\n0 500 1000\n";
    pp_image *im = load(ctx, p2, strlen(p2));
    cr_assert_eq(pp_image_depth(im), 16);
    cr_assert_eq(th_px16(im, 0, 0, 0), 0);
    cr_assert_eq(th_px16(im, 1, 0, 0), 32768);
    cr_assert_eq(th_px16(im, 2, 0, 0), 65535);
    pp_image_free(im);
    /* maxval 255 stays 8 bits */
    const char *p2b = "P2\n1 1\n255\n7\n";
    im = load(ctx, p2b, strlen(p2b));
    cr_assert_eq(pp_image_depth(im), 8);
    pp_image_free(im);
    pp_ctx_free(ctx);
}

Test(depth16, info_says_the_depth_as_decoded)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    char *dir = th_tmpdir("depth16_info");
    pp_image *in = image16(ctx, 5, 4, 3, 1);
    char path[512];
    snprintf(path, sizeof path, "%s/a.png", dir);
    cr_assert_eq(pp_save(ctx, in, path), PP_OK, "%s", pp_ctx_last_error(ctx));
    pp_image_info info;
    cr_assert_eq(pp_info(ctx, path, &info), PP_OK);
    cr_assert_eq(info.depth, 16);
    cr_assert_eq(info.decoded_depth, 16);
    snprintf(path, sizeof path, "%s/a.jpg", dir);
    cr_assert_eq(pp_save(ctx, in, path), PP_OK, "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(pp_info(ctx, path, &info), PP_OK);
    cr_assert_eq(info.decoded_depth, 8);
    pp_image_free(in);
    th_rm_rf(dir);
    pp_ctx_free(ctx);
}

Test(depth16, filters_without_16_bit_kernels_say_so)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *in = image16(ctx, 5, 4, 3, 1), *out = NULL;
    /* find a filter that does not take 16 bits, if any is left */
    for (int i = 0; i < pp_registry_count(); i++) {
        const pp_filter_def *d = pp_registry_at(i);
        if (d->depths & PP_DEPTH_16) continue;
        const char *specs[8];
        cr_assert(th_specs_for(d->info.name, specs) > 0);
        pp_status st = pp_apply(ctx, specs[0], in, &out);
        cr_assert_eq(st, PP_ERR_SPEC, "%s on a 16-bit image: %d", specs[0], st);
        cr_assert(strstr(pp_ctx_last_error(ctx), "16-bit"), "%s", pp_ctx_last_error(ctx));
        cr_assert_null(out);
    }
    pp_image_free(in);
    pp_ctx_free(ctx);
}
