#include "aiops/load/load_generator.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "aiops/load/record_file.hpp"
#include "aiops/load/stamp.hpp"

namespace aiops::load {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto backoff_min = std::chrono::milliseconds(10);
constexpr auto backoff_max = std::chrono::milliseconds(1000);
constexpr size_t max_problems = 20;

// What every load client shares.
struct Shared {
  Shared(const LoadOptions& o, uint64_t r, RecordWriter* w, Clock::time_point d)
      : opt(o), run(r), record(w), deadline(d) {}

  const LoadOptions& opt;
  unsigned clients = 0;             // load clients in all
  std::vector<size_t> identity_of;  // by load client: index into opt.identities
  std::vector<Clock::duration> interval_of;  // by load client: time between requests; 0 = unpaced
  uint64_t run;
  RecordWriter* record;
  Clock::time_point deadline;
  Clock::time_point start = Clock::now();
  std::atomic<uint64_t> acked{0};
  std::atomic<bool> fatal{false};
  std::mutex mu;
  std::vector<std::string> problems;
  std::optional<Error> fatal_error;

  void problem(std::string what) {
    std::lock_guard lock(mu);
    if (problems.size() < max_problems) problems.push_back(std::move(what));
  }
  void give_up(const Error& e) {
    std::lock_guard lock(mu);
    if (!fatal_error) fatal_error = e;
    fatal = true;
  }
};

// The tallies of one load client.
struct Tally {
  ClassResult cls;
  std::vector<LoadEvent> events;
  uint64_t acked = 0, reads = 0, errors = 0, disconnects = 0, refused = 0, mismatches = 0;
  std::map<std::string, uint64_t> by_status;
};

class LoadClient {
 public:
  LoadClient(Shared& shared, unsigned index)
      : s_(shared), index_(index), identity_(shared.opt.identities[shared.identity_of[index]]),
        rng_(shared.run ^ (uint64_t{index} * 0x9E3779B97F4A7C15ull)) {}

  void run(Tally& out) {
    // With a rate, each client issues its share on a fixed schedule (a
    // request that runs late is not made up for by a burst).
    const auto interval = s_.interval_of[index_];
    auto next = Clock::now();
    while (Clock::now() < s_.deadline && !s_.fatal) {
      if (interval > Clock::duration::zero()) {
        next = std::max(next + interval, Clock::now() - interval);
        std::this_thread::sleep_until(std::min(next, s_.deadline));
        if (Clock::now() >= s_.deadline) break;
      }
      if (!conn_ && !connect(out)) continue;
      std::uniform_real_distribution<double> coin(0.0, 1.0);
      if (coin(rng_) < s_.opt.read_ratio) read_one(out);
      else write_one(out, coin(rng_) < s_.opt.fua_ratio);
    }
  }

 private:
  bool connect(Tally& out) {
    auto c = client::NativeClient::connect(s_.opt.endpoint, identity_.name, identity_.token, s_.opt.request_timeout);
    if (!c.ok()) {
      Errc code = c.error().code();
      if (code == Errc::permission_denied || code == Errc::invalid_input || code == Errc::invalid_argument) {
        s_.give_up(c.error());
        return false;
      }
      if (code == Errc::unreachable) ++out.refused;
      else ++out.disconnects;
      note(out, code == Errc::unreachable ? LoadEvent::refused : LoadEvent::disconnect, Clock::now());
      back_off();
      return false;
    }
    conn_ = std::move(c.value());
    conn_->set_timeout(s_.opt.request_timeout);
    backoff_ = backoff_min;
    if (slots_ == 0) return choose_region();
    return true;
  }

