#!/usr/bin/env bash
# cli_channels.sh - the channels a file has are the channels pixpool keeps (issue 18): an opaque
# GIF and a 3-channel PSD decode to RGB (not RGBA), a GIF with a transparent colour and an RGBA
# PSD to RGBA, a greyscale image stays 1-channel through JPEG and PNG; read back with Pillow.
# Usage: bash tests/cli_channels.sh PIXPOOL REPO_ROOT
set -u
PP=$1
ROOT=$2
. "$ROOT/tests/lib.sh"
/usr/bin/python3 - "$T" <<'PY'
import struct, sys
from PIL import Image
t = sys.argv[1]
rgb = Image.new('RGB', (8, 6), (200, 30, 60))
rgb.save(t + '/opaque.gif')
p = Image.new('P', (8, 6), 0)
p.putpalette([200, 30, 60, 0, 0, 0] + [0] * 762)
p.putpixel((1, 1), 1)
p.save(t + '/transparent.gif', transparency=1)
Image.new('L', (8, 6), 100).save(t + '/gray.png')
Image.new('L', (8, 6), 100).save(t + '/gray.jpg')
def psd(path, planes):  # a raw 8-bit RGB-mode PSD, one plane per channel
    w, h = 8, 6
    with open(path, 'wb') as f:
        f.write(b'8BPS' + struct.pack('>H6xHIIHH', 1, len(planes), h, w, 8, 3))
        f.write(struct.pack('>IIIH', 0, 0, 0, 0))
        for v in planes:
            f.write(bytes([v]) * (w * h))
psd(t + '/rgb.psd', [10, 20, 30])
psd(t + '/rgba.psd', [10, 20, 30, 255])
PY
mode() { /usr/bin/python3 -c "import sys; from PIL import Image; im = Image.open(sys.argv[1]); print(im.mode, im.getpixel((0, 0)))" "$1"; }
check() { # INPUT OUTPUT WANT_MODE WANT_INFO_CHANNELS
  expect 0 "$PP" info "$T/$1"
  grep -q "channels=$4 " "$T/out" && ok || bad "info $1: $(cat "$T/out") (want channels=$4)"
  expect 0 "$PP" apply "$T/$1" "$T/$2"
  local got; got=$(mode "$T/$2")
  [[ $got == "$3"* ]] && ok || bad "$1 -> $2 is '$got' (want $3)"
}
check opaque.gif opaque.png "RGB (200, 30, 60)" 3
check transparent.gif transparent.png "RGBA" 4
check rgb.psd rgb.png "RGB (10, 20, 30)" 3
check rgba.psd rgba.png "RGBA (10, 20, 30, 255)" 4
check gray.jpg gray-from-jpg.jpg "L" 1
check gray.png gray.jpg2.jpg "L" 1
check gray.png gray-out.png "L" 1
check opaque.gif opaque.jpg "RGB" 3
# the transparent pixel stays transparent
[[ $(/usr/bin/python3 -c "from PIL import Image; print(Image.open('$T/transparent.png').getpixel((1, 1))[3])") == 0 ]] && ok || bad "transparent GIF pixel lost its alpha"
# batch keeps them too
mkdir -p "$T/in" && cp "$T/opaque.gif" "$T/rgb.psd" "$T/in/"
expect 0 "$PP" batch --no-progress "$T/in" "$T/o"
[[ $(mode "$T/o/opaque.png") == "RGB ("* && $(mode "$T/o/rgb.png") == "RGB ("* ]] && ok || bad "batch: $(mode "$T/o/opaque.png"), $(mode "$T/o/rgb.png")"
finish
