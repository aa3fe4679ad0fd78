#pragma once
// The one mapping from library errors to the native protocol's status codes.

#include "aiops/core/error.hpp"
#include "aiops/net/protocol.hpp"

namespace aiops::worker {

[[nodiscard]] inline net::Status wire_status(const Error& error) noexcept {
  switch (error.code()) {
    case Errc::not_found: return net::Status::unknown_volume;
    case Errc::invalid_argument: return net::Status::out_of_range;
    case Errc::permission_denied: return net::Status::access_denied;
    case Errc::busy:
    case Errc::timeout: return net::Status::busy;
    default: return net::Status::io_error;
  }
}

}  // namespace aiops::worker
