# cluster_lib.sh - what tests/cluster_slurm.sh and tests/cluster_parallel.sh share (sourced after
# tests/lib.sh): skipping with a reason, the recipes read out of docs/BATCH.md, the generated
# folder of images, the single-machine reference and the checks on outputs and reports.

# skip REASON: exit 77 (ctest: Skipped), or fail when CI demands these tests run
skip() {
  if [[ ${PIXPOOL_REQUIRE_CLUSTER:-} == 1 ]]; then
    echo "FAIL: cannot run: $* (PIXPOOL_REQUIRE_CLUSTER=1)"
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}

# recipe NAME: the code block that follows "<!-- recipe: NAME -->" in docs/BATCH.md
recipe() {
  awk -v tag="<!-- recipe: $1 -->" '
    $0 == tag { found = 1; next }
    found && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }' "$ROOT/docs/BATCH.md"
}

# free_port: a TCP port nobody listens on now (asked from the kernel)
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# make_photos DIR: 48 images of about 1.2 MP (PNG, JPEG, BMP) in nested sub-folders, cut by
# Pillow out of the samples scaled up to 1800 pixels wide (one process for all; pixpool itself
# would be slow here under the sanitizers)
make_photos() {
  /usr/bin/python3 - "$ROOT/samples" "$1" <<'PY'
import glob, os, sys
from PIL import Image
samples, out = sys.argv[1], sys.argv[2]
bases = []
for f in sorted(glob.glob(os.path.join(samples, "*.png"))):
    im = Image.open(f).convert("RGB")
    bases.append(im.resize((1800, round(im.height * 1800 / im.width)), Image.BICUBIC))
subs = ["", "a", "a/b", "c/d/e", "with space"]
for i in range(48):
    ext = "jpg" if i % 6 == 1 else "bmp" if i % 6 == 4 else "png"
    x, y = i * 13 % 200, i * 7 % 50
    im = bases[i % len(bases)].crop((x, y, x + 1400 + i % 5 * 40, y + 800 + i % 4 * 20))
    d = os.path.join(out, subs[i % 5])
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"img{i:02d}.{ext}")
    if ext == "png":
        im.save(path, compress_level=1)
    elif ext == "jpg":
        im.save(path, quality=92)
    else:
        im.save(path)
PY
}
NPHOTOS=48

# filters_of TEXT: the "-f SPEC" words of a recipe, in order
filters_of() { grep -oE -- '-f [^ \\]+' <<<"$1" | tr '\n' ' '; }

# same_tree A B: the same files with the same bytes
same_tree() { diff -r "$1" "$2" >/dev/null && ok || bad "$3: outputs differ from the reference: $(diff -rq "$1" "$2" | head -5)"; }

# no_partial DIR REF: no temporary file left, every file present identical to REF's
no_partial() {
  local tmp f bad_files=0
  tmp=$(find "$1" -name '.*.pp-tmp-*' | head -3)
  [[ -z $tmp ]] && ok || bad "$3: temporary files left: $tmp"
  while IFS= read -r -d '' f; do
    cmp -s "$f" "$2/${f#"$1"/}" || { bad "$3: ${f#"$1"/} is not the reference's bytes (partial?)"; bad_files=1; }
  done < <(find "$1" -type f -print0)
  ((bad_files)) || ok
}

# snapshot DIR: "relative-path inode mtime" of every file, sorted
snapshot() { (cd "$1" && find . -type f -printf '%P %i %T@\n' | sort); }

# check_reports WHAT NTASKS BUDGET PHOTO_DIR REPORT...: each report's run lines (shard k/N, CPU
# budget, exit 0 unless interrupted), and over all reports every input ok exactly once.
# With BUDGET > 0, each run must have that budget with SLURM_CPUS_PER_TASK BUDGET among its
# sources, and 1 job x 1 thread. Prints the python check's complaint on failure.
check_reports() {
  local what=$1 n=$2 budget=$3 photos=$4
  shift 4
  /usr/bin/python3 - "$n" "$budget" "$photos" "$NPHOTOS" "$@" <<'PY' && ok || bad "$what: reports"
import json, os, sys
n, budget, photos, nphotos = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
ok = {}
shards = []
for path in sys.argv[5:]:
    lines = [json.loads(l) for l in open(path, encoding="utf-8")]
    start, end = lines[0], lines[-1]
    assert start.get("run") == "start", (path, start)
    assert end.get("run") == "end", (path, "no end line", lines[-1])
    k, nn = map(int, start["shard"].split("/"))
    assert nn == n, (path, start)
    shards.append(k)
    if budget > 0:
        assert start["cpu_budget"] == budget, (path, start)
        assert f"SLURM_CPUS_PER_TASK {budget}" in start["budget_from"], (path, start)
        assert (start["jobs"], start["threads"]) == (1, 1), (path, start)
    files = lines[1:-1]
    assert all("input" in r for r in files), path
    if end["interrupted"] is None:
        assert end["exit"] == 0 and end["not_done"] == 0, (path, end)
        assert len(files) == start["files"], (path, len(files), start)
    else:
        assert end["exit"] == 130, (path, end)
    for r in files:
        assert r["status"] in ("ok", "skipped"), (path, r)
        # the shard is the one the relative path hashes to: FNV-1a, 64 bits, mod N
        h = 0xcbf29ce484222325
        for b in r["input"].split("/", 1)[1].encode():
            h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
        assert h % n == k - 1, (path, r["input"], h % n + 1)
        if r["status"] == "ok":
            ok[r["input"]] = ok.get(r["input"], 0) + 1
twice = [i for i, c in ok.items() if c > 1]
assert not twice, ("written twice", twice)
assert sorted(set(shards)) == list(range(1, n + 1)), ("shards", shards)
want = set()
for d, _, fs in os.walk(photos):  # inputs are named "photos/REL", as the recipes give them
    for f in fs:
        want.add(os.path.join("photos", os.path.relpath(os.path.join(d, f), photos)))
assert len(want) == nphotos, len(want)
got = set(ok)
assert got == want, ("not ok exactly once", sorted(want - got)[:5], sorted(got - want)[:5])
PY
}
