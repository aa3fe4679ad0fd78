#pragma once
// The I/O scheduler in front of the log's group commit: writes bound for
// the log wait here, per client, and at most `queue_depth` of them are in
// the log at once. Which one goes next is the tag queue's choice
// (tag_queue.hpp): mClock tags (reservation, weight, limit) or, with policy
// fifo, plain arrival order.
//
// Why a window. The log's group commit takes every record waiting when it
// is free, so without a window there is no queue to order: a flood of one
// client's writes would sit in the same commit rounds as everyone else's
// and stretch them all. With the window, the flood waits here and a
// reserved or heavier client's write overtakes it.
//
// Jobs. A job starts one write (BlockStore::write); the caller calls done()
// when that write completes, which lets the next one in. Jobs run outside
// the lock, on the thread that made room: the submitter, a completing
// write's thread (a log thread), or the dispatcher's timer thread when
// only clients held back by their limit are waiting.
//
// Draining. drain() starts every queued job at once, ignoring the window
// and the limits, and returns when each has started. activate calls it with
// the intake held, so that the log's barrier behind it covers every write
// accepted for the log before the first buffer entry exists.
//
// Thread-safety: every member may be called from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "aiops/config/config.hpp"
#include "aiops/sched/tag_queue.hpp"

namespace aiops::sched {

struct ClientDispatch {
  uint64_t queued = 0;       // waiting now
  uint64_t dispatched = 0;   // handed to the log, ever
  uint64_t by_reservation = 0;
  uint64_t by_weight = 0;
  double wait_ms_sum = 0;    // time spent waiting here, over the dispatched ones
  double wait_ms_max = 0;
};

struct DispatchStats {
  std::string policy;
  uint32_t queue_depth = 0;
  uint32_t queue_limit = 0;
  uint64_t queued = 0;
  uint64_t in_flight = 0;
  std::map<uint32_t, ClientDispatch> clients;
};

class Dispatcher {
 public:
  using Job = std::function<void()>;

  explicit Dispatcher(const config::SchedulerConfig& config);
  /// Jobs still queued are dropped without running (their writes were
  /// never acknowledged); the count is logged.
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void set_qos(uint32_t client, const QosSpec& qos);
  /// Queues `job` for `client` and starts what the window lets through.
  /// False (and `job` is dropped) when queue_limit jobs already wait.
  [[nodiscard]] bool submit(uint32_t client, Job job);
  /// A started job's write completed.
  void done();
  /// Starts every queued job now (see above).
  void drain();
  /// Waiting jobs over queue_limit, 0..1: the load the admission control sees.
  [[nodiscard]] double fill() const;
  [[nodiscard]] DispatchStats stats() const;

 private:
  struct Waiting {
    uint32_t client = 0;
    Job job;
    std::chrono::steady_clock::time_point since;
  };
  using Lock = std::unique_lock<std::mutex>;

  [[nodiscard]] double now() const;
  /// Takes what may start now (all of it when `everything`); the caller
  /// runs the jobs after unlocking, then calls started().
  std::vector<Job> take(bool everything);
  void run(std::vector<Job> jobs);
  void timer_loop();

  const config::SchedulerConfig config_;
  const std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();

  mutable std::mutex mu_;
  // Two conditions, so that a started job wakes nobody unless a drain()
  // waits for it: the timer thread sleeps through the normal flow.
  std::condition_variable timer_cv_;    // a new wake time, or stopping
  std::condition_variable started_cv_;  // starting_ fell to 0 while drain() waits
  TagQueue queue_;
  std::unordered_map<uint64_t, Waiting> waiting_;  // by item id
  uint64_t next_item_ = 1;
  uint64_t in_flight_ = 0;  // started and not done
  uint64_t starting_ = 0;   // taken, job not yet returned
  uint32_t draining_ = 0;   // drain() calls waiting for starting_ == 0
  std::optional<double> wake_at_;  // the timer thread's next wake, when only limited clients wait
  std::map<uint32_t, ClientDispatch> clients_;
  bool stopping_ = false;
  std::thread timer_;
};

}  // namespace aiops::sched
