#!/usr/bin/env bash
# cli_streams.sh - what a new user meets first (issue 18): every output stream checked (a lost
# write is exit 1 with an error naming the stream), usage errors as one line "pixpool: error:
# ...", conflicting options refused, strict JSON whatever the file names.
# Usage: bash tests/cli_streams.sh PIXPOOL REPO_ROOT
set -u
PP=$1
ROOT=$2
. "$ROOT/tests/lib.sh"
# one_line TEXT: the last stderr is exactly one line, in the documented form, containing TEXT
one_line() {
  if [[ $(wc -l <"$T/err") == 1 ]] && grep -q '^pixpool: error: ' "$T/err" && grep -qF -- "$1" "$T/err"; then ok
  else bad "stderr is not one 'pixpool: error:' line with '$1': $(cat "$T/err")"; fi
}
/usr/bin/python3 - "$T" <<'PY'
import sys
from PIL import Image
t = sys.argv[1]
Image.new('RGB', (16, 12), (10, 20, 30)).save(t + '/a.png')
PY
mkdir -p "$T/in" && cp "$T/a.png" "$T/in/a.png"

# ---- lost writes: exit 1, the stream named ----
if [[ -w /dev/full ]]; then
  expect 1 sh -c "'$PP' info '$T/a.png' >/dev/full"; one_line "standard output: write error"
  expect 1 sh -c "'$PP' filters >/dev/full"; one_line "standard output: write error"
  expect 1 sh -c "'$PP' filters --markdown >/dev/full"; one_line "standard output"
  expect 1 sh -c "'$PP' --help >/dev/full"; one_line "standard output"
  expect 1 sh -c "'$PP' apply --help >/dev/full"; one_line "standard output"
  expect 1 sh -c "'$PP' bench --size 32x32 -b serial -j 1 --repeat 1 --warmup 0 --no-startup --format json >/dev/full"
  grep -q "pixpool: error: standard output: write error" "$T/err" && ok || bad "bench >/dev/full: $(cat "$T/err")"
  rm -rf "$T/o1"
  expect 1 "$PP" batch --no-progress --report /dev/full "$T/in" "$T/o1"
  grep -q "pixpool: error: /dev/full: write error" "$T/err" && ok || bad "batch --report /dev/full: $(cat "$T/err")"
  rm -rf "$T/o1"
  expect 1 sh -c "'$PP' batch --no-progress --report - '$T/in' '$T/o1' >/dev/full"
  grep -q "pixpool: error: standard output: write error" "$T/err" && ok || bad "batch --report - >/dev/full: $(cat "$T/err")"
  "$PP" batch --no-progress --report "$T/r.jsonl" "$T/in" "$T/o2" 2>/dev/null
  expect 1 sh -c "'$PP' report '$T/r.jsonl' >/dev/full"; one_line "standard output"
  # a failing file (exit 1 already) still names the lost stream
  expect 1 sh -c "'$PP' info '$T/nothere.png' '$T/a.png' >/dev/full"
  grep -q "standard output: write error" "$T/err" && ok || bad "info with a bad file and a lost write: $(cat "$T/err")"
fi
# a good run still exits 0
expect 0 "$PP" info "$T/a.png"

# ---- usage errors: one line, the documented form, exit 2 ----
expect 2 "$PP" apply -q "$T/a.png" "$T/b.png"; one_line "apply: unknown option '-q'"
expect 2 "$PP" apply --bogus "$T/a.png" "$T/b.png"; one_line "apply: unknown option '--bogus'"
expect 2 "$PP" apply "$T/a.png" "$T/b.png" -f; one_line "apply: option '-f' needs a value"
expect 2 "$PP" apply "$T/a.png" "$T/b.png" --quality; one_line "apply: option '--quality' needs a value"
expect 2 "$PP" batch -Z "$T/in" "$T/o3"; one_line "batch: unknown option '-Z'"
expect 2 "$PP" batch --report; one_line "batch: option '--report' needs a value"
expect 2 "$PP" bench --nope; one_line "bench: unknown option '--nope'"
# an accepted -f before the bad option does not turn the exit into 0
expect 2 "$PP" bench -f invert --nope; one_line "bench: unknown option '--nope'"
expect 2 "$PP" report -x; one_line "report: unknown option '-x'"
expect 2 "$PP" filters --nope; one_line "filters: unknown option '--nope'"
expect 2 "$PP" --bogus; one_line "unknown option '--bogus'"
expect 2 "$PP" nosuchcommand; one_line "unknown command 'nosuchcommand'"
expect 2 "$PP"; one_line "no command given"

