#include "aiops/cli/instance.hpp"

#include "aiops/cli/command.hpp"
#include "aiops/cli/exit_code.hpp"
#include "aiops/config/config_loader.hpp"

namespace aiops::cli {

config::Config load_instance_config(const std::string& path) {
  try {
    return config::load_config(path);
  } catch (const config::ConfigError& e) {
    throw CommandFailed(Error(Errc::invalid_input, e.what()), exit_invalid_input);
  }
}

config::Credentials load_instance_credentials(const config::Config& config) {
  if (config.worker.credentials_file.empty())
    throw CommandFailed(Error(Errc::invalid_input, config.source_file.string() +
                                                       ": worker.credentials_file is not set; the tools need client "
                                                       "tokens to connect (see aiops config init)"),
                        exit_invalid_input);
  return need(config::load_credentials(config.worker.credentials_file, config));
}

client::Endpoint native_endpoint(const config::Config& config) {
  for (const auto& l : config.listeners)
    if (l.protocol == config::ListenerConfig::Protocol::native) {
      if (!l.is_unix && l.port == 0)
        throw CommandFailed(Error(Errc::invalid_input, config.source_file.string() + ": listener " + l.address +
                                                           " has port 0; the tools need the real port"),
                            exit_invalid_input);
      return client::Endpoint::of(l);
    }
  throw CommandFailed(Error(Errc::invalid_input, config.source_file.string() + ": no native [[listener]]"),
                      exit_invalid_input);
}

std::vector<load::Identity> identities(const config::Config& config, const config::Credentials& credentials) {
  std::vector<load::Identity> out;
  for (const auto& c : config.clients) {
    auto token = credentials.tokens.find(c.name);
    if (token != credentials.tokens.end()) out.push_back({c.name, token->second, c.sla});
  }
  if (out.empty())
    throw CommandFailed(Error(Errc::invalid_input, credentials.source_file.string() + ": no client tokens"),
                        exit_invalid_input);
  return out;
}

}  // namespace aiops::cli