  // The volume and this client's share of it, from the first HELLO reply.
  bool choose_region() {
    const auto& vols = conn_->hello().volumes;
    auto it = std::find_if(vols.begin(), vols.end(), [&](const net::VolumeInfo& v) {
      return (s_.opt.volume.empty() || v.name == s_.opt.volume) && !v.read_only;
    });
    if (it == vols.end()) {
      s_.give_up(Error(Errc::invalid_argument, "client " + identity_.name + " may not write " +
                                                   (s_.opt.volume.empty() ? "any volume" : "volume " + s_.opt.volume)));
      return false;
    }
    volume_ = it->id;
    uint64_t region = it->size_bytes / s_.clients;
    slots_ = region / s_.opt.write_size;
    if (slots_ == 0) {
      s_.give_up(Error(Errc::invalid_argument, "volume " + it->name + " is too small for " +
                                                   std::to_string(s_.clients) + " clients of " +
                                                   std::to_string(s_.opt.write_size) + "-byte writes"));
      return false;
    }
    base_ = region * index_ / s_.opt.write_size * s_.opt.write_size;
    acked_.assign(slots_, 0);
    uncertain_.assign(slots_, {});
    payload_.resize(s_.opt.write_size);
    return true;
  }

  void back_off() {
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    auto wait = std::chrono::duration_cast<Clock::duration>(backoff_ * jitter(rng_));
    std::this_thread::sleep_until(std::min(Clock::now() + wait, s_.deadline));
    backoff_ = std::min(backoff_ * 2, backoff_max);
  }

  void note(Tally& out, LoadEvent::Kind kind, Clock::time_point t0) {
    if (!s_.opt.timeline) return;
    const auto now = Clock::now();
    out.events.push_back({std::chrono::duration<double>(now - s_.start).count(), index_, kind,
                          static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - t0).count())});
  }

  void lost(Tally& out) {
    note(out, LoadEvent::disconnect, Clock::now());
    ++out.disconnects;
    conn_.reset();
    back_off();
  }

  // A refusal the request may outlive: the worker said when to come back.
  static bool worth_retrying(const net::ReplyHeader& reply) {
    switch (reply.status) {
      case net::Status::busy:
      case net::Status::too_many_outstanding: return true;
      case net::Status::checksum_mismatch: return reply.retry_after_ms > 0;
      default: return false;
    }
  }

  // Counts a refusal reply; true when the request is to be sent again
  // (after the wait it asked for), false when it failed for good.
  bool refused(Tally& out, const net::ReplyHeader& reply, unsigned attempt) {
    note(out, LoadEvent::error, Clock::now());
    ++out.cls.refusals;
    if (reply.retry_after_ms > 0) {
      ++out.cls.delays;
      out.cls.delay_ms_sum += reply.retry_after_ms;
    }
    const bool retry = worth_retrying(reply) && attempt < s_.opt.max_attempts;
    if (worth_retrying(reply) && !retry) ++out.cls.gave_up;
    if (!retry) {
      ++out.errors;
      ++out.cls.errors;
      ++out.by_status[std::string(net::status_name(reply.status))];
    }
    if (reply.retry_after_ms > 0) {
      // Plus up to a quarter more, so that clients told the same delay do
      // not all come back at once.
      std::uniform_real_distribution<double> jitter(1.0, 1.25);
      const auto wait = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double, std::milli>(reply.retry_after_ms * jitter(rng_)));
      std::this_thread::sleep_until(std::min(Clock::now() + wait, s_.deadline));
    }
    if (!retry) return false;
    if (Clock::now() >= s_.deadline) return false;  // the run is over: not sent again, not an error
    ++out.cls.retries;
    return true;
  }

  void write_one(Tally& out, bool fua) {
    uint64_t slot = rng_() % slots_;
    uint64_t offset = base_ + slot * s_.opt.write_size;
    StampId id{s_.run, index_, ++seq_};
    stamp_payload(id, offset, payload_);
    if (s_.record) s_.record->issued(id, volume_, offset);
    auto t0 = Clock::now();
    ++out.cls.first_attempts;
    for (unsigned attempt = 1;; ++attempt) {
      Status sent = conn_->send_write(id.sequence, volume_, offset, payload_, fua, attempt > 1);
      auto reply = sent.ok() ? conn_->receive() : Result<client::Reply>(sent.error());
      if (!reply.ok()) {
        uncertain_[slot].push_back(id.sequence);  // it may or may not have landed
        return lost(out);
      }
      if (reply->header.status == net::Status::ok) break;
      if (reply->header.status == net::Status::io_error) uncertain_[slot].push_back(id.sequence);
      if (!refused(out, reply->header, attempt)) return;
    }
    out.cls.latency.record(static_cast<uint64_t>((Clock::now() - t0).count()));
    note(out, LoadEvent::ok, t0);
    if (s_.record) s_.record->acked(id);
    acked_[slot] = id.sequence;
    uncertain_[slot].clear();
    ++out.acked;
    ++out.cls.writes;
    s_.acked.fetch_add(1, std::memory_order_relaxed);
  }

  void read_one(Tally& out) {
    uint64_t slot = rng_() % slots_;
    uint64_t offset = base_ + slot * s_.opt.write_size;
    auto t0 = Clock::now();
    ++out.cls.first_attempts;
    Result<client::Reply> reply = Error(Errc::invalid_argument, "no attempt");
    for (unsigned attempt = 1;; ++attempt) {
      Status sent = conn_->send_read(0, volume_, offset, s_.opt.write_size, attempt > 1);
      reply = sent.ok() ? conn_->receive() : Result<client::Reply>(sent.error());
      if (!reply.ok()) return lost(out);
      if (reply->header.status == net::Status::ok) break;
      if (!refused(out, reply->header, attempt)) return;
    }
    out.cls.latency.record(static_cast<uint64_t>((Clock::now() - t0).count()));
    note(out, LoadEvent::ok, t0);
    ++out.reads;
    ++out.cls.reads;
    check_read(out, slot, offset, reply->payload);
  }

  // The block must hold this client's last acknowledged write to it, or a
  // write whose outcome is unknown. Until a write to it is acknowledged in
  // this run, it may also hold whatever was there before: zeros, or a block
  // of an earlier run (the writes in doubt may never have arrived).
  void check_read(Tally& out, uint64_t slot, uint64_t offset, std::span<const std::byte> data) {
    const uint64_t last = acked_[slot];
    const auto& maybe = uncertain_[slot];
    if (last == 0 && maybe.empty()) return;
    BlockContent c = read_stamp(data, offset);
    bool this_run = c.kind == BlockKind::stamp && c.id.run == s_.run;
    bool ours = this_run && c.id.client == index_;
    bool ok = (ours && (c.id.sequence == last || std::find(maybe.begin(), maybe.end(), c.id.sequence) != maybe.end())) ||
              (last == 0 && (c.kind == BlockKind::zeros || (c.kind == BlockKind::stamp && !this_run)));
    if (ok) return;
    ++out.mismatches;
    std::string held = c.kind == BlockKind::zeros    ? "zeros"
                       : c.kind == BlockKind::damaged ? "damaged bytes"
                                                      : "write " + std::to_string(c.id.sequence) + " of client " +
                                                            std::to_string(c.id.client) +
                                                            (this_run ? "" : " of an earlier run");
    s_.problem("client " + std::to_string(index_) + " read volume " + std::to_string(volume_) + " offset " +
               std::to_string(offset) + ": holds " + held + ", expected its write " + std::to_string(last));
  }

  Shared& s_;
  uint32_t index_;
  const Identity& identity_;
  std::mt19937_64 rng_;
  std::unique_ptr<client::NativeClient> conn_;
  std::chrono::milliseconds backoff_ = backoff_min;
  uint32_t volume_ = 0;
  uint64_t base_ = 0;
  uint64_t slots_ = 0;
  uint64_t seq_ = 0;
  std::vector<uint64_t> acked_;
  std::vector<std::vector<uint64_t>> uncertain_;
  std::vector<std::byte> payload_;
};

