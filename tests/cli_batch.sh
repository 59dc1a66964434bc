#!/usr/bin/env bash
# cli_batch.sh - end-to-end checks of `pixpool batch`: which files are taken, where outputs go,
# identical results to `apply`, bad files, existing outputs, interruption and resume, shards,
# the JSON report, --files-from, loops and the output folder inside the input, the CPU budget.
# Inputs are generated from samples/*.png with the CLI itself.
# Usage: bash tests/cli_batch.sh PIXPOOL REPO_ROOT
set -u
PP=$1
ROOT=$2
. "$ROOT/tests/lib.sh"
err_has() { grep -qF -- "$1" "$T/err" && ok || bad "stderr lacks '$1': $(head -c 2000 "$T/err")"; }
err_lacks() { grep -qF -- "$1" "$T/err" && bad "stderr has '$1': $(head -c 2000 "$T/err")" || ok; }
# count_files DIR: regular files below DIR
count_files() { find "$1" -type f | wc -l; }
no_tmp() { [[ -z $(find "$1" -name '*.pp-tmp-*' 2>/dev/null) ]] && ok || bad "temporary files left in $1: $(find "$1" -name '*.pp-tmp-*')"; }
json_ok() {
  if [[ -x /usr/bin/python3 ]]; then
    /usr/bin/python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]' "$1"
  elif command -v jq >/dev/null; then
    jq -e . "$1" >/dev/null
  else
    echo "no python3 or jq: JSON not checked" >&2; true
  fi
}

S=$ROOT/samples
L=$S/landscape-rgb-1024x768.png
F="-f gaussian:sigma=1.5 -f sharpen"

# ---- inputs: nested folders, mixed formats, upper-case extensions ---------------------------
G=$T/good
mkdir -p "$G/sub/deep" "$G/Sub2"
cp "$L" "$G/a.png"
cp "$S/portrait-rgb-480x640.png" "$G/B.PNG"
"$PP" apply -f crop:x=100,y=50,width=300,height=200 "$L" "$G/c.jpg"
"$PP" apply -f crop:width=211,height=97 "$S/valley-rgb-800x600.png" "$G/D.JPG"
"$PP" apply -f crop:x=3,y=5,width=64,height=48 "$S/vignette-rgba-512x384.png" "$G/sub/e.bmp"
"$PP" apply -f crop:width=101,height=77 "$S/fog-grayalpha-320x240.png" "$G/sub/deep/f.tga"
cp "$S/odd-rgb-257x131.png" "$G/sub/g.png"
cp "$S/hills-gray-640x480.png" "$G/Sub2/h.Png"
echo "not an image at all" >"$G/notes.txt"
cp "$S/odd-rgb-257x131.png" "$G/sub/noext"
top=4       # a.png B.PNG c.jpg D.JPG
all=8
[[ $(count_files "$G") == 10 ]] && ok || bad "input generation failed"

# ---- usage errors: exit 2, before anything is touched ---------------------------------------
expect 2 "$PP" batch
expect 2 "$PP" batch -f gausian "$G" "$T/u1"; err_has "available filters:"
[[ ! -e $T/u1 ]] && ok || bad "a bad spec created OUTPUT_DIR"
expect 2 "$PP" batch -f gaussian:sigma=0 "$G" "$T/u1"
expect 2 "$PP" batch --format gif "$G" "$T/u1"
expect 2 "$PP" batch --shard 0/3 "$G" "$T/u1"
expect 2 "$PP" batch --shard 4/3 "$G" "$T/u1"
expect 2 "$PP" batch -j 0 "$G" "$T/u1"
expect 2 "$PP" batch -b gpu "$G" "$T/u1"
expect 2 "$PP" batch --jpeg-subsample 4:2:0 "$G" "$T/u1"
err_has "pixpool: error: --jpeg-subsample: '4:2:0' is not one of auto, 444, 422, 420"
[[ $(wc -l <"$T/err") == 1 ]] && ok || bad "--jpeg-subsample: not one line: $(cat "$T/err")"
expect 2 "$PP" batch "$T/nonexistent" "$T/u1"
expect 2 "$PP" batch "$L" "$T/u1"
expect 2 "$PP" batch "$G" "$G"; err_has "OUTPUT_DIR is INPUT_DIR"
expect 2 "$PP" batch -0 "$G" "$T/u1"
expect 2 "$PP" batch --files-from "$T/nolist" "$G" "$T/u1"
[[ ! -e $T/u1 ]] && ok || bad "a usage error created OUTPUT_DIR"
expect 0 "$PP" batch --help
for o in --filter --recursive --format --png-level --quality --max-pixels --backend --jobs \
  --threads --files-from --null --skip-existing --overwrite --shard --report --progress \
  --no-progress --verbose; do
  grep -qF -- "$o" "$T/out" && ok || bad "--help lacks $o"
