#pragma once
// The worker's configuration as the rest of aiops sees it: the contents of
// aiops.toml (man/aiops.toml.5) after parsing and validation.
//
// A Config that came out of load_config()/parse_config() (config_loader.hpp)
// keeps every rule of the man page, so users need not check again:
//   * every default is filled in, including the derived ones
//     (worker.control_socket, forecast.priority_file, the default listener,
//     the default SLA classes);
//   * every path is absolute and lexically normal;
//   * every range and cross-check holds (group_commit_bytes <= segment_size
//     <= checkpoint_bytes, interval <= horizon, seasons are multiples of
//     interval, ...);
//   * volume and client names and ids are unique, every client names a
//     defined SLA class and only defined volumes;
//   * listeners are parsed (host/port or Unix path) and distinct (port 0
//     aside).
// A default-constructed Config holds the defaults of the single tables
// (worker, log, buffer, forecast, scheduler) but no listener, volume, SLA class or
// client, so it is not valid; it exists for tests and for the loader.
//
// Sizes are bytes in std::uint64_t members named *_bytes; durations are
// std::chrono::nanoseconds. The structs are plain values: copyable,
// comparable, and not synchronised.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace aiops::config {

// The member initialisers below are the documented defaults; the loader
// takes its defaults from a default-constructed struct.
inline constexpr std::uint64_t kMiB = 1024 * 1024;

struct WorkerConfig {
  // Names the instance; the shared-memory segment is "aiops-<name>-<hash of data_dir>".
  std::string name = "default";
  std::filesystem::path data_dir = "/var/lib/aiops";
  // Loader default: /run/aiops/<name>.sock.
  std::filesystem::path control_socket = "/run/aiops/default.sock";
  // Empty = no credentials file.
  std::filesystem::path credentials_file;
  std::chrono::nanoseconds shutdown_timeout = std::chrono::seconds{30};
  std::chrono::nanoseconds trace_interval = std::chrono::minutes{1};
  std::uint32_t max_connections = 1024;
  std::uint64_t max_request_size_bytes = 8 * kMiB;
  // Outstanding requests per connection.
  std::uint32_t max_outstanding = 128;
  std::chrono::nanoseconds idle_timeout = std::chrono::minutes{10};
  // Threads that serve the connections; 0 = half the CPUs, 1 to 4.
  std::uint32_t io_threads = 0;

  bool operator==(const WorkerConfig&) const = default;
};

struct ListenerConfig {
  enum class Protocol { native, nbd };
  Protocol protocol = Protocol::native;
  // As it is written in the file, except that a Unix path is made absolute:
  // "127.0.0.1:7070", "[::1]:7070", "localhost:0", "unix:/run/aiops/data.sock".
  std::string address;
  // Parsed from `address`: either is_unix and unix_path, or host and port.
  bool is_unix = false;
  std::string host;  // "127.0.0.1", "::1" (no brackets), "localhost"
  std::uint16_t port = 0;  // 0 = the system picks a free port
  std::filesystem::path unix_path;

  bool operator==(const ListenerConfig&) const = default;
};

struct LogConfig {
  // When a write without FUA is acknowledged: once in the log file (page
  // cache), or once fdatasync'ed.
  enum class Ack { written, durable };

  std::uint64_t segment_size_bytes = 64 * kMiB;
  std::uint64_t group_commit_bytes = 1 * kMiB;
  std::chrono::nanoseconds group_commit_delay{0};
  Ack ack = Ack::written;
  std::chrono::nanoseconds checkpoint_interval = std::chrono::seconds{5};
  // Unapplied log bytes that trigger a checkpoint before the interval ends.
  std::uint64_t checkpoint_bytes = 256 * kMiB;

  bool operator==(const LogConfig&) const = default;
};

// The speculative write buffer in POSIX shared memory.
struct BufferConfig {
  std::uint64_t size_bytes = 256 * kMiB;  // data arena
  std::uint32_t max_entries = 65536;

  bool operator==(const BufferConfig&) const = default;
};

struct VolumeConfig {
  std::string name;
  std::uint32_t id = 0;  // written into log records; never 0 once loaded
  std::uint64_t size_bytes = 0;  // a multiple of 4KiB

  bool operator==(const VolumeConfig&) const = default;
};

// What a class of clients is promised: its weight in the priority list and
// the scheduler's tags (sched/tag_queue.hpp), and how its refused requests
// are told to retry (sched/retry_policy.hpp, sched/retry_budget.hpp).
struct SlaClass {
  double weight = 1.0;       // > 0; multiplies a client's forecast load and its scheduler weight
  double reservation = 0.0;  // requests/s each client of the class is served first; 0 = none
  double limit = 0.0;        // most requests/s per client; 0 = none; else >= reservation
  std::chrono::nanoseconds retry_delay = std::chrono::milliseconds{10};  // base delay of a refusal
  double retry_budget = 0.1;  // retries allowed per first attempt, in (0, 1]
  double retry_burst = 10.0;  // retries allowed at once (the bucket's size), >= 1

