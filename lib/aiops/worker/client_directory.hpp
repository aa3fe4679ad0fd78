#pragma once
// Who may connect, and what each client may do: built from the [[client]]
// and [[volume]] sections of the configuration.
//
// authenticate() compares the token's SHA-256 with the configured hash in
// constant time; access checks say precisely why a request is refused, so
// the worker can log the reason and answer with its own status code.
//
// Thread-safety: immutable after construction; any thread may use it.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "aiops/config/config.hpp"

namespace aiops::worker {

struct ClientInfo {
  uint32_t id = 0;
  std::string name;
  std::string sla;
  std::map<uint32_t, config::Access> access;  // by volume id
};

enum class AuthOutcome { ok, unknown_client, bad_token };
enum class AccessOutcome { ok, unknown_volume, not_granted, read_only };

class ClientDirectory {
 public:
  explicit ClientDirectory(const config::Config& config);

  /// The client, when `token` is its token.
  [[nodiscard]] AuthOutcome authenticate(std::string_view name, std::string_view token, const ClientInfo** out) const;
  /// The client called `name`, or nullptr (a connection handed over by the
  /// previous worker names its client; the configuration may have changed).
  [[nodiscard]] const ClientInfo* find(std::string_view name) const;
  [[nodiscard]] AccessOutcome check(const ClientInfo& client, uint32_t volume, bool write) const;

  [[nodiscard]] const std::vector<ClientInfo>& clients() const { return clients_; }
  [[nodiscard]] const config::VolumeConfig* volume(uint32_t id) const;

 private:
  std::vector<ClientInfo> clients_;
  std::map<std::string, std::string, std::less<>> token_hashes_;  // name -> sha256 hex
  std::vector<config::VolumeConfig> volumes_;
};

}  // namespace aiops::worker
