#pragma once
// How long a refused client is told to wait (retry_after_ms) before it tries
// again. The worker refuses a request when its speculative buffer or its log
// queue is too full, or when validation failed; the wait spreads the retries
// out ("backoff and jitter") and tells the client when the worker expects to
// have room (gRPC retry pushback).
//
// The delay of client i at load L (how full the buffer or queue is, in
// [0,1]) with jitter draw u in [0,1) is
//
//   raw_i  = base_ms_i * (1 + 3 * position_i)
//   e_i    = max(raw_j over every client j with position_j <= position_i)
//   delay  = min(max_delay_ms, e_i * (1 + 9 * L) * (1 + jitter * u)),
//            rounded to whole milliseconds, at least 1.
//
// The base delay comes from the client's SLA class, which is configuration,
// while the position comes from the forecast's priority list; nothing stops
// the forecast ranking a client of a slow class above one of a fast class.
// raw alone would then make the more important client wait longer. e_i is
// the monotone envelope of raw over the priority order: a client waits at
// least as long as anyone ranked above it, which restores the order and
// never shortens any raw delay.
//
// Guarantees:
//   (a) at the same load and the same u, a client with a smaller position
//       never gets a longer delay than one with a larger position (equal
//       positions get equal delays);
//   (b) for a fixed client and u, the delay never decreases as the load
//       grows, and the delay at load 1 is longer than at load 0 unless the
//       latter is already max_delay_ms;
//   (c) every delay lies in [1, max_delay_ms].
// For (b) to hold despite rounding to whole milliseconds, base delays below
// 1 ms count as 1 ms: the delay at load 1 is then at least 4.5 ms longer
// than at load 0 before rounding.
//
// A client that is not in the set (a new client the forecast has not ranked
// yet) is treated as the least important one: position 1, and the largest
// envelope value, so it never waits less than a known client. With no
// clients at all that is base 10 ms at position 1.
//
// Inputs out of range are clamped rather than rejected, since a refusal must
// always carry some delay: positions, loads and u to [0,1], max_delay_ms to
// whole milliseconds in [1, 2^32-1], budget_penalty to at least 1 (a retry
// the budget refused never waits less than an ordinary one), jitter to at
// least 0. A NaN option, base or position takes its default; a NaN load
// counts as full (1), a NaN u as 0.

#include <cstdint>
#include <span>
#include <unordered_map>

namespace aiops::sched {

struct ClientDelay {
  uint32_t client = 0;
  double base_ms = 10;  // the client's SLA class base retry delay, > 0
  double position = 1;  // priority position in [0,1]: 0 = most important client, 1 = least
};

struct RetryPolicyOptions {
  double jitter = 0.25;         // delay is multiplied by (1 + jitter*u), u in [0,1) drawn by the caller
  double max_delay_ms = 10000;  // cap
  double budget_penalty = 8;    // a retry refused by the budget gets this many times the delay
};

class RetryPolicy {
 public:
  explicit RetryPolicy(RetryPolicyOptions options = {});

  /// The clients and their priority positions (replaces the previous set).
  /// If a client appears more than once, its last entry counts.
  void set_clients(std::span<const ClientDelay> clients);

  /// Delay for a refused request of `client` at `load` (clamped to [0,1]: how
  /// full the buffer or queue is), jitter draw u in [0,1).
  [[nodiscard]] uint32_t delay_ms(uint32_t client, double load, double u) const;

  /// Delay for a retry the budget refused: budget_penalty times delay_ms
  /// (capped).
  [[nodiscard]] uint32_t budget_delay_ms(uint32_t client, double load, double u) const;

  /// The options in force, after clamping.
  [[nodiscard]] const RetryPolicyOptions& options() const;

 private:
  RetryPolicyOptions options_;
  std::unordered_map<uint32_t, double> envelope_;  // e_i of each known client
  double unknown_envelope_;                        // e of a client not in the set
};

}  // namespace aiops::sched
