#pragma once
// The checksum used by every aiops format: XXH3-64 (xxHash 0.8, seed 0).
// The log records, the checkpoint file and the native protocol's payloads
// all use it, so one hash of a client's payload can be checked on the wire
// and reused for the log record.

#include <cstddef>
#include <cstdint>
#include <span>

namespace aiops {

[[nodiscard]] uint64_t checksum64(std::span<const std::byte> data) noexcept;
[[nodiscard]] uint64_t checksum64(const void* data, size_t size) noexcept;

}  // namespace aiops
