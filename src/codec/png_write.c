/*
 * png_write.c - PNG encoding on the context's executor: row strips deflated in parallel.
 *
 * The image is cut into strips of whole rows (about PP_PNG_STRIP_BYTES of filtered data each;
 * the cut depends on the image only, never on the executor or the worker count, so every
 * backend writes the same bytes). Each strip is one band of a stage that the context's executor
 * runs like a filter's: a worker filters the strip's rows (PNG filter types 0-4, one per row,
 * chosen by the minimum sum of absolute differences: libpng's heuristic), primes a raw zlib
 * deflate stream with the last 32 KiB of filtered data before the strip (which it filters
 * again itself, so strips need nothing from each other), deflates the strip and ends it with a
 * sync flush (the last strip with the stream's end), byte-aligned. The strips therefore
 * concatenate into one ordinary zlib stream, the method of pigz (and of mtpng for PNG). The
 * calling thread writes the signature, IHDR, the image's metadata chunks (png_meta.c), the
 * strips as IDAT chunks (the zlib header before
 * the first, the adler32 of all filtered data, combined from the strips' own, after the last)
 * and IEND. Decoders see a normal PNG; they never need to know about strips.
 *
 * Compression: the level is zlib's (0 stores, 9 is smallest). At levels 1-5 every strip is first
 * deflated with zlib's run-length strategy (matches at distance 1 only), which is 2-8x faster
 * than zlib's own levels 1-6 on the residuals of photographs and makes them as small as level 6
 * does; a strip that this makes smaller than an eighth of its size (drawings, text, flat areas:
 * where longer matches pay) is deflated again at the level with zlib's default strategy, and the
 * smaller of the two is kept. Levels 6-9 use zlib's default strategy for every strip, as libpng
 * does. The choice depends only on the strip's bytes, so it is the same on every backend.
 *
 * Kernels are pure (internal.h): zlib's state comes from the worker's scratch through a bump
 * allocator, and the compressed bytes go to a slot per strip (sized by a bound deflate cannot
 * exceed) in memory the executor's workers can see, with a result record per strip in the
 * stage's partials.
 */
#include "codec.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define DICT_BYTES 32768u                  /* deflate's window */
#define ZMEM_BYTES ((size_t)320 << 10)      /* zlib's deflate state (~262 KiB at memLevel 8) */
#define IDAT_MAX ((size_t)1 << 30)          /* a chunk's length must stay below 2^31 */
#define RLE_RETRY_DIV 8                     /* RLE output below 1/8 of the input: try LZ77 */
#define SAMPLE_BYTES ((size_t)16 << 10)     /* the strategy is chosen on this much of a strip */

/* What every strip needs to know (the stage's parameter blob). */
typedef struct strip_params {
    int width, height, channels;
    int strip_rows, nstrips;
    int level;
    int palette;       /* 1: the rows are palette indices, written with filter type 0 */
    int swap16;        /* 16-bit samples to swap to PNG's big-endian order (little-endian host) */
    size_t bpp;        /* bytes per pixel: channels, x 2 at 16 bits */
    size_t rowbytes;   /* width * bpp */
    size_t slot_bytes; /* room for one strip's compressed bytes in stage->dst */
    size_t fbuf_bytes; /* filtered bytes of the largest strip (strip_rows rows of 1 + rowbytes) */
} strip_params;

_Static_assert(sizeof(strip_params) <= PP_PARAM_BYTES, "strip_params must fit a stage");

/* One strip's result (stage->partials). */
typedef struct strip_result {
    uint64_t len;   /* compressed bytes in its slot */
    uint32_t adler; /* adler32 of its filtered bytes (from 1) */
    int32_t error;  /* 0, or a zlib failure (cannot happen within the bounds used) */
} strip_result;

/* ---- row filters (PNG filter types 0-4) -------------------------------------------------- */

static inline unsigned absb(uint8_t v) { return v < 128 ? v : 256u - v; }

static inline __attribute__((always_inline)) uint8_t paeth(int a, int b, int c)
{
    int pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c);
    return (uint8_t)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

