/*
 * tiff.c - TIFF decoding and encoding through libtiff.
 *
 * Decoding reads the first page (image file directory) of a file; later pages are ignored
 * (docs/API.md says so). Grey, grey+alpha, RGB and RGBA of 8 or 16 bits a sample, in strips or
 * tiles, contiguous or planar, with any compression libtiff decodes (none, LZW, deflate,
 * PackBits, JPEG, ...) are read straight into the image (16-bit samples stay 16 bits),
 * MinIsWhite grey is inverted, associated (premultiplied) alpha is turned into the straight
 * alpha pixpool works with, extra samples after the first alpha are dropped. Everything else
 * libtiff can read (palette, 1-, 2- and 4-bit grey, YCbCr, CMYK, CIE L*a*b*, an orientation
 * other than top-left) goes through libtiff's RGBA interface (TIFFReadRGBAImageOriented),
 * which gives 8-bit RGBA; grey stays one channel, alpha is kept only where the file has it.
 * Float and signed samples are refused with a message.
 *
 * Limits: the context's pixel and memory limits are checked from the directory before anything
 * of the image's size is allocated, and libtiff itself may allocate no single buffer larger
 * than the memory left (TIFFOpenOptionsSetMaxSingleMemAlloc), so a hostile strip size or tag
 * count fails inside libtiff instead of allocating. libtiff's messages go to handlers of this
 * file (per handle, TIFFOpenOptions): the first error becomes the failure's reason, warnings
 * are dropped, and nothing reaches stderr.
 *
 * Metadata: the ICC profile (InterColorProfile), XMP (XMLPacket) and the resolution are read into
 * the image's blobs and written from them ("jfif:density" or "png:pHYs" as the resolution); an
 * EXIF IFD is neither read nor written.
 *
 * Encoding writes one page of 8- or 16-bit samples (the image's depth), contiguous, in strips of about STRIP_BYTES, with
 * the context's compression (none, LZW, deflate or PackBits; LZW and deflate with the
 * horizontal predictor), grey or RGB with an unassociated alpha sample where the image has
 * one. libtiff writes straight into the output file (it seeks back to write the directory
 * offset), or into memory for pp_save_mem; BigTIFF when it could pass 4 GiB.
 */
#include "codec.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

#define STRIP_BYTES ((size_t)256 << 10) /* pixel bytes of a written strip */

/* ---- libtiff's I/O: over memory, or over the output file ------------------------------------ */

/* Reading: rd is the file in memory. Writing: the file goes straight to f (a new output file
   opened for update, which libtiff seeks in to write the directory offset), or, when the sink
   is a memory buffer, is built in wr and copied into the sink at the end. */
typedef struct tmem {
    const uint8_t *rd; /* reading: the file */
    uint8_t *wr;       /* writing to memory: the file being built */
    FILE *f;           /* writing to a file: the sink's stream (fpos: its position) */
    int ioerr;         /* writing to a file: errno of the first failure */
    size_t n, cap, pos, fpos;
    bool nomem;        /* writing: a grow failed */
    bool short_read;   /* reading: libtiff warned of a read past the end (a tag it then ignored) */
    char msg[256];     /* libtiff's first error */
} tmem;

static tmsize_t mem_read(thandle_t h, void *buf, tmsize_t size)
{
    tmem *m = h;
    if (size < 0) return -1;
    if (m->f) {
        if (m->ioerr || fflush(m->f) != 0 || fseeko(m->f, (off_t)m->pos, SEEK_SET) != 0) return -1;
        size_t k = fread(buf, 1, (size_t)size, m->f);
        m->pos += k;
        m->fpos = m->pos;
        return (tmsize_t)k;
    }
    const uint8_t *src = m->rd ? m->rd : m->wr;
    size_t left = m->pos < m->n ? m->n - m->pos : 0, k = (size_t)size < left ? (size_t)size : left;
    if (k) memcpy(buf, src + m->pos, k);
    m->pos += k;
    return (tmsize_t)k;
}

