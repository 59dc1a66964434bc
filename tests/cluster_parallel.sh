#!/usr/bin/env bash
# cluster_parallel.sh - the GNU parallel over ssh recipe of docs/BATCH.md ("Shards: many
# machines"), word for word, against a real sshd started here: its own port on 127.0.0.1, a
# host key and a client key made for the test, and four host names (node1..node4) for it in an
# ssh configuration that parallel uses through PARALLEL_SSH; stopped at the end whatever
# happens. Checks: every input processed exactly once, outputs byte-identical to one
# single-machine run, the four shards on four ssh logins; then one shard's pixpool is sent
# SIGTERM mid-run and the same command run again: it completes, nothing partial, nothing
# written twice. Where sshd cannot start, it says why and runs the command with local slots.
# Exit 77 (skipped) when GNU parallel is missing, unless PIXPOOL_REQUIRE_CLUSTER=1.
# About 20 s on 2 CPUs.
# Usage: bash tests/cluster_parallel.sh PIXPOOL REPO_ROOT
set -u
PP=$(realpath "$1")
ROOT=$2
. "$ROOT/tests/lib.sh"
. "$ROOT/tests/cluster_lib.sh"

command -v parallel >/dev/null || skip "GNU parallel not installed (Debian: apt-get install parallel)"
[[ -x /usr/bin/python3 ]] || skip "/usr/bin/python3 not installed"
cmd=$(recipe parallel-ssh)
summary=$(recipe summary)
[[ $cmd == *'parallel --sshlogin 1/node1,1/node2,1/node3,1/node4 '* ]] && ok || bad "no parallel-ssh recipe in docs/BATCH.md: $cmd"
filters=$(filters_of "$cmd")
export PATH=$(dirname "$PP"):$PATH

# ---- sshd on 127.0.0.1 -------------------------------------------------------------------------
S=$T/ssh
mkdir -p "$S"
chmod 700 "$S"
stop_sshd() { [[ -f $S/sshd.pid ]] && kill "$(cat "$S/sshd.pid")" 2>/dev/null; }
trap 'stop_sshd; chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP
why_local=""
sshd=$(command -v sshd || echo /usr/sbin/sshd)
if [[ ! -x $sshd ]]; then
  why_local="sshd is not installed (Debian: openssh-server)"
elif ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
  why_local="ssh or ssh-keygen is not installed (Debian: openssh-client)"
else
  port=$(free_port)
  ssh-keygen -q -t ed25519 -N '' -f "$S/host_key" -C pixpool-test-host
  ssh-keygen -q -t ed25519 -N '' -f "$S/client_key" -C pixpool-test-client
  cp "$S/client_key.pub" "$S/authorized_keys"
  # the privilege separation folder that Debian's sshd wants (as root)
  [[ $(id -u) == 0 ]] && mkdir -p /run/sshd
  cat >"$S/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $S/host_key
AuthorizedKeysFile $S/authorized_keys
PidFile $S/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowUsers $(id -un)
SetEnv PATH=$PATH
CONF
  cat >"$S/ssh_config" <<CONF
Host node1 node2 node3 node4
  HostName 127.0.0.1
  Port $port
  User $(id -un)
  IdentityFile $S/client_key
  IdentitiesOnly yes
  UserKnownHostsFile $S/known_hosts
  StrictHostKeyChecking accept-new
  BatchMode yes
  LogLevel ERROR
CONF
  if ! "$sshd" -f "$S/sshd_config" -E "$S/sshd.log" 2>"$S/start.err"; then
    why_local="sshd does not start: $(cat "$S/start.err" "$S/sshd.log" 2>/dev/null | tail -3)"
  else
    for _ in $(seq 50); do [[ -f $S/sshd.pid ]] && break; sleep 0.1; done
    if ! out=$(ssh -F "$S/ssh_config" node1 'command -v pixpool' 2>&1) || [[ $out != "$PP" ]]; then
      why_local="an ssh login to the test's sshd does not work: $out $(tail -3 "$S/sshd.log")"
    fi
  fi
fi
if [[ -n $why_local ]]; then
  echo "NOTE: $why_local; the recipe runs with --sshlogin 4/: (four local slots) instead"
  cmd=${cmd/--sshlogin 1\/node1,1\/node2,1\/node3,1\/node4/--sshlogin 4/:}
