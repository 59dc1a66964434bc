/*
 * batch_budget.c - how many CPUs `pixpool batch` may really use, and how it splits them into
 * jobs (files in flight) and threads (workers inside one file).
 *
 * The budget is the smallest of: the CPU affinity mask (pp_cpu_count), a cgroup CPU quota
 * (v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us, rounded up), OMP_NUM_THREADS and
 * SLURM_CPUS_PER_TASK when they are set to a positive number.
 */
#define _GNU_SOURCE
#include "batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the first line of dir/name into buf (without the newline). 0 on success. */
static int read_line(const char *dir, const char *name, char *buf, size_t n)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) return -1;
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char *r = fgets(buf, (int)n, f);
    fclose(f);
    if (!r) return -1;
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

/* ceil(quota / period), or 0 when either is not a positive number. */
static int quota_cpus(long long quota, long long period)
{
    if (quota <= 0 || period <= 0) return 0;
    long long n = (quota + period - 1) / period;
    if (n < 1) n = 1;
    return n > 1 << 20 ? 1 << 20 : (int)n;
}

/* The limit set on one cgroup folder (v2 or v1 files), or 0. */
static int limit_at(const char *dir)
{
    char line[256];
    if (read_line(dir, "cpu.max", line, sizeof line) == 0) {
        char q[64];
        long long period = 0;
        if (sscanf(line, "%63s %lld", q, &period) == 2 && strcmp(q, "max") != 0)
            return quota_cpus(strtoll(q, NULL, 10), period);
        return 0;
    }
    char p[256];
    if (read_line(dir, "cpu.cfs_quota_us", line, sizeof line) == 0 &&
        read_line(dir, "cpu.cfs_period_us", p, sizeof p) == 0)
        return quota_cpus(strtoll(line, NULL, 10), strtoll(p, NULL, 10));
    return 0;
}

static int min_pos(int a, int b)
{
    if (a <= 0) return b;
    if (b <= 0) return a;
    return a < b ? a : b;
}

/* The smallest limit on base/rel and each of its ancestors down to base itself. */
static int limit_along(const char *base, const char *rel)
{
    char path[4096];
    while (*rel == '/') rel++;
    if ((size_t)snprintf(path, sizeof path, "%s%s%s", base, *rel ? "/" : "", rel) >= sizeof path)
        return limit_at(base);
    size_t baselen = strlen(base);
    int best = 0;
    for (;;) {
        best = min_pos(best, limit_at(path));
        if (strlen(path) <= baselen) break;
        char *slash = strrchr(path + baselen, '/');
        if (!slash) break;
        *slash = '\0';
    }
    return best;
}

/* 1 when the comma-separated controller list names the "cpu" controller. */
static int has_cpu_controller(const char *list, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && list[j] != ',') j++;
        if (j - i == 3 && strncmp(list + i, "cpu", 3) == 0) return 1;
        i = j + 1;
    }
    return 0;
}

int batch_cgroup_cpus(const char *root, const char *self_cgroup)
{
    int best = 0;
    int seen_v2 = 0, seen_v1 = 0;
    FILE *f = fopen(self_cgroup, "r");
    if (f) {
        char line[4096];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            char *c1 = strchr(line, ':');
            char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
            if (!c2) continue;
            const char *ctrl = c1 + 1;
            size_t ctrl_len = (size_t)(c2 - ctrl);
            const char *path = c2 + 1;
            if (ctrl_len == 0) { /* cgroup v2: "0::/path" */
                seen_v2 = 1;
                best = min_pos(best, limit_along(root, path));
            } else if (has_cpu_controller(ctrl, ctrl_len)) { /* cgroup v1 */
                seen_v1 = 1;
                char mount[4096];
                static const char *const names[] = {"cpu,cpuacct", "cpuacct,cpu", "cpu"};
                for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
                    snprintf(mount, sizeof mount, "%s/%s", root, names[k]);
                    best = min_pos(best, limit_along(mount, path));
                }
                if ((size_t)snprintf(mount, sizeof mount, "%s/%.*s", root, (int)ctrl_len, ctrl) <
                    sizeof mount)
                    best = min_pos(best, limit_along(mount, path));
            }
        }
        fclose(f);
    }
    if (!seen_v2) best = min_pos(best, limit_at(root));
    if (!seen_v1) {
        char mount[4096];
        snprintf(mount, sizeof mount, "%s/cpu,cpuacct", root);
        best = min_pos(best, limit_at(mount));
        snprintf(mount, sizeof mount, "%s/cpu", root);
        best = min_pos(best, limit_at(mount));
    }
    return best;
}

/* A positive integer at the start of an environment variable ("8" or "8,4"), or 0. */
static int env_count(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s) return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || errno || v <= 0) return 0;
    return v > 1 << 20 ? 1 << 20 : (int)v;
}

int batch_cpu_budget(char *why, size_t whylen)
{
    int aff = pp_cpu_count();
    int cg = batch_cgroup_cpus("/sys/fs/cgroup", "/proc/self/cgroup");
    int omp = env_count("OMP_NUM_THREADS");
    int slurm = env_count("SLURM_CPUS_PER_TASK");
    int budget = aff > 0 ? aff : 1;
    budget = min_pos(budget, cg);
    budget = min_pos(budget, omp);
    budget = min_pos(budget, slurm);
    if (why && whylen) {
        int n = snprintf(why, whylen, "affinity %d", aff);
        if (cg > 0 && n >= 0 && (size_t)n < whylen)
            n += snprintf(why + n, whylen - (size_t)n, ", cgroup quota %d", cg);
        if (omp > 0 && n >= 0 && (size_t)n < whylen)
            n += snprintf(why + n, whylen - (size_t)n, ", OMP_NUM_THREADS %d", omp);
        if (slurm > 0 && n >= 0 && (size_t)n < whylen)
            snprintf(why + n, whylen - (size_t)n, ", SLURM_CPUS_PER_TASK %d", slurm);
    }
    return budget < 1 ? 1 : budget;
}

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