# ---- conflicting options: a usage error naming both ----
rm -rf "$T/o4"
expect 2 "$PP" batch --skip-existing --overwrite "$T/in" "$T/o4"
one_line "--skip-existing and --overwrite cannot be combined"
[[ ! -e "$T/o4" ]] && ok || bad "a refused batch created OUTPUT_DIR"

# ---- '-' as INPUT and OUTPUT, --format in any case ----
expect 0 "$PP" apply -f invert "$T/a.png" "$T/ref.png"
expect 0 sh -c "'$PP' apply -f invert --format png - - <'$T/a.png' >'$T/pipe.png'"
cmp -s "$T/ref.png" "$T/pipe.png" && ok || bad "apply - - gives other bytes than files"
[[ ! -s $T/err ]] && ok || bad "apply - - wrote to stderr: $(cat "$T/err")"
expect 0 sh -c "'$PP' apply --format JPEG - '$T/fromstdin.jpg' <'$T/a.png'"
expect 0 "$PP" apply "$T/a.png" "$T/ref.jpg"
cmp -s "$T/ref.jpg" "$T/fromstdin.jpg" && ok || bad "apply - FILE.jpg differs from a file INPUT"
expect 0 sh -c "'$PP' apply --format Tiff '$T/a.png' - >'$T/o.tif'"
expect 0 "$PP" info "$T/o.tif"; grep -q "format=tiff width=16 height=12" "$T/out" && ok || bad "stdout TIFF: $(cat "$T/out")"
expect 0 "$PP" apply "$T/a.png" "$T/UPPER.PNG"
expect 2 "$PP" apply "$T/a.png" -; one_line "OUTPUT '-' (standard output) needs --format FMT (png, jpg (or jpeg), bmp, tga, tif (or tiff), pnm (ppm, pgm), psd)"
expect 2 "$PP" apply --format png "$T/a.png" "$T/x.jpg"; one_line "--format png does not match the extension"
expect 2 "$PP" apply --format webp "$T/a.png" -; one_line "--format: 'webp' is not one of png, jpg (or jpeg), bmp, tga, tif (or tiff)"
expect 1 sh -c "printf 'not an image' | '$PP' apply --format png - '$T/never.png'"
one_line "standard input"; [[ ! -e $T/never.png ]] && ok || bad "a failed stdin apply left an output"
if [[ -w /dev/full ]]; then
  expect 1 sh -c "'$PP' apply --format png '$T/a.png' - >/dev/full"; one_line "standard output: write error"
fi
rm -rf "$T/o5"
expect 0 "$PP" batch --no-progress --format PNG "$T/in" "$T/o5"
expect 0 "$PP" batch --no-progress --format JpEg "$T/in" "$T/o6"; [[ -f $T/o6/a.jpg ]] && ok || bad "batch --format JpEg"
expect 0 "$PP" batch --no-progress --format TIFF "$T/in" "$T/o7"; [[ -f $T/o7/a.tif ]] && ok || bad "batch --format TIFF"
expect 2 "$PP" batch --format gif "$T/in" "$T/o8"; one_line "png, jpg (or jpeg), bmp, tga, tif (or tiff), pnm (ppm, pgm), psd, same"
expect 0 "$PP" apply --help
grep -q "usage: pixpool apply \[options\] \[-f SPEC\]... INPUT OUTPUT" "$T/out" && ok || bad "apply usage line: $(head -1 "$T/out")"
grep -q "without -f, INPUT is only converted" "$T/out" && ok || bad "apply --help does not say it converts"
expect 0 "$PP" bench --size 16x16 -b serial -j 1 --repeat 1 --warmup 0 --no-startup --format JSON

