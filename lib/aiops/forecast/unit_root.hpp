#pragma once
// The tests auto_arima uses to choose the differencing orders, as R's
// forecast 8.20 `auto.arima` does them by default:
//
// - Seasonal differencing D: `nsdiffs` with test "seas". The seasonal
//   strength of the series, 1 - var(remainder) / var(remainder + seasonal)
//   of its MSTL decomposition (stl.hpp) clamped to [0, 1], must exceed 0.64.
// - Ordinary differencing d: `ndiffs` with test "kpss". The KPSS
//   level-stationarity test (Kwiatkowski, Phillips, Schmidt and Shin 1992)
//   with ur.kpss's statistic (urca 1.3), lag truncation trunc(3 sqrt(n) / 13)
//   and Bartlett weights; its p-value is interpolated linearly in the table
//   of critical values {0.347: 10%, 0.463: 5%, 0.574: 2.5%, 0.739: 1%} and
//   clamped to [0.01, 0.10]. While the p-value is below alpha the series is
//   differenced again, up to max_d times.
//
// Order auto.arima applies them in (forecast 8.20), for a series y with
// seasonal period m (m = 1: non-seasonal):
//   1. if is_constant(y): the model is a constant mean, no tests.
//   2. D = 0 if m == 1 or y.n_elem <= 2 m; else D = nsdiffs(y, m).
//      (with regressors these tests run on the residuals of a linear
//      regression of y on them; D is lowered when the seasonally differenced
//      regressors become constant.)
//   3. dx = y seasonally differenced D times at lag m; d = ndiffs(dx).
//   4. dx differenced d times; if empty: error; if is_constant(dx): a
//      (0,d,0)(0,D,0) model with a fixed drift/mean (see auto_arima).
// The 2 m length rule in step 2 is auto.arima's own; nsdiffs on its own also
// returns 0 for such series.
//
// "Constant" everywhere means forecast's is.constant: all.equal(x, x[0])
// with R's default relative tolerance 1.5e-8 — not exact equality, so a
// series with tiny relative wiggles also counts as constant.
//
// Pure functions, thread-safe. Values must be finite except that ndiffs,
// like R, drops NaN values first.

#include "aiops/core/error.hpp"

#include <armadillo>

#include <cstddef>

namespace aiops::forecast {

/// forecast:::is.constant: true when the mean absolute difference from x[0],
/// over the elements that differ from it, relative to their mean absolute
/// value (absolute when that mean is below the tolerance), is at most
/// sqrt(DBL_EPSILON). True for empty and one-element series.
[[nodiscard]] bool is_constant(const arma::vec& x);

/// ur.kpss default lag truncation used by ndiffs: trunc(3 sqrt(n) / 13).
[[nodiscard]] std::size_t kpss_lags(std::size_t n);

/// KPSS level-stationarity ("mu") statistic of x with `lags` Bartlett lags.
/// Precondition: x.n_elem > lags. NaN when x has zero variance.
[[nodiscard]] double kpss_statistic(const arma::vec& x, std::size_t lags);

/// P-value of a KPSS level statistic by interpolation in urca's table,
/// clamped to [0.01, 0.10] (what forecast's ndiffs compares with alpha).
/// NaN for a NaN statistic.
[[nodiscard]] double kpss_pvalue(double statistic);

/// forecast::ndiffs(x, alpha, test = "kpss", type = "level", max.d): the
/// number of first differences (0..max_d) needed for the KPSS test not to
/// reject level stationarity at `alpha` (clamped to [0.01, 0.1]).
[[nodiscard]] int ndiffs(const arma::vec& x, double alpha = 0.05, int max_d = 2);

/// forecast:::seas.heuristic of a series with seasonal period `period`:
/// 1 - var(remainder) / var(remainder + seasonal) of mstl(x, period),
/// clamped to [0, 1]. Errors (invalid_argument): period < 2, x.n_elem <=
/// 2 period (STL needs two full periods), var(remainder + seasonal) == 0
/// with var(remainder) == 0 (R: NaN).
[[nodiscard]] Result<double> seasonal_strength(const arma::vec& x, std::size_t period);

/// forecast::nsdiffs(x, test = "seas", max.D) for a series with seasonal
/// period `period`: 0 for a constant series, for period < 2 (R stops with
/// "Non seasonal data"; auto.arima never asks) and for series with no two
/// full periods; otherwise 1 when the seasonal strength exceeds 0.64, and
/// with max_D > 1, again on the differenced series while it has at least
/// 2 period values and is not constant. Where R's test fails (strength
/// undefined), R warns and counts it as "no difference"; so does this.
[[nodiscard]] int nsdiffs(const arma::vec& x, std::size_t period, int max_D = 1);

}  // namespace aiops::forecast
