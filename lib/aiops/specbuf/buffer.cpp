#include "aiops/specbuf/buffer.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "aiops/core/logger.hpp"
#include "aiops/sched/client_plan.hpp"
#include "aiops/specbuf/reorder.hpp"

namespace aiops::specbuf {

namespace {

constexpr uint32_t retry_base_ms = 20;
constexpr size_t apply_batch_entries = 1024;
constexpr uint64_t apply_batch_bytes = 16ull << 20;
constexpr auto validator_idle_wait = std::chrono::milliseconds(100);

// Counts the outstanding log appends of one apply batch.
struct Batch {
  std::mutex mu;
  std::condition_variable cv;
  size_t remaining = 0;
  std::optional<Error> error;

  void done(const Result<wal::Appended>& r) {
    std::lock_guard lock(mu);
    if (!r.ok() && !error) error = r.error();
    if (--remaining == 0) cv.notify_all();
  }
  Status wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return remaining == 0; });
    if (error) return *error;
    return {};
  }
};

class Append final : public store::WriteCompletion {
 public:
  explicit Append(Batch& batch) : batch_(batch) {}
  void write_done(const Result<wal::Appended>& result) noexcept override { batch_.done(result); }

 private:
  Batch& batch_;
};

}  // namespace

Result<std::unique_ptr<Buffer>> Buffer::open(const config::Config& config, Mode mode, bool start) {
  const std::string name = Segment::name_for(config.worker.name, config.worker.data_dir);
  const auto uid = static_cast<uint32_t>(::geteuid());
  std::unique_ptr<Segment> segment;
  if (mode == Mode::worker) {
    AIOPS_ASSIGN(segment, Segment::create_or_attach({name, uid, {config.buffer.max_entries, config.buffer.size_bytes}}));
  } else {
    AIOPS_ASSIGN(segment, Segment::attach(name, uid));
  }
  std::unique_ptr<Buffer> b(new Buffer(config, mode, std::move(segment)));
  if (start) b->start();
  return b;
}

void Buffer::start() {
  if (started_) return;
  started_ = true;
  segment_->advance_tail();  // entries applied or rejected just before a crash
  rebuild_index();
  if (mode_ == Mode::worker) resume_validator();
}

void Buffer::stop_validator() {
  {
    std::lock_guard lock(validator_mu_);
    stopping_ = true;
  }
  validator_cv_.notify_all();
  progress_cv_.notify_all();
  if (validator_thread_.joinable()) validator_thread_.join();
}

void Buffer::resume_validator() {
  if (validator_thread_.joinable()) return;
  {
    std::lock_guard lock(validator_mu_);
    stopping_ = false;
  }
  // Entries below the head now were reserved before this validator ran; one
  // still WRITING there has a writer that is gone (see decide_next).
  attach_head_ = segment_->header().head_seq.load(std::memory_order_acquire);
  validator_thread_ = std::thread([this] { validator_loop(); });
}

std::vector<std::pair<uint64_t, BufferWaiter*>> Buffer::durable_waiters() const {
  std::lock_guard lock(durable_mu_);
  return {durable_waiters_.begin(), durable_waiters_.end()};
}

std::vector<std::pair<uint64_t, BufferWaiter*>> Buffer::take_durable_waiters() {
  std::lock_guard lock(durable_mu_);
  std::vector<std::pair<uint64_t, BufferWaiter*>> out(durable_waiters_.begin(), durable_waiters_.end());
  durable_waiters_.clear();
  return out;
}

Buffer::Buffer(const config::Config& config, Mode mode, std::unique_ptr<Segment> segment)
    : config_(config),
      mode_(mode),
      segment_(std::move(segment)),
      validator_(config_),
      waiters_(segment_->header().max_entries) {
  attach_head_ = segment_->header().head_seq.load(std::memory_order_acquire);
  for (const auto& v : config_.volumes) index_[v.id];
  load_priorities();
}

