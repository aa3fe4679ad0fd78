#include "aiops/sched/client_plan.hpp"

#include <algorithm>
#include <chrono>

namespace aiops::sched {

double scheduler_weight(double class_weight, double position) noexcept {
  return class_weight * (2.0 - std::clamp(position, 0.0, 1.0));
}

double rank_position(uint32_t rank, uint32_t ranked) noexcept {
  if (ranked <= 1) return 0.0;
  const uint32_t r = rank == 0 ? ranked : std::min(rank, ranked);
  return static_cast<double>(r - 1) / static_cast<double>(ranked - 1);
}

std::vector<ClientPlan> plan_clients(const config::Config& config, const specbuf::PriorityList& list) {
  std::vector<ClientPlan> out;
  out.reserve(config.clients.size());
  const auto ranked = static_cast<uint32_t>(list.clients.size());
  for (const auto& c : config.clients) {
    const config::SlaClass& k = config.sla.at(c.sla);
    ClientPlan p;
    p.client = c.id;
    p.name = c.name;
    p.sla = c.sla;
    const specbuf::ClientPriority* entry = list.find(c.id);
    p.rank = entry != nullptr ? entry->rank : 0;
    p.position = rank_position(p.rank, std::max<uint32_t>(ranked, 1));
    p.qos = QosSpec{k.reservation, scheduler_weight(k.weight, p.position), k.limit};
    p.retry_delay_ms = std::chrono::duration<double, std::milli>(k.retry_delay).count();
    p.budget = BudgetSpec{k.retry_budget, k.retry_burst};
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace aiops::sched
