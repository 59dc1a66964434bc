/*
 * params.c - a filter's arguments: defaults, the one validator of every value (from a spec's
 * text or from pp_pipeline_add's numbers) and the check of required parameters. Values go to
 * the fields of the filter's argument struct that its pp_param_def names (offsetof), so a
 * filter reads them by name.
 */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *field(pp_params *p, int k) { return p->args + p->def->params[k].offset; }

void pp_params_init(const pp_filter_def *d, pp_params *p)
{
    memset(p, 0, sizeof *p);
    p->def = d;
    for (int k = 0; k < d->nparams; k++) {
        const pp_param_info *pi = &d->params[k].info;
        switch (pi->type) {
        case PP_PARAM_INT:
        case PP_PARAM_ENUM: *(int *)field(p, k) = (int)pi->def; break;
        case PP_PARAM_FLOAT: *(double *)field(p, k) = pi->def; break;
        case PP_PARAM_LIST: break; /* empty */
        }
    }
}

void pp_params_names(const pp_filter_def *d, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    if (d->nparams == 0) {
        snprintf(buf, len, "none");
        return;
    }
    for (int i = 0; i < d->nparams && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
                                d->params[i].info.name);
}

static void list_choices(const pp_param_info *pi, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; pi->choices[i] && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "|" : "", pi->choices[i]);
}

/* The index of `key`, or -1 with the message; -2 when it was given already. */
static int find_new(pp_ctx *ctx, const pp_params *p, const char *key)
{
    const pp_filter_def *d = p->def;
    for (int k = 0; k < d->nparams; k++)
        if (strcmp(d->params[k].info.name, key) == 0) {
            if (!p->set[k]) return k;
            pp_fail(ctx, PP_ERR_SPEC, "%s: parameter '%s' given twice", d->info.name, key);
            return -2;
        }
    char ps[512];
    pp_params_names(d, ps, sizeof ps);
    pp_fail(ctx, PP_ERR_SPEC, "%s: unknown parameter '%s'; its parameters: %s", d->info.name, key,
            ps);
    return -1;
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

/* Stores a checked number (an integer for INT and ENUM) into parameter k. */
static void store(pp_params *p, int k, double v)
{
    if (p->def->params[k].info.type == PP_PARAM_FLOAT) *(double *)field(p, k) = v;
    else *(int *)field(p, k) = (int)v;
    p->set[k] = true;
}

pp_status pp_params_set_text(pp_ctx *ctx, pp_params *p, const char *key, const char *val)
{
    int k = find_new(ctx, p, key);
    if (k < 0) return PP_ERR_SPEC;
    const pp_param_info *pi = &p->def->params[k].info;
    const char *fname = p->def->info.name;
    pp_status st;
    switch (pi->type) {
    case PP_PARAM_INT:
    case PP_PARAM_FLOAT: {
        double v;
        if ((st = parse_number(ctx, fname, pi, val, &v))) return st;
        if ((st = check_range(ctx, fname, pi, v, val))) return st;
        store(p, k, v);
        return PP_OK;
    }
    case PP_PARAM_ENUM: {
        for (int i = 0; pi->choices[i]; i++)
            if (strcmp(pi->choices[i], val) == 0) {
                store(p, k, i);
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
        pp_list *l = field(p, k);
        l->n = 0;
        char *save = NULL;
        for (char *tok = strtok_r(buf, " /\t", &save); tok; tok = strtok_r(NULL, " /\t", &save)) {
            if (l->n >= PP_MAX_LIST)
                return pp_fail(ctx, PP_ERR_SPEC, "%s: %s: more than %d values", fname, pi->name,
                               PP_MAX_LIST);
            double v;
            if ((st = parse_number(ctx, fname, pi, tok, &v))) return st;
            if ((st = check_range(ctx, fname, pi, v, tok))) return st;
            l->v[l->n++] = v;
        }
        if (l->n == 0) return pp_fail(ctx, PP_ERR_SPEC, "%s: %s: empty list", fname, pi->name);
        p->set[k] = true;
        return PP_OK;
    }
    }
    return PP_ERR_SPEC;
}

pp_status pp_params_set_number(pp_ctx *ctx, pp_params *p, const char *key, double value)
{
    int k = find_new(ctx, p, key);
    if (k < 0) return PP_ERR_SPEC;
    const pp_param_info *pi = &p->def->params[k].info;
    const char *fname = p->def->info.name;
    char text[64];
    snprintf(text, sizeof text, "%g", value);
    if (pi->type == PP_PARAM_LIST)
        return pp_fail(ctx, PP_ERR_SPEC, "%s: %s: list parameters need a spec string", fname,
                       pi->name);
    if (!isfinite(value))
        return pp_fail(ctx, PP_ERR_SPEC, "%s: %s: not a finite number", fname, pi->name);
    if (pi->type == PP_PARAM_ENUM) {
        int n = 0;
        while (pi->choices[n]) n++;
        if (value != floor(value) || value < 0 || value >= n)
            return pp_fail(ctx, PP_ERR_SPEC, "%s: %s: choice index %s out of range [0, %d]", fname,
                           pi->name, text, n - 1);
    } else {
        if (pi->type == PP_PARAM_INT && value != floor(value))
            return pp_fail(ctx, PP_ERR_SPEC, "%s: %s: %s is not an integer", fname, pi->name,
                           text);
        pp_status st = check_range(ctx, fname, pi, value, text);
        if (st) return st;
    }
    store(p, k, value);
    return PP_OK;
}

pp_status pp_params_check(pp_ctx *ctx, const pp_params *p)
{
    const pp_filter_def *d = p->def;
    bool group = false, group_given = false;
    for (int k = 0; k < d->nparams; k++) {
        const pp_param_info *pi = &d->params[k].info;
        if (pi->required == PP_PARAM_REQUIRED && !p->set[k])
            return pp_fail(ctx, PP_ERR_SPEC, "%s: needs %s= (%s)", d->info.name, pi->name,
                           pi->help);
        if (pi->required == PP_PARAM_GROUP) {
            group = true;
            group_given |= p->set[k];
        }
    }
    if (group && !group_given) {
        /* "needs a=, b= or c=" */
        int n = 0, i = 0;
        for (int k = 0; k < d->nparams; k++) n += d->params[k].info.required == PP_PARAM_GROUP;
        char names[256];
        size_t off = 0;
        names[0] = '\0';
        for (int k = 0; k < d->nparams && off < sizeof names; k++)
            if (d->params[k].info.required == PP_PARAM_GROUP)
                off += (size_t)snprintf(names + off, sizeof names - off, "%s%s=",
                                        i++ == 0 ? "" : i == n ? " or " : ", ",
                                        d->params[k].info.name);
        return pp_fail(ctx, PP_ERR_SPEC, "%s: needs %s", d->info.name, names);
    }
    return PP_OK;
}

bool pp_param_given(const pp_params *p, const char *name)
{
    for (int k = 0; k < p->def->nparams; k++)
        if (strcmp(p->def->params[k].info.name, name) == 0) return p->set[k];
    return false;
}