static tmsize_t mem_write(thandle_t h, void *buf, tmsize_t size)
{
    tmem *m = h;
    if (m->rd || size < 0) return -1;
    size_t k = (size_t)size;
    if (k > SIZE_MAX - m->pos) return -1;
    size_t end = m->pos + k;
    if (m->f) { /* seeks only where libtiff jumped: sequential writes stay buffered */
        if (m->ioerr) return -1;
        if ((m->pos != m->fpos && fseeko(m->f, (off_t)m->pos, SEEK_SET) != 0) ||
            fwrite(buf, 1, k, m->f) != k) {
            m->ioerr = errno ? errno : EIO;
            return -1;
        }
        m->pos = m->fpos = end;
        if (end > m->n) m->n = end;
        return size;
    }
    if (end > m->cap) {
        size_t cap = m->cap ? m->cap : (size_t)1 << 16;
        while (cap < end) cap = cap > SIZE_MAX / 2 ? end : cap * 2;
        uint8_t *p = realloc(m->wr, cap);
        if (!p) {
            m->nomem = true;
            return -1;
        }
        m->wr = p;
        m->cap = cap;
    }
    if (m->pos > m->n) memset(m->wr + m->n, 0, m->pos - m->n); /* a seek past the end */
    memcpy(m->wr + m->pos, buf, k);
    m->pos = end;
    if (end > m->n) m->n = end;
    return size;
}

static toff_t mem_seek(thandle_t h, toff_t off, int whence)
{
    tmem *m = h;
    uint64_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->n : 0;
    if (off > UINT64_MAX - base || base + off > (uint64_t)SIZE_MAX / 2) return (toff_t)-1;
    m->pos = (size_t)(base + off);
    return (toff_t)m->pos;
}

static int mem_close(thandle_t h)
{
    (void)h;
    return 0;
}

static toff_t mem_size(thandle_t h) { return (toff_t)((tmem *)h)->n; }

static int mem_map(thandle_t h, void **base, toff_t *size)
{
    (void)h;
    (void)base;
    (void)size;
    return 0; /* no mapping: libtiff reads through mem_read */
}

static void mem_unmap(thandle_t h, void *base, toff_t size)
{
    (void)h;
    (void)base;
    (void)size;
}

static int on_error(TIFF *t, void *ud, const char *module, const char *fmt, va_list ap)
{
    (void)t;
    (void)module;
    tmem *m = ud;
    if (!m->msg[0]) vsnprintf(m->msg, sizeof m->msg, fmt, ap);
    return 1; /* handled: the global handler (stderr) is not called */
}

/* Warnings are not printed. One kind is remembered: a tag whose value lies past the end of the
   file, which libtiff reads as "IO error during reading of ...; tag ignored" and then ignores;
   the file is truncated, so the decode fails (pixpool refuses damaged files). */
static int on_warning(TIFF *t, void *ud, const char *module, const char *fmt, va_list ap)
{
    (void)t;
    (void)module;
    tmem *m = ud;
    char text[200];
    vsnprintf(text, sizeof text, fmt, ap);
    if (strstr(text, "IO error")) {
        if (!m->short_read) snprintf(m->msg, sizeof m->msg, "truncated TIFF (%s)", text);
        m->short_read = true;
    }
    return 1;
}

static TIFF *open_mem(tmem *m, const char *name, const char *mode, tmsize_t max_alloc)
{
    TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
    if (!o) return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(o, on_error, m);
    TIFFOpenOptionsSetWarningHandlerExtR(o, on_warning, m);
    if (max_alloc > 0) TIFFOpenOptionsSetMaxSingleMemAlloc(o, max_alloc);
    TIFF *t = TIFFClientOpenExt(name, mode, m, mem_read, mem_write, mem_seek, mem_close, mem_size,
                                mem_map, mem_unmap, o);
    TIFFOpenOptionsFree(o);
    return t;
}

/* ---- decoding ------------------------------------------------------------------------------ */

typedef struct tiff_dir {
    uint32_t w, h;
    uint16_t spp, bps, photometric, planar, sampleformat, orientation, compression;
    bool alpha, assoc, color, direct, tiled, wide; /* wide: decoded to 16 bits */
    bool map8;                /* a colormap of 8-bit values (all entries < 256): as libtiff reads it */
    const uint16_t *map[3];   /* palette: the colormap (2^bps entries each) */
} tiff_dir;

static uint64_t get_uint(const uint8_t *p, int n, bool be)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= (uint64_t)p[be ? i : n - 1 - i] << (8 * (n - 1 - i));
    return v;
}

/* Whether the directory at off, with its link to the next one, lies inside the file; *next is
   that link. */
