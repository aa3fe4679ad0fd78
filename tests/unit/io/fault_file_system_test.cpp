#include <doctest/doctest.h>

#include <cerrno>

#include "aiops/io/fault_file_system.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

using namespace aiops;
using namespace aiops::io;
using test::TempDir;
using Mode = FaultFileSystem::CrashMode;

namespace {

std::vector<std::byte> bytes_of(std::string_view s) {
  std::vector<std::byte> b(s.size());
  for (size_t i = 0; i < s.size(); ++i) b[i] = static_cast<std::byte>(s[i]);
  return b;
}

std::string text_of(const std::filesystem::path& p) {
  auto b = test::read_bytes(p);
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// A file with "durable" synced, then " pending" written but not synced.
void durable_then_pending(FaultFileSystem& fs, const std::filesystem::path& path) {
  auto f = fs.open(path, {.create = true}).value();
  REQUIRE(write_full(*f, 0, bytes_of("durable")).ok());
  REQUIRE(f->sync_data().ok());
  REQUIRE(fs.sync_directory(path.parent_path()).ok());
  REQUIRE(write_full(*f, 7, bytes_of(" pending")).ok());
}

}  // namespace

TEST_CASE("a crash drops writes that were not synced") {
  TempDir tmp;
  FaultFileSystem fs;
  durable_then_pending(fs, tmp / "f");
  CHECK(text_of(tmp / "f") == "durable pending");
  fs.simulate_crash(Mode::drop, 1);
  CHECK(text_of(tmp / "f") == "durable");
}

TEST_CASE("a torn crash keeps a prefix of the unsynced bytes") {
  TempDir tmp;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    FaultFileSystem fs;
    durable_then_pending(fs, tmp / "f");
    fs.simulate_crash(Mode::torn, seed);
    std::string t = text_of(tmp / "f");
    CHECK(std::string("durable pending").starts_with(t));
    CHECK(t.size() >= 7);
  }
}

TEST_CASE("a garbage crash fills unsynced ranges with noise and keeps synced bytes") {
  TempDir tmp;
  FaultFileSystem fs;
  durable_then_pending(fs, tmp / "f");
  fs.simulate_crash(Mode::garbage, 3);
  std::string t = text_of(tmp / "f");
  REQUIRE(t.size() == 15);
  CHECK(t.substr(0, 7) == "durable");
  CHECK(t.substr(7) != " pending");
}

TEST_CASE("overwrites are undone to the synced contents") {
  TempDir tmp;
  FaultFileSystem fs;
  durable_then_pending(fs, tmp / "f");
  auto f = fs.open(tmp / "f", {}).value();
  REQUIRE(write_full(*f, 0, bytes_of("DUR")).ok());
  REQUIRE(f->truncate(4).ok());
  f.reset();
  fs.simulate_crash(Mode::drop, 1);
  CHECK(text_of(tmp / "f") == "durable");
}

TEST_CASE("a file created in a directory that was not synced disappears, even if its data was synced") {
  TempDir tmp;
  FaultFileSystem fs;
  {
    auto f = fs.open(tmp / "new", {.create = true}).value();
    REQUIRE(write_full(*f, 0, bytes_of("data")).ok());
    REQUIRE(f->sync_data().ok());
  }
  fs.simulate_crash(Mode::drop, 1);
  CHECK_FALSE(std::filesystem::exists(tmp / "new"));
}

TEST_CASE("renames and removals that were not synced are undone") {
  TempDir tmp;
  FaultFileSystem fs;
  for (const char* name : {"a", "b", "c"}) {
    auto f = fs.open(tmp / name, {.create = true}).value();
    REQUIRE(write_full(*f, 0, bytes_of(name)).ok());
    REQUIRE(f->sync_data().ok());
  }
  REQUIRE(fs.sync_directory(tmp.path()).ok());
  REQUIRE(fs.rename(tmp / "a", tmp / "b").ok());  // replaces b
  REQUIRE(fs.remove(tmp / "c").ok());
  CHECK(text_of(tmp / "b") == "a");
  CHECK_FALSE(std::filesystem::exists(tmp / "c"));
  CHECK(fs.list(tmp.path()).value().size() == 1);
  fs.simulate_crash(Mode::drop, 1);
  CHECK(text_of(tmp / "a") == "a");
  CHECK(text_of(tmp / "b") == "b");
  CHECK(text_of(tmp / "c") == "c");
}

