// The swap step of a live update, both sides (worker.hpp, swap/handover.hpp).
//
// Old worker (hand_over, on the phase thread):
//   check the binary → start it with a channel → wait for `attached` →
//   stop accepting → stop every connection at a request boundary (migrate;
//   the other modes drain them) → stop the validator → close the block
//   store (the log lock is free) → send listeners, the control socket and
//   the connections → wait for `ready` → forget it all and end.
// Until `ready` nothing is lost on the old side: any failure (the binary's
// checks, its exit, its silence past the timeout, its `failed` message)
// kills the child, opens the store again with a newer generation and
// resumes every listener and connection (roll_back_swap).
//
// New worker (take_over → adopt): attach the segment without starting it →
// `attached` → receive until `handed` → open the store with generation + 1
// → start the buffer → adopt listeners, control socket, connections →
// serve → `ready`, and tell systemd it is the main pid now.

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "aiops/core/logger.hpp"
#include "aiops/io/file_system.hpp"
#include "aiops/io/replace_file.hpp"
#include "aiops/phase/engine.hpp"
#include "aiops/swap/handover.hpp"
#include "aiops/swap/new_binary.hpp"
#include "aiops/worker/connection.hpp"
#include "aiops/worker/sd_notify.hpp"
#include "aiops/worker/worker.hpp"

namespace aiops::worker {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// The old worker's view of the new process: its messages, within a deadline.
class Successor {
 public:
  Successor(pid_t pid, swap::FdChannel channel, Clock::time_point deadline, std::string binary)
      : pid_(pid), channel_(std::move(channel)), deadline_(deadline), binary_(std::move(binary)) {}

  [[nodiscard]] pid_t pid() const { return pid_; }
  swap::FdChannel& channel() { return channel_; }

  /// The next message, which must be `kind`.
  Result<nlohmann::json> expect(swap::Kind kind) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
      if (left.count() <= 0)
        return Error(Errc::timeout, "the new binary " + binary_ + " (pid " + std::to_string(pid_) +
                                        ") did not report ready within the timeout");
      pollfd p{channel_.fd(), POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 100)));
      if (n < 0 && errno != EINTR) return error_from_errno(errno, "poll the update channel");
      if (n <= 0) continue;
      auto message = channel_.receive();
      if (!message.ok()) {
        auto how = swap::child_ended(pid_, true);
        reaped_ = true;
        return Error(Errc::unsupported, "the new binary " + binary_ + " " + how.value_or("closed its channel") +
                                            " before it reported ready");
      }
      AIOPS_ASSIGN(nlohmann::json doc, swap::payload_json(*message));
      if (message->kind == static_cast<uint16_t>(swap::Kind::failed))
        return Error(Errc::unsupported, "the new binary " + binary_ + " cannot take over: " +
                                            doc.value("error", std::string("(no reason given)")));
      if (message->kind != static_cast<uint16_t>(kind))
        return Error(Errc::invalid_input, "the new binary sent " + std::string(swap::kind_name(message->kind)) +
                                              " where " + std::string(swap::kind_name(static_cast<uint16_t>(kind))) +
                                              " was due");
      return doc;
    }
  }

  /// Kills and reaps it (rollback).
  void stop() {
    if (reaped_) return;
    ::kill(pid_, SIGKILL);
    (void)swap::child_ended(pid_, true);
    reaped_ = true;
  }

 private:
  pid_t pid_;
  swap::FdChannel channel_;
  Clock::time_point deadline_;
  std::string binary_;
  bool reaped_ = false;
};

Error rolled_back(const Error& e) { return Error(e.code(), "swap rolled back: " + e.message()); }

}  // namespace

