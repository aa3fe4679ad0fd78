#pragma once
// A per-client retry budget: a token bucket in the manner of gRPC retry
// throttling. Each request that is not a retry earns the client `ratio`
// tokens, up to `burst`; each retry spends one token, and a retry that finds
// less than one token is refused early, before it costs the buffer or the
// log anything. A client whose retries fail and are retried again (a retry
// storm) thus drains only its own bucket; other clients keep theirs.
//
// Invariant: with one spec over a run, retries() <= burst + ratio *
// first_attempts(). The bucket starts full, every retry let through takes
// one token out, and tokens only come in with first attempts, `ratio` at a
// time (some are lost when the bucket is full). So in the long run a client
// gets at most `ratio` retries per first attempt, plus one burst.
//
// Tokens are counted in whole millionths (gRPC counts thousandths) so that
// they add up exactly: in floating point, ten grants of 0.1 make
// 0.9999999999999999, and the retry they should pay for would be refused.
// The spec is rounded down to millionths, so a bucket never grants more
// than its spec says; spec() reports the values in force. Out-of-range specs
// are clamped: ratio to [1e-6, 1], burst to [1, 1e9]; a NaN field takes its
// default.

#include <cstdint>

namespace aiops::sched {

struct BudgetSpec {
  double ratio = 0.1;  // tokens earned per first attempt, in (0,1]
  double burst = 10;   // bucket size, >= 1
};

class RetryBudget {  // one client's bucket; not thread-safe
 public:
  explicit RetryBudget(BudgetSpec spec = {});

  /// A request that is not a retry arrived: earns `ratio` tokens, up to `burst`.
  void first_attempt();

  /// A retry arrived: spends one token and returns true, or returns false
  /// (refuse it early) when less than one token is left.
  [[nodiscard]] bool try_retry();

  [[nodiscard]] double tokens() const;  // starts full (= burst)
  [[nodiscard]] uint64_t first_attempts() const;
  [[nodiscard]] uint64_t retries() const;  // retries let through
  [[nodiscard]] uint64_t refused() const;  // retries refused by the budget
  [[nodiscard]] const BudgetSpec& spec() const;

  /// Keeps the tokens, clamped to the new burst; the counters carry on.
  void set_spec(BudgetSpec spec);

 private:
  static constexpr int64_t unit = 1'000'000;  // millionths of a token

  BudgetSpec spec_;
  int64_t ratio_units_ = 0;
  int64_t burst_units_ = 0;
  int64_t tokens_units_ = 0;
  uint64_t first_attempts_ = 0;
  uint64_t retries_ = 0;
  uint64_t refused_ = 0;
};

}  // namespace aiops::sched
