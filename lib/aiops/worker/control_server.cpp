#include "aiops/worker/control_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <future>

#include "aiops/core/logger.hpp"

namespace aiops::worker {

namespace asio = boost::asio;
using boost::system::error_code;
using unix_socket = asio::local::stream_protocol;

class ControlServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(unix_socket::socket socket, const Handler& handler, std::shared_ptr<std::atomic<size_t>> in_flight)
      : socket_(std::move(socket)), handler_(handler), in_flight_(std::move(in_flight)) {}

  void start() {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        (cred.uid != ::geteuid() && cred.uid != 0)) {
      log_warning("control socket: refusing a connection from uid " + std::to_string(cred.uid) +
                  " (only the worker's user or root may control it)");
      reply({{"ok", false}, {"error", "permission denied: not the worker's user"}}, true);
      return;
    }
    read_request();
  }

 private:
  void read_request() {
    asio::async_read_until(socket_, asio::dynamic_buffer(in_, 1 << 20), '\n',
                           [self = shared_from_this()](const error_code& ec, size_t n) {
                             if (ec) return;  // the tool closed it
                             std::string line = self->in_.substr(0, n - 1);
                             self->in_.erase(0, n);
                             self->answer(line);
                           });
  }

  void answer(const std::string& line) {
    nlohmann::json request = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object() || !request.contains("command") ||
        !request["command"].is_string())
      return reply({{"ok", false}, {"error", "a request is one JSON object per line with a \"command\" string"}}, false);
    handler_(request, [self = shared_from_this()](nlohmann::json doc) {
      self->in_flight_->fetch_add(1);
      asio::post(self->socket_.get_executor(), [self, doc = std::move(doc)] { self->reply(doc, false, true); });
    });
  }

  void reply(const nlohmann::json& doc, bool close_after, bool counted = false) {
    out_ = doc.dump() + "\n";
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), close_after, counted](const error_code& ec, size_t) {
                        if (counted) self->in_flight_->fetch_sub(1);
                        if (ec || close_after) return;
                        self->read_request();
                      });
  }

  unix_socket::socket socket_;
  const Handler& handler_;
  std::shared_ptr<std::atomic<size_t>> in_flight_;
  std::string in_;
  std::string out_;
};

ControlServer::ControlServer(asio::io_context& io, std::filesystem::path path, Handler handler)
    : io_(io), path_(std::move(path)), handler_(std::move(handler)), strand_(asio::make_strand(io)) {}

ControlServer::~ControlServer() { stop(); }

Status ControlServer::listen() {
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Error(Errc::already_exists, "control socket " + path_.string() + " exists and is not a socket");
    unix_socket::socket probe(io_);
    error_code ec;
    probe.connect(unix_socket::endpoint(path_.string()), ec);
    if (!ec) return Error(Errc::busy, "control socket " + path_.string() + " is in use by another worker");
    if (::unlink(path_.c_str()) != 0) return error_from_errno(errno, "remove stale control socket " + path_.string());
  }
  std::error_code dir_ec;
  std::filesystem::create_directories(path_.parent_path(), dir_ec);
  auto& a = acceptor_.emplace(strand_);
  error_code ec;
  unix_socket::endpoint ep(path_.string());
  // The socket file must never exist with looser permissions than 0600.
  mode_t old = ::umask(0077);
  a.open(ep.protocol(), ec);
  if (!ec) a.bind(ep, ec);
  ::umask(old);
  if (ec) return Error(Errc::io_error, "control socket " + path_.string() + ": bind: " + ec.message());
  if (::chmod(path_.c_str(), 0600) != 0) return error_from_errno(errno, "chmod 0600 " + path_.string());
  if (a.listen(asio::socket_base::max_listen_connections, ec); ec)
    return Error(Errc::io_error, "control socket " + path_.string() + ": listen: " + ec.message());
  asio::dispatch(strand_, [this] { accept_next(); });
  return {};
}

Status ControlServer::adopt(int fd) {
  error_code ec;
  acceptor_.emplace(strand_).assign(unix_socket(), fd, ec);
  if (ec) return Error(Errc::io_error, "control socket " + path_.string() + ": adopt: " + ec.message());
  asio::dispatch(strand_, [this] { accept_next(); });
  return {};
}

void ControlServer::accept_next() {
  acceptor_->async_accept(io_, [this](const error_code& ec, unix_socket::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
    if (!ec) std::make_shared<Session>(std::move(socket), handler_, replies_in_flight_)->start();
    accept_next();
  });
}

void ControlServer::stop() {
  if (!acceptor_ || !acceptor_->is_open()) return;
  error_code ignored;
  acceptor_->close(ignored);
  ::unlink(path_.c_str());
}

void ControlServer::release() {
  if (!acceptor_) return;
  std::promise<void> done;
  asio::dispatch(strand_, [&] {
    error_code ignored;
    const int fd = acceptor_->release(ignored);
    if (fd >= 0) ::close(fd);
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace aiops::worker
