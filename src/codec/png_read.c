/*
 * png_read.c - PNG decoding through libpng.
 *
 * Every colour type and bit depth becomes 1-4 channels of 8 bits; a 16-bit file keeps its 16
 * bits (uint16_t in the machine's byte order). (Encoding: png_write.c.)
 * libpng skips every ancillary chunk; the metadata chunks are read by png_meta.c.
 */
#define _GNU_SOURCE
#include "codec.h"

#include <png.h>

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    uint8_t palette[256 * 4]; /* a palette PNG's PLTE and tRNS as RGBA (keep_palette) */
    int npalette;
} png_rjob;

/* A palette file's PLTE (and tRNS) as RGBA entries in job->palette, for the "png:palette" blob
   (meta.h) that lets the encoder write a palette PNG again. */
static void keep_palette(png_rjob *job)
{
    png_colorp plte = NULL;
    int n = 0, nt = 0;
    png_bytep alpha = NULL;
    if (!png_get_PLTE(job->png, job->info, &plte, &n) || n < 1 || n > 256) return;
    if (!png_get_tRNS(job->png, job->info, &alpha, &nt, NULL)) nt = 0;
    for (int i = 0; i < n; i++) {
        uint8_t *e = job->palette + 4 * i;
        e[0] = plte[i].red;
        e[1] = plte[i].green;
        e[2] = plte[i].blue;
        e[3] = i < nt && alpha ? alpha[i] : 255;
    }
    job->npalette = n;
}

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
    const int keep = depth == 16 ? 16 : 8; /* the depth decoded to */
    job->header.decoded_depth = keep;
    if (!job->decode) return 1;

    /* The limit is checked before libpng or pixpool allocates anything of the image's size. */
    size_t bytes;
    job->status = pp_check_size_depth(job->ctx, job->name, w, h, channels, keep, &bytes);
    if (job->status != PP_OK) return 0;
    /* the memory limit covers the row table too (8 bytes a row: more than a 1-pixel row) */
    job->status = pp_check_memory(job->ctx, job->name, 0,
                                  (uint64_t)bytes + (uint64_t)h * sizeof(png_bytep),
                                  "decoder buffers");
    if (job->status != PP_OK) return 0;

    if (ctype == PNG_COLOR_TYPE_PALETTE) {
        keep_palette(job);
        png_set_palette_to_rgb(png);
    }
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (trns) png_set_tRNS_to_alpha(png);
    if (depth == 16 && pp_host_little_endian()) png_set_swap(png); /* to native uint16_t */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int got = png_get_channels(png, info);
    if (png_get_bit_depth(png, info) != keep || got < 1 || got > 4)
        png_error(png, "unsupported pixel layout");
    if (got != channels) { /* cannot happen for a valid file; recheck with what libpng gives */
        channels = got;
        job->status = pp_check_size_depth(job->ctx, job->name, w, h, channels, keep, &bytes);
        if (job->status != PP_OK) return 0;
    }
    if (png_get_rowbytes(png, info) != (size_t)w * (size_t)channels * (size_t)(keep / 8))
        png_error(png, "unexpected row size");

    job->status = pp_codec_alloc_image_depth(job->ctx, job->name, (int)w, (int)h, channels, keep,
                                             &job->img);
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

pp_status pp_png_decode(pp_ctx *ctx, const char *name, const uint8_t *data, size_t size,
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
    if (out) { /* the metadata chunks (png_meta.c) */
        pp_status st = pp_png_read_meta(ctx, name, data, size, job.img->block.bytes, &job.img->meta);
        if (!st && job.npalette &&
            pp_meta_set(&job.img->meta, "png:palette", job.palette, (size_t)job.npalette * 4) ==
                PP_ERR_NOMEM)
            st = pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
        if (st) {
            pp_image_free(job.img);
            return st;
        }
    }
    if (info) *info = job.header;
    if (out) *out = job.img;
    return PP_OK;
}
