/*
 * cpu.h - what the filters know of the CPU (filters/ only): one feature detection, one clone
 * macro. A filter picks its kernel variant in plan() from pp_cpu_has() and records the choice
 * in its stage parameters; kernels never test the CPU themselves. Every variant gives the same
 * bytes, so the choice changes speed only.
 */
#ifndef PP_CPU_H
#define PP_CPU_H

#include <stdbool.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define PP_X86 1 /* the hand-written AVX2 / AVX-512 loops are compiled */
#include <immintrin.h>
/* A hot scalar kernel built for the baseline, x86-64-v3 (AVX2) and v4 (AVX-512); the dynamic
   loader picks one once (ifunc). */
#define PP_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define PP_CLONES
#endif

enum {
    PP_CPU_AVX2 = 1u << 0,
    PP_CPU_AVX512F = 1u << 1,
    PP_CPU_AVX512BW = 1u << 2,
    PP_CPU_AVX512VBMI = 1u << 3,
    PP_CPU_AVX512VNNI = 1u << 4,
    PP_CPU_AVX512VL = 1u << 5,
};

/* The PP_CPU_* features of this CPU, detected on the first call (filters/cpu.c). */
unsigned pp_cpu_features(void);

/* Whether the CPU has every feature of `all` (PP_CPU_* bits or-ed together). */
static inline bool pp_cpu_has(unsigned all) { return (pp_cpu_features() & all) == all; }

#endif /* PP_CPU_H */
