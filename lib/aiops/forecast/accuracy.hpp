#pragma once
// Accuracy of a forecast against held-out actuals (the `--backtest N` of
// `aiops forecast`), and the seasonal naive forecast it is compared with.
//
// A backtest splits a series into a training part (what the model sees) and
// the last N values (what it must predict). The measures:
//
//   MASE  = mean_i |a_i - f_i| / scale,
//           scale = mean over the training part of |y_t - y_{t-lag}|, the
//           in-sample mean absolute error of the seasonal naive method.
//           lag = m, as R forecast::accuracy() does for a seasonal series;
//           lag = 1 when m <= 1, or when the training part has fewer than
//           m + 1 values (R then gives NaN; one-step differences are the
//           natural fallback and keep short series comparable).
//           MASE is undefined (std::nullopt) when the scale is 0 (a training
//           part that never changes at that lag: every nonzero error would
//           be infinitely bad, R reports Inf or NaN), when the training part
//           has fewer than 2 values, or when there is nothing to compare.
//   sMAPE = 200 · mean_i |a_i - f_i| / (|a_i| + |f_i|), where a point with
//           a_i = f_i = 0 counts as 0 (a perfect forecast of an idle
//           interval). Range 0..200. This exact definition is shared with the
//           R benchmark script, so do not change it on one side only.
//
//   snaive: the seasonal naive forecast, the last full season of the
//           training part repeated (R forecast::snaive()); when the training
//           part is shorter than one season, or m <= 1, the last value
//           repeated (the naive forecast).
//
// Inputs are expected finite; a NaN propagates into the result. Where a
// function compares an actual and a forecast sequence, they must have equal
// lengths, otherwise the measure is undefined (std::nullopt).
// Thread-safety: pure functions, no shared state.

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace aiops::forecast {

/// The MASE denominator for `train` with season length `m` (see above), or
/// std::nullopt when it is 0 or `train` has fewer than 2 values.
[[nodiscard]] std::optional<double> mase_scale(std::span<const double> train, std::size_t m);

/// MASE of `forecast` against `actual` (equal lengths, not empty), scaled by
/// mase_scale(train, m).
[[nodiscard]] std::optional<double> mase(std::span<const double> train, std::span<const double> actual,
                                         std::span<const double> forecast, std::size_t m);

/// sMAPE in percent (0..200) of `forecast` against `actual` (equal lengths,
/// not empty).
[[nodiscard]] std::optional<double> smape(std::span<const double> actual, std::span<const double> forecast);

/// The seasonal naive forecast of `h` values after `train`. Empty when
/// `train` is empty (there is nothing to repeat).
[[nodiscard]] std::vector<double> snaive(std::span<const double> train, std::size_t m, std::size_t h);

/// MASE of snaive(train, m, actual.size()) against `actual`: the benchmark a
/// model's MASE is reported next to.
[[nodiscard]] std::optional<double> mase_snaive(std::span<const double> train, std::span<const double> actual,
                                                std::size_t m);

}  // namespace aiops::forecast
