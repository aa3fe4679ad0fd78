#!/usr/bin/env bash
# Benchmark of `aiops forecast` against R's forecast::auto.arima (8.20).
#
# 1. N series (default 200) of 28 days at 1-hour steps with daily cycles
#    (share/aiops/traces/generate.py, series format, fixed seed). Both tools
#    hold out the last 24 points of each, choose and fit a model with period
#    24 on the rest, and forecast the 24 points: R with auto.arima defaults
#    (tests/bench/forecast_r.R), aiops with `--season 24 --backtest 24`. Each
#    run once on one core and once on all cores. Time: fitting and
#    forecasting only (R: its timer around auto.arima + forecast; aiops: the
#    backtest phase of its --json timing). Accuracy: mean MASE over the
#    series where both tools have one, and each tool against the seasonal
#    naive forecast.
# 2. A large trace: C clients (default 10,000) x 7 days at 1-minute steps
#    (series format): wall time and peak memory (GNU time) of
#    `aiops forecast --trace` with the default seasons (1d as Fourier terms).
#
# Usage: tests/bench/forecast.sh [SERIES] [BIG_CLIENTS]   (BIG_CLIENTS 0 skips part 2)
# Needs: python3, Rscript with the forecast package (r-base-core
# r-cran-forecast), jq, /usr/bin/time, and a built tree (build/bin/aiops).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
series=${1:-200}
big=${2:-10000}
aiops=$root/build/bin/aiops
work=$(mktemp -d "${TMPDIR:-/tmp}/aiops-forecast-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
cores=$(nproc)

echo "== $series series x 672 hourly points, period 24, holdout 24 (work dir $work)"
python3 "$root/share/aiops/traces/generate.py" --clients "$series" --days 28 --interval 1h --format series \
  --seed 42 --out "$work/series.csv"

Rscript "$root/tests/bench/forecast_r.R" --input "$work/series.csv" --period 24 --holdout 24 --cores 1 \
  --out "$work/r1.json" >&2
Rscript "$root/tests/bench/forecast_r.R" --input "$work/series.csv" --period 24 --holdout 24 --cores "$cores" \
  --out "$work/rn.json" >&2
"$aiops" forecast --trace "$work/series.csv" --season 24 --backtest 24 --jobs 1 --json >"$work/a1.json"
"$aiops" forecast --trace "$work/series.csv" --season 24 --backtest 24 --jobs "$cores" --json >"$work/an.json"

python3 - "$work" "$cores" <<'PY'
import json, sys
work, cores = sys.argv[1], sys.argv[2]
r1, rn = (json.load(open(f"{work}/{n}.json")) for n in ("r1", "rn"))
a1, an = (json.load(open(f"{work}/{n}.json")) for n in ("a1", "an"))
rt1, rtn = r1["seconds"], rn["seconds"]
at1, atn = a1["timing"]["backtest_seconds"], an["timing"]["backtest_seconds"]
print(f"fit+forecast time, 1 core:      R {rt1:8.2f} s   aiops {at1:7.2f} s   aiops is {rt1/at1:5.1f}x faster")
print(f"fit+forecast time, {cores} cores:     R {rtn:8.2f} s   aiops {atn:7.2f} s   aiops is {rtn/atn:5.1f}x faster")
r = {c["client"]: c for c in r1["clients"]}
a = {c["client"]: c for c in a1["clients"]}
both = [k for k in r if k in a and r[k]["mase"] is not None and a[k].get("mase") is not None]
mr = sum(r[k]["mase"] for k in both) / len(both)
ma = sum(a[k]["mase"] for k in both) / len(both)
ms = sum(r[k]["mase_snaive"] for k in both) / len(both)
print(f"mean MASE over {len(both)} series: R {mr:.4f}  aiops {ma:.4f}  (aiops/R = {ma/mr:.4f}; seasonal naive {ms:.4f})")
same = sum(1 for k in both if r[k]["model"].split(" ")[0] == a[k]["backtest"]["model"].split(" ")[0])
print(f"same ARIMA orders as R on {same} of {len(both)} series")
fb = sum(1 for k in a if a[k]["backtest"].get("model", "").startswith(("mean", "zero", "constant", "naive", "seasonal naive")))
print(f"aiops simple-model fallbacks: {fb}")
PY

if ((big > 0)); then
  echo "== $big clients x 7 days at 1-minute steps"
  python3 "$root/share/aiops/traces/generate.py" --clients "$big" --days 7 --interval 1m --format series \
    --seed 43 --out "$work/big.csv"
  ls -l "$work/big.csv" | awk '{printf "trace: %.2f GB\n", $5 / 1e9}'
  /usr/bin/time -v "$aiops" forecast --trace "$work/big.csv" --jobs "$cores" --json >"$work/big.json" 2>"$work/big.time"
  jq -r '"read \(.timing.read_seconds | floor) s, forecast \(.timing.forecast_seconds | floor) s, \(.clients | length) clients, \(.intervals) intervals"' "$work/big.json"
  grep -E "Elapsed|Maximum resident" "$work/big.time"
  jq -r '[.clients[].model | sub(" \\+ Fourier.*"; " + Fourier") | sub("\\(.*"; "")] | group_by(.) | map("\(.[0]): \(length)") | join(", ")' "$work/big.json"
fi
