// The speculative buffer in one process, over a real block store in a
// temporary directory: writes are answered by the validator, reads see the
// newest valid entry, apply moves entries into the log in rank order, a FUA
// write waits for the apply, an entry left WRITING by a dead writer is
// discarded, and a full buffer refuses the lower-ranked client first.

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "aiops/config/config_loader.hpp"
#include "aiops/core/checksum.hpp"
#include "aiops/io/file_system.hpp"
#include "aiops/specbuf/buffer.hpp"
#include "aiops/worker/worker.hpp"
#include "support/temp_dir.hpp"

using aiops::net::Status;
using aiops::specbuf::Buffer;
using aiops::specbuf::Intake;

namespace {

aiops::config::Config make_config(const std::filesystem::path& dir, const std::string& name, const std::string& buffer) {
  const std::string text = "[worker]\nname = \"" + name + "\"\ndata_dir = \"" + (dir / "data").string() +
                           "\"\n[buffer]\n" + buffer + R"(
[[volume]]
name = "vol-a"
id = 1
size = "1MiB"

[[volume]]
name = "vol-b"
id = 2
size = "64KiB"

[sla.gold]
weight = 4

[sla.bronze]
weight = 1

[[client]]
name = "hi"
id = 1
sla = "gold"
token_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
access = { "vol-a" = "rw", "vol-b" = "ro" }

[[client]]
name = "lo"
id = 2
sla = "bronze"
token_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdee"
access = { "vol-a" = "rw" }
)";
  return aiops::config::parse_config(text, dir / "aiops.toml");
}

// Remembers the answer the buffer gives one write.
class Waiter final : public aiops::specbuf::BufferWaiter {
 public:
  void buffer_done(Status status, uint32_t retry_after_ms) noexcept override {
    std::lock_guard lock(mu_);
    status_ = status;
    retry_ = retry_after_ms;
    cv_.notify_all();
  }
  std::optional<Status> wait(std::chrono::milliseconds for_ = std::chrono::seconds(5)) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, for_, [&] { return status_.has_value(); });
    return status_;
  }
  std::optional<Status> now() {
    std::lock_guard lock(mu_);
    return status_;
  }
  uint32_t retry() {
    std::lock_guard lock(mu_);
    return retry_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Status> status_;
  uint32_t retry_ = 0;
};

std::vector<std::byte> block(char fill, size_t n = 4096) { return std::vector<std::byte>(n, std::byte(fill)); }

struct Fixture {
  aiops::test::TempDir dir;
  aiops::config::Config config;
  std::unique_ptr<aiops::store::BlockStore> store;
  std::unique_ptr<Buffer> buffer;

  explicit Fixture(const std::string& buffer_text = "size = \"1MiB\"\nmax_entries = 64\n")
      : config(make_config(dir.path(), "buftest",  // the segment name also hashes the data directory
                           buffer_text)) {
    auto s = aiops::store::BlockStore::open(aiops::io::posix_file_system(), aiops::worker::store_options(config));
    REQUIRE(s.ok());
    store = std::move(s).value();
    open(Buffer::Mode::worker);
  }
  ~Fixture() {
    buffer.reset();
    (void)aiops::specbuf::Segment::remove(aiops::specbuf::Segment::name_for(config.worker.name, config.worker.data_dir));
  }
  void open(Buffer::Mode mode) {
    buffer.reset();
    auto b = Buffer::open(config, mode);
    REQUIRE_MESSAGE(b.ok(), (b.ok() ? "" : b.error().message()));
    buffer = std::move(b).value();
  }
  aiops::specbuf::IntakeResult write(uint32_t client, uint32_t volume, uint64_t offset, const std::vector<std::byte>& data,
                                     Waiter& w, bool fua = false) {
    return buffer->write(client, volume, offset, data, aiops::checksum64(data), fua, w);
  }
  std::vector<std::byte> read(uint32_t volume, uint64_t offset, size_t n) {
    std::vector<std::byte> out(n);
    REQUIRE(buffer->read(volume, offset, out, [&](std::span<std::byte> o) { return store->read(volume, offset, o); }).ok());
    return out;
  }
};

}  // namespace

TEST_CASE("buffer: writes go to the log until the intake is switched; reads see the newest valid entry") {
  Fixture f;
  Waiter before;
  CHECK(f.write(1, 1, 0, block('a'), before).outcome == Intake::log);
  REQUIRE(f.buffer->switch_intake(true).ok());
  Waiter w1, w2, w3;
  REQUIRE(f.write(1, 1, 0, block('b'), w1).outcome == Intake::taken);
  REQUIRE(f.write(2, 1, 2048, block('c'), w2).outcome == Intake::taken);  // overlaps the second half
  REQUIRE(f.write(1, 1, 8192, block('d', 512), w3).outcome == Intake::taken);
  CHECK(w1.wait() == Status::ok);
  CHECK(w2.wait() == Status::ok);
  CHECK(w3.wait() == Status::ok);
  auto got = f.read(1, 0, 8192 + 512);
  CHECK(got[0] == std::byte('b'));
  CHECK(got[2047] == std::byte('b'));
  CHECK(got[2048] == std::byte('c'));
  CHECK(got[6143] == std::byte('c'));
  CHECK(got[6144] == std::byte(0));
  CHECK(got[8192] == std::byte('d'));

  auto applied = f.buffer->apply(*f.store);
  REQUIRE(applied.ok());
  CHECK(applied->entries == 3);
  CHECK(f.buffer->segment().occupancy().entries == 0);
  // Now from the store alone, and the same through the buffer.
  std::vector<std::byte> below(8192 + 512);
  REQUIRE(f.store->read(1, 0, below).ok());
  CHECK(below == got);
  CHECK(f.read(1, 0, 8192 + 512) == got);
}

