#pragma once
// STL: seasonal-trend decomposition by loess (Cleveland, Cleveland, McRae
// and Terpenning, 1990, "STL: A Seasonal-Trend Decomposition Procedure Based
// on Loess", J. Official Statistics 6(1)), and the MSTL use the R package
// `forecast` makes of it.
//
// A series x of length n with seasonal period m is split additively into
//   x = seasonal + trend + remainder.
// The inner loop alternates: detrend; smooth every cycle-subseries (the
// values at one position of the cycle) by loess with window s_window and
// extend it one period at each end; remove the low-frequency part of that
// (moving averages of length m, m, 3 then loess with l_window) to get the
// seasonal; deseasonalise and smooth by loess with t_window to get the trend.
// The optional outer loop recomputes bisquare robustness weights from the
// remainder (6 × median |remainder| scale) and repeats the inner loop.
// Each loess fit is evaluated only every `jump` points and linearly
// interpolated in between, as in the original algorithm.
//
// The options and defaults are those of R's `stats::stl` (R 4.2), and the
// numerical procedure follows the published algorithm closely enough that
// the components agree with R's to rounding error (tests compare with R).
// That includes the robustness scale: the reference finds the median with a
// partial sort that, for even n, sometimes returns a value that is not the
// median; we use the same procedure (stl.cpp) so robust fits agree with R's.
// (When the median residual is at rounding level, e.g. a robust fit that
// interpolates the data, robust weights depend on rounding noise and no two
// implementations agree.)
// Windows below 3 become 3 and even windows are made odd, as in R.
// `periodic` is R's s.window = "periodic": a huge seasonal window (10 n + 1,
// degree 0), after which the seasonal is replaced by its mean at each
// position of the cycle (positions counted from x[0]); the trend is the one
// computed with the unaveraged seasonal, also as in R.
//
// `mstl` is `forecast::mstl` (forecast 8.20) for a series with one seasonal
// period, i.e. a plain `ts`: one STL pass with s_window = 11 and all other
// settings at their defaults (no Box-Cox, no robustness iterations).
// `mstl_multi` is `forecast::mstl` for an `msts` with several periods: the
// periods are sorted, those with fewer than two full cycles in the series are
// dropped, and each seasonal component is re-estimated `iterate` (2) times
// from the series minus the other components, with s_window 11, 15, 19, ...
// for the successive periods; the trend is that of the last STL fit.
//
// The input must be finite (R's stl refuses missing values; forecast's mstl
// would interpolate them first, which is not done here). Pure functions,
// thread-safe.

#include "aiops/core/error.hpp"

#include <armadillo>

#include <cstddef>
#include <optional>
#include <vector>

namespace aiops::forecast {

struct StlOptions {
  bool periodic = false;        // R: s.window = "periodic"
  std::size_t s_window = 11;    // R: s.window (an odd number; ignored when periodic)
  int s_degree = 0;             // 0 or 1
  std::optional<std::size_t> t_window;  // default nextodd(ceil(1.5 m / (1 - 1.5 / s_window)))
  int t_degree = 1;
  std::optional<std::size_t> l_window;  // default nextodd(m)
  std::optional<int> l_degree;          // default t_degree
  std::optional<std::size_t> s_jump;    // defaults ceil(window / 10)
  std::optional<std::size_t> t_jump;
  std::optional<std::size_t> l_jump;
  bool robust = false;
  std::optional<int> inner;  // default robust ? 1 : 2
  std::optional<int> outer;  // default robust ? 15 : 0
};

struct StlResult {
  arma::vec seasonal;
  arma::vec trend;
  arma::vec remainder;  // x - seasonal - trend
  arma::vec weights;    // final robustness weights (all 1 without outer iterations)
};

/// STL of `x` with seasonal period `period`. Errors (invalid_argument):
/// period < 2, x.n_elem <= 2 * period (R: "series is not periodic or has less
/// than two periods"), a degree other than 0 or 1, non-finite values.
[[nodiscard]] Result<StlResult> stl(const arma::vec& x, std::size_t period,
                                    const StlOptions& options = {});

/// forecast::mstl of a single-period series (see the header comment). Same
/// errors as stl().
[[nodiscard]] Result<StlResult> mstl(const arma::vec& x, std::size_t period);

struct MstlResult {
  std::vector<std::size_t> periods;  // sorted, those kept
  arma::vec trend;
  std::vector<arma::vec> seasonal;   // one per kept period, same order
  arma::vec remainder;
};

/// forecast::mstl of a multi-seasonal (`msts`) series. Errors: no period left
/// after dropping those >= n / 2 (R falls back to a supsmu trend-only fit,
/// which is not provided), a period < 2, non-finite values.
[[nodiscard]] Result<MstlResult> mstl_multi(const arma::vec& x, std::vector<std::size_t> periods,
                                            int iterate = 2);

}  // namespace aiops::forecast
