#include "aiops/worker/worker.hpp"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>

#include "aiops/core/logger.hpp"
#include "aiops/phase/engine.hpp"
#include "aiops/specbuf/inspect.hpp"
#include "aiops/worker/sd_notify.hpp"

namespace aiops::worker {

namespace asio = boost::asio;

store::StoreOptions store_options(const config::Config& c) {
  store::StoreOptions o;
  o.data_dir = c.worker.data_dir;
  for (const auto& v : c.volumes) o.volumes.push_back({v.name, v.id, v.size_bytes});
  o.log.segment_bytes = c.log.segment_size_bytes;
  o.log.group_commit_bytes = c.log.group_commit_bytes;
  o.log.group_commit_delay = c.log.group_commit_delay;
  o.checkpoint_interval = c.log.checkpoint_interval;
  o.checkpoint_bytes = c.log.checkpoint_bytes;
  // A checkpoint retires up to checkpoint_bytes of segments at once; kept
  // as spares, they are what the log writes into until the next one, so a
  // steady load never zero-fills a new file (which writes it twice). Spares
  // stay on disk after a burst, hence the cap.
  constexpr uint64_t most_spare_bytes = 1ull << 30;
  o.log.max_spare_segments = static_cast<unsigned>(std::max<uint64_t>(
      o.log.max_spare_segments, std::min(c.log.checkpoint_bytes, most_spare_bytes) / c.log.segment_size_bytes + 2));
  return o;
}

namespace {

// 0 in the configuration: half the CPUs this process may run on. The log's
// committer and the checkpointer need CPU time as well; with as many io
// threads as CPUs they preempt one another and hand completions back and
// forth (measured: 1 io thread on 2 CPUs serves 15% more NBD writes than 2).
unsigned io_threads(const config::WorkerConfig& w) {
  if (w.io_threads > 0) return w.io_threads;
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  const unsigned available = sched_getaffinity(0, sizeof cpus, &cpus) == 0
                                 ? static_cast<unsigned>(CPU_COUNT(&cpus))
                                 : std::thread::hardware_concurrency();
  return std::clamp(available / 2, 1u, 4u);
}

}  // namespace

Worker::Worker(const config::Config& config)
    : config_(config), clients_(config_), counters_(clients_.clients()), signals_(io_, SIGTERM, SIGINT) {}

Result<std::unique_ptr<Worker>> Worker::start(const config::Config& config) {
  std::unique_ptr<Worker> w(new Worker(config));
  AIOPS_TRY(w->open());
  return w;
}

Status Worker::open_store() {
  auto options = store_options(config_);
  options.log.generation = generation_;
  AIOPS_ASSIGN(store_, store::BlockStore::open(io::posix_file_system(), options));
  return {};
}

Status Worker::open() {
  AIOPS_ASSIGN(generation_, phase::saved_generation(config_));
  AIOPS_TRY(open_store());
  AIOPS_ASSIGN(buffer_, specbuf::Buffer::open(config_, specbuf::Buffer::Mode::worker));
  if (const auto& h = buffer_->segment().header(); h.phase.load() != 0 || h.phase_running.load() != 0) {
    const auto o = buffer_->segment().occupancy();
    log_warning("speculative buffer " + buffer_->segment().name() + ": " + phase::phase_summary(buffer_->segment()).dump() +
                ", " + std::to_string(o.entries) + " entries; writes go to the " +
                (buffer_->intake_active() ? "buffer" : "log") + " until the update's phases finish");
  }
  open_scheduler();
  server_ = std::make_unique<Server>(
      io_, ServerContext{config_, store_, clients_, counters_, *buffer_, *admission_, *dispatcher_});
  AIOPS_TRY(server_->listen());
  control_ = std::make_unique<ControlServer>(io_, config_.worker.control_socket,
                                             [this](const nlohmann::json& request, ControlServer::Reply reply) {
                                               control(request, std::move(reply));
                                             });
  phase_thread_ = std::thread([this] { phase_loop(); });
  // A step whose runner died is finished before anything else (DESIGN.md,
  // Phases are resumable): every step may be run again.
  if (const uint32_t interrupted = buffer_->segment().header().phase_running.load();
      interrupted == static_cast<uint32_t>(phase::Step::swap)) {
    // This worker is what a swap leaves when its runner died: it serves;
    // the swap is not repeated without a binary (aiops update resumes).
    log_warning("phase step swap was interrupted; this worker serves; run aiops update again to finish the update");
    buffer_->segment().header().phase_running.store(0, std::memory_order_release);
  } else if (interrupted != 0) {
    const std::string step(phase::step_name(phase::Step{interrupted}));
    log_warning("phase step " + step + " was interrupted; finishing it");
    control({{"command", "phase"}, {"step", step}}, [step](const nlohmann::json& r) {
      if (r.value("ok", false)) log_info("phase step " + step + " finished after the interruption");
      else log_error("phase step " + step + " could not be finished: " + r.value("error", std::string("?")));
    });
  }
  AIOPS_TRY(control_->listen());
  start_serving();
  return {};
}

void Worker::open_scheduler() {
  admission_ = std::make_unique<sched::Admission>(config_, specbuf::priorities_from_sla(config_));
  dispatcher_ = std::make_unique<sched::Dispatcher>(config_.scheduler);
  follow_priorities(specbuf::priorities_from_sla(config_));
  buffer_->set_retry_delay([this](uint32_t client, double fill, bool full) {
    return admission_->refuse(client, fill, full ? sched::Refusal::buffer : sched::Refusal::invalid);
  });
  buffer_->set_priority_observer([this](const specbuf::PriorityList& list) { follow_priorities(list); });
}

void Worker::follow_priorities(const specbuf::PriorityList& list) {
  if (!admission_ || !dispatcher_) return;  // shut down: nothing left to schedule
  admission_->set_priorities(list);
  for (const auto& plan : admission_->plans()) dispatcher_->set_qos(plan.client, plan.qos);
}

void Worker::start_serving() {
  trace_ = std::make_unique<TraceRecorder>(io_, config_.worker.data_dir / "trace", config_.worker.trace_interval,
                                           counters_, clients_.clients());
  trace_->start();
  // Before the io threads run, so that the list of the file is in force
  // when the worker reports ready.
  priorities_ = std::make_unique<PriorityReloader>(io_, config_, *buffer_);
  priorities_->start();
  // Published lists reach the scheduler through the buffer; a list the
  // reloader kept from the segment's header was not published again.
  follow_priorities(priorities_->in_force());
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (!ec) signal_end(sig == SIGTERM ? "SIGTERM" : "SIGINT");
  });
  work_.emplace(io_.get_executor());
  for (unsigned i = 0, n = io_threads(config_.worker); i < n; ++i) threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "aiops-io");
      io_.run();
    });
  std::string where;
  for (const auto& l : server_->listeners()) where += (where.empty() ? "" : ", ") + l.address;
  log_info("ready: serving " + std::to_string(config_.volumes.size()) + " volumes on " + where +
           "; control socket " + config_.worker.control_socket.string());
  if (Status s = sd_notify("READY=1\nSTATUS=serving\nMAINPID=" + std::to_string(::getpid())); !s.ok())
    log_warning("could not tell systemd we are ready: " + s.error().message());
}

