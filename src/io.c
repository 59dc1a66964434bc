/*
 * io.c - loading and saving images.
 *
 * A file is read whole into memory and decoded from there, so files and memory buffers share one
 * decoder. The format comes from the magic bytes, never the name: PNG goes through libpng (every
 * colour type and bit depth becomes 1-4 channels of 8 bits), PNM (P1-P6) and Radiance HDR through
 * small decoders of this file, and JPEG, BMP, TGA and GIF through stb_image (stb_impl.c); PSD,
 * first read through stb_image too, has a decoder of this file (see its section).
 * Every decoder reads the header first and checks the context's pixel and memory limits before
 * it allocates the image, which is allocated where the context's executor can see it (the shared arena for the
 * fork backend), so the decode needs no further copy there.
 *
 * Saving encodes PNG with libpng and JPEG, BMP and TGA with stb_image_write, into a memory
 * buffer (pp_save_mem) or a temporary file in the destination's folder that is renamed into
 * place (pp_save), so a saved file appears complete or not at all.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "stb_wrap.h"

#include <png.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MEMORY_NAME "<memory>"

/* ---- format names and detection ---------------------------------------------------------- */

const char *pp_format_name(pp_format format)
{
    switch (format) {
    case PP_FORMAT_PNG: return "png";
    case PP_FORMAT_JPEG: return "jpeg";
    case PP_FORMAT_BMP: return "bmp";
    case PP_FORMAT_TGA: return "tga";
    case PP_FORMAT_GIF: return "gif";
    case PP_FORMAT_PSD: return "psd";
    case PP_FORMAT_HDR: return "hdr";
    case PP_FORMAT_PNM: return "pnm";
    case PP_FORMAT_UNKNOWN: break;
    }
    return "unknown";
}

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
    return PP_FORMAT_UNKNOWN;
}

static bool starts_with(const uint8_t *d, size_t n, const char *magic, size_t len)
{
    return n >= len && memcmp(d, magic, len) == 0;
}

static bool is_pnm_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
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
    if (starts_with(d, n, "#?RADIANCE", 10) || starts_with(d, n, "#?RGBE", 6))
        return PP_FORMAT_HDR;
    if (starts_with(d, n, "BM", 2)) return PP_FORMAT_BMP;
    if (n >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '6' && is_pnm_space(d[2]))
        return PP_FORMAT_PNM;
    int w, h, c;
    if (n >= 18 && n <= INT_MAX && pp_stb_info(PP_FORMAT_TGA, d, (int)n, &w, &h, &c))
        return PP_FORMAT_TGA;
    return PP_FORMAT_UNKNOWN;
}

/* Allocates a decoded image where the context's executor can see it; a failure's message is
   prefixed by the file name. */
static pp_status alloc_image(pp_ctx *ctx, const char *name, int w, int h, int c, pp_image **out)
{
    pp_status st = pp_image_alloc(ctx, pp_executor_for(ctx->backend), w, h, c, out);
    if (st) {
        char why[PP_ERRMSG_MAX];
        snprintf(why, sizeof why, "%s", ctx->errmsg[0] ? ctx->errmsg : pp_strerror(st));
        pp_fail(ctx, st, "%s: %s", name, why);
    }
    return st;
}

/* ---- PNG decoding (libpng) --------------------------------------------------------------- */

/* Everything the PNG decoder touches lives here and is reached through a pointer, so nothing a
   longjmp could leave indeterminate is a local variable of the function calling setjmp. */
typedef struct png_rjob {
    pp_ctx *ctx;
    const char *name;
    const uint8_t *data;
    size_t size, pos;
    bool decode;          /* false: header only */
    png_structp png;
    png_infop info;
    pp_status status;     /* a failure raised by pixpool itself (message already set) */
    char msg[256];        /* libpng's reason for a failure it raised */
    pp_image_info header;
    pp_image *img;
    png_bytep *rows;
} png_rjob;

static void png_error_cb(png_structp png, png_const_charp msg)
{
    png_rjob *job = png_get_error_ptr(png);
    snprintf(job->msg, sizeof job->msg, "%s", msg ? msg : "libpng error");
    png_longjmp(png, 1);
}

static void png_warning_cb(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* warnings are silent: the library never prints */
}

static void png_read_cb(png_structp png, png_bytep out, size_t len)
{
    png_rjob *job = png_get_io_ptr(png);
    if (len > job->size - job->pos) png_error(png, "unexpected end of file (truncated data)");
    memcpy(out, job->data + job->pos, len);
    job->pos += len;
}

/* The body of the decode; libpng errors longjmp out of it to png_read_guarded. Returns 1 on
   success, 0 on a failure of pixpool's own (job->status). */
