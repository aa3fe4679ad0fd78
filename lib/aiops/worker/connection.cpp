#include "aiops/worker/connection.hpp"

#include <algorithm>
#include <cstring>

#include <unistd.h>

#include "aiops/core/checksum.hpp"
#include "aiops/core/logger.hpp"
#include "aiops/worker/pending.hpp"
#include "aiops/worker/server.hpp"
#include "aiops/worker/write_path.hpp"

namespace aiops::worker {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr uint32_t retry_after_busy_ms = 100;
constexpr size_t discard_chunk_bytes = 64 << 10;
constexpr size_t input_buffer_bytes = 64 << 10;
constexpr unsigned max_inline_depth = 16;
constexpr auto busy_log_interval = std::chrono::seconds(1);

}  // namespace

Connection::Connection(Server& server, Socket socket, std::string peer)
    : server_(server), socket_(std::move(socket)), idle_(socket_.get_executor()), peer_(std::move(peer)) {}

Connection::Connection(Server& server, Socket socket, const ClientInfo* client, const swap::ConnectionState& state)
    : server_(server),
      socket_(std::move(socket)),
      idle_(socket_.get_executor()),
      peer_(state.peer),
      in_(std::max(input_buffer_bytes, state.unparsed.size())),
      in_end_(state.unparsed.size()),
      client_(client),
      last_volume_(state.last_volume),
      last_end_(state.last_end) {
  std::copy(state.unparsed.begin(), state.unparsed.end(), in_.begin());
}

void Connection::start_adopted(const std::vector<swap::OwedReply>& owed) {
  asio::dispatch(socket_.get_executor(), [self = shared_self(), owed] {
    auto& ctx = self->server_.context();
    if (self->client_ != nullptr) ctx.counters.at(self->client_->id).connections.fetch_add(1, std::memory_order_relaxed);
    for (const auto& o : owed) {
      ++self->outstanding_;
      auto* waiter = new PendingBufferReply(self, o.handle, net::Opcode{o.opcode}, o.bytes);
      ctx.buffer.wait_for_apply(o.seq, *waiter);
    }
    self->start();
  });
}

Connection::Executor Connection::executor() { return socket_.get_executor(); }

std::string Connection::who() const {
  return (client_ != nullptr ? "client " + client_->name : std::string("unauthenticated client")) + " (" + peer_ + ")";
}

void Connection::start() {
  last_request_ = std::chrono::steady_clock::now();
  arm_idle_timer();
  read_header();
}

void Connection::read_header() {
  if (draining_ || closed_) return maybe_finish_drain();
  if (paused_) return maybe_quiescent();
  if (buffered() >= header_.size()) {
    // Pipelined requests already received are handled without a syscall;
    // past a few in a row, through the strand, so the stack stays flat.
    if (inline_depth_ >= max_inline_depth)
      return asio::post(socket_.get_executor(), [self = shared_self()] {
        self->inline_depth_ = 0;
        self->read_header();
      });
    std::memcpy(header_.data(), in_.data() + in_begin_, header_.size());
    in_begin_ += header_.size();
    ++inline_depth_;
    on_header();
    --inline_depth_;
    return;
  }
  receive_more();
}

size_t Connection::buffered() const { return in_end_ - in_begin_; }

