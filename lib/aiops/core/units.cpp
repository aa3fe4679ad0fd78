#include "aiops/core/units.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <limits>

namespace aiops {
namespace {

// 128 bits hold any 19-digit fraction times the largest unit, so the
// whole-bytes test below needs no overflow reasoning.
__extension__ using uint128 = unsigned __int128;

struct SizeUnit {
  std::string_view name;
  std::uint64_t bytes;
};

constexpr std::uint64_t kKiB = 1024;
constexpr std::array<SizeUnit, 9> kSizeUnits{{
    {"B", 1},
    {"KiB", kKiB},
    {"MiB", kKiB * kKiB},
    {"GiB", kKiB * kKiB * kKiB},
    {"TiB", kKiB * kKiB * kKiB * kKiB},
    {"kB", 1000},
    {"MB", 1000 * 1000},
    {"GB", 1000 * 1000 * 1000},
    {"TB", 1000ULL * 1000 * 1000 * 1000},
}};
constexpr std::string_view kSizeUnitList = "B, KiB, MiB, GiB, TiB, kB, MB, GB, TB";

struct DurationUnit {
  std::string_view name;
  std::uint64_t nanoseconds;
};

// Largest first: parse_duration requires this order and format_duration
// relies on it to pick the largest unit.
constexpr std::array<DurationUnit, 8> kDurationUnits{{
    {"w", 7ULL * 24 * 3600 * 1000 * 1000 * 1000},
    {"d", 24ULL * 3600 * 1000 * 1000 * 1000},
    {"h", 3600ULL * 1000 * 1000 * 1000},
    {"m", 60ULL * 1000 * 1000 * 1000},
    {"s", 1000ULL * 1000 * 1000},
    {"ms", 1000ULL * 1000},
    {"us", 1000},
    {"ns", 1},
}};
constexpr std::string_view kDurationUnitList = "ns, us, ms, s, m, h, d, w";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string_view take_digits(std::string_view text, std::size_t& pos) {
  std::size_t start = pos;
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  return text.substr(start, pos - start);
}

// Digits to a number; false when it does not fit in 64 bits.
bool to_uint64(std::string_view digits, std::uint64_t& out) {
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return ec == std::errc{} && end == digits.data() + digits.size();
}

Error bad_size(std::string_view text, std::string_view problem) {
  std::string m = "invalid size \"";
  m += text;
  m += "\": ";
  m += problem;
  m += "; write a number and one of the units ";
  m += kSizeUnitList;
  m += ", e.g. \"64MiB\"";
  return Error(Errc::invalid_input, std::move(m));
}

const SizeUnit* find_size_unit(std::string_view name) {
  for (const auto& unit : kSizeUnits)
    if (unit.name == name) return &unit;
  return nullptr;
}

// The bytes of `fraction` (the digits after the point) of one `unit`, when
// that is a whole number.
Result<std::uint64_t> fraction_bytes(std::string_view text, std::string_view fraction, std::uint64_t unit) {
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  if (fraction.empty()) return std::uint64_t{0};
  std::uint64_t numerator = 0;
  if (fraction.size() > 19 || !to_uint64(fraction, numerator))
    return bad_size(text, "too many decimal places");
  uint128 denominator = 1;
  for (std::size_t i = 0; i < fraction.size(); ++i) denominator *= 10;
  uint128 scaled = uint128{numerator} * unit;
  if (scaled % denominator != 0) return bad_size(text, "it is not a whole number of bytes");
  return static_cast<std::uint64_t>(scaled / denominator);
}

}  // namespace

Result<std::uint64_t> parse_size(std::string_view text) {
  std::size_t pos = 0;
  std::string_view whole = take_digits(text, pos);
  if (whole.empty()) return bad_size(text, "it does not start with a number");
  std::string_view fraction;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    fraction = take_digits(text, pos);
    if (fraction.empty()) return bad_size(text, "a decimal point needs digits after it");
  }
  std::string_view unit_name = text.substr(pos);
  if (!unit_name.empty() && unit_name.front() == ' ') unit_name.remove_prefix(1);
  if (unit_name.empty() && pos < text.size()) return bad_size(text, "a space must be followed by a unit");
  const SizeUnit* unit = find_size_unit(unit_name.empty() ? "B" : unit_name);
  if (unit == nullptr) return bad_size(text, "unknown unit \"" + std::string(unit_name) + "\"");

