#!/usr/bin/env bash
# The worker reloads the priority list file (forecast.priority_file) every
# forecast.reload_interval, without restarting:
#  1. no file: the SLA list is in force;
#  2. a file appears (atomic replace): its list is in force and in the buffer;
#  3. it is rewritten in place: the new ranks are in force;
#  4. a broken file: the error (FILE:LINE:COLUMN) is logged once and shown
#     in status, and the list in force stays;
#  5. the file is removed: back to the SLA list;
#  6. a live update rolled back: the old worker reloads again; a live
#     update done: the new worker reloads on its own.
# Through 1-5, the same worker process serves. Waits poll `aiops status`
# until a deadline; no step relies on a sleep being long enough.
. "$(dirname "$0")/functions.sh"

inst="$TEST_TMP/inst"
init_instance "$inst"
config="$inst/aiops.toml"
# `aiops config init` ends with the [forecast] table: the key lands in it.
grep -q '^\[forecast\]' "$config" || fail "no [forecast] table in $config"
echo 'reload_interval = "1s"' >>"$config"
expect_exit 0 aiops config check "$config" --json
list="$inst/data/state/priorities.toml"
jq -e --arg list "$list" '.config.forecast.reload_interval == "1s" and .config.forecast.priority_file == $list' "$TEST_TMP/out" \
  >/dev/null || fail "config check: $(jq -c .config.forecast "$TEST_TMP/out")"

status() { expect_exit 0 aiops status --config "$config" --json; cp "$TEST_TMP/out" "$TEST_TMP/status.json"; }
# wait_for JQ WHAT — polls the worker's status until JQ holds (20 s at most).
wait_for() {
  local deadline=$((SECONDS + 20))
  while :; do
    status
    jq -e "$1" "$TEST_TMP/status.json" >/dev/null && return 0
    ((SECONDS < deadline)) || fail "$2: $(jq -c .priorities "$TEST_TMP/status.json")"
    running "$WORKER_PID" || fail "$2: the worker exited"
    sleep 0.1
  done
}
ranking() { jq -c '[.priorities.clients[] | .name]' "$TEST_TMP/status.json"; }
same_worker() {
  jq -e --argjson pid "$WORKER_PID" '.pid == $pid' "$TEST_TMP/status.json" >/dev/null || fail "$1: another worker answers"
}
# write_list FILE SOURCE NAME... — a list ranking NAME... in that order,
# scores 100, 90, ...
write_list() {
  local file=$1 source=$2 score=100 rank=1 name
  shift 2
  {
    echo "generated = 2026-11-25T10:00:00Z"
    echo "source = \"$source\""
    for name in "$@"; do
      printf '\n[[client]]\nname = "%s"\nscore = %s\nrank = %s\npredicted_ops = %s.5\n' "$name" "$score" "$rank" "$score"
      printf 'interval = "1m"\nwindow = "15m"\nmodel = "ARIMA(0,1,1)"\napp_type = "database"\n'
      score=$((score - 10))
      rank=$((rank + 1))
    done
  } >"$file"
}

start_worker "$config"

# --- 1. no file: the SLA list (gold, silver, bronze; ties by id)
status
pid_seen=$(jq .pid "$TEST_TMP/status.json")
jq -e '.priorities.source == "sla" and .priorities.loaded_from == null and .priorities.in_buffer
       and .priorities.running and (.priorities | has("error") | not)' "$TEST_TMP/status.json" >/dev/null \
  || fail "no file: $(jq -c .priorities "$TEST_TMP/status.json")"
[[ $(ranking) == '["gold-1","gold-2","silver-1","silver-2","bronze-1","bronze-2"]' ]] || fail "SLA ranking: $(ranking)"
expect_in "$TEST_TMP/worker.log" "priority list: no file $list"

# --- 2. a file appears, written beside it and renamed into place
mkdir -p "$(dirname "$list")"
write_list "$list.new" forecast bronze-2 silver-1 gold-1
mv "$list.new" "$list"
wait_for '.priorities.loaded_from != null' "the new file was not loaded"
jq -e --arg list "$list" '.priorities.loaded_from == $list and .priorities.source == "forecast"
       and .priorities.generated == "2026-11-25T10:00:00Z" and .priorities.in_buffer
       and .priorities.clients[0].predicted_ops == 100.5 and .priorities.clients[0].window == "15m"
       and .priorities.clients[0].model == "ARIMA(0,1,1)" and .priorities.clients[0].app_type == "database"
       and .priorities.clients[3].score == 0' "$TEST_TMP/status.json" >/dev/null \
  || fail "loaded list: $(jq -c .priorities "$TEST_TMP/status.json")"
# The named clients first, the others after them with score 0, in SLA order.
[[ $(ranking) == '["bronze-2","silver-1","gold-1","gold-2","silver-2","bronze-1"]' ]] || fail "file ranking: $(ranking)"
expect_in "$TEST_TMP/worker.log" "priority list: put in force $list (source forecast, 6 clients, generated 2026-11-25T10:00:00Z)"
same_worker "loaded"