  bool operator==(const SlaClass&) const = default;
};

// The I/O scheduler in front of the log and the admission control in front
// of the log queue and the speculative buffer (sched/).
struct SchedulerConfig {
  enum class Policy { mclock, fifo };

  Policy policy = Policy::mclock;
  // Writes handed to the log at once; the rest wait in the scheduler's queue.
  std::uint32_t queue_depth = 32;
  // Most writes waiting in the queue; a full queue refuses every client.
  std::uint32_t queue_limit = 4096;
  // Fill of the queue (of queue_limit) above which the lowest-priority
  // clients are refused; the highest only when it is full.
  double queue_watermark = 0.5;
  // The same for the speculative buffer's capacity.
  double buffer_watermark = 0.8;
  // A retry delay is stretched by up to this fraction at random.
  double retry_jitter = 0.25;

  bool operator==(const SchedulerConfig&) const = default;
};

enum class Access { read_only, read_write };

struct ClientConfig {
  std::string name;
  std::uint32_t id = 0;
  std::string sla;           // a key of Config::sla
  std::string token_sha256;  // 64 lowercase hex digits
  std::map<std::string, Access> access;  // volume name -> rights; absent = none
  // "database", "analytics", "backup", "streaming", "vdi", "general", or
  // empty: infer the application type from the client's I/O.
  std::string app_type;

  bool operator==(const ClientConfig&) const = default;
};

// A volume served over NBD ([[export]]). NBD has no login: a connection
// acts as `client` (its SLA class, priority, counters, budget and rights),
// and only peers that `allow` names may connect over TCP. Peers on a Unix
// socket listener are let in by the socket file's permissions.
struct ExportConfig {
  std::string name;    // the NBD export name; the volume's name by default
  std::string volume;  // a Config::volumes name
  std::string client;  // a Config::clients name with access to `volume`
  std::vector<std::string> allow = {"127.0.0.1", "::1"};  // addresses or prefixes ("10.0.0.0/8"); peer_rule.hpp
  bool read_only = false;  // also read-only when `client` has "ro" on the volume

  bool operator==(const ExportConfig&) const = default;
};

struct ForecastConfig {
  // Which value of the forecast distribution the priority score uses.
  enum class Statistic { mean, upper80, upper95 };

  std::chrono::nanoseconds interval = std::chrono::minutes{1};
  std::chrono::nanoseconds horizon = std::chrono::minutes{15};
  Statistic statistic = Statistic::mean;
  std::vector<std::chrono::nanoseconds> seasons = {std::chrono::hours{24}, std::chrono::hours{24 * 7}};
  // Loader default: <data_dir>/state/priorities.toml.
  std::filesystem::path priority_file = "/var/lib/aiops/state/priorities.toml";
  std::chrono::nanoseconds reload_interval = std::chrono::minutes{1};

  bool operator==(const ForecastConfig&) const = default;
};

struct Config {
  std::filesystem::path source_file;  // absolute
  WorkerConfig worker;
  std::vector<ListenerConfig> listeners;
  LogConfig log;
  BufferConfig buffer;
  std::vector<VolumeConfig> volumes;
  std::map<std::string, SlaClass> sla;
  std::vector<ClientConfig> clients;
  std::vector<ExportConfig> exports;
  ForecastConfig forecast;
  SchedulerConfig scheduler;

  bool operator==(const Config&) const = default;

  /// The volume or client with that name or id, or nullptr. The pointer
  /// lives as long as this Config is not modified.
  [[nodiscard]] const VolumeConfig* find_volume(std::string_view name) const;
  [[nodiscard]] const VolumeConfig* find_volume(std::uint32_t id) const;
  [[nodiscard]] const ClientConfig* find_client(std::string_view name) const;
  [[nodiscard]] const ClientConfig* find_client(std::uint32_t id) const;
  [[nodiscard]] const ExportConfig* find_export(std::string_view name) const;
};

/// The names used in the file: "native", "durable", "upper80", "rw", ...
[[nodiscard]] std::string_view to_string(ListenerConfig::Protocol protocol) noexcept;
[[nodiscard]] std::string_view to_string(LogConfig::Ack ack) noexcept;
[[nodiscard]] std::string_view to_string(ForecastConfig::Statistic statistic) noexcept;
[[nodiscard]] std::string_view to_string(Access access) noexcept;
[[nodiscard]] std::string_view to_string(SchedulerConfig::Policy policy) noexcept;

}  // namespace aiops::config
