#pragma once
// Quasi-Newton minimisation for the ARIMA likelihoods: BFGS with a
// backtracking line search and central-difference gradients, the method R's
// optim(method = "BFGS") uses (Nash, Compact Numerical Methods, alg. 21).
// auto.arima compares models by the optimum each fit reaches, so the same
// kind of search, the same finite-difference step (1e-3 on the scaled
// parameters), relative tolerance and iteration limit as R's make our fits
// end close to where R's end, which is what lets the order search agree
// with R's on real data. The Hessian (numeric_hessian) is computed
// differently from R's optimHess, from function values; it is used only to
// check that the curvature at the optimum is positive, where the two agree
// except in borderline cases.
//
// Parameters are optimised on the scale x / parscale (parscale > 0 per
// parameter), so a regression coefficient in the thousands and an AR
// coefficient near 0.5 take comparable steps.
//
// The objective may return +infinity or NaN for an inadmissible point; the
// line search then shortens its step. A non-finite value in a gradient
// difference makes the minimisation fail (the caller treats the model as
// unusable, as auto.arima does).
//
// Stateless; any thread may call these functions with its own objective.

#include <functional>

#include <armadillo>

namespace aiops::forecast {

using Objective = std::function<double(const arma::vec&)>;

struct MinimizeOptions {
  arma::vec parscale;        // empty: all 1
  double ndeps = 1e-3;       // finite-difference step on the scaled parameters
  double reltol = 1.490116119384765625e-8;  // sqrt(machine epsilon)
  int maxit = 100;           // gradient evaluations that move the point
};

struct MinimizeResult {
  arma::vec par;       // the best point found, unscaled
  double value = 0;    // objective at par
  bool converged = false;  // false: maxit reached
  bool failed = false;     // a gradient was not finite
  int evaluations = 0;
};

[[nodiscard]] MinimizeResult minimize_bfgs(const Objective& f, const arma::vec& start, const MinimizeOptions& options);

/// The Hessian of f at x by central second differences on the scaled
/// parameters (step ndeps), returned for the unscaled ones; symmetric.
/// Returns false when a value is not finite.
[[nodiscard]] bool numeric_hessian(const Objective& f, const arma::vec& x, const MinimizeOptions& options,
                                   arma::mat& hessian);

}  // namespace aiops::forecast
