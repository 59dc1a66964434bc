#!/usr/bin/env bash
# cli_interrupt.sh - Ctrl-C (SIGINT) and SIGTERM stop `batch` and `bench` through the library's
# progress callback: the file in flight stops between bands instead of being finished, no
# partial or temporary output remains, no worker process is left, batch's report ends with the
# signal and exit 130, and both commands exit 130. The images are generated here (noise, so
# that bilateral:d=30 takes seconds a file on any machine: 1200x1200 and 2000x2000, several times
# what a fast core does in the second before the signal). Usage: bash tests/cli_interrupt.sh PIXPOOL REPO_ROOT
set -u
PP=$1
ROOT=$2
. "$ROOT/tests/lib.sh"
PY=/usr/bin/python3
if ! "$PY" -c 'import PIL, numpy' 2>/dev/null; then
  echo "SKIP: $PY has no Pillow/numpy (apt-get install python3-pil python3-numpy)"
  ok
  finish
fi
mkdir -p "$T/in" "$T/one"
"$PY" - "$T" <<'EOF'
import sys
import numpy as np
from PIL import Image
t = sys.argv[1]
rng = np.random.default_rng(5)
for i in range(6):
    Image.fromarray(rng.integers(0, 256, (1200, 1200, 3)).astype("uint8")).save(f"{t}/in/n{i}.png")
Image.fromarray(rng.integers(0, 256, (2000, 2000, 3)).astype("uint8")).save(f"{t}/one/big.png")
EOF

# left_over: processes still running whose command line names this test's folder
left_over() { pgrep -f -- "$T/" | grep -v "^$$\$" || true; }

# run_batch SIGNAL OUT BACKEND: starts a batch on $T/in (each file takes over a second of CPU),
# signals it a second later, and checks what is left
run_batch() {
  local sig=$1 out=$2 backend=$3
  "$PP" batch -b "$backend" -j 2 -t 1 --no-progress -f bilateral:d=30 --report "$T/$out.jsonl" \
    "$T/in" "$T/$out" 2>"$T/$out.err" &
  local pid=$!
  sleep 1
  kill -"$sig" $pid
  wait $pid
  local rc=$?
  [[ $rc == 130 ]] && ok || bad "batch -b $backend after SIG$sig: exit $rc (want 130): $(cat "$T/$out.err")"
  local n
  n=$(find "$T/$out" -name '*.png' 2>/dev/null | wc -l)
  [[ $n -lt 6 ]] && ok || bad "batch -b $backend: all 6 files written despite SIG$sig"
  [[ -z $(find "$T/$out" -name '.*pp-tmp*' 2>/dev/null) ]] && ok || bad "batch -b $backend: temporary files left"
  for f in $(find "$T/$out" -name '*.png' 2>/dev/null); do
    "$PY" -c 'import sys; from PIL import Image; Image.open(sys.argv[1]).load()' "$f" 2>/dev/null &&
      ok || bad "batch -b $backend: $f is not a whole PNG"
  done
  tail -1 "$T/$out.jsonl" | grep -q "\"interrupted\":\"SIG$sig\",\"exit\":130" && ok ||
    bad "batch -b $backend: the report does not end with SIG$sig and exit 130: $(tail -1 "$T/$out.jsonl")"
  local ok_lines
  ok_lines=$(grep -c '"status":"ok"' "$T/$out.jsonl")
  [[ $ok_lines == "$n" ]] && ok || bad "batch -b $backend: $ok_lines ok lines for $n files"
  sleep 0.2
  [[ -z $(left_over) ]] && ok || bad "batch -b $backend: processes left: $(left_over)"
}
run_batch INT out_serial serial
run_batch TERM out_term serial
run_batch INT out_fork fork

# the file in flight stops: one file of seconds, SIGINT half a second in; before the callback
# the thread runner finished it and wrote it
"$PP" batch -b openmp -j 1 -t 2 --no-progress -f bilateral:d=30 --report "$T/one.jsonl" \
  "$T/one" "$T/one_out" 2>"$T/one.err" &
pid=$!
sleep 0.5
kill -INT $pid
wait $pid
rc=$?
[[ $rc == 130 ]] && ok || bad "one-file batch after SIGINT: exit $rc: $(cat "$T/one.err")"
[[ ! -e $T/one_out/big.png ]] && ok || bad "the file in flight was finished, not stopped"
grep -q '"not_done":1' "$T/one.jsonl" && ok || bad "report: not_done is not 1: $(tail -1 "$T/one.jsonl")"
[[ -z $(find "$T" -name '.*pp-tmp*') ]] && ok || bad "one-file batch: temporary file left"

# bench: SIGINT during a run exits 130 at the next band, on every backend, with no worker left.
# A run on one worker is one band, so the signal waits for it: a 1200x1200 file keeps that short
for b in serial openmp fork; do
  "$PP" bench -b "$b" -j 2 --no-startup -f bilateral:d=30 "$T/in/n0.png" >"$T/bench.out" 2>"$T/bench.err" &
  pid=$!
  sleep 1
  kill -INT $pid
  wait $pid
  rc=$?
  [[ $rc == 130 ]] && ok || bad "bench -b $b after SIGINT: exit $rc: $(cat "$T/bench.err")"
  sleep 0.2
  [[ -z $(left_over) ]] && ok || bad "bench -b $b: processes left: $(left_over)"
done
finish
