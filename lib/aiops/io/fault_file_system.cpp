#include "aiops/io/fault_file_system.hpp"

#include <algorithm>
#include <stdexcept>
#include <cerrno>
#include <system_error>

namespace aiops::io {
namespace {

constexpr std::string_view parked_prefix = ".faultfs-parked-";

std::filesystem::path key_of(const std::filesystem::path& path) {
  return std::filesystem::absolute(path).lexically_normal();
}

std::string_view op_name(FaultFileSystem::Op op) {
  using Op = FaultFileSystem::Op;
  switch (op) {
    case Op::open: return "open";
    case Op::write: return "write";
    case Op::read: return "read";
    case Op::sync_data: return "fdatasync";
    case Op::truncate: return "truncate";
    case Op::size: return "stat";
    case Op::remove: return "remove";
    case Op::rename: return "rename";
    case Op::create_directory: return "mkdir";
    case Op::sync_directory: return "fsync directory";
    case Op::list: return "list";
  }
  return "?";
}

// Restoring files after a simulated crash must not fail quietly: a test that
// goes on with half-restored files would prove nothing.
void must(const Status& s) {
  if (!s.ok()) throw std::runtime_error("FaultFileSystem restore failed: " + s.error().message());
}

}  // namespace

// A file opened through FaultFileSystem: checks the fault plan before each
// call and keeps undo records for writes and truncates.
class FaultFile final : public File {
 public:
  FaultFile(FaultFileSystem& fs, std::unique_ptr<File> base, std::filesystem::path key)
      : fs_(fs), base_(std::move(base)), key_(std::move(key)) {}

  Result<size_t> write_at(uint64_t offset, std::span<const std::byte> data) override {
    std::lock_guard io(io_mu_);
    AIOPS_TRY(fs_.enter(FaultFileSystem::Op::write, base_->path(), true));
    data = data.first(std::min(data.size(), fs_.write_limit()));
    AIOPS_ASSIGN(uint64_t size_before, base_->size());
    std::vector<std::byte> replaced;
    if (offset < size_before) {
      replaced.resize(std::min<uint64_t>(data.size(), size_before - offset));
      AIOPS_ASSIGN(size_t got, read_full(*base_, offset, replaced));
      replaced.resize(got);
    }
    AIOPS_ASSIGN(size_t n, base_->write_at(offset, data));
    replaced.resize(std::min(replaced.size(), n));
    fs_.record_write(key_, offset, n, size_before, std::move(replaced));
    return n;
  }

  // One write call in the fault plan, like pwritev: the parts are joined.
  Result<size_t> write_parts_at(uint64_t offset, std::span<const std::span<const std::byte>> parts) override {
    std::vector<std::byte> joined;
    for (auto part : parts) joined.insert(joined.end(), part.begin(), part.end());
    return write_at(offset, joined);
  }

  Result<size_t> read_at(uint64_t offset, std::span<std::byte> out) override {
    AIOPS_TRY(fs_.enter(FaultFileSystem::Op::read, base_->path(), false));
    return base_->read_at(offset, out);
  }

  Status sync_data() override {
    std::lock_guard io(io_mu_);
    Status s = fs_.enter(FaultFileSystem::Op::sync_data, base_->path(), true);
    if (!s.ok()) {
      if (s.error().code() != Errc::crashed) fs_.record_synced(key_, /*failed=*/true);
      return s;
    }
    AIOPS_TRY(base_->sync_data());
    fs_.record_synced(key_, /*failed=*/false);
    return {};
  }

  void start_writeback(uint64_t offset, uint64_t length) override {
    {
      std::lock_guard lock(fs_.mu_);
      fs_.writebacks_.push_back({key_, offset, length});
    }
    base_->start_writeback(offset, length);
  }

  Status truncate(uint64_t size) override {
    std::lock_guard io(io_mu_);
    AIOPS_TRY(fs_.enter(FaultFileSystem::Op::truncate, base_->path(), true));
    AIOPS_ASSIGN(uint64_t size_before, base_->size());
    std::vector<std::byte> cut;
    if (size < size_before) {
      cut.resize(size_before - size);
      AIOPS_ASSIGN(size_t got, read_full(*base_, size, cut));
      cut.resize(got);
    }
    AIOPS_TRY(base_->truncate(size));
    fs_.record_truncate(key_, size, size_before, std::move(cut));
    return {};
  }

