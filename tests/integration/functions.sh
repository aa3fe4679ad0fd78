# Helpers shared by the process-level tests; each test sources this file.
# Tests get AIOPS_BIN (directory of the built programs) and AIOPS_SRC (the
# source tree) from CTest. Every test works in its own temporary directory,
# which is removed on exit together with any process it started.
set -euo pipefail

: "${AIOPS_BIN:?AIOPS_BIN must name the directory with the built programs}"
: "${AIOPS_SRC:?AIOPS_SRC must name the source tree}"

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/aiops-it-XXXXXX")
TEST_PIDS=()
TEST_CONFIGS=()  # instances whose shared-memory buffer is removed on exit

cleanup() {
  local pid config
  for pid in "${TEST_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  # A worker a live update started is not our child and may not be in
  # TEST_PIDS yet (the test failed right after the update): ask each
  # instance which pid serves it. Left running, it would keep CTest's
  # output pipe open and the test would hang until its timeout.
  for config in "${TEST_CONFIGS[@]}"; do
    pid=$(timeout 5 "$AIOPS_BIN/aiops" status --config "$config" --json 2>/dev/null | jq -r '.pid // empty' 2>/dev/null) || true
    [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null || true
  done
  for config in "${TEST_CONFIGS[@]}"; do
    "$AIOPS_BIN/aiops" buffer remove --force --config "$config" >/dev/null 2>&1 || true
  done
  rm -rf "$TEST_TMP"
}
trap cleanup EXIT

aiops() { "$AIOPS_BIN/aiops" "$@"; }

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_exit CODE COMMAND... — runs COMMAND, fails the test unless it exits
# with CODE. Its stdout is left in $TEST_TMP/out, its stderr in $TEST_TMP/err.
expect_exit() {
  local want=$1 got=0
  shift
  "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || got=$?
  if [[ $got != "$want" ]]; then
    echo "--- stdout" >&2; cat "$TEST_TMP/out" >&2
    echo "--- stderr" >&2; cat "$TEST_TMP/err" >&2
    fail "'$*' exited with $got, expected $want"
  fi
}

# expect_in FILE TEXT — FILE contains TEXT (fixed string).
expect_in() {
  grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 does not contain '$2'"; }
}

# init_instance DIR — `aiops config init` into DIR (quietly).
init_instance() {
  aiops config init --dir "$1" >/dev/null || fail "aiops config init --dir $1"
  TEST_CONFIGS+=("$1/aiops.toml")
}

# start_worker CONFIG — starts aiops-worker in the background (its stderr in
# $TEST_TMP/worker.log, appended), waits until `aiops status` answers, and
# sets WORKER_PID. The worker is killed when the test exits.
start_worker() {
  local config=$1 i
  "$AIOPS_BIN/aiops-worker" --config "$config" 2>>"$TEST_TMP/worker.log" &
  WORKER_PID=$!
  TEST_PIDS+=("$WORKER_PID")
  for i in $(seq 1 100); do
    if aiops status --config "$config" --json >/dev/null 2>&1; then return 0; fi
    kill -0 "$WORKER_PID" 2>/dev/null || { cat "$TEST_TMP/worker.log" >&2; fail "aiops-worker exited during start-up"; }
    sleep 0.1
  done
  cat "$TEST_TMP/worker.log" >&2
  fail "aiops-worker did not become ready within 10 s"
}

# stop_worker — SIGTERM, then waits for the worker to exit; fails unless it
# exits with status 0.
stop_worker() {
  local rc=0
  kill -TERM "$WORKER_PID"
  wait "$WORKER_PID" || rc=$?
  [[ $rc -eq 0 ]] || { tail -20 "$TEST_TMP/worker.log" >&2; fail "aiops-worker exited with $rc after SIGTERM"; }
}

# kill_worker — kill -9, and reap it (or, for a worker that a live update
# started, which is not our child, wait until it is gone).
kill_worker() {
  kill -9 "$WORKER_PID" 2>/dev/null || true
  wait "$WORKER_PID" 2>/dev/null || true
  while running "$WORKER_PID"; do sleep 0.05; done
}

# running PID — the process exists and is not a zombie (a worker that
# handed over is not reaped when its parent, the worker before it, is gone
# and nothing adopts orphans).
running() {
  kill -0 "$1" 2>/dev/null || return 1
  [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

# follow_worker CONFIG — after a live update: WORKER_PID becomes the pid
# `aiops status` reports (the new binary), killed when the test exits.
follow_worker() {
  WORKER_PID=$(aiops status --config "$1" --json | jq -r .pid)
  TEST_PIDS+=("$WORKER_PID")
}

# stop_followed_worker — SIGTERM to a worker that is not our child; waits
# until it is gone (at most 30 s).
stop_followed_worker() {
  local i
  kill -TERM "$WORKER_PID"
  for i in $(seq 1 300); do running "$WORKER_PID" || return 0; sleep 0.1; done
  fail "aiops-worker $WORKER_PID still runs 30 s after SIGTERM"
}
