#include "aiops/forecast/auto_arima.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "aiops/forecast/unit_root.hpp"

namespace aiops::forecast {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

struct Candidate {
  int p, q, P, Q;
  bool constant;
  bool operator==(const Candidate&) const = default;
};

struct Tried {
  Candidate c;
  double ic;
};

arma::mat lagged_difference(const arma::mat& x, arma::uword lag) {
  if (x.n_rows <= lag) return arma::mat(0, x.n_cols);
  return x.rows(lag, x.n_rows - 1) - x.rows(0, x.n_rows - 1 - lag);
}

bool any_column_constant(const arma::mat& x) {
  for (arma::uword j = 0; j < x.n_cols; ++j)
    if (is_constant(x.col(j))) return true;
  return false;
}

class Search {
 public:
  Search(const arma::vec& y, const arma::mat& xreg, int d, int D, int m, bool approximate, double offset)
      : y_(y), xreg_(xreg), d_(d), D_(D), m_(m), approximate_(approximate), offset_(offset) {}

  // forecast:::myarima: the information criterion of one model (AICc), or
  // infinity when it cannot be fitted or sits too near the unit circle.
  // The covariance check (a Hessian, the dearest part of a fit) is made
  // only for a model whose criterion beats `to_beat`: a model that cannot
  // become the best is ranked by its criterion alone.
  std::pair<double, std::optional<ArimaFit>> fit(const Candidate& c, bool approximate, double to_beat) const {
    auto first = fit_once(c, approximate, false);
    if (first.first < to_beat) return fit_once(c, approximate, true);
    return first;
  }

 private:
  std::pair<double, std::optional<ArimaFit>> fit_once(const Candidate& c, bool approximate, bool check) const {
    ArimaSpec spec;
    spec.check_variances = check;
    spec.order = {c.p, d_, c.q, m_ > 1 ? c.P : 0, m_ > 1 ? D_ : 0, m_ > 1 ? c.Q : 0, m_};
    spec.constant = c.constant;
    spec.method = approximate ? FitMethod::css : FitMethod::css_ml;
    auto r = fit_arima(y_, spec, xreg_);
    if (!r.ok()) return {inf, std::nullopt};
    ArimaFit& f = r.value();
    const double nstar = static_cast<double>(f.n_used);
    const double npar = static_cast<double>(f.n_coef()) + 1.0;
    const double aic = approximate ? offset_ + nstar * std::log(f.sigma2) + 2 * npar : f.aic;
    double ic = inf;
    if (std::isfinite(aic) && nstar - npar - 1 > 0) ic = aic + 2 * npar * (npar + 1) / (nstar - npar - 1);
    const double min_root = std::min(min_root_modulus(f.ar_poly, -1), min_root_modulus(f.ma_poly, +1));
    if (min_root < 1.01 || !f.variances_ok) ic = inf;
    return {ic, std::move(f)};
  }

  const arma::vec& y_;
  const arma::mat& xreg_;
  int d_, D_, m_;
  bool approximate_;
  double offset_;
};

}  // namespace

