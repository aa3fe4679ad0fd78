#include "aiops/forecast/accuracy.hpp"

#include <cmath>

namespace aiops::forecast {
namespace {

std::size_t scale_lag(std::size_t train_size, std::size_t m) {
  return (m <= 1 || train_size < m + 1) ? 1 : m;
}

}  // namespace

std::optional<double> mase_scale(std::span<const double> train, std::size_t m) {
  if (train.size() < 2) return std::nullopt;
  std::size_t lag = scale_lag(train.size(), m);
  double sum = 0;
  for (std::size_t t = lag; t < train.size(); ++t) sum += std::abs(train[t] - train[t - lag]);
  double scale = sum / static_cast<double>(train.size() - lag);
  // Only an exact 0 is undefined; a tiny scale gives a huge but honest MASE.
  if (scale == 0) return std::nullopt;
  return scale;
}

std::optional<double> mase(std::span<const double> train, std::span<const double> actual,
                           std::span<const double> forecast, std::size_t m) {
  if (actual.empty() || actual.size() != forecast.size()) return std::nullopt;
  std::optional<double> scale = mase_scale(train, m);
  if (!scale) return std::nullopt;
  double sum = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) sum += std::abs(actual[i] - forecast[i]);
  return sum / static_cast<double>(actual.size()) / *scale;
}

std::optional<double> smape(std::span<const double> actual, std::span<const double> forecast) {
  if (actual.empty() || actual.size() != forecast.size()) return std::nullopt;
  double sum = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    double denominator = std::abs(actual[i]) + std::abs(forecast[i]);
    if (denominator != 0) sum += std::abs(actual[i] - forecast[i]) / denominator;
  }
  return 200.0 * sum / static_cast<double>(actual.size());
}

std::vector<double> snaive(std::span<const double> train, std::size_t m, std::size_t h) {
  if (train.empty()) return {};
  std::size_t period = (m <= 1 || train.size() < m) ? 1 : m;
  std::size_t season_start = train.size() - period;
  std::vector<double> out(h);
  for (std::size_t i = 0; i < h; ++i) out[i] = train[season_start + i % period];
  return out;
}

std::optional<double> mase_snaive(std::span<const double> train, std::span<const double> actual, std::size_t m) {
  std::vector<double> f = snaive(train, m, actual.size());
  return mase(train, actual, f, m);
}

}  // namespace aiops::forecast
