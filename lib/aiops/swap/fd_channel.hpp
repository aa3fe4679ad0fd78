#pragma once
// Messages with file descriptors attached, over a connected Unix stream
// socket (SCM_RIGHTS): how an old worker hands its listening sockets and
// live client connections to the new binary during a live update.
//
// Frame, version 1 (little-endian):
//
//   offset width field     meaning
//   ------ ----- --------- ------------------------------------------------
//        0     4 magic     0x4d444641, the bytes "AFDM"
//        4     2 version   1
//        6     2 kind      what the message is; the caller's numbering
//        8     4 length    payload bytes that follow the header
//       12     4 fd_count  descriptors attached, at most max_fds_per_message
//       16   len payload
//
// The descriptors travel as one SCM_RIGHTS control message on the frame's
// first byte, so the receiver gets them with its first read of the header
// and checks that as many arrived as fd_count announces. They are received
// close-on-exec (a binary the receiver starts must not inherit them by
// accident) and owned by the receiver from then on; on any error the ones
// that arrived are closed, never leaked.
//
// Thread-safety: a channel is used by one thread at a time.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "aiops/core/error.hpp"

namespace aiops::swap {

inline constexpr uint32_t fd_frame_magic = 0x4d444641;  // "AFDM"
inline constexpr uint16_t fd_frame_version = 1;
inline constexpr size_t fd_frame_header_bytes = 16;
/// The kernel's limit on descriptors in one SCM_RIGHTS message (SCM_MAX_FD).
inline constexpr size_t max_fds_per_message = 253;
/// Largest payload accepted; a frame is a control message, not bulk data.
inline constexpr uint32_t max_fd_frame_payload = 16u << 20;

/// An owned file descriptor, closed when it goes out of scope.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

struct FdMessage {
  uint16_t kind = 0;
  std::vector<std::byte> payload;
  std::vector<UniqueFd> fds;
};

class FdChannel {
 public:
  /// Takes ownership of `socket`, a connected AF_UNIX SOCK_STREAM socket.
  explicit FdChannel(UniqueFd socket, std::string peer = "peer");

  /// Sends one frame with `fds` attached (they stay open on this side).
  /// Errors: Errc::invalid_argument (too many fds, payload too large),
  /// Errc::disconnected (the peer went away), other system errors.
  [[nodiscard]] Status send(uint16_t kind, std::span<const std::byte> payload, std::span<const int> fds);
  /// Receives one frame. Errors: Errc::disconnected (clean end of stream
  /// before a frame), Errc::invalid_input (bad magic, version, length, or a
  /// descriptor count that does not match what arrived, or descriptors the
  /// kernel had to drop), system errors.
  [[nodiscard]] Result<FdMessage> receive();

  [[nodiscard]] int fd() const { return socket_.get(); }

 private:
  Status read_exact(std::byte* out, size_t n);

  UniqueFd socket_;
  std::string peer_;
};

/// A connected pair of channels (socketpair), for a parent and the child
/// it starts, and for tests.
[[nodiscard]] Result<std::pair<FdChannel, FdChannel>> fd_channel_pair();

}  // namespace aiops::swap