  Result<uint64_t> size() override {
    AIOPS_TRY(fs_.enter(FaultFileSystem::Op::size, base_->path(), false));
    return base_->size();
  }

  const std::filesystem::path& path() const override { return base_->path(); }

 private:
  FaultFileSystem& fs_;
  std::unique_ptr<File> base_;
  std::filesystem::path key_;
  // Keeps "read old bytes, write, record" of one file in one piece.
  std::mutex io_mu_;
};

FaultFileSystem::FaultFileSystem(FileSystem& base) : base_(base) {}
FaultFileSystem::~FaultFileSystem() = default;

void FaultFileSystem::fail_call(Op op, uint64_t nth, int sys_errno) {
  std::lock_guard lock(mu_);
  rules_.push_back({op, calls_[op] + nth, sys_errno, false});
}

void FaultFileSystem::fail_calls_from(Op op, uint64_t nth, int sys_errno) {
  std::lock_guard lock(mu_);
  rules_.push_back({op, calls_[op] + nth, sys_errno, true});
}

void FaultFileSystem::short_write(uint64_t nth, size_t max_bytes) {
  std::lock_guard lock(mu_);
  short_writes_[calls_[Op::write] + nth] = std::max<size_t>(max_bytes, 1);
}

void FaultFileSystem::crash_before(uint64_t point) {
  std::lock_guard lock(mu_);
  crash_point_ = points_ + point;
}

uint64_t FaultFileSystem::points() const {
  std::lock_guard lock(mu_);
  return points_;
}

bool FaultFileSystem::is_down() const {
  std::lock_guard lock(mu_);
  return down_;
}

uint64_t FaultFileSystem::calls(Op op) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find(op);
  return it == calls_.end() ? 0 : it->second;
}

std::vector<FaultFileSystem::Writeback> FaultFileSystem::writebacks() const {
  std::lock_guard lock(mu_);
  return writebacks_;
}

Status FaultFileSystem::enter(Op op, const std::filesystem::path& path, bool mutating) {
  std::lock_guard lock(mu_);
  uint64_t n = ++calls_[op];
  if (mutating && !down_) {
    ++points_;
    if (crash_point_ != 0 && points_ >= crash_point_) down_ = true;
  }
  if (down_)
    return Error(Errc::crashed, "simulated crash: " + std::string(op_name(op)) + " " + path.string());
  for (const Rule& r : rules_) {
    if (r.op == op && (n == r.nth || (r.sticky && n > r.nth)))
      return error_from_errno(r.sys_errno, "injected fault: " + std::string(op_name(op)) + " " + path.string());
  }
  return {};
}

size_t FaultFileSystem::write_limit() {
  std::lock_guard lock(mu_);
  auto it = short_writes_.find(calls_[Op::write]);
  return it == short_writes_.end() ? SIZE_MAX : it->second;
}

void FaultFileSystem::record_write(const std::filesystem::path& path, uint64_t offset, uint64_t length,
                                   uint64_t size_before, std::vector<std::byte> replaced) {
  std::lock_guard lock(mu_);
  files_[path].unsynced.push_back({false, offset, length, size_before, std::move(replaced)});
}

void FaultFileSystem::record_truncate(const std::filesystem::path& path, uint64_t new_size, uint64_t size_before,
                                      std::vector<std::byte> cut) {
  std::lock_guard lock(mu_);
  files_[path].unsynced.push_back({true, new_size, 0, size_before, std::move(cut)});
}

void FaultFileSystem::record_synced(const std::filesystem::path& path, bool failed) {
  std::lock_guard lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return;
  FileState& st = it->second;
  if (failed) {
    // Like Linux after a writeback error: the pages are marked clean, so a
    // later successful fdatasync does not bring these writes to the disk.
    st.doomed.insert(st.doomed.end(), std::make_move_iterator(st.unsynced.begin()),
                     std::make_move_iterator(st.unsynced.end()));
  }
  st.unsynced.clear();
}

void FaultFileSystem::record_entry(EntryChange change) {
  std::lock_guard lock(mu_);
  entries_[change.path.parent_path()].push_back(std::move(change));
}

