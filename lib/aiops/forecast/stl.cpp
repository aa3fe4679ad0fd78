#include "aiops/forecast/stl.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace aiops::forecast {
namespace {

// The loess routines below index their arrays from 1 and use positions
// 1..n as abscissae, as the published algorithm does; `at(v, i)` is element
// i (1-based). Keeping the 1-based positions makes the kernel widths and the
// boundary windows identical to the reference description, which is what
// makes the results agree with R to rounding error.
inline double& at(double* v, long i) { return v[i - 1]; }
inline double at(const double* v, long i) { return v[i - 1]; }

// The reference implementation compares against 0.999 h and 0.001 h written
// as single-precision literals; using the same constants keeps the points
// that get weight exactly 1 (or 0) the same as R's.
const double kNear = static_cast<double>(0.001f);
const double kFar = static_cast<double>(0.999f);

// Local (degree 0 or 1) tricube-weighted fit at abscissa xs using the points
// nleft..nright of y. Returns false when all weights vanish.
bool loess_estimate(const double* y, long n, long len, int degree, double xs, double& ys,
                    long nleft, long nright, double* w, bool use_rw, const double* rw) {
  const double range = static_cast<double>(n) - 1.0;
  double h = std::max(xs - static_cast<double>(nleft), static_cast<double>(nright) - xs);
  // A window wider than the series widens the kernel by half the excess
  // (integer halving, as in the reference).
  if (len > n) h += static_cast<double>((len - n) / 2);
  const double h9 = kFar * h;
  const double h1 = kNear * h;
  double a = 0.0;
  for (long j = nleft; j <= nright; ++j) {
    at(w, j) = 0.0;
    const double r = std::fabs(static_cast<double>(j) - xs);
    if (r <= h9) {
      if (r <= h1) {
        at(w, j) = 1.0;
      } else {
        const double q = r / h;
        const double t = 1.0 - q * q * q;
        at(w, j) = t * t * t;
      }
      if (use_rw) at(w, j) *= at(rw, j);
      a += at(w, j);
    }
  }
  if (a <= 0.0) return false;
  for (long j = nleft; j <= nright; ++j) at(w, j) /= a;
  if (h > 0.0 && degree > 0) {
    // Turn the degree-0 weights into those of a local linear fit, unless the
    // design is (numerically) a single point.
    double mean = 0.0;
    for (long j = nleft; j <= nright; ++j) mean += at(w, j) * static_cast<double>(j);
    double b = xs - mean;
    double c = 0.0;
    for (long j = nleft; j <= nright; ++j) {
      const double d = static_cast<double>(j) - mean;
      c += at(w, j) * d * d;
    }
    if (std::sqrt(c) > kNear * range) {
      b /= c;
      for (long j = nleft; j <= nright; ++j)
        at(w, j) *= b * (static_cast<double>(j) - mean) + 1.0;
    }
  }
  double s = 0.0;
  for (long j = nleft; j <= nright; ++j) s += at(w, j) * at(y, j);
  ys = s;
  return true;
}

// Loess smooth of y[1..n] with window len, evaluated every `jump` points and
// linearly interpolated in between. `work` holds n doubles.
void loess_smooth(const double* y, long n, long len, int degree, long jump, bool use_rw,
                  const double* rw, double* ys, double* work) {
  if (n < 2) {
    at(ys, 1) = at(y, 1);
    return;
  }
  const long step = std::min(jump, n - 1);
  long nleft = 1;
  long nright = n;
  if (len >= n) {
    nleft = 1;
    nright = n;
    for (long i = 1; i <= n; i += step) {
      if (!loess_estimate(y, n, len, degree, static_cast<double>(i), at(ys, i), nleft, nright,
                          work, use_rw, rw))
        at(ys, i) = at(y, i);
    }
  } else if (step == 1) {
    const long half = (len + 1) / 2;
    nleft = 1;
    nright = len;
    for (long i = 1; i <= n; ++i) {
      if (i > half && nright != n) {
        ++nleft;
        ++nright;
      }
      if (!loess_estimate(y, n, len, degree, static_cast<double>(i), at(ys, i), nleft, nright,
                          work, use_rw, rw))
        at(ys, i) = at(y, i);
    }
  } else {
    const long half = (len + 1) / 2;
    for (long i = 1; i <= n; i += step) {
      if (i < half) {
        nleft = 1;
        nright = len;
      } else if (i >= n - half + 1) {
        nleft = n - len + 1;
        nright = n;
      } else {
        nleft = i - half + 1;
        nright = len + i - half;
      }
      if (!loess_estimate(y, n, len, degree, static_cast<double>(i), at(ys, i), nleft, nright,
                          work, use_rw, rw))
        at(ys, i) = at(y, i);
    }
  }
  if (step != 1) {
    for (long i = 1; i <= n - step; i += step) {
      const double delta = (at(ys, i + step) - at(ys, i)) / static_cast<double>(step);
      for (long j = i + 1; j <= i + step - 1; ++j)
        at(ys, j) = at(ys, i) + delta * static_cast<double>(j - i);
    }
    const long last = ((n - 1) / step) * step + 1;
    if (last != n) {
      // The last point was skipped by the stride: fit it with the window of
      // the last evaluated point and interpolate up to it.
      if (!loess_estimate(y, n, len, degree, static_cast<double>(n), at(ys, n), nleft, nright,
                          work, use_rw, rw))
        at(ys, n) = at(y, n);
      if (last != n - 1) {
        const double delta = (at(ys, n) - at(ys, last)) / static_cast<double>(n - last);
        for (long j = last + 1; j <= n - 1; ++j)
          at(ys, j) = at(ys, last) + delta * static_cast<double>(j - last);
      }
    }
  }
}

// Smooths each cycle-subseries of y and extends it by one value before the
// start and one after the end, giving n + 2 np values in `season`. work1..4
// hold n doubles each (a subseries has at most n / np + 1 values, plus 2).
void smooth_subseries(const double* y, long n, long np, long ns, int degree, long jump,
                      bool use_rw, const double* rw, double* season, double* work1,
                      double* work2, double* work3, double* work4) {
  for (long j = 1; j <= np; ++j) {
    const long k = (n - j) / np + 1;
    for (long i = 1; i <= k; ++i) at(work1, i) = at(y, (i - 1) * np + j);
    if (use_rw)
      for (long i = 1; i <= k; ++i) at(work3, i) = at(rw, (i - 1) * np + j);
    loess_smooth(work1, k, ns, degree, jump, use_rw, work3, work2 + 1, work4);
    const long nright = std::min(ns, k);
    if (!loess_estimate(work1, k, ns, degree, 0.0, at(work2, 1), 1, nright, work4, use_rw, work3))
      at(work2, 1) = at(work2, 2);
    const long nleft = std::max(1L, k - ns + 1);
    if (!loess_estimate(work1, k, ns, degree, static_cast<double>(k + 1), at(work2, k + 2), nleft,
                        k, work4, use_rw, work3))
      at(work2, k + 2) = at(work2, k + 1);
    for (long m = 1; m <= k + 2; ++m) at(season, (m - 1) * np + j) = at(work2, m);
  }
}

// Moving average of length len: n - len + 1 values.
void moving_average(const double* x, long n, long len, double* ave) {
  const long count = n - len + 1;
  const double flen = static_cast<double>(len);
  double v = 0.0;
  for (long i = 1; i <= len; ++i) v += at(x, i);
  at(ave, 1) = v / flen;
  long k = len;
  long m = 0;
  for (long j = 2; j <= count; ++j) {
    ++k;
    ++m;
    v = v - at(x, m) + at(x, k);
    at(ave, j) = v / flen;
  }
}

// Low-pass filter of the extended cycle-subseries (n values): averages of
// length np, np and 3, leaving n - 2 np values in `out`.
void low_pass_averages(const double* x, long n, long np, double* out, double* work) {
  moving_average(x, n, np, out);
  moving_average(out, n - np + 1, np, work);
  moving_average(work, n - 2 * np + 2, 3, out);
}

struct Params {
  long np, ns, nt, nl;
  int isdeg, itdeg, ildeg;
  long nsjump, ntjump, nljump;
  int inner;
};

// One run of the inner loop (`inner` passes). `work` is 5 columns of
// n + 2 np doubles.
void inner_loop(const double* y, long n, const Params& p, bool use_rw, const double* rw,
                double* season, double* trend, arma::mat& work) {
  double* w1 = work.colptr(0);
  double* w2 = work.colptr(1);
  double* w3 = work.colptr(2);
  double* w4 = work.colptr(3);
  double* w5 = work.colptr(4);
  for (int pass = 0; pass < p.inner; ++pass) {
    for (long i = 1; i <= n; ++i) at(w1, i) = at(y, i) - at(trend, i);
    smooth_subseries(w1, n, p.np, p.ns, p.isdeg, p.nsjump, use_rw, rw, w2, w3, w4, w5, season);
    low_pass_averages(w2, n + 2 * p.np, p.np, w3, w1);
    loess_smooth(w3, n, p.nl, p.ildeg, p.nljump, false, w4, w1, w5);
    for (long i = 1; i <= n; ++i) at(season, i) = at(w2, p.np + i) - at(w1, i);
    for (long i = 1; i <= n; ++i) at(w1, i) = at(y, i) - at(season, i);
    loess_smooth(w1, n, p.nt, p.itdeg, p.ntjump, use_rw, rw, trend, w3);
  }
}

// Partial quicksort after Singleton (CACM Algorithm 347, 1969) as the STL
// reference uses it to find the median: segments are split around a
// median-of-three pivot, only segments that contain a wanted position are
// split further (the wanted positions of a segment are tracked as a range
// [jl, ju] of `wanted`, which the method assumes ascending), and short
// segments are finished by straight insertion, using the element before the
// segment as a sentinel.
//
// Why not std::nth_element: the reference asks for the positions
// (n/2 + 1, n/2) in that, descending, order when n is even. The range
// bookkeeping then loses one of them in some inputs, and the value found at
// position n/2 is not the order statistic (nottem with s.window = 7 and
// robust = TRUE hits this at its 12th robustness iteration). R's stl()
// weights, and therefore its robust components, depend on that value; we
// reproduce the procedure so that ours agree with R's.
void singleton_partial_sort(std::vector<double>& data, const std::vector<long>& wanted) {
  const long n = static_cast<long>(data.size());
  if (n < 2 || wanted.empty()) return;
  double* a = data.data();
  const auto ind = [&wanted](long k) { return wanted[static_cast<std::size_t>(k - 1)]; };
  struct Segment {
    long i, j, jl, ju;
  };
  std::vector<Segment> pending;
  long i = 1;
  long j = n;
  long jl = 1;
  long ju = static_cast<long>(wanted.size());

  enum class Step { start, pop, split_or_finish, partition, finish };
  Step step = Step::start;
  for (;;) {
    switch (step) {
      case Step::start:
        step = i < j ? Step::partition : Step::pop;
        break;
      case Step::pop:
        if (pending.empty()) return;
        i = pending.back().i;
        j = pending.back().j;
        jl = pending.back().jl;
        ju = pending.back().ju;
        pending.pop_back();
        step = jl <= ju ? Step::split_or_finish : Step::pop;
        break;
      case Step::split_or_finish:
        step = j - i > 10 ? Step::partition : Step::finish;
        break;
      case Step::partition: {
        long k = i;
        const long mid = (i + j) / 2;
        double t = at(a, mid);
        if (at(a, i) > t) {
          at(a, mid) = at(a, i);
          at(a, i) = t;
          t = at(a, mid);
        }
        long l = j;
        if (at(a, j) < t) {
          at(a, mid) = at(a, j);
          at(a, j) = t;
          t = at(a, mid);
          if (at(a, i) > t) {
            at(a, mid) = at(a, i);
            at(a, i) = t;
            t = at(a, mid);
          }
        }
        for (;;) {
          --l;
          if (at(a, l) <= t) {
            const double tt = at(a, l);
            do {
              ++k;
            } while (!(at(a, k) >= t));
            if (k > l) break;
            at(a, l) = at(a, k);
            at(a, k) = tt;
          }
        }
        // [i, l] <= t <= [k, j]. Continue with the shorter part; the other
        // is remembered with the whole current wanted range, narrowed below
        // once we know which wanted positions the shorter part holds.
        pending.push_back({0, 0, jl, ju});
        Segment& other = pending.back();
        step = Step::split_or_finish;
        if (l - i <= j - k) {
          other.i = k;
          other.j = j;
          j = l;
          while (jl <= ju && ind(ju) > j) --ju;
          if (jl > ju) {
            step = Step::pop;
          } else {
            other.jl = ju + 1;
          }
        } else {
          other.i = i;
          other.j = l;
          i = k;
          while (jl <= ju && ind(jl) < i) ++jl;
          if (jl > ju) {
            step = Step::pop;
          } else {
            other.ju = jl - 1;
          }
        }
        break;
      }
      case Step::finish:
        if (i == 1) {
          // No sentinel before the first segment: keep partitioning it.
          step = Step::start;
          break;
        }
        for (long s = i; s < j; ++s) {
          const double t = at(a, s + 1);
          if (at(a, s) > t) {
            long k = s;
            do {
              at(a, k + 1) = at(a, k);
              --k;
            } while (k >= 1 && !(t >= at(a, k)));
            at(a, k + 1) = t;
          }
        }
        step = Step::pop;
        break;
    }
  }
}

// Bisquare robustness weights from the residuals y - fit, with scale
// 6 × median |residual| (the median as the reference finds it, see above).
void robustness_weights(const double* y, long n, const double* fit, double* rw) {
  std::vector<double> r(static_cast<std::size_t>(n));
  for (long i = 1; i <= n; ++i) r[static_cast<std::size_t>(i - 1)] = std::fabs(at(y, i) - at(fit, i));
  const long mid1 = n / 2 + 1;
  const long mid2 = n - mid1 + 1;
  std::vector<double> partial = r;
  singleton_partial_sort(partial, {mid1, mid2});
  const double cmad = 3.0 * (partial[static_cast<std::size_t>(mid1 - 1)] +
                             partial[static_cast<std::size_t>(mid2 - 1)]);
  const double c9 = kFar * cmad;
  const double c1 = kNear * cmad;
  for (long i = 1; i <= n; ++i) {
    const double ri = r[static_cast<std::size_t>(i - 1)];
    if (ri <= c1) {
      at(rw, i) = 1.0;
    } else if (ri <= c9) {
      const double q = ri / cmad;
      const double t = 1.0 - q * q;
      at(rw, i) = t * t;
    } else {
      at(rw, i) = 0.0;
    }
  }
}

// R's nextodd: round, then bump an even value to the next odd one.
std::size_t next_odd(double v) {
  auto r = static_cast<std::size_t>(std::nearbyint(v));
  if (r % 2 == 0) ++r;
  return r;
}

std::size_t ceil_div10(std::size_t w) { return (w + 9) / 10; }

long odd_at_least_3(std::size_t w) {
  long v = std::max(3L, static_cast<long>(w));
  if (v % 2 == 0) ++v;
  return v;
}

}  // namespace

