#include "aiops/wal/log.hpp"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "aiops/core/checksum.hpp"
#include "aiops/wal/segment.hpp"

namespace aiops::wal {
namespace {

// The blocking parts of the append path sleep on futexes directly: a
// std::binary_semaphore spins with sched_yield before it sleeps, and with
// dozens of appenders on a few cores that spinning ate a third of the CPU.
void futex_wait(std::atomic<uint32_t>& word, uint32_t expected, const timespec* timeout = nullptr) {
  ::syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, expected, timeout, nullptr, 0);
}

void futex_wake(std::atomic<uint32_t>& word) { ::syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0); }

Status zero_range(io::File& file, uint64_t from, uint64_t to) {
  std::vector<std::byte> zeros(static_cast<size_t>(std::min<uint64_t>(to - from, 1 << 20)));
  for (uint64_t off = from; off < to;) {
    auto chunk = std::span(zeros).first(static_cast<size_t>(std::min<uint64_t>(zeros.size(), to - off)));
    AIOPS_TRY(io::write_full(file, off, chunk));
    off += chunk.size();
  }
  return {};
}

timespec to_timespec(std::chrono::nanoseconds d) {
  return {static_cast<time_t>(d.count() / 1'000'000'000), static_cast<long>(d.count() % 1'000'000'000)};
}

}  // namespace

struct Log::Pending {
  Pending* next = nullptr;  // intake stack link
  RecordHeader header;
  std::span<const std::byte> payload;
  uint64_t payload_hash = 0;
  bool durable = false;
  bool barrier = false;  // sync(): a marker record (if needed) and an fdatasync
  bool seal = false;     // with barrier: write the marker even if nothing needs it
  bool owned = false;    // allocated by append_async; the committer deletes it
  AppendCompletion* done = nullptr;
  Waiter* waiter = nullptr;  // the blocking call's completion, if it is one
  Appended result;

  [[nodiscard]] uint64_t bytes() const { return record_header_bytes + payload.size(); }
};

// A commit round: what the committer wrote with one write (or failed to),
// on its way to the syncer.
struct Log::Round {
  std::vector<Pending*> members;
  std::shared_ptr<io::File> file;  // the segment the round's last records went to
  uint64_t written_through = 0;    // highest sequence written when the round was
  bool need_sync = false;
  std::optional<Error> error;      // the write failed, or the log had failed
};

// The futex words of the blocking appenders acknowledged after one
// fdatasync, in order. The syncer wakes the first; each woken appender wakes
// the next, as a relay. Waking a thread costs a few microseconds in the
// kernel; done one by one by the syncer, waking dozens cost it more than the
// fdatasync. A relay also keeps most wakeups on the waker's own core, which
// measured faster than fanning out (a tree woken two or four at a time) on a
// virtual machine, where a wakeup sent to another core is expensive.
//
// Only addresses are kept: an appender may see its flag set and return (its
// word gone) before anyone wakes it; a FUTEX_WAKE on such an address wakes at
// most a spurious waiter, which every futex user re-checks for. The relay
// never breaks: however a waiter learns that its flag is set, it wakes the
// next one before it returns (Waiter::wait).
struct Log::WakeRound {
  std::vector<std::atomic<uint32_t>*> words;

  void wake_next_after(size_t i) const {
    if (i + 1 < words.size()) futex_wake(*words[i + 1]);
  }
};

// Completion of a blocking call (append(), sync()): the syncer stores the
// outcome and sets `done_`; see WakeRound for who wakes the thread.
class Log::Waiter final : public AppendCompletion {
 public:
  Pending pending;

  void complete(const Result<Appended>& result) noexcept override {
    result_.emplace(result);
    done_.store(1, std::memory_order_release);
  }
  Result<Appended> wait() {
    while (done_.load(std::memory_order_acquire) == 0) futex_wait(done_, 0);
    if (round_) {  // none when the call was refused before it reached the committer
      round_->wake_next_after(index_);
      round_.reset();
    }
    return std::move(*result_);
  }

