#!/usr/bin/env bash
# e2e.sh - pixpool end to end next to libvips, ImageMagick and GraphicsMagick: whole commands
# (read the file, filter, write the file), timed with hyperfine, side by side in one run, one
# markdown table per workload on stdout and the raw numbers in a CSV.
#
# Usage: bench/e2e.sh [options]
#   --pixpool PATH     the pixpool binary (default: build/pixpool, or $PIXPOOL); it is copied
#                      into the scratch folder first, so a rebuild during the run changes nothing
#   --photos DIR       the source photos, PNG or JPEG (default: ../shared/images from the repo
#                      root: the four Kodak 768x512 PNGs; they are read, never copied in the repo)
#   --work DIR         where the data set is made once and reused, and the outputs go
#                      (default: ./e2e-work; plain characters only: A-Z a-z 0-9 _ . / + -)
#   --batch-count N    photos in the batch folders (default 100)
#   --runs N           rounds: every tool runs once per round (default 3)
#   --warmup N         untimed runs of each command before its first timed run, apply and
#                      decode rows (default 1)
#   --batch-warmup N   the same for the batch rows (default 0)
#   --mogrify-runs N   rounds in which ImageMagick and GraphicsMagick run the batch rows
#                      (default 1: they take minutes per run; the first N rounds)
#   --workloads LIST   comma-separated (default: all; see --list)
#   --tools LIST       pixpool,vips,im,gm,djpeg (default: all that are installed)
#   --magick-blur OP   gaussian (default: ImageMagick -gaussian-blur, GraphicsMagick -gaussian,
#                      a 2-D convolution in both) or blur (-blur, their separable blur: faster,
#                      nearly the same pixels)
#   --csv FILE         raw numbers, one line per timed run (default: e2e-raw.csv)
#   --keep-outputs     keep the outputs of the last run under WORK/out (default: removed after
#                      each row's checks; the batch rows write 0.4-1 GB per tool)
#   --quick            a smoke test: --batch-count 12 --runs 1 --warmup 0 (options given
#                      explicitly win); its numbers are one run each, not for quoting
#   --list             print the workloads and exit
#
# Data (made once in WORK with ImageMagick, reused while the photos and --batch-count stay the
# same; a stamp file says what was made from what):
# - photo14.png / photo14.jpg: the first photo (sorted by name) resized with -filter Lanczos
#   -resize 4608x3072! (14.2 MP, RGB); JPEG at quality 92. An upscaled 768x512 photo is smoother
#   than a camera's 14 MP photo, so its PNGs are smaller and quicker to deflate than real ones.
# - batch-png/ and batch-jpg/ (JPEG q92 of the same pixels): N photos whose sizes run
#   log-uniformly from 1 to 16 MP (photo i: 16^(i/(N-1)) MP), cycling over the photos, each
#   with its own crop window and mirroring (bench/e2e_report.py plan prints the plan).
#
# Workloads (the exact command lines are printed at the end of the report):
# - apply-png: photo14.png -> Gaussian blur sigma 2 -> PNG, every tool at its defaults:
#   `pixpool apply -f gaussian:sigma=2` (its default --png-level: see pixpool apply --help),
#   `vips gaussblur IN OUT.png 2` (level 6, no row filter; its mask stops at amplitude 0.2:
#   7 taps against pixpool's 13), `convert-im6.q16 -gaussian-blur 0x2` and
#   `gm convert -gaussian 0x2` (PNG quality 75: zlib level 7, adaptive filters).
# - apply-png-l1: the same at zlib level 1, the fastest deflate level, the row filters left at
#   each tool's default: pixpool --png-level 1, vips OUT.png[compression=1] (none),
#   ImageMagick -define png:compression-level=1 (adaptive; its -quality 10 would also turn the
#   filters off), GraphicsMagick -quality 15 (tens digit: zlib level 1; ones digit 5: adaptive).
# - apply-jpg: photo14.jpg -> blur -> JPEG quality 90 (pixpool --quality 90, vips OUT.jpg[Q=90],
#   -quality 90). Chroma subsampling may then differ: when this was written pixpool
#   (stb_image_write) subsampled 4:2:0 up to quality 90, libvips and the Magicks keep 4:4:4 from
#   quality 90 up; the check table prints each output's sampling.
# - decode-jpg: photo14.jpg decoded and written uncompressed (42 MB) into a tmpfs folder, so
#   the row is about decoding: pixpool -> uncompressed TIFF (its default TIFF), vips copy -> PPM
#   (vips writes no BMP), ImageMagick and GraphicsMagick -> BMP, and `djpeg -outfile OUT.ppm`
#   (libjpeg-turbo's own tool) as the reference decoder, into the same folder.
# - batch-jpg: batch-jpg/ -> blur sigma 2, then the 3x3 sharpen 0 -1 0 / -1 5 -1 / 0 -1 0 ->
#   JPEG q90, into a fresh folder: `pixpool batch --overwrite -f gaussian:sigma=2 -f sharpen`
#   (its defaults: one file per core); libvips through GNU parallel (one vips per core, as in
#   docs/BATCH.md: gaussblur to a .v in tmpfs, then conv with an integer mask, then rm);
#   `mogrify-im6.q16 -path OUT`; `gm mogrify -output-directory OUT` (run inside the input
#   folder: gm appends the input path as given to the output folder). The Magicks take one
#   file at a time, each with their OpenMP threads: that is how mogrify runs.
# - batch-png: the same for batch-png/, PNG out at each tool's default level.
#
# Method:
# - One row = one workload. hyperfine runs all runs of one command before it starts the next,
#   so to alternate the tools run for run, each round is one hyperfine call (--runs 1, -S bash)
#   with every tool of the row, in an order rotated by one each round; --warmup runs happen in
#   round 1, each just before that command's timed run. Medians are over the rounds.
# - Each run writes fresh files: a --prepare per command removes its output file or folder
#   (and the libvips intermediates) before every run, outside the timing.
# - Wall time, user and system CPU are hyperfine's (the CPU time of the command and the
#   children it reaped: pixpool's worker processes, parallel's vips processes).
# - Output size: the bytes of the output file, or of the files of the output folder.
# - ImageMagick runs with MAGICK_CONFIGURE_PATH at a policy.xml of ours that lifts Debian's
#   256 MiB memory cap (as bench/compare.sh does), so nothing goes to a disk cache.
# - Checks, after each row, on the last run's outputs: every output must decode with
#   identify-im6.q16 -regard-warnings; the table gives what it is (JPEG quality and sampling,
#   PNG zlib level class from the zlib header and the row filters used) and the mean absolute difference to pixpool's output in
#   8-bit levels (compare-im6.q16 -metric MAE; for decode-jpg to djpeg's). pixpool's PNG must
#   be pixel-identical (-metric AE 0) to its own BMP output of the same command (batch-png:
#   on the first file, so batch = apply is checked too). Batch rows: the output file count,
#   and the first file of each tool decoded and compared.
# - Run time on the 2-core development machine: --quick 4.3 minutes, its 12-photo batch made
#   in the same run (photo14 reused); --workloads apply-jpg alone 1 minute. The defaults, scaled
#   from those runs by the data (the 100 photos hold 544 MP, 8x the quick batch), should take
#   about 35 minutes on a quiet machine: the data 6 minutes once, the apply and decode rows 3,
#   batch-jpg 7 and batch-png 18, most of the batch time the single mogrify runs. Other jobs
#   on the machine lengthen it and show as † in the tables.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/bench"
PP=${PIXPOOL:-$ROOT/build/pixpool}
PHOTOS=$ROOT/../shared/images
WORK=./e2e-work
BATCH_N="" RUNS="" WARM="" BWARM="" MRUNS=""
ONLY=""
TOOLS="pixpool,vips,im,gm,djpeg"
MBLUR=gaussian
CSV=e2e-raw.csv
KEEP=0
QUICK=0
CMDLINE="bench/e2e.sh $*"
WORKLOADS=(apply-png apply-png-l1 apply-jpg decode-jpg batch-jpg batch-png)
PY=python3
command -v "$PY" >/dev/null || PY=/usr/bin/python3

