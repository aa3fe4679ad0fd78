#include "aiops/worker/server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <future>

#include "aiops/config/listen_address.hpp"
#include "aiops/core/logger.hpp"
#include "aiops/net/protocol.hpp"
#include "aiops/worker/connection.hpp"
#include "aiops/worker/nbd_session.hpp"

namespace aiops::worker {

namespace asio = boost::asio;
using boost::system::error_code;
using asio::ip::tcp;
using unix_socket = asio::local::stream_protocol;

struct Server::Listener {
  explicit Listener(asio::io_context& io) : strand(asio::make_strand(io)) {}
  asio::strand<asio::io_context::executor_type> strand;
  ListenerInfo info;
  std::optional<tcp::acceptor> tcp_acceptor;
  std::optional<unix_socket::acceptor> unix_acceptor;
  std::filesystem::path unix_path;
  bool paused = false;  // on the strand
};

namespace {

Error listen_error(const config::ListenerConfig& l, std::string_view step, const error_code& ec) {
  return Error(Errc::io_error, "listener " + std::string(config::to_string(l.protocol)) + " " + l.address + ": " +
                                   std::string(step) + ": " + ec.message());
}

// A Unix socket path left by a worker that is gone is removed; one that a
// live process still accepts on is not taken over.
Status free_unix_path(asio::io_context& io, const config::ListenerConfig& l) {
  struct stat st {};
  if (::lstat(l.unix_path.c_str(), &st) != 0) return {};
  if (!S_ISSOCK(st.st_mode))
    return Error(Errc::already_exists, "listener " + l.address + ": " + l.unix_path.string() + " exists and is not a socket");
  unix_socket::socket probe(io);
  error_code ec;
  probe.connect(unix_socket::endpoint(l.unix_path.string()), ec);
  if (!ec) return Error(Errc::busy, "listener " + l.address + ": another process is accepting on " + l.unix_path.string());
  if (::unlink(l.unix_path.c_str()) != 0) return error_from_errno(errno, "remove stale socket " + l.unix_path.string());
  return {};
}

}  // namespace

Server::Server(asio::io_context& io, ServerContext context) : io_(io), context_(context) {}

Server::~Server() = default;

Status Server::listen() {
  for (const auto& l : context_.config.listeners) AIOPS_TRY(bind(l));
  start_accepting();
  return {};
}

Status Server::listen_at(const std::vector<ListenerInfo>& listeners) {
  for (const auto& info : listeners) {
    AIOPS_ASSIGN(config::ListenerConfig l, config::parse_listen_address(info.address, "/"));
    if (info.protocol == "nbd") l.protocol = config::ListenerConfig::Protocol::nbd;
    AIOPS_TRY(bind(l));
  }
  start_accepting();
  return {};
}

void Server::start_accepting() {
  for (auto& l : listeners_) asio::dispatch(l->strand, [this, p = l.get()] { accept_next(*p); });
}

Status Server::bind(const config::ListenerConfig& l) {
  const std::string protocol(config::to_string(l.protocol));
  auto listener = std::make_unique<Listener>(io_);
  error_code ec;
  if (l.is_unix) {
    AIOPS_TRY(free_unix_path(io_, l));
    auto& a = listener->unix_acceptor.emplace(listener->strand);
    unix_socket::endpoint ep(l.unix_path.string());
    if (a.open(ep.protocol(), ec); ec) return listen_error(l, "socket", ec);
    if (a.bind(ep, ec); ec) return listen_error(l, "bind", ec);
    ::chmod(l.unix_path.c_str(), 0660);
    if (a.listen(asio::socket_base::max_listen_connections, ec); ec) return listen_error(l, "listen", ec);
    listener->unix_path = l.unix_path;
    listener->info = {protocol, "unix:" + l.unix_path.string()};
  } else {
    auto address = asio::ip::make_address(l.host == "localhost" ? "127.0.0.1" : l.host, ec);
    if (ec) return listen_error(l, "address", ec);
    tcp::endpoint ep(address, l.port);
    auto& a = listener->tcp_acceptor.emplace(listener->strand);
    if (a.open(ep.protocol(), ec); ec) return listen_error(l, "socket", ec);
    a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (a.bind(ep, ec); ec) return listen_error(l, "bind", ec);
    if (a.listen(asio::socket_base::max_listen_connections, ec); ec) return listen_error(l, "listen", ec);
    auto bound = a.local_endpoint();
    std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string();
    listener->info = {protocol, host + ":" + std::to_string(bound.port())};
  }
  log_info("listening for the " + protocol + " protocol on " + listener->info.address);
  listeners_.push_back(std::move(listener));
  return {};
}

Status Server::adopt_listener(const ListenerInfo& info, int fd) {
  auto listener = std::make_unique<Listener>(io_);
  listener->info = info;
  error_code ec;
  if (info.address.starts_with("unix:")) {
    listener->unix_path = info.address.substr(5);
    listener->unix_acceptor.emplace(listener->strand).assign(unix_socket(), fd, ec);
  } else {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
      return error_from_errno(errno, "adopt listener " + info.address + ": getsockname");
    listener->tcp_acceptor.emplace(listener->strand).assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
  }
  if (ec) return Error(Errc::io_error, "adopt listener " + info.address + ": " + ec.message());
  log_info("accepting for the " + info.protocol + " protocol on " + info.address + " (handed over)");
  auto* p = listener.get();
  listeners_.push_back(std::move(listener));
  asio::dispatch(p->strand, [this, p] { accept_next(*p); });
  return {};
}

Status Server::adopt_connection(int fd, const swap::ConnectionState& state) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    auto e = error_from_errno(errno, "adopt connection from " + state.peer + ": getsockname");
    ::close(fd);
    return e;
  }
  const int proto = ss.ss_family == AF_UNIX ? 0 : IPPROTO_TCP;
  error_code ec;
  Session::Socket socket(asio::make_strand(io_));
  socket.assign(asio::generic::stream_protocol(ss.ss_family, proto), fd, ec);
  if (ec) {
    ::close(fd);
    return Error(Errc::io_error, "adopt connection from " + state.peer + ": " + ec.message());
  }
  std::shared_ptr<Session> session;
  const ClientInfo* client = nullptr;
  if (state.protocol == "nbd") {
    session = std::make_shared<NbdSession>(*this, std::move(socket), state);
  } else if (!state.client.empty()) {
    client = context_.clients.find(state.client);
    if (client == nullptr) {
      // The configuration changed under the update: the client is gone.
      log_warning("closing the handed-over connection of client \"" + state.client + "\" (" + state.peer +
                  "): it is no longer configured");
      socket.close(ec);
      return {};
    }
  }
  if (!session) session = std::make_shared<Connection>(*this, std::move(socket), client, state);
  {
    std::lock_guard lock(mu_);
    connections_.insert(session);
  }
  session->start_adopted(state.owed);
  return {};
}

