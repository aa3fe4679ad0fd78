#include "aiops/wal/log.hpp"

#include <algorithm>
#include <cstring>

#include "aiops/core/checksum.hpp"
#include "aiops/wal/segment.hpp"

namespace aiops::wal {

struct Log::Pending {
  RecordHeader header;
  std::span<const std::byte> payload;
  uint64_t payload_hash = 0;
  bool durable = false;
  bool barrier = false;  // sync(): no record, only forces the batch's fdatasync
  AppendCompletion* done = nullptr;
  Appended result;

  [[nodiscard]] uint64_t bytes() const { return barrier ? 0 : record_header_bytes + payload.size(); }
};

// Completion for the blocking calls. The notify happens under the mutex, so
// the waiter cannot return (and destroy this object) before it is done.
class Log::Waiter final : public AppendCompletion {
 public:
  void complete(const Result<Appended>& result) noexcept override {
    std::lock_guard lock(mu_);
    result_.emplace(result);
    cv_.notify_one();
  }
  Result<Appended> wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return result_.has_value(); });
    return std::move(*result_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Result<Appended>> result_;
};

Log::Log(io::FileSystem& fs, std::filesystem::path dir, const LogOptions& options)
    : fs_(fs), dir_(std::move(dir)), options_(options) {}

Result<std::unique_ptr<Log>> Log::open(io::FileSystem& fs, const std::filesystem::path& dir,
                                       const LogOptions& options) {
  if (options.segment_bytes < 2 * record_header_bytes + segment_header_bytes || options.group_commit_bytes == 0)
    return Error(Errc::invalid_argument, "log options: segment or batch size too small");
  std::unique_ptr<Log> log(new Log(fs, dir, options));
  AIOPS_TRY(io::create_directories(fs, dir));
  AIOPS_ASSIGN(log->lock_, fs.lock(dir / "LOCK"));
  AIOPS_TRY(log->recover());
  log->committer_ = std::thread(&Log::commit_loop, log.get());
  return log;
}

Log::~Log() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_committer_.notify_one();
  if (committer_.joinable()) committer_.join();
}

// ---------------------------------------------------------------- recovery

Status Log::recover() {
  AIOPS_ASSIGN(LogScan scan, scan_log(fs_, dir_, {}));
  {
    // New segments continue the numbering even when every old one goes.
    AIOPS_ASSIGN(auto indices, list_segments(fs_, dir_));
    active_index_ = indices.empty() ? 0 : indices.back();
  }
  recovery_.segments = scan.segments.size();
  recovery_.records = scan.records;
  recovery_.applied_through = scan.applied_through;
  for (const Finding& f : scan.findings) {
    if (f.kind == Finding::Kind::corrupt && !options_.salvage)
      return Error(Errc::corrupt, describe(f) + "; the log was not opened ('aiops log verify " + dir_.string() +
                                      "' lists every finding; salvage drops everything from this point on)");
  }
  // From here on, a finding (the torn tail, or with salvage the first
  // corruption) marks where the log is cut; everything after it goes.
  if (!scan.findings.empty()) {
    const Finding& cut = scan.findings.front();
    if (cut.kind == Finding::Kind::torn_tail) recovery_.torn_tail = cut;
    else recovery_.salvaged = cut;
    std::vector<SegmentSummary> kept;
    for (SegmentSummary& s : scan.segments) {
      if (s.index > cut.segment_index || (s.index == cut.segment_index && cut.offset < segment_header_bytes)) break;
      if (s.index == cut.segment_index) {
        AIOPS_ASSIGN(auto file, fs_.open(s.path, {}));
        AIOPS_TRY(file->truncate(cut.offset));
        AIOPS_TRY(file->sync_data());
        recovery_.bytes_dropped += s.file_bytes - cut.offset;
        s.file_bytes = s.valid_end = cut.offset;
      }
      kept.push_back(s);
    }
    // Every segment after the cut goes, including those a salvage scan never
    // reached (it stops at the first corruption).
    AIOPS_ASSIGN(auto indices, list_segments(fs_, dir_));
    for (uint64_t index : indices) {
      if (index < cut.segment_index || (index == cut.segment_index && cut.offset >= segment_header_bytes)) continue;
      std::filesystem::path path = dir_ / segment_file_name(index);
      AIOPS_ASSIGN(auto file, fs_.open(path, {.read_only = true}));
      AIOPS_ASSIGN(uint64_t bytes, file->size());
      file.reset();
      AIOPS_TRY(fs_.remove(path));
      recovery_.bytes_dropped += bytes;
      ++recovery_.segments_removed;
    }
    AIOPS_TRY(fs_.sync_directory(dir_));
    scan.segments = std::move(kept);
    scan.next_sequence = scan.segments.empty() ? scan.applied_through + 1 : scan.segments.back().next_sequence;
  }
  // Segments whose records are all applied are leftovers of a checkpoint
  // that stopped before removing them. The newest stays to be appended to,
  // unless salvage left the log behind the checkpoint.
  bool behind = scan.next_sequence <= scan.applied_through;
  std::vector<SegmentSummary> live;
  for (size_t i = 0; i < scan.segments.size(); ++i) {
    const SegmentSummary& s = scan.segments[i];
    bool newest = i + 1 == scan.segments.size();
    if (s.next_sequence - 1 <= scan.applied_through && (!newest || behind)) {
      AIOPS_TRY(fs_.remove(s.path));
      ++recovery_.segments_removed;
    } else {
      live.push_back(s);
    }
  }
  if (recovery_.segments_removed > 0) AIOPS_TRY(fs_.sync_directory(dir_));
  scan.next_sequence = std::max(scan.next_sequence, scan.applied_through + 1);
  scan.segments = std::move(live);
  AIOPS_TRY(open_newest(scan));
  recovery_.next_sequence = next_sequence_;
  return {};
}

