/*
 * specs.h - filter specs that exercise every filter of the registry (tests only).
 *
 * th_specs_for(name) gives the specs to run for a filter: its defaults plus parameter sets
 * that reach other code paths. Filters whose parameters have no defaults must be listed here;
 * the backend tests fail for a registry filter that cannot run with the specs given.
 */
#ifndef PP_TEST_SPECS_H
#define PP_TEST_SPECS_H

#include <string.h>

static const char *const th_spec_table[][5] = {
    {"gaussian", "gaussian", "gaussian:sigma=2.5", "gaussian:sigma=0.6,radius=4", NULL},
    {"box", "box", "box:radius=4", "box:radius=0", NULL},
    {"unsharp", "unsharp", "unsharp:sigma=1.5,amount=2,threshold=3", NULL},
    {"median", "median", "median:radius=2", "median:radius=5", NULL},
    {"erode", "erode", "erode:radius=3", NULL},
    {"dilate", "dilate", "dilate:radius=2", NULL},
    {"convolve", "convolve:kernel=1/2/1/2/4/2/1/2/1", "convolve:kernel=0.5/0/-0.25/1/0/1/-1/2/0.1,bias=10",
     "convolve:kernel=1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1/1,divisor=7", NULL},
    {"rotate", "rotate:angle=90", "rotate:angle=180", "rotate:angle=270", NULL},
    {"crop", "crop", "crop:x=0,y=0,width=1,height=1", NULL},
    {"resize", "resize:scale=0.5", "resize:width=11,height=5,method=bicubic",
     "resize:scale=2.3,method=bilinear", "resize:scale=0.7,method=nearest"},
    {"bilateral", "bilateral", "bilateral:sigma_s=2,sigma_r=50", NULL},
    {"brightness", "brightness:delta=-40", "brightness:delta=37.5", NULL},
    {"contrast", "contrast:factor=1.7", "contrast:factor=0.3", NULL},
    {"linear", "linear:a=1.2,b=10", NULL},
    {"gamma", "gamma:g=2.2", "gamma:g=0.45", NULL},
    {"threshold", "threshold", "threshold:t=200", NULL},
    {"posterize", "posterize", "posterize:levels=2", NULL},
};

/* Fills out[] (up to 8) with the specs for filter `name`; returns how many. */
static inline int th_specs_for(const char *name, const char **out)
{
    for (size_t i = 0; i < sizeof th_spec_table / sizeof th_spec_table[0]; i++) {
        if (strcmp(th_spec_table[i][0], name) != 0) continue;
        int n = 0;
        for (int k = 1; k < 5 && th_spec_table[i][k]; k++) out[n++] = th_spec_table[i][k];
        return n;
    }
    out[0] = name;
    return 1;
}

#endif
