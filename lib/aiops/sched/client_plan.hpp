#pragma once
// What the scheduler and the admission control promise each client: the
// SLA class of the configuration combined with the client's place in the
// priority list in force (specbuf/priority_list.hpp).
//
//  * position: 0 for the first-ranked client, 1 for the last (clients the
//    list does not rank count as last). Admission refuses the clients with
//    the highest position first and gives them the longest retry delays.
//  * scheduler weight = class weight x (2 - position): the forecast doubles
//    the weight of the first-ranked client relative to the last one of the
//    same class, so within a class the busier-predicted clients get more of
//    the spare capacity, while the class weights still dominate.
//  * reservation and limit come from the class as they are (per client).
//
// Pure functions; any thread.

#include <cstdint>
#include <string>
#include <vector>

#include "aiops/config/config.hpp"
#include "aiops/sched/retry_budget.hpp"
#include "aiops/sched/tag_queue.hpp"
#include "aiops/specbuf/priority_list.hpp"

namespace aiops::sched {

struct ClientPlan {
  uint32_t client = 0;
  std::string name;
  std::string sla;
  uint32_t rank = 0;     // in the list in force; 1 = first
  double position = 1;   // 0 = most important, 1 = least
  QosSpec qos;
  double retry_delay_ms = 10;  // the class's base delay
  BudgetSpec budget;
};

/// The scheduler weight of a client of a class of weight `class_weight` at
/// `position`.
[[nodiscard]] double scheduler_weight(double class_weight, double position) noexcept;

/// Position 0..1 of rank `rank` (1-based; 0 = unranked) among `ranked` clients.
[[nodiscard]] double rank_position(uint32_t rank, uint32_t ranked) noexcept;

/// One plan per configured client, in the order of config.clients. `list`
/// is the priority list in force (every client ranked once, as
/// load_priority_list and priorities_from_sla make it).
[[nodiscard]] std::vector<ClientPlan> plan_clients(const config::Config& config, const specbuf::PriorityList& list);

}  // namespace aiops::sched
