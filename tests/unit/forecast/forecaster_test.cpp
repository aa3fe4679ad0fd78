// One series' forecast: the stated fallbacks for degenerate histories, exact
// patterns, cycles as seasonal period or Fourier terms, and the window
// totals. Also forecast_all over a whole set of series.

#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "aiops/forecast/arima.hpp"
#include "aiops/forecast/batch.hpp"
#include "aiops/forecast/forecaster.hpp"

using namespace aiops::forecast;

namespace {

ForecastPlan plan_of(std::vector<std::size_t> seasons, std::size_t horizon, std::size_t window_start = 0) {
  ForecastPlan p;
  p.seasons = std::move(seasons);
  p.horizon = horizon;
  p.window_start = window_start;
  return p;
}

// A daily cycle of 24 points with deterministic noise and a weekly bump.
std::vector<double> daily(std::size_t n, double noise) {
  std::vector<double> y(n);
  unsigned state = 12345;
  for (std::size_t t = 0; t < n; ++t) {
    state = state * 1103515245u + 12345u;
    const double u = static_cast<double>((state >> 8) & 0xffff) / 65536.0 - 0.5;
    y[t] = 1000 + 400 * std::sin(2 * std::numbers::pi * static_cast<double>(t % 24) / 24) +
           (t % 168 < 24 ? 300 : 0) + noise * u;
  }
  return y;
}

}  // namespace

TEST_CASE("degenerate histories get a stated simple model") {
  const ForecastPlan plan = plan_of({24}, 6);
  SUBCASE("too short") {
    const std::vector<double> y = {3, 5, 4};
    const auto f = forecast_series(y, plan);
    CHECK(f.fallback);
    CHECK(f.model == "mean");
    CHECK(f.reason.find("too short: 3 intervals") != std::string::npos);
    CHECK(f.mean[0] == doctest::Approx(4.0));
  }
  SUBCASE("empty") {
    const auto f = forecast_series(std::vector<double>{}, plan);
    CHECK(f.model == "mean");
    CHECK(f.mean.size() == 6);
    CHECK(f.total.mean == 0.0);
  }
  SUBCASE("all zero") {
    const auto f = forecast_series(std::vector<double>(200, 0.0), plan);
    CHECK(f.model == "zero");
    CHECK(f.total.upper95 == 0.0);
  }
  SUBCASE("constant") {
    const auto f = forecast_series(std::vector<double>(200, 7.0), plan);
    CHECK(f.model == "constant");
    CHECK(f.reason == "every interval had 7");
    CHECK(f.total.mean == doctest::Approx(42.0));
    CHECK(f.total.upper95 == doctest::Approx(42.0));
  }
  SUBCASE("sparse") {
    std::vector<double> y(200, 0.0);
    for (std::size_t t = 0; t < 200; t += 20) y[t] = 50;
    const auto f = forecast_series(y, plan);
    CHECK(f.model == "mean");
    CHECK(f.reason.find("sparse: 10 of 200") != std::string::npos);
    CHECK(f.mean[0] == doctest::Approx(2.5));
    CHECK(f.total.upper95 > f.total.mean);
  }
  SUBCASE("not finite") {
    std::vector<double> y = daily(100, 10);
    y[50] = std::nan("");
    const auto f = forecast_series(y, plan);
    CHECK(f.fallback);
    CHECK(f.reason.find("missing or infinite") != std::string::npos);
  }
}

TEST_CASE("an exactly repeating day is continued, not a fallback") {
  std::vector<double> y(24 * 10);
  for (std::size_t t = 0; t < y.size(); ++t) y[t] = static_cast<double>((t % 24) * (t % 24));
  const auto f = forecast_series(y, plan_of({24}, 30));
  CHECK_FALSE(f.fallback);
  CHECK(f.model.find("(0,1,0)[24]") != std::string::npos);
  for (std::size_t i = 0; i < 30; ++i) {
    CHECK(f.mean[i] == doctest::Approx(static_cast<double>((i % 24) * (i % 24))));
    CHECK(f.hi95[i] == doctest::Approx(f.mean[i]));
  }
}

