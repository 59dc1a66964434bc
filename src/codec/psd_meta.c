/*
 * psd_meta.c - the metadata of a PSD's image resources section: the ICC profile (resource
 * 0x040F), EXIF (0x0422, a TIFF stream), XMP (0x0424) and the resolution (0x03ED, kept as JFIF
 * density, so it lands in a JPEG's JFIF or a PNG's pHYs). Every block is bounds-checked;
 * malformed blocks end the walk, malformed values are dropped.
 */
#include "codec.h"

#include <string.h>

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static pp_status keep(pp_meta *m, const char *name, const uint8_t *d, size_t n)
{
    if (pp_meta_find(m, name)) return PP_OK;
    pp_status st = pp_meta_set(m, name, d, n);
    return st == PP_ERR_LIMIT ? PP_OK : st;
}

/* ResolutionInfo: hRes (16.16 fixed, pixels per inch whatever the unit shown), hResUnit (1 per
   inch, 2 per cm: how Photoshop displays it), widthUnit, vRes, vResUnit, heightUnit. */
static pp_status resolution(pp_meta *m, const uint8_t *d, size_t n)
{
    if (n < 16) return PP_OK;
    uint32_t h = (be32(d) + 0x8000u) >> 16, v = (be32(d + 8) + 0x8000u) >> 16;
    unsigned hu = (unsigned)d[4] << 8 | d[5], vu = (unsigned)d[12] << 8 | d[13];
    if (h == 0 || v == 0 || h > 0xffffu || v > 0xffffu || hu != vu || (hu != 1 && hu != 2))
        return PP_OK;
    uint8_t j[5] = {1, (uint8_t)(h >> 8), (uint8_t)h, (uint8_t)(v >> 8), (uint8_t)v};
    return keep(m, "jfif:density", j, 5);
}

pp_status pp_psd_read_meta(pp_ctx *ctx, const char *name, const uint8_t *d, size_t n,
                           pp_meta *m)
{
    size_t pos = 0;
    pp_status st = PP_OK;
    while (st == PP_OK && n - pos >= 12 && memcmp(d + pos, "8BIM", 4) == 0) {
        unsigned id = (unsigned)d[pos + 4] << 8 | d[pos + 5];
        size_t name_len = d[pos + 6];
        size_t name_pad = (1 + name_len + 1) & ~(size_t)1; /* length byte + name, even */
        if (name_pad + 4 > n - pos - 6) break;
        size_t p = pos + 6 + name_pad;
        uint32_t len = be32(d + p);
        p += 4;
        if (len > n - p) break;
        const uint8_t *b = d + p;
        if (id == 0x040F && len >= 132 && be32(b) == len && memcmp(b + 36, "acsp", 4) == 0)
            st = keep(m, "icc", b, len);
        else if (id == 0x0422 && pp_exif_valid(b, len))
            st = keep(m, "exif", b, len);
        else if (id == 0x0424 && len > 0)
            st = keep(m, "xmp", b, len);
        else if (id == 0x03ED)
            st = resolution(m, b, len);
        pos = p + len + (len & 1u);
        if (pos > n) break;
    }
    if (st) {
        pp_meta_clear(m);
        return pp_fail(ctx, st, "%s: out of memory reading the metadata", name);
    }
    return PP_OK;
}
