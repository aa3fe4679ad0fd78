// [worker], [log], [buffer], [forecast] and [scheduler]: single tables whose keys all have
// defaults. The bounds here are the ones man/aiops.toml.5 documents.
#include <chrono>
#include <cstdint>

#include "aiops/config/config_sections.hpp"
#include "aiops/config/listen_address.hpp"
#include "aiops/core/units.hpp"

namespace aiops::config::detail {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t MiB = 1024 * KiB;
constexpr std::uint64_t GiB = 1024 * MiB;
constexpr nanoseconds kDay = 24h;
constexpr nanoseconds kWeek = 7 * kDay;
constexpr nanoseconds kLongest = nanoseconds::max();

constexpr NameRule kWorkerName{"worker name", 32, false};

enum class Order { at_most, at_least };

// Checks `dependent` <= or >= `other` within one section. The error points
// at `dependent` when the file sets it; otherwise the file set `other` to a
// value that clashes with the default of `dependent`, so it points there.
template <class T>
void check_order(const Section& section, std::string_view dependent, T dependent_value, Order order,
                 std::string_view other, T other_value, std::string (*format)(T)) {
  bool holds = order == Order::at_most ? dependent_value <= other_value : dependent_value >= other_value;
  if (holds) return;
  std::string_view relation = order == Order::at_most ? " is above " : " is below ";
  std::string_view reverse = order == Order::at_most ? " is below " : " is above ";
  if (auto setting = section.find(dependent))
    setting->fail(format(dependent_value) + std::string(relation) + section.key_path(other) + " (" +
                  format(other_value) + ")");
  section.require(other).fail(format(other_value) + std::string(reverse) + section.key_path(dependent) + " (" +
                              format(dependent_value) + ", its default); set " + std::string(dependent) +
                              " as well");
}

// A path setting that must not be empty and, for sockets, must fit sun_path.
std::filesystem::path required_path(const Section& section, std::string_view key, std::filesystem::path fallback,
                                    bool is_socket) {
  auto setting = section.find(key);
  if (!setting) return fallback;
  std::filesystem::path path = setting->path();
  if (path.empty()) setting->fail("must not be empty");
  if (is_socket)
    if (Status fits = check_unix_socket_path(path); !fits.ok()) setting->fail(fits.error().message());
  return path;
}

std::vector<nanoseconds> read_seasons(const Section& forecast, std::vector<nanoseconds> fallback) {
  auto setting = forecast.find("seasons");
  if (!setting) return fallback;
  const toml::array& array = setting->array("an array of durations, e.g. [\"1d\", \"7d\"]");
  std::vector<nanoseconds> seasons;
  for (std::size_t i = 0; i < array.size(); ++i) {
    Setting element(forecast.file(), *array.get(i), setting->key() + "[" + std::to_string(i) + "]");
    seasons.push_back(element.duration({1ns, kLongest}));
  }
  return seasons;
}

// Each season must be a whole number of forecast intervals.
void check_seasons(const Section& forecast, const ForecastConfig& config) {
  for (std::size_t i = 0; i < config.seasons.size(); ++i) {
    if (config.seasons[i] % config.interval == nanoseconds::zero()) continue;
    std::string interval = format_duration(config.interval);
    if (auto setting = forecast.find("seasons")) {
      Setting element(forecast.file(), *setting->array("").get(i), setting->key() + "[" + std::to_string(i) + "]");
      element.fail(format_duration(config.seasons[i]) + " is not a multiple of " + forecast.key_path("interval") +
                   " (" + interval + ")");
    }
    forecast.require("interval").fail(interval + " does not divide the default season " +
                                      format_duration(config.seasons[i]) + "; set seasons as well");
  }
}

}  // namespace

WorkerConfig read_worker(const Section& worker) {
  worker.allow_only(kWorkerKeys);
  WorkerConfig out;
  if (auto name = worker.find("name")) out.name = name->name(kWorkerName);
  out.data_dir = required_path(worker, "data_dir", out.data_dir, false);
  out.control_socket = required_path(worker, "control_socket", "/run/aiops/" + out.name + ".sock", true);
  out.credentials_file = worker.path_or("credentials_file", out.credentials_file);
  out.shutdown_timeout = worker.duration_or("shutdown_timeout", out.shutdown_timeout, {1ns, 1h});
  out.trace_interval = worker.duration_or("trace_interval", out.trace_interval, {1s, kDay});
  out.max_connections =
      static_cast<std::uint32_t>(worker.integer_or("max_connections", out.max_connections, {1, 1048576}));
  out.max_request_size_bytes =
      worker.size_or("max_request_size", out.max_request_size_bytes, {4 * KiB, 256 * MiB});
  out.max_outstanding = static_cast<std::uint32_t>(worker.integer_or("max_outstanding", out.max_outstanding, {1, 65536}));
  out.idle_timeout = worker.duration_or("idle_timeout", out.idle_timeout, {1s, kWeek});
  out.io_threads = static_cast<std::uint32_t>(worker.integer_or("io_threads", out.io_threads, {0, 64}));
  return out;
}

