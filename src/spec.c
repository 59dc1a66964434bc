/*
 * spec.c - the filter-spec parser: "name" or "name:key=value,key=value". Numbers are C decimal
 * numbers; enum values are names from the schema; list values are numbers separated by spaces
 * or '/'. Every value goes through params.c's validator, as pp_pipeline_add's do.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static void list_filters(char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < pp_registry_count() && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
                                pp_registry_at(i)->info.name);
}

const pp_filter_def *pp_filter_or_fail(pp_ctx *ctx, const char *name)
{
    const pp_filter_def *d = pp_registry_find(name);
    if (!d) {
        char all[2048];
        list_filters(all, sizeof all);
        pp_fail(ctx, PP_ERR_SPEC, "unknown filter '%s'; available filters: %s", name, all);
    }
    return d;
}

pp_status pp_parse_spec(pp_ctx *ctx, const char *spec, pp_filter_inst *out)
{
    char buf[4096];
    if (!spec || !*spec) return pp_fail(ctx, PP_ERR_SPEC, "empty filter spec");
    if (strlen(spec) >= sizeof buf) return pp_fail(ctx, PP_ERR_SPEC, "filter spec too long");
    strcpy(buf, spec);
    char *colon = strchr(buf, ':');
    if (colon) *colon = '\0';
    const pp_filter_def *d = pp_filter_or_fail(ctx, buf);
    if (!d) return PP_ERR_SPEC;
    memset(out, 0, sizeof *out);
    out->def = d;
    pp_params_init(d, &out->params);
    snprintf(out->spec, sizeof out->spec, "%s", spec);
    char *rest = colon ? colon + 1 : NULL;
    char *save = NULL;
    for (char *item = rest && *rest ? strtok_r(rest, ",", &save) : NULL; item;
         item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) {
            char ps[512];
            pp_params_names(d, ps, sizeof ps);
            return pp_fail(ctx, PP_ERR_SPEC, "%s: '%s' is not key=value; its parameters: %s",
                           d->info.name, item, ps);
        }
        *eq = '\0';
        pp_status st = pp_params_set_text(ctx, &out->params, item, eq + 1);
        if (st) return st;
    }
    return pp_params_check(ctx, &out->params);
}