Buffer::~Buffer() { stop_validator(); }

// ---- priorities and admission

void Buffer::load_priorities() {
  const auto& h = segment_->header();
  std::lock_guard lock(priorities_mu_);
  ranks_.clear();
  const uint32_t n = std::min<uint32_t>(h.priority_count.load(std::memory_order_acquire), max_priorities);
  if (n > 0) {
    for (uint32_t i = 0; i < n; ++i) ranks_[h.priorities[i].client] = {h.priorities[i].rank, h.priorities[i].score};
  } else {
    // Nothing published yet: the SLA weights are in force.
    for (const auto& c : priorities_from_sla(config_).clients) ranks_[c.id] = {c.rank, c.score};
  }
  ranked_clients_ = static_cast<uint32_t>(ranks_.size());
}

void Buffer::publish_priorities(const PriorityList& list) {
  auto& h = segment_->header();
  const size_t n = std::min(list.clients.size(), max_priorities);
  {
    Segment::Lock lock(*segment_);
    h.priority_count.store(0, std::memory_order_release);
    for (size_t i = 0; i < n; ++i) h.priorities[i] = {list.clients[i].id, list.clients[i].rank, list.clients[i].score};
    h.priority_count.store(static_cast<uint32_t>(n), std::memory_order_release);
  }
  if (list.clients.size() > max_priorities)
    log_warning("priority list has " + std::to_string(list.clients.size()) + " clients; the buffer header holds " +
                std::to_string(max_priorities) + ", the rest rank last");
  load_priorities();
  if (priority_observer_) priority_observer_(list);
}

void Buffer::set_priority_observer(std::function<void(const PriorityList&)> observer) {
  priority_observer_ = std::move(observer);
}

// 0 for the first-ranked client, 1 for the last; unlisted clients count as
// last. One lock for both the client's rank and the size of the list.
double Buffer::position_of(uint32_t client) const {
  std::lock_guard lock(priorities_mu_);
  auto it = ranks_.find(client);
  return sched::rank_position(it == ranks_.end() ? 0 : it->second.rank, ranked_clients_);
}

// Rank 1 may fill everything, the last rank buffer_watermark of it.
double Buffer::share_of(uint32_t client) const {
  if (config_.scheduler.policy == config::SchedulerConfig::Policy::fifo) return 1.0;
  return 1.0 - (1.0 - config_.scheduler.buffer_watermark) * position_of(client);
}

double Buffer::fill() const {
  const auto& h = segment_->header();
  const Occupancy o = segment_->occupancy();
  return std::max(static_cast<double>(o.entries) / h.max_entries,
                  static_cast<double>(o.bytes) / static_cast<double>(h.arena_bytes));
}

// retry = base x (1 + 3 x position in the ranking) x (1 + 9 x fill): from
// 20 ms for the first client of an empty buffer to 800 ms for the last
// client of a full one.
uint32_t Buffer::retry_after_ms(uint32_t client) const {
  const double f = std::clamp(fill(), 0.0, 1.0);
  return static_cast<uint32_t>(retry_base_ms * (1 + 3 * position_of(client)) * (1 + 9 * f));
}

void Buffer::set_retry_delay(RetryDelay delay) { retry_delay_ = std::move(delay); }

uint32_t Buffer::delay_for(uint32_t client, bool full) const {
  if (retry_delay_) return retry_delay_(client, std::clamp(fill(), 0.0, 1.0), full);
  return retry_after_ms(client);
}

// ---- intake

IntakeResult Buffer::write(uint32_t client, uint32_t volume, uint64_t offset, std::span<const std::byte> payload,
                           uint64_t checksum, bool fua, BufferWaiter& waiter) {
  auto gate = hold_intake();
  return write_held(client, volume, offset, payload, checksum, fua, waiter);
}