 private:
  friend class Log;
  std::atomic<uint32_t> done_{0};
  std::optional<Result<Appended>> result_;
  std::shared_ptr<const WakeRound> round_;  // set by the syncer before done_
  size_t index_ = 0;
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
  // Protect what recovery found: a marker after it lets a later reader tell
  // damage to these records from a torn tail.
  if (!log->last_is_marker_) AIOPS_TRY(log->seal());
  log->syncer_ = std::thread(&Log::sync_loop, log.get());
  log->committer_ = std::thread(&Log::commit_loop, log.get());
  if (options.preallocation == Preallocation::background)
    log->preallocator_ = std::thread(&Log::preallocate_loop, log.get());
  return log;
}

Log::~Log() {
  {
    std::lock_guard lock(spares_mu_);
    stopping_.store(true, std::memory_order_seq_cst);
  }
  spares_cv_.notify_all();
  if (committer_asleep_.exchange(0, std::memory_order_seq_cst) == 1) futex_wake(committer_asleep_);
  if (committer_.joinable()) committer_.join();  // it stops the syncer, then seals the log
  if (preallocator_.joinable()) preallocator_.join();
}

// ---------------------------------------------------------------- recovery

Status Log::recover() {
  AIOPS_TRY(load_spares());
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
        if (cut.kind == Finding::Kind::torn_tail) {
          // Zero the leftovers, keeping the file's size (and preallocation):
          // stale bytes must never resurface behind newer records.
          AIOPS_TRY(zero_range(*file, cut.offset, s.junk_end));
          recovery_.bytes_dropped += s.junk_end - cut.offset;
        } else {
          AIOPS_TRY(file->truncate(cut.offset));
          recovery_.bytes_dropped += s.file_bytes - cut.offset;
          s.file_bytes = cut.offset;
        }
        AIOPS_TRY(file->sync_data());
        s.valid_end = cut.offset;
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
      AIOPS_TRY(recycle(s.path));
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
    writeback_from_ = write_offset_;
    last_is_marker_ = newest.records == 0 || newest.ends_with_marker;
    unsynced_since_fua_ = !last_is_marker_;
    // What a dead predecessor wrote (page cache) becomes durable now, so
    // everything recovered is durable from the start.
    AIOPS_TRY(active_->sync_data());
  } else {
    AIOPS_TRY(create_segment());
  }
  durable_through_.store(next_sequence_ - 1, std::memory_order_release);
  written_through_.store(next_sequence_ - 1, std::memory_order_release);
  return {};
}

// ---------------------------------------------------------------- appending

namespace {

Error too_large(size_t bytes) {
  return Error(Errc::invalid_argument,
               "log append: payload of " + std::to_string(bytes) + " bytes is larger than a record can hold");
}

}  // namespace

void Log::prepare(const AppendRequest& request, Pending& p) {
  p.header = {0, 0, request.client, request.volume, request.offset, static_cast<uint32_t>(request.payload.size())};
  p.payload = request.payload;
  p.payload_hash = request.payload_hash ? *request.payload_hash : checksum64(request.payload);
  p.durable = request.durability == Durability::durable;
}

Result<Appended> Log::append(const AppendRequest& request) {
  if (request.payload.size() > UINT32_MAX) return too_large(request.payload.size());
  Waiter waiter;
  prepare(request, waiter.pending);
  waiter.pending.done = &waiter;
  waiter.pending.waiter = &waiter;
  push(&waiter.pending);
  return waiter.wait();
}

void Log::append_async(const AppendRequest& request, AppendCompletion& done) {
  if (request.payload.size() > UINT32_MAX) {
    done.complete(too_large(request.payload.size()));
    return;
  }
  auto* p = new Pending;
  prepare(request, *p);
  p->owned = true;
  p->done = &done;
  push(p);
}

void Log::sync_async(AppendCompletion& done) {
  auto* p = new Pending;
  p->barrier = true;
  p->durable = true;
  p->owned = true;
  p->done = &done;
  push(p);
}