done
grep -q "default" "$T/out" && ok || bad "--help shows no defaults"

# ---- not recursive vs recursive; results equal `apply` byte for byte ------------------------
expect 0 "$PP" batch $F "$G" "$T/o1"
[[ $(count_files "$T/o1") == "$top" ]] && ok || bad "non-recursive: $(count_files "$T/o1") outputs, want $top"
expect 0 "$PP" batch -r $F "$G" "$T/o2"
[[ $(count_files "$T/o2") == "$all" ]] && ok || bad "recursive: $(count_files "$T/o2") outputs, want $all"
for rel in a.png B.PNG c.jpg D.JPG sub/e.bmp sub/deep/f.tga sub/g.png Sub2/h.Png; do
  if [[ -f $T/o2/$rel ]]; then
    "$PP" apply $F "$G/$rel" "$T/ref.${rel##*.}" 2>/dev/null
    cmp -s "$T/o2/$rel" "$T/ref.${rel##*.}" && ok || bad "$rel differs from apply"
  else
    bad "missing output $rel"
  fi
done
[[ ! -e $T/o2/notes.txt && ! -e $T/o2/sub/noext ]] && ok || bad "a non-image name was taken"
# the same bytes with every runner
for b in "-b serial" "-b openmp -j 1 -t 2" "-b openmp -j 2" "-b fork -j 2" "-b fork -j 1 -t 2"; do
  rm -rf "$T/o3"
  expect 0 "$PP" batch -r $b $F "$G" "$T/o3"
  diff -r "$T/o2" "$T/o3" >/dev/null && ok || bad "batch $b differs from the default"
done

# ---- --format ---------------------------------------------------------------------------------
expect 0 "$PP" batch -r --format png -f invert "$G" "$T/fp"
[[ $(find "$T/fp" -type f -iname '*.png' | wc -l) == "$all" ]] && ok || bad "--format png: $(find "$T/fp" -type f)"
[[ -f $T/fp/c.png && -f $T/fp/sub/deep/f.png && -f $T/fp/B.PNG ]] && ok || bad "--format png names: $(find "$T/fp" -type f)"
expect 0 "$PP" info "$T/fp/c.png"; grep -q "format=png" "$T/out" && ok || bad "c.png is not PNG"
expect 0 "$PP" batch --format jpg -f invert "$G" "$T/fj"
[[ -f $T/fj/a.jpg && -f $T/fj/c.jpg && -f $T/fj/D.JPG ]] && ok || bad "--format jpg names: $(ls "$T/fj")"
expect 0 "$PP" info "$T/fj/a.jpg"; grep -q "format=jpeg" "$T/out" && ok || bad "a.jpg is not JPEG"
expect 0 "$PP" batch --format tga "$G" "$T/ft"
[[ -f $T/ft/a.tga ]] && ok || bad "--format tga"

# ---- existing outputs ---------------------------------------------------------------------------
expect 1 "$PP" batch -r $F "$G" "$T/o2"
err_has "$T/o2/a.png: exists (use --overwrite or --skip-existing)"
[[ $(grep -c "exists (use --overwrite or --skip-existing)" "$T/err") == "$all" ]] && ok || bad "one error per existing output"
expect 0 "$PP" batch -r --skip-existing $F "$G" "$T/o2"; err_has "0 ok, 0 failed, $all skipped"
touch "$G/a.png"; sleep 0.05; touch "$G/a.png"
expect 0 "$PP" batch -r --skip-existing $F "$G" "$T/o2"; err_has "1 ok, 0 failed, $((all - 1)) skipped"
expect 0 "$PP" batch -r --overwrite $F "$G" "$T/o2"; err_has "$all ok"

