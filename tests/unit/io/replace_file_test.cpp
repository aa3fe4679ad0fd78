#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "aiops/io/fault_file_system.hpp"
#include "aiops/io/replace_file.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

using namespace aiops;
using namespace aiops::io;
using test::TempDir;

namespace {

std::string text_of(const std::filesystem::path& p) {
  auto b = test::read_bytes(p);
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("replace_file creates a file of mode 0600 with the contents") {
  TempDir tmp;
  REQUIRE(replace_file(posix_file_system(), tmp / "a.toml", "one\n").ok());
  CHECK(text_of(tmp / "a.toml") == "one\n");
  CHECK(mode_of(tmp / "a.toml") == 0600);
  CHECK_FALSE(std::filesystem::exists(tmp / "a.toml.tmp"));
}

TEST_CASE("replace_file replaces a world-readable file with a private one") {
  TempDir tmp;
  std::ofstream(tmp / "a.toml") << "old contents that are longer\n";
  std::filesystem::permissions(tmp / "a.toml", std::filesystem::perms(0644));
  REQUIRE(replace_file(posix_file_system(), tmp / "a.toml", "new\n").ok());
  CHECK(text_of(tmp / "a.toml") == "new\n");
  CHECK(mode_of(tmp / "a.toml") == 0600);
}

TEST_CASE("replace_file does not reuse a stale temporary file and its mode") {
  TempDir tmp;
  std::ofstream(tmp / "a.toml.tmp") << "left by a crash";
  std::filesystem::permissions(tmp / "a.toml.tmp", std::filesystem::perms(0666));
  REQUIRE(replace_file(posix_file_system(), tmp / "a.toml", "new\n").ok());
  CHECK(mode_of(tmp / "a.toml") == 0600);
  CHECK_FALSE(std::filesystem::exists(tmp / "a.toml.tmp"));
}

TEST_CASE("a failed write leaves the old file and no temporary file") {
  TempDir tmp;
  std::ofstream(tmp / "a.toml") << "old\n";
  FaultFileSystem fs;
  fs.fail_call(FaultFileSystem::Op::sync_data, 1, EIO);
  Status status = replace_file(fs, tmp / "a.toml", "new\n");
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().code() == Errc::io_error);
  CHECK(text_of(tmp / "a.toml") == "old\n");
  CHECK_FALSE(std::filesystem::exists(tmp / "a.toml.tmp"));
}

TEST_CASE("a crash after replace_file keeps the new contents") {
  TempDir tmp;
  FaultFileSystem fs;
  REQUIRE(replace_file(fs, tmp / "a.toml", "new\n").ok());
  fs.simulate_crash(FaultFileSystem::CrashMode::drop, 1);
  CHECK(text_of(tmp / "a.toml") == "new\n");
}