Result<StlResult> stl(const arma::vec& x, std::size_t period, const StlOptions& options) {
  const std::size_t n = x.n_elem;
  if (period < 2 || n <= 2 * period)
    return Error{Errc::invalid_argument,
                 "stl: series of length " + std::to_string(n) + " with period " +
                     std::to_string(period) + " is not periodic or has less than two periods"};
  if (!x.is_finite())
    return Error{Errc::invalid_argument, "stl: the series has missing or non-finite values"};
  const int l_degree = options.l_degree.value_or(options.t_degree);
  for (int deg : {options.s_degree, options.t_degree, l_degree})
    if (deg != 0 && deg != 1)
      return Error{Errc::invalid_argument,
                   "stl: degree " + std::to_string(deg) + " is not 0 or 1"};

  // Parameter defaults exactly as R's stl() derives them; note that the
  // jumps are computed from the windows before they are made odd, and that
  // "periodic" uses s.window = 10 n + 1 for both the t.window default and
  // the seasonal jump.
  const std::size_t s_window = options.periodic ? 10 * n + 1 : options.s_window;
  const int s_degree = options.periodic ? 0 : options.s_degree;
  if (s_window == 0)
    return Error{Errc::invalid_argument, "stl: s_window must be positive"};
  const std::size_t t_window = options.t_window.value_or(next_odd(std::ceil(
      1.5 * static_cast<double>(period) / (1.0 - 1.5 / static_cast<double>(s_window)))));
  const std::size_t l_window = options.l_window.value_or(next_odd(static_cast<double>(period)));
  const int inner = options.inner.value_or(options.robust ? 1 : 2);
  const int outer = options.outer.value_or(options.robust ? 15 : 0);

  Params p{};
  p.np = static_cast<long>(period);
  p.ns = odd_at_least_3(s_window);
  p.nt = odd_at_least_3(t_window);
  p.nl = odd_at_least_3(l_window);
  p.isdeg = s_degree;
  p.itdeg = options.t_degree;
  p.ildeg = l_degree;
  p.nsjump = static_cast<long>(std::max<std::size_t>(1, options.s_jump.value_or(ceil_div10(s_window))));
  p.ntjump = static_cast<long>(std::max<std::size_t>(1, options.t_jump.value_or(ceil_div10(t_window))));
  p.nljump = static_cast<long>(std::max<std::size_t>(1, options.l_jump.value_or(ceil_div10(l_window))));
  p.inner = inner;

  const long ln = static_cast<long>(n);
  arma::vec season(n + 2 * period, arma::fill::zeros);
  arma::vec trend(n, arma::fill::zeros);
  arma::vec rw(n, arma::fill::zeros);
  arma::vec fit(n);
  arma::mat work(n + 2 * period, 5, arma::fill::zeros);
  bool use_rw = false;
  for (int k = 0;; ++k) {
    inner_loop(x.memptr(), ln, p, use_rw, rw.memptr(), season.memptr(), trend.memptr(), work);
    if (k + 1 > outer) break;
    fit = trend + season.head(n);
    robustness_weights(x.memptr(), ln, fit.memptr(), rw.memptr());
    use_rw = true;
  }
  if (outer <= 0) rw.ones();

  StlResult result;
  result.seasonal = season.head(n);
  if (options.periodic) {
    for (std::size_t pos = 0; pos < period; ++pos) {
      double sum = 0.0;
      std::size_t count = 0;
      for (std::size_t i = pos; i < n; i += period) {
        sum += result.seasonal[i];
        ++count;
      }
      const double mean = sum / static_cast<double>(count);
      for (std::size_t i = pos; i < n; i += period) result.seasonal[i] = mean;
    }
  }
  result.trend = std::move(trend);
  result.remainder = x - result.seasonal - result.trend;
  result.weights = std::move(rw);
  return result;
}

