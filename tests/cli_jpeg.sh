#!/usr/bin/env bash
# cli_jpeg.sh - pixpool's JPEG output as other tools see it: the --jpeg-* options of apply and
# batch land in the file's header (frame marker, sampling factors, components), djpeg reads
# every file without a warning, and libjpeg-turbo's djpeg and ImageMagick decode each to exactly
# the pixels pixpool's own decoder gives (all three are libjpeg-turbo with the accurate integer
# DCT and fancy upsampling). Progressive and optimised files decode to the baseline's pixels.
# djpeg (libjpeg-turbo-progs) and ImageMagick (identify-im6.q16, compare-im6.q16) are optional:
# their checks are skipped, with a message, when they are not installed.
# Usage: bash tests/cli_jpeg.sh PIXPOOL REPO_ROOT
set -u
PP=$1
ROOT=$2
. "$ROOT/tests/lib.sh"

RGB="$ROOT/samples/landscape-rgb-1024x768.png"
ODD="$ROOT/samples/odd-rgb-257x131.png"
GRAY="$ROOT/samples/hills-gray-640x480.png"
GA="$ROOT/samples/fog-grayalpha-320x240.png"
RGBA="$ROOT/samples/vignette-rgba-512x384.png"

DJPEG=$(command -v djpeg || true)
IDENTIFY=$(command -v identify-im6.q16 || true)
COMPARE=$(command -v compare-im6.q16 || true)
[[ -n $DJPEG ]] || echo "cli_jpeg: djpeg (libjpeg-turbo-progs) not installed: skipping its checks"
[[ -n $IDENTIFY && -n $COMPARE ]] ||
  echo "cli_jpeg: ImageMagick (identify-im6.q16, compare-im6.q16) not installed: skipping its checks"

# header FILE: "MARKER NCOMP SAMPLING..." of the file's frame header, e.g. "c0 3 22 11 11"
header() {
  python3 - "$1" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
pos, out = 2, 'none'
while pos + 4 <= len(d) and d[pos] == 0xff:
    m, n = d[pos + 1], d[pos + 2] << 8 | d[pos + 3]
    if 0xc0 <= m <= 0xcf and m not in (0xc4, 0xc8, 0xcc):
        nc = d[pos + 9]
        out = '%02x %d %s' % (m, nc, ' '.join('%02x' % d[pos + 11 + 3 * i] for i in range(nc)))
        break
    pos += 2 + n
print(out)
PY
}

# check_file JPEG WANT_HEADER: the header, then every decoder's pixels against pixpool's
check_file() {
  local f=$1 want=$2 got
  got=$(header "$f")
  [[ $got == "$want" ]] && ok || bad "$(basename "$f"): header '$got', want '$want'"
  expect 0 "$PP" apply "$f" "$T/pp.png"
  if [[ -n $DJPEG ]]; then
    # djpeg prints libjpeg's warnings (corrupt data) on stderr: there must be none
    if "$DJPEG" -pnm -outfile "$T/dj.pnm" "$f" 2>"$T/djerr" && [[ ! -s $T/djerr ]]; then
      ok
      expect 0 "$PP" apply "$T/dj.pnm" "$T/dj.png"
      cmp -s "$T/pp.png" "$T/dj.png" && ok || bad "$(basename "$f"): djpeg decodes other pixels"
    else
      bad "$(basename "$f"): djpeg: $(cat "$T/djerr")"
    fi
  fi
  if [[ -n $COMPARE ]]; then
    local ae
    ae=$("$COMPARE" -metric AE "$T/pp.png" "$f" null: 2>&1)
    [[ $ae == 0 ]] && ok || bad "$(basename "$f"): ImageMagick decodes other pixels (AE $ae)"
  fi
}

