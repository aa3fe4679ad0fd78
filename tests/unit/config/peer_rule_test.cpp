#include <doctest/doctest.h>

#include "aiops/config/peer_rule.hpp"

using aiops::config::parse_peer_rule;
using aiops::config::peer_matches;

namespace {

bool allows(const char* rule, const char* peer) {
  auto parsed = parse_peer_rule(rule);
  REQUIRE(parsed.ok());
  return peer_matches(*parsed, peer);
}

}  // namespace

TEST_CASE("peer rules: an address matches itself only") {
  CHECK(allows("127.0.0.1", "127.0.0.1"));
  CHECK_FALSE(allows("127.0.0.1", "127.0.0.2"));
  CHECK(allows("::1", "::1"));
  CHECK_FALSE(allows("::1", "127.0.0.1"));
}

TEST_CASE("peer rules: a prefix matches its first bits, also inside a byte") {
  CHECK(allows("10.0.0.0/8", "10.255.3.4"));
  CHECK_FALSE(allows("10.0.0.0/8", "11.0.0.1"));
  CHECK(allows("192.168.4.0/22", "192.168.7.255"));
  CHECK_FALSE(allows("192.168.4.0/22", "192.168.8.0"));
  CHECK(allows("fd00::/8", "fd12:3456::1"));
  CHECK_FALSE(allows("fd00::/8", "fe80::1"));
  CHECK(allows("0.0.0.0/0", "203.0.113.9"));
  CHECK_FALSE(allows("0.0.0.0/0", "2001:db8::1"));
}

TEST_CASE("peer rules: an IPv4 peer seen through an IPv6 listener matches IPv4 rules") {
  CHECK(allows("127.0.0.1", "::ffff:127.0.0.1"));
  CHECK(allows("10.0.0.0/8", "::ffff:10.1.2.3"));
  CHECK_FALSE(allows("::1", "::ffff:127.0.0.1"));
}

TEST_CASE("peer rules: bad rules say why; unparsable peers match nothing") {
  for (const char* bad : {"", "localhost", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/8x", "1.2.3.4.5"}) {
    CAPTURE(bad);
    auto parsed = parse_peer_rule(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().message().find("expected an IPv4 or IPv6 address") != std::string::npos);
  }
  CHECK_FALSE(allows("0.0.0.0/0", "unix:/run/x.sock"));
  CHECK_FALSE(allows("0.0.0.0/0", ""));
}
