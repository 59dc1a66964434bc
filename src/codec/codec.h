/*
 * codec.h - the interface between io.c and the codecs of src/codec/.
 *
 * io.c reads a file whole into memory, identifies its format from the magic bytes and hands the
 * bytes to that format's decoder; to save, it checks the image and hands it to an encoder with
 * a sink for the bytes. One file a codec: png_read.c (libpng) and png_write.c (zlib, strips
 * deflated in parallel on the executor), jpeg_read.c and jpeg_write.c (libjpeg-turbo, with the
 * error manager of jpeg_err.c; the encoder in restart-interval strips on the executor), strips.c
 * (the stage both encoders run their strips in), tiff.c (libtiff, both ways), pnm.c, hdr.c and
 * psd.c (decoders of pixpool's own), stb.c (BMP, TGA and GIF through stb_image; BMP and TGA
 * through stb_image_write; stb itself is compiled in stb_impl.c, behind stb_wrap.h).
 *
 * Every decoder has the same contract: `name` (the file name, or "<memory>") prefixes every
 * message; data/size is the whole file, which io.c has already found to be of the codec's
 * format. With out == NULL only the header is read: *info (not NULL then) is set, no limit of
 * the context is checked and no image is allocated. Otherwise the context's pixel and memory
 * limits are checked before anything of the image's size is allocated, the image is allocated
 * with pp_codec_alloc_image, and on success *out is set, and *info too when info is not NULL.
 * On failure the status is returned with the message set on ctx, nothing is left allocated and
 * neither *out nor *info is touched.
 */
#ifndef PP_CODEC_H
#define PP_CODEC_H

#include "../internal.h"

#include <stdio.h>

/* ---- output sinks (io.c) ----------------------------------------------------------------- */

/* Where an encoder's bytes go: a FILE, or a growing malloc()ed buffer. */
typedef struct pp_sink {
    FILE *f;
    uint8_t *buf;
    size_t len, cap;
    int err; /* errno of the first failure; later writes are dropped */
} pp_sink;

/* Appends n bytes to the sink; a failure is recorded in s->err (the first one), and every later
   write is dropped. */
void pp_sink_write(pp_sink *s, const void *p, size_t n);

/* The status and message for a sink that failed (s->err set). */
pp_status pp_sink_fail(pp_ctx *ctx, const pp_sink *s, const char *name);

/* ---- helpers ----------------------------------------------------------------------------- */

/* Allocates a decoded image where the context's executor can see it (io.c); a failure's
   message is prefixed by the file name. */
pp_status pp_codec_alloc_image(pp_ctx *ctx, const char *name, int w, int h, int c,
                               pp_image **out);
/* The same at `depth` (8 or 16) bits per channel. */
pp_status pp_codec_alloc_image_depth(pp_ctx *ctx, const char *name, int w, int h, int c,
                                     int depth, pp_image **out);
/* Whether this machine stores uint16_t little-endian (16-bit file samples are big-endian in PNG
   and PNM, and swapped on the way in and out). */
static inline bool pp_host_little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* An encoder's strips run as one stage on the context's executor (strips.c): band s is strip
   s, whose kernel writes up to slot_bytes bytes at slots + s * slot_bytes and its result record
   (result_bytes) at results + s * result_bytes (zeroed before the run); src is the image (or a
   packed copy where the workers could not see it). The caller fills the fields above the line;
   pp_strips_run checks the memory (what names it in messages), runs the stage, and on PP_OK
   leaves slots and results for the caller, who then calls pp_strips_free (on failure they are
   already freed). */
typedef struct pp_strips {
    pp_kernel_fn kernel;
    const void *params;
    size_t params_bytes;          /* <= PP_PARAM_BYTES */
    int nstrips;
    size_t slot_bytes, result_bytes, scratch_bytes;
    uint64_t worker_extra_bytes;  /* memory a kernel's library allocates itself, per worker */
    const char *what;             /* "PNG encoder buffers" */
    /* ---- */
    uint8_t *slots, *results;
    pp_block slots_b_, results_b_, pixels_b_;
    size_t slots_bytes_, results_bytes_, copy_bytes_;
} pp_strips;

pp_status pp_strips_run(pp_ctx *ctx, const pp_image *img, const char *name, pp_strips *r);
void pp_strips_free(pp_ctx *ctx, pp_strips *r);

/* PNM whitespace (io.c's detection and pnm.c's parser). */
static inline bool pp_pnm_is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* ---- decoders (contract above) ----------------------------------------------------------- */

/* PNG (png_read.c): every colour type and bit depth becomes 1-4 channels of 8 bits, or of 16
   bits for a 16-bit file. */
pp_status pp_png_decode(pp_ctx *ctx, const char *name, const uint8_t *data, size_t size,
                        pp_image_info *info, pp_image **out);
/* PNM P1-P6 (pnm.c): data starts with "P<1-6><whitespace>" (at least 3 bytes). */
pp_status pp_pnm_decode(pp_ctx *ctx, const char *name, const uint8_t *data, size_t size,
                        pp_image_info *info, pp_image **out);