IntakeResult Buffer::write_held(uint32_t client, uint32_t volume, uint64_t offset, std::span<const std::byte> payload,
                                uint64_t checksum, bool fua, BufferWaiter& waiter) {
  if (!intake_active()) return {Intake::log, 0};
  const double share = share_of(client);
  if (static_cast<double>(payload.size()) > share * static_cast<double>(segment_->header().arena_bytes))
    return {Intake::too_large, 0};
  auto r = segment_->reserve(static_cast<uint32_t>(payload.size()), share);
  if (!r) return {Intake::full, delay_for(client, true)};
  EntryRecord& e = *r->entry;
  e.client = client;
  e.volume = volume;
  e.offset = offset;
  e.checksum = checksum;
  e.flags = fua ? entry_flag_fua : 0;
  std::memcpy(r->payload, payload.data(), payload.size());
  waiters_[r->seq % waiters_.size()].store(&waiter, std::memory_order_release);
  Segment::publish(e);
  segment_->header().accepted.fetch_add(1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (validator_sleeping_.load(std::memory_order_seq_cst)) {
    std::lock_guard lock(validator_mu_);
    validator_cv_.notify_one();
  }
  return {Intake::taken, 0};
}

void Buffer::flush(BufferWaiter& waiter) {
  const uint64_t head = segment_->header().head_seq.load(std::memory_order_acquire);
  if (head == 0) return waiter.buffer_done(net::Status::ok, 0);
  wait_for_apply(head - 1, waiter);
}

// Tells `waiter` once tail_seq > seq: at once if it already is, or with
// shutting_down once the worker stops answering them.
void Buffer::wait_for_apply(uint64_t seq, BufferWaiter& waiter) {
  net::Status answer_now = net::Status::ok;
  {
    std::lock_guard lock(durable_mu_);
    if (segment_->header().tail_seq.load(std::memory_order_acquire) <= seq) {
      if (!abandoned_) {
        durable_waiters_.emplace(seq, &waiter);
        waiter.buffer_waiting_for_apply(seq);
        return;
      }
      answer_now = net::Status::shutting_down;
    }
  }
  waiter.buffer_done(answer_now, answer_now == net::Status::ok ? 0 : retry_after_ms(0));
}

Status Buffer::read(uint32_t volume, uint64_t offset, std::span<std::byte> out,
                    const std::function<Status(std::span<std::byte>)>& below) const {
  std::shared_lock lock(index_mu_);
  AIOPS_TRY(below(out));
  auto it = index_.find(volume);
  if (it == index_.end()) return {};
  for (const store::Piece& p : it->second.lookup(offset, out.size())) {
    std::memcpy(out.data() + (p.offset - offset), segment_->arena() + p.source.file_offset, p.length);
  }
  return {};
}

Status Buffer::switch_intake(bool to_buffer, const std::function<Status()>& while_held) {
  std::unique_lock gate(intake_mu_);
  if (while_held) AIOPS_TRY(while_held());
  segment_->header().intake.store(to_buffer ? 1 : 0, std::memory_order_release);
  return {};
}

void Buffer::abandon_waiters(net::Status status) {
  std::multimap<uint64_t, BufferWaiter*> waiting;
  {
    std::lock_guard lock(durable_mu_);
    abandoned_ = true;  // and those that come later are answered at once
    waiting.swap(durable_waiters_);
  }
  for (auto& [seq, w] : waiting) w->buffer_done(status, retry_after_ms(0));
}

void Buffer::resume_waiting() {
  std::lock_guard lock(durable_mu_);
  abandoned_ = false;
}

// ---- validation

void Buffer::index_entry(const EntryRecord& e) {
  std::unique_lock lock(index_mu_);
  auto it = index_.find(e.volume);
  if (it == index_.end()) return;
  it->second.insert(e.offset, e.length, {e.seq, 0, e.pos % segment_->header().arena_bytes});
}

void Buffer::rebuild_index() {
  const auto& h = segment_->header();
  const uint64_t tail = h.tail_seq.load(std::memory_order_acquire);
  const uint64_t validated = h.validated_seq.load(std::memory_order_acquire);
  for (uint64_t s = tail; s < validated; ++s) {
    const EntryRecord& e = segment_->slot(s);
    if (e.seq == s && e.load_state() == EntryState::valid) index_entry(e);
  }
}

// Decides the entry at validated_seq, if there is one and it can be
// decided now. Only one party calls this at a time (the validator thread,
// or an offline phase).
bool Buffer::decide_next(bool wait_for_writers) {
  auto& h = segment_->header();
  const uint64_t seq = h.validated_seq.load(std::memory_order_acquire);
  if (seq >= h.head_seq.load(std::memory_order_seq_cst)) return false;
  EntryRecord& e = segment_->slot(seq);
  EntryState state = e.load_state();
  if (state == EntryState::writing) {
    if (wait_for_writers && seq >= attach_head_) return false;  // our own writer is still copying
    // Its writer died before publishing: never acknowledged.
    if (e.move(EntryState::writing, EntryState::free)) h.discarded.fetch_add(1, std::memory_order_relaxed);
    state = EntryState::free;
  }
  BufferWaiter* waiter = nullptr;
  if (state == EntryState::pending) {
    // Bounds first: a damaged length must not make the check read past the
    // arena.
    const uint64_t arena = h.arena_bytes;
    Verdict v = e.length == 0 || e.pos % arena + e.length > arena
                    ? Verdict{net::Status::checksum_mismatch,
                              "entry " + std::to_string(seq) + ": its position and length are damaged"}
                    : validator_.check(e, segment_->payload(e));
    waiter = waiters_[seq % waiters_.size()].exchange(nullptr, std::memory_order_acq_rel);
    if (v.valid()) {
      index_entry(e);  // before it shows as VALID, so an acknowledged write is always readable
      e.move(EntryState::pending, EntryState::valid);
      h.validated.fetch_add(1, std::memory_order_relaxed);
      state = EntryState::valid;
    } else {
      e.status = static_cast<uint16_t>(v.status);
      e.move(EntryState::pending, EntryState::rejected);
      h.rejected.fetch_add(1, std::memory_order_relaxed);
      log_warning("speculative buffer: rejected " + v.problem);
      if (waiter != nullptr) waiter->buffer_done(v.status, delay_for(e.client, false));
      waiter = nullptr;
      state = EntryState::rejected;
    }
  } else if (state == EntryState::valid) {
    index_entry(e);  // decided by a process that died before moving the cursor
  }
  // A FUA writer waits for the apply; it is registered before the cursor
  // moves, because an apply may start as soon as the cursor passes it.
  if (waiter != nullptr && (e.flags & entry_flag_fua) != 0) {
    wait_for_apply(seq, *waiter);
    waiter = nullptr;
  }
  h.validated_seq.store(seq + 1, std::memory_order_release);
  if (waiter != nullptr) waiter->buffer_done(net::Status::ok, 0);
  // A rejected entry at the tail gives its space back now, not at the next apply.
  if (state == EntryState::rejected && seq == h.tail_seq.load(std::memory_order_acquire)) release_applied();
  return true;
}

void Buffer::validator_loop() {
  pthread_setname_np(pthread_self(), "aiops-validate");
  unsigned idle_spins = 0;
  for (;;) {
    bool progressed = false;
    while (decide_next(true)) progressed = true;
    if (progressed) {
      idle_spins = 0;
      std::lock_guard lock(validator_mu_);
      progress_cv_.notify_all();
      continue;
    }
    // A writer between reserve and publish finishes within microseconds.
    if (++idle_spins < 64) {
      std::this_thread::yield();
      continue;
    }
    std::unique_lock lock(validator_mu_);
    if (stopping_) return;
    validator_sleeping_.store(true, std::memory_order_seq_cst);
    const auto& h = segment_->header();
    if (h.validated_seq.load(std::memory_order_seq_cst) >= h.head_seq.load(std::memory_order_seq_cst))
      validator_cv_.wait_for(lock, validator_idle_wait);
    validator_sleeping_.store(false, std::memory_order_relaxed);
    idle_spins = 0;
  }
}

Status Buffer::wait_validated(uint64_t target) {
  auto& h = segment_->header();
  if (mode_ == Mode::offline) {
    while (h.validated_seq.load(std::memory_order_acquire) < target) decide_next(false);
    return {};
  }
  std::unique_lock lock(validator_mu_);
  validator_cv_.notify_one();
  progress_cv_.wait(lock, [&] { return stopping_ || h.validated_seq.load(std::memory_order_acquire) >= target; });
  if (stopping_) return Error(Errc::busy, "the buffer is closing");
  return {};
}

Result<ValidateReport> Buffer::validate() {
  std::lock_guard phase(phase_mu_);
  auto& h = segment_->header();
  const ValidateReport before{h.validated.load(), h.rejected.load(), h.discarded.load()};
  AIOPS_TRY(wait_validated(h.head_seq.load(std::memory_order_acquire)));
  return ValidateReport{h.validated.load() - before.valid, h.rejected.load() - before.rejected,
                        h.discarded.load() - before.discarded};
}

// ---- order and apply

Result<uint64_t> Buffer::reorder() {
  std::lock_guard phase(phase_mu_);
  return reorder_held();
}

Result<uint64_t> Buffer::reorder_held() {
  auto& h = segment_->header();
  const uint64_t tail = h.tail_seq.load(std::memory_order_acquire);
  const uint64_t validated = h.validated_seq.load(std::memory_order_acquire);
  std::vector<ReorderEntry> entries;
  std::vector<EntryRecord*> records;
  for (uint64_t s = tail; s < validated; ++s) {
    EntryRecord& e = segment_->slot(s);
    if (e.seq != s || e.load_state() != EntryState::valid || e.rank.load(std::memory_order_acquire) != 0) continue;
    entries.push_back({s, e.client, e.volume, e.offset, e.length, 0.0});
    records.push_back(&e);
  }
  if (entries.empty()) return uint64_t{0};
  const std::vector<double> priority = apply_priorities(entries);
  for (size_t i = 0; i < entries.size(); ++i) entries[i].priority = priority[i];
  const std::vector<size_t> order = specbuf::reorder(entries);
  // The range is taken first, so a runner that dies half-way leaves a
  // prefix of the order ranked and the next one ranks the rest after it.
  const uint64_t base = h.next_rank.fetch_add(order.size(), std::memory_order_acq_rel);
  for (size_t i = 0; i < order.size(); ++i) records[order[i]]->rank.store(base + i, std::memory_order_release);
  return static_cast<uint64_t>(order.size());
}

// Tags k / weight per client, negated (reorder takes the highest first);
// all 0 under fifo, which leaves acknowledgement order.
std::vector<double> Buffer::apply_priorities(std::span<const ReorderEntry> entries) const {
  std::vector<double> out(entries.size(), 0.0);
  if (config_.scheduler.policy == config::SchedulerConfig::Policy::fifo) return out;
  std::unordered_map<uint32_t, std::pair<double, uint64_t>> clients;  // weight, entries so far
  for (size_t i = 0; i < entries.size(); ++i) {
    auto [it, fresh] = clients.try_emplace(entries[i].client, 1.0, 0);
    if (fresh) {
      const config::ClientConfig* c = config_.find_client(entries[i].client);
      const double class_weight = c != nullptr ? config_.sla.at(c->sla).weight : 1.0;
      it->second.first = sched::scheduler_weight(class_weight, position_of(entries[i].client));
    }
    out[i] = -static_cast<double>(++it->second.second) / it->second.first;
  }
  return out;
}

Result<ApplyReport> Buffer::apply(store::BlockStore& store) {
  std::lock_guard phase(phase_mu_);
  auto& h = segment_->header();
  const uint64_t target = h.head_seq.load(std::memory_order_acquire);
  ApplyReport report;
  AIOPS_TRY(wait_validated(target));
  AIOPS_TRY(reorder_held());
  std::vector<EntryRecord*> ready;
  for (uint64_t s = h.tail_seq.load(std::memory_order_acquire); s < h.validated_seq.load(std::memory_order_acquire);
       ++s) {
    EntryRecord& e = segment_->slot(s);
    if (e.seq == s && e.load_state() == EntryState::valid && e.rank.load(std::memory_order_acquire) != 0)
      ready.push_back(&e);
  }
  std::sort(ready.begin(), ready.end(), [](const EntryRecord* a, const EntryRecord* b) {
    return a->rank.load(std::memory_order_relaxed) < b->rank.load(std::memory_order_relaxed);
  });
  for (size_t begin = 0; begin < ready.size();) {
    size_t end = begin;
    uint64_t bytes = 0;
    while (end < ready.size() && end - begin < apply_batch_entries && bytes < apply_batch_bytes) bytes += ready[end++]->length;
    Batch batch;
    batch.remaining = end - begin;
    std::vector<std::unique_ptr<Append>> appends;
    appends.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) {
      const EntryRecord& e = *ready[i];
      appends.push_back(std::make_unique<Append>(batch));
      store::WriteRequest request{e.client,
                                  e.volume,
                                  e.offset,
                                  {segment_->payload(e), e.length},
                                  wal::Durability::written,
                                  e.checksum};
      if (Status s = store.write(request, *appends.back()); !s.ok()) {
        Result<wal::Appended> failed(s.error());
        batch.done(failed);
      }
    }
    if (Status s = batch.wait(); !s.ok())
      return s.error().with_context("apply entry batch of " + std::to_string(end - begin));
    // Durable before APPLIED: a crash before this line re-appends the batch
    // (in the same order, so the volumes end up the same).
    AIOPS_TRY(store.flush());
    for (size_t i = begin; i < end; ++i) ready[i]->move(EntryState::valid, EntryState::applied);
    h.applied.fetch_add(end - begin, std::memory_order_relaxed);
    report.entries += end - begin;
    report.bytes += bytes;
    ++report.batches;
    begin = end;
    release_applied();
  }
  release_applied();  // rejected entries at the tail, when nothing was applied
  report.tail_seq = h.tail_seq.load(std::memory_order_acquire);
  return report;
}

