#pragma once
// The primary write log: many threads append records, a committer thread
// writes them to the newest segment in batches and a syncer thread makes
// them durable (group commit), and each append is acknowledged at the level
// it asked for:
//
//  * written — the record is in the segment file (page cache). It survives
//    the death of any process, not a power cut.
//  * durable — the record is on stable storage (the batch was fdatasync'ed).
//
// Group commit, in two stages that overlap:
//  * the committer takes every record waiting when it is free, assigns
//    sequence numbers and writes them with one write at the end of the
//    newest segment (in chunks of at most `group_commit_bytes`);
//  * the syncer takes every round written since its last one and, if any
//    member asked for durable or a sync() barrier is among them, covers them
//    all with one fdatasync; then it acknowledges them, in sequence order.
//    A round that needs no fdatasync while the syncer has nothing left to
//    acknowledge is acknowledged by the committer itself, which keeps the
//    order and spares a thread wake-up per round.
// While one fdatasync runs, the next records are already being written, and
// a failed sync fails every member of the rounds it covered.
//
// Filling a batch (off by default): with `group_commit_delay` > 0, when the
// batch at hand needs an fdatasync and holds fewer records than the previous
// one, the committer waits up to that long for as many.
//
// Failure: any failed write or fdatasync puts the log into the failed state
// for good. Every waiting and every later append fails with Errc::log_failed
// naming the first error. Retrying an fdatasync after a failure would report
// data as durable that the kernel may already have dropped (the PostgreSQL
// "fsyncgate" lesson); the way out is to reopen the log, whose recovery
// finds what really is on disk.
//
// Markers: sync() appends a marker record (unless nothing was written since
// the last record that was synced), and closing the log appends one as its
// last act, so that a reader can tell damage to synced records from the
// unfinished end a crash leaves (wal/segment.hpp).
//
// Ownership: one process appends at a time. open() takes an exclusive lock on
// <dir>/LOCK and fails with Errc::busy when another holder has it.
//
// Thread-safety: append, append_async, sync and the const queries may be
// called from any thread at once. Destruction must not race with them.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "aiops/core/error.hpp"
#include "aiops/io/file_system.hpp"
#include "aiops/wal/log_scan.hpp"
#include "aiops/wal/record.hpp"

namespace aiops::wal {

enum class Durability : uint8_t { written, durable };

/// Spare segment files — recycled segments, or zero-filled new ones — wait
/// under this name pattern ("spare-<n>.tmp") until a segment is needed.
inline constexpr std::string_view spare_file_prefix = "spare-";
inline constexpr std::string_view spare_file_suffix = ".tmp";

/// Where new segments get their space when no recycled one is spare (see
/// wal/segment.hpp: allocated files make each fdatasync cheaper).
enum class Preallocation : uint8_t {
  background,  // a helper thread zero-fills spare segments ahead of time
  inline_,     // zero-filled when needed, by the committer (deterministic; tests)
  none,        // segments grow with each append (each fdatasync also writes metadata)
};

struct LogOptions {
  uint64_t segment_bytes = 64ull << 20;
  Preallocation preallocation = Preallocation::background;
  /// Spare segment files the background thread keeps ready, zero-filling
  /// new ones when recycling does not provide them.
  unsigned spare_segments = 1;
  /// Most spare files kept; a retired segment beyond that is removed.
  unsigned max_spare_segments = 8;
  uint64_t group_commit_bytes = 1ull << 20;
  std::chrono::nanoseconds group_commit_delay{0};
  /// Every time this many bytes were written to the active segment since
  /// the last time, their write-back to the device is started (0: never).
  /// Leaving a segment makes it durable first, and without this that one
  /// fdatasync would write the whole segment while every append waits.
  uint64_t writeback_bytes = 1ull << 20;
  uint64_t generation = 0;  // written into segment headers created by this owner
  bool salvage = false;     // open a corrupt log by cutting it at the first corruption
};

struct AppendRequest {
  uint32_t client = 0;
  uint32_t volume = 0;
  uint64_t offset = 0;
  std::span<const std::byte> payload;  // must stay valid until the append completes
  Durability durability = Durability::written;
  /// checksum64(payload) when the caller already has it (e.g. from the wire).
  std::optional<uint64_t> payload_hash;
};

/// Where an appended record is.
struct Appended {
  uint64_t sequence = 0;
  uint64_t segment = 0;      // segment index
  uint64_t file_offset = 0;  // offset of the record header in the segment
};

/// Receives the outcome of append_async, on one of the log's threads (the
/// syncer, or the committer; see above). It must be quick and must not call
/// back into the log's blocking functions (appending with append_async is
/// fine).
class AppendCompletion {
 public:
  virtual void complete(const Result<Appended>& result) noexcept = 0;