else
  export PARALLEL_SSH="ssh -F $S/ssh_config"
  echo "sshd on 127.0.0.1 port $port; node1..node4 log in through it (${SECONDS}s)"
fi

# ---- the folder, the reference, the recipe ------------------------------------------------------
W=$T/job
mkdir -p "$W"
make_photos "$W/photos" && ok || bad "making the photos failed"
# shellcheck disable=SC2086
expect 0 "$PP" batch -r --no-progress $filters "$W/photos" "$T/ref"
echo "photos and reference ready (${SECONDS}s)"
# run: the recipe in $W, as a user would type it (parallel's own note on citing is silenced)
run() { (cd "$W" && PARALLEL_HOME=$T/parallel-home eval "$cmd") >"$T/run.out" 2>&1; }
mkdir -p "$T/parallel-home" && touch "$T/parallel-home/will-cite"

run && ok || bad "the recipe failed: $(tail -20 "$T/run.out")"
echo "recipe done (${SECONDS}s)"
check_reports "parallel" 4 0 "$W/photos" "$W"/reports/report-?.jsonl
same_tree "$W/out" "$T/ref" "parallel"
if [[ -z $why_local ]]; then
  # each shard ran through its own ssh login: a pid of its own, started by an sshd session
  [[ $(sed -snE '1s/.*"pid":([0-9]+).*/\1/p' "$W"/reports/report-?.jsonl | sort -u | wc -l) == 4 ]] && ok || bad "not 4 runs"
  [[ $(grep -c 'Accepted publickey' "$S/sshd.log") -ge 4 ]] && ok || bad "fewer than 4 ssh logins: $(cat "$S/sshd.log")"
fi
(cd "$W" && eval "$summary") >"$T/sum" 2>&1
[[ $? == 0 ]] && ok || bad "the summary recipe failed: $(cat "$T/sum")"
grep -qxF "files: $NPHOTOS ok, 0 failed, 0 skipped, 0 not done" "$T/sum" && ok || bad "summary: $(cat "$T/sum")"

# ---- one shard's pixpool killed mid-run (SIGTERM), the same command again ---------------------------
rm -rf "$W/out" "$W/reports"
run &
runner=$!
r3=$W/reports/report-3.jsonl
killed=0
for _ in $(seq 1500); do
  if [[ -f $r3 ]] && (($(grep -c '"input"' "$r3") >= 1)); then
    grep -q '"run":"end"' "$r3" && break
    pid=$(sed -nE '1s/.*"pid":([0-9]+).*/\1/p' "$r3")
    kill -TERM "$pid" && killed=1
    break
  fi
  sleep 0.05
done
((killed)) && ok || bad "shard 3 finished before it could be stopped (the photos are too small for this machine?)"
wait "$runner"
rc=$?
[[ $rc == 1 ]] && ok || bad "parallel exited $rc with one job killed, want 1 (jobs failed): $(tail -5 "$T/run.out")"
tail -1 "$r3" | grep -q '"interrupted":"SIGTERM".*"exit":130' && ok || bad "shard 3's report does not end interrupted: $(tail -1 "$r3")"
no_partial "$W/out" "$T/ref" "after SIGTERM"
snapshot "$W/out" >"$T/before"
mkdir -p "$T/first"
cp "$W"/reports/*.jsonl "$T/first/"
for k in 1 2 3 4; do mv "$T/first/report-$k.jsonl" "$T/first/first-$k.jsonl"; done
run && ok || bad "the recipe run again failed: $(tail -20 "$T/run.out")"
same_tree "$W/out" "$T/ref" "after the rerun"
snapshot "$W/out" >"$T/after"
[[ -z $(comm -23 "$T/before" "$T/after") ]] && ok || bad "outputs written again: $(comm -23 "$T/before" "$T/after" | head -3)"
check_reports "parallel, killed and rerun" 4 0 "$W/photos" "$T"/first/first-?.jsonl "$W"/reports/report-?.jsonl
expect 0 "$PP" report "$T"/first/first-?.jsonl "$W"/reports/report-?.jsonl
grep -q 'report-3.jsonl: shard 3/4 .* exit 0$' "$T/out" && ok || bad "report after the rerun: $(cat "$T/out")"
echo "parallel test: ${SECONDS}s"
finish