static int png_read_body(png_rjob *job)
{
    png_structp png = job->png;
    png_infop info = job->info;

    /* libpng's default limits (1000000 x 1000000) would refuse sane large images: pixpool's own
       pixel limit, checked below, is the one that applies. */
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    /* Only IHDR, PLTE, tRNS, IDAT and IEND shape the pixels pixpool decodes: every other chunk
       is skipped unread. libpng only warns when an ancillary chunk declares more than its
       chunk size limit and then allocates that much anyway, so a 137-byte file with a tEXt
       "of 1.6 GB" made it allocate 1.6 GB (found by tests/fuzz/fuzz_load.c). */
    static const png_byte skipped[] = "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0iCCP\0iTXt\0oFFs\0pCAL\0"
                                      "pHYs\0sBIT\0sCAL\0sPLT\0sRGB\0tEXt\0tIME\0zTXt";
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, skipped, (int)(sizeof skipped / 5));
    png_read_info(png, info);

    png_uint_32 w, h;
    int depth, ctype, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    bool trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    int channels;
    switch (ctype) {
    case PNG_COLOR_TYPE_GRAY: channels = trns ? 2 : 1; break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: channels = 2; break;
    case PNG_COLOR_TYPE_RGB: channels = trns ? 4 : 3; break;
    case PNG_COLOR_TYPE_RGB_ALPHA: channels = 4; break;
    case PNG_COLOR_TYPE_PALETTE: channels = trns ? 4 : 3; break;
    default: png_error(png, "unknown colour type");
    }
    job->header.format = PP_FORMAT_PNG;
    job->header.width = (int)w;
    job->header.height = (int)h;
    job->header.channels = channels;
    job->header.depth = depth;
    if (!job->decode) return 1;

    /* The limit is checked before libpng or pixpool allocates anything of the image's size. */
    size_t bytes;
    job->status = pp_check_size(job->ctx, job->name, w, h, channels, &bytes);
    if (job->status != PP_OK) return 0;
    /* the memory limit covers the row table too (8 bytes a row: more than a 1-pixel row) */
    job->status = pp_check_memory(job->ctx, job->name, 0,
                                  (uint64_t)bytes + (uint64_t)h * sizeof(png_bytep),
                                  "decoder buffers");
    if (job->status != PP_OK) return 0;

    if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (trns) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_scale_16(png); /* rounds: v * 255 / 65535 */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int got = png_get_channels(png, info);
    if (png_get_bit_depth(png, info) != 8 || got < 1 || got > 4)
        png_error(png, "unsupported pixel layout");
    if (got != channels) { /* cannot happen for a valid file; recheck with what libpng gives */
        channels = got;
        job->status = pp_check_size(job->ctx, job->name, w, h, channels, &bytes);
        if (job->status != PP_OK) return 0;
    }
    if (png_get_rowbytes(png, info) != (size_t)w * (size_t)channels)
        png_error(png, "unexpected row size");

    job->status = alloc_image(job->ctx, job->name, (int)w, (int)h, channels, &job->img);
    if (job->status != PP_OK) return 0;
    job->rows = malloc((size_t)h * sizeof *job->rows);
    if (!job->rows) {
        job->status = pp_fail(job->ctx, PP_ERR_NOMEM, "%s: out of memory", job->name);
        return 0;
    }
    for (png_uint_32 y = 0; y < h; y++) job->rows[y] = job->img->data + (size_t)y * job->img->stride;
    png_read_image(png, job->rows);
    png_read_end(png, NULL); /* checks the rest of the file, the last CRCs included */
    job->header.channels = channels;
    return 1;
}

static int png_read_guarded(png_rjob *job)
{
    if (setjmp(png_jmpbuf(job->png))) return 0;
    return png_read_body(job);
}

static pp_status png_decode(pp_ctx *ctx, const char *name, const uint8_t *data, size_t size,
                            pp_image_info *info, pp_image **out)
{
    png_rjob job;
    memset(&job, 0, sizeof job);
    job.ctx = ctx;
    job.name = name;
    job.data = data;
    job.size = size;
    job.decode = out != NULL;
    job.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, png_error_cb, png_warning_cb);
    if (!job.png) return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
    job.info = png_create_info_struct(job.png);
    if (!job.info) {
        png_destroy_read_struct(&job.png, NULL, NULL);
        return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
    }
    png_set_read_fn(job.png, &job, png_read_cb);

    int ok = png_read_guarded(&job);
    png_destroy_read_struct(&job.png, &job.info, NULL);
    free(job.rows);
    if (!ok) {
        pp_image_free(job.img);
        if (job.status != PP_OK) return job.status;
        if (strcasestr(job.msg, "out of memory"))
            return pp_fail(ctx, PP_ERR_NOMEM, "%s: %s", name, job.msg);
        return pp_fail(ctx, PP_ERR_DECODE, "%s: %s", name, job.msg);
    }
    if (info) *info = job.header;
    if (out) *out = job.img;
    return PP_OK;
}

