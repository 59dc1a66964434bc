/*
 * jpeg_write.c - JPEG encoding through libjpeg-turbo, in strips on the context's executor.
 *
 * Settings: the context's quality (baseline quantisation tables), chroma subsampling (AUTO:
 * 4:4:4 from quality 90 up, 4:2:0 below, as libvips and ImageMagick choose), progressive scans
 * and optimised Huffman tables; the accurate integer DCT (JDCT_ISLOW, cjpeg's default). Gray
 * and gray+alpha become a 1-component grayscale JPEG, RGB and RGBA a YCbCr one; alpha is
 * dropped. Rows are handed to libjpeg by pointer (RGBA through libjpeg-turbo's JCS_EXT_RGBX,
 * which skips the 4th byte), so a strided image needs no packed copy.
 *
 * Parallel encoding: a baseline JPEG (the default: no --jpeg-progressive, no --jpeg-optimize)
 * is cut into strips of whole rows of MCUs (about PP_JPEG_STRIP_BYTES of pixels each; the cut
 * depends on the image and the settings only, never on the executor or the worker count) and
 * written with a restart interval of one strip. A restart marker resets the entropy coder (the
 * DC predictions, the bit buffer), so each strip's entropy-coded data depends on its own pixels
 * only: each strip is one band of a stage that the executor runs like a filter's, in which a
 * worker encodes the strip as a JPEG image of its own (same tables, same restart interval) into
 * a slot of memory the workers can see. The calling thread writes strip 0's headers (SOF given
 * the whole height), every strip's entropy-coded data with RSTn markers between them, and EOI.
 * The result is byte for byte the file libjpeg writes for the whole image with that restart
 * interval (tests/test_jpeg_write.c checks it), so the pixels decode exactly as without restarts, at
 * a cost of 2 bytes (and up to 7 bits of padding) a strip. Downsampling (libjpeg's box filter
 * over 2x2 or 2x1 pixels, no smoothing) never reaches across a strip boundary, which is a
 * multiple of the MCU height. Progressive and optimised files need statistics of the whole
 * image, so they are encoded on the calling thread in one piece, as is an image of one strip.
 *
 * Kernels are pure but for one thing (docs/DESIGN.md): libjpeg allocates its working memory with
 * malloc (about ENCODER_FIXED_BYTES plus a few rows of MCUs; counted in the memory check) and
 * frees it before the kernel returns. A strip whose data outgrows its slot (noise at high
 * quality) is marked and encoded again by the calling thread into a growing buffer.
 *
 * Failures longjmp back to write_guarded (jpeg_err.h); everything the encode touches lives in
 * the job struct.
 */
#include "jpeg_err.h"
#include "jpeg_meta.h"

#include <stdlib.h>
#include <string.h>

#define ROWS_PER_CALL 16                /* scanlines handed to libjpeg per call */
#define OUT_CHUNK ((size_t)1 << 16)     /* streamed bytes written to the sink at a time */
#define HEADER_ROOM ((size_t)4 << 10)   /* a strip's headers (about 620 bytes) */
/* libjpeg's fixed allocations of an encoder (pools, tables), counted with a margin */
#define ENCODER_FIXED_BYTES ((uint64_t)256 << 10)

/* What every strip needs to know (the stage's parameter blob). */
typedef struct jw_params {
    int width, height, channels;
    int quality, luma_h, luma_v; /* luma sampling factors (1 1 for gray) */
    int progressive, optimize;   /* only with a single strip */
    int strip_rows, nstrips;
    unsigned restart;            /* restart interval in MCUs: one strip's; 0 with one strip */
    size_t slot_bytes;
    int density;                 /* 1: the JFIF density below (from the metadata), 0: default */
    int density_unit, x_density, y_density;
} jw_params;

_Static_assert(sizeof(jw_params) <= PP_PARAM_BYTES, "jw_params must fit a stage");

