#!/usr/bin/env bash
# cli_budget.sh - the CPU budget (the library's pp_cpu_budget: affinity, cgroup quota,
# OMP_NUM_THREADS, SLURM_CPUS_PER_TASK) is what apply, bench and batch use, under taskset, the
# environment variables and, where this machine lets a test make one, a real cgroup CPU quota.
# Usage: bash tests/cli_budget.sh PIXPOOL REPO_ROOT
set -u
PP=$1
ROOT=$2
. "$ROOT/tests/lib.sh"
unset OMP_NUM_THREADS SLURM_CPUS_PER_TASK
has() { grep -qF -- "$1" "$T/out" && ok || bad "$2 lacks '$1': $(grep -i budget "$T/out")"; }
# bench's default worker list follows the budget: only 1 when it is 1
bench_workers() {
  "$@" bench --size 32x32 -b serial,openmp -f invert --repeat 1 --warmup 0 --no-startup --format csv \
    2>"$T/err" | awk -F, '$1 == "filter" || $1 == "pipeline" {print $4}' | sort -u | tr '\n' ' '
}

for cmd in apply bench batch; do
  expect 0 env OMP_NUM_THREADS=1 "$PP" $cmd --help; has "here 1: affinity" "OMP_NUM_THREADS=1 $cmd --help"
  has "OMP_NUM_THREADS 1" "OMP_NUM_THREADS=1 $cmd --help"
  expect 0 env SLURM_CPUS_PER_TASK=1 "$PP" $cmd --help; has "SLURM_CPUS_PER_TASK 1" "SLURM $cmd --help"
done
[[ $(bench_workers env OMP_NUM_THREADS=1 "$PP") == "1 " ]] && ok || bad "bench with OMP_NUM_THREADS=1 measured workers: $(bench_workers env OMP_NUM_THREADS=1 "$PP")"

mkdir -p "$T/in" && "$PP" bench --save-image "$T/in/a.png" --size 16x16 >/dev/null 2>&1
if taskset -c 0 true 2>/dev/null; then
  for cmd in apply bench batch; do
    expect 0 taskset -c 0 "$PP" $cmd --help; has "here 1: affinity 1" "taskset -c 0 $cmd --help"
  done
  [[ $(bench_workers taskset -c 0 "$PP") == "1 " ]] && ok || bad "bench under taskset -c 0 measured workers: $(bench_workers taskset -c 0 "$PP")"
  expect 0 taskset -c 0 "$PP" batch -v --no-progress "$T/in" "$T/o1"
  grep -q "CPU budget 1 (affinity 1)" "$T/err" && ok || bad "batch -v under taskset: $(cat "$T/err")"
else
  echo "note: taskset cannot pin here; its checks are skipped"
fi

# a real cgroup CPU quota of one CPU (cgroup v1 cpu controller or a writable v2 tree)
cg=""
for base in /sys/fs/cgroup/cpu /sys/fs/cgroup; do
  if [[ -w $base && ( -e $base/cpu.cfs_quota_us || -e $base/cgroup.subtree_control ) ]]; then
    d=$base/pixpool-test-$$
    if mkdir "$d" 2>/dev/null; then
      if [[ -e $d/cpu.cfs_quota_us ]]; then
        echo 100000 >"$d/cpu.cfs_period_us" 2>/dev/null && echo 100000 >"$d/cpu.cfs_quota_us" 2>/dev/null && cg=$d
      elif [[ -e $d/cpu.max ]]; then
        echo "100000 100000" >"$d/cpu.max" 2>/dev/null && cg=$d
      fi
      [[ -n $cg ]] && break
      rmdir "$d" 2>/dev/null
    fi
  fi
done
if [[ -n $cg ]]; then
  # the shell moves itself into the cgroup, then becomes pixpool
  in_cg() { sh -c 'echo $$ >"$0/cgroup.procs" && shift && exec "$@"' "$cg" x "$@"; }
  expect 0 in_cg "$PP" apply --help; has "cgroup quota 1" "apply --help in a 1-CPU cgroup"
  [[ $(bench_workers in_cg "$PP") == "1 " ]] && ok || bad "bench in a 1-CPU cgroup measured workers: $(bench_workers in_cg "$PP")"
  expect 0 in_cg "$PP" batch -v --no-progress "$T/in" "$T/o2"
  grep -q "CPU budget 1 (affinity [0-9]*, cgroup quota 1)" "$T/err" && ok || bad "batch -v in a 1-CPU cgroup: $(cat "$T/err")"
  rmdir "$cg" 2>/dev/null || { sleep 1; rmdir "$cg"; }
else
  echo "note: no cgroup can be made here; the real-quota checks are skipped (test_budget covers the reader)"
fi
finish
