/*
 * registry.c - the filter registry: the list of filter families and the public view of it.
 *
 * Each filter family (one file per family in filters/) exports a pp_filter_family table; this
 * file lists them (adding a family is one line here). The parameters each entry declares
 * (pp_param_def) are the single source for parsing (params.c, spec.c), `pixpool filters` and
 * the docs; the public pp_filter_info / pp_param_info arrays are copied from them once.
 */
#include "internal.h"

#include <pthread.h>
#include <string.h>

/* The filter families, in the order `pixpool filters` lists them: one line X(NAME) per file
   filters/NAME.c (or other family file) exporting pp_family_NAME. */
#define FAMILIES(X) \
    X(point)        \
    X(blur)         \
    X(edge)         \
    X(rank)         \
    X(bilateral)    \
    X(geometry)     \
    X(resize)       \
    X(histogram)    \
    /* one line per family above */

#define DECLARE(name) extern const pp_filter_family pp_family_##name;
FAMILIES(DECLARE)
#define ENTRY(name) &pp_family_##name,
static const pp_filter_family *const families[] = {FAMILIES(ENTRY)};
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

bool pp_filter_copies_pixels(const pp_filter_def *d)
{
    const pp_filter_family *g = &pp_family_geometry;
    return d >= g->defs && d < g->defs + g->count;
}

/* ---- the public view: pp_filter_info with contiguous pp_param_info, built once ----------- */

#define MAX_FILTERS 128

static pp_filter_info infos[MAX_FILTERS];
static pp_param_info param_infos[MAX_FILTERS][PP_MAX_PARAMS];
static int ninfos;

static void build_infos(void)
{
    int n = pp_registry_count();
    for (int i = 0; i < n && i < MAX_FILTERS; i++) {
        const pp_filter_def *d = pp_registry_at(i);
        infos[i] = d->info;
        for (int k = 0; k < d->nparams && k < PP_MAX_PARAMS; k++) param_infos[i][k] = d->params[k].info;
        infos[i].params = d->nparams ? param_infos[i] : NULL;
        infos[i].nparams = d->nparams;
    }
    ninfos = n < MAX_FILTERS ? n : MAX_FILTERS;
}

static int public_index(int index)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_infos);
    return index >= 0 && index < ninfos ? index : -1;
}

int pp_filter_count(void) { return pp_registry_count(); }
const pp_filter_info *pp_filter_at(int index)
{
    int i = public_index(index);
    return i >= 0 ? &infos[i] : NULL;
}
const pp_filter_info *pp_filter_find(const char *name)
{
    if (!name) return NULL;
    for (int i = 0; i < pp_registry_count(); i++)
        if (strcmp(pp_registry_at(i)->info.name, name) == 0) return pp_filter_at(i);
    return NULL;
}
