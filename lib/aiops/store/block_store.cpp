#include "aiops/store/block_store.hpp"

#include <pthread.h>

#include <algorithm>

#include "aiops/core/logger.hpp"
#include "aiops/wal/record.hpp"

namespace aiops::store {

void WriteCompletion::complete(const Result<wal::Appended>& result) noexcept {
  if (result.ok()) store_->index_write(volume_, offset_, length_, result.value());
  write_done(result);
}

Result<std::unique_ptr<BlockStore>> BlockStore::open(io::FileSystem& fs, const StoreOptions& options) {
  std::unique_ptr<BlockStore> store(new BlockStore(options));
  AIOPS_TRY(io::create_directories(fs, options.data_dir));
  AIOPS_ASSIGN(store->log_, wal::Log::open(fs, options.data_dir / "log", options.log));
  AIOPS_ASSIGN(store->volumes_, volume::VolumeSet::open(fs, options.data_dir / "volumes", options.volumes));
  for (const auto& v : options.volumes) store->index_[v.id];
  // Replay: whatever recovery found goes to the volumes now, so the index
  // starts empty.
  AIOPS_ASSIGN(auto replayed, store->run_checkpoint());
  if (replayed.records > 0)
    log_info("replayed " + std::to_string(replayed.records) + " log records (" +
             std::to_string(replayed.payload_bytes) + " bytes) into the volumes");
  store->checkpointer_ = std::thread(&BlockStore::checkpoint_loop, store.get());
  return store;
}

BlockStore::~BlockStore() {
  {
    std::lock_guard lock(checkpoint_mu_);
    stopping_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
  log_.reset();  // drains, seals and closes the log before the volumes go
}

Status BlockStore::check_extent(uint32_t volume, uint64_t offset, uint64_t length) const {
  const volume::VolumeSpec* spec = volumes_->find(volume);
  if (spec == nullptr) return Error(Errc::not_found, "volume id " + std::to_string(volume) + " is not configured");
  if (length == 0 || offset > spec->size_bytes || length > spec->size_bytes - offset)
    return Error(Errc::invalid_argument, "volume " + spec->name + ": extent at offset " + std::to_string(offset) +
                                             " of " + std::to_string(length) + " bytes is empty or ends beyond " +
                                             std::to_string(spec->size_bytes) + " bytes");
  return {};
}

Status BlockStore::write(const WriteRequest& request, WriteCompletion& done) {
  AIOPS_TRY(check_extent(request.volume, request.offset, request.data.size()));
  done.store_ = this;
  done.volume_ = request.volume;
  done.offset_ = request.offset;
  done.length_ = request.data.size();
  log_->append_async({request.client, request.volume, request.offset, request.data, request.durability,
                      request.payload_hash},
                     done);
  return {};
}

namespace {

// Blocking completion for the synchronous calls.
class BlockingWrite final : public WriteCompletion {
 public:
  void write_done(const Result<wal::Appended>& result) noexcept override {
    std::lock_guard lock(mu_);
    result_.emplace(result);
    cv_.notify_one();
  }
  Result<wal::Appended> wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return result_.has_value(); });
    return *result_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Result<wal::Appended>> result_;
};

}  // namespace

Result<wal::Appended> BlockStore::write(const WriteRequest& request) {
  BlockingWrite done;
  AIOPS_TRY(write(request, done));
  return done.wait();
}

void BlockStore::index_write(uint32_t volume, uint64_t offset, uint64_t length, const wal::Appended& where) {
  {
    std::unique_lock lock(index_mu_);
    index_.at(volume).insert(offset, length, {where.sequence, where.segment, where.file_offset + wal::record_header_bytes});
  }
  if (unapplied_bytes_.fetch_add(length, std::memory_order_relaxed) + length >= options_.checkpoint_bytes)
    checkpoint_cv_.notify_one();
}

