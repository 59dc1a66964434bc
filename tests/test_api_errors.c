/*
 * test_api_errors.c - every failing library call with a context leaves a message in
 * pp_ctx_last_error (issue 18: pp_apply with a NULL input returned PP_ERR_INVALID and an empty
 * message). Each call is made after a different failure, so a stale message does not pass.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "pixpool.h"

static pp_ctx *ctx;
static pp_image *img;

static void setup(void)
{
    ctx = pp_ctx_new();
    cr_assert_not_null(ctx);
    pp_ctx_set_backend(ctx, PP_BACKEND_SERIAL);
    cr_assert_eq(pp_image_new(ctx, 4, 3, 3, &img), PP_OK);
}

static void teardown(void)
{
    pp_image_free(img);
    pp_ctx_free(ctx);
}

/* a failure that leaves a known message, so the next check sees a fresh one */
static void stale(void)
{
    cr_assert_eq(pp_load(ctx, "/nonexistent/stale.png", &(pp_image *){0}), PP_ERR_IO);
    cr_assert(strstr(pp_ctx_last_error(ctx), "stale.png"));
}

#define FAILS_WITH_MESSAGE(call, want)                                                         \
    do {                                                                                       \
        stale();                                                                               \
        pp_status st_ = (call);                                                                \
        cr_assert_eq(st_, (want), "%s returned %d", #call, (int)st_);                        \
        const char *m_ = pp_ctx_last_error(ctx);                                               \
        cr_assert(m_ && *m_ && !strstr(m_, "stale.png"), "%s left the message '%s'", #call,   \
                  m_ ? m_ : "(null)");                                                         \
    } while (0)

TestSuite(api_errors, .init = setup, .fini = teardown);

Test(api_errors, null_arguments)
{
    pp_image *out = NULL;
    pp_pipeline *pl = NULL;
    cr_assert_eq(pp_pipeline_new(ctx, &pl), PP_OK);
    FAILS_WITH_MESSAGE(pp_apply(ctx, "invert", NULL, &out), PP_ERR_INVALID);
    cr_assert(strstr(pp_ctx_last_error(ctx), "pp_apply"), "%s", pp_ctx_last_error(ctx));
    FAILS_WITH_MESSAGE(pp_apply(ctx, "invert", img, NULL), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_apply(ctx, NULL, img, &out), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_pipeline_run(ctx, NULL, img, &out), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_pipeline_run(ctx, pl, NULL, &out), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_pipeline_run(ctx, pl, img, NULL), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_pipeline_add_spec(ctx, NULL, "invert"), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_pipeline_add_spec(ctx, pl, NULL), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_pipeline_add(ctx, pl, NULL, 0, NULL, NULL), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_pipeline_add(ctx, pl, "invert", -1, NULL, NULL), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_pipeline_add(ctx, pl, "gaussian", 1, NULL, NULL), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_pipeline_new(ctx, NULL), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_image_new(ctx, 2, 2, 3, NULL), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_image_new(ctx, 0, 2, 3, &out), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_image_wrap(ctx, NULL, 2, 2, 3, 6, &out), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_image_wrap(ctx, (uint8_t[12]){0}, 2, 2, 3, 6, NULL), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_load(ctx, NULL, &out), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_load_mem(ctx, NULL, 4, NULL, &out), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_info(ctx, NULL, &(pp_image_info){0}), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_save(ctx, NULL, "x.png"), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_save(ctx, img, NULL), PP_ERR_INVALID);
    void *data;
    size_t size;
    FAILS_WITH_MESSAGE(pp_save_mem(ctx, NULL, PP_FORMAT_PNG, &data, &size), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_save_mem(ctx, img, PP_FORMAT_PNG, NULL, &size), PP_ERR_INVALID);
    pp_pipeline_free(pl);
}

Test(api_errors, bad_settings)
{
    FAILS_WITH_MESSAGE(pp_ctx_set_workers(ctx, -1), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_ctx_set_backend(ctx, (pp_backend)99), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_ctx_set_band_rows(ctx, -1), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_ctx_set_max_pixels(ctx, 0), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_ctx_set_png_level(ctx, 10), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_ctx_set_jpeg_quality(ctx, 0), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_ctx_set_jpeg_subsample(ctx, (pp_jpeg_subsample)99), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_ctx_set_tiff_compression(ctx, (pp_tiff_compression)99), PP_ERR_INVALID);
    FAILS_WITH_MESSAGE(pp_apply(ctx, "nosuchfilter", img, &(pp_image *){0}), PP_ERR_SPEC);
}
