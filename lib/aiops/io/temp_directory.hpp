#pragma once
// A fresh private directory under $TMPDIR (mkdtemp, mode 0700), removed with
// everything in it when the object is destroyed. For scratch runs of the
// tools and for tests; not for anything that must survive the process.

#include <filesystem>
#include <string_view>

#include "aiops/core/error.hpp"

namespace aiops::io {

class TempDirectory {
 public:
  /// Creates "$TMPDIR/<prefix>XXXXXX" (/tmp when TMPDIR is unset or empty).
  [[nodiscard]] static Result<TempDirectory> create(std::string_view prefix);

  TempDirectory(TempDirectory&& other) noexcept;
  TempDirectory& operator=(TempDirectory&& other) noexcept;
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;
  ~TempDirectory();

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  explicit TempDirectory(std::filesystem::path path) : path_(std::move(path)) {}
  void remove() noexcept;

  std::filesystem::path path_;  // empty once moved from
};

}  // namespace aiops::io
