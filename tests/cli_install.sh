#!/usr/bin/env bash
# cli_install.sh - checks pixpool as a library for other tools: installs the build into a
# temporary prefix, builds small programs against the installed library with pkg-config (shared
# and static) and with CMake's find_package(pixpool) (pixpool::pixpool and
# pixpool::pixpool_static), runs them on a sample, checks their output with the installed
# `pixpool info`, moves the prefix and checks that everything still resolves into the new place.
# Also: only pp_ symbols exported, the SONAME, the man page, every PP_API function documented in
# the header and in docs/API.md.
# Usage: bash tests/cli_install.sh PIXPOOL REPO_ROOT   (PIXPOOL's folder is the build folder)
set -u
PP=$1
ROOT=$(cd "$2" && pwd)
. "$ROOT/tests/lib.sh"
B=$(cd "$(dirname "$PP")" && pwd)
CC=${CC:-cc}
# check DESCRIPTION CMD...: runs CMD (output in $T/log), counts it
check() {
  local what=$1; shift
  if "$@" >"$T/log" 2>&1; then ok; else bad "$what: $(tail -n 20 "$T/log")"; fi
}

S="$ROOT/samples/landscape-rgb-1024x768.png"

# ---- the header and docs/API.md (no build needed) -------------------------------------------
H="$ROOT/include/pixpool.h"
mapfile -t API < <(grep -E '^PP_API' "$H" | grep -oE 'pp_[a-z0-9_]+ *\(' | tr -d ' (')
[[ ${#API[@]} -gt 30 ]] && ok || bad "found only ${#API[@]} PP_API functions in pixpool.h"
missing=()
for f in "${API[@]}"; do grep -qE "\\b$f\\b" "$ROOT/docs/API.md" 2>/dev/null || missing+=("$f"); done
[[ ${#missing[@]} == 0 ]] && ok || bad "not in docs/API.md: ${missing[*]}"
# every PP_API declaration directly follows a doc comment (a line ending in */)
undoc=$(awk '/^PP_API/ { if (prev !~ /\*\/[ \t]*$/) print FNR": "$0 } { if ($0 !~ /^[ \t]*$/) prev = $0 }' "$H")
[[ -z $undoc ]] && ok || bad "PP_API declarations without a comment right above: $undoc"

# ---- install ---------------------------------------------------------------------------------
if [[ ! -f "$B/cmake_install.cmake" ]]; then
  bad "$B is not a CMake build folder"
  finish
fi
SAN_FLAGS=""
grep -q '^PIXPOOL_SANITIZE:BOOL=ON' "$B/CMakeCache.txt" && SAN_FLAGS="-fsanitize=address,undefined"
P="$T/prefix"
check "cmake --install" cmake --install "$B" --prefix "$P"
PC=$(find "$P" -name pixpool.pc | head -n 1)
if [[ -z $PC ]]; then
  bad "no pixpool.pc installed"
  finish
fi
LIBREL=$(dirname "$(dirname "${PC#"$P"/}")") # lib, or lib/x86_64-linux-gnu, ...
L="$P/$LIBREL"
for f in bin/pixpool include/pixpool.h "$LIBREL/libpixpool.so" "$LIBREL/libpixpool.so.0" \
  "$LIBREL/libpixpool.a" "$LIBREL/cmake/pixpool/pixpoolConfig.cmake" \
  "$LIBREL/cmake/pixpool/pixpoolConfigVersion.cmake" share/man/man1/pixpool.1; do
  [[ -e "$P/$f" ]] && ok || bad "not installed: $f"
done

# exported symbols: exactly the PP_API functions
mapfile -t SYMS < <(nm -D --defined-only "$L/libpixpool.so.0" | awk '{ print $NF }' | sort)
leaked=$(printf '%s\n' "${SYMS[@]}" | grep -v '^pp_')
[[ -z $leaked ]] && ok || bad "non-pp_ symbols exported: $(echo $leaked)"
extra=$(comm -13 <(printf '%s\n' "${API[@]}" | sort) <(printf '%s\n' "${SYMS[@]}"))
[[ -z $extra ]] && ok || bad "exported but not in pixpool.h: $(echo $extra)"
undef=$(comm -23 <(printf '%s\n' "${API[@]}" | sort) <(printf '%s\n' "${SYMS[@]}"))
[[ -z $undef ]] && ok || bad "declared in pixpool.h but not exported (undefined?): $(echo $undef)"
readelf -d "$L/libpixpool.so.0" | grep -q 'SONAME.*\[libpixpool\.so\.0\]' && ok ||
  bad "SONAME is not libpixpool.so.0: $(readelf -d "$L/libpixpool.so.0" | grep SONAME)"

# the man page renders and covers the commands
if MANWIDTH=80 man -l "$P/share/man/man1/pixpool.1" >"$T/man.txt" 2>"$T/man.err" && [[ ! -s "$T/man.err" ]]; then
  ok
  for w in apply batch bench filters info "EXIT STATUS"; do
    grep -q "$w" "$T/man.txt" && ok || bad "man page lacks '$w'"
  done
else
  bad "man -l pixpool.1: $(cat "$T/man.err")"
fi

# the installed CLI runs without LD_LIBRARY_PATH
VER=$(env -u LD_LIBRARY_PATH "$P/bin/pixpool" --version 2>&1)
[[ $VER == "pixpool $(PKG_CONFIG_PATH="$L/pkgconfig" pkg-config --modversion pixpool)" ]] && ok ||
  bad "pixpool --version '$VER' differs from pixpool.pc's version"

# ---- a program built against the installed library -------------------------------------------
cat >"$T/prog.c" <<'EOF'
/* prog.c - loads argv[1], applies the spec argv[3], saves argv[2]. */
#include <pixpool.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 4) return 2;
    pp_ctx *ctx = pp_ctx_new();
    pp_image *in = NULL, *out = NULL;
    pp_status st = pp_load(ctx, argv[1], &in);
    if (!st) st = pp_apply(ctx, argv[3], in, &out);
    if (!st) st = pp_save(ctx, out, argv[2]);
    if (st) fprintf(stderr, "prog: %s\n", pp_ctx_last_error(ctx));
    else printf("libpixpool %s\n", pp_version());
    pp_image_free(out);
    pp_image_free(in);
    pp_ctx_free(ctx);
    return st ? 1 : 0;
}
EOF

# run_prog LABEL EXE: rotates the sample with EXE and checks the result with the installed CLI
run_prog() {
  local label=$1 exe=$2 out="$T/out-$1.png"
  rm -f "$out"
  if LD_LIBRARY_PATH="$L" "$exe" "$S" "$out" rotate:angle=90 >"$T/log" 2>&1; then
    ok
    "$P/bin/pixpool" info "$out" >"$T/info" 2>&1 && ok || bad "$label: pixpool info: $(cat "$T/info")"
    grep -q "format=png width=768 height=1024 channels=3" "$T/info" && ok ||
      bad "$label: output is not the rotated sample: $(cat "$T/info")"
  else
    bad "$label: run failed: $(cat "$T/log")"
  fi
}

# build_pc LABEL PREFIX: builds prog.c with pkg-config against PREFIX, shared and static
build_pc() {
  local label=$1 pcdir="$2/$LIBREL/pkgconfig" flags sflags
  flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs pixpool) || { bad "$label: pkg-config"; return; }
  case $flags in *"$2/"*) ok ;; *) bad "$label: pkg-config flags do not point into $2: $flags" ;; esac
  # shellcheck disable=SC2086
  check "$label: cc with pkg-config" $CC $SAN_FLAGS -Wall -Werror "$T/prog.c" -o "$T/prog-$label" $flags
  [[ -x "$T/prog-$label" ]] && run_prog "pc-$label" "$T/prog-$label"
  readelf -d "$T/prog-$label" 2>/dev/null | grep -q 'NEEDED.*libpixpool\.so\.0' && ok ||
    bad "$label: prog does not use libpixpool.so.0"
  # static: pkg-config --static adds libpng, zlib, OpenMP, pthread and libm
  sflags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --static --cflags --libs pixpool)
  sflags=${sflags/-lpixpool/-Wl,-Bstatic -lpixpool -Wl,-Bdynamic}
  # shellcheck disable=SC2086
  check "$label: static link with pkg-config --static" $CC $SAN_FLAGS "$T/prog.c" -o "$T/sprog-$label" $sflags
  if [[ -x "$T/sprog-$label" ]]; then
    readelf -d "$T/sprog-$label" | grep -q 'NEEDED.*libpixpool' && bad "$label: static prog needs libpixpool.so" || ok
    run_prog "pc-static-$label" "$T/sprog-$label"
  fi
}

# build_cmake LABEL PREFIX: a CMake project with find_package(pixpool), shared and static
build_cmake() {
  local label=$1 src="$T/cm-src" bld="$T/cm-$1"
  mkdir -p "$src"
  cp "$T/prog.c" "$src/"
  cat >"$src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(app C)
find_package(pixpool 0.1 REQUIRED COMPONENTS static)
add_executable(app prog.c)
target_link_libraries(app PRIVATE pixpool::pixpool)
add_executable(app_static prog.c)
target_link_libraries(app_static PRIVATE pixpool::pixpool_static)
get_target_property(loc pixpool::pixpool LOCATION)
message(STATUS "pixpool-dir: ${pixpool_DIR} pixpool-location: ${loc}")
EOF
  check "$label: cmake configure" cmake -S "$src" -B "$bld" -DCMAKE_PREFIX_PATH="$2" \
    -DCMAKE_C_FLAGS="$SAN_FLAGS" -DCMAKE_BUILD_TYPE=Release
  grep -q "pixpool-dir: $2/.* pixpool-location: $2/" "$T/log" && ok ||
    bad "$label: find_package does not resolve into $2: $(grep pixpool- "$T/log")"
  check "$label: cmake build" cmake --build "$bld"
  [[ -x "$bld/app" ]] && run_prog "cmake-$label" "$bld/app"
  if [[ -x "$bld/app_static" ]]; then
    readelf -d "$bld/app_static" | grep -q 'NEEDED.*libpixpool' && bad "$label: app_static needs libpixpool.so" || ok
    run_prog "cmake-static-$label" "$bld/app_static"
  fi
}

build_pc installed "$P"
build_cmake installed "$P"

# the default find_package (no component) gives pixpool::pixpool
mkdir -p "$T/cm-min"
cat >"$T/cm-min/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(app C)
find_package(pixpool REQUIRED)
add_executable(app prog.c)
target_link_libraries(app pixpool::pixpool)
EOF
cp "$T/prog.c" "$T/cm-min/"
check "minimal CMake project" bash -c "cmake -S '$T/cm-min' -B '$T/cm-min/b' -DCMAKE_PREFIX_PATH='$P' \
  -DCMAKE_C_FLAGS='$SAN_FLAGS' && cmake --build '$T/cm-min/b'"
[[ -x "$T/cm-min/b/app" ]] && run_prog cmake-minimal "$T/cm-min/b/app"

# ---- relocation: move the prefix, everything must follow it -----------------------------------
M="$T/moved/elsewhere"
mkdir -p "$T/moved"
mv "$P" "$M"
OLDP=$P
P=$M
L="$P/$LIBREL"
stale=$(grep -rlF -e "$OLDP" -e "$B" -e "$ROOT" "$P/$LIBREL/pkgconfig" "$P/$LIBREL/cmake" 2>/dev/null)
[[ -z $stale ]] && ok || bad "installed files name the install or build path: $stale"
for v in libdir includedir; do
  val=$(PKG_CONFIG_PATH="$L/pkgconfig" pkg-config --variable=$v pixpool)
  [[ $(cd "$val" 2>/dev/null && pwd) == "$P/"* ]] && ok || bad "moved: pkg-config $v is $val"
done
"$P/bin/pixpool" info "$S" >"$T/log" 2>&1 && ok || bad "moved: installed CLI: $(cat "$T/log")"
build_pc moved "$P"
build_cmake moved "$P"

finish
