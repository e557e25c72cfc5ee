#!/bin/sh
# Seeds the fuzz corpora from the repository's small scenarios (rules and examples, the demo).
set -eu
cd "$(dirname "$0")"
for t in parse run; do
    mkdir -p "corpus/$t"
    for f in ../scenarios/rules/*.toml ../scenarios/examples/*.toml ../scenarios/demo.toml; do
        [ "$(wc -c < "$f")" -le 20000 ] && cp "$f" "corpus/$t/"
    done
done
mkdir -p corpus/generated
# merge: partials of small runs (a shard of one and of two, with and without --ledger, and a
# sweep's), written by an affsim binary ($AFFSIM, else the release or debug build)
AFFSIM=${AFFSIM:-../target/release/affsim}
[ -x "$AFFSIM" ] || AFFSIM=../target/debug/affsim
mkdir -p corpus/merge
tmp=$(mktemp -d)
for s in ../scenarios/rules/attr-1-one-commission-per-line.toml ../scenarios/examples/starter.toml; do
    [ -f "$s" ] || continue
    b=$(basename "$s" .toml)
    "$AFFSIM" run "$s" --replications 3 --shard 1/1 -q --out "$tmp/$b-1" && cp "$tmp/$b-1/partial.json" "corpus/merge/$b-1of1.json"
    "$AFFSIM" run "$s" --replications 3 --shard 2/2 --ledger -q --out "$tmp/$b-2" && cp "$tmp/$b-2/partial.json" "corpus/merge/$b-2of2.json"
done
"$AFFSIM" sweep ../scenarios/examples/plus-task-named-arms.toml --replications 2 --shard 1/2 -q --out "$tmp/sweep" 2>/dev/null \
    && cp "$tmp/sweep/sweep-partial.json" corpus/merge/sweep-1of2.json || true
rm -rf "$tmp"
