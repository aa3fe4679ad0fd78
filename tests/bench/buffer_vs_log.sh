#!/usr/bin/env bash
# Benchmark: end-to-end write latency with the speculative buffer active
# against log mode, same load, same run. The load is paced (aiops load
# --rate) so both modes carry the same requests per second and the buffer
# (sized here to hold a whole round) never fills; rounds alternate log and
# buffer mode, the buffer being applied and deactivated after each of its
# rounds. Then `aiops bench buffer` (intake against memcpy). Prints Markdown
# rows and the median p99 ratio. Not a test: numbers depend on the machine.
#
# Usage: tests/bench/buffer_vs_log.sh [DIR] [ROUNDS] [SECONDS] [RATE]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-${TMPDIR:-/tmp}/aiops-bench-buffer}
rounds=${2:-5}
seconds=${3:-8}
rate=${4:-10000}
bin="$src/build/bin"
[[ -x $bin/aiops-worker ]] || { echo "build first: share/aiops/setup.sh" >&2; exit 1; }

rm -rf "$dir"
"$bin/aiops" config init --dir "$dir/inst" >/dev/null
config="$dir/inst/aiops.toml"
sed -i 's/^size = "64MiB"$/size = "1GiB"\nmax_entries = 262144/' "$config"
"$bin/aiops-worker" --config "$config" 2>"$dir/worker.log" &
worker=$!
trap 'kill $worker 2>/dev/null || true; wait $worker 2>/dev/null || true; "$bin/aiops" buffer remove --force --config "$config" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 50); do "$bin/aiops" status --config "$config" >/dev/null 2>&1 && break; sleep 0.1; done

load=("$bin/aiops" load --config "$config" --clients 16 --write-size 4096 --rate "$rate" --duration "$seconds" --json)
phase() { "$bin/aiops" phase "$1" --config "$config" --json >/dev/null; }
p99() { jq '[.classes[].p99_us] | max' <<<"$1"; }

echo "| round | log writes/s | log p99 us | buffer writes/s | buffer p99 us | p99 buffer/log | errors (log, buffer) |"
echo "|---|---|---|---|---|---|---|"
ratios=()
for r in $(seq 1 "$rounds"); do
  l=$("${load[@]}")
  phase prepare; phase activate
  b=$("${load[@]}")
  phase apply; phase deactivate
  ratio=$(jq -n "$(p99 "$b") / $(p99 "$l")")
  ratios+=("$ratio")
  echo "| $r | $(jq '.writes_per_s|floor' <<<"$l") | $(p99 "$l" | cut -d. -f1) | $(jq '.writes_per_s|floor' <<<"$b") |" \
       "$(p99 "$b" | cut -d. -f1) | $(jq -n "$ratio*100|round/100") | $(jq .errors <<<"$l"), $(jq .errors <<<"$b") |"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
echo
echo "median p99 ratio buffer / log: $(printf '%.2f' "$median") over $rounds rounds of ${seconds}s at $rate writes/s"
echo "load: ${load[*]}"
echo
"$bin/aiops" bench buffer