/* One strip's result (stage->partials). */
typedef struct jw_result {
    uint64_t len;     /* bytes in its slot */
    int32_t status;   /* PP_OK, or libjpeg's failure (msg) */
    int32_t overflow; /* 1: the strip did not fit in its slot */
    char msg[JMSG_LENGTH_MAX + 96];
} jw_result;

/* One encode: a whole image, or one strip of it. The bytes go to a sink (streamed), to a fixed
   buffer (a strip's slot: overflow is a failure), or to a malloc()ed buffer that grows
   (calling thread only). */
typedef struct jw_job {
    jpeg_trap trap; /* first: see jpeg_trap */
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr err;
    struct jpeg_destination_mgr dest;
    const jw_params *p;
    const pp_view *src;
    int y0, y1;     /* the rows encoded */
    uint8_t *gray;  /* a gray+alpha row without its alpha (width bytes) */
    const pp_meta *meta; /* markers written after the file header (calling thread only) */
    pp_sink *sink;  /* streaming: buf is the chunk */
    uint8_t *buf;
    size_t cap, len;
    bool grow, overflow;
} jw_job;

static void dest_init(j_compress_ptr ci)
{
    jw_job *job = ci->client_data;
    ci->dest->next_output_byte = job->buf;
    ci->dest->free_in_buffer = job->cap;
}

/* The buffer is full: to the sink, larger, or a failure. */
static boolean dest_flush(j_compress_ptr ci)
{
    jw_job *job = ci->client_data;
    if (job->sink) {
        pp_sink_write(job->sink, job->buf, job->cap);
        if (job->sink->err) pp_jpeg_raise((j_common_ptr)ci, PP_ERR_IO, "the output failed");
        dest_init(ci);
    } else if (job->grow) {
        size_t ncap = job->cap * 2;
        uint8_t *nb = ncap > job->cap ? realloc(job->buf, ncap) : NULL;
        if (!nb) pp_jpeg_raise((j_common_ptr)ci, PP_ERR_NOMEM, "out of memory");
        ci->dest->next_output_byte = nb + job->cap;
        ci->dest->free_in_buffer = ncap - job->cap;
        job->buf = nb;
        job->cap = ncap;
    } else {
        job->overflow = true;
        pp_jpeg_raise((j_common_ptr)ci, PP_ERR_ENCODE, "the strip outgrew its slot");
    }
    return TRUE;
}

static void dest_term(j_compress_ptr ci)
{
    jw_job *job = ci->client_data;
    job->len = job->cap - ci->dest->free_in_buffer;
    if (job->sink) pp_sink_write(job->sink, job->buf, job->len);
}

/* The luma sampling factors (h, v) of a subsampling mode at a quality. */
static void luma_sampling(pp_jpeg_subsample mode, int quality, int *h, int *v)
{
    if (mode == PP_SUBSAMPLE_AUTO) mode = quality >= 90 ? PP_SUBSAMPLE_444 : PP_SUBSAMPLE_420;
    *h = mode == PP_SUBSAMPLE_444 ? 1 : 2;
    *v = mode == PP_SUBSAMPLE_420 ? 2 : 1;
}

