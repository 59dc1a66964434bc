/*
 * example_wrap.c - filter pixels that another tool already holds in memory, without copying them
 * into libpixpool: wrap an existing RGBA buffer (with padded rows), run filters, copy the result
 * back into the tool's own buffer, and encode/decode through memory instead of files.
 *
 *   example_wrap [OUTDIR]     (writes OUTDIR/wrapped.png when OUTDIR is given)
 *
 * Every step is checked: the caller's buffer is never modified by the filters, "invert" gives
 * 255 - v on colour and keeps alpha, and a PNG encoded in memory decodes to the same pixels.
 * Exit status 0 on success, 1 on any failure.
 */
#include <pixpool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { W = 300, H = 200, C = 4 };
#define STRIDE ((size_t)W * C + 64) /* rows padded, as in many toolkits' surfaces */

/* A pixel of the host tool's picture: gradients, a stripe pattern and a varying alpha. */
static void host_pixel(int x, int y, uint8_t px[4])
{
    px[0] = (uint8_t)(x * 255 / (W - 1));
    px[1] = (uint8_t)(y * 255 / (H - 1));
    px[2] = (uint8_t)(((x / 10 + y / 10) & 1) ? 200 : 40);
    px[3] = (uint8_t)(128 + (x + y) % 128);
}

static int check(int ok, const char *what)
{
    if (!ok) fprintf(stderr, "example_wrap: check failed: %s\n", what);
    return ok;
}

int main(int argc, char **argv)
{
    const char *outdir = argc > 1 ? argv[1] : NULL;
    int rc = 1;
    pp_ctx *ctx = pp_ctx_new();
    uint8_t *host = malloc(STRIDE * H);     /* the host tool's buffer: it owns it */
    uint8_t *original = malloc(STRIDE * H); /* a copy, to prove the input is left alone */
    pp_image *view = NULL, *inverted = NULL, *blurred = NULL, *decoded = NULL;
    void *png = NULL;
    size_t png_size = 0;
    pp_status st = PP_OK;
    if (!ctx || !host || !original) {
        fprintf(stderr, "example_wrap: out of memory\n");
        goto done;
    }
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) host_pixel(x, y, host + (size_t)y * STRIDE + (size_t)x * C);
        memset(host + (size_t)y * STRIDE + (size_t)W * C, 0xEE, STRIDE - (size_t)W * C); /* pad */
    }
    memcpy(original, host, STRIDE * H);

    /* Wrap: no copy; `host` must outlive `view`, and pixpool never frees it. */
    if ((st = pp_image_wrap(ctx, host, W, H, C, STRIDE, &view))) goto fail;
    if (!check(pp_image_data(view) == host && pp_image_stride(view) == STRIDE, "wrap is a view"))
        goto done;

    /* Filters read the wrapped pixels and return new images. */
    if ((st = pp_apply(ctx, "invert", view, &inverted))) goto fail;
    if ((st = pp_apply(ctx, "gaussian:sigma=1.5", view, &blurred))) goto fail;
    if (!check(memcmp(host, original, STRIDE * H) == 0, "the wrapped input is unchanged"))
        goto done;
    if (!check(pp_image_width(inverted) == W && pp_image_height(inverted) == H &&
                   pp_image_channels(inverted) == C,
               "output geometry"))
        goto done;
    for (int y = 0; y < H; y++) {
        const uint8_t *a = host + (size_t)y * STRIDE;
        const uint8_t *b = pp_image_data(inverted) + (size_t)y * pp_image_stride(inverted);
        for (int x = 0; x < W * C; x++) {
            int want = x % C == 3 ? a[x] : 255 - a[x];
            if (b[x] != want) {
                fprintf(stderr, "example_wrap: invert at (%d,%d) channel %d: %d, expected %d\n",
                        x / C, y, x % C, b[x], want);
                goto done;
            }
        }
    }

    /* Copy a result back into the host's buffer, row by row (its stride differs). */
    for (int y = 0; y < H; y++)
        memcpy(host + (size_t)y * STRIDE,
               pp_image_data(blurred) + (size_t)y * pp_image_stride(blurred), (size_t)W * C);
    if (!check(host[(size_t)W * C] == 0xEE, "the row padding is untouched")) goto done;

    /* Encode to memory and decode it again: PNG is lossless. */
    if ((st = pp_save_mem(ctx, view, PP_FORMAT_PNG, &png, &png_size))) goto fail;
    if ((st = pp_load_mem(ctx, png, png_size, "wrapped.png (memory)", &decoded))) goto fail;
    if (!check(pp_image_channels(decoded) == C && pp_image_width(decoded) == W, "decoded size"))
        goto done;
    for (int y = 0; y < H; y++) {
        if (memcmp(pp_image_data(decoded) + (size_t)y * pp_image_stride(decoded),
                   host + (size_t)y * STRIDE, (size_t)W * C) != 0) {
            fprintf(stderr, "example_wrap: decoded PNG row %d differs\n", y);
            goto done;
        }
    }

    if (outdir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/wrapped.png", outdir);
        if ((st = pp_save(ctx, inverted, path))) goto fail;
        printf("wrote %s\n", path);
    }
    printf("wrapped %dx%d RGBA (stride %zu) without copying; %zu-byte PNG in memory; all checks "
           "passed\n",
           W, H, (size_t)STRIDE, png_size);
    rc = 0;
    goto done;

fail:
    fprintf(stderr, "example_wrap: %s (%s)\n", pp_ctx_last_error(ctx), pp_strerror(st));
done:
    pp_image_free(decoded);
    free(png); /* pp_save_mem's buffer is malloc()ed */
    pp_image_free(blurred);
    pp_image_free(inverted);
    pp_image_free(view); /* frees the wrapper only: `host` is still ours */
    free(original);
    free(host);
    pp_ctx_free(ctx);
    return rc;
}