# ---- apply: every subsampling at quality 85 and 95, the default, progressive, optimize --------
for q in 85 95; do
  for s in 444 422 420 auto; do
    case $s in 444) y=11 ;; 422) y=21 ;; 420) y=22 ;; auto) [[ $q == 95 ]] && y=11 || y=22 ;; esac
    expect 0 "$PP" apply --quality $q --jpeg-subsample $s "$ODD" "$T/s$s-q$q.jpg"
    check_file "$T/s$s-q$q.jpg" "c0 3 $y 11 11"
  done
done
expect 0 "$PP" apply -f flip "$RGB" "$T/default.jpg"  # quality 90, auto: 4:4:4
check_file "$T/default.jpg" "c0 3 11 11 11"
for s in 444 420; do
  expect 0 "$PP" apply --quality 80 --jpeg-subsample $s "$RGB" "$T/base.jpg"
  [[ $s == 444 ]] && y=11 || y=22
  check_file "$T/base.jpg" "c0 3 $y 11 11"
  cp "$T/pp.png" "$T/base.png"
  expect 0 "$PP" apply --quality 80 --jpeg-subsample $s --jpeg-optimize "$RGB" "$T/opt.jpg"
  check_file "$T/opt.jpg" "c0 3 $y 11 11"
  cmp -s "$T/pp.png" "$T/base.png" && ok || bad "--jpeg-optimize ($s) decodes to other pixels"
  [[ $(stat -c %s "$T/opt.jpg") -le $(stat -c %s "$T/base.jpg") ]] && ok ||
    bad "--jpeg-optimize ($s): $(stat -c %s "$T/opt.jpg") bytes > baseline $(stat -c %s "$T/base.jpg")"
  expect 0 "$PP" apply --quality 80 --jpeg-subsample $s --jpeg-progressive "$RGB" "$T/prog.jpg"
  check_file "$T/prog.jpg" "c2 3 $y 11 11"
  cmp -s "$T/pp.png" "$T/base.png" && ok || bad "--jpeg-progressive ($s) decodes to other pixels"
  if [[ -n $IDENTIFY ]]; then
    [[ $("$IDENTIFY" -format '%[interlace]' "$T/prog.jpg") == JPEG ]] && ok ||
      bad "ImageMagick does not see a progressive JPEG"
  fi
done

# ---- gray, gray+alpha and RGBA inputs ----------------------------------------------------------
for in in "$GRAY" "$GA"; do
  expect 0 "$PP" apply --jpeg-subsample 420 "$in" "$T/gray.jpg"
  check_file "$T/gray.jpg" "c0 1 11"
  expect 0 "$PP" info "$T/gray.jpg"
  grep -q "channels=1" "$T/out" && ok || bad "$(basename "$in") as JPEG: $(cat "$T/out")"
  if [[ -n $IDENTIFY ]]; then
    [[ $("$IDENTIFY" -format '%[colorspace]' "$T/gray.jpg") == Gray ]] && ok ||
      bad "ImageMagick does not see a gray JPEG"
  fi
done
expect 0 "$PP" apply --jpeg-progressive "$RGBA" "$T/rgba.jpg"
check_file "$T/rgba.jpg" "c2 3 11 11 11"

# ---- batch passes the options to every file ----------------------------------------------------
mkdir -p "$T/in"
cp "$ODD" "$GRAY" "$T/in/"
expect 0 "$PP" batch --no-progress --format jpg --quality 70 --jpeg-subsample 422 --jpeg-optimize \
  "$T/in" "$T/out-b"
check_file "$T/out-b/odd-rgb-257x131.jpg" "c0 3 21 11 11"
check_file "$T/out-b/hills-gray-640x480.jpg" "c0 1 11"
expect 0 "$PP" batch --no-progress --format jpg --jpeg-progressive "$T/in" "$T/out-p"
check_file "$T/out-p/odd-rgb-257x131.jpg" "c2 3 11 11 11"
expect 0 "$PP" batch --no-progress --format jpg --quality 70 "$T/in" "$T/out-a"
check_file "$T/out-a/odd-rgb-257x131.jpg" "c0 3 22 11 11"

finish
