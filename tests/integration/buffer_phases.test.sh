#!/usr/bin/env bash
# The speculative buffer through a live update, with real processes:
#  1. the runbook: under load, every phase step in order; the entries move
#     through the buffer, the load sees no errors, verify finds nothing lost;
#  2. kill -9 of the worker while the buffer is active and filling; a new
#     worker resumes the intake into the buffer; apply and deactivate
#     through it; nothing lost;
#  3. the same kill, then `aiops phase apply` with no worker running;
#  4. kill -9 of the worker while it runs validate or apply, at a random
#     moment; the next worker finishes the step; nothing lost;
#  5. a segment with another layout version is refused with a message.
# AIOPS_CRASH_SEED overrides the seed (printed, for replay).
. "$(dirname "$0")/functions.sh"

seed=${AIOPS_CRASH_SEED:-$(( $(date +%s) % 100000 ))}
echo "buffer phases: seed $seed"
RANDOM=$seed

inst="$TEST_TMP/inst"
init_instance "$inst"
config="$inst/aiops.toml"
record="$TEST_TMP/record"

phase() { expect_exit 0 aiops phase "$1" --config "$config" --json; cp "$TEST_TMP/out" "$TEST_TMP/phase-$1.json"; }
inspect() { expect_exit 0 aiops buffer inspect --config "$config" --json; cp "$TEST_TMP/out" "$TEST_TMP/inspect.json"; }
check_inspect() {  # check_inspect JQ-EXPRESSION WHAT
  inspect
  jq -e "$1" "$TEST_TMP/inspect.json" >/dev/null || fail "$2: $(jq -c . "$TEST_TMP/inspect.json")"
}
start_load() {  # start_load SECONDS RATE SEED
  aiops load --config "$config" --clients 6 --duration "$1" --rate "$2" --read-ratio 0.2 --fua-ratio 0.05 \
    --record "$record" --seed "$3" --json >"$TEST_TMP/load.json" 2>"$TEST_TMP/load.err" &
  load_pid=$!
}
end_load() {  # end_load WHAT [errors-allowed]
  local rc=0
  wait "$load_pid" || rc=$?
  [[ $rc -eq 0 ]] || { cat "$TEST_TMP/load.err" "$TEST_TMP/load.json" >&2; fail "$1: aiops load exited with $rc"; }
  jq -e '.read_mismatches == 0 and .acked > 0' "$TEST_TMP/load.json" >/dev/null || fail "$1: load: $(cat "$TEST_TMP/load.json")"
  if [[ ${2:-} != errors-allowed ]]; then
    jq -e '.errors == 0 and .disconnects == 0' "$TEST_TMP/load.json" >/dev/null \
      || fail "$1: the load saw errors: $(cat "$TEST_TMP/load.json")"
  fi
}
verify() {
  expect_exit 0 aiops verify --config "$config" --record "$record" --json
  jq -e '.lost == 0 and .unexpected == 0 and .checked > 0' "$TEST_TMP/out" >/dev/null || fail "$1: verify: $(cat "$TEST_TMP/out")"
  echo "$1: load $(jq -c '{acked, errors, disconnects}' "$TEST_TMP/load.json"); verify $(jq -c '{checked, lost}' "$TEST_TMP/out")"
}

start_worker "$config"

# --- 1. the runbook
check_inspect '.exists and .phase == "idle" and .intake == "log" and .entries.live == 0' "fresh worker"
expect_exit 3 aiops phase activate --config "$config"
expect_in "$TEST_TMP/err" "run prepare first"
start_load 6 3000 $(( seed * 10 + 1 ))
sleep 0.5
phase prepare
jq -e '.phase == "prepared" and .priority_source == "sla"' "$TEST_TMP/phase-prepare.json" >/dev/null || fail "prepare: $(cat "$TEST_TMP/out")"
[[ -f $inst/data/state/update.json && -f $inst/data/state/priorities.in-force.toml && -f $inst/data/state/config.toml ]] \
  || fail "prepare did not save the configuration to state/"
