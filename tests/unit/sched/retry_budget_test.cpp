// The per-client retry budget: its token accounting, its bound on retries
// over seeded random runs, and that one client's retry storm stays its own.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>

#include "aiops/sched/retry_budget.hpp"

using aiops::sched::BudgetSpec;
using aiops::sched::RetryBudget;

namespace {

bool within_budget(const RetryBudget& b) {
  return static_cast<double>(b.retries()) <= b.spec().burst + b.spec().ratio * static_cast<double>(b.first_attempts());
}

}  // namespace

TEST_CASE("retry_budget: starts with burst tokens") {
  const RetryBudget standard;
  CHECK(standard.tokens() == 10);
  CHECK(standard.spec().ratio == 0.1);
  CHECK(standard.spec().burst == 10);
  CHECK(standard.first_attempts() == 0);
  CHECK(standard.retries() == 0);
  CHECK(standard.refused() == 0);
  const RetryBudget custom({0.5, 3.5});
  CHECK(custom.tokens() == 3.5);
}

TEST_CASE("retry_budget: a client that only retries gets exactly floor(burst) through, then is refused") {
  for (double burst : {1.0, 1.5, 3.7, 10.0, 25.5}) {
    CAPTURE(burst);
    RetryBudget b({0.1, burst});
    const int allowed = static_cast<int>(std::floor(burst));
    for (int i = 0; i < allowed; ++i) REQUIRE(b.try_retry());
    for (int i = 0; i < 100; ++i) REQUIRE_FALSE(b.try_retry());
    CHECK(b.retries() == static_cast<uint64_t>(allowed));
    CHECK(b.refused() == 100);
    CHECK(b.tokens() == doctest::Approx(burst - allowed));
  }
}

TEST_CASE("retry_budget: tokens add up exactly") {
  // Ten grants of 0.1 are one token, not 0.9999999999999999.
  RetryBudget b({0.1, 1});
  REQUIRE(b.try_retry());
  for (int i = 0; i < 10; ++i) {
    CHECK_FALSE(b.try_retry());
    b.first_attempt();
  }
  CHECK(b.tokens() == 1);
  CHECK(b.try_retry());
}

TEST_CASE("retry_budget: with a retry after every first attempt it settles to ratio retries per first attempt") {
  for (double ratio : {0.05, 0.1, 0.3, 1.0}) {
    CAPTURE(ratio);
    RetryBudget b({ratio, 10});
    for (int i = 0; i < 1000; ++i) {
      b.first_attempt();
      (void)b.try_retry();
    }
    // Past the burst, only what first attempts earn gets through.
    const uint64_t retries = b.retries(), firsts = b.first_attempts();
    for (int i = 0; i < 10000; ++i) {
      b.first_attempt();
      (void)b.try_retry();
    }
    const double rate = static_cast<double>(b.retries() - retries) / static_cast<double>(b.first_attempts() - firsts);
    CHECK(rate == doctest::Approx(ratio).epsilon(0.001));
    CHECK(within_budget(b));
    // And no fewer: nothing is refused while a token is there (one retry
    // per first attempt at most).
    CHECK(static_cast<double>(b.retries()) >= std::min(11000.0, 10 + ratio * 11000 - 1));
  }
}

TEST_CASE("retry_budget: retries never exceed burst + ratio * first attempts") {
  std::mt19937 rng(424242);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int run = 0; run < 200; ++run) {
    CAPTURE(run);
    const BudgetSpec spec{run % 10 == 0 ? 1.0 : std::max(1e-3, unit(rng)), 1 + 40 * unit(rng)};
    RetryBudget b(spec);
    const double retry_share = unit(rng);  // from almost no retries to a storm
    for (int op = 0; op < 3000; ++op) {
      if (unit(rng) < retry_share)
        (void)b.try_retry();
      else
        b.first_attempt();
      REQUIRE(within_budget(b));
      REQUIRE(b.tokens() >= 0);
      REQUIRE(b.tokens() <= b.spec().burst);
    }
    CHECK(b.spec().ratio <= spec.ratio);
    CHECK(b.spec().ratio > spec.ratio - 1e-6);
    CHECK(b.spec().burst <= spec.burst);
    CHECK(b.spec().burst > spec.burst - 1e-6);
  }
}

TEST_CASE("retry_budget: a retry storm of one client leaves others unaffected") {
  std::map<uint32_t, RetryBudget> budgets;
  for (uint32_t client : {1u, 2u, 3u}) budgets.emplace(client, RetryBudget{});
  for (int round = 1; round <= 20000; ++round) {
    for (auto& [client, budget] : budgets) {
      budget.first_attempt();
      if (client == 1) {
        // Every request fails and is retried over and over.
        for (int i = 0; i < 5; ++i) (void)budget.try_retry();
      } else if (round % 20 == 0) {
        REQUIRE(budget.try_retry());
      }
    }
  }
  const RetryBudget& storm = budgets.at(1);
  CHECK(storm.refused() > 0);
  CHECK(storm.retries() <= 10 + 2000);
  CHECK(within_budget(storm));
  for (uint32_t client : {2u, 3u}) {
    CHECK(budgets.at(client).refused() == 0);
    CHECK(budgets.at(client).retries() == 1000);
    CHECK(budgets.at(client).tokens() == 9);  // full, less the retry of the last round
  }
}

TEST_CASE("retry_budget: set_spec keeps tokens, clamped to the new burst") {
  RetryBudget b({0.1, 10});
  for (int i = 0; i < 4; ++i) REQUIRE(b.try_retry());
  CHECK(b.tokens() == 6);
  b.set_spec({0.5, 20});
  CHECK(b.tokens() == 6);  // a larger bucket does not fill itself
  CHECK(b.spec().burst == 20);
  b.first_attempt();
  CHECK(b.tokens() == 6.5);
  b.set_spec({0.5, 2.5});
  CHECK(b.tokens() == 2.5);
  CHECK(b.try_retry());
  CHECK(b.try_retry());
  CHECK_FALSE(b.try_retry());
  CHECK(b.retries() == 6);
  CHECK(b.refused() == 1);
  CHECK(b.first_attempts() == 1);
}

TEST_CASE("retry_budget: out-of-range specs are clamped") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const RetryBudget low({0, 0});
  CHECK(low.spec().ratio == 1e-6);
  CHECK(low.spec().burst == 1);
  CHECK(low.tokens() == 1);
  const RetryBudget high({5, std::numeric_limits<double>::infinity()});
  CHECK(high.spec().ratio == 1);
  CHECK(high.spec().burst == 1e9);
  const RetryBudget defaults({nan, nan});
  CHECK(defaults.spec().ratio == 0.1);
  CHECK(defaults.spec().burst == 10);
}
