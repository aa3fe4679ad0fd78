#pragma once
// `aiops bench buffer`: the speculative buffer's intake path from one
// producer — reserve an entry under the segment's robust lock, fill its
// fields, copy the payload into the shared-memory arena, publish it by CAS —
// against a plain memcpy of the same bytes to the same-sized private memory,
// in the same run. Both destinations are touched once before timing, so
// neither pays page faults; each round copies every entry once.

#include <cstdint>
#include <vector>

#include "aiops/core/error.hpp"

namespace aiops::bench {

struct BufferBenchOptions {
  uint32_t entries = 65536;
  uint32_t entry_bytes = 4096;
  unsigned rounds = 7;
};

struct BufferBenchRound {
  double intake_s = 0;  // seconds for all entries through the buffer
  double memcpy_s = 0;  // seconds for memcpy of the same bytes
};

struct BufferBenchResult {
  std::vector<BufferBenchRound> rounds;
};

[[nodiscard]] Result<BufferBenchResult> run_buffer_bench(const BufferBenchOptions& options);

}  // namespace aiops::bench