void Server::accept_next(Listener& l) {
  if (l.paused) return;
  if (l.tcp_acceptor) {
    l.tcp_acceptor->async_accept(asio::make_strand(io_), [this, &l](const error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        error_code peer_ec;
        auto peer = socket.remote_endpoint(peer_ec);
        std::string name = peer_ec ? "tcp" : peer.address().to_string() + ":" + std::to_string(peer.port());
        socket.set_option(tcp::no_delay(true), peer_ec);
        admit(Session::Socket(std::move(socket)), std::move(name), l.info.protocol == "nbd");
      }
      accept_next(l);
    });
  } else {
    l.unix_acceptor->async_accept(asio::make_strand(io_), [this, &l](const error_code& ec, unix_socket::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) admit(Session::Socket(std::move(socket)), "unix:" + l.unix_path.string(), l.info.protocol == "nbd");
      accept_next(l);
    });
  }
}

void Server::admit(Session::Socket socket, std::string peer, bool nbd) {
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(mu_);
    if (!accepting_) return;
    if (connections_.size() >= context_.config.worker.max_connections) {
      log_warning("refusing a connection from " + peer + ": " + std::to_string(connections_.size()) +
                  " connections open, the limit is max_connections");
      error_code ignored;
      if (!nbd) {
        // Say why before closing: a client reading its HELLO reply sees busy.
        // (NBD has no way to say it before the greeting: the client sees EOF.)
        std::array<std::byte, net::reply_header_bytes> reply{};
        net::encode_reply({net::Opcode::hello, net::Status::busy, 0, 1000, 0, 0}, reply.data());
        asio::write(socket, asio::buffer(reply), ignored);
      }
      socket.close(ignored);
      return;
    }
    if (nbd) session = std::make_shared<NbdSession>(*this, std::move(socket), std::move(peer));
    else session = std::make_shared<Connection>(*this, std::move(socket), std::move(peer));
    connections_.insert(session);
  }
  asio::dispatch(session->executor(), [session] { session->start(); });
}

void Server::forget(const std::shared_ptr<Session>& session) {
  {
    std::lock_guard lock(mu_);
    connections_.erase(session);
  }
  check_drained();
}

std::vector<ListenerInfo> Server::listeners() const {
  std::vector<ListenerInfo> out;
  for (const auto& l : listeners_) out.push_back(l->info);
  return out;
}

size_t Server::connection_count() const {
  std::lock_guard lock(mu_);
  return connections_.size();
}

void Server::stop_accepting() {
  {
    std::lock_guard lock(mu_);
    accepting_ = false;
  }
  for (auto& l : listeners_) {
    error_code ignored;
    if (l->tcp_acceptor) l->tcp_acceptor->close(ignored);
    if (l->unix_acceptor) {
      l->unix_acceptor->close(ignored);
      ::unlink(l->unix_path.c_str());
    }
  }
}

