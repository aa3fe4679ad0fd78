#pragma once
// Reading aiops.toml: TOML syntax (toml++), then the schema and every rule of
// man/aiops.toml.5, into a Config (config.hpp).
//
// Configuration is read at the edge of the program, so failures are
// exceptions: the first problem found stops loading and is thrown as a
// ConfigError that says where it is (file, line, column), which setting it
// is (a dotted key path such as "volume[1].name") and what is wrong. Nothing
// is partially applied; a caller either gets a whole valid Config or an
// error. Both functions keep no state, so any number of threads may call
// them at once.
//
// Relative paths in the file resolve against the directory of the file (for
// parse_config, the directory of `source`), not against the current
// directory, so a configuration means the same wherever a tool is started.
// Only a relative file name itself is taken relative to the current
// directory.

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "aiops/config/config.hpp"

namespace aiops::config {

/// One invalid setting. what() is "FILE:LINE:COLUMN: KEY: PROBLEM", e.g.
///   aiops.toml:7:16: log.segment_size: 512KiB is below the minimum of 1MiB
/// `key` is "(syntax)" for malformed TOML and "(file)" when the file cannot
/// be read; then line and column are 0. For a missing key the position is
/// that of the table that should hold it.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file_name, std::uint32_t line_number, std::uint32_t column_number, std::string key_path,
              std::string problem_text);

  std::string file;  // as the caller named it
  std::uint32_t line;
  std::uint32_t column;
  std::string key;
  std::string problem;
};

/// Reads and validates the file at `file`. Throws ConfigError.
[[nodiscard]] Config load_config(const std::filesystem::path& file);

/// Validates `text` as if it were the contents of the file `source`, which
/// need not exist: `source` names the file in errors and its directory is
/// where relative paths resolve. Throws ConfigError.
[[nodiscard]] Config parse_config(std::string_view text, const std::filesystem::path& source);

/// Every key the loader accepts, as a dotted path: "worker.name",
/// "listener[].address", "sla.<class>.weight", ... Tests use it to check that
/// the man page, the default file and the printer cover each one.
[[nodiscard]] std::vector<std::string> config_keys();

}  // namespace aiops::config
