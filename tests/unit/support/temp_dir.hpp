#pragma once
// A fresh directory under $TMPDIR for one test, removed with everything in
// it when the object goes out of scope.

#include <filesystem>
#include <stdexcept>
#include <string>

#include "aiops/io/temp_directory.hpp"

namespace aiops::test {

class TempDir {
 public:
  TempDir() : dir_(make()) {}

  [[nodiscard]] const std::filesystem::path& path() const { return dir_.path(); }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return dir_.path() / name; }

 private:
  static io::TempDirectory make() {
    auto dir = io::TempDirectory::create("aiops-test-");
    if (!dir.ok()) throw std::runtime_error(dir.error().message());
    return std::move(dir).value();
  }

  io::TempDirectory dir_;
};

}  // namespace aiops::test
