/*
 * meta.h - an image's metadata (internal): named opaque blobs, the EXIF fields pixpool reads
 * and patches, and what happens to metadata around pipelines, loads and saves. meta.c has the
 * code; the codecs' marker and chunk handling lives in codec/png_meta.c and codec/jpeg_meta.c.
 *
 * Names (docs/API.md lists them with their byte formats):
 *   "icc"          an ICC profile, as the profile file holds it
 *   "exif"         EXIF as a TIFF stream ("II*\0" or "MM\0*" first), without JPEG's "Exif\0\0"
 *   "xmp"          an XMP packet (UTF-8 XML)
 *   "png:gAMA", "png:cHRM", "png:sRGB", "png:pHYs"   the data of those PNG chunks
 *   "jfif:density" 5 bytes: JFIF's units (0 aspect ratio, 1 dots per inch, 2 per cm), X and Y
 *                  density (16 bits each, big-endian)
 *   "png:palette"  the palette of a palette PNG: 1..256 entries of R, G, B, A (A 255 where the
 *                  file's tRNS gives none). Not metadata but how the pixels were stored: of no
 *                  kind, so stripping leaves it; the PNG encoder writes a palette PNG from it
 *                  when every pixel's colour is in it (png_write.c).
 * Each blob is at most PP_META_BLOB_MAX bytes, an image has at most PP_META_MAX_ITEMS of them
 * and PP_META_TOTAL_MAX bytes in all; decoders drop what is over these limits (and anything
 * malformed) rather than fail the image.
 */
#ifndef PP_META_H
#define PP_META_H

#include "pixpool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PP_META_NAME_MAX 32                 /* name bytes including the terminating NUL */
#define PP_META_MAX_ITEMS 32
#define PP_META_BLOB_MAX ((size_t)32 << 20) /* a JPEG can carry 255 x 65519 bytes of ICC */
#define PP_META_TOTAL_MAX ((size_t)64 << 20)

typedef struct pp_meta_item {
    char name[PP_META_NAME_MAX];
    uint8_t *data; /* malloc()ed, size bytes (never NULL: 1 byte allocated for size 0) */
    size_t size;
} pp_meta_item;

typedef struct pp_meta {
    int count;
    pp_meta_item items[PP_META_MAX_ITEMS];
} pp_meta;

/* The kind of a name (a PP_META_* flag of pixpool.h). */
unsigned pp_meta_kind_of(const char *name);
/* Whether a name is well formed: 1..31 bytes of [A-Za-z0-9:._-]. */
bool pp_meta_name_ok(const char *name);

/* The blob called name, or NULL. */
const pp_meta_item *pp_meta_find(const pp_meta *m, const char *name);
/* Stores a copy of size bytes under name, replacing a blob of that name. Returns PP_OK,
   PP_ERR_NOMEM, or PP_ERR_LIMIT when the blob or the total would exceed the limits (nothing
   changed then). */
pp_status pp_meta_set(pp_meta *m, const char *name, const void *data, size_t size);
/* Takes ownership of a malloc()ed buffer (freed on failure too). */
pp_status pp_meta_set_owned(pp_meta *m, const char *name, uint8_t *data, size_t size);
bool pp_meta_remove(pp_meta *m, const char *name);
/* Removes every blob of the given kinds. */
void pp_meta_strip(pp_meta *m, unsigned kinds);
void pp_meta_clear(pp_meta *m);
/* A deep copy of src into an empty dst; PP_ERR_NOMEM leaves dst empty. */
pp_status pp_meta_copy(pp_meta *dst, const pp_meta *src);
/* A view of src without the given kinds and without an ICC profile whose colour space does not
   suit `channels` (RGB for 3-4 channels, GRAY for 1-2): the items share src's buffers, so the
   view must not be cleared, only dropped. What the encoders write. */
void pp_meta_view_for_save(pp_meta *view, const pp_meta *src, unsigned strip_kinds,
                           int channels);
/* Drops an ICC profile that does not suit `channels` (see above). */
void pp_meta_drop_unfit_icc(pp_meta *m, int channels);

/* ---- EXIF (a TIFF stream) ---------------------------------------------------------------- */

/* Whether data starts with a TIFF header ("II" 42 or "MM" 42) whose IFD0 offset lies inside. */
bool pp_exif_valid(const uint8_t *d, size_t n);
/* The Orientation (tag 0x0112 of IFD0) when it is 1..8, else 0 (none, or malformed). */
int pp_exif_orientation(const uint8_t *d, size_t n);
/* Rewrites the Orientation in place; false when there is no Orientation entry to rewrite. */
bool pp_exif_set_orientation(uint8_t *d, size_t n, int orientation);
/* Rewrites, in place, the pixel dimensions EXIF records: ImageWidth/ImageLength of IFD0 and
   PixelXDimension/PixelYDimension of the Exif IFD, where present (a SHORT entry becomes a LONG
   one when the value needs it). Returns how many entries were rewritten. Only IFD0 and the Exif
   IFD it points to are visited, each entry bounds-checked: no chain is followed, so no loop. */
int pp_exif_set_dimensions(uint8_t *d, size_t n, uint32_t width, uint32_t height);

/* ---- around pipelines and loads ---------------------------------------------------------- */

/* Gives a pipeline's output `out` the metadata of its input: a copy, with the EXIF dimensions
   rewritten when the geometry changed, an ICC profile that no longer suits the channels
   dropped, and the "png:palette" dropped unless `same_colours` (every output pixel is a copy
   of an input pixel, at the same depth and channels). */
pp_status pp_meta_pass(pp_ctx *ctx, const pp_image *in, pp_image *out, bool same_colours);

/* Applies the image's EXIF orientation to its pixels (on the context's executor) and sets it
   to 1; *img is replaced by the new image (the old one freed) when the pixels change. */
pp_status pp_meta_orient(pp_ctx *ctx, const char *name, pp_image **img);

#endif /* PP_META_H */
