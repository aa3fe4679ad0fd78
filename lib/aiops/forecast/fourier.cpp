#include "aiops/forecast/fourier.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <utility>

namespace aiops::forecast {
namespace {

// One harmonic that survives duplicate removal.
struct Harmonic {
  int k;
  double period;
  bool with_sine;  // false when 2k/m is a whole number
  std::string label_suffix;
};

std::string number_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string period_label(double period) {
  // R's round() rounds half to even, as nearbyint does in the default mode.
  double r = std::nearbyint(period);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", r);
  return buf;
}

// sin and cos of a whole turn times `turns`, turns in [0, 1). Quarter turns
// are exact so that, e.g., the cosine of a half period is exactly -1.
std::pair<double, double> sin_cos_turns(double turns) {
  if (turns == 0.0) return {0.0, 1.0};
  if (turns == 0.25) return {1.0, 0.0};
  if (turns == 0.5) return {0.0, -1.0};
  if (turns == 0.75) return {-1.0, 0.0};
  double angle = 2.0 * std::numbers::pi * turns;
  return {std::sin(angle), std::cos(angle)};
}

Result<std::vector<Harmonic>> harmonics(std::span<const FourierSeason> seasons) {
  std::vector<Harmonic> out;
  std::vector<double> seen;  // k/m of every harmonic kept so far
  for (std::size_t j = 0; j < seasons.size(); ++j) {
    const FourierSeason& s = seasons[j];
    if (!std::isfinite(s.period) || s.period <= 0) {
      return Error(Errc::invalid_argument, "Fourier season " + std::to_string(j + 1) + ": period " +
                                               number_text(s.period) + " is not a positive number");
    }
    if (s.K < 0 || s.K > max_harmonics(s.period)) {
      return Error(Errc::invalid_argument, "Fourier season " + std::to_string(j + 1) + " (period " +
                                               period_label(s.period) + "): K = " + std::to_string(s.K) +
                                               " harmonics, must be between 0 and period/2 = " +
                                               std::to_string(max_harmonics(s.period)));
    }
    std::string suffix = "-" + period_label(s.period);
    for (int k = 1; k <= s.K; ++k) {
      double p = static_cast<double>(k) / s.period;
      bool duplicate = false;
      for (double q : seen) duplicate = duplicate || q == p;
      if (duplicate) continue;
      seen.push_back(p);
      double two_p = 2.0 * p;
      bool with_sine = std::abs(two_p - std::nearbyint(two_p)) > std::numeric_limits<double>::epsilon();
      out.push_back({k, s.period, with_sine, std::to_string(k) + suffix});
    }
  }
  return out;
}

}  // namespace

int max_harmonics(double period) noexcept {
  if (!std::isfinite(period) || period < 2) return 0;
  double half = std::floor(period / 2);
  if (half > static_cast<double>(std::numeric_limits<int>::max())) return std::numeric_limits<int>::max();
  return static_cast<int>(half);
}

Result<FourierTerms> fourier_terms(std::size_t first_t, std::size_t n, std::span<const FourierSeason> seasons) {
  AIOPS_ASSIGN(std::vector<Harmonic> hs, harmonics(seasons));
  std::size_t cols = 0;
  for (const Harmonic& h : hs) cols += h.with_sine ? 2 : 1;

  FourierTerms out;
  out.x.set_size(n, cols);
  out.names.reserve(cols);
  std::size_t c = 0;
  for (const Harmonic& h : hs) {
    std::size_t sine_col = c;
    std::size_t cos_col = h.with_sine ? c + 1 : c;
    if (h.with_sine) out.names.push_back("S" + h.label_suffix);
    out.names.push_back("C" + h.label_suffix);
    for (std::size_t i = 0; i < n; ++i) {
      // k·t is a whole number below 2^53 for any realistic series, so fmod
      // reduces it to one period without rounding error.
      double kt = static_cast<double>(h.k) * static_cast<double>(first_t + i);
      double turns = std::fmod(kt, h.period) / h.period;
      if (turns >= 1.0) turns = 0.0;  // the division may round up to a whole turn
      auto [s, co] = sin_cos_turns(turns);
      if (h.with_sine) out.x(i, sine_col) = s;
      out.x(i, cos_col) = co;
    }
    c = cos_col + 1;
  }
  return out;
}

Result<FourierTerms> fourier_history(std::size_t n, std::span<const FourierSeason> seasons) {
  return fourier_terms(1, n, seasons);
}

Result<FourierTerms> fourier_future(std::size_t n, std::size_t h, std::span<const FourierSeason> seasons) {
  return fourier_terms(n + 1, h, seasons);
}

}  // namespace aiops::forecast
