#!/usr/bin/env bash
# The worker's edges seen from outside: the tools refuse a credentials file
# whose token does not match the configuration; SIGTERM under load drains
# and exits 0 with nothing acknowledged lost; the I/O history lands in
# trace/. (Bad tokens on the wire: tests/unit/worker/bad_input_test.cpp.)
. "$(dirname "$0")/functions.sh"

inst="$TEST_TMP/inst"
init_instance "$inst"
config="$inst/aiops.toml"
# A one-second history interval, so the test sees it.
sed -i 's/^trace_interval = .*/trace_interval = "1s"/' "$config"
grep -q '^trace_interval = "1s"' "$config" || sed -i 's/^\[worker\]$/[worker]\ntrace_interval = "1s"/' "$config"
expect_exit 0 aiops config check "$config"
start_worker "$config"

# A wrong token: the load does not even start.
cp "$inst/credentials.toml" "$TEST_TMP/credentials.good"
sed -i '0,/^token = .*/s//token = "0000000000000000000000000000000000000000000000000000000000000000"/' "$inst/credentials.toml"
expect_exit 3 aiops load --config "$config" --clients 1 --duration 1
expect_in "$TEST_TMP/err" "does not match its token_sha256"
cp "$TEST_TMP/credentials.good" "$inst/credentials.toml"
chmod 600 "$inst/credentials.toml"

# SIGTERM while 8 clients write: the worker finishes what it accepted and
# exits 0; after a restart every acknowledged write is there.
aiops load --config "$config" --clients 8 --duration 4 --record "$TEST_TMP/record" --json >"$TEST_TMP/load.json" &
load_pid=$!
sleep 1.5
stop_worker
expect_in "$TEST_TMP/worker.log" "SIGTERM received"
start_worker "$config"
wait "$load_pid" || fail "aiops load failed across the restart: $(cat "$TEST_TMP/load.json")"
jq -e '.acked > 0 and .read_mismatches == 0' "$TEST_TMP/load.json" >/dev/null || fail "load: $(cat "$TEST_TMP/load.json")"
expect_exit 0 aiops verify --config "$config" --record "$TEST_TMP/record" --json
jq -e '.lost == 0 and .unexpected == 0' "$TEST_TMP/out" >/dev/null || fail "verify: $(cat "$TEST_TMP/out")"
stop_worker

# The I/O history: a header line and lines of per-client counts.
trace=$(ls "$inst"/data/trace/*.csv 2>/dev/null | head -n 1)
[[ -n $trace ]] || fail "no I/O history in $inst/data/trace"
head -n 1 "$trace" | grep -qx "timestamp,interval_s,client,reads,writes,read_bytes,write_bytes,sequential" || fail "trace header: $(head -n 1 "$trace")"
awk -F, 'NR > 1 && $5 > 0 && $7 == $5 * 4096 && $2 > 0 {ok = 1} END {exit !ok}' "$trace" || fail "no per-client write counts in $trace"
echo ok
