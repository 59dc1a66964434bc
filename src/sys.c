/*
 * sys.c - the ground floor: what the library asks of the operating system about the machine.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <sched.h>
#include <unistd.h>

int pp_online_cpus(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