void Worker::signal_end(const std::string& why) {
  std::call_once(signalled_once_, [&] { signalled_.set_value(why); });
}

void Worker::control(const nlohmann::json& request, ControlServer::Reply reply) {
  const auto command = request["command"].get<std::string>();
  if (command == "status") return reply(status());
  if (command == "phase") {
    std::lock_guard lock(phase_mu_);
    if (phase_stop_) return reply({{"ok", false}, {"error", "the worker is stopping"}, {"code", "busy"}});
    phase_queue_.emplace_back(request, std::move(reply));
    phase_cv_.notify_one();
    return;
  }
  reply({{"ok", false}, {"error", "unknown command \"" + command + "\""}});
}

void Worker::phase_loop() {
  pthread_setname_np(pthread_self(), "aiops-phase");
  std::unique_lock lock(phase_mu_);
  for (;;) {
    phase_cv_.wait(lock, [&] { return phase_stop_ || !phase_queue_.empty(); });
    if (phase_queue_.empty()) return;
    auto [request, reply] = std::move(phase_queue_.front());
    phase_queue_.pop_front();
    lock.unlock();
    reply(run_phase(request));
    if (handed_over_) signal_end("handover");  // after the reply is handed to the control session
    lock.lock();
  }
}

// Lets the step in progress and those queued finish.
void Worker::stop_phase_thread() {
  {
    std::lock_guard lock(phase_mu_);
    phase_stop_ = true;
  }
  phase_cv_.notify_all();
  if (phase_thread_.joinable()) phase_thread_.join();
}

