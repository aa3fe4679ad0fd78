#!/usr/bin/env bash
# Benchmark: the worker end to end (aiops load: 16 clients over loopback,
# 4 KiB writes, every write FUA so acknowledged once durable) against the
# write log alone (aiops bench log: 16 threads, 4 KiB, durable), on the same
# directory, alternating, several rounds; then the same load with written
# acknowledgement. Prints Markdown rows and the median ratio.
# Not a test: numbers depend on the machine.
#
# Usage: tests/bench/worker_vs_log.sh [DIR] [ROUNDS] [SECONDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-${TMPDIR:-/tmp}/aiops-bench-worker}
rounds=${2:-5}
seconds=${3:-10}
bin="$src/build/bin"
[[ -x $bin/aiops-worker ]] || { echo "build first: share/aiops/setup.sh" >&2; exit 1; }

rm -rf "$dir"
"$bin/aiops" config init --dir "$dir/inst" >/dev/null
"$bin/aiops-worker" --config "$dir/inst/aiops.toml" 2>"$dir/worker.log" &
worker=$!
trap 'kill $worker 2>/dev/null || true; wait $worker 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 50); do "$bin/aiops" status --config "$dir/inst/aiops.toml" >/dev/null 2>&1 && break; sleep 0.1; done

log_cmd=("$bin/aiops" bench log --dir "$dir/benchlog" --threads 16 --write-size 4096 --durable --duration "$seconds" --json)
e2e_cmd=("$bin/aiops" load --config "$dir/inst/aiops.toml" --clients 16 --write-size 4096 --fua-ratio 1 --duration "$seconds" --json)

echo "| round | log only writes/s | log p99 us | end to end writes/s | e2e p99 us (gold) | ratio |"
echo "|---|---|---|---|---|---|"
ratios=()
for r in $(seq 1 "$rounds"); do
  l=$("${log_cmd[@]}"); rm -rf "$dir/benchlog"
  e=$("${e2e_cmd[@]}")
  ratio=$(jq -n --argjson e "$(jq .writes_per_s <<<"$e")" --argjson l "$(jq .writes_per_s <<<"$l")" '$e / $l')
  ratios+=("$ratio")
  echo "| $r | $(jq '.writes_per_s|floor' <<<"$l") | $(jq '.p99_us|floor' <<<"$l") | $(jq '.writes_per_s|floor' <<<"$e") |" \
       "$(jq '.classes.gold.p99_us|floor' <<<"$e") | $(jq -n "$ratio*100|round/100") |"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
echo
echo "median ratio end-to-end / log-only: $(printf '%.2f' "$median") over $rounds rounds of ${seconds}s"
w=$("$bin/aiops" load --config "$dir/inst/aiops.toml" --clients 16 --write-size 4096 --duration "$seconds" --json)
echo "written acknowledgement, end to end: $(jq '.writes_per_s|floor' <<<"$w") writes/s, p99 $(jq '.classes.gold.p99_us|floor' <<<"$w") us (gold)"
echo "log only:   ${log_cmd[*]}"
echo "end to end: ${e2e_cmd[*]}"
