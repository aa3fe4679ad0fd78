#pragma once
// The speculative write buffer as one process uses it: the shared-memory
// segment (specbuf/segment.hpp) plus what lives only in the process — the
// read index of valid entries, the validator thread, and who is waiting for
// which entry.
//
// Two modes:
//  * worker — the running worker. Writes come in through write() while the
//    intake is switched to the buffer; a validator thread decides entries
//    in sequence order and answers each writer; reads overlay valid entries
//    on what the store below holds.
//  * offline — the aiops tool working on the segment while no worker runs
//    (it holds the log lock). No intake; validate() decides entries itself.
//
// Acknowledgement. A write without FUA is acknowledged once its entry is
// VALID: it is in shared memory, which survives the death of any process.
// Shared memory is not stable storage, so a FUA write, and a FLUSH, is
// answered only once the entries concerned are applied to the log and made
// durable (phase apply, or deactivate).
//
// Order. Entries are applied (and read) in sequence order, refined by the
// priority reorder: a writer that waited for one acknowledgement before
// sending the next write always gets a higher sequence, and the validator
// decides (and the read index takes) entries in sequence order, so newer
// entries shadow older ones. Writes in flight at the same time may be
// acknowledged out of sequence order — a FUA entry is answered at apply, a
// later plain one at validation — which only concurrent writes can see.
//
// Entries from a dead process. On open, entries left WRITING below the
// head that process saw were never acknowledged; the validator turns them
// FREE (counted as discarded). PENDING ones are validated like any other
// (nobody waits for them; applying an unacknowledged write is allowed).
//
// Admission. Each client may fill the buffer up to a share of its capacity
// that falls with its rank in the priority list in force: the first may use
// all of it, the last [scheduler] buffer_watermark of it (sched/admission.hpp
// applies the same rule to the log queue). So when space runs short the
// lowest-ranked are refused first, and a higher-ranked client is never
// refused while space remains that a lower-ranked one would get. With
// [scheduler] policy = "fifo" every client may fill all of it. A refusal
// carries a retry delay that grows with rank and with how full the buffer
// is: the worker's admission control sets it (set_retry_delay); without
// one, 20 ms x (1 + 3 x position) x (1 + 9 x fill).
//
// Apply order (reorder). With policy mclock, each client's valid entries get
// tags k / weight (k = 1, 2, ... in acknowledgement order; weight as the
// scheduler's, sched/client_plan.hpp), and the order takes the smallest tag
// first among the entries free to go (reorder.hpp): the clients' entries are
// interleaved in proportion to their weights, so no class waits for every
// entry of a heavier one. With fifo, acknowledgement order.
//
// Thread-safety: every member may be called from any thread. apply(),
// reorder() and validate() serialise among themselves.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "aiops/config/config.hpp"
#include "aiops/core/error.hpp"
#include "aiops/net/protocol.hpp"
#include "aiops/specbuf/priority_list.hpp"
#include "aiops/specbuf/reorder.hpp"
#include "aiops/specbuf/segment.hpp"
#include "aiops/specbuf/validator.hpp"
#include "aiops/store/block_store.hpp"
#include "aiops/store/extent_map.hpp"

namespace aiops::specbuf {

/// Told the outcome of a write (or flush) that went to the buffer.
class BufferWaiter {
 public:
  virtual void buffer_done(net::Status status, uint32_t retry_after_ms) noexcept = 0;
  /// It now waits for entry `seq` to be applied (it is among
  /// durable_waiters()); called before buffer_done can be, under the lock
  /// that buffer_done's caller takes first.
  virtual void buffer_waiting_for_apply(uint64_t seq) noexcept { (void)seq; }
  /// Dropped by take_durable_waiters' caller: another process answers the
  /// request now. No other call follows.
  virtual void buffer_handed_over() noexcept {}

