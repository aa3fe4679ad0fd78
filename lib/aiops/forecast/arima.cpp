#include "aiops/forecast/arima.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <complex>
#include <numbers>

#include "aiops/forecast/optimizer.hpp"

namespace aiops::forecast {
namespace {

constexpr double two_pi = 2.0 * std::numbers::pi;

// ---- polynomials and parameter transforms

// Coefficients of a product of two polynomials given with their constant 1
// first (c(1, ...) in R).
arma::vec multiply(const arma::vec& a, const arma::vec& b) {
  arma::vec out(a.n_elem + b.n_elem - 1, arma::fill::zeros);
  for (arma::uword i = 0; i < a.n_elem; ++i)
    for (arma::uword j = 0; j < b.n_elem; ++j) out(i + j) += a(i) * b(j);
  return out;
}

// u_t = sum_i delta_i u_{t-i} + w_t for (1-B)^d (1-B^m)^D.
arma::vec differencing_polynomial(const ArimaOrder& o) {
  arma::vec poly = {1.0};
  for (int i = 0; i < o.d; ++i) poly = multiply(poly, arma::vec{1.0, -1.0});
  for (int i = 0; i < o.D; ++i) {
    arma::vec s(static_cast<arma::uword>(o.m) + 1, arma::fill::zeros);
    s(0) = 1.0;
    s(static_cast<arma::uword>(o.m)) = -1.0;
    poly = multiply(poly, s);
  }
  return -poly.tail(poly.n_elem - 1);
}

// Applies (1-B)^d (1-B^m)^D to each column; the result has n - d - mD rows.
arma::mat difference(arma::mat x, const ArimaOrder& o) {
  for (int i = 0; i < o.d; ++i) x = x.rows(1, x.n_rows - 1) - x.rows(0, x.n_rows - 2);
  const arma::uword m = static_cast<arma::uword>(o.m);
  for (int i = 0; i < o.D; ++i) x = x.rows(m, x.n_rows - 1) - x.rows(0, x.n_rows - 1 - m);
  return x;
}

// AR coefficients from unconstrained values: tanh maps each to a partial
// autocorrelation in (-1, 1), and the Durbin-Levinson recursion turns those
// into the coefficients of a stationary AR polynomial.
arma::vec to_stationary(const arma::vec& raw) {
  const arma::uword p = raw.n_elem;
  arma::vec out = arma::tanh(raw), work = out;
  for (arma::uword j = 1; j < p; ++j) {
    const double a = out(j);
    for (arma::uword k = 0; k < j; ++k) work(k) -= a * out(j - k - 1);
    out.head(j) = work.head(j);
  }
  return out;
}

// The inverse of to_stationary for a stationary polynomial.
arma::vec from_stationary(const arma::vec& phi) {
  const arma::uword p = phi.n_elem;
  arma::vec out = phi, work = phi;
  for (arma::uword j = p; j-- > 1;) {
    const double a = out(j);
    for (arma::uword k = 0; k < j; ++k) work(k) = (out(k) + a * out(j - k - 1)) / (1 - a * a);
    out.head(j) = work.head(j);
  }
  return arma::atanh(out);
}

struct Layout {
  ArimaOrder o;
  arma::uword narma() const { return static_cast<arma::uword>(o.p + o.q + o.P + o.Q); }
  arma::span ar() const { return arma::span(0, o.p - 1); }
  arma::uword ma_at() const { return static_cast<arma::uword>(o.p); }
  arma::uword sar_at() const { return static_cast<arma::uword>(o.p + o.q); }
  arma::uword sma_at() const { return static_cast<arma::uword>(o.p + o.q + o.P); }
};

// Transformed (optimiser) parameters -> natural ones: the AR and seasonal AR
// blocks go through to_stationary.
arma::vec undo_transform(arma::vec par, const Layout& L) {
  if (L.o.p > 0) par.head(L.o.p) = to_stationary(par.head(L.o.p));
  if (L.o.P > 0) par.subvec(L.sar_at(), L.sar_at() + L.o.P - 1) = to_stationary(par.subvec(L.sar_at(), L.sar_at() + L.o.P - 1));
  return par;
}

arma::vec do_transform(arma::vec par, const Layout& L) {
  if (L.o.p > 0) par.head(L.o.p) = from_stationary(par.head(L.o.p));
  if (L.o.P > 0) par.subvec(L.sar_at(), L.sar_at() + L.o.P - 1) = from_stationary(par.subvec(L.sar_at(), L.sar_at() + L.o.P - 1));
  return par;
}

// Expanded phi and theta of the product of the regular and seasonal parts.
void expand(const arma::vec& par, const Layout& L, arma::vec& phi, arma::vec& theta) {
  const ArimaOrder& o = L.o;
  const arma::uword m = static_cast<arma::uword>(o.m);
  phi.zeros(static_cast<arma::uword>(o.p) + m * static_cast<arma::uword>(o.P));
  theta.zeros(static_cast<arma::uword>(o.q) + m * static_cast<arma::uword>(o.Q));
  for (int i = 0; i < o.p; ++i) phi(i) = par(i);
  for (int i = 0; i < o.q; ++i) theta(i) = par(L.ma_at() + i);
  for (int j = 0; j < o.P; ++j) {
    const double s = par(L.sar_at() + j);
    phi((j + 1) * m - 1) += s;
    for (int i = 0; i < o.p; ++i) phi((j + 1) * m + i) -= par(i) * s;
  }
  for (int j = 0; j < o.Q; ++j) {
    const double s = par(L.sma_at() + j);
    theta((j + 1) * m - 1) += s;
    for (int i = 0; i < o.q; ++i) theta((j + 1) * m + i) += par(L.ma_at() + i) * s;
  }
}

// Roots of 1 + c_1 z + ... + c_k z^k; false when the eigenvalue problem
// behind them fails (coefficients that are not finite).
bool roots_of(const arma::vec& c, arma::cx_vec& roots) {
  arma::vec desc(c.n_elem + 1);
  desc(c.n_elem) = 1.0;
  for (arma::uword i = 0; i < c.n_elem; ++i) desc(c.n_elem - 1 - i) = c(i);
  return desc.is_finite() && arma::roots(roots, desc);
}

bool ar_stationary(const arma::vec& ar) {
  arma::uword k = ar.n_elem;
  while (k > 0 && ar(k - 1) == 0.0) --k;
  if (k == 0) return true;
  arma::cx_vec r;
  return roots_of(-ar.head(k), r) && arma::min(arma::abs(r)) > 1.0;
}

// An MA polynomial with its roots inside the unit circle replaced by their
// reciprocals: the same autocovariances, hence the same likelihood.
arma::vec invert_ma(const arma::vec& ma) {
  arma::uword q0 = ma.n_elem;
  while (q0 > 0 && ma(q0 - 1) == 0.0) --q0;
  if (q0 == 0) return ma;
  arma::cx_vec r;
  if (!roots_of(ma.head(q0), r)) return ma;
  const arma::uvec inside = arma::find(arma::abs(r) < 1.0);
  if (inside.is_empty()) return ma;
  arma::vec out(ma.n_elem, arma::fill::zeros);
  if (q0 == 1) {
    out(0) = 1.0 / ma(0);
    return out;
  }
  for (arma::uword i : inside) r(i) = 1.0 / r(i);
  arma::cx_vec poly = {std::complex<double>(1.0, 0.0)};
  for (const auto& root : r) {
    arma::cx_vec next(poly.n_elem + 1, arma::fill::zeros);
    next.head(poly.n_elem) = poly;
    next.tail(poly.n_elem) -= poly / root;
    poly = next;
  }
  for (arma::uword i = 0; i < q0; ++i) out(i) = poly(i + 1).real();
  return out;
}

// ---- the Kalman filter of a stationary ARMA in Harvey's state-space form:
// state dimension r = max(p, q + 1), transition T with phi in its first
// column and ones above the diagonal, disturbance loading R = (1, theta),
// observation = first state. Variances are in units of sigma2.

// The state's stationary covariance, P = T P T' + R R'. Unrolling the
// transition, state i is a fixed combination of past observations and
// disturbances: alpha_t(i) = sum_j phi_{i+j+1} y_{t-1-j} + R_{i+j} e_{t-j}
// (1-based phi, R = (1, theta)). So P = H S H' with S the covariance of
// (y_{t-1..t-r}, e_{t..t-r+1}): the ARMA autocovariances, the identity, and
// the psi-weights between them. That is a few r^3 operations, where solving
// the Lyapunov equation iteratively would cost tens of them.
bool stationary_covariance(const arma::vec& phi, const arma::vec& theta, arma::uword r, arma::mat& P) {
  arma::vec R(r, arma::fill::zeros);
  R(0) = 1.0;
  for (arma::uword i = 0; i < theta.n_elem; ++i) R(i + 1) = theta(i);
  const arma::uword p = phi.n_elem;
  if (p == 0) {
    // T is a shift: P(i,j) = sum_k R(i+k) R(j+k).
    P.set_size(r, r);
    for (arma::uword i = 0; i < r; ++i)
      for (arma::uword j = i; j < r; ++j) {
        double s = 0;
        for (arma::uword k = 0; j + k < r; ++k) s += R(i + k) * R(j + k);
        P(i, j) = P(j, i) = s;
      }
    return true;
  }
  const arma::uword q = theta.n_elem;
  // psi-weights up to r, theta_0 = 1.
  arma::vec psi(r + 1, arma::fill::zeros);
  psi(0) = 1.0;
  for (arma::uword j = 1; j <= r; ++j) {
    double v = j <= q ? theta(j - 1) : 0.0;
    for (arma::uword i = 1; i <= std::min(j, p); ++i) v += phi(i - 1) * psi(j - i);
    psi(j) = v;
  }
  auto th = [&](arma::uword j) { return j == 0 ? 1.0 : (j <= q ? theta(j - 1) : 0.0); };
  // Autocovariances gamma(0..p) from
  //   gamma(k) - sum_i phi_i gamma(|k-i|) = sum_{j>=k} theta_j psi_{j-k}.
  arma::mat A(p + 1, p + 1, arma::fill::zeros);
  arma::vec rhs(p + 1, arma::fill::zeros);
  for (arma::uword k = 0; k <= p; ++k) {
    A(k, k) += 1.0;
    for (arma::uword i = 1; i <= p; ++i) A(k, k > i ? k - i : i - k) -= phi(i - 1);
    for (arma::uword j = k; j <= q; ++j) rhs(k) += th(j) * (j - k <= r ? psi(j - k) : 0.0);
  }
  arma::vec g0;
  if (!arma::solve(g0, A, rhs, arma::solve_opts::no_approx) || !g0.is_finite() || g0(0) <= 0) return false;
  arma::vec gamma(r + 1, arma::fill::zeros);
  for (arma::uword k = 0; k <= std::min(p, r); ++k) gamma(k) = g0(k);
  for (arma::uword k = p + 1; k <= r; ++k) {
    double v = 0;
    for (arma::uword i = 1; i <= p; ++i) v += phi(i - 1) * gamma(k - i);
    for (arma::uword j = k; j <= q; ++j) v += th(j) * psi(j - k);
    gamma(k) = v;
  }
  // Row i of H: phi_{i+j+1} on y_{t-1-j} and R_{i+j} on e_{t-j}, j = 0..r-1-i;
  // mostly zeros for seasonal models, so H is kept as lists of its non-zero
  // entries: G = H S costs r * nnz * 2r and P = G H' costs r^2 * nnz.
  std::vector<std::vector<std::pair<arma::uword, double>>> rows(r);
  for (arma::uword i = 0; i < r; ++i)
    for (arma::uword j = 0; i + j < r; ++j) {
      if (i + j < p && phi(i + j) != 0.0) rows[i].emplace_back(j, phi(i + j));
      if (R(i + j) != 0.0) rows[i].emplace_back(r + j, R(i + j));
    }
  // S(a, b): gamma(|a-b|) in the y block, the identity in the e block, and
  // E[y_{t-1-j} e_{t-l}] = psi_{l-j-1} between them.
  auto S = [&](arma::uword a, arma::uword b) -> double {
    if (a < r && b < r) return gamma(a > b ? a - b : b - a);
    if (a >= r && b >= r) return a == b ? 1.0 : 0.0;
    const arma::uword j = a < r ? a : b, l = (a < r ? b : a) - r;
    return l >= j + 1 ? psi(l - j - 1) : 0.0;
  };
  arma::mat G(r, 2 * r, arma::fill::zeros);
  for (arma::uword i = 0; i < r; ++i)
    for (const auto& [k, h] : rows[i])
      for (arma::uword b = 0; b < 2 * r; ++b) G(i, b) += h * S(k, b);
  P.set_size(r, r);
  for (arma::uword i = 0; i < r; ++i)
    for (arma::uword l = 0; l <= i; ++l) {
      double v = 0;
      for (const auto& [k, h] : rows[l]) v += G(i, k) * h;
      P(i, l) = P(l, i) = v;
    }
  return P.is_finite() && P(0, 0) > 0;
}

struct Filtered {
  double ssq = 0;
  double sumlog = 0;
  std::size_t nu = 0;
  arma::vec resid;  // standardised innovations v / sqrt(F), when asked
  arma::vec state;  // filtered state after the last observation
  arma::mat P;      // its covariance
};

bool kalman(const double* w, std::size_t N, const arma::vec& phi_in, const arma::vec& theta, bool want_resid,
            Filtered& out) {
  const std::size_t p = phi_in.n_elem;
  const std::size_t r = std::max<std::size_t>(p, theta.n_elem + 1);
  arma::mat P0;
  if (!stationary_covariance(phi_in, theta, r, P0)) return false;
  // Padded with one zero so that "the state below the last" reads 0.
  std::vector<double> phi(r + 1, 0.0), R(r + 1, 0.0), a(r + 1, 0.0), anew(r + 1, 0.0);
  for (std::size_t i = 0; i < p; ++i) phi[i] = phi_in(i);
  R[0] = 1.0;
  for (std::size_t i = 0; i < theta.n_elem; ++i) R[i + 1] = theta(i);
  // Symmetric matrices, (r+1) x (r+1) with a zero last row and column.
  const std::size_t ld = r + 1;
  std::vector<double> P(ld * ld, 0.0), Pn(ld * ld, 0.0);
  for (std::size_t j = 0; j < r; ++j)
    for (std::size_t i = 0; i < r; ++i) P[i + j * ld] = P0(i, j);
  if (want_resid) out.resid.set_size(N);
  out.ssq = out.sumlog = 0;
  out.nu = 0;
  bool steady = false;
  for (std::size_t t = 0; t < N; ++t) {
    for (std::size_t i = 0; i < r; ++i) anew[i] = phi[i] * a[0] + a[i + 1];
    if (steady) {
      // Filtered covariance 0: predicted covariance R R', F = 1, gain R.
      const double v = w[t] - anew[0];
      out.ssq += v * v;
      ++out.nu;
      if (want_resid) out.resid(t) = v;
      for (std::size_t i = 0; i < r; ++i) a[i] = anew[i] + R[i] * v;
      continue;
    }
    if (t == 0) {
      Pn = P;
    } else {
      // Pn = T P T' + R R' with T = [phi | shift]:
      // Pn(i,j) = phi_i phi_j P00 + phi_i P(0,j+1) + phi_j P(i+1,0) + P(i+1,j+1) + R_i R_j.
      const double p00 = P[0];
      for (std::size_t j = 0; j < r; ++j) {
        const double pj = phi[j], p0j = P[(j + 1) * ld];
        for (std::size_t i = 0; i <= j; ++i) {
          const double v = phi[i] * (pj * p00 + p0j) + pj * P[i + 1] + P[(i + 1) + (j + 1) * ld] + R[i] * R[j];
          Pn[i + j * ld] = v;
          Pn[j + i * ld] = v;
        }
      }
    }
    const double F = Pn[0];
    if (!(F > 0) || !std::isfinite(F)) return false;
    const double v = w[t] - anew[0];
    out.ssq += v * v / F;
    out.sumlog += std::log(F);
    ++out.nu;
    if (want_resid) out.resid(t) = v / std::sqrt(F);
    for (std::size_t i = 0; i < r; ++i) a[i] = anew[i] + Pn[i] * v / F;
    double largest = 0;
    for (std::size_t j = 0; j < r; ++j) {
      const double kj = Pn[j] / F;
      for (std::size_t i = 0; i <= j; ++i) {
        const double x = Pn[i + j * ld] - Pn[i] * kj;
        P[i + j * ld] = x;
        P[j + i * ld] = x;
        largest = std::max(largest, std::fabs(x));
      }
    }
    if (largest < 1e-9) {
      steady = true;
      std::fill(P.begin(), P.end(), 0.0);
    }
  }
  out.state = arma::vec(a.data(), r);
  out.P.set_size(r, r);
  for (std::size_t j = 0; j < r; ++j)
    for (std::size_t i = 0; i < r; ++i) out.P(i, j) = P[i + j * ld];
  return std::isfinite(out.ssq) && std::isfinite(out.sumlog);
}

// The same likelihood in O(r) per observation: with a stationary start the
// predicted covariance changes by a rank-one term each step,
// P_{t+1} - P_t = W_t M_t W_t' (W_t a vector, M_t a scalar), and the
// Chandrasekhar recursions update F, the gain and that term without ever
// forming P:
//   c = W_t(0), g = M_t c^2, F_{t+1} = F_t + g,
//   Kt_{t+1} = Kt_t + M_t c T W_t        (Kt = T P Z', the unscaled gain),
//   W_{t+1} = T W_t - Kt_{t+1} c / F_{t+1},   M_{t+1} = M_t + M_t^2 c^2 / F_t,
// starting from W_1 = Kt_1, M_1 = -1/F_1 (P_1 = T P_1 T' + R R'). The full
// filter (kalman) is kept for the final pass, which needs the covariance.
bool kalman_likelihood(const double* w, std::size_t N, const arma::vec& phi_in, const arma::vec& theta, double& ssq,
                       double& sumlog, std::size_t& nu) {
  const std::size_t p = phi_in.n_elem;
  const std::size_t r = std::max<std::size_t>(p, theta.n_elem + 1);
  arma::mat P0;
  if (!stationary_covariance(phi_in, theta, r, P0)) return false;
  std::vector<double> phi(r + 1, 0.0), a(r + 1, 0.0), anew(r + 1, 0.0), K(r + 1, 0.0), W(r + 1, 0.0), TW(r + 1, 0.0);
  for (std::size_t i = 0; i < p; ++i) phi[i] = phi_in(i);
  double F = P0(0, 0);
  // Kt_1 = T P_1 Z' = T (first column of P_1).
  for (std::size_t i = 0; i < r; ++i) K[i] = phi[i] * P0(0, 0) + (i + 1 < r ? P0(i + 1, 0) : 0.0);
  W = K;
  double M = -1.0 / F;
  ssq = sumlog = 0;
  nu = 0;
  bool steady = false;
  for (std::size_t t = 0; t < N; ++t) {
    if (!(F > 0) || !std::isfinite(F)) return false;
    const double v = w[t] - a[0];
    ssq += v * v / F;
    sumlog += std::log(F);
    ++nu;
    // a_{t+1} = T a_t + Kt_t v / F_t
    const double scale = v / F;
    for (std::size_t i = 0; i < r; ++i) anew[i] = phi[i] * a[0] + a[i + 1] + K[i] * scale;
    std::swap(a, anew);
    if (steady) continue;
    const double c = W[0];
    const double g = M * c * c;
    for (std::size_t i = 0; i < r; ++i) TW[i] = phi[i] * W[0] + W[i + 1];
    const double F_next = F + g;
    double largest = 0;
    for (std::size_t i = 0; i < r; ++i) K[i] += M * c * TW[i];
    for (std::size_t i = 0; i < r; ++i) {
      W[i] = TW[i] - K[i] * c / F_next;
      largest = std::max(largest, std::fabs(W[i]));
    }
    M += M * M * c * c / F;
    F = F_next;
    // Once the change term vanishes the filter has reached its steady state.
    if (largest * largest * std::fabs(M) < 1e-12 * F) steady = true;
  }
  return std::isfinite(ssq) && std::isfinite(sumlog);
}

// ---- estimation

struct Problem {
  Layout L;
  arma::vec dy;   // differenced y
  arma::mat dX;   // differenced regressors (possibly rotated)
  std::size_t n_used = 0;
};

arma::vec errors(const Problem& pb, const arma::vec& par) {
  if (pb.dX.n_cols == 0) return pb.dy;
  return pb.dy - pb.dX * par.tail(pb.dX.n_cols);
}

// 0.5 log(conditional sum of squares / count), R's CSS objective. The
// expanded seasonal polynomials are mostly zeros (phi has p + P(p+1) non-zero
// terms among p + mP), so only those terms are visited.
double css_objective(const Problem& pb, const arma::vec& par, double* sigma2 = nullptr, arma::vec* resid = nullptr) {
  arma::vec phi, theta;
  expand(par, pb.L, phi, theta);
  const arma::vec w = errors(pb, par);
  const arma::uword N = w.n_elem, p = phi.n_elem, q = theta.n_elem;
  if (N <= p) return HUGE_VAL;
  std::vector<std::pair<arma::uword, double>> ar, ma;
  for (arma::uword j = 0; j < p; ++j)
    if (phi(j) != 0.0) ar.emplace_back(j + 1, phi(j));
  for (arma::uword j = 0; j < q; ++j)
    if (theta(j) != 0.0) ma.emplace_back(j + 1, theta(j));
  arma::vec e(N, arma::fill::zeros);
  const double* x = w.memptr();
  double* ep = e.memptr();
  double ssq = 0;
  for (arma::uword t = p; t < N; ++t) {
    double v = x[t];
    for (const auto& [lag, c] : ar) v -= c * x[t - lag];
    // Innovations before the first conditioned one count as 0.
    for (const auto& [lag, c] : ma) {
      if (lag > t - p) break;
      v -= c * ep[t - lag];
    }
    ep[t] = v;
    ssq += v * v;
  }
  const double s2 = ssq / static_cast<double>(N - p);
  if (sigma2) *sigma2 = s2;
  if (resid) *resid = e;
  return 0.5 * std::log(s2);
}

// 0.5 (log(ssq/nu) + sumlog/nu): minus the concentrated log-likelihood per
// observation, up to constants. DBL_MAX (R's double.xmax) where the model has
// no stationary state.
double ml_objective(const Problem& pb, const arma::vec& raw, bool transformed) {
  const arma::vec par = transformed ? undo_transform(raw, pb.L) : raw;
  arma::vec phi, theta;
  expand(par, pb.L, phi, theta);
  const arma::vec w = errors(pb, par);
  double ssq = 0, sumlog = 0;
  std::size_t count = 0;
  if (!kalman_likelihood(w.memptr(), w.n_elem, phi, theta, ssq, sumlog, count)) return DBL_MAX;
  const double nu = static_cast<double>(count);
  return 0.5 * (std::log(ssq / nu) + sumlog / nu);
}

// d(natural)/d(transformed) by forward differences (R's ARIMA_Gradtrans).
arma::mat transform_jacobian(const arma::vec& raw, const Layout& L) {
  const arma::uword n = raw.n_elem;
  arma::mat A(n, n, arma::fill::eye);
  constexpr double eps = 1e-3;
  auto block = [&](arma::uword at, int len) {
    if (len <= 0) return;
    const arma::vec base = raw.subvec(at, at + len - 1);
    const arma::vec w2 = to_stationary(base);
    for (int i = 0; i < len; ++i) {
      arma::vec b = base;
      b(i) += eps;
      const arma::vec w3 = to_stationary(b);
      for (int j = 0; j < len; ++j) A(at + i, at + j) = (w3(j) - w2(j)) / eps;
    }
  };
  block(0, L.o.p);
  block(L.sar_at(), L.o.P);
  return A;
}

bool variances_ok(const arma::mat& hessian, std::size_t n_used, const arma::mat* jacobian) {
  arma::mat inv;
  if (!arma::inv(inv, hessian * static_cast<double>(n_used))) return false;
  if (!inv.is_finite()) return false;
  const arma::mat var = jacobian ? arma::mat(jacobian->t() * inv * *jacobian) : inv;
  return arma::all(var.diag() >= 0);
}

}  // namespace

double min_root_modulus(const arma::vec& c, int sign) {
  arma::uword k = c.n_elem;
  while (k > 0 && std::fabs(c(k - 1)) <= 1e-8) --k;
  if (k == 0) return HUGE_VAL;
  const arma::vec head = sign < 0 ? arma::vec(-c.head(k)) : arma::vec(c.head(k));
  arma::cx_vec r;
  if (!roots_of(head, r)) return 0.0;  // treated as on the unit circle: unusable
  return arma::min(arma::abs(r));
}

double normal_quantile_two_sided(double level) {
  // Acklam's rational approximation refined by one Halley step: |error| < 1e-15.
  const double p = 0.5 + level / 2.0;
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                 1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01,  -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00};
  double x;
  if (p < 0.02425) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - 0.02425) {
    const double q = p - 0.5, rr = q * q;
    x = (((((a[0] * rr + a[1]) * rr + a[2]) * rr + a[3]) * rr + a[4]) * rr + a[5]) * q /
        (((((b[0] * rr + b[1]) * rr + b[2]) * rr + b[3]) * rr + b[4]) * rr + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::numbers::sqrt2) - p;
  const double u = e * std::sqrt(two_pi) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

std::string model_name(const ArimaOrder& o, bool mean, bool drift) {
  std::string s = "ARIMA(" + std::to_string(o.p) + "," + std::to_string(o.d) + "," + std::to_string(o.q) + ")";
  if (o.m > 1 && (o.P + o.D + o.Q) > 0)
    s += "(" + std::to_string(o.P) + "," + std::to_string(o.D) + "," + std::to_string(o.Q) + ")[" +
         std::to_string(o.m) + "]";
  if (mean) s += " with non-zero mean";
  else if (drift) s += " with drift";
  else if (o.d + o.D == 0) s += " with zero mean";
  return s;
}

std::string model_name(const ArimaFit& fit) {
  // As R's arima.string: with regressors the mean or drift is one of the
  // regression's coefficients and not named.
  if (fit.n_xreg_user > 0) return "Regression with " + model_name(fit.order, false, false) + " errors";
  return model_name(fit.order, fit.has_mean, fit.has_drift);
}

Result<ArimaFit> fit_arima(const arma::vec& y, const ArimaSpec& spec, const arma::mat& xreg) {
  const ArimaOrder& o = spec.order;
  if (o.p < 0 || o.d < 0 || o.q < 0 || o.P < 0 || o.D < 0 || o.Q < 0 || o.m < 1)
    return Error{Errc::invalid_argument, "ARIMA orders must be >= 0 and the period >= 1"};
  if (!y.is_finite()) return Error{Errc::invalid_argument, "the series has a missing or infinite value"};
  const std::size_t n = y.n_elem;
  if (!xreg.is_empty() && xreg.n_rows != n)
    return Error{Errc::invalid_argument, "regressors have " + std::to_string(xreg.n_rows) + " rows for " +
                                             std::to_string(n) + " observations"};
  const int nd = o.d + o.D * o.m;
  if (static_cast<std::ptrdiff_t>(n) - nd <= 0)
    return Error{Errc::invalid_argument, "too few observations (" + std::to_string(n) + ") for " + model_name(o, false, false)};

  ArimaFit fit;
  fit.order = o;
  fit.method = spec.method;
  fit.n = n;
  fit.n_used = n - static_cast<std::size_t>(nd);
  fit.has_mean = spec.constant && o.d + o.D == 0;
  fit.has_drift = spec.constant && o.d + o.D == 1;
  fit.n_xreg_user = xreg.n_cols;

  // Regressors in R's order.
  arma::mat X(n, 0);
  if (fit.has_mean) X = arma::join_rows(X, arma::mat(n, 1, arma::fill::ones));
  if (fit.has_drift) X = arma::join_rows(X, arma::regspace<arma::vec>(1, static_cast<double>(n)));
  if (!xreg.is_empty()) X = arma::join_rows(X, xreg);
  const arma::uword k = X.n_cols;

  Layout L{o};
  const arma::uword narma = L.narma();
  for (int i = 1; i <= o.p; ++i) fit.names.push_back("ar" + std::to_string(i));
  for (int i = 1; i <= o.q; ++i) fit.names.push_back("ma" + std::to_string(i));
  for (int i = 1; i <= o.P; ++i) fit.names.push_back("sar" + std::to_string(i));
  for (int i = 1; i <= o.Q; ++i) fit.names.push_back("sma" + std::to_string(i));
  if (fit.has_mean) fit.names.push_back("intercept");
  if (fit.has_drift) fit.names.push_back("drift");
  for (arma::uword i = 0; i < xreg.n_cols; ++i) fit.names.push_back(xreg.n_cols == 1 ? "xreg" : "xreg" + std::to_string(i + 1));

  // With several regressors R works on an orthogonal rotation of them
  // (better conditioned); the coefficients are rotated back at the end.
  arma::mat V;
  arma::mat Xw = X;
  if (k > 1) {
    arma::mat U;
    arma::vec s;
    if (!arma::svd(U, s, V, X)) return Error{Errc::invalid_argument, "regressors: singular value decomposition failed"};
    Xw = X * V;
  }

  Problem pb{L, difference(arma::mat(y), o).col(0), k > 0 ? difference(Xw, o) : arma::mat(fit.n_used, 0), fit.n_used};

  arma::vec init(narma + k, arma::fill::zeros);
  arma::vec parscale(narma + k, arma::fill::ones);
  if (k > 0) {
    // Least squares start for the regression, on the differenced data when
    // that leaves enough rows, and a parameter scale of 10 standard errors.
    const bool use_diff = pb.dy.n_elem > k;
    const arma::mat& A = use_diff ? pb.dX : Xw;
    const arma::vec b = use_diff ? pb.dy : y;
    arma::vec beta;
    if (!arma::solve(beta, A, b, arma::solve_opts::no_approx) || !beta.is_finite())
      return Error{Errc::invalid_argument, "regressors are linearly dependent"};
    const arma::vec res = b - A * beta;
    const double dof = static_cast<double>(A.n_rows) - static_cast<double>(k);
    arma::mat AtA_inv;
    arma::vec se(k, arma::fill::ones);
    if (dof > 0 && arma::inv_sympd(AtA_inv, A.t() * A)) {
      se = arma::sqrt(AtA_inv.diag() * arma::dot(res, res) / dof);
      se.transform([](double v) { return std::isfinite(v) && v > 0 ? v : 1.0; });
    }
    init.tail(k) = beta;
    parscale.tail(k) = 10 * se;
  }

  MinimizeOptions opts;
  opts.parscale = parscale;
  arma::vec par = init;
  arma::mat hessian;
  double objective = 0;

  if (spec.method == FitMethod::css || spec.method == FitMethod::css_ml) {
    if (pb.dy.n_elem <= static_cast<arma::uword>(o.p + o.m * o.P))
      return Error{Errc::invalid_argument, "too few observations for the conditional sum of squares"};
    const Objective f = [&](const arma::vec& x) { return css_objective(pb, x); };
    const MinimizeResult r = minimize_bfgs(f, init, opts);
    if (r.failed) return Error{Errc::invalid_argument, "the conditional sum of squares is not finite near the start"};
    if (spec.method == FitMethod::css) {
      par = r.par;
      objective = r.value;
      fit.converged = r.converged;
      fit.variances_ok = !spec.check_variances || (numeric_hessian(f, par, opts, hessian) && variances_ok(hessian, fit.n_used, nullptr));
    } else {
      if (r.converged) par = r.par;
      if (o.p > 0 && !ar_stationary(par.head(o.p)))
        return Error{Errc::invalid_argument, "non-stationary AR part from CSS"};
      if (o.P > 0 && !ar_stationary(par.subvec(L.sar_at(), L.sar_at() + o.P - 1)))
        return Error{Errc::invalid_argument, "non-stationary seasonal AR part from CSS"};
    }
  }

  if (spec.method != FitMethod::css) {
    if (spec.method == FitMethod::ml) {
      if (o.p > 0 && !ar_stationary(par.head(o.p))) return Error{Errc::invalid_argument, "non-stationary AR part"};
    }
    arma::vec raw = do_transform(par, L);
    if (o.q > 0) raw.subvec(L.ma_at(), L.ma_at() + o.q - 1) = invert_ma(raw.subvec(L.ma_at(), L.ma_at() + o.q - 1));
    if (o.Q > 0) raw.subvec(L.sma_at(), L.sma_at() + o.Q - 1) = invert_ma(raw.subvec(L.sma_at(), L.sma_at() + o.Q - 1));
    const Objective f = [&](const arma::vec& x) { return ml_objective(pb, x, true); };
    if (f(raw) >= DBL_MAX) return Error{Errc::invalid_argument, "the likelihood has no stationary start"};
    MinimizeResult r = minimize_bfgs(f, raw, opts);
    if (r.failed) return Error{Errc::invalid_argument, "the likelihood is not finite near the optimum"};
    fit.converged = r.converged;
    raw = r.par;
    objective = r.value;
    if (o.q > 0) raw.subvec(L.ma_at(), L.ma_at() + o.q - 1) = invert_ma(raw.subvec(L.ma_at(), L.ma_at() + o.q - 1));
    if (o.Q > 0) raw.subvec(L.sma_at(), L.sma_at() + o.Q - 1) = invert_ma(raw.subvec(L.sma_at(), L.sma_at() + o.Q - 1));
    if (arma::any(raw != r.par)) objective = f(raw);
    if (spec.check_variances) {
      const arma::mat A = transform_jacobian(raw, L);
      fit.variances_ok = numeric_hessian(f, raw, opts, hessian) && variances_ok(hessian, fit.n_used, &A);
    }
    par = undo_transform(raw, L);
  }

  // Back from the rotated regressors.
  if (k > 1) par.tail(k) = V * par.tail(k);
  fit.coef = par;
  fit.beta = k > 0 ? arma::vec(par.tail(k)) : arma::vec();
  expand(par, L, fit.ar_poly, fit.ma_poly);
  fit.delta = differencing_polynomial(o);

  // Final pass: innovations, state, sigma2, likelihood.
  const arma::vec u = k > 0 ? arma::vec(y - X * fit.beta) : y;
  const arma::vec w = difference(arma::mat(u), o).col(0);
  Filtered filt;
  const bool have_state = kalman(w.memptr(), w.n_elem, fit.ar_poly, fit.ma_poly, true, filt);
  const double nu = static_cast<double>(fit.n_used);
  if (spec.method == FitMethod::css) {
    double s2 = 0;
    arma::vec e;
    css_objective(pb, arma::join_cols(par.head(narma), k > 1 ? arma::vec(arma::solve(V, par.tail(k))) : arma::vec(par.tail(k))), &s2, &e);
    fit.sigma2 = s2;
    fit.loglik = -0.5 * (2 * nu * objective + nu + nu * std::log(two_pi));
    fit.aic = std::nan("");
    fit.residuals = have_state ? filt.resid : e;
  } else {
    if (!have_state) return Error{Errc::invalid_argument, "the fitted model has no stationary state"};
    fit.sigma2 = filt.ssq / nu;
    fit.loglik = -0.5 * (2 * nu * objective + nu + nu * std::log(two_pi));
    fit.aic = -2 * fit.loglik + 2 * static_cast<double>(narma + k) + 2;
    fit.residuals = filt.resid;
  }
  fit.has_state = have_state;
  if (have_state) fit.state = filt.state;
  else fit.state.zeros(std::max<arma::uword>(fit.ar_poly.n_elem, fit.ma_poly.n_elem + 1));
  fit.state_cov = have_state ? filt.P : arma::mat(fit.state.n_elem, fit.state.n_elem, arma::fill::zeros);
  fit.u_tail = nd > 0 ? arma::vec(arma::reverse(u.tail(static_cast<arma::uword>(nd)))) : arma::vec();
  return fit;
}

Result<ArimaFit> differencing_fit(const arma::vec& y, const ArimaOrder& order, std::optional<double> constant) {
  ArimaOrder o = order;
  o.p = o.q = o.P = o.Q = 0;
  const int nd = o.d + o.D * o.m;
  if (!y.is_finite()) return Error{Errc::invalid_argument, "the series has a missing or infinite value"};
  if (static_cast<std::ptrdiff_t>(y.n_elem) - nd <= 0)
    return Error{Errc::invalid_argument, "too few observations (" + std::to_string(y.n_elem) + ") for " + model_name(o, false, false)};
  ArimaFit fit;
  fit.order = o;
  fit.n = y.n_elem;
  fit.n_used = y.n_elem - static_cast<std::size_t>(nd);
  fit.has_mean = constant.has_value() && nd == 0;
  fit.has_drift = constant.has_value() && o.d + o.D == 1;
  arma::vec u = y;
  if (fit.has_mean) {
    fit.names = {"intercept"};
    u -= *constant;
  } else if (fit.has_drift) {
    fit.names = {"drift"};
    u -= *constant * arma::regspace<arma::vec>(1, static_cast<double>(y.n_elem));
  }
  fit.coef = fit.names.empty() ? arma::vec() : arma::vec{*constant};
  fit.beta = fit.coef;
  fit.delta = differencing_polynomial(o);
  const arma::vec w = difference(arma::mat(u), o).col(0);
  const double nu = static_cast<double>(fit.n_used);
  fit.sigma2 = arma::dot(w, w) / nu;
  fit.loglik = fit.sigma2 > 0 ? -0.5 * nu * (std::log(two_pi * fit.sigma2) + 1) : HUGE_VAL;
  fit.aic = -2 * fit.loglik + 2;
  fit.residuals = w;
  fit.state = {w(w.n_elem - 1)};
  fit.state_cov.zeros(1, 1);
  fit.u_tail = nd > 0 ? arma::vec(arma::reverse(u.tail(static_cast<arma::uword>(nd)))) : arma::vec();
  return fit;
}

Result<ArimaForecast> forecast_arima(const ArimaFit& fit, std::size_t h, const arma::mat& future_xreg,
                                     std::size_t window_start) {
  if (fit.n_xreg_user > 0 && (future_xreg.n_cols != fit.n_xreg_user || future_xreg.n_rows != h))
    return Error{Errc::invalid_argument, "forecasting needs " + std::to_string(h) + " rows of " +
                                             std::to_string(fit.n_xreg_user) + " future regressors"};
  if (!fit.has_state)
    return Error{Errc::invalid_argument, model_name(fit) + ": the fitted AR part is not stationary; no state to forecast from"};
  ArimaForecast out;
  out.mean.zeros(h);
  out.se.zeros(h);
  if (h == 0) return out;
  const arma::uword r = fit.state.n_elem;
  const arma::uword p = fit.ar_poly.n_elem;
  const arma::uword nd = fit.delta.n_elem;
  // The variance forecast uses: the residual sum of squares over the degrees
  // of freedom left after the coefficients, as R's forecast package does.
  const double nu = static_cast<double>(fit.n_used), k = static_cast<double>(fit.n_coef());
  const double s2 = nu > k ? fit.sigma2 * nu / (nu - k) : fit.sigma2;

  // Regression part.
  arma::vec reg(h, arma::fill::zeros);
  arma::uword col = 0;
  if (fit.has_mean) reg += fit.beta(col++);
  if (fit.has_drift) reg += fit.beta(col++) * arma::regspace<arma::vec>(static_cast<double>(fit.n) + 1, static_cast<double>(fit.n + h));
  if (fit.n_xreg_user > 0) reg += future_xreg * fit.beta.tail(fit.n_xreg_user);

  // Mean of the errors: project the state, integrate the differences.
  arma::vec a = fit.state;
  std::vector<double> hist(fit.u_tail.begin(), fit.u_tail.end());  // latest first
  for (std::size_t j = 0; j < h; ++j) {
    arma::vec next(r);
    for (arma::uword i = 0; i < r; ++i) next(i) = (i < p ? fit.ar_poly(i) * a(0) : 0.0) + (i + 1 < r ? a(i + 1) : 0.0);
    a = next;
    double u = a(0);
    for (arma::uword i = 0; i < nd; ++i) u += fit.delta(i) * hist[i];
    if (nd > 0) {
      hist.insert(hist.begin(), u);
      hist.pop_back();
    }
    out.mean(j) = reg(j) + u;
  }

  // Variances. With a known state (filtered covariance 0, the usual case
  // after a long sample) the psi-weights of the full polynomial give them in
  // O(h); otherwise the state covariance is propagated explicitly.
  // 1e-6 of sigma2 is far below what changes an interval; past it the
  // initial uncertainty is propagated (rare: an MA root near the unit circle).
  const bool known_state = fit.state_cov.is_empty() || arma::abs(fit.state_cov).max() < 1e-6;
  if (known_state) {
    arma::vec full_ar = multiply(arma::join_cols(arma::vec{1.0}, -fit.ar_poly), arma::join_cols(arma::vec{1.0}, -fit.delta));
    full_ar = -full_ar.tail(full_ar.n_elem - 1);
    arma::vec psi(h, arma::fill::zeros);
    psi(0) = 1.0;
    for (std::size_t j = 1; j < h; ++j) {
      double v = j <= fit.ma_poly.n_elem ? fit.ma_poly(j - 1) : 0.0;
      for (arma::uword i = 1; i <= std::min<arma::uword>(j, full_ar.n_elem); ++i) v += full_ar(i - 1) * psi(j - i);
      psi(j) = v;
    }
    double var = 0;
    arma::vec cum(h);  // cum(m) = psi_0 + ... + psi_m
    for (std::size_t j = 0; j < h; ++j) {
      var += psi(j) * psi(j);
      out.se(j) = std::sqrt(s2 * var);
      cum(j) = psi(j) + (j > 0 ? cum(j - 1) : 0.0);
    }
    // The window's total error: innovation i (1-based) enters the steps
    // max(s, i-1)..h-1 of the window with psi weights starting at
    // psi_{max(s,i-1)+1-i}, so its coefficient is a difference of cum.
    const std::size_t s = std::min(window_start, h);
    double window_var = 0;
    for (std::size_t i = 1; i <= h; ++i) {
      const double c = cum(h - i) - (i <= s ? cum(s - i) : 0.0);
      window_var += c * c;
    }
    out.window_se = s < h ? std::sqrt(s2 * window_var) : 0.0;
    return out;
  }
  // State x = (ARMA state [r], u_t .. u_{t-L+1} [L], running sum [1]).
  const arma::uword L = std::max<arma::uword>(nd, 1);
  const arma::uword dim = r + L + 1;
  arma::mat F(dim, dim, arma::fill::zeros);
  arma::vec G(dim, arma::fill::zeros);
  arma::vec Rv(r, arma::fill::zeros);
  Rv(0) = 1.0;
  for (arma::uword i = 0; i < fit.ma_poly.n_elem; ++i) Rv(i + 1) = fit.ma_poly(i);
  for (arma::uword i = 0; i < r; ++i) {
    if (i < p) F(i, 0) = fit.ar_poly(i);
    if (i + 1 < r) F(i, i + 1) = 1.0;
  }
  G.head(r) = Rv;
  // u' = (T alpha)(0) + e + sum delta_i lag_{i-1}
  F.row(r).head(r) = F.row(0).head(r);
  G(r) = 1.0;
  for (arma::uword i = 0; i < nd; ++i) F(r, r + i) = fit.delta(i);
  for (arma::uword i = 1; i < L; ++i) F(r + i, r + i - 1) = 1.0;
  // Before the window the running sum stays 0; from its first step on it
  // adds u'.
  arma::mat F_before = F;
  F_before(r + L, r + L) = 1.0;
  const arma::mat GG_before = G * G.t();
  F.row(r + L) = F.row(r);
  F(r + L, r + L) = 1.0;
  G(r + L) = 1.0;
  arma::mat P(dim, dim, arma::fill::zeros);
  P.submat(0, 0, r - 1, r - 1) = fit.state_cov;
  const arma::mat GG = G * G.t();
  for (std::size_t j = 0; j < h; ++j) {
    if (j < window_start) {
      P = F_before * P * F_before.t() + GG_before;
    } else {
      P = F * P * F.t() + GG;
    }
    out.se(j) = std::sqrt(std::max(0.0, s2 * P(r, r)));
  }
  out.window_se = std::sqrt(std::max(0.0, s2 * P(r + L, r + L)));
  return out;
}

}  // namespace aiops::forecast
