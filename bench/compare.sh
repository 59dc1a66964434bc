#!/usr/bin/env bash
# compare.sh - pixpool next to ImageMagick, GraphicsMagick, libvips and OpenCV: the same
# workloads on the same pixels, at one thread and at all cores, tools alternated run for run,
# one markdown table on stdout and the raw numbers in a CSV.
#
# Usage: bench/compare.sh [options]
#   --pixpool PATH     the pixpool binary (default: build-rel/pixpool, or $PIXPOOL)
#   --image FILE       the photo to use (read as RGB; default: a generated photo-like image)
#   --size WxH         size of the generated image (default 4608x3072)
#   --threads "1 N"    thread counts (default "1 $(nproc)")
#   --rounds R         rounds; each round runs every tool once per workload (default 3)
#   --runs N           timed runs inside one in-process measurement (default 7, after 1 warm-up)
#   --workloads LIST   comma-separated names (default: all; see --list)
#   --tools LIST       pixpool,opencv,vips,im,gm (default: all that are installed)
#   --no-pipeline      skip the file-to-file libvips benchmark pipeline
#   --pipeline-size WxH  its image (default 5000x5000)
#   --csv FILE         raw numbers (default: compare-raw.csv in the current folder)
#   --depth 8|16       bits per channel of the image every tool works on (default 8); 16: the
#                      generated image is 16-bit (pixpool bench --depth 16) and every tool keeps
#                      16 bits (OpenCV CV_16U, libvips ushort, the Magicks' Q16); workloads
#                      without a 16-bit equivalent are reported n/a
#   --list             print the workloads and exit
#
# Method (docs/BENCH.md has the long form):
# - pixpool: `pixpool bench --format json` (pp_pipeline_run only, median of --runs after a
#   warm-up; serial at 1 thread, the openmp and fork backends at more); OpenCV:
#   bench/cv2_bench.py times the cv2 call in-process the same way, with cv2.setNumThreads(N).
# - libvips, ImageMagick, GraphicsMagick through their CLIs: the kernel time is the median wall
#   time of the command minus the median wall time of the same tool's no-op command (read the
#   input, write the output), both run every round. Inputs are uncompressed (.v for vips, PPM
#   for the Magicks) so the no-op is small; the subtraction still carries the noise of two
#   process runs, so a kernel shorter than 5% of the no-op is reported as below CLI noise.
# - Threads: VIPS_CONCURRENCY and --vips-concurrency; OMP_NUM_THREADS for GraphicsMagick;
#   MAGICK_THREAD_LIMIT and OMP_NUM_THREADS for ImageMagick, set to twice the thread count above
#   one thread (with a limit of 2, ImageMagick 6.9.11 splits a loop only when it is at least 8192
#   long, see docs/BENCH.md). Every setting is checked by CPU time over wall time, printed in
#   its own table.
# - The memory floor of a point operation: bench/cv2_bench.py floor times a copy of the image
#   (numpy.copyto into memory written before) on one core, once per round.
# - The first table printed is the goal table: times in ms at 1 thread and at the largest thread
#   count, the fastest peer of each row, pixpool's speedups, and whether the goal of issue 9
#   holds (see compare_report.py).
# - ImageMagick runs with a policy.xml of ours (MAGICK_CONFIGURE_PATH) that lifts Debian's
#   256 MiB memory cap, so nothing goes to a disk cache.
# - Before timing, each tool's output is compared with pixpool's (mean and max difference), on a
#   1024x768 crop of the image.
# - Run time: with the defaults, 11.7 minutes on the 2-core development machine when quiet, 13.5
#   to 21 with other jobs running (most of it ImageMagick and GraphicsMagick); --rounds 1 or
#   --workloads cut it.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/bench"
PP=${PIXPOOL:-$ROOT/build-rel/pixpool}
SYSPY=/usr/bin/python3 # Debian's interpreter: it has python3-opencv
IMAGE=""
SIZE=4608x3072
NCPU=$(nproc)
THREADS="1 $NCPU"
ROUNDS=3
RUNS=7
ONLY=""
TOOLS="pixpool,opencv,vips,im,gm"
PIPE=1
PIPE_SIZE=5000x5000
DEPTH=8
CSV=compare-raw.csv
CMDLINE="bench/compare.sh $*"