/* ---- PNM decoding (P1-P6) ---------------------------------------------------------------- */

/* stb_image reads only binary P5/P6, does not rescale a maxval other than 255/65535 and does not
   notice truncated pixel data, so PNM is decoded here: P1/P4 bitmaps (1 = black), P2/P5
   graymaps and P3/P6 pixmaps, plain (ASCII) or raw, with any maxval 1..65535 scaled to 0..255
   with rounding. Only the first image of a multi-image file is read. */

typedef struct pnm_reader {
    const uint8_t *d;
    size_t n, pos;
} pnm_reader;

/* Skips whitespace and '#' comments (which run to the end of the line). */
static void pnm_skip(pnm_reader *r)
{
    while (r->pos < r->n) {
        if (is_pnm_space(r->d[r->pos])) {
            r->pos++;
        } else if (r->d[r->pos] == '#') {
            while (r->pos < r->n && r->d[r->pos] != '\n' && r->d[r->pos] != '\r') r->pos++;
        } else {
            break;
        }
    }
}

/* Reads an unsigned decimal number up to `max`; -1 when there is none, -2 when too large. */
static long pnm_number(pnm_reader *r, long max)
{
    pnm_skip(r);
    if (r->pos >= r->n || r->d[r->pos] < '0' || r->d[r->pos] > '9') return -1;
    long v = 0;
    while (r->pos < r->n && r->d[r->pos] >= '0' && r->d[r->pos] <= '9') {
        v = v * 10 + (r->d[r->pos++] - '0');
        if (v > max) return -2;
    }
    return v;
}

static pp_status pnm_decode(pp_ctx *ctx, const char *name, const uint8_t *data, size_t size,
                            pp_image_info *info, pp_image **out)
{
    pnm_reader r = {data, size, 2};
    int type = data[1] - '0';
    bool bitmap = type == 1 || type == 4;
    bool plain = type <= 3;
    int channels = type == 3 || type == 6 ? 3 : 1;
    static const char *const what[] = {"width", "height", "maximum value"};
    long v[3] = {0, 0, 1};
    for (int i = 0; i < (bitmap ? 2 : 3); i++) {
        v[i] = pnm_number(&r, i < 2 ? INT32_MAX : 65535);
        if (v[i] == -1)
            return pp_fail(ctx, PP_ERR_DECODE, "%s: PNM header: missing %s", name, what[i]);
        if (v[i] == -2 || v[i] == 0)
            return pp_fail(ctx, PP_ERR_DECODE, "%s: PNM header: invalid %s (%s)", name, what[i],
                           i < 2 ? "must be 1..2147483647" : "must be 1..65535");
    }
    long width = v[0], height = v[1], maxval = v[2];
    /* Exactly one whitespace character separates the header from raw pixel data. */
    if (!plain) {
        if (r.pos >= size || !is_pnm_space(data[r.pos]))
            return pp_fail(ctx, PP_ERR_DECODE, "%s: PNM header: truncated or malformed", name);
        r.pos++;
    }

    pp_image_info hdr = {PP_FORMAT_PNM, (int)width, (int)height, channels,
                         bitmap ? 1 : maxval > 255 ? 16 : 8};
    if (!out) {
        *info = hdr;
        return PP_OK;
    }
    pp_status st = pp_check_size(ctx, name, width, height, channels, NULL);
    if (st) return st;

    size_t w = (size_t)width, h = (size_t)height, c = (size_t)channels;
    size_t avail = size - r.pos;
    /* Check that the raster can be all there before allocating anything: raw rows have a fixed
       size; a plain sample takes at least one byte (P1) or a digit and a separator. */
    size_t row = !plain ? (bitmap ? (w + 7) / 8 : w * c * (maxval > 255 ? 2 : 1))
                        : (bitmap ? w : 2 * w * c);
    if (row > avail || h > (avail + (plain && !bitmap)) / row)
        return pp_fail(ctx, PP_ERR_DECODE,
                       "%s: truncated PNM pixel data (%zu bytes, %zu rows of %zu%s needed)", name,
                       avail, h, row, plain ? " or more" : "");

    pp_image *img;
    st = alloc_image(ctx, name, (int)width, (int)height, channels, &img);
    if (st) return st;
    const uint8_t *p = data + r.pos;
    unsigned mv = (unsigned)maxval, half = mv / 2;
    for (size_t y = 0; y < h; y++) {
        uint8_t *dst = img->data + y * img->stride;
        if (type == 4) {
            const uint8_t *src = p + y * ((w + 7) / 8);
            for (size_t x = 0; x < w; x++) dst[x] = (src[x / 8] >> (7 - x % 8)) & 1 ? 0 : 255;
        } else if (type == 1) {
            for (size_t x = 0; x < w; x++) {
                pnm_skip(&r);
                if (r.pos >= size || (data[r.pos] != '0' && data[r.pos] != '1')) {
                    pp_image_free(img);
                    return pp_fail(ctx, PP_ERR_DECODE, "%s: %s PNM bitmap data at byte %zu",
                                   name, r.pos >= size ? "truncated" : "invalid", r.pos);
                }
                dst[x] = data[r.pos++] == '1' ? 0 : 255;
            }
        } else if (plain) {
            for (size_t x = 0; x < w * c; x++) {
                long s = pnm_number(&r, 65535);
                if (s < 0 || s > maxval) {
                    pp_image_free(img);
                    if (s == -1)
                        return pp_fail(ctx, PP_ERR_DECODE, "%s: %s PNM sample at byte %zu", name,
                                       r.pos >= size ? "truncated data: missing" : "invalid",
                                       r.pos);
                    return pp_fail(ctx, PP_ERR_DECODE,
                                   "%s: PNM sample at byte %zu exceeds the maximum value %ld",
                                   name, r.pos, maxval);
                }
                dst[x] = mv == 255 ? (uint8_t)s : (uint8_t)(((unsigned)s * 255u + half) / mv);
            }
        } else if (maxval <= 255) {
            const uint8_t *src = p + y * w * c;
            if (mv == 255) {
                memcpy(dst, src, w * c);
            } else {
                for (size_t x = 0; x < w * c; x++) {
                    unsigned s = src[x] > mv ? mv : src[x];
                    dst[x] = (uint8_t)((s * 255u + half) / mv);
                }
            }
        } else {
            const uint8_t *src = p + y * w * c * 2;
            for (size_t x = 0; x < w * c; x++) {
                unsigned s = (unsigned)src[2 * x] << 8 | src[2 * x + 1];
                if (s > mv) s = mv;
                dst[x] = (uint8_t)((s * 255u + half) / mv);
            }
        }
    }
    if (info) *info = hdr;
    *out = img;
    return PP_OK;
}

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