static bool dir_inside(const tmem *m, bool big, uint64_t off, uint64_t *next)
{
    bool be = m->n >= 2 && m->rd[0] == 'M';
    int cn = big ? 8 : 2, en = big ? 20 : 12, ln = big ? 8 : 4;
    if (off > m->n || m->n - off < (uint64_t)cn) return false;
    uint64_t count = get_uint(m->rd + off, cn, be);
    if (count > (m->n - off) / (uint64_t)en) return false;
    uint64_t end = off + (uint64_t)cn + count * (uint64_t)en;
    if (end + (uint64_t)ln > m->n) return false;
    /* each entry's values, where they do not fit in the entry */
    static const uint8_t type_bytes[19] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4, 0, 0, 8, 8, 8};
    for (uint64_t i = 0; i < count; i++) {
        const uint8_t *e = m->rd + off + (uint64_t)cn + i * (uint64_t)en;
        unsigned type = (unsigned)get_uint(e + 2, 2, be);
        uint64_t n = get_uint(e + 4, big ? 8 : 4, be);
        uint64_t size = type < 19 ? type_bytes[type] : 0;
        if (size == 0 || n > UINT64_MAX / size) continue; /* libtiff skips unknown types */
        size *= n;
        if (size <= (uint64_t)ln) continue; /* inline */
        uint64_t at = get_uint(e + (big ? 12 : 8), ln, be);
        if (at > m->n || size > m->n - at) return false;
    }
    *next = get_uint(m->rd + end, ln, be);
    return true;
}

/* Whether the first directory, and the second one when there is one, lie inside the file:
   libtiff accepts a directory whose last bytes are cut off, and reads the first page of a file
   cut in its second. A truncated file fails, even where what is left would decode. */
static bool dir_complete(const tmem *m, TIFF *t)
{
    bool big = TIFFIsBigTIFF(t) != 0;
    uint64_t next = 0, after = 0;
    if (!dir_inside(m, big, TIFFCurrentDirOffset(t), &next)) return false;
    return next == 0 || dir_inside(m, big, next, &after);
}

static pp_status read_dir(pp_ctx *ctx, const char *name, TIFF *t, tmem *m, tiff_dir *d)
{
    memset(d, 0, sizeof *d);
    if (m->short_read || !dir_complete(m, t))
        return pp_fail(ctx, PP_ERR_DECODE, "%s: %s", name,
                       m->short_read ? m->msg : "truncated TIFF (its directory is cut off)");
    uint16_t nextra = 0, *extra = NULL;
    if (!TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &d->w) || !TIFFGetField(t, TIFFTAG_IMAGELENGTH, &d->h))
        return pp_fail(ctx, PP_ERR_DECODE, "%s: TIFF without image width or length", name);
    if (!TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &d->photometric))
        return pp_fail(ctx, PP_ERR_DECODE, "%s: TIFF without a photometric interpretation", name);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &d->spp);
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &d->bps);
    TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &d->planar);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &d->sampleformat);
    TIFFGetFieldDefaulted(t, TIFFTAG_ORIENTATION, &d->orientation);
    TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &d->compression);
    TIFFGetFieldDefaulted(t, TIFFTAG_EXTRASAMPLES, &nextra, &extra);
    d->tiled = TIFFIsTiled(t) != 0;
    if (d->w == 0 || d->h == 0 || d->w > INT_MAX || d->h > INT_MAX)
        return pp_fail(ctx, PP_ERR_DECODE, "%s: TIFF of %ux%u pixels", name, (unsigned)d->w,
                       (unsigned)d->h);
    if (d->sampleformat != SAMPLEFORMAT_UINT && d->sampleformat != SAMPLEFORMAT_VOID)
        return pp_fail(ctx, PP_ERR_DECODE, "%s: TIFF of %s samples (pixpool reads unsigned "
                       "integer samples)", name,
                       d->sampleformat == SAMPLEFORMAT_IEEEFP ? "floating-point" : "signed");
    if (d->spp == 0 || d->bps == 0 || d->bps > 16 || nextra > d->spp)
        return pp_fail(ctx, PP_ERR_DECODE, "%s: TIFF of %u samples of %u bits (pixpool reads "
                       "1 to 16 bits a sample)", name, (unsigned)d->spp, (unsigned)d->bps);
    bool grey = d->photometric == PHOTOMETRIC_MINISBLACK || d->photometric == PHOTOMETRIC_MINISWHITE;
    d->color = !grey;
    int ncolor = d->color ? 3 : 1;
    if (d->photometric == PHOTOMETRIC_PALETTE || d->photometric == PHOTOMETRIC_SEPARATED)
        ncolor = d->photometric == PHOTOMETRIC_SEPARATED ? 4 : 1;
    if (nextra > 0 && d->spp > ncolor) {
        uint16_t e = extra[0];
        d->assoc = e == EXTRASAMPLE_ASSOCALPHA;
        d->alpha = e == EXTRASAMPLE_ASSOCALPHA || e == EXTRASAMPLE_UNASSALPHA ||
                   (e == EXTRASAMPLE_UNSPECIFIED && (d->spp == 2 || d->spp == 4) && ncolor != 4);
    }
    bool pal = d->photometric == PHOTOMETRIC_PALETTE;
    if (pal) {
        uint16_t *r, *g, *b;
        if (d->bps > 8 || !TIFFGetField(t, TIFFTAG_COLORMAP, &r, &g, &b))
            return pp_fail(ctx, PP_ERR_DECODE, "%s: %s", name,
                           m->msg[0] ? m->msg : "palette TIFF without a usable colormap");
        d->map[0] = r;
        d->map[1] = g;
        d->map[2] = b;
        d->map8 = true;
        for (unsigned i = 0; i < (1u << d->bps); i++)
            if (r[i] > 255 || g[i] > 255 || b[i] > 255) d->map8 = false;
    }
    /* read here: grey of 1-16 bits, palette of 1-8 bits, RGB of 8 or 16 bits, top-left */
    bool depth_ok = d->bps == 8 || d->bps == 16 || ((grey || pal) && d->bps < 8 && 8 % d->bps == 0);
    d->direct = depth_ok && d->orientation == ORIENTATION_TOPLEFT &&
                (grey || pal || (d->photometric == PHOTOMETRIC_RGB && d->spp >= 3)) &&
                d->compression != COMPRESSION_OJPEG && (!pal || d->bps <= 8);
    d->wide = d->direct && d->bps == 16 && !pal; /* kept at 16 bits */
    return PP_OK;
}

