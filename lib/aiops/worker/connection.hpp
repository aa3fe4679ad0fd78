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
// Every refusal is logged with the client and the reason, except that busy
// refusals (admission control, sched/admission.hpp) are logged at most once
// a second per connection, with the count of those left out, so that a
// flood does not turn into a flood of log lines.
//
// Scheduling. After step 3 every request passes the client's retry budget
// (a request marked RETRY may be refused busy there); a WRITE bound for the
// log then passes the log queue's admission and waits in the scheduler
// (sched/dispatcher.hpp) until its turn to go to the log.
//
// While the speculative buffer takes writes (specbuf/buffer.hpp), a WRITE
// goes there after step 3 and the buffer's validator does the checks of
// step 4; reads always look in the buffer first.
//
// Live update (swap/handover.hpp): pause() stops the connection at the next
// request boundary: a payload being read is read to its end, no new header
// is parsed, and once every reply owed is sent — except those that wait for
// an apply of the buffer, which the new worker will send — the pending read
// is cancelled and the connection is quiescent. Bytes received meanwhile
// stay in the input buffer, unparsed; handover_state() carries them and the
// owed replies to the new worker, which resumes with start_adopted().
//
// Thread-safety: all members run on the connection's strand; completions
// from the block store are posted to it. handover_state() and
// native_handle() are for the thread that waited for quiescence.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aiops/core/asio.hpp"

#include "aiops/net/protocol.hpp"
#include "aiops/swap/handover.hpp"
#include "aiops/worker/client_directory.hpp"
#include "aiops/worker/reply_queue.hpp"
#include "aiops/worker/session.hpp"

namespace aiops::worker {

class Server;

class Connection final : public Session {
 public:
  Connection(Server& server, Socket socket, std::string peer);
  /// A connection handed over by the previous worker; `client` is null
  /// when it had not said HELLO yet.
  Connection(Server& server, Socket socket, const ClientInfo* client, const swap::ConnectionState& state);

  void start() override;
  /// For a handed-over connection: sends the owed replies when their
  /// entries are applied, then parses what was received and reads on.
  void start_adopted(const std::vector<swap::OwedReply>& owed) override;

  /// Stop at the next request boundary; `quiescent(true)` runs on the
  /// strand once nothing is in flight but replies waiting for an apply, or
  /// `quiescent(false)` when the connection closes first.
  void pause(std::function<void(bool open)> quiescent) override;
  /// Rollback: serve on.
  void resume() override;
  [[nodiscard]] swap::ConnectionState handover_state() const override;
  [[nodiscard]] int native_handle() override { return socket_.native_handle(); }
  /// The new worker serves it now: drop it without shutting the socket.
  void hand_over() override;
  /// A request now waits for the apply of entry `seq` (from its waiter).
  void owe(uint64_t handle, net::Opcode opcode, uint32_t bytes, uint64_t seq) override;
  /// Stop reading requests; close once every owed reply is sent.
  void drain() override;
  /// Close now.
  void close() override;

  /// The connection's strand.
  [[nodiscard]] Executor executor() override;
  /// Called (via the strand) when a store operation finishes.
  /// `retry_after_ms` overrides the default delay of a retryable status.
  void finished(uint64_t handle, net::Opcode opcode, net::Status status, uint32_t bytes,
                std::optional<uint32_t> retry_after_ms = std::nullopt) override;

 private:
  [[nodiscard]] std::shared_ptr<Connection> shared_self() { return std::static_pointer_cast<Connection>(shared_from_this()); }
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
  void refuse(const net::RequestHeader& h, net::Status status, const std::string& why, bool close_after = false,
              std::optional<uint32_t> retry_after_ms = std::nullopt);
  static uint32_t retry_after(net::Status status, std::optional<uint32_t> given);
  void send(net::ReplyHeader header, std::vector<std::byte> payload = {}, bool close_after = false);
  void write_next();
  void arm_idle_timer();
  void maybe_finish_drain();
  void maybe_quiescent();
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
  ReplyQueue replies_;
  bool close_after_write_ = false;
  bool draining_ = false;
  bool closed_ = false;
  // Live update.
  bool paused_ = false;
  bool read_pending_ = false;  // an async_read_some into in_
  bool body_pending_ = false;  // a payload (or a refused one being skipped) is being read
  std::function<void(bool)> quiescent_;
  std::map<uint64_t, swap::OwedReply> owed_;  // by handle: replies waiting for an apply
  // Busy refusals: not logged again before this time; how many were not.
  std::chrono::steady_clock::time_point busy_quiet_until_{};
  uint64_t busy_unlogged_ = 0;
};

}  // namespace aiops::worker
