#!/usr/bin/env bash
# `aiops config check`: the default configuration is valid; a broken file is
# refused with FILE:LINE:COLUMN, the key and exit status 3; --json carries
# the same in machine-readable form.
. "$(dirname "$0")/functions.sh"

expect_exit 0 aiops config check "$AIOPS_SRC/share/aiops/aiops.toml"
expect_in "$TEST_TMP/out" "aiops.toml: ok"
expect_in "$TEST_TMP/out" 'segment_size = "64MiB"'

expect_exit 0 aiops config check "$AIOPS_SRC/share/aiops/aiops.toml" --json
jq -e '.ok == true and .config.log.segment_size == "64MiB" and (.config.volume | length) >= 1' "$TEST_TMP/out" >/dev/null \
  || fail "config check --json: $(cat "$TEST_TMP/out")"

cat >"$TEST_TMP/bad.toml" <<'TOML'
[worker]
data_dir = "data"

[log]
segment_size = "512KiB"

[[volume]]
name = "vol0"
id = 1
size = "1GiB"
TOML
expect_exit 3 aiops config check "$TEST_TMP/bad.toml"
expect_in "$TEST_TMP/err" "bad.toml:5:16: log.segment_size:"
[[ $(wc -l <"$TEST_TMP/err") -eq 1 ]] || fail "expected one error line, got: $(cat "$TEST_TMP/err")"

expect_exit 3 aiops config check "$TEST_TMP/bad.toml" --json
jq -e '.ok == false and .error.line == 5 and .error.column == 16 and .error.key == "log.segment_size"
       and .exit_code == 3' "$TEST_TMP/out" >/dev/null || fail "config check --json on error: $(cat "$TEST_TMP/out")"

expect_exit 3 aiops config check "$TEST_TMP/missing.toml"
expect_in "$TEST_TMP/err" "missing.toml"
expect_exit 2 aiops config check
echo "ok"