/* Sums of |residual| (as signed bytes) of filter types 0-4 over bytes [bpp, n) of a row, for
   the heuristic; the first bpp bytes are added by the caller. Chunks of 64 KiB keep 32-bit
   lane sums from overflowing. */
__attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
static void row_sums(const uint8_t *restrict cur, const uint8_t *restrict prev, size_t n,
                     size_t bpp, uint64_t sums[5])
{
    for (size_t i0 = bpp; i0 < n; i0 += 65536) {
        size_t i1 = n - i0 > 65536 ? i0 + 65536 : n;
        uint32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
        for (size_t i = i0; i < i1; i++) {
            int x = cur[i], a = cur[i - bpp], b = prev[i], c = prev[i - bpp];
            s0 += absb((uint8_t)x);
            s1 += absb((uint8_t)(x - a));
            s2 += absb((uint8_t)(x - b));
            s3 += absb((uint8_t)(x - ((a + b) >> 1)));
            s4 += absb((uint8_t)(x - paeth(a, b, c)));
        }
        sums[0] += s0;
        sums[1] += s1;
        sums[2] += s2;
        sums[3] += s3;
        sums[4] += s4;
    }
}

/* Writes filter type `t` of row `cur` (previous row `prev`, zeros above the first row) to
   out[0..n). */
__attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
static void row_filter(int t, const uint8_t *restrict cur, const uint8_t *restrict prev, size_t n,
                       size_t bpp, uint8_t *restrict out)
{
    size_t k = bpp < n ? bpp : n;
    switch (t) {
    case 0: memcpy(out, cur, n); break;
    case 1:
        memcpy(out, cur, k);
        for (size_t i = k; i < n; i++) out[i] = (uint8_t)(cur[i] - cur[i - bpp]);
        break;
    case 2:
        for (size_t i = 0; i < n; i++) out[i] = (uint8_t)(cur[i] - prev[i]);
        break;
    case 3:
        for (size_t i = 0; i < k; i++) out[i] = (uint8_t)(cur[i] - (prev[i] >> 1));
        for (size_t i = k; i < n; i++)
            out[i] = (uint8_t)(cur[i] - ((cur[i - bpp] + prev[i]) >> 1));
        break;
    default:
        for (size_t i = 0; i < k; i++) out[i] = (uint8_t)(cur[i] - prev[i]); /* a = c = 0 */
        for (size_t i = k; i < n; i++)
            out[i] = (uint8_t)(cur[i] - paeth(cur[i - bpp], prev[i], prev[i - bpp]));
        break;
    }
}

/* Filters one row into out[0] (the filter type) and out[1..n]: type 0 at level 0 (nothing to
   gain from filtering stored data), else the type of least sum of |residual|, the lowest type
   on a tie. */
static void filter_row(const uint8_t *cur, const uint8_t *prev, size_t n, size_t bpp, int level,
                       uint8_t *out)
{
    int best = 0;
    if (level > 0) {
        uint64_t s[5] = {0, 0, 0, 0, 0};
        size_t k = bpp < n ? bpp : n;
        for (size_t i = 0; i < k; i++) { /* a = c = 0 */
            s[0] += absb(cur[i]);
            s[1] += absb(cur[i]);
            s[2] += absb((uint8_t)(cur[i] - prev[i]));
            s[3] += absb((uint8_t)(cur[i] - (prev[i] >> 1)));
            s[4] += absb((uint8_t)(cur[i] - paeth(0, prev[i], 0)));
        }
        if (n > bpp) row_sums(cur, prev, n, bpp, s);
        for (int t = 1; t < 5; t++)
            if (s[t] < s[best]) best = t;
    }
    out[0] = (uint8_t)best;
    row_filter(best, cur, prev, n, bpp, out + 1);
}

/* ---- zlib inside a kernel: a bump allocator over the worker's scratch -------------------- */

typedef struct bump {
    uint8_t *base;
    size_t size, used;
} bump;

static voidpf bump_alloc(voidpf opaque, uInt items, uInt size)
{
    bump *b = opaque;
    size_t n = (size_t)items * size;
    n = (n + 15) & ~(size_t)15;
    if (n > b->size - b->used) return Z_NULL;
    void *p = b->base + b->used;
    b->used += n;
    return p;
}

