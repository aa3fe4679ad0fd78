#pragma once
// `aiops update`: every step of a live update, in order, through the
// running worker's control socket — prepare, activate, flush, validate,
// reorder, swap, apply, deactivate — timing each.
//
// Resume: the buffer's phase says which step completed last (a runner that
// was killed leaves it there); the sequence continues with the next one.
// An idle buffer starts a new update.
//
// Rollback: when the swap fails (the worker says why and serves on), apply
// and deactivate run on the old worker, so writes go to the log again as
// before, and the result says rolled_back with the reason.
//
// One at a time: the sequence holds an exclusive lock on
// <data_dir>/state/update.lock; a second one is refused with Errc::busy.

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "aiops/config/config.hpp"
#include "aiops/core/error.hpp"
#include "aiops/swap/handover.hpp"

namespace aiops::phase {

struct UpdateOptions {
  std::filesystem::path binary;
  std::optional<std::string> sha256;
  double timeout_s = 30;  // for the new binary to report ready
  swap::Mode mode = swap::Mode::migrate;
  /// Told after each step: its name and milliseconds.
  std::function<void(const std::string&, double)> on_step;
};

struct UpdateResult {
  bool ok = false;
  std::optional<Error> error;  // why it failed
  bool rolled_back = false;    // the swap failed; the old worker serves, the buffer is drained
  std::string resumed_from = "idle";
  nlohmann::json doc;          // aiops(1) update --json
};

/// Runs the sequence. Errors that stop it before the swap (no worker, a
/// step failing, another update running) come back in the result too.
[[nodiscard]] UpdateResult run_update(const config::Config& config, const UpdateOptions& options);

}  // namespace aiops::phase