# ---- bad files: each reported, the others done, exit 1 -----------------------------------------
B=$T/badin
mkdir -p "$B/x"
cp "$S/odd-rgb-257x131.png" "$B/good1.png"
cp "$S/hills-gray-640x480.png" "$B/x/good2.png"
head -c 3000 "$L" >"$B/trunc.png"
: >"$B/zero.png"
echo "hello, I am text" >"$B/x/text.jpg"
expect 1 "$PP" batch -r -f invert "$B" "$T/ob"
for f in trunc.png zero.png x/text.jpg; do err_has "pixpool: error: $B/$f:"; done
err_has "2 ok, 3 failed"
[[ -f $T/ob/good1.png && -f $T/ob/x/good2.png ]] && ok || bad "good files not done next to bad ones"
[[ ! -e $T/ob/trunc.png && ! -e $T/ob/zero.png && ! -e $T/ob/x/text.jpg ]] && ok || bad "output written for a bad input"
no_tmp "$T/ob"
expect 1 "$PP" batch -r -b openmp -f invert "$B" "$T/ob2"; err_has "2 ok, 3 failed"
expect 1 "$PP" batch -r --max-pixels 40000 -f invert "$B" "$T/ob3"; err_has "over the limit"
err_has "1 ok, 4 failed"
# an unreadable file: root reads anything, so drop privileges when running as root
if [[ $(id -u) != 0 ]]; then
  chmod 000 "$B/trunc.png"
  expect 1 "$PP" batch -r -f invert "$B" "$T/ob4"; err_has "trunc.png: Permission denied"
else
  chmod -R a+rX "$T" && chmod 777 "$T"
  chmod 000 "$B/trunc.png"
  if setpriv --reuid=65534 --regid=65534 --clear-groups "$PP" --version >/dev/null 2>&1; then
    expect 1 setpriv --reuid=65534 --regid=65534 --clear-groups "$PP" batch -r -f invert "$B" "$T/ob4"
    err_has "trunc.png: Permission denied"
    err_has "2 ok, 3 failed"
  else
    echo "skip: cannot run pixpool as nobody (unreadable-file check)"
  fi
fi
chmod 644 "$B/trunc.png"

# ---- the JSON report -------------------------------------------------------------------------
W=$T/weird
mkdir -p "$W"
cp "$S/odd-rgb-257x131.png" "$W/quote\"back\\slash.png"
cp "$S/odd-rgb-257x131.png" "$W/tab	and
newline.png"
cp "$S/odd-rgb-257x131.png" "$W/$(printf 'latin1-\xe9')-ünï.png"
cp "$B/zero.png" "$W/empty.png"
expect 1 "$PP" batch -f invert --report "$T/r.jsonl" "$W" "$T/ow"
json_ok "$T/r.jsonl" && ok || bad "report is not JSON lines: $(cat "$T/r.jsonl")"
[[ $(wc -l <"$T/r.jsonl") == 6 ]] && ok || bad "report has $(wc -l <"$T/r.jsonl") lines, want 6 (start, 4 files, end)"
if [[ -x /usr/bin/python3 ]]; then
  /usr/bin/python3 - "$T/r.jsonl" <<'PY' && ok || bad "report fields"
import json, os, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
start, rows, end = lines[0], lines[1:-1], lines[-1]
assert start["run"] == "start" and start["shard"] == "1/1" and start["files"] == 4, start
assert start["backend"] == "fork" and start["jobs"] * start["threads"] <= start["cpu_budget"], start
assert start["budget_from"].startswith("affinity "), start
assert end["run"] == "end" and end["exit"] == 1 and end["interrupted"] is None, end
assert (end["files"], end["ok"], end["failed"], end["skipped"], end["not_done"]) == (4, 3, 1, 0, 0), end
assert end["cpu_seconds"] > 0 and end["seconds"] > 0, end
keys = {"input", "output", "status", "error", "width", "height", "bytes_in", "bytes_out", "ms"}
assert all(set(r) == keys for r in rows), rows
oks = [r for r in rows if r["status"] == "ok"]
assert all(r["bytes_in"] == 45751 and r["bytes_out"] > 0 for r in oks), oks
sized = [r for r in oks if os.path.exists(r["output"])]  # not the one named with U+FFFD
assert len(sized) == 2 and all(r["bytes_out"] == os.path.getsize(r["output"]) for r in sized), oks
st = sorted(r["status"] for r in rows)
assert st == ["failed", "ok", "ok", "ok"], st
f = [r for r in rows if r["status"] == "failed"][0]
assert "empty" in f["error"] and f["width"] is None, f
good = [r for r in rows if r["status"] == "ok"]
assert all(r["width"] == 257 and r["height"] == 131 and r["error"] is None for r in good), good
assert any('quote"back\\slash' in r["input"] for r in good)
assert any("tab\tand\nnewline" in r["input"] for r in good)
assert any("\ufffd-ünï" in r["input"] for r in good)
PY
fi
expect 0 "$PP" batch --skip-existing -f invert --report - "$G" "$T/o1"
[[ $(grep -cE '"status":"(skipped|ok)"' "$T/out") == "$top" ]] && ok || bad "--report - : $(cat "$T/out")"

