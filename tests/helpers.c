/*
 * helpers.c - shared helpers for the Criterion tests.
 */
#define _GNU_SOURCE /* mkdtemp */
#include "helpers.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pp_ctx *th_ctx(pp_backend backend, int workers)
{
    pp_ctx *ctx = pp_ctx_new();
    cr_assert_not_null(ctx);
    cr_assert_eq(pp_ctx_set_backend(ctx, backend), PP_OK);
    cr_assert_eq(pp_ctx_set_workers(ctx, workers), PP_OK);
    return ctx;
}

pp_image *th_random_image(pp_ctx *ctx, int w, int h, int c, uint32_t seed)
{
    pp_image *im = NULL;
    cr_assert_eq(pp_image_new(ctx, w, h, c, &im), PP_OK, "%s", pp_ctx_last_error(ctx));
    uint8_t *d = pp_image_data(im);
    uint32_t s = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < (size_t)w * h * c; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        d[i] = (uint8_t)(s >> 7);
    }
    return im;
}

pp_image *th_image_from(pp_ctx *ctx, int w, int h, int c, const uint8_t *px)
{
    pp_image *im = NULL;
    cr_assert_eq(pp_image_new(ctx, w, h, c, &im), PP_OK, "%s", pp_ctx_last_error(ctx));
    memcpy(pp_image_data(im), px, (size_t)w * h * c);
    return im;
}

pp_image *th_random_image16(pp_ctx *ctx, int w, int h, int c, uint32_t seed)
{
    pp_image *im = NULL;
    cr_assert_eq(pp_image_new_depth(ctx, w, h, c, 16, &im), PP_OK, "%s", pp_ctx_last_error(ctx));
    uint16_t *d = (uint16_t *)(void *)pp_image_data(im);
    uint32_t s = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < (size_t)w * h * c; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        d[i] = (uint16_t)(s >> 9);
    }
    return im;
}

pp_image *th_image16_from(pp_ctx *ctx, int w, int h, int c, const uint16_t *px)
{
    pp_image *im = NULL;
    cr_assert_eq(pp_image_new_depth(ctx, w, h, c, 16, &im), PP_OK, "%s", pp_ctx_last_error(ctx));
    memcpy(pp_image_data(im), px, (size_t)w * h * c * 2);
    return im;
}

uint16_t th_px16(const pp_image *im, int x, int y, int k)
{
    const uint8_t *row = pp_image_data((pp_image *)im) + (size_t)y * pp_image_stride(im);
    return ((const uint16_t *)(const void *)row)[(size_t)x * pp_image_channels(im) + k];
}

int th_same(const pp_image *a, const pp_image *b)
{
    int w = pp_image_width(a), h = pp_image_height(a), c = pp_image_channels(a);
    if (w != pp_image_width(b) || h != pp_image_height(b) || c != pp_image_channels(b) ||
        pp_image_depth(a) != pp_image_depth(b))
        return 0;
    size_t row = (size_t)w * c * (size_t)(pp_image_depth(a) / 8);
    for (int y = 0; y < h; y++)
        if (memcmp(pp_image_data((pp_image *)a) + (size_t)y * pp_image_stride(a),
                   pp_image_data((pp_image *)b) + (size_t)y * pp_image_stride(b), row))
            return 0;
    return 1;
}

pp_image *th_apply(pp_ctx *ctx, const char *spec, const pp_image *in)
{
    pp_image *out = NULL;
    pp_status st = pp_apply(ctx, spec, in, &out);
    cr_assert_eq(st, PP_OK, "%s: %s", spec, pp_ctx_last_error(ctx));
    return out;
}

char *th_tmpdir(const char *what)
{
    char tmpl[256];
    snprintf(tmpl, sizeof tmpl, "/tmp/pp-test-%s-XXXXXX", what);
    char *d = strdup(tmpl);
    cr_assert_not_null(d);
    cr_assert_not_null(mkdtemp(d), "mkdtemp: %s", strerror(errno));
    return d;
}

void th_put(const char *dir, const char *rel, const char *text)
{
    char path[4096], cmd[4200];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    cr_assert_eq(system(cmd), 0);
    *slash = '/';
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

void th_rm_rf(char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    free(dir);
}