# ---- Ctrl-C: the progress callback stops apply between bands, exit 130, no output ----
"$PP" bench --save-image "$T/big.png" --size 1500x1000 >/dev/null 2>&1
slow=()
for i in $(seq 100); do slow+=(-f gaussian:sigma=40); done  # seconds of work even on a fast machine
for b in serial fork openmp; do
  rm -f "$T/int.png"
  "$PP" apply -b $b -j 1 "${slow[@]}" "$T/big.png" "$T/int.png" 2>"$T/err" &
  pid=$!
  sleep 0.5
  t0=$(date +%s%N)
  kill -INT $pid
  wait $pid
  got=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  [[ $got == 130 ]] && ok || bad "apply -b $b after SIGINT exited $got: $(cat "$T/err")"
  grep -q "pixpool: error: .*big.png: interrupted; no output written" "$T/err" && ok || bad "apply -b $b SIGINT message: $(cat "$T/err")"
  [[ ! -e $T/int.png ]] && ok || bad "apply -b $b left an output after SIGINT"
  (( ms < 3000 )) && ok || bad "apply -b $b took $ms ms to stop after SIGINT"
  pgrep -P $pid >/dev/null 2>&1 && bad "apply -b $b left worker processes" || ok
done
ls -a "$T" | grep -q 'pp-tmp' && bad "temporary files left: $(ls -a "$T")" || ok

# ---- bench: a CSV that pandas-style readers take, --plot refuses what it cannot write ----
expect 0 "$PP" bench --size 16x16 -b serial -j 1 --repeat 1 --warmup 0 --no-startup --format csv --csv-header none
head -1 "$T/out" | grep -q '^kind,workload,backend,workers,' && ok || bad "--csv-header none: first line $(head -1 "$T/out")"
grep -q '^#' "$T/out" && bad "--csv-header none still writes # lines" || ok
/usr/bin/python3 -c "import csv,sys; rows=list(csv.DictReader(open(sys.argv[1]))); assert rows and all(r['kind'] for r in rows)" "$T/out" && ok || bad "--csv-header none CSV does not parse"
expect 0 "$PP" bench --size 16x16 -b serial -j 1 --repeat 1 --warmup 0 --no-startup --format csv
head -1 "$T/out" | grep -q '^# pixpool' && ok || bad "default CSV lost its comment lines"
expect 2 "$PP" bench --csv-header maybe; one_line "--csv-header: 'maybe' is not one of comments, none"
expect 2 "$PP" bench --size 16x16 --plot "$T/chart.png"; one_line "only SVG charts are written"
[[ ! -e $T/chart.png ]] && ok || bad "--plot x.png wrote a file"

# ---- batch names and counts what it passes over ----
mkdir -p "$T/mixed/sub" && cp "$T/a.png" "$T/mixed/" && touch "$T/mixed/x.webp" "$T/mixed/y.TXT" "$T/mixed/README"
cp "$T/a.png" "$T/mixed/sub/"
mkdir -p "$T/onlyodd" && touch "$T/onlyodd/p.webp" "$T/onlyodd/q.heic"
expect 0 "$PP" batch --no-progress "$T/mixed" "$T/mo1"
grep -qF "passed over in $T/mixed: 3 files not named as images" "$T/err" && ok || bad "batch note: $(cat "$T/err")"
grep -qF "1 sub-folder (-r descends); -v names them" "$T/err" && ok || bad "batch note on sub-folders: $(cat "$T/err")"
expect 0 "$PP" batch -v --no-progress "$T/mixed" "$T/mo2"
for f in x.webp y.TXT README; do
  grep -qF "$T/mixed/$f: skipped, not an image name" "$T/err" && ok || bad "-v does not name $f: $(cat "$T/err")"
done
grep -qF "$T/mixed/sub: skipped, a sub-folder (-r descends)" "$T/err" && ok || bad "-v does not name sub: $(cat "$T/err")"
expect 0 "$PP" batch -r --no-progress "$T/mixed" "$T/mo3"
grep -q "sub-folder" "$T/err" && bad "-r still reports the sub-folder as passed over" || ok
expect 0 "$PP" batch --no-progress "$T/onlyodd" "$T/mo4"
grep -qF "no image files in $T/onlyodd" "$T/err" && grep -qF "2 files not named as images" "$T/err" && ok || bad "only unsupported files: $(cat "$T/err")"