Status BlockStore::read(uint32_t volume, uint64_t offset, std::span<std::byte> out) const {
  AIOPS_TRY(check_extent(volume, offset, out.size()));
  std::shared_lock lock(index_mu_);
  // Bytes of unapplied records come from the log, the gaps between them
  // from the volume image; the shared lock keeps their segments in place.
  uint64_t cursor = offset;
  for (const Piece& p : index_.at(volume).lookup(offset, out.size())) {
    if (p.offset > cursor) AIOPS_TRY(volumes_->read(volume, cursor, out.subspan(cursor - offset, p.offset - cursor)));
    AIOPS_TRY(log_->read_segment(p.source.segment, p.source.file_offset, out.subspan(p.offset - offset, p.length)));
    cursor = p.offset + p.length;
  }
  if (cursor < offset + out.size())
    AIOPS_TRY(volumes_->read(volume, cursor, out.subspan(cursor - offset)));
  return {};
}

void BlockStore::flush(wal::AppendCompletion& done) { log_->sync_async(done); }

Status BlockStore::flush() { return log_->sync().status(); }

Result<wal::CheckpointResult> BlockStore::checkpoint_now() { return run_checkpoint(); }

Result<wal::CheckpointResult> BlockStore::run_checkpoint() {
  std::lock_guard run(checkpoint_run_mu_);
  auto result = wal::checkpoint(*log_, *volumes_, [&](uint64_t applied) {
    // In steps, releasing the lock in between: a whole large index at once
    // held up every acknowledgement (index_write) for milliseconds. A read
    // in between may still find pieces not yet dropped; it holds the shared
    // lock while it reads their segments, and the segments are retired only
    // after the last step, when no piece points into them any more.
    constexpr size_t pieces_per_step = 1024;
    for (auto& [id, map] : index_) {
      std::optional<uint64_t> from = 0;
      while (from) {
        std::unique_lock lock(index_mu_);
        from = map.prune_through(applied, *from, pieces_per_step);
      }
    }
  });
  std::lock_guard lock(checkpoint_mu_);
  if (!result.ok()) {
    last_checkpoint_error_ = result.error();
    return result;
  }
  last_checkpoint_error_.reset();
  ++checkpoints_;
  applied_through_ = result.value().applied_through;
  uint64_t applied = result.value().payload_bytes;
  uint64_t cur = unapplied_bytes_.load(std::memory_order_relaxed);
  while (!unapplied_bytes_.compare_exchange_weak(cur, cur - std::min(cur, applied), std::memory_order_relaxed)) {
  }
  return result;
}

void BlockStore::checkpoint_loop() {
  // At most 15 characters, or Linux refuses the name.
  pthread_setname_np(pthread_self(), "aiops-ckpt");
  while (true) {
    {
      std::unique_lock lock(checkpoint_mu_);
      checkpoint_cv_.wait_for(lock, options_.checkpoint_interval, [&] {
        return stopping_ || unapplied_bytes_.load(std::memory_order_relaxed) >= options_.checkpoint_bytes;
      });
      if (stopping_) return;
    }
    auto result = run_checkpoint();
    if (!result.ok()) log_warning("checkpoint failed (the log keeps the records; retrying later): " + result.error().message());
  }
}

Status BlockStore::check_index() const {
  std::shared_lock lock(index_mu_);
  auto segments = log_->segments();
  for (const auto& [volume, map] : index_) {
    for (const Piece& p : map.lookup(0, UINT64_MAX)) {
      bool live = std::any_of(segments.begin(), segments.end(), [&](const wal::SegmentState& s) {
        return s.index == p.source.segment && p.source.sequence >= s.first_sequence && p.source.sequence < s.next_sequence;
      });
      if (!live)
        return Error(Errc::corrupt, "read index: volume " + std::to_string(volume) + " offset " + std::to_string(p.offset) +
                                        " points to record " + std::to_string(p.source.sequence) + " in segment " +
                                        std::to_string(p.source.segment) + ", which the log no longer holds");
    }
  }
  return {};
}

StoreStats BlockStore::stats() const {
  StoreStats s;
  s.log = log_->stats();
  s.durable_sequence = log_->durable_sequence();
  s.log_failure = log_->failure();
  s.unapplied_bytes = unapplied_bytes_.load(std::memory_order_relaxed);
  {
    std::shared_lock lock(index_mu_);
    for (const auto& [id, map] : index_) s.index_pieces += map.pieces();
  }
  std::lock_guard lock(checkpoint_mu_);
  s.checkpoints = checkpoints_;
  s.applied_through = applied_through_;
  s.last_checkpoint_error = last_checkpoint_error_;
  return s;
}

}  // namespace aiops::store
