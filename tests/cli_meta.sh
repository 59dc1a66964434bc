#!/usr/bin/env bash
# cli_meta.sh - metadata from input to output, as exiftool and ImageMagick read the files:
# - the ICC profile (an 80 KB one, two JPEG APP2 chunks), the EXIF block, its fields, the XMP
#   title and the density are identical to the input's for JPEG->JPEG, PNG->PNG, JPEG->PNG and
#   PNG->JPEG, through `apply` and `batch`, on every backend;
# - PNG gAMA/cHRM/sRGB pass PNG->PNG; --strip, --strip=exif,xmp, --strip=icc leave out what they
#   say and nothing else;
# - --auto-orient: the 8 EXIF orientations give exactly ImageMagick's -auto-orient pixels (JPEG
#   input: its own orientation; PNG input: IM's -orient then -auto-orient), orientation 1 and
#   EXIF pixel dimensions of the output; without it pixels and orientation stay;
# - geometry filters rewrite EXIF's pixel dimensions; grayscale drops the RGB profile;
# - broken metadata (a JPEG ICC sequence missing a chunk, a PNG iCCP with a bad CRC) is dropped
#   and the image still converts;
# - a PSD's ICC profile, EXIF, XMP and resolution land in the JPEG and PNG it becomes.
# Needs exiftool (libimage-exiftool-perl) and ImageMagick 6 (.ci/install-deps installs both).
# Usage: bash tests/cli_meta.sh PIXPOOL REPO_ROOT
set -u
PP=$1
ROOT=$2
. "$ROOT/tests/lib.sh"
PY=/usr/bin/python3
for tool in exiftool identify-im6.q16 convert-im6.q16 compare-im6.q16; do
  if ! command -v $tool >/dev/null; then
    bad "$tool is not installed (bash .ci/install-deps installs it)"
    finish
  fi
done

ODD="$ROOT/samples/odd-rgb-257x131.png"
"$PY" "$ROOT/tests/make_icc.py" "$T/big.icc" --big
"$PY" "$ROOT/tests/make_icc.py" "$T/rgb.icc"
ICC_MD5=$(md5sum <"$T/big.icc")
EXIF_ARGS=(-Make=PixpoolTest "-Model=Meta Cam 2" "-DateTimeOriginal=2024:05:06 07:08:09"
  -GPSLatitude=48.8583 -GPSLatitudeRef=N -GPSLongitude=2.2945 -GPSLongitudeRef=E
  -XResolution=300 -YResolution=300 -ResolutionUnit=inches -ExifImageWidth=257
  -ExifImageHeight=131 "-XMP-dc:Title=pixpool metadata test")
mkdir -p "$T/in"
expect 0 "$PP" apply --quality 95 "$ODD" "$T/in/photo.jpg"
cp "$ODD" "$T/in/shot.png"
exiftool -q -overwrite_original "-ICC_Profile<=$T/big.icc" "${EXIF_ARGS[@]}" \
  -JFIF:XResolution=300 -JFIF:YResolution=300 -JFIF:ResolutionUnit=inches "$T/in/photo.jpg"
exiftool -q -overwrite_original "-ICC_Profile<=$T/big.icc" "${EXIF_ARGS[@]}" \
  -PNG-pHYs:PixelsPerUnitX=11811 -PNG-pHYs:PixelsPerUnitY=11811 -PNG-pHYs:PixelUnits=meters \
  "$T/in/shot.png"

# facts FILE: what must survive, one line each (one exiftool run, read through its JSON)
TAGS=(-ICC_Profile -EXIF -EXIF:Make -EXIF:Model -EXIF:DateTimeOriginal -EXIF:GPSLatitude
  -EXIF:GPSLongitude -EXIF:Orientation -EXIF:ExifImageWidth -EXIF:ExifImageHeight -XMP-dc:Title
  -JFIF:ResolutionUnit -JFIF:XResolution -JFIF:YResolution -PNG-pHYs:PixelUnits
  -PNG-pHYs:PixelsPerUnitX -PNG-pHYs:PixelsPerUnitY)