/* Sample i of a row of samples of bps bits (1, 2, 4: packed from the high bits; 8; 16: native
   order, libtiff swaps them). */
static inline unsigned sample_at(const uint8_t *row, size_t i, int bps)
{
    if (bps == 8) return row[i];
    if (bps == 16) return ((const uint16_t *)(const void *)row)[i];
    size_t bit = i * (size_t)bps;
    return (row[bit >> 3] >> (8 - bps - (int)(bit & 7))) & ((1u << bps) - 1u);
}

/* A sample of bps bits to 8, rounded (16-bit as PNG's are: v * 255 / 65535). */
static inline uint8_t scale8(unsigned v, int bps)
{
    unsigned max = (1u << bps) - 1u;
    return bps == 8 ? (uint8_t)v : (uint8_t)((v * 255u + max / 2u) / max);
}

/* Converts n pixels of a row (all samples when contiguous, or the samples of plane `plane`)
   into the image row dst of `ch` channels. */
static void convert_run(const tiff_dir *d, const uint8_t *src, int n, int plane, uint8_t *dst,
                        int ch)
{
    const bool pal = d->photometric == PHOTOMETRIC_PALETTE, planar = d->planar == PLANARCONFIG_SEPARATE;
    const int nin = pal || !d->color ? 1 : 3; /* colour samples in the file */
    const int step = planar ? 1 : d->spp;
    if (d->wide) { /* 16-bit grey or RGB kept at 16 bits */
        uint16_t *dst16 = (uint16_t *)(void *)dst;
        for (int x = 0; x < n; x++) {
            uint16_t *out = dst16 + (size_t)x * (size_t)ch;
            for (int s = 0; s < nin + (d->alpha ? 1 : 0); s++) {
                if (planar && s != plane) continue;
                unsigned v = sample_at(src, (size_t)x * (size_t)step + (size_t)(planar ? 0 : s), 16);
                if (s == nin) out[ch - 1] = (uint16_t)v;
                else out[s] = (uint16_t)(d->photometric == PHOTOMETRIC_MINISWHITE ? 65535u - v : v);
            }
        }
        return;
    }
    for (int x = 0; x < n; x++) {
        uint8_t *out = dst + (size_t)x * (size_t)ch;
        for (int s = 0; s < nin + (d->alpha ? 1 : 0); s++) {
            if (planar && s != plane) continue;
            unsigned v = sample_at(src, (size_t)x * (size_t)step + (size_t)(planar ? 0 : s), d->bps);
            if (s == nin) { /* alpha */
                out[ch - 1] = scale8(v, d->bps);
            } else if (pal) {
                for (int k = 0; k < 3; k++) {
                    unsigned e = d->map[k][v];
                    out[k] = d->map8 ? (uint8_t)e : scale8(e, 16);
                }
            } else {
                uint8_t b = scale8(v, d->bps);
                out[s] = d->photometric == PHOTOMETRIC_MINISWHITE ? (uint8_t)(255 - b) : b;
            }
        }
    }
}