Status Log::open_newest(const LogScan& scan) {
  for (const SegmentSummary& s : scan.segments)
    segments_.push_back({s.index, s.first_sequence, s.next_sequence, s.valid_end});
  next_sequence_ = scan.next_sequence;
  if (!scan.segments.empty()) {
    const SegmentSummary& newest = scan.segments.back();
    AIOPS_ASSIGN(active_, fs_.open(newest.path, {}));
    active_index_ = newest.index;
    write_offset_ = newest.valid_end;
    // What a dead predecessor wrote (page cache) becomes durable now, so
    // everything recovered is durable from the start.
    AIOPS_TRY(active_->sync_data());
  } else {
    AIOPS_TRY(create_segment());
  }
  durable_through_.store(next_sequence_ - 1, std::memory_order_release);
  return {};
}

// ---------------------------------------------------------------- appending

Result<Appended> Log::append(const AppendRequest& request) {
  Waiter waiter;
  append_async(request, waiter);
  return waiter.wait();
}

void Log::append_async(const AppendRequest& request, AppendCompletion& done) {
  if (request.payload.size() > UINT32_MAX) {
    done.complete(Error(Errc::invalid_argument, "log append: payload of " + std::to_string(request.payload.size()) +
                                                    " bytes is larger than a record can hold"));
    return;
  }
  Pending p;
  p.header.client = request.client;
  p.header.volume = request.volume;
  p.header.offset = request.offset;
  p.header.length = static_cast<uint32_t>(request.payload.size());
  p.payload = request.payload;
  p.payload_hash = request.payload_hash ? *request.payload_hash : checksum64(request.payload);
  p.durable = request.durability == Durability::durable;
  p.done = &done;
  enqueue(std::move(p));
}

Status Log::sync() {
  Waiter waiter;
  Pending p;
  p.barrier = true;
  p.durable = true;
  p.done = &waiter;
  enqueue(std::move(p));
  return waiter.wait().status();
}

void Log::enqueue(Pending pending) {
  std::optional<Error> refused;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (failure_) {
      refused = *failure_;
    } else if (stopping_) {
      refused = Error(Errc::log_failed, "log " + dir_.string() + " is closing");
    } else {
      uint64_t before = queued_bytes_;
      queued_bytes_ += pending.bytes();
      queue_.push_back(std::move(pending));
      // Wake the committer when it waits for work, or when it waits for a
      // batch to fill and this record filled it.
      wake = committer_idle_ && (queue_.size() == 1 || (before < options_.group_commit_bytes &&
                                                       queued_bytes_ >= options_.group_commit_bytes));
    }
  }
  if (refused) {
    pending.done->complete(*refused);
    return;
  }
  if (wake) wake_committer_.notify_one();
}