void Server::drain(std::function<void()> done) {
  std::vector<std::shared_ptr<Session>> all;
  {
    std::lock_guard lock(mu_);
    drained_ = std::move(done);
    all.assign(connections_.begin(), connections_.end());
  }
  for (auto& c : all) c->drain();
  check_drained();
}

void Server::close_all() {
  std::vector<std::shared_ptr<Session>> all;
  {
    std::lock_guard lock(mu_);
    all.assign(connections_.begin(), connections_.end());
  }
  for (auto& c : all) asio::post(c->executor(), [c] { c->close(); });
}

void Server::check_drained() {
  std::function<void()> done;
  {
    std::lock_guard lock(mu_);
    if (!drained_ || !connections_.empty()) return;
    done = std::move(drained_);
    drained_ = nullptr;
  }
  done();
}

void Server::pause_accepting() {
  std::vector<std::future<void>> done;
  for (auto& l : listeners_) {
    auto p = std::make_shared<std::promise<void>>();
    done.push_back(p->get_future());
    asio::post(l->strand, [this, l = l.get(), p] {
      l->paused = true;
      error_code ignored;
      if (l->tcp_acceptor) l->tcp_acceptor->cancel(ignored);
      if (l->unix_acceptor) l->unix_acceptor->cancel(ignored);
      // The cancelled accept's handler is queued on the strand by now; this
      // runs after it, so no admit() is left in progress.
      asio::post(l->strand, [p] { p->set_value(); });
    });
  }
  for (auto& f : done) f.wait();
}

Result<std::vector<std::shared_ptr<Session>>> Server::pause_connections(std::chrono::milliseconds timeout) {
  std::vector<std::shared_ptr<Session>> all;
  {
    std::lock_guard lock(mu_);
    all.assign(connections_.begin(), connections_.end());
  }
  struct Count {
    std::mutex mu;
    std::condition_variable cv;
    size_t left = 0;
    std::vector<std::shared_ptr<Session>> open;
  };
  auto count = std::make_shared<Count>();
  count->left = all.size();
  for (auto& c : all)
    c->pause([count, c](bool open) {
      std::lock_guard lock(count->mu);
      if (open) count->open.push_back(c);
      if (--count->left == 0) count->cv.notify_all();
    });
  std::unique_lock lock(count->mu);
  if (!count->cv.wait_for(lock, timeout, [&] { return count->left == 0; }))
    return Error(Errc::timeout, std::to_string(count->left) + " of " + std::to_string(all.size()) +
                                    " connections did not reach a request boundary within " +
                                    std::to_string(timeout.count()) + " ms");
  return count->open;
}

std::vector<std::pair<ListenerInfo, int>> Server::listener_handles() const {
  std::vector<std::pair<ListenerInfo, int>> out;
  for (const auto& l : listeners_)
    out.emplace_back(l->info, l->tcp_acceptor ? l->tcp_acceptor->native_handle() : l->unix_acceptor->native_handle());
  return out;
}

void Server::close_listeners() {
  pause_accepting();
  for (auto& l : listeners_) {
    closed_listeners_.push_back(l->info);
    error_code ignored;
    if (l->tcp_acceptor) l->tcp_acceptor->close(ignored);
    if (l->unix_acceptor) {
      l->unix_acceptor->close(ignored);
      ::unlink(l->unix_path.c_str());
    }
  }
  listeners_.clear();
}

Status Server::resume() {
  if (!closed_listeners_.empty()) {
    auto listeners = std::move(closed_listeners_);
    closed_listeners_.clear();
    AIOPS_TRY(listen_at(listeners));
  }
  for (auto& l : listeners_)
    asio::post(l->strand, [this, l = l.get()] {
      if (!l->paused) return;
      l->paused = false;
      accept_next(*l);
    });
  std::vector<std::shared_ptr<Session>> all;
  {
    std::lock_guard lock(mu_);
    all.assign(connections_.begin(), connections_.end());
  }
  for (auto& c : all) c->resume();
  return {};
}

void Server::hand_over() {
  {
    std::lock_guard lock(mu_);
    accepting_ = false;
  }
  for (auto& l : listeners_) {
    error_code ignored;
    // Released, not closed by asio: the socket file of a Unix listener stays.
    int fd = l->tcp_acceptor ? l->tcp_acceptor->release(ignored) : l->unix_acceptor->release(ignored);
    if (fd >= 0) ::close(fd);
  }
  listeners_.clear();
  std::vector<std::shared_ptr<Session>> all;
  {
    std::lock_guard lock(mu_);
    all.assign(connections_.begin(), connections_.end());
  }
  for (auto& c : all) c->hand_over();
}

}  // namespace aiops::worker