Result<uint64_t> Log::sync() {
  Waiter waiter;
  waiter.pending.barrier = true;
  waiter.pending.durable = true;
  waiter.pending.done = &waiter;
  waiter.pending.waiter = &waiter;
  push(&waiter.pending);
  AIOPS_ASSIGN(Appended done, waiter.wait());
  return done.sequence;
}

void Log::push(Pending* p) {
  if (failed_.load(std::memory_order_acquire)) {
    AppendCompletion* done = p->done;
    if (p->owned) delete p;
    done->complete(*failure());
    return;
  }
  Pending* old = intake_.load(std::memory_order_relaxed);
  do {
    p->next = old;
  } while (!intake_.compare_exchange_weak(old, p, std::memory_order_seq_cst, std::memory_order_relaxed));
  uint32_t count = intake_count_.fetch_add(1, std::memory_order_seq_cst) + 1;
  // The committer sleeps only on an empty stack (or while it waits for a
  // batch to fill): the push that ends that state wakes it.
  if ((old == nullptr || count == wake_at_count_.load(std::memory_order_relaxed)) &&
      committer_asleep_.exchange(0, std::memory_order_seq_cst) == 1)
    futex_wake(committer_asleep_);
}

void Log::take(std::vector<Pending*>& batch) {
  Pending* list = intake_.exchange(nullptr, std::memory_order_seq_cst);
  size_t first = batch.size();
  for (; list != nullptr; list = list->next) batch.push_back(list);
  intake_count_.fetch_sub(static_cast<uint32_t>(batch.size() - first), std::memory_order_relaxed);
  std::reverse(batch.begin() + static_cast<long>(first), batch.end());  // the stack is newest first
}

void Log::sleep_until_work() {
  wake_at_count_.store(1, std::memory_order_relaxed);
  committer_asleep_.store(1, std::memory_order_seq_cst);
  // Re-check after announcing the sleep: a push that came before the
  // announcement did not wake us.
  if (intake_.load(std::memory_order_seq_cst) != nullptr || stopping_.load(std::memory_order_seq_cst)) {
    committer_asleep_.store(0, std::memory_order_relaxed);
    return;
  }
  while (committer_asleep_.load(std::memory_order_acquire) == 1) futex_wait(committer_asleep_, 1);
}

void Log::fill(std::vector<Pending*>& batch, size_t expect) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + options_.group_commit_delay;
  uint64_t bytes = 0;
  for (const Pending* p : batch) bytes += p->bytes();
  while (batch.size() < expect && bytes < options_.group_commit_bytes && !stopping_.load()) {
    auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) break;
    uint32_t missing = static_cast<uint32_t>(expect - batch.size());
    if (intake_count_.load(std::memory_order_seq_cst) < missing) {
      wake_at_count_.store(missing, std::memory_order_relaxed);
      committer_asleep_.store(1, std::memory_order_seq_cst);
      if (intake_count_.load(std::memory_order_seq_cst) < missing) {
        timespec ts = to_timespec(std::chrono::duration_cast<std::chrono::nanoseconds>(left));
        futex_wait(committer_asleep_, 1, &ts);
      }
      committer_asleep_.store(0, std::memory_order_relaxed);
      continue;
    }
    size_t before = batch.size();
    take(batch);
    for (size_t i = before; i < batch.size(); ++i) bytes += batch[i]->bytes();
  }
  take(batch);
}

void Log::commit_loop() {
  pthread_setname_np(pthread_self(), "aiops-log");
  std::vector<Pending*> batch;
  size_t expect = 0;
  while (true) {
    take(batch);
    if (batch.empty()) {
      if (stopping_.load(std::memory_order_seq_cst)) break;
      sleep_until_work();
      continue;
    }
    bool needs_sync = std::any_of(batch.begin(), batch.end(), [](const Pending* p) { return p->durable; });
    if (options_.group_commit_delay.count() > 0 && needs_sync && batch.size() < expect) fill(batch, expect);
    expect = batch.size();
    finish_or_hand_over(write_round(std::move(batch)));
    batch.clear();
  }
  {
    std::lock_guard lock(handoff_mu_);
    committer_done_ = true;
  }
  handoff_cv_.notify_one();
  syncer_.join();
  // A clean close ends the log with a marker (and makes everything durable).
  if (!failed_.load() && !last_is_marker_) {
    Status s = seal();
    if (!s.ok()) fail(s.error());
  }
}

