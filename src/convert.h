/*
 * convert.h - the whole-image conversions the pipeline runs around filters (src/convert.c):
 * premultiplying and unpremultiplying alpha, and changing the depth.
 */
#ifndef PP_CONVERT_H
#define PP_CONVERT_H

#include "internal.h"

typedef enum pp_convert {
    PP_CONV_PREMUL8,       /* 8 -> 8 bits:  p = round(c a / 255) */
    PP_CONV_UNPREMUL8,     /* 8 -> 8 bits:  c = a ? min(255, round(p 255 / a)) : 0 */
    PP_CONV_PREMUL16,      /* 16 -> 16:     P = round(C A / 65535) */
    PP_CONV_UNPREMUL16,    /* 16 -> 16:     C = A ? min(65535, round(P 65535 / A)) : 0 */
    PP_CONV_PREMUL8TO16,   /* 8 -> 16 (exact alpha): P = round(257 c a / 255), A = 257 a */
    PP_CONV_UNPREMUL16TO8, /* 16 -> 8:      c = A ? min(255, round(P 255 / A)) : 0,
                              a = round(A / 257) */
    PP_CONV_WIDEN,         /* 8 -> 16:      v 257 */
    PP_CONV_NARROW,        /* 16 -> 8:      round(v / 257) */
} pp_convert;

/* The kernel of a conversion (src and dst of the same width, height and channels; the
   unpremultiplies may run in place), the fastest this CPU has: every variant gives the same
   bytes. Alpha is the last channel; rounding is half up. */
pp_kernel_fn pp_convert_kernel(pp_convert what);

#endif /* PP_CONVERT_H */
