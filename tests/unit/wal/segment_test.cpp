#include <doctest/doctest.h>

#include <random>

#include "aiops/wal/log_scan.hpp"
#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace aiops;
using namespace aiops::wal;
using test::TempDir;

namespace {

// One segment with `n` records; returns its bytes.
std::vector<std::byte> one_segment_log(const std::filesystem::path& dir, uint64_t n) {
  test::write_log(dir, n);
  return test::read_bytes(test::segment_path(dir, 1));
}

LogScan scan(const std::filesystem::path& dir, bool keep_going = false) {
  auto s = scan_log(io::posix_file_system(), dir, {keep_going, {}});
  REQUIRE(s.ok());
  return s.value();
}

}  // namespace

TEST_CASE("every byte-truncation recovers exactly the complete records before the cut") {
  TempDir tmp;
  auto bytes = one_segment_log(tmp / "src", 6);
  auto starts = test::record_starts(bytes);
  REQUIRE(starts.size() == 7);
  REQUIRE(starts.back() == bytes.size());
  std::filesystem::create_directories(tmp / "cut");
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    test::write_bytes(test::segment_path(tmp / "cut", 1), {bytes.begin(), bytes.begin() + cut});
    LogScan s = scan(tmp / "cut");
    uint64_t complete = 0;
    for (size_t i = 1; i < starts.size(); ++i) complete += starts[i] <= cut ? 1 : 0;
    INFO("cut at " << cut);
    CHECK(s.records == complete);
    CHECK_FALSE(s.corrupt());
    bool on_boundary = cut == segment_header_bytes || std::find(starts.begin(), starts.end(), cut) != starts.end();
    if (on_boundary) {
      CHECK(s.findings.empty());
    } else {
      REQUIRE(s.findings.size() == 1);
      CHECK(s.findings[0].kind == Finding::Kind::torn_tail);
      uint64_t torn_at = cut < segment_header_bytes ? 0 : *(std::upper_bound(starts.begin(), starts.end(), cut) - 1);
      CHECK(s.findings[0].offset == torn_at);
    }
  }
}

TEST_CASE("recovery after a truncation keeps the complete records and continues the sequence") {
  TempDir tmp;
  auto bytes = one_segment_log(tmp / "src", 6);
  auto starts = test::record_starts(bytes);
  for (size_t cut : {starts[3] + 10, starts[5] + 60, starts[1] - 1}) {
    std::filesystem::remove_all(tmp / "cut");
    std::filesystem::create_directories(tmp / "cut");
    test::write_bytes(test::segment_path(tmp / "cut", 1), {bytes.begin(), bytes.begin() + cut});
    uint64_t complete = static_cast<uint64_t>(std::upper_bound(starts.begin(), starts.end(), cut) - starts.begin() - 1);
    {
      auto log = Log::open(io::posix_file_system(), tmp / "cut", {});
      REQUIRE(log.ok());
      CHECK(log.value()->recovery().torn_tail.has_value() == (cut >= segment_header_bytes));
      auto payload = test::payload_for(99);
      auto r = log.value()->append({1, 1, 0, payload, Durability::durable, {}});
      REQUIRE(r.ok());
      CHECK(r.value().sequence == complete + 1);
    }
    LogScan s;
    auto records = test::read_records(tmp / "cut", &s);
    CHECK(s.findings.empty());
    CHECK(records.size() == complete + 1);
  }
}

TEST_CASE("a flipped bit anywhere is corruption at the offset of the record that holds it") {
  TempDir tmp;
  auto bytes = one_segment_log(tmp / "src", 6);
  auto starts = test::record_starts(bytes);
  std::filesystem::create_directories(tmp / "flip");
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    auto copy = bytes;
    copy[bit / 8] ^= std::byte{static_cast<unsigned char>(1u << (bit % 8))};
    test::write_bytes(test::segment_path(tmp / "flip", 1), copy);
    LogScan s = scan(tmp / "flip");
    size_t byte = bit / 8;
    uint64_t owner = byte < segment_header_bytes ? 0 : *(std::upper_bound(starts.begin(), starts.end(), byte) - 1);
    INFO("bit " << bit << " (byte " << byte << ")");
    REQUIRE(s.findings.size() == 1);
    CHECK(s.findings[0].kind == Finding::Kind::corrupt);
    CHECK(s.findings[0].offset == owner);
  }
}

