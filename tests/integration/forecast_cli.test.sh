#!/usr/bin/env bash
# aiops forecast from the command line: the bundled sample with a backtest
# and plots, each trace format, malformed lines, degenerate series, the
# priority list written against a configuration, and bad command lines.
. "$(dirname "$0")/functions.sh"
cd "$TEST_TMP"
sample=$AIOPS_SRC/share/aiops/traces/sample.csv

# --- the README's command: sample, backtest of one day, plots
expect_exit 0 aiops forecast --trace "$sample" --backtest 24 --plot plots --json
cp "$TEST_TMP/out" sample.json
[[ $(jq -r .format sample.json) == worker ]] || fail "sample: format $(jq -r .format sample.json)"
[[ $(jq -r .interval sample.json) == 1h ]] || fail "sample: interval $(jq -r .interval sample.json)"
[[ $(jq '.clients | length' sample.json) == 6 ]] || fail "sample: $(jq '.clients | length' sample.json) clients"
[[ $(jq '.intervals' sample.json) == 672 ]] || fail "sample: $(jq .intervals sample.json) intervals"
# Every client has a model, a forecast path and backtest figures; MASE and
# sMAPE are numbers where the seasonal naive scale is not 0.
jq -e '.clients | all(.model != null and (.forecast | length) >= 1 and .backtest.model != null
                      and (.smape | type) == "number" and (.backtest.actual | length) == 24)' sample.json >/dev/null ||
  fail "sample: a client lacks model, forecast or backtest: $(jq -c '.clients[] | {client, model, mase, smape}' sample.json)"
jq -e '.backtest.holdout == 24 and (.backtest.mean_mase | type) == "number"' sample.json >/dev/null ||
  fail "sample: backtest summary $(jq -c .backtest sample.json)"
jq -e '[.clients[].forecast[] | .lo95 <= .lo80 and .lo80 <= .mean and .mean <= .hi80 and .hi80 <= .hi95 and .lo95 >= 0] | all' \
  sample.json >/dev/null || fail "sample: prediction intervals out of order"
