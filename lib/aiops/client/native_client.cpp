#include "aiops/client/native_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "aiops/core/checksum.hpp"

namespace aiops::client {

std::string Endpoint::text() const {
  if (is_unix) return "unix:" + path.string();
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Endpoint Endpoint::of(const config::ListenerConfig& l) {
  Endpoint e;
  e.is_unix = l.is_unix;
  e.host = l.host == "localhost" ? "127.0.0.1" : l.host;
  e.port = l.port;
  e.path = l.unix_path;
  return e;
}

namespace {

// Why a connect failed, as the load tool counts it.
Error connect_error(int err, const Endpoint& e) {
  std::string where = "connect to " + e.text();
  if (err == ECONNREFUSED || err == ENOENT || err == EHOSTUNREACH || err == ENETUNREACH)
    return Error(Errc::unreachable, where + ": " + std::strerror(err), err);
  return error_from_errno(err, where);
}

Result<int> open_socket(const Endpoint& e, std::chrono::milliseconds timeout) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_UNIX;
  if (e.is_unix) {
    auto* un = reinterpret_cast<sockaddr_un*>(&addr);
    un->sun_family = AF_UNIX;
    std::string p = e.path.string();
    if (p.size() >= sizeof un->sun_path) return Error(Errc::invalid_argument, "socket path too long: " + p);
    std::memcpy(un->sun_path, p.c_str(), p.size() + 1);
    len = sizeof(sockaddr_un);
  } else if (auto* in4 = reinterpret_cast<sockaddr_in*>(&addr); ::inet_pton(AF_INET, e.host.c_str(), &in4->sin_addr) == 1) {
    family = in4->sin_family = AF_INET;
    in4->sin_port = htons(e.port);
    len = sizeof(sockaddr_in);
  } else if (auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr); ::inet_pton(AF_INET6, e.host.c_str(), &in6->sin6_addr) == 1) {
    family = in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(e.port);
    len = sizeof(sockaddr_in6);
  } else {
    return Error(Errc::invalid_argument, "not an IP address: " + e.host);
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return error_from_errno(errno, "socket");
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    int err = errno;
    if (err != EINPROGRESS) {
      ::close(fd);
      return connect_error(err, e);
    }
    pollfd p{fd, POLLOUT, 0};
    int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    socklen_t elen = sizeof err;
    if (ready <= 0) {
      ::close(fd);
      return Error(Errc::timeout, "connect to " + e.text() + ": timed out");
    }
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err != 0) {
      ::close(fd);
      return connect_error(err, e);
    }
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (!e.is_unix) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

}  // namespace

Error refusal(const net::ReplyHeader& reply) {
  std::string m = std::string(net::opcode_name(reply.opcode)) + " refused by the worker: " +
                  std::string(net::status_name(reply.status));
  if (reply.retry_after_ms > 0) m += " (retry after " + std::to_string(reply.retry_after_ms) + " ms)";
  bool transient = reply.status == net::Status::busy || reply.status == net::Status::too_many_outstanding ||
                   reply.status == net::Status::shutting_down;
  return Error(transient ? Errc::busy : Errc::io_error, std::move(m));
}

Result<std::unique_ptr<NativeClient>> NativeClient::connect(const Endpoint& endpoint, std::string_view client,
                                                            std::string_view token,
                                                            std::chrono::milliseconds timeout) {
  AIOPS_ASSIGN(int fd, open_socket(endpoint, timeout));
  std::unique_ptr<NativeClient> c(new NativeClient(fd, endpoint.text(), timeout));
  auto body = net::encode_hello({std::string(client), std::string(token)});
  std::vector<std::byte> frame(net::request_header_bytes + body.size());
  net::encode_request({net::Opcode::hello, 0, 0, 0, static_cast<uint32_t>(body.size()), 0, checksum64(body)},
                      frame.data());
  std::copy(body.begin(), body.end(), frame.begin() + net::request_header_bytes);
  AIOPS_TRY(c->send_all(frame));
  AIOPS_ASSIGN(Reply reply, c->receive());
  if (reply.header.status != net::Status::ok) {
    Error e = refusal(reply.header);
    if (reply.header.status == net::Status::unknown_client || reply.header.status == net::Status::bad_token)
      return Error(Errc::permission_denied, "worker at " + endpoint.text() + " refused client \"" + std::string(client) +
                                                "\": " + std::string(net::status_name(reply.header.status)));
    return e.with_context("worker at " + endpoint.text());
  }
  AIOPS_ASSIGN(c->hello_, net::decode_hello_reply(reply.payload));
  return c;
}

NativeClient::~NativeClient() { ::close(fd_); }

const net::VolumeInfo* NativeClient::volume(std::string_view name) const {
  for (const auto& v : hello_.volumes)
    if (v.name == name) return &v;
  return nullptr;
}

Status NativeClient::send_all(std::span<const std::byte> bytes) { return send_all(bytes, {}); }

// Header and payload go out with one sendmsg, so a request is one segment
// on the wire rather than two.
Status NativeClient::send_all(std::span<const std::byte> first, std::span<const std::byte> second) {
  while (!first.empty() || !second.empty()) {
    iovec iov[2] = {{const_cast<std::byte*>(first.data()), first.size()},
                    {const_cast<std::byte*>(second.data()), second.size()}};
    msghdr msg{};
    msg.msg_iov = first.empty() ? iov + 1 : iov;
    msg.msg_iovlen = first.empty() ? 1 : 2;
    ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return error_from_errno(errno, "send to " + peer_);
    }
    auto sent = static_cast<size_t>(n);
    size_t from_first = std::min(sent, first.size());
    first = first.subspan(from_first);
    second = second.subspan(std::min(sent - from_first, second.size()));
  }
  return {};
}