Result<AutoArimaResult> auto_arima(const arma::vec& y, const AutoArimaOptions& options, const arma::mat& xreg) {
  const arma::uword n = y.n_elem;
  if (n == 0) return Error{Errc::invalid_argument, "auto_arima: empty series"};
  if (!y.is_finite()) return Error{Errc::invalid_argument, "auto_arima: the series has missing or infinite values"};
  if (is_constant(y)) return Error{Errc::invalid_argument, "auto_arima: the series is constant"};
  const int m = std::max(options.period, 1);
  const int nn = static_cast<int>(n);
  int max_p = std::min(options.max_p, nn / 3);
  int max_q = std::min(options.max_q, nn / 3);
  int max_P = std::min(options.max_P, nn / 3 / m);
  int max_Q = std::min(options.max_Q, nn / 3 / m);

  // The series the differencing tests look at: with regressors, the
  // residuals of a regression on them (with an intercept).
  arma::vec xx = y;
  arma::mat xregg = xreg;
  if (!xreg.is_empty()) {
    arma::uvec keep;
    std::vector<arma::uword> k;
    for (arma::uword j = 0; j < xreg.n_cols; ++j)
      if (!is_constant(xreg.col(j))) k.push_back(j);
    xregg = xreg.cols(arma::uvec(k));
    if (xregg.n_cols > 0) {
      const arma::mat A = arma::join_rows(arma::mat(n, 1, arma::fill::ones), xregg);
      arma::vec beta;
      if (!arma::solve(beta, A, y, arma::solve_opts::no_approx))
        return Error{Errc::invalid_argument, "auto_arima: the regressors are rank deficient"};
      xx = y - A * beta;
    }
  }

  int D = 0;
  if (m > 1 && static_cast<int>(n) > 2 * m) {
    D = nsdiffs(xx, static_cast<std::size_t>(m), options.max_D);
    if (D > 0 && xregg.n_cols > 0 && any_column_constant(lagged_difference(xregg, static_cast<arma::uword>(m)))) --D;
  }
  if (m == 1) max_P = max_Q = 0;
  arma::vec dx = D > 0 ? arma::vec(lagged_difference(arma::mat(xx), static_cast<arma::uword>(m)).col(0)) : xx;
  arma::mat dxreg = D > 0 ? lagged_difference(xregg, static_cast<arma::uword>(m)) : xregg;
  int d = ndiffs(dx, 0.05, options.max_d);
  if (d > 0 && dxreg.n_cols > 0) {
    arma::mat t = dxreg;
    for (int i = 0; i < d; ++i) t = lagged_difference(t, 1);
    if (any_column_constant(t)) --d;
  }
  for (int i = 0; i < d; ++i) dx = dx.n_elem > 1 ? arma::vec(dx.tail(dx.n_elem - 1) - dx.head(dx.n_elem - 1)) : arma::vec();
  if (dx.is_empty()) return Error{Errc::invalid_argument, "auto_arima: not enough data after differencing"};

  AutoArimaResult out;
  if (is_constant(dx)) {
    // A polynomial trend or an exactly repeating pattern: the differences
    // alone, with the constant fixed as R fixes it (the step per interval
    // of the differences); nothing is left to estimate.
    const ArimaOrder order{0, d, 0, 0, D, 0, m};
    if (!xreg.is_empty()) {
      ArimaSpec spec;
      spec.order = order;
      AIOPS_ASSIGN(out.fit, fit_arima(y, spec, xreg));
    } else {
      std::optional<double> constant;
      if (D > 0 && d == 0) constant = arma::mean(dx) / m;
      else if (D == 0 && d < 2) constant = arma::mean(dx);
      AIOPS_ASSIGN(out.fit, differencing_fit(y, order, constant));
    }
    out.aicc = out.fit.aic;
    out.models_tried = 1;
    return out;
  }
  if (m > 1) {
    if (max_P > 0) max_p = std::min(max_p, m - 1);
    if (max_Q > 0) max_q = std::min(max_q, m - 1);
  }
  const bool approximate =
      options.approximation < 0 ? (n > 150 || m > 12) : options.approximation > 0;
  double offset = 0;
  bool use_approx = approximate;
  if (approximate) {
    ArimaSpec spec;
    spec.order = {0, d, 0, 0, D, 0, m};
    spec.constant = d + D == 0;  // stats::arima's include.mean default
    auto base = fit_arima(y, spec, xreg);
    if (base.ok()) offset = -2 * base->loglik - static_cast<double>(n) * std::log(base->sigma2);
  }
  const bool allow_drift = options.allow_drift && d + D == 1;
  const bool allow_mean = options.allow_mean && d + D == 0;
  const bool constant0 = allow_drift || allow_mean;

  Search search(y, xreg, d, D, m, use_approx, offset);
  std::vector<Tried> tried;
  std::optional<ArimaFit> best;
  double best_ic = inf;
  int p = std::min(n < 10 ? std::min(options.start_p, 1) : options.start_p, max_p);
  int q = std::min(n < 10 ? std::min(options.start_q, 1) : options.start_q, max_q);
  int P = std::min(n < 10 ? 0 : options.start_P, max_P);
  int Q = std::min(n < 10 ? 0 : options.start_Q, max_Q);
  bool constant = constant0;

  auto tried_before = [&](const Candidate& c) {
    return std::any_of(tried.begin(), tried.end(), [&](const Tried& t) { return t.c == c; });
  };
  // Fits c, records it, and makes it the best when it improves on it.
  auto consider = [&](const Candidate& c) {
    auto [ic, f] = search.fit(c, use_approx, best_ic);
    tried.push_back({c, ic});
    if (ic < best_ic) {
      best_ic = ic;
      best = std::move(f);
      return true;
    }
    return false;
  };

  {
    const Candidate start{p, q, P, Q, constant};
    auto [ic, f] = search.fit(start, use_approx, inf);
    tried.push_back({start, ic});
    best_ic = ic;
    best = std::move(f);
  }
  if (consider({0, 0, 0, 0, constant})) p = q = P = Q = 0;
  if (max_p > 0 || max_P > 0) {
    const Candidate c{max_p > 0 ? 1 : 0, 0, (m > 1 && max_P > 0) ? 1 : 0, 0, constant};
    if (consider(c)) {
      p = c.p;
      P = c.P;
      q = Q = 0;
    }
  }
  if (max_q > 0 || max_Q > 0) {
    const Candidate c{0, max_q > 0 ? 1 : 0, 0, (m > 1 && max_Q > 0) ? 1 : 0, constant};
    if (consider(c)) {
      p = P = 0;
      q = c.q;
      Q = c.Q;
    }
  }
  if (constant) {
    if (consider({0, 0, 0, 0, false})) p = q = P = Q = 0;
  }

  // The neighbours of (p, q, P, Q, constant), in auto.arima's order.
  struct Move {
    int dp, dq, dP, dQ;
    bool toggle;
  };
  static constexpr Move moves[] = {
      {0, 0, -1, 0, false}, {0, 0, 0, -1, false}, {0, 0, 1, 0, false},  {0, 0, 0, 1, false},
      {0, 0, -1, -1, false}, {0, 0, -1, 1, false}, {0, 0, 1, -1, false}, {0, 0, 1, 1, false},
      {-1, 0, 0, 0, false}, {0, -1, 0, 0, false}, {1, 0, 0, 0, false},  {0, 1, 0, 0, false},
      {-1, -1, 0, 0, false}, {-1, 1, 0, 0, false}, {1, -1, 0, 0, false}, {1, 1, 0, 0, false},
      {0, 0, 0, 0, true}};
  int k = static_cast<int>(tried.size());
  int start_k = 0;
  while (start_k < k && k < options.max_models) {
    start_k = k;
    for (const Move& mv : moves) {
      Candidate c{p + mv.dp, q + mv.dq, P + mv.dP, Q + mv.dQ, mv.toggle ? !constant : constant};
      if (mv.toggle && !(allow_drift || allow_mean)) continue;
      if (c.p < 0 || c.q < 0 || c.P < 0 || c.Q < 0 || c.p > max_p || c.q > max_q || c.P > max_P || c.Q > max_Q)
        continue;
      if (tried_before(c)) continue;
      if (++k > options.max_models) break;
      if (consider(c)) {
        p = c.p;
        q = c.q;
        P = c.P;
        Q = c.Q;
        constant = c.constant;
        break;
      }
    }
  }
  out.models_tried = static_cast<int>(tried.size());

  if (use_approx) {
    // Refit by exact likelihood, best approximate criterion first.
    std::vector<std::size_t> order(tried.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return tried[a].ic < tried[b].ic; });
    best.reset();
    best_ic = inf;
    for (std::size_t i : order) {
      auto [ic, f] = search.fit(tried[i].c, false, inf);
      if (ic < inf) {
        best_ic = ic;
        best = std::move(f);
        break;
      }
    }
    out.approximated = true;
  }
  if (!best || !std::isfinite(best_ic)) return Error{Errc::invalid_argument, "auto_arima: no suitable ARIMA model found"};
  out.fit = std::move(*best);
  out.aicc = best_ic;
  return out;
}

}  // namespace aiops::forecast
