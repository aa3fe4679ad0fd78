#include "aiops/sched/admission.hpp"

#include <algorithm>

namespace aiops::sched {

std::string_view refusal_name(Refusal reason) noexcept {
  switch (reason) {
    case Refusal::none: return "none";
    case Refusal::budget: return "budget";
    case Refusal::log_queue: return "log_queue";
    case Refusal::buffer: return "buffer";
    case Refusal::invalid: return "invalid";
  }
  return "?";
}

Admission::Admission(const config::Config& config, const specbuf::PriorityList& list)
    : scheduler_(config.scheduler),
      config_(config),
      policy_(RetryPolicyOptions{.jitter = config.scheduler.retry_jitter}) {
  set_priorities(list);
}

void Admission::set_priorities(const specbuf::PriorityList& list) {
  std::vector<ClientPlan> plans = plan_clients(config_, list);
  std::vector<ClientDelay> delays;
  for (const auto& p : plans) {
    // With fifo nobody is preferred: every client gets its class's base
    // delay as if it ranked first.
    const double position = scheduler_.policy == config::SchedulerConfig::Policy::fifo ? 0.0 : p.position;
    delays.push_back({p.client, p.retry_delay_ms, position});
  }
  std::lock_guard lock(mu_);
  policy_.set_clients(delays);
  for (auto& p : plans) {
    auto [it, fresh] = clients_.try_emplace(p.client, State{p, RetryBudget(p.budget), {}});
    State& s = it->second;
    if (!fresh) s.budget.set_spec(p.budget);
    s.plan = std::move(p);
    s.counters.name = s.plan.name;
    s.counters.sla = s.plan.sla;
    s.counters.position = s.plan.position;
    s.counters.weight = s.plan.qos.weight;
    s.counters.reservation = s.plan.qos.reservation;
    s.counters.limit = s.plan.qos.limit;
  }
}

std::vector<ClientPlan> Admission::plans() const {
  std::lock_guard lock(mu_);
  std::vector<ClientPlan> out;
  for (const auto& [id, s] : clients_) out.push_back(s.plan);
  return out;
}

double Admission::threshold_locked(const State& s, double watermark) const {
  if (scheduler_.policy == config::SchedulerConfig::Policy::fifo) return 1.0;
  return 1.0 - (1.0 - watermark) * s.plan.position;
}

double Admission::threshold(uint32_t client) const {
  std::lock_guard lock(mu_);
  auto it = clients_.find(client);
  if (it == clients_.end()) return scheduler_.queue_watermark;
  return threshold_locked(it->second, scheduler_.queue_watermark);
}

uint32_t Admission::refuse_locked(State& s, double load, Refusal reason, bool penalty) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double draw = u(rng_);
  const uint32_t delay =
      penalty ? policy_.budget_delay_ms(s.plan.client, load, draw) : policy_.delay_ms(s.plan.client, load, draw);
  ++s.counters.refused[std::string(refusal_name(reason))];
  ++s.counters.delays_given;
  s.counters.delay_ms_sum += delay;
  return delay;
}

Decision Admission::on_request(uint32_t client, bool retry) {
  std::lock_guard lock(mu_);
  auto it = clients_.find(client);
  if (it == clients_.end()) return {};
  State& s = it->second;
  if (!retry) {
    s.budget.first_attempt();
    return {};
  }
  if (s.budget.try_retry()) return {};
  return {Refusal::budget, refuse_locked(s, 1.0, Refusal::budget, true)};
}

Decision Admission::admit_log(uint32_t client, double fill) {
  std::lock_guard lock(mu_);
  auto it = clients_.find(client);
  if (it == clients_.end()) return {};
  State& s = it->second;
  if (fill < 1.0 && fill < threshold_locked(s, scheduler_.queue_watermark)) return {};
  return {Refusal::log_queue, refuse_locked(s, std::min(fill, 1.0), Refusal::log_queue, false)};
}

uint32_t Admission::refuse(uint32_t client, double load, Refusal reason) {
  std::lock_guard lock(mu_);
  auto it = clients_.find(client);
  if (it == clients_.end()) {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    return policy_.delay_ms(client, load, u(rng_));
  }
  return refuse_locked(it->second, load, reason, false);
}

std::map<uint32_t, ClientAdmission> Admission::stats() const {
  std::lock_guard lock(mu_);
  std::map<uint32_t, ClientAdmission> out;
  for (const auto& [id, s] : clients_) {
    ClientAdmission c = s.counters;
    c.tokens = s.budget.tokens();
    c.burst = s.budget.spec().burst;
    c.ratio = s.budget.spec().ratio;
    c.first_attempts = s.budget.first_attempts();
    c.retries = s.budget.retries();
    out.emplace(id, std::move(c));
  }
  return out;
}

}  // namespace aiops::sched