# ---- the workloads: name | pixpool spec | vips | ImageMagick | GraphicsMagick -------------------
# "-" means no equivalent single call (reported n/a). IN, OUT and $M/ are replaced for vips.
WL=(
  "gaussian-2|gaussian:sigma=2|gaussblur IN OUT 2 --min-ampl 0.0111|-blur 0x2|-blur 0x2"
  "box-5|box:radius=5|convsep IN OUT \$M/box11.mat|-define convolve:scale=! -morphology Convolve Rectangle:11x1 -morphology Convolve Rectangle:1x11|-"
  "sharpen|sharpen|conv IN OUT \$M/sharpen.mat --precision integer|-morphology Convolve 3x3:0,-1,0,-1,5,-1,0,-1,0|-convolve 0,-1,0,-1,5,-1,0,-1,0"
  "sobel|sobel|-|-|-"
  "median-2|median:radius=2|rank IN OUT 5 5 12|-statistic Median 5x5|-median 2"
  "resize-50|resize:scale=0.5,method=lanczos3|resize IN OUT 0.5 --kernel lanczos3|-filter Lanczos -resize 50%|-filter Lanczos -resize 50%"
  "grayscale|grayscale|recomb IN OUT \$M/gray.mat|-grayscale Rec601Luma|-colorspace Gray"
  "invert|invert|invert IN OUT|-negate|-negate"
  "linear|linear:a=1.2,b=10|linear IN OUT 1.2 10 --uchar|-function Polynomial 1.2,0.0392157|-operator All Multiply 1.2 -operator All Add 3.921569%"
  "gaussian-10|gaussian:sigma=10|gaussblur IN OUT 10 --min-ampl 0.0111|-blur 0x10|-blur 0x10"
  "unsharp|unsharp:sigma=1.5,amount=1|-|-unsharp 0x1.5+1+0|-unsharp 0x1.5+1+0"
  "equalize|equalize|hist_equal IN OUT|-channel RGB -equalize|-equalize"
  "rotate-90|rotate:angle=90|rot IN OUT d90|-rotate 90|-rotate 90"
)
# libvips precision: its defaults (integer for gaussblur, float for convsep; integer convsep
# rounds each pass and lands up to 6 levels off), integer for conv with the integer sharpen
# mask (exact). ImageMagick's plain -equalize equalises the channels together: -channel RGB makes it per
# channel, like the others. Why some calls are missing: vips sobel scales its result differently from a plain gradient
# magnitude; neither Magick has a one-call Sobel magnitude; GraphicsMagick has no separable box
# filter; vips sharpen works in LAB with its own formula, so it is not an unsharp mask.

usage() { sed -n '2,/^set -u/p' "$0" | sed -n 's/^# \{0,1\}//p' | sed '/^set -u/d'; }

while (($#)); do
  case $1 in
    --pixpool) PP=$2; shift 2 ;;
    --image) IMAGE=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --workloads) ONLY=$2; shift 2 ;;
    --tools) TOOLS=$2; shift 2 ;;
    --no-pipeline) PIPE=0; shift ;;
    --pipeline-size) PIPE_SIZE=$2; shift 2 ;;
    --csv) CSV=$2; shift 2 ;;
    --depth) DEPTH=$2; shift 2 ;;
    --list) for w in "${WL[@]}"; do echo "${w%%|*}"; done; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ && $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --rounds and --runs take positive integers" >&2; exit 2; }
