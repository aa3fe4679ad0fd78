#pragma once
// The application type of a client: what kind of program drives its I/O.
// It is shown with the client's forecast and written to the priority list,
// so that an operator can see why a client ranks where it does; it does not
// change the score (the SLA weight and the predicted load do).
//
// The configured `app_type` of the client (aiops.toml, [[client]]) wins when
// it is not empty (source "config"). Otherwise the type is inferred from the
// client's I/O mix over the whole trace (source "inferred"), by the first
// rule below that holds. With
//   R = reads / requests         W = writes / requests
//   S = sequential / requests    (requests that began where the previous ended)
//   size = bytes / requests,     read size = read_bytes / reads,
//                                write size = write_bytes / writes,
// the rules are:
//   1. backup     W >= 80%, S >= 60%, write size >= 128 KiB
//                 (large sequential writes: copies, dumps, archive streams)
//   2. streaming  R >= 80%, S >= 80%, read size >= 32 KiB
//                 (one stream read front to back: media, log shipping)
//   3. analytics  R >= 60%, read size >= 64 KiB
//                 (large reads, often several scans interleaved, so not
//                 necessarily sequential from the client's point of view)
//   4. vdi        size <= 32 KiB, S < 40%, W >= 60%
//                 (many small random writes: desktop images in steady state)
//   5. database   size <= 32 KiB, S < 40%
//                 (small random reads and writes of pages)
//   6. general    none of the above.
// A mix without per-request detail (known = false: the aggregated series
// format) or with fewer than kMinRequests requests is "general" as well,
// with a reason that says so rather than one that describes the mix.
//
// The reason is one short line for people, e.g. "94% writes, 97%
// sequential, 1 MiB per write on average"; it is not meant to be parsed.
//
// The functions keep no state; any thread may call them.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aiops/forecast/io_mix.hpp"

namespace aiops::forecast {

enum class AppType { database, analytics, backup, streaming, vdi, general };

/// Every type, in the order of aiops.toml(5).
inline constexpr std::array kAppTypes{AppType::database,  AppType::analytics, AppType::backup,
                                      AppType::streaming, AppType::vdi,       AppType::general};

/// Fewer requests than this say too little about a client to infer its type.
inline constexpr uint64_t kMinRequests = 100;

/// "database", "analytics", ... as in aiops.toml.
[[nodiscard]] std::string_view to_string(AppType type) noexcept;
/// The type named `name`, or nothing when it names none.
[[nodiscard]] std::optional<AppType> parse_app_type(std::string_view name) noexcept;

struct AppTypeResult {
  enum class Source { config, inferred };

  AppType type = AppType::general;
  Source source = Source::inferred;
  std::string reason;  // one line, for people
};

/// "config" or "inferred".
[[nodiscard]] std::string_view to_string(AppTypeResult::Source source) noexcept;

/// The type that the rules above infer from `mix`.
[[nodiscard]] AppTypeResult infer_app_type(const IoMix& mix);

/// `configured` (the client's app_type in aiops.toml) when it names a type,
/// otherwise infer_app_type(mix). A configured name that is not a type
/// (which a loaded configuration never holds) is ignored and said so in the
/// reason.
[[nodiscard]] AppTypeResult resolve_app_type(std::string_view configured, const IoMix& mix);

}  // namespace aiops::forecast
