/*
 * psd.c - the PSD decoder. PSD was first read through stb_image, as JPEG, BMP, TGA and GIF still
 * are (stb.c); why it has a decoder of its own: below.
 */
#include "codec.h"

#include <stdlib.h>
#include <string.h>

/* ---- PSD decoding ------------------------------------------------------------------------ */

/* stb_image's PSD reader (what this replaces; found by tests/fuzz/fuzz_load.c) converts a
   negative float to an unsigned integer - undefined behaviour - when it removes the white matte
   of an image with alpha whose colour lies below the matte, fills truncated pixel data with
   zeros instead of failing, and reads 16-bit RLE data as 8-bit. So PSD is decoded here, as stb
   decodes a valid file: the composited image of a version-1 PSD in RGB mode, 8 or 16 bits,
   raw or PackBits (RLE) compressed (runs may cross rows, as stb allows), 1 to 56 channels of
   which the first four are R, G, B, A (missing colour channels are 0, a missing alpha is
   opaque); 4 channels out when the file has an alpha channel (4 or more channels), else 3. With alpha, the white matte is removed as stb does (in
   single precision, at the file's depth: c = c' / a + max (1 - 1 / a) for 0 < a < max, then
   truncated), clamped to 0..max where stb's result was undefined. A 16-bit file gives a 16-bit
   image (stb rounded it to 8 bits). Everything the pixels need is checked to be present
   before the image is allocated. */

typedef struct psd_header {
    int width, height, channels, depth, rle;
    size_t data; /* offset of the image data (RLE: of the row byte counts) */
    size_t res, res_len; /* the image resources section (metadata: psd_meta.c) */
} psd_header;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static pp_status psd_read_header(pp_ctx *ctx, const char *name, const uint8_t *d, size_t n,
                                 psd_header *h)
{
    if (n < 26) return pp_fail(ctx, PP_ERR_DECODE, "%s: truncated PSD header", name);
    unsigned version = (unsigned)d[4] << 8 | d[5];
    if (version != 1)
        return pp_fail(ctx, PP_ERR_FORMAT, "%s: unsupported PSD version %u (only 1)", name,
                       version);
    h->channels = d[12] << 8 | d[13];
    uint32_t rows = be32(d + 14), cols = be32(d + 18);
    h->depth = d[22] << 8 | d[23];
    unsigned mode = (unsigned)d[24] << 8 | d[25];
    if (h->channels < 1 || h->channels > 56)
        return pp_fail(ctx, PP_ERR_DECODE, "%s: PSD: invalid channel count %d (1..56)", name,
                       h->channels);
    if (rows == 0 || cols == 0 || rows > INT32_MAX || cols > INT32_MAX)
        return pp_fail(ctx, PP_ERR_DECODE, "%s: PSD: invalid size %lux%lu", name,
                       (unsigned long)cols, (unsigned long)rows);
    if (h->depth != 8 && h->depth != 16)
        return pp_fail(ctx, PP_ERR_FORMAT, "%s: unsupported PSD depth %d (8 or 16 bits)", name,
                       h->depth);
    if (mode != 3)
        return pp_fail(ctx, PP_ERR_FORMAT, "%s: unsupported PSD colour mode %u (RGB only)", name,
                       mode);
    h->width = (int)cols;
    h->height = (int)rows;
    size_t pos = 26;
    for (int i = 0; i < 3; i++) { /* colour mode data, image resources, layers and masks */
        if (n - pos < 4) return pp_fail(ctx, PP_ERR_DECODE, "%s: truncated PSD", name);
        uint32_t len = be32(d + pos);
        pos += 4;
        if (len > n - pos) return pp_fail(ctx, PP_ERR_DECODE, "%s: truncated PSD", name);
        if (i == 1) h->res = pos, h->res_len = len;
        pos += len;
    }
    if (n - pos < 2) return pp_fail(ctx, PP_ERR_DECODE, "%s: truncated PSD", name);
    unsigned comp = (unsigned)d[pos] << 8 | d[pos + 1];
    if (comp > 1)
        return pp_fail(ctx, PP_ERR_FORMAT,
                       "%s: unsupported PSD compression %u (raw or RLE only)", name, comp);
    h->rle = comp == 1;
    h->data = pos + 2;
    return PP_OK;
}

