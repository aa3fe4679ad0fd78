#include "aiops/io/replace_file.hpp"

#include <cstddef>
#include <span>
#include <string>

namespace aiops::io {
namespace {

Status write_and_sync(FileSystem& fs, const std::filesystem::path& tmp, std::string_view contents) {
  AIOPS_ASSIGN(auto file, fs.open(tmp, {.create = true, .exclusive = true}));
  auto bytes = std::as_bytes(std::span(contents.data(), contents.size()));
  AIOPS_TRY(write_full(*file, 0, bytes));
  return file->sync_data();
}

}  // namespace

Status replace_file(FileSystem& fs, const std::filesystem::path& path, std::string_view contents) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  if (Status removed = fs.remove(tmp); !removed.ok() && removed.error().code() != Errc::not_found) return removed;
  Status written = write_and_sync(fs, tmp, contents);
  if (written.ok()) written = fs.rename(tmp, path);
  if (!written.ok()) {
    // The write already failed; a leftover temporary file is removed on the
    // next attempt, so its removal failing here adds nothing to report.
    (void)fs.remove(tmp);
    return written;
  }
  std::filesystem::path dir = path.parent_path();
  return fs.sync_directory(dir.empty() ? std::filesystem::path(".") : dir);
}

}  // namespace aiops::io
