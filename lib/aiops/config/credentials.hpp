#pragma once
// The credentials file: the clear tokens of configured clients, for the
// tools that connect to a worker as one of them (aiops load, aiops verify,
// the tests). The worker never reads it: it has only the SHA-256 of each
// token ([[client]] token_sha256 in aiops.toml). aiops.toml names the file
// in worker.credentials_file; man/aiops.toml.5 documents it for users.
//
// Format — TOML, any number of [[client]] tables, each with two strings:
//
//   # aiops client credentials — clear tokens; keep this file private (mode 0600).
//   [[client]]
//   name = "gold-1"   # the name of a [[client]] of aiops.toml
//   token = "…"       # the token it presents; not empty
//
// Validity rules. load_credentials refuses, each with its own message:
//   * a file that is missing or not a regular file (symbolic links are
//     followed; the checks apply to the file itself);
//   * a file with any permission bit for group or others, or not owned by
//     the effective user: a token others could read is no longer a secret,
//     so the file is refused until it is private again (chmod 600), not
//     used with a warning;
//   * a file larger than kMaxCredentialsBytes;
//   * malformed TOML, a key or table other than the above, a missing or
//     empty name or token, a value that is not a string;
//   * a name that is not a client of the configuration, or that appears
//     twice;
//   * a token whose SHA-256 is not that client's token_sha256, which means
//     the file and aiops.toml belong to different generations.
// The file may hold the tokens of any subset of the clients, or of none.
// Messages start with the file name as given; content errors are
// "FILE:LINE:COLUMN: KEY: PROBLEM" with KEY such as "client[1].token", the
// form aiops.toml errors take (config_loader.hpp).
//
// The functions keep no state; any thread may call them.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "aiops/config/config.hpp"
#include "aiops/core/error.hpp"

namespace aiops::config {

/// The largest credentials file load_credentials reads (about 100 000 clients).
inline constexpr std::uint64_t kMaxCredentialsBytes = 16 * kMiB;

struct Credentials {
  std::map<std::string, std::string> tokens;  // client name -> clear token
  // The file they were loaded from, for messages; empty when built in memory.
  std::filesystem::path source_file;

  bool operator==(const Credentials&) const = default;
};

/// Reads `file` and checks it against the rules above and the clients of
/// `config`. Errc::not_found for a missing file, permission_denied for a
/// file that is not private or not ours, invalid_input for the rest.
[[nodiscard]] Result<Credentials> load_credentials(const std::filesystem::path& file, const Config& config);

/// Writes `credentials` to `file` (replacing it whole) with mode 0600; the
/// contents are never readable by anyone else, not even briefly (see
/// io/replace_file.hpp). The directory of `file` must exist.
[[nodiscard]] Status save_credentials(const std::filesystem::path& file, const Credentials& credentials);

/// The token of `client`, or Errc::not_found naming the client and the file.
[[nodiscard]] Result<std::string> token_for(const Credentials& credentials, std::string_view client);

}  // namespace aiops::config
