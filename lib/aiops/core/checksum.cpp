#include "aiops/core/checksum.hpp"

#include <xxhash.h>

namespace aiops {

uint64_t checksum64(std::span<const std::byte> data) noexcept { return XXH3_64bits(data.data(), data.size()); }

uint64_t checksum64(const void* data, size_t size) noexcept { return XXH3_64bits(data, size); }

}  // namespace aiops
