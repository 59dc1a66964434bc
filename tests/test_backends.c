/*
 * test_backends.c - the central determinism test, the one matrix over the executors: every
 * filter of the registry gives the same bytes on serial (with forced band sizes), OpenMP and
 * fork, for every worker count 1..8 and several band sizes, on odd image sizes (1x1, 1xN, Nx1,
 * primes, sizes smaller than the kernels) and 1..4 channels, at 8 bits and, for every filter
 * that takes them, at 16 bits per channel.
 */
#include "helpers.h"
#include "internal.h"
#include "specs.h"

#include <criterion/criterion.h>
#include <stdio.h>

static const int sizes[][2] = {{1, 1}, {1, 7}, {7, 1}, {13, 17}, {257, 3}, {2, 2}, {3, 40}};
#define NSIZES ((int)(sizeof sizes / sizeof sizes[0]))

static const char *const backend_names[] = {"serial", "openmp", "fork"};

static pp_image *run(pp_ctx *ctx, const char *spec, const pp_image *in)
{
    pp_image *out = NULL;
    pp_status st = pp_apply(ctx, spec, in, &out);
    cr_assert_eq(st, PP_OK, "%s on %dx%dx%d (%s): %s", spec, pp_image_width(in),
                 pp_image_height(in), pp_image_channels(in),
                 backend_names[pp_ctx_backend(ctx)], pp_ctx_last_error(ctx));
    return out;
}

/* The matrix: every filter (each spec of specs.h), every size, 1..4 channels, against serial
   with one band; serial with forced band sizes, openmp and fork with 1..8 workers. Every band
   size for a filter's first spec, one per worker count (varying with the size) for the others. */
Test(backends, every_filter_identical_on_every_backend)
{
    pp_ctx *ref_ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    const pp_backend kinds[] = {PP_BACKEND_SERIAL, PP_BACKEND_OPENMP, PP_BACKEND_FORK};
    pp_ctx *ctx[3][9] = {{NULL}};
    for (int k = 0; k < 3; k++)
        for (int w = 1; w <= (kinds[k] == PP_BACKEND_SERIAL ? 1 : 8); w++)
            ctx[k][w] = th_ctx(kinds[k], w);
    const int bands[] = {0, 1, 3, 64};
    int checked[3] = {0, 0, 0};
    int deep = 0;
    for (int f = 0; f < pp_filter_count(); f++) {
        const char *specs[8];
        int ns = th_specs_for(pp_filter_at(f)->name, specs);
        const bool takes16 = (pp_registry_find(pp_filter_at(f)->name)->depths & PP_DEPTH_16) != 0;
        deep += takes16;
        for (int depth = 8; depth <= (takes16 ? 16 : 8); depth += 8)
        for (int s = 0; s < ns; s++)
            for (int z = 0; z < NSIZES; z++)
                for (int c = 1; c <= 4; c++) {
                    const uint32_t seed = (uint32_t)(f * 131 + z * 7 + c);
                    pp_image *in = depth == 16
                        ? th_random_image16(ref_ctx, sizes[z][0], sizes[z][1], c, seed)
                        : th_random_image(ref_ctx, sizes[z][0], sizes[z][1], c, seed);
                    pp_image *ref = run(ref_ctx, specs[s], in);
                    for (int k = 0; k < 3; k++)
                        for (int w = 1; w <= 8 && ctx[k][w]; w++)
                            for (int b = 0; b < 4; b++) {
                                if (s > 0 && b != (w + z) % 4) continue;
                                if (kinds[k] == PP_BACKEND_SERIAL && b == 0) continue; /* ref */
                                pp_ctx_set_band_rows(ctx[k][w], bands[b]);
                                pp_image *out = run(ctx[k][w], specs[s], in);
                                cr_assert(th_same(ref, out),
                                          "%s differs: %s -j %d, band rows %d, %dx%dx%d, "
                                          "%d bits", specs[s], backend_names[kinds[k]], w,
                                          bands[b], sizes[z][0], sizes[z][1], c, depth);
                                pp_image_free(out);
                                checked[k]++;
                            }
                    pp_image_free(ref);
                    pp_image_free(in);
                }
    }
    cr_log_info("results compared with serial: %d serial (forced bands), %d openmp, %d fork; "
                "%d filters also at 16 bits", checked[0], checked[1], checked[2], deep);
    for (int k = 0; k < 3; k++)
        for (int w = 1; w <= 8; w++) pp_ctx_free(ctx[k][w]);
    pp_ctx_free(ref_ctx);
}

