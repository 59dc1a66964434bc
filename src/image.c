/*
 * image.c - image allocation, wrapping and accessors; overflow-checked size arithmetic and the
 * checks of the pixel and memory limits.
 */
#include "internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "1.5 GiB (1610612736 bytes)", or without the exact count "1.5 GiB", into buf (messages). */
static const char *human_bytes(uint64_t v, bool exact, char *buf, size_t len)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double d = (double)v;
    int u = 0;
    while (d >= 1024.0 && u < 6) {
        d /= 1024.0;
        u++;
    }
    if (u == 0) snprintf(buf, len, "%llu bytes", (unsigned long long)v);
    else if (!exact) snprintf(buf, len, "%.1f %s", d, units[u]);
    else snprintf(buf, len, "%.1f %s (%llu bytes)", d, units[u], (unsigned long long)v);
    return buf;
}

pp_status pp_check_memory(pp_ctx *ctx, const char *what, uint64_t held, uint64_t more,
                          const char *purpose)
{
    uint64_t total = more > UINT64_MAX - held ? UINT64_MAX : held + more;
    if (total <= ctx->max_memory) return PP_OK;
    char need[64], lim[64], had[64];
    human_bytes(total, true, need, sizeof need);
    human_bytes(ctx->max_memory, true, lim, sizeof lim);
    if (held == 0)
        return pp_fail(ctx, PP_ERR_LIMIT,
                       "%s: %s of %s needed, over the memory limit (pp_ctx_set_max_memory, "
                       "--max-memory) of %s",
                       what, need, purpose, lim);
    human_bytes(held, false, had, sizeof had);
    return pp_fail(ctx, PP_ERR_LIMIT,
                   "%s: %s of %s needed (%s of them already held), over the memory limit "
                   "(pp_ctx_set_max_memory, --max-memory) of %s",
                   what, need, purpose, had, lim);
}

/* The checks of pp_check_size; the memory limit only when `memory` (a wrapped buffer is not
   allocated by the library). */
static pp_status check_size(pp_ctx *ctx, const char *what, int64_t width, int64_t height,
                            int channels, int depth, size_t *bytes_out, bool memory)
{
    if (depth != 8 && depth != 16)
        return pp_fail(ctx, PP_ERR_INVALID, "%s: %d bits per channel (8 or 16 supported)", what,
                       depth);
    const uint64_t bps = (uint64_t)depth / 8u;
    if (width <= 0 || height <= 0)
        return pp_fail(ctx, PP_ERR_INVALID, "%s: invalid size %lldx%lld", what, (long long)width,
                       (long long)height);
    if (channels < 1 || channels > 4)
        return pp_fail(ctx, PP_ERR_INVALID, "%s: %d channels (1..4 supported)", what, channels);
    if (width > INT32_MAX / 4 || height > INT32_MAX / 4)
        return pp_fail(ctx, PP_ERR_LIMIT, "%s: %lldx%lld exceeds the largest dimension (%d)",
                       what, (long long)width, (long long)height, INT32_MAX / 4);
    uint64_t pixels = (uint64_t)width * (uint64_t)height; /* < 2^62: no overflow */
    if (pixels > ctx->max_pixels)
        return pp_fail(ctx, PP_ERR_LIMIT, "%s: %lldx%lld is %llu pixels, over the limit of %llu",
                       what, (long long)width, (long long)height, (unsigned long long)pixels,
                       (unsigned long long)ctx->max_pixels);
    if (pixels > SIZE_MAX / 8 / (uint64_t)channels)
        return pp_fail(ctx, PP_ERR_LIMIT, "%s: too large for this machine", what);
    if (memory) {
        pp_status st = pp_check_memory(ctx, what, 0, pixels * (uint64_t)channels * bps, "pixels");
        if (st) return st;
    }
    if (bytes_out) *bytes_out = (size_t)(pixels * (uint64_t)channels * bps);
    return PP_OK;
}

pp_status pp_check_size(pp_ctx *ctx, const char *what, int64_t width, int64_t height,
                        int channels, size_t *bytes_out)
{
    return check_size(ctx, what, width, height, channels, 8, bytes_out, true);
}

pp_status pp_check_size_depth(pp_ctx *ctx, const char *what, int64_t width, int64_t height,
                              int channels, int depth, size_t *bytes_out)
{
    return check_size(ctx, what, width, height, channels, depth, bytes_out, true);
}

