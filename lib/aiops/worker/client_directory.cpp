#include "aiops/worker/client_directory.hpp"

#include <algorithm>

#include "aiops/auth/token.hpp"

namespace aiops::worker {

ClientDirectory::ClientDirectory(const config::Config& config) : volumes_(config.volumes) {
  for (const auto& c : config.clients) {
    ClientInfo info{c.id, c.name, c.sla, {}};
    for (const auto& [volume_name, access] : c.access)
      if (const auto* v = config.find_volume(volume_name)) info.access[v->id] = access;
    clients_.push_back(std::move(info));
    token_hashes_[c.name] = c.token_sha256;
  }
}

AuthOutcome ClientDirectory::authenticate(std::string_view name, std::string_view token,
                                          const ClientInfo** out) const {
  auto hash = token_hashes_.find(name);
  if (hash == token_hashes_.end()) return AuthOutcome::unknown_client;
  if (!auth::token_matches(token, hash->second)) return AuthOutcome::bad_token;
  *out = find(name);
  return AuthOutcome::ok;
}

const ClientInfo* ClientDirectory::find(std::string_view name) const {
  auto it = std::find_if(clients_.begin(), clients_.end(), [&](const ClientInfo& c) { return c.name == name; });
  return it == clients_.end() ? nullptr : &*it;
}

AccessOutcome ClientDirectory::check(const ClientInfo& client, uint32_t volume, bool write) const {
  if (this->volume(volume) == nullptr) return AccessOutcome::unknown_volume;
  auto it = client.access.find(volume);
  if (it == client.access.end()) return AccessOutcome::not_granted;
  if (write && it->second == config::Access::read_only) return AccessOutcome::read_only;
  return AccessOutcome::ok;
}

const config::VolumeConfig* ClientDirectory::volume(uint32_t id) const {
  auto it = std::find_if(volumes_.begin(), volumes_.end(), [&](const config::VolumeConfig& v) { return v.id == id; });
  return it == volumes_.end() ? nullptr : &*it;
}

}  // namespace aiops::worker
