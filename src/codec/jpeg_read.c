/*
 * jpeg_read.c - JPEG decoding through libjpeg-turbo (the libjpeg API of jpeglib.h).
 *
 * libjpeg-turbo's SIMD IDCT, colour conversion and upsampling make it 2-3x faster than
 * stb_image (which pixpool used before), and its failures come back through its error manager
 * with a reason (jpeg_err.c). The settings are djpeg's: the accurate integer IDCT (JDCT_ISLOW)
 * and fancy (triangle) upsampling.
 *
 * The header is read first (and is all that is read for pp_info), the context's limits are
 * checked, with the decoder's own buffers counted, before libjpeg allocates anything of the
 * image's size, and the scanlines are decoded straight into the rows of the image from
 * pp_codec_alloc_image (in the shared arena with the fork backend: no copy). Grayscale gives 1
 * channel; YCbCr and RGB give 3; CMYK and YCCK give 3 (RGB, converted here: cmyk_to_rgb).
 * Strict: every corrupt-data warning of libjpeg fails the decode (jpeg_err.c), as stb_image's
 * decoder did. A progressive file may have at most MAX_SCANS (100) scans.
 *
 * Failures longjmp back to read_guarded (jpeg_err.h); everything the decode touches lives in
 * the job struct.
 */
#include "jpeg_err.h"
#include "jpeg_meta.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The most scans a progressive JPEG may have (djpeg -maxscans is the same guard). Each scan is
   a pass over every block of the components it covers even when it holds (almost) no data, so a
   few bytes per scan make a hostile file cost minutes: a valid 1.5 MB file of 8192x8192 gray
   pixels in 704 scans takes djpeg 18 s, about 24 ms a scan, and at pixpool's default pixel limit
   (2^30) a scan can cost 16x that. Encoders write about 10 (libjpeg's progression: 10 for
   colour, 6 for gray; mozjpeg's scan optimisation stays well below 100), and one scan per
   coefficient and component would be 192. 100 (LibreOffice's limit; TurboJPEG's
   TJFLAG_LIMITSCANS allows 500) bounds that file to 2.4 s and a gigapixel one to about 40 s. */
#define MAX_SCANS 100
#define ROWS_PER_CALL 16         /* scanlines handed to libjpeg per call */
/* libjpeg's fixed allocations of a decoder (its pools, Huffman and IDCT tables, colour
   conversion tables: 25-40 KiB measured with valgrind's massif), counted with a margin. */
#define DECODER_FIXED_BYTES ((uint64_t)256 << 10)

/* ---- decoding ---------------------------------------------------------------------------- */

typedef struct jpeg_rjob {
    jpeg_trap trap; /* first: see jpeg_trap */
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr err;
    struct jpeg_progress_mgr progress;
    pp_ctx *ctx;
    const char *name;
    const uint8_t *data;
    size_t size;
    bool decode;       /* false: header only */
    pp_status status;  /* a failure raised by pixpool itself (message already set) */
    pp_image_info header;
    pp_image *img;
    uint8_t *cmyk;     /* one decoded CMYK row */
    pp_meta meta;      /* the markers' metadata (jpeg_meta.c), moved to img on success */
} jpeg_rjob;

/* Called by libjpeg as it goes (once per row of MCUs, and each scan): stops a file of too many
   scans. */
static void on_progress(j_common_ptr cinfo)
{
    if (!cinfo->is_decompressor) return;
    if (((j_decompress_ptr)cinfo)->input_scan_number > MAX_SCANS) {
        char msg[96];
        snprintf(msg, sizeof msg, "more than %d scans, the limit for a progressive JPEG "
                 "(they have about 10)", MAX_SCANS);
        pp_jpeg_raise(cinfo, PP_ERR_LIMIT, msg);
    }
}

static uint64_t round_up(uint64_t v, uint64_t m) { return (v + m - 1) / m * m; }

/* What libjpeg allocates to decode the file whose header cinfo holds, besides the image.
   - A file of several scans (progressive, or sequential with the components in separate scans)
     is read whole before the first row comes out, into a coefficient buffer of 64 coefficients
     of 2 bytes per 8x8 block of every component, each component padded to whole MCUs
     (jdcoefct.c): about 2 bytes per sample.
   - Every file: a few rows of MCUs of every component (jdmainct.c keeps up to 3 row groups
     plus context rows, jdsample.c one upsampled row group): bounded by 16 x max_v_samp_factor
     rows of the padded width per component.
   - The CMYK row of this file, and libjpeg's fixed tables (DECODER_FIXED_BYTES). */
static uint64_t decoder_bytes(const struct jpeg_decompress_struct *ci)
{
    bool whole = ci->progressive_mode || ci->comps_in_scan < ci->num_components;
    uint64_t padded_w = round_up(ci->image_width, 8u * (uint64_t)ci->max_h_samp_factor);
    uint64_t total = DECODER_FIXED_BYTES + (uint64_t)ci->image_width * 4u;
    for (int i = 0; i < ci->num_components; i++) {
        const jpeg_component_info *c = &ci->comp_info[i];
        if (whole)
            total += round_up(c->width_in_blocks, (uint64_t)c->h_samp_factor) *
                     round_up(c->height_in_blocks, (uint64_t)c->v_samp_factor) * DCTSIZE2 *
                     sizeof(JCOEF);
        total += padded_w * 16u * (uint64_t)ci->max_v_samp_factor;
    }
    return total;
}

/* CMYK (and YCCK, which libjpeg turns into CMYK) to RGB, rounded to nearest. With an Adobe
   APP14 marker - Photoshop and libjpeg write one with every CMYK file - the samples are stored
   inverted (255 = no ink), so with inks c = 255 - C, k = 255 - K:
       R = 255 (1 - c/255) (1 - k/255) = C * K / 255,  G = M * K / 255,  B = Y * K / 255.
   Without the marker the samples are the inks themselves:
       R = (255 - C) (255 - K) / 255, and so on.
   (libvips decides the same way; stb_image assumed the Adobe convention always.) */
static void cmyk_to_rgb(const uint8_t *src, uint8_t *dst, int width, bool inverted)
{
    const unsigned flip = inverted ? 0u : 255u;
    for (int x = 0; x < width; x++, src += 4, dst += 3) {
        unsigned k = src[3] ^ flip;
        for (int i = 0; i < 3; i++) dst[i] = (uint8_t)(((src[i] ^ flip) * k + 127u) / 255u);
    }
}

/* The body of the decode; libjpeg's failures longjmp out of it to read_guarded. Returns 1 on
   success, 0 on a failure of pixpool's own (job->status). */
static int read_body(jpeg_rjob *job)
{
    j_decompress_ptr ci = &job->cinfo;
    jpeg_create_decompress(ci);
    ci->progress = &job->progress;
    job->progress.progress_monitor = on_progress;
    jpeg_mem_src(ci, job->data, (unsigned long)job->size);
    pp_jpeg_meta_save_markers(ci);
    jpeg_read_header(ci, TRUE);
    if (job->decode && (job->status = pp_jpeg_read_meta(ci, &job->meta))) {
        pp_fail(job->ctx, job->status, "%s: out of memory reading the metadata", job->name);
        return 0;
    }

    int channels;
    bool cmyk = false;
    switch (ci->jpeg_color_space) {
    case JCS_GRAYSCALE:
        channels = 1;
        ci->out_color_space = JCS_GRAYSCALE;
        break;
    case JCS_YCbCr:
    case JCS_RGB:
        channels = 3;
        ci->out_color_space = JCS_RGB;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        channels = 3;
        ci->out_color_space = JCS_CMYK;
        cmyk = true;
        break;
    default:
        job->status = pp_fail(job->ctx, PP_ERR_DECODE,
                              "%s: unsupported JPEG colour space (%d components)", job->name,
                              ci->num_components);
        return 0;
    }
    const int w = (int)ci->image_width, h = (int)ci->image_height; /* <= 65500: libjpeg */
    job->header = (pp_image_info){PP_FORMAT_JPEG, w, h, channels, ci->data_precision, 8};
    if (!job->decode) return 1;

    /* the limits, before anything of the image's size is allocated */
    size_t bytes;
    job->status = pp_check_size(job->ctx, job->name, w, h, channels, &bytes);
    if (job->status != PP_OK) return 0;
    job->status = pp_check_memory(job->ctx, job->name, 0, (uint64_t)bytes + decoder_bytes(ci),
                                  "decoder buffers");
    if (job->status != PP_OK) return 0;
    /* and libjpeg's own check of its whole-image buffers, as a second line */
    uint64_t left = job->ctx->max_memory - bytes; /* > 0: checked above */
    ci->mem->max_memory_to_use = left > (uint64_t)LONG_MAX ? LONG_MAX : (long)left;

    ci->dct_method = JDCT_ISLOW;       /* djpeg's defaults, said explicitly */
    ci->do_fancy_upsampling = TRUE;
    jpeg_start_decompress(ci);         /* a multi-scan file is read whole here */
    if ((int)ci->output_width != w || (int)ci->output_height != h ||
        ci->output_components != (cmyk ? 4 : channels)) {
        job->status = pp_fail(job->ctx, PP_ERR_DECODE, "%s: unexpected decoder output layout",
                              job->name);
        return 0;
    }
    job->status = pp_codec_alloc_image(job->ctx, job->name, w, h, channels, &job->img);
    if (job->status != PP_OK) return 0;
    if (cmyk && !(job->cmyk = malloc((size_t)w * 4u))) {
        job->status = pp_fail(job->ctx, PP_ERR_NOMEM, "%s: out of memory", job->name);
        return 0;
    }
    const pp_image *img = job->img;
    JSAMPROW rows[ROWS_PER_CALL];
    while (ci->output_scanline < ci->output_height) {
        JDIMENSION y = ci->output_scanline, n = 1;
        if (cmyk) {
            rows[0] = job->cmyk;
        } else {
            n = ci->output_height - y < ROWS_PER_CALL ? ci->output_height - y : ROWS_PER_CALL;
            for (JDIMENSION i = 0; i < n; i++) rows[i] = img->data + (size_t)(y + i) * img->stride;
        }
        JDIMENSION got = jpeg_read_scanlines(ci, rows, n);
        if (got == 0) { /* cannot happen with a memory source, which never suspends */
            job->status = pp_fail(job->ctx, PP_ERR_DECODE, "%s: the decoder stopped at row %u",
                                  job->name, (unsigned)y);
            return 0;
        }
        if (cmyk) cmyk_to_rgb(job->cmyk, img->data + (size_t)y * img->stride, w,
                              ci->saw_Adobe_marker);
    }
    jpeg_finish_decompress(ci); /* reads the rest, up to EOI (a file cut there fails) */
    return 1;
}

static int read_guarded(jpeg_rjob *job)
{
    if (setjmp(job->trap.jmp)) return 0;
    return read_body(job);
}

pp_status pp_jpeg_decode(pp_ctx *ctx, const char *name, const uint8_t *data, size_t size,
                         pp_image_info *info, pp_image **out)
{
    if (size > ULONG_MAX)
        return pp_fail(ctx, PP_ERR_LIMIT, "%s: %zu bytes is over the JPEG decoder's limit",
                       name, size);
    jpeg_rjob *job = calloc(1, sizeof *job);
    if (!job) return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
    job->ctx = ctx;
    job->name = name;
    job->data = data;
    job->size = size;
    job->decode = out != NULL;
    pp_jpeg_init_errors(&job->err);
    job->cinfo.err = &job->err;
    job->cinfo.client_data = &job->trap;

    int ok = read_guarded(job);
    jpeg_destroy_decompress(&job->cinfo); /* safe before and after create (mem NULL or set) */
    free(job->cmyk);
    pp_status st = PP_OK;
    if (!ok) {
        pp_image_free(job->img);
        st = job->status != PP_OK ? job->status
                                  : pp_fail(ctx, job->trap.status, "%s: %s", name, job->trap.msg);
    } else {
        if (info) *info = job->header;
        if (out) {
            job->img->meta = job->meta;
            job->meta.count = 0;
        }
        if (out) *out = job->img;
    }
    pp_meta_clear(&job->meta);
    free(job);
    return st;
}
