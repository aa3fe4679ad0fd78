#pragma once
// Log record format, version 1.
//
// The primary write log is a sequence of segment files (wal/segment.hpp).
// After its segment header, a segment holds records back to back with no
// padding. A record is one client write: where it goes (volume, offset) and
// the bytes. Every integer is little-endian.
//
// Record header, 48 bytes, followed by `length` payload bytes:
//
//   offset width field         meaning
//   ------ ----- ------------- ---------------------------------------------
//        0     4 magic         0x43455241, the bytes "AREC"
//        4     2 version       1
//        6     2 flags         bit 0: FUA, the record was in a batch that
//                              was fdatasync'ed before it was acknowledged.
//                              bit 1: MARKER, no data; marks that everything
//                              before it was synced (written by sync() and
//                              when the log is closed; always with FUA).
//                              Other bits are 0 in version 1.
//        8     8 sequence      1, 2, 3, ... without gaps across the log; the
//                              order in which writes were acknowledged
//       16     4 client        numeric client id ([[client]] id)
//       20     4 volume        numeric volume id ([[volume]] id); 0 in a marker
//       24     8 offset        byte offset of the write in the volume
//       32     4 length        payload bytes following the header; 0 in a marker
//       36     4 header_check  low 32 bits of XXH3-64 over bytes 0..35
//       40     8 checksum      XXH3-64 over the 48 bytes formed by bytes
//                              0..39 followed by the little-endian XXH3-64
//                              of the payload
//       48   len payload
//
// Why two checks. `checksum` covers header and payload: it is what says a
// record is intact. `header_check` covers only the header, so a reader can
// trust `length` before it reads the payload, and can tell a header hit by a
// flipped bit (one bit away from a valid one) from bytes that never were a
// record (the unfinished tail a crash leaves). Hashing the
// payload separately lets the payload hash be computed by the thread that
// received the write (or taken from the wire), while the log's writer only
// hashes 48 bytes per record once it has assigned the sequence number.
//
// A record is valid when magic, version and header_check match, no unknown
// flag is set, its payload lies inside the file, and checksum matches.
// Whether a record in the right place also has the right sequence number is
// the segment's business (wal/segment.hpp).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace aiops::wal {

inline constexpr uint32_t record_magic = 0x43455241;  // "AREC"
inline constexpr uint16_t record_version = 1;
inline constexpr size_t record_header_bytes = 48;
inline constexpr uint16_t record_flag_fua = 1u << 0;
inline constexpr uint16_t record_flag_marker = 1u << 1;
inline constexpr uint16_t record_known_flags = record_flag_fua | record_flag_marker;

struct RecordHeader {
  uint16_t flags = 0;
  uint64_t sequence = 0;
  uint32_t client = 0;
  uint32_t volume = 0;
  uint64_t offset = 0;
  uint32_t length = 0;

  [[nodiscard]] bool marker() const { return (flags & record_flag_marker) != 0; }
  [[nodiscard]] bool fua() const { return (flags & record_flag_fua) != 0; }
  friend bool operator==(const RecordHeader&, const RecordHeader&) = default;
};

using RecordHeaderBytes = std::array<std::byte, record_header_bytes>;

/// Encodes `header` with both checks; `payload_hash` is checksum64(payload).
void encode_record_header(const RecordHeader& header, uint64_t payload_hash, std::byte* out) noexcept;

enum class HeaderVerdict {
  valid,         // all header fields check out (the payload is not looked at)
  damaged,       // one bit away from a valid header, or a valid check over
                 // impossible fields: a record hit by damage
  not_a_record,  // anything else, e.g. zeros or half-written bytes
};

struct DecodedHeader {
  HeaderVerdict verdict = HeaderVerdict::not_a_record;
  RecordHeader header;   // meaningful when verdict == valid
  std::string problem;   // why, when verdict != valid
};

/// Examines the 48 bytes at `bytes` as a record header.
[[nodiscard]] DecodedHeader decode_record_header(const std::byte* bytes);

/// True when the checksum stored in the (valid) header at `bytes` matches
/// the header and a payload whose checksum64 is `payload_hash`.
[[nodiscard]] bool record_checksum_matches(const std::byte* bytes, uint64_t payload_hash) noexcept;
/// True when the stored checksum differs from the right one in exactly one
/// bit that a torn write cannot explain: the checksum field itself was hit.
[[nodiscard]] bool record_checksum_one_bit_off(const std::byte* bytes, uint64_t payload_hash) noexcept;

}  // namespace aiops::wal
