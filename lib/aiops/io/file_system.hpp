#pragma once
// The one interface through which the log and the volumes touch files.
//
// Everything that must survive a crash (log segments, the checkpoint file,
// volume images) is written through a FileSystem, so tests can substitute
// FaultFileSystem (io/fault_file_system.hpp) and inject EIO, ENOSPC, short
// writes, failed fdatasync and machine crashes that drop unsynced data.
//
// Durability model, which callers must follow and FaultFileSystem enforces:
//  * data written with write_at is durable only after sync_data on that file;
//  * a created, renamed or removed directory entry is durable only after
//    sync_directory on the directory that holds it;
//  * write_at and read_at may transfer fewer bytes than asked for; use
//    write_full / read_full unless you handle that yourself.
//
// Thread-safety: a FileSystem may be used from many threads. A File may be
// used from many threads for positional I/O (as pread/pwrite); size changes
// (truncate) need external ordering.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "aiops/core/error.hpp"

namespace aiops::io {

struct OpenOptions {
  bool create = false;     // create when missing
  bool exclusive = false;  // with create: fail with already_exists if present
  bool read_only = false;
};

class File {
 public:
  virtual ~File() = default;

  /// Writes up to data.size() bytes at `offset`; returns how many were written
  /// (at least one on success, unless data is empty).
  [[nodiscard]] virtual Result<size_t> write_at(uint64_t offset, std::span<const std::byte> data) = 0;
  /// Writes the concatenation of `parts` at `offset` with one call (pwritev);
  /// returns how many bytes were written, which may be fewer than all.
  [[nodiscard]] virtual Result<size_t> write_parts_at(uint64_t offset, std::span<const std::span<const std::byte>> parts) = 0;
  /// Reads up to out.size() bytes at `offset`; 0 means end of file.
  [[nodiscard]] virtual Result<size_t> read_at(uint64_t offset, std::span<std::byte> out) = 0;
  /// fdatasync: the file's data and size are on stable storage once this succeeds.
  [[nodiscard]] virtual Status sync_data() = 0;
  /// Starts writing `length` bytes at `offset` to the device without waiting
  /// (sync_file_range with SYNC_FILE_RANGE_WRITE), so that a later sync_data
  /// finds little left to write. A hint: it makes nothing durable, and it
  /// reports nothing, because a write-back error it meets stays recorded
  /// for the file and the next sync_data fails with it, which is the check
  /// that counts. The default does nothing.
  virtual void start_writeback(uint64_t offset, uint64_t length) {
    (void)offset;
    (void)length;
  }
  [[nodiscard]] virtual Status truncate(uint64_t size) = 0;
  [[nodiscard]] virtual Result<uint64_t> size() = 0;
  [[nodiscard]] virtual const std::filesystem::path& path() const = 0;
};

/// A held exclusive lock; released when destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  [[nodiscard]] virtual Result<std::unique_ptr<File>> open(const std::filesystem::path& path,
                                                           OpenOptions options) = 0;
  [[nodiscard]] virtual Status remove(const std::filesystem::path& path) = 0;
  /// Atomically replaces `to` (same directory).
  [[nodiscard]] virtual Status rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  /// Creates the directory (not its parents); succeeds when it already exists.
  [[nodiscard]] virtual Status create_directory(const std::filesystem::path& path) = 0;
  /// fsync of a directory: makes its entries (creations, renames, removals) durable.
  [[nodiscard]] virtual Status sync_directory(const std::filesystem::path& path) = 0;
  /// Names of the entries in `dir`, without "." and "..", in no particular order.
  [[nodiscard]] virtual Result<std::vector<std::string>> list(const std::filesystem::path& dir) = 0;
  [[nodiscard]] virtual Result<bool> exists(const std::filesystem::path& path) = 0;
  /// Takes an exclusive advisory lock on `path` (created if missing) without
  /// waiting; Errc::busy when another process or handle holds it.
  [[nodiscard]] virtual Result<std::unique_ptr<FileLock>> lock(const std::filesystem::path& path) = 0;
};

/// The real thing: POSIX calls on the local file system. Lives for the process.
[[nodiscard]] FileSystem& posix_file_system();

/// Writes all of `data` at `offset`, continuing after short writes.
[[nodiscard]] Status write_full(File& file, uint64_t offset, std::span<const std::byte> data);
/// Writes all of the concatenation of `parts` at `offset`, continuing after
/// short writes.
[[nodiscard]] Status write_full(File& file, uint64_t offset, std::span<const std::span<const std::byte>> parts);
/// Reads until `out` is full or the file ends; returns the bytes read.
[[nodiscard]] Result<size_t> read_full(File& file, uint64_t offset, std::span<std::byte> out);
/// The whole of a small text file (configuration, state).
[[nodiscard]] Result<std::string> read_text(FileSystem& fs, const std::filesystem::path& path);
/// Creates `dir` and any missing parents, syncing each parent whose entries changed.
[[nodiscard]] Status create_directories(FileSystem& fs, const std::filesystem::path& dir);

}  // namespace aiops::io
