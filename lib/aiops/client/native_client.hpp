#pragma once
// A blocking client of the native protocol (net/protocol.hpp), for the
// tools (load, verify) and the tests: plain sockets, one thread.
//
// connect() opens the connection and completes the HELLO. Requests can be
// sent pipelined (send_*, then receive() the replies in whatever order the
// worker sends them) or one at a time (write, read, flush).
//
// Errors: Errc::unreachable when nothing accepts at the address,
// Errc::disconnected when the worker closes or resets the connection,
// Errc::timeout, Errc::invalid_input for a reply that breaks the protocol,
// and, from the one-at-a-time calls, Errc::io_error with the status name
// when the worker refuses a request (see Reply::header.status for the code).
//
// Thread-safety: none; one client per thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "aiops/config/config.hpp"
#include "aiops/core/error.hpp"
#include "aiops/net/protocol.hpp"

namespace aiops::client {

struct Endpoint {
  bool is_unix = false;
  std::string host;  // IPv4 or IPv6 literal, or "localhost"
  uint16_t port = 0;
  std::filesystem::path path;  // Unix socket

  [[nodiscard]] std::string text() const;
  [[nodiscard]] static Endpoint of(const config::ListenerConfig& listener);
};

struct Reply {
  net::ReplyHeader header;
  std::vector<std::byte> payload;
};

class NativeClient {
 public:
  using Clock = std::chrono::steady_clock;

  [[nodiscard]] static Result<std::unique_ptr<NativeClient>> connect(const Endpoint& endpoint, std::string_view client,
                                                                     std::string_view token,
                                                                     std::chrono::milliseconds timeout);
  ~NativeClient();
  NativeClient(const NativeClient&) = delete;
  NativeClient& operator=(const NativeClient&) = delete;

  [[nodiscard]] const net::HelloReply& hello() const { return hello_; }
  /// The volume this client may use by that name; nullptr when not granted.
  [[nodiscard]] const net::VolumeInfo* volume(std::string_view name) const;

  /// `retry`: the request repeats one the worker refused (flag RETRY).
  [[nodiscard]] Status send_write(uint64_t handle, uint32_t volume, uint64_t offset, std::span<const std::byte> data,
                                  bool fua, bool retry = false);
  [[nodiscard]] Status send_read(uint64_t handle, uint32_t volume, uint64_t offset, uint32_t length,
                                 bool retry = false);
  [[nodiscard]] Status send_flush(uint64_t handle);
  /// Sends bytes as they are (tests of malformed input).
  [[nodiscard]] Status send_raw(std::span<const std::byte> bytes);
  /// The next reply; its payload's checksum is verified.
  [[nodiscard]] Result<Reply> receive();

  /// One request, waiting for its reply; a refusal is an error.
  [[nodiscard]] Status write(uint32_t volume, uint64_t offset, std::span<const std::byte> data, bool fua = false);
  [[nodiscard]] Result<std::vector<std::byte>> read(uint32_t volume, uint64_t offset, uint32_t length);
  [[nodiscard]] Status flush();

  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

 private:
  NativeClient(int fd, std::string peer, std::chrono::milliseconds timeout)
      : fd_(fd), peer_(std::move(peer)), timeout_(timeout) {}
  Status send_all(std::span<const std::byte> bytes);
  Status send_all(std::span<const std::byte> first, std::span<const std::byte> second);
  Status receive_exact(std::span<std::byte> out);
  Result<Reply> expect(uint64_t handle);

  int fd_;
  std::string peer_;
  std::chrono::milliseconds timeout_;
  net::HelloReply hello_;
  uint64_t next_handle_ = 1;
};

/// The error for a reply whose status is not ok: Errc::io_error (busy and the
/// like: Errc::busy), message naming the status.
[[nodiscard]] Error refusal(const net::ReplyHeader& reply);

}  // namespace aiops::client
