// Application types (app_type.hpp): the rules, and the reasons that show
// the numbers each rule looked at.
#include "aiops/forecast/app_type.hpp"

#include <cmath>
#include <cstdio>

#include "aiops/config/toml_text.hpp"

namespace aiops::forecast {
namespace {

constexpr double kKiB = 1024.0;

// The shares and sizes the rules compare; all 0 when there is nothing to
// divide by, so that no rule that needs them can hold.
struct Shape {
  double reads = 0;       // share of requests
  double writes = 0;      // share of requests
  double sequential = 0;  // share of requests
  double size = 0;        // bytes per request
  double read_size = 0;   // bytes per read
  double write_size = 0;  // bytes per write
};

Shape shape_of(const IoMix& mix) {
  Shape s;
  const auto requests = static_cast<double>(mix.requests());
  if (requests == 0) return s;
  s.reads = static_cast<double>(mix.reads) / requests;
  s.writes = static_cast<double>(mix.writes) / requests;
  s.sequential = static_cast<double>(mix.sequential) / requests;
  s.size = static_cast<double>(mix.bytes()) / requests;
  if (mix.reads > 0) s.read_size = static_cast<double>(mix.read_bytes) / static_cast<double>(mix.reads);
  if (mix.writes > 0) s.write_size = static_cast<double>(mix.write_bytes) / static_cast<double>(mix.writes);
  return s;
}

std::string percent(double share) { return std::to_string(std::lround(share * 100)) + "%"; }

// "512 B", "8 KiB", "1.5 MiB": one decimal at most, none when it is 0.
std::string human_size(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++unit;
  }
  double tenths = std::round(bytes * 10) / 10;
  char text[48];
  if (tenths == std::floor(tenths)) std::snprintf(text, sizeof text, "%.0f %s", tenths, kUnits[unit]);
  else std::snprintf(text, sizeof text, "%.1f %s", tenths, kUnits[unit]);
  return text;
}

AppTypeResult inferred(AppType type, std::string reason) {
  return {type, AppTypeResult::Source::inferred, std::move(reason)};
}

}  // namespace

std::string_view to_string(AppType type) noexcept {
  switch (type) {
    case AppType::database: return "database";
    case AppType::analytics: return "analytics";
    case AppType::backup: return "backup";
    case AppType::streaming: return "streaming";
    case AppType::vdi: return "vdi";
    case AppType::general: return "general";
  }
  return "general";
}

std::optional<AppType> parse_app_type(std::string_view name) noexcept {
  for (AppType type : kAppTypes)
    if (to_string(type) == name) return type;
  return std::nullopt;
}

std::string_view to_string(AppTypeResult::Source source) noexcept {
  return source == AppTypeResult::Source::config ? "config" : "inferred";
}

AppTypeResult infer_app_type(const IoMix& mix) {
  if (!mix.known) return inferred(AppType::general, "the trace has no per-request detail to infer a type from");
  if (mix.requests() < kMinRequests)
    return inferred(AppType::general, "only " + std::to_string(mix.requests()) + " requests in the trace; " +
                                          std::to_string(kMinRequests) + " are needed to infer a type");
  const Shape s = shape_of(mix);
  const std::string sequential = percent(s.sequential) + " sequential";
  if (s.writes >= 0.8 && s.sequential >= 0.6 && s.write_size >= 128 * kKiB)
    return inferred(AppType::backup, percent(s.writes) + " writes, " + sequential + ", " + human_size(s.write_size) +
                                         " per write on average");
  if (s.reads >= 0.8 && s.sequential >= 0.8 && s.read_size >= 32 * kKiB)
    return inferred(AppType::streaming, percent(s.reads) + " reads, " + sequential + ", " + human_size(s.read_size) +
                                            " per read on average");
  if (s.reads >= 0.6 && s.read_size >= 64 * kKiB)
    return inferred(AppType::analytics, percent(s.reads) + " reads, " + sequential + ", " + human_size(s.read_size) +
                                            " per read on average");
  const std::string small_random = sequential + ", " + human_size(s.size) + " per request on average";
  if (s.size <= 32 * kKiB && s.sequential < 0.4 && s.writes >= 0.6)
    return inferred(AppType::vdi, percent(s.writes) + " writes, " + small_random);
  if (s.size <= 32 * kKiB && s.sequential < 0.4)
    return inferred(AppType::database, percent(s.reads) + " reads, " + small_random);
  return inferred(AppType::general, "no rule matches " + percent(s.reads) + " reads, " + sequential + ", " +
                                        human_size(s.size) + " per request on average");
}

AppTypeResult resolve_app_type(std::string_view configured, const IoMix& mix) {
  if (configured.empty()) return infer_app_type(mix);
  if (auto type = parse_app_type(configured))
    return {*type, AppTypeResult::Source::config, "app_type in the configuration"};
  AppTypeResult out = infer_app_type(mix);
  out.reason = "the configured app_type " + config::toml_string(configured) + " is not a type; " + out.reason;
  return out;
}

}  // namespace aiops::forecast
