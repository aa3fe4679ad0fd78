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
  auto starts = test::record_starts(bytes);  // 6 records, the closing marker, its end
  REQUIRE(starts.size() == 8);
  const uint64_t used = starts.back();
  std::filesystem::create_directories(tmp / "cut");
  for (size_t cut = 0; cut <= used + 100; ++cut) {
    test::write_bytes(test::segment_path(tmp / "cut", 1), {bytes.begin(), bytes.begin() + static_cast<long>(cut)});
    LogScan s = scan(tmp / "cut");
    uint64_t complete = 0;
    for (size_t i = 1; i <= 6; ++i) complete += starts[i] <= cut ? 1 : 0;
    INFO("cut at " << cut);
    CHECK(s.records == complete);
    CHECK_FALSE(s.corrupt());
    bool on_boundary = cut == segment_header_bytes || cut >= used ||
                       std::find(starts.begin(), starts.end(), cut) != starts.end();
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

TEST_CASE("recovery after a truncation keeps the complete records and continues after them") {
  TempDir tmp;
  auto bytes = one_segment_log(tmp / "src", 6);
  auto starts = test::record_starts(bytes);
  for (size_t cut : {starts[3] + 10, starts[5] + 60, starts[1] - 1}) {
    std::filesystem::remove_all(tmp / "cut");
    std::filesystem::create_directories(tmp / "cut");
    test::write_bytes(test::segment_path(tmp / "cut", 1), {bytes.begin(), bytes.begin() + static_cast<long>(cut)});
    uint64_t complete = static_cast<uint64_t>(std::upper_bound(starts.begin(), starts.end(), cut) - starts.begin() - 1);
    INFO("cut at " << cut);
    {
      auto log = Log::open(io::posix_file_system(), tmp / "cut", test::small_log_options());
      REQUIRE(log.ok());
      REQUIRE(log.value()->recovery().torn_tail.has_value());
      CHECK(log.value()->recovery().torn_tail->offset == starts[complete]);
      auto payload = test::payload_for(99);
      auto r = log.value()->append({1, 1, 0, payload, Durability::durable, {}});
      REQUIRE(r.ok());
      CHECK(r.value().sequence > complete);
    }
    LogScan s;
    auto records = test::read_records(tmp / "cut", &s);
    CHECK(s.findings.empty());
    REQUIRE(records.size() == complete + 1);
    for (uint64_t i = 0; i < complete; ++i) CHECK(records[i].second == test::payload_for(i + 1));
    CHECK(records.back().second == test::payload_for(99));
  }
}

TEST_CASE("a flipped bit anywhere in the records is corruption at the offset of the record that holds it") {
  TempDir tmp;
  auto bytes = one_segment_log(tmp / "src", 6);
  auto starts = test::record_starts(bytes);
  std::filesystem::create_directories(tmp / "flip");
  for (size_t bit = 0; bit < starts.back() * 8; ++bit) {
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

TEST_CASE("a flipped byte in any record before the closing marker is corruption at that record") {
  TempDir tmp;
  auto bytes = one_segment_log(tmp / "src", 6);
  auto starts = test::record_starts(bytes);
  const uint64_t marker = starts[6];
  std::filesystem::create_directories(tmp / "flip");
  for (size_t byte = 0; byte < starts.back(); ++byte) {
    auto copy = bytes;
    copy[byte] ^= std::byte{0xff};
    test::write_bytes(test::segment_path(tmp / "flip", 1), copy);
    LogScan s = scan(tmp / "flip");
    INFO("byte " << byte);
    REQUIRE(s.findings.size() == 1);
    if (byte < segment_header_bytes || byte < marker) {
      uint64_t owner = byte < segment_header_bytes ? 0 : *(std::upper_bound(starts.begin(), starts.end(), byte) - 1);
      CHECK(s.findings[0].kind == Finding::Kind::corrupt);
      CHECK(s.findings[0].offset == owner);
    } else {
      // The marker itself holds no data; damaged beyond one bit it cannot be
      // told from an unfinished write, and dropping it loses nothing.
      CHECK(s.findings[0].kind == Finding::Kind::torn_tail);
      CHECK(s.records == 6);
    }
  }
}

TEST_CASE("opening a corrupt log is refused with segment, offset and reason") {
  TempDir tmp;
  auto bytes = one_segment_log(tmp / "log", 6);
  auto starts = test::record_starts(bytes);
  bytes[starts[2] + 60] ^= std::byte{4};
  test::write_bytes(test::segment_path(tmp / "log", 1), bytes);
  auto log = Log::open(io::posix_file_system(), tmp / "log", test::small_log_options());
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
    LogOptions opt = test::small_log_options();
    opt.salvage = true;
    auto log = Log::open(io::posix_file_system(), tmp / "log", opt);
    REQUIRE(log.ok());
    REQUIRE(log.value()->recovery().salvaged.has_value());
    CHECK(log.value()->recovery().salvaged->offset == starts[4]);
    auto payload = test::payload_for(5);
    REQUIRE(log.value()->append({1, 1, 0, payload, Durability::durable, {}}).ok());
  }
  LogScan s;
  auto records = test::read_records(tmp / "log", &s);
  CHECK(s.findings.empty());
  REQUIRE(records.size() == 5);
  for (uint64_t i = 0; i < 5; ++i) CHECK(records[i].second == test::payload_for(i + 1));
}

TEST_CASE("zeros after the last record are the clean end; other bytes there are a torn tail") {
  TempDir tmp;
  auto bytes = one_segment_log(tmp / "log", 4);
  auto starts = test::record_starts(bytes);
  const uint64_t end = starts.back();
  CHECK(scan(tmp / "log").findings.empty());  // zero-filled up to the segment size
  std::mt19937_64 rng(7);
  auto copy = bytes;
  for (size_t i = end; i < end + 3000; ++i) copy[i] = static_cast<std::byte>(rng());
  test::write_bytes(test::segment_path(tmp / "log", 1), copy);
  LogScan garbage = scan(tmp / "log");
  REQUIRE(garbage.findings.size() == 1);
  CHECK(garbage.findings[0].kind == Finding::Kind::torn_tail);
  CHECK(garbage.findings[0].offset == end);
  CHECK(garbage.records == 4);
  // Recovery zeroes the leftovers but keeps the file's size.
  {
    auto log = Log::open(io::posix_file_system(), tmp / "log", test::small_log_options());
    REQUIRE(log.ok());
    CHECK(log.value()->recovery().bytes_dropped == 3000);
  }
  CHECK(scan(tmp / "log").findings.empty());
  CHECK(std::filesystem::file_size(test::segment_path(tmp / "log", 1)) == bytes.size());
}

TEST_CASE("damage in front of a synced record is corruption; in front of unsynced ones, the end") {
  TempDir tmp;
  auto bytes = one_segment_log(tmp / "log", 5);
  auto starts = test::record_starts(bytes);  // records 1..5, the closing marker, its end
  auto hole = [&](std::vector<std::byte>& b, size_t from, size_t to, bool zeros) {
    std::mt19937_64 rng(from);
    for (size_t i = from; i < to; ++i) b[i] = zeros ? std::byte{0} : static_cast<std::byte>(rng() | 1);
  };
  auto scan_with = [&](bool zeros, bool keep_marker) {
    auto b = bytes;
    hole(b, starts[2], starts[3], zeros);                   // record 3
    if (!keep_marker) hole(b, starts[5], starts[6], zeros);  // the closing marker
    test::write_bytes(test::segment_path(tmp / "log", 1), b);
    return scan(tmp / "log");
  };

  SUBCASE("garbage, then the marker: corruption") {
    LogScan s = scan_with(false, true);
    REQUIRE(s.findings.size() == 1);
    CHECK(s.findings[0].kind == Finding::Kind::corrupt);
    CHECK(s.findings[0].offset == starts[2]);
    CHECK(s.findings[0].reason.find("which was synced") != std::string::npos);
    LogScan all = scan(tmp / "log", /*keep_going=*/true);
    CHECK(all.records == 4);  // 1, 2, then 4 and 5 after resynchronising
  }
  SUBCASE("zeros (a lost write), then the marker: corruption") {
    LogScan s = scan_with(true, true);
    REQUIRE(s.findings.size() == 1);
    CHECK(s.findings[0].kind == Finding::Kind::corrupt);
    CHECK(s.findings[0].offset == starts[2]);
    CHECK(s.findings[0].reason.find("zero bytes where record 3 should be") != std::string::npos);
  }
  SUBCASE("garbage, nothing synced after it: torn tail") {
    LogScan s = scan_with(false, false);
    REQUIRE(s.findings.size() == 1);
    CHECK(s.findings[0].kind == Finding::Kind::torn_tail);
    CHECK(s.findings[0].offset == starts[2]);
    CHECK(s.records == 2);
  }
  SUBCASE("zeros, nothing synced after them: the end of the log") {
    LogScan s = scan_with(true, false);
    CHECK(s.findings.empty());
    CHECK(s.records == 2);
  }
}

TEST_CASE("damage in an older segment is corruption even at its end") {
  TempDir tmp;
  test::write_log(tmp / "log", 20, test::small_log_options(400));  // a few records per segment
  auto indices = list_segments(io::posix_file_system(), tmp / "log");
  REQUIRE(indices.ok());
  REQUIRE(indices.value().size() >= 4);
  auto older = test::segment_path(tmp / "log", 2);
  auto bytes = test::read_bytes(older);
  const auto used = static_cast<long>(test::record_starts(bytes).back());

  SUBCASE("truncated") {
    test::write_bytes(older, {bytes.begin(), bytes.begin() + used - 3});
    LogScan s = scan(tmp / "log");
    REQUIRE(s.findings.size() == 1);
    CHECK(s.findings[0].kind == Finding::Kind::corrupt);
    CHECK(s.findings[0].segment_index == 2);
  }
  SUBCASE("its end mark overwritten") {
    auto copy = bytes;
    copy[static_cast<size_t>(used) + 5] = std::byte{0x55};
    test::write_bytes(older, copy);
    LogScan s = scan(tmp / "log");
    REQUIRE(s.findings.size() == 1);
    CHECK(s.findings[0].kind == Finding::Kind::corrupt);
    CHECK(s.findings[0].offset == static_cast<uint64_t>(used));
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
  test::write_log(tmp / "log", 20, test::small_log_options(400));
  auto indices = list_segments(io::posix_file_system(), tmp / "log").value();
  for (uint64_t idx : {uint64_t{1}, uint64_t{3}}) {
    auto path = test::segment_path(tmp / "log", idx);
    auto b = test::read_bytes(path);
    b[test::record_starts(b).back() - 5] ^= std::byte{0x20};  // in its last record
    test::write_bytes(path, b);
  }
  auto newest = test::segment_path(tmp / "log", indices.back());
  auto b = test::read_bytes(newest);
  test::write_bytes(newest, {b.begin(), b.begin() + static_cast<long>(test::record_starts(b).back()) - 2});
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