usage() { sed -n '2,/^set -u/p' "$0" | sed -n 's/^# \{0,1\}//p' | sed '/^set -u/d'; }

while (($#)); do
  case $1 in
    --pixpool) PP=$2; shift 2 ;;
    --photos) PHOTOS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --batch-count) BATCH_N=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --warmup) WARM=$2; shift 2 ;;
    --batch-warmup) BWARM=$2; shift 2 ;;
    --mogrify-runs) MRUNS=$2; shift 2 ;;
    --workloads) ONLY=$2; shift 2 ;;
    --tools) TOOLS=$2; shift 2 ;;
    --magick-blur) MBLUR=$2; shift 2 ;;
    --csv) CSV=$2; shift 2 ;;
    --keep-outputs) KEEP=1; shift ;;
    --quick) QUICK=1; shift ;;
    --list) printf '%s\n' "${WORKLOADS[@]}"; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "e2e.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if ((QUICK)); then
  BATCH_N=${BATCH_N:-12} RUNS=${RUNS:-1} WARM=${WARM:-0}
fi
BATCH_N=${BATCH_N:-100} RUNS=${RUNS:-3} WARM=${WARM:-1} BWARM=${BWARM:-0} MRUNS=${MRUNS:-1}

die() { echo "e2e.sh: $*" >&2; exit 2; }
NOTES=()
note() { echo "note: $*" >&2; NOTES+=("$*"); }
[[ $BATCH_N =~ ^[1-9][0-9]*$ && $RUNS =~ ^[1-9][0-9]*$ && $MRUNS =~ ^[1-9][0-9]*$ ]] ||
  die "--batch-count, --runs and --mogrify-runs take positive integers"
