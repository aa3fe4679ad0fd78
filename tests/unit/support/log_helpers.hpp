#pragma once
// Writing small logs for the WAL tests.

#include <doctest/doctest.h>

#include <filesystem>
#include <vector>

#include "aiops/io/file_system.hpp"
#include "aiops/wal/log.hpp"
#include "aiops/wal/log_scan.hpp"
#include "aiops/wal/segment.hpp"
#include "support/files.hpp"

namespace aiops::test {

/// Log options for tests: small segments, zero-filled by the committer (so
/// the sequence of file operations is deterministic).
inline wal::LogOptions small_log_options(uint64_t segment_bytes = 4096) {
  wal::LogOptions o;
  o.segment_bytes = segment_bytes;
  o.preallocation = wal::Preallocation::inline_;
  return o;
}

/// Appends records 1..n (payload_for(i), client i % 5, volume 1, written
/// acknowledgement) to a fresh log in `dir` and closes it; the close appends
/// a marker, which takes sequence n + 1.
inline void write_log(const std::filesystem::path& dir, uint64_t n, wal::LogOptions options = small_log_options()) {
  auto log = wal::Log::open(io::posix_file_system(), dir, options);
  REQUIRE(log.ok());
  for (uint64_t i = 1; i <= n; ++i) {
    auto payload = payload_for(i);
    wal::AppendRequest req{static_cast<uint32_t>(i % 5), 1, i * 512, payload, wal::Durability::written, {}};
    auto r = log.value()->append(req);
    REQUIRE(r.ok());
    REQUIRE(r.value().sequence == i);
  }
}

/// Every valid record of the log in `dir`, in order, as (sequence, payload).
inline std::vector<std::pair<uint64_t, std::vector<std::byte>>> read_records(const std::filesystem::path& dir,
                                                                             wal::LogScan* scan_out = nullptr) {
  std::vector<std::pair<uint64_t, std::vector<std::byte>>> out;
  wal::LogScanOptions opt;
  opt.visit = [&](const wal::ScannedRecord& r) {
    if (r.header.marker()) return;
    out.emplace_back(r.header.sequence, std::vector<std::byte>(r.payload.begin(), r.payload.end()));
  };
  auto scan = wal::scan_log(io::posix_file_system(), dir, opt);
  REQUIRE(scan.ok());
  if (scan_out) *scan_out = scan.value();
  return out;
}

inline std::filesystem::path segment_path(const std::filesystem::path& dir, uint64_t index) {
  return dir / wal::segment_file_name(index);
}

/// Byte offsets where the records (markers included) of one segment start,
/// and the end of the last one; zeros after it are not records.
inline std::vector<uint64_t> record_starts(const std::vector<std::byte>& segment) {
  std::vector<uint64_t> starts;
  uint64_t pos = wal::segment_header_bytes;
  while (pos + wal::record_header_bytes <= segment.size() && segment[pos] != std::byte{0}) {
    starts.push_back(pos);
    uint32_t len = 0;
    for (int i = 3; i >= 0; --i) len = len << 8 | static_cast<uint32_t>(segment[pos + 32 + i]);
    pos += wal::record_header_bytes + len;
  }
  starts.push_back(pos);
  return starts;
}

}  // namespace aiops::test
