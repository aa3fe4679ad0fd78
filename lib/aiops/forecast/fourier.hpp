#pragma once
// Fourier regressors: long seasonal cycles (time of day, day of week at
// sub-hourly intervals) as a handful of sine/cosine columns in a regression
// with ARIMA errors, instead of a seasonal ARIMA part with a period of
// hundreds or thousands of intervals.
//
// For a season of period m (in intervals; need not be a whole number) and
// harmonic k = 1..K, time t (counted from 1 at the first interval of the
// history) contributes
//     S<k>-<m>(t) = sin(2·pi·k·t/m)      C<k>-<m>(t) = cos(2·pi·k·t/m)
// The columns are laid out exactly as R forecast 8.20 `fourier()` lays them
// out, so coefficients can be compared with R's:
//   * seasons in the order given; within one season k = 1..K, S before C;
//   * a frequency k/m that an earlier column pair already has (e.g. k = 7 of
//     a 168 season duplicates k = 1 of a 24 season) is left out with both its
//     columns; the comparison is exact, which for whole-number periods is
//     the same as comparing the fractions k/m;
//   * when 2k/m is a whole number (2k == m) the sine column is left out,
//     because sin(pi·t) is zero at every whole t; its cosine (alternating
//     +1/-1) stays;
//   * names are "S<k>-<round(m)>" and "C<k>-<round(m)>" (round half to even,
//     as R's round()).
// The layout depends only on the seasons, never on the times, so history
// columns (t = 1..n) and future columns (t = n+1..n+h) always line up.
//
// Values: the phase is reduced exactly (fmod(k·t, m) is exact for the
// whole-number k·t we use) before the sine is taken, so the columns stay
// accurate for t in the millions, and quarter turns give exact 0 and ±1.
//
// Invariant: 0 <= K <= m/2 for every season (max_harmonics); fourier_terms
// refuses anything else, and a period that is not finite or not > 0.
// Thread-safety: pure functions, no shared state.

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <armadillo>

#include "aiops/core/error.hpp"

namespace aiops::forecast {

struct FourierSeason {
  double period = 0;  // length of the cycle in intervals, e.g. 1440 for a day of minutes
  int K = 0;          // number of harmonics, 0 <= K <= max_harmonics(period)
};

struct FourierTerms {
  arma::mat x;                     // one row per time, one column per regressor
  std::vector<std::string> names;  // names.size() == x.n_cols, e.g. "S1-24"
};

/// The largest number of harmonics a season of `period` intervals admits:
/// floor(period / 2), and 0 for a period that is not finite or below 2.
[[nodiscard]] int max_harmonics(double period) noexcept;

/// Regressors for the `n` times first_t, first_t+1, ..., first_t+n-1 (time 1
/// is the first interval of the history). Errors (Errc::invalid_argument) name
/// the season that breaks the invariant above.
[[nodiscard]] Result<FourierTerms> fourier_terms(std::size_t first_t, std::size_t n,
                                                 std::span<const FourierSeason> seasons);

/// R's fourier(x, K) for a history of n intervals: times 1..n.
[[nodiscard]] Result<FourierTerms> fourier_history(std::size_t n, std::span<const FourierSeason> seasons);

/// R's fourier(x, K, h): the h times right after a history of n intervals.
[[nodiscard]] Result<FourierTerms> fourier_future(std::size_t n, std::size_t h,
                                                  std::span<const FourierSeason> seasons);

}  // namespace aiops::forecast