/* The encode of rows [y0, y1) as one image; libjpeg's failures longjmp out of it. */
static void write_body(jw_job *job)
{
    j_compress_ptr ci = &job->cinfo;
    const jw_params *p = job->p;
    jpeg_create_compress(ci);
    job->dest.init_destination = dest_init;
    job->dest.empty_output_buffer = dest_flush;
    job->dest.term_destination = dest_term;
    ci->dest = &job->dest;

    const int c = p->channels;
    ci->image_width = (JDIMENSION)p->width;
    ci->image_height = (JDIMENSION)(job->y1 - job->y0);
    ci->input_components = c <= 2 ? 1 : c;
    ci->in_color_space = c <= 2 ? JCS_GRAYSCALE : c == 3 ? JCS_RGB : JCS_EXT_RGBX;
    jpeg_set_defaults(ci); /* YCbCr for colour input, grayscale for gray */
    ci->dct_method = JDCT_ISLOW;
    /* baseline tables (values clamped to 255) at every quality, as libvips and ImageMagick
       write them, so that every decoder reads the file */
    jpeg_set_quality(ci, p->quality, TRUE);
    if (c >= 3) {
        ci->comp_info[0].h_samp_factor = p->luma_h;
        ci->comp_info[0].v_samp_factor = p->luma_v;
        for (int i = 1; i < 3; i++) ci->comp_info[i].h_samp_factor = ci->comp_info[i].v_samp_factor = 1;
    }
    if (p->density) {
        ci->density_unit = (UINT8)p->density_unit;
        ci->X_density = (UINT16)p->x_density;
        ci->Y_density = (UINT16)p->y_density;
    }
    ci->restart_interval = p->restart;
    ci->optimize_coding = p->optimize ? TRUE : FALSE;
    if (p->progressive) jpeg_simple_progression(ci); /* libjpeg optimises its tables */
    jpeg_start_compress(ci, TRUE);
    if (job->meta) pp_jpeg_write_meta(ci, job->meta); /* APP1 EXIF, XMP, APP2 ICC */
    JSAMPROW rows[ROWS_PER_CALL];
    while (ci->next_scanline < ci->image_height) {
        int y = job->y0 + (int)ci->next_scanline;
        JDIMENSION n = 1;
        if (c == 2) {
            const uint8_t *s = pp_row(job->src, y);
            for (int x = 0; x < p->width; x++) job->gray[x] = s[2 * x];
            rows[0] = job->gray;
        } else {
            JDIMENSION left = ci->image_height - ci->next_scanline;
            n = left < ROWS_PER_CALL ? left : ROWS_PER_CALL;
            for (JDIMENSION i = 0; i < n; i++) rows[i] = pp_row(job->src, y + (int)i);
        }
        jpeg_write_scanlines(ci, rows, n);
    }
    jpeg_finish_compress(ci);
}

static int write_guarded(jw_job *job)
{
    if (setjmp(job->trap.jmp)) return 0;
    write_body(job);
    return 1;
}

/* Encodes rows [y0, y1) of src into job's destination (set by the caller); 1 on success, else
   0 with job->trap set. */
static int encode_rows(jw_job *job, const jw_params *p, const pp_view *src, int y0, int y1,
                       uint8_t *gray)
{
    job->p = p;
    job->src = src;
    job->y0 = y0;
    job->y1 = y1;
    job->gray = gray;
    pp_jpeg_init_errors(&job->err);
    job->cinfo.err = &job->err;
    job->cinfo.client_data = &job->trap;
    int ok = write_guarded(job);
    jpeg_destroy_compress(&job->cinfo); /* safe before and after create */
    return ok;
}

static int strip_y1(const jw_params *p, int s)
{
    int y1 = (s + 1) * p->strip_rows;
    return y1 < p->height ? y1 : p->height;
}

/* ---- the strip kernel -------------------------------------------------------------------- */

static void jpeg_strip_kernel(const pp_stage *st, int s0, int s1, int band, void *scratch)
{
    (void)band;
    const jw_params *p = PP_STAGE_PARAMS(jw_params, st);
    for (int s = s0; s < s1; s++) {
        jw_result *r = (jw_result *)(void *)st->partials + s;
        jw_job job;
        memset(&job, 0, sizeof job);
        job.buf = st->dst.data + (size_t)s * p->slot_bytes;
        job.cap = p->slot_bytes;
        if (encode_rows(&job, p, &st->src, s * p->strip_rows, strip_y1(p, s), scratch)) {
            r->len = job.len;
        } else if (job.overflow) {
            r->overflow = 1;
        } else {
            r->status = job.trap.status;
            memcpy(r->msg, job.trap.msg, sizeof r->msg);
        }
    }
}

/* ---- the file ------------------------------------------------------------------------------ */

/* Where a strip's entropy-coded data starts (just after its SOS segment), 0 when the bytes are
   not the headers libjpeg writes. *sof: the offset of the SOF0 marker; *app0_end: where the
   JFIF APP0 segment that follows SOI ends (2 without one): the metadata markers go there. */
