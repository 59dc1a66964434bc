/*
 * plan.c - helpers for the filters' plan() functions (the ground floor of filters/: it calls
 * nothing, the registry lists the filters, the filters call this).
 */
#include "internal.h"

#include <string.h>

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
