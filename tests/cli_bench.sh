#!/usr/bin/env bash
# cli_bench.sh - end-to-end checks of `pixpool bench`: the CSV and JSON reports parse and hold
# numbers in the right columns, the SVG plot is well-formed with one line per backend, IMAGE and
# --batch work, and bad options exit 2, unreadable images exit 1.
# Usage: bash tests/cli_bench.sh PIXPOOL REPO_ROOT
set -u
PP=$1
ROOT=$2
. "$ROOT/tests/lib.sh"
PY=$(command -v python3 || echo /usr/bin/python3)
# py NAME [ARGS] <<SCRIPT: runs the python SCRIPT (its stdin) on $T/out (the script's stdin);
# its exit status is the verdict
py() {
  local name=$1; shift
  local script
  script=$(cat)
  if "$PY" -c "$script" "$@" <"$T/out" 2>"$T/pyerr"; then ok; else bad "$name: $(tail -3 "$T/pyerr")"; fi
}

SMALL=(--size 300x200 --repeat 2 --warmup 0)

# ---- CSV ----------------------------------------------------------------------------------------
expect 0 "$PP" bench "${SMALL[@]}" -f gaussian:sigma=2 --format csv
py "csv columns and numbers" <<'PY'
import csv, sys, re
lines = [l for l in sys.stdin.read().splitlines() if not l.startswith('#')]
rows = list(csv.reader(lines))
want = ['kind', 'workload', 'backend', 'workers', 'width', 'height', 'channels', 'runs',
        'median_ms', 'min_ms', 'max_ms', 'mpix_per_s', 'speedup', 'efficiency',
        'serial_fraction', 'cpu_per_wall', 'hash', 'identical', 'flag']
assert rows[0] == want, rows[0]
for r in rows[1:]:
    assert len(r) == len(want), r
cells = [dict(zip(want, r)) for r in rows[1:] if r[0] == 'filter']
assert len(cells) >= 3, cells
assert {c['backend'] for c in cells} == {'serial', 'openmp', 'fork'}, cells
for c in cells:
    assert c['workload'] == 'gaussian:sigma=2'
    assert (c['width'], c['height'], c['channels']) == ('300', '200', '3')
    assert int(c['runs']) == 2
    mn, md, mx = float(c['min_ms']), float(c['median_ms']), float(c['max_ms'])
    assert 0 < mn <= md <= mx, c
    assert float(c['mpix_per_s']) > 0 and float(c['speedup']) > 0 and float(c['efficiency']) > 0
    if int(c['workers']) == 1:
        assert c['serial_fraction'] == '', c
    else:
        float(c['serial_fraction'])
    assert float(c['cpu_per_wall']) > 0, c
    assert re.fullmatch('[0-9a-f]{16}', c['hash']) and c['identical'] == '1', c
assert len({c['hash'] for c in cells}) == 1
serial = [c for c in cells if c['backend'] == 'serial']
assert len(serial) == 1 and abs(float(serial[0]['speedup']) - 1) < 1e-9
startup = [r for r in rows[1:] if r[0] == 'startup']
assert any(r[2] == 'fork' for r in startup) and any(r[2] == 'openmp' for r in startup)
for r in startup:
    assert float(r[8]) >= 0
PY
grep -q '^# machine: ' "$T/out" && grep -q '^# build: ' "$T/out" && ok || bad "csv lacks machine facts"

# ---- JSON ---------------------------------------------------------------------------------------
expect 0 "$PP" bench "${SMALL[@]}" -f gaussian:sigma=2 -j 1,2 --format json
py "json report" <<'PY'
import json, sys
d = json.load(sys.stdin)
assert d['schema'] == 'pixpool-bench/1' and d['ok'] is True
assert d['machine']['cpus_available'] >= 1 and d['machine']['cpu_model']
assert d['build']['compiler'] and d['pixpool_version'] and d['date']
assert d['settings']['workers'] == [1, 2] and d['settings']['repeat'] == 2
assert d['image']['source'] == 'generated' and d['image']['width'] == 300
assert d['io'] is None
s = d['startup']
assert s['fork']['first_run_ms'] > 0 and s['fork']['per_run_ms'] > 0
assert s['openmp']['first_run_ms'] > 0 and s['first_touch']['bytes'] == 300 * 200 * 3
(w,) = d['workloads']
assert w['pipeline'] == ['gaussian:sigma=2'] and w['output'] == {'width': 300, 'height': 200, 'channels': 3}
assert [(c['backend'], c['workers']) for c in w['cells']] == [
    ('serial', 1), ('openmp', 1), ('openmp', 2), ('fork', 1), ('fork', 2)]
for c in w['cells']:
    assert c['identical'] and c['hash'] == w['hash'] and c['runs'] == 2
    assert c['min_ms'] <= c['median_ms'] <= c['max_ms'] and c['mpix_per_s'] > 0
    assert (c['serial_fraction'] is None) == (c['workers'] == 1)
    assert abs(c['efficiency'] - c['speedup'] / c['workers']) < 1e-3
    assert c['cpu_over_wall'] > 0
PY

# a pipeline of two filters vs --each, other channel counts, one backend
expect 0 "$PP" bench "${SMALL[@]}" -f gaussian:sigma=1 -f sharpen -b fork -j 2 --channels 4 --no-startup --format json
py "pipeline of two" <<'PY'
import json, sys
d = json.load(sys.stdin)
(w,) = d['workloads']
assert w['pipeline'] == ['gaussian:sigma=1', 'sharpen'] and w['output']['channels'] == 4
assert [(c['backend'], c['workers']) for c in w['cells']] == [('serial', 1), ('fork', 2)]
assert all(c['identical'] for c in w['cells']) and d['startup'] is None
PY
expect 0 "$PP" bench "${SMALL[@]}" -f invert -f median:radius=1 --each -b serial --channels 1 --format json
py "--each" <<'PY'
import json, sys
d = json.load(sys.stdin)
assert [w['label'] for w in d['workloads']] == ['invert', 'median:radius=1']
assert all(len(w['cells']) == 1 and w['output']['channels'] == 1 for w in d['workloads'])
PY

