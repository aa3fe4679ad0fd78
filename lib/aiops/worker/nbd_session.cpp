#include "aiops/worker/nbd_session.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "aiops/config/peer_rule.hpp"
#include "aiops/core/logger.hpp"
#include "aiops/nbd/handshake.hpp"
#include "aiops/worker/pending.hpp"
#include "aiops/worker/server.hpp"
#include "aiops/worker/write_path.hpp"

namespace aiops::worker {

namespace asio = boost::asio;
using boost::system::error_code;
using nbd::Command;

namespace {

constexpr size_t input_buffer_bytes = 64 << 10;
constexpr unsigned max_inline_units = 16;
// A held request is tried again after the delay admission gives, or this
// when it gives none (a buffer that is too small for the write now).
constexpr uint32_t default_hold_ms = 50;
// Payloads advertised and accepted: at most this much, so that a session
// paused for a live update never carries more than a few MiB of unparsed
// bytes to the new worker (they travel hex-encoded in one JSON message).
constexpr uint32_t max_nbd_payload = 1 << 20;

std::string address_of(const Session::Socket& socket) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(const_cast<Session::Socket&>(socket).native_handle(), reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return {};
  char text[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, text, sizeof text);
  else if (ss.ss_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, text, sizeof text);
  return text;
}

net::Opcode opcode_for(uint16_t type) {
  return type == static_cast<uint16_t>(Command::flush) ? net::Opcode::flush : net::Opcode::write;
}

}  // namespace

NbdSession::NbdSession(Server& server, Socket socket, std::string peer)
    : server_(server), socket_(std::move(socket)), peer_(std::move(peer)), peer_address_(address_of(socket_)) {}

NbdSession::NbdSession(Server& server, Socket socket, const swap::ConnectionState& state)
    : server_(server),
      socket_(std::move(socket)),
      peer_(state.peer),
      peer_address_(address_of(socket_)),
      no_zeroes_(state.nbd.no_zeroes),
      structured_(state.nbd.structured),
      in_(std::max(input_buffer_bytes, state.unparsed.size())),
      in_end_(state.unparsed.size()) {
  std::copy(state.unparsed.begin(), state.unparsed.end(), in_.begin());
  phase_ = state.nbd.phase == "transmission" ? Phase::transmission
           : state.nbd.phase == "options"    ? Phase::options
                                             : Phase::flags;
  if (phase_ == Phase::transmission) {
    std::string why;
    export_ = find_export(state.nbd.export_name, why);
    // The configuration changed under the update: the export is gone, or
    // this peer may no longer use it. The session closes when it starts.
    if (!export_) log_warning(who() + ": handed over on export \"" + state.nbd.export_name + "\", which " + why);
  }
}

std::string NbdSession::who() const {
  return "NBD client " + peer_ + (export_ ? " (export " + export_->config->name + ")" : std::string());
}

void NbdSession::start() {
  if (in_.empty()) in_.resize(input_buffer_bytes);
  std::vector<std::byte> greeting(nbd::greeting_bytes);
  nbd::encode_greeting(greeting.data());
  send(std::move(greeting));
  parse();
}

void NbdSession::start_adopted(const std::vector<swap::OwedReply>& owed) {
  asio::dispatch(executor(), [self = shared_self(), owed] {
    if (self->phase_ == Phase::transmission && !self->export_) return self->close();
    if (self->export_) {
      self->server_.context().counters.at(self->export_->client->id).connections.fetch_add(1, std::memory_order_relaxed);
      self->counted_ = true;
    }
    for (const auto& o : owed) {
      const auto type = static_cast<uint16_t>(o.opcode == static_cast<uint8_t>(net::Opcode::flush) ? Command::flush
                                                                                                  : Command::write);
      auto& p = self->pending_[o.handle];
      p.type = type;
      p.bytes += o.bytes;
      ++p.inflight;
      auto* waiter = new PendingBufferReply(self, o.handle, net::Opcode{o.opcode}, o.bytes);
      self->server_.context().buffer.wait_for_apply(o.seq, *waiter);
    }
    self->parse();
  });
}

// ---- reading and framing

void NbdSession::parse() {
  depth_ = 0;
  while (!closed_) {
    if (paused_) return maybe_quiescent();
    if (draining_) return maybe_finish_drain();
    if (skip_ > 0) {
      const auto n = static_cast<size_t>(std::min<uint64_t>(skip_, buffered()));
      in_begin_ += n;
      skip_ -= n;
      if (skip_ > 0) return receive(1);
      continue;
    }
    size_t want = 0;
    if (!step(want)) return receive(want);
    if (++depth_ >= max_inline_units) {
      // Many pipelined units in a row: let the strand's other work run.
      return asio::post(executor(), [self = shared_self()] { self->parse(); });
    }
  }
}

// Reads until at least `want` bytes are buffered (more when they come).
void NbdSession::receive(size_t want) {
  if (read_pending_) return;
  if (in_begin_ > 0) {
    std::memmove(in_.data(), in_.data() + in_begin_, buffered());
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  if (in_.size() < std::max(want, input_buffer_bytes)) in_.resize(std::max(want, input_buffer_bytes));
  read_pending_ = true;
  socket_.async_read_some(asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
                          [self = shared_self()](const error_code& ec, size_t n) {
                            self->read_pending_ = false;
                            // A pause cancels the read; what did arrive stays unparsed.
                            if (ec == asio::error::operation_aborted && self->paused_) return self->maybe_quiescent();
                            if (ec) {
                              // EOF or reset: the client is gone, or ended without DISC.
                              if (self->draining_) return self->maybe_finish_drain();
                              return self->close();
                            }
                            self->in_end_ += n;
                            self->parse();
                          });
}

// Handles one complete unit when it is buffered; else says how many bytes
// from in_begin_ it needs and returns false.
bool NbdSession::step(size_t& want) {
  switch (phase_) {
    case Phase::flags:
      if (buffered() < nbd::client_flags_bytes) return want = nbd::client_flags_bytes, false;
      return on_flags();
    case Phase::options: {
      if (buffered() < nbd::option_header_bytes) return want = nbd::option_header_bytes, false;
      auto header = nbd::decode_option_header(at());
      if (const auto* bad = std::get_if<std::string>(&header)) {
        log_warning(who() + ": " + *bad + "; closing the connection");
        close();
        return true;
      }
      const auto h = std::get<nbd::OptionHeader>(header);
      if (h.length > nbd::max_option_bytes) {
        in_begin_ += nbd::option_header_bytes;
        skip_ = h.length;
        if (h.option == static_cast<uint32_t>(nbd::Option::export_name)) {
          // EXPORT_NAME has no error reply: the server can only hang up.
          log_warning(who() + ": NBD_OPT_EXPORT_NAME with " + std::to_string(h.length) +
                      " bytes of name; closing the connection");
          close();
          return true;
        }
        send(nbd::encode_option_error(h.option, nbd::ReplyType::err_too_big,
                                      std::to_string(h.length) + " bytes of option data; at most " +
                                          std::to_string(nbd::max_option_bytes)));
        return true;
      }
      if (buffered() < nbd::option_header_bytes + h.length) return want = nbd::option_header_bytes + h.length, false;
      std::vector<std::byte> data(at() + nbd::option_header_bytes, at() + nbd::option_header_bytes + h.length);
      in_begin_ += nbd::option_header_bytes + h.length;
      on_option(h.option, data);
      return true;
    }
    case Phase::transmission: {
      if (buffered() < nbd::request_bytes) return want = nbd::request_bytes, false;
      auto decoded = nbd::decode_request(at());
      if (const auto* bad = std::get_if<std::string>(&decoded)) {
        log_warning(who() + ": " + *bad + "; closing the connection");
        close();
        return true;
      }
      const nbd::Request r = std::get<nbd::Request>(decoded);
      const uint64_t payload = nbd::payload_bytes(r);
      if (nbd::Verdict v = nbd::validate(r, limits()); !v.ok()) {
        in_begin_ += nbd::request_bytes;
        skip_ = payload;  // a refused write's payload is still read, so the stream stays in step
        server_.context().counters.at(export_->client->id).refused.fetch_add(1, std::memory_order_relaxed);
        reply_error(r.handle, v.error, v.message);
        return true;
      }
      if (buffered() < nbd::request_bytes + payload) return want = nbd::request_bytes + payload, false;
      std::vector<std::byte> body(at() + nbd::request_bytes, at() + nbd::request_bytes + payload);
      in_begin_ += nbd::request_bytes + payload;
      on_request(r, std::move(body), false);
      return true;
    }
  }
  return true;
}

// ---- option haggling

bool NbdSession::on_flags() {
  auto flags = nbd::decode_client_flags(at());
  in_begin_ += nbd::client_flags_bytes;
  if (const auto* bad = std::get_if<std::string>(&flags)) {
    log_warning(who() + ": " + *bad + "; closing the connection");
    close();
    return true;
  }
  no_zeroes_ = std::get<nbd::ClientFlags>(flags).no_zeroes;
  phase_ = Phase::options;
  return true;
}

std::optional<NbdSession::Export> NbdSession::find_export(const std::string& name, std::string& why) const {
  const auto& ctx = server_.context();
  const config::ExportConfig* e = nullptr;
  // The empty name is NBD's default export: the first one configured.
  if (name.empty() && !ctx.config.exports.empty()) e = &ctx.config.exports.front();
  else e = ctx.config.find_export(name);
  if (e == nullptr) {
    why = "is not configured";
    return std::nullopt;
  }
  if (!peer_address_.empty()) {
    bool allowed = false;
    for (const auto& text : e->allow)
      if (auto rule = config::parse_peer_rule(text); rule.ok() && config::peer_matches(*rule, peer_address_))
        allowed = true;
    if (!allowed) {
      why = "does not allow peer " + peer_address_ + " (its allow list)";
      return std::nullopt;
    }
  }
  const config::VolumeConfig* volume = ctx.config.find_volume(e->volume);
  const ClientInfo* client = ctx.clients.find(e->client);
  if (volume == nullptr || client == nullptr || client->access.count(volume->id) == 0) {
    why = "has no volume or client it may use";
    return std::nullopt;
  }
  return Export{e, volume->id, volume->size_bytes, client,
                e->read_only || client->access.at(volume->id) == config::Access::read_only};
}

uint16_t NbdSession::transmission_flags(const Export& e) const {
  // FLUSH is a barrier over the whole log and buffer, not this connection,
  // so a flush on one connection covers writes completed on any: multi-conn.
  uint16_t f = nbd::tflag_has_flags | nbd::tflag_send_flush | nbd::tflag_send_fua | nbd::tflag_send_trim |
               nbd::tflag_send_write_zeroes | nbd::tflag_can_multi_conn;
  if (structured_) f |= nbd::tflag_send_df;
  if (e.read_only) f |= nbd::tflag_read_only;
  return f;
}

void NbdSession::enter_transmission(const Export& e) {
  export_ = e;
  phase_ = Phase::transmission;
  server_.context().counters.at(e.client->id).connections.fetch_add(1, std::memory_order_relaxed);
  counted_ = true;
  log_info(who() + " opened the export as client " + e.client->name + (e.read_only ? " (read-only)" : ""));
}

void NbdSession::on_option(uint32_t option, std::span<const std::byte> data) {
  using nbd::Option;
  using nbd::ReplyType;
  switch (static_cast<Option>(option)) {
    case Option::export_name: {
      std::string why;
      const std::string name(reinterpret_cast<const char*>(data.data()), data.size());
      auto e = find_export(name, why);
      if (!e) {
        log_warning(who() + ": NBD_OPT_EXPORT_NAME \"" + name + "\": the export " + why + "; closing the connection");
        return close();
      }
      send(nbd::encode_export_name_reply(e->size, transmission_flags(*e), no_zeroes_));
      return enter_transmission(*e);
    }
    case Option::abort:
      if (auto problem = nbd::check_empty(option, data))
        return send(nbd::encode_option_error(option, problem->reply, problem->message));
      send(nbd::encode_option_reply(option, ReplyType::ack));
      close_after_write_ = true;
      draining_ = true;
      return;
    case Option::list: {
      if (auto problem = nbd::check_empty(option, data))
        return send(nbd::encode_option_error(option, problem->reply, problem->message));
      for (const auto& e : server_.context().config.exports) {
        std::string why;
        if (find_export(e.name, why)) send(nbd::encode_server_reply(option, e.name));
      }
      return send(nbd::encode_option_reply(option, ReplyType::ack));
    }
    case Option::info:
    case Option::go: return option_info(option, data);
    case Option::structured_reply:
      if (auto problem = nbd::check_empty(option, data))
        return send(nbd::encode_option_error(option, problem->reply, problem->message));
      structured_ = true;
      return send(nbd::encode_option_reply(option, ReplyType::ack));
    case Option::starttls:
      return send(nbd::encode_option_error(option, ReplyType::err_unsup, "TLS is not offered by this server"));
    case Option::list_meta_context:
    case Option::set_meta_context:
      return send(nbd::encode_option_error(option, ReplyType::err_unsup, "no metadata contexts are offered"));
  }
  send(nbd::encode_option_error(option, ReplyType::err_unsup, nbd::option_name(option) + " is not supported"));
}

void NbdSession::option_info(uint32_t option, std::span<const std::byte> data) {
  auto parsed = nbd::parse_info_request(data);
  if (const auto* problem = std::get_if<nbd::OptionProblem>(&parsed))
    return send(nbd::encode_option_error(option, problem->reply, problem->message));
  const auto& request = std::get<nbd::ExportRequest>(parsed);
  std::string why;
  auto e = find_export(request.name, why);
  if (!e) {
    const bool policy = why.starts_with("does not allow");
    log_warning(who() + ": " + nbd::option_name(option) + " \"" + request.name + "\": the export " + why);
    return send(nbd::encode_option_error(option, policy ? nbd::ReplyType::err_policy : nbd::ReplyType::err_unknown,
                                         "export \"" + request.name + "\" " + why));
  }
  send(nbd::encode_info_export(option, e->size, transmission_flags(*e)));
  for (uint16_t info : request.info_requests)
    if (info == static_cast<uint16_t>(nbd::InfoType::name)) send(nbd::encode_info_name(option, e->config->name));
  // Any alignment works (the log keeps byte extents), 4KiB is what the
  // volumes are made of, and larger payloads are refused.
  send(nbd::encode_info_block_size(option, 1, 4096, limits().max_payload));
  send(nbd::encode_option_reply(option, nbd::ReplyType::ack));
  if (option == static_cast<uint32_t>(nbd::Option::go)) enter_transmission(*e);
}

// ---- transmission

nbd::ExportLimits NbdSession::limits() const {
  nbd::ExportLimits l;
  l.size = export_ ? export_->size : 0;
  l.read_only = export_ && export_->read_only;
  l.structured = structured_;
  l.max_payload = static_cast<uint32_t>(
      std::min<uint64_t>(server_.context().config.worker.max_request_size_bytes, max_nbd_payload));
  l.max_zero = l.size;  // split into chunks of max_payload
  return l;
}

void NbdSession::on_request(const nbd::Request& r, std::vector<std::byte> payload, bool again) {
  const auto& ctx = server_.context();
  const ClientInfo& client = *export_->client;
  // Every request counts towards the client's retry budget as a first
  // attempt; a held one tried again counts as a retry, so the budget paces
  // the worker's own retries as it would a native client's.
  if (auto d = ctx.admission.on_request(client.id, again); !d.admitted())
    return hold(r, std::move(payload), d.retry_after_ms);
  switch (static_cast<Command>(r.type)) {
    case Command::read: return do_read(r);
    case Command::write: return do_write(r, payload);
    case Command::write_zeroes: return do_zeroes(r);
    case Command::flush: {
      auto& p = pending_[r.handle];
      p.type = r.type;
      ++p.inflight;
      auto* pending = new PendingFlush(shared_self(), r.handle, ctx.buffer);
      ctx.store->flush(*pending);
      return;
    }
    case Command::trim:
      // Accepted and ignored (NBD allows it): the data stays as it was.
      return send(nbd::encode_done_reply(r.handle, structured_));
    case Command::disc:
      log_info(who() + " disconnects (NBD_CMD_DISC)");
      draining_ = true;
      return maybe_finish_drain();
    default: break;  // validate() refused the others
  }
}

void NbdSession::do_read(const nbd::Request& r) {
  const auto& ctx = server_.context();
  std::vector<std::byte> data(r.length);
  Status s = ctx.buffer.read(export_->volume, r.offset, data, [&](std::span<std::byte> out) {
    return ctx.store->read(export_->volume, r.offset, out);
  });
  if (!s.ok()) return reply_error(r.handle, nbd::err::eio, s.error().message());
  auto& c = ctx.counters.at(export_->client->id);
  c.reads.fetch_add(1, std::memory_order_relaxed);
  c.read_bytes.fetch_add(data.size(), std::memory_order_relaxed);
  send(nbd::encode_read_reply(r.handle, r.offset, data, structured_));
}

void NbdSession::do_write(const nbd::Request& r, std::vector<std::byte>& payload) {
  const bool fua = (r.flags & nbd::cmd_flag_fua) != 0;
  auto outcome = submit_write(server_.context(), shared_self(), *export_->client, r.handle, export_->volume, r.offset,
                              payload, std::nullopt, fua);
  if (outcome.taken()) {
    auto& p = pending_[r.handle];
    p.type = r.type;
    p.bytes += r.length;
    ++p.inflight;
    return;
  }
  if (outcome.status == net::Status::busy || outcome.status == net::Status::too_large)
    return hold(r, std::move(payload), outcome.retry_after_ms.value_or(default_hold_ms));
  server_.context().counters.at(export_->client->id).refused.fetch_add(1, std::memory_order_relaxed);
  reply_error(r.handle, errno_for(outcome.status, r.type), outcome.why);
}

// Zeroes in chunks of max_payload, each a write of its own; the reply goes
// once every chunk is answered. A chunk the worker cannot take now holds
// the rest of the range back as a WRITE_ZEROES of its own, same handle.
void NbdSession::do_zeroes(const nbd::Request& r) {
  const uint32_t chunk = limits().max_payload;
  // A std::map reference stays valid while other entries come and go.
  Pending& p = pending_[r.handle];
  p.type = r.type;
  p.held = false;
  uint64_t done = 0;
  std::vector<std::byte> zeroes;
  while (done < r.length) {
    const auto n = static_cast<uint32_t>(std::min<uint64_t>(chunk, r.length - done));
    zeroes.assign(n, std::byte{0});
    auto outcome = submit_write(server_.context(), shared_self(), *export_->client, r.handle, export_->volume,
                                r.offset + done, zeroes, std::nullopt, (r.flags & nbd::cmd_flag_fua) != 0);
    if (!outcome.taken()) {
      if (outcome.status == net::Status::busy || outcome.status == net::Status::too_large) {
        nbd::Request rest = r;
        rest.offset += done;
        rest.length = static_cast<uint32_t>(r.length - done);
        return hold(rest, {}, outcome.retry_after_ms.value_or(default_hold_ms));  // marks p held
      }
      if (p.status == net::Status::ok) {
        p.status = outcome.status;
        p.why = outcome.why;
      }
      break;
    }
    p.bytes += n;
    ++p.inflight;
    done += n;
  }
  settle(r.handle);
}

void NbdSession::hold(const nbd::Request& r, std::vector<std::byte> payload, uint32_t delay_ms) {
  auto timer = std::make_shared<asio::steady_timer>(executor(), std::chrono::milliseconds(delay_ms));
  if (r.type == static_cast<uint16_t>(Command::write_zeroes)) pending_[r.handle].held = true;
  held_.push_back({r, std::move(payload), timer});
  timer->async_wait([self = shared_self(), timer](const error_code& ec) {
    if (ec || self->closed_ || self->paused_) return;  // cancelled; a pause keeps it held
    auto it = std::find_if(self->held_.begin(), self->held_.end(), [&](const Held& h) { return h.timer == timer; });
    if (it == self->held_.end()) return;
    Held h = std::move(*it);
    self->held_.erase(it);
    self->on_request(h.request, std::move(h.payload), true);
    self->maybe_finish_drain();
  });
}

// After a pause that ended in a rollback: try every held request now.
void NbdSession::release_held() {
  auto held = std::move(held_);
  held_.clear();
  for (auto& h : held) {
    h.timer->cancel();
    on_request(h.request, std::move(h.payload), true);
  }
}

void NbdSession::finished(uint64_t handle, net::Opcode opcode, net::Status status, uint32_t bytes,
                          std::optional<uint32_t> retry_after_ms) {
  (void)retry_after_ms;
  auto it = pending_.find(handle);
  if (it == pending_.end()) return;  // not ours (cannot happen) — nothing to answer
  Pending& p = it->second;
  --p.inflight;
  if (p.owed > 0) --p.owed;
  auto& c = server_.context().counters.at(export_->client->id);
  if (status != net::Status::ok) {
    if (p.status == net::Status::ok) {
      p.status = status;
      p.why = "the " + std::string(net::opcode_name(opcode)) + " failed with " + std::string(net::status_name(status));
    }
  } else if (opcode == net::Opcode::write) {
    c.writes.fetch_add(1, std::memory_order_relaxed);
    c.write_bytes.fetch_add(bytes, std::memory_order_relaxed);
  } else {
    c.flushes.fetch_add(1, std::memory_order_relaxed);
  }
  settle(handle);
  maybe_finish_drain();
  maybe_quiescent();
}

// Answers the request once nothing of it is in flight or held.
void NbdSession::settle(uint64_t handle) {
  auto it = pending_.find(handle);
  if (it == pending_.end() || it->second.inflight > 0 || it->second.held) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (p.status == net::Status::ok) return send(nbd::encode_done_reply(handle, structured_));
  server_.context().counters.at(export_->client->id).refused.fetch_add(1, std::memory_order_relaxed);
  reply_error(handle, errno_for(p.status, p.type), p.why);
}

void NbdSession::owe(uint64_t handle, net::Opcode, uint32_t, uint64_t seq) {
  auto it = pending_.find(handle);
  if (it == pending_.end()) return;
  ++it->second.owed;
  it->second.owed_seq = std::max(it->second.owed_seq, seq);
}

uint32_t NbdSession::errno_for(net::Status status, uint16_t type) const {
  switch (status) {
    case net::Status::ok: return nbd::err::ok;
    case net::Status::access_denied: return nbd::err::eperm;
    case net::Status::out_of_range:
      return type == static_cast<uint16_t>(Command::read) ? nbd::err::einval : nbd::err::enospc;
    case net::Status::unknown_volume:
    case net::Status::too_large: return nbd::err::einval;
    case net::Status::shutting_down: return nbd::err::eshutdown;
    default: return nbd::err::eio;
  }
}

void NbdSession::reply_error(uint64_t handle, uint32_t error, const std::string& why) {
  log_warning(who() + ": request (handle " + std::to_string(handle) + ") failed with " +
              std::string(nbd::error_name(error)) + ": " + why);
  send(nbd::encode_error_reply(handle, error, why, structured_));
}

// ---- writing replies

void NbdSession::send(std::vector<std::byte> frame) {
  if (closed_) return;
  replies_.push(std::move(frame));
  write_next();
}

void NbdSession::write_next() {
  if (closed_) return;
  replies_.write(socket_, [self = shared_self()](const error_code& ec) {
    if (ec) return self->close();
    if (self->replies_.idle() && self->close_after_write_) return self->close();
    self->write_next();
    self->maybe_finish_drain();
    self->maybe_quiescent();
  });
}

// ---- ending, pausing, handing over

void NbdSession::drain() {
  asio::post(executor(), [self = shared_self()] {
    self->draining_ = true;
    // Held requests are tried once more now rather than after their delay:
    // the worker is stopping and every reply owed should go out.
    if (!self->paused_) self->release_held();
    error_code ignored;
    self->socket_.shutdown(Socket::shutdown_receive, ignored);
    self->maybe_finish_drain();
  });
}

void NbdSession::maybe_finish_drain() {
  if (draining_ && !closed_ && pending_.empty() && held_.empty() && replies_.idle()) close();
}

void NbdSession::pause(std::function<void(bool)> quiescent) {
  asio::post(executor(), [self = shared_self(), quiescent = std::move(quiescent)]() mutable {
    if (self->closed_) return quiescent(false);
    self->paused_ = true;
    self->quiescent_ = std::move(quiescent);
    self->maybe_quiescent();
  });
}

void NbdSession::maybe_quiescent() {
  if (!quiescent_ || closed_) return;
  if (!replies_.idle() || skip_ > 0) return;
  for (const auto& [handle, p] : pending_)
    if (p.inflight != p.owed) return;
  if (read_pending_) {
    error_code ignored;
    socket_.cancel(ignored);  // its handler comes back here
    return;
  }
  for (auto& h : held_) h.timer->cancel();
  auto done = std::move(quiescent_);
  quiescent_ = nullptr;
  done(true);
}

void NbdSession::resume() {
  asio::post(executor(), [self = shared_self()] {
    if (self->closed_ || !self->paused_) return;
    self->paused_ = false;
    self->quiescent_ = nullptr;
    self->release_held();
    if (!self->read_pending_) self->parse();
  });
}

swap::ConnectionState NbdSession::handover_state() const {
  swap::ConnectionState s;
  s.protocol = "nbd";
  s.peer = peer_;
  s.client = export_ ? export_->client->name : "";
  s.nbd.phase = phase_ == Phase::transmission ? "transmission" : phase_ == Phase::options ? "options" : "flags";
  s.nbd.no_zeroes = no_zeroes_;
  s.nbd.structured = structured_;
  s.nbd.export_name = export_ ? export_->config->name : "";
  // Held requests first, in the order they arrived, as the client sent them.
  for (const auto& h : held_) {
    std::byte header[nbd::request_bytes];
    nbd::encode_request(h.request, header);
    s.unparsed.insert(s.unparsed.end(), header, header + nbd::request_bytes);
    s.unparsed.insert(s.unparsed.end(), h.payload.begin(), h.payload.end());
  }
  s.unparsed.insert(s.unparsed.end(), in_.begin() + static_cast<ptrdiff_t>(in_begin_),
                    in_.begin() + static_cast<ptrdiff_t>(in_end_));
  for (const auto& [handle, p] : pending_)
    if (p.owed > 0) s.owed.push_back({handle, static_cast<uint8_t>(opcode_for(p.type)), p.bytes, p.owed_seq});
  return s;
}

void NbdSession::hand_over() {
  asio::post(executor(), [self = shared_self()] {
    if (self->closed_) return;
    self->closed_ = true;
    for (auto& h : self->held_) h.timer->cancel();
    error_code ignored;
    const int fd = self->socket_.release(ignored);
    if (fd >= 0) ::close(fd);
    if (self->counted_)
      self->server_.context().counters.at(self->export_->client->id).connections.fetch_sub(1, std::memory_order_relaxed);
    self->server_.forget(self);
  });
}

void NbdSession::close() {
  if (closed_) return;
  closed_ = true;
  if (quiescent_) {
    auto done = std::move(quiescent_);
    quiescent_ = nullptr;
    done(false);
  }
  for (auto& h : held_) h.timer->cancel();
  held_.clear();
  error_code ignored;
  socket_.shutdown(Socket::shutdown_both, ignored);
  socket_.close(ignored);
  if (counted_) {
    server_.context().counters.at(export_->client->id).connections.fetch_sub(1, std::memory_order_relaxed);
    log_info(who() + " disconnected");
  }
  server_.forget(shared_self());
}

}  // namespace aiops::worker