TEST_CASE("synced renames and removals survive a crash") {
  TempDir tmp;
  FaultFileSystem fs;
  for (const char* name : {"a", "c"}) {
    auto f = fs.open(tmp / name, {.create = true}).value();
    REQUIRE(write_full(*f, 0, bytes_of(name)).ok());
    REQUIRE(f->sync_data().ok());
  }
  REQUIRE(fs.sync_directory(tmp.path()).ok());
  REQUIRE(fs.rename(tmp / "a", tmp / "b").ok());
  REQUIRE(fs.remove(tmp / "c").ok());
  REQUIRE(fs.sync_directory(tmp.path()).ok());
  fs.simulate_crash(Mode::drop, 1);
  CHECK_FALSE(std::filesystem::exists(tmp / "a"));
  CHECK(text_of(tmp / "b") == "a");
  CHECK_FALSE(std::filesystem::exists(tmp / "c"));
  CHECK(std::distance(std::filesystem::directory_iterator(tmp.path()), {}) == 1);
}

TEST_CASE("injected errors fail exactly the chosen call") {
  TempDir tmp;
  FaultFileSystem fs;
  auto f = fs.open(tmp / "f", {.create = true}).value();
  fs.fail_call(FaultFileSystem::Op::write, 2, ENOSPC);
  CHECK(f->write_at(0, bytes_of("x")).ok());
  auto second = f->write_at(1, bytes_of("y"));
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code() == Errc::no_space);
  CHECK(f->write_at(1, bytes_of("y")).ok());
  fs.fail_calls_from(FaultFileSystem::Op::sync_data, 1, EIO);
  CHECK(f->sync_data().error().code() == Errc::io_error);
  CHECK(f->sync_data().error().code() == Errc::io_error);
}

TEST_CASE("short writes are completed by write_full") {
  TempDir tmp;
  FaultFileSystem fs;
  auto f = fs.open(tmp / "f", {.create = true}).value();
  fs.short_write(1, 3);
  auto n = f->write_at(0, bytes_of("abcdefgh"));
  REQUIRE(n.ok());
  CHECK(n.value() == 3);
  fs.short_write(1, 2);
  REQUIRE(write_full(*f, 0, bytes_of("abcdefgh")).ok());
  CHECK(text_of(tmp / "f") == "abcdefgh");
}

TEST_CASE("a gathered write cut short is completed by write_full, part boundaries and all") {
  TempDir tmp;
  FaultFileSystem fs;
  auto f = fs.open(tmp / "f", {.create = true}).value();
  auto a = bytes_of("abc"), b = bytes_of(""), c = bytes_of("defgh");
  std::vector<std::span<const std::byte>> parts{a, b, c};
  fs.short_write(1, 2);  // "ab"
  fs.short_write(2, 3);  // "cde": across the empty part into the next
  REQUIRE(write_full(*f, 10, parts).ok());
  CHECK(text_of(tmp / "f").substr(10) == "abcdefgh");
  CHECK(fs.calls(FaultFileSystem::Op::write) == 3);
}

TEST_CASE("writes lost to a failed fdatasync stay lost after a later successful one") {
  TempDir tmp;
  FaultFileSystem fs;
  durable_then_pending(fs, tmp / "f");
  auto f = fs.open(tmp / "f", {}).value();
  REQUIRE(write_full(*f, 0, bytes_of("DURABLE")).ok());
  fs.fail_call(FaultFileSystem::Op::sync_data, 1, EIO);
  CHECK_FALSE(f->sync_data().ok());
  CHECK(f->sync_data().ok());
  f.reset();
  fs.simulate_crash(Mode::drop, 1);
  CHECK(text_of(tmp / "f").substr(0, 7) == "durable");
}

TEST_CASE("after the crash point every call fails until the crash is simulated") {
  TempDir tmp;
  FaultFileSystem fs;
  auto f = fs.open(tmp / "f", {.create = true}).value();
  fs.crash_before(2);
  CHECK(f->write_at(0, bytes_of("a")).ok());
  auto w = f->write_at(1, bytes_of("b"));
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().code() == Errc::crashed);
  std::vector<std::byte> one(1);
  CHECK(f->read_at(0, one).error().code() == Errc::crashed);
  CHECK(fs.is_down());
  f.reset();
  fs.simulate_crash(Mode::drop, 1);
  CHECK_FALSE(fs.is_down());
  CHECK_FALSE(std::filesystem::exists(tmp / "f"));  // its creation was never synced
}
