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
