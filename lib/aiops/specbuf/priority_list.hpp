#pragma once
// The priority list: how important each client is during a live update.
// The speculative buffer applies its entries in this order (reorder.hpp)
// and, when it is full, refuses the least important clients first. The
// forecaster writes it (forecast/priority.hpp); the worker puts it in force
// whenever it changes (worker/priority_reloader.hpp) and `aiops phase
// prepare` reads it again; without a file, SLA weights alone decide
// (priorities_from_sla).
//
// File format — TOML, at forecast.priority_file of aiops.toml (default
// <data_dir>/state/priorities.toml; see aiops.toml(5)):
//
//   # written by aiops forecast
//   generated = 2026-11-25T10:00:00Z   # optional
//   source = "forecast"                 # optional
//
//   [[client]]
//   name = "db1"
//   score = 12.5
//   rank = 1
//   predicted_ops = 5000.0              # optional, and the keys below
//   predicted_bytes = 40960000.0
//   interval = "1m"
//   window = "15m"
//   model = "ARIMA(1,0,1)(0,1,1)[24]"
//   app_type = "database"
//
//   generated   optional offset date-time (a local date-time is refused,
//               since it names no instant): when the list was computed.
//   source      optional string: who made the list ("forecast", "sla",
//               ...); "file" when absent.
//   [[client]]  any number, at most one per client:
//     name      required string: the name of a [[client]] of aiops.toml.
//     score     required number, finite and >= 0; higher is more important.
//     rank      required integer; 1 is the most important. The N tables of
//               the file carry the ranks 1..N, each once, and a higher
//               score never has a worse (larger) rank; equal scores may be
//               ranked either way.
//     predicted_ops    optional number, finite and >= 0: the load the
//                      forecast predicts for the client over the update
//                      window, in operations (the statistic the score used:
//                      mean or an upper quantile).
//     predicted_bytes  optional number, finite and >= 0: the same in bytes.
//     interval  optional duration string ("1m", "30s"; core/units.hpp), more
//               than 0: the length of one step of the series the forecast
//               was fitted on.
//     window    optional duration string, more than 0: the length of the
//               update window the prediction covers.
//     model     optional string, not empty: the model that made the
//               forecast, e.g. "ARIMA(1,0,1)(0,1,1)[24]".
//     app_type  optional string, one of "database", "analytics", "backup",
//               "streaming", "vdi", "general": the client's application
//               type (forecast/app_type.hpp).
//   The optional keys inform people and tools; the buffer orders clients by
//   rank alone. Files written before they existed load unchanged.
// Any other key or table is refused, so a typo cannot silently drop a
// setting.
//
// A loaded list covers every configured client exactly once: the clients
// the file does not name follow the named ones with score 0, ordered as
// priorities_from_sla would order them (SLA weight descending, then id),
// their ranks continuing from N+1. So a list always ranks every client,
// and the ranks of a PriorityList are always 1..size() in order.
//
// Errors: a missing file is Errc::not_found naming the path; anything wrong
// in the contents is Errc::invalid_input with a message in the form of
// aiops.toml errors (config_loader.hpp), "FILE:LINE:COLUMN: KEY: PROBLEM",
// e.g. "priorities.toml:9:9: client[1].score: -1.0 is below the minimum
// of 0.0". The first problem stops parsing; nothing is partially returned.
//
// The functions keep no state; any thread may call them.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aiops/config/config.hpp"
#include "aiops/core/error.hpp"

namespace aiops::specbuf {

struct ClientPriority {
  ClientPriority() = default;
  // The required part; the optional keys stay absent. A constructor rather
  // than aggregate initialisation, so that adding optional members does not
  // change the code that builds entries.
  ClientPriority(std::string client_name, uint32_t client_id, double client_score, uint32_t client_rank)
      : name(std::move(client_name)), id(client_id), score(client_score), rank(client_rank) {}

  std::string name;
  uint32_t id = 0;  // from the configuration, not from the file
  double score = 0;
  uint32_t rank = 0;
  // The optional keys of the file; absent (nullopt, empty) when not given.
  std::optional<double> predicted_ops;
  std::optional<double> predicted_bytes;
  std::optional<std::chrono::nanoseconds> interval;
  std::optional<std::chrono::nanoseconds> window;
  std::string model;
  std::string app_type;

  bool operator==(const ClientPriority&) const = default;
};

struct PriorityList {
  std::string source;                   // "forecast", "sla", or what the file says ("file" if absent)
  std::vector<ClientPriority> clients;  // by rank, 1..N; each configured client exactly once
  std::optional<std::chrono::system_clock::time_point> generated;  // the file's `generated`

  bool operator==(const PriorityList&) const = default;

  /// The entry for client `id`, or nullptr. A linear scan: callers on a hot
  /// path keep their own index.
  [[nodiscard]] const ClientPriority* find(uint32_t id) const;
};

/// Reads and checks `file` against the clients of `config` (see above).
[[nodiscard]] Result<PriorityList> load_priority_list(const std::filesystem::path& file,
                                                      const config::Config& config);

/// As load_priority_list, for `text` as if it were the contents of the file
/// `name_for_messages`, which need not exist.
[[nodiscard]] Result<PriorityList> parse_priority_list(std::string_view text,
                                                       const std::filesystem::path& name_for_messages,
                                                       const config::Config& config);

/// The list in force when no file is: each client's score is the weight of
/// its SLA class; ranks by descending score, ties to the lower client id.
/// source = "sla".
[[nodiscard]] PriorityList priorities_from_sla(const config::Config& config);

/// Writes `list` to `file` in the format above, replacing it atomically and
/// durably (io/replace_file.hpp); the directory must exist. What it writes
/// parses back to an equal list under the same configuration. A list that
/// breaks the rules of the format (ranks not 1..N in order, a score that is
/// negative, not finite, or above a better-ranked one, an optional value the
/// loader would refuse) is refused with Errc::invalid_argument and nothing
/// is written.
[[nodiscard]] Status save_priority_list(const std::filesystem::path& file, const PriorityList& list);

}  // namespace aiops::specbuf
