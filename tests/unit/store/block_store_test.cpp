#include <doctest/doctest.h>

#include <atomic>
#include <random>
#include <thread>

#include "aiops/store/block_store.hpp"
#include "support/files.hpp"
#include "support/log_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace aiops;
using namespace aiops::store;
using test::TempDir;

namespace {

StoreOptions small_store(const std::filesystem::path& dir) {
  StoreOptions o;
  o.data_dir = dir;
  o.volumes = {{"vol0", 1, 1 << 20}, {"vol1", 2, 1 << 20}};
  o.log = test::small_log_options(64 << 10);
  o.checkpoint_interval = std::chrono::hours(1);  // only when asked, unless a test says otherwise
  return o;
}

std::vector<std::byte> read(BlockStore& s, uint32_t vol, uint64_t off, size_t len) {
  std::vector<std::byte> out(len);
  REQUIRE(s.read(vol, off, out).ok());
  return out;
}

WriteRequest write_of(uint32_t vol, uint64_t off, const std::vector<std::byte>& data) {
  return {1, vol, off, data, wal::Durability::written, {}};
}

}  // namespace

TEST_CASE("a read after an acknowledged write returns it, from the log and after a checkpoint") {
  TempDir tmp;
  auto store = BlockStore::open(io::posix_file_system(), small_store(tmp.path())).value();
  auto a = test::payload_for(1, 3000), b = test::payload_for(2, 1000);
  REQUIRE(store->write(write_of(1, 100, a)).ok());
  REQUIRE(store->write(write_of(1, 1100, b)).ok());
  std::vector<std::byte> expected(4000);
  std::copy(a.begin(), a.end(), expected.begin() + 100);
  std::copy(b.begin(), b.end(), expected.begin() + 1100);
  CHECK(read(*store, 1, 0, 4000) == expected);
  CHECK(store->stats().index_pieces == 3);
  REQUIRE(store->checkpoint_now().ok());
  CHECK(store->stats().index_pieces == 0);
  CHECK(read(*store, 1, 0, 4000) == expected);
  CHECK(read(*store, 2, 0, 4000) == std::vector<std::byte>(4000));
}

TEST_CASE("data survives closing and reopening the store") {
  TempDir tmp;
  auto a = test::payload_for(7, 5000);
  {
    auto store = BlockStore::open(io::posix_file_system(), small_store(tmp.path())).value();
    REQUIRE(store->write(write_of(2, 12345, a)).ok());
  }
  auto store = BlockStore::open(io::posix_file_system(), small_store(tmp.path())).value();
  CHECK(read(*store, 2, 12345, a.size()) == a);
  CHECK(store->stats().index_pieces == 0);  // replayed into the volume on open
}

TEST_CASE("bad extents are refused before anything is written") {
  TempDir tmp;
  auto store = BlockStore::open(io::posix_file_system(), small_store(tmp.path())).value();
  auto a = test::payload_for(1, 10);
  CHECK(store->write(write_of(9, 0, a)).error().code() == Errc::not_found);
  CHECK(store->write(write_of(1, (1 << 20) - 5, a)).error().code() == Errc::invalid_argument);
  std::vector<std::byte> none;
  CHECK(store->write(write_of(1, 0, none)).error().code() == Errc::invalid_argument);
  std::vector<std::byte> out(10);
  auto r = store->read(1, (1 << 20) - 5, out);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == Errc::invalid_argument);
  CHECK(store->stats().log.records == 0);
}

TEST_CASE("readers see their own acknowledged writes while checkpoints recycle segments") {
  TempDir tmp;
  StoreOptions opt = small_store(tmp.path());
  opt.log = test::small_log_options(16 << 10);  // many segments
  opt.checkpoint_interval = std::chrono::milliseconds(5);
  opt.checkpoint_bytes = 32 << 10;
  auto store = BlockStore::open(io::posix_file_system(), opt).value();
  constexpr int threads = 4;
  std::atomic<int> mismatches{0}, failures{0}, orphans{0};
  std::atomic<bool> done{false};
  std::thread checker([&] {
    while (!done) {
      if (!store->check_index().ok()) ++orphans;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<uint64_t>(t) + 1);
      const uint64_t region = static_cast<uint64_t>(t) * (256 << 10);  // each writer owns a region
      for (int i = 0; i < 300; ++i) {
        auto data = test::payload_for(static_cast<uint64_t>(t * 1000 + i), 1 + rng() % 3000);
        uint64_t off = region + rng() % ((256 << 10) - data.size());
        auto w = store->write(write_of(1, off, data));
        if (!w.ok()) {
          ++failures;
          return;
        }
        std::vector<std::byte> back(data.size());
        if (!store->read(1, off, back).ok()) ++failures;
        else if (back != data) ++mismatches;
      }
    });
  }
  for (auto& th : ts) th.join();
  done = true;
  checker.join();
  CHECK(failures == 0);
  CHECK(mismatches == 0);
  CHECK(orphans == 0);
  CHECK(store->check_index().ok());
  CHECK(store->stats().checkpoints > 1);
}

namespace {

// Counts completions of asynchronous writes; owns their payloads.
struct AsyncWrites {
  struct One final : WriteCompletion {
    AsyncWrites* owner = nullptr;
    std::vector<std::byte> data;
    void write_done(const Result<wal::Appended>& r) noexcept override {
      if (!r.ok()) owner->failed.fetch_add(1);
      owner->in_flight.fetch_sub(1);
    }
  };
  std::atomic<int> in_flight{0}, failed{0};
};

}  // namespace

TEST_CASE("the read index never points into a retired segment, however acknowledgements and checkpoints interleave") {
  TempDir tmp;
  StoreOptions opt = small_store(tmp.path());
  opt.log = test::small_log_options(8 << 10);
  opt.log.max_spare_segments = 2;
  auto store = BlockStore::open(io::posix_file_system(), opt).value();
  AsyncWrites writes;
  std::vector<std::unique_ptr<AsyncWrites::One>> slots(64);
  std::atomic<bool> done{false};
  std::atomic<int> orphans{0}, checkpoint_errors{0};
  std::thread checkpointer([&] {
    while (!done) {
      if (!store->checkpoint_now().ok()) ++checkpoint_errors;
      if (!store->check_index().ok()) ++orphans;
    }
  });
  std::mt19937_64 rng(99);
  for (int i = 0; i < 20000; ++i) {
    // Completions come in order: with fewer than 64 in flight, the write
    // that used this slot 64 writes ago is done.
    while (writes.in_flight.load() >= static_cast<int>(slots.size())) std::this_thread::yield();
    auto& slot = slots[static_cast<size_t>(i) % slots.size()];
    slot = std::make_unique<AsyncWrites::One>();
    slot->owner = &writes;
    slot->data = test::payload_for(static_cast<uint64_t>(i), 200 + rng() % 800);
    writes.in_flight.fetch_add(1);
    uint64_t off = rng() % ((1 << 20) - 1000);
    if (!store->write({1, 1, off, slot->data, wal::Durability::written, {}}, *slot).ok()) FAIL("write refused");
  }
  while (writes.in_flight.load() > 0) std::this_thread::yield();
  done = true;
  checkpointer.join();
  CHECK(writes.failed == 0);
  CHECK(checkpoint_errors == 0);
  CHECK(orphans == 0);
  CHECK(store->check_index().ok());
}
