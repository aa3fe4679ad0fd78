#pragma once
// The block store under the worker: the primary write log, the volume
// images, the read index of records not yet applied, and the checkpointer
// that applies them in the background.
//
//  * write: a record is appended to the log; once the log acknowledges it,
//    the store enters it into the read index and only then tells the
//    caller, so any read that starts after the acknowledgement sees it.
//  * read: bytes come from the newest acknowledged record that covers them
//    (the index says which, and where in the log) and, for bytes no
//    unapplied record covers, from the volume image.
//  * checkpoint: every checkpoint_interval, or as soon as checkpoint_bytes
//    of records are unapplied, the records are applied to the images
//    (wal/checkpointer.hpp); then the index forgets them and their segments
//    are recycled — in that order, under the index lock, so no read can be
//    reading a segment that is being reused.
//  * open replays the log: after recovery it applies every record, so the
//    store starts with an empty index.
//
// Thread-safety: every member may be called from any thread; write
// completions run on a log thread (wal::AppendCompletion).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <thread>
#include <vector>

#include "aiops/core/error.hpp"
#include "aiops/io/file_system.hpp"
#include "aiops/store/extent_map.hpp"
#include "aiops/volume/volume_set.hpp"
#include "aiops/wal/checkpointer.hpp"
#include "aiops/wal/log.hpp"

namespace aiops::store {

struct StoreOptions {
  std::filesystem::path data_dir;  // log/ and volumes/ live below it
  std::vector<volume::VolumeSpec> volumes;
  wal::LogOptions log;
  std::chrono::nanoseconds checkpoint_interval = std::chrono::seconds(5);
  uint64_t checkpoint_bytes = 256ull << 20;
};

struct WriteRequest {
  uint32_t client = 0;
  uint32_t volume = 0;
  uint64_t offset = 0;
  std::span<const std::byte> data;  // must stay valid until the write completes
  wal::Durability durability = wal::Durability::written;
  std::optional<uint64_t> payload_hash;  // checksum64(data), when the caller has it
};

class BlockStore;

/// The outcome of BlockStore::write. write_done runs on a log thread, after
/// the read index holds the write; it must be quick.
class WriteCompletion : public wal::AppendCompletion {
 public:
  virtual void write_done(const Result<wal::Appended>& result) noexcept = 0;

 protected:
  ~WriteCompletion() = default;

 private:
  friend class BlockStore;
  void complete(const Result<wal::Appended>& result) noexcept final;

  BlockStore* store_ = nullptr;
  uint32_t volume_ = 0;
  uint64_t offset_ = 0;
  uint64_t length_ = 0;
};

struct StoreStats {
  wal::LogStats log;
  uint64_t durable_sequence = 0;
  uint64_t applied_through = 0;
  uint64_t unapplied_bytes = 0;
  uint64_t index_pieces = 0;
  uint64_t checkpoints = 0;
  std::optional<Error> last_checkpoint_error;
  std::optional<Error> log_failure;
};

class BlockStore {
 public:
  /// Opens (creating) log and volumes under data_dir, replays the log and
  /// starts the checkpointer.
  [[nodiscard]] static Result<std::unique_ptr<BlockStore>> open(io::FileSystem& fs, const StoreOptions& options);
  /// Stops the checkpointer and closes the log (which seals it).
  ~BlockStore();
  BlockStore(const BlockStore&) = delete;
  BlockStore& operator=(const BlockStore&) = delete;

  /// Checks the extent and starts the write; `done` is told the outcome.
  /// Errors found before anything starts are returned (and `done` is not
  /// called): Errc::not_found (unknown volume), Errc::invalid_argument
  /// (extent outside the volume, or empty).
  [[nodiscard]] Status write(const WriteRequest& request, WriteCompletion& done);
  /// Blocking form of write.
  [[nodiscard]] Result<wal::Appended> write(const WriteRequest& request);
  /// Fills `out` with the newest acknowledged bytes at `offset`.
  [[nodiscard]] Status read(uint32_t volume, uint64_t offset, std::span<std::byte> out) const;
  /// Makes everything acknowledged so far durable; `done` is told on a log
  /// thread.
  void flush(wal::AppendCompletion& done);
  [[nodiscard]] Status flush();
  /// Applies what the log holds now, without waiting for the interval.
  [[nodiscard]] Result<wal::CheckpointResult> checkpoint_now();

  /// Checks that every piece of the read index points into a segment the
  /// log still holds (for tests; cost proportional to the index).
  [[nodiscard]] Status check_index() const;

  [[nodiscard]] const volume::VolumeSpec* volume(uint32_t id) const { return volumes_->find(id); }
  [[nodiscard]] StoreStats stats() const;
  [[nodiscard]] wal::Log& log() { return *log_; }

 private:
  friend class WriteCompletion;
  explicit BlockStore(const StoreOptions& options) : options_(options) {}
  Status check_extent(uint32_t volume, uint64_t offset, uint64_t length) const;
  void index_write(uint32_t volume, uint64_t offset, uint64_t length, const wal::Appended& where);
  Result<wal::CheckpointResult> run_checkpoint();
  void checkpoint_loop();

  StoreOptions options_;
  std::unique_ptr<wal::Log> log_;
  std::unique_ptr<volume::VolumeSet> volumes_;

  mutable std::shared_mutex index_mu_;
  std::map<uint32_t, ExtentMap> index_;  // by volume id; fixed set of keys after open

  std::mutex checkpoint_run_mu_;  // one checkpoint at a time
  mutable std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool stopping_ = false;
  uint64_t checkpoints_ = 0;
  uint64_t applied_through_ = 0;
  std::optional<Error> last_checkpoint_error_;
  std::atomic<uint64_t> unapplied_bytes_{0};
  std::thread checkpointer_;
};

}  // namespace aiops::store
