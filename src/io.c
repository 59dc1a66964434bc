/*
 * io.c - loading and saving images: what every format shares. The codecs themselves are files
 * of src/codec/ (codec.h is their interface with this file).
 *
 * A file is read whole into memory and decoded from there, so files and memory buffers share one
 * decoder. The format comes from the magic bytes, never the name, and the bytes go to that
 * format's decoder: PNG to codec/png_read.c (libpng), PNM (P1-P6) to codec/pnm.c, Radiance HDR to
 * codec/hdr.c and PSD to codec/psd.c (decoders of pixpool's own), JPEG to codec/jpeg_read.c
 * (libjpeg-turbo), and BMP, TGA and GIF to codec/stb.c (stb_image).
 * Every decoder reads the header first and checks the context's pixel and memory limits before
 * it allocates the image, which is allocated where the context's executor can see it (the
 * shared arena for the fork backend; pp_codec_alloc_image in codec/codec.c), so the decode
 * needs no further copy there.
 *
 * Saving encodes PNG with codec/png_write.c (zlib, strips on the executor), JPEG with
 * codec/jpeg_write.c (libjpeg-turbo), and BMP and TGA with stb_image_write (codec/stb.c) into an
 * output sink (codec/codec.c): a memory buffer (pp_save_mem) or a temporary file in the
 * destination's folder that is renamed into place (pp_save), so a saved file appears complete
 * or not at all.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "codec/codec.h"

/* The extensions pp_save writes (messages). */
#define PP_WRITE_EXTS ".png, .jpg, .jpeg, .bmp, .tga, .tif, .tiff, .pnm, .pgm, .ppm or .psd"
#include "codec/stb_wrap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MEMORY_NAME "<memory>"

/* ---- format names and detection ---------------------------------------------------------- */

/* The extension of the last path component, including its dot, or NULL when it has none. */
static const char *path_extension(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot : NULL;
}

pp_format pp_format_from_path(const char *path)
{
    if (!path) return PP_FORMAT_UNKNOWN;
    const char *ext = path_extension(path);
    if (!ext) return PP_FORMAT_UNKNOWN;
    if (strcasecmp(ext, ".png") == 0) return PP_FORMAT_PNG;
    if (strcasecmp(ext, ".jpg") == 0 || strcasecmp(ext, ".jpeg") == 0) return PP_FORMAT_JPEG;
    if (strcasecmp(ext, ".bmp") == 0) return PP_FORMAT_BMP;
    if (strcasecmp(ext, ".tga") == 0) return PP_FORMAT_TGA;
    if (strcasecmp(ext, ".tif") == 0 || strcasecmp(ext, ".tiff") == 0) return PP_FORMAT_TIFF;
    if (strcasecmp(ext, ".pnm") == 0 || strcasecmp(ext, ".pgm") == 0 ||
        strcasecmp(ext, ".ppm") == 0)
        return PP_FORMAT_PNM;
    if (strcasecmp(ext, ".psd") == 0) return PP_FORMAT_PSD;
    return PP_FORMAT_UNKNOWN;
}

static bool starts_with(const uint8_t *d, size_t n, const char *magic, size_t len)
{
    return n >= len && memcmp(d, magic, len) == 0;
}

/* The format of an image from its first bytes. TGA has no magic number: it is whatever stb's
   TGA header reader accepts, tried last (its first bytes cannot match any magic above, whose
   second byte is never 0 or 1 as a TGA's colour-map type must be). */
static pp_format detect_format(const uint8_t *d, size_t n)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 8 && memcmp(d, png_sig, 8) == 0) return PP_FORMAT_PNG;
    if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) return PP_FORMAT_JPEG;
    if (starts_with(d, n, "GIF87a", 6) || starts_with(d, n, "GIF89a", 6)) return PP_FORMAT_GIF;
    if (starts_with(d, n, "8BPS", 4)) return PP_FORMAT_PSD;
    /* TIFF and BigTIFF, either byte order */
    if (starts_with(d, n, "II*\0", 4) || starts_with(d, n, "MM\0*", 4) ||
        starts_with(d, n, "II+\0", 4) || starts_with(d, n, "MM\0+", 4))
        return PP_FORMAT_TIFF;
    if (starts_with(d, n, "#?RADIANCE", 10) || starts_with(d, n, "#?RGBE", 6))
        return PP_FORMAT_HDR;
    if (starts_with(d, n, "BM", 2)) return PP_FORMAT_BMP;
    if (n >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '6' && pp_pnm_is_space(d[2]))
        return PP_FORMAT_PNM;
    int w, h, c;
    if (n >= 18 && n <= INT_MAX && pp_stb_info(PP_FORMAT_TGA, d, (int)n, &w, &h, &c))
        return PP_FORMAT_TGA;
    return PP_FORMAT_UNKNOWN;
}

