#!/usr/bin/env bash
# cli_tiff.sh - TIFF on the command line: `apply` writes .tif/.tiff with each --tiff-compression
# and Pillow (an independent reader, with its own TIFF decoder) reads exactly the pixels of the
# input; `info` reports TIFF inputs; `batch` takes .tif files and --format tif; a damaged TIFF
# is an error naming the file (exit 1), with libtiff's own messages never printed; a bad
# --tiff-compression is a usage error. Pillow's checks are skipped, with a message, without it.
# Usage: bash tests/cli_tiff.sh PIXPOOL REPO_ROOT
set -u
PP=$1
ROOT=$2
. "$ROOT/tests/lib.sh"

PY=/usr/bin/python3
have_pil=0
if [[ -x $PY ]] && $PY -c 'import PIL, numpy' 2>/dev/null; then have_pil=1; else
  echo "cli_tiff: Pillow and numpy for /usr/bin/python3 not installed: skipping their checks"
fi

# same_pixels A B: Pillow decodes both to the same mode, size and pixels
same_pixels() {
  [[ $have_pil == 1 ]] || return 0
  if $PY - "$1" "$2" <<'EOF'; then ok; else bad "Pillow: $1 and $2 differ"; fi
import sys
import numpy as np
from PIL import Image
a, b = Image.open(sys.argv[1]), Image.open(sys.argv[2])
a.load(); b.load()
ma = {'RGB': 'RGB', 'RGBA': 'RGBA', 'L': 'L', 'LA': 'LA'}
if a.mode != b.mode or a.size != b.size:
    print(a.mode, b.mode, a.size, b.size); sys.exit(1)
sys.exit(0 if np.array_equal(np.asarray(a), np.asarray(b)) else 1)
EOF
}

for f in landscape-rgb-1024x768 hills-gray-640x480 fog-grayalpha-320x240 vignette-rgba-512x384 \
         odd-rgb-257x131; do
  src="$ROOT/samples/$f.png"
  for c in none lzw deflate packbits; do
    expect 0 "$PP" apply --tiff-compression "$c" "$src" "$T/$f-$c.tif"
    same_pixels "$src" "$T/$f-$c.tif"
    expect 0 "$PP" apply "$T/$f-$c.tif" "$T/back.png"
    cmp -s <("$PP" info "$src" | cut -d' ' -f3-5) <("$PP" info "$T/$f-$c.tif" | cut -d' ' -f3-5) &&
      ok || bad "info of $f-$c.tif: $("$PP" info "$T/$f-$c.tif")"
    same_pixels "$src" "$T/back.png"
  done
done
expect 0 "$PP" info "$T/landscape-rgb-1024x768-lzw.tif"
grep -q "format=tiff width=1024 height=768 channels=3 depth=8" "$T/out" && ok || bad "info: $(cat "$T/out")"
# .tiff is TIFF too; the default compression is none
expect 0 "$PP" apply -f invert "$ROOT/samples/odd-rgb-257x131.png" "$T/x.tiff"
[[ $(head -c 4 "$T/x.tiff" | od -An -c | tr -d ' ') == 'II*\0' ]] && ok || bad "x.tiff is not a TIFF"
size=$(stat -c %s "$T/x.tiff")
((size >= 257 * 131 * 3)) && ok || bad "default compression is not none: $size bytes"

# usage errors
expect 2 "$PP" apply --tiff-compression zstd "$ROOT/samples/odd-rgb-257x131.png" "$T/y.tif"
grep -q "tiff-compression: 'zstd' is not one of none, lzw, deflate, packbits" "$T/err" && ok ||
  bad "message: $(cat "$T/err")"
[[ ! -e $T/y.tif ]] && ok || bad "y.tif written after a usage error"

# a damaged TIFF: one line naming the file, exit 1, nothing from libtiff, no output file
head -c 5000 "$T/landscape-rgb-1024x768-deflate.tif" >"$T/cut.tif"
expect 1 "$PP" apply "$T/cut.tif" "$T/cut.png"
[[ $(wc -l <"$T/err") == 1 ]] && grep -q "^pixpool: error: .*cut.tif: " "$T/err" && ok ||
  bad "damaged TIFF message: $(cat "$T/err")"
[[ ! -e $T/cut.png ]] && ok || bad "cut.png written"

# batch: .tif inputs are images, --format tif writes .tif, same keeps .tif and .tiff
mkdir -p "$T/in/sub"
cp "$T/landscape-rgb-1024x768-lzw.tif" "$T/in/a.tif"
cp "$T/x.tiff" "$T/in/sub/b.tiff"
cp "$ROOT/samples/hills-gray-640x480.png" "$T/in/c.png"
expect 0 "$PP" batch -r --no-progress -f invert "$T/in" "$T/out1"
[[ -f $T/out1/a.tif && -f $T/out1/sub/b.tiff && -f $T/out1/c.png ]] && ok || bad "batch same: $(cd "$T/out1" && find . -type f)"
expect 0 "$PP" batch -r --no-progress --format tif --tiff-compression deflate "$T/in" "$T/out2"
[[ -f $T/out2/a.tif && -f $T/out2/sub/b.tiff && -f $T/out2/c.tif ]] && ok || bad "batch tif: $(cd "$T/out2" && find . -type f)"
same_pixels "$T/in/c.png" "$T/out2/c.tif"
same_pixels "$T/in/a.tif" "$T/out2/a.tif"
finish
