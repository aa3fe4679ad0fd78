#pragma once
// The worker's control socket: a Unix stream socket (mode 0600) on which the
// aiops tool sends commands.
//
// Protocol: one JSON object per line in each direction. A request names its
// command: {"command": "status"}; the reply is {"ok": true, ...} or
// {"ok": false, "error": "..."}. A connection may send several requests.
//
// Only the worker's own user (or root) may use it: besides the file mode,
// the peer's credentials (SO_PEERCRED) are checked on every connection.
//
// Thread-safety: runs on the io_context; the handler is called there, its
// reply may come from any thread.

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>

#include "aiops/core/asio.hpp"
#include <nlohmann/json.hpp>

#include "aiops/core/error.hpp"

namespace aiops::worker {

class ControlServer {
 public:
  /// Sends the reply to one request; may be called from any thread, once.
  using Reply = std::function<void(nlohmann::json reply)>;
  /// Called on the io_context for each request; answers through `reply`,
  /// at once or later (a long command runs elsewhere and replies when done).
  using Handler = std::function<void(const nlohmann::json& request, Reply reply)>;

  ControlServer(boost::asio::io_context& io, std::filesystem::path path, Handler handler);
  ~ControlServer();

  /// Binds the socket (a stale one left by a dead worker is replaced).
  [[nodiscard]] Status listen();
  /// Accepts on the listening socket a previous worker handed over.
  [[nodiscard]] Status adopt(int fd);
  [[nodiscard]] int native_handle() { return acceptor_ ? acceptor_->native_handle() : -1; }
  /// Stops accepting and removes the socket file.
  void stop();
  /// Stops accepting and closes the listening socket, leaving the file: a
  /// new worker accepts on it now. Returns once no accept is in progress.
  void release();
  /// Replies handed to a session and not yet written out.
  [[nodiscard]] size_t replies_in_flight() const { return replies_in_flight_->load(); }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  class Session;
  void accept_next();

  boost::asio::io_context& io_;
  std::filesystem::path path_;
  Handler handler_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;  // the acceptor's
  std::optional<boost::asio::local::stream_protocol::acceptor> acceptor_;
  std::shared_ptr<std::atomic<size_t>> replies_in_flight_ = std::make_shared<std::atomic<size_t>>(0);
};

}  // namespace aiops::worker