// One read_some brings in whatever the client has sent, up to the buffer's
// size: a small write's header and payload, or many pipelined requests;
// then parsing goes on with the next header.
void Connection::receive_more() {
  if (in_begin_ > 0) {
    std::memmove(in_.data(), in_.data() + in_begin_, buffered());
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  if (in_.empty()) in_.resize(input_buffer_bytes);
  read_pending_ = true;
  socket_.async_read_some(asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
                          [self = shared_self()](const error_code& ec, size_t n) {
                            self->read_pending_ = false;
                            // A pause cancels the read; what did arrive stays unparsed.
                            if (ec == asio::error::operation_aborted && self->paused_) return self->maybe_quiescent();
                            if (ec) return self->read_failed();
                            self->in_end_ += n;
                            self->inline_depth_ = 0;
                            self->read_header();
                          });
}

// EOF or a reset: the client is gone; replies still owed are dropped. (A
// drain shuts the receive side itself, which ends the read the same way.)
void Connection::read_failed() {
  if (draining_) maybe_finish_drain();
  else close();
}

void Connection::on_header() {
  last_request_ = std::chrono::steady_clock::now();
  auto decoded = net::decode_request(header_.data());
  if (const auto* bad = std::get_if<net::DecodeError>(&decoded)) {
    net::RequestHeader which{};
    which.opcode = bad->opcode;
    which.handle = bad->handle;
    // A header that decodes but asks for nothing (zero length) leaves the
    // stream in step; anything else leaves it unusable.
    bool keep = bad->status == net::Status::out_of_range;
    refuse(which, bad->status, bad->problem, /*close_after=*/!keep);
    if (keep) read_header();
    return;
  }
  const net::RequestHeader h = std::get<net::RequestHeader>(decoded);
  const auto& cfg = server_.context().config.worker;
  if (h.opcode == net::Opcode::hello) {
    if (client_ != nullptr) return refuse(h, net::Status::malformed, "a second HELLO on one connection", true);
    return read_body(h.length, [this, h](std::vector<std::byte> body) { handle_hello(h, std::move(body)); });
  }
  if (client_ == nullptr) return refuse(h, net::Status::not_authenticated, "request before HELLO", true);
  const bool has_payload = h.opcode == net::Opcode::write;
  auto refuse_and_skip = [&](net::Status status, const std::string& why, std::optional<uint32_t> retry_after = {}) {
    refuse(h, status, why, false, retry_after);
    if (has_payload) discard(h.length);
    else read_header();
  };
  if (h.length > cfg.max_request_size_bytes)
    return refuse_and_skip(net::Status::too_large, std::to_string(h.length) + " bytes is more than max_request_size " +
                                                       std::to_string(cfg.max_request_size_bytes));
  if (outstanding_ >= cfg.max_outstanding)
    return refuse_and_skip(net::Status::too_many_outstanding,
                           "already " + std::to_string(outstanding_) + " outstanding, the limit is max_outstanding " +
                               std::to_string(cfg.max_outstanding));
  if (auto d = server_.context().admission.on_request(client_->id, h.retry()); !d.admitted())
    return refuse_and_skip(net::Status::busy, "retry budget spent ([sla] retry_budget, retry_burst)", d.retry_after_ms);
  switch (h.opcode) {
    case net::Opcode::write:
      return read_body(h.length, [this, h](std::vector<std::byte> payload) {
        handle_write(h, std::move(payload));
        read_header();
      });
    case net::Opcode::read:
      handle_read(h);
      return read_header();
    case net::Opcode::flush:
      handle_flush(h);
      return read_header();
    case net::Opcode::hello: break;
  }
}

void Connection::read_body(uint32_t length, std::function<void(std::vector<std::byte>)> then) {
  const size_t have = std::min<size_t>(length, buffered());
  if (have == length) {
    std::vector<std::byte> body(in_.data() + in_begin_, in_.data() + in_begin_ + length);
    in_begin_ += length;
    return then(std::move(body));
  }
  // The rest goes straight into the body: a large payload is not staged.
  auto body = std::make_shared<std::vector<std::byte>>(length);
  std::memcpy(body->data(), in_.data() + in_begin_, have);
  in_begin_ += have;
  body_pending_ = true;
  asio::async_read(socket_, asio::buffer(body->data() + have, length - have),
                   [self = shared_self(), body, then = std::move(then)](const error_code& ec, size_t) {
                     self->body_pending_ = false;
                     if (ec) return self->read_failed();
                     then(std::move(*body));
                   });
}

void Connection::discard(uint64_t bytes) {
  const size_t have = static_cast<size_t>(std::min<uint64_t>(bytes, buffered()));
  in_begin_ += have;
  bytes -= have;
  if (bytes == 0) return read_header();
  scratch_.resize(discard_chunk_bytes);
  size_t chunk = static_cast<size_t>(std::min<uint64_t>(bytes, scratch_.size()));
  body_pending_ = true;
  asio::async_read(socket_, asio::buffer(scratch_.data(), chunk),
                   [self = shared_self(), rest = bytes - chunk](const error_code& ec, size_t) {
                     self->body_pending_ = false;
                     if (ec) return self->close();
                     self->discard(rest);
                   });
}

void Connection::handle_hello(const net::RequestHeader& h, std::vector<std::byte> body) {
  if (checksum64(body) != h.checksum) return refuse(h, net::Status::checksum_mismatch, "HELLO body checksum", true);
  auto hello = net::decode_hello(body);
  if (!hello.ok()) return refuse(h, net::Status::malformed, hello.error().message(), true);
  const auto& ctx = server_.context();
  const ClientInfo* info = nullptr;
  switch (ctx.clients.authenticate(hello->client, hello->token, &info)) {
    case AuthOutcome::unknown_client:
      return refuse(h, net::Status::unknown_client, "no client \"" + hello->client + "\" is configured", true);
    case AuthOutcome::bad_token:
      return refuse(h, net::Status::bad_token, "wrong token for client \"" + hello->client + "\"", true);
    case AuthOutcome::ok: break;
  }
  client_ = info;
  ctx.counters.at(client_->id).connections.fetch_add(1, std::memory_order_relaxed);
  net::HelloReply reply;
  reply.max_request_bytes = static_cast<uint32_t>(std::min<uint64_t>(ctx.config.worker.max_request_size_bytes, UINT32_MAX));
  reply.max_outstanding = ctx.config.worker.max_outstanding;
  reply.server_version = AIOPS_VERSION;
  for (const auto& [volume, access] : client_->access) {
    const auto* v = ctx.clients.volume(volume);
    reply.volumes.push_back({v->id, v->name, v->size_bytes, access == config::Access::read_only});
  }
  log_info(who() + " connected");
  send({net::Opcode::hello, net::Status::ok, h.handle, 0, 0, 0}, net::encode_hello_reply(reply));
  read_header();
}

void Connection::handle_write(const net::RequestHeader& h, std::vector<std::byte> payload) {
  const bool fua = (h.flags & net::flag_fua) != 0;
  auto outcome = submit_write(server_.context(), shared_self(), *client_, h.handle, h.volume, h.offset, payload, h.checksum, fua);
  if (!outcome.taken()) return refuse(h, outcome.status, outcome.why, false, outcome.retry_after_ms);
  ++outstanding_;
  note_extent(h.volume, h.offset, h.length);
}

void Connection::note_extent(uint32_t volume, uint64_t offset, uint32_t length) {
  if (volume == last_volume_ && offset == last_end_)
    server_.context().counters.at(client_->id).sequential.fetch_add(1, std::memory_order_relaxed);
  last_volume_ = volume;
  last_end_ = offset + length;
}

void Connection::handle_read(const net::RequestHeader& h) {
  std::string why;
  if (auto s = access_status(server_.context(), *client_, h.volume, false, why); s != net::Status::ok)
    return refuse(h, s, why);
  if (!net::extent_fits(h.offset, h.length, server_.context().clients.volume(h.volume)->size_bytes))
    return refuse(h, net::Status::out_of_range, "extent ends beyond the volume");
  std::vector<std::byte> data(h.length);
  auto& store = server_.context().store;
  Status s = server_.context().buffer.read(h.volume, h.offset, data, [&](std::span<std::byte> out) {
    return store->read(h.volume, h.offset, out);
  });
  if (!s.ok())
    return refuse(h, net::status_for_storage_error(s.error().code()), s.error().message());
  auto& c = server_.context().counters.at(client_->id);
  c.reads.fetch_add(1, std::memory_order_relaxed);
  c.read_bytes.fetch_add(data.size(), std::memory_order_relaxed);
  note_extent(h.volume, h.offset, h.length);
  send({net::Opcode::read, net::Status::ok, h.handle, 0, 0, 0}, std::move(data));
}

void Connection::handle_flush(const net::RequestHeader& h) {
  auto* pending = new PendingFlush(shared_self(), h.handle, server_.context().buffer);
  ++outstanding_;
  server_.context().store->flush(*pending);
}

void Connection::finished(uint64_t handle, net::Opcode opcode, net::Status status, uint32_t bytes,
                          std::optional<uint32_t> retry_after_ms) {
  --outstanding_;
  owed_.erase(handle);
  auto& c = server_.context().counters.at(client_->id);
  if (status != net::Status::ok) {
    c.refused.fetch_add(1, std::memory_order_relaxed);
  } else if (opcode == net::Opcode::write) {
    c.writes.fetch_add(1, std::memory_order_relaxed);
    c.write_bytes.fetch_add(bytes, std::memory_order_relaxed);
  } else {
    c.flushes.fetch_add(1, std::memory_order_relaxed);
  }
  if (!closed_) send({opcode, status, handle, retry_after(status, retry_after_ms), 0, 0});
  maybe_finish_drain();
  maybe_quiescent();
}

void Connection::owe(uint64_t handle, net::Opcode opcode, uint32_t bytes, uint64_t seq) {
  owed_[handle] = {handle, static_cast<uint8_t>(opcode), bytes, seq};
}

// The server's own delay when it has none to give; only statuses that
// allow one carry it (net::retry_after_allowed).
uint32_t Connection::retry_after(net::Status status, std::optional<uint32_t> given) {
  if (!net::retry_after_allowed(status)) return 0;
  if (given) return *given;
  return net::status_retryable(status) ? retry_after_busy_ms : 0;
}

void Connection::refuse(const net::RequestHeader& h, net::Status status, const std::string& why, bool close_after,
                        std::optional<uint32_t> retry_after_ms) {
  std::string unlogged;
  bool quiet = false;
  if (status == net::Status::busy) {
    const auto now = std::chrono::steady_clock::now();
    if (now < busy_quiet_until_) {
      ++busy_unlogged_;
      quiet = true;
    } else {
      if (busy_unlogged_ > 0) unlogged = " (and " + std::to_string(busy_unlogged_) + " busy refusals not logged before)";
      busy_unlogged_ = 0;
      busy_quiet_until_ = now + busy_log_interval;
    }
  }
  if (!quiet)
    log_warning(who() + ": " + std::string(net::opcode_name(h.opcode)) + " (handle " + std::to_string(h.handle) +
                ") refused with " + std::string(net::status_name(status)) + ": " + why +
                (close_after ? "; closing the connection" : "") + unlogged);
  if (client_ != nullptr) server_.context().counters.at(client_->id).refused.fetch_add(1, std::memory_order_relaxed);
  send({h.opcode, status, h.handle, retry_after(status, retry_after_ms), 0, 0}, {}, close_after);
}

void Connection::send(net::ReplyHeader header, std::vector<std::byte> payload, bool close_after) {
  header.length = static_cast<uint32_t>(payload.size());
  header.checksum = payload.empty() ? 0 : checksum64(payload);
  std::vector<std::byte> frame(net::reply_header_bytes + payload.size());
  net::encode_reply(header, frame.data());
  std::copy(payload.begin(), payload.end(), frame.begin() + net::reply_header_bytes);
  replies_.push(std::move(frame));
  if (close_after) {
    close_after_write_ = true;
    draining_ = true;  // no more requests are read
  }
  write_next();
}

void Connection::write_next() {
  if (closed_) return;
  replies_.write(socket_, [self = shared_self()](const error_code& ec) {
    if (ec) return self->close();
    if (self->replies_.idle() && self->close_after_write_) return self->close();
    self->write_next();
    self->maybe_finish_drain();
    self->maybe_quiescent();
  });
}

// The timer is not re-armed per request (cancelling a timer costs a handler
// run and a timerfd update); it wakes at the earliest moment the connection
// could have become idle and checks when the last request came.
void Connection::arm_idle_timer() {
  idle_.expires_at(last_request_ + server_.context().config.worker.idle_timeout);
  idle_.async_wait([self = shared_self()](const error_code& ec) {
    if (ec || self->closed_ || self->paused_) return;  // closed, or re-armed by resume()
    if (self->outstanding_ > 0 || !self->replies_.idle()) self->last_request_ = std::chrono::steady_clock::now();
    if (std::chrono::steady_clock::now() < self->last_request_ + self->server_.context().config.worker.idle_timeout)
      return self->arm_idle_timer();
    log_info(self->who() + ": idle for " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                               self->server_.context().config.worker.idle_timeout)
                                               .count()) +
             " s; closing the connection");
    self->close();
  });
}

