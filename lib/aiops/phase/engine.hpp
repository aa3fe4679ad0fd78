#pragma once
// The phase engine: runs one step of a live update against the speculative
// buffer and the block store, records it in the segment header and mirrors
// it in <data_dir>/state/phase.json.
//
// What each step does, and what it needs:
//   prepare    (worker) saves the configuration file, the listeners, the
//              generation and the priority list in force to state/, and
//              publishes the list to the buffer header. The list is the
//              [forecast] priority_file when it exists, else SLA weights.
//   activate   (worker) switches new writes to the buffer. Needs prepare.
//   flush      (worker) makes every write already in the log durable and
//              seals it with a marker; from here on the log takes no writes
//              until apply.
//   validate   decides every entry in the buffer when the step starts.
//   reorder    gives the valid entries their apply order.
//   swap       (worker) the new binary takes over: the worker's swap hook.
//              Needs the entries ordered (reorder).
//   apply      validates, orders and appends every entry present when the
//              step starts to the log, durably, in batches; frees them.
//   deactivate (worker) holds new writes back for a moment, applies what is
//              left, returns the intake to the log and the phase to idle.
// validate, reorder and apply also run offline, in the aiops tool, when no
// worker runs (the tool holds the log lock through its own block store).
// Each of validate..apply needs a buffer that was activated.
//
// Every step may be run again: it finds its work done, or finishes what a
// runner that died left.
//
// Thread-safety: run() calls are serialised by the caller.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include "aiops/config/config.hpp"
#include "aiops/core/error.hpp"
#include "aiops/phase/step.hpp"
#include "aiops/specbuf/buffer.hpp"
#include "aiops/store/block_store.hpp"

namespace aiops::phase {

struct EngineContext {
  const config::Config& config;
  specbuf::Buffer& buffer;
  store::BlockStore& store;
  bool worker = false;        // runs inside the worker (intake can be switched)
  uint64_t generation = 0;    // of the log owner running the step
  nlohmann::json listeners;   // addresses the worker serves (prepare saves them)
  /// The worker's swap (worker/handover.cpp): starts the new binary and
  /// hands over; on failure the worker serves on and says why.
  std::function<Result<nlohmann::json>()> swap;
  /// The worker's scheduler (sched/dispatcher.hpp): hands every write
  /// still waiting for the log to it, so that activate's barrier covers
  /// them.
  std::function<void()> drain_log_queue;
};

/// Runs `step`; the JSON says what it did (see aiops(1), phase --json).
[[nodiscard]] Result<nlohmann::json> run_step(EngineContext& context, Step step);

/// The phase and step in progress as the segment header holds them, for
/// status and inspect.
[[nodiscard]] nlohmann::json phase_summary(const specbuf::Segment& segment);

/// The process exists and is not a zombie (killed, not yet reaped by its
/// parent — a worker that handed over, or a step runner that died).
[[nodiscard]] bool process_alive(pid_t pid);

/// <data_dir>/state
[[nodiscard]] std::filesystem::path state_dir(const config::Config& config);
/// The generation saved in state/generation, or 0.
[[nodiscard]] Result<uint64_t> saved_generation(const config::Config& config);

}  // namespace aiops::phase