// Frees the done entries at the tail: the index forgets them first (they
// are in the store now), so no read can meet their reused arena space.
void Buffer::release_applied() {
  {
    std::unique_lock lock(index_mu_);
    const uint64_t tail = segment_->advance_tail();
    if (tail > 0)
      for (auto& [id, map] : index_) map.prune_through(tail - 1);
  }
  complete_durable_waiters();
}

void Buffer::complete_durable_waiters() {
  const uint64_t tail = segment_->header().tail_seq.load(std::memory_order_acquire);
  std::vector<BufferWaiter*> ready;
  {
    std::lock_guard lock(durable_mu_);
    auto end = durable_waiters_.lower_bound(tail);
    for (auto it = durable_waiters_.begin(); it != end; ++it) ready.push_back(it->second);
    durable_waiters_.erase(durable_waiters_.begin(), end);
  }
  for (BufferWaiter* w : ready) w->buffer_done(net::Status::ok, 0);
}

bool Buffer::reset_if_drained() {
  std::lock_guard phase(phase_mu_);
  auto& h = segment_->header();
  if (segment_->advance_tail() != h.head_seq.load(std::memory_order_acquire)) return false;
  segment_->reset_ring();
  std::unique_lock lock(index_mu_);
  for (auto& [id, map] : index_) map = store::ExtentMap{};
  return true;
}

}  // namespace aiops::specbuf