Status Log::seal() {
  Pending marker;
  marker.barrier = true;
  marker.durable = true;
  marker.seal = true;
  Pending* one[] = {&marker};
  AIOPS_TRY(write_batch(one));
  AIOPS_TRY(active_->sync_data());
  advance_durable(written_through_.load(std::memory_order_relaxed));
  std::lock_guard lock(mu_);
  ++stats_.syncs;
  return {};
}

// The committer's half of a round: assign sequence numbers and write, in
// chunks of at most group_commit_bytes.
Log::Round Log::write_round(std::vector<Pending*> batch) {
  Round round;
  round.members = std::move(batch);
  round.error = failure();
  for (size_t start = 0; !round.error && start < round.members.size();) {
    size_t end = start;
    uint64_t bytes = 0;
    while (end < round.members.size() &&
           (end == start || bytes + round.members[end]->bytes() <= options_.group_commit_bytes))
      bytes += round.members[end++]->bytes();
    Status s = write_batch(std::span(round.members).subspan(start, end - start));
    if (!s.ok()) round.error = fail(s.error());
    start = end;
  }
  round.file = active_;
  round.written_through = written_through_.load(std::memory_order_relaxed);
  round.need_sync = std::any_of(round.members.begin(), round.members.end(), [](const Pending* p) { return p->durable; });
  return round;
}

// A written round goes to the syncer, which fdatasyncs if it must and
// acknowledges; or it is acknowledged here (see below).
void Log::finish_or_hand_over(Round round) {
  bool here = false;
  bool wake = false;
  {
    std::lock_guard lock(handoff_mu_);
    // A round that needs no fdatasync, with every earlier round already
    // acknowledged (the syncer waits and has nothing queued), is
    // acknowledged right here: the order holds, since only this thread
    // makes rounds, and it saves waking a second thread for every round.
    here = !round.need_sync && syncer_idle_ && handoff_.empty();
    if (!here) {
      handoff_.push_back(std::move(round));
      wake = syncer_idle_;
    }
  }
  if (wake) handoff_cv_.notify_one();
  if (here) {
    std::vector<Round> rounds;
    rounds.push_back(std::move(round));
    finish_rounds(rounds);
  }
}

// The syncer's half: one fdatasync for every round written since its last
// one (while it syncs, the committer writes the next), then the
// acknowledgements, in sequence order.
void Log::sync_loop() {
  pthread_setname_np(pthread_self(), "aiops-log-sync");
  std::vector<Round> rounds;
  while (true) {
    {
      std::unique_lock lock(handoff_mu_);
      syncer_idle_ = true;
      handoff_cv_.wait(lock, [&] { return !handoff_.empty() || committer_done_; });
      syncer_idle_ = false;
      if (handoff_.empty()) return;
      for (Round& r : handoff_) rounds.push_back(std::move(r));
      handoff_.clear();
    }
    finish_rounds(rounds);
    rounds.clear();
  }
}

void Log::finish_rounds(std::vector<Round>& rounds) {
  std::optional<Error> error;
  bool need_sync = false;
  for (const Round& r : rounds) {
    if (r.error && !error) error = r.error;
    // Rounds in a segment the committer has left were synced when it left.
    need_sync = need_sync || (r.need_sync && r.written_through > durable_through_.load(std::memory_order_relaxed));
  }
  if (!error) error = failure();
  uint64_t syncs = 0;
  if (!error && need_sync) {
    Status s = rounds.back().file->sync_data();
    ++syncs;
    if (s.ok()) advance_durable(rounds.back().written_through);
    else error = fail(s.error());
  }
  auto wake = std::make_shared<WakeRound>();
  uint64_t records = 0, bytes = 0;
  for (Round& r : rounds) {
    for (Pending* p : r.members) {
      if (!error && !p->barrier) ++records, bytes += p->payload.size();
    }
  }
  if (!error) {
    std::lock_guard lock(mu_);
    stats_.records += records;
    stats_.payload_bytes += bytes;
    stats_.batches += rounds.size();
    stats_.syncs += syncs;
  }
  // The wake list is complete before any appender can see its flag and read it.
  for (Round& r : rounds) {
    for (Pending* p : r.members) {
      if (p->waiter == nullptr) continue;
      p->waiter->round_ = wake;
      p->waiter->index_ = wake->words.size();
      wake->words.push_back(&p->waiter->done_);
    }
  }
  for (Round& r : rounds) {
    for (Pending* p : r.members) {
      Result<Appended> outcome = error ? Result<Appended>(*error) : Result<Appended>(p->result);
      AppendCompletion* done = p->done;
      if (p->owned) delete p;
      done->complete(outcome);
    }
  }
  if (!wake->words.empty()) futex_wake(*wake->words.front());
}

