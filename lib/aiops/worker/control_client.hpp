#pragma once
// The aiops tool's side of the control socket (worker/control_server.hpp):
// one JSON request, one JSON reply.

#include <chrono>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "aiops/core/error.hpp"

namespace aiops::worker {

/// Sends `request` to the worker listening on `socket` and returns its
/// reply. Errc::unreachable when no worker listens there.
[[nodiscard]] Result<nlohmann::json> control_request(const std::filesystem::path& socket,
                                                     const nlohmann::json& request,
                                                     std::chrono::milliseconds timeout);

}  // namespace aiops::worker
