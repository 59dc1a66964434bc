/*
 * registry.c - the filter registry and the filter-spec parser.
 *
 * Each filter family (one file per family in filters/) exports a pp_filter_family table; this file lists them. The
 * parameter schema in each entry is the single source for parsing, `pixpool filters` and docs.
 * Spec syntax: "name" or "name:key=value,key=value". Numbers are C decimal numbers; enum values
 * are names from the schema; list values are numbers separated by spaces or '/'.
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const pp_filter_family pp_family_point;
extern const pp_filter_family pp_family_blur;
extern const pp_filter_family pp_family_edge;
extern const pp_filter_family pp_family_rank;
extern const pp_filter_family pp_family_geometry;
extern const pp_filter_family pp_family_bilateral;
extern const pp_filter_family pp_family_resize;
extern const pp_filter_family pp_family_histogram;

static const pp_filter_family *const families[] = {
    &pp_family_point,     &pp_family_blur,     &pp_family_edge,   &pp_family_rank,
    &pp_family_bilateral, &pp_family_geometry, &pp_family_resize, &pp_family_histogram,
};
#define NFAMILIES ((int)(sizeof families / sizeof families[0]))

int pp_registry_count(void)
{
    int n = 0;
    for (int i = 0; i < NFAMILIES; i++) n += families[i]->count;
    return n;
}

const pp_filter_def *pp_registry_at(int i)
{
    if (i < 0) return NULL;
    for (int f = 0; f < NFAMILIES; f++) {
        if (i < families[f]->count) return &families[f]->defs[i];
        i -= families[f]->count;
    }
    return NULL;
}

const pp_filter_def *pp_registry_find(const char *name)
{
    for (int f = 0; f < NFAMILIES; f++)
        for (int i = 0; i < families[f]->count; i++)
            if (strcmp(families[f]->defs[i].info.name, name) == 0) return &families[f]->defs[i];
    return NULL;
}

int pp_filter_count(void) { return pp_registry_count(); }
const pp_filter_info *pp_filter_at(int index)
{
    const pp_filter_def *d = pp_registry_at(index);
    return d ? &d->info : NULL;
}
const pp_filter_info *pp_filter_find(const char *name)
{
    const pp_filter_def *d = name ? pp_registry_find(name) : NULL;
    return d ? &d->info : NULL;
}

pp_stage_tmpl *pp_plan_add_stage(pp_plan *plan, pp_kernel_fn kernel, int src, int dst)
{
    if (plan->nstages >= PP_MAX_STAGES) return NULL; /* a filter bug; plans are static */
    pp_stage_tmpl *st = &plan->stages[plan->nstages++];
    memset(st, 0, sizeof *st);
    st->kernel = kernel;
    st->src = src;
    st->aux = PP_BUF_NONE;
    st->dst = dst;
    return st;
}

/* ---- spec parsing ------------------------------------------------------------------------- */

static void list_filters(char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < pp_registry_count() && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
                                pp_registry_at(i)->info.name);
}

static void list_params(const pp_filter_def *d, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    if (d->info.nparams == 0) {
        snprintf(buf, len, "none");
        return;
    }
    for (int i = 0; i < d->info.nparams && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
                                d->info.params[i].name);
}

static void list_choices(const pp_param_info *pi, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; pi->choices[i] && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "|" : "", pi->choices[i]);
}

static pp_status parse_number(pp_ctx *ctx, const char *fname, const pp_param_info *pi,
                              const char *val, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(val, &end);
    if (end == val || *end != '\0' || errno == ERANGE || !isfinite(d))
        return pp_fail(ctx, PP_ERR_SPEC, "%s: %s: '%s' is not a number", fname, pi->name, val);
    if (pi->type == PP_PARAM_INT && d != floor(d))
        return pp_fail(ctx, PP_ERR_SPEC, "%s: %s: '%s' is not an integer", fname, pi->name, val);
    *out = d;
    return PP_OK;
}

static pp_status check_range(pp_ctx *ctx, const char *fname, const pp_param_info *pi, double d,
                             const char *text)
{
    if (d < pi->min || d > pi->max)
        return pp_fail(ctx, PP_ERR_SPEC, "%s: %s=%s is out of range [%g, %g]", fname, pi->name,
                       text, pi->min, pi->max);
    return PP_OK;
}

