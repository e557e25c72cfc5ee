#!/usr/bin/env bash
# Memory and time at 1x, 2x and 4x order volume with the same population (issue #8).
#
#   benches/scale.sh [SCENARIO] [FACTORS...]
#
# Volume is scaled by the number of simulated days: the populations and the behaviour stay the
# same, so the history (orders placed, events processed) grows with the factor while what is
# live at any time (agents, showcases, order lines in flight, pending events) does not — except
# that orders per day drift upward as showcases fill, so the script also reports the peak
# number of order lines in flight, the live state memory should follow. Each run is one replication on one thread, measured by
# /usr/bin/time -v. Default: scenarios/bench/large.toml at factors 1 2 4. Build first:
# `cargo build --release` (or set AFFSIM to the binary).
set -euo pipefail
cd "$(dirname "$0")/.."
sc=${1:-scenarios/bench/large.toml}
shift || true
factors=${*:-1 2 4}
bin=${AFFSIM:-${CARGO_TARGET_DIR:-target}/release/affsim}
days=$(sed -n 's/^days *= *\([0-9]*\).*/\1/p' "$sc" | head -n 1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%-7s %6s %12s %12s %14s %10s %10s %14s\n' factor days orders events peak_in_flight wall_s user_s peak_rss_MiB
for k in $factors; do
  f="$tmp/x$k.toml"
  sed "0,/^days *= *[0-9]*/s//days = $((days * k))/" "$sc" > "$f"
  /usr/bin/time -v "$bin" run "$f" --replications 1 --threads 1 --out "$tmp/out$k" --force -q \
    2> "$tmp/time$k"
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time$k")
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time$k")
  user=$(sed -n 's/.*User time (seconds): //p' "$tmp/time$k")
  # Order lines in flight at the end of each day (placed, not yet settled or cancelled): the
  # live state that dominates memory. Its peak is what the slab of order lines is sized by.
  read -r orders events inflight < <(python3 -c '
import csv, json, sys
d = json.load(open(sys.argv[1]))
r = d["per_replication"][0]
day = {}
for row in csv.DictReader(open(sys.argv[2])):
    if row["metric"] in ("orders", "orders_settled", "orders_cancelled"):
        day.setdefault(int(row["day"]), {})[row["metric"]] = float(row["value"])
live = peak = 0
for k in sorted(day):
    v = day[k]
    live += v.get("orders", 0) - v.get("orders_settled", 0) - v.get("orders_cancelled", 0)
    peak = max(peak, live)
print(r["orders"], r["events"], int(peak))' "$tmp/out$k/summary.json" "$tmp/out$k/timeseries.csv")
  secs=$(echo "$wall" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
  printf '%-7s %6s %12s %12s %14s %10s %10s %14s\n' "${k}x" $((days * k)) "$orders" "$events" \
    "$inflight" "$secs" "$user" $((rss / 1024))
done
