/*
 * test_resize.c - the resize loops: the scalar loops and the SIMD ones (AVX2, AVX-512, picked at
 * run time) give the same bytes, for shrinking and enlarging, every kernel, 1..4 channels, widths
 * from 1 up (windows that run past the row's end, groups cut short), and on every backend.
 * PIXPOOL_RESIZE_ISA=scalar|avx2|avx512 (read when a resize is planned) caps the loops used; a
 * level the CPU lacks falls back to the best it has, so the test passes, comparing less, anywhere.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const isas[] = {"avx2", "avx512"};
#define NISAS ((int)(sizeof isas / sizeof isas[0]))

static const char *const specs[] = {
    "resize:scale=0.5",
    "resize:scale=0.5,method=bicubic",
    "resize:scale=0.5,method=bilinear",
    "resize:scale=0.37",
    "resize:scale=0.23,method=bicubic",
    "resize:scale=0.1",
    "resize:scale=0.02",
    "resize:scale=1.7",
    "resize:scale=2,method=bicubic",
    "resize:scale=3,method=bilinear",
    "resize:scale=4.3",
    "resize:width=7,height=5",
    "resize:width=1,height=9",
    "resize:width=3",
    "resize:height=11,method=bicubic",
};
#define NSPECS ((int)(sizeof specs / sizeof specs[0]))

static const int sizes[][2] = {{1, 1}, {2, 3}, {5, 4}, {17, 9}, {64, 13}, {131, 29}, {300, 21}};
#define NSIZES ((int)(sizeof sizes / sizeof sizes[0]))

/* The result of spec under the given loops; NULL (if may_fail) when the target size is invalid
   for this input (a scale that leaves no pixel). */
static pp_image *try_isa(pp_ctx *ctx, const char *isa, const char *spec, const pp_image *in,
                         int may_fail)
{
    cr_assert_eq(setenv("PIXPOOL_RESIZE_ISA", isa, 1), 0);
    pp_image *out = NULL;
    pp_status st = pp_apply(ctx, spec, in, &out);
    unsetenv("PIXPOOL_RESIZE_ISA");
    if (may_fail && st == PP_ERR_SPEC) return NULL;
    cr_assert_eq(st, PP_OK, "%s (%s) on %dx%dx%d: %s", spec, isa, pp_image_width(in),
                 pp_image_height(in), pp_image_channels(in), pp_ctx_last_error(ctx));
    return out;
}

static pp_image *apply_isa(pp_ctx *ctx, const char *isa, const char *spec, const pp_image *in)
{
    return try_isa(ctx, isa, spec, in, 0);
}

Test(resize, simd_loops_match_scalar)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    int checked = 0;
    for (int z = 0; z < NSIZES; z++)
        for (int c = 1; c <= 4; c++) {
            pp_image *in = th_random_image(ctx, sizes[z][0], sizes[z][1], c, (uint32_t)(z * 11 + c));
            for (int s = 0; s < NSPECS; s++) {
                pp_image *ref = try_isa(ctx, "scalar", specs[s], in, 1);
                if (!ref) continue; /* too small for this scale */
                for (int i = 0; i < NISAS; i++) {
                    pp_image *out = apply_isa(ctx, isas[i], specs[s], in);
                    cr_assert(th_same(ref, out), "%s: %s differs from scalar on %dx%dx%d", specs[s],
                              isas[i], sizes[z][0], sizes[z][1], c);
                    pp_image_free(out);
                    checked++;
                }
                pp_image_free(ref);
            }
            pp_image_free(in);
        }
    cr_log_info("%d SIMD results compared with scalar", checked);
    pp_ctx_free(ctx);
}

Test(resize, large_image_every_backend)
{
    /* big enough for many full groups and bands; shrink and enlarge, 3 and 4 channels */
    pp_ctx *serial = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_ctx *omp = th_ctx(PP_BACKEND_OPENMP, 3);
    pp_ctx *fork = th_ctx(PP_BACKEND_FORK, 2);
    const char *big[] = {"resize:scale=0.5", "resize:scale=0.37,method=bilinear",
                         "resize:scale=1.6,method=bicubic", "resize:width=150,height=333"};
    for (int c = 3; c <= 4; c++) {
        pp_image *in = th_random_image(serial, 611, 233, c, 77u + (uint32_t)c);
        for (size_t s = 0; s < sizeof big / sizeof big[0]; s++) {
            pp_image *ref = apply_isa(serial, "scalar", big[s], in);
            for (int i = 0; i < NISAS; i++) {
                pp_ctx *ctxs[] = {serial, omp, fork};
                for (int k = 0; k < 3; k++) {
                    pp_ctx_set_band_rows(ctxs[k], k == 0 ? 0 : 7 + 5 * k);
                    pp_image *out = apply_isa(ctxs[k], isas[i], big[s], in);
                    cr_assert(th_same(ref, out), "%s: %s on backend %d differs from scalar",
                              big[s], isas[i], k);
                    pp_image_free(out);
                }
            }
            pp_image_free(ref);
        }
        pp_image_free(in);
    }
    pp_ctx_free(fork);
    pp_ctx_free(omp);
    pp_ctx_free(serial);
}
