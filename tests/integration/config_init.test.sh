#!/usr/bin/env bash
# `aiops config init`: writes an instance that `aiops config check` accepts,
# with a private credentials file; refuses to overwrite it (exit 3) unless
# --force, which gives new tokens; refuses a directory too long for the
# control socket and creates nothing.
. "$(dirname "$0")/functions.sh"

inst="$TEST_TMP/inst"
expect_exit 0 aiops config init --dir "$inst" --json
jq -e --arg dir "$inst" '.ok == true
    and .config == "\($dir)/aiops.toml" and .credentials == "\($dir)/credentials.toml"
    and .control_socket == "\($dir)/control.sock"
    and (.listener | test("^127\\.0\\.0\\.1:[1-9][0-9]*$"))
    and .clients == ["gold-1", "gold-2", "silver-1", "silver-2", "bronze-1", "bronze-2"]
    and .volumes == ["vol0", "vol1"]' "$TEST_TMP/out" >/dev/null || fail "config init --json: $(cat "$TEST_TMP/out")"
listener=$(jq -r .listener "$TEST_TMP/out")

[[ $(stat -c %a "$inst") == 700 ]] || fail "instance directory has mode $(stat -c %a "$inst"), expected 700"
[[ $(stat -c %a "$inst/credentials.toml") == 600 ]] \
  || fail "credentials.toml has mode $(stat -c %a "$inst/credentials.toml"), expected 600"
[[ $(grep -c '^token = "[0-9a-f]\{64\}"$' "$inst/credentials.toml") == 6 ]] || fail "expected six tokens"

expect_exit 0 aiops config check "$inst/aiops.toml" --json
jq -e --arg dir "$inst" --arg listener "$listener" '.ok == true
    and .config.worker.name == "inst" and .config.worker.data_dir == "\($dir)/data"
    and .config.worker.credentials_file == "\($dir)/credentials.toml"
    and .config.listener[0].address == $listener
    and (.config.client | length) == 6 and (.config.volume | length) == 2' "$TEST_TMP/out" >/dev/null \
  || fail "config check of the written instance: $(cat "$TEST_TMP/out")"

# Each token in credentials.toml hashes to its client's token_sha256.
token=$(awk '/^name = "gold-1"/ {getline; print}' "$inst/credentials.toml" | cut -d'"' -f2)
hash=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
expect_in "$inst/aiops.toml" "token_sha256 = \"$hash\""

# A second init is refused and leaves the instance as it was.
before=$(cat "$inst/credentials.toml")
expect_exit 3 aiops config init --dir "$inst"
expect_in "$TEST_TMP/err" "$inst/aiops.toml already exists"
expect_in "$TEST_TMP/err" "--force"
[[ $(cat "$inst/credentials.toml") == "$before" ]] || fail "a refused init changed credentials.toml"
expect_exit 3 aiops config init --dir "$inst" --json
jq -e '.ok == false and .exit_code == 3 and .error.code == "already_exists"' "$TEST_TMP/out" >/dev/null \
  || fail "refused config init --json: $(cat "$TEST_TMP/out")"

# --force writes a new instance with new tokens.
expect_exit 0 aiops config init --dir "$inst" --force
expect_in "$TEST_TMP/out" "wrote $inst/aiops.toml and $inst/credentials.toml (mode 0600)"
expect_in "$TEST_TMP/out" "aiops-worker --config $inst/aiops.toml"
[[ $(cat "$inst/credentials.toml") != "$before" ]] || fail "--force kept the old tokens"
expect_exit 0 aiops config check "$inst/aiops.toml"

# The instance still works after the directory is moved.
mv "$inst" "$TEST_TMP/moved"
expect_exit 0 aiops config check "$TEST_TMP/moved/aiops.toml"
expect_in "$TEST_TMP/out" "control_socket = \"$TEST_TMP/moved/control.sock\""

long="$TEST_TMP/$(printf 'd%.0s' {1..110})"
expect_exit 3 aiops config init --dir "$long"
expect_in "$TEST_TMP/err" "at most 107"
[[ ! -e $long ]] || fail "a refused init created $long"

expect_exit 2 aiops config init
echo "ok"
