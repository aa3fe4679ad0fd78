#!/usr/bin/env bash
# `aiops demo`, the README's main job: a scratch worker, paced gold and
# silver load and a bronze flood, a live update that holds writes in the
# buffer, verify. It must end clean (nothing refused for good, nothing
# lost) and its report must carry every class in every window, with the
# scheduler's order of refusal: gold is never refused more than bronze.
. "$(dirname "$0")/functions.sh"

expect_exit 0 aiops demo --seconds 2 --json
out=$TEST_TMP/out
jq -e '.ok == true and .lost == 0 and .errors == 0 and .disconnects == 0 and .refused == 0
       and .unexpected == 0 and .read_mismatches == 0 and .checked > 0' "$out" >/dev/null \
  || fail "demo did not end clean: $(jq -c 'del(.update, .classes)' "$out")"
jq -e '[.classes[] | "\(.sla)/\(.window)"] | sort ==
       ["bronze/after","bronze/before","bronze/during","gold/after","gold/before","gold/during",
        "silver/after","silver/before","silver/during"]' "$out" >/dev/null \
  || fail "demo rows are not every class x window: $(jq -c '[.classes[] | [.sla, .window]]' "$out")"
jq -e '.classes | all(.ops > 0)' "$out" >/dev/null || fail "a class made no progress in a window: $(jq -c .classes "$out")"
jq -e '.retry | keys == ["bronze","gold","silver"] and all(.[]; .first_attempts > 0)' "$out" >/dev/null \
  || fail "demo retry table: $(jq -c .retry "$out")"
jq -e '.retry.gold.refusals <= .retry.bronze.refusals' "$out" >/dev/null \
  || fail "gold was refused more often than bronze: $(jq -c .retry "$out")"
jq -e '.update.phases | map(.name) | index("activate") != null' "$out" >/dev/null || fail "no activate step in the update"
