#pragma once
// Sizes and durations as people write them in configuration files and on the
// command line: "64MiB", "1.5GiB", "200us", "1h30m".
//
// Sizes: a whole or decimal number, then optionally one space, then a unit.
//   B                  bytes (also what a number without a unit means)
//   KiB MiB GiB TiB    powers of 1024
//   kB  MB  GB  TB     powers of 1000
// A decimal fraction is allowed only when the result is a whole number of
// bytes ("1.5KiB" = 1536, "1.5B" is refused). Units are case-sensitive, so
// "mb" (millibits?) is refused rather than guessed at.
//
// Durations: one or more <digits><unit> parts, units from largest to
// smallest, each at most once ("1h30m", "2s500ms"). Units: ns us ms s m h d w
// (m is minutes; d is 24h; w is 7d). No fractions, no sign, no spaces. A bare
// number is refused even when it is 0, because a missing unit is much more
// often a mistake than a shorthand.
//
// The parsers never round and never wrap: anything that does not fit the
// result type is refused with Errc::invalid_input. The formatters are exact,
// so parse(format(x)) == x for every x (for durations, every x >= 0).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "aiops/core/error.hpp"

namespace aiops {

/// Bytes named by `text`. Errors name the text and list the accepted units.
[[nodiscard]] Result<std::uint64_t> parse_size(std::string_view text);

/// The duration named by `text` (always >= 0). Errors name the text and list
/// the accepted units.
[[nodiscard]] Result<std::chrono::nanoseconds> parse_duration(std::string_view text);

/// `bytes` in the largest binary unit that divides it exactly:
/// 67108864 -> "64MiB", 1536 -> "1536B", 0 -> "0B".
[[nodiscard]] std::string format_size(std::uint64_t bytes);

/// `d` as compound parts, largest unit first, leaving out zero parts:
/// 90min -> "1h30m", 200us -> "200us", 0 -> "0s". A negative duration gets a
/// leading "-", which parse_duration does not accept.
[[nodiscard]] std::string format_duration(std::chrono::nanoseconds d);

/// `t` in UTC to the whole second below it: "2026-11-25T10:00:00Z".
[[nodiscard]] std::string format_utc(std::chrono::sys_time<std::chrono::nanoseconds> t);

}  // namespace aiops
