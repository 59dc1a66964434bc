#!/usr/bin/env bash
# cli_png.sh - PNG files written by `pixpool apply` (strips deflated in parallel) decode with
# Pillow, an independent decoder (zlib underneath, not libpng), to exactly the input's pixels:
# 1-4 channels (L, LA, RGB, RGBA), widths 1..4097, heights of one row up to three strips of the
# default strip size, at levels 0, 1, 5 (the default), 6 and 9, on every backend; the number of
# IDAT chunks is the number of strips. Skips (saying so) where Debian's Pillow and numpy are
# missing. Usage: bash tests/cli_png.sh PIXPOOL REPO_ROOT
set -u
PP=$1
ROOT=$2
. "$ROOT/tests/lib.sh"
PY=/usr/bin/python3 # Debian's interpreter: python3-pil and python3-numpy
if ! "$PY" -c 'import PIL, numpy' 2>/dev/null; then
  echo "SKIP: $PY has no Pillow/numpy (apt-get install python3-pil python3-numpy)"
  ok
  finish
fi
out=$("$PY" - "$PP" "$T" <<'EOF' 2>&1
import subprocess, sys, struct
import numpy as np
from PIL import Image

pp, tmp = sys.argv[1], sys.argv[2]
STRIP = 512 << 10  # PP_PNG_STRIP_BYTES (src/internal.h)
modes = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
backends = [["-b", "serial"], ["-b", "openmp", "-j", "2"], ["-b", "fork", "-j", "3"]]
levels = ["0", "1", "5", "6", "9"]
rng = np.random.default_rng(7)
passed = failed = 0

def idats(path):
    d = open(path, "rb").read()
    pos, n = 8, 0
    while pos + 12 <= len(d):
        (length,) = struct.unpack(">I", d[pos:pos + 4])
        n += d[pos + 4:pos + 8] == b"IDAT"
        pos += 12 + length
    return n

case = 0
for w in (1, 3, 64, 257, 1000, 4097):
    for c in (1, 2, 3, 4):
        fr = w * c + 1
        sr = max(1, STRIP // fr)
        for h in sorted({1, sr, sr + 1, 2 * sr + 1, 3 * sr}):
            # smooth rows, noise rows and flat rows, so every filter type and both strategies occur
            y = np.arange(h)[:, None, None]
            x = np.arange(w)[None, :, None]
            k = np.arange(c)[None, None, :]
            a = ((x * 3 + y * 5 + k * 40) % 256).astype(np.uint8)
            noise = rng.integers(0, 256, size=(h, w, c), dtype=np.uint8)
            kind = (np.arange(h) // 7 + case) % 3
            a = np.where((kind == 1)[:, None, None], noise, a)
            a = np.where((kind == 2)[:, None, None], np.uint8(200), a)
            arr = a[:, :, 0] if c == 1 else a
            src = f"{tmp}/in-{case}.png"
            Image.fromarray(arr, modes[c]).save(src, compress_level=1)
            level = levels[case % len(levels)]
            be = backends[case % len(backends)]
            dst = f"{tmp}/out-{case}.png"
            r = subprocess.run([pp, "apply", *be, "--png-level", level, src, dst],
                               capture_output=True, text=True)
            what = f"{w}x{h} {modes[c]} level {level} {' '.join(be)}"
            if r.returncode != 0:
                print(f"FAIL: {what}: exit {r.returncode}: {r.stderr.strip()}")
                failed += 1
                continue
            im = Image.open(dst)
            im.load()
            got = np.asarray(im)
            strips = (h + sr - 1) // sr
            if im.mode != modes[c] or got.shape != arr.shape or not np.array_equal(got, arr):
                print(f"FAIL: {what}: Pillow decodes mode {im.mode}, shape {got.shape}, "
                      f"pixels equal: {got.shape == arr.shape and np.array_equal(got, arr)}")
                failed += 1
            elif idats(dst) != strips:
                print(f"FAIL: {what}: {idats(dst)} IDAT chunks, {strips} strips")
                failed += 1
            else:
                passed += 1
            case += 1
print(f"pillow {passed} {failed}")
EOF
)
echo "$out" | grep -v '^pillow '
read -r _ p f <<<"$(echo "$out" | grep '^pillow ')"
if [[ -z ${p:-} ]]; then
  bad "the Pillow check did not run: $out"
else
  pass=$((pass + p))
  fail=$((fail + f))
  [[ $p -ge 100 ]] && ok || bad "only $p images checked"
fi
finish
