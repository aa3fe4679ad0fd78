#pragma once
// Seasonal ARIMA with regressors: estimation and forecasting.
//
// Model (R's stats::arima convention, so coefficients compare with R's):
//   y_t = x_t' beta + u_t,
//   phi(B) Phi(B^m) (1-B)^d (1-B^m)^D u_t = theta(B) Theta(B^m) e_t,
//   e_t ~ N(0, sigma2) independent,
// with phi(B) = 1 - ar1 B - ... - arp B^p, theta(B) = 1 + ma1 B + ... and
// the seasonal polynomials alike in B^m. The regressors x_t are, in this
// order: an intercept ("mean") when d + D = 0 and the spec asks for a
// constant, a drift t = 1..n when d + D = 1 and the spec asks for a constant,
// then the caller's columns (e.g. Fourier terms, fourier.hpp). With
// d + D >= 2 a constant is not identifiable and is left out.
//
// Estimation: y and the regressors are differenced, so the errors follow a
// stationary ARMA(p + mP, q + mQ). "CSS" minimises the conditional sum of
// squares (the first p + mP differenced values condition the recursion).
// "ML" maximises the exact Gaussian likelihood, evaluated by a Kalman filter
// on the state-space form with the stationary initial covariance; AR
// parameters are optimised through the partial-autocorrelation transform,
// which keeps them stationary, and a non-invertible MA estimate is replaced by
// its invertible twin (same likelihood). "CSS-ML" (the default) starts ML
// from the CSS estimate. Differencing first is the exact form of R's
// diffuse prior on the non-stationary states, so likelihoods agree with R's.
//
// Forecasts: the filtered state at the end of the sample is projected
// forward and integrated back through the differences; the forecast variance
// is s2 times the sum of the squared psi-weights of the full
// (non-stationary) polynomial, which is what the Kalman forecast of the
// undifferenced model gives once its state is known; s2 = sigma2 n_used /
// (n_used - coefficients), the degrees-of-freedom correction R's forecast
// package applies.
//
// Thread-safety: functions keep no state; fits are immutable values.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <armadillo>

#include "aiops/core/error.hpp"

namespace aiops::forecast {

struct ArimaOrder {
  int p = 0, d = 0, q = 0;
  int P = 0, D = 0, Q = 0;
  int m = 1;  // seasonal period; 1 = no seasonal part

  bool operator==(const ArimaOrder&) const = default;
};

enum class FitMethod { css_ml, ml, css };

struct ArimaSpec {
  ArimaOrder order;
  // A mean (d + D = 0) or a drift (d + D = 1); ignored for d + D >= 2.
  bool constant = false;
  FitMethod method = FitMethod::css_ml;
  // Estimate the Hessian at the optimum to check that the coefficients'
  // covariance is positive (ArimaFit::variances_ok). It costs about 2k^2
  // likelihood evaluations for k coefficients; a search skips it for models
  // that cannot win anyway.
  bool check_variances = true;
};

struct ArimaFit {
  ArimaOrder order;
  bool has_mean = false;
  bool has_drift = false;
  FitMethod method = FitMethod::css_ml;
  // All coefficients in R's order: ar*, ma*, sar*, sma*, intercept/drift,
  // then the caller's regressors; names as R prints them.
  arma::vec coef;
  std::vector<std::string> names;
  double sigma2 = 0;   // innovation variance (ML: ssq / n_used; CSS: ssq / conditioned count)
  double loglik = 0;   // ML: exact log-likelihood; CSS: R's approximation from sigma2
  double aic = 0;      // NaN for CSS, as R
  std::size_t n = 0;       // observations
  std::size_t n_used = 0;  // n - d - D*m
  // False when the coefficients' estimated covariance has a negative
  // variance or is singular (R's var.coef would show NaN); auto.arima
  // rejects such fits.
  bool variances_ok = true;
  bool converged = true;

  // What forecasting needs.
  arma::vec ar_poly;     // phi expanded with the seasonal AR: phi_1..phi_{p+mP}
  arma::vec ma_poly;     // theta expanded: theta_1..theta_{q+mQ}
  arma::vec delta;       // u_t = sum_i delta_i u_{t-i} + (ARMA part); length d + mD
  arma::vec beta;        // regression coefficients (the last columns of coef)
  arma::vec u_tail;      // the last d + mD values of u = y - X beta
  arma::vec state;       // filtered ARMA state after the last observation
  arma::mat state_cov;   // its covariance in units of sigma2 (0 once the state is known)
  // Standardised one-step innovations v_t / sqrt(F_t) of the differenced
  // errors, length n_used (for a CSS fit without a stationary state, the CSS
  // residuals, 0 where the recursion is conditioned).
  arma::vec residuals;
  bool has_state = true;  // false: a CSS fit whose AR part is not stationary; not forecastable
  std::size_t n_xreg_user = 0;  // caller regressor columns

  [[nodiscard]] std::size_t n_coef() const noexcept { return coef.n_elem; }
};

/// Fits `spec` to y (no missing values) with the caller's regressors `xreg`
/// (n rows, or empty). Fails with Errc::invalid_argument when the model
/// cannot be fitted: too few observations, a non-stationary AR part from CSS
/// (for CSS-ML), or a likelihood that is not finite anywhere near the start.
[[nodiscard]] Result<ArimaFit> fit_arima(const arma::vec& y, const ArimaSpec& spec, const arma::mat& xreg = {});

/// The pure differencing model ARIMA(0,d,0)(0,D,0)[m] with its constant
/// (a mean when d + D = 0, a drift when d + D = 1) fixed at `constant`
/// rather than estimated, as R's Arima(..., fixed = ...): for a series whose
/// differences are constant, where there is nothing to estimate and the
/// likelihood has no finite maximum. No constant when d + D >= 2 or
/// `constant` is empty. sigma2 is the mean squared difference (0 for an
/// exact pattern); forecasts continue the pattern.
[[nodiscard]] Result<ArimaFit> differencing_fit(const arma::vec& y, const ArimaOrder& order,
                                                std::optional<double> constant);

/// "ARIMA(1,1,1)(0,1,1)[12] with drift" as R's arima.string writes it.
[[nodiscard]] std::string model_name(const ArimaOrder& order, bool mean, bool drift);
[[nodiscard]] std::string model_name(const ArimaFit& fit);

struct ArimaForecast {
  arma::vec mean;  // h values
  arma::vec se;    // standard error of each
  // Standard error of the total of the forecasts of steps
  // [window_start, h): the forecast errors are correlated, so this is not
  // the root of the summed variances.
  double window_se = 0;
};

/// Forecasts h steps ahead. `future_xreg` holds the caller's regressors for
/// t = n+1..n+h (h rows; empty when the fit has none); `window_start` is the
/// first step (0-based) of the window whose total window_se describes.
[[nodiscard]] Result<ArimaForecast> forecast_arima(const ArimaFit& fit, std::size_t h, const arma::mat& future_xreg = {},
                                                   std::size_t window_start = 0);

/// Smallest modulus of the roots of 1 - c_1 z - ... - c_k z^k (sign = -1)
/// or 1 + c_1 z + ... (sign = +1), ignoring trailing near-zero terms;
/// +infinity when there is none.
[[nodiscard]] double min_root_modulus(const arma::vec& c, int sign);

/// The standard normal quantile for a two-sided interval of `level`
/// (0.80 -> 1.2816).
[[nodiscard]] double normal_quantile_two_sided(double level);

}  // namespace aiops::forecast
