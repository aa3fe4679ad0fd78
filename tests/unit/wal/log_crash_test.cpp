// The log against the fault-injecting file system: crashes at every point of
// a scripted workload, failed fdatasync, write errors and short writes.

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <cerrno>
#include <thread>

#include "aiops/io/fault_file_system.hpp"
#include "aiops/volume/volume_set.hpp"
#include "aiops/wal/checkpointer.hpp"
#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace aiops;
using namespace aiops::wal;
using io::FaultFileSystem;
using test::TempDir;

namespace {

constexpr uint64_t script_records = 40;
constexpr uint64_t volume_bytes = 64 << 10;
const std::vector<volume::VolumeSpec> volumes{{"vol0", 1, volume_bytes}};

uint64_t offset_of(uint64_t i) { return (i % 13) * 200; }
std::vector<std::byte> payload_of(uint64_t i) { return test::payload_for(i, 50 + (i * 31) % 100); }

struct Outcome {
  uint64_t issued = 0;                     // records 1..issued were handed to the log
  uint64_t durable_through = 0;            // highest record index acknowledged as durable
  std::map<uint64_t, uint64_t> index_of;   // sequence -> record index, for acknowledged appends
};

// Appends records (every third durable), a sync() barrier and a checkpoint,
// with small segments so that rolls and segment removal happen too. Stops at
// the first failure, as a crashed process would.
void run_script(io::FileSystem& fs, const std::filesystem::path& dir, Outcome& out, Preallocation prealloc) {
  LogOptions opt;
  opt.segment_bytes = 1024;
  opt.preallocation = prealloc;
  auto log = Log::open(fs, dir / "log", opt);
  if (!log.ok()) return;
  auto vols = volume::VolumeSet::open(fs, dir / "volumes", volumes);
  if (!vols.ok()) return;
  for (uint64_t i = 1; i <= script_records; ++i) {
    auto p = payload_of(i);
    bool durable = i % 3 == 0;
    out.issued = i;
    auto r = log.value()->append({1, 1, offset_of(i), p, durable ? Durability::durable : Durability::written, {}});
    if (!r.ok()) return;
    out.index_of[r.value().sequence] = i;
    if (durable) out.durable_through = i;
    if (i == 16) {
      if (!log.value()->sync().ok()) return;
      out.durable_through = i;
    }
    if (i == 25 && !checkpoint(*log.value(), *vols.value()).ok()) return;
  }
}

// What must hold after any crash: the log opens without corruption; the
// records after the checkpoint are exactly the issued records that follow
// the applied ones, in order and with their bytes, through at least the last
// durable acknowledgement; and a checkpoint then leaves the volume exactly as
// applying records 1..m in order would.
void check_recovered(const std::filesystem::path& dir, const Outcome& out) {
  const LogOptions opt = test::small_log_options(1024);
  uint64_t applied = 0;
  {
    auto log = Log::open(io::posix_file_system(), dir / "log", opt);
    REQUIRE_MESSAGE(log.ok(), log.error().message());
    applied = log.value()->recovery().applied_through;
  }
  LogScan scan;
  auto records = test::read_records(dir / "log", &scan);
  CHECK(scan.findings.empty());
  // Segments may still hold applied records; only the rest must be replayed.
  std::erase_if(records, [&](const auto& r) { return r.first <= applied; });
  uint64_t last_applied = 0;  // record index of the last applied record
  for (auto& [seq, i] : out.index_of)
    if (seq <= applied) last_applied = i;
  uint64_t m = last_applied;
  for (auto& [seq, payload] : records) {
    ++m;
    INFO("record with sequence " << seq << " should be record " << m);
    auto known = out.index_of.find(seq);
    // An append the crash interrupted may or may not have made it.
    CHECK((known != out.index_of.end() ? known->second : out.issued) == m);
    CHECK(payload == payload_of(m));
  }
  CHECK(m >= out.durable_through);
  CHECK(m <= out.issued);
  auto log = Log::open(io::posix_file_system(), dir / "log", opt).value();
  auto vols = volume::VolumeSet::open(io::posix_file_system(), dir / "volumes", volumes);
  REQUIRE(vols.ok());
  REQUIRE(checkpoint(*log, *vols.value()).ok());
  std::vector<std::byte> expected(volume_bytes), got(volume_bytes);
  for (uint64_t i = 1; i <= m; ++i) {
    auto p = payload_of(i);
    std::copy(p.begin(), p.end(), expected.begin() + static_cast<long>(offset_of(i)));
  }
  REQUIRE(vols.value()->read(1, 0, got).ok());
  CHECK(got == expected);
}

}  // namespace

