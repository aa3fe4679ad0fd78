#pragma once
// What kind of I/O a client did over a whole trace: the counts that the
// application-type inference (app_type.hpp) reads. The trace readers fill it
// where the format carries the information (native, MSR, worker); the
// aggregated series format does not, and leaves `known` false.

#include <cstdint>

namespace aiops::forecast {

struct IoMix {
  bool known = false;  // false: the trace had no per-request detail
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
  // Reads and writes that began where the client's previous request (on the
  // same disk or volume) ended.
  uint64_t sequential = 0;

  [[nodiscard]] uint64_t requests() const noexcept { return reads + writes; }
  [[nodiscard]] uint64_t bytes() const noexcept { return read_bytes + write_bytes; }

  IoMix& operator+=(const IoMix& o) noexcept {
    known = known || o.known;
    reads += o.reads;
    writes += o.writes;
    read_bytes += o.read_bytes;
    write_bytes += o.write_bytes;
    sequential += o.sequential;
    return *this;
  }
};

}  // namespace aiops::forecast
