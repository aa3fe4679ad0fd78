#include <doctest/doctest.h>

#include <string>

#include "aiops/auth/token.hpp"

using namespace aiops::auth;

namespace {

// FIPS 180-4 example vectors (NIST CSRC "SHA256.pdf").
const std::string kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string kAbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const std::string k448Bits = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const std::string k448BitsSha256 = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";

bool is_lower_hex(const std::string& text) {
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string upper(std::string text) {
  for (char& c : text)
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  return text;
}

}  // namespace

TEST_CASE("sha256_hex gives the NIST example digests") {
  CHECK(sha256_hex("") == kEmptySha256);
  CHECK(sha256_hex("abc") == kAbcSha256);
  CHECK(sha256_hex(k448Bits) == k448BitsSha256);
}

TEST_CASE("sha256_hex hashes every byte, NULs included") {
  std::string with_nul("a\0b", 3);
  CHECK(sha256_hex(with_nul) != sha256_hex("ab"));
  CHECK(sha256_hex(with_nul).size() == kSha256HexDigits);
}

TEST_CASE("token_matches accepts the token whose SHA-256 is expected") {
  CHECK(token_matches("abc", kAbcSha256));
  CHECK(token_matches("", kEmptySha256));
}

TEST_CASE("token_matches refuses another token") {
  CHECK_FALSE(token_matches("abd", kAbcSha256));
  CHECK_FALSE(token_matches("abc ", kAbcSha256));
  CHECK_FALSE(token_matches("", kAbcSha256));
}

TEST_CASE("token_matches refuses an uppercase expected hash") {
  CHECK_FALSE(token_matches("abc", upper(kAbcSha256)));
}

TEST_CASE("token_matches refuses an expected hash that is not 64 digits") {
  CHECK_FALSE(token_matches("abc", kAbcSha256.substr(0, 63)));
  CHECK_FALSE(token_matches("abc", kAbcSha256 + "0"));
  CHECK_FALSE(token_matches("abc", kAbcSha256 + kAbcSha256));
  CHECK_FALSE(token_matches("abc", ""));
  CHECK_FALSE(token_matches("", ""));
}

TEST_CASE("generated tokens are 64 lowercase hex digits and differ") {
  auto first = generate_token();
  auto second = generate_token();
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first.value().size() == 64);
  CHECK(is_lower_hex(first.value()));
  CHECK(is_lower_hex(second.value()));
  CHECK(first.value() != second.value());
  CHECK(token_matches(first.value(), sha256_hex(first.value())));
}