Status Log::write_batch(std::span<Pending* const> batch) {
  static const uint64_t empty_hash = checksum64(std::span<const std::byte>());
  // Headers are built here, payloads are written from where the appenders
  // hold them (one pwritev): no copy of the data in user space. Reserved
  // up front, because `parts_` points into `headers_`.
  headers_.clear();
  headers_.reserve(batch.size());
  parts_.clear();
  buffer_offset_ = write_offset_;
  uint64_t buffered = 0;
  for (Pending* p : batch) {
    // A barrier needs a marker only if something unprotected came before;
    // either way its result is the last record before it.
    if (p->barrier && !(p->seal || unsynced_since_fua_)) {
      p->result.sequence = next_sequence_ - 1;
      continue;
    }
    uint64_t end = buffer_offset_ + buffered;
    if (end > segment_header_bytes && end + p->bytes() > options_.segment_bytes) {
      AIOPS_TRY(flush_buffer(buffered));
      AIOPS_TRY(create_segment());
      buffer_offset_ = write_offset_;
      buffered = 0;
    }
    p->header.sequence = next_sequence_++;
    p->header.flags = p->durable ? record_flag_fua : 0;
    if (p->barrier) {
      p->header.flags |= record_flag_marker;
      p->payload_hash = empty_hash;
    }
    unsynced_since_fua_ = !p->durable;
    last_is_marker_ = p->barrier;
    p->result = {p->header.sequence, active_index_, buffer_offset_ + buffered};
    encode_record_header(p->header, p->payload_hash, headers_.emplace_back().data());
    parts_.push_back(headers_.back());
    if (!p->payload.empty()) parts_.push_back(p->payload);
    buffered += p->bytes();
  }
  return flush_buffer(buffered);
}

// Writes the parts gathered since the last flush (`bytes` of records) and
// the end mark with one write.
Status Log::flush_buffer(uint64_t bytes) {
  if (parts_.empty()) return {};
  static const std::byte end_mark[end_mark_bytes] = {};
  parts_.push_back(end_mark);
  AIOPS_TRY(io::write_full(*active_, buffer_offset_, parts_));
  parts_.clear();
  write_offset_ = buffer_offset_ + bytes;
  written_through_.store(next_sequence_ - 1, std::memory_order_release);
  buffer_offset_ = write_offset_;
  if (options_.writeback_bytes > 0 && write_offset_ - writeback_from_ >= options_.writeback_bytes) {
    active_->start_writeback(writeback_from_, write_offset_ - writeback_from_);
    writeback_from_ = write_offset_;
  }
  std::lock_guard lock(segments_mu_);
  segments_.back().next_sequence = next_sequence_;
  segments_.back().end_offset = write_offset_;
  return {};
}

