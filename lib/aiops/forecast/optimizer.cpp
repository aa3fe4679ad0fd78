#include "aiops/forecast/optimizer.hpp"

#include <cmath>

namespace aiops::forecast {
namespace {

// The objective on the scaled parameters.
struct Scaled {
  const Objective& f;
  const arma::vec& scale;
  int* evaluations;
  double operator()(const arma::vec& x) const {
    ++*evaluations;
    const double v = f(x % scale);
    return std::isnan(v) ? HUGE_VAL : v;
  }
};

bool gradient(const Scaled& f, const arma::vec& x, double eps, arma::vec& g) {
  g.set_size(x.n_elem);
  arma::vec t = x;
  for (arma::uword i = 0; i < x.n_elem; ++i) {
    t(i) = x(i) + eps;
    const double up = f(t);
    t(i) = x(i) - eps;
    const double down = f(t);
    t(i) = x(i);
    g(i) = (up - down) / (2 * eps);
    if (!std::isfinite(g(i))) return false;
  }
  return true;
}

}  // namespace

MinimizeResult minimize_bfgs(const Objective& objective, const arma::vec& start, const MinimizeOptions& options) {
  const arma::uword n = start.n_elem;
  const arma::vec scale = options.parscale.n_elem == n ? options.parscale : arma::vec(n, arma::fill::ones);
  MinimizeResult out;
  Scaled f{objective, scale, &out.evaluations};
  arma::vec b = start / scale;
  double fmin = f(b);
  out.par = start;
  out.value = fmin;
  if (n == 0) {
    out.converged = true;
    return out;
  }
  if (!std::isfinite(fmin)) {
    out.failed = true;
    return out;
  }
  constexpr double step_reduction = 0.2;
  constexpr double acceptance = 1e-4;
  constexpr double rel_test = 10.0;  // a step that no longer changes b at this scale is no step
  arma::vec g;
  if (!gradient(f, b, options.ndeps, g)) {
    out.failed = true;
    return out;
  }
  int gradients = 1;
  int iterations = 1;
  int last_reset = gradients;
  arma::mat B(n, n);
  arma::vec x0(n), g0(n), t(n);
  arma::uword unchanged = 0;
  do {
    if (last_reset == gradients) B.eye();
    x0 = b;
    g0 = g;
    t = -B * g;
    const double slope = arma::dot(t, g);
    if (slope < 0) {
      double step = 1.0;
      bool accepted = false;
      double fb = fmin;
      do {
        unchanged = 0;
        for (arma::uword i = 0; i < n; ++i) {
          b(i) = x0(i) + step * t(i);
          if (rel_test + x0(i) == rel_test + b(i)) ++unchanged;
        }
        if (unchanged < n) {
          fb = f(b);
          accepted = std::isfinite(fb) && fb <= fmin + slope * step * acceptance;
          if (!accepted) step *= step_reduction;
        }
      } while (!(unchanged == n || accepted));
      // Too small a gain counts as convergence.
      if (!(std::fabs(fb - fmin) > options.reltol * (std::fabs(fmin) + options.reltol))) {
        unchanged = n;
        if (accepted) fmin = fb;
      }
      if (unchanged < n) {
        fmin = fb;
        if (!gradient(f, b, options.ndeps, g)) {
          out.failed = true;
          break;
        }
        ++gradients;
        ++iterations;
        t *= step;
        const arma::vec c = g - g0;
        const double d1 = arma::dot(t, c);
        if (d1 > 0) {
          const arma::vec Bc = B * c;
          const double d2 = 1.0 + arma::dot(Bc, c) / d1;
          B += (d2 * (t * t.t()) - Bc * t.t() - t * Bc.t()) / d1;
        } else {
          last_reset = gradients;
        }
      } else {
        // No progress along this direction: retry once from steepest descent.
        if (!accepted) b = x0;
        if (last_reset < gradients) {
          unchanged = 0;
          last_reset = gradients;
        }
      }
    } else {
      unchanged = 0;
      if (last_reset == gradients) {
        unchanged = n;
      } else {
        last_reset = gradients;
      }
    }
    if (iterations >= options.maxit) break;
    if (gradients - last_reset > 2 * static_cast<int>(n)) last_reset = gradients;
  } while (unchanged != n || last_reset != gradients);
  out.converged = !out.failed && iterations < options.maxit;
  out.par = b % scale;
  out.value = fmin;
  return out;
}

bool numeric_hessian(const Objective& objective, const arma::vec& x, const MinimizeOptions& options,
                     arma::mat& hessian) {
  // Second differences of function values: 2k^2 + 1 evaluations, half of
  // what differencing numerical gradients costs, for the same purpose (the
  // sign and size of the curvature at an optimum).
  const arma::uword n = x.n_elem;
  const arma::vec scale = options.parscale.n_elem == n ? options.parscale : arma::vec(n, arma::fill::ones);
  int evaluations = 0;
  Scaled f{objective, scale, &evaluations};
  const arma::vec b = x / scale;
  const double eps = options.ndeps;
  const double f0 = f(b);
  if (!std::isfinite(f0)) return false;
  hessian.set_size(n, n);
  arma::vec t = b;
  for (arma::uword i = 0; i < n; ++i) {
    t(i) = b(i) + eps;
    const double up = f(t);
    t(i) = b(i) - eps;
    const double down = f(t);
    t(i) = b(i);
    hessian(i, i) = (up - 2 * f0 + down) / (eps * eps);
    for (arma::uword j = 0; j < i; ++j) {
      double v[4];
      int k = 0;
      for (double si : {1.0, -1.0})
        for (double sj : {1.0, -1.0}) {
          t(i) = b(i) + si * eps;
          t(j) = b(j) + sj * eps;
          v[k++] = f(t);
        }
      t(i) = b(i);
      t(j) = b(j);
      hessian(i, j) = hessian(j, i) = (v[0] - v[1] - v[2] + v[3]) / (4 * eps * eps);
    }
  }
  if (!hessian.is_finite()) return false;
  // Back to the unscaled parameters.
  hessian = hessian / (scale * scale.t());
  return true;
}

}  // namespace aiops::forecast
