#include "aiops/config/peer_rule.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <optional>
#include <string>

namespace aiops::config {
namespace {

std::optional<PeerRule> parse_address(std::string_view text) {
  const std::string s(text);
  PeerRule r;
  if (::inet_pton(AF_INET, s.c_str(), r.bytes.data()) == 1) {
    r.bits = 32;
    return r;
  }
  if (::inet_pton(AF_INET6, s.c_str(), r.bytes.data()) == 1) {
    r.v6 = true;
    r.bits = 128;
    return r;
  }
  return std::nullopt;
}

// ::ffff:a.b.c.d is an IPv4 peer seen through an IPv6 socket.
PeerRule unmapped(PeerRule a) {
  static constexpr std::uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!a.v6 || std::memcmp(a.bytes.data(), prefix, sizeof prefix) != 0) return a;
  PeerRule v4;
  std::memcpy(v4.bytes.data(), a.bytes.data() + 12, 4);
  v4.bits = 32;
  return v4;
}

}  // namespace

Result<PeerRule> parse_peer_rule(std::string_view text) {
  const auto slash = text.find('/');
  auto bad = [&](const std::string& why) {
    return Error(Errc::invalid_input, "\"" + std::string(text) + "\": " + why +
                                          "; expected an IPv4 or IPv6 address, or a prefix such as \"10.0.0.0/8\"");
  };
  auto address = parse_address(text.substr(0, slash));
  if (!address) return bad("not an IP address");
  if (slash == std::string_view::npos) return *address;
  const std::string_view bits = text.substr(slash + 1);
  unsigned n = 0;
  auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), n);
  const unsigned most = address->v6 ? 128 : 32;
  if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size() || n > most)
    return bad("the prefix length must be 0 to " + std::to_string(most));
  address->bits = n;
  return *address;
}

bool peer_matches(const PeerRule& rule, std::string_view peer_address) {
  auto parsed = parse_address(peer_address);
  if (!parsed) return false;
  const PeerRule peer = unmapped(*parsed);
  const PeerRule r = unmapped(rule);
  if (peer.v6 != r.v6) return false;
  const unsigned whole = r.bits / 8, rest = r.bits % 8;
  if (std::memcmp(peer.bytes.data(), r.bytes.data(), whole) != 0) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (peer.bytes[whole] & mask) == (r.bytes[whole] & mask);
}

}  // namespace aiops::config
