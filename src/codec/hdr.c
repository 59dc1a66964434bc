/*
 * hdr.c - the Radiance HDR decoder, a small one of pixpool's own rather than stb_image's (why:
 * below).
 */
#include "codec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Radiance HDR decoding --------------------------------------------------------------- */

/* stb_image's HDR reader loops forever on a run-length count of 0 (which a truncated file gives)
   and leaves pixels uninitialised when flat data is short, so HDR is decoded here. It reads what
   stb reads: a "#?RADIANCE" or "#?RGBE" file of RGBE pixels (FORMAT=32-bit_rle_rgbe, or no
   FORMAT line), "-Y height +X width" orientation, each scanline flat or new-style run-length
   encoded. The tone mapping is stb's default HDR-to-LDR conversion, so the result is the same:
   each channel v = mantissa * 2^(exponent - 136) becomes (int)(255 * v^(1/2.2) + 0.5), clamped
   to 0..255; an exponent of 0 is black. */

typedef struct hdr_header {
    int width, height;
    size_t data; /* offset of the pixel data */
} hdr_header;

/* The next '\n'-terminated line at *pos: its start and length; false at the end of the data. */
static bool hdr_line(const uint8_t *d, size_t n, size_t *pos, const char **line, size_t *len)
{
    if (*pos >= n) return false;
    const uint8_t *nl = memchr(d + *pos, '\n', n - *pos);
    if (!nl) return false;
    *line = (const char *)d + *pos;
    *len = (size_t)(nl - (d + *pos));
    *pos += *len + 1;
    return true;
}

/* Parses "<sign><axis> <digits>" at *p (within end); false unless it matches. */
static bool hdr_dim(const char **p, const char *end, const char *axis, int *value)
{
    size_t alen = strlen(axis);
    if ((size_t)(end - *p) < alen || memcmp(*p, axis, alen) != 0) return false;
    *p += alen;
    while (*p < end && **p == ' ') (*p)++;
    long v = 0;
    const char *start = *p;
    while (*p < end && **p >= '0' && **p <= '9') {
        v = v * 10 + (**p - '0');
        if (v > INT32_MAX) return false;
        (*p)++;
    }
    if (*p == start || v == 0) return false;
    *value = (int)v;
    return true;
}

static pp_status hdr_read_header(pp_ctx *ctx, const char *name, const uint8_t *d, size_t n,
                                 hdr_header *h)
{
    size_t pos = 0, len;
    const char *line;
    if (!hdr_line(d, n, &pos, &line, &len)) /* the magic line */
        return pp_fail(ctx, PP_ERR_DECODE, "%s: truncated HDR header", name);
    for (;;) {
        if (!hdr_line(d, n, &pos, &line, &len))
            return pp_fail(ctx, PP_ERR_DECODE, "%s: truncated HDR header", name);
        if (len == 0) break;
        if (len >= 7 && memcmp(line, "FORMAT=", 7) == 0 &&
            !(len == 22 && memcmp(line + 7, "32-bit_rle_rgbe", 15) == 0))
            return pp_fail(ctx, PP_ERR_FORMAT, "%s: unsupported HDR pixel format '%.*s'", name,
                           (int)(len - 7 > 40 ? 40 : len - 7), line + 7);
    }
    if (!hdr_line(d, n, &pos, &line, &len))
        return pp_fail(ctx, PP_ERR_DECODE, "%s: truncated HDR header", name);
    const char *p = line, *end = line + len;
    if (!hdr_dim(&p, end, "-Y ", &h->height)) goto bad;
    while (p < end && *p == ' ') p++;
    if (!hdr_dim(&p, end, "+X ", &h->width)) goto bad;
    while (p < end && (*p == ' ' || *p == '\r')) p++;
    if (p != end) goto bad;
    h->data = pos;
    return PP_OK;
bad:
    return pp_fail(ctx, PP_ERR_DECODE,
                   "%s: unsupported HDR resolution line '%.*s' (\"-Y height +X width\" expected)",
                   name, (int)(len > 40 ? 40 : len), line);
}

/* stb's conversion of one RGBE channel (mantissa m, exponent e != 0). */
static uint8_t hdr_tone(int m, int e)
{
    float v = m * (float)ldexp(1.0f, e - (128 + 8));
    float z = (float)pow(v * 1.0f, 1.0f / 2.2f) * 255 + 0.5f;
    if (z < 0) z = 0;
    if (z > 255) z = 255;
    return (uint8_t)(int)z;
}

