# lib.sh - what the shell tests share (sourced after `set -u` and PP=..., ROOT=...): a scratch
# folder $T removed on exit, the pass/fail counters and their summary, and `expect`.
T=$(mktemp -d)
# chmod first: some tests leave folders without write permission behind
trap 'chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# expect CODE CMD...: runs CMD with stdout in $T/out and stderr in $T/err, checks the exit code
expect() {
  local want=$1; shift
  "$@" >"$T/out" 2>"$T/err"
  local got=$?
  if [[ $got == "$want" ]]; then ok; else bad "exit $got (want $want): $* ; stderr: $(head -c 2000 "$T/err")"; fi
}
# finish: prints the counts and exits 0 only when nothing failed
finish() {
  echo "$pass passed, $fail failed"
  [[ $fail == 0 ]]
  exit $?
}
