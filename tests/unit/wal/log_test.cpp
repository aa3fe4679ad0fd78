#include <doctest/doctest.h>

#include <map>
#include <thread>

#include "aiops/wal/checkpoint_file.hpp"
#include "aiops/wal/checkpointer.hpp"
#include "aiops/volume/volume_set.hpp"
#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace aiops;
using namespace aiops::wal;
using test::TempDir;

TEST_CASE("sequence numbers continue after reopening; closing adds one marker") {
  TempDir tmp;
  test::write_log(tmp / "log", 10);  // records 1..10, marker 11
  {
    auto idle = Log::open(io::posix_file_system(), tmp / "log", test::small_log_options());
    REQUIRE(idle.ok());  // opened and closed with nothing new: no second marker
  }
  auto log = Log::open(io::posix_file_system(), tmp / "log", test::small_log_options());
  REQUIRE(log.ok());
  CHECK(log.value()->recovery().records == 10);
  CHECK(log.value()->recovery().next_sequence == 12);
  auto p = test::payload_for(11);
  auto r = log.value()->append({1, 1, 0, p, Durability::written, {}});
  REQUIRE(r.ok());
  CHECK(r.value().sequence == 12);
}

TEST_CASE("records read back with their exact payloads") {
  TempDir tmp;
  test::write_log(tmp / "log", 25);
  auto records = test::read_records(tmp / "log");
  REQUIRE(records.size() == 25);
  for (uint64_t i = 1; i <= 25; ++i) {
    CHECK(records[i - 1].first == i);
    CHECK(records[i - 1].second == test::payload_for(i));
  }
}

TEST_CASE("concurrent appenders each see their own order kept and no sequence is lost") {
  TempDir tmp;
  constexpr int threads = 8, per_thread = 300;
  std::vector<std::vector<uint64_t>> seqs(threads);
  {
    LogOptions opt;
    opt.segment_bytes = 64 << 10;  // several segment rolls
    auto log = Log::open(io::posix_file_system(), tmp / "log", opt).value();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          auto p = test::payload_for(static_cast<uint64_t>(t * per_thread + i), 100);
          auto d = i % 3 == 0 ? Durability::durable : Durability::written;
          auto r = log->append({static_cast<uint32_t>(t), 1, static_cast<uint64_t>(i), p, d, {}});
          if (!r.ok()) return;  // the count check below fails
          seqs[t].push_back(r.value().sequence);
        }
      });
    }
    for (auto& th : ts) th.join();
    CHECK(log->stats().records == threads * per_thread);
    CHECK(log->stats().batches <= log->stats().records);
  }
  std::vector<uint64_t> all;
  for (auto& s : seqs) {
    CHECK(s.size() == per_thread);
    CHECK(std::is_sorted(s.begin(), s.end()));
    all.insert(all.end(), s.begin(), s.end());
  }
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i] == i + 1);
  auto records = test::read_records(tmp / "log");
  CHECK(records.size() == threads * per_thread);
}

TEST_CASE("a durable append is covered by the durable sequence when it returns") {
  TempDir tmp;
  auto log = Log::open(io::posix_file_system(), tmp / "log", test::small_log_options()).value();
  auto p = test::payload_for(1);
  auto w = log->append({1, 1, 0, p, Durability::written, {}});
  REQUIRE(w.ok());
  auto d = log->append({1, 1, 0, p, Durability::durable, {}});
  REQUIRE(d.ok());
  CHECK(log->durable_sequence() >= d.value().sequence);
  CHECK(log->stats().syncs >= 1);
}

TEST_CASE("sync makes every earlier written append durable") {
  TempDir tmp;
  auto log = Log::open(io::posix_file_system(), tmp / "log", test::small_log_options()).value();
  auto p = test::payload_for(1);
  uint64_t last = 0;
  for (int i = 0; i < 5; ++i) last = log->append({1, 1, 0, p, Durability::written, {}}).value().sequence;
  REQUIRE(log->sync().ok());
  CHECK(log->durable_sequence() >= last);
}

TEST_CASE("a second owner of the same log directory is refused") {
  TempDir tmp;
  auto first = Log::open(io::posix_file_system(), tmp / "log", test::small_log_options());
  REQUIRE(first.ok());
  auto second = Log::open(io::posix_file_system(), tmp / "log", test::small_log_options());
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code() == Errc::busy);
  CHECK(second.error().message().find("LOCK") != std::string::npos);
}

TEST_CASE("a record larger than a segment gets a segment of its own") {
  TempDir tmp;
  LogOptions opt;
  opt.segment_bytes = 1024;
  {
    auto log = Log::open(io::posix_file_system(), tmp / "log", opt).value();
    auto small = test::payload_for(1, 100);
    auto big = test::payload_for(2, 5000);
    REQUIRE(log->append({1, 1, 0, small, Durability::written, {}}).ok());
    REQUIRE(log->append({1, 1, 0, big, Durability::written, {}}).ok());
    REQUIRE(log->append({1, 1, 0, small, Durability::written, {}}).ok());
    CHECK(log->segments().size() == 3);
  }
  LogScan s;
  auto records = test::read_records(tmp / "log", &s);
  CHECK(s.findings.empty());
  CHECK(records.size() == 3);
}

namespace {

std::vector<volume::VolumeSpec> one_volume() { return {{"vol0", 1, 1 << 20}}; }

}  // namespace