void Connection::drain() {
  asio::post(socket_.get_executor(), [self = shared_self()] {
    self->draining_ = true;
    error_code ignored;
    self->socket_.shutdown(Socket::shutdown_receive, ignored);  // ends the pending read
    self->maybe_finish_drain();
  });
}

void Connection::maybe_finish_drain() {
  if (draining_ && !closed_ && outstanding_ == 0 && replies_.idle()) close();
}

void Connection::pause(std::function<void(bool)> quiescent) {
  asio::post(socket_.get_executor(), [self = shared_self(), quiescent = std::move(quiescent)]() mutable {
    if (self->closed_) return quiescent(false);
    self->paused_ = true;
    self->quiescent_ = std::move(quiescent);
    error_code ignored;
    self->idle_.cancel(ignored);
    self->maybe_quiescent();
  });
}

void Connection::maybe_quiescent() {
  if (!quiescent_ || closed_) return;
  if (body_pending_ || !replies_.idle() || outstanding_ != owed_.size()) return;
  if (read_pending_) {
    // Only the read is pending (no write): cancelling it loses nothing;
    // its handler comes back here.
    error_code ignored;
    socket_.cancel(ignored);
    return;
  }
  auto done = std::move(quiescent_);
  quiescent_ = nullptr;
  done(true);
}

