/*
 * meta.c - an image's metadata: the container of named blobs (meta.h), the public API over it,
 * a small EXIF reader and patcher, and what pipelines, loads and saves do with metadata.
 * It calls nothing above it (images and pipelines call it); turning the pixels as the EXIF
 * orientation says runs a pipeline, so it lives one layer up, in orient.c.
 *
 * EXIF is handled by a walker of pixpool's own rather than libexif: pixpool reads one value
 * (Orientation) and rewrites a handful of fixed-size values in place (Orientation, the pixel
 * dimensions), so everything else - maker notes, thumbnails, GPS, offsets into them - stays
 * byte for byte as it came in. libexif would parse the whole stream (maker notes included,
 * with its own allocations) and write it back re-serialised, which changes bytes pixpool has no
 * business changing, and it would be one more dependency to fuzz. The walker visits IFD0 and
 * the Exif IFD that IFD0 points to, nothing else: no "next IFD" chain is followed, so a file
 * whose IFDs point at each other cannot make it loop, and every entry is bounds-checked.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the container ------------------------------------------------------------------------ */

unsigned pp_meta_kind_of(const char *name)
{
    if (strcmp(name, "exif") == 0) return PP_META_EXIF;
    if (strcmp(name, "xmp") == 0) return PP_META_XMP;
    if (strcmp(name, "icc") == 0 || strcmp(name, "png:sRGB") == 0 ||
        strcmp(name, "png:gAMA") == 0 || strcmp(name, "png:cHRM") == 0)
        return PP_META_ICC;
    if (strcmp(name, "png:pHYs") == 0 || strcmp(name, "jfif:density") == 0)
        return PP_META_DENSITY;
    if (strcmp(name, "png:palette") == 0) return 0; /* pixels, not metadata: never stripped */
    return PP_META_OTHER;
}

bool pp_meta_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= PP_META_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == ':' || c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

static int find_index(const pp_meta *m, const char *name)
{
    for (int i = 0; i < m->count; i++)
        if (strcmp(m->items[i].name, name) == 0) return i;
    return -1;
}

const pp_meta_item *pp_meta_find(const pp_meta *m, const char *name)
{
    int i = find_index(m, name);
    return i < 0 ? NULL : &m->items[i];
}

static size_t total_bytes(const pp_meta *m)
{
    size_t t = 0;
    for (int i = 0; i < m->count; i++) t += m->items[i].size;
    return t;
}

pp_status pp_meta_set_owned(pp_meta *m, const char *name, uint8_t *data, size_t size)
{
    int i = find_index(m, name);
    size_t others = total_bytes(m) - (i >= 0 ? m->items[i].size : 0);
    if (size > PP_META_BLOB_MAX || size > PP_META_TOTAL_MAX - others ||
        (i < 0 && m->count >= PP_META_MAX_ITEMS)) {
        free(data);
        return PP_ERR_LIMIT;
    }
    if (i < 0) {
        i = m->count++;
        snprintf(m->items[i].name, PP_META_NAME_MAX, "%s", name);
    } else {
        free(m->items[i].data);
    }
    m->items[i].data = data;
    m->items[i].size = size;
    return PP_OK;
}

pp_status pp_meta_set(pp_meta *m, const char *name, const void *data, size_t size)
{
    if (size > PP_META_BLOB_MAX) return PP_ERR_LIMIT;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return PP_ERR_NOMEM;
    if (size) memcpy(copy, data, size);
    return pp_meta_set_owned(m, name, copy, size);
}

static void remove_at(pp_meta *m, int i)
{
    free(m->items[i].data);
    memmove(&m->items[i], &m->items[i + 1], (size_t)(m->count - i - 1) * sizeof m->items[0]);
    m->count--;
}

bool pp_meta_remove(pp_meta *m, const char *name)
{
    int i = find_index(m, name);
    if (i < 0) return false;
    remove_at(m, i);
    return true;
}

void pp_meta_strip(pp_meta *m, unsigned kinds)
{
    for (int i = m->count - 1; i >= 0; i--)
        if (pp_meta_kind_of(m->items[i].name) & kinds) remove_at(m, i);
}

void pp_meta_clear(pp_meta *m)
{
    for (int i = 0; i < m->count; i++) free(m->items[i].data);
    m->count = 0;
}

pp_status pp_meta_copy(pp_meta *dst, const pp_meta *src)
{
    for (int i = 0; i < src->count; i++) {
        pp_status st = pp_meta_set(dst, src->items[i].name, src->items[i].data, src->items[i].size);
        if (st) {
            pp_meta_clear(dst);
            return st;
        }
    }
    return PP_OK;
}

/* Whether an ICC profile's data colour space (header bytes 16..19) suits `channels`. */
static bool icc_fits(const pp_meta_item *icc, int channels)
{
    if (icc->size < 128) return false;
    const char *want = channels >= 3 ? "RGB " : "GRAY";
    return memcmp(icc->data + 16, want, 4) == 0;
}

