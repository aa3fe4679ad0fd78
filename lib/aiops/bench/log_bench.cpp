#include "aiops/bench/log_bench.hpp"

#include "aiops/wal/checkpoint_file.hpp"

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace aiops::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Holds the writers until every one is started, so they begin together.
class StartGate {
 public:
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }
  void open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

struct Worker {
  LatencyHistogram latency;
  uint64_t writes = 0;
  std::optional<Error> error;
};

void run_writer(wal::Log& log, const LogBenchOptions& opt, unsigned index, StartGate& go,
                const std::atomic<bool>& stop, std::atomic<uint64_t>& total, Worker& out) {
  std::vector<std::byte> payload(opt.write_size);
  std::mt19937_64 rng(index + 1);
  for (auto& b : payload) b = static_cast<std::byte>(rng());
  const uint64_t span_bytes = 1ull << 30;  // offsets cycle through the first GiB of the volume
  const uint64_t slots = std::max<uint64_t>(1, span_bytes / std::max<size_t>(opt.write_size, 1));
  wal::AppendRequest req;
  req.client = index + 1;
  req.volume = 1;
  req.payload = payload;
  req.durability = opt.durable ? wal::Durability::durable : wal::Durability::written;
  go.wait();
  for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
    // Distinct bytes per record, so no two records are alike.
    if (payload.size() >= 16) {
      std::memcpy(payload.data(), &index, sizeof index);
      std::memcpy(payload.data() + 8, &i, sizeof i);
    }
    req.offset = ((index * 7919 + i) % slots) * opt.write_size;
    auto t0 = Clock::now();
    auto r = log.append(req);
    auto t1 = Clock::now();
    if (!r.ok()) {
      out.error = r.error();
      return;
    }
    out.latency.record(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
    ++out.writes;
    total.fetch_add(1, std::memory_order_relaxed);
  }
}

// What a checkpointer that keeps up does, minus writing the volumes: mark
// the records of all but the newest `keep` segments applied, and retire
// those segments (they become spares).
Status retire_old_segments(wal::Log& log, size_t keep) {
  auto segs = log.segments();
  if (segs.size() <= keep) return {};
  const uint64_t through = std::min(segs[segs.size() - keep - 1].next_sequence - 1, log.durable_sequence());
  AIOPS_TRY(wal::write_checkpoint_file(log.file_system(), log.dir(), through));
  return log.remove_segments_through(through).status();
}

}  // namespace

Result<LogBenchResult> run_log_bench(const LogBenchOptions& opt, const BenchProgress& progress) {
  if (opt.threads == 0) return Error(Errc::invalid_argument, "bench log: --threads must be at least 1");
  if (opt.write_size == 0) return Error(Errc::invalid_argument, "bench log: --write-size must be at least 1 byte");
  AIOPS_ASSIGN(auto log, wal::Log::open(io::posix_file_system(), opt.dir, opt.log));
  // Like fio laying out its file before it measures: enough spare segments
  // for the run to reach the point where retired segments are recycled, so
  // no zero-fill competes with the measurement.
  if (opt.keep_segments > 0) AIOPS_TRY(log->lay_out_spares(opt.keep_segments + 2));
  std::vector<Worker> workers(opt.threads);
  std::vector<std::thread> threads;
  StartGate go;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> total{0};
  for (unsigned i = 0; i < opt.threads; ++i)
    threads.emplace_back(run_writer, std::ref(*log), std::cref(opt), i, std::ref(go), std::cref(stop),
                         std::ref(total), std::ref(workers[i]));
  wal::LogStats before = log->stats();
  auto start = Clock::now();
  go.open();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(opt.duration);
  auto next_progress = start + std::chrono::seconds(1);
  while (Clock::now() < deadline) {
    std::this_thread::sleep_until(std::min(deadline, Clock::now() + std::chrono::milliseconds(50)));
    if (opt.keep_segments > 0) {
      Status s = retire_old_segments(*log, opt.keep_segments);
      if (!s.ok()) {
        stop.store(true);
        for (auto& t : threads) t.join();
        return s.error().with_context("bench log: retiring segments");
      }
    }
    if (progress && Clock::now() >= next_progress) {
      progress(std::chrono::duration<double>(Clock::now() - start).count(), total.load());
      next_progress += std::chrono::seconds(1);
    }
  }
  stop.store(true);
  for (auto& t : threads) t.join();
  LogBenchResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  wal::LogStats after = log->stats();
  result.log = {after.records - before.records, after.payload_bytes - before.payload_bytes,
                after.batches - before.batches, after.syncs - before.syncs,
                after.segments_created - before.segments_created};
  for (Worker& w : workers) {
    if (w.error) return w.error->with_context("bench log");
    result.writes += w.writes;
    result.latency.merge(w.latency);
  }
  result.payload_bytes = result.writes * opt.write_size;
  return result;
}

}  // namespace aiops::bench
