#pragma once
// A running worker: the block store, the data-plane server, the control
// socket and the I/O history, on one io_context with a few threads.
//
// Lifecycle: start() opens the store (recovering and replaying the log),
// attaches the speculative buffer (finishing a phase step a dead worker
// was running, on the phase thread), binds every listener and the control
// socket, then reports ready (log line and sd_notify). shutdown() stops accepting, lets every connection finish
// its requests (at most shutdown_timeout, then closes what is left),
// makes the log durable and seals it.
//
// Live update (worker/handover.cpp): the phase step swap, run by the old
// worker, starts the new binary with a channel (swap/handover.hpp), hands
// it the listeners and connections and, once it reports ready, forgets
// them and ends: wait_for_signal() returns "handover" and shutdown() then
// closes nothing a client could notice. take_over() is the new binary's
// start: it receives all that instead of binding and opening alone. The
// priority list reloader (priority_reloader.hpp) stops before the swap
// hands the buffer over and starts again if the swap is rolled back; the
// new worker runs its own.
//
// Thread-safety: start/wait/shutdown from one thread; status() from any.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "aiops/core/asio.hpp"
#include <nlohmann/json.hpp>

#include "aiops/config/config.hpp"
#include "aiops/core/error.hpp"
#include "aiops/sched/admission.hpp"
#include "aiops/sched/dispatcher.hpp"
#include "aiops/specbuf/buffer.hpp"
#include "aiops/store/block_store.hpp"
#include "aiops/swap/fd_channel.hpp"
#include "aiops/worker/client_counters.hpp"
#include "aiops/worker/client_directory.hpp"
#include "aiops/worker/control_server.hpp"
#include "aiops/worker/priority_reloader.hpp"
#include "aiops/worker/server.hpp"
#include "aiops/worker/trace_recorder.hpp"

namespace aiops::worker {

/// How the worker (and the aiops tool, offline) opens the block store.
[[nodiscard]] store::StoreOptions store_options(const config::Config& config);

class Worker {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Worker>> start(const config::Config& config);
  /// Starts as the successor of the worker at the other end of `channel_fd`.
  [[nodiscard]] static Result<std::unique_ptr<Worker>> take_over(const config::Config& config, int channel_fd);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Blocks until SIGTERM or SIGINT arrives, or the worker handed over to
  /// a successor; returns the signal's name or "handover".
  std::string wait_for_signal();
  [[nodiscard]] Status shutdown();
  [[nodiscard]] nlohmann::json status() const;

 private:
  explicit Worker(const config::Config& config);
  Status open();
  Status adopt(swap::FdChannel& channel);
  Status open_store();
  void start_serving();
  void signal_end(const std::string& why);
  Result<nlohmann::json> hand_over(const nlohmann::json& request);
  Status roll_back_swap();
  Status end_after_handover();
  void stop_io();
  void control(const nlohmann::json& request, ControlServer::Reply reply);
  nlohmann::json run_phase(const nlohmann::json& request);
  [[nodiscard]] nlohmann::json listeners_json() const;
  void phase_loop();
  void stop_phase_thread();
  void open_scheduler();
  [[nodiscard]] nlohmann::json scheduler_json() const;
  void follow_priorities(const specbuf::PriorityList& list);

  config::Config config_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::unique_ptr<store::BlockStore> store_;
  std::unique_ptr<specbuf::Buffer> buffer_;
  // The scheduler in front of the log and the admission control; made once
  // the buffer is open, which tells them each priority list it puts in force.
  std::unique_ptr<sched::Admission> admission_;
  std::unique_ptr<sched::Dispatcher> dispatcher_;
  uint64_t generation_ = 0;
  // Phase steps run one at a time on their own thread, so a long apply
  // takes none of the threads that serve clients.
  std::mutex phase_mu_;
  std::condition_variable phase_cv_;
  std::deque<std::pair<nlohmann::json, ControlServer::Reply>> phase_queue_;
  bool phase_stop_ = false;
  std::thread phase_thread_;
  ClientDirectory clients_;
  CounterTable counters_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<TraceRecorder> trace_;
  std::unique_ptr<PriorityReloader> priorities_;
  boost::asio::signal_set signals_;
  std::promise<std::string> signalled_;
  std::once_flag signalled_once_;
  bool shut_down_ = false;
  std::atomic<bool> handed_over_{false};  // a successor serves; nothing is ours to close
};

}  // namespace aiops::worker
