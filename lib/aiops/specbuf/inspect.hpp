#pragma once
// A snapshot of the speculative buffer for people and scripts: `aiops
// buffer inspect` and the worker's status. Read without the lock, so the
// counts of a buffer taking writes are a moment's view, each one exact for
// the entry it read.

#include <nlohmann/json.hpp>

#include "aiops/config/config.hpp"
#include "aiops/specbuf/segment.hpp"

namespace aiops::specbuf {

/// Keys: segment, phase, intake, step_running, entries.{writing,pending,
/// valid,rejected,applied,live,capacity}, bytes_used, bytes_free,
/// oldest_entry_age_s (null when empty), clients[{client, id, entries,
/// bytes}], totals.{accepted,valid,rejected,applied,discarded,refused_full},
/// generation. Client names come from `config` when it knows the id.
[[nodiscard]] nlohmann::json inspect(const Segment& segment, const config::Config& config);

/// The header's counters since creation: accepted, valid, rejected,
/// applied, discarded.
[[nodiscard]] nlohmann::json entry_totals(const Segment& segment);

}  // namespace aiops::specbuf