void pp_meta_drop_unfit_icc(pp_meta *m, int channels)
{
    int i = find_index(m, "icc");
    if (i >= 0 && !icc_fits(&m->items[i], channels)) remove_at(m, i);
}

void pp_meta_view_for_save(pp_meta *view, const pp_meta *src, unsigned strip_kinds,
                           int channels)
{
    view->count = 0;
    for (int i = 0; i < src->count; i++) {
        const pp_meta_item *it = &src->items[i];
        if (pp_meta_kind_of(it->name) & strip_kinds) continue;
        if (strcmp(it->name, "icc") == 0 && !icc_fits(it, channels)) continue;
        view->items[view->count++] = *it;
    }
}

/* ---- EXIF --------------------------------------------------------------------------------- */

typedef struct tiff {
    uint8_t *d;
    size_t n;
    bool le; /* "II": little-endian */
} tiff;

static uint32_t rd16(const tiff *t, size_t o)
{
    return t->le ? (uint32_t)t->d[o] | (uint32_t)t->d[o + 1] << 8
                 : (uint32_t)t->d[o] << 8 | (uint32_t)t->d[o + 1];
}

static uint32_t rd32(const tiff *t, size_t o)
{
    return t->le ? rd16(t, o) | rd16(t, o + 2) << 16 : rd16(t, o) << 16 | rd16(t, o + 2);
}

static void wr16(const tiff *t, size_t o, uint32_t v)
{
    t->d[o + (t->le ? 0 : 1)] = (uint8_t)v;
    t->d[o + (t->le ? 1 : 0)] = (uint8_t)(v >> 8);
}

static void wr32(const tiff *t, size_t o, uint32_t v)
{
    wr16(t, o + (t->le ? 0 : 2), v & 0xffffu);
    wr16(t, o + (t->le ? 2 : 0), v >> 16);
}

static bool tiff_open(tiff *t, const uint8_t *d, size_t n)
{
    t->d = (uint8_t *)d; /* written only through the functions that take a writable buffer */
    t->n = n;
    if (n < 8) return false;
    if (d[0] == 'I' && d[1] == 'I') t->le = true;
    else if (d[0] == 'M' && d[1] == 'M') t->le = false;
    else return false;
    return rd16(t, 2) == 42;
}

/* The offset of the 12-byte entry of `tag` in the IFD at `ifd`, or 0 (none, or the IFD does not
   fit in the stream). */
static size_t ifd_find(const tiff *t, uint32_t ifd, uint32_t tag)
{
    if (ifd < 8 || t->n < 2 || ifd > t->n - 2) return 0;
    uint32_t count = rd16(t, ifd);
    if ((uint64_t)count * 12u > t->n - ifd - 2) return 0;
    for (uint32_t i = 0; i < count; i++) {
        size_t e = (size_t)ifd + 2 + (size_t)i * 12;
        if (rd16(t, e) == tag) return e;
    }
    return 0;
}

enum { TIFF_SHORT = 3, TIFF_LONG = 4 };

/* The single SHORT or LONG value of an entry; false for another type or count. */
static bool entry_value(const tiff *t, size_t e, uint32_t *v)
{
    uint32_t type = rd16(t, e + 2), count = rd32(t, e + 4);
    if (count != 1) return false;
    if (type == TIFF_SHORT) *v = rd16(t, e + 8);
    else if (type == TIFF_LONG) *v = rd32(t, e + 8);
    else return false;
    return true;
}

/* Rewrites a single SHORT or LONG value in place (a SHORT too small for v becomes a LONG: both
   fit in the entry's 4-byte value field). */
static bool entry_set(const tiff *t, size_t e, uint32_t v)
{
    uint32_t old;
    if (!entry_value(t, e, &old)) return false;
    if (rd16(t, e + 2) == TIFF_SHORT && v <= 0xffffu) {
        wr16(t, e + 8, v);
        wr16(t, e + 10, 0);
    } else {
        wr16(t, e + 2, TIFF_LONG);
        wr32(t, e + 8, v);
    }
    return true;
}

bool pp_exif_valid(const uint8_t *d, size_t n)
{
    tiff t;
    if (!tiff_open(&t, d, n)) return false;
    uint32_t ifd0 = rd32(&t, 4);
    return ifd0 >= 8 && ifd0 <= n - 2;
}

int pp_exif_orientation(const uint8_t *d, size_t n)
{
    tiff t;
    if (!tiff_open(&t, d, n)) return 0;
    size_t e = ifd_find(&t, rd32(&t, 4), 0x0112);
    uint32_t v;
    if (!e || !entry_value(&t, e, &v) || v < 1 || v > 8) return 0;
    return (int)v;
}

bool pp_exif_set_orientation(uint8_t *d, size_t n, int orientation)
{
    tiff t;
    if (!tiff_open(&t, d, n)) return false;
    size_t e = ifd_find(&t, rd32(&t, 4), 0x0112);
    return e && entry_set(&t, e, (uint32_t)orientation);
}