 protected:
  ~AppendCompletion() = default;
};

struct RecoveryReport {
  uint64_t segments = 0;
  uint64_t records = 0;            // valid records found
  uint64_t applied_through = 0;    // from CHECKPOINT
  uint64_t next_sequence = 1;
  std::optional<Finding> torn_tail;   // dropped
  std::optional<Finding> salvaged;    // corruption cut away (salvage only)
  uint64_t bytes_dropped = 0;         // by torn-tail truncation and salvage
  uint64_t segments_removed = 0;      // already applied (recycled), or after a salvage cut
};

struct LogStats {
  uint64_t records = 0;
  uint64_t payload_bytes = 0;
  uint64_t batches = 0;  // commit rounds (each at most one fdatasync)
  uint64_t syncs = 0;    // fdatasync calls
  uint64_t segments_created = 0;
};

/// A segment as the log currently knows it (for checkpointing and reads).
struct SegmentState {
  uint64_t index = 0;
  uint64_t first_sequence = 0;
  uint64_t next_sequence = 0;  // after its last record
  uint64_t end_offset = 0;     // bytes of complete records (incl. header)
};

class Log {
 public:
  /// Opens (creating if needed) the log in `dir`, recovering it first.
  /// Errors: Errc::busy (locked by another owner), Errc::corrupt (damage
  /// before the tail; the message names segment, byte offset and reason),
  /// I/O errors.
  [[nodiscard]] static Result<std::unique_ptr<Log>> open(io::FileSystem& fs, const std::filesystem::path& dir,
                                                         const LogOptions& options);
  /// Commits what is queued, seals the log with a marker, stops its threads,
  /// releases the lock.
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  /// Appends and waits for the acknowledgement level requested.
  [[nodiscard]] Result<Appended> append(const AppendRequest& request);
  /// Appends; `done` is told the outcome on a log thread (see AppendCompletion).
  void append_async(const AppendRequest& request, AppendCompletion& done);
  /// Barrier: returns once every record acknowledged before the call is
  /// durable, with the sequence number of the last record before the
  /// barrier. Every record up to it has been acknowledged (its completion
  /// has run) by the time this returns.
  [[nodiscard]] Result<uint64_t> sync();
  /// The same barrier; `done` is told on a log thread, with that
  /// sequence number in Appended::sequence.
  void sync_async(AppendCompletion& done);

  [[nodiscard]] const RecoveryReport& recovery() const { return recovery_; }
  [[nodiscard]] LogStats stats() const;
  /// The error that failed the log, if it has failed.
  [[nodiscard]] std::optional<Error> failure() const;
  /// Highest sequence acknowledged as durable.
  [[nodiscard]] uint64_t durable_sequence() const { return durable_through_.load(std::memory_order_acquire); }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
  [[nodiscard]] io::FileSystem& file_system() const { return fs_; }

  /// The segments, oldest first (the last one is being appended to).
  [[nodiscard]] std::vector<SegmentState> segments() const;
  /// Reads `out.size()` bytes at `file_offset` of segment `segment` — the
  /// payload of a record, for the read path. The caller makes sure the
  /// segment is not retired meanwhile (it holds a record not yet applied).
  [[nodiscard]] Status read_segment(uint64_t segment, uint64_t file_offset, std::span<std::byte> out) const;
  /// Retires segments, other than the newest, whose records all have a
  /// sequence <= `sequence` (they are applied to the volumes): each becomes
  /// a spare for a future segment, or is removed when there are enough.
  [[nodiscard]] Result<uint64_t> remove_segments_through(uint64_t sequence);
  /// Spare segment files ready now.
  [[nodiscard]] size_t spare_count() const;
  /// Zero-fills spares until `count` are ready (at most max_spare_segments):
  /// for benchmarks that, like fio, lay out their space before measuring.
  [[nodiscard]] Status lay_out_spares(size_t count);

