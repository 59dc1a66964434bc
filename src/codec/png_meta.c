/*
 * png_meta.c - PNG metadata chunks: read from a decoded file's bytes, written by png_write.c.
 *
 * Reading walks the chunks of the file (which io.c holds whole in memory) itself instead of
 * asking libpng for them: png_read.c has libpng skip every ancillary chunk unread, because
 * libpng allocates what an ancillary chunk's length claims before it reads it (a 137-byte file
 * once made it allocate 1.6 GB). Here a chunk's length is checked against the bytes that are
 * really there, its CRC is checked, and compressed data (iCCP, a compressed iTXt) is inflated
 * into a buffer that may not grow past PP_META_BLOB_MAX nor what the context's memory limit
 * leaves beside the decoded image (only the first iCCP and the first XMP iTXt are inflated).
 * Anything else is dropped, and the image decodes without it.
 */
#include "codec.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- density ------------------------------------------------------------------------------ */

bool pp_density_jfif_to_phys(const uint8_t jfif[5], uint8_t phys[9])
{
    uint32_t unit = jfif[0], x = (uint32_t)jfif[1] << 8 | jfif[2], y = (uint32_t)jfif[3] << 8 | jfif[4];
    if (unit > 2 || x == 0 || y == 0) return false;
    if (unit == 1) { /* per inch to per metre: d / 0.0254, rounded */
        x = (x * 10000u + 127u) / 254u;
        y = (y * 10000u + 127u) / 254u;
    } else if (unit == 2) {
        x *= 100u;
        y *= 100u;
    }
    put32(phys, x);
    put32(phys + 4, y);
    phys[8] = unit ? 1 : 0;
    return true;
}

/* Dots per metre as JFIF holds them: per centimetre when that is exact, else per inch, rounded
   (300 dpi is 11811 per metre, which gives 300 again). */
static bool phys_unit(uint32_t x, uint32_t y, uint32_t *ux, uint32_t *uy, uint8_t *unit)
{
    if (x % 100u == 0 && y % 100u == 0 && x / 100u <= 0xffffu && y / 100u <= 0xffffu) {
        *ux = x / 100u;
        *uy = y / 100u;
        *unit = 2;
        return true;
    }
    uint64_t dx = ((uint64_t)x * 254u + 5000u) / 10000u, dy = ((uint64_t)y * 254u + 5000u) / 10000u;
    if (dx == 0 || dy == 0 || dx > 0xffffu || dy > 0xffffu) return false;
    *ux = (uint32_t)dx;
    *uy = (uint32_t)dy;
    *unit = 1;
    return true;
}

bool pp_density_phys_to_jfif(const uint8_t phys[9], uint8_t jfif[5])
{
    uint32_t x = be32(phys), y = be32(phys + 4), ux = x, uy = y;
    uint8_t unit = 0;
    if (x == 0 || y == 0 || phys[8] > 1) return false;
    if (phys[8] == 1) {
        if (!phys_unit(x, y, &ux, &uy, &unit)) return false;
    } else if (x > 0xffffu || y > 0xffffu) {
        return false;
    }
    jfif[0] = unit;
    jfif[1] = (uint8_t)(ux >> 8);
    jfif[2] = (uint8_t)ux;
    jfif[3] = (uint8_t)(uy >> 8);
    jfif[4] = (uint8_t)uy;
    return true;
}

/* ---- reading ------------------------------------------------------------------------------ */

/* Inflates a zlib stream into a new buffer of at most `cap` bytes. Returns PP_OK with *out set,
   PP_ERR_DECODE for a stream that is corrupt, truncated or longer than cap, PP_ERR_NOMEM. */
static pp_status inflate_capped(const uint8_t *src, size_t n, size_t cap, uint8_t **out,
                                size_t *outn)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) return PP_ERR_NOMEM;
    size_t size = n < cap / 4 ? n * 4 + 1024 : cap;
    if (size > cap) size = cap;
    uint8_t *buf = malloc(size ? size : 1);
    pp_status st = buf ? PP_OK : PP_ERR_NOMEM;
    z.next_in = (Bytef *)src;
    size_t in_left = n, done = 0;
    while (st == PP_OK) {
        uInt in_chunk = in_left > 1u << 30 ? 1u << 30 : (uInt)in_left;
        uInt out_chunk = size - done > 1u << 30 ? 1u << 30 : (uInt)(size - done);
        z.next_in = (Bytef *)src + (n - in_left);
        z.avail_in = in_chunk;
        z.next_out = buf + done;
        z.avail_out = out_chunk;
        int r = inflate(&z, Z_NO_FLUSH);
        in_left -= in_chunk - z.avail_in;
        done += out_chunk - z.avail_out;
        if (r == Z_STREAM_END) break;
        if (r == Z_MEM_ERROR) st = PP_ERR_NOMEM;
        else if (r != Z_OK && r != Z_BUF_ERROR) st = PP_ERR_DECODE;
        else if (done == size) { /* full: grow, up to the cap */
            if (size == cap) {
                st = PP_ERR_DECODE;
                break;
            }
            size_t ns = size > cap / 2 ? cap : size * 2;
            uint8_t *nb = realloc(buf, ns);
            if (!nb) st = PP_ERR_NOMEM;
            else {
                buf = nb;
                size = ns;
            }
        } else if (in_left == 0 && z.avail_in == 0) {
            st = PP_ERR_DECODE; /* truncated */
        }
    }
    inflateEnd(&z);
    if (st) {
        free(buf);
        return st;
    }
    *out = buf;
    *outn = done;
    return PP_OK;
}