int pp_exif_set_dimensions(uint8_t *d, size_t n, uint32_t width, uint32_t height)
{
    tiff t;
    if (!tiff_open(&t, d, n)) return 0;
    uint32_t ifd0 = rd32(&t, 4);
    int done = 0;
    size_t e;
    if ((e = ifd_find(&t, ifd0, 0x0100)) && entry_set(&t, e, width)) done++;
    if ((e = ifd_find(&t, ifd0, 0x0101)) && entry_set(&t, e, height)) done++;
    uint32_t exif_ifd;
    if ((e = ifd_find(&t, ifd0, 0x8769)) && entry_value(&t, e, &exif_ifd)) {
        if ((e = ifd_find(&t, exif_ifd, 0xA002)) && entry_set(&t, e, width)) done++;
        if ((e = ifd_find(&t, exif_ifd, 0xA003)) && entry_set(&t, e, height)) done++;
    }
    return done;
}

/* ---- pipelines and loads ------------------------------------------------------------------ */

pp_status pp_meta_pass(pp_ctx *ctx, const pp_image *in, pp_image *out, bool same_colours)
{
    if (pp_meta_copy(&out->meta, &in->meta))
        return pp_fail(ctx, PP_ERR_NOMEM, "out of memory copying the image's metadata");
    if (!same_colours || out->channels != in->channels || out->depth != in->depth)
        pp_meta_remove(&out->meta, "png:palette");
    if (out->width != in->width || out->height != in->height) {
        int i = find_index(&out->meta, "exif");
        if (i >= 0)
            pp_exif_set_dimensions(out->meta.items[i].data, out->meta.items[i].size,
                                   (uint32_t)out->width, (uint32_t)out->height);
    }
    if (pp_color_channels(out->channels) != pp_color_channels(in->channels))
        pp_meta_drop_unfit_icc(&out->meta, out->channels);
    return PP_OK;
}

/* ---- the public API ----------------------------------------------------------------------- */

pp_status pp_image_set_meta(pp_ctx *ctx, pp_image *image, const char *name, const void *data,
                            size_t size)
{
    if (!ctx) return PP_ERR_INVALID;
    pp_clear_error(ctx);
    if (!image || !name) return pp_fail(ctx, PP_ERR_INVALID, "pp_image_set_meta: NULL argument");
    if (!pp_meta_name_ok(name))
        return pp_fail(ctx, PP_ERR_INVALID,
                       "pp_image_set_meta: invalid name '%.40s' (1..31 of A-Z a-z 0-9 : . _ -)",
                       name);
    if (!data && size > 0) return pp_fail(ctx, PP_ERR_INVALID, "pp_image_set_meta: data is NULL");
    pp_status st = pp_meta_set(&image->meta, name, data, size);
    if (st == PP_ERR_LIMIT)
        return pp_fail(ctx, st, "%s: %zu bytes is over the metadata limits (%zu MiB a blob, %d "
                       "blobs, %zu MiB in all)", name, size, PP_META_BLOB_MAX >> 20,
                       PP_META_MAX_ITEMS, PP_META_TOTAL_MAX >> 20);
    if (st) return pp_fail(ctx, st, "%s: out of memory", name);
    return PP_OK;
}

const void *pp_image_meta(const pp_image *image, const char *name, size_t *size)
{
    const pp_meta_item *it = image && name ? pp_meta_find(&image->meta, name) : NULL;
    if (size) *size = it ? it->size : 0;
    return it ? it->data : NULL;
}

int pp_image_remove_meta(pp_image *image, const char *name)
{
    return image && name && pp_meta_remove(&image->meta, name) ? 1 : 0;
}

int pp_image_meta_count(const pp_image *image) { return image ? image->meta.count : 0; }

const char *pp_image_meta_name(const pp_image *image, int index)
{
    if (!image || index < 0 || index >= image->meta.count) return NULL;
    return image->meta.items[index].name;
}

void pp_image_strip_meta(pp_image *image, unsigned kinds)
{
    if (image) pp_meta_strip(&image->meta, kinds);
}

int pp_image_orientation(const pp_image *image)
{
    const pp_meta_item *ex = pp_meta_find(&image->meta, "exif");
    int o = ex ? pp_exif_orientation(ex->data, ex->size) : 0;
    return o ? o : 1;
}

pp_status pp_ctx_set_strip(pp_ctx *ctx, unsigned kinds)
{
    if (!ctx || (kinds & ~(unsigned)PP_META_ALL)) return PP_ERR_INVALID;
    ctx->strip = kinds;
    return PP_OK;
}

pp_status pp_ctx_set_auto_orient(pp_ctx *ctx, int on)
{
    if (!ctx) return PP_ERR_INVALID;
    ctx->auto_orient = on != 0;
    return PP_OK;
}