pp_status pp_image_alloc_depth(pp_ctx *ctx, const pp_executor *ex, int width, int height,
                               int channels, int depth, pp_image **out)
{
    *out = NULL;
    size_t bytes = 0;
    pp_status st = pp_check_size_depth(ctx, "image", width, height, channels, depth, &bytes);
    if (st) return st;
    pp_image *im = calloc(1, sizeof *im);
    if (!im) return pp_fail(ctx, PP_ERR_NOMEM, "out of memory");
    if (ex->alloc(ctx, bytes ? bytes : 1, &im->block)) {
        free(im);
        if (ctx->errmsg[0]) return PP_ERR_NOMEM; /* the executor said why */
        return pp_fail(ctx, PP_ERR_NOMEM, "out of memory allocating %dx%dx%d", width, height,
                       channels);
    }
    im->width = width;
    im->height = height;
    im->channels = channels;
    im->depth = depth;
    im->stride = (size_t)width * (size_t)channels * (size_t)(depth / 8);
    im->data = im->block.data;
    *out = im;
    return PP_OK;
}

pp_status pp_image_alloc(pp_ctx *ctx, const pp_executor *ex, int width, int height, int channels,
                         pp_image **out)
{
    return pp_image_alloc_depth(ctx, ex, width, height, channels, 8, out);
}

pp_status pp_image_new(pp_ctx *ctx, int width, int height, int channels, pp_image **out)
{
    return pp_image_new_depth(ctx, width, height, channels, 8, out);
}

pp_status pp_image_new_depth(pp_ctx *ctx, int width, int height, int channels, int depth,
                             pp_image **out)
{
    if (!ctx) return PP_ERR_INVALID;
    pp_clear_error(ctx);
    if (!out) return pp_fail(ctx, PP_ERR_INVALID, "pp_image_new: out is NULL");
    pp_status st = pp_image_alloc_depth(ctx, pp_executor_for(ctx->backend), width, height,
                                        channels, depth, out);
    if (st) return st;
    memset((*out)->data, 0, (*out)->block.bytes);
    return PP_OK;
}

pp_status pp_image_wrap(pp_ctx *ctx, void *data, int width, int height, int channels,
                        size_t stride, pp_image **out)
{
    return pp_image_wrap_depth(ctx, data, width, height, channels, 8, stride, out);
}

pp_status pp_image_wrap_depth(pp_ctx *ctx, void *data, int width, int height, int channels,
                              int depth, size_t stride, pp_image **out)
{
    if (out) *out = NULL;
    if (!ctx) return PP_ERR_INVALID;
    pp_clear_error(ctx);
    if (!out) return pp_fail(ctx, PP_ERR_INVALID, "pp_image_wrap: out is NULL");
    if (!data) return pp_fail(ctx, PP_ERR_INVALID, "pp_image_wrap: data is NULL");
    /* nothing is allocated: the pixel limit applies, the memory limit does not */
    pp_status st = check_size(ctx, "image", width, height, channels, depth, NULL, false);
    if (st) return st;
    size_t row = (size_t)width * (size_t)channels * (size_t)(depth / 8);
    if (stride == 0) stride = row;
    if (stride < row)
        return pp_fail(ctx, PP_ERR_INVALID, "pp_image_wrap: stride %zu is less than %zu", stride,
                       row);
    if (depth == 16 && (stride % 2 || ((uintptr_t)data & 1)))
        return pp_fail(ctx, PP_ERR_INVALID,
                       "pp_image_wrap: 16-bit pixels need an even stride and address");
    /* every row must be addressable: (height - 1) * stride + row bytes without overflow */
    if (height > 1 && stride > (PTRDIFF_MAX - row) / (size_t)(height - 1))
        return pp_fail(ctx, PP_ERR_INVALID,
                       "pp_image_wrap: stride %zu x %d rows overflows the address space", stride,
                       height);
    pp_image *im = calloc(1, sizeof *im);
    if (!im) return pp_fail(ctx, PP_ERR_NOMEM, "out of memory");
    im->width = width;
    im->height = height;
    im->channels = channels;
    im->depth = depth;
    im->stride = stride;
    im->data = data; /* im->block stays empty: the caller's buffer */
    *out = im;
    return PP_OK;
}

void pp_image_free(pp_image *im)
{
    if (!im) return;
    pp_block_release(&im->block); /* drops the block's reference on its heap or arena */
    pp_meta_clear(&im->meta);
    free(im);
}

int pp_image_width(const pp_image *im) { return im->width; }
int pp_image_height(const pp_image *im) { return im->height; }
int pp_image_channels(const pp_image *im) { return im->channels; }
int pp_image_depth(const pp_image *im) { return im->depth; }
size_t pp_image_stride(const pp_image *im) { return im->stride; }
uint8_t *pp_image_data(pp_image *im) { return im->data; }
