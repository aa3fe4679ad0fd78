#pragma once
// Which network peers an [[export]] lets in (its `allow` list): each rule is
// an IPv4 or IPv6 address ("192.0.2.7", "::1"), which matches that address
// alone, or a prefix ("10.0.0.0/8", "fd00::/8"), which matches every address
// whose first `bits` bits are the rule's. "0.0.0.0/0" and "::/0" match
// every peer of their family. An IPv4 peer that reaches an IPv6 listener
// arrives as ::ffff:a.b.c.d; it is matched as the IPv4 address it is, so
// one rule serves both kinds of listener.

#include <array>
#include <cstdint>
#include <string_view>

#include "aiops/core/error.hpp"

namespace aiops::config {

struct PeerRule {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4
  unsigned bits = 0;                     // prefix length: up to 32 (IPv4) or 128 (IPv6)
};

/// Errc::invalid_input naming the text and the accepted forms.
[[nodiscard]] Result<PeerRule> parse_peer_rule(std::string_view text);

/// Whether `peer_address` (an address without port, as inet_ntop prints it)
/// matches `rule`. An address that does not parse matches nothing.
[[nodiscard]] bool peer_matches(const PeerRule& rule, std::string_view peer_address);

}  // namespace aiops::config