 protected:
  ~BufferWaiter() = default;
};

enum class Intake {
  taken,  // in the buffer; the waiter will be told
  full,   // no room for this client now; retry_after_ms says when to retry
  log,    // the buffer is not taking writes: use the log
  too_large,  // larger than the buffer lets this client have even when empty
};

struct IntakeResult {
  Intake outcome = Intake::log;
  uint32_t retry_after_ms = 0;
};

struct ValidateReport {
  uint64_t valid = 0;
  uint64_t rejected = 0;
  uint64_t discarded = 0;
};

struct ApplyReport {
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t batches = 0;
  uint64_t tail_seq = 0;  // after the apply
};

class Buffer {
 public:
  enum class Mode { worker, offline };

  /// Attaches to (worker: creates if needed) the instance's segment and
  /// starts (see start()), unless `start` is false: a worker that takes over
  /// from a running one attaches first, to check the layout, and starts once
  /// the old worker has stopped its validator.
  [[nodiscard]] static Result<std::unique_ptr<Buffer>> open(const config::Config& config, Mode mode,
                                                            bool start = true);
  /// Frees what a dead process applied, indexes the valid entries and (worker)
  /// starts the validator. Once.
  void start();
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  [[nodiscard]] Segment& segment() const { return *segment_; }
  [[nodiscard]] bool intake_active() const { return segment_->header().intake.load(std::memory_order_acquire) != 0; }

  // ---- intake (worker mode)

  /// Holds the intake where it is: while held, the intake does not switch.
  /// The worker holds it from deciding where a write goes until the write
  /// is queued (in the buffer or the log), so that every log write queued
  /// before activate is acknowledged before any buffer entry exists, and
  /// none is queued after deactivate before the buffer is empty.
  [[nodiscard]] std::shared_lock<std::shared_mutex> hold_intake() { return std::shared_lock(intake_mu_); }
  /// Puts a client's write into the buffer when the intake is switched to
  /// it. `checksum` is what the client sent, checked by the validator.
  /// write_held: the caller holds hold_intake().
  [[nodiscard]] IntakeResult write(uint32_t client, uint32_t volume, uint64_t offset,
                                   std::span<const std::byte> payload, uint64_t checksum, bool fua,
                                   BufferWaiter& waiter);
  [[nodiscard]] IntakeResult write_held(uint32_t client, uint32_t volume, uint64_t offset,
                                        std::span<const std::byte> payload, uint64_t checksum, bool fua,
                                        BufferWaiter& waiter);
  /// Tells `waiter` once every entry reserved before the call is durable in
  /// the log or rejected.
  void flush(BufferWaiter& waiter);
  /// Reads through the buffer: `below` fills `out` from the store, then the
  /// valid entries overlay it — both under the index lock, so an entry being
  /// applied is seen either in the buffer or in the store.
  [[nodiscard]] Status read(uint32_t volume, uint64_t offset, std::span<std::byte> out,
                            const std::function<Status(std::span<std::byte>)>& below) const;
  /// Switches the intake. `while_held` runs with new writes held back, after
  /// the switch is decided and before it shows (deactivate applies the last
  /// entries there).
  [[nodiscard]] Status switch_intake(bool to_buffer, const std::function<Status()>& while_held = {});
  /// Answers every writer still waiting for an apply (FUA, FLUSH) with
  /// `status`, now and from then on; their entries stay and are applied
  /// later. For shutdown.
  void abandon_waiters(net::Status status);
  /// Undoes abandon_waiters for the writers that come from now on (a swap
  /// that drained its connections was rolled back).
  void resume_waiting();

  // ---- handing the buffer to another worker (live update)

  /// Stops the validator thread after the entry it is deciding. The caller
  /// has stopped its writers; entries they left PENDING wait for the next
  /// validator (this process's, after resume_validator, or the new worker's).
  void stop_validator();
  void resume_validator();
  /// The writers waiting for an apply (FUA writes, FLUSHes), with the entry
  /// each waits for (told once tail_seq > it).
  [[nodiscard]] std::vector<std::pair<uint64_t, BufferWaiter*>> durable_waiters() const;
  /// Removes them all: another process answers them now. Nobody is told.
  [[nodiscard]] std::vector<std::pair<uint64_t, BufferWaiter*>> take_durable_waiters();
  /// Tells `waiter` once tail_seq > seq (at once if it already is).
  void wait_for_apply(uint64_t seq, BufferWaiter& waiter);