# ---- table -------------------------------------------------------------------------------------
expect 0 "$PP" bench "${SMALL[@]}" -f invert -j 2
for word in "machine:" "build:" "speedup" "efficiency" "serial f" "identical" "start-up costs" "fork" "openmp"; do
  grep -qF -- "$word" "$T/out" && ok || bad "table lacks '$word'"
done

# ---- an IMAGE: decode and encode reported apart ---------------------------------------------------
expect 0 "$PP" bench --repeat 1 --warmup 0 -f flip -j 2 --no-startup --format json "$ROOT/samples/odd-rgb-257x131.png"
py "image io" <<'PY'
import json, sys
d = json.load(sys.stdin)
assert d['image']['source'] == 'file' and d['image']['width'] == 257 and d['image']['height'] == 131
assert d['io']['decode_ms'] > 0 and d['io']['encode_ms'] > 0 and d['io']['encoded_bytes'] > 0
PY

# a file name that is not UTF-8: the JSON report stays valid UTF-8 (U+FFFD for the bad byte)
cp "$ROOT/samples/odd-rgb-257x131.png" "$T/bad"$'\xff'"name.png"
expect 0 "$PP" bench --repeat 1 --warmup 0 -f flip -b serial --no-startup --format json "$T/bad"$'\xff'"name.png"
py "json of a non-UTF-8 path" <<'PY'
import json, sys
d = json.loads(sys.stdin.buffer.read().decode('utf-8'))  # strict: raw 0xff would fail here
assert d['image']['path'].endswith('/bad\ufffdname.png'), d['image']['path']
PY

# ---- the SVG plot ------------------------------------------------------------------------------
expect 0 "$PP" bench "${SMALL[@]}" -f gaussian:sigma=2 -f invert --each -j 1,2 --plot "$T/plot.svg" --format csv
if [[ -s $T/plot.svg ]]; then ok; else bad "--plot wrote no file"; fi
"$PY" - "$T/plot.svg" <<'PY' 2>"$T/pyerr" && ok || bad "svg: $(tail -3 "$T/pyerr")"
import sys, xml.etree.ElementTree as ET
ns = '{http://www.w3.org/2000/svg}'
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == ns + 'svg'
lines = root.findall('.//' + ns + 'polyline') + root.findall('.//' + ns + 'path')
names = [l.get('data-series') for l in lines]
for b in ('serial', 'openmp', 'fork', 'ideal'):
    assert names.count(b) == 2, (b, names)  # one per panel, two panels
text = ' '.join(''.join(t.itertext()) for t in root.iter(ns + 'text'))
for word in ('speedup', 'workers', 'gaussian:sigma=2', 'invert', 'openmp', 'fork'):
    assert word in text, word
PY
expect 1 "$PP" bench "${SMALL[@]}" -f invert -b serial --plot "$T/no/such/dir/p.svg"

# ---- --batch ------------------------------------------------------------------------------------
mkdir -p "$T/in"
cp "$ROOT/samples/odd-rgb-257x131.png" "$ROOT/samples/fog-grayalpha-320x240.png" "$T/in/"
if "$PP" batch --help >/dev/null 2>&1; then
  expect 0 "$PP" bench --batch "$T/in" -j 1,2 --repeat 1 --warmup 0 -f invert --format json
  py "batch" <<'PY'
import json, sys
d = json.load(sys.stdin)
b = d['batch']
assert b['files'] == 2 and [r['jobs'] for r in b['rows']] == [1, 2]
assert all(r['median_ms'] > 0 and r['files_per_s'] > 0 for r in b['rows'])
assert d['workloads'] == []
PY
else
  echo "note: this pixpool has no batch command; --batch not tested"
fi
expect 1 "$PP" bench --batch "$T/no-such-dir" --repeat 1
mkdir -p "$T/empty"
expect 1 "$PP" bench --batch "$T/empty" --repeat 1

# ---- errors ---------------------------------------------------------------------------------------
expect 0 "$PP" bench --help
grep -q -- "--backends" "$T/out" && ok || bad "help lacks --backends"
for args in "--format xml" "--backends serial,gpu" "--backends ," "--workers 0" "--workers 1,x" \
            "--repeat 0" "--warmup -1" "--size 10" "--size 0x5" "--size 100000x100000" \
            "--channels 5" "-f nosuchfilter" "-f gaussian:sigma=abc" "--frobnicate" \
            "a.png b.png"; do
  # shellcheck disable=SC2086
  expect 2 "$PP" bench --repeat 1 $args
done
expect 2 "$PP" bench --batch "$T/in" "$ROOT/samples/odd-rgb-257x131.png"
expect 1 "$PP" bench --repeat 1 -f invert "$T/missing.png"
grep -q "missing.png" "$T/err" && ok || bad "error does not name the file: $(cat "$T/err")"
echo "not an image" >"$T/text.png"
expect 1 "$PP" bench --repeat 1 -f invert "$T/text.png"
head -c 3000 "$ROOT/samples/landscape-rgb-1024x768.png" >"$T/truncated.png"
expect 1 "$PP" bench --repeat 1 -f invert "$T/truncated.png"

finish
