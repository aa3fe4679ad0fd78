#!/usr/bin/env bash
# The crash matrix of a live update, under recorded load: kill -9 of the
# `aiops update` process, of the old worker and of the new worker at every
# phase boundary; after a restart (of a worker, or of `aiops update`, which
# resumes from the saved phase or rolls back) the update completes and
# `aiops verify` finds nothing lost.
#  1. aiops update killed: the steps up to K run one by one (what an update
#     killed right after K leaves), then aiops update resumes after K; also
#     real kill -9 of a running aiops update after 5 .. 200 ms;
#  2. the old worker killed after each step up to reorder, restarted;
#  3. the new worker killed: (a) after the swap; (b) before it reported
#     ready (a wrapper that sleeps before it execs the worker): exit 7,
#     the old pid serves on.
# AIOPS_CRASH_SEED overrides the seed (printed, for replay). On failure the
# test's directory is copied to /tmp/update_crash.tmp and worker.log to
# /tmp/update_crash_worker.log.
. "$(dirname "$0")/functions.sh"

keep_on_failure() {
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    rm -rf /tmp/update_crash.tmp
    cp -r "$TEST_TMP" /tmp/update_crash.tmp 2>/dev/null || true
    cp "$TEST_TMP/worker.log" /tmp/update_crash_worker.log 2>/dev/null || true
    echo "(kept $TEST_TMP as /tmp/update_crash.tmp, its worker.log as /tmp/update_crash_worker.log)" >&2
  fi
  touch "$TEST_TMP/load.stop" 2>/dev/null || true
  # A worker a swap started and the test did not follow yet, or an update
  # in flight: every process of this instance (its path is unique).
  local pid
  [[ -n ${config:-} ]] && for pid in $(pgrep -f -- "$config" 2>/dev/null || true); do TEST_PIDS+=("$pid"); done
  cleanup
}
trap keep_on_failure EXIT

seed=${AIOPS_CRASH_SEED:-$(( $(date +%s) % 100000 ))}
echo "update crash matrix: seed $seed"
RANDOM=$seed

inst="$TEST_TMP/inst"
init_instance "$inst"
config="$inst/aiops.toml"
record="$TEST_TMP/record"
worker="$AIOPS_BIN/aiops-worker"
steps=(prepare activate flush validate reorder swap apply deactivate)
declare -A phase_after=([prepare]=prepared [activate]=active [flush]=flushed [validate]=validated
                        [reorder]=reordered [swap]=swapped [apply]=applied)
declare -A step_after=([prepare]=activate [activate]=flush [flush]=validate [validate]=reorder
                       [reorder]=swap [swap]=apply [apply]=deactivate)

# step STEP — one step through the worker, as `aiops update` runs it.
step() {
  if [[ $1 == swap ]]; then
    expect_exit 0 aiops phase swap --binary "$worker" --config "$config" --json
    follow_worker "$config"
  else
    expect_exit 0 aiops phase "$1" --config "$config" --json
  fi
}
# steps_through K — prepare .. K, what an update killed right after K leaves.
steps_through() {
  local s
  for s in "${steps[@]}"; do
    step "$s"
    [[ $s == "$1" ]] && return 0
  done
}
inspect() { expect_exit 0 aiops buffer inspect --config "$config" --json; cp "$TEST_TMP/out" "$TEST_TMP/inspect.json"; }
# wait_step_done — until no step runs (a killed runner's step finishes in the worker).
wait_step_done() {
  local i
  for i in $(seq 1 200); do
    inspect
    jq -e '.step_running == null' "$TEST_TMP/inspect.json" >/dev/null && return 0
    sleep 0.05
  done
  fail "$1: a step still runs after 10 s: $(jq -c . "$TEST_TMP/inspect.json")"
}
# update_resumes FROM WHAT — `aiops update` completes, resuming after phase
# FROM (idle: from the start); the buffer is idle with writes to the log,
# and the new worker is followed.
update_resumes() {
  local from=$1 what=$2 first=prepare s
  for s in "${!phase_after[@]}"; do [[ ${phase_after[$s]} == "$from" ]] && first=${step_after[$s]}; done
  expect_exit 0 aiops update --binary "$worker" --config "$config" --json
  cp "$TEST_TMP/out" "$TEST_TMP/update.json"
  jq -e --arg from "$from" --arg first "$first" \
    '.ok == true and .resumed_from == $from and .phases[0].name == $first and .phases[-1].name == "deactivate"
     and all(.phases[]; .ok)' "$TEST_TMP/update.json" >/dev/null || fail "$what: update: $(jq -c . "$TEST_TMP/update.json")"
  follow_worker "$config"
  [[ $WORKER_PID == $(jq -r .new_pid "$TEST_TMP/update.json") ]] || fail "$what: status shows pid $WORKER_PID, update said $(jq -c . "$TEST_TMP/update.json")"
  inspect
  jq -e '.phase == "idle" and .intake == "log" and .step_running == null' "$TEST_TMP/inspect.json" >/dev/null \
    || fail "$what: after the update: $(jq -c . "$TEST_TMP/inspect.json")"
}
steps_run() { jq -r '[.phases[].name] | join(",")' "$TEST_TMP/update.json"; }

