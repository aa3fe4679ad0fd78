#!/usr/bin/env bash
# Benchmark: the same load through a live update in each mode (migrate,
# listeners, release), via `aiops demo --json`: a scratch worker, 12
# gold/silver/bronze clients paced to RATE requests/s (0: as fast as they
# go), SECONDS of steady state before and after the update. Per mode and SLA
# class: the longest time one client waited for an answer around the
# update (max stall), p99 during the update against p99 before it,
# throughput during against before, and the totals refused, disconnects,
# errors, lost. The baseline of each ratio is the same run's "before"
# window. Prints Markdown rows. Not a test: numbers depend on the machine.
#
# Usage: tests/bench/update_modes.sh [RATE] [SECONDS] [ROUNDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
rate=${1:-6000}
seconds=${2:-4}
rounds=${3:-3}
bin="$src/build/bin"
[[ -x $bin/aiops-worker ]] || { echo "build first: share/aiops/setup.sh" >&2; exit 1; }

echo "| mode | round | class | max stall ms | p99 before ms | p99 during ms | p99 ratio | throughput during/before | refused | disconnects | errors | lost |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for mode in migrate listeners release; do
  for round in $(seq 1 "$rounds"); do
    out=$(mktemp)
    "$bin/aiops" demo --json --mode "$mode" --rate "$rate" --seconds "$seconds" >"$out" || true
    jq -r --arg mode "$mode" --arg round "$round" '
      . as $d
      | [.classes[] | .sla] | unique[] as $sla
      | ($d.classes | map(select(.sla == $sla)) | map({(.window): .}) | add) as $w
      | "| \($mode) | \($round) | \($sla) | \($w.during.max_stall_ms | . * 10 | round / 10) | \($w.before.p99_ms | . * 100 | round / 100) | \($w.during.p99_ms | . * 100 | round / 100) | \(if $w.before.p99_ms > 0 then ($w.during.p99_ms / $w.before.p99_ms | . * 100 | round / 100) else "-" end) | \(if $w.before.ops_per_s > 0 then ($w.during.ops_per_s / $w.before.ops_per_s | . * 100 | round / 100) else "-" end) | \($d.refused) | \($d.disconnects) | \($d.errors) | \($d.lost) |"' "$out"
    rm -f "$out"
  done
done
