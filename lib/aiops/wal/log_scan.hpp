#pragma once
// Reading a whole log directory: every segment in order, checked against
// the rules of wal/segment.hpp and the CHECKPOINT file. Used by recovery
// (Log::open) and by `aiops log verify` / `aiops log dump`.

#include <cstdint>
#include <filesystem>
#include <vector>

#include "aiops/core/error.hpp"
#include "aiops/io/file_system.hpp"
#include "aiops/wal/segment.hpp"

namespace aiops::wal {

struct SegmentSummary {
  uint64_t index = 0;
  std::filesystem::path path;
  bool header_ok = false;
  uint64_t first_sequence = 0;
  uint64_t next_sequence = 0;  // after the segment's last valid record
  uint64_t records = 0;
  uint64_t file_bytes = 0;
  uint64_t valid_end = 0;
  uint64_t junk_end = 0;          // end of a torn tail's non-zero bytes
  bool ends_with_marker = false;  // its last valid record is a marker
};

struct LogScan {
  uint64_t applied_through = 0;          // from CHECKPOINT
  std::vector<SegmentSummary> segments;  // in index order
  std::vector<Finding> findings;         // in log order
  uint64_t records = 0;
  uint64_t next_sequence = 1;            // after the last valid record

  [[nodiscard]] bool corrupt() const;
  /// The torn-tail finding, when the log ends in one.
  [[nodiscard]] const Finding* torn_tail() const;
};

struct LogScanOptions {
  bool keep_going = false;  // false: stop at the first corruption (recovery)
  RecordVisitor visit;      // optional; every valid record in sequence order
};

/// Scans `dir`. I/O failures and a damaged CHECKPOINT are errors; damage in
/// segments is reported in LogScan::findings.
[[nodiscard]] Result<LogScan> scan_log(io::FileSystem& fs, const std::filesystem::path& dir,
                                       const LogScanOptions& options);

/// Segment indices present in `dir`, ascending.
[[nodiscard]] Result<std::vector<uint64_t>> list_segments(io::FileSystem& fs, const std::filesystem::path& dir);

}  // namespace aiops::wal