[[ $WARM =~ ^[0-9]+$ && $BWARM =~ ^[0-9]+$ ]] || die "--warmup and --batch-warmup take integers >= 0"
((MRUNS > RUNS)) && MRUNS=$RUNS
case $MBLUR in
  gaussian) IMBLUR="-gaussian-blur 0x2" GMBLUR="-gaussian 0x2" ;;
  blur) IMBLUR="-blur 0x2" GMBLUR="-blur 0x2" ;;
  *) die "--magick-blur takes gaussian or blur" ;;
esac
SEL=()
for w in "${WORKLOADS[@]}"; do [[ -z $ONLY || ",$ONLY," == *",$w,"* ]] && SEL+=("$w"); done
for w in ${ONLY//,/ }; do [[ " ${WORKLOADS[*]} " == *" $w "* ]] || die "unknown workload '$w' (see --list)"; done
((${#SEL[@]})) || die "no workload selected (see --list)"
for t in ${TOOLS//,/ }; do [[ " pixpool vips im gm djpeg " == *" $t "* ]] || die "unknown tool '$t' (pixpool,vips,im,gm,djpeg)"; done

[[ -x $PP ]] || die "pixpool binary '$PP' not found: build it (cmake --build build) or pass --pixpool"
command -v hyperfine >/dev/null || die "hyperfine is needed (apt-get install hyperfine)"
"$PY" -c 'import json' 2>/dev/null || die "python3 is needed"

has_tool() { [[ ",$TOOLS," == *",$1,"* ]]; }
drop_tool() { TOOLS=",$TOOLS,"; TOOLS=${TOOLS//,$1,/,}; TOOLS=${TOOLS#,}; TOOLS=${TOOLS%,}; }
if has_tool vips && ! command -v vips >/dev/null; then note "libvips CLI (vips, package libvips-tools) not installed: skipped"; drop_tool vips; fi
if has_tool im && ! command -v convert-im6.q16 >/dev/null; then note "ImageMagick 6 (convert-im6.q16) not installed: skipped"; drop_tool im; fi
if has_tool im && ! command -v mogrify-im6.q16 >/dev/null; then note "mogrify-im6.q16 not installed: ImageMagick skipped in the batch rows"; fi
if has_tool gm && ! command -v gm >/dev/null; then note "GraphicsMagick (gm) not installed: skipped"; drop_tool gm; fi
if has_tool djpeg && ! command -v djpeg >/dev/null; then note "djpeg (libjpeg-turbo-progs) not installed: skipped"; drop_tool djpeg; fi
HAVE_PARALLEL=1
command -v parallel >/dev/null || { HAVE_PARALLEL=0; has_tool vips && note "GNU parallel not installed: libvips skipped in the batch rows"; }
CHECKS=1
if ! command -v identify-im6.q16 >/dev/null || ! command -v compare-im6.q16 >/dev/null; then
  CHECKS=0; note "identify-im6.q16 / compare-im6.q16 not installed: output checks skipped"
fi

# Paths that go into hyperfine's command lines (and GNU parallel's, which are parsed twice)
# must need no quoting.
SAFE='^[A-Za-z0-9_./+-]+$'
mkdir -p "$WORK" || die "cannot create the work folder '$WORK'"
WORK=$(cd "$WORK" && pwd)
[[ $WORK =~ $SAFE ]] || die "the work folder '$WORK' has characters that would need quoting: pass another --work"
TMPBASE=${TMPDIR:-/tmp}
[[ $TMPBASE =~ $SAFE && -d $TMPBASE ]] || TMPBASE=/tmp
W=$(mktemp -d "$TMPBASE/pixpool-e2e-XXXXXX") || die "cannot create a scratch folder"
if [[ -d /dev/shm && -w /dev/shm ]]; then SHM=$(mktemp -d /dev/shm/pixpool-e2e-XXXXXX); else SHM=$W/shm; mkdir -p "$SHM"; fi
trap 'rm -rf "$W" "$SHM"' EXIT
trap 'exit 130' INT TERM
cp "$PP" "$W/pixpool" || die "cannot copy $PP"
PPX=$W/pixpool
mkdir -p "$W/im" "$W/json"
cp "$ROOT/bench/im-policy.xml" "$W/im/policy.xml"
im() { MAGICK_CONFIGURE_PATH=$W/im "$@"; }
printf '3 3 1 0\n0 -1 0\n-1 5 -1\n0 -1 0\n' >"$W/sharpen.mat"
START=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- data -----------------------------------------------------------------------------------
need_photo=0 need_batch=0
for w in "${SEL[@]}"; do case $w in batch-*) need_batch=1 ;; *) need_photo=1 ;; esac; done
[[ -d $PHOTOS ]] && PHOTOS=$(cd "$PHOTOS" && pwd)
mapfile -t SRCS < <(find "$PHOTOS" -maxdepth 1 -type f \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' \) 2>/dev/null | LC_ALL=C sort)
src_id() { local f; for f in "$@"; do printf '%s %s\n' "${f##*/}" "$(stat -c %s "$f")"; done | md5sum | cut -c1-12; }
SRC_ID=none FIRST=""
((${#SRCS[@]})) && SRC_ID=$(src_id "${SRCS[@]}") FIRST=${SRCS[0]}
need_im_for_data() {
  command -v convert-im6.q16 >/dev/null || die "making the data needs ImageMagick 6 (convert-im6.q16)"
  ((${#SRCS[@]})) || die "no PNG or JPEG photos in '$PHOTOS' (pass --photos DIR)"
}
STAMP14="photo14 v1 4608x3072 lanczos q92 from ${FIRST##*/} sources $SRC_ID"
if ((need_photo)); then
  if [[ -s $WORK/photo14.png && -s $WORK/photo14.jpg && $(cat "$WORK/photo14.stamp" 2>/dev/null) == "$STAMP14" ]]; then
    echo "data: reusing $WORK/photo14.png and .jpg" >&2
  elif [[ ${#SRCS[@]} -eq 0 && -s $WORK/photo14.png && -s $WORK/photo14.jpg ]]; then
    note "no photos in '$PHOTOS': reusing the photo14 files already in $WORK"
  else
    need_im_for_data
    echo "data: making photo14.png and photo14.jpg from $FIRST ..." >&2
    if ! { im convert-im6.q16 "$FIRST" -filter Lanczos -resize '4608x3072!' -strip "PNG24:$W/photo14.png" &&
      im convert-im6.q16 "$W/photo14.png" -strip -quality 92 "$W/photo14.jpg" &&
      mv "$W/photo14.png" "$W/photo14.jpg" "$WORK/"; }; then
      die "could not make photo14"
    fi
    echo "$STAMP14" >"$WORK/photo14.stamp"
  fi
fi
STAMPB="batch v1 n=$BATCH_N 1-16MP log-uniform lanczos q92 sources $SRC_ID"
if ((need_batch)); then
  if [[ -d $WORK/batch-png && -d $WORK/batch-jpg && $(cat "$WORK/batch.stamp" 2>/dev/null) == "$STAMPB" ]]; then
    echo "data: reusing $WORK/batch-png and batch-jpg ($BATCH_N photos)" >&2
  else
    need_im_for_data
    echo "data: making $BATCH_N photos of 1 to 16 MP in $WORK/batch-png and batch-jpg ..." >&2
    B=$WORK/.batch-new
    rm -rf "$B"
    mkdir -p "$B/png" "$B/jpg" || die "cannot create $B"
    "$PY" "$HERE/e2e_report.py" plan "$BATCH_N" "${SRCS[@]}" >"$W/plan" || die "could not plan the batch"
    while read -r name src cw ch ox oy pw ph flop flip; do
      mirror=()
      ((flop)) && mirror+=(-flop)
      ((flip)) && mirror+=(-flip)
      if ! { im convert-im6.q16 "$src" -crop "${cw}x${ch}+${ox}+${oy}" +repage "${mirror[@]}" -filter Lanczos \
          -resize "${pw}x${ph}!" -strip "PNG24:$B/png/$name.png" &&
        im convert-im6.q16 "$B/png/$name.png" -strip -quality 92 "$B/jpg/$name.jpg"; }; then
        die "could not make $name"
      fi
      printf '.' >&2
    done <"$W/plan"
    echo >&2
    rm -rf "$WORK/batch-png" "$WORK/batch-jpg"
    if ! { mv "$B/png" "$WORK/batch-png" && mv "$B/jpg" "$WORK/batch-jpg" && rmdir "$B"; }; then
      die "could not move the batch into place"
    fi
    echo "$STAMPB" >"$WORK/batch.stamp"
  fi
fi
# data_line DESCRIPTION FILE...: megapixels (from pixpool info) and bytes
files_bytes() { find "$@" -maxdepth 1 -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { printf "%d", s }'; }
mp_of() { "$PPX" info "$@" | sed -n 's/.* width=\([0-9]*\) height=\([0-9]*\).*/\1 \2/p' |
  awk '{ s += $1 * $2; n++; m = $1 * $2; if (n == 1 || m < lo) lo = m; if (m > hi) hi = m }
       END { printf "%d files, %.1f MP (%.2f to %.2f MP each)", n, s / 1e6, lo / 1e6, hi / 1e6 }'; }
DATA=()
if ((need_photo)); then
  DATA+=("photo14: $("$PPX" info "$WORK/photo14.png" | sed 's/.*width=\([0-9]*\) height=\([0-9]*\).*/\1x\2/') RGB from ${FIRST:-?}; photo14.png $(files_bytes "$WORK/photo14.png") bytes, photo14.jpg $(files_bytes "$WORK/photo14.jpg") bytes")
fi
if ((need_batch)); then
  DATA+=("batch-png: $(mp_of "$WORK"/batch-png/*.png), $(files_bytes "$WORK/batch-png") bytes; batch-jpg: the same pixels as JPEG q92, $(files_bytes "$WORK/batch-jpg") bytes")
fi
for d in "${DATA[@]}"; do echo "data: $d" >&2; done

# ---- rows -------------------------------------------------------------------------------------
echo "workload,tool,round,wall_s,user_s,sys_s,exit_code,out_bytes" >"$CSV" || die "cannot write $CSV"
: >"$W/rows.tsv"
: >"$W/checks.tsv"
: >"$W/commands.md"

KEYS=() CMDS=() PREPS=() OUTS=() SLOW=()
# add TOOL SLOW OUTPUT PREPARE COMMAND: a tool of the current row
add() { KEYS+=("$1") SLOW+=("$2") OUTS+=("$3") PREPS+=("$4") CMDS+=("$5"); }

out_bytes() { if [[ -d $1 ]]; then files_bytes "$1"; elif [[ -f $1 ]]; then stat -c %s "$1"; fi; }

# timing ROW TITLE WARMUP: the rounds of the current row
timing() {
  local wl=$1 title=$2 warm=$3 r n=${#KEYS[@]} i j k
  printf '%s\t%s\t%s\n' "$wl" "$(IFS=,; echo "${KEYS[*]}")" "$title" >>"$W/rows.tsv"
  {
    echo "$wl:"
    echo
    echo '```sh'
    for ((i = 0; i < n; i++)); do echo "# ${KEYS[i]} (before each run: ${PREPS[i]})"; echo "${CMDS[i]}"; done
    echo '```'
    echo
  } >>"$W/commands.md"
  for ((r = 1; r <= RUNS; r++)); do
    local args=(-S bash --style basic -i --runs 1 --warmup "$((r == 1 ? warm : 0))" --export-json "$W/json/$wl-$r.json")
    local order=""
    for ((j = 0; j < n; j++)); do
      k=$(((j + r - 1) % n))
      ((SLOW[k] && r > MRUNS)) && continue
      args+=(--prepare "${PREPS[k]}")
      order+=" ${KEYS[k]}"
    done
    for ((j = 0; j < n; j++)); do
      k=$(((j + r - 1) % n))
      ((SLOW[k] && r > MRUNS)) && continue
      args+=(-n "${KEYS[k]}" "${CMDS[k]}")
    done
    echo "== $wl, round $r of $RUNS:$order" >&2
    rm -f "$W/json/$wl-$r.json"
    hyperfine "${args[@]}" >&2
    if [[ ! -s $W/json/$wl-$r.json ]]; then
      note "$wl: hyperfine failed in round $r (see above)"
      continue
    fi
    while read -r name wall user sys code; do
      for ((i = 0; i < n; i++)); do [[ ${KEYS[i]} == "$name" ]] && break; done
      ((code != 0)) && note "$wl: $name exited with $code in round $r; the command: ${CMDS[i]}"
      echo "$wl,$name,$r,$wall,$user,$sys,$code,$(out_bytes "${OUTS[i]}")" >>"$CSV"
    done < <("$PY" "$HERE/e2e_report.py" parse "$W/json/$wl-$r.json")
  done
}

# check ROW TOOL FILE [REFERENCE [WHAT]]: decode FILE, describe it, difference to REFERENCE
check() {
  local wl=$1 tool=$2 f=$3 ref=${4:-} what=${5:-} dec desc diff="" out
  if [[ ! -s $f ]]; then
    printf '%s\t%s\t%s\t%s\t%s\t\n' "$wl" "$tool" "${f##*/}" "MISSING" "$what" >>"$W/checks.tsv"
    return
  fi
  if dec=$(im identify-im6.q16 -regard-warnings -format '%m %wx%h %[colorspace] %z-bit' "$f" 2>&1); then
    desc="$dec"
    case $dec in
      JPEG*) desc+=", Q$(im identify-im6.q16 -format '%Q sampling %[jpeg:sampling-factor]' "$f" 2>/dev/null)" ;;
      PNG*) desc+=", $("$PY" "$HERE/e2e_report.py" pnginfo "$f" 2>&1)" ;;
    esac
    dec=ok
  else
    desc=$(tail -n 1 <<<"$dec" | tr '\t' ' ' | cut -c1-120); dec=FAILED
  fi
  [[ -n $what ]] && desc="$what; $desc"
  if [[ -n $ref && $ref != "$f" && $dec == ok ]]; then
    if [[ ! -s $ref ]]; then
      diff="no reference"
    else
      out=$(im compare-im6.q16 -metric MAE "$f" "$ref" null: 2>&1)
      if [[ $out =~ \(([0-9.eE+-]+)\) ]]; then
        diff="$(awk -v x="${BASH_REMATCH[1]}" 'BEGIN { printf "%.3f", x * 255 }') levels vs ${ref##*/}"
      else
        diff="compare failed: $(tail -n 1 <<<"$out" | cut -c1-80)"
      fi
    fi
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$wl" "$tool" "${f##*/}" "$dec" "$desc" "$diff" >>"$W/checks.tsv"
}

# check_same ROW LABEL A B WHAT: compare-im6.q16 -metric AE (pixels that differ) must be 0
check_same() {
  local out ae
  out=$(im compare-im6.q16 -metric AE "$3" "$4" null: 2>&1)
  ae=$(sed -n 's/^\([0-9.eE+-]*\).*/\1/p' <<<"$out" | head -n 1)
  if [[ $ae == 0 ]]; then ae="AE 0: identical pixels"; else ae="DIFFERS: AE ${ae:-?} ($(tail -n 1 <<<"$out" | cut -c1-80))"; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "${3##*/} vs ${4##*/}" "" "$5" "$ae" >>"$W/checks.tsv"
}

PHOTO_BMP=""
# pixpool's BMP of the blurred photo14: the reference for its PNG outputs
photo_bmp() {
  if [[ -z $PHOTO_BMP ]]; then
    PHOTO_BMP=$W/pixpool-ref.bmp
    "$PPX" apply -f gaussian:sigma=2 "$WORK/photo14.png" "$PHOTO_BMP" 2>>"$W/err" || note "pixpool could not write its BMP reference"
  fi
}

IN14P=$WORK/photo14.png IN14J=$WORK/photo14.jpg

row_apply() { # ROW: apply-png, apply-png-l1 or apply-jpg
  local wl=$1 O=$WORK/out/$1 in=$IN14P ext=png ppo="" vo="" imo="" gmo="" title
  case $wl in
    apply-png) title="photo14.png -> Gaussian blur sigma 2 -> PNG, each tool's defaults" ;;
    apply-png-l1) title="photo14.png -> Gaussian blur sigma 2 -> PNG at zlib level 1"
                  ppo=" --png-level 1" vo="[compression=1]" imo=" -define png:compression-level=1" gmo=" -quality 15" ;;
    apply-jpg) title="photo14.jpg -> Gaussian blur sigma 2 -> JPEG quality 90"
               in=$IN14J ext=jpg ppo=" --quality 90" vo="[Q=90]" imo=" -quality 90" gmo=" -quality 90" ;;
  esac
  rm -rf "$O" && mkdir -p "$O"
  KEYS=() CMDS=() PREPS=() OUTS=() SLOW=()
  has_tool pixpool && add pixpool 0 "$O/pixpool.$ext" "rm -f $O/pixpool.$ext" "$PPX apply -f gaussian:sigma=2$ppo $in $O/pixpool.$ext"
  has_tool vips && add vips 0 "$O/vips.$ext" "rm -f $O/vips.$ext" "vips gaussblur $in '$O/vips.$ext$vo' 2"
  has_tool im && add im 0 "$O/im.$ext" "rm -f $O/im.$ext" "MAGICK_CONFIGURE_PATH=$W/im convert-im6.q16 $in $IMBLUR$imo $O/im.$ext"
  has_tool gm && add gm 0 "$O/gm.$ext" "rm -f $O/gm.$ext" "gm convert $in $GMBLUR$gmo $O/gm.$ext"
  ((${#KEYS[@]})) || { note "$wl: no tool to run"; return; }
  timing "$wl" "$title" "$WARM"
  if ((CHECKS)); then
    echo "== $wl: checking outputs ..." >&2
    local t ref=""
    [[ -s $O/pixpool.$ext ]] && ref=$O/pixpool.$ext
    for t in "${KEYS[@]}"; do check "$wl" "$t" "$O/$t.$ext" "$ref"; done
    if [[ $ext == png && -s $O/pixpool.png ]]; then
      photo_bmp
      check_same "$wl" pixpool "$O/pixpool.png" "$PHOTO_BMP" "pixpool's PNG against its BMP of the same command"
    fi
  fi
  ((KEEP)) || rm -rf "$O"
}

row_decode() {
  local wl=decode-jpg O=$SHM/decode-jpg in=$IN14J
  rm -rf "$O" && mkdir -p "$O"
  KEYS=() CMDS=() PREPS=() OUTS=() SLOW=()
  has_tool pixpool && add pixpool 0 "$O/pixpool.tif" "rm -f $O/pixpool.tif" "$PPX apply $in $O/pixpool.tif"
  has_tool vips && add vips 0 "$O/vips.ppm" "rm -f $O/vips.ppm" "vips copy $in $O/vips.ppm"
  has_tool im && add im 0 "$O/im.bmp" "rm -f $O/im.bmp" "MAGICK_CONFIGURE_PATH=$W/im convert-im6.q16 $in $O/im.bmp"
  has_tool gm && add gm 0 "$O/gm.bmp" "rm -f $O/gm.bmp" "gm convert $in $O/gm.bmp"
  has_tool djpeg && add djpeg 0 "$O/djpeg.ppm" "rm -f $O/djpeg.ppm" "djpeg -outfile $O/djpeg.ppm $in"
  ((${#KEYS[@]})) || { note "$wl: no tool to run"; return; }
  timing "$wl" "photo14.jpg decoded, written uncompressed (TIFF, PPM or BMP) into tmpfs" "$WARM"
  if ((CHECKS)); then
    echo "== $wl: checking outputs ..." >&2
    local i ref=""
    [[ -s $O/pixpool.tif ]] && ref=$O/pixpool.tif
    [[ -s $O/djpeg.ppm ]] && ref=$O/djpeg.ppm
    for ((i = 0; i < ${#KEYS[@]}; i++)); do check "$wl" "${KEYS[i]}" "${OUTS[i]}" "$ref"; done
  fi
  rm -rf "$O"
}

row_batch() { # ROW: batch-jpg or batch-png
  local wl=$1 ext=${1#batch-} O=$WORK/out/$1 in=$WORK/$1 q="" vq="" title
  if [[ $ext == jpg ]]; then
    q=" -quality 90" vq="\\[Q=90\\]"
    title="batch-jpg/ -> blur sigma 2, 3x3 sharpen -> JPEG q90, a fresh folder per run"
  else
    title="batch-png/ -> blur sigma 2, 3x3 sharpen -> PNG at each tool's default level, a fresh folder per run"
  fi
  rm -rf "$O" && mkdir -p "$O"
  KEYS=() CMDS=() PREPS=() OUTS=() SLOW=()
  has_tool pixpool && add pixpool 0 "$O/pixpool" "rm -rf $O/pixpool" \
    "$PPX batch --overwrite -f gaussian:sigma=2 -f sharpen $in $O/pixpool"
  if has_tool vips && ((HAVE_PARALLEL)); then
    add vips 0 "$O/vips" "rm -rf $O/vips $SHM/vips-*.v && mkdir -p $O/vips" \
      "parallel --will-cite vips gaussblur {} $SHM/vips-{#}.v 2 '&&' vips conv $SHM/vips-{#}.v '$O/vips/{/}$vq' $W/sharpen.mat --precision integer '&&' rm $SHM/vips-{#}.v ::: $in/*.$ext"
  fi
  if has_tool im && command -v mogrify-im6.q16 >/dev/null; then
    add im 1 "$O/im" "rm -rf $O/im && mkdir -p $O/im" \
      "MAGICK_CONFIGURE_PATH=$W/im mogrify-im6.q16 -path $O/im $IMBLUR -morphology Convolve '3x3: 0,-1,0 -1,5,-1 0,-1,0'$q $in/*.$ext"
  fi
  has_tool gm && add gm 1 "$O/gm" "rm -rf $O/gm && mkdir -p $O/gm" \
    "cd $in && gm mogrify -output-directory $O/gm $GMBLUR -convolve 0,-1,0,-1,5,-1,0,-1,0$q *.$ext"
  ((${#KEYS[@]})) || { note "$wl: no tool to run"; return; }
  timing "$wl" "$title" "$BWARM"
  if ((CHECKS)); then
    echo "== $wl: checking outputs ..." >&2
    local t nin nout first ref=""
    nin=$(find "$in" -maxdepth 1 -type f -name "*.$ext" | wc -l)
    first=$(find "$in" -maxdepth 1 -type f -name "*.$ext" -printf '%f\n' | LC_ALL=C sort | head -n 1)
    [[ -s $O/pixpool/$first ]] && ref=$O/pixpool/$first
    for t in "${KEYS[@]}"; do
      nout=$(find "$O/$t" -maxdepth 1 -type f 2>/dev/null | wc -l)
      check "$wl" "$t" "$O/$t/$first" "$ref" "$nout of $nin files written"
    done
    if [[ $ext == png && -n $ref ]]; then
      "$PPX" apply -f gaussian:sigma=2 -f sharpen "$in/$first" "$W/batch-ref.bmp" 2>>"$W/err"
      check_same "$wl" pixpool "$ref" "$W/batch-ref.bmp" "pixpool batch's PNG against pixpool apply's BMP of the same file"
    fi
  fi
  ((KEEP)) || rm -rf "$O"
}

for w in "${SEL[@]}"; do
  case $w in
    apply-*) [[ -s $IN14P ]] || die "missing $IN14P"; row_apply "$w" ;;
    decode-jpg) row_decode ;;
    batch-*) row_batch "$w" ;;
  esac
done
((KEEP)) || rmdir "$WORK/out" 2>/dev/null

# ---- the report -------------------------------------------------------------------------------
ver() { "$@" 2>&1 | head -n 1; }
V="pixpool: $("$PPX" --version)"
has_tool vips && V+=", $(ver vips --version)"
has_tool im && V+=", $(ver convert-im6.q16 -version | sed 's/^Version: //; s/ https.*//')"
has_tool gm && V+=", $(ver gm -version | sed 's/ http.*//')"
has_tool djpeg && V+=", djpeg: $(ver djpeg -version)"
((HAVE_PARALLEL)) && V+=", $(ver parallel --version)"
V+=", $(hyperfine --version)"
echo "## pixpool end to end: whole commands, side by side"
echo
echo "- date: $START to $(date -u '+%H:%M UTC'); command: \`$CMDLINE\`"
echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), nproc $(nproc), $(uname -sr), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load average at the start $LOAD0, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- versions: $V"
for d in "${DATA[@]}"; do echo "- data: $d"; done
echo "- method: $RUNS round(s); each round one hyperfine call with every tool of the row once (order rotated by one each round), $WARM warm-up run(s) per command in round 1 of the apply/decode rows, $BWARM in the batch rows; ImageMagick and GraphicsMagick run the batch rows in the first $MRUNS round(s) only. Medians over the rounds. Outputs are removed before each run (hyperfine --prepare). ImageMagick ran with a policy.xml that lifts Debian's 256 MiB memory cap. Magick blur: $IMBLUR (ImageMagick), $GMBLUR (GraphicsMagick)."
for n in "${NOTES[@]}"; do echo "- note: $n"; done
((QUICK)) && echo "- **--quick**: a smoke test, one run per tool, no warm-up: not numbers to quote."
echo
"$PY" "$HERE/e2e_report.py" table "$CSV" "$W/checks.tsv" "$W/rows.tsv"
echo
echo "### Commands"
echo
echo "Paths as in this run (\$W = a scratch folder that is removed at the end)."
echo
sed -e "s#$W#\$W#g" -e "s#$SHM#\$SHM#g" "$W/commands.md"
echo "Raw numbers: $CSV"
