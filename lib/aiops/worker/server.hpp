#pragma once
// The worker's data-plane server: listeners for the native protocol and for
// NBD (TCP or Unix socket), the set of live sessions (session.hpp) and the
// limits on them.
//
// Threads: everything runs on the io_context's threads; each connection's
// handlers are serialised by its own strand. Write and flush completions
// arrive on a log thread and are posted to the connection.
//
// Shutdown (stop_accepting, then drain): listeners close first, so no new
// connection arrives; each connection stops reading requests, sends the
// replies still owed, and closes. drain() reports when none is left.
//
// Live update: pause_accepting() stops accepting without closing (a client
// connecting meanwhile waits in the kernel's backlog, it is not refused);
// pause_connections() stops every connection at a request boundary
// (connection.hpp). After the new worker reported ready, hand_over()
// forgets listeners and connections without closing them for the clients;
// on rollback resume() serves on. The new worker adopts them.
//
// Each listener's acceptor runs on its own strand, so pausing it from
// another thread never races an accept completing.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "aiops/core/asio.hpp"

#include "aiops/config/config.hpp"
#include "aiops/sched/admission.hpp"
#include "aiops/sched/dispatcher.hpp"
#include "aiops/specbuf/buffer.hpp"
#include "aiops/store/block_store.hpp"
#include "aiops/swap/handover.hpp"
#include "aiops/worker/client_counters.hpp"
#include "aiops/worker/client_directory.hpp"

namespace aiops::worker {

class Session;

struct ListenerInfo {
  std::string protocol;  // "native" or "nbd"
  std::string address;   // as bound: "127.0.0.1:7070" (the real port when 0 was asked) or "unix:/path"
};

/// What a connection needs from the worker; one per worker. The store is
/// the worker's pointer: during a swap the worker closes the store (the new
/// binary takes the log) and, on rollback, opens it again, while every
/// connection is paused.
struct ServerContext {
  const config::Config& config;
  const std::unique_ptr<store::BlockStore>& store;
  const ClientDirectory& clients;
  CounterTable& counters;
  specbuf::Buffer& buffer;
  sched::Admission& admission;
  sched::Dispatcher& dispatcher;  // writes bound for the log go through it
};

class Server {
 public:
  Server(boost::asio::io_context& io, ServerContext context);
  ~Server();

  /// Binds every configured listener. Errors name the address.
  [[nodiscard]] Status listen();
  /// Binds these listeners (a previous worker's, release mode) instead of
  /// the configured ones.
  [[nodiscard]] Status listen_at(const std::vector<ListenerInfo>& listeners);
  /// Accepts on a listening socket a previous worker handed over.
  [[nodiscard]] Status adopt_listener(const ListenerInfo& info, int fd);
  /// A connection a previous worker handed over; `client_name` "" before HELLO.
  [[nodiscard]] Status adopt_connection(int fd, const swap::ConnectionState& state);

  // ---- live update, old worker's side (from one thread, not an io thread)
  /// Returns once no accept is in progress.
  void pause_accepting();
  /// Waits (at most `timeout`) until every connection is quiescent;
  /// returns them. Errc::timeout names how many are not.
  [[nodiscard]] Result<std::vector<std::shared_ptr<Session>>> pause_connections(std::chrono::milliseconds timeout);
  /// (info, listening descriptor) of every listener.
  [[nodiscard]] std::vector<std::pair<ListenerInfo, int>> listener_handles() const;
  /// Closes the listening sockets (release mode); Unix socket files go.
  void close_listeners();
  /// Rollback: accept and serve again (binding anew after close_listeners).
  [[nodiscard]] Status resume();
  /// The new worker serves everything: forget without closing for clients.
  void hand_over();
  [[nodiscard]] std::vector<ListenerInfo> listeners() const;
  [[nodiscard]] size_t connection_count() const;

  void stop_accepting();
  /// Asks every connection to finish and calls `done` (on an io thread) once
  /// none is left.
  void drain(std::function<void()> done);
  /// Closes every connection at once (shutdown timeout passed).
  void close_all();

  // For connections.
  [[nodiscard]] const ServerContext& context() const { return context_; }
  void forget(const std::shared_ptr<Session>& session);

 private:
  struct Listener;
  void accept_next(Listener& listener);
  Status bind(const config::ListenerConfig& l);
  void start_accepting();
  void admit(boost::asio::generic::stream_protocol::socket socket, std::string peer, bool nbd);
  void check_drained();

  boost::asio::io_context& io_;
  ServerContext context_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<ListenerInfo> closed_listeners_;  // closed by close_listeners, for resume

  mutable std::mutex mu_;
  std::set<std::shared_ptr<Session>> connections_;
  std::function<void()> drained_;
  bool accepting_ = true;
};

}  // namespace aiops::worker