[[ $(ls plots/*.svg | wc -l) == 6 ]] || fail "sample: $(ls plots | wc -l) plots"
for f in plots/*.svg; do
  head -c 200 "$f" | grep -q "<svg" || fail "$f is not an SVG"
  grep -q "</svg>" "$f" || fail "$f is cut short"
done
# Without --json: a table by rank and the backtest table.
expect_exit 0 aiops forecast --trace "$sample" --backtest 24
expect_in "$TEST_TMP/out" "rank client"
expect_in "$TEST_TMP/out" "backtest: last 24 intervals held out"
expect_in "$TEST_TMP/out" "mean MASE"

# --- each format, detected
start=1793577600  # 2026-11-02T00:00:00Z
{
  echo "timestamp,client,op,offset,length,latency_us"
  for i in $(seq 0 59); do
    echo "$((start + i * 60)).250,db,read,$((i * 8192)),8192,120"
    echo "$((start + i * 60 + 30)),db,write,4096,4096"
  done
  echo "2026-11-02T01:00:10Z,web,W,0,65536"
} >native.csv
expect_exit 0 aiops forecast --trace native.csv --json
[[ $(jq -r .format "$TEST_TMP/out") == native ]] || fail "native.csv: format $(jq -r .format "$TEST_TMP/out")"
[[ $(jq -r .interval "$TEST_TMP/out") == 1m ]] || fail "native.csv: interval $(jq -r .interval "$TEST_TMP/out")"
[[ $(jq '.intervals' "$TEST_TMP/out") == 61 ]] || fail "native.csv: $(jq .intervals "$TEST_TMP/out") intervals"
{
  for i in $(seq 0 29); do echo "$((128330000000000000 + i * 600000000)),usr,0,Read,$((i * 4096)),4096,100"; done
} >msr.csv
expect_exit 0 aiops forecast --trace msr.csv --json
[[ $(jq -r .format "$TEST_TMP/out") == msr ]] || fail "msr.csv: format $(jq -r .format "$TEST_TMP/out")"
[[ $(jq -r '.clients[0].client' "$TEST_TMP/out") == usr_0 ]] || fail "msr.csv: client $(jq -r '.clients[0].client' "$TEST_TMP/out")"

# --- degenerate series fall back to a stated simple model
{
  echo "timestamp,client,value"
  for h in $(seq 0 99); do
    t=$((start + h * 3600))
    echo "$t,flat,42"
    echo "$t,idle,0"
    if ((h % 25 == 0)); then echo "$t,rare,7"; else echo "$t,rare,0"; fi
    ((h < 5)) && echo "$t,short,3"
  done
} >degenerate.csv
expect_exit 0 aiops forecast --trace degenerate.csv --json
out=$TEST_TMP/out
model_of() { jq -r --arg c "$1" '.clients[] | select(.client == $c) | "\(.model)|\(.fallback)|\(.reason)"' "$out"; }
[[ $(model_of flat) == "constant|true|every interval had 42" ]] || fail "flat: $(model_of flat)"
[[ $(model_of idle) == zero\|true\|* ]] || fail "idle: $(model_of idle)"
[[ $(model_of rare) == mean\|true\|sparse* ]] || fail "rare: $(model_of rare)"
# "short" has points only in the first 5 of 100 intervals: sparse as well.
[[ $(model_of short) == mean\|true\|* ]] || fail "short: $(model_of short)"
jq -e '.clients[] | select(.client == "flat") | .forecast[0].mean == 42' "$out" >/dev/null || fail "flat: forecast is not 42"

# --- malformed lines: exit 3, FILE:LINE:COLUMN
printf 'timestamp,client,op,offset,length\n1793577600,db,read,0,4096\n1793577660,db,erase,0,4096\n' >bad_op.csv
expect_exit 3 aiops forecast --trace bad_op.csv
expect_in "$TEST_TMP/err" "bad_op.csv:3:"
printf 'timestamp,client,value\n2026-11-02T00:00:00,db,1\n' >no_zone.csv
expect_exit 3 aiops forecast --trace no_zone.csv
expect_in "$TEST_TMP/err" "no_zone.csv:2:1:"
expect_exit 3 aiops forecast --trace /nonexistent/trace.csv
expect_in "$TEST_TMP/err" "/nonexistent/trace.csv"

# --- the priority list, against a configuration
init_instance inst
{
  echo "timestamp,client,value"
  for h in $(seq 0 239); do
    t=$((start + h * 3600))
    s=$(( (h % 24) < 12 ? h % 24 : 24 - h % 24 ))  # a daily triangle, 0..12
    echo "$t,gold-1,$((100 + 5 * s + h % 3))"
    echo "$t,silver-1,$((1000 + 30 * s + h % 5))"
    echo "$t,bronze-1,$((5000 + 200 * s + h % 7))"
    echo "$t,ghost,$((10 + h % 2))"
  done
} >clients.csv
expect_exit 2 aiops forecast --trace clients.csv --out prio.toml
expect_in "$TEST_TMP/err" "--out needs --config"
expect_exit 0 aiops forecast --trace clients.csv --config inst/aiops.toml --horizon 2h --out prio.toml --json
out=$TEST_TMP/out
[[ $(jq -r '[.priorities[0:3][].client] | join(",")' "$out") == "bronze-1,silver-1,gold-1" ]] ||
  fail "ranking: $(jq -c .priorities "$out")"
jq -e '.warnings | any(test("ghost"))' "$out" >/dev/null || fail "no warning for the unconfigured client: $(jq -c .warnings "$out")"
jq -e '.clients[] | select(.client == "gold-1") | .weight == 8 and .sla == "gold"' "$out" >/dev/null ||
  fail "gold-1: $(jq -c '.clients[] | select(.client == "gold-1") | {sla, weight}' "$out")"
expect_in prio.toml 'source = "forecast"'
expect_in prio.toml 'name = "bronze-1"'
expect_in prio.toml 'predicted_ops = '
expect_in prio.toml 'window = "2h"'
grep -q ghost prio.toml && fail "prio.toml lists a client the configuration does not have"
# What it wrote is a list the worker accepts: prepare-time validation is
# load_priority_list, which `aiops forecast` itself does not use; reading it
# back through a worker is priority_reload.test.sh's job. Here: 6 ranks.
[[ $(grep -c '^rank = ' prio.toml) == 6 ]] || fail "prio.toml has $(grep -c '^rank = ' prio.toml) ranks"

# --- bad command lines: exit 2
expect_exit 2 aiops forecast --trace clients.csv --horizon 1h --window 2026-12-01T00:00:00Z/1h
expect_exit 2 aiops forecast --trace clients.csv --window 2026-11-01T00:00:00Z/1h
expect_in "$TEST_TMP/err" "before the trace ends"
expect_exit 2 aiops forecast --trace clients.csv --window 2026-12-01T00:00:00/1h
expect_in "$TEST_TMP/err" "no zone"
# A step the trace cannot give is a mismatch of the input: exit 3.
expect_exit 3 aiops forecast --trace clients.csv --interval 30m
expect_in "$TEST_TMP/err" "shorter than the series trace's own step of 1h"
expect_exit 2 aiops forecast --trace clients.csv --format csv
# A malformed window is refused before the trace is even opened.
expect_exit 2 aiops forecast --trace /nonexistent/trace.csv --window tomorrow/1h
expect_in "$TEST_TMP/err" "--window"
expect_exit 0 aiops forecast --trace clients.csv --window 2026-11-12T02:00:00Z/30m --json
[[ $(jq -r .window.start "$TEST_TMP/out") == 2026-11-12T02:00:00Z ]] || fail "window: $(jq -c .window "$TEST_TMP/out")"
# A compact zone offset, and a window off the hour: the intervals it touches.
expect_exit 0 aiops forecast --trace clients.csv --window 2026-11-12T08:00:00+0530/1h --json
[[ $(jq -r '"\(.window.start) \(.window.end) \(.window.intervals)"' "$TEST_TMP/out") == "2026-11-12T02:00:00Z 2026-11-12T04:00:00Z 2" ]] ||
  fail "window off the hour: $(jq -c .window "$TEST_TMP/out")"
echo "ok"
