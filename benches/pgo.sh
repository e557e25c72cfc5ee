#!/usr/bin/env bash
# A profile-guided (PGO) build of affsim for the timed reference runs (issue #18 target 1).
#
#   benches/pgo.sh            # → target/pgo/release/affsim
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
set -euo pipefail
cd "$(dirname "$0")/.."
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
RUSTFLAGS="-Cprofile-use=$data/merged.profdata" CARGO_TARGET_DIR=target/pgo \
  cargo build --release
echo "built target/pgo/release/affsim"
