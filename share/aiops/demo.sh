#!/usr/bin/env bash
# The main job on an embedded default, for the README: create a worker
# instance in a scratch directory, start the worker, drive it with 16
# clients while recording every write, kill -9 the worker in the middle,
# start it again (the clients reconnect), run a live update's buffer
# phases (prepare .. deactivate) under the same load, and prove with
# `aiops verify` that no acknowledged write was lost. Prints each step and the result;
# exits non-zero if anything was lost.
#
#   share/aiops/demo.sh [BUILD_DIR]     (default: build)
#
# AIOPS_DEMO_DIR keeps the instance in that directory instead of a scratch
# one (which is removed at the end).
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(cd "${1:-$here/build}" && pwd)/bin
[[ -x $bin/aiops && -x $bin/aiops-worker ]] || { echo "demo: no built aiops in $bin; run share/aiops/setup.sh" >&2; exit 2; }
aiops=$bin/aiops

if [[ -n ${AIOPS_DEMO_DIR:-} ]]; then
  dir=$AIOPS_DEMO_DIR
  keep=1
else
  # A short path: the control socket's address must fit in 107 bytes.
  dir=$(mktemp -d "${TMPDIR:-/tmp}/aiops-demo.XXXXXX")
  keep=0
fi
worker_pid=
load_pid=
cleanup() {
  [[ -n $load_pid ]] && kill "$load_pid" 2>/dev/null || true
  [[ -n $worker_pid ]] && kill -9 "$worker_pid" 2>/dev/null || true
  if ((keep == 0)); then
    [[ -f $dir/aiops.toml ]] && "$aiops" buffer remove --force --config "$dir/aiops.toml" >/dev/null 2>&1
    rm -rf "$dir"
  fi
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

start_worker() {
  "$bin/aiops-worker" --config "$dir/aiops.toml" 2>>"$dir/worker.log" &
  worker_pid=$!
  for _ in $(seq 1 100); do
    if "$aiops" status --config "$dir/aiops.toml" --json >/dev/null 2>&1; then return 0; fi
    kill -0 "$worker_pid" 2>/dev/null || { cat "$dir/worker.log" >&2; echo "demo: the worker did not start" >&2; exit 1; }
    sleep 0.1
  done
  echo "demo: the worker did not answer within 10 s" >&2
  exit 1
}

step "aiops config init --dir $dir"
"$aiops" config init --dir "$dir" --force

step "aiops-worker --config $dir/aiops.toml   (log: $dir/worker.log)"
start_worker
"$aiops" status --config "$dir/aiops.toml"

step "aiops load: 16 clients, 4 KiB writes, 20% reads, 30% FUA, 12 s, recording every write"
"$aiops" load --config "$dir/aiops.toml" --clients 16 --duration 12 --read-ratio 0.2 --fua-ratio 0.3 \
  --record "$dir/load.rec" >"$dir/load.out" &
load_pid=$!
sleep 4
step "kill -9 the worker (pid $worker_pid) while the clients write, and start it again"
kill -9 "$worker_pid"
wait "$worker_pid" 2>/dev/null || true
sleep 1
start_worker
grep -E "replayed|ready" "$dir/worker.log" | tail -2

sleep 1
step "a live update's buffer phases while the clients write: new writes go to shared memory, are validated, reordered by priority and applied to the log"
for s in prepare activate; do "$aiops" phase "$s" --config "$dir/aiops.toml" | head -1; done
sleep 0.3  # writes pile up in the buffer
for s in flush validate reorder; do "$aiops" phase "$s" --config "$dir/aiops.toml" | head -1; done
"$aiops" buffer inspect --config "$dir/aiops.toml" | head -3
for s in apply deactivate; do "$aiops" phase "$s" --config "$dir/aiops.toml" | head -1; done

step "the load, as its clients saw it"
rc=0
wait "$load_pid" || rc=$?
load_pid=
cat "$dir/load.out"
((rc == 0)) || { echo "demo: aiops load failed ($rc)" >&2; exit "$rc"; }

step "aiops verify: read back every recorded block"
rc=0
"$aiops" verify --config "$dir/aiops.toml" --record "$dir/load.rec" || rc=$?

step "stop the worker (SIGTERM)"
kill -TERM "$worker_pid"
wait "$worker_pid" || true
worker_pid=
tail -1 "$dir/worker.log"
exit "$rc"
