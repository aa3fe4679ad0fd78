#pragma once
// Replacing a small file whole, so that a reader sees either the old
// contents or the new, never a mixture, and never a moment when the new
// contents are readable by anyone but the owner.
//
// The sequence: remove a stale "<name>.tmp" left by a crash, create it
// anew with O_EXCL (mode 0600 on the POSIX file system, narrowed further by
// the umask), write, fdatasync, rename over <name>, fsync the directory.
// Creating exclusively matters: opening an existing temporary file would
// keep whatever mode it had. On failure the temporary file is removed and
// <name> is left as it was.
//
// For configuration and credentials files, not for anything written often.

#include <filesystem>
#include <string_view>

#include "aiops/core/error.hpp"
#include "aiops/io/file_system.hpp"

namespace aiops::io {

/// Makes `path` hold exactly `contents`, atomically and durably (see above).
/// The directory of `path` must exist.
[[nodiscard]] Status replace_file(FileSystem& fs, const std::filesystem::path& path, std::string_view contents);

}  // namespace aiops::io
