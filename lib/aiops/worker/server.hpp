#pragma once
// The worker's data-plane server: listeners for the native protocol (TCP or
// Unix socket), the set of live connections and the limits on them.
//
// Threads: everything runs on the io_context's threads; each connection's
// handlers are serialised by its own strand. Write and flush completions
// arrive on the log's syncer thread and are posted to the connection.
//
// Shutdown (stop_accepting, then drain): listeners close first, so no new
// connection arrives; each connection stops reading requests, sends the
// replies still owed, and closes. drain() reports when none is left.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "aiops/core/asio.hpp"

#include "aiops/config/config.hpp"
#include "aiops/specbuf/buffer.hpp"
#include "aiops/store/block_store.hpp"
#include "aiops/worker/client_counters.hpp"
#include "aiops/worker/client_directory.hpp"

namespace aiops::worker {

class Connection;

struct ListenerInfo {
  std::string protocol;  // "native"
  std::string address;   // as bound: "127.0.0.1:7070" (the real port when 0 was asked) or "unix:/path"
};

/// What a connection needs from the worker; one per worker.
struct ServerContext {
  const config::Config& config;
  store::BlockStore& store;
  const ClientDirectory& clients;
  CounterTable& counters;
  specbuf::Buffer& buffer;
};

class Server {
 public:
  Server(boost::asio::io_context& io, ServerContext context);
  ~Server();

  /// Binds every configured listener. Errors name the address.
  [[nodiscard]] Status listen();
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
  void forget(const std::shared_ptr<Connection>& connection);

 private:
  struct Listener;
  void accept_next(Listener& listener);
  void admit(boost::asio::generic::stream_protocol::socket socket, std::string peer);
  void check_drained();

  boost::asio::io_context& io_;
  ServerContext context_;
  std::vector<std::unique_ptr<Listener>> listeners_;

  mutable std::mutex mu_;
  std::set<std::shared_ptr<Connection>> connections_;
  std::function<void()> drained_;
  bool accepting_ = true;
};

}  // namespace aiops::worker
