#pragma once
// The schema of aiops.toml, section by section: the keys each table may hold
// and one function per section that reads and checks it. Internal to
// aiops/config; config_loader.cpp calls them in order.
//
// To add a setting: add its key to the list below, read it in the section
// function, print it in config_printer.cpp, and document it in
// man/aiops.toml.5 and share/aiops/aiops.toml. The unit tests compare these
// lists with the printer, the man page and the default file.

#include <array>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "aiops/config/config.hpp"
#include "aiops/config/config_reader.hpp"

namespace aiops::config::detail {

using namespace std::string_view_literals;

inline constexpr std::array kRootKeys{"worker"sv, "listener"sv, "log"sv,      "buffer"sv,    "volume"sv,
                                      "sla"sv,    "client"sv,   "export"sv,   "forecast"sv,  "scheduler"sv};
inline constexpr std::array kWorkerKeys{"name"sv,           "data_dir"sv,        "control_socket"sv,
                                        "credentials_file"sv, "shutdown_timeout"sv, "trace_interval"sv,
                                        "max_connections"sv, "max_request_size"sv, "max_outstanding"sv,
                                        "idle_timeout"sv,    "io_threads"sv};
inline constexpr std::array kListenerKeys{"protocol"sv, "address"sv};
inline constexpr std::array kLogKeys{"segment_size"sv, "group_commit_bytes"sv,  "group_commit_delay"sv,
                                     "ack"sv,          "checkpoint_interval"sv, "checkpoint_bytes"sv};
inline constexpr std::array kBufferKeys{"size"sv, "max_entries"sv};
inline constexpr std::array kVolumeKeys{"name"sv, "id"sv, "size"sv};
inline constexpr std::array kSlaClassKeys{"weight"sv,      "reservation"sv,  "limit"sv,
                                          "retry_delay"sv, "retry_budget"sv, "retry_burst"sv};
inline constexpr std::array kClientKeys{"name"sv, "id"sv, "sla"sv, "token_sha256"sv, "access"sv, "app_type"sv};
inline constexpr std::array kExportKeys{"name"sv, "volume"sv, "client"sv, "allow"sv, "read_only"sv};
inline constexpr std::array kForecastKeys{"interval"sv, "horizon"sv,       "statistic"sv,
                                          "seasons"sv,  "priority_file"sv, "reload_interval"sv};
inline constexpr std::array kSchedulerKeys{"policy"sv,          "queue_depth"sv,      "queue_limit"sv,
                                           "queue_watermark"sv, "buffer_watermark"sv, "retry_jitter"sv};
inline constexpr std::array kAppTypes{"database"sv, "analytics"sv, "backup"sv, "streaming"sv, "vdi"sv, "general"sv};

// config_sections.cpp: the tables that configure the worker itself.
[[nodiscard]] WorkerConfig read_worker(const Section& worker);
[[nodiscard]] LogConfig read_log(const Section& log);
[[nodiscard]] BufferConfig read_buffer(const Section& buffer);
[[nodiscard]] ForecastConfig read_forecast(const Section& forecast, const std::filesystem::path& data_dir);
[[nodiscard]] SchedulerConfig read_scheduler(const Section& scheduler);

// config_inventory.cpp: the lists of named things and their references.
[[nodiscard]] std::vector<ListenerConfig> read_listeners(const Section& root);
[[nodiscard]] std::vector<VolumeConfig> read_volumes(const Section& root);
[[nodiscard]] std::map<std::string, SlaClass> read_sla(const Section& root);
[[nodiscard]] std::vector<ClientConfig> read_clients(const Section& root, const Config& config);
[[nodiscard]] std::vector<ExportConfig> read_exports(const Section& root, const Config& config);

}  // namespace aiops::config::detail
