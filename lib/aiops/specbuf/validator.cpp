#include "aiops/specbuf/validator.hpp"

#include "aiops/core/checksum.hpp"

namespace aiops::specbuf {

Validator::Validator(const config::Config& config) : directory_(config) {
  for (const auto& c : directory_.clients()) by_id_[c.id] = &c;
}

Verdict Validator::check(const EntryRecord& e, const std::byte* payload) const {
  const std::string what = "entry " + std::to_string(e.seq) + " (client " + std::to_string(e.client) + ", volume " +
                           std::to_string(e.volume) + ", offset " + std::to_string(e.offset) + ", " +
                           std::to_string(e.length) + " bytes)";
  if (checksum64(payload, e.length) != e.checksum)
    return {net::Status::checksum_mismatch, what + ": payload does not match its checksum"};
  auto client = by_id_.find(e.client);
  if (client == by_id_.end()) return {net::Status::access_denied, what + ": no client with that id is configured"};
  switch (directory_.check(*client->second, e.volume, /*write=*/true)) {
    case worker::AccessOutcome::ok: break;
    case worker::AccessOutcome::unknown_volume:
      return {net::Status::unknown_volume, what + ": no volume with that id is configured"};
    case worker::AccessOutcome::not_granted:
      return {net::Status::access_denied, what + ": the volume is not granted to the client"};
    case worker::AccessOutcome::read_only:
      return {net::Status::access_denied, what + ": the volume is read-only for the client"};
  }
  if (!net::extent_fits(e.offset, e.length, directory_.volume(e.volume)->size_bytes))
    return {net::Status::out_of_range, what + ": extent is empty or ends beyond the volume"};
  return {};
}

}  // namespace aiops::specbuf
