#!/usr/bin/env bash
# cli_report.sh - end-to-end checks of `pixpool report`: the summary of hand-written report
# files (counts, bytes, CPU and wall time, slowest files, failures, the problems of the whole,
# JSON escapes, malformed lines, usage errors) and of the reports of real `pixpool batch` shards.
# Usage: bash tests/cli_report.sh PIXPOOL REPO_ROOT
set -u
PP=$1
ROOT=$2
. "$ROOT/tests/lib.sh"
out_has() { grep -qxF -- "$1" "$T/out" && ok || bad "stdout lacks the line '$1': $(head -c 3000 "$T/out")"; }
err_has() { grep -qF -- "$1" "$T/err" && ok || bad "stderr lacks '$1': $(head -c 2000 "$T/err")"; }

start() { # start SHARD FILES [BUDGET]
  printf '{"run":"start","version":"0.1.0","host":"h%s","pid":1,"shard":"%s","files":%s,"backend":"fork","jobs":1,"threads":2,"cpu_budget":%s,"budget_from":"affinity 4, SLURM_CPUS_PER_TASK %s","input_dir":"in","output_dir":"out"}\n' \
    "${1%/*}" "$1" "$2" "${3:-2}" "${3:-2}"
}
file() { # file INPUT STATUS MS [BYTES_IN BYTES_OUT ERROR]
  local err=null
  [[ -n ${6:-} ]] && err="\"$6\""
  printf '{"input":"%s","output":"out/x","status":"%s","error":%s,"width":1,"height":1,"bytes_in":%s,"bytes_out":%s,"ms":%s}\n' \
    "$1" "$2" "$err" "${4:-null}" "${5:-null}" "$3"
}
end() { # end FILES OK FAILED SKIPPED NOT_DONE SECONDS CPU INTERRUPTED EXIT
  printf '{"run":"end","files":%s,"ok":%s,"failed":%s,"skipped":%s,"not_done":%s,"megapixels":1.0,"seconds":%s,"cpu_seconds":%s,"interrupted":%s,"exit":%s}\n' "$@"
}

# ---- three shards of one job: one failure, one skip --------------------------------------------
{ start 1/3 2; file in/a.png ok 10.5 100 200; file in/b.png ok 30.25 1000 2000; end 2 2 0 0 0 0.5 0.75 null 0; } >"$T/r1.jsonl"
{ start 2/3 2; file in/c.png failed 2 50 null "in/c.png: truncated"; file in/d.png skipped 0.01 60; end 2 0 1 1 0 0.25 0.125 null 1; } >"$T/r2.jsonl"
{ start 3/3 1 4; file 'in/sub/\u00e9\ud83d\ude00 \"q\".png' ok 20 7 8; end 1 1 0 0 0 1.5 2 null 0; } >"$T/r3.jsonl"
expect 1 "$PP" report "$T/r1.jsonl" "$T/r2.jsonl" "$T/r3.jsonl"
out_has "pixpool report: 3 reports, 3 runs"
out_has "files: 3 ok, 1 failed, 1 skipped, 0 not done"
out_has "bytes (ok files): 1107 in, 2208 out"
out_has "time: 2.875 s CPU (user + system, all runs), 1.500 s wall (the longest run), 0.063 s summed over files"
out_has "  $T/r1.jsonl: shard 1/3 on h1, fork 1 job x 2 threads, CPU budget 2 (affinity 4, SLURM_CPUS_PER_TASK 2): 2 ok, 0 failed, 0 skipped in 0.500 s, 0.750 s CPU, exit 0"
out_has "  $T/r3.jsonl: shard 3/3 on h3, fork 1 job x 2 threads, CPU budget 4 (affinity 4, SLURM_CPUS_PER_TASK 4): 1 ok, 0 failed, 0 skipped in 1.500 s, 2.000 s CPU, exit 0"
# the slowest, in order, after its heading; failures with their errors; the failed run
sed -n '/^slowest files:$/,/^failed files:$/p' "$T/out" >"$T/slow"
printf '%s\n' "slowest files:" "      30.250 ms  in/b.png" "      20.000 ms  in/sub/é😀 \"q\".png" \
  "      10.500 ms  in/a.png" "       2.000 ms  in/c.png (failed)" "       0.010 ms  in/d.png (skipped)" \
  "failed files:" >"$T/slow.want"
cmp -s "$T/slow" "$T/slow.want" && ok || bad "slowest: $(diff "$T/slow.want" "$T/slow")"
out_has "  in/c.png: truncated"
out_has "  $T/r2.jsonl: the run of shard 2/3 exited with 1"
expect 1 "$PP" report --slowest 2 "$T/r1.jsonl" "$T/r2.jsonl" "$T/r3.jsonl"
[[ $(sed -n '/^slowest files:$/,/^failed files:$/p' "$T/out" | wc -l) == 4 ]] && ok || bad "--slowest 2: $(cat "$T/out")"
expect 1 "$PP" report --slowest 0 "$T/r1.jsonl" "$T/r2.jsonl" "$T/r3.jsonl"
grep -q '^slowest files:' "$T/out" && bad "--slowest 0 still lists files" || ok