# ---- --files-from -----------------------------------------------------------------------------
printf 'a.png\0sub/../c.jpg\0./sub/deep/f.tga\0../escape.png\0/etc/passwd.png\0notes.txt\0a.png\0' >"$T/list0"
expect 1 "$PP" batch -0 --files-from "$T/list0" -f invert "$G" "$T/of"
err_has "../escape.png: the path climbs out of INPUT_DIR"
err_has "/etc/passwd.png: absolute paths are refused"
err_has "notes.txt: not a recognised image format"
err_has "3 ok, 3 failed"
[[ -f $T/of/a.png && -f $T/of/c.jpg && -f $T/of/sub/deep/f.tga ]] && ok || bad "--files-from outputs: $(find "$T/of" -type f)"
[[ $(count_files "$T/of") == 3 ]] && ok || bad "--files-from wrote $(count_files "$T/of") files"
[[ ! -e $T/escape.png ]] && ok || bad "an output escaped OUTPUT_DIR"
printf 'B.PNG\nsub/g.png\n' | "$PP" batch --files-from - -f invert "$G" "$T/of2" 2>"$T/err"
[[ $? == 0 && -f $T/of2/B.PNG && -f $T/of2/sub/g.png ]] && ok || bad "--files-from - : $(cat "$T/err")"

# ---- two inputs, one output; a symbolic link inside OUTPUT_DIR ---------------------------------
C=$T/col
mkdir -p "$C"
cp "$S/odd-rgb-257x131.png" "$C/p.png"
"$PP" apply -f invert "$S/odd-rgb-257x131.png" "$C/p.jpg"
expect 1 "$PP" batch --format png "$C" "$T/oc"; err_has "is also the output of"
[[ $(count_files "$T/oc") == 1 ]] && ok || bad "collision wrote $(count_files "$T/oc") files"
mkdir -p "$T/os" "$T/elsewhere"
ln -s "$T/elsewhere" "$T/os/sub"
expect 1 "$PP" batch -r -f invert "$G" "$T/os"; err_has "symbolic link; refusing to write outside OUTPUT_DIR"
[[ -z $(ls -A "$T/elsewhere") ]] && ok || bad "wrote through a symbolic link in OUTPUT_DIR"

# ---- OUTPUT_DIR inside INPUT_DIR; a symbolic-link loop ---------------------------------------
I=$T/nest
mkdir -p "$I/in/d"
cp "$S/odd-rgb-257x131.png" "$I/in/x.png"
cp "$S/odd-rgb-257x131.png" "$I/in/d/y.png"
ln -s .. "$I/in/d/loop"
ln -s "$I/in" "$I/in/d/again"
expect 0 timeout 60 "$PP" batch -r -f invert "$I/in" "$I/in/out"
err_has "2 ok, 0 failed"
expect 0 timeout 60 "$PP" batch -r --overwrite -f invert "$I/in" "$I/in/out"
err_has "2 ok, 0 failed"
[[ ! -e $I/in/out/out ]] && ok || bad "the outputs were processed as inputs"

# ---- shards: N runs cover each file exactly once -----------------------------------------------
expect 0 "$PP" batch -r --shard 1/1 -f invert "$G" "$T/sh1"; err_has "$all ok"
if command -v parallel >/dev/null; then
  parallel --will-cite "$PP" batch -r --no-progress --shard {}/3 -f invert --report "$T/shard{}.jsonl" "$G" "$T/sh" ::: 1 2 3 2>"$T/err"
  [[ $? == 0 ]] && ok || bad "parallel shards failed: $(cat "$T/err")"
  cat "$T"/shard?.jsonl >"$T/shards.jsonl"
  json_ok "$T/shards.jsonl" && ok || bad "shard reports are not JSON"
  [[ $(grep -c '"input"' "$T/shards.jsonl") == "$all" ]] && ok || bad "shards processed $(grep -c '"input"' "$T/shards.jsonl") files, want $all"
  [[ $(grep -c '"run":"start"' "$T/shards.jsonl") == 3 && $(grep -c '"run":"end"' "$T/shards.jsonl") == 3 ]] && ok || bad "shard reports lack their run lines"
  [[ $(grep -o '"input":"[^"]*"' "$T/shards.jsonl" | sort | uniq -d | wc -l) == 0 ]] && ok || bad "a file was in two shards"
  diff -r "$T/sh" "$T/sh1" >/dev/null && ok || bad "shards' outputs differ from one run"
