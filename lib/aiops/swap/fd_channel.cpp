#include "aiops/swap/fd_channel.hpp"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "aiops/core/endian.hpp"

namespace aiops::swap {

namespace {

Error system_error(int err, const std::string& what) {
  if (err == EPIPE || err == ECONNRESET || err == ENOTCONN)
    return Error(Errc::disconnected, what + ": the peer closed the channel", err);
  return error_from_errno(err, what);
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

FdChannel::FdChannel(UniqueFd socket, std::string peer) : socket_(std::move(socket)), peer_(std::move(peer)) {}

Status FdChannel::send(uint16_t kind, std::span<const std::byte> payload, std::span<const int> fds) {
  if (fds.size() > max_fds_per_message)
    return Error(Errc::invalid_argument, "send to " + peer_ + ": " + std::to_string(fds.size()) +
                                             " descriptors in one message; at most " +
                                             std::to_string(max_fds_per_message));
  if (payload.size() > max_fd_frame_payload)
    return Error(Errc::invalid_argument, "send to " + peer_ + ": payload of " + std::to_string(payload.size()) +
                                             " bytes; at most " + std::to_string(max_fd_frame_payload));
  std::byte header[fd_frame_header_bytes];
  store_le<uint32_t>(header, fd_frame_magic);
  store_le<uint16_t>(header + 4, fd_frame_version);
  store_le<uint16_t>(header + 6, kind);
  store_le<uint32_t>(header + 8, static_cast<uint32_t>(payload.size()));
  store_le<uint32_t>(header + 12, static_cast<uint32_t>(fds.size()));

  // The descriptors go with the first byte; what a short send leaves
  // follows without them.
  alignas(cmsghdr) char control[CMSG_SPACE(max_fds_per_message * sizeof(int))];
  size_t sent = 0;
  const size_t total = sizeof header + payload.size();
  while (sent < total) {
    iovec iov[2];
    int iovcnt = 0;
    if (sent < sizeof header) iov[iovcnt++] = {header + sent, sizeof header - sent};
    const size_t payload_done = sent > sizeof header ? sent - sizeof header : 0;
    if (payload.size() > payload_done)
      iov[iovcnt++] = {const_cast<std::byte*>(payload.data()) + payload_done, payload.size() - payload_done};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(iovcnt);
    if (sent == 0 && !fds.empty()) {
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(fds.size() * sizeof(int));
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
      std::memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
    }
    ssize_t n = ::sendmsg(socket_.get(), &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error(errno, "send to " + peer_);
    }
    sent += static_cast<size_t>(n);
  }
  return {};
}

Status FdChannel::read_exact(std::byte* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::recv(socket_.get(), out + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return system_error(errno, "receive from " + peer_);
    }
    if (r == 0)
      return Error(Errc::disconnected, "receive from " + peer_ + ": the channel ended in the middle of a frame");
    got += static_cast<size_t>(r);
  }
  return {};
}

Result<FdMessage> FdChannel::receive() {
  FdMessage message;
  std::byte header[fd_frame_header_bytes];
  alignas(cmsghdr) char control[CMSG_SPACE(max_fds_per_message * sizeof(int))];
  size_t got = 0;
  bool truncated = false;
  while (got < sizeof header) {
    iovec iov{header + got, sizeof header - got};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(socket_.get(), &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error(errno, "receive from " + peer_);
    }
    // Whatever arrived is ours to close, whatever happens next.
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        message.fds.emplace_back(fd);
      }
    }
    truncated = truncated || (msg.msg_flags & MSG_CTRUNC) != 0;
    if (n == 0) {
      if (got == 0) return Error(Errc::disconnected, "receive from " + peer_ + ": the channel is closed");
      return Error(Errc::disconnected, "receive from " + peer_ + ": the channel ended in the middle of a frame");
    }
    got += static_cast<size_t>(n);
  }
  const std::string where = "frame from " + peer_;
  if (load_le<uint32_t>(header) != fd_frame_magic) return Error(Errc::invalid_input, where + ": bad magic");
  if (load_le<uint16_t>(header + 4) != fd_frame_version)
    return Error(Errc::invalid_input, where + ": version " + std::to_string(load_le<uint16_t>(header + 4)) + ", expected " +
                                          std::to_string(fd_frame_version));
  message.kind = load_le<uint16_t>(header + 6);
  const uint32_t length = load_le<uint32_t>(header + 8);
  const uint32_t fd_count = load_le<uint32_t>(header + 12);
  if (truncated)
    return Error(Errc::invalid_input, where + ": the kernel dropped descriptors (the receiver's limit on open "
                                              "files, RLIMIT_NOFILE, may be reached)");
  if (fd_count != message.fds.size())
    return Error(Errc::invalid_input, where + ": announces " + std::to_string(fd_count) + " descriptors, " +
                                          std::to_string(message.fds.size()) + " arrived");
  if (length > max_fd_frame_payload)
    return Error(Errc::invalid_input, where + ": payload of " + std::to_string(length) + " bytes is over the limit");
  message.payload.resize(length);
  AIOPS_TRY(read_exact(message.payload.data(), length));
  return message;
}

Result<std::pair<FdChannel, FdChannel>> fd_channel_pair() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return error_from_errno(errno, "socketpair");
  return std::pair<FdChannel, FdChannel>{FdChannel(UniqueFd(sv[0]), "peer 0"), FdChannel(UniqueFd(sv[1]), "peer 1")};
}

}  // namespace aiops::swap
