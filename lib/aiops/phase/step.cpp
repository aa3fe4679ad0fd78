#include "aiops/phase/step.hpp"

#include <array>

namespace aiops::phase {

namespace {
constexpr std::array<std::string_view, 9> steps = {"none",    "prepare", "activate", "flush",     "validate",
                                                   "reorder", "swap",    "apply",    "deactivate"};
constexpr std::array<std::string_view, 9> phases = {"idle",      "prepared", "active",  "flushed", "validated",
                                                    "reordered", "swapped",  "applied", "idle"};
}  // namespace

std::string_view step_name(Step step) noexcept {
  auto i = static_cast<size_t>(step);
  return i < steps.size() ? steps[i] : "unknown";
}

std::string_view phase_name(Step last) noexcept {
  auto i = static_cast<size_t>(last);
  return i < phases.size() ? phases[i] : "unknown";
}

std::optional<Step> parse_step(std::string_view name) noexcept {
  for (size_t i = 1; i < steps.size(); ++i)
    if (steps[i] == name) return Step{static_cast<uint32_t>(i)};
  return std::nullopt;
}

}  // namespace aiops::phase