TEST_CASE("a flipped byte anywhere is corruption at the offset of the record that holds it") {
  TempDir tmp;
  auto bytes = one_segment_log(tmp / "src", 6);
  auto starts = test::record_starts(bytes);
  std::filesystem::create_directories(tmp / "flip");
  for (size_t byte = 0; byte < bytes.size(); ++byte) {
    auto copy = bytes;
    copy[byte] ^= std::byte{0xff};
    test::write_bytes(test::segment_path(tmp / "flip", 1), copy);
    LogScan s = scan(tmp / "flip");
    uint64_t owner = byte < segment_header_bytes ? 0 : *(std::upper_bound(starts.begin(), starts.end(), byte) - 1);
    INFO("byte " << byte);
    REQUIRE(s.findings.size() == 1);
    CHECK(s.findings[0].kind == Finding::Kind::corrupt);
    CHECK(s.findings[0].offset == owner);
  }
}

TEST_CASE("opening a corrupt log is refused with segment, offset and reason") {
  TempDir tmp;
  auto bytes = one_segment_log(tmp / "log", 6);
  auto starts = test::record_starts(bytes);
  bytes[starts[2] + 60] ^= std::byte{4};
  test::write_bytes(test::segment_path(tmp / "log", 1), bytes);
  auto log = Log::open(io::posix_file_system(), tmp / "log", {});
  REQUIRE_FALSE(log.ok());
  CHECK(log.error().code() == Errc::corrupt);
  const std::string& m = log.error().message();
  CHECK(m.find("0000000000000001.wal") != std::string::npos);
  CHECK(m.find("at byte " + std::to_string(starts[2])) != std::string::npos);
  CHECK(m.find("checksum mismatch in record 3") != std::string::npos);
}

TEST_CASE("salvage cuts the log at the first corruption and continues after it") {
  TempDir tmp;
  auto bytes = one_segment_log(tmp / "log", 6);
  auto starts = test::record_starts(bytes);
  bytes[starts[4] + 50] ^= std::byte{4};
  test::write_bytes(test::segment_path(tmp / "log", 1), bytes);
  {
    LogOptions opt;
    opt.salvage = true;
    auto log = Log::open(io::posix_file_system(), tmp / "log", opt);
    REQUIRE(log.ok());
    REQUIRE(log.value()->recovery().salvaged.has_value());
    CHECK(log.value()->recovery().salvaged->offset == starts[4]);
    auto payload = test::payload_for(5);
    auto r = log.value()->append({1, 1, 0, payload, Durability::durable, {}});
    REQUIRE(r.ok());
    CHECK(r.value().sequence == 5);
  }
  LogScan s;
  auto records = test::read_records(tmp / "log", &s);
  CHECK(s.findings.empty());
  CHECK(records.size() == 5);
}

TEST_CASE("zeros or garbage after the last record of the newest segment are a torn tail") {
  TempDir tmp;
  auto bytes = one_segment_log(tmp / "log", 4);
  auto with = [&](std::vector<std::byte> tail) {
    auto copy = bytes;
    copy.insert(copy.end(), tail.begin(), tail.end());
    test::write_bytes(test::segment_path(tmp / "log", 1), copy);
    return scan(tmp / "log");
  };
  LogScan zeros = with(std::vector<std::byte>(5000));
  REQUIRE(zeros.findings.size() == 1);
  CHECK(zeros.findings[0].kind == Finding::Kind::torn_tail);
  CHECK(zeros.findings[0].reason.find("zero bytes") != std::string::npos);
  CHECK(zeros.records == 4);
  std::mt19937_64 rng(7);
  std::vector<std::byte> junk(3000);
  for (auto& b : junk) b = static_cast<std::byte>(rng());
  LogScan garbage = with(junk);
  REQUIRE(garbage.findings.size() == 1);
  CHECK(garbage.findings[0].kind == Finding::Kind::torn_tail);
  CHECK(garbage.findings[0].offset == bytes.size());
}