Result<StlResult> mstl(const arma::vec& x, std::size_t period) {
  // forecast::mstl on a plain ts: a single STL pass (iterate is forced to 1)
  // with the first of its s.window values, 7 + 4 = 11.
  StlOptions options;
  options.s_window = 11;
  return stl(x, period, options);
}

Result<MstlResult> mstl_multi(const arma::vec& x, std::vector<std::size_t> periods, int iterate) {
  const std::size_t n = x.n_elem;
  if (!x.is_finite())
    return Error{Errc::invalid_argument, "mstl: the series has missing or non-finite values"};
  // Periods with fewer than two full cycles are dropped (R compares with
  // n / 2 in real arithmetic).
  std::erase_if(periods, [n](std::size_t m) {
    return static_cast<double>(m) >= static_cast<double>(n) / 2.0;
  });
  std::sort(periods.begin(), periods.end());
  if (periods.empty())
    return Error{Errc::invalid_argument,
                 "mstl: no seasonal period has two full cycles in a series of length " +
                     std::to_string(n)};
  if (periods.front() < 2)
    return Error{Errc::invalid_argument, "mstl: seasonal periods must be at least 2"};

  MstlResult out;
  out.periods = periods;
  out.seasonal.assign(periods.size(), arma::vec(n, arma::fill::zeros));
  arma::vec deseas = x;
  arma::vec trend;
  for (int it = 0; it < std::max(1, iterate); ++it) {
    for (std::size_t i = 0; i < periods.size(); ++i) {
      deseas += out.seasonal[i];
      StlOptions options;
      options.s_window = 7 + 4 * (i + 1);
      AIOPS_ASSIGN(StlResult fit, stl(deseas, periods[i], options));
      out.seasonal[i] = std::move(fit.seasonal);
      deseas -= out.seasonal[i];
      trend = std::move(fit.trend);
    }
  }
  out.trend = std::move(trend);
  out.remainder = deseas - out.trend;
  return out;
}

}  // namespace aiops::forecast
