#!/usr/bin/env bash
# cli_palette.sh - a palette PNG stays a palette PNG through `pixpool apply` with no filter or
# geometry filters only (and with --strip), on every backend with the same bytes, and decodes
# with Pillow to exactly the pixels of the RGB(A) file pixpool wrote before; any other filter
# gives an RGB(A) PNG. Palette files come from Pillow's quantize (with and without
# transparency) and, where it is installed, ImageMagick (-colors 64 PNG8:). Prints the sizes
# beside ImageMagick's own re-encoding of the same file. Skips (saying so) where Debian's
# Pillow and numpy are missing. Usage: bash tests/cli_palette.sh PIXPOOL REPO_ROOT
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
IM=$(command -v convert-im6.q16 || true)
out=$("$PY" - "$PP" "$T" "$IM" <<'EOF' 2>&1
import os, subprocess, sys
import numpy as np
from PIL import Image

pp, tmp, im = sys.argv[1], sys.argv[2], sys.argv[3]
passed = failed = 0

def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)

def run(*args):
    r = subprocess.run([pp, *args], capture_output=True, text=True)
    check(r.returncode == 0, f"{args}: exit {r.returncode}: {r.stderr.strip()}")

def rgb(path, mode):
    return np.asarray(Image.open(path).convert(mode))

y, x = np.mgrid[0:301, 0:419]
noise = np.random.default_rng(3).integers(0, 40, (301, 419, 3))
art = np.stack([x * 255 // 418, y * 255 // 300, (x + y) % 256], -1) * 0.8 + noise
art = Image.fromarray(art.clip(0, 255).astype("uint8"))
files = {}
files["q64"] = art.quantize(64)
files["q5"] = art.quantize(5)  # 4-bit indices
q2 = art.quantize(2)
files["q2"] = q2  # 1-bit
tq = art.quantize(100)
tq.info["transparency"] = bytes([0, 90] + [255] * 98)
files["q100t"] = tq
for name, img in files.items():
    kw = {"transparency": img.info["transparency"]} if "transparency" in img.info else {}
    img.save(f"{tmp}/{name}.png", **kw)
if im:
    art.save(f"{tmp}/art.png")
    subprocess.run([im, f"{tmp}/art.png", "-colors", "64", f"PNG8:{tmp}/im64.png"], check=True)
    files["im64"] = None

geometry = {"": lambda a: a, "flip": lambda a: a[::-1], "flop": lambda a: a[:, ::-1],
            "rotate:angle=90": lambda a: np.rot90(a, -1),
            "crop:x=10,y=20,width=100,height=50": lambda a: a[20:70, 10:110]}
backends = [["-b", "serial"], ["-b", "openmp", "-j", "2"], ["-b", "fork", "-j", "3"]]
for name in files:
    src = f"{tmp}/{name}.png"
    s = Image.open(src)
    mode = "RGBA" if "transparency" in s.info or s.mode == "RGBA" else "RGB"
    want = rgb(src, mode)
    for spec, fn in geometry.items():
        ref = None
        for b in backends:
            o = f"{tmp}/o.png"
            run("apply", *b, *(["-f", spec] if spec else []), src, o)
            got = Image.open(o)
            check(got.mode == "P", f"{name} {spec} {b}: mode {got.mode}, not P")
            check(np.array_equal(np.asarray(got.convert(mode)), fn(want)),
                  f"{name} {spec} {b}: pixels differ")
            data = open(o, "rb").read()
            if ref is None:
                ref = data
            check(data == ref, f"{name} {spec} {b}: bytes differ from serial's")
    # --strip keeps the palette: it is the pixels, not metadata
    run("apply", "--strip", src, f"{tmp}/s.png")
    check(Image.open(f"{tmp}/s.png").mode == "P", f"{name} --strip: not a palette PNG")
    # any other filter: an RGB(A) PNG of the filter's pixels
    run("apply", "-f", "invert", src, f"{tmp}/i.png")
    gi = Image.open(f"{tmp}/i.png")
    check(gi.mode == mode, f"{name} invert: mode {gi.mode}, not {mode}")
    inv = want.astype(int)
    inv[..., :3] = 255 - inv[..., :3]
    check(np.array_equal(np.asarray(gi), inv), f"{name} invert: pixels differ")
    # sizes: pixpool's palette file, pixpool's RGB(A) file of the same pixels, ImageMagick's
    Image.open(src).convert(mode).save(f"{tmp}/rgb.png")
    run("apply", f"{tmp}/rgb.png", f"{tmp}/rgb_out.png")
    run("apply", src, f"{tmp}/p.png")
    sizes = [os.path.getsize(f"{tmp}/{f}.png") for f in ("p", "rgb_out")]
    check(sizes[0] < sizes[1], f"{name}: palette file {sizes[0]} not smaller than RGB {sizes[1]}")
    line = f"{name}: source {os.path.getsize(src)}, pixpool {sizes[0]} (as RGB: {sizes[1]})"
    if im:
        subprocess.run([im, src, f"{tmp}/imout.png"], check=True)
        line += f", ImageMagick {os.path.getsize(tmp + '/imout.png')}"
    print(line)
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
  [[ $p -ge 50 ]] && ok || bad "only $p checks passed"
fi
finish
