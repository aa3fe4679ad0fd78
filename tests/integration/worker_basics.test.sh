#!/usr/bin/env bash
# A real worker on loopback: it starts from `aiops config init`, reports its
# state, serves writes and reads from many clients (each reading back its
# own writes), keeps every acknowledged write across an orderly restart, and
# stops cleanly on SIGTERM.
. "$(dirname "$0")/functions.sh"

inst="$TEST_TMP/inst"
init_instance "$inst"
start_worker "$inst/aiops.toml"

expect_exit 0 aiops status --config "$inst/aiops.toml" --json
jq -e --argjson pid "$WORKER_PID" '.pid == $pid and (.version | length) > 0 and .listeners[0].protocol == "native"
       and (.listeners[0].address | test("^127\\.0\\.0\\.1:[0-9]+$")) and (.clients | length) == 6
       and .log.state == "ok"' "$TEST_TMP/out" >/dev/null || fail "status --json: $(cat "$TEST_TMP/out")"
[[ $(stat -c %a "$inst/control.sock") == 600 ]] || fail "control socket is not mode 0600"

# Many clients, half reads of their own blocks: every read returns the write
# the client last had acknowledged.
expect_exit 0 aiops load --config "$inst/aiops.toml" --clients 24 --duration 3 --read-ratio 0.5 --fua-ratio 0.2 \
  --record "$TEST_TMP/record" --json
jq -e '.acked > 0 and .reads > 0 and .errors == 0 and .disconnects == 0 and .refused == 0
       and .read_mismatches == 0 and (.classes | keys) == ["bronze", "gold", "silver"]
       and .classes.gold.p99_us > 0' "$TEST_TMP/out" >/dev/null || fail "load: $(cat "$TEST_TMP/out")"
acked=$(jq .acked "$TEST_TMP/out")

expect_exit 0 aiops status --config "$inst/aiops.toml" --json
jq -e --argjson acked "$acked" '([.clients[].writes] | add) == $acked' "$TEST_TMP/out" >/dev/null \
  || fail "status counters do not add up to the acknowledged writes"

expect_exit 0 aiops verify --config "$inst/aiops.toml" --record "$TEST_TMP/record" --json
jq -e '.lost == 0 and .unexpected == 0 and .checked > 0' "$TEST_TMP/out" >/dev/null || fail "verify: $(cat "$TEST_TMP/out")"

# An orderly restart keeps the data.
stop_worker
expect_in "$TEST_TMP/worker.log" "SIGTERM received"
start_worker "$inst/aiops.toml"
expect_exit 0 aiops verify --config "$inst/aiops.toml" --record "$TEST_TMP/record" --json
jq -e '.lost == 0 and .unexpected == 0' "$TEST_TMP/out" >/dev/null || fail "verify after restart: $(cat "$TEST_TMP/out")"
stop_worker

# No worker: status and verify say so, with exit 5.
expect_exit 5 aiops status --config "$inst/aiops.toml"
expect_in "$TEST_TMP/err" "no worker is running"
expect_exit 5 aiops verify --config "$inst/aiops.toml" --record "$TEST_TMP/record"
echo ok
