#pragma once
// The worker's own I/O history, for forecasting (aiops forecast --format
// worker): every trace_interval, one line per client that did any I/O.
//
// Files: <data_dir>/trace/<YYYY-MM-DD>.csv, one per UTC day, appended to.
// Each file starts with the header line
//   timestamp,interval_s,client,reads,writes,read_bytes,write_bytes,sequential
// and each line gives the start of the interval (Unix seconds), its length
// in seconds, the client name, the reads and writes it completed in that
// interval with their bytes, and how many of its reads and writes began
// where its previous one on the same connection and volume ended (the
// sequential share, one of the signs of the client's application type).
//
// Why aggregates and not a line per request as in the native trace format
// (DESIGN.md, Forecasting): at 50,000 requests/s a line per request is
// about 190 GB a day, more than forecasting could ever need; the counts per
// interval are what it aggregates traces into anyway.
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
    uint64_t reads = 0, writes = 0, read_bytes = 0, write_bytes = 0, sequential = 0;
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
