#!/usr/bin/env bash
# fio over NBD (4KiB random writes, iodepth 32, 2 jobs, crc32c verify)
# through three live updates: two `aiops update`, and one run step by step
# that holds writes in a small buffer until it is full, so the worker must
# hold fio's writes back (NBD has no retry hint) rather than fail them.
# fio sees no error and no reconnect, its verify passes during the run and
# again afterwards, on the worker the last update started.
. "$(dirname "$0")/functions.sh"
command -v fio >/dev/null || fail "fio is missing (share/aiops/setup.sh installs it)"

inst="$TEST_TMP/inst"
init_instance "$inst"
config="$inst/aiops.toml"
sed -i 's/^size = "64MiB"$/size = "8MiB"/' "$config"   # the buffer: full within a second of fio's writes
grep -q '^size = "8MiB"$' "$config" || fail "could not shrink the buffer in $config"
start_worker "$config"
addr=$(aiops status --config "$config" --json | jq -r '.listeners[] | select(.protocol == "nbd") | .address')
export NBD_URI=nbd://$addr/vol0 SIZE=32M RATE=1000
job=$AIOPS_SRC/share/aiops/fio/nbd-randwrite.fio

fio "$job" --output-format=json --output="$TEST_TMP/fio.json" >"$TEST_TMP/fio.out" 2>"$TEST_TMP/fio.err" &
fio_pid=$!
TEST_PIDS+=("$fio_pid")
sleep 1

# update N — one `aiops update`; the NBD connections move with it.
update() {
  local old=$WORKER_PID
  expect_exit 0 aiops update --binary "$AIOPS_BIN/aiops-worker" --config "$config" --json
  jq -e '.ok == true and .connections >= 2' "$TEST_TMP/out" >/dev/null || fail "update $1: $(cat "$TEST_TMP/out")"
  follow_worker "$config"
  echo "update $1: pid $old -> $WORKER_PID, $(jq .connections "$TEST_TMP/out") connections, paused $(jq .pause_ms "$TEST_TMP/out") ms"
}

update 1
sleep 1
# Update 2, step by step, holding writes in the 8MiB buffer for 2 s.
for step in prepare activate; do expect_exit 0 aiops phase "$step" --config "$config"; done
sleep 2
aiops status --config "$config" --json >"$TEST_TMP/held.json"
for step in flush validate reorder; do expect_exit 0 aiops phase "$step" --config "$config"; done
expect_exit 0 aiops phase swap --binary "$AIOPS_BIN/aiops-worker" --config "$config" --json
jq -e '.ok == true and .connections >= 2' "$TEST_TMP/out" >/dev/null || fail "update 2 swap: $(cat "$TEST_TMP/out")"
for step in apply deactivate; do expect_exit 0 aiops phase "$step" --config "$config"; done
follow_worker "$config"
echo "update 2 (held 2 s in an 8MiB buffer): now pid $WORKER_PID"
sleep 1
update 3

rc=0
wait "$fio_pid" || rc=$?
[[ $rc -eq 0 ]] || { cat "$TEST_TMP/fio.err" >&2; fail "fio exited with $rc"; }
jq -e '.jobs[0].error == 0 and .jobs[0].write.total_ios == 16384 and .jobs[0].read.total_ios == 16384' \
  "$TEST_TMP/fio.json" >/dev/null || fail "fio: $(jq -c '.jobs[0] | {error, w: .write.total_ios, r: .read.total_ios}' "$TEST_TMP/fio.json")"
grep -qi "error\|fail" "$TEST_TMP/fio.err" && fail "fio reported: $(cat "$TEST_TMP/fio.err")"
echo "fio: $(jq -c '.jobs[0] | {writes: .write.total_ios, verified: .read.total_ios, iops: .write.iops, p99_ms: (.write.clat_ns.percentile["99.000000"] / 1e6), max_ms: (.write.clat_ns.max / 1e6)}' "$TEST_TMP/fio.json")"

# The buffer did fill during the hold, and the worker held writes back.
jq -e '.buffer.bytes_free == 0 and .buffer.totals.refused_full > 0' "$TEST_TMP/held.json" >/dev/null \
  || fail "the buffer did not fill during the hold: $(jq -c .buffer "$TEST_TMP/held.json")"
echo "during the hold: $(jq -c '.buffer | {bytes_used, bytes_free, refused_full: .totals.refused_full}' "$TEST_TMP/held.json")"

expect_exit 0 fio "$job" --verify_only --output-format=json --output="$TEST_TMP/verify.json"
jq -e '.jobs[0].error == 0' "$TEST_TMP/verify.json" >/dev/null || fail "fio --verify_only: $(cat "$TEST_TMP/verify.json")"
grep -q "NBD client .* opened the export as client gold-1" "$TEST_TMP/worker.log" || fail "no NBD session in the worker log"
