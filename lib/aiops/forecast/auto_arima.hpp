#pragma once
// Automatic ARIMA order selection in the Hyndman–Khandakar way, as R's
// forecast::auto.arima (8.20) does it with its defaults, so that on the same
// series it picks the same model:
//   1. D (seasonal differences, at most 1) from the seasonal strength of an
//      STL decomposition (unit_root.hpp), only for series longer than two
//      seasons; with regressors, on the residuals of a regression on them.
//   2. d (at most 2) by repeated KPSS tests at the 5% level.
//   3. A stepwise search on AICc: four starting models, then repeatedly the
//      neighbours of the best so far (each of p, q, P, Q one up or down, the
//      pairs moved together, the constant on or off) until none improves or
//      94 models were tried. Orders are bounded by 5 (2 seasonal) and by a
//      third of the series length.
//   4. A model is rejected when a root of its AR or MA polynomial lies within
//      1.01 of the unit circle or its coefficient covariance is not positive.
//   5. For long series (more than 150 points) or long periods (more than 12)
//      the search ranks models by the conditional-sum-of-squares likelihood
//      ("approximation") and the best is then refitted by exact maximum
//      likelihood (the next one when that fit fails).
// A constant is a mean when d + D = 0 and a drift when d + D = 1.
// Known differences from R: AICc is infinite (the model is not used) when a
// model has as many parameters as the differenced series allows, where R's
// formula turns negative; and the covariance check of step 4 is made only for
// models whose criterion beats the best so far (a model that cannot win is
// ranked by its criterion alone), which can change which model is refitted
// after the best one's exact fit fails.
//
// Thread-safety: no shared state; fits of different series may run in
// parallel.

#include <cstddef>
#include <string>

#include <armadillo>

#include "aiops/core/error.hpp"
#include "aiops/forecast/arima.hpp"

namespace aiops::forecast {

struct AutoArimaOptions {
  int period = 1;       // seasonal period m; 1 = non-seasonal
  int max_p = 5, max_q = 5, max_P = 2, max_Q = 2;
  int max_d = 2, max_D = 1;
  int start_p = 2, start_q = 2, start_P = 1, start_Q = 1;
  int max_models = 94;
  // -1: decide as R (approximate when n > 150 or period > 12).
  int approximation = -1;
  bool allow_drift = true;
  bool allow_mean = true;
};

struct AutoArimaResult {
  ArimaFit fit;
  double aicc = 0;     // of the chosen model, by exact likelihood
  int models_tried = 0;
  bool approximated = false;
};

/// Chooses and fits a model for y (finite values) with optional regressors
/// (n rows). Fails with Errc::invalid_argument when no model can be fitted;
/// a constant series is not handled here (the caller falls back first).
[[nodiscard]] Result<AutoArimaResult> auto_arima(const arma::vec& y, const AutoArimaOptions& options,
                                                 const arma::mat& xreg = {});

}  // namespace aiops::forecast
