/*
 * codec.c - what the codecs share below io.c: format names, the output sink they write to and
 * the allocation of a decoded image. io.c calls the codecs, the codecs call this file, never io.c.
 */
#include "codec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- format names ----------------------------------------------------------------------- */

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
    case PP_FORMAT_TIFF: return "tiff";
    case PP_FORMAT_UNKNOWN: break;
    }
    return "unknown";
}

/* Allocates a decoded image where the context's executor can see it; a failure's message is
   prefixed by the file name. */
pp_status pp_codec_alloc_image(pp_ctx *ctx, const char *name, int w, int h, int c,
                               pp_image **out)
{
    return pp_codec_alloc_image_depth(ctx, name, w, h, c, 8, out);
}

pp_status pp_codec_alloc_image_depth(pp_ctx *ctx, const char *name, int w, int h, int c,
                                     int depth, pp_image **out)
{
    pp_status st = pp_image_alloc_depth(ctx, pp_executor_for(ctx->backend), w, h, c, depth, out);
    if (st) {
        char why[PP_ERRMSG_MAX];
        snprintf(why, sizeof why, "%s", ctx->errmsg[0] ? ctx->errmsg : pp_strerror(st));
        pp_fail(ctx, st, "%s: %s", name, why);
    }
    return st;
}

/* ---- output sinks ------------------------------------------------------------------------ */

void pp_sink_write(pp_sink *s, const void *p, size_t n)
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
pp_status pp_sink_fail(pp_ctx *ctx, const pp_sink *s, const char *name)
{
    if (s->err == ENOMEM && !s->f) return pp_fail(ctx, PP_ERR_NOMEM, "%s: out of memory", name);
    return pp_fail(ctx, PP_ERR_IO, "%s: %s", name, strerror(s->err));
}
