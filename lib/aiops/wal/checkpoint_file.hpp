#pragma once
// The CHECKPOINT file of a log directory: how far the log is applied to the
// volume images. Records with a sequence number up to `applied_through` are
// in the volumes (synced) and need not be replayed; their segments may be
// removed.
//
// Layout, 32 bytes, little-endian:
//
//   offset width field            meaning
//   ------ ----- ---------------- -----------------------------------------
//        0     8 magic            the bytes "AIOPSCKP"
//        8     2 version          1
//       10     6 reserved         0
//       16     8 applied_through  highest sequence number applied, 0 = none
//       24     8 checksum         XXH3-64 over bytes 0..23
//
// It is replaced atomically: written to CHECKPOINT.tmp, fdatasync'ed,
// renamed over CHECKPOINT, and the directory fsync'ed. A missing file means
// nothing is applied; a file that fails its checks is corruption (the
// rename makes a torn CHECKPOINT impossible, so it is never guessed at).

#include <cstdint>
#include <filesystem>

#include "aiops/core/error.hpp"
#include "aiops/io/file_system.hpp"

namespace aiops::wal {

inline constexpr size_t checkpoint_file_bytes = 32;
inline constexpr const char* checkpoint_file_name = "CHECKPOINT";

/// applied_through from `dir`/CHECKPOINT, 0 when there is none.
[[nodiscard]] Result<uint64_t> read_checkpoint_file(io::FileSystem& fs, const std::filesystem::path& dir);
/// Durably replaces `dir`/CHECKPOINT.
[[nodiscard]] Status write_checkpoint_file(io::FileSystem& fs, const std::filesystem::path& dir,
                                           uint64_t applied_through);

}  // namespace aiops::wal