/* Associated alpha to straight alpha, rounded, over the whole image. */
static void unpremultiply(pp_image *img)
{
    int c = img->channels;
    if (img->depth == 16) {
        for (int y = 0; y < img->height; y++) {
            uint16_t *p = (uint16_t *)(void *)(img->data + (size_t)y * img->stride);
            for (int x = 0; x < img->width; x++, p += c) {
                uint32_t a = p[c - 1];
                for (int k = 0; k < c - 1; k++) {
                    uint32_t v = a ? (p[k] * 65535u + a / 2) / a : 0;
                    p[k] = (uint16_t)(v > 65535 ? 65535 : v);
                }
            }
        }
        return;
    }
    for (int y = 0; y < img->height; y++) {
        uint8_t *p = img->data + (size_t)y * img->stride;
        for (int x = 0; x < img->width; x++, p += c) {
            unsigned a = p[c - 1];
            for (int k = 0; k < c - 1; k++) {
                unsigned v = a ? (p[k] * 255u + a / 2) / a : 0;
                p[k] = (uint8_t)(v > 255 ? 255 : v);
            }
        }
    }
}

static pp_status read_direct(pp_ctx *ctx, const char *name, TIFF *t, tmem *m, const tiff_dir *d,
                             pp_image *img, uint8_t *buf)
{
    /* planar: the colour planes and the alpha plane (later extra planes are not read) */
    int nplanes = d->planar == PLANARCONFIG_SEPARATE
                      ? (d->photometric == PHOTOMETRIC_PALETTE || !d->color ? 1 : 3) + (d->alpha ? 1 : 0)
                      : 1;
    const int ch = img->channels;
    if (d->tiled) {
        uint32_t tw = 0, th = 0;
        TIFFGetField(t, TIFFTAG_TILEWIDTH, &tw);
        TIFFGetField(t, TIFFTAG_TILELENGTH, &th);
        if (tw == 0 || th == 0) goto fail;
        size_t rowb = ((size_t)tw * (size_t)(nplanes > 1 ? 1 : d->spp) * d->bps + 7) / 8;
        size_t tilebytes = rowb * th;
        for (int plane = 0; plane < nplanes; plane++)
            for (uint32_t y0 = 0; y0 < d->h; y0 += th)
                for (uint32_t x0 = 0; x0 < d->w; x0 += tw) {
                    /* zeroed first: libtiff may decode a damaged strip or tile only in part
                       without saying so, and then the rest must not be stale memory */
                    memset(buf, 0, tilebytes);
                    if (TIFFReadTile(t, buf, x0, y0, 0, (uint16_t)plane) < 0) goto fail;
                    uint32_t nw = d->w - x0 < tw ? d->w - x0 : tw;
                    uint32_t nh = d->h - y0 < th ? d->h - y0 : th;
                    for (uint32_t r = 0; r < nh; r++)
                        convert_run(d, buf + r * rowb, (int)nw, plane,
                                    img->data + (size_t)(y0 + r) * img->stride +
                                        (size_t)x0 * (size_t)ch * (d->wide ? 2u : 1u),
                                    ch);
                }
    } else {
        uint32_t rps = 0;
        TIFFGetFieldDefaulted(t, TIFFTAG_ROWSPERSTRIP, &rps);
        if (rps == 0 || rps > d->h) rps = d->h;
        uint32_t nstrips = (d->h + rps - 1) / rps;
        size_t rowb = ((size_t)d->w * (size_t)(nplanes > 1 ? 1 : d->spp) * d->bps + 7) / 8;
        for (int plane = 0; plane < nplanes; plane++)
            for (uint32_t s = 0; s < nstrips; s++) {
                uint32_t y0 = s * rps, nh = d->h - y0 < rps ? d->h - y0 : rps;
                tmsize_t want = (tmsize_t)(rowb * nh);
                memset(buf, 0, (size_t)want); /* as for tiles */
                tmsize_t got = TIFFReadEncodedStrip(t, (uint32_t)plane * nstrips + s, buf, want);
                if (got < want) goto fail;
                for (uint32_t r = 0; r < nh; r++)
                    convert_run(d, buf + r * rowb, (int)d->w, plane,
                                img->data + (size_t)(y0 + r) * img->stride, ch);
            }
    }
    if (d->assoc && d->alpha) unpremultiply(img);
    return PP_OK;
fail:
    return pp_fail(ctx, PP_ERR_DECODE, "%s: %s", name, m->msg[0] ? m->msg : "cannot read the TIFF's data");
}