# ---- the JSON summary ------------------------------------------------------------------------
expect 1 "$PP" report --json "$T/r1.jsonl" "$T/r2.jsonl" "$T/r3.jsonl"
if [[ -x /usr/bin/python3 ]]; then
  /usr/bin/python3 - "$T/out" <<'PY' && ok || bad "--json: $(cat "$T/out")"
import json, sys
s = json.load(open(sys.argv[1], encoding="utf-8"))
assert (s["reports"], s["runs"], s["ok"], s["failed"], s["skipped"], s["not_done"]) == (3, 3, 3, 1, 1, 0), s
assert (s["bytes_in"], s["bytes_out"], s["cpu_seconds"], s["wall_seconds"]) == (1107, 2208, 2.875, 1.5), s
assert [x["input"] for x in s["slowest"]] == ["in/b.png", 'in/sub/\u00e9\U0001f600 "q".png', "in/a.png", "in/c.png", "in/d.png"], s
assert s["failures"] == [{"input": "in/c.png", "error": "in/c.png: truncated"}], s
assert [x["shard"] for x in s["shards"]] == ["1/3", "2/3", "3/3"] and s["shards"][2]["cpu_budget"] == 4, s
assert s["problems"] == [sys.argv[1].rsplit("/", 1)[0] + "/r2.jsonl: the run of shard 2/3 exited with 1"] or \
    len(s["problems"]) == 1 and s["problems"][0].endswith("r2.jsonl: the run of shard 2/3 exited with 1"), s
PY
fi

# ---- all good: exit 0; standard input ----------------------------------------------------------
{ start 2/3 1; file in/c.png ok 3 50 60; end 1 1 0 0 0 0.1 0.1 null 0; } >"$T/r2b.jsonl"
expect 0 "$PP" report "$T/r1.jsonl" "$T/r3.jsonl" - <"$T/r2b.jsonl"
out_has "files: 4 ok, 0 failed, 0 skipped, 0 not done"
grep -q '^problems:' "$T/out" && bad "problems when all is well: $(cat "$T/out")" || ok

# ---- the problems of the whole ---------------------------------------------------------------
expect 1 "$PP" report "$T/r1.jsonl" "$T/r3.jsonl"
out_has "  shard 2/3: no report"
{ start 2/3 3; file in/c.png ok 3 50 60; } >"$T/killed.jsonl" # killed: no end line
expect 1 "$PP" report "$T/r1.jsonl" "$T/killed.jsonl" "$T/r3.jsonl"
out_has "files: 4 ok, 0 failed, 0 skipped, 2 not done"
out_has "  $T/killed.jsonl: the run of shard 2/3 has no end record: it was killed or is still running"
{ start 2/3 3; file in/c.png ok 3 50 60; end 3 1 0 0 2 0.2 0.1 '"SIGTERM"' 130; } >"$T/term.jsonl"
expect 1 "$PP" report "$T/r1.jsonl" "$T/term.jsonl" "$T/r3.jsonl"
out_has "  $T/term.jsonl: the run of shard 2/3 was interrupted (SIGTERM)"
out_has "files: 4 ok, 0 failed, 0 skipped, 2 not done"
# ... finished by a resubmission of that shard: no problem, nothing not done
{ start 2/3 3; file in/c.png skipped 0.1; file in/e.png ok 1 5 6; file in/f.png ok 1 5 6; end 3 2 0 1 0 0.2 0.1 null 0; } >"$T/again.jsonl"
expect 0 "$PP" report "$T/r1.jsonl" "$T/term.jsonl" "$T/again.jsonl" "$T/r3.jsonl"
out_has "files: 6 ok, 0 failed, 1 skipped, 0 not done"
grep -qF "$T/term.jsonl: shard 2/3 on h2, fork 1 job x 2 threads, CPU budget 2 (affinity 4, SLURM_CPUS_PER_TASK 2): 1 ok, 0 failed, 0 skipped in 0.200 s, 0.100 s CPU, exit 130 (SIGTERM); finished by another run" "$T/out" && ok || bad "superseded run: $(cat "$T/out")"
# an input written by two runs
{ start 2/3 1; file in/a.png ok 3 50 60; end 1 1 0 0 0 0.1 0.1 null 0; } >"$T/dup.jsonl"
expect 1 "$PP" report "$T/r1.jsonl" "$T/dup.jsonl" "$T/r3.jsonl"
out_has "written by more than one run: 1 input"
out_has "  in/a.png: written by more than one run"
# shards of different N
{ start 2/4 1; file in/z.png ok 3; end 1 1 0 0 0 0.1 0.1 null 0; } >"$T/n4.jsonl"
expect 1 "$PP" report "$T/r1.jsonl" "$T/n4.jsonl"
out_has "  the runs split the files into different numbers of shards"

