#!/usr/bin/env bash
# A profile-guided (PGO) build of affsim for the timed reference runs (issue #18 target 1).
#
#   benches/pgo.sh            # → target/pgo/release/affsim
#   benches/pgo.sh --bolt     # the same, linked with --emit-relocs, then BOLT on top
#                             # → also target/pgo/release/affsim-bolt
#
# Builds an instrumented binary (the release profile, fat LTO, plus `-Cprofile-generate`), runs
# the training workload — one replication of scenarios/bench/mid.toml (a tenth of large, the same
# code paths) and the built-in demo —, merges the counts with the `llvm-profdata` of rustc's own
# LLVM version, and rebuilds with `-Cprofile-use`. The compiler then lays out hot code together
# and cold code apart and decides inlining from real counts. Results cannot change: the profile
# steers optimisation, not semantics (benches/README.md compares the outputs byte for byte).
#
# Needs the `llvm-profdata` of rustc's LLVM major version (`rustc -vV` says which): on Debian,
# `apt-get install llvm-22` gives /usr/bin/llvm-profdata-22; or `rustup component add
# llvm-tools` (its binary is found too). `cargo build --release` stays the ordinary build: this
# script is for the reference figures, and takes about twice as long.
#
# `--bolt` (optional, needs `llvm-bolt` of LLVM 16 or later: on Debian `apt-get install
# bolt-22`) links the optimised build with `--emit-relocs` (extra sections only: the code is the
# same), instruments it with BOLT, runs mid's training, and rewrites it with the measured
# layout (blocks by ext-tsp, functions by cdsort, cold blocks split out) into
# target/pgo/release/affsim-bolt; target/pgo/release/affsim stays the plain profile-guided binary.
# Neither the ordinary build nor CI needs BOLT. benches/README.md ("huge pages and BOLT") has the
# figures.
set -euo pipefail
cd "$(dirname "$0")/.."
bolt=""
case "${1:-}" in
  "") ;;
  --bolt)
    for c in llvm-bolt llvm-bolt-22 llvm-bolt-21 llvm-bolt-20 llvm-bolt-19; do
      if command -v "$c" > /dev/null 2>&1; then
        bolt=$c
        break
      fi
    done
    if [ -z "$bolt" ]; then
      echo "benches/pgo.sh: --bolt needs llvm-bolt (e.g. apt-get install bolt-22)" >&2
      exit 2
    fi
    ;;
  *)
    echo "usage: benches/pgo.sh [--bolt]" >&2
    exit 2
    ;;
esac
major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
profdata=""
for c in "llvm-profdata-$major" \
  "$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-profdata" \
  llvm-profdata; do
  if command -v "$c" > /dev/null 2>&1 &&
    "$c" merge --version 2>&1 | grep -q "LLVM version $major\."; then
    profdata=$c
    break
  fi
done
if [ -z "$profdata" ]; then
  echo "benches/pgo.sh: no llvm-profdata of LLVM $major (rustc's); install one, e.g." >&2
  echo "  apt-get install llvm-$major   or   rustup component add llvm-tools" >&2
  exit 2
fi
gen=target/pgo-gen
data=$PWD/target/pgo-data
rm -rf "$data"
echo "== instrumented build ($gen)"
RUSTFLAGS="-Cprofile-generate=$data" CARGO_TARGET_DIR=$gen cargo build --release
echo "== training: mid (one replication) and the demo"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$gen/release/affsim" run scenarios/bench/mid.toml --replications 1 --threads 1 \
  --out "$out/mid" --force -q
"$gen/release/affsim" run --replications 2 --threads 1 --out "$out/demo" --force -q
"$profdata" merge -o "$data/merged.profdata" "$data"
echo "== optimised build (target/pgo)"
flags="-Cprofile-use=$data/merged.profdata"
[ -n "$bolt" ] && flags="$flags -Clink-arg=-Wl,--emit-relocs"
RUSTFLAGS="$flags" CARGO_TARGET_DIR=target/pgo cargo build --release
echo "built target/pgo/release/affsim"
[ -z "$bolt" ] && exit 0
pgo=target/pgo/release/affsim
echo "== BOLT: instrumented binary, trained on mid (one replication)"
# (each run of the instrumented binary rewrites the profile file: one training run, the one
# that matters; the demo adds nothing to mid's hot paths)
rm -f "$data/bolt.fdata"
"$bolt" "$pgo" -instrument -instrumentation-file="$data/bolt.fdata" -o "$data/affsim.inst"
"$data/affsim.inst" run scenarios/bench/mid.toml --replications 1 --threads 1 \
  --out "$out/mid-bolt" --force -q
echo "== BOLT: optimised layout"
"$bolt" "$pgo" -o "$pgo-bolt" -data="$data/bolt.fdata" -reorder-blocks=ext-tsp \
  -reorder-functions=cdsort -split-functions -split-all-cold -dyno-stats
echo "built $pgo-bolt"
