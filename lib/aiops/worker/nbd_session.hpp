#pragma once
// One NBD client connection (the wire format: nbd/handshake.hpp,
// nbd/transmission.hpp; the prose: aiops-nbd(7)).
//
// Phases, in order: the server's greeting; the client's flags; option
// haggling (fixed newstyle: EXPORT_NAME, ABORT, LIST, INFO, GO,
// STRUCTURED_REPLY; others get NBD_REP_ERR_UNSUP); transmission, on one
// export, until NBD_CMD_DISC or EOF. Every unit of the stream (the flags, an
// option with its data, a request with its payload) is parsed only once it
// is wholly received, and handled at once, so the session is always at a
// unit boundary between reads: what arrived but is not parsed stays in the
// input buffer. An option or a request payload that is refused for its
// size is skipped as it arrives, so the stream stays in step.
//
// Exports ([[export]] in aiops.toml): a session may only see and open the
// exports whose `allow` list matches its peer's address (a Unix socket
// peer is let in by the socket file's permissions). It acts as the export's
// client: that client's SLA class, priority, scheduler share, retry budget,
// counters and rights. Writes take the same path as native ones
// (write_path.hpp): no FUA means written to the log (or taken by the
// buffer), FUA and FLUSH mean durable.
//
// NBD has no retry hint, so a request the worker cannot take now (busy:
// the buffer or the log queue is full for this client's priority; the
// retry budget) is held here for the delay admission gives, then tried
// again, as often as it takes; the client only sees a slower reply. Held
// requests count as outstanding. TRIM is accepted and changes nothing (NBD
// lets a server ignore it; reads then return the old data). WRITE_ZEROES
// writes zeroes, in chunks of at most max_payload, answered once all are.
//
// Replies: simple, or structured after NBD_OPT_STRUCTURED_REPLY (READ then
// always answers with one OFFSET_DATA chunk, errors with an ERROR chunk
// that carries the reason). Status to errno: access_denied EPERM,
// out_of_range ENOSPC (EINVAL for READ), shutting_down ESHUTDOWN, other
// failures EIO.
//
// Live update: pause() stops at a unit boundary once no reply is being
// written and every request in flight only waits for an apply. Held
// requests go back, in wire form, in front of the unparsed bytes, so the
// new worker parses them afresh; the negotiated state (phase, flags,
// structured replies, export) travels in ConnectionState::nbd.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aiops/config/config.hpp"
#include "aiops/nbd/transmission.hpp"
#include "aiops/worker/client_directory.hpp"
#include "aiops/worker/reply_queue.hpp"
#include "aiops/worker/session.hpp"

namespace aiops::worker {

class Server;

class NbdSession final : public Session {
 public:
  NbdSession(Server& server, Socket socket, std::string peer);
  /// A session handed over by the previous worker.
  NbdSession(Server& server, Socket socket, const swap::ConnectionState& state);

  void start() override;
  void start_adopted(const std::vector<swap::OwedReply>& owed) override;
  void pause(std::function<void(bool open)> quiescent) override;
  void resume() override;
  [[nodiscard]] swap::ConnectionState handover_state() const override;
  [[nodiscard]] int native_handle() override { return socket_.native_handle(); }
  void hand_over() override;
  void drain() override;
  void close() override;
  [[nodiscard]] Executor executor() override { return socket_.get_executor(); }
  void finished(uint64_t handle, net::Opcode opcode, net::Status status, uint32_t bytes,
                std::optional<uint32_t> retry_after_ms = std::nullopt) override;
  void owe(uint64_t handle, net::Opcode opcode, uint32_t bytes, uint64_t seq) override;

 private:
  enum class Phase { flags, options, transmission };

  // An export as this session sees it.
  struct Export {
    const config::ExportConfig* config = nullptr;
    uint32_t volume = 0;
    uint64_t size = 0;
    const ClientInfo* client = nullptr;
    bool read_only = false;
  };

  // A request whose reply is not sent yet: its completions in flight (a
  // WRITE_ZEROES may have many), those of them that only wait for an apply,
  // whether part of it is held back, and the first failure.
  struct Pending {
    uint16_t type = 0;
    unsigned inflight = 0;
    unsigned owed = 0;
    uint64_t owed_seq = 0;
    uint32_t bytes = 0;
    bool held = false;
    net::Status status = net::Status::ok;
    std::string why;
  };

  // A request the worker could not take yet, with its payload.
  struct Held {
    nbd::Request request;
    std::vector<std::byte> payload;
    std::shared_ptr<boost::asio::steady_timer> timer;
  };

  [[nodiscard]] std::shared_ptr<NbdSession> shared_self() {
    return std::static_pointer_cast<NbdSession>(shared_from_this());
  }
  void parse();
  [[nodiscard]] bool step(size_t& want);
  void receive(size_t want);
  [[nodiscard]] size_t buffered() const { return in_end_ - in_begin_; }
  [[nodiscard]] const std::byte* at() const { return in_.data() + in_begin_; }

  // Option haggling.
  [[nodiscard]] bool on_flags();
  void on_option(uint32_t option, std::span<const std::byte> data);
  void option_info(uint32_t option, std::span<const std::byte> data);
  [[nodiscard]] std::optional<Export> find_export(const std::string& name, std::string& why) const;
  [[nodiscard]] uint16_t transmission_flags(const Export& e) const;
  void enter_transmission(const Export& e);

  // Transmission.
  void on_request(const nbd::Request& r, std::vector<std::byte> payload, bool again);
  void do_read(const nbd::Request& r);
  void do_write(const nbd::Request& r, std::vector<std::byte>& payload);
  void do_zeroes(const nbd::Request& r);
  void hold(const nbd::Request& r, std::vector<std::byte> payload, uint32_t delay_ms);
  void release_held();
  void settle(uint64_t handle);
  void reply_error(uint64_t handle, uint32_t error, const std::string& why);
  [[nodiscard]] uint32_t errno_for(net::Status status, uint16_t type) const;
  [[nodiscard]] nbd::ExportLimits limits() const;

  void send(std::vector<std::byte> frame);
  void write_next();
  void maybe_finish_drain();
  void maybe_quiescent();
  [[nodiscard]] std::string who() const;

  Server& server_;
  Socket socket_;
  std::string peer_;
  std::string peer_address_;  // IP without port; "" on a Unix socket
  Phase phase_ = Phase::flags;
  bool no_zeroes_ = false;
  bool structured_ = false;
  std::optional<Export> export_;

  std::vector<std::byte> in_;  // received, not yet parsed: in_[in_begin_, in_end_)
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  uint64_t skip_ = 0;  // bytes of a refused option or payload still to drop
  unsigned depth_ = 0;

  std::map<uint64_t, Pending> pending_;  // by handle
  std::deque<Held> held_;
  ReplyQueue replies_;
  bool read_pending_ = false;
  bool close_after_write_ = false;
  bool draining_ = false;
  bool closed_ = false;
  bool paused_ = false;
  bool counted_ = false;  // in the client's connection count
  std::function<void(bool)> quiescent_;
};

}  // namespace aiops::worker