// The socket's SO_RCVTIMEO (set in connect) bounds each recv, so a reply is
// one blocking recv rather than a poll and a recv; a reply that trickles in
// may take a few timeouts in all, which only a broken peer would do.
Status NativeClient::receive_exact(std::span<std::byte> out) {
  while (!out.empty()) {
    ssize_t n = ::recv(fd_, out.data(), out.size(), 0);
    if (n == 0) return Error(Errc::disconnected, peer_ + " closed the connection");
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return Error(Errc::timeout, "no reply from " + peer_ + " within " + std::to_string(timeout_.count()) + " ms");
      return error_from_errno(errno, "receive from " + peer_);
    }
    out = out.subspan(static_cast<size_t>(n));
  }
  return {};
}

Result<Reply> NativeClient::receive() {
  std::array<std::byte, net::reply_header_bytes> raw{};
  AIOPS_TRY(receive_exact(raw));
  auto decoded = net::decode_reply(raw.data());
  if (const auto* bad = std::get_if<net::DecodeError>(&decoded))
    return Error(Errc::invalid_input, "reply from " + peer_ + " breaks the protocol: " + bad->problem);
  Reply r{std::get<net::ReplyHeader>(decoded), {}};
  r.payload.resize(r.header.length);
  AIOPS_TRY(receive_exact(r.payload));
  if (!r.payload.empty() && checksum64(r.payload) != r.header.checksum)
    return Error(Errc::corrupt, "reply from " + peer_ + " (handle " + std::to_string(r.header.handle) +
                                    "): payload does not match its checksum");
  return r;
}

Status NativeClient::send_write(uint64_t handle, uint32_t volume, uint64_t offset, std::span<const std::byte> data,
                                bool fua, bool retry) {
  std::array<std::byte, net::request_header_bytes> h{};
  const auto flags = static_cast<uint16_t>((fua ? net::flag_fua : 0) | (retry ? net::flag_retry : 0));
  net::encode_request({net::Opcode::write, flags, handle, volume,
                       static_cast<uint32_t>(data.size()), offset, checksum64(data)},
                      h.data());
  return send_all(h, data);
}

Status NativeClient::send_read(uint64_t handle, uint32_t volume, uint64_t offset, uint32_t length, bool retry) {
  std::array<std::byte, net::request_header_bytes> h{};
  net::encode_request({net::Opcode::read, static_cast<uint16_t>(retry ? net::flag_retry : 0), handle, volume, length,
                       offset, 0},
                      h.data());
  return send_all(h);
}

Status NativeClient::send_flush(uint64_t handle) {
  std::array<std::byte, net::request_header_bytes> h{};
  net::encode_request({net::Opcode::flush, 0, handle, 0, 0, 0, 0}, h.data());
  return send_all(h);
}

Status NativeClient::send_raw(std::span<const std::byte> bytes) { return send_all(bytes); }

Result<Reply> NativeClient::expect(uint64_t handle) {
  AIOPS_ASSIGN(Reply r, receive());
  if (r.header.handle != handle)
    return Error(Errc::invalid_input, "reply from " + peer_ + " for handle " + std::to_string(r.header.handle) +
                                          ", expected " + std::to_string(handle));
  if (r.header.status != net::Status::ok) return refusal(r.header);
  return r;
}

Status NativeClient::write(uint32_t volume, uint64_t offset, std::span<const std::byte> data, bool fua) {
  uint64_t handle = next_handle_++;
  AIOPS_TRY(send_write(handle, volume, offset, data, fua));
  return expect(handle).status();
}

Result<std::vector<std::byte>> NativeClient::read(uint32_t volume, uint64_t offset, uint32_t length) {
  uint64_t handle = next_handle_++;
  AIOPS_TRY(send_read(handle, volume, offset, length));
  AIOPS_ASSIGN(Reply r, expect(handle));
  return std::move(r.payload);
}

Status NativeClient::flush() {
  uint64_t handle = next_handle_++;
  AIOPS_TRY(send_flush(handle));
  return expect(handle).status();
}

}  // namespace aiops::client
