/*
 * pnm.c - the PNM decoder (P1-P6), a small one of pixpool's own rather than stb_image's (why:
 * below).
 */
#include "codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- PNM decoding (P1-P6) ---------------------------------------------------------------- */

/* stb_image reads only binary P5/P6, does not rescale a maxval other than 255/65535 and does not
   notice truncated pixel data, so PNM is decoded here: P1/P4 bitmaps (1 = black), P2/P5
   graymaps and P3/P6 pixmaps, plain (ASCII) or raw. A maxval up to 255 is scaled to 0..255,
   one above 255 to 16 bits, 0..65535, with rounding (65535 and 255 exactly, no scaling). Only
   the first image of a multi-image file is read. */

typedef struct pnm_reader {
    const uint8_t *d;
    size_t n, pos;
} pnm_reader;

/* Skips whitespace and '#' comments (which run to the end of the line). */
static void pnm_skip(pnm_reader *r)
{
    while (r->pos < r->n) {
        if (pp_pnm_is_space(r->d[r->pos])) {
            r->pos++;
        } else if (r->d[r->pos] == '#') {
            while (r->pos < r->n && r->d[r->pos] != '\n' && r->d[r->pos] != '\r') r->pos++;
        } else {
            break;
        }
    }
}

/* Reads an unsigned decimal number up to `max`; -1 when there is none, -2 when too large. */
static long pnm_number(pnm_reader *r, long max)
{
    pnm_skip(r);
    if (r->pos >= r->n || r->d[r->pos] < '0' || r->d[r->pos] > '9') return -1;
    long v = 0;
    while (r->pos < r->n && r->d[r->pos] >= '0' && r->d[r->pos] <= '9') {
        v = v * 10 + (r->d[r->pos++] - '0');
        if (v > max) return -2;
    }
    return v;
}

