#pragma once
// One client connection as the server and the live update see it, whatever
// protocol it speaks: the native protocol (connection.hpp) or NBD
// (nbd_session.hpp). Both take requests through the same write path
// (write_path.hpp), answer through the same completions (pending.hpp), and
// stop, hand over and resume the same way.
//
// Live update contract (swap/handover.hpp): pause() stops the session at a
// request boundary; once nothing is in flight but replies that wait for an
// apply of the buffer, `quiescent(true)` runs on its strand and
// handover_state() describes it completely: the bytes received and not yet
// parsed (a protocol may put requests it held back in front of them, in
// wire form), the negotiated state, and the replies owed. The new worker
// builds the same kind of session from that state and goes on.
//
// Thread-safety: everything runs on the session's strand (executor());
// completions are posted to it. handover_state() and native_handle() are
// for the thread that waited for quiescence.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "aiops/core/asio.hpp"

#include "aiops/net/protocol.hpp"
#include "aiops/swap/handover.hpp"

namespace aiops::worker {

class Session : public std::enable_shared_from_this<Session> {
 public:
  using Socket = boost::asio::generic::stream_protocol::socket;
  using Executor = Socket::executor_type;

  virtual ~Session() = default;

  virtual void start() = 0;
  /// For a handed-over session: sends the owed replies when their entries
  /// are applied, then parses what was received and reads on.
  virtual void start_adopted(const std::vector<swap::OwedReply>& owed) = 0;
  /// Stop at the next request boundary (see above); `quiescent(false)` when
  /// the session closes first.
  virtual void pause(std::function<void(bool open)> quiescent) = 0;
  /// Rollback: serve on.
  virtual void resume() = 0;
  [[nodiscard]] virtual swap::ConnectionState handover_state() const = 0;
  [[nodiscard]] virtual int native_handle() = 0;
  /// The new worker serves it now: drop it without shutting the socket.
  virtual void hand_over() = 0;
  /// Stop reading requests; close once every owed reply is sent.
  virtual void drain() = 0;
  /// Close now (on the strand).
  virtual void close() = 0;
  [[nodiscard]] virtual Executor executor() = 0;

  /// A store or buffer operation finished (called on the strand).
  /// `retry_after_ms` overrides the default delay of a retryable status.
  virtual void finished(uint64_t handle, net::Opcode opcode, net::Status status, uint32_t bytes,
                        std::optional<uint32_t> retry_after_ms = std::nullopt) = 0;
  /// The request `handle` now waits for the apply of buffer entry `seq`.
  virtual void owe(uint64_t handle, net::Opcode opcode, uint32_t bytes, uint64_t seq) = 0;
};

}  // namespace aiops::worker