[[ $DEPTH == 8 || $DEPTH == 16 ]] || { echo "compare.sh: --depth takes 8 or 16" >&2; exit 2; }
export PP_COMPARE_DEPTH=$DEPTH # cv2_bench.py: which workloads have a 16-bit equivalent
if [[ $DEPTH == 16 ]]; then
  # 16 bits: libvips linear gives float (no ushort output) and hist_equal is 8-bit only; the
  # Magicks' -equalize is; pixpool's linear offset is in 8-bit levels (b * 257 at 16 bits)
  for i in "${!WL[@]}"; do
    case ${WL[$i]%%|*} in
      linear) WL[$i]="linear|linear:a=1.2,b=10|-|-function Polynomial 1.2,0.0392157|-operator All Multiply 1.2 -operator All Add 3.921569%" ;;
      equalize) WL[$i]="equalize|equalize|-|-channel RGB -equalize|-equalize" ;;
    esac
  done
  PIPE=0 # the file-to-file pipeline is 8-bit
fi
[[ -x $PP ]] || { echo "compare.sh: pixpool binary '$PP' not found: build it (cmake --build build-rel) or pass --pixpool" >&2; exit 2; }

note() { echo "note: $*" >&2; }
has_tool() { [[ ",$TOOLS," == *",$1,"* ]]; }
if has_tool opencv && ! "$SYSPY" -c 'import cv2' 2>/dev/null; then note "OpenCV (python3-opencv for $SYSPY) not installed: skipped"; TOOLS=${TOOLS/opencv/}; fi
if has_tool vips && ! command -v vips >/dev/null; then note "libvips CLI (vips) not installed: skipped"; TOOLS=${TOOLS/vips/}; fi
if has_tool im && ! command -v convert-im6.q16 >/dev/null; then note "ImageMagick 6 (convert-im6.q16) not installed: skipped"; TOOLS=${TOOLS/im/}; fi
if has_tool gm && ! command -v gm >/dev/null; then note "GraphicsMagick (gm) not installed: skipped"; TOOLS=${TOOLS/gm/}; fi
[[ -x /usr/bin/time ]] || { echo "compare.sh: /usr/bin/time (package time) is needed" >&2; exit 2; }

W=$(mktemp -d "${TMPDIR:-/tmp}/pixpool-compare-XXXXXX")
trap 'rm -rf "$W"' EXIT
M=$W/mat
mkdir -p "$M" "$W/im"
printf '11 1 11 0\n1 1 1 1 1 1 1 1 1 1 1\n' >"$M/box11.mat"
printf '3 3 1 0\n0 -1 0\n-1 5 -1\n0 -1 0\n' >"$M/sharpen.mat"
printf '3 3 8 0\n-1 -1 -1\n-1 16 -1\n-1 -1 -1\n' >"$M/sharpen8.mat"
printf '3 1 1 0\n0.299 0.587 0.114\n' >"$M/gray.mat"
cp "$ROOT/bench/im-policy.xml" "$W/im/policy.xml"

# ---- images -----------------------------------------------------------------------------------
# to_formats SRC BASE: BASE.png (RGB, for pixpool and OpenCV), BASE.ppm (the Magicks), BASE.v (vips)
to_formats() {
  local src=$1 base=$2
  if "$SYSPY" -c 'import cv2' 2>/dev/null; then
    "$SYSPY" - "$src" "$base" <<'PY' || return 1
import sys, cv2
im = cv2.imread(sys.argv[1], cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH)  # RGB, 8 or 16 bits
if im is None:
    sys.exit('cannot read ' + sys.argv[1])
cv2.imwrite(sys.argv[2] + '.png', im, [cv2.IMWRITE_PNG_COMPRESSION, 1])
cv2.imwrite(sys.argv[2] + '.ppm', im)
PY
  elif command -v vips >/dev/null; then
    vips copy "$src" "$base.ppm" && "$PP" apply -f flip -f flip "$base.ppm" "$base.png" || return 1
  else
    cp "$src" "$base.png" || return 1
    convert-im6.q16 "$base.png" -alpha off "$base.ppm" 2>/dev/null || gm convert "$base.png" "$base.ppm" || return 1
  fi
  if command -v vips >/dev/null; then vips copy "$base.ppm" "$base.v" || return 1; fi
}