static size_t scan_start(const uint8_t *d, size_t n, size_t *sof, size_t *app0_end)
{
    if (n < 4 || d[0] != 0xFF || d[1] != 0xD8) return 0;
    size_t pos = 2;
    *sof = 0;
    *app0_end = 2;
    while (pos + 4 <= n && d[pos] == 0xFF) {
        unsigned m = d[pos + 1];
        size_t end = pos + 2 + ((size_t)d[pos + 2] << 8 | d[pos + 3]);
        if (end > n) return 0;
        if (m == 0xC0) *sof = pos;
        if (m == 0xE0 && pos == 2) *app0_end = end;
        if (m == 0xDA) return *sof && *sof + 9 <= n ? end : 0;
        pos = end;
    }
    return 0;
}

/* The file: strip 0's headers (with the whole height in SOF, and the metadata markers mk after
   its JFIF segment), every strip's entropy-coded data with RSTn markers between, EOI. */
static pp_status assemble(pp_ctx *ctx, const jw_params *p, const uint8_t *const *data,
                          const size_t *len, const uint8_t *mk, size_t mkn, pp_sink *out,
                          const char *name)
{
    size_t start[3] = {0, 0, 0}, sof = 0, app0 = 0;
    for (int s = 0; s < p->nstrips; s++) {
        size_t b = scan_start(data[s], len[s], &sof, &app0);
        size_t n = len[s];
        if (!b || n < b + 2 || data[s][n - 2] != 0xFF || data[s][n - 1] != 0xD9)
            return pp_fail(ctx, PP_ERR_ENCODE, "%s: unexpected JPEG stream from libjpeg (strip "
                           "%d)", name, s);
        if (s == 0) {
            start[0] = b;
            start[1] = sof;
            start[2] = app0;
        }
    }
    const uint8_t *h = data[0];
    sof = start[1];
    app0 = start[2];
    if (app0 > sof) return pp_fail(ctx, PP_ERR_ENCODE, "%s: unexpected JPEG headers", name);
    uint8_t height[2] = {(uint8_t)(p->height >> 8), (uint8_t)p->height};
    pp_sink_write(out, h, app0); /* SOI, JFIF */
    if (mkn) pp_sink_write(out, mk, mkn);
    pp_sink_write(out, h + app0, sof + 5 - app0); /* ... FF C0, length, precision */
    pp_sink_write(out, height, 2);
    pp_sink_write(out, h + sof + 7, start[0] - (sof + 7));
    for (int s = 0; s < p->nstrips; s++) {
        size_t b = s == 0 ? start[0] : scan_start(data[s], len[s], &sof, &app0);
        pp_sink_write(out, data[s] + b, len[s] - 2 - b);
        uint8_t marker[2] = {0xFF, s + 1 < p->nstrips ? (uint8_t)(0xD0 + s % 8) : 0xD9};
        pp_sink_write(out, marker, 2);
    }
    return out->err ? pp_sink_fail(ctx, out, name) : PP_OK;
}

/* The body of marker_bytes: a compressor whose file header is SOI alone, the markers jpeg_meta.c
   writes, then abandoned; libjpeg's failures longjmp out of it. */
static int marker_body(jw_job *job, const pp_meta *m)
{
    if (setjmp(job->trap.jmp)) return 0;
    j_compress_ptr ci = &job->cinfo;
    jpeg_create_compress(ci);
    job->dest.init_destination = dest_init;
    job->dest.empty_output_buffer = dest_flush;
    job->dest.term_destination = dest_term;
    ci->dest = &job->dest;
    ci->image_width = ci->image_height = 1;
    ci->input_components = 1;
    ci->in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(ci);
    ci->write_JFIF_header = FALSE;
    jpeg_start_compress(ci, TRUE); /* writes SOI only */
    pp_jpeg_write_meta(ci, m);
    job->len = job->cap - ci->dest->free_in_buffer;
    return 1;
}