Result<nlohmann::json> Worker::hand_over(const nlohmann::json& request) {
  const auto started = Clock::now();
  const std::string binary = request.value("binary", std::string());
  if (binary.empty()) return Error(Errc::invalid_argument, "swap: the request names no binary (--binary)");
  const auto mode = swap::parse_mode(request.value("mode", std::string("migrate")));
  if (!mode) return Error(Errc::invalid_argument, "swap: mode must be migrate, listeners or release");
  std::optional<std::string> sha256;
  if (request.contains("sha256") && request["sha256"].is_string()) sha256 = request["sha256"].get<std::string>();
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(request.value("timeout_s", 30.0) * 1000));

  if (Status s = swap::check_binary(binary, sha256); !s.ok()) return rolled_back(s.error());
  AIOPS_ASSIGN(auto pair, swap::fd_channel_pair());
  AIOPS_ASSIGN(pid_t child, swap::spawn_takeover(binary, config_.source_file, pair.second.fd()));
  { auto theirs = std::move(pair.second); }  // the child has it; its exit must end our reads
  Successor next(child, std::move(pair.first), started + timeout, binary);
  log_info("swap: started " + binary + " as pid " + std::to_string(child) + " (mode " +
           std::string(swap::mode_name(*mode)) + ")");

  auto fail = [&](const Error& e) -> Error {
    next.stop();
    log_error("swap failed: " + e.message() + "; this worker (pid " + std::to_string(::getpid()) + ") serves on");
    if (Status s = roll_back_swap(); !s.ok()) {
      log_error("rollback failed: " + s.error().message() + "; stopping");
      signal_end("failed rollback");
      return Error(s.error().code(), "swap failed (" + e.message() + ") and so did the rollback: " + s.error().message());
    }
    return rolled_back(e);
  };

  auto attached = next.expect(swap::Kind::attached);
  if (!attached.ok()) return fail(attached.error());
  if (const auto theirs = attached->value("segment", std::string()); theirs != buffer_->segment().name())
    return fail(Error(Errc::invalid_input, "the new binary's configuration names the shared-memory segment " + theirs +
                                               ", this worker's is " + buffer_->segment().name() +
                                               " ([worker] name or data_dir changed); an update keeps both"));
  // The log takes no writes while the buffer does: applying it to the
  // volumes now, with clients still served, leaves the new worker nothing
  // to replay when it opens the store during the pause.
  if (auto applied = store_->checkpoint_now(); !applied.ok()) return fail(applied.error());

  // From here clients wait (they are not refused) until the new worker or
  // this one, after a rollback, serves them again.
  const auto paused = Clock::now();
  server_->pause_accepting();
  std::vector<std::shared_ptr<Session>> connections;
  if (*mode == swap::Mode::migrate) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(started + timeout - Clock::now());
    auto quiet = server_->pause_connections(std::max(left, std::chrono::milliseconds(1)));
    if (!quiet.ok()) return fail(quiet.error());
    connections = std::move(*quiet);
  } else {
    // The connections end here: replies that wait for an apply are answered
    // shutting_down (retry), the others as usual, then each closes.
    buffer_->abandon_waiters(net::Status::shutting_down);
    auto drained = std::make_shared<std::promise<void>>();
    auto done = drained->get_future();
    server_->drain([drained] { drained->set_value(); });
    if (done.wait_for(config_.worker.shutdown_timeout) == std::future_status::timeout) {
      server_->close_all();
      done.wait_for(std::chrono::seconds(5));
    }
  }
  buffer_->stop_validator();
  store_.reset();  // seals the log and frees its lock for the new owner

  const double paused_ms_before_send = ms_since(paused);
  auto send_all = [&]() -> Status {
    // "bind" keeps the native addresses only, as workers before NBD read it.
    nlohmann::json bind = nlohmann::json::array(), bind_nbd = nlohmann::json::array();
    if (*mode == swap::Mode::release) {
      for (const auto& [info, fd] : server_->listener_handles())
        (info.protocol == "nbd" ? bind_nbd : bind).push_back(info.address);
      server_->close_listeners();
    } else {
      for (const auto& [info, fd] : server_->listener_handles()) {
        const int fds[] = {fd};
        AIOPS_TRY(swap::send_json(next.channel(), swap::Kind::listener,
                                  {{"protocol", info.protocol}, {"address", info.address}}, fds));
      }
    }
    const int control_fd[] = {control_->native_handle()};
    AIOPS_TRY(swap::send_json(next.channel(), swap::Kind::control, {{"path", config_.worker.control_socket.string()}},
                              control_fd));
    for (auto& c : connections) {
      const int fds[] = {c->native_handle()};
      AIOPS_TRY(swap::send_json(next.channel(), swap::Kind::connection, swap::to_json(c->handover_state()), fds));
    }
    return swap::send_json(next.channel(), swap::Kind::handed,
                           {{"mode", swap::mode_name(*mode)}, {"generation", generation_}, {"bind", bind}, {"bind_nbd", bind_nbd}});
  };
  if (Status s = send_all(); !s.ok()) return fail(s.error());
  auto ready = next.expect(swap::Kind::ready);
  if (!ready.ok()) return fail(ready.error());

  // The new worker serves. What it answers now is no longer ours.
  for (auto& [seq, waiter] : buffer_->take_durable_waiters()) waiter->buffer_handed_over();
  server_->hand_over();
  control_->release();
  handed_over_ = true;
  const double stall_ms = ms_since(paused);
  log_info("swap: handed over to pid " + std::to_string(child) + ": " + std::to_string(connections.size()) +
           " connections, " + std::to_string(ready->value("listeners", 0)) + " listeners; clients waited " +
           std::to_string(static_cast<int>(stall_ms)) + " ms");
  return nlohmann::json{{"mode", swap::mode_name(*mode)},
                        {"old_pid", ::getpid()},
                        {"new_pid", child},
                        {"connections", connections.size()},
                        {"listeners", ready->value("listeners", 0)},
                        {"pause_ms", stall_ms},
                        {"pause_ms_before_handover", paused_ms_before_send}};
}