nlohmann::json Worker::run_phase(const nlohmann::json& request) {
  const auto* name = request.contains("step") && request["step"].is_string() ? request["step"].get_ptr<const std::string*>()
                                                                             : nullptr;
  auto step = name != nullptr ? phase::parse_step(*name) : std::nullopt;
  if (!step) return {{"ok", false}, {"error", "phase: \"step\" must name a phase step"}, {"code", "invalid_argument"}};
  if (handed_over_)
    return {{"ok", false}, {"error", "this worker has handed over to its successor and is exiting"}, {"code", "busy"}};
  if (!store_)
    return {{"ok", false}, {"error", "this worker has no log (a swap's rollback failed); restart it"}, {"code", "io_error"}};
  phase::EngineContext context{config_, *buffer_, *store_, true, generation_, listeners_json(), {},
                               [this] { dispatcher_->drain(); }};
  context.swap = [this, &request] {
    // Nothing may be published into the buffer once another process owns
    // it; the successor runs its own reloader. A rollback keeps the buffer.
    if (priorities_) priorities_->stop();
    auto result = hand_over(request);
    if (!handed_over_ && priorities_) priorities_->start();
    return result;
  };
  auto result = phase::run_step(context, *step);
  if (!result.ok())
    return {{"ok", false}, {"error", result.error().message()}, {"code", errc_name(result.error().code())}};
  nlohmann::json reply = *result;
  reply["ok"] = true;
  return reply;
}

std::string Worker::wait_for_signal() { return signalled_.get_future().get(); }

Status Worker::shutdown() {
  if (shut_down_) return {};
  shut_down_ = true;
  if (handed_over_) return end_after_handover();
  (void)sd_notify("STOPPING=1");
  if (priorities_) priorities_->stop();
  Status result;
  if (buffer_) buffer_->abandon_waiters(net::Status::shutting_down);
  if (server_) {
    server_->stop_accepting();
    auto drained = std::make_shared<std::promise<void>>();
    auto done = drained->get_future();
    server_->drain([drained] { drained->set_value(); });
    if (done.wait_for(config_.worker.shutdown_timeout) == std::future_status::timeout) {
      log_warning("connections still busy after shutdown_timeout; closing them");
      server_->close_all();
      done.wait_for(std::chrono::seconds(5));
    }
  }
  stop_phase_thread();  // before the store and the buffer go
  if (control_) control_->stop();
  if (store_) {
    if (Status s = store_->flush(); !s.ok()) result = s;
  }
  stop_io();
  if (buffer_) {
    // The segment stays, with its entries, for the next worker, unless no
    // update is under way and it holds nothing.
    const std::string name = buffer_->segment().name();
    const bool idle = buffer_->segment().header().phase.load() == 0 && !buffer_->intake_active() &&
                      buffer_->segment().occupancy().entries == 0;
    buffer_.reset();
    if (idle) {
      if (Status s = specbuf::Segment::remove(name); !s.ok()) log_warning(s.error().message());
    }
  }
  dispatcher_.reset();  // no write starts after this
  store_.reset();       // seals the log
  return result;
}

// The trace recorder's last interval is written, then the io threads end and
// what runs on them goes.
void Worker::stop_io() {
  if (priorities_) priorities_->stop();
  if (trace_) asio::post(io_, [this] { trace_->stop(); });
  work_.reset();
  io_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  server_.reset();
  control_.reset();
  trace_.reset();
  priorities_.reset();
}

Worker::~Worker() {
  if (!shut_down_) (void)shutdown();
}

nlohmann::json Worker::listeners_json() const {
  nlohmann::json listeners = nlohmann::json::array();
  for (const auto& l : server_->listeners()) listeners.push_back({{"protocol", l.protocol}, {"address", l.address}});
  return listeners;
}

