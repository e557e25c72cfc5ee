#!/usr/bin/env bash
# Calibration speed (issue 16, issue 18 target 4): two parameters of the demo fitted to a history
# of the demo itself, timed by /usr/bin/time -v.
#
#   benches/calibrate.sh [THREADS]        # default 2
#
# The history is one replication of the built-in demo at seed 99 (truth: actions_per_day 0.4,
# conversion_rate 0.003), `posts` and `orders` of days 0–27 as `date,metric,value`; the scenario
# the fit starts from is the demo with `actions_per_day = 0.25`. Prints the calibration's
# summary, then wall, user and system time and peak RSS. Build first: `cargo build --release`
# (or set AFFSIM to the binary).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
bin=${AFFSIM:-${CARGO_TARGET_DIR:-target}/release/affsim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" run demo --replications 1 --seed 99 --out "$tmp/truth" --force -q
awk -F, 'NR > 1 && $2 < 28 && ($4 == "posts" || $4 == "orders") { print $3 "," $4 "," $5 }
         BEGIN { print "date,metric,value" }' "$tmp/truth/timeseries.csv" > "$tmp/demo-obs.csv"
"$bin" scenarios --print demo | sed 's/^actions_per_day = 0\.4\b/actions_per_day = 0.25/' \
  > "$tmp/demo-guess.toml"
grep -q '^actions_per_day = 0.25' "$tmp/demo-guess.toml"
/usr/bin/time -v -o "$tmp/time" "$bin" calibrate "$tmp/demo-guess.toml" \
  --observed "$tmp/demo-obs.csv" \
  --fit behaviour.creators.actions_per_day=0.1..1.0 \
  --fit behaviour.buyers.conversion_rate=0.001..0.01 \
  --threads "$threads" --out "$tmp/cal" --force 2>&1 | { grep -v '^report:' || true; }
for k in 'Elapsed (wall clock) time (h:mm:ss or m:ss)' 'User time (seconds)' \
  'System time (seconds)' 'Maximum resident set size (kbytes)'; do
  sed -n "s/.*$k: /$k: /p" "$tmp/time"
done