std::filesystem::path FaultFileSystem::park_name(const std::filesystem::path& path) {
  std::lock_guard lock(mu_);
  return path.parent_path() / (std::string(parked_prefix) + std::to_string(++parked_));
}

Result<std::unique_ptr<File>> FaultFileSystem::open(const std::filesystem::path& path, OpenOptions options) {
  AIOPS_TRY(enter(Op::open, path, options.create));
  std::filesystem::path key = key_of(path);
  bool existed = true;
  if (options.create) {
    AIOPS_ASSIGN(existed, base_.exists(path));
  }
  AIOPS_ASSIGN(auto file, base_.open(path, options));
  if (!existed) record_entry({EntryChange::created, key, {}, {}});
  return std::unique_ptr<File>(std::make_unique<FaultFile>(*this, std::move(file), key));
}

Status FaultFileSystem::remove(const std::filesystem::path& path) {
  AIOPS_TRY(enter(Op::remove, path, true));
  std::filesystem::path key = key_of(path);
  AIOPS_ASSIGN(bool present, base_.exists(key));
  if (!present) return error_from_errno(ENOENT, "remove " + path.string());
  std::filesystem::path parked = park_name(key);
  AIOPS_TRY(base_.rename(key, parked));
  {
    std::lock_guard lock(mu_);
    if (auto node = files_.extract(key)) {
      node.key() = parked;
      files_.insert(std::move(node));
    }
  }
  record_entry({EntryChange::removed, key, {}, parked});
  return {};
}

Status FaultFileSystem::rename(const std::filesystem::path& from, const std::filesystem::path& to) {
  AIOPS_TRY(enter(Op::rename, to, true));
  std::filesystem::path src = key_of(from);
  std::filesystem::path dst = key_of(to);
  if (src.parent_path() != dst.parent_path())
    return Error(Errc::unsupported, "FaultFileSystem: rename across directories: " + from.string() + " to " + to.string());
  AIOPS_ASSIGN(bool target_exists, base_.exists(dst));
  std::filesystem::path parked;
  if (target_exists) {
    parked = park_name(dst);
    AIOPS_TRY(base_.rename(dst, parked));
  }
  AIOPS_TRY(base_.rename(src, dst));
  {
    std::lock_guard lock(mu_);
    if (auto node = files_.extract(dst)) {
      node.key() = parked;
      files_.insert(std::move(node));
    }
    if (auto node = files_.extract(src)) {
      node.key() = dst;
      files_.insert(std::move(node));
    }
  }
  record_entry({EntryChange::renamed, dst, src, parked});
  return {};
}

Status FaultFileSystem::create_directory(const std::filesystem::path& path) {
  AIOPS_TRY(enter(Op::create_directory, path, true));
  AIOPS_ASSIGN(bool existed, base_.exists(path));
  AIOPS_TRY(base_.create_directory(path));
  if (!existed) {
    std::filesystem::path key = key_of(path);
    record_entry({EntryChange::created, key, {}, {}});
  }
  return {};
}

Status FaultFileSystem::sync_directory(const std::filesystem::path& path) {
  AIOPS_TRY(enter(Op::sync_directory, path, true));
  AIOPS_TRY(base_.sync_directory(path));
  std::vector<EntryChange> done;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key_of(path));
    if (it == entries_.end()) return {};
    done = std::move(it->second);
    entries_.erase(it);
    for (const EntryChange& c : done)
      if (!c.parked.empty()) files_.erase(c.parked);
  }
  for (const EntryChange& c : done) {
    // The removal (or the replacement by a rename) is now durable: the parked
    // copy can really go.
    if (!c.parked.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(c.parked, ec);
      if (ec) return Error(Errc::io_error, "remove parked " + c.parked.string() + ": " + ec.message());
    }
  }
  return {};
}

Result<std::vector<std::string>> FaultFileSystem::list(const std::filesystem::path& dir) {
  AIOPS_TRY(enter(Op::list, dir, false));
  AIOPS_ASSIGN(auto names, base_.list(dir));
  std::erase_if(names, [](const std::string& n) { return n.starts_with(parked_prefix); });
  return names;
}

Result<bool> FaultFileSystem::exists(const std::filesystem::path& path) {
  AIOPS_TRY(enter(Op::size, path, false));
  return base_.exists(path);
}

