#!/usr/bin/env bash
# cluster_slurm.sh - the Slurm recipe of docs/BATCH.md ("Shards: many machines"), word for word,
# against a real one-node Slurm cluster started here from Debian's slurm-wlm and munge:
# munged, slurmctld and slurmd on 127.0.0.1 with a generated key and slurm.conf in a scratch
# folder, all stopped at the end whatever happens. Checks: every input processed exactly once,
# outputs byte-identical to one single-machine run, SLURM_CPUS_PER_TASK as each task's CPU
# budget (from its report), every task COMPLETED 0:0; then a task cancelled mid-run (scancel)
# and the job submitted again: it completes, nothing partial, nothing written twice.
# Needs root. Exit 77 (skipped) when something it needs is missing, unless
# PIXPOOL_REQUIRE_CLUSTER=1. About 40 s on 2 CPUs.
# Usage: bash tests/cluster_slurm.sh PIXPOOL REPO_ROOT
set -u
PP=$(realpath "$1")
ROOT=$2
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/cluster_lib.sh"

[[ $(id -u) == 0 ]] || skip "the Slurm test runs slurmd, which needs root"
for c in munged munge slurmctld slurmd sbatch squeue scontrol scancel sinfo; do
  command -v "$c" >/dev/null || skip "$c not installed (Debian: apt-get install slurm-wlm munge)"
done
[[ -x /usr/bin/python3 ]] || skip "/usr/bin/python3 not installed"
plugins=$(dirname "$(find /usr/lib -name proctrack_linuxproc.so -path '*slurm*' -print -quit 2>/dev/null)")
[[ -n $plugins && $plugins != . ]] || skip "Slurm's plugins not found under /usr/lib"

# ---- the cluster ------------------------------------------------------------------------------
C=$T/cluster
mkdir -p "$C/munge" "$C/state" "$C/spool/pp1" "$C/log"
chmod 711 "$C/munge" # munged wants its socket's folder reachable by all
head -c 1024 /dev/urandom >"$C/munge/munge.key"
chmod 400 "$C/munge/munge.key"
export SLURM_CONF=$C/slurm.conf

stop_cluster() {
  # jobs first (their slurmstepd processes outlive slurmd), then the daemons, by their pid files
  if [[ -f $C/slurmctld.pid ]]; then
    scancel --quiet --user=root 2>/dev/null
    for _ in $(seq 50); do [[ -z $(squeue -h 2>/dev/null) ]] && break; sleep 0.2; done
  fi
  local f pids=()
  for f in "$C/slurmd.pid" "$C/slurmctld.pid" "$C/munge/munged.pid"; do
    [[ -f $f ]] && pids+=("$(cat "$f" 2>/dev/null)")
  done
  local pid
  for pid in "${pids[@]}"; do [[ -n $pid ]] && kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    [[ -n $pid ]] || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || continue 2; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null # still there after 5 s
  done
}
trap 'stop_cluster; chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP

munged -f --key-file="$C/munge/munge.key" --socket="$C/munge/munge.sock" \
  --pid-file="$C/munge/munged.pid" --log-file="$C/munge/munged.log" --seed-file="$C/munge/seed" \
  || skip "munged does not start: $(tail -3 "$C/munge/munged.log")"

ctld_port=$(free_port)
d_port=$(free_port)
while [[ $d_port == "$ctld_port" ]]; do d_port=$(free_port); done
cat >"$SLURM_CONF" <<CONF
# a one-node cluster for tests/cluster_slurm.sh: no cgroups, no accounting database
ClusterName=pixpooltest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$C/munge/munge.sock
CredType=cred/munge
PluginDir=$plugins
StateSaveLocation=$C/state
SlurmdSpoolDir=$C/spool/%n
SlurmctldPidFile=$C/slurmctld.pid
SlurmdPidFile=$C/slurmd.pid
SlurmctldLogFile=$C/log/slurmctld.log
SlurmdLogFile=$C/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$C/log/jobcomp.txt
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
KillWait=5
MinJobAge=600
NodeName=pp1 NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=4 RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=pp1 Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -f "$SLURM_CONF" -i || skip "slurmctld does not start: $(tail -5 "$C/log/slurmctld.log")"
slurmd -f "$SLURM_CONF" -N pp1 || skip "slurmd does not start: $(tail -5 "$C/log/slurmd.log")"
for _ in $(seq 150); do
  [[ $(sinfo -h -o %T 2>/dev/null) == idle ]] && break
  sleep 0.2