static void bump_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    (void)p; /* the whole region is dropped at once */
}

static size_t align_up(size_t n) { return (n + PP_ALIGN - 1) & ~(size_t)(PP_ALIGN - 1); }

/* Deflates in[0..n) as a raw stream primed with dict[0..dn) into out (cap bytes), ended by a sync
   flush or, for the last strip, by the stream's end. Returns the compressed length, or 0 on a
   zlib failure. */
static size_t deflate_strip(bump *mem, int level, int strategy, const uint8_t *dict, size_t dn,
                            const uint8_t *in, size_t n, bool last, uint8_t *out, size_t cap)
{
    mem->used = 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    z.zalloc = bump_alloc;
    z.zfree = bump_free;
    z.opaque = mem;
    if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, strategy) != Z_OK) return 0;
    size_t len = 0;
    if (dn && deflateSetDictionary(&z, dict, (uInt)dn) != Z_OK) goto done;
    z.next_out = out;
    z.avail_out = cap > UINT_MAX ? UINT_MAX : (uInt)cap;
    size_t pos = 0;
    int ret = Z_OK;
    for (;;) {
        size_t chunk = n - pos > (1u << 30) ? (1u << 30) : n - pos;
        z.next_in = (Bytef *)(uintptr_t)(in + pos);
        z.avail_in = (uInt)chunk;
        pos += chunk;
        int flush = pos < n ? Z_NO_FLUSH : last ? Z_FINISH : Z_SYNC_FLUSH;
        do {
            size_t done_out = (size_t)(z.next_out - out);
            if (z.avail_out == 0) {
                if (done_out >= cap) goto done; /* over the bound: cannot happen */
                z.avail_out = cap - done_out > UINT_MAX ? UINT_MAX : (uInt)(cap - done_out);
            }
            ret = deflate(&z, flush);
            if (ret == Z_STREAM_ERROR) goto done;
        } while (z.avail_in > 0 || (flush == Z_FINISH && ret != Z_STREAM_END) ||
                 (flush == Z_SYNC_FLUSH && z.avail_out == 0));
        if (pos >= n) break;
    }
    if (last ? ret == Z_STREAM_END : ret == Z_OK || ret == Z_BUF_ERROR)
        len = (size_t)(z.next_out - out);
done:
    deflateEnd(&z);
    return len;
}

/* ---- the strip kernel -------------------------------------------------------------------- */

/* Scratch layout of a worker: zlib's memory, a row of zeros, the filtered data before the strip
   (the dictionary), the strip's filtered data. */
static size_t scratch_bytes_for(const strip_params *p, size_t dict_cap)
{
    return ZMEM_BYTES + align_up(p->rowbytes) + align_up(dict_cap) + align_up(p->fbuf_bytes) +
           (p->swap16 ? 2 * align_up(p->rowbytes) : 0);
}

static size_t dict_cap_for(size_t rowbytes)
{
    size_t fr = rowbytes + 1;
    return ((DICT_BYTES + fr - 1) / fr) * fr; /* whole rows, at least 32 KiB */
}

/* Row y of a 16-bit image in PNG's big-endian order, into buf. */
static const uint8_t *row_be16(const pp_stage *st, const strip_params *p, int y, uint8_t *buf)
{
    const uint16_t *in = pp_row16(&st->src, y);
    for (size_t i = 0; i < p->rowbytes / 2; i++) {
        buf[2 * i] = (uint8_t)(in[i] >> 8);
        buf[2 * i + 1] = (uint8_t)in[i];
    }
    return buf;
}

/* Filters rows [y0, y1) of the image into out (1 + rowbytes each); swap: two rows of scratch
   for byte-swapped 16-bit rows (NULL when no swap is needed). */
