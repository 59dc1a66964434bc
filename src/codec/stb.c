/*
 * stb.c - BMP, TGA and GIF (first frame) through stb_image, and BMP and TGA through
 * stb_image_write, by way of the wrappers of stb_wrap.h (stb itself is compiled in stb_impl.c).
 * Before stb_image sees a BMP, a check of this file refuses what that stb would get wrong (a
 * palette index beyond the palette). (JPEG: jpeg_read.c, jpeg_write.c.)
 */
#include "codec.h"
#include "stb_wrap.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- stb_image formats ------------------------------------------------------------------- */

/* stb_image's BMP reader takes a paletted image's colours from a 256-entry table on its stack
   that it fills only with the entries the file holds (as many as fit between the headers and
   the pixel data): an index beyond them - or a header leaving no room for any - copies
   uninitialised stack memory into the image (valgrind on a hand-made file; see
   tests/test_hostile.c). So the indices of an uncompressed 1/4/8-bit BMP are checked first,
   with stb's own arithmetic for the palette size; anything else is left to stb. Returns false
   for such a file, with the palette size and the first bad index. */
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool bmp_palette_ok(const uint8_t *d, size_t n, int64_t *entries, int *bad)
{
    if (n < 30) return true;
    const int64_t offset = (int32_t)le32(d + 10), hsz = le32(d + 14);
    int64_t w, h;
    int bpp;
    if (hsz == 12) {
        w = d[18] | d[19] << 8, h = d[20] | d[21] << 8, bpp = d[24] | d[25] << 8;
    } else if (hsz == 40 || hsz == 56 || hsz == 108 || hsz == 124) {
        if (n < 34 || le32(d + 30) != 0) return true; /* compressed: stb refuses or decodes it */
        w = (int32_t)le32(d + 18), h = (int32_t)le32(d + 22), bpp = d[28] | d[29] << 8;
    } else {
        return true;
    }
    if ((bpp != 1 && bpp != 4 && bpp != 8) || offset < 0 || w <= 0) return true;
    *entries = hsz == 12 ? (offset - 14 - 24) / 3 : (offset - 14 - hsz) / 4;
    *bad = -1;
    if (*entries < 1) return false;
    if (h < 0) h = -h;
    const int64_t bytes = bpp == 1 ? (w + 7) / 8 : bpp == 4 ? (w + 1) / 2 : w;
    const int64_t stride = bytes + (-bytes & 3);
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            int64_t at = offset + y * stride + x * bpp / 8;
            if (at >= (int64_t)n) return true; /* truncated: stb's reader notices it */
            int v = d[at] >> (8 - bpp - (int)(x * bpp % 8)) & ((1 << bpp) - 1);
            if (v >= *entries) {
                *bad = v;
                return false;
            }
        }
    return true;
}

/* 1 when the first frame of a GIF declares a transparent colour (the transparency flag of the
   graphic control extension before its image descriptor), 0 when it does not - then the frame
   is opaque and decodes to 3 channels - and 1 when the blocks cannot be followed (stb decides). */
static int gif_first_frame_transparent(const uint8_t *d, size_t n)
{
    if (n < 13) return 1;
    size_t pos = 13;
    if (d[10] & 0x80) pos += 3u * ((size_t)2 << (d[10] & 7)); /* global colour table */
    int transparent = 0;
    while (pos < n) {
        if (d[pos] == 0x2c) return transparent; /* the first image descriptor */
        if (d[pos] != 0x21 || pos + 1 >= n) return 1;
        uint8_t label = d[pos + 1];
        pos += 2;
        if (label == 0xf9 && pos + 1 < n && d[pos] >= 4) transparent = d[pos + 1] & 1;
        while (pos < n && d[pos] != 0) pos += 1u + d[pos]; /* sub-blocks */
        if (pos >= n) return 1;
        pos++; /* the block terminator */
    }
    return 1;
}

