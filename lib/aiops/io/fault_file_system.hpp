#pragma once
// A FileSystem for tests that injects faults and simulates machine crashes.
//
// It passes every call to a real FileSystem (normally POSIX, on a temporary
// directory) and remembers what is not yet durable under the rules of
// io/file_system.hpp:
//  * per file, every write and truncate since the last successful sync_data,
//    with the bytes it replaced (an undo record);
//  * per directory, every creation, rename and removal since the last
//    sync_directory (removed files are parked under a hidden name so a crash
//    can bring them back).
//
// Faults:
//  * fail_call(op, n, errno): the n-th call of `op` from now fails with errno
//    (EIO, ENOSPC, ...) and has no effect; fail_calls_from keeps failing;
//  * short_write(n, max_bytes): the n-th write transfers at most max_bytes;
//  * a failed sync_data (injected) behaves like Linux after a writeback
//    error: the writes it should have made durable are lost at the next crash
//    even if a later sync_data succeeds;
//  * start_writeback hints are recorded (writebacks()) and passed on; they
//    change nothing the crash model keeps, and are neither faults nor points;
//  * crash_before(point): every call that changes files or directories is a
//    numbered "point" (1, 2, ...). When call number `point` arrives, the
//    machine is down: that call and every later call fail with Errc::crashed.
//    Use points() after a clean run to learn how many points a scenario has.
//
// simulate_crash(mode, seed) then rewrites the real files into what the disk
// would hold after the crash and "reboots" (all later calls work again, and
// everything present counts as durable):
//  * drop:    every unsynced write and truncate is undone;
//  * torn:    the unsynced writes of each file are kept up to a random byte
//             (in the order they were issued) and undone after it;
//  * garbage: every byte range written since the last sync holds random bytes;
// and in every mode unsynced creations, renames and removals are undone.
//
// Thread-safety: all members may be called from any thread. Files opened
// before simulate_crash must be closed before it is called.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "aiops/io/file_system.hpp"

namespace aiops::io {

class FaultFileSystem final : public FileSystem {
 public:
  enum class Op { open, write, read, sync_data, truncate, size, remove, rename, create_directory, sync_directory, list };
  enum class CrashMode { drop, torn, garbage };

  explicit FaultFileSystem(FileSystem& base = posix_file_system());
  ~FaultFileSystem() override;

  void fail_call(Op op, uint64_t nth, int sys_errno);
  void fail_calls_from(Op op, uint64_t nth, int sys_errno);
  void short_write(uint64_t nth, size_t max_bytes);
  void crash_before(uint64_t point);
  /// Mutating calls seen so far (the numbering crash_before uses).
  [[nodiscard]] uint64_t points() const;
  [[nodiscard]] bool is_down() const;
  /// Counts of calls per op since construction (for assertions in tests).
  [[nodiscard]] uint64_t calls(Op op) const;
  struct Writeback {
    std::filesystem::path path;
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  /// Every File::start_writeback call so far, in order.
  [[nodiscard]] std::vector<Writeback> writebacks() const;
  void simulate_crash(CrashMode mode, uint64_t seed);

  Result<std::unique_ptr<File>> open(const std::filesystem::path& path, OpenOptions options) override;
  Status remove(const std::filesystem::path& path) override;
  Status rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status create_directory(const std::filesystem::path& path) override;
  Status sync_directory(const std::filesystem::path& path) override;
  Result<std::vector<std::string>> list(const std::filesystem::path& dir) override;
  Result<bool> exists(const std::filesystem::path& path) override;
  Result<std::unique_ptr<FileLock>> lock(const std::filesystem::path& path) override;

 private:
  friend class FaultFile;

  // One unsynced change to a file's contents, with what it replaced.
  struct Change {
    bool is_truncate = false;
    uint64_t offset = 0;             // write: where; truncate: the new size
    uint64_t length = 0;             // write: bytes written
    uint64_t size_before = 0;        // file size before the change
    std::vector<std::byte> replaced; // bytes overwritten (write) or cut off (truncate)
  };
  struct FileState {
    std::vector<Change> unsynced;  // since the last successful sync_data
    std::vector<Change> doomed;    // lost by a failed sync_data
  };
  // One unsynced directory entry change, undone by a crash.
  struct EntryChange {
    enum Kind { created, renamed, removed } kind;
    std::filesystem::path path;    // created/removed: the entry; renamed: the new name
    std::filesystem::path from;    // renamed: the old name
    std::filesystem::path parked;  // removed, or the target a rename replaced: where it is kept
  };
  struct Rule {
    Op op;
    uint64_t nth;  // absolute call number
    int sys_errno;
    bool sticky;
  };

  // Called at the start of every call; fails when a rule or a crash says so.
  Status enter(Op op, const std::filesystem::path& path, bool mutating);
  size_t write_limit();
  void record_write(const std::filesystem::path& path, uint64_t offset, uint64_t length, uint64_t size_before,
                    std::vector<std::byte> replaced);
  void record_truncate(const std::filesystem::path& path, uint64_t new_size, uint64_t size_before,
                       std::vector<std::byte> cut);
  void record_synced(const std::filesystem::path& path, bool failed);
  void record_entry(EntryChange change);
  std::filesystem::path park_name(const std::filesystem::path& path);

  void crash_file(const std::filesystem::path& path, FileState& state, CrashMode mode, std::mt19937_64& rng);
  void undo_entries();

  FileSystem& base_;
  mutable std::mutex mu_;
  std::map<std::filesystem::path, FileState> files_;
  std::map<std::filesystem::path, std::vector<EntryChange>> entries_;  // by directory
  std::vector<Rule> rules_;
  std::map<uint64_t, size_t> short_writes_;  // write call number -> max bytes
  std::map<Op, uint64_t> calls_;
  std::vector<Writeback> writebacks_;
  uint64_t points_ = 0;
  uint64_t crash_point_ = 0;  // 0 = none
  bool down_ = false;
  uint64_t parked_ = 0;
};

}  // namespace aiops::io
