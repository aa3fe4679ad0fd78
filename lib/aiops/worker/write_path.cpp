#include "aiops/worker/write_path.hpp"

#include "aiops/core/checksum.hpp"
#include "aiops/worker/pending.hpp"
#include "aiops/worker/server.hpp"

namespace aiops::worker {

net::Status access_status(const ServerContext& ctx, const ClientInfo& client, uint32_t volume, bool write,
                          std::string& why) {
  auto name = [&] { return "volume " + ctx.clients.volume(volume)->name + " (id " + std::to_string(volume) + ")"; };
  switch (ctx.clients.check(client, volume, write)) {
    case AccessOutcome::ok: return net::Status::ok;
    case AccessOutcome::unknown_volume:
      why = "volume id " + std::to_string(volume) + " is not configured";
      return net::Status::unknown_volume;
    case AccessOutcome::not_granted:
      why = name() + " is not granted to this client";
      return net::Status::access_denied;
    case AccessOutcome::read_only:
      why = name() + " is read-only for this client";
      return net::Status::access_denied;
  }
  return net::Status::io_error;
}

WriteOutcome submit_write(const ServerContext& ctx, const std::shared_ptr<Session>& session, const ClientInfo& client,
                          uint64_t handle, uint32_t volume, uint64_t offset, std::vector<std::byte>& payload,
                          std::optional<uint64_t> claimed, bool fua) {
  const bool durable = fua || ctx.config.log.ack == config::LogConfig::Ack::durable;
  const auto bytes = static_cast<uint32_t>(payload.size());
  std::optional<uint64_t> own;  // the payload's XXH3-64, computed at most once
  auto hash = [&] {
    if (!own) own = checksum64(payload);
    return *own;
  };
  auto gate = ctx.buffer.hold_intake();  // until the write is queued, wherever it goes
  if (ctx.buffer.intake_active()) {
    auto* waiter = new PendingBufferReply(session, handle, net::Opcode::write, bytes);
    // The buffer's validator checks what the client claimed on its copy.
    auto r = ctx.buffer.write_held(client.id, volume, offset, payload, claimed ? *claimed : hash(), durable, *waiter);
    if (r.outcome == specbuf::Intake::taken) return {};
    delete waiter;
    if (r.outcome == specbuf::Intake::full)
      return {net::Status::busy, "the speculative buffer is full for this client's priority", r.retry_after_ms};
    if (r.outcome == specbuf::Intake::too_large)
      return {net::Status::too_large, std::to_string(bytes) + " bytes do not fit in the speculative buffer ([buffer] size)",
              std::nullopt};
  }
  auto& dispatcher = ctx.dispatcher;
  const uint64_t sum = hash();  // before the payload moves into the pending write
  if (claimed && sum != *claimed)
    return {net::Status::checksum_mismatch, "payload does not match its checksum",
            ctx.admission.refuse(client.id, dispatcher.fill(), sched::Refusal::invalid)};
  WriteOutcome refused;
  if (refused.status = access_status(ctx, client, volume, true, refused.why); !refused.taken()) return refused;
  if (!net::extent_fits(offset, bytes, ctx.clients.volume(volume)->size_bytes))
    return {net::Status::out_of_range, "extent ends beyond the volume", std::nullopt};
  if (auto d = ctx.admission.admit_log(client.id, dispatcher.fill()); !d.admitted())
    return {net::Status::busy, "the log queue is too full for this client's priority", d.retry_after_ms};
  auto* pending = new PendingWrite(session, handle, std::move(payload), dispatcher);
  store::WriteRequest request{client.id, volume, offset, pending->payload(),
                              durable ? wal::Durability::durable : wal::Durability::written, sum};
  // The store only refuses what the checks above passed when it cannot
  // take writes at all; the answer then goes the way of a failed write.
  auto start = [&store = ctx.store, request, pending] {
    if (Status s = store->write(request, *pending); !s.ok()) pending->write_done(s.error());
  };
  if (!dispatcher.submit(client.id, std::move(start))) {
    payload = pending->take_payload();
    delete pending;
    return {net::Status::busy, "the log queue is full ([scheduler] queue_limit)",
            ctx.admission.refuse(client.id, 1.0, sched::Refusal::log_queue)};
  }
  return {};
}

}  // namespace aiops::worker