static pp_status read_rgba(pp_ctx *ctx, const char *name, TIFF *t, tmem *m, const tiff_dir *d,
                           pp_image *img, uint32_t *raster)
{
    if (!TIFFReadRGBAImageOriented(t, d->w, d->h, raster, ORIENTATION_TOPLEFT, 1))
        return pp_fail(ctx, PP_ERR_DECODE, "%s: %s", name,
                       m->msg[0] ? m->msg : "libtiff cannot convert this TIFF to RGBA");
    const int ch = img->channels;
    const bool alpha = ch == 2 || ch == 4;
    for (int y = 0; y < img->height; y++) {
        uint8_t *dst = img->data + (size_t)y * img->stride;
        const uint32_t *src = raster + (size_t)y * d->w;
        for (int x = 0; x < img->width; x++, dst += ch) {
            uint32_t p = src[x];
            uint8_t v[4] = {(uint8_t)TIFFGetR(p), (uint8_t)TIFFGetG(p), (uint8_t)TIFFGetB(p),
                            (uint8_t)TIFFGetA(p)};
            if (ch <= 2) v[1] = v[3]; /* grey: R = G = B */
            for (int k = 0; k < ch; k++) dst[k] = v[k];
        }
    }
    if (alpha) unpremultiply(img); /* libtiff's RGBA raster holds associated alpha */
    return PP_OK;
}

/* ---- metadata ------------------------------------------------------------------------------ */

/* The ICC profile (InterColorProfile), XMP (XMLPacket) and resolution of the directory into m.
   The resolution becomes "jfif:density" where it is a whole number of dots per inch or per cm
   (or an aspect ratio) that fits JFIF's 16 bits, else "png:pHYs" in dots per metre. A blob over
   the container's limits is dropped; only running out of memory fails. */
static pp_status read_meta(TIFF *t, pp_meta *m)
{
    uint32_t n = 0;
    void *p = NULL;
    pp_status st = PP_OK;
    if (TIFFGetField(t, TIFFTAG_ICCPROFILE, &n, &p) && n > 0 && p) st = pp_meta_set(m, "icc", p, n);
    if (st == PP_ERR_NOMEM) return st;
    if (TIFFGetField(t, TIFFTAG_XMLPACKET, &n, &p) && n > 0 && p) st = pp_meta_set(m, "xmp", p, n);
    if (st == PP_ERR_NOMEM) return st;
    float xr = 0, yr = 0;
    uint16_t unit = RESUNIT_INCH;
    if (!TIFFGetField(t, TIFFTAG_XRESOLUTION, &xr) || !TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr) ||
        !(xr > 0) || !(yr > 0) || xr > 1e9f || yr > 1e9f)
        return PP_OK;
    TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
    long x = lround(xr), y = lround(yr);
    if (x >= 1 && x <= 65535 && y >= 1 && y <= 65535 && fabs(xr - (double)x) < 1e-3 &&
        fabs(yr - (double)y) < 1e-3) {
        uint8_t d[5] = {(uint8_t)(unit == RESUNIT_INCH ? 1 : unit == RESUNIT_CENTIMETER ? 2 : 0),
                        (uint8_t)(x >> 8), (uint8_t)x, (uint8_t)(y >> 8), (uint8_t)y};
        st = pp_meta_set(m, "jfif:density", d, 5);
    } else if (unit == RESUNIT_INCH || unit == RESUNIT_CENTIMETER) {
        double per_m = unit == RESUNIT_INCH ? 1.0 / 0.0254 : 100.0;
        uint32_t px = (uint32_t)lround(xr * per_m), py = (uint32_t)lround(yr * per_m);
        uint8_t d[9] = {(uint8_t)(px >> 24), (uint8_t)(px >> 16), (uint8_t)(px >> 8), (uint8_t)px,
                        (uint8_t)(py >> 24), (uint8_t)(py >> 16), (uint8_t)(py >> 8), (uint8_t)py, 1};
        if (px && py) st = pp_meta_set(m, "png:pHYs", d, 9);
    }
    return st == PP_ERR_NOMEM ? st : PP_OK;
}

