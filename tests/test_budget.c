/*
 * test_budget.c - the CPU budget of the library (sys.c): the cgroup CPU quota reader on fake
 * cgroup trees, the environment limits, and every new context's default worker count
 * (pp_ctx_new uses the budget, not only the affinity mask). The real cgroup and taskset runs
 * are in tests/cli_budget.sh.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "pixpool.h"

Test(budget, cgroup_v2_quota_rounds_up)
{
    char *d = th_tmpdir("budget");
    th_put(d, "self", "0::/\n");
    th_put(d, "fs/cpu.max", "150000 100000\n");
    char root[4200], self[4200];
    snprintf(root, sizeof root, "%s/fs", d);
    snprintf(self, sizeof self, "%s/self", d);
    cr_assert_eq(pp_cgroup_cpus(root, self), 2);
    th_put(d, "fs/cpu.max", "max 100000\n");
    cr_assert_eq(pp_cgroup_cpus(root, self), 0);
    th_put(d, "fs/cpu.max", "50000 100000\n");
    cr_assert_eq(pp_cgroup_cpus(root, self), 1);
    th_rm_rf(d);
}

Test(budget, cgroup_v2_smallest_along_the_path)
{
    char *d = th_tmpdir("budget");
    th_put(d, "self", "0::/job/step\n");
    th_put(d, "fs/cpu.max", "max 100000\n");
    th_put(d, "fs/job/cpu.max", "300000 100000\n");
    th_put(d, "fs/job/step/cpu.max", "max 100000\n");
    char root[4200], self[4200];
    snprintf(root, sizeof root, "%s/fs", d);
    snprintf(self, sizeof self, "%s/self", d);
    cr_assert_eq(pp_cgroup_cpus(root, self), 3);
    th_put(d, "fs/job/step/cpu.max", "100000 50000\n");
    cr_assert_eq(pp_cgroup_cpus(root, self), 2);
    th_rm_rf(d);
}

Test(budget, cgroup_v2_namespace_root)
{
    /* inside a container the listed path may not exist under the mount: the mount's own
       cpu.max still counts */
    char *d = th_tmpdir("budget");
    th_put(d, "self", "0::/docker/abc\n");
    th_put(d, "fs/cpu.max", "400000 100000\n");
    char root[4200], self[4200];
    snprintf(root, sizeof root, "%s/fs", d);
    snprintf(self, sizeof self, "%s/self", d);
    cr_assert_eq(pp_cgroup_cpus(root, self), 4);
    th_rm_rf(d);
}

Test(budget, cgroup_v1_cfs_quota)
{
    char *d = th_tmpdir("budget");
    th_put(d, "self", "12:memory:/x\n4:cpu,cpuacct:/x\n");
    th_put(d, "fs/cpu,cpuacct/x/cpu.cfs_quota_us", "250000\n");
    th_put(d, "fs/cpu,cpuacct/x/cpu.cfs_period_us", "100000\n");
    char root[4200], self[4200];
    snprintf(root, sizeof root, "%s/fs", d);
    snprintf(self, sizeof self, "%s/self", d);
    cr_assert_eq(pp_cgroup_cpus(root, self), 3);
    th_put(d, "fs/cpu,cpuacct/x/cpu.cfs_quota_us", "-1\n");
    cr_assert_eq(pp_cgroup_cpus(root, self), 0);
    th_rm_rf(d);
}

Test(budget, no_cgroup_files)
{
    char *d = th_tmpdir("budget");
    char root[4200], self[4200];
    snprintf(root, sizeof root, "%s/none", d);
    snprintf(self, sizeof self, "%s/none-self", d);
    cr_assert_eq(pp_cgroup_cpus(root, self), 0);
    th_rm_rf(d);
}

Test(budget, environment_limits)
{
    char why[256];
    setenv("OMP_NUM_THREADS", "1,4", 1);
    cr_assert_eq(pp_cpu_budget(why, sizeof why), 1);
    cr_assert(strstr(why, "OMP_NUM_THREADS 1"), "%s", why);
    unsetenv("OMP_NUM_THREADS");
    setenv("SLURM_CPUS_PER_TASK", "1", 1);
    cr_assert_eq(pp_cpu_budget(why, sizeof why), 1);
    setenv("SLURM_CPUS_PER_TASK", "junk", 1);
    cr_assert_geq(pp_cpu_budget(why, sizeof why), 1);
    unsetenv("SLURM_CPUS_PER_TASK");
    cr_assert_leq(pp_cpu_budget(why, sizeof why), pp_cpu_count());
}

/* A library caller gets the budget as its default worker count: OMP_NUM_THREADS=1 or
   SLURM_CPUS_PER_TASK=1 means one worker, whatever the affinity mask says. */
Test(budget, context_default_workers)
{
    unsetenv("OMP_NUM_THREADS");
    unsetenv("SLURM_CPUS_PER_TASK");
    int budget = pp_cpu_budget(NULL, 0);
    pp_ctx *ctx = pp_ctx_new();
    cr_assert_eq(pp_ctx_workers(ctx), budget);
    pp_ctx_free(ctx);

    setenv("OMP_NUM_THREADS", "1", 1);
    ctx = pp_ctx_new();
    cr_assert_eq(pp_ctx_workers(ctx), 1, "OMP_NUM_THREADS=1 gave %d workers", pp_ctx_workers(ctx));
    pp_ctx_set_backend(ctx, PP_BACKEND_FORK);
    cr_assert_eq(pp_ctx_workers(ctx), 1);
    cr_assert_eq(pp_ctx_set_workers(ctx, 3), PP_OK); /* an explicit count still wins */
    cr_assert_eq(pp_ctx_workers(ctx), 3);
    pp_ctx_free(ctx);
    unsetenv("OMP_NUM_THREADS");

    setenv("SLURM_CPUS_PER_TASK", "1", 1);
    ctx = pp_ctx_new();
    cr_assert_eq(pp_ctx_workers(ctx), 1);
    pp_ctx_free(ctx);
    unsetenv("SLURM_CPUS_PER_TASK");
}

Test(budget, why_names_the_limits)
{
    char why[256];
    setenv("SLURM_CPUS_PER_TASK", "1", 1);
    cr_assert_eq(pp_cpu_budget(why, sizeof why), 1);
    cr_assert(strncmp(why, "affinity ", 9) == 0, "%s", why);
    cr_assert(strstr(why, "SLURM_CPUS_PER_TASK 1"), "%s", why);
    unsetenv("SLURM_CPUS_PER_TASK");
    char tiny[4];
    cr_assert_geq(pp_cpu_budget(tiny, sizeof tiny), 1);
    cr_assert_lt(strlen(tiny), sizeof tiny);
}
