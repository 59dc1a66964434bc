/*
 * sys.c - the ground floor: what the library asks of the operating system about the machine:
 * the CPUs this process may run on (affinity) and its CPU budget, the smallest of the
 * affinity mask, a cgroup CPU quota (v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us,
 * rounded up; every cgroup from the process's own up to the mount counts), OMP_NUM_THREADS and
 * SLURM_CPUS_PER_TASK when they are set to a positive number. The budget is every context's
 * default worker count and the CLI's (apply, bench, batch).
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Reads the first line of dir/name into buf (without the newline). 0 on success. */
static int read_line(const char *dir, const char *name, char *buf, size_t n)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) return -1;
    FILE *f = fopen(path, "re");
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

int pp_cgroup_cpus(const char *root, const char *self_cgroup)
{
    int best = 0;
    int seen_v2 = 0, seen_v1 = 0;
    FILE *f = fopen(self_cgroup, "re");
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

int pp_cpu_budget(char *why, size_t whylen)
{
    int aff = pp_online_cpus();
    int cg = pp_cgroup_cpus("/sys/fs/cgroup", "/proc/self/cgroup");
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
