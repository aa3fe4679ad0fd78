#pragma once
// "Is this damaged header one bit away from a valid one?" — the question the
// log asks to tell bit rot (corruption, to be reported) from the leftovers of
// an unfinished write (a torn tail, to be dropped). See wal/segment.hpp.

#include <cstddef>
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

}  // namespace aiops