void Log::commit_loop() {
  std::vector<Pending> batch;
  while (true) {
    {
      std::unique_lock lock(mu_);
      committer_idle_ = true;
      wake_committer_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) break;  // stopping, and nothing left to commit
      if (options_.group_commit_delay.count() > 0 && queued_bytes_ < options_.group_commit_bytes && !stopping_) {
        wake_committer_.wait_for(lock, options_.group_commit_delay,
                                 [&] { return queued_bytes_ >= options_.group_commit_bytes || stopping_; });
      }
      committer_idle_ = false;
      uint64_t bytes = 0;
      while (!queue_.empty()) {
        uint64_t b = queue_.front().bytes();
        if (!batch.empty() && bytes + b > options_.group_commit_bytes) break;
        bytes += b;
        queued_bytes_ -= b;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    commit(batch);
    batch.clear();
  }
  // Clean shutdown: what was written becomes durable.
  std::lock_guard lock(mu_);
  if (!failure_ && unsynced_through_ != 0 && active_->sync_data().ok())
    durable_through_.store(unsynced_through_, std::memory_order_release);
}

void Log::commit(std::vector<Pending>& batch) {
  std::optional<Error> failed;
  {
    std::lock_guard lock(mu_);
    failed = failure_;
  }
  bool need_sync = false;
  uint64_t syncs = 0;
  Status s = failed ? Status(*failed) : write_batch(batch, need_sync);
  if (s.ok() && need_sync && unsynced_through_ != 0) {
    s = active_->sync_data();
    ++syncs;
    if (s.ok()) {
      durable_through_.store(unsynced_through_, std::memory_order_release);
      unsynced_through_ = 0;
    }
  }
  if (!s.ok()) {
    fail(s.error());
    std::optional<Error> why;
    {
      std::lock_guard lock(mu_);
      why = failure_;
    }
    for (Pending& p : batch) p.done->complete(*why);
    return;
  }
  uint64_t records = 0, bytes = 0;
  for (Pending& p : batch) {
    if (p.barrier) p.result.sequence = durable_through_.load(std::memory_order_relaxed);
    else ++records, bytes += p.payload.size();
  }
  {
    std::lock_guard lock(mu_);
    stats_.records += records;
    stats_.payload_bytes += bytes;
    stats_.batches += 1;
    stats_.syncs += syncs;
  }
  for (Pending& p : batch) p.done->complete(p.result);
}

Status Log::write_batch(std::vector<Pending>& batch, bool& need_sync) {
  buffer_.clear();
  buffer_offset_ = write_offset_;
  for (Pending& p : batch) {
    need_sync = need_sync || p.durable;
    if (p.barrier) continue;
    uint64_t end = buffer_offset_ + buffer_.size();
    if (end > segment_header_bytes && end + p.bytes() > options_.segment_bytes) {
      AIOPS_TRY(flush_buffer());
      AIOPS_TRY(create_segment());
      buffer_offset_ = write_offset_;
    }
    p.header.sequence = next_sequence_++;
    p.header.flags = p.durable ? record_flag_fua : 0;
    p.result = {p.header.sequence, active_index_, buffer_offset_ + buffer_.size()};
    size_t at = buffer_.size();
    buffer_.resize(at + record_header_bytes + p.payload.size());
    encode_record_header(p.header, p.payload_hash, buffer_.data() + at);
    if (!p.payload.empty())
      std::memcpy(buffer_.data() + at + record_header_bytes, p.payload.data(), p.payload.size());
  }
  return flush_buffer();
}

Status Log::flush_buffer() {
  if (buffer_.empty()) return {};
  AIOPS_TRY(io::write_full(*active_, buffer_offset_, buffer_));
  write_offset_ = buffer_offset_ + buffer_.size();
  unsynced_through_ = next_sequence_ - 1;
  buffer_.clear();
  buffer_offset_ = write_offset_;
  std::lock_guard lock(segments_mu_);
  segments_.back().next_sequence = next_sequence_;
  segments_.back().end_offset = write_offset_;
  return {};
}

Status Log::create_segment() {
  // The segment being left must be complete on disk before a newer one
  // exists: only the newest segment may have a torn tail.
  if (active_ && unsynced_through_ != 0) {
    AIOPS_TRY(active_->sync_data());
    durable_through_.store(unsynced_through_, std::memory_order_release);
    unsynced_through_ = 0;
    std::lock_guard lock(mu_);
    ++stats_.syncs;
  }
  uint64_t index = active_index_ + 1;
  std::filesystem::path path = dir_ / segment_file_name(index);
  AIOPS_ASSIGN(auto file, fs_.open(path, {.create = true, .exclusive = true}));
  std::byte header[segment_header_bytes];
  encode_segment_header({index, next_sequence_, options_.generation}, header);
  AIOPS_TRY(io::write_full(*file, 0, header));
  AIOPS_TRY(file->sync_data());
  AIOPS_TRY(fs_.sync_directory(dir_));
  active_ = std::move(file);
  active_index_ = index;
  write_offset_ = segment_header_bytes;
  {
    std::lock_guard lock(segments_mu_);
    segments_.push_back({index, next_sequence_, next_sequence_, segment_header_bytes});
  }
  std::lock_guard lock(mu_);
  ++stats_.segments_created;
  return {};
}

void Log::fail(const Error& error) {
  std::deque<Pending> orphans;
  {
    std::lock_guard lock(mu_);
    if (!failure_)
      failure_ = Error(Errc::log_failed, "log " + dir_.string() + " failed and refuses all appends until it is "
                                         "reopened: " + error.message(), error.sys_errno());
    orphans.swap(queue_);
    queued_bytes_ = 0;
  }
  for (Pending& p : orphans) p.done->complete(*failure());
}

// ---------------------------------------------------------------- queries

LogStats Log::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::optional<Error> Log::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

std::vector<SegmentState> Log::segments() const {
  std::lock_guard lock(segments_mu_);
  return segments_;
}

Result<uint64_t> Log::remove_segments_through(uint64_t sequence) {
  std::vector<uint64_t> doomed;
  {
    std::lock_guard lock(segments_mu_);
    while (segments_.size() > 1 && segments_.front().next_sequence - 1 <= sequence) {
      doomed.push_back(segments_.front().index);
      segments_.erase(segments_.begin());
    }
  }
  for (uint64_t index : doomed) AIOPS_TRY(fs_.remove(dir_ / segment_file_name(index)));
  if (!doomed.empty()) AIOPS_TRY(fs_.sync_directory(dir_));
  return static_cast<uint64_t>(doomed.size());
}

}  // namespace aiops::wal