/* BMP, TGA and GIF (first frame). (PSD has its own decoder: psd.c; JPEG: jpeg_read.c, jpeg_write.c.) */
pp_status pp_stb_decode(pp_ctx *ctx, const char *name, pp_format fmt, const uint8_t *data,
                        size_t size, pp_image_info *info, pp_image **out)
{
    if (size > INT_MAX)
        return pp_fail(ctx, PP_ERR_LIMIT, "%s: %zu bytes is over the %s decoder's limit of %d",
                       name, size, pp_format_name(fmt), INT_MAX);
    int len = (int)size, w, h, c;
    if (!pp_stb_info(fmt, data, len, &w, &h, &c)) {
        const char *why = pp_stb_failure_reason();
        if (strcmp(why, "too large") == 0) /* stb's own limit, from the header */
            return pp_fail(ctx, PP_ERR_LIMIT, "%s: the header declares an image too large for the "
                           "%s decoder", name, pp_format_name(fmt));
        return pp_fail(ctx, PP_ERR_DECODE, "%s: %s", name,
                       *why ? why : "invalid or unsupported image header");
    }
    /* a top-down BMP stores a negative height, which stb's header reader passes on (its
       decoder takes the absolute value); INT_MIN has none and is refused below */
    if (fmt == PP_FORMAT_BMP && h < 0 && h != INT_MIN) h = -h;
    if (c < 1 || c > 4 || w <= 0 || h <= 0)
        return pp_fail(ctx, PP_ERR_DECODE, "%s: invalid image header (%dx%d, %d channels)", name,
                       w, h, c);
    /* stb gives every GIF 4 channels; an opaque first frame keeps the 3 the file has */
    int keep = fmt == PP_FORMAT_GIF && c == 4 && !gif_first_frame_transparent(data, size) ? 3 : c;
    pp_image_info hdr = {fmt, w, h, keep, 8, 8};
    if (!out) {
        *info = hdr;
        return PP_OK;
    }
    size_t bytes;
    pp_status st = pp_check_size(ctx, name, w, h, keep, &bytes);
    if (st) return st;
    /* The memory limit covers stb_image's buffers too, estimated per pixel from what it
       allocates: GIF 4 + 4 + 1 bytes (frame, background, history) and the result; BMP/TGA a
       4-channel buffer and the result; plus our image. */
    uint64_t px = (uint64_t)w * (uint64_t)h;
    uint64_t per = fmt == PP_FORMAT_GIF ? 9u + (uint64_t)c : 4u + (uint64_t)c;
    if ((st = pp_check_memory(ctx, name, 0, px * per + bytes, "decoder buffers"))) return st;
    int64_t entries;
    int bad;
    if (fmt == PP_FORMAT_BMP && !bmp_palette_ok(data, size, &entries, &bad)) {
        if (bad < 0)
            return pp_fail(ctx, PP_ERR_DECODE, "%s: BMP: no room for a palette before the pixels",
                           name);
        return pp_fail(ctx, PP_ERR_DECODE, "%s: BMP: colour index %d beyond the %lld colours "
                       "of the palette", name, bad, (long long)entries);
    }

    int w2 = 0, h2 = 0;
    int past_end = 0;
    void *pixels = pp_stb_load(data, len, &w2, &h2, c, &past_end);
    if (!pixels) {
        const char *why = pp_stb_failure_reason();
        if (strcmp(why, "outofmem") == 0)
            return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
        return pp_fail(ctx, PP_ERR_DECODE, "%s: %s", name, *why ? why : "cannot decode");
    }
    /* stb fills what is missing with zeros: a BMP, TGA or GIF whose pixel data ends early is
       an error */
    if (past_end) {
        pp_stb_free(pixels);
        return pp_fail(ctx, PP_ERR_DECODE, "%s: truncated %s pixel data", name,
                       pp_format_name(fmt));
    }
    if (w2 != w || h2 != h) {
        pp_stb_free(pixels);
        return pp_fail(ctx, PP_ERR_DECODE, "%s: the header says %dx%d but %dx%d were decoded",
                       name, w, h, w2, h2);
    }
    pp_image *img;
    st = pp_codec_alloc_image(ctx, name, w, h, keep, &img);
    if (st) {
        pp_stb_free(pixels);
        return st;
    }
    if (keep == c) {
        memcpy(img->data, pixels, bytes); /* a fresh image is tightly packed */
    } else { /* RGBA with every alpha 255 (no transparent colour) -> RGB */
        const uint8_t *s = pixels;
        for (size_t i = 0; i < (size_t)px; i++) memcpy(img->data + i * 3, s + i * 4, 3);
    }
    pp_stb_free(pixels);
    if (info) *info = hdr;
    *out = img;
    return PP_OK;
}

/* ---- stb_image_write formats ------------------------------------------------------------- */

static void stb_sink_cb(void *context, void *data, int size)
{
    if (size > 0) pp_sink_write(context, data, (size_t)size);
}

/* BMP (gray+alpha is written as RGBA so the alpha survives) and TGA. stb wants tightly packed
   pixels, so a strided image is packed into a copy first. stb's global settings (TGA RLE on,
   no flip) are left. */
pp_status pp_stb_encode(pp_ctx *ctx, const pp_image *img, pp_format fmt, pp_sink *out,
                        const char *name)
{
    int w = img->width, h = img->height, c = img->channels;
    int oc = fmt == PP_FORMAT_BMP && c == 2 ? 4 : c; /* channels handed to stb */
    int maxdim = fmt == PP_FORMAT_BMP ? INT_MAX : 65535; /* 16-bit size fields */
    /* stb computes offsets and the BMP file size in int: keep well inside it */
    if (w > maxdim || h > maxdim || (uint64_t)w * (uint64_t)h * 4u + 1024u > (uint64_t)INT_MAX)
        return pp_fail(ctx, PP_ERR_LIMIT, "%s: %dx%d is too large for the %s encoder", name, w, h,
                       pp_format_name(fmt));
    size_t row = (size_t)w * (size_t)c;
    const uint8_t *pixels = img->data;
    uint8_t *packed = NULL;
    if (oc != c || img->stride != row) {
        packed = malloc((size_t)w * (size_t)h * (size_t)oc);
        if (!packed) return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
        for (int y = 0; y < h; y++) {
            const uint8_t *s = img->data + (size_t)y * img->stride;
            uint8_t *d = packed + (size_t)y * (size_t)w * (size_t)oc;
            if (oc == c) {
                memcpy(d, s, row);
            } else { /* gray+alpha -> RGBA */
                for (int x = 0; x < w; x++, s += 2, d += 4) {
                    d[0] = d[1] = d[2] = s[0];
                    d[3] = s[1];
                }
            }
        }
        pixels = packed;
    }
    int ok;
    if (fmt == PP_FORMAT_BMP)
        ok = pp_stb_write_bmp(stb_sink_cb, out, w, h, oc, pixels);
    else
        ok = pp_stb_write_tga(stb_sink_cb, out, w, h, oc, pixels);
    free(packed);
    if (out->err) return pp_sink_fail(ctx, out, name);
    if (!ok) return pp_fail(ctx, PP_ERR_ENCODE, "%s: the %s encoder failed", name,
                            pp_format_name(fmt));
    return PP_OK;
}
