#include "aiops/config/config.hpp"

#include <algorithm>

namespace aiops::config {
namespace {

template <class T, class Match>
const T* find_in(const std::vector<T>& items, Match match) {
  auto it = std::find_if(items.begin(), items.end(), match);
  return it == items.end() ? nullptr : &*it;
}

}  // namespace

const VolumeConfig* Config::find_volume(std::string_view name) const {
  return find_in(volumes, [&](const VolumeConfig& v) { return v.name == name; });
}

const VolumeConfig* Config::find_volume(std::uint32_t id) const {
  return find_in(volumes, [&](const VolumeConfig& v) { return v.id == id; });
}

const ClientConfig* Config::find_client(std::string_view name) const {
  return find_in(clients, [&](const ClientConfig& c) { return c.name == name; });
}

const ClientConfig* Config::find_client(std::uint32_t id) const {
  return find_in(clients, [&](const ClientConfig& c) { return c.id == id; });
}

const ExportConfig* Config::find_export(std::string_view name) const {
  return find_in(exports, [&](const ExportConfig& e) { return e.name == name; });
}

std::string_view to_string(ListenerConfig::Protocol protocol) noexcept {
  switch (protocol) {
    case ListenerConfig::Protocol::native: return "native";
    case ListenerConfig::Protocol::nbd: return "nbd";
  }
  return "?";
}

std::string_view to_string(LogConfig::Ack ack) noexcept {
  switch (ack) {
    case LogConfig::Ack::written: return "written";
    case LogConfig::Ack::durable: return "durable";
  }
  return "?";
}

std::string_view to_string(ForecastConfig::Statistic statistic) noexcept {
  switch (statistic) {
    case ForecastConfig::Statistic::mean: return "mean";
    case ForecastConfig::Statistic::upper80: return "upper80";
    case ForecastConfig::Statistic::upper95: return "upper95";
  }
  return "?";
}

std::string_view to_string(Access access) noexcept {
  switch (access) {
    case Access::read_only: return "ro";
    case Access::read_write: return "rw";
  }
  return "?";
}

std::string_view to_string(SchedulerConfig::Policy policy) noexcept {
  switch (policy) {
    case SchedulerConfig::Policy::mclock: return "mclock";
    case SchedulerConfig::Policy::fifo: return "fifo";
  }
  return "?";
}

}  // namespace aiops::config
