#include "aiops/forecast/unit_root.hpp"

#include "aiops/forecast/stl.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

namespace aiops::forecast {
namespace {

// R's all.equal default tolerance, sqrt(.Machine$double.eps).
const double kAllEqualTolerance = std::sqrt(std::numeric_limits<double>::epsilon());

// The seasonal-strength threshold of forecast's "seas" test.
constexpr double kSeasonalStrengthThreshold = 0.64;

// Mean with R's refinement pass (mean.default adds the mean of the
// residuals from the first estimate), so that residuals sum to ~0.
double r_mean(const arma::vec& x) {
  const double n = static_cast<double>(x.n_elem);
  double s = 0.0;
  for (double v : x) s += v;
  s /= n;
  double t = 0.0;
  for (double v : x) t += v - s;
  return s + t / n;
}

arma::vec lag_difference(const arma::vec& x, std::size_t lag) {
  if (x.n_elem <= lag) return arma::vec{};
  return x.tail(x.n_elem - lag) - x.head(x.n_elem - lag);
}

}  // namespace

bool is_constant(const arma::vec& x) {
  if (x.n_elem <= 1) return true;
  const double first = x[0];
  double sum_abs = 0.0;
  double sum_diff = 0.0;
  std::size_t count = 0;
  for (double v : x) {
    if (v == first) continue;  // all.equal ignores the elements that are equal
    sum_abs += std::fabs(v);
    sum_diff += std::fabs(v - first);
    ++count;
  }
  if (count == 0) return true;
  const double cnt = static_cast<double>(count);
  double scale = sum_abs / cnt;
  if (!(std::isfinite(scale) && scale > kAllEqualTolerance)) scale = 1.0;
  const double mean_diff = sum_diff / (cnt * scale);
  return !std::isnan(mean_diff) && mean_diff <= kAllEqualTolerance;
}

std::size_t kpss_lags(std::size_t n) {
  return static_cast<std::size_t>(std::trunc(3.0 * std::sqrt(static_cast<double>(n)) / 13.0));
}

double kpss_statistic(const arma::vec& x, std::size_t lags) {
  const std::size_t n = x.n_elem;
  const double dn = static_cast<double>(n);
  const arma::vec res = x - r_mean(x);
  const arma::vec partial = arma::cumsum(res);
  const double numerator = arma::dot(partial, partial) / (dn * dn);
  // Long-run variance: Newey-West with Bartlett weights 1 - l / (lags + 1).
  double lrv = arma::dot(res, res) / dn;
  double weighted = 0.0;
  for (std::size_t l = 1; l <= lags && l < n; ++l) {
    const double cov = arma::dot(res.tail(n - l), res.head(n - l));
    weighted += (1.0 - static_cast<double>(l) / static_cast<double>(lags + 1)) * cov;
  }
  lrv += 2.0 / dn * weighted;
  return numerator / lrv;
}

double kpss_pvalue(double statistic) {
  if (std::isnan(statistic)) return statistic;
  // urca's critical values for the level ("mu") test and their sizes.
  static constexpr std::array<double, 4> kCrit{0.347, 0.463, 0.574, 0.739};
  static constexpr std::array<double, 4> kSize{0.10, 0.05, 0.025, 0.01};
  if (statistic <= kCrit.front()) return kSize.front();
  if (statistic >= kCrit.back()) return kSize.back();
  std::size_t i = 0;
  while (statistic > kCrit[i + 1]) ++i;
  const double f = (statistic - kCrit[i]) / (kCrit[i + 1] - kCrit[i]);
  return kSize[i] + f * (kSize[i + 1] - kSize[i]);
}

int ndiffs(const arma::vec& input, double alpha, int max_d) {
  arma::vec x = input.elem(arma::find(input == input));  // drop NaN, as na.omit
  alpha = std::clamp(alpha, 0.01, 0.1);
  int d = 0;
  if (is_constant(x)) return d;
  // R's test function turns failures into "do not difference"; the only
  // failure left here is a NaN statistic, which R maps to "stop".
  const auto reject = [alpha](const arma::vec& s, bool& undecided) {
    const double p = kpss_pvalue(kpss_statistic(s, kpss_lags(s.n_elem)));
    undecided = std::isnan(p);
    return !undecided && p < alpha;
  };
  bool undecided = false;
  bool difference = reject(x, undecided);
  if (undecided) return d;
  while (difference && d < max_d) {
    ++d;
    x = lag_difference(x, 1);
    if (is_constant(x)) return d;
    difference = reject(x, undecided);
    if (undecided) return d - 1;
  }
  return d;
}

Result<double> seasonal_strength(const arma::vec& x, std::size_t period) {
  AIOPS_ASSIGN(StlResult fit, mstl(x, period));
  const double var_remainder = arma::var(fit.remainder);
  const double var_detrended = arma::var(fit.remainder + fit.seasonal);
  const double strength = 1.0 - var_remainder / var_detrended;
  if (std::isnan(strength))
    return Error{Errc::invalid_argument,
                 "seasonal strength undefined: the detrended series of length " +
                     std::to_string(x.n_elem) + " has zero variance"};
  return std::clamp(strength, 0.0, 1.0);
}

int nsdiffs(const arma::vec& input, std::size_t period, int max_D) {
  int D = 0;
  if (is_constant(input)) return D;
  if (period < 2 || period >= input.n_elem) return D;
  // R turns a failing test (too short for STL, undefined strength) into
  // "no difference" with a warning.
  const auto seasonal = [period](const arma::vec& s) {
    const Result<double> strength = seasonal_strength(s, period);
    return strength.ok() && strength.value() > kSeasonalStrengthThreshold;
  };
  arma::vec x = input;
  bool difference = seasonal(x);
  while (difference && D < max_D) {
    ++D;
    x = lag_difference(x, period);
    if (is_constant(x)) return D;
    difference = x.n_elem >= 2 * period && D < max_D && seasonal(x);
  }
  return D;
}

}  // namespace aiops::forecast