  std::uint64_t count = 0;
  std::uint64_t bytes = 0;
  if (!to_uint64(whole, count) || __builtin_mul_overflow(count, unit->bytes, &bytes))
    return Error(Errc::invalid_input, "size \"" + std::string(text) + "\" is too large (the maximum is " +
                                          std::to_string(std::numeric_limits<std::uint64_t>::max()) + " bytes)");
  AIOPS_ASSIGN(std::uint64_t extra, fraction_bytes(text, fraction, unit->bytes));
  if (__builtin_add_overflow(bytes, extra, &bytes))
    return Error(Errc::invalid_input, "size \"" + std::string(text) + "\" is too large");
  return bytes;
}

namespace {

Error bad_duration(std::string_view text, std::string_view problem) {
  std::string m = "invalid duration \"";
  m += text;
  m += "\": ";
  m += problem;
  m += " (units: ";
  m += kDurationUnitList;
  m += ")";
  return Error(Errc::invalid_input, std::move(m));
}

Error duration_too_large(std::string_view text) {
  return Error(Errc::invalid_input, "duration \"" + std::string(text) +
                                        "\" is too large (the maximum is about 292 years, 15250w)");
}

std::size_t find_duration_unit(std::string_view name) {
  for (std::size_t i = 0; i < kDurationUnits.size(); ++i)
    if (kDurationUnits[i].name == name) return i;
  return kDurationUnits.size();
}

// The problem with a number that is not followed by a unit.
std::string missing_unit(std::string_view text, std::string_view number, std::size_t pos) {
  if (pos < text.size() && text[pos] == '.') return "fractions are not accepted; write e.g. \"1s500ms\" for 1.5s";
  if (pos == text.size() && number.size() == text.size())
    return "a duration needs a unit, e.g. \"200us\" or \"15m\"";
  if (pos == text.size()) return "the last number, " + std::string(number) + ", has no unit";
  return "unexpected character '" + std::string(1, text[pos]) + "'";
}

}  // namespace

Result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  if (text.empty()) return bad_duration(text, "it is empty");
  std::size_t pos = 0;
  std::size_t previous_unit = 0;  // index into kDurationUnits, +1; 0 = none yet
  std::uint64_t total = 0;
  while (pos < text.size()) {
    std::string_view digits = take_digits(text, pos);
    if (digits.empty()) return bad_duration(text, "expected a number at \"" + std::string(text.substr(pos)) + "\"");
    std::size_t unit_start = pos;
    while (pos < text.size() && is_letter(text[pos])) ++pos;
    std::string_view unit_name = text.substr(unit_start, pos - unit_start);
    if (unit_name.empty()) return bad_duration(text, missing_unit(text, digits, pos));
    std::size_t unit = find_duration_unit(unit_name);
    if (unit == kDurationUnits.size()) return bad_duration(text, "unknown unit \"" + std::string(unit_name) + "\"");
    if (unit < previous_unit)
      return bad_duration(text, "units must go from largest to smallest, each at most once, e.g. \"1h30m\"");
    previous_unit = unit + 1;
    std::uint64_t count = 0;
    std::uint64_t part = 0;
    if (!to_uint64(digits, count) || __builtin_mul_overflow(count, kDurationUnits[unit].nanoseconds, &part) ||
        __builtin_add_overflow(total, part, &total))
      return duration_too_large(text);
  }
  if (total > static_cast<std::uint64_t>(std::numeric_limits<std::chrono::nanoseconds::rep>::max()))
    return duration_too_large(text);
  return std::chrono::nanoseconds(static_cast<std::chrono::nanoseconds::rep>(total));
}

std::string format_size(std::uint64_t bytes) {
  if (bytes == 0) return "0B";
  // The binary units are the first five, smallest first.
  const SizeUnit* best = &kSizeUnits[0];
  for (std::size_t i = 1; i < 5; ++i)
    if (bytes % kSizeUnits[i].bytes == 0) best = &kSizeUnits[i];
  return std::to_string(bytes / best->bytes) + std::string(best->name);
}

std::string format_duration(std::chrono::nanoseconds d) {
  if (d.count() == 0) return "0s";
  std::string out;
  // Unsigned so that the most negative duration has a magnitude too.
  std::uint64_t rest = static_cast<std::uint64_t>(d.count());
  if (d.count() < 0) {
    out = "-";
    rest = 0 - rest;
  }
  for (const auto& unit : kDurationUnits) {
    if (rest < unit.nanoseconds) continue;
    out += std::to_string(rest / unit.nanoseconds);
    out += unit.name;
    rest %= unit.nanoseconds;
  }
  return out;
}

std::string format_utc(std::chrono::sys_time<std::chrono::nanoseconds> t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{floor<seconds>(t - day)};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return buf;
}

}  // namespace aiops
