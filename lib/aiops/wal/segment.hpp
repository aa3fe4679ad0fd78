#pragma once
// Segment files of the primary write log, and how one is read back.
//
// The log directory (usually <data_dir>/log) holds:
//   LOCK                  flock()ed by the one process that owns the log
//   CHECKPOINT            how far records are applied to the volumes
//                         (wal/checkpoint_file.hpp)
//   <index>.wal           segments; <index> is 16 lowercase hex digits,
//                         1, 2, 3, ... in the order they were created
//
// A segment is a 48-byte segment header followed by records
// (wal/record.hpp). Every integer is little-endian.
//
//   offset width field           meaning
//   ------ ----- --------------- -------------------------------------------
//        0     8 magic           the bytes "AIOPSLOG"
//        8     2 version         1
//       10     2 header_bytes    48
//       12     4 reserved        0
//       16     8 index           the number in the file name
//       24     8 first_sequence  sequence number of the segment's first record
//       32     8 generation      generation of the log owner that created it
//       40     8 checksum        XXH3-64 over bytes 0..39
//
// Files. A segment file is normally allocated in full before it is used:
// either a recycled segment whose records are all applied, or a new file
// filled with zeros ahead of time. Writing into allocated blocks lets an
// fdatasync write only the data, with no file-size or block-allocation
// metadata. Whatever a recycled file held before stays behind the new
// records; the reader must never mistake it for part of the log.
//
// The end mark. Every write of a batch of records is followed, in the same
// write, by 48 zero bytes (unless the records reach the end of the file);
// the next batch overwrites them. So after a complete write the log ends
// with a zero block where the next record header would be, and a reader
// stops there, whatever follows (zeros, or stale records of a recycled file).
//
// Rules a reader applies, and why:
//  * Records follow each other without gaps: the first has first_sequence,
//    each next one the previous sequence + 1, and the first record of the
//    next segment continues the count.
//  * An older segment was fdatasync'ed before the next one was created: it
//    must hold valid records followed by the end mark or the end of the
//    file. Anything else there is corruption.
//  * In the newest segment, at the first spot P where no valid record with
//    the expected sequence starts:
//    - the end mark (48 zero bytes), or the end of the file: the clean end;
//    - a header one bit away from valid, or a stored checksum one bit away
//      from the right one: corruption (bit rot);
//    - anything else is the unfinished write of a crash — a torn tail,
//      dropped on recovery (zeroed, so it can never resurface) — unless a
//      valid record flagged FUA (a durable write, or a marker) with a
//      sequence number not below the expected one comes later in the
//      segment. A FUA record was acknowledged only after an fdatasync that
//      covered everything before it, so damage in front of one is
//      corruption.
//    Because a cleanly closed log ends with a marker, and sync() writes one
//    too, damage anywhere before the last sync is found as corruption.
//    Records after P that were never synced (no FUA after them) go with the
//    torn tail: after a power cut the kernel may have written later pages
//    back before earlier ones, and those records were never promised to
//    survive one.
//  * A newest segment whose header is not a header, with no FUA record
//    after it, is what a crash while it was being created leaves: a torn
//    tail at offset 0 (the segment goes).
//  * Corruption is never dropped silently: opening the log refuses it
//    unless asked to salvage, which cuts the log at the first corruption.
// A limit of the scheme: the end of the log after the last sync cannot be
// checked; damage there is indistinguishable from a crash and is dropped.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "aiops/core/error.hpp"
#include "aiops/io/file_system.hpp"
#include "aiops/wal/record.hpp"

namespace aiops::wal {

inline constexpr size_t segment_header_bytes = 48;
inline constexpr size_t end_mark_bytes = 48;
inline constexpr uint16_t segment_version = 1;

struct SegmentHeader {
  uint64_t index = 0;
  uint64_t first_sequence = 0;
  uint64_t generation = 0;
};

void encode_segment_header(const SegmentHeader& header, std::byte* out) noexcept;

/// "00000000000000a1.wal" for index 0xa1.
[[nodiscard]] std::string segment_file_name(uint64_t index);
/// The index in a segment file name, or nothing when `name` is not one.
[[nodiscard]] std::optional<uint64_t> parse_segment_file_name(std::string_view name);

struct Finding {
  enum class Kind { torn_tail, corrupt };
  Kind kind = Kind::corrupt;
  std::filesystem::path segment;
  uint64_t segment_index = 0;
  uint64_t offset = 0;  // byte offset in the segment file
  std::string reason;
};
[[nodiscard]] std::string_view finding_kind_name(Finding::Kind kind);  // "torn-tail" / "corrupt"
/// "log/0000000000000003.wal at byte 4096: payload checksum mismatch (record 77)"
[[nodiscard]] std::string describe(const Finding& finding);

/// A valid record as the scan delivers it (markers included; see
/// RecordHeader::marker()).
struct ScannedRecord {
  RecordHeader header;
  uint64_t segment_index = 0;
  uint64_t file_offset = 0;             // where the record header starts
  std::span<const std::byte> payload;   // valid only during the callback
};
using RecordVisitor = std::function<void(const ScannedRecord&)>;

struct ScanOptions {
  bool newest = false;           // this is the newest segment: a torn tail is allowed
  bool keep_going = false;       // after corruption, resynchronise and report more findings
  uint64_t expected_first = 0;   // sequence the first record must carry; 0 = take the header's
  uint64_t limit = UINT64_MAX;   // read no further than this byte offset
  RecordVisitor visit;           // optional; called for every valid record in order
};

struct SegmentScan {
  std::optional<SegmentHeader> header;  // nothing when the header is torn or damaged
  uint64_t file_bytes = 0;
  uint64_t valid_end = 0;       // end of the last valid record (0 when the header is bad)
  uint64_t records = 0;         // valid data records (markers not counted)
  uint64_t markers = 0;
  uint64_t junk_end = 0;        // with a torn tail: end of its last non-zero byte
  bool ends_with_marker = false; // the last valid record (before any finding) is a marker
  uint64_t next_sequence = 0;   // sequence after the last valid record before any finding
  uint64_t end_sequence = 0;    // sequence after the last record the scan read (keep_going)
  std::vector<Finding> findings;

  [[nodiscard]] bool clean() const { return findings.empty(); }
  [[nodiscard]] bool corrupt() const;
};

/// Reads one segment and classifies what it finds. Only I/O failures are
/// errors; damage is reported in SegmentScan::findings.
[[nodiscard]] Result<SegmentScan> scan_segment(io::File& file, uint64_t index, const ScanOptions& options);

}  // namespace aiops::wal