LogConfig read_log(const Section& log) {
  log.allow_only(kLogKeys);
  LogConfig out;
  out.segment_size_bytes = log.size_or("segment_size", out.segment_size_bytes, {MiB, 4 * GiB});
  out.group_commit_bytes = log.size_or("group_commit_bytes", out.group_commit_bytes, {4 * KiB, 4 * GiB});
  out.group_commit_delay = log.duration_or("group_commit_delay", out.group_commit_delay, {0ns, 100ms});
  constexpr std::array acks{LogConfig::Ack::written, LogConfig::Ack::durable};
  out.ack = log.choice_or("ack", out.ack, std::span<const LogConfig::Ack>(acks));
  out.checkpoint_interval = log.duration_or("checkpoint_interval", out.checkpoint_interval, {10ms, 1h});
  out.checkpoint_bytes = log.size_or("checkpoint_bytes", out.checkpoint_bytes, {MiB, UINT64_MAX});
  check_order(log, "group_commit_bytes", out.group_commit_bytes, Order::at_most, "segment_size",
              out.segment_size_bytes, format_size);
  check_order(log, "checkpoint_bytes", out.checkpoint_bytes, Order::at_least, "segment_size",
              out.segment_size_bytes, format_size);
  return out;
}

BufferConfig read_buffer(const Section& buffer) {
  buffer.allow_only(kBufferKeys);
  BufferConfig out;
  out.size_bytes = buffer.size_or("size", out.size_bytes, {MiB, 64 * GiB});
  out.max_entries = static_cast<std::uint32_t>(buffer.integer_or("max_entries", out.max_entries, {16, 16777216}));
  return out;
}

ForecastConfig read_forecast(const Section& forecast, const std::filesystem::path& data_dir) {
  forecast.allow_only(kForecastKeys);
  ForecastConfig out;
  out.interval = forecast.duration_or("interval", out.interval, {1s, kDay});
  out.horizon = forecast.duration_or("horizon", out.horizon, {1s, kWeek});
  constexpr std::array statistics{ForecastConfig::Statistic::mean, ForecastConfig::Statistic::upper80,
                                  ForecastConfig::Statistic::upper95};
  out.statistic = forecast.choice_or("statistic", out.statistic, std::span<const ForecastConfig::Statistic>(statistics));
  out.seasons = read_seasons(forecast, out.seasons);
  out.priority_file = forecast.path_or("priority_file", {});
  if (out.priority_file.empty()) out.priority_file = data_dir / "state" / "priorities.toml";
  out.reload_interval = forecast.duration_or("reload_interval", out.reload_interval, {1s, kDay});
  check_order(forecast, "horizon", out.horizon, Order::at_least, "interval", out.interval, format_duration);
  check_seasons(forecast, out);
  return out;
}

SchedulerConfig read_scheduler(const Section& scheduler) {
  scheduler.allow_only(kSchedulerKeys);
  SchedulerConfig out;
  constexpr std::array policies{SchedulerConfig::Policy::mclock, SchedulerConfig::Policy::fifo};
  out.policy = scheduler.choice_or("policy", out.policy, std::span<const SchedulerConfig::Policy>(policies));
  out.queue_depth = static_cast<std::uint32_t>(scheduler.integer_or("queue_depth", out.queue_depth, {1, 65536}));
  out.queue_limit = static_cast<std::uint32_t>(scheduler.integer_or("queue_limit", out.queue_limit, {16, 16777216}));
  out.queue_watermark = scheduler.number_or("queue_watermark", out.queue_watermark, {0.0, 1.0});
  out.buffer_watermark = scheduler.number_or("buffer_watermark", out.buffer_watermark, {0.0, 1.0});
  out.retry_jitter = scheduler.number_or("retry_jitter", out.retry_jitter, {0.0, 1.0});
  return out;
}

}  // namespace aiops::config::detail
