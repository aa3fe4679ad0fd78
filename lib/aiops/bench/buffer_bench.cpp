#include "aiops/bench/buffer_bench.hpp"

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "aiops/specbuf/segment.hpp"

namespace aiops::bench {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t source_blocks = 64;  // payloads as they sit in receive buffers: hot in cache

// Removes the scratch segment however the run ends.
struct SegmentName {
  std::string name;
  ~SegmentName() { (void)specbuf::Segment::remove(name); }
};

}  // namespace

Result<BufferBenchResult> run_buffer_bench(const BufferBenchOptions& o) {
  if (o.entries == 0 || o.entry_bytes == 0 || o.rounds == 0)
    return Error(Errc::invalid_argument, "bench buffer: entries, entry size and rounds must be positive");
  SegmentName scratch{"aiops-bench-" + std::to_string(::getpid())};
  const uint64_t arena = uint64_t{o.entries} * o.entry_bytes;
  AIOPS_ASSIGN(auto segment, specbuf::Segment::create_or_attach(
                                 {scratch.name, static_cast<uint32_t>(::geteuid()), {o.entries, arena}}));
  std::vector<std::byte> source(source_blocks * o.entry_bytes);
  for (size_t i = 0; i < source.size(); ++i) source[i] = std::byte(i * 131 % 251);
  std::vector<std::byte> plain(arena);
  std::memset(plain.data(), 1, plain.size());
  std::memset(segment->arena(), 1, arena);

  BufferBenchResult result;
  for (unsigned round = 0; round < o.rounds; ++round) {
    segment->reset_ring();
    BufferBenchRound r;
    auto t0 = Clock::now();
    for (uint32_t i = 0; i < o.entries; ++i) {
      auto slot = segment->reserve(o.entry_bytes, 1.0);
      if (!slot) return Error(Errc::no_space, "bench buffer: the segment filled at entry " + std::to_string(i));
      specbuf::EntryRecord& e = *slot->entry;
      e.client = 1;
      e.volume = 1;
      e.offset = uint64_t{i} * o.entry_bytes;
      e.checksum = i;
      std::memcpy(slot->payload, source.data() + (i % source_blocks) * o.entry_bytes, o.entry_bytes);
      specbuf::Segment::publish(e);
    }
    r.intake_s = std::chrono::duration<double>(Clock::now() - t0).count();
    t0 = Clock::now();
    for (uint32_t i = 0; i < o.entries; ++i)
      std::memcpy(plain.data() + uint64_t{i} * o.entry_bytes, source.data() + (i % source_blocks) * o.entry_bytes,
                  o.entry_bytes);
    r.memcpy_s = std::chrono::duration<double>(Clock::now() - t0).count();
    // Keep the copies observable so the compiler cannot drop them.
    if (plain[arena - 1] != segment->arena()[arena - 1]) return Error(Errc::corrupt, "bench buffer: copies differ");
    result.rounds.push_back(r);
  }
  return result;
}

}  // namespace aiops::bench