Result<std::unique_ptr<FileLock>> FaultFileSystem::lock(const std::filesystem::path& path) {
  AIOPS_TRY(enter(Op::open, path, false));
  return base_.lock(path);
}

void FaultFileSystem::simulate_crash(CrashMode mode, uint64_t seed) {
  std::lock_guard lock(mu_);
  std::mt19937_64 rng(seed);
  for (auto& [path, state] : files_) crash_file(path, state, mode, rng);
  files_.clear();
  undo_entries();
  rules_.clear();
  short_writes_.clear();
  crash_point_ = 0;
  points_ = 0;
  down_ = false;
}

namespace {

// Undo one change on `file`, given that every later change is already undone.
// `keep` bytes at the start of a write stay (the torn case); 0 undoes it all.
void undo_change(File& file, const std::vector<std::byte>& replaced, bool is_truncate, uint64_t offset,
                 uint64_t size_before, uint64_t keep) {
  if (is_truncate) {
    must(file.truncate(size_before));
    if (!replaced.empty()) must(write_full(file, offset, replaced));
    return;
  }
  if (keep < replaced.size()) must(write_full(file, offset + keep, std::span(replaced).subspan(keep)));
  must(file.truncate(keep == 0 ? size_before : std::max(size_before, offset + keep)));
}

}  // namespace

void FaultFileSystem::crash_file(const std::filesystem::path& path, FileState& state, CrashMode mode,
                                 std::mt19937_64& rng) {
  auto opened = base_.open(path, {});
  if (!opened.ok()) return;  // removed and not parked: nothing on disk to restore
  File& file = *opened.value();
  std::vector<Change>& changes = state.unsynced;

  // How much of the unsynced history survives: changes [0, kept) entirely,
  // then `partial` bytes of change `kept`.
  size_t kept = 0;
  uint64_t partial = 0;
  if (mode == CrashMode::torn) {
    uint64_t total = 0;
    for (const Change& c : changes) total += c.length;
    uint64_t cut = total == 0 ? 0 : std::uniform_int_distribution<uint64_t>(0, total)(rng);
    while (kept < changes.size() && (changes[kept].is_truncate || cut >= changes[kept].length)) {
      if (changes[kept].is_truncate && cut == 0) break;
      cut -= changes[kept].length;
      ++kept;
    }
    partial = cut;
  }
  uint64_t size_after = 0;
  if (mode == CrashMode::garbage) {
    auto size = file.size();
    must(size.status());
    size_after = size.value();
  }

  for (size_t i = changes.size(); i-- > kept;) {
    const Change& c = changes[i];
    undo_change(file, c.replaced, c.is_truncate, c.offset, c.size_before, i == kept ? partial : 0);
  }
  // Writes lost to a failed fdatasync: their old bytes come back, but the
  // file keeps the size later successful syncs gave it.
  for (auto it = state.doomed.rbegin(); it != state.doomed.rend(); ++it) {
    if (!it->is_truncate && !it->replaced.empty()) must(write_full(file, it->offset, it->replaced));
  }
  if (mode == CrashMode::garbage && !changes.empty()) {
    must(file.truncate(size_after));
    for (const Change& c : changes) {
      if (c.is_truncate) continue;
      std::vector<std::byte> noise(c.length);
      for (auto& b : noise) b = static_cast<std::byte>(rng());
      must(write_full(file, c.offset, noise));
    }
  }
}

void FaultFileSystem::undo_entries() {
  // Directories are independent of each other; within one, newest first.
  for (auto& [dir, changes] : entries_) {
    for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
      std::error_code ec;
      switch (it->kind) {
        case EntryChange::created:
          std::filesystem::remove_all(it->path, ec);
          break;
        case EntryChange::renamed:
          std::filesystem::rename(it->path, it->from, ec);
          if (!ec && !it->parked.empty()) std::filesystem::rename(it->parked, it->path, ec);
          break;
        case EntryChange::removed:
          std::filesystem::rename(it->parked, it->path, ec);
          break;
      }
      if (ec && ec != std::errc::no_such_file_or_directory)
        throw std::runtime_error("FaultFileSystem restore failed: " + it->path.string() + ": " + ec.message());
    }
  }
  entries_.clear();
}

}  // namespace aiops::io
