/*
 * fuzz_load.c - fuzz target: decoding arbitrary bytes (every format pixpool reads).
 *
 * For each input: pp_load_mem must give either a well-formed image or a clean error (status
 * FORMAT, DECODE, LIMIT or NOMEM, NULL image, a message naming the input); pp_info, which reads
 * the same bytes from a file (a memfd reached through /proc/self/fd), must agree with it: same
 * size and channels when the image decodes, "not a format" exactly when the load says so.
 * A small decoded image is also encoded in every writable format, and its PNG must decode to
 * the same pixels and give back its metadata blobs byte for byte (JPEG those it can hold); the
 * metadata must be well formed and pp_auto_orient must give orientation 1 at the right size.
 * Limits are small (2^20 pixels, 256 MiB) so that headers claiming huge images are refused
 * cheaply, as they must be, before any allocation.
 */
#define _GNU_SOURCE
#include "fuzz.h"
#include "pixpool.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NAME "fuzz-input"
#define MAX_PIXELS ((uint64_t)1 << 20)
#define MAX_MEMORY ((uint64_t)256 << 20)
#define ROUND_TRIP_PIXELS 4096

static pp_ctx *ctx;
static int info_fd = -1;
static char info_path[64];

static void setup(void)
{
    if (ctx) return;
    ctx = pp_ctx_new();
    if (!ctx) pp_fuzz_fail("load", "pp_ctx_new failed");
    pp_ctx_set_backend(ctx, PP_BACKEND_SERIAL);
    pp_ctx_set_max_pixels(ctx, MAX_PIXELS);
    pp_ctx_set_max_memory(ctx, MAX_MEMORY);
    info_fd = memfd_create("pixpool-fuzz", MFD_CLOEXEC);
    if (info_fd < 0) pp_fuzz_fail("load", "memfd_create failed");
    snprintf(info_path, sizeof info_path, "/proc/self/fd/%d", info_fd);
}

/* Reads every pixel, so that a decoder that reports success over memory it did not fill or
   own shows up under the sanitizers. */
static unsigned checksum(pp_image *img)
{
    unsigned sum = 0;
    const int w = pp_image_width(img), h = pp_image_height(img), c = pp_image_channels(img);
    for (int y = 0; y < h; y++) {
        const uint8_t *row = pp_image_data(img) + (size_t)y * pp_image_stride(img);
        for (size_t i = 0; i < (size_t)w * (size_t)c * (size_t)(pp_image_depth(img) / 8); i++)
            sum = sum * 31u + row[i];
    }
    return sum;
}

static void check_error(pp_status st, pp_image *img)
{
    if (img) pp_fuzz_fail("load", "status %d but an image was returned", (int)st);
    if (st != PP_ERR_FORMAT && st != PP_ERR_DECODE && st != PP_ERR_LIMIT && st != PP_ERR_NOMEM)
        pp_fuzz_fail("load", "unexpected status %d (%s): %s", (int)st, pp_strerror(st),
                     pp_ctx_last_error(ctx));
    const char *msg = pp_ctx_last_error(ctx);
    if (strncmp(msg, NAME ": ", strlen(NAME) + 2) != 0 || strlen(msg) <= strlen(NAME) + 2)
        pp_fuzz_fail("load", "status %d with a message that does not name the input: '%s'",
                     (int)st, msg);
}

/* The image's metadata is well formed, and auto-orient gives orientation 1 at the right size. */
static void check_meta(pp_image *img)
{
    int n = pp_image_meta_count(img);
    if (n < 0 || n > 32) pp_fuzz_fail("load", "%d metadata blobs", n);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        const char *name = pp_image_meta_name(img, i);
        size_t size;
        const uint8_t *p = name ? pp_image_meta(img, name, &size) : NULL;
        if (!p || size > ((size_t)32 << 20)) pp_fuzz_fail("load", "metadata blob %d malformed", i);
        unsigned sum = 0;
        for (size_t k = 0; k < size; k++) sum += p[k]; /* all of it readable */
        volatile unsigned sink = sum;
        (void)sink;
        total += size;
    }
    if (total > ((size_t)64 << 20)) pp_fuzz_fail("load", "%zu bytes of metadata", total);
    int o = pp_image_orientation(img);
    if (o < 1 || o > 8) pp_fuzz_fail("load", "orientation %d", o);
    if ((uint64_t)pp_image_width(img) * pp_image_height(img) > ROUND_TRIP_PIXELS) return;
    pp_image *up = NULL;
    pp_status st = pp_auto_orient(ctx, img, &up);
    if (st) pp_fuzz_fail("load", "pp_auto_orient failed: %s", pp_ctx_last_error(ctx));
    int w = o >= 5 ? pp_image_height(img) : pp_image_width(img);
    int h = o >= 5 ? pp_image_width(img) : pp_image_height(img);
    if (pp_image_orientation(up) != 1 || pp_image_width(up) != w || pp_image_height(up) != h)
        pp_fuzz_fail("load", "auto-orient of orientation %d gave %dx%d, orientation %d", o,
                     pp_image_width(up), pp_image_height(up), pp_image_orientation(up));
    pp_image_free(up);
}

/* Whether a's blob `name`, when it has one of at most `max` bytes, came back in b the same. */
static bool kept(const pp_image *a, const pp_image *b, const char *name, size_t max)
{
    size_t an, bn;
    const void *ap = pp_image_meta(a, name, &an), *bp = pp_image_meta(b, name, &bn);
    if (!ap || an == 0 || an > max) return true;
    return bp && an == bn && memcmp(ap, bp, an) == 0;
}

