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
// the time is up.
//
// Refusals the worker sends (status replies) are retried when the status
// says the request may succeed later (busy, too_many_outstanding, and
// checksum_mismatch with a delay): the client sleeps the reply's
// retry_after_ms plus up to a quarter of it again at random (so clients told
// the same delay do not come back in step), then sends the request again
// marked RETRY, at most max_attempts times in all. A request that still is
// refused then, or refused for any other reason, counts as an error, by
// status name. Latency is what the client saw: from the first attempt to
// the answer, retries and their waits included.
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
  /// When not empty: this many load clients of each SLA class (using the
  /// identities of that class in turn), instead of `clients` spread over
  /// all identities.
  std::map<std::string, unsigned> class_clients;
  std::chrono::duration<double> duration{10.0};
  uint32_t write_size = 4096;
  double read_ratio = 0.0;
  double fua_ratio = 0.0;
  double rate = 0.0;  // requests per second over all clients; 0 = each as fast as replies come
  /// Requests per second over the load clients of a class, instead of their
  /// share of `rate`; 0 = as fast as replies come (a flood).
  std::map<std::string, double> class_rate;
  /// Attempts per request, the first included; 1 = never retry.
  unsigned max_attempts = 8;
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
  Kind kind = ok;        // error: a refusal reply (retried or not)
  uint32_t latency_us = 0;  // ok: from the first attempt
};

struct ClassResult {
  uint64_t clients = 0;  // load clients of the class
  uint64_t writes = 0;   // acknowledged
  uint64_t reads = 0;    // answered
  uint64_t errors = 0;   // requests that failed in the end (refused, out of attempts)
  uint64_t first_attempts = 0;
  uint64_t retries = 0;   // attempts after the first
  uint64_t refusals = 0;  // refusal replies, retried or not
  uint64_t delays = 0;    // refusals that carried a retry_after_ms
  uint64_t delay_ms_sum = 0;  // of those delays
  uint64_t gave_up = 0;   // requests refused max_attempts times
  LatencyHistogram latency;  // of successful requests, from the first attempt

  /// The mean of the delays the worker gave, in ms; 0 when none.
  [[nodiscard]] double mean_delay_ms() const {
    return delays > 0 ? static_cast<double>(delay_ms_sum) / static_cast<double>(delays) : 0.0;
  }
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