TEST_CASE("a checkpoint applies records to the volume and removes applied segments") {
  TempDir tmp;
  LogOptions opt;
  opt.segment_bytes = 2048;
  auto log = Log::open(io::posix_file_system(), tmp / "log", opt).value();
  auto vols = volume::VolumeSet::open(io::posix_file_system(), tmp / "volumes", one_volume()).value();
  std::map<uint64_t, std::vector<std::byte>> expected;  // offset -> last payload
  for (uint64_t i = 1; i <= 60; ++i) {
    auto p = test::payload_for(i, 256);
    uint64_t off = (i % 7) * 256;
    REQUIRE(log->append({1, 1, off, p, Durability::written, {}}).ok());
    expected[off] = p;
  }
  size_t before = log->segments().size();
  REQUIRE(before > 3);
  auto cp = checkpoint(*log, *vols);
  REQUIRE(cp.ok());
  CHECK(cp.value().applied_through == 61);  // 60 records and the marker of the checkpoint's sync
  CHECK(cp.value().records == 60);
  CHECK(cp.value().segments_removed == before - 1);
  CHECK(log->segments().size() == 1);
  CHECK(read_checkpoint_file(io::posix_file_system(), tmp / "log").value() == 61);
  for (auto& [off, p] : expected) {
    std::vector<std::byte> got(256);
    REQUIRE(vols->read(1, off, got).ok());
    CHECK(got == p);
  }
}

TEST_CASE("after a checkpoint, reopening replays nothing twice and keeps the count") {
  TempDir tmp;
  {
    auto log = Log::open(io::posix_file_system(), tmp / "log", test::small_log_options()).value();
    auto vols = volume::VolumeSet::open(io::posix_file_system(), tmp / "volumes", one_volume()).value();
    auto p = test::payload_for(1, 64);
    for (int i = 0; i < 10; ++i) REQUIRE(log->append({1, 1, 0, p, Durability::written, {}}).ok());
    REQUIRE(checkpoint(*log, *vols).ok());
    for (int i = 0; i < 3; ++i) REQUIRE(log->append({1, 1, 0, p, Durability::written, {}}).ok());
  }
  // 1..10, the checkpoint's marker 11, 12..14, the closing marker 15.
  auto log = Log::open(io::posix_file_system(), tmp / "log", test::small_log_options()).value();
  CHECK(log->recovery().applied_through == 11);
  CHECK(log->recovery().next_sequence == 16);
}

TEST_CASE("retired segments become spares and new segments reuse them") {
  TempDir tmp;
  LogOptions opt = test::small_log_options(2048);
  opt.max_spare_segments = 3;
  auto log = Log::open(io::posix_file_system(), tmp / "log", opt).value();
  auto vols = volume::VolumeSet::open(io::posix_file_system(), tmp / "volumes", one_volume()).value();
  auto p = test::payload_for(1, 500);
  for (int i = 0; i < 30; ++i) REQUIRE(log->append({1, 1, 0, p, Durability::written, {}}).ok());
  REQUIRE(log->segments().size() > 5);
  REQUIRE(log->spare_count() == 0);
  auto cp = checkpoint(*log, *vols);
  REQUIRE(cp.ok());
  CHECK(log->spare_count() == 3);  // the rest were removed
  size_t files = std::distance(std::filesystem::directory_iterator(tmp / "log"), {});
  for (int i = 0; i < 8; ++i) REQUIRE(log->append({1, 1, 0, p, Durability::written, {}}).ok());
  CHECK(log->spare_count() < 3);   // taken by new segments, no new files
  CHECK(std::distance(std::filesystem::directory_iterator(tmp / "log"), {}) == static_cast<long>(files));
  log.reset();
  LogScan scan;
  auto records = test::read_records(tmp / "log", &scan);
  CHECK(scan.findings.empty());    // the old records in reused files stay behind the end marks
}

TEST_CASE("a checkpoint refuses records for an unknown volume and keeps them") {
  TempDir tmp;
  auto log = Log::open(io::posix_file_system(), tmp / "log", test::small_log_options()).value();
  auto vols = volume::VolumeSet::open(io::posix_file_system(), tmp / "volumes", one_volume()).value();
  auto p = test::payload_for(1, 64);
  REQUIRE(log->append({1, 9, 0, p, Durability::written, {}}).ok());
  auto cp = checkpoint(*log, *vols);
  REQUIRE_FALSE(cp.ok());
  CHECK(cp.error().code() == Errc::not_found);
  CHECK(cp.error().message().find("volume id 9") != std::string::npos);
  CHECK(read_checkpoint_file(io::posix_file_system(), tmp / "log").value() == 0);
}

TEST_CASE("volume images refuse extents outside the volume and refuse to shrink") {
  TempDir tmp;
  {
    auto vols = volume::VolumeSet::open(io::posix_file_system(), tmp / "v", one_volume()).value();
    std::vector<std::byte> b(4096);
    CHECK(vols->write(1, (1 << 20) - 4096, b).ok());
    auto out = vols->write(1, (1 << 20) - 4095, b);
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().code() == Errc::invalid_argument);
    CHECK(vols->write(2, 0, b).error().code() == Errc::not_found);
  }
  auto shrunk = volume::VolumeSet::open(io::posix_file_system(), tmp / "v", {{"vol0", 1, 1 << 19}});
  REQUIRE_FALSE(shrunk.ok());
  CHECK(shrunk.error().message().find("shrinking") != std::string::npos);
}