/* ---- decoding entry points --------------------------------------------------------------- */

/* Decodes (out != NULL) or reads the header of (out == NULL) an image in memory. */
static pp_status decode_format(pp_ctx *ctx, const uint8_t *data, size_t size,
                               const char *name, pp_image_info *info, pp_image **out)
{
    if (size == 0) return pp_fail(ctx, PP_ERR_FORMAT, "%s: empty file", name);
    pp_format fmt = detect_format(data, size);
    switch (fmt) {
    case PP_FORMAT_UNKNOWN:
        return pp_fail(ctx, PP_ERR_FORMAT, "%s: not a recognised image format", name);
    case PP_FORMAT_PNG: return pp_png_decode(ctx, name, data, size, info, out);
    case PP_FORMAT_PNM: return pp_pnm_decode(ctx, name, data, size, info, out);
    case PP_FORMAT_HDR: return pp_hdr_decode(ctx, name, data, size, info, out);
    case PP_FORMAT_PSD: return pp_psd_decode(ctx, name, data, size, info, out);
    case PP_FORMAT_JPEG: return pp_jpeg_decode(ctx, name, data, size, info, out);
    case PP_FORMAT_TIFF: return pp_tiff_decode(ctx, name, data, size, info, out);
    default: return pp_stb_decode(ctx, name, fmt, data, size, info, out);
    }
}

/* Decodes, then fits the metadata to the decoded image (an ICC profile of another colour space
   than the pixels', e.g. a CMYK JPEG's, is dropped) and, when the context asks for it, applies
   the EXIF orientation. */
static pp_status decode(pp_ctx *ctx, const uint8_t *data, size_t size, const char *name,
                        pp_image_info *info, pp_image **out)
{
    pp_status st = decode_format(ctx, data, size, name, info, out);
    if (st || !out) return st;
    pp_meta_drop_unfit_icc(&(*out)->meta, (*out)->channels);
    if (ctx->auto_orient && (st = pp_meta_orient(ctx, name, out))) {
        pp_image_free(*out);
        *out = NULL;
    }
    return st;
}

/* Reads a whole file into a malloc()ed buffer. */
static pp_status read_file(pp_ctx *ctx, const char *path, uint8_t **data_out, size_t *size_out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return pp_fail(ctx, PP_ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 65536, len = 0;
    struct stat st;
    if (fstat(fileno(f), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            fclose(f);
            return pp_fail(ctx, PP_ERR_IO, "%s: %s", path, strerror(EISDIR));
        }
        /* one byte more than the size, so that the read seeing the end needs no growth */
        if (S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t)st.st_size < SIZE_MAX)
            cap = (size_t)st.st_size + 1;
    }
    uint8_t *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, cap);
    }
    for (;;) {
        if (len == cap) {
            size_t ncap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
            uint8_t *nb = ncap > cap ? realloc(buf, ncap) : NULL;
            if (!nb) {
                free(buf);
                fclose(f);
                return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory reading the file", path);
            }
            buf = nb;
            cap = ncap;
        }
        errno = 0;
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0 || len < cap) {
            if (ferror(f)) {
                int err = errno ? errno : EIO;
                free(buf);
                fclose(f);
                return pp_fail(ctx, PP_ERR_IO, "%s: %s", path, strerror(err));
            }
            if (feof(f)) break;
        }
    }
    fclose(f);
    *data_out = buf;
    *size_out = len;
    return PP_OK;
}

pp_status pp_info(pp_ctx *ctx, const char *path, pp_image_info *info)
{
    if (!ctx) return PP_ERR_INVALID;
    pp_clear_error(ctx);
    if (!path || !info) return pp_fail(ctx, PP_ERR_INVALID, "pp_info: path or info is NULL");
    uint8_t *data;
    size_t size;
    pp_status st = read_file(ctx, path, &data, &size);
    if (st) return st;
    pp_image_info hdr;
    st = decode(ctx, data, size, path, &hdr, NULL);
    free(data);
    if (st == PP_OK) *info = hdr;
    return st;
}

pp_status pp_load(pp_ctx *ctx, const char *path, pp_image **out)
{
    if (out) *out = NULL;
    if (!ctx) return PP_ERR_INVALID;
    pp_clear_error(ctx);
    if (!path || !out) return pp_fail(ctx, PP_ERR_INVALID, "pp_load: path or out is NULL");
    uint8_t *data;
    size_t size;
    pp_status st = read_file(ctx, path, &data, &size);
    if (st) return st;
    st = decode(ctx, data, size, path, NULL, out);
    free(data);
    return st;
}

