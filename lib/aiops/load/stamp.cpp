#include "aiops/load/stamp.hpp"

#include <algorithm>
#include <cstring>

#include "aiops/core/checksum.hpp"
#include "aiops/core/endian.hpp"

namespace aiops::load {
namespace {

constexpr char magic[8] = {'A', 'I', 'O', 'P', 'S', 'L', 'D', '1'};

void fill(const StampId& id, std::span<std::byte> out) {
  uint64_t x = id.run ^ (uint64_t{id.client} << 32) ^ (id.sequence * 0x9E3779B97F4A7C15ull) ^ 0x5851F42D4C957F2Dull;
  if (x == 0) x = 1;
  size_t i = 0;
  for (; i + 8 <= out.size(); i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    store_le<uint64_t>(out.data() + i, x);
  }
  for (; i < out.size(); ++i) out[i] = static_cast<std::byte>(x >> (8 * (i % 8)));
}

}  // namespace

void stamp_payload(const StampId& id, uint64_t offset, std::span<std::byte> out) {
  std::memcpy(out.data(), magic, 8);
  store_le<uint64_t>(out.data() + 8, id.run);
  store_le<uint32_t>(out.data() + 16, id.client);
  store_le<uint32_t>(out.data() + 20, static_cast<uint32_t>(out.size()));
  store_le<uint64_t>(out.data() + 24, id.sequence);
  store_le<uint64_t>(out.data() + 32, offset);
  fill(id, out.subspan(48));
  store_le<uint64_t>(out.data() + 40, checksum64(out.subspan(48)));
}

BlockContent read_stamp(std::span<const std::byte> block, uint64_t offset) {
  if (std::all_of(block.begin(), block.end(), [](std::byte b) { return b == std::byte{0}; }))
    return {BlockKind::zeros, {}};
  BlockContent damaged{BlockKind::damaged, {}};
  if (block.size() < stamp_min_bytes || std::memcmp(block.data(), magic, 8) != 0) return damaged;
  if (load_le<uint32_t>(block.data() + 20) != block.size() || load_le<uint64_t>(block.data() + 32) != offset)
    return damaged;
  if (load_le<uint64_t>(block.data() + 40) != checksum64(block.subspan(48))) return damaged;
  StampId id{load_le<uint64_t>(block.data() + 8), load_le<uint32_t>(block.data() + 16),
             load_le<uint64_t>(block.data() + 24)};
  // The fill must be exactly the one this id produces (a checksum-valid
  // block with another writer's fill would be a bug worth seeing).
  std::vector<std::byte> expected(block.size() - 48);
  fill(id, expected);
  if (!std::equal(expected.begin(), expected.end(), block.begin() + 48)) return damaged;
  return {BlockKind::stamp, id};
}

}  // namespace aiops::load
