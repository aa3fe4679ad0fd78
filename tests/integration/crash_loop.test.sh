#!/usr/bin/env bash
# The proof of "no acknowledged write is lost": while `aiops load --record`
# drives the worker, kill -9 it at a random moment, restart it (the load
# reconnects), and let `aiops verify` read back every recorded block.
# AIOPS_CRASH_SEED and AIOPS_CRASH_ITERATIONS override the seed and the
# number of rounds (10); the seed is printed so a failure can be replayed.
. "$(dirname "$0")/functions.sh"

seed=${AIOPS_CRASH_SEED:-$(( $(date +%s) % 100000 ))}
rounds=${AIOPS_CRASH_ITERATIONS:-10}
echo "crash loop: seed $seed, $rounds rounds"
RANDOM=$seed

inst="$TEST_TMP/inst"
init_instance "$inst"
config="$inst/aiops.toml"
record="$TEST_TMP/record"
start_worker "$config"

for round in $(seq 1 "$rounds"); do
  aiops load --config "$config" --clients 8 --duration 4 --read-ratio 0.2 --fua-ratio 0.3 --record "$record" \
    --seed $(( seed * 1000 + round )) --json >"$TEST_TMP/load.json" 2>"$TEST_TMP/load.err" &
  load_pid=$!
  kill_after_ms=$(( 300 + RANDOM % 2500 ))
  sleep "$(printf '%d.%03d' $(( kill_after_ms / 1000 )) $(( kill_after_ms % 1000 )))"
  kill_worker
  start_worker "$config"
  rc=0
  wait "$load_pid" || rc=$?
  [[ $rc -eq 0 ]] || { cat "$TEST_TMP/load.err" "$TEST_TMP/load.json" >&2; fail "round $round: aiops load exited with $rc"; }
  jq -e '.read_mismatches == 0 and .acked > 0' "$TEST_TMP/load.json" >/dev/null \
    || fail "round $round: load saw wrong data: $(cat "$TEST_TMP/load.json")"
  expect_exit 0 aiops verify --config "$config" --record "$record" --json
  jq -e '.lost == 0 and .unexpected == 0' "$TEST_TMP/out" >/dev/null \
    || fail "round $round (seed $seed, kill after ${kill_after_ms} ms): $(cat "$TEST_TMP/out")"
  echo "round $round: killed after ${kill_after_ms} ms; load: $(jq -c '{acked, disconnects, refused}' "$TEST_TMP/load.json");" \
       "verify: $(jq -c '{checked, lost, unexpected}' "$TEST_TMP/out")"
done
stop_worker
echo ok