# kill_fully — kill_worker, then until the killed process is gone for good:
# one that is not our child counts as gone for `running` (a zombie) once its
# main thread has exited, while its other threads may still be exiting and
# hold the log's lock, which a worker started right then finds taken. Sets
# waited (a note for the case's line) when there was something to wait for.
kill_fully() {
  local pid=$WORKER_PID i
  kill_worker
  waited=""
  for i in $(seq 0 400); do
    if [[ $(ls "/proc/$pid/task" 2>/dev/null | wc -l) -le 1 ]] && flock -n "$inst/data/log/LOCK" true; then
      [[ $i -eq 0 ]] || waited=" (waited $(( i * 25 )) ms for pid $pid to let go of the log)"
      return 0
    fi
    sleep 0.025
  done
  fail "pid $pid, killed, or another process still holds $inst/data/log/LOCK 10 s later:" \
    "$(grep -E '^(State|Threads)' "/proc/$pid/status" 2>/dev/null | tr '\n' ' ')" \
    "locks on it (pid is the 5th field): $(grep ":$(stat -c %i "$inst/data/log/LOCK") " /proc/locks 2>/dev/null || true)"
}

# Load in rounds of 5 s, recorded, until load.stop exists.
load_loop() {
  local n=0 rc
  while [[ ! -e $TEST_TMP/load.stop ]]; do
    n=$(( n + 1 ))
    rc=0
    "$AIOPS_BIN/aiops" load --config "$config" --clients 6 --duration 5 --read-ratio 0.2 --fua-ratio 0.1 \
      --record "$record" --seed $(( seed * 1000 + n )) --json >"$TEST_TMP/load-$n.json" 2>"$TEST_TMP/load-$n.err" || rc=$?
    echo "$rc" >"$TEST_TMP/load-$n.rc"
  done
}

start_worker "$config"
load_loop &
load_pid=$!
TEST_PIDS+=("$load_pid")
sleep 0.5

# ---- 1. aiops update killed after each step; it resumes
for k in prepare activate flush validate reorder swap apply; do
  steps_through "$k"
  update_resumes "${phase_after[$k]}" "update killed after $k"
  echo "update killed after $k: resumed from ${phase_after[$k]}, ran $(steps_run)"
done
for delay in 5 20 60 100; do
  ms=$(( delay + RANDOM % delay ))
  "$AIOPS_BIN/aiops" update --binary "$worker" --config "$config" --json >/dev/null 2>&1 &
  update_pid=$!  # the process itself, not a subshell around the aiops function
  sleep "0.$(printf '%03d' "$ms")"
  kill -9 "$update_pid" 2>/dev/null || true
  wait "$update_pid" 2>/dev/null || true
  sleep 0.2  # a request it sent is queued by now
  wait_step_done "update killed after $ms ms"
  from=$(jq -r .phase "$TEST_TMP/inspect.json")
  follow_worker "$config"
  update_resumes "$from" "update killed after $ms ms"
  echo "update kill -9 after $ms ms: resumed from $from, ran $(steps_run)"
done

