/*
 * helpers.h - small shared helpers for the Criterion tests.
 */
#ifndef PP_TEST_HELPERS_H
#define PP_TEST_HELPERS_H

#include "pixpool.h"

#include <stdint.h>

/* A context with the given backend and workers (asserts on failure). */
pp_ctx *th_ctx(pp_backend backend, int workers);
/* An image filled with deterministic pseudo-random bytes from seed. */
pp_image *th_random_image(pp_ctx *ctx, int w, int h, int c, uint32_t seed);
/* An image with the given bytes (w*h*c of them). */
pp_image *th_image_from(pp_ctx *ctx, int w, int h, int c, const uint8_t *px);
/* The same at 16 bits per channel (uniform 16-bit values). */
pp_image *th_random_image16(pp_ctx *ctx, int w, int h, int c, uint32_t seed);
/* A 16-bit image with the given samples (w*h*c of them). */
pp_image *th_image16_from(pp_ctx *ctx, int w, int h, int c, const uint16_t *px);
/* Sample k of pixel (x, y) of a 16-bit image. */
uint16_t th_px16(const pp_image *im, int x, int y, int k);
/* 1 when both images have the same geometry, depth and bytes. */
int th_same(const pp_image *a, const pp_image *b);
/* Applies one spec; asserts success. */
pp_image *th_apply(pp_ctx *ctx, const char *spec, const pp_image *in);
/* A new empty folder under /tmp named after `what` (malloc()ed path; th_rm_rf removes it). */
char *th_tmpdir(const char *what);
/* Writes text to dir/rel, creating the folders on the way (asserts on failure). */
void th_put(const char *dir, const char *rel, const char *text);
/* Removes dir and everything in it, and frees the path. */
void th_rm_rf(char *dir);

#endif