# ---- a symbolic link as OUTPUT is written through: the target is replaced, the link stays ----
mkdir -p "$T/real" "$T/links"
echo old >"$T/real/target.png"
ln -s ../real/target.png "$T/links/out.png"
expect 0 "$PP" apply -f invert "$T/a.png" "$T/links/out.png"
[[ -L $T/links/out.png ]] && ok || bad "apply replaced the symbolic link with a file"
cmp -s "$T/real/target.png" "$T/ref.png" && ok || bad "the link's target does not hold the output"
[[ -z $(ls -A "$T/links" | grep -v '^out.png$') && -z $(ls -A "$T/real" | grep -v '^target.png$') ]] && ok || bad "temporary files left: $(ls -A "$T/links" "$T/real")"
ln -s nowhere/missing.png "$T/links/dangling.png"
expect 1 "$PP" apply "$T/a.png" "$T/links/dangling.png"; one_line "dangling.png: a symbolic link whose target cannot be reached"
[[ -L $T/links/dangling.png && ! -e $T/links/nowhere ]] && ok || bad "a dangling link was replaced or its target made"

# ---- bench honesty: meaningless cells flagged, short cells get more runs ----
expect 0 "$PP" bench --size 64x64 -b serial,openmp -j 1,2 -f invert --repeat 2 --warmup 0 --no-startup --format json
/usr/bin/python3 - "$T/out" <<'PY' && ok || bad "bench --repeat 2 cells not flagged"
import json, sys
d = json.load(open(sys.argv[1]))
cells = d['workloads'][0]['cells']
assert all(c['flag'] == 'fewer than 3 runs' for c in cells), cells
PY
expect 0 "$PP" bench --size 64x64 -b serial -j 1 -f invert --warmup 0 --no-startup --format csv --csv-header none
/usr/bin/python3 - "$T/out" <<'PY' && ok || bad "bench did not raise the runs of a short cell: $(cat "$T/out")"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r['kind'] == 'filter']
# a 64x64 invert takes microseconds: far more than the default 7 runs, up to 200 ms in all
assert rows and all(int(r['runs']) > 7 for r in rows), rows
assert all(float(r['median_ms']) * int(r['runs']) >= 150 or int(r['runs']) == 1000 for r in rows), rows
PY
expect 0 "$PP" bench --size 64x64 -b serial -j 1 -f invert --repeat 3 --warmup 0 --no-startup
grep -q "3 timed runs per cell" "$T/out" && ok || bad "--repeat 3 was not kept exactly: $(cat "$T/out")"

# ---- strict JSON whatever the names: a non-UTF-8, quote, backslash and control byte name ----
mkdir -p "$T/odd"
cp "$T/a.png" "$T/odd/$(printf 'x\xff"\\\001.png')"
strict_json() { # FILE LINES?: every line (or the whole file) parses as strict UTF-8 JSON
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
def no_const(c): raise ValueError("non-JSON constant " + c)
raw = open(sys.argv[1], 'rb').read().decode('utf-8')  # strict: raises on a raw 0xFF
docs = raw.splitlines() if sys.argv[2] == 'lines' else [raw]
for d in docs:
    json.loads(d, parse_constant=no_const)
PY
}
expect 0 "$PP" batch --no-progress --report "$T/odd.jsonl" "$T/odd" "$T/oddout"
strict_json "$T/odd.jsonl" lines && ok || bad "batch --report is not strict JSON"
expect 0 sh -c "'$PP' report --json '$T/odd.jsonl' >'$T/odd-report.json'"
strict_json "$T/odd-report.json" whole && ok || bad "report --json is not strict JSON"
expect 0 sh -c "'$PP' bench --batch '$T/odd' -b serial -j 1 --repeat 1 --warmup 0 --no-startup --format json >'$T/odd-bench.json'"
strict_json "$T/odd-bench.json" whole && ok || bad "bench --batch --format json is not strict JSON"

finish
