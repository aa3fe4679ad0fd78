#include "aiops/forecast/forecaster.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "aiops/forecast/accuracy.hpp"
#include "aiops/forecast/arima.hpp"
#include "aiops/forecast/auto_arima.hpp"
#include "aiops/forecast/fourier.hpp"
#include "aiops/forecast/unit_root.hpp"

namespace aiops::forecast {
namespace {

const double z80 = normal_quantile_two_sided(0.80);
const double z95 = normal_quantile_two_sided(0.95);

std::string format_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Fills the path and the window totals from means, per-step standard
// errors and the standard error of the window's total.
void fill(SeriesForecast& out, const arma::vec& mean, const arma::vec& se, double window_se, const ForecastPlan& plan) {
  const std::size_t h = plan.horizon;
  out.mean.resize(h);
  out.lo80.resize(h);
  out.hi80.resize(h);
  out.lo95.resize(h);
  out.hi95.resize(h);
  for (std::size_t i = 0; i < h; ++i) {
    out.mean[i] = std::max(0.0, mean(i));
    out.lo80[i] = std::max(0.0, mean(i) - z80 * se(i));
    out.hi80[i] = std::max(0.0, mean(i) + z80 * se(i));
    out.lo95[i] = std::max(0.0, mean(i) - z95 * se(i));
    out.hi95[i] = std::max(0.0, mean(i) + z95 * se(i));
  }
  // The total of the forecasts as shown (clipped at 0 step by step).
  double total = 0;
  for (std::size_t i = plan.window_start; i < h; ++i) total += out.mean[i];
  out.total.mean = std::max(0.0, total);
  out.total.upper80 = std::max(0.0, total + z80 * window_se);
  out.total.upper95 = std::max(0.0, total + z95 * window_se);
}

// Independent errors of spread sd around a level.
void simple(SeriesForecast& out, double level, double sd, const ForecastPlan& plan, std::string model,
            std::string reason) {
  const std::size_t h = plan.horizon;
  const arma::vec mean(h, arma::fill::value(level)), se(h, arma::fill::value(sd));
  out.model = std::move(model);
  out.fallback = true;
  out.reason = std::move(reason);
  fill(out, mean, se, sd * std::sqrt(static_cast<double>(h - std::min(plan.window_start, h))), plan);
}

// Seasonal naive: the last cycle repeated; errors as a random walk over
// cycles (the residual spread of the in-sample seasonal naive forecast).
void seasonal_naive(SeriesForecast& out, const arma::vec& y, std::size_t m, const ForecastPlan& plan,
                    std::string reason) {
  const std::size_t n = y.n_elem;
  if (m < 1 || n <= m) m = 1;
  const std::size_t h = plan.horizon;
  arma::vec mean(h), se(h);
  double ss = 0;
  for (std::size_t t = m; t < n; ++t) ss += (y(t) - y(t - m)) * (y(t) - y(t - m));
  const double sd = n > m ? std::sqrt(ss / static_cast<double>(n - m)) : 0.0;
  // The error of step i is the sum of the innovations of its position
  // p = i % m in cycles 0..i/m (a random walk per position), so in the
  // window's total the innovation of (p, c) counts once for every window
  // step at position p in cycle c or later.
  for (std::size_t i = 0; i < h; ++i) {
    mean(i) = y(n - m + (i % m));
    se(i) = sd * std::sqrt(static_cast<double>(i / m + 1));
  }
  double window_var = 0;
  const std::size_t s = std::min(plan.window_start, h);
  for (std::size_t p = 0; p < std::min(m, h); ++p) {
    // Window steps at position p: cycles k_lo..k_hi.
    const std::size_t k_hi = (h - 1 - p) / m;
    const std::size_t k_lo = s <= p ? 0 : (s - p + m - 1) / m;
    if (k_lo > k_hi) continue;
    const double steps = static_cast<double>(k_hi - k_lo + 1);
    // cycles 0..k_lo: all `steps` window steps; cycle k_lo + j: steps - j.
    window_var += static_cast<double>(k_lo + 1) * steps * steps;
    for (std::size_t j = 1; j <= k_hi - k_lo; ++j) window_var += (steps - static_cast<double>(j)) * (steps - static_cast<double>(j));
  }
  window_var *= sd * sd;
  out.model = m > 1 ? "seasonal naive [" + std::to_string(m) + "]" : "naive";
  out.fallback = true;
  out.reason = std::move(reason);
  out.period = m;
  fill(out, mean, se, std::sqrt(window_var), plan);
}

std::vector<std::size_t> usable_seasons(std::size_t n, const ForecastPlan& plan) {
  std::vector<std::size_t> s;
  const std::size_t points = std::min(n, plan.max_points);
  for (std::size_t m : plan.seasons)
    if (m >= 2 && 2 * m <= points && std::find(s.begin(), s.end(), m) == s.end()) s.push_back(m);
  std::sort(s.begin(), s.end());
  return s;
}

// AICc of least squares of y on [1, t, terms].
double regression_aicc(const arma::vec& y, const arma::mat& terms) {
  const arma::uword n = y.n_elem;
  const arma::mat X = arma::join_rows(arma::join_rows(arma::mat(n, 1, arma::fill::ones),
                                                      arma::regspace<arma::vec>(1, static_cast<double>(n))),
                                      terms);
  arma::vec beta;
  if (!arma::solve(beta, X, y, arma::solve_opts::no_approx)) return HUGE_VAL;
  const arma::vec r = y - X * beta;
  const double k = static_cast<double>(X.n_cols) + 1;
  const double nn = static_cast<double>(n);
  const double rss = std::max(arma::dot(r, r), 1e-300);
  if (nn - k - 1 <= 0) return HUGE_VAL;
  return nn * std::log(rss / nn) + 2 * k + 2 * k * (k + 1) / (nn - k - 1);
}

}  // namespace

std::size_t scaling_period(std::size_t n, const ForecastPlan& plan) {
  const auto s = usable_seasons(n, plan);
  return s.empty() ? 1 : s.front();
}

SeriesForecast forecast_series(std::span<const double> history, const ForecastPlan& plan) {
  SeriesForecast out;
  const std::size_t n_all = history.size();
  const std::size_t n = std::min(n_all, plan.max_points);
  const arma::vec y(std::vector<double>(history.end() - static_cast<std::ptrdiff_t>(n), history.end()));

  if (!y.is_finite()) {
    simple(out, 0.0, 0.0, plan, "zero", "the history has missing or infinite values");
    return out;
  }
  if (n < plan.min_points) {
    const double level = n > 0 ? arma::mean(y) : 0.0;
    const double sd = n > 1 ? arma::stddev(y) : 0.0;
    simple(out, level, sd, plan, "mean", "too short: " + std::to_string(n) + " intervals, ARIMA needs " +
                                             std::to_string(plan.min_points));
    return out;
  }
  const arma::uword zeros = arma::accu(y == 0.0);
  if (zeros == n) {
    simple(out, 0.0, 0.0, plan, "zero", "no I/O in the history");
    return out;
  }
  if (is_constant(y)) {
    simple(out, y(0), 0.0, plan, "constant", "every interval had " + format_number(y(0)));
    return out;
  }
  if (static_cast<double>(zeros) > 0.9 * static_cast<double>(n)) {
    simple(out, arma::mean(y), arma::stddev(y), plan, "mean",
           "sparse: " + std::to_string(n - zeros) + " of " + std::to_string(n) + " intervals had I/O");
    return out;
  }

  const auto seasons = usable_seasons(n, plan);
  std::size_t m = 1;
  std::vector<FourierSeason> cycles;
  for (std::size_t s : seasons) {
    if (m == 1 && s <= plan.max_seasonal_period) m = s;
    else cycles.push_back({static_cast<double>(s), 0});
  }
  out.period = m;

  // Harmonics per Fourier cycle by AICc of the regression, one cycle at a
  // time (shortest first), K = 1.. until the criterion stops improving. The
  // terms of all cycles are built together so that a harmonic two cycles
  // share (a day's first is a week's seventh) appears once.
  std::vector<FourierSeason> chosen;
  auto terms_with = [&](const std::vector<FourierSeason>& seasons_k) -> Result<FourierTerms> {
    std::vector<FourierSeason> used;
    for (const auto& f : seasons_k)
      if (f.K > 0) used.push_back(f);
    if (used.empty()) return FourierTerms{arma::mat(n, 0), {}};
    return fourier_history(n, used);
  };
  for (const auto& c : cycles) {
    const int kmax = std::min(plan.max_harmonics, max_harmonics(c.period));
    auto base = terms_with(chosen);
    double best = base.ok() ? regression_aicc(y, base->x) : HUGE_VAL;
    int best_k = 0;
    for (int K = 1; K <= kmax; ++K) {
      std::vector<FourierSeason> trial = chosen;
      trial.push_back({c.period, K});
      auto t = terms_with(trial);
      if (!t.ok()) break;
      const double ic = regression_aicc(y, t->x);
      if (ic < best) {
        best = ic;
        best_k = K;
      } else if (K > best_k + 1) {
        break;  // two steps without improvement
      }
    }
    if (best_k > 0) chosen.push_back({c.period, best_k});
  }
  arma::mat xreg(n, 0);
  arma::mat future(plan.horizon, 0);
  std::string fourier_label;
  if (!chosen.empty()) {
    auto t = fourier_history(n, chosen);
    auto f = fourier_future(n, plan.horizon, chosen);
    if (t.ok() && f.ok()) {
      xreg = t->x;
      future = f->x;
    }
  }

  // Regress the Fourier terms out (with an intercept), model the rest.
  arma::vec target = y;
  arma::vec reg_future(plan.horizon, arma::fill::zeros);
  if (xreg.n_cols > 0) {
    const arma::mat X = arma::join_rows(arma::mat(n, 1, arma::fill::ones), xreg);
    arma::vec beta;
    if (arma::solve(beta, X, y, arma::solve_opts::no_approx)) {
      // The intercept stays in the series ARIMA models (as its mean).
      target = y - xreg * beta.tail(xreg.n_cols);
      reg_future = future * beta.tail(xreg.n_cols);
      for (const auto& c : chosen)
        fourier_label += (fourier_label.empty() ? "" : ",") + std::to_string(static_cast<long long>(c.period)) +
                         ":K=" + std::to_string(c.K);
    }
  }
  if (!fourier_label.empty() && is_constant(target)) {
    // The cycles explain the history exactly: the regression is the model.
    const arma::vec mean = target(0) + reg_future;
    out.model = "Fourier(" + fourier_label + ") regression";
    fill(out, mean, arma::vec(plan.horizon, arma::fill::zeros), 0.0, plan);
    return out;
  }
  AutoArimaOptions opts;
  opts.period = static_cast<int>(m);
  auto fit = auto_arima(target, opts);
  if (!fit.ok()) {
    seasonal_naive(out, y, seasons.empty() ? 1 : seasons.front(), plan, "no ARIMA model: " + fit.error().message());
    return out;
  }
  auto fc = forecast_arima(fit->fit, plan.horizon, {}, plan.window_start);
  if (!fc.ok()) {
    seasonal_naive(out, y, seasons.empty() ? 1 : seasons.front(), plan, "forecast failed: " + fc.error().message());
    return out;
  }
  out.model = model_name(fit->fit);
  if (!fourier_label.empty()) out.model += " + Fourier(" + fourier_label + ")";
  fill(out, fc->mean + reg_future, fc->se, fc->window_se, plan);
  return out;
}

}  // namespace aiops::forecast
