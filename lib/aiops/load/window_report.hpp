#pragma once
// The load as its clients saw it in time windows (before, during and after
// a live update), per SLA class, from a load run's timeline
// (LoadOptions::timeline).
//
// max_stall_ms is the longest time one client went without an answer: the
// gap between two consecutive successful requests of that client, counted
// in every window the gap overlaps. It is what a person at that client
// would call the outage.

#include <string>
#include <vector>

#include "aiops/load/load_generator.hpp"

namespace aiops::load {

struct Window {
  std::string name;
  double begin = 0;  // seconds since the load started
  double end = 0;
};

struct WindowStats {
  std::string sla;
  std::string window;
  double seconds = 0;
  uint64_t ok = 0;
  double ops_per_s = 0;
  double p99_ms = 0;
  double max_ms = 0;
  double max_stall_ms = 0;
  uint64_t errors = 0;
  uint64_t disconnects = 0;
  uint64_t refused = 0;
};

/// One row per (class, window), classes in name order, windows as given.
[[nodiscard]] std::vector<WindowStats> window_report(const LoadResult& result, const std::vector<Window>& windows);

}  // namespace aiops::load