done
[[ $(sinfo -h -o %T 2>/dev/null) == idle ]] ||
  skip "the node did not come up: $(sinfo 2>&1; tail -5 "$C/log/slurmd.log" "$C/log/slurmctld.log")"
echo "slurm: $(sinfo -V) up on 127.0.0.1 ports $ctld_port/$d_port (${SECONDS}s)"

# ---- the recipe, the folder, the reference ------------------------------------------------------
script=$(recipe slurm-script)
summary=$(recipe summary)
[[ $script == '#!/bin/bash'* && $script == *srun\ pixpool\ batch* ]] && ok || bad "no Slurm recipe in docs/BATCH.md: $script"
[[ -n $summary ]] && ok || bad "no summary recipe in docs/BATCH.md"
filters=$(filters_of "$script")
export PATH=$(dirname "$PP"):$PATH # the job finds `pixpool` on its PATH (sbatch exports it)

W1=$T/job1
mkdir -p "$W1/reports"
make_photos "$W1/photos" && ok || bad "making the photos failed"
printf '%s\n' "$script" >"$W1/batch.sbatch"
# shellcheck disable=SC2086
expect 0 "$PP" batch -r --no-progress $filters "$W1/photos" "$T/ref"
[[ $(find "$T/ref" -type f | wc -l) == "$NPHOTOS" ]] && ok || bad "the reference run wrote $(find "$T/ref" -type f | wc -l) files"
echo "photos and reference ready (${SECONDS}s)"

# submit WORKDIR: submits batch.sbatch there as the doc says (one CPU per task: the node has 4)
submit() {
  (cd "$1" && sbatch --parsable --cpus-per-task=1 --output="$T/slurm-%A_%a.out" batch.sbatch)
}
# wait_job JOBID: until no task of it is pending or running (at most 300 s)
wait_job() {
  local i
  for i in $(seq 1500); do
    [[ -z $(squeue -h -j "$1" 2>/dev/null) ]] && return 0
    sleep 0.2
  done
  bad "job $1 still running after 300 s: $(squeue -j "$1")"
  scancel "$1"
  return 1
}
# task_states JOBID: "TASK STATE EXITCODE" per array task, from scontrol (sacct needs slurmdbd)
task_states() {
  scontrol -o show job "$1" | sed -nE 's/.*ArrayTaskId=([0-9]+) .*JobState=([A-Z_]+) .*ExitCode=([0-9]+:[0-9]+).*/\1 \2 \3/p' | sort -n
}
# jobcomp_states JOBID: the same from Slurm's job completion log
jobcomp_states() {
  grep -E " ArrayJobId=$1 " "$C/log/jobcomp.txt" |
    sed -nE 's/.*JobState=([A-Z_]+) .*ArrayTaskId=([0-9]+) .*ExitCode=([0-9]+:[0-9]+).*/\2 \1 \3/p' | sort -n
}
all_done='1 COMPLETED 0:0
2 COMPLETED 0:0
3 COMPLETED 0:0
4 COMPLETED 0:0'

