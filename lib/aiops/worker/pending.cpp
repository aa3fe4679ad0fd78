#include "aiops/worker/pending.hpp"

#include "aiops/core/logger.hpp"

namespace aiops::worker {

namespace asio = boost::asio;

void PendingWrite::write_done(const Result<wal::Appended>& result) noexcept {
  net::Status status = result.ok() ? net::Status::ok : net::status_for_storage_error(result.error().code());
  if (!result.ok()) log_error("write failed in the store: " + result.error().message());
  auto session = std::move(session_);
  auto handle = handle_;
  auto bytes = static_cast<uint32_t>(payload_.size());
  auto& dispatcher = dispatcher_;
  delete this;  // the last use of this object; the log is done with the payload
  asio::post(session->executor(), [session, handle, status, bytes] {
    session->finished(handle, net::Opcode::write, status, bytes);
  });
  dispatcher.done();
}

void PendingBufferReply::buffer_done(net::Status status, uint32_t retry_after_ms) noexcept {
  auto session = std::move(session_);
  auto handle = handle_;
  auto opcode = opcode_;
  auto bytes = bytes_;
  delete this;
  asio::post(session->executor(), [session, handle, opcode, status, bytes, retry_after_ms] {
    session->finished(handle, opcode, status, bytes, retry_after_ms);
  });
}

void PendingBufferReply::buffer_waiting_for_apply(uint64_t seq) noexcept {
  asio::post(session_->executor(), [session = session_, handle = handle_, opcode = opcode_, bytes = bytes_, seq] {
    session->owe(handle, opcode, bytes, seq);
  });
}

void PendingFlush::complete(const Result<wal::Appended>& result) noexcept {
  if (!result.ok()) return buffer_done(net::status_for_storage_error(result.error().code()), 0);
  buffer_.flush(*this);
}

void PendingFlush::buffer_done(net::Status status, uint32_t retry_after_ms) noexcept {
  auto session = std::move(session_);
  auto handle = handle_;
  delete this;
  asio::post(session->executor(), [session, handle, status, retry_after_ms] {
    session->finished(handle, net::Opcode::flush, status, 0, retry_after_ms);
  });
}

void PendingFlush::buffer_waiting_for_apply(uint64_t seq) noexcept {
  asio::post(session_->executor(),
             [session = session_, handle = handle_, seq] { session->owe(handle, net::Opcode::flush, 0, seq); });
}

}  // namespace aiops::worker