static pp_status hdr_decode(pp_ctx *ctx, const char *name, const uint8_t *d, size_t n,
                            pp_image_info *info, pp_image **out)
{
    hdr_header h = {0};
    pp_status st = hdr_read_header(ctx, name, d, n, &h);
    if (st) return st;
    pp_image_info hdr = {PP_FORMAT_HDR, h.width, h.height, 3, 32};
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
    st = alloc_image(ctx, name, h.width, h.height, 3, &img);
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

/* ---- PSD decoding ------------------------------------------------------------------------ */

/* stb_image's PSD reader (what this replaces; found by tests/fuzz/fuzz_load.c) converts a
   negative float to an unsigned integer - undefined behaviour - when it removes the white matte
   of an image with alpha whose colour lies below the matte, fills truncated pixel data with
   zeros instead of failing, and reads 16-bit RLE data as 8-bit. So PSD is decoded here, as stb
   decodes a valid file: the composited image of a version-1 PSD in RGB mode, 8 or 16 bits,
   raw or PackBits (RLE) compressed (runs may cross rows, as stb allows), 1 to 56 channels of
   which the first four are R, G, B, A (missing colour channels are 0, a missing alpha is
   opaque); always 4 channels out. With alpha, the white matte is removed as stb does (in
   single precision, at the file's depth: c = c' / a + max (1 - 1 / a) for 0 < a < max, then
   truncated), clamped to 0..max where stb's result was undefined. 16-bit samples are then
   rounded to 8 bits (v * 255 / 65535). Everything the pixels need is checked to be present
   before the image is allocated. */

typedef struct psd_header {
    int width, height, channels, depth, rle;
    size_t data; /* offset of the image data (RLE: of the row byte counts) */
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

static pp_status psd_decode(pp_ctx *ctx, const char *name, const uint8_t *d, size_t n,
                            pp_image_info *info, pp_image **out)
{
    psd_header h = {0};
    pp_status st = psd_read_header(ctx, name, d, n, &h);
    if (st) return st;
    pp_image_info hdr = {PP_FORMAT_PSD, h.width, h.height, 4, h.depth};
    if (!out) {
        *info = hdr;
        return PP_OK;
    }
    size_t bytes;
    if ((st = pp_check_size(ctx, name, h.width, h.height, 4, &bytes))) return st;
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
    if ((st = alloc_image(ctx, name, h.width, h.height, 4, &img))) {
        free(raw);
        return st;
    }
    const bool matte = h.channels >= 4;
    for (size_t i = 0; i < px; i++) {
        uint8_t *o = img->data + i * 4;
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
            for (int k = 0; k < 4; k++) o[k] = (uint8_t)((v16[k] * 255u + 32767u) / 65535u);
        }
    }
    free(raw);
    if (info) *info = hdr;
    *out = img;
    return PP_OK;
}

/* ---- stb_image formats ------------------------------------------------------------------- */

/* The stb_image this builds with trusts a JPEG's Huffman table sizes: a DHT whose 16 counts add
   up to more than 256 codes makes it write past its tables. Walk the JPEG's segments the way stb
   reads them (segment lengths; garbage between segments skipped up to the next 0xff, as stb
   does; entropy-coded data up to the next marker) and refuse such a table before stb sees it.
   The walk may look at more places than stb would, never fewer. Anything else malformed is left
   to stb to report. */
static bool jpeg_tables_ok(const uint8_t *d, size_t n)
{
    size_t pos = 2; /* after SOI */
    while (pos < n) {
        if (d[pos] != 0xff) { /* stb skips bytes between segments up to the next 0xff */
            pos++;
            continue;
        }
        while (pos < n && d[pos] == 0xff) pos++;
        if (pos >= n) return true;
        int m = d[pos++];
        if (m == 0xd9) return true;                           /* EOI */
        if ((m >= 0xd0 && m <= 0xd7) || m == 0x01) continue;  /* no length */
        if (n - pos < 2) return true;
        size_t len = (size_t)d[pos] << 8 | d[pos + 1];
        if (len < 2) return true;
        size_t end = pos + len < n ? pos + len : n;
        if (m == 0xc4) { /* DHT: tables of 1 + 16 + sum(counts) bytes */
            size_t p = pos + 2;
            while (p < pos + len) {
                /* p may lie past `end` when the segment runs past the end of the file (the
                   previous table's counts jumped there): no byte there may be read (fuzz) */
                if (p >= end) return true;     /* truncated: stb reports it */
                if (end - p < 17) return false; /* a table header cut short */
                if (d[p] >> 4 > 1 || (d[p] & 15) > 3) return true; /* stb refuses it */
                unsigned count = 0;
                for (int i = 1; i <= 16; i++) count += d[p + i];
                if (count > 256) return false;
                p += 17 + count;
            }
        }
        pos += len;
        if (m == 0xda) { /* SOS: skip the entropy-coded data */
            while (pos + 1 < n && !(d[pos] == 0xff && d[pos + 1] != 0 && d[pos + 1] != 0xff &&
                                    (d[pos + 1] < 0xd0 || d[pos + 1] > 0xd7)))
                pos++;
        }
    }
    return true;
}

/* stb_image's BMP reader takes a paletted image's colours from a 256-entry table on its stack
   that it fills only with the entries the file holds (as many as fit between the headers and
   the pixel data): an index beyond them - or a header leaving no room for any - copies
   uninitialised stack memory into the image (valgrind on a hand-made file; see
   tests/test_hostile.c). So the indices of an uncompressed 1/4/8-bit BMP are checked first,
   with stb's own arithmetic for the palette size; anything else is left to stb. Returns false
   for such a file, with the palette size and the first bad index. */
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool bmp_palette_ok(const uint8_t *d, size_t n, int64_t *entries, int *bad)
{
    if (n < 30) return true;
    const int64_t offset = (int32_t)le32(d + 10), hsz = le32(d + 14);
    int64_t w, h;
    int bpp;
    if (hsz == 12) {
        w = d[18] | d[19] << 8, h = d[20] | d[21] << 8, bpp = d[24] | d[25] << 8;
    } else if (hsz == 40 || hsz == 56 || hsz == 108 || hsz == 124) {
        if (n < 34 || le32(d + 30) != 0) return true; /* compressed: stb refuses or decodes it */
        w = (int32_t)le32(d + 18), h = (int32_t)le32(d + 22), bpp = d[28] | d[29] << 8;
    } else {
        return true;
    }
    if ((bpp != 1 && bpp != 4 && bpp != 8) || offset < 0 || w <= 0) return true;
    *entries = hsz == 12 ? (offset - 14 - 24) / 3 : (offset - 14 - hsz) / 4;
    *bad = -1;
    if (*entries < 1) return false;
    if (h < 0) h = -h;
    const int64_t bytes = bpp == 1 ? (w + 7) / 8 : bpp == 4 ? (w + 1) / 2 : w;
    const int64_t stride = bytes + (-bytes & 3);
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            int64_t at = offset + y * stride + x * bpp / 8;
            if (at >= (int64_t)n) return true; /* truncated: stb's reader notices it */
            int v = d[at] >> (8 - bpp - (int)(x * bpp % 8)) & ((1 << bpp) - 1);
            if (v >= *entries) {
                *bad = v;
                return false;
            }
        }
    return true;
}

