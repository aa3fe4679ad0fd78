#pragma once
// The steps of a live update that `aiops phase <step>` runs one at a time,
// and the phase they leave the speculative buffer in.
//
// The segment header's `phase` holds the last step completed (numbered as
// below; 0 = idle, which deactivate returns to), `phase_running` the step in
// progress. A runner that dies leaves phase_running set; running that step
// again finishes it, because every step is idempotent.

#include <cstdint>
#include <optional>
#include <string_view>

namespace aiops::phase {

enum class Step : uint32_t {
  none = 0,  // as a phase: idle
  prepare = 1,
  activate = 2,
  flush = 3,
  validate = 4,
  reorder = 5,
  swap = 6,  // the new binary takes over (worker/handover.cpp)
  apply = 7,
  deactivate = 8,
};

/// "prepare", "activate", ...; "none" for Step::none.
[[nodiscard]] std::string_view step_name(Step step) noexcept;
/// The phase a completed step leaves: "idle", "prepared", "active",
/// "flushed", "validated", "reordered", "swapped", "applied".
[[nodiscard]] std::string_view phase_name(Step last_completed) noexcept;
[[nodiscard]] std::optional<Step> parse_step(std::string_view name) noexcept;

}  // namespace aiops::phase
