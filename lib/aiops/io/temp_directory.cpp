#include "aiops/io/temp_directory.hpp"

#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>

namespace aiops::io {

Result<TempDirectory> TempDirectory::create(std::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + std::string(prefix) + "XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return error_from_errno(errno, "create a temporary directory " + tmpl);
  return TempDirectory(std::filesystem::path(tmpl));
}

TempDirectory::TempDirectory(TempDirectory&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDirectory& TempDirectory::operator=(TempDirectory&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDirectory::~TempDirectory() { remove(); }

void TempDirectory::remove() noexcept {
  if (path_.empty()) return;
  // Best effort by design: a scratch directory that cannot be removed must
  // not turn a successful run into a failure.
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace aiops::io
