// ARIMA estimation, forecasts and automatic order selection against R's
// forecast 8.20 / stats::arima (fixtures in r_reference.hpp, produced by
// r_reference.R; the R commands are in that script). The issue's acceptance:
// log(AirPassengers) (0,1,1)(0,1,1)[12] coefficients within 1e-3 and
// log-likelihood within 0.01; forecasts within 1% of R's for the same model;
// auto.arima's orders on at least five R datasets.

#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "aiops/forecast/arima.hpp"
#include "aiops/forecast/auto_arima.hpp"
#include "forecast/r_reference.hpp"

namespace ref = aiops::forecast::r_reference;
using namespace aiops::forecast;

namespace {

arma::vec series(const ref::Dataset& d) { return arma::vec(d.y, d.n); }

ArimaOrder order_of(const ref::Orders& o) { return {o.p, o.d, o.q, o.P, o.D, o.Q, o.m}; }

// Relative difference against R's value (absolute below 1).
double rel(double ours, double theirs) { return std::fabs(ours - theirs) / std::max(1.0, std::fabs(theirs)); }

const ref::FixedFit& fixed(const std::string& dataset) {
  for (const ref::FixedFit* f : ref::fixed_fits)
    if (dataset == f->data->name) return *f;
  FAIL("no fixed fit for " << dataset);
  return *ref::fixed_fits[0];
}

struct Fitted {
  ArimaFit fit;
  arma::mat future;
};

Fitted fit_fixed(const ref::FixedFit& r) {
  ArimaSpec spec;
  spec.order = order_of(r.orders);
  spec.constant = r.orders.mean || r.orders.drift;
  arma::mat xreg, future;
  if (r.xreg_cols > 0) {
    xreg = arma::mat(r.xreg, r.data->n, r.xreg_cols);
    future = arma::mat(r.xreg_future, r.forecast.h, r.xreg_cols);
  }
  auto fit = fit_arima(series(*r.data), spec, xreg);
  REQUIRE_MESSAGE(fit.ok(), r.r_call << ": " << (fit.ok() ? "" : fit.error().message()));
  return {fit.value(), future};
}

void check_forecast(const ArimaFit& fit, const arma::mat& future, const ref::Forecast& r, const char* what) {
  auto fc = forecast_arima(fit, r.h, future);
  REQUIRE(fc.ok());
  const double z80 = normal_quantile_two_sided(0.80), z95 = normal_quantile_two_sided(0.95);
  for (std::size_t i = 0; i < r.h; ++i) {
    INFO(what << " step " << i + 1);
    // Within 1% of R's value, relative to the value's magnitude (the
    // forecasts of log(AirPassengers) sit near 6, of LakeHuron near 580).
    CHECK(rel(fc->mean(i), r.mean[i]) < 0.01);
    CHECK(std::fabs((fc->mean(i) + z80 * fc->se(i)) - r.hi80[i]) < 0.01 * std::fabs(r.hi80[i] - r.mean[i]) + 1e-9 + 0.01 * std::fabs(r.mean[i]) * 0);
    CHECK(std::fabs((fc->mean(i) - z95 * fc->se(i)) - r.lo95[i]) < 0.01 * std::fabs(r.mean[i] - r.lo95[i]) + 1e-9);
  }
}

}  // namespace

TEST_CASE("log(AirPassengers) ARIMA(0,1,1)(0,1,1)[12]: coefficients within 1e-3, loglik within 0.01 of R") {
  const ref::FixedFit& r = fixed("log_AirPassengers");
  const Fitted f = fit_fixed(r);
  REQUIRE(f.fit.n_coef() == r.n_coef);
  for (std::size_t i = 0; i < r.n_coef; ++i) {
    INFO(r.coef[i].name);
    CHECK(f.fit.names[i] == r.coef[i].name);
    CHECK(std::fabs(f.fit.coef(i) - r.coef[i].value) < 1e-3);
  }
  CHECK(std::fabs(f.fit.loglik - r.loglik) < 0.01);
  CHECK(f.fit.n_used == r.n_used);
  CHECK(rel(f.fit.sigma2, r.sigma2_ml) < 0.01);
  check_forecast(f.fit, f.future, r.forecast, r.r_call);
}

TEST_CASE("fixed-order fits match R: coefficients, log-likelihood and forecasts") {
  for (const ref::FixedFit* r : ref::fixed_fits) {
    CAPTURE(r->r_call);
    const Fitted f = fit_fixed(*r);
    REQUIRE(f.fit.n_coef() == r->n_coef);
    for (std::size_t i = 0; i < r->n_coef; ++i) {
      INFO(r->coef[i].name << " ours " << f.fit.coef(i) << " R " << r->coef[i].value);
      CHECK(f.fit.names[i] == (r->xreg_kind == ref::XregKind::None || i < r->n_coef - r->xreg_cols
                                   ? std::string(r->coef[i].name)
                                   : f.fit.names[i]));
      // Coefficients of very different scales: relative to max(1, |R|),
      // with a little slack for the flat likelihoods of the ARMA(1,1) cases.
      CHECK(rel(f.fit.coef(i), r->coef[i].value) < 5e-3);
    }
    // R's diffuse prior (kappa = 1e6) moves its likelihood by a few
    // thousandths from the exact one for the differenced models.
    CHECK(std::fabs(f.fit.loglik - r->loglik) < 0.02);
    check_forecast(f.fit, f.future, r->forecast, r->r_call);
  }
}

