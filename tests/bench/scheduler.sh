#!/usr/bin/env bash
# Benchmark: priority scheduling and admission control through a live update.
#
# For each policy (mclock, then fifo, in the same run on the same machine):
# a fresh worker with a speculative buffer of BUFFER (default 64MiB, 4KiB
# entries), 2 gold and 2 silver load clients paced to RATE requests/s per
# class, and BRONZE bronze clients flooding (as fast as the worker answers,
# retrying when told to). SECONDS of steady state, then a live update to the
# same binary run step by step as a runbook does (aiops phase prepare,
# activate, then HOLD seconds in which the operator inspects and the buffer
# fills, then flush .. swap --binary .. apply, deactivate), then a few
# seconds more. From the load's timeline (aiops load --timeline) and its
# JSON, per class: throughput, p99 and max latency (from the first attempt,
# retries included) in the steady window and while writes go to the buffer
# (activate to deactivate), refusals, retries and the mean delay the worker
# gave. Prints Markdown rows and the target checks. Not a test: numbers
# depend on the machine.
#
# Usage: tests/bench/scheduler.sh [RATE] [BRONZE] [SECONDS] [BUFFER] [HOLD]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
rate=${1:-200}
bronze=${2:-16}
seconds=${3:-8}
buffer=${4:-64MiB}
hold=${5:-2}
bin="$src/build/bin"
aiops=$bin/aiops
[[ -x $bin/aiops-worker ]] || { echo "build first: share/aiops/setup.sh" >&2; exit 1; }
command -v jq >/dev/null || { echo "needs jq" >&2; exit 1; }

work=$(mktemp -d /tmp/aiops-sched.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for d in "$work"/*/; do
    [[ -f $d/aiops.toml ]] && "$aiops" buffer remove --force --config "$d/aiops.toml" >/dev/null 2>&1 || true
  done
  [[ -n ${KEEP:-} ]] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

serving_pid() { "$aiops" status --config "$1" --json 2>/dev/null | jq -r '.pid // empty'; }

# "p99 max count refusals" of CLASS's requests that started (first attempt)
# in [FROM, TO): latencies in ms of the ok ones; refusals by their time.
window() {  # file class from to
  local lat
  lat=$(awk -F, -v c="$2" -v a="$3" -v b="$4" 'NR > 2 && $2 == c && $3 == "ok" { s = $1 - $4 / 1e6; if (s >= a && s < b) print $4 / 1000.0 }' "$1" | sort -g)
  local refusals
  refusals=$(awk -F, -v c="$2" -v a="$3" -v b="$4" 'NR > 2 && $2 == c && $1 >= a && $1 < b && $3 == "refusal"' "$1" | wc -l)
  if [[ -z $lat ]]; then echo "0 0 0 $refusals"; return; fi
  local n k
  n=$(wc -l <<<"$lat")
  k=$(( (99 * n + 99) / 100 ))
  echo "$(sed -n "${k}p" <<<"$lat") $(tail -1 <<<"$lat") $n $refusals"
}

echo "| policy | class | steady ops/s | steady p99 ms | update ops/s | update p99 ms | update max ms | refusals | retries | first attempts | mean delay ms |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
declare -A p99
for policy in mclock fifo; do
  dir=$work/$policy
  mkdir -p "$dir"
  "$aiops" config init --dir "$dir" >/dev/null
  cfg=$dir/aiops.toml
  entries=$(( $(numfmt --from=iec "${buffer%iB}") / 4096 ))
  sed -i "s/^size = \"64MiB\"$/size = \"$buffer\"\nmax_entries = $entries/" "$cfg"
  printf '\n[scheduler]\npolicy = "%s"\n' "$policy" >>"$cfg"
  "$aiops" config check "$cfg" >/dev/null
  "$bin/aiops-worker" --config "$cfg" 2>>"$dir/worker.log" &
  pids+=($!)
  for _ in $(seq 100); do serving_pid "$cfg" >/dev/null && [[ -n $(serving_pid "$cfg") ]] && break; sleep 0.1; done
  total=$((seconds + 6))
  "$aiops" load --config "$cfg" --class-clients "gold=2,silver=2,bronze=$bronze" \
    --class-rate "gold=$rate,silver=$rate,bronze=0" --duration "$total" --max-attempts 20 \
    --timeline "$dir/timeline.csv" --json >"$dir/load.json" &
  load_pid=$!
  pids+=($load_pid)
  sleep "$seconds"
  "$aiops" phase prepare --config "$cfg" >/dev/null
  t0=$(date +%s.%N)
  "$aiops" phase activate --config "$cfg" >/dev/null
  sleep "$hold"
  "$aiops" status --config "$cfg" --json >"$dir/status-held.json"
  for step in flush validate reorder; do "$aiops" phase "$step" --config "$cfg" >/dev/null; done
  "$aiops" phase swap --binary "$bin/aiops-worker" --config "$cfg" --json >"$dir/swap.json" || true
  new=$(jq -r '.result.new_pid // .new_pid // empty' "$dir/swap.json")
  [[ -n $new ]] && pids+=("$new")
  for step in apply deactivate; do "$aiops" phase "$step" --config "$cfg" >/dev/null; done
  t1=$(date +%s.%N)
  wait "$load_pid" || true
  start=$(sed -n 's/.*Unix time \([0-9.]*\).*/\1/p' "$dir/timeline.csv")
  u0=$(echo "$t0 - $start" | bc -l)
  u1=$(echo "$t1 - $start" | bc -l)
  for class in gold silver bronze; do
    read -r sp99 smax sn sr < <(window "$dir/timeline.csv" "$class" 1 "$u0")
    read -r up99 umax un ur < <(window "$dir/timeline.csv" "$class" "$u0" "$u1")
    sdur=$(echo "$u0 - 1" | bc -l)
    udur=$(echo "$u1 - $u0" | bc -l)
    jq -r --arg p "$policy" --arg c "$class" --arg sops "$(echo "$sn / $sdur" | bc -l)" \
      --arg uops "$(echo "$un / $udur" | bc -l)" --arg sp "$sp99" --arg up "$up99" --arg um "$umax" '
      .classes[$c] as $k
      | "| \($p) | \($c) | \($sops | tonumber | round) | \($sp) | \($uops | tonumber | round) | \($up) | \($um) | \($k.refusals) | \($k.retries) | \($k.first_attempts) | \($k.mean_delay_ms * 10 | round / 10) |"' \
      "$dir/load.json"
    p99[$policy,$class,steady]=$sp99
    p99[$policy,$class,update]=$up99
  done
  jq -r --arg p "$policy" '"\($p): buffer after the hold: \(.buffer.entries // . ) "' "$dir/status-held.json" >&2 || true
  jq -r --arg p "$policy" '"\($p): errors \(.errors), disconnects \(.disconnects), acked \(.acked), retries \([.classes[].retries] | add), first attempts \([.classes[].first_attempts] | add)"' "$dir/load.json" >&2
  sp=$(serving_pid "$cfg"); [[ -n $sp ]] && kill "$sp" 2>/dev/null || true
  sleep 1
done
echo
awk -v gs="${p99[mclock,gold,steady]}" -v gu="${p99[mclock,gold,update]}" -v fu="${p99[fifo,gold,update]}" 'BEGIN {
  printf "gold p99 during the update / steady (mclock): %.2f (target <= 2)\n", gu / gs
  printf "gold p99 during the update, fifo / mclock: %.1f (target >= 5)\n", fu / gu
}'
