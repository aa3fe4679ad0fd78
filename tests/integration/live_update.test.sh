#!/usr/bin/env bash
# aiops update in migrate mode, ten times in a row under recorded load with
# FUA writes, FLUSH-free closed-loop clients: no refused connect, no
# disconnect, no error, and `aiops verify` finds nothing lost. Then every
# rollback cause: the command fails with exit 7 and its reason, the old pid
# serves on with the buffer drained, nothing is lost; and a second update
# while one runs is refused (exit 6).
. "$(dirname "$0")/functions.sh"

inst="$TEST_TMP/inst"
init_instance "$inst"
config="$inst/aiops.toml"
record="$TEST_TMP/record"
worker="$AIOPS_BIN/aiops-worker"
start_worker "$config"

# ---- ten live updates under load
aiops load --config "$config" --clients 8 --duration 30 --read-ratio 0.2 --fua-ratio 0.1 --record "$record" \
  --json >"$TEST_TMP/load.json" 2>"$TEST_TMP/load.err" &
load_pid=$!
sleep 1
for i in $(seq 1 10); do
  old=$WORKER_PID
  expect_exit 0 aiops update --binary "$worker" --config "$config" --json
  jq -e --argjson old "$old" '.ok == true and .old_pid == $old and .new_pid != $old and .connections >= 8
      and ([.phases[].name] == ["prepare","activate","flush","validate","reorder","swap","apply","deactivate"])
      and all(.phases[]; .ms >= 0)' "$TEST_TMP/out" >/dev/null || fail "update $i: $(cat "$TEST_TMP/out")"
  follow_worker "$config"
  [[ $WORKER_PID == $(jq -r .new_pid "$TEST_TMP/out") ]] || fail "update $i: status shows pid $WORKER_PID"
  running "$old" && { sleep 1; running "$old" && fail "update $i: old pid $old still runs"; }
  echo "update $i: pid $old -> $WORKER_PID, clients paused $(jq .pause_ms "$TEST_TMP/out") ms"
  sleep 0.5
done
rc=0
wait "$load_pid" || rc=$?
[[ $rc -eq 0 ]] || { cat "$TEST_TMP/load.err" >&2; fail "aiops load exited with $rc"; }
jq -e '.refused == 0 and .disconnects == 0 and .errors == 0 and .read_mismatches == 0 and .acked > 0' \
  "$TEST_TMP/load.json" >/dev/null || fail "load through ten updates: $(cat "$TEST_TMP/load.json")"
echo "load: $(jq -c '{acked, reads, errors, disconnects, refused}' "$TEST_TMP/load.json")"
expect_exit 0 aiops verify --config "$config" --record "$record" --json
jq -e '.lost == 0 and .unexpected == 0' "$TEST_TMP/out" >/dev/null || fail "verify: $(cat "$TEST_TMP/out")"

# ---- rollback causes, each under load
bins="$TEST_TMP/bins"
mkdir -p "$bins"
printf '#!/bin/sh\nexit 3\n' >"$bins/exits"
printf '#!/bin/sh\nexec sleep 60\n' >"$bins/silent"
chmod 755 "$bins/exits" "$bins/silent"
cp "$worker" "$bins/not-executable" && chmod 644 "$bins/not-executable"
cp "$worker" "$bins/world-writable" && chmod 757 "$bins/world-writable"

# rollback NAME REASON ARGS... — the update fails with exit 7 and REASON;
# the same pid serves, with the buffer idle and writes going to the log.
rollback() {
  local name=$1 reason=$2
  shift 2
  local before=$WORKER_PID
  expect_exit 7 aiops update --config "$config" "$@"
  expect_in "$TEST_TMP/err" "$reason"
  expect_in "$TEST_TMP/err" "pid $before serves on"
  aiops status --config "$config" --json >"$TEST_TMP/status.json"
  jq -e --argjson pid "$before" '.pid == $pid and .buffer.phase == "idle" and .buffer.intake == "log"' \
    "$TEST_TMP/status.json" >/dev/null || fail "after $name: $(jq -c '{pid, buffer}' "$TEST_TMP/status.json")"
  echo "rollback ($name): $(cat "$TEST_TMP/err")"
}

aiops load --config "$config" --clients 4 --duration 20 --fua-ratio 0.1 --record "$record" \
  --json >"$TEST_TMP/load.json" 2>"$TEST_TMP/load.err" &
load_pid=$!
sleep 0.5
rollback missing "does not exist" --binary "$bins/missing"
rollback not-executable "is not executable" --binary "$bins/not-executable"
rollback world-writable "is writable by others" --binary "$bins/world-writable"
rollback checksum "fails its checksum" --binary "$worker" --sha256 "$(printf '0%.0s' $(seq 1 64))"
rollback exits "exited with status 3 before it reported ready" --binary "$bins/exits"
rollback timeout "did not report ready within the timeout" --binary "$bins/silent" --timeout 1

# An incompatible layout: the configuration on disk asks for another buffer
# size than the segment the running worker has.
cp "$config" "$TEST_TMP/config.saved"
sed -i -E '/^\[buffer\]/,/^\[/ s/^size = .*/size = "48MiB"/' "$config"
grep -q '^size = "48MiB"' "$config" || fail "could not change [buffer] size in $config"
rollback layout "[buffer] asks for" --binary "$worker"
cp "$TEST_TMP/config.saved" "$config"

# One update at a time.
aiops update --binary "$bins/silent" --timeout 4 --config "$config" >"$TEST_TMP/first.out" 2>&1 &
first=$!
sleep 1
expect_exit 6 aiops update --binary "$worker" --config "$config"
expect_in "$TEST_TMP/err" "another aiops update is running"
wait "$first" || true
rc=0
wait "$load_pid" || rc=$?
[[ $rc -eq 0 ]] || { cat "$TEST_TMP/load.err" >&2; fail "aiops load exited with $rc"; }
jq -e '.refused == 0 and .disconnects == 0 and .errors == 0 and .read_mismatches == 0' "$TEST_TMP/load.json" \
  >/dev/null || fail "load through the rollbacks: $(cat "$TEST_TMP/load.json")"
expect_exit 0 aiops verify --config "$config" --record "$record" --json
jq -e '.lost == 0 and .unexpected == 0' "$TEST_TMP/out" >/dev/null || fail "verify: $(cat "$TEST_TMP/out")"
echo "verify: $(jq -c '{checked, lost, unexpected}' "$TEST_TMP/out")"
stop_followed_worker
echo ok