if [[ -n $IMAGE ]]; then
  to_formats "$IMAGE" "$W/src" || { echo "compare.sh: cannot read $IMAGE" >&2; exit 1; }
  SRC_DESC="$IMAGE"
else
  "$PP" bench --size "$SIZE" --depth "$DEPTH" --save-image "$W/gen.png" || exit 1
  to_formats "$W/gen.png" "$W/src" || exit 1
  SRC_DESC="generated photo-like image (pixpool bench --save-image)"
fi
read -r IW IH < <("$PP" info "$W/src.png" | sed 's/.*width=\([0-9]*\) height=\([0-9]*\).*/\1 \2/')
# the agreement check runs on a 1024x768 crop from the middle (the full image changes nothing but
# the time it takes)
if ((IW > 1024 && IH > 768)); then
  "$PP" apply -b serial -f "crop:x=$(((IW - 1024) / 2)),y=$(((IH - 768) / 2)),width=1024,height=768" "$W/src.png" "$W/crop.png" &&
    to_formats "$W/crop.png" "$W/chk" || exit 1
else
  cp "$W/src.png" "$W/chk.png"; cp "$W/src.ppm" "$W/chk.ppm"; [[ -e $W/src.v ]] && cp "$W/src.v" "$W/chk.v"
fi
MPX=$(awk -v w="$IW" -v h="$IH" 'BEGIN { printf "%.6f", w * h / 1e6 }')
TN=$(for t in $THREADS; do [[ $t != 1 ]] && echo "$t"; done | paste -sd, -)

# ---- raw rows -----------------------------------------------------------------------------------
echo "round,section,workload,tool,threads,kind,wall_s,cpu_s,peak_kb,median_ms,cpu_over_wall,megapixels,out_bytes,mean_diff,max_diff,status" >"$CSV"
ROUND=0
# row SECTION WORKLOAD TOOL THREADS KIND WALL CPU PEAK MEDIAN CPUWALL MPX BYTES MEAN MAX STATUS
row() { local IFS=,; echo "$ROUND,$*" >>"$CSV"; }
clean() { tr ',\n' ';' <<<"$*" | cut -c1-200; }

# im_threads T: the thread limit that makes ImageMagick use T cores (see the header)
im_threads() { if (($1 > 1)); then echo $(($1 * 2)); else echo 1; fi; }

# tool_cmd TOOL THREADS ARGS IN OUT: the command line (one word per line) of a CLI tool
tool_cmd() {
  local tool=$1 t=$2 args=$3 in=$4 out=$5
  case $tool in
    vips)
      args=${args//IN/$in}; args=${args//OUT/$out}; args=${args//\$M/$M}
      printf '%s\n' env "VIPS_CONCURRENCY=$t" vips "--vips-concurrency=$t" $args ;;
    im)
      local it; it=$(im_threads "$t")
      printf '%s\n' env "MAGICK_CONFIGURE_PATH=$W/im" "MAGICK_THREAD_LIMIT=$it" "OMP_NUM_THREADS=$it" convert-im6.q16 "$in" $args "$out" ;;
    gm)
      printf '%s\n' env "OMP_NUM_THREADS=$t" gm convert "$in" $args "$out" ;;
  esac
}

# timed SECTION WORKLOAD TOOL THREADS KIND OUT CMD...: runs CMD under /usr/bin/time, adds a row
timed() {
  local sec=$1 wl=$2 tool=$3 t=$4 kind=$5 out=$6
  shift 6
  rm -f "$out"
  local t0=$EPOCHREALTIME # /usr/bin/time's %e has a resolution of 10 ms: too coarse
  if /usr/bin/time -f '%e %U %S %M' -o "$W/time" "$@" >/dev/null 2>"$W/err"; then
    local t1=$EPOCHREALTIME e u s m bytes
    read -r e u s m < <(tail -n 1 "$W/time")
    e=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
    bytes=$(stat -c %s "$out" 2>/dev/null || echo 0)
    row "$sec" "$wl" "$tool" "$t" "$kind" "$e" "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" "$m" "" "" "$MPX_NOW" "$bytes" "" "" ok
  else
    row "$sec" "$wl" "$tool" "$t" "$kind" "" "" "" "" "" "$MPX_NOW" "" "" "" "failed:$(clean "$(tail -n 2 "$W/err")")"
    note "$tool ($wl, $t thread(s)) failed: $(tail -n 1 "$W/err")"
  fi
}
MPX_NOW=$MPX

