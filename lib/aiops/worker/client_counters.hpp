#pragma once
// Per-client activity counters of a running worker, for `aiops status` and
// the I/O history in trace/. Updated by the connections with relaxed atomics.
//
// Thread-safety: the table's shape is fixed at construction; counters may be
// read and bumped from any thread.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "aiops/worker/client_directory.hpp"

namespace aiops::worker {

struct ClientCounters {
  std::atomic<uint64_t> connections{0};  // open now
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> writes{0};
  std::atomic<uint64_t> flushes{0};
  std::atomic<uint64_t> read_bytes{0};
  std::atomic<uint64_t> write_bytes{0};
  std::atomic<uint64_t> refused{0};  // requests answered with an error status
  // Reads and writes accepted that start where the previous one on the same
  // connection and volume ended: the sequential share of the client's I/O.
  std::atomic<uint64_t> sequential{0};
};

class CounterTable {
 public:
  explicit CounterTable(const std::vector<ClientInfo>& clients) {
    for (const auto& c : clients) table_.emplace(c.id, std::make_unique<ClientCounters>());
  }
  /// Precondition: `client` is a configured client id.
  [[nodiscard]] ClientCounters& at(uint32_t client) const { return *table_.at(client); }

 private:
  std::map<uint32_t, std::unique_ptr<ClientCounters>> table_;
};

}  // namespace aiops::worker
