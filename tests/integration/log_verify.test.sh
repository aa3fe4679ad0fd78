#!/usr/bin/env bash
# `aiops log verify` finds a flipped byte and a truncated tail in a log
# written by `aiops bench log`, and `aiops log dump` lists its records.
. "$(dirname "$0")/functions.sh"

log="$TEST_TMP/log"
expect_exit 0 aiops bench log --dir "$log" --threads 4 --duration 1 --write-size 4096 --durable --segment-size 1MiB \
  --keep-segments 0 --json
writes=$(jq -r .writes "$TEST_TMP/out")
[[ $writes -gt 0 ]] || fail "bench log wrote nothing"
jq -e '.writes_per_s > 0 and .mb_per_s > 0 and .p99_us > 0' "$TEST_TMP/out" >/dev/null || fail "bench log JSON keys"

expect_exit 0 aiops log verify "$log"
expect_in "$TEST_TMP/out" "clean"
expect_exit 0 aiops log verify "$log" --json
jq -e --argjson n "$writes" '.ok == true and .records == $n and (.findings | length) == 0' "$TEST_TMP/out" >/dev/null \
  || fail "verify --json on a clean log: $(cat "$TEST_TMP/out")"

expect_exit 0 aiops log dump "$log" --json
jq -e --argjson n "$writes" '([.records[] | select(.marker | not)] | length) == $n and .records[0].sequence == 1
       and .records[-1].marker' "$TEST_TMP/out" >/dev/null \
  || fail "dump --json does not list every record and the closing marker"

# A flipped byte inside record 2 of the first segment: records are
# 48 + 4096 bytes after a 48-byte segment header, so record 2 starts at 4192.
first="$log/0000000000000001.wal"
cp "$first" "$TEST_TMP/first.bak"
byte=$(od -An -tu1 -j 5000 -N1 "$first" | tr -d ' ')
printf "$(printf '\\%03o' $((byte ^ 0xff)))" | dd of="$first" bs=1 seek=5000 conv=notrunc status=none
expect_exit 1 aiops log verify "$log" --json
jq -e '.ok == false and .findings[0].kind == "corrupt" and .findings[0].offset == 4192
       and .findings[0].segment == "0000000000000001.wal"' "$TEST_TMP/out" >/dev/null \
  || fail "flipped byte not reported as corruption at 4192: $(cat "$TEST_TMP/out")"
expect_exit 1 aiops log verify "$log"
expect_in "$TEST_TMP/out" "corrupt"
expect_in "$TEST_TMP/out" "0000000000000001.wal at byte 4192"
cp "$TEST_TMP/first.bak" "$first"

# A truncated tail: cut the newest segment inside its last data record.
expect_exit 0 aiops log dump "$log" --json
last=$(jq -c '[.records[] | select(.marker | not)][-1]' "$TEST_TMP/out")
newest="$log/$(printf '%016x.wal' "$(jq -r .segment <<<"$last")")"
truncate -s $(( $(jq -r .file_offset <<<"$last") + 48 + 100 )) "$newest"
expect_exit 1 aiops log verify "$log" --json
jq -e '.findings | length == 1 and .[0].kind == "torn-tail"' "$TEST_TMP/out" >/dev/null \
  || fail "truncated tail not reported as torn-tail: $(cat "$TEST_TMP/out")"
[[ $(jq -r .records "$TEST_TMP/out") -eq $((writes - 1)) ]] || fail "torn tail should lose exactly one record"
expect_exit 1 aiops log verify "$log"
expect_in "$TEST_TMP/out" "torn-tail"

# Not a log directory at all.
mkdir "$TEST_TMP/empty"
expect_exit 3 aiops log verify "$TEST_TMP/empty"
expect_in "$TEST_TMP/err" "no log segments"
expect_exit 3 aiops log verify "$TEST_TMP/missing"
echo "ok"
