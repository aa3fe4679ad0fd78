#pragma once
// One client connection speaking the native protocol (net/protocol.hpp,
// aiops-protocol(7)): a HELLO, then pipelined WRITE, READ and FLUSH
// requests whose replies go out as each completes.
//
// Request handling, in the order of the checks (one status each):
//  1. the header decodes (else malformed / unsupported_version: reply, close);
//  2. HELLO first (else not_authenticated: reply, close); a failed HELLO
//     (unknown_client, bad_token) replies and closes;
//  3. length within max_request_size (else too_large), outstanding requests
//     below max_outstanding (else too_many_outstanding);
//  4. payload checksum (checksum_mismatch), volume known (unknown_volume),
//     granted and writable (access_denied), extent inside (out_of_range).
// A refused WRITE's payload is still read (and dropped) so the stream stays
// in step; only a malformed frame or a failed HELLO closes the connection.
// Every refusal is logged with the client and the reason.
//
// While the speculative buffer takes writes (specbuf/buffer.hpp), a WRITE
// goes there after step 3 and the buffer's validator does the checks of
// step 4; reads always look in the buffer first.
//
// Thread-safety: all members run on the connection's strand; completions
// from the block store are posted to it.

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aiops/core/asio.hpp"

#include "aiops/net/protocol.hpp"
#include "aiops/worker/client_directory.hpp"

namespace aiops::worker {

class Server;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Socket = boost::asio::generic::stream_protocol::socket;
  using Executor = Socket::executor_type;

  Connection(Server& server, Socket socket, std::string peer);

  void start();
  /// Stop reading requests; close once every owed reply is sent.
  void drain();
  /// Close now.
  void close();

  /// The connection's strand.
  [[nodiscard]] Executor executor();
  /// Called (via the strand) when a store operation finishes.
  /// `retry_after_ms` overrides the default delay of a retryable status.
  void finished(uint64_t handle, net::Opcode opcode, net::Status status, uint32_t bytes,
                std::optional<uint32_t> retry_after_ms = std::nullopt);

 private:
  void read_header();
  void on_header();
  void receive_more();
  void read_failed();
  [[nodiscard]] size_t buffered() const;
  void read_body(uint32_t length, std::function<void(std::vector<std::byte>)> then);
  void discard(uint64_t bytes);
  void handle_hello(const net::RequestHeader& h, std::vector<std::byte> body);
  void handle_write(const net::RequestHeader& h, std::vector<std::byte> payload);
  void handle_read(const net::RequestHeader& h);
  void handle_flush(const net::RequestHeader& h);
  [[nodiscard]] net::Status check_access(uint32_t volume, bool write, std::string& why) const;
  void refuse(const net::RequestHeader& h, net::Status status, const std::string& why, bool close_after = false,
              std::optional<uint32_t> retry_after_ms = std::nullopt);
  static uint32_t retry_after(net::Status status, std::optional<uint32_t> given);
  void send(net::ReplyHeader header, std::vector<std::byte> payload = {}, bool close_after = false);
  void write_next();
  void arm_idle_timer();
  void maybe_finish_drain();
  [[nodiscard]] std::string who() const;
  void note_extent(uint32_t volume, uint64_t offset, uint32_t length);

  Server& server_;
  Socket socket_;
  boost::asio::steady_timer idle_;
  std::chrono::steady_clock::time_point last_request_;  // when the last request header arrived
  std::string peer_;
  std::array<std::byte, net::request_header_bytes> header_{};
  std::vector<std::byte> scratch_;  // for discarding payloads
  // Received, not yet parsed: in_[in_begin_, in_end_). Allocated on the
  // first read; payloads larger than what it holds bypass it.
  std::vector<std::byte> in_;
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  unsigned inline_depth_ = 0;  // requests handled from in_ without returning to the strand
  const ClientInfo* client_ = nullptr;
  uint32_t outstanding_ = 0;
  uint32_t last_volume_ = 0;  // where the previous accepted read or write ended
  uint64_t last_end_ = UINT64_MAX;
  std::deque<std::vector<std::byte>> out_;
  bool writing_ = false;
  bool close_after_write_ = false;
  bool draining_ = false;
  bool closed_ = false;
};

}  // namespace aiops::worker