/* The metadata markers of m as bytes, for a file assembled from strips (*out malloc()ed, NULL
   with *n 0 when m has none): what pp_jpeg_write_meta writes after SOI. */
static pp_status marker_bytes(pp_ctx *ctx, const pp_meta *m, const char *name, uint8_t **out,
                              size_t *n)
{
    *out = NULL;
    *n = 0;
    jw_job job;
    memset(&job, 0, sizeof job);
    job.grow = true;
    job.cap = (size_t)1 << 16;
    if (!(job.buf = malloc(job.cap))) return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
    pp_jpeg_init_errors(&job.err);
    job.cinfo.err = &job.err;
    job.cinfo.client_data = &job.trap;
    int ok = marker_body(&job, m);
    jpeg_destroy_compress(&job.cinfo);
    if (!ok) {
        free(job.buf);
        return pp_fail(ctx, job.trap.status, "%s: %s", name, job.trap.msg);
    }
    if (job.len > 2) { /* the markers follow SOI */
        *n = job.len - 2;
        memmove(job.buf, job.buf + 2, *n);
        *out = job.buf;
    } else {
        free(job.buf);
    }
    return PP_OK;
}

/* A failed strip's message, or a whole encode's. */
static pp_status strip_fail(pp_ctx *ctx, const jw_params *p, int s, pp_status st,
                            const char *msg, const char *name)
{
    if (p->nstrips == 1) return pp_fail(ctx, st, "%s: %s", name, msg);
    return pp_fail(ctx, st, "%s: rows %d..%d: %s", name, s * p->strip_rows,
                   strip_y1(p, s) - 1, msg);
}