# --- 3. rewritten in place (same inode): the new ranks. The worker may
# read the file half written (and put that in force, or refuse it); the
# end of the writing changes the file again, so the whole is read next.
write_list "$list" forecast silver-2 bronze-1
wait_for '[.priorities.clients[] | .name] == ["silver-2","bronze-1","gold-1","gold-2","silver-1","bronze-2"]' \
  "the rewritten file was not loaded"
jq -e '.priorities.in_buffer and .priorities.changes >= 3' "$TEST_TMP/status.json" >/dev/null \
  || fail "rewritten: $(jq -c .priorities "$TEST_TMP/status.json")"
same_worker "rewritten"

# --- 4. a broken file: logged once with its line, the list in force stays
good_ranking=$(ranking)
{
  echo 'source = "forecast"'
  printf '\n[[client]]\nname = "gold-2"\nscore = -1\nrank = 1\n'
} >"$list.new"
mv "$list.new" "$list"
wait_for '.priorities | has("error")' "the broken file was not reported"
jq -e --arg list "$list" '.priorities.error | startswith($list + ":5:9: client[0].score: -1")' "$TEST_TMP/status.json" \
  >/dev/null || fail "error: $(jq -c .priorities "$TEST_TMP/status.json")"
[[ $(ranking) == "$good_ranking" ]] || fail "the list in force changed with a broken file: $(ranking)"
jq -e --arg list "$list" '.priorities.loaded_from == $list and .priorities.in_buffer' "$TEST_TMP/status.json" \
  >/dev/null || fail "broken: $(jq -c .priorities "$TEST_TMP/status.json")"
expect_in "$TEST_TMP/worker.log" "$list:5:9: client[0].score: -1.0 is below the minimum of 0.0; the list in force stays"
# Logged once per change, not at every reload: wait for three more looks
# (a shorter wait could only let a repeated line go unnoticed).
sleep 3.5
[[ $(grep -c "client\[0\].score: -1.0 is below" "$TEST_TMP/worker.log") == 1 ]] \
  || fail "the broken file was logged more than once: $(grep -c 'client\[0\].score' "$TEST_TMP/worker.log")"
same_worker "broken"

# --- 5. removed: the SLA list again, and the error is gone
rm "$list"
wait_for '.priorities.source == "sla"' "the SLA list did not come back"
jq -e '.priorities.loaded_from == null and .priorities.in_buffer and (.priorities | has("error") | not)' \
  "$TEST_TMP/status.json" >/dev/null || fail "removed: $(jq -c .priorities "$TEST_TMP/status.json")"
[[ $(ranking) == '["gold-1","gold-2","silver-1","silver-2","bronze-1","bronze-2"]' ]] || fail "SLA again: $(ranking)"
expect_in "$TEST_TMP/worker.log" "priority list: $list is gone; SLA weights rank the clients (source sla, 6 clients"
same_worker "removed"

[[ $(jq .pid "$TEST_TMP/status.json") == "$pid_seen" ]] || fail "the worker was restarted"

# --- 6. live updates: a rolled-back swap restarts the reloader of the old
# worker; after a swap, the new worker reloads on its own.
write_list "$list.new" forecast gold-2 bronze-1
mv "$list.new" "$list"
wait_for '.priorities.clients[0].name == "gold-2"' "the list before the update was not loaded"
bins="$TEST_TMP/bins"
mkdir -p "$bins"
printf '#!/bin/sh\nexit 3\n' >"$bins/exits"
chmod 755 "$bins/exits"
expect_exit 7 aiops update --config "$config" --binary "$bins/exits"
expect_in "$TEST_TMP/err" "pid $WORKER_PID serves on"
status
jq -e '.priorities.running and .priorities.in_buffer' "$TEST_TMP/status.json" >/dev/null \
  || fail "after a rollback: $(jq -c .priorities "$TEST_TMP/status.json")"
write_list "$list.new" forecast silver-1 gold-2
mv "$list.new" "$list"
wait_for '.priorities.clients[0].name == "silver-1"' "the reloader did not run again after the rollback"
same_worker "rolled back"

old=$WORKER_PID
expect_exit 0 aiops update --config "$config" --binary "$AIOPS_BIN/aiops-worker" --json
follow_worker "$config"
[[ $WORKER_PID != "$old" ]] || fail "the update left pid $old in place"
status
jq -e --arg list "$list" '.priorities.running and .priorities.loaded_from == $list and .priorities.in_buffer
       and .priorities.clients[0].name == "silver-1"' "$TEST_TMP/status.json" >/dev/null \
  || fail "the new worker: $(jq -c .priorities "$TEST_TMP/status.json")"
write_list "$list.new" forecast bronze-1 silver-1
mv "$list.new" "$list"
wait_for '.priorities.clients[0].name == "bronze-1"' "the new worker does not reload the file"
jq -e '.priorities.in_buffer' "$TEST_TMP/status.json" >/dev/null || fail "new worker: not in the buffer"
expect_in "$TEST_TMP/worker.log" "aiops-worker[$WORKER_PID] info: priority list: put in force $list"
stop_followed_worker
echo ok