# ---- 1. the job as the doc gives it ----------------------------------------------------------------
job=$(submit "$W1") && ok || bad "sbatch failed: $job"
wait_job "$job"
echo "job $job done (${SECONDS}s)"
states=$(task_states "$job")
[[ $states == "$all_done" ]] && ok || bad "job $job task states (scontrol): $states; $(cat "$T"/slurm-"$job"_*.out)"
states=$(jobcomp_states "$job")
[[ $states == "$all_done" ]] && ok || bad "job $job task states (job completion log): $states"
reports=("$W1"/reports/report-"$job"_*.jsonl)
[[ ${#reports[@]} == 4 ]] && ok || bad "want 4 reports, found: ${reports[*]}"
check_reports "job $job" 4 1 "$W1/photos" "${reports[@]}"
same_tree "$W1/out" "$T/ref" "job $job"
(cd "$W1" && eval "$summary") >"$T/sum" 2>&1
[[ $? == 0 ]] && ok || bad "the summary recipe failed: $(cat "$T/sum")"
grep -qxF "files: $NPHOTOS ok, 0 failed, 0 skipped, 0 not done" "$T/sum" && ok || bad "summary: $(cat "$T/sum")"
[[ $(grep -c 'CPU budget 1 (.*SLURM_CPUS_PER_TASK 1)' "$T/sum") == 4 ]] && ok || bad "summary budgets: $(cat "$T/sum")"

# ---- 2. a task cancelled mid-run, the job submitted again ------------------------------------------
W2=$T/job2
mkdir -p "$W2/reports"
cp -r "$W1/photos" "$W1/batch.sbatch" "$W2/"
job=$(submit "$W2") && ok || bad "sbatch failed: $job"
# task 2 is cancelled once its report shows a file done (and no end line)
r2=$W2/reports/report-${job}_2.jsonl
cancelled=0
for _ in $(seq 1500); do
  if [[ -f $r2 ]] && (($(grep -c '"input"' "$r2") >= 1)); then
    if grep -q '"run":"end"' "$r2"; then break; fi
    scancel "${job}_2" && cancelled=1
    break
  fi
  sleep 0.05
done
((cancelled)) && ok || bad "task 2 of job $job finished before it could be cancelled (the photos are too small for this machine?)"
wait_job "$job"
echo "job $job (task 2 cancelled after $(grep -c '"input"' "$r2") files) done (${SECONDS}s)"
states=$(task_states "$job")
want='1 COMPLETED 0:0
2 CANCELLED 0:15
3 COMPLETED 0:0
4 COMPLETED 0:0'
[[ $states == "$want" ]] && ok || bad "job $job task states after scancel: $states"
tail -1 "$r2" | grep -q '"interrupted":"SIGTERM".*"exit":130' && ok || bad "task 2's report does not end interrupted: $(tail -1 "$r2")"
(($(grep -c '"status":"ok"' "$r2") < $(sed -nE '1s/.*"files":([0-9]+).*/\1/p' "$r2"))) && ok || bad "task 2 did all its files before it stopped"
no_partial "$W2/out" "$T/ref" "after scancel"
snapshot "$W2/out" >"$T/before"
first=$job

job=$(submit "$W2") && ok || bad "sbatch (again) failed: $job"
wait_job "$job"
echo "job $job (the same again) done (${SECONDS}s)"
states=$(task_states "$job")
[[ $states == "$all_done" ]] && ok || bad "job $job task states (resubmitted): $states; $(cat "$T"/slurm-"$job"_*.out)"
same_tree "$W2/out" "$T/ref" "after resubmission"
snapshot "$W2/out" >"$T/after"
# what existed before is untouched (same inode, same modification time)
[[ -z $(comm -23 "$T/before" "$T/after") ]] && ok || bad "outputs written again: $(comm -23 "$T/before" "$T/after" | head -3)"
check_reports "jobs $first + $job" 4 1 "$W2/photos" "$W2"/reports/report-*.jsonl
(cd "$W2" && eval "$summary") >"$T/sum" 2>&1
[[ $? == 0 ]] && ok || bad "summary after resubmission failed: $(cat "$T/sum")"
done_before=$(grep -c '"status":"ok"' "$W2"/reports/report-"$first"_*.jsonl | awk -F: '{s += $2} END {print s}')
grep -qxF "files: $NPHOTOS ok, 0 failed, $done_before skipped, 0 not done" "$T/sum" && ok ||
  bad "summary after resubmission (want $done_before skipped): $(cat "$T/sum")"
grep -q 'written by more than one run' "$T/sum" && bad "summary: written twice: $(cat "$T/sum")" || ok
echo "pixpool report after the resubmission:"
sed 's/^/  /' "$T/sum"
echo "slurm test: ${SECONDS}s"
finish
