// POSIX implementation of io::FileSystem, and the helpers every caller uses.

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <string>
#include <vector>

#include "aiops/io/file_system.hpp"

namespace aiops::io {
namespace {

std::string at(const std::filesystem::path& path, uint64_t offset) {
  return path.string() + " at offset " + std::to_string(offset);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}

  Result<size_t> write_at(uint64_t offset, std::span<const std::byte> data) override {
    while (true) {
      ssize_t n = ::pwrite(fd_.get(), data.data(), data.size(), static_cast<off_t>(offset));
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return error_from_errno(errno, "write " + at(path_, offset));
    }
  }

  Result<size_t> write_parts_at(uint64_t offset, std::span<const std::span<const std::byte>> parts) override {
    iovec iov[256];
    size_t count = std::min(parts.size(), std::size(iov));
    for (size_t i = 0; i < count; ++i) iov[i] = {const_cast<std::byte*>(parts[i].data()), parts[i].size()};
    while (true) {
      ssize_t n = ::pwritev(fd_.get(), iov, static_cast<int>(count), static_cast<off_t>(offset));
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return error_from_errno(errno, "write " + at(path_, offset));
    }
  }

  Result<size_t> read_at(uint64_t offset, std::span<std::byte> out) override {
    while (true) {
      ssize_t n = ::pread(fd_.get(), out.data(), out.size(), static_cast<off_t>(offset));
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return error_from_errno(errno, "read " + at(path_, offset));
    }
  }

  Status sync_data() override {
    // No retry on EINTR or anything else: after a failed fdatasync the kernel
    // may already have dropped the dirty pages, so "retry until it works"
    // would report data as durable that is gone. The caller must give up.
    if (::fdatasync(fd_.get()) != 0) return error_from_errno(errno, "fdatasync " + path_.string());
    return {};
  }

  void start_writeback(uint64_t offset, uint64_t length) override {
    // The result is not looked at (see File::start_writeback).
    (void)::sync_file_range(fd_.get(), static_cast<off_t>(offset), static_cast<off_t>(length), SYNC_FILE_RANGE_WRITE);
  }

  Status truncate(uint64_t size) override {
    if (::ftruncate(fd_.get(), static_cast<off_t>(size)) != 0)
      return error_from_errno(errno, "truncate " + path_.string() + " to " + std::to_string(size) + " bytes");
    return {};
  }

  Result<uint64_t> size() override {
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) return error_from_errno(errno, "stat " + path_.string());
    return static_cast<uint64_t>(st.st_size);
  }

  const std::filesystem::path& path() const override { return path_; }

 private:
  Fd fd_;
  std::filesystem::path path_;
};

class PosixLock final : public FileLock {
 public:
  explicit PosixLock(int fd) : fd_(fd) {}

 private:
  Fd fd_;  // closing the descriptor releases the flock
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> open(const std::filesystem::path& path, OpenOptions options) override {
    int flags = O_CLOEXEC | (options.read_only ? O_RDONLY : O_RDWR);
    if (options.create) flags |= O_CREAT;
    if (options.create && options.exclusive) flags |= O_EXCL;
    int fd = ::open(path.c_str(), flags, 0600);
    if (fd < 0) return error_from_errno(errno, "open " + path.string());
    return std::unique_ptr<File>(std::make_unique<PosixFile>(fd, path));
  }

  Status remove(const std::filesystem::path& path) override {
    if (::unlink(path.c_str()) != 0) return error_from_errno(errno, "remove " + path.string());
    return {};
  }

  Status rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0)
      return error_from_errno(errno, "rename " + from.string() + " to " + to.string());
    return {};
  }

  Status create_directory(const std::filesystem::path& path) override {
    if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return {};
    return error_from_errno(errno, "create directory " + path.string());
  }

  Status sync_directory(const std::filesystem::path& path) override {
    Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return error_from_errno(errno, "open directory " + path.string());
    if (::fsync(fd.get()) != 0) return error_from_errno(errno, "fsync directory " + path.string());
    return {};
  }

  Result<std::vector<std::string>> list(const std::filesystem::path& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return error_from_errno(errno, "list directory " + dir.string());
    std::vector<std::string> names;
    errno = 0;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return error_from_errno(err, "list directory " + dir.string());
    return names;
  }

  Result<bool> exists(const std::filesystem::path& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT) return false;
    return error_from_errno(errno, "stat " + path.string());
  }

  Result<std::unique_ptr<FileLock>> lock(const std::filesystem::path& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return error_from_errno(errno, "open lock file " + path.string());
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK)
        return Error(Errc::busy, path.string() + " is locked by another process (is a worker running on this data directory?)");
      return error_from_errno(err, "lock " + path.string());
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixLock>(fd));
  }
};

}  // namespace

FileSystem& posix_file_system() {
  static PosixFileSystem fs;
  return fs;
}

Status write_full(File& file, uint64_t offset, std::span<const std::byte> data) {
  while (!data.empty()) {
    AIOPS_ASSIGN(size_t n, file.write_at(offset, data));
    if (n == 0) return Error(Errc::io_error, "write " + at(file.path(), offset) + ": no progress (0 bytes written)");
    data = data.subspan(n);
    offset += n;
  }
  return {};
}

Status write_full(File& file, uint64_t offset, std::span<const std::span<const std::byte>> parts) {
  std::vector<std::span<const std::byte>> rest(parts.begin(), parts.end());
  size_t first = 0;  // rest[first..] is still to write
  while (first < rest.size()) {
    if (rest[first].empty()) {
      ++first;
      continue;
    }
    AIOPS_ASSIGN(size_t n, file.write_parts_at(offset, std::span(rest).subspan(first)));
    if (n == 0) return Error(Errc::io_error, "write " + at(file.path(), offset) + ": no progress (0 bytes written)");
    offset += n;
    while (n > 0) {
      size_t take = std::min(n, rest[first].size());
      rest[first] = rest[first].subspan(take);
      n -= take;
      if (rest[first].empty()) ++first;
    }
  }
  return {};
}

Result<size_t> read_full(File& file, uint64_t offset, std::span<std::byte> out) {
  size_t total = 0;
  while (total < out.size()) {
    AIOPS_ASSIGN(size_t n, file.read_at(offset + total, out.subspan(total)));
    if (n == 0) break;
    total += n;
  }
  return total;
}

Result<std::string> read_text(FileSystem& fs, const std::filesystem::path& path) {
  AIOPS_ASSIGN(auto handle, fs.open(path, {.read_only = true}));
  AIOPS_ASSIGN(uint64_t size, handle->size());
  std::string text(size, '\0');
  AIOPS_ASSIGN(size_t got, read_full(*handle, 0, std::as_writable_bytes(std::span(text.data(), text.size()))));
  // Writers replace such files by rename, so the open file does not change
  // under us; a shorter read means someone truncated it, and the caller's
  // parser says so.
  text.resize(got);
  return text;
}

Status create_directories(FileSystem& fs, const std::filesystem::path& dir) {
  if (dir.empty()) return {};
  AIOPS_ASSIGN(bool present, fs.exists(dir));
  if (present) return {};
  std::filesystem::path parent = dir.parent_path();
  if (!parent.empty() && parent != dir) AIOPS_TRY(create_directories(fs, parent));
  AIOPS_TRY(fs.create_directory(dir));
  return fs.sync_directory(parent.empty() ? std::filesystem::path(".") : parent);
}

}  // namespace aiops::io
