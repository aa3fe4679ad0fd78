#include "aiops/core/units.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>

using namespace std::chrono_literals;
using aiops::format_duration;
using aiops::format_size;
using aiops::parse_duration;
using aiops::parse_size;

namespace {

constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t MiB = KiB * 1024;
constexpr std::uint64_t GiB = MiB * 1024;
constexpr std::uint64_t TiB = GiB * 1024;

std::uint64_t size_of(std::string_view text) {
  auto r = parse_size(text);
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  return r.value();
}

std::chrono::nanoseconds duration_of(std::string_view text) {
  auto r = parse_duration(text);
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  return r.value();
}

std::string size_error(std::string_view text) {
  auto r = parse_size(text);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == aiops::Errc::invalid_input);
  return r.error().message();
}

std::string duration_error(std::string_view text) {
  auto r = parse_duration(text);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == aiops::Errc::invalid_input);
  return r.error().message();
}

}  // namespace

TEST_CASE("parse_size accepts binary units") {
  CHECK(size_of("512B") == 512);
  CHECK(size_of("4KiB") == 4 * KiB);
  CHECK(size_of("64MiB") == 64 * MiB);
  CHECK(size_of("1GiB") == GiB);
  CHECK(size_of("2TiB") == 2 * TiB);
}

TEST_CASE("parse_size accepts decimal units") {
  CHECK(size_of("1kB") == 1000);
  CHECK(size_of("3MB") == 3'000'000);
  CHECK(size_of("2GB") == 2'000'000'000);
  CHECK(size_of("5TB") == 5'000'000'000'000);
}

TEST_CASE("parse_size reads plain digits as bytes") {
  CHECK(size_of("0") == 0);
  CHECK(size_of("4096") == 4096);
  CHECK(size_of("18446744073709551615") == UINT64_MAX);
}

TEST_CASE("parse_size accepts one space before the unit") {
  CHECK(size_of("64 MiB") == 64 * MiB);
  CHECK(size_of("7 B") == 7);
}

TEST_CASE("parse_size accepts a fraction that gives whole bytes") {
  CHECK(size_of("1.5GiB") == GiB + GiB / 2);
  CHECK(size_of("0.5KiB") == 512);
  CHECK(size_of("2.50MB") == 2'500'000);
  CHECK(size_of("3.0B") == 3);
}

TEST_CASE("parse_size refuses a fraction of a byte") {
  CHECK(size_error("1.5B").find("not a whole number of bytes") != std::string::npos);
  CHECK(size_error("0.1KiB").find("not a whole number of bytes") != std::string::npos);
}

TEST_CASE("parse_size refuses malformed text and names it with the units") {
  for (std::string_view bad : {"", "MiB", "-1MiB", "+1MiB", " 1MiB", "1MiB ", "1  MiB", "1 ", "1.MiB", ".5MiB",
                               "1mib", "1MIB", "1KB", "1kiB", "1Mi", "1 MiBs", "1e3", "1,5MiB", "0x10"}) {
    CAPTURE(bad);
    std::string message = size_error(bad);
    CHECK(message.find("\"" + std::string(bad) + "\"") != std::string::npos);
    CHECK(message.find("KiB, MiB, GiB, TiB, kB, MB, GB, TB") != std::string::npos);
  }
}

TEST_CASE("parse_size refuses overflow") {
  CHECK(size_error("18446744073709551616").find("too large") != std::string::npos);
  CHECK(size_error("16777216TiB").find("too large") != std::string::npos);
  CHECK(size_error("16777216.5TiB").find("too large") != std::string::npos);
  CHECK(size_error("18446744.1TB").find("too large") != std::string::npos);
  CHECK(size_of("18446744.07TB") == 18'446'744'070'000'000'000ULL);
  CHECK(size_of("16777215TiB") == 16777215 * TiB);
}

TEST_CASE("format_size uses the largest binary unit that divides exactly") {
  CHECK(format_size(0) == "0B");
  CHECK(format_size(1000) == "1000B");
  CHECK(format_size(1536) == "1536B");
  CHECK(format_size(4096) == "4KiB");
  CHECK(format_size(67108864) == "64MiB");
  CHECK(format_size(3 * GiB) == "3GiB");
  CHECK(format_size(1024 * TiB) == "1024TiB");
  CHECK(format_size(UINT64_MAX) == "18446744073709551615B");
}

TEST_CASE("parse_duration accepts every unit") {
  CHECK(duration_of("7ns") == 7ns);
  CHECK(duration_of("200us") == 200us);
  CHECK(duration_of("5ms") == 5ms);
  CHECK(duration_of("30s") == 30s);
  CHECK(duration_of("15m") == 15min);
  CHECK(duration_of("2h") == 2h);
  CHECK(duration_of("1d") == 24h);
  CHECK(duration_of("1w") == 7 * 24h);
}

TEST_CASE("parse_duration accepts compound forms and zero") {
  CHECK(duration_of("1h30m") == 90min);
  CHECK(duration_of("1w2d3h4m5s6ms7us8ns") == 7 * 24h + 2 * 24h + 3h + 4min + 5s + 6ms + 7us + 8ns);
  CHECK(duration_of("0s") == 0ns);
  CHECK(duration_of("0us") == 0ns);
  CHECK(duration_of("90m") == 90min);
}

TEST_CASE("parse_duration refuses a bare number") {
  CHECK(duration_error("15").find("a duration needs a unit, e.g. \"200us\" or \"15m\"") != std::string::npos);
  CHECK(duration_error("0").find("needs a unit") != std::string::npos);
  CHECK(duration_error("1h30").find("has no unit") != std::string::npos);
}

TEST_CASE("parse_duration refuses malformed text and names it with the units") {
  for (std::string_view bad : {"", "s", "1.5s", "-1s", "+1s", " 1s", "1s ", "1 s", "1sec", "1S", "1H", "1y", "1m1h",
                               "1s1s", "1ms1s", "h1", "1h-30m"}) {
    CAPTURE(bad);
    std::string message = duration_error(bad);
    CHECK(message.find("\"" + std::string(bad) + "\"") != std::string::npos);
    CHECK(message.find("ns, us, ms, s, m, h, d, w") != std::string::npos);
  }
}

TEST_CASE("parse_duration refuses overflow") {
  CHECK(duration_error("20000w").find("too large") != std::string::npos);
  CHECK(duration_error("99999999999999999999ns").find("too large") != std::string::npos);
  CHECK(duration_error("9223372036854775808ns").find("too large") != std::string::npos);
  CHECK(duration_of("9223372036854775807ns").count() == INT64_MAX);
  CHECK(duration_error("15250w2d").find("too large") != std::string::npos);
}

TEST_CASE("format_duration is exact and compound") {
  CHECK(format_duration(0ns) == "0s");
  CHECK(format_duration(200us) == "200us");
  CHECK(format_duration(15min) == "15m");
  CHECK(format_duration(90min) == "1h30m");
  CHECK(format_duration(24h) == "1d");
  CHECK(format_duration(14 * 24h) == "2w");
  CHECK(format_duration(1500ms) == "1s500ms");
  CHECK(format_duration(-5s) == "-5s");
}

TEST_CASE("sizes round-trip through format and parse") {
  std::mt19937_64 random(20240607);
  for (int i = 0; i < 2000; ++i) {
    // Mix of values with many trailing zero bits and arbitrary ones.
    std::uint64_t value = random() >> (random() % 64);
    if (i % 2 == 0) value <<= (random() % 41);
    CAPTURE(value);
    CHECK(size_of(format_size(value)) == value);
  }
}

TEST_CASE("durations round-trip through format and parse") {
  std::mt19937_64 random(20240608);
  for (int i = 0; i < 2000; ++i) {
    auto value = std::chrono::nanoseconds(static_cast<std::int64_t>(random() >> (1 + random() % 63)));
    if (i % 2 == 0) value = std::chrono::nanoseconds(value.count() / 1'000'000'000 * 1'000'000'000);
    CAPTURE(value.count());
    CHECK(duration_of(format_duration(value)) == value);
  }
  CHECK(duration_of(format_duration(std::chrono::nanoseconds::max())) == std::chrono::nanoseconds::max());
}