pp_status pp_hdr_decode(pp_ctx *ctx, const char *name, const uint8_t *d, size_t n,
                        pp_image_info *info, pp_image **out)
{
    hdr_header h = {0};
    pp_status st = hdr_read_header(ctx, name, d, n, &h);
    if (st) return st;
    pp_image_info hdr = {PP_FORMAT_HDR, h.width, h.height, 3, 32, 8};
    if (!out) {
        *info = hdr;
        return PP_OK;
    }
    st = pp_check_size(ctx, name, h.width, h.height, 3, NULL);
    if (st) return st;
    /* the memory limit covers the image, the scanline buffer and the tone table */
    st = pp_check_memory(ctx, name, 0,
                         (uint64_t)h.width * (uint64_t)h.height * 3u + (uint64_t)h.width * 4u +
                             65536u,
                         "decoder buffers");
    if (st) return st;
    size_t w = (size_t)h.width, pos = h.data;
    /* every scanline takes 4 bytes at least (an RLE header), flat ones 4 per pixel */
    if (n - pos < 4 || (size_t)h.height > (n - pos) / 4)
        return pp_fail(ctx, PP_ERR_DECODE, "%s: truncated HDR pixel data", name);
    uint8_t *line = malloc(w * 4);
    /* the tone curve, one 256-entry row per exponent, filled on first use */
    uint8_t *tone = malloc(256 * 256);
    bool filled[256] = {false};
    pp_image *img = NULL;
    if (!line || !tone) {
        free(line);
        free(tone);
        return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
    }
    st = pp_codec_alloc_image(ctx, name, h.width, h.height, 3, &img);
    const char *why = NULL;
    for (int y = 0; st == PP_OK && !why && y < h.height; y++) {
        bool rle = w >= 8 && w < 32768 && n - pos >= 4 && d[pos] == 2 && d[pos + 1] == 2 &&
                   !(d[pos + 2] & 0x80);
        if (rle) {
            if ((size_t)(d[pos + 2] << 8 | d[pos + 3]) != w) {
                why = "invalid run-length scanline width";
                break;
            }
            pos += 4;
            for (int k = 0; k < 4 && !why; k++) {
                size_t x = 0;
                while (x < w) {
                    if (pos >= n) {
                        why = "truncated pixel data";
                        break;
                    }
                    unsigned count = d[pos++];
                    if (count > 128) { /* a run of one value */
                        count -= 128;
                        if (count > w - x || pos >= n) {
                            why = pos >= n ? "truncated pixel data" : "bad run-length data";
                            break;
                        }
                        for (unsigned i = 0; i < count; i++) line[(x++) * 4 + k] = d[pos];
                        pos++;
                    } else { /* count literal values */
                        if (count == 0 || count > w - x || count > n - pos) {
                            why = count > n - pos && count <= w - x ? "truncated pixel data"
                                                                     : "bad run-length data";
                            break;
                        }
                        for (unsigned i = 0; i < count; i++) line[(x++) * 4 + k] = d[pos++];
                    }
                }
            }
        } else {
            if (w > (n - pos) / 4) {
                why = "truncated pixel data";
                break;
            }
            memcpy(line, d + pos, w * 4);
            pos += w * 4;
        }
        if (why) break;
        uint8_t *dst = img->data + (size_t)y * img->stride;
        for (size_t x = 0; x < w; x++, dst += 3) {
            const uint8_t *px = line + x * 4;
            int e = px[3];
            if (e == 0) {
                dst[0] = dst[1] = dst[2] = 0;
                continue;
            }
            uint8_t *row = tone + (size_t)e * 256;
            if (!filled[e]) {
                for (int m = 0; m < 256; m++) row[m] = hdr_tone(m, e);
                filled[e] = true;
            }
            dst[0] = row[px[0]];
            dst[1] = row[px[1]];
            dst[2] = row[px[2]];
        }
    }
    free(line);
    free(tone);
    if (st == PP_OK && why) st = pp_fail(ctx, PP_ERR_DECODE, "%s: HDR: %s", name, why);
    if (st) {
        pp_image_free(img);
        return st;
    }
    if (info) *info = hdr;
    *out = img;
    return PP_OK;
}
