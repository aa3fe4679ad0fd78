#include <doctest/doctest.h>

#include <map>
#include <mutex>
#include <thread>

#include "aiops/io/fault_file_system.hpp"
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

namespace {

// Records the sequence of every completion, in the order they run.
struct AckOrder {
  struct One final : AppendCompletion {
    AckOrder* owner = nullptr;
    void complete(const Result<Appended>& r) noexcept override {
      std::lock_guard lock(owner->mu);
      if (r.ok()) owner->sequences.push_back(r.value().sequence);
      else ++owner->failed;
    }
  };
  std::mutex mu;
  std::vector<uint64_t> sequences;
  int failed = 0;
};

}  // namespace

// Rounds without FUA are acknowledged by the committer when nothing is
// ahead of them and by the syncer otherwise; either way the
// acknowledgements must come in sequence order.
TEST_CASE("asynchronous appends are acknowledged in sequence order, written and durable mixed") {
  TempDir tmp;
  constexpr int threads = 2, per_thread = 400;
  AckOrder order;
  std::vector<std::vector<AckOrder::One>> done(threads, std::vector<AckOrder::One>(per_thread));
  auto payload = test::payload_for(7, 512);
  {
    LogOptions opt;
    opt.segment_bytes = 128 << 10;  // segment rolls in between
    auto log = Log::open(io::posix_file_system(), tmp / "log", opt).value();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          auto& one = done[t][i];
          one.owner = &order;
          // Now and then a FUA write, whose fdatasync the written rounds
          // after it must not overtake; the pauses make small rounds.
          auto d = i % 10 == 0 ? Durability::durable : Durability::written;
          log->append_async({static_cast<uint32_t>(t), 1, static_cast<uint64_t>(i) * 512, payload, d, {}}, one);
          std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
      });
    }
    for (auto& th : ts) th.join();
  }  // closing the log waits for every acknowledgement
  CHECK(order.failed == 0);
  REQUIRE(order.sequences.size() == threads * per_thread);
  size_t out_of_order = 0;
  for (size_t i = 0; i < order.sequences.size(); ++i) out_of_order += order.sequences[i] != i + 1;
  CHECK(out_of_order == 0);
}

TEST_CASE("write-back of the active segment starts every writeback_bytes, so leaving a segment syncs little") {
  TempDir tmp;
  io::FaultFileSystem fs;
  LogOptions opt = test::small_log_options(1 << 20);
  opt.writeback_bytes = 64 << 10;
  auto log = Log::open(fs, tmp / "log", opt).value();
  auto p = test::payload_for(1, 4096);
  for (int i = 0; i < 600; ++i) REQUIRE(log->append({1, 1, 0, p, Durability::written, {}}).ok());  // 3 segments
  const auto segments = log->segments();
  REQUIRE(segments.size() >= 3);
  // Per segment file, the ranges follow one another from the end of its
  // header, each at least writeback_bytes long.
  std::map<std::filesystem::path, uint64_t> started;
  for (const auto& w : fs.writebacks()) {
    auto [it, first] = started.emplace(w.path, segment_header_bytes);
    CHECK(w.offset == it->second);
    CHECK(w.length >= opt.writeback_bytes);
    it->second = w.offset + w.length;
  }
  // Every segment, the active one too, has all but its last writeback_bytes
  // under way.
  for (const auto& s : segments) {
    auto it = started.find(std::filesystem::absolute(test::segment_path(tmp / "log", s.index)).lexically_normal());
    REQUIRE(it != started.end());
    CHECK(it->second <= s.end_offset);
    CHECK(s.end_offset - it->second < opt.writeback_bytes + 4096 + record_header_bytes);
  }

  TempDir other;
  io::FaultFileSystem quiet;
  opt.writeback_bytes = 0;  // off
  auto off = Log::open(quiet, other / "log", opt).value();
  for (int i = 0; i < 100; ++i) REQUIRE(off->append({1, 1, 0, p, Durability::written, {}}).ok());
  CHECK(quiet.writebacks().empty());
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
