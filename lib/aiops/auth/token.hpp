#pragma once
// Client tokens: the secret a client presents in its hello, and the SHA-256
// of it that aiops.toml keeps ([[client]] token_sha256).
//
// The worker never stores a clear token; it hashes what a client sends and
// compares the digest with the configured one. That comparison must not
// reveal, through its running time, how much of a guess was right, so
// token_matches always hashes, always compares all 64 hex digits with
// CRYPTO_memcmp and decides on the length only afterwards.
//
// A token from generate_token() is 32 bytes from OpenSSL's CSPRNG written
// as 64 lowercase hex digits, so it is plain ASCII that fits in a TOML
// string, a shell variable or a command line. Other tokens (any bytes) work
// too: only their SHA-256 matters.
//
// All functions keep no state and may be called from any thread.

#include <cstddef>
#include <string>
#include <string_view>

#include "aiops/core/error.hpp"

namespace aiops::auth {

/// Digits of a SHA-256 in hex: 32 bytes, two digits each.
inline constexpr std::size_t kSha256HexDigits = 64;

/// SHA-256 of `data` as 64 lowercase hex digits. libcrypto fails here only
/// when it cannot allocate memory; that throws std::bad_alloc.
[[nodiscard]] std::string sha256_hex(std::string_view data);

/// True when SHA-256(token) is `expected_sha256_hex` (64 lowercase hex
/// digits). The time taken does not depend on where the digests differ; an
/// expected hash that is not exactly 64 lowercase hex digits never matches
/// (nor does anything when libcrypto fails).
[[nodiscard]] bool token_matches(std::string_view token, std::string_view expected_sha256_hex) noexcept;

/// A fresh token: 32 random bytes (RAND_bytes) as 64 lowercase hex digits.
/// Errc::io_error when the random generator cannot be seeded or fails.
[[nodiscard]] Result<std::string> generate_token();

}  // namespace aiops::auth
