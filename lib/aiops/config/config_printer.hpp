#pragma once
// The effective configuration — every setting with defaults filled in, as
// the worker will use it — as aiops.toml text and as JSON.
//
// Both show the keys of aiops.toml(5) and nothing else. Sizes and durations
// are their exact text ("64MiB", "1h30m"), paths are absolute, and for JSON
// arrays of tables are arrays of objects under the table's name ("volume",
// "listener", "client"). parse_config(to_toml(c), c.source_file) == c for
// every Config the loader produced.

#include <string>

#include <nlohmann/json.hpp>

#include "aiops/config/config.hpp"

namespace aiops::config {

/// A complete aiops.toml that configures exactly `config`.
[[nodiscard]] std::string to_toml(const Config& config);

/// The same settings as one JSON object: {"worker": {...}, "listener": [...], ...}.
[[nodiscard]] nlohmann::json to_json(const Config& config);

}  // namespace aiops::config