// The new binary failed: this worker takes back the log, with a generation
// newer than any the new one may have taken, and serves on.
Status Worker::roll_back_swap() {
  if (!store_) {
    AIOPS_ASSIGN(uint64_t saved, phase::saved_generation(config_));
    generation_ = std::max(saved, generation_) + 1;
    AIOPS_TRY(open_store());
    AIOPS_TRY(io::replace_file(io::posix_file_system(), phase::state_dir(config_) / "generation",
                               std::to_string(generation_) + "\n"));
    buffer_->segment().header().generation.store(generation_, std::memory_order_release);
  }
  buffer_->resume_waiting();
  buffer_->resume_validator();
  return server_->resume();
}

// A successor serves the listeners, the connections and the log: end
// without closing any of them for the clients, and without STOPPING=1 (the
// service goes on, under the new main pid).
Status Worker::end_after_handover() {
  // The reply to the swap request goes out before the process ends.
  const auto until = Clock::now() + std::chrono::seconds(2);
  while (control_ && control_->replies_in_flight() > 0 && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop_phase_thread();
  stop_io();
  buffer_.reset();  // the segment stays: the update goes on in the successor
  return {};
}

// ---- the new binary

Result<std::unique_ptr<Worker>> Worker::take_over(const config::Config& config, int channel_fd) {
  std::unique_ptr<Worker> w(new Worker(config));
  swap::FdChannel channel(swap::UniqueFd(channel_fd), "the previous worker");
  if (Status s = w->adopt(channel); !s.ok()) {
    (void)swap::send_json(channel, swap::Kind::failed, {{"error", s.error().message()}});
    return s.error();
  }
  return w;
}

Status Worker::adopt(swap::FdChannel& channel) {
  // Attached, not started: the old worker's validator still runs. The
  // segment must exist (the old worker has it): one created here would
  // hide the entries that are waiting in the old one.
  const std::string segment = specbuf::Segment::name_for(config_.worker.name, config_.worker.data_dir);
  if (auto existing = specbuf::Segment::attach(segment, static_cast<uint32_t>(::geteuid()));
      !existing.ok() && existing.error().code() == Errc::not_found)
    return Error(Errc::invalid_input, "no shared-memory segment " + segment +
                                          " to take over: [worker] name or data_dir differ from the running worker's");
  AIOPS_ASSIGN(buffer_, specbuf::Buffer::open(config_, specbuf::Buffer::Mode::worker, /*start=*/false));
  AIOPS_TRY(swap::send_json(channel, swap::Kind::attached,
                            {{"pid", ::getpid()}, {"version", AIOPS_VERSION}, {"segment", buffer_->segment().name()}}));

  std::vector<std::pair<ListenerInfo, swap::UniqueFd>> listeners;
  std::vector<std::pair<swap::ConnectionState, swap::UniqueFd>> connections;
  swap::UniqueFd control_fd;
  nlohmann::json handed;
  for (bool done = false; !done;) {
    auto message = channel.receive();
    if (!message.ok())
      return Error(message.error().code(), "the previous worker went away before it handed over: " +
                                               message.error().message());
    AIOPS_ASSIGN(nlohmann::json doc, swap::payload_json(*message));
    const auto kind = static_cast<swap::Kind>(message->kind);
    const bool wants_fd = kind == swap::Kind::listener || kind == swap::Kind::control || kind == swap::Kind::connection;
    if (wants_fd && message->fds.size() != 1)
      return Error(Errc::invalid_input, "handover: a " + std::string(swap::kind_name(message->kind)) +
                                            " message came with " + std::to_string(message->fds.size()) +
                                            " descriptors, not 1");
    switch (kind) {
      case swap::Kind::listener:
        listeners.emplace_back(ListenerInfo{doc.value("protocol", std::string("native")), doc.value("address", std::string())},
                               std::move(message->fds[0]));
        break;
      case swap::Kind::control: control_fd = std::move(message->fds[0]); break;
      case swap::Kind::connection: {
        AIOPS_ASSIGN(swap::ConnectionState state, swap::connection_state_from_json(doc));
        connections.emplace_back(std::move(state), std::move(message->fds[0]));
        break;
      }
      case swap::Kind::handed:
        handed = std::move(doc);
        done = true;
        break;
      default:
        return Error(Errc::invalid_input,
                     "handover: unexpected " + std::string(swap::kind_name(message->kind)) + " message");
    }
  }

  // The log: the old worker closed it before `handed`; its lock may take a
  // moment to show free if that process is slow to close descriptors.
  AIOPS_ASSIGN(uint64_t saved, phase::saved_generation(config_));
  generation_ = std::max(saved, handed.value("generation", uint64_t{0})) + 1;
  for (int attempt = 0;; ++attempt) {
    Status s = open_store();
    if (s.ok()) break;
    if (s.error().code() != Errc::busy || attempt >= 100) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  AIOPS_TRY(io::replace_file(io::posix_file_system(), phase::state_dir(config_) / "generation",
                             std::to_string(generation_) + "\n"));
  buffer_->segment().header().generation.store(generation_, std::memory_order_release);
  buffer_->start();

  open_scheduler();
  server_ = std::make_unique<Server>(
      io_, ServerContext{config_, store_, clients_, counters_, *buffer_, *admission_, *dispatcher_});
  for (auto& [info, fd] : listeners) AIOPS_TRY(server_->adopt_listener(info, fd.release()));
  std::vector<ListenerInfo> bind;
  for (const char* key : {"bind", "bind_nbd"})
    if (handed.contains(key) && handed[key].is_array())
      for (const auto& address : handed[key])
        if (address.is_string()) bind.push_back({key == std::string("bind") ? "native" : "nbd", address.get<std::string>()});
  if (!bind.empty()) AIOPS_TRY(server_->listen_at(bind));
  control_ = std::make_unique<ControlServer>(io_, config_.worker.control_socket,
                                             [this](const nlohmann::json& request, ControlServer::Reply reply) {
                                               control(request, std::move(reply));
                                             });
  if (control_fd.valid()) AIOPS_TRY(control_->adopt(control_fd.release()));
  else AIOPS_TRY(control_->listen());
  size_t adopted = 0;
  for (auto& [state, fd] : connections) {
    if (Status s = server_->adopt_connection(fd.release(), state); !s.ok()) log_warning(s.error().message());
    else ++adopted;
  }
  phase_thread_ = std::thread([this] { phase_loop(); });
  start_serving();
  log_info("took over from the previous worker (mode " + handed.value("mode", std::string("?")) + "): " +
           std::to_string(adopted) + " connections, " + std::to_string(server_->listeners().size()) +
           " listeners, log generation " + std::to_string(generation_));
  return swap::send_json(channel, swap::Kind::ready,
                         {{"pid", ::getpid()}, {"connections", adopted}, {"listeners", server_->listeners().size()}});
}

}  // namespace aiops::worker