static void filter_rows(const pp_stage *st, const strip_params *p, const uint8_t *zero, int y0,
                        int y1, uint8_t *out, uint8_t *swap)
{
    size_t fr = p->rowbytes + 1, bpp = p->bpp;
    if (swap) {
        uint8_t *bufs[2] = {swap, swap + align_up(p->rowbytes)};
        const uint8_t *prev = y0 > 0 ? row_be16(st, p, y0 - 1, bufs[(y0 - 1) & 1]) : zero;
        for (int y = y0; y < y1; y++) {
            const uint8_t *cur = row_be16(st, p, y, bufs[y & 1]);
            filter_row(cur, prev, p->rowbytes, bpp, p->level, out);
            prev = cur;
            out += fr;
        }
        return;
    }
    for (int y = y0; y < y1; y++) {
        const uint8_t *prev = y > 0 ? pp_row(&st->src, y - 1) : zero;
        filter_row(pp_row(&st->src, y), prev, p->rowbytes, bpp, p->palette ? 0 : p->level, out);
        out += fr;
    }
}

static void encode_strip(const pp_stage *st, const strip_params *p, int s, uint8_t *scratch)
{
    strip_result *res = (strip_result *)(void *)st->partials + s;
    size_t fr = p->rowbytes + 1, dict_cap = dict_cap_for(p->rowbytes);
    bump mem = {scratch, ZMEM_BYTES, 0};
    uint8_t *zero = scratch + ZMEM_BYTES;
    uint8_t *dict = zero + align_up(p->rowbytes);
    uint8_t *fbuf = dict + align_up(dict_cap);
    uint8_t *swap = p->swap16 ? fbuf + align_up(p->fbuf_bytes) : NULL;
    memset(zero, 0, p->rowbytes);

    int y0 = s * p->strip_rows;
    int y1 = y0 + p->strip_rows < p->height ? y0 + p->strip_rows : p->height;
    /* The dictionary: the last 32 KiB of the filtered rows before the strip. */
    size_t dn = 0;
    const uint8_t *dstart = dict;
    if (y0 > 0) {
        int k = (int)(dict_cap / fr);
        if (k > y0) k = y0;
        filter_rows(st, p, zero, y0 - k, y0, dict, swap);
        dn = (size_t)k * fr;
        if (dn > DICT_BYTES) {
            dstart = dict + (dn - DICT_BYTES);
            dn = DICT_BYTES;
        }
    }
    size_t n = (size_t)(y1 - y0) * fr;
    filter_rows(st, p, zero, y0, y1, fbuf, swap);
    res->adler = (uint32_t)adler32_z(1L, fbuf, n);

    bool last = s == p->nstrips - 1;
    uint8_t *out = st->dst.data + (size_t)s * p->slot_bytes;
    size_t len;
    if (p->level >= 1 && p->level <= 5 && !p->palette) {
        /* Which strategy: both on a sample of the strip (compressed into the slot, which is
           overwritten next), LZ77 when it is clearly smaller there. */
        int strategy = Z_RLE;
        size_t sn = n < SAMPLE_BYTES ? n : SAMPLE_BYTES;
        size_t r = deflate_strip(&mem, p->level, Z_RLE, NULL, 0, fbuf, sn, true, out,
                                 p->slot_bytes);
        size_t z = deflate_strip(&mem, p->level, Z_DEFAULT_STRATEGY, NULL, 0, fbuf, sn, true,
                                 out, p->slot_bytes);
        if (r && z && z * 10 < r * 9) strategy = Z_DEFAULT_STRATEGY;
        len = deflate_strip(&mem, p->level, strategy, dstart, dn, fbuf, n, last, out,
                            p->slot_bytes);
        if (strategy == Z_RLE && len && len < n / RLE_RETRY_DIV) {
            /* Very compressible content (flat areas): LZ77 may still do better. It is
               compressed into the room after the RLE result; if it does not fit there, it is
               no shorter. */
            uint8_t *alt = out + len;
            size_t alen = deflate_strip(&mem, p->level, Z_DEFAULT_STRATEGY, dstart, dn, fbuf, n,
                                        last, alt, p->slot_bytes - len);
            if (alen && alen < len) {
                memmove(out, alt, alen);
                len = alen;
            }
        }
    } else {
        len = deflate_strip(&mem, p->level, Z_DEFAULT_STRATEGY, dstart, dn, fbuf, n, last, out,
                            p->slot_bytes);
    }
    res->len = len;
    res->error = len == 0;
}