 private:
  struct Pending;
  struct Round;
  struct WakeRound;
  class Waiter;

  Log(io::FileSystem& fs, std::filesystem::path dir, const LogOptions& options);
  Status recover();
  Status open_newest(const LogScan& scan);
  Status create_segment();
  Status load_spares();
  std::filesystem::path new_spare_name();
  Result<std::filesystem::path> take_spare();
  Status recycle(const std::filesystem::path& segment);
  void preallocate_loop();
  Status make_spare();
  Status seal();
  static void prepare(const AppendRequest& request, Pending& pending);
  void push(Pending* pending);
  void take(std::vector<Pending*>& batch);
  void sleep_until_work();
  void fill(std::vector<Pending*>& batch, size_t expect);
  void commit_loop();
  Round write_round(std::vector<Pending*> batch);
  void finish_or_hand_over(Round round);
  void sync_loop();
  void finish_rounds(std::vector<Round>& rounds);
  Status write_batch(std::span<Pending* const> batch);
  Status flush_buffer(uint64_t bytes);
  void advance_durable(uint64_t sequence);
  Error fail(const Error& error);

  io::FileSystem& fs_;
  const std::filesystem::path dir_;
  const LogOptions options_;
  std::unique_ptr<io::FileLock> lock_;
  RecoveryReport recovery_;

  // Owned by the committer thread after open().
  std::shared_ptr<io::File> active_;
  uint64_t active_index_ = 0;
  uint64_t write_offset_ = 0;      // end of the active segment
  uint64_t next_sequence_ = 1;
  std::vector<RecordHeaderBytes> headers_;         // of the batch being written
  std::vector<std::span<const std::byte>> parts_;  // headers and payloads, in file order
  uint64_t buffer_offset_ = 0;                     // where parts_ go in the active segment
  uint64_t writeback_from_ = 0;                    // active segment: write-back not started from here on
  bool unsynced_since_fua_ = false;  // a record without FUA was written after the last FUA one
  bool last_is_marker_ = true;       // the newest record is a marker (or there is none)

  // Spare segment files, ready to be renamed into place.
  mutable std::mutex spares_mu_;
  mutable std::condition_variable spares_cv_;
  std::deque<std::filesystem::path> spares_;
  uint64_t next_spare_id_ = 1;
  std::optional<Error> prealloc_error_;  // the background fill failed; segments grow instead
  std::thread preallocator_;

  mutable std::mutex segments_mu_;
  std::vector<SegmentState> segments_;
  mutable std::map<uint64_t, std::shared_ptr<io::File>> readers_;  // read-only handles, by segment

  // Intake: appenders push onto a lock-free stack; the committer takes it
  // whole. A mutex here made dozens of appenders queue up and sleep on it.
  std::atomic<Pending*> intake_{nullptr};
  std::atomic<uint32_t> intake_count_{0};     // records on the stack
  std::atomic<uint32_t> committer_asleep_{0};  // futex word: 1 while it sleeps
  std::atomic<uint32_t> wake_at_count_{1};     // wake it when the stack holds this many
  std::atomic<bool> stopping_{false};
  std::atomic<bool> failed_{false};

  mutable std::mutex mu_;  // guards failure_ and stats_
  std::optional<Error> failure_;
  LogStats stats_;

  std::atomic<uint64_t> written_through_{0};
  std::atomic<uint64_t> durable_through_{0};

  // Committer -> syncer: written rounds waiting for their fdatasync.
  std::mutex handoff_mu_;
  std::condition_variable handoff_cv_;
  std::vector<Round> handoff_;
  bool syncer_idle_ = false;
  bool committer_done_ = false;

  std::thread committer_;
  std::thread syncer_;
};

}  // namespace aiops::wal
