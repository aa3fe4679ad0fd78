#pragma once
// `aiops verify`: the proof that no acknowledged write was lost. It replays
// a load record (load/record_file.hpp) to learn, for every block written,
// which contents are allowed, then reads every such block back through the
// worker and judges it:
//
//  * allowed: the last write to the block that was acknowledged, or a write
//    issued after it whose outcome the load never learned (in flight when
//    the worker died, or refused with an I/O error); for a block with no
//    acknowledged write, zeros, any write issued to it, or what a run before
//    the record left there;
//  * lost: an older write, or zeros, where an acknowledged write should be;
//  * unexpected: bytes that are no write of the record at all (damaged, or
//    a stamp the record does not know).
//
// Reads are pipelined (up to 32 in flight) over one connection.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "aiops/client/native_client.hpp"
#include "aiops/core/error.hpp"

namespace aiops::load {

struct VerifyOptions {
  client::Endpoint endpoint;
  std::string client;  // identity to read as
  std::string token;
  std::filesystem::path record;
  std::chrono::milliseconds request_timeout{10000};
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct VerifyResult {
  uint64_t writes = 0;     // issued writes in the record
  uint64_t acked = 0;      // acknowledged writes in the record
  uint64_t checked = 0;    // blocks read back
  uint64_t ok = 0;
  uint64_t lost = 0;
  uint64_t unexpected = 0;
  std::vector<std::string> problems;  // the first few lost / unexpected blocks, described
};

[[nodiscard]] Result<VerifyResult> run_verify(const VerifyOptions& options);

}  // namespace aiops::load
