#pragma once
// What the tools that talk to a worker (status, load, verify) read from its
// configuration: where it listens, its control socket, and — from the
// credentials file — the clients they may connect as.
//
// Failures become CommandFailed with exit code 3 (invalid input).

#include <string>
#include <vector>

#include "aiops/client/native_client.hpp"
#include "aiops/config/config.hpp"
#include "aiops/config/credentials.hpp"
#include "aiops/load/load_generator.hpp"

namespace aiops::cli {

/// The configuration in `path`, validated.
[[nodiscard]] config::Config load_instance_config(const std::string& path);
/// The credentials file the configuration names (worker.credentials_file).
[[nodiscard]] config::Credentials load_instance_credentials(const config::Config& config);
/// The first native listener of the worker.
[[nodiscard]] client::Endpoint native_endpoint(const config::Config& config);
/// Every configured client that has a token in the credentials file, in
/// configuration order, with its SLA class.
[[nodiscard]] std::vector<load::Identity> identities(const config::Config& config,
                                                     const config::Credentials& credentials);

}  // namespace aiops::cli
