#include "aiops/volume/volume_set.hpp"

#include <algorithm>

namespace aiops::volume {

std::filesystem::path image_path(const std::filesystem::path& dir, std::string_view name) {
  return dir / (std::string(name) + ".img");
}

Result<std::unique_ptr<VolumeSet>> VolumeSet::open(io::FileSystem& fs, const std::filesystem::path& dir,
                                                   const std::vector<VolumeSpec>& specs) {
  AIOPS_TRY(io::create_directories(fs, dir));
  auto set = std::unique_ptr<VolumeSet>(new VolumeSet());
  bool created = false;
  for (const VolumeSpec& spec : specs) {
    std::filesystem::path path = image_path(dir, spec.name);
    AIOPS_ASSIGN(bool existed, fs.exists(path));
    AIOPS_ASSIGN(auto file, fs.open(path, {.create = true}));
    AIOPS_ASSIGN(uint64_t size, file->size());
    if (size > spec.size_bytes)
      return Error(Errc::invalid_argument, "volume " + spec.name + ": image " + path.string() + " holds " +
                                               std::to_string(size) + " bytes but the volume is configured with " +
                                               std::to_string(spec.size_bytes) + "; shrinking would cut off data");
    if (size < spec.size_bytes) {
      AIOPS_TRY(file->truncate(spec.size_bytes));
      AIOPS_TRY(file->sync_data());
    }
    created = created || !existed;
    auto image = std::make_unique<Image>();
    image->spec = spec;
    image->file = std::move(file);
    set->images_.push_back(std::move(image));
  }
  if (created) AIOPS_TRY(fs.sync_directory(dir));
  return set;
}

const VolumeSpec* VolumeSet::find(uint32_t id) const {
  for (const auto& img : images_)
    if (img->spec.id == id) return &img->spec;
  return nullptr;
}

const VolumeSpec* VolumeSet::find(std::string_view name) const {
  for (const auto& img : images_)
    if (img->spec.name == name) return &img->spec;
  return nullptr;
}

Result<VolumeSet::Image*> VolumeSet::image_for(uint32_t id, uint64_t offset, uint64_t length) {
  auto it = std::find_if(images_.begin(), images_.end(), [&](const auto& img) { return img->spec.id == id; });
  if (it == images_.end()) return Error(Errc::not_found, "volume id " + std::to_string(id) + " is not configured");
  Image* img = it->get();
  if (offset > img->spec.size_bytes || length > img->spec.size_bytes - offset)
    return Error(Errc::invalid_argument, "volume " + img->spec.name + ": extent at offset " + std::to_string(offset) +
                                             " of " + std::to_string(length) + " bytes ends beyond the volume size " +
                                             std::to_string(img->spec.size_bytes));
  return img;
}

Status VolumeSet::write(uint32_t id, uint64_t offset, std::span<const std::byte> data) {
  AIOPS_ASSIGN(Image * img, image_for(id, offset, data.size()));
  img->dirty.store(true, std::memory_order_release);
  return io::write_full(*img->file, offset, data);
}

Status VolumeSet::read(uint32_t id, uint64_t offset, std::span<std::byte> out) {
  AIOPS_ASSIGN(Image * img, image_for(id, offset, out.size()));
  AIOPS_ASSIGN(size_t n, io::read_full(*img->file, offset, out));
  // The image is as large as the volume; a short read means someone cut it.
  if (n != out.size())
    return Error(Errc::io_error, "volume " + img->spec.name + ": image ends early at offset " +
                                     std::to_string(offset + n));
  return {};
}

Status VolumeSet::sync() {
  for (auto& img : images_) {
    // Clear first: a write racing with this sync sets it again and is synced next time.
    if (img->dirty.exchange(false, std::memory_order_acq_rel)) {
      Status s = img->file->sync_data();
      if (!s.ok()) {
        img->dirty.store(true, std::memory_order_release);
        return s;
      }
    }
  }
  return {};
}

}  // namespace aiops::volume