/* JPEG, BMP, TGA and GIF (first frame). (PSD has its own decoder above.) */
static pp_status stb_decode(pp_ctx *ctx, const char *name, pp_format fmt, const uint8_t *data,
                            size_t size, pp_image_info *info, pp_image **out)
{
    if (size > INT_MAX)
        return pp_fail(ctx, PP_ERR_LIMIT, "%s: %zu bytes is over the %s decoder's limit of %d",
                       name, size, pp_format_name(fmt), INT_MAX);
    int len = (int)size, w, h, c;
    if (fmt == PP_FORMAT_JPEG && !jpeg_tables_ok(data, size))
        return pp_fail(ctx, PP_ERR_DECODE, "%s: bad DHT header (over 256 Huffman codes)", name);
    if (!pp_stb_info(fmt, data, len, &w, &h, &c)) {
        const char *why = pp_stb_failure_reason();
        if (strcmp(why, "too large") == 0) /* stb's own limit, from the header (JPEG: 2^30 bytes) */
            return pp_fail(ctx, PP_ERR_LIMIT, "%s: the header declares an image too large for the "
                           "%s decoder", name, pp_format_name(fmt));
        return pp_fail(ctx, PP_ERR_DECODE, "%s: %s", name,
                       *why ? why : "invalid or unsupported image header");
    }
    /* a top-down BMP stores a negative height, which stb's header reader passes on (its
       decoder takes the absolute value); INT_MIN has none and is refused below */
    if (fmt == PP_FORMAT_BMP && h < 0 && h != INT_MIN) h = -h;
    if (c < 1 || c > 4 || w <= 0 || h <= 0)
        return pp_fail(ctx, PP_ERR_DECODE, "%s: invalid image header (%dx%d, %d channels)", name,
                       w, h, c);
    pp_image_info hdr = {fmt, w, h, c, 8};
    if (!out) {
        *info = hdr;
        return PP_OK;
    }
    size_t bytes;
    pp_status st = pp_check_size(ctx, name, w, h, c, &bytes);
    if (st) return st;
    /* The memory limit covers stb_image's buffers too, estimated per pixel from what it
       allocates: GIF 4 + 4 + 1 bytes (frame, background, history) and the result; JPEG up to
       3 bytes per component (planes, progressive coefficients) and the result; BMP/TGA a
       4-channel buffer and the result; plus our image. */
    uint64_t px = (uint64_t)w * (uint64_t)h;
    uint64_t per = fmt == PP_FORMAT_GIF    ? 9u + (uint64_t)c
                   : fmt == PP_FORMAT_JPEG ? 4u * (uint64_t)c
                                           : 4u + (uint64_t)c;
    if ((st = pp_check_memory(ctx, name, 0, px * per + bytes, "decoder buffers"))) return st;
    int64_t entries;
    int bad;
    if (fmt == PP_FORMAT_BMP && !bmp_palette_ok(data, size, &entries, &bad)) {
        if (bad < 0)
            return pp_fail(ctx, PP_ERR_DECODE, "%s: BMP: no room for a palette before the pixels",
                           name);
        return pp_fail(ctx, PP_ERR_DECODE, "%s: BMP: colour index %d beyond the %lld colours "
                       "of the palette", name, bad, (long long)entries);
    }

    int w2 = 0, h2 = 0;
    int past_end = 0;
    void *pixels = pp_stb_load(data, len, &w2, &h2, c, &past_end);
    if (!pixels) {
        const char *why = pp_stb_failure_reason();
        if (strcmp(why, "outofmem") == 0)
            return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
        return pp_fail(ctx, PP_ERR_DECODE, "%s: %s", name, *why ? why : "cannot decode");
    }
    /* stb fills what is missing with zeros: a BMP, TGA or GIF whose pixel data ends early is
       an error (a JPEG's entropy decoder reads ahead by design and reports bad data itself) */
    if (past_end && fmt != PP_FORMAT_JPEG) {
        pp_stb_free(pixels);
        return pp_fail(ctx, PP_ERR_DECODE, "%s: truncated %s pixel data", name,
                       pp_format_name(fmt));
    }
    if (w2 != w || h2 != h) {
        pp_stb_free(pixels);
        return pp_fail(ctx, PP_ERR_DECODE, "%s: the header says %dx%d but %dx%d were decoded",
                       name, w, h, w2, h2);
    }
    pp_image *img;
    st = alloc_image(ctx, name, w, h, c, &img);
    if (st) {
        pp_stb_free(pixels);
        return st;
    }
    memcpy(img->data, pixels, bytes); /* a fresh image is tightly packed */
    pp_stb_free(pixels);
    if (info) *info = hdr;
    *out = img;
    return PP_OK;
}