nlohmann::json Worker::status() const {
  nlohmann::json clients = nlohmann::json::array();
  for (const auto& c : clients_.clients()) {
    const ClientCounters& k = counters_.at(c.id);
    clients.push_back({{"name", c.name},
                       {"id", c.id},
                       {"sla", c.sla},
                       {"connections", k.connections.load()},
                       {"reads", k.reads.load()},
                       {"writes", k.writes.load()},
                       {"flushes", k.flushes.load()},
                       {"read_bytes", k.read_bytes.load()},
                       {"write_bytes", k.write_bytes.load()},
                       {"refused", k.refused.load()}});
  }
  if (!store_) return {{"ok", false}, {"error", "the worker is handing over to its successor"}, {"code", "busy"}};
  store::StoreStats s = store_->stats();
  nlohmann::json log = {{"state", s.log_failure ? "failed" : "ok"},
                        {"records", s.log.records},
                        {"payload_bytes", s.log.payload_bytes},
                        {"fdatasyncs", s.log.syncs},
                        {"durable_sequence", s.durable_sequence},
                        {"applied_through", s.applied_through},
                        {"unapplied_bytes", s.unapplied_bytes},
                        {"checkpoints", s.checkpoints},
                        {"segments", store_->log().segments().size()}};
  if (s.log_failure) log["error"] = s.log_failure->message();
  if (s.last_checkpoint_error) log["checkpoint_error"] = s.last_checkpoint_error->message();
  nlohmann::json volumes = nlohmann::json::array();
  for (const auto& v : config_.volumes) volumes.push_back({{"name", v.name}, {"id", v.id}, {"size_bytes", v.size_bytes}});
  nlohmann::json out = {{"ok", true},
                        {"name", config_.worker.name},
                        {"version", AIOPS_VERSION},
                        {"pid", ::getpid()},
                        {"uptime_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count()},
                        {"config", config_.source_file.string()},
                        {"control_socket", config_.worker.control_socket.string()},
                        {"listeners", listeners_json()},
                        {"connections", server_->connection_count()},
                        {"clients", clients},
                        {"volumes", volumes},
                        {"log", log},
                        {"buffer", specbuf::inspect(buffer_->segment(), config_)}};
  if (priorities_) out["priorities"] = priorities_->status();
  out["scheduler"] = scheduler_json();
  return out;
}

// The scheduler's queue and, per client, its promise (tags, threshold),
// what was dispatched and how, and the admission counters.
nlohmann::json Worker::scheduler_json() const {
  const sched::DispatchStats d = dispatcher_->stats();
  const auto admitted = admission_->stats();
  nlohmann::json clients = nlohmann::json::array();
  for (const auto& [id, a] : admitted) {
    const auto it = d.clients.find(id);
    const sched::ClientDispatch c = it != d.clients.end() ? it->second : sched::ClientDispatch{};
    clients.push_back({{"name", a.name},
                       {"id", id},
                       {"sla", a.sla},
                       {"position", a.position},
                       {"weight", a.weight},
                       {"reservation", a.reservation},
                       {"limit", a.limit},
                       {"threshold", admission_->threshold(id)},
                       {"queued", c.queued},
                       {"dispatched", c.dispatched},
                       {"by_reservation", c.by_reservation},
                       {"by_weight", c.by_weight},
                       {"wait_ms_mean", c.dispatched > 0 ? c.wait_ms_sum / static_cast<double>(c.dispatched) : 0.0},
                       {"wait_ms_max", c.wait_ms_max},
                       {"retry_budget", {{"tokens", a.tokens},
                                         {"burst", a.burst},
                                         {"ratio", a.ratio},
                                         {"first_attempts", a.first_attempts},
                                         {"retries", a.retries}}},
                       {"refused", a.refused},
                       {"delays_given", a.delays_given},
                       {"delay_ms_mean", a.delays_given > 0 ? a.delay_ms_sum / static_cast<double>(a.delays_given) : 0.0}});
  }
  return {{"policy", d.policy},
          {"queue_depth", d.queue_depth},
          {"queue_limit", d.queue_limit},
          {"queued", d.queued},
          {"in_flight", d.in_flight},
          {"queue_watermark", config_.scheduler.queue_watermark},
          {"buffer_watermark", config_.scheduler.buffer_watermark},
          {"clients", clients}};
}

}  // namespace aiops::worker
