#include "aiops/wal/record.hpp"

#include <bit>
#include <cstdio>
#include <cstring>

#include "aiops/core/bit_repair.hpp"
#include "aiops/core/checksum.hpp"
#include "aiops/core/endian.hpp"

namespace aiops::wal {
namespace {

constexpr size_t checked_bytes = 36;  // header_check covers bytes 0..35

uint32_t header_check_of(const std::byte* bytes) noexcept {
  return static_cast<uint32_t>(checksum64(bytes, checked_bytes));
}

uint64_t record_checksum_of(const std::byte* bytes, uint64_t payload_hash) noexcept {
  std::byte buf[48];
  std::memcpy(buf, bytes, 40);
  store_le<uint64_t>(buf + 40, payload_hash);
  return checksum64(buf, sizeof buf);
}

bool check_ok(const std::byte* bytes) noexcept { return load_le<uint32_t>(bytes + 36) == header_check_of(bytes); }

// A header that flipping one bit makes valid was hit by bit rot. What a crash
// leaves behind (zeros, garbage, the first bytes of a header followed by
// zeros) is one bit away from a valid header with probability about 2^-24.
// Note what is NOT taken as damage: a right magic and version with a wrong
// check — that is exactly what a header torn after its first bytes looks like.
bool one_bit_from_valid_header(const std::byte* bytes) {
  if (one_bit_flip_of(load_le<uint32_t>(bytes + 36), header_check_of(bytes))) return true;
  std::byte copy[checked_bytes];
  std::memcpy(copy, bytes, sizeof copy);
  const uint32_t stored = load_le<uint32_t>(bytes + 36);
  return one_bit_from_valid(std::span(copy), [&](std::span<std::byte> c) {
    return static_cast<uint32_t>(checksum64(c.data(), checked_bytes)) == stored;
  });
}

}  // namespace

void encode_record_header(const RecordHeader& h, uint64_t payload_hash, std::byte* out) noexcept {
  store_le<uint32_t>(out + 0, record_magic);
  store_le<uint16_t>(out + 4, record_version);
  store_le<uint16_t>(out + 6, h.flags);
  store_le<uint64_t>(out + 8, h.sequence);
  store_le<uint32_t>(out + 16, h.client);
  store_le<uint32_t>(out + 20, h.volume);
  store_le<uint64_t>(out + 24, h.offset);
  store_le<uint32_t>(out + 32, h.length);
  store_le<uint32_t>(out + 36, header_check_of(out));
  store_le<uint64_t>(out + 40, record_checksum_of(out, payload_hash));
}

DecodedHeader decode_record_header(const std::byte* bytes) {
  DecodedHeader d;
  uint32_t magic = load_le<uint32_t>(bytes);
  uint16_t version = load_le<uint16_t>(bytes + 4);
  if (!check_ok(bytes)) {
    if (one_bit_from_valid_header(bytes)) {
      d.verdict = HeaderVerdict::damaged;
      d.problem = "record header damaged (one bit flipped)";
    } else {
      d.problem = "not a record";
    }
    return d;
  }
  if (magic != record_magic) {
    d.verdict = HeaderVerdict::damaged;
    d.problem = "record header has a bad magic";
    return d;
  }
  if (version != record_version) {
    d.verdict = HeaderVerdict::damaged;
    d.problem = "unsupported record version " + std::to_string(version) + " (this aiops reads version 1)";
    return d;
  }
  d.header.flags = load_le<uint16_t>(bytes + 6);
  if ((d.header.flags & ~record_known_flags) != 0) {
    d.verdict = HeaderVerdict::damaged;
    d.problem = "record has unknown flags 0x" + [&] {
      char buf[8];
      std::snprintf(buf, sizeof buf, "%04x", d.header.flags);
      return std::string(buf);
    }();
    return d;
  }
  d.header.sequence = load_le<uint64_t>(bytes + 8);
  d.header.client = load_le<uint32_t>(bytes + 16);
  d.header.volume = load_le<uint32_t>(bytes + 20);
  d.header.offset = load_le<uint64_t>(bytes + 24);
  d.header.length = load_le<uint32_t>(bytes + 32);
  if (d.header.marker() && (d.header.length != 0 || !d.header.fua())) {
    d.verdict = HeaderVerdict::damaged;
    d.problem = "marker record with a payload or without FUA";
    return d;
  }
  d.verdict = HeaderVerdict::valid;
  return d;
}

bool record_checksum_matches(const std::byte* bytes, uint64_t payload_hash) noexcept {
  return load_le<uint64_t>(bytes + 40) == record_checksum_of(bytes, payload_hash);
}

bool record_checksum_one_bit_off(const std::byte* bytes, uint64_t payload_hash) noexcept {
  return one_bit_flip_of(load_le<uint64_t>(bytes + 40), record_checksum_of(bytes, payload_hash));
}

}  // namespace aiops::wal
