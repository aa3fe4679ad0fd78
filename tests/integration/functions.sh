# Helpers shared by the process-level tests; each test sources this file.
# Tests get AIOPS_BIN (directory of the built programs) and AIOPS_SRC (the
# source tree) from CTest. Every test works in its own temporary directory,
# which is removed on exit together with any process it started.
set -euo pipefail

: "${AIOPS_BIN:?AIOPS_BIN must name the directory with the built programs}"
: "${AIOPS_SRC:?AIOPS_SRC must name the source tree}"

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/aiops-it-XXXXXX")
TEST_PIDS=()

cleanup() {
  local pid
  for pid in "${TEST_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
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
