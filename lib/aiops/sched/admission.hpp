#pragma once
// Admission control: which requests the worker refuses before doing any
// work for them, and the retry delay every refusal carries.
//
//  * Retry budget. A request marked RETRY (net/protocol.hpp) spends a token
//    of its client's bucket (retry_budget.hpp); with none left it is
//    refused at once with busy and budget_penalty times the usual delay, so
//    a client that retries in a tight loop is slowed down by the worker
//    whatever it does, and other clients' buckets are untouched. Every
//    other request earns the bucket `retry_budget` tokens.
//  * Watermarks. A client at priority position p (client_plan.hpp) is
//    refused while the load is at or above
//        threshold(p) = 1 - (1 - watermark) x p,
//    so the last-ranked clients go first, at the watermark, and the first
//    only when the queue (or the buffer) is full. The log queue's load is
//    its fill (dispatcher.hpp); the buffer applies the same thresholds to
//    its space (specbuf/buffer.hpp). With policy fifo every threshold is 1:
//    refused only when full, whoever it is.
//  * Delays come from the retry policy (retry_policy.hpp) at the current
//    load, with jitter: a higher-priority client never gets a longer one.
//    Refusals for other reasons (validation, a full buffer) use the same.
//
// Counters per client (tokens, retries, refusals by reason, delays given)
// are for `aiops status`.
//
// Thread-safety: every member may be called from any thread.

#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "aiops/config/config.hpp"
#include "aiops/sched/client_plan.hpp"
#include "aiops/sched/retry_budget.hpp"
#include "aiops/sched/retry_policy.hpp"

namespace aiops::sched {

// Why a request was refused: its client's retry budget is spent, the log
// queue is above the client's threshold (or full), the speculative buffer
// has no room for the client, or the validator rejected it.
enum class Refusal : uint8_t { none, budget, log_queue, buffer, invalid };

struct Decision {
  Refusal refusal = Refusal::none;
  uint32_t retry_after_ms = 0;
  [[nodiscard]] bool admitted() const { return refusal == Refusal::none; }
};

struct ClientAdmission {
  std::string name;
  std::string sla;
  double position = 1;
  double weight = 1;
  double reservation = 0;
  double limit = 0;
  double tokens = 0;  // left in the retry budget
  double burst = 0;
  double ratio = 0;
  uint64_t first_attempts = 0;
  uint64_t retries = 0;  // let through
  std::map<std::string, uint64_t> refused;  // by refusal_name()
  uint64_t delays_given = 0;
  double delay_ms_sum = 0;
};

class Admission {
 public:
  Admission(const config::Config& config, const specbuf::PriorityList& list);

  /// Puts a new priority list in force (positions, weights, delays).
  void set_priorities(const specbuf::PriorityList& list);
  [[nodiscard]] std::vector<ClientPlan> plans() const;

  /// First check of every request: the retry budget.
  [[nodiscard]] Decision on_request(uint32_t client, bool retry);
  /// A write bound for the log, with the log queue at `fill` (0..1).
  [[nodiscard]] Decision admit_log(uint32_t client, double fill);
  /// The delay for a refusal of `client` at `load` for `reason` (counted).
  [[nodiscard]] uint32_t refuse(uint32_t client, double load, Refusal reason);
  /// The load level from which `client` is refused (1 = only when full).
  [[nodiscard]] double threshold(uint32_t client) const;

  [[nodiscard]] std::map<uint32_t, ClientAdmission> stats() const;

 private:
  struct State {
    ClientPlan plan;
    RetryBudget budget;
    ClientAdmission counters;
  };

  [[nodiscard]] double threshold_locked(const State& s, double watermark) const;
  uint32_t refuse_locked(State& s, double load, Refusal reason, bool penalty);

  const config::SchedulerConfig scheduler_;
  const config::Config config_;
  mutable std::mutex mu_;
  RetryPolicy policy_;
  std::map<uint32_t, State> clients_;
  std::mt19937_64 rng_{std::random_device{}()};
};

[[nodiscard]] std::string_view refusal_name(Refusal reason) noexcept;

}  // namespace aiops::sched
