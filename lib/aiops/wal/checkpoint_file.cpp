#include "aiops/wal/checkpoint_file.hpp"

#include <cstring>

#include "aiops/core/checksum.hpp"
#include "aiops/core/endian.hpp"

namespace aiops::wal {
namespace {
constexpr char checkpoint_magic[8] = {'A', 'I', 'O', 'P', 'S', 'C', 'K', 'P'};
constexpr uint16_t checkpoint_version = 1;
}  // namespace

Result<uint64_t> read_checkpoint_file(io::FileSystem& fs, const std::filesystem::path& dir) {
  std::filesystem::path path = dir / checkpoint_file_name;
  AIOPS_ASSIGN(bool present, fs.exists(path));
  if (!present) return uint64_t{0};
  AIOPS_ASSIGN(auto file, fs.open(path, {.read_only = true}));
  std::byte b[checkpoint_file_bytes + 1];
  AIOPS_ASSIGN(size_t n, io::read_full(*file, 0, b));
  if (n != checkpoint_file_bytes)
    return Error(Errc::corrupt, path.string() + ": checkpoint file has " + std::to_string(n) + " bytes, expected 32");
  if (std::memcmp(b, checkpoint_magic, 8) != 0) return Error(Errc::corrupt, path.string() + ": bad magic");
  if (load_le<uint64_t>(b + 24) != checksum64(b, 24))
    return Error(Errc::corrupt, path.string() + ": checksum mismatch");
  if (uint16_t v = load_le<uint16_t>(b + 8); v != checkpoint_version)
    return Error(Errc::unsupported, path.string() + ": unsupported checkpoint version " + std::to_string(v));
  return load_le<uint64_t>(b + 16);
}

Status write_checkpoint_file(io::FileSystem& fs, const std::filesystem::path& dir, uint64_t applied_through) {
  std::byte b[checkpoint_file_bytes] = {};
  std::memcpy(b, checkpoint_magic, 8);
  store_le<uint16_t>(b + 8, checkpoint_version);
  store_le<uint64_t>(b + 16, applied_through);
  store_le<uint64_t>(b + 24, checksum64(b, 24));
  std::filesystem::path tmp = dir / (std::string(checkpoint_file_name) + ".tmp");
  {
    AIOPS_ASSIGN(auto file, fs.open(tmp, {.create = true}));
    AIOPS_TRY(file->truncate(0));
    AIOPS_TRY(io::write_full(*file, 0, b));
    AIOPS_TRY(file->sync_data());
  }
  AIOPS_TRY(fs.rename(tmp, dir / checkpoint_file_name));
  return fs.sync_directory(dir);
}

}  // namespace aiops::wal