pp_status pp_pnm_decode(pp_ctx *ctx, const char *name, const uint8_t *data, size_t size,
                        pp_image_info *info, pp_image **out)
{
    pnm_reader r = {data, size, 2};
    int type = data[1] - '0';
    bool bitmap = type == 1 || type == 4;
    bool plain = type <= 3;
    int channels = type == 3 || type == 6 ? 3 : 1;
    static const char *const what[] = {"width", "height", "maximum value"};
    long v[3] = {0, 0, 1};
    for (int i = 0; i < (bitmap ? 2 : 3); i++) {
        v[i] = pnm_number(&r, i < 2 ? INT32_MAX : 65535);
        if (v[i] == -1)
            return pp_fail(ctx, PP_ERR_DECODE, "%s: PNM header: missing %s", name, what[i]);
        if (v[i] == -2 || v[i] == 0)
            return pp_fail(ctx, PP_ERR_DECODE, "%s: PNM header: invalid %s (%s)", name, what[i],
                           i < 2 ? "must be 1..2147483647" : "must be 1..65535");
    }
    long width = v[0], height = v[1], maxval = v[2];
    /* Exactly one whitespace character separates the header from raw pixel data. */
    if (!plain) {
        if (r.pos >= size || !pp_pnm_is_space(data[r.pos]))
            return pp_fail(ctx, PP_ERR_DECODE, "%s: PNM header: truncated or malformed", name);
        r.pos++;
    }

    const bool wide = maxval > 255; /* decoded to 16 bits */
    pp_image_info hdr = {PP_FORMAT_PNM, (int)width, (int)height, channels,
                         bitmap ? 1 : wide ? 16 : 8, wide ? 16 : 8};
    if (!out) {
        *info = hdr;
        return PP_OK;
    }
    pp_status st = pp_check_size_depth(ctx, name, width, height, channels, wide ? 16 : 8, NULL);
    if (st) return st;

    size_t w = (size_t)width, h = (size_t)height, c = (size_t)channels;
    size_t avail = size - r.pos;
    /* Check that the raster can be all there before allocating anything: raw rows have a fixed
       size; a plain sample takes at least one byte (P1) or a digit and a separator. */
    size_t row = !plain ? (bitmap ? (w + 7) / 8 : w * c * (maxval > 255 ? 2 : 1))
                        : (bitmap ? w : 2 * w * c);
    if (row > avail || h > (avail + (plain && !bitmap)) / row)
        return pp_fail(ctx, PP_ERR_DECODE,
                       "%s: truncated PNM pixel data (%zu bytes, %zu rows of %zu%s needed)", name,
                       avail, h, row, plain ? " or more" : "");

    pp_image *img;
    st = pp_codec_alloc_image_depth(ctx, name, (int)width, (int)height, channels,
                                    wide ? 16 : 8, &img);
    if (st) return st;
    const uint8_t *p = data + r.pos;
    unsigned mv = (unsigned)maxval, half = mv / 2;
    for (size_t y = 0; y < h; y++) {
        uint8_t *dst = img->data + y * img->stride;
        uint16_t *dst16 = (uint16_t *)(void *)dst;
        if (type == 4) {
            const uint8_t *src = p + y * ((w + 7) / 8);
            for (size_t x = 0; x < w; x++) dst[x] = (src[x / 8] >> (7 - x % 8)) & 1 ? 0 : 255;
        } else if (type == 1) {
            for (size_t x = 0; x < w; x++) {
                pnm_skip(&r);
                if (r.pos >= size || (data[r.pos] != '0' && data[r.pos] != '1')) {
                    pp_image_free(img);
                    return pp_fail(ctx, PP_ERR_DECODE, "%s: %s PNM bitmap data at byte %zu",
                                   name, r.pos >= size ? "truncated" : "invalid", r.pos);
                }
                dst[x] = data[r.pos++] == '1' ? 0 : 255;
            }
        } else if (plain) {
            for (size_t x = 0; x < w * c; x++) {
                long s = pnm_number(&r, 65535);
                if (s < 0 || s > maxval) {
                    pp_image_free(img);
                    if (s == -1)
                        return pp_fail(ctx, PP_ERR_DECODE, "%s: %s PNM sample at byte %zu", name,
                                       r.pos >= size ? "truncated data: missing" : "invalid",
                                       r.pos);
                    return pp_fail(ctx, PP_ERR_DECODE,
                                   "%s: PNM sample at byte %zu exceeds the maximum value %ld",
                                   name, r.pos, maxval);
                }
                if (wide)
                    dst16[x] = mv == 65535 ? (uint16_t)s
                                           : (uint16_t)(((uint32_t)s * 65535u + half) / mv);
                else
                    dst[x] = mv == 255 ? (uint8_t)s : (uint8_t)(((unsigned)s * 255u + half) / mv);
            }
        } else if (maxval <= 255) {
            const uint8_t *src = p + y * w * c;
            if (mv == 255) {
                memcpy(dst, src, w * c);
            } else {
                for (size_t x = 0; x < w * c; x++) {
                    unsigned s = src[x] > mv ? mv : src[x];
                    dst[x] = (uint8_t)((s * 255u + half) / mv);
                }
            }
        } else {
            const uint8_t *src = p + y * w * c * 2;
            for (size_t x = 0; x < w * c; x++) {
                uint32_t s = (uint32_t)src[2 * x] << 8 | src[2 * x + 1];
                if (s > mv) s = mv;
                dst16[x] = mv == 65535 ? (uint16_t)s : (uint16_t)((s * 65535u + half) / mv);
            }
        }
    }
    if (info) *info = hdr;
    *out = img;
    return PP_OK;
}

/* ---- PNM encoding ------------------------------------------------------------------------- */

/* P5 (gray) or P6 (RGB), raw, maxval 255 for 8-bit images and 65535 for 16-bit ones (samples
   big-endian); PNM has no alpha channel: it is dropped, as for JPEG. */
pp_status pp_pnm_encode(pp_ctx *ctx, const pp_image *img, pp_sink *out, const char *name)
{
    const int c = img->channels, cc = pp_color_channels(c), w = img->width;
    const bool wide = img->depth == 16;
    char head[64];
    int n = snprintf(head, sizeof head, "P%c\n%d %d\n%d\n", cc == 1 ? '5' : '6', w, img->height,
                     wide ? 65535 : 255);
    pp_sink_write(out, head, (size_t)n);
    const size_t rowbytes = (size_t)w * (size_t)cc * (wide ? 2u : 1u);
    uint8_t *row = malloc(rowbytes ? rowbytes : 1);
    if (!row) return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
    for (int y = 0; y < img->height && !out->err; y++) {
        const uint8_t *src = img->data + (size_t)y * img->stride;
        const uint16_t *src16 = (const uint16_t *)(const void *)src;
        size_t o = 0;
        for (int x = 0; x < w; x++)
            for (int k = 0; k < cc; k++) {
                if (wide) {
                    uint16_t v = src16[(size_t)x * c + k];
                    row[o++] = (uint8_t)(v >> 8);
                    row[o++] = (uint8_t)v;
                } else {
                    row[o++] = src[(size_t)x * c + k];
                }
            }
        pp_sink_write(out, row, rowbytes);
    }
    free(row);
    if (out->err) return pp_sink_fail(ctx, out, name);
    return PP_OK;
}
