/*
 * batch_budget.c - how `pixpool batch` splits the CPU budget (pp_cpu_budget, the library's:
 * affinity, cgroup quota, OMP_NUM_THREADS, SLURM_CPUS_PER_TASK) into jobs (files in flight)
 * and threads (workers inside one file).
 */
#define _GNU_SOURCE
#include "batch.h"


int batch_plan_workers(int ask_jobs, int ask_threads, int budget, size_t nfiles, int serial,
                       int *jobs, int *threads)
{
    int clamped = 0;
    long n = nfiles < 1 ? 1 : nfiles > (size_t)1 << 20 ? 1 << 20 : (long)nfiles;
    if (budget < 1) budget = 1;
    if (serial && ask_threads > 1) ask_threads = 1; /* the caller says it is ignored */
    long j, t;
    if (ask_jobs <= 0 && ask_threads <= 0) {
        j = budget < n ? budget : n;
        t = serial ? 1 : budget / j;
    } else if (ask_threads <= 0) {
        j = ask_jobs;
        if (j > budget) {
            j = budget;
            clamped = 1;
        }
        if (j > n) j = n;
        t = serial ? 1 : budget / j;
    } else if (ask_jobs <= 0) {
        t = ask_threads;
        if (t > budget) {
            t = budget;
            clamped = 1;
        }
        j = budget / t;
        if (j > n) j = n;
    } else {
        j = ask_jobs;
        t = ask_threads;
        if ((long)j * t > budget) {
            clamped = 1;
            if (j > budget) j = budget;
            if (t > budget / j) t = budget / j;
        }
        if (j > n) j = n;
    }
    if (j < 1) j = 1;
    if (t < 1) t = 1;
    *jobs = (int)j;
    *threads = (int)t;
    return clamped;
}
