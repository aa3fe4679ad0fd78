#pragma once
// `aiops load`: N concurrent clients, each a closed loop (one request at a
// time) against a worker, for a fixed time.
//
// Each load client writes only its own region of the volume (the volume
// split into N equal parts), in blocks of write_size, with stamped payloads
// (load/stamp.hpp), so every block read back can be traced to the write that
// put it there. Reads of its own blocks are checked on the spot: a block
// must hold the client's last acknowledged write to it, or a write whose
// outcome it does not know (the connection broke before the reply).
//
// The load survives the worker going away: a failed connect counts as
// `refused`, a connection lost mid-request as a `disconnect`; the client
// then reconnects with exponential backoff (10 ms to 1 s, with jitter) until
// the time is up. Refusals the worker sends (status replies) count as
// `errors`, by status name.
//
// With a record file, every write is logged before it is sent and every
// acknowledgement after it arrives (load/record_file.hpp).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aiops/client/native_client.hpp"
#include "aiops/core/error.hpp"
#include "aiops/core/latency_histogram.hpp"

namespace aiops::load {

struct Identity {
  std::string name;
  std::string token;
  std::string sla;
};

struct LoadOptions {
  client::Endpoint endpoint;
  std::vector<Identity> identities;  // load client i uses identities[i % size]
  std::string volume;                // name of the volume to use; "" = the first one granted
  unsigned clients = 4;
  std::chrono::duration<double> duration{10.0};
  uint32_t write_size = 4096;
  double read_ratio = 0.0;
  double fua_ratio = 0.0;
  double rate = 0.0;  // requests per second over all clients; 0 = each as fast as replies come
  std::optional<std::filesystem::path> record;
  uint64_t seed = 0;  // 0: random
  std::chrono::milliseconds request_timeout{10000};
  /// Called about once a second: elapsed seconds, acknowledged writes so far.
  std::function<void(double, uint64_t)> progress;
  /// Keep every request's outcome in LoadResult::events (aiops demo, the
  /// update benchmark: windows, stalls).
  bool timeline = false;
};

/// One request's outcome, for the timeline.
struct LoadEvent {
  enum Kind : uint8_t { ok, error, disconnect, refused };
  double t = 0;          // seconds since the load started, at the outcome
  uint32_t client = 0;   // load client index
  Kind kind = ok;
  uint32_t latency_us = 0;
};

struct ClassResult {
  uint64_t writes = 0;  // acknowledged
  uint64_t reads = 0;   // answered
  uint64_t errors = 0;
  LatencyHistogram latency;  // of successful requests
};

struct LoadResult {
  std::chrono::steady_clock::time_point started;  // LoadEvent::t counts from here
  uint64_t run = 0;
  double seconds = 0;
  uint64_t acked = 0;           // writes acknowledged
  uint64_t reads = 0;           // reads answered
  uint64_t errors = 0;          // requests the worker refused
  uint64_t disconnects = 0;     // connections lost mid-request
  uint64_t refused = 0;         // connects that failed
  uint64_t read_mismatches = 0; // reads that did not return the client's own last write
  std::map<std::string, uint64_t> errors_by_status;
  std::map<std::string, ClassResult> classes;  // by SLA class
  std::vector<std::string> problems;           // the first few mismatches and errors, described
  std::vector<LoadEvent> events;               // with LoadOptions::timeline, by time
  std::vector<std::string> client_classes;     // SLA class of each load client
};

[[nodiscard]] Result<LoadResult> run_load(const LoadOptions& options);

}  // namespace aiops::load