TEST_CASE("bytes that are not a record followed by a valid record are corruption") {
  TempDir tmp;
  auto bytes = one_segment_log(tmp / "log", 5);
  auto starts = test::record_starts(bytes);
  // Wipe record 3 completely (header and payload) with zeros.
  std::fill(bytes.begin() + static_cast<long>(starts[2]), bytes.begin() + static_cast<long>(starts[3]), std::byte{0});
  test::write_bytes(test::segment_path(tmp / "log", 1), bytes);
  LogScan s = scan(tmp / "log");
  REQUIRE(s.findings.size() == 1);
  CHECK(s.findings[0].kind == Finding::Kind::corrupt);
  CHECK(s.findings[0].offset == starts[2]);
  CHECK(s.findings[0].reason.find("followed by a record") != std::string::npos);
  LogScan all = scan(tmp / "log", /*keep_going=*/true);
  CHECK(all.records == 4);  // 1, 2, then 4 and 5 after resynchronising
}

TEST_CASE("damage in an older segment is corruption even at its end") {
  TempDir tmp;
  LogOptions opt;
  opt.segment_bytes = 400;  // a few records per segment
  test::write_log(tmp / "log", 20, opt);
  auto indices = list_segments(io::posix_file_system(), tmp / "log");
  REQUIRE(indices.ok());
  REQUIRE(indices.value().size() >= 4);
  auto older = test::segment_path(tmp / "log", 2);
  auto bytes = test::read_bytes(older);

  SUBCASE("truncated") {
    test::write_bytes(older, {bytes.begin(), bytes.end() - 3});
    LogScan s = scan(tmp / "log");
    REQUIRE(s.findings.size() == 1);
    CHECK(s.findings[0].kind == Finding::Kind::corrupt);
    CHECK(s.findings[0].segment_index == 2);
  }
  SUBCASE("extra bytes after its last record") {
    auto copy = bytes;
    copy.resize(copy.size() + 100);
    test::write_bytes(older, copy);
    LogScan s = scan(tmp / "log");
    REQUIRE(s.findings.size() == 1);
    CHECK(s.findings[0].kind == Finding::Kind::corrupt);
    CHECK(s.findings[0].offset == bytes.size());
  }
  SUBCASE("missing") {
    std::filesystem::remove(older);
    LogScan s = scan(tmp / "log");
    REQUIRE(s.findings.size() == 1);
    CHECK(s.findings[0].kind == Finding::Kind::corrupt);
    CHECK(s.findings[0].segment_index == 3);
    CHECK(s.findings[0].reason.find("segment starts at sequence") != std::string::npos);
  }
}

TEST_CASE("keep_going reports every finding in the log") {
  TempDir tmp;
  LogOptions opt;
  opt.segment_bytes = 400;
  test::write_log(tmp / "log", 20, opt);
  auto indices = list_segments(io::posix_file_system(), tmp / "log").value();
  for (uint64_t idx : {uint64_t{1}, uint64_t{3}}) {
    auto path = test::segment_path(tmp / "log", idx);
    auto b = test::read_bytes(path);
    b[b.size() - 5] ^= std::byte{0x20};
    test::write_bytes(path, b);
  }
  auto newest = test::segment_path(tmp / "log", indices.back());
  auto b = test::read_bytes(newest);
  test::write_bytes(newest, {b.begin(), b.end() - 2});
  LogScan s = scan(tmp / "log", /*keep_going=*/true);
  REQUIRE(s.findings.size() == 3);
  CHECK(s.findings[0].segment_index == 1);
  CHECK(s.findings[1].segment_index == 3);
  CHECK(s.findings[2].kind == Finding::Kind::torn_tail);
}

TEST_CASE("segment file names") {
  CHECK(segment_file_name(0xa1) == "00000000000000a1.wal");
  CHECK(parse_segment_file_name("00000000000000a1.wal") == uint64_t{0xa1});
  CHECK_FALSE(parse_segment_file_name("00000000000000A1.wal"));
  CHECK_FALSE(parse_segment_file_name("0000000000000001.wal.tmp"));
  CHECK_FALSE(parse_segment_file_name("0000000000000000.wal"));
}