pp_status pp_load_mem(pp_ctx *ctx, const void *data, size_t size, const char *name,
                      pp_image **out)
{
    if (out) *out = NULL;
    if (!ctx) return PP_ERR_INVALID;
    pp_clear_error(ctx);
    if (!name) name = MEMORY_NAME;
    if (!out) return pp_fail(ctx, PP_ERR_INVALID, "pp_load_mem: out is NULL");
    if (!data && size > 0) return pp_fail(ctx, PP_ERR_INVALID, "%s: data is NULL", name);
    return decode(ctx, data, size, name, NULL, out);
}

static pp_status check_image(pp_ctx *ctx, const pp_image *img, const char *name)
{
    if (!img) return pp_fail(ctx, PP_ERR_INVALID, "%s: image is NULL", name);
    if (!img->data || img->width <= 0 || img->height <= 0 || img->channels < 1 ||
        img->channels > 4 || (img->depth != 8 && img->depth != 16) ||
        img->stride < (size_t)img->width * (size_t)img->channels * (size_t)(img->depth / 8))
        return pp_fail(ctx, PP_ERR_INVALID, "%s: invalid image", name);
    return PP_OK;
}

/* Whether the encoder of fmt writes 16-bit samples (the others get the image rounded to 8). */
static bool keeps_16(pp_format fmt)
{
    return fmt == PP_FORMAT_PNG || fmt == PP_FORMAT_TIFF || fmt == PP_FORMAT_PNM ||
           fmt == PP_FORMAT_PSD;
}

static pp_status encode_image(pp_ctx *ctx, const pp_image *full, pp_format fmt, pp_sink *out,
                              const char *name)
{
    /* The encoders write the metadata of what they are given: the image without what the
       context strips and without an ICC profile that does not suit its channels. */
    pp_image view = *full;
    pp_meta_view_for_save(&view.meta, &full->meta, ctx->strip, full->channels);
    const pp_image *img = &view;
    if (fmt == PP_FORMAT_PNG) return pp_png_encode(ctx, img, out, name);
    if (fmt == PP_FORMAT_JPEG) return pp_jpeg_encode(ctx, img, out, name);
    if (fmt == PP_FORMAT_TIFF) return pp_tiff_encode(ctx, img, out, name);
    if (fmt == PP_FORMAT_PNM) return pp_pnm_encode(ctx, img, out, name);
    if (fmt == PP_FORMAT_PSD) return pp_psd_encode(ctx, img, out, name);
    return pp_stb_encode(ctx, img, fmt, out, name);
}

static pp_status encode(pp_ctx *ctx, const pp_image *full, pp_format fmt, pp_sink *out,
                        const char *name)
{
    int depth = ctx->save_depth ? ctx->save_depth : full->depth;
    if (!keeps_16(fmt)) depth = 8; /* a 16-bit image to an 8-bit format: rounded first */
    if (depth == full->depth) return encode_image(ctx, full, fmt, out, name);
    pp_image *narrow;
    pp_status st = pp_image_convert_depth(ctx, full, depth, &narrow);
    if (st) {
        char why[PP_ERRMSG_MAX];
        snprintf(why, sizeof why, "%s", ctx->errmsg);
        return pp_fail(ctx, st, "%s: %s", name, why);
    }
    st = encode_image(ctx, narrow, fmt, out, name);
    pp_image_free(narrow);
    return st;
}

pp_status pp_save_mem(pp_ctx *ctx, const pp_image *image, pp_format format, void **data,
                      size_t *size)
{
    if (data) *data = NULL;
    if (size) *size = 0;
    if (!ctx) return PP_ERR_INVALID;
    pp_clear_error(ctx);
    if (!data || !size) return pp_fail(ctx, PP_ERR_INVALID, "pp_save_mem: data or size is NULL");
    pp_status st = check_image(ctx, image, MEMORY_NAME);
    if (st) return st;
    if (format != PP_FORMAT_PNG && format != PP_FORMAT_JPEG && format != PP_FORMAT_BMP &&
        format != PP_FORMAT_TGA && format != PP_FORMAT_TIFF && format != PP_FORMAT_PNM &&
        format != PP_FORMAT_PSD)
        return pp_fail(ctx, PP_ERR_FORMAT,
                       "%s: cannot write format '%s' (use png, jpeg, bmp, tga, tiff, pnm or psd)",
                       MEMORY_NAME, pp_format_name(format));
    pp_sink s = {0};
    st = encode(ctx, image, format, &s, MEMORY_NAME);
    if (st) {
        free(s.buf);
        return st;
    }
    *data = s.buf;
    *size = s.len;
    return PP_OK;
}