/* Unpacks one channel's PackBits stream at d[pos..n) into the interleaved samples of `raw`
   (4 channels of `bps` bytes, big-endian): stream byte g is byte g % bps of sample g / bps.
   `total` stream bytes are expected. Returns the position after the stream, or 0 when it is
   truncated or a run goes past the end of the channel. */
static size_t psd_unpack(const uint8_t *d, size_t n, size_t pos, uint8_t *dst, size_t total,
                         size_t bps)
{
    size_t got = 0;
    while (got < total) {
        if (pos >= n) return 0;
        unsigned len = d[pos++];
        if (len == 128) continue; /* no-op */
        bool literal = len < 128;
        size_t cnt = literal ? len + 1u : 257u - len; /* literal bytes, or repeats of one */
        if (cnt > total - got || (literal ? cnt > n - pos : pos >= n)) return 0;
        for (size_t j = 0; j < cnt; j++, got++)
            dst[got / bps * 4u * bps + got % bps] = d[literal ? pos + j : pos];
        pos += literal ? cnt : 1u;
    }
    return pos;
}

pp_status pp_psd_decode(pp_ctx *ctx, const char *name, const uint8_t *d, size_t n,
                        pp_image_info *info, pp_image **out)
{
    psd_header h = {0};
    pp_status st = psd_read_header(ctx, name, d, n, &h);
    if (st) return st;
    const int oc = h.channels >= 4 ? 4 : 3; /* the channels the file has: no invented alpha */
    pp_image_info hdr = {PP_FORMAT_PSD, h.width, h.height, oc, h.depth, h.depth};
    if (!out) {
        *info = hdr;
        return PP_OK;
    }
    size_t bytes;
    if ((st = pp_check_size_depth(ctx, name, h.width, h.height, oc, h.depth, &bytes))) return st;
    const size_t px = (size_t)h.width * (size_t)h.height, bps = (size_t)h.depth / 8;
    const int planes = h.channels < 4 ? h.channels : 4;
    const size_t plane = px * bps; /* bytes of one channel, unpacked */
    /* the samples at the file's depth: 4 interleaved channels (16-bit: big-endian pairs) */
    if ((st = pp_check_memory(ctx, name, 0, (uint64_t)bytes + (uint64_t)plane * 4u,
                              "decoder buffers")))
        return st;
    size_t pos = h.data, avail = n - pos;
    if (!h.rle) {
        if (plane > avail / (size_t)planes)
            return pp_fail(ctx, PP_ERR_DECODE, "%s: truncated PSD pixel data", name);
    } else {
        /* a row byte count per row and channel, then at least 2 bytes per 128 samples */
        size_t table = (size_t)h.height * (size_t)h.channels * 2u;
        size_t least = (plane + 127u) / 128u * 2u;
        if (table > avail || least > (avail - table) / (size_t)planes)
            return pp_fail(ctx, PP_ERR_DECODE, "%s: truncated PSD pixel data", name);
        pos += table;
    }
    uint8_t *raw = malloc(plane * 4u);
    if (!raw) return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
    for (int k = 0; k < 4; k++) {
        if (k >= planes) { /* colour 0, alpha opaque */
            for (size_t i = 0; i < px; i++)
                for (size_t b = 0; b < bps; b++) raw[(i * 4 + (size_t)k) * bps + b] = k == 3 ? 255 : 0;
            continue;
        }
        if (!h.rle) {
            const uint8_t *src = d + pos + (size_t)k * plane;
            for (size_t i = 0; i < px; i++)
                for (size_t b = 0; b < bps; b++) raw[(i * 4 + (size_t)k) * bps + b] = src[i * bps + b];
        } else {
            size_t next = psd_unpack(d, n, pos, raw + (size_t)k * bps, plane, bps);
            if (next == 0) {
                free(raw);
                return pp_fail(ctx, PP_ERR_DECODE, "%s: PSD: truncated or bad RLE data", name);
            }
            pos = next;
        }
    }
    pp_image *img;
    if ((st = pp_codec_alloc_image_depth(ctx, name, h.width, h.height, oc, h.depth, &img))) {
        free(raw);
        return st;
    }
    const bool matte = h.channels >= 4;
    uint8_t o[4];
    for (size_t i = 0; i < px; i++) {
        if (bps == 1) {
            const uint8_t *p = raw + i * 4;
            unsigned a = p[3];
            for (int k = 0; k < 4; k++) o[k] = p[k];
            if (matte && a != 0 && a != 255) {
                float af = a / 255.0f, ra = 1.0f / af, inv = 255.0f * (1 - ra);
                for (int k = 0; k < 3; k++) {
                    float v = p[k] * ra + inv;
                    o[k] = (uint8_t)(v <= 0.0f ? 0 : v >= 255.0f ? 255 : (int)v);
                }
            }
        } else {
            const uint8_t *p = raw + i * 8;
            unsigned v16[4];
            for (int k = 0; k < 4; k++) v16[k] = (unsigned)p[2 * k] << 8 | p[2 * k + 1];
            if (matte && v16[3] != 0 && v16[3] != 65535) {
                float af = v16[3] / 65535.0f, ra = 1.0f / af, inv = 65535.0f * (1 - ra);
                for (int k = 0; k < 3; k++) {
                    float v = v16[k] * ra + inv;
                    v16[k] = v <= 0.0f ? 0u : v >= 65535.0f ? 65535u : (unsigned)v;
                }
            }
            uint16_t *q = (uint16_t *)(void *)img->data + i * (size_t)oc; /* tightly packed */
            for (int k = 0; k < oc; k++) q[k] = (uint16_t)v16[k];
            continue;
        }
        memcpy(img->data + i * (size_t)oc, o, (size_t)oc); /* a fresh image is tightly packed */
    }
    free(raw);
    if ((st = pp_psd_read_meta(ctx, name, d + h.res, h.res_len, &img->meta))) {
        pp_image_free(img);
        return st;
    }
    if (info) *info = hdr;
    *out = img;
    return PP_OK;
}