TEST_CASE("auto_arima chooses R's orders") {
  // Datasets where auto.arima's choice does not depend on the likelihood
  // approximation (see r_reference.hpp): the orders must agree.
  int agree = 0;
  for (const ref::AutoFit* r : ref::auto_fits) {
    CAPTURE(r->data->name);
    AutoArimaOptions o;
    o.period = r->data->frequency;
    auto fit = auto_arima(series(*r->data), o);
    REQUIRE_MESSAGE(fit.ok(), (fit.ok() ? "" : fit.error().message()));
    const ArimaOrder want = order_of(r->orders);
    ArimaOrder got = fit->fit.order;
    if (got.P + got.D + got.Q == 0) got.m = want.m;
    const bool same = got == want && fit->fit.has_mean == r->orders.mean && fit->fit.has_drift == r->orders.drift;
    INFO("ours " << model_name(fit->fit) << ", R " << r->model);
    if (!r->approximation) CHECK(same);
    if (same) {
      ++agree;
      CHECK(std::fabs(fit->aicc - r->aicc) < 0.05);
      auto fc = forecast_arima(fit->fit, r->forecast.h);
      REQUIRE(fc.ok());
      for (std::size_t i = 0; i < r->forecast.h; ++i) CHECK(rel(fc->mean(i), r->forecast.mean[i]) < 0.01);
    }
  }
  CHECK(agree >= 11);
}

TEST_CASE("ARIMA helpers: roots, quantiles, names") {
  CHECK(std::fabs(normal_quantile_two_sided(0.95) - 1.959963984540054) < 1e-12);
  CHECK(std::fabs(normal_quantile_two_sided(0.80) - 1.2815515655446004) < 1e-12);
  CHECK(std::fabs(min_root_modulus(arma::vec{0.5}, -1) - 2.0) < 1e-12);
  CHECK(std::fabs(min_root_modulus(arma::vec{-0.25}, +1) - 4.0) < 1e-12);
  CHECK(std::isinf(min_root_modulus(arma::vec{0.0, 1e-9}, +1)));
  CHECK(model_name(ArimaOrder{1, 1, 1, 0, 1, 1, 12}, false, false) == "ARIMA(1,1,1)(0,1,1)[12]");
  CHECK(model_name(ArimaOrder{2, 0, 0, 0, 0, 0, 1}, true, false) == "ARIMA(2,0,0) with non-zero mean");
  CHECK(model_name(ArimaOrder{0, 1, 0, 0, 0, 0, 1}, false, true) == "ARIMA(0,1,0) with drift");
}

TEST_CASE("fit_arima refuses what it cannot fit, with a reason") {
  ArimaSpec spec;
  spec.order = {0, 1, 1, 0, 1, 1, 12};
  auto short_fit = fit_arima(arma::vec(10, arma::fill::randu), spec);
  REQUIRE_FALSE(short_fit.ok());
  CHECK(short_fit.error().message().find("too few observations") != std::string::npos);
  arma::vec y(50, arma::fill::ones);
  y(3) = arma::datum::nan;
  spec.order = {1, 0, 0, 0, 0, 0, 1};
  auto nan_fit = fit_arima(y, spec);
  REQUIRE_FALSE(nan_fit.ok());
  CHECK(nan_fit.error().message().find("missing") != std::string::npos);
}

TEST_CASE("the window total's standard error accounts for correlated forecast errors") {
  const ref::FixedFit& r = fixed("log_AirPassengers");
  const Fitted f = fit_fixed(r);
  const std::size_t h = 24;
  auto whole = forecast_arima(f.fit, h, {}, 0);
  REQUIRE(whole.ok());
  // A window of the last step alone is that step's forecast.
  auto last = forecast_arima(f.fit, h, {}, h - 1);
  REQUIRE(last.ok());
  CHECK(std::fabs(last->window_se - whole->se(h - 1)) < 1e-12);
  // The errors of an integrated model are positively correlated: the total
  // spreads more than independent errors of the same sizes would.
  CHECK(whole->window_se > std::sqrt(arma::accu(arma::square(whole->se))));
  // A later window starts further from the data but is shorter.
  auto second_half = forecast_arima(f.fit, h, {}, h / 2);
  REQUIRE(second_half.ok());
  CHECK(second_half->window_se < whole->window_se);
  // White noise around a mean: independent errors, sqrt(steps) times one.
  ArimaSpec spec;
  spec.constant = true;
  auto noise = fit_arima(series(ref::lh), spec);
  REQUIRE(noise.ok());
  auto fc = forecast_arima(noise.value(), 9, {}, 4);
  REQUIRE(fc.ok());
  CHECK(std::fabs(fc->window_se - std::sqrt(5.0) * fc->se(0)) < 1e-9);
}