  // ---- phases

  /// Puts `list` in force and into the segment header.
  void publish_priorities(const PriorityList& list);
  /// Told every list publish_priorities puts in force (the worker's
  /// scheduler follows the buffer's list). Set before anything publishes.
  void set_priority_observer(std::function<void(const PriorityList&)> observer);
  /// Decides every entry reserved before the call.
  [[nodiscard]] Result<ValidateReport> validate();
  /// Gives every valid, unranked entry its apply rank; returns how many.
  [[nodiscard]] Result<uint64_t> reorder();
  /// Validates, orders and appends every entry reserved before the call to
  /// the log through `store`, durably, in batches in rank order; frees them.
  [[nodiscard]] Result<ApplyReport> apply(store::BlockStore& store);
  /// Empties the ring when every live entry is done; false when some are not.
  bool reset_if_drained();

  /// The retry delay for `client` at the buffer's current fill.
  [[nodiscard]] uint32_t retry_after_ms(uint32_t client) const;
  /// How the worker computes retry delays: for `client`, at buffer fill
  /// `fill`, for a write refused because the buffer is full for it (`full`)
  /// or rejected by the validator. Set before the intake opens.
  using RetryDelay = std::function<uint32_t(uint32_t client, double fill, bool full)>;
  void set_retry_delay(RetryDelay delay);

 private:
  struct Rank {
    uint32_t rank = 0;  // 1 = first; 0 = not in the list
    double score = 0;
  };

  Buffer(const config::Config& config, Mode mode, std::unique_ptr<Segment> segment);
  void load_priorities();
  [[nodiscard]] double position_of(uint32_t client) const;
  [[nodiscard]] double share_of(uint32_t client) const;
  [[nodiscard]] double fill() const;
  [[nodiscard]] uint32_t delay_for(uint32_t client, bool full) const;
  [[nodiscard]] std::vector<double> apply_priorities(std::span<const ReorderEntry> entries) const;
  bool decide_next(bool wait_for_writers);
  void validator_loop();
  Status wait_validated(uint64_t target);
  void index_entry(const EntryRecord& e);
  void rebuild_index();
  void complete_durable_waiters();
  Result<uint64_t> reorder_held();
  void release_applied();

  const config::Config config_;
  const Mode mode_;
  std::unique_ptr<Segment> segment_;
  Validator validator_;
  uint64_t attach_head_ = 0;  // entries below it were written before this process attached

  RetryDelay retry_delay_;  // set once, before writers come
  std::function<void(const PriorityList&)> priority_observer_;  // likewise

  mutable std::mutex priorities_mu_;
  std::unordered_map<uint32_t, Rank> ranks_;
  uint32_t ranked_clients_ = 0;

  // Who waits for which entry: the writer's slot, set before the entry is
  // published and taken by the validator.
  std::vector<std::atomic<BufferWaiter*>> waiters_;
  mutable std::mutex durable_mu_;
  std::multimap<uint64_t, BufferWaiter*> durable_waiters_;  // told once tail_seq > key
  bool abandoned_ = false;  // abandon_waiters ran: no more waiting for an apply

  mutable std::shared_mutex index_mu_;
  std::map<uint32_t, store::ExtentMap> index_;  // by volume; LogLocation.file_offset = arena offset

  std::shared_mutex intake_mu_;  // writers hold it shared while deciding; switches hold it exclusive

  std::mutex phase_mu_;  // validate/reorder/apply, one at a time in this process

  std::mutex validator_mu_;
  std::condition_variable validator_cv_;  // new work for the validator
  std::condition_variable progress_cv_;   // validated_seq moved
  std::atomic<bool> validator_sleeping_{false};
  bool stopping_ = false;
  bool started_ = false;
  std::thread validator_thread_;
};

}  // namespace aiops::specbuf