/* ---- decoding entry points --------------------------------------------------------------- */

/* Decodes (out != NULL) or reads the header of (out == NULL) an image in memory. */
static pp_status decode(pp_ctx *ctx, const uint8_t *data, size_t size, const char *name,
                        pp_image_info *info, pp_image **out)
{
    if (size == 0) return pp_fail(ctx, PP_ERR_FORMAT, "%s: empty file", name);
    pp_format fmt = detect_format(data, size);
    switch (fmt) {
    case PP_FORMAT_UNKNOWN:
        return pp_fail(ctx, PP_ERR_FORMAT, "%s: not a recognised image format", name);
    case PP_FORMAT_PNG: return png_decode(ctx, name, data, size, info, out);
    case PP_FORMAT_PNM: return pnm_decode(ctx, name, data, size, info, out);
    case PP_FORMAT_HDR: return hdr_decode(ctx, name, data, size, info, out);
    case PP_FORMAT_PSD: return psd_decode(ctx, name, data, size, info, out);
    default: return stb_decode(ctx, name, fmt, data, size, info, out);
    }
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

/* ---- output sinks ------------------------------------------------------------------------ */

/* Where an encoder's bytes go: a FILE, or a growing malloc()ed buffer. */
typedef struct sink {
    FILE *f;
    uint8_t *buf;
    size_t len, cap;
    int err; /* errno of the first failure; later writes are dropped */
} sink;

static void sink_write(sink *s, const void *p, size_t n)
{
    if (s->err || n == 0) return;
    if (s->f) {
        errno = 0;
        if (fwrite(p, 1, n, s->f) != n) s->err = errno ? errno : EIO;
        return;
    }
    if (n > SIZE_MAX - s->len) {
        s->err = ENOMEM;
        return;
    }
    if (s->len + n > s->cap) {
        size_t ncap = s->cap ? s->cap : 4096;
        while (ncap < s->len + n) ncap = ncap > SIZE_MAX / 2 ? s->len + n : ncap * 2;
        uint8_t *nb = realloc(s->buf, ncap);
        if (!nb) {
            s->err = ENOMEM;
            return;
        }
        s->buf = nb;
        s->cap = ncap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

/* The status and message for a sink that failed. */
static pp_status sink_fail(pp_ctx *ctx, const sink *s, const char *name)
{
    if (s->err == ENOMEM && !s->f) return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
    return pp_fail(ctx, PP_ERR_IO, "%s: %s", name, strerror(s->err));
}

/* ---- PNG encoding (libpng) --------------------------------------------------------------- */

typedef struct png_wjob {
    png_structp png;
    png_infop info;
    const pp_image *img;
    int level;
    sink *out;
    char msg[256];
} png_wjob;

static void png_werror_cb(png_structp png, png_const_charp msg)
{
    png_wjob *job = png_get_error_ptr(png);
    snprintf(job->msg, sizeof job->msg, "%s", msg ? msg : "libpng error");
    png_longjmp(png, 1);
}

static void png_write_cb(png_structp png, png_bytep p, size_t n)
{
    png_wjob *job = png_get_io_ptr(png);
    sink_write(job->out, p, n);
    if (job->out->err) png_error(png, "write failed");
}

static void png_flush_cb(png_structp png) { (void)png; }

static int png_write_body(png_wjob *job)
{
    static const int ctypes[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                  PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    const pp_image *img = job->img;
    png_set_user_limits(job->png, 0x7fffffff, 0x7fffffff);
    png_set_write_fn(job->png, job, png_write_cb, png_flush_cb);
    png_set_compression_level(job->png, job->level);
    png_set_IHDR(job->png, job->info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
                 ctypes[img->channels], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(job->png, job->info);
    for (int y = 0; y < img->height; y++)
        png_write_row(job->png, img->data + (size_t)y * img->stride);
    png_write_end(job->png, job->info);
    return 1;
}

static int png_write_guarded(png_wjob *job)
{
    if (setjmp(png_jmpbuf(job->png))) return 0;
    return png_write_body(job);
}

static pp_status png_encode(pp_ctx *ctx, const pp_image *img, sink *out, const char *name)
{
    png_wjob job;
    memset(&job, 0, sizeof job);
    job.img = img;
    job.level = ctx->png_level;
    job.out = out;
    job.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &job, png_werror_cb, png_warning_cb);
    if (!job.png) return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
    job.info = png_create_info_struct(job.png);
    if (!job.info) {
        png_destroy_write_struct(&job.png, NULL);
        return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
    }
    int ok = png_write_guarded(&job);
    png_destroy_write_struct(&job.png, &job.info);
    if (out->err) return sink_fail(ctx, out, name);
    if (!ok) return pp_fail(ctx, PP_ERR_ENCODE, "%s: %s", name, job.msg);
    return PP_OK;
}

/* ---- stb_image_write formats ------------------------------------------------------------- */

static void stb_sink_cb(void *context, void *data, int size)
{
    if (size > 0) sink_write(context, data, (size_t)size);
}

/* JPEG (alpha dropped: stb ignores it; gray is written as a colour JPEG), BMP (gray+alpha is
   written as RGBA so the alpha survives) and TGA. stb wants tightly packed pixels, so a strided
   image is packed into a copy first. stb's global settings (TGA RLE on, no flip) are left. */
static pp_status stb_encode(pp_ctx *ctx, const pp_image *img, pp_format fmt, sink *out,
                            const char *name)
{
    int w = img->width, h = img->height, c = img->channels;
    int oc = fmt == PP_FORMAT_BMP && c == 2 ? 4 : c; /* channels handed to stb */
    int maxdim = fmt == PP_FORMAT_BMP ? INT_MAX : 65535; /* 16-bit size fields */
    /* stb computes offsets and the BMP file size in int: keep well inside it */
    if (w > maxdim || h > maxdim || (uint64_t)w * (uint64_t)h * 4u + 1024u > (uint64_t)INT_MAX)
        return pp_fail(ctx, PP_ERR_LIMIT, "%s: %dx%d is too large for the %s encoder", name, w, h,
                       pp_format_name(fmt));
    size_t row = (size_t)w * (size_t)c;
    const uint8_t *pixels = img->data;
    uint8_t *packed = NULL;
    if (oc != c || img->stride != row) {
        packed = malloc((size_t)w * (size_t)h * (size_t)oc);
        if (!packed) return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
        for (int y = 0; y < h; y++) {
            const uint8_t *s = img->data + (size_t)y * img->stride;
            uint8_t *d = packed + (size_t)y * (size_t)w * (size_t)oc;
            if (oc == c) {
                memcpy(d, s, row);
            } else { /* gray+alpha -> RGBA */
                for (int x = 0; x < w; x++, s += 2, d += 4) {
                    d[0] = d[1] = d[2] = s[0];
                    d[3] = s[1];
                }
            }
        }
        pixels = packed;
    }
    int ok;
    switch (fmt) {
    case PP_FORMAT_JPEG:
        ok = pp_stb_write_jpg(stb_sink_cb, out, w, h, oc, pixels, ctx->jpeg_quality);
        break;
    case PP_FORMAT_BMP: ok = pp_stb_write_bmp(stb_sink_cb, out, w, h, oc, pixels); break;
    default: ok = pp_stb_write_tga(stb_sink_cb, out, w, h, oc, pixels); break;
    }
    free(packed);
    if (out->err) return sink_fail(ctx, out, name);
    if (!ok) return pp_fail(ctx, PP_ERR_ENCODE, "%s: the %s encoder failed", name,
                            pp_format_name(fmt));
    return PP_OK;
}

static pp_status check_image(pp_ctx *ctx, const pp_image *img, const char *name)
{
    if (!img) return pp_fail(ctx, PP_ERR_INVALID, "%s: image is NULL", name);
    if (!img->data || img->width <= 0 || img->height <= 0 || img->channels < 1 ||
        img->channels > 4 || img->stride < (size_t)img->width * (size_t)img->channels)
        return pp_fail(ctx, PP_ERR_INVALID, "%s: invalid image", name);
    return PP_OK;
}

static pp_status encode(pp_ctx *ctx, const pp_image *img, pp_format fmt, sink *out,
                        const char *name)
{
    if (fmt == PP_FORMAT_PNG) return png_encode(ctx, img, out, name);
    return stb_encode(ctx, img, fmt, out, name);
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
        format != PP_FORMAT_TGA)
        return pp_fail(ctx, PP_ERR_FORMAT, "%s: cannot write format '%s' (use png, jpeg, bmp or tga)",
                       MEMORY_NAME, pp_format_name(format));
    sink s = {0};
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
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
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
                           "(use .png, .jpg, .jpeg, .bmp or .tga)", path);
        return pp_fail(ctx, PP_ERR_FORMAT,
                       "%s: cannot write format of extension '%s' "
                       "(use .png, .jpg, .jpeg, .bmp or .tga)", path, ext);
    }

    char *tmp = NULL;
    int fd = create_temp(path, &tmp);
    if (fd < 0) return pp_fail(ctx, PP_ERR_IO, "%s: cannot create the file: %s", path,
                               strerror(errno));
    /* Replacing a file keeps its permissions, as writing over it would. */
    struct stat old;
    if (stat(path, &old) == 0 && S_ISREG(old.st_mode)) (void)fchmod(fd, old.st_mode & 0777);
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int err = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        return pp_fail(ctx, PP_ERR_IO, "%s: %s", path, strerror(err));
    }
    sink s = {0};
    s.f = f;
    st = encode(ctx, image, fmt, &s, path);
    errno = 0;
    if (fclose(f) != 0 && st == PP_OK)
        st = pp_fail(ctx, PP_ERR_IO, "%s: %s", path, strerror(errno ? errno : EIO));
    if (st == PP_OK && rename(tmp, path) != 0)
        st = pp_fail(ctx, PP_ERR_IO, "%s: cannot rename the temporary file into place: %s", path,
                     strerror(errno));
    if (st != PP_OK) unlink(tmp);
    free(tmp);
    return st;
}
