#include "aiops/auth/token.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <new>

namespace aiops::auth {
namespace {

constexpr std::size_t kSha256Bytes = kSha256HexDigits / 2;
constexpr std::size_t kTokenBytes = 32;
constexpr char kHexDigits[] = "0123456789abcdef";

using Digest = std::array<unsigned char, kSha256Bytes>;

// SHA-256 of `data` into `out`; false only when libcrypto fails (memory).
bool sha256(std::string_view data, Digest& out) noexcept {
  unsigned int length = 0;
  int done = EVP_Digest(data.data(), data.size(), out.data(), &length, EVP_sha256(), nullptr);
  return done == 1 && length == out.size();
}

// Writes the 2 * count lowercase hex digits of `bytes` to `out`.
void to_hex(const unsigned char* bytes, std::size_t count, char* out) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 0x0f];
  }
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  Digest digest{};
  if (!sha256(data, digest)) throw std::bad_alloc();
  std::string hex(kSha256HexDigits, '\0');
  to_hex(digest.data(), digest.size(), hex.data());
  return hex;
}

bool token_matches(std::string_view token, std::string_view expected_sha256_hex) noexcept {
  Digest digest{};
  bool hashed = sha256(token, digest);
  std::array<char, kSha256HexDigits> actual{};
  to_hex(digest.data(), digest.size(), actual.data());
  // Always compare the full 64 digits: a short or long expected hash is
  // padded or cut to 64 and only rejected after the comparison.
  std::array<char, kSha256HexDigits> expected{};
  std::copy_n(expected_sha256_hex.data(), std::min(expected_sha256_hex.size(), expected.size()), expected.data());
  int differ = CRYPTO_memcmp(actual.data(), expected.data(), actual.size());
  OPENSSL_cleanse(digest.data(), digest.size());
  OPENSSL_cleanse(actual.data(), actual.size());
  return hashed && differ == 0 && expected_sha256_hex.size() == kSha256HexDigits;
}

Result<std::string> generate_token() {
  std::array<unsigned char, kTokenBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    std::array<char, 256> reason{};
    ERR_error_string_n(ERR_get_error(), reason.data(), reason.size());
    return Error(Errc::io_error, std::string("cannot generate a token: the random generator failed: ") + reason.data());
  }
  std::string token(2 * bytes.size(), '\0');
  to_hex(bytes.data(), bytes.size(), token.data());
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return token;
}

}  // namespace aiops::auth