# ---- bad input: named with its line, the rest still summed, exit 1 -----------------------------
{ start 1/1 3; file in/a.png ok 1 2 3; echo '{"input":"in/b.png","status":"ok",'; echo 'not json';
  echo '{"input":"in/c.png","status":"ok","ms":1e}'; printf '{"input":"in/\001.png","status":"ok"}\n';
  echo '{"input":"\u12G4","status":"ok"}'; echo '{"x":1}'; echo '{"input":"a","status":"ok"} x';
  echo '{"input":"in/d.png","status":"ok","ms":2,"extra":{"nested":[1,{"a":null}],"b":true}}';
  end 3 3 0 0 0 0.1 0.1 null 0; } >"$T/bad.jsonl"
expect 1 "$PP" report "$T/bad.jsonl"
err_has "pixpool: error: $T/bad.jsonl:3: a key is not a string"
err_has "pixpool: error: $T/bad.jsonl:4: not a JSON object"
err_has "pixpool: error: $T/bad.jsonl:5: a number with an empty exponent"
err_has "pixpool: error: $T/bad.jsonl:6: a control character inside a string"
err_has "pixpool: error: $T/bad.jsonl:7: a \\u escape has a character that is not hexadecimal"
err_has "pixpool: error: $T/bad.jsonl:8: neither a file record (input, status) nor a run record"
err_has "pixpool: error: $T/bad.jsonl:9: more text after the object"
[[ $(wc -l <"$T/err") == 7 ]] && ok || bad "want 7 errors: $(cat "$T/err")"
out_has "files: 2 ok, 0 failed, 0 skipped, 1 not done"
expect 1 "$PP" report "$T/nonexistent.jsonl" "$T/r1.jsonl"
err_has "pixpool: error: $T/nonexistent.jsonl: No such file or directory"
: >"$T/empty.jsonl"
expect 0 "$PP" report "$T/empty.jsonl"
out_has "files: 0 ok, 0 failed, 0 skipped, 0 not done"

# ---- usage --------------------------------------------------------------------------------------
expect 0 "$PP" report --help
grep -q '^usage: pixpool report \[options\] REPORT...' "$T/out" && ok || bad "--help: $(cat "$T/out")"
expect 2 "$PP" report
err_has "report needs at least one REPORT file"
expect 2 "$PP" report --slowest -1 "$T/r1.jsonl"
expect 2 "$PP" report --bogus "$T/r1.jsonl"
expect 0 "$PP" --help
grep -q '^  report ' "$T/out" && ok || bad "pixpool --help lacks report"
# the man page documents the command and its options
if command -v man >/dev/null; then
  MANWIDTH=100 man -l "$ROOT/docs/pixpool.1" 2>/dev/null >"$T/man"
  for w in "pixpool report [options] REPORT..." "--slowest N" "--json"; do
    grep -qF -- "$w" "$T/man" && ok || bad "the man page lacks '$w'"
  done
fi

# ---- the reports of real shards ------------------------------------------------------------------
G=$T/good
mkdir -p "$G/sub"
cp "$ROOT"/samples/*.png "$G/"
cp "$ROOT/samples/odd-rgb-257x131.png" "$G/sub/x.png"
head -c 300 "$ROOT/samples/hills-gray-640x480.png" >"$G/sub/cut.png"
for k in 1 2 3; do
  "$PP" batch -r --no-progress --shard $k/3 -f invert --report "$T/s$k.jsonl" "$G" "$T/o" 2>/dev/null
done
expect 1 "$PP" report "$T"/s?.jsonl
out_has "files: 8 ok, 1 failed, 0 skipped, 0 not done"
want_in=$(find "$G" -name '*.png' ! -name cut.png -printf '%s\n' | awk '{s += $1} END {print s}')
want_out=$(find "$T/o" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
out_has "bytes (ok files): $want_in in, $want_out out"
grep -qF "$G/sub/cut.png: " "$T/out" && ok || bad "the failed file is not listed: $(cat "$T/out")"
[[ $(grep -c 'CPU budget' "$T/out") == 3 ]] && ok || bad "not 3 runs: $(cat "$T/out")"
for k in 1 2 3; do "$PP" batch -r --no-progress --skip-existing --shard $k/3 -f invert --report "$T/t$k.jsonl" "$G" "$T/o" 2>/dev/null; done
expect 1 "$PP" report "$T"/s?.jsonl "$T"/t?.jsonl
out_has "files: 8 ok, 2 failed, 8 skipped, 0 not done"
grep -q 'written by more than one run' "$T/out" && bad "skipped counted as written: $(cat "$T/out")" || ok
finish