/* ---- atomic save ------------------------------------------------------------------------- */

/* Creates "<dir>/.<base>.pp-tmp-XXXXXX" next to path, exclusively. It is created with mode 0666,
   which the kernel reduces by the umask exactly as for a normal new file (mkstemp would force
   0600, and reading the umask is not thread-safe). Returns the descriptor, or -1 with errno. */
static int create_temp(const char *path, char **tmp_out)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dirlen;
    size_t len = dirlen + 1 + strlen(base) + sizeof ".pp-tmp-XXXXXX";
    char *tmp = malloc(len);
    if (!tmp) {
        errno = ENOMEM;
        return -1;
    }
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t v = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                     ((uint64_t)getpid() << 12) ^ (uint64_t)(uintptr_t)&ts ^
                     ((uint64_t)attempt * 0x9e3779b97f4a7c15u);
        v ^= v >> 31; /* a splitmix64 finaliser to spread the bits */
        v *= 0xbf58476d1ce4e5b9u;
        v ^= v >> 27;
        v *= 0x94d049bb133111ebu;
        v ^= v >> 31;
        char suffix[7];
        for (int i = 0; i < 6; i++, v /= 62) suffix[i] = digits[v % 62];
        suffix[6] = '\0';
        snprintf(tmp, len, "%.*s.%s.pp-tmp-%s", (int)dirlen, path, base, suffix);
        int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            *tmp_out = tmp;
            return fd;
        }
        if (errno != EEXIST) break;
    }
    int err = errno;
    free(tmp);
    errno = err;
    return -1;
}

pp_status pp_save(pp_ctx *ctx, const pp_image *image, const char *path)
{
    if (!ctx) return PP_ERR_INVALID;
    pp_clear_error(ctx);
    if (!path) return pp_fail(ctx, PP_ERR_INVALID, "pp_save: path is NULL");
    pp_status st = check_image(ctx, image, path);
    if (st) return st;
    pp_format fmt = pp_format_from_path(path);
    if (fmt == PP_FORMAT_UNKNOWN) {
        const char *ext = path_extension(path);
        if (!ext)
            return pp_fail(ctx, PP_ERR_FORMAT,
                           "%s: no file extension to choose the format from "
                           "(use " PP_WRITE_EXTS ")", path);
        return pp_fail(ctx, PP_ERR_FORMAT,
                       "%s: cannot write format of extension '%s' "
                       "(use " PP_WRITE_EXTS ")", path, ext);
    }

    /* A symbolic link is written through: its target is replaced (atomically, in the target's
       folder) and the link stays, as cp, ImageMagick and vips do. A dangling link is an error. */
    const char *name = path;
    char *target = NULL;
    struct stat lst;
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        target = realpath(path, NULL);
        if (!target)
            return pp_fail(ctx, PP_ERR_IO, "%s: a symbolic link whose target cannot be "
                           "reached: %s", path, strerror(errno));
        path = target;
    }
    char *tmp = NULL;
    int fd = create_temp(path, &tmp);
    if (fd < 0) {
        st = pp_fail(ctx, PP_ERR_IO, "%s: cannot create the file: %s", name, strerror(errno));
        free(target);
        return st;
    }
    /* Replacing a file keeps its permissions, as writing over it would. */
    struct stat old;
    if (stat(path, &old) == 0 && S_ISREG(old.st_mode)) (void)fchmod(fd, old.st_mode & 0777);
    FILE *f = fdopen(fd, "w+b"); /* for update: the TIFF encoder seeks and may read back */
    if (!f) {
        int err = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        free(target);
        return pp_fail(ctx, PP_ERR_IO, "%s: %s", name, strerror(err));
    }
    pp_sink s = {0};
    s.f = f;
    st = encode(ctx, image, fmt, &s, name);
    errno = 0;
    if (fclose(f) != 0 && st == PP_OK)
        st = pp_fail(ctx, PP_ERR_IO, "%s: %s", name, strerror(errno ? errno : EIO));
    if (st == PP_OK && rename(tmp, path) != 0)
        st = pp_fail(ctx, PP_ERR_IO, "%s: cannot rename the temporary file into place: %s", name,
                     strerror(errno));
    if (st != PP_OK) unlink(tmp);
    free(tmp);
    free(target);
    return st;
}
