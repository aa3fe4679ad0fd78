#pragma once
// "Is this damaged header one bit away from a valid one?" — the question the
// log asks to tell bit rot (corruption, to be reported) from the leftovers of
// an unfinished write (a torn tail, to be dropped). See wal/segment.hpp.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace aiops {

/// True when flipping some single bit of `bytes` makes `is_valid(bytes)`
/// true. `bytes` is modified during the search and restored before return.
template <class Predicate>
[[nodiscard]] bool one_bit_from_valid(std::span<std::byte> bytes, Predicate&& is_valid) {
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    const auto mask = std::byte{static_cast<unsigned char>(1u << (bit % 8))};
    bytes[bit / 8] ^= mask;
    const bool ok = is_valid(bytes);
    bytes[bit / 8] ^= mask;
    if (ok) return true;
  }
  return false;
}

/// True when a stored little-endian check value differs from
/// the computed one by a single flipped bit — unless a write torn inside the
/// field explains it just as well: a torn write leaves the field's last bytes
/// zero, so a difference in a byte from which on the stored value is all zero
/// is not counted.
[[nodiscard]] inline bool one_bit_flip_of(uint64_t stored, uint64_t computed) {
  const uint64_t diff = stored ^ computed;
  if (std::popcount(diff) != 1) return false;
  const unsigned byte = static_cast<unsigned>(std::countr_zero(diff)) / 8;
  const uint64_t from_byte_on = byte == 0 ? stored : stored >> (8 * byte);
  return from_byte_on != 0;
}

}  // namespace aiops
