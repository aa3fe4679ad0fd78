#pragma once
// Spelling strings and keys the way TOML writes them, for the printer and for
// the key paths in error messages.

#include <string>
#include <string_view>

namespace aiops::config {

/// `text` as a TOML basic string, with its quotes: "a\"b" for a"b. Control
/// characters become \uXXXX, so the result is always one line.
[[nodiscard]] std::string toml_string(std::string_view text);

/// `key` bare when TOML allows it (A-Z a-z 0-9 _ -, not empty), quoted
/// otherwise: vol1 stays vol1, "db.main" gets quotes.
[[nodiscard]] std::string toml_key(std::string_view key);

/// `value` as a TOML float in its shortest exact form: 8.0, 0.1, 1e+06.
/// Precondition: finite.
[[nodiscard]] std::string toml_float(double value);

}  // namespace aiops::config
