#!/usr/bin/env bash
# cli_apply.sh - end-to-end checks of `pixpool apply`, `info`, `filters` and the exit codes, as
# a user sees them. Usage: bash tests/cli_apply.sh PIXPOOL REPO_ROOT
set -u
PP=$1
ROOT=$2
. "$ROOT/tests/lib.sh"
# err_has TEXT: the last stderr contains TEXT and is exactly one line
err_has() {
  if grep -qF -- "$1" "$T/err" && [[ $(wc -l <"$T/err") == 1 ]]; then ok; else bad "stderr lacks '$1' or is not one line: $(cat "$T/err")"; fi
}

S="$ROOT/samples/landscape-rgb-1024x768.png"

# the done-means command, and identical bytes for every backend and worker count
expect 0 "$PP" apply -f gaussian:sigma=2 -f sharpen "$S" "$T/o.png"
expect 0 "$PP" info "$T/o.png"
grep -q "format=png width=1024 height=768 channels=3" "$T/out" && ok || bad "info of output: $(cat "$T/out")"
expect 0 "$PP" apply -b serial -f gaussian:sigma=2 -f sharpen "$S" "$T/serial.png"
for j in 1 2 3 4; do
  expect 0 "$PP" apply -b openmp -j $j -f gaussian:sigma=2 -f sharpen "$S" "$T/omp$j.png"
  cmp -s "$T/serial.png" "$T/omp$j.png" && ok || bad "openmp -j $j differs from serial"
done
cmp -s "$T/serial.png" "$T/o.png" && ok || bad "default backend differs from serial"

# -b fork -j 2 gives the bytes of -b serial for every filter of the registry
V="$ROOT/samples/vignette-rgba-512x384.png"
for f in $("$PP" filters | awk '/^[a-z]/ {print $1}'); do
  case $f in
    convolve) spec="convolve:kernel=1/2/1/2/4/2/1/2/1" ;;
    resize) spec="resize:scale=0.7" ;;
    *) spec=$f ;;
  esac
  for img in "$S" "$V"; do
    "$PP" apply -b serial -f "$spec" "$img" "$T/s.png" && "$PP" apply -b fork -j 2 -f "$spec" "$img" "$T/f.png" \
      && cmp -s "$T/s.png" "$T/f.png" && ok || bad "fork -j 2 differs from serial for $spec on $(basename "$img")"
  done
done

# every sample, every format it can write
for f in "$ROOT"/samples/*.png; do
  expect 0 "$PP" apply -f invert "$f" "$T/x.png"
done
for ext in png jpg jpeg bmp tga PNG JPG; do
  expect 0 "$PP" apply -f flip "$S" "$T/out.$ext"
  expect 0 "$PP" info "$T/out.$ext"
done
expect 0 "$PP" apply -f flop "$T/out.bmp" "$T/back.png"   # BMP read back
expect 0 "$PP" apply -f flop "$T/out.tga" "$T/back2.png"  # TGA read back
cmp -s "$T/back.png" "$T/back2.png" && ok || bad "BMP and TGA round trips differ"

# format from bytes, not name
cp "$T/out.jpg" "$T/really-a-jpeg.png"
expect 0 "$PP" info "$T/really-a-jpeg.png"
grep -q "format=jpeg" "$T/out" && ok || bad "JPEG named .png not detected: $(cat "$T/out")"

# failures: exit 1, one line, the file named
head -c 3000 "$S" >"$T/truncated.png"
expect 1 "$PP" apply -f invert "$T/truncated.png" "$T/t.png"; err_has "truncated.png"
[[ ! -e "$T/t.png" ]] && ok || bad "output written for a truncated input"
head -c 2000 "$T/out.jpg" >"$T/truncated.jpg"
expect 1 "$PP" apply -f invert "$T/truncated.jpg" "$T/t.png"; err_has "truncated.jpg"
python3 - "$S" "$T/corrupt.png" <<'PY' 2>/dev/null || cp "$S" "$T/corrupt.png"
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
for i in range(200, 260): d[i] ^= 0x5a
open(sys.argv[2], 'wb').write(d)
PY
expect 1 "$PP" apply -f invert "$T/corrupt.png" "$T/t.png"; err_has "corrupt.png"
echo "hello, I am text" >"$T/text.png"
expect 1 "$PP" apply -f invert "$T/text.png" "$T/t.png"; err_has "text.png: not a recognised image format"
expect 1 "$PP" apply -f invert "$T/missing.png" "$T/t.png"; err_has "missing.png"
: >"$T/empty.png"
expect 1 "$PP" apply -f invert "$T/empty.png" "$T/t.png"; err_has "empty.png"
expect 1 "$PP" apply --max-pixels 1000 -f invert "$S" "$T/t.png"; err_has "over the limit"
expect 1 "$PP" apply -f invert "$S" "$T/no/such/dir/t.png"; err_has "t.png"
[[ -z $(ls -A "$T" | grep pp-tmp) ]] && ok || bad "temporary file left behind"
expect 1 "$PP" info "$T/text.png" ; err_has "text.png"

# usage errors: exit 2 and say what is allowed
expect 2 "$PP" apply -f gausian "$S" "$T/t.png"; err_has "available filters:"
expect 2 "$PP" apply -f gaussian:sigma=abc "$S" "$T/t.png"; err_has "not a number"
expect 2 "$PP" apply -f gaussian:sigm=2 "$S" "$T/t.png"; err_has "its parameters: sigma, radius"
expect 2 "$PP" apply -f gaussian:sigma=0 "$S" "$T/t.png"; err_has "out of range"
expect 2 "$PP" apply -f rotate:angle=45 "$S" "$T/t.png"; err_has "angle: '45' is not one of 90|180|270"
expect 2 "$PP" apply -f invert "$S" "$T/t.xyz"; err_has "use .png"
expect 2 "$PP" apply -b gpu -f invert "$S" "$T/t.png"; err_has "unknown backend"
expect 2 "$PP" apply -j 0 -f invert "$S" "$T/t.png"
expect 2 "$PP" apply --jpeg-subsample 421 -f invert "$S" "$T/t.jpg"
err_has "pixpool: error: --jpeg-subsample: '421' is not one of auto, 444, 422, 420"
expect 2 "$PP" apply --quality 0 -f invert "$S" "$T/t.jpg"; err_has "--quality"
expect 2 "$PP" apply -f invert "$S"
expect 2 "$PP" nosuchcommand
expect 2 "$PP"

# help, version, filters
for c in apply filters info; do expect 0 "$PP" $c --help; done
expect 0 "$PP" --help
expect 0 "$PP" --version; grep -q "^pixpool [0-9]" "$T/out" && ok || bad "version"
expect 0 "$PP" filters
for f in grayscale invert brightness contrast box gaussian sharpen sobel median flip flop rotate; do
  grep -q "^$f " "$T/out" && ok || bad "filters lacks $f"
done
grep -q "sigma .*float in \[0.1, 60\], default 1" "$T/out" && ok || bad "filters lacks gaussian's schema"

# docs/FILTERS.md is generated from the registry: it must not drift
"$PP" filters --markdown >"$T/filters.md" && cmp -s "$T/filters.md" "$ROOT/docs/FILTERS.md" && ok || bad "docs/FILTERS.md is stale: run pixpool filters --markdown > docs/FILTERS.md"

finish
