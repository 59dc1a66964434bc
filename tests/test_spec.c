/*
 * test_spec.c - the filter-spec parser and the typed pipeline API: what is accepted, and the
 * exact errors for unknown filters, unknown keys, bad numbers and out-of-range values.
 */
#include "helpers.h"

#include <criterion/criterion.h>
#include <string.h>

static pp_status add(pp_ctx *ctx, const char *spec)
{
    pp_pipeline *pl;
    cr_assert_eq(pp_pipeline_new(ctx, &pl), PP_OK);
    pp_status st = pp_pipeline_add_spec(ctx, pl, spec);
    pp_pipeline_free(pl);
    return st;
}

#define EXPECT_ERR(spec, needle)                                                               \
    do {                                                                                       \
        cr_assert_eq(add(ctx, spec), PP_ERR_SPEC, "%s accepted", spec);                        \
        cr_assert(strstr(pp_ctx_last_error(ctx), needle), "%s: message '%s' lacks '%s'", spec, \
                  pp_ctx_last_error(ctx), needle);                                             \
    } while (0)

Test(spec, accepts_valid_specs)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    const char *ok[] = {"invert", "gaussian:sigma=2.5", "gaussian:sigma=2,radius=3", "gaussian:",
                        "rotate:angle=270", "box:radius=0", "convolve:kernel=0/-1/0/-1/5/-1/0/-1/0",
                        "convolve:kernel=1 2 1 2 4 2 1 2 1,divisor=16", "brightness:delta=-1e1"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        cr_assert_eq(add(ctx, ok[i]), PP_OK, "%s: %s", ok[i], pp_ctx_last_error(ctx));
    pp_ctx_free(ctx);
}

Test(spec, errors_say_what_is_allowed)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    EXPECT_ERR("gausian", "unknown filter 'gausian'");
    EXPECT_ERR("gausian", "available filters: ");
    EXPECT_ERR("gausian", "gaussian");
    EXPECT_ERR("gaussian:sigm=2", "unknown parameter 'sigm'; its parameters: sigma, radius");
    EXPECT_ERR("gaussian:sigma=abc", "sigma: 'abc' is not a number");
    EXPECT_ERR("gaussian:sigma=", "is not a number");
    EXPECT_ERR("gaussian:sigma=1e999", "is not a number");
    EXPECT_ERR("gaussian:sigma=nan", "is not a number");
    EXPECT_ERR("gaussian:sigma=0", "sigma=0 is out of range [0.1, 60]");
    EXPECT_ERR("box:radius=1.5", "is not an integer");
    EXPECT_ERR("box:radius=-1", "out of range");
    EXPECT_ERR("gaussian:sigma=2,sigma=3", "given twice");
    EXPECT_ERR("gaussian:2", "is not key=value");
    EXPECT_ERR("invert:x=1", "its parameters: none");
    EXPECT_ERR("", "empty filter spec");
    pp_ctx_free(ctx);
}

Test(spec, run_time_validation_names_the_filter)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_image *in = th_random_image(ctx, 4, 4, 3, 1), *out = NULL;
    cr_assert_eq(pp_apply(ctx, "rotate:angle=100", in, &out), PP_ERR_SPEC);
    cr_assert(strstr(pp_ctx_last_error(ctx), "angle: '100' is not one of 90|180|270"));
    cr_assert_eq(pp_apply(ctx, "crop:x=2,y=2,width=3,height=1", in, &out), PP_ERR_SPEC);
    cr_assert(strstr(pp_ctx_last_error(ctx), "does not fit"), "%s", pp_ctx_last_error(ctx));
    cr_assert_eq(pp_apply(ctx, "convolve:kernel=1/2", in, &out), PP_ERR_SPEC);
    cr_assert(strstr(pp_ctx_last_error(ctx), "odd square"), "%s", pp_ctx_last_error(ctx));
    cr_assert_null(out);
    pp_image_free(in);
    pp_ctx_free(ctx);
}

Test(spec, typed_api)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_pipeline *pl;
    cr_assert_eq(pp_pipeline_new(ctx, &pl), PP_OK);
    const char *keys[] = {"sigma"};
    double vals[] = {2.0};
    cr_assert_eq(pp_pipeline_add(ctx, pl, "gaussian", 1, keys, vals), PP_OK);
    double bad[] = {1000};
    cr_assert_eq(pp_pipeline_add(ctx, pl, "gaussian", 1, keys, bad), PP_ERR_SPEC);
    cr_assert(strstr(pp_ctx_last_error(ctx), "out of range"));
    cr_assert_eq(pp_pipeline_add(ctx, pl, "nope", 0, NULL, NULL), PP_ERR_SPEC);
    cr_assert_eq(pp_pipeline_length(pl), 1);
    pp_image *in = th_random_image(ctx, 9, 9, 3, 2), *a, *b;
    cr_assert_eq(pp_pipeline_run(ctx, pl, in, &a), PP_OK);
    b = th_apply(ctx, "gaussian:sigma=2", in);
    cr_assert(th_same(a, b));
    pp_image_free(a);
    pp_image_free(b);
    pp_image_free(in);
    pp_pipeline_free(pl);
    pp_ctx_free(ctx);
}

Test(spec, registry_is_consistent)
{
    cr_assert_geq(pp_filter_count(), 12);
    const char *need[] = {"grayscale", "invert", "brightness", "contrast", "box", "gaussian",
                          "sharpen", "sobel", "median", "flip", "flop", "rotate"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        cr_assert_not_null(pp_filter_find(need[i]), "%s missing", need[i]);
    for (int i = 0; i < pp_filter_count(); i++) {
        const pp_filter_info *f = pp_filter_at(i);
        cr_assert(f->name && f->summary && f->definition && f->family);
        cr_assert_eq(pp_filter_find(f->name), f, "duplicate name %s", f->name);
        for (int k = 0; k < f->nparams; k++) {
            const pp_param_info *p = &f->params[k];
            cr_assert(p->min <= p->max, "%s.%s", f->name, p->name);
            if (!p->required && p->type != PP_PARAM_LIST && p->type != PP_PARAM_ENUM)
                cr_assert(p->def >= p->min && p->def <= p->max, "%s.%s default", f->name, p->name);
        }
    }
    cr_assert_null(pp_filter_at(pp_filter_count()));
}
