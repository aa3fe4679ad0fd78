#pragma once
// One series' forecast: which model, its path with 80% and 95% prediction
// intervals, and the totals over the forecast window.
//
// Model choice, in order:
//   - Degenerate histories get a stated simple model instead of ARIMA
//     (`model`, with the why in `reason`): fewer than `min_points` values ->
//     "mean"; all zero -> "zero"; constant -> "constant"; more than 90% zeros
//     -> "mean", with independent errors of the history's spread; values
//     that are not finite -> "zero".
//   - Cycles come from `seasons` (in intervals). A cycle needs two full
//     repetitions in the history to be used. The shortest usable cycle of at
//     most `max_seasonal_period` intervals is a seasonal ARIMA period (with
//     D chosen by the seasonal-strength test); the other cycles become
//     Fourier regressors. Their harmonics K are chosen per cycle by AICc of
//     a least-squares fit of the series on the terms; the terms are then
//     regressed out and auto_arima models what remains, so the order search
//     works on a few ARMA parameters rather than dozens of regression ones.
//     When the cycles explain the history exactly, the regression itself is
//     the model.
//   - If no ARIMA model can be fitted, the seasonal naive forecast (naive
//     without a cycle) is used and the reason stated.
// The history used for fitting is at most the last `max_points` values
// (older load says little about the next window and costs time); cycles
// longer than half of that are not used.
// Forecasts of load are not negative: the mean and the interval ends are
// clipped at 0, and the window total is the sum of the clipped means.
//
// Thread-safety: no shared state; series may be forecast in parallel.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "aiops/forecast/client_forecast.hpp"

namespace aiops::forecast {

struct ForecastPlan {
  std::vector<std::size_t> seasons;     // cycle lengths in intervals (e.g. 1440 and 10080 for 1m)
  std::size_t horizon = 15;             // steps forecast after the history
  std::size_t window_start = 0;         // window = steps [window_start, horizon) of the forecast
  std::size_t max_points = 4096;        // history used for fitting
  std::size_t max_seasonal_period = 52; // longer cycles become Fourier terms
  std::size_t min_points = 16;          // fewer: "too short"
  int max_harmonics = 10;               // per Fourier cycle
};

struct SeriesForecast {
  std::string model;
  bool fallback = false;
  std::string reason;                // why a simple model, when fallback
  std::size_t period = 1;            // seasonal ARIMA period used (1 = none)
  std::vector<double> mean, lo80, hi80, lo95, hi95;  // horizon values
  WindowTotal total;                 // over the window
};

[[nodiscard]] SeriesForecast forecast_series(std::span<const double> history, const ForecastPlan& plan);

/// The seasonal period used for MASE scaling: the shortest usable cycle, 1
/// when there is none.
[[nodiscard]] std::size_t scaling_period(std::size_t n, const ForecastPlan& plan);

}  // namespace aiops::forecast
