#pragma once
// The way every client write takes into the worker, whatever protocol
// brought it (native, NBD), so that the acknowledgement contract, the
// checks and the scheduling are the same for all:
//
//  * while the speculative buffer takes writes, the write goes there and the
//    buffer's validator checks it (checksum, access, extent) on its copy;
//    a full buffer refuses it busy with the delay admission gives;
//  * otherwise the checks run here, in order (checksum, access, extent),
//    then the log queue's admission, then the scheduler queues it for the
//    log (sched/dispatcher.hpp).
// The intake is held from the decision until the write is queued (buffer.hpp
// hold_intake), so no write slips past a switch of the intake.
//
// A taken write is answered through the session (pending.hpp) with opcode
// write. A refused one is not: the caller answers it as its protocol says
// and still owns the payload (a protocol that holds busy writes back, like
// NBD, submits the same payload again later).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aiops/net/protocol.hpp"
#include "aiops/worker/client_directory.hpp"
#include "aiops/worker/session.hpp"

namespace aiops::worker {

struct ServerContext;

struct WriteOutcome {
  net::Status status = net::Status::ok;  // ok: taken, the session will be told
  std::string why;                       // for the log line of a refusal
  std::optional<uint32_t> retry_after_ms;

  [[nodiscard]] bool taken() const { return status == net::Status::ok; }
};

/// `claimed`: what the client says the payload's XXH3-64 is, checked
/// against the payload; a protocol without checksums passes none, and the
/// payload's own is computed once. `payload` is moved from only when the
/// write is taken.
[[nodiscard]] WriteOutcome submit_write(const ServerContext& ctx, const std::shared_ptr<Session>& session,
                                        const ClientInfo& client, uint64_t handle, uint32_t volume, uint64_t offset,
                                        std::vector<std::byte>& payload, std::optional<uint64_t> claimed, bool fua);

/// Whether `client` may read (or write) `volume`: ok, or the status with
/// the reason in `why`.
[[nodiscard]] net::Status access_status(const ServerContext& ctx, const ClientInfo& client, uint32_t volume, bool write,
                                        std::string& why);

}  // namespace aiops::worker