void merge(LoadResult& r, const Tally& t, const std::string& sla) {
  r.acked += t.acked;
  r.reads += t.reads;
  r.errors += t.errors;
  r.disconnects += t.disconnects;
  r.refused += t.refused;
  r.read_mismatches += t.mismatches;
  for (const auto& [k, v] : t.by_status) r.errors_by_status[k] += v;
  ClassResult& c = r.classes[sla];
  ++c.clients;
  c.writes += t.cls.writes;
  c.reads += t.cls.reads;
  c.errors += t.cls.errors;
  c.first_attempts += t.cls.first_attempts;
  c.retries += t.cls.retries;
  c.refusals += t.cls.refusals;
  c.delays += t.cls.delays;
  c.delay_ms_sum += t.cls.delay_ms_sum;
  c.gave_up += t.cls.gave_up;
  c.latency.merge(t.cls.latency);
}


// Which identity each load client uses, and how often it may send.
Status plan_clients(const LoadOptions& opt, Shared& shared) {
  unsigned& clients = shared.clients;
  if (opt.class_clients.empty()) {
    clients = opt.clients;
    for (unsigned i = 0; i < clients; ++i) shared.identity_of.push_back(i % opt.identities.size());
  } else {
    clients = 0;
    for (const auto& [sla, n] : opt.class_clients) {
      std::vector<size_t> of_class;
      for (size_t i = 0; i < opt.identities.size(); ++i)
        if (opt.identities[i].sla == sla) of_class.push_back(i);
      if (of_class.empty())
        return Error(Errc::invalid_argument, "load: no client of SLA class \"" + sla + "\" has a token");
      for (unsigned k = 0; k < n; ++k) shared.identity_of.push_back(of_class[k % of_class.size()]);
      clients += n;
    }
  }
  if (clients == 0) return Error(Errc::invalid_argument, "load: --clients must be at least 1");
  std::map<std::string, unsigned> per_class;
  for (size_t i : shared.identity_of) ++per_class[opt.identities[i].sla];
  for (const auto& [sla, rate] : opt.class_rate)
    if (per_class.count(sla) == 0) return Error(Errc::invalid_argument, "load: no load client of SLA class \"" + sla + "\"");
  for (size_t i : shared.identity_of) {
    const std::string& sla = opt.identities[i].sla;
    const auto it = opt.class_rate.find(sla);
    const double rate = it != opt.class_rate.end() ? it->second / per_class[sla] : opt.rate / clients;
    shared.interval_of.push_back(rate > 0 ? std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(1.0 / rate))
                                          : Clock::duration::zero());
  }
  return {};
}

}  // namespace