pp_has() { "$PP" bench --size 8x8 --repeat 1 --warmup 0 -b serial --no-startup --format csv -f "$1" >/dev/null 2>&1; }

# ---- which workloads ----------------------------------------------------------------------------
SEL=()
for w in "${WL[@]}"; do
  name=${w%%|*}
  [[ -z $ONLY || ",$ONLY," == *",$name,"* ]] && SEL+=("$w")
done
((${#SEL[@]})) || { echo "compare.sh: no workload selected (see --list)" >&2; exit 2; }

# ---- check: every tool's output next to pixpool's -----------------------------------------------
echo "checking outputs (${#SEL[@]} workloads, on a 1024x768 crop) ..." >&2
declare -A PP_OK
for w in "${SEL[@]}"; do
  IFS='|' read -r name spec vargs iargs gargs <<<"$w"
  if has_tool pixpool && pp_has "$spec" && "$PP" apply -b serial -f "$spec" "$W/chk.png" "$W/ref.png" 2>"$W/err"; then
    PP_OK[$name]=1
  else
    PP_OK[$name]=0
    row check "$name" pixpool 1 diff "" "" "" "" "" "$MPX" "" "" "" "n/a:pixpool has no $spec"
    note "pixpool: $spec not available: n/a"
    continue
  fi
  for tool in opencv vips im gm; do
    has_tool $tool || continue
    out=$W/chk-$tool.png
    rm -f "$out"
    case $tool in
      opencv) "$SYSPY" "$HERE/cv2_bench.py" kernel "$W/chk.png" "$name" 1 --runs 1 --warmup 0 --save "$out" >/dev/null 2>"$W/err" ;;
      vips) [[ $vargs == - ]] && { row check "$name" vips 1 diff "" "" "" "" "" "$MPX" "" "" "" "n/a:no equivalent call"; continue; }
            mapfile -t cmd < <(tool_cmd vips 1 "$vargs" "$W/chk.v" "$W/chk-out.v")
            "${cmd[@]}" 2>"$W/err" && vips cast "$W/chk-out.v" "$out" "$([[ $DEPTH == 16 ]] && echo ushort || echo uchar)" 2>>"$W/err" ;;
      im) [[ $iargs == - ]] && { row check "$name" im 1 diff "" "" "" "" "" "$MPX" "" "" "" "n/a:no equivalent call"; continue; }
          mapfile -t cmd < <(tool_cmd im 1 "$iargs" "$W/chk.ppm" "$out"); "${cmd[@]}" 2>"$W/err" ;;
      gm) [[ $gargs == - ]] && { row check "$name" gm 1 diff "" "" "" "" "" "$MPX" "" "" "" "n/a:no equivalent call"; continue; }
          mapfile -t cmd < <(tool_cmd gm 1 "$gargs" "$W/chk.ppm" "$out"); "${cmd[@]}" 2>"$W/err" ;;
    esac
    if [[ -s $out ]]; then
      read -r a b c < <("$SYSPY" "$HERE/compare_report.py" diff "$W/ref.png" "$out")
      if [[ $a == size ]]; then row check "$name" "$tool" 1 diff "" "" "" "" "" "$MPX" "" "" "" "size:$b vs $c"
      else row check "$name" "$tool" 1 diff "" "" "" "" "" "$MPX" "" "$a" "$b" ok; fi
    else
      row check "$name" "$tool" 1 diff "" "" "" "" "" "$MPX" "" "" "" "n/a:$(clean "$(tail -n 1 "$W/err")")"
    fi
  done
done