/* Radiance HDR (hdr.c), tone-mapped to 3 channels of 8 bits as stb_image does. */
pp_status pp_hdr_decode(pp_ctx *ctx, const char *name, const uint8_t *d, size_t n,
                        pp_image_info *info, pp_image **out);
/* PSD (psd.c): the composited RGB image, 3 channels or 4 with alpha, at the file's depth. */
pp_status pp_psd_decode(pp_ctx *ctx, const char *name, const uint8_t *d, size_t n,
                        pp_image_info *info, pp_image **out);
/* JPEG (jpeg_read.c, libjpeg-turbo): grayscale gives 1 channel, YCbCr, RGB, CMYK and YCCK give 3. */
pp_status pp_jpeg_decode(pp_ctx *ctx, const char *name, const uint8_t *data, size_t size,
                         pp_image_info *info, pp_image **out);
/* TIFF (tiff.c, libtiff): the first page; grey, RGB (and palette, CMYK, YCbCr... through
   libtiff's RGBA interface) give 1 or 3 channels, plus alpha where the file has it. */
pp_status pp_tiff_decode(pp_ctx *ctx, const char *name, const uint8_t *data, size_t size,
                         pp_image_info *info, pp_image **out);
/* BMP, TGA or GIF (stb.c, through stb_image): fmt is the format io.c detected. */
pp_status pp_stb_decode(pp_ctx *ctx, const char *name, pp_format fmt, const uint8_t *data,
                        size_t size, pp_image_info *info, pp_image **out);

/* ---- encoders ---------------------------------------------------------------------------- */

/* Each writes a valid image (io.c has checked it: data, size, 1-4 channels, stride) to `out`
   and return PP_OK, or a status with the message (prefixed by `name`) set on ctx; a sink that
   failed gives pp_sink_fail's status. */

/* PNG (png_write.c) at the context's compression level, deflated in strips on the context's
   executor (the same bytes on every backend). */
pp_status pp_png_encode(pp_ctx *ctx, const pp_image *img, pp_sink *out, const char *name);
/* JPEG (jpeg_write.c, libjpeg-turbo) with the context's quality, subsampling, progressive and
   optimize settings; gray (and gray+alpha) as a grayscale JPEG, alpha dropped. A baseline file
   is encoded in strips on the context's executor (the same bytes on every backend). */
pp_status pp_jpeg_encode(pp_ctx *ctx, const pp_image *img, pp_sink *out, const char *name);
/* TIFF (tiff.c, libtiff): 8-bit samples in strips, the context's compression. */
pp_status pp_tiff_encode(pp_ctx *ctx, const pp_image *img, pp_sink *out, const char *name);
/* PNM (pnm.c): P5 gray or P6 RGB, maxval 255 or (16-bit image) 65535; alpha dropped. */
pp_status pp_pnm_encode(pp_ctx *ctx, const pp_image *img, pp_sink *out, const char *name);
/* PSD (psd.c): RGB or RGBA merged image at 8 or 16 bits, raw; gray written as RGB. */
pp_status pp_psd_encode(pp_ctx *ctx, const pp_image *img, pp_sink *out, const char *name);
/* BMP or TGA (stb.c, through stb_image_write). */
pp_status pp_stb_encode(pp_ctx *ctx, const pp_image *img, pp_format fmt, pp_sink *out,
                        const char *name);

/* ---- metadata (png_meta.c; JPEG's are in jpeg_meta.h) ------------------------------------- */

/* Reads the metadata chunks of a PNG that libpng has decoded (data/size: the whole file) into m:
   iCCP ("icc"), eXIf ("exif"), iTXt XML:com.adobe.xmp ("xmp"), gAMA, cHRM, sRGB and pHYs
   ("png:..."). A chunk that is malformed, has a bad CRC, repeats, or inflates past the limits
   (meta.h, and what the context's memory limit leaves beside the `held` bytes of the decoded
   image) is dropped. Fails only for PP_ERR_NOMEM. */
pp_status pp_png_read_meta(pp_ctx *ctx, const char *name, const uint8_t *data, size_t size,
                           uint64_t held, pp_meta *m);
/* Writes m's metadata as PNG chunks (to be called after IHDR, before IDAT): cHRM, gAMA, iCCP or
   else sRGB, pHYs (from "png:pHYs", else converted from "jfif:density"), eXIf, iTXt XMP. */
pp_status pp_png_write_meta(pp_ctx *ctx, pp_sink *out, const pp_meta *m, const char *name);

/* The metadata of a PSD's image resources section (psd_meta.c; d/n: the section's data): ICC
   (0x040F), EXIF (0x0422), XMP (0x0424), the resolution (0x03ED) as "jfif:density". Malformed
   blocks are dropped. Fails only for PP_ERR_NOMEM. */
pp_status pp_psd_read_meta(pp_ctx *ctx, const char *name, const uint8_t *d, size_t n,
                           pp_meta *m);

/* Density conversions between JFIF (5 bytes, meta.h) and pHYs (9 bytes); false when the value
   cannot be held by the other. */
bool pp_density_jfif_to_phys(const uint8_t jfif[5], uint8_t phys[9]);
bool pp_density_phys_to_jfif(const uint8_t phys[9], uint8_t jfif[5]);

#endif /* PP_CODEC_H */