void Connection::resume() {
  asio::post(socket_.get_executor(), [self = shared_self()] {
    if (self->closed_ || !self->paused_) return;
    self->paused_ = false;
    self->quiescent_ = nullptr;
    self->last_request_ = std::chrono::steady_clock::now();
    self->arm_idle_timer();
    if (!self->read_pending_ && !self->body_pending_) self->read_header();
  });
}

swap::ConnectionState Connection::handover_state() const {
  swap::ConnectionState s;
  s.peer = peer_;
  s.client = client_ != nullptr ? client_->name : "";
  s.unparsed.assign(in_.begin() + static_cast<ptrdiff_t>(in_begin_), in_.begin() + static_cast<ptrdiff_t>(in_end_));
  s.last_volume = last_volume_;
  s.last_end = last_end_;
  for (const auto& [handle, o] : owed_) s.owed.push_back(o);
  return s;
}

void Connection::hand_over() {
  asio::post(socket_.get_executor(), [self = shared_self()] {
    if (self->closed_) return;
    self->closed_ = true;
    error_code ignored;
    self->idle_.cancel(ignored);
    // The new worker holds its own descriptor for the socket: closing ours
    // sends nothing to the client, where a shutdown would end the stream.
    const int fd = self->socket_.release(ignored);
    if (fd >= 0) ::close(fd);
    if (self->client_ != nullptr)
      self->server_.context().counters.at(self->client_->id).connections.fetch_sub(1, std::memory_order_relaxed);
    self->server_.forget(self);
  });
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  if (quiescent_) {
    auto done = std::move(quiescent_);
    quiescent_ = nullptr;
    done(false);
  }
  error_code ignored;
  socket_.shutdown(Socket::shutdown_both, ignored);
  socket_.close(ignored);
  idle_.cancel();
  if (client_ != nullptr) {
    server_.context().counters.at(client_->id).connections.fetch_sub(1, std::memory_order_relaxed);
    log_info(who() + " disconnected");
  }
  server_.forget(shared_self());
}

}  // namespace aiops::worker
