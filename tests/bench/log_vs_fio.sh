#!/usr/bin/env bash
# Benchmark: `aiops bench log --durable` (64 threads of 4 KiB writes) against
# fio's sequential 256 KiB writes with an fdatasync after each, on the same
# directory, alternating, several rounds. Prints one Markdown row per round
# and the median ratio. Not a test: numbers depend on the machine.
#
# Usage: tests/bench/log_vs_fio.sh [DIR] [ROUNDS] [SECONDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-${TMPDIR:-/tmp}/aiops-bench-dir}
rounds=${2:-5}
seconds=${3:-10}
aiops="$src/build/bin/aiops"
command -v fio >/dev/null || { echo "fio is not installed (apt-get install fio)" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is not installed" >&2; exit 1; }
[[ -x $aiops ]] || { echo "build first: share/aiops/setup.sh" >&2; exit 1; }

fio_cmd=(fio --name=aiops-baseline --directory="$dir/fio" --rw=write --bs=256k --ioengine=psync --fdatasync=1
         --size=1G --runtime="$seconds" --time_based --output-format=json)
aiops_cmd=("$aiops" bench log --dir "$dir/log" --threads 64 --write-size 4096 --durable --duration "$seconds" --json)

echo "| round | fio MB/s | aiops MB/s | ratio | aiops writes/s | fdatasyncs/s | records/fdatasync | p50 us | p99 us | max us |"
echo "|---|---|---|---|---|---|---|---|---|---|"
ratios=()
for r in $(seq 1 "$rounds"); do
  rm -rf "$dir"; mkdir -p "$dir/fio"
  fio_mb=$("${fio_cmd[@]}" | jq '.jobs[0].write.bw_bytes / 1e6')
  rm -rf "$dir/fio"
  a=$("${aiops_cmd[@]}")
  ratio=$(jq -n --argjson a "$(jq .mb_per_s <<<"$a")" --argjson f "$fio_mb" '$a / $f')
  ratios+=("$ratio")
  jq -r --argjson f "$fio_mb" --argjson r "$r" --argjson ratio "$ratio" \
    '"| \($r) | \($f|floor) | \(.mb_per_s|floor) | \($ratio*100|round/100) | \(.writes_per_s|floor) | \(.fdatasyncs_per_s|floor) | \(.records_per_fdatasync*10|round/10) | \(.p50_us|floor) | \(.p99_us|floor) | \(.max_us|floor) |"' <<<"$a"
done
rm -rf "$dir"
median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
echo
echo "median ratio aiops/fio: $(printf '%.2f' "$median") over $rounds rounds of ${seconds}s"
echo "fio:   ${fio_cmd[*]}"
echo "aiops: ${aiops_cmd[*]}"