/* The ICC profile, XMP and density of m as tags of the directory being written; 1 on success. */
static int write_meta(TIFF *t, const pp_meta *m)
{
    const pp_meta_item *it;
    int ok = 1;
    if ((it = pp_meta_find(m, "icc")) && it->size <= UINT32_MAX)
        ok &= TIFFSetField(t, TIFFTAG_ICCPROFILE, (uint32_t)it->size, it->data);
    if ((it = pp_meta_find(m, "xmp")) && it->size <= UINT32_MAX)
        ok &= TIFFSetField(t, TIFFTAG_XMLPACKET, (uint32_t)it->size, it->data);
    uint8_t d[5];
    const pp_meta_item *ph = pp_meta_find(m, "png:pHYs");
    if ((it = pp_meta_find(m, "jfif:density")) && it->size == 5 && it->data[0] <= 2) {
        memcpy(d, it->data, 5);
    } else if (ph && ph->size == 9 && ph->data[8] == 1) { /* per metre: written per cm */
        uint32_t px = (uint32_t)ph->data[0] << 24 | (uint32_t)ph->data[1] << 16 |
                      (uint32_t)ph->data[2] << 8 | ph->data[3];
        uint32_t py = (uint32_t)ph->data[4] << 24 | (uint32_t)ph->data[5] << 16 |
                      (uint32_t)ph->data[6] << 8 | ph->data[7];
        if (!pp_density_phys_to_jfif(ph->data, d)) { /* not whole dots per inch or cm */
            if (px && py)
                ok &= TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_CENTIMETER) &&
                      TIFFSetField(t, TIFFTAG_XRESOLUTION, (float)(px / 100.0)) &&
                      TIFFSetField(t, TIFFTAG_YRESOLUTION, (float)(py / 100.0));
            return ok;
        }
    } else {
        return ok;
    }
    unsigned x = (unsigned)d[1] << 8 | d[2], y = (unsigned)d[3] << 8 | d[4];
    if (x && y)
        ok &= TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT,
                           d[0] == 1 ? RESUNIT_INCH : d[0] == 2 ? RESUNIT_CENTIMETER : RESUNIT_NONE) &&
              TIFFSetField(t, TIFFTAG_XRESOLUTION, (float)x) &&
              TIFFSetField(t, TIFFTAG_YRESOLUTION, (float)y);
    return ok;
}

/* ---- decoding entry point ------------------------------------------------------------------ */