pp_status pp_jpeg_encode(pp_ctx *ctx, const pp_image *img, pp_sink *out, const char *name)
{
    if (img->width > JPEG_MAX_DIMENSION || img->height > JPEG_MAX_DIMENSION)
        return pp_fail(ctx, PP_ERR_LIMIT, "%s: %dx%d is too large for JPEG (at most %d pixels "
                       "a side)", name, img->width, img->height, (int)JPEG_MAX_DIMENSION);
    jw_params p;
    memset(&p, 0, sizeof p);
    p.width = img->width;
    p.height = img->height;
    p.channels = img->channels;
    p.quality = ctx->jpeg_quality;
    p.luma_h = p.luma_v = 1;
    if (p.channels >= 3) luma_sampling(ctx->jpeg_subsample, p.quality, &p.luma_h, &p.luma_v);
    p.progressive = ctx->jpeg_progressive;
    p.optimize = ctx->jpeg_optimize;
    uint8_t dens[5];
    if (pp_jpeg_meta_density(&img->meta, dens)) { /* the JFIF density of the metadata */
        p.density = 1;
        p.density_unit = dens[0];
        p.x_density = dens[1] << 8 | dens[2];
        p.y_density = dens[3] << 8 | dens[4];
    }

    /* the strips: whole rows of MCUs, at most 65535 MCUs (the restart interval's field) */
    const int comps = p.channels <= 2 ? 1 : 3;
    const int mcu_h = 8 * p.luma_v, mcus_row = (p.width + 8 * p.luma_h - 1) / (8 * p.luma_h);
    const size_t rowbytes = (size_t)p.width * (size_t)comps;
    size_t target = ctx->jpeg_strip_bytes ? ctx->jpeg_strip_bytes : PP_JPEG_STRIP_BYTES;
    size_t rows = target / rowbytes / (size_t)mcu_h * (size_t)mcu_h;
    size_t max_rows = (size_t)(65535 / mcus_row) * (size_t)mcu_h;
    if (rows < (size_t)mcu_h) rows = (size_t)mcu_h;
    if (rows > max_rows) rows = max_rows;
    if (p.progressive || p.optimize || rows >= (size_t)p.height) rows = (size_t)p.height;
    p.strip_rows = (int)rows;
    p.nstrips = (int)(((size_t)p.height + rows - 1) / rows);
    const pp_view whole = {img->data, img->stride, img->width, img->height, img->channels, 8};

    if (p.nstrips == 1) { /* streamed to the sink from the calling thread */
        jw_job *job = calloc(1, sizeof *job);
        uint8_t *chunk = malloc(OUT_CHUNK);
        uint8_t *gray = p.channels == 2 ? malloc((size_t)p.width) : NULL;
        pp_status st = PP_OK;
        if (!job || !chunk || (p.channels == 2 && !gray)) {
            st = pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
        } else {
            job->sink = out;
            job->buf = chunk;
            job->cap = OUT_CHUNK;
            job->meta = &img->meta;
            int ok = encode_rows(job, &p, &whole, 0, p.height, gray);
            if (out->err) /* a failed sink stopped the encoder (dest_flush) or failed at its end */
                st = pp_sink_fail(ctx, out, name);
            else if (!ok)
                st = strip_fail(ctx, &p, 0, job->trap.status, job->trap.msg, name);
        }
        free(gray);
        free(chunk);
        free(job);
        return st;
    }

    p.restart = (unsigned)(mcus_row * (p.strip_rows / mcu_h));
    p.slot_bytes = (rows * rowbytes / 2 + HEADER_ROOM + PP_ALIGN - 1) & ~(size_t)(PP_ALIGN - 1);
    /* libjpeg's buffers: a few rows of MCUs of every component at the padded width */
    uint64_t padded_w = (uint64_t)mcus_row * 8u * (uint64_t)p.luma_h;
    uint64_t lib_bytes = ENCODER_FIXED_BYTES + padded_w * (uint64_t)comps * 4u * (uint64_t)mcu_h;
    pp_strips run = {.kernel = jpeg_strip_kernel, .params = &p, .params_bytes = sizeof p,
                     .nstrips = p.nstrips, .slot_bytes = p.slot_bytes,
                     .result_bytes = sizeof(jw_result),
                     .scratch_bytes = ((size_t)p.width + PP_ALIGN - 1) & ~(size_t)(PP_ALIGN - 1),
                     .worker_extra_bytes = lib_bytes, .what = "JPEG encoder buffers"};
    pp_status st = pp_strips_run(ctx, img, name, &run);
    if (st) return st;

    const uint8_t **data = calloc((size_t)p.nstrips, sizeof *data);
    size_t *len = calloc((size_t)p.nstrips, sizeof *len);
    uint8_t **again = calloc((size_t)p.nstrips, sizeof *again); /* re-encoded strips */
    uint8_t *gray = p.channels == 2 ? malloc((size_t)p.width) : NULL;
    if (!data || !len || !again || (p.channels == 2 && !gray)) {
        st = pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    const jw_result *res = (const jw_result *)(const void *)run.results;
    for (int s = 0; s < p.nstrips; s++) {
        if (res[s].status) {
            st = strip_fail(ctx, &p, s, res[s].status, res[s].msg, name);
            goto done;
        }
        data[s] = run.slots + (size_t)s * p.slot_bytes;
        len[s] = (size_t)res[s].len;
        if (!res[s].overflow) continue;
        jw_job job;
        memset(&job, 0, sizeof job);
        job.grow = true;
        job.cap = p.slot_bytes * 2;
        if (!(job.buf = malloc(job.cap))) {
            st = pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
            goto done;
        }
        int ok = encode_rows(&job, &p, &whole, s * p.strip_rows, strip_y1(&p, s), gray);
        again[s] = job.buf;
        if (!ok) {
            st = strip_fail(ctx, &p, s, job.trap.status, job.trap.msg, name);
            goto done;
        }
        data[s] = job.buf;
        len[s] = job.len;
    }
    uint8_t *mk;
    size_t mkn;
    if ((st = marker_bytes(ctx, &img->meta, name, &mk, &mkn))) goto done;
    st = assemble(ctx, &p, data, len, mk, mkn, out, name);
    free(mk);
done:
    if (again)
        for (int s = 0; s < p.nstrips; s++) free(again[s]);
    free(again);
    free(gray);
    free(len);
    free(data);
    pp_strips_free(ctx, &run);
    return st;
}
