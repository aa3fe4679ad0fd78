#pragma once
// Little-endian load/store for the on-disk and wire formats. Every aiops
// format is little-endian regardless of the host, and fields are read with
// memcpy so they may sit at any alignment. Big-endian (network order)
// load/store exists for foreign protocols that mandate it (NBD, nbd/).

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace aiops {

template <class T>
[[nodiscard]] constexpr T byteswap(T v) noexcept {
  if constexpr (sizeof(T) == 1) return v;
  else if constexpr (sizeof(T) == 2) return static_cast<T>(__builtin_bswap16(v));
  else if constexpr (sizeof(T) == 4) return static_cast<T>(__builtin_bswap32(v));
  else return static_cast<T>(__builtin_bswap64(v));
}

template <class T>
inline void store_le(std::byte* dst, T value) noexcept {
  static_assert(std::is_unsigned_v<T>);
  if constexpr (std::endian::native == std::endian::big) value = byteswap(value);
  std::memcpy(dst, &value, sizeof(T));
}

template <class T>
[[nodiscard]] inline T load_le(const std::byte* src) noexcept {
  static_assert(std::is_unsigned_v<T>);
  T value;
  std::memcpy(&value, src, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) value = byteswap(value);
  return value;
}

template <class T>
inline void store_be(std::byte* dst, T value) noexcept {
  static_assert(std::is_unsigned_v<T>);
  if constexpr (std::endian::native == std::endian::little) value = byteswap(value);
  std::memcpy(dst, &value, sizeof(T));
}

template <class T>
[[nodiscard]] inline T load_be(const std::byte* src) noexcept {
  static_assert(std::is_unsigned_v<T>);
  T value;
  std::memcpy(&value, src, sizeof(T));
  if constexpr (std::endian::native == std::endian::little) value = byteswap(value);
  return value;
}

}  // namespace aiops
