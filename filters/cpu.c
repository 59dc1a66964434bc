/*
 * cpu.c - the CPU features of cpu.h, detected once per process.
 */
#include "cpu.h"

#include <stdatomic.h>

#define KNOWN (1u << 31) /* set once detected */

static _Atomic unsigned features;

unsigned pp_cpu_features(void)
{
    unsigned f = atomic_load_explicit(&features, memory_order_relaxed);
    if (f & KNOWN) return f & ~KNOWN;
    f = KNOWN; /* two threads may detect at once: they store the same value */
#ifdef PP_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) f |= PP_CPU_AVX2;
    if (__builtin_cpu_supports("avx512f")) f |= PP_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) f |= PP_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512vbmi")) f |= PP_CPU_AVX512VBMI;
    if (__builtin_cpu_supports("avx512vnni")) f |= PP_CPU_AVX512VNNI;
    if (__builtin_cpu_supports("avx512vl")) f |= PP_CPU_AVX512VL;
#endif
    atomic_store_explicit(&features, f, memory_order_relaxed);
    return f & ~KNOWN;
}