TEST_CASE("a crash at every write and sync point loses no durable record and invents none") {
  for (auto prealloc : {Preallocation::inline_, Preallocation::none}) {
    uint64_t points = 0;
    {
      TempDir tmp;
      FaultFileSystem fs;
      Outcome out;
      run_script(fs, tmp.path(), out, prealloc);
      REQUIRE(out.issued == script_records);
      points = fs.points();
    }
    REQUIRE(points > 100);
    MESSAGE("crash points in the script: " << points);
    for (auto mode : {FaultFileSystem::CrashMode::drop, FaultFileSystem::CrashMode::torn,
                      FaultFileSystem::CrashMode::garbage}) {
      for (uint64_t point = 1; point <= points; ++point) {
        TempDir tmp;
        Outcome out;
        {
          FaultFileSystem fs;
          fs.crash_before(point);
          run_script(fs, tmp.path(), out, prealloc);
          CHECK(fs.is_down());
          fs.simulate_crash(mode, point * 3 + static_cast<uint64_t>(mode));
        }
        INFO("preallocation " << static_cast<int>(prealloc) << ", mode " << static_cast<int>(mode)
                              << ", crash before point " << point << " of " << points << ", issued " << out.issued
                              << ", durable through " << out.durable_through);
        check_recovered(tmp.path(), out);
      }
    }
  }
}

TEST_CASE("a failed fdatasync fails every member of its batch and every later append") {
  TempDir tmp;
  FaultFileSystem fs;
  auto log = Log::open(fs, tmp / "log", test::small_log_options()).value();
  fs.fail_call(FaultFileSystem::Op::sync_data, 5, EIO);
  constexpr int threads = 6;
  std::vector<std::vector<Result<Appended>>> results(threads);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      auto p = test::payload_for(static_cast<uint64_t>(t), 300);
      for (int i = 0; i < 40; ++i) {
        auto d = i % 2 == 0 ? Durability::durable : Durability::written;
        results[t].push_back(log->append({static_cast<uint32_t>(t), 1, 0, p, d, {}}));
      }
    });
  }
  for (auto& th : ts) th.join();
  REQUIRE(log->failure().has_value());
  CHECK(log->failure()->code() == Errc::log_failed);
  CHECK(log->failure()->message().find("injected fault: fdatasync") != std::string::npos);
  const uint64_t durable = log->durable_sequence();
  uint64_t succeeded = 0, failed = 0;
  for (auto& rs : results) {
    bool seen_failure = false;
    for (size_t i = 0; i < rs.size(); ++i) {
      const auto& r = rs[i];
      if (r.ok()) {
        CHECK_FALSE(seen_failure);  // nothing succeeds after a failure
        if (i % 2 == 0) CHECK(r.value().sequence <= durable);  // no durable ack beyond what was synced
        ++succeeded;
      } else {
        seen_failure = true;
        CHECK(r.error().code() == Errc::log_failed);
        ++failed;
      }
    }
  }
  CHECK(succeeded > 0);
  CHECK(failed > 0);
  auto p = test::payload_for(1);
  CHECK(log->append({1, 1, 0, p, Durability::written, {}}).error().code() == Errc::log_failed);
  CHECK_FALSE(log->sync().ok());
}

TEST_CASE("write errors fail the log; reopening recovers every acknowledged record") {
  for (int err : {EIO, ENOSPC}) {
    TempDir tmp;
    uint64_t acked = 0;
    {
      FaultFileSystem fs;
      auto log = Log::open(fs, tmp / "log", test::small_log_options()).value();
      fs.fail_call(FaultFileSystem::Op::write, 7, err);
      for (uint64_t i = 1; i <= 20; ++i) {
        auto p = test::payload_for(i);
        auto r = log->append({1, 1, 0, p, Durability::durable, {}});
        if (!r.ok()) {
          CHECK(r.error().code() == Errc::log_failed);
          break;
        }
        acked = r.value().sequence;
      }
      CHECK(acked == 6);
    }
    auto records = test::read_records(tmp / "log");
    CHECK(records.size() == acked);
  }
}

TEST_CASE("a failed segment creation fails the log") {
  TempDir tmp;
  FaultFileSystem fs;
  LogOptions opt;
  opt.segment_bytes = 512;
  opt.preallocation = Preallocation::none;
  auto log = Log::open(fs, tmp / "log", opt).value();
  fs.fail_call(FaultFileSystem::Op::open, 1, ENOSPC);
  std::optional<Error> error;
  for (uint64_t i = 1; i <= 20 && !error; ++i) {
    auto p = test::payload_for(i, 200);
    auto r = log->append({1, 1, 0, p, Durability::written, {}});
    if (!r.ok()) error = r.error();
  }
  REQUIRE(error.has_value());
  CHECK(error->code() == Errc::log_failed);
  CHECK(error->message().find("No space left") != std::string::npos);
}

TEST_CASE("short writes are completed and leave intact records") {
  TempDir tmp;
  {
    FaultFileSystem fs;
    auto log = Log::open(fs, tmp / "log", test::small_log_options()).value();
    for (uint64_t i = 1; i <= 10; ++i) {
      fs.short_write(1, 1 + i * 7);
      auto p = test::payload_for(i);
      REQUIRE(log->append({1, 1, 0, p, Durability::durable, {}}).ok());
    }
  }
  LogScan scan;
  auto records = test::read_records(tmp / "log", &scan);
  CHECK(scan.findings.empty());
  REQUIRE(records.size() == 10);
  for (uint64_t i = 1; i <= 10; ++i) CHECK(records[i - 1].second == test::payload_for(i));
}