Status Log::create_segment() {
  // The segment being left must be complete on disk before a newer one
  // exists: only the newest segment may have a torn tail.
  if (active_) {
    AIOPS_TRY(active_->sync_data());
    advance_durable(written_through_.load(std::memory_order_relaxed));
    std::lock_guard lock(mu_);
    ++stats_.syncs;
  }
  uint64_t index = active_index_ + 1;
  std::filesystem::path path = dir_ / segment_file_name(index);
  std::byte header[segment_header_bytes + end_mark_bytes] = {};
  encode_segment_header({index, next_sequence_, options_.generation}, header);
  // Header and end mark are durable before the file has its segment name:
  // a recycled spare still holds its old header, which must never be read
  // under the new name.
  AIOPS_ASSIGN(std::filesystem::path spare, take_spare());
  const bool fresh = spare.empty();
  const std::filesystem::path& where = fresh ? path : spare;
  AIOPS_ASSIGN(std::unique_ptr<io::File> file, fs_.open(where, {.create = fresh, .exclusive = fresh}));
  AIOPS_TRY(io::write_full(*file, 0, header));
  AIOPS_TRY(file->sync_data());
  if (!fresh) AIOPS_TRY(fs_.rename(spare, path));
  AIOPS_TRY(fs_.sync_directory(dir_));
  file.reset();
  AIOPS_ASSIGN(file, fs_.open(path, {}));
  active_ = std::move(file);
  active_index_ = index;
  write_offset_ = segment_header_bytes;
  writeback_from_ = write_offset_;
  {
    std::lock_guard lock(segments_mu_);
    segments_.push_back({index, next_sequence_, next_sequence_, segment_header_bytes});
  }
  std::lock_guard lock(mu_);
  ++stats_.segments_created;
  return {};
}