TEST_CASE("buffer: the validator answers each bad entry with its own status") {
  Fixture f;
  REQUIRE(f.buffer->switch_intake(true).ok());
  Waiter corrupt, read_only, unknown_volume, beyond, good;
  auto data = block('x');
  REQUIRE(f.buffer->write(1, 1, 0, data, aiops::checksum64(data) ^ 1, false, corrupt).outcome == Intake::taken);
  REQUIRE(f.write(1, 2, 0, data, read_only).outcome == Intake::taken);
  REQUIRE(f.write(1, 9, 0, data, unknown_volume).outcome == Intake::taken);
  REQUIRE(f.write(1, 1, (1 << 20) - 2048, data, beyond).outcome == Intake::taken);
  REQUIRE(f.write(1, 1, 4096, data, good).outcome == Intake::taken);
  CHECK(corrupt.wait() == Status::checksum_mismatch);
  CHECK(corrupt.retry() > 0);
  CHECK(read_only.wait() == Status::access_denied);
  CHECK(unknown_volume.wait() == Status::unknown_volume);
  CHECK(beyond.wait() == Status::out_of_range);
  CHECK(good.wait() == Status::ok);
  CHECK(f.buffer->segment().header().rejected.load() == 4);
  // Rejected entries at the tail give their space back at once.
  CHECK(f.buffer->segment().occupancy().entries == 1);
  // Rejected entries are never read or applied.
  CHECK(f.read(1, 0, 4096) == block(0));
  auto applied = f.buffer->apply(*f.store);
  REQUIRE(applied.ok());
  CHECK(applied->entries == 1);
}

TEST_CASE("buffer: a FUA write and a FLUSH are answered only once the entries are applied") {
  Fixture f;
  REQUIRE(f.buffer->switch_intake(true).ok());
  Waiter plain, fua, flush;
  REQUIRE(f.write(1, 1, 0, block('p'), plain).outcome == Intake::taken);
  REQUIRE(f.write(1, 1, 4096, block('f'), fua, /*fua=*/true).outcome == Intake::taken);
  CHECK(plain.wait() == Status::ok);
  f.buffer->flush(flush);
  auto validated = f.buffer->validate();
  REQUIRE(validated.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(fua.now().has_value());
  CHECK_FALSE(flush.now().has_value());
  REQUIRE(f.buffer->apply(*f.store).ok());
  CHECK(fua.wait() == Status::ok);
  CHECK(flush.wait() == Status::ok);
}

TEST_CASE("buffer: an entry left WRITING by a dead writer is discarded, never applied") {
  Fixture f;
  REQUIRE(f.buffer->switch_intake(true).ok());
  Waiter done;
  REQUIRE(f.write(1, 1, 0, block('v'), done).outcome == Intake::taken);
  REQUIRE(done.wait() == Status::ok);
  // A writer that reserved and died before publishing.
  auto r = f.buffer->segment().reserve(4096, 1.0);
  REQUIRE(r.has_value());
  r->entry->client = 1;
  r->entry->volume = 1;
  r->entry->offset = 0;
  std::memset(r->payload, 'w', 4096);
  const uint64_t discarded_before = f.buffer->segment().header().discarded.load();
  f.open(Buffer::Mode::offline);  // the next process to attach
  auto v = f.buffer->validate();
  REQUIRE(v.ok());
  CHECK(v->discarded == 1);
  CHECK(f.buffer->segment().header().discarded.load() == discarded_before + 1);
  CHECK(f.read(1, 0, 4096) == block('v'));  // the valid entry, not the discarded one
  auto applied = f.buffer->apply(*f.store);
  REQUIRE(applied.ok());
  CHECK(applied->entries == 1);
  std::vector<std::byte> below(4096);
  REQUIRE(f.store->read(1, 0, below).ok());
  CHECK(below == block('v'));
  CHECK(f.buffer->segment().occupancy().entries == 0);
}

TEST_CASE("buffer: when full, the lower-ranked client is refused first and told to wait longer") {
  Fixture f("size = \"1MiB\"\nmax_entries = 100\n");
  aiops::specbuf::PriorityList list{"file", {{"hi", 1, 10.0, 1}, {"lo", 2, 1.0, 2}}, std::nullopt};
  f.buffer->publish_priorities(list);
  REQUIRE(f.buffer->switch_intake(true).ok());
  std::vector<std::unique_ptr<Waiter>> waiters;
  auto data = block('z', 512);
  unsigned lo_taken = 0;
  for (;;) {
    waiters.push_back(std::make_unique<Waiter>());
    auto r = f.write(2, 1, lo_taken * 512 % (1 << 20), data, *waiters.back());
    if (r.outcome != Intake::taken) {
      CHECK(r.outcome == Intake::full);
      CHECK(r.retry_after_ms > 0);
      break;
    }
    ++lo_taken;
  }
  CHECK(lo_taken == 80);  // the last rank may fill 80% of the entries
  // The first-ranked client still gets the rest, with a shorter retry hint
  // once it too is refused.
  unsigned hi_taken = 0;
  uint32_t hi_retry = 0;
  for (;;) {
    waiters.push_back(std::make_unique<Waiter>());
    auto r = f.write(1, 1, hi_taken * 512, data, *waiters.back());
    if (r.outcome != Intake::taken) {
      hi_retry = r.retry_after_ms;
      break;
    }
    ++hi_taken;
  }
  CHECK(hi_taken == 20);
  CHECK(hi_retry < f.buffer->retry_after_ms(2));
  for (size_t i = 0; i < waiters.size(); ++i)
    if (i != lo_taken && i != waiters.size() - 1) CHECK(waiters[i]->wait() == Status::ok);
  REQUIRE(f.buffer->apply(*f.store).ok());
}
