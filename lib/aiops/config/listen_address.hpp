#pragma once
// The text form of a listening address, shared by aiops.toml ([[listener]]
// address) and any command-line option that takes one:
//
//   host:port      host is an IPv4 dotted quad or "localhost"
//   [v6addr]:port  an IPv6 address in brackets
//   unix:/path     a Unix domain socket; a relative path resolves against
//                  the directory given by the caller
//
// port is 0..65535, 0 asking the system for a free port. Host names other
// than "localhost" are refused: a worker must not depend on DNS to start.

#include <cstddef>
#include <filesystem>
#include <string_view>

#include "aiops/config/config.hpp"
#include "aiops/core/error.hpp"

namespace aiops::config {

/// sockaddr_un::sun_path holds this many bytes of path (plus the final NUL).
inline constexpr std::size_t kMaxUnixPathBytes = 107;

/// A ListenerConfig with address, is_unix, host, port and unix_path filled
/// in (protocol left at its default). A Unix address comes back absolute,
/// normal and with "unix:" + the absolute path as `address`. Errors are
/// Errc::invalid_input and name the text and the accepted forms.
[[nodiscard]] Result<ListenerConfig> parse_listen_address(std::string_view text,
                                                          const std::filesystem::path& directory);

/// An error when `path` is too long for a Unix socket address, else success.
[[nodiscard]] Status check_unix_socket_path(const std::filesystem::path& path);

}  // namespace aiops::config