static void png_strip_kernel(const pp_stage *st, int s0, int s1, int band, void *scratch)
{
    (void)band;
    const strip_params *p = PP_STAGE_PARAMS(strip_params, st);
    for (int s = s0; s < s1; s++) encode_strip(st, p, s, scratch);
}

/* ---- the container ----------------------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Writes one chunk whose data is the concatenation of up to three pieces. */
static void write_chunk(pp_sink *out, const char type[4], const uint8_t *a, size_t an,
                        const uint8_t *b, size_t bn, const uint8_t *c, size_t cn)
{
    uint8_t hdr[8];
    put32(hdr, (uint32_t)(an + bn + cn));
    memcpy(hdr + 4, type, 4);
    uLong crc = crc32_z(0L, hdr + 4, 4);
    if (an) crc = crc32_z(crc, a, an);
    if (bn) crc = crc32_z(crc, b, bn);
    if (cn) crc = crc32_z(crc, c, cn);
    uint8_t tail[4];
    put32(tail, (uint32_t)crc);
    pp_sink_write(out, hdr, 8);
    if (an) pp_sink_write(out, a, an);
    if (bn) pp_sink_write(out, b, bn);
    if (cn) pp_sink_write(out, c, cn);
    pp_sink_write(out, tail, 4);
}

/* The zlib header for a level (RFC 1950: CMF 0x78, FLEVEL, FCHECK). */
static void zlib_header(int level, uint8_t out[2])
{
    unsigned flevel = level < 2 ? 0 : level < 6 ? 1 : level == 6 ? 2 : 3;
    unsigned h = (0x78u << 8) | (flevel << 6);
    h += 31 - h % 31;
    out[0] = (uint8_t)(h >> 8);
    out[1] = (uint8_t)h;
}

/* ---- palette output ---------------------------------------------------------------------- */

/* A palette PNG to write: the "png:palette" blob (meta.h) as PLTE and tRNS, and the image's
   colours as indices into it, packed at the bit depth (1, 2, 4 or 8) that holds them all. */
typedef struct png_palette {
    int width, bits, n, ntrns;
    uint8_t plte[256 * 3], trns[256];
    pp_image *idx; /* 1 channel, (width * bits + 7) / 8 bytes a row: the IDAT rows */
} png_palette;

static void write_palette(pp_sink *out, const png_palette *pal)
{
    write_chunk(out, "PLTE", pal->plte, (size_t)pal->n * 3, NULL, 0, NULL, 0);
    if (pal->ntrns) write_chunk(out, "tRNS", pal->trns, (size_t)pal->ntrns, NULL, 0, NULL, 0);
}

#define PAL_SLOTS 1024 /* the colour -> index hash table: at most a quarter full */

static unsigned pal_hash(uint32_t key) { return (key * 2654435761u) >> 22; }

/* The index of colour key, or -1. */
static int pal_find(const uint32_t *keys, const int16_t *vals, uint32_t key)
{
    for (unsigned h = pal_hash(key);; h = (h + 1) & (PAL_SLOTS - 1)) {
        if (vals[h] < 0) return -1;
        if (keys[h] == key) return vals[h];
    }
}

static uint32_t pal_key(const uint8_t *px, int channels)
{
    return (uint32_t)px[0] << 24 | (uint32_t)px[1] << 16 | (uint32_t)px[2] << 8 |
           (channels == 4 ? px[3] : 255u);
}

/* Fills pal with the indices of img's pixels when img is 8-bit RGB or RGBA with a well-formed
   "png:palette" that holds every pixel's colour (alpha included; the first entry of a colour
   listed twice); else leaves pal->idx NULL, and the image is written as it is. Fails only when
   the index image cannot be allocated. */