# ---- kernels: rounds x workloads x tools ----------------------------------------------------------
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
  echo "round $ROUND of $ROUNDS ..." >&2
  # the memory floor of a point operation: copy the image once (read + write every byte)
  if [[ -x $SYSPY ]] && "$SYSPY" "$HERE/cv2_bench.py" floor "$W/src.png" --runs "$RUNS" >"$W/floor.csv" 2>"$W/err"; then
    IFS=, read -r _ _ med _ _ <"$W/floor.csv"
    row floor floor copy 1 inproc "" "" "" "$med" "" "$MPX" "" "" "" ok
  fi
  for w in "${SEL[@]}"; do
    IFS='|' read -r name spec vargs iargs gargs <<<"$w"
    if has_tool pixpool && [[ ${PP_OK[$name]} == 1 ]]; then
      if [[ -n $TN ]]; then jopt=(-b openmp,fork -j "$TN"); else jopt=(-b serial); fi
      if "$PP" bench --format json --no-startup "${jopt[@]}" --repeat "$RUNS" --warmup 1 -f "$spec" "$W/src.png" >"$W/pp.json" 2>"$W/err"; then
        "$SYSPY" - "$W/pp.json" <<'PY' | while IFS=, read -r tool t med cw; do row kernel "$name" "$tool" "$t" inproc "" "" "" "$med" "$cw" "$MPX" "" "" "" ok; done
import json, sys
d = json.load(open(sys.argv[1]))
for c in d['workloads'][0]['cells']:
    tool = {'serial': 'pixpool', 'openmp': 'pixpool', 'fork': 'pixpool-fork'}[c['backend']]
    print(f"{tool},{c['workers']},{c['median_ms']},{c['cpu_over_wall']}")
PY
      else
        row kernel "$name" pixpool 1 inproc "" "" "" "" "" "$MPX" "" "" "" "failed:$(clean "$(tail -n 1 "$W/err")")"
      fi
    fi
    if has_tool opencv; then
      if "$SYSPY" "$HERE/cv2_bench.py" kernel "$W/src.png" "$name" "${THREADS// /,}" --runs "$RUNS" --warmup 1 >"$W/cv.csv" 2>"$W/err"; then
        while IFS=, read -r _ t med _ _ cw _; do row kernel "$name" opencv "$t" inproc "" "" "" "$med" "$cw" "$MPX" "" "" "" ok; done <"$W/cv.csv"
      else
        row kernel "$name" opencv 1 inproc "" "" "" "" "" "$MPX" "" "" "" "n/a:$(clean "$(tail -n 1 "$W/err")")"
      fi
    fi
    for t in $THREADS; do
      for tool in vips im gm; do
        has_tool $tool || continue
        case $tool in vips) args=$vargs in=$W/src.v out=$W/out.v noop="copy IN OUT" ;;
                      im) args=$iargs in=$W/src.ppm out=$W/out.ppm noop="" ;;
                      gm) args=$gargs in=$W/src.ppm out=$W/out.ppm noop="" ;; esac
        if [[ $args == - ]]; then
          row kernel "$name" "$tool" "$t" op "" "" "" "" "" "$MPX" "" "" "" "n/a:no equivalent call"
          continue
        fi
        mapfile -t cmd < <(tool_cmd "$tool" "$t" "$noop" "$in" "$out")
        timed kernel "$name" "$tool" "$t" noop "$out" "${cmd[@]}"
        mapfile -t cmd < <(tool_cmd "$tool" "$t" "$args" "$in" "$out")
        timed kernel "$name" "$tool" "$t" op "$out" "${cmd[@]}"
      done
    done
  done
done

