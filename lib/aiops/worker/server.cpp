#include "aiops/worker/server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include "aiops/core/logger.hpp"
#include "aiops/net/protocol.hpp"
#include "aiops/worker/connection.hpp"

namespace aiops::worker {

namespace asio = boost::asio;
using boost::system::error_code;
using asio::ip::tcp;
using unix_socket = asio::local::stream_protocol;

struct Server::Listener {
  ListenerInfo info;
  std::optional<tcp::acceptor> tcp_acceptor;
  std::optional<unix_socket::acceptor> unix_acceptor;
  std::filesystem::path unix_path;
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
  for (const auto& l : context_.config.listeners) {
    if (l.protocol != config::ListenerConfig::Protocol::native)
      return Error(Errc::unsupported, "listener " + l.address + ": protocol " + std::string(config::to_string(l.protocol)) +
                                          " is not supported by this version of aiops-worker");
    auto listener = std::make_unique<Listener>();
    error_code ec;
    if (l.is_unix) {
      AIOPS_TRY(free_unix_path(io_, l));
      auto& a = listener->unix_acceptor.emplace(io_);
      unix_socket::endpoint ep(l.unix_path.string());
      if (a.open(ep.protocol(), ec); ec) return listen_error(l, "socket", ec);
      if (a.bind(ep, ec); ec) return listen_error(l, "bind", ec);
      ::chmod(l.unix_path.c_str(), 0660);
      if (a.listen(asio::socket_base::max_listen_connections, ec); ec) return listen_error(l, "listen", ec);
      listener->unix_path = l.unix_path;
      listener->info = {"native", "unix:" + l.unix_path.string()};
    } else {
      auto address = asio::ip::make_address(l.host == "localhost" ? "127.0.0.1" : l.host, ec);
      if (ec) return listen_error(l, "address", ec);
      tcp::endpoint ep(address, l.port);
      auto& a = listener->tcp_acceptor.emplace(io_);
      if (a.open(ep.protocol(), ec); ec) return listen_error(l, "socket", ec);
      a.set_option(tcp::acceptor::reuse_address(true), ec);
      if (a.bind(ep, ec); ec) return listen_error(l, "bind", ec);
      if (a.listen(asio::socket_base::max_listen_connections, ec); ec) return listen_error(l, "listen", ec);
      auto bound = a.local_endpoint();
      std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string();
      listener->info = {"native", host + ":" + std::to_string(bound.port())};
    }
    log_info("listening for the native protocol on " + listener->info.address);
    listeners_.push_back(std::move(listener));
  }
  for (auto& l : listeners_) accept_next(*l);
  return {};
}

void Server::accept_next(Listener& l) {
  if (l.tcp_acceptor) {
    l.tcp_acceptor->async_accept(asio::make_strand(io_), [this, &l](const error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        error_code peer_ec;
        auto peer = socket.remote_endpoint(peer_ec);
        std::string name = peer_ec ? "tcp" : peer.address().to_string() + ":" + std::to_string(peer.port());
        socket.set_option(tcp::no_delay(true), peer_ec);
        admit(Connection::Socket(std::move(socket)), std::move(name));
      }
      accept_next(l);
    });
  } else {
    l.unix_acceptor->async_accept(asio::make_strand(io_), [this, &l](const error_code& ec, unix_socket::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) admit(Connection::Socket(std::move(socket)), "unix:" + l.unix_path.string());
      accept_next(l);
    });
  }
}

void Server::admit(Connection::Socket socket, std::string peer) {
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(mu_);
    if (!accepting_) return;
    if (connections_.size() >= context_.config.worker.max_connections) {
      // Say why before closing: a client reading its HELLO reply sees busy.
      log_warning("refusing a connection from " + peer + ": " + std::to_string(connections_.size()) +
                  " connections open, the limit is max_connections");
      std::array<std::byte, net::reply_header_bytes> reply{};
      net::encode_reply({net::Opcode::hello, net::Status::busy, 0, 1000, 0, 0}, reply.data());
      error_code ignored;
      asio::write(socket, asio::buffer(reply), ignored);
      socket.close(ignored);
      return;
    }
    connection = std::make_shared<Connection>(*this, std::move(socket), std::move(peer));
    connections_.insert(connection);
  }
  connection->start();
}

void Server::forget(const std::shared_ptr<Connection>& connection) {
  {
    std::lock_guard lock(mu_);
    connections_.erase(connection);
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
  std::vector<std::shared_ptr<Connection>> all;
  {
    std::lock_guard lock(mu_);
    drained_ = std::move(done);
    all.assign(connections_.begin(), connections_.end());
  }
  for (auto& c : all) c->drain();
  check_drained();
}

void Server::close_all() {
  std::vector<std::shared_ptr<Connection>> all;
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

}  // namespace aiops::worker