else
  echo "skip: GNU parallel not installed (shard check)"
fi

# ---- the CPU budget ---------------------------------------------------------------------------
expect 0 env OMP_NUM_THREADS=1 "$PP" batch -v -j 4 -f invert "$G" "$T/bu1"
err_has "warning: -j 4 exceeds the CPU budget of 1"
[[ $(grep -c warning "$T/err") == 1 ]] && ok || bad "the budget warning is not said once"
err_has "1 job x 1 thread"
expect 0 env SLURM_CPUS_PER_TASK=2 OMP_NUM_THREADS=3 "$PP" batch -v -j 1 -b openmp -f invert "$G" "$T/bu2"
err_has "1 job x 2 threads"
err_lacks "warning"

# ---- progress: no control characters unless a terminal or --progress -------------------------
expect 0 "$PP" batch -f invert "$G" "$T/pg1"
! grep -q $'\r' "$T/err" && ok || bad "control characters on a non-terminal"
expect 0 "$PP" batch --progress -f invert "$G" "$T/pg2"
grep -q $'\r' "$T/err" && ok || bad "--progress drew nothing"

# ---- a worker process that crashes fails only its file ----------------------------------------
expect 1 env PIXPOOL_TEST_CRASH=c.jpg "$PP" batch -r -b fork -j 2 -f invert "$G" "$T/ok1"
err_has "$G/c.jpg: worker killed by signal 11"
err_has "$((all - 1)) ok, 1 failed"
no_tmp "$T/ok1"
[[ ! -e $T/ok1/c.jpg ]] && ok || bad "crashed file has an output"

# ---- interrupted runs leave only complete outputs; --skip-existing resumes --------------------
N=$T/many
mkdir -p "$N"
for i in 0 1 2 3 4; do
  "$PP" apply -f crop:x=$((i * 37)),y=$((i * 11)),width=$((512 - i * 40)),height=$((384 - i * 30)) "$L" "$N/src$i.png"
done
for i in $(seq 10 49); do cp "$N/src$((i % 5)).png" "$N/img$i.png"; done
rm "$N"/src?.png
HF="-f gaussian:sigma=8 -f median:radius=5"
# first_output DIR: waits until DIR holds a finished output (so the batch is running and its
# signal handlers are in place: a background job of a script starts with SIGINT ignored)
first_output() {
  local i
  for i in $(seq 1 1200); do
    [[ -n $(ls "$1" 2>/dev/null) ]] && return 0
    sleep 0.05
  done
  return 1
}
expect 0 "$PP" batch $HF "$N" "$T/clean"
for b in fork openmp; do
  O=$T/int-$b
  "$PP" batch -b $b -j 1 --no-progress $HF "$N" "$O" 2>"$T/err" &
  pid=$!
  first_output "$O" || bad "-b $b: no output appeared"
  kill -INT $pid
  wait $pid
  rc=$?
  [[ $rc == 130 ]] && ok || bad "-b $b: exit $rc after SIGINT, want 130: $(cat "$T/err")"
  err_has "interrupted"
  no_tmp "$O"
  n=$(count_files "$O")
  [[ $n -lt 40 ]] && ok || echo "note: -b $b finished all files before SIGINT"
  good=1
  for f in "$O"/*; do
    [[ -e $f ]] || continue
    "$PP" info "$f" >/dev/null 2>&1 || good=0
  done
  [[ $good == 1 ]] && ok || bad "-b $b: an incomplete output after SIGINT"
  expect 0 "$PP" batch -b $b --skip-existing $HF "$N" "$O"
  err_has "$n skipped"
  diff -r "$T/clean" "$O" >/dev/null && ok || bad "-b $b: resumed outputs differ from a clean run"
done
# SIGTERM too
"$PP" batch -j 1 --no-progress $HF "$N" "$T/int-term" 2>"$T/err" &
pid=$!
first_output "$T/int-term" || bad "no output appeared"
kill -TERM $pid
wait $pid
rc=$?
[[ $rc == 130 ]] && ok || bad "exit $rc after SIGTERM, want 130"
no_tmp "$T/int-term"

finish