/* Length of a NUL-terminated keyword of 1..79 bytes at the start of d, or 0. */
static size_t keyword_len(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n && i < 80; i++)
        if (d[i] == 0) return i >= 1 && i <= 79 ? i : 0;
    return 0;
}

/* Whether an ICC profile's header is sane: its size field is its length, 'acsp' at 36. */
static bool icc_ok(const uint8_t *p, size_t n)
{
    return n >= 132 && be32(p) == n && memcmp(p + 36, "acsp", 4) == 0;
}

/* Stores a blob; a limit drops it, memory fails. */
static pp_status keep(pp_meta *m, const char *name, const uint8_t *d, size_t n)
{
    if (pp_meta_find(m, name)) return PP_OK; /* the first one counts */
    pp_status st = pp_meta_set(m, name, d, n);
    return st == PP_ERR_LIMIT ? PP_OK : st;
}

static pp_status keep_owned(pp_meta *m, const char *name, uint8_t *d, size_t n)
{
    pp_status st = pp_meta_set_owned(m, name, d, n);
    return st == PP_ERR_LIMIT ? PP_OK : st;
}

static pp_status read_iccp(pp_meta *m, size_t cap, const uint8_t *d, size_t n)
{
    size_t k = keyword_len(d, n);
    if (!k || n < k + 2 || d[k + 1] != 0 || pp_meta_find(m, "icc")) return PP_OK;
    uint8_t *icc;
    size_t len;
    pp_status st = inflate_capped(d + k + 2, n - k - 2, cap, &icc, &len);
    if (st == PP_ERR_NOMEM) return st;
    if (st) return PP_OK;
    if (!icc_ok(icc, len)) {
        free(icc);
        return PP_OK;
    }
    return keep_owned(m, "icc", icc, len);
}

static pp_status read_itxt(pp_meta *m, size_t cap, const uint8_t *d, size_t n)
{
    static const char key[] = "XML:com.adobe.xmp";
    if (n < sizeof key + 2 || memcmp(d, key, sizeof key) != 0 || pp_meta_find(m, "xmp"))
        return PP_OK;
    size_t p = sizeof key; /* past the keyword's NUL */
    uint8_t compressed = d[p], method = d[p + 1];
    p += 2;
    for (int field = 0; field < 2; field++) { /* language tag, translated keyword */
        const uint8_t *z = memchr(d + p, 0, n - p);
        if (!z) return PP_OK;
        p = (size_t)(z - d) + 1;
    }
    if (compressed > 1 || (compressed && method != 0)) return PP_OK;
    if (!compressed) return keep(m, "xmp", d + p, n - p);
    uint8_t *x;
    size_t len;
    pp_status st = inflate_capped(d + p, n - p, cap, &x, &len);
    if (st == PP_ERR_NOMEM) return st;
    return st ? PP_OK : keep_owned(m, "xmp", x, len);
}