static pp_status palette_indices(pp_ctx *ctx, const pp_image *img, const char *name,
                                 png_palette *pal)
{
    memset(pal, 0, sizeof *pal);
    const pp_meta_item *it = pp_meta_find(&img->meta, "png:palette");
    if (!it || it->size < 4 || it->size > 256 * 4 || it->size % 4 || img->depth != 8 ||
        (img->channels != 3 && img->channels != 4))
        return PP_OK;
    int n = (int)(it->size / 4), c = img->channels;
    uint32_t keys[PAL_SLOTS];
    int16_t vals[PAL_SLOTS];
    memset(vals, 0xff, sizeof vals); /* -1: empty */
    for (int i = 0; i < n; i++) {
        const uint8_t *e = it->data + 4 * i;
        uint32_t key = pal_key(e, c);
        unsigned h = pal_hash(key);
        while (vals[h] >= 0 && keys[h] != key) h = (h + 1) & (PAL_SLOTS - 1);
        if (vals[h] < 0) {
            keys[h] = key;
            vals[h] = (int16_t)i;
        }
        memcpy(pal->plte + 3 * i, e, 3);
        pal->trns[i] = e[3];
        if (e[3] != 255) pal->ntrns = i + 1;
    }
    /* RGBA stays RGBA when read back: a tRNS chunk even when every entry is opaque */
    if (c == 4 && pal->ntrns == 0) pal->ntrns = 1;
    if (c == 3) pal->ntrns = 0;
    pal->n = n;
    pal->bits = n <= 2 ? 1 : n <= 4 ? 2 : n <= 16 ? 4 : 8;
    pal->width = img->width;
    size_t rowbytes = ((size_t)img->width * (size_t)pal->bits + 7) / 8;
    if (rowbytes > INT_MAX) return PP_OK;
    /* every colour is looked up before anything is allocated: most images that are not in
       the palette leave at once */
    for (int y = 0; y < img->height; y++) {
        const uint8_t *row = img->data + (size_t)y * img->stride;
        uint32_t last = pal_key(row, c) ^ 1u;
        for (int x = 0; x < img->width; x++) {
            uint32_t key = pal_key(row + (size_t)x * (size_t)c, c);
            if (key != last && pal_find(keys, vals, key) < 0) return PP_OK;
            last = key;
        }
    }
    pp_status st = pp_codec_alloc_image(ctx, name, (int)rowbytes, img->height, 1, &pal->idx);
    if (st) return st;
    int per_byte = 8 / pal->bits;
    for (int y = 0; y < img->height; y++) {
        const uint8_t *row = img->data + (size_t)y * img->stride;
        uint8_t *dst = pal->idx->data + (size_t)y * pal->idx->stride;
        memset(dst, 0, rowbytes);
        uint32_t last = pal_key(row, c) ^ 1u;
        int v = 0;
        for (int x = 0; x < img->width; x++) {
            uint32_t key = pal_key(row + (size_t)x * (size_t)c, c);
            if (key != last) v = pal_find(keys, vals, key);
            last = key;
            int k = x % per_byte; /* the leftmost pixel in the high bits */
            dst[x / per_byte] |= (uint8_t)(v << (8 - pal->bits * (k + 1)));
        }
    }
    return PP_OK;
}

/* Writes the PNG whose rows are img's (the pixels, or a palette's packed indices: pal), as
   described at the top. */