namespace {

std::optional<uint64_t> spare_id(std::string_view name) {
  if (!name.starts_with(spare_file_prefix) || !name.ends_with(spare_file_suffix)) return std::nullopt;
  std::string_view digits = name.substr(spare_file_prefix.size(), name.size() - spare_file_prefix.size() -
                                                                       spare_file_suffix.size());
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

// Caller holds spares_mu_.
std::filesystem::path Log::new_spare_name() {
  return dir_ / (std::string(spare_file_prefix) + std::to_string(next_spare_id_++) + std::string(spare_file_suffix));
}

// Spares left by an earlier run are kept when they are full size; a smaller
// one is a zero-fill that a crash interrupted.
Status Log::load_spares() {
  AIOPS_ASSIGN(auto names, fs_.list(dir_));
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    auto id = spare_id(name);
    if (!id) continue;
    next_spare_id_ = std::max(next_spare_id_, *id + 1);
    AIOPS_ASSIGN(auto file, fs_.open(dir_ / name, {.read_only = true}));
    AIOPS_ASSIGN(uint64_t size, file->size());
    if (size >= options_.segment_bytes) spares_.push_back(dir_ / name);
    else AIOPS_TRY(fs_.remove(dir_ / name));
  }
  return {};
}

// Takes a spare file out of the pool; an empty path when there is none and
// none is to be made now.
Result<std::filesystem::path> Log::take_spare() {
  // The first segment of a log being opened is zero-filled on the spot:
  // the background preallocator is not running yet.
  const bool fill_now = options_.preallocation == Preallocation::inline_ ||
                        (options_.preallocation == Preallocation::background && !active_);
  std::unique_lock lock(spares_mu_);
  if (spares_.empty()) {
    if (!fill_now) return std::filesystem::path();
    lock.unlock();
    AIOPS_TRY(make_spare());
    lock.lock();
  }
  std::filesystem::path spare = spares_.front();
  spares_.pop_front();
  lock.unlock();
  spares_cv_.notify_all();  // the preallocator refills the pool
  return spare;
}

// A retired segment becomes a spare: its blocks are allocated, so reusing it
// costs no zero-fill. Its old records stay behind the end mark.
Status Log::recycle(const std::filesystem::path& segment) {
  std::filesystem::path spare;
  {
    std::lock_guard lock(spares_mu_);
    if (spares_.size() < options_.max_spare_segments) spare = new_spare_name();
  }
  if (!spare.empty()) {
    AIOPS_ASSIGN(auto file, fs_.open(segment, {.read_only = true}));
    AIOPS_ASSIGN(uint64_t size, file->size());
    if (size >= options_.segment_bytes) {
      AIOPS_TRY(fs_.rename(segment, spare));
      std::lock_guard lock(spares_mu_);
      spares_.push_back(spare);
      return {};
    }
  }
  return fs_.remove(segment);
}

// Creates a full-size, zero-filled, synced spare, so that writing into it
// later changes no metadata.
Status Log::make_spare() {
  std::filesystem::path spare;
  {
    std::lock_guard lock(spares_mu_);
    spare = new_spare_name();
  }
  AIOPS_ASSIGN(auto file, fs_.open(spare, {.create = true, .exclusive = true}));
  AIOPS_TRY(zero_range(*file, 0, options_.segment_bytes));
  AIOPS_TRY(file->sync_data());
  std::lock_guard lock(spares_mu_);
  spares_.push_back(spare);
  return {};
}

void Log::preallocate_loop() {
  pthread_setname_np(pthread_self(), "aiops-log-prep");
  while (true) {
    {
      std::unique_lock lock(spares_mu_);
      spares_cv_.wait(lock, [&] { return stopping_.load() || spares_.size() < options_.spare_segments; });
      if (stopping_.load()) return;
    }
    Status s = make_spare();
    if (!s.ok()) {
      // Segments grow with their appends instead; the error stays visible.
      std::lock_guard lock(spares_mu_);
      prealloc_error_ = s.error();
      return;
    }
    spares_cv_.notify_all();
  }
}

size_t Log::spare_count() const {
  std::lock_guard lock(spares_mu_);
  return spares_.size();
}

Status Log::lay_out_spares(size_t count) {
  count = std::min<size_t>(count, options_.max_spare_segments);
  while (spare_count() < count) AIOPS_TRY(make_spare());
  return {};
}

void Log::advance_durable(uint64_t sequence) {
  uint64_t cur = durable_through_.load(std::memory_order_relaxed);
  while (cur < sequence && !durable_through_.compare_exchange_weak(cur, sequence, std::memory_order_release)) {
  }
}

Error Log::fail(const Error& error) {
  std::lock_guard lock(mu_);
  if (!failure_)
    failure_ = Error(Errc::log_failed, "log " + dir_.string() + " failed and refuses all appends until it is "
                                       "reopened: " + error.message(), error.sys_errno());
  failed_.store(true, std::memory_order_release);
  return *failure_;
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

Status Log::read_segment(uint64_t segment, uint64_t file_offset, std::span<std::byte> out) const {
  std::shared_ptr<io::File> file;
  {
    std::lock_guard lock(segments_mu_);
    auto it = readers_.find(segment);
    if (it == readers_.end()) {
      bool live = std::any_of(segments_.begin(), segments_.end(), [&](const SegmentState& s) { return s.index == segment; });
      if (!live) return Error(Errc::not_found, "log segment " + std::to_string(segment) + " is retired");
      AIOPS_ASSIGN(auto opened, fs_.open(dir_ / segment_file_name(segment), {.read_only = true}));
      it = readers_.emplace(segment, std::shared_ptr<io::File>(std::move(opened))).first;
    }
    file = it->second;
  }
  AIOPS_ASSIGN(size_t n, io::read_full(*file, file_offset, out));
  if (n != out.size())
    return Error(Errc::io_error, "read " + file->path().string() + " at offset " + std::to_string(file_offset) +
                                     ": the file ends after " + std::to_string(n) + " of " +
                                     std::to_string(out.size()) + " bytes");
  return {};
}

Result<uint64_t> Log::remove_segments_through(uint64_t sequence) {
  std::vector<uint64_t> doomed;
  {
    std::lock_guard lock(segments_mu_);
    while (segments_.size() > 1 && segments_.front().next_sequence - 1 <= sequence) {
      doomed.push_back(segments_.front().index);
      readers_.erase(segments_.front().index);
      segments_.erase(segments_.begin());
    }
  }
  for (uint64_t index : doomed) AIOPS_TRY(recycle(dir_ / segment_file_name(index)));
  if (!doomed.empty()) {
    AIOPS_TRY(fs_.sync_directory(dir_));
    spares_cv_.notify_all();
  }
  return static_cast<uint64_t>(doomed.size());
}

}  // namespace aiops::wal
