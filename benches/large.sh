#!/usr/bin/env bash
# Timed reference runs of the large scenario on one core (issue #15 item 9, issue #18 target 1).
#
#   benches/large.sh [RUNS] [OTHER_BINARY]
#
# Runs `affsim run scenarios/bench/large.toml --replications 1 --threads 1` RUNS times (default
# 5) and prints, per run, the load average before it, the simulation seconds (`--timing`), the
# wall and user seconds and the peak RSS (`/usr/bin/time`), then the minimum, median and maximum
# of each. With OTHER_BINARY, each round runs both binaries, alternating which goes first, so that
# the machine's drift (a shared virtual machine's speed moves by a third within minutes) falls on
# both alike. The binary under test is $AFFSIM, else target/release/affsim (build first:
# `cargo build --release`). Wall time of a shared machine is noisy: quote the median, the spread
# and the load, never one run. (The median of an even count is the lower of the middle two.)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
other=${2:-}
bin=${AFFSIM:-${CARGO_TARGET_DIR:-target}/release/affsim}
sc=scenarios/bench/large.toml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

one() { # binary label round
  local load
  load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f "%e %U %M" -o "$tmp/time" "$1" run "$sc" --replications 1 --threads 1 \
    --out "$tmp/out" --force -q --timing "$tmp/timing.json"
  local sim wall user rss
  sim=$(sed -n 's/.*"simulation_seconds": *\([0-9.]*\).*/\1/p' "$tmp/timing.json" | head -n 1)
  read -r wall user rss < "$tmp/time"
  printf '%-6s %-7s %5s %9.2f %8.2f %8.2f %9d\n' "$3" "$2" "$load" "$sim" "$wall" "$user" \
    "$((rss / 1024))"
  printf '%s %.2f %s %s %s\n' "$2" "$sim" "$wall" "$user" "$((rss / 1024))" >> "$tmp/all"
}

printf '%-6s %-7s %5s %9s %8s %8s %9s\n' round binary load sim_s wall_s user_s rss_MiB
for r in $(seq 1 "$runs"); do
  if [ -n "$other" ] && [ $((r % 2)) -eq 0 ]; then
    one "$other" other "$r"
    one "$bin" tested "$r"
  else
    one "$bin" tested "$r"
    [ -n "$other" ] && one "$other" other "$r"
  fi
done

echo
printf '%-7s %-6s %9s %8s %8s %9s\n' binary stat sim_s wall_s user_s rss_MiB
for label in tested other; do
  grep -q "^$label " "$tmp/all" || continue
  for col in 2 3 4 5; do
    grep "^$label " "$tmp/all" | awk -v c="$col" '{print $c}' | sort -g > "$tmp/col$col"
  done
  n=$(wc -l < "$tmp/col2")
  for stat in min median max; do
    case $stat in
      min) line=1 ;;
      median) line=$(((n + 1) / 2)) ;;
      max) line=$n ;;
    esac
    printf '%-7s %-6s' "$label" "$stat"
    for col in 2 3 4 5; do
      printf ' %8s' "$(sed -n "${line}p" "$tmp/col$col")"
    done
    echo
  done
done