/* ---- PSD encoding ------------------------------------------------------------------------- */

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The sample of channel k (0..3 of the RGB(A) written) of pixel x of row `row`, at the image's
   depth: gray is written as R = G = B; with alpha the colour is composited on white, the
   convention of a PSD's merged image that the decoder undoes, c' = round(c a + max (1 - a))
   with a = alpha / max. */
static unsigned psd_sample(const pp_image *img, const uint8_t *row, int x, int k)
{
    const int c = img->channels, cc = pp_color_channels(c);
    const bool wide = img->depth == 16;
    const unsigned max = wide ? 65535u : 255u;
    const uint16_t *r16 = (const uint16_t *)(const void *)row;
    unsigned a = !pp_has_alpha(c) ? max : wide ? r16[(size_t)x * c + c - 1] : row[(size_t)x * c + c - 1];
    if (k == 3) return a;
    int src = cc == 1 ? 0 : k;
    unsigned v = wide ? r16[(size_t)x * c + src] : row[(size_t)x * c + src];
    if (a == max) return v;
    double af = (double)a / max, m = v * af + max * (1.0 - af);
    return (unsigned)(m + 0.5);
}

/* A version-1 PSD in RGB mode, raw (uncompressed) merged image at the image's depth (8 or 16),
   3 channels, or 4 with alpha; gray images are written as RGB. No layers, no resources. */
pp_status pp_psd_encode(pp_ctx *ctx, const pp_image *img, pp_sink *out, const char *name)
{
    const int oc = pp_has_alpha(img->channels) ? 4 : 3, w = img->width, h = img->height;
    const size_t bps = img->depth == 16 ? 2 : 1;
    uint8_t head[26 + 4 + 4 + 4 + 2] = {'8', 'B', 'P', 'S'};
    put16(head + 4, 1);
    put16(head + 12, (unsigned)oc);
    put32(head + 14, (uint32_t)h);
    put32(head + 18, (uint32_t)w);
    put16(head + 22, (unsigned)(bps * 8));
    put16(head + 24, 3); /* RGB; the lengths of the three sections and the compression: 0 */
    pp_sink_write(out, head, sizeof head);
    uint8_t *line = malloc((size_t)w * bps);
    if (!line) return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
    for (int k = 0; k < oc && !out->err; k++)
        for (int y = 0; y < h && !out->err; y++) {
            const uint8_t *row = img->data + (size_t)y * img->stride;
            for (int x = 0; x < w; x++) {
                unsigned v = psd_sample(img, row, x, k);
                if (bps == 2) put16(line + 2 * (size_t)x, v);
                else line[x] = (uint8_t)v;
            }
            pp_sink_write(out, line, (size_t)w * bps);
        }
    free(line);
    if (out->err) return pp_sink_fail(ctx, out, name);
    return PP_OK;
}
