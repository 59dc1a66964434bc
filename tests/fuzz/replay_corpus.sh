#!/usr/bin/env bash
# replay_corpus.sh - ctest fuzz_corpus: generates the seed corpus with make_corpus and feeds it
# to every fuzz target through the replay_* drivers (no libFuzzer needed: this runs in every
# build, the sanitizer build included). Any broken contract aborts and fails the test.
# usage: replay_corpus.sh BUILD_DIR CORPUS_DIR
set -euo pipefail
build=$1 corpus=$2
rm -rf "$corpus"
"$build/make_corpus" "$corpus"
for t in load spec pipeline; do
  echo "== replay_$t"
  "$build/replay_$t" "$corpus/$t" 2>"$corpus/replay_$t.log" || {
    tail -n 20 "$corpus/replay_$t.log" >&2
    exit 1
  }
done