pp_status pp_tiff_decode(pp_ctx *ctx, const char *name, const uint8_t *data, size_t size,
                         pp_image_info *info, pp_image **out)
{
    tmem *m = calloc(1, sizeof *m);
    if (!m) return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
    m->rd = data;
    m->n = size;
    uint64_t left = ctx->max_memory;
    TIFF *t = open_mem(m, name, "rm", left > (uint64_t)INT64_MAX / 2 ? 0 : (tmsize_t)left);
    pp_status st;
    if (!t) {
        st = pp_fail(ctx, PP_ERR_DECODE, "%s: %s", name, m->msg[0] ? m->msg : "not a readable TIFF");
        free(m);
        return st;
    }
    tiff_dir d;
    pp_image *img = NULL;
    uint8_t *buf = NULL;
    if ((st = read_dir(ctx, name, t, m, &d))) goto done;
    int ch = (d.color ? 3 : 1) + (d.alpha ? 1 : 0);
    const int depth = d.wide ? 16 : 8;
    pp_image_info hdr = {PP_FORMAT_TIFF, (int)d.w, (int)d.h, ch, d.bps, depth};
    if (!out) {
        *info = hdr;
        goto done;
    }
    size_t bytes;
    if ((st = pp_check_size_depth(ctx, name, d.w, d.h, ch, depth, &bytes))) goto done;
    uint64_t bufbytes;
    if (d.direct)
        bufbytes = d.tiled ? (uint64_t)TIFFTileSize64(t) : (uint64_t)TIFFStripSize64(t);
    else
        bufbytes = (uint64_t)d.w * d.h * 4u;
    if (d.direct && bufbytes == 0) {
        st = pp_fail(ctx, PP_ERR_DECODE, "%s: %s", name, m->msg[0] ? m->msg : "bad TIFF strip or tile size");
        goto done;
    }
    if ((st = pp_check_memory(ctx, name, 0, (uint64_t)bytes + bufbytes, "decoder buffers"))) goto done;
    if ((st = pp_codec_alloc_image_depth(ctx, name, (int)d.w, (int)d.h, ch, depth, &img)))
        goto done;
    if (!(buf = malloc((size_t)bufbytes))) {
        st = pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    st = d.direct ? read_direct(ctx, name, t, m, &d, img, buf)
                  : read_rgba(ctx, name, t, m, &d, img, (uint32_t *)(void *)buf);
    if (!st && (st = read_meta(t, &img->meta)))
        pp_fail(ctx, st, "%s: out of memory reading the metadata", name);
    if (!st) {
        if (info) *info = hdr;
        *out = img;
        img = NULL;
    }
done:
    free(buf);
    pp_image_free(img);
    TIFFClose(t);
    free(m);
    return st;
}

/* ---- encoding ------------------------------------------------------------------------------ */

pp_status pp_tiff_encode(pp_ctx *ctx, const pp_image *img, pp_sink *out, const char *name)
{
    static const uint16_t codes[] = {COMPRESSION_NONE, COMPRESSION_LZW, COMPRESSION_ADOBE_DEFLATE,
                                     COMPRESSION_PACKBITS};
    const int w = img->width, h = img->height, c = img->channels;
    const int bits = img->depth == 16 ? 16 : 8;
    const size_t rowb = (size_t)w * (size_t)c * (size_t)(bits / 8);
    tmem *m = calloc(1, sizeof *m);
    if (!m) return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
    m->f = out->f; /* a new, empty file (io.c opens it for update) */
    bool big = rowb * (size_t)h > ((size_t)3 << 30); /* could pass 4 GiB: BigTIFF */
    TIFF *t = open_mem(m, name, big ? "w8" : "w", 0);
    pp_status st = PP_OK;
    uint8_t *buf = NULL;
    if (!t) {
        st = pp_fail(ctx, PP_ERR_ENCODE, "%s: %s", name, m->msg[0] ? m->msg : "libtiff failed");
        goto done;
    }
    uint16_t comp = codes[ctx->tiff_compression];
    size_t rps = STRIP_BYTES / rowb;
    if (rps < 1) rps = 1;
    if (rps > (size_t)h) rps = (size_t)h;
    uint16_t extra = EXTRASAMPLE_UNASSALPHA;
    int ok = TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)w) &&
             TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)h) &&
             TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, bits) &&
             TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, c) &&
             TIFFSetField(t, TIFFTAG_PHOTOMETRIC, c <= 2 ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_RGB) &&
             TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
             TIFFSetField(t, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT) &&
             TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, (uint32_t)rps) &&
             TIFFSetField(t, TIFFTAG_COMPRESSION, comp) &&
             (c % 2 == 1 || TIFFSetField(t, TIFFTAG_EXTRASAMPLES, 1, &extra)) &&
             ((comp != COMPRESSION_LZW && comp != COMPRESSION_ADOBE_DEFLATE) ||
              TIFFSetField(t, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL)) &&
             TIFFSetField(t, TIFFTAG_SOFTWARE, "pixpool") && write_meta(t, &img->meta);
    if (!ok || !(buf = malloc(rps * rowb))) {
        st = pp_fail(ctx, ok ? PP_ERR_NOMEM : PP_ERR_ENCODE, "%s: %s", name,
                     !ok && m->msg[0] ? m->msg : ok ? "out of memory" : "libtiff refused a tag");
        goto done;
    }
    for (size_t y0 = 0, s = 0; y0 < (size_t)h; y0 += rps, s++) {
        size_t nh = (size_t)h - y0 < rps ? (size_t)h - y0 : rps;
        for (size_t r = 0; r < nh; r++)
            memcpy(buf + r * rowb, img->data + (y0 + r) * img->stride, rowb);
        if (TIFFWriteEncodedStrip(t, (uint32_t)s, buf, (tmsize_t)(nh * rowb)) < 0) {
            st = pp_fail(ctx, m->nomem ? PP_ERR_NOMEM : PP_ERR_ENCODE, "%s: %s", name,
                         m->nomem ? "out of memory" : m->msg[0] ? m->msg : "libtiff failed");
            goto done;
        }
    }
    if (!TIFFWriteDirectory(t)) {
        st = pp_fail(ctx, m->nomem ? PP_ERR_NOMEM : PP_ERR_ENCODE, "%s: %s", name,
                     m->nomem ? "out of memory" : m->msg[0] ? m->msg : "libtiff failed");
        goto done;
    }
done:
    if (t) TIFFClose(t);
    if (m->f && m->ioerr && !out->err) out->err = m->ioerr; /* the output failed */
    if (!m->f && !st) pp_sink_write(out, m->wr, m->n);
    if (out->err) st = pp_sink_fail(ctx, out, name);
    free(buf);
    free(m->wr);
    free(m);
    return st;
}