# ---- the libvips benchmark pipeline, file to file --------------------------------------------------
if ((PIPE)); then
  echo "pipeline ($PIPE_SIZE) ..." >&2
  "$PP" bench --size "$PIPE_SIZE" --save-image "$W/big.png" || exit 1
  read -r BW BH < <("$PP" info "$W/big.png" | sed 's/.*width=\([0-9]*\) height=\([0-9]*\).*/\1 \2/')
  CW=$((BW - 200)) CH=$((BH - 200))
  MPX_NOW=$(awk -v w="$BW" -v h="$BH" 'BEGIN { printf "%.6f", w * h / 1e6 }')
  RW=$(awk -v w="$CW" 'BEGIN { printf "%d", w * 0.9 + 0.5 }')
  PPF=(-f "crop:x=100,y=100,width=$CW,height=$CH" -f resize:scale=0.9 -f "convolve:kernel=-1/-1/-1/-1/16/-1/-1/-1/-1,divisor=8")
  pp_has resize:scale=0.9 || note "pixpool has no resize filter: its pipeline row will fail"
  O=$W/pipe-out.png
  for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
    for t in $THREADS; do
      if has_tool pixpool; then
        if ((t == 1)); then b=serial; else b=openmp; fi
        timed pipeline pipeline pixpool "$t" e2e "$O" "$PP" apply -b $b -j "$t" --png-level 1 "${PPF[@]}" "$W/big.png" "$O"
        ((t > 1)) && timed pipeline pipeline pixpool-fork "$t" e2e "$O" "$PP" apply -b fork -j "$t" --png-level 1 "${PPF[@]}" "$W/big.png" "$O"
      fi
      has_tool opencv && timed pipeline pipeline opencv "$t" e2e "$O" "$SYSPY" "$HERE/cv2_bench.py" pipeline "$W/big.png" "$O" "$t"
      has_tool vips && timed pipeline pipeline vips "$t" e2e "$O" env "VIPS_CONCURRENCY=$t" bash -c '
          vips crop "$1" "$2/t1.v" 100 100 "$3" "$4" && vips resize "$2/t1.v" "$2/t2.v" 0.9 &&
          vips conv "$2/t2.v" "$5[compression=1]" "$2/mat/sharpen8.mat" --precision integer' _ "$W/big.png" "$W" "$CW" "$CH" "$O"
      has_tool im && timed pipeline pipeline im "$t" e2e "$O" env "MAGICK_CONFIGURE_PATH=$W/im" "MAGICK_THREAD_LIMIT=$(im_threads "$t")" "OMP_NUM_THREADS=$(im_threads "$t")" \
          convert-im6.q16 "$W/big.png" -crop "${CW}x${CH}+100+100" +repage -resize "${RW}x" -define convolve:scale=0.125 \
          -morphology Convolve 3x3:-1,-1,-1,-1,16,-1,-1,-1,-1 -define png:compression-level=1 "$O"
      has_tool gm && timed pipeline pipeline gm "$t" e2e "$O" env "OMP_NUM_THREADS=$t" \
          gm convert "$W/big.png" -crop "${CW}x${CH}+100+100" +page -resize "${RW}x" -convolve -1,-1,-1,-1,16,-1,-1,-1,-1 -quality 10 "$O"
    done
  done
fi

# ---- the report ----------------------------------------------------------------------------------
ver() { "$@" 2>/dev/null | head -n 1; }
echo "## pixpool compared with ImageMagick, GraphicsMagick, libvips and OpenCV"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); command: \`$CMDLINE\`"
echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $NCPU CPUs available, $(uname -sr), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- image: $IW x $IH RGB ($MPX MP), $SRC_DESC; threads: $THREADS; $ROUNDS rounds, $RUNS timed runs per in-process measurement"
echo "- versions: $("$PP" --version)$(has_tool opencv && echo ", OpenCV $("$SYSPY" -c 'import cv2; print(cv2.__version__)')")$(has_tool vips && echo ", $(ver vips --version)")$(has_tool im && echo ", $(ver convert-im6.q16 -version | sed 's/^Version: //; s/ https.*//')")$(has_tool gm && echo ", $(ver gm version | sed 's/ http.*//')")"
echo "- ImageMagick ran with MAGICK_CONFIGURE_PATH pointing at a policy.xml that lifts Debian's 256 MiB memory cap; its thread limit was twice the thread count above 1 thread."
echo
"$SYSPY" "$HERE/compare_report.py" table "$CSV"
echo
echo "Raw numbers: $CSV"
