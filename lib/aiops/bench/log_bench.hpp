#pragma once
// `aiops bench log`: many threads append fixed-size records to a log in a
// closed loop (each waits for its acknowledgement before the next write)
// for a fixed time, and the run reports throughput, group-commit behaviour
// and append latency. The log is left in the directory for inspection.
//
// What it measures is the log in its steady state: spare segments are
// allocated before the clock starts (as fio lays out its file first), and
// full segments are retired as a checkpointer that keeps up would retire
// them, so they are recycled. Applying records to volumes is not part of it:
// retired records are marked applied without being written anywhere.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>

#include "aiops/core/error.hpp"
#include "aiops/core/latency_histogram.hpp"
#include "aiops/wal/log.hpp"

namespace aiops::bench {

struct LogBenchOptions {
  std::filesystem::path dir;
  unsigned threads = 16;
  std::chrono::duration<double> duration{5.0};
  size_t write_size = 4096;
  bool durable = false;
  wal::LogOptions log;
  /// Keep this many newest segments; older ones are marked applied (without
  /// writing volumes) and recycled during the run. 0 keeps every segment.
  size_t keep_segments = 4;
};

struct LogBenchResult {
  uint64_t writes = 0;
  uint64_t payload_bytes = 0;
  double seconds = 0;
  wal::LogStats log;  // batches and syncs during the run
  LatencyHistogram latency;

  [[nodiscard]] double writes_per_s() const { return seconds > 0 ? static_cast<double>(writes) / seconds : 0; }
  [[nodiscard]] double mb_per_s() const { return seconds > 0 ? static_cast<double>(payload_bytes) / 1e6 / seconds : 0; }
  [[nodiscard]] double syncs_per_s() const { return seconds > 0 ? static_cast<double>(log.syncs) / seconds : 0; }
  /// Records per commit round (one write each).
  [[nodiscard]] double mean_batch() const {
    return log.batches == 0 ? 0 : static_cast<double>(log.records) / static_cast<double>(log.batches);
  }
  /// Records per fdatasync (0 when nothing was synced).
  [[nodiscard]] double records_per_sync() const {
    return log.syncs == 0 ? 0 : static_cast<double>(log.records) / static_cast<double>(log.syncs);
  }
};

/// Called about once a second from the calling thread: elapsed seconds and writes so far.
using BenchProgress = std::function<void(double elapsed_s, uint64_t writes)>;

[[nodiscard]] Result<LogBenchResult> run_log_bench(const LogBenchOptions& options, const BenchProgress& progress = {});

}  // namespace aiops::bench
