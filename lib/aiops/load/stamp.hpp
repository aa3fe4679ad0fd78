#pragma once
// The payloads `aiops load` writes, so that `aiops verify` can recognise any
// block it reads back: which run, client and sequence number wrote it, and
// whether the bytes are intact.
//
// Layout of a stamped payload of n >= 64 bytes, little-endian:
//
//   offset width field     meaning
//   ------ ----- --------- ----------------------------------------------
//        0     8 magic     the bytes "AIOPSLD1"
//        8     8 run       random id of the `aiops load` run
//       16     4 client    index of the load client within the run
//       20     4 length    n
//       24     8 sequence  the client's write number, 1, 2, ...
//       32     8 volume offset where it was written (so a block that
//                          landed elsewhere is not taken for valid)
//       40     8 fill_hash XXH3-64 of bytes 48..n-1
//       48  n-48 fill      pseudo-random bytes derived from run, client and
//                          sequence (xorshift64, see stamp.cpp)
//
// A block reads as: all zeros (never written), a valid stamp (every field
// and the fill check out), or damage.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace aiops::load {

inline constexpr size_t stamp_min_bytes = 64;

struct StampId {
  uint64_t run = 0;
  uint32_t client = 0;
  uint64_t sequence = 0;

  friend bool operator==(const StampId&, const StampId&) = default;
  friend auto operator<=>(const StampId&, const StampId&) = default;
};

/// Fills `out` (at least stamp_min_bytes) with the payload of write `id` at `offset`.
void stamp_payload(const StampId& id, uint64_t offset, std::span<std::byte> out);

enum class BlockKind { zeros, stamp, damaged };

struct BlockContent {
  BlockKind kind = BlockKind::damaged;
  StampId id;  // for kind == stamp
};

/// What `block`, read back from `offset`, holds.
[[nodiscard]] BlockContent read_stamp(std::span<const std::byte> block, uint64_t offset);

}  // namespace aiops::load