static pp_status encode(pp_ctx *ctx, const pp_image *img, const png_palette *pal, pp_sink *out,
                        const char *name)
{
    static const uint8_t ctypes[5] = {0, 0, 4, 2, 6}; /* gray, gray+alpha, RGB, RGBA */
    strip_params p;
    memset(&p, 0, sizeof p);
    p.width = img->width;
    p.palette = pal != NULL;
    p.height = img->height;
    p.channels = img->channels;
    p.level = ctx->png_level;
    p.bpp = (size_t)img->channels * (img->depth == 16 ? 2u : 1u);
    p.swap16 = img->depth == 16 && pp_host_little_endian();
    p.rowbytes = (size_t)img->width * p.bpp;
    size_t fr = p.rowbytes + 1;
    size_t target = ctx->png_strip_bytes ? ctx->png_strip_bytes : PP_PNG_STRIP_BYTES;
    size_t rows = target / fr;
    if (rows < 1) rows = 1;
    if (rows > (size_t)p.height) rows = (size_t)p.height;
    p.strip_rows = (int)rows;
    p.nstrips = (int)(((size_t)p.height + rows - 1) / rows);
    p.fbuf_bytes = rows * fr;
    /* deflate never expands by more than its stored blocks' 5 bytes per 64 KiB, plus the
       flush. (A second, LZ77 pass only keeps its result when it is shorter than the first's,
       so it fits in the room the first left.) */
    size_t n = p.fbuf_bytes;
    p.slot_bytes = align_up(n + n / 1024 + 256);

    pp_strips run = {.kernel = png_strip_kernel, .params = &p, .params_bytes = sizeof p,
                     .nstrips = p.nstrips, .slot_bytes = p.slot_bytes,
                     .result_bytes = sizeof(strip_result),
                     .scratch_bytes = scratch_bytes_for(&p, dict_cap_for(p.rowbytes)),
                     .what = "PNG encoder buffers"};
    pp_status st = pp_strips_run(ctx, img, name, &run);
    if (st) return st;
    const uint8_t *dst = run.slots;
    const strip_result *res = (const strip_result *)(const void *)run.results;
    uLong adler = 1L;
    for (int s = 0; s < p.nstrips; s++) {
        if (res[s].error) {
            st = pp_fail(ctx, PP_ERR_ENCODE, "%s: zlib failed on rows %d..%d", name,
                         s * p.strip_rows, s * p.strip_rows + p.strip_rows - 1);
            goto done;
        }
        size_t fn = (size_t)((s + 1 < p.nstrips ? p.strip_rows : p.height - s * p.strip_rows)) * fr;
        adler = adler32_combine(adler, res[s].adler, (z_off_t)fn);
    }

    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    pp_sink_write(out, sig, 8);
    uint8_t ihdr[13];
    put32(ihdr, (uint32_t)(pal ? pal->width : p.width));
    put32(ihdr + 4, (uint32_t)p.height);
    ihdr[8] = (uint8_t)(pal ? pal->bits : img->depth == 16 ? 16 : 8);
    ihdr[9] = pal ? 3 : ctypes[p.channels];
    ihdr[10] = ihdr[11] = ihdr[12] = 0; /* deflate, adaptive filtering, no interlace */
    write_chunk(out, "IHDR", ihdr, 13, NULL, 0, NULL, 0);
    if ((st = pp_png_write_meta(ctx, out, &img->meta, name))) goto done; /* png_meta.c */
    if (pal) write_palette(out, pal);
    uint8_t zh[2], za[4];
    zlib_header(p.level, zh);
    put32(za, (uint32_t)adler);
    for (int s = 0; s < p.nstrips; s++) {
        const uint8_t *d = dst + (size_t)s * p.slot_bytes;
        size_t len = (size_t)res[s].len;
        bool first = s == 0, last = s == p.nstrips - 1;
        /* IDAT chunks: the zlib header before the first strip's bytes, the adler32 after the
           last's; a strip longer than IDAT_MAX is spread over several chunks. */
        for (size_t off = 0; off < len || (off == 0 && len == 0);) {
            size_t piece = len - off > IDAT_MAX ? IDAT_MAX : len - off;
            bool head = first && off == 0, tail = last && off + piece == len;
            write_chunk(out, "IDAT", head ? zh : NULL, head ? 2 : 0, d + off, piece,
                        tail ? za : NULL, tail ? 4 : 0);
            off += piece;
            if (piece == 0) break;
        }
    }
    write_chunk(out, "IEND", NULL, 0, NULL, 0, NULL, 0);
    if (out->err) st = pp_sink_fail(ctx, out, name);
done:
    pp_strips_free(ctx, &run);
    return st;
}

pp_status pp_png_encode(pp_ctx *ctx, const pp_image *img, pp_sink *out, const char *name)
{
    if ((uint64_t)img->width > 0x7fffffffu || (uint64_t)img->height > 0x7fffffffu)
        return pp_fail(ctx, PP_ERR_LIMIT, "%s: %dx%d is too large for PNG", name, img->width,
                       img->height);
    png_palette pal;
    pp_status st = palette_indices(ctx, img, name, &pal);
    if (st) return st;
    if (!pal.idx) return encode(ctx, img, NULL, out, name);
    pal.idx->meta = img->meta; /* borrowed: the chunks written are the image's */
    st = encode(ctx, pal.idx, &pal, out, name);
    pal.idx->meta.count = 0;
    pp_image_free(pal.idx);
    return st;
}
