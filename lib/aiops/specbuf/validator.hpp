#pragma once
// The speculative buffer's validator: decides whether a PENDING entry may
// be acknowledged and applied. Three checks, each with its own wire status
// (net/protocol.hpp), in this order:
//   1. the payload in the arena still hashes to the checksum the client
//      sent (checksum_mismatch): catches corruption on the way in and in
//      shared memory;
//   2. the client exists and may write the volume (unknown_volume,
//      access_denied): entries can outlive the configuration they were
//      written under, and a new binary may load another one;
//   3. the extent lies inside the volume and is not empty (out_of_range).
//
// Thread-safety: immutable after construction.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "aiops/config/config.hpp"
#include "aiops/net/protocol.hpp"
#include "aiops/specbuf/segment.hpp"
#include "aiops/worker/client_directory.hpp"

namespace aiops::specbuf {

struct Verdict {
  net::Status status = net::Status::ok;
  std::string problem;  // why, when status != ok

  [[nodiscard]] bool valid() const { return status == net::Status::ok; }
};

class Validator {
 public:
  explicit Validator(const config::Config& config);
  Validator(const Validator&) = delete;  // by_id_ points into directory_
  Validator& operator=(const Validator&) = delete;

  /// Judges `entry` with its payload at `payload` (entry.length bytes; the
  /// caller has checked that they lie inside the arena).
  [[nodiscard]] Verdict check(const EntryRecord& entry, const std::byte* payload) const;

 private:
  worker::ClientDirectory directory_;
  std::map<uint32_t, const worker::ClientInfo*> by_id_;
};

}  // namespace aiops::specbuf