static pp_status parse_value(pp_ctx *ctx, const pp_filter_def *d, int k, const char *val,
                             pp_params *p)
{
    const pp_param_info *pi = &d->info.params[k];
    const char *fname = d->info.name;
    pp_status st;
    switch (pi->type) {
    case PP_PARAM_INT:
    case PP_PARAM_FLOAT: {
        double v;
        if ((st = parse_number(ctx, fname, pi, val, &v))) return st;
        if ((st = check_range(ctx, fname, pi, v, val))) return st;
        p->v[k] = v;
        break;
    }
    case PP_PARAM_ENUM: {
        for (int i = 0; pi->choices[i]; i++)
            if (strcmp(pi->choices[i], val) == 0) {
                p->v[k] = i;
                p->set[k] = true;
                return PP_OK;
            }
        char ch[256];
        list_choices(pi, ch, sizeof ch);
        return pp_fail(ctx, PP_ERR_SPEC, "%s: %s: '%s' is not one of %s", fname, pi->name, val, ch);
    }
    case PP_PARAM_LIST: {
        char buf[4096];
        if (strlen(val) >= sizeof buf)
            return pp_fail(ctx, PP_ERR_SPEC, "%s: %s: list too long", fname, pi->name);
        strcpy(buf, val);
        p->nlist = 0;
        char *save = NULL;
        for (char *tok = strtok_r(buf, " /\t", &save); tok; tok = strtok_r(NULL, " /\t", &save)) {
            if (p->nlist >= PP_MAX_LIST)
                return pp_fail(ctx, PP_ERR_SPEC, "%s: %s: more than %d values", fname, pi->name,
                               PP_MAX_LIST);
            double v;
            if ((st = parse_number(ctx, fname, pi, tok, &v))) return st;
            if ((st = check_range(ctx, fname, pi, v, tok))) return st;
            p->list[p->nlist++] = v;
        }
        if (p->nlist == 0)
            return pp_fail(ctx, PP_ERR_SPEC, "%s: %s: empty list", fname, pi->name);
        p->v[k] = p->nlist;
        break;
    }
    }
    p->set[k] = true;
    return PP_OK;
}

static void init_defaults(const pp_filter_def *d, pp_params *p)
{
    memset(p, 0, sizeof *p);
    for (int k = 0; k < d->info.nparams; k++) p->v[k] = d->info.params[k].def;
}

static const pp_filter_def *find_or_fail(pp_ctx *ctx, const char *name)
{
    const pp_filter_def *d = pp_registry_find(name);
    if (!d) {
        char all[2048];
        list_filters(all, sizeof all);
        pp_fail(ctx, PP_ERR_SPEC, "unknown filter '%s'; available filters: %s", name, all);
    }
    return d;
}

static int find_param(const pp_filter_def *d, const char *key)
{
    for (int k = 0; k < d->info.nparams; k++)
        if (strcmp(d->info.params[k].name, key) == 0) return k;
    return -1;
}

static pp_status unknown_param(pp_ctx *ctx, const pp_filter_def *d, const char *key)
{
    char ps[512];
    list_params(d, ps, sizeof ps);
    return pp_fail(ctx, PP_ERR_SPEC, "%s: unknown parameter '%s'; its parameters: %s",
                   d->info.name, key, ps);
}

pp_status pp_parse_spec(pp_ctx *ctx, const char *spec, pp_filter_inst *out)
{
    char buf[4096];
    if (!spec || !*spec) return pp_fail(ctx, PP_ERR_SPEC, "empty filter spec");
    if (strlen(spec) >= sizeof buf) return pp_fail(ctx, PP_ERR_SPEC, "filter spec too long");
    strcpy(buf, spec);
    char *colon = strchr(buf, ':');
    if (colon) *colon = '\0';
    const pp_filter_def *d = find_or_fail(ctx, buf);
    if (!d) return PP_ERR_SPEC;
    memset(out, 0, sizeof *out);
    out->def = d;
    init_defaults(d, &out->params);
    snprintf(out->spec, sizeof out->spec, "%s", spec);
    if (!colon) return PP_OK;
    char *rest = colon + 1;
    if (!*rest) return PP_OK;
    char *save = NULL;
    for (char *item = strtok_r(rest, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) {
            char ps[512];
            list_params(d, ps, sizeof ps);
            return pp_fail(ctx, PP_ERR_SPEC, "%s: '%s' is not key=value; its parameters: %s",
                           d->info.name, item, ps);
        }
        *eq = '\0';
        int k = find_param(d, item);
        if (k < 0) return unknown_param(ctx, d, item);
        if (out->params.set[k])
            return pp_fail(ctx, PP_ERR_SPEC, "%s: parameter '%s' given twice", d->info.name, item);
        pp_status st = parse_value(ctx, d, k, eq + 1, &out->params);
        if (st) return st;
    }
    return PP_OK;
}

