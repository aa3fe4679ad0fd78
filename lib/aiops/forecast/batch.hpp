#pragma once
// Forecasting every client of a trace: for each, the forecast of its
// operations (and bytes, when the trace has them) over the window, and, when
// asked, a backtest that holds out the last N intervals, forecasts them from
// the rest and scores the forecast against what happened (MASE and sMAPE,
// next to the seasonal naive forecast's).
//
// Clients are independent; `jobs` threads take them one at a time, so a
// slow client does not hold up a whole share. All backtests run first, then
// all window forecasts, and each phase is timed on its own (the backtest
// phase is the work R's auto.arima + forecast does in the benchmark).
//
// An exception from a client's forecast (an internal error) is rethrown by
// forecast_all once all threads have ended.
//
// Thread-safety: forecast_all may be called from any thread; `progress` is
// called from the worker threads, serialised by a mutex.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aiops/forecast/client_forecast.hpp"
#include "aiops/forecast/forecaster.hpp"
#include "aiops/forecast/series.hpp"

namespace aiops::forecast {

struct BatchOptions {
  ForecastPlan plan;          // seasons, horizon and window of the forecast
  std::size_t backtest = 0;   // intervals held out; 0 = no backtest
  unsigned jobs = 0;          // threads; 0 = all cores
  // (clients done, clients) over both phases, about every 1% and at the end.
  std::function<void(std::size_t done, std::size_t total)> progress;
};

struct Backtest {
  bool done = false;
  std::string skipped;                 // why not, when !done
  std::size_t period = 1;              // season used for MASE scaling
  SeriesForecast forecast;             // of the held-out intervals
  std::vector<double> actual;          // the held-out intervals
  std::optional<double> mase, smape, mase_snaive, smape_snaive;
};

struct ClientResult {
  std::string client;
  SeriesForecast ops;
  std::optional<SeriesForecast> bytes;  // when the trace has bytes
  Backtest backtest;
  ClientForecast summary;               // window totals, model, mix: the input of scoring
};

struct BatchTiming {
  double backtest_seconds = 0;
  double forecast_seconds = 0;
};

[[nodiscard]] std::vector<ClientResult> forecast_all(const SeriesSet& set, const BatchOptions& options,
                                                     BatchTiming* timing = nullptr);

}  // namespace aiops::forecast
