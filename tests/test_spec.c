/*
 * test_spec.c - the filter-spec parser and the typed pipeline API: what is accepted, and the
 * exact errors for unknown filters, unknown keys, bad numbers and out-of-range values.
 */
#include "helpers.h"
#include "internal.h"

#include <criterion/criterion.h>
#include <stdio.h>
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
    EXPECT_ERR("gaussian:sigma=2,sigma=3", "gaussian: parameter 'sigma' given twice");
    EXPECT_ERR("convolve", "convolve: needs kernel=");
    EXPECT_ERR("convolve:divisor=2", "convolve: needs kernel=");
    EXPECT_ERR("resize", "resize: needs width=, height= or scale=");
    EXPECT_ERR("resize:method=bicubic", "resize: needs width=, height= or scale=");
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

/* One validator for both ways in: a missing required parameter (or none of a group) and a key
   given twice fail pp_pipeline_add as they fail pp_pipeline_add_spec, with the same message, and
   leave the pipeline unchanged. */
Test(spec, typed_api_validates_as_specs_do)
{
    pp_ctx *ctx = th_ctx(PP_BACKEND_SERIAL, 1);
    pp_pipeline *pl;
    cr_assert_eq(pp_pipeline_new(ctx, &pl), PP_OK);
    const struct {
        const char *filter, *spec;
        int n;
        const char *keys[2];
        double vals[2];
        const char *msg;
    } cases[] = {
        {"gaussian", "gaussian:sigma=2,sigma=3", 2, {"sigma", "sigma"}, {2, 3},
         "gaussian: parameter 'sigma' given twice"},
        {"crop", "crop:x=1,x=1", 2, {"x", "x"}, {1, 1}, "crop: parameter 'x' given twice"},
        {"convolve", "convolve:bias=1", 1, {"bias"}, {1}, "convolve: needs kernel="},
        {"resize", "resize:method=nearest", 1, {"method"}, {0},
         "resize: needs width=, height= or scale="},
        {"resize", "resize", 0, {NULL}, {0}, "resize: needs width=, height= or scale="},
    };
    char spec_msg[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(pp_pipeline_add_spec(ctx, pl, cases[i].spec), PP_ERR_SPEC, "%s",
                     cases[i].spec);
        snprintf(spec_msg, sizeof spec_msg, "%s", pp_ctx_last_error(ctx));
        cr_assert(strstr(spec_msg, cases[i].msg), "%s: '%s'", cases[i].spec, spec_msg);
        cr_assert_eq(pp_pipeline_add(ctx, pl, cases[i].filter, cases[i].n, cases[i].keys,
                                     cases[i].vals),
                     PP_ERR_SPEC, "pp_pipeline_add %s", cases[i].spec);
        cr_assert_str_eq(pp_ctx_last_error(ctx), spec_msg, "%s", cases[i].spec);
        cr_assert_eq(pp_pipeline_length(pl), 0);
    }
    /* the same keys once each are fine both ways */
    const char *keys[] = {"width", "method"};
    double vals[] = {5, 1};
    cr_assert_eq(pp_pipeline_add(ctx, pl, "resize", 2, keys, vals), PP_OK, "%s",
                 pp_ctx_last_error(ctx));
    cr_assert_eq(pp_pipeline_add_spec(ctx, pl, "resize:width=5,method=bilinear"), PP_OK);
    cr_assert_eq(pp_pipeline_length(pl), 2);
    pp_pipeline_free(pl);
    pp_ctx_free(ctx);
}

/* Every parameter is bound to its own field inside the argument block, of the size its type
   needs. */
Test(spec, parameters_bound_to_distinct_fields)
{
    for (int i = 0; i < pp_registry_count(); i++) {
        const pp_filter_def *d = pp_registry_at(i);
        cr_assert_eq(pp_filter_at(i)->nparams, d->nparams);
        for (int k = 0; k < d->nparams; k++) {
            const pp_param_info *pi = &d->params[k].info;
            size_t size = pi->type == PP_PARAM_FLOAT  ? sizeof(double)
                          : pi->type == PP_PARAM_LIST ? sizeof(pp_list)
                                                      : sizeof(int);
            size_t a = d->params[k].offset;
            cr_assert_leq(a + size, (size_t)PP_ARGS_BYTES, "%s.%s", d->info.name, pi->name);
            cr_assert_eq(a % (size < 8 ? size : 8), 0, "%s.%s misaligned", d->info.name, pi->name);
            cr_assert_str_eq(pp_filter_at(i)->params[k].name, pi->name);
            for (int j = 0; j < k; j++) {
                size_t b = d->params[j].offset;
                cr_assert(a != b, "%s: %s and %s share a field", d->info.name, pi->name,
                          d->params[j].info.name);
            }
        }
    }
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
            if (p->required == PP_PARAM_OPTIONAL && p->type != PP_PARAM_LIST &&
                p->type != PP_PARAM_ENUM)
                cr_assert(p->def >= p->min && p->def <= p->max, "%s.%s default", f->name, p->name);
        }
    }
    cr_assert_null(pp_filter_at(pp_filter_count()));
}
