#pragma once
// The new binary of a live update: the checks it must pass before the old
// worker starts it, how it is started, and how its end is described.
//
// Checks, in order, each with its own message naming the path: it exists;
// it is a regular file (after symlinks); this user may execute it; it is not
// writable by others (anyone could have replaced it); and, when the operator
// gave one, its SHA-256 matches.
//
// Start: posix_spawn of `PATH --config CONFIG --takeover-fd 3`, with the
// channel to the old worker as descriptor 3 and every descriptor above it
// closed, so no client socket or lock of the old worker leaks into the new
// process by inheritance (they travel over the channel, on purpose). The
// child is the old worker's: it runs in the same service and cgroup, and
// inherits its environment (NOTIFY_SOCKET), stdout and stderr.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "aiops/core/error.hpp"

namespace aiops::swap {

/// The descriptor number the channel has in the new process.
inline constexpr int takeover_fd = 3;

/// SHA-256 of the file's contents, as 64 lowercase hex digits.
[[nodiscard]] Result<std::string> file_sha256(const std::filesystem::path& path);

/// Errors: Errc::not_found, Errc::permission_denied (not executable,
/// writable by others), Errc::invalid_input (not a regular file, checksum).
[[nodiscard]] Status check_binary(const std::filesystem::path& path, std::optional<std::string_view> sha256_hex);

/// Starts the new binary; returns its pid.
[[nodiscard]] Result<pid_t> spawn_takeover(const std::filesystem::path& binary, const std::filesystem::path& config,
                                           int channel_fd);

/// How a child ended ("exited with status 3", "was killed by signal 9"),
/// reaping it; nullopt while it runs. With `wait`, waits for the end.
[[nodiscard]] std::optional<std::string> child_ended(pid_t pid, bool wait);

}  // namespace aiops::swap