# ---- 2. the old worker killed after each step, restarted
for k in prepare activate flush validate reorder; do
  steps_through "$k"
  sleep 0.3  # writes into the buffer
  old=$WORKER_PID
  kill_fully
  start_worker "$config"
  inspect
  jq -e --arg phase "${phase_after[$k]}" --arg intake "$([[ $k == prepare ]] && echo log || echo buffer)" \
    '.phase == $phase and .intake == $intake and .step_running == null' "$TEST_TMP/inspect.json" >/dev/null \
    || fail "old worker killed after $k: after the restart: $(jq -c . "$TEST_TMP/inspect.json")"
  update_resumes "${phase_after[$k]}" "old worker killed after $k"
  echo "old worker killed after $k (pid $old): restarted, update resumed from ${phase_after[$k]}, ran $(steps_run)$waited"
done

# ---- 3a. the new worker killed after the swap
steps_through swap
sleep 0.3
new=$WORKER_PID
kill_fully
start_worker "$config"
update_resumes swapped "new worker killed after the swap"
echo "new worker killed after swap (pid $new): restarted, update resumed from swapped, ran $(steps_run)$waited"

# ---- 3b. the new worker killed before it reported ready
wrapper="$TEST_TMP/bins/slow-worker"
mkdir -p "$TEST_TMP/bins"
printf '#!/bin/sh\nsleep 0.5\nexec %q "$@"\n' "$(cd "$AIOPS_BIN" && pwd)/aiops-worker" >"$wrapper"
chmod 755 "$wrapper"
old=$WORKER_PID
"$AIOPS_BIN/aiops" update --binary "$wrapper" --config "$config" >"$TEST_TMP/wrap.out" 2>"$TEST_TMP/wrap.err" &
update_pid=$!
child=""
for _ in $(seq 1 3000); do
  child=$(pgrep -P "$old" -f "$wrapper" || true)
  [[ -n $child ]] && break
  kill -0 "$update_pid" 2>/dev/null || break
  sleep 0.01
done
[[ -n $child ]] || { cat "$TEST_TMP/wrap.out" "$TEST_TMP/wrap.err" >&2; fail "new worker killed before ready: the wrapper never ran"; }
kill -9 "$child"
rc=0
wait "$update_pid" || rc=$?
[[ $rc -eq 7 ]] || { cat "$TEST_TMP/wrap.out" "$TEST_TMP/wrap.err" >&2; fail "new worker killed before ready: update exited $rc, expected 7"; }
expect_in "$TEST_TMP/wrap.err" "before it reported ready"
expect_in "$TEST_TMP/wrap.err" "pid $old serves on"
running "$old" || fail "new worker killed before ready: pid $old is gone"
aiops status --config "$config" --json >"$TEST_TMP/status.json"
jq -e --argjson pid "$old" '.pid == $pid and .buffer.phase == "idle" and .buffer.intake == "log"' "$TEST_TMP/status.json" \
  >/dev/null || fail "new worker killed before ready: $(jq -c '{pid, buffer}' "$TEST_TMP/status.json")"
update_resumes idle "after the rolled-back update"
echo "new worker killed before ready (pid $child): exit 7, pid $old served on; then update $old -> $WORKER_PID"

# ---- the load, and nothing lost
touch "$TEST_TMP/load.stop"
wait "$load_pid"
for rcfile in "$TEST_TMP"/load-*.rc; do
  n=${rcfile%.rc}
  [[ $(cat "$rcfile") == 0 ]] || { cat "$n.err" "$n.json" >&2; fail "$(basename "$n"): aiops load exited with $(cat "$rcfile")"; }
  jq -e '.read_mismatches == 0 and .acked > 0' "$n.json" >/dev/null || fail "$(basename "$n"): $(cat "$n.json")"
done
echo "load: $(jq -s -c '{rounds: length, acked: (map(.acked) | add), reads: (map(.reads) | add),
  errors: (map(.errors) | add), disconnects: (map(.disconnects) | add), refused: (map(.refused) | add)}' "$TEST_TMP"/load-*.json)"
expect_exit 0 aiops verify --config "$config" --record "$record" --json
jq -e '.lost == 0 and .unexpected == 0 and .checked > 0' "$TEST_TMP/out" >/dev/null || fail "verify: $(cat "$TEST_TMP/out")"
echo "verify: $(jq -c '{checked, lost, unexpected}' "$TEST_TMP/out")"
stop_followed_worker
echo ok