pp_status pp_png_read_meta(pp_ctx *ctx, const char *name, const uint8_t *data, size_t size,
                           uint64_t held, pp_meta *m)
{
    /* an inflated chunk may use what the memory limit leaves beside the image */
    uint64_t left = ctx->max_memory > held ? ctx->max_memory - held : 0;
    size_t cap = PP_META_BLOB_MAX < left ? PP_META_BLOB_MAX : (size_t)left;
    size_t pos = 8; /* the signature, checked by libpng */
    pp_status st = PP_OK;
    while (st == PP_OK && size - pos >= 12) {
        uint32_t len = be32(data + pos);
        const uint8_t *type = data + pos + 4, *d = data + pos + 8;
        if (len > size - pos - 12) break; /* libpng accepted the file: only trailing bytes */
        pos += 12 + (size_t)len;
        if (memcmp(type, "IEND", 4) == 0) break;
        if (crc32_z(crc32_z(0L, type, 4), d, len) != be32(d + len)) continue;
        if (memcmp(type, "iCCP", 4) == 0) st = read_iccp(m, cap, d, len);
        else if (memcmp(type, "iTXt", 4) == 0) st = read_itxt(m, cap, d, len);
        else if (memcmp(type, "eXIf", 4) == 0) {
            /* some writers keep JPEG's "Exif\0\0" in front of the TIFF stream */
            if (len >= 6 && memcmp(d, "Exif\0\0", 6) == 0) d += 6, len -= 6;
            if (pp_exif_valid(d, len)) st = keep(m, "exif", d, len);
        } else if (memcmp(type, "gAMA", 4) == 0) {
            if (len == 4 && be32(d) != 0) st = keep(m, "png:gAMA", d, len);
        } else if (memcmp(type, "cHRM", 4) == 0) {
            if (len == 32) st = keep(m, "png:cHRM", d, len);
        } else if (memcmp(type, "sRGB", 4) == 0) {
            if (len == 1 && d[0] <= 3) st = keep(m, "png:sRGB", d, len);
        } else if (memcmp(type, "pHYs", 4) == 0) {
            if (len == 9 && d[8] <= 1) st = keep(m, "png:pHYs", d, len);
        }
    }
    if (st) {
        pp_meta_clear(m);
        return pp_fail(ctx, st, "%s: out of memory reading the metadata", name);
    }
    return PP_OK;
}

/* ---- writing ------------------------------------------------------------------------------ */

static void chunk(pp_sink *out, const char type[4], const uint8_t *a, size_t an, const uint8_t *b,
                  size_t bn)
{
    uint8_t hdr[8], tail[4];
    put32(hdr, (uint32_t)(an + bn));
    memcpy(hdr + 4, type, 4);
    uLong crc = crc32_z(0L, hdr + 4, 4);
    if (an) crc = crc32_z(crc, a, an);
    if (bn) crc = crc32_z(crc, b, bn);
    put32(tail, (uint32_t)crc);
    pp_sink_write(out, hdr, 8);
    if (an) pp_sink_write(out, a, an);
    if (bn) pp_sink_write(out, b, bn);
    pp_sink_write(out, tail, 4);
}

/* A blob of exactly n bytes called name, or NULL. */
static const pp_meta_item *sized(const pp_meta *m, const char *name, size_t n)
{
    const pp_meta_item *it = pp_meta_find(m, name);
    return it && it->size == n ? it : NULL;
}

pp_status pp_png_write_meta(pp_ctx *ctx, pp_sink *out, const pp_meta *m, const char *name)
{
    const pp_meta_item *it;
    if ((it = sized(m, "png:cHRM", 32))) chunk(out, "cHRM", it->data, 32, NULL, 0);
    if ((it = sized(m, "png:gAMA", 4))) chunk(out, "gAMA", it->data, 4, NULL, 0);
    const pp_meta_item *icc = pp_meta_find(m, "icc");
    if (icc && icc->size > 0) {
        /* "ICC profile\0" then compression method 0 and the zlib stream */
        static const uint8_t head[] = "ICC profile\0";
        uLong bound = compressBound((uLong)icc->size);
        uint8_t *z = malloc(sizeof head + bound);
        if (!z) return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory for the ICC profile", name);
        memcpy(z, head, sizeof head); /* the name, its NUL, and method 0 (the array's NUL) */
        uLongf zn = bound;
        if (compress2(z + sizeof head, &zn, icc->data, (uLong)icc->size, 9) != Z_OK) {
            free(z);
            return pp_fail(ctx, PP_ERR_ENCODE, "%s: zlib failed on the ICC profile", name);
        }
        chunk(out, "iCCP", z, sizeof head + zn, NULL, 0);
        free(z);
    } else if ((it = sized(m, "png:sRGB", 1))) { /* never both: iCCP takes precedence */
        chunk(out, "sRGB", it->data, 1, NULL, 0);
    }
    uint8_t phys[9];
    if ((it = sized(m, "png:pHYs", 9))) chunk(out, "pHYs", it->data, 9, NULL, 0);
    else if ((it = sized(m, "jfif:density", 5)) && pp_density_jfif_to_phys(it->data, phys))
        chunk(out, "pHYs", phys, 9, NULL, 0);
    if ((it = pp_meta_find(m, "exif")) && pp_exif_valid(it->data, it->size))
        chunk(out, "eXIf", it->data, it->size, NULL, 0);
    if ((it = pp_meta_find(m, "xmp")) && it->size > 0) {
        /* keyword, NUL, uncompressed (0), method 0, empty language tag and translated keyword */
        static const uint8_t head[] = "XML:com.adobe.xmp\0\0\0\0";
        chunk(out, "iTXt", head, sizeof head, it->data, it->size);
    }
    return PP_OK;
}