phase activate
sleep 1
check_inspect '.phase == "active" and .intake == "buffer" and .entries.live > 0 and .bytes_used > 0' "after activate"
jq -e '.phase == "active"' "$inst/data/state/phase.json" >/dev/null || fail "state/phase.json: $(cat "$inst/data/state/phase.json")"
phase flush
phase validate
phase reorder
jq -e '.ordered > 0' "$TEST_TMP/phase-reorder.json" >/dev/null || fail "reorder ordered nothing: $(cat "$TEST_TMP/phase-reorder.json")"
check_inspect '.phase == "reordered" and .entries.valid > 0' "after reorder"
phase apply
jq -e '.applied > 0 and .entries.applied > 0' "$TEST_TMP/phase-apply.json" >/dev/null || fail "apply: $(cat "$TEST_TMP/phase-apply.json")"
sleep 0.5
phase deactivate
check_inspect '.phase == "idle" and .intake == "log" and .entries.live == 0 and .totals.applied == .totals.valid' "after deactivate"
end_load "runbook"
verify "runbook"

# --- 2. kill -9 while the buffer fills; a new worker carries on
phase prepare
phase activate
start_load 5 4000 $(( seed * 10 + 2 ))
sleep "0.$(( 500 + RANDOM % 400 ))"
kill_worker
start_worker "$config"
check_inspect '.phase == "active" and .intake == "buffer" and .entries.live > 0' "after restart"
grep -q "until the update's phases finish" "$TEST_TMP/worker.log" || fail "the worker did not say it resumed the buffer"
sleep 1
phase apply
phase deactivate
check_inspect '.phase == "idle" and .entries.live == 0' "restart: after deactivate"
end_load "kill while filling" errors-allowed
verify "kill while filling, apply through a new worker"

# --- 3. kill -9, then apply with no worker
phase prepare
phase activate
start_load 3 4000 $(( seed * 10 + 3 ))
sleep "0.$(( 500 + RANDOM % 400 ))"
kill_worker
end_load "kill, offline apply" errors-allowed
expect_exit 0 aiops phase apply --config "$config" --json
jq -e '.offline == true and .phase == "applied" and .applied > 0' "$TEST_TMP/out" >/dev/null || fail "offline apply: $(cat "$TEST_TMP/out")"
check_inspect '.phase == "applied" and .entries.valid == 0 and .entries.pending == 0' "after offline apply"
expect_exit 5 aiops phase deactivate --config "$config"
start_worker "$config"
phase deactivate
verify "kill, apply with no worker"

# --- 4. kill -9 during validate and during apply
for round in 1 2 3 4; do
  step=$([[ $(( round % 2 )) -eq 1 ]] && echo validate || echo apply)
  phase prepare
  phase activate
  start_load 3 6000 $(( seed * 10 + 3 + round ))
  sleep 1
  aiops phase "$step" --config "$config" >/dev/null 2>&1 &
  step_pid=$!
  sleep "0.0$(( RANDOM % 10 ))"
  kill_worker
  wait "$step_pid" 2>/dev/null || true
  start_worker "$config"
  # The new worker finishes a step its predecessor died in.
  for _ in $(seq 1 50); do
    inspect
    jq -e '.step_running == null' "$TEST_TMP/inspect.json" >/dev/null && break
    sleep 0.1
  done
  jq -e '.step_running == null' "$TEST_TMP/inspect.json" >/dev/null \
    || fail "round $round: the interrupted $step was not finished: $(jq -c . "$TEST_TMP/inspect.json")"
  end_load "kill during $step" errors-allowed
  phase "$step"
  phase apply
  phase deactivate
  verify "round $round: kill during $step"
done

stop_worker
segment=$(jq -r '.segment' "$TEST_TMP/inspect.json")
[[ ! -e $segment ]] || fail "the worker left an idle, empty segment behind at a clean stop"

# --- 5. a segment of another layout version is refused, by the worker and the tool
start_worker "$config"
kill_worker
[[ -e $segment ]] || fail "no segment $segment after kill -9"
printf '\x63\x00\x00\x00' | dd of="$segment" bs=1 seek=8 conv=notrunc status=none  # version = 99
expect_exit 3 "$AIOPS_BIN/aiops-worker" --config "$config"
expect_in "$TEST_TMP/err" "layout version 99"
expect_exit 3 aiops buffer inspect --config "$config"
expect_in "$TEST_TMP/err" "layout version 99"
expect_exit 0 aiops buffer remove --force --config "$config"
[[ ! -e $segment ]] || fail "buffer remove --force left $segment"
echo ok