/* The blobs a format writes come back from it byte for byte. */
static void check_meta_round_trip(const pp_image *img, const pp_image *back, pp_format fmt)
{
    const char *lost = NULL;
    if (fmt == PP_FORMAT_PNG) {
        static const char *const names[] = {"icc", "exif", "xmp", "png:gAMA", "png:cHRM",
                                            "png:pHYs"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (!kept(img, back, names[i], SIZE_MAX)) lost = names[i];
        if (!pp_image_meta(img, "icc", NULL) && !kept(img, back, "png:sRGB", SIZE_MAX))
            lost = "png:sRGB"; /* (an iCCP takes its place) */
    } else if (fmt == PP_FORMAT_JPEG) {
        if (!kept(img, back, "icc", (size_t)255 * 65519)) lost = "icc";
        if (!kept(img, back, "exif", 65527)) lost = "exif";
        if (!kept(img, back, "xmp", 65504)) lost = "xmp";
    }
    if (lost) pp_fuzz_fail("load", "%s round trip changed the metadata blob '%s'",
                           pp_format_name(fmt), lost);
}

/* Encodes the image in each writable format and decodes the result; PNG must round-trip. */
static void round_trip(pp_image *img)
{
    static const pp_format fmts[] = {PP_FORMAT_PNG, PP_FORMAT_BMP, PP_FORMAT_TGA,
                                     PP_FORMAT_JPEG};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        void *buf = NULL;
        size_t size = 0;
        pp_status st = pp_save_mem(ctx, img, fmts[i], &buf, &size);
        if (st) pp_fuzz_fail("load", "encoding %s failed: %s", pp_format_name(fmts[i]),
                             pp_ctx_last_error(ctx));
        pp_image *back = NULL;
        st = pp_load_mem(ctx, buf, size, "round-trip", &back);
        free(buf);
        if (st) pp_fuzz_fail("load", "decoding our own %s failed: %s", pp_format_name(fmts[i]),
                             pp_ctx_last_error(ctx));
        if (pp_image_width(back) != pp_image_width(img) ||
            pp_image_height(back) != pp_image_height(img))
            pp_fuzz_fail("load", "%s round trip changed the size", pp_format_name(fmts[i]));
        if (fmts[i] == PP_FORMAT_PNG &&
            (pp_image_channels(back) != pp_image_channels(img) || checksum(back) != checksum(img)))
            pp_fuzz_fail("load", "PNG round trip changed the pixels");
        check_meta_round_trip(img, back, fmts[i]);
        pp_image_free(back);
    }
}

int pp_fuzz_load(const uint8_t *data, size_t size)
{
    setup();
    pp_image *img = NULL;
    pp_status st = pp_load_mem(ctx, data, size, NAME, &img);
    int w = 0, h = 0, c = 0;
    if (st == PP_OK) {
        if (!img) pp_fuzz_fail("load", "PP_OK without an image");
        w = pp_image_width(img), h = pp_image_height(img), c = pp_image_channels(img);
        const int bps = pp_image_depth(img) / 8;
        if (w < 1 || h < 1 || c < 1 || c > 4 ||
            (pp_image_depth(img) != 8 && pp_image_depth(img) != 16) ||
            pp_image_stride(img) < (size_t)w * (size_t)c * (size_t)bps)
            pp_fuzz_fail("load", "malformed image %dx%dx%d stride %zu", w, h, c,
                         pp_image_stride(img));
        if ((uint64_t)w * (uint64_t)h > MAX_PIXELS)
            pp_fuzz_fail("load", "%dx%d decoded over the pixel limit", w, h);
        volatile unsigned sum = checksum(img);
        (void)sum;
    } else {
        check_error(st, img);
    }

    /* the header path, through a file */
    if (ftruncate(info_fd, 0) != 0 ||
        (size > 0 && pwrite(info_fd, data, size, 0) != (ssize_t)size))
        pp_fuzz_fail("load", "cannot write the memfd");
    pp_image_info info;
    pp_status ist = pp_info(ctx, info_path, &info);
    if (ist == PP_OK) {
        if (info.width < 1 || info.height < 1 || info.channels < 1 || info.channels > 4 ||
            info.format == PP_FORMAT_UNKNOWN)
            pp_fuzz_fail("load", "pp_info gave %dx%d, %d channels, format %d", info.width,
                         info.height, info.channels, (int)info.format);
    } else if (ist != PP_ERR_FORMAT && ist != PP_ERR_DECODE && ist != PP_ERR_LIMIT) {
        pp_fuzz_fail("load", "pp_info: unexpected status %d: %s", (int)ist, pp_ctx_last_error(ctx));
    }
    if (st == PP_OK && (ist != PP_OK || info.width != w || info.height != h || info.channels != c))
        pp_fuzz_fail("load", "decoded %dx%dx%d but pp_info says status %d, %dx%dx%d", w, h, c,
                     (int)ist, info.width, info.height, info.channels);
    if ((st == PP_ERR_FORMAT) != (ist == PP_ERR_FORMAT))
        pp_fuzz_fail("load", "pp_load_mem says %d, pp_info says %d", (int)st, (int)ist);

    if (st == PP_OK) check_meta(img);
    if (st == PP_OK && (uint64_t)w * (uint64_t)h <= ROUND_TRIP_PIXELS) round_trip(img);
    pp_image_free(img);
    return 0;
}

#ifndef PP_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return pp_fuzz_load(data, size); }
#endif
