#pragma once
// The worker's own I/O history, for forecasting (aiops forecast --format
// worker): every trace_interval, one line per client that did any I/O.
//
// Files: <data_dir>/trace/<YYYY-MM-DD>.csv, one per UTC day, appended to.
// Each file starts with the header line
//   timestamp,client,reads,writes,read_bytes,write_bytes
// and each line gives the start of the interval (Unix seconds), the client
// name, and the reads, writes and bytes it completed in that interval.
// (This is per-interval, unlike the per-operation native trace format:
// a line per I/O would cost as much as the I/O.)
//
// The history is informational: it is flushed each interval but not synced,
// and a write error is logged once and otherwise ignored.
//
// Thread-safety: runs on the io_context.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "aiops/core/asio.hpp"

#include "aiops/worker/client_counters.hpp"

namespace aiops::worker {

class TraceRecorder {
 public:
  TraceRecorder(boost::asio::io_context& io, std::filesystem::path dir, std::chrono::nanoseconds interval,
                const CounterTable& counters, std::vector<ClientInfo> clients);
  ~TraceRecorder();

  void start();
  /// Writes the interval in progress and stops.
  void stop();

 private:
  struct Totals {
    uint64_t reads = 0, writes = 0, read_bytes = 0, write_bytes = 0;
  };
  void arm();
  void record(std::chrono::system_clock::time_point interval_start);
  std::FILE* file_for(std::chrono::system_clock::time_point when);

  boost::asio::steady_timer timer_;
  std::filesystem::path dir_;
  std::chrono::nanoseconds interval_;
  const CounterTable& counters_;
  std::vector<ClientInfo> clients_;
  std::map<uint32_t, Totals> last_;
  std::chrono::system_clock::time_point interval_start_;
  std::string open_day_;
  std::FILE* file_ = nullptr;
  bool warned_ = false;
  bool stopped_ = false;
};

}  // namespace aiops::worker