Result<LoadResult> run_load(const LoadOptions& opt) {
  if (opt.clients == 0 && opt.class_clients.empty()) return Error(Errc::invalid_argument, "load: --clients must be at least 1");
  if (opt.identities.empty()) return Error(Errc::invalid_argument, "load: no client identities to connect as");
  if (opt.write_size < stamp_min_bytes)
    return Error(Errc::invalid_argument, "load: --write-size must be at least " + std::to_string(stamp_min_bytes));
  if (opt.max_attempts == 0) return Error(Errc::invalid_argument, "load: --max-attempts must be at least 1");
  uint64_t run = opt.seed != 0 ? opt.seed : std::random_device{}() * 0x100000001ull ^ std::random_device{}();
  std::unique_ptr<RecordWriter> record;
  if (opt.record) {
    AIOPS_ASSIGN(record, RecordWriter::open(*opt.record));
    record->run(run, opt.write_size);
  }
  auto start = Clock::now();
  Shared shared(opt, run, record.get(), start + std::chrono::duration_cast<Clock::duration>(opt.duration));
  shared.start = start;
  AIOPS_TRY(plan_clients(opt, shared));
  std::vector<Tally> tallies(shared.clients);
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < shared.clients; ++i)
    threads.emplace_back([&, i] { LoadClient(shared, i).run(tallies[i]); });
  auto next = start + std::chrono::seconds(1);
  while (Clock::now() < shared.deadline && !shared.fatal) {
    std::this_thread::sleep_until(std::min({next, shared.deadline, Clock::now() + std::chrono::milliseconds(100)}));
    if (Clock::now() < next) continue;
    if (opt.progress) opt.progress(std::chrono::duration<double>(Clock::now() - start).count(), shared.acked.load());
    next += std::chrono::seconds(1);
  }
  for (auto& t : threads) t.join();
  if (record) AIOPS_TRY(record->close());
  if (shared.fatal_error) return *shared.fatal_error;
  LoadResult r;
  r.started = start;
  r.run = run;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (unsigned i = 0; i < shared.clients; ++i) {
    const std::string& sla = opt.identities[shared.identity_of[i]].sla;
    merge(r, tallies[i], sla);
    r.client_classes.push_back(sla);
    r.events.insert(r.events.end(), tallies[i].events.begin(), tallies[i].events.end());
  }
  std::sort(r.events.begin(), r.events.end(), [](const LoadEvent& a, const LoadEvent& b) { return a.t < b.t; });
  r.problems = std::move(shared.problems);
  return r;
}

}  // namespace aiops::load