TEST_CASE("a daily cycle becomes the seasonal period, a weekly one Fourier terms") {
  const std::vector<double> y = daily(24 * 28, 40);
  const auto f = forecast_series(y, plan_of({24, 168}, 24));
  CHECK_FALSE(f.fallback);
  CHECK(f.period == 24);
  CHECK(f.model.find("[24]") != std::string::npos);
  CHECK(f.model.find("Fourier(168:K=") != std::string::npos);
  // The forecast follows the cycle: the peak hour (6) above the trough (18).
  CHECK(f.mean[6] > f.mean[18] + 400);
  for (std::size_t i = 0; i < 24; ++i) {
    CHECK(f.lo95[i] <= f.lo80[i]);
    CHECK(f.lo80[i] <= f.mean[i]);
    CHECK(f.mean[i] <= f.hi80[i]);
    CHECK(f.hi80[i] <= f.hi95[i]);
  }
  double sum = 0;
  for (double v : f.mean) sum += v;
  CHECK(f.total.mean == doctest::Approx(sum));
}

TEST_CASE("cycles sharing a harmonic (a day and a week of 10-minute steps) are both used") {
  // A daily and a weekly cycle at 10-minute steps: the week's 7th harmonic
  // is the day's 1st; built together the terms stay independent.
  std::vector<double> y(1008 * 3);
  for (std::size_t t = 0; t < y.size(); ++t)
    y[t] = 500 + 200 * std::sin(2 * std::numbers::pi * static_cast<double>(t) / 144) +
           150 * std::cos(2 * std::numbers::pi * static_cast<double>(t) / 1008) + static_cast<double>((t * 7919) % 23);
  ForecastPlan plan = plan_of({144, 1008}, 12);
  const auto f = forecast_series(y, plan);
  CHECK_FALSE(f.fallback);
  CHECK(f.model.find("Fourier(144:K=") != std::string::npos);
  CHECK(f.model.find("1008:K=") != std::string::npos);
}

TEST_CASE("window totals of a random walk: each innovation counts once per later window step") {
  // ARIMA(0,1,0), the model whose errors the naive fallback also assumes.
  std::vector<double> y(80);
  double level = 100;
  unsigned state = 7;
  for (double& v : y) {
    state = state * 1103515245u + 12345u;
    level += static_cast<double>((state >> 8) % 21) - 10.0;
    v = level;
  }
  const arma::vec yv(y);
  auto rw = fit_arima(yv, ArimaSpec{{0, 1, 0, 0, 0, 0, 1}, false, FitMethod::css_ml, true});
  REQUIRE(rw.ok());
  auto fc = forecast_arima(rw.value(), 10, {}, 3);
  REQUIRE(fc.ok());
  // Var of steps 3..9 of a random walk's total: sum over innovations i of
  // (number of window steps at or after i)^2 = 4 * 7^2 + 6^2 + ... + 1^2.
  double expect = 4 * 49.0;
  for (int j = 1; j <= 6; ++j) expect += j * j;
  CHECK(fc->window_se == doctest::Approx(fc->se(0) * std::sqrt(expect)));
}

TEST_CASE("forecast_all forecasts every client and backtests the last intervals") {
  SeriesSet set;
  set.interval = std::chrono::hours(1);
  set.length = 24 * 14;
  set.has_bytes = false;
  for (const char* name : {"a", "b", "idle"}) {
    ClientSeries c;
    c.name = name;
    const std::vector<double> y = daily(set.length, name[0] == 'a' ? 20 : 60);
    c.ops.assign(y.begin(), y.end());
    if (std::string(name) == "idle") std::fill(c.ops.begin(), c.ops.end(), 0.0f);
    set.clients.push_back(std::move(c));
  }
  BatchOptions options;
  options.plan = plan_of({24}, 4);
  options.backtest = 24;
  options.jobs = 2;
  std::size_t last_done = 0;
  options.progress = [&](std::size_t done, std::size_t total) {
    CHECK(total == 6);
    last_done = done;
  };
  BatchTiming timing;
  const auto results = forecast_all(set, options, &timing);
  REQUIRE(results.size() == 3);
  CHECK(last_done == 6);
  for (const auto& r : results) {
    CAPTURE(r.client);
    CHECK(r.ops.mean.size() == 4);
    CHECK(r.backtest.done);
    CHECK(r.backtest.actual.size() == 24);
    CHECK(r.summary.client == r.client);
  }
  CHECK(results[0].backtest.mase.has_value());
  CHECK(*results[0].backtest.mase < 1.5);
  // No clients: nothing to do, and no threads.
  SeriesSet empty;
  CHECK(forecast_all(empty, options).empty());
}