Test(backends, larger_image_many_band_sizes)
{
    /* a bigger image where bands really split the work, with halos crossing band edges */
    pp_ctx *serial = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_ctx *omp = th_ctx(PP_BACKEND_OPENMP, 4);
    pp_image *in = th_random_image(serial, 181, 233, 3, 99);
    const char *specs[] = {"gaussian:sigma=3", "box:radius=6", "median:radius=4", "sobel",
                           "sharpen", "unsharp", "rotate:angle=90", "dilate:radius=2"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        pp_image *ref = run(serial, specs[i], in);
        for (int br = 1; br <= 50; br += 7) {
            pp_ctx_set_band_rows(omp, br);
            pp_image *out = run(omp, specs[i], in);
            cr_assert(th_same(ref, out), "%s differs with band rows %d", specs[i], br);
            pp_image_free(out);
        }
        pp_image_free(ref);
    }
    pp_image_free(in);
    pp_ctx_free(omp);
    pp_ctx_free(serial);
}

Test(backends, pipeline_matches_filter_by_filter)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 3);
    pp_image *in = th_random_image(ctx, 64, 48, 4, 5);
    pp_pipeline *pl;
    cr_assert_eq(pp_pipeline_new(ctx, &pl), PP_OK);
    cr_assert_eq(pp_pipeline_add_spec(ctx, pl, "gaussian:sigma=2"), PP_OK);
    cr_assert_eq(pp_pipeline_add_spec(ctx, pl, "sharpen"), PP_OK);
    cr_assert_eq(pp_pipeline_add_spec(ctx, pl, "rotate:angle=270"), PP_OK);
    cr_assert_eq(pp_pipeline_length(pl), 3);
    pp_image *out;
    cr_assert_eq(pp_pipeline_run(ctx, pl, in, &out), PP_OK, "%s", pp_ctx_last_error(ctx));
    pp_image *a = th_apply(ctx, "gaussian:sigma=2", in);
    pp_image *b = th_apply(ctx, "sharpen", a);
    pp_image *c = th_apply(ctx, "rotate:angle=270", b);
    cr_assert(th_same(out, c));
    cr_assert_eq(pp_image_width(out), 48);
    cr_assert_eq(pp_image_height(out), 64);
    pp_image_free(a);
    pp_image_free(b);
    pp_image_free(c);
    pp_image_free(out);
    pp_pipeline_free(pl);
    pp_image_free(in);
    pp_ctx_free(ctx);
}

Test(backends, input_is_never_modified_and_wrapped_buffers_work)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_OPENMP, 2);
    uint8_t buf[5 * 3 * 4 + 8]; /* stride 24 > 5*4 */
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 37);
    uint8_t copy[sizeof buf];
    memcpy(copy, buf, sizeof buf);
    pp_image *in;
    cr_assert_eq(pp_image_wrap(ctx, buf, 5, 3, 4, 24, &in), PP_OK);
    pp_image *out = th_apply(ctx, "gaussian", in);
    cr_assert_eq(memcmp(buf, copy, sizeof buf), 0);
    pp_image *inv = th_apply(ctx, "invert", in);
    const uint8_t *d = pp_image_data(inv);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 5; x++)
            for (int k = 0; k < 4; k++) {
                uint8_t v = buf[y * 24 + x * 4 + k];
                cr_assert_eq(d[(y * 5 + x) * 4 + k], k == 3 ? v : 255 - v);
            }
    pp_image_free(inv);
    pp_image_free(out);
    pp_image_free(in);
    pp_ctx_free(ctx);
}