/* ---- pipelines ---------------------------------------------------------------------------- */

pp_status pp_pipeline_new(pp_ctx *ctx, pp_pipeline **out)
{
    if (!out) return PP_ERR_INVALID;
    *out = calloc(1, sizeof **out);
    if (!*out) return pp_fail(ctx, PP_ERR_NOMEM, "out of memory");
    return PP_OK;
}

void pp_pipeline_free(pp_pipeline *pl)
{
    if (!pl) return;
    free(pl->items);
    free(pl);
}

int pp_pipeline_length(const pp_pipeline *pl) { return pl ? pl->count : 0; }

static pp_status push(pp_ctx *ctx, pp_pipeline *pl, const pp_filter_inst *inst)
{
    if (pl->count == pl->cap) {
        int cap = pl->cap ? pl->cap * 2 : 8;
        pp_filter_inst *n = realloc(pl->items, (size_t)cap * sizeof *n);
        if (!n) return pp_fail(ctx, PP_ERR_NOMEM, "out of memory");
        pl->items = n;
        pl->cap = cap;
    }
    pl->items[pl->count++] = *inst;
    return PP_OK;
}

pp_status pp_pipeline_add_spec(pp_ctx *ctx, pp_pipeline *pl, const char *spec)
{
    if (!ctx || !pl) return PP_ERR_INVALID;
    pp_clear_error(ctx);
    pp_filter_inst inst;
    pp_status st = pp_parse_spec(ctx, spec, &inst);
    if (st) return st;
    return push(ctx, pl, &inst);
}

pp_status pp_pipeline_add(pp_ctx *ctx, pp_pipeline *pl, const char *filter, int nparams,
                          const char *const *keys, const double *values)
{
    if (!ctx || !pl || !filter || nparams < 0 || (nparams > 0 && (!keys || !values)))
        return PP_ERR_INVALID;
    pp_clear_error(ctx);
    const pp_filter_def *d = find_or_fail(ctx, filter);
    if (!d) return PP_ERR_SPEC;
    pp_filter_inst inst;
    memset(&inst, 0, sizeof inst);
    inst.def = d;
    init_defaults(d, &inst.params);
    snprintf(inst.spec, sizeof inst.spec, "%s", filter);
    for (int i = 0; i < nparams; i++) {
        int k = find_param(d, keys[i]);
        if (k < 0) return unknown_param(ctx, d, keys[i]);
        const pp_param_info *pi = &d->info.params[k];
        char text[64];
        snprintf(text, sizeof text, "%g", values[i]);
        if (pi->type == PP_PARAM_LIST)
            return pp_fail(ctx, PP_ERR_SPEC, "%s: %s: list parameters need a spec string",
                           d->info.name, pi->name);
        if (!isfinite(values[i]))
            return pp_fail(ctx, PP_ERR_SPEC, "%s: %s: not a finite number", d->info.name, pi->name);
        if (pi->type == PP_PARAM_ENUM) {
            int n = 0;
            while (pi->choices[n]) n++;
            if (values[i] != floor(values[i]) || values[i] < 0 || values[i] >= n)
                return pp_fail(ctx, PP_ERR_SPEC, "%s: %s: choice index %s out of range [0, %d]",
                               d->info.name, pi->name, text, n - 1);
        } else {
            if (pi->type == PP_PARAM_INT && values[i] != floor(values[i]))
                return pp_fail(ctx, PP_ERR_SPEC, "%s: %s: %s is not an integer", d->info.name,
                               pi->name, text);
            pp_status st = check_range(ctx, d->info.name, pi, values[i], text);
            if (st) return st;
        }
        inst.params.v[k] = values[i];
        inst.params.set[k] = true;
    }
    return push(ctx, pl, &inst);
}
