#include "aiops/sched/retry_budget.hpp"

#include <algorithm>
#include <cmath>

namespace aiops::sched {

namespace {

// `x` tokens in whole `unit`ths, rounded down, within [lo, hi]; NaN is
// `if_nan`. Rounding down never grants more than the spec allows.
int64_t to_units(double x, double if_nan, int64_t unit, int64_t lo, int64_t hi) {
  if (std::isnan(x)) x = if_nan;
  const double scaled = std::floor(x * static_cast<double>(unit));
  if (!(scaled > static_cast<double>(lo))) return lo;
  if (!(scaled < static_cast<double>(hi))) return hi;
  return static_cast<int64_t>(scaled);
}

}  // namespace

RetryBudget::RetryBudget(BudgetSpec spec) {
  set_spec(spec);
  tokens_units_ = burst_units_;
}

void RetryBudget::first_attempt() {
  ++first_attempts_;
  tokens_units_ = std::min(burst_units_, tokens_units_ + ratio_units_);
}

bool RetryBudget::try_retry() {
  if (tokens_units_ < unit) {
    ++refused_;
    return false;
  }
  tokens_units_ -= unit;
  ++retries_;
  return true;
}

double RetryBudget::tokens() const { return static_cast<double>(tokens_units_) / unit; }
uint64_t RetryBudget::first_attempts() const { return first_attempts_; }
uint64_t RetryBudget::retries() const { return retries_; }
uint64_t RetryBudget::refused() const { return refused_; }
const BudgetSpec& RetryBudget::spec() const { return spec_; }

void RetryBudget::set_spec(BudgetSpec spec) {
  const BudgetSpec defaults;
  // The burst bound keeps tokens + ratio far inside int64_t.
  ratio_units_ = to_units(spec.ratio, defaults.ratio, unit, 1, unit);
  burst_units_ = to_units(spec.burst, defaults.burst, unit, unit, 1'000'000'000 * unit);
  tokens_units_ = std::min(tokens_units_, burst_units_);
  spec_ = {static_cast<double>(ratio_units_) / unit, static_cast<double>(burst_units_) / unit};
}

}  // namespace aiops::sched
