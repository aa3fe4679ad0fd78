#pragma once
// The completions a session's requests wait on, whatever its protocol: each
// owns what the request needs until the store or the buffer is done, then
// posts the outcome to the session's strand (Session::finished) and deletes
// itself. A session may be gone from the server by then; the completion's
// reference keeps it alive until the reply has been dropped or sent.

#include <cstdint>
#include <memory>
#include <vector>

#include "aiops/net/protocol.hpp"
#include "aiops/sched/dispatcher.hpp"
#include "aiops/specbuf/buffer.hpp"
#include "aiops/store/block_store.hpp"
#include "aiops/wal/log.hpp"
#include "aiops/worker/session.hpp"

namespace aiops::worker {

// A write on its way through the scheduler and the block store; owns the
// payload until the log has it, and lets the scheduler's next write in
// when it completes.
class PendingWrite final : public store::WriteCompletion {
 public:
  PendingWrite(std::shared_ptr<Session> session, uint64_t handle, std::vector<std::byte> payload,
               sched::Dispatcher& dispatcher)
      : session_(std::move(session)), handle_(handle), payload_(std::move(payload)), dispatcher_(dispatcher) {}

  [[nodiscard]] const std::vector<std::byte>& payload() const { return payload_; }
  /// Back to the caller when the write was never started.
  [[nodiscard]] std::vector<std::byte> take_payload() { return std::move(payload_); }
  void write_done(const Result<wal::Appended>& result) noexcept override;

 private:
  std::shared_ptr<Session> session_;
  uint64_t handle_;
  std::vector<std::byte> payload_;
  sched::Dispatcher& dispatcher_;
};

// A write taken by the speculative buffer: answered when the validator
// decides it (or, with FUA, once it is applied to the log). Also a reply a
// previous worker owed (a FUA write or a FLUSH), in the worker it handed
// the session to.
class PendingBufferReply final : public specbuf::BufferWaiter {
 public:
  PendingBufferReply(std::shared_ptr<Session> session, uint64_t handle, net::Opcode opcode, uint32_t bytes)
      : session_(std::move(session)), handle_(handle), opcode_(opcode), bytes_(bytes) {}

  void buffer_done(net::Status status, uint32_t retry_after_ms) noexcept override;
  void buffer_waiting_for_apply(uint64_t seq) noexcept override;
  void buffer_handed_over() noexcept override { delete this; }

 private:
  std::shared_ptr<Session> session_;
  uint64_t handle_;
  net::Opcode opcode_;
  uint32_t bytes_;
};

// A FLUSH: first the log's barrier, then the buffer's (entries written
// before it durable in the log), when the buffer holds any.
class PendingFlush final : public wal::AppendCompletion, public specbuf::BufferWaiter {
 public:
  PendingFlush(std::shared_ptr<Session> session, uint64_t handle, specbuf::Buffer& buffer)
      : session_(std::move(session)), handle_(handle), buffer_(buffer) {}

  void complete(const Result<wal::Appended>& result) noexcept override;
  void buffer_done(net::Status status, uint32_t retry_after_ms) noexcept override;
  void buffer_waiting_for_apply(uint64_t seq) noexcept override;
  void buffer_handed_over() noexcept override { delete this; }

 private:
  std::shared_ptr<Session> session_;
  uint64_t handle_;
  specbuf::Buffer& buffer_;
};

}  // namespace aiops::worker
