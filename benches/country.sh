#!/usr/bin/env bash
# The country-scale reference (issue 18 target 2): scenarios/bench/country.toml, whole or a
# fraction of it, one replication on one thread, timed by /usr/bin/time -v.
#
#   benches/country.sh [DIVISOR] [DAYS]
#
# DIVISOR (default 1: the whole file) divides the generated sellers and all products and
# creators (named ones included: 10 gives exactly scenarios/bench/large.toml's populations), the
# Plus caps and the Task's budget and service fee; the behaviour is unchanged. DAYS, when given,
# replaces the 30 days and sets `rules.drain = false`: `DAYS=1` measures the set-up (the
# population, the books, every creator's first wake) plus one simulated day. `affsim validate`
# is timed first (parsing and validation alone). Prints orders, events, wall, user and system
# time and peak RSS. Build first: `cargo build --release` (or set AFFSIM to the binary). The
# whole file needs about 10 GiB (benches/README.md): run it where there is room, with `nice`.
set -euo pipefail
cd "$(dirname "$0")/.."
div=${1:-1}
days=${2:-}
bin=${AFFSIM:-${CARGO_TARGET_DIR:-target}/release/affsim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
f="$tmp/country-$div.toml"
python3 - "$div" "$days" scenarios/bench/country.toml "$f" <<'EOF'
import re, sys
div, days, src, dst = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = open(src).read()
def sub(pattern, f):
    global s
    s, n = re.subn(pattern, f, s, count=1, flags=re.M | re.S)
    assert n == 1, pattern
# populations: the total (named + generated) divided; the named agents stay
named = {k: len(re.findall(r"^\[\[%s\]\]" % k, s, flags=re.M)) for k in ("sellers", "products", "creators")}
for k in ("products", "creators"):
    sub(r"(\[populations\.%s\]\ncount = )(\d+)" % k,
        lambda m: m.group(1) + str((int(m.group(2)) + named[k]) // div - named[k]))
sub(r"(\[populations\.sellers\]\ncount = )(\d+)", lambda m: m.group(1) + str(int(m.group(2)) // div))
for key in ("max_creators",):
    s = re.sub(r"^(%s = )(\d+)" % key, lambda m: m.group(1) + str(max(1, int(m.group(2)) // div)), s, flags=re.M)
sub(r'(id = "glow-task".*?budget = ")(\d+)', lambda m: m.group(1) + str(int(m.group(2)) // div))
sub(r'(id = "glow-task".*?service_fee = ")(\d+)', lambda m: m.group(1) + str(int(m.group(2)) // div))
s = re.sub(r"^manual = true\n", "", s, flags=re.M)
if days:
    sub(r"^days = \d+", lambda m: "days = %d" % int(days))
    sub(r"^\[rules\]\n", lambda m: "[rules]\ndrain = false\n")
open(dst, "w").write(s)
EOF
/usr/bin/time -v "$bin" validate "$f" > /dev/null 2> "$tmp/vtime"
vwall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/vtime")
vrss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/vtime")
echo "validate: wall $vwall, peak RSS $((vrss / 1024)) MiB"
/usr/bin/time -v "$bin" run "$f" --replications 1 --threads 1 --out "$tmp/out" --force -q \
  2> "$tmp/time"
python3 - "$tmp/out/summary.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["per_replication"][0]
print("run: orders %d, events %d" % (r["orders"], r["events"]))
EOF
for k in 'Elapsed (wall clock) time (h:mm:ss or m:ss)' 'User time (seconds)' \
  'System time (seconds)' 'Maximum resident set size (kbytes)'; do
  sed -n "s/.*$k: /$k: /p" "$tmp/time"
done
