#pragma once
// Volume images: the backing store the log is applied to.
//
// Each configured volume is one sparse image file, <data_dir>/volumes/<name>.img,
// exactly as large as the volume. Byte i of the volume is byte i of the file;
// there is no header, so an image can be inspected or copied with ordinary
// tools when no worker runs. All I/O goes through io::FileSystem.
//
// Opening creates missing images (sparse), grows images when the
// configuration grew the volume, and refuses to shrink one (that would cut
// off data).
//
// Thread-safety: reads and writes of different or the same volume may run
// concurrently (positional I/O); sync() may run concurrently with them and
// covers every write that completed before it started.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "aiops/core/error.hpp"
#include "aiops/io/file_system.hpp"
#include "aiops/wal/checkpointer.hpp"

namespace aiops::volume {

struct VolumeSpec {
  std::string name;
  uint32_t id = 0;
  uint64_t size_bytes = 0;
};

class VolumeSet final : public wal::VolumeWriter {
 public:
  /// Opens (and creates or grows) the images of `specs` under `dir`.
  [[nodiscard]] static Result<std::unique_ptr<VolumeSet>> open(io::FileSystem& fs, const std::filesystem::path& dir,
                                                               const std::vector<VolumeSpec>& specs);

  /// Nothing when `id` is not a configured volume.
  [[nodiscard]] const VolumeSpec* find(uint32_t id) const;
  [[nodiscard]] const VolumeSpec* find(std::string_view name) const;

  /// Bounds-checked positional I/O on volume `id`.
  [[nodiscard]] Status write(uint32_t id, uint64_t offset, std::span<const std::byte> data) override;
  [[nodiscard]] Status read(uint32_t id, uint64_t offset, std::span<std::byte> out);
  [[nodiscard]] Status sync() override;

 private:
  struct Image {
    VolumeSpec spec;
    std::unique_ptr<io::File> file;
    std::atomic<bool> dirty{false};
  };
  Result<Image*> image_for(uint32_t id, uint64_t offset, uint64_t length);

  std::vector<std::unique_ptr<Image>> images_;
};

/// "<dir>/<name>.img"
[[nodiscard]] std::filesystem::path image_path(const std::filesystem::path& dir, std::string_view name);

}  // namespace aiops::volume