facts() {
  echo "icc-im $(identify-im6.q16 -format '%[profile:icc]' "$1" 2>/dev/null)"
  exiftool -j -b -n -G1 "${TAGS[@]}" "$1" | "$PY" -c '
import base64, hashlib, json, sys
t = json.load(sys.stdin)[0]
def md5(key):
    v = t.get(key, "")
    return hashlib.md5(base64.b64decode(v[7:]) if v.startswith("base64:") else b"").hexdigest() + "  -"
print("icc", md5("ICC_Profile:ICC_Profile"))
print("exif", md5("EXIF:EXIF"))
for k, v in t.items():
    if k.split(":")[0] in ("IFD0", "ExifIFD", "GPS", "XMP-dc"):
        print("%s: %s" % (k.split(":")[1], v))
if t.get("JFIF:ResolutionUnit") == 1:
    print("dpi %dx%d" % (t["JFIF:XResolution"], t["JFIF:YResolution"]))
elif t.get("PNG-pHYs:PixelUnits") == 1:
    print("dpi %dx%d" % (round(t["PNG-pHYs:PixelsPerUnitX"] * 0.0254), round(t["PNG-pHYs:PixelsPerUnitY"] * 0.0254)))
else:
    print("dpi none")'
}
# dpi FILE: the density in dots per inch from JFIF or pHYs ("none" without one)
dpi() { facts "$1" | sed -n 's/^dpi //p'; }
# the inputs say what the test wrote into them
facts "$T/in/photo.jpg" >"$T/want.jpg.txt"
facts "$T/in/shot.png" >"$T/want.png.txt"
for f in jpg png; do
  grep -q "^icc $ICC_MD5" "$T/want.$f.txt" && grep -q "^icc-im pixpool test RGB big" "$T/want.$f.txt" &&
    grep -q "^Make: PixpoolTest" "$T/want.$f.txt" && grep -q "^DateTimeOriginal: 2024:05:06 07:08:09" "$T/want.$f.txt" &&
    grep -q "^Title: pixpool metadata test" "$T/want.$f.txt" && grep -q "^dpi 300x300" "$T/want.$f.txt" &&
    ok || bad "the $f input lacks the metadata the test wrote: $(cat "$T/want.$f.txt")"
done
# the two inputs carry the same EXIF block, so every output can be held to either
cmp -s <(grep -v "^dpi\|^icc" "$T/want.jpg.txt") <(grep -v "^dpi\|^icc" "$T/want.png.txt") && ok ||
  bad "the JPEG and PNG inputs differ in EXIF: $(diff "$T/want.jpg.txt" "$T/want.png.txt")"

# same_facts OUT IN_EXT WHAT: OUT's facts are the input's
same_facts() {
  facts "$1" >"$T/got.txt"
  if cmp -s "$T/got.txt" "$T/want.$2.txt"; then ok; else bad "$3: $(diff "$T/want.$2.txt" "$T/got.txt" | tr '\n' ' ')"; fi
}

# ---- apply: the four conversions on every backend ------------------------------------------
for b in serial openmp fork; do
  for i in photo.jpg shot.png; do
    for o in jpg png; do
      out="$T/apply-$b-${i%.*}.$o"
      expect 0 "$PP" apply -b $b -j 2 -f sharpen "$T/in/$i" "$out"
      same_facts "$out" "${i##*.}" "apply -b $b $i -> .$o"
    done
  done
done
# the PNG output's chunks: in the order the PNG spec wants, before IDAT
exiftool -v "$T/apply-serial-photo.png" | grep -o "^PNG [a-zA-Z]*" | tr '\n' ' ' >"$T/chunks"
[[ $(cat "$T/chunks") == "PNG IHDR PNG iCCP PNG pHYs PNG eXIf PNG iTXt PNG IDAT PNG IEND " ]] && ok ||
  bad "PNG chunks: $(cat "$T/chunks")"
# the JPEG output's ICC profile is two APP2 chunks
n=$(exiftool -v3 "$T/apply-serial-shot.jpg" | grep -c "ICC_Profile chunk [12] of 2")
[[ $n == 2 ]] && ok || bad "APP2 ICC chunks: $n (want 2)"

# ---- batch: every backend, same format and both conversions --------------------------------
for b in serial openmp fork; do
  for fmt in same png jpg; do
    rm -rf "$T/bout"
    expect 0 "$PP" batch --no-progress -b $b -j 2 --format $fmt -f sharpen "$T/in" "$T/bout"
    for i in photo.jpg shot.png; do
      case $fmt in same) ext=${i##*.} ;; *) ext=$fmt ;; esac
      same_facts "$T/bout/${i%.*}.$ext" "${i##*.}" "batch -b $b --format $fmt $i"
    done
  done
done

# ---- PNG colour chunks ---------------------------------------------------------------------
# add_chunks IN OUT TYPE:HEX[:badcrc]...: inserts chunks after IHDR (with a wrong CRC if asked)
add_chunks() {
  "$PY" - "$@" <<'PY'
import struct, sys, zlib
src, dst, chunks = sys.argv[1], sys.argv[2], sys.argv[3:]
d = open(src, 'rb').read()
ihdr_end = 8 + 12 + 13
extra = b''
for c in chunks:
    f = c.split(':')
    t, body = f[0].encode(), bytes.fromhex(f[1])
    crc = zlib.crc32(t + body) ^ (1 if len(f) > 2 else 0)
    extra += struct.pack('>I', len(body)) + t + body + struct.pack('>I', crc)
open(dst, 'wb').write(d[:ihdr_end] + extra + d[ihdr_end:])
PY
}
GAMA=0000b18f
CHRM=00007a2500008083 # white x, y
CHRM=${CHRM}0000f9ff000080e9000075300000ea6000003a9800001770
add_chunks "$ODD" "$T/colour.png" gAMA:$GAMA cHRM:$CHRM sRGB:00
expect 0 "$PP" apply -b openmp -f invert "$T/colour.png" "$T/colour-out.png"
exiftool -s -s -n -PNG:Gamma -PNG:WhitePointX -PNG:WhitePointY -PNG:RedX -PNG:RedY -PNG:GreenX -PNG:GreenY -PNG:BlueX -PNG:BlueY -PNG:SRGBRendering "$T/colour.png" >"$T/c-in.txt"
exiftool -s -s -n -PNG:Gamma -PNG:WhitePointX -PNG:WhitePointY -PNG:RedX -PNG:RedY -PNG:GreenX -PNG:GreenY -PNG:BlueX -PNG:BlueY -PNG:SRGBRendering "$T/colour-out.png" >"$T/c-out.txt"
[[ $(wc -l <"$T/c-in.txt") == 10 ]] && cmp -s "$T/c-in.txt" "$T/c-out.txt" && ok ||
  bad "gAMA/cHRM/sRGB PNG->PNG: $(cat "$T/c-in.txt" | tr '\n' ' ') / $(cat "$T/c-out.txt" | tr '\n' ' ')"

# ---- --strip -------------------------------------------------------------------------------
for i in photo.jpg shot.png; do
  for o in jpg png; do
    expect 0 "$PP" apply --strip -f sharpen "$T/in/$i" "$T/strip.$o"
    facts "$T/strip.$o" | grep -v "^icc-im" >"$T/got.txt"
    printf 'icc %s\nexif %s\ndpi none\n' "$(md5sum </dev/null)" "$(md5sum </dev/null)" >"$T/none.txt"
    cmp -s "$T/got.txt" "$T/none.txt" && ok || bad "--strip $i -> .$o kept: $(cat "$T/got.txt" | tr '\n' ' ')"
    expect 0 "$PP" apply --strip=exif,xmp -f sharpen "$T/in/$i" "$T/web.$o"
    facts "$T/web.$o" >"$T/got.txt"
    { grep "^icc" "$T/want.${i##*.}.txt"; echo "exif $(md5sum </dev/null)"; echo "dpi 300x300"; } >"$T/w.txt"
    cmp -s "$T/got.txt" "$T/w.txt" && ok || bad "--strip=exif,xmp $i -> .$o: $(diff "$T/w.txt" "$T/got.txt" | tr '\n' ' ')"
    expect 0 "$PP" apply --strip=icc "$T/in/$i" "$T/noicc.$o"
    facts "$T/noicc.$o" >"$T/got.txt"
    { echo "icc-im "; echo "icc $(md5sum </dev/null)"; grep -v "^icc" "$T/want.${i##*.}.txt"; } >"$T/w.txt"
    cmp -s "$T/got.txt" "$T/w.txt" && ok || bad "--strip=icc $i -> .$o: $(diff "$T/w.txt" "$T/got.txt" | tr '\n' ' ')"
  done
done
expect 2 "$PP" apply --strip=exif,gps "$T/in/photo.jpg" "$T/x.jpg"
grep -q "'gps' is not one of exif, xmp, icc, density, other, all" "$T/err" && ok || bad "--strip=gps: $(cat "$T/err")"
[[ ! -e $T/x.jpg ]] && ok || bad "--strip=gps wrote an output"
rm -rf "$T/bout"
expect 0 "$PP" batch --no-progress --strip=exif,xmp "$T/in" "$T/bout"
for f in photo.jpg shot.png; do
  [[ $(exiftool -b -EXIF "$T/bout/$f" | wc -c) == 0 && $(exiftool -b -ICC_Profile "$T/bout/$f" | md5sum) == "$ICC_MD5" ]] &&
    ok || bad "batch --strip=exif,xmp $f"
done

# ---- --auto-orient: all 8 orientations -----------------------------------------------------
names=(x TopLeft TopRight BottomRight BottomLeft LeftTop RightTop RightBottom LeftBottom)
for o in 1 2 3 4 5 6 7 8; do
  cp "$T/in/photo.jpg" "$T/o$o.jpg"
  cp "$T/in/shot.png" "$T/o$o.png"
  exiftool -q -overwrite_original -Orientation#=$o "$T/o$o.jpg" "$T/o$o.png"
  if ((o >= 5)); then dims="131 257"; else dims="257 131"; fi
  for b in serial fork; do
    expect 0 "$PP" apply -b $b --auto-orient "$T/o$o.jpg" "$T/up$o.png"
    convert-im6.q16 "$T/o$o.jpg" -auto-orient "$T/ref$o.png"
    ae=$(compare-im6.q16 -metric AE "$T/up$o.png" "$T/ref$o.png" null: 2>&1)
    [[ $ae == 0 ]] && ok || bad "--auto-orient -b $b JPEG orientation $o: $ae pixels differ from ImageMagick"
    got=$(exiftool -s3 -n -EXIF:Orientation -EXIF:ExifImageWidth -EXIF:ExifImageHeight "$T/up$o.png" | tr '\n' ' ')
    [[ $got == "1 $dims " ]] && ok || bad "--auto-orient JPEG orientation $o: EXIF says '$got' (want '1 $dims ')"
    expect 0 "$PP" apply -b $b --auto-orient "$T/o$o.png" "$T/upp$o.png"
    convert-im6.q16 "$T/o$o.png" -orient "${names[o]}" -auto-orient "$T/refp$o.png"
    ae=$(compare-im6.q16 -metric AE "$T/upp$o.png" "$T/refp$o.png" null: 2>&1)
    [[ $ae == 0 ]] && ok || bad "--auto-orient -b $b PNG orientation $o: $ae pixels differ from ImageMagick"
  done
  # without --auto-orient the pixels and the orientation stay as stored
  expect 0 "$PP" apply "$T/o$o.png" "$T/kept$o.png"
  [[ $(exiftool -s3 -n -EXIF:Orientation "$T/kept$o.png") == "$o" ]] && ok || bad "orientation $o not kept"
  ae=$(compare-im6.q16 -metric AE "$T/kept$o.png" "$ODD" null: 2>&1)
  [[ $ae == 0 ]] && ok || bad "orientation $o: pixels changed without --auto-orient"
done
# batch --auto-orient, into JPEG
mkdir -p "$T/orient"
cp "$T/o6.jpg" "$T/o8.png" "$T/orient/"
rm -rf "$T/bout"
expect 0 "$PP" batch --no-progress --auto-orient --format jpg "$T/orient" "$T/bout"
for f in o6 o8; do
  got="$(identify-im6.q16 -format '%wx%h' "$T/bout/$f.jpg") $(exiftool -s3 -n -EXIF:Orientation "$T/bout/$f.jpg")"
  [[ $got == "131x257 1" ]] && ok || bad "batch --auto-orient $f: $got"
done

# ---- geometry and colour filters -----------------------------------------------------------
expect 0 "$PP" apply -f crop:x=10,y=20,width=100,height=50 "$T/in/photo.jpg" "$T/crop.jpg"
got=$(exiftool -s3 -n -EXIF:ExifImageWidth -EXIF:ExifImageHeight -EXIF:Make "$T/crop.jpg" | tr '\n' ' ')
[[ $got == "100 50 PixpoolTest " ]] && ok || bad "crop: EXIF dimensions '$got'"
expect 0 "$PP" apply -f resize:width=1000,height=700 "$T/in/shot.png" "$T/big.png"
got=$(exiftool -s3 -n -EXIF:ExifImageWidth -EXIF:ExifImageHeight "$T/big.png" | tr '\n' ' ')
[[ $got == "1000 700 " ]] && ok || bad "resize: EXIF dimensions '$got'"
expect 0 "$PP" apply -f grayscale "$T/in/photo.jpg" "$T/gray.png"
[[ $(exiftool -b -ICC_Profile "$T/gray.png" | wc -c) == 0 && $(exiftool -s3 -EXIF:Make "$T/gray.png") == PixpoolTest ]] &&
  ok || bad "grayscale: the RGB profile must go, EXIF stay"
identify-im6.q16 "$T/gray.png" >/dev/null 2>"$T/im.err" && [[ ! -s $T/im.err ]] && ok ||
  bad "grayscale output: ImageMagick warns: $(cat "$T/im.err")"

# ---- PSD's image resources (written by ImageMagick and exiftool) ---------------------------
convert-im6.q16 "$ODD" -density 300 -units PixelsPerInch -profile "$T/big.icc" "$T/in.psd"
exiftool -q -overwrite_original -Make=PsdCam "-XMP-dc:Title=psd title" "$T/in.psd"
for o in jpg png; do
  expect 0 "$PP" apply "$T/in.psd" "$T/psd.$o"
  got="$(exiftool -b -ICC_Profile "$T/psd.$o" | md5sum) $(exiftool -s3 -EXIF:Make -XMP-dc:Title "$T/psd.$o" | tr '\n' ' ')$(dpi "$T/psd.$o")"
  [[ $got == "$ICC_MD5 PsdCam psd title 300x300" ]] && ok || bad "PSD -> .$o: '$got'"
done

# ---- broken metadata is dropped ------------------------------------------------------------
# a JPEG whose ICC sequence lacks its second chunk
"$PY" - "$T/in/photo.jpg" "$T/trunc.jpg" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
out, pos = d[:2], 2
while pos < len(d) and d[pos] == 0xff and d[pos + 1] != 0xda:
    n = d[pos + 2] << 8 | d[pos + 3]
    seg = d[pos:pos + 2 + n]
    if not (seg[1] == 0xe2 and seg[4:16] == b'ICC_PROFILE\0' and seg[16] == 2):
        out += seg
    pos += 2 + n
open(sys.argv[2], 'wb').write(out + d[pos:])
PY
expect 0 "$PP" apply "$T/trunc.jpg" "$T/trunc.png"
[[ $(exiftool -b -ICC_Profile "$T/trunc.png" | wc -c) == 0 && $(exiftool -s3 -EXIF:Make "$T/trunc.png") == PixpoolTest ]] &&
  ok || bad "an ICC sequence missing a chunk must be dropped, the rest kept"
# a PNG iCCP with a bad CRC
"$PY" - "$T/rgb.icc" "$T/iccp.hex" <<'PY'
import sys, zlib
icc = open(sys.argv[1], 'rb').read()
open(sys.argv[2], 'w').write((b'bad\0\0' + zlib.compress(icc)).hex())
PY
add_chunks "$ODD" "$T/badcrc.png" "iCCP:$(cat "$T/iccp.hex"):badcrc"
expect 0 "$PP" apply "$T/badcrc.png" "$T/badcrc-out.png"
[[ $(exiftool -b -ICC_Profile "$T/badcrc-out.png" | wc -c) == 0 ]] && ok || bad "an iCCP with a bad CRC must be dropped"
add_chunks "$ODD" "$T/goodcrc.png" "iCCP:$(cat "$T/iccp.hex")"
expect 0 "$PP" apply "$T/goodcrc.png" "$T/goodcrc-out.png"
[[ $(exiftool -b -ICC_Profile "$T/goodcrc-out.png" | md5sum) == "$(md5sum <"$T/rgb.icc")" ]] && ok ||
  bad "the same iCCP with its right CRC must be kept"

finish
